"""Loss functions of ``nn.functional``, with PyTorch's signatures: ``F.cross_entropy``,
``F.nll_loss``, ``F.mse_loss``, ``F.l1_loss``, ``F.smooth_l1_loss``, ``F.huber_loss``,
``F.binary_cross_entropy``, ``F.binary_cross_entropy_with_logits``, ``F.kl_div``,
``F.poisson_nll_loss``, ``F.gaussian_nll_loss`` (the last two composed as PyTorch composes them;
the margin and embedding losses are in ``functional_loss_margin.py``).

They check arguments and shapes here and compute in the ops of ``ops/loss.py``. PyTorch's legacy
``size_average`` and ``reduce`` arguments keep their positions (so positional calls mean the same
thing) but only ``None`` is accepted: use ``reduction``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import is_grad_enabled, no_grad
from tinygrad_cnn.backend import ArgumentTypeError, ArgumentValueError, like, to_numpy, type_name
from tinygrad_cnn.nn._checks import floating as _floating
from tinygrad_cnn.ops import loss
from tinygrad_cnn.tensor import Tensor, _int_arg, ones_like, own_result

REDUCTIONS = ("mean", "sum", "none")


def _reduction(reduction: str, op: str, size_average: Any = None, reduce: Any = None,
               extra: tuple[str, ...] = ()) -> str:
    if size_average is not None or reduce is not None:
        # PyTorch's legacy mapping, with its warning: reduce=False is 'none', else size_average
        # (default True) picks 'mean' or 'sum'
        size_average = True if size_average is None else size_average
        reduction = "none" if reduce is not None and not reduce else \
            "mean" if size_average else "sum"
        warnings.warn(f"{op}: size_average and reduce args will be deprecated, please use "
                      f"reduction='{reduction}' instead.", UserWarning, stacklevel=3)
    if reduction == "elementwise_mean":
        warnings.warn(f"{op}: reduction='elementwise_mean' is deprecated, please use "
                      "reduction='mean' instead.", UserWarning, stacklevel=3)
        reduction = "mean"
    if reduction not in REDUCTIONS + extra:
        raise ArgumentValueError(f"{op}: reduction must be one of {REDUCTIONS + extra}, got {reduction!r}")
    return reduction



def _pair(input: Tensor, target: Any, op: str, integer_target: bool = True,
          bool_target: bool = True, promote: bool = True,
          broadcast: str | None = None) -> tuple[Tensor, Tensor]:
    """Input and target of an elementwise loss: same shape, one floating dtype. A target of
    another dtype is promoted as PyTorch promotes it: a floating one to the wider of the two
    (both cast, the input's gradient keeps its dtype), an integer or bool one to the input's --
    unless the loss refuses it in PyTorch (``integer_target``/``bool_target`` False; without
    ``promote``, any other dtype)."""
    x = _floating(input, op)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target), dtype=x.dtype, device=x.device)
    if x.shape != target.shape:
        try:
            both = np.broadcast_shapes(x.shape, target.shape) if broadcast else None
        except ValueError:
            both = None
        if both is None:
            raise ArgumentValueError(f"{op}: input {x.shape} and target {target.shape} must have the "
                                     "same shape")
        if broadcast == "warn":  # (PyTorch's warning, word for word)
            warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                          f"size ({x.shape}). This will likely lead to incorrect results due to "
                          "broadcasting. Please ensure they have the same size.", UserWarning,
                          stacklevel=3)
        x, target = x.expand(both), target.expand(both)
    if target.dtype != x.dtype and not promote:
        raise TypeError(f"{op}: input and target must have one dtype, got {x.dtype} and "
                        f"{target.dtype} (PyTorch refuses this too); cast with .float() or "
                        ".double()")
    if target.dtype != x.dtype:
        kind = target.dtype.kind
        if (kind == "b" and not bool_target) or (kind in "iu" and not integer_target) or \
                kind not in "biuf":
            what = "a bool" if kind == "b" else "an integer" if kind in "iu" else \
                f"a {target.dtype}"
            raise TypeError(f"{op}: the target must be floating (PyTorch refuses {what} "
                            f"target here too), got {target.dtype} with an input of {x.dtype}; cast "
                            "it with .to(input.dtype)")
        common = np.promote_types(x.dtype, target.dtype) if kind == "f" else x.dtype
        if kind == "f" and target.ndim == 0 and x.ndim:  # (a 0-d target does not promote a
            common = x.dtype                              # dimensioned input: PyTorch's rule)
        x, target = x.to(common), target.to(common)
    return x, target


def _same_device(weight: Tensor, x: Tensor, op: str, what: str) -> None:
    if weight.device != x.device:
        raise RuntimeError(f"{op}: the inputs are on different devices ({what} on "
                           f"{weight.device}, the input on {x.device}); move {what} with "
                           f".to({x.device!r})")


def _constant(weight: Any, x: Tensor, op: str, what: str, cast: bool = False) -> Any:
    """A class weight or pos_weight as a constant array on ``x``'s device (PyTorch does not
    differentiate these either); ``cast``: a float weight of another dtype is cast to ``x``'s
    (the binary cross-entropies', as PyTorch's), else refused (cross_entropy's, as PyTorch's)."""
    if weight is None:
        return None
    if isinstance(weight, Tensor):
        _same_device(weight, x, op, what)
        if weight.requires_grad and is_grad_enabled():  # (no gradient asked: PyTorch computes)
            which = " with class-index targets (with probability targets it is)" \
                if op == "cross_entropy" else ""
            raise RuntimeError(f"{op}: {what} cannot require grad (PyTorch's {op} is not "
                               f"differentiable with respect to it{which}); pass "
                               f"{what}.detach()")
        if weight.dtype != x.dtype:
            if cast and weight.dtype.kind in "biuf":  # (an int pos_weight too: PyTorch promotes)
                return weight._data.astype(x.dtype)
            raise ArgumentTypeError(f"{op}: {what} is {weight.dtype} but the input is {x.dtype}; cast it")
        return weight._data
    return like(np.asarray(weight, dtype=x.dtype), x._data)


# ------------------------------------------------------------------------------ class losses
_CLASS_TARGET_DTYPES = (np.dtype(np.int64), np.dtype(np.uint8))


def _class_target(logits: Tensor, target: Any, op: str, ignore_index: int
                  ) -> tuple[Tensor, Any, tuple[int, ...]]:
    """Logits as ``(N, C)``, target as an int array ``(N,)``, and the shape of per-sample losses."""
    t = to_numpy(target._data) if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise ArgumentTypeError(f"{op}: target must hold class indices (an integer tensor), got {t.dtype}")
    if isinstance(target, Tensor) and t.dtype not in _CLASS_TARGET_DTYPES:
        # (PyTorch's "expected target dtype to be Long or Byte": accepted here, code written
        # against ours failed when moved to PyTorch -- t191)
        raise ArgumentTypeError(f"{op}: a target tensor of class indices must be int64 (long) or "
                                f"uint8, as in PyTorch; got {t.dtype}: use target.long()")
    in_shape, t_shape = tuple(logits.shape), tuple(t.shape)
    if logits.ndim == 1:  # unbatched (C,) with a 0-d target (or one of shape (1,), as PyTorch;
        # another is the shape check's error below, not numpy's "cannot reshape array of size 2")
        logits, t, sample_shape = logits.unsqueeze(0), t.reshape(1) if t.size == 1 else t, ()
    elif logits.ndim == 2:
        sample_shape = (logits.shape[0],)
    elif logits.ndim > 2:  # (N, C, d1, ...) with target (N, d1, ...): classes last, then flatten
        sample_shape = (logits.shape[0], *logits.shape[2:])
        c = logits.shape[1]
        logits = logits.permute(0, *range(2, logits.ndim), 1).reshape(-1, c)
    else:
        raise ArgumentValueError(f"{op}: expected logits of shape (N, C), (C,) or (N, C, d1, ...), got "
                                 f"{logits.shape}")
    if t_shape != sample_shape and not (sample_shape == () and t_shape in ((), (1,))):
        want = "a 0-d target (one class index)" if not sample_shape else \
            f"a target of shape {sample_shape} (one class index per sample: batch size and any " \
            "extra dims)"
        raise ArgumentValueError(f"{op}: the input of shape {in_shape} needs {want}, but target has shape "
                                 f"{t_shape}")
    t = t.reshape(-1)
    c = logits.shape[1]
    # (every class in range: nothing to mask; the ufuncs' reduce, not the methods' Python layer)
    if t.size and 0 <= int(np.minimum.reduce(t)) and int(np.maximum.reduce(t)) < c:
        return logits, like(t.astype(np.int64, copy=False), logits._data), sample_shape
    counted = t[t != ignore_index]
    if counted.size and (int(counted.min()) < 0 or int(counted.max()) >= c):
        bad = int(counted.max()) if int(counted.max()) >= c else int(counted.min())
        allowed = f"0 to {c - 1}" if c else "none: the class dim is empty"
        raise IndexError(f"{op}: target holds class {bad}, but the input has {c} classes "
                         f"({allowed}); only ignore_index={ignore_index} may lie outside")
    return logits, like(t.astype(np.int64, copy=False), logits._data), sample_shape


def _class_weight(weight: Any, x: Tensor, c: int, op: str) -> Any:
    w = _constant(weight, x, op, "weight")
    if w is not None and tuple(w.shape) != (c,):
        raise ArgumentValueError(f"{op}: weight must have one value per class, shape ({c},), got "
                                 f"{tuple(w.shape)}")
    return w


def _class_weight_probs(weight: Any, x: Tensor, c: int, op: str) -> Any:
    """The class weight of cross-entropy with probability targets: a composition of ops there,
    so a weight that requires grad gets its gradient, and one of another float dtype promotes
    the result (PyTorch's too)."""
    if not (isinstance(weight, Tensor) and weight.dtype.kind == "f"):
        return _class_weight(weight, x, c, op)
    _same_device(weight, x, op, "weight")
    if tuple(weight.shape) != (c,):
        raise ArgumentValueError(f"{op}: weight must have one value per class, shape ({c},), got "
                                 f"{tuple(weight.shape)}")
    return weight


def cross_entropy(input: Tensor, target: Any, weight: Tensor | None = None,
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """``-log_softmax(input, 1)[target]``, fused and stable. ``input (N, C)`` (or ``(C,)``, or
    ``(N, C, d1, ...)``). ``target``: class indices ``(N,)`` (or ``()``, or ``(N, d1, ...)``), or
    class probabilities of the input's shape (then ``-Σ_c target_c log_softmax_c``, and
    ``"mean"`` divides by the number of samples).

    ``weight (C,)`` weighs each class (``"mean"`` then divides by the summed weights of the
    counted samples); samples whose target is ``ignore_index`` count nothing; ``label_smoothing``
    ε mixes the target with the uniform distribution: ``(1 - ε) target + ε / C``."""
    op = "cross_entropy"
    reduction = _reduction(reduction, op, size_average, reduce)
    ignore_index = _int_arg(ignore_index, op, "ignore_index")  # (1.5 was taken as class 1)
    x = _floating(input, op, "the logits")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    c = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else 0)
    probs = (isinstance(target, Tensor) and target.dtype.kind == "f") or (
        isinstance(target, np.ndarray) and target.dtype.kind == "f" and target.shape == x.shape)
    if probs and ignore_index >= 0:  # (a negative one names no class: ignored, as PyTorch's -- t186)
        raise RuntimeError(f"{op}: ignore_index ({ignore_index}) is not supported with probability "
                           "targets (a floating target), as in PyTorch; mask the samples out, or "
                           "give class indices")
    if isinstance(target, Tensor) and target.dtype.kind == "f":
        return _cross_entropy_probs(x, target, _class_weight_probs(weight, x, c, op), reduction,
                                    label_smoothing, op)
    if isinstance(target, np.ndarray) and target.dtype.kind == "f" and target.shape == x.shape:
        return _cross_entropy_probs(x, Tensor(target, dtype=x.dtype, device=x.device),
                                    _class_weight_probs(weight, x, c, op), reduction,
                                    label_smoothing, op)
    xs, t, sample_shape = _class_target(x, target, op, ignore_index)
    out = loss.CrossEntropy.apply(xs, target=t, reduction=reduction,
                                  **_options(weight=_class_weight(weight, x, c, op),
                                             ignore_index=int(ignore_index),
                                             label_smoothing=float(label_smoothing)))
    return own_result(out.reshape(sample_shape)) if reduction == "none" else out


def _options(weight: Any = None, ignore_index: int = -100,
             label_smoothing: float = 0.0) -> dict[str, Any]:
    """The class-loss options that differ from their defaults (the drawings name only those)."""
    options: dict[str, Any] = {}
    if weight is not None:
        options["weight"] = weight
    if ignore_index != -100:
        options["ignore_index"] = ignore_index
    if label_smoothing:
        options["label_smoothing"] = label_smoothing
    return options


def _cross_entropy_probs(x: Tensor, target: Tensor, weight: Any, reduction: str,
                         smoothing: float, op: str) -> Tensor:
    """Cross-entropy with probability targets: ``-Σ_c w_c t_c log_softmax(x)_c`` per sample --
    a composition of ops, so the target gets a gradient too."""
    if x.ndim == 0:  # (was: a bare IndexError)
        raise IndexError(f"{op}: the input is 0-d; it needs a class dim: (C,) logits for one "
                         "sample, (N, C, ...) for a batch")
    if target.shape != x.shape:
        raise ArgumentTypeError(f"{op}: target must hold class indices (an integer tensor) or class "
                        f"probabilities (a floating tensor of the input's shape {x.shape}); got "
                        f"{target.dtype} of shape {target.shape}")
    dim = 0 if x.ndim == 1 else 1
    c = x.shape[dim]
    if smoothing:  # (in the target's dtype, as PyTorch smooths it)
        target = target * (1 - smoothing) + smoothing / c
    log_probs = x.log_softmax(dim)
    if target.dtype != x.dtype:  # the log-probabilities and the target promoted to the wider
        common = np.promote_types(x.dtype, target.dtype)  # dtype, as PyTorch promotes them
        log_probs, target = log_probs.to(common), target.to(common)
        if weight is not None and not isinstance(weight, Tensor):  # (a Tensor promotes them)
            weight = weight.astype(common, copy=False)
    terms = log_probs * target
    if weight is not None:  # (a Tensor that requires grad, or a constant array)
        w = weight if isinstance(weight, Tensor) else Tensor._make(weight)
        terms = terms * w.reshape((c,) + (1,) * (x.ndim - dim - 1))
    per_sample = -terms.sum(dim)
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    # the mean over the samples: of none, NaN (0 / 0, as PyTorch); float16 is added up and
    # divided in float32, rounded once (past 65,504 samples the float16 sum overflowed)
    n = x.numel() // max(c, 1)
    if per_sample.dtype == np.float16:
        return (per_sample.float().sum() / n).to(np.float16)
    return per_sample.sum() / n


def nll_loss(input: Tensor, target: Any, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """``-weight[target] * input[target]`` for log-probabilities ``input (N, C)`` (e.g. from
    ``log_softmax``); ``ignore_index`` and ``"mean"`` as in ``cross_entropy``."""
    op = "nll_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    ignore_index = _int_arg(ignore_index, op, "ignore_index")
    x = _floating(input, op)
    c = x.shape[1] if x.ndim >= 2 else (x.shape[0] if x.ndim == 1 else 0)
    xs, t, sample_shape = _class_target(x, target, op, ignore_index)
    out = loss.NLLLoss.apply(xs, target=t, reduction=reduction,
                             **_options(weight=_class_weight(weight, x, c, op),
                                        ignore_index=int(ignore_index)))
    return own_result(out.reshape(sample_shape)) if reduction == "none" else out


# ------------------------------------------------------------------------------ regression losses
def _weighted(each: Tensor, weight: Any, shape: tuple[int, ...], reduction: str, op: str,
              mean_by_weight: bool) -> Tensor:
    """PyTorch 2.13's elementwise ``weight`` of mse/l1/huber: the losses times ``weight`` (of the
    input's shape; it may require grad), then reduced -- ``"mean"`` divided by the summed weights
    (mse, l1) or by the count (huber), as PyTorch's."""
    if not isinstance(weight, Tensor):
        raise TypeError(f"{op}: weight must be a Tensor, got {type_name(weight)}")
    if weight.shape != shape:
        got = weight.shape if isinstance(weight, Tensor) else type(weight).__name__
        raise ArgumentValueError(f"{op}: weights and input must have the same size (weight {got}, "
                                 f"input {shape})")
    out = each * weight
    if reduction == "none":
        return out
    if reduction == "sum":
        return out.sum()
    return out.sum() / weight.sum() if mean_by_weight else out.mean()


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or sum, or elementwise) squared error; both may require grad. A target of another
    shape broadcasts, with PyTorch's warning. ``weight`` (the input's shape): each squared error
    weighed, ``"mean"`` divided by the summed weights (PyTorch 2.13's)."""
    reduction = _reduction(reduction, "mse_loss", size_average, reduce)
    shape = input.shape if isinstance(input, Tensor) else ()
    x, y = _pair(input, target, "mse_loss", broadcast="warn")
    if weight is not None:
        each = loss.MSELoss.apply(x, y, reduction="none")
        return _weighted(each, weight, shape, reduction, "mse_loss", True)
    return loss.MSELoss.apply(x, y, reduction=reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean (or sum, or elementwise) absolute error ``|x - y|`` (gradient ``sign(x - y)``, 0 at
    0); broadcasting and ``weight`` as ``mse_loss``'s."""
    reduction = _reduction(reduction, "l1_loss", size_average, reduce)
    shape = input.shape if isinstance(input, Tensor) else ()
    x, y = _pair(input, target, "l1_loss", bool_target=False, broadcast="warn")
    d = (x - y).abs()
    if weight is not None:
        return _weighted(d, weight, shape, reduction, "l1_loss", True)
    return d.mean() if reduction == "mean" else d.sum() if reduction == "sum" else d


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0, weight: Tensor | None = None) -> Tensor:
    """``d²/2`` where ``|d| < delta``, ``delta (|d| - delta/2)`` elsewhere (``d = x - y``):
    quadratic near 0, linear (robust) in the tails. Broadcasting as ``mse_loss``'s; ``weight``
    (the input's shape) weighs each term, ``"mean"`` then divides by the count (PyTorch's)."""
    reduction = _reduction(reduction, "huber_loss")
    if delta <= 0:
        raise ArgumentValueError(f"huber_loss: delta must be positive, got {delta}")
    x = _floating(input, "huber_loss")
    if isinstance(target, Tensor) and target.dtype != x.dtype and target.dtype.kind in "biuf":
        target = target.to(x.dtype)  # (PyTorch's forward: in the input's dtype)
    shape = x.shape
    x, y = _pair(x, target, "huber_loss", broadcast="warn")
    if weight is not None:
        each = loss.HuberLoss.apply(x, y, reduction="none", delta=float(delta))
        return _weighted(each, weight, shape, reduction, "huber_loss", False)
    return loss.HuberLoss.apply(x, y, reduction=reduction, delta=float(delta))


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``d²/(2 beta)`` where ``|d| < beta``, ``|d| - beta/2`` elsewhere; ``beta = 0`` is
    ``l1_loss``."""
    reduction = _reduction(reduction, "smooth_l1_loss", size_average, reduce)
    if beta < 0:
        raise ArgumentValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    x, y = _pair(input, target, "smooth_l1_loss", broadcast="warn")
    return loss.SmoothL1Loss.apply(x, y, reduction=reduction, beta=float(beta))


# ------------------------------------------------------------------------------ binary and KL
def _broadcast_constant(w: Any, shape: tuple[int, ...], op: str, what: str) -> Any:
    """``w``, which must broadcast to ``shape`` without growing it (a weight of more dims than
    the input would make a loss of that bigger shape: PyTorch's error)."""
    try:
        fits = np.broadcast_shapes(tuple(w.shape), shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ArgumentValueError(f"{op}: {what} of shape {tuple(w.shape)} cannot be broadcast to the "
                                 f"input's shape {shape} (it may have the input's dims or fewer, each "
                                 "equal to the input's or 1)")
    return w


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: Any = None, reduce: Any = None,
                         reduction: str = "mean") -> Tensor:
    """``-weight (y log x + (1 - y) log(1 - x))`` for probabilities ``x`` in [0, 1] (each log
    clamped at -100, as PyTorch). ``weight`` broadcasts to the input."""
    op = "binary_cross_entropy"
    reduction = _reduction(reduction, op, size_average, reduce)
    x, y = _pair(input, target, op, promote=False)
    for what, t in (("input", x), ("target", y)):
        if t.numel() and not bool(((t._data >= 0) & (t._data <= 1)).all()):
            raise ArgumentValueError(f"{op}: all elements of the {what} should be between 0 and 1 (they "
                                     "are probabilities; binary_cross_entropy_with_logits takes logits)")
    w = _constant(weight, x, op, "weight", cast=True)
    if w is not None:
        w = _broadcast_constant(w, x.shape, op, "weight")
    return loss.BinaryCrossEntropy.apply(x, y, reduction=reduction, weight=w)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None,
                                     reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """The binary cross-entropy of ``sigmoid(input)``, computed from the logits without ever
    forming the sigmoid's log (stable for logits of any size). ``pos_weight`` (broadcast along the
    last dim, e.g. one per class) weighs the positive term; ``weight`` weighs everything."""
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(reduction, op, size_average, reduce)
    first = _floating(input, op)
    x, y = _pair(first, target, op, integer_target=False, bool_target=False)
    w = _constant(weight, first, op, "weight", cast=True)
    if w is not None:
        w = _broadcast_constant(w.astype(x.dtype, copy=False), x.shape, op, "weight")
    pw = _constant(pos_weight, first, op, "pos_weight", cast=True)
    if pw is not None:
        pw = _broadcast_constant(pw.astype(x.dtype, copy=False), x.shape, op, "pos_weight")
    out = loss.BinaryCrossEntropyWithLogits.apply(x, y, reduction=reduction, weight=w,
                                                  pos_weight=pw)
    # PyTorch's result has the target's dtype (computed here in the wider one, then cast)
    return out if not isinstance(target, Tensor) or target.dtype == out.dtype \
        else out.to(target.dtype)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """The Kullback-Leibler divergence ``Σ t (log t - input)`` of log-probabilities ``input``
    from the target distribution ``t`` (given as log-probabilities too with ``log_target``).
    ``reduction="batchmean"`` divides the sum by the batch size -- the true KL divergence per
    sample; ``"mean"`` (the default, as in PyTorch) divides by the number of elements."""
    op = "kl_div"
    asked = reduction
    reduction = _reduction(reduction, op, size_average, reduce, extra=("batchmean",))
    # (a 0-d input is not divided; an empty batch is 0 / 0 = NaN, as in PyTorch)
    batch = input.shape[0] if isinstance(input, Tensor) and input.ndim else None
    x, t = _pair(input, target, op, integer_target=False, bool_target=False,
                 broadcast="quiet")
    if asked == "batchmean" and reduction != "batchmean":
        # PyTorch's: the legacy arguments pick the reduction, and the asked 'batchmean' still
        # divides by the input's batch size
        out = loss.KLDiv.apply(x, t, reduction=reduction, log_target=bool(log_target))
        return out / batch if batch is not None else out
    if reduction == "mean" and asked == "mean":  # PyTorch's warning, word for word
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", UserWarning, stacklevel=2)
    if reduction == "batchmean":
        if x.dtype == np.float16 and x.ndim:  # the sum in float32, divided, rounded once (a
            # float16 sum past 65,504 was inf, where the mean per sample is not)
            each = loss.KLDiv.apply(x, t, reduction="none", log_target=bool(log_target))
            return (each.float().sum() / batch).to(np.float16)
        total = loss.KLDiv.apply(x, t, reduction="sum", log_target=bool(log_target))
        return total / batch if batch is not None else total  # (the input's batch, before
        # broadcasting)
    return loss.KLDiv.apply(x, t, reduction=reduction, log_target=bool(log_target))


# ------------------------------------------------------------------------------ likelihoods
def _reduced(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of ``target ~ Poisson(rate)``, up to a constant:
    ``exp(x) - y x`` for ``log_input`` (``x`` the log-rate), else ``x - y log(x + eps)``.
    ``full`` adds Stirling's ``y log y - y + log(2 pi y) / 2`` where ``y > 1``. Input and target
    broadcast; both are differentiated (as in PyTorch)."""
    op = "poisson_nll_loss"
    reduction = _reduction(reduction, op, size_average, reduce)
    x = _floating(input, op)
    if not isinstance(target, Tensor):
        target = Tensor(np.asarray(target), dtype=x.dtype, device=x.device)
    try:
        np.broadcast_shapes(x.shape, target.shape)
    except ValueError:
        raise ArgumentValueError(f"{op}: input {x.shape} and target {target.shape} cannot be broadcast "
                                 "together") from None
    y = target
    loss = (x.exp() - y * x) if log_input else (x - y * (x + eps).log())
    if full:
        stirling = y * y.log() - y + 0.5 * (2 * math.pi * y).log()
        loss = loss + stirling.masked_fill(y <= 1, 0)
    return _reduced(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False,
                      eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of ``target ~ N(input, var)``, up to a constant:
    ``(log(max(var, eps)) + (x - y)² / max(var, eps)) / 2`` (``full``: plus ``log(2 pi) / 2``).
    ``var`` has the input's shape, or one dim less, or a size-1 dim where the input has more (one
    variance shared along it), or is a float. The clamp to ``eps`` is made under ``no_grad``, as
    PyTorch's: the gradient of ``var`` flows as if it were not clamped."""
    op = "gaussian_nll_loss"
    x = _floating(input, op)
    t_shape = tuple(target.shape) if hasattr(target, "shape") else np.shape(target)
    try:  # (up front, so that the error names this loss, not the subtraction inside it)
        np.broadcast_shapes(x.shape, t_shape)
    except ValueError:
        raise ArgumentValueError(f"{op}: input {x.shape} and target {t_shape} cannot be broadcast "
                                 "together; give the target the input's shape") from None
    if isinstance(var, float):
        if var < 0:
            raise ArgumentValueError(f"{op}: var has negative entry/entries (got {var}); variances are >= 0")
        var = var * ones_like(x)
    elif not isinstance(var, Tensor):
        raise TypeError(f"{op}: var must be a Tensor or a float, got {type(var).__name__} {var!r}; "
                        "for a number, write it as a float (1.0)")
    elif var.dtype.kind != "f":  # (PyTorch: "result type Float can't be cast to ... long")
        raise ArgumentTypeError(f"{op}: var must be a floating tensor, got {var.dtype}; convert it with "
                        ".to(input.dtype)")
    elif var.numel() and bool((var._data < 0).any()):
        raise ArgumentValueError(f"{op}: var has negative entry/entries; variances are >= 0")
    if var.shape != x.shape:
        if x.shape[:-1] == var.shape:  # one variance per sample (homoscedastic): (N,) for (N, D)
            var = var.unsqueeze(-1)
        elif not (x.ndim == var.ndim and
                  sum(v for i, v in zip(x.shape, var.shape) if i != v) == 1):
            raise ArgumentValueError(f"{op}: var is of incorrect size: {var.shape} for the input {x.shape} "
                                     "(give the input's shape, the input's shape without its last dim, or "
                                     "the input's shape with one dim of size 1)")
    if reduction not in REDUCTIONS:
        raise ArgumentValueError(f"{op}: {reduction} is not valid; use one of {REDUCTIONS}")
    var = var.clone()
    with no_grad():  # (in place, so the clamp changes the value but not the gradient's path)
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (x - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduced(loss, reduction)
