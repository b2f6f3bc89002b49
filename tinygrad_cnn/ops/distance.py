"""Distances between the rows of one matrix: pdist.

``F.cosine_similarity`` and ``F.pairwise_distance`` are compositions (of norm, clone, clamp_min_,
division and sum: ``nn/functional_distance.py``), as in PyTorch. ``pdist`` is an op of its own,
as in PyTorch, because its gradient is not the norm's at special points: PyTorch's pdist kernel
gives every tied largest element the whole gradient for ``p = inf`` (the norm shares it), and
NaN where the norm's gradient uses ``sign(NaN) = 0``. This op follows that kernel's formulas.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.tensor import Tensor, where, zeros


def _pairs(n: int) -> tuple[Any, Any]:
    """The row indices ``(i, j)`` of every pair ``i < j``, in PyTorch's order (row-major over the
    upper triangle)."""
    i, j = np.triu_indices(n, 1)
    return i.astype(np.int64), j.astype(np.int64)


class Pdist(Function):
    """The ``p``-norm distance of every pair of rows ``i < j`` of ``x (N, M)``, as a vector of
    ``N (N - 1) / 2`` (PyTorch's ``pdist``; float16 is computed in float32). VJP: for each pair,
    with ``d = x_i - x_j`` and ``D`` the distance, a row gradient ``r`` added to row ``i`` and
    subtracted from row ``j``: ``p = 1``: ``g sign(d)``; ``p = 2``: ``g d / D``; ``p < 2``:
    ``g sign(d) |d|^(p-1) / D^(p-1)`` (0 where ``d = 0`` and ``p < 1``); other ``p``:
    ``g d |d|^(p-2) / D^(p-1)``; all 0 where ``D = 0``; ``p = inf``: ``g sign(d)`` at every
    element with ``|d| = D`` (ties all get it); ``p = 0``: zeros (the count of nonzeros is flat;
    PyTorch's kernel fills zeros too, so ``x.grad`` is a tensor, not None). ``sign(NaN)`` is
    NaN."""

    @staticmethod
    def forward(ctx: Context, x: Any, p: float = 2.0) -> Any:
        xp = array_module(x)
        i, j = _pairs(x.shape[0])
        ctx.pairs = (i, j)
        wide = x.astype(np.float32) if x.dtype == np.float16 else x
        d = wide[i] - wide[j]  # (P, M)
        a = xp.abs(d)
        with np.errstate(all="ignore"):  # overflow to inf, NaN in: PyTorch's results, quietly
            if p == 0:
                out = xp.minimum(xp.ceil(a), 1).sum(axis=1)
            elif p == 1:
                out = a.sum(axis=1)
            elif p == 2:
                out = xp.sqrt((a * a).sum(axis=1))
            elif math.isinf(p):
                out = a.max(axis=1) if a.shape[1] else xp.zeros(a.shape[0], a.dtype)
            else:
                out = (a**p).sum(axis=1) ** (1.0 / p)
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        x, dist = ctx.saved_tensors
        p = ctx.attrs["p"]
        if p == 0:  # (not even g * 0: PyTorch's zeros stay zeros where g is inf or NaN)
            return zeros(x.shape, dtype=x.dtype, device=x.device)
        i, j = ctx.pairs
        xp = array_module(x._data)
        d = x[i] - x[j]  # (P, M), differentiable: the VJP has derivatives of its own
        dd = d._data
        gk, dk = g.reshape(-1, 1), dist.reshape(-1, 1)  # (P, 1)
        sign = Tensor._make(xp.sign(dd))  # (numpy's sign(NaN) is NaN, as the kernel's)
        at_zero = Tensor._make(xp.broadcast_to(dk._data == 0, dd.shape))
        with np.errstate(all="ignore"):
            if p == 1:
                r = gk * sign
            elif math.isinf(p):
                # the kernel's mask 1 - min(1, ceil(||d| - D|)): 1 at the maxima, NaN with NaN
                tie = 1 - xp.minimum(1, xp.ceil(xp.abs(xp.abs(dd) - dk._data)))
                r = gk * sign * Tensor._make(tie.astype(dd.dtype, copy=False))
            else:
                safe = where(Tensor._make(dk._data == 0), 1.0, dk)  # no 0/0 in the graph
                if p == 2:
                    r = gk * d / safe
                elif p < 1:  # (|d|^(p-1) is inf at d = 0: kept out of the graph there)
                    zero = Tensor._make(dd == 0)
                    r = where(zero, 0.0, sign * where(zero, 1.0, d.abs()) ** (p - 1) * gk /
                              safe ** (p - 1))
                elif p < 2:
                    r = sign * d.abs() ** (p - 1) * gk / safe ** (p - 1)
                else:
                    r = d * d.abs() ** (p - 2) * gk / safe ** (p - 1)
                r = where(at_zero, 0.0, r)
        n = x.shape[0]
        grad = zeros(x.shape, dtype=x.dtype, device=x.device)
        return grad.index_add(0, i, r).index_add(0, j, -r) if n > 1 else grad
