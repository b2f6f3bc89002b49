"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax.

These are the tutorial's "activators" (``ReluActivator.backward`` is the ``out > 0`` mask below,
``SigmoidActivator.backward`` is ``out * (1 - out)``), as ops whose VJPs are Tensor expressions:
where a VJP uses the op's own output, the output is saved and comes back connected to the graph,
so second derivatives are right too.
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.ops.elementwise import keep
from tinygrad_cnn.tensor import Tensor


class ReLU(Function):
    """``max(x, 0)``; the gradient at 0 is 0 (PyTorch's choice)."""

    name = "relu"

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return keep(g, ~(out.data <= 0))  # exact 0 where out <= 0; NaN passes (as PyTorch)


class LeakyReLU(Function):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise."""

    name = "leaky_relu"

    @staticmethod
    def forward(ctx: Context, x: Any, negative_slope: float = 0.01) -> Any:
        xp = array_module(x)
        slope = xp.where(x > 0, x.dtype.type(1), x.dtype.type(negative_slope))
        ctx.save_for_backward(slope)
        return x * slope

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (slope,) = ctx.saved_tensors
        return g * slope


class Sigmoid(Function):
    """``1 / (1 + exp(-x))``, computed as ``(1 + tanh(x / 2)) / 2`` so it never overflows."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = array_module(x)
        out = xp.tanh(x * x.dtype.type(0.5))
        out += 1
        out *= x.dtype.type(0.5)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * out * (1 - out)


class Tanh(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * (1 - out * out)


def softmax_array(x: Any, dim: int) -> Any:
    """Stable softmax on an array: subtract the max first, so logits in the thousands are fine."""
    xp = array_module(x)
    if x.size == 0:
        return x.copy()
    e = xp.exp(x - x.max(axis=dim, keepdims=True))
    e /= e.sum(axis=dim, keepdims=True)
    return e


def log_softmax_array(x: Any, dim: int) -> Any:
    """Stable log-softmax on an array: ``x - max - log(sum(exp(x - max)))``."""
    xp = array_module(x)
    if x.size == 0:
        return x.copy()
    shifted = x - x.max(axis=dim, keepdims=True)
    shifted -= xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
    return shifted


class Softmax(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, dim: int = -1) -> Any:
        out = softmax_array(x, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        # J^T g = y * (g - <g, y>) along dim
        (out,) = ctx.saved_tensors
        return out * (g - (g * out).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    name = "log_softmax"

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int = -1) -> Any:
        out = log_softmax_array(x, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        # J^T g = g - softmax * sum(g) along dim; softmax = exp(log_softmax)
        (out,) = ctx.saved_tensors
        return g - out.exp() * g.sum(ctx.dim, keepdim=True)
