"""How the convolution ops of ``conv.py`` compute, on arrays (numpy or CuPy): the column layouts
and the ways of computing a convolution, its weight gradient and its adjoint (the transposed
convolution), and which way each call takes.

Shapes (PyTorch's): input ``x (N, C, H, W)``; weight ``w (K, C/G, KH, KW)`` for ``G`` groups;
output ``y (N, K, OH, OW)``; ``pads`` ``((top, bottom), (left, right))``.

The forward, three ways (:func:`conv2d_array` chooses):

* im2col: the padded input is viewed (no copy) as windows ``(N, G, C/G, KH, KW, OH, OW)`` with
  ``as_strided``; the windows are copied once into a contiguous column matrix ``cols (N, G,
  C/G*KH*KW, Q)`` (rows layout ``Q = OH*OW``, or the wide layout of :class:`Layout`); the
  convolution is then one batched GEMM with the weight ``(G, K/G, C/G*KH*KW)``.
* channels-last columns (:func:`conv2d_channels_last`; one group, window rows longer than output
  rows -- LeNet-5's conv2): the same GEMM over ``(N*OH*OW, KH*KW*C)`` columns copied from a
  channels-last copy of the input in runs of ``KW*C`` values.
* shifted (:func:`conv2d_shifted`; stride 1 and enough channels -- the 3×3 benchmark
  convolution): no column matrix at all; one GEMM per kernel offset reads the padded input's
  planes in place, from that offset on, and adds into the output (BLAS's ``beta = 1``, through
  :mod:`tinygrad_cnn.blas`).

The weight gradient reuses what the forward kept (its columns, or the padded input) and works the
same way. The adjoint (``conv_transpose2d``, the tutorial's "full convolution of the sensitivity
map with the 180°-flipped kernel"), chosen by :func:`conv_transpose2d_array`: shifted where the
forward is; for narrow images a GEMM with a band matrix and one add per kernel row
(:func:`conv_transpose2d_banded`); for stride 1 that very convolution of the zero-padded gradient
(:func:`adjoint_as_conv`); otherwise a GEMM and a scatter-add over the kernel offsets
(:func:`col2im`). Batch chunks run on all cores (:mod:`tinygrad_cnn.parallel`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tinygrad_cnn import blas, parallel, workspace
from tinygrad_cnn.backend import array_module, reshaped_view

Pair = tuple[int, int]
Pads = tuple[tuple[int, int], tuple[int, int]]


def out_size(size: int, kernel: int, pad: tuple[int, int], stride: int, dilation: int) -> int:
    """How many windows fit along one axis."""
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


class Layout(NamedTuple):
    """Where the windows of one convolution sit in its padded input, and how its columns are laid
    out. ``rows``×``cols`` is the part of the padded input that windows reach.

    Two column layouts, chosen by :func:`layout`:

    * ``"rows"``: one column per output pixel, ``Q = OH*OW`` (any stride);
    * ``"wide"`` (stride 1 and very narrow outputs, ``OW * itemsize < WIDE_MAX_BYTES``): the
      output is computed at every position of a padded row, ``Q = (OH-1)*cols + OW``, and the
      ``cols - OW`` extra positions per row are thrown away. Each column-matrix row is then one
      contiguous run of the flattened input, so im2col copies long runs instead of ``OW``-element
      snippets (4x faster alone for LeNet's 10-wide conv2), for more GEMM work, a bigger column
      matrix and a copy of the output (and of its gradient) between the layouts. Inside a training
      step, where those big buffers come cold from memory, the rows layout won for both of LeNet's
      convolutions (10 and 28 wide; step 7.36 -> 6.72 ms), so only rows under 8 floats go wide.
    """

    kernel: Pair
    stride: Pair
    pads: Pads
    dilation: Pair
    groups: int
    in_hw: Pair
    out_hw: Pair
    rows: int
    cols: int
    wide: bool
    q: int
    channels_last: bool = False


WIDE_MAX_BYTES = 32  # see Layout
CHANNELS_LAST_MIN_RUN = 1.0  # see layout()


def layout(in_hw: Pair, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, groups: int,
           out_hw: Pair | None = None, itemsize: int = 4, channels: int = 0) -> Layout:
    """The layout of a convolution's column matrix. ``channels`` (the input's, when the caller
    makes the columns of a forward or a weight gradient) allows the channels-last columns
    (:func:`conv2d_channels_last`): one group, no dilation along the width, and a window row of
    ``KW*C`` values longer than an output row of ``OW`` (the rows layout's run)."""
    if out_hw is None:
        out_hw = (out_size(in_hw[0], kernel[0], pads[0], stride[0], dilation[0]),
                  out_size(in_hw[1], kernel[1], pads[1], stride[1], dilation[1]))
    oh, ow = out_hw
    rows = (oh - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1
    cols = (ow - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1
    # wide needs the window rows to span the padded input exactly (always so for stride 1, except
    # in the adjoint of a transposed convolution with output_padding)
    wide = (stride == (1, 1) and ow * itemsize < WIDE_MAX_BYTES
            and rows == in_hw[0] + sum(pads[0]) and cols == in_hw[1] + sum(pads[1]))
    q = (oh - 1) * cols + ow if wide else oh * ow
    last = (not wide and groups == 1 and dilation[1] == 1 and channels > 0
            and kernel[1] * channels > CHANNELS_LAST_MIN_RUN * ow)
    return Layout(kernel, stride, pads, dilation, groups, in_hw, out_hw, rows, cols, wide, q, last)


def _needs_padding(x: Any, lay: Layout) -> bool:
    (top, _), (left, _) = lay.pads
    h, w = x.shape[2:]
    return not (top == 0 and left == 0 and lay.rows == h and lay.cols == w
                and x.flags.c_contiguous)


def _pad_into(x: Any, lay: Layout, out: Any) -> None:
    """``x (n, C, H, W)`` into ``out (n, C, rows, cols)`` in a zero frame, cut to the
    ``rows``×``cols`` that windows reach."""
    (top, _), (left, _) = lay.pads
    h, w = x.shape[2:]
    out.fill(0)
    hh, ww = min(h, lay.rows - top), min(w, lay.cols - left)
    if hh > 0 and ww > 0:
        out[:, :, top:top + hh, left:left + ww] = x[:, :, :hh, :ww]


def canonical(a: Any) -> Any:
    """``a``, or a view of it with C order's own strides: numpy calls an array C-contiguous
    whatever the strides of its size-1 dims (``x[:, None]`` has stride 0 there, a transpose of two
    size-1 dims their swapped strides), and the strided views of im2col read with those strides
    (the wide layout steps through a whole plane with the width's stride: an input of width 1
    with such a stride read the wrong elements, or memory outside the array)."""
    step = a.itemsize
    for size, stride in zip(reversed(a.shape), reversed(a.strides)):
        if stride != step:
            return a.reshape(-1).reshape(a.shape)
        step *= size
    return a


def _padded(x: Any, lay: Layout) -> Any:
    """``x (N, C, H, W)`` in a zero frame, cut to the ``rows``×``cols`` that windows reach; ``x``
    itself (with C order's strides, :func:`canonical`) when that is already it."""
    if not _needs_padding(x, lay):
        return canonical(x)
    out = workspace.empty((*x.shape[:2], lay.rows, lay.cols), x.dtype, array_module(x))
    _pad_into(x, lay, out)
    return out


def im2col(x: Any, lay: Layout, out: Any) -> Any:
    """Column matrix of the windows: ``x (N, C, H, W) -> out (N, G, C/G*KH*KW, Q)``.

    Column ``q`` holds the window of output pixel ``q``; its rows run over ``(c, a, b)``: channel,
    kernel row, kernel column.
    """
    xp = array_module(x)
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = lay.kernel, lay.stride, lay.dilation, lay.out_hw
    xpad = _padded(x, lay)
    s_n, s_c, s_h, s_w = xpad.strides
    # (``out`` may be a slice of a larger buffer: reshaped without a copy, or an error)
    if lay.wide:
        # (N, C, KH, KW, Q): row (c, a, b) is the flat padded plane from offset a*dh*cols + b*dw
        windows = xp.lib.stride_tricks.as_strided(
            xpad, shape=(n, c, kh, kw, lay.q), strides=(s_n, s_c, dh * s_h, dw * s_w, s_w))
        dst = reshaped_view(out, (n, c, kh, kw, lay.q))
    else:
        # (N, C, KH, KW, OH, OW): entry (a, b, i, j) is xpad[i*sh + a*dh, j*sw + b*dw]
        windows = xp.lib.stride_tricks.as_strided(
            xpad, shape=(n, c, kh, kw, oh, ow),
            strides=(s_n, s_c, dh * s_h, dw * s_w, sh * s_h, sw * s_w))
        dst = reshaped_view(out, (n, c, kh, kw, oh, ow))
    xp.copyto(dst, windows)
    return out


def to_output(y: Any, lay: Layout, out: Any, bias: Any = None) -> None:
    """Wide-layout columns ``(N, K, Q)`` into the image ``out (N, K, OH, OW)``, dropping the extra
    positions, plus ``bias (K,)`` when given -- in the same pass. (In the rows layout the GEMM
    writes the image directly.)"""
    xp = array_module(y)
    n, k = y.shape[:2]
    oh, ow = lay.out_hw
    s_n, s_k, s_q = y.strides
    image = xp.lib.stride_tricks.as_strided(
        y, shape=(n, k, oh, ow), strides=(s_n, s_k, lay.cols * s_q, s_q))
    if bias is None:
        out[...] = image
    else:
        xp.add(image, bias.reshape(1, k, 1, 1), out=out)


def from_output(g: Any, lay: Layout) -> Any:
    """An image ``(N, K, OH, OW)`` as columns ``(N, K, Q)`` (zeros at the wide layout's extra
    positions, so they contribute nothing)."""
    xp = array_module(g)
    n, k, oh, ow = g.shape
    if not lay.wide:
        return xp.ascontiguousarray(g).reshape(n, k, oh * ow)
    out = workspace.empty((n, k, oh * lay.cols), g.dtype, xp)
    grid = out.reshape(n, k, oh, lay.cols)
    grid[..., ow:] = 0
    grid[..., :ow] = g
    return out[..., :lay.q]


def from_output_t(g: Any, lay: Layout) -> Any:
    """An image ``(N, K, OH, OW)`` as transposed columns ``(N, G, Q, K/G)``: one column per
    output channel (in the wide layout with zeros at the extra positions). The weight gradient's
    GEMM reads this operand in order (see :func:`wgrad_reads_transposed`)."""
    xp = array_module(g)
    n, k, oh, ow = g.shape
    groups, kg = lay.groups, k // lay.groups
    width = lay.cols if lay.wide else ow  # positions per output row in the columns
    out = workspace.empty((n, groups, oh * width, kg), g.dtype, xp)
    grid = out.reshape(n, groups, oh, width, kg)
    grid[:, :, :, ow:] = 0  # the wide layout's extra positions (none in the rows layout)
    grid[:, :, :, :ow] = g.reshape(n, groups, kg, oh, ow).transpose(0, 1, 3, 4, 2)
    return out[:, :, :lay.q]


def col2im(cols: Any, lay: Layout, out: Any) -> None:
    """The adjoint of :func:`im2col`: ``(N, C, KH, KW, Q) -> out (N, C, H, W)``. Every column entry
    is added back onto the input position it was read from -- one add per kernel offset -- and the
    padding is cut off."""
    xp = array_module(cols)
    n, c, kh, kw, _ = cols.shape
    (sh, sw), (dh, dw), (oh, ow) = lay.stride, lay.dilation, lay.out_hw
    ((top, _), (left, _)), (h, w) = lay.pads, lay.in_hw
    full_h, full_w = max(lay.rows, top + h), max(lay.cols, left + w)
    if (top, left) == (0, 0) and (full_h, full_w) == (h, w) and out.flags.c_contiguous:
        full = out  # no padding to cut: add straight into the result
        full.fill(0)
    else:
        full = workspace.zeros((n, c, full_h, full_w), cols.dtype, xp)
    if lay.wide:  # full_w == cols here (stride 1), so each row of cols is one contiguous run
        flat = full.reshape(n, c, full_h * full_w)
        for a in range(kh):
            for b in range(kw):
                start = a * dh * full_w + b * dw
                flat[:, :, start:start + lay.q] += cols[:, :, a, b]
    else:
        grid = cols.reshape(n, c, kh, kw, oh, ow)
        for a in range(kh):
            for b in range(kw):
                r, s = a * dh, b * dw  # window (i, j) read xpad[i*sh + r, j*sw + s]
                full[:, :, r:r + sh * (oh - 1) + 1:sh, s:s + sw * (ow - 1) + 1:sw] += grid[:, :, a, b]
    if full is not out:
        out[...] = full[:, :, top:top + h, left:left + w]


def _split(xp: Any) -> Any:
    """Batch-parallel on the CPU; CuPy kernels run on the GPU as one piece."""
    return parallel.run_chunks if xp is np else (lambda n, fn, nbytes=0: fn(0, n))


LONG_JOB_MACS = 1 << 27  # see _split_evenly()


def _split_evenly(n: int, fn: Any, nbytes: int, macs: int) -> None:
    """:func:`parallel.run_chunks` with equal pieces for jobs of ``LONG_JOB_MACS`` multiply-adds
    and more (a millisecond or more per piece): the calling thread's larger piece makes up for a
    pool thread's late start (25-250 µs), which only matters for short jobs; on the 3×3
    benchmark convolution (15 ms on one core) it left the caller 56% of the work."""
    weight = 1.0 if macs >= LONG_JOB_MACS else parallel.CALLER_WEIGHT
    parallel.run_chunks(n, fn, nbytes, caller_weight=weight)


BLOCK_BYTES = 1 << 20  # see conv2d_array()


def conv2d_array(x: Any, w: Any, lay: Layout, bias: Any = None,
                 keep_cols: bool = True) -> tuple[Any, Any]:
    """``conv2d`` on arrays: ``(N, C, H, W), (K, C/G, KH, KW) -> (N, K, OH, OW)``, plus ``bias
    (K,)`` when given; also returns the column matrix (or, the shifted way, the padded input),
    which the weight gradient reuses -- or, with ``keep_cols=False`` (no weight gradient will be
    needed), ``None``: the column matrix is then made and used ``BLOCK_BYTES`` at a time, which
    stay in the core's cache between im2col and the GEMM instead of going out to memory and back
    (LeNet-5's conv1 at batch 1,000: a 78 MB column matrix). Batch chunks run on all cores."""
    n, c = x.shape[:2]
    k, g, (oh, ow) = w.shape[0], lay.groups, lay.out_hw
    if shifted(lay, c // g, k // g, x, w):
        out, xpad = conv2d_shifted(x, w, lay, bias)
        return out, (xpad if keep_cols else None)
    if lay.channels_last:
        return conv2d_channels_last(x, w, lay, bias, keep_cols)
    xp = array_module(x)
    cgkk = c // g * lay.kernel[0] * lay.kernel[1]
    # one group in the rows layout: the bias joins the GEMM as one more weight column, against a
    # row of ones under the columns (an add over the whole output after it cost LeNet-5's conv1
    # a tenth of its forward); the weight gradient reads the columns without that row
    fold = bias is not None and g == 1 and not lay.wide
    rows = cgkk + fold
    per_sample = g * rows * lay.q * x.itemsize
    block = max(n, 1) if keep_cols or xp is not np else max(1, BLOCK_BYTES // max(per_sample, 1))
    cols = workspace.empty((n, g, rows, lay.q), x.dtype, xp) if block >= n else None
    wmat = w.reshape(g, k // g, -1)  # (G, K/G, CgKK)
    if fold:  # (1, K, CgKK + 1)
        wmat = xp.concatenate([wmat, bias.reshape(1, k, 1).astype(w.dtype, copy=False)], axis=2)
    y = workspace.empty((n, g, k // g, lay.q), x.dtype, xp)
    out = y.reshape(n, k, oh, ow) if not lay.wide else workspace.empty((n, k, oh, ow), x.dtype, xp)

    def chunk(s: int, e: int) -> None:
        part = cols if cols is not None else np.empty((block, g, rows, lay.q), x.dtype)
        for b0 in range(s, e, block):
            b1 = min(b0 + block, e)
            here = part[:b1 - b0] if cols is None else part[b0:b1]
            im2col(x[b0:b1], lay, here[:, :, :cgkk])
            if fold:
                here[:, :, cgkk] = 1
            # (G, K/G, CgKK) @ (n, G, CgKK, Q) -> (n, G, K/G, Q)
            xp.matmul(wmat, here, out=y[b0:b1])
        if lay.wide:
            to_output(y[s:e].reshape(e - s, k, lay.q), lay, out[s:e], bias)
        elif bias is not None and not fold:
            out[s:e] += bias.reshape(1, k, 1, 1)

    _split(xp)(n, chunk, per_sample * n)
    return out, cols


def im2col_channels_last(x: Any, lay: Layout, out: Any) -> Any:
    """Channels-last columns: ``x (N, C, H, W) -> out (N, OH*OW, KH*KW*C)``, row ``(i, j)`` the
    window of output pixel ``(i, j)`` in ``(a, b, c)`` order. Through a padded channels-last copy
    of ``x``, each window row ``(b, c)`` is one run of ``KW*C`` values (LeNet-5's conv2: 30, where
    the rows layout copies runs of ``OW`` = 10), so numpy's copy loops over a third as many runs."""
    xp = array_module(x)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, _), (oh, ow) = lay.kernel, lay.stride, lay.dilation, lay.out_hw
    (top, _), (left, _) = lay.pads
    rows, cols = max(lay.rows, top + h), max(lay.cols, left + w)
    xcl = workspace.empty((n, rows, cols, c), x.dtype, xp)  # (N, H, W, C) in a zero frame
    if (rows, cols) != (h, w):
        xcl[:, :top], xcl[:, top + h:], xcl[:, :, :left], xcl[:, :, left + w:] = 0, 0, 0, 0
    xcl[:, top:top + h, left:left + w] = x.transpose(0, 2, 3, 1)
    s_n, s_h, s_w, s_c = xcl.strides
    # (N, OH, OW, KH, KW*C): entry (i, j, a, b*C + c) is xcl[i*sh + a*dh, j*sw + b, c]
    windows = xp.lib.stride_tricks.as_strided(
        xcl, shape=(n, oh, ow, kh, kw * c), strides=(s_n, sh * s_h, sw * s_w, dh * s_h, s_c))
    xp.copyto(out.reshape(n, oh, ow, kh, kw * c), windows)
    return out


def conv2d_channels_last(x: Any, w: Any, lay: Layout, bias: Any = None,
                         keep_cols: bool = True) -> tuple[Any, Any]:
    """``conv2d`` with channels-last columns (:func:`im2col_channels_last`): one GEMM ``(n*OH*OW,
    KH*KW*C) @ (KH*KW*C, K)`` per batch chunk, then the ``(n, OH*OW, K)`` result transposed into
    the image with the bias added in the same pass. LeNet-5's conv2: 525 -> 383 µs on one core
    (the im2col 330 -> 125 µs, plus 80 µs of transposes). Returns the output and the columns
    (``None`` without ``keep_cols``: then made ``BLOCK_BYTES`` at a time)."""
    xp = array_module(x)
    n = x.shape[0]
    k, (oh, ow) = w.shape[0], lay.out_hw
    q, kkc = oh * ow, w[0].size
    wt = xp.ascontiguousarray(w.transpose(2, 3, 1, 0)).reshape(kkc, k)  # (KH*KW*C, K)
    per_sample = q * kkc * x.itemsize
    block = max(n, 1) if keep_cols or xp is not np else max(1, BLOCK_BYTES // max(per_sample, 1))
    cols = workspace.empty((n, q, kkc), x.dtype, xp) if block >= n else None
    y = workspace.empty((n, q, k), x.dtype, xp)
    out = workspace.empty((n, k, oh, ow), x.dtype, xp)

    def chunk(s: int, e: int) -> None:
        part = cols if cols is not None else np.empty((block, q, kkc), x.dtype)
        for b0 in range(s, e, block):
            b1 = min(b0 + block, e)
            here = part[b0:b1] if cols is not None else part[:b1 - b0]
            im2col_channels_last(x[b0:b1], lay, here)
            # (n*Q, KH*KW*C) @ (KH*KW*C, K) -> (n*Q, K)
            xp.matmul(here.reshape(-1, kkc), wt, out=y[b0:b1].reshape(-1, k))
        image = out[s:e].reshape(e - s, k, q)
        if bias is None:
            image[...] = y[s:e].transpose(0, 2, 1)
        else:  # (n, Q, K) -> (n, K, Q), plus the bias
            xp.add(y[s:e].transpose(0, 2, 1), bias.reshape(1, k, 1), out=image)

    _split(xp)(n, chunk, per_sample * n)
    return out, cols


def conv2d_weight_channels_last(x: Any, g: Any, lay: Layout, cols: Any = None) -> Any:
    """The weight gradient from channels-last columns: per sample ``(K, OH*OW) @ (OH*OW,
    KH*KW*C)`` -- the output gradient as it is, no transposing copy -- summed over the batch
    (LeNet-5's conv2: 219 -> 159 µs on one core)."""
    xp = array_module(x)
    n, c = x.shape[:2]
    k, (kh, kw), (oh, ow) = g.shape[1], lay.kernel, lay.out_hw
    q, kkc = oh * ow, c * kh * kw
    if cols is None or cols.shape != (n, q, kkc):
        cols = workspace.empty((n, q, kkc), x.dtype, xp)
        _split(xp)(n, lambda s, e: im2col_channels_last(x[s:e], lay, cols[s:e]), cols.nbytes)
    gq = xp.ascontiguousarray(g).reshape(n, k, q)
    per_sample = workspace.empty((n, k, kkc), x.dtype, xp)

    def chunk(s: int, e: int) -> None:
        xp.matmul(gq[s:e], cols[s:e], out=per_sample[s:e])  # (n, K, Q) @ (n, Q, KKC)

    _split(xp)(n, chunk, cols.nbytes)
    dw = per_sample.sum(axis=0).reshape(k, kh, kw, c)  # (K, KH, KW, C)
    return xp.ascontiguousarray(dw.transpose(0, 3, 1, 2))


SHIFTED_MIN_Q = 256  # see shifted()
SHIFTED_MIN_CHANNELS = 16
SHIFTED_MIN_WORK = 1 << 18


def shifted(lay: Layout, cg: int, kg: int, x: Any, other: Any) -> bool:
    """Whether the convolution of layout ``lay`` (``cg`` input and ``kg`` output channels per
    group), its weight gradient and its adjoint run the shifted way (:func:`conv2d_shifted`):
    stride 1 with windows that span the padded input exactly, numpy arrays ``x`` and ``other``
    (the second operand) of one float dtype whose GEMM :mod:`tinygrad_cnn.blas` can call, and
    GEMMs big enough for it. Each call multiplies ``(K/G, C/G)`` by ``(C/G, Q)`` (``Q =
    wide_q(lay)``) and costs ~1.3 µs of Python and ctypes besides; with fewer than
    ``SHIFTED_MIN_Q`` columns, ``SHIFTED_MIN_CHANNELS`` channels on either side or
    ``SHIFTED_MIN_WORK`` multiply-adds, im2col's single GEMM per sample won (measured over 23
    shapes with OpenBLAS's AVX-512 and AVX2 kernels, ``benchmarks/RESULTS.md``): LeNet-5's
    convolutions stay with im2col; the 3×3 benchmark convolution and wider layers go shifted."""
    (h, w), ((top, bottom), (left, right)) = lay.in_hw, lay.pads
    q = wide_q(lay)
    return (type(x) is np.ndarray and type(other) is np.ndarray and x.dtype == other.dtype
            and lay.stride == (1, 1)
            and lay.rows == h + top + bottom and lay.cols == w + left + right
            and q >= SHIFTED_MIN_Q and min(cg, kg) >= SHIFTED_MIN_CHANNELS
            and cg * kg * q >= SHIFTED_MIN_WORK and blas.available(x.dtype))


def wide_q(lay: Layout) -> int:
    """Positions of the wide layout: every position of a padded row, up to the last output."""
    return (lay.out_hw[0] - 1) * lay.cols + lay.out_hw[1]


def _as_wide(lay: Layout) -> Layout:
    return lay._replace(wide=True, q=wide_q(lay))


def _offsets(lay: Layout) -> list[int]:
    """Flat distance in the padded plane of each kernel offset ``(a, b)``, row-major."""
    (kh, kw), (dh, dw) = lay.kernel, lay.dilation
    return [a * dh * lay.cols + b * dw for a in range(kh) for b in range(kw)]


def _weight_by_offset(w: Any, groups: int) -> Any:
    """``(K, C/G, KH, KW) -> (KH*KW, G, K/G, C/G)``: one ``(K/G, C/G)`` matrix per offset."""
    k, cg, kh, kw = w.shape
    return np.ascontiguousarray(
        w.reshape(groups, k // groups, cg, kh * kw).transpose(3, 0, 1, 2))


def conv2d_shifted(x: Any, w: Any, lay: Layout, bias: Any = None) -> tuple[Any, Any]:
    """``conv2d`` without a column matrix (stride 1): for every kernel offset ``(a, b)``, one GEMM
    of that offset's ``(K/G, C/G)`` weights with the padded input's planes read from flat position
    ``a*dh*cols + b*dw`` on -- the wide layout's column-matrix rows, read in place as a strided
    operand -- all added into one wide output (BLAS's ``beta = 1``), then cropped to the image.

    Per sample and group: ``KH*KW`` GEMMs ``(K/G, C/G) @ (C/G, Q) -> (K/G, Q)``, ``Q = (OH-1)*cols
    + OW``. im2col's copy of ``KH*KW`` times the input (75 MB for the 3×3 benchmark convolution)
    is gone; OpenBLAS packs each operand in cache instead. Returns the output and the padded
    input, which :func:`conv2d_weight_shifted` reuses."""
    n, c = x.shape[:2]
    k, cg, _, _ = w.shape
    g, kg, (oh, ow), isz = lay.groups, k // lay.groups, lay.out_hw, x.itemsize
    wide, offsets = _as_wide(lay), _offsets(lay)
    pad = _needs_padding(x, lay)
    # (N, C, rows, cols), C-contiguous; each sample is padded just before its GEMMs, in cache
    xpad = workspace.empty((n, c, lay.rows, lay.cols), x.dtype) if pad else x
    plane = lay.rows * lay.cols
    wt = _weight_by_offset(w, g)
    y = workspace.empty((n, k, oh * lay.cols), x.dtype)  # wide output, one padded row per row
    out = workspace.empty((n, k, oh, ow), x.dtype)
    gemm, px, pw, py = blas.gemm(x.dtype), xpad.ctypes.data, wt.ctypes.data, y.ctypes.data
    rm, nt, ld_y = blas.ROW_MAJOR, blas.NO_TRANS, oh * lay.cols

    def chunk(s: int, e: int) -> None:
        for i in range(s, e):
            if pad:
                _pad_into(x[i:i + 1], lay, xpad[i:i + 1])
            if bias is not None:  # the GEMMs add onto the bias (a strided add after: +1 ms)
                y[i] = bias[:, None]
            for gi in range(g):
                dst = py + (i * k + gi * kg) * ld_y * isz
                src = px + (i * c + gi * cg) * plane * isz
                for j, off in enumerate(offsets):  # (K/G, C/G) @ (C/G, Q) [+]-> (K/G, Q)
                    gemm(rm, nt, nt, kg, wide.q, cg, 1.0, pw + (j * g + gi) * kg * cg * isz, cg,
                         src + off * isz, plane, 1.0 if j or bias is not None else 0.0, dst,
                         ld_y)
            # the sample's output while it is in cache, cropped to the image
            to_output(y[i:i + 1], wide, out[i:i + 1])

    _split_evenly(n, chunk, xpad.nbytes + y.nbytes, n * k * cg * len(offsets) * wide.q)
    return out, xpad


def conv2d_weight_shifted(x: Any, g: Any, lay: Layout, xpad: Any = None) -> Any:
    """The weight gradient the shifted way: for every offset, ``(C/G, Q) @ (Q, K/G)`` -- the
    shifted planes of the padded input times the output gradient as transposed wide-layout
    columns -- added up over the batch (``beta = 1``). OpenBLAS runs this order 1.3x faster than
    ``(K/G, Q) @ (Q, C/G)`` with a transposed operand; the gradient is put in the wide layout
    (zeros at the extra positions) and transposed per sample by OpenBLAS's ``omatcopy`` (3-5x
    faster than numpy's transposing copy on the benchmark convolution). Each batch chunk sums
    into its own buffer; the chunks' sums are added in batch order.
    ``xpad``: the padded input from :func:`conv2d_shifted`, when the caller kept it."""
    n, c = x.shape[:2]
    k, (kh, kw), (oh, ow) = g.shape[1], lay.kernel, lay.out_hw
    groups, isz = lay.groups, x.itemsize
    cg, kg = c // groups, k // groups
    offsets, q = _offsets(lay), wide_q(lay)
    if xpad is None:
        xpad = _padded(x, lay)
    plane = lay.rows * lay.cols
    gw = workspace.empty((n, k, oh * lay.cols), x.dtype)  # wide: one padded row per output row
    gt = workspace.empty((n, groups, q, kg), x.dtype)  # its transposed columns
    gemm, transpose = blas.gemm(x.dtype), blas.omatcopy(x.dtype)
    px, pgw, pgt = xpad.ctypes.data, gw.ctypes.data, gt.ctypes.data
    ld_g = gw.shape[2]
    rm, nt, tr = blas.ROW_MAJOR, blas.NO_TRANS, blas.TRANS
    partials: dict[int, Any] = {}

    def chunk(s: int, e: int) -> None:
        acc = np.zeros((kh * kw, groups, cg, kg), dtype=x.dtype)  # (KH*KW, G, C/G, K/G)
        pa = acc.ctypes.data
        for i in range(s, e):  # one sample at a time, its pieces in cache
            grid = gw[i].reshape(k, oh, lay.cols)
            grid[..., ow:] = 0  # the extra positions must add nothing
            grid[..., :ow] = g[i]
            for gi in range(groups):
                src_g = pgt + (i * groups + gi) * q * kg * isz
                # (K/G, Q) -> (Q, K/G)
                transpose(rm, tr, kg, q, 1.0, pgw + (i * k + gi * kg) * ld_g * isz, ld_g, src_g,
                          kg)
                src_x = px + (i * c + gi * cg) * plane * isz
                for j, off in enumerate(offsets):  # (C/G, Q) @ (Q, K/G) +-> (C/G, K/G)
                    gemm(rm, nt, nt, cg, kg, q, 1.0, src_x + off * isz, plane, src_g, kg, 1.0,
                         pa + (j * groups + gi) * kg * cg * isz, kg)
        partials[s] = acc

    _split_evenly(n, chunk, xpad.nbytes + gt.nbytes, n * k * cg * len(offsets) * q)
    dw = partials.pop(0)
    for start in sorted(partials):
        dw += partials[start]
    # (KH*KW, G, C/G, K/G) -> (G, K/G, C/G, KH*KW) -> (K, C/G, KH, KW)
    return np.ascontiguousarray(dw.transpose(1, 3, 2, 0)).reshape(k, cg, kh, kw)


def conv_transpose2d_shifted(z: Any, w: Any, lay: Layout) -> Any:
    """``conv_transpose2d`` the shifted way (the adjoint of :func:`conv2d_shifted`): for every
    offset, ``(C/G, K/G) @ (K/G, Q)`` -- the transposed weights times the gradient in the wide
    layout -- added (``beta = 1``) into the padded input's planes from that offset's flat
    position on; col2im's scatter-add happens inside the GEMMs. Then the padding is cut off."""
    n, k = z.shape[:2]
    _, cg, _, _ = w.shape
    groups, (h, wd), isz = lay.groups, lay.in_hw, z.itemsize
    kg, c = k // groups, cg * groups
    ((top, _), (left, _)) = lay.pads
    wide, offsets = _as_wide(lay), _offsets(lay)
    plane = lay.rows * lay.cols
    oh, ow = lay.out_hw
    gz = workspace.empty((n, k, oh * lay.cols), z.dtype)  # the gradient in the wide layout
    ld_z = gz.shape[2]
    wt = _weight_by_offset(w, groups)
    full = workspace.empty((n, c, lay.rows, lay.cols), z.dtype)
    out = workspace.empty((n, c, h, wd), z.dtype)
    gemm, pz, pw, pf = blas.gemm(z.dtype), gz.ctypes.data, wt.ctypes.data, full.ctypes.data
    rm, nt, tr = blas.ROW_MAJOR, blas.NO_TRANS, blas.TRANS

    def chunk(s: int, e: int) -> None:
        for i in range(s, e):  # one sample at a time, its pieces in cache
            grid = gz[i].reshape(k, oh, lay.cols)
            grid[..., ow:] = 0  # the extra positions must add nothing
            grid[..., :ow] = z[i]
            full[i].fill(0)
            for gi in range(groups):
                src = pz + (i * k + gi * kg) * ld_z * isz
                dst = pf + (i * c + gi * cg) * plane * isz
                for j, off in enumerate(offsets):  # (C/G, K/G) @ (K/G, Q) +-> (C/G, Q) at off
                    gemm(rm, tr, nt, cg, wide.q, kg, 1.0, pw + (j * groups + gi) * kg * cg * isz,
                         cg, src, ld_z, 1.0, dst + off * isz, plane)
            out[i] = full[i, :, top:top + h, left:left + wd]

    _split_evenly(n, chunk, full.nbytes + gz.nbytes, n * k * cg * len(offsets) * wide.q)
    return out


BANDED_MAX_WIDTH = 3  # banded when the padded rows are at most this many kernel widths wide


def banded(lay: Layout) -> bool:
    """Whether :func:`conv_transpose2d_banded` is the faster way for this layout: narrow rows,
    where col2im's many short adds cost more than the banded matrix's extra multiplications."""
    return lay.cols <= BANDED_MAX_WIDTH * (lay.dilation[1] * (lay.kernel[1] - 1) + 1)


def banded_weight(w: Any, lay: Layout) -> Any:
    """The weight as one band matrix per group, the kernel columns folded in: ``(K, C/G, KH, KW)
    -> T (G, K/G*OW, KH*C/G*cols)`` with ``T[g, (k, j), (a, c, j*sw + b*dw)] = w[g*K/G + k, c,
    a, b]`` and zeros elsewhere. Multiplying a row of output gradients by it spreads each one over
    the input columns its window read."""
    xp = array_module(w)
    k, cg, kh, kw = w.shape
    g, ow, cols = lay.groups, lay.out_hw[1], lay.cols
    sw, dw = lay.stride[1], lay.dilation[1]
    t = xp.zeros((g, k // g, ow, kh, cg, cols), dtype=w.dtype)
    s_g, s_k, s_j, s_a, s_c, s_x = t.strides
    # the band: entries (g, k, j, a, c, b) at column x = j*sw + b*dw (distinct for distinct (j, b))
    band = xp.lib.stride_tricks.as_strided(
        t, shape=(g, k // g, ow, kh, cg, kw), strides=(s_g, s_k, s_j + sw * s_x, s_a, s_c, dw * s_x))
    # (K, C/G, KH, KW) -> (G, K/G, 1, KH, C/G, KW), broadcast over j
    band[...] = w.reshape(g, k // g, cg, kh, kw).transpose(0, 1, 3, 2, 4)[:, :, None]
    return t.reshape(g, k // g * ow, kh * cg * cols)


def conv_transpose2d_banded(z: Any, w: Any, lay: Layout) -> Any:
    """``conv_transpose2d`` by rows: ``z (N, K, OH, OW), w (K, C/G, KH, KW) -> (N, C, H, W)``.

    Each output-gradient row ``(n, i)`` times the band matrix of :func:`banded_weight` gives, for
    every kernel row ``a``, a whole input row ``i*sh + a*dh`` of every channel: one GEMM
    ``(G, N*OH, K/G*OW) @ (G, K/G*OW, KH*C/G*cols)``, then ``KH`` adds of whole rows -- instead of
    col2im's ``KH*KW`` adds of ``OW``-long snippets, which dominate for narrow images (LeNet-5's
    conv2: 1.4 ms -> 0.8 ms) although the band matrix multiplies by zeros too.
    """
    xp = array_module(z)
    n, k, oh, ow = z.shape
    _, cg, kh, _ = w.shape
    g, (h, wd), (sh, dh), cols = lay.groups, lay.in_hw, (lay.stride[0], lay.dilation[0]), lay.cols
    ((top, _), (left, _)), kg = lay.pads, k // g
    full_h, full_w = max(lay.rows, top + h), max(cols, left + wd)
    t = banded_weight(w, lay)
    zr = workspace.empty((g, n, oh, kg, ow), z.dtype, xp)
    m = workspace.empty((g, n, oh, kh, cg, cols), z.dtype, xp)
    planes = workspace.empty((g, n, full_h, cg, full_w), z.dtype, xp)
    out = workspace.empty((n, g * cg, h, wd), z.dtype, xp)

    def chunk(s: int, e: int) -> None:
        zr[:, s:e] = z[s:e].reshape(e - s, g, kg, oh, ow).transpose(1, 0, 3, 2, 4)
        # (G, n*OH, K/G*OW) @ (G, K/G*OW, KH*C/G*cols) -> (G, n*OH, KH*C/G*cols)
        xp.matmul(zr[:, s:e].reshape(g, (e - s) * oh, kg * ow), t,
                  out=m[:, s:e].reshape(g, (e - s) * oh, kh * cg * cols))
        p = planes[:, s:e]
        p.fill(0)
        for a in range(kh):  # kernel row a of output row i lands on input row i*sh + a*dh
            p[:, :, a * dh:a * dh + sh * (oh - 1) + 1:sh, :, :cols] += m[:, s:e, :, a]
        # padded planes (G, n, rows, C/G, cols) -> (n, G*C/G, H, W), padding cut off
        out[s:e].reshape(e - s, g, cg, h, wd)[...] = (
            p[:, :, top:top + h, :, left:left + wd].transpose(1, 0, 3, 2, 4))

    # split the batch when the data or the GEMM is big (the band matrix makes much work of
    # little data)
    flops = 2 * t.size * n * oh
    _split(xp)(n, chunk, m.nbytes if flops < parallel.SMALL_GEMM_FLOPS else parallel.MIN_BYTES)
    return out


AS_CONV_MAX_WASTE = 1.5  # see adjoint_as_conv()


def adjoint_as_conv(lay: Layout) -> Layout | None:
    """For stride 1, the adjoint of a convolution is itself a convolution: of the output gradient,
    zero-padded by ``dilation*(kernel-1) - padding``, with the kernel flipped and its channel axes
    swapped (the tutorial's "full convolution with the 180°-flipped filter"). Its layout, when that
    is the cheaper way: it multiplies by the padding's zeros too, ``H*W / (OH*OW)`` times the
    forward's work, but needs no col2im (whose ``KH*KW`` adds over the column matrix took 15 of the
    37 ms of the 3×3 pad-1 benchmark convolution's input gradient); so only where that ratio is at
    most ``AS_CONV_MAX_WASTE`` (a "same" convolution, not LeNet-5's "valid" 14×14 -> 10×10)."""
    (h, w), (oh, ow) = lay.in_hw, lay.out_hw
    if lay.stride != (1, 1) or h * w > AS_CONV_MAX_WASTE * oh * ow:
        return None
    pads = []
    for i, (size, out) in enumerate(((h, oh), (w, ow))):
        reach = lay.dilation[i] * (lay.kernel[i] - 1)
        lo = reach - lay.pads[i][0]
        hi = size + reach - out - lo
        if lo < 0 or hi < 0:  # the gradient would need cropping, not padding
            return None
        pads.append((lo, hi))
    return layout((oh, ow), lay.kernel, (1, 1), (pads[0], pads[1]), lay.dilation, lay.groups,
                  (h, w))


def conv_transpose2d_as_conv(z: Any, w: Any, lay: Layout) -> Any:
    """``conv_transpose2d`` as the convolution of :func:`adjoint_as_conv`, whose layout ``lay``
    is: ``w (K, C/G, KH, KW)`` becomes ``(C, K/G, KH, KW)``, flipped in both kernel axes."""
    xp = array_module(w)
    k, cg, kh, kw = w.shape
    g = lay.groups
    flipped = w.reshape(g, k // g, cg, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    out, _ = conv2d_array(z, xp.ascontiguousarray(flipped).reshape(g * cg, k // g, kh, kw), lay)
    return out


def conv_transpose2d_array(z: Any, w: Any, lay: Layout) -> Any:
    """``conv_transpose2d`` on arrays: ``z (N, K, OH, OW), w (K, C/G, KH, KW) -> (N, C, H, W)``,
    where ``lay`` is the layout of the convolution this one is the adjoint of. Three ways: band
    matrices for narrow images (:func:`banded`), a convolution for stride 1
    (:func:`adjoint_as_conv`), else a GEMM and col2im."""
    # The shifted way, the convolution and the wide layout multiply the weight by zeros that
    # stand for no output (wrapped columns, padding), the band matrix multiplies zeros by the
    # gradient: an inf there would make a NaN that the true sum does not have (0 * inf), so with
    # non-finite operands only the exact ways run
    finite_w = _finite(w)
    if finite_w and shifted(lay, w.shape[1], w.shape[0] // lay.groups, z, w):
        return conv_transpose2d_shifted(z, w, lay)
    if banded(lay) and _finite(z):
        return conv_transpose2d_banded(z, w, lay)
    as_conv = adjoint_as_conv(lay) if finite_w else None
    if as_conv is not None:
        return conv_transpose2d_as_conv(z, w, as_conv)
    if lay.wide and not finite_w:
        lay = _rows(lay)
    xp = array_module(z)
    n, k = z.shape[:2]
    _, cg, kh, kw = w.shape
    g, (h, wd) = lay.groups, lay.in_hw
    wmat = w.reshape(g, k // g, cg * kh * kw).transpose(0, 2, 1)  # (G, CgKK, K/G)
    cols = workspace.empty((n, g, cg * kh * kw, lay.q), z.dtype, xp)
    out = workspace.empty((n, g * cg, h, wd), z.dtype, xp)

    def chunk(s: int, e: int) -> None:
        part = from_output(z[s:e], lay).reshape(e - s, g, k // g, lay.q)  # (n, G, K/G, Q)
        xp.matmul(wmat, part, out=cols[s:e])  # (G, CgKK, K/G) @ (n, G, K/G, Q) -> (n, G, CgKK, Q)
        col2im(cols[s:e].reshape(e - s, g * cg, kh, kw, lay.q), lay, out[s:e])

    _split(xp)(n, chunk, cols.nbytes)
    return out


WGRAD_T_MIN_CHANNELS = 16  # see wgrad_reads_transposed()
SMALL_GEMM_MNK = 1 << 20  # about where OpenBLAS's small-matrix kernels stop


def wgrad_reads_transposed(lay: Layout, k: int, cgkk: int) -> bool:
    """Whether :func:`conv2d_weight_array` multiplies by the output gradient transposed into
    ``(Q, K/G)`` columns (:func:`from_output_t`) rather than by a transposed view of its ``(K/G,
    Q)`` columns. OpenBLAS's small-matrix kernels (per-sample products up to ``SMALL_GEMM_MNK``
    multiply-adds) run the in-order operand up to 1.6x faster when ``K/G >= 16``; the transposing
    copy is then cheap (runs of ``K/G`` elements), and in the wide layout it replaces the copy
    :func:`from_output` makes anyway (LeNet-5's conv2: 1.5 ms -> 0.67 ms on one core). With few
    channels (LeNet-5's conv1: 6) the copy costs more than it saves, and above the small kernels
    (the 3×3 benchmark convolution) the two ways run alike."""
    kg = k // lay.groups
    return kg >= WGRAD_T_MIN_CHANNELS and (lay.wide or cgkk * lay.q * kg <= SMALL_GEMM_MNK)


def conv2d_weight_array(x: Any, g: Any, lay: Layout, cols: Any = None) -> Any:
    """The weight gradient on arrays: ``x (N, C, H, W), g (N, K, OH, OW) -> (K, C/G, KH, KW)``;
    ``cols``: what :func:`conv2d_array` returned besides the output (``x`` as columns, or padded
    for the shifted way), when the caller kept it."""
    n, c = x.shape[:2]
    k = g.shape[1]
    if shifted(lay, c // lay.groups, k // lay.groups, x, g):
        # conv2d_shifted kept the padded input, not a column matrix
        xpad = cols if cols is not None and cols.shape == (n, c, lay.rows, lay.cols) else None
        dw = conv2d_weight_shifted(x, g, lay, xpad)
    elif lay.wide:
        dw = _weight_by_columns(x, g, lay, cols)
    else:
        return _weight_by_columns(x, g, lay, cols)
    # the shifted way and the wide layout multiply the input by zeros that stand for no output
    # (wrapped columns): an inf in the input makes a NaN the true sum does not have (0 * inf);
    # then the rows layout computes it again, exactly
    return dw if _finite(dw) else _weight_by_columns(x, g, _rows(lay), None)


def _finite(a: Any) -> bool:
    """Whether every element of ``a`` is finite, by its sum: one fast pass, never finite when an
    element is inf or NaN (a sum that overflows only sends the caller to its exact way)."""
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, an overflowing sum
        return bool(array_module(a).isfinite(a.sum()))


def _rows(lay: Layout) -> Layout:
    """``lay`` in the rows layout (no wrapped columns)."""
    return lay._replace(wide=False, q=lay.out_hw[0] * lay.out_hw[1])


def _weight_by_columns(x: Any, g: Any, lay: Layout, cols: Any) -> Any:
    """The weight gradient by column matrices (im2col or channels-last): :func:`conv2d_weight_array`
    for all but the shifted way."""
    xp = array_module(x)
    n, c = x.shape[:2]
    k = g.shape[1]
    groups, (kh, kw) = lay.groups, lay.kernel
    cgkk = c // groups * kh * kw
    if lay.channels_last:
        return conv2d_weight_channels_last(x, g, lay, cols)
    if cols is not None and cols.shape[2] == cgkk + 1:
        cols = cols[:, :, :cgkk]  # the forward's columns with the bias's row of ones under them
    have_cols = cols is not None
    if not have_cols:
        cols = workspace.empty((n, groups, cgkk, lay.q), x.dtype, xp)
    per_sample = workspace.empty((n, groups, cgkk, k // groups), x.dtype, xp)
    transposed = wgrad_reads_transposed(lay, k, cgkk)

    def chunk(s: int, e: int) -> None:
        if not have_cols:
            im2col(x[s:e], lay, cols[s:e])
        if transposed:
            part_t = from_output_t(g[s:e], lay)  # (n, G, Q, K/G)
        else:
            part = from_output(g[s:e], lay)
            # (n, G, K/G, Q) seen as (n, G, Q, K/G). (This order runs ~1.7x faster in OpenBLAS
            # than (K/G, Q) @ (Q, CgKK) for LeNet's conv1.)
            part_t = part.reshape(e - s, groups, k // groups, lay.q).transpose(0, 1, 3, 2)
        # (n, G, CgKK, Q) @ (n, G, Q, K/G) -> (n, G, CgKK, K/G)
        xp.matmul(cols[s:e], part_t, out=per_sample[s:e])

    _split(xp)(n, chunk, cols.nbytes)
    dw = per_sample.sum(axis=0).transpose(0, 2, 1)  # summed over the batch: (G, K/G, CgKK)
    return xp.ascontiguousarray(dw).reshape(k, c // groups, kh, kw)
