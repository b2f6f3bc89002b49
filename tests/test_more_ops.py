"""The ops ported code needs that came last: count_nonzero, masked_select, take, nansum, nanmean,
var_mean, std_mean, median, nanmedian, cummax, cummin, unique, unique_consecutive, the bitwise
functions and shifts, ``F.unfold``/``F.fold``. Each against PyTorch 2.13 (values, dtypes,
shapes, gradients, tie and NaN rules, refusals), and gradchecked in float64 with our own
gradcheck; the fuzzer (``fuzz_specs_more.py``) draws more inputs."""

from __future__ import annotations

import itertools
import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor

NAN, INF = float("nan"), float("inf")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def _same(ours: Any, theirs: Any) -> None:
    """Same dtype, shape and values (NaN where NaN, signed zeros alike)."""
    assert isinstance(ours, Tensor), type(ours)
    t = theirs.detach().numpy()
    o = ours.numpy()
    assert o.dtype == t.dtype, (o.dtype, t.dtype)
    assert o.shape == t.shape, (o.shape, t.shape)
    np.testing.assert_array_equal(o, t)
    if o.dtype.kind == "f":
        assert ((np.signbit(o) == np.signbit(t)) | np.isnan(o)).all(), (o, t)


def _agree(ours: Any, theirs: Any) -> None:
    """Same dtype and shape, NaN and infinities where PyTorch has them, finite values close."""
    t = theirs.detach().numpy()
    o = ours.numpy()
    assert o.dtype == t.dtype and o.shape == t.shape, (o.dtype, t.dtype, o.shape, t.shape)
    np.testing.assert_allclose(o, t, rtol=1e-12, atol=1e-12)  # (NaN only where NaN)


def _close(ours: Any, theirs: Any) -> None:
    t = theirs.detach().numpy()
    o = ours.numpy()
    assert o.dtype == t.dtype and o.shape == t.shape, (o.dtype, t.dtype, o.shape, t.shape)
    np.testing.assert_allclose(o, t, rtol=1e-12 if o.dtype == np.float64 else 1e-5, atol=1e-12)


def _pair(torch: Any, a: Any, grad: bool = False) -> tuple[Tensor, Any]:
    arr = np.asarray(a)
    return Tensor(arr.copy(), requires_grad=grad), torch.tensor(arr.copy(), requires_grad=grad)


def _grads(torch: Any, a: np.ndarray, fn: Any, g: np.ndarray | None = None) -> None:
    """``fn(x, lib)``'s value and the gradient of ``sum(fn * g)`` agree with PyTorch's."""
    x, tx = _pair(torch, a, grad=True)
    out, tout = fn(x, tg), fn(tx, torch)
    _close(out, tout) if out.dtype.kind == "f" and not np.isnan(out.numpy()).any() else \
        _same(out, tout)
    w = np.random.default_rng(0).standard_normal(out.shape) if g is None else g
    with np.errstate(invalid="ignore"):  # (inf - inf in the sum of a value with both infinities)
        (out * Tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    _same(x.grad, tx.grad) if np.isnan(tx.grad.numpy()).any() else _close(x.grad, tx.grad)


def _refused(torch_call: Any, our_call: Any, kind: Any, *words: str) -> None:
    """PyTorch refuses the call, and so do we, with ``kind`` and the ``words`` in the message."""
    with pytest.raises(Exception):  # noqa: B017 (PyTorch's own kind varies)
        torch_call()
    with pytest.raises(kind) as info:
        our_call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


_SPECIAL = np.array([3.0, NAN, 1.0, INF, -INF, 1.0, -0.0, 0.0, NAN, 2.0, 1.0, 0.5])


# ------------------------------------------------------------------------------ var, std at the edges
def test_var_std_of_nothing_or_infinities_are_quiet():
    """NaN without numpy's "Mean of empty slice" or "invalid value" warnings (as PyTorch; an
    empty reduction has no degrees of freedom: PyTorch's own UserWarning says so)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", r".*degrees of freedom is <= 0", UserWarning)
        x = Tensor(np.zeros((0, 3)), requires_grad=True)
        assert np.isnan(x.var(0).numpy()).all() and np.isnan(x.std(0).numpy()).all()
        x.var().backward()
        assert x.grad.shape == (0, 3)
        y = Tensor(np.array([INF, 1.0]))
        assert np.isnan(y.var().item()) and np.isnan(y.std().item())


# ------------------------------------------------------------------------------ count_nonzero
def test_count_nonzero_as_torch(torch):
    rng = np.random.default_rng(0)
    a = np.concatenate([_SPECIAL, rng.integers(-1, 2, 12).astype(float)]).reshape(2, 3, 4)
    for dtype in ("float16", "float32", "float64", "int64", "int32", "uint8", "bool"):
        ints = np.where(np.isfinite(a), a, 2).astype(np.int64) % 3  # 0, 1, 2 for the others
        x, tx = _pair(torch, a.astype(dtype) if dtype[0] == "f" else ints.astype(dtype))
        for dim in (None, 0, -1, (0, 2), [1], (), [0, 1, 2]):
            _same(x.count_nonzero(dim), tx.count_nonzero(dim))
            _same(tg.count_nonzero(x, dim=dim), torch.count_nonzero(tx, dim=dim))
    _same(tg.count_nonzero(Tensor(np.float64(0.0))), torch.count_nonzero(torch.tensor(0.0)))
    _same(Tensor(np.zeros((0, 3))).count_nonzero(0), torch.zeros(0, 3).count_nonzero(0))
    x, tx = _pair(torch, a)
    _refused(lambda: tx.count_nonzero((1, 1)), lambda: x.count_nonzero((1, 1)), ValueError,
             "count_nonzero", "twice")
    _refused(lambda: tx.count_nonzero(3), lambda: x.count_nonzero(3), IndexError, "count_nonzero",
             "out of range")
    assert not tg.count_nonzero(Tensor(a, requires_grad=True)).requires_grad


# ------------------------------------------------------------------------------ masked_select
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "uint8", "bool"])
def test_masked_select_values_as_torch(torch, dtype):
    rng = np.random.default_rng(1)
    for xs, ms in [((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 1, 3), (4, 1)), ((), ()),
                   ((), (2, 2)), ((2, 2), ()), ((0, 3), (3,)), ((1, 3), (2, 0, 3)), ((1,), (5,))]:
        a = (rng.standard_normal(xs) * 3).astype(dtype)
        m = rng.random(ms) < 0.5
        x, tx = _pair(torch, a)
        _same(x.masked_select(Tensor(m)), tx.masked_select(torch.tensor(m)))
        _same(tg.masked_select(x, Tensor(m)), torch.masked_select(tx, torch.tensor(m)))
    _same(Tensor(np.float32(2)).masked_select(Tensor(np.bool_(False))),
          torch.tensor(2.0).masked_select(torch.tensor(False)))


def test_masked_select_gradients_as_torch(torch):
    rng = np.random.default_rng(2)
    for xs, ms in [((2, 3), (2, 3)), ((3,), (2, 3)), ((2, 1, 3), (2, 4, 1)), ((), (3,)),
                   ((1, 3), (2, 1))]:
        m = rng.random(ms) < 0.6
        _grads(torch, rng.standard_normal(xs), lambda t, lib, m=m: t.masked_select(
            Tensor(m) if lib is tg else torch.tensor(m)))
    x = Tensor(rng.standard_normal((3, 1)), requires_grad=True)
    mask = Tensor(rng.random((2, 3, 4)) < 0.5)
    assert tg.gradcheck(lambda t: t.masked_select(mask), x)
    assert tg.gradgradcheck(lambda t: t.masked_select(mask) ** 2, x)


def test_masked_select_refusals(torch):
    x, tx = _pair(torch, np.ones((2, 3)))
    _refused(lambda: tx.masked_select(torch.tensor([1, 0, 1], dtype=torch.uint8)),
             lambda: x.masked_select(Tensor(np.array([1, 0, 1], np.uint8))), TypeError,
             "masked_select", "bool", "uint8")
    _refused(lambda: tx.masked_select(torch.tensor([True, False])),
             lambda: x.masked_select(Tensor(np.array([True, False]))), ValueError,
             "masked_select", "(2, 3)", "(2,)")
    with pytest.raises(TypeError, match="masked_select: mask must be a bool Tensor"):
        x.masked_select([True, False, True])


# ------------------------------------------------------------------------------ take
@pytest.mark.parametrize("dtype", ["float16", "float64", "int32", "bool"])
def test_take_values_as_torch(torch, dtype):
    a = np.arange(12).reshape(3, 4).astype(dtype)
    x, tx = _pair(torch, a)
    for idx in ([0, -1, 11, 5, 5], [[0, -12], [3, 2]], 7, np.zeros((0,), int),
                np.zeros((2, 0), int)):
        i = np.asarray(idx, dtype=np.int64)
        _same(x.take(Tensor(i)), tx.take(torch.tensor(i)))
        _same(tg.take(x, Tensor(i)), torch.take(tx, torch.tensor(i)))
    s, ts = _pair(torch, np.array(5.0, dtype=dtype))
    _same(s.take(Tensor(np.array([0, -1, 0]))), ts.take(torch.tensor([0, -1, 0])))
    e, te = _pair(torch, np.zeros((0, 2), dtype=dtype))
    _same(e.take(Tensor(np.zeros(0, np.int64))), te.take(torch.zeros(0, dtype=torch.long)))


def test_take_gradients_as_torch(torch):
    rng = np.random.default_rng(3)
    idx = np.array([[0, 5, 5], [-1, 0, 2]])
    _grads(torch, rng.standard_normal((2, 3)),
           lambda t, lib: t.take(Tensor(idx) if lib is tg else torch.tensor(idx)))
    _grads(torch, rng.standard_normal((3, 4)).T,  # a non-contiguous input reads in its own order
           lambda t, lib: t.take(Tensor(idx) if lib is tg else torch.tensor(idx)))
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert tg.gradcheck(lambda t: t.take(Tensor(idx)) * t.take(Tensor(np.array(4))), x)
    assert tg.gradgradcheck(lambda t: t.take(Tensor(idx)) ** 2, x)


def test_take_refusals(torch):
    x, tx = _pair(torch, np.ones((2, 3)))
    _refused(lambda: tx.take(torch.tensor([6])), lambda: x.take(Tensor(np.array([6]))),
             IndexError, "take", "index 6", "6 elements", "(2, 3)", "-6 to 5")
    _refused(lambda: tx.take(torch.tensor([-7])), lambda: x.take(Tensor(np.array([-7]))),
             IndexError, "index -7")
    _refused(lambda: tx.take(torch.tensor([1], dtype=torch.int32)),
             lambda: x.take(Tensor(np.array([1], np.int32))), TypeError, "take", "int64", "int32")
    _refused(lambda: tx.take(torch.tensor([1.0])), lambda: x.take(Tensor(np.array([1.0]))),
             TypeError, "float64", ".long()")
    _refused(lambda: tx.take([0, 1]), lambda: x.take([0, 1]), TypeError, "take", "list")
    _refused(lambda: torch.zeros(0).take(torch.tensor([0])),
             lambda: Tensor(np.zeros(0)).take(Tensor(np.array([0]))), IndexError, "empty")


# ------------------------------------------------------------------------------ nansum, nanmean
def _nan_data(dtype: str = "float64") -> np.ndarray:
    a = np.array([[1.0, NAN, 2.0, -0.5], [NAN, NAN, NAN, NAN], [INF, 1.0, NAN, 3.0]])
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_nansum_nanmean_values_as_torch(torch, dtype):
    x, tx = _pair(torch, _nan_data(dtype))
    for dim, keepdim in itertools.product((None, 0, 1, -1, (0, 1), ()), (False, True)):
        _same(x.nansum(dim, keepdim), tx.nansum(dim, keepdim))
        _same(tg.nansum(x, dim, keepdim), torch.nansum(tx, dim, keepdim))
        _same(x.nanmean(dim, keepdim), tx.nanmean(dim, keepdim))
        _same(tg.nanmean(x, dim, keepdim), torch.nanmean(tx, dim, keepdim))
    _same(x.nansum(1, dtype=tg.float64), tx.nansum(1, dtype=torch.float64))
    _same(x.nanmean(dtype=tg.float64), tx.nanmean(dtype=torch.float64))
    e, te = _pair(torch, np.zeros((0, 2), dtype=dtype))
    _same(e.nansum(0), te.nansum(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NaN for nothing, quietly
        _same(e.nanmean(0), te.nanmean(0))
        _same(e.nanmean(), te.nanmean())


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_nansum_of_integers_is_sum(torch, dtype):
    x, tx = _pair(torch, np.array([[1, 0, 3], [2, 2, 1]]).astype(dtype))
    _same(x.nansum(), tx.nansum())
    _same(x.nansum(1, keepdim=True), tx.nansum(1, keepdim=True))
    _same(x.nansum(0, dtype=tg.int32), tx.nansum(0, dtype=torch.int32))
    _refused(lambda: tx.nanmean(), lambda: x.nanmean(), TypeError, "nanmean", dtype)


def test_nansum_nanmean_gradients_as_torch(torch):
    a = _nan_data()
    for fn in (lambda t, m: t.nansum(), lambda t, m: m.nansum(t, 1),
               lambda t, m: t.nanmean(0, keepdim=True), lambda t, m: m.nanmean(t, (0, 1)),
               lambda t, m: t.nanmean(1)):  # all-NaN row: NaN gradient there, as PyTorch's
        _grads(torch, a, fn)
    # PyTorch's VJP multiplies by the mask of non-NaN elements: an inf gradient makes NaN there
    _grads(torch, a, lambda t, m: t.nansum(1), g=np.array([INF, 1.0, -INF]))
    x = Tensor(np.random.default_rng(4).standard_normal((3, 4)), requires_grad=True)
    assert tg.gradcheck(lambda t: t.nansum(0) * t.nanmean(1, keepdim=True), x)
    assert tg.gradgradcheck(lambda t: t.nansum(0) * t.nanmean(1, keepdim=True), x)


def test_float16_nanmean_past_65504_elements_counts_in_float32(torch):
    """float16 cannot hold a count past 65,504: it became inf, and the mean and its gradient 0.
    The count divides in float32 (PyTorch's opmath), rounded once; PyTorch 2.13 gets the mean of
    every element right, and ours is its value, but with ``dim`` it returns 0 (its count is
    rounded to float16 first), so there the reference is PyTorch's mean of the float32 data."""
    a = np.full(70000, 0.5, np.float16)
    a[::7] = NAN
    x, tx = _pair(torch, a, grad=True)
    out, tout = tg.nanmean(x), torch.nanmean(tx)
    _same(out, tout)
    out.backward()
    tout.backward()
    _same(x.grad, tx.grad)
    assert x.grad.numpy()[1] > 0
    rows = np.stack([a, a[::-1] * 2])  # (2, 70000), 60,000 non-NaN per row
    r, tr = _pair(torch, rows, grad=True)
    for keepdim in (False, True):
        out = tg.nanmean(r, 1, keepdim)
        ref = torch.nanmean(torch.tensor(rows).float(), 1, keepdim).half()
        _same(out, ref)
    tg.nanmean(r, 1).sum().backward()
    want = np.where(np.isnan(rows), 0, np.float16(1 / 60000))
    np.testing.assert_array_equal(r.grad.numpy(), want.astype(np.float16))


# ------------------------------------------------------------------------------ var_mean, std_mean
@pytest.mark.filterwarnings("ignore:.*degrees of freedom")  # (PyTorch's, for correction >= n)
@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_var_mean_std_mean_as_torch(torch, name):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 4, 2))
    x, tx = _pair(torch, a)
    ours, theirs = getattr(tg, name), getattr(torch, name)
    calls = [((), {}), ((1,), {}), (((0, 2),), {"keepdim": True}), ((1, False), {}),
             ((False,), {}), ((1, True, True), {}), ((None,), {"correction": 0}),
             ((-1,), {"correction": 2, "keepdim": True}), (([0, 1],), {"unbiased": False})]
    for args, kwargs in calls:
        o, t = ours(x, *args, **kwargs), theirs(tx, *args, **kwargs)
        assert type(o) is tuple and len(o) == 2  # a plain tuple, as PyTorch's
        _close(o[0], t[0])
        _close(o[1], t[1])
    assert not hasattr(Tensor, name) and not hasattr(torch.Tensor, name)  # functions only
    _refused(lambda: theirs(torch.tensor([1, 2])), lambda: ours(Tensor(np.array([1, 2]))),
             TypeError, name, "int64")


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_var_mean_infinities_as_torch(torch, name):
    """PyTorch's running (Welford) mean: an infinity is the mean only when it is the slice's one
    infinity and its last element (row-major over the reduced dims); NaN otherwise."""
    cases = [[INF, 1.0, 2.0], [1.0, 2.0, INF], [1.0, -INF, -INF], [1.0, NAN, INF], [INF], [-INF]]
    for row in cases:
        x, tx = _pair(torch, np.array(row))
        o, t = getattr(tg, name)(x), getattr(torch, name)(tx)
        _agree(o[1], t[1])
        _agree(o[0], t[0])
    rng = np.random.default_rng(6)
    for dim in (0, 1, 2, (0, 2), (1, 2), None):
        for pos in itertools.product(range(3), range(2), range(2)):
            a = rng.standard_normal((3, 2, 2))
            a[pos] = -INF
            x, tx = _pair(torch, a)
            _agree(getattr(tg, name)(x, dim)[1], getattr(torch, name)(tx, dim)[1])


def test_var_mean_gradients_as_torch(torch):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 4))
    for name in ("var_mean", "std_mean"):
        for args in ((), (1,), (0, False, True)):
            _grads(torch, a, lambda t, m, args=args, name=name: m.stack(getattr(m, name)(t, *args)))
    x = Tensor(a, requires_grad=True)
    assert tg.gradcheck(lambda t: tg.var_mean(t, 1)[0] * tg.std_mean(t, 1)[1], x)
    assert tg.gradgradcheck(lambda t: tg.var_mean(t, 0)[0] * tg.std_mean(t, 0)[1], x)


# ------------------------------------------------------------------------------ median, nanmedian
def _median_data(rng: np.random.Generator, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Few distinct values (many ties), with NaN and infinities in floats."""
    a = rng.integers(0, 4, shape).astype(dtype)
    if a.dtype.kind == "f":
        flat = a.reshape(-1)
        flat[rng.random(flat.size) < 0.15] = NAN
        flat[rng.random(flat.size) < 0.1] = INF
    return a


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "uint8"])
@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_with_dim_as_torch_index_for_index(torch, dtype, name):
    """The lower median; its index that of a stable sort (PyTorch's, with its NaN rules)."""
    rng = np.random.default_rng(8)
    for shape in [(7,), (4, 6), (3, 5, 2), (2, 33), (1, 4)]:
        for _ in range(8):
            x, tx = _pair(torch, _median_data(rng, shape, dtype))
            for dim in range(-len(shape), len(shape)):
                for keepdim in (False, True):
                    o, t = getattr(x, name)(dim, keepdim), getattr(tx, name)(dim, keepdim)
                    _same(o.values, t.values)
                    _same(o.indices, t.indices)
    o, t = getattr(tg, name)(x, 0), getattr(torch, name)(tx, 0)
    assert type(o).__name__ == type(t).__name__ == name and o._fields == ("values", "indices")


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_edges_as_torch(torch, name):
    cases = [np.array([3.0, 1.0, 2.0, 2.0, NAN, 1.0]), np.array([NAN, NAN]), np.array([4.0]),
             np.array([1.0, NAN, NAN]), np.array(2.5), np.zeros(0), np.array([-0.0, 0.0]),
             np.array([0.0, -0.0, 1.0]), np.array([INF, -INF, INF, 1.0]),
             np.array([5, 1, 4, 2], np.int64), np.zeros((2, 0))]
    for a in cases:
        x, tx = _pair(torch, a)
        _same(getattr(x, name)(), getattr(tx, name)())
        _same(getattr(tg, name)(x), getattr(torch, name)(tx))
        if a.ndim and a.size:
            o, t = getattr(x, name)(-1), getattr(tx, name)(-1)
            _same(o.values, t.values)
            _same(o.indices, t.indices)
    s, ts = _pair(torch, np.array(2.5))
    for dim, keepdim in ((0, False), (-1, True)):
        o, t = getattr(s, name)(dim, keepdim), getattr(ts, name)(dim, keepdim)
        _same(o.values, t.values)
        _same(o.indices, t.indices)
    e, te = _pair(torch, np.zeros((0, 3)))
    o, t = getattr(e, name)(1), getattr(te, name)(1)
    _same(o.values, t.values)
    _same(o.indices, t.indices)


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_gradients_as_torch(torch, name):
    # the whole tensor: shared by the elements equal to the median (by the NaNs when it is NaN)
    for a in ([1.0, 2.0, 2.0, NAN], [1.0, 2.0, 2.0, 3.0], [2.0, NAN, 2.0, NAN], [NAN, NAN],
              [[3.0, 1.0], [2.0, 2.0]], [5.0]):
        _grads(torch, np.array(a), lambda t, m, name=name: getattr(t, name)())
        _grads(torch, np.array(a), lambda t, m, name=name: getattr(t, name)(), g=np.array(INF))
    # along a dim: to the chosen index
    rng = np.random.default_rng(9)
    a = _median_data(rng, (4, 6), "float64")
    for dim, keepdim in ((0, False), (1, True), (-1, False)):
        _grads(torch, a, lambda t, m, d=dim, k=keepdim, name=name: getattr(t, name)(d, k).values)
    x = Tensor(rng.permutation(24).reshape(4, 6) + rng.uniform(0, 0.5, (4, 6)), requires_grad=True)
    assert tg.gradcheck(lambda t: getattr(t, name)() * getattr(t, name)(1).values, x)
    assert tg.gradgradcheck(lambda t: getattr(t, name)(0, keepdim=True).values * t, x)


@pytest.mark.parametrize("name", ["median", "nanmedian"])
def test_median_refusals(torch, name):
    x, tx = _pair(torch, np.ones((2, 3)))
    _refused(lambda: getattr(tx, name)(keepdim=True), lambda: getattr(x, name)(keepdim=True),
             TypeError, name, "keepdim needs a dim")
    _refused(lambda: getattr(tx, name)((0,)), lambda: getattr(x, name)((0,)), TypeError, name,
             "dim must be an int")
    _refused(lambda: getattr(tx, name)(2), lambda: getattr(x, name)(2), IndexError, name,
             "out of range")
    e, te = _pair(torch, np.zeros((2, 0)))
    _refused(lambda: getattr(te, name)(1), lambda: getattr(e, name)(1), IndexError, name,
             "size 0", "(2, 0)")
    b, tb = _pair(torch, np.array([True, False]))
    _refused(lambda: getattr(tb, name)(), lambda: getattr(b, name)(), TypeError, name, "bool")


# ------------------------------------------------------------------------------ mode
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "uint8",
                                   "int8", "bool"])
def test_mode_as_torch_index_for_index(torch, dtype):
    """The most frequent value (ties: the smallest) and its last occurrence, as PyTorch's CPU
    kernel, over dims of up to 16 elements (where its sort keeps equal values in order), with
    infinities and signed zeros; a NaN is a value seen once (here only at the end of a slice,
    where PyTorch's sort is well-defined)."""
    rng = np.random.default_rng(12)
    for shape in [(7,), (4, 6), (3, 5, 2), (2, 16), (1, 4), (16, 3)]:
        for _ in range(6):
            a = _median_data(rng, shape, dtype if dtype != "bool" else "int64")
            a = a > 1 if dtype == "bool" else a
            if a.dtype.kind == "f":
                a[np.isnan(a)] = -0.0
                a[..., -1][rng.random(a[..., -1].shape) < 0.3] = NAN  # a NaN last in its row
            x, tx = _pair(torch, a)
            dims = range(-len(shape), len(shape)) if a.dtype.kind != "f" else (-1,)
            for dim in dims:
                for keepdim in (False, True):
                    o, t = x.mode(dim, keepdim), tx.mode(dim, keepdim)
                    _same(o.values, t.values)
                    _same(o.indices, t.indices)
    o, t = tg.mode(x), torch.mode(tx)
    assert type(o).__name__ == type(t).__name__ == "mode" and o._fields == ("values", "indices")


def test_mode_edges_as_torch(torch):
    cases = [[1.0, 2.0, 2.0, 3.0, 3.0, 1.0, 2.0], [3.0, 3.0, 1.0, 1.0], [5.0, 2.0, 5.0, 2.0, 7.0],
             [1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [2.0, 2.0, 2.0, 2.0], [NAN, NAN, NAN],
             [1.0, NAN, 2.0], [NAN, 1.0, 2.0, 2.0], [1.0, 2.0, 2.0, NAN, NAN], [0.0, -0.0, -0.0],
             [-0.0, 0.0, 0.0], [-0.0, 0.0], [0.0, -0.0], [INF, INF, -INF, 1.0], [True, False, True],
             [[1, 2, 2], [3, 3, 1]], 2.5, np.zeros((1, 0)), np.zeros((0, 3))]
    for a in cases:
        x, tx = _pair(torch, np.asarray(a))
        dims = [(-1, False)] if x.ndim < 2 else [(0, False), (0, True), (1, False), (-1, True)]
        if x.ndim == 0:
            dims += [(0, False), (0, True), (-1, True)]
        for dim, keepdim in dims:
            if x.shape and x.shape[dim] == 0:
                continue
            o, t = tg.mode(x, dim, keepdim), torch.mode(tx, dim, keepdim)
            _same(o.values, t.values)
            _same(o.indices, t.indices)


def test_mode_long_dims_and_nan_rules(torch):
    """Beyond 16 elements PyTorch's unstable std::sort picks some occurrence of the mode: the
    values still agree, and ours is the last occurrence. A NaN counts once: [nan, 1, nan, 1] has
    mode 1 (PyTorch's sort, undefined with NaN, gives NaN there)."""
    rng = np.random.default_rng(13)
    for n in (17, 40, 300):
        a = rng.integers(0, max(2, n // 4), (5, n)).astype(np.float64)
        x, tx = _pair(torch, a)
        o, t = x.mode(1), tx.mode(1)
        _same(o.values, t.values)
        for row, (v, i) in enumerate(zip(o.values.tolist(), o.indices.tolist())):
            assert i == np.flatnonzero(a[row] == v)[-1]
    got = tg.mode(Tensor(np.array([NAN, 1.0, NAN, 1.0])))
    assert got.values.item() == 1.0 and got.indices.item() == 3
    got = tg.mode(Tensor(np.array([NAN, NAN, 1.0])))  # PyTorch: nan at 0 (its sort, again)
    assert got.values.item() == 1.0 and got.indices.item() == 2
    got = tg.mode(Tensor(np.array([[NAN, 2.0, NAN], [NAN] * 3])), 1)
    assert got.values.tolist()[0] == 2.0 and np.isnan(got.values.tolist()[1])
    assert got.indices.tolist() == [1, 0]


def test_mode_gradients_as_torch(torch):
    a = np.array([[1.0, 3.0, 3.0, 0.0, 5.0, 1.0], [2.0, 2.0, 1.0, 4.0, 4.0, 0.5],
                  [-INF, -INF, 2.0, 2.0, 2.0, INF]])
    for dim, keepdim in ((0, False), (1, True), (-1, False)):
        _grads(torch, a, lambda t, m, d=dim, k=keepdim: m.mode(t, d, k).values)
    _grads(torch, np.array(2.5), lambda t, m: t.mode().values)
    # a repeated mode breaks when one copy moves (no derivative there, in PyTorch too): checked
    # where the values are distinct, so the mode is each slice's smallest and moves smoothly
    rng = np.random.default_rng(14)
    x = Tensor(rng.permutation(20).reshape(4, 5) + rng.uniform(0, 0.5, (4, 5)), requires_grad=True)
    assert tg.gradcheck(lambda t: tg.mode(t * t, 1).values * t.sum(), x)
    assert tg.gradgradcheck(lambda t: tg.mode(t, 0, keepdim=True).values * t, x)


def test_mode_refusals(torch):
    x, tx = _pair(torch, np.ones((2, 3)))
    for dim, kind in ((None, TypeError), ((0,), TypeError), (1.0, TypeError), (True, TypeError),
                      (2, IndexError), (-3, IndexError)):
        _refused(lambda d=dim: tx.mode(d), lambda d=dim: x.mode(d), kind, "mode")
    e, te = _pair(torch, np.zeros((2, 0)))
    _refused(lambda: te.mode(1), lambda: e.mode(1), IndexError, "mode", "size 0", "(2, 0)")
    _refused(lambda: torch.mode(torch.zeros(0)), lambda: tg.mode(tg.zeros(0)), IndexError, "mode")
    _refused(lambda: torch.mode([1, 2]), lambda: tg.mode([1, 2]), TypeError, "mode")


# ------------------------------------------------------------------------------ cummax, cummin
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32", "uint8",
                                   "bool"])
def test_cummax_cummin_as_torch_index_for_index(torch, dtype):
    """Ties go to the last occurrence; a NaN is sticky and every later NaN takes the index."""
    rng = np.random.default_rng(10)
    for shape in [(9,), (4, 6), (3, 5, 2), (0, 3), (3, 0)]:
        for _ in range(6):
            a = _median_data(rng, shape, dtype if dtype != "bool" else "int64")
            a = a > 1 if dtype == "bool" else a
            if a.dtype.kind == "f":
                a.reshape(-1)[rng.random(a.size) < 0.1] = -INF
            x, tx = _pair(torch, a)
            for dim in range(-len(shape), len(shape)):
                for name in ("cummax", "cummin"):
                    o, t = getattr(x, name)(dim), getattr(tx, name)(dim)
                    _same(o.values, t.values)
                    _same(o.indices, t.indices)
                    _same(getattr(tg, name)(x, dim=dim).indices, getattr(torch, name)(tx, dim).indices)
    s, ts = _pair(torch, np.array(1.5))
    for name, dim in itertools.product(("cummax", "cummin"), (0, -1)):
        o, t = getattr(s, name)(dim), getattr(ts, name)(dim)
        _same(o.values, t.values)
        _same(o.indices, t.indices)
        assert type(o).__name__ == type(t).__name__ == name


def test_cummax_cummin_gradients_as_torch(torch):
    a = np.array([[1.0, 3.0, 3.0, 0.0, 5.0, 5.0], [2.0, NAN, 1.0, NAN, 4.0, 0.5],
                  [-INF, -INF, 2.0, 2.0, 1.0, INF]])
    for name, dim in itertools.product(("cummax", "cummin"), (0, 1)):
        _grads(torch, a, lambda t, m, n=name, d=dim: getattr(t, n)(d).values)
    rng = np.random.default_rng(11)
    x = Tensor(rng.permutation(20).reshape(4, 5) + rng.uniform(0, 0.5, (4, 5)), requires_grad=True)
    assert tg.gradcheck(lambda t: t.cummax(1).values * t.cummin(0).values, x)
    assert tg.gradgradcheck(lambda t: t.cummax(0).values * t.cummin(1).values, x)


def test_cummax_refusals(torch):
    x, tx = _pair(torch, np.ones((2, 3)))
    _refused(lambda: tx.cummax(2), lambda: x.cummax(2), IndexError, "cummax", "out of range")
    _refused(lambda: tx.cummin(), lambda: x.cummin(), TypeError)
    _refused(lambda: torch.tensor(1.0).cummax(1), lambda: Tensor(np.array(1.0)).cummax(1),
             IndexError, "cummax")


# ------------------------------------------------------------------------------ unique
def _unique_both(torch: Any, a: np.ndarray, name: str, **kw: Any) -> None:
    x, tx = _pair(torch, a)
    o, t = getattr(x, name)(**kw), getattr(tx, name)(**kw)
    o2, t2 = getattr(tg, name)(x, **kw), getattr(torch, name)(tx, **kw)
    for ours, theirs in ((o, t), (o2, t2)):
        if isinstance(theirs, tuple):
            assert type(ours) is tuple and len(ours) == len(theirs)
            for p, q in zip(ours, theirs):
                _same(p, q)
        else:
            _same(ours, theirs)


@pytest.mark.parametrize("name", ["unique", "unique_consecutive"])
def test_unique_as_torch(torch, name):
    rng = np.random.default_rng(12)
    datas = [rng.integers(0, 4, (5, 3)), rng.integers(0, 2, (4, 2, 3)).astype(np.float32),
             np.array([3.0, NAN, 1.0, NAN, 3.0, -0.0, 0.0, INF, -INF, 1.0]),
             np.array([0.0, -0.0, 0.0]), np.array([True, False, True]), np.array(5.0),
             np.zeros((0,)), np.zeros((0, 3)), np.zeros((2, 0)), rng.integers(0, 3, 40) > 0,
             np.array([[1, 2], [1, 2], [0, 5], [1, 2]], np.uint8),
             np.array([[-0.0, 2.0], [0.0, 2.0], [3.0, 1.0]], np.float16)]
    flags = [{"return_inverse": i, "return_counts": c} for i in (False, True) for c in (False, True)]
    for a in datas:
        for kw in flags:
            if name == "unique":
                for s in (True, False):
                    _unique_both(torch, a, name, sorted=s, **kw)
            else:
                _unique_both(torch, a, name, **kw)
            for dim in range(-a.ndim, a.ndim):
                if a.dtype.kind == "f" and np.isnan(a).any():
                    continue  # (slices with NaN: PyTorch orders them by its unstable sort)
                empty = [i for i, s in enumerate(a.shape) if s == 0]
                if empty and empty != [dim % a.ndim]:
                    continue  # refused: test_unique_refusals
                _unique_both(torch, a, name, dim=dim, **kw)


def test_unique_has_no_gradient():
    x = Tensor(np.array([1.0, 2.0, 1.0]), requires_grad=True)
    values, inverse, counts = x.unique(return_inverse=True, return_counts=True)
    # (PyTorch's values claim a grad_fn whose backward raises "not implemented")
    assert not values.requires_grad and values.grad_fn is None
    assert inverse.dtype == counts.dtype == np.int64


@pytest.mark.parametrize("name", ["unique", "unique_consecutive"])
def test_unique_refusals(torch, name):
    _refused(lambda: getattr(torch.tensor(5.0), name)(dim=0),
             lambda: getattr(Tensor(np.array(5.0)), name)(dim=0), IndexError, name, "0-d")
    for shape, dim in (((0, 3), 1), ((2, 0), 0), ((0, 0), 0)):
        _refused(lambda s=shape, d=dim: getattr(torch.zeros(s), name)(dim=d),
                 lambda s=shape, d=dim: getattr(Tensor(np.zeros(s)), name)(dim=d), RuntimeError,
                 name, "empty dim")
    _refused(lambda: getattr(torch.ones(2, 3), name)(dim=2),
             lambda: getattr(Tensor(np.ones((2, 3))), name)(dim=2), IndexError, "out of range")


# ------------------------------------------------------------------------------ bitwise
_INTS = ["int64", "int32", "int16", "int8", "uint8", "bool"]


def _bits(dtype: str) -> np.ndarray:
    if dtype == "bool":
        return np.array([True, False, True, False])
    info = np.iinfo(dtype)
    return np.array([0, 1, 5, info.max, info.min, 7 if info.min == 0 else -3]).astype(dtype)


@pytest.mark.parametrize("a_dtype,b_dtype", list(itertools.product(_INTS, _INTS)))
def test_bitwise_as_torch(torch, a_dtype, b_dtype):
    a, b = _bits(a_dtype), _bits(b_dtype)
    a, b = np.resize(a, max(len(a), len(b))), np.resize(b, max(len(a), len(b)))
    x, tx = _pair(torch, a)
    y, ty = _pair(torch, b)
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        _same(getattr(x, name)(y), getattr(tx, name)(ty))
        _same(getattr(tg, name)(x, y), getattr(torch, name)(tx, ty))
    _same(x.bitwise_not(), tx.bitwise_not())
    _same(tg.bitwise_not(x), torch.bitwise_not(tx))
    if a_dtype == b_dtype == "bool":
        _refused(lambda: tx << ty, lambda: x << y, TypeError, "bitwise_left_shift", "bool")
        return
    for op, name in ((lambda p, q: p << q, "bitwise_left_shift"),
                     (lambda p, q: p >> q, "bitwise_right_shift")):
        _same(op(x, y), op(tx, ty))
        _same(getattr(x, name)(y), getattr(tx, name)(ty))
        _same(getattr(tg, name)(x, y), getattr(torch, name)(tx, ty))


@pytest.mark.parametrize("dtype", _INTS[:-1])
def test_shifts_by_every_amount_as_torch(torch, dtype):
    """Amounts outside [0, bits) are PyTorch's: 0 for <<, the sign for >> (0 or -1)."""
    values = np.resize(_bits(dtype), 6 * 140)
    amounts = np.repeat(np.arange(-70, 70), 6).astype(dtype if dtype != "uint8" else "int64")
    x, tx = _pair(torch, values)
    s, ts = _pair(torch, amounts)
    _same(x << s, tx << ts)
    _same(x >> s, tx >> ts)
    for n in (0, 1, 3, 7, 8, 15, 31, 63, 64, 100, 300, -1):
        _same(x << n, tx << n)
        _same(x >> n, tx >> n)
        _same(n << x.clamp(0, 9) if dtype != "uint8" else n << x % 9,
              n << tx.clamp(0, 9) if dtype != "uint8" else n << tx % 9)
    _same(tg.bitwise_left_shift(3, x % 5), torch.bitwise_left_shift(3, tx % 5))
    _same(tg.bitwise_right_shift(-64, x % 5), torch.bitwise_right_shift(-64, tx % 5))
    _same(tg.bitwise_and(6, x), torch.bitwise_and(6, tx))


def test_shift_in_place_and_scalars_as_torch(torch):
    x, tx = _pair(torch, np.array([5, 6, -7]))
    view, tview = x[1:], tx[1:]
    x <<= 2
    tx <<= 2
    _same(x, tx)
    _same(view, tview)  # written in place
    x >>= Tensor(np.array([1, 2, 3]))
    tx >>= torch.tensor([1, 2, 3])
    _same(x, tx)
    b, tb = _pair(torch, np.array([True, False]))
    _same(b << 1, tb << 1)  # a bool with an int: int64
    u, tu = _pair(torch, np.array([1, 200], np.uint8))
    _same(u << 1, tu << 1)
    with pytest.raises(TypeError):
        u <<= Tensor(np.array([1.5, 2.0]))


def test_bitwise_refuse_floats(torch):
    x, tx = _pair(torch, np.array([1.5, 2.0]))
    i, ti = _pair(torch, np.array([1, 2]))
    for ours, theirs in ((lambda: x << 1, lambda: tx << 1), (lambda: i << 1.5, lambda: ti << 1.5),
                         (lambda: i >> x, lambda: ti >> tx), (lambda: 1.5 << i, lambda: 1.5 << ti),
                         (lambda: x.bitwise_and(i), lambda: tx.bitwise_and(ti)),
                         (lambda: i.bitwise_xor(2.0), lambda: ti.bitwise_xor(2.0)),
                         (lambda: x.bitwise_not(), lambda: tx.bitwise_not())):
        _refused(theirs, ours, TypeError, "bitwise_")
    _refused(lambda: ti << torch.tensor([1, 2, 3]), lambda: i << Tensor(np.array([1, 2, 3])),
             ValueError, "bitwise_left_shift", "(2,)", "(3,)")


# ------------------------------------------------------------------------------ F.unfold, F.fold
_GEOMETRIES = [
    ((2, 3, 5, 4), {"kernel_size": 2}),
    ((1, 2, 6, 5), {"kernel_size": (2, 3), "dilation": (2, 1), "padding": 1, "stride": (1, 2)}),
    ((2, 1, 7, 7), {"kernel_size": 3, "padding": (0, 2), "stride": 2, "dilation": 2}),
    ((1, 2, 3, 3), {"kernel_size": 1}),
    ((1, 1, 2, 2), {"kernel_size": 3, "padding": 1}),
    ((3, 2, 4), {"kernel_size": (2, 1), "stride": (2, 1)}),  # unbatched
    ((0, 2, 4, 4), {"kernel_size": 2}),
]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_unfold_fold_as_torch(torch, dtype):
    rng = np.random.default_rng(13)
    for shape, kw in _GEOMETRIES:
        x, tx = _pair(torch, rng.standard_normal(shape).astype(dtype))
        cols, tcols = F.unfold(x, **kw), torch.nn.functional.unfold(tx, **kw)
        _same(cols, tcols)
        back = F.fold(cols, shape[-2:], **kw)
        tback = torch.nn.functional.fold(tcols, shape[-2:], **kw)
        if dtype == "float16":  # (overlapping windows add in the same order; rounding may differ)
            np.testing.assert_allclose(back.numpy(), tback.numpy(), rtol=2e-3, atol=2e-3)
            assert back.dtype == np.float16 and back.shape == tuple(tback.shape)
        else:
            _close(back, tback)
    b, tb = _pair(torch, rng.random((1, 2, 3, 3)) < 0.5)
    _same(F.unfold(b, 2, padding=1), torch.nn.functional.unfold(tb, 2, padding=1))


def test_unfold_fold_gradients_as_torch(torch):
    rng = np.random.default_rng(14)
    for shape, kw in _GEOMETRIES:
        _grads(torch, rng.standard_normal(shape), lambda t, m, kw=kw: (
            F.unfold(t, **kw) if m is tg else torch.nn.functional.unfold(t, **kw)))
        cols = F.unfold(Tensor(np.zeros(shape)), **kw).shape
        _grads(torch, rng.standard_normal(cols), lambda t, m, s=shape, kw=kw: (
            F.fold(t, s[-2:], **kw) if m is tg else torch.nn.functional.fold(t, s[-2:], **kw)))


def test_unfold_and_fold_are_adjoint_and_gradcheck():
    """``<unfold(x), c> = <x, fold(c)>`` for every geometry; and the checks of both orders."""
    rng = np.random.default_rng(15)
    for shape, kw in _GEOMETRIES:
        x = rng.standard_normal(shape)
        cols = F.unfold(Tensor(x), **kw)
        c = rng.standard_normal(cols.shape)
        lhs = float((cols.numpy() * c).sum())
        rhs = float((x * F.fold(Tensor(c), shape[-2:], **kw).numpy()).sum())
        assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs))
        if not x.size:
            continue
        xt = Tensor(x, requires_grad=True)
        assert tg.gradcheck(lambda t, kw=kw: F.unfold(t, **kw) ** 2, xt)
        assert tg.gradgradcheck(lambda t, kw=kw: F.unfold(t, **kw) ** 2, xt)
        ct = Tensor(c, requires_grad=True)
        assert tg.gradcheck(lambda t, s=shape, kw=kw: F.fold(t, s[-2:], **kw) ** 2, ct)
        assert tg.gradgradcheck(lambda t, s=shape, kw=kw: F.fold(t, s[-2:], **kw) ** 2, ct)


def test_unfold_is_the_convolutions_im2col(torch):
    """PyTorch's documented identity: a convolution is unfold, a matrix product and a view."""
    rng = np.random.default_rng(16)
    x, w = Tensor(rng.standard_normal((2, 3, 6, 5))), Tensor(rng.standard_normal((4, 3, 3, 2)))
    cols = F.unfold(x, (3, 2), padding=1, stride=2)  # (2, 18, L)
    out = (cols.transpose(1, 2) @ w.reshape(4, -1).t()).transpose(1, 2).reshape(2, 4, 3, 3)
    np.testing.assert_allclose(out.numpy(), F.conv2d(x, w, padding=1, stride=2).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_unfold_fold_refusals(torch):
    tF = torch.nn.functional
    x, tx = _pair(torch, np.ones((2, 3, 5, 4)))
    cases = [
        (lambda m: m.unfold(x if m is F else tx, 6), ValueError, ("unfold", "(5, 4)", "(6, 6)",
                                                                  "no window")),
        (lambda m: m.unfold(x if m is F else tx, 0), ValueError, ("unfold", "kernel_size",
                                                                  "positive")),
        (lambda m: m.unfold(x if m is F else tx, 2, padding=-1), ValueError, ("padding",)),
        (lambda m: m.unfold(x if m is F else tx, 2, stride=0), ValueError, ("stride",)),
        (lambda m: m.unfold(x if m is F else tx, 2, dilation=0), ValueError, ("dilation",)),
        (lambda m: m.unfold(x if m is F else tx, (2, 2, 2)), ValueError, ("kernel_size",)),
        (lambda m: m.unfold(x if m is F else tx, 2, padding="same"), TypeError, ("padding",)),
        (lambda m: m.unfold((x if m is F else tx)[0, 0], 2), ValueError, ("unfold", "(5, 4)")),
        (lambda m: m.unfold((x if m is F else tx)[:, :0], 2), ValueError, ("(2, 0, 5, 4)",)),
        (lambda m: m.unfold((x if m is F else tx).long(), 2), TypeError, ("unfold", "int64")),
    ]
    c, tc = _pair(torch, np.ones((2, 12, 12)))
    cases += [
        (lambda m: m.fold(c if m is F else tc, (4, 6), 2), ValueError,
         ("fold", "(4, 6)", "15", "12")),
        (lambda m: m.fold(c if m is F else tc, (4, 5), 5), ValueError, ("divisible", "25")),
        (lambda m: m.fold((c if m is F else tc)[:, :11], (4, 5), 2), ValueError, ("11",)),
        (lambda m: m.fold((c if m is F else tc).reshape(2, 3, 4, 12), (4, 5), 2), ValueError,
         ("fold", "(2, 3, 4, 12)")),
        (lambda m: m.fold((c if m is F else tc)[:, :, :0], (1, 1), 2), ValueError,
         ("(2, 12, 0)",)),
        (lambda m: m.fold((c if m is F else tc).long(), (4, 5), 2), TypeError, ("fold", "int64")),
        (lambda m: m.fold(c if m is F else tc, (1, 1), 2), ValueError, ("fold", "no window")),
    ]
    # every int-or-pair argument wants exactly two values, as PyTorch's kernels: a one-value
    # sequence (which conv2d takes for both) was used for both here
    for arg in ("kernel_size", "dilation", "padding", "stride"):
        for value in ((1,), [2]):
            kw = {"kernel_size": 2, arg: value}
            cases += [
                (lambda m, kw=kw: m.unfold(x if m is F else tx, **kw), ValueError,
                 ("unfold", arg, "(1 value)", f"give {value[0]!r} or")),
                (lambda m, kw=kw: m.fold(c if m is F else tc, (4, 5), **kw), ValueError,
                 ("fold", arg, "(1 value)")),
            ]
    for value in ((3,), [4]):
        cases.append((lambda m, v=value: m.fold(c if m is F else tc, v, 2), ValueError,
                      ("fold", "output_size", "(1 value)", f"give {value[0]} or")))
    for call, kind, words in cases:
        _refused(lambda call=call: call(tF), lambda call=call: call(F), kind, *words)


@pytest.mark.parametrize("op", ["<<", ">>"])
@pytest.mark.parametrize("scalar", [np.int64(70), np.int32(5), np.uint8(200)])
def test_a_numpy_integer_on_the_left_of_a_shift_takes_the_tensors_dtype(op, scalar):
    """numpy scalars keep the tensor's dtype (the README's rule); on the left of << and >> numpy
    computed the shift itself, in int64, without wrapping."""
    torch = pytest.importorskip("torch")
    values = np.array([2, 3], dtype=np.uint8)
    shift = (lambda a, b: a << b) if op == "<<" else (lambda a, b: a >> b)
    ours = shift(scalar, tg.tensor(values))
    theirs = shift(scalar, torch.tensor(values))
    assert ours.dtype == np.uint8 and ours.tolist() == theirs.tolist()


def test_porting_odds_and_ends_as_pytorch():
    """is_cuda / is_cpu / get_device, zeros_like/ones_like(device=), the in-place bitwise
    methods."""
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        x = lib.tensor([3, 5], dtype=lib.int32)
        assert (x.is_cuda, x.is_cpu, x.get_device()) == (False, True, -1)
        assert str(lib.zeros_like(x, device="cpu").dtype).endswith("int32")
        assert str(lib.ones_like(x, dtype=lib.float64).dtype).endswith("float64")
    results = []
    for lib in (tg, torch):
        x = lib.tensor([3, 5], dtype=lib.int32)
        row = []
        for name, args in (("bitwise_and_", (6,)), ("bitwise_or_", (8,)), ("bitwise_xor_", (1,)),
                           ("bitwise_left_shift_", (2,)), ("bitwise_right_shift_", (1,)),
                           ("bitwise_not_", ())):
            y = x.clone()
            assert getattr(y, name)(*args) is y
            row.append(y.tolist())
        results.append(row)
    assert results[0] == results[1]
