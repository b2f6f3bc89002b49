"""The first-order VJPs on arrays (``autograd.first_order``: ``backward()`` without
``create_graph``, every training step) against the Tensor expressions they shortcut (the same VJP
recorded, with ``create_graph=True``): the same bits, special values included (0, ±1, ±inf, NaN,
large, tiny), in float32 and float64, for contiguous and strided inputs. The Tensor expressions
are the ones gradcheck, gradgradcheck and the PyTorch fuzzer check; this keeps the shortcut equal
to them."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 1e-30, -1e-30, 1e30, -1e30, 88.0, -88.0,
           np.inf, -np.inf, np.nan, 0.999, -0.999, 1.5, 7.25, -12.5, 0.125, 3e-8]

UNARY = {
    "sin": lambda x: x.sin(), "cos": lambda x: x.cos(), "tan": lambda x: x.tan(),
    "asin": lambda x: x.asin(), "acos": lambda x: x.acos(), "atan": lambda x: x.atan(),
    "sinh": lambda x: x.sinh(), "cosh": lambda x: x.cosh(), "asinh": lambda x: x.asinh(),
    "acosh": lambda x: x.acosh(), "atanh": lambda x: x.atanh(), "log1p": lambda x: x.log1p(),
    "expm1": lambda x: x.expm1(), "log2": lambda x: x.log2(), "log10": lambda x: x.log10(),
    "exp2": lambda x: x.exp2(), "reciprocal": lambda x: x.reciprocal(),
    "rsqrt": lambda x: x.rsqrt(), "erf": lambda x: x.erf(), "erfc": lambda x: x.erfc(),
    "exp": lambda x: x.exp(), "log": lambda x: x.log(), "sqrt": lambda x: x.sqrt(),
    "abs": lambda x: x.abs(),
}


def _inputs(dtype: str) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    special = np.array(SPECIAL, dtype=dtype)
    grid = np.stack([special, special[::-1] * 0.75, np.roll(special, 5)])  # (3, 24)
    plain = rng.standard_normal((4, 6)).astype(dtype)
    return [special, grid, grid.T, plain[:, ::2], np.asarray(plain[0, 0])]


def _grads(fn, arrays, g_arrays, create_graph):
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    gs = tg.autograd.grad(out, xs, tg.tensor(g_arrays), create_graph=create_graph,
                          allow_unused=True)
    return [None if g is None else g.detach().numpy() for g in gs]


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _same(fn, *arrays, layout=True):
    with np.errstate(all="ignore"):
        shape = fn(*[tg.tensor(a) for a in arrays]).shape
        rng = np.random.default_rng(1)
        g = rng.standard_normal(shape).astype(arrays[0].dtype)
        if g.size > 2:
            g.flat[:3] = [np.inf, np.nan, 0.0]
        for grad in (g, np.ones(shape, arrays[0].dtype)):
            fast = _grads(fn, arrays, grad, False)
            slow = _grads(fn, arrays, grad, True)
            for f, s in zip(fast, slow):
                if f is None or s is None:
                    assert f is None and s is None
                    continue
                assert f.dtype == s.dtype and f.shape == s.shape
                if layout and all(a.flags.c_contiguous for a in arrays):  # (where it runs; other
                    assert f.strides == s.strides  # layouts: see autograd.first_order)
                np.testing.assert_array_equal(_bits(f), _bits(s))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_first_order_is_the_tensor_vjp(name, dtype):
    for x in _inputs(dtype):
        _same(UNARY[name], x)


BINARY = {
    "div": lambda x, y: x / y, "atan2": lambda x, y: tg.atan2(x, y),
    "hypot": lambda x, y: tg.hypot(x, y), "div by a number": lambda x, y: x / 3.0 + y / 0.1,
    "lerp by a number": lambda x, y: tg.lerp(x, y, 0.3) + tg.lerp(y, x, 0.75),
    "pow": lambda x, y: x**2 + y**3 + x**0.5 + y**-0.5 + x**-1 + y**1.5 + x**-2 + y**1,
    "square": lambda x, y: x.square() + y**2.0,
    "mul": lambda x, y: x * y + x * 3.0 + 0.5 * y + x * x,
    "sub": lambda x, y: (x - y) * y - (2.0 - x) + (y - x.sum()) + (-x) * (-y),
    "remainder and fmod": lambda x, y: (x % y) * x + tg.fmod(x, y) + tg.remainder(2.0, y),
    "pow by a tensor": lambda x, y: x ** y + y.abs() ** x + x ** (y * 0 + 0.5) + (x * 0) ** y.abs(),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_first_order_is_the_tensor_vjp(name, dtype):
    xs = _inputs(dtype)
    for x, y in zip(xs, xs[1:] + xs[:1]):
        if x.shape != y.shape:
            y = np.broadcast_to(np.resize(y, x.shape), x.shape).copy()
        _same(BINARY[name], x, y)
        _same(BINARY[name], x, x)  # (one tensor twice)


ACTIVATIONS = {
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2), "gelu": lambda x: F.gelu(x),
    "gelu tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": lambda x: F.silu(x),
    "softplus": lambda x: F.softplus(x) + F.softplus(x, beta=2.0, threshold=2.0),
    "softplus at its threshold": lambda x: F.softplus(x, beta=1.0, threshold=7.25),
    "mish": lambda x: F.mish(x), "hardswish": lambda x: F.hardswish(x),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_first_order_is_the_tensor_vjp(name, dtype):
    for x in _inputs(dtype) + [np.array([-3.0, 3.0, -2.999, 2.999, 20.0, -20.0, 20.5], dtype)]:
        _same(ACTIVATIONS[name], x)


def _image(dtype, shape=(3, 4, 5, 6), strided=False):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    return np.swapaxes(np.swapaxes(x, 2, 3).copy(), 2, 3) if strided else x


NORMS = {
    "layer_norm": lambda x, w, b: F.layer_norm(x, x.shape[-1:], w, b),
    "layer_norm over two dims": lambda x, w, b: F.layer_norm(x, x.shape[-2:]),
    "batch_norm": lambda x, w, b: F.batch_norm(x, None, None, w[: x.shape[1]], b[: x.shape[1]],
                                               training=True),
    "group_norm": lambda x, w, b: F.group_norm(x, 2, w[: x.shape[1]], b[: x.shape[1]]),
    "instance_norm": lambda x, w, b: F.instance_norm(x, weight=w[: x.shape[1]],
                                                     bias=b[: x.shape[1]], eps=0.0),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(NORMS))
def test_norm_first_order_is_the_tensor_vjp(name, dtype):
    rng = np.random.default_rng(3)
    for x in (_image(dtype), _image(dtype, strided=True), _image(dtype, (2, 4, 6, 6))[..., ::2]):
        x = x.copy() if name == "group_norm" else x
        x[0, 1] = 7.0  # a constant channel (instance norm with eps=0: the degenerate case)
        w = rng.standard_normal(x.shape[-1:] if "layer" in name else (6,)).astype(dtype)
        b = rng.standard_normal(w.shape).astype(dtype)
        if name == "batch_norm":
            _same(NORMS[name], x[:, :, 0, 0].copy(), w, b)  # (N, C) too
        if name == "layer_norm over two dims":
            _same(lambda x: NORMS[name](x, None, None), x)
            continue
        _same(NORMS[name], x, w, b)


def _targets(dtype):
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((6, 5)).astype(dtype)
    logits[0, 0], logits[1, 2] = np.inf, np.nan
    return logits, rng.integers(0, 5, 6), rng.random((6, 5)).astype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_first_order_is_the_tensor_vjp(reduction, dtype):
    logits, target, probs = _targets(dtype)
    t = tg.tensor(target)
    w = tg.tensor(np.linspace(0.5, 2.0, 5).astype(dtype))
    pos = tg.tensor(np.array([2.0], dtype))
    t_ignored = tg.tensor(np.where(target == target[2], -100, target))
    cases = [
        lambda x: F.nll_loss(x, t, reduction=reduction),
        lambda x: F.nll_loss(x, t, weight=w, reduction=reduction),
        lambda x: F.nll_loss(x, t_ignored, reduction=reduction),
        lambda x: F.nll_loss(x, t_ignored, weight=w, reduction=reduction),
        lambda x, y: F.mse_loss(x, y, reduction=reduction),
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction),
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, weight=w, reduction=reduction),
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, pos_weight=pos, reduction=reduction),
    ]
    for case in cases:
        if case.__code__.co_argcount == 2:
            _same(case, logits, probs)
            _same(case, logits.T.copy().T, probs[:, ::-1])
        else:
            _same(case, logits)
    _same(lambda x: F.nll_loss(x, tg.tensor(target[:0]), reduction=reduction), logits[:0])


def test_first_order_records_no_nodes(monkeypatch):
    """The shortcut is taken: a first-order backward through these ops applies no op at all
    (each used to record 2 to 9 nodes of its VJP's expression)."""
    from tinygrad_cnn import autograd

    x = tg.tensor(np.linspace(0.1, 0.9, 12).reshape(3, 4), requires_grad=True)
    y = tg.tensor(np.linspace(1.1, 2.0, 12).reshape(3, 4), requires_grad=True)
    t = tg.tensor(np.array([0, 3, 1]))
    graphs = [x.sin(), x.acos(), x.erf(), x**2, x / y, x * y, tg.atan2(x, y), F.gelu(x),
              F.silu(x), F.mish(x), F.layer_norm(x, (4,), y[0], y[1]), F.nll_loss(x, t),
              F.mse_loss(x, y), F.binary_cross_entropy_with_logits(x, y.detach() / 2)]
    graphs = [out.sum() for out in graphs] + [x.exp().mean(), x.log().sum(0).sum()]
    calls = []
    real = autograd.Function.apply.__func__
    monkeypatch.setattr(autograd.Function, "apply",
                        classmethod(lambda cls, *a, **k: calls.append(cls) or real(cls, *a, **k)))
    for out in graphs:
        out.backward()
    assert [c.__name__ for c in calls] == []


def test_merging_paths_add_as_the_add_op():
    """Where paths merge, a first-order backward adds the two gradients on the arrays: the same
    bits as the add a recorded backward makes, and the sum a leaf receives."""
    rng = np.random.default_rng(5)
    for dtype in ("float32", "float64"):
        a = rng.standard_normal((5, 7)).astype(dtype)
        _same(lambda x: x.sin() * x.exp() + x.tanh() / 3 + x[1:].sum(), a)
        x = tg.tensor(a, requires_grad=True)
        (x * 1.5 + x.exp()).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.exp(a) + np.asarray(1.5, dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_expand_first_order_is_the_tensor_vjp(dtype):
    """Broadcasting's VJP (a sum over the expanded dims), reached by every broadcast operand."""
    rng = np.random.default_rng(6)
    a = rng.standard_normal((1, 5, 1)).astype(dtype)
    b = rng.standard_normal((3, 1, 4)).astype(dtype)
    _same(lambda x, y: x * y + x.expand(2, 3, 5, 4).sum(0) - y, a, b)
    _same(lambda x: x.expand(3, 5, 4).exp(), a)
    _same(lambda x: x.broadcast_to((6, 5, 7)).sum(), a)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_movement_first_order_is_the_recorded_vjp(dtype):
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 4, 5)).astype(dtype)
    for fn in (lambda x: x.reshape(12, 5).exp(), lambda x: x.permute(2, 0, 1).exp(),
               lambda x: x.transpose(0, 2).sum(0), lambda x: x.flip(0, 2).exp(),
               lambda x: x.flip(1) * x, lambda x: x.roll(2, 1).exp(),
               lambda x: x.roll((1, -2), (0, 2)) * x, lambda x: x.rot90(1, (1, 2)).exp(),
               lambda x: x.flatten(1).t().exp(), lambda x: x.repeat(2, 1, 3).exp(),
               lambda x: x.repeat_interleave(2, dim=1) * 2.0, lambda x: x.tile(2, 1).sum(0),
               lambda x: x.tril(1).exp(), lambda x: x.triu(-1) * x, lambda x: x.diagonal(0, 1, 2).exp(),
               lambda x: tg.diag_embed(x, 1).sum(1), lambda x: tg.stack([x, x * 2], 1).exp(),
               lambda x: tg.dstack([x[0], x[1]]).exp(), lambda x: F.pad(x, (1, 2, 0, 1)).exp(),
               lambda x: F.pad(x, (1, 2), value=3.0) * 2.0):
        # (the layout of autograd.grad's result through a view of a sum's broadcast gradient
        # differs with create_graph -- as before the shortcut; a leaf's .grad is C either way)
        _same(fn, a, layout=False)
        _same(fn, np.swapaxes(a, 0, 1).copy().swapaxes(0, 1), layout=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_vector_products_first_order_is_the_recorded_vjp(dtype):
    rng = np.random.default_rng(11)
    m = rng.standard_normal((3, 5)).astype(dtype)
    v3, v5 = (rng.standard_normal(n).astype(dtype) for n in (3, 5))
    m.flat[:3] = [np.inf, np.nan, 0.0]
    _same(lambda a, b: a @ b, m, v5)  # matrix · vector
    _same(lambda a, b: a @ b, v3, m)  # vector · matrix
    _same(lambda a, b: tg.dot(a, b), v5, m[0].copy())
    _same(lambda a, b: tg.outer(a, b), v3, v5)
    _same(lambda a, b: a @ b, m[:, ::2], v3)  # a strided matrix
    _same(lambda a, b: tg.outer(a, b).exp() @ b, v3, v5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_batched_products_first_order_is_the_recorded_vjp(dtype):
    rng = np.random.default_rng(12)
    a, b = rng.standard_normal((2, 3, 4)).astype(dtype), rng.standard_normal((2, 4, 5)).astype(dtype)
    m = rng.standard_normal((4, 5)).astype(dtype)
    a.flat[:3] = [np.inf, np.nan, 0.0]
    _same(lambda x, y: tg.bmm(x, y), a, b)
    _same(lambda x, y: x @ y, a, m)  # a broadcast batch: the expand's sum
    _same(lambda x, y: x.mT @ y.mT, b, a)  # transposed operands
    _same(lambda x, y: tg.einsum("bij,bjk->bik", x, y), a, b)
    _same(lambda x, y: tg.einsum("bij,jk->ik", x, y), a, m, layout=False)  # (a sum's broadcast:
    # see test_movement_first_order_is_the_recorded_vjp)
    _same(lambda x, y, z: tg.einsum("bij,bjk,kl->bil", x, y, z), a, b, m.T.copy())
    _same(lambda x, y: tg.tensordot(x, y, ([2], [1])), a, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pool_and_resample_first_order_is_the_recorded_vjp(dtype):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    cases = [lambda t: F.avg_pool2d(t, 2), lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True),
             lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False),
             lambda t: F.avg_pool2d(t, 2, divisor_override=3),
             lambda t: F.adaptive_avg_pool2d(t, (3, 4)), lambda t: F.adaptive_avg_pool2d(t, 1),
             lambda t: F.interpolate(t, scale_factor=2),
             lambda t: F.interpolate(t, size=(9, 5), mode="bilinear"),
             lambda t: F.interpolate(t, size=(4, 11), mode="bilinear", align_corners=True)]
    for case in cases:
        _same(case, x)
        _same(lambda t: case(t).exp(), x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reduction_first_order_is_the_recorded_vjp(dtype):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((4, 5, 3)).astype(dtype)
    x[0, 0, 0], x[1, :, 2] = 0.0, 2.5  # a zero, and a constant row (std 0 there)
    x[2, 1, 1] = -0.0
    cases = [lambda t: t.var(), lambda t: t.var(1), lambda t: t.var((0, 2), correction=0),
             lambda t: t.var(2, keepdim=True, correction=3), lambda t: t.std(),
             lambda t: t.std(1), lambda t: t.std((0, 2), correction=0),
             lambda t: t.std(2, correction=5), lambda t: t.norm(), lambda t: t.norm(dim=1),
             lambda t: t.norm(dim=(0, 2), keepdim=True), lambda t: t[1:2, :, 2].norm(),
             lambda t: t.logsumexp(1), lambda t: t.logsumexp((0, 2), keepdim=True),
             lambda t: t.cumsum(0), lambda t: t.cumsum(2), lambda t: t.cumsum(1) * t,
             lambda t: t.norm(p=1), lambda t: t.norm(p=1, dim=1), lambda t: t.norm(1, (0, 2), True)]
    for case in cases:
        _same(case, x)
        _same(lambda t: case(t).exp(), x)
    _same(lambda t: t.norm(), np.zeros((3, 2), dtype))
    _same(lambda t: t.norm(p=1, dim=1), np.array([[np.nan, 1.0], [-0.0, -np.inf]], dtype))
    _same(lambda t: t.logsumexp(0), np.array([[-np.inf, 1.0], [-np.inf, np.inf]], dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cumprod_first_order_is_pytorchs_formula(dtype):
    """(cumprod's recorded VJP takes another formula, on purpose: see prod's test below) The
    first-order VJP without zeros along the last dim, on the arrays, against PyTorch's formula
    ``reverse_cumsum(g * out) / x`` as Tensor ops."""
    from tinygrad_cnn.ops.reduce import _reverse_cumsum

    rng = np.random.default_rng(13)
    for x in (rng.standard_normal((3, 6)).astype(dtype) + 3, rng.uniform(0.5, 2, (2, 3, 5)).astype(dtype),
              np.array([[1e30, 1e30, 2.0], [np.inf, 1.0, -2.0]], dtype)):
        g = rng.standard_normal(x.shape).astype(dtype)
        t = tg.tensor(x, requires_grad=True)
        out = t.cumprod(-1)
        (fast,) = tg.autograd.grad(out, [t], tg.tensor(g))
        with tg.no_grad(), np.errstate(all="ignore"):
            want = _reverse_cumsum(tg.tensor(g) * out.detach(), x.ndim - 1) / tg.tensor(x)
        np.testing.assert_array_equal(_bits(fast.numpy()), _bits(want.numpy()))
        assert fast.numpy().strides == want.numpy().strides


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_first_order_is_the_recorded_vjp(dtype):
    """t130: the recorded VJP took the softmax op of the logits, the first-order one the exp of
    the log-softmax: 1-2 ulp apart. Both take exp(log_softmax) now (PyTorch's formula)."""
    logits, target, probs = _targets(dtype)
    logits = np.nan_to_num(logits)
    t = tg.tensor(target)
    w = tg.tensor(np.linspace(0.5, 2.0, 5).astype(dtype))
    t_ignored = tg.tensor(np.where(target == target[2], -100, target))
    for reduction in ("mean", "sum", "none"):
        for kwargs in ({}, {"weight": w}, {"label_smoothing": 0.1}, {"ignore_index": -100}):
            target_t = t_ignored if kwargs.get("ignore_index") else t
            _same(lambda x: F.cross_entropy(x, target_t, reduction=reduction, **kwargs), logits)
            _same(lambda x: F.cross_entropy(x * 3.0, target_t, reduction=reduction, **kwargs),
                  logits)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prod_first_order_is_pytorchs_formula(dtype):
    """prod without zeros: ``g * out / x`` on the arrays, as the Tensor expression it replaces
    computed it (the recorded VJP takes the product of the others instead, by design: see
    Prod), and as PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    x = (rng.random((3, 4)) + 0.5).astype(dtype)
    special = np.array([[2.0, np.inf, 3.0], [np.nan, 1.0, 1e-30]], dtype)
    for a, dim in ((x, None), (x, 1), (x * 40.0, None), (special, 0), (special, 1)):
        ours = tg.tensor(a, requires_grad=True)
        theirs = torch.tensor(a, requires_grad=True)
        (ours.prod() if dim is None else ours.prod(dim)).sum().backward()
        (theirs.prod() if dim is None else theirs.prod(dim)).sum().backward()
        with tg.no_grad():
            out = ours.prod() if dim is None else ours.prod(dim, keepdim=True)
            want = (out.expand(*a.shape) / ours).numpy()
        np.testing.assert_array_equal(ours.grad.numpy(), want)
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


def test_norm_means_are_numpys():
    """The normalisation layers' means skip numpy's Python layer: the same bits as ``mean``."""
    from tinygrad_cnn.ops.reduce import array_mean  # (the norms' means: ops/norm.py calls it)

    def _mean(a, dims):
        return array_mean(a, dims, True)

    rng = np.random.default_rng(11)
    for dtype in ("float16", "float32", "float64"):
        y = (rng.standard_normal((3, 5, 4, 70)) * 100 + 3).astype(dtype)
        for dims in ((0,), (1,), (3,), (0, 2, 3), (1, 2, 3), (2, 3), ()):
            for a in (y, y.transpose(0, 3, 1, 2)):
                np.testing.assert_array_equal(_mean(a, dims), a.mean(axis=dims, keepdims=True))
