"""Indexing ops: ``scatter`` is a Function; ``index_select``, ``take_along_dim``, ``scatter_add``,
``index_add``, ``index_copy``, ``index_fill``, ``masked_fill``, ``nonzero``, ``sort``, ``argsort``,
``topk``, ``take``, ``masked_select`` and ``masked_scatter`` are composed of existing ops.

| op | how |
|---|---|
| ``scatter`` (src or value) | ``Scatter`` here; VJP: a scatter of zeros and a gather |
| ``scatter_add`` | ``x + scatter_add`` into -0.0s (movement's ``ScatterAdd``, the VJP of gather) |
| ``index_select`` | ``getitem`` with an integer array (its VJP adds repeated indices up) |
| ``take_along_dim`` | ``expand`` (broadcasting) and ``gather`` |
| ``index_add``, ``index_copy``, ``index_reduce`` | scatter_add, scatter, scatter_reduce; index spread |
| ``index_fill`` | ``masked_fill`` with a mask of the chosen slices |
| ``masked_fill`` | ``where`` (the value, a number or a 0-d tensor, gets a gradient too) |
| ``nonzero`` | numpy, no gradient |
| ``sort``, ``topk`` | numpy's stable argsort, then ``gather`` (the gradient goes to the indices) |
| ``argsort`` | numpy's stable argsort, no gradient |
| ``take``, ``masked_select`` | ``getitem`` with one index array per dim (repeated indices add up) |
| ``masked_scatter`` | ``where`` of the mask, a ``getitem`` of the flattened source, and the input |

Indices are checked here against the sizes they index, so that a wrong one is an ``IndexError``
naming the op, the index and the size, never a silently wrapped negative index or a write into a
neighbouring row. Indices are constants: they get no gradient.
"""

from __future__ import annotations

import collections
import math
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function, _OnceDifferentiable, _state, keepdim_arg
from tinygrad_cnn.backend import (
    ArgumentIndexError,
    ArgumentTypeError,
    ArgumentValueError,
    add_at,
    array_module,
    flat_positions,
    like,
    reduce_at,
    rows_past_32_dims,
    type_name,
)
from tinygrad_cnn.backend import broadcast_shapes as _bshapes
from tinygrad_cnn.ops.movement import Gather, GatherSqueeze, GetItem, GetItemBackward, ScatterAdd
from tinygrad_cnn.tensor import Tensor, _dim, _in_dtype, _int_of, _number, cat, promote_types
from tinygrad_cnn.tensor import where as _where


def _scatter_key(index: Any, dim: int, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """The integer-array key that reaches ``out[i0, ..., index[i0, ..., ik], ..., ik]`` for every
    position of ``index`` in an ``out`` of ``shape``: ``index`` itself at ``dim``, a broadcasting
    ``arange`` at every other. Past 32 dims, the flat positions in ``out`` (one array): numpy
    indexes with at most 63 arrays (PyTorch's tensors have up to 64 dims), so the key is then
    used on ``_at(out)``, ``out``'s flat view."""
    xp = array_module(index)
    n = index.ndim
    key = tuple(index if d == dim else xp.arange(s).reshape((s,) + (1,) * (n - 1 - d))
                for d, s in enumerate(index.shape))
    return key if n <= 32 else (flat_positions(shape, key),)


def _at(a: Any) -> Any:
    """``a`` as :func:`_scatter_key`'s keys index it: its flat view past 32 dims (``a`` is
    C-contiguous, a fresh array, so the view writes into it)."""
    return a if a.ndim <= 32 else a.reshape(-1)


def _corner(shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The key of the leading block of ``shape`` (where an index smaller than its tensor reads)."""
    return tuple(slice(0, s) for s in shape)


class Scatter(Function):
    """``out = x`` with ``src`` (or the number ``value``) written along ``dim`` at ``index``:
    ``out[i][index[i][j]] = src[i][j]`` for ``dim=1`` (``torch.scatter``); ``index`` may be smaller
    than ``x`` and ``src`` in every dim (it reads their leading block). Where an index repeats, one
    write wins (the last, in numpy and in PyTorch on the CPU). ``reduce="add"``/``"multiply"``
    combines instead of writing and has no VJP, as in PyTorch.
    VJP: ``dx = scatter(g, dim, index, 0)`` (what was overwritten gets no gradient),
    ``dsrc = gather(g, dim, index)`` in the leading block of ``src``, zeros elsewhere."""

    @staticmethod
    def forward(ctx: Context, x: Any, *src: Any, index: Any = None, dim: int = 0,
                value: Any = 0, reduce: str | None = None) -> Any:
        ctx.index, ctx.dim = index, dim
        ctx.src_shape = src[0].shape if src else None
        out = x.copy()
        key = _scatter_key(index, dim, out.shape)
        values = src[0][_corner(index.shape)] if src else value
        if reduce is None:
            _at(out)[key] = values
            return out
        half = out.dtype == np.float16  # (PyTorch combines float16 in float32, rounded once)
        if half:
            out = out.astype(np.float32)
            values = values.astype(np.float32) if hasattr(values, "astype") else values
        if reduce == "add":
            add_at(_at(out), key, values)
        else:
            reduce_at("multiply", _at(out), key, values)
        return out.astype(np.float16) if half else out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Any:
        if ctx.attrs.get("reduce") is not None:  # PyTorch records it and refuses here too
            raise RuntimeError(
                f"scatter: reduce={ctx.attrs['reduce']!r} has no gradient (as in PyTorch); use "
                "scatter_add (or scatter_reduce with 'sum'/'prod') for a differentiable result, "
                "or compute it inside no_grad()")
        index, dim = ctx.index, ctx.dim
        gx = Scatter.apply(g, index=index, dim=dim, value=0) if ctx.needs_input_grad[0] else None
        if ctx.src_shape is None:
            return gx
        gsrc = None
        if ctx.needs_input_grad[1]:
            # gather reads the block of g that index covers in every dim but `dim`
            block = tuple(slice(None) if d == dim else slice(0, s) for d, s in enumerate(index.shape))
            gsrc = Gather.apply(GetItem.apply(g, key=block) if g.shape != index.shape else g,
                                index=index, dim=dim)
            if gsrc.shape != ctx.src_shape:
                gsrc = GetItemBackward.apply(gsrc, key=_corner(index.shape), shape=ctx.src_shape)
        return gx, gsrc


# ------------------------------------------------------------------------------ argument helpers


def _index(index: Any, x: Tensor, where: str, what: str = "index") -> Any:
    """An integer index array on ``x``'s device: a copy (the graph keeps it for backward, and the
    caller may change theirs in place afterwards)."""
    if isinstance(index, Tensor):
        arr = index._data
    else:  # (a device array stays where it is: numpy cannot read it)
        arr = index if hasattr(index, "__cuda_array_interface__") else np.asarray(index)
    if arr.dtype not in (np.int32, np.int64):  # PyTorch's rule (uint8 meant a mask once)
        raise ArgumentTypeError(f"{where}: {what} must be an integer tensor (int64 or int32), got "
                                f"{arr.dtype}")
    return like(arr, x._data).copy()


def _scalar(value: Any, x: Tensor, where: str) -> Any:
    """The number ``value`` as a 0-d array of ``x``'s dtype (floats truncated into integers, as in
    PyTorch), or an error where it does not fit the dtype."""
    if isinstance(value, np.bool_):  # (a float to PyTorch, as in arithmetic)
        value = float(value)
    if isinstance(value, Tensor) or not isinstance(value, (bool, int, float, np.number)):
        raise TypeError(f"{where}: value must be a number, got {type(value).__name__}")
    # PyTorch's check: an error on overflow; a negative int wraps into an unsigned dtype
    return array_module(x._data).asarray(_in_dtype(value, x.dtype, where)).astype(x.dtype)


def _check_range(idx: Any, n: int, where: str, dim: int, shape: tuple[int, ...],
                 negative: bool = False) -> None:
    """Every index in [0, n) (in [-n, n) with ``negative``), else PyTorch's error with the culprit:
    an IndexError (index_select, index_fill, put, ...), or for gather and scatter its RuntimeError
    (:class:`ArgumentIndexError`, not an IndexError -- see there)."""
    if not idx.size:
        return
    lo, hi = int(idx.min()), int(idx.max())
    low = -n if negative else 0
    if lo < low or hi >= n:
        bad = lo if lo < low else hi
        allowed = f"{low} to {n - 1}" if n else "none: the dim is empty"
        error = ArgumentIndexError if where.startswith(("gather", "scatter", "take_along_dim")) \
            else IndexError
        raise error(f"{where}: index {bad} is out of range for dim {dim} of size {n} (tensor "
                    f"shape {shape}; allowed: {allowed})")


def _check_scatter(where: str, x: Tensor, d: int, idx: Any, src: Tensor | None) -> None:
    if src is not None and src.dtype != x.dtype:
        raise ArgumentTypeError(f"{where}: src is {src.dtype} but the tensor is {x.dtype}; convert "
                                "one of them with .to()")
    if not idx.size:  # (an empty index writes nothing: PyTorch checks no shapes then)
        return
    # (PyTorch counts a 0-d tensor, index or src as one of 1 dim and size 1 here)
    xs, ishape = x.shape or (1,), tuple(idx.shape) or (1,)
    if len(ishape) != len(xs):
        raise ArgumentValueError(f"{where}: index has {idx.ndim} dims and the tensor has {x.ndim} "
                                 f"(shapes {tuple(idx.shape)} and {x.shape}); they must match")
    ss = None if src is None else (src.shape or (1,))
    if ss is not None and len(ss) != len(xs):
        raise ArgumentValueError(f"{where}: src has {src.ndim} dims and the tensor has {x.ndim} "
                                 f"(shapes {src.shape} and {x.shape}); they must match")
    for i, s in enumerate(ishape):
        if (i != d and s > xs[i]) or (ss is not None and s > ss[i]):
            raise ArgumentValueError(
                f"{where}: index of shape {tuple(idx.shape)} must be no larger than the tensor "
                f"{x.shape} in every dim but {d}"
                + (f", and no larger than src {src.shape} in every dim" if src is not None else ""))
    _check_range(idx, x.shape[d] if x.ndim else 1, where, d, x.shape)


# ------------------------------------------------------------------------------ the ops


def index_select(input: Tensor, dim: int, index: Any) -> Tensor:
    """The slices at ``index`` (a 1-D integer tensor; repeats allowed) along ``dim``; a copy.
    Repeated indices add their gradients up."""
    d = _dim(dim, input.ndim, "index_select")
    idx = _index(index, input, "index_select")
    if idx.ndim > 1:
        raise IndexError(f"index_select: index must be a vector (1-D), got shape {tuple(idx.shape)}")
    if input.ndim == 0:
        if idx.size != 1:
            raise ArgumentIndexError(f"index_select: a 0-d tensor takes one index, got {idx.size}")
        _check_range(idx, 1, "index_select", 0, ())
        return input.clone()
    idx = idx.reshape(-1)
    _check_range(idx, input.shape[d], "index_select", d, input.shape)
    return GetItem.apply(input, key=(slice(None),) * d + (idx,),
                         **(_WIDE if input.dtype == np.float16 else {}))


def take_along_dim(input: Tensor, indices: Any, dim: int | None = None) -> Tensor:
    """``out[i][j] = input[i][indices[i][j]]`` along ``dim`` (``gather`` where the two broadcast
    in every other dim); ``dim=None`` indexes the flattened tensor. With a ``dim``, negative
    indices count from the end, as in PyTorch; without one they are an error, as there
    (PyTorch also wraps some indices below ``-size`` along a dim, which are an error here)."""
    idx = _index(indices, input, "take_along_dim", "indices")
    if dim is not None and input.ndim == 0:  # (PyTorch's; was: indexed as if 1-d)
        raise ArgumentIndexError(f"take_along_dim: Dimension specified as {dim} but tensor has "
                                 "no dimensions; leave dim=None to index the flattened tensor")
    if dim is None:
        if idx.size and int(idx.min()) < 0:  # (PyTorch's RuntimeError: see ArgumentIndexError)
            raise ArgumentIndexError(
                f"take_along_dim: index {int(idx.min())} is out of range for the flattened tensor "
                f"of {input.numel()} elements (shape {input.shape}); without a dim indices run "
                "from 0, as in PyTorch: give a dim, or add the size to the negative ones")
        input, idx, d = input.reshape(-1), idx.reshape(-1), 0
    else:
        d = _dim(dim, input.ndim, "take_along_dim")
        if idx.ndim != input.ndim:
            raise ArgumentValueError(f"take_along_dim: indices have {idx.ndim} dims, the input {input.ndim} "
                                     f"(shapes {tuple(idx.shape)} and {input.shape}); they must match")
    n = input.shape[d]
    _check_range(idx, n, "take_along_dim", d, input.shape, negative=dim is not None)
    xp = array_module(idx)
    if idx.size and int(idx.min()) < 0:
        idx = xp.where(idx < 0, idx + n, idx)
    try:
        common = _bshapes(input.shape[:d] + (1,) + input.shape[d + 1:],
                          idx.shape[:d] + (1,) + idx.shape[d + 1:])
    except ValueError:
        raise ArgumentValueError(f"take_along_dim: input of shape {input.shape} and indices of shape "
                                 f"{tuple(idx.shape)} cannot be broadcast together in the dims other "
                                 f"than {d}") from None
    x_shape = common[:d] + (n,) + common[d + 1:]
    idx_shape = common[:d] + (idx.shape[d],) + common[d + 1:]
    if input.shape != x_shape:
        input = input.expand(x_shape)
    if idx.shape != idx_shape:
        idx = xp.broadcast_to(idx, idx_shape)
    out = Gather.apply(input, index=idx, dim=d)
    return out


def _nothing_written(input: Tensor, src: Tensor | None, idx: Any, dim: int) -> Tensor:
    """``input.clone()`` for a scatter of an empty index, recorded as a scatter that writes
    nothing when ``src`` has a gradient to get: PyTorch gives it zeros of its shape, not None."""
    if src is not None and src.requires_grad and _state.grad_enabled and src.dtype == input.dtype \
            and input.ndim > 0 and src.ndim == input.ndim:
        return Scatter.apply(input, src, index=idx, dim=dim)
    return input.clone()


def scatter(input: Tensor, dim: int, index: Any, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` (a tensor, or a number: ``value``) written along ``dim`` at
    ``index``: ``out[i][index[i][j]] = src[i][j]`` for ``dim=1``. ``reduce="add"``/``"multiply"``
    combines instead (no gradient, as in PyTorch)."""
    if src is None and value is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    if src is not None and value is not None:
        raise TypeError("scatter: give src or value, not both")
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if src is not None and src.ndim == 0 and input.ndim > 0:
        shape = tuple(np.shape(index._data if isinstance(index, Tensor) else index))
        if any(n > 1 for n in shape):  # (PyTorch's: a 0-d src is one element, not a value)
            raise RuntimeError(f"scatter: index of shape {shape} is larger than src of shape () "
                               "apart from dimension 0 (a 0-d src holds one element); pass the "
                               "number as value=, e.g. scatter(dim, index, value=src.item()), "
                               "or src of the index's shape")
        if src.requires_grad and _state.grad_enabled:  # spread it, so it gets its gradient
            src = src.expand(tuple(np.shape(index._data if isinstance(index, Tensor) else index)))
        else:  # a 0-d tensor is a value, as in PyTorch
            src, value = None, src.item()
    if reduce not in (None, "add", "multiply"):
        raise ArgumentValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    d = _dim(dim, input.ndim, "scatter")
    idx = _index(index, input, "scatter")
    if idx.ndim == 0 and input.ndim == 1:  # (PyTorch counts a 0-d index as one of 1 dim)
        idx = idx.reshape(1)
        if src is not None and src.ndim == 0:
            src = src.reshape(1)
    _check_scatter("scatter", input, d, idx, src)
    if not idx.size:  # nothing to write (and, as in PyTorch, no value to check)
        return _nothing_written(input, src, idx, d)
    if input.ndim == 0:  # one element: work on it as shape (1,)
        out = scatter(input.reshape(1), 0, idx.reshape(-1), None if src is None else src.reshape(-1),
                      value=value, reduce=reduce)
        return out.reshape(())
    if src is not None:
        return Scatter.apply(input, src, index=idx, dim=d, reduce=reduce)
    # a Python number of the tensor's dtype (drawings show it as such)
    return Scatter.apply(input, index=idx, dim=d, value=_scalar(value, input, "scatter").item(),
                         reduce=reduce)


def scatter_add(input: Tensor, dim: int, index: Any, src: Tensor) -> Tensor:
    """A copy of ``input`` with ``src`` added along ``dim`` at ``index``:
    ``out[i][index[i][j]] += src[i][j]`` for ``dim=1``; repeated indices add up.
    Gradients: ``dinput = g``, ``dsrc = gather(g, dim, index)`` (zeros where ``index`` is smaller
    than ``src``)."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a Tensor, got {type_name(src)}")
    d = _dim(dim, input.ndim, "scatter_add")
    idx = _index(index, input, "scatter_add")
    if idx.ndim == 0 and input.ndim == 1:  # (PyTorch counts a 0-d index as one of 1 dim)
        idx = idx.reshape(1)
        if src.ndim == 0:
            src = src.reshape(1)
    _check_scatter("scatter_add", input, d, idx, src)
    if input.ndim == 0:
        return scatter_add(input.reshape(1), 0, idx.reshape(-1), src.reshape(-1)).reshape(())
    if not idx.size:
        return _nothing_written(input, src, idx, d)
    if input.dtype == np.float16 and src.dtype == np.float16:
        # PyTorch adds self and the sources in float32 and rounds once (the sources' sum rounded
        # to half first, then added to self, was one ulp off in a quarter of the elements)
        return scatter_add(input.float(), d, idx, src.float()).half()
    block = _corner(idx.shape)
    part = src if src.shape == tuple(idx.shape) else GetItem.apply(src, key=block)
    # -0.0s with `index`'s shape (input's size along dim), part added at index; then into
    # input's shape if index covers only a block of it. (-0.0, not 0.0: where nothing or only
    # -0.0 is added, input's -0.0 stays, as in PyTorch's in-place adds; x + -0.0 is x)
    signed = {"signed_zero": True} if input.dtype.kind == "f" else {}
    added = ScatterAdd.apply(part, index=idx, dim=d, size=input.shape[d], **signed)
    if added.shape != input.shape:
        added = GetItemBackward.apply(added, key=block[:d] + (slice(None),) + block[d + 1:],
                                      shape=input.shape, **signed)
    return input + added


def _index_vector(where: str, input: Tensor, dim: int, index: Any, negative: bool = False
                  ) -> tuple[int, Any]:
    """``(dim, index)`` for index_add/index_copy/index_fill: a 1-D (or 0-d) integer index, every
    entry inside the dim (negative ones counted from the end with ``negative``, as index_fill)."""
    d = _dim(dim, input.ndim, where)
    idx = _index(index, input, where)
    if idx.ndim > 1:  # (index_fill's is PyTorch's RuntimeError, index_add's and index_copy's its IndexError)
        error = ArgumentIndexError if where.startswith("index_fill") else IndexError
        raise error(f"{where}: index must be a vector (1-D) or a scalar, got shape {tuple(idx.shape)}")
    idx = idx.reshape(-1)
    n = input.shape[d] if input.ndim else 1
    _check_range(idx, n, where, d, input.shape, negative=negative)
    if negative and idx.size and int(idx.min()) < 0:
        idx = array_module(idx).where(idx < 0, idx + n, idx)
    return d, idx


def _spread_index(where: str, input: Tensor, d: int, idx: Any, source: Any) -> Any:
    """The index of ``input.index_add(d, idx, source)`` as scatter takes it: ``idx`` along ``d``,
    broadcast over ``source``'s other dims, after PyTorch's checks of ``source``."""
    if not isinstance(source, Tensor):
        raise TypeError(f"{where}: source must be a Tensor, got {type_name(source)}")
    if source.dtype != input.dtype:
        raise ArgumentTypeError(f"{where}: source is {source.dtype} but the tensor is {input.dtype}; "
                                "convert one of them with .to()")
    if input.ndim == 0:
        if source.numel() != 1 or idx.size != 1:
            raise ArgumentValueError(f"{where}: a 0-d tensor takes one index and one source value, got "
                                     f"{idx.size} and source of shape {source.shape}")
        return idx
    expected = input.shape[:d] + (idx.size,) + input.shape[d + 1:]
    if source.shape != expected:
        raise ArgumentValueError(
            f"{where}: source of shape {source.shape} does not fit: it must have the tensor's "
            f"shape {input.shape} except in dim {d}, where it has one slice per index "
            f"({idx.size}): {expected}")
    xp = array_module(idx)
    shape = [1] * input.ndim
    shape[d] = idx.size
    return xp.broadcast_to(idx.reshape(shape), expected)


def index_add(input: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """A copy of ``input`` with ``alpha * source[..., i, ...]`` added to the slice ``index[i]``
    along ``dim``; repeated indices add up. Gradients: ``dinput = g``, ``dsource = alpha *
    g[..., index, ...]`` (scatter_add's)."""
    d, idx = _index_vector("index_add", input, dim, index)
    spread = _spread_index("index_add", input, d, idx, source)
    if input.dtype.kind == "b":
        alpha = bool(alpha)  # PyTorch casts alpha to the tensor's dtype: True adds (an or)
    elif input.dtype.kind in "iu" and isinstance(alpha, (float, np.floating)):
        alpha = int(alpha)  # PyTorch casts alpha to the integer dtype
    if input.ndim == 0:
        return input + (source.reshape(()) if alpha == 1 else source.reshape(()) * alpha)
    return scatter_add(input, d, spread, source if alpha == 1 else source * alpha)


def _no_bool_mean(where: str, input: Tensor, reduce: str) -> None:
    """A mean of bools has no bool to be: refused, as PyTorch refuses it (was: a float32
    result, with values that were not the means)."""
    if reduce == "mean" and input.dtype == np.bool_:
        raise NotImplementedError(f"{where}: reduce='mean' is not implemented for a bool tensor "
                                  "(as in PyTorch); convert it with .float() first")


def index_reduce(input: Tensor, dim: int, index: Any, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy of ``input`` where the slice ``index[i]`` along ``dim`` becomes the ``reduce``
    ("prod", "mean", "amax", "amin") of the ``source`` slices ``i`` sent to it (and of itself,
    with ``include_self``); PyTorch's ``index_reduce``. It is ``scatter_reduce`` with the index
    spread along ``dim``, and so has its gradients."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce: reduce must be one of 'prod', 'mean', 'amax' or "
                           f"'amin', got {reduce!r}")
    _no_bool_mean("index_reduce", input, reduce)
    d, idx = _index_vector("index_reduce", input, dim, index)
    spread = _spread_index("index_reduce", input, d, idx, source)
    return scatter_reduce(input, d, spread, source.reshape(spread.shape), reduce,
                          include_self=include_self)


def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """A copy of ``input`` with the slice ``index[i]`` along ``dim`` replaced by
    ``source[..., i, ...]`` (a repeated index: one write wins, the last on the CPU, as in PyTorch).
    Gradients: what was overwritten gets none; ``dsource = g[..., index, ...]``."""
    d, idx = _index_vector("index_copy", input, dim, index)
    spread = _spread_index("index_copy", input, d, idx, source)
    if input.ndim == 0:
        return source.reshape(()).clone()
    return scatter(input, d, spread, source)


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """A copy of ``input`` with the slices ``index`` along ``dim`` set to ``value`` (a number or a
    0-d tensor, which gets the gradient of every filled element); negative indices count from the
    end, as in PyTorch."""
    d, idx = _index_vector("index_fill", input, dim, index, negative=True)
    xp = array_module(input._data)
    if input.ndim == 0:
        mask = xp.asarray(idx.size > 0)
    else:
        hit = xp.zeros(input.shape[d], dtype=bool)
        hit[idx] = True
        mask = hit.reshape((-1,) + (1,) * (input.ndim - 1 - d))
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ArgumentValueError(f"index_fill: value must be a number or a 0-d tensor, got a tensor of "
                                 f"shape {value.shape}")
    return masked_fill(input, Tensor._make(mask), value, where="index_fill")


def masked_fill(input: Tensor, mask: Any, value: Any, *, where: str = "masked_fill") -> Tensor:
    """``value`` where the bool ``mask`` (broadcast with ``input``) is True, else ``input``; the
    result has ``input``'s dtype. ``value``, a number or a 0-d tensor, gets the gradient summed
    over the filled places."""
    m = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
    if m.dtype != np.bool_:
        raise ArgumentTypeError(f"{where}: mask must be a bool tensor, got {m.dtype}")
    md, xd = m._data, input._data
    if md.shape == xd.shape and type(value) in (int, float) and type(xd) is np.ndarray and \
            type(md) is np.ndarray and md.flags.c_contiguous and xd.flags.c_contiguous:
        # the everyday case (a mask of the input's shape, a number): what where() below does for
        # it, without its broadcasting and promotion (16x16 forward and backward 36 -> 26 us)
        v = Tensor._make(_scalar(value, input, where))
        c = md.copy() if _state.grad_enabled and input._requires_grad else md
        from tinygrad_cnn.ops.elementwise import Where

        return Where.apply(v, input, condition=c)
    try:
        _bshapes(m.shape, input.shape)
    except ValueError:
        raise ArgumentValueError(f"{where}: the mask of shape {m.shape} does not broadcast with the tensor's "
                                 f"shape {input.shape}") from None
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ArgumentValueError(f"masked_fill: value must be a number or a 0-d tensor, got a tensor "
                                     f"of shape {value.shape}")
        if value.dtype != input.dtype:  # PyTorch's overflow check, as for a number
            _scalar(value.item(), input, where)
        v = value.to(input.dtype)
    else:
        v = Tensor._make(_scalar(value, input, where))
    out = _where(m, v, input)
    if not out._data.flags.c_contiguous:  # PyTorch's result is a C-order clone, filled in place
        out._data = array_module(out._data).ascontiguousarray(out._data)  # (where saves no array)
    return out


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Tensor, dim: int, index: Any, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """A copy of ``input`` where every element that ``index`` reaches along ``dim`` becomes the
    ``reduce`` ("sum", "prod", "mean", "amax", "amin") of the ``src`` elements sent to it (and
    of its own value, with ``include_self``); PyTorch's ``scatter_reduce``. "mean" of integers
    rounds down. Gradients (PyTorch's): sum -- ``g`` (not to the overwritten elements without
    ``include_self``) and ``gather(g)``; mean -- the same divided by the count; amax/amin -- ``g``
    shared equally among the elements equal to the result; prod -- ``g`` times the product of
    the other factors of each place."""
    where = "scatter_reduce"
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # (PyTorch's aliases)
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"{where}: reduce argument must be either sum, prod, mean, amax or "
                           f"amin, got {reduce!r}")
    _no_bool_mean(where, input, reduce)
    if not isinstance(src, Tensor):
        raise TypeError(f"{where}: src must be a Tensor, got {type_name(src)}")
    d = _dim(dim, input.ndim, where)
    idx = _index(index, input, where)
    _check_scatter(where, input, d, idx, src)
    if input.ndim == 0:
        return scatter_reduce(input.reshape(1), 0, idx.reshape(-1), src.reshape(-1), reduce,
                              include_self=include_self).reshape(())
    if not idx.size and reduce in ("sum", "mean"):
        # (amax/amin/prod go on: a NaN's gradient is NaN there, as PyTorch's)
        return _nothing_written(input, src, idx, d)
    if reduce in ("sum", "mean"):
        xp = array_module(input._data)
        key = _scatter_key(idx, d, input.shape)
        hit = xp.zeros(input.shape, dtype=bool)
        _at(hit)[key] = True
        hit_t = Tensor._make(hit)
        base = input if include_self else input.masked_fill(hit_t, 0)
        total = scatter_add(base, d, idx, src)
        if reduce == "sum":
            return total
        count = xp.zeros(input.shape, dtype=np.int64)
        add_at(_at(count), key, 1)
        count += 1 if include_self else 0
        n = Tensor._make(xp.maximum(count, 1).astype(input.dtype))
        mean = total.div(n, rounding_mode="floor") if input.dtype.kind in "iu" else total / n
        return _where(hit_t, mean, input)
    return ScatterReduce.apply(input, src, index=idx, dim=d, reduce=reduce,
                               include_self=include_self)


class ScatterReduce(Function):
    """``scatter_reduce`` with ``reduce`` "amax", "amin" or "prod": every element of ``x`` that
    ``index`` reaches along ``dim`` becomes the max (min, product) of the ``src`` elements sent
    to it and, with ``include_self``, of itself. VJP (PyTorch's): for amax/amin ``g`` shared
    equally among the elements equal to the result -- to ``x`` (``g`` as it is where no index
    reaches) and, through ``gather``, to ``src``; for prod see :func:`_scatter_prod_vjp`."""

    name = "scatter_reduce"

    @staticmethod
    def forward(ctx: Context, x: Any, src: Any, index: Any = None, dim: int = 0,
                reduce: str = "amax", include_self: bool = True) -> Any:
        xp = array_module(x)
        key = _scatter_key(index, dim, x.shape)
        hit = xp.zeros(x.shape, dtype=bool)
        _at(hit)[key] = True
        values = src[_corner(index.shape)]
        wide = x.dtype == np.float16  # (combined in float32, rounded once)
        out = x.astype(np.float32 if wide else x.dtype, order="C", copy=True)
        if not include_self:
            out[hit] = 1 if reduce == "prod" else _identity(out.dtype, reduce)
        ufunc = {"prod": "multiply", "amax": "maximum", "amin": "minimum"}[reduce]
        reduce_at(ufunc, _at(out), key, values.astype(out.dtype, copy=False))
        out = out.astype(x.dtype, copy=False)
        if reduce == "prod" and any(ctx.needs_input_grad):
            ctx.save_for_backward(x, src, out)
            ctx.dropped = None if include_self else hit
        elif any(ctx.needs_input_grad):
            # PyTorch's formula: N = (x == out) + the sources equal to it, at every place (an x
            # equal to the result counts even when include_self leaves it out: it then gets no
            # share); g / N to each of them -- NaN where N is 0 (a NaN result), as PyTorch's
            chosen_src = values == _at(out)[key]
            chosen_self = x == out
            count = chosen_self.astype(x.dtype)
            add_at(_at(count), key, chosen_src.astype(x.dtype))
            ctx.dropped = None if include_self else hit  # (zeroed after the division)
            ctx.count = count
            ctx.chosen = (chosen_self.astype(x.dtype), chosen_src.astype(x.dtype))
        ctx.index, ctx.dim, ctx.src_shape = index, dim, src.shape
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if ctx.attrs["reduce"] == "prod":
            return _scatter_prod_vjp(ctx, g)
        nx, ns = ctx.needs_input_grad
        shared = g / Tensor._make(ctx.count)  # (PyTorch's order: divide, then mask)
        gx = shared * Tensor._make(ctx.chosen[0]) if nx else None
        if gx is not None and ctx.dropped is not None:  # not included: no gradient, not even NaN
            gx = gx.masked_fill(Tensor._make(ctx.dropped), 0.0)
        gsrc = None
        if ns:
            index, dim = ctx.index, ctx.dim
            block = tuple(slice(None) if i == dim else slice(0, s)
                          for i, s in enumerate(index.shape))
            part = GetItem.apply(shared, key=block) if g.shape != index.shape else shared
            gsrc = Gather.apply(part, index=index, dim=dim) * Tensor._make(ctx.chosen[1])
            if gsrc.shape != ctx.src_shape:
                gsrc = GetItemBackward.apply(gsrc, key=_corner(index.shape), shape=ctx.src_shape)
        return gx, gsrc


def _scatter_prod_vjp(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """The VJP of ``scatter_reduce(..., "prod")`` (PyTorch's formula): each factor's gradient is
    ``g`` times the product of the other factors of its place -- ``result / factor`` where the
    factor is not 0, and where one factor is 0 the product taken again with it set to 1 (where
    two are 0 the others' products are 0 too)."""
    x, src, out = ctx.saved_tensors
    index, dim, include_self = ctx.index, ctx.dim, ctx.attrs["include_self"]
    nx, ns = ctx.needs_input_grad
    idx = Tensor._make(index)
    gx = gsrc = None
    if nx:
        ones = x.masked_fill(x == 0, 1)
        gx = g * scatter_reduce(ones, dim, idx, src, "prod", include_self=include_self) / ones
        if ctx.dropped is not None:  # not included: no gradient
            gx = gx.masked_fill(Tensor._make(ctx.dropped), 0.0)
    if ns:
        part = GetItem.apply(src, key=_corner(index.shape)) if src.shape != index.shape else src
        zero = part == 0
        zeros_there = scatter_add(x.new_zeros(x.shape), dim, idx, zero.to(x.dtype)).gather(dim, idx)
        several = _state.grad_enabled and bool((zeros_there._data > 1).any())
        single = zero & (zeros_there == 1)
        without = scatter_reduce(x, dim, idx, part.masked_fill(single, 1), "prod",
                                 include_self=include_self)
        gsrc = _where(single, (g * without).gather(dim, idx),
                      (g * out).gather(dim, idx) / part.masked_fill(zero, 1))
        if several:  # this formula's own derivative is 0 there, where the true one is not
            gsrc = _OnceDifferentiable.apply(gsrc, g, op="scatter_reduce", why=(
                "scatter_reduce: the second derivative of reduce='prod' with respect to src is not "
                "supported where two or more zeros of src are sent to one place (as in PyTorch)"))
        if gsrc.shape != ctx.src_shape:
            gsrc = GetItemBackward.apply(gsrc, key=_corner(index.shape), shape=ctx.src_shape)
    return gx, gsrc


def _identity(dt: Any, reduce: str) -> Any:
    """The start of an ``amax``/``amin`` that ignores what is there: -inf / inf (an integer
    dtype's extremes)."""
    if dt.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if dt.kind == "b":
        return reduce == "amin"
    info = np.iinfo(dt)
    return info.min if reduce == "amax" else info.max


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """For each of the values ``input``, the index where it would go in ``sorted_sequence`` to
    keep it sorted (the first such index, or with ``right``/``side="right"`` the last); a 1-D
    sequence serves values of any shape, an N-D one holds one sequence per leading index (the
    values matching those leading dims). ``sorter``: the indices that sort an unsorted sequence.
    int64 (int32 with ``out_int32``); no gradient."""
    where = "searchsorted"
    if not isinstance(sorted_sequence, Tensor):
        raise TypeError(f"{where}(): argument 'sorted_sequence' must be a Tensor, not "
                        f"{type(sorted_sequence).__name__}")
    if side not in (None, "left", "right"):
        raise RuntimeError(f"{where}(): side can only be 'left' or 'right', got {side!r}")
    if side == "left" and right:
        raise RuntimeError(f"{where}(): side and right can't be set to opposites, got side of "
                           "left while right was True")
    mode = "right" if right or side == "right" else "left"
    xp = array_module(sorted_sequence._data)
    seq = sorted_sequence._data
    if seq.ndim == 0:
        raise RuntimeError(f"{where}(): boundaries tensor should have at least 1 dimension")
    scalar = not isinstance(input, Tensor)
    v = xp.asarray(input._data if not scalar else input)
    if sorter is not None:
        order = sorter._data if isinstance(sorter, Tensor) else xp.asarray(sorter)
        if order.shape != seq.shape or order.dtype.kind not in "iu":
            raise RuntimeError(f"{where}(): sorter must be an integer tensor of the sequence's "
                               f"shape {tuple(seq.shape)}, got {order.dtype} {tuple(order.shape)}")
        if order.size and bool(((order < 0) | (order >= seq.shape[-1])).any()):
            raise RuntimeError(f"{where}(): sorter index out of range: its entries must lie in "
                               f"[0, {seq.shape[-1]}), the length of the sequence; got "
                               f"{int(order.min())}..{int(order.max())}")
        seq = xp.take_along_axis(seq, order.astype(np.int64), axis=-1)
    if seq.dtype.kind == "f" and bool(xp.isnan(seq).any()):
        out = _binary_search(seq, v, mode == "right")
    elif seq.ndim == 1:
        out = xp.searchsorted(seq, v, side=mode)
    else:
        if v.ndim != seq.ndim or v.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(f"{where}(): boundaries tensor should be 1 dimension or the first "
                               f"N-1 dimensions of boundaries tensor and input value tensor must "
                               f"match, but we got boundaries tensor {list(seq.shape)} and input "
                               f"value tensor {list(v.shape)}")
        lead = math.prod(seq.shape[:-1])  # (not -1: a last dim of 0 leaves it ambiguous)
        flat_s = seq.reshape(lead, seq.shape[-1])
        flat_v = v.reshape(lead, v.shape[-1])
        out = xp.stack([xp.searchsorted(a, b, side=mode) for a, b in zip(flat_s, flat_v)]) \
            .reshape(v.shape) if flat_s.shape[0] else xp.zeros(v.shape, dtype=np.int64)
    return Tensor._make(xp.asarray(out).astype(np.int32 if out_int32 else np.int64))


def _binary_search(seq: Any, v: Any, right: bool) -> Any:
    """PyTorch's binary search, step by step for all values at once: it moves right past an
    element unless ``element >= value`` (``>`` with ``right``) -- so a NaN in the sequence counts
    as smaller than every value, where numpy's order puts it last. ``seq`` 1-D, or N-D with
    ``v``'s leading dims."""
    xp = array_module(seq)
    n = seq.shape[-1]
    rows = seq.reshape(-1, n) if seq.ndim > 1 else seq.reshape(1, n)
    vals = v.reshape(rows.shape[0], -1) if seq.ndim > 1 else v.reshape(1, -1)
    lo = xp.zeros(vals.shape, dtype=np.int64)
    hi = xp.full(vals.shape, n, dtype=np.int64)
    row = xp.arange(rows.shape[0]).reshape(-1, 1)
    with np.errstate(invalid="ignore"):
        while bool((lo < hi).any()):
            active = lo < hi
            mid = (lo + hi) // 2
            m = rows[row, xp.minimum(mid, n - 1)]
            stop = (m > vals) if right else (m >= vals)
            lo = xp.where(active & ~stop, mid + 1, lo)
            hi = xp.where(active & stop, mid, hi)
    return lo.reshape(v.shape)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket of each element of ``input`` among the 1-D sorted ``boundaries``: ``i`` with
    ``boundaries[i-1] < x <= boundaries[i]`` (with ``right``: ``boundaries[i-1] <= x <
    boundaries[i]``); int64 (int32 with ``out_int32``); no gradient."""
    if not isinstance(boundaries, Tensor) or boundaries.ndim != 1:
        got = f"dim({boundaries.ndim})" if isinstance(boundaries, Tensor) else \
            type(boundaries).__name__
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got {got}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """The indices of the non-zero elements (NaN counts as non-zero): an int64 tensor of shape
    ``(count, ndim)``, or with ``as_tuple`` one 1-D tensor per dim (a 0-d input counts as 1-D).
    No gradient."""
    xp = array_module(input._data)
    a = input._data
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64, copy=False))
                     for i in xp.nonzero(a.reshape(1) if a.ndim == 0 else a))
    return Tensor._make(xp.argwhere(a).astype(np.int64, copy=False))


_SortResult = collections.namedtuple("sort", ["values", "indices"])  # torch.return_types.sort
_TopkResult = collections.namedtuple("topk", ["values", "indices"])
_KthvalueResult = collections.namedtuple("kthvalue", ["values", "indices"])


def _sort_index(input: Tensor, dim: int, descending: bool, where: str) -> tuple[int, Any]:
    """``(dim, indices)``: the int64 indices that sort ``input`` along ``dim`` (a 0-d input as
    1-element 1-D), stable, NaN as the largest value, as PyTorch orders them."""
    if not isinstance(descending, (bool, np.bool_)):
        raise TypeError(f"{where}: descending must be a bool, got {descending!r}")
    d = _dim(dim, input.ndim, where)
    return d, _argsort(input._data if input.ndim else input._data.reshape(1), d, descending)


@rows_past_32_dims
def _argsort(x: Any, d: int, descending: bool) -> Any:
    """The stable int64 sort order of ``x`` along ``d``, NaN as the largest value."""
    xp = array_module(x)
    stable = {"kind": "stable"} if xp is np else {}  # CuPy's sort is always stable
    if not descending:
        return xp.argsort(x, axis=d, **stable).astype(np.int64, copy=False)
    # stable descending: sort the reversed array ascending, reverse the result and map its
    # indices back -- equal values keep their order, NaN comes first
    order = xp.argsort(xp.flip(x, axis=d), axis=d, **stable)
    return (x.shape[d] - 1 - xp.flip(order, axis=d)).astype(np.int64, copy=False)


def select(input: Tensor, dim: int, index: Any, keepdim: bool = True) -> Tensor:
    """``input.gather(dim, index)`` for an int64 backend ``index`` of ``input``'s shape but along
    ``dim`` that picks no element twice in a row (a sort order, its first k, one place per row):
    the VJP writes the gradient there, as PyTorch's VJP of sort, topk, kthvalue, median and
    max(dim) does (a -0.0 stays -0.0, where gather's scatter-add onto zeros would give +0.0).
    ``keepdim=False`` (one index along ``dim``): that dim dropped, by the same op -- a tensor of
    its own, not a view (:class:`GatherSqueeze`)."""
    if keepdim:
        return Gather.apply(input, index=index, dim=dim, unique=True)
    return GatherSqueeze.apply(input, index=index, dim=dim)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
    """A named tuple ``(values, indices)``: ``input`` sorted along ``dim`` and where each value came
    from (int64). Always stable (``stable=False`` allows any order of ties; this one is PyTorch's
    stable order). NaN sorts as the largest value. The gradient of ``values`` goes back to the
    index each came from (``gather``); ``indices`` get none."""
    d, idx = _sort_index(input, dim, descending, "sort")
    if input.ndim == 0:
        return _SortResult(select(input.reshape(1), 0, idx).reshape(()), Tensor._make(idx[0]))
    return _SortResult(select(input, d, idx), Tensor._make(idx))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    """The int64 indices that sort ``input`` along ``dim`` (``sort(...).indices``); no gradient."""
    d, idx = _sort_index(input, dim, descending, "argsort")
    return Tensor._make(idx if input.ndim else idx[0])


def _sorted_for_k(input: Tensor, k: Any, dim: int, largest: bool, where: str
                  ) -> tuple[int, Any, int]:
    """topk's and kthvalue's arguments checked, and ``(dim, sorting indices, size of dim)`` --
    where only the first ``k`` are needed and few of a long dim, those first ``k`` only (a
    partition, not a sort: ``_first_k``)."""
    if input.dtype == np.bool_:
        raise NotImplementedError(f"{where}: bool tensors are not supported (as in PyTorch, a "
                                  "RuntimeError too); convert with .long() or .float()")
    k = _int_of(k)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"{where}: k must be an int, got {k!r}")
    if input.ndim:
        d = _dim(dim, input.ndim, where)
        n = input.shape[d]
        first = _first_k(input._data, d, int(k), largest) if 0 < k <= n // 8 else None
        if first is not None:
            return d, first, n
    d, idx = _sort_index(input, dim, largest, where)
    return d, idx, (input.shape[d] if input.ndim else 1)


_PARTITION_FROM = 4096  # (a dim this long: partition for k of at most an eighth of it)


def _first_k(x: Any, d: int, k: int, largest: bool) -> Any | None:
    """The first ``k`` of the stable sort order along ``d`` (descending with ``largest``), found
    by a partition in O(n) instead of a sort (topk(1) of 1e7 floats: 1.4 s, now ~0.1 s, t165):
    the elements strictly before the k-th one's value, then those equal to it in index order --
    the stable sort's ties exactly -- then those k sorted. None where it does not apply (NaN, which
    the sort orders apart; CuPy; a short dim)."""
    if type(x) is not np.ndarray or x.shape[d] < _PARTITION_FROM or x.dtype.kind not in "fiu":
        return None
    if x.dtype.kind == "f" and bool(np.isnan(x).any()):
        return None
    xm = np.moveaxis(x, d, -1)
    if not largest:
        key = xm
    elif x.dtype.kind == "f":
        key = -xm  # (exact; -0.0 and 0.0 stay equal, as in the sort)
    elif x.dtype.kind == "i":
        key = ~xm  # (-x - 1: decreasing, no overflow at the smallest int)
    else:
        key = np.iinfo(x.dtype).max - xm
    part = np.argpartition(key, k - 1, axis=-1)[..., :k]
    cut = np.take_along_axis(key, part, axis=-1).max(axis=-1, keepdims=True)  # the k-th value
    before = key < cut
    ties = np.cumsum(key == cut, axis=-1) <= (k - before.sum(axis=-1, keepdims=True))
    chosen = before | ((key == cut) & ties)  # exactly k per row, in index order below
    idx = np.nonzero(chosen)[-1].reshape(*key.shape[:-1], k)
    order = np.argsort(np.take_along_axis(key, idx, axis=-1), axis=-1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=-1).astype(np.int64, copy=False)
    return np.ascontiguousarray(np.moveaxis(idx, -1, d))


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """A named tuple ``(values, indices)``: the ``k`` largest (``largest=False``: smallest)
    elements along ``dim``, largest first (smallest first), ties in index order, NaN as the
    largest value; ``sorted=False`` returns them in that order too. The gradient of ``values``
    goes to the indices (``gather``)."""
    d, idx, n = _sorted_for_k(input, k, dim, largest, "topk")
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k={k} out of range for dim {d} of size {n} "
                           f"(shape {input.shape})")
    if input.ndim == 0:  # k is 0 or 1: the element itself, as in PyTorch
        return _TopkResult(select(input.reshape(1), 0, idx).reshape(()), Tensor._make(idx[0]))
    # (the first k of the sort order, copied: a slice kept the whole order alive -- 80 MB for
    # topk(1) of a 100 x 100,000 input -- and its strides refused view(-1), as PyTorch's do not)
    idx = array_module(idx).ascontiguousarray(idx[(slice(None),) * d + (slice(0, int(k)),)])
    return _TopkResult(select(input, d, idx), Tensor._make(idx))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """A named tuple ``(values, indices)``: the ``k``-th smallest element along ``dim`` (1-based)
    and where it is (NaN as the largest value; among ties, the stable sort's -- PyTorch's
    quickselect may pick another of the tied indices, and its gradient goes there). The gradient
    of ``values`` goes to that index (``gather``)."""
    keepdim = keepdim_arg("kthvalue", keepdim)
    d, idx, n = _sorted_for_k(input, k, dim, False, "kthvalue")
    if n == 0:  # (PyTorch's IndexError; a k past a non-empty dim is its RuntimeError)
        raise IndexError(f"kthvalue: expected reduction dim {d} to have non-zero size (shape "
                         f"{input.shape})")
    if not 1 <= k <= n:
        raise ArgumentIndexError(f"kthvalue: k={k} is out of range for dim {d} of size {n} (shape "
                                 f"{input.shape}; allowed: 1 to {n})")
    if input.ndim == 0:
        return _KthvalueResult(input * 1, Tensor._make(idx[0]))
    pick = array_module(idx).ascontiguousarray(  # (a copy: see topk)
        idx[(slice(None),) * d + (slice(int(k) - 1, int(k)),)])
    values, where = select(input, d, pick, keepdim), Tensor._make(pick)
    if not keepdim:
        where = where.squeeze(d)
    return _KthvalueResult(values, where)


def take(input: Tensor, index: Any) -> Tensor:
    """``input`` read as if flattened, at ``index`` (an int64 tensor of any shape; negative indices
    count from the end): a tensor of ``index``'s shape. Repeated indices add their gradients up
    (``getitem`` with one index array per dim, so no flattened copy is made)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"take: index must be an int64 Tensor, got {type(index).__name__} (make "
                        "one with tinygrad_cnn.tensor(..., dtype=tinygrad_cnn.long))")
    if index.dtype != np.int64:  # PyTorch's rule: int32 is refused too
        raise ArgumentTypeError(f"take: index must be an int64 tensor, got {index.dtype}; convert it "
                                "with .long()")
    idx = like(index._data, input._data).copy()  # (the graph keeps it; yours may change)
    n = input.numel()
    if idx.size and not n:
        raise IndexError(f"take: cannot take from an empty tensor (shape {input.shape}) at "
                         f"{idx.size} indices")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -n or hi >= n:
            raise IndexError(f"take: index {lo if lo < -n else hi} is out of range for a tensor "
                             f"of {n} elements (shape {input.shape}; allowed: {-n} to {n - 1})")
        if lo < 0:
            idx = array_module(idx).where(idx < 0, idx + n, idx)
    if input.ndim == 0 or input.ndim > 32:  # (past 32 dims, as a flat tensor: see _scatter_key)
        input = input.reshape(-1)
    key = array_module(idx).unravel_index(idx, input.shape)  # one array of index's shape per dim
    return GetItem.apply(input, key=tuple(k.astype(np.int64, copy=False) for k in key))


def _mask_shape(where: str, input: Tensor, mask: Any) -> tuple[int, ...]:
    """The shape ``input`` and the bool tensor ``mask`` broadcast to (checked)."""
    if not isinstance(mask, Tensor):
        raise TypeError(f"{where}: mask must be a bool Tensor, got {type(mask).__name__}")
    if mask.dtype != np.bool_:
        raise TypeError(f"{where}: mask must be a bool tensor, got {mask.dtype} (as in PyTorch); "
                        "make one with a comparison or .bool()")
    try:
        return _bshapes(input.shape, mask.shape)
    except ValueError:
        raise ArgumentValueError(f"{where}: input of shape {input.shape} and mask of shape {mask.shape} "
                                 "cannot be broadcast together") from None


def masked_select(input: Tensor, mask: Any) -> Tensor:
    """The elements of ``input`` where the bool ``mask`` is True, the two broadcast together, as
    a 1-D tensor (in row-major order). Gradient: ``g`` back at the selected places, summed over
    the dims ``input`` was broadcast along."""
    shape = _mask_shape("masked_select", input, mask)
    xp = array_module(input._data)
    m = like(mask._data, input._data)
    if not shape:  # both 0-d: the element, or nothing
        return GetItem.apply(input.reshape(1), key=(xp.zeros(int(bool(m)), dtype=np.int64),),
                             unique=True)
    if len(shape) > 32:  # (numpy indexes with at most 63 arrays: as flat tensors)
        flat = input.broadcast_to(shape).reshape(-1)
        return GetItem.apply(flat, key=xp.nonzero(xp.broadcast_to(m, shape).reshape(-1)),
                             unique=tuple(shape) == input.shape)
    hits = xp.nonzero(xp.broadcast_to(m, shape) if m.shape != shape else m)  # one array per dim
    if input.ndim == 0:
        return GetItem.apply(input.reshape(1), key=(xp.zeros_like(hits[0]),))
    # each selected place of the broadcast shape read from input: its own dims (trailing), with
    # index 0 where input has size 1 (the gradients of a repeated index add up)
    lead = len(shape) - input.ndim
    key = tuple(xp.zeros_like(h) if input.shape[i] == 1 and shape[lead + i] != 1 else h
                for i, h in enumerate(hits[lead:]))
    if tuple(shape) == input.shape:  # nothing broadcast: each element picked once at most, and
        return GetItem.apply(input, key=key, unique=True)  # the VJP writes (masked_scatter's)
    return GetItem.apply(input, key=key, **(_WIDE if input.dtype == np.float16 else {}))


#: index_select's and masked_select's float16 gradients add up in float32 (PyTorch's)
_WIDE = {"wide_grad": True}


def masked_scatter(input: Tensor, mask: Any, source: Tensor, *,
                   where: str = "masked_scatter") -> Tensor:
    """A copy of ``input`` (broadcast with the bool ``mask``) with ``source``'s elements, read in
    row-major order, written where ``mask`` is True: the k-th True place gets ``source``'s k-th
    element; ``source`` (any shape, ``input``'s dtype) needs at least as many elements as there
    are True places. ``where(mask, source.flatten()[k(place)], input)``, so the gradients are
    ``where``'s and ``getitem``'s: ``dinput = g`` where ``mask`` is False (summed over the dims
    ``input`` was broadcast along), ``dsource`` = ``g`` at the True places in order for the first
    ``mask.sum()`` elements, zeros for the rest."""
    if not isinstance(source, Tensor):
        raise TypeError(f"{where}: source must be a Tensor, got {type_name(source)}")
    if source.dtype != input.dtype:
        raise ArgumentTypeError(f"{where}: source is {source.dtype} but the tensor is {input.dtype}; "
                                "convert one of them with .to()")
    shape = _mask_shape(where, input, mask)
    xp = array_module(input._data)
    m = xp.broadcast_to(like(mask._data, input._data), shape).reshape(-1)
    count, n = int(m.sum()), source.numel()
    if n < count:
        raise ArgumentValueError(f"{where}: the mask has {count} True places but source (shape "
                                 f"{source.shape}) has only {n} elements; give a source of at least "
                                 f"{count} elements")
    flat = source.reshape(-1)
    if n == 0:  # nothing is read: every place reads a zero past the end (source's gradient: empty)
        flat = cat([flat, Tensor._make(xp.zeros(1, dtype=input.dtype))])
    # the place's number among the True places (a False place reads element 0, and gets no
    # gradient through where)
    k = xp.maximum(xp.cumsum(m, dtype=np.int64) - 1, 0)
    picked = GetItem.apply(flat, key=(k,)).reshape(shape)
    return _where(Tensor._make(m.reshape(shape)), picked, input)


# ------------------------------------------------------------------------------ scatters into views
# PyTorch's out-of-place writes into a view of a copy: compositions of the copy (clone), the view
# and the recorded write (``__setitem__`` / ``copy_``, whose VJPs -- CopySlices -- give the input
# its gradient outside the region and ``src`` the gradient inside it).

def _source(src: Any, input: Tensor, where: str, cast: bool = True) -> Tensor:
    """``src`` in ``input``'s dtype: converted, as PyTorch's scatters into views convert it (the
    gradient comes back in ``src``'s own dtype); ``put`` refuses another dtype, as PyTorch's."""
    if not isinstance(src, Tensor):
        raise TypeError(f"{where}: src must be a Tensor, got {type_name(src)}")
    if src.dtype != input.dtype:
        if not cast:
            raise ArgumentTypeError(f"{where}: source is {src.dtype} but the input is {input.dtype}; "
                                    "convert one of them with .to()")
        return src.to(input.dtype)
    return src


def _write_region(input: Tensor, src: Tensor, region: Any, where: str) -> Tensor:
    """A copy of ``input`` whose view ``region(copy)`` holds ``src`` (of that view's shape)."""
    out = input.clone()
    view = region(out)
    if view.shape != src.shape:
        raise ArgumentValueError(f"{where}: src of shape {src.shape} does not fit the region of "
                                 f"shape {view.shape} it replaces (input {input.shape})")
    view.copy_(src)
    return out


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``input.select(dim, index)`` replaced by ``src``. Gradients:
    ``g`` to ``input`` outside that slice, ``g.select(dim, index)`` to ``src``."""
    where = "select_scatter"
    src = _source(src, input, where)
    d = _dim(dim, input.ndim, where)
    return _write_region(input, src, lambda t: t.select(d, index), where)


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None,
                  end: int | None = None, step: int = 1) -> Tensor:
    """A copy of ``input`` with the slice ``start:end:step`` along ``dim`` replaced by ``src``.
    Gradients: ``g`` outside the slice to ``input``, ``g`` in it to ``src``."""
    where = "slice_scatter"
    src = _source(src, input, where)
    d = _dim(dim, input.ndim, where)
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise ArgumentValueError(f"{where}: step must be a positive int, got {step!r}")
    key = (slice(None),) * d + (slice(start, end, step),)
    return _write_region(input, src, lambda t: t[key], where)


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0,
                     dim2: int = 1) -> Tensor:
    """A copy of ``input`` with ``input.diagonal(offset, dim1, dim2)`` replaced by ``src``.
    Gradients: ``g`` off that diagonal to ``input``, ``g.diagonal(...)`` to ``src``."""
    where = "diagonal_scatter"
    src = _source(src, input, where)
    return _write_region(input, src, lambda t: t.diagonal(offset, dim1, dim2), where)


def put(input: Tensor, index: Any, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source`` written at the flat positions ``index`` (as ``take``
    reads them; negative ones count from the end); with ``accumulate`` added, repeated indices
    adding up. Gradients: ``g`` to ``input`` (not where overwritten), ``g.take(index)`` to
    ``source``."""
    where = "put"
    if not isinstance(index, Tensor) or index.dtype != np.int64:
        raise TypeError(f"{where}: index must be an int64 Tensor, got "
                        f"{index.dtype if isinstance(index, Tensor) else type_name(index)}")
    source = _source(source, input, where, cast=False)
    if source.numel() != index.numel():
        raise ArgumentValueError(f"{where}: source has {source.numel()} elements (shape {source.shape}) "
                                 f"but index {index.numel()} (shape {index.shape}); they must match")
    idx = index.reshape(-1)
    _check_range(idx._data, input.numel(), where, 0, input.shape, negative=True)
    flat = input.reshape(-1)
    return flat.index_put((idx,), source.reshape(-1), accumulate=accumulate).reshape(input.shape)


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """A bool tensor of ``elements``' shape: whether each element is among ``test_elements``
    (either may be a number); with ``invert``, whether it is not. No gradient."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin: elements or test_elements must be a Tensor, got "
                        f"{type_name(elements)} and {type_name(test_elements)}")
    ref = elements if isinstance(elements, Tensor) else test_elements
    xp = array_module(ref._data)
    # compared as PyTorch compares them: a number in the tensor's dtype (0.1 as float32, 300
    # wrapped into int8), two tensors in their promoted dtype
    if isinstance(elements, Tensor) and isinstance(test_elements, Tensor):
        dt = promote_types(elements.dtype, test_elements.dtype)
    else:  # a number: in the tensor's dtype, unless a float meets an integer tensor
        number = _number(test_elements if ref is elements else elements)
        dt = np.dtype(np.float32) if isinstance(number, float) and ref.dtype.kind in "iub" \
            else ref.dtype
    for x in (elements, test_elements):
        if not isinstance(x, Tensor) and (isinstance(x, bool) or not isinstance(
                x, (int, float, np.number, np.bool_))):
            raise TypeError(f"isin: elements and test_elements must be Tensors or numbers, got "
                            f"{type_name(x)}")
    with np.errstate(over="ignore", invalid="ignore"):  # (a C cast: 300 wraps into int8)
        a, b = (x._data.astype(dt, copy=False) if isinstance(x, Tensor)
                else xp.asarray(np.asarray(_number(x)).astype(dt)) for x in (elements, test_elements))
    out = xp.isin(a, b, assume_unique=assume_unique, invert=invert)
    return Tensor._make(xp.asarray(out, dtype=bool))
