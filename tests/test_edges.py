"""Regression tests for the silent wrong gradients found at the engine's edges (views and in-place
ops, numpy interop, 0-d parameters, .grad accumulation, repeated inputs, VJPs at special points,
max pooling over -inf and NaN, empty tensors, dtype promotion, and smaller ones). Each is the
smallest reproduction, with PyTorch 2.13's numbers as the expected values (written out, so these
run without PyTorch too; test_fuzz.py compares against PyTorch itself)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Function, Tensor, grad, nn, no_grad


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# ----------------------------------------------------------------------------- 1. views, in place
def test_inplace_on_a_slice_reaches_the_base():
    x = leaf([1.0, 2, 3])
    h = x * 1
    h[0:2].mul_(2)
    (h * h).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8, 16, 6])


def test_inplace_on_a_reshape_view_reaches_the_base():
    x = leaf([1.0, 2, 3, 4])
    h = x * 1
    h.reshape(2, 2).mul_(3)
    (h * h).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [18, 36, 54, 72])


def test_a_view_taken_before_an_inplace_op_on_its_base_sees_it():
    x = leaf([1.0, 2, 3])
    h = x * 1
    v = h[0:2]
    h.mul_(2)
    np.testing.assert_array_equal(v.numpy(), [2, 4])
    (v * v).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [8, 16, 0])


def test_copy_into_a_slice_routes_the_gradient_to_the_source():
    x, y = leaf([1.0, 2, 3]), leaf([5.0, 6])
    h = x * 1
    h[0:2].copy_(y)
    (h * h).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 6])  # overwritten: no gradient
    np.testing.assert_array_equal(y.grad.numpy(), [10, 12])


def test_inplace_on_a_view_of_a_leaf_that_requires_grad_is_refused():
    a = tg.randn(2, 3)
    b = a[:]
    a.requires_grad = True
    with pytest.raises(RuntimeError, match=r"add_: a view of a leaf tensor that requires grad"):
        b.add_(5)
    with no_grad():  # allowed outside recording (initialisation code does this)
        b.add_(5)


def test_item_assignment_while_recording():
    x, y = leaf([1.0, 2, 3]), leaf([7.0])
    h = x * 2
    h[1] = y * 10
    h[np.array([0, 0])] = 4.0  # integer-array indices
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.numpy(), [4, 70, 6])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 24])
    np.testing.assert_array_equal(y.grad.numpy(), [1400])


def test_views_share_the_version_counter_of_their_base():
    x = leaf([1.0, 2, 3])
    h = x.exp()  # saves its output
    v = h[1:]
    v.add_(1)  # changes h's memory
    assert h._version == v._version == 1
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        h.sum().backward()


def test_inplace_unary_forms():
    x = leaf([0.5, -1.0])
    h = x * 1
    h.clamp_(-0.5, 1.5).exp_()
    h.sum().backward()
    np.testing.assert_allclose(h.numpy(), np.exp([0.5, -0.5]))
    np.testing.assert_allclose(x.grad.numpy(), [np.exp(0.5), 0])
    # exp_ saves the tensor itself (PyTorch's rule): changing it again in place is caught
    h = x * 1
    h.exp_().relu_().clamp_(0, 1.5)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        h.sum().backward()


def test_the_result_of_an_inplace_op_is_what_its_vjp_reads():
    """``h.exp_()`` saved a private copy of its result: a later ``h.data`` write was not seen by
    the VJP (PyTorch's is), and a later in-place write raised no version error (PyTorch's does)."""
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        row = []
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = x * 1
        h.exp_()
        h.data.mul_(2)
        h.sum().backward()
        row.append(np.round(x.grad.tolist(), 5).tolist())
        for change in (lambda h: h.__setitem__(0, 0.0), lambda h: h.mul_(2),
                       lambda h: h.detach().add_(1), lambda h: h[1:].zero_(), lambda h: None):
            for op in ("sigmoid_", "tanh_", "exp_", "relu_", "sqrt_", "abs_"):
                x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
                h = x * 1
                getattr(h, op)()
                change(h)
                try:
                    h.sum().backward()
                    row.append(np.round(x.grad.tolist(), 6).tolist())
                except RuntimeError:
                    row.append("error")
        out.append(row)
    assert out[0] == out[1]


# ----------------------------------------------------------------------------- 2. numpy interop
def test_np_array_copies_np_asarray_shares():
    t = Tensor(np.array([1.0, 2.0]))
    a = np.array(t)
    a[0] = 9
    assert t.numpy()[0] == 1
    b = np.asarray(t)
    b[0] = 9
    assert t.numpy()[0] == 9


def test_a_snapshot_of_a_parameter_does_not_follow_training():
    p = leaf([1.0, 2.0])
    snap = np.array(p)
    with no_grad():
        p.sub_(1)
    np.testing.assert_array_equal(snap, [1, 2])


def test_numpy_views_of_tensors_that_require_grad_are_read_only():
    x = leaf([1.0, 2.0])
    h = x.exp()
    with pytest.raises(ValueError, match="read-only"):
        np.asarray(h)[0] = 5


def test_numpy_scalars_and_arrays_on_the_left_keep_the_graph():
    x = leaf([1.0, 2.0], np.float32)
    for y in (np.float64(2.0) * x, np.array([2.0, 2.0]) * x, np.float32(1) + x, np.exp(x)):
        assert isinstance(y, Tensor) and y.grad_fn is not None
    y = np.float64(3.0) * x
    assert y.dtype == np.float32  # a numpy scalar does not widen
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])
    with pytest.raises(TypeError, match="requires grad would drop its history"):
        np.add.reduce(x)


# ----------------------------------------------------------------------------- 3, 4. .grad
def test_zero_d_parameter_gradients_stay_arrays():
    p = leaf(2.0)
    for _ in range(2):
        (p * p).backward()
    assert isinstance(p.grad._data, np.ndarray) and p.grad._data.shape == ()
    assert float(np.asarray(p.grad)) == 8.0
    p.grad.zero_()
    assert p.grad.item() == 0.0


def test_zero_grad_set_to_none_false_on_0d():
    p = tg.nn.Parameter(Tensor(np.array(2.0)))
    seen = []
    for _ in range(3):
        (p * p).backward()
        seen.append(p.grad.item())
        tg.nn.module.zero_grads([p], set_to_none=False)
    assert seen == [4.0, 4.0, 4.0]


def test_grad_accumulates_in_place():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    kept = x.grad
    (x * 2).sum().backward()
    assert x.grad is kept
    np.testing.assert_array_equal(kept.numpy(), [5, 5])


# ----------------------------------------------------------------------------- 5. repeated tensors
def test_grad_with_a_repeated_input_answers_both():
    x = leaf([1.0, 2.0])
    gx1, gx2 = grad((x * x).sum(), [x, x])
    np.testing.assert_array_equal(gx1.numpy(), [2, 4])
    np.testing.assert_array_equal(gx2.numpy(), [2, 4])


# ----------------------------------------------------------------------------- 6. special points
def test_pow_gradients_at_zero():
    x = leaf([0.0, 2.0])
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0])
    y = leaf([1.0, 2.0])
    (Tensor(np.array([0.0, 0.0])) ** y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 0])


def test_masked_vjps_pass_an_exact_zero_not_nan():
    x = leaf([-1.0, 2.0])
    y = leaf([0.0, 0.0])
    out = x.maximum(y) * Tensor(np.array([np.inf, 1.0]))  # an infinite gradient on the loser
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1])
    np.testing.assert_array_equal(y.grad.numpy(), [np.inf, 0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("e", [0.5, -0.5, 1.5, -1.5, 2.0, 3, -1.0])
def test_pow_of_a_number_at_special_values_to_second_order_matches_pytorch(dtype, e):
    """PyTorch computes x ** 0.5 and x ** -0.5 (a number) as sqrt and rsqrt -- forward and in
    the backward's x ** (e - 1) -- so -0 and -inf give other values than pow's."""
    torch = pytest.importorskip("torch")
    values = [-0.0, 0.0, -np.inf, np.inf, -1.0, 4.0, 1e-30, np.nan]
    x = Tensor(np.array(values, dtype=dtype), requires_grad=True)
    y = x**e
    (gx,) = grad(y.sum(), [x], create_graph=True)
    (ggx,) = grad(gx.sum(), [x])
    tx = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=True)
    ty = tx**e
    (tgx,) = torch.autograd.grad(ty.sum(), [tx], create_graph=True)
    (tggx,) = torch.autograd.grad(tgx.sum(), [tx])
    for ours, theirs in ((y, ty), (gx, tgx), (ggx, tggx)):
        a, b = ours.detach().numpy(), theirs.detach().numpy()
        np.testing.assert_allclose(a, b, rtol=1e-6)  # NaN where NaN, inf of the same sign
        np.testing.assert_array_equal(np.signbit(a[~np.isnan(a)]), np.signbit(b[~np.isnan(b)]))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape", [(), (1,), (7,), (7, 1)])
@pytest.mark.parametrize("e", [0.5, -0.5, 1e-8, 0.0, 3.0])
def test_pow_of_a_tensor_exponent_at_special_values_matches_pytorch(dtype, shape, e):
    """A tensor exponent is pow's, even a constant 0.5 (numpy's sqrt gave -0 at -0 and NaN at
    -inf); no NaN gradient is made up where the rounded x ** (y - 1) is a number (PyTorch's)."""
    torch = pytest.importorskip("torch")
    xs = np.array([-0.0, 0.0, -np.inf, np.inf, 3.0, -2.0, np.nan], dtype=dtype)
    ys = np.full(shape, e, dtype=dtype)
    x, y = Tensor(xs, requires_grad=True), Tensor(ys, requires_grad=True)
    out = x**y
    out.sum().backward()
    tx = torch.tensor(xs, requires_grad=True)
    ty = torch.tensor(ys, requires_grad=True)
    tout = tx**ty
    tout.sum().backward()
    for ours, theirs in ((out, tout), (x.grad, tx.grad), (y.grad, ty.grad)):
        a, b = ours.detach().numpy(), theirs.detach().numpy()
        np.testing.assert_allclose(a, b, rtol=2e-3 if dtype == "float16" else 1e-6)
        np.testing.assert_array_equal(np.signbit(a[~np.isnan(a)]), np.signbit(b[~np.isnan(b)]))


@pytest.mark.parametrize("name", ["elu", "selu", "celu"])
def test_elu_family_keeps_the_sign_of_zero_as_pytorch(name):
    torch = pytest.importorskip("torch")
    x = np.resize(np.array([-0.0, 0.0, -1.0, 2.0], dtype=np.float32), 64)  # (PyTorch's vector loop)
    ours = getattr(F, name)(Tensor(x)).numpy()
    theirs = getattr(torch.nn.functional, name)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))  # elu(-0.) is -0.


def test_relu_and_abs_at_nan():
    x = leaf([np.nan, 1.0])
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1, 1])  # PyTorch: NaN passes relu's gradient
    z = leaf([np.nan, -2.0])
    z.abs().sum().backward()
    np.testing.assert_array_equal(z.grad.numpy(), [0, -1])  # sgn(NaN) = 0


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("size", [5, 1024, 1025, 70_000, 300_000])  # both ways (ReLU.forward), and
# under and past the zero buffer's first size
def test_relu_matches_pytorch_bit_for_bit(dtype, size):
    torch = pytest.importorskip("torch")
    special = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, -1.5, 2.5], dtype=dtype)
    x = np.resize(special, size).reshape(-1, 1)
    y = Tensor(x).relu()
    expected = torch.relu(torch.from_numpy(x)).numpy()
    np.testing.assert_array_equal(y.numpy(), expected)
    # signed zeros and NaN's sign as PyTorch's (relu(-0.) is -0.: found by the long fuzz through
    # atan2(relu_(fmod(x, x)), ...), where the sign of a zero is -pi against 0)
    np.testing.assert_array_equal(np.signbit(y.numpy()), np.signbit(expected))
    y.add_(1)  # the result is its own, writable memory
    assert not Tensor(-np.ones_like(x)).relu().numpy().any()
    # the first-order VJP too, bit for bit: a gradient holding -0. and NaN, through every kind of
    # input element (small arrays take numpy's where, big ones a bit mask: both ways here)
    xt = Tensor(x, requires_grad=True)
    g = np.resize(np.array([-0.0, 1.0, np.nan, -3.0, 0.0], dtype=dtype), size).reshape(-1, 1)
    xt.relu().backward(Tensor(g))
    xr = torch.from_numpy(x.copy()).requires_grad_()
    torch.relu(xr).backward(torch.from_numpy(g))
    np.testing.assert_array_equal(xt.grad.numpy(), xr.grad.numpy())
    np.testing.assert_array_equal(np.signbit(xt.grad.numpy()), np.signbit(xr.grad.numpy()))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("size", [5, 1024, 1025, 5000])  # both ways of "x or +0" (_where_array)
def test_where_and_its_vjp_match_pytorch_bit_for_bit(dtype, size):
    torch = pytest.importorskip("torch")
    special = np.array([0.0, -0.0, np.nan, -np.inf, 1.5, -2.5, np.inf], dtype=dtype)
    x = np.resize(special, size)
    cond = np.resize(np.array([True, False, False, True, True]), size)
    g = np.resize(np.array([-0.0, np.nan, 2.0, -1.0], dtype=dtype), size)
    xt, yt = Tensor(x, requires_grad=True), Tensor(x[::-1].copy(), requires_grad=True)
    out = tg.where(Tensor(cond), xt, yt)
    out.backward(Tensor(g))
    xr = torch.from_numpy(x.copy()).requires_grad_()
    yr = torch.from_numpy(x[::-1].copy()).requires_grad_()
    ref = torch.where(torch.from_numpy(cond), xr, yr)
    ref.backward(torch.from_numpy(g))
    for ours, theirs in ((out, ref), (xt.grad, xr.grad), (yt.grad, yr.grad),
                         (tg.where(Tensor(cond), Tensor(x), 0.0),
                          torch.where(torch.from_numpy(cond), torch.from_numpy(x), 0.0))):
        np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
        np.testing.assert_array_equal(np.signbit(ours.numpy()), np.signbit(theirs.detach().numpy()))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("size", [3, 70])
def test_clamp_keeps_signed_zeros_as_pytorch(dtype, size):
    """An outside tester: clamp with one bound of 0 returned the bound's zero where the input
    equals it (clamp(min=0.) of -0. gave 0., PyTorch -0.)."""
    torch = pytest.importorskip("torch")
    x = np.resize(np.array([-0.0, 0.0, -1.0, 1.0, np.nan], dtype=dtype), size)
    for kw in ({"min": 0.0}, {"min": -0.0}, {"max": 0.0}, {"max": -0.0}, {"min": 0.0, "max": 1.0},
               {"min": -0.0, "max": 0.0}, {"min": -1.0, "max": -0.0}):
        ours, theirs = tg.tensor(x).clamp(**kw).numpy(), torch.tensor(x).clamp(**kw).numpy()
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    np.testing.assert_array_equal(np.signbit(tg.clamp_min(tg.tensor(x), 0.0).numpy()),
                                  np.signbit(torch.clamp_min(torch.tensor(x), 0.0).numpy()))


def test_relu_of_bool_is_refused_as_in_pytorch():
    with pytest.raises(RuntimeError, match="relu: Boolean inputs not supported"):
        tg.tensor([True, False]).relu()
    assert tg.tensor([-2, 3], dtype=tg.int8).relu().tolist() == [0, 3]


# ----------------------------------------------------------------------------- 7. max_pool2d
def test_max_pool_over_a_masked_padded_window_stays_in_its_sample():
    x = np.arange(32, dtype=np.float64).reshape(2, 1, 4, 4)
    x[1, 0, :2, :2] = -np.inf
    xt = Tensor(x, requires_grad=True)
    out = F.max_pool2d(xt, 2, 2, padding=1)
    g = np.zeros(out.shape)
    g[1, 0, 0, 0] = 1.0  # only sample 1's corner window, which holds only -inf and padding
    out.backward(Tensor(g))
    expected = np.zeros_like(x)
    expected[1, 0, 0, 0] = 1.0  # its first element inside the input (PyTorch's choice)
    np.testing.assert_array_equal(xt.grad.numpy(), expected)


def test_max_pool_routes_the_gradient_to_nan():
    x = np.array([[[[1.0, np.nan], [np.nan, 0.0]]]])
    xt = Tensor(x, requires_grad=True)
    out = F.max_pool2d(xt, 2)
    assert np.isnan(out.item())
    out.sum().backward()
    np.testing.assert_array_equal(xt.grad.numpy(), [[[[0, 0], [1, 0]]]])  # the last NaN


# ----------------------------------------------------------------------------- 8. empty tensors
def test_empty_reductions_and_softmax():
    e = leaf(np.zeros((2, 0)))
    assert e.softmax(1).shape == (2, 0) and e.log_softmax(1).shape == (2, 0)
    np.testing.assert_array_equal(e.logsumexp(1).numpy(), [-np.inf, -np.inf])
    values, indices = tg.zeros(0, 3).max(1)
    assert values.shape == indices.shape == (0,)


def test_max_pool_backward_with_an_empty_batch():
    x = Tensor(np.zeros((0, 2, 4, 4)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.shape == (0, 2, 4, 4)


# ----------------------------------------------------------------------------- 9. dtypes
@pytest.mark.parametrize("zero_d", [Tensor(np.array(2.0)), np.float64(2.0), np.array(2.0)])
def test_zero_d_operands_do_not_widen(zero_d):
    x = Tensor(np.ones(3, dtype=np.float32))
    for y in (x + zero_d, x * zero_d, x - zero_d, x / zero_d, x.maximum(Tensor(np.asarray(zero_d)))):
        assert y.dtype == np.float32


def test_integer_rules():
    i = Tensor(np.array([1, 2]))
    assert (i / i).dtype == np.float32  # true division of ints: the default float
    assert (Tensor(np.array([250], dtype=np.uint8)) + 300).tolist() == [38]  # wraps
    c = i.clamp(min=0.5)
    assert c.dtype == np.float32 and c.tolist() == [1.0, 2.0]
    assert (Tensor(np.array([1], np.int32)) + Tensor(np.array(1.5))).dtype == np.float64


def test_construction_dtypes():
    assert tg.tensor([1, 2, 3]).dtype == np.int64
    assert tg.tensor([1, 2.5]).dtype == np.float32 and tg.tensor(True).dtype == np.bool_
    assert tg.tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32
    assert F.cross_entropy(tg.randn(3, 4), tg.tensor([0, 1, 3])).dtype == np.float32


# ----------------------------------------------------------------------------- 10. smaller ones
def test_grad_mode_decorators_apply_inside_generators():
    x = leaf([1.0])

    @no_grad()
    def gen():
        for _ in range(2):
            yield (x * 2).requires_grad

    assert list(gen()) == [False, False]
    assert (x * 2).requires_grad  # and not outside it


def test_a_hook_returning_a_wrong_shape_is_named():
    x = leaf([1.0, 2.0])
    y = x * 2

    def bad_hook(g):
        return g.sum()

    y.register_hook(bad_hook)
    with pytest.raises(RuntimeError, match=r"hook .*bad_hook.* returned a gradient of shape \(\)"):
        y.sum().backward()


def test_backward_takes_a_numpy_gradient():
    x = leaf([1.0, 2.0])
    (x * 3).backward(np.array([1.0, 1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


def test_reading_grad_of_a_non_leaf_warns():
    x = leaf([1.0])
    y = x * 2
    y.sum().backward()
    with pytest.warns(UserWarning, match="retain_grad"):
        assert y.grad is None


def test_an_element_taken_by_integer_index_is_a_view():  # found by the program fuzzer
    x = leaf([1.0, 2.0, 3.0])
    h = x * 1
    v = h[0]  # a 0-d view, as in PyTorch (numpy's h[0] would be a copied scalar)
    h.fill_(1.5)
    assert v.item() == 1.5 and v._version == h._version
    with no_grad():
        v.mul_(2)
    assert h.numpy()[0] == 3.0


def test_max_and_min_over_a_dim_give_values_and_indices_as_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([[1.0, 5.0, 5.0, -1.0], [np.nan, 2.0, np.nan, 0.0], [3.0, 3.0, 3.0, 3.0]])
    for which in ("max", "min"):
        for dim, keepdim in ((1, False), (0, True), (-1, True)):
            x, t = leaf(a), torch.tensor(a, requires_grad=True)
            ours, theirs = getattr(x, which)(dim, keepdim), getattr(t, which)(dim, keepdim)
            np.testing.assert_array_equal(ours.values.numpy(), theirs.values.detach().numpy())
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
            ours.values.sum().backward()
            theirs.values.sum().backward()
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    u = Tensor(np.array([0, 5], dtype=np.uint8))
    assert u.min().item() == 0 and u.sum().dtype == np.int64  # as torch: no wrap, int64 sums
    assert Tensor(np.array([True, False])).min().item() is False


INPLACE_UNARY = ["exp", "log", "sqrt", "abs", "neg", "relu", "sigmoid", "tanh", "sin", "cos", "tan",
                 "asin", "acos", "atan", "sinh", "cosh", "asinh", "atanh", "log1p", "expm1",
                 "log2", "log10", "exp2", "square", "reciprocal", "rsqrt", "erf", "floor", "ceil",
                 "trunc", "frac", "round"]


@pytest.mark.parametrize("name", INPLACE_UNARY)
def test_inplace_unary_forms_match_pytorch(name):
    torch = pytest.importorskip("torch")
    a = np.array([0.3, 0.55, 0.8])  # inside every domain (acosh needs > 1: not listed)
    x, t = leaf(a), torch.tensor(a, requires_grad=True)
    h, ht = x * 1, t * 1
    getattr(h[1:], name + "_")()  # through a view, so the base records it too
    ht[1:].copy_(getattr(ht[1:].clone(), name)())  # (PyTorch has no derivative for asinh_, ...)
    (h * h).sum().backward()
    (ht * ht).sum().backward()
    np.testing.assert_allclose(h.numpy(), ht.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9)


def test_an_op_saves_only_what_its_needed_gradients_read():  # found by the program fuzzer
    x = leaf([3.0, 0.0])
    c = Tensor(np.array([4.0, 1.0]))
    y = tg.hypot(x, c)
    c.fill_(0.5)  # c gets no gradient, so hypot did not keep it: backward still works
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 / 5, 0])


def test_optimizers_update_0d_parameters_like_any_other():
    from tinygrad_cnn import nn, optim

    p = nn.Parameter(Tensor(np.array(1.0)))
    q = nn.Parameter(Tensor(np.array([1.0])))  # the same parameter as a 1-element vector
    opts = [optim.SGD([t], lr=0.1, momentum=0.9, weight_decay=0.01) for t in (p, q)]
    for _ in range(3):
        for t, o in zip((p, q), opts):
            o.zero_grad()
            (t * t * 3).sum().backward()
            o.step()
    assert p.shape == () and p.item() == pytest.approx(q.item(), abs=1e-15)
    buf = opts[0].state[p]["momentum_buffer"]
    assert buf.shape == () and buf.item() != 6.02  # it moved after the first step


def test_a_parameter_given_twice_is_refused():
    from tinygrad_cnn import nn, optim

    w = nn.Parameter(Tensor(np.ones(2)))
    with pytest.raises(ValueError, match="more than one|twice|duplicate"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)


def test_layers_with_zero_features():
    from tinygrad_cnn import nn

    lin, conv = nn.Linear(0, 3), nn.Conv2d(0, 4, 3)
    assert lin.weight.shape == (3, 0) and conv.weight.shape == (4, 0, 3, 3)
    np.testing.assert_array_equal(lin(Tensor(np.zeros((2, 0), np.float32))).numpy(),
                                  np.broadcast_to(lin.bias.numpy(), (2, 3)))


# ----------------------------------------------------------------------------- found by an outside
# tester after the speed round (PyTorch 2.13's values written out)
def test_two_leaves_never_share_one_grad_under_create_graph():
    a = np.arange(6.0).reshape(2, 3)
    x, y = leaf(a), leaf(a)
    ((x + y) * Tensor(a)).sum().backward(create_graph=True)
    assert x.grad is not y.grad
    with no_grad():
        x.grad.add_(100)
    np.testing.assert_array_equal(y.grad.numpy(), a)
    x2, y2 = leaf(a), leaf(a)
    (x2 + y2).sum().backward(create_graph=True)  # an expand's read-only broadcast
    with no_grad():
        x2.grad.add_(1)
    np.testing.assert_array_equal(x2.grad.numpy(), np.full((2, 3), 2.0))
    np.testing.assert_array_equal(y2.grad.numpy(), np.ones((2, 3)))


def test_retained_and_returned_gradients_are_writable():
    x = leaf(np.ones((2, 3)))
    y = x * 2
    y.retain_grad()
    y.mean().backward()
    y.grad.add_(1)
    np.testing.assert_allclose(y.grad.numpy(), np.full((2, 3), 1 + 1 / 6))
    (g,) = grad(x.mean(), [x])
    g.numpy()[0, 0] = 5.0
    assert g.numpy()[0, 0] == 5.0 and g.numpy()[1, 2] == pytest.approx(1 / 6)


def test_float16_mean_over_more_elements_than_float16_counts():
    x = leaf(np.ones(70000), np.float16)
    x.mean().backward()
    assert x.grad.numpy()[0] == np.float16(1.4305e-05)  # PyTorch; the count 70000 is inf in float16
    x = leaf(np.ones(70000), np.float16)
    (g,) = grad(x.mean(), [x], create_graph=True)
    assert g.numpy()[0] == np.float16(1.4305e-05)


def test_second_derivative_of_a_mean_over_an_empty_dim_is_zero():
    x = leaf(np.zeros((0, 3)))
    u = leaf(np.ones(3))
    (g,) = grad(x.mean(0), [x], u, create_graph=True)
    (gu,) = grad(g.sum(), [u], allow_unused=True)
    np.testing.assert_array_equal(gu.numpy(), [0.0, 0.0, 0.0])


def test_linear_with_no_input_features_has_a_backward():
    x, w, b = leaf(np.ones((3, 0))), leaf(np.ones((5, 0))), leaf(np.ones(5))
    F.linear(x, w, b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [3.0] * 5)
    assert x.grad.shape == (3, 0) and w.grad.shape == (5, 0)


@pytest.mark.parametrize("dim", [(), []])
def test_an_empty_dim_list_reduces_every_dim(dim):
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert x.sum(dim).shape == () and x.sum(dim).item() == 15.0
    assert x.mean(dim).item() == 2.5
    x.sum(dim).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_of_inf_is_its_limit(dtype):
    """gelu(+inf) = inf (PyTorch's float64 and scalar loops; its float32 vectorised loop says
    NaN), gelu(-inf) = NaN (-inf * 0, as PyTorch in both)."""
    out = F.gelu(Tensor(np.array([np.inf, -np.inf, 1.0], dtype=dtype))).numpy()
    assert out[0] == np.inf and np.isnan(out[1]) and out[2] == pytest.approx(0.8413447)


# ----------------------------------------------------------------------------- a second outside pass
@pytest.mark.parametrize("op", ["gather", "index_select", "getitem", "take_along_dim",
                                "scatter_add", "where"])
def test_changing_an_index_or_mask_after_the_op_does_not_move_the_gradient(op):
    """The graph keeps its own copy of an index or mask (PyTorch raises a version error for most
    of these, take_along_dim gives the original index's gradient; silently moving the gradient,
    as before, was wrong)."""
    x = leaf([1.0, 2.0, 3.0])
    idx = Tensor(np.array([0, 0]))
    mask = Tensor(np.array([True, False, True]))
    y = {"gather": lambda: x.gather(0, idx), "index_select": lambda: x.index_select(0, idx),
         "getitem": lambda: x[idx], "take_along_dim": lambda: tg.take_along_dim(x, idx, 0),
         "scatter_add": lambda: Tensor(np.zeros(3)).scatter_add(0, idx, x[:2]),
         "where": lambda: tg.where(mask, x, 0.0)}[op]()
    idx[0] = 2
    mask[0] = False
    (y * Tensor(np.arange(1.0, y.numel() + 1))).sum().backward()
    expected = {"scatter_add": [1.0, 1.0, 0.0], "where": [1.0, 0.0, 3.0]}.get(op, [3.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("view", ["t", "reshape", "view", "expand", "squeeze", "permute", "T"])
def test_a_view_that_changes_nothing_is_still_a_tensor_of_its_own(view):
    x = leaf([1.0, 2.0])
    b = x * 2
    y = {"t": lambda: b.t(), "reshape": lambda: b.reshape(2), "view": lambda: b.view(2),
         "expand": lambda: b.expand(2), "squeeze": lambda: b.squeeze(),
         "permute": lambda: b.permute(0), "T": lambda: b.T}[view]()
    assert y is not b
    y.retain_grad()
    ((b * 3).sum() + (y * 5).sum()).backward()
    np.testing.assert_array_equal(y.grad.numpy(), [5.0, 5.0])  # PyTorch; b's 3 is not y's
    np.testing.assert_array_equal(x.grad.numpy(), [16.0, 16.0])
    leaf_x = leaf([1.0, 2.0])
    assert not leaf_x.t().is_leaf
    plain = Tensor(np.array([1.0, 2.0]))
    plain.t().requires_grad_()
    assert not plain.requires_grad


def test_a_plain_backward_adds_into_a_grad_that_has_a_graph():
    x = leaf([1.0, 2.0])
    (x**3).sum().backward(create_graph=True)
    held = x.grad
    (x**2).sum().backward()
    assert x.grad is held and held.requires_grad  # PyTorch: in place, the graph kept
    np.testing.assert_array_equal(held.numpy(), [5.0, 16.0])
    (g,) = grad(held.sum(), [x])
    np.testing.assert_array_equal(g.numpy(), [6.0, 12.0])  # 6x: the added 2x came without a graph


def test_writing_into_a_self_overlapping_array_is_refused():
    from numpy.lib.stride_tricks import as_strided

    t = tg.from_numpy(as_strided(np.zeros(1), (3,), (0,), writeable=True))
    with pytest.raises(RuntimeError, match="single memory location"):
        t.add_(1.0)
    ro = tg.from_numpy(np.frombuffer(b"\0" * 32, np.float64))
    with pytest.raises(RuntimeError, match="read-only"):
        ro.add_(1.0)


# ----------------------------------------------------------------------------- a third outside pass
@pytest.mark.parametrize("where_", ["self", "base"])
@pytest.mark.parametrize("view", [None, "reshape", "slice"])
def test_retain_grad_survives_an_in_place_change(view, where_):
    """PyTorch keeps retain_grad() across an in-place op on the tensor or on its base: y.grad is
    the gradient of y as it is at the end."""
    a = leaf(np.arange(1.0, 7.0))
    b = a * 1
    y = {None: lambda: b, "reshape": lambda: b.reshape(2, 3), "slice": lambda: b[1:]}[view]()
    y.retain_grad()
    (y if where_ == "self" else b).mul_(2)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * y.detach().numpy())


def test_a_no_op_view_under_no_grad_is_not_its_base():
    a = leaf([1.0, 1.0, 1.0])
    with no_grad():
        y = a.reshape(3)
    assert y is not a and not y.requires_grad
    y.requires_grad_(False)
    assert a.requires_grad


def test_uint8_and_empty_list_indexes_as_pytorch():
    x = leaf([10.0, 20.0, 30.0])
    with pytest.warns(UserWarning, match="uint8"):
        picked = x[np.array([2, 0, 2], dtype=np.uint8)]  # a mask, as PyTorch (deprecated there)
    np.testing.assert_array_equal(picked.numpy(), [10.0, 30.0])
    with pytest.raises(TypeError, match="int64 or int32"):
        x.index_select(0, Tensor(np.array([0], dtype=np.uint8)))
    empty = Tensor(np.ones((1, 2)), requires_grad=True)[[]]
    assert empty.shape == (0, 2)


def test_softmax_and_empty_mean_stay_quiet(recwarn):
    row = Tensor(np.array([[-np.inf, -np.inf], [np.inf, 0.0]]))
    assert np.isnan(row.softmax(-1).numpy()).sum() == 4 and np.isnan(row.log_softmax(-1).numpy()[0]).all()
    assert np.isnan(Tensor(np.zeros((0, 3)), requires_grad=True).mean(0).numpy()).all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# ----------------------------------------------------------------------------- a fourth outside pass
def test_sigmoid_keeps_its_left_tail():
    """(1 + tanh(x/2)) / 2 cancelled to 0 from x = -17 in float32: log(sigmoid(-20)) was -inf and
    its gradient NaN. PyTorch: sigmoid(-20) = 2.0611537e-09, log of it -20, gradient 1."""
    np.testing.assert_allclose(Tensor(np.float32([-20, -16, 20])).sigmoid().numpy(),
                               [2.0611537e-09, 1.1253517e-07, 1.0], rtol=1e-6)
    assert Tensor(np.array([-700.0])).sigmoid().item() == pytest.approx(9.85967654375977e-305)
    np.testing.assert_allclose(Tensor(np.float16([-10, 8])).sigmoid().numpy().astype(np.float64),
                               [4.5419e-05, 0.99951], rtol=1e-3)  # float16 in float32
    x = leaf([-20.0], np.float32)
    y = x.sigmoid().log()
    y.backward()
    assert y.item() == pytest.approx(-20.0) and x.grad.item() == pytest.approx(1.0)
    assert F.binary_cross_entropy(Tensor(np.float32([-20])).sigmoid(),
                                  Tensor(np.float32([1]))).item() == pytest.approx(20.0)
    ends = Tensor(np.array([-np.inf, np.inf, np.nan, -0.0])).sigmoid().numpy()
    np.testing.assert_array_equal(ends, [0.0, 1.0, np.nan, 0.5])


def test_a_zero_dim_operand_that_requires_grad_does_not_decide_the_dtype():
    """It was expanded before the result dtype was decided, so it counted as dimensioned."""
    s = Tensor(np.array(2.0), requires_grad=True)  # float64, 0-d
    assert (tg.ones(3) * s).dtype == np.float32  # PyTorch: float32
    assert (tg.ones(3, dtype=tg.float16) * Tensor(2.0, requires_grad=True)).dtype == np.float16
    assert tg.where(tg.tensor([True, False, True]), tg.ones(3), s).dtype == np.float32
    (tg.ones(3) * s).sum().backward()
    assert s.grad.dtype == np.float64 and s.grad.item() == 3.0
    assert tg.where(tg.tensor([True, False]), 1.0, 0.0).dtype == np.float32  # two numbers
    assert tg.where(tg.tensor([True, False]), 1, 0).dtype == np.int64


def test_comparisons_promote_as_arithmetic_does():
    """numpy compared float32 with a numpy float64 scalar in float64 (0.1f != 0.1) and did not
    wrap an int out of a uint8's range; PyTorch gives True for each of these."""
    assert (Tensor(np.float32([0.1])) == np.float64(0.1)).tolist() == [True]
    assert (Tensor(np.float32([0.1])) == Tensor(np.array(0.1))).tolist() == [True]
    assert (Tensor(np.array([255], np.uint8)) == -1).tolist() == [True]
    assert (tg.tensor([16777217]) == Tensor(np.float32([16777216.0]))).tolist() == [True]
    assert (Tensor([1.0]) == None) is False and (Tensor([1.0]) != None) is True  # noqa: E711
    with pytest.raises(TypeError, match="lt: cannot compare a tensor with str"):
        Tensor([1.0]) < "a"  # noqa: B015


def test_max_of_a_whole_tensor_with_nans_sends_the_gradient_to_them():
    """torch.max() spreads the gradient evenly over the NaNs; amax gives NaN everywhere."""
    x = leaf([[1.0, np.nan, 3.0], [np.nan, np.nan, 1.0]])
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1 / 3, 0], [1 / 3, 1 / 3, 0]])
    x.grad = None
    x.min().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1 / 3, 0], [1 / 3, 1 / 3, 0]])
    x.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy 0/0 warning either
        x.amax(1).sum().backward()
    assert np.isnan(x.grad.numpy()).all()


def test_clamp_takes_tensor_bounds_and_min_above_max():
    """PyTorch 2.13's numbers: tensor bounds broadcast, each bound gets the gradient where it
    wins (lo only while lo < hi, hi also where hi < lo), NaN gets none; min > max gives max."""
    x = leaf([-1.0, 0.5, 5.0, 0.0, 1.0, 0.7, np.nan, 0.3, 0.0])
    lo = leaf([0.0, 0.6, 0.0, 0.0, 0.0, 0.9, 0.0, 0.5, 1.0])
    hi = leaf([1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 1.0, np.nan, 1.0])
    y = tg.clamp(x, lo, hi)
    np.testing.assert_array_equal(y.detach().numpy(),
                                  [0, 0.6, 1, 0, 1, 0.8, np.nan, np.nan, 1])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(lo.grad.numpy(), [1, 1, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(hi.grad.numpy(), [0, 0, 1, 0, 0, 1, 0, 0, 0])
    z = leaf([0.5, 2.0])
    out = z.clamp(min=1.0, max=0.0)
    out.sum().backward()
    assert out.tolist() == [0.0, 0.0] and z.grad.tolist() == [0.0, 0.0]
    assert tg.clamp(tg.ones(2, 3), tg.zeros(3), 0.5).shape == (2, 3)
    assert tg.clamp(tg.tensor([1, 5]), min=Tensor([2.0, 2.0])).dtype == np.float32
    with pytest.raises(ValueError, match=r"clamp: shapes \(2,\) \(input\), \(3,\)"):
        tg.clamp(tg.ones(2), tg.zeros(3))


def test_softmax_without_dim_is_pytorchs_implicit_choice():
    a = np.arange(24.0).reshape(2, 3, 4) / 10
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = tg.nn.Softmax()(Tensor(a))
    np.testing.assert_allclose(out.numpy().sum(0), np.ones((3, 4)))  # dim 0 of a 3-d tensor
    with pytest.warns(UserWarning, match="log_softmax"):
        out = F.log_softmax(Tensor(a.reshape(2, 3, 2, 2)))
    np.testing.assert_allclose(np.exp(out.numpy()).sum(1), np.ones((2, 2, 2)))  # dim 1 of 4-d


def test_normalize_of_a_zero_row_has_pytorchs_gradient():
    """sqrt of a zero sum of squares gave 0/0 = NaN; PyTorch: g / eps."""
    x = leaf([[0.0, 0.0], [3.0, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.normalize(x, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1e12, 1e12], [0.032, -0.024]])


def test_data_is_pytorchs_a_tensor_without_history_sharing_memory():
    """`.data` was the numpy array: `out.data.max(1)[1]` (old PyTorch MNIST code) gave the max of
    row 1, `w.data.normal_()` an AttributeError, `p.data = tensor` a broken tensor later."""
    out = Tensor(np.array([[0.1, 0.9], [0.8, 0.2]]))
    assert out.data.max(1)[1].tolist() == [1, 0]
    w = leaf([1.0, 2.0])
    d = w.data
    assert isinstance(d, Tensor) and not d.requires_grad and d.grad_fn is None
    d.mul_(3)  # shares memory: PyTorch's hand-written update
    assert w.tolist() == [3.0, 6.0] and w.requires_grad and w.is_leaf
    w.data = w.data * 2 + tg.zeros(2, dtype=tg.float64)
    assert w.tolist() == [6.0, 12.0] and w.requires_grad
    (w * w).sum().backward()
    assert w.grad.tolist() == [12.0, 24.0]
    w.grad.data.zero_()
    assert w.grad.tolist() == [0.0, 0.0]
    with pytest.raises(TypeError, match="assigned data must be a Tensor"):
        w.data = np.ones(2)
    with pytest.raises(TypeError, match="requires grad cannot take int64"):
        w.data = tg.tensor([1, 2])


def test_no_numpy_warnings_at_the_edges_of_a_domain():
    """log(0), sqrt(-1), 1/0, pow at 0 and logsumexp over -inf give PyTorch's inf/NaN, and, as in
    PyTorch, no RuntimeWarning (numpy's came out of ops/elementwise.py lines). (exp's overflow
    still warns: exp is too hot an op for the microsecond np.errstate costs.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (lambda t: t.log(), lambda t: t.sqrt(), lambda t: t**0.5, lambda t: t**-1.0,
                   lambda t: 1 / t, lambda t: t.rsqrt(), lambda t: t.log2(),
                   lambda t: t.reciprocal(), lambda t: t.acos()):
            x = leaf([0.0, -1.0, 4.0])
            fn(x).sum().backward()
        z = leaf([-np.inf, -np.inf])
        z.logsumexp(0).backward()
        assert np.isnan(z.grad.numpy()).all()  # PyTorch: NaN too


def test_clear_errors_and_zero_dim_forms_found_by_the_fourth_outside_pass():
    assert tg.squeeze(Tensor(np.array(1.0)), 0).shape == ()  # PyTorch allows dim 0 or -1
    x = Tensor(np.array(5.0), requires_grad=True)
    y = tg.gather(x, 0, tg.tensor(0))
    y.backward()
    assert y.item() == 5.0 and y.shape == () and x.grad.item() == 1.0
    with pytest.raises(TypeError, match="abs: not defined for bool tensors"):
        tg.abs(tg.tensor([True]))
    with pytest.raises(TypeError, match="neg: the - operator on a bool tensor"):
        -tg.tensor([True])
    with pytest.raises(TypeError, match="equal.*must be a Tensor, not list"):
        tg.equal(Tensor([1.0]), [1.0])
    with pytest.raises(ValueError, match=r"allclose: shapes \(3,\) and \(2,\)"):
        tg.allclose(tg.ones(3), tg.ones(2))
    with pytest.raises(IndexError, match=r"argmax: the tensor of shape \(0, 3\) is empty"):
        tg.argmax(tg.zeros(0, 3))
    with pytest.raises(IndexError, match=r"argmin: dim 0 of shape \(0, 3\) has size 0"):
        tg.zeros(0, 3).argmin(0)
    assert tg.zeros(0, 3).argmax(1).shape == (0,)


# ----------------------------------------------------------------------------- a fifth outside pass
def test_tensor_takes_torch_tensors_legacy_sizes():
    """Tensor(3, 4) put the 4 in requires_grad and made a 0-d tensor; the custom-layer idiom
    Parameter(torch.Tensor(out, in)) then failed in init with an unrelated error."""
    assert Tensor(3, 4).shape == (3, 4) and not Tensor(3, 4).requires_grad
    assert Tensor(5).shape == (5,) and Tensor().shape == (0,) and Tensor(2.5).shape == ()
    assert Tensor([3]).tolist() == [3.0] and tg.tensor(3).shape == ()  # tensor(): a value
    w = tg.nn.Parameter(Tensor(2, 3))
    tg.nn.init.kaiming_uniform_(w, a=5**0.5)
    assert w.shape == (2, 3) and w.requires_grad
    with pytest.raises(TypeError, match="sizes must be ints"):
        Tensor([1.0], 2)
    with pytest.raises(TypeError, match="from None"):
        Tensor(None)


def test_in_place_ops_keep_pytorchs_dtype_rule_without_recording_too():
    """Outside recording, add_/div_/exp_/clamp_ truncated a float result into an int tensor."""
    for op in (lambda t: t.add_(1.5), lambda t: t.div_(2), lambda t: t.exp_(),
               lambda t: t.clamp_(1.5)):
        with pytest.raises(RuntimeError, match="cannot be written into a tensor of dtype int64"):
            op(tg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="dtype bool"):
        tg.tensor([True]).add_(1)
    u = tg.tensor([0, 200], dtype=tg.uint8)
    assert u.add_(300).tolist() == [44, 244]  # wraps as u + 300 does (PyTorch)
    assert tg.tensor([3, 200], dtype=tg.uint8).mul_(-1).tolist() == [253, 56]
    assert tg.tensor([1, 2]).div_(2, rounding_mode="floor").tolist() == [0, 1]


def test_view_refuses_what_needs_a_copy():
    t = tg.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match=r"view: .* cannot be seen as shape \(6,\) without a copy"):
        t.t().view(-1)
    v = t.view(3, 2)
    v[0, 0] = 99.0
    assert t[0, 0].item() == 99.0  # a view shares memory


def test_zero_dim_tensors_act_as_numbers_in_python():
    loss = Tensor(np.float32(0.12345))
    assert f"{loss:.3f}" == "0.123" and "{:.2f}".format(loss) == "0.12"  # noqa: UP032
    assert list(range(tg.tensor(3))) == [0, 1, 2] and [10, 20, 30][tg.tensor(1)] == 20
    with pytest.raises(TypeError):
        f"{tg.ones(2):.2f}"  # PyTorch: unsupported format string
    with pytest.raises(TypeError, match="one-element integer tensor"):
        [1, 2][Tensor(1.0)]
    assert (tg.ones(2) == "a") is False and (tg.ones(2) != "a") is True
    with pytest.raises(TypeError, match="eq: cannot compare a tensor with NoneType"):
        tg.ones(2).eq(None)


def test_two_tensors_on_one_array_keep_their_own_roles_in_second_derivatives():
    """Found by the long fuzz run: y = x.detach() shares x's array, and the saved divisor of
    x / y was mapped back to x (the first input with that array), so the second derivative
    differentiated through the constant. PyTorch: d2/dr0 of g * r2 / r3 with r3 constant."""
    rng = np.random.default_rng(0)
    a, g, v = (rng.standard_normal((3, 4)) for _ in range(3))
    r0 = leaf(a)
    r2 = r0.exp()
    r3 = r2.detach()
    (gr,) = grad(r2 / r3, [r0], Tensor(g), create_graph=True)
    (gg,) = grad(gr, [r0], Tensor(v))
    np.testing.assert_allclose(gg.numpy(), g * v, rtol=1e-12)


# ----------------------------------------------------------------------------- a sixth outside pass
def test_module_bookkeeping_follows_pytorch():
    """A reassigned buffer left the state (an EMA lost from checkpoints); a plain Tensor took a
    parameter's name silently; tied weights and shared modules were missing from state_dict; a
    child's train() override was skipped; Sequential(OrderedDict) dropped a non-Module."""
    nn = tg.nn

    class Ema(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("avg", tg.zeros(3))

        def forward(self, x):
            self.avg = self.avg * 0.9 + x.detach() * 0.1
            return x

    e = Ema()
    e(tg.ones(3))
    assert list(e.state_dict()) == ["avg"] and e.state_dict()["avg"].tolist() == pytest.approx(
        [0.1] * 3)
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign a Tensor as parameter 'weight'"):
        lin.weight = tg.ones(2, 2)
    with pytest.raises(TypeError, match="a Parameter or None expected"):
        nn.Module().register_parameter("w", tg.zeros(3))
    enc, dec = nn.Linear(3, 3), nn.Linear(3, 3)
    dec.weight = enc.weight
    s = nn.Sequential(enc, nn.ReLU(), dec)
    assert list(s.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # PyTorch's keys
    assert len(list(s.parameters())) == 3
    s.load_state_dict(s.state_dict())

    class Frozen(nn.Module):
        def __init__(self):
            super().__init__()
            self.bn = nn.BatchNorm1d(3)

        def train(self, mode=True):
            super().train(mode)
            self.bn.eval()
            return self

    outer = nn.Sequential(Frozen())
    outer.train()
    assert outer.training and not outer[0].bn.training
    from collections import OrderedDict
    with pytest.raises(TypeError, match="item 'act' is a function, not a Module"):
        nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=tg.relu))
    m = nn.Module()
    m.register_buffer("scratch", tg.zeros(2), persistent=False)
    assert list(m.state_dict()) == [] and len(list(m.buffers())) == 1
    with pytest.raises(TypeError, match="a Tensor or None expected"):
        m.register_buffer("y", np.zeros(3))
    with pytest.raises(KeyError, match="no '.'"):
        m.register_buffer("a.b", tg.zeros(1))
    with pytest.raises(TypeError, match="expected a dict"):
        m.load_state_dict([("scratch", tg.zeros(2))])


def test_zero_grad_without_none_cuts_a_create_graph_gradient(tmp_path):
    lin = tg.nn.Linear(2, 1)
    x = tg.ones(3, 2)
    (lin(x) ** 2).sum().backward(create_graph=True)
    assert lin.weight.grad.requires_grad
    lin.zero_grad(set_to_none=False)
    (lin(x) ** 2).sum().backward()
    assert lin.weight.grad.grad_fn is None and not lin.weight.grad.requires_grad
    tg.save({True: 1, 2: "b"}, tmp_path / "keys.npz")  # bool keys load back (they were refused)
    assert tg.load(tmp_path / "keys.npz") == {True: 1, 2: "b"}


def test_save_names_a_directory_or_a_file_object_clearly(tmp_path):

    with pytest.raises(IsADirectoryError, match="is a directory; give a file path"):
        tg.save({"a": 1}, tmp_path)
    with pytest.raises(TypeError, match="or a binary file object open for writing, got int"):
        tg.save({"a": 1}, 3)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


# ----------------------------------------------------------------------------- a seventh outside pass
def test_in_place_dtype_rule_is_by_category_and_covers_pow_():
    """pow_(0.5) on an int tensor truncated; int16 into uint8 was refused (PyTorch wraps)."""
    with pytest.raises(RuntimeError, match="pow_: the result type float32"):
        tg.tensor([1, 2, 3]).pow_(0.5)
    assert tg.tensor([1, 2]).pow_(2).tolist() == [1, 4]
    assert tg.tensor([1], dtype=tg.uint8).add_(tg.tensor([-2], dtype=tg.int8)).tolist() == [255]
    assert tg.tensor([3], dtype=tg.uint8).mul_(tg.tensor([100], dtype=tg.int32)).tolist() == [44]


def test_comparing_with_a_list_is_pytorchs():
    t = Tensor([1.0, 2.0, 3.0])
    assert (t == [1, 2, 3]) is False and (t != (1,)) is True  # Python's identity test
    with pytest.raises(TypeError, match="lt: cannot compare a tensor with a list"):
        t < [1, 2, 3]  # noqa: B015


# ----------------------------------------------------------------------------- an eighth outside pass
def test_cross_entropy_refuses_ignore_index_with_probability_targets_as_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 3))
    probs = np.full((4, 3), 1 / 3)
    with pytest.raises(RuntimeError):
        torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(probs), ignore_index=1)
    for target in (Tensor(probs), probs):
        with pytest.raises(RuntimeError, match="ignore_index .* probability targets"):
            F.cross_entropy(Tensor(x), target, ignore_index=1)
    assert np.isfinite(F.cross_entropy(Tensor(x), Tensor(probs)).item())  # the default still runs


def test_empty_inputs_of_adaptive_max_pool_and_losses_as_torch():
    """AdaptiveMaxPool2d of an empty batch with bins that do not divide crashed in a reshape;
    mse_loss of an empty input divided by zero in its VJP. PyTorch: empty results, NaN means,
    empty gradients -- and no numpy warnings."""
    torch = pytest.importorskip("torch")
    from tinygrad_cnn import nn

    x = tg.zeros(0, 1, 3, 3, requires_grad=True)
    y = nn.AdaptiveMaxPool2d(2)(x)
    assert y.shape == tuple(torch.nn.AdaptiveMaxPool2d(2)(torch.zeros(0, 1, 3, 3)).shape)
    y.sum().backward()
    assert x.grad.shape == (0, 1, 3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", "reduction: 'mean' divides", UserWarning)  # (kl_div's)
        for name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
                     "binary_cross_entropy_with_logits"):
            a = tg.zeros(0, 3, requires_grad=True)
            loss = getattr(F, name)(a, tg.zeros(0, 3))
            ta = torch.zeros(0, 3, requires_grad=True)
            with warnings.catch_warnings():  # (PyTorch warns about kl_div's "mean")
                warnings.simplefilter("ignore")
                theirs = getattr(torch.nn.functional, name)(ta, torch.zeros(0, 3))
            loss.backward()
            theirs.backward()
            assert np.isnan(loss.item()) and np.isnan(theirs.item()), name
            assert a.grad.shape == tuple(ta.grad.shape), name
        logits = tg.zeros(0, 3, requires_grad=True)
        F.cross_entropy(logits, tg.zeros(0, dtype=tg.long)).backward()
        assert logits.grad.shape == (0, 3)
        tg.zeros(2, 0, requires_grad=True).mean(1).sum().backward()


def test_load_state_dict_takes_pytorchs_parameters_bfloat16_and_old_batchnorm():
    torch = pytest.importorskip("torch")
    from tinygrad_cnn import nn

    theirs = torch.nn.Linear(3, 2)
    ours = nn.Linear(3, 2)
    ours.load_state_dict(dict(theirs.named_parameters()))  # Parameters that require grad
    np.testing.assert_array_equal(ours.weight.numpy(), theirs.weight.detach().numpy())
    ours.load_state_dict(theirs.state_dict(keep_vars=True))
    half = theirs.bfloat16().state_dict()
    ours.load_state_dict(half)  # bfloat16 widened, then our float32
    np.testing.assert_array_equal(ours.weight.numpy(), half["weight"].float().numpy())
    assert ours.weight.dtype == np.float32
    # a BatchNorm checkpoint without num_batches_tracked (older PyTorch) loads, as in PyTorch
    old = {k: v for k, v in torch.nn.BatchNorm2d(3).state_dict().items()
           if k != "num_batches_tracked"}
    torch.nn.BatchNorm2d(3).load_state_dict(old)
    bn = nn.BatchNorm2d(3)
    assert bn.load_state_dict(old) == ([], [])
    with pytest.raises(RuntimeError, match="missing keys: running_var"):
        bn.load_state_dict({k: v for k, v in old.items() if k != "running_var"})
    # and the other way, as the README shows
    tl = torch.nn.BatchNorm2d(3)
    tl.load_state_dict({k: torch.from_dlpack(v) for k, v in bn.state_dict().items()})
    assert int(tl.num_batches_tracked) == 0


@pytest.mark.parametrize("kind,shape,k,stride,pad", [
    ("max", (1, 1, 1, 1), 2, None, 0), ("avg", (1, 1, 3, 5), 4, None, 0),
    ("max", (1, 1, 3, 5), 4, None, 0), ("avg", (1, 1, 3, 5), 4, 3, 1),
    ("max", (2, 1, 2, 3), 3, 2, 1), ("avg", (1, 1, 1, 1), 2, None, 0)])
def test_ceil_mode_pooling_with_a_kernel_larger_than_the_input_as_torch(kind, shape, k, stride,
                                                                         pad):
    """With ceil_mode a window may hang over the end: PyTorch keeps it (we refused the kernel)."""
    torch = pytest.importorskip("torch")
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    for cip in ((True, False) if kind == "avg" else (None,)):
        kw = dict(kernel_size=k, stride=stride, padding=pad, ceil_mode=True)
        if cip is not None:
            kw["count_include_pad"] = cip
        x, tx = Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        ours = getattr(F, f"{kind}_pool2d")(x, **kw)
        theirs = getattr(torch.nn.functional, f"{kind}_pool2d")(tx, **kw)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy())
        ours.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    with pytest.raises(ValueError, match="ceil_mode=True would keep one window"):
        F.max_pool2d(Tensor(np.ones((1, 1, 1, 1))), 2)


def test_reduction_results_are_contiguous_so_reshape_shares_memory_as_in_torch():
    """Found by the long fuzz run: ``r4 = r0.transpose(0, 1).sum(-1); r5 = r4.reshape(-1);
    r4.fill_(1.5)`` -- PyTorch's sum is contiguous, so r5 is a view and sees the fill; numpy's
    sum kept the transposed layout, the reshape copied, and r5 kept the old sums. And the other
    way: a clone keeps its input's layout (preserve_format), so its reshape copies in both."""
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3, 2))
    reductions = [lambda t: t.sum(-1), lambda t: t.mean(-1), lambda t: t.amax(-1),
                  lambda t: t.prod(-1), lambda t: t.var(-1), lambda t: t.norm(dim=-1),
                  lambda t: t.logsumexp(-1), lambda t: t.cumsum(-1), lambda t: t.softmax(-1),
                  lambda t: t.log_softmax(-1), lambda t: t.roll(1, 0), lambda t: t.tril(),
                  lambda t: (t > 0).any(-1), lambda t: t.clone()]
    for f in reductions:
        seen = []
        for lib in (tg, torch):
            r0 = lib.tensor(a.copy(), requires_grad=True)
            r4 = f(r0.transpose(0, 1))
            assert r4.is_contiguous() == (f is not reductions[-1])
            r5 = r4.reshape(-1)
            with lib.no_grad():
                r4.fill_(1)
            seen.append(r5.detach().numpy().tolist())
        assert seen[0] == seen[1]
    r4 = tg.tensor(a).transpose(0, 1).sum(-1)
    assert r4.view(-1).shape == (6,)  # a view is possible, as in PyTorch
    assert tg.tensor(a).transpose(0, 1).contiguous().is_contiguous()


def _both_libs():
    torch = pytest.importorskip("torch")
    return ((tg, lambda t: t.tolist()), (torch, lambda t: t.tolist()))


def test_augmented_operators_change_the_tensor_in_place():
    """``**=``, ``//=``, ``%=``, ``&=``, ``|=``, ``^=`` rebound the name to a new tensor: the
    memory, its views and the graph never saw the change."""
    results = []
    for lib, to_list in _both_libs():
        t = lib.tensor([1.0, 2, 3])
        v = t[:2]
        v **= 2
        i = lib.tensor([5, 7, 9])
        u = i
        u //= 2
        u %= 3
        b = lib.tensor([True, True])
        c = b
        c &= lib.tensor([True, False])
        n = lib.tensor([5, 6])
        m = n
        m |= 8
        m ^= lib.tensor([1, 1])
        x = lib.tensor([1.0, 2, 3], requires_grad=True)
        h = x * 1
        w = h[1:]
        w **= 2
        (h * lib.tensor([1.0, 10, 100])).sum().backward()
        results.append([to_list(t), to_list(i), to_list(b), to_list(n), to_list(h.detach()),
                        to_list(x.grad), to_list(3 & lib.tensor([1, 2])), to_list(+n)])
    assert results[0] == results[1]
    with pytest.raises(TypeError, match="bitwise_and: needs bool or integer"):
        tg.tensor([1.5]) & tg.tensor([1.0])
    with pytest.raises(RuntimeError, match="bitwise_and_"):
        b = tg.tensor([True])
        b &= tg.tensor([2])


def test_integers_index_before_index_arrays_as_torch():
    """numpy counts an integer among the index arrays and puts their dims first; PyTorch applies
    integers first: ``x[0, :, [1, 2]]`` is ``(3, 2)``, not ``(2, 3)`` -- for values, writes and
    gradients."""
    out = []
    for lib, to_list in _both_libs():
        x = lib.arange(24.0).reshape(2, 3, 4)
        shapes = [tuple(x[0, :, [1, 2]].shape), tuple(x[0, ..., [1, 2]].shape),
                  tuple(x[lib.tensor(0), :, [1, 2]].shape), tuple(x[:, 0, [1, 2]].shape),
                  tuple(x[[0, 1], 0, [1, 2]].shape), tuple(x[0, None, :, [1]].shape)]
        t = lib.zeros(2, 2, 2)
        t[0, :, [0, 1]] = lib.tensor([[1.0, 2], [3, 4]])
        g = lib.arange(8.0, requires_grad=True)
        (g.reshape(2, 2, 2)[0, :, [0, 1]] * lib.tensor([[1.0, 2], [3, 4]])).sum().backward()
        out.append((shapes, to_list(t), to_list(g.grad)))
    assert out[0] == out[1]


def test_bool_masks_must_match_and_0d_masks_add_a_dim():
    out = []
    for lib, to_list in _both_libs():
        row = []
        for f in (lambda: lib.arange(3.0)[lib.tensor([False, True])],
                  lambda: lib.arange(6.0).reshape(3, 2)[lib.tensor([[True, False], [False, True]])],
                  lambda: lib.arange(6.0).reshape(3, 2)[..., lib.tensor([True, True, False])]):
            with pytest.raises(IndexError, match="shape of the mask"):
                f()
        row.append(tuple(lib.tensor([1.0, 2, 3])[lib.tensor(True)].shape))
        row.append(tuple(lib.tensor([1.0, 2, 3])[lib.tensor(False)].shape))
        row.append(tuple(lib.arange(6.0).reshape(3, 2)[:, lib.tensor([True, False])].shape))
        x = lib.tensor([1.0, 2, 3], requires_grad=True)
        (x[lib.tensor(True)] * 2).sum().backward()
        t = lib.tensor([1.0, 2, 3])
        t[lib.tensor(False)] = 7
        row += [to_list(x.grad), to_list(t)]
        out.append(row)
    assert out[0] == out[1]


def test_fill_with_a_tensor_that_requires_grad_and_wrapping_integers():
    out = []
    for lib, to_list in _both_libs():
        x = lib.zeros(3, requires_grad=True)
        v = lib.tensor(5.0, requires_grad=True)
        h = x * 1
        h.fill_(v)
        h.sum().backward()
        plain = lib.zeros(3)
        plain.fill_(v)
        out.append((float(v.grad), to_list(x.grad), plain.requires_grad,
                    to_list(lib.tensor([1, 2], dtype=lib.uint8).fill_(-1))))
    assert out[0] == out[1]
    with pytest.raises(RuntimeError, match="0-d tensor"):
        tg.zeros(3).fill_(tg.ones(3))


def test_numpy_functions_refuse_tensors_that_require_grad():
    x = tg.tensor([1.0, 2, 3], requires_grad=True)
    for f in (lambda: np.clip(x, 0, 5), lambda: np.where(x > 0, x, 0), lambda: np.dot(x, x),
              lambda: np.concatenate([x, x]), lambda: np.cumsum(x)):
        with pytest.raises(TypeError, match="would drop its history"):
            f()
    y = tg.tensor([1.0, 2, 3])  # without grad: numpy's result on the values, as with PyTorch's
    assert np.clip(y, 0, 2).tolist() == [1.0, 2.0, 2.0]
    assert np.concatenate([y, y]).shape == (6,) and float(np.dot(y, y)) == 14.0


def test_norm_gradients_at_nan_and_a_0d_transpose_and_number_over_tensor_as_torch():
    out = []
    for lib, to_list in _both_libs():
        row = []
        for p in (1, float("inf"), 2):
            x = lib.tensor([float("nan"), 1.0], requires_grad=True)
            x.norm(p=p).backward()
            row.append(to_list(x.grad))
        row.append(float(lib.tensor(2.0).transpose(0, 0)))
        a = np.random.default_rng(0).standard_normal(50).astype(np.float32) * 10
        row.append(to_list(2.2 / lib.tensor(a)))  # PyTorch: reciprocal, then times the number
        x = lib.tensor([1.0, 2], requires_grad=True)
        h = x * 1
        y = (1 / h).sum()
        h.mul_(2)  # 1 / h saves its result, not h: no version error
        y.backward()
        row.append(to_list(x.grad))
        out.append(row)
    assert str(out[0]) == str(out[1])


def test_parameter_shares_the_memory_of_the_tensor_it_is_made_from():
    out = []
    for lib, to_list in _both_libs():
        w = lib.zeros(2, 3)
        p = lib.nn.Parameter(w)
        with lib.no_grad():
            p.add_(1)
        t = lib.ones(3)
        q = lib.nn.Parameter(t[:2])
        with lib.no_grad():
            q.zero_()
        out.append((float(w.sum()), to_list(t), p.requires_grad and p.is_leaf))
    assert out[0] == out[1]


def test_half_arithmetic_with_numbers_is_pytorchs_bit_for_bit():
    """PyTorch's half mul and div take a number (or a 0-d tensor, a numpy scalar) at its own
    precision, in float32, and round once: ``x * 70000.`` is not ``x * inf``. Its add, sub and
    pow round the number to half first. Every finite float16 value, each form."""
    torch = pytest.importorskip("torch")
    every = np.frombuffer(np.arange(65536, dtype=np.uint16).tobytes(), dtype=np.float16)
    every = every[np.isfinite(every)]
    forms = [lambda lib, x: x * 0.1, lambda lib, x: x * 70000.0, lambda lib, x: x / 3.3,
             lambda lib, x: 3.3 / x, lambda lib, x: x + 0.1, lambda lib, x: x - 70000,
             lambda lib, x: 0.1 - x, lambda lib, x: x ** 1.1, lambda lib, x: x * lib.tensor(0.1),
             lambda lib, x: x + lib.tensor(0.1), lambda lib, x: x * np.float64(0.1),
             lambda lib, x: x.mul_(0.1), lambda lib, x: x.div_(70000.0),
             lambda lib, x: x.add_(0.1), lambda lib, x: x.mul_(lib.tensor(0.1)),
             lambda lib, x: x * 70001]
    with np.errstate(all="ignore"):
        for i, f in enumerate(forms):
            ours = f(tg, tg.tensor(every.copy())).numpy()
            theirs = f(torch, torch.tensor(every.copy())).numpy()
            assert ours.dtype == theirs.dtype == np.float16
            same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
            assert same.all(), f"form {i}: {int((~same).sum())} values differ"
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(np.array([0.5, 3.0, 1e-3], dtype=np.float16), requires_grad=True)
        ((x * 7000.0) * 0.1).sum().backward()
        grads.append(x.grad.numpy())
    assert grads[0].dtype == np.float16 and np.array_equal(grads[0], grads[1])


def test_nan_and_inf_gradients_stay_where_pytorch_puts_them():
    """max()/min() of a whole tensor select the winner (others get exactly 0 from a NaN or inf
    gradient); amax/amin multiply (0 * inf = NaN there), as PyTorch's two rules; ignored rows of
    cross_entropy and nll_loss take no upstream gradient; x ** 0 has a constant zero gradient."""
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        F64 = lib.float64
        nan, inf = lib.tensor(float("nan"), dtype=F64), lib.tensor(float("inf"), dtype=F64)
        row = []
        x = lib.tensor([2.0, -1.0, 0.5], dtype=F64, requires_grad=True)
        row.append(lib.autograd.grad(x.max(), x, grad_outputs=nan)[0].tolist())
        row.append(lib.autograd.grad(x.min(), x, grad_outputs=inf)[0].tolist())
        row.append(lib.autograd.grad(x.amax(), x, grad_outputs=inf)[0].tolist())
        z = lib.tensor([0.0, 0.0, -1.0], dtype=F64, requires_grad=True)
        row.append(lib.autograd.grad(z.max().log().exp(), z)[0].tolist())
        m = lib.tensor([[2.0, -1.0], [-3.0, 0.5]], dtype=F64, requires_grad=True)
        up = lib.tensor([float("inf"), 1.0], dtype=F64)
        row.append(lib.autograd.grad(m.amax(1), m, grad_outputs=up)[0].tolist())
        row.append(lib.autograd.grad(m.max(1)[0], m, grad_outputs=up)[0].tolist())
        F = tg.nn.functional if lib is tg else torch.nn.functional
        for smoothing in (0.0, 0.2):
            loss = F.cross_entropy(m, lib.tensor([0, -100]), reduction="none",
                                   label_smoothing=smoothing)
            row.append(lib.autograd.grad(loss, m, grad_outputs=up.flip(0))[0].tolist())
        loss = F.nll_loss(m, lib.tensor([0, -100]), reduction="none")
        row.append(lib.autograd.grad(loss, m, grad_outputs=lib.tensor([1.0, float("nan")],
                                                                      dtype=F64))[0].tolist())
        n = lib.tensor([[float("nan"), 1.0], [1.0, 2.0]], dtype=F64, requires_grad=True)
        F.cross_entropy(n, lib.tensor([-100, -100])).backward()
        row.append(n.grad.tolist())
        p = lib.tensor([0.0, 2.0], dtype=F64, requires_grad=True)
        (g,) = lib.autograd.grad((p ** 0).sum(), p, create_graph=True)
        row.append(g.tolist() + [float(g.requires_grad)])
        out.append(row)
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=0)


def test_numpy_scalars_count_as_numbers_as_in_pytorch():
    """PyTorch takes a numpy scalar as a number (the default dtype of its category when it must
    widen), on either side and in bitwise ops -- not as a 0-d tensor of its own dtype."""
    torch = pytest.importorskip("torch")
    forms = [lambda lib: lib.tensor([1, 2], dtype=lib.int32) + np.float64(2.5),
             lambda lib: np.float64(2.5) + lib.tensor([1, 2], dtype=lib.int32),
             lambda lib: lib.tensor([1, 2]) + np.float16(0.5),
             lambda lib: lib.tensor([True, False]) + np.int8(-2),
             lambda lib: np.uint8(200) & lib.tensor([-1, 8], dtype=lib.int8),
             lambda lib: np.int64(3) & lib.tensor([5, 6], dtype=lib.uint8),
             lambda lib: np.float32(2) * lib.tensor([1.0, 2.0], dtype=lib.float64),
             lambda lib: np.float32(3) - lib.tensor([1.0, 2.0]),
             lambda lib: np.int64(3) > lib.tensor([1.0, 5.0]),
             lambda lib: np.float64(2) ** lib.tensor([1.0, 2.0])]
    for i, f in enumerate(forms):
        ours, theirs = f(tg), f(torch)
        assert (str(ours.dtype), ours.tolist()) == \
            (str(theirs.dtype).removeprefix("torch."), theirs.tolist()), i


def test_bools_and_lists_in_keys_and_index_results_as_torch():
    """A 0-d bool before an integer took a dim (wrong elements came back); a list of lists as the
    whole key is PyTorch's tuple of indices; an index-array result is contiguous, so its reshape
    is a view in both libraries; half mul by a 0-d tensor on the left rounds it first, on the
    right not (PyTorch's cpu-scalar rule)."""
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        x = lib.arange(120.0).reshape(2, 3, 4, 5)
        y = lib.arange(24.0).reshape(2, 3, 4)
        row = [x[lib.tensor(True), 0, :, [1, 2]].tolist(), x[True, 0, :, [1, 2]].tolist(),
               y[True, 0, [1, 2]].tolist(), y[0, :, True, [1, 2]].tolist()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row.append(y[[[0, 1], [1, 0]]].tolist())
            z = lib.arange(24.0).reshape(2, 3, 4)
            z[[[0, 1], [1, 0]]] = -1.0
        row.append(z.tolist())
        w = lib.arange(6.0).reshape(2, 3)[:, [0, 1]]
        w.reshape(-1)[0] = -1.0
        row.append((w.tolist(), w.is_contiguous()))
        row.append(lib.arange(6.0).reshape(3, 2).t().repeat(1, 1).is_contiguous())
        h = lib.tensor([4.671875], dtype=lib.float16)
        row.append(((lib.tensor(0.1) * h).tolist(), (h * lib.tensor(0.1)).tolist()))
        out.append(row)
    assert out[0] == out[1]


def test_extra_none_gradients_of_a_function_are_accepted_as_in_pytorch():
    class Scale(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x, k, z=None):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * 2, None, None, None

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    Scale.apply(x, 3).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    y = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    Scale.apply(y, k=3).sum().backward()
    assert y.grad.tolist() == [2.0, 2.0]


def test_half_rounded_division_by_a_number_or_a_wider_0d_tensor_keeps_its_value_as_torch():
    """An outside tester: div(rounding_mode="trunc") by 0.1 and `//` by a 0-d float32 tensor
    rounded the divisor to half first (1 // tensor(0.1) gave 10, PyTorch 9); `//` of floats is
    now div(rounding_mode="floor"), the same op."""
    torch = pytest.importorskip("torch")
    a = np.array([0.1, 1e-4, np.inf, -0.3, 65504.0, 0.0, 1.0], dtype=np.float16)
    for d in (0.1, 1e-7, 70000.0, -0.7):
        for mode in ("trunc", "floor"):
            for div in (d, np.float32(d)):  # a number, and a 0-d float32 tensor
                ours = tg.div(tg.tensor(a), div if isinstance(div, float) else tg.tensor(div),
                              rounding_mode=mode).numpy()
                theirs = torch.div(torch.tensor(a), div if isinstance(div, float) else
                                   torch.tensor(div), rounding_mode=mode).numpy()
                np.testing.assert_array_equal(ours, theirs)
        ours = (tg.tensor(a) // tg.tensor(np.float32(d))).numpy()
        np.testing.assert_array_equal(ours, (torch.tensor(a) // torch.tensor(np.float32(d))).numpy())


@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (2,)])
def test_half_division_with_rounding_by_a_one_element_divisor_as_torch(shape):
    """Found by the long fuzz runs: a divisor of one element -- 0-d, and (the next session's
    run) of shape (1,) too -- is PyTorch's scalar, its half quotient computed in float32 (8.586 /
    0.781 truncates to 10; rounded to half first, 11.0 -> 11); a divisor of more elements runs
    in half (the last case)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(20000) * 40).astype(np.float16)
    for d in rng.standard_normal(12).astype(np.float16):
        divisor = np.full(shape, d, dtype=np.float16)
        numerator = a if shape != (2,) else a.reshape(-1, 2)
        for mode in ("trunc", "floor"):
            ours = tg.tensor(numerator).div(tg.tensor(divisor), rounding_mode=mode).numpy()
            theirs = torch.tensor(numerator).div(torch.tensor(divisor), rounding_mode=mode).numpy()
            assert np.array_equal(ours, theirs, equal_nan=True), (d, mode)


@pytest.mark.parametrize("dtype, value", [
    ("uint8", -1), ("uint8", 255), ("uint8", 256), ("uint8", 300), ("int8", 127), ("int8", 128),
    ("int8", -129), ("int8", 1e10), ("int8", float("nan")), ("int16", 2.5), ("int32", 70000),
    ("float16", 65504.0), ("float16", 70000.0), ("float16", float("inf")), ("bool", 5)])
def test_numbers_that_overflow_the_dtype_as_pytorch(dtype, value):
    """fill_, item assignment and clamp bounds check a number against the tensor's dtype as
    PyTorch does: an error where it overflows (uint8 fill_(300) wrote 44, int8 t[0] = -129 wrote
    127), a wrapped value where PyTorch wraps (uint8 -1 is 255), inf for float16 item assignment."""
    torch = pytest.importorskip("torch")

    def results(lib: Any) -> list[Any]:
        dt = getattr(lib, dtype)
        out = []
        for f in (lambda t: t.fill_(value), lambda t: t.__setitem__(0, value),
                  lambda t: t.__setitem__(lib.tensor([0, 2]), value),
                  lambda t: t.clamp(min=value), lambda t: t.clamp_max(value),
                  lambda t: t.clamp_(max=value)):
            t = lib.tensor([1, 2, 3], dtype=dt)
            try:
                r = f(t)
                out.append(str((r if r is not None else t).tolist()))  # (nan == nan)
            except (RuntimeError, ValueError) as exc:
                assert isinstance(exc, RuntimeError) or lib is tg, exc
                out.append("error")
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning on the way
        ours = results(tg)
    assert ours == results(torch)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "bool"])
def test_index_dtypes_as_pytorch(dtype):
    """Index tensors of int8/int16 are refused as in PyTorch (they were taken as integers while
    index_select's own message said "int64 or int32"); uint8 in getitem is a mask."""
    torch = pytest.importorskip("torch")

    def results(lib: Any) -> list[Any]:
        t = lib.tensor([10.0, 20, 30])
        i = lib.tensor([1, 0, 1], dtype=getattr(lib, dtype))
        out = []
        for f in (lambda: t[i], lambda: t.index_select(0, i), lambda: t.gather(0, i),
                  lambda: t.scatter_add(0, i, lib.ones(3)), lambda: t.index_add(0, i, lib.ones(3))):
            try:
                out.append(f().tolist())
            except (IndexError, TypeError, RuntimeError):
                out.append("error")
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (uint8 masks are deprecated in both)
        assert results(tg) == results(torch)


def test_bool_base_to_a_float_power_as_pytorch():
    """A bool base was kept as an integer power: ``tensor([False, True]) ** -0.5`` gave 0 where
    PyTorch gives inf, and a float exponent that requires grad crashed in backward."""
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        base = lib.tensor([False, True])
        e = lib.tensor([0.5, -2.0], requires_grad=True)
        (base**e).sum().backward()
        out.append(((base ** -0.5).tolist(), (base ** lib.tensor(-1.0)).tolist(),
                    (lib.tensor(False) ** lib.tensor([-1.0, 2.0], dtype=lib.float16)).tolist(),
                    e.grad.tolist()))
    assert out[0] == out[1]


def test_integer_division_by_a_number_that_wraps_to_zero_raises():
    """``int8 // 256``: 256 is 0 in int8, so PyTorch raises ZeroDivisionError; we gave zeros."""
    a = tg.tensor([5, -7, 100], dtype=tg.int8)
    for f in (lambda: a // 256, lambda: a % 256, lambda: a.fmod(256),
              lambda: a.div(256, rounding_mode="floor"), lambda: a.div(-256, rounding_mode="trunc")):
        with pytest.raises(ZeroDivisionError, match="division by zero"):
            f()
    assert (a // 257).tolist() == [5, -7, 100]  # 257 wraps to 1, as in PyTorch


def test_float32_scans_accumulate_in_float64_as_pytorch():
    torch = pytest.importorskip("torch")
    for v in ([1e8, 1, -1e8, 1], [1e-30, 1e-30, 1e30, 1e30]):
        for name in ("cumsum", "cumprod"):
            ours = getattr(tg.tensor(v), name)(0).tolist()
            assert ours == getattr(torch.tensor(v), name)(0).tolist(), (name, v)
    r = np.random.default_rng(0).random(100_000).astype(np.float32)
    assert tg.tensor(r).cumsum(0)[-1].item() == torch.tensor(r).cumsum(0)[-1].item()


def test_float16_avg_pool_sums_in_float32():
    """A 32x32 float16 window was summed in float16: 12 ulp off, PyTorch half an ulp."""
    torch = pytest.importorskip("torch")
    x = (np.random.default_rng(3).random((1, 4, 32, 32)) + 1).astype(np.float16)
    for k, s, p in ((32, 32, 0), (3, 1, 1), (3, 2, 1)):
        ours = F.avg_pool2d(tg.tensor(x), k, s, p).numpy()
        theirs = torch.nn.functional.avg_pool2d(torch.tensor(x), k, s, p).numpy()
        assert np.array_equal(ours, theirs), (k, s, p)


def test_float_sizes_and_paddings_are_refused():
    """Float sizes were truncated (``interpolate(size=2.7)`` gave 2; ``F.pad(x, (0.9, 0))`` padded
    nothing): a TypeError, as PyTorch's."""
    x = tg.ones(1, 1, 3, 3)
    for f in (lambda: F.interpolate(x, size=(2.7, 3)), lambda: F.adaptive_avg_pool2d(x, 1.5),
              lambda: F.adaptive_max_pool2d(x, (2.5, 2)), lambda: F.pad(x, (1.5, 1)),
              lambda: F.pad(x, (True, False)), lambda: F.pad(x, (1.0, 1), mode="reflect"),
              lambda: F.pixel_shuffle(tg.ones(1, 4, 2, 2), 2.0), lambda: x.pad((0.9, 0))):
        with pytest.raises(TypeError, match="must be an int"):
            f()
    assert F.interpolate(x, size=(2, 4)).shape == (1, 1, 2, 4)


def test_pad_value_that_overflows_the_dtype():
    with pytest.raises(RuntimeError, match="cannot be converted to uint8"):
        F.pad(tg.zeros(1, 2, dtype=tg.uint8), (1, 1), value=300)
    with pytest.raises(RuntimeError, match="cannot be converted to float16"):
        F.pad(tg.zeros(1, 2, dtype=tg.float16), (1, 1), value=1e5)


def test_convolution_weights_with_an_empty_dim_are_refused():
    """A weight with 0 output channels failed inside numpy's reshape."""
    x = tg.randn(1, 2, 5, 5)
    for f in (lambda: F.conv2d(x, tg.randn(0, 2, 3, 3)), lambda: nn.Conv2d(2, 0, 3)(x),
              lambda: F.conv_transpose2d(x, tg.randn(2, 0, 3, 3))):
        with pytest.raises(ValueError, match="dim of size 0"):
            f()


def test_inf_and_nan_inputs_give_no_numpy_warnings():
    """PyTorch gives inf/NaN silently; numpy's RuntimeWarnings leaked from avg_pool2d, conv2d
    (also from its pool threads), interpolate and the VJP of x ** x."""
    x = tg.tensor([[[[np.inf, -np.inf], [1.0, 2.0]]]], requires_grad=True)
    big = tg.tensor(np.full((64, 16, 32, 32), np.inf, np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for y in (F.avg_pool2d(x, 2), F.conv2d(x, tg.ones(1, 1, 2, 2)),
                  F.interpolate(x, size=(3, 3), mode="bilinear"), F.adaptive_avg_pool2d(x, 1)):
            y.sum().backward()
        assert np.isinf(F.conv2d(big, tg.ones(16, 16, 3, 3), padding=1).numpy()).all()
        z = tg.tensor([0.0, 2.0], requires_grad=True)
        (z**z).sum().backward()
    assert np.isnan(F.avg_pool2d(x, 2).item())


def test_norm_neither_underflows_nor_overflows():
    """``norm([1e-300])`` in float64 was 0 (gradient 0) and ``norm([-1e308])`` inf; PyTorch gives
    1e-300 and 1e308 (gradients 1 and -1). Where the squares overflow or underflow the norm is
    scaled by the largest entry."""
    torch = pytest.importorskip("torch")
    for v in ([1e-300], [-1e308], [3.0, 4.0], [0.0, 0.0], [np.inf, 1.0]):
        out = []
        for lib in (tg, torch):
            x = lib.tensor(v, dtype=lib.float64, requires_grad=True)
            n = x.norm()
            n.backward()
            out.append(str((n.item(), x.grad.tolist(), x.norm(p=3).item())))
        assert out[0] == out[1], v
    x = tg.tensor([1e200, 1e200], dtype=tg.float64)  # (PyTorch: inf)
    assert x.norm().item() == pytest.approx(np.sqrt(2) * 1e200)
    assert tg.tensor([[1e-30, 0.0], [3.0, 4.0]]).norm(dim=1).tolist() == pytest.approx([1e-30, 5.0])


def test_one_int_sequences_as_both_sizes():
    """``padding=[1]``, ``kernel_size=(2,)``: PyTorch uses the one int for both axes."""
    torch = pytest.importorskip("torch")
    shapes = []
    for lib, fn in ((tg, F), (torch, torch.nn.functional)):
        x, w = lib.ones(1, 1, 4, 4), lib.ones(1, 1, 3, 3)
        shapes.append([tuple(y.shape) for y in (
            fn.conv2d(x, w, padding=[1]), fn.conv2d(x, w, dilation=(2,), padding=(2,)),
            fn.max_pool2d(x, (2,)), fn.avg_pool2d(x, [2]),
            fn.conv_transpose2d(x, w, stride=[2], output_padding=[1]))])
    assert shapes[0] == shapes[1]


def test_numpy_axis_and_keepdims_names_as_pytorch():
    """PyTorch takes numpy's ``axis=``/``keepdims=`` wherever it takes ``dim``/``keepdim``."""
    torch = pytest.importorskip("torch")
    out = []
    for lib in (tg, torch):
        x = lib.tensor([[1.0, 5.0], [3.0, 4.0]])
        out.append([np.asarray(v.tolist()) for v in (
            x.sum(axis=1), x.mean(axis=0, keepdims=True), x.max(axis=1).values, x.std(axis=1),
            x.softmax(axis=1), x.cumsum(axis=0), x.argmax(axis=1), x.amax(axis=0, keepdims=True),
            x.topk(1, axis=1).indices, x.unsqueeze(axis=0), lib.sum(x, axis=0), lib.mean(x, 1,
                                                                                         keepdims=True))])
        with pytest.raises(TypeError):
            x.sum(dim=1, axis=0)
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_pow_exponent_numbers_that_overflow_the_dtype():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        for f in (lambda: lib.tensor([2], dtype=lib.int8) ** 300,
                  lambda: lib.tensor([2.0], dtype=lib.float16) ** 1e10):
            with pytest.raises(RuntimeError, match="cannot be converted"):
                f()
        assert (lib.tensor([2.0]) ** 1e40).tolist() == [float("inf")]  # a float32's is a double
        assert (lib.tensor([2], dtype=lib.uint8) ** 255).tolist() == [0]


def test_an_ellipsis_key_that_selects_one_element():
    """``zeros(3)[..., 0]`` failed in numpy ("an index can only have a single ellipsis")."""
    torch = pytest.importorskip("torch")
    for make, key in ((lambda lib: lib.arange(3.0), (Ellipsis, 0)),
                      (lambda lib: lib.arange(6.0).reshape(2, 3), (1, Ellipsis, 2)),
                      (lambda lib: lib.tensor(2.0), (Ellipsis,)),
                      (lambda lib: lib.arange(3.0), (Ellipsis, 1))):
        ours, theirs = make(tg)[key], make(torch)[key]
        assert ours.shape == () and ours.item() == theirs.item(), key
    assert tg.arange(3.0)[..., tg.tensor(1)].item() == 1.0
    x = tg.arange(3.0, requires_grad=True)
    h = x * 1
    h[..., 1].mul_(5)  # a view, written through
    (h * 1).sum().backward()
    assert h.tolist() == [0.0, 5.0, 2.0] and x.grad.tolist() == [1.0, 5.0, 1.0]


def test_numpy_arrays_share_memory_not_the_array_object():
    """Setting ``.shape`` or ``.dtype`` of ``t.numpy()``, ``np.asarray(t)`` or the array given to
    ``from_numpy`` reshaped the tensor itself (PyTorch's tensors keep their own metadata)."""
    t = tg.arange(6.0)
    a = t.numpy()
    b = np.asarray(t)
    with warnings.catch_warnings():  # (numpy 2.5 deprecates setting them; users still do)
        warnings.simplefilter("ignore", DeprecationWarning)
        a.shape = (2, 3)
        b.dtype = np.int32
        assert t.shape == (6,) and t.dtype == np.float32
        a[0, 0] = 9
        assert t[0].item() == 9  # the memory is still shared
        src = np.arange(6.0)
        u = tg.from_numpy(src)
        src.shape = (2, 3)
        src[1, 2] = -1
        assert u.shape == (6,) and u[5].item() == -1
        x = tg.arange(6.0, requires_grad=True)
        y = x.exp()
        y.detach().numpy().shape = (6, 1)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(np.arange(6.0)), rtol=1e-6)


def test_scatter_takes_a_0d_tensor_as_its_value():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        assert lib.zeros(3).scatter_(0, lib.tensor([1]), lib.tensor(5.0)).tolist() == [0, 5, 0]
    v = tg.tensor(5.0, requires_grad=True)  # (one that requires grad gets its gradient)
    tg.zeros(3).scatter(0, tg.tensor([1]), v).sum().backward()
    assert v.grad.item() == 1.0
    with pytest.raises(RuntimeError, match="0-d src"):  # (two indices: PyTorch refuses too)
        tg.zeros(3).scatter(0, tg.tensor([1, 2]), v)


def test_float16_gelu_tanh_gradient_at_large_inputs():
    """x³ and x² of |x| >= 256 overflow float16: the gradient was NaN (PyTorch: 1 and 0)."""
    torch = pytest.importorskip("torch")
    v = np.array([200, 256, 1000, -1e4, -88, 0.5, 3, -2], np.float16)
    for approximate in ("tanh", "none"):
        x, xt = Tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        F.gelu(x, approximate=approximate).sum().backward()
        torch.nn.functional.gelu(xt, approximate=approximate).sum().backward()
        assert x.grad.tolist() == xt.grad.tolist(), approximate


def test_dropout_of_an_integer_tensor_is_refused_while_training():
    """The 1/(1-p) scale was truncated into the integers (PyTorch refuses)."""
    for f in (F.dropout, F.dropout2d):
        with pytest.raises(RuntimeError, match="floating-point"):
            f(tg.ones(2, 2, 2, dtype=tg.int64), p=0.3)
        assert f(tg.ones(2, 2, 2, dtype=tg.int64), p=0.3, training=False).dtype == np.int64


def test_class_loss_target_shape_errors_name_both_shapes():
    with pytest.raises(ValueError, match=r"input of shape \(5, 4\) needs a target of shape \(5,\)"):
        F.cross_entropy(tg.randn(5, 4), tg.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match=r"needs a 0-d target"):  # PyTorch: "0D or 1D target"
        F.cross_entropy(tg.randn(4), tg.tensor([[2]]))
    assert np.isfinite(F.cross_entropy(tg.randn(4), tg.tensor([2])).item())


def test_creation_reads_data_as_pytorch_does():
    """One-element tensors in a list are numbers (a (2, 1) tensor came out), ranges are ints
    (float32 came out; a bare range was refused), Tensor(x.size()) is a tensor of that shape (a
    1-D tensor of the sizes came out), big-endian arrays are read in native order (backward
    crashed), and the dtypes PyTorch has no rules for are refused (uint64 + int64 was float64)."""
    torch = pytest.importorskip("torch")
    for make in (lambda lib: lib.tensor([lib.tensor([1.0]), lib.tensor([2.0])]),
                 lambda lib: lib.tensor([range(2), range(2)]), lambda lib: lib.tensor(range(3)),
                 lambda lib: lib.tensor([lib.tensor(1), 2])):
        ours, theirs = make(tg), make(torch)
        assert (ours.tolist(), str(ours.dtype), tuple(ours.shape)) == (
            theirs.tolist(), str(theirs.dtype).replace("torch.", ""), tuple(theirs.shape))
    assert tg.Tensor(tg.zeros(2, 3).size()).shape == tuple(torch.Tensor(torch.zeros(2, 3).size())
                                                           .shape)  # (PyTorch's: uninitialised)
    with pytest.raises(ValueError, match="only one-element tensors"):
        tg.tensor([tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])])
    t = tg.tensor(np.array([1.0, 2.0], dtype=">f4"), requires_grad=True)
    (t * t).sum().backward()
    assert t.dtype == tg.float32 and t.grad.tolist() == [2.0, 4.0]
    for dt in (np.longdouble, np.uint16, np.uint32, np.uint64):
        if np.dtype(dt).itemsize <= 8 and np.dtype(dt).kind == "f":
            continue  # (a platform whose long double is a double)
        with pytest.raises(TypeError, match="not supported"):
            tg.tensor(np.array([1, 2], dtype=dt))
    assert repr(tg.zeros(0, 3)) == "tensor([], size=(0, 3))"


def test_sizes_and_dtypes_are_checked_where_pytorch_checks_them():
    with pytest.raises(TypeError, match="matmul: expected one dtype"):
        tg.ones(2, 3) @ tg.ones(3, 2, dtype=tg.float64)  # (it promoted silently)
    for f in (lambda: tg.zeros(6).reshape(2.9, 3), lambda: tg.zeros(6).view(2.9, 3),
              lambda: tg.zeros(6).expand(1.5, 6), lambda: tg.zeros(2, 3).sum(1.5)):
        with pytest.raises(TypeError, match="must be an int"):
            f()
    with pytest.raises(ValueError, match="expand: sizes must be >= 0"):
        tg.zeros(3, 1).expand(3, -2)


def test_porting_forms_of_tensor_methods():
    """view(dtype), to(other, non_blocking=, copy=), stride(), element_size(), short/char/byte,
    equal, fliplr/flipud, unflatten, concat, finfo/iinfo: as PyTorch."""
    torch = pytest.importorskip("torch")
    rows = []
    for lib in (tg, torch):
        x = lib.arange(6.0).reshape(2, 3)
        v16 = x.view(lib.float16)
        rows.append([tuple(x.view(lib.int32).shape), tuple(v16.shape), v16.requires_grad,
                     x.to(x, non_blocking=True, copy=True) is x, x.stride(), x.t().stride(),
                     x.element_size(), x.nelement(), x.ndimension(), str(x.short().dtype),
                     str(x.char().dtype), str(x.byte().dtype), x.equal(x.clone()),
                     x.equal(lib.zeros(3, 2)), x.fliplr().tolist(), x.flipud().tolist(),
                     tuple(lib.arange(6.0).unflatten(0, (2, -1)).shape),
                     lib.concat([x, x]).shape[0], float(lib.finfo(lib.float16).eps),
                     int(lib.iinfo(lib.int8).min), float(lib.finfo().max)])
    rows[1] = [r.replace("torch.", "") if isinstance(r, str) else r for r in rows[1]]
    assert rows[0] == rows[1]


class _RandomItems:
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return np.random.rand()


def test_dataloader_workers_draw_their_own_random_numbers_each_epoch():
    """Forked workers repeated the parent's random state: every worker drew the same numbers,
    every epoch (PyTorch seeds each worker per epoch)."""
    from tinygrad_cnn.data import DataLoader

    loader = DataLoader(_RandomItems(), batch_size=1, num_workers=2)
    first, second = ([b.item() for b in loader] for _ in range(2))
    assert len(set(first)) == 4 and set(first).isdisjoint(second)
    again = DataLoader(_RandomItems(), batch_size=1, num_workers=2, seed=3)
    other = DataLoader(_RandomItems(), batch_size=1, num_workers=2, seed=3)
    assert [b.item() for b in again] == [b.item() for b in other]  # repeatable with a seed


def test_dataloader_keeps_the_history_of_samples_and_takes_batch_size_none():
    from tinygrad_cnn.data import DataLoader, TensorDataset

    w = tg.ones(4, 2, requires_grad=True)
    (b,) = next(iter(DataLoader(TensorDataset(w), batch_size=2)))
    assert b.requires_grad  # (PyTorch's: it was detached)

    class Scaled:
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return w[i] * 2

    next(iter(DataLoader(Scaled(), batch_size=2))).sum().backward()
    assert w.grad.tolist() == [[2.0, 2.0], [2.0, 2.0], [0.0, 0.0], [0.0, 0.0]]
    assert list(DataLoader([1, 2, 3], batch_size=None)) == [1, 2, 3]
    for bad in (2.0, True, 0):
        with pytest.raises(ValueError, match="positive integer"):
            DataLoader([1], batch_size=bad)


def test_deepcopy_as_pytorch():
    """A computed tensor's deepcopy copied its graph (the gradient went to a hidden copy of the
    leaf); views lost their aliasing; a copied Parameter kept .grad."""
    import copy

    a = tg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(a * 3)
    v = tg.arange(6.0).reshape(2, 3)
    c = copy.deepcopy([v, v[:, 1]])
    c[0][0, 1] = 100
    assert c[1].tolist() == [100.0, 4.0] and v[0, 1].item() == 1.0
    lin = nn.Linear(2, 1)
    lin(tg.ones(1, 2)).sum().backward()
    twin = copy.deepcopy(lin)
    assert twin.weight.grad is None and isinstance(twin.weight, nn.Parameter)
    assert not np.shares_memory(twin.weight.numpy(), lin.weight.numpy())
    t = tg.ones(3, requires_grad=True)
    (t * 2).sum().backward()
    assert copy.deepcopy(t).grad.tolist() == [2.0, 2.0, 2.0]  # (a tensor keeps it, as PyTorch)


# ----------------------------------------------- a tester attacking this round's own fixes
def test_inplace_ops_on_views_save_the_view_itself():
    """exp_/sigmoid_/relu_ on a view kept a private copy of their result: later changes through
    the base, the view, .data or detach() were neither seen nor refused (silently stale)."""
    torch = pytest.importorskip("torch")

    def run(lib, prog):
        x = lib.tensor(np.array([0.6, 1.1, 2.1]), requires_grad=True)
        try:
            prog(lib, x * 1)
            return np.round(x.grad.tolist(), 4).tolist()
        except RuntimeError:
            return "error"

    def detach_zero(lib, h):
        v = h[1:]
        v.exp_()
        v.detach().zero_()
        v.sum().backward()

    def data_mul(lib, h):
        h.view(3, 1).exp_()
        h.data.mul_(2)
        h.sum().backward()

    def base_write(lib, h):
        h[1:].sigmoid_()
        h[0].mul_(3)
        h.sum().backward()

    def between_backwards(lib, h):
        v = h[1:]
        v.exp_()
        s = v.sum()
        s.backward(retain_graph=True)
        with lib.no_grad():
            v.mul_(2)
        s.backward()

    for prog in (detach_zero, data_mul, base_write, between_backwards):
        assert run(tg, prog) == run(torch, prog), prog.__name__


def test_a_function_output_that_is_its_input_cannot_change_in_place_while_recording():
    class Tail(Function):
        @staticmethod
        def forward(ctx, a):
            return a[1:]

        @staticmethod
        def backward(ctx, g):
            return tg.cat([g[:1] * 0, g])

    x = tg.tensor(np.array([0.6, 1.1]), requires_grad=True)
    h = x * 1
    y = Tail.apply(h)
    for change in (lambda: y.mul_(2), lambda: y.__setitem__(0, 1.0)):
        with pytest.raises(RuntimeError, match="returned an input"):
            change()
    with tg.no_grad():
        y.mul_(2)  # (allowed outside recording, as in PyTorch)
    assert h.tolist() == [0.6, 2.2]
    z = Tail.apply(h).clone()
    z.mul_(2)


def test_numbers_checked_and_wrapped_as_pytorch_second_round():
    torch = pytest.importorskip("torch")

    def outcomes(lib):
        out = []
        for f in (lambda: lib.zeros(2, dtype=lib.uint8).fill_(255.9),
                  lambda: lib.zeros(2, dtype=lib.uint8).fill_(-0.5),
                  lambda: lib.zeros(2, dtype=lib.int8).fill_(-127.5),
                  lambda: lib.tensor([2.0], dtype=lib.float16).pow(2**31),
                  lambda: lib.tensor([1, 2]).clamp(1e39),
                  lambda: lib.where(lib.tensor([False, True]),
                                    lib.tensor(np.array([3, 2], np.uint8)), 300),
                  lambda: lib.tensor([3, 2]) < 2**63,
                  lambda: lib.tensor([1, 2], dtype=lib.int8) * 2**63,
                  lambda: lib.zeros(3, dtype=lib.uint8).masked_fill(lib.tensor([True, False,
                                                                                False]), -1),
                  lambda: lib.zeros(3, dtype=lib.uint8).index_fill(0, lib.tensor([1]), -1),
                  lambda: lib.zeros(3, dtype=lib.uint8).scatter(0, lib.tensor([1]), -1)):
            try:
                out.append(f().tolist())
            except RuntimeError:
                out.append("error")
        return out

    assert outcomes(tg) == outcomes(torch)
    assert F.pad(tg.zeros(2), (1, 1), value=2**64).tolist()[0] == float(2**64)


def test_autograd_api_second_round():
    torch = pytest.importorskip("torch")
    rows = []
    for lib in (tg, torch):
        x = lib.tensor(np.array([0.6, 1.1, 2.1]), requires_grad=True)
        (x * x).sum().backward(inputs=[x, x])  # once, not twice
        row = [np.round(x.grad.tolist(), 6).tolist()]
        x = lib.tensor(np.array([0.6, 1.1, 2.1]), requires_grad=True)
        h = x * 2
        y = (h * h).sum()
        y.backward(inputs=[h], retain_graph=True)
        y.backward()  # h keeps its gradient from then on
        row.append(np.round(h.grad.tolist(), 6).tolist())
        with lib.inference_mode():
            with lib.enable_grad():
                row.append((x * 2).requires_grad)
            row.append(lib.is_inference_mode_enabled())
        u = lib.ones(2, requires_grad=True)
        row.append([g.tolist() for g in lib.autograd.grad((x * 2).sum(), [x, u],
                                                          materialize_grads=True)])
        row.append(tuple(lib.zeros(6).reshape(lib.tensor(2), 3).shape))
        row.append(tuple(lib.cat([lib.ones(1, 2), lib.zeros(1, 2)], axis=0).shape))
        row.append(tg.tensor(tg.zeros(2, 3).size()).tolist() if lib is tg
                   else torch.tensor(torch.zeros(2, 3).size()).tolist())
        rows.append(row)
    assert rows[0] == rows[1]


def test_norm_gradient_is_scaled_with_the_norm():
    """The value was scaled against overflow but the gradient was not: NaN at 1e13 in float32."""
    x = tg.tensor(np.array([1e13, 2e13], np.float32), requires_grad=True)
    x.norm(p=4).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.array([1, 8]) / 17**0.75, rtol=1e-5)
    z = tg.tensor(np.array([3.0, -4.0, 0.0]), requires_grad=True)
    z.norm(p=-1).backward()  # N = 0 (a zero element, p < 0): no gradient, as PyTorch
    assert np.abs(z.grad.numpy()).tolist() == [0.0, 0.0, 0.0]


def test_elementwise_edges_third_round():
    """float16 // a number float16 cannot hold rounded the number first (43 // 0.1 gave 430,
    PyTorch 429); ** by an odd integer float32 cannot hold lost the sign of a negative base;
    isclose of bools ignored atol."""
    torch = pytest.importorskip("torch")
    rows = []
    for lib in (tg, torch):
        h = lib.tensor([43.0, 7.0, 2048.0], dtype=lib.half)
        rows.append([(h // 0.1).tolist(), (h // 0.7).tolist(), (h // 2049).tolist(),
                     lib.div(h, 0.1, rounding_mode="floor").tolist(),
                     (lib.tensor([-1.0, -2.0]) ** 16777217.0).tolist(),
                     (lib.tensor([-1, -2]) ** 16777217.0).tolist(),
                     lib.isclose(lib.tensor([True]), lib.tensor([False]), atol=1).tolist()])
    assert rows[0] == rows[1]


def test_float16_sums_over_any_dim_accumulate_in_float32():
    """numpy adds float16 along a non-last axis in float16: ones((4096, 3)).sum(0) stopped at
    2048, and so did every broadcast gradient (a Linear or Conv2d bias, y * w, a batched matmul's
    weight)."""
    torch = pytest.importorskip("torch")
    rows = []
    for lib in (tg, torch):
        lin = lib.nn.Linear(3, 2).half()
        lin(lib.ones(4096, 3, dtype=lib.float16)).sum().backward()
        x = lib.ones(4096, 3, 2, dtype=lib.float16)
        w = lib.ones(3, 2, dtype=lib.float16, requires_grad=True)
        (lib.ones(4096, 1, 3, dtype=lib.float16) @ w).sum().backward()
        rows.append([lin.bias.grad.tolist(), x.sum(0)[0, 0].item(), x.sum((0, 2)).tolist(),
                     w.grad.tolist()])
    assert rows[0] == rows[1]


def test_an_empty_ellipsis_separates_no_index_arrays():
    """x[:, [0, 1], ..., [0, 1]] on 3 dims: numpy moves the index arrays to the front (values
    transposed, silently); PyTorch's empty Ellipsis separates nothing. And x[0] = tensor([5.])
    failed in numpy outside recording (PyTorch drops the leading 1s)."""
    torch = pytest.importorskip("torch")
    a = np.arange(24.0).reshape(2, 3, 4)
    rows = []
    for lib in (tg, torch):
        x = lib.tensor(a, requires_grad=True)
        y = x[:, [0, 1], ..., [0, 1]]
        (y * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        z = lib.zeros(2, 3, 4)
        z[:, [0, 1], ..., [0, 1]] = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
        w = lib.zeros(3)
        w[0] = lib.tensor([5.0])
        rows.append([y.tolist(), x.grad[x.grad != 0].tolist(), z[z != 0].tolist(), w.tolist(),
                     x[..., 0].shape[0], x[0, ..., 1].tolist()])
    assert rows[0] == rows[1]


def test_ints_beyond_pytorchs_range_and_exact_integer_isclose():
    """A Python int below -2**63 or from 2**64 on wrapped silently (x < -2**63 - 1 was all True,
    int8 == 2**64 compared with 0); isclose of int64 computed in float32; F.pad's value is a
    double (uint8 with -1 is an error there, as in PyTorch); where with a float16 tensor takes a
    number beyond its range as inf."""
    torch = pytest.importorskip("torch")

    def outcomes(lib, fn):
        out = []
        for f in (lambda: lib.tensor([0, 1, 5]) < -2**63 - 1,
                  lambda: lib.tensor([0, 1, 5], dtype=lib.int8) == 2**64,
                  lambda: lib.tensor([0, 1, 5]) + 2**64, lambda: lib.zeros(3).fill_(2**64),
                  lambda: lib.isclose(lib.tensor([2**62, 3]), lib.tensor([2**62 + 1, 3]), rtol=0,
                                      atol=0),
                  lambda: fn.pad(lib.zeros(2, dtype=lib.uint8), (1, 0), value=-1),
                  lambda: fn.pad(lib.zeros(2), (1, 1), value=2**64),
                  lambda: lib.where(lib.tensor([True, False]), lib.zeros(2, dtype=lib.half),
                                    70000.0)):
            try:
                out.append(f().tolist())
            except (OverflowError, RuntimeError) as exc:
                out.append(type(exc).__name__)
        return out

    assert outcomes(tg, F) == outcomes(torch, torch.nn.functional)


def test_outsider_pass_on_backward_inputs_requires_grad_and_workers():
    """backward(inputs=[y]) on a non-leaf that retains its gradient doubled y.grad; setting
    requires_grad on any non-leaf (True too) or to a non-bool is PyTorch's error; a DataLoader
    with workers over tensors that require grad hung on a pickling error in the worker."""
    torch = pytest.importorskip("torch")
    rows = []
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        (y * y).sum().backward(inputs=[y, y, x])
        rows.append((y.grad.tolist(), x.grad.tolist()))
        z = x * 2
        with pytest.raises(RuntimeError):
            z.requires_grad = True
    assert rows[0] == rows[1]
    with pytest.raises(TypeError, match="must be a bool"):
        tg.ones(2).requires_grad = 1
    from tinygrad_cnn.data import DataLoader, TensorDataset

    with pytest.raises(RuntimeError, match="require grad"):
        list(DataLoader(TensorDataset(tg.ones(4, 2, requires_grad=True) * 2), batch_size=2,
                        num_workers=2))


def test_norm_of_empty_rows_keeps_pytorchs_shape():
    """Found by the last long fuzz run: the overflow rescaling of norm ran on an empty input and
    broke its shape ((2, 2) for (2, 1)) or raised a broadcasting error."""
    torch = pytest.importorskip("torch")
    for shape, dim in (((2, 1, 0), -1), ((2, 0), 1), ((0, 3), 0)):
        for p, keepdim in ((2, False), (3, True)):
            ours = tg.zeros(*shape, dtype=tg.float16).norm(p=p, dim=dim, keepdim=keepdim)
            theirs = torch.zeros(*shape, dtype=torch.float16).norm(p=p, dim=dim, keepdim=keepdim)
            assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("shape, dim", [((16, 16), None), ((16, 16), 1), ((3, 4, 5), (0, 2)),
                                        ((1000, 3), 0), ((7,), 0), ((), None)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_mean_is_numpys_mean_bit_for_bit_and_pytorchs_to_rounding(dtype, shape, dim, keepdim):
    """Mean sums through the ufunc itself (float16 in float32) and divides once -- numpy's mean
    without its Python layer; the values stay numpy's exactly, but for a float32 sum numpy adds
    one element at a time over more than 64 (the (1000, 3) mean over dim 0), accumulated in
    float64 and rounded once (s45, t196)."""
    from tinygrad_cnn.ops.reduce import SEQUENTIAL_MAX, sequential_count

    torch = pytest.importorskip("torch")
    x = np.asarray(np.random.default_rng(1).standard_normal(shape) * 100).astype(dtype)
    ours = Tensor(x).mean(dim, keepdim=keepdim).numpy()
    axes = (dim,) if isinstance(dim, int) else dim
    if dtype == "float32" and sequential_count(x, axes) > SEQUENTIAL_MAX:
        wide = np.add.reduce(x, axis=dim, dtype=np.float64, keepdims=keepdim).astype(np.float32)
        np.testing.assert_array_equal(ours, wide / np.float32(x.size // max(wide.size, 1)))
    else:
        np.testing.assert_array_equal(ours, np.asarray(x.mean(axis=dim, keepdims=keepdim)))
    theirs = torch.from_numpy(x).mean(() if dim is None else dim, keepdim=keepdim).numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64),
                               rtol=2e-3 if dtype == "float16" else 1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "uint8"])
@pytest.mark.parametrize("value", [1e5, 1e300, 300, -1, 1e39, float("inf")])
@pytest.mark.parametrize("recorded", [False, True])
def test_setitem_of_a_number_overflows_as_pytorch(dtype, value, recorded):
    """float32 t[0] = 1e300 wrote inf; PyTorch (and our own fill_) refuse it; float16 takes inf."""
    torch = pytest.importorskip("torch")
    floating = dtype.startswith("float")
    ours = tg.zeros(2, dtype=getattr(tg, dtype), requires_grad=recorded and floating) * 1
    theirs = torch.zeros(2, dtype=getattr(torch, dtype), requires_grad=recorded and floating) * 1
    try:
        theirs[0] = value
    except RuntimeError:
        with pytest.raises(RuntimeError, match="cannot be converted"):
            ours[0] = value
        return
    ours[0] = value
    assert ours.tolist() == theirs.tolist()


_BOOL_POWS = {"b ** True": lambda lib, b: b**True, "b ** False": lambda lib, b: b**False,
              "b ** b": lambda lib, b: b**b, "True ** b": lambda lib, b: True**b,
              "b ** 2": lambda lib, b: b**2, "2 ** b": lambda lib, b: 2**b,
              "b ** 0.5": lambda lib, b: b**0.5}


@pytest.mark.parametrize("case", list(_BOOL_POWS))
def test_pow_of_bools_as_pytorch(case):
    """bool ** True is bool (was int8); a bool base with a bool tensor exponent is PyTorch's
    NotImplementedError (was int8)."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tg, torch):
        try:
            out = _BOOL_POWS[case](lib, lib.tensor([True, False]))
            results.append((out.tolist(), str(out.dtype).replace("torch.", "")))
        except NotImplementedError:
            results.append("error")
    assert results[0] == results[1]


def test_empty_index_results_are_copies_and_unrepeating_expands_are_views():
    """Found by an outside tester's random programs: an empty result of an index array or an
    all-False mask was taken for a view of its source (an in-place op on it refused, a later
    in-place op on the source a false version error in backward); an expand() that repeats no
    element (new leading dims of size 1) was read-only. Both as PyTorch now."""
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        x = lib.tensor(np.ones((2, 3)), requires_grad=True)
        x[lib.tensor(np.zeros((2, 3), dtype=bool))].add_(1.0)
        x.index_select(1, lib.tensor(np.array([], dtype=np.int64))).add_(1.0)
    grads = []
    for lib in (tg, torch):
        x = lib.tensor(np.ones((2, 3)), requires_grad=True)
        h = x * 1
        s = h[:, lib.tensor(np.array([], dtype=np.int64))].sin()
        h.add_(1.0)
        (s.sum() + h.sum()).backward()
        x2 = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        h2 = x2 * 1
        h2.expand(1, 2, 3).mul_(2)
        (h2 * h2).sum().backward()
        with pytest.raises(RuntimeError):  # one that repeats elements stays refused, as PyTorch
            (x2 * 1).expand(2, 2, 3).mul_(2)
        grads.append((x.grad.tolist(), x2.grad.tolist(), h2.tolist()))
    assert grads[0] == grads[1]
