"""var and std at their edges (empty slices, infinities): NaN, quietly, as in PyTorch."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
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
    """NaN without numpy's "Mean of empty slice" or "invalid value" warnings (as PyTorch)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = Tensor(np.zeros((0, 3)), requires_grad=True)
        assert np.isnan(x.var(0).numpy()).all() and np.isnan(x.std(0).numpy()).all()
        x.var().backward()
        assert x.grad.shape == (0, 3)
        y = Tensor(np.array([INF, 1.0]))
        assert np.isnan(y.var().item()) and np.isnan(y.std().item())
