"""quantile, nanquantile, logcumsumexp, aminmax, histc, bincount, cov, corrcoef, cdist and
``F.multilabel_margin_loss``/``nn.MultiLabelMarginLoss``, each against PyTorch 2.13: values and
dtypes (float64, float32, float16 where PyTorch has it), gradients in float64, special values
(NaN, ±inf, empty dims, 0-d), and the refusals. The gradchecks are in op_cases_stats.py; the
fuzzer (fuzz_specs_stats.py) draws more inputs."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")


def _same(ours: Any, theirs: Any) -> None:
    """Same dtype, shape and values (NaN where NaN)."""
    assert isinstance(ours, Tensor), type(ours)
    t = theirs.detach().numpy()
    o = ours.numpy()
    assert o.dtype == t.dtype, (o.dtype, t.dtype)
    assert o.shape == t.shape, (o.shape, t.shape)
    np.testing.assert_array_equal(o, t)


def _close(ours: Any, theirs: Any, rtol: float | None = None) -> None:
    """Same dtype and shape, NaN and infinities where PyTorch has them, finite values close
    (to the dtype's precision)."""
    assert isinstance(ours, Tensor), type(ours)
    t = theirs.detach().numpy()
    o = ours.numpy()
    assert o.dtype == t.dtype and o.shape == t.shape, (o.dtype, t.dtype, o.shape, t.shape)
    if rtol is None:
        rtol = {np.float64: 1e-12, np.float32: 2e-6, np.float16: 2e-3}.get(o.dtype.type, 0)
    np.testing.assert_allclose(o, t, rtol=rtol, atol=rtol)


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
        vs = [rng.standard_normal(tuple(b.shape)) for b in gt]
        hs = tg.grad(sum((a * Tensor(v)).sum() for a, v in zip(gs, vs)), list(ours),
                     allow_unused=True)
        ht = torch.autograd.grad(sum((b * torch.tensor(v)).sum() for b, v in zip(gt, vs)),
                                 list(theirs), allow_unused=True)
        for a, b in zip(hs, ht):
            if b is not None:
                _close(a, b, rtol=1e-9)


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
