"""LeNet-5 training step (batch 64, float32: forward, cross-entropy, backward, SGD step with
momentum) -- ours in a process without torch, PyTorch in its own -- and peak memory of a training
run.

    python -m benchmarks lenet
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from benchmarks.common import peak_rss_mb, timeit, torch_lenet5

BATCH = 64


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, BATCH)


def _measure(step: Any) -> dict[str, float]:
    """The first step (a fresh process), then the median of warm ones, then the peak memory."""
    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    return {"LeNet-5 training step, batch 64": timeit(step, repeat=15, min_time=0.2),
            "first step in a fresh process": first,
            "peak RSS of the process (MB)": peak_rss_mb()}


def our_step() -> Any:
    """One LeNet-5 training step of ours (SGD with momentum, a fixed batch), as a function."""
    import tinygrad_cnn as tg
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import Tensor, optim
    from tinygrad_cnn.models import LeNet5

    tg.manual_seed(0)
    model = LeNet5()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs, ys = _data()
    x = Tensor(xs)

    def step() -> None:
        opt.zero_grad()
        F.cross_entropy(model(x), ys).backward()
        opt.step()

    return step


def torch_step() -> Any:
    """The same step in PyTorch."""
    import torch
    import torch.nn as tnn

    TF = tnn.functional
    torch.manual_seed(0)

    model = torch_lenet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xs, ys = _data()
    x, y = torch.tensor(xs), torch.tensor(ys)

    def step() -> None:
        opt.zero_grad()
        TF.cross_entropy(model(x), y).backward()
        opt.step()

    return step


def _ours() -> dict[str, float]:
    return _measure(our_step())


def _torch() -> dict[str, float]:
    return _measure(torch_step())


def run(impl: str) -> dict[str, float]:
    return _ours() if impl == "ours" else _torch()


if __name__ == "__main__":
    from benchmarks.runner import main

    sys.exit(main(["lenet", *sys.argv[1:]]))
