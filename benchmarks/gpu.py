"""The CuPy backend on a GPU: parity with the CPU (float64) for the CNN ops and whole LeNet-5
training steps, a gradcheck on the device, a short real training run, and timings against PyTorch
on the same GPU. Needs CuPy and a CUDA device (and PyTorch with CUDA for its column).

    python -m benchmarks.gpu            # prints a markdown report; exit status 1 on any mismatch

``tests/test_cuda.py`` runs the same parity checks inside the test suite where a GPU is present.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import traceback
from typing import Any

import numpy as np


def _tg() -> Any:
    import tinygrad_cnn as tg

    return tg


def _pair_tensors(arrays: list[np.ndarray]) -> tuple[list[Any], list[Any]]:
    from tinygrad_cnn import Tensor

    return ([Tensor(a, requires_grad=True) for a in arrays],
            [Tensor(a, requires_grad=True, device="cuda") for a in arrays])


def _compare(name: str, fn: Any, arrays: list[np.ndarray], rng: np.random.Generator,
             failures: list[str]) -> None:
    """fn(*tensors) on CPU and CUDA: forward and every input gradient must agree (float64)."""
    from tinygrad_cnn import Tensor

    cpu, gpu = _pair_tensors(arrays)
    out_c, out_g = fn(*cpu), fn(*gpu)
    if out_g.device != "cuda":
        failures.append(f"{name}: the result is on {out_g.device}, not cuda")
        return
    if not np.allclose(out_c.numpy(), out_g.numpy(), rtol=1e-9, atol=1e-10):
        failures.append(f"{name}: forward differs by {abs(out_c.numpy() - out_g.numpy()).max():.3g}")
        return
    g = rng.standard_normal(out_c.shape)
    out_c.backward(Tensor(g))
    out_g.backward(Tensor(g, device="cuda"))
    for i, (a, b) in enumerate(zip(cpu, gpu)):
        if a.grad is None and b.grad is None:
            continue
        if b.grad is None or b.grad.device != "cuda" or not np.allclose(
                a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-10):
            failures.append(f"{name}: gradient of input {i} differs")


def parity_checks(configs: int = 12, seed: int = 0) -> list[str]:
    """CPU-vs-CUDA parity of conv2d, conv_transpose2d, pools, softmax, losses and LeNet-5 steps."""
    import tinygrad_cnn.nn.functional as F

    rng = np.random.default_rng(seed)
    failures: list[str] = []
    for i in range(configs):
        groups = int(rng.integers(1, 3))
        c, k = 2 * groups, 3 * groups
        stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        dil = (int(rng.integers(1, 3)), 1)
        pad = (int(rng.integers(0, 2)), int(rng.integers(0, 2)))
        x, w, b = rng.standard_normal((2, c, 9, 8)), rng.standard_normal((k, 2, 3, 2)), \
            rng.standard_normal(k)
        _compare(f"conv2d #{i}", lambda x, w, b: F.conv2d(x, w, b, stride, pad, dil, groups),
                 [x, w, b], rng, failures)
        z, wt = rng.standard_normal((2, c, 4, 3)), rng.standard_normal((c, 3, 3, 2))
        _compare(f"conv_transpose2d #{i}", lambda z, w: F.conv_transpose2d(
            z, w, stride=stride, padding=pad, groups=groups,
            output_padding=(stride[0] - 1, 0)), [z, wt], rng, failures)
        xp = rng.permutation(2 * 3 * 9 * 8).reshape(2, 3, 9, 8) / 10.0
        _compare(f"max_pool2d #{i}", lambda t: F.max_pool2d(t, 3, stride, 1, ceil_mode=bool(i % 2)),
                 [xp], rng, failures)
        _compare(f"avg_pool2d #{i}", lambda t: F.avg_pool2d(t, 3, stride, 1, bool(i % 2),
                                                             bool(i % 3)), [xp], rng, failures)
    logits = rng.standard_normal((5, 7)) * 100
    target = rng.integers(0, 7, 5)
    _compare("cross_entropy", lambda t: F.cross_entropy(t, target), [logits], rng, failures)
    _compare("log_softmax", lambda t: F.log_softmax(t, 1), [logits], rng, failures)
    _compare("mse_loss", lambda a, b: F.mse_loss(a, b), [logits, logits[::-1].copy()], rng,
             failures)
    failures += lenet_step_parity()
    return failures


def lenet_step_parity() -> list[str]:
    """Two SGD-momentum and two Adam steps of LeNet-5 on CPU and CUDA from the same weights."""
    tg = _tg()
    from tinygrad_cnn import Tensor, optim
    from tinygrad_cnn.models import LeNet5
    from tinygrad_cnn.nn import functional as F

    failures = []
    for kind in ("sgd", "adam"):
        tg.manual_seed(0)
        cpu = LeNet5().double()
        gpu = LeNet5().double()
        gpu.load_state_dict(cpu.state_dict())
        gpu.to("cuda")
        make = (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9)) if kind == "sgd" else \
            (lambda ps: optim.Adam(ps, lr=1e-3))
        oc, og = make(list(cpu.parameters())), make(list(gpu.parameters()))
        rng = np.random.default_rng(1)
        for _ in range(2):
            x, y = rng.standard_normal((8, 1, 28, 28)), rng.integers(0, 10, 8)
            for model, opt, dev in ((cpu, oc, "cpu"), (gpu, og, "cuda")):
                opt.zero_grad()
                F.cross_entropy(model(Tensor(x, device=dev)), y).backward()
                opt.step()
        for (name, a), b in zip(cpu.named_parameters(), gpu.parameters()):
            if b.device != "cuda" or not np.allclose(a.numpy(), b.numpy(), rtol=1e-10,
                                                     atol=1e-10):
                failures.append(f"LeNet-5 {kind} step: {name} differs between CPU and CUDA")
    return failures


def gradcheck_on_gpu() -> bool:
    from tinygrad_cnn import Tensor, gradcheck, gradgradcheck
    from tinygrad_cnn.nn import functional as F

    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((1, 2, 5, 4)), requires_grad=True, device="cuda")
    w = Tensor(rng.standard_normal((3, 2, 3, 2)), requires_grad=True, device="cuda")

    def f(a: Any, b: Any) -> Any:
        return F.max_pool2d(F.conv2d(a, b, stride=1, padding=1).tanh(), 2)

    return bool(gradcheck(f, (x, w)) and gradgradcheck(f, (x, w)))


def train_on_gpu(steps: int = 400) -> dict[str, float]:
    """LeNet-5 on real MNIST on the GPU for ``steps`` steps of 64: accuracy and images/s."""
    tg = _tg()
    from tinygrad_cnn import optim
    from tinygrad_cnn.data import MNIST, DataLoader, Subset
    from tinygrad_cnn.models import LeNet5
    from tinygrad_cnn.training import evaluate, train_epoch

    tg.manual_seed(0)
    model = LeNet5().to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    train = DataLoader(Subset(MNIST(train=True), np.arange(steps * 64)), 64, shuffle=True, seed=0)
    t0 = time.perf_counter()
    train_epoch(model, train, opt, device="cuda")
    dt = time.perf_counter() - t0
    acc = evaluate(model, DataLoader(MNIST(train=False), 1000), device="cuda")
    return {"steps": steps, "images per second": steps * 64 / dt, "test accuracy": acc}


def _sync() -> None:
    import cupy

    cupy.cuda.Device().synchronize()


def _median_time(fn: Any, sync: Any, repeat: int = 20, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def timings() -> dict[str, float]:
    """Median seconds: LeNet-5 step (batch 64) and the big conv forward+backward, ours and
    PyTorch's, on the same GPU."""
    tg = _tg()
    from tinygrad_cnn import Tensor, optim
    from tinygrad_cnn.models import LeNet5
    from tinygrad_cnn.nn import functional as F

    out: dict[str, float] = {}
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
    tg.manual_seed(0)
    model = LeNet5().to("cuda")
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, y = Tensor(xs, device="cuda"), Tensor(ys, device="cuda")

    def step() -> None:
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    out["ours: LeNet-5 step, batch 64"] = _median_time(step, _sync)
    xb = Tensor(rng.standard_normal((32, 64, 32, 32)).astype(np.float32), requires_grad=True,
                device="cuda")
    wb = Tensor((rng.standard_normal((64, 64, 3, 3)) * 0.05).astype(np.float32),
                requires_grad=True, device="cuda")

    def big() -> None:
        xb.grad = wb.grad = None
        F.conv2d(xb, wb, padding=1).sum().backward()

    out["ours: conv N32 C64 32x32 K64 3x3 fwd+bwd"] = _median_time(big, _sync)
    try:
        import torch
    except ImportError:
        return out
    if not torch.cuda.is_available():
        return out
    from benchmarks.common import torch_lenet5

    TF = torch.nn.functional
    tm = torch_lenet5().cuda()
    topt = torch.optim.SGD(tm.parameters(), lr=0.01, momentum=0.9)
    tx, ty = torch.tensor(xs).cuda(), torch.tensor(ys).cuda()

    def tstep() -> None:
        topt.zero_grad()
        TF.cross_entropy(tm(tx), ty).backward()
        topt.step()

    out["torch: LeNet-5 step, batch 64"] = _median_time(tstep, torch.cuda.synchronize)
    txb = torch.tensor(xb.numpy(), requires_grad=True, device="cuda")
    twb = torch.tensor(wb.numpy(), requires_grad=True, device="cuda")

    def tbig() -> None:
        txb.grad = twb.grad = None
        TF.conv2d(txb, twb, padding=1).sum().backward()

    out["torch: conv N32 C64 32x32 K64 3x3 fwd+bwd"] = _median_time(tbig, torch.cuda.synchronize)
    return out


def main() -> int:
    report: dict[str, Any] = {"errors": []}
    tg = _tg()
    if not tg.is_available("cuda"):
        print("no CUDA device / CuPy here: nothing to check")
        return 0
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(0)
    report["device"] = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    report["cupy"] = cupy.__version__
    for name, fn in (("parity failures", parity_checks), ("gradcheck on cuda", gradcheck_on_gpu),
                     ("training on cuda", train_on_gpu), ("timings (s)", timings)):
        t0 = time.perf_counter()
        try:
            report[name] = fn()
        except Exception:  # keep going: one broken section must not hide the others
            report["errors"].append(f"{name}:\n{traceback.format_exc()}")
        print(f"[{name}: {time.perf_counter() - t0:.1f} s]", file=sys.stderr, flush=True)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    out_dir = os.environ.get("OUT")
    if out_dir:
        with open(os.path.join(out_dir, "gpu_report.json"), "w") as f:
            f.write(text)
    ok = not report["errors"] and not report.get("parity failures") and report.get(
        "gradcheck on cuda") is True
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
