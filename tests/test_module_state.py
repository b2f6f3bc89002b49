"""Module methods around the state dict and the tree, against PyTorch: get_extra_state /
set_extra_state, the state_dict and load_state_dict hooks (pre and post, with their arguments,
order and strict rules), set_submodule, type(dst_type) and to_empty(device=, recurse=).

Each behaviour is run on both libraries (``lib`` is ``nn`` or ``torch.nn``) and compared."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn

torch = pytest.importorskip("torch")
tnn = torch.nn
LIBS = [nn, tnn]


def arr(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def zeros(lib, *shape):
    return torch.zeros(*shape) if lib is tnn else Tensor(np.zeros(shape, np.float32))


def tree(lib):
    """Linear, then a Sequential of a Linear and a BatchNorm: three levels, buffers too."""
    return lib.Sequential(lib.Linear(2, 3), lib.Sequential(lib.Linear(3, 1), lib.BatchNorm1d(1)))


def keys_of(result):
    return list(result.missing_keys), list(result.unexpected_keys)


# ------------------------------------------------------------------ extra state
def extra_classes(lib):
    class WithExtra(lib.Module):  # both methods: its extra state round-trips
        def __init__(self):
            super().__init__()
            self.lin = lib.Linear(1, 1)
            self.register_buffer("b", zeros(lib, 1))
            self.x = 5

        def get_extra_state(self):
            return {"x": self.x}

        def set_extra_state(self, state):
            self.x = state["x"]

    class SaveOnly(lib.Module):  # get_extra_state only: its entry is unexpected when loading
        def __init__(self):
            super().__init__()
            self.w = lib.Parameter(zeros(lib, 1))

        def get_extra_state(self):
            return 7

    return WithExtra, SaveOnly


@pytest.mark.parametrize("lib", LIBS)
def test_extra_state_in_state_dict_as_torch(lib):
    WithExtra, SaveOnly = extra_classes(lib)
    m = lib.Sequential(WithExtra(), SaveOnly())
    sd = m.state_dict()
    assert list(sd) == ["0.b", "0._extra_state", "0.lin.weight", "0.lin.bias", "1.w",
                        "1._extra_state"]
    assert sd["0._extra_state"] == {"x": 5} and sd["1._extra_state"] == 7
    assert list(lib.Linear(1, 1).state_dict()) == ["weight", "bias"]  # no override, no entry
    assert list(m.state_dict(prefix="p.")) == ["p." + k for k in sd]

    fresh = lib.Sequential(WithExtra(), SaveOnly())
    fresh[0].x = 0
    with pytest.raises(RuntimeError, match='1._extra_state'):  # SaveOnly cannot take it back
        fresh.load_state_dict(sd)
    out = fresh.load_state_dict(sd, strict=False)
    assert keys_of(out) == ([], ["1._extra_state"]) and fresh[0].x == 5
    del sd["0._extra_state"]
    fresh[0].x = 0
    assert keys_of(fresh.load_state_dict(sd, strict=False)) == (["0._extra_state"],
                                                                ["1._extra_state"])
    assert fresh[0].x == 0
    with pytest.raises(RuntimeError, match="0._extra_state"):
        fresh.load_state_dict(sd)
    plain = lib.Linear(1, 1).state_dict()
    plain["_extra_state"] = 3
    assert keys_of(lib.Linear(1, 1).load_state_dict(plain, strict=False)) == \
        ([], ["_extra_state"])
    with pytest.raises(RuntimeError, match="_extra_state"):
        lib.Linear(1, 1).load_state_dict(plain)


@pytest.mark.parametrize("lib", LIBS)
def test_base_extra_state_methods_raise_as_torch(lib):
    for call in (lambda m: m.get_extra_state(), lambda m: m.set_extra_state({})):
        with pytest.raises(RuntimeError, match="Module.(get|set)_extra_state"):
            call(lib.Linear(1, 1))


def test_method_signatures_as_torch():
    for name in ("get_extra_state", "set_extra_state", "set_submodule", "type", "to_empty",
                 "register_state_dict_pre_hook", "register_state_dict_post_hook",
                 "register_load_state_dict_pre_hook", "register_load_state_dict_post_hook"):
        ours = [(p.name, p.kind, p.default)
                for p in inspect.signature(getattr(nn.Module, name)).parameters.values()]
        theirs = [(p.name, p.kind, p.default)
                  for p in inspect.signature(getattr(tnn.Module, name)).parameters.values()]
        assert ours == theirs, name


# ------------------------------------------------------------------ state_dict hooks
def state_dict_log(lib, keep_vars=False):
    m = tree(lib)
    log = []
    for path, mod in (("root", m), ("1", m[1]), ("1.0", m[1][0])):
        mod.register_state_dict_pre_hook(
            lambda module, prefix, kv, path=path: log.append(("pre", path, prefix, kv)))
        mod.register_state_dict_post_hook(
            lambda module, sd, prefix, md, path=path: log.append(
                ("post", path, prefix, len(sd), sorted(md))))
    m.state_dict(keep_vars=keep_vars)
    m.state_dict(prefix="top.")
    return log


def test_state_dict_hooks_order_and_arguments_as_torch():
    for keep_vars in (False, True):
        assert state_dict_log(nn, keep_vars) == state_dict_log(tnn, keep_vars)
    log = state_dict_log(nn)
    assert log[:3] == [("pre", "root", "", False), ("pre", "1", "1.", False),
                       ("pre", "1.0", "1.0.", False)]
    assert [e[1] for e in log[3:6]] == ["1.0", "1", "root"]  # post: children first


@pytest.mark.parametrize("lib", LIBS)
def test_state_dict_hooks_change_the_state_and_are_removable(lib):
    m = tree(lib)

    def pre(module, prefix, keep_vars):  # e.g. sync a value into a parameter before saving
        with torch.no_grad() if lib is tnn else tg.no_grad():
            module.weight.fill_(0.5)

    def post(module, sd, prefix, local_metadata):  # in place: drop the BatchNorm's counter
        del sd[prefix + "1.num_batches_tracked"]

    h1 = m[0].register_state_dict_pre_hook(pre)
    h2 = m[1].register_state_dict_post_hook(post)
    sd = m.state_dict(prefix="p.")
    assert np.all(arr(sd["p.0.weight"]) == 0.5) and "p.1.1.num_batches_tracked" not in sd
    h1.remove()
    h2.remove()
    assert "1.1.num_batches_tracked" in m.state_dict()
    m.register_state_dict_post_hook(lambda module, sd, prefix, md: {})
    with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
        m.state_dict()


# ------------------------------------------------------------------ load_state_dict hooks
def load_log(lib, strict):
    m = tree(lib)
    log = []
    for path, mod in (("root", m), ("1", m[1]), ("1.1", m[1][1])):
        mod.register_load_state_dict_pre_hook(
            lambda module, sd, prefix, md, strict_, missing, unexpected, errors, path=path:
            log.append(("pre", path, prefix, strict_, sorted(sd), list(missing),
                        list(unexpected), list(errors))))
        mod.register_load_state_dict_post_hook(
            lambda module, keys, path=path: log.append(
                ("post", path, type(keys).__name__.strip("_"), list(keys.missing_keys),
                 list(keys.unexpected_keys))))
    sd = tree(lib).state_dict()
    del sd["0.bias"], sd["1.1.running_var"]
    sd["zz"] = zeros(lib, 1)
    sd["1.0.q"] = zeros(lib, 1)
    sd["1.5.w"] = zeros(lib, 1)
    try:
        result = keys_of(m.load_state_dict(sd, strict=strict))
    except RuntimeError:
        result = "error"
    return log, result


@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_hooks_order_arguments_and_keys_as_torch(strict):
    ours, theirs = load_log(nn, strict), load_log(tnn, strict)
    assert ours == theirs
    log, result = ours
    assert result == ("error" if strict else (["0.bias", "1.1.running_var"],
                                              ["zz", "1.5.w", "1.0.q"]))
    # pre-hooks always get strict=True (PyTorch's), a post-hook the keys found so far
    assert [e[:3] for e in log] == [("pre", "root", ""), ("pre", "1", "1."), ("pre", "1.1", "1.1."),
                                    ("post", "1.1", "IncompatibleKeys"),
                                    ("post", "1", "IncompatibleKeys"),
                                    ("post", "root", "IncompatibleKeys")]
    assert all(e[3] is True for e in log if e[0] == "pre")


@pytest.mark.parametrize("lib", LIBS)
def test_load_pre_hook_renames_keys_and_can_fail_the_load(lib):
    m = tree(lib)
    src = tree(lib)
    sd = src.state_dict()
    sd["0.old_weight"] = sd.pop("0.weight")  # an old checkpoint's name

    def rename(module, state, prefix, md, strict, missing, unexpected, errors):
        if prefix + "old_weight" in state:
            state[prefix + "weight"] = state.pop(prefix + "old_weight")

    with pytest.raises(RuntimeError, match="0.old_weight"):
        m.load_state_dict(sd)
    handle = m[0].register_load_state_dict_pre_hook(rename)  # the child's part, with its prefix
    assert keys_of(m.load_state_dict(sd)) == ([], [])
    np.testing.assert_array_equal(arr(m[0].weight), arr(src[0].weight))
    handle.remove()

    def rename_at_root(module, state, prefix, md, strict, missing, unexpected, errors):
        state["0.weight"] = state.pop("0.old_weight")

    m = tree(lib)
    m.register_load_state_dict_pre_hook(rename_at_root)  # the root's: the whole (copied) dict
    assert keys_of(m.load_state_dict(sd)) == ([], [])
    assert "0.old_weight" in sd  # the hooks changed copies
    np.testing.assert_array_equal(arr(m[0].weight), arr(src[0].weight))
    m[1].register_load_state_dict_pre_hook(
        lambda module, state, prefix, md, strict, missing, unexpected, errors:
        errors.append("refused by the hook"))
    with pytest.raises(RuntimeError, match="refused by the hook"):
        m.load_state_dict(sd, strict=False)


@pytest.mark.parametrize("lib", LIBS)
def test_load_post_hook_decides_strict_as_torch(lib):
    m = tree(lib)
    sd = tree(lib).state_dict()
    del sd["0.bias"]
    sd["extra"] = zeros(lib, 1)

    def forgive(module, keys):
        keys.missing_keys.clear()
        keys.unexpected_keys.clear()

    handle = m.register_load_state_dict_post_hook(forgive)
    assert keys_of(m.load_state_dict(sd)) == ([], [])  # strict, and it passes
    handle.remove()
    with pytest.raises(RuntimeError):
        m.load_state_dict(sd)

    def add(module, keys):
        keys.missing_keys.append("foo")

    handle = m[1].register_load_state_dict_post_hook(add)
    full = tree(lib).state_dict()
    with pytest.raises(RuntimeError, match="foo"):
        m.load_state_dict(full)
    assert keys_of(m.load_state_dict(full, strict=False)) == (["foo"], [])
    handle.remove()
    m.register_load_state_dict_post_hook(lambda module, keys: 1)
    with pytest.raises(AssertionError, match="not expected to return new values"):
        m.load_state_dict(full)


@pytest.mark.parametrize("assign", [False, True])
def test_a_post_hook_sees_the_loaded_values_and_a_failed_load_changes_nothing(assign):
    """A post-hook sees its module loaded (as PyTorch's); when the load then fails, our
    parameters and buffers are as before it (PyTorch leaves them half loaded)."""
    m, src = tree(nn), tree(nn)
    with tg.no_grad():
        for p in src.parameters():
            p.fill_(0.25)
    objects = m.state_dict(keep_vars=True)
    before = {k: v.numpy().copy() for k, v in objects.items()}
    seen = []
    m[1].register_load_state_dict_post_hook(
        lambda module, keys: seen.append(module[0].weight.numpy().copy()))
    m.register_load_state_dict_post_hook(lambda module, keys: keys.missing_keys.append("foo"))
    with pytest.raises(RuntimeError, match="missing keys: foo"):
        m.load_state_dict(src.state_dict(), assign=assign)
    assert np.all(seen[0] == 0.25)
    for k, v in m.state_dict(keep_vars=True).items():
        assert v is objects[k]
        np.testing.assert_array_equal(v.numpy(), before[k])
    # without post-hooks nothing is written until every check has passed
    plain = tree(nn)
    before = {k: v.numpy().copy() for k, v in plain.state_dict().items()}
    sd = src.state_dict()
    sd["1.1.weight"] = Tensor(np.zeros(3, np.float32))  # mis-shaped: the load fails
    with pytest.raises(RuntimeError, match="size mismatch for 1.1.weight"):
        plain.load_state_dict(sd, strict=False)
    for k, v in plain.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


@pytest.mark.parametrize("assign", [False, True])
def test_load_with_hooks_keeps_assign_and_values(assign):
    m, src = tree(nn), tree(nn)
    m.register_load_state_dict_post_hook(lambda module, keys: None)
    m.load_state_dict(src.state_dict(), assign=assign)
    for a, b in zip(m.state_dict().values(), src.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())


# ------------------------------------------------------------------ set_submodule
@pytest.mark.parametrize("lib", LIBS)
def test_set_submodule_as_torch(lib):
    m = tree(lib)
    new = lib.ReLU()
    m.set_submodule("1.0", new, strict=True)
    assert m[1][0] is new and m.get_submodule("1.0") is new
    m.set_submodule("1.extra", lib.Tanh())  # a new child (not strict)
    assert [n for n, _ in m[1].named_children()] == ["0", "1", "extra"]
    assert m.set_submodule("0", lib.Identity()) is None and isinstance(m[0], lib.Identity)
    m.plain = 3
    bad = [(("", lib.ReLU()), ValueError, "Cannot set the submodule without a target name"),
           (("0", 3), ValueError, "is not an nn.Module"),
           (("2", lib.ReLU(), True), AttributeError, "has no attribute `2`"),
           (("1.1.weight", lib.ReLU()), AttributeError, "`weight` is not an nn.Module"),
           (("5.x", lib.ReLU()), AttributeError, "has no attribute `5`"),
           (("1.1.weight.x", lib.ReLU()), AttributeError, "`weight` is not an nn.Module"),
           (("plain", lib.ReLU()), AttributeError, "`plain` is not an nn.Module"),
           (("training", lib.ReLU()), AttributeError, "`training` is not an nn.Module")]
    for args, error, message in bad:
        with pytest.raises(error, match=message):
            m.set_submodule(*args)


# ------------------------------------------------------------------ type and to_empty
@pytest.mark.parametrize("lib", LIBS)
def test_type_casts_every_parameter_and_buffer_as_torch(lib):
    for dst in ((torch.float64 if lib is tnn else tg.float64), "torch.DoubleTensor"):
        bn = lib.BatchNorm1d(3)
        w = bn.weight
        bn.weight.grad = torch.ones(3) if lib is tnn else Tensor(np.ones(3, np.float32))
        assert bn.type(dst) is bn
        assert bn.weight is w and bn.weight.requires_grad
        dtypes = {str(t.dtype).replace("torch.", "") for t in bn.state_dict().values()}
        assert dtypes == {"float64"}  # num_batches_tracked too, unlike .double()
        assert str(bn.weight.grad.dtype).replace("torch.", "") == "float64"
    lin = lib.Linear(2, 3)
    with pytest.raises(RuntimeError, match="must be floating point or complex"):
        lin.type(torch.int64 if lib is tnn else tg.long)
    assert str(lin.weight.dtype).replace("torch.", "") == "float32"
    bn = lib.BatchNorm1d(3)
    bn.requires_grad_(False)
    bn.type(torch.float16 if lib is tnn else tg.half)
    assert str(bn.num_batches_tracked.dtype).replace("torch.", "") == "float16"


@pytest.mark.parametrize("lib", LIBS)
def test_to_empty_as_torch(lib):
    m = tree(lib)
    m.register_buffer("steps", torch.ones(2, dtype=torch.int32) if lib is tnn
                      else Tensor(np.ones(2, np.int32)))
    m[0].weight.grad = torch.ones(3, 2) if lib is tnn else Tensor(np.ones((3, 2), np.float32))
    before = {k: arr(v) for k, v in m.state_dict(keep_vars=True).items()}  # (their memory)
    params = list(m.parameters())
    assert m.to_empty(device="cpu") is m
    assert all(a is b for a, b in zip(m.parameters(), params))  # the same Parameter objects
    for k, v in m.state_dict(keep_vars=True).items():
        old = before[k]
        assert tuple(v.shape) == old.shape and arr(v).dtype == old.dtype
        assert not np.shares_memory(arr(v), old)  # new memory, values not copied
    assert all(p.requires_grad for p in m.parameters())
    assert tuple(m[0].weight.grad.shape) == (3, 2)
    m = tree(lib)
    m.register_buffer("steps", zeros(lib, 2))
    child = m[0].weight
    own = arr(m.steps)
    kept = arr(child).copy()
    m.to_empty(device=None, recurse=False)  # only the root's own buffer
    np.testing.assert_array_equal(arr(m[0].weight), kept)
    assert m[0].weight is child and tuple(m.steps.shape) == own.shape
    with pytest.raises(TypeError):
        m.to_empty()  # device is keyword-only and required
    with pytest.raises(TypeError):
        m.to_empty("cpu")


def test_a_state_dict_value_that_is_not_numbers_and_a_path_that_is_not_a_string_are_refused():
    """An outside tester: load_state_dict({"p": None}) set a parameter to NaN and "7" read as
    7.0 (PyTorch refuses any non-tensor); get_submodule(0) returned the whole module."""
    m = nn.Linear(2, 1)
    before = m.weight.numpy().copy()
    for bad in (None, "7", np.array([None, None])):
        with pytest.raises(RuntimeError, match="expected a tensor or a numeric array"):
            m.load_state_dict({"weight": bad, "bias": m.bias})
        np.testing.assert_array_equal(m.weight.numpy(), before)
    m.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": m.bias})  # arrays still load
    assert m.weight.tolist() == [[1.0, 2.0]]
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    assert seq.get_submodule("0") is seq[0]
    for bad in (0, None, False, 0.0):
        with pytest.raises(TypeError, match="get_submodule: target must be a dotted path"):
            seq.get_submodule(bad)


def test_a_dotted_parameter_name_is_refused_at_setattr_and_constant_takes_val():
    """An outside tester: setattr(m, "a.b", Parameter) was taken, and the module then could not
    load its own state_dict (PyTorch: KeyError at the setattr); nn.init.constant_'s argument is
    PyTorch's `val`."""
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        setattr(m, "a.b", nn.Parameter(tg.zeros(1)))
    assert m.state_dict() == {}
    t = tg.empty(2)
    nn.init.constant_(t, val=0.5)
    assert t.tolist() == [0.5, 0.5]
