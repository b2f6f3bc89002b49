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


def _versioned(L):
    class M(L.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = L.nn.Parameter(L.zeros(1))

        def _load_from_state_dict(self, sd, prefix, *args):  # a legacy-key migration
            if prefix + "w" in sd:
                sd[prefix + "weight"] = sd.pop(prefix + "w")
            super()._load_from_state_dict(sd, prefix, *args)

        def _save_to_state_dict(self, dest, prefix, keep_vars):
            super()._save_to_state_dict(dest, prefix, keep_vars)
            dest[prefix + "extra"] = L.ones(1)

    return M


def test_save_and_load_overrides_are_called():
    def run(L):
        M = _versioned(L)
        m = M()
        r = m.load_state_dict({"w": L.ones(1) * 5}, strict=False)
        first = (m.weight.tolist(), r.missing_keys, list(m.state_dict()))
        s = L.nn.Sequential(M())
        r = s.load_state_dict({"0.w": L.ones(1) * 7, "0.extra": L.ones(1)}, strict=False)
        return first, (s[0].weight.tolist(), r.missing_keys, r.unexpected_keys)

    ours, theirs = _both(run)
    assert ours == theirs == (([5.0], [], ["weight", "extra"]), ([7.0], [], ["0.extra"]))


def test_a_failed_load_through_an_override_changes_nothing():
    M = _versioned(tg)
    s = tg.nn.Sequential(M(), tg.nn.Linear(1, 1))
    before = s[1].weight.tolist()
    with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
        s.load_state_dict({"0.w": tg.ones(1) * 7, "1.weight": tg.ones(2, 2),
                           "1.bias": tg.ones(1)})
    assert s[0].weight.tolist() == [0.0] and s[1].weight.tolist() == before


def test_a_childs_state_dict_override_is_called():
    def run(L):
        class C(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = L.nn.Parameter(L.ones(1))

            def state_dict(self, *a, **k):
                d = super().state_dict(*a, **k)
                d[k.get("prefix", "") + "scaled"] = d[k.get("prefix", "") + "w"] * 10
                return d

        sd = L.nn.Sequential(C(), L.nn.Linear(1, 1)).state_dict()
        return list(sd), sd["0.scaled"].tolist()

    ours, theirs = _both(run)
    assert ours == theirs == (["0.w", "0.scaled", "1.weight", "1.bias"], [10.0])


def test_apply_override_runs_in_to_and_double():
    def run(L):
        class A(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = L.nn.Linear(1, 1)
                self.cache = L.ones(2)

            def _apply(self, fn, *a, **k):
                super()._apply(fn, *a, **k)
                self.cache = fn(self.cache)
                return self

        a = A()
        w = a.lin.weight
        a.double()
        out = [str(a.cache.dtype), str(a.lin.weight.dtype), a.lin.weight is w]
        a.to(dtype=(tg if L is tg else torch).float32)
        return [*out, str(a.cache.dtype)]

    ours, theirs = _both(run)
    assert [s.replace("torch.", "") for s in map(str, theirs)] == list(map(str, ours))
    assert ours == ["float64", "float64", True, "float32"]


def test_state_dict_metadata_carries_each_modules_version_as_pytorch():
    def run(L):
        m = L.nn.Sequential(L.nn.Conv2d(1, 2, 3), L.nn.BatchNorm2d(2))
        sd = m.state_dict()
        meta = dict(sd._metadata)
        del sd["1.num_batches_tracked"]  # a version-2 BatchNorm entry missing: reported
        try:
            m.load_state_dict(sd)
            strict = "loaded"
        except RuntimeError:
            strict = "missing"
        old = {k: v for k, v in m.state_dict().items() if "num_batches" not in k}  # no metadata
        return meta, strict, repr(m.load_state_dict(old))

    ours, theirs = _both(run)
    assert ours == theirs
    assert ours[0] == {"": {"version": 1}, "0": {"version": 1}, "1": {"version": 2}}
    assert ours[1] == "missing" and ours[2] == "<All keys matched successfully>"


def test_a_migration_reads_the_version_it_saved():
    seen = []

    class M(tg.nn.Module):
        _version = 3

        def __init__(self):
            super().__init__()
            self.w = tg.nn.Parameter(tg.ones(1))

        def _load_from_state_dict(self, sd, prefix, local_metadata, *args):
            seen.append(local_metadata.get("version"))
            super()._load_from_state_dict(sd, prefix, local_metadata, *args)

    m = M()
    m.load_state_dict(m.state_dict())
    m.load_state_dict(dict(m.state_dict()))  # (a plain dict: no metadata, as PyTorch's)
    assert seen == [3, None]
