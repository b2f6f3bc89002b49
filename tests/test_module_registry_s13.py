"""A module's registries (``_parameters``, ``_buffers``, ``_modules``) are what its attributes and
``forward`` read, as PyTorch's: code that writes into them (EMA, reparametrisations, functional
calls, ports of PyTorch code) must reach the computation. Checked against PyTorch."""

from __future__ import annotations

import copy
import pickle

import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _both(fn):
    return fn(tg), fn(torch)


def _tiny(L):
    class M(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.act = L.nn.ReLU()
            self.w = L.nn.Parameter(L.ones(1))
            self.register_buffer("b", L.ones(1))

        def forward(self, x):
            return self.act(x) * self.w + self.b

    M.__qualname__ = M.__name__ = f"Tiny_{L.__name__}"  # (picklable: a module-level name)
    globals()[M.__name__] = M
    return M


def test_parameter_written_into_the_registry_reaches_forward():
    def run(L):
        lin = L.nn.Linear(2, 1, bias=False)
        lin._parameters["weight"] = L.nn.Parameter(L.tensor([[1., 2.]]))
        out = lin(L.tensor([[1., 1.]])).tolist()
        assert lin.weight is lin._parameters["weight"]
        return out

    ours, theirs = _both(run)
    assert ours == theirs == [[3.0]]


def test_buffer_written_into_the_registry_reaches_forward():
    def run(L):
        bn = L.nn.BatchNorm1d(2).eval()
        bn._buffers["running_mean"] = L.tensor([10., 10.])
        return bn(L.zeros(1, 2)).tolist()

    ours, theirs = _both(run)
    assert ours[0] == pytest.approx(theirs[0])
    assert ours[0][0] == pytest.approx(-10, rel=1e-4)


def test_module_written_into_the_registry_reaches_forward():
    def run(L):
        m = _tiny(L)()
        m._modules["act"] = L.nn.Identity()
        return m(L.tensor([-1.])).tolist()

    ours, theirs = _both(run)
    assert ours == theirs == [0.0]


def test_none_clear_del_and_update_through_the_registries():
    def run(L):
        m = _tiny(L)()
        m._parameters["w"] = None
        out = [m.w]
        m._buffers.clear()
        out.append(hasattr(m, "b"))
        del m._modules["act"]
        out.append(hasattr(m, "act"))
        lin = L.nn.Linear(2, 2)
        lin._parameters.update({"bias": L.nn.Parameter(L.ones(2))})
        out.append(lin.bias.tolist())
        out.append(lin(L.zeros(1, 2)).tolist())
        return out

    ours, theirs = _both(run)
    assert ours == theirs
    assert ours[:3] == [None, False, False]


def test_shallow_copy_shares_the_registries_both_ways():
    def run(L):
        a = L.nn.Linear(1, 1)
        c = copy.copy(a)
        c.weight = L.nn.Parameter(L.ones(1, 1))
        first = (a.weight.tolist(), next(iter(a.parameters())).tolist())
        a.weight = L.nn.Parameter(L.zeros(1, 1))
        return first, c.weight.tolist()

    ours, theirs = _both(run)
    assert ours == theirs == (([[1.0]], [[1.0]]), [[0.0]])


def test_deepcopy_and_pickle_keep_registered_state_apart():
    def run(L):
        m = _tiny(L)()
        with (tg if L is tg else torch).no_grad():
            m.w.fill_(3.0)
        d = copy.deepcopy(m)
        p = pickle.loads(pickle.dumps(m))
        with (tg if L is tg else torch).no_grad():
            m.w.fill_(5.0)
        return d(L.tensor([2.])).tolist(), p(L.tensor([2.])).tolist(), d.w is not m.w

    ours, theirs = _both(run)
    assert ours == theirs == ([7.0], [7.0], True)


def test_plain_attribute_and_registered_names_stay_apart():
    m = tg.nn.Linear(2, 2)
    assert "weight" not in vars(m) and "weight" in m._parameters
    m.note = "plain"
    assert vars(m)["note"] == "plain" and "note" not in m._parameters
    m.register_buffer("note2", tg.zeros(1))
    assert "note2" not in vars(m) and m.note2 is m._buffers["note2"]
    del m.weight
    with pytest.raises(AttributeError):
        m.weight  # noqa: B018
