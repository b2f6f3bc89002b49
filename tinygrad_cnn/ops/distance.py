"""Distances between rows: pdist (the rows of one matrix), cdist (the rows of two).

``F.cosine_similarity`` and ``F.pairwise_distance`` are compositions (of norm, clone, clamp_min_,
division and sum: ``nn/functional_distance.py``), as in PyTorch. ``pdist`` and ``cdist`` are ops
of their own, as in PyTorch, because their gradients are not the norm's at special points:
PyTorch's distance kernels give every tied largest element the whole gradient for ``p = inf``
(the norm shares it), and NaN where the norm's gradient uses ``sign(NaN) = 0``. These ops follow
those kernels' formulas (``_pnorm_vjp``, shared).

``cdist(x1, x2, p, compute_mode)`` takes PyTorch's two paths: ``Cdist``, the direct kernel
(every ``p``), and for ``p = 2`` with more than 25 rows on either side (or
``compute_mode="use_mm_for_euclid_dist"``) ``EuclideanDist``, PyTorch's ``_euclidean_dist``: one
matrix product of the rows augmented with their squared norms -- faster, less exact (a distance
of 0 comes out as a small number), with a VJP of matrix products. The direct kernel's ``p = inf``
skips NaN (``std::max(agg, NaN)`` keeps ``agg``), where pdist's vectorised one propagates it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function, _state
from tinygrad_cnn.backend import ArgumentValueError, array_module, quiet
from tinygrad_cnn.backend import broadcast_shapes as _bshapes
from tinygrad_cnn.tensor import Tensor, where, zeros, zeros_like


def _pairs(n: int) -> tuple[Any, Any]:
    """The row indices ``(i, j)`` of every pair ``i < j``, in PyTorch's order (row-major over the
    upper triangle)."""
    i, j = np.triu_indices(n, 1)
    return i.astype(np.int64), j.astype(np.int64)


def _pnorm_vjp(d: Tensor, dist: Tensor, g: Tensor, p: float) -> Tensor:
    """PyTorch's distance kernels' gradient of ``||d||_p`` times ``g``, for the differences ``d``
    (``(..., M)``) and their distances ``dist`` and output gradients ``g`` (both ``(..., 1)``), in
    Tensor ops: ``p = 1``: ``g sign(d)``; ``p = 2``: ``g d / D``; ``p < 2``:
    ``g sign(d) |d|^(p-1) / D^(p-1)`` (0 where ``d = 0`` and ``p < 1``); other ``p``:
    ``g d |d|^(p-2) / D^(p-1)``; all 0 where ``D = 0``; ``p = inf``: ``g sign(d)`` at every element
    with ``|d| = D`` (ties all get it). ``sign(NaN)`` is NaN, as the kernels' ``sign``."""
    xp = array_module(d._data)
    dd = d._data
    sign = Tensor._make(xp.sign(dd))  # (numpy's sign(NaN) is NaN, as the kernel's)
    at_zero = Tensor._make(xp.broadcast_to(dist._data == 0, dd.shape))
    with np.errstate(all="ignore"):
        if p == 1:
            return g * sign
        if math.isinf(p):
            # the kernel's mask 1 - min(1, ceil(||d| - D|)): 1 at the maxima, NaN with NaN
            tie = 1 - xp.minimum(1, xp.ceil(xp.abs(xp.abs(dd) - dist._data)))
            return g * sign * Tensor._make(tie.astype(dd.dtype, copy=False))
        safe = where(Tensor._make(dist._data == 0), 1.0, dist)  # no 0/0 in the graph
        if p == 2:
            r = g * d / safe
        elif p < 1:  # (|d|^(p-1) is inf at d = 0: kept out of the graph there)
            zero = Tensor._make(dd == 0)
            r = where(zero, 0.0, sign * where(zero, 1.0, d.abs()) ** (p - 1) * g /
                      safe ** (p - 1))
        elif p < 2:
            r = sign * d.abs() ** (p - 1) * g / safe ** (p - 1)
        else:
            r = d * d.abs() ** (p - 2) * g / safe ** (p - 1)
        return where(at_zero, 0.0, r)


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
        d = x[i] - x[j]  # (P, M), differentiable: the VJP has derivatives of its own
        r = _pnorm_vjp(d, dist.reshape(-1, 1), g.reshape(-1, 1), p)
        n = x.shape[0]
        grad = zeros(x.shape, dtype=x.dtype, device=x.device)
        return grad.index_add(0, i, r).index_add(0, j, -r) if n > 1 else grad


# ------------------------------------------------------------------------------ cdist
_CHUNK = 1 << 22  # elements of differences held at once by the direct kernel's forward


def _lp_rows(a: Any, p: float) -> Any:
    """The ``p``-"norm" over the last axis of the absolute differences ``a``, as the direct
    kernel reduces them (``p = inf``: the largest, NaN skipped)."""
    xp = array_module(a)
    if p == 0:
        return xp.minimum(xp.ceil(a), 1).sum(axis=-1)
    if p == 1:
        return a.sum(axis=-1)
    if p == 2:
        return xp.sqrt((a * a).sum(axis=-1))
    if math.isinf(p):
        return xp.where(xp.isnan(a), 0, a).max(axis=-1)
    return (a**p).sum(axis=-1) ** (1.0 / p)


@quiet  # (g / 0 before the mask, as PyTorch's)
def _euclidean_vjp(x1: Tensor, x2: Tensor, dist: Tensor, g: Tensor, needs: Any
                   ) -> tuple[Tensor | None, Tensor | None]:
    """PyTorch's ``_euclidean_dist_backward``: with ``ratio = g / D`` (0 where ``D = 0``),
    ``sum_j ratio (x1_i - x2_j) = x1 * sum_j ratio - ratio @ x2`` for ``x1``, and likewise for
    ``x2``: matrix products instead of every pair's differences."""
    ratio = where(dist == 0, 0.0, g / dist)
    g1 = x1 * ratio.sum(-1, keepdim=True) - ratio @ x2 if needs[0] else None
    g2 = x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT @ x1 if needs[1] else None
    return g1, g2


class Cdist(Function):
    """The ``p``-norm distance of every row of ``x1 (..., P, M)`` to every row of
    ``x2 (..., R, M)`` (batch dims equal): ``(..., P, R)``, PyTorch's direct cdist kernel (float16
    computed in float32; ``p = inf`` skips NaN differences). VJP: the difference ``d`` of each
    pair through pdist's per-pair formula ``r(d, D, g)`` (``_pnorm_vjp``), summed over the rows of
    ``x2`` for ``x1``, and ``-r`` summed over the rows of ``x1`` for ``x2`` (the formula is odd in
    ``d``, so this is PyTorch's ``_cdist_backward`` with the roles swapped); ``p = 0``: zeros;
    ``p = 2``: the same sums as matrix products (``_euclidean_vjp``). In Tensor ops, so it has
    derivatives of its own (PyTorch's has none); other ``p`` hold every pair's differences,
    ``(..., P, R, M)``."""

    @staticmethod
    def forward(ctx: Context, x1: Any, x2: Any, p: float = 2.0) -> Any:
        xp = array_module(x1)
        wide = (lambda a: a.astype(np.float32)) if x1.dtype == np.float16 else (lambda a: a)
        a1, a2 = wide(x1), wide(x2)
        rows, others, m = x1.shape[-2], x2.shape[-2], x1.shape[-1]
        out = xp.zeros(x1.shape[:-2] + (rows, others), dtype=a1.dtype)
        if m and out.size:
            step = max(1, _CHUNK // max(1, out.size // max(rows, 1) * m))
            with np.errstate(all="ignore"):  # overflow to inf, NaN in: PyTorch's results
                for start in range(0, rows, step):
                    d = a1[..., start:start + step, None, :] - a2[..., None, :, :]
                    out[..., start:start + step, :] = _lp_rows(xp.abs(d), p)
        out = out.astype(x1.dtype, copy=False)
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x1, x2, dist = ctx.saved_tensors
        p = ctx.attrs["p"]
        needs = ctx.needs_input_grad
        if p == 0:  # (zeros, as PyTorch's: the inputs were used)
            return (zeros_like(x1) if needs[0] else None), (zeros_like(x2) if needs[1] else None)
        if p == 2 and dist.numel():  # sum_j g d / D as matrix products, without the
            return _euclidean_vjp(x1, x2, dist, g, needs)  # (..., P, R, M) differences
        rows, others, m = x1.shape[-2], x2.shape[-2], x1.shape[-1]
        if not _state.grad_enabled and rows * others * m > _CHUNK and dist.numel():
            return _cdist_vjp_in_rows(x1, x2, dist, g, p, needs)
        d = x1.unsqueeze(-2) - x2.unsqueeze(-3)  # (..., P, R, M)
        r = _pnorm_vjp(d, dist.unsqueeze(-1), g.unsqueeze(-1), p)
        return (r.sum(-2) if needs[0] else None), (-r.sum(-3) if needs[1] else None)


def _cdist_vjp_in_rows(x1: Tensor, x2: Tensor, dist: Tensor, g: Tensor, p: float,
                       needs: tuple[bool, ...]) -> tuple[Tensor | None, Tensor | None]:
    """:class:`Cdist`'s first-order VJP a block of ``x1``'s rows at a time, as its forward: the
    differences of every pair, ``(..., P, R, M)``, held whole took P·R·M elements (t165: 4,096
    rows on each side of 256 columns, 16 GB in float32)."""
    xp = array_module(x1._data)
    a1, a2, dd, gd = x1._data, x2._data, dist._data, g._data
    rows, m = a1.shape[-2], a1.shape[-1]
    gx1 = xp.zeros(a1.shape, dtype=a1.dtype) if needs[0] else None
    gx2 = xp.zeros(a2.shape, dtype=a2.dtype) if needs[1] else None
    step = max(1, _CHUNK // max(1, dd.size // max(rows, 1) * m))
    for start in range(0, rows, step):
        part = slice(start, start + step)
        d = Tensor._make(a1[..., part, None, :] - a2[..., None, :, :])
        r = _pnorm_vjp(d, Tensor._make(dd[..., part, :, None]), Tensor._make(gd[..., part, :, None]),
                       p)._data
        if gx1 is not None:
            gx1[..., part, :] = r.sum(axis=-2)
        if gx2 is not None:
            gx2 -= r.sum(axis=-3)
    return (None if gx1 is None else Tensor._make(gx1)), (None if gx2 is None else Tensor._make(gx2))


class EuclideanDist(Function):
    """The 2-norm distance of every row of ``x1 (..., P, M)`` to every row of ``x2 (..., R, M)``
    by one matrix product, PyTorch's ``_euclidean_dist``: ``[-2 x1, |x1|², 1] @ [x2, 1, |x2|²]^T``
    clamped at 0, square-rooted. VJP (PyTorch's ``_euclidean_dist_backward``): with
    ``ratio = g / D`` (0 where ``D = 0``), ``x1 * sum_j ratio - ratio @ x2`` and
    ``x2 * sum_i ratio - ratio^T @ x1``: matrix products, with derivatives of their own."""

    @staticmethod
    def forward(ctx: Context, x1: Any, x2: Any) -> Any:
        xp = array_module(x1)
        dt = x1.dtype
        acc = np.float32 if dt == np.float16 else dt  # (float16 sums and products in float32)
        with np.errstate(all="ignore"):
            n1 = (x1 * x1).sum(axis=-1, keepdims=True, dtype=acc).astype(dt, copy=False)
            n2 = (x2 * x2).sum(axis=-1, keepdims=True, dtype=acc).astype(dt, copy=False)
            a = xp.concatenate([x1 * dt.type(-2), n1, xp.ones_like(n1)], axis=-1)
            b = xp.concatenate([x2, xp.ones_like(n2), n2], axis=-1)
            prod = xp.matmul(a.astype(acc, copy=False), xp.swapaxes(b, -1, -2).astype(acc))
            out = xp.sqrt(xp.maximum(prod.astype(dt, copy=False), 0))  # (NaN stays NaN)
        ctx.save_for_backward(x1, x2, out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x1, x2, res = ctx.saved_tensors
        return _euclidean_vjp(x1, x2, res, g, ctx.needs_input_grad)


_COMPUTE_MODES = {"use_mm_for_euclid_dist_if_necessary": 0, "use_mm_for_euclid_dist": 1,
                  "donot_use_mm_for_euclid_dist": 2}


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The ``p``-norm distance of every row of ``x1 (..., P, M)`` to every row of
    ``x2 (..., R, M)``: ``(..., P, R)``, the batch dims broadcast. ``p >= 0`` (0 counts the
    differing elements; ``inf`` allowed). For ``p = 2``, ``compute_mode`` picks PyTorch's path:
    by default the matrix-product one when either side has more than 25 rows,
    ``"use_mm_for_euclid_dist"`` always, ``"donot_use_mm_for_euclid_dist"`` never (see the
    module). Floating tensors of one dtype; float16 too (PyTorch's CPU refuses it on the direct
    path, computes it on the matrix-product one)."""
    if compute_mode not in _COMPUTE_MODES:
        raise ArgumentValueError(f"{compute_mode} is not a valid value for compute_mode (one of "
                                 f"{', '.join(_COMPUTE_MODES)})")
    for what, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"cdist(): argument '{what}' must be a Tensor, not "
                            f"{type(t).__name__}")
    for what, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {what} got: {t.ndim}D "
                               f"(shape {t.shape}); rows of one point: reshape to (1, M)")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: X1 and X2 must have the same number of columns (the points' "
                           f"dimension). X1: {x1.shape[-1]} (shape {x1.shape}) X2: {x2.shape[-1]} "
                           f"(shape {x2.shape}); give both sets points of one dimension")
    for what, t in (("X1", x1), ("X2", x2)):
        if t.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {what} got: "
                               f"{t.dtype}; call .float() first")
    if not p >= 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if x1.dtype != x2.dtype:
        raise RuntimeError(f"cdist: expected X1 and X2 of one dtype, got {x1.dtype} and "
                           f"{x2.dtype}; convert one with .to()")
    try:
        batch = tuple(_bshapes(x1.shape[:-2], x2.shape[:-2]))
    except ValueError:
        raise RuntimeError(f"cdist: the batch dims of X1 {x1.shape} and X2 {x2.shape} cannot be "
                           "broadcast together") from None
    rows, others, m = x1.shape[-2], x2.shape[-2], x1.shape[-1]
    a, b = x1.expand(*batch, rows, m), x2.expand(*batch, others, m)
    mode = _COMPUTE_MODES[compute_mode]
    if p == 2 and x1.numel() and x2.numel() and (mode == 1 or (mode == 0 and max(rows, others)
                                                                > 25)):
        return EuclideanDist.apply(a, b)
    return Cdist.apply(a, b, p=float(p))
