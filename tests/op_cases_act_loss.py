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
