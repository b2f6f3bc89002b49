"""PyTorch's top-level spellings of ``nn.functional`` ops (``torch.conv2d``, ``torch.dropout``,
``torch.layer_norm``, ``torch.relu_``, ...), which ported code calls as ``torch.*``. Each takes
PyTorch's top-level arguments -- which differ from ``F``'s in places: ``torch.dropout(input, p,
train)`` has no defaults, ``torch.batch_norm`` takes the weight and bias before the running
statistics, ``torch.embedding(weight, indices)`` the weight first -- and calls the ``F`` op."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.ops.shape import vstack
from tinygrad_cnn.tensor import Tensor, as_tensor

__all__ = ["adaptive_avg_pool1d", "adaptive_max_pool1d", "alpha_dropout", "asarray", "avg_pool1d",
           "batch_norm", "bilinear", "celu", "celu_", "channel_shuffle", "conv1d", "conv2d",
           "conv_transpose1d", "conv_transpose2d", "cosine_similarity", "dropout", "embedding",
           "feature_alpha_dropout", "group_norm", "hardshrink", "instance_norm", "kl_div",
           "layer_norm", "matrix_power", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
           "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle", "prelu", "relu_",
           "rms_norm", "row_stack", "rrelu", "rrelu_", "selu", "selu_", "sigmoid_", "tanh_",
           "threshold", "threshold_", "zero_"]

# the same arguments as F's
conv1d, conv2d = F.conv1d, F.conv2d
conv_transpose1d, conv_transpose2d = F.conv_transpose1d, F.conv_transpose2d
cosine_similarity, pairwise_distance, pdist = F.cosine_similarity, F.pairwise_distance, F.pdist
pixel_shuffle, pixel_unshuffle, channel_shuffle = F.pixel_shuffle, F.pixel_unshuffle, \
    F.channel_shuffle
avg_pool1d, adaptive_avg_pool1d = F.avg_pool1d, F.adaptive_avg_pool1d
prelu, selu, celu, hardshrink, bilinear = F.prelu, F.selu, F.celu, F.hardshrink, F.bilinear
selu_, celu_, threshold_, rrelu, rrelu_ = F.selu_, F.celu_, F.threshold_, F.rrelu, F.rrelu_
rms_norm = F.rms_norm
row_stack = vstack

#: ``torch.kl_div``'s reduction is the C++ enum: 0 none, 1 mean, 2 sum
_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def kl_div(input: Tensor, target: Tensor, reduction: int = 0, *,
           log_target: bool = False) -> Tensor:
    """``torch.kl_div``: ``reduction`` an int (0 none -- its default at the top level --, 1 the
    mean over every element, 2 the sum), not ``F.kl_div``'s string."""
    if isinstance(reduction, bool) or reduction not in _REDUCTIONS:
        raise ValueError(f"kl_div: reduction must be 0 (none), 1 (mean) or 2 (sum) at the top "
                         f"level (torch.kl_div's enum), got {reduction!r}; F.kl_div takes "
                         "'none', 'mean', 'batchmean' or 'sum'")
    if reduction == 1:  # (the plain mean, without F's advice to use batchmean)
        return F.kl_div(input, target, reduction="none", log_target=log_target).mean()
    return F.kl_div(input, target, reduction=_REDUCTIONS[reduction], log_target=log_target)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False) -> Any:
    """``torch.max_pool1d_with_indices``: ``(output, indices)``."""
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode,
                        return_indices=True)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """``torch.max_pool1d`` (no ``return_indices``; ``stride=()`` means the kernel size)."""
    return F.max_pool1d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False) -> Tensor:
    """``torch.max_pool2d`` (no ``return_indices``; ``stride=()`` means the kernel size)."""
    return F.max_pool2d(input, kernel_size, stride or None, padding, dilation, ceil_mode)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple[Tensor, Tensor]:
    """``torch.adaptive_max_pool1d``: the values and their indices, as PyTorch's top-level form
    returns both."""
    return F.adaptive_max_pool1d(input, output_size, return_indices=True)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """``F.threshold``: ``x`` where ``x > threshold``, else ``value`` (PyTorch's top-level alias)."""
    return F.threshold(input, threshold, value)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``torch.dropout(input, p, train)``: ``F.dropout`` with every argument given."""
    return F.dropout(input, p, train)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``F.alpha_dropout``: dropout that keeps a SELU network's mean and variance (PyTorch's top-level
    alias)."""
    return F.alpha_dropout(input, p, train)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """``F.feature_alpha_dropout``: alpha dropout of whole channels (PyTorch's top-level alias)."""
    return F.feature_alpha_dropout(input, p, train)


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:
    """``torch.layer_norm`` (``cudnn_enable`` is accepted and changes nothing)."""
    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:
    """``torch.group_norm`` (``cudnn_enabled`` is accepted and changes nothing)."""
    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
               running_mean: Tensor | None, running_var: Tensor | None, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool = True) -> Tensor:
    """``torch.batch_norm``: PyTorch's top-level order -- weight and bias before the running
    statistics, every one given -- of ``F.batch_norm``."""
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                  running_mean: Tensor | None, running_var: Tensor | None, use_input_stats: bool,
                  momentum: float, eps: float, cudnn_enabled: bool = True) -> Tensor:
    """``torch.instance_norm``: PyTorch's top-level order of ``F.instance_norm``."""
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def embedding(weight: Tensor, indices: Any, padding_idx: int = -1,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``torch.embedding(weight, indices)``: the weight first (``F.embedding`` takes the indices
    first); ``padding_idx=-1`` means none, as PyTorch's top-level form."""
    return F.embedding(indices, weight, padding_idx=None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def relu_(input: Tensor) -> Tensor:
    """``relu`` in place (a version bump: a saved copy of this tensor refuses backward)."""
    return input.relu_()


def sigmoid_(input: Tensor) -> Tensor:
    """``sigmoid`` in place (a version bump: a saved copy of this tensor refuses backward)."""
    return input.sigmoid_()


def tanh_(input: Tensor) -> Tensor:
    """``tanh`` in place (a version bump: a saved copy of this tensor refuses backward)."""
    return input.tanh_()


def zero_(input: Tensor) -> Tensor:
    """Fill with zeros in place (a version bump); the gradient to what came before is 0."""
    return input.zero_()


def asarray(obj: Any, *, dtype: Any = None, device: str | None = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """``torch.asarray``: ``as_tensor`` (shares a numpy array's or tensor's memory where it can),
    a copy with ``copy=True``; ``copy=False`` where a copy is needed is an error."""
    out = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        out = out.detach().clone() if out is obj or isinstance(obj, Tensor) else out.clone()
    elif copy is False and isinstance(obj, Tensor) and out is not obj and \
            out._data is not obj._data:
        raise ValueError("asarray: copy=False, but the dtype or device asked for needs a copy")
    if requires_grad:
        out = out.detach() if out is obj else out
        out.requires_grad_()
    return out


def matrix_power(input: Tensor, n: int) -> Tensor:
    """``torch.matrix_power``: ``input @ input @ ...`` (n times) of each square matrix of a batch;
    the identity for n = 0, the inverse's power for n < 0."""
    return input.matrix_power(n)
