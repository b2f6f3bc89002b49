"""nn.Bilinear / F.bilinear against PyTorch: signatures, reprs, initialisation, values and
gradients with copied weights, errors."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck, nn

F = nn.functional
torch = pytest.importorskip("torch")
tnn, TF = torch.nn, torch.nn.functional


def arr(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _params(f):
    return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]


# ------------------------------------------------------------------ Bilinear
def test_bilinear_signature_repr_and_parameters_as_torch():
    assert _params(nn.Bilinear.__init__) == _params(tnn.Bilinear.__init__)
    assert [p.name for p in inspect.signature(F.bilinear).parameters.values()] == \
        ["input1", "input2", "weight", "bias"]  # (PyTorch's C function: its docstring's names)
    assert "bilinear" in F.__all__ and "Bilinear" in nn.__all__
    for kw in ({}, dict(bias=False)):
        ours, theirs = nn.Bilinear(3, 4, 5, **kw), tnn.Bilinear(3, 4, 5, **kw)
        assert repr(ours) == repr(theirs)
        assert [(n, p.shape) for n, p in ours.named_parameters()] == \
            [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert (ours.bias is None) == (theirs.bias is None)
    m = nn.Bilinear(2, 3, 4, dtype=tg.float64)
    assert m.weight.dtype == np.float64 and m.bias.dtype == np.float64


def test_bilinear_init_is_pytorchs_uniform():
    tg.manual_seed(0)
    m = nn.Bilinear(16, 3, 400)  # the bound is 1/sqrt(in1_features), not the fan-in of weight
    bound = 1 / math.sqrt(16)
    w, b = m.weight.numpy(), m.bias.numpy()
    assert abs(w).max() <= bound and abs(b).max() <= bound
    assert abs(w).max() > 0.99 * bound and abs(b).max() > 0.95 * bound
    assert abs(w.mean()) < 0.01 and abs(w.std() - bound / math.sqrt(3)) < 0.01
    before = w.copy()
    m.reset_parameters()
    assert not np.array_equal(before, m.weight.numpy())
    for lib in (nn, tnn):
        with pytest.raises(ValueError, match=r"in1_features must be > 0, but got \(in1_features=0\)"):
            lib.Bilinear(0, 4, 5)
        for args in ((3, -1, 5), (3, 4, -2)):
            with pytest.raises(RuntimeError, match="negative dimension"):
                lib.Bilinear(*args)


@pytest.mark.parametrize("lead", [(), (7,), (2, 6), (0,)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_bilinear_values_and_gradients_as_torch(lead, bias, dtype):
    rng = np.random.RandomState(1)
    ours, theirs = nn.Bilinear(3, 4, 5, bias=bias), tnn.Bilinear(3, 4, 5, bias=bias)
    ours.to(dtype=np.dtype(dtype))
    theirs.to(dtype=getattr(torch, dtype))
    ours.load_state_dict(theirs.state_dict())  # PyTorch's weights, copied
    x1, x2 = rng.randn(*lead, 3).astype(dtype), rng.randn(*lead, 4).astype(dtype)
    a, b = Tensor(x1, requires_grad=True), Tensor(x2, requires_grad=True)
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    y, ty = ours(a, b), theirs(ta, tb)
    assert y.shape == tuple(ty.shape) == (*lead, 5) and y.dtype == np.dtype(dtype)
    tol = 1e-12 if dtype == "float64" else 2e-6
    np.testing.assert_allclose(arr(y), arr(ty), rtol=tol, atol=tol)
    g = rng.randn(*y.shape).astype(dtype)
    (y * Tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    pairs = [(a, ta), (b, tb), (ours.weight, theirs.weight)]
    if bias:
        pairs.append((ours.bias, theirs.bias))
    for o, t in pairs:
        np.testing.assert_allclose(arr(o.grad), arr(t.grad), rtol=tol, atol=tol)
    f = F.bilinear(Tensor(x1), Tensor(x2), ours.weight, ours.bias)  # the function itself
    np.testing.assert_allclose(arr(f), arr(TF.bilinear(torch.tensor(x1), torch.tensor(x2),
                                                       theirs.weight, theirs.bias)),
                               rtol=tol, atol=tol)


def test_bilinear_gradcheck_and_gradgradcheck():
    rng = np.random.RandomState(2)
    ts = [Tensor(rng.randn(*s), requires_grad=True) for s in ((2, 3), (2, 2), (4, 3, 2), (4,))]
    assert gradcheck(F.bilinear, ts) and gradgradcheck(F.bilinear, ts)
    one_d = [Tensor(rng.randn(3), requires_grad=True), Tensor(rng.randn(2), requires_grad=True),
             ts[2]]
    assert gradcheck(F.bilinear, one_d) and gradgradcheck(F.bilinear, one_d)


def test_bilinear_empty_features_as_torch():
    ours, theirs = nn.Bilinear(3, 4, 0), tnn.Bilinear(3, 4, 0)
    x1, x2 = np.ones((2, 3), np.float32), np.ones((2, 4), np.float32)
    assert ours(Tensor(x1), Tensor(x2)).shape == tuple(theirs(torch.tensor(x1),
                                                              torch.tensor(x2)).shape) == (2, 0)


BAD_BILINEAR = [  # (input1, input2, weight, bias) shapes; how PyTorch refuses them
    ((2, 6, 3), (6, 4), (5, 3, 4), (5,)),
    ((2, 6, 3), (2, 5, 4), (5, 3, 4), (5,)),
    ((2, 4), (2, 4), (5, 3, 4), (5,)),
    ((2, 3), (2, 3), (5, 3, 4), (5,)),
    ((2, 3), (2, 4), (5, 3, 4), (4,)),
    ((2, 3), (2, 4), (5, 3, 4), (1, 5)),
    ((2, 3), (2, 4), (5, 3, 4), (5, 1)),
    ((2, 3), (2, 4), (5, 3, 4), ()),
    ((), (), (5, 3, 4), (5,)),
    ((2, 3), (2, 4), (5, 12), None),
    ((2, 3), (2, 4), (5, 3, 4, 1), (5,)),
]


@pytest.mark.parametrize("s1,s2,sw,sb", BAD_BILINEAR)
def test_bilinear_errors_as_torch(s1, s2, sw, sb):
    def call(lib, make):
        bias = None if sb is None else make(np.ones(sb, np.float32))
        f = TF.bilinear if lib is torch else F.bilinear
        return f(make(np.ones(s1, np.float32)), make(np.ones(s2, np.float32)),
                 make(np.ones(sw, np.float32)), bias)

    with pytest.raises((RuntimeError, IndexError)) as theirs:
        call(torch, torch.tensor)
    with pytest.raises(theirs.type) as ours:
        call(tg, Tensor)
    if len(sw) == 3 and "bilinear()" in str(theirs.value):  # PyTorch's checks: its words too
        # (a weight not 3-D is refused for its rank here, before the sizes are compared)
        assert str(theirs.value) in str(ours.value)


def test_bilinear_dtypes_must_agree_as_torch():
    x = np.ones((2, 3))
    for lib, make in ((torch, torch.tensor), (tg, Tensor)):
        f = TF.bilinear if lib is torch else F.bilinear
        with pytest.raises(RuntimeError, match="All tensors must have the same dtype"):
            f(make(x), make(np.ones((2, 4), np.float32)), make(np.ones((5, 3, 4))))
