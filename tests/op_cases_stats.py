"""Gradient-check cases (op_cases.py's format) of logcumsumexp (ops/cumulative.py), cdist
(ops/distance.py), and of the compositions added with them -- quantile, nanquantile, aminmax,
cov, corrcoef, multilabel_margin_loss -- each under a registered op it applies. Inputs are
float64 with distinct values, away from the kinks (quantile's interpolation points, tied extremes,
equal rows, the loss's hinges); the tie, NaN and infinity rules are checked against PyTorch in
test_stats_ops.py and by the fuzzer (fuzz_specs_stats.py)."""

from __future__ import annotations

from op_cases import case, t

import tinygrad_cnn as tg


# ------------------------------------------------------------------------- logcumsumexp
@case("logcumsumexp", "dim1")
def _logcumsumexp(rng):
    return (lambda a: tg.logcumsumexp(a, 1)), (t(rng, 3, 4),)


@case("logcumsumexp", "dim0_signed_gradient")
def _logcumsumexp_dim0(rng):  # the output weighted by a tensor of both signs: both VJP branches
    return (lambda a: a.logcumsumexp(0) * a), (t(rng, 5, 2),)
