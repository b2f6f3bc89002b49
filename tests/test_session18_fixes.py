"""Session 18's fixes, each checked against an exact oracle or PyTorch (skipped without it)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg


def test_erfinv_output_may_be_changed_in_place_before_backward():
    # The VJP recomputes erfinv from the saved input (PyTorch's formula), so an in-place change of
    # the output is allowed; the gradient is still √π/2·exp(erfinv(x)²) times the upstream 2.
    from tinygrad_cnn.ops._special import erfinv

    xs = np.array([0.1, 0.5, -0.3, 0.0])
    x = tg.tensor(xs, requires_grad=True)
    y = x.erfinv()
    y.mul_(2)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.sqrt(np.pi) / 2 * np.exp(erfinv(xs) ** 2), rtol=1e-13)
    assert tg.gradgradcheck(tg.erfinv, (tg.tensor(xs[:3], requires_grad=True),))


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_lbfgs_keeps_float32_parameters_state_in_float32_and_matches_pytorch(line_search):
    # The two-loop recursion multiplied by numpy float64 scalars, turning the direction d into
    # float64 for float32 parameters: the state differed from PyTorch's and a save/load round trip
    # (which casts to the parameter's dtype) changed the trajectory.
    torch = pytest.importorskip("torch")
    runs = {}
    for m in (tg, torch):
        p = m.tensor([1.5, 2.0, 3.0, -1.0], requires_grad=True)
        opt = m.optim.LBFGS([p], lr=0.5, line_search_fn=line_search, history_size=3, max_iter=5)

        def closure(p=p, opt=opt):
            opt.zero_grad()
            loss = ((p - 1) ** 4).sum() + (p * p).sum() * 0.1
            loss.backward()
            return loss

        for _ in range(4):
            opt.step(closure)
        state = opt.state[p]
        assert str(state["d"].dtype).endswith("float32")
        assert all(str(v.dtype).endswith("float32") for v in state["old_dirs"] + state["old_stps"])
        runs[m.__name__] = p.detach().numpy().copy()
    np.testing.assert_allclose(runs["tinygrad_cnn"], runs["torch"], rtol=1e-6)


def _lbfgs(n: int):
    p = tg.tensor(np.linspace(-1.0, 2.0, n), requires_grad=True)
    opt = tg.optim.LBFGS([p], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss

    return p, opt, closure


def _edit(sd, **changes):
    import copy

    sd = copy.deepcopy(sd)
    for k, v in changes.items():
        if v is KeyError:
            del sd["state"][0][k]
        else:
            sd["state"][0][k] = v
    return sd


@pytest.mark.parametrize("name", ["other model", "pairs of two lengths", "string", "negative count",
                                  "ro None", "H_diag a vector", "d missing"])
def test_lbfgs_refuses_a_state_that_step_could_not_have_left(name):
    # These failed in the next step() with numpy's broadcast error, a TypeError on None, or NaN
    # parameters (pairs of two lengths); now load_state_dict names the state and what fits, and
    # leaves the optimizer as it was.
    p, opt, closure = _lbfgs(4)
    opt.step(closure)
    opt.step(closure)
    sd = opt.state_dict()
    bad = {"other model": sd, "pairs of two lengths": _edit(sd, old_dirs=[tg.zeros(4)] * 3),
           "string": _edit(sd, d="abc"), "negative count": _edit(sd, n_iter=-3),
           "ro None": _edit(sd, ro=None), "H_diag a vector": _edit(sd, H_diag=tg.zeros(4)),
           "d missing": _edit(sd, d=KeyError)}[name]
    q, opt2, closure2 = _lbfgs(5 if name == "other model" else 4)
    opt2.step(closure2)
    before = opt2.state_dict()
    with pytest.raises(ValueError, match=r"LBFGS\.load_state_dict: .*state"):
        opt2.load_state_dict(bad)
    after = opt2.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["d"].numpy(), before["state"][0]["d"].numpy())
    opt2.step(closure2)  # and it still steps
    assert np.isfinite(q.detach().numpy()).all()


def test_a_refused_load_state_dict_leaves_any_optimizer_as_it_was():
    # The groups' options were loaded before a parameter's state was refused for its shape.
    a, b = tg.zeros(3, requires_grad=True), tg.zeros(2, requires_grad=True)
    opt = tg.optim.SGD([a, b], lr=0.1, momentum=0.9)
    for p in (a, b):
        p.grad = tg.ones(p.shape)
    opt.step()
    good = opt.state_dict()
    bad = {"state": {0: {"momentum_buffer": tg.ones(3)}, 1: {"momentum_buffer": tg.ones(5)}},
           "param_groups": [dict(good["param_groups"][0], lr=7.0, momentum=0.5)]}
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0.9
    np.testing.assert_array_equal(opt.state[b]["momentum_buffer"].numpy(), np.ones(2))


def test_logit_deg2rad_rad2deg_heaviside_match_pytorch():
    torch = pytest.importorskip("torch")
    xs = [0.2, 0.5, 0.9, 1.0, 0.0, -0.1, 1.2, float("nan"), 0.1, 0.25]
    for eps in (None, 0.1, 0.25):
        grads = []
        for m in (tg, torch):
            x = m.tensor(xs, dtype=m.float64, requires_grad=True)
            y = m.logit(x, eps=eps)
            y.sum().backward()
            grads.append((y.detach().numpy(), x.grad.numpy()))
        for ours, theirs in zip(*grads):
            np.testing.assert_allclose(ours, theirs, rtol=1e-14, equal_nan=True)
    ints = [180, 90, -45]
    for name in ("deg2rad", "rad2deg", "logit"):
        ours, theirs = getattr(tg, name)(tg.tensor(ints)), getattr(torch, name)(torch.tensor(ints))
        assert str(ours.dtype) == "float32" and str(theirs.dtype) == "torch.float32"
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, equal_nan=True)
    x = [-1.0, 0.0, 2.0, float("nan"), -0.0]
    np.testing.assert_array_equal(tg.heaviside(tg.tensor(x), tg.tensor([0.5])).numpy(),
                                  torch.heaviside(torch.tensor(x), torch.tensor([0.5])).numpy())
    v = tg.tensor([0.5, 0.25, 0.75, 1.0, 2.0], requires_grad=True)
    tg.heaviside(tg.tensor(x), v).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), [0, 1, 0, 0, 1])  # where x == 0
    with pytest.raises(TypeError, match="heaviside: self and values must have one dtype"):
        tg.heaviside(tg.tensor(x), tg.tensor([1]))
    h = tg.tensor([0.3, 0.6])
    h.logit_()
    np.testing.assert_allclose(h.numpy(), torch.logit(torch.tensor([0.3, 0.6])).numpy(), rtol=1e-6)
