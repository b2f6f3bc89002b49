"""Parity with PyTorch (float64): forward and every gradient of the CNN ops on 200 random
configurations each, and of softmax / log_softmax / cross_entropy. Skipped where torch is missing
(.ci/run installs it)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor

torch = pytest.importorskip("torch")
TF = torch.nn.functional
CONFIGS = 200


def _both(arrays):
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _compare(out, ref, ours, theirs, rng, what):
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-10,
                               err_msg=f"forward of {what}")
    g = rng.standard_normal(ref.shape)
    out.backward(Tensor(g))
    ref.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=f"gradient of input {i} of {what}")


def _conv_config(rng):
    groups = int(rng.integers(1, 4))
    cg, kg = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    stride = tuple(int(v) for v in rng.integers(1, 4, 2))
    dilation = tuple(int(v) for v in rng.integers(1, 4, 2))
    choice = rng.random()
    if choice < 0.15 and stride == (1, 1):
        padding = "same"
    elif choice < 0.25:
        padding = "valid"
    else:
        padding = tuple(int(v) for v in rng.integers(0, 3, 2))
    pad_num = (0, 0) if isinstance(padding, str) else padding
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    h = max(1, span[0] - 2 * pad_num[0] + int(rng.integers(0, 6)))
    w = max(1, span[1] - 2 * pad_num[1] + int(rng.integers(0, 6)))
    if padding == "same":
        h, w = max(h, 1), max(w, 1)
    return dict(n=int(rng.integers(1, 4)), c=cg * groups, k=kg * groups, groups=groups,
                kernel=(kh, kw), stride=stride, dilation=dilation, padding=padding, hw=(h, w),
                bias=bool(rng.random() < 0.7))


@pytest.mark.parametrize("seed", range(CONFIGS))
def test_conv2d(seed):
    rng = np.random.default_rng(seed)
    cfg = _conv_config(rng)
    x = rng.standard_normal((cfg["n"], cfg["c"], *cfg["hw"]))
    w = rng.standard_normal((cfg["k"], cfg["c"] // cfg["groups"], *cfg["kernel"]))
    arrays = [x, w] + ([rng.standard_normal(cfg["k"])] if cfg["bias"] else [])
    ours, theirs = _both(arrays)
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"],
              groups=cfg["groups"])
    b_ours = ours[2] if cfg["bias"] else None
    b_theirs = theirs[2] if cfg["bias"] else None
    out = F.conv2d(ours[0], ours[1], b_ours, **kw)
    ref = TF.conv2d(theirs[0], theirs[1], b_theirs, **kw)
    _compare(out, ref, ours, theirs, rng, f"conv2d {cfg}")


@pytest.mark.parametrize("seed", range(CONFIGS))
def test_conv_transpose2d(seed):
    rng = np.random.default_rng(1000 + seed)
    cfg = _conv_config(rng)
    padding = (0, 0) if isinstance(cfg["padding"], str) else cfg["padding"]
    s, d = cfg["stride"], cfg["dilation"]
    output_padding = tuple(int(rng.integers(0, max(s[i], d[i]))) for i in range(2))
    hw = tuple(int(v) for v in rng.integers(1, 5, 2))
    out_hw = [(hw[i] - 1) * s[i] - 2 * padding[i] + d[i] * (cfg["kernel"][i] - 1)
              + output_padding[i] + 1 for i in range(2)]
    if min(out_hw) < 1:
        padding = (0, 0)
    x = rng.standard_normal((cfg["n"], cfg["c"], *hw))
    w = rng.standard_normal((cfg["c"], cfg["k"] // cfg["groups"], *cfg["kernel"]))
    arrays = [x, w] + ([rng.standard_normal(cfg["k"])] if cfg["bias"] else [])
    ours, theirs = _both(arrays)
    kw = dict(stride=s, padding=padding, output_padding=output_padding, groups=cfg["groups"],
              dilation=d)
    out = F.conv_transpose2d(ours[0], ours[1], ours[2] if cfg["bias"] else None, **kw)
    ref = TF.conv_transpose2d(theirs[0], theirs[1], theirs[2] if cfg["bias"] else None, **kw)
    _compare(out, ref, ours, theirs, rng, f"conv_transpose2d {cfg} {kw}")


def _pool_config(rng, dilated):
    k = tuple(int(v) for v in rng.integers(1, 5, 2))
    d = tuple(int(v) for v in rng.integers(1, 3, 2)) if dilated else (1, 1)
    span = (d[0] * (k[0] - 1) + 1, d[1] * (k[1] - 1) + 1)
    p = tuple(int(rng.integers(0, k[i] // 2 + 1)) for i in range(2))
    stride = None if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(1, 4, 2))
    hw = tuple(max(span[i] - 2 * p[i], 1) + int(rng.integers(0, 6)) for i in range(2))
    return k, stride, p, d, hw, bool(rng.random() < 0.5)


@pytest.mark.parametrize("seed", range(CONFIGS))
def test_max_pool2d(seed):
    rng = np.random.default_rng(2000 + seed)
    k, stride, p, d, hw, ceil = _pool_config(rng, dilated=True)
    n, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    s = stride or k
    for axis in range(2):  # PyTorch returns -inf for windows that see only padding; we refuse them
        n_out = len(TF.max_pool2d(torch.zeros(1, 1, *hw), k, s, p, d, ceil)[0, 0, :, 0]) \
            if axis == 0 else len(TF.max_pool2d(torch.zeros(1, 1, *hw), k, s, p, d, ceil)[0, 0, 0])
        for o in range(n_out):
            if not any(0 <= o * s[axis] - p[axis] + j * d[axis] < hw[axis] for j in range(k[axis])):
                with pytest.raises(ValueError, match="reads only padding"):
                    F.max_pool2d(Tensor(np.zeros((1, 1, *hw))), k, stride, p, d, ceil)
                return
    x = rng.permutation(n * c * hw[0] * hw[1]).reshape(n, c, *hw) / 7.0  # distinct: no ties
    ours, theirs = _both([x])
    out, idx = F.max_pool2d(ours[0], k, stride, p, d, ceil, return_indices=True)
    ref, ref_idx = TF.max_pool2d(theirs[0], k, stride or k, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    _compare(out, ref, ours, theirs, rng, f"max_pool2d k{k} s{stride} p{p} d{d} ceil{ceil}")


def test_max_pool2d_ties_like_pytorch():
    x = np.random.default_rng(0).integers(0, 3, (2, 3, 8, 8)).astype(np.float64)  # many ties
    for k, s in [(2, 2), (3, 1), (3, 2)]:
        ours, theirs = _both([x])
        F.max_pool2d(ours[0], k, s).sum().backward()
        TF.max_pool2d(theirs[0], k, s).sum().backward()
        np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())


@pytest.mark.parametrize("seed", range(CONFIGS))
def test_avg_pool2d(seed):
    rng = np.random.default_rng(3000 + seed)
    k, stride, p, _, hw, ceil = _pool_config(rng, dilated=False)
    include = bool(rng.random() < 0.5)
    x = rng.standard_normal((int(rng.integers(1, 4)), int(rng.integers(1, 4)), *hw))
    ours, theirs = _both([x])
    out = F.avg_pool2d(ours[0], k, stride, p, ceil, include)
    ref = TF.avg_pool2d(theirs[0], k, stride or k, p, ceil, include)
    _compare(out, ref, ours, theirs, rng, f"avg_pool2d k{k} s{stride} p{p} ceil{ceil} inc{include}")


@pytest.mark.parametrize("seed", range(CONFIGS))
def test_softmax_log_softmax_cross_entropy(seed):
    rng = np.random.default_rng(4000 + seed)
    shape = tuple(int(v) for v in rng.integers(1, 6, int(rng.integers(1, 4))))
    scale = 1000.0 if seed % 5 == 0 else 3.0  # logits in the thousands stay finite
    x = rng.standard_normal(shape) * scale
    dim = int(rng.integers(-len(shape), len(shape)))
    for fn, tfn in [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)]:
        ours, theirs = _both([x])
        _compare(fn(ours[0], dim), tfn(theirs[0], dim), ours, theirs, rng, fn.__name__)
    n, c = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    logits = rng.standard_normal((n, c)) * scale
    target = rng.integers(0, c, n)
    for reduction in ("mean", "sum", "none"):
        ours, theirs = _both([logits])
        out = F.cross_entropy(ours[0], target, reduction=reduction)
        ref = TF.cross_entropy(theirs[0], torch.tensor(target), reduction=reduction)
        assert np.isfinite(out.numpy()).all()
        _compare(out, ref, ours, theirs, rng, f"cross_entropy {reduction}")
        ours, theirs = _both([logits])
        out = F.nll_loss(ours[0].log_softmax(1), target, reduction=reduction)
        ref = TF.nll_loss(theirs[0].log_softmax(1), torch.tensor(target), reduction=reduction)
        _compare(out, ref, ours, theirs, rng, f"nll_loss {reduction}")


def test_cross_entropy_spatial_targets():
    rng = np.random.default_rng(0)
    logits, target = rng.standard_normal((2, 4, 3, 3)), rng.integers(0, 4, (2, 3, 3))
    ours, theirs = _both([logits])
    out = F.cross_entropy(ours[0], target, reduction="none")
    ref = TF.cross_entropy(theirs[0], torch.tensor(target), reduction="none")
    _compare(out, ref, ours, theirs, rng, "cross_entropy spatial")


def test_mse_and_activations():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    ours, theirs = _both([a, b])
    _compare(F.mse_loss(ours[0], ours[1]), TF.mse_loss(theirs[0], theirs[1]), ours, theirs, rng,
             "mse")
    for name in ("relu", "sigmoid", "tanh", "leaky_relu"):
        ours, theirs = _both([a])
        _compare(getattr(F, name)(ours[0]), getattr(TF, name)(theirs[0]), ours, theirs, rng, name)
