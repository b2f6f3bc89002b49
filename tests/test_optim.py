"""Optimizers and schedules: the update rules, state_dict round trips, and parity with PyTorch on a
whole LeNet-5 (float64, 1e-10)."""

from __future__ import annotations

import importlib
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


# ---- named parameters (PyTorch >= 2.6), bare tensors, hooks, empty state -----------------------

def _pair(torch):
    """A Linear layer of ours and PyTorch's with the same weights."""
    ours = tg.nn.Linear(2, 1)
    theirs = torch.nn.Linear(2, 1)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.numpy().copy()))
        theirs.bias.copy_(torch.from_numpy(ours.bias.numpy().copy()))
    return ours, theirs


def _groups_without_options(state_dict):
    return [{k: v for k, v in g.items() if k in ("params", "param_names")}
            for g in state_dict["param_groups"]]


def test_optimizers_take_named_parameters_as_pytorch():
    """Adam(m.named_parameters()) (PyTorch >= 2.6): the group gets ``param_names``, which
    state_dict saves; dict groups of named parameters too; load_state_dict round trips."""
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch)
    opt = optim.Adam(ours.named_parameters(), lr=0.1)
    topt = torch.optim.Adam(theirs.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == topt.param_groups[0]["param_names"] \
        == ["weight", "bias"]
    assert opt.param_groups[0]["params"] == [ours.weight, ours.bias]
    assert _groups_without_options(opt.state_dict()) == \
        _groups_without_options(topt.state_dict())
    x = np.array([[1.0, 2.0], [-3.0, 0.5]], np.float32)
    for _ in range(2):
        opt.zero_grad()
        topt.zero_grad()
        ours(Tensor(x)).sum().backward()
        theirs(torch.from_numpy(x)).sum().backward()
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), rtol=1e-6)
    # round trip, and PyTorch's state dict into ours
    for saved in (opt.state_dict(), topt.state_dict()):
        other = optim.Adam(tg.nn.Linear(2, 1).named_parameters(), lr=0.5)
        other.load_state_dict(saved)
        assert other.param_groups[0]["param_names"] == ["weight", "bias"]
        assert other.param_groups[0]["lr"] == 0.1
        assert sorted(other.state_dict()["state"]) == [0, 1]
    # dict groups of named parameters, each with its own options
    groups = lambda m: [{"params": [("w", m.weight)]},  # noqa: E731
                        {"params": [("b", m.bias)], "lr": 0.5}]
    opt = optim.SGD(groups(ours), lr=0.1)
    topt = torch.optim.SGD(groups(theirs), lr=0.1)
    assert _groups_without_options(opt.state_dict()) == \
        _groups_without_options(topt.state_dict()) == \
        [{"params": [0], "param_names": ["w"]}, {"params": [1], "param_names": ["b"]}]
    # names saved replace the groups'; a dict without names leaves them (PyTorch's rule)
    plain = optim.SGD(ours.parameters(), lr=0.2)
    tplain = torch.optim.SGD(theirs.parameters(), lr=0.2)
    plain.load_state_dict(optim.SGD(ours.named_parameters(), lr=0.1).state_dict())
    tplain.load_state_dict(torch.optim.SGD(theirs.named_parameters(), lr=0.1).state_dict())
    assert plain.param_groups[0]["param_names"] == tplain.param_groups[0]["param_names"]
    named = optim.SGD(ours.named_parameters(), lr=0.1)
    named.load_state_dict(optim.SGD(ours.parameters(), lr=0.3).state_dict())
    assert named.param_groups[0]["param_names"] == ["weight", "bias"]


def test_named_and_unnamed_parameters_do_not_mix_as_in_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch)
    cases = [
        (lambda m, o: o.Adam([("w", m.weight), m.bias]), "Some param names are missing"),
        (lambda m, o: o.Adam([{"params": [("w", m.weight)]}, {"params": [m.bias]}]),
         "cannot add param group without names"),
        (lambda m, o: o.Adam([{"params": [m.weight]}, {"params": [("b", m.bias)]}]),
         "cannot add param group with names"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError, match=message):
            make(theirs, torch.optim)
        with pytest.raises(ValueError, match=message):
            make(ours, optim)
    opt = optim.SGD(ours.named_parameters(), lr=0.1)
    with pytest.raises(ValueError, match="cannot add param group without names"):
        opt.add_param_group({"params": [Tensor(np.ones(1), requires_grad=True)]})
    opt.add_param_group({"params": [("extra", Tensor(np.ones(1), requires_grad=True))]})
    assert opt.param_groups[1]["param_names"] == ["extra"]
    with pytest.raises(TypeError, match="can only optimize Tensors|must be a Tensor"):
        torch.optim.SGD([(theirs.weight, "w")], lr=0.1)
    with pytest.raises(TypeError, match="must be a Tensor"):
        optim.SGD([(ours.weight, "w")], lr=0.1)


def test_a_bare_tensor_as_params_is_pytorchs_type_error():
    torch = pytest.importorskip("torch")
    message = ("params argument given to the optimizer should be an iterable of Tensors or "
               "dicts, but got")
    with pytest.raises(TypeError, match=message):
        torch.optim.SGD(torch.ones(2, requires_grad=True), lr=0.1)
    for cls in (optim.SGD, optim.Adam, optim.LBFGS):
        with pytest.raises(TypeError, match=message):
            cls(Tensor(np.ones(2), requires_grad=True))
    # (a group's "params" may still be one tensor, as in PyTorch)
    w = Tensor(np.ones(2), requires_grad=True)
    assert optim.SGD([{"params": w}], lr=0.1).param_groups[0]["params"] == [w]


@pytest.mark.parametrize("name, kw", [
    ("SGD", {"lr": 0.1}), ("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {}), ("AdamW", {}),
    ("RMSprop", {}), ("Adagrad", {}), ("Adamax", {}), ("NAdam", {}), ("RAdam", {}),
    ("Adadelta", {}), ("Rprop", {}), ("ASGD", {}),
], ids=lambda v: v if isinstance(v, str) else "-".join(map(str, v.values())))
def test_state_entries_are_pytorchs(name, kw):
    """The parameters that have a state entry, and its names, before and after a step in which
    one parameter has no gradient: SGD without momentum keeps none (PyTorch's state is {}, ours
    had an empty dict per parameter); Adagrad makes every parameter's in its constructor."""
    torch = pytest.importorskip("torch")
    ours, theirs = _pair(torch)
    opt = getattr(optim, name)(ours.parameters(), **kw)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kw)

    def entries(o):
        return {k: sorted(v) for k, v in o.state_dict()["state"].items()}

    assert entries(opt) == entries(topt)
    ours.weight.grad = Tensor(np.ones((1, 2), np.float32))
    theirs.weight.grad = torch.ones(1, 2)
    opt.step()
    topt.step()
    assert entries(opt) == entries(topt)


def test_step_hooks_as_pytorch():
    """register_step_pre_hook / register_step_post_hook: hook(optimizer, args, kwargs), args
    starting with the optimizer; a pre hook may return new (args, kwargs); global hooks
    (optim.optimizer.register_optimizer_step_pre_hook) run around the optimizer's own; each
    returns a removable handle."""
    torch = pytest.importorskip("torch")
    theirs_module = importlib.import_module("torch.optim.optimizer")
    logs: dict[str, list] = {"ours": [], "theirs": []}
    for side, lib, module in (("ours", optim, optim.optimizer),
                              ("theirs", torch.optim, theirs_module)):
        log = logs[side]
        w = (Tensor(np.ones(2), requires_grad=True) if side == "ours"
             else torch.ones(2, dtype=torch.float64, requires_grad=True))
        opt = lib.SGD([w], lr=0.5)
        handles = [
            module.register_optimizer_step_pre_hook(
                lambda o, a, k, log=log: log.append(("global pre", a[0] is o, sorted(k)))),
            module.register_optimizer_step_post_hook(
                lambda o, a, k, log=log: log.append(("global post", len(a), sorted(k)))),
        ]
        try:
            pre = opt.register_step_pre_hook(
                lambda o, a, k, log=log: log.append(("pre", len(a), sorted(k))))
            opt.register_step_post_hook(lambda o, a, k, log=log: log.append(("post", sorted(k))))
            w.grad = w.detach() * 0 + 1
            opt.step()
            # a pre hook's (args, kwargs) replace the step's: here a closure
            swap = opt.register_step_pre_hook(
                lambda o, a, k, log=log: (a, {"closure": lambda: log.append("closure") or 1.0}))
            assert opt.step() == 1.0
            swap.remove()
            pre.remove()
            pre.remove()  # (twice: nothing)
            opt.step(closure=None)
            bad = opt.register_step_pre_hook(lambda o, a, k: 5)
            with pytest.raises(RuntimeError, match="must return None or a tuple of "
                                                   r"\(new_args, new_kwargs\), but got 5"):
                opt.step()
            bad.remove()
        finally:
            for h in handles:
                h.remove()
        opt.step()
        log.append(("value", float(w.detach().numpy()[0])))
    assert logs["ours"] == logs["theirs"], logs


def test_step_hooks_run_once_for_a_subclass_step_and_for_lbfgs():
    calls = []
    w = Tensor(np.ones(2), requires_grad=True)

    class Mine(optim.SGD):
        def step(self, closure=None):
            calls.append("step")
            return super().step(closure)

    opt = Mine([w], lr=0.1)
    opt.register_step_pre_hook(lambda o, a, k: calls.append("pre"))
    opt.register_step_post_hook(lambda o, a, k: calls.append("post"))
    opt.step()
    lbfgs = optim.LBFGS([w], max_iter=1)
    lbfgs.register_step_pre_hook(lambda o, a, k: calls.append("lbfgs pre"))

    def closure():
        lbfgs.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    lbfgs.step(closure)
    assert calls == ["pre", "step", "post", "lbfgs pre"]
    with pytest.raises(TypeError, match="callable"):
        opt.register_step_pre_hook(5)


def test_state_dict_hooks_as_pytorch():
    """register_state_dict_pre_hook / _post_hook and register_load_state_dict_pre_hook /
    _post_hook, with prepend=; a post hook's (or a load pre hook's) returned dict is used."""
    torch = pytest.importorskip("torch")
    logs: dict[str, list] = {"ours": [], "theirs": []}
    for side, lib in (("ours", optim), ("theirs", torch.optim)):
        log = logs[side]
        w = (Tensor(np.ones(2), requires_grad=True) if side == "ours"
             else torch.ones(2, requires_grad=True))
        opt = lib.SGD([w], lr=0.5)
        opt.register_state_dict_pre_hook(lambda o, log=log: log.append("pre"))
        opt.register_state_dict_pre_hook(lambda o, log=log: log.append("pre first"),
                                         prepend=True)

        def post(o, sd, log=log):
            log.append(("post", sorted(sd)))
            sd["extra"] = 1

        opt.register_state_dict_post_hook(post)
        replaced = opt.register_state_dict_post_hook(
            lambda o, sd: {**sd, "param_groups": [{**sd["param_groups"][0], "lr": 0.25}]})
        saved = opt.state_dict()
        log.append(("saved", sorted(saved), saved["param_groups"][0]["lr"]))
        replaced.remove()

        def load_pre(o, sd, log=log):
            log.append(("load pre", sorted(sd)))
            sd.pop("extra")  # (a shallow copy: the caller's dict keeps it)

        opt.register_load_state_dict_pre_hook(load_pre)
        opt.register_load_state_dict_pre_hook(
            lambda o, sd: {**sd, "param_groups": [{**sd["param_groups"][0], "lr": 0.125}]})
        opt.register_load_state_dict_post_hook(
            lambda o, log=log: log.append(("load post", o.param_groups[0]["lr"])))
        opt.load_state_dict(saved)
        log.append(("caller's dict", sorted(saved)))
    assert logs["ours"] == logs["theirs"], logs


def test_hook_and_norm_signatures_are_pytorchs():
    import inspect

    torch = pytest.importorskip("torch")
    theirs_module = importlib.import_module("torch.optim.optimizer")
    names = ["register_step_pre_hook", "register_step_post_hook", "register_state_dict_pre_hook",
             "register_state_dict_post_hook", "register_load_state_dict_pre_hook",
             "register_load_state_dict_post_hook", "state_dict", "load_state_dict",
             "add_param_group"]
    pairs = [(getattr(optim.Optimizer, n), getattr(torch.optim.Optimizer, n)) for n in names]
    pairs += [(getattr(optim.optimizer, n), getattr(theirs_module, n))
              for n in ("register_optimizer_step_pre_hook", "register_optimizer_step_post_hook")]
    pairs += [(getattr(tg.nn.utils, n), getattr(torch.nn.utils, n))
              for n in ("get_total_norm", "clip_grads_with_norm_", "clip_grad_norm",
                        "clip_grad_norm_", "clip_grad_value_")]
    for ours, theirs in pairs:
        mine = [(p.name, p.default) for p in inspect.signature(ours).parameters.values()]
        want = [(p.name, p.default) for p in inspect.signature(theirs).parameters.values()]
        assert mine == want, ours.__name__


def _adam_pair(torch, groups, ctor, **kw):
    """The same parameters and optimizer in both libraries; ``groups(p)`` the param groups."""
    pt = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    pg = tg.nn.Parameter(Tensor(np.array([1.0, -2.0])))
    return (pt, getattr(torch.optim, ctor)(groups(pt), **kw),
            pg, getattr(optim, ctor)(groups(pg), **kw))


def _adam_steps(pairs, steps=2):
    for p, o in pairs:
        for _ in range(steps):
            o.zero_grad()
            (p ** 2).sum().backward()
            o.step()


@pytest.mark.parametrize("ctor,group_flag,ctor_flag", [
    ("Adam", True, None), ("Adam", False, True), ("Adam", None, True), ("Adam", None, None),
    ("AdamW", False, None), ("AdamW", None, None)])
def test_adam_decoupled_weight_decay_is_a_group_option_as_pytorch(ctor, group_flag, ctor_flag):
    """Found by an outside tester: Adam read ``decoupled_weight_decay`` from its constructor
    only -- a group's own flag (``Adam([{"params": [p], "decoupled_weight_decay": True}])``) was
    ignored, and the groups, ``defaults`` and state dicts lacked the key (so AdamW's state dict
    loaded into PyTorch's Adam turned coupled)."""
    torch = pytest.importorskip("torch")
    extra = {} if group_flag is None else {"decoupled_weight_decay": group_flag}
    kw = {} if ctor_flag is None else {"decoupled_weight_decay": ctor_flag}
    pt, ot, pg, og = _adam_pair(torch, lambda p: [{"params": [p], **extra}], ctor, lr=0.1,
                                weight_decay=0.5, **kw)
    _adam_steps([(pt, ot), (pg, og)])
    np.testing.assert_allclose(pg.numpy(), pt.detach().numpy(), rtol=1e-12)
    want = ot.param_groups[0]["decoupled_weight_decay"]
    assert og.param_groups[0]["decoupled_weight_decay"] is want
    assert og.defaults["decoupled_weight_decay"] is ot.defaults["decoupled_weight_decay"]
    assert og.state_dict()["param_groups"][0]["decoupled_weight_decay"] is want


@pytest.mark.parametrize("source,target", [("AdamW", "Adam"), ("Adam", "Adam"),
                                           ("Adam", "AdamW")])
def test_adam_state_dict_carries_decoupled_weight_decay_both_ways(source, target):
    """The flag travels in state dicts as PyTorch's: torch -> ours and ours -> torch, loaded
    into an Adam made without it (AdamW's ``load_state_dict`` makes every group decoupled);
    a saved group without the key loads as coupled."""
    torch = pytest.importorskip("torch")
    kw = {"decoupled_weight_decay": True} if source == "Adam" else {}
    pt, ot, pg, og = _adam_pair(torch, lambda p: [p], source, lr=0.1, weight_decay=0.5, **kw)
    _adam_steps([(pt, ot), (pg, og)])
    saved_t, saved_g = ot.state_dict(), og.state_dict()
    qt, lt, qg, lg = _adam_pair(torch, lambda p: [p], target, lr=0.1, weight_decay=0.5)
    with torch.no_grad():
        qt.copy_(pt)
    qg._data[...] = pg.numpy()
    lt.load_state_dict({"param_groups": saved_g["param_groups"], "state": {  # ours into PyTorch's
        i: {k: torch.tensor(np.asarray(v.numpy() if isinstance(v, Tensor) else float(v)))
            for k, v in s.items()} for i, s in saved_g["state"].items()}})
    lg.load_state_dict(saved_t)  # PyTorch's into ours
    assert lg.param_groups[0]["decoupled_weight_decay"] is \
        lt.param_groups[0]["decoupled_weight_decay"] is True
    _adam_steps([(qt, lt), (qg, lg)])
    np.testing.assert_allclose(qg.numpy(), qt.detach().numpy(), rtol=1e-12)
    if target == "Adam":  # a group saved without the flag is coupled (PyTorch's __setstate__)
        old = og.state_dict()
        del old["param_groups"][0]["decoupled_weight_decay"]
        lg.load_state_dict(old)
        assert lg.param_groups[0]["decoupled_weight_decay"] is False
