"""Special values an outside tester (t24) found differing from PyTorch 2.13: prelu's and
softplus's second derivatives at their kinks, erf's float64 accuracy, sinc's gradient at
denormals, round with decimals past the float range."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def test_prelu_second_derivatives_at_zero_match_pytorch():
    vals = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 1e-300, -1e-300, 2.5, -0.5]
    got = {}
    for lib, f, grad in ((tg, F.prelu, tg.grad), (torch, TF.prelu, torch.autograd.grad)):
        x = lib.tensor(vals, dtype=lib.float64, requires_grad=True)
        w = lib.tensor([0.25], dtype=lib.float64, requires_grad=True)
        gx, gw = grad(f(x, w).sum(), [x, w], create_graph=True)
        a = grad(gw.sum(), [x], retain_graph=True)[0]
        b = grad((gx * gx).sum(), [w], retain_graph=True)[0]
        c = grad((gx * gx).sum() + gw.sum() * 3, [x, w])
        got[lib.__name__] = [_np(t) for t in (gx, gw, a, b, *c)]
    for ours, theirs in zip(got["tinygrad_cnn"], got["torch"]):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("x, beta, threshold", [(20.0, 1, 20), (10.0, 2, 20), (2.0, 0.5, 1),
                                                (0.0, 1, 0), (-20.0, -1, 20), (19.0, 1, 20)])
def test_softplus_second_derivative_at_the_threshold_matches_pytorch(x, beta, threshold):
    out = []
    for lib, f, grad in ((tg, F.softplus, tg.grad), (torch, TF.softplus, torch.autograd.grad)):
        t = lib.tensor([x], dtype=lib.float64, requires_grad=True)
        (g,) = grad(f(t, beta=beta, threshold=threshold).sum(), [t], create_graph=True)
        (h,) = grad(g.sum(), [t])
        out.append((_np(g)[0], _np(h)[0]))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-15)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-12, atol=1e-300)


def test_float64_erf_is_within_a_few_ulp():
    x = np.concatenate([np.linspace(-6, 6, 20001), [0.46875, -0.46875, 1.0, 26.0, -30.0]])
    ours = tg.erf(tg.tensor(x, dtype=tg.float64)).numpy()
    ref = np.array([math.erf(v) for v in x])
    nz = ref != 0
    ulps = np.abs(ours[nz] - ref[nz]) / np.spacing(np.abs(ref[nz]))
    assert ulps.max() <= 4, ulps.max()  # (the Chebyshev fits before: 27)
    special = tg.erf(tg.tensor([0.0, -0.0, np.inf, -np.inf, np.nan], dtype=tg.float64)).numpy()
    np.testing.assert_array_equal(special, [0.0, -0.0, 1.0, -1.0, np.nan])
    assert np.signbit(special[1])


@pytest.mark.parametrize("dtype, vals", [("float32", [1e-40, -1e-40, 1e-30, 0.0, 0.5]),
                                         ("float64", [5e-324, 1e-200, -1e-160, 0.0, 0.25])])
def test_sinc_gradient_at_denormals_is_zero_as_pytorchs(dtype, vals):
    x = tg.tensor(vals, dtype=getattr(tg, dtype), requires_grad=True)
    y = tg.sinc(x)
    y.sum().backward()
    X = torch.tensor(vals, dtype=getattr(torch, dtype), requires_grad=True)
    Y = torch.sinc(X)
    Y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), _np(Y))
    # (ours is -π²x/3 there, PyTorch's 0: both 0 to any purpose)
    np.testing.assert_allclose(x.grad.numpy(), _np(X.grad), rtol=1e-6, atol=1e-25)
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("decimals", [308, 309, -309, 400, -400, 1000])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_round_with_decimals_past_the_float_range(decimals, dtype):
    vals = [1.5, 0.0, -2.25]
    ours = tg.tensor(vals, dtype=getattr(tg, dtype)).round(decimals=decimals).numpy()
    theirs = torch.round(torch.tensor(vals, dtype=getattr(torch, dtype)), decimals=decimals)
    np.testing.assert_array_equal(ours, _np(theirs))
