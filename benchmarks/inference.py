"""LeNet-5 inference: the forward of 1,000 MNIST test images in one batch under ``no_grad`` (eval
mode), and of one image -- ours in a process without torch, PyTorch in its own, with the same
weights.

    python -m benchmarks inference
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from benchmarks.common import timeit, torch_lenet5

BATCH = 1000


def _images() -> np.ndarray:
    from tinygrad_cnn.data import MNIST

    return np.ascontiguousarray(MNIST(train=False).arrays(np.arange(BATCH))[0])


def _measure(forward: Any, batch: Any, one: Any) -> dict[str, float]:
    return {f"LeNet-5 inference, batch {BATCH} (no_grad)": timeit(lambda: forward(batch),
                                                                   repeat=11, min_time=0.2),
            "LeNet-5 inference, one image (no_grad)": timeit(lambda: forward(one), repeat=11)}


def _ours() -> dict[str, float]:
    import tinygrad_cnn as tg
    from tinygrad_cnn import Tensor, no_grad
    from tinygrad_cnn.models import LeNet5

    tg.manual_seed(0)
    model = LeNet5().eval()
    xs = _images()

    def forward(x: Any) -> Any:
        with no_grad():
            return model(x)

    return _measure(forward, Tensor(xs), Tensor(xs[:1]))


def _torch() -> dict[str, float]:
    import torch

    torch.manual_seed(0)
    model = torch_lenet5().eval()
    xs = _images()

    def forward(x: Any) -> Any:
        with torch.no_grad():
            return model(x)

    return _measure(forward, torch.from_numpy(xs), torch.from_numpy(xs[:1].copy()))


def run(impl: str) -> dict[str, float]:
    return _ours() if impl == "ours" else _torch()


if __name__ == "__main__":
    from benchmarks.runner import main

    sys.exit(main(["inference", *sys.argv[1:]]))
