"""Convolutions: conv2d, conv_transpose2d and conv2d_weight -- three ops that are each other's VJPs.

Shapes (PyTorch's): input ``x (N, C, H, W)``; weight ``w (K, C/G, KH, KW)`` for ``G`` groups;
output ``y (N, K, OH, OW)``. ``padding`` arrives as ``((top, bottom), (left, right))`` (asymmetric
only for ``padding="same"`` with an even kernel), ``stride``/``dilation`` as ``(h, w)`` pairs;
``nn/functional.py`` checks and normalises the user's arguments.

How the forward works: the padded input is viewed (no copy) as windows ``(N, G, C/G, KH, KW, OH,
OW)`` with ``as_strided``; the windows are copied once into a contiguous column matrix
``cols (N, G, C/G*KH*KW, OH*OW)`` (im2col); the convolution is then one batched GEMM with the
weight ``(G, K/G, C/G*KH*KW)``.

The gradient family:

* ``conv2d(x, w)``  --VJP-->  x: ``conv_transpose2d(g, w)``,  w: ``conv2d_weight(x, g)``
* ``conv_transpose2d(z, w)``  --VJP-->  z: ``conv2d(g, w)``,  w: ``conv2d_weight(g, z)``
* ``conv2d_weight(x, g)``  --VJP-->  x: ``conv_transpose2d(g, G)``,  g: ``conv2d(x, G)``

so gradients of any order stay inside these three ops. (``conv_transpose2d`` is the tutorial's
"full convolution of the sensitivity map with the 180°-flipped kernel", done as a GEMM and a
scatter-add over the kernel offsets instead.)
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.tensor import Tensor

Pair = tuple[int, int]
Pads = tuple[tuple[int, int], tuple[int, int]]


def out_size(size: int, kernel: int, pad: tuple[int, int], stride: int, dilation: int) -> int:
    """How many windows fit along one axis."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def _padded(x: Any, pads: Pads, rows: int, cols: int) -> Any:
    """``x (N, C, H, W)`` with ``pads`` of zeros, cut to the ``rows``×``cols`` that windows reach."""
    (top, _), (left, _) = pads
    n, c, h, w = x.shape
    if top == 0 and left == 0 and rows <= h and cols <= w:
        return x[:, :, :rows, :cols]
    xp = array_module(x)
    out = xp.zeros((n, c, rows, cols), dtype=x.dtype)
    hh, ww = min(h, rows - top), min(w, cols - left)
    out[:, :, top:top + hh, left:left + ww] = x[:, :, :hh, :ww]
    return out


def im2col(x: Any, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int,
           out_hw: Pair) -> Any:
    """Column matrix of the windows: ``x (N, C, H, W) -> (N, G, C/G*KH*KW, OH*OW)``."""
    xp = array_module(x)
    n, c, _, _ = x.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    rows, cols = (oh - 1) * sh + dh * (kh - 1) + 1, (ow - 1) * sw + dw * (kw - 1) + 1
    xpad = _padded(x, pads, rows, cols)
    s_n, s_c, s_h, s_w = xpad.strides
    cg = c // groups
    # (N, G, C/G, KH, KW, OH, OW): window (oh, ow), kernel offset (a, b) -> xpad[oh*sh + a*dh, ...]
    windows = xp.lib.stride_tricks.as_strided(
        xpad, shape=(n, groups, cg, kh, kw, oh, ow),
        strides=(s_n, cg * s_c, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w), writeable=False)
    return xp.ascontiguousarray(windows).reshape(n, groups, cg * kh * kw, oh * ow)


def col2im(cols: Any, in_hw: Pair, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair,
           out_hw: Pair) -> Any:
    """The adjoint of :func:`im2col`: ``(N, C, KH, KW, OH, OW) -> (N, C, H, W)``, adding every
    column entry back onto the input position it was read from (one strided add per kernel
    offset), then cutting the padding off."""
    xp = array_module(cols)
    n, c, kh, kw, oh, ow = cols.shape
    (sh, sw), (dh, dw), ((top, bottom), (left, right)) = stride, dilation, pads
    h, w = in_hw
    full = xp.zeros((n, c, h + top + bottom, w + left + right), dtype=cols.dtype)
    for a in range(kh):
        for b in range(kw):
            r, s = a * dh, b * dw
            # (N, C, OH, OW) += cols[:, :, a, b]: window (i, j) read xpad[i*sh + a*dh, j*sw + b*dw]
            full[:, :, r:r + sh * (oh - 1) + 1:sh, s:s + sw * (ow - 1) + 1:sw] += cols[:, :, a, b]
    return full[:, :, top:top + h, left:left + w]


def _output_padding(in_size: int, out: int, kernel: int, pad: tuple[int, int], stride: int,
                    dilation: int) -> int:
    """Rows a transposed convolution must add to give back exactly ``in_size``."""
    return in_size + pad[0] + pad[1] - ((out - 1) * stride + dilation * (kernel - 1) + 1)


def _crop(t: Tensor, hw: tuple[int, ...]) -> Tensor:
    """A conv2d used as an adjoint can produce extra rows/columns (when ``output_padding`` of the
    transposed op reached a full stride); windows there belong to no input entry, so cut them."""
    if tuple(t.shape[2:]) == tuple(hw):
        return t
    return t[:, :, :hw[0], :hw[1]]


def conv2d_array(x: Any, w: Any, stride: Pair, pads: Pads, dilation: Pair, groups: int) -> Any:
    """``conv2d`` on arrays: ``(N, C, H, W), (K, C/G, KH, KW) -> (N, K, OH, OW)``."""
    xp = array_module(x)
    n, c, h, wd = x.shape
    k, cg, kh, kw = w.shape
    oh = out_size(h, kh, pads[0], stride[0], dilation[0])
    ow = out_size(wd, kw, pads[1], stride[1], dilation[1])
    cols = im2col(x, (kh, kw), stride, pads, dilation, groups, (oh, ow))  # (N, G, CgKK, P)
    wmat = w.reshape(groups, k // groups, cg * kh * kw)  # (G, K/G, CgKK)
    out = xp.matmul(wmat, cols)  # (G, K/G, CgKK) @ (N, G, CgKK, P) -> (N, G, K/G, P)
    return out.reshape(n, k, oh, ow)


def conv_transpose2d_array(z: Any, w: Any, stride: Pair, pads: Pads, output_padding: Pair,
                           dilation: Pair, groups: int) -> Any:
    """``conv_transpose2d`` on arrays: ``(N, K, OH, OW), (K, C/G, KH, KW) -> (N, C, H, W)``."""
    xp = array_module(z)
    n, k, oh, ow = z.shape
    _, cg, kh, kw = w.shape
    c = cg * groups
    h = (oh - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0] - sum(pads[0])
    wd = (ow - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1] - sum(pads[1])
    wmat = w.reshape(groups, k // groups, cg * kh * kw).transpose(0, 2, 1)  # (G, CgKK, K/G)
    zmat = z.reshape(n, groups, k // groups, oh * ow)  # (N, G, K/G, P)
    cols = xp.matmul(wmat, zmat)  # (N, G, CgKK, P)
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    return col2im(cols, (h, wd), (kh, kw), stride, pads, dilation, (oh, ow))


def conv2d_weight_array(x: Any, g: Any, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair,
                        groups: int) -> Any:
    """The weight gradient on arrays: ``x (N, C, H, W), g (N, K, OH, OW) -> (K, C/G, KH, KW)``."""
    xp = array_module(x)
    n, c, _, _ = x.shape
    _, k, oh, ow = g.shape
    kh, kw = kernel
    cols = im2col(x, kernel, stride, pads, dilation, groups, (oh, ow))  # (N, G, CgKK, P)
    gmat = g.reshape(n, groups, k // groups, oh * ow)  # (N, G, K/G, P)
    # sum over the batch of (K/G, P) @ (P, CgKK)
    dw = xp.matmul(gmat, cols.transpose(0, 1, 3, 2)).sum(axis=0)  # (G, K/G, CgKK)
    return dw.reshape(k, c // groups, kh, kw)


class Conv2d(Function):
    """``y = conv2d(x, w) + b``. Inputs ``(x, w)`` or ``(x, w, b)``."""

    name = "conv2d"

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, b: Any = None, stride: Pair = (1, 1),
                padding: Pads = ((0, 0), (0, 0)), dilation: Pair = (1, 1), groups: int = 1) -> Any:
        nx, nw = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if nw else None, w if nx else None)
        ctx.x_hw, ctx.k_hw = x.shape[2:], w.shape[2:]
        out = conv2d_array(x, w, stride, padding, dilation, groups)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        x, w = ctx.saved_tensors
        a = ctx.attrs
        stride, pads, dilation, groups = a["stride"], a["padding"], a["dilation"], a["groups"]
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            op = tuple(_output_padding(ctx.x_hw[i], g.shape[2 + i], ctx.k_hw[i], pads[i],
                                       stride[i], dilation[i]) for i in range(2))
            gx = ConvTranspose2d.apply(g, w, stride=stride, padding=pads, output_padding=op,
                                       dilation=dilation, groups=groups)
        if ctx.needs_input_grad[1]:
            gw = Conv2dWeight.apply(x, g, kernel_size=tuple(ctx.k_hw), stride=stride,
                                    padding=pads, dilation=dilation, groups=groups)
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            gb = g.sum((0, 2, 3))
        return (gx, gw, gb) if len(ctx.needs_input_grad) > 2 else (gx, gw)


class ConvTranspose2d(Function):
    """``y = conv_transpose2d(z, w) + b``, the adjoint of conv2d with respect to its input
    (PaddlePaddle's ``trans=True``). ``w (K_in, C_out/G, KH, KW)``."""

    name = "conv_transpose2d"

    @staticmethod
    def forward(ctx: Context, z: Any, w: Any, b: Any = None, stride: Pair = (1, 1),
                padding: Pads = ((0, 0), (0, 0)), output_padding: Pair = (0, 0),
                dilation: Pair = (1, 1), groups: int = 1) -> Any:
        nz, nw = ctx.needs_input_grad[:2]
        ctx.save_for_backward(z if nw else None, w if nz else None)
        ctx.k_hw, ctx.z_hw = w.shape[2:], z.shape[2:]
        out = conv_transpose2d_array(z, w, stride, padding, output_padding, dilation, groups)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        z, w = ctx.saved_tensors
        a = ctx.attrs
        stride, pads, dilation, groups = a["stride"], a["padding"], a["dilation"], a["groups"]
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
    convolution."""

    name = "conv2d_weight"

    @staticmethod
    def forward(ctx: Context, x: Any, g: Any, kernel_size: Pair = (1, 1), stride: Pair = (1, 1),
                padding: Pads = ((0, 0), (0, 0)), dilation: Pair = (1, 1), groups: int = 1) -> Any:
        nx, ng = ctx.needs_input_grad
        ctx.save_for_backward(x if ng else None, g if nx else None)
        ctx.x_hw, ctx.g_hw = x.shape[2:], g.shape[2:]
        return conv2d_weight_array(x, g, kernel_size, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx: Context, gw: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, g = ctx.saved_tensors
        a = ctx.attrs
        stride, pads, dilation, groups = a["stride"], a["padding"], a["dilation"], a["groups"]
        kernel = a["kernel_size"]
        gx = gg = None
        if ctx.needs_input_grad[0]:
            op = tuple(_output_padding(ctx.x_hw[i], ctx.g_hw[i], kernel[i], pads[i], stride[i],
                                       dilation[i]) for i in range(2))
            gx = ConvTranspose2d.apply(g, gw, stride=stride, padding=pads, output_padding=op,
                                       dilation=dilation, groups=groups)
        if ctx.needs_input_grad[1]:
            gg = Conv2d.apply(x, gw, stride=stride, padding=pads, dilation=dilation, groups=groups)
            gg = _crop(gg, ctx.g_hw)
        return gx, gg
