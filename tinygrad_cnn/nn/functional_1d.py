"""The 1-D functions of ``nn.functional``: ``F.conv1d``, ``F.conv_transpose1d``, ``F.max_pool1d``,
``F.avg_pool1d``, ``F.adaptive_avg_pool1d``, ``F.adaptive_max_pool1d``, ``F.max_unpool1d``,
``F.lp_pool1d``.

A signal ``(N, C, L)`` is an image ``(N, C, 1, L)`` of height 1, and a 1-D kernel, stride,
padding or dilation ``v`` is the pair ``(1, v)`` (``(0, v)`` for paddings): each function checks
its arguments in 1-D terms -- with PyTorch's exception types, and messages that name the 1-D
call -- then unsqueezes, calls the 2-D function and squeezes, so the 2-D ops and their VJPs do the
work (``unsqueeze``/``squeeze`` are reshapes: their VJPs reshape back). An unbatched ``(C, L)``
input gives an unbatched output, as in PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.backend import array_module, type_name
from tinygrad_cnn.nn._checks import ArgumentTypeError, ArgumentValueError
from tinygrad_cnn.nn.functional import avg_pool2d, conv2d, conv_transpose2d, max_pool2d
from tinygrad_cnn.nn.functional_pool import check_indices, check_norm_type, lp_root, unpool, unpool_size
from tinygrad_cnn.nn.functional_resample import adaptive_avg_pool2d, adaptive_max_pool2d
from tinygrad_cnn.ops import pool
from tinygrad_cnn.tensor import Tensor, own_result

IntOne = int | Sequence[int]


# ------------------------------------------------------------------------------ argument checks
def _single(value: Any, what: str, op: str, minimum: int,
            exc: type[Exception] = ArgumentValueError) -> int:
    """An int or a one-int sequence, at least ``minimum``; else ``exc`` (a ValueError that is also
    PyTorch's RuntimeError, see ``_checks.ArgumentValueError``)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise exc(f"{op}: expected {what} to be a single integer value or a list of 1 value "
                      f"(one per spatial dim), but got {what}={list(value)}")
        value = value[0]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: {what} must be an int or a tuple of one int, got {value!r}")
    if value < minimum:
        rule = "positive" if minimum == 1 else "non-negative"
        raise exc(f"{op}: {what} must be {rule}, got {value}")
    return int(value)


def _signal(input: Any, op: str, int64: bool = False) -> Tensor:
    """``input`` as a batched ``(N, C, L)`` view (the caller keeps the original's rank); floating
    (``int64``: an int64 one too)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: the input must be a Tensor, got {type_name(input)}")
    if input.ndim not in (2, 3):
        raise ArgumentValueError(f"{op}: expected a 3-D input (N, C, L) or a 2-D one (C, L), got shape "
                           f"{input.shape}")
    if input.dtype.kind != "f" and not (int64 and input.dtype == np.int64):
        also = " or int64" if int64 else ""
        raise ArgumentTypeError(f"{op}: the input must be a floating{also} tensor, got "
                                f"{input.dtype}; call .float()")
    return input if input.ndim == 3 else input.unsqueeze(0)


def _weight(weight: Any, op: str, layout: str) -> Tensor:
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor, got {type_name(weight)}")
    if weight.ndim != 3 or 0 in weight.shape:
        raise ArgumentValueError(f"{op}: weight must be a 3-D tensor {layout} with no dim of size 0, "
                           f"got shape {weight.shape}")
    return weight


def _groups(groups: Any, op: str) -> int:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)):
        raise TypeError(f"{op}: groups must be an int, got {groups!r}")
    if groups < 1:
        raise ArgumentValueError(f"{op}: groups must be positive, got {groups}")
    return int(groups)


def _bias_and_dtypes(op: str, input: Tensor, weight: Tensor, bias: Any, channels: int) -> None:
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: bias must be a Tensor, got {type_name(bias)}")
    if bias is not None and bias.shape != (channels,):
        shape = bias.shape if isinstance(bias, Tensor) else type(bias).__name__
        raise ArgumentValueError(f"{op}: bias must have shape ({channels},), one value per output "
                           f"channel of weight {weight.shape}; got {shape}")
    dtypes = [t.dtype for t in (input, weight, bias) if t is not None]
    if len(set(dtypes)) > 1:
        raise ArgumentTypeError(f"{op}: input, weight and bias must have one dtype, got "
                           f"{', '.join(str(d) for d in dtypes)}; cast with .float() or .double()")


def _pool_args(x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
               ceil_mode: bool, op: str) -> tuple[int, int, int, int]:
    """``(kernel, stride, padding, dilation)``, checked as PyTorch checks them; the stride
    defaults to the kernel."""
    k = _single(kernel_size, "kernel_size", op, 1)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    s = k if no_stride else _single(stride, "stride", op, 1)
    p = _single(padding, "padding", op, 0)
    d = _single(dilation, "dilation", op, 1)
    if 2 * p > k:
        raise ArgumentValueError(f"{op}: padding should be at most half of the kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    length = x.shape[-1]
    out = pool.pool_out_size(length, k, p, s, d, ceil_mode)
    if out < 1:
        raise ArgumentValueError(f"{op}: the kernel size {k} (dilated span {d * (k - 1) + 1}) is larger "
                           f"than the input length {length} with padding {p} (input {x.shape}): "
                           "the output would be empty; use a smaller kernel or dilation, or more "
                           "padding")
    return k, s, p, d


# ------------------------------------------------------------------------------ convolution
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntOne = 1,
           padding: IntOne | str = 0, dilation: IntOne = 1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation), ``(N, C, L) -> (N, K, OL)`` (or ``(C, L) -> (K, OL)``).

    ``weight``: ``(K, C // groups, KL)``; ``bias``: ``(K,)`` or None. ``padding`` is an int,
    ``"same"`` (stride 1; an odd total puts the extra on the right) or ``"valid"``.
    ``OL = (L + 2 p - d (KL - 1) - 1) // s + 1``. Computed as ``conv2d`` of height 1.
    """
    op = "conv1d"
    x = _signal(input, op)
    _weight(weight, op, "(out_channels, in_channels // groups, kernel_size)")
    g = _groups(groups, op)
    s, d = _single(stride, "stride", op, 1), _single(dilation, "dilation", op, 1)
    n, c, length = x.shape
    k_out, cg, k = weight.shape
    if cg * g != c:
        raise ArgumentValueError(f"{op}: given groups={g}, weight of size {weight.shape} expects "
                           f"{cg * g} input channels (weight.shape[1] * groups), but the input "
                           f"{input.shape} has {c}")
    if k_out % g:
        raise ArgumentValueError(f"{op}: groups={g} must divide the {k_out} output channels of weight "
                           f"{weight.shape} (weight.shape[0])")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ArgumentValueError(f"{op}: invalid padding string {padding!r}; use 'same', 'valid' "
                               "or an int")
        if padding == "same" and s != 1:
            raise ArgumentValueError(f"{op}: padding='same' is not supported for strided convolutions "
                               f"(stride {s}); give an explicit int padding")
        total = d * (k - 1) if padding == "same" else 0
        pads: Any = padding
    else:
        p = _single(padding, "padding", op, 0)
        total, pads = 2 * p, (0, p)
    if d * (k - 1) + 1 > length + total:
        raise ArgumentValueError(f"{op}: the kernel size {k} (dilated: {d * (k - 1) + 1}) is larger than "
                           f"the padded input length {length + total} (input {input.shape}); use "
                           "a smaller kernel or dilation, or more padding")
    _bias_and_dtypes(op, input, weight, bias, k_out)
    # (N, C, L) -> (N, C, 1, L); weight (K, C/G, KL) -> (K, C/G, 1, KL)
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, s), pads, (1, d), g)
    out = out.squeeze(-2)  # (N, K, 1, OL) -> (N, K, OL); PyTorch's is a view when unbatched
    return own_result(out) if input.ndim == 3 else out


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntOne = 1, padding: IntOne = 0, output_padding: IntOne = 0,
                     groups: int = 1, dilation: IntOne = 1) -> Tensor:
    """Transposed 1-D convolution, ``(N, C_in, L) -> (N, C_out, OL)``; ``weight (C_in, C_out //
    groups, KL)``. ``OL = (L - 1) s - 2 p + d (KL - 1) + output_padding + 1``; ``output_padding``
    must be smaller than the stride or the dilation. Computed as ``conv_transpose2d`` of
    height 1."""
    op = "conv_transpose1d"
    x = _signal(input, op)
    _weight(weight, op, "(in_channels, out_channels // groups, kernel_size)")
    g = _groups(groups, op)
    s, d = _single(stride, "stride", op, 1), _single(dilation, "dilation", op, 1)
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or a tuple of one int, got {padding!r} (a "
                        "transposed convolution takes no 'same'/'valid', as in PyTorch)")
    p = _single(padding, "padding", op, 0)
    opad = _single(output_padding, "output_padding", op, 0)
    n, c, length = x.shape
    c_in, cg, k = weight.shape
    if c_in != c:
        raise ArgumentValueError(f"{op}: weight of size {weight.shape} expects {c_in} input channels "
                           f"(weight.shape[0]), but the input {input.shape} has {c}")
    if c % g:
        raise ArgumentValueError(f"{op}: groups={g} does not divide the {c} input channels")
    if opad >= s and opad >= d:
        raise ArgumentValueError(f"{op}: output_padding ({opad}) must be smaller than either the stride "
                           f"({s}) or the dilation ({d})")
    out_len = (length - 1) * s - 2 * p + d * (k - 1) + opad + 1
    if out_len < 1:
        raise ArgumentValueError(f"{op}: the output length would be {out_len} for input length "
                           f"{length} (input {input.shape}, kernel {k}, stride {s}, padding {p}); "
                           "reduce the padding")
    _bias_and_dtypes(op, input, weight, bias, cg * g)
    out = conv_transpose2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, s), (0, p),
                           (0, opad), g, (1, d))
    out = out.squeeze(-2)  # (N, C_out, 1, OL) -> (N, C_out, OL); a view when unbatched
    return own_result(out) if input.ndim == 3 else out


# ------------------------------------------------------------------------------ pooling
def max_pool1d(input: Tensor, kernel_size: IntOne, stride: IntOne | None = None,
               padding: IntOne = 0, dilation: IntOne = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over windows, ``(N, C, L) -> (N, C, OL)``; ``stride`` defaults to the kernel, the
    padding is -inf. The gradient of a window goes to its first maximum (a NaN wins; of several
    NaNs the last), as in PyTorch. ``return_indices=True`` also returns each maximum's position
    in ``L`` (int64)."""
    op = "max_pool1d"
    x = _signal(input, op)
    k, s, p, d = _pool_args(x, kernel_size, stride, padding, dilation, bool(ceil_mode), op)
    if p:  # a dilated window may step over the whole input: refused, as max_pool2d refuses it
        length = x.shape[-1]
        n_out = pool.pool_out_size(length, k, p, s, d, bool(ceil_mode))
        taps = np.arange(n_out)[:, None] * s - p + np.arange(k)[None, :] * d  # (OL, K)
        blind = ~((taps >= 0) & (taps < length)).any(axis=1)
        if blind.any():
            raise ArgumentValueError(f"{op}: with kernel {k}, stride {s}, padding {p} and dilation {d}, "
                                     f"the window at output {int(np.argmax(blind))} reads only padding "
                                     f"(input length {length}); reduce the padding or the dilation")
    out = max_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), bool(ceil_mode),
                     bool(return_indices))
    if return_indices:  # (N, C, 1, OL) -> (N, C, OL); a plane of height 1: h*L + l is l
        values, indices = out
        return values.squeeze(-2), indices.squeeze(-2)
    return out.squeeze(-2)  # type: ignore[union-attr]


def max_pool1d_with_indices(input: Tensor, kernel_size: IntOne, stride: IntOne | None = None,
                            padding: IntOne = 0, dilation: IntOne = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool1d`` with ``return_indices=True``: ``(values, indices)``, whatever
    ``return_indices`` says (PyTorch's signature)."""
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode,  # type: ignore[return-value]
                      True)


def avg_pool1d(input: Tensor, kernel_size: IntOne, stride: IntOne | None = None,
               padding: IntOne = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over windows, ``(N, C, L) -> (N, C, OL)``; ``stride`` defaults to the kernel. With
    ``count_include_pad`` the zeros of the padding count in the mean (a ``ceil_mode`` window's
    overhang past the padding never does; an int64 input gives int64 means, rounded toward zero)."""
    op = "avg_pool1d"
    x = _signal(input, op, int64=True)
    k, s, p, _ = _pool_args(x, kernel_size, stride, padding, 1, bool(ceil_mode), op)
    out = avg_pool2d(input.unsqueeze(-2), (1, k), (1, s), (0, p), bool(ceil_mode),
                     bool(count_include_pad))
    return out.squeeze(-2)


def _output_length(output_size: Any, op: str) -> int:
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 1:
            raise ArgumentValueError(f"{op}: output_size should contain one int (got "
                               f"{len(output_size)}: {tuple(output_size)})")
        output_size = output_size[0]
    if isinstance(output_size, bool) or not isinstance(output_size, (int, np.integer)):
        raise TypeError(f"{op}: output_size must be an int or a tuple of one int, got "
                        f"{output_size!r}")
    if output_size < 0:
        raise ArgumentValueError(f"{op}: output_size must be non-negative, got {output_size}")
    return int(output_size)


def _adaptive_input(input: Any, op: str) -> Tensor:
    x = _signal(input, op)
    if x.shape[-1] == 0:
        raise ArgumentValueError(f"{op}: the input {input.shape} has length 0; adaptive pooling needs "
                           "a non-empty signal")
    return x


def adaptive_avg_pool1d(input: Tensor, output_size: IntOne) -> Tensor:
    """The mean over ``output_size`` bins, ``(N, C, L) -> (N, C, OL)``: bin ``o`` is
    ``[floor(o L / OL), ceil((o + 1) L / OL))`` (``output_size=1``: global average pooling)."""
    op = "adaptive_avg_pool1d"
    _adaptive_input(input, op)
    size = _output_length(output_size, op)
    if size == 0:
        return input[..., :0]  # PyTorch returns the empty result
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size: IntOne,
                        return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum over the bins of ``adaptive_avg_pool1d`` (the first maximum; a NaN wins);
    ``return_indices=True`` also returns each maximum's position in ``L`` (int64)."""
    op = "adaptive_max_pool1d"
    _adaptive_input(input, op)
    size = _output_length(output_size, op)
    if size == 0:
        empty = input[..., :0]
        if not return_indices:
            return empty
        return empty, Tensor._make(array_module(empty._data).zeros(empty.shape, dtype=np.int64))
    out = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), bool(return_indices))
    if return_indices:
        values, indices = out
        return values.squeeze(-2), indices.squeeze(-2)
    return out.squeeze(-2)  # type: ignore[union-attr]


def adaptive_max_pool1d_with_indices(input: Tensor, output_size: IntOne,
                                     return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``adaptive_max_pool1d`` with ``return_indices=True`` (PyTorch's signature)."""
    return adaptive_max_pool1d(input, output_size, True)  # type: ignore[return-value]


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: IntOne,
                 stride: IntOne | None = None, padding: IntOne = 0,
                 output_size: Sequence[int] | None = None) -> Tensor:
    """The partial inverse of ``max_pool1d``: ``(N, C, L)`` and its ``indices`` -> ``(N, C, OL)``
    of zeros with each value at its index; ``OL = (L - 1) s - 2 p + k`` unless ``output_size``
    (``(OL,)`` or ``(N, C, OL)``, within a stride of that) picks another. Differentiable in
    ``input``."""
    op = "max_unpool1d"
    check_indices(input, indices, op)
    if input.ndim not in (2, 3):
        raise ArgumentValueError(f"{op}: expected a 3-D input (N, C, L) or a 2-D one (C, L), got shape "
                           f"{input.shape}")
    k = _single(kernel_size, "kernel_size", op, 1)
    s = k if stride is None else _single(stride, "stride", op, 1)
    p = _single(padding, "padding", op, 0)
    (length,) = unpool_size(input.shape[-1:], (k,), (s,), (p,), output_size, op)
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    idx = indices.unsqueeze(0) if unbatched else indices
    # (N, C, L) -> (N, C, 1, L): index l of a plane of height 1 is l
    out = unpool(x.unsqueeze(2), idx.unsqueeze(2), (1, length), op, (length,)).squeeze(2)
    return out.squeeze(0) if unbatched else out


def lp_pool1d(input: Tensor, norm_type: float, kernel_size: IntOne,
              stride: IntOne | None = None, ceil_mode: bool = False) -> Tensor:
    """Power-average pooling, ``(N, C, L) -> (N, C, OL)``: ``(sum over the window of x ** p) **
    (1 / p)``, as PyTorch computes it (``avg_pool1d(x ** p) * k``); ``p = inf`` is max pooling
    of ``|x|``, ``p = -inf`` min pooling of it (``-max_pool1d(-|x|)``). A window whose sum is 0
    gets a zero gradient."""
    op = "lp_pool1d"
    norm_type = check_norm_type(norm_type, op)
    _pool_args(_signal(input, op), kernel_size, stride, 0, 1, bool(ceil_mode), op)
    if norm_type == math.inf:
        return max_pool1d(input.abs(), kernel_size, stride, 0, 1, ceil_mode)  # type: ignore[return-value]
    if norm_type == -math.inf:
        return -max_pool1d(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)  # type: ignore[operator]
    k = _single(kernel_size, "kernel_size", op, 1)
    out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return lp_root(out * float(k), norm_type)
