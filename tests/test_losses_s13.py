"""Loss functions at the edges outside tester t33 found, against PyTorch: the deprecated
``size_average``/``reduce`` and ``'elementwise_mean'`` mapped as PyTorch maps them (with its
warning), broadcastable targets of the regression losses and kl_div, PyTorch 2.13's ``weight=``
of mse/l1/huber, a BCE weight that would grow the loss refused, a non-int ignore_index refused."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
RNG = np.random.default_rng(0)
X, Y = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
CLASSES = np.array([0, 1, 2, 1])


@pytest.mark.parametrize("size_average, reduce", [(None, False), (False, None), (True, None),
                                                  (False, False), (None, True), (False, True)])
def test_legacy_size_average_and_reduce_map_as_pytorch(size_average, reduce):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, target in (("mse_loss", Y), ("l1_loss", Y), ("cross_entropy", CLASSES),
                             ("nll_loss", CLASSES), ("binary_cross_entropy_with_logits",
                                                     (Y > 0).astype(float))):
            ours = getattr(F, name)(tg.tensor(X), tg.tensor(target), size_average=size_average,
                                    reduce=reduce)
            theirs = getattr(TF, name)(torch.tensor(X), torch.tensor(target),
                                       size_average=size_average, reduce=reduce)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, err_msg=name)
        assert tg.nn.MSELoss(size_average=size_average, reduce=reduce).reduction == \
            torch.nn.MSELoss(size_average=size_average, reduce=reduce).reduction
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        F.mse_loss(tg.tensor(X), tg.tensor(Y), size_average=size_average, reduce=reduce)


def test_elementwise_mean_is_mean_with_a_warning():
    with pytest.warns(UserWarning, match="elementwise_mean"):
        ours = F.l1_loss(tg.tensor(X), tg.tensor(Y), reduction="elementwise_mean").item()
    assert ours == pytest.approx(TF.l1_loss(torch.tensor(X), torch.tensor(Y)).item(), rel=1e-12)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "kl_div"])
def test_a_broadcastable_target_broadcasts_as_pytorch(name):
    target = np.abs(Y[:1]) if name == "kl_div" else Y[:1]
    x = tg.tensor(X, requires_grad=True)
    xt = torch.tensor(X, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = getattr(F, name)(x, tg.tensor(target), reduction="sum")
    with warnings.catch_warnings(record=True) as caught_t:
        warnings.simplefilter("always")
        theirs = getattr(TF, name)(xt, torch.tensor(target), reduction="sum")
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    assert any("different to the input size" in str(w.message) for w in caught) == \
        any("different to the input size" in str(w.message) for w in caught_t)
    ours.backward()
    theirs.backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="must have the same shape"):
        getattr(F, name)(tg.tensor(X), tg.tensor(Y[:, :2]))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_elementwise_weight_as_pytorch_2_13(name, reduction):
    w = RNG.random((4, 3))
    x, wt = tg.tensor(X, requires_grad=True), tg.tensor(w, requires_grad=True)
    xt, wtt = torch.tensor(X, requires_grad=True), torch.tensor(w, requires_grad=True)
    ours = getattr(F, name)(x, tg.tensor(Y), reduction=reduction, weight=wt)
    theirs = getattr(TF, name)(xt, torch.tensor(Y), reduction=reduction, weight=wtt)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(wt.grad.numpy(), wtt.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="weights and input must have the same size"):
        getattr(F, name)(tg.tensor(X), tg.tensor(Y), weight=tg.tensor(w[0]))


@pytest.mark.parametrize("what", ["weight", "pos_weight"])
def test_a_bce_weight_may_not_grow_the_loss(what):
    big = tg.tensor(RNG.random((2, 4, 3)))
    with pytest.raises(ValueError, match=f"{what} of shape \\(2, 4, 3\\) cannot be broadcast"):
        F.binary_cross_entropy_with_logits(tg.tensor(X), tg.tensor((Y > 0) * 1.0), **{what: big})
    with pytest.raises(RuntimeError):
        TF.binary_cross_entropy_with_logits(torch.tensor(X), torch.tensor((Y > 0) * 1.0),
                                            **{what: torch.tensor(big.numpy())})
    small = RNG.random(3)
    ours = F.binary_cross_entropy_with_logits(tg.tensor(X), tg.tensor((Y > 0) * 1.0),
                                              **{what: tg.tensor(small)})
    theirs = TF.binary_cross_entropy_with_logits(torch.tensor(X), torch.tensor((Y > 0) * 1.0),
                                                 **{what: torch.tensor(small)})
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)


@pytest.mark.parametrize("bad", [1.5, 1.0, True])
def test_ignore_index_must_be_an_int(bad):
    for fn in (F.cross_entropy, F.nll_loss):
        with pytest.raises(TypeError, match="ignore_index must be an int"):
            fn(tg.tensor(X), tg.tensor(CLASSES), ignore_index=bad)
    with pytest.raises(TypeError):
        TF.cross_entropy(torch.tensor(X), torch.tensor(CLASSES), ignore_index=bad)
    ours = F.cross_entropy(tg.tensor(X), tg.tensor(CLASSES), ignore_index=np.int64(1)).item()
    assert ours == pytest.approx(TF.cross_entropy(torch.tensor(X), torch.tensor(CLASSES),
                                                  ignore_index=1).item(), rel=1e-12)
