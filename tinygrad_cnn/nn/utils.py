"""Training utilities with PyTorch's names: gradient clipping (``clip_grad_norm_``,
``clip_grad_value_``) and flattening parameters into one vector and back
(``parameters_to_vector``, ``vector_to_parameters``)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.tensor import Tensor, cat

Params = Tensor | Iterable[Tensor]


def _as_list(parameters: Params) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def clip_grad_norm_(parameters: Params, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so that their joint ``norm_type`` norm (the norm of the
    per-parameter norms; ``inf``: the largest absolute value) is at most ``max_norm``: each
    gradient is multiplied by ``min(1, max_norm / (total + 1e-6))``, in place. Returns the total
    norm before clipping. A NaN or infinite total is an error with ``error_if_nonfinite``."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.array(0.0, dtype=np.float32))
    xp = array_module(grads[0]._data)
    dtype = grads[0].dtype
    if math.isinf(norm_type):
        norms = [xp.abs(g._data).max() if g._data.size else xp.zeros((), dtype) for g in grads]
        total = xp.max(xp.stack([xp.asarray(n, dtype=dtype) for n in norms]))
    else:
        norms = [(xp.abs(g._data) ** norm_type).sum() ** (1.0 / norm_type) for g in grads]
        total = (xp.stack([xp.asarray(n, dtype=dtype) for n in norms]) ** norm_type).sum() ** \
            (1.0 / norm_type)
    total = xp.asarray(total, dtype=dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           "gradients is non-finite, so it cannot be clipped; pass "
                           "error_if_nonfinite=False to clip anyway")
    coef = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g._data *= g.dtype.type(coef)
            g._version_counter[0] += 1
    return Tensor._make(total)


def clip_grad_value_(parameters: Params, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient elementwise into ``[-clip_value, clip_value]``, in place."""
    c = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            xp = array_module(p.grad._data)
            xp.clip(p.grad._data, -c, c, out=p.grad._data)
            p.grad._version_counter[0] += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable)."""
    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters (in place, shapes kept); the
    inverse of ``parameters_to_vector``."""
    params = _as_list(parameters)
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got "
                        f"{getattr(vec, 'shape', type(vec).__name__)}")
    total = sum(p.numel() for p in params)
    if vec.numel() != total:
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} elements, the "
                         f"parameters {total}")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p._data[...] = vec._data[start:start + n].reshape(p.shape).astype(p.dtype, copy=False)
            p._version_counter[0] += 1
            start += n
