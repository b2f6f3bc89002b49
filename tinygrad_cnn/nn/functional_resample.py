"""Resampling functions of ``nn.functional``: ``F.interpolate``, ``F.adaptive_avg_pool2d``,
``F.adaptive_max_pool2d``, ``F.pixel_shuffle``, ``F.pixel_unshuffle``, ``F.channel_shuffle``. The
first three are ops of ``ops/resample.py``; the shuffles are a reshape, a permute and a reshape
(views, no copy until the last reshape)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn import layout
from tinygrad_cnn.autograd import Context, is_grad_enabled
from tinygrad_cnn.backend import ArgumentValueError, array_module, type_name
from tinygrad_cnn.nn._checks import exact_float
from tinygrad_cnn.nn._checks import floating as _floating
from tinygrad_cnn.ops import resample
from tinygrad_cnn.tensor import Tensor, _int_arg, own_result

# the interpolating modes: the input's ndim and the op's mode along each spatial axis
_INTERPOLATING = {"linear": (3, "linear"), "bilinear": (4, "linear"), "bicubic": (4, "cubic"),
                  "trilinear": (5, "linear")}
_MODES = ("nearest", "nearest-exact", "area", *_INTERPOLATING)


def _per_axis(value: Any, k: int, what: str, op: str) -> tuple[Any, ...]:
    if isinstance(value, (list, tuple)):
        if len(value) != k:
            raise ArgumentValueError(f"{op}: {what} {tuple(value)} must have one entry per spatial dim "
                                     f"({k})")
        return tuple(value)
    return (value,) * k


def _scale(f: Any, op: str) -> float:
    """One scale factor: a finite number >= 0 (PyTorch refuses a string or a tensor; NaN or inf
    made Python's own error)."""
    if isinstance(f, (bool, np.bool_)) or not isinstance(f, (int, float, np.integer,
                                                             np.floating)):
        raise TypeError(f"{op}: scale_factor must be a number or a tuple of numbers, got "
                        f"{type(f).__name__}")
    if not math.isfinite(f) or f < 0:
        raise ArgumentValueError(f"{op}: scale_factor must be a finite number >= 0, got {f}")
    return float(f)


def interpolate(input: Tensor, size: int | Sequence[int] | None = None,
                scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize ``(N, C, *spatial)`` to ``size`` or by ``scale_factor`` (exactly one of them).

    ``mode``: ``"nearest"`` (PyTorch's index rule, ``floor(o * in / out)``), ``"nearest-exact"``,
    ``"linear"`` (3-D input), ``"bilinear"`` (4-D), ``"bicubic"`` (4-D: Keys' cubic convolution
    with ``A = -0.75`` over 4 x 4 pixels, the border pixels repeated, as PyTorch's; it can
    overshoot the input's range), ``"trilinear"`` (5-D), ``"area"`` (an adaptive average pool).
    ``align_corners`` (the interpolating modes only, default False) maps the corner pixels'
    centres onto each other. With ``scale_factor`` the output is ``floor(in * scale)`` and
    the source positions use ``1 / scale`` -- unless ``recompute_scale_factor=True``, which uses
    ``in / out`` as ``size`` does. ``antialias=True`` (bilinear and bicubic, float32/64, as
    PyTorch's CPU kernels): Pillow's resampling -- when downscaling, each output averages every
    input under its filter stretched by the scale (bicubic's filter then uses ``A = -0.5``);
    an axis that keeps its size is copied. (Two cases differ from PyTorch 2.13, whose kernels fail
    their own gradcheck there: an output of width 1 whose height changes, where PyTorch repeats
    the first row, and the gradient through an axis kept with a scale factor, which PyTorch
    resamples; ours are the resize and its true gradient.)
    """
    op = "interpolate"
    if isinstance(input, Tensor) and input.dtype.kind in "iu" and mode in ("nearest",
                                                                         "nearest-exact"):
        # integer images (uint8): nearest resampling only picks pixels, as PyTorch's does --
        # which it picks in float32 arithmetic (t145: 2 -> 82 read pixel 1 at 41 in float64);
        # 8- and 16-bit values are exact in float32, wider ones go by float64
        wide = input.to(np.float32) if input.dtype.itemsize <= 2 else exact_float(input, op)
        return interpolate(wide, size, scale_factor, mode, align_corners,
                           recompute_scale_factor, antialias).to(input.dtype)
    x = _floating(input, op)
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: mode {mode!r} is not supported; use one of {_MODES}")
    if antialias:
        if mode not in ("bilinear", "bicubic") or x.ndim != 4:
            raise ArgumentValueError(f"{op}: antialias=True is restricted to the bilinear and bicubic "
                                     f"modes and needs a 4-D input (N, C, H, W), got mode {mode!r} and a "
                                     f"{x.ndim}-D input")
        if x.dtype == np.float16:  # (PyTorch's CPU kernel has no float16 either)
            raise NotImplementedError(f"{op}: antialias=True is not implemented for float16 "
                                      "(PyTorch's CPU kernel neither); use float32")
    if mode in _INTERPOLATING:
        ndim = _INTERPOLATING[mode][0]
        if x.ndim != ndim:
            raise NotImplementedError(f"{op}: got a {x.ndim}-D input, but {mode} mode needs a "
                                      f"{ndim}-D one (N, C, *spatial)")
        align = bool(align_corners)
    elif align_corners is not None:
        raise ArgumentValueError(f"{op}: align_corners can only be set with the interpolating modes "
                                 "linear | bilinear | bicubic | trilinear")
    else:
        align = False
    if x.ndim < 3:
        raise ArgumentValueError(f"{op}: expected an input (N, C, *spatial) with 1 to 3 spatial dims, got "
                                 f"{x.shape}")
    k = x.ndim - 2
    spatial = x.shape[2:]
    if (size is None) == (scale_factor is None):
        raise ArgumentValueError(f"{op}: give exactly one of size and scale_factor")
    scales: tuple[float, ...] | None = None
    if size is not None:
        if recompute_scale_factor:
            raise ArgumentValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit "
                                     "size")
        out = tuple(_int_arg(s, op, "size") for s in _per_axis(size, k, "size", op))
    else:
        factors = tuple(_scale(f, op) for f in _per_axis(scale_factor, k, "scale_factor", op))
        out = tuple(math.floor(n * f) for n, f in zip(spatial, factors))
        if not recompute_scale_factor and mode != "area":
            scales = factors
    if mode == "area":  # an adaptive average pool: an empty output is allowed (PyTorch's)
        if min(spatial, default=1) <= 0 or min(out, default=0) < 0:
            raise ArgumentValueError(f"{op}: mode 'area' needs a non-empty input and output sizes >= 0, "
                                     f"got input {spatial} and output {out}")
        if k == 1:  # (PyTorch's adaptive_avg_pool1d: a pool of (N, C, 1, L))
            return adaptive_avg_pool2d(x.unsqueeze(-2), (1, out[0])).squeeze(-2)
        if k != 2:
            raise NotImplementedError(f"{op}: mode 'area' is supported for 3-D (N, C, L) and 4-D "
                                      f"(N, C, H, W) inputs, got {x.ndim}-D {x.shape}")
        return adaptive_avg_pool2d(x, out)
    if min(out, default=1) <= 0 or min(spatial, default=1) <= 0:
        raise ArgumentValueError(f"{op}: input and output sizes should be greater than 0, got input "
                                 f"{spatial} and output {out}")
    options = {"align_corners": True} if align else {}
    kind = _INTERPOLATING[mode][1] if mode in _INTERPOLATING else mode
    if antialias:
        kind += "_aa"
    return resample.Interpolate.apply(x, size=out, mode=kind, scales=scales, **options)


def _image(input: Any, op: str) -> tuple[Tensor, bool]:
    x = _floating(input, op)
    if x.ndim == 3:
        return x.unsqueeze(0), True
    if x.ndim != 4:
        raise ArgumentValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got "
                                 f"shape {x.shape}")
    return x, False


def _output_size(output_size: Any, x: Tensor, op: str) -> tuple[int, int]:
    if output_size is None:  # (None keeps an axis in a tuple; alone it kept both: PyTorch's error)
        raise TypeError(f"{op}: output_size must be an int or a tuple of two (int or None, which "
                        "keeps that axis), got None")
    pair = _per_axis(output_size, 2, "output_size", op)
    out = tuple(x.shape[2 + i] if s is None else _int_arg(s, op, "output_size")
                for i, s in enumerate(pair))
    if min(out) < 0 or min(x.shape[2:]) < 1:
        raise ArgumentValueError(f"{op}: the output size {out} must be >= 0 and the input's spatial size "
                                 f"{x.shape[2:]} positive")
    return out  # type: ignore[return-value]


def _empty_pool(x: Tensor, size: tuple[int, int]) -> Tensor:
    """The empty result of an adaptive pool with a 0 in ``size``, ``(N, C, *size)`` (PyTorch
    returns it; its gradient w.r.t. ``x`` is zeros)."""
    n, c = x.shape[:2]
    return x.reshape(n, c, -1)[:, :, :0].reshape(n, c, *size) if x.numel() else \
        x[:, :, :0, :0].reshape(n, c, *size)


def adaptive_avg_pool2d(input: Tensor, output_size: int | Sequence[int | None]) -> Tensor:
    """The mean over ``output_size`` bins per axis, ``(N, C, H, W) -> (N, C, OH, OW)`` (bin ``o``
    of ``H``: ``[floor(o H / OH), ceil((o + 1) H / OH))``). ``None`` keeps that axis' size;
    ``output_size=1`` is global average pooling."""
    op = "adaptive_avg_pool2d"
    x, unbatched = _image(input, op)
    size = _output_size(output_size, x, op)
    if 0 in size:
        out = _empty_pool(x, size)
    else:
        out = resample.AdaptiveAvgPool2d.apply(x, output_size=size)
    return own_result(out.squeeze(0)) if unbatched else out  # (as PyTorch's: not a view)


def adaptive_max_pool2d(input: Tensor, output_size: int | Sequence[int | None],
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over the bins of ``adaptive_avg_pool2d``; ``return_indices=True`` also returns
    where each maximum is, as a flat ``h * W + w`` index into its input plane."""
    op = "adaptive_max_pool2d"
    x, unbatched = _image(input, op)
    size = _output_size(output_size, x, op)
    if 0 in size:
        out = _empty_pool(x, size)
        out = out.squeeze(0) if unbatched else out
        if not return_indices:
            return out
        return out, Tensor._make(array_module(x._data).zeros(out.shape, dtype=np.int64))
    if return_indices and not (is_grad_enabled() and x.requires_grad):
        ctx = Context(resample.AdaptiveMaxPool2d, (False,))  # no node is recorded: our own ctx
        out = Tensor._make(layout.follow(x._data, resample.AdaptiveMaxPool2d.forward(
            ctx, x._data, output_size=size)))
    else:
        out = resample.AdaptiveMaxPool2d.apply(x, output_size=size)
        ctx = out.grad_fn
    if not return_indices:
        return own_result(out.squeeze(0)) if unbatched else out  # (not a view, as PyTorch's)
    indices = Tensor._make(layout.follow(x._data, ctx.plane_indices.astype(np.int64)))
    if unbatched:
        return own_result(out.squeeze(0)), own_result(indices.squeeze(0))
    return out, indices


def adaptive_max_pool2d_with_indices(input: Tensor, output_size: int | Sequence[int | None],
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool2d`` with ``return_indices=True`` (PyTorch's signature)."""
    return adaptive_max_pool2d(input, output_size, True)  # type: ignore[return-value]


def _new(out: Tensor, input: Tensor) -> Tensor:
    """``out``, copied when the reshapes that made it needed no copy (a factor of 1, a 1×1 map,
    one channel per group): the shuffles return a new tensor, never a view of their input, as
    PyTorch's (a write into one must not reach the other) -- laid out channels-last where a 4-d
    input is, as PyTorch's pixel_shuffle and pixel_unshuffle give it, else in C order (t142: a
    (1, 6, 2) input's unshuffle by 2 kept the strides (1, 4, 4) of its reshapes, which .view
    then refused)."""
    x = input._data
    last = out.ndim == 4 and x.ndim == 4 and not x.flags.c_contiguous and \
        layout.holds(x, "channels_last")
    if last and not layout.holds(out._data, "channels_last"):
        return out.contiguous(memory_format=layout.channels_last)  # (a copy in that layout)
    if not last and not out._data.flags.c_contiguous:
        return out.contiguous()  # (a copy)
    # (clone keeps the layout: preserve_format)
    return out.clone() if array_module(out._data).may_share_memory(out._data, x) else out


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """ShuffleNet's channel shuffle, ``(N, C, *) -> (N, C, *)``: the channels, seen as ``groups``
    groups of ``C / groups``, are interleaved -- output channel ``j * groups + i`` is input channel
    ``i * (C / groups) + j``."""
    op = "channel_shuffle"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: the input must be a Tensor, got {type_name(input)}")
    g = _int_arg(groups, op, "groups")
    if input.ndim <= 2:
        raise RuntimeError(f"{op}: expects an input (N, C, *) with more than 2 dims, but got "
                           f"shape {input.shape}")
    if g <= 0:
        raise RuntimeError(f"{op}: the number of groups to divide the channels in must be "
                           f"positive, got {g}")
    n, c, *rest = input.shape
    if c % g:
        raise RuntimeError(f"{op}: the number of channels must be divisible by groups; got {c} "
                           f"channels (input {input.shape}) and {g} groups")
    x = input.reshape(n, g, c // g, *rest)  # (N, G, C/G, *)
    return _new(x.transpose(1, 2).reshape(input.shape), input)  # (N, C/G, G, *) -> (N, C, *)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """``(*, C r², H, W) -> (*, C, H r, W r)``: each group of ``r²`` channels becomes an
    ``r × r`` block of pixels (sub-pixel convolution)."""
    op = "pixel_shuffle"
    r = _int_arg(upscale_factor, op, "upscale_factor")
    if r < 1:  # (PyTorch's words and type)
        raise RuntimeError(f"{op} expects a positive upscale_factor, but got {r} (the factor "
                           "must be a positive integer)")
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ArgumentValueError(f"{op}: expected an input (*, C*r*r, H, W) with at least 3 dims, got "
                                 f"{getattr(input, 'shape', type(input).__name__)}")
    if input.shape[-3] % (r * r):
        raise ArgumentValueError(f"{op}: the {input.shape[-3]} channels of {input.shape} must be divisible "
                                 f"by upscale_factor² = {r * r}")
    *lead, c, h, w = input.shape
    b = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)  # (*, C, r, r, H, W)
    x = x.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)  # (*, C, H, r, W, r)
    return _new(x.reshape(*lead, c // (r * r), h * r, w * r), input)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of ``pixel_shuffle``: ``(*, C, H r, W r) -> (*, C r², H, W)``."""
    op = "pixel_unshuffle"
    r = _int_arg(downscale_factor, op, "downscale_factor")
    if r < 1:  # (PyTorch's words and type)
        raise RuntimeError(f"{op} expects a positive downscale_factor, but got {r} (the factor "
                           "must be a positive integer)")
    if not isinstance(input, Tensor) or input.ndim < 3:
        raise ArgumentValueError(f"{op}: expected an input (*, C, H*r, W*r) with at least 3 dims, got "
                                 f"{getattr(input, 'shape', type(input).__name__)}")
    if input.shape[-1] % r or input.shape[-2] % r:
        raise ArgumentValueError(f"{op}: the height and width of {input.shape} must be divisible by "
                                 f"downscale_factor = {r}")
    *lead, c, h, w = input.shape
    b = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)  # (*, C, H, r, W, r)
    x = x.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)  # (*, C, r, r, H, W)
    return _new(x.reshape(*lead, c * r * r, h // r, w // r), input)


def upsample(input: Tensor, size: int | Sequence[int] | None = None,
             scale_factor: float | Sequence[float] | None = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """PyTorch's deprecated ``F.upsample``: :func:`interpolate` (with a deprecation warning, as
    PyTorch's)."""
    warnings.warn("nn.functional.upsample is deprecated (as in PyTorch); use "
                  "nn.functional.interpolate instead", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: int | Sequence[int] | None = None,
                     scale_factor: float | Sequence[float] | None = None) -> Tensor:
    """PyTorch's deprecated ``F.upsample_nearest``: ``interpolate(..., mode="nearest")``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated (as in PyTorch); use "
                  "nn.functional.interpolate instead", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: int | Sequence[int] | None = None,
                      scale_factor: float | Sequence[float] | None = None) -> Tensor:
    """PyTorch's deprecated ``F.upsample_bilinear``: ``interpolate(..., mode="bilinear",
    align_corners=True)`` -- its corners aligned, as PyTorch's."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated (as in PyTorch); use "
                  "nn.functional.interpolate(..., mode='bilinear', align_corners=True) instead",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
