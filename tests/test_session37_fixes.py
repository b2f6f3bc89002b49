"""Session 37: fused vector products, small-array erf, einsum under keep_inputs (issue 18's
small-op overhead and what the outside testers found)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.autograd import keep_inputs
from tinygrad_cnn.ops import _special


def test_small_arrays_take_the_c_librarys_erf_and_erfc():
    special = [0.0, -0.0, 0.3, -0.46875, 0.46875, 1.0, -2.5, 4.0, 5.5, 26.0, 27.5, -30.0,
               np.inf, -np.inf, np.nan, 1e-300, -1e-310]
    x = np.array(special)
    assert x.size <= _special.SCALAR_MAX
    erf, erfc = _special.erf(x), _special.erfc(x)
    want_erf = [math.erf(v) for v in special]
    want_erfc = [math.erfc(v) for v in special]
    np.testing.assert_array_equal(erf, want_erf)
    np.testing.assert_array_equal(erfc, want_erfc)
    assert np.signbit(erf[1]) and not np.signbit(erf[0])
    # the big-array way (Cody's) agrees to a few ulps, so the two sizes are one function
    big = np.resize(x[np.isfinite(x)], _special.SCALAR_MAX + 100)
    np.testing.assert_allclose(_special.erf(big)[:12], want_erf[:12], rtol=5e-15, atol=0)
    # float32 and float16 round the float64 value once, whichever way it came
    for dtype in (np.float32, np.float16):
        small = tg.tensor(x.astype(dtype)).erf().numpy()
        large = tg.tensor(np.resize(x, 3000).astype(dtype)).erf().numpy()[:x.size]
        np.testing.assert_array_equal(small, large)


def test_einsum_backward_inside_keep_inputs():
    # (the op kept its labels on ctx.inputs, which keep_inputs() fills with the input tensors:
    # backward raised "cannot make a tensor from a string")
    a = tg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    b = tg.tensor(np.ones((4, 2)), requires_grad=True)
    with keep_inputs():
        out = tg.einsum("ij,jk->ik", a, b)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 4), 2.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.tile(a.numpy().sum(0)[:, None], (1, 2)))


@pytest.mark.parametrize("shapes", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 3)), ((0,), (0,)),
                                    ((2, 0), (0,)), ((0,), (0, 3))])
def test_vector_products_are_one_node_and_match_torch(shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    ours = [tg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = ours[0] @ ours[1], theirs[0] @ theirs[1]
    assert out.grad_fn.fn.name == "matvec"  # (one node, not four reshapes around a matmul)
    assert out.shape == tuple(ref.shape) and out.dtype == tg.float32
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(tg.tensor(g))
    ref.backward(torch.tensor(g))
    for t, r in zip(ours, theirs):
        np.testing.assert_allclose(t.grad.numpy(), r.grad.numpy(), rtol=1e-5, atol=1e-6)
    if len(shapes[0]) == 1 == len(shapes[1]) and shapes[0][0]:
        o, r = tg.outer(*ours), torch.outer(*theirs)
        np.testing.assert_array_equal(o.numpy(), r.detach().numpy())


def test_vector_products_keep_matmuls_errors_and_dtype_rules():
    with pytest.raises(RuntimeError, match="matmul"):
        tg.ones(3) @ tg.ones(4)
    with pytest.raises(RuntimeError, match="matmul"):
        tg.ones(2, 3) @ tg.ones(4)
    with pytest.raises(TypeError, match="dtype"):
        tg.ones(3) @ tg.ones(3, dtype=tg.float64)
    assert (tg.ones(3, dtype=tg.int64) @ tg.ones(3, dtype=tg.int64)).item() == 3
    assert tg.outer(tg.ones(2, dtype=tg.int64), tg.ones(3)).dtype == tg.float32  # (promotes)


# ---------------------------------------------------------------- t135 (error-handling sweep)
@pytest.mark.parametrize("name", ["cat", "stack", "hstack", "vstack", "dstack", "column_stack"])
def test_joining_one_tensor_is_a_type_error(name):
    # (iterating the tensor joined its rows: cat(x) of a (2, 3) tensor was a (6,) one)
    fn = getattr(tg, name)
    with pytest.raises(TypeError, match=f"{name}: tensors must be a sequence"):
        fn(tg.randn(2, 3))
    with pytest.raises(TypeError, match=f"{name}: tensors must be a sequence"):
        fn(np.ones((2, 3)))
    assert fn([tg.ones(2, 3), tg.ones(2, 3)]).numel() == 12
    assert fn(t for t in (tg.ones(2, 3), tg.ones(2, 3))).numel() == 12  # (any iterable)


@pytest.mark.parametrize("value", ["a", 0.5, None, 1])
def test_requires_grad_takes_a_bool_only(value):
    x = tg.randn(2)
    with pytest.raises(TypeError, match="requires_grad_: requires_grad must be a bool"):
        x.requires_grad_(value)
    assert not x.requires_grad
    m = tg.nn.Linear(2, 2)
    with pytest.raises(TypeError, match="requires_grad_"):
        m.requires_grad_(value)
    assert all(p.requires_grad for p in m.parameters())
    assert x.requires_grad_(np.True_).requires_grad and not m.requires_grad_(False).weight.requires_grad


@pytest.mark.parametrize("call", [lambda d: tg.randn(2).sum(dtype=d), lambda d: tg.randn(2).to(d),
                                  lambda d: tg.zeros(2, dtype=d), lambda d: tg.tensor([1.0], dtype=d)])
def test_the_ambiguous_dtype_names_are_refused(call):
    # (numpy reads 'float' as float64 and 'int' as int64; PyTorch's torch.float is float32 and
    # torch.int int32: a PyTorch user's x.to('float') silently became float64)
    for name in ("float", "int"):
        with pytest.raises(TypeError, match=f"the dtype name '{name}' is ambiguous"):
            call(name)
    assert call("float32").dtype == tg.float32 and call(float).dtype == tg.float64


@pytest.mark.parametrize("call", [
    lambda: tg.tensor([[1, 2]]) @ tg.randn(2, 1), lambda: tg.mm(tg.tensor([[1, 2]]), tg.randn(2, 1)),
    lambda: tg.mm(tg.randn(2, 3, 4), tg.randn(4, 5)),
    lambda: tg.nn.functional.linear(tg.randn(2, 3), tg.randn(4, 5)),
    lambda: tg.nn.Linear(3, 4)(tg.randn(2, 3, dtype=tg.float64)),
    lambda: tg.nn.functional.conv2d(tg.randn(1, 3, 5, 5, dtype=tg.float64), tg.randn(4, 3, 3, 3)),
    lambda: tg.randn(2, 3).add_(tg.randn(4, 3)), lambda: tg.randn(2, 3).mul_(tg.randn(3, 3)),
    lambda: tg.where(tg.tensor([True, False]), tg.randn(3), tg.randn(3)),
    lambda: tg.randn(3).masked_fill(tg.tensor([True, False]), 0.0),
    lambda: tg.broadcast_tensors(tg.randn(3), tg.randn(4)),
    lambda: tg.addcmul(tg.randn(3), tg.randn(2), tg.randn(3)),
    lambda: tg.randn(3).clamp(tg.randn(2)), lambda: tg.lerp(tg.randn(3), tg.randn(3), tg.randn(2)),
    lambda: tg.randn(3).expand(4)])
def test_shape_and_dtype_mismatches_are_runtime_errors_too(call):
    # (the README's promise: except RuntimeError catches them, as in PyTorch; these were plain
    # ValueError or TypeError while x + y and tg.dot were caught)
    with pytest.raises(RuntimeError) as info:
        call()
    assert isinstance(info.value, (ValueError, TypeError))


# ---------------------------------------------------------------- issue 18: fused small ops
@pytest.mark.parametrize("shape,kw", [
    ((2, 3, 4, 5), {"scale_factor": 2}), ((2, 3, 4, 5), {"size": (8, 15)}), ((1, 2, 5), {"scale_factor": 3}),
    ((1, 2, 3, 2, 2), {"scale_factor": 2}), ((2, 3, 4, 5), {"scale_factor": 2, "mode": "nearest-exact"}),
    ((2, 3, 4, 5), {"scale_factor": 2.5}), ((2, 3, 6, 5), {"size": (9, 10)})])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_nearest_block_resize_is_the_taps_resize(shape, kw, dtype):
    """A nearest resize by whole factors takes a block copy and a block sum: the values of the
    taps' way, which the other resizes take, and PyTorch's."""
    from tinygrad_cnn.ops import resample

    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dtype)
    ours = tg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = tg.nn.functional.interpolate(ours, **kw)
    ref = torch.nn.functional.interpolate(theirs, **kw)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    g = rng.standard_normal(out.shape).astype(dtype)
    out.backward(tg.tensor(g))
    ref.backward(torch.tensor(g))
    tol = 2e-3 if dtype == "float16" else 1e-5
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=tol, atol=1e-6)
    attrs = out.grad_fn.attrs
    taps = resample._axis_taps(shape, resample._attrs(attrs["size"], attrs["mode"], False, attrs["scales"]),
                               np.float64)
    first = len(shape) - len(attrs["size"])
    blocks = resample._nearest_blocks(tuple(shape[first:]), tuple(attrs["size"]), attrs["mode"],
                                      attrs["scales"])
    assert (blocks is None) == ("2.5" in str(kw) or "(9, 10)" in str(kw))
    g64 = g.astype(np.float64)
    via_taps = resample._interpolate_adjoint(g64, taps, first, tuple(shape[first:]))
    # (the same sums; numpy's reduceat may add a run of three as a + (b + c): the last bit)
    np.testing.assert_allclose(
        resample.InterpolateBackward.forward(None, g64, in_size=tuple(shape[first:]), **attrs), via_taps,
        rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------- t137 (break-attempt of the above)
@pytest.mark.parametrize("dims", [[], ()])
@pytest.mark.parametrize("shape", [(2, 2), (3,), (2, 3, 4), ()])
def test_flip_of_no_dims_is_a_copy(shape, dims):
    # (the C-order copy of a flip's view handed back an already contiguous input itself: an
    # in-place change of either tensor changed the other, and the gradients were wrong)
    w = tg.tensor(np.arange(1.0, 1.0 + math.prod(shape)).reshape(shape), requires_grad=True)
    a = w * 1
    b = tg.flip(a, dims)
    b.mul_(2)
    np.testing.assert_array_equal(a.numpy(), w.detach().numpy())
    (a * a).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * w.detach().numpy())


def test_nearest_resize_of_a_channels_last_volume_keeps_its_layout():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5, 6)).astype(np.float32)
    for kw in ({"scale_factor": 2}, {"scale_factor": 2.5}, {"size": (5, 7, 9), "mode": "trilinear"}):
        ours = tg.tensor(x).to(memory_format=tg.channels_last_3d).requires_grad_()
        theirs = torch.tensor(x).to(memory_format=torch.channels_last_3d).requires_grad_()
        out = tg.nn.functional.interpolate(ours, **kw)
        ref = torch.nn.functional.interpolate(theirs, **kw)
        assert out.stride() == ref.stride(), kw
        g = np.ones(out.shape, np.float32)
        out.backward(tg.tensor(g))
        ref.backward(torch.tensor(g))
        assert ours.grad.stride() == theirs.grad.stride(), kw
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("make", [lambda v: tg.zeros(2, requires_grad=v),
                                  lambda v: tg.randn(2, requires_grad=v),
                                  lambda v: tg.tensor([1.0], requires_grad=v)])
def test_factories_take_a_bool_requires_grad(make):
    for value in ("a", 1, 0.5):
        with pytest.raises(TypeError, match="requires_grad must be a bool"):
            make(value)
    assert make(True).requires_grad and not make(False).requires_grad
    assert not make(None).requires_grad  # (PyTorch's factories read None as False; t139)


def test_bias_and_setitem_shape_mismatches_are_runtime_errors_too():
    with pytest.raises(RuntimeError, match="bias"):
        tg.nn.functional.linear(tg.randn(2, 3), tg.randn(4, 3), tg.randn(5))
    t = tg.randn(3, 4)
    with pytest.raises(RuntimeError, match="__setitem__"):
        t[:] = tg.randn(2, 4)


def test_moving_the_dims_of_a_0d_tensor_is_a_new_view():
    x = tg.tensor(2.0, requires_grad=True)
    for y in (tg.movedim(x, 0, 0), tg.swapaxes(x, 0, -1), x.transpose(0, 0)):
        assert y is not x and y.grad_fn is not None  # (movedim and swapaxes gave x itself)
        (y * 3).backward()
    assert x.grad.item() == 9.0


def test_constant_init_refuses_what_an_integer_tensor_cannot_hold():
    # (t139: nan, inf and 1e30 were written as INT64_MIN, silently)
    for value in (float("nan"), float("inf"), 1e30):
        with pytest.raises(RuntimeError, match="constant_"):
            tg.nn.init.constant_(tg.zeros(2, dtype=tg.int64), value)
    assert tg.nn.init.constant_(tg.zeros(2, dtype=tg.int64), 2.5).tolist() == [2, 2]


def test_asgd_takes_a_one_element_tensor_lr():
    # (t139: its second step failed on a state it made itself from the tensor lr)
    p, q = tg.nn.Parameter(tg.ones(2)), tg.nn.Parameter(tg.ones(2))
    opts = tg.optim.ASGD([p], lr=tg.tensor([0.1])), tg.optim.ASGD([q], lr=0.1)
    for _ in range(3):
        for t, o in zip((p, q), opts):
            t.grad = tg.ones(2)
            o.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_dropout_takes_a_bool_training_and_a_probability_in_range():
    F = tg.nn.functional
    for call in (lambda: F.dropout(tg.ones(4), 0.5, training="no"),
                 lambda: F.dropout2d(tg.ones(2, 3, 4), 0.5, training=None),
                 lambda: F.alpha_dropout(tg.ones(4), 0.5, training="yes")):
        with pytest.raises(TypeError, match="training must be a bool"):
            call()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.alpha_dropout(tg.ones(4), float("nan"), True)  # (was an all-NaN result; t139)
    assert F.dropout(tg.ones(4), 0.5, training=False).tolist() == [1.0] * 4


def test_a_number_to_the_power_of_a_strided_tensor_is_in_c_order():
    # (the long fuzz: 0.1 ** x.t() had x.t()'s strides; PyTorch's number ** tensor is C order)
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal((3, 4))
    for view in (lambda t: t.t(), lambda t: t[:, ::2], lambda t: t.unsqueeze(0).expand(2, 3, 4)):
        ours, theirs = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = 0.1 ** view(ours), 0.1 ** view(theirs)
        assert out.stride() == ref.stride()
        out.sum().backward()
        ref.sum().backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_rot90_by_nothing_is_a_c_order_copy():
    # (t140: rot90(x.t(), 0) kept x.t()'s strides; PyTorch's is a contiguous clone)
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(3, 4)
    for k in (0, 4, -4):
        ours, theirs = tg.tensor(x).t().rot90(k), torch.tensor(x).t().rot90(k)
        assert ours.stride() == theirs.stride() and ours.is_contiguous()
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    a = tg.tensor(x, requires_grad=True)
    b = a.t().rot90(0)
    b.mul_(2)  # (a copy: the input is left as it was)
    np.testing.assert_array_equal(a.detach().numpy(), x)
    b.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 4), 2.0))
