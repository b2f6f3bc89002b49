"""Session 40: what the outside testers found (t164's error classes and factory keywords, and the
factories' speed on large sizes)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg


def _torch():
    return pytest.importorskip("torch")


def _error_class(call, lib):
    try:
        call(lib)
    except Exception as exc:  # (the class is what is compared)
        return exc
    return None


# the class PyTorch raises, and ours: the same one, or a subclass of it (ArgumentIndexError is a
# RuntimeError; an IndexError matters most: Python's sequence protocol ends a loop on it)
ERROR_CASES = {
    "index_select_0d_two": lambda T: T.tensor(1.).index_select(0, T.tensor([0, 0])),
    "index_fill_2d_index": lambda T: T.tensor([1., 2]).index_fill(0, T.tensor([[0]]), 1.),
    "index_add_2d_index": lambda T: T.tensor([1., 2]).index_add(0, T.tensor([[0]]), T.tensor([[1.]])),
    "narrow_0d": lambda T: T.tensor(1.).narrow(0, 0, 1),
    "split_0d": lambda T: T.tensor(1.).split(1),
    "chunk_0d": lambda T: T.tensor(1.).chunk(1),
    "getitem_str": lambda T: T.tensor([1., 2, 3])["a"],
    "getitem_str_list": lambda T: T.tensor([1., 2, 3])[["a"]],
    "getitem_none_str": lambda T: T.tensor([1., 2, 3])[None, "a"],
    "getitem_float": lambda T: T.tensor([1., 2, 3])[1.5],
    "diagonal_1d": lambda T: T.tensor([1., 2, 3]).diagonal(),
    "kthvalue_empty": lambda T: T.ones(0).kthvalue(1),
    "kthvalue_empty_dim": lambda T: T.ones(3, 0).kthvalue(1),
    "kthvalue_k_past": lambda T: T.ones(3).kthvalue(4),
    "ones_2_70": lambda T: T.ones(2**70),
    "zeros_overflow": lambda T: T.zeros(2**40, 2**40),
    "empty_overflow": lambda T: T.empty(2**62),
    "zeros_empty_overflow": lambda T: T.zeros(0, 2**40, 2**40),
    "tensor_int8_2_70": lambda T: T.tensor([2**70], dtype=T.int8),
    "tensor_uint8_big": lambda T: T.tensor(2**64 - 1, dtype=T.uint8),
    "tensor_int32_big": lambda T: T.tensor(2**63, dtype=T.int32),
    "tensor_int8_minus_big": lambda T: T.tensor(-2**63 - 1, dtype=T.int8),
    "zeros_size_int": lambda T: T.zeros(size=2),
    "randn_size_int": lambda T: T.randn(size=3),
    "full_int_size": lambda T: T.full(2, 1),
    "full_size_kw_int": lambda T: T.full(size=2, fill_value=1),
}


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_error_class_is_pytorchs(case):
    torch = _torch()
    theirs = _error_class(ERROR_CASES[case], torch)
    ours = _error_class(ERROR_CASES[case], tg)
    assert theirs is not None and ours is not None, (theirs, ours)
    assert isinstance(ours, type(theirs)), (case, type(ours).__mro__, type(theirs))
    # an IndexError only where PyTorch raises one (a dataset's __getitem__ would end early)
    assert isinstance(ours, IndexError) == isinstance(theirs, IndexError)


def test_a_dataset_whose_items_split_a_0d_tensor_raises_not_ends():
    class Items:
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return tg.tensor(float(i)).split(1)

    with pytest.raises(RuntimeError, match="split"):
        list(Items())


@pytest.mark.parametrize("call", [
    lambda: tg.tensor([1.], pin_memory=False),
    lambda: tg.randint_like(tg.ones(2, 3), 3, layout=tg.strided, pin_memory=False),
    lambda: tg.tril_indices(3, 3, layout=tg.strided),
    lambda: tg.triu_indices(3, 3, layout=tg.strided),
    lambda: tg.scalar_tensor(1., layout=tg.strided, pin_memory=False),
])
def test_factories_take_layout_and_pin_memory(call):
    assert isinstance(call(), tg.Tensor)


def test_factory_layout_is_checked():
    with pytest.raises(TypeError, match="layout"):
        tg.tril_indices(3, 3, layout="sparse")
    with pytest.raises(TypeError, match="layout"):
        tg.scalar_tensor(1., layout="sparse")


def test_randint_like_keeps_the_memory_format():
    torch = _torch()
    x = np.zeros((2, 3, 4, 5), np.float32)
    ours = tg.tensor(x).contiguous(memory_format=tg.channels_last)
    theirs = torch.tensor(x).contiguous(memory_format=torch.channels_last)
    assert tg.randint_like(ours, 5).stride() == torch.randint_like(theirs, 5).stride()
    assert tg.randint_like(ours, 5, memory_format=tg.contiguous_format).stride() == \
        torch.randint_like(theirs, 5, memory_format=torch.contiguous_format).stride()


@pytest.mark.parametrize("dtype", [None, "float16", "float32", "float64", "int8", "uint8", "int32",
                                   "int64", "bool"])
def test_factories_made_in_their_dtype_give_pytorchs_values(dtype):
    torch = _torch()
    kw = lambda T: {} if dtype is None else {"dtype": getattr(T, dtype)}  # noqa: E731
    for name, args in (("zeros", (2, 3)), ("ones", (2, 3)), ("empty", (2, 3)), ("eye", (3, 2)),
                       ("full", ((2, 3), 1.7 if dtype != "bool" else True)),
                       ("full", ((2,), 0.1 if dtype != "bool" else False))):
        ours = getattr(tg, name)(*args, **kw(tg))
        theirs = getattr(torch, name)(*args, **kw(torch))
        if name == "empty":  # (ours are zeros; PyTorch's are whatever the memory held)
            theirs = torch.zeros_like(theirs)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert np.array_equal(ours.numpy(), theirs.numpy()), (name, args)
        assert ours.numpy().tobytes() == theirs.numpy().tobytes(), (name, args)  # (bit for bit)


# ------------------------------------------------------------------ tg.amp (t166: nanoGPT's train.py)
def _scaled_training(lib, device, enabled, steps=6, poison=(2,), unscale=False, interval=2):
    """A linear model trained with a GradScaler; at the steps in ``poison`` a gradient is made inf
    (the step must be skipped and the scale backed off). Returns params, scales, step results."""
    rng = np.random.default_rng(0)
    w = lib.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = lib.tensor(rng.standard_normal(3), requires_grad=True)
    x = lib.tensor(rng.standard_normal((5, 4)))
    opt = lib.optim.SGD([w, b], lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler(device, init_scale=1024.0, growth_interval=interval, enabled=enabled)
    scales, results = [], []
    for step in range(steps):
        opt.zero_grad()
        loss = ((x @ w.t() + b) ** 2).mean()
        scaler.scale(loss).backward()
        if step in poison:
            with lib.no_grad():
                w.grad[0, 0] = float("inf")
        if unscale:
            scaler.unscale_(opt)
            lib.nn.utils.clip_grad_norm_([w, b], 1.0)
        results.append(scaler.step(opt) is None)
        scaler.update()
        scales.append(scaler.get_scale())
    return [w.detach().numpy().copy(), b.detach().numpy().copy()], scales, results, scaler.state_dict()


@pytest.mark.parametrize("unscale", [False, True])
@pytest.mark.parametrize("enabled", [True, False])
def test_grad_scaler_trains_as_pytorchs(enabled, unscale):
    torch = _torch()
    poison = (2,) if enabled else ()  # (disabled, an inf gradient is stepped on by both alike)
    ours = _scaled_training(tg, "cpu", enabled, poison=poison, unscale=unscale)
    theirs = _scaled_training(torch, "cpu", enabled, poison=poison, unscale=unscale)
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert ours[1] == theirs[1]  # the scale after each update: backed off, grown
    assert ours[2] == theirs[2]
    assert ours[3] == theirs[3]
    if enabled:
        assert ours[1][:4] == [1024.0, 2048.0, 1024.0, 1024.0]  # grown, backed off at the inf


def test_cuda_grad_scaler_without_a_gpu_is_disabled_with_a_warning():
    if tg.cuda.is_available():
        pytest.skip("a GPU is here")
    with pytest.warns(UserWarning, match="CUDA is not available"), \
            pytest.warns(FutureWarning, match="deprecated"):
        scaler = tg.cuda.amp.GradScaler(enabled=True)
    assert not scaler.is_enabled() and scaler.state_dict() == {} and scaler.get_scale() == 1.0
    x = tg.tensor(2.0, requires_grad=True)
    assert scaler.scale(x) is x
    import tinygrad_cnn.cuda.amp as cuda_amp  # (PyTorch's import spelling)

    assert cuda_amp.GradScaler is tg.cuda.amp.GradScaler
    with pytest.warns(UserWarning, match="CUDA is not available"), \
            pytest.warns(FutureWarning, match="deprecated"), tg.cuda.amp.autocast():
        pass


def test_grad_scaler_errors_are_pytorchs():
    w = tg.tensor([1.0], requires_grad=True)
    opt = tg.optim.SGD([w], lr=0.1)
    scaler = tg.amp.GradScaler("cpu")
    scaler.scale((w * 2).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="already been called since the last update"):
        scaler.step(opt)
    scaler.update()
    with pytest.raises(AssertionError, match="No inf checks"):
        scaler.update()
    with pytest.raises(RuntimeError, match="Closure"):
        scaler.step(opt, closure=lambda: 0.0)
    with pytest.raises(RuntimeError, match="empty"):
        scaler.load_state_dict({})
    half = tg.tensor([1.0], dtype=tg.float16, requires_grad=True)
    opt16 = tg.optim.SGD([half], lr=0.1)
    scaler.scale((half * 2).sum()).backward()
    with pytest.raises(ValueError, match="FP16"):
        scaler.unscale_(opt16)


def test_autocast_disabled_is_a_no_op_and_enabled_on_the_cpu_says_what_to_write():
    with tg.autocast("cpu", enabled=False):
        y = tg.ones(2) * 2
    assert y.dtype == tg.float32

    @tg.autocast("cpu", enabled=False)
    def f(x):
        return x + 1

    assert f(tg.ones(1)).item() == 2.0
    with pytest.raises(RuntimeError, match="nullcontext"):
        tg.autocast("cpu")


# ------------------------------------------------------------------ functional_call (t166: MAML)
def _maml(lib, functional_call):
    """Two tasks of a MAML step: inner SGD step on adapted weights (create_graph), outer loss
    through them; returns the meta-gradients and a forward with the originals untouched."""
    rng = np.random.default_rng(3)
    net = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 1)).double()
    with lib.no_grad():
        for p in net.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape))))
    params = dict(net.named_parameters())
    meta = 0
    for _ in range(2):
        x = lib.tensor(rng.standard_normal((5, 3)))
        y = lib.tensor(rng.standard_normal((5, 1)))
        inner = ((functional_call(net, params, (x,)) - y) ** 2).mean()
        grads = lib.autograd.grad(inner, list(params.values()), create_graph=True)
        adapted = {k: v - 0.1 * g for (k, v), g in zip(params.items(), grads)}
        meta = meta + ((functional_call(net, adapted, x) - y) ** 2).mean()
    meta.backward()
    probe = lib.tensor(rng.standard_normal((2, 3)))
    return [p.grad.numpy().copy() for p in net.parameters()], net(probe).detach().numpy()


def test_functional_call_maml_matches_pytorch():
    torch = _torch()
    from torch.func import functional_call as theirs_call

    ours, theirs = _maml(tg, tg.func.functional_call), _maml(torch, theirs_call)
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)  # (the module itself unchanged)
    assert tg.nn.utils.stateless.functional_call is tg.func.functional_call


def _tied_model(lib):
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(2, 2, bias=False)
            self.b = lib.nn.Linear(2, 2, bias=False)
            self.b.weight = self.a.weight
            self.register_buffer("scale", lib.ones(1))

        def forward(self, x, shift=0.0):
            return self.b(self.a(x)) * self.scale + shift

    return Tied()


def test_functional_call_ties_strictness_and_errors_as_pytorchs():
    torch = _torch()
    from torch.func import functional_call as theirs_call

    results = []
    for lib, call in ((tg, tg.func.functional_call), (torch, theirs_call)):
        m = _tied_model(lib)
        with lib.no_grad():
            m.a.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
        x, eye2 = lib.ones(1, 2), lib.eye(2) * 2
        row = [call(m, {"a.weight": eye2}, x).tolist(),
               call(m, {"a.weight": eye2}, x, tie_weights=False).tolist(),
               call(m, ({"a.weight": eye2}, {"scale": lib.tensor([3.0])}), (x,), {"shift": 1.0}).tolist(),
               m(x).tolist()]
        for bad, kw in (({"a.weight": eye2, "b.weight": lib.eye(2)}, {}),
                        (({"scale": eye2}, {"scale": eye2}), {}),
                        ({"a.weight": eye2}, {"strict": True}),
                        ({"a.weight": eye2, "b.weight": eye2, "scale": lib.ones(1), "zz": eye2},
                         {"strict": True, "tie_weights": False})):
            with pytest.raises((ValueError, RuntimeError)) as err:
                call(m, bad, x, **kw)
            row.append((type(err.value).__name__, "Missing" in str(err.value),
                        "Unexpected" in str(err.value)))
        results.append(row)
    assert results[0] == results[1]


def test_functional_call_puts_the_originals_back_when_forward_raises():
    m = _tied_model(tg)
    before = m.a.weight
    with pytest.raises(TypeError):
        tg.func.functional_call(m, {"a.weight": tg.eye(2)}, tg.ones(1, 2), {"nope": 1})
    assert m.a.weight is before and m.b.weight is before
    with pytest.raises(AttributeError, match="functorch"):
        tg.func.vmap  # noqa: B018


# ------------------------------------------------------------------ names a port reaches for (t166)
@pytest.mark.parametrize("where,name", [
    ("tinygrad_cnn", "polar"), ("tinygrad_cnn", "view_as_complex"), ("tinygrad_cnn", "_foreach_lerp_"),
    ("tinygrad_cnn", "sparse_coo_tensor"), ("tinygrad_cnn", "fft"), ("tinygrad_cnn", "logdet"),
    ("tinygrad_cnn", "poisson"), ("tinygrad_cnn", "cholesky_solve"),
    ("tinygrad_cnn.special", "entr"), ("tinygrad_cnn.special", "i0"), ("tinygrad_cnn.special", "log_ndtr"),
    ("tinygrad_cnn.linalg", "solve_triangular"), ("tinygrad_cnn.nn.functional", "ctc_loss"),
    ("tinygrad_cnn.func", "vmap"), ("tinygrad_cnn.func", "grad"),
])
def test_a_missing_name_says_what_to_write_instead(where, name):
    import importlib

    module = importlib.import_module(where)
    with pytest.raises(AttributeError, match=r"\(PyTorch's torch[.\w]*\): .{20,}"):
        getattr(module, name)


def test_renorm_at_the_top_level_is_pytorchs():
    torch = _torch()
    x = np.random.default_rng(0).standard_normal((3, 4))
    ours = tg.renorm(tg.tensor(x, requires_grad=True), 1, 0, 2.0)
    theirs = torch.renorm(torch.tensor(x, requires_grad=True), 1, 0, 2.0)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)


# ------------------------------------------------------------------ gradcheck report (t162 #6)
def test_a_composites_cause_names_the_op_whose_inputs_it_numbers():
    from tinygrad_cnn.gradcheck import check_grads

    class SwappedGrads(tg.Function):
        name = "mul_swap"

        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return np.sin(a) * np.sin(b)

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * a.sin() * b.cos(), g * b.sin() * a.cos()  # (each the other's)

    rng = np.random.default_rng(0)
    a = tg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = tg.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    r = check_grads(lambda x, y: (SwappedGrads.apply(x @ y, y * 0.5 + 1) * 2).sum(), (a, b))
    assert not r.ok and r.cause.startswith("the VJP returns the gradients of input 0 and input 1")
    assert "Likely cause (in `mul_swap`, its inputs numbered as that op's): the VJP returns" in str(r)
    alone = check_grads(SwappedGrads.apply, (a, b))  # (the op checked by itself: plain wording)
    assert "Likely cause: the VJP returns the gradients" in str(alone)


# ------------------------------------------------------------------ views and detach_ (t167)
def test_views_of_a_base_detached_in_place_send_no_stale_gradient():
    # (was: the view kept the graph it had before the base's in-place change, and gradient
    # flowed to values the base no longer held: b.grad [1, 2, 3] for a view of zeros)
    b = tg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    t2 = b.clone()
    t3 = t2.unsqueeze(-1)
    t2.zero_()
    t2.detach_()
    assert not t3.requires_grad and t3.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        (t3.tanh() * tg.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert b.grad is None
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    t1 = a * 1.0
    v = t1[:]
    t1.mul_(10)
    assert tg.autograd.grad(v.sum(), [a], retain_graph=True)[0].tolist() == [10.0, 10.0]
    t1.detach_()  # (v was up to date with t1 when it was cut: it keeps its graph, as PyTorch's)
    assert tg.autograd.grad(v.sum(), [a])[0].tolist() == [10.0, 10.0]


def test_views_up_to_date_with_a_base_detached_in_place_keep_their_graph_as_pytorchs():
    torch = _torch()
    grads = []
    for lib in (tg, torch):
        x = lib.ones(3, requires_grad=True)
        b = x * 2
        v = b[0:2]
        b.detach_()
        (v * x[:2]).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1] == [4.0, 4.0, 0.0]


def test_a_leaf_moved_into_the_graph_interior_is_refused_as_in_pytorch():
    torch = _torch()
    for lib in (tg, torch):
        c = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        t3 = c * 1.0
        c.detach_()
        c.add_(w)
        with pytest.raises(RuntimeError, match="moved into the graph interior"):
            (t3.sum() + (c * c).sum()).backward()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.backward(tg.ones(2), inputs=[y])  # (a non-leaf named in inputs= is no such leaf)
    assert y.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("change", [
    lambda c: c.diagonal().mul_(2), lambda c: c[0].add_(1), lambda c: c.t().mul_(2),
    lambda c: c.__setitem__(0, 5.0), lambda c: c[0].__setitem__(0, 5.0), lambda c: c.mul_(2),
])
def test_a_view_of_a_leaf_that_is_itself_a_view_is_not_changed_in_place(change):
    torch = _torch()
    for lib in (tg, torch):
        c = lib.tensor([[1.0, 2.0], [3.0, 4.0]]).t().requires_grad_()
        with pytest.raises(RuntimeError, match="leaf"):
            change(c)
        assert c.is_leaf and c.tolist() == [[1.0, 3.0], [2.0, 4.0]]
    # a view of it taken under no_grad() is PyTorch's exception: allowed in both
    for lib in (tg, torch):
        c = lib.tensor([[1.0, 2.0], [3.0, 4.0]]).t().requires_grad_()
        with lib.no_grad():
            v = c[0]
        v.mul_(2)
        assert c.tolist() == [[2.0, 6.0], [2.0, 4.0]]


def test_grad_scaler_misuse_and_limits_as_pytorchs():
    torch = _torch()
    for lib in (tg, torch):
        p = lib.nn.Parameter(lib.tensor([1.0]))
        o = lib.optim.SGD([p], lr=0.1)
        sc = lib.amp.GradScaler("cpu", init_scale=0.1)
        assert sc.get_scale() == 0.1 and sc.state_dict()["scale"] == 0.1  # (made at scale())
        (p * p).sum().backward()
        for call in (lambda: sc.step(o), lambda: sc.unscale_(o), lambda: sc.update()):
            with pytest.raises(AssertionError, match="_scale is None"):
                call()
        assert p.item() == 1.0  # (was: the unscaled gradient divided by 65536 and stepped)
        # an optimizer that got no gradient: PyTorch's error, not a silent skip
        q = lib.nn.Parameter(lib.tensor([1.0]))
        o2 = lib.optim.SGD([q], lr=0.1)
        sc.scale((p * p).sum()).backward()
        sc.step(o)
        with pytest.raises(AssertionError, match="No inf checks were recorded for this optimizer"):
            sc.step(o2)
        sc.update()
        with pytest.raises(AssertionError, match="requires_grad=False"):
            sc.update(lib.tensor(2.0, requires_grad=True))
        with pytest.raises(RuntimeError, match="overflow"):
            sc.update(1e40)
    # a scale grown past float32's range stays where it was (PyTorch's), steps go on
    scales = []
    for lib in (tg, torch):
        p = lib.nn.Parameter(lib.tensor([1.0]))
        o = lib.optim.SGD([p], lr=0.1)
        sc = lib.amp.GradScaler("cpu", init_scale=2.0**127, growth_interval=1)
        for _ in range(4):
            sc.scale(p.sum()).backward()
            sc.step(o)
            sc.update()
            o.zero_grad()
        scales.append((sc.get_scale(), round(p.item(), 6)))
    assert scales[0] == scales[1] and np.isfinite(scales[0][0])


def test_autocast_arguments_as_pytorchs():
    with pytest.raises(RuntimeError, match="device type"):
        tg.autocast("xyz", enabled=False)
    with pytest.warns(UserWarning, match="not supported. Disabling autocast"):
        ctx = tg.amp.autocast("cpu", False)  # (False is the dtype there, as in PyTorch)
    with ctx:
        pass


@pytest.mark.parametrize("names", [{"0": "ones2"}, {"": "ones2"}, {"0.training": "ones1"},
                                   {"0.forward": "ones1"}, {"0.weight": "array"}, {"0.weight": "float"}])
def test_functional_call_refuses_what_pytorch_refuses(names):
    torch = _torch()
    from torch.func import functional_call as theirs_call

    for lib, call in ((tg, tg.func.functional_call), (torch, theirs_call)):
        m = lib.nn.Sequential(lib.nn.Linear(2, 2))
        values = {"ones2": lib.ones(2), "ones1": lib.ones(1), "array": np.ones((2, 2)), "float": 2.0}
        with pytest.raises((TypeError, KeyError)) as err:
            call(m, {k: values[v] for k, v in names.items()}, lib.ones(1, 2))
        assert type(err.value) in (TypeError, KeyError)
        assert m.training is True and isinstance(m[0].weight, lib.nn.Parameter)


@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
@pytest.mark.parametrize("call", [
    lambda T: T.eye(2**40), lambda T: T.tensor(3.)["a"], lambda T: T.full((2,), T.tensor([3.])),
    lambda T: T.renorm(T.ones(3), 2, 0, 1.0), lambda T: T.renorm(T.ones(2, 2), 0, 0, 1.0),
    lambda T: T.scalar_tensor([2.0]), lambda T: T.scalar_tensor(T.tensor([2.0, 3.0])),
])
def test_more_error_classes_as_pytorchs(call):
    torch = _torch()
    theirs, ours = _error_class(call, torch), _error_class(call, tg)
    assert theirs is not None and isinstance(ours, type(theirs)), (ours, theirs)


# ------------------------------------------------------------------ signals and DataLoader workers
class _SlowStream(tg.utils.data.IterableDataset):
    def __iter__(self):
        import time

        yield np.ones(3, np.float32)
        time.sleep(60)  # (the worker is busy here when the loop ends)
        yield np.ones(3, np.float32)


def test_loader_workers_stop_whatever_sigterm_handler_the_program_has():
    """(the suite hung: a test left train's SIGTERM handler in the process, forked workers
    inherited it, terminate()'s SIGTERM raised inside one's queue put, it caught that as its error
    and blocked on the queue's lock it held -- for good)"""
    import multiprocessing
    import signal
    import time

    def raising(signum, frame):
        raise KeyboardInterrupt

    for handler in (raising, signal.SIG_IGN):
        previous = signal.signal(signal.SIGTERM, handler)
        try:
            before = set(multiprocessing.active_children())
            start = time.monotonic()
            it = iter(tg.utils.data.DataLoader(_SlowStream(), batch_size=1, num_workers=1))
            next(it)
            it.close()
            assert not [p for p in set(multiprocessing.active_children()) - before if p.is_alive()]
            assert time.monotonic() - start < 4  # (not the 60 s the busy worker sleeps)
        finally:
            signal.signal(signal.SIGTERM, previous)


def test_cli_main_gives_the_callers_signal_handlers_back_after_a_ctrl_c_while_letting_go(
        tmp_path, monkeypatch):
    import signal

    from tinygrad_cnn import cli

    release = cli._release

    def interrupted_release():
        release()
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_release", interrupted_release)
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    from pathlib import Path

    data = str(Path(__file__).parents[1] / "data" / "mnist")
    status = cli.main(["train", "--epochs", "1", "--limit", "64", "--data-dir", data,
                       "--out", str(tmp_path / "ck.npz")])
    assert status == 0
    assert {s: signal.getsignal(s) for s in before} == before


# ------------------------------------------------------------------ scaling (t165): same results, no blow-up
def test_a_deeply_nested_subset_reads_its_batch_path_once_a_level():
    from tinygrad_cnn.data import DataLoader, Subset, TensorDataset

    reads = []

    class Counted(TensorDataset):
        def arrays(self, index=slice(None)):
            reads.append(1)
            return super().arrays(index)

    base = Counted(tg.tensor(np.arange(40, dtype=np.float32).reshape(20, 2)))
    ds = base
    for _ in range(25):  # (was 2**depth evaluations of the chain: 25 levels, hours)
        ds = Subset(ds, list(range(19, -1, -1)))
    batch = next(iter(DataLoader(ds, batch_size=4)))
    # 25 reversals: the rows of the base in reverse order
    assert batch[0].tolist() == [[38.0, 39.0], [36.0, 37.0], [34.0, 35.0], [32.0, 33.0]]
    assert len(reads) == 1


def test_a_concat_of_many_datasets_gives_the_item_paths_batches():
    from tinygrad_cnn.data import ConcatDataset, DataLoader, TensorDataset

    parts = [TensorDataset(tg.tensor(np.full((3, 2), k, np.float32)), tg.tensor(np.arange(3) + k))
             for k in range(50)]
    concat = ConcatDataset(parts)
    fast = list(DataLoader(concat, batch_size=16, shuffle=True, generator=tg.Generator().manual_seed(3)))
    slow = list(DataLoader(concat, batch_size=16, shuffle=True, generator=tg.Generator().manual_seed(3),
                           collate_fn=tg.utils.data.default_collate))
    assert len(fast) == len(slow) == 10
    for (a, b), (c, d) in zip(fast, slow):
        assert a.tolist() == c.tolist() and b.tolist() == d.tolist()
    # tensors that require grad: batches keep their history (the graph path, looked up once)
    w = tg.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    (x,) = next(iter(DataLoader(ConcatDataset([TensorDataset(w), TensorDataset(w * 2)]), batch_size=6)))
    x.sum().backward()
    assert w.grad.tolist() == [[3.0, 3.0]] * 3


def test_cat_of_many_tensors_two_of_them_on_one_array_sends_each_its_gradient():
    x = tg.tensor(np.arange(3.0), requires_grad=True)
    y = x.detach()  # (the same array: was told apart pairwise, now by id for many inputs)
    parts = [x, y] * 10 + [tg.tensor(np.ones(3), requires_grad=True) for _ in range(5)]
    out = tg.cat(parts)
    (out * tg.tensor(np.arange(out.shape[0], dtype=np.float64))).sum().backward()
    # x's slots are at 0, 6, 12, ..., 54: the gradient is the sum of their weights
    expected = sum(np.arange(3.0) + 6 * j for j in range(10))
    assert x.grad.tolist() == expected.tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "int8", "uint8"])
@pytest.mark.parametrize("largest", [True, False])
def test_topk_and_kthvalue_of_a_long_dim_are_the_stable_sorts(dtype, largest):
    torch = _torch()
    rng = np.random.default_rng(1)
    x = rng.integers(0 if dtype == "uint8" else -40, 40, (3, 6000)).astype(dtype)  # (many ties)
    if dtype.startswith("float"):
        x[1] = rng.standard_normal(6000)
    ours = tg.tensor(x)
    order = ours.sort(1, descending=largest).indices.numpy()  # (the whole stable sort)
    for k in (1, 7, 600):
        got = ours.topk(k, 1, largest)
        assert np.array_equal(got.indices.numpy(), order[:, :k])
        theirs = torch.tensor(x).topk(k, 1, largest)
        assert np.array_equal(got.values.numpy(), theirs.values.numpy())
        kv = ours.kthvalue(k, 1)
        assert np.array_equal(kv.values.numpy(), torch.tensor(x).kthvalue(k, 1).values.numpy())
        assert np.array_equal(np.take_along_axis(x, kv.indices.numpy()[:, None], 1)[:, 0],
                              kv.values.numpy())
    t = tg.tensor(x.astype(np.float64), requires_grad=True)
    t.topk(5, 1, largest).values.sum().backward()
    assert t.grad.sum().item() == 15.0


def test_broadcasting_past_32_dims_as_pytorchs():
    torch = _torch()
    a, b = np.ones((2,) + (1,) * 32), np.arange(2.0).reshape((1,) * 32 + (2,))
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b)
    z = x * y + y
    xt = torch.tensor(a, requires_grad=True)
    zt = xt * torch.tensor(b) + torch.tensor(b)
    assert z.shape == tuple(zt.shape) == (2,) + (1,) * 31 + (2,)
    np.testing.assert_array_equal(z.detach().numpy(), zt.detach().numpy())
    (z.amax() + z.sum()).backward()
    (zt.amax() + zt.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    with pytest.raises(ValueError, match="broadcast"):
        tg.ones((3,) + (1,) * 33) + tg.ones((2,) + (1,) * 33)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_antialiased_downsampling_gradient_as_pytorchs(mode):
    torch = _torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 200, 130))
    g = rng.standard_normal((1, 2, 9, 7))
    ours = tg.tensor(x, requires_grad=True)
    tg.nn.functional.interpolate(ours, size=(9, 7), mode=mode, antialias=True).backward(tg.tensor(g))
    theirs = torch.tensor(x, requires_grad=True)
    torch.nn.functional.interpolate(theirs, size=(9, 7), mode=mode, antialias=True).backward(
        torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,args,kwargs", [
    ("sort", (), {"dim": -1}), ("sort", (), {"dim": 30, "descending": True}),
    ("argsort", (), {"dim": -1}), ("topk", (2,), {}), ("kthvalue", (2,), {}),
    ("median", (), {"dim": -1}), ("nanmedian", (), {"dim": 30}), ("mode", (-1,), {}),
    ("max", (), {"dim": -1}),
])
def test_sorting_ops_past_32_dims_as_pytorchs(name, args, kwargs):
    torch = _torch()
    a = np.random.default_rng(0).integers(0, 3, [1] * 30 + [2, 1, 5]).astype(np.float64)
    ours = getattr(tg.tensor(a), name)(*args, **kwargs)
    theirs = getattr(torch.tensor(a), name)(*args, **kwargs)
    pairs = list(zip(*((r if isinstance(r, tuple) else (r,)) for r in (ours, theirs))))
    if name in ("kthvalue", "topk"):  # (an index among ties: the stable sort's, not PyTorch's)
        pairs = pairs[:1]
    for o, t in pairs:
        assert np.array_equal(o.numpy(), t.numpy())


def test_loader_workers_take_tensors_that_require_grad_under_no_grad_as_pytorchs():
    from tinygrad_cnn.data import DataLoader, TensorDataset

    w = tg.tensor(np.arange(12.0).reshape(6, 2), requires_grad=True)
    with tg.no_grad():  # (PyTorch's forked workers read them without a graph: allowed)
        batches = [b[0].tolist() for b in DataLoader(TensorDataset(w), batch_size=2, num_workers=2)]
    assert batches == np.arange(12.0).reshape(3, 2, 2).tolist()
    with pytest.raises(RuntimeError, match="while grad mode is on"):
        list(DataLoader(TensorDataset(w), batch_size=2, num_workers=2))


def test_loader_workers_end_when_the_main_process_is_killed(tmp_path):
    """(t170: a main process killed by SIGKILL -- or the OOM killer, or an unhandled SIGTERM --
    left its workers waiting for tasks for ever; PyTorch's watchdog ends them)"""
    import os
    import signal
    import subprocess
    import sys
    import time

    if not hasattr(signal, "SIGKILL") or not os.path.isdir("/proc"):
        pytest.skip("needs POSIX signals and /proc")
    script = tmp_path / "loop.py"
    script.write_text(
        "import os, time, numpy as np\n"
        "from tinygrad_cnn.data import DataLoader, Dataset\n"
        "class Slow(Dataset):\n"
        "    def __len__(self): return 100000\n"
        "    def __getitem__(self, i): time.sleep(0.005); return np.float32(i)\n"
        "it = iter(DataLoader(Slow(), batch_size=4, num_workers=2))\n"
        "next(it)\n"
        "import multiprocessing\n"
        "print(' '.join(str(p.pid) for p in multiprocessing.active_children()), flush=True)\n"
        "time.sleep(60)\n")
    from pathlib import Path

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert len(workers) == 2
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 30
        alive = workers
        while alive and time.monotonic() < deadline:
            time.sleep(0.5)
            alive = [p for p in workers if _running(p)]
        assert not alive, f"workers {alive} outlived their main process"
    finally:
        proc.kill()
        for p in workers if "workers" in locals() else []:
            with __import__("contextlib").suppress(OSError):
                os.kill(p, signal.SIGKILL)


def _running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_cli_keeps_an_ignored_sigterm_ignored(tmp_path):
    import signal

    from tinygrad_cnn import cli

    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    seen = []
    try:
        say = cli._say

        def watch(*parts, **kw):  # (what SIGTERM is while the command runs)
            seen.append(signal.getsignal(signal.SIGTERM))
            return say(*parts, **kw)

        cli._say = watch
        from pathlib import Path

        data = str(Path(__file__).parents[1] / "data" / "mnist")
        assert cli.main(["train", "--epochs", "1", "--limit", "64", "--data-dir", data,
                         "--out", str(tmp_path / "ck.npz")]) == 0
    finally:
        cli._say = say
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        signal.signal(signal.SIGTERM, previous)
    assert seen and all(h is signal.SIG_IGN for h in seen)


# ------------------------------------------------------------------ the final break attempt (t171)
def test_a_view_of_a_base_detached_then_changed_in_place_sends_no_stale_gradient():
    torch = _torch()
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = w * 2
    v = b[1:]
    b.detach_()
    b.copy_(tg.tensor([9.0, 9.0, 9.0]))  # (after the detach: v reads 9s, no longer w)
    assert not v.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        (v * v).sum().backward()
    grads = []
    for lib in (tg, torch):  # (with another path to w: the same gradient as PyTorch's)
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = w * 2
        v = b[1:]
        b.detach_()
        b.zero_()
        (v * v + w[1:]).sum().backward()
        grads.append(w.grad.tolist())
    assert grads[0] == grads[1] == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("write", [lambda v, w: v.add_(w), lambda v, w: v.__setitem__(0, w[0])])
def test_an_in_place_write_through_a_view_of_a_detached_base_is_refused_as_pytorch(write):
    torch = _torch()
    for lib in (tg, torch):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = w * 2
        v = b.view(3)
        b.detach_()
        with pytest.raises(RuntimeError):
            write(v, w)


def test_module_hook_views_are_keyed_by_handle_id_as_pytorchs():
    torch = _torch()
    logs = []
    for lib in (tg, torch):
        m = lib.nn.Linear(2, 2)
        log = []
        handles = [m.register_forward_hook(lambda *a, i=i: log.append(i)) for i in range(4)]
        assert list(m._forward_hooks.keys()) == [h.id for h in handles]
        m._forward_hooks.popitem()  # (the last, as an OrderedDict's)
        del m._forward_hooks[handles[1].id]
        m(lib.ones(1, 2))
        for k in list(m._forward_hooks.keys()):  # (the everyday clearing loop)
            del m._forward_hooks[k]
        m(lib.ones(1, 2))
        logs.append(log)
    assert logs[0] == logs[1] == [0, 2]


def test_triangle_indices_of_a_huge_thin_matrix_as_pytorchs():
    torch = _torch()
    assert tg.triu_indices(2**32, 1).tolist() == torch.triu_indices(2**32, 1).tolist() == [[0], [0]]
    for row, col, off in [(0, 3, 0), (4, 3, -2), (3, 5, 7), (5, 2, -9), (4, 4, 1)]:
        for name in ("tril_indices", "triu_indices"):
            assert getattr(tg, name)(row, col, off).tolist() == getattr(torch, name)(row, col, off).tolist()
