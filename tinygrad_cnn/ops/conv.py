"""Convolutions: conv2d, conv_transpose2d and conv2d_weight -- three ops that are each other's VJPs.

Shapes (PyTorch's): input ``x (N, C, H, W)``; weight ``w (K, C/G, KH, KW)`` for ``G`` groups;
output ``y (N, K, OH, OW)``. ``padding`` arrives as ``((top, bottom), (left, right))`` (asymmetric
only for ``padding="same"`` with an even kernel), ``stride``/``dilation`` as ``(h, w)`` pairs;
``nn/functional.py`` checks and normalises the user's arguments.

The gradient family:

* ``conv2d(x, w)``  --VJP-->  x: ``conv_transpose2d(g, w)``,  w: ``conv2d_weight(x, g)``
* ``conv_transpose2d(z, w)``  --VJP-->  z: ``conv2d(g, w)``,  w: ``conv2d_weight(g, z)``
* ``conv2d_weight(x, g)``  --VJP-->  x: ``conv_transpose2d(g, G)``,  g: ``conv2d(x, G)``

so gradients of any order stay inside these three ops. ``unfold`` (im2col) and ``fold`` (col2im),
``F.unfold``/``F.fold``, are each other's VJPs in the same way. How each one computes on arrays -- im2col,
channels-last columns, one GEMM per kernel offset, band matrices, col2im -- and which way a call
takes is in ``conv_arrays.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module, quiet
from tinygrad_cnn.ops.conv_arrays import (
    Layout,
    Pads,
    Pair,
    col2im,
    conv2d_array,
    conv2d_weight_array,
    conv_transpose2d_array,
    im2col,
    layout,
)
from tinygrad_cnn.tensor import Tensor


def _output_padding(in_hw: Any, out_hw: Any, kernel: Any, pads: Pads, stride: Pair,
                    dilation: Pair) -> Pair:
    """Rows and columns a transposed convolution must add to give back exactly ``in_hw``."""
    h, w = (in_hw[i] + sum(pads[i]) - ((out_hw[i] - 1) * stride[i]
                                       + dilation[i] * (kernel[i] - 1) + 1) for i in range(2))
    return h, w


def _crop(t: Tensor, hw: tuple[int, ...]) -> Tensor:
    """A conv2d used as an adjoint can produce extra rows/columns (when ``output_padding`` of the
    transposed op reached a full stride); windows there belong to no input entry, so cut them."""
    if tuple(t.shape[2:]) == tuple(hw):
        return t
    return t[:, :, :hw[0], :hw[1]]


def _geometry(ctx: Context) -> tuple[Pair, Pads, Pair, int]:
    """``(stride, padding, dilation, groups)`` the op was applied with, defaults filled in (an op
    applied directly, not through ``F.conv2d``, may have left them out)."""
    a = ctx.attrs
    return (a.get("stride", (1, 1)), a.get("padding", ((0, 0), (0, 0))), a.get("dilation", (1, 1)),
            a.get("groups", 1))


def _half_with_bias(forward: Any, ctx: Context, x: Any, w: Any, b: Any, **geometry: Any) -> Any:
    """A float16 convolution with a bias: computed in float32, bias included, and rounded once,
    as PyTorch's (t173: the convolution rounded to float16 and then its sum with the bias again
    was 1 ulp off a quarter of the time). The saved tensors are float16 again: the VJPs run in
    the inputs' dtype."""
    x32, w32 = x.astype(np.float32), w.astype(np.float32)
    out = forward(ctx, x32, w32, b.astype(np.float32), **geometry)
    if ctx._to_save:  # (the inputs themselves, so that their versions are checked; a column
        # matrix is dropped: it is laid out for float32's itemsize, and the float16 VJP's layout
        # may differ -- wide rows against plain ones: a (1, 6, 14, 14) weight gradient failed in
        # numpy's matmul, t190 -- so the VJP builds its own)
        ctx._to_save = tuple(x if s is x32 else w if s is w32 else None for s in ctx._to_save)
    return out.astype(np.float16)


class Conv2d(Function):
    """``y = conv2d(x, w) + b``. Inputs ``(x, w)`` or ``(x, w, b)``. VJP: ``conv_transpose2d(g, w)``
    to ``x`` (the tutorial's full convolution with the 180°-flipped filter), ``conv2d_weight(x, g)``
    to ``w``, ``g`` summed over batch and positions to ``b``."""

    name = "conv2d"
    follows_channels_last = True  # (PyTorch's layout: see Function)

    @staticmethod
    @quiet  # (inf and NaN inputs give inf and NaN, without numpy's warnings)
    def forward(ctx: Context, x: Any, w: Any, b: Any = None, stride: Pair = (1, 1),
                padding: Pads = ((0, 0), (0, 0)), dilation: Pair = (1, 1), groups: int = 1) -> Any:
        nx, nw = ctx.needs_input_grad[:2]
        if b is not None and x.dtype == np.float16:  # (one rounding: see _half_with_bias)
            return _half_with_bias(Conv2d.forward, ctx, x, w, b, stride=stride, padding=padding,
                                   dilation=dilation, groups=groups)
        lay = layout(x.shape[2:], w.shape[2:], stride, padding, dilation, groups,
                     itemsize=x.itemsize, channels=x.shape[1])
        out, cols = conv2d_array(x, w, lay, bias=b, keep_cols=nw)
        # the weight gradient needs the same column matrix: keep it instead of rebuilding it
        ctx.save_for_backward(x if nw else None, w if nx else None, cols if nw else None)
        ctx.x_hw, ctx.k_hw = x.shape[2:], w.shape[2:]
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        x, w, cols = ctx.saved_tensors
        stride, pads, dilation, groups = _geometry(ctx)
        nx, nw = ctx.needs_input_grad[:2]
        gx = gw = gb = None
        if nx:
            op = _output_padding(ctx.x_hw, g.shape[2:], ctx.k_hw, pads, stride, dilation)
            gx = ConvTranspose2d.apply(g, w, stride=stride, padding=pads, output_padding=op,
                                       dilation=dilation, groups=groups)
        if nw:
            gw = Conv2dWeight.apply(x, g, kernel_size=tuple(ctx.k_hw), stride=stride,
                                    padding=pads, dilation=dilation, groups=groups,
                                    _cols=None if cols is None else cols._data)
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            gb = g.sum((0, 2, 3))
        return (gx, gw, gb) if len(ctx.needs_input_grad) > 2 else (gx, gw)


class ConvTranspose2d(Function):
    """``y = conv_transpose2d(z, w) + b``, the adjoint of conv2d with respect to its input
    (PaddlePaddle's ``trans=True``). ``w (K_in, C_out/G, KH, KW)``. VJP: ``conv2d(g, w)`` to
    ``z``, ``conv2d_weight(g, z)`` to ``w``, ``g`` summed over batch and positions to ``b``."""

    name = "conv_transpose2d"
    follows_channels_last = True  # (PyTorch's layout: see Function)

    @staticmethod
    @quiet  # (inf and NaN inputs give inf and NaN, without numpy's warnings)
    def forward(ctx: Context, z: Any, w: Any, b: Any = None, stride: Pair = (1, 1),
                padding: Pads = ((0, 0), (0, 0)), output_padding: Pair = (0, 0),
                dilation: Pair = (1, 1), groups: int = 1) -> Any:
        if b is not None and z.dtype == np.float16:  # (one rounding: see _half_with_bias)
            return _half_with_bias(ConvTranspose2d.forward, ctx, z, w, b, stride=stride,
                                   padding=padding, output_padding=output_padding,
                                   dilation=dilation, groups=groups)
        nz, nw = ctx.needs_input_grad[:2]
        ctx.save_for_backward(z if nw else None, w if nz else None)
        ctx.k_hw, ctx.z_hw = w.shape[2:], z.shape[2:]
        # the layout of the convolution this one is the adjoint of: its input is our output
        hw = tuple((z.shape[2 + i] - 1) * stride[i] + dilation[i] * (w.shape[2 + i] - 1) + 1
                   + output_padding[i] - sum(padding[i]) for i in range(2))
        lay = layout(hw, w.shape[2:], stride, padding, dilation, groups, z.shape[2:], z.itemsize)
        out = conv_transpose2d_array(z, w, lay)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        z, w = ctx.saved_tensors
        stride, pads, dilation, groups = _geometry(ctx)
        gz = gw = gb = None
        if ctx.needs_input_grad[0]:
            gz = Conv2d.apply(g, w, stride=stride, padding=pads, dilation=dilation, groups=groups)
            gz = _crop(gz, ctx.z_hw)
        if ctx.needs_input_grad[1]:
            gw = Conv2dWeight.apply(g, z, kernel_size=tuple(ctx.k_hw), stride=stride,
                                    padding=pads, dilation=dilation, groups=groups)
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            gb = g.sum((0, 2, 3))
        return (gz, gw, gb) if len(ctx.needs_input_grad) > 2 else (gz, gw)


class Conv2dWeight(Function):
    """The weight gradient of conv2d as an op: ``conv2d_weight(x, g)[k, c, a, b] = sum over n, i, j
    of g[n, k, i, j] * x_padded[n, c', i*sh + a*dh, j*sw + b*dw]`` -- a convolution of the input
    with the output gradient. Bilinear in ``(x, g)``, so its VJPs are a transposed convolution and a
    convolution. ``_cols``: conv2d's column matrix of ``x``, when it kept one."""

    name = "conv2d_weight"

    @staticmethod
    @quiet  # (inf and NaN inputs give inf and NaN, without numpy's warnings)
    def forward(ctx: Context, x: Any, g: Any, kernel_size: Pair = (1, 1), stride: Pair = (1, 1),
                padding: Pads = ((0, 0), (0, 0)), dilation: Pair = (1, 1), groups: int = 1,
                _cols: Any = None) -> Any:
        nx, ng = ctx.needs_input_grad
        ctx.save_for_backward(x if ng else None, g if nx else None)
        ctx.x_hw, ctx.g_hw = x.shape[2:], g.shape[2:]
        lay = layout(x.shape[2:], kernel_size, stride, padding, dilation, groups, g.shape[2:],
                     x.itemsize, channels=x.shape[1])
        return conv2d_weight_array(x, g, lay, _cols)

    @staticmethod
    def backward(ctx: Context, gw: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, g = ctx.saved_tensors
        stride, pads, dilation, groups = _geometry(ctx)
        kernel = ctx.attrs.get("kernel_size", (1, 1))
        gx = gg = None
        if ctx.needs_input_grad[0]:
            op = _output_padding(ctx.x_hw, ctx.g_hw, kernel, pads, stride, dilation)
            gx = ConvTranspose2d.apply(g, gw, stride=stride, padding=pads, output_padding=op,
                                       dilation=dilation, groups=groups)
        if ctx.needs_input_grad[1]:
            gg = Conv2d.apply(x, gw, stride=stride, padding=pads, dilation=dilation, groups=groups)
            gg = _crop(gg, ctx.g_hw)
        return gx, gg


# ------------------------------------------------------------------------------ im2col, col2im
def _columns(hw: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> Layout:
    """The rows layout (one column per window, ``Q = OH*OW``) of ``F.unfold``/``F.fold``."""
    lay = layout(hw, kernel, stride, ((padding[0],) * 2, (padding[1],) * 2), dilation, 1)
    if lay.wide:
        lay = lay._replace(wide=False, q=lay.out_hw[0] * lay.out_hw[1])
    return lay


class Unfold(Function):
    """im2col: the sliding windows of ``x (N, C, H, W)`` as columns, ``(N, C*KH*KW, L)`` with
    ``L = OH*OW`` windows; row ``(c, a, b)`` of column ``(i, j)`` is
    ``x_padded[n, c, i*sh + a*dh, j*sw + b*dw]``. Linear; VJP: ``fold`` of ``g`` (col2im, which
    adds each column entry back where it was read)."""

    @staticmethod
    def forward(ctx: Context, x: Any, kernel_size: Pair = (1, 1), dilation: Pair = (1, 1),
                padding: Pair = (0, 0), stride: Pair = (1, 1)) -> Any:
        ctx.in_hw = x.shape[2:]
        lay = _columns(x.shape[2:], kernel_size, stride, padding, dilation)
        n, c = x.shape[:2]
        out = array_module(x).empty((n, c * kernel_size[0] * kernel_size[1], lay.q), x.dtype)
        return im2col(x, lay, out)  # (N, C*KH*KW, OH*OW)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Fold.apply(g, output_size=tuple(ctx.in_hw), **ctx.attrs)


class Fold(Function):
    """col2im: columns ``(N, C*KH*KW, L)`` summed into an image ``(N, C, H, W)``
    (``output_size = (H, W)``): each entry is added at the position ``unfold`` reads it from;
    overlapping windows add up, and what falls into the padding is dropped. Linear; VJP:
    ``unfold`` of ``g``."""

    @staticmethod
    @quiet  # (inf + -inf where windows overlap: NaN, as PyTorch, without numpy's warning)
    def forward(ctx: Context, cols: Any, output_size: Pair = (1, 1), kernel_size: Pair = (1, 1),
                dilation: Pair = (1, 1), padding: Pair = (0, 0), stride: Pair = (1, 1)) -> Any:
        lay = _columns(output_size, kernel_size, stride, padding, dilation)
        (kh, kw), n = kernel_size, cols.shape[0]
        c = cols.shape[1] // (kh * kw)
        out = array_module(cols).empty((n, c, *output_size), cols.dtype)
        col2im(cols.reshape(n, c, kh, kw, lay.q), lay, out)  # (N, C, KH, KW, L) -> (N, C, H, W)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Unfold.apply(g, **{k: v for k, v in ctx.attrs.items() if k != "output_size"})
