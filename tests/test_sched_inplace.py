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
