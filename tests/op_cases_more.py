"""Gradient-check cases (op_cases.py's format) of ops/statistics.py's ops (nansum, the median of
a whole tensor) and of im2col/col2im (``F.unfold``/``F.fold``, ops/conv.py). Inputs are float64
without NaN (the NaN rules are checked against PyTorch in test_more_ops.py) and with distinct
values, away from the median's ties."""

from __future__ import annotations

from op_cases import case, t

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F


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


@case("unfold", "padding_dilation_stride")
def _unfold(rng):
    return (lambda x: F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)) ** 2), \
        (t(rng, 2, 2, 5, 4),)


@case("unfold", "unbatched")
def _unfold_unbatched(rng):
    return (lambda x: F.unfold(x, 2) * F.unfold(x, 2)[:1]), (t(rng, 3, 3, 3),)


@case("fold", "overlapping")
def _fold(rng):  # 2x2 windows with stride 1 overlap: every inner pixel sums four entries
    return (lambda c: F.fold(c, (4, 3), 2) ** 2), (t(rng, 2, 8, 6),)


@case("fold", "padding_stride")
def _fold_padding(rng):
    return (lambda c: F.fold(c, (5, 4), (3, 2), padding=1, stride=2, dilation=1) ** 2), \
        (t(rng, 1, 12, 9),)
