"""Regressions found by outside testers in the nn package, each checked against PyTorch: BatchNorm's
``track_running_stats`` and ``None`` buffers after construction, float16 running statistics, the
pooling, padding and norm layers' attributes and reprs, Module's registration rules, and the API
that ported CNN code uses (``reset_parameters``, ``ParameterList``/``ParameterDict``, ...)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def arr(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


# ------------------------------------------------------------------ 1. BatchNorm's flags and buffers
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("cls", ["BatchNorm1d", "BatchNorm2d"])
def test_batch_norm_track_running_stats_switched_off_after_construction(cls, training):
    shape = (4, 2, 3, 3) if cls == "BatchNorm2d" else (4, 2, 3)
    x = np.random.RandomState(0).randn(*shape).astype(np.float32) * 2 + 1
    mods = []
    for lib in (nn, tnn):
        m = getattr(lib, cls)(2)
        with (tg.no_grad() if lib is nn else torch.no_grad()):
            m.running_mean.fill_(0.5)
            m.running_var.fill_(4.0)
        m.train(training)
        m.track_running_stats = False
        mods.append((m, m(Tensor(x) if lib is nn else torch.tensor(x))))
    (ours, y), (theirs, ty) = mods
    np.testing.assert_allclose(arr(y), arr(ty), rtol=1e-5, atol=1e-6)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(arr(getattr(ours, name)), arr(getattr(theirs, name)))


@pytest.mark.parametrize("track", [True, False])
def test_batch_norm_eval_without_running_stats_uses_the_batch(track):
    x = np.random.RandomState(1).randn(4, 2, 3, 3).astype(np.float32) * 3 - 2
    outs = []
    for lib in (nn, tnn):
        m = lib.BatchNorm2d(2).eval()
        m.running_mean = m.running_var = None
        m.track_running_stats = track
        outs.append(arr(m(Tensor(x) if lib is nn else torch.tensor(x))))
        assert m.running_mean is None and m.running_var is None
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_batch_norm_tracking_switched_on_without_buffers_uses_the_batch():
    x = np.random.RandomState(2).randn(4, 2, 3).astype(np.float32)
    outs = []
    for lib in (nn, tnn):
        m = lib.BatchNorm1d(2, track_running_stats=False)
        m.track_running_stats = True  # (no buffers to update: PyTorch uses the batch and counts none)
        outs.append(arr(m(Tensor(x) if lib is nn else torch.tensor(x))))
        assert m.num_batches_tracked is None
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ 2. float16 running statistics
def test_batch_norm_half_running_var_past_float16_range():
    x = (np.random.RandomState(0).randn(64, 1, 4, 4) * 300).astype(np.float16)
    res = []
    for lib in (nn, tnn):
        m = lib.BatchNorm2d(1).half()
        m(Tensor(x) if lib is nn else torch.tensor(x))
        m.eval()
        res.append((arr(m.running_mean), arr(m.running_var),
                    arr(m(Tensor(x[:4]) if lib is nn else torch.tensor(x[:4])))))
    (mean, var, y), (tmean, tvar, ty) = res
    assert var.dtype == np.float16 and np.isfinite(var).all()
    np.testing.assert_array_equal(var, tvar)  # [8736.]
    np.testing.assert_array_equal(mean, tmean)
    np.testing.assert_allclose(y.astype(np.float32), ty.astype(np.float32), rtol=2e-3, atol=2e-3)
    assert np.abs(y.astype(np.float32)).max() > 0.5


@pytest.mark.parametrize("momentum", [0.1, 1.0])
def test_functional_batch_norm_half_running_stats(momentum):
    x = (np.random.RandomState(3).randn(32, 2, 3, 3) * 400 + 60).astype(np.float16)
    res = []
    for lib in ("ours", "torch"):
        if lib == "ours":
            rm, rv = Tensor(np.full(2, 3.0, np.float16)), Tensor(np.full(2, 2.0, np.float16))
            tg.nn.functional.batch_norm(Tensor(x), rm, rv, training=True, momentum=momentum)
        else:
            rm, rv = torch.full((2,), 3.0).half(), torch.full((2,), 2.0).half()
            torch.nn.functional.batch_norm(torch.tensor(x), rm, rv, training=True,
                                           momentum=momentum)
        res.append((arr(rm), arr(rv)))
    (rm, rv), (trm, trv) = res
    np.testing.assert_array_equal(rm, trm)
    if momentum == 1.0:  # the batch variance itself is past float16's range: inf, as in PyTorch
        assert np.isinf(trv).all()
    np.testing.assert_array_equal(rv, trv)


def test_instance_norm_half_running_var_past_float16_range():
    x = (np.random.RandomState(0).randn(8, 2, 6, 6) * 400).astype(np.float16)
    res = []
    for lib in (nn, tnn):
        m = lib.InstanceNorm2d(2, track_running_stats=True).half()
        m(Tensor(x) if lib is nn else torch.tensor(x))
        res.append((arr(m.running_mean), arr(m.running_var)))
    (mean, var), (tmean, tvar) = res
    assert np.isfinite(var).all()
    # (float16's last place: PyTorch sums the per-sample statistics in another order)
    np.testing.assert_allclose(var, tvar, rtol=1e-3)
    np.testing.assert_allclose(mean, tmean, rtol=1e-3)


# ------------------------------------------------------------------ 3. public attributes and reprs
def test_pool_stride_defaults_to_the_kernel_at_construction():
    x = np.random.RandomState(4).randn(1, 1, 9, 9).astype(np.float32)
    for name in ("MaxPool2d", "AvgPool2d"):
        ours, theirs = getattr(nn, name)(2), getattr(tnn, name)(2)
        assert ours.stride == theirs.stride == 2
        ours.kernel_size = theirs.kernel_size = 3  # the stride stays 2, as in PyTorch
        assert ours.stride == theirs.stride == 2
        np.testing.assert_allclose(arr(ours(Tensor(x))), arr(theirs(torch.tensor(x))), rtol=1e-6)
        assert getattr(nn, name)((2, 3), stride=1).stride == 1


REPR_CASES = [
    ("MaxPool2d", (3, 2, 1), {}), ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((2, 3),), dict(dilation=2, ceil_mode=True, return_indices=True)),
    ("AvgPool2d", (2,), {}), ("AvgPool2d", (3, 1, 1, True, False), {}),
    ("AvgPool2d", ((2, 3), (1, 2), (1, 0)), {}),
    ("AdaptiveAvgPool2d", (1,), {}), ("AdaptiveAvgPool2d", ((None, 3),), {}),
    ("AdaptiveMaxPool2d", (2, True), {}), ("AdaptiveMaxPool2d", ((3, 4),), {}),
    ("BatchNorm2d", (3,), {}), ("BatchNorm1d", (3, 1e-3, None, False, False), {}),
    ("BatchNorm2d", (3,), dict(bias=False)),
    ("GroupNorm", (2, 4), {}), ("GroupNorm", (2, 4, 1e-3, False), {}),
    ("GroupNorm", (2, 4), dict(bias=False)),
    ("InstanceNorm2d", (3,), {}), ("InstanceNorm2d", (3,), dict(affine=True, track_running_stats=True)),
    ("InstanceNorm2d", (3,), dict(affine=True, bias=False)),
    ("LayerNorm", (4,), {}), ("LayerNorm", ((2, 3),), dict(elementwise_affine=False, bias=False)),
    ("LayerNorm", ([5],), dict(eps=1e-6, bias=False)),
    ("Upsample", (), dict(scale_factor=2)), ("Upsample", (), dict(scale_factor=(2, 3))),
    ("Upsample", (4,), dict(mode="bilinear", align_corners=True)),
    ("UpsamplingBilinear2d", (), dict(scale_factor=2)), ("UpsamplingNearest2d", (3,), {}),
    ("Embedding", (3, 4), {}), ("Embedding", (3, 4, 1), {}), ("PReLU", (3, 0.1), {}),
    ("Conv2d", (1, 2, 3), dict(padding="valid")), ("Conv2d", (1, 2, 3), dict(padding=(0, 1))),
]


@pytest.mark.parametrize("name,args,kw", REPR_CASES)
def test_repr_as_torch(name, args, kw):
    assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(tnn, name)(*args, **kw))


# ------------------------------------------------------------------ 6. bias= on the norm layers
def _signature(cls):
    import inspect
    return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "InstanceNorm2d",
                                  "LayerNorm"])
def test_norm_signature_and_bias_false_as_torch(name):
    assert _signature(getattr(nn, name)) == _signature(getattr(tnn, name))
    args = (2, 4) if name == "GroupNorm" else (4,)
    shape = (3, 4) if name in ("BatchNorm1d", "LayerNorm") else (3, 4, 2, 3)
    kw = dict(bias=False) if name == "LayerNorm" else dict(bias=False, affine=True)
    x = np.random.RandomState(5).randn(*shape)
    ours, theirs = getattr(nn, name)(*args, **kw).double(), getattr(tnn, name)(*args, **kw).double()
    assert ours.bias is None and theirs.bias is None and ours.weight is not None
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        theirs.weight.uniform_(0.5, 2.0)
    ours.load_state_dict(theirs.state_dict())
    for mode in (True, False):
        ours.train(mode), theirs.train(mode)
        np.testing.assert_allclose(arr(ours(Tensor(x))), arr(theirs(torch.tensor(x))), rtol=1e-10,
                                   atol=1e-12)


@pytest.mark.parametrize("name,kw", [
    ("MSELoss", dict(reduction="sum")), ("NLLLoss", dict(reduction="none")),
    ("CrossEntropyLoss", dict(label_smoothing=0.1, ignore_index=3, reduction="sum")),
    ("KLDivLoss", dict(log_target=True, reduction="batchmean")),
    ("BCEWithLogitsLoss", dict(reduction="sum")), ("HuberLoss", dict(delta=2.0))])
def test_loss_repr_as_torch(name, kw):
    assert repr(getattr(nn, name)(**kw)) == repr(getattr(tnn, name)(**kw))


# ------------------------------------------------------------------ 4. Embedding's options
def test_embedding_options_set_after_construction_are_refused():
    with pytest.raises(NotImplementedError, match="Embedding: sparse"):
        nn.Embedding(5, 3, sparse=True)
    for attr, value in (("scale_grad_by_freq", True), ("sparse", True)):
        m, t = nn.Embedding(5, 3), tnn.Embedding(5, 3)
        assert getattr(m, attr) == getattr(t, attr)  # None / False, PyTorch's attributes
        setattr(m, attr, value)
        with pytest.raises(NotImplementedError, match=f"Embedding: {attr}={value} is not supported"):
            m(Tensor(np.array([0, 4])))
    m = nn.Embedding(5, 3, norm_type=1.0)
    assert m.norm_type == 1.0 and repr(m) == repr(tnn.Embedding(5, 3, norm_type=1.0))


# ------------------------------------------------------------------ 5. what may replace what
def _assign(lib, first, second):
    """Register ``x`` as ``first`` then assign ``second`` to it: the registries or the error."""
    tensor = (lambda: Tensor(np.ones(1, np.float32))) if lib is nn else (lambda: torch.ones(1))
    make = {"parameter": lambda: lib.Parameter(tensor()), "module": lambda: lib.Linear(1, 1),
            "tensor": tensor, "none": lambda: None, "int": lambda: 3}
    m = lib.Module()
    if first == "buffer":
        m.register_buffer("x", tensor(), persistent=False)
    else:
        m.x = make[first]()
    try:
        m.x = make[second]()
    except TypeError as e:
        return "TypeError", str(e)
    return ("ok", sorted(m._parameters), sorted(m._modules), sorted(m._buffers),
            "x" in getattr(m, "_non_persistent", getattr(m, "_non_persistent_buffers_set", ())))


@pytest.mark.parametrize("first,second", [
    (a, b) for a in ("parameter", "module", "buffer")
    for b in ("parameter", "module", "tensor", "none", "int")])
def test_assignment_over_a_registered_name_as_torch(first, second):
    ours, theirs = _assign(nn, first, second), _assign(tnn, first, second)
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "ok":
        assert ours == theirs
    else:
        kind = {"parameter": "parameter", "module": "child module", "buffer": "buffer"}[first]
        assert f"as {kind} 'x'" in ours[1] and f"as {kind} 'x'" in theirs[1]


# ------------------------------------------------------------------ 6. reset_parameters
RESET_CASES = [("Linear", (3, 4)), ("Conv2d", (2, 4, 3)), ("ConvTranspose2d", (2, 4, (2, 3))),
               ("Embedding", (5, 3, 1)), ("PReLU", (3, 0.1)), ("BatchNorm2d", (3,)),
               ("BatchNorm1d", (3,)), ("InstanceNorm2d", (3, 1e-5, 0.1, True, True)),
               ("LayerNorm", ((2, 3),)), ("GroupNorm", (2, 4))]


@pytest.mark.parametrize("name,args", RESET_CASES)
def test_reset_parameters_redoes_the_constructors_init(name, args):
    assert hasattr(getattr(tnn, name), "reset_parameters")
    tg.manual_seed(7)
    fresh = getattr(nn, name)(*args)
    m = getattr(nn, name)(*args)
    with tg.no_grad():
        for t in [*m.parameters(), *m.buffers()]:
            t.fill_(3)
    tg.manual_seed(7)
    assert m.reset_parameters() is None
    assert [k for k, _ in m.named_parameters()] == [k for k, _ in fresh.named_parameters()]
    for (k, a), b in zip(m.state_dict().items(), fresh.state_dict().values()):
        assert a.dtype == b.dtype, k
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    theirs = getattr(tnn, name)(*args)
    theirs.reset_parameters()
    for (k, a), b in zip(m.state_dict().items(), theirs.state_dict().values()):
        if name in ("Linear", "Conv2d", "ConvTranspose2d") and k == "weight":
            bound = 1 / np.sqrt(np.prod(b.shape[1:]))  # kaiming_uniform(a=sqrt(5)): 1/sqrt(fan_in)
            assert np.abs(a.numpy()).max() <= bound and np.abs(b.numpy()).max() <= bound
        elif name in ("Linear", "Conv2d", "ConvTranspose2d", "Embedding"):  # random draws
            assert a.shape == tuple(b.shape), k
        else:  # deterministic: ones, zeros, init, running statistics
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    if name == "Embedding":
        assert not m.weight.numpy()[1].any()
    m.double().reset_parameters()  # in place: the dtype stays
    assert all(p.dtype == np.float64 for p in m.parameters())


# ------------------------------------------------------------------ 6. Module's PyTorch API
def _tied(lib):
    """A tree with a module under two names and a weight and a buffer shared by two modules."""
    net = lib.Sequential(lib.Linear(2, 2), lib.BatchNorm1d(2), lib.Linear(2, 2))
    net[2].weight = net[0].weight
    net.add_module("again", net[1])
    net[0].register_buffer("stat", net[1].running_mean)
    return net


@pytest.mark.parametrize("method,kwargs", [
    ("named_modules", {}), ("named_modules", dict(remove_duplicate=False)),
    ("named_modules", dict(prefix="net")), ("named_parameters", {}),
    ("named_parameters", dict(remove_duplicate=False)), ("named_parameters", dict(recurse=False)),
    ("named_parameters", dict(prefix="p", remove_duplicate=False)), ("named_buffers", {}),
    ("named_buffers", dict(remove_duplicate=False)), ("named_buffers", dict(recurse=False)),
    ("named_buffers", dict(prefix="b", recurse=True))])
def test_named_members_as_torch(method, kwargs):
    ours, theirs = _tied(nn), _tied(tnn)
    assert [k for k, _ in getattr(ours, method)(**kwargs)] == \
        [k for k, _ in getattr(theirs, method)(**kwargs)]
    assert len(list(ours.buffers())) == len(list(theirs.buffers())) == 3
    assert len(list(ours.buffers(recurse=False))) == len(list(theirs.buffers(recurse=False))) == 0
    assert len(list(ours[0].buffers(recurse=False))) == 1


def test_named_modules_memo_and_signature_as_torch():
    import inspect
    for name in ("named_modules", "named_parameters", "named_buffers", "buffers", "cuda", "cpu",
                 "load_state_dict", "get_buffer"):
        ours = list(inspect.signature(getattr(nn.Module, name)).parameters)
        assert ours == list(inspect.signature(getattr(tnn.Module, name)).parameters), name
    for lib in (nn, tnn):
        net = _tied(lib)
        skipped = {net[1]}
        names = [k for k, _ in net.named_modules(skipped, "x")]  # positional, as PyTorch's
        assert names == ["x", "x.0", "x.2"], lib


def test_get_buffer_as_torch():
    for lib in (nn, tnn):
        net = lib.Sequential(lib.Conv2d(1, 2, 3), lib.BatchNorm2d(2))
        assert net.get_buffer("1.running_var") is net[1].running_var
        with pytest.raises(AttributeError, match="`weight` is not a buffer"):
            net.get_buffer("1.weight")
        with pytest.raises(AttributeError, match="has no attribute `nope`"):
            net.get_buffer("1.nope")
        with pytest.raises(AttributeError):
            net.get_buffer("3.running_var")


def test_load_state_dict_assign_as_torch():
    src_ours, src_theirs = nn.Linear(3, 2).double(), tnn.Linear(3, 2).double()
    src_ours.load_state_dict(src_theirs.state_dict())
    for lib, src in ((nn, src_ours), (tnn, src_theirs)):
        dst = lib.Sequential(lib.Linear(3, 2), lib.BatchNorm1d(2))
        sd = {f"0.{k}": v for k, v in src.state_dict().items()}
        sd.update({f"1.{k}": v for k, v in dst[1].state_dict().items()})
        out = dst.load_state_dict(sd, assign=True)
        assert list(out.missing_keys) == [] and list(out.unexpected_keys) == []
        assert isinstance(dst[0].weight, lib.Parameter) and dst[0].weight.requires_grad
        assert str(dst[0].weight.dtype).endswith("float64")  # the checkpoint's, not copied into
        assert [k for k, _ in dst.named_parameters()] == ["0.weight", "0.bias", "1.weight", "1.bias"]
        with (tg.no_grad() if lib is nn else torch.no_grad()):
            sd["0.bias"].fill_(5.0)  # assigned, not copied: the model sees it
        assert float(dst[0].bias.sum().item()) == 10.0
    ours = nn.Linear(3, 2)
    ours.load_state_dict(src_theirs.state_dict(), assign=True)  # PyTorch's tensors too
    assert ours.weight.dtype == np.float64 and isinstance(ours.weight, nn.Parameter)
    np.testing.assert_array_equal(ours.weight.numpy(), src_theirs.weight.detach().numpy())
    copied = nn.Linear(3, 2)
    copied.load_state_dict(src_ours.state_dict())  # assign=False still copies into float32
    assert copied.weight.dtype == np.float32


def test_removable_handle_as_a_context_manager():
    for lib, x in ((nn, Tensor(np.ones((1, 2), np.float32))), (tnn, torch.ones(1, 2))):
        m, seen = lib.Linear(2, 2), []
        with m.register_forward_hook(lambda mod, args, out: seen.append(1)) as handle:
            m(x)
        m(x)
        assert seen == [1] and handle is not None
        with m.register_forward_pre_hook(lambda mod, args: seen.append(2)):
            m(x)
        m(x)
        assert seen == [1, 2]
    t = Tensor(np.ones(2, np.float32), requires_grad=True)
    with t.register_hook(lambda g: g * 2):
        (t * 1).sum().backward()
    (t * 1).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [3, 3])


def test_module_cpu_and_cuda():
    from tinygrad_cnn.backend import DeviceUnavailableError, is_available
    m = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    assert m.cpu() is m and all(t.device == "cpu" for t in [*m.parameters(), *m.buffers()])
    if is_available("cuda"):
        assert m.cuda() is m and m.cuda(0) is m
        assert all(t.device == "cuda" for t in [*m.parameters(), *m.buffers()])
        assert m.cpu() is m and m[0].weight.device == "cpu"
    else:
        with pytest.raises(DeviceUnavailableError) as tensor_error:
            Tensor([1.0]).cuda()
        with pytest.raises(DeviceUnavailableError) as module_error:
            m.cuda()
        assert str(module_error.value).startswith(str(tensor_error.value))
        assert m[0].weight.device == "cpu"
    with pytest.raises(ValueError, match="cuda"):
        m.cuda("cpu")


class _Extra:
    def extra_repr(self):
        return "hello, world"


def test_repr_with_extra_lines_and_children_as_torch():
    reprs = []
    for lib in (nn, tnn):
        cls = type("Block", (_Extra, lib.Module), {})
        m = cls()
        m.conv = lib.Conv2d(1, 2, 3)
        m.add_module("none", None)
        reprs.append(repr(m))
        reprs.append(repr(lib.Sequential(m, lib.ReLU())))
    assert reprs[:2] == reprs[2:]


# ------------------------------------------------------------------ 6. ParameterList, ParameterDict
def _repr(m):
    return repr(m).replace("torch.", "")


def _plist(lib):
    mk = (lambda *s, dt=np.float32: Tensor(np.ones(s, dt))) if lib is nn else \
        (lambda *s, dt=np.float32: torch.ones(s, dtype=torch.float64 if dt == np.float64 else None))
    pl = lib.ParameterList([lib.Parameter(mk(2, 3)), mk(3)])
    pl.append(mk(1, dt=np.float64))
    pl.extend([lib.Parameter(mk(4))])
    pl.append(3)
    pl += [mk(2)]
    pl[0] = mk(5)
    return pl


def test_parameter_list_as_torch():
    ours, theirs = _plist(nn), _plist(tnn)
    assert len(ours) == len(theirs) == 6
    assert _repr(ours) == _repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1", "2", "3", "5"]
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert isinstance(ours[1], nn.Parameter) and ours[1].requires_grad and ours[-2] == 3
    assert ours[2].dtype == np.float64 and ours[0].shape == (5,)
    assert [type(p).__name__ for p in ours] == ["Parameter"] * 4 + ["int", "Parameter"]
    part = ours[1:3]
    assert isinstance(part, nn.ParameterList) and len(part) == 2 and part[0] is ours[1]
    for lib, pl in ((nn, ours), (tnn, theirs)):
        with pytest.raises(IndexError, match="out of range"):
            pl[10]
        with pytest.raises(TypeError, match="extend should be called with an iterable"):
            pl.extend(pl[0])
        model = lib.Module()
        model.params = lib.ParameterList([pl[0]])
        assert list(model.state_dict()) == ["params.0"]
    assert _repr(nn.ParameterList()) == _repr(tnn.ParameterList()) == "ParameterList()"
    assert _repr(nn.ParameterList([Tensor(np.float32(1))])) == \
        _repr(tnn.ParameterList([torch.tensor(1.0)]))
    opt = tg.optim.SGD(nn.ParameterList([Tensor(np.ones(2, np.float32))]).parameters(), lr=0.1)
    assert len(opt.param_groups[0]["params"]) == 1


def _pdict(lib):
    mk = (lambda *s: Tensor(np.ones(s, np.float32))) if lib is nn else (lambda *s: torch.ones(s))
    pd = lib.ParameterDict({"b": mk(2), "a": lib.Parameter(mk(1))})  # a plain dict: sorted keys
    pd["c"] = mk(3)
    pd.update([("d", mk(1))])
    pd.update(OrderedDict([("f", mk(2, 2)), ("e", mk(1))]))  # ordered: kept in its order
    return pd


def test_parameter_dict_as_torch():
    ours, theirs = _pdict(nn), _pdict(tnn)
    assert list(ours) == list(theirs) == ["a", "b", "c", "d", "f", "e"]
    assert list(ours.keys()) == list(theirs.keys())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [k for k, _ in ours.items()] == list(ours)
    assert [v.shape for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]
    assert "c" in ours and "z" not in ours and len(ours) == len(theirs) == 6
    assert isinstance(ours["c"], nn.Parameter) and ours.get("z", 5) == 5
    assert ours.pop("c").shape == (3,) and theirs.pop("c").shape == (3,)
    del ours["a"], theirs["a"]
    assert list(ours) == list(theirs) == ["b", "d", "f", "e"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.popitem()[0] == theirs.popitem()[0] == "e"
    assert list(reversed(ours)) == list(reversed(theirs))
    assert ours.setdefault("g", Tensor(np.ones(2, np.float32))).shape == (2,)
    copy = ours.copy()
    assert isinstance(copy, nn.ParameterDict) and copy["b"] is ours["b"]
    assert list(nn.ParameterDict.fromkeys(["x", "y"], Tensor(np.ones(1, np.float32)))) == ["x", "y"]
    assert list(ours | {"z": Tensor(np.ones(1, np.float32))}) == [*ours, "z"]
    assert repr(ours) == repr(ours).replace("torch.", "")
    assert repr(ours).splitlines()[1] == "    (b): Parameter containing: [float32 of size 2]"
    assert _repr(nn.ParameterDict()) == _repr(tnn.ParameterDict())
    for pd in (ours, theirs):
        with pytest.raises(TypeError, match="string"):
            pd[3] = pd["b"]
        for bad in ("update", "a.b", ""):
            with pytest.raises(KeyError):
                pd[bad] = pd["b"]
    assert 3 not in ours._keys and "update" not in ours
    with pytest.raises(KeyError, match="'nope'"):
        ours["nope"]
    ours.clear()
    assert len(ours) == 0 and list(ours.state_dict()) == []


def test_parameter_without_data_as_torch():
    p, t = nn.Parameter(), tnn.Parameter()
    assert p.shape == tuple(t.shape) == (0,) and p.dtype == np.float32 and p.requires_grad
    assert nn.Parameter(requires_grad=False).requires_grad is False


# ------------------------------------------------------------------ 6. nn.init
def test_init_gain_and_fans_as_torch():
    for name in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
        assert nn.init.calculate_gain(name) == tnn.init.calculate_gain(name), name
    assert nn.init.calculate_gain("selu") == 0.75
    assert nn.init.calculate_gain("leaky_relu", 0.2) == tnn.init.calculate_gain("leaky_relu", 0.2)
    for lib in (nn, tnn):
        with pytest.raises(ValueError, match="negative_slope"):
            lib.init.calculate_gain("leaky_relu", "0.2")
        with pytest.raises(ValueError):
            lib.init.calculate_gain("softsign")
    for shape in ((4, 3), (8, 2, 3, 5), (2, 3, 1)):
        w = nn.Parameter(np.zeros(shape, np.float32))
        assert nn.init._calculate_fan_in_and_fan_out(w) == \
            tnn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    with pytest.raises(ValueError, match="fewer than 2 dimensions|at least 2 dims"):
        nn.init._calculate_fan_in_and_fan_out(Tensor(np.zeros(3, np.float32)))


# ------------------------------------------------------------------ 6. padding layers
PAD_CASES = [("ZeroPad2d", (1,)), ("ZeroPad2d", ((1, 0, 2, 3),)), ("ConstantPad2d", (2, 3.5)),
             ("ConstantPad2d", ((0, 1, 2, 0), -1)), ("ReflectionPad2d", (2,)),
             ("ReflectionPad2d", ((1, 0, 3, 2),)), ("ReplicationPad2d", (3,)),
             ("ReplicationPad2d", ((0, 2, 1, 4),)), ("CircularPad2d", ((1, 2, 0, 3),))]


@pytest.mark.parametrize("name,args", PAD_CASES)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 4, 5)])
def test_padding_layers_as_torch(name, args, shape):
    ours, theirs = getattr(nn, name)(*args), getattr(tnn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert ours.padding == theirs.padding and getattr(ours, "value", None) == \
        getattr(theirs, "value", None)
    x = np.random.RandomState(6).randn(*shape)
    xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(xo), theirs(xt)
    np.testing.assert_array_equal(arr(y), arr(ty))
    g = np.random.RandomState(7).randn(*ty.shape)
    y.backward(Tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_padding_layers_refuse_bad_arguments_clearly():
    with pytest.raises(ValueError, match=r"ReflectionPad2d: padding must be an int or .*\(1, 2, 3\)"):
        nn.ReflectionPad2d((1, 2, 3))
    with pytest.raises(ValueError, match="ZeroPad2d: padding must be"):
        nn.ZeroPad2d(1.5)
    with pytest.raises(ValueError, match=r"ReplicationPad2d: expected a 3-D \(C, H, W\) or 4-D "
                                         r"\(N, C, H, W\) input, got 2-D \(4, 5\)"):
        nn.ReplicationPad2d(1)(Tensor(np.zeros((4, 5), np.float32)))
    with pytest.raises(ValueError, match="reflect.*smaller than its dim.*ReflectionPad2d"):
        nn.ReflectionPad2d(4)(Tensor(np.zeros((1, 1, 4, 4), np.float32)))


def test_norm_registers_missing_parameters_and_buffers_as_none_like_torch():
    keys = []
    x = np.random.RandomState(8).randn(4, 2, 3, 3).astype(np.float32)
    outs = []
    for lib in (nn, tnn):
        m = lib.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
        mk = Tensor if lib is nn else torch.tensor
        m.running_mean = mk(np.full(2, 0.5, np.float32))  # a buffer again, as in PyTorch
        m.running_var = mk(np.full(2, 4.0, np.float32))
        keys.append(list(m.state_dict()))
        outs.append(arr(m(mk(x))))
        with pytest.raises(TypeError, match="as parameter 'weight'"):
            m.weight = mk(np.ones(2, np.float32))
    assert keys[0] == keys[1] == ["running_mean", "running_var"]
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6)
    for lib in (nn, tnn):
        for m in (lib.Linear(2, 2, bias=False), lib.Conv2d(1, 1, 1, bias=False),
                  lib.ConvTranspose2d(1, 1, 1, bias=False)):
            assert "bias" in m._parameters and m.bias is None
            with pytest.raises(TypeError, match="as parameter 'bias'"):
                m.bias = m.weight.detach()


@pytest.mark.parametrize("make", [
    lambda nn: nn.Sequential(OrderedDict(forward=nn.Linear(2, 2), act=nn.Tanh())),
    lambda nn: nn.Sequential(OrderedDict(training=nn.Tanh())),
    lambda nn: nn.ModuleDict({"keys": nn.Tanh()}),
])
def test_container_names_that_would_hide_module_attributes_are_refused(make):
    """Sequential(OrderedDict(forward=...)) replaced the forward method (the Tanh after it never
    ran); PyTorch refuses the name."""
    with pytest.raises(KeyError, match="already exists"):
        make(torch.nn)
    with pytest.raises(KeyError, match="already exists"):
        make(tg.nn)
