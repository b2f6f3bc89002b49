"""Normalisation layers with PyTorch's parameters and buffers (``weight``, ``bias``,
``running_mean``, ``running_var``, ``num_batches_tracked``): BatchNorm1d/2d/3d,
InstanceNorm1d/2d/3d, LayerNorm, RMSNorm, GroupNorm; and LocalResponseNorm (no parameters)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.backend import ArgumentValueError
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.functional_norm import _int_shape  # (F.layer_norm's reading: t178)
from tinygrad_cnn.nn.layers.basic import check_sizes
from tinygrad_cnn.nn.module import Module, Parameter
from tinygrad_cnn.tensor import Tensor


def _ones_zeros(weight: Tensor | None, bias: Tensor | None) -> None:
    if weight is not None:
        init.ones_(weight)
    if bias is not None:
        init.zeros_(bias)


class _Norm(Module):
    """Per-channel affine parameters (ones and zeros) and, optionally, running statistics."""

    _version = 2  # (PyTorch's _NormBase: num_batches_tracked is in its state_dict since 2)

    def __init__(self, num_features: int, eps: float, momentum: float | None, affine: bool,
                 track_running_stats: bool, bias: bool = True) -> None:
        super().__init__()
        check_sizes(type(self).__name__, num_features=num_features)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        # what is off is registered as None, as in PyTorch: a tensor assigned there later is a
        # buffer (saved, moved, cast), a parameter's name takes only a Parameter
        self.register_parameter("weight", Parameter(np.ones(num_features, dtype=np.float32))
                                if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_features, dtype=np.float32))
                                if affine and bias else None)
        on = track_running_stats
        self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=np.float32))
                             if on else None)
        self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=np.float32))
                             if on else None)
        self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64))
                             if on else None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0
            for t in (self.running_mean, self.running_var, self.num_batches_tracked):
                t._version_counter[0] += 1

    def reset_parameters(self) -> None:
        """Running statistics back to 0 and 1 (none counted), ``weight`` to ones, ``bias`` to
        zeros, in place."""
        self.reset_running_stats()
        _ones_zeros(self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_Norm):
    """``bias=False`` (PyTorch's keyword): a learned scale and no shift."""

    _shapes = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias)
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def _check(self, x: Tensor) -> None:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        x = input
        self._check(x)
        if x.shape[1] != self.num_features:
            raise ArgumentValueError(f"{type(self).__name__}({self.num_features}): expected {self._shapes} "
                             f"with C = {self.num_features}, got {x.shape}")
        # PyTorch's _BatchNorm.forward, read afresh on every call (so that flags and buffers
        # changed after construction count): the buffers move and the batch is counted only while
        # training with track_running_stats; the batch statistics normalise while training and in
        # eval mode when there are no running statistics; the buffers are passed only where they
        # are either read or updated
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._version_counter[0] += 1
            if self.momentum is None:  # a cumulative average
                momentum = 1.0 / int(self.num_batches_tracked._data)
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        pass_buffers = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if pass_buffers else None,
                            self.running_var if pass_buffers else None, self.weight, self.bias,
                            use_batch, momentum, self.eps)


class BatchNorm1d(_BatchNorm):
    """Normalise each feature over the batch: ``(N, C)`` or ``(N, C, L)``."""

    _shapes = "(N, C) or (N, C, L)"

    def _check(self, x: Tensor) -> None:
        if x.ndim not in (2, 3):
            raise ArgumentValueError(f"BatchNorm1d: expected a 2-D or 3-D input {self._shapes}, got "
                             f"{x.ndim}-D {x.shape}")


class BatchNorm2d(_BatchNorm):
    """Normalise each channel over ``(N, H, W)``: batch statistics while training (and running
    averages updated with ``momentum``), the running averages in eval mode."""

    _shapes = "(N, C, H, W)"

    def _check(self, x: Tensor) -> None:
        if x.ndim != 4:
            raise ArgumentValueError(f"BatchNorm2d: expected a 4-D input {self._shapes}, got {x.ndim}-D "
                             f"{x.shape}")


class BatchNorm3d(_BatchNorm):
    """Normalise each channel over ``(N, D, H, W)`` of a volume batch ``(N, C, D, H, W)``."""

    _shapes = "(N, C, D, H, W)"

    def _check(self, x: Tensor) -> None:
        if x.ndim != 5:
            raise ArgumentValueError(f"BatchNorm3d: expected a 5-D input {self._shapes}, got {x.ndim}-D "
                             f"{x.shape}")


class _InstanceNorm(_Norm):
    """Normalise each channel of each sample over its ``_spatial`` trailing dims; an unbatched
    input (one dim fewer) works too. No parameters and no running statistics by default
    (PyTorch's defaults)."""

    _spatial = 2
    _shapes = "(N, C, H, W) or a 3-D one (C, H, W)"

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False,
                 device: Any = None, dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, bias)
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def forward(self, input: Tensor) -> Tensor:
        x = input
        name, batched = type(self).__name__, self._spatial + 2
        if x.ndim not in (batched - 1, batched):
            raise ArgumentValueError(f"{name}: expected a {batched}-D input {self._shapes}, got "
                             f"{x.ndim}-D {x.shape}")
        unbatched = x.ndim == batched - 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.shape[1] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ArgumentValueError(f"{name}({self.num_features}): the input {x.shape} has "
                                 f"{x.shape[1]} channels")
            warnings.warn(f"{name}: input's size at dim={1 - unbatched} does not match "
                          "num_features. You can silence this warning by not passing in "
                          "num_features, which is not used because affine=False",
                          UserWarning, stacklevel=2)
        use_input_stats = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum  # (PyTorch counts no batches)
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              use_input_stats, momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Normalise each channel of each sample over ``L``; ``(N, C, L)`` or ``(C, L)``."""

    _spatial = 1
    _shapes = "(N, C, L) or a 2-D one (C, L)"


class InstanceNorm2d(_InstanceNorm):
    """Normalise each channel of each image over ``(H, W)``; ``(N, C, H, W)`` or ``(C, H, W)``."""


class InstanceNorm3d(_InstanceNorm):
    """Normalise each channel of each volume over ``(D, H, W)``; ``(N, C, D, H, W)`` or
    ``(C, D, H, W)``."""

    _spatial = 3
    _shapes = "(N, C, D, H, W) or a 4-D one (C, D, H, W)"


class LocalResponseNorm(Module):
    """AlexNet's normalisation across channels (see ``F.local_response_norm``): each value divided
    by ``(k + alpha / size * sum of the squares of its size neighbouring channels) ** beta``."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LayerNorm(Module):
    """Normalise over the last ``len(normalized_shape)`` dims of each sample; ``weight`` and
    ``bias`` (``elementwise_affine``) have ``normalized_shape``."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _int_shape(normalized_shape, type(self).__name__)
        check_sizes(type(self).__name__, normalized_shape=self.normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.register_parameter("weight", Parameter(np.ones(self.normalized_shape, np.float32))
                                if elementwise_affine else None)
        self.register_parameter("bias", Parameter(np.zeros(self.normalized_shape, np.float32))
                                if elementwise_affine and bias else None)
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """``weight`` to ones, ``bias`` to zeros, in place."""
        _ones_zeros(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class RMSNorm(Module):
    """Root-mean-square normalisation over the last ``len(normalized_shape)`` dims of each
    sample, ``x / sqrt(mean(x²) + eps) * weight``; ``weight`` (``elementwise_affine``) has
    ``normalized_shape`` and starts at ones. ``eps=None``: the dtype's machine epsilon."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _int_shape(normalized_shape, type(self).__name__)
        check_sizes(type(self).__name__, normalized_shape=self.normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.register_parameter("weight", Parameter(np.ones(self.normalized_shape, np.float32))
                                if elementwise_affine else None)
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """``weight`` to ones, in place."""
        _ones_zeros(self.weight, None)

    def forward(self, x: Tensor) -> Tensor:  # (PyTorch's RMSNorm names it x)
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class GroupNorm(Module):
    """Normalise each of ``num_groups`` channel groups of each sample; per-channel ``weight`` and
    ``bias`` (``affine``; ``bias=False``: no shift)."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        check_sizes("GroupNorm", num_groups=num_groups, num_channels=num_channels)
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide "
                             f"num_channels={num_channels}")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        self.register_parameter("weight", Parameter(np.ones(num_channels, dtype=np.float32))
                                if affine else None)
        self.register_parameter("bias", Parameter(np.zeros(num_channels, dtype=np.float32))
                                if affine and bias else None)
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """``weight`` to ones, ``bias`` to zeros, in place."""
        _ones_zeros(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if (input.ndim < 2 or input.shape[1] != self.num_channels) and (
                self.weight is not None or self.bias is not None):  # (without them, num_channels
            # is not used: PyTorch runs it)
            raise ArgumentValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected an "
                             f"input (N, {self.num_channels}, ...), got {input.shape}")
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
