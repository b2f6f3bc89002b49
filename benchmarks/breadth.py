"""Per-op overhead of the ops the breadth issues (14, 15) added, against PyTorch eager: each op on
16×16 float32 inputs (a 2×4×4×4 image for the image ops), forward and backward, as the small ops
of ``engine.py`` (which keeps the first 17: add, mul, relu, ..., gather).

    python -m benchmarks breadth --pairs 3       # both implementations, each in its own process
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.common import timeit


def cases(L: Any, T: Callable[..., Any]) -> dict[str, Callable[[], Any]]:
    """Each case: a function of no arguments that runs the op (``L``: the library's namespace,
    ``T(array, requires_grad)``: its tensor)."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((16, 16)).astype(np.float32)
    B = rng.standard_normal((16, 16)).astype(np.float32)
    a, b = T(A, True), T(B, True)
    u = T(np.clip(A, -0.9, 0.9) * 0.5, True)  # inside (-1, 1)
    p = T(np.abs(A) + 0.5, True)  # positive
    v, w = T(A[0].copy(), True), T(B[0].copy(), True)
    a3 = T(rng.standard_normal((4, 16, 16)).astype(np.float32), True)
    b3 = T(rng.standard_normal((4, 16, 16)).astype(np.float32), True)
    idx = T(rng.integers(0, 16, (16, 8)))
    idx1 = T(rng.integers(0, 16, (8,)))
    mask = T(A > 0)
    F = L.nn.functional
    weight, bias = T(np.ones(16, np.float32), True), T(np.zeros(16, np.float32), True)
    target = T(rng.integers(0, 16, (16,)))
    probs = T(1 / (1 + np.exp(-B)))
    x4 = T(rng.standard_normal((2, 4, 4, 4)).astype(np.float32), True)
    k4 = T(rng.standard_normal((4, 4, 3, 3)).astype(np.float32), True)
    return {
        # elementwise math
        "sin": lambda: a.sin(), "cos": lambda: a.cos(), "tan": lambda: u.tan(),
        "asin": lambda: u.asin(), "acos": lambda: u.acos(), "atan": lambda: a.atan(),
        "sinh": lambda: a.sinh(), "cosh": lambda: a.cosh(), "asinh": lambda: a.asinh(),
        "acosh": lambda: (p + 1).acosh(), "atanh": lambda: u.atanh(),
        "log1p": lambda: p.log1p(), "expm1": lambda: a.expm1(), "log2": lambda: p.log2(),
        "log10": lambda: p.log10(), "exp2": lambda: a.exp2(), "square": lambda: a.square(),
        "reciprocal": lambda: p.reciprocal(), "rsqrt": lambda: p.rsqrt(), "erf": lambda: a.erf(),
        "floor": lambda: a.floor(), "round": lambda: a.round(), "frac": lambda: a.frac(),
        "remainder": lambda: a.remainder(0.7), "fmod": lambda: a.fmod(0.7),
        "mod": lambda: a % p, "atan2": lambda: L.atan2(a, b), "hypot": lambda: L.hypot(a, b),
        "lerp": lambda: L.lerp(a, b, 0.3), "sub": lambda: a - b, "div": lambda: a / p,
        "pow": lambda: a ** 3, "pow tensor": lambda: p ** a, "sqrt": lambda: p.sqrt(),
        "log": lambda: p.log(), "abs": lambda: a.abs(), "clamp": lambda: a.clamp(-0.5, 0.5),
        "maximum": lambda: L.maximum(a, b),
        # activations
        "gelu": lambda: F.gelu(a), "silu": lambda: F.silu(a), "elu": lambda: F.elu(a),
        "softplus": lambda: F.softplus(a), "leaky_relu": lambda: F.leaky_relu(a),
        "hardtanh": lambda: F.hardtanh(a), "mish": lambda: F.mish(a),
        "hardswish": lambda: F.hardswish(a),
        # reductions
        "prod": lambda: p.prod(), "prod dim": lambda: p.prod(1), "var": lambda: a.var(),
        "std dim": lambda: a.std(1), "cumsum": lambda: a.cumsum(1),
        "cumprod": lambda: p.cumprod(1), "norm": lambda: a.norm(),
        "norm p=1 dim": lambda: a.norm(p=1, dim=1), "amax": lambda: a.amax(1),
        "logsumexp": lambda: a.logsumexp(1), "sum dim": lambda: a.sum(1),
        "mean dim": lambda: a.mean(0), "max dim": lambda: a.max(1)[0],
        # shape and indexing
        "flip": lambda: a.flip(0), "rot90": lambda: a.rot90(), "roll": lambda: a.roll(3, 1),
        "repeat": lambda: a.repeat(2, 1), "tile": lambda: a.tile((2, 1)),
        "repeat_interleave": lambda: a.repeat_interleave(2, dim=0),
        "chunk": lambda: a.chunk(2)[0], "split": lambda: a.split(4)[1],
        "unbind": lambda: a.unbind()[3], "select": lambda: a.select(0, 3),
        "narrow": lambda: a.narrow(1, 2, 8), "movedim": lambda: a3.movedim(0, 2),
        "t": lambda: a.t(), "permute": lambda: a3.permute(2, 0, 1), "flatten": lambda: a3.flatten(1),
        "squeeze": lambda: a.unsqueeze(0).squeeze(0), "tril": lambda: a.tril(),
        "diagonal": lambda: a.diagonal(), "diag_embed": lambda: v.diag_embed(),
        "trace": lambda: a.trace(), "stack": lambda: L.stack([a, b]),
        "hstack": lambda: L.hstack([a, b]), "dstack": lambda: L.dstack([a, b]),
        "expand": lambda: v.expand(16, 16), "contiguous": lambda: a.t().contiguous(),
        "index_select": lambda: a.index_select(0, idx1),
        "take_along_dim": lambda: L.take_along_dim(a, idx, 1),
        "scatter": lambda: a.scatter(1, idx, b[:, :8]),
        "scatter_add": lambda: a.scatter_add(1, idx, b[:, :8]),
        "masked_fill": lambda: a.masked_fill(mask, 0.0), "index tensor": lambda: a[idx1],
        "index mask": lambda: a[mask],
        # linear algebra
        "einsum ij,jk": lambda: L.einsum("ij,jk->ik", a, b), "einsum ij->j": lambda: L.einsum("ij->j", a),
        "tensordot": lambda: L.tensordot(a, b, 1), "outer": lambda: L.outer(v, w),
        "dot": lambda: L.dot(v, w), "mv": lambda: L.mv(a, v), "bmm": lambda: L.bmm(a3, b3),
        "matmul 3d@2d": lambda: a3 @ b, "linear": lambda: F.linear(a, b, w),
        # layers and losses
        "layer_norm": lambda: F.layer_norm(a, (16,), weight, bias),
        "batch_norm": lambda: F.batch_norm(a, None, None, weight, bias, training=True),
        "group_norm": lambda: F.group_norm(x4, 2), "cross_entropy": lambda: F.cross_entropy(a, target),
        "nll_loss": lambda: F.nll_loss(a, target), "mse_loss": lambda: F.mse_loss(a, b),
        "l1_loss": lambda: F.l1_loss(a, b),
        "bce_with_logits": lambda: F.binary_cross_entropy_with_logits(a, probs),
        "pad": lambda: F.pad(a, (1, 1)), "conv2d": lambda: F.conv2d(x4, k4, padding=1),
        "max_pool2d": lambda: F.max_pool2d(x4, 2), "avg_pool2d": lambda: F.avg_pool2d(x4, 2),
        "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(x4, 1),
        "interpolate": lambda: F.interpolate(x4, scale_factor=2),
    }


def run(impl: str) -> dict[str, float]:
    if impl == "ours":
        import tinygrad_cnn as lib

        def make(arr: np.ndarray, requires_grad: bool = False) -> Any:
            return lib.Tensor(arr, requires_grad=requires_grad)
    else:
        import torch as lib  # type: ignore[no-redef]

        def make(arr: np.ndarray, requires_grad: bool = False) -> Any:
            return lib.tensor(arr, requires_grad=requires_grad)
    results: dict[str, float] = {}
    for name, op in cases(lib, make).items():
        out = op()
        g = make(np.ones(out.shape, dtype=np.float32))
        results[f"{name} (fwd+bwd)"] = timeit(lambda op=op, g=g: op().backward(g), repeat=5,
                                              min_time=0.02)
    return results


if __name__ == "__main__":
    from benchmarks.runner import main

    sys.exit(main(["breadth", *sys.argv[1:]]))
