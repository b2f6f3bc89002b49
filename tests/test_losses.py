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


_MIXED_LOSSES = {
    "mse_loss": lambda F_, x, t: F_.mse_loss(x, t),
    "mse_loss_none": lambda F_, x, t: F_.mse_loss(x, t, reduction="none"),
    "l1_loss": lambda F_, x, t: F_.l1_loss(x, t),
    "smooth_l1_loss": lambda F_, x, t: F_.smooth_l1_loss(x, t, reduction="none", beta=0.5),
    "huber_loss": lambda F_, x, t: F_.huber_loss(x, t, delta=0.5),
    "bce_with_logits": lambda F_, x, t: F_.binary_cross_entropy_with_logits(x, t),
    "bce_with_logits_w": lambda F_, x, t: F_.binary_cross_entropy_with_logits(
        x, t, reduction="none", pos_weight=x.detach() * 0 + 2),
    "binary_cross_entropy": lambda F_, x, t: F_.binary_cross_entropy(x, t),
    "kl_div": lambda F_, x, t: F_.kl_div(x, t, reduction="batchmean"),
    "kl_div_log_target": lambda F_, x, t: F_.kl_div(x, t, reduction="sum", log_target=True),
}


@pytest.mark.parametrize("name", sorted(_MIXED_LOSSES))
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("float64", "float32"),
                                    ("float32", "float16"), ("float32", "int64"),
                                    ("float64", "int32"), ("float32", "bool")])
def test_losses_promote_mixed_dtypes_as_pytorch(name, dtypes):
    """Found by an outside tester: the regression losses, binary_cross_entropy_with_logits and
    kl_div raised TypeError for a target of another dtype (a float64 numpy target with a float32
    model) where PyTorch computes. Now: PyTorch's result dtype, values and input-gradient dtype;
    refused where PyTorch refuses (a bool target in l1_loss, an integer or bool one in
    bce_with_logits and kl_div, any other dtype in binary_cross_entropy; huber_loss computes in
    the input's dtype as PyTorch's forward does -- its backward, which PyTorch refuses, works)."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    xin, tin = dtypes
    x = np.array([[0.2, 0.7, 0.4], [0.9, 0.1, 0.5]], xin)
    t = np.array([[0, 1, 1], [1, 0, 1]]).astype(tin)
    if tin == "float32" or tin == "float64" or tin == "float16":
        t = t * np.array([0.25, 0.5, 1.0], tin)
    fn = _MIXED_LOSSES[name]
    xt = torch.tensor(x, requires_grad=True)
    try:
        want = fn(TF, xt, torch.tensor(t))
        refused = False
    except RuntimeError:
        refused = True
    xg = Tensor(x, requires_grad=True)
    if refused and name != "huber_loss":
        with pytest.raises((TypeError, RuntimeError)):
            fn(F, xg, Tensor(t))
        return
    got = fn(F, xg, Tensor(t))
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    if not (name.startswith("bce_with_logits") and tin == "float16"):  # (PyTorch: NaN there)
        np.testing.assert_allclose(got.numpy().astype(np.float64),
                                   want.detach().numpy().astype(np.float64), rtol=2e-3)
    got.sum().backward()
    assert xg.grad.dtype == x.dtype
    try:
        g, = torch.autograd.grad(want.sum(), xt)
    except RuntimeError:  # (huber_loss's backward in PyTorch)
        return
    if not (name.startswith("bce_with_logits") and tin == "float16"):
        np.testing.assert_allclose(xg.grad.numpy(), g.numpy(), rtol=2e-3, atol=1e-6)


def test_cross_entropy_probability_target_of_another_dtype_as_pytorch():
    """Found by an outside tester: cross_entropy with a probability target of another floating
    dtype than the logits raised TypeError; PyTorch computes in the wider dtype (with weight and
    label_smoothing too); an integer target of the logits' shape is class indices there."""
    torch = pytest.importorskip("torch")
    import torch.nn.functional as TF
    logits = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    probs = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    for xd, td in (("float32", "float64"), ("float64", "float32"), ("float32", "float16")):
        for kw in ({}, {"label_smoothing": 0.1}, {"weight": [1.0, 2.0, 0.5]}):
            tkw = {k: torch.tensor(v, dtype=getattr(torch, xd)) if k == "weight" else v
                   for k, v in kw.items()}
            gkw = {k: Tensor(np.array(v, xd)) if k == "weight" else v for k, v in kw.items()}
            xt = torch.tensor(logits.astype(xd), requires_grad=True)
            want = TF.cross_entropy(xt, torch.tensor(probs.astype(td)), **tkw)
            xg = Tensor(logits.astype(xd), requires_grad=True)
            got = F.cross_entropy(xg, Tensor(probs.astype(td)), **gkw)
            assert str(got.dtype) == str(want.dtype).replace("torch.", "")
            np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)
            want.backward()
            got.backward()
            assert xg.grad.dtype == np.dtype(xd)
            np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-7)
