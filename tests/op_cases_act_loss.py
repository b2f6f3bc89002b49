"""Gradient-check cases (op_cases.py's format) of the threshold activations (ops/threshold.py),
pdist (ops/distance.py), soft_margin_loss (ops/loss.py), and of the compositions added with
them -- softsign, tanhshrink, rrelu, glu, softmin, gumbel_softmax, cosine_similarity,
pairwise_distance and the margin, embedding and likelihood losses -- each under a registered op
it applies. Inputs are float64 and kept away from kinks (the thresholds, ``|x| = lambd``, the
losses' hinges, tied maxima, equal rows); the tie and NaN rules are checked against PyTorch in
test_act_loss_more.py and by the fuzzer."""

from __future__ import annotations

import numpy as np
from op_cases import case, t

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor


def away_from(rng, shape, kinks, gap=0.15, spread=3.0):
    """Uniform values in ``(-spread, spread)`` at least ``gap`` from every kink."""
    x = rng.uniform(-spread, spread, shape)
    for k in kinks:
        close = np.abs(x - k) < gap
        x[close] = k + np.where(x[close] >= k, gap, -gap) * 2
    return Tensor(x, requires_grad=True)


def seeded(f):
    """``f`` with tinygrad_cnn's generator reseeded first: every call draws the same noise."""
    def call(*args):
        tg.manual_seed(7)
        return f(*args)
    return call


# ------------------------------------------------------------------------- registered ops
@case("threshold")
def _threshold(rng):
    return (lambda a: F.threshold(a, 0.3, -1.5) * a), (away_from(rng, (4, 5), [0.3]),)


@case("hardshrink")
def _hardshrink(rng):
    return (lambda a: F.hardshrink(a, 0.5) * a), (away_from(rng, (4, 5), [-0.5, 0.5]),)


@case("softshrink")
def _softshrink(rng):
    return (lambda a: F.softshrink(a, 0.5) * a), (away_from(rng, (4, 5), [-0.5, 0.5]),)


@case("pdist", "p2")
def _pdist(rng):
    return (lambda a: F.pdist(a)), (t(rng, 4, 3),)


@case("pdist", "p3")
def _pdist3(rng):
    return (lambda a: F.pdist(a, 3)), (t(rng, 4, 3),)


@case("pdist", "p_half")
def _pdist_half(rng):
    return (lambda a: F.pdist(a, 0.5)), (t(rng, 3, 2),)


@case("pdist", "p1_inf")  # (first-order kinks: inputs whose differences are not near 0 or tied)
def _pdist_kinks(rng):
    x = Tensor(np.array([[0.0, 1.0, 3.5], [1.3, -0.6, 0.2], [-2.1, 2.9, 1.1]]), requires_grad=True)
    return (lambda a: F.pdist(a, 1) * F.pdist(a, float("inf"))), (x,)


# ------------------------------------------------------------------------- compositions
@case("abs", "softsign")
def _softsign(rng):
    return (lambda a: F.softsign(a)), (t(rng, 3, 4, away=0.1),)


@case("tanh", "tanhshrink")
def _tanhshrink(rng):
    return (lambda a: F.tanhshrink(a)), (t(rng, 3, 4),)


@case("leaky_relu", "rrelu_eval")
def _rrelu_eval(rng):
    return (lambda a: F.rrelu(a, 0.1, 0.3) * a), (t(rng, 3, 4, away=0.1),)


@case("mul", "rrelu_training")
def _rrelu_training(rng):
    return seeded(lambda a: F.rrelu(a, 0.1, 0.3, training=True) * a), (t(rng, 3, 4, away=0.1),)


@case("sigmoid", "glu")
def _glu(rng):
    return (lambda a: F.glu(a, 0)), (t(rng, 4, 3),)


@case("softmax", "softmin")
def _softmin(rng):
    return (lambda a: F.softmin(a, 1) * a), (t(rng, 3, 4),)


@case("softmax", "gumbel_softmax")  # (hard=True's straight-through gradient is not the
def _gumbel(rng):                    # derivative by design: test_act_loss_more.py checks it)
    return seeded(lambda a: F.gumbel_softmax(a, tau=0.7) * a), (t(rng, 3, 4),)


@case("norm", "cosine_similarity")
def _cosine_similarity(rng):
    return (lambda a, b: F.cosine_similarity(a, b, dim=1)), (t(rng, 3, 4), t(rng, 4))


@case("norm", "pairwise_distance")
def _pairwise_distance(rng):
    return (lambda a, b: F.pairwise_distance(a, b, p=3, keepdim=True)), (t(rng, 3, 4), t(rng, 3, 4))


@case("clamp", "margin_ranking_loss")
def _margin_ranking(rng):
    y = Tensor(np.array([1.0, -1.0, 1.0, -1.0, 1.0]))
    a = t(rng, 5)
    b = Tensor(a.numpy() + rng.choice([-1.5, 1.5], 5) + rng.uniform(-0.4, 0.4, 5),
               requires_grad=True)  # |a - b| far from the margin 0.3
    return (lambda a, b: F.margin_ranking_loss(a, b, y, margin=0.3, reduction="sum")), (a, b)


@case("where", "hinge_embedding_loss")
def _hinge(rng):
    y = Tensor(np.array([[1, -1, -1], [-1, 1, 0]]))
    return (lambda a: F.hinge_embedding_loss(a * a, y, margin=1.0)), \
        (away_from(rng, (2, 3), [-1.0, 1.0]),)


@case("soft_margin_loss", "mean")
def _soft_margin(rng):
    y = Tensor(np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]))
    return (lambda a: F.soft_margin_loss(a, y)), (t(rng, 2, 3),)


@case("soft_margin_loss", "none_broadcast_target")
def _soft_margin_none(rng):
    y = Tensor(np.array([1, -1, 0]))
    return (lambda a: F.soft_margin_loss(a * 3, y, reduction="none")), (t(rng, 2, 3),)


@case("logsigmoid", "multilabel_soft_margin_loss")
def _multilabel_soft_margin(rng):
    w = Tensor(rng.uniform(0.5, 2, 4))
    return (lambda a, y: F.multilabel_soft_margin_loss(a, y.sigmoid(), weight=w)), \
        (t(rng, 3, 4), t(rng, 3, 4))


@case("sqrt", "cosine_embedding_loss")
def _cosine_embedding(rng):
    y = Tensor(np.array([1, -1, -1, 1]))
    a, b = t(rng, 4, 3), t(rng, 4, 3)
    b = Tensor(np.where(np.array([[0], [1], [1], [0]]) == 1, a.numpy() * 0.9 + 0.2 * b.numpy(),
                        b.numpy()), requires_grad=True)  # the -1 pairs well above the margin
    return (lambda a, b: F.cosine_embedding_loss(a, b, y, margin=0.1, reduction="none")), (a, b)


@case("norm", "triplet_margin_loss_swap")
def _triplet(rng):
    a = t(rng, 4, 3)
    pos = Tensor(a.numpy() + 0.3 * rng.standard_normal((4, 3)), requires_grad=True)
    neg = Tensor(a.numpy() + 0.5 * rng.standard_normal((4, 3)), requires_grad=True)
    return (lambda a, p, n: F.triplet_margin_loss(a, p, n, margin=5.0, swap=True)), (a, pos, neg)


@case("exp", "poisson_nll_loss")
def _poisson(rng):
    y = Tensor(np.array([[0.0, 1.0, 2.0], [3.0, 0.5, 4.0]]))
    return (lambda a: F.poisson_nll_loss(a, y, full=True)), (t(rng, 2, 3),)


@case("log", "poisson_nll_loss_rates")
def _poisson_rates(rng):
    return (lambda a, y: F.poisson_nll_loss(a, y, log_input=False, reduction="sum")), \
        (t(rng, 2, 3, positive=True), t(rng, 2, 3, positive=True))


@case("log", "gaussian_nll_loss")
def _gaussian(rng):
    return (lambda a, y, v: F.gaussian_nll_loss(a, y, v * v + 0.1, full=True)), \
        (t(rng, 3, 4), t(rng, 3, 4), t(rng, 3, 1))


@case("gather", "multi_margin_loss")
def _multi_margin(rng):
    target = np.array([0, 2, 1])
    x = np.array([[0.9, 0.3, -1.7, 0.8], [0.1, -0.5, 1.2, 0.45], [0.0, 0.6, -0.3, 1.9]])
    w = Tensor(rng.uniform(0.5, 2, 4))
    return (lambda a: F.multi_margin_loss(a, target, p=2, margin=0.8, weight=w)), \
        (Tensor(x + rng.uniform(-0.05, 0.05, x.shape), requires_grad=True),)
