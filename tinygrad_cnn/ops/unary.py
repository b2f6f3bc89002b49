"""Elementwise math of one tensor: sin, cos, tan, asin, acos, atan, sinh, cosh, asinh, acosh,
atanh, log1p, expm1, log2, log10, exp2, reciprocal, rsqrt, erf, and the rounding ops floor, ceil,
round, trunc, frac.

Every VJP is PyTorch's formula, written in Tensor ops (so second derivatives work) and in the same
form as PyTorch's, so that the two agree at the special points too: ``asin'(1)`` is ``inf``,
``acosh'(0.5)`` is NaN, ``0 * inf`` is NaN in both. ``Tensor`` turns integer and bool inputs into
float32 before the float ops here (as PyTorch does); the rounding ops return integers unchanged.
floor, ceil, round and trunc are constant almost everywhere: their gradient is zero (as PyTorch's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function, first_order
from tinygrad_cnn.backend import array_module, quiet
from tinygrad_cnn.ops import _special
from tinygrad_cnn.tensor import Tensor, where

LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ------------------------------------------------------------------------------ trigonometric
class Sin(Function):
    """``sin x``; VJP ``g * cos x``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).sin(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            return Tensor._make(g._data * np.cos(x._data))
        return g * x.cos()


class Cos(Function):
    """``cos x``; VJP ``g * -sin x``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).cos(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            return Tensor._make(g._data * -np.sin(x._data))
        return g * -x.sin()


class Tan(Function):
    """``tan x``; VJP ``g * (1 + tan² x)`` from the saved output."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if first_order(g, out):  # (the same on arrays: no nodes)
            return Tensor._make(g._data * (out._data * out._data + 1))
        return g * (out * out + 1)


class Asin(Function):
    """``arcsin x`` (NaN outside [-1, 1]); VJP ``g * rsqrt(1 - x²)``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).arcsin(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd * np.reciprocal(np.sqrt(1 - xd * xd)))
        return g * (1 - x * x).rsqrt()


class Acos(Function):
    """``arccos x`` (NaN outside [-1, 1]); VJP ``g * -rsqrt(1 - x²)``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).arccos(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd * -np.reciprocal(np.sqrt(1 - xd * xd)))
        return g * -(1 - x * x).rsqrt()


class Atan(Function):
    """``arctan x``; VJP ``g / (1 + x²)``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).arctan(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd / (xd * xd + 1))
        return g / (x * x + 1)


# ------------------------------------------------------------------------------ hyperbolic
class Sinh(Function):
    """``sinh x``; VJP ``g * cosh x``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).sinh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd * np.cosh(xd))
        return g * x.cosh()


class Cosh(Function):
    """``cosh x``; VJP ``g * sinh x``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).cosh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd * np.sinh(xd))
        return g * x.sinh()


class Asinh(Function):
    """``arsinh x``; VJP ``g * rsqrt(x² + 1)``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).arcsinh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd * np.reciprocal(np.sqrt(xd * xd + 1)))
        return g * (x * x + 1).rsqrt()


class Acosh(Function):
    """``arcosh x`` (NaN below 1); VJP ``g * rsqrt(x² - 1)``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).arccosh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd * np.reciprocal(np.sqrt(xd * xd - 1)))
        return g * (x * x - 1).rsqrt()


class Atanh(Function):
    """``artanh x`` (±inf at ±1, NaN beyond); VJP ``g / (1 - x²)``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).arctanh(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd / (1 - xd * xd))
        return g / (1 - x * x)


# ------------------------------------------------------------------------------ exp and log
class Log1p(Function):
    """``log(1 + x)``, accurate for small ``x``; VJP ``g / (x + 1)``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).log1p(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd / (xd + 1))
        return g / (x + 1)


class Expm1(Function):
    """``exp(x) - 1``, accurate for small ``x``; VJP ``g * (out + 1)``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if first_order(g, out):  # (the same on arrays: no nodes)
            return Tensor._make(g._data * (out._data + 1))
        return g * (out + 1)


class Log2(Function):
    """``log₂ x``; VJP ``g / (x ln 2)``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).log2(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd / (xd * LN2))
        return g / (x * LN2)


class Log10(Function):
    """``log₁₀ x``; VJP ``g / (x ln 10)``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).log10(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd / (xd * LN10))
        return g / (x * LN10)


class Exp2(Function):
    """``2^x``; VJP ``g * out * ln 2``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).exp2(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if first_order(g, out):  # (the same on arrays: no nodes)
            return Tensor._make(g._data * out._data * LN2)
        return g * out * LN2


class Reciprocal(Function):
    """``1 / x``; VJP ``-g * out²``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).reciprocal(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if first_order(g, out):  # (the same on arrays: no nodes)
            return Tensor._make(-g._data * (out._data * out._data))
        return -g * (out * out)


class Rsqrt(Function):
    """``1 / sqrt(x)``; VJP ``-g * out³ / 2``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        xp = array_module(x)
        if x.dtype == np.float16:  # in float32, rounded once (PyTorch's opmath; sqrt then its
            # reciprocal, each rounded to half, missed by an ulp on 13% of the halves, t133)
            out = xp.reciprocal(xp.sqrt(x.astype(np.float32))).astype(np.float16)
        else:
            out = xp.reciprocal(xp.sqrt(x))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if first_order(g, out):  # (the same on arrays: no nodes)
            return Tensor._make(g._data * -0.5 * (out._data * out._data * out._data))
        return g * -0.5 * (out * out * out)


def erf_array(x: Any) -> Any:
    """The error function of a float array, in its dtype (numpy has none; CuPy's is used on
    GPU): Cody's rational functions in float64 (a few ulps there; ``math.erf`` for small
    arrays), rounded once to the dtype."""
    xp = array_module(x)
    if xp is not np:
        from cupyx.scipy.special import erf  # type: ignore[import-not-found]

        return erf(x)
    return _special.erf(x.astype(np.float64, copy=False)).astype(x.dtype, copy=False)


class Erf(Function):
    """The error function ``2/√π ∫₀ˣ exp(-t²) dt``; VJP ``g * 2/√π * exp(-x²)``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return erf_array(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd * (np.exp(-(xd * xd)) * TWO_OVER_SQRT_PI))
        return g * ((x * x).neg().exp() * TWO_OVER_SQRT_PI)


class Erfc(Function):
    """The complementary error function ``1 - erf(x)``, its tail kept (``erfc(10) = 2e-45``, where
    ``1 - erf`` is 0); VJP ``-g * 2/√π * exp(-x²)``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return _special.erfc(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd, xd = g._data, x._data
            with np.errstate(all="ignore"):
                return Tensor._make(gd * (np.exp(-(xd * xd)) * -TWO_OVER_SQRT_PI))
        return g * ((x * x).neg().exp() * -TWO_OVER_SQRT_PI)


class Erfinv(Function):
    """The inverse error function (``erf(erfinv(x)) = x`` on [-1, 1], ±inf at ±1, NaN beyond);
    VJP ``g * √π/2 * exp(y²)`` with ``y = erfinv(x)`` recomputed from the saved input, as
    PyTorch does: an in-place change of the output before backward is then allowed."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return _special.erfinv(x.astype(np.float64, copy=False)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        y = x.erfinv()
        return g * ((y * y).exp() * (1.0 / TWO_OVER_SQRT_PI))


def _in_float64(fn: Any, x: Any, *args: Any) -> Any:
    """``fn`` of ``x`` computed in float64 and rounded once to ``x``'s dtype (numpy arrays;
    CuPy's go through the host)."""
    from tinygrad_cnn.backend import like, to_numpy

    host = to_numpy(x).astype(np.float64)
    return like((fn(*args, host) if args else fn(host)).astype(x.dtype, copy=False), x)


class Lgamma(Function):
    """``log|Γ(x)|`` (+inf at the poles 0, -1, -2, ...); VJP ``g * digamma(x)``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return _in_float64(_special.lgamma, x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * Digamma.apply(x)


class Digamma(Function):
    """``ψ(x) = Γ'(x) / Γ(x)`` (PyTorch's poles: -inf at +0, +inf at -0, NaN at the negative
    integers); VJP ``g * polygamma(1, x)``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return _in_float64(_special.digamma, x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * Polygamma.apply(x, n=1)


class Polygamma(Function):
    """``ψ⁽ⁿ⁾(x)``, the ``n``-th derivative of digamma (``n >= 1``; ``n = 0`` is
    :class:`Digamma`); VJP ``g * polygamma(n + 1, x)``."""

    @staticmethod
    def forward(ctx: Context, x: Any, n: int = 1) -> Any:
        ctx.save_for_backward(x)
        return _in_float64(_special.polygamma, x, n)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * Polygamma.apply(x, n=ctx.attrs["n"] + 1)


class Logit(Function):
    """The log-odds ``log(z / (1 - z))`` of ``z = x`` (with ``eps``: of ``x`` clamped to
    ``[eps, 1 - eps]``), as PyTorch's ``logit``. VJP (PyTorch's): ``g / (x (1 - x))``; without
    ``eps`` NaN outside [0, 1], with it 0 outside ``[eps, 1 - eps]``."""

    @staticmethod
    @quiet  # log(0) = -inf and log of a negative = NaN, as in PyTorch
    def forward(ctx: Context, x: Any, eps: float | None = None) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x)
        ctx.eps = eps
        # (PyTorch's order: below eps is eps, else above 1 - eps is 1 - eps -- with eps > 1/2
        # the two overlap, and clip() would send everything to 1 - eps)
        z = x if eps is None else xp.where(x < eps, x.dtype.type(eps),
                                           xp.where(x > 1 - eps, x.dtype.type(1 - eps), x))
        return xp.log(z / (1 - z))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        # (|x (1 - x)|: the same in [0, 1], and +0 at x = -0, whose gradient is +inf as
        # PyTorch's; outside [0, 1] the gradient is NaN or 0 below anyway)
        grad = g / (x * (1 - x)).abs()
        if eps is None:
            return where((x < 0) | (x > 1), math.nan, grad)
        # (a NaN x keeps its NaN gradient: PyTorch's vectorised loop gives 0 there, its scalar
        # loop -- a tensor under 16 float64s, the last elements of others -- NaN)
        return where((x < eps) | (x > 1 - eps), 0.0, grad)


# ------------------------------------------------------------------------------ rounding
class _ZeroGradient:
    """The VJP of a step function: zero everywhere (PyTorch's choice at the jumps too)."""

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Tensor._make(array_module(g._data).zeros_like(g._data))


class Sign(_ZeroGradient, Function):
    """-1, 0 or 1 as ``(x > 0) - (x < 0)``, PyTorch's formula: NaN and -0.0 give +0 (numpy's
    ``sign`` keeps NaN); bools come back unchanged. VJP zero."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        if x.dtype.kind == "b":
            return x.copy()
        positive = (x > 0).astype(x.dtype)
        return positive if x.dtype.kind == "u" else positive - (x < 0).astype(x.dtype)


class Angle(_ZeroGradient, Function):
    """The angle of a real number in the complex plane: pi below zero, 0 otherwise (-0.0 too),
    NaN kept -- PyTorch's ``angle`` of a real tensor. VJP zero (as PyTorch's for real input)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = array_module(x)
        angle = xp.where(x < 0, xp.asarray(xp.pi, dtype=x.dtype), xp.zeros((), dtype=x.dtype))
        return xp.where(xp.isnan(x), x, angle)


class Floor(_ZeroGradient, Function):
    """Round down; VJP zero."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).floor(x)


class Ceil(_ZeroGradient, Function):
    """Round up; VJP zero."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).ceil(x)


class Trunc(_ZeroGradient, Function):
    """Round towards zero; VJP zero."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return array_module(x).trunc(x)


class Round(_ZeroGradient, Function):
    """Round to ``decimals`` decimal places, halves to even (as PyTorch: ``rint(x * 10^d) / 10^d``,
    or ``rint(x / 10^-d) * 10^-d`` for negative ``d``; float16 is rounded in float32); VJP zero."""

    @staticmethod
    def forward(ctx: Context, x: Any, decimals: int = 0) -> Any:
        xp = array_module(x)
        if decimals == 0:
            return xp.rint(x)
        wide = x.astype(np.float32) if x.dtype == np.float16 else x
        # 10^|d| past the float range is inf (Python's float power raises): then x * inf / inf
        # and x / inf * inf are NaN, as PyTorch's
        scale = wide.dtype.type(math.inf if abs(decimals) > 308 else 10.0 ** abs(decimals))
        with np.errstate(invalid="ignore", over="ignore"):
            out = xp.rint(wide * scale) / scale if decimals > 0 else \
                xp.rint(wide / scale) * scale
        return out.astype(x.dtype, copy=False)


class NanToNum(Function):
    """NaN, +inf and -inf replaced by the numbers ``nan``, ``posinf``, ``neginf``. VJP: ``g *
    isfinite(x)`` -- a product, as PyTorch's, so a NaN gradient at a replaced element stays NaN
    (``NaN * 0``) rather than being masked to 0."""

    name = "nan_to_num"

    @staticmethod
    def forward(ctx: Context, x: Any, nan: float = 0.0, posinf: float = 0.0,
                neginf: float = 0.0) -> Any:
        xp = array_module(x)
        ctx.finite = xp.isfinite(x).astype(x.dtype)
        with np.errstate(over="ignore"):  # a replacement beyond the dtype's range becomes inf
            return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g * Tensor._make(ctx.finite)


class Frac(Function):
    """The fractional part ``x - trunc(x)`` (sign of ``x``); VJP ``g`` (the jumps ignored, as
    PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return x - array_module(x).trunc(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g
