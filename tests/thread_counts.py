"""A check both conv test files use: a convolution's results on 1, 2 or 3 threads."""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, parallel


def assert_same_on_1_2_3_threads(x: Tensor, w: Tensor, **conv_args: Any) -> None:
    """``conv2d(x, w, **conv_args)`` and its input and weight gradients, computed with the batch
    split over 1, 2 and 3 threads (each chunk sums its own part of the weight gradient), agree
    to rounding."""
    results = []
    before = parallel.threads()
    try:
        for n in (1, 2, 3):
            parallel.set_threads(n)
            x.grad = w.grad = None
            y = F.conv2d(x, w, **conv_args)
            y.backward(Tensor(np.arange(y.numel(), dtype=np.float64).reshape(y.shape)))
            results.append((y.numpy(), x.grad.numpy(), w.grad.numpy()))
    finally:
        parallel.set_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)
