"""Quantiles: ``quantile`` and ``nanquantile``, composed as PyTorch 2.13 composes them (ATen's
``Sorting.cpp``), so that values and gradients are PyTorch's at ties and NaN too:

1. the slices along ``dim`` (every element, for ``dim=None``) are sorted (stable; NaN last), with
   the values gathered, so the gradient goes back to where each sorted value came from;
2. each ``q`` becomes a rank ``q * (n - 1)`` in the input's dtype -- ``n`` the slice's size, or
   for ``nanquantile`` its count of non-NaN values (rank 0 when all are NaN); ``quantile`` puts a
   slice holding a NaN at rank ``n - 1``, a NaN;
3. ``lower``/``higher``/``nearest`` round the rank down, up, or to the nearest even integer
   (``round``) and gather that element; ``linear`` and ``midpoint`` ``lerp`` between the elements
   at ``floor`` and ``ceil`` of the rank, with the weight ``rank - floor(rank)`` or 0.5.

No op of its own is needed: the gradient is that of gather and lerp, so it goes to the one or two
sorted elements the result is made of (the later one of equal values by the stable order), and a
``q`` tensor that requires grad gets ``(above - below) * (n - 1)`` from ``linear``, as in
PyTorch. ``lerp`` of two infinities of one sign is NaN (PyTorch's formula), so is the quantile.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd import keepdim_arg
from tinygrad_cnn.tensor import Tensor, _dim, full, where

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")
_MAX_SIZE = 2**24  # PyTorch's: ranks are computed in the input's floating dtype


def _q_tensor(q: Any, input: Tensor, where: str) -> Tensor:
    """``q`` as a tensor of the input's dtype: a number in [0, 1] (checked here), or a 0-d or
    1-D tensor of that dtype (its range checked later, as PyTorch does)."""
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{where}() q must be a scalar or 1D tensor, got shape {q.shape}")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{where}() q tensor must be same dtype as the input tensor: q is "
                               f"{q.dtype}, the input {input.dtype}; convert it with "
                               f"q.to({input.dtype})")
        if q.device != input.device:
            raise RuntimeError(f"{where}() q tensor must be on the same device as the input "
                               f"tensor: q on {q.device}, the input on {input.device}")
        return q
    if not isinstance(q, (bool, int, float, np.bool_, np.integer, np.floating)):
        raise TypeError(f"{where}(): q must be a number or a Tensor, got {type(q).__name__}")
    value = float(q)
    if not 0 <= value <= 1:
        raise RuntimeError(f"{where}() q must be in the range [0, 1] but got {value}")
    return full((), value, dtype=input.dtype, device=input.device)


def _quantile(input: Tensor, q: Any, dim: int | None, keepdim: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:
    where_ = "nanquantile" if ignore_nan else "quantile"
    if not isinstance(input, Tensor):
        raise TypeError(f"{where_}(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    keepdim = keepdim_arg(where_, keepdim)
    if dim is not None and (isinstance(dim, (bool, np.bool_))
                            or not isinstance(dim, (int, np.integer))):
        raise TypeError(f"{where_}(): dim must be an int or None, got {dim!r} (one dim at a time, "
                        "as in PyTorch)")
    if not isinstance(interpolation, str):
        raise TypeError(f"{where_}(): interpolation must be a str, got "
                        f"{type(interpolation).__name__}")
    if input.numel() == 0:
        raise RuntimeError(f"{where_}() input tensor must be non-empty (shape {input.shape})")
    if input.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{where_}() input tensor must be either float or double dtype, got "
                           f"{input.dtype} (as in PyTorch); convert it with .float() or .double()")
    qt = _q_tensor(q, input, where_)
    d = None if dim is None else _dim(dim, input.ndim, where_)
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{where_}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    qa = qt._data
    if not bool(((qa >= 0) & (qa <= 1)).all()):
        raise RuntimeError(f"{where_}() q values must be in the range [0, 1]")

    if d is None:
        rows = input.reshape(-1)
    else:
        rows = input.movedim(d, -1) if input.ndim else input.reshape(1)
    n = rows.shape[-1]
    if n > _MAX_SIZE:
        raise RuntimeError(f"{where_}() input tensor is too large: {n} elements to sort along the "
                           f"dim, at most {_MAX_SIZE} (as in PyTorch)")
    sorted_ = rows.sort(-1).values  # (rest..., n); stable, NaN last; gathered: differentiable
    shape = sorted_.shape[:-1] + (qt.numel(),)  # (rest..., nq)
    qv = qt.reshape(-1)  # (nq,)
    nan = sorted_.isnan()
    if ignore_nan:
        valid = (~nan).sum(-1, keepdim=True)  # int64 (rest..., 1)
        ranks = qv * (valid - 1)  # all NaN: a negative rank, made 0 (that slice's first NaN)
        ranks = where(ranks < 0, 0.0, ranks)
    else:  # a slice with a NaN: rank n - 1, its last element, a NaN
        ranks = where(nan.any(-1, keepdim=True), float(n - 1), (qv * (n - 1)).expand(shape))
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()  # (to even on halves, as PyTorch's round)
    below = ranks.long()
    out = sorted_.gather(-1, below)
    if interpolation in ("linear", "midpoint"):
        weights = full(ranks.shape, 0.5, dtype=ranks.dtype, device=ranks.device) \
            if interpolation == "midpoint" else ranks - below
        out = out.lerp(sorted_.gather(-1, ranks.ceil().long()), weights)

    # (rest..., nq) -> (nq, rest...), or (rest...) for a 0-d or number q
    out = out.squeeze(-1) if qt.ndim == 0 else out.movedim(-1, 0)
    if keepdim and input.ndim:
        lead = () if qt.ndim == 0 else (qt.numel(),)
        if d is None:
            out = out.reshape(lead + (1,) * input.ndim)
        else:
            out = out.unsqueeze(d + len(lead))
    return out


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles of ``input`` along ``dim`` (of every element for ``None``): ``q`` a
    number in [0, 1] or a 0-d/1-D tensor of the input's dtype (a 1-D ``q`` puts its dim first in
    the result). ``interpolation`` between the two elements around the rank ``q (n - 1)``:
    ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``. A slice holding a
    NaN has a NaN quantile. float32 and float64 only, non-empty, as in PyTorch; differentiable
    (through the sort and the interpolation: see the module)."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` of the non-NaN elements of each slice (NaN where all are NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)
