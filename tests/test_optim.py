"""Optimizers and schedules: the update rules, state_dict round trips, and parity with PyTorch on a
whole LeNet-5 (float64, 1e-10)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.models import LeNet5
from tinygrad_cnn.nn import functional as F


def quadratic_steps(opt_cls, steps=3, **kw):
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = opt_cls([w], **kw)
    for _ in range(steps):
        opt.zero_grad()
        (w * w).sum().backward()  # gradient 2w
        opt.step()
    return w.numpy(), opt


def test_sgd_momentum_by_hand():
    w, _ = quadratic_steps(optim.SGD, steps=2, lr=0.1, momentum=0.9)
    # step 1: buf = g = 2w0, w1 = w0 - 0.1 * 2w0 = 0.8 w0
    # step 2: buf = 0.9 * 2w0 + 2 * 0.8 w0 = 3.4 w0, w2 = 0.8 w0 - 0.34 w0 = 0.46 w0
    np.testing.assert_allclose(w, 0.46 * np.array([1.0, -2.0]), rtol=1e-12)


def test_adam_first_step_is_lr_times_sign():
    w, _ = quadratic_steps(optim.Adam, steps=1, lr=0.01)
    np.testing.assert_allclose(w, [0.99, -1.99], rtol=1e-6)


def test_optimizer_step_bumps_versions_and_ignores_missing_grads():
    a = Tensor(np.ones(2), requires_grad=True)
    b = Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    y = (a * a).sum()  # saves a
    y.backward(retain_graph=True)
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [1, 1])  # no grad: untouched
    with pytest.raises(RuntimeError, match="in-place"):
        y.backward()  # a was updated after being saved


def test_state_dict_round_trip_continues_identically():
    _, opt = quadratic_steps(optim.Adam, steps=2, lr=0.05)
    w_ref, opt_ref = quadratic_steps(optim.Adam, steps=4, lr=0.05)
    state = opt.state_dict()
    w = opt.param_groups[0]["params"][0]
    w2 = Tensor(w.numpy(), requires_grad=True)
    fresh = optim.Adam([w2], lr=0.05)
    fresh.load_state_dict(state)
    for _ in range(2):
        fresh.zero_grad()
        (w2 * w2).sum().backward()
        fresh.step()
    np.testing.assert_allclose(w2.numpy(), w_ref, rtol=1e-12)


def _lrs(make_scheduler, steps=5):
    """The learning rate before each of ``steps`` scheduler steps, starting from lr 1.0."""
    opt = optim.SGD([Tensor(np.ones(1), requires_grad=True)], lr=1.0)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    return lrs


def test_schedulers():
    lrs = _lrs(lambda opt: optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5))
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]
    lrs = _lrs(lambda opt: optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.1))
    np.testing.assert_allclose(lrs, [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2
                                     for e in range(5)])


def test_bad_arguments():
    w = Tensor(np.ones(1), requires_grad=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="must be a Tensor"):
        optim.SGD([np.ones(1)], lr=0.1)


def test_frozen_parameters_are_accepted_and_left_alone_as_in_pytorch():
    """Fine-tuning: ``model[0].requires_grad_(False)`` then ``SGD(model.parameters())`` -- PyTorch
    accepts the frozen parameters and its steps skip them (no gradient); unfrozen later, they
    train. Same for every optimizer."""
    torch = pytest.importorskip("torch")
    from tinygrad_cnn import nn

    for kind in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam"):
        tg.manual_seed(0)
        ours = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)).double()
        theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).double()
        theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
        ours[0].requires_grad_(False)
        theirs[0].requires_grad_(False)
        extra = {"momentum": 0.9} if kind == "SGD" else {}
        o_opt = getattr(optim, kind)(ours.parameters(), lr=0.1, **extra)
        t_opt = getattr(torch.optim, kind)(theirs.parameters(), lr=0.1, **extra)
        x = np.random.default_rng(1).standard_normal((5, 3))
        for step in range(3):
            if step == 2:  # unfrozen: from now on it trains
                ours[0].requires_grad_(True)
                theirs[0].requires_grad_(True)
            for model, opt, lib in ((ours, o_opt, tg), (theirs, t_opt, torch)):
                opt.zero_grad()
                (model(lib.tensor(x)) ** 2).sum().backward()
                opt.step()
        for k, v in theirs.state_dict().items():  # (NAdam's mu_product is float32 in PyTorch)
            np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-7,
                                       err_msg=f"{kind}: {k}")


@pytest.mark.parametrize("kind", ["sgd_momentum", "sgd_nesterov_wd", "adam", "adamw"])
def test_lenet_step_matches_pytorch(kind):
    torch = pytest.importorskip("torch")
    tg.manual_seed(0)
    ours = LeNet5().double()
    theirs = _torch_lenet(torch)
    with torch.no_grad():
        for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert name == tname
            tp.copy_(torch.tensor(p.numpy()))
    make = {
        "sgd_momentum": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
                         lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
        "sgd_nesterov_wd": (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True,
                                                 weight_decay=1e-3),
                            lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True,
                                                       weight_decay=1e-3)),
        "adam": (lambda ps: optim.Adam(ps, lr=1e-3), lambda ps: torch.optim.Adam(ps, lr=1e-3)),
        "adamw": (lambda ps: optim.AdamW(ps, lr=1e-3),
                  lambda ps: torch.optim.AdamW(ps, lr=1e-3)),
    }[kind]
    opt, topt = make[0](list(ours.parameters())), make[1](theirs.parameters())
    rng = np.random.default_rng(0)
    for _ in range(2):  # two steps, so momentum and moment estimates are exercised
        x = rng.standard_normal((4, 1, 28, 28))
        y = rng.integers(0, 10, 4)
        opt.zero_grad()
        F.cross_entropy(ours(Tensor(x)), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        topt.step()
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-10,
                                   err_msg=name)


def _torch_lenet(torch):
    tnn, TF = torch.nn, torch.nn.functional

    class LeNet5(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(1, 6, 5, padding=2)
            self.conv2 = tnn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = tnn.Linear(400, 120), tnn.Linear(120, 84), \
                tnn.Linear(84, 10)

        def forward(self, x):
            x = TF.max_pool2d(self.conv1(x).relu(), 2)
            x = TF.max_pool2d(self.conv2(x).relu(), 2)
            x = x.flatten(1)
            return self.fc3(self.fc2(self.fc1(x).relu()).relu())

    return LeNet5().double()
