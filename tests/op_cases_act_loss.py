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
