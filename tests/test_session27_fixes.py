"""Session 27: what outside testers found and what the last session left open, each checked
against PyTorch."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from test_gradcheck_gallery import Relu  # (max(x, 0), gradient 0 at 0)

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- issue 12: empty tensors' strides


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0, 2), (1, 0, 1, 5)])
def test_empty_tensor_strides_are_pytorchs(shape):
    # (was: numpy's all-zero strides, (0, 0) for a 0x3 tensor where PyTorch says (3, 1))
    ours, theirs = tg.zeros(*shape), torch.zeros(*shape)
    assert ours.stride() == theirs.stride()
    assert ours.contiguous().stride() == theirs.contiguous().stride()
    assert tg.empty(*shape, dtype=tg.int64).stride() == theirs.stride()
    assert all(ours.stride(d) == theirs.stride(d) for d in range(-len(shape), len(shape)))
    assert ours.is_contiguous() and theirs.is_contiguous()


def test_empty_slices_keep_their_strides():
    # an empty slice of a filled tensor has its base's strides, as in PyTorch
    for index in ((slice(None), slice(2, 2)), (slice(1, 1),)):
        assert tg.zeros(3, 4)[index].stride() == torch.zeros(3, 4)[index].stride()


# ---------------------------------------------------------------- issue 14: an index that is the destination

_INDEX_WRITERS = {
    "index_fill_": lambda a, lib: a.index_fill_(0, a, 5),
    "index_add_": lambda a, lib: a.index_add_(0, a[:2], lib.tensor([1, 1])),
    "index_copy_": lambda a, lib: a.index_copy_(0, a[1:3], lib.tensor([7, 8])),
    "scatter_": lambda a, lib: a.scatter_(0, a, 3),
    "scatter_add_": lambda a, lib: a.scatter_add_(0, a, a.clone()),
    "scatter_reduce_": lambda a, lib: a.scatter_reduce_(0, a, a.clone(), "amax"),
    "index_put_": lambda a, lib: a.index_put_((a,), lib.tensor(9)),
    "index_put_ accumulate": lambda a, lib: a.index_put_((a,), lib.tensor(9), accumulate=True),
    "setitem": lambda a, lib: a.__setitem__(a[:2], 9),
    "put_": lambda a, lib: a.put_(a, lib.tensor([1, 2, 3, 4])),
}


@pytest.mark.parametrize("name", sorted(_INDEX_WRITERS))
def test_an_index_sharing_the_written_memory_is_refused(name):
    # (was: read before the write and accepted -- a.index_fill_(0, a, 5) gave [5, 5, 5, 1])
    write = _INDEX_WRITERS[name]
    with pytest.raises(RuntimeError, match="single memory location"):
        write(torch.tensor([0, 1, 2, 1]), torch)
    a = tg.tensor([0, 1, 2, 1])
    with pytest.raises(RuntimeError, match=r"index tensor \(shape .*single memory location"):
        write(a, tg)
    assert a.tolist() == [0, 1, 2, 1]  # (refused before anything was written)


@pytest.mark.parametrize("write", [
    lambda a, lib: a.__setitem__(a.clone(), 9),              # a copy of the index
    lambda a, lib: a[1:].index_fill_(0, a[:1], 7),            # memory apart
    lambda a, lib: a.__setitem__(a > 0, 7),                   # a bool mask is read whole first
    lambda a, lib: a.index_add_(0, a.clone()[:2], lib.tensor([1, 1])),
])
def test_indices_apart_from_the_written_memory_pass(write):
    ours, theirs = tg.tensor([0, 1, 2, 1]), torch.tensor([0, 1, 2, 1])
    write(ours, tg)
    write(theirs, torch)
    assert ours.tolist() == theirs.tolist()


# ---------------------------------------------------------------- issue 16: ill-conditioned float32


def _layer_norm_function(wrong_in_float32: str | None = None):
    class LayerNorm(tg.Function):
        @staticmethod
        def forward(ctx, x):
            xc = x - x.mean(-1, keepdims=True)
            sd = np.sqrt((xc * xc).mean(-1, keepdims=True) + 1e-5)
            y = xc / sd
            ctx.save_for_backward(y, sd)
            return y

        @staticmethod
        def backward(ctx, g):
            y, sd = ctx.saved_tensors
            r = (g - g.mean(-1, keepdim=True) - y * (g * y).mean(-1, keepdim=True)) / sd
            if g.dtype == np.float32 and wrong_in_float32 == "factor":
                r = r * 1.05
            if g.dtype == np.float32 and wrong_in_float32 == "sign":
                flip = np.ones(r.shape, np.float32)
                flip.flat[3] = -1
                r = r * tg.tensor(flip)
            return r

    return LayerNorm.apply


def _offset_input(seed, offset, shape=(3, 8)):
    # (not the stream of gradcheck's own cotangents, which default_rng(1) is: a cotangent equal
    # to the input's spread is in layer norm's null space, and its VJP is all rounding)
    rng = np.random.default_rng(seed + 100)
    return tg.tensor((offset + rng.standard_normal(shape)).astype(np.float32), requires_grad=True)


_NORMALISING = {
    "batch_norm": lambda t: tg.nn.functional.batch_norm(t, None, None, training=True),
    "layer_norm": lambda t: tg.nn.functional.layer_norm(t, (8,)),
    "group_norm": lambda t: tg.nn.functional.group_norm(t.reshape(3, 8, 1), 2),
    "instance_norm": lambda t: tg.nn.functional.instance_norm(t.reshape(1, 3, 8)),
    "var": lambda t: t.var(1),
    "std": lambda t: t.std(0),
    "own layer norm": _layer_norm_function(),
}


@pytest.mark.parametrize("name", sorted(_NORMALISING))
def test_right_float32_vjps_of_large_offsets_pass(name):
    # (was: "the VJP is wrong in float32 only" for batch_norm, layer_norm, var, ... at inputs
    # ~1e4 with spread 1 -- float32 keeps 3 digits there, and PyTorch's VJPs do no better)
    for seed in range(4):
        assert tg.gradcheck(_NORMALISING[name], _offset_input(seed, 1e4))


@pytest.mark.parametrize("wrong", ["factor", "sign"])
@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_a_float32_only_wrong_vjp_still_fails_where_ill_conditioned(wrong, offset):
    assert tg.gradcheck(_layer_norm_function(), _offset_input(1, offset))
    with pytest.raises(tg.GradcheckError, match="wrong in float32 only"):
        tg.gradcheck(_layer_norm_function(wrong), _offset_input(1, offset))


# ---------------------------------------------------------------- issue 12/14: small refusals that were wrong


@pytest.mark.parametrize("write", [
    lambda h, lib: h.scatter_(0, lib.tensor([0]), 2.5),
    lambda h, lib: h.scatter_(0, lib.tensor([0, 0]), 2.5),
    lambda h, lib: h.scatter_(0, lib.tensor(0), 2.5),
    lambda h, lib: h.scatter_add_(0, lib.tensor([0, 0]), lib.tensor([7.0, 1.0])),
    lambda h, lib: h.scatter_add_(0, lib.tensor([0]), lib.tensor(7.0)),
    lambda h, lib: h.scatter_reduce_(0, lib.tensor([0]), lib.tensor([7.0]), "sum"),
    lambda h, lib: h.scatter_reduce_(0, lib.tensor([0, 0]), lib.tensor([7.0, 1.0]), "amax",
                                     include_self=False),
    lambda h, lib: h.scatter(0, lib.tensor([0]), lib.tensor([3.0])),
])
def test_scatter_into_a_0d_tensor(write):
    # (was: "index has 1 dims, the tensor 0" -- PyTorch counts a 0-d tensor as one of 1 dim)
    ours, theirs = write(tg.tensor(5.0), tg), write(torch.tensor(5.0), torch)
    assert ours.shape == () and ours.item() == theirs.item()


def test_scatter_into_a_0d_tensor_still_checks():
    with pytest.raises(ValueError, match=r"index has 2 dims and the tensor has 0"):
        tg.tensor(5.0).scatter_(0, tg.tensor([[0]]), 2.5)
    with pytest.raises(RuntimeError, match="out of range"):  # (PyTorch's class)
        tg.tensor(5.0).scatter_(0, tg.tensor([1]), 2.5)
    x, s = tg.tensor(5.0, requires_grad=True), tg.tensor([7.0, 2.0], requires_grad=True)
    x.scatter_add(0, tg.tensor([0, 0]), s).backward()
    assert x.grad.item() == 1.0 and s.grad.tolist() == [1.0, 1.0]


def test_each_element_written_from_itself_through_a_new_dim_passes():
    # (was: `h.unsqueeze(0)[...] = h` refused as a partial overlap; PyTorch writes it)
    for lib in (tg, torch):
        h = lib.arange(6, dtype=lib.float64).reshape(2, 3)
        h.unsqueeze(0)[...] = h
        h.t().unsqueeze(0)[...] = h.t()
        assert h.tolist() == [[0, 1, 2], [3, 4, 5]]
    x = tg.arange(6.0, requires_grad=True)
    t1 = (x * 1).reshape(2, 3)
    t1.unsqueeze(0)[...] = t1
    (t1 * t1).sum().backward()
    assert x.grad.tolist() == [0, 2, 4, 6, 8, 10]
    h = tg.arange(6, dtype=tg.float64).reshape(2, 3)
    with pytest.raises(RuntimeError, match="single memory location"):  # (a real partial overlap)
        h.reshape(6)[1:].unsqueeze(0)[...] = h.reshape(6)[:-1]


# ---------------------------------------------------------------- issue 16: what testers found


def _cube(k):
    class Cube(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * k * x * x

    return Cube.apply


@pytest.mark.parametrize("at", [1e-12, 1e-10, 1e-8, 1e-7, 1e-6])
def test_atol_alone_warns_for_a_doubled_vjp_not_for_a_right_one(at, recwarn):
    # (was: the other way round -- x^3 with a doubled VJP at 1e-8 passed silently, the right
    # VJP at 1e-6 warned: steps of 1e-6 are not small beside inputs under ~1e-5, and the
    # central difference there measured its own eps^2 term)
    assert tg.gradcheck(_cube(3), tg.tensor([at], dtype=tg.float64, requires_grad=True))
    assert not [w for w in recwarn if "atol alone" in str(w.message)]
    assert tg.gradcheck(_cube(6), tg.tensor([at], dtype=tg.float64, requires_grad=True))
    assert [w for w in recwarn if "passed by atol alone" in str(w.message)]
    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(_cube(6), tg.tensor([at], dtype=tg.float64, requires_grad=True), atol=0)


@pytest.mark.parametrize("point", [[1e-9], [1e-9, 1.0], [1e-9, 1.0, -1.0], [1e-6, 1.0, -1.0]])
def test_taylor_passes_relu_beside_a_kink_whatever_the_seed(point):
    # (was: "not differentiable" for 4 seeds of 6 -- steps on the left crossed the kink at 0,
    # 1e-9 away, and were not continued down past it)
    for seed in range(6):
        x = tg.tensor(point, dtype=tg.float64, requires_grad=True)
        assert tg.gradcheck(Relu.apply, x, method="taylor", seed=seed)


def test_taylor_still_finds_a_kink_at_the_point():
    for seed in range(4):
        with pytest.raises(tg.GradcheckError, match="not differentiable"):
            tg.gradcheck(Relu.apply, tg.tensor([0.0, 1.0, -1.0], dtype=tg.float64,
                                                requires_grad=True),
                         method="taylor", seed=seed, avoid_kinks=False)


@pytest.mark.parametrize("seed", [-1, 1.5, "a", True])
def test_a_bad_seed_is_named(seed):
    x = tg.tensor([0.5, 1.0], dtype=tg.float64, requires_grad=True)
    for check in (tg.gradcheck, tg.gradgradcheck):
        with pytest.raises(ValueError, match=r"seed must be an integer >= 0"):
            check(lambda t: t.sin(), x, seed=seed)


def test_render_into_a_folder_is_named(tmp_path):
    from tinygrad_cnn import viz

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(IsADirectoryError, match="is a folder; name a file in it"):
        viz.render(viz.draw((x * 2).sum()), tmp_path)


# ---------------------------------------------------------------- issue 14: integer dtype= of a reduction

_INTEGER_REDUCTIONS = {
    "sum": lambda x, lib: x.sum(dtype=lib.int64),
    "sum dim int32": lambda x, lib: lib.sum(x, 0, dtype=lib.int32),
    "nansum": lambda x, lib: x.nansum(dtype=lib.int64),
    "prod": lambda x, lib: x.prod(dtype=lib.int64),
    "cumsum": lambda x, lib: x.cumsum(0, dtype=lib.int64),
    "cumprod": lambda x, lib: x.cumprod(0, dtype=lib.int64),
}


@pytest.mark.parametrize("name", sorted(_INTEGER_REDUCTIONS))
def test_an_integer_dtype_reduction_of_a_tensor_that_requires_grad_is_refused(name):
    # (was: an int result with no history, and x.grad silently zeros)
    reduce = _INTEGER_REDUCTIONS[name]
    with pytest.raises(RuntimeError, match="Autograd not support dtype"):
        reduce(torch.tensor([1.5, 2.5], requires_grad=True), torch)
    with pytest.raises(RuntimeError, match=r"has no gradient, and the input .* requires grad"):
        reduce(tg.tensor([1.5, 2.5], requires_grad=True), tg)
    # without a gradient to lose it is PyTorch's value
    theirs = reduce(torch.tensor([1.5, 2.5]), torch)
    with tg.no_grad():
        assert reduce(tg.tensor([1.5, 2.5], requires_grad=True), tg).tolist() == theirs.tolist()
    assert reduce(tg.tensor([1.5, 2.5], requires_grad=True).detach(), tg).tolist() == \
        theirs.tolist()
    assert reduce(tg.tensor([1.5, 2.5]), tg).dtype == tg.int64 or "int32" in name


def test_a_mask_of_the_wrong_shape_names_the_indexing():
    # (was: "<function where at 0x7f...>: the shape of the mask ...")
    x = tg.arange(4.0)
    with pytest.raises(IndexError, match=r"^getitem: the shape of the mask \[2\]"):
        x[tg.tensor([True, False])]
    with pytest.raises(IndexError, match=r"^__setitem__: the shape of the mask \[2\]"):
        x[tg.tensor([True, False])] = 1.0
    with pytest.raises(IndexError, match="The shape of the mask"):
        torch.arange(4.0)[torch.tensor([True, False])]


# ---------------------------------------------------------------- issue 15: PyTorch's positional arguments


@pytest.mark.parametrize("name", ["RMSprop", "Adagrad", "Adamax"])
def test_optimizers_take_pytorchs_positional_arguments(name):
    # (was: a TypeError for RMSprop(params, lr, alpha, eps, wd, momentum, centered, capturable,
    # foreach, maximize), which PyTorch takes)
    import inspect

    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    ours = inspect.signature(getattr(tg.optim, name).__init__).parameters
    positional = [n for n, p in theirs.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [n for n, p in ours.items() if p.kind is p.POSITIONAL_OR_KEYWORD] == positional
    assert set(ours) == set(theirs)
    args = {"RMSprop": (0.01, 0.9, 1e-8, 0.1, 0.5, True, False, None, True),
            "Adagrad": (0.1, 0.01, 0.1, 0.2, 1e-10, None),
            "Adamax": (0.01, (0.8, 0.9), 1e-8, 0.1, None)}[name]
    w = np.array([1.0, -2.0, 3.0])
    params = [tg.tensor(w.copy(), requires_grad=True), torch.tensor(w.copy(), requires_grad=True)]
    opts = [getattr(tg.optim, name)([params[0]], *args),
            getattr(torch.optim, name)([params[1]], *args)]
    for _ in range(3):
        for p, opt, lib in zip(params, opts, (tg, torch)):
            opt.zero_grad()
            (p * p * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
            opt.step()
    np.testing.assert_allclose(params[0].detach().numpy(), params[1].detach().numpy(), rtol=1e-12)


_SCHEDULES = {
    "OneCycleLR": lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, 0.1, total_steps=10,
                                                               cycle_momentum=False),
    "StepLR": lambda L, o: L.optim.lr_scheduler.StepLR(o, 2, 0.5),
    "CosineAnnealingLR": lambda L, o: L.optim.lr_scheduler.CosineAnnealingLR(o, 5),
    "CyclicLR": lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.001, 0.1, 2,
                                                           cycle_momentum=False),
    "SequentialLR": lambda L, o: L.optim.lr_scheduler.SequentialLR(
        o, [L.optim.lr_scheduler.ConstantLR(o, 0.5, 2),
            L.optim.lr_scheduler.ExponentialLR(o, 0.9)], [2]),
    "ReduceLROnPlateau": lambda L, o: L.optim.lr_scheduler.ReduceLROnPlateau(o, patience=0),
}


@pytest.mark.parametrize("name", sorted(_SCHEDULES))
def test_a_tensor_learning_rate_is_written_in_place(name):
    # (was: a new tensor, or a float for OneCycleLR/CyclicLR/ReduceLROnPlateau: the lr tensor
    # the user holds went stale, and the rates were not rounded to its float32)
    seen = []
    for L in (tg, torch):
        p, lr = L.nn.Parameter(L.tensor([1.0])), L.tensor(0.01)
        opt = L.optim.Adam([p], lr=lr)
        schedule = _SCHEDULES[name](L, opt)
        for _ in range(5):
            p.grad = L.tensor([1.0])
            opt.step()
            schedule.step(1.0) if name == "ReduceLROnPlateau" else schedule.step()
        group = opt.param_groups[0]
        assert group["lr"] is lr
        seen.append((float(lr), float(group.get("initial_lr", 0.0)), float(p.detach()[0])))
    assert seen[0] == seen[1]


def test_an_option_switched_on_mid_run_is_named_as_a_cause():
    p = tg.nn.Parameter(tg.tensor(np.ones(3)))
    opt = tg.optim.Adam([p], lr=0.01)
    p.grad = tg.tensor(np.ones(3))
    opt.step()
    opt.param_groups[0]["amsgrad"] = True
    with pytest.raises(RuntimeError, match=r"no 'max_exp_avg_sq'.*amsgrad.*switched on"):
        opt.step()
    opt.state.clear()  # (the way out the message gives)
    opt.step()


# ---------------------------------------------------------------- issue 14: out= on the indexing functions

_INDEXING_OUT = {
    "gather": lambda L, x, o: L.gather(x, 1, L.tensor([[0, 0], [1, 0]]), out=o),
    "index_select": lambda L, x, o: L.index_select(x, 0, L.tensor([1, 0]), out=o),
    "take_along_dim": lambda L, x, o: L.take_along_dim(x, L.tensor([[0, 0], [1, 0]]), 1, out=o),
    "masked_select": lambda L, x, o: L.masked_select(x, x > 1, out=o),
    "tensordot": lambda L, x, o: L.tensordot(x, x, 1, out=o),
    "nonzero": lambda L, x, o: L.nonzero(x > 1, out=o),
}


@pytest.mark.parametrize("name", sorted(_INDEXING_OUT))
def test_indexing_functions_take_out(name):
    # (was: "unexpected keyword argument 'out'"; PyTorch takes it on all six)
    call = _INDEXING_OUT[name]
    for dtype in ("float32", "float64", "int64"):
        results = []
        for L in (tg, torch):
            x, out = L.tensor([[1.0, 2.0], [3.0, 4.0]]), L.empty(0, dtype=getattr(L, dtype))
            try:
                got = call(L, x, out)
                results.append((got is out, got.tolist(), str(got.dtype).split(".")[-1]))
            except RuntimeError:
                results.append("refused")
        assert results[0] == results[1], (dtype, results)


@pytest.mark.parametrize("weight", ["number", "0-d", "1-d"])
@pytest.mark.parametrize("out_dtype", ["float32", "float16", "int64"])
def test_lerp_into_an_out_of_another_dtype(weight, out_dtype):
    # (was: refused for every weight; PyTorch casts where the weight is a number or 0-d)
    results = []
    for L in (tg, torch):
        a = L.tensor([1.5, -2.0], dtype=L.float64)
        w = {"number": 0.5, "0-d": L.tensor(0.5, dtype=L.float64),
             "1-d": L.tensor([0.5, 0.5], dtype=L.float64)}[weight]
        try:
            results.append(L.lerp(a, a * 2, w, out=L.zeros(2, dtype=getattr(L, out_dtype)))
                           .tolist())
        except RuntimeError:
            results.append("refused")
    assert results[0] == results[1]


def test_an_alias_with_out_is_named_for_its_original():
    # (was: "fix(): Found dtype Long ..." for tg.trunc(x, out=...))
    with pytest.raises(RuntimeError, match=r"^trunc\(\): Found dtype"):
        tg.trunc(tg.tensor([1.5, -2.0]), out=tg.zeros(2, dtype=tg.int64))
    assert tg.fix is tg.trunc


def _one_minus_cos(factor=1.0, offset=0.0):
    class OneMinusCos(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 1 - np.cos(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x.sin() * factor + offset)

    return OneMinusCos.apply


@pytest.mark.parametrize("point", [[4e-7, 0.5], [2e-7, 0.5], [1e-6, -2e-6, 0.5]])
def test_an_element_small_by_cancellation_is_no_float32_inside(point):
    # (was: 1 - cos(x) at 4e-7 keeps few digits of its own in float64 too, read as "computes in
    # float32 inside": every tolerance widened to ~2%, and a VJP 5% off passed silently)
    x = tg.tensor(point, dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(_one_minus_cos(), x)
    for wrong in (_one_minus_cos(1.01), _one_minus_cos(1.05), _one_minus_cos(offset=1e-3)):
        with pytest.raises(tg.GradcheckError):
            tg.gradcheck(wrong, x)


def _recip(wrong_in_low: str | None):
    class Recip(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 1 / x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            r = -g / (x * x)
            if x.dtype != tg.float64 and wrong_in_low == "sign":
                r = -r
            if x.dtype != tg.float64 and wrong_in_low == "factor":
                r = r * 1.05
            return r

    return Recip.apply


@pytest.mark.parametrize("point,dtype", [([1e-20, 1.0, 2.0], np.float32),
                                         ([1e-3, 1.0, 2.0], np.float16)])
def test_one_entry_overflowing_the_dtype_leaves_the_others_checked(point, dtype, recwarn):
    # (was: the float64 VJP's change over one ulp of 1e-20 -- 1e33 -- allowed every entry
    # anything: a negated float32 VJP passed)
    x = tg.tensor(np.array(point, dtype), requires_grad=True)
    assert tg.gradcheck(_recip(None), x)
    for wrong in ("sign", "factor"):
        with pytest.raises(tg.GradcheckError, match="only"):
            tg.gradcheck(_recip(wrong), tg.tensor(np.array(point, dtype), requires_grad=True))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_every_missing_name_listed_is_pytorchs():
    # (the list gained linalg's solve/qr/..., as_strided, gcd, the 3-d pad layers,
    # fractional max pools, embedding_bag: each is a PyTorch name, and says what to do instead)
    import importlib
    import importlib.util

    from tinygrad_cnn._missing import MISSING

    for module, names in MISSING.items():
        theirs = importlib.import_module(module.replace("tinygrad_cnn", "torch", 1))
        for name in names:
            found = hasattr(theirs, name)
            if not found:  # (a subpackage: torch.utils.tensorboard, which needs its package)
                found = importlib.util.find_spec(f"{theirs.__name__}.{name}") is not None
            assert found, f"{theirs.__name__}.{name}"
    for name in ("solve", "qr", "cholesky"):
        with pytest.raises(AttributeError, match=rf"torch\.linalg\.{name}\): not implemented"):
            getattr(tg.linalg, name)


def test_pad_of_a_0d_tensor_by_nothing():
    # (was: numpy's "`pad_width` must be of integral type")
    x = tg.tensor(3.0, requires_grad=True)
    y = tg.nn.functional.pad(x, ())
    y.backward()
    assert y.item() == torch.nn.functional.pad(torch.tensor(3.0), ()).item() and y is not x
    assert x.grad.item() == 1.0


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "log_softmax",
                                  "dropout", "dropout2d", "dropout3d"])
def test_functional_ops_name_a_non_tensor_input(name):
    # (was: AttributeError "'numpy.ndarray' object has no attribute 'relu'"; a torch tensor
    # went through F.relu and came back a torch tensor)
    f = getattr(tg.nn.functional, name)
    for bad in (np.ones((2, 3, 4, 4), np.float32), torch.ones(2, 3, 4, 4)):
        with pytest.raises(TypeError, match=rf"^{name}: the input must be a Tensor, got "):
            f(bad, 0) if "softmax" in name else f(bad)
    with pytest.raises(TypeError, match="must be Tensor"):
        torch.nn.functional.relu(np.ones(3))


@pytest.mark.parametrize("write", [
    lambda L, t: t + [0, 0], lambda L, t: [0, 0] + t, lambda L, t: L.add(t, [1], alpha=2),
    lambda L, t: t.mul([2, 3]), lambda L, t: L.mul(t, [2, 3]), lambda L, t: t // [0, 1],
    lambda L, t: t % [0, 1], lambda L, t: L.fmod(t, [0, 1]), lambda L, t: t.add_([1]),
    lambda L, t: t.add_([0.5], alpha=2), lambda L, t: t.mul_([0.5]), lambda L, t: t ** [1, 2],
    lambda L, t: t + (1, 2), lambda L, t: L.maximum(t, [1, 2]),
])
def test_a_list_operand_is_refused_as_pytorch_refuses_it(write):
    # (was: a float32 tensor -- int64 + [0, 0] lost the last digits of 2**40 + 1, alpha was
    # ignored, int_t += [0.5] cast it to 0, t // [0, 1] skipped the division-by-zero check)
    with pytest.raises(TypeError):
        write(torch, torch.tensor([2**40 + 1, 7]))
    t = tg.tensor([2**40 + 1, 7])
    with pytest.raises(TypeError, match=r"(is not a tensor operand\); wrap it: tinygrad_cnn.tensor"
                                        r"|list repetition|can be used as an index)"):
        write(tg, t)
    assert t.tolist() == [2**40 + 1, 7]


def test_where_refuses_a_condition_that_is_not_bool():
    # (was: a float condition read as "nonzero": where(probs, a, b) ran for where(probs > 0.5, ...))
    for L in (tg, torch):
        with pytest.raises(RuntimeError, match="expected condition to be a boolean tensor"):
            L.where(L.tensor([0.7, 0.0]), L.ones(2), L.zeros(2))
        with pytest.raises(RuntimeError, match="expected condition to be a boolean tensor"):
            L.where(L.tensor([1, 0]), L.ones(2), L.zeros(2))
    with pytest.warns(UserWarning, match="uint8 condition"):
        got = tg.where(tg.tensor([1, 0], dtype=tg.uint8), tg.ones(2), tg.zeros(2))
    assert got.tolist() == [1.0, 0.0]
    assert tg.where(tg.tensor([True, False]), 1.0, 0.0).tolist() == [1.0, 0.0]


def test_repr_leaves_out_pytorchs_default_dtypes():
    # (was: "tensor([1, 2], dtype=int64)" where PyTorch prints "tensor([1, 2])": ported
    # doctests failed)
    for make in (lambda L: L.tensor([1, 2]), lambda L: L.tensor([True, False]),
                 lambda L: L.tensor(3), lambda L: L.tensor([1.0, 2.0]),
                 lambda L: L.tensor([1, 2], dtype=L.int32), lambda L: L.zeros(0, dtype=L.int64),
                 lambda L: L.tensor([1.0], dtype=L.float64)):
        assert repr(make(tg)) == repr(make(torch)).replace("torch.", "")


def _sin_cut_in_float32():
    class MySin(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            if x.dtype == tg.float32:  # float32 only: leaves the graph
                return g * tg.tensor(np.cos(x.numpy()))
            return g * x.cos()

    return MySin.apply


def test_gradgradcheck_runs_the_vjps_vjp_in_the_inputs_own_dtype():
    # (was: only in float64, so a backward that leaves the graph in float32 only passed)
    x32 = tg.tensor(np.array([0.3, -1.2, 2.0], np.float32), requires_grad=True)
    with pytest.raises(tg.GradcheckError, match=r"^second derivative: the VJP of the VJP is "
                                                 r"wrong in float32 only .* no gradient"):
        tg.gradgradcheck(_sin_cut_in_float32(), x32)
    assert tg.gradcheck(_sin_cut_in_float32(), x32)  # (its first derivative is right)
    assert tg.gradgradcheck(_sin_cut_in_float32(), x32.detach().double().requires_grad_())
    assert tg.gradgradcheck(lambda t: t.sin() * t, x32)


_EXPANDED_FILLS = {
    "masked_fill_": lambda L, e: e.masked_fill_(L.tensor([True, False, False]), 0.5),
    "masked_fill_ of some repeats": lambda L, e: e.masked_fill_(
        L.tensor([[True, False, False], [False, False, True]]), 0.5),
    "masked_fill_ of none": lambda L, e: e.masked_fill_(L.tensor([False, False, False]), 0.5),
    "fill_ of a slice": lambda L, e: e[:, 1:].fill_(1.0),
    "fill_ of all through a slice": lambda L, e: e[:, :].fill_(1.0),
    "zero_ of a slice": lambda L, e: e[:, 1:].zero_(),
    "a number at index arrays": lambda L, e: e.__setitem__((slice(None), L.tensor([0, 2])), 5.0),
    "a 0-d tensor at index arrays": lambda L, e: e.__setitem__(
        (slice(None), L.tensor([0, 2])), L.tensor(5.0)),
    "a number at a mask": lambda L, e: e.__setitem__(
        L.tensor([[True, False, False], [False, False, True]]), 0.5),
    "a one-element tensor at a mask": lambda L, e: e.__setitem__(
        L.tensor([[True, False, False], [False, False, True]]), L.tensor([2.0])),
}


@pytest.mark.parametrize("name", sorted(_EXPANDED_FILLS))
def test_one_value_written_into_an_expanded_tensor(name):
    # (was: "read-only" for these, where PyTorch writes them and fill_ of the whole view passed)
    import warnings

    fill = _EXPANDED_FILLS[name]
    seen = []
    for L in (tg, torch):
        base = L.zeros(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (PyTorch's deprecation warning for some)
            fill(L, base.expand(2, 3))
        seen.append(base.tolist())
    assert seen[0] == seen[1]


def test_writes_of_several_values_into_repeats_are_still_refused():
    for write in (lambda e: e[:, 1:].add_(1.0),
                  lambda e: e.__setitem__((slice(None), tg.tensor([0, 2])), tg.tensor([5.0, 6.0]))):
        with pytest.raises(RuntimeError, match="read-only|single memory location"):
            write(tg.zeros(3).expand(2, 3))


def _standardize(factor=1.0):
    class Standardize(tg.Function):
        @staticmethod
        def forward(ctx, x):
            d = x - x.mean()
            s = np.sqrt((d * d).mean())
            y = d / s
            ctx.save_for_backward(y, s)
            return y

        @staticmethod
        def backward(ctx, g):
            y, s = ctx.saved_tensors
            return (g - g.mean() - y * (g * y).mean()) / s * factor

    return Standardize.apply


@pytest.mark.parametrize("offset", [3e5, 3e6, 1e7])
@pytest.mark.parametrize("avoid_kinks", [False, True])
def test_rounding_of_large_inputs_is_no_kink_or_tie(offset, avoid_kinks):
    # (was: x - mean at 3e5 read as tied inputs -- "not a wrong VJP" for a doubled one -- and at
    # 3e6 as kinks; avoid_kinks then moved the point by thousands, and a VJP 5% off passed)
    point = np.array([0.0, 2, -3, -1, -2]) + offset
    for factor in (1.05, 2.0):
        with pytest.raises(tg.GradcheckError, match="the VJP of `standardize` is wrong"):
            tg.gradcheck(_standardize(factor), tg.tensor(point, requires_grad=True),
                         avoid_kinks=avoid_kinks)
    try:  # the right VJP passes, or can be judged only with a larger eps -- said so
        assert tg.gradcheck(_standardize(), tg.tensor(point, requires_grad=True),
                            avoid_kinks=avoid_kinks)
    except tg.GradcheckError as exc:
        assert offset >= 3e6 and exc.report.kind == "step_too_small"
        assert "its sum rounds to" in str(exc) and "subtract the large constant" in str(exc)


@pytest.mark.parametrize("bad", [None, "x", [1]])
def test_a_crafted_optimizer_state_is_named(bad):
    # (was: "'NoneType' object has no attribute 'items'" in train --resume's error line)
    model = tg.nn.Linear(2, 2)
    opt = tg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(tg.ones(1, 2)).sum().backward()
    opt.step()
    saved = opt.state_dict()
    crafted = {**saved, "state": {**saved["state"], 0: bad}}
    with pytest.raises(TypeError, match=r"the state of parameter 0 must be a dict of its buffers"):
        opt.load_state_dict(crafted)
    with pytest.raises(TypeError, match=r"'state' must be a dict"):
        opt.load_state_dict({**saved, "state": [1]})
    opt.load_state_dict(saved)  # (left as it was, and still loads)


def test_get_last_lr_and_a_loaded_state_hold_copies_of_a_tensor_lr():
    # (was: get_last_lr() gave the group's live tensor -- a log of it showed the latest rate
    # over and over -- and load_state_dict shared the saved tensor with the new optimizer)
    seen = []
    for L in (tg, torch):
        p = L.nn.Parameter(L.tensor([1.0]))
        opt = L.optim.SGD([p], lr=L.tensor(0.1))
        schedule = L.optim.lr_scheduler.StepLR(opt, 1, 0.5)
        log = []
        for _ in range(3):
            p.grad = L.tensor([1.0])
            opt.step()
            schedule.step()
            log.append(schedule.get_last_lr()[0])
        saved = opt.state_dict()
        other = L.optim.SGD([L.nn.Parameter(L.tensor([1.0]))], lr=L.tensor(0.1))
        other.load_state_dict(saved)
        L.optim.lr_scheduler.StepLR(other, 1, 0.5).step()
        seen.append(([float(v) for v in log], float(saved["param_groups"][0]["lr"])))
    assert seen[0] == seen[1]


def test_nansum_into_an_integer_dtype_drops_nan_first():
    # (was: cast first -- [nan, 1.5] into int64 summed to -2**63 + 1)
    for L in (tg, torch):
        assert L.tensor([float("nan"), 1.5]).nansum(dtype=L.int64).item() == 1
        assert L.tensor([float("nan"), 0.0]).nansum(dtype=L.bool).item() is False


@pytest.mark.parametrize("condition", [None, "a", 1.0, np.array([1.0, 0.0]), [1, 0]])
def test_where_refuses_a_condition_of_another_kind(condition):
    # (was: read by truthiness -- where(None, x, y) gave y, where('a', x, y) gave x)
    with pytest.raises((TypeError, RuntimeError), match="condition"):
        tg.where(condition, tg.ones(2), tg.zeros(2))
    assert tg.where([True, False], tg.ones(2), tg.zeros(2)).tolist() == [1.0, 0.0]
    assert tg.where(np.array([True, False]), tg.ones(2), tg.zeros(2)).tolist() == [1.0, 0.0]


@pytest.mark.parametrize("write", [
    lambda L, a: a.__setitem__((0, a[1]), 5),
    lambda L, a: a.__setitem__((slice(1, None), a[0]), 5),
    lambda L, a: a.__setitem__(a[1], 5),
    lambda L, a: a.__setitem__((0, a[0]), 5),
    lambda L, a: a.__setitem__((Ellipsis, a[0]), 5),
])
def test_an_index_is_checked_against_the_part_it_writes(write):
    # (was: against the whole tensor -- a[0, a[1]] = 5 writes row 0, its index is row 1)
    results = []
    for L in (tg, torch):
        a = L.tensor([[0, 1, 2], [1, 0, 2], [2, 2, 0]])
        try:
            write(L, a)
            results.append(a.tolist())
        except RuntimeError as exc:
            assert "single memory location" in str(exc)
            results.append("refused")
    assert results[0] == results[1]


@pytest.mark.parametrize("call", [
    lambda L, f: L.fmax(f, [1.0, 3.0]), lambda L, f: L.fmin(f, [1.0, 2.0]),
    lambda L, f: L.nextafter(f, [2.0, 1.0]), lambda L, f: L.where(f > 1, f, [5.0, 6.0]),
    lambda L, f: f.where(f > 1, [0.0, 1.0]), lambda L, f: L.lerp(f, [3.0, 4.0], 0.5),
    lambda L, f: L.logical_and(f, [1, 0]), lambda L, f: f @ [1.0, 2.0],
    lambda L, f: L.matmul(f, [1.0, 2.0]), lambda L, f: f.sub_((0.5, 0.5)),
    lambda L, f: f.mul_((1.0, 2.0)), lambda L, f: f.div_((1.0, 2.0)),
    lambda L, f: operator.iadd(f, (1.0, 2.0)),
])
def test_no_entry_point_takes_a_list_or_tuple_operand(call):
    # (was: accepted by fmax, where, lerp, logical_*, @ and -- a tuple -- by the in-place forms)
    with pytest.raises(TypeError):
        call(torch, torch.tensor([1.0, 2.0]))
    f = tg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="not a tensor operand"):
        call(tg, f)
    assert f.tolist() == [1.0, 2.0]


def test_an_index_inside_the_part_written_is_refused_even_when_strided():
    # (was: a[:, a[:, 0]] = 1 read its column first; PyTorch's result depends on its write order)
    for write in (lambda a: a.__setitem__((slice(None), a[:, 0]), 1),
                  lambda a: a.__setitem__((a[1], 0), 5),  # (PyTorch's check cannot see it)
                  lambda a: a.__setitem__((1, a.T[1]), 1),
                  lambda a: a.index_fill_(1, a[:, 0], 0)):
        a = tg.tensor([[0, 1, 2], [2, 0, 1], [1, 2, 0]])
        with pytest.raises(RuntimeError, match="single memory location"):
            write(a)
        assert a.tolist() == [[0, 1, 2], [2, 0, 1], [1, 2, 0]]


def _centre(factor):
    class Centre(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x - x.mean()

        @staticmethod
        def backward(ctx, g):
            return (g - g.mean()) * factor

    return Centre.apply


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("options", [{}, {"fast_mode": True}, {"method": "taylor"},
                                     {"avoid_kinks": True}])
def test_rounding_of_a_subtracted_mean_is_no_tie(dtype, options):
    # (was: "not differentiable ... tied inputs ... not a wrong VJP" for a doubled VJP of
    # x - x.mean() at [1e4, 1e4 + 1, 1e4 - 1]: its single slopes' rounding, 4e-5 each, read as a
    # tie; a real tie's gap stays at ten times the step, rounding's shrinks)
    point = np.array([1e4, 1e4 + 1, 1e4 - 1], dtype)
    assert tg.gradcheck(_centre(1.0), tg.tensor(point, requires_grad=True), **options)
    for factor in (1.05, 2.0):
        with pytest.raises(tg.GradcheckError, match="is wrong"):
            tg.gradcheck(_centre(factor), tg.tensor(point, requires_grad=True), **options)


def test_a_list_is_not_assigned_into_a_tensor():
    for L in (tg, torch):
        t = L.tensor([1.0, 2.0])
        with pytest.raises(TypeError, match="can't assign a list"):
            t[0] = [3.0]
        with pytest.raises(TypeError):
            t.copy_([1.0, 2.0])
        t[:] = L.tensor([5.0, 6.0])
        assert t.tolist() == [5.0, 6.0]


def test_a_0d_index_taken_from_the_tensor_itself_is_a_number():
    # (was: a[a[1]] = 9 refused as an overlap; PyTorch reads a 0-d index as a plain integer)
    for L in (tg, torch):
        a, b = L.tensor([0, 1, 2, 3]), L.tensor([0, 1, 2, 3])
        a[a[1]] = 9
        b[b[1]] += 1
        assert a.tolist() == [0, 9, 2, 3] and b.tolist() == [0, 2, 2, 3]
    with pytest.raises(TypeError, match="^where: unsupported operand"):
        tg.where(tg.tensor([True, False]), tg.ones(2), [0.0, 1.0])
