"""Chainable learning-rate schedules and ``inplace=True`` activations against PyTorch.

Schedules: every schedule alone and every ordered pair on one optimizer, a manual
``group["lr"] *= 10`` between steps, and a ``state_dict`` round trip mid-run; each step's
``get_last_lr()`` and group learning rates equal PyTorch's (float64, rtol 1e-13).
In-place activations: the input changes and is returned, gradients through the in-place form
equal PyTorch's, and a leaf that requires grad is refused as PyTorch refuses it."""

from __future__ import annotations

import copy
import itertools
import warnings

import numpy as np
import pytest

from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.optim import lr_scheduler as sched

torch = pytest.importorskip("torch")

STEPS = 12
METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.94, 0.96, 0.5, 0.6, 0.6, 0.6, 0.6]

# One schedule on an optimizer: lib is tinygrad_cnn's lr_scheduler module or PyTorch's.
ONE = {
    "step": lambda lib, opt: [lib.StepLR(opt, 3, gamma=0.1)],
    "multistep": lambda lib, opt: [lib.MultiStepLR(opt, [2, 5, 5, 9], gamma=0.3)],
    "exponential": lambda lib, opt: [lib.ExponentialLR(opt, gamma=0.8)],
    "cosine": lambda lib, opt: [lib.CosineAnnealingLR(opt, T_max=4, eta_min=0.001)],
    "lambda": lambda lib, opt: [lib.LambdaLR(opt, lambda e: 0.9**e + 0.01 * e)],
    "linear": lambda lib, opt: [lib.LinearLR(opt, start_factor=0.5, total_iters=2)],
    "onecycle": lambda lib, opt: [lib.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=13)],
    "plateau": lambda lib, opt: [lib.ReduceLROnPlateau(opt, patience=1, factor=0.5)],
}
COMPOSITE = {
    "sequential": lambda lib, opt: [lib.SequentialLR(
        opt, [lib.LinearLR(opt, 0.1, total_iters=3), lib.CosineAnnealingLR(opt, T_max=3),
              lib.StepLR(opt, 2, gamma=0.5)], milestones=[3, 7])],
    "chained": lambda lib, opt: [lib.ChainedScheduler(
        [lib.StepLR(opt, 2, gamma=0.5), lib.CosineAnnealingLR(opt, T_max=5, eta_min=0.002),
         lib.ExponentialLR(opt, 0.9)])],
}


def _pair(a, b):
    return lambda lib, opt: ONE[a](lib, opt) + ONE[b](lib, opt)


CASES = {**ONE, **COMPOSITE,
         **{f"{a}+{b}": _pair(a, b) for a, b in itertools.product(ONE, repeat=2)
            if "onecycle" not in (a, b) or a != b}}


def _build(lib, make):
    if lib is sched:
        params = [Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)]
        opt = optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}], lr=0.1,
                        momentum=0.9)
    else:
        params = [torch.ones(3, dtype=torch.float64, requires_grad=True),
                  torch.ones(2, dtype=torch.float64, requires_grad=True)]
        opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.05}],
                              lr=0.1, momentum=0.9)
    return opt, make(lib, opt)


def _trajectory(lib, make, mode):
    """Each step's ``get_last_lr()`` of the last schedule and the groups' lrs."""
    opt, schedules = _build(lib, make)
    rows = [[s.get_last_lr() for s in schedules] + [[g["lr"] for g in opt.param_groups]]]
    for i in range(STEPS):
        if mode == "bump" and i in (3, 8):
            opt.param_groups[0]["lr"] *= 10
        if mode == "resume" and i == 6:
            opt_state = copy.deepcopy(opt.state_dict())
            states = [copy.deepcopy(s.state_dict()) for s in schedules]
            opt, schedules = _build(lib, make)
            opt.load_state_dict(opt_state)
            for s, st in zip(schedules, states):
                s.load_state_dict(st)
        opt.step()
        for s in schedules:
            if isinstance(s, lib.ReduceLROnPlateau):
                s.step(METRICS[i])
            else:
                s.step()
        rows.append([s.get_last_lr() for s in schedules]
                    + [[g["lr"] for g in opt.param_groups]])
    return rows


@pytest.mark.parametrize("mode", ["plain", "bump", "resume"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_schedules_match_pytorch(case, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _trajectory(torch.optim.lr_scheduler, CASES[case], mode)
    ours = _trajectory(sched, CASES[case], mode)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float), rtol=1e-13,
                                   atol=0, err_msg=f"{case} ({mode}) after step {step}")


def test_linear_then_step_compose_as_pytorch():
    w = Tensor(np.ones(1), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    s1, s2 = sched.LinearLR(opt, start_factor=0.5, total_iters=2), sched.StepLR(opt, 3, 0.1)
    lrs = []
    for _ in range(5):
        opt.step()
        s1.step()
        s2.step()
        lrs.append(s2.get_last_lr()[0])
    tw = torch.ones(1, requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.1)
    t1 = torch.optim.lr_scheduler.LinearLR(topt, start_factor=0.5, total_iters=2)
    t2 = torch.optim.lr_scheduler.StepLR(topt, 3, 0.1)
    expected = []
    for _ in range(5):
        topt.step()
        t1.step()
        t2.step()
        expected.append(t2.get_last_lr()[0])
    np.testing.assert_allclose(lrs, expected, rtol=1e-14)
    np.testing.assert_allclose(lrs, [0.075, 0.1, 0.01, 0.01, 0.01], rtol=1e-12)


def test_explicit_epoch_uses_closed_form():
    """``step(epoch)`` (deprecated in PyTorch) jumps by the closed form for StepLR and cosine."""
    for make in (lambda lib, o: lib.StepLR(o, 3, 0.5),
                 lambda lib, o: lib.CosineAnnealingLR(o, 5, 0.01)):
        ours, theirs = [], []
        for lib, out in ((sched, ours), (torch.optim.lr_scheduler, theirs)):
            opt, s = _build(lib, lambda lib, o: make(lib, o))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for e in (4, 9, 2, 7):
                    opt.step()
                    s.step(e)
                    out.append(s.get_last_lr())
        np.testing.assert_allclose(ours, theirs, rtol=1e-13)


def test_chained_scheduler_errors():
    w = Tensor(np.ones(1), requires_grad=True)
    opt, other = optim.SGD([w], lr=0.1), optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="at least one"):
        sched.ChainedScheduler([])
    with pytest.raises(ValueError, match="another optimizer"):
        sched.ChainedScheduler([sched.StepLR(opt, 2), sched.StepLR(other, 2)])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sched.ChainedScheduler([sched.StepLR(opt, 2), sched.ReduceLROnPlateau(opt)])


# ------------------------------------------------------------------------ inplace activations
import tinygrad_cnn as tg  # noqa: E402
import tinygrad_cnn.nn.functional as F  # noqa: E402
from tinygrad_cnn import nn  # noqa: E402

TF = torch.nn.functional
VALUES = np.array([-7.0, -3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 3.0, 6.0, 7.5])
ACTIVATIONS = {  # name: (positional arguments before inplace)
    "relu": (), "leaky_relu": (0.2,), "elu": (0.7,), "selu": (), "celu": (1.3,),
    "hardtanh": (-0.5, 3.0), "relu6": (), "silu": (), "hardswish": (), "hardsigmoid": (),
    "mish": (),
}


def _both(values, requires_grad=True):
    a = Tensor(values.copy(), requires_grad=requires_grad)
    ta = torch.tensor(values.copy(), requires_grad=requires_grad)
    return a, ta


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_inplace_activation_matches_pytorch(name):
    args = ACTIVATIONS[name]
    w = np.linspace(-1.0, 2.0, VALUES.size)
    a, ta = _both(VALUES)
    y, ty = a * 1.0, ta * 1.0
    out = getattr(F, name)(y, *args, True)  # inplace positional, as PyTorch's signature
    tout = getattr(TF, name)(ty, *args, True)
    assert out is y and tout is ty
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-15, atol=0)
    (out * Tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    # PyTorch's CELU and Hardsigmoid backwards use 1 / alpha and 1 / 6 rounded to float32, even
    # in float64 and out of place too (CELU's gradient at 0 is 1.0000000367 for alpha=1.3); ours
    # are exact. In-place ELU's backward works from the result: a rounding apart.
    rtol = 1e-7 if name in ("celu", "hardsigmoid") else 1e-13
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=rtol, atol=1e-300)
    # the result of the out-of-place form is the same, and that form leaves its input alone
    x = Tensor(VALUES.copy())
    np.testing.assert_array_equal(getattr(F, name)(x, *args).numpy(), y.numpy())
    np.testing.assert_array_equal(x.numpy(), VALUES)
    # outside a graph: written into the input
    x, tx = _both(VALUES, requires_grad=False)
    assert getattr(F, name)(x, *args, inplace=True) is x
    getattr(TF, name)(tx, *args, inplace=True)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_inplace_activation_refuses_a_leaf_that_requires_grad(name):
    a, ta = _both(VALUES)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(TF, name)(ta, *ACTIVATIONS[name], inplace=True)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(F, name)(a, *ACTIVATIONS[name], inplace=True)
    np.testing.assert_array_equal(a.numpy(), VALUES)
    with tg.no_grad():  # allowed outside the graph, as in PyTorch
        assert getattr(F, name)(a, *ACTIVATIONS[name], inplace=True) is a
    with torch.no_grad():
        getattr(TF, name)(ta, *ACTIVATIONS[name], inplace=True)
    np.testing.assert_allclose(a.numpy(), ta.detach().numpy(), rtol=1e-15, atol=0)


def test_inplace_relu_on_a_view_and_after_a_saving_op():
    a, ta = _both(VALUES)
    y, ty = a * 2.0, ta * 2.0
    F.relu(y[2:7], inplace=True)
    TF.relu(ty[2:7], inplace=True)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-15)
    # sigmoid saves its output; overwriting it makes the backward fail, in both
    a, ta = _both(VALUES)
    y, ty = a.sigmoid(), ta.sigmoid()
    F.relu(y, inplace=True)
    TF.relu(ty, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_inplace_relu_on_ints():
    x, tx = Tensor(np.array([-2, 0, 3])), torch.tensor([-2, 0, 3])
    assert F.relu(x, inplace=True) is x
    TF.relu(tx, inplace=True)
    np.testing.assert_array_equal(x.numpy(), tx.numpy())
    with pytest.raises(RuntimeError, match="not implemented"):
        TF.elu(torch.tensor([-2, 0, 3]), inplace=True)
    x = Tensor(np.array([-2, 0, 3]))
    with pytest.raises(TypeError, match="elu: the input must be a floating tensor"):
        F.elu(x, inplace=True)
    np.testing.assert_array_equal(x.numpy(), [-2, 0, 3])


LAYERS = [lambda m: m.ReLU(inplace=True), lambda m: m.LeakyReLU(0.2, inplace=True),
          lambda m: m.ELU(0.5, inplace=True), lambda m: m.CELU(inplace=True),  # alpha=1: exact
          lambda m: m.SELU(inplace=True), lambda m: m.SiLU(inplace=True),
          lambda m: m.Mish(inplace=True), lambda m: m.Hardswish(inplace=True),
          lambda m: m.Hardsigmoid(inplace=True), lambda m: m.Hardtanh(-2.0, 0.5, inplace=True),
          lambda m: m.ReLU6(inplace=True), lambda m: m.ReLU6(), lambda m: m.ReLU(),
          lambda m: m.ELU(), lambda m: m.Dropout(0.3, inplace=True), lambda m: m.Dropout2d()]


@pytest.mark.parametrize("i", range(len(LAYERS)))
def test_inplace_layers_match_pytorch(i):
    ours, theirs = LAYERS[i](nn), LAYERS[i](torch.nn)
    assert repr(ours) == repr(theirs)
    assert ours.inplace == theirs.inplace
    if "Dropout" in repr(ours):
        ours.eval()
        theirs.eval()
    a, ta = _both(VALUES.reshape(1, 2, 5, 1))
    y, ty = a * 1.0, ta * 1.0
    out, tout = ours(y), theirs(ty)
    assert (out is y) == (tout is ty)
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-15, atol=0)
    out.sum().backward()
    tout.sum().backward()
    rtol = 1e-7 if "Hardsigmoid" in repr(ours) else 1e-13  # PyTorch's 1/6 in float32, above
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("fn", ["dropout", "dropout2d"])
def test_inplace_dropout(fn):
    values = np.arange(1.0, 49.0).reshape(2, 3, 4, 2)
    w = np.linspace(-1.0, 2.0, values.size).reshape(values.shape)
    results = []
    for inplace in (False, True):
        tg.manual_seed(3)
        a = Tensor(values.copy(), requires_grad=True)
        y = a * 1.0
        out = getattr(F, fn)(y, 0.4, True, inplace)  # training, inplace positional
        assert (out is y) == inplace
        (out * Tensor(w)).sum().backward()
        results.append((out.numpy().copy(), a.grad.numpy().copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    kept = results[1][0] != 0
    assert 0 < kept.sum() < kept.size
    np.testing.assert_allclose(results[1][0][kept], values[kept] / 0.6, rtol=1e-15)
    # p=1 zeroes in place; a leaf that requires grad is refused while training, as in PyTorch
    x = Tensor(values.copy())
    assert getattr(F, fn)(x, 1.0, True, True) is x and not x.numpy().any()
    a, ta = _both(values)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(TF, fn)(ta, 0.4, True, True)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(F, fn)(a, 0.4, True, True)
    # in eval (or p=0) the input itself comes back, leaf or not, in both
    assert getattr(F, fn)(a, 0.4, False, True) is a
    assert getattr(TF, fn)(ta, 0.4, False, True) is ta
    assert getattr(F, fn)(a, 0.0, True, True) is a


def test_leaky_relu_and_dropout_take_positional_inplace():
    x, tx = _both(VALUES, requires_grad=False)
    assert F.leaky_relu(x, 0.3, True) is x
    TF.leaky_relu(tx, 0.3, True)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-15)
    y = Tensor(VALUES.copy())
    assert F.leaky_relu(y, 0.3, False) is not y
    np.testing.assert_array_equal(y.numpy(), VALUES)
