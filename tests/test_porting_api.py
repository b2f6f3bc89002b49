"""The everyday PyTorch APIs that ported CNN/MLP training scripts use: dtype names, casts and
``new_*`` methods, in-place random fills, factories, ``Module.apply``/``to(dtype)``, ``one_hot``,
``trunc_normal_``, sort/argsort/topk. Each against PyTorch doing the same, where it is installed."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(ours, theirs):
    """Equal values (NaN where NaN), equal shapes and the same dtype."""
    a, b = _np(ours), theirs.detach().numpy()
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_array_equal(a, b)


def _raises_like(torch_call, our_call, kind=None):
    """Both raise; ours with PyTorch's exception kind (or ``kind`` where ours is documented to
    differ)."""
    with pytest.raises(Exception) as theirs:
        torch_call()
    with pytest.raises(kind or theirs.type):
        our_call()


# ------------------------------------------------------------------------------ 1. dtype names
def test_dtype_names_are_torchs(torch):
    pairs = {"long": torch.long, "int": torch.int, "int8": torch.int8, "int16": torch.int16,
             "short": torch.short, "uint8": torch.uint8, "bool": torch.bool, "half": torch.half,
             "float": torch.float, "double": torch.double, "float16": torch.float16,
             "float32": torch.float32, "float64": torch.float64, "int32": torch.int32,
             "int64": torch.int64}
    for name, td in pairs.items():
        ours = getattr(tg, name)
        assert isinstance(ours, np.dtype)
        assert ours == torch.empty(0, dtype=td).numpy().dtype, name
        assert tg.zeros(2, dtype=ours).dtype == ours


def test_dtype_names_do_not_leak_into_star_imports_or_shadow_builtins():
    namespace: dict = {}
    exec("from tinygrad_cnn import *", namespace)
    for name in ("float", "int", "bool", "long", "half", "double"):
        assert name not in namespace
    assert builtins.int is int and builtins.float is float  # our module's names stay ours


# ------------------------------------------------------------------------------ 2. Tensor methods
@pytest.mark.parametrize("method", ["long", "int", "bool", "half", "double", "float"])
def test_cast_methods_as_torch(torch, method):
    a = np.array([[-1.7, 0.0, 2.5], [np.nan, 3.9, -0.2]], dtype=np.float32)
    a = np.nan_to_num(a) if method in ("long", "int") else a  # NaN to int is undefined in both
    x, tx = Tensor(a), torch.tensor(a)
    _same(getattr(x, method)(), getattr(tx, method)())


def test_float_casts_keep_the_graph_and_int_casts_cut_it(torch):
    a = np.array([0.5, -1.25, 3.0])
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (x.float() * x.half().double()).sum().backward()
    (tx.float() * tx.half().double()).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    assert x.grad.dtype == np.float64
    for m in ("long", "int", "bool"):
        assert getattr(x, m)().requires_grad is getattr(tx, m)().requires_grad is False
    assert x.double() is x and tx.double() is tx  # no-op casts return the tensor itself


def test_type_as_view_as_is_floating_point_mT(torch):
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    _same(x.type_as(tg.tensor([1])), tx.type_as(torch.tensor([1])))
    _same(x.view_as(tg.zeros(6, 4)), tx.view_as(torch.zeros(6, 4)))
    assert x.is_floating_point() and not tg.tensor([1]).is_floating_point()
    assert torch.tensor([1]).is_floating_point() is tg.tensor([1]).is_floating_point()
    _same(x.mT, tx.mT)
    (x.mT * tg.arange(3.0)).sum().backward()
    (tx.mT * torch.arange(3.0)).sum().backward()
    _same(x.grad, tx.grad)
    v = x.detach().mT
    v[0, 0, 1] = 100.0  # a view: the write reaches the base
    assert x._data[0, 1, 0] == 100.0
    _raises_like(lambda: torch.ones(3).mT, lambda: tg.ones(3).mT)
    _raises_like(lambda: tx.type_as(3), lambda: x.type_as(3))
    _raises_like(lambda: tx.view_as(3), lambda: x.view_as(3))
    with pytest.raises(ValueError, match="reshape"):
        x.view_as(tg.zeros(5))


@pytest.mark.parametrize("dtype", ["float32", "int64", "float16", "bool"])
def test_new_factories_as_torch(torch, dtype):
    tdt = getattr(torch, dtype)
    x = tg.zeros(2, 3, dtype=getattr(tg, dtype), requires_grad=dtype.startswith("float"))
    tx = torch.zeros(2, 3, dtype=tdt)
    _same(x.new_zeros(2, 4), tx.new_zeros(2, 4))
    _same(x.new_zeros((4,)), tx.new_zeros((4,)))
    _same(x.new_ones([1, 2]), tx.new_ones([1, 2]))
    _same(x.new_full((3,), 1.75), tx.new_full((3,), 1.75))
    _same(x.new_full((0, 2), 7), tx.new_full((0, 2), 7))
    _same(x.new_tensor([[1.5, -2.7]]), tx.new_tensor([[1.5, -2.7]]))
    assert x.new_empty(3, 2).shape == (3, 2) and x.new_empty(3, 2).dtype == x.dtype
    _same(x.new_zeros(2, dtype=tg.float64), tx.new_zeros(2, dtype=torch.float64))
    _same(x.new_tensor([1, 2], dtype=tg.int8), tx.new_tensor([1, 2], dtype=torch.int8))
    for made in (x.new_zeros(2), x.new_ones(2), x.new_full((2,), 1), x.new_tensor([1])):
        assert not made.requires_grad and made.is_leaf
    assert x.new_ones(2, dtype=tg.float32, requires_grad=True).requires_grad


def test_new_factories_refuse_what_torch_refuses(torch):
    x, tx = tg.zeros(2), torch.zeros(2)
    i, ti = tg.zeros(2, dtype=tg.long), torch.zeros(2, dtype=torch.long)
    _raises_like(lambda: tx.new_zeros(-1), lambda: x.new_zeros(-1))
    _raises_like(lambda: tx.new_ones(2, 1.5), lambda: x.new_ones(2, 1.5))
    _raises_like(lambda: tx.new_full(2, 1.0), lambda: x.new_full(2, 1.0))
    _raises_like(lambda: ti.new_full((2,), 1e30), lambda: i.new_full((2,), 1e30))
    _raises_like(lambda: ti.new_ones(2, requires_grad=True),
                 lambda: i.new_ones(2, requires_grad=True))
    src = tg.ones(2, requires_grad=True) * 3
    copy = x.new_tensor(src)
    assert not copy.requires_grad and copy._data is not src._data


def test_masked_fill_in_place(torch):
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    m = np.array([True, False, True])
    x, tx = Tensor(a.copy()), torch.tensor(a.copy())
    assert x.masked_fill_(tg.tensor(m), -1.5) is x
    tx.masked_fill_(torch.tensor(m), -1.5)
    _same(x, tx)
    # recorded: gradients to the kept elements and to a 0-d tensor value, as in PyTorch
    w, tw = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    v, tv = Tensor(np.array(2.0), requires_grad=True), torch.tensor(2.0, dtype=torch.float64,
                                                                   requires_grad=True)
    y, ty = w * 3, tw * 3
    version = y._version
    y.masked_fill_(tg.tensor(m), v)
    ty.masked_fill_(torch.tensor(m), tv)
    assert y._version == version + 1
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    _same(y, ty)
    _same(w.grad, tw.grad)
    _same(v.grad, tv.grad)
    # into a view: the base changes
    base = Tensor(a.copy())
    base[1].masked_fill_(tg.tensor(m), 9.0)
    np.testing.assert_array_equal(base.numpy()[1], [9, 4, 9])
    _raises_like(lambda: torch.tensor(a, requires_grad=True).masked_fill_(torch.tensor(m), 0.0),
                 lambda: Tensor(a, requires_grad=True).masked_fill_(tg.tensor(m), 0.0))
    _raises_like(lambda: torch.zeros(3).masked_fill_(torch.tensor([[True, False, True]]), 0),
                 lambda: tg.zeros(3).masked_fill_(tg.tensor([[True, False, True]]), 0),
                 ValueError)  # ours: a shape error is a ValueError, as everywhere here
    with pytest.raises(TypeError, match="bool"):
        tg.zeros(3).masked_fill_(tg.tensor([1, 0, 1]), 0)


def test_random_fills_draw_from_the_seeded_generator(torch):
    for fill, args in (("normal_", (2.0, 0.5)), ("uniform_", (-3.0, -1.0))):
        tg.manual_seed(7)
        first = getattr(tg.zeros(1000, dtype=tg.float64), fill)(*args)
        tg.manual_seed(7)
        again = getattr(tg.zeros(1000, dtype=tg.float64), fill)(*args)
        np.testing.assert_array_equal(first.numpy(), again.numpy())
    tg.manual_seed(0)
    n = tg.zeros(20000).normal_(2.0, 0.5).numpy()
    assert n.dtype == np.float32 and abs(n.mean() - 2.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    u = tg.zeros(20000, dtype=tg.half).uniform_(-3.0, -1.0).numpy()
    assert u.dtype == np.float16 and u.min() >= -3.0 and u.max() <= -1.0
    assert abs(u.mean() + 2.0) < 0.03
    assert (tg.zeros(3).uniform_(1.0, 1.0).numpy() == 1.0).all()  # an empty range, as torch
    assert (torch.zeros(3).uniform_(1.0, 1.0) == 1.0).all()
    assert (tg.zeros(3).normal_(4.0, 0.0).numpy() == 4.0).all()


def test_random_fills_in_a_graph_and_their_errors(torch):
    # a non-leaf: the old values get zero gradient, as in PyTorch
    w, tw = tg.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    y, ty = w * 2, tw * 2
    y.normal_()
    ty.normal_()
    (y.sum() + w.sum()).backward()
    (ty.sum() + tw.sum()).backward()
    _same(w.grad, tw.grad)
    assert y.grad_fn is not None and ty.grad_fn is not None
    for fill in ("normal_", "uniform_"):
        _raises_like(lambda: getattr(torch.ones(3, requires_grad=True), fill)(),
                     lambda: getattr(tg.ones(3, requires_grad=True), fill)())
        _raises_like(lambda: getattr(torch.zeros(3, dtype=torch.long), fill)(),
                     lambda: getattr(tg.zeros(3, dtype=tg.long), fill)())
        leaf = tg.ones(3, requires_grad=True)
        with tg.no_grad():
            getattr(leaf, fill)()  # allowed under no_grad, as initialisers do
        assert leaf.is_leaf and leaf.requires_grad
    _raises_like(lambda: torch.zeros(3).normal_(0, -1), lambda: tg.zeros(3).normal_(0, -1))
    _raises_like(lambda: torch.zeros(3).uniform_(1, 0), lambda: tg.zeros(3).uniform_(1, 0))
    _raises_like(lambda: torch.zeros(3).half().uniform_(0, 1e6),
                 lambda: tg.zeros(3, dtype=tg.half).uniform_(0, 1e6))
    base = tg.zeros(2, 3)
    base[0].uniform_(5.0, 6.0)
    assert (base.numpy()[0] >= 5).all() and (base.numpy()[1] == 0).all()
    with pytest.raises(RuntimeError, match="read-only"):
        tg.zeros(3).expand(2, 3).normal_()


# ------------------------------------------------------------------------------ 3. factories
@pytest.mark.parametrize("dtype", ["float32", "int64", "float16", "bool", "uint8"])
def test_full_like_and_empty_like(torch, dtype):
    x = tg.zeros(2, 3, dtype=getattr(tg, dtype))
    tx = torch.zeros(2, 3, dtype=getattr(torch, dtype))
    _same(tg.full_like(x, 2.7), torch.full_like(tx, 2.7))
    _same(tg.full_like(x, 1, dtype=tg.float64), torch.full_like(tx, 1, dtype=torch.float64))
    _same(tg.full_like(x, tg.tensor(3)), torch.full_like(tx, torch.tensor(3)))
    empty, tempty = tg.empty_like(x), torch.empty_like(tx)
    assert empty.shape == tuple(tempty.shape) and empty.dtype == tempty.numpy().dtype
    assert not tg.full_like(tg.ones(2, requires_grad=True), 1.0).requires_grad
    assert tg.full_like(tg.ones(2), 1.0, requires_grad=True).requires_grad


def test_full_like_and_empty_like_errors(torch):
    i, ti = tg.zeros(2, dtype=tg.int8), torch.zeros(2, dtype=torch.int8)
    _raises_like(lambda: torch.full_like(ti, 300), lambda: tg.full_like(i, 300))
    _raises_like(lambda: torch.full_like(np.zeros(2), 1), lambda: tg.full_like(np.zeros(2), 1))
    _raises_like(lambda: torch.empty_like([1.0]), lambda: tg.empty_like([1.0]))


def test_eye(torch):
    for args in ((3,), (2, 4), (4, 2), (0,), (3, 0)):
        _same(tg.eye(*args), torch.eye(*args))
    _same(tg.eye(3, dtype=tg.bool), torch.eye(3, dtype=torch.bool))
    _same(tg.eye(2, m=3, dtype=tg.long), torch.eye(2, m=3, dtype=torch.long))
    assert tg.eye(2, requires_grad=True).requires_grad
    _raises_like(lambda: torch.eye(-1), lambda: tg.eye(-1))
    _raises_like(lambda: torch.eye(2, -1), lambda: tg.eye(2, -1))
    _raises_like(lambda: torch.eye(2.5), lambda: tg.eye(2.5))


@pytest.mark.parametrize("start, end, steps", [(0, 1, 5), (-3.5, 2.25, 7), (0, 1, 1), (0, 1, 0),
                                               (1, 0, 11), (-1e3, 1e-3, 100), (2, 2, 4)])
def test_linspace(torch, start, end, steps):
    t = torch.linspace(start, end, steps)
    ours = tg.linspace(start, end, steps)
    assert ours.dtype == np.float32 and ours.shape == tuple(t.shape)
    np.testing.assert_allclose(ours.numpy(), t.numpy(), rtol=2e-7, atol=1e-7)
    if steps:
        assert ours.numpy()[0] == t.numpy()[0] and ours.numpy()[-1] == t.numpy()[-1]
    ours64 = tg.linspace(start, end, steps, dtype=tg.float64)
    t64 = torch.linspace(start, end, steps, dtype=torch.float64)
    assert ours64.dtype == np.float64
    np.testing.assert_allclose(ours64.numpy(), t64.numpy(), rtol=1e-15, atol=0)  # within an ulp


def test_linspace_integer_dtypes_and_errors(torch):
    for start, end, steps in ((0, 10, 4), (-1, 10, 4), (10, -7, 6), (0, 5, 11)):
        _same(tg.linspace(start, end, steps, dtype=tg.long),
              torch.linspace(start, end, steps, dtype=torch.long))
    _same(tg.linspace(tg.tensor(0.0), tg.tensor(1.0), 3), torch.linspace(0.0, 1.0, 3))
    _raises_like(lambda: torch.linspace(0, 1, -1), lambda: tg.linspace(0, 1, -1))
    _raises_like(lambda: torch.linspace(0, 1, 2.5), lambda: tg.linspace(0, 1, 2.5))


def test_randint_forms_dtypes_and_seed(torch):
    tg.manual_seed(3)
    a = tg.randint(10, (1000,))
    tg.manual_seed(3)
    assert (tg.randint(10, (1000,)).numpy() == a.numpy()).all()
    assert a.dtype == torch.randint(10, (3,)).numpy().dtype == np.int64
    assert a.numpy().min() == 0 and a.numpy().max() == 9  # every value in [0, 10) is drawn
    b = tg.randint(-5, -2, (2, 500))
    assert b.shape == (2, 500) and set(np.unique(b.numpy())) == {-5, -4, -3}
    c = tg.randint(low=2, high=4, size=(50,))
    assert set(np.unique(c.numpy())) == {2, 3}
    assert set(np.unique(tg.randint(high=2, size=[50]).numpy())) == {0, 1}
    assert tg.randint(3, size=(4,)).shape == (4,)
    f = tg.randint(5, (3,), dtype=tg.float32)
    assert f.dtype == torch.randint(5, (3,), dtype=torch.float32).numpy().dtype
    assert tg.randint(0, 256, (10,), dtype=tg.uint8).dtype == np.uint8
    assert tg.randint(5, (0, 3)).shape == (0, 3)


def test_randint_errors(torch):
    _raises_like(lambda: torch.randint(5, 5, (3,)), lambda: tg.randint(5, 5, (3,)))
    _raises_like(lambda: torch.randint(5, 3), lambda: tg.randint(5, 3))
    _raises_like(lambda: torch.randint(5), lambda: tg.randint(5))
    _raises_like(lambda: torch.randint(0, 300, (3,), dtype=torch.uint8),
                 lambda: tg.randint(0, 300, (3,), dtype=tg.uint8))
    _raises_like(lambda: torch.randint(5, (-1,)), lambda: tg.randint(5, (-1,)))
    _raises_like(lambda: torch.randint(5, (2,), requires_grad=True),
                 lambda: tg.randint(5, (2,), requires_grad=True))
    with pytest.raises(TypeError):
        tg.randint(0.5, 3, (2,))


def test_randperm(torch):
    tg.manual_seed(1)
    p = tg.randperm(50)
    assert p.dtype == torch.randperm(3).numpy().dtype == np.int64
    assert sorted(p.numpy().tolist()) == list(range(50)) and p.numpy().tolist() != list(range(50))
    tg.manual_seed(1)
    assert (tg.randperm(50).numpy() == p.numpy()).all()
    _same(tg.randperm(0), torch.randperm(0))
    assert tg.randperm(4, dtype=tg.float32).dtype == np.float32
    _raises_like(lambda: torch.randperm(-1), lambda: tg.randperm(-1))
    _raises_like(lambda: torch.randperm(2.0), lambda: tg.randperm(2.0))


def test_as_tensor_shares_memory_like_torch(torch):
    a, ta = np.zeros(3, dtype=np.float32), np.zeros(3, dtype=np.float32)
    t, tt = tg.as_tensor(a), torch.as_tensor(ta)
    a[0], ta[0] = 5, 5
    _same(t, tt)  # shared
    c, tc = tg.as_tensor(a, dtype=tg.float64), torch.as_tensor(ta, dtype=torch.float64)
    a[1], ta[1] = 7, 7
    _same(c, tc)  # copied: another dtype
    assert tg.as_tensor(a, dtype=tg.float32)._data is a or np.shares_memory(
        tg.as_tensor(a, dtype=tg.float32)._data, a)
    for data in ([1, 2], [1.0, 2], [True], 3, 2.5, np.float64(1.5), [[1, 2], [3, 4]]):
        _same(tg.as_tensor(data), torch.as_tensor(data))
    x, tx = tg.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    assert tg.as_tensor(x) is x and torch.as_tensor(tx) is tx
    y = tg.as_tensor(x, dtype=tg.float64)
    assert y.grad_fn is not None and torch.as_tensor(tx, dtype=torch.float64).grad_fn is not None
    _raises_like(lambda: torch.as_tensor(np.zeros(2, dtype=">f4")),
                 lambda: tg.as_tensor(np.zeros(2, dtype=">f4")))
    with pytest.raises(TypeError):
        tg.as_tensor("abc")


def test_isclose(torch):
    inf, nan = float("inf"), float("nan")
    a = np.array([1.0, nan, inf, -inf, inf, 0.0, 1e-9, 100.0, 1.0])
    b = np.array([1.0 + 1e-6, nan, inf, inf, 1.0, 1e-9, 0.0, 100.001, 1.1])
    for dt in ("float16", "float32", "float64"):
        x, y = Tensor(a.astype(dt)), Tensor(b.astype(dt))
        tx, ty = torch.tensor(a.astype(dt)), torch.tensor(b.astype(dt))
        _same(tg.isclose(x, y), torch.isclose(tx, ty))
        _same(x.isclose(y, equal_nan=True), tx.isclose(ty, equal_nan=True))
        _same(tg.isclose(x, y, rtol=0.2, atol=0.0), torch.isclose(tx, ty, rtol=0.2, atol=0.0))
        _same(tg.isclose(x, y, rtol=0, atol=0), torch.isclose(tx, ty, rtol=0, atol=0))
    i, j = tg.tensor([1, 5, -3]), tg.tensor([2, 5, 0])
    ti, tj = torch.tensor([1, 5, -3]), torch.tensor([2, 5, 0])
    _same(tg.isclose(i, j, atol=1), torch.isclose(ti, tj, atol=1))
    _same(tg.isclose(tg.tensor([True, False]), tg.tensor([False, False])),
          torch.isclose(torch.tensor([True, False]), torch.tensor([False, False])))
    _same(tg.isclose(tg.ones(2, 1), tg.ones(3)), torch.isclose(torch.ones(2, 1), torch.ones(3)))
    assert not tg.isclose(tg.ones(2, requires_grad=True), tg.ones(2)).requires_grad
    _raises_like(lambda: torch.isclose(torch.ones(1), torch.ones(1, dtype=torch.float64)),
                 lambda: tg.isclose(tg.ones(1), tg.ones(1, dtype=tg.float64)))
    _raises_like(lambda: torch.isclose(torch.ones(1), 1.0), lambda: tg.isclose(tg.ones(1), 1.0))
    _raises_like(lambda: torch.isclose(torch.ones(1), torch.ones(1), rtol=-1),
                 lambda: tg.isclose(tg.ones(1), tg.ones(1), rtol=-1))
    _raises_like(lambda: torch.isclose(torch.ones(2), torch.ones(3)),
                 lambda: tg.isclose(tg.ones(2), tg.ones(3)), ValueError)  # shapes: ValueError here


def test_inference_mode(torch):
    x = tg.ones(2, requires_grad=True)
    for ours, theirs in ((tg.inference_mode(), torch.inference_mode()),
                         (tg.inference_mode(True), torch.inference_mode(True)),
                         (tg.inference_mode(False), torch.inference_mode(False))):
        with ours, theirs:
            assert tg.is_grad_enabled() is torch.is_grad_enabled()
            assert (x * 2).requires_grad is torch.is_grad_enabled()
        assert tg.is_grad_enabled() and torch.is_grad_enabled()
    for outer in ("no_grad", "inference_mode"):
        with getattr(tg, outer)(), tg.inference_mode(False):  # False turns recording on
            assert (x * 2).requires_grad
            with torch.no_grad() if outer == "no_grad" else torch.inference_mode(), \
                    torch.inference_mode(False):
                assert torch.is_grad_enabled()
    assert tg.is_grad_enabled()
    # create_graph records under no_grad, not under inference_mode (in both libraries)
    tx = torch.ones(2, requires_grad=True)
    y, ty = (x**3).sum(), (tx**3).sum()
    for ours, theirs in ((tg.no_grad(), torch.no_grad()),
                         (tg.inference_mode(), torch.inference_mode())):
        with ours, theirs:
            g, = tg.grad(y, x, create_graph=True, retain_graph=True)
            tgrad, = torch.autograd.grad(ty, tx, create_graph=True, retain_graph=True)
            assert g.requires_grad is tgrad.requires_grad

    @tg.inference_mode
    def bare():
        return (x * 2).requires_grad

    @tg.inference_mode()
    def called():
        return (x * 2).requires_grad

    @tg.inference_mode()
    def gen():
        yield tg.is_grad_enabled()

    assert bare() is False and called() is False and list(gen()) == [False]
    assert bare.__name__ == "bare" and tg.is_grad_enabled()


# ------------------------------------------------------------------------------ 4. nn.Module
def _twin_models(torch):
    """The same small model in both libraries, with the same weights."""
    from tinygrad_cnn import nn

    ours = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.Linear(4, 2)),
                         nn.BatchNorm1d(2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4),
                                 torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 2)),
                                 torch.nn.BatchNorm1d(2))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def test_module_apply_visits_children_first(torch):
    ours, theirs = _twin_models(torch)
    seen, tseen = [], []
    assert ours.apply(lambda m: seen.append(type(m).__name__)) is ours
    theirs.apply(lambda m: tseen.append(type(m).__name__))
    assert seen == tseen == ["Linear", "ReLU", "Linear", "Sequential", "BatchNorm1d",
                             "Sequential"]

    from tinygrad_cnn import nn

    def init(m):
        if isinstance(m, (nn.Linear, torch.nn.Linear)):
            with tg.no_grad(), torch.no_grad():
                m.weight.fill_(0.5)
                m.bias.zero_()

    ours.apply(init)
    theirs.apply(init)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    _raises_like(lambda: theirs.apply(3), lambda: ours.apply(3))


def test_module_requires_grad_freezes_every_parameter(torch):
    ours, theirs = _twin_models(torch)
    assert ours[1].requires_grad_(False) is ours[1]
    theirs[1].requires_grad_(False)
    flags = [p.requires_grad for p in ours.parameters()]
    assert flags == [p.requires_grad for p in theirs.parameters()] == [True] * 2 + [False] * 2 + \
        [True] * 2
    loss = ours(tg.randn(4, 3)).sum()
    loss.backward()
    assert ours[1][1].weight.grad is None and ours[0].weight.grad is not None
    ours.requires_grad_()
    assert all(p.requires_grad for p in ours.parameters())


def test_module_add_module_and_get_submodule(torch):
    from tinygrad_cnn import nn

    ours, theirs = _twin_models(torch)
    ours.add_module("head", nn.Linear(2, 1))
    theirs.add_module("head", torch.nn.Linear(2, 1))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours(tg.randn(4, 3)).shape == (4, 1)
    ours.add_module("spare", None)
    theirs.add_module("spare", None)
    assert ours.spare is None and list(ours.state_dict()) == list(theirs.state_dict())
    for target in ("", "0", "1.1", "head", "2"):
        assert type(ours.get_submodule(target)).__name__ == \
            type(theirs.get_submodule(target)).__name__
    assert ours.get_submodule("1.1") is ours[1][1]
    ml = nn.ModuleList([nn.ReLU(), nn.Linear(1, 1)])
    assert ml.get_submodule("1") is ml[1]
    for target in ("1.5", "nope", "0.weight", "spare"):
        _raises_like(lambda: theirs.get_submodule(target),
                     lambda: ours.get_submodule(target))
    m, tm = nn.Linear(1, 1), torch.nn.Linear(1, 1)
    for name, mod, tmod in ((3, nn.ReLU(), torch.nn.ReLU()), ("a.b", nn.ReLU(), torch.nn.ReLU()),
                            ("", nn.ReLU(), torch.nn.ReLU()), ("weight", nn.ReLU(), torch.nn.ReLU()),
                            ("x", 3, 3)):
        _raises_like(lambda: tm.add_module(name, tmod),
                     lambda: m.add_module(name, mod))


def test_module_to_dtype_half_double_float(torch):
    ours, theirs = _twin_models(torch)
    weight = ours[0].weight
    assert ours.to(tg.float64) is ours
    theirs.to(torch.float64)
    assert ours[0].weight is weight  # in place, the same parameters (an optimizer keeps them)
    for (k, v), (tk, tv) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == tk and v.dtype == tv.numpy().dtype, k  # num_batches_tracked stays int64
    x = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6)
    for call in (lambda m: m.half(), lambda m: m.float(), lambda m: m.double(),
                 lambda m: m.to("cpu", tg.float16 if isinstance(m, tg.nn.Module) else
                                torch.float16),
                 lambda m: m.to(dtype=tg.float32 if isinstance(m, tg.nn.Module) else
                                torch.float32, device="cpu"),
                 lambda m: m.to("cpu"),
                 lambda m: m.to(tg.zeros(1, dtype=tg.float64) if isinstance(m, tg.nn.Module)
                                else torch.zeros(1, dtype=torch.float64))):
        assert call(ours) is ours
        call(theirs)
        assert [v.dtype for v in ours.state_dict().values()] == \
            [v.numpy().dtype for v in theirs.state_dict().values()]
    _raises_like(lambda: theirs.to(torch.int64), lambda: ours.to(tg.int64))
    with pytest.raises(ValueError, match="device"):
        ours.to("float64")  # a string is a device, as in PyTorch


# ------------------------------------------------------------------------------ 5. one_hot, init
def test_one_hot(torch):
    import tinygrad_cnn.nn.functional as F

    tf = torch.nn.functional
    for data, n in (([0, 2, 1], -1), ([0, 2, 1], 5), (3, 4), ([[1, 0], [0, 0]], -1),
                    (np.zeros((0, 2), dtype=np.int64), 3)):
        a = np.asarray(data, dtype=np.int64)
        _same(F.one_hot(Tensor(a), n), tf.one_hot(torch.tensor(a), n))
    _same(F.one_hot(Tensor(np.array([2, 0])), num_classes=3),
          tf.one_hot(torch.tensor([2, 0]), num_classes=3))
    bad = [(np.array([0, -1]), -1), (np.array([0, 3]), 3), (np.array([0, 1]), 0),
           (np.array([0, 1]), -2), (np.zeros(0, dtype=np.int64), -1),
           (np.zeros(0, dtype=np.int64), 0), (np.array([0, 1], dtype=np.int32), 3),
           (np.array([0.0, 1.0]), 3)]
    for a, n in bad:
        _raises_like(lambda: tf.one_hot(torch.tensor(a), n),
                     lambda: F.one_hot(Tensor(a), n))
    _raises_like(lambda: tf.one_hot([0, 1], 3), lambda: F.one_hot([0, 1], 3))
    _raises_like(lambda: tf.one_hot(torch.tensor([0, 1]), 2.0),
                 lambda: F.one_hot(tg.tensor([0, 1]), 2.0))


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (1.0, 2.0, -1.0, 4.0),
                                             (0.0, 0.02, -0.04, 0.04), (0.5, 1.0, 0.5, 0.75)])
def test_trunc_normal_matches_torchs_distribution(torch, mean, std, a, b):
    from tinygrad_cnn import nn

    tg.manual_seed(0)
    torch.manual_seed(0)
    w = nn.Parameter(tg.zeros(20000, dtype=tg.float64))
    tw = torch.nn.Parameter(torch.zeros(20000, dtype=torch.float64))
    assert nn.init.trunc_normal_(w, mean, std, a, b) is w
    torch.nn.init.trunc_normal_(tw, mean, std, a, b)
    ours, theirs = np.sort(w.numpy()), np.sort(tw.detach().numpy())
    assert ours.min() >= a and ours.max() <= b
    # the two-sample Kolmogorov-Smirnov distance: 0.03 is far above what two samples of 20,000
    # from one distribution show (p < 1e-7), far below what a wrong truncation gives
    grid = np.concatenate([ours, theirs])
    ks = np.abs(np.searchsorted(ours, grid, "right") - np.searchsorted(theirs, grid, "right"))
    assert ks.max() / 20000 < 0.03
    assert abs(ours.mean() - theirs.mean()) < 0.05 * std


def test_trunc_normal_defaults_dtypes_and_errors(torch):
    from tinygrad_cnn import nn

    x = nn.init.trunc_normal_(tg.zeros(1000, dtype=tg.half))
    assert x.dtype == np.float16 and x.numpy().min() >= -2 and x.numpy().max() <= 2
    assert x.numpy().std() > 0.7  # a standard normal cut at ±2 has std 0.88
    _raises_like(lambda: torch.nn.init.trunc_normal_(torch.empty(3), a=2, b=1),
                 lambda: nn.init.trunc_normal_(tg.zeros(3), a=2, b=1))
    _raises_like(lambda: torch.nn.init.trunc_normal_(torch.empty(3, dtype=torch.long)),
                 lambda: nn.init.trunc_normal_(tg.zeros(3, dtype=tg.long)))
    with pytest.warns(UserWarning, match="more than 2 std"):
        nn.init.trunc_normal_(tg.zeros(3), mean=10.0)


# ------------------------------------------------------------------------------ 6. sort, topk
_SPECIAL = np.array([3.0, np.nan, 1.0, np.inf, -np.inf, 1.0, -0.0, 0.0, np.nan, 2.0])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "uint8",
                                   "bool"])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort_as_torch_stable(torch, dtype, descending):
    rng = np.random.default_rng(0)
    if dtype.startswith("float"):
        a = np.concatenate([_SPECIAL, rng.integers(-3, 4, 14).astype(float)]).reshape(4, 6)
    else:
        a = rng.integers(0, 2 if dtype == "bool" else 5, (4, 6))
    a = a.astype(dtype)
    x, tx = Tensor(a), torch.tensor(a)
    for dim in (-1, 0, 1):
        v, i = x.sort(dim, descending)
        tv, ti = tx.sort(dim=dim, descending=descending, stable=True)
        _same(v, tv)
        _same(i, ti)  # our sort is stable: torch's stable order, index for index
        _same(x.argsort(dim, descending), tx.argsort(dim=dim, descending=descending, stable=True))
        _same(tg.sort(x, dim, descending).values, torch.sort(tx, dim, descending).values)
        _same(tg.argsort(x, dim=dim, descending=descending),
              torch.argsort(tx, dim=dim, descending=descending, stable=True))
    assert type(x.sort()).__name__ == type(tx.sort()).__name__ == "sort"
    assert x.sort()._fields == ("values", "indices")  # torch: a structseq of the same names


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "uint8"])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_values_as_torch(torch, dtype, largest):
    rng = np.random.default_rng(1)
    if dtype.startswith("float"):
        a = np.concatenate([_SPECIAL, rng.standard_normal(14)]).reshape(4, 6)
    else:
        a = rng.integers(0, 9, (4, 6))
    a = a.astype(dtype)
    x, tx = Tensor(a), torch.tensor(a)
    for dim, k in ((-1, 3), (0, 2), (1, 6), (0, 0), (1, 1)):
        v, i = x.topk(k, dim, largest)
        tv, ti = tx.topk(k, dim, largest)
        _same(v, tv)
        # ties may be in any order: the indices must pick the same values
        assert i.dtype == np.int64 and i.shape == tuple(ti.shape)
        np.testing.assert_array_equal(np.take_along_axis(a, i.numpy(), dim), tv.numpy())
        _same(tg.topk(x, k, dim, largest).values, torch.topk(tx, k, dim, largest).values)
    assert type(x.topk(1)).__name__ == "topk"


def test_sort_topk_gradients_as_torch_float64(torch):
    rng = np.random.default_rng(2)
    a = rng.permutation(24).reshape(4, 6) + rng.uniform(0, 0.5, (4, 6))  # distinct values
    g = rng.standard_normal((4, 6))
    for fn in (lambda t, m: m.sort(t, 1, True).values, lambda t, m: m.sort(t, 0).values,
               lambda t, m: m.topk(t, 3, 1).values, lambda t, m: m.topk(t, 2, 0, False).values):
        x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out, tout = fn(x, tg), fn(tx, torch)
        (out * Tensor(g[:, :out.shape[1]][:out.shape[0]])).sum().backward()
        (tout * torch.tensor(g[:, :out.shape[1]][:out.shape[0]])).sum().backward()
        _same(out, tout)
        _same(x.grad, tx.grad)
    x = Tensor(a, requires_grad=True)
    assert tg.gradcheck(lambda t: t.sort(0, True).values * t.topk(6, 1).values, x)
    assert tg.gradgradcheck(lambda t: (t.topk(2, 1).values ** 2), x)


def test_sort_topk_gradients_with_ties(torch):
    a = np.array([[1.0, 2.0, 2.0, 0.5, 2.0], [3.0, 3.0, 3.0, 3.0, 3.0]])
    for fn in (lambda t: t.topk(2, 1).values, lambda t: t.sort(1, True).values,
               lambda t: t.topk(3, 1, largest=False).values):
        x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        out, tout = fn(x), fn(tx)
        _same(out, tout)
        (out * out).sum().backward()
        (tout * tout).sum().backward()
        # which of the tied elements gets the gradient may differ: compare the sums per row, the
        # gradients per row as multisets, and that ties are the only freedom
        np.testing.assert_allclose(x.grad.numpy().sum(1), tx.grad.numpy().sum(1))
        np.testing.assert_array_equal(np.sort(x.grad.numpy(), 1), np.sort(tx.grad.numpy(), 1))
        moved = x.grad.numpy() != tx.grad.numpy()
        assert all(np.count_nonzero(a[r] == a[r, c]) > 1 for r, c in zip(*np.nonzero(moved)))


def test_sort_topk_edges_and_errors(torch):
    s, ts = tg.tensor(5.0), torch.tensor(5.0)
    for ours, theirs in ((s.sort(), ts.sort()), (s.topk(1), ts.topk(1)), (s.topk(0), ts.topk(0))):
        _same(ours.values, theirs.values)
        _same(ours.indices, theirs.indices)
    _same(s.argsort(), ts.argsort())
    e, te = tg.zeros(0, 3), torch.zeros(0, 3)
    _same(e.sort(0).indices, te.sort(0).indices)
    _same(tg.zeros(2, 0).topk(0).values, torch.zeros(2, 0).topk(0).values)
    _raises_like(lambda: ts.sort(dim=1), lambda: s.sort(dim=1))
    x, tx = tg.zeros(2, 3), torch.zeros(2, 3)
    for call in (lambda m: m.topk(4), lambda m: m.topk(-1), lambda m: m.sort(2),
                 lambda m: m.argsort(-3), lambda m: m.topk(1, 2)):
        _raises_like(lambda: call(tx), lambda: call(x))
    _raises_like(lambda: torch.tensor([True]).topk(1), lambda: tg.tensor([True]).topk(1))
    _raises_like(lambda: torch.sort(np.zeros(2)), lambda: tg.sort(np.zeros(2)))
    _raises_like(lambda: tx.topk(1.5), lambda: x.topk(1.5))
    assert not x.requires_grad and not tg.ones(3, requires_grad=True).argsort().requires_grad
    assert not tg.ones(3, requires_grad=True).sort().indices.requires_grad


@pytest.mark.parametrize("mean,std,a,b", [(1.0, 0.01, 0.0, 0.9), (0.0, 1.0, 9.0, 10.0),
                                          (0.0, 1.0, -10.0, -9.0), (0.0, 1.0, 3.5, 3.6),
                                          (0.0, 1.0, 5.0, 1e9)])
def test_trunc_normal_far_in_a_tail_draws_the_truncated_normal(mean, std, a, b):
    """An outside tester: with [a, b] far in one tail the CDFs at a and b round to the same
    number and every value landed on a bound (all 0.0 for mean 1, std 0.01, [0, 0.9]). Oracle:
    the truncated normal's mean and spread from its density, by quadrature in float64."""
    import warnings

    t = tg.empty(40000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (PyTorch's warning: mean more than 2 std from [a, b])
        tg.nn.init.trunc_normal_(t, mean, std, a, b, generator=tg.Generator().manual_seed(0))
    v = t.numpy().astype(np.float64)
    lo, hi = (a - mean) / std, min((b - mean) / std, 60.0)
    z = np.linspace(lo, hi, 400001)
    logd = -0.5 * (z * z - z[np.argmin(np.abs(z))] ** 2)  # (scaled: no underflow in the tail)
    d = np.exp(logd - logd.max())
    m1 = np.trapezoid(z * d, z) / np.trapezoid(d, z)
    sd = np.sqrt(np.trapezoid((z - m1) ** 2 * d, z) / np.trapezoid(d, z))
    assert (v >= a).all() and (v <= b).all()
    assert abs(v.mean() - (mean + std * m1)) < 5 * std * sd / np.sqrt(v.size) + 1e-7
    assert abs(v.std() / (std * sd) - 1) < 0.03


def test_bad_init_arguments_get_pytorchs_errors():
    """An outside tester: normal_(std=nan) filled NaN (PyTorch refuses), and a negative std,
    a > b or an infinite bound gave numpy's messages; mode is taken in any case, as PyTorch's."""
    t = tg.empty(3)
    for call, message in ((lambda: tg.nn.init.normal_(t, std=float("nan")), "std >= 0.0"),
                          (lambda: tg.nn.init.normal_(t, std=-1.0), "std >= 0.0"),
                          (lambda: tg.nn.init.uniform_(t, 1.0, 0.0), r"from=1.0 > to=0.0"),
                          (lambda: tg.nn.init.uniform_(t, 0.0, float("inf")), "finite"),
                          (lambda: tg.nn.init.xavier_uniform_(tg.empty(3, 3), gain=-1.0), "range"),
                          (lambda: tg.nn.init.ones_(tg.ones(1).expand(3)), "is read-only: a view")):
        with pytest.raises(RuntimeError, match=message):
            call()
    tg.nn.init.kaiming_normal_(tg.empty(3, 3), mode="FAN_IN")
