"""Adadelta, Rprop, ASGD and LBFGS, and the schedules CosineAnnealingWarmRestarts, ConstantLR,
PolynomialLR, MultiplicativeLR and CyclicLR, against PyTorch in float64: parameters (or learning
rates and momenta) compared after every step, with per-group options; state names and values;
state_dict round trips mid-run (ours through ``tinygrad_cnn.save``, and PyTorch's loaded into
ours); argument errors (the same exception type, PyTorch's message inside ours); repr."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, optim
from tinygrad_cnn.optim import lr_scheduler as sched

torch = pytest.importorskip("torch")

# PyTorch's own switches, not options of ours (accepted by the constructors, not kept in groups)




# ------------------------------------------------------------------ element-wise optimizers
SHAPES = [(3, 4), (5,), ()]  # () exercises the 0-d parameter path
STEPS = 8


def _problem(seed=0):
    """Initial parameters and a fixed random gradient sequence (seen through a loss, so that
    weight decay and the loss's own curvature enter too)."""
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    noise = [[rng.standard_normal(s) for s in SHAPES] for _ in range(2 * STEPS)]
    return init, noise


def _loss(params, noise, lib):
    make = Tensor if lib is tg else torch.tensor
    total = 0
    for p, n in zip(params, noise):
        total = total + (p * make(n)).sum() + (p * p).sum() * 0.3 + (p * p * p * p).sum() * 0.05
    return total


def _groups(params, options):
    """Parameter 0 in a group with ``options``, the others in a group with the defaults."""
    return [{"params": params[:1], **options}, {"params": params[1:]}]


def _step(opt, params, noise, lib):
    opt.zero_grad()
    _loss(params, noise, lib).backward()
    opt.step()


def _numpy(p):
    return p.detach().numpy() if isinstance(p, torch.Tensor) else p.numpy()


def _assert_params(ours, theirs, what, rtol=1e-10):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=rtol, atol=1e-12,
                                   err_msg=f"parameter {i} {what}")


def _same_error(ours, theirs):
    """Both raise the same exception type, and PyTorch's message is inside ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as t_err:
            theirs()
    with pytest.raises(t_err.type) as o_err:
        ours()
    assert str(t_err.value) in str(o_err.value), (str(o_err.value), str(t_err.value))


ELEMENTWISE = {  # make(lib_optim)(groups), options for parameter 0's group
    "adadelta": (lambda o: lambda g: o.Adadelta(g, lr=0.5, rho=0.8, weight_decay=0.05,
                                                foreach=False),
                 {"maximize": True, "eps": 1e-4}),
    "adadelta_defaults": (lambda o: lambda g: o.Adadelta(g), {"lr": 0.3}),
    "rprop": (lambda o: lambda g: o.Rprop(g, lr=0.05, etas=(0.4, 1.5), step_sizes=(1e-3, 0.2)),
              {"maximize": True}),
    "rprop_defaults": (lambda o: lambda g: o.Rprop(g, foreach=True), {"lr": 0.1}),
    "asgd": (lambda o: lambda g: o.ASGD(g, lr=0.05, lambd=0.01, alpha=0.6, t0=3,
                                        weight_decay=0.1),
             {"maximize": True, "t0": 1.0}),  # t0 small: the averaging (mu < 1) starts
    "asgd_defaults": (lambda o: lambda g: o.ASGD(g), {"lr": 0.2}),
}


def _run_both(kind, steps, seed=0):
    make, options = ELEMENTWISE[kind]
    init, noise = _problem(seed)
    ours = [Tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = make(optim)(_groups(ours, options))
    topt = make(torch.optim)(_groups(theirs, options))
    for k in range(steps):
        _step(opt, ours, noise[k], tg)
        _step(topt, theirs, noise[k], torch)
        _assert_params(ours, theirs, f"after step {k + 1}")
    return opt, topt, ours, theirs, noise


@pytest.mark.parametrize("kind", sorted(ELEMENTWISE))
def test_trajectory_and_state_match_pytorch(kind):
    opt, topt, _, _, _ = _run_both(kind, STEPS)
    ours, theirs = opt.state_dict(), topt.state_dict()
    for g, tgroup in zip(ours["param_groups"], theirs["param_groups"]):
        assert set(g) == set(tgroup), "group option names (the switches kept, as PyTorch's)"
        assert g["params"] == tgroup["params"]
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for i, tstate in theirs["state"].items():
        assert sorted(ours["state"][i]) == sorted(tstate), "state names"
        for k, v in tstate.items():
            mine = ours["state"][i][k]
            np.testing.assert_allclose(np.asarray(mine.numpy() if isinstance(mine, Tensor)
                                                  else mine, float), v.numpy(), rtol=1e-10,
                                       atol=1e-12, err_msg=f"state {k} of parameter {i}")


@pytest.mark.parametrize("kind", sorted(ELEMENTWISE))
def test_state_dict_round_trip_through_save_resumes_the_same(kind, tmp_path):
    """Four steps, save, a fresh optimizer on copies loads it, four more: the same as eight
    straight (and as PyTorch's eight)."""
    make, options = ELEMENTWISE[kind]
    _, topt, straight, theirs, noise = _run_both(kind, 2 * STEPS // 2)
    first, _, params, _, _ = _run_both(kind, STEPS // 2)
    tg.save({"optimizer": first.state_dict()}, tmp_path / "opt.npz")
    resumed = [Tensor(p.numpy().copy(), requires_grad=True) for p in params]
    opt = make(optim)(_groups(resumed, options))
    opt.load_state_dict(tg.load(tmp_path / "opt.npz")["optimizer"])
    for k in range(STEPS // 2, STEPS):
        _step(opt, resumed, noise[k], tg)
    _assert_params(resumed, straight, "resumed vs straight", rtol=1e-13)
    _assert_params(resumed, theirs, "resumed vs PyTorch")


@pytest.mark.parametrize("kind", sorted(ELEMENTWISE))
def test_pytorch_state_dict_loads_and_continues_as_pytorch(kind):
    make, options = ELEMENTWISE[kind]
    _, topt, _, theirs, noise = _run_both(kind, STEPS // 2)
    ours = [Tensor(_numpy(p).copy(), requires_grad=True) for p in theirs]
    opt = make(optim)(_groups(ours, options))
    opt.load_state_dict(copy.deepcopy(topt.state_dict()))
    for k in range(STEPS // 2, STEPS):
        _step(opt, ours, noise[k], tg)
        _step(topt, theirs, noise[k], torch)
        _assert_params(ours, theirs, f"after step {k + 1}")


def test_add_param_group_takes_the_defaults_as_pytorch():
    init, noise = _problem(3)
    ours = [Tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = optim.Rprop(ours[:1], lr=0.02, etas=(0.3, 1.1))
    topt = torch.optim.Rprop(theirs[:1], lr=0.02, etas=(0.3, 1.1))
    for k in range(6):
        if k == 2:
            opt.add_param_group({"params": ours[1:], "lr": 0.05})
            topt.add_param_group({"params": theirs[1:], "lr": 0.05})
            assert opt.param_groups[1]["etas"] == (0.3, 1.1)
        _step(opt, ours, noise[k], tg)
        _step(topt, theirs, noise[k], torch)
        _assert_params(ours, theirs, f"after step {k + 1}")


def test_repr_is_ours():
    w = Tensor(np.ones(2), requires_grad=True)
    assert repr(optim.Adadelta([w], foreach=False)) == (
        "Adadelta (\nParameter Group 0\n    capturable: False\n    differentiable: False\n"
        "    eps: 1e-06\n    foreach: False\n    lr: 1.0\n    maximize: False\n"
        "    rho: 0.9\n    weight_decay: 0\n)")
    assert repr(optim.Rprop([w])).splitlines()[2:] == [
        "    capturable: False", "    differentiable: False", "    etas: (0.5, 1.2)",
        "    foreach: None", "    lr: 0.01", "    maximize: False",
        "    step_sizes: (1e-06, 50)", ")"]
    assert "    t0: 1000000.0" in repr(optim.ASGD([w]))


@pytest.mark.parametrize("name,kwargs", [
    ("Adadelta", dict(lr=-1.0)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1e-6)),
    ("Adadelta", dict(weight_decay=-0.1)), ("Rprop", dict(lr=-0.01)),
    ("Rprop", dict(etas=(1.2, 0.5))), ("Rprop", dict(etas=(0.5, 1.0))),
    ("Rprop", dict(etas=(0.0, 1.2))), ("ASGD", dict(lr=-0.5)), ("ASGD", dict(weight_decay=-1)),
    ("LBFGS", dict(lr=-1)),
])
def test_constructor_errors_match_pytorch(name, kwargs):
    _same_error(lambda: getattr(optim, name)([Tensor(np.ones(2), requires_grad=True)], **kwargs),
                lambda: getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], **kwargs))


def test_differentiable_is_refused_and_foreach_capturable_are_accepted():
    w = Tensor(np.ones(2), requires_grad=True)
    for make in (lambda: optim.Adadelta([w], differentiable=True),
                 lambda: optim.Rprop([w], differentiable=True),
                 lambda: optim.ASGD([w], differentiable=True)):
        with pytest.raises(NotImplementedError, match="differentiable=True"):
            make()
    optim.Adadelta([w], foreach=True, capturable=True)
    optim.Rprop([w], foreach=False, capturable=True)
    optim.ASGD([w], 0.01, 1e-4, 0.75, 1e6, 0, True, True, False, True)  # all positional


# ------------------------------------------------------------------ LBFGS
LBFGS_SHAPES = [(3, 2), (4,)]


def _lbfgs_problem():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s) for s in LBFGS_SHAPES], \
        [rng.standard_normal(s) for s in LBFGS_SHAPES]


def _lbfgs_loss(params, targets, lib):
    """Smooth and not quadratic, the two parameters coupled Rosenbrock-wise."""
    make = Tensor if lib is tg else torch.tensor
    total = 0
    for p, t in zip(params, targets):
        d = p - make(t)
        total = total + (d * d * d * d).sum() * 0.1 + (d * d).sum() + p.tanh().sum()
    a, b = params[0].reshape(-1)[:4], params[1]
    return total + ((b - a * a) ** 2).sum() * 5.0


def _closure(opt, params, targets, lib):
    def closure():
        opt.zero_grad()
        loss = _lbfgs_loss(params, targets, lib)
        loss.backward()
        return loss
    return closure


LBFGS_CASES = {
    "fixed_step_short_history": dict(lr=0.3, max_iter=5, history_size=3),
    "strong_wolfe_short_history": dict(line_search_fn="strong_wolfe", max_iter=6,
                                       history_size=3),
    "strong_wolfe_defaults": dict(line_search_fn="strong_wolfe"),
    "defaults": dict(),
    "tolerances": dict(lr=0.5, max_iter=8, max_eval=7, tolerance_grad=1e-2,
                       tolerance_change=1e-3, history_size=2),
    "tiny_steps_stop": dict(lr=1e-3, max_iter=30, tolerance_change=1e-3),
    # a first trial far too short (the search extrapolates, once until out of evaluations) or far
    # too long (Armijo fails: bracket and zoom)
    "strong_wolfe_short_first_trial": dict(line_search_fn="strong_wolfe", lr=1e-3, max_iter=5),
    "strong_wolfe_out_of_evaluations": dict(line_search_fn="strong_wolfe", lr=1e-4,
                                            max_eval=4),
    "strong_wolfe_long_first_trial": dict(line_search_fn="strong_wolfe", lr=30, max_iter=8,
                                          history_size=4),
}


def _lbfgs_both(case, steps):
    init, targets = _lbfgs_problem()
    ours = [Tensor(a.copy(), requires_grad=True) for a in init]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = optim.LBFGS(ours, **LBFGS_CASES[case])
    topt = torch.optim.LBFGS(theirs, **LBFGS_CASES[case])
    for k in range(steps):
        a = opt.step(_closure(opt, ours, targets, tg))
        b = topt.step(_closure(topt, theirs, targets, torch))
        np.testing.assert_allclose(a.item(), b.item(), rtol=1e-10, err_msg=f"loss, step {k}")
        _assert_params(ours, theirs, f"after step {k + 1}")
        ostate, tstate = opt.state[ours[0]], topt.state[theirs[0]]
        assert (ostate["n_iter"], ostate["func_evals"]) == (tstate["n_iter"],
                                                            tstate["func_evals"])
    return opt, topt, ours, theirs, targets


@pytest.mark.parametrize("case", sorted(LBFGS_CASES))
def test_lbfgs_matches_pytorch(case):
    opt, topt, _, _, _ = _lbfgs_both(case, 3)
    ours, theirs = opt.state_dict(), topt.state_dict()
    assert set(ours["param_groups"][0]) == set(theirs["param_groups"][0])
    assert sorted(ours["state"][0]) == sorted(theirs["state"][0]), "state names"
    for k in ("d", "prev_flat_grad", "H_diag", "prev_loss", "t"):
        mine, their = ours["state"][0][k], np.asarray(theirs["state"][0][k])
        # near the minimum d and the gradient are differences of nearly equal numbers: compared
        # to their own scale (the dot products' summation orders differ from PyTorch's BLAS)
        np.testing.assert_allclose(np.asarray(mine.numpy() if isinstance(mine, Tensor) else mine),
                                   their, rtol=1e-9, atol=1e-9 * np.abs(their).max(),
                                   err_msg=k)
    assert len(ours["state"][0]["old_dirs"]) == len(theirs["state"][0]["old_dirs"])


def test_lbfgs_strong_wolfe_on_a_wiggly_loss_matches_pytorch():
    """A loss with many local minima along the search direction: the line search extrapolates,
    brackets, and zooms with trials moved off the bracket's ends -- every branch of the search
    runs. (On such losses an ulp can send the two searches to different local minima, and
    PyTorch's float64 sqrt and sin are not always correctly rounded; this case is stable.)"""
    runs = []
    for lib, o in ((tg, optim), (torch, torch.optim)):
        w = (Tensor if lib is tg else torch.tensor)(np.array([0.0, 0.5]), requires_grad=True)
        opt = o.LBFGS([w], line_search_fn="strong_wolfe", lr=10, max_iter=6)

        def closure(opt=opt, w=w):
            opt.zero_grad()
            loss = (-w + (w * 3).sin() * 0.5 + w * w * 0.05).sum()
            loss.backward()
            return loss

        rows = []
        for _ in range(3):
            loss = opt.step(closure)
            rows.append([loss.item(), *_numpy(w), opt.state[w]["func_evals"]])
        runs.append(rows)
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-10)


def test_lbfgs_state_dict_round_trip_through_save(tmp_path):
    case = "strong_wolfe_short_history"
    _, _, straight, theirs, targets = _lbfgs_both(case, 4)
    first, _, params, _, _ = _lbfgs_both(case, 2)
    tg.save({"optimizer": first.state_dict()}, tmp_path / "lbfgs.npz")
    resumed = [Tensor(p.numpy().copy(), requires_grad=True) for p in params]
    opt = optim.LBFGS(resumed, **LBFGS_CASES[case])
    opt.load_state_dict(tg.load(tmp_path / "lbfgs.npz")["optimizer"])
    for _ in range(2):
        opt.step(_closure(opt, resumed, targets, tg))
    _assert_params(resumed, straight, "resumed vs straight", rtol=1e-13)
    _assert_params(resumed, theirs, "resumed vs PyTorch")


@pytest.mark.parametrize("case", ["fixed_step_short_history", "strong_wolfe_short_history"])
def test_lbfgs_loads_pytorch_state_dict(case):
    _, topt, _, theirs, targets = _lbfgs_both(case, 2)
    ours = [Tensor(_numpy(p).copy(), requires_grad=True) for p in theirs]
    opt = optim.LBFGS(ours, **LBFGS_CASES[case])
    opt.load_state_dict(copy.deepcopy(topt.state_dict()))
    for k in range(2):
        opt.step(_closure(opt, ours, targets, tg))
        topt.step(_closure(topt, theirs, targets, torch))
        _assert_params(ours, theirs, f"after resumed step {k + 1}")


def test_lbfgs_closure_runs_with_grad_enabled_and_bumps_versions():
    init, targets = _lbfgs_problem()
    ours = [Tensor(a.copy(), requires_grad=True) for a in init]
    opt = optim.LBFGS(ours, max_iter=3)
    versions = [p._version_counter[0] for p in ours]
    with tg.no_grad():
        loss = opt.step(_closure(opt, ours, targets, tg))
    assert loss.requires_grad
    assert all(p._version_counter[0] > v for p, v in zip(ours, versions))


def test_lbfgs_stops_at_once_when_the_gradient_is_small():
    w = Tensor(np.array([1e-9, -1e-9]), requires_grad=True)
    opt = optim.LBFGS([w])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert len(calls) == 1 and opt.state[w] == {"func_evals": 1, "n_iter": 0}


def test_lbfgs_errors_match_pytorch():
    def groups(make):
        return [{"params": [make(np.ones(2))]}, {"params": [make(np.ones(1))], "lr": 0.1}]

    _same_error(lambda: optim.LBFGS(groups(lambda a: Tensor(a, requires_grad=True))),
                lambda: torch.optim.LBFGS(groups(lambda a: torch.tensor(a, requires_grad=True))))
    runs = []
    for lib, o in ((tg, optim), (torch, torch.optim)):
        w = (Tensor if lib is tg else torch.tensor)(np.ones(2), requires_grad=True)
        opt = o.LBFGS([w], line_search_fn="backtracking")
        runs.append(lambda opt=opt, w=w: opt.step(lambda: (w * w).sum().backward() or 1.0))
    _same_error(*runs)
    with pytest.raises(TypeError):
        optim.LBFGS([Tensor(np.ones(1), requires_grad=True)]).step()  # the closure is needed


def test_lbfgs_repr():
    w = Tensor(np.ones(2), requires_grad=True)
    assert repr(optim.LBFGS([w], line_search_fn="strong_wolfe")).splitlines()[2:] == [
        "    history_size: 100", "    line_search_fn: strong_wolfe", "    lr: 1",
        "    max_eval: 25", "    max_iter: 20", "    tolerance_change: 1e-09",
        "    tolerance_grad: 1e-07", ")"]


# ------------------------------------------------------------------ schedules
SCHED_STEPS = 14


def _sgd(o, params):
    return o.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1,
                 momentum=0.9)


def _adam(o, params):
    return o.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.05}], lr=0.1)


class _Halve:
    """A callable object: its state goes into state_dict."""

    def __init__(self):
        self.base = 0.5

    def __call__(self, x):
        return self.base ** x


SCHEDULES = {  # name: (make(lib, opt) -> [schedules], optimizer)
    "warm_restarts": (lambda lib, opt: [lib.CosineAnnealingWarmRestarts(opt, T_0=3)], _sgd),
    "warm_restarts_mult": (lambda lib, opt: [lib.CosineAnnealingWarmRestarts(
        opt, T_0=2, T_mult=2, eta_min=0.001)], _sgd),
    "constant": (lambda lib, opt: [lib.ConstantLR(opt, factor=0.5, total_iters=3)], _sgd),
    "constant_defaults": (lambda lib, opt: [lib.ConstantLR(opt)], _sgd),
    "polynomial": (lambda lib, opt: [lib.PolynomialLR(opt, total_iters=6, power=2.0)], _sgd),
    "polynomial_defaults": (lambda lib, opt: [lib.PolynomialLR(opt)], _sgd),
    "multiplicative": (lambda lib, opt: [lib.MultiplicativeLR(opt, lambda e: 0.9)], _sgd),
    "multiplicative_per_group": (lambda lib, opt: [lib.MultiplicativeLR(
        opt, [lambda e: 0.9, lambda e: 1 - 0.01 * e])], _sgd),
    "cyclic_triangular": (lambda lib, opt: [lib.CyclicLR(opt, 0.01, 0.1, step_size_up=3)], _sgd),
    "cyclic_triangular2": (lambda lib, opt: [lib.CyclicLR(
        opt, [0.01, 0.02], [0.1, 0.3], step_size_up=2, step_size_down=3, mode="triangular2",
        base_momentum=[0.8, 0.7], max_momentum=0.95)], _sgd),
    "cyclic_exp_range": (lambda lib, opt: [lib.CyclicLR(
        opt, 0.01, 0.1, step_size_up=2, mode="exp_range", gamma=0.9)], _sgd),
    "cyclic_scale_fn_object": (lambda lib, opt: [lib.CyclicLR(
        opt, 0.01, 0.1, 3, scale_fn=_Halve(), scale_mode="iterations",
        cycle_momentum=False)], _sgd),
    "cyclic_adam_beta1": (lambda lib, opt: [lib.CyclicLR(
        opt, 0.001, 0.01, step_size_up=4, base_momentum=0.85, max_momentum=0.95)], _adam),
    "warmup_then_restarts": (lambda lib, opt: [lib.SequentialLR(
        opt, [lib.LinearLR(opt, 0.1, total_iters=3), lib.CosineAnnealingWarmRestarts(opt, 3)],
        milestones=[3])], _sgd),
    "chained": (lambda lib, opt: [lib.ChainedScheduler(
        [lib.ConstantLR(opt, 0.5, 4), lib.PolynomialLR(opt, 8),
         lib.MultiplicativeLR(opt, lambda e: 0.95)])], _sgd),
    "constant_then_exponential_by_hand": (lambda lib, opt: [
        lib.ConstantLR(opt, 0.25, 2), lib.ExponentialLR(opt, 0.9)], _sgd),
}


def _opt(lib, optimizer=_sgd):
    """An optimizer of two parameter groups (lrs 0.1 and 0.05) from ``lib``'s optim."""
    if lib is sched:
        params = [Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)]
        return optimizer(optim, params)
    params = [torch.ones(3, requires_grad=True), torch.ones(2, requires_grad=True)]
    return optimizer(torch.optim, params)


def _build(lib, case):
    make, optimizer = SCHEDULES[case]
    opt = _opt(lib, optimizer)
    return opt, make(lib, opt)


def _row(opt, schedules):
    out = [float(v) for s in schedules for v in s.get_last_lr()]
    for g in opt.param_groups:
        out += [g["lr"], g.get("momentum", 0.0), *g.get("betas", ())]
    return out


def _sched_trajectory(lib, case, mode, tmp_path):
    opt, schedules = _build(lib, case)
    rows = [_row(opt, schedules)]
    for i in range(SCHED_STEPS):
        if mode == "bump" and i in (3, 8):
            opt.param_groups[0]["lr"] *= 10
        if mode == "resume" and i == 6:
            states = {"optimizer": opt.state_dict(), "schedules": [s.state_dict()
                                                                   for s in schedules]}
            if lib is sched:  # ours through a checkpoint file
                tg.save(states, tmp_path / "sched.npz")
                states = tg.load(tmp_path / "sched.npz")
            else:
                states = copy.deepcopy(states)
            opt, schedules = _build(lib, case)
            opt.load_state_dict(states["optimizer"])
            for s, st in zip(schedules, states["schedules"]):
                s.load_state_dict(st)
        opt.step()
        for s in schedules:
            s.step()
        rows.append(_row(opt, schedules))
    return rows


@pytest.mark.parametrize("mode", ["plain", "bump", "resume"])
@pytest.mark.parametrize("case", sorted(SCHEDULES))
def test_schedules_match_pytorch(case, mode, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _sched_trajectory(torch.optim.lr_scheduler, case, mode, tmp_path)
    ours = _sched_trajectory(sched, case, mode, tmp_path)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-16, err_msg=f"{case}, step {step}")


def test_warm_restarts_fractional_and_mixed_epochs_match_pytorch():
    """Per batch with ``step(epoch + i / iters)``, then explicit jumps mixed with ``step()``."""
    epochs = [e + i / 4 for e in range(7) for i in range(4)] + [26, None, None, 3.5, None, 40.25]
    for t_mult in (1, 2, 3):
        lrs = []
        for lib in (sched, torch.optim.lr_scheduler):
            s = lib.CosineAnnealingWarmRestarts(_opt(lib), T_0=2, T_mult=t_mult, eta_min=0.01)
            out = []
            for e in epochs:
                s.step(e)
                out.append([*s.get_last_lr(), s.T_cur, s.T_i, s.last_epoch])
            lrs.append(out)
        np.testing.assert_allclose(np.array(lrs[0], float), np.array(lrs[1], float),
                                   rtol=1e-13, err_msg=f"T_mult={t_mult}")


@pytest.mark.parametrize("case", ["constant", "polynomial", "multiplicative",
                                  "cyclic_triangular2"])
def test_step_with_an_epoch_matches_pytorch(case):
    rows = []
    for lib in (sched, torch.optim.lr_scheduler):
        opt, schedules = _build(lib, case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch's deprecation of step(epoch)
            out = []
            for e in (1, 2, 5, 3, 9, 4):
                schedules[0].step(e)
                out.append(_row(opt, schedules))
        rows.append(out)
    np.testing.assert_allclose(rows[0], rows[1], rtol=1e-13)


def test_cyclic_state_dict_keeps_a_callable_objects_state(tmp_path):
    opt, (s,) = _build(sched, "cyclic_scale_fn_object")
    s._scale_fn_custom.base = 0.25
    state = s.state_dict()
    assert state["_scale_fn_custom"] == {"base": 0.25} and "_scale_fn_ref" not in state
    tg.save(state, tmp_path / "c.npz")
    _, (s2,) = _build(sched, "cyclic_scale_fn_object")
    s2.load_state_dict(tg.load(tmp_path / "c.npz"))
    assert s2._scale_fn_custom.base == 0.25
    _, (tri,) = _build(sched, "cyclic_exp_range")
    tri2 = copy.copy(tri)
    tri2.load_state_dict(tri.state_dict())
    assert tri2.scale_fn(2) == 0.9**2  # the mode's function rebuilt after loading


SCHEDULER_ERRORS = [
    lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, T_0=0),
    lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, T_0=2.5),
    lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0),
    lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0"),
    lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, T_0=2).step(-1),
    lambda lib, opt: lib.ConstantLR(opt, factor=1.5),
    lambda lib, opt: lib.ConstantLR(opt, factor=-0.1),
    lambda lib, opt: lib.MultiplicativeLR(opt, [lambda e: 0.9] * 3),
    lambda lib, opt: lib.MultiplicativeLR(opt, 0.9),
    lambda lib, opt: lib.CyclicLR(opt, 0.01, 0.1, mode="triangle"),
    lambda lib, opt: lib.CyclicLR(opt, [0.01, 0.02, 0.03], 0.1),
    lambda lib, opt: lib.CyclicLR(opt, 0.01, [0.1], cycle_momentum=False),
    lambda lib, opt: lib.CyclicLR(opt, 0.01, 0.1, base_momentum=[0.8]),
    lambda lib, opt: lib.CyclicLR(  # no momentum or betas to cycle
        (optim if lib is sched else torch.optim).Adadelta(opt.param_groups[0]["params"]),
        0.01, 0.1),
]


@pytest.mark.parametrize("case", SCHEDULER_ERRORS)
def test_scheduler_errors_match_pytorch(case):
    def build(lib):
        opt = _opt(lib)
        return lambda: case(lib, opt)

    _same_error(build(sched), build(torch.optim.lr_scheduler))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam",
                                  "RAdam"])
def test_the_common_optimizers_take_pytorchs_implementation_switches(name):
    """foreach=, fused=, capturable= (kernel choices) are accepted and ignored, differentiable=True
    refused, on the eight older optimizers too (a ported AdamW(..., fused=True) raised)."""
    import inspect

    ours = set(inspect.signature(getattr(tg.optim, name)).parameters)
    theirs = set(inspect.signature(getattr(torch.optim, name)).parameters)
    assert theirs <= ours, sorted(theirs - ours)
    for k in ("foreach", "fused"):  # (both True together: PyTorch's error, tested elsewhere)
        if k in theirs:
            getattr(tg.optim, name)([tg.zeros(1, requires_grad=True)], lr=1e-3, **{k: True})
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        getattr(tg.optim, name)([tg.zeros(1, requires_grad=True)], lr=1e-3, differentiable=True)


def test_adam_decoupled_weight_decay_is_pytorchs():
    w0, g = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.1, -0.3])
    results = []
    for lib in (tg, torch):
        w = lib.tensor(w0.copy(), requires_grad=True)
        opt = lib.optim.Adam([w], lr=0.1, weight_decay=0.5, decoupled_weight_decay=True)
        for _ in range(3):
            opt.zero_grad()
            (w * lib.tensor(g)).sum().backward()
            opt.step()
        results.append(w.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.parametrize("grads", [[np.inf, 1.0], [-np.inf, np.inf], [np.nan, 1.0]])
def test_rprop_steps_by_pytorchs_sign_of_inf_and_nan_gradients(grads):
    """numpy's sign(NaN) is NaN: an inf gradient (inf * 0 on the first step) or a NaN one made
    the parameter NaN; PyTorch's sign is 0 at NaN, so inf steps as +-1 and NaN not at all."""
    results = []
    for lib in (tg, torch):
        p = lib.tensor([1.0, 1.0], requires_grad=True)
        opt = lib.optim.Rprop([p])
        for k in range(3):
            p.grad = lib.tensor(grads) * (1 if k % 2 == 0 else -1)
            opt.step()
        results.append(p.detach().numpy().copy())
    np.testing.assert_allclose(results[0], results[1])
