"""A full MNIST epoch at batch 64 (938 steps of LeNet-5 with SGD + momentum, data loading
included) and the peak memory of that training run -- ours in a process without torch, PyTorch in
its own, on the same real MNIST arrays.

    python -m benchmarks epoch
"""

from __future__ import annotations

import sys
import time

import numpy as np

from benchmarks.common import peak_rss_mb, torch_lenet5


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    from tinygrad_cnn.data import MNIST

    train = MNIST(train=True)
    return train.arrays()


def _ours() -> dict[str, float]:
    import tinygrad_cnn as tg
    from tinygrad_cnn import optim
    from tinygrad_cnn.data import MNIST, DataLoader
    from tinygrad_cnn.models import LeNet5
    from tinygrad_cnn.training import train_epoch

    tg.manual_seed(0)
    model = LeNet5()
    opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    loader = DataLoader(MNIST(train=True), 64, shuffle=True, seed=0)
    t0 = time.perf_counter()
    loss = train_epoch(model, loader, opt)
    return {"full MNIST epoch, batch 64": time.perf_counter() - t0,
            "peak RSS of the training run (MB)": peak_rss_mb(), "final mean loss": loss}


def _torch() -> dict[str, float]:
    import torch
    import torch.nn as tnn

    from tinygrad_cnn.data import MNIST

    TF = tnn.functional
    torch.manual_seed(0)

    model = torch_lenet5()
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    train = MNIST(train=True)
    order = np.random.default_rng(0).permutation(len(train))
    t0 = time.perf_counter()
    total = 0.0
    for start in range(0, len(order), 64):
        xs, ys = train.arrays(order[start:start + 64])
        x, y = torch.from_numpy(np.ascontiguousarray(xs)), torch.from_numpy(ys)
        opt.zero_grad()
        loss = TF.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        total += loss.item() * len(ys)
    return {"full MNIST epoch, batch 64": time.perf_counter() - t0,
            "peak RSS of the training run (MB)": peak_rss_mb(), "final mean loss": total / len(order)}


def run(impl: str) -> dict[str, float]:
    return _ours() if impl == "ours" else _torch()


if __name__ == "__main__":
    from benchmarks.runner import main

    sys.exit(main(["epoch", *sys.argv[1:]]))
