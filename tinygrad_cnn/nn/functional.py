"""PyTorch-style functions on tensors: ``F.conv2d``, ``F.max_pool2d``, ``F.cross_entropy``, ...

Signatures and semantics follow ``torch.nn.functional`` (NCHW; an unbatched CHW input works as in
PyTorch). This module checks and normalises arguments and reports mistakes in terms of the call;
the computing is done by the ops in ``tinygrad_cnn/ops/``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn import layout
from tinygrad_cnn._scalars import check_number, check_training
from tinygrad_cnn.autograd import Context, is_grad_enabled
from tinygrad_cnn.backend import ArgumentTypeError, ArgumentValueError, array_module, like, type_name
from tinygrad_cnn.nn._checks import exact_float
from tinygrad_cnn.ops import activation, conv, linalg, movement, pool
from tinygrad_cnn.tensor import DTypeLike, Tensor, _int_arg, _int_of, _pad_widths, own_result

IntPair = int | Sequence[int]

__all__ = [
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d", "adaptive_max_pool2d_with_indices",
    "alpha_dropout", "avg_pool1d", "avg_pool2d", "batch_norm", "bilinear", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "celu", "celu_", "channel_shuffle", "conv1d", "conv2d",
    "conv_transpose1d", "conv_transpose2d", "cosine_embedding_loss", "cosine_similarity",
    "cross_entropy", "dropout", "dropout1d", "dropout2d", "dropout3d", "elu", "elu_", "embedding",
    "feature_alpha_dropout", "flatten", "fold", "gaussian_nll_loss", "gelu", "glu", "group_norm",
    "gumbel_softmax", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "hardtanh_",
    "hinge_embedding_loss", "huber_loss", "instance_norm", "interpolate", "kl_div", "l1_loss",
    "layer_norm", "leaky_relu", "leaky_relu_", "linear", "local_response_norm", "log_softmax",
    "logsigmoid", "lp_pool1d", "lp_pool2d", "margin_ranking_loss", "max_pool1d",
    "max_pool1d_with_indices", "max_pool2d", "max_pool2d_with_indices", "max_unpool1d",
    "max_unpool2d", "mish", "mse_loss", "multi_margin_loss", "multilabel_margin_loss",
    "multilabel_soft_margin_loss", "nll_loss", "normalize", "one_hot", "pad", "pairwise_distance",
    "pdist", "pixel_shuffle", "pixel_unshuffle", "poisson_nll_loss", "prelu", "relu", "relu6",
    "relu_", "rms_norm", "rrelu", "rrelu_", "scaled_dot_product_attention", "selu", "selu_",
    "sigmoid", "silu", "smooth_l1_loss",
    "soft_margin_loss", "softmax", "softmin", "softplus", "softshrink", "softsign", "tanh",
    "tanhshrink", "threshold", "threshold_", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "unfold", "upsample", "upsample_bilinear",
    "upsample_nearest",
]


# ------------------------------------------------------------------------------ argument checks
def _pair(value: Any, what: str, op: str, minimum: int, one_value_ok: bool = True
          ) -> tuple[int, int]:
    """An int or an ``(h, w)`` pair of ints, each at least ``minimum``; a one-int sequence is
    used for both (as PyTorch does), unless ``one_value_ok`` is False (``fold``/``unfold``, whose
    PyTorch kernels want exactly two)."""
    if type(value) is int and value >= minimum:  # (the everyday form: nothing to check)
        return value, value
    if isinstance(value, (tuple, list)) and len(value) == 1:
        if not one_value_ok:
            v = value[0]
            raise ArgumentValueError(f"{op}: {what} must be an int or an (h, w) pair of ints, got "
                                     f"{value!r} (1 value); as in PyTorch, {op} takes no one-value "
                                     f"sequence: give {v!r} or ({v!r}, {v!r})")
        value = value[0]
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {what} must be an int or an (h, w) pair of ints, got {value!r}")
    if isinstance(value, (int, np.integer)):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        pair = (int(value[0]), int(value[1]))
    elif isinstance(value, (tuple, list)) and len(value) == 2:  # (a float or a string in it:
        raise ArgumentTypeError(f"{op}: {what} must be an int or an (h, w) pair of ints, got "  # a
                                f"{value!r}")  # TypeError, as PyTorch's argument parser -- t194)
    elif not isinstance(value, (tuple, list)):
        raise ArgumentTypeError(f"{op}: {what} must be an int or an (h, w) pair of ints, got "
                                f"{type(value).__name__} {value!r}")
    else:
        raise ArgumentValueError(f"{op}: {what} must be an int or an (h, w) pair of ints, got {value!r}"
                                 + (f" ({len(value)} values)" if isinstance(value, (tuple, list)) else ""))
    if min(pair) < minimum:
        rule = "positive" if minimum == 1 else "non-negative"
        raise ArgumentValueError(f"{op}: {what} must be {rule}, got {value!r}")
    return pair


def _input(x: Any, op: str) -> Tensor:
    """``x`` itself, if it is a Tensor (PyTorch's "argument 'input' must be Tensor")."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: the input must be a Tensor, got {type_name(x)}; wrap an array "
                        "with tinygrad_cnn.tensor(...)")
    return x


def _image(x: Any, op: str, int64: bool = False) -> tuple[Tensor, bool]:
    """A 4-D ``(N, C, H, W)`` tensor, and whether the input was unbatched ``(C, H, W)``
    (floating; ``int64``: an int64 one too)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: the input must be a Tensor, got {type_name(x)}")
    if x.ndim not in (3, 4):
        raise ArgumentValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W), got "
                                 f"shape {x.shape}")
    if x.dtype.kind != "f" and not (int64 and x.dtype == np.int64):
        also = " or int64" if int64 else ""
        raise TypeError(f"{op}: the input must be a floating{also} tensor, got {x.dtype}; call "
                        ".float()")
    return (x.unsqueeze(0), True) if x.ndim == 3 else (x, False)


def _same_dtype(op: str, *tensors: Tensor | None) -> None:
    dts = {t.dtype for t in tensors if t is not None}
    if len(dts) > 1:
        names = ", ".join(f"{t.dtype}" for t in tensors if t is not None)
        raise ArgumentTypeError(f"{op}: input, weight and bias must have one dtype, got {names}; cast with "
                                ".float() or .double()")


def _check_bias(bias: Tensor | None, channels: int, op: str) -> None:
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{op}: bias must be a Tensor, got {type_name(bias)} (wrap it: "
                        "tinygrad_cnn.tensor(...))")
    if bias is not None and bias.shape != (channels,):
        shape = bias.shape if isinstance(bias, Tensor) else type(bias).__name__
        raise ArgumentValueError(f"{op}: bias must have shape ({channels},), one value per output channel; "
                                 f"got {shape}. (A per-position bias is a plain broadcast add: "
                                 "conv2d(x, w) + b with b of shape (C, H, W).)")


def _check_weight(weight: Any, op: str, layout: str) -> None:
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor, got {type_name(weight)} (wrap it: "
                        "tinygrad_cnn.tensor(...))")
    if weight.ndim != 4:
        raise ArgumentValueError(f"{op}: weight must be a 4-D tensor {layout}, got "
                                 f"{getattr(weight, 'shape', type(weight).__name__)}")
    if 0 in weight.shape:
        raise ArgumentValueError(f"{op}: weight {weight.shape} {layout} has a dim of size 0; every dim "
                                 "must be at least 1 here (a convolution over no channels computes "
                                 "nothing: give the layer at least one channel, or skip it -- its "
                                 "output would be its bias alone)")


def _check_groups(groups: Any, op: str) -> int:
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ArgumentValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return int(groups)


def _conv_pads(padding: Any, kernel: tuple[int, int], dilation: tuple[int, int],
               stride: tuple[int, int], op: str) -> tuple[tuple[int, int], tuple[int, int]]:
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding == "same":
            if stride != (1, 1):
                raise ArgumentValueError(f"{op}: padding='same' needs stride 1 (got stride {stride}); give "
                                         "explicit padding for strided convolutions")
            pads = []
            for k, d in zip(kernel, dilation):
                total = d * (k - 1)  # PyTorch puts the odd extra on the bottom/right
                pads.append((total // 2, total - total // 2))
            return pads[0], pads[1]
        raise ArgumentValueError(f"{op}: padding must be an int, an (h, w) pair, 'same' or 'valid'; got "
                                 f"{padding!r}")
    ph, pw = _pair(padding, "padding", op, 0)
    return (ph, ph), (pw, pw)


# ------------------------------------------------------------------------------ convolution
def _conv_args(input: Any, weight: Any, stride: Any, dilation: Any, groups: Any, op: str,
               layout: str) -> tuple[Tensor, bool, tuple[int, int], tuple[int, int], int]:
    """The checks both convolutions share: ``(x, unbatched, stride, dilation, groups)``."""
    x, unbatched = _image(input, op)
    _check_weight(weight, op, layout)
    groups = _check_groups(groups, op)
    return x, unbatched, _pair(stride, "stride", op, 1), _pair(dilation, "dilation", op, 1), groups


def _conv_call(fn: Any, x: Tensor, weight: Tensor, bias: Tensor | None, unbatched: bool, op: str,
               **attrs: Any) -> Tensor:
    """Apply a convolution op with or without its bias; unbatched inputs give unbatched outputs."""
    _same_dtype(op, x, weight, bias)
    inputs = (x, weight) if bias is None else (x, weight, bias)
    out = fn.apply(*inputs, **attrs)
    return out.squeeze(0) if unbatched else out  # (a view, as PyTorch's)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation), ``(N, C, H, W) -> (N, K, OH, OW)``.

    ``weight``: ``(K, C // groups, KH, KW)``; ``bias``: ``(K,)`` or None. ``stride``, ``padding``
    and ``dilation`` are ints or ``(h, w)`` pairs; ``padding`` may also be ``"same"`` (stride 1)
    or ``"valid"``. ``OH = (H + 2*ph - dh*(KH-1) - 1) // sh + 1``.
    """
    op = "conv2d"
    x, unbatched, s, d, groups = _conv_args(input, weight, stride, dilation, groups, op,
                                            "(out_channels, in_channels // groups, kh, kw)")
    n, c, h, w = x.shape
    k, cg, kh, kw = weight.shape
    if c % groups:
        raise ArgumentValueError(f"{op}: groups={groups} does not divide the {c} input channels (input "
                                 f"{x.shape}, weight {weight.shape}); use a groups that divides both the "
                                 "input's channels and weight.shape[0]")
    if k % groups:
        raise ArgumentValueError(f"{op}: groups={groups} does not divide the {k} output channels of weight "
                                 f"{weight.shape}")
    if cg * groups != c:
        raise ArgumentValueError(f"{op}: the input has {c} channels (shape {x.shape}) but weight "
                                 f"{weight.shape} with groups={groups} expects {cg * groups} "
                                 "(weight.shape[1] * groups)")
    pads = _conv_pads(padding, (kh, kw), d, s, op)
    span = (d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1)
    padded = (h + sum(pads[0]), w + sum(pads[1]))
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ArgumentValueError(f"{op}: the kernel {kh}x{kw} (dilated: {span[0]}x{span[1]}) is larger "
                                 f"than the padded input {padded[0]}x{padded[1]} (input {h}x{w}); use a "
                                 "smaller kernel or dilation, or more padding")
    _check_bias(bias, k, op)
    return _conv_call(conv.Conv2d, x, weight, bias, unbatched, op, stride=s, padding=pads,
                      dilation=d, groups=groups)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: IntPair = 1, padding: IntPair = 0, output_padding: IntPair = 0,
                     groups: int = 1, dilation: IntPair = 1) -> Tensor:
    """Transposed convolution ("deconvolution"), ``(N, C_in, H, W) -> (N, C_out, OH, OW)``.

    ``weight``: ``(C_in, C_out // groups, KH, KW)``. ``OH = (H - 1)*sh - 2*ph + dh*(KH - 1) +
    oph + 1``; ``output_padding`` must be smaller than the stride or the dilation.
    """
    op = "conv_transpose2d"
    x, unbatched, s, d, groups = _conv_args(input, weight, stride, dilation, groups, op,
                                            "(in_channels, out_channels // groups, kh, kw)")
    p = _pair(padding, "padding", op, 0)
    opad = _pair(output_padding, "output_padding", op, 0)
    n, c, h, w = x.shape
    cin, cg, kh, kw = weight.shape
    if cin != c:
        raise ArgumentValueError(f"{op}: the input has {c} channels (shape {x.shape}) but weight "
                                 f"{weight.shape} expects {cin} (weight.shape[0]); a transposed "
                                 f"convolution's weight is (in_channels, out_channels // groups, kh, kw): "
                                 f"give one of shape ({c}, {cg}, {kh}, {kw})")
    if c % groups:
        raise ArgumentValueError(f"{op}: groups={groups} does not divide the {c} input channels (input "
                                 f"{x.shape}, weight {weight.shape}); use a groups that divides both the "
                                 "input's channels and the output channels")
    for i, axis in enumerate("hw"):
        if opad[i] >= s[i] and opad[i] >= d[i]:
            raise ArgumentValueError(f"{op}: output_padding {opad} must be smaller than the stride {s} or "
                                     f"the dilation {d} (axis {axis})")
    out_hw = [(x.shape[2 + i] - 1) * s[i] - 2 * p[i] + d[i] * (weight.shape[2 + i] - 1)
              + opad[i] + 1 for i in range(2)]
    if min(out_hw) < 1:
        raise ArgumentValueError(f"{op}: the output would be {out_hw[0]}x{out_hw[1]} for input {h}x{w}; "
                                 "reduce the padding")
    _check_bias(bias, cg * groups, op)
    return _conv_call(conv.ConvTranspose2d, x, weight, bias, unbatched, op, stride=s,
                      padding=((p[0], p[0]), (p[1], p[1])), output_padding=opad, dilation=d,
                      groups=groups)


# ------------------------------------------------------------------------------ pooling
def _pool_args(x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, op: str,
               ceil_mode: bool = False) -> tuple[tuple[int, int], ...]:
    k = _pair(kernel_size, "kernel_size", op, 1)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _pair(stride, "stride", op, 1)
    p = _pair(padding, "padding", op, 0)
    d = _pair(dilation, "dilation", op, 1)
    for i in range(2):
        span = d[i] * (k[i] - 1) + 1
        if 2 * p[i] > k[i]:  # PyTorch's rule (the kernel, not its dilated span)
            raise ArgumentValueError(f"{op}: padding {p} must be at most half of the kernel {k} "
                                     f"(axis {'hw'[i]}; input {x.shape}, PyTorch's rule); pad less, or "
                                     "pad the input with F.pad first")
        # (with ceil_mode a window may hang over the end: PyTorch's rule counts the output)
        if pool.pool_out_size(x.shape[2 + i], k[i], p[i], s[i], d[i], ceil_mode) < 1:
            raise ArgumentValueError(f"{op}: the kernel {k} (span {span}) is larger than the input "
                                     f"{x.shape[2]}x{x.shape[3]} with padding {p}"
                                     + ("" if ceil_mode else " (ceil_mode=True would keep one window)"
                                if pool.pool_out_size(x.shape[2 + i], k[i], p[i], s[i], d[i],
                                                      True) >= 1 else ""))
    return k, s, p, d


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0, dilation: IntPair = 1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Max over windows, ``(N, C, H, W) -> (N, C, OH, OW)``; ``stride`` defaults to the kernel.

    The gradient of each window goes to its first maximum in row-major order (the tutorial's
    ``get_max_index``, and PyTorch's rule). ``return_indices=True`` also returns where each maximum
    is, as a flat ``h * W + w`` index into its input plane.
    """
    op = "max_pool2d"
    if isinstance(input, Tensor) and input.dtype.kind in "iu":  # (PyTorch pools integer images)
        out = max_pool2d(exact_float(input, op), kernel_size, stride, padding, dilation,
                         ceil_mode, return_indices)
        if isinstance(out, tuple):
            return out[0].to(input.dtype), out[1]
        return out.to(input.dtype)
    x, unbatched = _image(input, op)
    k, s, p, d = _pool_args(x, kernel_size, stride, padding, dilation, op, bool(ceil_mode))
    _check_windows_see_input(x, k, s, p, d, bool(ceil_mode), op)
    attrs = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=bool(ceil_mode))
    if return_indices and not (is_grad_enabled() and x.requires_grad):
        # no node will be recorded to keep the indices: run the op's forward on a context of ours
        ctx = Context(pool.MaxPool2d, (False,))
        ctx.want_indices = True
        out = Tensor._make(layout.follow(x._data, pool.MaxPool2d.forward(ctx, x._data, **attrs)))
    else:
        out = pool.MaxPool2d.apply(x, **attrs)
        ctx = out.grad_fn
    if return_indices:
        # an index into each input plane, int64 like PyTorch's (and laid out as the values)
        indices = Tensor._make(layout.follow(x._data, (ctx.flat_indices % (
            x.shape[2] * x.shape[3])).astype(np.int64)))
        if unbatched:
            return own_result(out.squeeze(0)), own_result(indices.squeeze(0))
        return out, indices
    return own_result(out.squeeze(0)) if unbatched else out


def max_pool2d_with_indices(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
                            padding: IntPair = 0, dilation: IntPair = 1, ceil_mode: bool = False,
                            return_indices: bool = False) -> tuple[Tensor, Tensor]:
    """``max_pool2d`` with ``return_indices=True``: ``(values, indices)``, whatever
    ``return_indices`` says (PyTorch's signature); the indices are flat ``h * W + w`` positions
    in each input plane, int64."""
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode,  # type: ignore[return-value]
                      True)


def _check_windows_see_input(x: Tensor, k: Any, s: Any, p: Any, d: Any, ceil_mode: bool,
                             op: str) -> None:
    """A dilated window can step over the whole input and read only padding; its maximum would be
    -inf with no input position to send the gradient to. PyTorch returns -inf there; we refuse.
    (Without padding every window starts inside the input: nothing to check.)"""
    if tuple(p) == (0, 0):
        return
    for axis in range(2):
        size = x.shape[2 + axis]
        n_out = pool.pool_out_size(size, k[axis], p[axis], s[axis], d[axis], ceil_mode)
        # taps[o, j]: the input index that tap j of window o reads
        taps = (np.arange(n_out)[:, None] * s[axis] - p[axis]
                + np.arange(k[axis])[None, :] * d[axis])
        blind = ~((taps >= 0) & (taps < size)).any(axis=1)
        if blind.any():
            raise ArgumentValueError(
                f"{op}: with kernel {k}, stride {s}, padding {p} and dilation {d}, the window "
                f"at output {'row' if axis == 0 else 'column'} {int(np.argmax(blind))} reads only "
                f"padding (input {x.shape[2]}x{x.shape[3]}); reduce the padding or the dilation")


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None,
               padding: IntPair = 0, ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """Mean over windows, ``(N, C, H, W) -> (N, C, OH, OW)``; ``stride`` defaults to the kernel.
    With ``count_include_pad`` the zeros of the padding count in the mean. ``divisor_override``:
    every window's sum is divided by this int instead (any non-zero int, negative ones too, as
    PyTorch; ``count_include_pad`` then changes nothing). An int64 input gives int64 means,
    rounded toward zero, as PyTorch's."""
    op = "avg_pool2d"
    x, unbatched = _image(input, op, int64=True)
    k, s, p, _ = _pool_args(x, kernel_size, stride, padding, 1, op, bool(ceil_mode))
    attrs: dict[str, Any] = {}
    if divisor_override is not None:  # (kept out of the attrs otherwise: the drawings list them)
        if isinstance(divisor_override, (bool, np.bool_)) or \
                not isinstance(divisor_override, (int, np.integer)):
            raise TypeError(f"{op}: divisor_override must be an int or None, got "
                            f"{type(divisor_override).__name__} {divisor_override!r}")
        if divisor_override == 0:
            raise RuntimeError(f"{op}: divisor must be not zero (divisor_override=0); give a "
                               "non-zero int, or None to divide by each window's size")
        attrs["divisor_override"] = int(divisor_override)
    out = pool.AvgPool2d.apply(x, kernel_size=k, stride=s, padding=p, ceil_mode=bool(ceil_mode),
                               count_include_pad=bool(count_include_pad), **attrs)
    return own_result(out.squeeze(0)) if unbatched else out


# ------------------------------------------------------------------------------ im2col, col2im
def _window_args(op: str, kernel_size: Any, dilation: Any, padding: Any, stride: Any
                 ) -> tuple[tuple[int, int], ...]:
    if isinstance(padding, str):
        raise TypeError(f"{op}: padding must be an int or an (h, w) pair of ints, got "
                        f"{padding!r} (no 'same'/'valid' here, as in PyTorch)")
    return (_pair(kernel_size, "kernel_size", op, 1, False), _pair(dilation, "dilation", op, 1, False),
            _pair(padding, "padding", op, 0, False), _pair(stride, "stride", op, 1, False))


def _blocks(op: str, hw: tuple[int, ...], k: tuple[int, int], d: tuple[int, int],
            p: tuple[int, int], s: tuple[int, int], what: str) -> tuple[int, int]:
    """How many windows fit along each axis of ``hw``; an error naming every argument if none."""
    blocks = tuple((hw[i] + 2 * p[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    if min(blocks) < 1:
        raise ArgumentValueError(f"{op}: {what} {tuple(hw)} with kernel_size={k}, dilation={d}, "
                                 f"padding={p} holds no window ({blocks[0]} x {blocks[1]} sliding "
                                 "blocks); use a smaller kernel or dilation, or more padding")
    return blocks  # type: ignore[return-value]


def unfold(input: Tensor, kernel_size: IntPair, dilation: IntPair = 1, padding: IntPair = 0,
           stride: IntPair = 1) -> Tensor:
    """im2col: the sliding windows of ``(N, C, H, W)`` (or unbatched ``(C, H, W)``) as columns,
    ``(N, C*KH*KW, L)`` with one column per window, ``L = OH*OW`` in row-major order; rows run
    over ``(c, kernel row, kernel column)`` (PyTorch's layout: ``unfold(x, k).transpose(1, 2) @
    w.view(K, -1).t()`` is a convolution). The gradient is ``fold``'s."""
    op = "unfold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: the input must be a Tensor, got {type_name(input)}")
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise ArgumentValueError(f"{op}: expected a 4-D input (N, C, H, W) or a 3-D one (C, H, W) with "
                                 f"C, H and W not 0, got shape {input.shape}")
    if input.dtype.kind not in "fb":
        raise TypeError(f"{op}: the input must be a floating (or bool) tensor, got {input.dtype} "
                        "(as in PyTorch); call .float()")
    k, d, p, s = _window_args(op, kernel_size, dilation, padding, stride)
    _blocks(op, input.shape[-2:], k, d, p, s, "the input's spatial size")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    out = conv.Unfold.apply(x, kernel_size=k, dilation=d, padding=p, stride=s)
    return own_result(out.squeeze(0)) if input.ndim == 3 else out  # (PyTorch's: not a view)


def fold(input: Tensor, output_size: IntPair, kernel_size: IntPair, dilation: IntPair = 1,
         padding: IntPair = 0, stride: IntPair = 1) -> Tensor:
    """col2im: columns ``(N, C*KH*KW, L)`` (or unbatched ``(C*KH*KW, L)``) summed into an image
    ``(N, C, H, W)`` of ``output_size = (H, W)``: each entry is added where ``unfold`` would have
    read it (overlapping windows add up; the padding is cut off). ``L`` must be the number of
    windows that fit. The gradient is ``unfold``'s."""
    op = "fold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: the input must be a Tensor, got {type_name(input)}")
    if input.ndim not in (2, 3) or 0 in input.shape[-2:]:
        raise ArgumentValueError(f"{op}: expected a 3-D input (N, C*KH*KW, L) or a 2-D one (C*KH*KW, L) "
                                 f"with neither size 0, got shape {input.shape}")
    if input.dtype.kind != "f":
        raise ArgumentTypeError(f"{op}: the input must be a floating tensor, got {input.dtype} (as in "
                        "PyTorch); call .float()")
    hw = _pair(output_size, "output_size", op, 1, False)
    k, d, p, s = _window_args(op, kernel_size, dilation, padding, stride)
    rows, length = input.shape[-2:]
    if rows % (k[0] * k[1]):
        raise ArgumentValueError(f"{op}: the input's dim {input.ndim - 2} ({rows}, shape {input.shape}) "
                                 f"must be divisible by the kernel's size {k[0]} x {k[1]} = {k[0] * k[1]}: "
                                 "it holds C * KH * KW values per window")
    blocks = _blocks(op, hw, k, d, p, s, "output_size")
    if length != blocks[0] * blocks[1]:
        raise ArgumentValueError(f"{op}: output_size={hw} with kernel_size={k}, dilation={d}, "
                                 f"padding={p}, stride={s} has {blocks[0]} x {blocks[1]} = "
                                 f"{blocks[0] * blocks[1]} sliding blocks, but the input (shape "
                                 f"{input.shape}) has {length} in its last dim")
    x = input.unsqueeze(0) if input.ndim == 2 else input
    out = conv.Fold.apply(x, output_size=hw, kernel_size=k, dilation=d, padding=p, stride=s)
    return own_result(out.squeeze(0)) if input.ndim == 2 else out  # (PyTorch's: not a view)


# ------------------------------------------------------------------------------ activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``; ``inplace`` writes it into ``input`` (``input.relu_()``)."""
    _input(input, "relu")
    return input.relu_() if inplace else input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise; ``inplace`` writes it into
    ``input``."""
    check_number("leaky_relu", "negative_slope", negative_slope, "0d")
    return _inplace_or_new(input, inplace, "leaky_relu", lambda x: activation.LeakyReLU.apply(
        x, negative_slope=float(negative_slope)))


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))`` elementwise, accurate on both tails."""
    return _input(input, "sigmoid").sigmoid()


def tanh(input: Tensor) -> Tensor:
    """``tanh x`` elementwise; VJP ``g (1 - tanh² x)``."""
    return _input(input, "tanh").tanh()


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: DTypeLike = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, computed stably (the max is subtracted first).
    Without ``dim``: PyTorch's old implicit choice, with its warning (see :func:`_softmax_dim`).
    ``dtype`` casts the input first."""
    _input(input, "softmax")
    return input.softmax(_softmax_dim(input, dim, "softmax", _stacklevel), dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
                dtype: DTypeLike = None) -> Tensor:
    """``log(softmax(x))`` along ``dim``, stable for logits in the thousands."""
    _input(input, "log_softmax")
    return input.log_softmax(_softmax_dim(input, dim, "log_softmax", _stacklevel), dtype)


def _softmax_dim(input: Tensor, dim: int | None, name: str, stacklevel: int = 3) -> int:
    """``dim``, or when it is None PyTorch's implicit choice for softmax: dim 0 of a 0-, 1- or
    3-d tensor, else dim 1 (a batch of images: the channels), with PyTorch's warning."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if input.ndim in (0, 1, 3) else 1


# ------------------------------------------------------------------------------ layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``; ``weight (out_features, in_features)``, or ``(in_features,)``
    without a bias (PyTorch's: ``input @ weight``, the feature dim dropped)."""
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"linear: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim == 0:  # (was: a bare IndexError)
            raise RuntimeError(f"linear: both arguments need at least 1 dimension (as in "
                               f"PyTorch), got input {input.shape} and weight {weight.shape}")
    if weight.ndim == 1 and input.shape[-1:] == weight.shape:
        if bias is not None:  # (PyTorch's error: "mat2 must be a matrix")
            raise ArgumentValueError(f"linear: a 1-D weight {weight.shape} takes no bias (as in "
                                     "PyTorch); add it to the result: linear(x, w) + b")
        _same_dtype("linear", input, weight, None)
        return input @ weight
    if weight.ndim != 2 or input.shape[-1:] != weight.shape[1:]:
        raise ArgumentValueError(f"linear: the input has {input.shape[-1] if input.ndim else 0} features "
                                 f"(shape {input.shape}) but weight {weight.shape} expects "
                                 f"{weight.shape[-1]} (weight is (out_features, in_features))")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ArgumentValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    _same_dtype("linear", input, weight, bias)
    linalg.no_bool_product("linear", input._data, weight._data)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    return linalg.Linear.apply(*inputs)


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """The rows of ``weight (num_embeddings, embedding_dim)`` at the integer ``input`` (any
    shape), ``-> input.shape + (embedding_dim,)``. The row ``padding_idx`` gets no gradient.
    ``max_norm`` (PyTorch's): first each row looked up whose ``norm_type``-norm is above
    ``max_norm`` is scaled, in ``weight`` itself (in place, not recorded), by
    ``max_norm / (norm + 1e-7)``."""
    op = "embedding"
    if scale_grad_by_freq or sparse:
        raise NotImplementedError(f"{op}: scale_grad_by_freq and sparse are not supported; "
                                  "leave them False")
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ArgumentValueError(f"{op}: weight must be a 2-D tensor (num_embeddings, embedding_dim), "
                                 f"got {getattr(weight, 'shape', type(weight).__name__)}")
    idx = input._data if isinstance(input, Tensor) else np.asarray(input)
    if idx.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{op}: the indices must be integers, got {idx.dtype}")
    v = weight.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= v):
        bad = int(idx.max()) if int(idx.max()) >= v else int(idx.min())
        raise IndexError(f"{op}: index {bad} is out of range for {v} embeddings (0 to {v - 1})")
    if padding_idx is not None:
        if not -v <= padding_idx < v:
            raise ArgumentValueError(f"{op}: padding_idx {padding_idx} must be within the {v} embeddings")
        padding_idx = int(padding_idx) % v
    if max_norm is not None:
        _embedding_renorm_(weight, idx, float(max_norm), float(norm_type))
    return movement.Embedding.apply(weight, indices=like(idx.astype(np.int64), weight._data),
                                    padding_idx=padding_idx)


def _embedding_renorm_(weight: Tensor, idx: Any, max_norm: float, norm_type: float) -> None:
    """PyTorch's ``embedding_renorm_``: each row of ``weight`` at the indices ``idx`` (once per
    row) whose norm is above ``max_norm`` is scaled by ``max_norm / (norm + 1e-7)``, in place,
    outside autograd; the version counter is bumped even when no row changes (PyTorch's in-place
    op)."""
    weight._version_counter[0] += 1
    if idx.size == 0:
        return
    xp = array_module(weight._data)
    rows = xp.unique(like(idx.reshape(-1).astype(np.int64), weight._data))
    w = weight._data
    acc = np.promote_types(w.dtype, np.float32)  # (a float16 row's norm in float32)
    norms = xp.linalg.norm(w[rows].astype(acc), ord=norm_type, axis=1).astype(np.float64)
    over = norms > max_norm
    if bool(over.any()):
        scale = (max_norm / (norms[over] + 1e-7)).astype(w.dtype)
        w[rows[over]] *= scale[:, None]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """``tensor (*)`` of int64 class indices -> ``(*, num_classes)`` int64 with a 1 at each index
    (``num_classes=-1``: the largest index + 1). No gradient (an integer result)."""
    op = "one_hot"
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(tensor).__name__}")
    num_classes = _int_of(num_classes)
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"{op}(): argument 'num_classes' must be an int, not "
                        f"{type(num_classes).__name__}")
    if tensor.dtype != np.int64:
        raise RuntimeError(f"{op}: the indices must be an int64 tensor, got {tensor.dtype}; "
                           "convert them with .long()")
    idx = tensor._data
    xp = array_module(idx)
    if idx.ndim >= 64:
        from tinygrad_cnn.tensor import too_many_dims

        raise ArgumentValueError(too_many_dims(op, idx.ndim + 1))
    if idx.size == 0:
        if num_classes <= 0:
            raise RuntimeError(f"{op}: can not infer the number of classes from an empty tensor "
                               f"(shape {tensor.shape}); pass num_classes")
        return Tensor._make(xp.zeros((*tensor.shape, int(num_classes)), dtype=np.int64))
    if int(idx.min()) < 0:
        raise RuntimeError(f"{op}: class values must be non-negative, got {int(idx.min())}")
    top = int(idx.max())
    if num_classes == -1:
        num_classes = top + 1
    elif top >= num_classes:
        raise RuntimeError(f"{op}: class values must be smaller than num_classes "
                           f"({num_classes}), got {top}")
    return Tensor._make((idx[..., None] == xp.arange(int(num_classes))).astype(np.int64))


def dropout(input: Tensor, p: float = 0.5, training: bool = True,
            inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``, while
    training; the identity otherwise. ``inplace`` multiplies ``input`` by the mask in place
    (``mul_``) and returns it."""
    _input(input, "dropout")
    p = _probability("dropout", p, training)
    if not 0.0 <= p <= 1.0:
        raise ArgumentValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    return _drop(input, p, inplace, input.shape, "dropout")


def _probability(op: str, p: Any, training: Any = True) -> float:
    """A dropout's ``p`` checked to be a number (a 0-d tensor read as its value, as PyTorch),
    and its ``training`` a bool (``training='no'`` dropped elements: a truthy string)."""
    check_training(op, training)
    check_number(op, "p", p, "0d")
    return p.item() if isinstance(p, Tensor) else p


def _drop(input: Tensor, p: float, inplace: bool, mask_shape: tuple[int, ...], op: str) -> Tensor:
    """``input`` times a mask of ``mask_shape`` (broadcast): 0 with probability ``p``, else
    ``1 / (1 - p)``; in place with ``inplace``."""
    if input.dtype.kind != "f":  # the 1 / (1 - p) scale: PyTorch refuses to cast it back
        raise RuntimeError(f"{op}: needs a floating-point tensor while training, got "
                           f"{input.dtype}; convert it with .float()")
    from tinygrad_cnn.random import generator

    if p == 1.0:
        return input.mul_(0.0) if inplace else input * 0.0
    keep = generator().random(mask_shape) >= p
    mask = Tensor._make(like((keep / (1.0 - p)).astype(input.dtype), input._data))
    return input.mul_(mask) if inplace else input * mask


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, op: str) -> Tensor:
    """Zero whole channels: one draw per ``(n, c)`` of ``(N, C, ...)`` (PyTorch's
    ``feature_dropout``), the rest scaled by ``1 / (1 - p)``, while training."""
    p = _probability(op, p, training)
    if not 0.0 <= p <= 1.0:
        raise ArgumentValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim < 2:
        raise RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the input, "
                           f"got shape {input.shape}")
    if not training or p == 0.0:
        return input
    return _drop(input, p, inplace, input.shape[:2] + (1,) * (input.ndim - 2), op)


def _unbatched_feature_dropout(input: Tensor, p: float, training: bool, inplace: bool,
                               op: str) -> Tensor:
    """``_feature_dropout`` of an input without its batch dim: one draw per channel."""
    p = _probability(op, p, training)
    if not 0.0 <= p <= 1.0:
        raise ArgumentValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return _drop(input, p, inplace, input.shape[:1] + (1,) * (input.ndim - 1), op)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` (each length-``L`` row) with probability
    ``p``, the rest scaled by ``1 / (1 - p)``, while training."""
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input (shape "
            f"{input.shape}). Note that dropout1d exists to provide channel-wise dropout on inputs "
            "with 1 spatial dimension, a channel dimension, and an optional batch dimension (i.e. "
            "2D or 3D inputs).")
    if input.ndim == 2:
        return _unbatched_feature_dropout(input, p, training, inplace, "dropout1d")
    return _feature_dropout(input, p, training, inplace, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels: each ``(H, W)`` plane of ``(N, C, H, W)`` with probability ``p``, the
    rest scaled by ``1 / (1 - p)``, while training. ``inplace`` multiplies ``input`` by the mask in
    place (``mul_``) and returns it. As PyTorch 2.13 (and with its warnings): a 3-D input is taken
    as ``(N, C, L)`` -- one draw per ``(n, c)``, not per channel of one ``(C, H, W)`` image -- and
    other ranks drop per ``(n, c)`` of their first two dims."""
    _input(input, "dropout2d")
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    return _feature_dropout(input, p, training, inplace, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` with probability ``p``, the
    rest scaled by ``1 / (1 - p)``, while training (other ranks: PyTorch's warning, and the
    first dim is taken as the channels)."""
    _input(input, "dropout3d")
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    if input.ndim != 5:
        if input.ndim < 1:
            raise RuntimeError("dropout3d: Feature dropout requires at least 2 dimensions in the "
                               f"input, got shape {input.shape}")
        return _unbatched_feature_dropout(input, p, training, inplace, "dropout3d")
    return _feature_dropout(input, p, training, inplace, "dropout3d")


def flatten(input: Tensor, start_dim: int = 1, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim`` to ``end_dim`` merged into one (a view where numpy can make one)."""
    return input.flatten(start_dim, end_dim)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` dims, PyTorch's order: ``(left, right, top, bottom, ...)``
    from the last dim backwards.

    ``mode``: ``"constant"`` (fill with ``value``, default 0), ``"reflect"`` (mirror about the
    edge, which is not repeated; each pad must be smaller than its dim), ``"replicate"`` (repeat
    the edge) or ``"circular"`` (wrap around; each pad at most its dim). The last three pad 1, 2
    or 3 trailing dims of an input with one or two more dims (``(N, C, W)``/``(C, W)`` for 1,
    ``(N, C, H, W)``/``(C, H, W)`` for 2, ...).

    A negative pad removes that many elements from its side, as in PyTorch 2.13: ``"constant"``
    and ``"circular"`` cut first and then pad what is left (circular wraps around the rest, as
    many times as a pad longer than the rest needs: ``(2, -2)`` of ``1 2 3`` is ``1 1 1``, as
    PyTorch's where its result is defined -- some of its layouts read memory they never wrote
    there, or refuse); ``"reflect"`` and ``"replicate"`` pad as if the
    negative side were 0 and then cut (``y[i]`` is what ``x[i - left]`` mirrors or clamps to);
    they may cut a dim to 0 elements (an empty result, as PyTorch's) but not all the padded dims
    (so not the one dim of a 1-dim pad: PyTorch's error). Where PyTorch's circular pad reads memory it never
    wrote (a cut of the whole dim and more, then a positive pad), this is a ``ValueError``."""
    op = "pad"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: the input must be a Tensor, got {type_name(input)}")
    if not isinstance(pad, (list, tuple)) or len(pad) % 2:  # (PyTorch's RuntimeError too)
        raise ArgumentTypeError(f"{op}: pad must be a tuple of ints, an even number of them ((left, "
                                f"right) per padded dim, from the last dim backwards), got {pad!r}")
    if mode not in _PAD_MODES:
        raise ArgumentValueError(f"{op}: mode must be one of {_PAD_MODES}, got {mode!r}")
    if mode == "constant":
        return input.pad(pad, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise ArgumentValueError(f"{op}: padding mode {mode!r} does not take a value (only 'constant' "
                                 "does)")
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: the input must be a Tensor, got {type_name(input)}")
    pad = tuple(_int_arg(p, op, "each padding") for p in pad)
    k = len(pad) // 2
    if len(pad) % 2 or k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"{op}: mode {mode!r} pads the last 1, 2 or 3 dims of an input with one or two more "
            f"dims ((C, W) or (N, C, W) for 2 pad values, (C, H, W) or (N, C, H, W) for 4, ...); "
            f"got {len(pad)} pad values for an input of shape {input.shape}")
    widths = _pad_widths(pad, input.shape)
    for axis, (b, a) in enumerate(widths):
        n = input.shape[axis]
        if axis >= input.ndim - k and n == 0:
            raise ArgumentValueError(f"{op}: cannot pad the empty dim {axis} of {input.shape} with mode "
                                     f"{mode!r}")
        if mode == "reflect" and (b or a) and max(b, a) >= n:  # (an unpadded dim may be empty)
            raise ArgumentValueError(f"{op}: with mode 'reflect' each padding must be smaller than its "
                                     f"dim; got ({b}, {a}) for dim {axis} of size {n} (input {input.shape})")
        left = n + min(b, 0) + min(a, 0)  # what negative pads leave of the dim
        if mode == "circular" and left < 0:
            raise ArgumentValueError(f"{op}: the negative padding ({b}, {a}) of dim {axis} removes "
                                     f"{n - left} elements, but it has {n} (input {input.shape}); remove "
                                     "at most the size of the dim")
        if mode == "circular" and max(b, a) > n:
            raise ArgumentValueError(f"{op}: with mode 'circular' each padding can be at most its dim "
                                     f"(PyTorch's rule: it wraps around once); got ({b}, {a}) for dim "
                                     f"{axis} of size {n} (input {input.shape})")
        if mode == "circular" and max(b, a) > 0 and left == 0:
            raise ArgumentValueError(f"{op}: with mode 'circular' the negative padding ({b}, {a}) of dim "
                                     f"{axis} (size {n}) leaves nothing to wrap around (input "
                                     f"{input.shape})")
        # (a padding past what a negative one left wraps around the cut dim again, as PyTorch's
        # does where it reads its own values: (-1, 4) of 0 1 2 3 is 1 2 3 1 2 3 1)
        if mode in ("reflect", "replicate") and n + b + a < 0:
            raise ArgumentValueError(f"{op}: with mode {mode!r} the padding ({b}, {a}) of dim {axis} "
                                     f"(size {n}) leaves {n + b + a} elements; at least 0 must be left "
                                     f"(input {input.shape})")
    if mode in ("reflect", "replicate"):
        sizes = [input.shape[i] + b + a for i, (b, a) in enumerate(widths)][input.ndim - k:]
        if max(sizes) < 1:  # (PyTorch's rule: one padded dim may be cut to 0, not all of them)
            raise ArgumentValueError(f"{op}: with mode {mode!r} the padding {pad} leaves "
                                     f"{' x '.join(map(str, sizes))} elements of the last {k} dims of "
                                     f"{input.shape}; at least 1 must be left in one of them")
    return movement.Pad.apply(input, pad=widths, mode=mode)


# ------------------------------------------------------------------------------ more families
# The rest of torch.nn.functional that this package has, one family per file (they use the
# helpers above, so they are imported last).
from tinygrad_cnn.nn.functional_1d import (  # noqa: E402
    adaptive_avg_pool1d,
    adaptive_max_pool1d,
    adaptive_max_pool1d_with_indices,
    avg_pool1d,
    conv1d,
    conv_transpose1d,
    lp_pool1d,
    max_pool1d,
    max_pool1d_with_indices,
    max_unpool1d,
)
from tinygrad_cnn.nn.functional_activation import (  # noqa: E402
    _inplace_or_new,
    celu,
    celu_,
    elu,
    elu_,
    gelu,
    glu,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu_,
    logsigmoid,
    mish,
    prelu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    silu,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from tinygrad_cnn.nn.functional_attention import scaled_dot_product_attention  # noqa: E402
from tinygrad_cnn.nn.functional_distance import (  # noqa: E402
    cosine_similarity,
    pairwise_distance,
    pdist,
)
from tinygrad_cnn.nn.functional_dropout import (  # noqa: E402
    alpha_dropout,
    feature_alpha_dropout,
)
from tinygrad_cnn.nn.functional_linear import bilinear  # noqa: E402
from tinygrad_cnn.nn.functional_loss import (  # noqa: E402
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    gaussian_nll_loss,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    poisson_nll_loss,
    smooth_l1_loss,
)
from tinygrad_cnn.nn.functional_loss_margin import (  # noqa: E402
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from tinygrad_cnn.nn.functional_norm import (  # noqa: E402
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
    local_response_norm,
    normalize,
    rms_norm,
)
from tinygrad_cnn.nn.functional_pool import lp_pool2d, max_unpool2d  # noqa: E402
from tinygrad_cnn.nn.functional_resample import (  # noqa: E402
    adaptive_avg_pool2d,
    adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices,
    channel_shuffle,
    interpolate,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)


def __getattr__(name: str) -> Any:
    # (a PyTorch name this module lacks: the error says what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
