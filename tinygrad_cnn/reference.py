"""The tutorial's algorithms as plain loops: the oracle for the tests, and a page to read next to the
fast versions in ``tinygrad_cnn/ops/conv_arrays.py`` and ``ops/pool.py``.

Nothing here is vectorised beyond one window at a time. Every function takes and returns float64
numpy arrays in the layout of PyTorch (``x``: ``(N, C, H, W)``; conv weight: ``(out_channels,
in_channels // groups, kernel_h, kernel_w)``).

The tutorial's words and ours:

=========================  ====================================================================
tutorial                   here
=========================  ====================================================================
filter, ``Filter``         a slice of ``weight`` (one output channel), and ``bias[k]``
filter_number              out_channels (``K``)
channel_number / depth     in_channels (``C``)
zero_padding               padding
sensitivity map (delta)    the output gradient ``grad_output`` (dLoss/dOutput)
``bp_sensitivity_map``     :func:`conv2d_input_grad_tutorial` (the input gradient)
``bp_gradient``            the weight and bias gradients of :func:`conv2d_backward`
180°-flipped kernel        what a transposed convolution does (:func:`conv_transpose2d`)
``get_max_index``          :func:`get_max_index` (the first maximum in row-major order)
=========================  ====================================================================
"""

from __future__ import annotations

import math

import numpy as np

Pair = tuple[int, int]


def _pair(v: int | tuple[int, int]) -> Pair:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _pads(padding: int | tuple[int, ...]) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` from an int, an ``(h, w)`` pair or a 4-tuple."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    if len(padding) == 2:
        return padding[0], padding[0], padding[1], padding[1]
    return tuple(int(p) for p in padding)  # type: ignore[return-value]


def zero_pad(x: np.ndarray, pads: tuple[int, int, int, int], value: float = 0.0) -> np.ndarray:
    """The tutorial's ``padding``: surround each image with rows and columns of ``value``."""
    top, bottom, left, right = pads
    n, c, h, w = x.shape
    out = np.full((n, c, h + top + bottom, w + left + right), value, dtype=np.float64)
    out[:, :, top:top + h, left:left + w] = x
    return out


def conv_output_size(size: int, kernel: int, pad_total: int, stride: int, dilation: int) -> int:
    """The tutorial's ``calculate_output_size``, with dilation: how many windows fit."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def get_patch(x_padded: np.ndarray, i: int, j: int, kernel: Pair, stride: Pair,
              dilation: Pair) -> np.ndarray:
    """The input region under output position (i, j): the tutorial's ``get_patch`` with dilation."""
    kh, kw = kernel
    top, left = i * stride[0], j * stride[1]
    return x_padded[..., top:top + dilation[0] * (kh - 1) + 1:dilation[0],
                    left:left + dilation[1] * (kw - 1) + 1:dilation[1]]


# --------------------------------------------------------------------------------------- conv
def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
           stride: int | Pair = 1, padding: int | tuple[int, ...] = 0, dilation: int | Pair = 1,
           groups: int = 1) -> np.ndarray:
    """Convolution (cross-correlation, as in every deep-learning library), one window at a time:
    ``out[n, k, i, j] = sum(patch * weight[k]) + bias[k]``."""
    stride, dilation, pads = _pair(stride), _pair(dilation), _pads(padding)
    n_batch, c_in, h, w = x.shape
    k_out, c_group, kh, kw = weight.shape
    k_group = k_out // groups
    xp = zero_pad(x, pads)
    oh = conv_output_size(h, kh, pads[0] + pads[1], stride[0], dilation[0])
    ow = conv_output_size(w, kw, pads[2] + pads[3], stride[1], dilation[1])
    out = np.zeros((n_batch, k_out, oh, ow))
    for n in range(n_batch):
        for k in range(k_out):
            g = k // k_group  # the group of this filter sees input channels g*c_group ...
            channels = xp[n, g * c_group:(g + 1) * c_group]
            for i in range(oh):
                for j in range(ow):
                    patch = get_patch(channels, i, j, (kh, kw), stride, dilation)
                    out[n, k, i, j] = (patch * weight[k]).sum() + (bias[k] if bias is not None
                                                                   else 0.0)
    return out


def conv2d_backward(x: np.ndarray, weight: np.ndarray, grad_output: np.ndarray,
                    stride: int | Pair = 1, padding: int | tuple[int, ...] = 0,
                    dilation: int | Pair = 1, groups: int = 1
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grad_x, grad_weight, grad_bias)`` by the chain rule, one product at a time.

    Each output ``out[n, k, i, j]`` is a sum of ``weight[k, c, a, b] * x_padded[n, c', i*s + a*d,
    j*s + b*d]``; its gradient ``g = grad_output[n, k, i, j]`` flows to both factors of every
    product, and to ``bias[k]`` (the tutorial: "the bias gradient is the sum of the sensitivity
    map").
    """
    stride, dilation, pads = _pair(stride), _pair(dilation), _pads(padding)
    n_batch, c_in, h, w = x.shape
    k_out, c_group, kh, kw = weight.shape
    k_group = k_out // groups
    xp = zero_pad(x, pads)
    grad_xp = np.zeros_like(xp)
    grad_w = np.zeros(weight.shape)
    grad_b = np.zeros(k_out)
    _, _, oh, ow = grad_output.shape
    for n in range(n_batch):
        for k in range(k_out):
            g0 = (k // k_group) * c_group
            for i in range(oh):
                for j in range(ow):
                    g = grad_output[n, k, i, j]
                    grad_b[k] += g
                    for c in range(c_group):
                        for a in range(kh):
                            for b in range(kw):
                                r = i * stride[0] + a * dilation[0]
                                s = j * stride[1] + b * dilation[1]
                                grad_w[k, c, a, b] += xp[n, g0 + c, r, s] * g
                                grad_xp[n, g0 + c, r, s] += weight[k, c, a, b] * g
    top, _, left, _ = pads
    return grad_xp[:, :, top:top + h, left:left + w], grad_w, grad_b


def expand_sensitivity_map(grad_output: np.ndarray, stride: int) -> np.ndarray:
    """The tutorial's ``expand_sensitivity_map``: put ``stride - 1`` zeros between the entries, so a
    strided convolution's gradient becomes that of a stride-1 one."""
    n, k, oh, ow = grad_output.shape
    out = np.zeros((n, k, (oh - 1) * stride + 1, (ow - 1) * stride + 1))
    out[:, :, ::stride, ::stride] = grad_output
    return out


def conv2d_input_grad_tutorial(x_shape: tuple[int, ...], weight: np.ndarray,
                               grad_output: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """The tutorial's ``bp_sensitivity_map`` (square stride and padding, no groups or dilation):
    expand the sensitivity map by the stride, zero-pad it by ``kernel - 1``, and convolve it with
    each filter turned by 180°; the input gradient is the sum over the filters."""
    n, c_in, h, w = x_shape
    k_out, _, kh, kw = weight.shape
    expanded = expand_sensitivity_map(grad_output, stride)
    # a full convolution over the padded input (size h + 2p) needs kernel - 1 zeros on each side
    hp, wp = h + 2 * padding, w + 2 * padding
    extra_h = hp - (expanded.shape[2] + kh - 1)  # rows the strided windows never reached
    extra_w = wp - (expanded.shape[3] + kw - 1)
    padded = zero_pad(expanded, (kh - 1, kh - 1 + extra_h, kw - 1, kw - 1 + extra_w))
    flipped = weight[:, :, ::-1, ::-1]  # np.rot90(filter, 2) for every channel
    delta = np.zeros((n, c_in, hp, wp))
    for f in range(k_out):
        for d in range(c_in):
            # a stride-1 convolution of one sensitivity map with one flipped kernel
            delta[:, d] += conv2d(padded[:, f:f + 1], flipped[f:f + 1, d:d + 1])[:, 0]
    return delta[:, :, padding:padding + h, padding:padding + w]


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None,
                     stride: int | Pair = 1, padding: int | tuple[int, ...] = 0,
                     output_padding: int | Pair = 0, groups: int = 1,
                     dilation: int | Pair = 1) -> np.ndarray:
    """Transposed convolution ("deconvolution"): every input value stamps the kernel, scaled by
    itself, onto the output at ``stride`` steps; then ``padding`` is cut off the border.
    ``weight``: ``(in_channels, out_channels // groups, kh, kw)`` (PyTorch's layout)."""
    stride, dilation, pads = _pair(stride), _pair(dilation), _pads(padding)
    output_padding = _pair(output_padding)
    n_batch, c_in, h, w = x.shape
    _, c_group, kh, kw = weight.shape
    in_group = c_in // groups
    full_h = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0]
    full_w = (w - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]
    full = np.zeros((n_batch, c_group * groups, full_h, full_w))
    for n in range(n_batch):
        for ci in range(c_in):
            g = ci // in_group
            for i in range(h):
                for j in range(w):
                    for co in range(c_group):
                        for a in range(kh):
                            for b in range(kw):
                                full[n, g * c_group + co, i * stride[0] + a * dilation[0],
                                     j * stride[1] + b * dilation[1]] += x[n, ci, i, j] * \
                                    weight[ci, co, a, b]
    top, bottom, left, right = pads
    out = full[:, :, top:full_h - bottom, left:full_w - right]
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out


def conv_transpose2d_backward(x: np.ndarray, weight: np.ndarray, grad_output: np.ndarray,
                              stride: int | Pair = 1, padding: int | tuple[int, ...] = 0,
                              output_padding: int | Pair = 0, groups: int = 1,
                              dilation: int | Pair = 1
                              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grad_x, grad_weight, grad_bias)`` of :func:`conv_transpose2d`, product by product: every
    stamp ``full[n, co, r, s] += x[n, ci, i, j] * weight[ci, co, a, b]`` sends the gradient at
    ``(r, s)`` back to both factors."""
    stride, dilation, pads = _pair(stride), _pair(dilation), _pads(padding)
    output_padding = _pair(output_padding)
    n_batch, c_in, h, w = x.shape
    _, c_group, kh, kw = weight.shape
    in_group = c_in // groups
    top, _, left, _ = pads
    full_h = (h - 1) * stride[0] + dilation[0] * (kh - 1) + 1 + output_padding[0]
    full_w = (w - 1) * stride[1] + dilation[1] * (kw - 1) + 1 + output_padding[1]
    grad_full = np.zeros((n_batch, c_group * groups, full_h, full_w))
    grad_full[:, :, top:top + grad_output.shape[2], left:left + grad_output.shape[3]] = grad_output
    grad_x, grad_w = np.zeros(x.shape), np.zeros(weight.shape)
    for n in range(n_batch):
        for ci in range(c_in):
            g = ci // in_group
            for i in range(h):
                for j in range(w):
                    for co in range(c_group):
                        for a in range(kh):
                            for b in range(kw):
                                gr = grad_full[n, g * c_group + co, i * stride[0] + a * dilation[0],
                                               j * stride[1] + b * dilation[1]]
                                grad_x[n, ci, i, j] += gr * weight[ci, co, a, b]
                                grad_w[ci, co, a, b] += gr * x[n, ci, i, j]
    return grad_x, grad_w, grad_output.sum(axis=(0, 2, 3))


# --------------------------------------------------------------------------------------- pooling
def pool_output_size(size: int, kernel: int, pad: int, stride: int, dilation: int,
                     ceil_mode: bool) -> int:
    """PyTorch's rule: with ``ceil_mode`` a last, partial window is kept if it starts inside the
    input or its left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (math.ceil(span / stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def get_max_index(window: np.ndarray) -> tuple[int, int]:
    """The tutorial's ``get_max_index``: the first maximum in row-major order (``>`` keeps the
    first of equal values). This is the tie rule of max pooling's gradient, here and in PyTorch."""
    max_i, max_j = 0, 0
    max_value = window[0, 0]
    for i in range(window.shape[0]):
        for j in range(window.shape[1]):
            if window[i, j] > max_value:
                max_value = window[i, j]
                max_i, max_j = i, j
    return max_i, max_j


def max_pool2d(x: np.ndarray, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0, dilation: int | Pair = 1, ceil_mode: bool = False
               ) -> tuple[np.ndarray, np.ndarray]:
    """``(out, indices)``: the window maxima and where they came from (flat ``h * W + w`` into
    each input plane, like PyTorch's ``return_indices``)."""
    k, d, p = _pair(kernel_size), _pair(dilation), _pair(padding)
    s = k if stride is None else _pair(stride)
    n_batch, c, h, w = x.shape
    oh = pool_output_size(h, k[0], p[0], s[0], d[0], ceil_mode)
    ow = pool_output_size(w, k[1], p[1], s[1], d[1], ceil_mode)
    xp = zero_pad(x, (p[0], p[0] + k[0] * d[0], p[1], p[1] + k[1] * d[1]), value=-np.inf)
    out = np.zeros((n_batch, c, oh, ow))
    indices = np.zeros((n_batch, c, oh, ow), dtype=np.int64)
    for n in range(n_batch):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    window = get_patch(xp[n, ch], i, j, k, s, d)
                    a, b = get_max_index(window)
                    out[n, ch, i, j] = window[a, b]
                    r, q = i * s[0] + a * d[0] - p[0], j * s[1] + b * d[1] - p[1]
                    indices[n, ch, i, j] = r * w + q
    return out, indices


def max_pool2d_backward(x: np.ndarray, grad_output: np.ndarray, kernel_size: int | Pair,
                        stride: int | Pair | None = None, padding: int | Pair = 0,
                        dilation: int | Pair = 1, ceil_mode: bool = False) -> np.ndarray:
    """The tutorial's ``MaxPoolingLayer.backward``: each window's gradient goes to its (first)
    maximum; windows that overlap add up."""
    _, indices = max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode)
    n_batch, c, h, w = x.shape
    grad = np.zeros((n_batch, c, h * w))
    for n in range(n_batch):
        for ch in range(c):
            for i in range(grad_output.shape[2]):
                for j in range(grad_output.shape[3]):
                    grad[n, ch, indices[n, ch, i, j]] += grad_output[n, ch, i, j]
    return grad.reshape(x.shape)


def _avg_divisor(i: int, j: int, k: Pair, s: Pair, p: Pair, size: Pair,
                 count_include_pad: bool) -> int:
    h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
    if count_include_pad:  # padding counts, the overhang of a ceil_mode window does not
        h1, w1 = min(h0 + k[0], size[0] + p[0]), min(w0 + k[1], size[1] + p[1])
        return (h1 - h0) * (w1 - w0)
    h1, w1 = min(h0 + k[0], size[0]), min(w0 + k[1], size[1])
    return (h1 - max(h0, 0)) * (w1 - max(w0, 0))


def avg_pool2d(x: np.ndarray, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> np.ndarray:
    """Window means (PyTorch's divisor rules for padding and ``ceil_mode``)."""
    k, p = _pair(kernel_size), _pair(padding)
    s = k if stride is None else _pair(stride)
    n_batch, c, h, w = x.shape
    oh = pool_output_size(h, k[0], p[0], s[0], 1, ceil_mode)
    ow = pool_output_size(w, k[1], p[1], s[1], 1, ceil_mode)
    xp = zero_pad(x, (p[0], p[0] + k[0], p[1], p[1] + k[1]))
    out = np.zeros((n_batch, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = get_patch(xp, i, j, k, s, (1, 1))
            out[:, :, i, j] = window.sum(axis=(2, 3)) / _avg_divisor(i, j, k, s, p, (h, w),
                                                                     count_include_pad)
    return out


def avg_pool2d_backward(x: np.ndarray, grad_output: np.ndarray, kernel_size: int | Pair,
                        stride: int | Pair | None = None, padding: int | Pair = 0,
                        ceil_mode: bool = False, count_include_pad: bool = True) -> np.ndarray:
    """Each window's gradient, divided by its divisor, spread evenly over the window."""
    k, p = _pair(kernel_size), _pair(padding)
    s = k if stride is None else _pair(stride)
    n_batch, c, h, w = x.shape
    grad = np.zeros((n_batch, c, h + 2 * p[0] + k[0], w + 2 * p[1] + k[1]))
    for i in range(grad_output.shape[2]):
        for j in range(grad_output.shape[3]):
            share = grad_output[:, :, i, j] / _avg_divisor(i, j, k, s, p, (h, w),
                                                           count_include_pad)
            grad[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]] += \
                share[:, :, None, None]
    return grad[:, :, p[0]:p[0] + h, p[1]:p[1] + w]


# --------------------------------------------------------------------------------------- the tutorial
def tutorial_example() -> dict[str, np.ndarray]:
    """The tutorial's worked example: input ``a`` (3×5×5), two 3×3×3 filters with biases 1 and 0,
    stride 2, zero padding 1, identity activation, output gradient ``b``, learning rate 0.001."""
    a = np.array([[[0, 1, 1, 0, 2], [2, 2, 2, 2, 1], [1, 0, 0, 2, 0], [0, 1, 1, 0, 0],
                   [1, 2, 0, 0, 2]],
                  [[1, 0, 2, 2, 0], [0, 0, 0, 2, 0], [1, 2, 1, 2, 1], [1, 0, 0, 0, 0],
                   [1, 2, 1, 1, 1]],
                  [[2, 1, 2, 0, 0], [1, 0, 0, 1, 0], [0, 2, 1, 0, 1], [0, 1, 2, 2, 2],
                   [2, 1, 0, 0, 1]]], dtype=np.float64)
    filters = np.array([
        [[[-1, 1, 0], [0, 1, 0], [0, 1, 1]], [[-1, -1, 0], [0, 0, 0], [0, -1, 0]],
         [[0, 0, -1], [0, 1, 0], [1, -1, -1]]],
        [[[1, 1, -1], [-1, -1, 1], [0, -1, 1]], [[0, 1, 0], [-1, 0, -1], [-1, 1, 0]],
         [[-1, 0, 0], [-1, 0, 1], [-1, 0, 0]]],
    ], dtype=np.float64)
    bias = np.array([1.0, 0.0])
    b = np.array([[[0, 1, 1], [2, 2, 2], [1, 0, 0]], [[1, 0, 2], [0, 0, 0], [1, 2, 1]]],
                 dtype=np.float64)
    return {"input": a, "weight": filters, "bias": bias, "grad_output": b,
            "stride": np.array(2), "padding": np.array(1), "learning_rate": np.array(0.001)}
