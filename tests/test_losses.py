"""Activations and losses: stability and bad input (gradients are in test_ops_gradcheck.py and
test_torch_parity.py)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, manual_seed


def test_log_softmax_and_cross_entropy_are_stable_for_huge_logits():
    x = Tensor(np.array([[1000.0, 0.0, -1000.0], [5000.0, 5000.0, 0.0]]), requires_grad=True)
    ls = F.log_softmax(x, 1)
    np.testing.assert_allclose(ls.numpy(), [[0, -1000, -2000], [-np.log(2), -np.log(2), -5000 - np.log(2)]])
    loss = F.cross_entropy(x, np.array([2, 0]))
    assert np.isfinite(loss.item()) and abs(loss.item() - (2000 + np.log(2)) / 2) < 1e-9
    loss.backward()
    assert np.isfinite(x.grad.numpy()).all()
    s = F.softmax(Tensor(np.array([1e4, 0.0])), 0)
    np.testing.assert_array_equal(s.numpy(), [1.0, 0.0])


def test_cross_entropy_equals_log_softmax_plus_nll():
    rng = np.random.default_rng(0)
    x, t = Tensor(rng.standard_normal((5, 7))), rng.integers(0, 7, 5)
    np.testing.assert_allclose(F.cross_entropy(x, t).numpy(),
                               F.nll_loss(F.log_softmax(x, 1), t).numpy(), rtol=1e-12)
    manual = -np.log(np.exp(x.numpy()) / np.exp(x.numpy()).sum(1, keepdims=True))[range(5), t]
    np.testing.assert_allclose(F.cross_entropy(x, t, reduction="none").numpy(), manual)
    np.testing.assert_allclose(F.cross_entropy(x, t, reduction="sum").numpy(), manual.sum())


def test_unbatched_cross_entropy():
    x = Tensor(np.array([1.0, 2.0, 3.0]))
    expected = -np.log(np.exp(2.0) / np.exp([1.0, 2.0, 3.0]).sum())
    np.testing.assert_allclose(F.cross_entropy(x, np.array(1)).numpy(), expected)


def test_dropout_and_linear():
    manual_seed(0)
    x = Tensor(np.ones((1000,)))
    y = F.dropout(x, 0.25)
    kept = y.numpy() != 0
    assert 0.65 < kept.mean() < 0.85
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75)
    assert F.dropout(x, 0.25, training=False) is x
    w, b = Tensor(np.ones((3, 4))), Tensor(np.arange(3.0))
    np.testing.assert_allclose(F.linear(Tensor(np.ones((2, 4))), w, b).numpy(), [[4, 5, 6]] * 2)


BAD = [
    (lambda: F.softmax(Tensor(np.ones((2, 3))), 2), IndexError, "softmax: dim 2 is out of range"),
    (lambda: F.log_softmax(Tensor(np.ones((2, 3))), -3), IndexError, "log_softmax: dim -3"),
    (lambda: F.cross_entropy(Tensor(np.ones((4, 10))), np.zeros(3, dtype=int)), ValueError,
     r"target has shape \(3,\)"),
    (lambda: F.cross_entropy(Tensor(np.ones((4, 10))), np.array([0, 1, 12, 2])), IndexError,
     r"target holds class 12, but the input has 10 classes \(0 to 9\)"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), np.array([-1, 0])), IndexError,
     "class -1"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), np.array([0.5, 1.0])), TypeError,
     "class indices"),
    (lambda: F.cross_entropy(Tensor(np.ones((2, 3))), np.array([0, 1]), reduction="avg"),
     ValueError, "reduction must be one of"),
    (lambda: F.mse_loss(Tensor(np.ones(3)), Tensor(np.ones(4))), ValueError, "same shape"),
    (lambda: F.linear(Tensor(np.ones((2, 5))), Tensor(np.ones((3, 4)))), ValueError,
     "input has 5 features"),
    (lambda: F.dropout(Tensor(np.ones(2)), 1.5), ValueError, r"p must be in \[0, 1\]"),
]


@pytest.mark.parametrize("call,exc,match", BAD, ids=[m[:30] for _, _, m in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
