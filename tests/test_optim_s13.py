"""Optimizer and scheduler details outside tester t34 found, against PyTorch: ``optimizer.state``
is a defaultdict (a custom step may read ``state[p]`` first), a Tensor kept in the state survives
``state_dict()``, a float milestone of MultiStepLR is kept as given."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _custom(L):
    class Momentum(L.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def step(self, closure=None):
            with (tg if L is tg else torch).no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        state = self.state[p]  # (PyTorch's docs' pattern: a defaultdict)
                        buf = state.get("buf")
                        buf = p.grad.clone() if buf is None else buf * 0.9 + p.grad
                        state["buf"] = buf
                        p.sub_(group["lr"] * buf)

    return Momentum


def test_a_custom_optimizer_reading_state_first_and_keeping_tensors():
    results = []
    for L in (tg, torch):
        p = L.nn.Parameter(L.tensor([1.0, -2.0], dtype=L.float64))
        opt = _custom(L)([p])
        for g in ([0.5, 1.0], [0.25, -1.0], [1.0, 0.0]):
            p.grad = L.tensor(g, dtype=L.float64)
            opt.step()
        sd = opt.state_dict()
        results.append((p.tolist(), sd["state"][0]["buf"].tolist()))
        if L is tg:  # (ours are copies, as our array states are; PyTorch's share)
            assert sd["state"][0]["buf"] is not opt.state[p]["buf"]
    np.testing.assert_allclose(np.array(results[0]), np.array(results[1]), rtol=1e-12)
    assert isinstance(tg.optim.SGD([tg.nn.Parameter(tg.ones(1))], lr=0.1).state[object()], dict)


def test_asgd_with_a_tensor_lr_gives_a_state_dict():
    p = tg.nn.Parameter(tg.ones(2))
    opt = tg.optim.ASGD([p], lr=tg.tensor(0.01))
    p.grad = tg.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert 0 in sd["state"]
    opt.load_state_dict(sd)


@pytest.mark.parametrize("milestones", [[2.5], [2.0, 4.0], [np.int64(3)]])
def test_multistep_milestones_as_pytorch(milestones):
    lrs = []
    for L in (tg, torch):
        opt = L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=1.0)
        sched = L.optim.lr_scheduler.MultiStepLR(opt, milestones, gamma=0.5)
        seen = []
        for _ in range(6):
            opt.step()
            sched.step()
            seen.append(sched.get_last_lr()[0])
        lrs.append(seen)
    assert lrs[0] == lrs[1]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_a_group_option_of_none_is_named(name):
    p = tg.nn.Parameter(tg.ones(2))
    with pytest.raises(TypeError, match=f"{name}: option 'lr' of parameter group 0 must be a "
                                        "number"):
        getattr(tg.optim, name)([{"params": [p], "lr": None}], lr=0.1)
