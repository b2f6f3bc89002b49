"""Basic layers: Linear, Bilinear, Identity, Flatten, Unflatten, Dropout, Dropout1d-3d,
AlphaDropout, FeatureAlphaDropout, Embedding; and the helpers of PyTorch's default initialisation
that every layer file uses."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn._scalars import check_number
from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.backend import ArgumentValueError
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.module import Module, Parameter
from tinygrad_cnn.tensor import Tensor


def check_sizes(layer: str, **sizes: Any) -> None:
    """A layer constructor's sizes: non-negative ints (numpy's "negative dimensions are not
    allowed" named neither the layer nor the argument)."""
    for name, size in sizes.items():
        for v in size if isinstance(size, tuple) else (size,):
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{layer}: {name} must be an int (or ints), got {size!r}")
            if v < 0:
                raise ValueError(f"{layer}: {name} must be non-negative, got {size!r}")


def _empty(*shape: int) -> Parameter:
    """A float32 parameter of ``shape`` for a layer's constructor to initialise; a size that is
    not a non-negative int is an error naming the layer."""
    owner = sys._getframe(1).f_locals.get("self")
    check_sizes(type(owner).__name__ if owner is not None else "a layer",
                **{"the sizes (in_features, out_features, ...) of its parameter": shape})
    return Parameter(np.zeros(shape, dtype=np.float32))


def _reset_like_pytorch(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default: Kaiming-uniform with ``a = sqrt(5)`` (weights in ``±1/sqrt(fan_in)``),
    the bias uniform in the same range."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init.calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Linear(Module):
    """``y = x @ weight.T + bias``; ``weight (out_features, in_features)``."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features)
        self.register_parameter("bias", _empty(out_features) if bias else None)  # None: registered
        self.reset_parameters()
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """The constructor's initialisation again (PyTorch's Kaiming-uniform), in place."""
        _reset_like_pytorch(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y = x1^T A x2 + b`` (``F.bilinear``): ``weight (out_features, in1_features,
    in2_features)``, ``bias (out_features,)``; inputs ``(*, in1_features)`` and ``(*,
    in2_features)`` with the same leading dims. PyTorch's initialisation: weight and bias uniform in
    ``±1/sqrt(in1_features)``."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        for name, n in (("in2_features", in2_features), ("out_features", out_features)):
            if n < 0:
                raise RuntimeError(f"Bilinear: Trying to create tensor with negative dimension "
                                   f"{n}: {name}={n}")
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        self.weight = _empty(out_features, max(in1_features, 0), in2_features)
        self.register_parameter("bias", _empty(out_features) if bias else None)
        self.reset_parameters()
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """The constructor's initialisation again: weight and bias uniform in
        ``±1/sqrt(in1_features)``, in place (PyTorch's; ``in1_features`` must be positive)."""
        if self.in1_features <= 0:
            raise ValueError(f"in1_features must be > 0, but got (in1_features="
                             f"{self.in1_features})")
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Identity(Module):
    """Returns its input (a placeholder, e.g. for a removed layer); takes and ignores any
    constructor arguments, as PyTorch's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


class Flatten(Module):
    """Dims ``start_dim`` to ``end_dim`` merged into one (``Tensor.flatten``)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size`` (one entry may be -1):
    ``Unflatten(1, (16, 7, 7))`` turns ``(N, 784)`` into ``(N, 16, 7, 7)``."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(int(s) for s in unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim == 0:
            raise ValueError("Unflatten: the input is 0-d; there is no dim to split")
        d = self.dim % input.ndim if -input.ndim <= self.dim < input.ndim else None
        if d is None:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for the input {input.shape}")
        sizes = self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        ok = input.shape[d] == known if -1 not in sizes else known and input.shape[d] % known == 0
        if not ok or sizes.count(-1) > 1:
            # (forward-time, PyTorch's RuntimeError: a ValueError and RuntimeError -- t191)
            raise ArgumentValueError(f"Unflatten: cannot split dim {d} of size {input.shape[d]} "
                                     f"(input {input.shape}) into {sizes}; the sizes must "
                                     f"multiply to {input.shape[d]}")
        return input.reshape(input.shape[:d] + sizes + input.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """While training, each element zeroed with probability ``p`` and the rest scaled by ``1 / (1 -
    p)``; the identity in eval (``F.dropout``)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        check_number(type(self).__name__, "p", p, "0d")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: p must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of ``(N, C, L)`` or ``(C, L)`` with probability ``p`` while training."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(Dropout):
    """Zero whole channels of ``(N, C, H, W)`` with probability ``p`` while training (adjacent
    pixels are correlated, so dropping single pixels regularises little). A 3-D input is taken as
    ``(N, C, L)``, with PyTorch 2.13's warning."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(Dropout):
    """Zero whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` with probability ``p`` while
    training."""

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(Dropout):
    """Alpha dropout (``F.alpha_dropout``) while training, for SELU networks: a dropped element is
    set to SELU's negative saturation and the result is scaled and shifted so that an input of
    mean 0 and variance 1 keeps them; the identity in eval mode. As PyTorch's, ``forward`` leaves
    the input alone whatever ``inplace`` says (the flag is kept and shown in the repr only)."""

    def forward(self, input: Tensor) -> Tensor:
        return F.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels (``F.feature_alpha_dropout``): one draw per ``(n, c)`` of
    ``(N, C, *)`` while training; the identity in eval mode. As PyTorch's, ``forward`` leaves the
    input alone whatever ``inplace`` says."""

    def forward(self, input: Tensor) -> Tensor:
        return F.feature_alpha_dropout(input, self.p, self.training)


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight (num_embeddings, embedding_dim)`` for index ``i``.
    ``weight`` starts as standard normal draws; the ``padding_idx`` row starts at zero and gets no
    gradient."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False,
                 _weight: Tensor | None = None, _freeze: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        # PyTorch's attributes, checked again at every call (one may be set after construction)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self._check_supported()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within the "
                                 f"{num_embeddings} embeddings")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = _empty(num_embeddings, embedding_dim)
            self.reset_parameters()
            self.weight.requires_grad_(not _freeze)
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}, expected "
                                 f"{(num_embeddings, embedding_dim)}")
            # (a tensor's memory shared, as PyTorch's Parameter(_weight): was a copy, so max_norm
            # left the caller's tensor as it was and its later changes did not reach the layer)
            self.weight = Parameter(_weight, requires_grad=not _freeze)
        self.to(device=device, dtype=dtype)  # PyTorch's factory arguments

    def reset_parameters(self) -> None:
        """Standard normal draws again, the ``padding_idx`` row zero, in place."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight._data[self.padding_idx] = 0
                self.weight._version_counter[0] += 1

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True,
                        padding_idx: int | None = None, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """An Embedding whose weight is ``embeddings (num, dim)`` itself (its memory, as in
        PyTorch: ``max_norm`` renormalises its rows in place); ``freeze`` keeps it fixed. The
        other arguments are the constructor's."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got "
                             f"{embeddings.shape}")
        return cls(*embeddings.shape, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                   _weight=embeddings, _freeze=freeze)

    def _check_supported(self) -> None:
        for attr, off in (("scale_grad_by_freq", False), ("sparse", False)):
            value = getattr(self, attr)
            if value is not off and value != off:
                raise NotImplementedError(
                    f"Embedding: {attr}={value} is not supported (scale_grad_by_freq and sparse "
                    f"are not implemented); set it back to {off}")

    def forward(self, input: Any) -> Tensor:
        """The rows at the indices ``input``; with ``max_norm``, the rows looked up are first
        renormalised in ``weight`` itself (see ``F.embedding``)."""
        self._check_supported()
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    def extra_repr(self) -> str:  # PyTorch's: what differs from the defaults
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s
