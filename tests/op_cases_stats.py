"""Gradient-check cases (op_cases.py's format) of logcumsumexp (ops/cumulative.py), cdist
(ops/distance.py), and of the compositions added with them -- quantile, nanquantile, aminmax,
cov, corrcoef, multilabel_margin_loss -- each under a registered op it applies. Inputs are
float64 with distinct values, away from the kinks (quantile's interpolation points, tied extremes,
equal rows, the loss's hinges); the tie, NaN and infinity rules are checked against PyTorch in
test_stats_ops.py and by the fuzzer (fuzz_specs_stats.py)."""

from __future__ import annotations

import numpy as np
from op_cases import case, t

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor


# ------------------------------------------------------------------------- logcumsumexp
@case("logcumsumexp", "dim1")
def _logcumsumexp(rng):
    return (lambda a: tg.logcumsumexp(a, 1)), (t(rng, 3, 4),)


@case("logcumsumexp", "dim0_signed_gradient")
def _logcumsumexp_dim0(rng):  # the output weighted by a tensor of both signs: both VJP branches
    return (lambda a: a.logcumsumexp(0) * a), (t(rng, 5, 2),)


# ------------------------------------------------------------------------- quantile (lerp, gather)
def _q(*values):  # q values whose ranks q (n - 1) are not integers (the kinks)
    return Tensor(np.array(values), requires_grad=True)


@case("lerp", "quantile_linear")
def _quantile(rng):  # n = 5: ranks 0.4, 1.8, 3.6; the gradient reaches q too
    return (lambda a, q: tg.quantile(a, q, dim=1, keepdim=True)), (t(rng, 3, 5), _q(0.1, 0.45, 0.9))


@case("lerp", "nanquantile_midpoint")
def _nanquantile(rng):
    return (lambda a: a.nanquantile(0.3, interpolation="midpoint") * a), (t(rng, 2, 4),)


@case("gather", "quantile_nearest")
def _quantile_nearest(rng):
    return (lambda a: a.quantile(0.3, 0, interpolation="nearest") ** 2), (t(rng, 6, 2),)


# ------------------------------------------------------------------------- aminmax (min, max)
@case("max", "aminmax")
def _aminmax(rng):
    return (lambda a: tg.aminmax(a, dim=1).max * tg.aminmax(a).min), (t(rng, 3, 4),)


@case("min", "aminmax_keepdim")
def _aminmax_keepdim(rng):
    return (lambda a: a.aminmax(dim=0, keepdim=True).min * a), (t(rng, 3, 2),)


# ------------------------------------------------------------------------- cov, corrcoef
def _positive(rng, n):
    return Tensor(0.5 + rng.random(n), requires_grad=True)


@case("matmul", "cov_aweights")
def _cov(rng):  # the gradient reaches the weights too
    fweights = Tensor(np.array([1, 2, 1, 3, 1]))
    return (lambda a, w: tg.cov(a, fweights=fweights, aweights=w)), (t(rng, 3, 5), _positive(rng, 5))


@case("matmul", "cov_1d_correction0")
def _cov_1d(rng):
    return (lambda a: a.cov(correction=0) * a), (t(rng, 6),)


@case("clamp", "corrcoef")
def _corrcoef(rng):  # (3 observations of 4 variables: no correlation near ±1 but the diagonal's)
    return (lambda a: tg.corrcoef(a)), (t(rng, 4, 3),)


# ------------------------------------------------------------------------- cdist
@case("cdist", "p2_batched")
def _cdist(rng):
    return (lambda a, b: tg.cdist(a, b)), (t(rng, 2, 3, 4), t(rng, 2, 2, 4))


@case("cdist", "p3_broadcast_batch")
def _cdist3(rng):
    return (lambda a, b: tg.cdist(a, b, p=3)), (t(rng, 2, 1, 3, 2), t(rng, 4, 2))


@case("cdist", "p_fractional")
def _cdist_fractional(rng):
    return (lambda a, b: tg.cdist(a, b, 0.5) + tg.cdist(a, b, 1.5)), (t(rng, 3, 2), t(rng, 2, 2))


@case("cdist", "p1_inf")  # (differences away from 0 and from ties: kinks of |d| and max)
def _cdist_kinks(rng):
    a = Tensor(np.array([[0.0, 3.0, -1.0], [2.0, -2.0, 5.0]]), requires_grad=True)
    b = Tensor(np.array([[1.5, 0.2, 0.4], [-3.0, 1.0, 2.2], [0.7, 6.5, -4.0]]), requires_grad=True)
    return (lambda x, y: tg.cdist(x, y, 1) * tg.cdist(x, y, float("inf"))), (a, b)


@case("euclidean_dist", "mm_path")
def _euclidean(rng):
    return (lambda a, b: tg.cdist(a, b, compute_mode="use_mm_for_euclid_dist")), \
        (t(rng, 2, 3, 4), t(rng, 2, 2, 4))


@case("euclidean_dist", "more_than_25_rows")
def _euclidean_rows(rng):
    return (lambda a, b: tg.cdist(a, b) ** 2), (t(rng, 26, 2), t(rng, 3, 2))


# ------------------------------------------------------------------------- multilabel_margin_loss
@case("gather", "multilabel_margin_loss")
def _multilabel_margin(rng):
    # scores whose hinges 1 - x_j + x_i stay away from 0 (a kink)
    x = np.array([[0.9, 0.3, -1.7, 0.8], [0.1, -0.55, 1.2, 0.45], [0.0, 0.6, -0.3, 1.9]])
    target = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [2, 2, -1, 0]])  # a class twice: counted twice
    return (lambda a: F.multilabel_margin_loss(a, target, reduction="sum")), \
        (Tensor(x + rng.uniform(-0.05, 0.05, x.shape), requires_grad=True),)


@case("where", "multilabel_margin_loss_1d")
def _multilabel_margin_1d(rng):
    x = np.array([0.25, -0.6, 1.1, 0.4, -0.2])
    return (lambda a: F.multilabel_margin_loss(a, np.array([4, 1, -1, 0, 0])) * a), \
        (Tensor(x + rng.uniform(-0.05, 0.05, x.shape), requires_grad=True),)
