"""Counting: ``histc`` and ``bincount``, as PyTorch 2.13's CPU kernels count. Neither has a
gradient (PyTorch's ``histc`` result does not require grad; its ``bincount`` of weights that do
has a backward that raises): here both return tensors outside the graph.

``histc(input, bins, min, max)`` puts each element ``v`` with ``min <= v <= max`` into the bin
``int((v - min) * bins / (max - min))`` -- computed in the input's dtype, one rounding per
operation, as PyTorch's ``LINEAR_INTERPOLATION`` kernel (so an element near a bin edge lands
where PyTorch's does, not where exact arithmetic would put it) -- the last bin also taking
``max``. NaN and elements outside the range are skipped. ``min == max`` (0 and 0 by default)
means the data's own range; a range of one point is widened by 1 on each side; an infinite or NaN
range is refused. The counts are exact and then cast to the input's dtype (PyTorch's kernel adds
ones in that dtype: float16 counts there stop growing at 2048 per thread).

``bincount(input, weights, minlength)`` counts each value of a 1-D tensor of non-negative
integers (int64 counts), or adds up ``weights`` per value: float32 weights in float32, any other
dtype in float64, one addition at a time in index order (PyTorch's loop). An empty input gives
``minlength`` int64 zeros, whatever the weights.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.backend import add_at, array_module
from tinygrad_cnn.tensor import Tensor

_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
                "int64": "Long", "float16": "Half", "float32": "Float", "float64": "Double"}


def _tensor(input: Any, where: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input


def _int(value: Any, where: str, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}(): argument '{what}' must be int, not {type(value).__name__}")
    return int(value)


def _number(value: Any, where: str, what: str) -> float:
    if isinstance(value, Tensor) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, (bool, int, float, np.bool_, np.number)):
        return float(value)
    raise TypeError(f"{where}(): argument '{what}' must be a number, not {type(value).__name__}")


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """A histogram of every element of ``input`` in ``bins`` equal bins between ``min`` and
    ``max`` (the data's range when they are equal): a 1-D tensor of the input's floating dtype,
    without gradient. See the module for where an element goes."""
    input = _tensor(input, "histc")
    bins = _int(bins, "histc", "bins")
    lo, hi = _number(min, "histc", "min"), _number(max, "histc", "max")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, but got {bins}; give the number of bins, "
                           "at least 1")
    a = input._data
    xp = array_module(a)
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())  # (NaN among them: a NaN range, refused below)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo:g}, {hi:g}] is not finite; give finite "
                           "min and max (or leave out the infinities and NaN)")
    if not lo < hi:
        raise RuntimeError(f"torch.histc: max must be larger than min (got min={lo:g}, "
                           f"max={hi:g})")
    if a.dtype.kind != "f":
        kernel = "linspace_cpu" if a.dtype == np.bool_ else "histogram_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for '
                                  f"'{_TORCH_NAMES.get(str(a.dtype), a.dtype)}' (as in PyTorch): "
                                  "convert the input with .float()")
    dt = a.dtype.type
    left, right = dt(lo), dt(hi)  # the outer bin edges, in the input's dtype
    flat = a.reshape(-1)
    with np.errstate(all="ignore"):  # (NaN compares False: skipped, as in PyTorch)
        inside = flat[(flat >= left) & (flat <= right)]
        pos = ((inside - left) * dt(bins) / (right - left)).astype(np.int64)
    pos = xp.clip(pos, 0, bins - 1)  # (the last bin takes its right edge)
    counts = xp.bincount(pos, minlength=bins)[:bins]
    return Tensor._make(counts.astype(a.dtype))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value ``0, 1, ..., max(input)`` occurs in a 1-D tensor of non-negative
    integers (at least ``minlength`` bins; int64), or the sum of ``weights`` (one per element) at
    each value (float32 for float32 weights, float64 for others). No gradient."""
    input = _tensor(input, "bincount")
    minlength = _int(minlength, "bincount", "minlength")
    if weights is not None and not isinstance(weights, Tensor):
        raise TypeError(f"bincount(): argument 'weights' must be a Tensor or None, not "
                        f"{type(weights).__name__}")
    a = input._data
    xp = array_module(a)
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{_TORCH_NAMES.get(str(a.dtype), a.dtype)}' (as in PyTorch): "
                                  "the input holds the values to count, as integers")
    if minlength < 0:
        raise RuntimeError(f"minlength should be >= 0, got {minlength}")
    if a.ndim == 1 and a.size == 0:
        return Tensor._make(xp.zeros(minlength, dtype=np.int64))
    if a.ndim != 1 or a.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs "
                           f"(got shape {input.shape}"
                           + (f", smallest value {int(a.min())})" if a.size else ")"))
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != a.shape[0]):
        raise RuntimeError(f"weights should be 1-d and have the same length as input (input "
                           f"{input.shape}, weights {weights.shape})")
    nbins = max(int(a.max()) + 1, minlength)
    index = a.astype(np.intp, copy=False)
    if weights is None:
        return Tensor._make(xp.bincount(index, minlength=nbins).astype(np.int64, copy=False))
    w = weights._data
    dtype = np.float32 if w.dtype == np.float32 else np.float64
    out = xp.zeros(nbins, dtype=dtype)
    add_at(out, index, w.astype(dtype, copy=False))  # in index order, one addition at a time
    return Tensor._make(out)

