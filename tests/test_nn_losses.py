"""The losses of issue 15 against PyTorch (float64): values and the gradients of input and target
for every reduction and option, the loss modules' buffers in ``state_dict``, stability, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn

torch = pytest.importorskip("torch")
tnn = torch.nn

REDUCTIONS = ["mean", "sum", "none"]


def compare(make, x, target, *, target_grad=True, int_target=False, seed=0, rtol=1e-10):
    """``make(m)`` builds the loss module for ``m`` in (nn, torch.nn); compare value and
    gradients."""
    ours, theirs = make(nn), make(tnn)
    xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if int_target:
        to, tt = target, torch.tensor(target)
    else:
        to = Tensor(target, requires_grad=target_grad)
        tt = torch.tensor(target, requires_grad=target_grad)
    out, ref = ours(xo, to), theirs(xt, tt)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=1e-12,
                               err_msg="value")
    g = np.random.default_rng(seed).standard_normal(tuple(ref.shape))
    inputs_o = [xo] + ([to] if target_grad and not int_target else [])
    inputs_t = [xt] + ([tt] if target_grad and not int_target else [])
    grads_o = tg.grad(out, inputs_o, Tensor(g))
    grads_t = torch.autograd.grad(ref, inputs_t, torch.tensor(g))
    for i, (a, b) in enumerate(zip(grads_o, grads_t)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=1e-12,
                                   err_msg=f"gradient of input {i}")
    theirs_state = {k: v.numpy() for k, v in theirs.state_dict().items()}
    ours_state = {k: v.numpy() for k, v in ours.state_dict().items()}
    assert sorted(ours_state) == sorted(theirs_state)
    for k in ours_state:
        np.testing.assert_array_equal(ours_state[k], theirs_state[k])
    return out


RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 5))
Y = RNG.standard_normal((6, 5))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction):
    y_near = X + RNG.uniform(-2, 2, X.shape)  # both sides of huber's and smooth L1's kinks
    compare(lambda m: m.L1Loss(reduction=reduction), X, Y)
    compare(lambda m: m.MSELoss(reduction=reduction), X, Y)
    compare(lambda m: m.SmoothL1Loss(reduction=reduction, beta=0.7), X, y_near)
    compare(lambda m: m.SmoothL1Loss(reduction=reduction, beta=0.0), X, y_near)
    compare(lambda m: m.HuberLoss(reduction=reduction, delta=0.6), X, y_near)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_losses(reduction):
    p = RNG.uniform(0.01, 0.99, (4, 3))
    t = RNG.uniform(0, 1, (4, 3))
    w = Tensor(RNG.uniform(0.5, 2, 3))
    tw = torch.tensor(w.numpy())
    compare(lambda m: m.BCELoss(reduction=reduction), p, t)
    compare(lambda m: m.BCELoss(weight=w if m is nn else tw, reduction=reduction), p, t)
    logits = RNG.standard_normal((4, 3)) * 3
    pw = Tensor(RNG.uniform(0.5, 3, 3))
    tpw = torch.tensor(pw.numpy())
    compare(lambda m: m.BCEWithLogitsLoss(reduction=reduction), logits, t)
    compare(lambda m: m.BCEWithLogitsLoss(weight=w if m is nn else tw, reduction=reduction,
                                          pos_weight=pw if m is nn else tpw), logits, t)


def test_bce_saturates_like_pytorch_and_with_logits_is_stable():
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.3])
    out = compare(lambda m: m.BCELoss(reduction="none"), p, t, target_grad=False)
    np.testing.assert_allclose(out.numpy(), [0, 0, 100, 100, -0.3 * np.log(0.5) - 0.7 *
                                             np.log(0.5)])
    logits = np.array([100.0, -100.0, 100.0, -100.0, 1e4, -1e4, 0.0])
    target = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.5])
    out = compare(lambda m: m.BCEWithLogitsLoss(reduction="none"), logits, target)
    np.testing.assert_allclose(out.numpy(), [0, 0, 100, 100, 1e4, 1e4, np.log(2)], atol=1e-40)
    pw = Tensor(np.full(7, 3.0))
    compare(lambda m: m.BCEWithLogitsLoss(pos_weight=pw if m is nn else torch.tensor(
        pw.numpy())), logits, target)
    for dt in (np.float32, np.float16):  # no overflow to inf in low precision either
        v = nn.functional.binary_cross_entropy_with_logits(
            Tensor(np.array([100.0, -100.0], dt)), Tensor(np.array([0.0, 1.0], dt)),
            reduction="none")
        np.testing.assert_allclose(v.numpy(), [100, 100], rtol=1e-3)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_and_nll_options(reduction, smoothing):
    logits = RNG.standard_normal((7, 4))
    target = np.array([0, 3, -100, 1, 3, 2, -100])
    w = RNG.uniform(0.3, 2.0, 4)

    def ce(**kw):
        return lambda m: m.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing,
                                            **{k: (Tensor(v) if m is nn else torch.tensor(v))
                                               if k == "weight" else v for k, v in kw.items()})

    compare(ce(), logits, np.abs(target) % 4, int_target=True)
    compare(ce(weight=w), logits, np.abs(target) % 4, int_target=True)
    compare(ce(ignore_index=-100), logits, target, int_target=True)
    compare(ce(weight=w, ignore_index=-100), logits, target, int_target=True)
    compare(ce(weight=w, ignore_index=3), logits, np.abs(target) % 4, int_target=True)
    spatial = RNG.standard_normal((2, 4, 3, 2))
    compare(ce(weight=w, ignore_index=1), spatial, RNG.integers(0, 4, (2, 3, 2)),
            int_target=True)
    probs = RNG.dirichlet(np.ones(4), 7)
    compare(ce(), logits, probs)
    compare(ce(weight=w), logits, probs)
    compare(ce(), spatial, RNG.dirichlet(np.ones(4), (2, 3, 2)).transpose(0, 3, 1, 2).copy())
    if smoothing == 0.0:
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))

        def nll(**kw):
            return lambda m: m.NLLLoss(reduction=reduction, **{
                k: (Tensor(v) if m is nn else torch.tensor(v)) if k == "weight" else v
                for k, v in kw.items()})

        compare(nll(), logp, np.abs(target) % 4, int_target=True)
        compare(nll(weight=w, ignore_index=-100), logp, target, int_target=True)
        compare(nll(ignore_index=0), logp, np.abs(target) % 4, int_target=True)


def test_cross_entropy_with_every_sample_ignored_is_nan_with_zero_gradient():
    out = compare(lambda m: m.CrossEntropyLoss(), X, np.full(6, -100), int_target=True)
    assert np.isnan(out.item())
    compare(lambda m: m.NLLLoss(), X, np.full(6, -100), int_target=True)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    logq = np.log(RNG.dirichlet(np.ones(5), 4))
    p = RNG.dirichlet(np.ones(5), 4)
    target = np.log(p) if log_target else p
    compare(lambda m: m.KLDivLoss(reduction=reduction, log_target=log_target), logq, target)
    if not log_target:  # a zero probability: 0 log 0 = 0 (and PyTorch's NaN target gradient)
        p0 = p.copy()
        p0[0, 1] = 0.0
        compare(lambda m: m.KLDivLoss(reduction=reduction), logq, p0, target_grad=False)


def test_loss_errors_name_the_call():
    F = nn.functional
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(x * 2, x * 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(x * 0.5, x * 2)
    with pytest.raises(RuntimeError, match="weight cannot require grad"):
        F.cross_entropy(x, np.array([0, 1]), weight=Tensor(np.ones(3), requires_grad=True))
    with pytest.raises(ValueError, match=r"one value per class, shape \(3,\)"):
        F.cross_entropy(x, np.array([0, 1]), weight=Tensor(np.ones(4)))
    with pytest.raises(TypeError, match="class probabilities"):
        F.cross_entropy(x, Tensor(np.ones((2, 4))))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(x, np.array([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.kl_div(x, x, reduction="avg")
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        F.mse_loss(x, x, size_average=True)  # (mapped to reduction='mean', as PyTorch)
    with pytest.raises(ValueError, match="same shape"):
        F.huber_loss(x, Tensor(np.ones(4)))  # ((3,) broadcasts, with PyTorch's warning)
    with pytest.raises(ValueError, match="cannot be broadcast"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=Tensor(np.ones(4)))
    with pytest.raises(IndexError, match="target holds class 5"):
        F.nll_loss(x, np.array([0, 5]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("n, p", [(10_000, 1e-4), (1_000, 1e-4), (8, 0.3), (8, 0.0), (8, 1.0)])
def test_float16_bce_gradient_does_not_underflow(reduction, n, p):
    """float16: g / N * (x - y) underflowed in half (a mean over 10,000 probabilities of 1e-4
    gave gradients of 0, over 1,000 ones 19% off); PyTorch's kernel keeps the precision."""
    torch = pytest.importorskip("torch")
    x = np.full(n, p, np.float16)
    y = np.zeros(n, np.float16)
    y[::2] = 1
    ours, theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    loss = nn.functional.binary_cross_entropy(ours, Tensor(y), reduction=reduction)
    tloss = torch.nn.functional.binary_cross_entropy(theirs, torch.tensor(y), reduction=reduction)
    (loss.sum() if reduction == "none" else loss).backward()
    (tloss.sum() if reduction == "none" else tloss).backward()
    assert ours.grad.dtype == tg.float16
    np.testing.assert_allclose(ours.grad.numpy().astype(np.float64),  # (NaN at p = y = 0 or 1,
                               theirs.grad.numpy().astype(np.float64), rtol=2e-3)  # as PyTorch)


_N = 70_000  # samples (or classes): past float16's largest number, 65,504
_BIG_MEANS = {  # name: (call on (functional, lib, x), shape of x)
    "cross_entropy weighted": (lambda F, m, x: F.cross_entropy(
        x, m.tensor(np.arange(_N) % 3), weight=m.tensor(np.array([1.0, 2.0, 0.5], np.float16))),
        (_N, 3)),
    "cross_entropy ignore_index": (lambda F, m, x: F.cross_entropy(
        x, m.tensor(np.where(np.arange(_N) % 9 == 0, -100, np.arange(_N) % 3))), (_N, 3)),
    "cross_entropy smoothing": (lambda F, m, x: F.cross_entropy(
        x, m.tensor(np.arange(_N) % 3), label_smoothing=0.1), (_N, 3)),
    "cross_entropy smoothing over classes": (lambda F, m, x: F.cross_entropy(
        x, m.tensor(np.array([0, 5])), label_smoothing=0.1), (2, _N)),
    "cross_entropy smoothing over classes, none": (lambda F, m, x: F.cross_entropy(
        x, m.tensor(np.array([0, 5])), label_smoothing=0.1, reduction="none"), (2, _N)),
    "cross_entropy probabilities": (lambda F, m, x: F.cross_entropy(
        x, (-x.detach()).softmax(1)), (_N, 3)),
    "nll_loss": (lambda F, m, x: F.nll_loss(x.log_softmax(1), m.tensor(np.arange(_N) % 3)),
                 (_N, 3)),
    "nll_loss weighted": (lambda F, m, x: F.nll_loss(
        x.log_softmax(1), m.tensor(np.arange(_N) % 3),
        weight=m.tensor(np.array([1.0, 2.0, 0.5], np.float16))), (_N, 3)),
    "kl_div batchmean": (lambda F, m, x: F.kl_div(
        x.log_softmax(1), m.tensor(np.tile(np.array([[0.9, 0.1]], np.float16), (_N, 1))),
        reduction="batchmean"), (_N, 2)),
}


@pytest.mark.parametrize("name", list(_BIG_MEANS))
def test_float16_mean_losses_past_65504_add_up_in_float32(name):
    """A float16 mean over more than 65,504 samples (or a sum over that many classes) is added
    up in float32 and rounded once: the count, the summed weights, or the sum of the per-sample
    losses was inf in float16, and the loss 0 or inf with a zero gradient -- PyTorch 2.13 gives
    0 or inf there itself, so the reference is PyTorch in float32, rounded to float16."""
    call, shape = _BIG_MEANS[name]
    F, tF = nn.functional, torch.nn.functional
    a = np.random.default_rng(3).uniform(-4, 4, shape).astype(np.float16)
    x, tx = Tensor(a, requires_grad=True), torch.tensor(a.astype(np.float32), requires_grad=True)
    out, tout = call(F, tg, x), call(tF, _Float32Weights(torch), tx)
    assert out.dtype == tg.float16 and np.isfinite(out.numpy()).all()
    np.testing.assert_allclose(out.numpy().astype(np.float64),
                               tout.detach().half().numpy().astype(np.float64), rtol=2e-3)
    g = np.random.default_rng(4).uniform(0.5, 1.5, out.shape).astype(np.float16)
    out.backward(Tensor(g))
    tout.backward(torch.tensor(g.astype(np.float32)))
    assert x.grad.dtype == tg.float16 and np.abs(x.grad.numpy()).max() > 0
    np.testing.assert_allclose(x.grad.numpy().astype(np.float64),
                               tx.grad.numpy().astype(np.float64), rtol=2e-2, atol=2e-7)


class _Float32Weights:
    """``torch`` whose ``tensor`` makes float16 arrays float32 (for the float32 reference)."""

    def __init__(self, torch):
        self._torch = torch

    def tensor(self, a):
        a = np.asarray(a)
        return self._torch.tensor(a.astype(np.float32) if a.dtype == np.float16 else a)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_with_probabilities_over_an_empty_batch_is_nan_as_pytorch(smoothing):
    x = Tensor(np.zeros((0, 4), np.float32), requires_grad=True)
    loss = nn.functional.cross_entropy(x, Tensor(np.zeros((0, 4), np.float32)),
                                       label_smoothing=smoothing)
    expected = torch.nn.functional.cross_entropy(torch.zeros(0, 4), torch.zeros(0, 4),
                                                 label_smoothing=smoothing)
    assert np.isnan(loss.item()) and np.isnan(expected.item())
    loss.backward()
    assert x.grad.shape == (0, 4)


def test_kl_div_mean_warns_as_pytorch():
    x, t = Tensor(np.log(np.full((2, 3), 1 / 3))), Tensor(np.full((2, 3), 1 / 3))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        nn.functional.kl_div(x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.functional.kl_div(x, t, reduction="batchmean")



@pytest.mark.parametrize("name, kw", [("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
                                      ("huber_loss", {}), ("huber_loss", {"delta": 0.5})])
def test_smooth_l1_and_huber_derivatives_at_the_ends_and_special_values_as_pytorch(name, kw):
    """The second derivative at |d| = beta (delta) is 0, as PyTorch's (ours was 1/beta: the VJP
    clamped, and a clamp's gradient includes its ends); NaN gives a NaN first derivative."""
    vals = [-1.0, 1.0, 0.5, -0.5, 2.0, np.inf, -np.inf, np.nan, 0.0, 0.9999999]
    results = []
    for lib, grad_fn in ((tg, tg.grad), (torch, torch.autograd.grad)):
        x = lib.tensor(vals, dtype=lib.float64, requires_grad=True)
        loss = getattr(lib.nn.functional, name)(x, lib.zeros(len(vals), dtype=lib.float64),
                                                reduction="sum", **kw)
        (g,) = grad_fn(loss, x, create_graph=True)
        (gg,) = grad_fn(g.sum(), x)
        results.append((g.detach().numpy(), gg.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)
