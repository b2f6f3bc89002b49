"""ResNet-8 (``tinygrad_cnn.models.resnet8``: BatchNorm, residual blocks, a strided downsampling
block, global average pooling) on MNIST-sized input, float32: a training step at batch 64
(forward, cross-entropy, backward, SGD step with momentum and weight decay, as ``python -m
tinygrad_cnn train --model resnet8``), evaluation of a batch of 1000, and peak memory -- ours in a
process without torch, PyTorch in its own, the same network (names, shapes, initial weights).

    python -m benchmarks resnet
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from benchmarks.common import peak_rss_mb, timeit

BATCH = 64


def _data(n: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, n)


def _measure(step: Any, infer: Any) -> dict[str, float]:
    """The first step (a fresh process), then the median of warm ones, then the peak memory."""
    t0 = time.perf_counter()
    step()
    first = time.perf_counter() - t0
    return {"ResNet-8 training step, batch 64": timeit(step, repeat=9, min_time=0.3),
            "ResNet-8 evaluation, batch 1000": timeit(infer, repeat=5, min_time=0.3),
            "first step in a fresh process": first,
            "peak RSS of the process (MB)": peak_rss_mb()}


def _ours() -> dict[str, float]:
    import tinygrad_cnn as tg
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import Tensor, optim
    from tinygrad_cnn.models import resnet8

    tg.manual_seed(0)
    model = resnet8()
    opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
    xs, ys = _data()
    x, big = Tensor(xs), Tensor(_data(1000)[0])

    def step() -> None:
        model.train()
        opt.zero_grad()
        F.cross_entropy(model(x), ys).backward()
        opt.step()

    @tg.no_grad()
    def infer() -> None:
        model.eval()
        model(big)

    return _measure(step, infer)


def torch_resnet8() -> Any:
    """PyTorch's twin of ``tinygrad_cnn.models.resnet8`` (same layers and parameter names)."""
    import torch.nn as tnn

    TF = tnn.functional

    class Block(tnn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.downsample = None if stride == 1 and cin == cout else tnn.Sequential(
                tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout))

        def forward(self, x: Any) -> Any:
            shortcut = x if self.downsample is None else self.downsample(x)
            return TF.relu(self.bn2(self.conv2(TF.relu(self.bn1(self.conv1(x))))) + shortcut)

    class ResNet8(tnn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.bn1 = tnn.Conv2d(1, 16, 3, 1, 1, bias=False), tnn.BatchNorm2d(16)
            self.layer1 = tnn.Sequential(Block(16, 16, 1))
            self.layer2 = tnn.Sequential(Block(16, 32, 2))
            self.layer3 = tnn.Sequential(Block(32, 64, 2))
            self.avgpool, self.fc = tnn.AdaptiveAvgPool2d(1), tnn.Linear(64, 10)

        def forward(self, x: Any) -> Any:
            x = TF.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet8()


def _torch() -> dict[str, float]:
    import torch

    TF = torch.nn.functional
    torch.manual_seed(0)
    model = torch_resnet8()
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
    xs, ys = _data()
    x, y, big = torch.tensor(xs), torch.tensor(ys), torch.tensor(_data(1000)[0])

    def step() -> None:
        model.train()
        opt.zero_grad()
        TF.cross_entropy(model(x), y).backward()
        opt.step()

    @torch.no_grad()
    def infer() -> None:
        model.eval()
        model(big)

    return _measure(step, infer)


def run(impl: str) -> dict[str, float]:
    return _ours() if impl == "ours" else _torch()


if __name__ == "__main__":
    from benchmarks.runner import main

    sys.exit(main(["resnet", *sys.argv[1:]]))
