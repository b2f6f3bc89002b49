"""Gradient-check cases (op_cases.py's format) of ops/statistics.py's ops (nansum, the median of
a whole tensor). Inputs are float64
without NaN (the NaN rules are checked against PyTorch in test_more_ops.py) and with distinct
values, away from the median's ties."""

from __future__ import annotations

from op_cases import case, t

import tinygrad_cnn as tg


@case("nansum", "dims")
def _nansum(rng):
    return (lambda a: a.nansum(1) * a.nansum((0, 2), keepdim=True).sum()), (t(rng, 2, 3, 4),)


@case("nansum", "nanmean")
def _nanmean(rng):
    return (lambda a: tg.nanmean(a, 0) * a[0]), (t(rng, 3, 4),)


@case("median", "whole")
def _median(rng):
    return (lambda a: a.median() * a), (t(rng, 3, 4),)


@case("median", "nanmedian")
def _nanmedian(rng):
    return (lambda a: tg.nanmedian(a) * a.sum()), (t(rng, 5),)

