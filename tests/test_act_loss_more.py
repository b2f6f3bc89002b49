"""The activations, distances and losses added with the margin losses, against PyTorch: values,
result dtypes (float16/32/64) and gradients, at special points (0, ties at thresholds, ±inf, NaN)
on tensors of 80 elements -- PyTorch's vectorised loop, which ours follows where its scalar tail
loop differs --, gradchecks in float64 through tinygrad_cnn's public gradcheck, the in-place
forms, the modules' signatures and reprs, and the errors."""

from __future__ import annotations

import inspect
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


@pytest.mark.parametrize("dtype", FLOATS)
def test_shrink_and_threshold_signed_zeros_as_pytorchs_vectorised_loop(dtype):
    """softshrink's band gives +0, as PyTorch's vectorised loop -- the whole of a 64-element
    tensor. Its scalar loop (a tensor shorter than one vector chunk, 16 float32 here, and the
    tail past the last chunk) computes ``x * 0``: -0 for a negative x, so ``softshrink([-0.3,
    0.3])`` is ``[-0., 0.]`` in PyTorch and ``[0., 0.]`` here. Ours follows one rule whatever the
    length and the CPU's vector width (the sign of that zero moves with both in PyTorch).
    hardshrink and threshold give the same signed zeros as PyTorch in both loops."""
    band = [-0.3, 0.3, -0.0, 0.0, -0.5, 0.5, -2.0, 2.0, -0.7, 0.7, NAN, -INF]
    long_ = np.resize(np.array(band), 64).astype(dtype)
    calls = [(F.softshrink, TF.softshrink), (F.hardshrink, TF.hardshrink),
             (lambda x: F.hardshrink(x, 0.0), lambda x: TF.hardshrink(x, 0.0)),
             (lambda x: F.threshold(x, 0.5, -0.0), lambda x: TF.threshold(x, 0.5, -0.0)),
             (lambda x: F.threshold(x, 0.4, 0.0), lambda x: TF.threshold(x, 0.4, 0.0))]
    for k, (ours, theirs) in enumerate(calls):
        for a in (long_, long_[:5]) if k else (long_,):  # (softshrink: the vectorised loop only)
            o, t = ours(Tensor(a.copy())).numpy(), theirs(torch.tensor(a.copy())).numpy()
            np.testing.assert_array_equal(o, t)
            assert (np.signbit(o) == np.signbit(t)).all(), (k, a, o, t)
    short = F.softshrink(Tensor(np.array([-0.3, 0.3, -0.0], dtype))).numpy()
    assert not np.signbit(short).any()  # (+0 in the band; PyTorch's scalar loop: -0, -0 there)


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


def test_pdist_p0_backward_fills_zeros_as_pytorch():
    """pdist with p = 0 (a count of nonzeros) is in the graph: PyTorch's backward fills zeros, so
    ``x.grad`` is a zero tensor -- it was None here -- even for an inf or NaN upstream gradient.
    ``norm`` and ``pairwise_distance`` with p = 0 leave ``x.grad`` None, as PyTorch's do."""
    x = np.array([[1.0, 2.0], [3.0, 5.0], [1.0, 2.0]])
    a, ta = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.pdist(a, 0).backward(Tensor(np.array([1.0, INF, NAN])))
    TF.pdist(ta, 0).backward(torch.tensor([1.0, INF, NAN]))
    assert a.grad is not None and ta.grad is not None
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    assert a.grad.dtype == np.float64 and not np.signbit(a.grad.numpy()).any()
    for ours, theirs in ((lambda t: t.norm(p=0), lambda t: t.norm(p=0)),
                         (lambda t: F.pairwise_distance(t, t.detach() + 1, 0).sum(),
                          lambda t: TF.pairwise_distance(t, t.detach() + 1, 0).sum())):
        a, ta = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        ours(a).backward()
        theirs(ta).backward()
        assert a.grad is None and ta.grad is None


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


# ------------------------------------------------------------------------------ losses
REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(11)


def _with_specials(n, values):
    a = RNG.standard_normal(n)
    a[5:5 + len(values)] = values
    return a


S = [NAN, INF, -INF, 0.0, 1.0, -1.0]
A, B = _with_specials(70, S), _with_specials(70, [0.0, 1.0, NAN, INF, 1.0, 3.0])
SIGNS = np.where(RNG.random(70) > 0.5, 1.0, -1.0)
SIGNS[3] = 0.0  # neither label


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pair_losses_at_special_points(reduction):
    r = dict(reduction=reduction)
    compare(lambda x, y, t: F.margin_ranking_loss(x, y, t, 0.5, **r),
            lambda x, y, t: TF.margin_ranking_loss(x, y, t, 0.5, **r), A, B, SIGNS)
    compare(lambda x, y, t: nn.MarginRankingLoss(**r)(x, y, t),
            lambda x, y, t: torch.nn.MarginRankingLoss(**r)(x, y, t), A, B + 0.0, -SIGNS)
    compare(lambda x, t: F.hinge_embedding_loss(x, t, 0.5, **r),
            lambda x, t: TF.hinge_embedding_loss(x, t, 0.5, **r), A, consts=(SIGNS,))
    compare(lambda x, t: nn.HingeEmbeddingLoss(**r)(x, t),
            lambda x, t: torch.nn.HingeEmbeddingLoss(**r)(x, t), A, consts=(SIGNS.astype(int),))
    big = _with_specials(70, [NAN, INF, -INF, 800.0, -800.0, 0.0])  # exp overflows: inf, NaN grad
    compare(lambda x, t: F.soft_margin_loss(x, t, **r),
            lambda x, t: TF.soft_margin_loss(x, t, **r), big, consts=(SIGNS,))
    compare(lambda x, t: nn.SoftMarginLoss(**r)(x, t),
            lambda x, t: torch.nn.SoftMarginLoss(**r)(x, t), A.reshape(7, 10),
            consts=(SIGNS[:10],))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_soft_margin_loss_float16_keeps_pytorchs_precision(dtype):
    """The chain rule through log1p and exp would pass float16 gradients through subnormals (9%
    off where exp(-x y) is near 60000); the op keeps PyTorch's order of operations."""
    x = np.array([[-1.647, -0.2546, 0.671, 0.7227, -0.8086],
                  [0.5103, 0.395, 0.1104, 0.2236, -1.345]], dtype) * 100
    t = np.resize([1.0, -1.0, -1.0, 1.0, 0.0], 5).astype(dtype)
    for reduction in REDUCTIONS:
        compare(lambda a, b: F.soft_margin_loss(a, b, reduction=reduction),
                lambda a, b: TF.soft_margin_loss(a, b, reduction=reduction), x, consts=(t,))
    ints = F.soft_margin_loss(Tensor(x), Tensor(np.array([1, -1, 1, 1, -1])))
    assert ints.dtype == np.dtype(dtype)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multilabel_and_embedding_losses_at_special_points(reduction):
    r = dict(reduction=reduction)
    x, y = RNG.standard_normal((7, 10)), RNG.random((7, 10))
    x[0, :6], y[1, 0] = S, NAN
    w = RNG.random(10)
    compare(lambda a, b, c: F.multilabel_soft_margin_loss(a, b, c, **r),
            lambda a, b, c: TF.multilabel_soft_margin_loss(a, b, c, **r), x, y, w)
    compare(lambda a, b: nn.MultiLabelSoftMarginLoss(Tensor(w), **r)(a, b),
            lambda a, b: torch.nn.MultiLabelSoftMarginLoss(torch.tensor(w), **r)(a, b), x, y)
    compare(lambda a, b: F.multilabel_soft_margin_loss(a, b, **r),
            lambda a, b: TF.multilabel_soft_margin_loss(a, b, **r), x[0], y[0])
    x1, x2 = RNG.standard_normal((70, 3)), RNG.standard_normal((70, 3))
    x1[0], x2[1], x1[2], x1[5] = 0.0, 0.0, x2[2], -x2[5]  # zero vectors, cos = ±1
    x1[3, 0], x2[4, 1] = NAN, INF
    labels = np.where(RNG.random(70) > 0.5, 1, -1)
    labels[6] = 0
    # (tol: the gradients at the zero vectors are ~1e5, from the 1e-12 added to their squared
    # norms, and carry the relative rounding of ~1e-9 that the sums' order leaves)
    compare(lambda a, b, t: F.cosine_embedding_loss(a, b, t, 0.2, **r),
            lambda a, b, t: TF.cosine_embedding_loss(a, b, t, 0.2, **r), x1, x2, consts=(labels,),
            tol=1e-8)
    compare(lambda a, b, t: nn.CosineEmbeddingLoss(-0.5, **r)(a, b, t),
            lambda a, b, t: torch.nn.CosineEmbeddingLoss(-0.5, **r)(a, b, t), x1[7], x2[7],
            consts=(np.array(-1.0),))
    x3 = RNG.standard_normal((70, 3))
    x3[7], x3[8] = x1[7], x2[8]  # a negative equal to the anchor, and one to the positive (swap)
    for p in (2.0, 1.0, INF, 3.0):
        for swap in (False, True):
            compare(lambda a, b, c: F.triplet_margin_loss(a, b, c, 0.7, p, 1e-6, swap, **r),
                    lambda a, b, c: TF.triplet_margin_loss(a, b, c, 0.7, p, 1e-6, swap, **r),
                    x1, x2, x3)
    compare(lambda a, b, c: nn.TripletMarginLoss(swap=True, **r)(a, b, c),
            lambda a, b, c: torch.nn.TripletMarginLoss(swap=True, **r)(a, b, c), x1[9], x2[9],
            x1[9].copy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_likelihood_losses_at_special_points(reduction):
    r = dict(reduction=reduction)
    rates = _with_specials(70, [NAN, INF, -INF, 0.0, 50.0, -50.0])
    counts = RNG.integers(0, 5, 70).astype(float)
    counts[10:14] = [0.0, 1.0, 1.5, NAN]  # Stirling's term only above 1
    for log_input in (True, False):
        for full in (False, True):
            x = rates if log_input else np.abs(rates)
            compare(lambda a, b: F.poisson_nll_loss(a, b, log_input, full, **r),
                    lambda a, b: TF.poisson_nll_loss(a, b, log_input, full, **r), x, counts)
    compare(lambda a, b: nn.PoissonNLLLoss(False, True, eps=1e-3, **r)(a, b),
            lambda a, b: torch.nn.PoissonNLLLoss(False, True, eps=1e-3, **r)(a, b),
            np.abs(rates[20:]), counts[:1])
    mu, y, var = RNG.standard_normal((7, 10)), RNG.standard_normal((7, 10)), RNG.random((7, 10))
    var[0, :4] = [0.0, 1e-9, INF, NAN]  # clamped to eps (the gradient passes), inf, NaN
    mu[1, :3] = [NAN, INF, 0.0]
    for full in (False, True):
        compare(lambda a, b, v: F.gaussian_nll_loss(a, b, v, full, **r),
                lambda a, b, v: TF.gaussian_nll_loss(a, b, v, full, **r), mu, y, var)
    for v in (var[:, 0], var[:, :1], var[:1]):  # one variance per sample, or shared along a dim
        compare(lambda a, b, s: nn.GaussianNLLLoss(eps=1e-2, **r)(a, b, s),
                lambda a, b, s: torch.nn.GaussianNLLLoss(eps=1e-2, **r)(a, b, s), mu, y, v)
    compare(lambda a, b: F.gaussian_nll_loss(a, b, 0.5, **r),
            lambda a, b: TF.gaussian_nll_loss(a, b, 0.5, **r), mu, y[0])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_multi_margin_loss_counts_strictly_positive_terms(reduction):
    """PyTorch's kernel adds a term where ``margin - x_y + x_j > 0``: no gradient at the kink,
    and a NaN score is skipped (the loss stays finite)."""
    r = dict(reduction=reduction)
    x = RNG.standard_normal((7, 5))
    x[0, 1], x[2, 3], x[3, 4] = NAN, INF, INF
    x[1] = [0.0, 1.0, -3.0, 0.5, 1.0]  # margin 1 - x_y + x_0 = 0 exactly: the kink
    target = np.array([1, 1, 0, 4, 2, 3, 0])
    w = RNG.random(5)
    for p in (1, 2):
        for margin in (1.0, 0.9):
            compare(lambda a: F.multi_margin_loss(a, target, p, margin, **r),
                    lambda a: TF.multi_margin_loss(a, torch.tensor(target), p, margin, **r), x)
        compare(lambda a, c: F.multi_margin_loss(a, Tensor(target), p, weight=c, **r),
                lambda a, c: TF.multi_margin_loss(a, torch.tensor(target), p, weight=c, **r), x,
                consts=(w,))
        compare(lambda a: nn.MultiMarginLoss(p, 0.5, Tensor(w), **r)(a, target),
                lambda a: torch.nn.MultiMarginLoss(p, 0.5, torch.tensor(w), **r)(a, torch.tensor(
                    target)), x)
    compare(lambda a: F.multi_margin_loss(a, np.array(2), **r),
            lambda a: TF.multi_margin_loss(a, torch.tensor(2), **r), x[4])
    compare(lambda a: F.multi_margin_loss(a, np.array([2]), **r),
            lambda a: TF.multi_margin_loss(a, torch.tensor([2]), **r), x[4])
    compare(lambda a: F.multi_margin_loss(a, np.array(0), **r),
            lambda a: TF.multi_margin_loss(a, torch.tensor(0), **r), np.array(0.3))


def test_losses_in_float32_and_float16():
    for dtype in ("float32", "float16"):
        x, y = RNG.standard_normal((4, 5)).astype(dtype), RNG.standard_normal((4, 5)).astype(dtype)
        t = np.where(RNG.random((4, 5)) > 0.5, 1.0, -1.0).astype(dtype)
        compare(lambda a, b: F.margin_ranking_loss(a, b, Tensor(t)),
                lambda a, b: TF.margin_ranking_loss(a, b, torch.tensor(t)), x, y)
        compare(lambda a: F.hinge_embedding_loss(a, Tensor(t)),
                lambda a: TF.hinge_embedding_loss(a, torch.tensor(t)), x)
        compare(lambda a, b: F.multilabel_soft_margin_loss(a, b.sigmoid()),
                lambda a, b: TF.multilabel_soft_margin_loss(a, b.sigmoid()), x, y)
        compare(lambda a, b: F.cosine_embedding_loss(a, b, Tensor(t[:, 0])),
                lambda a, b: TF.cosine_embedding_loss(a, b, torch.tensor(t[:, 0])), x, y)
        compare(lambda a, b: F.triplet_margin_loss(a, b, a * 0.5),
                lambda a, b: TF.triplet_margin_loss(a, b, a * 0.5), x, y)
        compare(lambda a, b: F.poisson_nll_loss(a, b.abs(), full=True),
                lambda a, b: TF.poisson_nll_loss(a, b.abs(), full=True), x, y)
        compare(lambda a, b: F.gaussian_nll_loss(a, b, b * b),
                lambda a, b: TF.gaussian_nll_loss(a, b, b * b), x, y)
        if dtype == "float32":  # (PyTorch's CPU multi_margin_loss has no float16 kernel)
            compare(lambda a: F.multi_margin_loss(a, np.array([0, 4, 2, 1]), p=2),
                    lambda a: TF.multi_margin_loss(a, torch.tensor([0, 4, 2, 1]), p=2), x)


def test_float16_class_means_of_margin_losses_add_up_in_float32():
    """multilabel_soft_margin_loss and multi_margin_loss average over the classes: in float16,
    over 70,000 classes the float16 sum was inf (PyTorch's multilabel_soft_margin_loss gives inf
    there too; its CPU multi_margin_loss refuses float16, its CUDA kernel adds in float32). Ours
    add up in float32 and round once: the reference is PyTorch in float32, rounded to float16."""
    c = 70_000
    rng = np.random.default_rng(8)
    x = rng.uniform(-3, 3, (2, c)).astype(np.float16)
    y = (rng.random((2, c)) > 0.5).astype(np.float16)
    labels = np.array([3, 69_999])
    cases = [
        (lambda m, a: m.multilabel_soft_margin_loss(a, (tg if m is F else torch).tensor(y)
                                                    .to(a.dtype), reduction="none")),
        (lambda m, a: m.multi_margin_loss(a, (tg if m is F else torch).tensor(labels),
                                          reduction="none")),
        (lambda m, a: m.multi_margin_loss(a, (tg if m is F else torch).tensor(labels), p=2,
                                          margin=2.0)),
    ]
    for call in cases:
        a, ta = Tensor(x, requires_grad=True), torch.tensor(x.astype(np.float32), requires_grad=True)
        out, tout = call(F, a), call(TF, ta)
        assert out.dtype == np.float16 and np.isfinite(out.numpy()).all()
        close(out.numpy(), tout.detach().half().numpy(), "float16", "value")
        g = np.ones(out.shape, np.float16)
        out.backward(Tensor(g))
        tout.backward(torch.tensor(g.astype(np.float32)))
        np.testing.assert_allclose(a.grad.numpy().astype(np.float64),
                                   ta.grad.numpy().astype(np.float64), rtol=2e-2, atol=1e-7)
    with pytest.raises(NotImplementedError, match="Half"):  # (why the reference is float32)
        TF.multi_margin_loss(torch.tensor(x), torch.tensor(labels))


def test_loss_gradchecks_in_float64():
    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    z = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    labels = Tensor(np.array([1.0, -1.0, -1.0, 1.0]))
    cases = [
        (lambda a, b: F.multilabel_soft_margin_loss(a, b.sigmoid()), (x, y)),
        (lambda a, b: F.cosine_embedding_loss(a, b, labels, margin=-1.0), (x, y)),
        (lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=20.0, swap=True), (x, y, z)),
        (lambda a, b: F.poisson_nll_loss(a, b.exp(), full=True), (x, y)),
        (lambda a, b, c: F.gaussian_nll_loss(a, b, c * c + 0.5, full=True), (x, y, z)),
        (lambda a: F.soft_margin_loss(a, labels[:, None], reduction="sum"), (x,)),
        (lambda a: F.multi_margin_loss(a * 10, np.array([0, 2, 1, 1]), p=2, margin=50.0), (x,)),
    ]
    for f, inputs in cases:
        assert gradcheck(f, inputs) and gradgradcheck(f, inputs)


def test_loss_errors_name_the_function_and_the_fix():
    x = Tensor(np.ones((3, 4)))
    with pytest.raises(RuntimeError, match="same number of dims.*input2 \\(3, 1\\)"):
        F.margin_ranking_loss(Tensor(np.ones(3)), Tensor(np.ones((3, 1))), Tensor(np.ones(3)))
    with pytest.raises(ValueError, match="reduction"):
        F.hinge_embedding_loss(x, x, reduction="bad")
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated, "
                      "please use reduction='sum'"):  # (PyTorch's legacy mapping)
        F.soft_margin_loss(x, x, size_average=False)
    with pytest.raises(RuntimeError, match="not differentiable with respect to the target"):
        F.soft_margin_loss(x, Tensor(np.ones((3, 4)), requires_grad=True))
    with pytest.raises(RuntimeError, match="input's shape"):
        F.soft_margin_loss(Tensor(np.ones((3, 1))), Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="1D target expects 2D input"):
        F.cosine_embedding_loss(x, Tensor(np.ones(4)), Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="0-D or 1-D target"):
        F.cosine_embedding_loss(x, x, Tensor(np.ones((1, 3))))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(ValueError, match="TripletMarginLoss"):
        nn.TripletMarginLoss(margin=-1)
    with pytest.raises(RuntimeError, match="anchor 2D .* negative 1D"):
        F.triplet_margin_loss(x, x, Tensor(np.ones(4)))
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x, x, Tensor(np.ones(4)))
    with pytest.raises(TypeError, match="float"):
        F.gaussian_nll_loss(x, x, 1)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, np.array([0, 1, 2]), p=3)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(RuntimeError, match="Expected target size \\[3\\], but got \\[2\\]"):
        F.multi_margin_loss(x, np.array([0, 1]))
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, np.array([0, 1, 4]))
    with pytest.raises(RuntimeError, match="inconsistent weight size"):
        F.multi_margin_loss(x, np.array([0, 1, 2]), weight=Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="cannot require grad"):
        F.multi_margin_loss(x, np.array([0, 1, 2]), weight=Tensor(np.ones(4), requires_grad=True))
    with pytest.raises(TypeError, match="class indices"):
        F.multi_margin_loss(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="non-empty"):
        F.multi_margin_loss(Tensor(np.ones((3, 0))), np.array([0, 1, 2]))


@pytest.mark.parametrize("name", ["multilabel_soft_margin_loss target",
                                  "multilabel_soft_margin_loss weight", "triplet anchor/positive",
                                  "triplet anchor/negative", "triplet batch", "triplet swap",
                                  "gaussian_nll_loss target", "soft_margin_loss target",
                                  "hinge_embedding_loss target", "margin_ranking_loss target",
                                  "cosine_embedding_loss target"])
def test_loss_shape_errors_name_the_loss_and_both_shapes(name):
    """Shapes are checked up front: a mismatch is an error naming the loss, the shapes and the
    fix (multilabel_soft_margin_loss's named ``mul``, triplet_margin_loss's ``pairwise_distance``
    or ``sub``, gaussian_nll_loss's ``sub``). PyTorch refuses each of these calls too."""
    r = np.random.default_rng(0).standard_normal
    cases = {  # name: (call on (F, tensor), the words of our message)
        "multilabel_soft_margin_loss target": (lambda f, T: f.multilabel_soft_margin_loss(
            T(r((3, 4))), T(np.ones((3, 5)))), ["multilabel_soft_margin_loss", "(3, 4)", "(3, 5)",
                                                "give the target the input's shape (3, 4)"]),
        "multilabel_soft_margin_loss weight": (lambda f, T: f.multilabel_soft_margin_loss(
            T(r((3, 4))), T(np.ones((3, 4))), weight=T(np.ones(5))),
            ["multilabel_soft_margin_loss", "weight (5,)", "of shape (4,)"]),
        "triplet anchor/positive": (lambda f, T: f.triplet_margin_loss(
            T(r((3, 4))), T(r((3, 5))), T(r((3, 4)))),
            ["triplet_margin_loss", "anchor (3, 4)", "positive (3, 5)", "equal shapes"]),
        "triplet anchor/negative": (lambda f, T: f.triplet_margin_loss(
            T(r((3, 4))), T(r((3, 4))), T(r((2, 4)))),
            ["triplet_margin_loss", "anchor (3, 4)", "negative (2, 4)"]),
        "triplet batch": (lambda f, T: f.triplet_margin_loss(
            T(r((1, 4))), T(r((3, 4))), T(r((2, 4)))),
            ["triplet_margin_loss", "d(anchor, positive) (3,)", "d(anchor, negative) (2,)"]),
        "triplet swap": (lambda f, T: f.triplet_margin_loss(
            T(r((3, 1))), T(r((3, 4))), T(r((3, 5))), swap=True),
            ["triplet_margin_loss", "positive (3, 4)", "negative (3, 5)"]),
        "gaussian_nll_loss target": (lambda f, T: f.gaussian_nll_loss(
            T(r((3, 4))), T(r((3, 5))), T(np.ones((3, 4)))),
            ["gaussian_nll_loss", "(3, 4)", "(3, 5)", "give the target the input's shape"]),
        "soft_margin_loss target": (lambda f, T: f.soft_margin_loss(
            T(r((3, 4))), T(np.ones((3, 5)))), ["soft_margin_loss", "(3, 4)", "(3, 5)"]),
        "hinge_embedding_loss target": (lambda f, T: f.hinge_embedding_loss(
            T(r((3, 4))), T(np.ones((3, 5)))), ["hinge_embedding_loss", "(3, 4)", "(3, 5)"]),
        "margin_ranking_loss target": (lambda f, T: f.margin_ranking_loss(
            T(r(3)), T(r(3)), T(np.ones(4))), ["margin_ranking_loss", "(3,)", "(4,)"]),
        "cosine_embedding_loss target": (lambda f, T: f.cosine_embedding_loss(
            T(r((3, 4))), T(r((3, 4))), T(np.ones(4))), ["cosine_embedding_loss", "(4,)"]),
    }
    call, words = cases[name]
    with pytest.raises((RuntimeError, ValueError)):
        call(TF, torch.tensor)
    with pytest.raises((RuntimeError, ValueError)) as info:
        call(F, Tensor)
    for w in words:
        assert w in str(info.value), (w, str(info.value))
    if name == "triplet swap":  # without swap, PyTorch and ours take it (each distance is fine)
        a, p, n = (r(s) for s in ((3, 1), (3, 4), (3, 5)))
        ours = F.triplet_margin_loss(Tensor(a), Tensor(p), Tensor(n))
        theirs = TF.triplet_margin_loss(torch.tensor(a), torch.tensor(p), torch.tensor(n))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_empty_batches():
    empty = Tensor(np.zeros((0, 4)), requires_grad=True)
    # (PyTorch's multi_margin_loss returns uninitialised memory for an empty batch: ours is the
    # mean of nothing, NaN, and a sum of 0)
    assert math.isnan(F.multi_margin_loss(empty, np.zeros(0, np.int64)).item())
    assert F.multi_margin_loss(empty, np.zeros(0, np.int64), reduction="sum").item() == 0
    for f, g in [(F.soft_margin_loss, TF.soft_margin_loss),
                 (F.hinge_embedding_loss, TF.hinge_embedding_loss)]:
        assert math.isnan(f(empty, Tensor(np.zeros((0, 4)))).item())
        assert math.isnan(g(torch.zeros(0, 4), torch.zeros(0, 4)).item())


# ------------------------------------------------------------------------------ the API
MODULES = ["Softsign", "Tanhshrink", "Hardshrink", "Softshrink", "Threshold", "RReLU", "GLU",
           "Softmin", "Softmax2d", "LogSoftmax", "CosineSimilarity", "PairwiseDistance",
           "MarginRankingLoss", "HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
           "CosineEmbeddingLoss", "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
           "MultiMarginLoss", "MultiLabelMarginLoss"]


def _parameters(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", MODULES)
def test_modules_have_pytorchs_signature_repr_and_state(name):
    ours, theirs = getattr(nn, name), getattr(torch.nn, name)
    if "__init__" in vars(theirs):
        assert _parameters(ours.__init__) == _parameters(theirs.__init__)
    args = (0.5, -1.0) if name == "Threshold" else ()
    assert repr(ours(*args)) == repr(theirs(*args))
    for kwargs in ({"inplace": True}, {"lambd": 1}, {"dim": 0}, {"margin": 2.0},
                   {"reduction": "sum"}, {"p": 1.0, "keepdim": True}, {"weight": "w"}):
        try:
            t_kwargs = {k: torch.ones(3) if v == "w" else v for k, v in kwargs.items()}
            their = theirs(*args, **t_kwargs)
        except TypeError:
            continue
        our = ours(*args, **{k: Tensor(np.ones(3, np.float32)) if v == "w" else v
                             for k, v in kwargs.items()})
        assert repr(our) == repr(their)
        assert list(our.state_dict()) == list(their.state_dict())
    assert nn.PairwiseDistance(3.0).norm == 3.0


FUNCTIONS = ["softsign", "tanhshrink", "threshold", "rrelu", "glu", "softmin", "gumbel_softmax",
             "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
             "multilabel_soft_margin_loss", "cosine_embedding_loss", "triplet_margin_loss",
             "poisson_nll_loss", "gaussian_nll_loss", "multi_margin_loss", "multilabel_margin_loss"]
#: PyTorch's C functions, with the signatures their docstrings give
BUILTIN = {"hardshrink": ["input", "lambd"], "softshrink": ["input", "lambd"],
           "cosine_similarity": ["x1", "x2", "dim", "eps"], "pdist": ["input", "p"],
           "pairwise_distance": ["x1", "x2", "p", "eps", "keepdim"], "relu_": ["input"],
           "elu_": ["input", "alpha"], "leaky_relu_": ["input", "negative_slope"],
           "hardtanh_": ["input", "min_val", "max_val"], "threshold_": ["input", "threshold", "value"],
           "rrelu_": ["input", "lower", "upper", "training"], "celu_": ["input", "alpha"],
           "selu_": ["input"]}


def test_functions_have_pytorchs_signatures():
    for name in FUNCTIONS:
        ours = [(n, d) for n, _, d in _parameters(getattr(F, name))]
        theirs = [(n, d) for n, _, d in _parameters(getattr(TF, name))]
        assert ours == theirs, name
        assert name in F.__all__
    for name, params in BUILTIN.items():
        assert [p for p, _, _ in _parameters(getattr(F, name))] == params, name
        assert name in F.__all__
    assert inspect.signature(F.hardshrink).parameters["lambd"].default == 0.5
    assert inspect.signature(F.cosine_similarity).parameters["eps"].default == 1e-8
    assert inspect.signature(F.pairwise_distance).parameters["eps"].default == 1e-6


@pytest.mark.parametrize("name", ["elu", "elu_alpha2", "selu", "celu"])
def test_elu_family_second_derivative_at_zero_is_pytorchs(name):
    """An outside tester: the second derivative of elu/selu/celu at 0 and -0 was alpha (the
    clamp(max=0) inside the VJP passed the gradient at its bound); PyTorch's elu_double_backward
    masks it with x < 0, so 0."""
    torch = pytest.importorskip("torch")
    f = {"elu": lambda m, x: m.nn.functional.elu(x), "elu_alpha2": lambda m, x:
         m.nn.functional.elu(x, 2.0), "selu": lambda m, x: m.nn.functional.selu(x),
         "celu": lambda m, x: m.nn.functional.celu(x, 0.5)}[name]
    out = []
    for m in (tg, torch):
        x = m.tensor([0.0, -0.0, 1.0, -1.0, -30.0, 2.5], dtype=m.float64, requires_grad=True)
        (g,) = m.autograd.grad(f(m, x).sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        out.append((g.detach().numpy(), h.numpy()))
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-13)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-13, atol=1e-300)
    assert out[0][1][0] == out[0][1][1] == 0


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_hardsigmoid_gradient_is_pytorchs_bit_for_bit(dtype):
    """Found by an outside tester (float64 training trajectories split at the first step):
    PyTorch's VJP multiplies by the float32 constant 1.0f / 6.0f in every dtype, not by 1/6."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.uniform(-4, 4, 2000).astype(dtype)
    g = rng.standard_normal(2000).astype(dtype)
    ours = tg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    tg.nn.functional.hardsigmoid(ours).backward(tg.tensor(g))
    torch.nn.functional.hardsigmoid(theirs).backward(torch.tensor(g))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
