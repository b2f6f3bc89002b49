"""Reductions: sum, mean, max, logsumexp; and issue 14's min (amin), prod, var, std, norm and the
scans cumsum, cumprod.

``dim`` arrives normalised (a sorted tuple of non-negative dims, or ``None`` for all). Each VJP
brings the gradient back to the reduced shape with ``keepdim`` and then ``expand``s it over the
input, so its own VJP (a sum) is right for second derivatives.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function, _GradModeSwitch, _state, first_order, forward_arrays
from tinygrad_cnn.backend import array_module, quiet
from tinygrad_cnn.ops.elementwise import keep
from tinygrad_cnn.tensor import Tensor, where


def _kept_shape(shape: tuple[int, ...], dim: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape the reduction has with ``keepdim=True``."""
    if dim is None:
        return (1,) * len(shape)
    return tuple(1 if i in dim else s for i, s in enumerate(shape))


def _spread(g: Tensor, shape: tuple[int, ...], dim: tuple[int, ...] | None) -> Tensor:
    """The gradient of a reduction, spread back over the input's shape. Where only leading dims
    were reduced away (a full sum, a batch sum), ``expand`` adds them back by itself: one node
    instead of two on the hot path of every loss."""
    if dim is None or (dim == tuple(range(len(dim))) and g.ndim == len(shape) - len(dim)):
        return g.expand(shape)
    return g.reshape(_kept_shape(shape, dim)).expand(shape)


class Sum(Function):
    """Sum over ``dim`` (all dims when None). VJP: ``g`` spread back over the summed dims (an
    expand: every element of a sum gets the same gradient)."""
    contiguous = True

    @staticmethod
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        ctx.shape, ctx.dim = x.shape, dim
        if x.dtype.kind in "biu":  # integers and bools add up in int64, as in PyTorch
            return _add(x, dim, keepdim, array_module(x).int64)
        if x.dtype == np.float16:  # added up in float32, rounded once (PyTorch's); numpy adds
            # along a non-last axis in float16 itself: ones((4096, 3)).sum(0) stopped at 2048
            return _add(x, dim, keepdim, np.float32).astype(np.float16)
        return float_sum(x, dim, keepdim)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if not _state.grad_enabled:  # first order: one broadcast array, no nodes
            return Tensor._make(_spread_array(g._data, ctx.shape, ctx.dim))
        return _spread(g, ctx.shape, ctx.dim)


def _spread_array(gd: Any, shape: tuple[int, ...], dim: tuple[int, ...] | None) -> Any:
    """:func:`_spread` on the array: a read-only broadcast where the reduction repeats ``gd``,
    a plain (writable) reshape where it repeats nothing (summed dims of size 1), as ``expand``
    gives -- a hook may change that gradient in place, as in PyTorch."""
    kept = _kept_shape(shape, dim)
    if kept == tuple(shape):
        return gd.reshape(kept)
    return array_module(gd).broadcast_to(gd.reshape(kept), shape)


def float_sum(x: Any, dim: tuple[int, ...] | None, keepdim: bool = False) -> Any:
    """The sum of a float32 or float64 array over ``dim`` (a sorted tuple, or None), as
    :class:`Sum` gives it (first-order VJPs that sum on arrays call this, for the same bits)."""
    if dim is not None and len(dim) > 1 and dim[0] == 0 and not keepdim:
        # the batch axis first, in long contiguous adds, then the rest: up to 2.4x faster
        # than one strided pass for a bias gradient (N, C, H, W) -> (C,)
        return _add(_add(x, (0,), False), tuple(d - 1 for d in dim[1:]), False)
    return _add(x, dim, keepdim)


def _add(x: Any, dim: int | tuple[int, ...] | None, keepdim: bool, dtype: Any = None) -> Any:
    """``x.sum``; on numpy arrays the ufunc itself (faster, and inf - inf then warns from this
    module, whose numpy warnings the package filters, not from numpy's). A float32 sum that
    numpy would add up one element at a time over more than ``SEQUENTIAL_MAX`` elements is
    added in float64 and rounded once (see :func:`sequential_count`)."""
    if type(x) is np.ndarray:
        if dtype is None and dim is not None and x.dtype == _F32 and x.ndim > 1 and (
                x.size > SEQUENTIAL_MAX * x.shape[-1] or not x.flags.c_contiguous) \
                and sequential_count(x, dim) > SEQUENTIAL_MAX:
            # (the first tests bound the count cheaply: in C order no reduction adds more than
            # size / shape[-1] elements one at a time -- small ops pay no more than them)
            return np.add.reduce(x, axis=dim, dtype=np.float64, keepdims=keepdim).astype(
                np.float32)
        return np.add.reduce(x, axis=dim, dtype=dtype, keepdims=keepdim)
    return x.sum(axis=dim, keepdims=keepdim, dtype=dtype)


#: the longest run of float32 additions a sum may make one element at a time: beyond it the sum is
#: accumulated in float64 (numpy adds pairwise only along its inner loop's axis; along the others
#: one value at a time, an error growing with the count: 10,000 rows of 0.1 summed over dim 0
#: gave 999.9029, 1,591 ulp off, PyTorch's cascade sum 2.8 ulp -- t196; at 64, LeNet-5's batch,
#: the bias gradients' error stays within a few ulp and their sums at their speed)
SEQUENTIAL_MAX = 64
_F32 = np.dtype(np.float32)


def sequential_count(x: np.ndarray, dim: int | tuple[int, ...] | None) -> int:
    """How many of ``x``'s elements numpy's ``add.reduce`` over ``dim`` adds one at a time into
    each result: 0 where it sums pairwise (a reduction over every dim, or over trailing dims of a
    C-ordered array, which numpy runs as one long axis), else the product of the reduced dims
    other than the one its inner loop runs along (the smallest stride)."""
    nd = x.ndim
    if dim is None or nd < 2:
        return 0
    if isinstance(dim, int):
        dim = (dim,)
    contiguous = x.flags.c_contiguous
    if contiguous and len(dim) == 1 and (dim[0] == -1 or dim[0] == nd - 1):
        return 0  # (the everyday last-dim reduction -- softmax's, layer norm's: no more work)
    dim = tuple(sorted(d % nd for d in dim))
    if contiguous and dim == tuple(range(nd - len(dim), nd)):
        return 0
    inner = min(((abs(st), -ax) for ax, (st, n) in enumerate(zip(x.strides, x.shape))
                 if n > 1 and st), default=(0, 0))  # (an expand's stride-0 dim: no inner loop
    # of numpy's pairwise sums -- its repeats were added one at a time, 1,591 ulp -- t198)
    others = [x.shape[d] for d in dim if d != -inner[1]]
    return math.prod(others) if others else 0


class Mean(Function):
    """Mean over ``dim`` (all dims when None). VJP: ``g / n`` spread back over the averaged dims,
    ``n`` the number of averaged elements."""
    contiguous = True

    @staticmethod
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        ctx.shape, ctx.dim = x.shape, dim
        ctx.count = x.size if dim is None else math.prod(x.shape[d] for d in dim)
        if ctx.count == 0:  # NaN, as PyTorch, without numpy's "Mean of empty slice" warnings
            with warnings.catch_warnings(), np.errstate(invalid="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                return x.mean(axis=dim, keepdims=keepdim)
        if type(x) is np.ndarray and x.dtype.kind == "f":
            return _mean_array(x, dim, keepdim, ctx.count)
        return x.mean(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        count = ctx.count or 1  # nothing averaged: the gradient is empty, no 1 / 0 to make
        if not _state.grad_enabled:  # first order: one broadcast array, no nodes
            gd = g._data
            gd = (gd.astype(np.float32) / count).astype(gd.dtype) if _narrow(gd, count) else \
                gd / count
            return Tensor._make(_spread_array(gd, ctx.shape, ctx.dim))
        # spread first, then divide (PyTorch's order: over an empty dim the division has no
        # elements, and the second derivative is 0, not 0 * inf)
        g = _spread(g, ctx.shape, ctx.dim)
        return (g.float() / count).to(g.dtype) if _narrow(g._data, count) else g / count


def _mean_array(x: np.ndarray, dim: tuple[int, ...] | None, keepdim: bool, count: int) -> Any:
    """numpy's ``mean`` of a float array, bit for bit (its sum -- in float32 for float16 -- then
    one division), without the Python layer around it: 12 -> 5 µs for a 16×16 row mean; but
    for a float32 sum that numpy adds one element at a time over more than ``SEQUENTIAL_MAX``
    elements, which :func:`_add` accumulates in float64."""
    if x.dtype == np.float16:
        total = np.add.reduce(x, axis=dim, dtype=np.float32, keepdims=keepdim)
    else:
        total = _add(x, dim, keepdim)  # (float32 in float64 where numpy adds one at a time)
    if isinstance(total, np.ndarray):
        np.true_divide(total, count, out=total)
        return total if total.dtype == x.dtype else total.astype(x.dtype)
    return x.dtype.type(total / count)


def array_mean(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
    """``x.mean(axis=axis, keepdims=keepdims)``, bit for bit; on a numpy float array that is not
    empty without numpy's Python layer around it (:func:`_mean_array`)."""
    if type(x) is np.ndarray and x.dtype.kind == "f" and x.size:
        if axis is None:
            return _mean_array(x, None, keepdims, x.size)
        dims = (axis,) if isinstance(axis, int) else tuple(axis)
        return _mean_array(x, dims, keepdims, math.prod(x.shape[d] for d in dims))
    return x.mean(axis=axis, keepdims=keepdims)


def _narrow(g: Any, count: int) -> bool:
    """Whether dividing ``g`` by ``count`` must go through float32, as PyTorch does (its
    "opmath", rounding once): float16 holds integers exactly only up to 2048, and a count past
    65504 becomes inf (a mean over 70,000 elements had a zero gradient)."""
    return g.dtype.itemsize < 4 and g.dtype.kind == "f" and count > 2048


def _extreme(ctx: Context, x: Any, dim: tuple[int, ...] | None, keepdim: bool, out: Any,
             nan_wins: bool = False) -> Any:
    """What Max and Min share: the tied winners' shares of the gradient (kept for the VJP), and
    the result with or without the reduced dims (``out`` is the reduction with ``keepdims``).
    A NaN result has no winner (a NaN gradient, ``torch.amax``'s), or with ``nan_wins`` its NaNs
    share the gradient (``torch.max()`` of a whole tensor)."""
    if ctx.needs_input_grad[0]:
        xp = array_module(x)
        winners = x == out
        if out.size == 1 and x.dtype.kind == "f":  # one result: NaN is seen without a pass
            first = out.reshape(-1)[0]  # (not .flat: numpy's iterator stops at 32 dims)
            if first != first:  # max() (nan_wins): its NaNs win; amax: no winner at all
                winners = xp.isnan(x) if nan_wins else xp.full(x.shape, xp.nan, x.dtype)
        winners = winners.astype(x.dtype, copy=False)
        # ties split the gradient: g / count, divided as PyTorch divides (0.9 / 3 is 0.3,
        # 0.9 * (1/3) 0.30000000000000004); float16 counted in float32 (exact past 2,048); a
        # NaN result without winners counts 0 (its gradient NaN: inf * 0, as amax's)
        ctx.count = winners.sum(axis=dim, keepdims=True,
                                dtype=np.float32 if x.dtype == np.float16 else None)
        ctx.no_winner = out.size > 1 and not ctx.count.all()  # (then quiet: 1/0, inf * 0)
        ctx.save_for_backward(winners)
        ctx.shape, ctx.dim = x.shape, dim
    return out if keepdim else out.reshape(
        tuple(s for i, s in enumerate(x.shape) if dim is not None and i not in dim))


def _extreme_backward(ctx: Context, g: Tensor) -> Tensor:
    # PyTorch's two rules: max()/min() of a whole tensor select (the elements that did not win
    # get exactly 0, even from a NaN or inf gradient); amax/amin multiply (0 * inf = NaN there)
    (winners,) = ctx.saved_tensors
    count = ctx.count
    select = ctx.attrs.get("nan_wins", False)
    with np.errstate(divide="ignore", invalid="ignore") if ctx.no_winner else _QUIET_NOT_NEEDED:
        if not _state.grad_enabled:  # first order: the same on arrays, no nodes
            share = g._data.reshape(count.shape) / count
            if share.dtype != g.dtype:  # (float16 over a float32 count: rounded once)
                share = share.astype(g.dtype)
            w = winners._data
            if select:
                with np.errstate(invalid="ignore"):  # (a NaN winner's share times 0 elsewhere)
                    return Tensor._make(array_module(w).where(w != 0, share * w, 0).astype(w.dtype))
            return Tensor._make(share * w)
        per = g.reshape(count.shape) / Tensor._make(count.astype(g.dtype, copy=False))
        spread = _spread(per, ctx.shape, ctx.dim) * winners
    return keep(spread, winners._data != 0) if select else spread


_QUIET_NOT_NEEDED = contextlib.nullcontext()


class Max(Function):
    """Largest value over ``dim``; tied maxima share the gradient equally (like ``torch.amax``).
    VJP: ``g`` spread over the input, times each element's share (1/#ties for a maximum, else
    0)."""
    contiguous = True

    @staticmethod
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False, nan_wins: bool = False) -> Any:
        return _extreme(ctx, x, dim, keepdim, x.max(axis=dim, keepdims=True), nan_wins)

    backward = staticmethod(_extreme_backward)


class Min(Function):
    """Smallest value over ``dim``; tied minima share the gradient equally (like ``torch.amin``).
    VJP: as Max's."""
    contiguous = True

    @staticmethod
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False, nan_wins: bool = False) -> Any:
        return _extreme(ctx, x, dim, keepdim, x.min(axis=dim, keepdims=True), nan_wins)

    backward = staticmethod(_extreme_backward)


class _Float32Norm:
    """A float16 norm's context seen with its saved input and result in float32."""

    def __init__(self, ctx: Context, x: Tensor, norm: Tensor) -> None:
        self.p, self.dim, self.saved_tensors = ctx.p, ctx.dim, (x.float(), norm.float())


class LogSumExp(Function):
    """``log(sum(exp(x)))`` over ``dim``, stable (the maximum taken out first). VJP:
    ``g * softmax(x) = g * exp(x - logsumexp(x))``, spread back over the reduced dims."""
    contiguous = True

    name = "logsumexp"

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        xp = array_module(x)
        if x.size == 0:  # an empty sum is 0, its log -inf
            m = xp.zeros(_kept_shape(x.shape, dim), dtype=x.dtype)
        else:
            m = x.max(axis=dim, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows stay -inf, not NaN
        # (the sum in float32 for float16 and in float64 for float32: over a non-last dim numpy
        # adds row by row, and float16's running sum stopped growing at 2048 -- logsumexp of 5000
        # zeros was 7.6, not log 5000 = 8.5, t151; float32's was 100 ulps off at 3e6 rows)
        acc = {np.dtype(np.float16): np.float32, np.dtype(np.float32): np.float64}.get(x.dtype)
        total = xp.exp(x - m).sum(axis=dim, keepdims=True, dtype=acc).astype(x.dtype, copy=False)
        out = xp.log(total) + m  # (rounded to the dtype first, then log and + m in it: PyTorch's)
        ctx.save_for_backward(x)
        ctx.shape, ctx.dim = x.shape, dim
        return out if keepdim else out.reshape(
            tuple(s for i, s in enumerate(x.shape) if dim is not None and i not in dim))

    @staticmethod
    @quiet  # all -inf: -inf - -inf, NaN as PyTorch's, quietly
    def backward(ctx: Context, g: Tensor) -> Tensor:
        # d logsumexp / dx = softmax(x) = exp(x - logsumexp(x)), recomputed in Tensor ops so the
        # second derivative flows through both x's
        (x,) = ctx.saved_tensors
        if first_order(g, x) and x._data.size:  # (the same on arrays: no nodes)
            xd = x._data
            lse_d = forward_arrays(LogSumExp, xd, dim=ctx.dim, keepdim=True)
            return Tensor._make(_spread_array(g._data, ctx.shape, ctx.dim) * np.exp(
                xd - np.broadcast_to(lse_d, ctx.shape)))
        lse = LogSumExp.apply(x, dim=ctx.dim, keepdim=True)
        return _spread(g, ctx.shape, ctx.dim) * (x - lse.expand(ctx.shape)).exp()


# ------------------------------------------------------------------------------ issue 14
def _count(shape: tuple[int, ...], dim: tuple[int, ...] | None) -> int:
    """How many elements each reduction sums."""
    return math.prod(shape) if dim is None else math.prod(shape[d] for d in dim)


def _wide(x: Any) -> Any:
    """float16 is accumulated in float32 (as PyTorch does); other dtypes in their own."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _scan_wide(x: Any) -> Any:
    """A running sum or product (and a variance) accumulates float16 in float32 and float32 in
    float64, as PyTorch's CPU kernels do (in float32, ``cumsum([1e8, 1, -1e8, 1])`` ended at 1, not 2)."""
    if x.dtype == np.float32:
        return x.astype(np.float64)
    return _wide(x)


def _flip(t: Tensor, dim: int) -> Tensor:
    return t[(slice(None),) * (dim % t.ndim) + (slice(None, None, -1),)]  # (dim may be negative)


def _where(mask: Any, x: Any, y: Any) -> Tensor:
    """``where`` with a boolean backend array (wrapped, so a CuPy mask stays on the GPU)."""
    return where(Tensor._make(mask), x, y)


def _reverse_cumsum(t: Tensor, dim: int) -> Tensor:
    """``out[i] = sum_{k >= i} t[k]`` along ``dim``."""
    # (in C order: the reversed view's negative strides reached grad()'s result -- t155)
    return _flip(Cumsum.apply(_flip(t, dim), dim=dim), dim).contiguous()


def _all_regular(x: Tensor, out: Tensor) -> bool:
    """Whether every element of ``x`` is finite and every product in ``out`` finite and not 0:
    where one is not, a recorded VJP takes PyTorch's formula (``out / x``), whose values the
    product of the others does not give (inf / inf is NaN; 1e-200 * 1e-200 * 1e300 is 0)."""
    xp = array_module(x._data)
    o = out._data
    return bool(xp.isfinite(x._data).all()) and bool(xp.isfinite(o).all()) and \
        bool((o != 0).all())


def _product_of_others(x: Tensor, dim: tuple[int, ...] | None) -> Tensor:
    """``prod_{j != i} x_j`` over the reduced dims, for every element ``i`` (zeros allowed): the
    product of everything to its left times everything to its right, as two cumprods."""
    if x.numel() == 0:  # (an empty product of others: the left and right pads would add one)
        return x * 0
    kept = [d for d in range(x.ndim) if dim is not None and d not in dim]
    order = kept + [d for d in range(x.ndim) if d not in kept]
    moved = x.permute(*order)
    n = _count(x.shape, dim)
    flat = moved.reshape(tuple(x.shape[d] for d in kept) + (n,))  # (kept..., n)
    left = flat[..., :-1].pad((1, 0), value=1.0).cumprod(-1)  # prod_{j < i}
    right = flat[..., :0:-1].pad((1, 0), value=1.0).cumprod(-1)[..., ::-1]  # prod_{j > i}
    inverse = tuple(int(i) for i in np.argsort(order))
    return (left * right).reshape(moved.shape).permute(*inverse)


class Prod(Function):
    """Product over ``dim`` (all elements for ``None``). VJP: ``g * out / x`` when no element is
    zero (PyTorch's formula); otherwise ``g`` times the product of the *other* elements, from
    cumulative products from the left and from the right -- a lone zero gets the product of the
    rest and the others 0; two zeros give 0 everywhere (exact zeros, even beside a NaN, for a
    product of all elements, as PyTorch). Tensor expressions, so second derivatives are right with
    zeros too."""
    contiguous = True

    @staticmethod
    @quiet  # (inf * 0 and overflow: NaN and inf, as PyTorch, without numpy's warnings)
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        out = _wide(x).prod(axis=dim, keepdims=keepdim).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, out = ctx.saved_tensors
        if x.ndim == 0:
            return g
        zeros = int((x._data == 0).sum())
        if zeros > 1 and ctx.dim is None and not _state.grad_enabled:  # PyTorch: exact zeros,
            return Tensor._make(array_module(x._data).zeros_like(x._data))  # even beside NaN
        if not zeros and first_order(g, x, out):  # (the expression below on arrays: no nodes)
            with np.errstate(all="ignore"):
                return Tensor._make(_spread_array(g._data, x.shape, ctx.dim) * (
                    _spread_array(out._data, x.shape, ctx.dim) / x._data))
        g0, g = g, _spread(g, x.shape, ctx.dim)
        if not zeros and (not _state.grad_enabled or not _all_regular(x, out)):
            # (recorded too where an element is inf or NaN, or the product over- or underflowed:
            # there the product of the others is another value than PyTorch's out / x -- 6 for
            # the inf of [2, inf, 3], where .backward() and PyTorch give NaN)
            return g * (_spread(out, x.shape, ctx.dim) / x)
        # zeros, or a recorded backward: the product of the others, without a division (the
        # graph of out / x differentiates to out/x_i/x_j - out/x_i² terms that cancel: with a
        # factor of 1e-20 beside 3, the second derivative came out 0 instead of 1)
        recorded = g * _product_of_others(x, ctx.dim)
        if not zeros or not _state.grad_enabled:
            return recorded
        return _as_first_order(recorded, lambda: Prod.backward(ctx, g0.detach()))


class Cumsum(Function):
    """Running sum along ``dim``, of the input cast to ``dtype`` first when one is given
    (``cumsum(x, dtype=float16)``); VJP: the running sum of ``g`` from the other end -- in the
    input's dtype, ``g`` cast to it first (PyTorch's ``cumsum_backward(grad.to(x.dtype))``: a
    float16 running sum of a float32 input's gradient was 1 float16 ulp off, t141)."""
    contiguous = True

    @staticmethod
    @quiet  # (as Prod's)
    def forward(ctx: Context, x: Any, dim: int = 0, dtype: Any = None) -> Any:
        ctx.dim = dim
        if dtype is not None:
            x = x.astype(dtype)
        out = _scan_wide(x).cumsum(axis=dim)  # (the method: not numpy's Python layer)
        if out.dtype.kind == "f" and x.ndim:
            out += 0.0  # a running sum from +0, as PyTorch's: cumsum([-0., -0., 1.]) starts at +0
        return out.astype(x.dtype, copy=False)  # (a 0-d one is its input, -0 kept, as PyTorch)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if ctx.attrs.get("dtype") is not None:
            g = g.to(ctx.in_meta[0][1])
        if g.ndim == 0 or g.shape[ctx.dim] == 1:  # nothing to add up: g itself, as PyTorch's
            return g
        if first_order(g):  # (the same on arrays: no nodes)
            d = ctx.dim % g.ndim
            rev = (slice(None),) * d + (slice(None, None, -1),)  # (np.flip's view, without
            summed = forward_arrays(Cumsum, g._data[rev], dim=d)  # its Python layer)
            # (in C order, as the recorded way's flip copies: a reversed view's negative
            # strides reached grad()'s result, which torch.from_numpy refuses -- t155)
            return Tensor._make(summed[rev].copy())
        return _reverse_cumsum(g, ctx.dim)


def _cumprod_vjp_first_order(x: Tensor, g: Tensor, out: Tensor, dim: int) -> Tensor:
    """The VJP of cumprod with zeros in ``x``, in O(n) (PyTorch's; right values, but its masks make
    it wrong to differentiate again). With ``z`` the first zero of a row:
    ``i < z``: ``sum_{i<=k<z} g_k out_k / x_i``; ``i = z``: ``prod_{j<z} x_j * sum_{k>=z} g_k
    prod_{z<j<=k} x_j``; ``i > z``: 0."""
    xp = array_module(x._data)
    zero = x._data == 0
    seen = xp.cumsum(zero, axis=dim)  # zeros at or before each position
    before = seen == 0  # ahead of the first zero
    first = zero & (seen == 1)
    between = (seen == 1) & ~zero  # after the first zero, ahead of the second
    ahead = _reverse_cumsum(_where(before, g * out, 0), dim) / _where(before, x, 1)
    lead = _where(before, x, 1).prod(dim, keepdim=True)
    tail = (_where(first | between, g, 0) * _where(between, x, 1).cumprod(dim)).sum(dim, keepdim=True)
    return _where(before, ahead, 0) + _where(first, lead * tail, 0)


def _cumprod_vjp_quadratic(x: Tensor, g: Tensor, dim: int) -> Tensor:
    """The VJP of cumprod with zeros in ``x`` as a differentiable expression, in O(n²):
    ``grad_i = sum_{k>=i} g_k prod_{j<=k, j!=i} x_j``, the products a cumprod over a matrix whose row
    ``i`` is ``x`` with a 1 at ``i``."""
    xp = array_module(x._data)
    xm, gm = x.transpose(dim, -1), g.transpose(dim, -1)  # (..., n)
    n = xm.shape[-1]
    others = _where(xp.eye(n, dtype=bool), 1, xm.unsqueeze(-2).expand(xm.shape[:-1] + (n, n)))
    upper = xp.triu(xp.ones((n, n), dtype=bool))  # [i, k]: k >= i
    terms = others.cumprod(-1) * _where(upper, gm.unsqueeze(-2), 0)  # (..., i, k)
    return terms.sum(-1).transpose(dim, -1)


def _as_first_order(recorded: Tensor, first_order: Any) -> Tensor:
    """A recorded VJP (cumprod's O(n²) products, prod's product of the others, with zeros in
    ``x``) with the first-order VJP's values -- PyTorch's -- where a NaN or an inf reaches it:
    PyTorch's formulas drop the terms that hold a zero factor, the products multiply that 0 by
    the NaN or inf (cumprod of 0, -0.942, NaN: NaN for 0). Those entries are constants; the others
    keep their graph. ``first_order``: a function giving the first-order VJP's tensor."""
    with _GradModeSwitch(False):
        first = first_order()._data
    xp = array_module(first)
    q = recorded._data
    with np.errstate(invalid="ignore"):
        differ = ~(xp.isfinite(q) & xp.isfinite(first)) & ~((q == first) | (xp.isnan(q) & xp.isnan(first)))
    if not bool(differ.any()):
        return recorded
    return where(Tensor._make(differ), Tensor._make(first), recorded)


#: cumprod's recorded VJP is the O(n²) product formula while its (..., n, n) products hold up
#: to this many elements (beyond, it divides by x, PyTorch's formula, whose second derivative
#: loses digits beside a tiny x)
QUADRATIC_MAX = 1 << 22
#: ... and with zeros in x, where no division is right, up to this many (beyond: an error)
QUADRATIC_ZEROS_MAX = QUADRATIC_MAX * 4


class Cumprod(Function):
    """Running product along ``dim``. VJP (PyTorch's cases): without zeros
    ``reverse_cumsum(g * out) / x``; with zeros an O(n) masked formula; when the backward pass
    is itself recorded (``create_graph``), an O(n²) one without a division, that differentiates
    exactly again (while its products hold up to ``QUADRATIC_MAX`` elements; beyond: PyTorch's)."""
    contiguous = True

    @staticmethod
    @quiet  # (as Prod's)
    def forward(ctx: Context, x: Any, dim: int = 0) -> Any:
        out = _scan_wide(x).cumprod(axis=dim).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, out = ctx.saved_tensors
        dim = ctx.dim
        if x.shape[dim] <= 1:
            return g
        n = x.shape[dim]
        products = x._data.size * n  # (the quadratic formula's (..., n, n) elements)
        no_zeros = not bool((x._data == 0).any())
        if _state.grad_enabled and products <= QUADRATIC_MAX and not (
                no_zeros and not _all_regular(x, out)):
            # recorded (create_graph): a formula without a division by x, whose own derivative
            # stays exact beside a tiny factor (the graph of .../x cancels: 0 where 6 was right)
            quadratic = _cumprod_vjp_quadratic(x, g, dim)
            return quadratic if no_zeros else _as_first_order(
                quadratic, lambda: _cumprod_vjp_first_order(x.detach(), g.detach(), out.detach(),
                                                            dim))
        if no_zeros:  # (recorded too where x or the products are not finite, or underflow to
            # 0: the formula without a division gives other values there than PyTorch's)
            if dim == x.ndim - 1 and first_order(g, x, out):  # (the same on the arrays, op for
                # op: no nodes; along the last dim, where every step's result is in C order)
                rev = (slice(None),) * dim + (slice(None, None, -1),)  # (as Cumsum's)
                summed = forward_arrays(Cumsum, (g._data * out._data)[rev], dim=dim)
                with np.errstate(all="ignore"):
                    return Tensor._make(summed[rev].copy() / x._data)
            return _reverse_cumsum(g * out, dim) / x
        if not _state.grad_enabled:
            return _cumprod_vjp_first_order(x, g, out, dim)
        if products > QUADRATIC_ZEROS_MAX:  # (was numpy's allocation error: 37 GiB)
            raise MemoryError(
                f"cumprod: a recorded backward (create_graph=True) through an input with zeros "
                f"takes an (..., n, n) product here, {products:,} elements for shape {x.shape} "
                f"along dim {dim} (n={n}); differentiate it once (create_graph=False), or split "
                "the dim into shorter runs")
        return _as_first_order(_cumprod_vjp_quadratic(x, g, dim), lambda: _cumprod_vjp_first_order(
            x.detach(), g.detach(), out.detach(), dim))


def _variance(x: Any, dim: tuple[int, ...] | None, correction: float, keepdim: bool) -> Any:
    """``sum((x - mean)²) / max(0, n - correction)``: inf or NaN when ``n <= correction``, NaN
    over no elements."""
    xp = array_module(x)
    w = _scan_wide(x)  # (float32 in float64, as PyTorch's CPU kernel: std([1e20, -1e20, 3e20]) was inf)
    n = _count(x.shape, dim)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # inf - inf, 0 / 0:
        if n:                                                            # NaN, quietly
            w = _shifted(w, dim)
            dev = w - w.mean(axis=dim, keepdims=True)
        else:  # the mean of nothing is NaN, without numpy's "Mean of empty slice"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                dev = w - w.mean(axis=dim, keepdims=True)
        total = (dev * dev).sum(axis=dim, keepdims=keepdim)
        if not n:  # the deviation from a mean of nothing is NaN (whatever the correction: -1 too)
            return xp.full_like(total, xp.nan)
        return total / xp.asarray(max(0.0, n - correction), dtype=w.dtype)


def _shifted(w: Any, dim: tuple[int, ...] | None) -> Any:
    """``w`` less its first element over ``dim`` (of each slice; ``w`` not empty): the same
    deviations from the mean, and exactly 0 over a slice of equal elements -- where those of
    ``w`` itself are not (the mean of three 0.1s rounds to 0.1 + 1.4e-17: std was 1.7e-17, not
    PyTorch's 0, and its gradient there -0.41 per element, not 0 -- t192)."""
    if dim is None:
        return w - w[(0,) * w.ndim]
    return w - w[tuple(slice(0, 1) if d in dim else slice(None) for d in range(w.ndim))]


def _var_vjp(g: Tensor, x: Tensor, dim: tuple[int, ...] | None, correction: float) -> Tensor:
    """PyTorch's VJP of var: ``2 / (n - correction) * g * (x - mean)``; over all elements with
    ``n <= correction`` it is ``g * (NaN where x == mean, else inf)``."""
    dof = _count(x.shape, dim) - correction
    if (dim is not None or dof > 0) and x._data.size and first_order(g, x):
        xd = x._data  # (the same on arrays: no nodes)
        scale = 2.0 / dof if dof else math.inf
        mean = _mean_array(xd, None, False, xd.size) if dim is None else \
            _mean_array(xd, dim, True, _count(xd.shape, dim))
        return Tensor._make((_spread_array(g._data, x.shape, dim) * scale) * (xd - mean))
    g = _spread(g, x.shape, dim)
    if dim is None and dof <= 0:
        xp = array_module(x._data)
        with np.errstate(invalid="ignore"):
            mean = x._data.mean() if x._data.size else 0  # (nothing to compare when empty)
            factor = xp.where(x._data == mean, xp.nan, xp.inf).astype(x.dtype)
        return g * factor
    scale = 2.0 / dof if dof else math.inf
    return (g * scale) * (x - (x.mean() if dim is None else x.mean(dim, keepdim=True)))


class Var(Function):
    """Variance over ``dim`` with ``correction`` (1: Bessel's); the divisor is
    ``max(0, n - correction)``. VJP: ``2 / (n - correction) * g * (x - mean)`` (PyTorch's,
    see ``_var_vjp``)."""
    contiguous = True

    @staticmethod
    @quiet  # (numpy's own reductions warn from numpy's modules, past the package's filter: t152)
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None, correction: float = 1,
                keepdim: bool = False) -> Any:
        ctx.save_for_backward(x)
        ctx.dim, ctx.correction = dim, correction
        return _variance(x, dim, correction, keepdim).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return _var_vjp(g, x, ctx.dim, ctx.correction)


class Std(Function):
    """Standard deviation: ``sqrt(var)``. VJP: var's VJP of ``g / (2 out)``, with 0 where
    ``out == 0`` (all elements equal), as PyTorch -- there divided by 1, not 0, so that the VJP's
    own VJP is 0 too, the derivative of that 0 (PyTorch's is NaN: 0 * (1 / 0))."""
    contiguous = True

    @staticmethod
    @quiet  # (numpy's own reductions warn from numpy's modules, past the package's filter: t152)
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None, correction: float = 1,
                keepdim: bool = False) -> Any:
        out = array_module(x).sqrt(_variance(x, dim, correction, keepdim)).astype(x.dtype,
                                                                                   copy=False)
        ctx.save_for_backward(x, out)
        ctx.dim, ctx.correction = dim, correction
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, out = ctx.saved_tensors
        zero = out._data == 0
        if first_order(g, out):  # (the same on arrays, then var's)
            od = out._data
            with np.errstate(divide="ignore", invalid="ignore"):
                safe_d = np.where(zero, od.dtype.type(1), od) if zero.any() else od
                g = Tensor._make(np.where(zero, od.dtype.type(0), g._data / (safe_d * 2)))
            return _var_vjp(g, x, ctx.dim, ctx.correction)
        safe = _where(zero, 1, out) if zero.any() else out
        return _var_vjp(_where(zero, 0, g / (safe * 2)), x, ctx.dim, ctx.correction)


def _power_norm(xp: Any, a: Any, p: float, dim: tuple[int, ...] | None, keepdim: bool) -> Any:
    """``(sum a^p)^(1/p)`` of ``a = |x|``; where the powers overflow to inf or underflow to 0
    (``norm([1e-300])`` in float64 was 0), again as ``m * (sum (a/m)^p)^(1/p)`` with ``m`` the
    largest ``a`` -- the pass PyTorch's scaled norm makes."""
    with np.errstate(all="ignore"):  # (and 0 ** -1 = inf for p < 0, as PyTorch)
        out = xp.sqrt((a * a).sum(axis=dim, keepdims=keepdim)) if p == 2 else \
            (a**p).sum(axis=dim, keepdims=keepdim) ** (1.0 / p)
        out = xp.asarray(out)
        lost = (out == 0) | xp.isinf(out)
        if not lost.any() or not a.size:  # (a norm of nothing is 0: nothing to rescale)
            return out
        m = a.max(axis=dim, keepdims=True)
        usable = (m > 0) & xp.isfinite(m)
        scale = xp.where(usable, m, 1)
        scaled = ((a / scale) ** p).sum(axis=dim, keepdims=keepdim) ** (1.0 / p)
        scaled = scaled * (scale if keepdim else scale.reshape(out.shape))
        keep = usable if keepdim else usable.reshape(out.shape)
        return xp.where(lost & keep, scaled, out)


class Norm(Function):
    """The vector ``p``-norm over ``dim`` (all elements for ``None``): ``(sum |x|^p)^(1/p)``;
    ``p = inf``/``-inf``: max/min of ``|x|``; ``p = 0``: the count of nonzeros. VJP (PyTorch's,
    ``s = sign(x)``, ``N`` the norm): ``p=1``: ``g s``; ``p=2``: ``g x / N``; ``p=±inf``: ``g s``
    shared by the tied extremes; other ``p``: ``g s |x|^(p-1) / N^(p-1)``; 0 where ``N = 0`` (the
    zero vector), and no gradient for ``p = 0``. For ``p < 1`` the second derivative at a zero
    element, where the true one is unbounded, is NaN, as PyTorch's, and only there (it spread to
    every element once); likewise for ``1 < p < 3``."""

    vjp_reads_input = True  # (see Function.vjp_reads_input)
    contiguous = True

    @staticmethod
    @quiet  # (a.sum() warns from numpy's modules, past the package's filter: t152)
    def forward(ctx: Context, x: Any, p: float = 2.0, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        xp = array_module(x)
        a = xp.abs(_wide(x))
        if p == 2 or p not in (0, 1, math.inf, -math.inf):
            out = _power_norm(xp, a, p, dim, keepdim)
        elif p == 1:
            out = a.sum(axis=dim, keepdims=keepdim)
        elif p == math.inf:
            out = a.max(axis=dim, keepdims=keepdim)
        elif p == -math.inf:
            out = a.min(axis=dim, keepdims=keepdim)
        else:  # p == 0
            out = (a != 0).sum(axis=dim, keepdims=keepdim, dtype=a.dtype)
        out = xp.asarray(out).astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        ctx.p, ctx.dim = p, dim
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor | None:
        x, norm = ctx.saved_tensors
        p, dim = ctx.p, ctx.dim
        if p == 0:
            return None
        if x.dtype == np.float16 and p not in (1, 2) and not math.isinf(p):
            # in float32, rounded once (PyTorch's opmath): the ratios |x| / N of a p < 1 norm
            # ran to float16's subnormals, and their p - 1 powers to inf (pairwise_distance with
            # p = 0.5: an inf gradient for PyTorch's 9940, t151)
            return Norm.backward(_Float32Norm(ctx, x, norm), g.float()).half()
        xp = array_module(x._data)
        kept = _kept_shape(x.shape, dim)
        if p == 2 and first_order(g, x, norm):  # (the same on arrays: no nodes)
            xd, nd = x._data, norm._data.reshape(kept)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(nd == 0, xd.dtype.type(0), xd / nd)
            return Tensor._make(g._data.reshape(kept) * ratio)
        if p == 1 and first_order(g, x):  # (the sign times g below, on the arrays)
            xd = x._data
            return Tensor._make(np.where(np.isnan(xd), 0, np.sign(xd)) * g._data.reshape(kept))
        g, norm = g.reshape(kept), norm.reshape(kept)
        sign = Tensor._make(xp.where(xp.isnan(x._data), 0, xp.sign(x._data)))  # PyTorch's sgn(NaN) = 0
        at_zero = norm._data == 0
        if p == 1:
            return sign * g
        if p == 2:
            with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 at N = 0, replaced by 0
                return g * _where(at_zero, 0, x / norm)
        if math.isinf(p):
            a = xp.abs(x._data)
            mask = (a == norm._data) | xp.isnan(a)
            return sign * ((g / Tensor._make(mask.sum(axis=dim, keepdims=True).astype(x.dtype)))
                           * Tensor._make(mask))
        # in ratios r = |x| / N, which stay in [0, 1] where |x|^(p-1) and N^(p-1) overflow or
        # underflow (the norm itself is scaled so: its gradient must be too)
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = _where(at_zero, 1, norm)  # (no 0/0 anywhere: its derivative would be NaN)
            # (where the norm is finite: every element inf makes it inf, and PyTorch's NaN)
            big = (xp.isinf(x._data) & xp.isfinite(norm._data)) if p < 0 else None
            if big is not None and big.any():
                # (p < 0: an inf element adds inf ** p = 0 and gets 0. Its ratio inf / N is left
                # out of the graph -- its derivative -inf / N^2 times where's 0 made every second
                # derivative NaN; PyTorch's are finite)
                r = _where(big, 0, x.abs()) / safe
                zero = (x._data == 0) | big
            else:
                r = x.abs() / safe
                zero = x._data == 0
            if p < 1 or (p < 2 and zero.any()):
                # (N = 0 with a zero element when p < 0: no gradient, as PyTorch.) r ** (p - 1)
                # of a safe 1 at the zero elements: its derivative there, inf (p < 2), times
                # where's 0 made NaN and spread through N to every element's second derivative
                powered = _where(zero, 0, _where(zero, 1, r) ** (p - 1))
                if _state.grad_enabled and zero.any():
                    # PyTorch's second derivative at a zero element is NaN (its |x| ** (p - 1)
                    # meets a zero gradient from masked_fill: 0 * inf): a term of value 0 that
                    # carries that NaN to the zero elements, and to no other
                    powered = powered + _where(zero, 0, x.abs() ** (p - 1)) * 0.0
                if p >= 1:
                    return sign * powered * _where(at_zero, 0, g)
                out = _where(at_zero, 0, sign * powered * g)
                # at x = 0 PyTorch's derivative is 0 * N^(1-p): NaN when N is inf or NaN
                lost = (x._data == 0) & ~xp.isfinite(norm._data)
                return _where(lost, float("nan"), out) if lost.any() else out
            if p < 2:
                scaled = sign * r ** (p - 1)
            elif p < 3 and zero.any():  # r ** (p - 2): the same at the zero elements
                tail = _where(zero, 0, _where(zero, 1, r) ** (p - 2))
                if _state.grad_enabled:
                    tail = tail + _where(zero, 0, x.abs() ** (p - 2)) * 0.0
                scaled = x / safe * tail
            else:
                scaled = x / safe * r ** (p - 2)
            return scaled * _where(at_zero, 0, g)
