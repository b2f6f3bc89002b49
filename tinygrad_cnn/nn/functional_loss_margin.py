"""Margin and embedding losses of ``nn.functional``, with PyTorch's signatures:
``F.margin_ranking_loss``, ``F.hinge_embedding_loss``, ``F.soft_margin_loss``,
``F.multilabel_soft_margin_loss``, ``F.cosine_embedding_loss``, ``F.triplet_margin_loss``,
``F.multi_margin_loss``, ``F.multilabel_margin_loss``.

Each is composed of existing ops the way PyTorch 2.13 computes it (ATen's ``Loss.cpp`` and
``LossMultiMargin.cpp``, ``LossMultiLabelMargin.cpp``, or ``torch.nn.functional``'s Python), so
values and gradients agree with PyTorch's at the kinks too: ``clamp_min`` passes the gradient at
0 (``margin_ranking_loss``, ``hinge_embedding_loss``, ``triplet_margin_loss``),
``multi_margin_loss`` and ``multilabel_margin_loss`` count a term only where it is strictly
positive (no gradient at the kink, NaN terms skipped, as PyTorch's kernels).
``soft_margin_loss`` is an op of its own (``ops/loss.py``): its VJP keeps PyTorch's order of
operations, where the chain rule through ``log1p`` and ``exp`` would pass float16 gradients
through subnormals (9% off). PyTorch's legacy ``size_average`` and ``reduce`` keep their
positions, but only ``None`` is accepted: use ``reduction``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.backend import ArgumentTypeError, ArgumentValueError, like, to_numpy, type_name
from tinygrad_cnn.nn._checks import floating as _floating
from tinygrad_cnn.nn.functional_activation import logsigmoid
from tinygrad_cnn.nn.functional_distance import pairwise_distance
from tinygrad_cnn.nn.functional_loss import _constant, _reduction
from tinygrad_cnn.ops import loss
from tinygrad_cnn.tensor import Tensor, where, zeros_like


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """PyTorch's ``apply_loss_reduction``: the mean or the sum of every element, or ``loss``."""
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _tensor(t: Any, op: str, what: str) -> Tensor:
    """A target given as a Tensor, or as an array or a list (kept in its dtype)."""
    if isinstance(t, Tensor):
        return t
    if isinstance(t, (np.ndarray, list, tuple, int, float, np.number)):
        return Tensor(np.asarray(t))
    raise TypeError(f"{op}: {what} must be a Tensor, got {type_name(t)}")


def _broadcastable(op: str, fix: str = "give them equal sizes, or size 1, in each dim",
                   **named: Any) -> tuple[int, ...]:
    """The shape the named tensors (or shapes) broadcast to; else an error naming ``op``, every
    shape, and ``fix``."""
    shapes = {k: tuple(v.shape) if hasattr(v, "shape") else tuple(v) for k, v in named.items()}
    try:
        return tuple(np.broadcast_shapes(*shapes.values()))
    except ValueError:
        listed = ", ".join(f"{k} {s}" for k, s in shapes.items())
        raise RuntimeError(f"{op}: the shapes of {listed} cannot be broadcast together; "
                           f"{fix}") from None


# ------------------------------------------------------------------------------ pairs of scores
def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, -y (x1 - x2) + margin)``: ``y = 1`` says ``x1`` should rank higher, ``y = -1``
    lower. All three must have the same number of dims (they broadcast)."""
    op = "margin_ranking_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    x1, x2 = _floating(input1, op, "input1"), _floating(input2, op, "input2")
    y = _tensor(target, op, "target")
    if not x1.ndim == x2.ndim == y.ndim:
        raise RuntimeError(f"{op}: all input tensors should have the same number of dims, but got "
                           f"sizes input1 {x1.shape}, input2 {x2.shape}, target {y.shape}; "
                           "reshape them to match")
    _broadcastable(op, input1=x1, input2=x2, target=y)
    return _reduce((-y * (x1 - x2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """``x`` where ``y = 1``, ``max(0, margin - x)`` where ``y = -1`` (both terms where ``y`` is
    neither, as PyTorch); ``input`` is typically a distance. ``target`` broadcasts."""
    op = "hinge_embedding_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    x = _floating(input, op)
    y = _tensor(target, op, "target")
    _broadcastable(op, input=x, target=y)
    zeros = zeros_like(x)
    margin_clamp = (margin - x).clamp_min(0)
    loss = where(y != 1, margin_clamp, zeros) + where(y != -1, x, zeros)
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """``log(1 + exp(-y x))`` in the input's dtype (the two-class logistic loss, ``y = ±1``);
    ``target`` broadcasts to the input's shape and gets no gradient (as in PyTorch)."""
    op = "soft_margin_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    x = _floating(input, op)
    y = _tensor(target, op, "target")
    if y.requires_grad:
        raise RuntimeError(f"{op} is not differentiable with respect to the target (as in "
                           "PyTorch); pass target.detach()")
    if _broadcastable(op, input=x, target=y) != x.shape:
        raise RuntimeError(f"{op}: the target {y.shape} must broadcast to the input's shape "
                           f"{x.shape} (the loss has the input's shape)")
    if y.dtype.kind not in "fiub":
        raise TypeError(f"{op}: the target must be a numeric tensor, got {y.dtype}")
    y = y if y.shape == x.shape else y.expand(x.shape)
    return loss.SoftMarginLoss.apply(x, y, reduction=reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None,
                                reduction: str = "mean") -> Tensor:
    """``-(y log σ(x) + (1 - y) log σ(-x))``, times ``weight`` (broadcast, e.g. one per class),
    averaged over the classes (the last dim): one loss per sample, then ``reduction``. Target and
    weight are differentiated too (a plain composition, as PyTorch's)."""
    op = "multilabel_soft_margin_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    x = _floating(input, op)
    if x.ndim == 0:
        raise IndexError(f"{op}: the input needs a class dim (its last), got a 0-d tensor; give "
                         "(C,) or (N, C)")
    y = _tensor(target, op, "target")
    w = None if weight is None else _tensor(weight, op, "weight")
    fix = (f"give the target the input's shape {x.shape} (one 0/1 label per class), and a weight "
           f"of shape ({x.shape[-1]},) (one per class) or the input's shape")
    _broadcastable(op, fix, input=x, target=y, **({} if w is None else {"weight": w}))
    loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x))
    if w is not None:
        loss = loss * w
    c = x.shape[-1]
    if loss.dtype == np.float16:  # the mean over the classes in float32, rounded once (PyTorch's
        # float16 sum over 70,000 classes overflowed to inf)
        return _reduce((loss.float().sum(x.ndim - 1) / c).to(np.float16), reduction)
    return _reduce(loss.sum(x.ndim - 1) / c, reduction)


# ------------------------------------------------------------------------------ embeddings
_EPSILON = 1e-12  # added to the squared norms (PyTorch's)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0,
                          size_average: Any = None, reduce: Any = None,
                          reduction: str = "mean") -> Tensor:
    """``1 - cos(x1, x2)`` where ``y = 1``, ``max(0, cos(x1, x2) - margin)`` where ``y = -1``
    (0 where ``y`` is neither), with ``cos = <x1, x2> / sqrt((|x1|² + 1e-12)(|x2|² + 1e-12))``.
    ``(N, D)`` inputs with a ``(N,)`` target, or ``(D,)`` inputs with a 0-d one."""
    op = "cosine_embedding_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    x1, x2 = _floating(input1, op, "input1"), _floating(input2, op, "input2")
    y = _tensor(target, op, "target")
    if y.ndim not in (0, 1):
        raise RuntimeError(f"{op}: a 0-D or 1-D target is expected (one label per pair), got "
                           f"{y.shape}; multi-target is not supported")
    want = y.ndim + 1
    if x1.ndim != want or x2.ndim != want:
        raise RuntimeError(f"{op}: a {y.ndim}D target expects {want}D input tensors, but found "
                           f"inputs with sizes {x1.shape} and {x2.shape}")
    _broadcastable(op, input1=x1, input2=x2)
    d = y.ndim
    prod_sum = (x1 * x2).sum(d)
    mag_square1 = (x1 * x1).sum(d) + _EPSILON
    mag_square2 = (x2 * x2).sum(d) + _EPSILON
    _broadcastable(op, pairs=prod_sum, target=y)
    cos = prod_sum / (mag_square1 * mag_square2).sqrt()
    zeros = zeros_like(cos)
    loss = where(y == 1, 1 - cos, zeros) + where(y == -1, (cos - margin).clamp_min(0), zeros)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the ``pairwise_distance`` (``p``,
    ``eps``); ``swap`` uses ``min(d(a, n), d(p, n))`` for the negative distance (ties share its
    gradient). ``margin`` must be positive."""
    op = "triplet_margin_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    if margin <= 0:
        raise ArgumentValueError(f"{op}: margin must be greater than 0, got {margin}")
    a = _floating(anchor, op, "anchor")
    pos, neg = _floating(positive, op, "positive"), _floating(negative, op, "negative")
    if not a.ndim == pos.ndim == neg.ndim:
        raise RuntimeError(f"{op}: the anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {a.ndim}D {a.shape}, "
                           f"positive {pos.ndim}D {pos.shape}, and negative {neg.ndim}D "
                           f"{neg.shape}")
    # the shapes up front, so that an error names this loss, not a distance or a subtraction
    fix = "give the three equal shapes (N, D), or size 1 where one is shared"
    pairs = [("anchor", a, "positive", pos), ("anchor", a, "negative", neg)]
    if swap:
        pairs.append(("positive", pos, "negative", neg))
    dists = [_broadcastable(op, fix, **{n1: t1, n2: t2})[:-1] for n1, t1, n2, t2 in pairs]
    _broadcastable(op, fix, **{f"d({n1}, {n2})": d for (n1, _, n2, _), d in zip(pairs, dists)})
    dist_pos = pairwise_distance(a, pos, p, eps)
    dist_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        dist_neg = dist_neg.minimum(pairwise_distance(pos, neg, p, eps))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Any = None, margin: float = 1.0,
                                      swap: bool = False, reduction: str = "mean") -> Tensor:
    """:func:`triplet_margin_loss` with any distance: ``max(0, margin + d(a, p) - d(a, n))`` with
    ``d = distance_function`` (default ``pairwise_distance``), a callable of two tensors giving
    one distance per sample; ``swap`` takes ``min(d(a, n), d(p, n))``."""
    op = "triplet_margin_with_distance_loss"
    reduction = _reduction(reduction, op, None, None)
    if margin <= 0:
        raise ArgumentValueError(f"{op}: margin must be greater than 0, got {margin}")
    if distance_function is not None and not callable(distance_function):
        raise TypeError(f"{op}: distance_function must be a callable of two tensors (or None for "
                        f"pairwise_distance), got {type(distance_function).__name__}")
    tensors = {"anchor": anchor, "positive": positive, "negative": negative}
    for name, t in tensors.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"{op}: the anchor, positive, and negative tensors are expected to have "
                           f"the same number of dimensions, but got: anchor {anchor.ndim}D, "
                           f"positive {positive.ndim}D, and negative {negative.ndim}D inputs")
    distance = pairwise_distance if distance_function is None else distance_function
    dist_pos = distance(anchor, positive)
    dist_neg = distance(anchor, negative)
    if swap:
        dist_neg = dist_neg.minimum(distance(positive, negative))
    return _reduce((margin + dist_pos - dist_neg).clamp_min(0), reduction)


# ------------------------------------------------------------------------------ classes
def multi_margin_loss(input: Tensor, target: Any, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                      reduction: str = "mean") -> Tensor:
    """The multi-class hinge loss of scores ``x (N, C)`` (or ``(C,)``) and class indices ``y``:
    ``sum_{j != y} max(0, margin - x_y + x_j)^p / C`` per sample, times ``weight[y]``. A term
    counts where it is strictly positive (so no gradient at the kink, and a NaN term is skipped,
    as PyTorch's kernel). ``p`` is 1 or 2. float16 is computed in float32 and rounded once per
    sample (PyTorch's CUDA kernel; its CPU kernel refuses float16)."""
    op = "multi_margin_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    if p not in (1, 2):
        raise ArgumentValueError(f"{op}: only p == 1 and p == 2 supported, got p={p}")
    if weight is not None and getattr(weight, "ndim", 1) != 1:
        raise ArgumentValueError(f"{op}: weight must be one-dimensional (one per class), got shape "
                                 f"{weight.shape}")
    x = _floating(input, op)
    if not (x.ndim == 0 or (x.ndim in (1, 2) and x.shape[-1] != 0)):
        raise RuntimeError(f"{op}: expected a non-empty vector (C,) or matrix (N, C) with optional "
                           f"0-dim batch size, but got: {x.shape}")
    n = x.shape[0] if x.ndim == 2 else 1
    c = x.shape[-1] if x.ndim else 1
    t = to_numpy(target._data) if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{op}: target must hold class indices (an integer tensor), got {t.dtype}")
    if t.ndim > 1 or t.size != n:
        raise RuntimeError(f"{op}: target tensor should be 1-D with size equal to the number of "
                           f"input samples (batch size). Expected target size [{n}], but got "
                           f"{list(t.shape)}. Input has shape {list(x.shape)}.")
    labels = t.reshape(n).astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= c):
        bad = int(labels.max()) if labels.max() >= c else int(labels.min())
        raise RuntimeError(f"{op}: target out of range: class {bad}, but the input has {c} "
                           f"classes (0 to {c - 1})")
    w = _constant(weight, x, op, "weight")
    if w is not None and w.size != c:
        raise RuntimeError(f"{op}: inconsistent weight size, expected {c} but got "
                           f"{list(w.shape)}")
    # float16 is computed in float32 and rounded once per sample, as PyTorch's CUDA kernel does
    # (its CPU kernel has no float16): summed in float16, 70,000 classes overflowed to inf
    scores = x.reshape(n, c) if x.dtype != np.float16 else x.reshape(n, c).float()  # (N, C)
    index = like(labels.reshape(n, 1), x._data)
    z = margin - scores.gather(1, index) + scores  # (N, C): margin - x_y + x_j
    other = like(np.arange(c)[None, :] != labels[:, None], x._data)
    counted = (z._data > 0) & other  # (NaN > 0 is False: skipped)
    h = where(Tensor._make(counted), z, 0.0)
    if p == 2:
        h = h * h
    if w is not None:
        h = h * Tensor._make(w[index].astype(h.dtype, copy=False))  # (N, 1): each sample's class
    per_sample = (h.sum(1) / c).to(x.dtype)  # (N,)
    if reduction == "none":
        return per_sample.reshape(t.shape)
    return _reduce(per_sample, reduction)


def multilabel_margin_loss(input: Tensor, target: Any, size_average: Any = None,
                           reduce: Any = None, reduction: str = "mean") -> Tensor:
    """The multi-label hinge loss of scores ``x (N, C)`` (or ``(C,)``, or 0-d) and a target of the
    same shape holding each sample's class indices, ended by the first ``-1`` (the rest ignored):
    ``sum_{j in targets} sum_{i not in targets} max(0, 1 - x_j + x_i) / C`` per sample (a class
    listed twice counts twice). A term counts where it is strictly positive, as PyTorch's kernel
    (no gradient at the kink, a NaN term skipped). ``reduction="none"`` gives one loss per sample,
    0-d for a 1-D input. The target is int64 (PyTorch's rule), with values from -1 to C - 1.
    float16: the hinges in float16, their sum per sample in float32, rounded once (PyTorch's CUDA
    kernel; its CPU kernel refuses float16)."""
    op = "multilabel_margin_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    x = _floating(input, op)
    if not (x.ndim == 0 or (x.ndim in (1, 2) and x.shape[-1] != 0)):
        raise RuntimeError(f"{op}: Expected non-empty vector or matrix with optional 0-dim batch "
                           f"size, but got: {list(x.shape)}")
    t = to_numpy(target._data) if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype != np.int64:
        raise RuntimeError(f"{op}: expected scalar type Long but found {t.dtype} for the target "
                           "(class indices, as int64: convert it with .long())")
    n = x.shape[0] if x.ndim == 2 else 1
    c = x.shape[-1] if x.ndim else 1
    if (x.ndim <= 1 and not (t.ndim <= 1 and t.size == c)) or \
            (x.ndim == 2 and t.shape != (n, c)):
        raise RuntimeError(f"{op}: inconsistent target size: {list(t.shape)} for input of size: "
                           f"{list(x.shape)} (the target has the input's shape)")
    if x.numel() and (t.min() < -1 or t.max() >= c):
        bad = int(t.min()) if t.min() < -1 else int(t.max())
        raise RuntimeError(f"{op}: argument #2 'target' is out of range: class {bad}, but the "
                           f"input has {c} classes (0 to {c - 1}; -1 ends a sample's list)")
    labels = t.reshape(n, c)
    listed = np.cumprod(labels >= 0, axis=1).astype(bool)  # before the first -1: (N, C)
    width = int(listed.sum(axis=1).max()) if n else 0  # the longest list of targets
    targets = np.where(listed, labels, 0)[:, :width]  # (N, T): class indices (0 where unused)
    is_target = np.zeros((n, c), dtype=bool)
    rows = np.broadcast_to(np.arange(n)[:, None], targets.shape)
    is_target[rows[listed[:, :width]], targets[listed[:, :width]]] = True
    scores = x.reshape(n, c)
    xt = scores.gather(1, like(targets, x._data))  # (N, T): x at each listed target
    z = 1 - xt.unsqueeze(2) + scores.unsqueeze(1)  # (N, T, C): 1 - x_j + x_i, PyTorch's order
    pairs = like(listed[:, :width, None] & ~is_target[:, None, :], x._data)
    counted = pairs & (z._data > 0)  # (NaN > 0 is False: skipped)
    h = where(Tensor._make(counted), z, 0.0)
    if h.dtype == np.float16:  # the hinges in float16, their sum and mean in float32, rounded
        per_sample = (h.float().sum((1, 2)) / c).to(np.float16)  # once (PyTorch's CUDA kernel)
    else:
        per_sample = h.sum((1, 2)) / c  # (N,)
    if reduction == "none":
        return per_sample.reshape(()) if t.ndim <= 1 else per_sample
    return _reduce(per_sample, reduction)
