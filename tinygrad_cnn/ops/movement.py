"""Movement ops: reshape, permute, expand, getitem (and its scatter), pad (constant, reflect,
replicate, circular; and its fold, pad_backward), cat, stack, gather (and its scatter_add),
embedding, clone, to_device.

They move values without arithmetic, so each VJP moves the gradient back: reshape to the old
shape, the inverse permutation, a sum over expanded dims, a scatter into zeros. The scatters' own
VJPs gather again, which closes the family under differentiation.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import (
    Context,
    Function,
    _c_like,
    _state,
    empty_in_order,
    first_order,
    torch_order,
)
from tinygrad_cnn.backend import ArgumentValueError, add_at, array_module, like, to_device
from tinygrad_cnn.ops.reduce import float_sum
from tinygrad_cnn.tensor import Tensor


class Reshape(Function):
    """The same elements in another shape (a view where numpy can make one). VJP: ``g`` reshaped
    back to the input's shape."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...] = ()) -> Any:
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if not _state.grad_enabled and type(g._data) is np.ndarray:  # first order: no node
            return Tensor._make(g._data.reshape(ctx.in_shape))
        return Reshape.apply(g, shape=ctx.in_shape)


class Permute(Function):
    """The dims reordered (a view). VJP: ``g`` permuted by the inverse order."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, dims: tuple[int, ...] = ()) -> Any:
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        inverse = tuple(int(i) for i in np.argsort(ctx.dims))
        if not _state.grad_enabled and type(g._data) is np.ndarray:  # first order: no node
            return Tensor._make(g._data.transpose(inverse))
        return Permute.apply(g, dims=inverse)


class Expand(Function):
    """Broadcast to ``shape`` without copying (a read-only view); the VJP sums back."""

    is_view = True

    @staticmethod
    def forward(ctx: Context, x: Any, shape: tuple[int, ...] = ()) -> Any:
        ctx.in_shape = x.shape
        lead = len(shape) - x.ndim
        if tuple(shape[lead:]) == tuple(x.shape) and all(s == 1 for s in shape[:lead]):
            # nothing repeated (new leading dims of size 1 at most): a writable view, which an
            # in-place op may change, as PyTorch allows (an outside tester's random programs)
            return x[(None,) * lead]
        if type(x) is np.ndarray and x.flags.c_contiguous and x.size:
            # (the read-only view broadcast_to makes, built directly: its Python layer and
            # nditer were a third of a small broadcasting op's forward)
            out = np.ndarray(shape, x.dtype, x, 0, (0,) * lead + tuple(
                0 if n == 1 else st for n, st in zip(x.shape, x.strides)))
            out.flags.writeable = False
            return out
        return array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return summed_to(g, ctx.in_shape)


def summed_to(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``g`` summed over the dims along which ``shape`` was broadcast to ``g``'s shape (new
    leading dims, and size-1 dims that ``g`` repeats), reshaped to ``shape``: expand's VJP, and
    that of the binary ops that broadcast their operands themselves (``own_broadcast``)."""
    gs = g._data.shape
    if gs == shape:
        return g
    lead = len(gs) - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gs[lead + i] != 1)
    if dims and first_order(g):  # (the same sum on the array: no nodes)
        return Tensor._make(float_sum(g._data, dims, True).reshape(shape))
    return g.sum(dims, keepdim=True).reshape(shape) if dims else g.reshape(shape)


def _is_basic(key: tuple[Any, ...]) -> bool:
    """Basic indexing (ints, slices, None, ...) selects each element at most once."""
    for k in key:  # (a loop, not all() of a generator: a third of the time, per piece of unbind)
        if k is not None and k is not Ellipsis and not isinstance(k, _BASIC_KEYS):
            return False
    return True


_BASIC_KEYS = (int, np.integer, slice)


class GetItem(Function):
    """``x[key]``: basic indexing (a view) or integer-array indexing (a copy). VJP: zeros of
    ``x``'s shape with ``g`` added at ``key`` (repeated integer indices add up)."""

    name = "getitem"
    is_view = True
    pieces = True  # ``piece``: a token shared by the pieces of one split (see autograd._add_piece)

    @staticmethod
    def forward(ctx: Context, x: Any, key: tuple[Any, ...] = (), wide_grad: bool = False,
                unique: bool = False, piece: Any = None) -> Any:
        # ``wide_grad``: repeated indices add their float16 gradients in float32, rounded once
        # (PyTorch's index_select and masked_select; its x[idx] adds in float16); ``unique``:
        # the index arrays pick no element twice (masked_select), so the VJP writes ``g`` (a
        # -0.0 stays, as in PyTorch's masked_scatter VJP) where otherwise it adds it onto zeros.
        # (Both read back from the node's attrs in the VJP: no store here, the hot path)
        ctx.in_shape, ctx.key = x.shape, key
        if not _is_basic(key):
            ctx.copied = True  # (an index array: a copy, also when empty)
        try:
            out = x[key]
        except IndexError as exc:
            raise IndexError(f"getitem: {exc} (tensor shape {tuple(x.shape)})") from None
        if not hasattr(out, "shape") or (out.ndim == 0 and _is_basic(key)):
            # an integer for every dim: numpy gives a scalar, PyTorch a 0-d view of the element
            out = x[key if any(k is Ellipsis for k in key) else (*key, Ellipsis)]
            if not hasattr(out, "shape"):  # (a key that holds its own `...` still gave a scalar)
                out = x[(*key, None)].reshape(())
        elif not out.flags.c_contiguous and not array_module(out).may_share_memory(out, x):
            out = out.copy()  # an index-array copy is contiguous in PyTorch (reshape views it)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        attrs = ctx.attrs
        flags = {"wide": True} if attrs.get("wide_grad") else {}
        if attrs.get("unique"):
            flags["unique"] = True
        if not _state.grad_enabled:  # first order: the same scatter on the arrays, no node
            return Tensor._make(_scattered(g._data, ctx.key, ctx.in_shape, **flags))
        return GetItemBackward.apply(g, key=ctx.key, shape=ctx.in_shape, **flags)


def _scattered(g: Any, key: tuple[Any, ...], shape: tuple[int, ...], wide: bool = False,
               signed_zero: bool = False, unique: bool = False) -> Any:
    """Zeros of ``shape`` with ``g`` added at ``key`` (repeated integer indices add up; with
    ``wide``, float16 in float32, rounded once; with ``signed_zero``, the zeros are -0.0; with
    ``unique``, no element is picked twice and ``g`` is written there)."""
    if wide and g.dtype == np.float16 and not _is_basic(key) and not unique:
        return _scattered(g.astype(np.float32), key, shape, signed_zero=signed_zero
                          ).astype(np.float16)
    out = _zeros(array_module(g), shape, g.dtype, signed_zero)
    if _is_basic(key) or unique:
        out[key] = g
    else:
        add_at(out, key, g)
    return out


def _zeros(xp: Any, shape: Any, dtype: Any, signed_zero: bool) -> Any:
    """Zeros, or -0.0s with ``signed_zero``: the exact identity of addition (``x + -0.0`` is
    ``x``, -0.0 included), for sums that are then added to a tensor (``index_add``: where
    nothing or only -0.0 is added, a -0.0 stays, as in PyTorch's in-place adds)."""
    if signed_zero and np.dtype(dtype).kind == "f":
        return xp.full(shape, -0.0, dtype=dtype)
    return xp.zeros(shape, dtype=dtype)


class GetItemBackward(Function):
    """The VJP of ``getitem``: zeros of the input's shape with ``g`` added at ``key`` (repeated
    integer indices add up; ``signed_zero``: -0.0s, see :func:`_zeros`). Its own VJP is
    ``getitem`` again."""

    name = "getitem_backward"

    @staticmethod
    def forward(ctx: Context, g: Any, key: tuple[Any, ...] = (), shape: tuple[int, ...] = (),
                wide: bool = False, signed_zero: bool = False, unique: bool = False) -> Any:
        ctx.key = key
        return _scattered(g, key, shape, wide, signed_zero, unique)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return GetItem.apply(g, key=ctx.key)


def pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    """Which input position each of the ``before + n + after`` padded positions copies:
    ``"reflect"`` mirrors about the edge elements (``2 1 | 0 1 2 3 | 2 1``), ``"replicate"``
    repeats them (``0 0 | 0 1 2 3 | 3 3``), ``"circular"`` wraps around (``2 3 | 0 1 2 3 | 0 1``).

    A negative ``before``/``after`` removes elements, as PyTorch 2.13 does: reflect and replicate
    pad as if the negative side were 0 and then cut (position ``i`` copies the one that
    ``i - before`` mirrors or clamps to: ``(-1, 2)`` of ``0 1 2 3`` is ``1 2 3 | 2 1``);
    circular cuts first and wraps around what is left (``(-1, 2)`` is ``1 2 3 | 1 2``). The
    callers check that every index is in range (``F.pad``)."""
    j = np.arange(-before, n + after)
    if mode == "reflect":
        j = np.abs(j)
        return np.where(j >= n, 2 * (n - 1) - j, j)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    # circular: the kept span [lo, lo + m) of the input, wrapped around
    lo = max(-before, 0)
    m = n - lo - max(-after, 0)
    return lo + (j - lo) % m if m > 0 else j[:0]


class Pad(Function):
    """Padding; ``pad`` holds a ``(before, after)`` pair per dimension, a negative one removing
    that many elements from its end. ``mode="constant"``: ``y[i] = x[i - before]`` where that is
    inside ``x``, else ``value`` (VJP: the slice of the gradient over the input, or, with negative
    pads, ``g`` padded by the negated pairs with zeros: ``gx[j] = g[j + before]`` where that is
    inside ``g``, else 0); ``"reflect"``, ``"replicate"`` and ``"circular"`` copy input elements
    (``pad_index``), so the VJP (``pad_backward``) adds the gradient of every copy back onto the
    element it came from (and 0 onto the elements cut off)."""

    @staticmethod
    def forward(ctx: Context, x: Any, pad: tuple[tuple[int, int], ...] = (),
                value: float = 0.0, mode: str = "constant") -> Any:
        out = Pad._padded(ctx, x, pad, value, mode)
        # PyTorch's layout: channels-last for a channels-last 4-d input (but circular: C
        # order), C order otherwise (numpy's pad keeps a transposed input's order: view()
        # then failed where it works)
        if x.ndim == 4 and mode != "circular" and _channels_last(x):
            return _as_channels_last(out)
        if x.ndim == 5 and mode != "circular" and not x.flags.c_contiguous:  # (a volume: the same)
            from tinygrad_cnn import layout

            if layout.holds(x, "channels_last_3d"):
                return out if layout.holds(out, "channels_last_3d") and not out.flags.c_contiguous \
                    else layout.arrange(out, "channels_last_3d")
        return out if out.flags.c_contiguous else array_module(out).ascontiguousarray(out)

    @staticmethod
    def _padded(ctx: Context, x: Any, pad: tuple[tuple[int, int], ...], value: float,
                mode: str) -> Any:
        xp = array_module(x)
        ctx.in_shape = x.shape
        # PyTorch's reflect and replicate VJPs take the input (see Function.vjp_reads_input)
        ctx.reads_input = mode in ("reflect", "replicate")
        if mode == "constant":
            if min((min(p) for p in pad), default=0) < 0:  # cut first, then pad the rest
                ctx.key = None
                x = x[tuple(slice(max(-b, 0), s - max(-a, 0)) for (b, a), s in zip(pad, x.shape))]
                return _constant_pad(xp, x, tuple((max(b, 0), max(a, 0)) for b, a in pad), value)
            ctx.key = tuple(slice(b, b + s) for (b, _), s in zip(pad, x.shape))
            return _constant_pad(xp, x, pad, value)
        out = x
        for axis, (b, a) in enumerate(pad):
            if b or a:  # (..., n, ...) -> (..., b + n + a, ...)
                out = xp.take(out, like(pad_index(x.shape[axis], b, a, mode), x), axis=axis)
        return out.copy() if out is x else out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if ctx.attrs.get("mode", "constant") == "constant":
            if ctx.key is None:  # negative pads: the inverse pad, zeros where the input was cut
                return Pad.apply(g, pad=tuple((-b, -a) for b, a in ctx.attrs["pad"]),
                                 value=0.0)
            if not _state.grad_enabled:  # (first order: the slice of the array, no node)
                return Tensor._make(g._data[ctx.key])
            return GetItem.apply(g, key=ctx.key)
        return PadBackward.apply(g, pad=ctx.attrs["pad"], mode=ctx.attrs["mode"],
                                 in_shape=ctx.in_shape)


def _constant_pad(xp: Any, x: Any, pad: tuple[tuple[int, int], ...], value: float) -> Any:
    """``x`` padded by ``pad`` (non-negative ``(before, after)`` pairs) with ``value``, in C order:
    ``np.pad``'s constant mode without its Python layer (35 of a 16×16 pad's 75 µs), which
    copies ``x`` into place and fills the border slabs one axis after the other, as this does."""
    shape = tuple(b + s + a for (b, a), s in zip(pad, x.shape))
    out = xp.empty(shape, dtype=x.dtype)
    out[tuple(slice(b, b + s) for (b, _), s in zip(pad, x.shape))] = x
    lead: tuple[slice, ...] = ()
    for (b, a), s in zip(pad, x.shape):
        if b:
            out[lead + (slice(0, b),)] = value
        if a:
            out[lead + (slice(b + s, None),)] = value
        lead += (slice(None),)
    return out


class PadBackward(Function):
    """The VJP of a reflect/replicate/circular pad: per padded axis, the gradient of the input's
    own span plus that of each padded copy added onto the element it copies,
    ``gx[j] = sum of g[i] over the i with pad_index[i] = j`` (0 for an element a negative pad cut
    off). Its VJP is pad."""

    name = "pad_backward"

    @staticmethod
    def forward(ctx: Context, g: Any, pad: tuple[tuple[int, int], ...] = (), mode: str = "reflect",
                in_shape: tuple[int, ...] = ()) -> Any:
        xp = array_module(g)
        for axis, (b, a) in enumerate(pad):
            if not (b or a):
                continue
            n = in_shape[axis]
            index = pad_index(n, b, a, mode)
            lead = (slice(None),) * axis
            # the output positions that copy "their own" input element (i - b) form one span
            own = np.flatnonzero(index == np.arange(-b, n + a))
            first, stop = (int(own[0]), int(own[-1]) + 1) if own.size else (0, 0)
            if (first, stop) == (b, b + n):
                out = g[lead + (slice(b, b + n),)].copy()  # (..., n, ...)
            else:  # a negative pad cut some elements off: they get no gradient
                out = xp.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1:], dtype=g.dtype)
                out[lead + (slice(first - b, stop - b),)] = g[lead + (slice(first, stop),)]
            for p in [*range(first), *range(stop, len(index))]:  # the copies, few: one add each
                out[lead + (int(index[p]),)] += g[lead + (p,)]
            g = out
        return g

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> Tensor:
        return Pad.apply(gg, pad=ctx.attrs["pad"], mode=ctx.attrs["mode"])


def _channels_last(a: Any) -> bool:
    """Whether 4-d array ``a`` lies in memory as (N, H, W, C) and not also in C order (PyTorch's
    ``suggest_memory_format``)."""
    from tinygrad_cnn import layout

    return not a.flags.c_contiguous and layout.holds(a, "channels_last")


def _as_channels_last(a: Any) -> Any:
    """4-d array ``a`` laid out channels-last (itself where it is)."""
    from tinygrad_cnn import layout

    return a if _channels_last(a) else layout.arrange(a, "channels_last")


class Cat(Function):
    """Tensors joined along an existing ``dim``. VJP: ``g`` cut back into the inputs' pieces
    along ``dim`` (a slice each)."""

    @staticmethod
    def forward(ctx: Context, *xs: Any, dim: int = 0) -> Any:
        ctx.dim = dim
        ctx.bounds = [0, *itertools.accumulate(x.shape[dim] for x in xs)]
        out = array_module(xs[0]).concatenate(xs, axis=dim)
        # PyTorch's layout: channels-last where every input is a channels-last 4-d array, C
        # order otherwise (numpy keeps the inputs' order: a later reshape would share memory in
        # one library and copy in the other)
        if out.flags.c_contiguous or out.ndim != 4:
            return out if out.flags.c_contiguous else array_module(out).ascontiguousarray(out)
        if all(x.ndim == 4 and _channels_last(x) for x in xs):
            return _as_channels_last(out)
        return array_module(out).ascontiguousarray(out)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        lead = (slice(None),) * ctx.dim
        b = ctx.bounds
        keys = [lead + (slice(b[i], b[i + 1]),) for i in range(len(b) - 1)]
        if not _state.grad_enabled:  # first order: the slices of the array, no nodes
            gd = g._data
            return tuple(Tensor._make(gd[k]) if need else None
                         for k, need in zip(keys, ctx.needs_input_grad))
        return tuple(GetItem.apply(g, key=k) if need else None
                     for k, need in zip(keys, ctx.needs_input_grad))


class Stack(Function):
    """Tensors joined along a new ``dim``. VJP: ``g[..., i, ...]`` (index ``i`` of ``dim``) to
    input ``i``."""

    contiguous = True  # (as PyTorch's: C order, whatever the inputs' layout)

    @staticmethod
    def forward(ctx: Context, *xs: Any, dim: int = 0) -> Any:
        ctx.dim = dim
        return array_module(xs[0]).stack(xs, axis=dim)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        lead = (slice(None),) * ctx.dim
        if not _state.grad_enabled:  # first order: the slices of the array, no nodes
            gd = g._data
            return tuple(Tensor._make(gd[lead + (i,)]) if need else None
                         for i, need in enumerate(ctx.needs_input_grad))
        return tuple(GetItem.apply(g, key=lead + (i,)) if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


def _dim_last(a: Any, dim: int) -> Any:
    """``a`` with ``dim`` moved last (``moveaxis``, whose argument checks cost more than the move
    on small arrays, only where ``dim`` is not last already)."""
    return a if dim == a.ndim - 1 else array_module(a).moveaxis(a, dim, -1)


def _row_offsets(index: Any, dim: int, size: int) -> Any:
    """Flat positions, in an array whose ``dim`` has ``size`` entries, of ``index`` along ``dim``
    (all other coordinates taken from the index's own position)."""
    xp = array_module(index)
    if index.ndim == 1:  # one row: the positions are the index (as intp: numpy's fancy indexing
        return index.astype(xp.intp, copy=False), index.shape  # converts int32 ones slowly)
    moved = _dim_last(index, dim)  # (..., M)
    rows = math.prod(moved.shape[:-1])
    # each row's first position (one arange; a dim of size 0 has none to step by)
    starts = xp.arange(0, rows * size, size) if size else xp.zeros(rows, xp.intp)
    return moved + starts.reshape(moved.shape[:-1] + (1,)), moved.shape


def _sum_dtype(dtype: Any) -> Any:
    """The dtype a scatter-add accumulates in: float32 for float16, else the dtype itself."""
    return np.float32 if dtype == np.float16 else dtype


class Gather(Function):
    """``out[..., j, ...] = x[..., index[..., j, ...], ...]`` along ``dim`` (``torch.gather``).
    VJP: zeros of ``x``'s shape with ``g`` scatter-added at ``index`` (repeats add up).
    ``unique=True`` (sort, topk, kthvalue, median, max(dim): no index repeats within a row)
    writes ``g`` instead, as PyTorch's VJP of those ops does: a -0.0 gradient stays -0.0 there
    (``0 + -0.0`` would be +0.0, as it is for ``gather`` itself)."""

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any = None, dim: int = 0,
                unique: bool = False) -> Any:
        ctx.index, ctx.dim, ctx.size, ctx.unique = index, dim, x.shape[dim], unique
        if index.shape[:dim] + index.shape[dim + 1:] != x.shape[:dim] + x.shape[dim + 1:]:
            # take_along_axis broadcasts; PyTorch's gather reads a sub-block. Only the equal-shape
            # case is needed here, and anything else would be silently different.
            raise ArgumentValueError(f"gather: index shape {tuple(index.shape)} must match the input shape "
                                     f"{tuple(x.shape)} in every dimension but {dim}")
        ctx.flat = None
        if dim == x.ndim - 1 and x.flags.c_contiguous:  # flat positions: numpy's
            ctx.flat, ctx.in_shape = _row_offsets(index, dim, x.shape[dim])[0], x.shape
            return x.reshape(-1)[ctx.flat]  # take_along_axis builds index grids first
        xp = array_module(x)
        if x.ndim > 32:  # (take_along_axis indexes with one array per dim, at most 63 of them)
            rows = xp.ascontiguousarray(_dim_last(x, dim)).reshape(-1)
            return xp.moveaxis(rows[_row_offsets(index, dim, x.shape[dim])[0]], -1, dim)
        return xp.take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if ctx.flat is not None and not _state.grad_enabled:
            # first order: the scatter-add on the arrays, at the forward's flat positions
            gd = g._data
            if ctx.unique:
                out = array_module(gd).zeros(ctx.in_shape, dtype=gd.dtype)
                out.reshape(-1)[ctx.flat.reshape(-1)] = gd.reshape(-1)
                return Tensor._make(out)
            out = array_module(gd).zeros(ctx.in_shape, dtype=_sum_dtype(gd.dtype))
            add_at(out.reshape(-1), ctx.flat.reshape(-1), gd.reshape(-1))
            return Tensor._make(out.astype(gd.dtype, copy=False))
        return ScatterAdd.apply(g, index=ctx.index, dim=ctx.dim, size=ctx.size,
                                unique=ctx.unique)


class GatherSqueeze(Function):
    """:class:`Gather` along ``dim`` of an index with one entry there, the dim then dropped: the
    values of ``max(dim)``, ``min(dim)``, ``median(dim)``, ``kthvalue`` and ``mode`` without
    ``keepdim``. One op, so its result is a tensor of its own, as PyTorch's -- not a view of the
    gathered one, whose in-place changes, hooks and ``retain_grad`` then went by another node.
    VJP: ``g`` (the dim put back) written at the index (``unique``, as those ops' VJPs)."""

    name = "gather_squeeze"

    @staticmethod
    def forward(ctx: Context, x: Any, index: Any = None, dim: int = 0) -> Any:
        out = Gather.forward(ctx, x, index=index, dim=dim, unique=True)
        ctx.kept = out.shape
        return out.reshape(out.shape[:dim] + out.shape[dim + 1:])  # (a new array's view)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if not _state.grad_enabled:  # (first order: the reshape on the array, no node)
            return Gather.backward(ctx, Tensor._make(g._data.reshape(ctx.kept)))
        return Gather.backward(ctx, g.reshape(ctx.kept))


class ScatterAdd(Function):
    """Zeros with ``size`` entries along ``dim``, and ``g`` added at ``index`` (the VJP of gather;
    its own VJP is gather). ``unique=True`` promises no index repeats within a row, so plain
    assignment replaces the slower unbuffered add; ``signed_zero``: -0.0s, see :func:`_zeros`."""

    name = "scatter_add"

    @staticmethod
    def forward(ctx: Context, g: Any, index: Any = None, dim: int = 0, size: int = 0,
                unique: bool = False, signed_zero: bool = False) -> Any:
        xp = array_module(g)
        ctx.index, ctx.dim = index, dim
        flat, moved_shape = _row_offsets(index, dim, size)  # positions in the flattened output
        # (..., size), dim moved last; float16 adds up in float32, rounded once (PyTorch's
        # scatter_add and gather VJP: 3,000 ones added in float16 stop at 2,048)
        acc = g.dtype if unique else _sum_dtype(g.dtype)
        moved = _zeros(xp, moved_shape[:-1] + (size,), acc, signed_zero)
        values = _dim_last(g, dim).reshape(-1)
        if unique:
            moved.reshape(-1)[flat.reshape(-1)] = values
        else:
            add_at(moved.reshape(-1), flat.reshape(-1), values)
            moved = moved.astype(g.dtype, copy=False)
        return moved if dim == moved.ndim - 1 else xp.ascontiguousarray(xp.moveaxis(moved, -1, dim))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Gather.apply(g, index=ctx.index, dim=ctx.dim)


class Embedding(Function):
    """``weight[indices]``: the rows of ``weight (V, D)`` that an int array ``indices`` (any
    shape) picks, ``-> indices.shape + (D,)``. VJP: the output gradient added onto the picked rows
    (a repeated index adds up), except that rows picked as ``padding_idx`` get none (PyTorch's
    rule: the padding row stays as it is)."""

    @staticmethod
    def forward(ctx: Context, weight: Any, indices: Any = None,
                padding_idx: int | None = None) -> Any:
        ctx.indices, ctx.weight_shape = indices, weight.shape
        return weight[indices]

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        xp = array_module(g._data)
        idx = ctx.indices.reshape(-1)
        rows = g.reshape(idx.shape[0], ctx.weight_shape[1])  # (B, D)
        padding_idx = ctx.attrs["padding_idx"]
        if padding_idx is not None:
            keep = xp.flatnonzero(idx != padding_idx)
            rows, idx = GetItem.apply(rows, key=(keep,)), idx[keep]
        return GetItemBackward.apply(rows, key=(idx,), shape=ctx.weight_shape)


def copy_preserving(x: Any) -> Any:
    """A copy of array ``x`` laid out as PyTorch's ``preserve_format`` lays out a copy: in
    ``x``'s order of strides, dense (``infer_dense_strides``: a transposed slice's copy is
    transposed too; an ``expand``'s repeats are not kept)."""
    if x.ndim < 2 or (_c_like(x.strides) and 1 not in x.shape):
        # (C order or reversed dims of it -- a flip's view --, nothing to sort: a copy in C
        # order -- always a copy, never x itself; size-1 dims left to the rule below, which
        # places them as PyTorch's)
        return x.copy()
    out = empty_in_order(x.shape, x.dtype, torch_order(x.shape, (x,)), array_module(x))
    out[...] = x
    return out


class Clone(Function):
    """A copy that stays in the graph, laid out as the input (PyTorch's ``preserve_format``: a
    transposed tensor's clone is transposed too, so a later ``reshape`` copies in both libraries)
    or, with ``contiguous``, in row-major order -- or in the memory format named by ``layout``
    (``"channels_last"``: see :mod:`tinygrad_cnn.layout`). VJP: ``g`` unchanged."""

    @staticmethod
    def forward(ctx: Context, x: Any, contiguous: bool = False, layout: str = "") -> Any:
        if layout:
            from tinygrad_cnn.layout import arrange

            return arrange(x, layout)
        if contiguous or x.ndim < 2 or x.flags.c_contiguous:
            return x.copy()
        return copy_preserving(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return g


class ToDevice(Function):
    """Move to another device; the VJP moves the gradient back."""

    name = "to_device"

    @staticmethod
    def forward(ctx: Context, x: Any, device: str = "cpu") -> Any:
        ctx.in_device = "cpu" if array_module(x) is np else "cuda"
        return to_device(x, device)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return ToDevice.apply(g, device=ctx.in_device)
