"""Weight initialisation, in place, with PyTorch's names and formulas.

He initialisation -- the tutorial's PaddlePaddle "smart" init, ``std = sqrt(2 / (k*k*C))`` for a
``k×k`` kernel over ``C`` input channels -- is ``kaiming_normal_(w, nonlinearity="relu")``.
All draws come from the generator that ``tinygrad_cnn.manual_seed`` seeds.
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_cnn.backend import to_device
from tinygrad_cnn.random import generator
from tinygrad_cnn.tensor import Tensor


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``fan_in = size(1) * receptive field``, ``fan_out = size(0) * receptive field``."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need at least 2 dims, got shape {tensor.shape}")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance for ``nonlinearity`` (PyTorch's table)."""
    if nonlinearity in ("linear", "conv2d", "conv_transpose2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    tensor.data[...] = to_device(values.astype(tensor.dtype, copy=False), tensor.device)
    tensor._version_counter[0] += 1
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    return _fill(tensor, generator().uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    return _fill(tensor, generator().normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, value: float) -> Tensor:
    return _fill(tensor, np.full(tensor.shape, value))


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def _fan(tensor: Tensor, mode: str) -> int:
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return max(fan_in if mode == "fan_in" else fan_out, 1)  # a zero-element tensor: nothing to draw


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He initialisation: ``N(0, std²)`` with ``std = gain / sqrt(fan)``; for ReLU and a conv weight
    ``(K, C, k, k)`` that is ``sqrt(2 / (k*k*C))``, PaddlePaddle's "smart" init."""
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He initialisation, uniform: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan)``."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot initialisation: ``U(-b, b)`` with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / max(fan_in + fan_out, 1)))
