"""Gradient-check cases (op_cases.py's format) of the ops that issue 15's layers added: the modern
activations (ops/activation.py), normalisation (ops/norm.py), resampling (ops/resample.py), the
padding modes (ops/movement.py) and the losses (ops/loss.py). Inputs are float64 and kept away
from kinks (hardswish's ±3, huber's ±delta, prelu's 0, ...)."""

from __future__ import annotations

import numpy as np
from op_cases import case, t

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor
from tinygrad_cnn.ops import loss, movement, norm, resample


def away_from(rng, shape, kinks, gap=0.15, spread=4.0):
    """Uniform values in ``(-spread, spread)`` at least ``gap`` from every kink."""
    x = rng.uniform(-spread, spread, shape)
    for k in kinks:
        close = np.abs(x - k) < gap
        x[close] = k + np.where(x[close] >= k, gap, -gap) * 2
    return Tensor(x, requires_grad=True)


# ------------------------------------------------------------------------- activations
@case("ndtr")
def _ndtr(rng):
    from tinygrad_cnn.ops.activation import Ndtr

    return (lambda a: Ndtr.apply(a) * a), (t(rng, 3, 4),)


@case("gelu", "exact")
def _gelu(rng):
    return (lambda a: F.gelu(a)), (t(rng, 3, 4),)


@case("gelu", "tanh")
def _gelu_tanh(rng):
    return (lambda a: F.gelu(a, approximate="tanh")), (t(rng, 3, 4),)


@case("silu")
def _silu(rng):
    return (lambda a: F.silu(a)), (t(rng, 3, 4),)


@case("elu", "elu")
def _elu(rng):
    return (lambda a: F.elu(a, alpha=0.7) * a), (t(rng, 3, 4, away=0.1),)


@case("elu", "selu")
def _selu(rng):
    return (lambda a: F.selu(a) * a), (t(rng, 3, 4, away=0.1),)


@case("elu", "celu")
def _celu(rng):
    return (lambda a: F.celu(a, alpha=2.0) * a), (t(rng, 3, 4, away=0.1),)


@case("softplus")
def _softplus(rng):
    return (lambda a: F.softplus(a, beta=2.0, threshold=3.0)), (away_from(rng, (3, 4), [1.5]),)


@case("logsigmoid")
def _logsigmoid(rng):
    return (lambda a: F.logsigmoid(a * 10)), (t(rng, 3, 4),)


@case("mish")
def _mish(rng):
    return (lambda a: F.mish(a)), (t(rng, 3, 4),)


@case("hardswish")
def _hardswish(rng):
    return (lambda a: F.hardswish(a)), (away_from(rng, (4, 5), [-3, 3]),)


@case("hardsigmoid")
def _hardsigmoid(rng):
    return (lambda a: F.hardsigmoid(a) * a), (away_from(rng, (4, 5), [-3, 3]),)


@case("hardtanh", "relu6")
def _relu6(rng):
    return (lambda a: F.relu6(a * 2) * a), (away_from(rng, (4, 5), [0, 3]),)


@case("hardtanh", "hardtanh")
def _hardtanh(rng):
    return (lambda a: F.hardtanh(a, -0.5, 1.5) * a), (away_from(rng, (4, 5), [-0.5, 1.5]),)


@case("prelu", "per_channel")
def _prelu(rng):
    return (lambda x, w: F.prelu(x, w) * x), (t(rng, 2, 3, 2, 2, away=0.1), t(rng, 3))


@case("prelu", "shared")
def _prelu_shared(rng):
    return (lambda x, w: F.prelu(x, w) * w), (t(rng, 4, 3, away=0.1), t(rng, 1))


# ------------------------------------------------------------------------- normalisation
@case("normalize", "batch_dims")
def _normalize(rng):
    return (lambda x: norm.Normalize.apply(x, dims=(0, 2), eps=1e-5) * x), (t(rng, 3, 2, 4),)


@case("normalize", "last_dim")
def _normalize_last(rng):
    return (lambda x: norm.Normalize.apply(x, dims=(1,), eps=0.1)), (t(rng, 3, 5),)


@case("normalize_backward")
def _normalize_backward(rng):
    return (lambda g, x: norm.NormalizeBackward.apply(g, x, dims=(0, 2), eps=1e-3)), \
        (t(rng, 3, 2, 4), t(rng, 3, 2, 4))


@case("affine", "per_channel")
def _affine(rng):
    return (lambda x, w, b: norm.Affine.apply(x * x, w, b, shape=(1, 3, 1))), \
        (t(rng, 2, 3, 2), t(rng, 3), t(rng, 3))


@case("affine", "batch_norm_eval")
def _batch_norm_eval(rng):
    mean, var = Tensor(rng.standard_normal(3)), Tensor(rng.random(3) + 0.5)
    return (lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=False) * x), \
        (t(rng, 4, 3, 2), t(rng, 3), t(rng, 3))


@case("batch_norm")
def _batch_norm(rng):
    return (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)), \
        (t(rng, 4, 3, 2, 2), t(rng, 3), t(rng, 3))


@case("group_norm")
def _group_norm(rng):
    return (lambda x, w, b: F.group_norm(x, 2, w, b) * x), \
        (t(rng, 2, 4, 3), t(rng, 4), t(rng, 4))


@case("group_norm", "no_affine")
def _group_norm_plain(rng):
    return (lambda x: F.group_norm(x, 3) * x), (t(rng, 2, 6, 2, 2),)


@case("layer_norm")
def _layer_norm(rng):
    return (lambda x, w, b: F.layer_norm(x, (2, 3), w, b)), \
        (t(rng, 2, 2, 3), t(rng, 2, 3), t(rng, 2, 3))


@case("instance_norm")
def _instance_norm(rng):
    return (lambda x, w, b: F.instance_norm(x, weight=w, bias=b) * x), \
        (t(rng, 2, 3, 4), t(rng, 3), t(rng, 3))


# ------------------------------------------------------------------------- resampling
@case("interpolate", "nearest")
def _nearest(rng):
    return (lambda x: F.interpolate(x * x, size=(5, 3))), (t(rng, 1, 2, 3, 4),)


@case("interpolate", "bilinear")
def _bilinear(rng):
    return (lambda x: F.interpolate(x * x, scale_factor=1.7, mode="bilinear")), \
        (t(rng, 1, 2, 3, 4),)


@case("interpolate", "bilinear_align_corners")
def _bilinear_ac(rng):
    return (lambda x: F.interpolate(x, size=(4, 2), mode="bilinear", align_corners=True) *
            x.sum()), (t(rng, 2, 1, 3, 4),)


@case("interpolate", "bicubic")
def _bicubic(rng):  # up along H, down along W: taps clamped at both borders, overlapping
    return (lambda x: F.interpolate(x * x, size=(7, 3), mode="bicubic")), (t(rng, 1, 2, 3, 5),)


@case("interpolate", "bicubic_align_corners_scale")
def _bicubic_ac(rng):
    return (lambda x: F.interpolate(x, scale_factor=(1.5, 0.7), mode="bicubic",
                                    align_corners=True) * x.sum()), (t(rng, 2, 1, 4, 6),)


@case("interpolate", "antialias")
def _antialias(rng):  # bicubic down along H (6 taps an output), bilinear up along W
    return (lambda x: F.interpolate(x * x, size=(2, 7), mode="bicubic", antialias=True) +
            F.interpolate(x, size=(3, 2), mode="bilinear", antialias=True).sum()), \
        (t(rng, 1, 2, 5, 4),)


@case("interpolate_backward", "bicubic")
def _interpolate_backward_cubic(rng):
    return (lambda g: resample.InterpolateBackward.apply(
        g * g, in_size=(2, 6), size=(5, 4), mode="cubic", align_corners=False,
        scales=None)), (t(rng, 1, 2, 5, 4),)


@case("interpolate_backward")
def _interpolate_backward(rng):
    return (lambda g: resample.InterpolateBackward.apply(
        g * g, in_size=(3, 4), size=(5, 7), mode="linear", align_corners=False,
        scales=None)), (t(rng, 1, 2, 5, 7),)


@case("adaptive_avg_pool2d", "overlapping_bins")
def _adaptive_avg(rng):
    return (lambda x: F.adaptive_avg_pool2d(x * x, (3, 2))), (t(rng, 2, 2, 5, 5),)


@case("adaptive_avg_pool2d", "global")
def _adaptive_avg_global(rng):
    return (lambda x: F.adaptive_avg_pool2d(x, 1) * x.sum()), (t(rng, 2, 3, 4, 4),)


@case("adaptive_avg_pool2d_backward")
def _adaptive_avg_backward(rng):
    return (lambda g: resample.AdaptiveAvgPool2dBackward.apply(g * g, in_size=(5, 4))), \
        (t(rng, 1, 2, 3, 3),)


@case("adaptive_max_pool2d", "overlapping_bins")
def _adaptive_max(rng):
    x = rng.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) * 0.1  # distinct values: no ties
    return (lambda a: F.adaptive_max_pool2d(a, (3, 2)) * a.sum()), \
        (Tensor(x, requires_grad=True),)


@case("adaptive_max_pool2d", "divisible")
def _adaptive_max_div(rng):
    x = rng.permutation(2 * 4 * 6).reshape(1, 2, 4, 6) * 0.1
    return (lambda a: F.adaptive_max_pool2d(a * a, 2)), (Tensor(x, requires_grad=True),)


# ------------------------------------------------------------------------- padding modes
@case("pad", "reflect")
def _pad_reflect(rng):
    return (lambda x: F.pad(x * x, (2, 1, 1, 2), mode="reflect")), (t(rng, 1, 2, 3, 4),)


@case("pad", "replicate")
def _pad_replicate(rng):
    return (lambda x: F.pad(x * x, (3, 0), mode="replicate")), (t(rng, 2, 3),)


@case("pad", "circular")
def _pad_circular(rng):
    return (lambda x: F.pad(x * x, (1, 2, 2, 0), mode="circular")), (t(rng, 2, 3, 3),)


@case("pad", "negative_modes")
def _pad_negative(rng):
    return (lambda x: F.pad(x * x, (-1, 2, 1, -2), mode="reflect")
            + F.pad(x, (-1, 2, 1, -2), mode="replicate")
            + F.pad(x * x, (-2, 3, 1, -2), mode="circular")), (t(rng, 2, 4, 5),)


@case("pad_backward", "negative")
def _pad_backward_negative(rng):
    return (lambda g: movement.PadBackward.apply(g * g, pad=((0, 0), (-1, 2), (3, -4)),
                                                 mode="circular", in_shape=(2, 3, 6))), \
        (t(rng, 2, 4, 5),)


@case("pad_backward")
def _pad_backward(rng):
    return (lambda g: movement.PadBackward.apply(g * g, pad=((0, 0), (1, 2), (2, 1)),
                                                 mode="reflect", in_shape=(2, 3, 4))), \
        (t(rng, 2, 6, 7),)


# ------------------------------------------------------------------------- losses
@case("cross_entropy", "weight_ignore_smoothing")
def _cross_entropy_options(rng):
    target = np.array([1, -100, 3, 0, 3])
    weight = Tensor(rng.uniform(0.5, 2, 4))
    return (lambda a: F.cross_entropy(a, target, weight=weight, label_smoothing=0.2)), \
        (t(rng, 5, 4),)


@case("cross_entropy", "smoothing_none_spatial")
def _cross_entropy_smooth(rng):
    target = rng.integers(0, 3, (2, 2))
    return (lambda a: F.cross_entropy(a, target, reduction="none", label_smoothing=0.1,
                                      ignore_index=1)), (t(rng, 2, 3, 2),)


@case("nll_loss", "weight_ignore")
def _nll_options(rng):
    target = np.array([1, 2, 3, 2])
    weight = Tensor(rng.uniform(0.5, 2, 4))
    return (lambda a: F.nll_loss(a.log_softmax(1), target, weight=weight, ignore_index=2)), \
        (t(rng, 4, 4),)


@case("huber_loss")
def _huber(rng):
    y = away_from(rng, (3, 4), [])
    x = Tensor(y.numpy() + away_from(rng, (3, 4), [-0.7, 0.7], spread=2).numpy(),
               requires_grad=True)
    return (lambda a, b: F.huber_loss(a, b, delta=0.7) * a.sum()), (x, y)


@case("smooth_l1_loss")
def _smooth_l1(rng):
    y = away_from(rng, (3, 4), [])
    x = Tensor(y.numpy() + away_from(rng, (3, 4), [-0.5, 0.5], spread=2).numpy(),
               requires_grad=True)
    return (lambda a, b: F.smooth_l1_loss(a, b, beta=0.5, reduction="sum")), (x, y)


@case("binary_cross_entropy")
def _bce(rng):
    x = Tensor(rng.uniform(0.1, 0.9, (3, 4)), requires_grad=True)
    y = Tensor(rng.uniform(0, 1, (3, 4)), requires_grad=True)
    weight = Tensor(rng.uniform(0.5, 2, 4))
    return (lambda a, b: F.binary_cross_entropy(a, b, weight=weight)), (x, y)


@case("binary_cross_entropy_with_logits", "pos_weight")
def _bce_logits(rng):
    y = Tensor(rng.uniform(0, 1, (3, 4)), requires_grad=True)
    pos = Tensor(rng.uniform(0.5, 3, 4))
    return (lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pos,
                                                           reduction="sum")), (t(rng, 3, 4), y)


@case("binary_cross_entropy_with_logits", "weight")
def _bce_logits_weight(rng):
    y = Tensor(rng.uniform(0, 1, (3, 4)), requires_grad=True)
    weight = Tensor(rng.uniform(0.5, 2, (3, 1)))
    return (lambda a, b: F.binary_cross_entropy_with_logits(a, b, weight=weight) * a.sum()), \
        (t(rng, 3, 4), y)


@case("kl_div", "probabilities")
def _kl(rng):
    x = Tensor(np.log(rng.dirichlet(np.ones(4), 3)), requires_grad=True)
    y = Tensor(rng.dirichlet(np.ones(4), 3), requires_grad=True)
    return (lambda a, b: F.kl_div(a, b, reduction="batchmean")), (x, y)


@case("kl_div", "log_target")
def _kl_log(rng):
    return (lambda a, b: loss.KLDiv.apply(a, b, reduction="none", log_target=True)), \
        (t(rng, 3, 4), t(rng, 3, 4))


# ------------------------------------------------------------------------- embedding
@case("embedding", "repeated_indices")
def _embedding(rng):
    # (padding_idx's rule -- no gradient for that row -- is deliberately not the derivative;
    # it is tested against PyTorch in test_layers.py and the fuzzer)
    idx = np.array([[0, 2, 2], [3, 1, 0]])
    return (lambda w: F.embedding(idx, w * w)), (t(rng, 4, 3),)
