"""Alpha dropout, the dropout of self-normalising networks (SELU): ``F.alpha_dropout`` and
``F.feature_alpha_dropout``, PyTorch's (ATen's ``_dropout_impl``) formula.

While training, each element (``alpha_dropout``) or each channel ``(n, c)`` of ``(N, C, ...)``
(``feature_alpha_dropout``) is dropped with probability ``p``: set to SELU's negative saturation
``-alpha'`` (``alpha' = scale * alpha = 1.7580993408473766``) instead of 0. Then the affine map
``a * x + b``, with ``a = 1 / sqrt((alpha'^2 p + 1)(1 - p))`` and ``b = alpha' a p``, gives the
result the input's mean and variance back when they are 0 and 1 (SELU's fixed point). With the
mask ``m`` (1: kept, 0: dropped)::

    out = x * (m a) + ((m - 1) alpha' a + alpha' a p)

so a kept element is ``a x + alpha' a p`` and a dropped one ``alpha' a (p - 1)``; the gradient
with respect to ``x`` is ``m a``. A composition of ``mul`` and ``add`` (no op of its own). The
mask comes from the package's generator (``tg.manual_seed``).
"""

from __future__ import annotations

import math

import numpy as np

from tinygrad_cnn._scalars import check_number, check_training
from tinygrad_cnn.backend import ArgumentValueError, array_module, like
from tinygrad_cnn.tensor import Tensor

#: SELU's ``scale * alpha``: what a dropped element is set to, negated (PyTorch's constant)
ALPHA = 1.7580993408473766


def _alpha_dropout(input: Tensor, p: float, training: bool, inplace: bool, feature: bool,
                   op: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    check_training(op, training)
    check_number(op, "p", p, "0d")
    if isinstance(p, Tensor):
        p = p.item()
    if not 0.0 <= p <= 1.0:  # (NaN too: it gave an all-NaN result)
        raise ArgumentValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if p == 0 or not training or input.numel() == 0:
        return input
    xp = array_module(input._data)
    if p == 1:  # PyTorch's: the input times a zero of its own dtype (any dtype)
        zero = Tensor._make(xp.zeros((), dtype=input.dtype))
        return input.mul_(zero) if inplace else input * zero
    if feature and input.ndim < 2:
        raise RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the input, "
                           f"got shape {input.shape}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: needs a floating-point tensor while training (the scale "
                           f"and shift are fractions), got {input.dtype}; convert it with .float()")
    from tinygrad_cnn.random import generator

    shape = input.shape[:2] + (1,) * (input.ndim - 2) if feature else input.shape
    keep = generator().random(shape) >= p
    a = 1.0 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    # in the input's dtype, each step rounded as PyTorch's (float16's arithmetic in float32)
    dt = input.dtype
    ct = np.dtype(np.float32) if dt == np.float16 else dt
    noise = keep.astype(dt)
    shift = ((noise - 1).astype(ct) * ct.type(ALPHA * a)).astype(dt)
    shift = (shift.astype(ct) + ct.type(ALPHA * a * p)).astype(dt)
    scale = (noise.astype(ct) * ct.type(a)).astype(dt)
    scale_t = Tensor._make(like(scale, input._data))
    shift_t = Tensor._make(like(shift, input._data))
    if inplace:
        return input.mul_(scale_t).add_(shift_t)
    return input * scale_t + shift_t


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Alpha dropout of each element while ``training`` (note PyTorch's default ``False``: the
    identity unless asked); see the module's docstring for the formula. ``inplace`` writes the
    result into ``input`` and returns it."""
    return _alpha_dropout(input, p, training, inplace, False, "alpha_dropout")


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                          inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels: one draw per ``(n, c)`` of ``(N, C, *)`` (an input of at
    least 2 dims; PyTorch takes the first two dims as ``(N, C)`` whatever the rank), while
    ``training`` (default ``False``, as PyTorch's)."""
    return _alpha_dropout(input, p, training, inplace, True, "feature_alpha_dropout")
