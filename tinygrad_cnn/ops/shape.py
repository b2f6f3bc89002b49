"""Shape ops: flip, rot90, roll, repeat, tril, triu, diagonal, diag_embed and unfold are Functions;
the rest of PyTorch's shape surface is composed of them and of the movement ops (reshape, permute, expand,
getitem, cat).

| op | how | view? |
|---|---|---|
| ``flip``, ``roll``, ``tril``, ``triu``, ``diag_embed`` | a Function here | no (a copy, as in PyTorch) |
| ``diagonal`` | a Function here (``is_view``) | yes |
| ``unfold`` (``Tensor.unfold``) | a Function here (``is_view``) | yes (read-only if windows overlap) |
| ``select``, ``narrow``, ``chunk``, ``split``, ``unbind`` | ``getitem`` with ints and slices | yes |
| ``movedim``, ``swapaxes``/``swapdims`` | ``permute`` | yes |
| ``broadcast_to``, ``broadcast_tensors`` | ``expand`` | yes (read-only, as numpy's) |
| ``ravel`` | ``reshape`` (after a copy if not contiguous) | when contiguous |
| ``rot90`` | a Function here (half turns: ``flip``) | no |
| ``repeat``, ``tile``, ``repeat_interleave`` (int) | ``repeat``, a Function here | no |
| ``repeat_interleave`` (tensor repeats) | ``index_select`` | no |
| ``trace`` | ``diagonal`` and ``sum`` | no |
| ``hstack``, ``vstack``, ``dstack`` | ``reshape`` and ``cat`` | no |

A view shares its input's memory and version counter (``Function.is_view``), so an in-place change
through either is seen by a backward that saved the other, as in PyTorch. Every function takes
PyTorch's arguments and defaults and checks them here, so that a mistake is reported in terms of
the call the user wrote; ``Tensor``'s methods of the same names delegate to these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import Context, Function, _state, first_order, forward_arrays
from tinygrad_cnn.backend import (
    ArgumentIndexError,
    ArgumentTypeError,
    ArgumentValueError,
    array_module,
    like,
)
from tinygrad_cnn.backend import broadcast_shapes as _bshapes
from tinygrad_cnn.ops.movement import Clone, GetItem, Permute
from tinygrad_cnn.ops.reduce import float_sum
from tinygrad_cnn.tensor import Tensor, _dim, _shape_arg, cat, tensor_sequence

# ------------------------------------------------------------------------------ Functions


def _on_arrays(g: Tensor) -> bool:
    """Whether a VJP that is another op of this module (flip's flip, tril's tril, diagonal's
    diag_embed, ...) may run that op's forward on the array, without its node: a first-order
    backward on numpy (no arithmetic there, so any dtype and layout give the op's own result)."""
    return not _state.grad_enabled and type(g._data) is np.ndarray


_REVERSED = slice(None, None, -1)


class Flip(Function):
    """Reverse the order of the elements along ``dims`` (a copy, as in PyTorch's ``flip``).
    VJP: ``dx = flip(g, dims)``."""

    @staticmethod
    def forward(ctx: Context, x: Any, dims: tuple[int, ...] = ()) -> Any:
        ctx.dims = dims
        # (the input's order of strides, as PyTorch's flip keeps it; an expand's is C order)
        from tinygrad_cnn.ops.movement import copy_preserving

        if not dims:
            return copy_preserving(x) if x.ndim > 1 else x.copy()
        key = [slice(None)] * x.ndim  # (a reversed view by slicing: numpy's flip() checks its
        for d in dims:  # axes in Python, 10 µs of a 16×16 flip)
            key[d] = _REVERSED
        return copy_preserving(x[tuple(key)])

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        gd = g._data
        if _on_arrays(g):  # (any layout: the op's result follows its input's, which apply keeps)
            return Tensor._make(forward_arrays(Flip, gd, dims=ctx.dims))
        return Flip.apply(g, dims=ctx.dims)


class Rot90(Function):
    """A quarter turn (``k`` = 1 or 3) in the plane of ``dims = (d0, d1)``: ``flip`` of ``d1``
    (``d0`` for ``k = 3``), read with the two dims swapped -- PyTorch's rot90, laid out as its
    result (a flipped copy, transposed), in one op (was a flip and a permute). Half turns are a
    flip of both dims. VJP: the turn back, ``rot90(g, 4 - k, dims)``."""

    name = "rot90"

    @staticmethod
    def forward(ctx: Context, x: Any, k: int = 1, dims: tuple[int, int] = (0, 1)) -> Any:
        d0, d1 = dims
        key = [slice(None)] * x.ndim
        key[d1 if k == 1 else d0] = _REVERSED
        from tinygrad_cnn.ops.movement import copy_preserving

        return copy_preserving(x[tuple(key)]).swapaxes(d0, d1)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        back = {"k": 4 - ctx.attrs["k"], "dims": ctx.attrs["dims"]}
        if _on_arrays(g):
            return Tensor._make(forward_arrays(Rot90, g._data, **back))
        return Rot90.apply(g, **back)


class Repeat(Function):
    """``x`` seen as ``view`` (its shape with size-1 dims put in) and copied out to ``tiled`` (each
    put-in dim given its count), then read as ``shape``: ``repeat``/``tile`` put a count before
    each dim (``(s0, s1) -> (r0, s0, r1, s1)``), ``repeat_interleave`` after one (``(s0, s1) ->
    (s0, r, s1)``). One op, a copy in C order (was: reshape, expand, reshape and a clone). VJP:
    ``g`` read as ``tiled``, summed over the put-in dims, read as ``x``'s shape."""

    name = "repeat"
    contiguous = True

    @staticmethod
    def forward(ctx: Context, x: Any, view: tuple[int, ...] = (), tiled: tuple[int, ...] = (),
                shape: tuple[int, ...] = ()) -> Any:
        ctx.shape = x.shape
        out = array_module(x).empty(shape, dtype=x.dtype)
        out.reshape(tiled)[...] = x.reshape(view)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        view, tiled = ctx.attrs["view"], ctx.attrs["tiled"]
        dims = tuple(i for i, (v, t) in enumerate(zip(view, tiled)) if v == 1 and t != 1)
        gd = g._data
        # (kept dims: one pass over all the put-in dims, as expand's VJP sums -- summed away,
        # the batch dim first took a second, strided pass: 1.7x the time for a 1024² repeat)
        if first_order(g):  # (the same on the arrays: no nodes)
            summed = float_sum(gd.reshape(tiled), dims, True) if dims else gd
            return Tensor._make(summed.reshape(ctx.shape))
        t = g.reshape(tiled)
        return (t.sum(dims, keepdim=True) if dims else t).reshape(ctx.shape)


class Roll(Function):
    """Shift the elements along ``dims`` by ``shifts``, cyclically (a copy).
    VJP: roll back, ``dx = roll(g, -shifts, dims)``."""
    contiguous = True
    follows_channels_last = True  # (PyTorch's layout: see Function)

    @staticmethod
    def forward(ctx: Context, x: Any, shifts: tuple[int, ...] = (), dims: tuple[int, ...] = ()
                ) -> Any:
        ctx.shifts, ctx.dims = shifts, dims
        return array_module(x).roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        shifts, gd = tuple(-s for s in ctx.shifts), g._data
        if not _state.grad_enabled and type(gd) is np.ndarray and gd.flags.c_contiguous:
            return Tensor._make(forward_arrays(Roll, gd, shifts=shifts, dims=ctx.dims))  # (no node)
        return Roll.apply(g, shifts=shifts, dims=ctx.dims)


class Tril(Function):
    """The lower triangle of the last two dims: elements above diagonal ``diagonal`` become 0
    (``diagonal > 0`` keeps diagonals above the main one, ``< 0`` drops the main one too).
    VJP: ``dx = tril(g, diagonal)``."""
    contiguous = True

    @staticmethod
    def forward(ctx: Context, x: Any, diagonal: int = 0) -> Any:
        ctx.diagonal = diagonal
        return array_module(x).tril(x, diagonal)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if _on_arrays(g):
            return Tensor._make(forward_arrays(Tril, g._data, diagonal=ctx.diagonal))
        return Tril.apply(g, diagonal=ctx.diagonal)


class Triu(Function):
    """The upper triangle of the last two dims: elements below diagonal ``diagonal`` become 0.
    VJP: ``dx = triu(g, diagonal)``."""
    contiguous = True

    @staticmethod
    def forward(ctx: Context, x: Any, diagonal: int = 0) -> Any:
        ctx.diagonal = diagonal
        return array_module(x).triu(x, diagonal)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if _on_arrays(g):
            return Tensor._make(forward_arrays(Triu, g._data, diagonal=ctx.diagonal))
        return Triu.apply(g, diagonal=ctx.diagonal)


def _writable_diagonal(a: Any, offset: int, dim1: int, dim2: int) -> Any:
    """``a``'s diagonal as a view that can be written through when ``a`` can: numpy hands out
    diagonals read-only (a caution from 2013); PyTorch's, like CuPy's, are writable views."""
    xp = array_module(a)
    d = xp.diagonal(a, offset, dim1, dim2)
    if xp is np and a.flags.writeable:
        d.flags.writeable = True
    return d


class Diagonal(Function):
    """The diagonal ``offset`` of dims ``dim1`` and ``dim2`` (``> 0``: above the main one), as a
    view whose last dim runs along it; the two dims are dropped (``torch.diagonal``).
    VJP: zeros of the input's shape with ``g`` on that diagonal,
    ``dx = diag_embed(g, offset, dim1, dim2, shape=x.shape)``."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
        ctx.in_shape, ctx.offset, ctx.dim1, ctx.dim2 = x.shape, offset, dim1, dim2
        return _writable_diagonal(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if _on_arrays(g):
            return Tensor._make(forward_arrays(DiagEmbed, g._data, offset=ctx.offset, dim1=ctx.dim1,
                                               dim2=ctx.dim2, shape=ctx.in_shape))
        return DiagEmbed.apply(g, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2,
                               shape=ctx.in_shape)


class DiagEmbed(Function):
    """Zeros of ``shape`` with the last dim of ``x`` written on the diagonal ``offset`` of dims
    ``dim1`` and ``dim2`` of the result (``torch.diag_embed``; with a ``shape`` whose two dims
    differ, PyTorch's ``diagonal_backward``). ``dim1``, ``dim2`` are non-negative dims of the result.
    VJP: ``dx = diagonal(g, offset, dim1, dim2)``."""

    @staticmethod
    def forward(ctx: Context, x: Any, offset: int = 0, dim1: int = 0, dim2: int = 1,
                shape: tuple[int, ...] = ()) -> Any:
        ctx.offset, ctx.dim1, ctx.dim2 = offset, dim1, dim2
        out = array_module(x).zeros(shape, dtype=x.dtype)
        _writable_diagonal(out, offset, dim1, dim2)[...] = x
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if _on_arrays(g):
            return Tensor._make(forward_arrays(Diagonal, g._data, offset=ctx.offset, dim1=ctx.dim1,
                                               dim2=ctx.dim2))
        return Diagonal.apply(g, offset=ctx.offset, dim1=ctx.dim1, dim2=ctx.dim2)


def _windows(n: int, size: int, step: int) -> int:
    """How many windows of ``size``, ``step`` apart, fit in a dim of ``n`` (``n >= size``)."""
    return (n - size) // step + 1


class UnfoldDim(Function):
    """Every window of ``size`` elements along dim ``dim``, ``step`` apart (``Tensor.unfold``): a
    view in which that dim counts the windows, ``(n - size) // step + 1``, and a new last dim of
    ``size`` runs along each window (a 0-d input counts as one element). Where windows overlap
    (``step < size`` and more than one window) an element is shown several times, so the view is
    read-only, as an ``expand`` is.
    VJP: each window's gradient added back where it was read,
    ``dx = unfold_backward(g, dim, size, step, shape=x.shape)``."""

    name = "unfold_dim"
    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int = 0, size: int = 1, step: int = 1) -> Any:
        ctx.in_shape, ctx.dim, ctx.size, ctx.step = x.shape, dim, size, step
        xp = array_module(x)
        if x.ndim == 0:
            shape, strides = (size,), (x.itemsize,)
            windows = 1
        else:
            windows = _windows(x.shape[dim], size, step)
            shape = x.shape[:dim] + (windows,) + x.shape[dim + 1:] + (size,)
            strides = (x.strides[:dim] + (x.strides[dim] * step,) + x.strides[dim + 1:]
                       + (x.strides[dim],))
        as_strided = xp.lib.stride_tricks.as_strided
        if xp is np:  # (CuPy's as_strided has no writeable flag, nor do its arrays)
            return as_strided(x, shape, strides, writeable=not (step < size and windows > 1))
        return as_strided(x, shape, strides)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return UnfoldBackward.apply(g, dim=ctx.dim, size=ctx.size, step=ctx.step,
                                    shape=ctx.in_shape)


class UnfoldBackward(Function):
    """Zeros of ``shape`` with each window of ``g`` (the layout ``unfold(dim, size, step)`` makes
    from a tensor of ``shape``) added back at the ``size`` elements it was read from; overlapping
    windows add up (PyTorch's ``unfold_backward``). One strided slice per offset in the window,
    no loop over the windows.
    VJP: ``dg = unfold(gg, dim, size, step)``."""

    @staticmethod
    def forward(ctx: Context, g: Any, dim: int = 0, size: int = 1, step: int = 1,
                shape: tuple[int, ...] = ()) -> Any:
        ctx.dim, ctx.size, ctx.step = dim, size, step
        xp = array_module(g)
        out = xp.zeros(shape or (1,), dtype=g.dtype)  # (a 0-d input: one element)
        g = g if shape else g.reshape(1, size)
        windows = g.shape[dim]
        lead = (slice(None),) * dim
        for k in range(size):  # offset k of every window: elements k, k + step, k + 2 step, ...
            out[lead + (slice(k, k + step * (windows - 1) + 1, step),)] += g[..., k]
        return out.reshape(shape)

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> Tensor:
        return UnfoldDim.apply(gg, dim=ctx.dim, size=ctx.size, step=ctx.step)


# ------------------------------------------------------------------------------ argument helpers


def _int(v: Any, what: str, where: str) -> int:
    """A Python int from an int or a one-element integer tensor."""
    if isinstance(v, Tensor):
        if v._data.size != 1 or v.dtype.kind not in "iu":
            raise ArgumentTypeError(f"{where}: {what} must be an int or a one-element integer "
                                    f"tensor, got a tensor of dtype {v.dtype} and shape {v.shape}")
        return int(v.item())
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{where}: {what} must be an int, got {v!r}")
    return int(v)


def _int_tuple(v: Any, what: str, where: str) -> tuple[int, ...]:
    items = v if isinstance(v, (tuple, list)) else (v,)
    return tuple(_int(i, what, where) for i in items)


def _distinct_dims(dims: Sequence[Any], ndim: int, where: str) -> tuple[int, ...]:
    """Normalised dims, in the given order, each at most once."""
    norm = tuple(_dim(d, ndim, where) for d in dims)
    for i, d in enumerate(norm):
        if d in norm[:i]:
            raise ArgumentValueError(f"{where}: dim {dims[i]} appears more than once in {tuple(dims)}")
    return norm


def _slice_key(dim: int, index: Any) -> tuple[Any, ...]:
    return (slice(None),) * dim + (index,)


# ------------------------------------------------------------------------------ copies


def flip(input: Tensor, *order: Any, dims: Any = None) -> Tensor:
    """Reverse the order of elements along ``dims`` (ints, or one list of them, or ``dims=``);
    a copy."""
    if dims is not None:
        if order:
            raise TypeError("flip() got multiple values for argument 'dims'")
        order = (dims,)
    dims = order
    if not dims:
        raise TypeError("flip: give the dims to flip (x.flip(0, 1) or x.flip([0, 1]))")
    dims = _shape_arg(dims)
    norm = _distinct_dims(dims, input.ndim, "flip")
    if input.ndim == 0:
        norm = ()
    return Flip.apply(input, dims=tuple(sorted(norm)))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90° ``k`` times in the plane of ``dims``, from the first towards the second; a
    copy. ``flip`` of one dim then a transpose, as in PyTorch."""
    if not isinstance(dims, (list, tuple)):  # (was: 'int' object is not iterable)
        raise TypeError(f"rot90: dims must be a tuple of two ints, got {a_type(dims)}; e.g. "
                        "x.rot90(1, (0, 1))")
    dims = tuple(dims)
    if len(dims) != 2:
        raise ArgumentValueError(f"rot90: dims must name two dims, got {dims}")
    if input.ndim < 2:
        raise ArgumentValueError(f"rot90: needs a tensor with at least 2 dims, got shape {input.shape}")
    d0, d1 = _distinct_dims(dims, input.ndim, "rot90")
    k = _int(k, "k", "rot90") % 4
    if k == 0:  # (a copy in C order, as PyTorch's clone(contiguous_format) there)
        return Clone.apply(input, contiguous=True)
    if k == 2:
        return Flip.apply(input, dims=tuple(sorted((d0, d1))))
    return Rot90.apply(input, k=k, dims=(d0, d1))


def roll(input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
         ) -> Tensor:
    """Shift elements cyclically by ``shifts`` along ``dims`` (one shift per dim); without
    ``dims`` the tensor is rolled as if flattened. A copy."""
    sh = _int_tuple(shifts, "shifts", "roll")
    if dims is None or (isinstance(dims, (list, tuple)) and not dims):  # (dims=(): PyTorch's too)
        if len(sh) != 1:
            raise ArgumentValueError(f"roll: without dims, shifts must be one int, got {shifts}")
        flat = input.reshape(-1)
        return Roll.apply(flat, shifts=sh, dims=(0,)).reshape(input.shape)
    dd = _int_tuple(dims, "dims", "roll")
    if len(sh) != len(dd):
        raise ArgumentValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    if input.ndim == 0:
        raise IndexError(f"roll: a 0-d tensor has no dim {dd[0]}; leave dims=None")
    return Roll.apply(input, shifts=sh, dims=tuple(_dim(d, input.ndim, "roll") for d in dd))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements above diagonal ``diagonal`` of the last two dims; a copy."""
    if input.ndim < 2:
        raise ArgumentValueError(f"tril: needs a tensor with at least 2 dims, got shape {input.shape}")
    return Tril.apply(input, diagonal=_int(diagonal, "diagonal", "tril"))


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements below diagonal ``diagonal`` of the last two dims; a copy."""
    if input.ndim < 2:
        raise ArgumentValueError(f"triu: needs a tensor with at least 2 dims, got shape {input.shape}")
    return Triu.apply(input, diagonal=_int(diagonal, "diagonal", "triu"))


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor with one more dim whose (``dim1``, ``dim2``) planes hold ``input``'s last dim on
    diagonal ``offset``, zeros elsewhere: shape ``(..., n + |offset|, n + |offset|)`` by default."""
    if input.ndim == 0:
        raise ArgumentValueError("diag_embed: needs a tensor with at least 1 dim, got a 0-d tensor")
    offset = _int(offset, "offset", "diag_embed")
    ndim = input.ndim + 1
    d1, d2 = _dim(dim1, ndim, "diag_embed"), _dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise ArgumentValueError(f"diag_embed: dim1 and dim2 name the same dim ({dim1}, {dim2})")
    n = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(ndim))
    return DiagEmbed.apply(input, offset=offset, dim1=d1, dim2=d2, shape=shape)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tile ``input`` ``sizes[i]`` times along dim ``i`` (PyTorch's ``Tensor.repeat``, numpy's
    ``tile``); extra leading sizes add dims. A copy."""
    sizes = tuple(_int(s, "repeats", "repeat") for s in _shape_arg(sizes))
    if len(sizes) < input.ndim:
        raise ArgumentValueError(f"repeat: got {len(sizes)} repeats {sizes} for a tensor of shape "
                                 f"{input.shape}; give at least one per dim")
    if any(s < 0 for s in sizes):
        raise ArgumentValueError(f"repeat: repeats must not be negative, got {sizes}")
    shape = (1,) * (len(sizes) - input.ndim) + input.shape
    # (s0, s1, ...) -> (1, s0, 1, s1, ...) -> copied out to (r0, s0, r1, s1, ...) -> (r0*s0, r1*s1, ...)
    pairs = tuple(v for s in shape for v in (1, s))
    tiled = tuple(v for r, s in zip(sizes, shape) for v in (r, s))
    pairs, tiled = _fewer_dims(pairs, tiled)
    return Repeat.apply(input, view=pairs, tiled=tiled, shape=tuple(r * s for r, s in zip(sizes, shape)))


def _fewer_dims(view: tuple[int, ...], tiled: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """A ``Repeat`` plan of more than numpy's 64 dims (a tensor of 33 to 64 dims: a count put
    before each) with the counts of 1 left out and runs of dims not repeated merged: the same
    copy in C order (t172: numpy's "maximum supported dimension" error)."""
    if len(tiled) <= 64:
        return view, tiled
    v2: list[int] = []
    t2: list[int] = []
    plain = False  # (the last dim kept is one that is not repeated)
    for v, t in zip(view, tiled):
        if v == t == 1:
            continue
        if v == t and plain:
            v2[-1] *= v
            t2[-1] *= t
            continue
        v2.append(v)
        t2.append(t)
        plain = v == t
    if len(t2) > 64:
        raise ArgumentValueError(f"repeat: {sum(1 for v, t in zip(v2, t2) if v != t)} repeated "
                                 f"dims among {len(t2)}: more than numpy's 64 dims; repeat "
                                 "fewer dims at once")
    return (tuple(v2) or (1,)), (tuple(t2) or (1,))


def tile(input: Tensor, *dims: Any, **kwargs: Any) -> Tensor:
    """``repeat`` with ``dims`` padded with leading 1s to ``input``'s number of dims
    (``tile(x, (2, 3))``, ``x.tile(2, 3)`` or PyTorch's keyword, ``x.tile(dims=(2, 3))``)."""
    if kwargs:
        if set(kwargs) != {"dims"} or dims:
            bad = sorted(set(kwargs) - {"dims"})
            raise TypeError(f"tile: unexpected keyword argument {bad[0]!r}" if bad else
                            "tile: give dims once, as arguments or as dims=")
        dims = (kwargs["dims"],)
    if not dims:  # (was: the input itself, silently)
        raise TypeError("tile() missing 1 required positional argument: 'dims' (as in PyTorch)")
    dims = _shape_arg(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + tuple(dims))


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element (each slice along ``dim``) ``repeats`` times in place: an int, or a
    tensor with one count per slice. ``dim=None`` flattens first. A copy. With only a 1-D tensor of
    counts, ``repeat_interleave(counts)`` gives ``0`` ``counts[0]`` times, ``1`` ``counts[1]``
    times, ... (no gradient)."""
    from tinygrad_cnn.ops.indexing import index_select

    if repeats is None:  # repeat_interleave(counts)
        counts = _counts(input, None)
        _check_output_size(output_size, int(counts.sum()))
        xp = array_module(input._data)
        # (indices of the counts' dtype: int32 counts give int32, as in PyTorch)
        return Tensor._make(xp.repeat(xp.arange(counts.size, dtype=input.dtype), counts))
    if dim is None:
        input, d = input.reshape(-1), 0
    elif input.ndim == 0:
        raise IndexError(f"repeat_interleave: a 0-d tensor has no dim {dim}; leave dim=None")
    else:
        d = _dim(dim, input.ndim, "repeat_interleave")
    n = input.shape[d]
    if isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool):
        r = int(repeats)
        if r < 0:
            raise ArgumentValueError(f"repeat_interleave: repeats must not be negative, got {r}")
        _check_output_size(output_size, n * r)
        # (..., n, ...) -> (..., n, 1, ...) -> copied out to (..., n, r, ...) -> (..., n*r, ...)
        shape = input.shape
        view, tiled = _fewer_dims(shape[:d + 1] + (1,) + shape[d + 1:],
                                  shape[:d + 1] + (r,) + shape[d + 1:])
        return Repeat.apply(input, view=view, tiled=tiled, shape=shape[:d] + (n * r,) + shape[d + 1:])
    counts = like(_counts(repeats, n), input._data)
    _check_output_size(output_size, int(counts.sum()))
    xp = array_module(input._data)
    return index_select(input, d, Tensor._make(xp.repeat(xp.arange(n), counts)))


def _counts(repeats: Any, n: int | None) -> Any:
    """The repeat counts as an integer array of ``n`` entries (one count is spread to ``n``)."""
    counts = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if counts.dtype not in (np.int32, np.int64) or counts.ndim > 1:  # (PyTorch's two dtypes:
        # the indices of repeat_interleave(counts) have the counts' dtype; uint8 would wrap)
        raise TypeError(f"repeat_interleave: repeats must be an int or a 1-D int64 or int32 "
                        f"tensor, got {counts.dtype} of shape {tuple(counts.shape)}")
    if counts.size and int(counts.min()) < 0:
        raise ArgumentValueError("repeat_interleave: repeats must not be negative")
    counts = counts.reshape(-1)
    if n is not None and counts.size == 1:
        counts = array_module(counts).full(n, int(counts[0]))
    elif n is not None and counts.size != n:
        raise ArgumentValueError(f"repeat_interleave: got {counts.size} repeats for a dim of size {n}; "
                                 "give one per slice, or one for all")
    return counts


def _check_output_size(output_size: int | None, size: int) -> None:
    if output_size is not None and output_size != size:
        raise ArgumentValueError(f"repeat_interleave: output_size={output_size}, but the repeats make {size}")


# ------------------------------------------------------------------------------ views


def select(input: Tensor, dim: int, index: int) -> Tensor:
    """The slice at ``index`` along ``dim``, that dim removed (``input[:, index]`` for dim 1); a
    view."""
    if input.ndim == 0:
        raise IndexError("select: cannot select from a 0-d tensor")
    d = _dim(dim, input.ndim, "select")
    i, n = _int(index, "index", "select"), input.shape[d]
    if not -n <= i < n:
        raise IndexError(f"select: index {i} is out of range for dim {d} of size {n} (tensor shape "
                         f"{input.shape})")
    return GetItem.apply(input, key=_slice_key(d, i % n))


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """``length`` slices from ``start`` along ``dim`` (a negative start counts from the end); a
    view."""
    if input.ndim == 0:
        raise ArgumentIndexError("narrow: cannot narrow a 0-d tensor (as PyTorch: a RuntimeError)")
    d = _dim(dim, input.ndim, "narrow")
    n = input.shape[d]
    s, length = _int(start, "start", "narrow"), _int(length, "length", "narrow")
    if not -n <= s <= n:
        raise IndexError(f"narrow: start {s} is out of range for dim {d} of size {n} (allowed: "
                         f"{-n} to {n})")
    if length < 0:
        raise ArgumentValueError(f"narrow: length must not be negative, got {length}")
    s = s + n if s < 0 else s
    if s + length > n:
        raise ArgumentValueError(f"narrow: start {s} + length {length} is past the end of dim {d} of size "
                                 f"{n}")
    return GetItem.apply(input, key=_slice_key(d, slice(s, s + length)))


def split(tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
          ) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last one smaller), or pieces of the sizes in a
    list (which must add up to the dim's size); views."""
    if tensor.ndim == 0:
        raise ArgumentIndexError("split: expects at least a 1-dimensional tensor, got a 0-d one")
    d = _dim(dim, tensor.ndim, "split")
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = _int_tuple(split_size_or_sections, "split sizes", "split")
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ArgumentValueError(f"split: sizes {sizes} must be non-negative and add up to {n}, the "
                                     f"size of dim {d} (tensor shape {tensor.shape})")
    else:
        size = _int(split_size_or_sections, "split_size", "split")
        if size < 0 or (size == 0 and n):
            raise ArgumentValueError(f"split: split_size must be positive, got {size} (0 only for an "
                                     "empty dim)")
        sizes = tuple(min(size, n - s) for s in range(0, n, size)) if n else (0,)
    pieces, s = [], 0
    token = object()  # (the pieces do not overlap: their VJPs write into one gradient)
    for k in sizes:  # (a running start: np.cumsum of a tuple cost 3 us, a third of a piece)
        pieces.append(GetItem.apply(tensor, key=_slice_key(d, slice(s, s + k)), piece=token))
        s += k
    return tuple(pieces)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` pieces of ``ceil(n / chunks)`` along ``dim`` (fewer when they run out,
    as in PyTorch); views."""
    chunks = _int(chunks, "chunks", "chunk")
    if chunks <= 0:
        raise ArgumentValueError(f"chunk: chunks must be positive, got {chunks}")
    if input.ndim == 0:
        raise ArgumentIndexError("chunk: expects at least a 1-dimensional tensor, got a 0-d one")
    d = _dim(dim, input.ndim, "chunk")
    n = input.shape[d]
    if n == 0:
        return split(input, [0] * chunks, d)
    return split(input, math.ceil(n / chunks), d)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """PyTorch's ``tensor_split``: ``n`` pieces as equal as can be (the first ``size % n`` one
    longer), or the pieces between the given indices (clamped to the dim, as slices are); an int
    tensor counts as its value(s). Views."""
    where = "tensor_split"
    if input.ndim == 0:
        raise RuntimeError("tensor_split: expected at least a 1-dimensional tensor, got a 0-d one")
    d = _dim(dim, input.ndim, where)
    n = input.shape[d]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg.dtype.kind not in "iu" or arg.ndim > 1:
            raise RuntimeError(f"{where}: a tensor of indices_or_sections must be a 0-d or 1-d "
                               f"integer tensor, got shape {arg.shape} and dtype {arg.dtype}")
        arg = arg.item() if arg.ndim == 0 else [int(v) for v in arg.tolist()]
    if isinstance(arg, (list, tuple)):
        cuts = [_int(c, "indices", where) for c in arg]
        bounds = [min(max(c + n if c < 0 else c, 0), n) for c in cuts]
        edges = list(zip([0, *bounds], [*bounds, n]))
    else:
        sections = _int(arg, "sections", where)
        if sections <= 0:
            raise RuntimeError(f"{where}: number of sections must be larger than 0, got "
                               f"{sections}")
        small, extra = divmod(n, sections)
        sizes = [small + 1] * extra + [small] * (sections - extra)
        starts = np.cumsum([0] + sizes[:-1]).tolist()
        edges = [(s, s + k) for s, k in zip(starts, sizes)]
    return tuple(GetItem.apply(input, key=_slice_key(d, slice(a, max(a, b)))) for a, b in edges)


def _split_along(where: str, input: Tensor, indices_or_sections: Any, dim: int,
                 min_ndim: int) -> tuple[Tensor, ...]:
    """``hsplit``/``vsplit``/``dsplit``: ``tensor_split`` along ``dim``, with an int that must
    divide the dim evenly (PyTorch's rule for these three)."""
    if input.ndim < min_ndim:
        raise RuntimeError(f"{where} requires a tensor with at least {min_ndim} dimension, but "
                           f"got a tensor with {input.ndim} dimensions!")  # (PyTorch's words)
    arg = indices_or_sections
    if not isinstance(arg, (list, tuple, Tensor)):
        sections = _int(arg, "sections", where)
        if sections <= 0 or input.shape[dim] % sections:
            raise RuntimeError(f"{where} attempted to split along dimension {dim}, but the size "
                               f"of the dimension {input.shape[dim]} is not divisible by the "
                               f"split_size {sections}!")
    return tensor_split(input, arg, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """Split along dim 1 (dim 0 of a 1-D tensor): PyTorch's ``hsplit``. Views."""
    return _split_along("hsplit", input, indices_or_sections, 1 if input.ndim > 1 else 0, 1)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """Split along dim 0 of a tensor of 2 or more dims: PyTorch's ``vsplit``. Views."""
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """Split along dim 2 of a tensor of 3 or more dims: PyTorch's ``dsplit``. Views."""
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None
         ) -> Tensor:
    """The ``n``-th forward difference ``x[i+1] - x[i]`` along ``dim``, after ``prepend`` and
    ``append`` are joined on (PyTorch's ``diff``; bool tensors give ``!=``)."""
    where = "diff"
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    n = _int(n, "n", where)
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = _dim(dim, input.ndim, where)
    before = [] if prepend is None else [_like_input(prepend, input)]
    after = [] if append is None else [_like_input(append, input)]
    for p in before + after:
        if p.ndim != input.ndim:
            raise RuntimeError(f"diff expects prepend or append to be the same dimension as input "
                               f"(got {p.ndim} and {input.ndim})")
    if n == 0:  # nothing to difference: a copy of the input, prepend and append unused (PyTorch)
        return input.clone()
    try:
        x = cat([*before, input, *after], d) if before or after else input
    except ValueError as exc:
        raise ArgumentValueError(f"diff: prepend and append must match the input's shape {input.shape} "
                                 f"in every dim but {d} ({exc})") from None
    for _ in range(n):
        size = x.shape[d]
        if size == 0:
            break
        hi, lo = narrow(x, d, 1, size - 1), narrow(x, d, 0, size - 1)
        x = hi != lo if x.dtype == np.bool_ else hi - lo
    return x


def _like_input(v: Any, input: Tensor) -> Tensor:
    return v if isinstance(v, Tensor) else Tensor._make(like(np.asarray(v), input._data))


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Every slice along ``dim``, that dim removed; views."""
    if input.ndim == 0:
        raise IndexError("unbind: cannot unbind a 0-d tensor")
    d = _dim(dim, input.ndim, "unbind")
    token = object()  # (the pieces do not overlap: their VJPs write into one gradient)
    apply = GetItem.apply
    return tuple([apply(input, key=_slice_key(d, i), piece=token)  # (a list comprehension:
                  for i in range(input.shape[d])])                  # quicker than a generator)


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]
            ) -> Tensor:
    """Move dims ``source`` to positions ``destination`` (the others keep their order); a view."""
    n = input.ndim
    if type(source) is int and type(destination) is int and n and -n <= source < n and \
            -n <= destination < n:  # (one dim, the everyday form: the checks below all pass)
        s, t = source % n, destination % n
        perm = [d for d in range(n) if d != s]
        perm.insert(t, s)
        return Permute.apply(input, dims=tuple(perm))
    src, dst = _int_tuple(source, "source", "movedim"), _int_tuple(destination, "destination",
                                                                     "movedim")
    if len(src) != len(dst):
        raise ArgumentValueError(f"movedim: source {source} and destination {destination} must name as "
                                 "many dims")
    src = _distinct_dims(src, input.ndim, "movedim")
    dst = _distinct_dims(dst, input.ndim, "movedim")
    if input.ndim == 0:
        return input._same_view()  # (a new view, as PyTorch's: not the input itself)
    order: list[int | None] = [None] * input.ndim
    for s, t in zip(src, dst):
        order[t] = s
    rest = iter(d for d in range(input.ndim) if d not in src)
    return Permute.apply(input, dims=tuple(next(rest) if o is None else o for o in order))


def swapaxes(input: Tensor, axis0: int, axis1: int, _where: str = "swapaxes") -> Tensor:
    """Swap two dims (``transpose``); a view."""
    for a in (axis0, axis1):  # (PyTorch allows dims 0 and -1 of a 0-d tensor here)
        _dim(a, input.ndim, _where)
    return input._same_view() if input.ndim == 0 else input.transpose(axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """``swapaxes``."""
    return swapaxes(input, dim0, dim1, "swapdims")


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor: a view of a contiguous tensor, else a contiguous copy."""
    return input.contiguous().reshape(-1)


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    """``expand`` to ``size`` (``-1`` keeps a dim); a read-only view. (PyTorch's keyword is
    ``size``, though its documentation says ``shape``.)"""
    if isinstance(size, (int, np.integer)):  # (PyTorch's: one int is a 1-D size)
        size = (size,)
    try:
        return input.expand(tuple(size))
    except ValueError as exc:
        raise ArgumentValueError(f"broadcast_to: {exc}".replace("expand: ", "")) from None


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape; read-only views."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"broadcast_tensors: item {i} is {a_type(t)}, not a Tensor")
    try:
        shape = _bshapes(*(t.shape for t in tensors))
    except ValueError:
        raise ArgumentValueError(f"broadcast_tensors: shapes {[t.shape for t in tensors]} cannot be "
                                 "broadcast together (sizes must be equal or 1 in each dim, counted from "
                                 "the right)") from None
    return tuple(t.expand(shape) for t in tensors)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` of the (``dim1``, ``dim2``) planes as the last dim (those two dims
    dropped); a writable view."""
    if input.ndim < 2:
        raise IndexError(f"diagonal: needs a tensor with at least 2 dims (dims out of range), got shape "
                         f"{input.shape}")
    d1, d2 = _dim(dim1, input.ndim, "diagonal"), _dim(dim2, input.ndim, "diagonal")
    if d1 == d2:
        raise ArgumentValueError(f"diagonal: dim1 and dim2 name the same dim ({dim1}, {dim2})")
    return Diagonal.apply(input, offset=_int(offset, "offset", "diagonal"), dim1=d1, dim2=d2)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a view
    (``Tensor.unfold``, not ``F.unfold``): that dim becomes the number of windows
    ``(n - size) // step + 1`` and a last dim of ``size`` is appended. Overlapping windows
    (``step < size``) make a read-only view; others can be written through."""
    d = _dim(dimension, input.ndim, "unfold")
    size, step = _int(size, "size", "unfold"), _int(step, "step", "unfold")
    n = input.shape[d] if input.ndim else 1
    if size < 0:
        raise ArgumentValueError(f"unfold: size must not be negative, got {size}")
    if step <= 0:
        raise ArgumentValueError(f"unfold: step must be positive, got {step}")
    if size > n:
        raise ArgumentValueError(f"unfold: size {size} is larger than dim {d} of size {n} (tensor shape "
                                 f"{input.shape}); a window must fit in the dim: size <= {n}")
    return UnfoldDim.apply(input, dim=d, size=size, step=step)


# ------------------------------------------------------------------------------ the rest


def trace(input: Tensor) -> Tensor:
    """The sum of a matrix's main diagonal (integers sum to int64, as in PyTorch)."""
    if input.ndim != 2:
        raise ArgumentValueError(f"trace: needs a matrix, got a tensor of shape {input.shape}")
    if input.dtype.kind == "b":
        raise TypeError("trace: not defined for bool tensors; convert with .to(int64) first")
    diag = Diagonal.apply(input, offset=0, dim1=0, dim2=1)
    return (diag.to(np.int64) if input.dtype.kind in "iu" else diag).sum()


def atleast_1d(*tensors: Tensor) -> Any:
    """Each tensor with at least 1 dim (a 0-d one becomes shape ``(1,)``)."""
    return _atleast(tensors, lambda t: t.reshape(1) if t.ndim == 0 else t)


def atleast_2d(*tensors: Tensor) -> Any:
    """Each tensor with at least 2 dims: ``()`` -> ``(1, 1)``, ``(n,)`` -> ``(1, n)``."""
    return _atleast(tensors, lambda t: t.reshape((1,) * (2 - t.ndim) + t.shape) if t.ndim < 2
                    else t)


def atleast_3d(*tensors: Tensor) -> Any:
    """Each tensor with at least 3 dims: ``()`` -> ``(1, 1, 1)``, ``(n,)`` -> ``(1, n, 1)``,
    ``(m, n)`` -> ``(m, n, 1)``."""
    def lift(t: Tensor) -> Tensor:
        if t.ndim >= 3:
            return t
        return t.reshape({0: (1, 1, 1), 1: (1,) + t.shape + (1,), 2: t.shape + (1,)}[t.ndim])

    return _atleast(tensors, lift)


def _atleast(tensors: tuple[Any, ...], lift: Any) -> Any:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(lift(t) for t in tensors[0])
    out = tuple(lift(t) for t in tensors)
    return out[0] if len(out) == 1 else out


def _stack_list(tensors: Sequence[Tensor], where: str) -> list[Tensor]:
    tensors = tensor_sequence(tensors, where)
    if not tensors:
        raise ArgumentValueError(f"{where}: needs at least one tensor")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: item {i} is {a_type(t)}, not a Tensor")
    return tensors


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1 (dim 0 for 1-D tensors; 0-d ones count as 1-D)."""
    ts = [atleast_1d(t) for t in _stack_list(tensors, "hstack")]
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 0, after ``atleast_2d`` (1-D tensors become rows)."""
    return cat([atleast_2d(t) for t in _stack_list(tensors, "vstack")], 0)


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 2, after ``atleast_3d``; matrices of one shape are stacked along
    a new dim 2 in one op (what their ``atleast_3d`` and ``cat`` make, without two nodes each)."""
    ts = _stack_list(tensors, "dstack")
    first = ts[0]
    if first.ndim == 2 and all(t.ndim == 2 and t.shape == first.shape for t in ts):
        from tinygrad_cnn.tensor import result_type, stack

        dt = result_type(*ts)  # (cat's promotion)
        return stack([t if t.dtype == dt else t.to(dt) for t in ts], 2)
    return cat([atleast_3d(t) for t in ts], 2)


# ------------------------------------------------------------------------------ grids and blocks


def _one_dtype_list(tensors: Sequence[Tensor], where: str) -> None:
    if len({t.dtype for t in tensors}) > 1:
        raise TypeError(f"{where}: expects all tensors to have the same dtype, got "
                        f"{', '.join(str(t.dtype) for t in tensors)}; convert with .to()")


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids of 0-d or 1-D tensors of one dtype: ``N`` tensors of shape ``(n_1, ...,
    n_N)`` (``indexing="ij"``), or with the first two dims swapped (``"xy"``, numpy's default).
    ``indexing`` omitted is ``"ij"`` with PyTorch's warning that it will be required. Read-only
    views (``expand``)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = _stack_list(tensors, "meshgrid")
    if indexing is None:
        import warnings

        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the indexing "
                      "argument (as in PyTorch); 'ij' is used", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ArgumentValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for i, t in enumerate(ts):
        if t.ndim > 1:
            raise ArgumentValueError(f"meshgrid: expected 0-D or 1-D tensors, item {i} has shape {t.shape}"
                                     "; flatten it first")
    _one_dtype_list(ts, "meshgrid")
    sizes = [t.numel() for t in ts]
    where = list(range(len(ts)))
    if indexing == "xy" and len(ts) >= 2:
        where[0], where[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for t, d in zip(ts, where):
        shape = [1] * len(ts)
        shape[d] = t.numel()
        out.append(t.reshape(shape).expand(tuple(sizes)))
    return tuple(out)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Join as columns: 0-d and 1-D tensors become columns ``(n, 1)``, the others join along
    dim 1 as they are (``hstack``)."""
    ts = _stack_list(tensors, "column_stack")
    return hstack([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in ts])


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element from each 1-D tensor, as rows ``(prod n_i, N)`` in
    ``itertools.product``'s order; one tensor is returned as it is."""
    ts = _stack_list(tensors, "cartesian_prod")
    for i, t in enumerate(ts):
        if t.ndim != 1:
            raise ArgumentValueError(f"cartesian_prod: expected 1-D tensors, item {i} has shape {t.shape}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return cat([g.reshape(-1, 1) for g in grids], 1)


def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix of the tensors (0-d ones as ``(1, 1)``, 1-D ones as rows), zeros
    elsewhere, in their promoted dtype; no tensors give shape ``(1, 0)``, as PyTorch's."""
    from tinygrad_cnn.tensor import result_type, zeros

    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"block_diag: item {i} is {a_type(t)}, not a Tensor")
        if t.ndim > 2:
            raise ArgumentValueError(f"block_diag: expected tensors of at most 2 dims, item {i} has shape "
                                     f"{t.shape}")
    if not tensors:
        return zeros(1, 0)
    blocks = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    dtype = result_type(*blocks)
    device = blocks[0].device
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        r, c = b.shape
        parts = [zeros(r, left, dtype=dtype, device=device), b.to(dtype),
                 zeros(r, width - left - c, dtype=dtype, device=device)]
        rows.append(cat(parts, 1))
        left += c
    return cat(rows, 0)
