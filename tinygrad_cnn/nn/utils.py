"""Training utilities with PyTorch's names: gradient clipping (``clip_grad_norm_``,
``clip_grad_value_``) and flattening parameters into one vector and back
(``parameters_to_vector``, ``vector_to_parameters``)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.backend import array_module, quiet
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


@quiet
def clip_grad_norm_(parameters: Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type`` norm (the norm of the
    per-parameter norms, as PyTorch's ``linalg.vector_norm``: ``inf`` the largest absolute value,
    0 the count of nonzeros) is at most ``max_norm``: each gradient is multiplied by
    ``min(max_norm / (total + 1e-6), 1)``, in place. Returns the total norm before clipping, of the
    promoted dtype of the gradients; float16 gradients are summed in float32 and each norm rounded
    to float16, as in PyTorch (a float16 total past 65504 is inf, and clips the gradients to 0). A
    NaN or infinite total is an error with ``error_if_nonfinite``."""
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor._make(np.array(0.0, dtype=np.float32))
    xp = array_module(grads[0]._data)
    norms = [_vector_norm(g._data, norm_type, "clip_grad_norm_") for g in grads]
    dtype = np.result_type(*[n.dtype for n in norms])
    total = _vector_norm(xp.stack([n.astype(dtype) for n in norms]), norm_type,
                         "clip_grad_norm_")
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           "gradients is non-finite, so it cannot be clipped; pass "
                           "error_if_nonfinite=False to clip anyway")
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
            g._data[...] = (g._data.astype(opmath, copy=False) * coef.astype(opmath))
            g._version_counter[0] += 1
    return Tensor._make(total)


def clip_grad_value_(parameters: Params, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient elementwise into ``[-clip_value, clip_value]``, in place (PyTorch's
    order: the lower bound first, so a negative ``clip_value`` sets every element to it; NaN
    stays NaN). A finite ``clip_value`` beyond the range of a gradient's dtype (past 65504 for
    float16) is PyTorch's RuntimeError."""
    c = float(clip_value)
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    for g in grads:  # every check before any change, as PyTorch checks each dtype's group first
        if math.isfinite(c) and abs(c) > float(np.finfo(g.dtype).max):
            raise RuntimeError(f"clip_grad_value_: clip_value {c} cannot be converted to "
                               f"{g.dtype} without overflow (a gradient of shape {g.shape}); pass "
                               f"at most {float(np.finfo(g.dtype).max)} or inf")
    for g in grads:
        xp = array_module(g._data)
        xp.maximum(g._data, g.dtype.type(-c), out=g._data)
        xp.minimum(g._data, g.dtype.type(c), out=g._data)
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
