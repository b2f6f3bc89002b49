"""Pooling: max_pool2d (its VJP scatters through the saved argmax indices) and avg_pool2d (its VJP
is avg_pool2d_backward, whose VJP is avg_pool2d again; ``divisor_override`` divides every window's
sum by one given number instead of the window's size).

Shapes: ``x (N, C, H, W) -> (N, C, OH, OW)``; ``kernel``, ``stride``, ``padding`` (symmetric) and
``dilation`` arrive as ``(h, w)`` pairs, checked by ``nn/functional.py``.

Tie rule of max pooling: the gradient of a window goes to the *first* maximum in row-major window
order -- the tutorial's ``get_max_index`` (``>`` never replaces an equal value) and PyTorch's rule.
The forward scans the window offsets in that order with the same strict ``>``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn import parallel
from tinygrad_cnn.autograd import Context, Function, _state, first_order, forward_arrays
from tinygrad_cnn.backend import array_module, quiet
from tinygrad_cnn.ops.movement import ScatterAdd
from tinygrad_cnn.tensor import Tensor

Pair = tuple[int, int]


def pool_out_size(size: int, kernel: int, pad: int, stride: int, dilation: int,
                  ceil_mode: bool) -> int:
    """Output length along one axis; with ``ceil_mode`` a last partial window counts if it starts
    inside the input or its left padding (PyTorch's rule)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _padded(x: Any, pad: Pair, rows: int, cols: int, value: float) -> Any:
    """``x`` inside a ``rows``×``cols`` frame of ``value`` (padding and the ceil_mode overhang)."""
    n, c, h, w = x.shape
    if pad == (0, 0) and rows <= h and cols <= w:
        return x
    xp = array_module(x)
    out = xp.full((n, c, max(rows, h + pad[0]), max(cols, w + pad[1])), value, dtype=x.dtype)
    out[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    return out


class MaxPool2d(Function):
    """The maximum of each window (``kernel_size``, ``stride``, ``padding`` of -inf,
    ``dilation``, ``ceil_mode``). VJP: each window's ``g`` added onto the input element that was
    its maximum (the first in row-major order on ties; the tutorial's ``get_max_index``), zero
    elsewhere -- a scatter-add through the saved indices, whose own VJP gathers."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    name = "max_pool2d"
    follows_channels_last = True  # (PyTorch's layout: see Function)

    @staticmethod
    def forward(ctx: Context, x: Any, kernel_size: Pair = (2, 2), stride: Pair = (2, 2),
                padding: Pair = (0, 0), dilation: Pair = (1, 1), ceil_mode: bool = False) -> Any:
        xp = array_module(x)
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
        oh = pool_out_size(h, kh, ph, sh, dh, ceil_mode)
        ow = pool_out_size(w, kw, pw, sw, dw, ceil_mode)
        rows, cols = (oh - 1) * sh + dh * (kh - 1) + 1, (ow - 1) * sw + dw * (kw - 1) + 1
        xpad = _padded(x, (ph, pw), rows, cols, -xp.inf)
        def at(a: int, b: int) -> Any:  # (N, C, OH, OW): element (a, b) of every window
            return xpad[:, :, a * dh:a * dh + sh * (oh - 1) + 1:sh,
                        b * dw:b * dw + sw * (ow - 1) + 1:sw]

        if not ctx.needs_input_grad[0] and not getattr(ctx, "want_indices", False):
            # no gradient and no indices wanted (inference): the maximum alone, a third of the
            # passes (LeNet-5's first pooling at batch 1,000: 9.9 -> 3.5 ms), a few samples at
            # a time on every core for big inputs (parallel.blocks: the passes read the cache)
            out = xp.empty((n, c, oh, ow), x.dtype)

            def samples(s: int, e: int) -> None:
                part = out[s:e]
                xp.copyto(part, at(0, 0)[s:e])
                for j in range(1, kh * kw):
                    xp.maximum(part, at(j // kw, j % kw)[s:e], out=part)

            if xp is np and x.nbytes >= parallel.MIN_BYTES and n > 1:
                parallel.blocks(n, samples, x.nbytes, xpad[0].nbytes)
            else:
                samples(0, n)
            return out
        if xp is np and x.size <= SMALL_POOL and (sh, sw) == (kh, kw) and dh == dw == 1 \
                and x.dtype.kind == "f":
            # a small input of windows that tile it (every CNN's 2x2 pooling): the windows as
            # rows of one copy, numpy's argmax (the first maximum, as the scan below) and the
            # value there -- 5 numpy calls where the scan makes 4 per kernel offset, which is
            # all of a small pooling's time (the same values: PyTorch's, the first maximum's)
            k = kh * kw
            windows = xpad[:, :, :oh * kh, :ow * kw].reshape(n, c, oh, kh, ow, kw).transpose(
                0, 1, 2, 4, 3, 5).reshape(-1, k)
            first = windows.argmax(1)
            out = windows[np.arange(windows.shape[0]), first].reshape(n, c, oh, ow)
            which = first.astype(np.int8 if k < 128 else np.int32).reshape(n, c, oh, ow)
        else:
            out, which = _scan(xp, at, out_shape=(n, c, oh, ow), k=(kh, kw))
        if xpad is not x and x.size:
            # a window whose inputs are all -inf keeps offset 0, which may be padding: its
            # gradient goes to its first element inside the input instead (PyTorch's rule)
            lost = out == -xp.inf
            if lost.any():
                first = _first_inside(xp, (h, w), (oh, ow), kernel_size, stride, padding,
                                      dilation, which.dtype)
                which = xp.where(lost, first, which)
        if out.dtype.kind == "f" and x.size and bool(xp.isnan(out).any()):
            # NaN is the maximum of its window (numpy's maximum propagates it); the gradient goes
            # to the window's last NaN, as PyTorch's `val > max || isnan(val)` scan sends it
            for j in range(kh * kw):
                which = xp.where(xp.isnan(at(j // kw, j % kw)), which.dtype.type(j), which)
        # flat index of each maximum in the whole input (N*C*H*W), for the scatter of backward:
        # window origin + the offset's displacement; ``% (H*W)`` of it is PyTorch's return_indices
        itype = xp.int32 if x.size < 2**31 else xp.int64
        # offset j = (j // kw, j % kw) lies j·dw + (j // kw)·(dh·w - kw·dw) elements after its
        # window's origin (arithmetic: a 4-entry table look-up, ``jumps.take(which)``, cost 50 us)
        flat = which.astype(itype)
        if dw != 1:
            flat *= itype(dw)
        if kh > 1:
            flat += (which // which.dtype.type(kw)).astype(itype) * itype(dh * w - kw * dw)
        flat += _window_origins(xp, itype, (n, c, h, w), (oh, ow), stride, padding)
        ctx.flat_indices = flat
        ctx.in_shape = x.shape
        # windows that cannot overlap select each input at most once: scatter by assignment
        ctx.unique = sh >= dh * (kh - 1) + 1 and sw >= dw * (kw - 1) + 1
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        shape = ctx.in_shape
        gd = g._data
        if ctx.unique and not _state.grad_enabled and type(gd) is np.ndarray:
            # first order, windows that do not overlap (every CNN's 2x2 pooling): the scatter
            # below on the arrays, without its three nodes
            gx = np.zeros(math.prod(shape), dtype=gd.dtype)
            gx[ctx.flat_indices.reshape(-1).astype(np.intp, copy=False)] = gd.reshape(-1)
            return Tensor._make(gx.reshape(shape))
        # every window's gradient lands on its maximum; overlapping windows add up
        gx = ScatterAdd.apply(g.reshape(-1), index=ctx.flat_indices.reshape(-1), dim=0,
                              size=math.prod(shape), unique=ctx.unique)
        return gx.reshape(shape)


#: the most elements for which max_pool2d's forward takes the windows as rows of one copy (see
#: there): a size where each numpy call's fixed cost (~1 us) outweighs a pass over the data, on
#: any CPU; both ways give the same values
SMALL_POOL = 2048


def _scan(xp: Any, at: Any, out_shape: tuple[int, ...], k: Pair) -> tuple[Any, Any]:
    """``(maximum, offset of the first maximum)`` of every window, in one elementwise pass per
    kernel offset over ``at(a, b)``, the strided view of the element at offset ``(a, b)`` of
    every window. A strict ">" keeps the first maximum; offsets only grow, so "the last offset
    that was strictly better" is a running maximum of offset * better (plain arithmetic: masked
    copies are 10x slower in numpy)."""
    kh, kw = k
    out = at(0, 0).copy()
    which = xp.zeros(out_shape, dtype=xp.int8 if kh * kw < 128 else xp.int32)
    # each offset's strided view copied once into a contiguous buffer, then compared and
    # maxed there: a strided read costs as much as a whole contiguous pass (numpy's loops
    # over strided views are not vectorised), and the scan reads each view twice (LeNet-5's
    # first pooling: 224 -> 151 us)
    v, better = xp.empty_like(out), xp.empty(out.shape, dtype=xp.bool_)
    for j in range(1, kh * kw):
        xp.copyto(v, at(j // kw, j % kw))
        xp.greater(v, out, out=better)
        xp.maximum(out, v, out=out)
        xp.maximum(which, better.view(xp.int8) * which.dtype.type(j), out=which)
    return out, which


_ORIGINS: dict[Any, Any] = {}


def _window_origins(xp: Any, itype: Any, in_shape: tuple[int, ...], out_hw: Pair, stride: Pair,
                    pad: Pair) -> Any:
    """``(N, C, OH, OW)``: the flat index in the input of each window's first element (maybe in
    the padding). Built from broadcast adds whose inner loops are a row long (half the forward's
    index work), so kept for the last few shapes while small; never written."""
    key = (xp, itype, in_shape, out_hw, stride, pad)
    base = _ORIGINS.get(key)
    if base is None:
        n, c, h, w = in_shape
        (oh, ow), (sh, sw), (ph, pw) = out_hw, stride, pad
        plane = (xp.arange(n * c, dtype=itype) * (h * w)).reshape(n, c, 1, 1)
        origin = ((xp.arange(oh, dtype=itype) * sh - ph) * w).reshape(oh, 1) + \
            (xp.arange(ow, dtype=itype) * sw - pw).reshape(1, ow)  # (OH, OW)
        base = plane + origin
        if base.size <= 1 << 22:  # (16 MB of int32 at most, 8 shapes)
            if len(_ORIGINS) >= 8:
                del _ORIGINS[next(iter(_ORIGINS))]
            _ORIGINS[key] = base
    return base


def _first_inside(xp: Any, in_hw: Pair, out_hw: Pair, kernel: Pair, stride: Pair, pad: Pair,
                  dilation: Pair, dtype: Any) -> Any:
    """``(OH, OW)``: the row-major offset of each window's first tap inside the input."""
    firsts = []
    for axis in range(2):
        taps = (xp.arange(out_hw[axis])[:, None] * stride[axis] - pad[axis]
                + xp.arange(kernel[axis])[None, :] * dilation[axis])  # (O, K) input positions
        inside = (taps >= 0) & (taps < in_hw[axis])
        firsts.append(inside.argmax(axis=1))  # the first tap inside (every window has one)
    return (firsts[0][:, None] * kernel[1] + firsts[1][None, :]).astype(dtype)


def _avg_divisor(xp: Any, in_hw: Pair, out_hw: Pair, kernel: Pair, stride: Pair, pad: Pair,
                 count_include_pad: bool, dtype: Any, divisor_override: int | None = None) -> Any:
    """``(OH, OW)`` array of each window's divisor (PyTorch's rules), or ``divisor_override``
    for every window (whatever the padding and ``count_include_pad``), as a ``dtype`` scalar."""
    if divisor_override is not None:
        return np.dtype(dtype).type(divisor_override)
    key = (xp, in_hw, out_hw, kernel, stride, pad, count_include_pad, np.dtype(dtype))
    divisor = _DIVISORS.get(key)
    if divisor is None:  # (kept for the last few shapes, never written: a small-op overhead)
        divisor = _divisor(xp, in_hw, out_hw, kernel, stride, pad, count_include_pad, dtype)
        if divisor.size <= 1 << 16:
            if type(divisor) is np.ndarray:
                divisor.flags.writeable = False
            if len(_DIVISORS) >= 16:
                del _DIVISORS[next(iter(_DIVISORS))]
            _DIVISORS[key] = divisor
    return divisor


_DIVISORS: dict[Any, Any] = {}


def _divisor(xp: Any, in_hw: Pair, out_hw: Pair, kernel: Pair, stride: Pair, pad: Pair,
             count_include_pad: bool, dtype: Any) -> Any:
    sizes = []
    for axis in range(2):
        start = xp.arange(out_hw[axis]) * stride[axis] - pad[axis]
        if count_include_pad:  # padding counts; the ceil_mode overhang past it does not
            end = xp.minimum(start + kernel[axis], in_hw[axis] + pad[axis])
        else:
            end = xp.minimum(start + kernel[axis], in_hw[axis])
            start = xp.maximum(start, 0)
        sizes.append(end - start)
    return (sizes[0][:, None] * sizes[1][None, :]).astype(dtype)


class AvgPool2d(Function):
    """The mean of each window (padding counted as zeros with ``count_include_pad``, else left
    out of the divisor): ``y = sum(window) / divisor``, the divisor being ``divisor_override``
    when one is given (a non-zero int, checked by ``nn/functional.py``). VJP: each window's
    ``g / divisor`` added onto each of its elements (``avg_pool2d_backward``, whose VJP is
    avg_pool2d again)."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    name = "avg_pool2d"
    follows_channels_last = True  # (PyTorch's layout: see Function)

    @staticmethod
    @quiet  # (inf and NaN inputs give inf and NaN, without numpy's warnings)
    def forward(ctx: Context, x: Any, kernel_size: Pair = (2, 2), stride: Pair = (2, 2),
                padding: Pair = (0, 0), ceil_mode: bool = False,
                count_include_pad: bool = True, divisor_override: int | None = None) -> Any:
        if x.dtype == np.float16:  # summed in float32 and rounded once, as PyTorch does
            return AvgPool2d.forward(ctx, x.astype(np.float32), kernel_size, stride, padding,
                                     ceil_mode, count_include_pad,
                                     divisor_override).astype(np.float16)
        xp = array_module(x)
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
        oh = pool_out_size(h, kh, ph, sh, 1, ceil_mode)
        ow = pool_out_size(w, kw, pw, sw, 1, ceil_mode)
        xpad = _padded(x, (ph, pw), (oh - 1) * sh + kh, (ow - 1) * sw + kw, 0.0)
        out = xp.zeros((n, c, oh, ow), dtype=x.dtype)
        for a in range(kh):  # one strided add per kernel offset: (N, C, OH, OW)
            for b in range(kw):
                out += xpad[:, :, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw]
        divisor = _avg_divisor(xp, (h, w), (oh, ow), kernel_size, stride, padding,
                               count_include_pad, x.dtype, divisor_override)
        if x.dtype.kind == "i":  # (int64, no gradient) exact sums, divided rounding toward zero
            out = xp.abs(out) // xp.abs(divisor) * (xp.sign(out) * xp.sign(divisor))
        else:
            out /= divisor
        ctx.in_shape = x.shape
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        a = ctx.attrs
        attrs = {"kernel_size": a["kernel_size"], "stride": a["stride"], "padding": a["padding"],
                 "ceil_mode": a["ceil_mode"], "count_include_pad": a["count_include_pad"],
                 "in_hw": tuple(ctx.in_shape[2:]), "divisor_override": a.get("divisor_override")}
        if first_order(g) and g._data.flags.c_contiguous:  # (the op's work, without its node)
            return Tensor._make(forward_arrays(AvgPool2dBackward, g._data, **attrs))
        return AvgPool2dBackward.apply(g, **attrs)


class AvgPool2dBackward(Function):
    """The VJP of avg_pool2d: each window's gradient divided by the window's divisor (or by
    ``divisor_override``) and added onto each element of the window,
    ``gx[i] = sum over windows W containing i of g[W] / divisor[W]``. It is linear, and its own VJP
    is avg_pool2d."""

    name = "avg_pool2d_backward"

    @staticmethod
    @quiet  # (inf and NaN inputs give inf and NaN, without numpy's warnings)
    def forward(ctx: Context, g: Any, kernel_size: Pair = (2, 2), stride: Pair = (2, 2),
                padding: Pair = (0, 0), ceil_mode: bool = False, count_include_pad: bool = True,
                in_hw: Pair = (1, 1), divisor_override: int | None = None) -> Any:
        if g.dtype == np.float16:  # (as the forward)
            return AvgPool2dBackward.forward(ctx, g.astype(np.float32), kernel_size, stride,
                                             padding, ceil_mode, count_include_pad,
                                             in_hw, divisor_override).astype(np.float16)
        xp = array_module(g)
        n, c, oh, ow = g.shape
        (kh, kw), (sh, sw), (ph, pw), (h, w) = kernel_size, stride, padding, in_hw
        share = g / _avg_divisor(xp, in_hw, (oh, ow), kernel_size, stride, padding,
                                 count_include_pad, g.dtype, divisor_override)
        full = xp.zeros((n, c, max((oh - 1) * sh + kh, h + 2 * ph),
                         max((ow - 1) * sw + kw, w + 2 * pw)), dtype=g.dtype)
        for a in range(kh):  # (N, C, OH, OW) added back at each kernel offset
            for b in range(kw):
                full[:, :, a:a + sh * (oh - 1) + 1:sh, b:b + sw * (ow - 1) + 1:sw] += share
        return full[:, :, ph:ph + h, pw:pw + w].copy()

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> Tensor:
        a = ctx.attrs
        return AvgPool2d.apply(gg, kernel_size=a["kernel_size"], stride=a["stride"],
                               padding=a["padding"], ceil_mode=a["ceil_mode"],
                               count_include_pad=a["count_include_pad"],
                               divisor_override=a.get("divisor_override"))
