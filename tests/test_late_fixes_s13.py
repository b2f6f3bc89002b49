"""What outside tester t35 found in this session's later changes, against PyTorch: kl_div's
'batchmean' with the legacy arguments and with a broadcast target divides by the input's batch,
a 0-d target does not promote a dimensioned input, sub checks -alpha's range, a custom optimizer
gets Tensors back from load_state_dict, instance_norm checks its arguments as batch_norm does and
takes running statistics of another dtype when it uses them, numpy arrays as parameters are
named as such."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional
sys.path.insert(0, str(Path(__file__).parent))
from test_optim_s13 import _custom  # noqa: E402

RNG = np.random.default_rng(0)
LOGP = np.log(RNG.dirichlet(np.ones(5), 4))
P = RNG.dirichlet(np.ones(5), 4)


@pytest.mark.parametrize("kw", [dict(size_average=False), dict(reduce=True), dict(reduce=False),
                                dict()])
def test_kl_div_batchmean_with_legacy_arguments(kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = F.kl_div(tg.tensor(LOGP), tg.tensor(P), reduction="batchmean", **kw).numpy()
        theirs = TF.kl_div(torch.tensor(LOGP), torch.tensor(P), reduction="batchmean",
                           **kw).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_kl_div_batchmean_of_a_broadcast_target_divides_by_the_input_batch():
    ours = F.kl_div(tg.tensor(LOGP[:1]), tg.tensor(P), reduction="batchmean").item()
    theirs = TF.kl_div(torch.tensor(LOGP[:1]), torch.tensor(P), reduction="batchmean").item()
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_a_0d_target_does_not_promote_the_input():
    x = LOGP.astype(np.float32)
    ours = F.kl_div(tg.tensor(x), tg.tensor(0.2), reduction="sum")
    theirs = TF.kl_div(torch.tensor(x), torch.tensor(0.2, dtype=torch.float64), reduction="sum")
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32


@pytest.mark.parametrize("alpha", [127, 128, -127, -128])
def test_sub_checks_the_range_of_minus_alpha(alpha):
    results = []
    for L in (tg, torch):
        try:
            results.append(L.sub(L.tensor([1], dtype=L.int8), L.tensor([1], dtype=L.int8),
                                 alpha=alpha).tolist())
        except RuntimeError:
            results.append("error")
    assert results[0] == results[1]


def test_a_custom_optimizer_resumes_with_tensors():
    out = []
    for L in (tg, torch):
        p = L.nn.Parameter(L.tensor([1.0, -2.0], dtype=L.float64))
        opt = _custom(L)([p])
        p.grad = L.tensor([0.5, 1.0], dtype=L.float64)
        opt.step()
        again = _custom(L)([p])
        again.load_state_dict(opt.state_dict())
        assert isinstance(again.state[p]["buf"], tg.Tensor if L is tg else torch.Tensor)
        p.grad = L.tensor([0.5, 1.0], dtype=L.float64)
        again.step()
        out.append(p.tolist())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)


def test_instance_norm_arguments_as_batch_norm():
    x = tg.randn(4, 2, 5)
    with pytest.raises(TypeError, match="instance_norm: argument 'eps' must be a float"):
        F.instance_norm(x, eps="1")
    with pytest.raises(TypeError, match="instance_norm: argument 'momentum' must be a float"):
        F.instance_norm(x, momentum=None)
    x64 = np.random.default_rng(1).standard_normal((4, 2, 5))
    ours = F.instance_norm(tg.tensor(x64), tg.zeros(2), tg.ones(2), use_input_stats=False)
    theirs = TF.instance_norm(torch.tensor(x64), torch.zeros(2), torch.ones(2),
                              use_input_stats=False)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda x, a: F.batch_norm(x, a, a, training=True),
    lambda x, a: F.layer_norm(x, (5,), np.ones(5)),
    lambda x, a: F.group_norm(x, 1, a),
    lambda x, a: F.instance_norm(x, weight=a),
    lambda x, a: F.rms_norm(x, (5,), np.ones(5)),
    lambda x, a: F.conv1d(x, tg.randn(3, 2, 2), np.zeros(3)),
    lambda x, a: F.mse_loss(x, x, weight=np.ones((4, 2, 5))),
])
def test_a_numpy_parameter_is_named_as_such(call):
    with pytest.raises(TypeError, match="must be a Tensor, got numpy.ndarray"):
        call(tg.randn(4, 2, 5), np.ones(2, np.float32))
