"""More regressions found by outside testers in the nn package, each checked against PyTorch:
containers built from other containers and mappings (and holding None), forward hooks' return values and
``always_call``, attributes set before ``Module.__init__``, mixed-precision norms, Embedding's
``max_norm``, empty adaptive pools, container reprs, and the layers and Module methods that were
missing."""

from __future__ import annotations

import types
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.nn import functional as F

torch = pytest.importorskip("torch")
tnn = torch.nn


def arr(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def lib_tensor(lib, a):
    return torch.tensor(a) if lib is tnn else Tensor(a)


# ------------------------------------------------------------------ 1. containers from containers
@pytest.mark.parametrize("lib", [nn, tnn])
def test_module_dict_takes_any_mapping_and_module_dict(lib):
    d = lib.ModuleDict(lib.ModuleDict({"cd": lib.Tanh()}))
    assert list(d) == ["cd"]
    d.update(lib.ModuleDict({"ab": lib.ReLU(), "e": lib.Sigmoid()}))
    d.update(types.MappingProxyType({"fg": lib.ReLU()}))  # a Mapping that is not a dict
    d.update(OrderedDict(h=lib.Tanh()))
    d.update([("ij", lib.ReLU())])
    d.update(lib.ModuleDict({"k": lib.Tanh()}).items())
    assert list(d) == ["cd", "ab", "e", "fg", "h", "ij", "k"]
    assert isinstance(d["fg"], lib.ReLU)
    with pytest.raises(TypeError):
        d.update(3)
    with pytest.raises(ValueError, match="length 3; 2 is required"):
        d.update([("a", lib.ReLU(), 1)])


def test_module_dict_update_errors_as_torch():
    for lib in (nn, tnn):
        d = lib.ModuleDict()
        with pytest.raises(TypeError, match="iterable"):
            d.update(3)
        with pytest.raises(TypeError, match="element #0"):
            d.update([3])


def _containers_with_none(lib):
    """What ModuleDict, ModuleList and Sequential make of None entries (PyTorch's: an empty slot,
    kept by key, len, indexing and repr, skipped by children, parameters and state_dict)."""
    lin = lib.Linear(1, 1)
    d = lib.ModuleDict({"a": None, "b": lin})
    d["c"] = None
    d.update({"e": None})
    ml = lib.ModuleList([None, lib.Tanh()])
    ml.append(None)
    ml.insert(0, None)
    ml.extend([None])
    ml[1] = None
    seq = lib.Sequential(lib.Identity(), None)
    seq.append(None)
    seq[0] = None
    named = lib.Sequential(OrderedDict([("x", None), ("y", lib.Tanh())]))
    out = []
    for c in (d, ml, seq, named):
        out.append((len(c), repr(c), [type(m).__name__ for m in c.children()],
                    [k for k, _ in c.named_modules()], list(c.state_dict()),
                    len(list(c.parameters())), type(c.to(lib_tensor(lib, np.ones(1)).dtype))))
    out.append((list(d), d["a"], "a" in d, [type(v).__name__ for v in d.values()],
                d.pop("a"), list(d), ml[0], [type(m).__name__ for m in ml], seq[0],
                [type(m).__name__ for m in seq[1:]]))
    with pytest.raises(TypeError, match="not callable"):
        lib.Sequential(lib.Identity(), None)(lib_tensor(lib, np.ones(1)))
    with pytest.raises((TypeError, AssertionError)):  # (PyTorch's insert: an assert)
        lib.Sequential(lib.Identity()).insert(0, None)
    return out


def test_containers_hold_none_as_torch():
    ours, theirs = _containers_with_none(nn), _containers_with_none(tnn)
    assert [o[:6] for o in ours[:4]] == [t[:6] for t in theirs[:4]]
    assert ours[4] == theirs[4]
    for bad in (nn.ModuleDict, lambda v: nn.ModuleList([v]), nn.Sequential):
        with pytest.raises(TypeError, match="not a Module"):
            bad({"a": 3} if bad is nn.ModuleDict else 3)


@pytest.mark.parametrize("lib", [nn, tnn])
def test_lists_and_sequentials_from_each_other(lib):
    ml = lib.ModuleList(lib.ModuleList([lib.ReLU()]))
    ml.extend(lib.ModuleList([lib.Tanh()]))
    ml.extend(lib.Sequential(lib.Tanh()))
    assert len(ml) == 3
    s = lib.Sequential(lib.ReLU())
    s.extend(lib.Sequential(lib.Tanh()))
    s.extend(lib.ModuleList([lib.Tanh()]))
    s += lib.Sequential(lib.ReLU())
    assert len(s) == 4 and list(s.state_dict()) == []
    p = lib.ParameterList(lib.ParameterList([lib.Parameter(lib_tensor(lib, np.ones(2)))]))
    assert len(p) == 1 and list(p.state_dict()) == ["0"]
    pd = lib.ParameterDict(lib.ParameterDict({"cd": lib.Parameter(lib_tensor(lib, np.ones(2)))}))
    pd.update(lib.ParameterDict({"ab": lib.Parameter(lib_tensor(lib, np.ones(1)))}))
    pd.update(types.MappingProxyType({"z": lib_tensor(lib, np.ones(1)),
                                      "y": lib_tensor(lib, np.ones(1))}))  # sorted, as a dict
    assert list(pd) == ["cd", "ab", "y", "z"]
    with pytest.raises(TypeError):
        ml.extend(3)


# ------------------------------------------------------------------ 2. forward hooks' results
def _scaled(lib):
    class M(lib.Module):
        def forward(self, x, y=1, *, z=2):
            return x * y + z
    return M()


@pytest.mark.parametrize("bad", [3, (1,), ((1,), {}, 1), [(), {}]])
def test_with_kwargs_pre_hook_returning_something_else_as_torch(bad):
    errors = []
    for lib in (nn, tnn):
        m = _scaled(lib)
        m.register_forward_pre_hook(lambda mod, a, kw, bad=bad: bad, with_kwargs=True)
        with pytest.raises(RuntimeError) as info:
            m(lib_tensor(lib, np.float32(1)))
        errors.append(str(info.value).split(" (in the model")[0])
    assert errors[0] == errors[1]
    assert errors[0].startswith("forward pre-hook must return None or a tuple of (new_args, "
                                "new_kwargs), but got ")


def test_hook_results_replace_as_torch():
    outs = []
    for lib in (nn, tnn):
        m = _scaled(lib)
        m.register_forward_pre_hook(lambda mod, a, kw: ((a[0] * 2,), {"z": 0}), with_kwargs=True)
        m.register_forward_pre_hook(lambda mod, a: a[0] + 1)  # not a tuple: wrapped in one
        m.register_forward_hook(lambda mod, a, o: None)
        m.register_forward_hook(lambda mod, a, kw, o: (o, kw["z"]), with_kwargs=True)
        out, z = m(lib_tensor(lib, np.float32(1)), z=7)
        outs.append((float(out), z))
    assert outs[0] == outs[1] == (3.0, 0)


# ------------------------------------------------------------------ 4. always_call
def _always_call_log(lib, fail_in):
    class M(lib.Module):
        def forward(self, x):
            if fail_in == "forward":
                raise ValueError("boom")
            return x * 2

    m, log = M(), []

    def pre(mod, a):
        if fail_in == "pre":
            raise ValueError("pre boom")
        return (a[0] + 1,)

    def first(mod, a, o):
        log.append(("first", float(a[0]), o if o is None else float(o)))
        if fail_in == "hook":
            raise ValueError("hook boom")

    def kw_hook(mod, a, kw, o):
        log.append(("kw", float(a[0]), o if o is None else float(o), dict(kw)))
        return o if o is None else o + 100

    def raising(mod, a, o):
        log.append(("raising",))
        raise KeyError("silenced")

    m.register_forward_pre_hook(pre)
    m.register_forward_hook(first, always_call=True)
    m.register_forward_hook(lambda mod, a, o: log.append(("plain",)))
    m.register_forward_hook(kw_hook, with_kwargs=True, always_call=True)
    m.register_forward_hook(raising, always_call=True)
    x = lib_tensor(lib, np.float32(1))
    error = None
    with pytest.warns(UserWarning, match="always_call=True.*silenced"):
        try:
            m(x)
        except Exception as e:
            error = type(e).__name__
    return log, error


@pytest.mark.parametrize("fail_in", ["forward", "pre", "hook"])
def test_always_call_forward_hooks_as_torch(fail_in):
    assert _always_call_log(nn, fail_in) == _always_call_log(tnn, fail_in)


def test_always_call_hooks_run_once_without_errors():
    for lib in (nn, tnn):
        m, log = lib.Identity(), []
        m.register_forward_hook(lambda mod, a, o: log.append(1), always_call=True)
        m(lib_tensor(lib, np.float32(1)))
        assert log == [1]


# ------------------------------------------------------------------ 3. before Module.__init__
@pytest.mark.parametrize("lib", [nn, tnn])
def test_plain_attributes_before_init_as_torch(lib):
    class M(lib.Module):
        def __init__(self):
            self.hidden = 3  # plain attributes (even a tensor) may come first
            self.scale = lib_tensor(lib, np.ones(2, np.float32))
            super().__init__()
            self.lin = lib.Linear(self.hidden, 2)

    m = M()
    assert m.hidden == 3 and [n for n, _ in m.named_parameters()] == ["lin.weight", "lin.bias"]
    assert list(m.state_dict()) == ["lin.weight", "lin.bias"] and m.scale.shape == (2,)
    assert m.lin(lib_tensor(lib, np.ones((1, 3), np.float32))).shape == (1, 2)


@pytest.mark.parametrize("what", ["parameters", "module", "buffer", "parameter"])
def test_registering_before_init_as_torch(what):
    def build(lib):
        class M(lib.Module):
            def __init__(self):
                t = lib_tensor(lib, np.ones(2, np.float32))
                if what == "parameters":
                    self.w = lib.Parameter(t)
                elif what == "module":
                    self.lin = lib.Linear(1, 1)
                elif what == "buffer":
                    self.register_buffer("b", t)
                else:
                    self.register_parameter("w", lib.Parameter(t))
        return M()

    for lib in (nn, tnn):
        with pytest.raises(AttributeError,
                           match=f"cannot assign {what} before Module.__init__\\(\\) call"):
            build(lib)


# ------------------------------------------------------------------ 5. mixed-precision norms
_NORMS = {
    "BatchNorm1d": (lambda lib: lib.BatchNorm1d(3), (4, 3)),
    "BatchNorm2d": (lambda lib: lib.BatchNorm2d(3), (2, 3, 2, 2)),
    "InstanceNorm1d": (lambda lib: lib.InstanceNorm1d(3, affine=True, track_running_stats=True),
                       (2, 3, 4)),
    "InstanceNorm2d": (lambda lib: lib.InstanceNorm2d(3, affine=True), (2, 3, 2, 2)),
    "LayerNorm": (lambda lib: lib.LayerNorm(3), (2, 3)),
    "GroupNorm": (lambda lib: lib.GroupNorm(1, 3), (2, 3, 2)),
    "BatchNorm2d-no-affine": (lambda lib: lib.BatchNorm2d(3, affine=False), (2, 3, 2, 2)),
}


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("name", list(_NORMS))
def test_norm_float16_input_with_float32_parameters_as_torch(name, training):
    build, shape = _NORMS[name]
    rng = np.random.RandomState(0)
    x = (rng.randn(*shape) * 3 + 1).astype(np.float16)
    g = rng.randn(*shape).astype(np.float16)
    results = []
    for lib in (nn, tnn):
        m = build(lib)
        m.train(training)
        prng = np.random.RandomState(1)  # the same parameters for both
        with (tg.no_grad() if lib is nn else torch.no_grad()):
            for p in m.parameters():
                p.copy_(lib_tensor(lib, prng.rand(*p.shape).astype(np.float32) + 0.5))
        xt = lib_tensor(lib, x).requires_grad_()
        y = m(xt)
        (y * lib_tensor(lib, g)).sum().backward()
        state = {k: (str(v.dtype).replace("torch.", ""), arr(v).astype(np.float64))
                 for k, v in m.state_dict().items() if "num_batches" not in k}
        grads = [(str(p.grad.dtype).replace("torch.", ""), arr(p.grad)) for p in m.parameters()]
        results.append((str(y.dtype).replace("torch.", ""), arr(y), str(xt.grad.dtype)
                        .replace("torch.", ""), arr(xt.grad), state, grads))
    (dt, y, xdt, xg, state, grads), (tdt, ty, txdt, txg, tstate, tgrads) = results
    assert dt == tdt == "float16" and xdt == txdt == "float16"
    np.testing.assert_allclose(y.astype(np.float32), ty.astype(np.float32), rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(xg.astype(np.float32), txg.astype(np.float32), rtol=5e-3,
                               atol=5e-3)
    assert state.keys() == tstate.keys()
    for k in state:
        assert state[k][0] == tstate[k][0] == "float32", k
        np.testing.assert_allclose(state[k][1], tstate[k][1], rtol=1e-3, atol=1e-3)
    assert [d for d, _ in grads] == [d for d, _ in tgrads] == ["float32"] * len(grads)
    for (_, a), (_, b) in zip(grads, tgrads):
        np.testing.assert_allclose(a, b, rtol=5e-3, atol=5e-3)


@pytest.mark.parametrize("name", ["BatchNorm1d", "LayerNorm", "GroupNorm", "InstanceNorm1d"])
@pytest.mark.parametrize("dtypes", [("float32", "float16"), ("float64", "float32"),
                                    ("float32", "float64")])
def test_norm_other_dtype_mixes_refused_as_torch(name, dtypes):
    build, shape = _NORMS[name]
    xd, pd = dtypes
    for lib in (nn, tnn):
        m = build(lib).to(dtype=getattr(torch, pd) if lib is tnn else np.dtype(pd))
        x = lib_tensor(lib, (np.ones(shape) + np.arange(shape[-1])).astype(xd))
        with pytest.raises((TypeError, RuntimeError), match="mixed|float"):
            m(x)


# ------------------------------------------------------------------ 6. Embedding's max_norm
_W = np.random.RandomState(0).randn(6, 3)


@pytest.mark.parametrize("max_norm,norm_type", [(1.0, 2.0), (0.5, 1.0), (1.5, float("inf")),
                                                (2.0, 3.0), (100.0, 2.0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_max_norm_as_torch(max_norm, norm_type, dtype):
    idx = np.array([[2, 0, 2], [5, 1, 0]])
    g = np.arange(18.0).reshape(2, 3, 3).astype(dtype)
    results = []
    for lib in (nn, tnn):
        e = lib.Embedding(6, 3, max_norm=max_norm, norm_type=norm_type, padding_idx=1)
        e = e.to(dtype=torch.float64 if dtype == np.float64 else torch.float32) if lib is tnn \
            else e.to(dtype=np.dtype(dtype))
        with (tg.no_grad() if lib is nn else torch.no_grad()):
            e.weight.copy_(lib_tensor(lib, (_W * 2).astype(dtype)))
        version = e.weight._version
        y = e(lib_tensor(lib, idx))
        (y * lib_tensor(lib, g)).sum().backward()
        results.append((arr(y), arr(e.weight), arr(e.weight.grad), e.weight._version > version))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_functional_embedding_and_from_pretrained_max_norm_as_torch():
    outs = []
    for lib in (nn, tnn):
        w = lib_tensor(lib, _W.copy())
        y = lib.functional.embedding(lib_tensor(lib, np.array([0, 1, 0])), w, max_norm=1.0,
                                     norm_type=1.0)
        e = lib.Embedding.from_pretrained(lib_tensor(lib, _W.copy()), max_norm=0.5)
        z = e(lib_tensor(lib, np.array([3])))
        outs.append((arr(y), arr(w), arr(z), arr(e.weight), e.weight.requires_grad,
                     repr(e).replace("torch.", "")))
    for a, b in zip(*outs):
        if isinstance(a, np.ndarray):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        else:
            assert a == b


def test_embedding_private_freeze_as_torch():
    for lib in (nn, tnn):
        assert lib.Embedding(6, 3, _freeze=True).weight.requires_grad is False
        assert lib.Embedding(6, 3).weight.requires_grad is True
        w = lib_tensor(lib, _W.astype(np.float32))
        assert lib.Embedding(6, 3, _weight=w, _freeze=True).weight.requires_grad is False


# ------------------------------------------------------------------ 7. area on 3-D, empty pools
def _same(ours, theirs, tol=1e-12):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(arr(ours), arr(theirs), rtol=tol, atol=tol)


@pytest.mark.parametrize("kw", [dict(size=4), dict(size=7), dict(size=1), dict(scale_factor=0.5),
                                dict(scale_factor=2.3), dict(size=0), dict(scale_factor=0.1)])
def test_interpolate_area_on_3d_input_as_torch(kw):
    x = np.random.RandomState(0).randn(2, 3, 5)
    xs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = nn.functional.interpolate(xs[0], mode="area", **kw)
    theirs = tnn.functional.interpolate(xs[1], mode="area", **kw)
    _same(ours, theirs)
    if ours.numel():
        g = np.random.RandomState(1).randn(*ours.shape)
        (ours * Tensor(g)).sum().backward()
        (theirs * torch.tensor(g)).sum().backward()
        _same(xs[0].grad, xs[1].grad)


@pytest.mark.parametrize("shape", [(2, 3, 5, 6), (3, 5, 6), (0, 3, 5, 6)])
@pytest.mark.parametrize("size", [(0, 2), (2, 0), (0, 0), 0, (0, None)])
def test_adaptive_pools_and_area_with_an_empty_output_as_torch(shape, size):
    x = np.random.RandomState(0).randn(*shape)
    for name in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d"):
        _same(getattr(nn, name)(size)(Tensor(x)), getattr(tnn, name)(size)(torch.tensor(x)))
    ours = nn.functional.adaptive_max_pool2d(Tensor(x), size, return_indices=True)
    theirs = tnn.functional.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
    for a, b in zip(ours, theirs):
        _same(a, b)
    if None not in np.atleast_1d(np.array(size, dtype=object)) and len(shape) == 4:
        _same(nn.functional.interpolate(Tensor(x), size=size, mode="area"),
              tnn.functional.interpolate(torch.tensor(x), size=size, mode="area"))


def test_adaptive_pool_size_errors_as_torch():
    for lib, t in ((nn, Tensor), (tnn, torch.tensor)):
        with pytest.raises((ValueError, RuntimeError), match="greater than or equal to 0|>= 0"):
            lib.functional.adaptive_avg_pool2d(t(np.ones((1, 2, 3, 3))), (-1, 2))
        with pytest.raises((ValueError, RuntimeError), match="non-zero size|positive|non-empty"):
            lib.functional.adaptive_avg_pool2d(t(np.ones((1, 2, 0, 3))), (1, 2))
        with pytest.raises((ValueError, RuntimeError), match="non-zero size|non-empty"):
            lib.functional.interpolate(t(np.ones((1, 2, 0))), size=2, mode="area")


# ------------------------------------------------------------------ 8. container reprs
def _reprs(lib):
    lin = lambda: lib.Linear(2, 2)  # noqa: E731
    block = lambda: lib.Sequential(lib.Conv2d(1, 2, 3), lib.ReLU())  # noqa: E731

    class Blank(lib.Module):
        def __init__(self):
            super().__init__()
            self.inner = lib.Linear(1, 1)

        def extra_repr(self):
            return "a=1\n\nb=2"  # a blank line stays blank when indented

    class Custom(lib.ModuleList):
        pass

    return [
        lib.ModuleList([lin() for _ in range(3)] + [lib.ReLU()] + [lib.Linear(2, 3)] * 2),
        lib.ModuleList([block(), block(), lib.ReLU(), block()]),
        lib.ModuleList([lib.ReLU()]),
        lib.ModuleList(),
        Custom([lib.ReLU(), lib.ReLU()]),
        lib.Sequential(lin(), lin(), lin()),  # Sequential does not collapse
        lib.Sequential(lib.ModuleList([lin(), lin()]), Blank()),
        lib.ModuleDict({"a": lib.ModuleList([lib.Tanh()] * 4), "b": lib.ReLU()}),
        Blank(),
    ]


def test_container_reprs_as_torch():
    for ours, theirs in zip(_reprs(nn), _reprs(tnn)):
        assert repr(ours) == repr(theirs)


# ------------------------------------------------------------------ 9. GroupNorm of one value
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape,groups", [((1, 3), 3), ((1, 3, 1), 3), ((1, 6, 1, 1), 6),
                                          ((1, 3), 1), ((2, 3), 3), ((1, 6), 3), ((1, 3, 2), 3),
                                          ((0, 3), 3)])
def test_group_norm_single_value_groups_as_torch(shape, groups, training):
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)
    outs = []
    for lib in (nn, tnn):
        m = lib.GroupNorm(groups, shape[1]).train(training)
        try:
            outs.append(arr(m(lib_tensor(lib, x))))
        except ValueError as e:
            outs.append(str(e))
    ours, theirs = outs
    if isinstance(theirs, str):
        assert isinstance(ours, str) and ours.startswith(f"group_norm: {theirs}")
    else:
        np.testing.assert_allclose(ours, theirs, atol=1e-4)  # (PyTorch: rounding noise, not 0)


# ------------------------------------------------------------------ 10. missing layers
@pytest.mark.parametrize("name,args", [("ZeroPad1d", (2,)), ("ZeroPad1d", ((1, 3),)),
                                       ("ConstantPad1d", ((0, 2), 1.5)), ("ConstantPad1d", (1, 3)),
                                       ("ReflectionPad1d", ((1, 3),)), ("ReplicationPad1d", (3,)),
                                       ("CircularPad1d", ((2, 1),))])
@pytest.mark.parametrize("shape", [(3, 5), (2, 3, 5)])
def test_pad1d_layers_as_torch(name, args, shape):
    x = np.random.RandomState(0).randn(*shape)
    ours, theirs = getattr(nn, name)(*args), getattr(tnn, name)(*args)
    assert repr(ours) == repr(theirs) and ours.padding == theirs.padding
    xs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(xs[0]), theirs(xs[1])
    _same(y, ty)
    g = np.random.RandomState(1).randn(*y.shape)
    (y * Tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    _same(xs[0].grad, xs[1].grad)


def test_pad1d_layers_refuse_other_ranks():
    for name in ("ReflectionPad1d", "ReplicationPad1d", "CircularPad1d"):
        with pytest.raises(ValueError, match=f"{name}: expected a 2-D"):
            getattr(nn, name)(1)(Tensor(np.ones((1, 2, 3, 5))))
    with pytest.raises(ValueError, match="ZeroPad1d: padding must be an int or 2 ints"):
        nn.ZeroPad1d((1, 2, 3))


@pytest.mark.parametrize("ns,kw,shape", [(3, {}, (2, 3)), ((4, 3), dict(eps=1e-6), (2, 4, 3)),
                                         ([3], dict(elementwise_affine=False), (5, 2, 3)),
                                         (3, dict(eps=0.1), (3,))])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_rms_norm_as_torch(ns, kw, shape, dtype):
    rng = np.random.RandomState(0)
    x, g = rng.randn(*shape).astype(dtype), rng.randn(*shape).astype(dtype)
    ours, theirs = nn.RMSNorm(ns, **kw), tnn.RMSNorm(ns, **kw)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    ours.to(dtype=np.dtype(dtype))
    theirs.to(dtype=getattr(torch, dtype))
    w = rng.rand(*ours.normalized_shape).astype(dtype) + 0.5
    if ours.weight is not None:
        with tg.no_grad(), torch.no_grad():
            ours.weight.copy_(Tensor(w))
            theirs.weight.copy_(torch.tensor(w))
    xs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(xs[0]), theirs(xs[1])
    tol = 1e-12 if dtype == "float64" else 1e-5
    _same(y, ty, tol)
    (y * Tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    _same(xs[0].grad, xs[1].grad, tol)
    if ours.weight is not None:
        _same(ours.weight.grad, theirs.weight.grad, tol)
    _same(nn.functional.rms_norm(Tensor(x), ours.normalized_shape, eps=kw.get("eps")),
          tnn.functional.rms_norm(torch.tensor(x), list(ours.normalized_shape), eps=kw.get("eps")),
          tol)


@pytest.mark.filterwarnings("ignore:Mismatch dtype between input and weight")  # (PyTorch's)
def test_rms_norm_mixed_dtypes_keep_the_input_dtype_as_torch():
    x = np.random.RandomState(0).randn(2, 3)
    for xd, wd in (("float16", "float32"), ("float32", "float64"), ("float64", "float32")):
        w = np.linspace(0.5, 1.5, 3)
        y = nn.functional.rms_norm(Tensor(x.astype(xd)), 3, Tensor(w.astype(wd)))
        ty = tnn.functional.rms_norm(torch.tensor(x.astype(xd)), [3], torch.tensor(w.astype(wd)))
        _same(y, ty, 2e-3 if xd == "float16" else 1e-6)
    with pytest.raises(ValueError, match="rms_norm: normalized_shape \\(4,\\) must be the last"):
        nn.RMSNorm(4)(Tensor(x))


def test_linear_interpolation_meets_inf_and_nan_as_pytorch():
    """Found by an outside tester: an axis that keeps its size is PyTorch's "copy" -- each element
    times 1 plus itself times 0 -- so an inf there is NaN (ours copied it); and antialias's
    narrower windows have no extra taps in PyTorch (ours weighted them 0: 0 * inf = NaN)."""
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    cases = [(np.array([[[[1.0, np.inf, 3.0]]]]), {"size": (1, 3), "mode": "bilinear"}),
             (np.array([[[[1.0, np.inf, 3.0]]]]), {"size": (1, 3), "mode": "bilinear",
                                                   "align_corners": True}),
             (np.array([[[1.0, np.inf, 3.0]]]), {"size": 3, "mode": "linear"}),
             (np.array([[[[np.inf, 2.0], [3.0, 4.0]]]]), {"size": (3, 3), "mode": "bilinear",
                                                          "antialias": True}),
             (np.array([[[[-np.inf, 2.0], [np.nan, 4.0], [1.0, 2.0], [3.0, 4.0]]]]),
              {"size": (2, 1), "mode": "bilinear", "antialias": True})]
    for x, kw in cases:
        ours = tg.tensor(x, requires_grad=True)
        theirs = torch.tensor(x, requires_grad=True)
        a, b = F.interpolate(ours, **kw), TF.interpolate(theirs, **kw)
        np.testing.assert_array_equal(a.numpy(), b.detach().numpy())
        g = np.full(a.shape, np.inf)
        a.backward(tg.tensor(g))
        b.backward(torch.tensor(g))
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("call", [
    ("adaptive_avg_pool2d", (2,), {}), ("adaptive_avg_pool2d", (1,), {}),  # (1x1: a mean)
    ("interpolate", (), {"size": (2, 2), "mode": "area"}),
    ("pad", ((1, 1, 1, 1),), {"mode": "reflect"}), ("pad", ((1, 1, 1, 1),), {"mode": "replicate"}),
    ("pad", ((1, 1, 1, 1),), {"mode": "circular"}), ("pad", ((1, 1, 1, 1),), {}),
    ("avg_pool2d", (2,), {}), ("interpolate", (), {"size": (3, 3), "mode": "bilinear"})])
def test_a_linear_ops_gradient_requires_grad_under_create_graph_where_pytorchs_does(call):
    """Found by an outside tester: PyTorch's VJPs of adaptive_avg_pool2d (so area interpolation)
    and of reflect/replicate padding take the input, so under create_graph their gradient is
    part of the graph (its derivative zero); ours was a constant, and differentiating it again
    raised "does not require grad" (a gradient penalty through such a layer)."""
    torch = pytest.importorskip("torch")
    name, args, kw = call
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    got = []
    for lib, fn in ((tg, getattr(F, name)), (torch, getattr(torch.nn.functional, name))):
        xt = lib.tensor(x, requires_grad=True)
        (g,) = (tg.grad if lib is tg else torch.autograd.grad)(fn(xt, *args, **kw).sum(), xt,
                                                               create_graph=True)
        second = None
        if g.requires_grad:
            (second,) = (tg.grad if lib is tg else torch.autograd.grad)(g.sum(), xt,
                                                                        allow_unused=True)
        got.append((g.requires_grad, None if second is None else second.detach().numpy()))
    assert got[0][0] == got[1][0]
    if got[0][1] is not None or got[1][1] is not None:
        np.testing.assert_array_equal(np.zeros_like(x) if got[0][1] is None else got[0][1],
                                      np.zeros_like(x) if got[1][1] is None else got[1][1])
