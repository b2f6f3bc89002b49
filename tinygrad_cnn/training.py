"""The training loop and evaluation, without any printing: the CLI and the notebooks report
progress through the ``on_step`` callback."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.module import Module

StepCallback = Callable[[int, int, float, float], None]  # (step, steps, loss, images per second)


def train_epoch(model: Module, loader: Any, optimizer: Any, device: str = "cpu",
                on_step: StepCallback | None = None) -> float:
    """One pass over ``loader`` with cross-entropy; returns the mean training loss."""
    model.train()
    total, count = 0.0, 0
    steps = len(loader)
    start = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if device != "cpu":
            x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        value = loss.item()
        total += value * len(y)
        count += len(y)
        if on_step is not None:
            on_step(i + 1, steps, total / count, count / max(time.perf_counter() - start, 1e-9))
    return total / max(count, 1)


@no_grad()
def predict(model: Module, loader: Any, device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """``(predicted class, true class)`` for every item of ``loader``, in eval mode."""
    model.eval()
    preds, labels = [], []
    for x, y in loader:
        if device != "cpu":
            x = x.to(device)
        preds.append(model(x).argmax(1).numpy())
        labels.append(y.numpy())
    return np.concatenate(preds), np.concatenate(labels)


def evaluate(model: Module, loader: Any, device: str = "cpu") -> float:
    """Classification accuracy (a fraction) of ``model`` on ``loader``."""
    pred, true = predict(model, loader, device)
    return float((pred == true).mean())
