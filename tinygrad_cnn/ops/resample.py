"""Resampling: interpolate (nearest, nearest-exact, (bi/tri)linear, bicubic, antialiased),
adaptive_avg_pool2d, adaptive_max_pool2d -- and the VJPs of the first two, which are their adjoints.

All of them work one spatial axis at a time. Along an axis of length ``n``, an output position
``o`` reads one or more input positions ("taps") with weights:

* nearest: ``i = min(floor(o * scale), n - 1)`` with ``scale = n / out`` (or ``1 / scale_factor``),
  rounded as PyTorch's kernels round it (in the dtype, the product rounded to float32; in float32
  where its vectorised 2-D kernel runs); nearest-exact: ``floor((o + 0.5) * scale)``, the same way;
* linear: ``src = scale * (o + 0.5) - 0.5`` clamped at 0 (``align_corners=False``) or
  ``src = o * (n - 1) / (out - 1)`` (``align_corners=True``); taps ``i0 = floor(src)`` and
  ``i1 = min(i0 + 1, n - 1)`` with weights ``1 - λ`` and ``λ = src - i0``;
* cubic (PyTorch's upsample_bicubic2d): ``src`` as linear's but not clamped at 0; taps
  ``i0 - 1 .. i0 + 2`` (``i0 = floor(src)``) clamped into ``[0, n - 1]``, with the weights of Keys'
  cubic convolution kernel at ``A = -0.75``: ``W(1 + λ), W(λ), W(1 - λ), W(2 - λ)`` where
  ``W(d) = ((A + 2) d - (A + 3)) d² + 1`` for ``d <= 1`` and ``((A d - 5A) d + 8A) d - 4A`` for
  ``1 < d < 2``;
* antialiased linear and cubic (``antialias=True``, Pillow's resampling): a variable number of
  taps, the filter stretched by the downscale factor and normalised (see ``_antialias_taps``);
* adaptive average: the mean over ``[floor(o n / out), ceil((o + 1) n / out))``.

The last axis is done first, so bilinear computes ``h0λ (w0λ x00 + w1λ x01) + h1λ (...)`` in
PyTorch's order (bicubic likewise, its four taps summed left to right). Each op is linear in its
input, so its VJP is its adjoint (taps summed back with the same weights; taps that meet at a
clamped border add up), and the adjoint's VJP is the op again.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from tinygrad_cnn import layout
from tinygrad_cnn.autograd import Context, Function, first_order, forward_arrays
from tinygrad_cnn.backend import add_at, array_module, like, quiet
from tinygrad_cnn.ops.movement import ScatterAdd
from tinygrad_cnn.tensor import Tensor

# ((index (out,), weight (out,) or None[, valid (out,): a mask of the outputs that have the tap]))
Taps = tuple[tuple[Any, ...], ...]
CUBIC_A = -0.75  # the cubic convolution kernel's parameter in PyTorch's (and OpenCV's) bicubic


# ------------------------------------------------------------------------------------ taps
@functools.lru_cache(maxsize=256)
def interpolation_taps(n: int, out: int, mode: str, align_corners: bool, scale: float | None,
                       dtype: str, shortcuts: bool = False, stored: str | None = None) -> Taps:
    """The taps of one axis of length ``n`` resampled to ``out`` (see the module docstring);
    weights in ``dtype`` (the computing dtype: float32 or float64). ``stored``: the dtype the
    cubic weights are rounded to first (PyTorch's bicubic forward keeps them in the input's
    dtype, float16 included, and computes with them in float32).

    Two rules copy PyTorch's CPU kernels, which differ: a linear axis that keeps its size is
    "copied" (whatever the scale factor) as PyTorch does it, each element times 1 plus itself
    times 0 (an inf gives NaN there, as in PyTorch); a nearest axis is copied unchanged when it keeps
    its size, and halved by ``o >> 1`` when it doubles, only in PyTorch's vectorised 2-D kernel
    (``shortcuts``: outputs with ``H + W <= 128``) -- its generic kernel applies the scale
    factor."""
    o = np.arange(out)
    if mode in ("nearest", "nearest-exact"):
        # (in the computing dtype, the product rounded to float32 before its floor: PyTorch's
        # floorf of its opmath value -- in float64 ``41 * (2 / 82)`` is 1 - 1e-16, 1 as float32;
        # where its vectorised 2-d kernel runs, float32: see _taps_dtype)
        t = np.float64 if dtype == "float64" else np.float32
        s = t(1.0 / scale) if scale else t(n) / t(out)
        if mode == "nearest" and shortcuts and out == n:
            idx = o
        elif mode == "nearest" and shortcuts and out == 2 * n:
            idx = o >> 1
        elif mode == "nearest-exact" and t is np.float32 and not shortcuts:
            # PyTorch's generic kernel: ``s * (o + 0.5) - 0.5`` contracted to one fused
            # multiply-add (the exact product, rounded once), then ``+ 0.5`` (the float64
            # product of two float32 numbers is exact: one rounding, as the fma's)
            near = (np.float64(s) * (o + 0.5) - 0.5).astype(np.float32) + np.float32(0.5)
            idx = np.minimum(np.floor(near).astype(np.int64), n - 1)
        else:
            pos = o.astype(t) + t(0.5) if mode == "nearest-exact" else o.astype(t)
            idx = np.minimum(np.floor((pos * s).astype(np.float32)).astype(np.int64), n - 1)
        return ((idx.astype(np.int64), None),)
    if mode == "cubic":
        return _cubic_taps(n, out, align_corners, scale, dtype, stored)
    if mode in ("linear_aa", "cubic_aa"):
        return _antialias_taps(n, out, align_corners, scale, dtype, mode == "cubic_aa")
    t = np.dtype(dtype).type
    if out == n:  # PyTorch's "copy": both taps on the element itself, weights 1 and 0 (so an inf
        # there gives NaN, 0 * inf, as PyTorch's kernel does)
        return ((o, np.ones(out, dtype)), (o, np.zeros(out, dtype)))
    if align_corners:
        s = t(n - 1) / t(out - 1) if out > 1 else t(0)
        src = s * o.astype(dtype)
    else:
        s = t(1.0 / scale) if scale else t(n) / t(out)
        src = np.maximum(s * (o.astype(dtype) + t(0.5)) - t(0.5), t(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    lam = np.clip(src - i0.astype(dtype), t(0), t(1)).astype(dtype)
    i1 = i0 + (i0 < n - 1)
    return ((i0, (t(1) - lam).astype(dtype)), (i1, lam))


def _cubic_taps(n: int, out: int, align_corners: bool, scale: float | None, dtype: str,
                stored: str | None) -> Taps:
    """The four taps of PyTorch's bicubic (``HelperInterpCubic``): no shortcut for an axis that
    keeps its size (its weights are then exactly 0, 1, 0, 0, and an inf beside still gives NaN,
    as PyTorch's)."""
    t = np.dtype(dtype).type
    o = np.arange(out).astype(dtype)
    if align_corners:
        src = (t(n - 1) / t(out - 1) if out > 1 else t(0)) * o
    else:
        src = (t(1.0 / scale) if scale else t(n) / t(out)) * (o + t(0.5)) - t(0.5)
    # (PyTorch takes floorf: the floor of src rounded to float32, also in float64)
    i0 = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n - 1)
    lam = np.clip(src - i0.astype(dtype), t(0), t(1))
    a = t(CUBIC_A)

    def near(d: np.ndarray) -> np.ndarray:  # W(d) for |d| <= 1
        return ((a + t(2)) * d - (a + t(3))) * d * d + t(1)

    def far(d: np.ndarray) -> np.ndarray:  # W(d) for 1 < |d| < 2
        return ((a * d - t(5) * a) * d + t(8) * a) * d - t(4) * a

    weights = (far(lam + t(1)), near(lam), near(t(1) - lam), far((t(1) - lam) + t(1)))
    return tuple((np.clip(i0 + (k - 1), 0, n - 1),
                  w.astype(stored or dtype).astype(dtype)) for k, w in enumerate(weights))


def _antialias_filter(d: np.ndarray, cubic: bool) -> np.ndarray:
    """The filters of PyTorch's (and Pillow's) antialiased resampling: the triangle
    ``max(0, 1 - |d|)``, or Keys' cubic kernel at ``A = -0.5`` (not bicubic's -0.75)."""
    d = np.abs(d)
    if not cubic:
        return np.where(d < 1, 1 - d, 0.0)
    a = -0.5
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d < 1, near, np.where(d < 2, far, 0.0))


def _antialias_taps(n: int, out: int, align_corners: bool, scale: float | None, dtype: str,
                    cubic: bool) -> Taps:
    """The taps of PyTorch's ``antialias=True`` (``_compute_indices_min_size_weights_aa``): output
    ``o`` centred at ``c = s (o + 0.5)`` reads the inputs ``[xmin, xmin + xsize)`` with
    ``xmin = max(int(c - support + 0.5), 0)``, ``xsize = min(int(c + support + 0.5), n) - xmin``,
    weighted by the filter at ``(i - c + 0.5) / max(s, 1)`` and normalised to sum 1; ``support``
    is the filter's half-width (1 or 2) times ``max(s, 1)``, so that a downscale averages over
    every input it covers. An axis that keeps its size is copied (PyTorch skips it). The weights
    are computed in float64 (PyTorch: in the input's dtype) and every output gets as many taps as
    the widest one, the extra ones weighted 0 at its last input."""
    if out == n:
        return ((np.arange(out), None),)
    if align_corners:  # (PyTorch's scale; the centres keep their + 0.5)
        s = (n - 1) / (out - 1) if out > 1 else 0.0
    else:
        s = 1.0 / scale if scale else n / out
    half = 2.0 if cubic else 1.0
    support = half * s if s >= 1 else half
    invscale = 1 / s if s >= 1 else 1.0
    most = math.ceil(support) * 2 + 1
    center = s * (np.arange(out) + 0.5)
    xmin = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    xsize = np.clip(np.minimum(np.trunc(center + support + 0.5).astype(np.int64), n) - xmin,
                    0, most)
    j = np.arange(int(xsize.max(initial=1)))[None, :]
    inside = j < xsize[:, None]
    w = np.where(inside, _antialias_filter((j + xmin[:, None] - center[:, None] + 0.5) * invscale,
                                           cubic), 0.0)
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total != 0, w / np.where(total != 0, total, 1), w)
    idx = np.clip(xmin[:, None] + np.minimum(j, np.maximum(xsize[:, None] - 1, 0)), 0, n - 1)
    # the extra taps of the narrower outputs are no taps at all in PyTorch: a third entry masks
    # them out (a weight of 0 would still turn an inf there into NaN)
    return tuple((idx[:, k].copy(), w[:, k].astype(dtype))
                 + (() if inside[:, k].all() else (inside[:, k].copy(),))
                 for k in range(j.shape[1]))


@functools.lru_cache(maxsize=256)
def adaptive_bins(n: int, out: int) -> tuple[tuple[int, int], ...]:
    """``[start, end)`` of each output's bin: ``floor(o n / out)`` to ``ceil((o + 1) n / out)``."""
    return tuple((o * n // out, -(-(o + 1) * n // out)) for o in range(out))


@functools.lru_cache(maxsize=256)
def bin_groups(n: int, out: int) -> tuple[tuple[int, np.ndarray, np.ndarray], ...]:
    """:func:`adaptive_bins` grouped by length: ``(length, outputs, starts)`` per length (a few
    lengths at most), so that the bins of one length are taken in one vectorised step -- one
    Python step per bin took seconds for a million of them (t172: an output bigger than the
    input)."""
    o = np.arange(out, dtype=np.int64)
    start = o * n // out
    length = -(-(o + 1) * n // out) - start
    return tuple((int(k), o[length == k], start[length == k]) for k in np.unique(length))


def _computing(x: Any) -> Any:
    """float16 is computed in float32 (PyTorch's opmath)."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _computing_name(x: Any) -> str:
    """The name of :func:`_computing`'s dtype for ``x``."""
    name = _DTYPE_NAMES.get(x.dtype)
    if name is None:  # (dtype.name is a Python property: 4 µs, 9% of a small resize)
        name = _DTYPE_NAMES[x.dtype] = "float32" if x.dtype == np.float16 else x.dtype.name
    return name


_DTYPE_NAMES: dict[Any, str] = {}


def _along(x: Any, axis: int, index: Any, weight: Any, valid: Any = None) -> Any:
    """``x`` taken at ``index`` along ``axis``, times ``weight`` broadcast along that axis; 0
    where ``valid`` (a mask of the outputs, when given) is False."""
    xp = array_module(x)
    taken = xp.take(x, index, axis=axis)
    if weight is None:
        return taken
    shape = (-1,) + (1,) * (x.ndim - 1 - axis)
    part = taken * weight.reshape(shape)
    return part if valid is None else xp.where(valid.reshape(shape), part, part.dtype.type(0))


# ------------------------------------------------------------------------------------ interpolate
@functools.lru_cache(maxsize=256)
def _nearest_blocks(in_sizes: tuple[int, ...], sizes: tuple[int, ...], mode: str,
                    scales: tuple[float, ...] | None, dtype: str = "float32"
                    ) -> tuple[int, ...] | None:
    """The factor ``k`` per axis where nearest resampling repeats each input element ``k``
    times in a row on every axis (its taps are ``o // k``: ``scale_factor=2``, the U-Net's
    up-sampling), else None. Such a resize is one copy into a block view, and its VJP one sum
    per axis over the blocks (the generic taps and scatters: 4x the time)."""
    if mode not in ("nearest", "nearest-exact") or not all(in_sizes):
        return None
    shortcuts = len(sizes) == 2 and sum(sizes) <= 128  # (as _axis_taps)
    ks = []
    for i, (n, out) in enumerate(zip(in_sizes, sizes)):
        if out % n:
            return None
        ((idx, _),) = interpolation_taps(n, out, mode, False, scales[i] if scales else None,
                                         _taps_dtype(mode, shortcuts, dtype), shortcuts)
        if not np.array_equal(idx, np.arange(out) // (out // n)):
            return None
        ks.append(out // n)
    return tuple(ks)


def _interleaved(lead: tuple[int, ...], sizes: tuple[int, ...], ks: tuple[int, ...]
                 ) -> tuple[int, ...]:
    return lead + tuple(v for s, k in zip(sizes, ks) for v in (s, k))


def _as_volume_layout(x: Any, out: Any) -> Any:
    """``out`` laid out channels-last (``channels_last_3d``) where 5-d ``x`` lies so, as PyTorch
    resamples a volume (4-d images: ``Function.follows_channels_last``)."""
    if x.ndim != 5 or out.ndim != 5 or x.flags.c_contiguous or not layout.holds(x, "channels_last_3d"):
        return out
    return layout.arrange(out, "channels_last_3d")


def _attrs(size: Any, mode: str, align_corners: bool, scales: Any) -> dict[str, Any]:
    return {"size": size, "mode": mode, "align_corners": align_corners, "scales": scales}


def _axis_taps(x_shape: tuple[int, ...], attrs: dict[str, Any], dtype: Any,
               stored: Any = None) -> list[Taps]:
    """Each spatial axis' taps; ``stored``: the input's dtype where the forward's weights are
    rounded to it (bicubic's forward; its VJP keeps them in the computing dtype, as PyTorch's)."""
    sizes, scales = attrs["size"], attrs["scales"]
    first = len(x_shape) - len(sizes)
    shortcuts = len(sizes) == 2 and sum(sizes) <= 128  # PyTorch's vectorised 2-D kernel
    kept = np.dtype(stored).name if stored is not None and attrs["mode"] == "cubic" and \
        np.dtype(stored) != np.dtype(dtype) else None
    name = _taps_dtype(attrs["mode"], shortcuts, dtype)
    return [interpolation_taps(x_shape[first + i], sizes[i], attrs["mode"], attrs["align_corners"],
                               scales[i] if scales else None, name, shortcuts, kept)
            for i in range(len(sizes))]


def _taps_dtype(mode: str, shortcuts: bool, dtype: Any) -> str:
    """The dtype :func:`interpolation_taps` computes in: the computing dtype's, but float32 for
    the nearest modes where PyTorch's vectorised 2-D kernel runs (``shortcuts``: it takes a float
    scale whatever the dtype; its generic kernel computes in the dtype's opmath)."""
    if mode in ("nearest", "nearest-exact") and shortcuts:
        return "float32"
    return np.dtype(dtype).name


def _interpolate(x: Any, taps: list[Taps], first: int) -> Any:
    for i in reversed(range(len(taps))):  # the last axis first (PyTorch's summation order)
        axis = first + i
        total = None
        for idx, w, *valid in taps[i]:  # summed left to right (PyTorch's order)
            part = _along(x, axis, like(idx, x), None if w is None else like(w, x),
                          like(valid[0], x) if valid else None)
            total = part if total is None else total + part
        x = total
    return x


def _interpolate_adjoint(g: Any, taps: list[Taps], first: int, in_sizes: tuple[int, ...]) -> Any:
    """Each axis's taps scattered back, added into one input-sized array per axis, tap after tap
    (the same sums in the same order as one scattered array per tap added up -- which cost an
    input-sized array per tap: antialias's many taps made 2048² -> 16 take 20 s, t165)."""
    xp = array_module(g)
    for i in range(len(taps)):  # the reverse of the forward's order
        axis = first + i
        order = (axis, *range(axis), *range(axis + 1, g.ndim))  # (the axis first: see below)
        total = xp.zeros((in_sizes[i],) + tuple(g.shape[a] for a in order[1:]), dtype=g.dtype)
        for idx, w, *valid in taps[i]:
            shape = (-1,) + (1,) * (g.ndim - 1 - axis)
            scaled = g if w is None else g * like(w, g).reshape(shape)
            if valid:  # (no tap: no gradient, not 0 * g)
                scaled = xp.where(like(valid[0], g).reshape(shape), scaled, scaled.dtype.type(0))
            _add_along(total, scaled.transpose(order), idx)
        g = xp.ascontiguousarray(total.transpose(np.argsort(order)))
    return g


def _add_along(total: Any, moved: Any, index: Any) -> None:
    """``total[index[j]] += moved[j]`` along the first axis (the adjoint of ``take(index)``).
    The indices of taps never decrease, so numpy sums each run of equal indices with one
    ``add.reduceat``."""
    if not (moved.shape[0] and moved[0].size):
        return
    xp = array_module(moved)
    if xp is np:
        firsts = np.flatnonzero(np.concatenate(((True,), index[1:] != index[:-1])))
        total[index[firsts]] += np.add.reduceat(moved, firsts, axis=0)
    else:
        add_at(total, like(index, moved), moved)


class Interpolate(Function):
    """Resize the spatial dims (all after ``(N, C)``) to ``size``. ``mode``: ``"nearest"``,
    ``"nearest-exact"``, ``"linear"`` (along every spatial axis: linear, bilinear, trilinear),
    ``"cubic"`` (bicubic), or ``"linear_aa"`` / ``"cubic_aa"`` (``antialias=True``);
    ``scales``: the ``scale_factor`` per axis, or None (then ``in / out``). VJP:
    ``interpolate_backward``, the adjoint (each output's gradient added back onto its taps)."""
    follows_channels_last = True  # (PyTorch's layout: see Function)

    @staticmethod
    @quiet  # (inf and NaN inputs give inf and NaN, without numpy's warnings)
    def forward(ctx: Context, x: Any, size: tuple[int, ...] = (), mode: str = "nearest",
                align_corners: bool = False, scales: tuple[float, ...] | None = None) -> Any:
        first = x.ndim - len(size)
        ctx.in_size = in_size = tuple(x.shape[first:])
        ks = _nearest_blocks(in_size, tuple(size), mode, scales, _computing_name(x))
        if ks is not None:  # each element k times along each axis: copied into the block view
            out = array_module(x).empty(x.shape[:first] + tuple(size), dtype=x.dtype)
            out.reshape(_interleaved(x.shape[:first], in_size, ks))[...] = \
                x.reshape(_interleaved(x.shape[:first], in_size, (1,) * len(ks)))
            return _as_volume_layout(x, out)
        y = _computing(x)  # (a copy for float16: not for the block copy above)
        taps = _axis_taps(x.shape, _attrs(size, mode, align_corners, scales), y.dtype, x.dtype)
        return _as_volume_layout(x, _interpolate(y, taps, first).astype(x.dtype, copy=False))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if first_order(g) and g._data.flags.c_contiguous:  # (the op's work, without its node)
            return Tensor._make(forward_arrays(InterpolateBackward, g._data, in_size=ctx.in_size,
                                               **ctx.attrs))
        return InterpolateBackward.apply(g, in_size=ctx.in_size, **ctx.attrs)


class InterpolateBackward(Function):
    """The VJP of interpolate: the output gradient summed back onto each output's taps, with the
    same weights, into the input's spatial size ``in_size``. Its own VJP is interpolate."""

    name = "interpolate_backward"

    @staticmethod
    @quiet  # (inf and NaN inputs give inf and NaN, without numpy's warnings)
    def forward(ctx: Context, g: Any, in_size: tuple[int, ...] = (), size: tuple[int, ...] = (),
                mode: str = "nearest", align_corners: bool = False,
                scales: tuple[float, ...] | None = None) -> Any:
        y = _computing(g)
        first = g.ndim - len(size)
        ks = _nearest_blocks(tuple(in_size), tuple(size), mode, scales, _computing_name(g))
        if ks is not None:  # the sum over each block, the first axis first, left to right
            # (the taps' way's order; its reduceat may add a run of three as a + (b + c))
            t = y.reshape(_interleaved(g.shape[:first], tuple(in_size), ks))
            for i, k in enumerate(ks):
                lead = (slice(None),) * (first + i + 1)  # (the axis of this factor)
                total = t[lead + (0,)]
                for j in range(1, k):
                    total = total + t[lead + (j,)]
                t = total
            return _as_volume_layout(g, array_module(g).ascontiguousarray(t).astype(g.dtype, copy=False))
        in_shape = g.shape[:first] + tuple(in_size)
        taps = _axis_taps(in_shape, _attrs(size, mode, align_corners, scales), y.dtype)
        return _as_volume_layout(g, _interpolate_adjoint(y, taps, first, tuple(in_size)).astype(
            g.dtype, copy=False))

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> Tensor:
        return Interpolate.apply(gg, **{k: v for k, v in ctx.attrs.items() if k != "in_size"})


# ------------------------------------------------------------------------------------ adaptive pools
_FEW_BINS = 64  # gradients spread bin by bin (PyTorch's order of the sums); more: by length


def _sum_bins(x: Any, axis: int, out: int) -> Any:
    """Each of ``out`` adaptive bins' sum along ``axis``."""
    xp = array_module(x)
    n = x.shape[axis]
    if n % out == 0:  # equal, disjoint bins: one reshape and sum
        k = n // out
        return xp.add.reduce(x.reshape(x.shape[:axis] + (out, k) + x.shape[axis + 1:]), axis + 1)
    y = xp.empty(x.shape[:axis] + (out,) + x.shape[axis + 1:], dtype=x.dtype)
    lead = (slice(None),) * axis
    for k, outs, starts in bin_groups(n, out):  # (each length's bins: (..., bins, k, ...))
        taken = xp.take(x, like(starts[:, None] + np.arange(k), x), axis=axis)
        y[lead + (like(outs, x),)] = xp.add.reduce(taken, axis + 1)
    return y


def _bin_lengths(n: int, out: int, like_array: Any) -> Any:
    """The lengths of the ``out`` adaptive bins of ``n`` elements: one number where they are
    equal, else an array (on ``like_array``'s device)."""
    if n % out == 0:
        return n // out
    lengths = np.empty(out, dtype=like_array.dtype)
    for k, outs, _ in bin_groups(n, out):  # (a few lengths: no Python step per bin)
        lengths[outs] = k
    return like(lengths, like_array)


def _spread_bins(g: Any, axis: int, n: int) -> Any:
    """The adjoint of the bins' means (``_sum_bins`` divided by each bin's length) into ``n``
    elements: each bin's gradient divided by its length, over the bin."""
    xp = array_module(g)
    out = g.shape[axis]
    if n % out == 0:
        k = n // out
        shape = g.shape[:axis] + (out, 1) + g.shape[axis + 1:]
        big = g.shape[:axis] + (out, k) + g.shape[axis + 1:]
        spread = xp.empty(big, dtype=g.dtype)  # (a broadcast assignment: broadcast_to's
        spread[...] = g.reshape(shape) / k  # Python layer was 10% of a small adaptive pool)
        return spread.reshape(g.shape[:axis] + (n,) + g.shape[axis + 1:])
    full = xp.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1:], dtype=g.dtype)
    lead = (slice(None),) * axis
    if out <= _FEW_BINS:
        for o, (s, e) in enumerate(adaptive_bins(n, out)):
            full[lead + (slice(s, e),)] += g[lead + (slice(o, o + 1),)] / (e - s)
        return full
    for k, outs, starts in bin_groups(n, out):  # (bins of one start add up: add.at)
        share = xp.take(g, like(outs, g), axis=axis) / k
        for j in range(k):
            add_at(full, lead + (like(starts + j, g),), share)
    return full


class AdaptiveAvgPool2d(Function):
    """The mean over ``output_size`` bins per spatial axis of ``(N, C, H, W)``; bins as PyTorch:
    ``[floor(o H / OH), ceil((o + 1) H / OH))``, overlapping when ``OH`` does not divide ``H``.
    VJP: ``adaptive_avg_pool2d_backward``, each bin's gradient spread evenly over the bin."""

    name = "adaptive_avg_pool2d"

    @staticmethod
    @quiet  # (inf and NaN inputs give inf and NaN, without numpy's warnings)
    def forward(ctx: Context, x: Any, output_size: tuple[int, int] = (1, 1)) -> Any:
        y = _computing(x)
        ctx.in_size = tuple(x.shape[-2:])
        # PyTorch's VJP takes the input (see Function.vjp_reads_input), except for a global
        # average (output 1x1), which it computes as a mean
        ctx.reads_input = tuple(output_size) != (1, 1)
        # each bin's sum (along the rows, then of the rows' sums), then divided by its height
        # and its width, as PyTorch's kernel: a mean of the rows' means rounded twice (a bin of
        # exact values summing to 0 gave 3.7e-17, not 0, and a relu after it a gradient -- t192)
        (h, w), (oh, ow) = x.shape[-2:], output_size
        for axis in (x.ndim - 1, x.ndim - 2):
            y = _sum_bins(y, axis, output_size[axis - x.ndim + 2])
        kh, kw = _bin_lengths(h, oh, y), _bin_lengths(w, ow, y)
        y /= kh if type(kh) is int else kh[:, None]
        y /= kw
        # PyTorch's layout: channels-last for a channels-last 4-d input, C order otherwise (the
        # bins' means came out in a permuted order: view() failed where PyTorch's works)
        from tinygrad_cnn.ops.movement import _as_channels_last, _channels_last

        if x.ndim == 4 and _channels_last(x):
            return _as_channels_last(y.astype(x.dtype, copy=False))
        return array_module(y).ascontiguousarray(y, dtype=x.dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if first_order(g) and g._data.flags.c_contiguous:  # (the op's work, without its node)
            return Tensor._make(forward_arrays(AdaptiveAvgPool2dBackward, g._data,
                                               in_size=ctx.in_size))
        return AdaptiveAvgPool2dBackward.apply(g, in_size=ctx.in_size)


class AdaptiveAvgPool2dBackward(Function):
    """The VJP of adaptive_avg_pool2d (each output's gradient divided by its bin's size and added
    over the bin); its own VJP is adaptive_avg_pool2d."""

    name = "adaptive_avg_pool2d_backward"

    @staticmethod
    @quiet  # (inf and NaN inputs give inf and NaN, without numpy's warnings)
    def forward(ctx: Context, g: Any, in_size: tuple[int, int] = (1, 1)) -> Any:
        y = _computing(g)
        ctx.out_size = tuple(g.shape[-2:])
        for axis in (g.ndim - 2, g.ndim - 1):
            k = axis - g.ndim + 2
            y = _spread_bins(y, axis, in_size[k])
        return y.astype(g.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> Tensor:
        return AdaptiveAvgPool2d.apply(gg, output_size=ctx.out_size)


class AdaptiveMaxPool2d(Function):
    """The maximum over the bins of adaptive_avg_pool2d. Tie rule (PyTorch's): the first maximum
    in row-major order; a NaN wins, and of several NaNs the last. VJP: each output's gradient
    scattered onto its maximum (a scatter_add, whose VJP gathers)."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    name = "adaptive_max_pool2d"
    follows_channels_last = True  # (PyTorch's layout: see Function)

    @staticmethod
    def forward(ctx: Context, x: Any, output_size: tuple[int, int] = (1, 1)) -> Any:
        xp = array_module(x)
        n, c, h, w = x.shape
        oh, ow = output_size
        if h % oh == 0 and w % ow == 0:  # disjoint windows: one vectorised pass
            kh, kw = h // oh, w // ow
            win = x.reshape(n, c, oh, kh, ow, kw).transpose(0, 1, 2, 4, 3, 5).reshape(
                n, c, oh, ow, kh * kw)
            j = _argmax_last_nan(win)
            di, dj = j // kw, j % kw
            ii = xp.arange(oh).reshape(oh, 1) * kh + di
            jj = xp.arange(ow).reshape(1, ow) * kw + dj
            out = xp.take_along_axis(win, j[..., None], axis=-1)[..., 0]
        else:  # the bins of each pair of lengths at once (see bin_groups)
            out = xp.empty((n, c, oh, ow), dtype=x.dtype)
            ii = xp.empty((n, c, oh, ow), dtype=np.int64)
            jj = xp.empty((n, c, oh, ow), dtype=np.int64)
            for kh, r_outs, r_starts in bin_groups(h, oh):
                r_pos = like(r_starts[:, None] + np.arange(kh), x)  # (bins, kh)
                for kw, c_outs, c_starts in bin_groups(w, ow):
                    c_pos = like(c_starts[:, None] + np.arange(kw), x)
                    win = x[:, :, r_pos[:, :, None, None], c_pos[None, None]]  # (n, c, R, kh, C, kw)
                    win = win.transpose(0, 1, 2, 4, 3, 5).reshape(
                        n, c, len(r_outs), len(c_outs), kh * kw)
                    j = _argmax_last_nan(win)
                    at = (slice(None), slice(None), like(r_outs, x)[:, None], like(c_outs, x)[None])
                    out[at] = xp.take_along_axis(win, j[..., None], axis=-1)[..., 0]
                    ii[at] = like(r_starts, x)[:, None] + j // kw
                    jj[at] = like(c_starts, x)[None] + j % kw
        ctx.plane_indices = ii * w + jj  # PyTorch's return_indices: into each (H, W) plane
        ctx.in_shape = x.shape
        ctx.unique = h % oh == 0 and w % ow == 0
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        n, c, h, w = ctx.in_shape
        xp = array_module(ctx.plane_indices)
        plane = (xp.arange(n * c).reshape(n, c, 1, 1) * (h * w))
        flat = (ctx.plane_indices + plane).reshape(-1)
        gx = ScatterAdd.apply(g.reshape(-1), index=flat, dim=0, size=math.prod(ctx.in_shape),
                              unique=ctx.unique)
        return gx.reshape(ctx.in_shape)


def _argmax_last_nan(win: Any) -> Any:
    """Index of the first maximum along the last axis, or of the last NaN where there is one."""
    xp = array_module(win)
    if win.shape[-1] == 0:
        return xp.zeros(win.shape[:-1], dtype=np.int64)
    j = win.argmax(axis=-1)
    nan = xp.isnan(win)
    if nan.any():
        last = win.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
        j = xp.where(nan.any(axis=-1), last, j)
    return j
