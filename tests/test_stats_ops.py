"""quantile, nanquantile, logcumsumexp, aminmax, histc, bincount, cov, corrcoef, cdist and
``F.multilabel_margin_loss``/``nn.MultiLabelMarginLoss``, each against PyTorch 2.13: values and
dtypes (float64, float32, float16 where PyTorch has it), gradients in float64, special values
(NaN, ±inf, empty dims, 0-d), and the refusals. The gradchecks are in op_cases_stats.py; the
fuzzer (fuzz_specs_stats.py) draws more inputs."""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

NAN, INF = float("nan"), float("inf")


def _same(ours: Any, theirs: Any) -> None:
    """Same dtype, shape and values (NaN where NaN)."""
    assert isinstance(ours, Tensor), type(ours)
    t = theirs.detach().numpy()
    o = ours.numpy()
    assert o.dtype == t.dtype, (o.dtype, t.dtype)
    assert o.shape == t.shape, (o.shape, t.shape)
    np.testing.assert_array_equal(o, t)


def _close(ours: Any, theirs: Any, rtol: float | None = None, atol: float | None = None) -> None:
    """Same dtype and shape, NaN and infinities where PyTorch has them, finite values close
    (to the dtype's precision; ``atol`` defaults to ``rtol``)."""
    assert isinstance(ours, Tensor), type(ours)
    t = theirs.detach().numpy()
    o = ours.numpy()
    assert o.dtype == t.dtype and o.shape == t.shape, (o.dtype, t.dtype, o.shape, t.shape)
    if rtol is None:
        rtol = {np.float64: 1e-12, np.float32: 2e-6, np.float16: 2e-3}.get(o.dtype.type, 0)
    np.testing.assert_allclose(o, t, rtol=rtol, atol=rtol if atol is None else atol)


def _pair(a: Any, grad: bool = False) -> tuple[Tensor, Any]:
    arr = np.asarray(a)
    return Tensor(arr.copy(), requires_grad=grad), torch.tensor(arr.copy(), requires_grad=grad)


def _grads(fn: Any, *arrays: np.ndarray, seed: int = 0, second: bool = False) -> None:
    """``fn(lib, *inputs)``'s value, and its gradients (and, with ``second``, the gradients of
    the gradients) for a random output weighting, agree with PyTorch's in float64."""
    ours, theirs = zip(*(_pair(a, grad=True) for a in arrays))
    out, ref = fn(tg, *ours), fn(torch, *theirs)
    _close(out, ref)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(tuple(ref.shape))
    gs = tg.grad(out, list(ours), Tensor(w), allow_unused=True, create_graph=second)
    gt = torch.autograd.grad(ref, list(theirs), torch.tensor(w), allow_unused=True,
                             create_graph=second)
    for a, b in zip(gs, gt):
        if b is None:
            assert a is None or not a.numpy().any()
        else:
            _close(a, b, rtol=1e-10)
    if second:
        pairs = [(a, b) for a, b in zip(gs, gt) if b is not None]
        vs = [rng.standard_normal(tuple(b.shape)) for _, b in pairs]
        s_o = sum((a * Tensor(v)).sum() for (a, _), v in zip(pairs, vs))
        s_t = sum((b * torch.tensor(v)).sum() for (_, b), v in zip(pairs, vs))
        hs = tg.grad(s_o, list(ours), allow_unused=True) if s_o.requires_grad else \
            [None] * len(ours)  # (a piecewise linear function: constant gradients)
        ht = torch.autograd.grad(s_t, list(theirs), allow_unused=True) if s_t.requires_grad \
            else [None] * len(theirs)
        for a, b, x in zip(hs, ht, ours):
            if b is not None:
                _close(Tensor(np.zeros(x.shape)) if a is None else a, b, rtol=1e-9)
            else:
                assert a is None or not a.numpy().any()


def _refused(torch_call: Any, our_call: Any, kind: Any, *words: str) -> None:
    """PyTorch refuses the call, and so do we, with ``kind`` and the ``words`` in the message."""
    with pytest.raises(Exception):  # noqa: B017 (PyTorch's own kind varies)
        torch_call()
    with pytest.raises(kind) as info:
        our_call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


# ------------------------------------------------------------------------------ logcumsumexp
SCAN_SPECIALS = [
    [-INF, -INF, 1.0, INF, 2.0, NAN, 3.0],
    [INF, -INF, INF, 0.0],
    [1000.0, 1000.0, -1000.0, 999.0],
    [-3e4, 5.0, -INF, 5.0],
    [NAN, -INF, 0.0],
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
@pytest.mark.parametrize("values", SCAN_SPECIALS)
def test_logcumsumexp_special_values_as_torch(dtype, values):
    a = np.array(values).astype(dtype)
    x, tx = _pair(a)
    _close(tg.logcumsumexp(x, 0), torch.logcumsumexp(tx, 0))
    _close(x.logcumsumexp(-1), tx.logcumsumexp(-1))


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_logcumsumexp_along_each_dim_as_torch(dtype):
    a = (np.random.default_rng(0).standard_normal((3, 4, 5)) * 4).astype(dtype)
    x, tx = _pair(a)
    for dim in range(-3, 3):
        _close(x.logcumsumexp(dim), tx.logcumsumexp(dim))
    # float32 accumulates in float64 (as PyTorch's CPU kernel): a long run stays exact
    long = np.zeros(20000, np.float32)
    _close(Tensor(long).logcumsumexp(0), torch.tensor(long).logcumsumexp(0))


def test_logcumsumexp_zero_d_and_empty_as_torch():
    for v in (2.5, -INF, INF, NAN):
        x, tx = _pair(np.array(v), grad=not math.isnan(v))
        _same(x.logcumsumexp(0), tx.logcumsumexp(0))
        _same(tg.logcumsumexp(x, -1), torch.logcumsumexp(tx, -1))
    _grads(lambda m, a: m.logcumsumexp(a, 0), np.array(0.3))
    _grads(lambda m, a: m.logcumsumexp(a, 1), np.zeros((2, 0)))
    _grads(lambda m, a: m.logcumsumexp(a, 0), np.zeros((0, 3)))


@pytest.mark.parametrize("values", [
    np.random.default_rng(1).standard_normal((3, 6)),
    np.array([[-INF, -INF, 1.0, 2.0], [1.0, INF, 2.0, 0.5], [3.0, NAN, 0.0, 1.0]]),
    np.array([[800.0, -800.0, 799.0, 1.0]]),
])
def test_logcumsumexp_gradients_as_torch(values):
    # (PyTorch's formula: NaN at a leading run of -inf, where the result is -inf)
    finite = bool(np.isfinite(values).all())
    _grads(lambda m, a: m.logcumsumexp(a, 1), values, second=finite)
    _grads(lambda m, a: m.logcumsumexp(a, 0), values, seed=3, second=finite)


def test_logcumsumexp_gradcheck_and_zero_gradient():
    x = Tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    assert gradcheck(lambda a: a.logcumsumexp(0), (x,))
    assert gradgradcheck(lambda a: a.logcumsumexp(1) * a, (x,))
    out = x.logcumsumexp(0)
    (g,) = tg.grad(out, [x], Tensor(np.zeros((4, 3))))  # g = 0: the lowest-value branch
    np.testing.assert_array_equal(g.numpy(), 0)


def test_logcumsumexp_refusals():
    _refused(lambda: torch.logcumsumexp(torch.tensor([1, 2]), 0),
             lambda: tg.logcumsumexp(tg.tensor([1, 2]), 0), NotImplementedError, "Long")
    _refused(lambda: torch.logcumsumexp(torch.tensor([True]), 0),
             lambda: tg.logcumsumexp(tg.tensor([True]), 0), NotImplementedError, "Bool")
    _refused(lambda: torch.logcumsumexp(torch.ones(2), None),
             lambda: tg.logcumsumexp(tg.ones(2), None), TypeError, "dim")
    _refused(lambda: torch.logcumsumexp(torch.ones(2), 1),
             lambda: tg.logcumsumexp(tg.ones(2), 1), IndexError, "out of range")
    with pytest.raises(TypeError, match="Tensor"):
        tg.logcumsumexp(np.ones(2), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # quiet at -inf and inf - inf
        tg.logcumsumexp(Tensor(np.array(SCAN_SPECIALS[0])), 0)


# ------------------------------------------------------------------------------ quantile
INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]
QUANTILE_ROWS = np.array([[1.0, NAN, 2.0, 3.0, 0.5], [NAN, NAN, NAN, NAN, NAN],
                          [INF, INF, 1.0, -INF, 0.0], [1.0, 1.0, 1.0, 2.0, 1.0],
                          [-INF, 3.0, 2.0, 1.0, 0.0], [0.3, -0.1, 2.5, 7.0, -4.0]])


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_quantile_values_as_torch(name, interpolation, dtype):
    a = QUANTILE_ROWS.astype(dtype)
    x, tx = _pair(a)
    qs = [0.0, 0.3, 0.5, 1.0, np.array([0.25, 0.5, 1 / 3, 1.0]), np.array(0.7), np.array([])]
    for q in qs:
        qo, qt = (Tensor(q.astype(dtype)), torch.tensor(q.astype(dtype))) \
            if isinstance(q, np.ndarray) else (q, q)
        for dim in (None, 0, 1, -1):
            for keepdim in (False, True):
                ours = getattr(tg, name)(x, qo, dim, keepdim, interpolation=interpolation)
                theirs = getattr(torch, name)(tx, qt, dim, keepdim, interpolation=interpolation)
                _close(ours, theirs)
                _close(getattr(x, name)(qo, dim=dim, keepdim=keepdim,
                                        interpolation=interpolation), theirs)


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_zero_d_and_one_element_as_torch(name):
    for a in (np.array(2.5), np.array([3.0]), np.array([[NAN]])):
        x, tx = _pair(a)
        for dim in (None, 0, -1):
            for keepdim in (False, True):
                for q in (0.4, torch.tensor([0.2, 0.9], dtype=torch.float64)):
                    qo = Tensor(q.numpy()) if isinstance(q, torch.Tensor) else q
                    _close(getattr(tg, name)(x, qo, dim, keepdim),
                           getattr(torch, name)(tx, q, dim, keepdim))


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_gradients_as_torch(name, interpolation):
    a = np.random.default_rng(4).standard_normal((4, 6))
    a[1, 2] = a[1, 4] = a[1, 0]  # ties (at most 16 elements per slice: see fuzz_specs_stats.py)
    a[2, 3] = NAN
    a[3, :] = NAN
    q = np.array([0.1, 0.5, 0.77, 1.0])

    def f(m, x, qt):
        return getattr(m, name)(x, qt, 1, True, interpolation=interpolation)

    _grads(f, a, q)  # (q gets a gradient from linear only, as in PyTorch)
    _grads(lambda m, x: getattr(m, name)(x[0], 0.3, interpolation=interpolation) * x, a[:2, :3])


def test_quantile_gradcheck_away_from_the_kinks():
    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((3, 5)), requires_grad=True)
    q = Tensor(np.array([0.1, 0.45, 0.9]), requires_grad=True)
    for interpolation in INTERPOLATIONS:
        assert gradcheck(lambda a, b: tg.quantile(a, b, 1, interpolation=interpolation), (x, q))
        assert gradgradcheck(lambda a, b: tg.nanquantile(a, b, 0, interpolation=interpolation),
                             (x, q))


@pytest.mark.parametrize("name", ["quantile", "nanquantile"])
def test_quantile_refusals(name):
    x, tx = _pair(np.random.default_rng(6).standard_normal((2, 3)))
    ours, theirs = getattr(tg, name), getattr(torch, name)
    _refused(lambda: theirs(tx.half(), 0.5), lambda: ours(x.half(), 0.5), RuntimeError,
             "float or double")
    _refused(lambda: theirs(tx.long(), 0.5), lambda: ours(x.long(), 0.5), RuntimeError,
             "float or double")
    _refused(lambda: theirs(torch.zeros(0, 3), 0.5), lambda: ours(tg.zeros(0, 3), 0.5),
             RuntimeError, "non-empty")
    for q in (1.5, -0.1, NAN):
        _refused(lambda: theirs(tx, q), lambda: ours(x, q), RuntimeError, "range [0, 1]")
    for q in ([0.5, 1.5], [NAN]):
        _refused(lambda: theirs(tx, torch.tensor(q, dtype=torch.float64)),
                 lambda: ours(x, Tensor(np.array(q))), RuntimeError, "range [0, 1]")
    _refused(lambda: theirs(tx, torch.tensor([0.5])), lambda: ours(x, Tensor(np.array([0.5],
                                                                                  np.float32))),
             RuntimeError, "same dtype")
    _refused(lambda: theirs(tx, torch.tensor([[0.5]], dtype=torch.float64)),
             lambda: ours(x, Tensor(np.array([[0.5]]))), RuntimeError, "1D")
    _refused(lambda: theirs(tx, 0.5, interpolation="cubic"),
             lambda: ours(x, 0.5, interpolation="cubic"), RuntimeError, "cubic")
    _refused(lambda: theirs(tx, 0.5, dim=(0, 1)), lambda: ours(x, 0.5, dim=(0, 1)), TypeError,
             "dim")
    _refused(lambda: theirs(tx, 0.5, dim=2), lambda: ours(x, 0.5, dim=2), IndexError, "dim")
    _refused(lambda: theirs(tx, [0.5]), lambda: ours(x, [0.5]), TypeError, "q")
    _refused(lambda: theirs(tx, 0.5, 0, False, "nearest"),
             lambda: ours(x, 0.5, 0, False, "nearest"), TypeError)  # interpolation: keyword only


# ------------------------------------------------------------------------------ aminmax
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "uint8", "bool"])
def test_aminmax_as_torch(dtype):
    a = np.array([[1.0, NAN, 3.0, 2.0], [2.0, 2.0, 1.0, 1.0], [INF, 1.0, INF, -INF]])
    if dtype in ("int64", "uint8", "bool"):
        a = np.nan_to_num(a, posinf=7, neginf=0)
    x, tx = _pair(a.astype(dtype))
    for kwargs in ({}, {"keepdim": True}, {"dim": 0}, {"dim": -1, "keepdim": True}):
        ours, theirs = tg.aminmax(x, **kwargs), torch.aminmax(tx, **kwargs)
        assert type(ours).__name__ == "aminmax" and ours._fields == ("min", "max")
        _same(ours.min, theirs.min)
        _same(ours.max, theirs.max)
        _same(x.aminmax(**kwargs)[1], tx.aminmax(**kwargs)[1])
    z, tz = _pair(np.array(2.5, dtype))
    for kwargs in ({}, {"dim": 0}, {"dim": -1, "keepdim": True}, {"keepdim": True}):
        _same(tg.aminmax(z, **kwargs).max, torch.aminmax(tz, **kwargs).max)
    e, te = _pair(np.zeros((0, 3), dtype))
    _same(tg.aminmax(e, dim=1).min, torch.aminmax(te, dim=1).min)


def test_aminmax_gradients_as_torch():
    a = np.array([[1.0, NAN, 3.0, NAN], [2.0, 2.0, 1.0, 1.0], [INF, 1.0, INF, -INF]])

    def both(m, x, **kwargs):
        low, high = m.aminmax(x, **kwargs)
        return low * 2 + high * 3

    for kwargs in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}):
        _grads(lambda m, x: both(m, x, **kwargs), a)  # ties share, NaN: as amin/amax
    _grads(lambda m, x: both(m, x, dim=1), np.random.default_rng(7).standard_normal((3, 4)),
           second=True)


def test_aminmax_refusals():
    _refused(lambda: torch.aminmax(torch.zeros(0)), lambda: tg.aminmax(tg.zeros(0)),
             RuntimeError, "empty")
    _refused(lambda: torch.aminmax(torch.zeros(0, 3), dim=0),
             lambda: tg.aminmax(tg.zeros(0, 3), dim=0), IndexError, "non-zero size")
    _refused(lambda: torch.aminmax(torch.ones(2, 3), 1), lambda: tg.aminmax(tg.ones(2, 3), 1),
             TypeError)  # dim: keyword only
    _refused(lambda: torch.aminmax(torch.ones(2, 3), dim=2),
             lambda: tg.aminmax(tg.ones(2, 3), dim=2), IndexError, "out of range")


# ------------------------------------------------------------------------------ histc
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_histc_as_torch_bin_for_bin(dtype):
    rng = np.random.default_rng(8)
    a = np.concatenate([rng.standard_normal(300), np.round(rng.standard_normal(200) * 10) / 10,
                        [NAN, INF, -INF, 0.0, 1.0, -1.0, 0.7, 0.1]]).astype(dtype)
    x, tx = _pair(a)
    for bins, lo, hi in [(100, 0, 0), (7, -1, 1), (3, 0.1, 0.7), (10, -2.5, 0.3), (1, 0, 1),
                         (13, 0.5, 0.5), (6, -3, 3)]:
        if lo == hi:
            x_, tx_ = _pair(a[np.isfinite(a)])  # (the data's range: finite data only)
        else:
            x_, tx_ = x, tx
        _same(tg.histc(x_, bins, lo, hi), torch.histc(tx_, bins, lo, hi))
        _same(x_.histc(bins=bins, min=lo, max=hi), tx_.histc(bins=bins, min=lo, max=hi))
    _same(x.reshape(4, -1).histc(5, -1, 1), tx.reshape(4, -1).histc(5, -1, 1))  # any shape


def test_histc_edges_as_torch():
    for a in ([1.0, 1.0, 1.0], [], [0.5], [2.0, 2.0, 3.0]):
        x, tx = _pair(np.array(a, np.float32))
        _same(tg.histc(x, 4), torch.histc(tx, 4))  # one point: widened by 1 on each side
        _same(tg.histc(x, 4, 2, 2), torch.histc(tx, 4, 2, 2))
    z, tz = _pair(np.array(0.25))
    _same(tg.histc(z, 4), torch.histc(tz, 4))
    x, tx = _pair(np.array([0.0, 0.5, 1.0, NAN, INF]))
    _same(tg.histc(x, 2, min=0, max=1), torch.histc(tx, 2, min=0, max=1))
    _same(tg.histc(x, 2, Tensor(np.array(0.0)), Tensor(np.array(1.0))),
          torch.histc(tx, 2, torch.tensor(0.0), torch.tensor(1.0)))
    y = Tensor(np.array([0.1, 0.4]), requires_grad=True)
    h = tg.histc(y, 2, 0, 1)
    assert not h.requires_grad and h.grad_fn is None  # (nor PyTorch's)
    assert not torch.histc(torch.tensor([0.1, 0.4], requires_grad=True), 2, 0, 1).requires_grad


def test_histc_refusals():
    x, tx = _pair(np.array([1.0, NAN, 2.0]))
    _refused(lambda: torch.histc(tx, 4), lambda: tg.histc(x, 4), RuntimeError, "not finite")
    _refused(lambda: torch.histc(tx, 4, 0, INF), lambda: tg.histc(x, 4, 0, INF), RuntimeError,
             "not finite")
    _refused(lambda: torch.histc(tx, 4, 2, 1), lambda: tg.histc(x, 4, 2, 1), RuntimeError,
             "larger than min")
    _refused(lambda: torch.histc(tx, 0), lambda: tg.histc(x, 0), RuntimeError, "bins must be > 0")
    _refused(lambda: torch.histc(tx, 2.5), lambda: tg.histc(x, 2.5), TypeError, "bins")
    i, ti = _pair(np.array([1, 2]))
    _refused(lambda: torch.histc(ti, 4), lambda: tg.histc(i, 4), NotImplementedError, "Long")
    b, tb = _pair(np.array([True]))
    _refused(lambda: torch.histc(tb, 4), lambda: tg.histc(b, 4), NotImplementedError, "Bool")


# ------------------------------------------------------------------------------ bincount
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8", "int16"])
def test_bincount_as_torch(dtype):
    a = np.array([1, 3, 1, 0, 7, 3, 3]).astype(dtype)
    x, tx = _pair(a)
    for minlength in (0, 3, 12):
        _same(tg.bincount(x, minlength=minlength), torch.bincount(tx, minlength=minlength))
        _same(x.bincount(None, minlength), tx.bincount(None, minlength))
        for wdtype in ("float32", "float64", "float16", "int64", "int32", "bool"):
            w = (np.random.default_rng(9).standard_normal(7) * 10).astype(wdtype)
            _same(tg.bincount(x, Tensor(w), minlength), torch.bincount(tx, torch.tensor(w),
                                                                       minlength))
    w = np.array([1e8, 1.0, 1.0, 1.0, -1e8, 1.0, NAN], np.float32)  # float32 sums in float32
    _same(tg.bincount(x, Tensor(w)), torch.bincount(tx, torch.tensor(w)))


def test_bincount_empty_and_no_gradient():
    e, te = _pair(np.zeros(0, np.int64))
    for minlength in (0, 4):
        _same(tg.bincount(e, minlength=minlength), torch.bincount(te, minlength=minlength))
        w, tw = _pair(np.ones(2))  # (an empty input ignores the weights: int64 zeros)
        _same(tg.bincount(e, w, minlength), torch.bincount(te, tw, minlength))
    x = Tensor(np.array([0, 2]))
    w = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    assert not tg.bincount(x, w).requires_grad


def test_bincount_refusals():
    x, tx = _pair(np.array([1, 3]))
    _refused(lambda: torch.bincount(tx, minlength=-1), lambda: tg.bincount(x, minlength=-1),
             RuntimeError, "minlength")
    _refused(lambda: torch.bincount(tx, minlength=2.5), lambda: tg.bincount(x, minlength=2.5),
             TypeError, "minlength")
    n, tn = _pair(np.array([1, -3]))
    _refused(lambda: torch.bincount(tn), lambda: tg.bincount(n), RuntimeError, "non-negative")
    m, tm = _pair(np.array([[1, 3]]))
    _refused(lambda: torch.bincount(tm), lambda: tg.bincount(m), RuntimeError, "1-d")
    s, ts = _pair(np.array(1))
    _refused(lambda: torch.bincount(ts), lambda: tg.bincount(s), RuntimeError, "1-d")
    w, tw = _pair(np.ones(3))
    _refused(lambda: torch.bincount(tx, tw), lambda: tg.bincount(x, w), RuntimeError, "weights")
    f, tf = _pair(np.array([1.0]))
    _refused(lambda: torch.bincount(tf), lambda: tg.bincount(f), NotImplementedError, "Double")
    b, tb = _pair(np.array([True]))
    _refused(lambda: torch.bincount(tb), lambda: tg.bincount(b), NotImplementedError, "Bool")


# ------------------------------------------------------------------------------ cov, corrcoef
def _cov_call(m, x, **kwargs):
    kw = {k: (v if v is None or not isinstance(v, np.ndarray) else
              (Tensor(v) if m is tg else torch.tensor(v)))
          for k, v in kwargs.items() if k in ("fweights", "aweights")}
    if "correction" in kwargs:
        kw["correction"] = kwargs["correction"]
    return m.cov(x, **kw)


COV_INPUTS = [np.random.default_rng(10).standard_normal((3, 5)),
              np.random.default_rng(11).standard_normal(5), np.array(2.5),
              np.array([[1.0, 2.0, INF, 0.5, 1.0], [1.0, NAN, 2.0, 3.0, 4.0]]),
              np.zeros((2, 0)), np.zeros((0, 3)), np.zeros((0, 0)), np.ones((2, 1))]


def _as_ints(a: np.ndarray, dtype: str) -> np.ndarray:
    """``a`` as integers of ``dtype``, NaN as 0 and infinities as ±7. (It was ``nan_to_num(a)``
    alone, float64 with 1.8e308 for inf: no integer was ever tested, and the covariance of
    such a row is a cancellation of 1e308-sized terms whose last bits follow the BLAS's order
    of adding -- PyTorch's MKL gave 0 on an Intel Xeon where ours gave 2e291.)"""
    return np.nan_to_num(a, nan=0.0, posinf=7.0, neginf=-7.0).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int32"])
def test_cov_as_torch(dtype):
    for a in COV_INPUTS:
        x, tx = _pair(_as_ints(a, dtype) if dtype.startswith("int") else a.astype(dtype))
        n = x.shape[-1] if x.ndim == 2 else x.numel()
        for correction in (0, 1, 2, -1):
            for fweights in (None, np.arange(n) % 3 + (np.arange(n) == 0)):
                for aweights in (None, np.linspace(0.1, 2, n), np.linspace(0.1, 2, n)
                                 .astype(np.float16)):
                    kw = {"correction": correction, "fweights": fweights, "aweights": aweights}
                    with warnings.catch_warnings(record=True) as theirs_w:
                        warnings.simplefilter("always", UserWarning)
                        try:
                            theirs = _cov_call(torch, tx, **kw)
                        except RuntimeError:  # weights of no observations sum to zero; one
                            # observation's zeros times float64 weights: a float32 @ float64
                            with pytest.raises((RuntimeError, TypeError)):
                                _cov_call(tg, x, **kw)
                            continue
                    with warnings.catch_warnings(record=True) as ours_w:
                        warnings.simplefilter("always", UserWarning)
                        ours = _cov_call(tg, x, **kw)
                    assert [str(w.message)[:40] for w in ours_w if "cov" in str(w.message)] == \
                        [str(w.message)[:40] for w in theirs_w]
                    _close(ours, theirs, rtol=2e-3 if "float16" in (dtype, str(ours.dtype))
                           else 1e-5)


def test_cov_gradients_as_torch():
    rng = np.random.default_rng(12)
    a = rng.standard_normal((3, 5))
    fw = np.array([1, 2, 0, 3, 1])
    for correction in (0, 1, 3):
        _grads(lambda m, x, w: _cov_call(m, x, correction=correction, aweights=w), a,
               0.5 + rng.random(5), second=True)
        _grads(lambda m, x, w: _cov_call(m, x, correction=correction, fweights=fw, aweights=w),
               a, 0.5 + rng.random(5), second=True)
        _grads(lambda m, x: _cov_call(m, x, correction=correction, fweights=fw), a, second=True)
    _grads(lambda m, x: m.cov(x), a[0], second=True)  # 1-D: one variable, 0-d
    _grads(lambda m, x: m.cov(x), np.array([[1.0, 2.0, INF], [0.5, NAN, 1.0]]))
    warnings.simplefilter("ignore", UserWarning)  # (pytest restores the filters after a test)
    for kw in ({"fweights": np.array([2])}, {"aweights": np.array([0.7])}):
        # one observation and one kind of weights: PyTorch's exact zero, no gradient to the input
        # (torch zeroes its input in place there: it gets a copy)
        ours, theirs = _pair(np.array([[3.0], [4.0]]), grad=True)
        _close(_cov_call(tg, ours, **kw), _cov_call(torch, theirs * 1, **kw))
        _grads(lambda m, x: _cov_call(m, x * 1, correction=0, **kw), np.array([[3.0], [4.0]]))


def test_corrcoef_as_torch():
    for a in COV_INPUTS + [np.array([[1.0, 2.0, 4.0], [2.0, 2.0, 2.0]]),
                           np.array([[1.0, 2.0, 4.0], [2.0, 4.0, 8.0]])]:
        for dtype in ("float64", "float32", "float16", "int64"):
            x, tx = _pair(_as_ints(a, dtype) if dtype == "int64" else a.astype(dtype))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                _close(tg.corrcoef(x), torch.corrcoef(tx), rtol=2e-3 if dtype == "float16"
                       else 1e-5)
                _close(x.corrcoef(), tx.corrcoef(), rtol=2e-3 if dtype == "float16" else 1e-5)
    rng = np.random.default_rng(13)
    _grads(lambda m, x: m.corrcoef(x), rng.standard_normal((4, 6)), second=True)
    _grads(lambda m, x: m.corrcoef(x), np.array([[1.0, 2.0, 4.0], [2.0, 4.0, 8.0],
                                                  [0.0, 1.0, 0.0]]))  # ±1 at the clip's ends


def test_cov_corrcoef_gradcheck():
    rng = np.random.default_rng(14)
    x = Tensor(rng.standard_normal((3, 6)), requires_grad=True)
    w = Tensor(0.5 + rng.random(6), requires_grad=True)
    fw = Tensor(np.array([1, 2, 1, 1, 3, 1]))
    assert gradcheck(lambda a, b: tg.cov(a, fweights=fw, aweights=b), (x, w))
    assert gradgradcheck(lambda a, b: tg.cov(a, correction=0, aweights=b), (x, w))
    assert gradcheck(tg.corrcoef, (x,)) and gradgradcheck(tg.corrcoef, (x,))


def test_cov_corrcoef_refusals():
    x, tx = _pair(np.ones((2, 3)))
    f, tf = np.array([1, 2, 1]), torch.tensor([1, 2, 1])
    cases = [
        ({"fweights": f[:2]}, "same numel"), ({"fweights": f.astype(float)}, "integral"),
        ({"fweights": -f}, "cannot be negative"), ({"fweights": f[None]}, "one or fewer"),
        ({"fweights": f * 0}, "sum to zero"), ({"aweights": f}, "floating point"),
        ({"aweights": np.array([0.5, -1.0, 1.0])}, "cannot be negative"),
        ({"aweights": np.array([0.5, NAN, 1.0])}, "cannot be negative"),
        ({"aweights": np.zeros(3)}, "sum to zero"), ({"correction": 1.5}, "correction"),
    ]
    for kw, words in cases:
        kind = TypeError if "correction" in kw else RuntimeError
        _refused(lambda: _cov_call(torch, tx, **kw), lambda: _cov_call(tg, x, **kw), kind, words)
    del tf
    _refused(lambda: torch.cov(torch.ones(2, 2, 2)), lambda: tg.cov(tg.ones(2, 2, 2)),
             RuntimeError, "two or fewer")
    _refused(lambda: torch.cov(torch.ones(2, dtype=torch.bool)),
             lambda: tg.cov(tg.ones(2, dtype=tg.bool)), RuntimeError, "bool")
    _refused(lambda: torch.cov(tx, 1), lambda: tg.cov(x, 1), TypeError)  # keyword-only
    _refused(lambda: torch.corrcoef(torch.ones(2, 2, 2)), lambda: tg.corrcoef(tg.ones(2, 2, 2)),
             RuntimeError, "two or fewer")
    with pytest.warns(UserWarning, match="degrees of freedom"):
        assert math.isnan(tg.cov(Tensor(np.array([1.0]))).item())


# ------------------------------------------------------------------------------ cdist
P_VALUES = [0.0, 1.0, 2.0, 3.0, 0.5, 1.5, INF]
MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
         "donot_use_mm_for_euclid_dist"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_values_as_torch(dtype, p):
    rng = np.random.default_rng(15)
    pairs = [((3, 4), (5, 4)), ((2, 3, 4), (2, 5, 4)), ((2, 1, 3, 2), (4, 5, 2)),
             ((30, 3), (4, 3)), ((2, 4, 3), (27, 3)), ((1, 3), (1, 3))]
    for s1, s2 in pairs:
        a, b = rng.standard_normal(s1).astype(dtype), rng.standard_normal(s2).astype(dtype)
        a.reshape(-1, s1[-1])[0] = b.reshape(-1, s2[-1])[0]  # one pair of equal rows
        x, tx = _pair(a)
        y, ty = _pair(b)
        for mode in MODES:
            ours, theirs = tg.cdist(x, y, p, mode), torch.cdist(tx, ty, p, mode)
            # the matrix-product path (|a|² + |b|² - 2ab, PyTorch's rule: p = 2 and more than
            # 25 rows, or asked for) gives equal rows sqrt(rounding) instead of 0, rounding that
            # follows the BLAS (PyTorch's MKL on an Intel Xeon: 3e-8 in float64, ours 0)
            mm = p == 2 and (mode == MODES[1] or (mode == MODES[0] and max(s1[-2], s2[-2]) > 25))
            _close(ours, theirs, rtol=1e-5 if dtype == "float32" or mm else 1e-12,
                   atol=8 * float(np.sqrt(np.finfo(dtype).eps)) if mm else None)
    special = np.array([[0.0, NAN, 5.0], [INF, 1.0, 2.0], [0.0, 1.0, 1.0], [-INF, INF, 0.0]])
    x, tx = _pair(special.astype(dtype))
    # (p = inf skips a NaN difference, as PyTorch's direct kernel; the rest propagate it)
    _close(tg.cdist(x, x[:2], p, MODES[2]), torch.cdist(tx, tx[:2], p, MODES[2]))


def test_cdist_paths_and_float16_as_torch():
    rng = np.random.default_rng(16)
    a, b = rng.standard_normal((30, 3)), rng.standard_normal((4, 3))
    x, y = Tensor(a), Tensor(b)
    assert tg.cdist(x, y).grad_fn is None  # (no grad: no node; the path by the name below)
    xg = Tensor(a, requires_grad=True)
    assert tg.cdist(xg, y).grad_fn.fn.name == "euclidean_dist"  # more than 25 rows
    assert tg.cdist(xg[:25], y).grad_fn.fn.name == "cdist"
    assert tg.cdist(xg[:3], y, compute_mode=MODES[1]).grad_fn.fn.name == "euclidean_dist"
    assert tg.cdist(xg, y, compute_mode=MODES[2]).grad_fn.fn.name == "cdist"
    assert tg.cdist(xg, y, p=1).grad_fn.fn.name == "cdist"
    half, thalf = _pair(a.astype(np.float16))
    other, tother = _pair(b.astype(np.float16))
    _close(tg.cdist(half, other), torch.cdist(thalf, tother), rtol=4e-3)  # the product path
    # the direct kernel: PyTorch's CPU refuses float16; ours is float32's rounded to float16
    with pytest.raises(NotImplementedError):
        torch.cdist(thalf, tother, p=1)
    ours = tg.cdist(half, other, p=1)
    assert ours.dtype == np.float16
    np.testing.assert_allclose(ours.numpy(), torch.cdist(thalf.float(), tother.float(), p=1),
                               rtol=1e-3)


def test_cdist_empty_and_zero_columns_as_torch():
    for s1, s2 in [((2, 0, 3), (2, 4, 3)), ((3, 0), (4, 0)), ((2, 3, 0), (2, 4, 0)),
                   ((0, 3, 2), (0, 4, 2)), ((0, 2), (5, 2))]:
        for p in (2.0, 1.0, INF):
            _grads(lambda m, a, b: m.cdist(a, b, p), np.ones(s1), np.ones(s2))


@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_gradients_as_torch(p):
    rng = np.random.default_rng(17)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    a[0, 0] = b[0, 1]  # equal rows: distance 0, gradient 0
    a[1, 1, :2] = b[1, 2, :2]  # equal elements: sign 0, the p < 1 rule
    a[1, 2, 0], b[0, 0, 3] = NAN, INF
    _grads(lambda m, x, y: m.cdist(x, y, p, MODES[2]), a, b)
    tie = np.array([[0.0, 3.0, -3.0]])  # |d| ties for p = inf: each gets the whole gradient
    _grads(lambda m, x, y: m.cdist(x, y, p), tie, np.zeros((2, 3)))
    _grads(lambda m, x, y: m.cdist(x, y, p), a[:1, :, :3], b[:, :, :3])  # batch broadcast


def test_cdist_matrix_product_path_gradients_as_torch():
    rng = np.random.default_rng(18)
    for s1, s2 in [((30, 3), (4, 3)), ((2, 3, 3), (2, 28, 3)), ((1, 4, 2), (3, 30, 2))]:
        _grads(lambda m, x, y: m.cdist(x, y), rng.standard_normal(s1), rng.standard_normal(s2),
               second=True)
    a = rng.standard_normal((3, 2))
    _grads(lambda m, x, y: m.cdist(x, y, compute_mode=MODES[1]), a, a[:2] + 0.5, second=True)


def test_cdist_gradcheck_and_second_derivatives():
    rng = np.random.default_rng(19)
    x = Tensor(rng.standard_normal((2, 3, 2)), requires_grad=True)
    y = Tensor(rng.standard_normal((2, 4, 2)), requires_grad=True)
    for p in (2.0, 3.0, 1.5, 0.5):  # (PyTorch has no second derivatives of its direct kernel)
        assert gradcheck(lambda a, b: tg.cdist(a, b, p), (x, y))
        assert gradgradcheck(lambda a, b: tg.cdist(a, b, p), (x, y))
    assert gradgradcheck(lambda a, b: tg.cdist(a, b, compute_mode=MODES[1]), (x, y))


def test_cdist_refusals():
    x, tx = _pair(np.ones((2, 3)))
    _refused(lambda: torch.cdist(tx[0], tx), lambda: tg.cdist(x[0], x), RuntimeError, "2D")
    _refused(lambda: torch.cdist(tx, tx[:, :2]), lambda: tg.cdist(x, x[:, :2]), RuntimeError,
             "columns")
    _refused(lambda: torch.cdist(tx.long(), tx.long()), lambda: tg.cdist(x.long(), x.long()),
             RuntimeError, "floating")
    for p in (-1.0, NAN):
        _refused(lambda: torch.cdist(tx, tx, p), lambda: tg.cdist(x, x, p), RuntimeError,
                 "non-negative")
    _refused(lambda: torch.cdist(tx, tx, compute_mode="fast"),
             lambda: tg.cdist(x, x, compute_mode="fast"), ValueError, "compute_mode")
    _refused(lambda: torch.cdist(tx.float(), tx), lambda: tg.cdist(x.float(), x), RuntimeError,
             "dtype")
    _refused(lambda: torch.cdist(torch.ones(2, 3, 2), torch.ones(3, 3, 2)),
             lambda: tg.cdist(tg.ones(2, 3, 2), tg.ones(3, 3, 2)), RuntimeError, "broadcast")
    with pytest.raises(TypeError, match="Tensor"):
        tg.cdist(np.ones((2, 3)), x)


# ------------------------------------------------------------------------------ multilabel margin
LABELS = np.array([[3, 0, -1, 1], [0, 1, 2, 3], [-1, 1, 2, 3], [2, 2, -1, 0], [1, -1, 1, 1]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_multilabel_margin_loss_as_torch(dtype, reduction):
    x = np.random.default_rng(20).standard_normal((5, 4))
    x[1, 2], x[4, 0], x[4, 3] = NAN, INF, -INF  # a NaN term is skipped; inf counts
    x[0, 1] = x[0, 2] - 1  # a hinge exactly at 0: not counted
    if dtype == "float64":
        _grads(lambda m, a: (F if m is tg else TF).multilabel_margin_loss(
            a, m.tensor(LABELS) if m is torch else Tensor(LABELS), reduction=reduction), x)
    a, ta = _pair(x.astype(dtype))
    _close(F.multilabel_margin_loss(a, Tensor(LABELS), reduction=reduction),
           TF.multilabel_margin_loss(ta, torch.tensor(LABELS), reduction=reduction), rtol=1e-6)
    _close(nn.MultiLabelMarginLoss(reduction=reduction)(a, Tensor(LABELS)),
           torch.nn.MultiLabelMarginLoss(reduction=reduction)(ta, torch.tensor(LABELS)), rtol=1e-6)
    for row in range(5):  # unbatched: (C,) input and target, a 0-d loss whatever the reduction
        _grads(lambda m, v: (F if m is tg else TF).multilabel_margin_loss(
            v, m.tensor(LABELS[row]) if m is torch else Tensor(LABELS[row]),
            reduction=reduction), x[row])


def test_multilabel_margin_loss_edges_as_torch():
    for reduction in ("mean", "sum", "none"):
        _grads(lambda m, v: (F if m is tg else TF).multilabel_margin_loss(
            v, m.tensor(0) if m is torch else Tensor(np.array(0)), reduction=reduction),
            np.array(0.7))  # 0-d: one class, its own target
        _grads(lambda m, v: (F if m is tg else TF).multilabel_margin_loss(
            v, m.tensor([-1, 0]) if m is torch else Tensor(np.array([-1, 0])),
            reduction=reduction), np.array([0.3, 0.1]))  # no targets: 0
    empty, tempty = _pair(np.zeros((0, 3)))
    labels, tlabels = Tensor(np.zeros((0, 3), np.int64)), torch.zeros(0, 3, dtype=torch.long)
    _same(F.multilabel_margin_loss(empty, labels, reduction="none"),
          TF.multilabel_margin_loss(tempty, tlabels, reduction="none"))
    # (PyTorch's mean and sum of an empty batch are uninitialised memory: ours are NaN and 0)
    assert math.isnan(F.multilabel_margin_loss(empty, labels).item())
    assert F.multilabel_margin_loss(empty, labels, reduction="sum").item() == 0
    # float16: PyTorch's CPU kernel refuses it; ours is float32's, rounded
    x = np.random.default_rng(21).standard_normal((5, 4))
    half = F.multilabel_margin_loss(Tensor(x.astype(np.float16)), LABELS, reduction="none")
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.numpy(), TF.multilabel_margin_loss(
        torch.tensor(x.astype(np.float16)).float(), torch.tensor(LABELS), reduction="none"),
        rtol=2e-3, atol=1e-3)


def test_multilabel_margin_loss_gradcheck():
    x = np.array([[0.9, 0.3, -1.7, 0.8], [0.1, -0.55, 1.2, 0.45], [0.0, 0.6, -0.3, 1.9],
                  [0.2, 1.3, -0.4, 0.1], [1.1, -0.9, 0.35, 2.0]])
    a = Tensor(x, requires_grad=True)
    assert gradcheck(lambda v: F.multilabel_margin_loss(v, LABELS, reduction="none"), (a,))
    assert gradgradcheck(lambda v: F.multilabel_margin_loss(v, LABELS) * v, (a,))


def test_multilabel_margin_loss_refusals():
    x, tx = _pair(np.ones((3, 4)))
    y, ty = LABELS[:3], torch.tensor(LABELS[:3])

    def both(xa, ya, ta, tya, words, kind=RuntimeError, **kw):
        _refused(lambda: TF.multilabel_margin_loss(ta, tya, **kw),
                 lambda: F.multilabel_margin_loss(xa, ya, **kw), kind, words)

    both(x, y.astype(np.int32), tx, ty.int(), "Long")
    both(x, y[:2], tx, ty[:2], "inconsistent target size")
    both(x, y - 1, tx, ty - 1, "out of range")
    both(x, np.where(y == 3, 4, y), tx, torch.where(ty == 3, 4, ty), "out of range")
    both(x[:, :0], y[:, :0], tx[:, :0], ty[:, :0], "non-empty")
    both(x[None], y[None], tx[None], ty[None], "non-empty")
    both(x, y, tx, ty, "reduction", ValueError, reduction="avg")
    both(x[0], y[0, :3], tx[0], ty[0, :3], "inconsistent target size")
    _refused(lambda: TF.multilabel_margin_loss(tx.long(), ty),
             lambda: F.multilabel_margin_loss(x.long(), y), TypeError, "floating")


def test_multilabel_margin_loss_api_is_torchs():
    def params(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]

    assert params(F.multilabel_margin_loss) == params(TF.multilabel_margin_loss)
    assert params(nn.MultiLabelMarginLoss.__init__) == \
        params(torch.nn.MultiLabelMarginLoss.__init__)
    assert repr(nn.MultiLabelMarginLoss(reduction="sum")) == \
        repr(torch.nn.MultiLabelMarginLoss(reduction="sum"))
    assert "multilabel_margin_loss" in F.__all__
    assert not list(nn.MultiLabelMarginLoss().state_dict())


def test_pdist_and_cdist_p0_gradients_are_zeros_as_torch():
    """p = 0 counts differing elements: PyTorch's gradient is zeros (the input was used), so
    grad() without allow_unused works."""
    x, tx = _pair(np.random.default_rng(22).standard_normal((3, 2)), grad=True)
    (g,) = tg.grad(F.pdist(x, 0).sum(), [x])
    _same(g, torch.autograd.grad(TF.pdist(tx, 0).sum(), tx)[0])
    gs = tg.grad(tg.cdist(x, x[:2] * 2, 0).sum(), [x])
    _same(gs[0], torch.autograd.grad(torch.cdist(tx, tx[:2] * 2, 0).sum(), tx)[0])


def test_multilabel_margin_loss_float16_sums_in_float32():
    # 70,000 classes: each sample's sum of hinges is past float16's range, its mean is not
    x = np.zeros((1, 70000), np.float16)
    labels = np.full((1, 70000), -1, np.int64)
    labels[0, 0] = 0
    for reduction in ("none", "mean", "sum"):
        loss = F.multilabel_margin_loss(Tensor(x), labels, reduction=reduction)
        assert loss.dtype == np.float16
        np.testing.assert_allclose(loss.numpy(), 69999 / 70000, rtol=1e-3)
