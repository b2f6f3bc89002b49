"""Training utilities with PyTorch's names: gradient clipping (``clip_grad_norm_``, which is
``get_total_norm`` then ``clip_grads_with_norm_``; ``clip_grad_value_``; the deprecated
``clip_grad_norm``) and flattening parameters into one vector and back (``parameters_to_vector``,
``vector_to_parameters``); ``rnn`` pads sequences of different lengths (``pad_sequence``)."""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.backend import array_module, quiet, to_device
from tinygrad_cnn.nn.utils import rnn as rnn
from tinygrad_cnn.nn.utils import stateless as stateless
from tinygrad_cnn.tensor import Tensor, cat

Params = Tensor | Iterable[Tensor]


def _as_list(parameters: Params) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


@quiet
def _vector_norm(a: Any, p: float, op: str) -> Any:
    """PyTorch's ``linalg.vector_norm`` of an array, as a 0-d array of its dtype: float16 is
    accumulated in float32 and rounded once (PyTorch's opmath), so a norm that fits float16 is not
    lost to squares that overflow it. ``inf``/``-inf``: the largest/smallest ``|x|``; 0: the number
    of nonzeros; otherwise ``sum(|x|**p) ** (1/p)``."""
    xp = array_module(a)
    x = xp.abs(a.astype(np.float32) if a.dtype == np.float16 else a)
    if x.size == 0 and (p < 0 or math.isinf(p)):
        raise RuntimeError(f"{op}: the {p} norm of an empty gradient is undefined (the reduction "
                           "has no identity); give that parameter no .grad or use a norm_type "
                           "in [0, inf)")
    if math.isinf(p):
        n = x.max() if p > 0 else x.min()
    elif p == 0:
        n = (x != 0).sum(dtype=x.dtype)
    elif p == 1:
        n = x.sum()
    elif p == 2:
        n = xp.sqrt((x * x).sum())
    else:
        n = (x ** x.dtype.type(p)).sum() ** x.dtype.type(1.0 / p)
    return xp.asarray(n, dtype=a.dtype)


def _tensors(tensors: Params, op: str) -> list[Tensor]:
    out = _as_list(tensors)
    for i, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, got {a_type(t)} at position {i}; "
                            "pass the gradients, e.g. [p.grad for p in params if p.grad is not "
                            "None]")
        if t.dtype.kind not in "fc":
            raise RuntimeError(f"{op}: linalg.vector_norm expects floating point tensors, got "
                               f"{t.dtype} at position {i} (shape {t.shape}); convert it with "
                               ".float()")
    return out


@quiet
def get_total_norm(tensors: Params, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The ``norm_type`` norm of ``tensors`` taken together: the norm of their norms, as if they
    were one vector (PyTorch's ``linalg.vector_norm``: ``inf`` the largest absolute value, 0 the
    count of nonzeros). Of the promoted dtype of the tensors; float16 is summed in float32 and
    each norm rounded to float16, as in PyTorch. No tensors: 0.0 (float32). A NaN or infinite
    total is an error with ``error_if_nonfinite``. ``foreach`` is accepted and ignored (it picks
    PyTorch's kernels)."""
    return _total_norm(_tensors(tensors, "get_total_norm"), norm_type, error_if_nonfinite,
                       "get_total_norm")


def _total_norm(tensors: list[Tensor], norm_type: float, error_if_nonfinite: bool,
                op: str) -> Tensor:
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(np.array(0.0, dtype=np.float32))
    xp = array_module(tensors[0]._data)
    norms = [_vector_norm(t._data, norm_type, op) for t in tensors]
    dtype = np.result_type(*[n.dtype for n in norms])
    total = _vector_norm(xp.stack([n.astype(dtype) for n in norms]), norm_type, op)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"{op}: the total norm of order {norm_type} of the gradients is "
                           "non-finite, so it cannot be clipped; pass error_if_nonfinite=False "
                           "to clip anyway")
    return Tensor._make(total)


@quiet
def clip_grads_with_norm_(parameters: Params, max_norm: float, total_norm: Tensor,
                          foreach: bool | None = None) -> None:
    """Scale the gradients of ``parameters`` in place by ``min(max_norm / (total_norm + 1e-6),
    1)``, for a ``total_norm`` already computed (``get_total_norm``) -- ``clip_grad_norm_`` in
    two steps, as PyTorch's. The coefficient is computed in ``total_norm``'s dtype, each step
    rounded to it, and each gradient multiplied in its opmath type (float32 for float16) and
    rounded once. ``foreach`` is accepted and ignored."""
    if not isinstance(total_norm, Tensor):
        raise TypeError(f"clip_grads_with_norm_: total_norm must be a Tensor (what "
                        f"get_total_norm returns), got {type(total_norm).__name__}; pass "
                        "tinygrad_cnn.tensor(total_norm)")
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    total = total_norm._data
    xp = array_module(total)
    dtype = total.dtype
    # PyTorch's max_norm / (total + 1e-6), clamped at 1, each step rounded to the total's dtype
    # (`number / tensor` is reciprocal(tensor) * number); each gradient is then multiplied in its
    # opmath type (float32 for float16) and rounded once
    op = np.float32 if dtype == np.float16 else dtype.type
    shifted = (total.astype(op) + op(1e-6)).astype(dtype)
    coef = ((op(1) / shifted.astype(op)).astype(dtype).astype(op) * op(max_norm)).astype(dtype)
    coef = xp.minimum(coef, dtype.type(1))
    with no_grad():
        for g in grads:
            opmath = np.float32 if g.dtype == np.float16 else g.dtype
            g._data[...] = (g._data.astype(opmath, copy=False) *
                            to_device(coef, g.device).astype(opmath))
            g._version_counter[0] += 1


def clip_grad_norm_(parameters: Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type`` norm (``get_total_norm``
    of the gradients) is at most ``max_norm``: each gradient is multiplied by
    ``min(max_norm / (total + 1e-6), 1)``, in place (``clip_grads_with_norm_``). Returns the total
    norm before clipping, of the promoted dtype of the gradients; float16 gradients are summed in
    float32 and each norm rounded to float16, as in PyTorch (a float16 total past 65504 is inf,
    and clips the gradients to 0). A NaN or infinite total is an error with
    ``error_if_nonfinite``. An empty generator of parameters warns, as PyTorch's."""
    if isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)
        if not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = _total_norm(grads, norm_type, error_if_nonfinite, "clip_grad_norm_")
    clip_grads_with_norm_(params, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters: Params, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Deprecated, as in PyTorch (a ``FutureWarning``): ``clip_grad_norm_``."""
    warnings.warn("`tinygrad_cnn.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`tinygrad_cnn.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Params, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient elementwise into ``[-clip_value, clip_value]``, in place, as
    PyTorch's ``clamp_(min=-clip_value, max=clip_value)``: the lower bound first, so a negative
    ``clip_value`` sets every element to it; an element is replaced only where it is beyond a
    bound, so zeros keep their sign and a bound of 0 gives ``-0.0`` to negative elements
    (``[3., -4.]`` with 0: ``[0., -0.]``); NaN stays NaN, and a NaN ``clip_value`` makes every
    element NaN. A finite ``clip_value`` beyond the range of a gradient's dtype (past 65504 for
    float16) is PyTorch's RuntimeError."""
    c = float(clip_value)
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    for g in grads:  # every check before any change, as PyTorch checks each dtype's group first
        if math.isfinite(c) and abs(c) > float(np.finfo(g.dtype).max):
            raise RuntimeError(f"clip_grad_value_: clip_value {c} cannot be converted to "
                               f"{g.dtype} without overflow (a gradient of shape {g.shape}); pass "
                               f"at most {float(np.finfo(g.dtype).max)} or inf")
    low, high = -c, c
    for g in grads:
        xp = array_module(g._data)
        a = g._data
        if math.isnan(c):
            a[...] = np.nan
        else:  # (numpy's maximum/minimum pick either zero of a tie: -0.0 became 0.0)
            xp.copyto(a, g.dtype.type(low), where=a < low)
            xp.copyto(a, g.dtype.type(high), where=a > high)
        g._version_counter[0] += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable)."""
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Give the parameters consecutive slices of ``vec`` as their data, the inverse of
    ``parameters_to_vector``: as PyTorch's ``param.data = vec[i:i + n].view_as(param).data``, each
    parameter afterwards shares ``vec``'s memory (a change to ``vec`` shows in the parameters) and
    takes its dtype; it stays a leaf, with its ``requires_grad``. A ``vec`` longer than the
    parameters leaves its tail unused, as in PyTorch; a shorter one is an error."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got {type(vec).__name__}")
    if vec.ndim != 1:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D vector, got shape "
                           f"{tuple(vec.shape)}; flatten it with .reshape(-1)")
    params = _as_list(parameters)
    total = sum(p.numel() for p in params)
    if vec.numel() < total:
        raise RuntimeError(f"vector_to_parameters: the vector has {vec.numel()} elements, the "
                           f"parameters {total} (shapes {[tuple(p.shape) for p in params]})")
    if vec.dtype.kind != "f" and any(p.requires_grad for p in params):
        raise RuntimeError(f"vector_to_parameters: a parameter that requires grad cannot take "
                           f"{vec.dtype} data; pass a floating vector (vec.float())")
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise TypeError(f"vector_to_parameters: found parameters on different devices "
                        f"{sorted(devices)}; this supports parameters on one device only")
    start = 0
    for p in params:
        n = p.numel()
        p.data = vec[start:start + n].view_as(p).data
        start += n


def __getattr__(name: str) -> Any:
    # (a PyTorch name this module lacks: the error says what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
