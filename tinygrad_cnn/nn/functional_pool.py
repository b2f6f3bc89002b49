"""More pooling functions of ``nn.functional``: ``F.max_unpool2d`` (the partial inverse of
``max_pool2d``) and ``F.lp_pool2d`` (power-average pooling), compositions of existing ops.

* ``max_unpool2d`` puts each value at its saved flat index of an output plane: the
  ``scatter_add`` op with assignment (``unique``), whose VJP gathers the output gradient at the
  indices -- PyTorch's gradient, also for an index that repeats (then which value lands there is
  unspecified, as in PyTorch).
* ``lp_pool2d`` is PyTorch's formula ``(sum over the window of x**p) ** (1 / p)``, the sum taken as
  ``avg_pool2d(x**p) * KH * KW``; a window whose sum is 0 gets a zero gradient (PyTorch's rule),
  from a ``where`` on both sides of the root instead of ``sign(s) * relu(abs(s))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.backend import ArgumentValueError, like
from tinygrad_cnn.nn._checks import floating as _floating
from tinygrad_cnn.nn.functional import IntPair, _image, _pair, _pool_args, avg_pool2d, max_pool2d
from tinygrad_cnn.ops import movement
from tinygrad_cnn.tensor import Tensor, where


def unpool_size(in_size: Sequence[int], kernel: Sequence[int], stride: Sequence[int],
                padding: Sequence[int], output_size: Any, op: str) -> tuple[int, ...]:
    """PyTorch's ``_unpool_output_size``: ``(in - 1) * stride - 2 * padding + kernel`` per spatial
    dim, or ``output_size`` (its last ``k`` entries when it also has ``(N, C)``), which must lie
    strictly within ``stride`` of that."""
    k = len(kernel)
    default = [(in_size[d] - 1) * stride[d] - 2 * padding[d] + kernel[d] for d in range(k)]
    if output_size is None:
        size = default
    else:
        if isinstance(output_size, (int, np.integer)):
            output_size = (output_size,) * k
        size = [int(s) for s in output_size]
        if len(size) == k + 2:
            size = size[2:]
        if len(size) != k:
            raise ArgumentValueError(f"{op}: output_size should be a sequence containing {k} or {k + 2} "
                                     f"elements (the spatial size, or all of (N, C, *spatial)), but it "
                                     f"has a length of {len(size)}: {tuple(output_size)}")
        for d in range(k):
            low, high = default[d] - stride[d], default[d] + stride[d]
            if not low < size[d] < high:
                raise ArgumentValueError(f'{op}: invalid output_size "{tuple(output_size)}" (dim {d} '
                                         f"must be between {low} and {high}, exclusive: within a stride "
                                         f"of the default {default[d]} for input size {tuple(in_size)})")
    if min(size) < 0:
        raise ArgumentValueError(f"{op}: the output size {tuple(size)} must be non-negative (input "
                                 f"{tuple(in_size)}, kernel_size {tuple(kernel)}, stride {tuple(stride)}, "
                                 f"padding {tuple(padding)}); reduce the padding")
    return tuple(size)


def unpool(x: Tensor, indices: Tensor, out_hw: tuple[int, int], op: str,
           shown: tuple[int, ...]) -> Tensor:
    """``x (N, C, H, W)`` placed at ``indices`` (same shape, flat into each ``out_hw`` plane) of
    zeros ``(N, C, OH, OW)``; an error names ``op`` and the output size the user sees
    (``shown``)."""
    n, c, h, w = x.shape
    plane = out_hw[0] * out_hw[1]
    idx = indices._data
    if idx.size:
        low, high = int(idx.min()), int(idx.max())
        if low < 0 or high >= plane:
            bad = low if low < 0 else high
            size = "x".join(str(v) for v in shown)
            raise RuntimeError(f"{op}: found an invalid max index: {bad} (output planes are of "
                               f"size {size}, so indices must be in [0, {plane})); pass the "
                               "indices max_pool returned for this input, with its kernel_size, "
                               "stride and padding")
    flat = x.reshape(n, c, h * w)  # (N, C, H*W)
    index = like(idx.reshape(n, c, h * w).astype(np.int64, copy=True), x._data)
    out = movement.ScatterAdd.apply(flat, index=index, dim=2, size=plane, unique=True)
    return out.reshape(n, c, *out_hw)  # (N, C, OH*OW) -> (N, C, OH, OW)


def check_indices(input: Any, indices: Any, op: str) -> None:
    if not isinstance(input, Tensor) or not isinstance(indices, Tensor):
        bad = input if not isinstance(input, Tensor) else indices
        raise TypeError(f"{op}: input and indices must be Tensors, got {type(bad).__name__}")
    if indices.dtype != np.int64:
        raise RuntimeError(f"{op}: elements in indices should be type int64 but got {indices.dtype}"
                           "; pass the indices max_pool returned (return_indices=True), or "
                           "convert them with .long()")
    if indices.shape != input.shape:
        raise RuntimeError(f"{op}: expected indices of the input's shape {input.shape}, but got "
                           f"indices of shape {indices.shape}")


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: IntPair,
                 stride: IntPair | None = None, padding: IntPair = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """The partial inverse of ``max_pool2d``: ``(N, C, H, W)`` (or ``(C, H, W)``) and the flat
    per-plane ``indices`` it returned -> ``(N, C, OH, OW)`` of zeros with each value at its index.
    ``OH = (H - 1) * sh - 2 * ph + kh`` unless ``output_size`` (``(OH, OW)`` or ``(N, C, OH, OW)``,
    within a stride of that) picks another. Differentiable in ``input`` (the gradient gathers at
    ``indices``)."""
    op = "max_unpool2d"
    check_indices(input, indices, op)
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got "
                           f"shape {input.shape}")
    k = _pair(kernel_size, "kernel_size", op, 1)
    s = k if stride is None else _pair(stride, "stride", op, 1)
    p = _pair(padding, "padding", op, 0)
    out_hw = unpool_size(input.shape[-2:], k, s, p, output_size, op)
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    idx = indices.unsqueeze(0) if unbatched else indices
    out = unpool(x, idx, out_hw, op, out_hw)  # type: ignore[arg-type]
    return out.squeeze(0) if unbatched else out


def lp_root(total: Tensor, norm_type: float) -> Tensor:
    """``total ** (1 / p)``, with PyTorch's zero gradient where ``total`` is 0 (a ``where`` on both
    sides keeps the root's infinite slope at 0 out of the gradient, with no NaN from 0 * inf)."""
    root = 1.0 / norm_type
    nonzero = (total > 0) | (total < 0)  # (not 0, and not NaN: a NaN window's gradient is 0 too,
    safe = where(nonzero, total, 1.0)    # as PyTorch's sign(x) * relu(|x|) gives it -- t142)
    at_zero = math.inf if root < 0 else 0.0  # 0 ** (1 / p)
    # (NaN stays NaN, in total's dtype, with no gradient through it)
    other = where(total != total, total.detach(), at_zero)
    return where(nonzero, safe ** root, other)


def check_norm_type(norm_type: Any, op: str) -> float:
    """``norm_type`` (p) as a float: a real number other than 0 (``x ** p`` summed has no
    ``1 / p`` root at 0)."""
    if isinstance(norm_type, (bool, np.bool_)) or not isinstance(norm_type, (int, float, np.number)):
        raise TypeError(f"{op}: norm_type must be a number (the p of the p-norm), got "
                        f"{type(norm_type).__name__} {norm_type!r}")
    if norm_type == 0 or math.isnan(norm_type):
        raise ArgumentValueError(f"{op}: norm_type must be a non-zero number, got {norm_type} (the "
                                 "result is (sum of x ** p) ** (1 / p)); use p = 1 for a sum of |x|, "
                                 "p = 2 for the Euclidean norm")
    return float(norm_type)


def lp_pool2d(input: Tensor, norm_type: float, kernel_size: IntPair,
              stride: IntPair | None = None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling, ``(N, C, H, W) -> (N, C, OH, OW)``: ``(sum over the window of
    x ** p) ** (1 / p)`` (PyTorch's formula: ``avg_pool2d(x ** p) * KH * KW``, so a ``ceil_mode``
    window cut by the edge is scaled up as if full). ``p = inf``: max pooling of ``|x|``;
    ``p = -inf``: ``-max_pool2d(-|x|)``. No padding. A window whose sum is 0 gets a zero
    gradient."""
    op = "lp_pool2d"
    _floating(input, op)
    norm_type = check_norm_type(norm_type, op)
    _pool_args(_image(input, op)[0], kernel_size, stride, 0, 1, op, bool(ceil_mode))
    if norm_type == math.inf:
        return max_pool2d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)  # type: ignore[return-value]
    if norm_type == -math.inf:
        return -max_pool2d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)  # type: ignore[operator]
    kh, kw = _pair(kernel_size, "kernel_size", "lp_pool2d", 1)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return lp_root(out * float(kh * kw), norm_type)
