"""Losses: cross_entropy (log_softmax and nll fused), nll_loss, mse_loss, smooth_l1_loss,
huber_loss, binary_cross_entropy, binary_cross_entropy_with_logits, kl_div, soft_margin_loss.

``reduction`` is ``"mean"``, ``"sum"`` or ``"none"`` (one loss per element or sample). Class
targets are int arrays (no gradient); ``nn/functional_loss.py`` checks shapes and classes and
flattens extra spatial dims, so the class losses see ``logits (N, C)`` and ``target (N,)``.
Class weights and ``pos_weight`` are constant arrays (PyTorch refuses to differentiate them too).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd import (
    Context,
    Difference,
    Function,
    _state,
    first_order,
)
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.ops.activation import (
    LogSoftmax,
    Sigmoid,
    Softplus,
    _sigmoid_array,
    log_softmax_array,
)
from tinygrad_cnn.ops.elementwise import keep
from tinygrad_cnn.ops.movement import ScatterAdd
from tinygrad_cnn.ops.reduce import _wide, array_mean
from tinygrad_cnn.tensor import Tensor, where


def _reduce(losses: Any, reduction: str) -> Any:
    if reduction == "mean":
        if not losses.size:  # NaN, as PyTorch, without numpy's "Mean of empty slice" warning
            return array_module(losses).asarray(np.nan, dtype=losses.dtype)
        with np.errstate(all="ignore"):  # (inf - inf: NaN, as PyTorch, without numpy's warning)
            return array_mean(losses)
    if reduction == "sum":
        with np.errstate(all="ignore"):
            return losses.sum()
    return losses


def _nll(logp: Any, target: Any) -> Any:
    """``-logp[n, target[n]]`` for every sample: ``(N, C), (N,) -> (N,)`` (one fancy index:
    numpy's take_along_axis builds its index grid in Python, 6 µs of a 16-sample loss)."""
    return -logp[array_module(logp).arange(target.shape[0]), target]


def _per_sample(g: Tensor, n: int, reduction: str) -> Tensor:
    """The gradient of the reduction, as one factor per sample, shaped ``(N, 1)``."""
    if reduction == "none":
        return g.reshape(n, 1)
    scale = g / max(n, 1) if reduction == "mean" else g  # (n = 0: no sample to scale)
    return scale.reshape(1, 1).expand(n, 1)


def _weighted_mean_factors(w: Any, ignored: Any, total: Any) -> Any:
    """``w_n / total`` per sample as ``(N, 1)``, exactly 0 for ignored samples (``ignored``: their
    mask, None where there are none; PyTorch's gradient skips them, so it stays 0 even when all
    are ignored and the loss is 0 / 0)."""
    xp = array_module(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        factors = w / total if ignored is None else xp.where(ignored, 0, w / total)
        return factors.reshape(-1, 1).astype(w.dtype, copy=False)


def _spread_array(g: Any, shape: tuple[int, ...], reduction: str) -> Any:
    """:func:`_spread` on the arrays (a first-order VJP), op for op."""
    if reduction == "none":
        return g
    scale = g / max(int(np.prod(shape)), 1) if reduction == "mean" else g
    return np.broadcast_to(scale.reshape((1,) * len(shape)), shape)


def _spread(g: Tensor, shape: tuple[int, ...], reduction: str) -> Tensor:
    """The gradient of an elementwise loss's reduction, broadcast over the elements."""
    if reduction == "none":
        return g
    scale = g / max(int(np.prod(shape)), 1) if reduction == "mean" else g
    return scale.reshape((1,) * len(shape)).expand(shape)


def class_weights(target: Any, weight: Any, ignore_index: int, dtype: Any
                  ) -> tuple[Any, Any, Any]:
    """``(target with ignored entries set to class 0, each sample's weight, the ignored mask)``;
    the weight is ``weight[target]`` (1 without class weights) and 0 where ignored."""
    xp = array_module(target)
    ignored = target == ignore_index
    safe = xp.where(ignored, 0, target)
    w = xp.ones(target.shape, dtype=dtype) if weight is None else weight[safe].astype(dtype)
    w[ignored] = 0
    return safe, w, ignored


class CrossEntropy(Function):
    """``-log_softmax(logits)[target]`` in one op, with PyTorch's options: class ``weight``,
    ``ignore_index``, ``label_smoothing`` ε. Per sample, with ``w = weight[target]`` (0 when
    ignored): ``(1 - ε) w * nll + ε / C * Σ_c weight_c * (-logp_c)``; ``"mean"`` divides the sum by
    ``Σ w`` (the number of counted samples without weights). That is ``-Σ_c T_c logp_c`` for a
    target matrix ``T``, so the VJP is ``(softmax(logits) Σ_c T_c - T) * g`` -- written with the
    softmax op, so second derivatives flow."""

    name = "cross_entropy"

    @staticmethod
    def forward(ctx: Context, logits: Any, target: Any = None, reduction: str = "mean",
                weight: Any = None, ignore_index: int = -100, label_smoothing: float = 0.0) -> Any:
        ctx.save_for_backward(logits)  # (read only for second derivatives)
        ctx.target, ctx.matrix, ctx.factors = target, None, None
        # the first-order VJP reads the softmax from log_softmax's output, as PyTorch's: an
        # in-place change of the logits after the loss was made does not matter to it
        ctx.logp = logp = log_softmax_array(logits, 1)
        if weight is None and label_smoothing == 0.0 and not (target == ignore_index).any():
            return _reduce(_nll(logp, target), reduction)  # the plain case: T is one-hot
        xp = array_module(logits)
        c = logits.shape[1]
        safe, w, ignored = class_weights(target, weight, ignore_index, logits.dtype)
        ctx.ignored = ignored if ignored.any() else None
        ctx.matrix = _target_matrix(safe, w, ignored, c, weight, label_smoothing, logits.dtype)
        losses = xp.where(ignored, 0, _nll(logp, safe) * w)
        smooth = None
        if label_smoothing:  # (float16 adds up over the classes in float32, as the sums below)
            per_class = 1 if weight is None else weight.astype(logits.dtype)
            smooth = xp.where(ignored, 0, -(_wide(logp) * per_class).sum(axis=1))
        if reduction == "mean":  # PyTorch's order: the two means, then their mix
            # (float16 adds up in float32, rounded once at the end: past 65,504 samples the
            # count was inf in float16, and the loss and its gradient 0)
            total = _wide(w).sum()
            # (a total weight of 0: the mean is 0 / 0, and so is every counted sample's factor --
            # NaN, as PyTorch's gradient, not the 1 / 0 that made label smoothing's ±inf)
            ctx.factors = _weighted_mean_factors(
                xp.full_like(w, xp.nan) if total == 0 else xp.ones_like(w), ignored,
                1 if total == 0 else total)
            with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: 0 / 0 = NaN
                out = _wide(losses).sum() / total
                if smooth is not None:
                    out = (1 - label_smoothing) * out + label_smoothing / c * (smooth.sum() / total)
            return xp.asarray(out).astype(logits.dtype, copy=False)
        if smooth is not None:
            losses = (1 - label_smoothing) * losses + label_smoothing / c * smooth
            losses = _reduce(losses, reduction)
            return xp.asarray(losses).astype(logits.dtype, copy=False)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        logp = ctx.logp
        xp = array_module(logp)
        n, c = logp.shape
        t = ctx.matrix
        reduction = ctx.attrs["reduction"]
        first_order = not _state.grad_enabled
        if (t is None and first_order and n and reduction != "none"
                and logp.dtype in (np.float32, np.float64)):
            # the plain first-order case (every training step): the expression below on arrays,
            # in its order (softmax - one-hot, times g / N): bit for bit, a quarter of the time
            gx = xp.exp(logp)
            gx[xp.arange(n), ctx.target] -= 1
            gx *= g._data / n if reduction == "mean" else g._data
            return Tensor._make(gx)
        if t is None:
            t = xp.zeros((n, c), dtype=logp.dtype)
            t[xp.arange(n), ctx.target] = 1
            mass: Any = 1.0
        else:
            mass = Tensor._make(t.sum(axis=1, keepdims=True))
        if ctx.factors is not None:  # a weighted mean: 1 / Σ w per counted sample, 0 if ignored
            scale = g.reshape(1, 1).expand(n, 1) * Tensor._make(ctx.factors)
        else:
            scale = _per_sample(g, n, reduction)
        ignored = getattr(ctx, "ignored", None)
        if ignored is not None:  # ignored rows take no upstream gradient, even a NaN or inf one
            scale = keep(scale, ~ignored[:, None])  # (their softmax still shows a NaN input)
        if first_order:
            with np.errstate(over="ignore"):  # (float16: exp in float32, rounded once)
                softmax = Tensor._make(xp.exp(logp.astype(np.float32)).astype(logp.dtype)
                                       if logp.dtype == np.float16 else xp.exp(logp))
        else:  # exp of the log-softmax op on the logits, so second derivatives flow (the
            # softmax op rounds otherwise: 1-2 ulp from the first-order gradient, t130)
            changed = ctx._saved_input_changed(0)
            if changed is not None:
                # the logits changed in place after the loss (PyTorch allows it: its VJP reads
                # log_softmax's output): their graph, at the values the loss saw -- softmax of
                # log-softmax is softmax of the logits, and a constant shift has Jacobian 1
                logits = _input_at(ctx, 0, logp)
            else:
                (logits,) = ctx.saved_tensors
            softmax = LogSoftmax.apply(logits, dim=1).exp()
        return (softmax * mass - t) * scale


def _input_at(ctx: Context, i: int, values: Any) -> Tensor:
    """Input ``i`` of ``ctx`` as a tensor of ``values`` (those the op saw: it may have changed in
    place since) on the graph it had when the op was made: its node then, or the leaf."""
    edge = ctx.next[i]
    if edge is None:
        return Tensor._make(values)
    if isinstance(edge, Tensor):  # a leaf: its graph, shifted to the values
        xp = array_module(values)
        same = values == edge._data
        if bool(same.all()):  # (unchanged: the leaf itself -- inf - inf shifted an inf to NaN)
            return edge
        with np.errstate(invalid="ignore", over="ignore"):
            return edge + Tensor._make(xp.where(same, xp.zeros((), values.dtype),
                                                values - edge._data))
    return Tensor._make(values, True, edge)


def _target_matrix(safe: Any, w: Any, ignored: Any, c: int, weight: Any, smoothing: float,
                   dtype: Any) -> Any:
    """``T (N, C)``: ``(1 - ε) w_n`` at the target class plus ``ε / C * weight_c`` everywhere;
    rows of ignored samples all zero."""
    xp = array_module(safe)
    n = safe.shape[0]
    t = xp.zeros((n, c), dtype=dtype)
    if smoothing:
        t += (smoothing / c) * (1 if weight is None else weight.astype(dtype))
        t[ignored] = 0
    t[xp.arange(n), safe] += (1 - smoothing) * w
    return t


class NLLLoss(Function):
    """``-w * logp[target]`` for log-probabilities ``logp (N, C)``, ``w = weight[target]`` (1
    without class weights); samples with ``target == ignore_index`` count 0 and weigh nothing;
    ``"mean"`` divides by ``Σ w``. VJP: ``-g w`` scattered onto the target class (a
    scatter_add, whose own VJP gathers)."""

    vjp_reads_input = True  # (see Function.vjp_reads_input)

    name = "nll_loss"

    @staticmethod
    def forward(ctx: Context, logp: Any, target: Any = None, reduction: str = "mean",
                weight: Any = None, ignore_index: int = -100) -> Any:
        xp = array_module(logp)
        if weight is None and not (target == ignore_index).any():
            # the plain case (every sample counts, weight 1): class_weights' masks and the
            # ignored samples' zeros, which cost twice the loss itself on a small batch, skipped
            # -- the same values (x * 1 is x, where(False, 0, x) is x)
            losses = _nll(logp, target)
            ctx.target, ctx.classes, ctx.ignored = target, logp.shape[1], None
            if reduction == "mean" and xp is np:
                # the mean's factors 1 / N (in the wide dtype, then the input's) and the mean
                # itself without the weights' array: the weighted mean's values, op for op
                n = target.shape[0]
                wide = _wide(losses)
                total = wide.dtype.type(n)
                with np.errstate(invalid="ignore", divide="ignore"):  # (no sample: 0 / 0)
                    ctx.factors = np.full((n, 1), wide.dtype.type(1) / total, dtype=logp.dtype)
                    return np.asarray(np.add.reduce(wide) / total).astype(logp.dtype, copy=False)
            safe, ignored = target, None
            w = xp.ones(target.shape, dtype=logp.dtype)
        else:
            safe, w, ignored = class_weights(target, weight, ignore_index, logp.dtype)
            losses = xp.where(ignored, 0, _nll(logp, safe) * w)
            if not ignored.any():
                ignored = None
        ctx.target, ctx.classes, ctx.ignored = safe, logp.shape[1], ignored
        if reduction == "mean":  # (float16 in float32, rounded once: see CrossEntropy)
            total = _wide(w).sum()
            ctx.factors = _weighted_mean_factors(w, ignored, total)
            with np.errstate(invalid="ignore", divide="ignore"):
                return xp.asarray(_wide(losses).sum() / total).astype(logp.dtype, copy=False)
        ctx.factors = w.reshape(-1, 1)
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        n = ctx.target.shape[0]
        if first_order(g) and type(ctx.factors) is np.ndarray and \
                ctx.factors.dtype == g._data.dtype:  # (the same on arrays: no nodes)
            gd = g._data
            scale_d = gd.reshape(n, 1) if ctx.attrs["reduction"] == "none" else \
                np.broadcast_to(gd.reshape(1, 1), (n, 1))
            picked_d = -(scale_d * ctx.factors)
            if ctx.ignored is not None:
                picked_d = np.where(~ctx.ignored[:, None], picked_d, picked_d.dtype.type(0))
            # (scatter_add's forward with unique indices, one row each: zeros, then assigned)
            gx = np.zeros((n, ctx.classes), dtype=picked_d.dtype)
            gx[np.arange(n), ctx.target] = picked_d[:, 0]
            return Tensor._make(gx)
        scale = g.reshape(n, 1) if ctx.attrs["reduction"] == "none" else \
            g.reshape(1, 1).expand(n, 1)
        picked = -(scale * Tensor._make(ctx.factors))  # (N, 1)
        if ctx.ignored is not None:  # exactly 0, even from a NaN or inf gradient (PyTorch's)
            picked = keep(picked, ~ctx.ignored[:, None])
        return ScatterAdd.apply(picked, index=ctx.target[:, None], dim=1, size=ctx.classes,
                                unique=True)


class SoftMarginLoss(Function):
    """``log1p(exp(-x y))``, reduced, computed in the input's dtype step by step as PyTorch's
    kernel (so ``exp`` overflows to inf, and the loss with it, where PyTorch's does: from
    ``-x y > 11`` in float16). VJP (PyTorch's formula and order, which keeps float16 gradients out
    of the subnormals that the chain rule through ``log1p`` and ``exp`` would pass through):
    ``(y z) (-s) / (1 + z) g`` with ``z = exp(-x y)`` and ``s = 1/n`` for the mean, else 1 (NaN
    where ``z`` is inf, as PyTorch's). The target gets no gradient (PyTorch refuses it too)."""

    name = "soft_margin_loss"

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, reduction: str = "mean") -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x, y)
        with np.errstate(over="ignore", invalid="ignore"):
            z = xp.exp(((-x) * y).astype(x.dtype, copy=False))
            losses = xp.log1p(z)
            if reduction == "none" or x.dtype != np.float16:
                return _reduce(losses, reduction)
            return _reduce(losses.astype(np.float32), reduction).astype(np.float16)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, None]:
        x, y = ctx.saved_tensors
        reduction = ctx.attrs["reduction"]
        y = y if y.dtype == x.dtype else y.to(x.dtype)
        z = (-x * y).exp()
        norm = 1.0 / max(x.numel(), 1) if reduction == "mean" else 1.0
        if reduction != "none":
            g = g.reshape((1,) * x.ndim).expand(x.shape)
        return (y * z) * -norm / (z + 1) * g, None


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
        nx, ny = ctx.needs_input_grad
        if first_order(g, x, y):  # (the same on arrays: no nodes)
            gd = g._data
            sd = gd * (2.0 / max(x.numel(), 1)) if reduction == "mean" else gd * 2.0
            if reduction != "none":
                sd = np.broadcast_to(sd.reshape((1,) * x.ndim), x.shape)
            gxd = (x._data - y._data) * sd
            return (Tensor._make(gxd) if nx else None), (Tensor._make(-gxd) if ny else None)
        # (an empty input: the mean is NaN and the gradient empty; any finite scale will do)
        scale = g * (2.0 / max(x.numel(), 1)) if reduction == "mean" else g * 2.0
        if reduction != "none":
            scale = scale.reshape((1,) * x.ndim).expand(x.shape)
        gx = (x - y) * scale
        nx, ny = ctx.needs_input_grad
        return (gx if nx else None), (-gx if ny else None)


class HuberLoss(Function):
    """``d²/2`` for ``|d| < delta``, ``delta (|d| - delta/2)`` beyond, ``d = x - y``.
    VJP: ``g * clamp(d, -delta, delta)`` for ``x``, its negative for ``y``."""

    name = "huber_loss"

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, reduction: str = "mean", delta: float = 1.0) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x, y)
        z = xp.abs(x - y)
        return _reduce(xp.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)), reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        delta = ctx.attrs["delta"]
        d = x - y  # the slope d inside (-delta, delta), delta * sign(d) from the ends on: its own
        # derivative is 0 at |d| = delta, as PyTorch's second derivative (a clamp's includes them)
        gx = _spread(g, x.shape, ctx.attrs["reduction"]) * where(d.abs() < delta, d,
                                                                 _sign(d) * delta)
        nx, ny = ctx.needs_input_grad
        return (gx if nx else None), (-gx if ny else None)


class SmoothL1Loss(Function):
    """``d²/(2 beta)`` for ``|d| < beta``, ``|d| - beta/2`` beyond, ``d = x - y`` (Huber divided by
    beta). VJP: ``g * clamp(d / beta, -1, 1)`` for ``x``, its negative for ``y``."""

    name = "smooth_l1_loss"

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, reduction: str = "mean", beta: float = 1.0) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x, y)
        z = xp.abs(x - y)
        return _reduce(xp.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta), reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        beta = ctx.attrs["beta"]
        d = x - y  # (as HuberLoss's: the second derivative is 0 from |d| = beta on)
        gx = _spread(g, x.shape, ctx.attrs["reduction"]) * where(d.abs() < beta, d / beta, _sign(d))
        nx, ny = ctx.needs_input_grad
        return (gx if nx else None), (-gx if ny else None)


def _sign(d: Tensor) -> Tensor:
    """``sign(d)``, but NaN at NaN (PyTorch's first derivative there; sign(NaN) is 0), with a
    zero derivative everywhere."""
    nan = d._data != d._data
    return where(nan, d * 0.0, d.sign()) if nan.any() else d.sign()


_BCE_EPS = float(np.float32(1e-12))  # PyTorch's EPSILON, a float32 constant in every dtype


class BinaryCrossEntropy(Function):
    """``-w (y log x + (1 - y) log(1 - x))`` for probabilities ``x``, each log clamped at -100 (as
    PyTorch, so ``x = 0`` or ``1`` gives 100, not inf). VJP: ``g w (x - y) / max(x (1 - x),
    1e-12)`` for ``x``; ``g w (log(1 - x) - log x)`` for ``y``."""

    name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, reduction: str = "mean", weight: Any = None) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore"):
            losses = (y - 1) * xp.maximum(xp.log1p(-x), -100) - y * xp.maximum(xp.log(x), -100)
        if weight is not None:
            losses = losses * weight
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        weight = ctx.attrs["weight"]
        half = x.dtype == np.float16
        if half:  # PyTorch's half kernel computes in float: in half, g / N * (x - y) underflows
            x, y, g = x.float(), y.float(), g.float()  # (a mean over 10,000 probabilities
            # of 1e-4 gave gradients of 0), and EPSILON itself is 0
        scale = _spread(g, x.shape, ctx.attrs["reduction"])
        if weight is not None:
            scale = scale * Tensor._make(weight).to(x.dtype)
        nx, ny = ctx.needs_input_grad
        eps = 0.0 if half else _BCE_EPS  # (PyTorch's half kernel: EPSILON is 0 in half, so
        gx = scale * (x - y) / (x * (1 - x)).clamp(min=eps) if nx else None  # 0/0 at p = y = 1)
        gy = scale * ((1 - x).log() - x.log()) if ny else None
        if half:
            gx, gy = (None if t is None else t.half() for t in (gx, gy))
        return gx, gy


class BinaryCrossEntropyWithLogits(Function):
    """``(1 - y) x + (1 + (p - 1) y) softplus(-x)`` -- the binary cross-entropy of ``σ(x)``
    with the positive class weighted by ``pos_weight`` ``p`` -- times ``weight``, computed with
    ``softplus(-x) = max(-x, 0) + log1p(exp(-|x|))`` so that logits of ±100 (or ±1e4) are exact.
    VJP: ``g w (σ(x) (p y + 1 - y) - p y)`` for ``x``; ``g w (p softplus(-x) - softplus(x))`` for
    ``y`` (``-g w x`` without ``pos_weight``)."""

    name = "binary_cross_entropy_with_logits"

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, reduction: str = "mean", weight: Any = None,
                pos_weight: Any = None) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x, y)
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # -log σ(x)
        log_weight = 1 if pos_weight is None else (pos_weight - 1) * y + 1
        losses = (1 - y) * x + log_weight * softplus_neg
        if weight is not None:
            losses = losses * weight
        return _reduce(losses, reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        a = ctx.attrs
        nx, ny = ctx.needs_input_grad
        if a["pos_weight"] is None and first_order(g, x, y) and (
                a["weight"] is None or (type(a["weight"]) is np.ndarray and a["weight"].flags.
                                        c_contiguous and a["weight"].dtype == x._data.dtype)):
            sd = _spread_array(g._data, x.shape, a["reduction"])  # (the same on arrays)
            if a["weight"] is not None:
                sd = sd * a["weight"]
            xd = x._data
            return (Tensor._make(sd * (_sigmoid_array(xd) - y._data)) if nx else None), \
                (Tensor._make(-(sd * xd)) if ny else None)
        scale = _spread(g, x.shape, a["reduction"])
        if a["weight"] is not None:
            scale = scale * Tensor._make(a["weight"])
        nx, ny = ctx.needs_input_grad
        gx = gy = None
        if a["pos_weight"] is None:
            if nx:
                gx = scale * (Sigmoid.apply(x) - y)
            if ny:
                gy = -(scale * x)
        else:
            p = Tensor._make(a["pos_weight"])
            if nx:
                gx = scale * (Sigmoid.apply(x) * (p * y + 1 - y) - p * y)
            if ny:
                gy = scale * (p * _softplus(-x) - _softplus(x))
        return gx, gy


def _softplus(x: Tensor) -> Tensor:
    return Softplus.apply(x, beta=1.0, threshold=40.0)  # log1p(exp(x)) == x beyond 37 in float64


class KLDiv(Function):
    """The pointwise Kullback-Leibler divergence of log-probabilities ``x`` from the target:
    ``t (log t - x)`` (``0`` where ``t = 0``), or ``exp(t) (t - x)`` with ``log_target``.
    VJP: ``-g t`` (``-g exp(t)``) for ``x``; for the target ``g (log t + t / t - x)`` -- at
    ``t = 0`` that is NaN, as in PyTorch (``xlogy``'s gradient) -- or ``g exp(t) (t - x + 1)``."""

    name = "kl_div"

    @staticmethod
    def forward(ctx: Context, x: Any, t: Any, reduction: str = "mean",
                log_target: bool = False) -> Any:
        xp = array_module(x)
        # x only for the target's gradient: x's own is -g t (an in-place change of x after the
        # loss was made then does not matter, as in PyTorch); with log_target not even there:
        # the difference t - x is kept instead (PyTorch's product saves it)
        needs_x = ctx.needs_input_grad[1] and not log_target
        ctx.save_for_backward(x if needs_x else None, t)
        if log_target:
            diff = t - x
            ctx.diff = diff if ctx.needs_input_grad[1] else None
            losses = xp.exp(t) * diff
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                xlogy = xp.where(t == 0, 0, t * xp.log(t))
            losses = xp.where(xp.isnan(t), xp.nan, xlogy) - t * x
        return _reduce(losses.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, t = ctx.saved_tensors
        scale = _spread(g, t.shape, ctx.attrs["reduction"])
        nx, nt = ctx.needs_input_grad
        if ctx.attrs["log_target"]:
            e = t.exp()
            gt = None
            if nt:
                diff = Tensor._make(ctx.diff)
                if _state.grad_enabled:  # (second derivatives: t's graph, x's as it was;
                    # the forward's values of t - x: x rebuilt as t - diff was NaN at inf - inf)
                    edge = ctx.next[0]
                    anchor = edge if isinstance(edge, Tensor) else Tensor._make(
                        ctx.diff, edge is not None, edge)
                    diff = Difference.apply(t, anchor, _values=ctx.diff)
                gt = scale * e * (diff + 1)
            return (-(scale * e) if nx else None), gt
        gt = None
        if nt:
            log_t = where(Tensor._make(t._data != 0), t.log(), 0.0)
            gt = scale * (log_t + t / t - x)
        return (-(scale * t) if nx else None), gt
