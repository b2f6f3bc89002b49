"""In-place writes: copy_slices (how an in-place op on a view, or an item assignment, is recorded on
the view's base -- PyTorch's CopySlices), zero_slices (its VJP), and fill (``fill_``/``zero_``).

A region is named by a *chain*: the view ops ``(Function, attrs)`` that make it from the base,
in order (``x.reshape(2, 3)[0]`` is ``((Reshape, {"shape": (2, 3)}), (GetItem, {"key": (0,)}))``).
The last step may be an advanced-index ``getitem`` (item assignment ``t[idx] = v``). Replaying
the chain on the base's array gives a view of the same elements, since every op in it is a view
op (``Function.is_view``) and the base never changes its memory. On another array (a gradient,
in C order where the base was not) a step may copy instead -- a reshape that merges the dims
of a transposed base -- so zero_slices finds the region's places by replaying the chain on the
flat indices, not by writing through it.
"""

from __future__ import annotations

import math
from typing import Any

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module, writeable
from tinygrad_cnn.backend import may_overlap as _may_overlap
from tinygrad_cnn.ops.movement import GetItem, _is_basic
from tinygrad_cnn.tensor import Tensor, _writable_alias

Chain = tuple[tuple[Any, dict[str, Any]], ...]


def _view_array(arr: Any, chain: Chain) -> Any:
    """The view of ``arr`` that ``chain`` makes (each op's forward on a scratch context)."""
    for fn, attrs in chain:
        arr = fn.forward(Context(fn, (False,)), arr, **attrs)
    return arr


def region_places(shape: tuple[int, ...], chain: Chain, xp: Any) -> Any:
    """The flat C-order indices, into an array of ``shape``, of the elements the view ``chain``
    shows (one per element shown: repeated where it shows one several times), whatever the
    memory layout -- the chain replayed on the indices themselves, where a step may copy."""
    return xp.ravel(xp.asarray(_view_array(xp.arange(math.prod(shape), dtype=xp.int64)
                                           .reshape(shape), chain)))


def write_region(arr: Any, chain: Chain, value: Any) -> None:
    """``region(arr)[...] = value``, in place. A region read through an ``expand`` (a read-only
    broadcast) is written where it repeats no element (a row of it), through a writable alias of
    the same memory, as PyTorch writes it."""
    *lead, (fn, attrs) = chain
    parent = _view_array(arr, tuple(lead))
    if fn is GetItem:
        key = attrs["key"]
        if writeable(parent):
            parent[key] = value  # basic or advanced indexing: numpy writes through both
            return
        if not _is_basic(key) and _repeats_nothing(parent, key):
            # (an index array or mask into a row of an expanded tensor: no two elements it
            # selects share memory, so it is written as PyTorch writes it)
            _writable_alias(parent, arr)[key] = value
            return
        # (a trailing ... keeps one element a 0-d view, not a scalar)
        target = parent[key if any(k is Ellipsis for k in key) else (*key, Ellipsis)] \
            if _is_basic(key) else None
    else:
        target = _view_array(parent, ((fn, attrs),))
    if target is not None and not writeable(target):
        target = None if _may_overlap(target) else _writable_alias(target, arr)
    if target is None:
        raise RuntimeError("copy_slices: the region written shows one value in several places "
                           "(it is read through an expand()); call .clone() first")
    target[...] = value


def _repeats_nothing(view: Any, key: Any) -> bool:
    """Whether the elements ``view[key]`` selects (an advanced key) lie at distinct places in
    memory -- a key that names one element twice is fine, two elements that an ``expand`` shows
    from one place are not."""
    xp = array_module(view)
    offsets = xp.zeros(view.shape, dtype=xp.int64)
    for d, (n, stride) in enumerate(zip(view.shape, view.strides)):
        shape = [1] * view.ndim
        shape[d] = n
        offsets = offsets + (xp.arange(n, dtype=xp.int64) * stride).reshape(shape)
    places = xp.arange(view.size, dtype=xp.int64).reshape(view.shape)
    try:
        return len(xp.unique(offsets[key])) == len(xp.unique(places[key]))
    except (IndexError, ValueError, TypeError):  # (a bad key: the write itself says so)
        return False


def region(t: Tensor, chain: Chain) -> Tensor:
    """The region of ``t`` as a recorded view (its VJP puts a gradient back into place)."""
    for fn, attrs in chain:
        t = fn.apply(t, **attrs)
    return t


class CopySlices(Function):
    """``base[region] = value``, in place: the forward writes ``value`` into the region of ``base``'s
    memory that ``chain`` selects and returns ``base`` (the engine makes this node ``base``'s new
    grad_fn). VJP: ``base`` gets ``g`` with the region zeroed (those elements were overwritten, so
    what was there before has no effect), ``value`` gets ``g``'s region."""

    name = "copy_slices"

    @staticmethod
    def forward(ctx: Context, base: Any, value: Any, chain: Chain = ()) -> Any:
        write_region(base, chain, value)
        return base

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        chain = ctx.attrs["chain"]
        nb, nv = ctx.needs_input_grad
        return (ZeroSlices.apply(g, chain=chain) if nb else None), \
            (region(g, chain) if nv else None)


class ZeroSlices(Function):
    """A copy of ``g`` with the region that ``chain`` selects set to 0 (the VJP of copy_slices for
    the base). It is a projection, so its VJP is itself."""

    name = "zero_slices"

    @staticmethod
    def forward(ctx: Context, g: Any, chain: Chain = ()) -> Any:
        # (the places of the region, as flat C-order indices: ``g`` is in C order, and the
        # chain's view of it may be a copy -- was: ``h.t().reshape(-1).zero_()`` on a
        # column-major ``h`` zeroed a copy of the gradient, and the overwritten elements
        # passed their gradient back)
        xp = array_module(g)
        out = xp.array(g, order="C", copy=True)
        out.reshape(-1)[region_places(g.shape, chain, xp)] = 0
        return out

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> Tensor:
        return ZeroSlices.apply(gg, chain=ctx.attrs["chain"])


class Fill(Function):
    """``x`` with every element set to ``value`` (what ``fill_``/``zero_`` record). VJP: zeros --
    the old values have no effect on the result."""

    @staticmethod
    def forward(ctx: Context, x: Any, value: float = 0.0) -> Any:
        return array_module(x).full(x.shape, value, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Tensor._make(array_module(g._data).zeros_like(g._data))
