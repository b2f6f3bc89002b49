"""PyTorch's top-level functions for the math of issue 14: ``tinygrad_cnn.sin(x)`` is ``x.sin()``,
``tinygrad_cnn.einsum("ij,jk", a, b)`` is ``torch.einsum``'s. Each is one line; the ops and their
VJPs are in ``ops/unary.py``, ``ops/elementwise.py``, ``ops/reduce.py`` and ``ops/linalg.py``.

(They live here, not in ``tensor.py``, because a module-level ``round`` there would hide Python's.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinygrad_cnn.ops.linalg import bmm, dot, einsum, mv, outer, tensordot
from tinygrad_cnn.tensor import DTypeLike, Tensor


# ------------------------------------------------------------------------------ one tensor
def sin(input: Tensor) -> Tensor:
    return input.sin()


def cos(input: Tensor) -> Tensor:
    return input.cos()


def tan(input: Tensor) -> Tensor:
    return input.tan()


def asin(input: Tensor) -> Tensor:
    return input.asin()


def acos(input: Tensor) -> Tensor:
    return input.acos()


def atan(input: Tensor) -> Tensor:
    return input.atan()


def sinh(input: Tensor) -> Tensor:
    return input.sinh()


def cosh(input: Tensor) -> Tensor:
    return input.cosh()


def asinh(input: Tensor) -> Tensor:
    return input.asinh()


def acosh(input: Tensor) -> Tensor:
    return input.acosh()


def atanh(input: Tensor) -> Tensor:
    return input.atanh()


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def log1p(input: Tensor) -> Tensor:
    return input.log1p()


def expm1(input: Tensor) -> Tensor:
    return input.expm1()


def log2(input: Tensor) -> Tensor:
    return input.log2()


def log10(input: Tensor) -> Tensor:
    return input.log10()


def exp2(input: Tensor) -> Tensor:
    return input.exp2()


def square(input: Tensor) -> Tensor:
    return input.square()


def reciprocal(input: Tensor) -> Tensor:
    return input.reciprocal()


def rsqrt(input: Tensor) -> Tensor:
    return input.rsqrt()


def erf(input: Tensor) -> Tensor:
    return input.erf()


def floor(input: Tensor) -> Tensor:
    return input.floor()


def ceil(input: Tensor) -> Tensor:
    return input.ceil()


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    return input.round(decimals)


def trunc(input: Tensor) -> Tensor:
    return input.trunc()


fix = trunc


def frac(input: Tensor) -> Tensor:
    return input.frac()


def isnan(input: Tensor) -> Tensor:
    return input.isnan()


def isinf(input: Tensor) -> Tensor:
    return input.isinf()


def isfinite(input: Tensor) -> Tensor:
    return input.isfinite()


def logical_not(input: Tensor) -> Tensor:
    return input.logical_not()


# ------------------------------------------------------------------------------ two or three tensors
def remainder(input: Any, other: Any) -> Tensor:
    """Python's ``%`` (``input`` may be a number, as in PyTorch)."""
    return input.remainder(other) if isinstance(input, Tensor) else other.__rmod__(input)


def fmod(input: Tensor, other: Any) -> Tensor:
    return input.fmod(other)


def floor_divide(input: Any, other: Any) -> Tensor:
    return input.floor_divide(other) if isinstance(input, Tensor) else other.__rfloordiv__(input)


def atan2(input: Tensor, other: Any) -> Tensor:
    return input.atan2(other)


arctan2 = atan2


def hypot(input: Tensor, other: Any) -> Tensor:
    return input.hypot(other)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    return input.lerp(end, weight)


def logical_and(input: Tensor, other: Any) -> Tensor:
    return input.logical_and(other)


def logical_or(input: Tensor, other: Any) -> Tensor:
    return input.logical_or(other)


def logical_xor(input: Tensor, other: Any) -> Tensor:
    return input.logical_xor(other)


# ------------------------------------------------------------------------------ reductions
def prod(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: DTypeLike = None) -> Tensor:
    return input.prod(dim, keepdim, dtype=dtype)


def cumsum(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:
    return input.cumsum(dim, dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:
    return input.cumprod(dim, dtype=dtype)


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    return input.var(dim, unbiased, keepdim, correction=correction)


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    return input.std(dim, unbiased, keepdim, correction=correction)


def norm(input: Tensor, p: float | str | None = "fro", dim: int | Sequence[int] | None = None,
         keepdim: bool = False, dtype: DTypeLike = None) -> Tensor:
    return input.norm(p, dim, keepdim, dtype)


def amax(input: Tensor, dim: int | Sequence[int] | None = (), keepdim: bool = False) -> Tensor:
    return input.amax(dim, keepdim)


def amin(input: Tensor, dim: int | Sequence[int] | None = (), keepdim: bool = False) -> Tensor:
    return input.amin(dim, keepdim)


__all__ = [
    "acos", "acosh", "amax", "amin", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "bmm", "ceil", "cos", "cosh", "cumprod",
    "cumsum", "dot", "einsum", "erf", "exp2", "expm1", "fix", "floor", "floor_divide", "fmod",
    "frac", "hypot", "isfinite", "isinf", "isnan", "lerp", "log1p", "log2", "log10", "logical_and",
    "logical_not", "logical_or", "logical_xor", "mv", "norm", "outer", "prod", "reciprocal",
    "remainder", "round", "rsqrt", "sin", "sinh", "square", "std", "tan", "tensordot", "trunc",
    "var",
]
