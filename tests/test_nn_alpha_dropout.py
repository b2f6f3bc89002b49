"""The alpha dropouts (nn.AlphaDropout / F.alpha_dropout, nn.FeatureAlphaDropout /
F.feature_alpha_dropout) against PyTorch: signatures, reprs, errors, the identity cases, the exact
formula given the mask and its gradient, and the mean and variance of SELU-normal inputs."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn

F = nn.functional
torch = pytest.importorskip("torch")
tnn, TF = torch.nn, torch.nn.functional

ALPHA = 1.7580993408473766  # SELU's scale * alpha


def arr(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _params(f):
    return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]


# ------------------------------------------------------------------ alpha dropout
def _a(p):
    return 1.0 / math.sqrt((ALPHA ** 2 * p + 1) * (1 - p))


def _formula(x, mask, p):
    """PyTorch's alpha dropout with the mask ``mask`` (1 kept, 0 dropped; broadcast), in float64."""
    a = _a(p)
    return x * (mask * a) + ((mask - 1) * ALPHA * a + ALPHA * a * p)


def test_alpha_dropout_signatures_and_reprs_as_torch():
    for name in ("alpha_dropout", "feature_alpha_dropout"):
        assert _params(getattr(F, name)) == _params(getattr(TF, name))  # training=False default
        assert name in F.__all__
    for name in ("AlphaDropout", "FeatureAlphaDropout"):
        assert _params(getattr(nn, name).__init__) == _params(getattr(tnn, name).__init__)
        for args in ((), (0.2,), (0.3, True)):
            assert repr(getattr(nn, name)(*args)) == repr(getattr(tnn, name)(*args))
        for lib in (nn, tnn):
            with pytest.raises(ValueError):
                getattr(lib, name)(1.5)
    for lib, make in ((tg, Tensor), (torch, torch.tensor)):
        f = TF if lib is torch else F
        for p in (-0.1, 1.5):
            for fn in (f.alpha_dropout, f.feature_alpha_dropout):
                with pytest.raises(ValueError, match=f"dropout probability has to be between 0 "
                                                     f"and 1, but got {p}"):
                    fn(make(np.ones((2, 3))), p, True)


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_identity_cases_as_torch(feature):
    name = "feature_alpha_dropout" if feature else "alpha_dropout"
    for lib, make in ((tg, Tensor), (torch, torch.tensor)):
        fn = getattr(TF if lib is torch else F, name)
        x = make(np.ones((2, 3), np.float32))
        assert fn(x) is x  # training=False by default
        assert fn(x, 0.5, False) is x and fn(x, 0.0, True) is x
        empty = make(np.ones((0, 3), np.float32))
        assert fn(empty, 0.5, True) is empty
        layer = getattr(lib.nn, "FeatureAlphaDropout" if feature else "AlphaDropout")(0.5)
        layer.eval()
        assert layer(x) is x
        # p = 1: zeros of the input's dtype, even an integer one and a 1-D one
        for values in (np.ones((2, 3), np.int64), np.ones(4, np.float32)):
            z = fn(make(values), 1.0, True)
            assert arr(z).dtype == values.dtype and not arr(z).any()
        if feature:  # below 2 dims there are no channels (checked only when it draws)
            for shape in ((5,), ()):
                with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 "
                                                       "dimensions in the input"):
                    fn(make(np.ones(shape, np.float32)), 0.5, True)
            assert fn(make(np.ones(5, np.float32)), 0.5, False).shape[0] == 5
        with pytest.raises(RuntimeError):  # an integer tensor cannot take the fractions
            fn(make(np.ones((2, 3), np.int64)), 0.5, True)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("feature", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_alpha_dropout_is_the_formula_given_the_mask(p, feature, dtype):
    rng = np.random.RandomState(3)
    shape = (6, 5, 4, 3)
    x = rng.randn(*shape).astype(dtype)
    mask_shape = (6, 5, 1, 1) if feature else shape
    name = "feature_alpha_dropout" if feature else "alpha_dropout"
    tol = 1e-12 if dtype == "float64" else 1e-6
    dropped = ALPHA * _a(p) * (p - 1)  # what a dropped element becomes

    # ours: the mask replayed from the generator's state before the call
    tg.manual_seed(5)
    state = tg.get_rng_state()
    xt = Tensor(x, requires_grad=True)
    y = getattr(F, name)(xt, p, True)
    tg.set_rng_state(state)
    mask = (tg.random.generator().random(mask_shape) >= p).astype(np.float64)
    assert 0 < mask.mean() < 1
    assert y.dtype == np.dtype(dtype) and y.shape == shape
    np.testing.assert_allclose(arr(y), _formula(x.astype(np.float64), mask, p), rtol=tol,
                               atol=tol)
    g = rng.randn(*shape).astype(dtype)
    (y * Tensor(g)).sum().backward()
    np.testing.assert_allclose(arr(xt.grad), g * np.broadcast_to(mask * _a(p), shape), rtol=tol,
                               atol=tol)

    # PyTorch's: the mask read off its result (a dropped element is the constant), same formula
    torch.manual_seed(5)
    tx = torch.tensor(x, requires_grad=True)
    ty = getattr(TF, name)(tx, p, True)
    tmask = (~np.isclose(arr(ty), dropped, rtol=0, atol=1e-6)).astype(np.float64)
    if feature:  # one draw per (n, c)
        assert (tmask == tmask[:, :, :1, :1]).all()
        tmask = tmask[:, :, :1, :1]
    np.testing.assert_allclose(arr(ty), _formula(x.astype(np.float64), tmask, p), rtol=tol,
                               atol=tol)
    (ty * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(arr(tx.grad), g * np.broadcast_to(tmask * _a(p), shape),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("p", [0.05, 0.2, 0.5, 0.8])
@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_mean_and_variance_of_selu_normal_inputs(p, feature):
    """Inputs of mean 0 and variance 1 (SELU's fixed point) keep them. 10**6 independent draws
    (of the mask: one per element, or one per channel with two elements each): the mean's and
    variance's standard errors are about 0.001-0.002, the bound 0.02 is 10 or more of them, and
    the seeds are fixed."""
    shape = (1000, 1000, 1) if not feature else (2000, 500, 2)
    x = np.random.RandomState(7).randn(*shape)
    tg.manual_seed(11)
    torch.manual_seed(11)
    name = "feature_alpha_dropout" if feature else "alpha_dropout"
    for y in (arr(getattr(F, name)(Tensor(x), p, True)),
              arr(getattr(TF, name)(torch.tensor(x), p, True))):
        assert abs(y.mean() - x.mean()) < 0.02 and abs(y.var() - x.var()) < 0.02
        assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.02
        assert not np.allclose(y, x)  # it did drop


def test_alpha_dropout_float16_keeps_its_dtype_and_the_formula():
    x = np.random.RandomState(4).randn(50, 8).astype(np.float16)
    tg.manual_seed(2)
    state = tg.get_rng_state()
    y = F.alpha_dropout(Tensor(x), 0.3, True)
    tg.set_rng_state(state)
    mask = (tg.random.generator().random(x.shape) >= 0.3).astype(np.float64)
    assert y.dtype == np.float16
    np.testing.assert_allclose(arr(y).astype(np.float64), _formula(x.astype(np.float64), mask, 0.3),
                               rtol=2e-3, atol=2e-3)


def test_alpha_dropout_inplace_as_torch():
    for lib, make in ((tg, Tensor), (torch, torch.tensor)):
        f = TF if lib is torch else F
        x = make(np.ones((4, 5), np.float32))
        y = f.alpha_dropout(x, 0.5, True, inplace=True)
        assert y is x and not np.allclose(arr(x), 1.0)
        x = make(np.ones((4, 5, 2), np.float32))
        assert f.feature_alpha_dropout(x, 0.5, True, inplace=True) is x
        # the modules leave the input alone whatever inplace says (PyTorch's forward passes no
        # inplace on)
        for layer in (lib.nn.AlphaDropout(0.5, inplace=True),
                      lib.nn.FeatureAlphaDropout(0.5, inplace=True)):
            x = make(np.ones((4, 5, 2), np.float32))
            y = layer(x)
            assert y is not x and np.array_equal(arr(x), np.ones((4, 5, 2)))
        leaf = make(np.ones((2, 3), np.float32))
        leaf.requires_grad_(True)
        with pytest.raises(RuntimeError):
            f.alpha_dropout(leaf, 0.5, True, inplace=True)


def test_alpha_dropout_layers_train_and_eval():
    x = Tensor(np.random.RandomState(0).randn(8, 4, 3).astype(np.float32))
    for layer in (nn.AlphaDropout(0.4), nn.FeatureAlphaDropout(0.4)):
        y = layer(x)
        assert y.shape == x.shape and not np.allclose(y.numpy(), x.numpy())
        assert layer.eval()(x) is x
