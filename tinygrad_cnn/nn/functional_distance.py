"""Similarities and distances of ``nn.functional``: ``F.cosine_similarity``,
``F.pairwise_distance``, ``F.pdist``.

``cosine_similarity`` and ``pairwise_distance`` are composed exactly as PyTorch 2.13 composes them
(ATen's ``Distance.cpp``), so that their values and gradients are PyTorch's at zero vectors and
ties too:

- ``cosine_similarity`` divides each input by its own norm, clamped to at least ``eps`` under
  ``no_grad`` (the clamp changes the value, not the gradient's path: the norm's gradient flows as
  if unclamped), then sums the products. For a zero vector ``x1`` the result is 0 and its gradient
  is ``x2 / (eps ||x2||)`` -- large, as PyTorch's.
- ``pairwise_distance`` is ``norm(x1 - x2 + eps, p)`` over the last dim of the broadcast inputs.
"""

from __future__ import annotations

import numpy as np

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.backend import type_name
from tinygrad_cnn.ops import distance
from tinygrad_cnn.ops.shape import broadcast_tensors
from tinygrad_cnn.tensor import Tensor, _dim, result_type


def _tensors(op: str, **named: object) -> None:
    for what, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {what} must be a Tensor, got {type_name(t)}")


def _broadcast(op: str, x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    try:
        np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise RuntimeError(f"{op}: x1 {x1.shape} and x2 {x2.shape} cannot be broadcast together; "
                           "give them equal sizes, or size 1, in each dim") from None
    a, b = broadcast_tensors(x1, x2)
    return a, b


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim`` of the broadcast
    inputs: in ``[-1, 1]``, 0 for a zero vector. Integer inputs are cast to the floating type of
    the pair; the pair's common type must be floating."""
    op = "cosine_similarity"
    _tensors(op, x1=x1, x2=x2)
    common = result_type(x1, x2)
    if common.kind != "f":
        raise RuntimeError(f"{op}: expected the common dtype of x1 ({x1.dtype}) and x2 ({x2.dtype}) "
                           f"to be floating point, got {common}; call .float() on one of them")
    if eps < 0:
        raise RuntimeError(f"{op}: eps must be non-negative, got {eps}")
    a = x1 if x1.dtype.kind == "f" else x1.to(common)
    b = x2 if x2.dtype.kind == "f" else x2.to(common)
    a, b = _broadcast(op, a, b)
    d = _dim(dim, a.ndim, op)
    na = a.norm(2, d, keepdim=True).clone()  # (clones: they are clamped in place)
    nb = b.norm(2, d, keepdim=True).clone()
    with no_grad():
        na.clamp_min_(eps)
        nb.clamp_min_(eps)
    return ((a / na) * (b / nb)).sum(d)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """The ``p``-norm of ``x1 - x2 + eps`` over the last dim of the broadcast inputs (``(N, D)``
    and ``(N, D)``, ``(D,)`` or ``(N, D)`` -> ``(N,)``): ``eps`` keeps the gradient finite where
    the rows are equal. ``p``: any number, ``inf`` or ``-inf``."""
    op = "pairwise_distance"
    _tensors(op, x1=x1, x2=x2)
    try:
        np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise RuntimeError(f"{op}: x1 {x1.shape} and x2 {x2.shape} cannot be broadcast together; "
                           "give them equal sizes, or size 1, in each dim") from None
    innermost = max(x1.ndim, x2.ndim) - 1
    return (x1 - x2 + eps).norm(p, innermost, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2) -> Tensor:
    """The ``p``-norm distance between every pair of rows ``i < j`` of ``input (N, M)``: a vector
    of ``N (N - 1) / 2``, in the order of the upper triangle, row by row. ``p >= 0``; ``inf``
    allowed."""
    op = "pdist"
    _tensors(op, input=input)
    if input.ndim != 2:
        raise RuntimeError(f"{op} only supports 2D tensors (N, M), got {input.ndim}D of shape "
                           f"{input.shape}; for a batch, flatten or loop over it")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op} only supports floating-point dtypes, got {input.dtype}; call "
                           ".float() first")
    if not p >= 0:
        raise RuntimeError(f"{op} only supports non-negative p values, got {p}")
    return distance.Pdist.apply(input, p=float(p))
