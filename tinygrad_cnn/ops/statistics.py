"""Statistics: NaN-aware reductions, medians, modes, running extremes and unique values.

| op | how |
|---|---|
| ``nansum`` | ``Nansum`` here; VJP: ``g`` spread back, times 1 where ``x`` is not NaN, 0 where it is |
| ``nanmean`` | ``nansum / count of non-NaN`` (PyTorch's composition; float16 divides in float32) |
| ``var_mean``, ``std_mean`` | ``var``/``std`` and ``mean`` over the same dims |
| ``median()``, ``nanmedian()`` | ``Median`` here; VJP: ``g`` shared by the elements equal to the result |
| ``median(dim)``, ``nanmedian(dim)`` | the index from a stable argsort, then ``gather`` |
| ``mode(dim)`` | the index from a stable argsort and its runs of equal values, then ``gather`` |
| ``cummax``, ``cummin`` | the running index on arrays, then ``gather`` (the gradient to the index) |
| ``aminmax`` | ``(amin, amax)`` over the same dims (``Min``, ``Max``: ties share the gradient) |
| ``count_nonzero``, ``unique``, ``unique_consecutive`` | numpy, no gradient |

Tie rules are PyTorch 2.13's (CPU), checked against it in ``tests/test_more_ops.py``:

* ``median``/``nanmedian`` over a dim pick the *lower* of the two middle values, and the index of
  the element at that place of a *stable* sort (equal values in index order); ``median`` of a slice
  with a NaN is that slice's *first* NaN; ``nanmedian`` ignores NaNs (all NaN: the first NaN).
* ``mode`` is the most frequent value along the dim; of values equally frequent, the smallest
  (PyTorch's kernel: a sort, then the first longest run of equal values). Its index is the *last*
  occurrence of it -- PyTorch's CPU index wherever the dim has at most 16 elements; beyond that
  PyTorch's unstable ``std::sort`` returns an occurrence that depends on the C++ library it was
  built with, which we do not copy. A NaN equals nothing (PyTorch's ``!=``), so each NaN is a
  value seen once, ordered after every number: the mode is NaN only when every element is
  (index: the first). PyTorch's sort is undefined with NaN (``<`` is no order then) and can give
  NaN as the mode of ``[nan, 1, nan, 1]``; we give 1. ``-0.0`` and ``0.0`` are one value (the
  element at the index is returned).
* ``cummax``/``cummin`` move to a later element that *equals* the running extreme (the index of the
  *last* occurrence, PyTorch's ``>=``/``<=``); a NaN becomes the running value and every later NaN
  takes over its index.
* ``unique`` sorts (also with ``sorted=False``, as PyTorch does on the CPU); a NaN equals nothing,
  so every NaN is a value of its own (last); -0.0 and 0.0 are one value, the first in sorted order.
"""

from __future__ import annotations

import collections
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function, keepdim_arg
from tinygrad_cnn.backend import ArgumentTypeError, array_module, quiet, rows_past_32_dims
from tinygrad_cnn.ops.indexing import select
from tinygrad_cnn.ops.reduce import Mean, Std, Var, _extreme, _extreme_backward, _spread, float_sum
from tinygrad_cnn.tensor import (
    DTypeLike,
    Tensor,
    _all_dims,
    _dim,
    _dims,
    _dtype,
    _no_gradient_lost,
    _var_args,
)

_MedianResult = collections.namedtuple("median", ["values", "indices"])  # torch.return_types
_NanmedianResult = collections.namedtuple("nanmedian", ["values", "indices"])
_ModeResult = collections.namedtuple("mode", ["values", "indices"])
_CummaxResult = collections.namedtuple("cummax", ["values", "indices"])
_CumminResult = collections.namedtuple("cummin", ["values", "indices"])
_AminmaxResult = collections.namedtuple("aminmax", ["min", "max"])


def _stable(xp: Any) -> dict[str, str]:
    return {"kind": "stable"} if xp is np else {}  # CuPy's sort is always stable


def _tensor(input: Any, where: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input


# ------------------------------------------------------------------------------ NaN-aware sums
class Nansum(Function):
    """Sum over ``dim`` (all dims when None) with NaNs counted as zero. VJP (PyTorch's):
    ``g`` spread back over the summed dims, times ``1`` where ``x`` is not NaN and ``0`` where it
    is (a product, so an inf or NaN ``g`` gives NaN there, as in PyTorch)."""
    contiguous = True

    @staticmethod
    @quiet  # (inf - inf: NaN, as PyTorch, without numpy's warning)
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        xp = array_module(x)
        nan = xp.isnan(x)
        ctx.shape, ctx.dim = x.shape, dim
        if ctx.needs_input_grad[0]:
            ctx.kept = (~nan).astype(x.dtype)
        w = xp.where(nan, 0, x)
        if x.dtype == np.float16:  # added up in float32, rounded once (as Sum, as PyTorch)
            return w.sum(axis=dim, keepdims=keepdim, dtype=np.float32).astype(np.float16)
        return float_sum(w, dim, keepdim)  # (Sum's: float32 wide where numpy adds one at a time)

    @staticmethod
    @quiet  # (an inf gradient times 0: NaN, as PyTorch's, without numpy's warning)
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return _spread(g, ctx.shape, ctx.dim) * Tensor._make(ctx.kept)


def nansum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
           dtype: DTypeLike = None) -> Tensor:
    """The sum over ``dim`` (``None`` or ``()``: every dim) with NaN counted as 0; ``dtype`` casts
    the input first. Integers and bools (which hold no NaN) are ``sum``'s: int64. The gradient is 0
    at the NaN elements."""
    input = _tensor(input, "nansum")
    dt = None if dtype is None else _no_gradient_lost(input, _dtype(dtype, "nansum"), "nansum")
    if dt is not None and dt.kind not in "fc" and input.dtype.kind in "fc":
        # (NaN dropped before the cast, as PyTorch: [nan, 1.5] into int64 is 1, not -2**63 + 1)
        input = input.nan_to_num(nan=0.0, posinf=float("inf"), neginf=float("-inf"))
    x = input if dt is None else input.to(dt)
    if x.dtype.kind != "f":
        return input.sum(dim, keepdim, dtype=dtype)
    dims = None if _all_dims(dim) else _dims(dim, x.ndim, "nansum")
    return Nansum.apply(x, dim=dims, keepdim=keepdim)


def nanmean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
            dtype: DTypeLike = None) -> Tensor:
    """The mean of the non-NaN elements over ``dim`` (``None`` or ``()``: every dim): ``nansum``
    divided by their count, as PyTorch computes it (NaN where every element is NaN or there are
    none; the gradient ``g / count`` at the others, 0 at the NaNs). Floating tensors only, as in
    PyTorch. A float16 sum is divided by its count in float32 and rounded once: float16 cannot
    hold a count past 65,504 (it became inf, and the mean 0). PyTorch 2.13 does so for the mean
    of every element, but with ``dim`` it turns the count into float16 first and returns 0."""
    input = _tensor(input, "nanmean")
    if input.dtype.kind != "f":
        raise ArgumentTypeError(f"nanmean: needs a floating-point tensor, got {input.dtype} (as in "
                                "PyTorch); convert it with .float() or .double()")
    count = (~input.isnan()).sum(dim, keepdim)  # int64 (also dim=(): every dim)
    total = nansum(input, dim, keepdim, dtype=dtype)
    if total.dtype == np.float16:
        return (total.float() / count).to(np.float16)
    return total / count


def _welford_mean(input: Tensor, mean: Tensor, dims: tuple[int, ...] | None) -> Tensor:
    """The mean of ``var_mean``/``std_mean`` as PyTorch's running (Welford) update computes it:
    once the running mean is infinite, any later element makes it NaN (``inf - inf``), so a slice
    with an infinity has an infinite mean only when its one infinity is its last element (in
    row-major order over the reduced dims), and NaN otherwise. The gradient stays the mean's, as
    in PyTorch (a constant NaN is added where the value changes)."""
    x = input._data
    xp = array_module(x)
    if not x.size or not xp.isinf(x).any():
        return mean
    reduced = tuple(range(x.ndim)) if dims is None else dims
    kept = [d for d in range(x.ndim) if d not in reduced]
    rows = xp.transpose(x, kept + list(reduced)).reshape(
        tuple(x.shape[d] for d in kept) + (-1,))  # (kept..., n), the reduced ones in order
    if not rows.shape[-1]:
        return mean
    infs = xp.isinf(rows)
    count = infs.sum(axis=-1)
    lost = (count > 0) & ~((count == 1) & infs[..., -1])
    if not lost.any():
        return mean
    fix = xp.where(lost, xp.nan, 0).astype(x.dtype).reshape(mean.shape)
    return mean + Tensor._make(fix)


def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
             *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over the same dims, with ``var``'s arguments (``correction`` 1 by default,
    ``unbiased=False`` for 0; ``var_mean(x, False)`` too): a plain tuple, as in PyTorch. The mean
    follows PyTorch's running update at infinities (see ``_welford_mean``)."""
    input = _tensor(input, "var_mean")
    dims, corr = _var_args(input, dim, unbiased, correction, "var_mean")
    return (Var.apply(input, dim=dims, correction=corr, keepdim=keepdim),
            _welford_mean(input, Mean.apply(input, dim=dims, keepdim=keepdim), dims))


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False,
             *, correction: float | None = None) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over the same dims; see ``var_mean``."""
    input = _tensor(input, "std_mean")
    dims, corr = _var_args(input, dim, unbiased, correction, "std_mean")
    return (Std.apply(input, dim=dims, correction=corr, keepdim=keepdim),
            _welford_mean(input, Mean.apply(input, dim=dims, keepdim=keepdim), dims))


def count_nonzero(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """How many elements are not zero (NaN counts) over ``dim`` (an int, a sequence of ints, or
    ``None``/``()`` for every dim): int64, no gradient."""
    input = _tensor(input, "count_nonzero")
    dims = None if _all_dims(dim) else _dims(dim, input.ndim, "count_nonzero")
    a = input._data
    xp = array_module(a)
    return Tensor._make(xp.asarray((a != 0).sum(axis=dims, dtype=np.int64)))


# ------------------------------------------------------------------------------ medians
class Median(Function):
    """The median of every element: the lower of the two middle values (``median``: NaN when
    there is a NaN; ``ignore_nan`` (``nanmedian``): of the non-NaN ones, NaN when all are NaN or
    there are none). VJP (PyTorch's ``evenly_distribute_backward``): ``g`` shared equally by the
    elements equal to the result (by the NaNs when it is NaN), exactly 0 elsewhere."""
    contiguous = True

    @staticmethod
    def forward(ctx: Context, x: Any, ignore_nan: bool = False, nan_wins: bool = True) -> Any:
        xp = array_module(x)
        flat = x.reshape(-1)
        nan = xp.isnan(flat) if x.dtype.kind == "f" else None
        nans = int(nan.sum()) if nan is not None else 0
        n = flat.size - nans
        if flat.size == 0 or n == 0 or (nans and not ignore_nan):
            with np.errstate(invalid="ignore"):  # (an empty integer tensor: NaN cast, as PyTorch)
                value = xp.asarray(np.nan).astype(x.dtype)
        else:
            k = (n - 1) // 2
            value = xp.partition(flat[~nan] if nans else flat, k)[k]
        out = xp.full((1,) * x.ndim, value, dtype=x.dtype)
        return _extreme(ctx, x, None, False, out, nan_wins=True)

    backward = staticmethod(_extreme_backward)


@rows_past_32_dims
def _median_index(x: Any, d: int, ignore_nan: bool) -> Any:
    """The int64 index (kept dim) of the median along ``d``: the element at place ``(n - 1) // 2``
    of a stable sort (NaN last); for ``median`` a slice's first NaN, for ``nanmedian`` the place
    counted among the non-NaN elements."""
    xp = array_module(x)
    n = x.shape[d]
    order = xp.argsort(x, axis=d, **_stable(xp))
    if x.dtype.kind != "f":
        return xp.take(order, [(n - 1) // 2], axis=d).astype(np.int64, copy=False)
    nan = xp.isnan(x)
    if ignore_nan:
        valid = n - nan.sum(axis=d, keepdims=True)
        place = xp.maximum((valid - 1) // 2, 0)  # all NaN: place 0, the first NaN
        return xp.take_along_axis(order, place, axis=d).astype(np.int64, copy=False)
    idx = xp.take(order, [(n - 1) // 2], axis=d)
    first_nan = nan.argmax(axis=d, keepdims=True)
    return xp.where(nan.any(axis=d, keepdims=True), first_nan, idx).astype(np.int64, copy=False)


def _median(input: Tensor, dim: Any, keepdim: bool, ignore_nan: bool) -> Any:
    where = "nanmedian" if ignore_nan else "median"
    input = _tensor(input, where)
    keepdim = keepdim_arg(where, keepdim)
    if input.dtype == np.bool_:
        raise TypeError(f"{where}: bool tensors are not supported (as in PyTorch); convert with "
                        ".long() or .float()")
    if dim is None:
        if keepdim:
            raise TypeError(f"{where}: keepdim needs a dim (as in PyTorch): {where}(x, dim, "
                            "keepdim=True)")
        return Median.apply(input, ignore_nan=ignore_nan, nan_wins=True)
    d, x = _selection_dim(input, dim, where)
    idx = _median_index(x._data, d, ignore_nan)
    # (the gradient goes to -- is written at -- the index; without keepdim the dim is dropped
    # by the same op: a tensor of its own, not a view)
    values = select(x, d, idx, keepdim=bool(input.ndim) and keepdim)
    result = _NanmedianResult if ignore_nan else _MedianResult
    if input.ndim == 0:
        return result(values, Tensor._make(idx.reshape(())))
    if not keepdim:
        idx = idx.squeeze(d)
    return result(values, Tensor._make(idx))


def _selection_dim(input: Tensor, dim: Any, where: str) -> tuple[int, Tensor]:
    """The dim a selection along one dim (median, mode) runs over, checked as PyTorch checks it
    (an int, in range, not empty), and the input as at least 1-d."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{where}: dim must be an int, got {dim!r} (one dim at a time, as in "
                        "PyTorch)")
    d = _dim(dim, input.ndim, where)
    x = input if input.ndim else input.reshape(1)
    if x.shape[d] == 0:
        raise IndexError(f"{where}: dim {dim} of shape {input.shape} has size 0; there is no "
                         f"{where} to take (reduce over a dim that is not empty)")
    return d, x


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Without ``dim``: the median of every element, the lower of the two middle values (NaN if
    any element is NaN); the gradient is shared by the elements equal to it. With ``dim``: a named
    tuple ``(values, indices)`` along it (see the module's tie rules); the gradient goes to the
    index."""
    return _median(input, dim, keepdim, ignore_nan=False)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """``median`` of the non-NaN elements (NaN where all are NaN)."""
    return _median(input, dim, keepdim, ignore_nan=True)


@rows_past_32_dims
def _mode_index(x: Any, d: int) -> Any:
    """The int64 index (kept dim) of the mode along ``d``: the last element of the first longest
    run of equal values in a stable sort (NaN last, each NaN a run of its own)."""
    xp = array_module(x)
    n = x.shape[d]
    order = xp.argsort(x, axis=d, **_stable(xp))
    s = xp.moveaxis(xp.take_along_axis(x, order, axis=d), d, -1)  # (..., n), sorted
    new = xp.ones(s.shape, dtype=bool)
    new[..., 1:] = s[..., 1:] != s[..., :-1]  # a run starts here (NaN != NaN: each NaN does)
    at = xp.arange(n, dtype=np.int64)
    start = xp.maximum.accumulate(xp.where(new, at, 0), axis=-1)
    end = xp.ones(s.shape, dtype=bool)
    end[..., :-1] = new[..., 1:]  # a run ends here
    length = xp.where(end, at - start + 1, 0)  # each run's length, at its last element
    place = xp.argmax(length, axis=-1)[..., None]  # the first longest run: the smallest value
    return xp.take_along_axis(order, xp.moveaxis(place, -1, d), axis=d).astype(np.int64,
                                                                                copy=False)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """A named tuple ``(values, indices)``: the most frequent value along ``dim`` (of values as
    frequent, the smallest) and the index of its last occurrence, as PyTorch's CPU kernel (see
    the module's tie and NaN rules; with a NaN in a row PyTorch's answer depends on the NaN's
    place, as its sort cannot order NaN: here each NaN counts once). The gradient goes to the
    index."""
    where = "mode"
    keepdim = keepdim_arg(where, keepdim)
    input = _tensor(input, where)
    d, x = _selection_dim(input, dim, where)
    idx = _mode_index(x._data, d)
    # (the gradient is written at the index, PyTorch's backward; see median)
    values = select(x, d, idx, keepdim=bool(input.ndim) and keepdim)
    if input.ndim == 0:
        return _ModeResult(values, Tensor._make(idx.reshape(())))
    if not keepdim:
        idx = idx.squeeze(d)
    return _ModeResult(values, Tensor._make(idx))


# ------------------------------------------------------------------------------ both extremes
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """A named tuple ``(min, max)``: ``amin`` and ``amax`` over ``dim`` (an int; ``None``: every
    element, ``keepdim`` then keeping every dim), as PyTorch's ``aminmax`` -- the same dtype as the
    input (bool too), NaN when a NaN is among the elements, and the gradient of each shared by
    the elements equal to it (PyTorch's ``aminmax`` backward is its ``amin``/``amax`` one)."""
    input = _tensor(input, "aminmax")
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               f"operation has no identity (the tensor of shape {input.shape} is "
                               "empty); give a dim whose size is not 0")
        dims: Any = None
    else:
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"aminmax(): dim must be an int or None, got {dim!r}")
        dims = _dim(dim, input.ndim, "aminmax")
        if input.ndim and input.shape[dims] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {dims} to have non-zero size "
                             f"(shape {input.shape})")
    return _AminmaxResult(input.amin(dims, keepdim), input.amax(dims, keepdim))


# ------------------------------------------------------------------------------ running extremes
def _running_index(x: Any, d: int, largest: bool) -> Any:
    """The int64 index of the running maximum (minimum) along ``d``, PyTorch's rule: the last
    element equal to the running value, NaN sticky (each later NaN takes the index over).

    The position ``j`` that set the running value at ``i`` is the last ``j <= i`` where ``x[j]``
    equals the running value *at j*: past it, no element reached the running value again."""
    xp = array_module(x)
    running = (xp.maximum if largest else xp.minimum).accumulate(x, axis=d)  # NaN propagates
    at = x == running
    if x.dtype.kind == "f":
        at |= xp.isnan(x)  # (once a NaN is seen, the running value is NaN: only NaNs set it)
    positions = xp.arange(x.shape[d], dtype=np.int64).reshape((-1,) + (1,) * (x.ndim - 1 - d))
    return xp.maximum.accumulate(xp.where(at, positions, 0), axis=d)


def _cumulative(input: Tensor, dim: int, largest: bool) -> Any:
    where = "cummax" if largest else "cummin"
    input = _tensor(input, where)
    d = _dim(dim, input.ndim, where)
    x = input if input.ndim else input.reshape(1)
    # (in C order, as PyTorch's indices, whatever the input's layout: x.t().cummax(1).indices
    # refused view(-1))
    idx = array_module(x._data).ascontiguousarray(_running_index(x._data, d, largest))
    values = x.gather(d, idx)  # the gradient goes to the index (PyTorch's scatter_add)
    result = _CummaxResult if largest else _CumminResult
    if input.ndim == 0:
        return result(values.reshape(()), Tensor._make(idx.reshape(())))
    return result(values, Tensor._make(idx))


def cummax(input: Tensor, dim: int) -> Any:
    """A named tuple ``(values, indices)``: the running maximum along ``dim`` and where it came
    from (int64; ties: the last occurrence; NaN propagates). The gradient goes to the index."""
    return _cumulative(input, dim, largest=True)


def cummin(input: Tensor, dim: int) -> Any:
    """The running minimum and its indices; see ``cummax``."""
    return _cumulative(input, dim, largest=False)


# ------------------------------------------------------------------------------ unique values
def _rows(input: Tensor, dim: int | None, where: str) -> tuple[Any, int | None]:
    """The elements as a flat array (``dim=None``), or the slices along ``dim`` as the rows of a
    2-D array ``(size of dim, rest)``; and the normalised dim."""
    a = input._data
    if dim is None:
        return a.reshape(-1), None
    if input.ndim == 0:
        raise IndexError(f"{where}: dim {dim} given, but the tensor is 0-d (it has no dims); "
                         "leave dim out")
    d = _dim(dim, input.ndim, where)
    empty = [i for i, s in enumerate(input.shape) if s == 0]
    if empty and empty != [d]:  # PyTorch's rule: only dim itself may be empty
        raise RuntimeError(f"{where}: shape {input.shape} has an empty dim other than dim {d}, so "
                           "its slices along dim have no elements to compare (as PyTorch refuses)")
    xp = array_module(a)
    width = math.prod(s for i, s in enumerate(input.shape) if i != d)
    return xp.moveaxis(a, d, 0).reshape(input.shape[d], width), d


def _groups(rows: Any, order: Any | None, input: Tensor, d: int | None, return_inverse: bool,
            return_counts: bool) -> Any:
    """The values of each run of equal elements (rows) of ``rows[order]``, with the inverse map and
    the run lengths as asked."""
    xp = array_module(rows)
    s = rows if order is None else rows[order]
    n = s.shape[0]
    new = xp.ones(n, dtype=bool)
    if n > 1:
        differs = s[1:] != s[:-1]  # (NaN != NaN: every NaN starts a run)
        new[1:] = differs if s.ndim == 1 else differs.any(axis=1)
    values = s[new]
    if d is None:
        out = values
    else:
        rest = input.shape[:d] + input.shape[d + 1:]
        out = xp.moveaxis(values.reshape((values.shape[0],) + rest), 0, d)
    results = [Tensor._make(xp.ascontiguousarray(out))]
    if return_inverse:
        run = xp.cumsum(new) - 1
        inverse = xp.empty(n, dtype=np.int64)
        if order is None:
            inverse[...] = run
        else:
            inverse[order] = run
        results.append(Tensor._make(inverse.reshape(input.shape) if d is None else inverse))
    if return_counts:
        starts = xp.flatnonzero(new)
        results.append(Tensor._make(xp.diff(xp.append(starts, n)).astype(np.int64)))
    return results[0] if len(results) == 1 else tuple(results)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct elements, sorted (also with ``sorted=False``, as PyTorch on the CPU); with
    ``dim``, the distinct slices along it in lexicographic order. With ``return_inverse`` also
    where each element (slice) went, with ``return_counts`` how many there were: then a tuple.
    NaN equals nothing (each NaN is kept); no gradient, as in PyTorch."""
    input = _tensor(input, "unique")
    rows, d = _rows(input, dim, "unique")
    xp = array_module(rows)
    if rows.ndim == 1:
        order = xp.argsort(rows, **_stable(xp))
    elif rows.shape[1] == 0:
        order = xp.arange(rows.shape[0])
    else:  # the first column the primary key; lexsort is stable
        order = xp.lexsort(rows.T[::-1])
    return _groups(rows, order, input, d, return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """``unique`` of each run of equal consecutive elements (slices along ``dim``), in order."""
    input = _tensor(input, "unique_consecutive")
    rows, d = _rows(input, dim, "unique_consecutive")
    return _groups(rows, None, input, d, return_inverse, return_counts)
