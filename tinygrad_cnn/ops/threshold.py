"""Activations that compare with a threshold: threshold, hardshrink, softshrink.

Each is a piecewise-linear map whose VJP passes ``g`` where the input is on a linear piece of
slope 1 and gives an exact 0 elsewhere (a ``where``, so the VJP is differentiable again: second
derivatives are 0). The comparisons follow PyTorch's CPU kernels to the dtype: which type the
bound is rounded to, and what a NaN input gives.

PyTorch's CPU kernels disagree with themselves at NaN: their vectorised loop and their scalar loop
(the last few elements of a tensor) give different gradients for hardshrink and softshrink (0 in
the vectorised loop, ``g`` in the scalar one). These ops follow the vectorised loop, i.e. what
PyTorch gives for all but a tensor's tail. The same holds for softshrink's signed zeros: its
vectorised loop gives +0 in the band, its scalar loop ``x * 0`` (-0 for a negative ``x``), so a
tensor shorter than one vector chunk (16 float32 elements with AVX2/AVX-512) is all -0 there in
PyTorch; ours is +0 whatever the length.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.ops.elementwise import keep
from tinygrad_cnn.tensor import Tensor


def _opmath(x: Any) -> Any:
    """float16 is compared and computed in float32 (PyTorch's "opmath"); other dtypes as they
    are."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


class Threshold(Function):
    """``value`` where ``x <= threshold``, ``x`` elsewhere (NaN stays NaN). The comparison is
    PyTorch's: in float32 for float16 inputs, against the threshold rounded to the input's type
    otherwise (truncated for integers). VJP: ``g`` where ``x > threshold`` or ``x`` is NaN, an
    exact 0 where ``x <= threshold`` (at the threshold itself too)."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    @staticmethod
    def forward(ctx: Context, x: Any, threshold: float = 0.0, value: float = 0.0) -> Any:
        xp = array_module(x)
        y = _opmath(x)
        bound = int(threshold) if y.dtype.kind in "iu" else y.dtype.type(threshold)
        below = y <= bound
        ctx.below = below
        with np.errstate(over="ignore"):  # a value past float16's range is inf, as PyTorch's
            fill = xp.asarray(np.asarray(value).astype(x.dtype))
        return xp.where(below, fill, x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return keep(g, ~ctx.below)


class Hardshrink(Function):
    """``x`` where ``|x| > lambd``, 0 where ``-lambd <= x <= lambd`` (compared in the input's
    dtype, ``lambd`` rounded to it, as PyTorch's kernel; NaN stays NaN; a negative ``lambd`` is
    the identity). VJP: ``g`` where ``|x| > lambd``, an exact 0 elsewhere -- at ``±lambd`` and at
    NaN too (PyTorch's vectorised loop)."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    @staticmethod
    def forward(ctx: Context, x: Any, lambd: float = 0.5) -> Any:
        xp = array_module(x)
        lam = x.dtype.type(lambd)
        inside = (x >= -lam) & (x <= lam)
        ctx.outside = (x > lam) | (x < -lam)
        return xp.where(inside, x.dtype.type(0), x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return keep(g, ctx.outside)


class Softshrink(Function):
    """``x - lambd`` where ``x > lambd``, ``x + lambd`` where ``x < -lambd``, 0 in between (NaN
    stays NaN); float16 is computed in float32 and rounded once, as PyTorch's kernel. VJP: ``g``
    where ``|x| > lambd``, an exact 0 elsewhere (at ``±lambd`` and at NaN too, as PyTorch's
    vectorised loop). PyTorch's backward compares in the input's dtype, ``lambd`` rounded to it,
    and so does this VJP: in float16, ``x = lambd = 0.3`` rounds to 0.30005 and gives a nonzero
    value with a zero gradient, as PyTorch's. The band gives +0 (PyTorch's vectorised loop; its
    scalar tail loop gives -0 for a negative ``x``: see the module's notes)."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    @staticmethod
    def forward(ctx: Context, x: Any, lambd: float = 0.5) -> Any:
        xp = array_module(x)
        y = _opmath(x)
        lam = y.dtype.type(lambd)
        above, below = y > lam, y < -lam
        lam_x = x.dtype.type(lambd)
        ctx.outside = (x > lam_x) | (x < -lam_x)
        zero_or_nan = xp.where(xp.isnan(y), y, y.dtype.type(0))
        out = xp.where(above, y - lam, xp.where(below, y + lam, zero_or_nan))
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return keep(g, ctx.outside)
