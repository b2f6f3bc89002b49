"""Module API forms ported code uses, against PyTorch: Sequential's and ModuleList's list
methods (with PyTorch's renumbering), ``state_dict(prefix=, keep_vars=, destination=)``, the
``device=``/``dtype=`` factory arguments of layers with parameters, ``ConvTranspose2d(x,
output_size=)``, PyTorch's reprs of the convolutions and LayerNorm, forward hooks and the global
module hooks."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn

torch = pytest.importorskip("torch")


def _names(seq):
    return [type(m).__name__ for m in seq], list(seq._modules)


def test_sequential_list_methods_renumber_as_torch():
    results = []
    for lib in (torch.nn, nn):
        s = lib.Sequential(lib.Linear(1, 2), lib.ReLU(), lib.Linear(2, 3))
        s.insert(1, lib.Tanh())
        s.insert(-1, lib.Identity())
        s.insert(len(s), lib.Sigmoid())
        del s[0]
        popped = s.pop(-1)
        s[0] = lib.ReLU6()
        both = s + lib.Sequential(lib.Linear(3, 1))
        both.extend([lib.Tanh()])
        both += lib.Sequential(lib.ELU())
        del both[1:3]
        named = lib.Sequential(__import__("collections").OrderedDict(a=lib.ReLU(), b=lib.Tanh()))
        del named[0]  # PyTorch renumbers named keys too
        results.append((_names(both), type(popped).__name__, _names(named), _names(s[-2:])))
    assert results[0] == results[1]
    for lib, err in ((torch.nn, IndexError), (nn, IndexError)):
        with pytest.raises(err):
            lib.Sequential(lib.ReLU())[3]
        with pytest.raises(err):
            lib.Sequential(lib.ReLU()).insert(5, lib.ReLU())
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU())[0] = lambda x: x


def test_module_list_pop_and_add_as_torch():
    results = []
    for lib in (torch.nn, nn):
        ml = lib.ModuleList([lib.Tanh(), lib.ReLU(), lib.ELU()])
        first = ml.pop(0)
        joined = ml + lib.ModuleList([lib.Sigmoid()])
        results.append((type(first).__name__, _names(ml), _names(joined)))
    assert results[0] == results[1]


def test_state_dict_options_as_torch():
    ours, theirs = nn.Linear(2, 3), torch.nn.Linear(2, 3)
    assert list(ours.state_dict(prefix="m.")) == list(theirs.state_dict(prefix="m."))
    kept = ours.state_dict(keep_vars=True)
    assert kept["weight"] is ours.weight and kept["weight"].requires_grad
    assert ours.state_dict()["weight"] is not ours.weight
    assert not ours.state_dict()["weight"].requires_grad
    dest = {"other": 1}
    assert ours.state_dict(destination=dest, prefix="p.") is dest
    assert list(dest) == ["other", "p.weight", "p.bias"]
    positional = ours.state_dict(None, "q.")
    assert list(positional) == ["q.weight", "q.bias"]


@pytest.mark.parametrize("make", [
    lambda lib, **kw: lib.Linear(3, 2, **kw), lambda lib, **kw: lib.Conv2d(2, 3, 3, **kw),
    lambda lib, **kw: lib.ConvTranspose2d(2, 3, 3, **kw),
    lambda lib, **kw: lib.BatchNorm2d(3, **kw), lambda lib, **kw: lib.BatchNorm1d(3, **kw),
    lambda lib, **kw: lib.LayerNorm(4, **kw), lambda lib, **kw: lib.GroupNorm(2, 4, **kw),
    lambda lib, **kw: lib.InstanceNorm2d(3, affine=True, track_running_stats=True, **kw),
    lambda lib, **kw: lib.Embedding(5, 2, **kw), lambda lib, **kw: lib.PReLU(3, **kw)])
def test_factory_arguments_give_torchs_dtypes(make):
    for dt, tdt in ((tg.float64, torch.float64), (tg.float16, torch.float16)):
        ours = make(nn, device="cpu", dtype=dt).state_dict()
        theirs = make(torch.nn, device="cpu", dtype=tdt).state_dict()
        assert list(ours) == list(theirs)
        for k, v in theirs.items():
            assert str(ours[k].dtype) == str(v.dtype).removeprefix("torch."), k
    with pytest.raises(TypeError, match="floating"):
        make(nn, dtype=tg.int64)


def test_conv_transpose_output_size_as_torch():
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5)).astype(np.float32)
    for size in [(9, 9), (10, 10), (1, 3, 10, 9), [9, 10]]:
        a = ours(tg.Tensor(x), output_size=size)
        b = theirs(torch.tensor(x), output_size=size)
        assert a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    for size in [(8, 8), (11, 11)]:
        with pytest.raises(ValueError):
            theirs(torch.tensor(x), output_size=size)
        with pytest.raises(ValueError, match="valid sizes for input .* range from 9 to 10"):
            ours(tg.Tensor(x), output_size=size)


@pytest.mark.parametrize("args,kw", [
    ((2, 3, 3), {}), ((2, 4, 3), dict(stride=2, padding=1, dilation=2, groups=2, bias=False)),
    ((2, 3, (3, 5)), dict(padding="same")), ((2, 3, 3), dict(padding_mode="reflect", padding=1))])
def test_conv_repr_as_torch(args, kw):
    assert repr(nn.Conv2d(*args, **kw)) == repr(torch.nn.Conv2d(*args, **kw))
    if "padding_mode" not in kw and kw.get("padding") != "same":
        kw = dict(kw, output_padding=1) if kw.get("stride") else kw
        assert repr(nn.ConvTranspose2d(*args, **kw)) == repr(torch.nn.ConvTranspose2d(*args, **kw))


def test_layer_norm_repr_as_torch():
    for kw in ({}, {"bias": False}, {"elementwise_affine": False}):
        assert repr(nn.LayerNorm(3, **kw)) == repr(torch.nn.LayerNorm(3, **kw))


def test_children_lists_a_shared_module_once():
    for lib in (torch.nn, nn):
        shared = lib.Linear(2, 2)
        net = lib.Sequential(shared, lib.ReLU(), shared)
        assert len(list(net.children())) == 2 and [n for n, _ in net.named_children()] == ["0", "1"]


def test_tensor_dataset_items_are_tensors_and_subset_works_with_any_dataset():
    from tinygrad_cnn.data import DataLoader, Subset, TensorDataset

    tdata = torch.utils.data
    x, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    ours, theirs = TensorDataset(tg.tensor(x), tg.tensor(y)), tdata.TensorDataset(
        torch.tensor(x), torch.tensor(y))
    img, lab = ours[3]
    assert isinstance(img, tg.Tensor) and isinstance(ours.tensors[0], tg.Tensor)
    assert (img + 1).tolist() == (theirs[3][0] + 1).tolist() and lab.item() == 3
    assert tg.stack([ours[i][0] for i in range(3)]).shape == (3, 2)

    class Numbers:
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return i * 10

    for data in (Numbers(), list(range(10))):
        got = [b.tolist() for b in DataLoader(Subset(data, [1, 5, 7]), batch_size=2)]
        want = [b.tolist() for b in tdata.DataLoader(tdata.Subset(data, [1, 5, 7]), batch_size=2)]
        assert got == want
    assert [b[1].tolist() for b in DataLoader(Subset(ours, [1, 5, 3]), batch_size=2)] == \
        [[1, 5], [3]]


def test_optimizer_state_from_pytorch_loads_and_continues_alike():
    x = np.random.default_rng(0).standard_normal((5, 3))
    for kind, kw in (("Adam", dict(lr=0.1, amsgrad=True)), ("SGD", dict(lr=0.1, momentum=0.9)),
                     ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                     ("Adagrad", dict(lr=0.1)), ("AdamW", dict(lr=0.1))):
        tm = torch.nn.Linear(3, 2).double()
        to = getattr(torch.optim, kind)(tm.parameters(), **kw)
        for _ in range(2):
            to.zero_grad()
            (tm(torch.tensor(x)) ** 2).sum().backward()
            to.step()
        om = nn.Linear(3, 2).double()
        om.load_state_dict(tm.state_dict())
        oo = getattr(tg.optim, kind)(om.parameters(), **kw)
        oo.load_state_dict(to.state_dict())  # PyTorch's tensors in the state, its 0-d step
        for _ in range(2):
            for model, opt, lib in ((tm, to, torch), (om, oo, tg)):
                opt.zero_grad()
                (model(lib.tensor(x)) ** 2).sum().backward()
                opt.step()
        np.testing.assert_allclose(om.weight.numpy(), tm.weight.detach().numpy(), rtol=1e-12)


def test_loading_a_pytorch_file_says_what_it_is(tmp_path):
    torch.save({"a": torch.ones(2)}, tmp_path / "x.pt")
    with pytest.raises(tg.CheckpointError, match="is a PyTorch file"):
        tg.load(tmp_path / "x.pt")


def test_forward_hooks_as_torch():
    """Feature maps by forward hooks, inputs changed by a pre-hook, an output replaced, kwargs
    forms, prepend, and handles that remove them -- against PyTorch; a Grad-CAM style gradient
    via a tensor hook registered in a forward hook."""
    out = []
    for lib in (tg, torch):
        lib.manual_seed(0)
        m = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        m[2].load_state_dict({"weight": lib.tensor(np.arange(8.0).reshape(2, 4) / 8,
                                                   dtype=lib.float32),
                              "bias": lib.zeros(2)})
        m[0].load_state_dict({"weight": lib.tensor(np.arange(12.0).reshape(4, 3) / 12 - 0.3,
                                                   dtype=lib.float32), "bias": lib.zeros(4)})
        seen, order, grads = {}, [], {}

        def keep(mod, inp, output):
            seen["relu"] = output.detach()
            output.register_hook(lambda g: grads.__setitem__("relu", g))

        handles = [m[1].register_forward_hook(keep),
                   m[0].register_forward_pre_hook(lambda mod, args: (args[0] * 2,)),
                   m[2].register_forward_hook(lambda mod, args, output: output + 1),
                   m[2].register_forward_hook(lambda mod, args, output: order.append("second")),
                   m[2].register_forward_hook(lambda mod, args, output: order.append("first"),
                                              prepend=True),
                   m[0].register_forward_pre_hook(
                       lambda mod, args, kwargs: (args, kwargs), with_kwargs=True)]
        x = lib.tensor(np.array([[1.0, -2.0, 0.5]]), dtype=lib.float32, requires_grad=True)
        y = m(x)
        y.sum().backward()
        first = (y.tolist(), seen["relu"].tolist(), grads["relu"].tolist(), list(order))
        for h in handles:
            h.remove()
        out.append((first, m(x).tolist()))
    np.testing.assert_allclose(np.array(out[0][0][0]), np.array(out[1][0][0]), rtol=1e-6)
    assert out[0][0][3] == out[1][0][3] == ["first", "second"]
    np.testing.assert_allclose(out[0][0][1], out[1][0][1], rtol=1e-6)
    np.testing.assert_allclose(out[0][0][2], out[1][0][2], rtol=1e-6)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-6)
    with pytest.raises(TypeError, match="callable"):
        nn.Linear(1, 1).register_forward_hook(3)


def _global_hooks_log(lib):
    """Every global module hook, with a module's own, through a Sequential's forward and
    backward; global hooks that change arguments, outputs and gradients; always_call; removal."""
    hooks, log = lib.nn.modules.module, []

    def kind(mod):
        return type(mod).__name__

    def shapes(grads):
        return [None if g is None else tuple(g.shape) for g in grads]

    net = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Tanh())
    net[0].load_state_dict({"weight": lib.tensor(np.arange(6.0).reshape(2, 3) / 6 - 0.4,
                                                 dtype=lib.float32), "bias": lib.zeros(2)})
    net[0].register_forward_pre_hook(lambda mod, a: log.append(("pre", kind(mod))))
    net[0].register_forward_hook(lambda mod, a, o: log.append(("post", kind(mod))))
    net[1].register_full_backward_hook(lambda mod, gi, go: log.append(("backward", kind(mod))))
    net[1].register_full_backward_pre_hook(lambda mod, go: log.append(("bpre", kind(mod))))
    handles = [
        hooks.register_module_forward_pre_hook(lambda mod, a: log.append(("gpre", kind(mod)))),
        hooks.register_module_forward_hook(
            lambda mod, a, o: log.append(("gpost", kind(mod), tuple(o.shape)))),
        hooks.register_module_forward_hook(
            lambda mod, a, k, o: log.append(("gpost kw", kind(mod), sorted(k))), with_kwargs=True),
        hooks.register_module_full_backward_pre_hook(
            lambda mod, go: log.append(("gbpre", kind(mod), shapes(go)))),
        hooks.register_module_full_backward_hook(
            lambda mod, gi, go: log.append(("gbackward", kind(mod), shapes(gi))))]
    try:
        x = lib.ones(4, 3, requires_grad=True)
        net(x).sum().backward()
        tanh = lib.nn.Tanh
        changes = [
            hooks.register_module_forward_pre_hook(
                lambda mod, a: (a[0] * 2,) if isinstance(mod, tanh) else None),
            hooks.register_module_forward_hook(
                lambda mod, a, o: o + 1 if isinstance(mod, tanh) else None),
            hooks.register_module_full_backward_hook(
                lambda mod, gi, go: (gi[0] * 3,) if isinstance(mod, tanh) else None)]
        x2 = lib.tensor([[1.0, -2.0, 0.5]], requires_grad=True)
        out = net(x2)
        out.sum().backward()
        log.append(("changed", np.round(out.tolist(), 5).tolist(),
                    np.round(x2.grad.tolist(), 5).tolist()))
        for h in changes:
            h.remove()
    finally:
        for h in handles:
            h.remove()
    net(lib.ones(1, 3))  # only the module's own hooks now
    log.append("removed")

    class Boom(lib.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    with hooks.register_module_forward_hook(lambda mod, a, o: log.append(("always", o)),
                                            always_call=True):
        with pytest.raises(ValueError, match="boom"):
            Boom()(lib.ones(1))
    with pytest.raises(ValueError, match="boom"):
        Boom()(lib.ones(1))
    cut = hooks.register_module_full_backward_pre_hook(
        lambda mod, go: (None,) if isinstance(mod, lib.nn.Tanh) else None)
    try:
        x3 = lib.ones(1, 3, requires_grad=True)
        net(x3).sum().backward()
        log.append(("cut", x3.grad.tolist()))
    finally:
        cut.remove()
    return log


def test_global_module_hooks_as_torch():
    """``nn.modules.module.register_module_forward_pre_hook``, ``register_module_forward_hook``
    (``with_kwargs``, ``always_call``), ``register_module_full_backward_pre_hook`` and
    ``register_module_full_backward_hook``: run for every module's call (a container's and its
    children's), before the module's own hooks, changing what they return; removable handles."""
    from tinygrad_cnn.nn.modules.module import register_module_forward_hook

    assert register_module_forward_hook is tg.nn.modules.module.register_module_forward_hook
    assert _global_hooks_log(tg) == _global_hooks_log(torch)
    assert not tg.nn.module._GLOBAL_HOOKS_ON  # (all removed: the plain call path again)
    with pytest.raises(TypeError, match="callable"):
        tg.nn.modules.module.register_module_forward_hook(3)
