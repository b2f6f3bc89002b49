"""Normalisation functions of ``nn.functional``: ``F.batch_norm``, ``F.instance_norm``,
``F.layer_norm``, ``F.group_norm``, ``F.rms_norm`` (and ``F.normalize``, the Lp normalisation of vectors, and
``F.local_response_norm``, AlexNet's normalisation across channels).

Each is the ``normalize`` op over its dims and an ``affine`` op (``ops/norm.py``). Running
statistics are updated here, in place, like PyTorch: ``running = (1 - momentum) * running +
momentum * batch`` with the *unbiased* batch variance, the buffers' version counters bumped.

Mixed precision, as PyTorch on the CPU: a float16 input with float32 parameters (and running
statistics) is normalised in float32 and the result rounded to float16; the parameters, their
gradients and the running statistics stay float32, the input's gradient is float16. Any other
mix of dtypes is an error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn import layout
from tinygrad_cnn.autograd import Context, Function, is_grad_enabled
from tinygrad_cnn.backend import (
    ArgumentTypeError,
    ArgumentValueError,
    array_module,
    no_memory,
    out_of_memory,
    quiet_if_shown,
    type_name,
)
from tinygrad_cnn.nn._checks import floating as _floating
from tinygrad_cnn.ops import norm, pool
from tinygrad_cnn.tensor import Tensor, _int_arg, where


def _params(x: Tensor, weight: Tensor | None, bias: Tensor | None, shape: tuple[int, ...],
            op: str) -> tuple[Tensor, Tensor]:
    """``weight`` and ``bias`` checked against ``shape`` (which they are viewed as) and the
    input's dtype; a missing one is the identity (ones, zeros)."""
    size = math.prod(shape)
    if isinstance(weight, Tensor) and isinstance(bias, Tensor) and weight._data.size == size == \
            bias._data.size and weight._data.dtype == x._data.dtype == bias._data.dtype:
        return weight, bias  # (the common case, every check below passed)
    _tensors(op, weight=weight, bias=bias)
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and (not isinstance(t, Tensor) or t.numel() != size):
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ArgumentValueError(f"{op}: {what} must have {size} elements (shape "
                                     f"{tuple(s for s in shape if s != 1) or (1,)}), got {got}")
        if t is not None and t.dtype != x.dtype:
            raise _dtype_error(op, x, what, t)
    xp = array_module(x._data)
    flat = tuple(s for s in shape if s != 1) or (1,)
    if weight is None:
        weight = Tensor._make(xp.ones(flat, dtype=x.dtype))
    if bias is None:
        bias = Tensor._make(xp.zeros(flat, dtype=x.dtype))
    return weight, bias


def _layer(cls: type[norm._NormAffine], x: Tensor, weight: Tensor | None, bias: Tensor | None,
           shape: tuple[int, ...], op: str, dims: tuple[int, ...], eps: float, groups: int = 0,
           zero_degenerate: bool = False, stats: bool = False) -> tuple[Tensor, Any, Any]:
    """The layer's op (``cls``: normalize and affine in one node), or ``normalize`` alone when
    it has neither weight nor bias (group norm: its op with ones and zeros); and, with
    ``stats``, the batch statistics it used ``(out, mean, var)`` (None otherwise). When no node
    is recorded the op's forward runs on a context of ours, to read them back."""
    attrs: dict[str, Any] = {"dims": dims, "eps": eps}
    if zero_degenerate:  # (an attribute the op records only when set: see norm._rstd)
        attrs["zero_degenerate"] = True
    if weight is None and bias is None and not groups:  # (group norm: one node all the same,
        # not normalize between two reshapes)
        return _with_statistics(norm.Normalize, (x,), attrs)
    weight, bias = _params(x, weight, bias, shape, op)
    attrs["shape"] = shape
    if groups:
        attrs["groups"] = groups
    if not stats:
        return cls.apply(x, weight, bias, **attrs), None, None
    return _with_statistics(cls, (x, weight, bias), attrs)


def _with_statistics(cls: type[Function], inputs: tuple[Tensor, ...], attrs: dict[str, Any]
                     ) -> tuple[Tensor, Any, Any]:
    """``cls.apply(*inputs, **attrs)`` and the batch statistics its forward used, ``(out, mean,
    var)``: from its node, or where none is recorded (nothing requires grad, ``no_grad()``,
    ``inference_mode()`` with ``enable_grad()`` inside: t179) from its forward run on a context
    of ours -- quiet as apply is (t151)."""
    if is_grad_enabled() and any(t.requires_grad for t in inputs):
        out = cls.apply(*inputs, **attrs)
        if out.grad_fn is not None:
            return out, out.grad_fn.mean, out.grad_fn.var
    ctx = Context(cls, (False,) * len(inputs))
    try:
        with quiet_if_shown():
            out = Tensor._make(cls.forward(ctx, *(t._data for t in inputs), **attrs))
    except (MemoryError, ValueError) as exc:  # (named, as apply names it: t182)
        if out_of_memory(exc):
            raise no_memory(cls.name, exc) from None
        raise
    return out, ctx.mean, ctx.var


def _mixed_precision(x: Tensor, *params: Tensor | None) -> bool:
    """A float16 input with float32 parameters (those given): PyTorch's mixed precision."""
    if x._data.dtype != np.float16:  # (the common case first: no list)
        return False
    given = [t for t in params if isinstance(t, Tensor)]
    return bool(given) and all(t.dtype == np.float32 for t in given)


def _dtype_error(op: str, x: Tensor, what: str, t: Tensor) -> TypeError:
    # (a TypeError and PyTorch's RuntimeError: its "mixed dtype (CPU)" error)
    return ArgumentTypeError(f"{op}: the input is {x.dtype} but {what} is {t.dtype}; cast one of "
                             "them (.float() / .double()); mixed precision is a float16 input with "
                             "every parameter and running statistic in float32")


def _check_numbers(op: str, **values: Any) -> None:
    """PyTorch's TypeError for a ``momentum``/``eps`` that is not a number (None, a string)."""
    for name, v in values.items():
        if isinstance(v, Tensor) and v.ndim == 0:  # (a 0-d tensor or a bool: PyTorch takes them)
            continue
        if not isinstance(v, (int, float, np.integer, np.floating, np.bool_)):
            hint = " (a cumulative average: the layer's momentum=None)" \
                if name == "momentum" and v is None else ""
            raise TypeError(f"{op}: argument '{name}' must be a float, not "
                            f"{type(v).__name__}{hint}")


def _tensors(op: str, **args: Any) -> None:
    """Each given argument a Tensor: a numpy array there is PyTorch's TypeError, named."""
    for what, t in args.items():
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {what} must be a Tensor, got {type_name(t)} (wrap it: "
                            "tinygrad_cnn.tensor(...))")


def _same_dtype(x: Tensor, op: str, **stats: Tensor | None) -> None:
    """The running statistics in the input's dtype (PyTorch's CPU kernel refuses others)."""
    for what, t in stats.items():
        if t is not None and t.dtype != x.dtype:
            raise _dtype_error(op, x, what, t)


def _number(v: Any) -> float:
    return float(v.item()) if isinstance(v, Tensor) else float(v)


def _check_params(x: Tensor, weight: Tensor | None, bias: Tensor | None, c: int, op: str) -> None:
    _tensors(op, weight=weight, bias=bias)  # (a numpy array: named as such, not as a shape)
    for what, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if not isinstance(t, Tensor) or t.shape != (c,):
            got = t.shape if isinstance(t, Tensor) else type(t).__name__
            raise ArgumentValueError(f"{op}: {what} must have shape ({c},), one value per channel, got "
                                     f"{got}")
        if t.dtype != x.dtype:
            raise _dtype_error(op, x, what, t)


def _check_running(x: Tensor, c: int, op: str, running_mean: Tensor | None,
                   running_var: Tensor | None) -> None:
    """The running statistics (those given) have one value per channel."""
    for what, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.shape != (c,):
            raise ArgumentValueError(f"{op}: {what} must have shape ({c},) for the {c} channels of "
                                     f"the input {x.shape}, got {t.shape}")


def _no_grad_for_statistics(op: str, running_mean: Any, running_var: Any) -> None:
    """PyTorch's rule: the running statistics are not differentiated (they are read in eval
    mode, updated in place while training), so one that requires grad is an error while grad
    mode is on -- not a gradient silently left None, nor an in-place change to it unrecorded."""
    if not is_grad_enabled():
        return
    for what, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.requires_grad:
            raise RuntimeError(
                f"{op}: not differentiable with respect to argument '{what}' (as in PyTorch): "
                f"this input cannot have requires_grad=True; pass {what}.detach() (or a "
                "buffer), or call it under no_grad()")


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _update_running(running: Tensor, batch: Any, momentum: float) -> None:
    """``running = (1 - momentum) * running + momentum * batch``, in place. A float16 buffer is
    updated in float32 and rounded once, as PyTorch does: the batch variance may be past float16's
    range (65504) while the moving average is not."""
    acc = np.float32 if running.dtype == np.float16 else running.dtype
    with quiet_if_shown():  # (a float64 variance past float32's range casts to inf, quietly: t186)
        batch = batch.reshape(running.shape).astype(acc, copy=False)
        if acc == running.dtype:
            running._data *= 1 - momentum
            running._data += momentum * batch
        else:
            running._data[...] = running._data.astype(acc) * (1 - momentum) + momentum * batch
    running._version_counter[0] += 1


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) over the batch and all other dims: ``(N, C)``,
    ``(N, C, L)``, ``(N, C, H, W)``. While ``training``: batch statistics, and the running ones
    (when given) move towards them; otherwise the running statistics."""
    op = "batch_norm"
    x = _floating(input, op)
    _check_numbers(op, momentum=momentum, eps=eps)
    momentum, eps = _number(momentum), _number(eps)
    _tensors(op, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var)
    _no_grad_for_statistics(op, running_mean, running_var)
    if (running_mean is None) != (running_var is None):
        raise ArgumentValueError(f"{op}: running_mean and running_var must either both be None or "
                                 "neither be None")
    if x.ndim < 2:
        raise ArgumentValueError(f"{op}: expected an input (N, C, ...) with at least 2 dims, got {x.shape}")
    if _mixed_precision(x, weight, bias, running_mean, running_var):
        return batch_norm(x.float(), running_mean, running_var, weight, bias, training, momentum,
                          eps).half()
    c = x.shape[1]
    _check_running(x, c, op, running_mean, running_var)

    dims = (0,) + tuple(range(2, x.ndim))
    shape = _channel_shape(x)
    if training:
        if not eps > 0:  # (PyTorch's check: with eps 0 a constant channel divides by 0)
            raise ArgumentValueError(f"{op}: eps must be positive during training, but got {eps}")
        n = x.numel() // max(c, 1)
        if n <= 1 and x.numel() > 0:
            raise ArgumentValueError(f"{op}: expected more than 1 value per channel when training, got "
                                     f"input size {x.shape}")
        _same_dtype(x, op, running_mean=running_mean, running_var=running_var)
        track = x.numel() and (running_mean is not None or running_var is not None)
        y, mean, var = _layer(norm.BatchNorm, x, weight, bias, shape, op, dims, float(eps),
                              stats=bool(track))
        if track:  # an empty batch leaves the running statistics alone (as PyTorch)
            if running_mean is not None:
                _update_running(running_mean, mean, momentum)
            if running_var is not None:
                _update_running(running_var, var * (n / (n - 1)), momentum)
        return y
    if running_mean is None or running_var is None:
        raise ArgumentValueError(f"{op}: running_mean and running_var are needed when not training")
    if not eps >= 0:  # (PyTorch's check in every mode: a negative eps gave NaN here -- t199)
        raise ArgumentValueError(f"{op}: eps must be non-negative, but got {eps}")
    _check_params(x, weight, bias, c, op)
    _same_dtype(x, op, running_mean=running_mean, running_var=running_var)
    if x.dtype == np.float16:  # computed in float32 and rounded once, as PyTorch's kernel does
        def wide(t: Tensor | None) -> Tensor | None:
            return None if t is None else t.float()

        return batch_norm(x.float(), wide(running_mean), wide(running_var), wide(weight),
                          wide(bias), False, momentum, eps).half()
    # eval mode: a fixed per-channel map, (x - mean) * scale + bias with scale = weight * rstd --
    # centred first (folded into x * scale + (bias - mean * scale), the product cancelled
    # against the shift: float16 inputs near 1000 were 16% off, and the weight's gradient, then
    # rstd (Σ g x - mean Σ g), NaN (inf - inf) -- t196)
    xp = array_module(x._data)
    rstd = Tensor._make(1.0 / xp.sqrt(running_var._data.astype(x.dtype) + eps))
    mean = Tensor._make(running_mean._data.astype(x.dtype).reshape(shape))
    scale = rstd if weight is None else weight * rstd
    shift = Tensor._make(xp.zeros(c, x.dtype)) if bias is None else bias
    return norm.Affine.apply(x - mean, scale, shift, shape=shape)


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample over its spatial dims: ``(N, C, *spatial)``. The
    running statistics (when given) move towards the batch's average of the per-sample ones."""
    op = "instance_norm"
    x = _floating(input, op)
    _check_numbers(op, momentum=momentum, eps=eps)
    momentum, eps = _number(momentum), _number(eps)
    _tensors(op, weight=weight, bias=bias, running_mean=running_mean, running_var=running_var)
    _no_grad_for_statistics(op, running_mean, running_var)
    if x.ndim < 3:
        raise ArgumentValueError(f"{op}: expected an input (N, C, *spatial) with at least 3 dims, got "
                                 f"{x.shape}")
    if _mixed_precision(x, weight, bias, running_mean, running_var):
        return instance_norm(x.float(), running_mean, running_var, weight, bias, use_input_stats,
                             momentum, eps).half()
    if (running_mean is None) != (running_var is None):
        raise ArgumentValueError(f"{op}: running_mean and running_var must either both be None or "
                                 "neither be None")
    n, c = x.shape[:2]
    dims = tuple(range(2, x.ndim))
    shape = _channel_shape(x)
    _check_params(x, weight, bias, c, op)  # (before a running statistic moves: t178)
    _check_running(x, c, op, running_mean, running_var)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ArgumentValueError(f"{op}: running_mean and running_var are needed when "
                                     "use_input_stats=False")
        # (the statistics in the input's dtype: PyTorch's instance_norm takes others here)
        rm, rv = (t if t.dtype == x.dtype else t.to(x.dtype) for t in (running_mean, running_var))
        return batch_norm(x, rm, rv, weight, bias, False, momentum, eps)
    count = _count(x.shape, dims)
    if count == 1:  # (no spatial element at all: an empty result, as PyTorch)
        raise ArgumentValueError(f"{op}: expected more than 1 spatial element per channel when "
                                 f"training, got input size {x.shape}")
    # (eps=0 over a constant channel: 0, not NaN, as PyTorch's batch-norm kernel behind it)
    # (an empty batch -- or no spatial element -- leaves them alone, as PyTorch: t182)
    track = x.numel() > 0 and (running_mean is not None or running_var is not None)
    y, mean, var = _layer(norm.InstanceNorm, x, weight, bias, shape, op, dims, float(eps),
                          zero_degenerate=eps == 0, stats=track)
    if running_mean is not None and track:
        _update_running(running_mean, mean.reshape(n, c).mean(0), momentum)
    if running_var is not None and track:
        unbiased = var.reshape(n, c) * (count / (count - 1))
        _update_running(running_var, unbiased.mean(0), momentum)
    return y


def _count(shape: tuple[int, ...], dims: tuple[int, ...]) -> int:
    return math.prod(shape[d] for d in dims)


def _int_shape(normalized_shape: Any, op: str) -> tuple[int, ...]:
    """``normalized_shape`` as a tuple of ints: an int, or a sequence of ints or 0-d integer
    tensors (a float, a bool or a string in it is PyTorch's TypeError, not a size cut to an int
    or read as 1)."""
    if type(normalized_shape) is tuple and all(type(s) is int for s in normalized_shape):
        return normalized_shape  # (the common case: no checks to make)
    if _is_size(normalized_shape):
        return (int(normalized_shape),)
    if isinstance(normalized_shape, (Tensor, str, bytes, bool, np.bool_)) or not hasattr(
            normalized_shape, "__iter__"):
        raise TypeError(f"{op}: normalized_shape must be an int or a tuple of ints, got "
                        f"{type_name(normalized_shape)}")
    normalized_shape = list(normalized_shape)
    for i, s in enumerate(normalized_shape):
        if isinstance(s, Tensor) and s.ndim == 0 and s.dtype.kind in "iu":
            normalized_shape[i] = s.item()
        elif not _is_size(s):
            raise TypeError(f"{op}: normalized_shape must be a tuple of ints, but found element of "
                            f"type {type(s).__name__} at pos {i}")
    return tuple(int(s) for s in normalized_shape)


def _is_size(s: Any) -> bool:
    return isinstance(s, (int, np.integer)) and not isinstance(s, bool)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` dims; ``weight`` and ``bias`` have
    ``normalized_shape`` (a scale and shift per element)."""
    op = "layer_norm"
    x = _floating(input, op)
    if _mixed_precision(x, weight, bias):
        return layer_norm(x.float(), normalized_shape, weight, bias, eps).half()
    shape = _int_shape(normalized_shape, op)
    k = len(shape)
    if k == 0 or x.shape[x.ndim - k:] != shape or k > x.ndim:
        raise ArgumentValueError(f"{op}: normalized_shape {shape} must be the last dims of the input, "
                                 f"whose shape is {x.shape}")
    _tensors(op, weight=weight, bias=bias)  # (a list there: PyTorch's TypeError, not ours -- t189)
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ArgumentValueError(f"{op}: {what} must have the normalized shape {shape}, got "
                                     f"{t.shape}")
    dims = tuple(range(x.ndim - k, x.ndim))
    return _layer(norm.LayerNorm, x, weight, bias, (1,) * (x.ndim - k) + shape, op, dims,
                  float(eps))[0]


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int],
             weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation over the last ``len(normalized_shape)`` dims:
    ``x / sqrt(mean(x²) + eps) * weight`` (no centring). ``eps=None`` is the machine epsilon of
    the computation's dtype. As PyTorch: a float16 input is computed in float32, the result has the
    input's dtype whatever ``weight``'s. A composition of tensor ops (its gradients follow)."""
    op = "rms_norm"
    x = _floating(input, op)
    shape = _int_shape(normalized_shape, op)
    k = len(shape)
    if k == 0 or k > x.ndim or x.shape[x.ndim - k:] != shape:
        raise ArgumentValueError(f"{op}: normalized_shape {shape} must be the last dims of the input, "
                                 f"whose shape is {x.shape}")
    _tensors(op, weight=weight)
    if weight is not None and (not isinstance(weight, Tensor) or weight.shape != shape):
        got = weight.shape if isinstance(weight, Tensor) else type(weight).__name__
        raise ArgumentValueError(f"{op}: weight must have the normalized shape {shape}, got {got}")
    acc = np.dtype(np.float32) if x.dtype == np.float16 else x.dtype
    xa = x if x.dtype == acc else x.to(acc)
    eps = float(np.finfo(acc).eps) if eps is None else float(eps)
    dims = tuple(range(x.ndim - k, x.ndim))
    if not xa.is_contiguous() and math.prod(shape) > 8:
        # the normalised dims innermost: numpy sums pairwise only there (a Fortran-ordered
        # input's mean of squares was 500x less accurate than PyTorch's)
        xa = xa.contiguous()
    square = (xa * xa).mean(dims, keepdim=True)
    if bool(array_module(square._data).isinf(square._data).any()):
        # squares past the dtype's range (float32's [1e38, 2e38, -1e38, 3e38] gave 0, as
        # PyTorch's): the same x / sqrt(mean(x²) + eps), each group divided by its largest
        # magnitude first (at least 1, so that eps / s² stays finite; held constant: the value
        # and the gradient are those of the formula)
        # (a group holding inf or NaN is left as it is: its finite elements give 0 and the
        # others NaN, as PyTorch's -- divided by an inf scale, every element was NaN)
        top = xa.detach().abs().amax(dims, keepdim=True)
        scale = where(top.isfinite(), top.clamp_min(1.0), 1.0)
        z = xa / scale
        square = (z * z).mean(dims, keepdim=True) + eps / (scale * scale)
        y = z * square.rsqrt()
    else:
        y = xa * (square + eps).rsqrt()
    if weight is not None:
        y = y * (weight if weight.dtype == acc else weight.to(acc))
    y = y if y.dtype == x.dtype else y.to(x.dtype)
    if x.ndim == 4 and not x._data.flags.c_contiguous and y._data.flags.c_contiguous \
            and x.is_contiguous(memory_format=layout.channels_last):
        y = y.contiguous(memory_format=layout.channels_last)  # (as PyTorch's, whose pointwise
        # ops keep the input's layout: ours went through a C-order copy, above)
    return y


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the channels (dim 1) into ``num_groups`` groups and normalise each group of each
    sample over its channels and spatial dims; then a scale and shift per channel."""
    op = "group_norm"
    x = _floating(input, op)
    if x.ndim < 2:
        raise ArgumentValueError(f"{op}: expected an input (N, C, ...) with at least 2 dims, got {x.shape}")
    if _mixed_precision(x, weight, bias):
        return group_norm(x.float(), num_groups, weight, bias, eps).half()
    n, c = x.shape[:2]
    if num_groups < 1 or c % num_groups:
        raise ArgumentValueError(f"{op}: num_groups={num_groups} must divide the {c} channels of the "
                                 f"input {x.shape}")
    size = [n * c // num_groups, num_groups, *x.shape[2:]]
    if size[0] * math.prod(x.shape[2:]) == 1:  # PyTorch's check, in training and eval alike
        raise ArgumentValueError(f"{op}: Expected more than 1 value per channel when training, got input "
                                 f"size {size} (one sample whose groups hold one value each: each would "
                                 "normalise to 0; use fewer groups or more values)")
    _check_params(x, weight, bias, c, op)  # (a vector per channel, as PyTorch's)
    return _layer(norm.GroupNorm, x, weight, bias, _channel_shape(x), op, (2,), float(eps),
                  groups=num_groups)[0]


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim`` (vectors scaled to unit length)."""
    x = _floating(input, "normalize")
    # norm, not sqrt of a sum of squares: its gradient at a zero vector is 0, not 0/0 = NaN, so
    # a zero row gets g / eps, as in PyTorch
    return x / x.norm(p, dim, keepdim=True).clamp(min=eps)


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """AlexNet's normalisation across channels, ``(N, C, *) -> (N, C, *)``:
    ``x / (k + alpha / size * sum of x² over the channels c - size//2 .. c + (size-1)//2) **
    beta`` -- PyTorch's formula: the window over the channels is padded with zeros and the sum
    divided by ``size`` whatever part of it falls outside (an ``avg_pool2d`` of ``x²`` with kernel
    ``(size, 1)`` over the channels)."""
    op = "local_response_norm"
    x = _floating(input, op)
    if x.ndim < 3:
        raise ArgumentValueError(f"{op}: expected an input (N, C, *) with 3 or more dims, got {x.ndim} "
                                 f"dims {x.shape}")
    size = _int_arg(size, op, "size")
    if size < 1:
        raise RuntimeError(f"{op}: size (the number of neighbouring channels) must be positive, "
                           f"got {size}")
    if x.numel() == 0:
        return x
    n, c = x.shape[:2]
    squares = (x * x).reshape(n, 1, c, -1)  # (N, C, *) -> (N, 1, C, M)
    squares = squares.pad((0, 0, size // 2, (size - 1) // 2))  # zeros around the channels
    # the mean of `size` neighbouring channels: (N, 1, C + size - 1, M) -> (N, 1, C, M)
    mean = pool.AvgPool2d.apply(squares, kernel_size=(size, 1), stride=(1, 1), padding=(0, 0),
                                ceil_mode=False, count_include_pad=True)
    return x / (mean.reshape(x.shape) * alpha + k) ** beta
