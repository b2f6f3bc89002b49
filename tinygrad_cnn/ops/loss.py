"""Losses: cross_entropy (log_softmax and nll fused), nll_loss, mse_loss.

``reduction`` is ``"mean"`` (over the batch), ``"sum"`` or ``"none"`` (one loss per sample).
``target`` holds class indices (an int array, no gradient). ``nn/functional.py`` checks shapes and
classes and flattens extra spatial dims, so these see ``logits (N, C)`` and ``target (N,)``.
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.ops.activation import Softmax, log_softmax_array
from tinygrad_cnn.ops.movement import ScatterAdd
from tinygrad_cnn.tensor import Tensor


def _reduce(losses: Any, reduction: str) -> Any:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _nll(logp: Any, target: Any) -> Any:
    """``-logp[n, target[n]]`` for every sample: ``(N, C), (N,) -> (N,)``."""
    return -array_module(logp).take_along_axis(logp, target[:, None], axis=1)[:, 0]


def _per_sample(g: Tensor, n: int, reduction: str) -> Tensor:
    """The gradient of the reduction, as one factor per sample, shaped ``(N, 1)``."""
    if reduction == "none":
        return g.reshape(n, 1)
    scale = g / n if reduction == "mean" else g
    return scale.reshape(1, 1).expand(n, 1)


class CrossEntropy(Function):
    """``-log_softmax(logits)[target]`` in one op: the stable log-softmax of the logits, picked at
    the target class. VJP: ``(softmax(logits) - onehot(target)) * g`` -- written with the softmax
    op, so second derivatives flow."""

    name = "cross_entropy"

    @staticmethod
    def forward(ctx: Context, logits: Any, target: Any = None, reduction: str = "mean") -> Any:
        ctx.save_for_backward(logits)
        ctx.target = target
        return _reduce(_nll(log_softmax_array(logits, 1), target), reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (logits,) = ctx.saved_tensors
        xp = array_module(logits.data)
        n, c = logits.shape
        onehot = xp.zeros((n, c), dtype=logits.dtype)
        onehot[xp.arange(n), ctx.target] = 1
        return (Softmax.apply(logits, dim=1) - onehot) * _per_sample(g, n, ctx.attrs["reduction"])


class NLLLoss(Function):
    """``-logp[target]`` for log-probabilities ``logp (N, C)``. VJP: ``-g`` scattered onto the
    target class (a scatter_add, whose own VJP gathers)."""

    name = "nll_loss"

    @staticmethod
    def forward(ctx: Context, logp: Any, target: Any = None, reduction: str = "mean") -> Any:
        ctx.target, ctx.classes = target, logp.shape[1]
        return _reduce(_nll(logp, target), reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        n = ctx.target.shape[0]
        picked = -_per_sample(g, n, ctx.attrs["reduction"])  # (N, 1)
        return ScatterAdd.apply(picked, index=ctx.target[:, None], dim=1, size=ctx.classes,
                                unique=True)


class MSELoss(Function):
    """``(x - y)**2``, reduced. VJP: ``2 (x - y) g / n`` for ``x`` and its negative for ``y``."""

    name = "mse_loss"

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, reduction: str = "mean") -> Any:
        ctx.save_for_backward(x, y)
        d = x - y
        return _reduce(d * d, reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        reduction = ctx.attrs["reduction"]
        scale = g * (2.0 / x.numel()) if reduction == "mean" else g * 2.0
        if reduction != "none":
            scale = scale.reshape((1,) * x.ndim).expand(x.shape)
        gx = (x - y) * scale
        nx, ny = ctx.needs_input_grad
        return (gx if nx else None), (-gx if ny else None)
