"""The forty-fifth session: add, sub, mul and div broadcast their operands themselves (one node,
their VJPs summing each gradient back to its operand's shape, as PyTorch's do) -- checked against
finite differences and PyTorch, at every order, with views and in-place changes; and the fixes
of the day's outside testers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_cnn as tg

F = tg.nn.functional

_OPS = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
        "div": lambda x, y: x / y}
_SHAPES = [((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((3, 4), ()), ((), (3, 4)),
           ((1,), (3, 4)), ((2, 1, 4), (3, 1)), ((0, 3), (3,)), ((3, 1), (1, 0)), ((1, 1), (2, 3))]


def _operands(rng, sa, sb, dtype):
    a = rng.standard_normal(sa).astype(dtype)
    b = (rng.uniform(0.5, 2.0, sb) * rng.choice([-1, 1], sb)).astype(dtype)  # (a divisor)
    return a, b


@pytest.mark.parametrize("op", list(_OPS))
def test_broadcasting_binary_ops_are_one_node_with_gradients_of_each_operands_shape(op):
    rng = np.random.default_rng(1)
    for sa, sb in _SHAPES:
        A, B = _operands(rng, sa, sb, np.float64)
        a, b = tg.Tensor(A, requires_grad=True), tg.Tensor(B, requires_grad=True)
        out = _OPS[op](a, b)
        # one node whose edges are the leaves themselves: no expand node in between
        assert out.grad_fn.name == op
        assert all(e is a or e is b for e in out.grad_fn.next)
        if out.numel():  # (an empty output: nothing to check, gradcheck says so)
            assert tg.gradcheck(_OPS[op], (a, b))
            assert tg.gradgradcheck(_OPS[op], (a, b))
        g = rng.standard_normal(out.shape)
        out.backward(tg.Tensor(g))
        assert a.grad.shape == a.shape and b.grad.shape == b.shape


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_broadcasting_binary_ops_match_pytorch_to_third_order(dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    tol = 2e-2 if dtype == np.float16 else 1e-5
    for (sa, sb), op in itertools.product(_SHAPES, _OPS):
        A, B = _operands(rng, sa, sb, dtype)
        f = _OPS[op]
        a, b = tg.Tensor(A, requires_grad=True), tg.Tensor(B, requires_grad=True)
        ta, tb = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
        out, tout = f(a, b), f(ta, tb)
        G = rng.standard_normal(tuple(tout.shape)).astype(dtype)
        ours = tg.autograd.grad(out, (a, b), tg.Tensor(G), create_graph=True)
        theirs = torch.autograd.grad(tout, (ta, tb), torch.tensor(G), create_graph=True)
        for x, y in zip(ours, theirs):
            assert x.dtype == dtype and x.shape == tuple(y.shape)
            np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=tol, atol=tol)
        if dtype != np.float64:
            continue
        # second and third order through the sums back to each operand's shape
        s = (ours[0] ** 2).sum() + (ours[1] ** 3).sum()
        ts = (theirs[0] ** 2).sum() + (theirs[1] ** 3).sum()
        assert s.requires_grad == ts.requires_grad
        if not s.requires_grad:  # (add's and sub's gradients are constants)
            continue
        second = tg.autograd.grad(s, (a, b), create_graph=True, allow_unused=True)
        tsecond = torch.autograd.grad(ts, (ta, tb), create_graph=True, allow_unused=True)
        for x, y in zip(second, tsecond):
            if y is None:
                assert x is None or not np.any(x.detach().numpy())
                continue
            np.testing.assert_allclose(x.detach().numpy(), y.detach().numpy(), rtol=1e-9,
                                       atol=1e-12)
        live = [(x, y) for x, y in zip(second, tsecond) if x is not None and x.requires_grad]
        if live:
            third = tg.autograd.grad(sum((x * x).sum() for x, _ in live), (a, b),
                                     allow_unused=True)
            tthird = torch.autograd.grad(sum((y * y).sum() for _, y in live), (ta, tb),
                                         allow_unused=True)
            for x, y in zip(third, tthird):
                if y is not None:
                    np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-9, atol=1e-12)


def test_broadcast_operand_promoted_then_summed_in_the_wider_dtype():
    """float16 beside float64: cast first, the broadcast gradient summed in float64 and rounded
    once to float16 (as PyTorch's)."""
    a = tg.Tensor(np.full((4096,), 1.0, np.float64), requires_grad=True)
    h = tg.Tensor(np.array([1.0], np.float16), requires_grad=True)
    (a * h).sum().backward()
    assert h.grad.dtype == np.float16 and float(h.grad.numpy()[0]) == 4096.0
    b = tg.Tensor(np.array([1 + 1e-9, -1.0]), requires_grad=True)
    y = tg.Tensor(np.array([1.0], np.float32), requires_grad=True)
    (b * y).sum().backward()
    assert y.grad.dtype == np.float32 and y.grad.numpy()[0] == np.float32((1 + 1e-9) - 1.0)  # (not 0)


def test_broadcast_operand_changed_in_place_and_views_keep_pytorch_gradients():
    torch = pytest.importorskip("torch")

    def prog(lib, X, W):
        x = lib.tensor(X, requires_grad=True) if lib is torch else lib.Tensor(X, requires_grad=True)
        w = lib.tensor(W, requires_grad=True) if lib is torch else lib.Tensor(W, requires_grad=True)
        h = x * 1
        h[0:2] *= w  # a broadcast operand into a view, in place
        v = h.t()
        v.add_(w[:, None] * 0 + 1)  # through a transpose view, broadcast again
        out = (h * w - w / (h * h + 1)).sum()
        out.backward()
        return x.grad, w.grad

    rng = np.random.default_rng(3)
    X, W = rng.standard_normal((3, 3)), rng.standard_normal(3)
    for ours, theirs in zip(prog(tg, X, W), prog(torch, X, W)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_saved_small_operand_changed_in_place_is_still_refused():
    w = tg.Tensor(np.ones(3), requires_grad=True)
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    c = w * 1
    out = (x * c).sum()
    c.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.backward()


# ------------------------------------------------------------------ t191: porting real models
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_class_target_tensor_must_be_long_or_byte_as_in_pytorch(loss):
    """An int32 target tensor was accepted: code written against ours failed in PyTorch."""
    x = tg.Tensor(np.log(np.full((2, 3), 1 / 3)), requires_grad=True)
    fn = getattr(F, loss)
    for dt in (np.int8, np.int16, np.int32):
        with pytest.raises(RuntimeError, match=rf"{loss}: .*int64 \(long\) or uint8.*target.long\(\)"):
            fn(x, tg.Tensor(np.array([0, 2], dt)))
    for dt in (np.int64, np.uint8):
        assert np.isclose(fn(x, tg.Tensor(np.array([0, 2], dt))).item(), np.log(3))


def test_layer_argument_errors_are_also_runtime_errors_as_pytorchs():
    with pytest.raises(RuntimeError, match="Unflatten: cannot split dim 1"):
        tg.nn.Unflatten(1, (3, 20))(tg.ones(2, 3, 20))
    with pytest.raises(ValueError, match="Unflatten"):  # (still a ValueError: the package's rule)
        tg.nn.Unflatten(1, (3, 20))(tg.ones(2, 3, 20))
    with pytest.raises(AttributeError, match="conv_transpose1d and conv_transpose2d are"):
        tg.nn.Conv3d()


# ------------------------------------------------------------------ t193: the README, literally
def test_the_gallery_page_shows_todays_vjps():
    """docs/backprop.html embeds each op's VJP source and docstring; the page had not been
    redrawn after conv2d's VJP changed, so it showed old code (t193). Every frame of the
    committed page is today's (``python docs/make_gallery.py`` redraws it)."""
    import json
    import re
    from pathlib import Path

    from tinygrad_cnn import viz

    page = (Path(__file__).resolve().parents[1] / "docs" / "backprop.html").read_text()
    found = re.search(r'<script type="application/json" id="frames">(.*?)</script>', page, re.S)
    committed = json.loads(found.group(1))
    today = viz.animate(viz.lenet5_loss(batch=2)).frames
    assert len(committed) == len(today) == 13
    for old, new in zip(committed, today):
        assert old.keys() == new.keys()
        for key in old:
            if key != "source":  # (the line of the script that drew it)
                assert old[key] == new[key], (old["op"], key)


# ------------------------------------------------------------------ t192: higher-order gradients
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_var_and_std_of_equal_elements_are_exactly_zero_and_stds_gradient_there_zero(dtype):
    """The mean of three 0.1s rounds (0.1 + 1.4e-17): std was 1.7e-17, not PyTorch's 0, and its
    gradient -0.41 per element where PyTorch's is 0 (t192)."""
    for value in (0.1, 1 / 3, -7.3, 6e4 if dtype == np.float16 else 1e10):
        x = tg.Tensor(np.full((2, 3), value, dtype), requires_grad=True)
        for fn in (lambda t: t.var(1), lambda t: t.std(1), lambda t: t.var(),
                   lambda t: t.std(0, correction=0), lambda t: tg.std_mean(t, 1)[0]):
            assert not np.any(fn(x).detach().numpy())
        x.std(1).sum().backward()
        assert not np.any(x.grad.numpy())
    # not constant: values as before (as PyTorch's, float32 computed in float64)
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    for shape, dim in [((5, 7), 1), ((5, 7), 0), ((3, 4, 5), (0, 2)), ((6,), None)]:
        data = (rng.standard_normal(shape) * 3 + 1e4).astype(dtype)
        ours = tg.Tensor(data).var(dim) if dim is not None else tg.Tensor(data).var()
        theirs = torch.tensor(data).var(dim) if dim is not None else torch.tensor(data).var()
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(),
                                   rtol={np.float64: 1e-10, np.float32: 1e-5, np.float16: 5e-2}[dtype])


def test_adaptive_avg_pool_of_a_bin_summing_to_zero_is_exactly_zero():
    """A bin's mean was the mean of its rows' means, rounded twice: 3.7e-17 for a bin of exact
    values summing to 0 (PyTorch: 0), so a relu after it passed a gradient PyTorch's blocks."""
    x = np.array([[1.0, 1.0, -1.0], [0.5, 0.5, 0.5], [0.0, -1.0, 0.5], [-1.0, -1.0, 0.0],
                  [0.5, 1.0, 1.0]])[None, None]
    t = tg.Tensor(x, requires_grad=True)
    y = F.adaptive_avg_pool2d(t, (2, 1))
    assert y.numpy().ravel()[1] == 0.0 and y.numpy().ravel()[0] == pytest.approx(2 / 9)
    F.relu(y).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy()[0, 0, 3:], 0.0)  # (only in the second bin)
    rng = np.random.default_rng(5)
    for _ in range(300):
        h, w = int(rng.integers(2, 9)), int(rng.integers(2, 9))
        out = (int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1)))
        data = rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], size=(1, 2, h, w))
        got = F.adaptive_avg_pool2d(tg.Tensor(data), out).numpy()
        for i in range(out[0]):
            for j in range(out[1]):
                r0, r1 = i * h // out[0], -(-(i + 1) * h // out[0])
                c0, c1 = j * w // out[1], -(-(j + 1) * w // out[1])
                exact = data[:, :, r0:r1, c0:c1].sum((2, 3))  # (exact: multiples of 0.5)
                np.testing.assert_array_equal(got[:, :, i, j], exact / (r1 - r0) / (c1 - c0))


def test_small_max_pool_matches_pytorch_bit_for_bit_with_ties_zeros_nan_and_inf():
    """A small input's windows that tile it go through one argmax (5 numpy calls, not 4 per
    kernel offset): values (the sign of a tied zero too), indices and gradients as PyTorch's."""
    torch = pytest.importorskip("torch")
    from tinygrad_cnn.ops import pool

    rng = np.random.default_rng(6)
    for it in range(400):
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        shape = (int(rng.integers(0, 3)), int(rng.integers(1, 3)), int(rng.integers(k[0], 9)),
                 int(rng.integers(k[1], 9)))
        data = rng.integers(-2, 3, shape).astype(np.float64)
        kind = it % 4
        if kind == 1:
            data[rng.random(shape) < 0.2] = np.nan
        elif kind == 2:
            data[rng.random(shape) < 0.4] = -np.inf
        elif kind == 3:
            data = np.where(rng.random(shape) < 0.5, -0.0, 0.0)
        dtype = (np.float32, np.float64, np.float16)[it % 3]
        data = data.astype(dtype)
        assert data.size <= pool.SMALL_POOL
        ceil = bool(it % 5 == 0)
        a, ta = tg.Tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
        out, idx = F.max_pool2d(a, k, ceil_mode=ceil, return_indices=True)
        tout, tidx = torch.nn.functional.max_pool2d(ta, k, ceil_mode=ceil, return_indices=True)
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(tg.Tensor(g))
        tout.backward(torch.tensor(g))
        o, to = out.detach().numpy(), tout.detach().numpy()
        np.testing.assert_array_equal(o, to)
        np.testing.assert_array_equal(np.signbit(o), np.signbit(to))
        np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
        np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())


# ------------------------------------------------------------------ t194: the day's changes
def test_a_subtracted_broadcast_operand_gets_pytorchs_sign_of_zero():
    """The broadcast sub summed its gradient, then negated it: -0 where PyTorch's sum of -0s is
    +0 (t194). (A negative alpha still scales after the sum, as before: -0 there.)"""
    torch = pytest.importorskip("torch")
    for alpha in (1, 2.0):
        a, b = tg.Tensor(np.ones((2, 2)), requires_grad=True), tg.Tensor(np.ones(2), requires_grad=True)
        ta, tb = torch.ones(2, 2, dtype=torch.float64, requires_grad=True), \
            torch.ones(2, dtype=torch.float64, requires_grad=True)
        for create in (False, True):
            ours = tg.autograd.grad(tg.sub(a, b, alpha=alpha), (a, b), tg.zeros(2, 2, dtype=tg.float64),
                                    create_graph=create)
            theirs = torch.autograd.grad(torch.sub(ta, tb, alpha=alpha), (ta, tb),
                                         torch.zeros(2, 2, dtype=torch.float64), create_graph=create)
            for x, y in zip(ours, theirs):
                np.testing.assert_array_equal(np.signbit(x.detach().numpy()), np.signbit(y.detach().numpy()))


def test_bool_subtraction_and_float_kernel_sizes_raise_pytorchs_classes():
    for other in (tg.ones(2, dtype=tg.bool), True):
        with pytest.raises(RuntimeError, match="sub: subtraction"):  # (was a plain TypeError)
            tg.ones(2) - other
        with pytest.raises(TypeError, match="sub: subtraction"):
            tg.ones(2) - other
    x = tg.ones(1, 1, 4, 4)
    for k in (2.0, (2.0, 2), "2", (2, "a")):
        with pytest.raises(TypeError, match="max_pool2d: kernel_size must be an int"):
            F.max_pool2d(x, k)
    with pytest.raises(TypeError, match="kernel_size"):
        tg.nn.Conv2d(3, 3, 2.5)
    with pytest.raises(RuntimeError, match="kernel_size must be an int or an \\(h, w\\) pair"):
        F.max_pool2d(x, (2, 2, 2))  # (a wrong count: PyTorch's RuntimeError, as before)


@pytest.mark.parametrize("bad", ["cuda:x", "cuda:-1", "cuda:", "cpu:a"])
def test_a_malformed_device_index_is_named_as_such(bad):
    """'cuda:x' was read as 'cuda' and reported as not available (t194)."""
    with pytest.raises(ValueError, match=f"invalid device string '{bad}'"):
        tg.zeros(2, device=bad)
    assert tg.zeros(2, device="cpu:0").device == "cpu"


# ------------------------------------------------------------------ t195: the Tensor API, swept
@pytest.mark.parametrize("op", ["sum", "mean", "prod", "all", "any", "std", "var", "nansum",
                                "amax", "amin", "argmax", "argmin", "logsumexp", "norm"])
def test_keepdim_must_be_a_bool(op):
    """A string keepdim crashed inside numpy's reductions for some ops and was read as True by
    others (t195); numpy's bool is one."""
    x = tg.ones(2, 3) if op not in ("all", "any") else tg.ones(2, 3, dtype=tg.bool)
    fn = (lambda **kw: x.norm(dim=1, **kw)) if op == "norm" else \
        (lambda **kw: getattr(x, op)(1, **kw))
    with pytest.raises(TypeError, match=r"keepdim must be a bool \(True or False\), got str 'yes'"):
        fn(keepdim="yes")
    with pytest.raises(RuntimeError, match="keepdim must be a bool"):
        fn(keepdim="yes")
    assert fn(keepdim=np.True_).shape == (2, 1) and fn(keepdim=False).shape == (2,)


def test_cross_wants_three_along_dim_in_both_inputs():
    with pytest.raises(ValueError, match="dimension 0 of both inputs must have size 3, got 3 and 1"):
        tg.cross(tg.ones(3, 1), tg.ones(1, 4), dim=0)
    with pytest.raises(TypeError, match="cross: not implemented for bool"):
        tg.cross(tg.ones(2, 3, dtype=tg.bool), tg.ones(2, 3, dtype=tg.bool), dim=1)
    a = tg.Tensor(np.array([[1.0, 0, 0]]), requires_grad=True)
    assert tg.cross(a, tg.Tensor(np.array([[0.0, 1, 0], [0, 0, 1]])), dim=1).tolist() == \
        [[0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]  # (broadcast along another dim: as before)
    with pytest.raises(TypeError, match="vdot: other must be a Tensor, got int"):
        tg.ones(3).vdot(2)


# ------------------------------------------------------------------ t196: accuracy against exact
def test_float32_sums_along_a_non_inner_dim_are_accumulated_wide_when_long():
    """numpy adds one value at a time along any dim but its inner loop's: 10,000 rows of 0.1
    summed over dim 0 gave 999.9029 (1,591 ulp; PyTorch 2.8 ulp). Past 64 such additions the sum
    is accumulated in float64 and rounded once; up to 64, numpy's own bits (LeNet-5's batch)."""
    from tinygrad_cnn.ops.reduce import SEQUENTIAL_MAX, sequential_count

    x = np.full((10_000, 2), 0.1, np.float32)
    exact = 10_000 * np.float64(np.float32(0.1))
    ulp = np.spacing(np.float32(exact))
    assert abs(tg.Tensor(x).sum(0).numpy()[0] - exact) <= ulp
    assert abs(tg.Tensor(x).mean(0).numpy()[0] - exact / 10_000) <= np.spacing(np.float32(0.1))
    lin = tg.nn.Linear(2, 3)
    lin(tg.Tensor(x, requires_grad=True)).sum().backward()  # (the bias gradient: a sum over rows)
    assert lin.bias.grad.tolist() == [10_000.0] * 3
    rng = np.random.default_rng(7)
    for shape, dim in [((64, 30), (0,)), ((3, 64, 5), (0, 1)), ((65, 7), (0,)), ((300, 4, 6), (0, 2)),
                       ((50, 40), (1,))]:
        a = rng.standard_normal(shape).astype(np.float32)
        exact = np.add.reduce(a.astype(np.float64), axis=dim)
        ours = tg.Tensor(a).sum(dim).numpy()
        assert np.max(np.abs(ours - exact)) <= 8 * np.spacing(np.float32(np.abs(exact).max()))
        if sequential_count(a, dim) <= SEQUENTIAL_MAX:
            np.testing.assert_array_equal(ours, np.add.reduce(a, axis=dim))  # (numpy's bits)
    assert sequential_count(np.ones((5, 6, 7), np.float32), (1, 2)) == 0  # (trailing: pairwise)
    assert sequential_count(np.ones((5, 6, 7), np.float32), (0, 2)) == 5
    assert sequential_count(np.ones((5, 6, 7), np.float32).transpose(2, 1, 0), (0,)) == 0


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_eval_batch_norm_centres_first_and_computes_half_in_float32(dtype):
    """Eval mode was x * (w rstd) + (b - mean w rstd) in the input's dtype: float16 inputs near
    1000 came out 16% off and the weight's gradient, rstd (Σ g x - mean Σ g), NaN (t196)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    data = (1000 + 2 * rng.standard_normal((64, 2, 4, 4))).astype(dtype)
    mean, var = np.array([1000.0, 999.0], dtype), np.array([4.0, 3.0], dtype)
    w, b = np.array([1.5, -0.5], dtype), np.array([0.1, 0.2], dtype)
    x, wt, bt = (tg.Tensor(a, requires_grad=True) for a in (data, w, b))
    y = F.batch_norm(x, tg.Tensor(mean), tg.Tensor(var), wt, bt, training=False)
    y.sum().backward()
    ref = {k: torch.tensor(v.astype(np.float64), requires_grad=k in "xwb")
           for k, v in dict(x=data, m=mean, v=var, w=w, b=b).items()}
    ty = torch.nn.functional.batch_norm(ref["x"], ref["m"], ref["v"], ref["w"], ref["b"])
    ty.sum().backward()
    tol = 2e-3 if dtype == np.float16 else 1e-5
    assert y.dtype == dtype and np.all(np.isfinite(wt.grad.numpy()))
    np.testing.assert_allclose(y.numpy().astype(np.float64), ty.detach().numpy(), atol=tol * 3)
    np.testing.assert_allclose(wt.grad.numpy(), ref["w"].grad.numpy(), rtol=tol)
    np.testing.assert_allclose(bt.grad.numpy(), ref["b"].grad.numpy(), rtol=tol)
    np.testing.assert_allclose(x.grad.numpy(), ref["x"].grad.numpy(), rtol=tol)


def test_float16_norms_with_weight_and_bias_round_once():
    """x̂ was rounded to float16 before x̂ * weight + bias, which then cancelled against the bias:
    1,465 ulp off where PyTorch's is 0.34 (t196). The affine is in float32 now, rounded once:
    within half an ulp of the exact result (PyTorch's float16 batch norm: 8.8 ulp here)."""
    rng = np.random.default_rng(9)
    data = rng.standard_normal((4, 12)).astype(np.float16)
    w = rng.uniform(0.5, 1.5, 12).astype(np.float16)
    b = rng.standard_normal(12).astype(np.float16)
    cases = [lambda x, w, b: F.layer_norm(x, (12,), w, b),
             lambda x, w, b: F.group_norm(x.reshape(4, 12, 1), 3, w, b).reshape(4, 12),
             lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)]
    for fn in cases:
        ours = fn(*(tg.Tensor(a) for a in (data, w, b)))
        exact = fn(*(tg.Tensor(a.astype(np.float64)) for a in (data, w, b))).numpy()
        assert ours.dtype == np.float16
        ulp = np.spacing(np.abs(exact).astype(np.float16)).astype(np.float64)
        assert np.max(np.abs(ours.numpy().astype(np.float64) - exact) / ulp) <= 0.5 + 1e-9


# ------------------------------------------------------------------ t197: threads and processes
def test_set_num_threads_while_other_threads_split_work_never_hangs():
    """set_num_threads joined the old pool while other threads could still submit to it: their
    pieces were queued behind its workers' ends and waited for good (4 of 4 runs of four request
    threads; Ctrl-C could not end it), and a Ctrl-C in the join left a dead pool for every later
    op (t197). The old pool is let go now: queued pieces run, later ones run on their callers."""
    import threading

    from tinygrad_cnn import parallel

    before = tg.get_num_threads()
    stop, done, errors = threading.Event(), [0], []

    def work() -> None:
        try:
            while not stop.is_set():
                out = np.zeros(64)

                def piece(s: int, e: int) -> None:
                    out[s:e] += 1

                parallel.run_chunks(64, piece, nbytes=parallel.MIN_BYTES)
                assert out.sum() == 64  # (every piece ran once)
                done[0] += 1
        except BaseException as exc:  # (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(300):
            tg.set_num_threads(2 + i % 2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        tg.set_num_threads(before)
    assert not any(t.is_alive() for t in threads), "a thread hung in a split op"
    assert not errors and done[0] > 0
    pool = parallel._pool
    tg.set_num_threads(tg.get_num_threads())  # (the same count: the pool stays)
    assert parallel._pool is pool
    with pytest.raises(RuntimeError, match="set_num_threads"):  # (PyTorch's class, t197)
        tg.set_num_threads(0)


# ------------------------------------------------------------------ t198: the late changes
def test_nansum_nanmean_and_expanded_sums_are_accumulated_wide_too():
    """nansum/nanmean took numpy's sum (1,591 ulp off on 10,000 rows of 0.1 over dim 0), and a
    sum over an expand's stride-0 dim was taken for the inner loop's (the same error) -- t198."""
    x = np.full((10_000, 2), 0.1, np.float32)
    exact = 10_000 * np.float64(np.float32(0.1))
    ulp = np.spacing(np.float32(exact))
    assert abs(tg.Tensor(x).nansum(0).numpy()[0] - exact) <= ulp
    assert abs(tg.Tensor(x).nanmean(0).numpy()[0] - exact / 10_000) <= np.spacing(np.float32(0.1))
    expanded = tg.Tensor(np.array([0.1, 0.1], np.float32)).expand(10_000, 2)
    assert np.all(np.abs(expanded.sum(0).numpy() - exact) <= ulp)
    with_nan = x.copy()
    with_nan[5] = np.nan
    assert abs(tg.Tensor(with_nan).nansum(0).numpy()[0] - (exact - np.float64(np.float32(0.1)))) <= ulp


@pytest.mark.parametrize("call", [lambda t, k: t.max(1, keepdim=k), lambda t, k: t.min(1, keepdim=k),
                                  lambda t, k: t.median(1, keepdim=k),
                                  lambda t, k: t.nanmedian(1, keepdim=k),
                                  lambda t, k: t.mode(1, keepdim=k),
                                  lambda t, k: t.quantile(0.5, 1, keepdim=k),
                                  lambda t, k: t.nanquantile(0.5, 1, keepdim=k)])
def test_keepdim_must_be_a_bool_in_the_reductions_without_a_node(call):
    """These read keepdim by its truth: keepdim='False' kept the dim (t198)."""
    t = tg.ones(2, 3)
    for bad in ("False", 1, None, [1]):
        with pytest.raises(TypeError, match="keepdim must be a bool"):
            call(t, bad)
    out = call(t, np.True_)
    assert (out[0] if isinstance(out, tuple) else out).shape == (2, 1)


def test_vdot_names_itself_in_dots_errors():
    with pytest.raises(ValueError, match="vdot: expected two 1-D tensors of one size"):
        tg.ones(3).vdot(tg.ones(4))


# ------------------------------------------------------------------ t199: the last outside look
def test_eval_batch_norm_refuses_a_negative_eps_and_bad_device_strings_are_runtime_errors():
    x = tg.ones(2, 2)
    with pytest.raises(ValueError, match="batch_norm: eps must be non-negative, but got -1.0"):
        F.batch_norm(x, tg.zeros(2), tg.ones(2), training=False, eps=-1.0)  # (was NaN)
    assert F.batch_norm(x, tg.zeros(2), tg.ones(2), training=False, eps=0.0).tolist() == \
        [[1.0, 1.0], [1.0, 1.0]]
    for bad in ("cpu:0:0", "cuda:x", "tpu"):
        with pytest.raises(RuntimeError, match="device"):  # (PyTorch's class; a ValueError too)
            tg.zeros(1, device=bad)
