"""Convolution and pooling kernels: forward and forward+backward of the LeNet-5 convolutions and a
big 3×3 convolution, max_pool2d 2×2, against PyTorch and numpy's float32 GEMM peak (1024³ matmul),
all measured in the same run.

    python -m benchmarks conv
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from benchmarks.common import fmt_time, ratio, timeit

# name: (N, C, H, W, K, kernel, padding, input needs a gradient)
CONVS = {
    "conv N64 C1 28×28 K6 5×5 pad 2": (64, 1, 28, 28, 6, 5, 2, False),
    "conv N64 C6 14×14 K16 5×5": (64, 6, 14, 14, 16, 5, 0, True),
    "conv N32 C64 32×32 K64 3×3 pad 1": (32, 64, 32, 32, 64, 3, 1, True),
}
POOL = (64, 6, 28, 28)


def conv_flops(n: int, c: int, h: int, w: int, k: int, ks: int, pad: int, input_grad: bool
               ) -> tuple[float, float]:
    oh, ow = h + 2 * pad - ks + 1, w + 2 * pad - ks + 1
    fwd = 2.0 * n * k * c * ks * ks * oh * ow
    return fwd, fwd * (3 if input_grad else 2)  # backward: weight gradient (+ input gradient)


def gemm_peak() -> float:
    """numpy's float32 GEMM rate, FLOP/s, on 1024×1024 matrices."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 1024)).astype(np.float32)
    t = timeit(lambda: a @ b, repeat=7, min_time=0.2)
    return 2 * 1024**3 / t


def _library(impl: str) -> tuple[Any, Any, Any]:
    """``(tensor(array, requires_grad), functional, no_grad)`` of tinygrad_cnn or of PyTorch: the
    two have the same ``conv2d``/``max_pool2d`` signatures, so one measuring body serves both."""
    if impl == "ours":
        import tinygrad_cnn.nn.functional as F
        from tinygrad_cnn import Tensor, no_grad

        return (lambda a, rg=False: Tensor(a, requires_grad=rg)), F, no_grad
    import torch

    return (lambda a, rg=False: torch.tensor(a, requires_grad=rg)), torch.nn.functional, \
        torch.no_grad


def run(impl: str) -> dict[str, float]:
    tensor, F, no_grad = _library(impl)
    rng = np.random.default_rng(0)
    results: dict[str, float] = {}
    if impl == "ours":
        results["numpy float32 GEMM 1024³ (FLOP/s)"] = gemm_peak()
    for name, (n, c, h, w, k, ks, pad, input_grad) in CONVS.items():
        x = tensor(rng.standard_normal((n, c, h, w)).astype(np.float32), input_grad)
        wt = tensor((rng.standard_normal((k, c, ks, ks)) * 0.1).astype(np.float32), True)
        b = tensor(np.zeros(k, dtype=np.float32), True)

        def fwd() -> None:
            with no_grad():
                F.conv2d(x, wt, b, padding=pad)

        g = tensor(np.ones(tuple(F.conv2d(x, wt, b, padding=pad).shape), dtype=np.float32))

        def fwd_bwd() -> None:
            wt.grad = b.grad = x.grad = None
            F.conv2d(x, wt, b, padding=pad).backward(g)

        results[f"{name} forward"] = timeit(fwd)
        results[f"{name} forward+backward"] = timeit(fwd_bwd)
    xp = tensor(rng.standard_normal(POOL).astype(np.float32), True)
    gp = tensor(np.ones((64, 6, 14, 14), dtype=np.float32))

    def pool_fwd() -> None:
        with no_grad():
            F.max_pool2d(xp, 2)

    def pool_fwd_bwd() -> None:
        xp.grad = None
        F.max_pool2d(xp, 2).backward(gp)

    results["max_pool2d 2×2 (64, 6, 28, 28) forward"] = timeit(pool_fwd)
    results["max_pool2d 2×2 (64, 6, 28, 28) forward+backward"] = timeit(pool_fwd_bwd)
    return results


def summarize(ours: dict[str, float], theirs: dict[str, float] | None,
              ranges: dict[str, str] | None = None) -> list[str]:
    peak = ours["numpy float32 GEMM 1024³ (FLOP/s)"]
    lines = [f"numpy float32 GEMM peak (1024³, same run): **{peak / 1e9:.0f} GFLOP/s**", "",
             "| case | tinygrad_cnn | PyTorch | ratio | ratio over the pairs | ours % of GEMM peak "
             "| PyTorch % |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for key, v in ours.items():
        if key.startswith("numpy"):
            continue
        t = theirs.get(key) if theirs else None
        pct = pct_t = "—"
        for name, spec in CONVS.items():
            if key.startswith(name):
                fwd, total = conv_flops(*spec)
                flops = total if key.endswith("forward+backward") else fwd
                pct = f"{100 * flops / v / peak:.0f}%"
                pct_t = f"{100 * flops / t / peak:.0f}%" if t else "—"
        spread = ranges.get(key, "—") if ranges else "—"
        lines.append(f"| {key} | {fmt_time(v)} | {fmt_time(t)} | {ratio(v, t)} | {spread} | {pct} "
                     f"| {pct_t} |")
    return lines


if __name__ == "__main__":
    from benchmarks.runner import main

    sys.exit(main(["conv", *sys.argv[1:]]))
