"""The array operations the optimizers' steps are written in, one per PyTorch tensor op of the
step (``add_``, ``mul_``, ``lerp_``, ``addcmul_``, ``addcdiv_``, ...), each rounded once into its
result, as PyTorch's are.

PyTorch computes a float16 tensor op in float32 ("opmath") and rounds its result to float16 once;
a Python number is used in float32, except ``add``'s ``alpha`` and added number, which are rounded
to float16 first (measured against PyTorch 2.13's CPU kernels: these functions give its float16
results bit for bit, but for a few in 10,000 elements of ``addcmul_`` and ``addcdiv_``). numpy's
float16 arithmetic rounds every intermediate (``lr * g``, then the subtraction) and casts every
Python number to float16: a float16 parameter's update differed from PyTorch's in 12% of its
elements after one SGD step, and Adam's by hundreds of ulps. For float32 and float64 these are
numpy's own (in-place) operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _half(a: Any) -> bool:
    return getattr(a, "dtype", None) == np.float16


def _wide(a: Any) -> Any:
    """``a`` in float32 when it is a float16 array (PyTorch's opmath), else ``a``."""
    return a.astype(np.float32) if _half(a) else a


def _in_half(s: float) -> np.float32:
    """A number as PyTorch's float16 ``add`` uses it: rounded to float16, computed in float32."""
    return np.float32(np.float16(s))


def _added(y: Any, alpha: float) -> Any:
    """``alpha * y`` of a float16 ``add`` (``y`` an array or a number), in float32."""
    y = _wide(y) if hasattr(y, "dtype") and getattr(y, "ndim", 0) else _in_half(y)
    return y if alpha == 1 else _in_half(alpha) * y


def add(x: Any, y: Any, alpha: float = 1.0) -> Any:
    """``torch.add(x, y, alpha=alpha)``: a new array (``y`` an array or a number)."""
    if _half(x):
        return (_wide(x) + _added(y, alpha)).astype(x.dtype)
    return x + (y if alpha == 1 else alpha * y)


def scale(x: Any, s: float) -> Any:
    """``x * s`` for a number ``s``: a new array."""
    return (_wide(x) * s).astype(x.dtype) if _half(x) else x * s


def div(x: Any, s: float) -> Any:
    """``x / s`` for a number ``s``: a new array."""
    return (_wide(x) / s).astype(x.dtype) if _half(x) else x / s


def add_(dst: Any, y: Any, alpha: float = 1.0) -> Any:
    """``dst.add_(y, alpha=alpha)``."""
    if _half(dst):
        dst[...] = _wide(dst) + _added(y, alpha)
    else:
        dst += y if alpha == 1 else alpha * y
    return dst


def mul_(dst: Any, s: float) -> Any:
    """``dst.mul_(s)`` for a number ``s``."""
    if _half(dst):
        dst[...] = _wide(dst) * s
    else:
        dst *= s
    return dst


def lerp_(dst: Any, end: Any, weight: float) -> Any:
    """``dst.lerp_(end, weight)``, with PyTorch's two formulas (exact at both ends); float16 as
    PyTorch's, a fused multiply-add in float32 (here: exact in float64, rounded to float32).
    float32 and float64 round the product and the sum apart, where PyTorch's vectorised kernel
    fuses them on CPUs with FMA: Adam's ``exp_avg`` is an ulp apart in ~10% of its elements
    (t147; fusing here would cost the step two float64 passes over the parameters)."""
    if _half(dst):
        d, e = dst.astype(np.float64), end.astype(np.float64)
        w = np.float32(weight)
        out = d + (e - d) * float(w) if abs(weight) < 0.5 else \
            e - (e - d) * float(np.float32(1) - w)
        dst[...] = out.astype(np.float32)
    elif abs(weight) < 0.5:
        dst += weight * (end - dst)
    else:
        dst[...] = end - (end - dst) * (1 - weight)
    return dst


def addcmul_(dst: Any, a: Any, b: Any, value: float = 1.0) -> Any:
    """``dst.addcmul_(a, b, value=value)``: ``dst += value * a * b``."""
    if _half(dst):
        dst[...] = _wide(dst) + value * _wide(a) * _wide(b)
    else:
        dst += value * a * b if value != 1 else a * b
    return dst


def addcdiv_(dst: Any, a: Any, b: Any, value: float = 1.0) -> Any:
    """``dst.addcdiv_(a, b, value=value)``: ``dst += (value * a) / b``, in PyTorch's kernel's order
    (``value * (a / b)`` rounded an element in ten an ulp apart -- t157)."""
    if _half(dst):
        dst[...] = _wide(dst) + (value * _wide(a)) / _wide(b)
    else:
        dst += (value * a) / b if value != 1 else a / b
    return dst


def rdiv(s: float, x: Any) -> Any:
    """``s / x`` for a number ``s``: a new array (PyTorch's: ``x.reciprocal() * s``)."""
    if _half(x):
        return (_wide((1 / _wide(x)).astype(x.dtype)) * s).astype(x.dtype)
    return s / x


def scalar_state(value: float, like: Any = None) -> Any:
    """A number PyTorch keeps in optimizer state as a 0-d tensor (NAdam's ``mu_product``, ASGD's
    ``eta`` and ``mu``), computed as a tensor of its default dtype, float32 (tinygrad_cnn's,
    fixed), and stored in the dtype of the state it replaces (``like``: float32 unless a load
    cast it to the parameter's)."""
    return np.dtype(getattr(like, "dtype", np.float32)).type(np.float32(value))


def scalar_mul(state: Any, x: float) -> Any:
    """``state *= x`` for a 0-d state tensor ``state`` (a numpy scalar here) and a Python number
    ``x``, as PyTorch's kernels do it: in float64 for float64, else in float32, rounded to the
    state's dtype."""
    dtype = np.dtype(getattr(state, "dtype", np.float32))
    if dtype == np.float64:
        return np.float64(state) * np.float64(x)
    return dtype.type(np.float32(state) * np.float32(x))
