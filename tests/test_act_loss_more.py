"""The activations, distances and losses added with the margin losses, against PyTorch: values,
result dtypes (float16/32/64) and gradients, at special points (0, ties at thresholds, ±inf, NaN)
on tensors of 80 elements -- PyTorch's vectorised loop, which ours follows where its scalar tail
loop differs --, gradchecks in float64 through tinygrad_cnn's public gradcheck, the in-place
forms, the modules' signatures and reprs, and the errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck, nn

torch = pytest.importorskip("torch")
TF = torch.nn.functional

NAN, INF = math.nan, math.inf
FLOATS = ["float64", "float32", "float16"]
TOL = {"float64": 1e-10, "float32": 2e-6, "float16": 2e-3}
#: the special values, placed in the middle of an 80-element tensor (PyTorch's vectorised loop)
SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 0.5, -0.5, 0.7, -0.7, 0.2, -0.2, 1.0, 2.0, -2.0, 0.3, -0.3]


def special(dtype: str, n: int = 80, seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal(n).astype(dtype)
    a[10:10 + len(SPECIAL)] = SPECIAL
    return a


def close(ours: np.ndarray, theirs: np.ndarray, dtype: str, what: str, tol: float | None = None
          ) -> None:
    o, t = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    assert o.shape == t.shape, f"{what}: shape {o.shape}, PyTorch {t.shape}"
    np.testing.assert_array_equal(np.isnan(o), np.isnan(t), err_msg=f"{what}: NaN positions")
    tol = tol or TOL[dtype]
    np.testing.assert_allclose(o, t, rtol=tol, atol=tol, err_msg=what)


def compare(fo, ft, *arrays, consts=(), dtype=None, seed=1, tol=None):
    """``fo`` on our tensors and ``ft`` on PyTorch's (the arrays requiring grad, ``consts`` not):
    the same value, result dtype and gradients for a random output gradient (``tol``: instead of
    the dtype's tolerance)."""
    dtype = dtype or str(arrays[0].dtype)
    ours = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    yo = fo(*ours, *[Tensor(c) for c in consts])
    yt = ft(*theirs, *[torch.tensor(c) for c in consts])
    assert str(yo.dtype) == str(yt.dtype).replace("torch.", ""), (yo.dtype, yt.dtype)
    close(yo.numpy(), yt.detach().numpy(), dtype, "value", tol)
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(str(yo.dtype))
    go = tg.grad(yo, ours, Tensor(g), allow_unused=True)
    gt = torch.autograd.grad(yt, theirs, torch.tensor(g), allow_unused=True)
    for i, (a, b) in enumerate(zip(go, gt)):
        if a is None and b is None:
            continue
        a = np.zeros(arrays[i].shape) if a is None else a.numpy()
        b = np.zeros(arrays[i].shape) if b is None else b.numpy()
        close(a, b, dtype, f"gradient of input {i}", tol)
    return yo


# ------------------------------------------------------------------------------ activations
ACTIVATIONS = {
    "softsign": (F.softsign, TF.softsign),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "hardshrink": (F.hardshrink, TF.hardshrink),
    "hardshrink_0.3": (lambda x: F.hardshrink(x, 0.3), lambda x: TF.hardshrink(x, 0.3)),
    "hardshrink_0": (lambda x: F.hardshrink(x, 0.0), lambda x: TF.hardshrink(x, 0.0)),
    "hardshrink_negative": (lambda x: F.hardshrink(x, -0.5), lambda x: TF.hardshrink(x, -0.5)),
    "softshrink": (F.softshrink, TF.softshrink),
    "softshrink_0.3": (lambda x: F.softshrink(x, 0.3), lambda x: TF.softshrink(x, 0.3)),
    "softshrink_0": (lambda x: F.softshrink(x, 0.0), lambda x: TF.softshrink(x, 0.0)),
    "threshold": (lambda x: F.threshold(x, 0.5, -3.0), lambda x: TF.threshold(x, 0.5, -3.0)),
    "threshold_0.3": (lambda x: F.threshold(x, 0.3, 20.0), lambda x: TF.threshold(x, 0.3, 20.0)),
    "threshold_nan_value": (lambda x: F.threshold(x, -0.5, NAN),
                            lambda x: TF.threshold(x, -0.5, NAN)),
    "threshold_at_0": (lambda x: F.threshold(x, 0.0, 0.0), lambda x: TF.threshold(x, 0.0, 0.0)),
    "glu": (lambda x: F.glu(x, 0), lambda x: TF.glu(x, 0)),
    "glu_2d": (lambda x: F.glu(x.reshape(8, 10), 0), lambda x: TF.glu(x.reshape(8, 10), 0)),
    "softmin": (lambda x: F.softmin(x.reshape(8, 10), 1), lambda x: TF.softmin(x.reshape(8, 10), 1)),
    "softmin_float64": (lambda x: F.softmin(x.reshape(8, 10), 0, dtype=tg.float64),
                        lambda x: TF.softmin(x.reshape(8, 10), 0, dtype=torch.float64)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_at_special_points(name, dtype):
    fo, ft = ACTIVATIONS[name]
    compare(fo, ft, special(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
def test_rrelu_eval_is_leaky_relu_with_the_mean_slope(dtype):
    # (PyTorch's CPU rrelu refuses float16 even in eval; leaky_relu is what it computes)
    theirs = (lambda x: TF.leaky_relu(x, (0.1 + 0.3) / 2)) if dtype == "float16" else \
        (lambda x: TF.rrelu(x, 0.1, 0.3))
    compare(lambda x: F.rrelu(x, 0.1, 0.3), theirs, special(dtype))
    compare(F.rrelu, TF.rrelu if dtype != "float16" else lambda x: TF.leaky_relu(x, 11 / 48),
            special(dtype))


def test_float16_bounds_round_as_pytorchs_kernels():
    """float16 0.3 is 0.30005: threshold and softshrink compare it in float32 (it is above 0.3),
    hardshrink in float16 (it equals the rounded bound), and softshrink's backward in float16 too
    (a nonzero value with a zero gradient, as PyTorch's)."""
    x = np.full(80, 0.3, np.float16)
    for lambd in (0.3, 0.2999):
        compare(lambda t: F.hardshrink(t, lambd), lambda t: TF.hardshrink(t, lambd), x)
        compare(lambda t: F.softshrink(t, lambd), lambda t: TF.softshrink(t, lambd), x)
        compare(lambda t: F.threshold(t, lambd, -1.0), lambda t: TF.threshold(t, lambd, -1.0), x)
    assert F.threshold(Tensor(x), 0.3, -1.0).numpy()[0] == np.float16(0.3)
    assert F.hardshrink(Tensor(x), 0.3).numpy()[0] == 0
    xs = Tensor(x, requires_grad=True)
    out = F.softshrink(xs, 0.3)
    out.sum().backward()
    assert out.numpy()[0] > 0 and xs.grad.numpy()[0] == 0


def test_threshold_of_integers_truncates_the_threshold():
    for th, value, dtype in [(-0.5, 9, "int64"), (1.5, 2, "int32"), (0.5, -1, "uint8")]:
        x = np.array([0, 1, 2, 3], dtype)
        ours = F.threshold(Tensor(x), th, value)
        theirs = TF.threshold(torch.tensor(x), th, value)
        assert ours.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_values_past_the_dtype_are_refused_as_by_pytorch():
    x16 = Tensor(np.ones(3, np.float16))
    for name, args in (("hardshrink", (65519.0,)), ("threshold", (1.0, 1e6)),
                       ("softshrink", (65519.0,))):
        with pytest.raises(RuntimeError, match="float16"):
            getattr(F, name)(x16, *args)
        with pytest.raises(RuntimeError):
            getattr(TF, name)(torch.ones(3, dtype=torch.float16), *args)
    np.testing.assert_array_equal(F.threshold(x16, 1.0, INF).numpy(), [INF] * 3)
    np.testing.assert_array_equal(F.threshold(x16, 1e5, 1.0).numpy(), [1.0] * 3)


def test_rrelu_training_draws_slopes_from_our_generator():
    x = special("float64")
    xt = Tensor(x, requires_grad=True)
    tg.manual_seed(3)
    out = F.rrelu(xt, 0.1, 0.3, training=True)
    out.backward(Tensor(np.ones(80)))
    slope, grad, y = x.copy(), xt.grad.numpy(), out.numpy()
    neg = x <= 0
    assert ((grad[neg] >= 0.1) & (grad[neg] < 0.3)).all()
    assert (grad[~neg] == 1).all() and grad[10] == 1  # NaN: slope 1, as PyTorch's kernel
    np.testing.assert_array_equal(y[~neg], x[~neg])
    slope = np.where(neg, grad, 1.0)
    finite = np.isfinite(x)
    np.testing.assert_allclose(y[finite], (x * slope)[finite], rtol=1e-15)
    assert y[12] == -INF and np.isnan(y[10])
    tg.manual_seed(3)  # the same seed: the same slopes
    np.testing.assert_array_equal(F.rrelu(Tensor(x), 0.1, 0.3, training=True).numpy(), y)
    assert len({float(s) for s in grad[neg]}) > 10  # one slope per element
    # the slopes' distribution: uniform on [lower, upper)
    tg.manual_seed(0)
    big = F.rrelu(Tensor(-np.ones(20000)), 0.1, 0.3, training=True).numpy()
    assert abs(-big.mean() - 0.2) < 0.003 and -big.max() >= 0.1 and -big.min() < 0.3
    # and PyTorch's slopes follow the same rule (its gradient is its slope)
    xt = torch.tensor(x, requires_grad=True)
    (gt,) = torch.autograd.grad(TF.rrelu(xt, 0.1, 0.3, training=True), xt, torch.ones(80,
                                                                                   dtype=torch.float64))
    assert ((gt.numpy()[neg] >= 0.1) & (gt.numpy()[neg] < 0.3)).all() and gt[10] == 1


def test_rrelu_module_trains_and_evaluates_and_float16_trains():
    m = nn.RReLU(0.1, 0.3)
    x = Tensor(-np.ones(50))
    assert len(set(m(x).numpy().tolist())) > 1
    m.eval()
    np.testing.assert_allclose(m(x).numpy(), -0.2)
    # (PyTorch's CPU kernel has no float16 rrelu while training; ours computes it)
    y = F.rrelu(Tensor(-np.ones(8, np.float16)), training=True)
    assert y.dtype == np.float16 and ((-y.numpy() >= 0.125) & (-y.numpy() < 1 / 3 + 1e-3)).all()
    with pytest.raises(RuntimeError, match="lower"):
        F.rrelu(x, 0.5, 0.1, training=True)
    with pytest.raises(RuntimeError):
        TF.rrelu(torch.ones(2), 0.5, 0.1, training=True)


def test_softmin_implicit_dim_and_softmax2d():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    with pytest.warns(UserWarning, match="softmin"):
        ours = F.softmin(Tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(ours.numpy(), TF.softmin(torch.tensor(x)).numpy(), rtol=1e-12)
    compare(lambda t: nn.Softmax2d()(t), lambda t: torch.nn.Softmax2d()(t), x)
    compare(lambda t: nn.Softmax2d()(t), lambda t: torch.nn.Softmax2d()(t), x[0])
    compare(lambda t: nn.Softmin(2)(t), lambda t: torch.nn.Softmin(2)(t), x)
    compare(lambda t: nn.GLU(1)(t), lambda t: torch.nn.GLU(1)(t), x[:, :2])
    compare(lambda t: nn.LogSoftmax(1)(t), lambda t: torch.nn.LogSoftmax(1)(t), x)
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(Tensor(x[0, 0]))


def _gumbel_noise(shape, seed, dtype="float64"):
    """The Gumbel noise our gumbel_softmax draws after manual_seed(seed)."""
    e = np.random.default_rng(seed).standard_exponential(shape).astype(dtype)
    return -np.log(e)


@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_against_pytorchs_formula_with_our_noise(hard):
    logits = np.random.default_rng(1).standard_normal((6, 5))
    noise = _gumbel_noise((6, 5), 4)

    def theirs(lg):  # torch.nn.functional.gumbel_softmax's code with our draws
        y_soft = ((lg + torch.tensor(noise)) / 0.5).softmax(-1)
        if not hard:
            return y_soft
        index = y_soft.max(-1, keepdim=True)[1]
        y_hard = torch.zeros_like(lg).scatter_(-1, index, 1.0)
        return y_hard - y_soft.detach() + y_soft

    def ours(lg):
        tg.manual_seed(4)
        return F.gumbel_softmax(lg, tau=0.5, hard=hard)

    out = compare(ours, theirs, logits).numpy()
    if hard:  # one-hot values, soft gradients (the straight-through trick)
        assert set(np.unique(out)) <= {0.0, 1.0} and (out.sum(-1) == 1).all()
    else:
        np.testing.assert_allclose(out.sum(-1), 1.0)
    with pytest.warns(UserWarning, match="deprecated"):
        F.gumbel_softmax(Tensor(logits), eps=1e-3)
    out = F.gumbel_softmax(Tensor(logits.astype(np.float16)), dim=0, hard=hard)
    assert out.dtype == np.float16 and np.allclose(out.numpy().astype(float).sum(0), 1, atol=3e-3)


def test_activation_gradchecks_in_float64():
    rng = np.random.default_rng(4)
    x = rng.uniform(-3, 3, (4, 6))
    for kink in (-0.5, 0.5, 0.3):  # away from the thresholds
        x[np.abs(x - kink) < 0.1] += 0.25
    a = Tensor(x, requires_grad=True)
    for f in (lambda t: F.threshold(t, 0.3, -2.0) * t, lambda t: F.hardshrink(t) * t,
              lambda t: F.softshrink(t) * t, F.softsign, F.tanhshrink, lambda t: F.glu(t, 1),
              lambda t: F.softmin(t, 0), lambda t: F.rrelu(t, 0.2, 0.4) * t):
        assert gradcheck(f, (a,)) and gradgradcheck(f, (a,))


def test_activation_errors_name_the_function():
    x = Tensor(np.ones((3, 3)))
    with pytest.raises(RuntimeError, match="dimension 1 .* is size 3"):
        F.glu(x)
    with pytest.raises(RuntimeError, match="scalars"):
        F.glu(Tensor(1.0))
    with pytest.raises(IndexError, match="glu"):
        F.glu(x, 2)
    with pytest.raises(RuntimeError, match="softshrink: lambd"):
        F.softshrink(x, -0.5)
    with pytest.raises(TypeError, match="hardshrink"):
        F.hardshrink(Tensor(np.array([1, 2])))
    with pytest.raises(TypeError, match="threshold"):
        F.threshold(Tensor(np.array([True])), 0.5, 0.0)
    with pytest.raises(TypeError, match="softsign"):
        F.softsign(np.ones(3))


# ------------------------------------------------------------------------------ in place
INPLACE = {
    "relu_": ((), (), "relu"), "elu_": ((0.5,), (0.5,), "elu"),
    "leaky_relu_": ((0.2,), (0.2,), "leaky_relu"), "hardtanh_": ((-0.5, 0.8), (-0.5, 0.8), "hardtanh"),
    "threshold_": ((0.1, 2.0), (0.1, 2.0), "threshold"), "rrelu_": ((0.1, 0.3), (0.1, 0.3), "rrelu"),
    "celu_": ((1.5,), (1.5,), "celu"), "selu_": ((), (), "selu"),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_functions_write_into_their_input(name):
    args_o, args_t, base = INPLACE[name]
    x = np.random.default_rng(2).standard_normal(70)
    x[5:9] = [0.0, NAN, INF, -INF]

    def ours(t):
        h = t * 1
        out = getattr(F, name)(h, *args_o)
        assert out is h and h._version > 0
        return out

    def theirs(t):
        h = t * 1
        assert getattr(TF, name)(h, *args_t) is h
        return h

    compare(ours, theirs, x)
    np.testing.assert_array_equal(getattr(F, name)(Tensor(x.copy()), *args_o).numpy(),
                                  getattr(F, base)(Tensor(x), *args_o).numpy())
    leaf = Tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        getattr(F, name)(leaf, *args_o)
    saved = Tensor(x, requires_grad=True) * 1
    y = saved * saved  # (mul saves its inputs: changing one makes backward refuse)
    getattr(F, name)(saved, *args_o)
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_inplace_modules_and_inplace_rrelu_training():
    x = np.random.default_rng(3).standard_normal(40)
    for ours, theirs in [(nn.Threshold(0.1, 20.0, inplace=True), torch.nn.Threshold(0.1, 20.0, True)),
                         (nn.RReLU(inplace=True).eval(), torch.nn.RReLU(inplace=True).eval())]:
        compare(lambda t, m=ours: m(t * 1), lambda t, m=theirs: m(t * 1), x)
    g = Tensor(x, requires_grad=True)
    h = g * 1
    F.rrelu_(h, 0.1, 0.3, True)
    h.sum().backward()
    neg = x <= 0
    np.testing.assert_allclose(h.detach().numpy()[neg], (x * g.grad.numpy())[neg], rtol=1e-14)


# ------------------------------------------------------------------------------ distances
def _vectors(dtype="float64"):
    x1 = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0], [1e-9, 0, 0], [3e-5, 4e-5, 0],
                   [1.0, -2.0, 0.5], [NAN, 1.0, 2.0], [INF, 1.0, 0.0]], dtype)
    x2 = np.array([[1.0, 2.0, 2.0], [0.0, 0.0, 0.0], [1.0, 0, 0], [3e-5, 4e-5, 0],
                   [1.0, -2.0, 0.5], [1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], dtype)
    return x1, x2


@pytest.mark.parametrize("dtype", FLOATS)
def test_cosine_similarity_clamps_each_norm_as_pytorch(dtype):
    """PyTorch 2.13 divides each input by ``max(||x||, eps)`` (clamped under no_grad), not the
    product of the norms: a zero vector gives 0 and the gradient ``x2 / (eps ||x2||)``."""
    x1, x2 = _vectors(dtype)
    if dtype == "float16":
        x1, x2 = x1[[0, 1, 4, 5, 6]], x2[[0, 1, 4, 5, 6]]  # (1e-9 and 3e-5 underflow)
    compare(F.cosine_similarity, TF.cosine_similarity, x1, x2)
    compare(lambda a, b: F.cosine_similarity(a, b, 0, 0.5),
            lambda a, b: TF.cosine_similarity(a, b, 0, 0.5), x1, x2)
    compare(lambda a, b: nn.CosineSimilarity(dim=-1)(a, b),
            lambda a, b: torch.nn.CosineSimilarity(dim=-1)(a, b), x1, x2[1])
    if dtype == "float64":
        x = Tensor(np.zeros((1, 3)), requires_grad=True)
        F.cosine_similarity(x, Tensor(np.array([[1.0, 2.0, 2.0]]))).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [[1e8 / 3, 2e8 / 3, 2e8 / 3]])


def test_cosine_similarity_shapes_dtypes_and_errors():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 1))
    compare(F.cosine_similarity, TF.cosine_similarity, a, b)
    compare(lambda x, y: F.cosine_similarity(x, y, 0), lambda x, y: TF.cosine_similarity(x, y, 0),
            np.array(2.0), np.array(-3.0))
    ours = F.cosine_similarity(Tensor(a.astype(np.float32)), Tensor(a))
    assert ours.dtype == np.float64
    ints = F.cosine_similarity(Tensor(np.array([[1, 2]])), Tensor(np.array([[1.0, 3.0]])))
    np.testing.assert_allclose(ints.numpy(), TF.cosine_similarity(
        torch.tensor([[1, 2]]), torch.tensor([[1.0, 3.0]])).numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="floating"):
        F.cosine_similarity(Tensor(np.array([[1, 2]])), Tensor(np.array([[1, 3]])))
    with pytest.raises(RuntimeError, match="eps"):
        F.cosine_similarity(Tensor(a), Tensor(a), eps=-1.0)
    with pytest.raises(RuntimeError, match=r"\(3, 4\) and x2 \(2, 4\)"):
        F.cosine_similarity(Tensor(a[0]), Tensor(a[1, :2]))
    with pytest.raises(IndexError, match="cosine_similarity"):
        F.cosine_similarity(Tensor(a[0, 0]), Tensor(a[0, 0]))  # dim=1 of 1-D inputs


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 3.0, 0.5, INF, -INF, -1.0])
def test_pairwise_distance_against_pytorch(p):
    x1, x2 = _vectors()
    compare(lambda a, b: F.pairwise_distance(a, b, p), lambda a, b: TF.pairwise_distance(a, b, p),
            x1, x2)
    compare(lambda a, b: nn.PairwiseDistance(p, 1e-3, keepdim=True)(a, b),
            lambda a, b: torch.nn.PairwiseDistance(p, 1e-3, keepdim=True)(a, b), x1, x2[4])
    if p in (2.0, 1.0):
        for dtype in ("float32", "float16"):
            y1, y2 = (v[[1, 4, 5]].astype(dtype) for v in _vectors())
            compare(lambda a, b: F.pairwise_distance(a, b, p),
                    lambda a, b: TF.pairwise_distance(a, b, p), y1, y2)


def test_pairwise_distance_shapes():
    rng = np.random.default_rng(0)
    compare(F.pairwise_distance, TF.pairwise_distance, rng.standard_normal(4),
            rng.standard_normal((3, 4)))
    compare(F.pairwise_distance, TF.pairwise_distance, np.array(1.0), np.array(3.0))
    compare(F.pairwise_distance, TF.pairwise_distance, np.array(1.0), rng.standard_normal(3))
    out = F.pairwise_distance(Tensor(np.array([[1, 2]])), Tensor(np.array([[1, 3]])))
    assert out.dtype == np.float32 and abs(out.item() - 1.0) < 1e-5
    with pytest.raises(RuntimeError, match="pairwise_distance"):
        F.pairwise_distance(Tensor(np.ones((3, 4))), Tensor(np.ones((2, 4))))


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 0.5, 1.5, 3.0, INF])
def test_pdist_against_pytorch_at_ties_zeros_and_non_finite_rows(p):
    x = np.array([[1., 2., 3.], [1., 2., 3.], [1., 0., 3.], [2., 0., 3.5], [0, 0, 0],
                  [2, 1, 3.5], [1, -1, 0.5]])  # equal rows, tied maxima (|1| = |-1|)
    compare(lambda a: F.pdist(a, p), lambda a: TF.pdist(a, p), x)
    for v in (NAN, INF):
        xs = x.copy()
        xs[2, 1] = v
        compare(lambda a: F.pdist(a, p), lambda a: TF.pdist(a, p), xs)
    compare(lambda a: F.pdist(a, p), lambda a: TF.pdist(a, p), x.astype(np.float32))


def test_pdist_small_shapes_float16_and_errors():
    for shape in [(1, 3), (3, 0), (2, 1)]:
        compare(F.pdist, TF.pdist, np.random.default_rng(0).standard_normal(shape))
    empty = Tensor(np.zeros((0, 3)), requires_grad=True)  # (PyTorch's backward crashes here)
    out = F.pdist(empty)
    assert out.shape == (0,)
    out.sum().backward()
    assert empty.grad.shape == (0, 3)
    x = np.random.default_rng(1).standard_normal((4, 3))
    half = F.pdist(Tensor(x.astype(np.float16)))  # (PyTorch's CPU pdist refuses float16)
    assert half.dtype == np.float16
    np.testing.assert_allclose(half.numpy(), TF.pdist(torch.tensor(x)).numpy(), rtol=2e-3)
    with pytest.raises(RuntimeError, match="2D"):
        F.pdist(Tensor(x[0]))
    with pytest.raises(RuntimeError, match="non-negative"):
        F.pdist(Tensor(x), -1)
    with pytest.raises(RuntimeError, match="floating"):
        F.pdist(Tensor(np.ones((2, 2), np.int64)))


def test_distance_gradchecks_in_float64():
    rng = np.random.default_rng(5)
    a = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    for f in (lambda x, y: F.cosine_similarity(x, y), lambda x, y: F.pairwise_distance(x, y, 3),
              lambda x, y: F.pdist(x - y, 1.5)):
        assert gradcheck(f, (a, b)) and gradgradcheck(f, (a, b))
