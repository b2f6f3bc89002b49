"""Issue 14's math against PyTorch at the tricky points the random fuzzer (fuzz_specs_math.py) does
not aim at: integer dtypes, special values for every elementwise function, prod and cumprod with
zeros (gradients and second derivatives), norm at the zero vector, var with correction > n, the
einsum grammar and its errors, and that einsum contracts with one matmul and differentiates into
einsums."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor
from tinygrad_cnn import functions as tgf

torch = pytest.importorskip("torch")

UNARY = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
         "log1p", "expm1", "log2", "log10", "exp2", "square", "reciprocal", "rsqrt", "erf",
         "floor", "ceil", "round", "trunc", "frac"]
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-8, -1e-8, 30.0, -30.0, 800.0,
                    -800.0, np.inf, -np.inf, np.nan])


def _np(x):
    if isinstance(x, Tensor):
        return np.array(x.numpy())
    if x._is_zerotensor():  # PyTorch's symbolic zeros (the second derivative of sgn)
        return np.zeros(tuple(x.shape))
    return x.detach().numpy().copy()


def _close(ours, theirs, what, rtol=1e-10, atol=1e-12):
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (
        f"{what}: dtype {ours.dtype}, PyTorch {theirs.dtype}")
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=what)


def _both(fn, *arrays, grad=True, second=True, rtol=1e-10, seed=0):
    """Run ``fn(lib, *tensors)`` in both libraries; compare values, gradients for a random output
    gradient, and (``second``) the gradient of <gradient, v> for a random v."""
    rng = np.random.default_rng(seed)
    ours = [Tensor(a, requires_grad=grad) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=grad) for a in arrays]
    o, t = fn(tg, *ours), fn(torch, *theirs)
    _close(o, t, "value", rtol)
    if not grad:
        return
    g = rng.standard_normal(tuple(t.shape))
    go = tg.grad(o, ours, Tensor(g), create_graph=second, allow_unused=True)
    gt = torch.autograd.grad(t, theirs, torch.tensor(g), create_graph=second, allow_unused=True)
    for i, (a, b) in enumerate(zip(go, gt)):
        a = a if a is not None else Tensor(np.zeros_like(arrays[i]))
        b = b if b is not None else torch.zeros_like(theirs[i])
        _close(a, b, f"gradient of input {i}", rtol)
    if not second:
        return
    vs = [rng.standard_normal(a.shape) for a in arrays]
    so = sum((a * Tensor(v)).sum() for a, v in zip(go, vs) if a is not None and a.requires_grad)
    st = sum((b * torch.tensor(v)).sum() for b, v in zip(gt, vs) if b is not None and b.requires_grad)
    ho = tg.grad(so, ours, allow_unused=True) if isinstance(so, Tensor) else [None] * len(ours)
    ht = torch.autograd.grad(st, theirs, allow_unused=True) if torch.is_tensor(st) else \
        [None] * len(ours)
    for i, (a, b) in enumerate(zip(ho, ht)):
        a = a if a is not None else Tensor(np.zeros_like(arrays[i]))
        b = b if b is not None else torch.zeros_like(theirs[i])
        _close(a, b, f"second derivative of input {i}", rtol)


# ------------------------------------------------------------------------------ elementwise
@pytest.mark.parametrize("name", UNARY)
def test_special_values(name):
    """Values and gradients at 0, -0, ±1, ±inf, NaN, tiny, huge: NaN and inf where PyTorch has
    them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(lambda m, a: getattr(a, name)(), SPECIAL, second=False)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_integer_inputs(name, dtype):
    """sin of an int tensor is float32, floor of one is itself, frac and bool rounding refused."""
    a = np.array([0, 1, 3, 4, 1]).astype(dtype)
    try:
        t = getattr(torch.tensor(a), name)()
    except (RuntimeError, NotImplementedError, TypeError):
        with pytest.raises(TypeError, match=name):
            getattr(Tensor(a), name)()
        return
    o = getattr(Tensor(a), name)()
    _close(o, t, f"{name} of {dtype}", rtol=1e-6)


def test_floor_of_an_integer_is_itself_and_a_copy():
    a = Tensor(np.array([3, -2, 7]))
    b = a.floor()
    assert b.dtype == np.int64 and b.tolist() == [3, -2, 7]
    b._data[0] = 100
    assert a.tolist() == [3, -2, 7]


def test_round_decimals_and_halves():
    x = np.array([0.5, 1.5, 2.5, -0.5, 1.2345, 1250.0, 1350.0, -1.005, 12.5])
    for d in (-3, -2, -1, 0, 1, 2, 3):
        _both(lambda m, a, d=d: a.round(decimals=d), x, grad=False)
    assert tg.round(Tensor(np.array([2.5])), decimals=0).tolist() == [2.0]  # half to even
    with pytest.raises(TypeError, match="decimals"):
        Tensor(np.array([1, 2])).round(decimals=1)


@pytest.mark.parametrize("dtype", ["int64", "int32", "float64", "float32"])
def test_remainder_fmod_floor_divide_signs(dtype):
    """Python's sign rule for % and //, C's for fmod, on every sign combination."""
    a = np.array([7, -7, 7, -7, 0, 6, -6]).astype(dtype)
    b = np.array([3, 3, -3, -3, 5, 3, -3]).astype(dtype)
    for fn in (lambda m, x, y: x % y, lambda m, x, y: x // y, lambda m, x, y: m.fmod(x, y),
               lambda m, x, y: m.remainder(x, y), lambda m, x, y: m.floor_divide(x, y),
               lambda m, x, y: 5 % y, lambda m, x, y: 5 // y, lambda m, x, y: x % 4,
               lambda m, x, y: x // 4, lambda m, x, y: x % 2.5, lambda m, x, y: x // 2.5):
        _both(fn, a, b, grad=False)
    assert (Tensor(np.array([7, -7])) % 3).tolist() == [1, 2]
    assert (Tensor(np.array([7, -7])) // 3).tolist() == [2, -3]


def test_float_division_by_zero_gives_inf_and_nan():
    a = np.array([1.0, -1.0, 0.0, np.inf, 5.0])
    b = np.array([0.0, 0.0, 0.0, 2.0, np.inf])
    for fn in (lambda m, x, y: x % y, lambda m, x, y: x // y, lambda m, x, y: m.fmod(x, y)):
        _both(fn, a, b, grad=False)


@pytest.mark.parametrize("op", ["remainder", "fmod", "floor_divide"])
def test_integer_division_by_zero_raises(op):
    a, b = Tensor(np.array([4, 5])), Tensor(np.array([2, 0]))
    with pytest.raises(ZeroDivisionError, match=op):
        getattr(a, op)(b)
    with pytest.raises(ZeroDivisionError):
        getattr(a, op)(0)
    assert getattr(Tensor(np.zeros(0, dtype=np.int64)), op)(b[1:]).shape == (0,)  # nothing divided


def test_bool_operands_of_division():
    assert (Tensor(np.array([True, False])) % 2).dtype == np.int64
    with pytest.raises(TypeError, match="bool"):
        Tensor(np.array([True])) % Tensor(np.array([True]))


def test_floor_divide_has_no_gradient():
    x = Tensor(np.array([1.5, -2.5]), requires_grad=True)
    assert not (x // 2).requires_grad


def test_remainder_gradient_of_the_divisor():
    """d(x % y)/dy = -floor(x / y); PyTorch has no derivative for ``number % tensor``, ours is
    that formula too."""
    x = Tensor(np.array([5.0, -5.0, 5.0, -5.0]), requires_grad=True)
    y = Tensor(np.array([3.0, 3.0, -3.0, -3.0]), requires_grad=True)
    gx, gy = tg.grad((x % y).sum(), [x, y])
    assert gx.tolist() == [1, 1, 1, 1] and gy.tolist() == [-1, 2, 2, -1]
    (g,) = tg.grad((7.0 % y).sum(), [y])
    assert g.tolist() == [-2, -2, 3, 3]


def test_atan2_hypot_lerp():
    rng = np.random.default_rng(0)
    a, b, w = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 1))
    _both(lambda m, x, y: m.atan2(x, y), a, b)
    _both(lambda m, x, y: m.arctan2(x, y), a, b)
    _both(lambda m, x, y: m.hypot(x, y), a, b)
    _both(lambda m, x, y, z: m.lerp(x, y, z), a, b, w)
    _both(lambda m, x, y: m.lerp(x, y, 0.75), a, a[::-1].copy())
    _both(lambda m, x, y: m.atan2(x, y), np.array([0.0, -0.0, 0.0, 1.0]),
          np.array([0.0, 0.0, -0.0, np.inf]), second=False)  # the origin: gradient 0
    ints = np.array([1, -2, 3])
    _close(Tensor(ints).atan2(Tensor(ints)), torch.tensor(ints).atan2(torch.tensor(ints)),
           "atan2 of ints", rtol=1e-6)
    with pytest.raises(TypeError, match="hypot"):
        Tensor(ints).hypot(Tensor(ints))
    with pytest.raises(TypeError, match="lerp"):
        Tensor(a).lerp(Tensor(b.astype(np.float32)), 0.5)
    with pytest.raises(ValueError, match="lerp"):
        Tensor(a).lerp(Tensor(np.zeros(3)), 0.5)


def test_isnan_isinf_isfinite_logical():
    x = np.array([0.0, -1.0, np.inf, -np.inf, np.nan, 2.0])
    y = np.array([1.0, 0.0, 0.0, np.nan, 1.0, 0.0])
    for name in ("isnan", "isinf", "isfinite", "logical_not"):
        _both(lambda m, a, name=name: getattr(m, name)(a), x, grad=False)
        _both(lambda m, a, name=name: getattr(a, name)(), np.array([0, 3, -1]), grad=False)
    for name in ("logical_and", "logical_or", "logical_xor"):
        _both(lambda m, a, b, name=name: getattr(m, name)(a, b), x, y, grad=False)
    with pytest.raises(ValueError, match="logical_and"):
        Tensor(x).logical_and(Tensor(np.zeros(4)))


# ------------------------------------------------------------------------------ reductions
def test_prod_with_zeros_first_and_second_derivatives():
    """No zero, one zero, two zeros, per row and over everything; a zero's gradient is the product
    of the others; second derivatives (which PyTorch takes through cumprods too) agree."""
    x = np.array([[1.5, -2.0, 0.5, 3.0], [1.5, 0.0, 0.5, 3.0], [0.0, -2.0, 0.0, 3.0]])
    for fn in (lambda m, a: a.prod(1), lambda m, a: a.prod(0), lambda m, a: a.prod(1, keepdim=True),
               lambda m, a: a.prod(), lambda m, a: a[1].prod(), lambda m, a: a[2].prod()):
        _both(fn, x)
    a = Tensor(np.array([2.0, 0.0, 3.0, 4.0]), requires_grad=True)
    (g,) = tg.grad(a.prod(), a)
    assert g.tolist() == [0.0, 24.0, 0.0, 0.0]
    b = Tensor(np.array([2.0, 0.0, 3.0, 0.0]), requires_grad=True)
    (g,) = tg.grad(b.prod(), b)
    assert g.tolist() == [0.0, 0.0, 0.0, 0.0]


def test_prod_hessian_with_one_zero_matches_torch():
    x = np.array([2.0, 0.0, 3.0, -1.5])
    h_t = torch.autograd.functional.hessian(lambda a: a.prod(), torch.tensor(x))
    t = Tensor(x, requires_grad=True)
    (g,) = tg.grad(t.prod(), t, create_graph=True)
    rows = [tg.grad(g[i], t, retain_graph=True)[0].numpy() for i in range(4)]
    np.testing.assert_allclose(np.stack(rows), h_t.numpy(), rtol=1e-12)
    assert np.stack(rows)[1, 0] == 3.0 * -1.5  # d²/dx0 dx1 = x2 * x3


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumprod_with_zeros_first_and_second_derivatives(dim):
    x = np.array([[1.5, 0.0, 0.5, 3.0, 2.0], [0.0, -2.0, 0.0, 3.0, 0.5],
                  [1.2, -0.7, 0.4, 2.0, 0.0], [0.9, 1.1, -1.3, 0.6, 2.2]])
    _both(lambda m, a: a.cumprod(dim), x)
    _both(lambda m, a: a.cumprod(dim), x, second=False, seed=3)  # the O(n) first-order formula


def test_cumsum_and_dtypes():
    x = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int32)
    for fn in (lambda m, a: a.cumsum(1), lambda m, a: a.cumprod(0), lambda m, a: a.prod(),
               lambda m, a: m.cumsum(a, dim=0, dtype=m.float64), lambda m, a: a.prod(1)):
        _both(fn, x, grad=False)
    _both(lambda m, a: a.cumsum(0), np.array(2.5))  # 0-d
    _both(lambda m, a: a.cumsum(-1), np.random.default_rng(0).standard_normal((2, 3)))
    assert Tensor(np.array([True, True])).cumsum(0).dtype == np.int64


@pytest.mark.parametrize("correction", [0, 1, 2, 3, 4, 5, 1.5])
def test_var_std_with_correction_up_to_and_past_n(correction):
    """``n - correction <= 0`` gives inf (or NaN where every element is the mean), and PyTorch's
    gradients there too."""
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fn in (lambda m, a: a.var(1, correction=correction),
                   lambda m, a: a.var(correction=correction),
                   lambda m, a: a.std(1, correction=correction, keepdim=True),
                   lambda m, a: a[1].var(correction=correction),
                   lambda m, a: a[:, :1].var(1, correction=correction)):
            _both(fn, x, second=correction < 3)


def test_var_std_arguments():
    x = np.random.default_rng(1).standard_normal((3, 4))
    for fn in (lambda m, a: a.var(), lambda m, a: a.var(0, False), lambda m, a: a.var(False),
               lambda m, a: a.std(1, True, True), lambda m, a: m.std(a, dim=(0, 1)),
               lambda m, a: a.var(unbiased=False), lambda m, a: m.var(a, 1, keepdim=True),
               lambda m, a: a.std(dim=0, correction=0)):
        _both(fn, x)
    _both(lambda m, a: a.std(1), np.array([[2.0, 2.0, 2.0]]))  # std 0: gradient 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(lambda m, a: a.var(), np.zeros(0), grad=False)
        _both(lambda m, a: a.var(), np.array([3.0]))
    with pytest.raises(TypeError, match="var"):
        Tensor(np.array([1, 2])).var()
    with pytest.raises(TypeError, match="not both"):
        Tensor(x).var(unbiased=True, correction=0)


@pytest.mark.parametrize("p", [2, "fro", 1, 3, 0.5, 1.5, -1, 0, math.inf, -math.inf])
def test_norm_at_the_zero_vector_and_elsewhere(p):
    """The gradient at the zero vector is 0 (PyTorch's choice); p = 0 has none."""
    z = np.zeros((2, 3))
    z[1] = [0.5, -2.0, 1.0]
    _both(lambda m, a: a.norm(p=p, dim=1), z, second=False)
    t = Tensor(np.zeros(3), requires_grad=True)
    if p == 0:
        assert not t.norm(p=p).requires_grad or tg.grad(t.norm(p=p), t, allow_unused=True)[0] is \
            None
    else:
        (g,) = tg.grad(t.norm(p=p), t)
        assert g.tolist() == [0.0, 0.0, 0.0]
    x = np.random.default_rng(2).standard_normal((3, 4))
    x[0, 1] = -x[0, 2]  # a tie of |x|
    _both(lambda m, a: a.norm(p=p), x, second=p not in (0,))
    _both(lambda m, a: m.norm(a, p, dim=(0, 1), keepdim=True), x, second=False)


def test_norm_errors():
    x = Tensor(np.zeros((0, 3)))
    with pytest.raises(RuntimeError, match="empty"):
        x.norm(p=math.inf)
    assert x.norm(p=math.inf, dim=1).shape == (0,)
    with pytest.raises(NotImplementedError, match="'fro' or 'nuc'"):
        Tensor(np.ones((2, 2))).norm(p="spectral")
    with pytest.raises(TypeError, match="norm"):
        Tensor(np.array([1, 2])).norm()
    with pytest.raises(TypeError, match="norm"):  # (dtype= does not convert an integer
        Tensor(np.array([3, 4])).norm(dtype=np.float64)  # input: PyTorch's refusal too)
    assert Tensor(np.array([3.0, 4.0], np.float32)).norm(dtype=np.float64).item() == 5.0


def test_amax_amin_ties_split_evenly():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    (g,) = tg.grad(x.amax(1).sum() + x.amin(), x)
    np.testing.assert_allclose(g.numpy(), [[1, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    (g,) = tg.grad(x.amin(1).sum(), x)
    np.testing.assert_allclose(g.numpy(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    u = np.array([[0, 5], [7, 1]], dtype=np.uint8)
    _both(lambda m, a: a.amin(0), u, grad=False)
    _both(lambda m, a: m.amax(a, (0, 1), keepdim=True), u, grad=False)
    with pytest.raises(IndexError, match="amax"):
        Tensor(np.zeros((0, 3))).amax(0)
    with pytest.raises(RuntimeError, match="amin"):
        Tensor(np.zeros((0, 3))).amin()


# ------------------------------------------------------------------------------ einsum
EQUATIONS = [
    ("ij,jk->ik", [(3, 4), (4, 2)]), ("ij,jk", [(3, 4), (4, 2)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("iij->ji", [(2, 2, 3)]), ("i,i", [(4,), (4,)]), ("i,j", [(2,), (3,)]),
    ("ba", [(2, 3)]), ("Ba,aC", [(2, 3), (3, 4)]), ("bA,Ac", [(2, 3), (3, 4)]),
    ("...j,jk", [(2, 3, 4), (4, 5)]), ("...j,jk->k", [(2, 3, 4), (4, 5)]),
    ("i...j,jk->ik", [(2, 3, 4), (4, 5)]), ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("ij->...ij", [(2, 3)]), ("...ij->ij", [(2, 3, 4)]), ("ij,jk->ik", [(3, 1), (4, 5)]),
    ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]), (" i j , j k -> k i ", [(3, 4), (4, 2)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]), ("ijk,ikl,ilm->ijm", [(2, 3, 4), (2, 4, 5),
                                                                      (2, 5, 1)]),
    ("i,->i", [(3,), ()]), ("", [()]), ("ii,ij->j", [(3, 3), (3, 2)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]), ("abc,cd->dba", [(2, 3, 4), (4, 5)]),
]


@pytest.mark.parametrize("equation,shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_grammar(equation, shapes):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    _both(lambda m, *ts: m.einsum(equation, *ts), *arrays)
    _both(lambda m, *ts: m.einsum(equation, list(ts)), *arrays, second=False)


def test_einsum_sublist_form():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    _both(lambda m, x, y: m.einsum(x, [0, 1], y, [1, 2], [0, 2]), a, b)
    _both(lambda m, x, y: m.einsum(x, [Ellipsis, 1], y, [1, 2]), a, b)


BAD = [
    ("ij,jk->ii", [(3, 3), (3, 4)], "more than once"), ("ij,jk->l", [(3, 3), (3, 4)], "l"),
    ("ij,jk", [(3, 3)], "operands"), ("ij,jk->ik", [(3, 3), (5, 4)], "size"),
    ("ijk", [(3, 3)], "subscripts"), ("i1", [(3, 3)], "invalid"), ("ij->ij->", [(3, 3)], "->"),
    ("ij..", [(3, 3)], "ellipsis"), ("ii", [(3, 4)], "repeated"),
    ("ij,jk", [(2, 3), (3, 2)], "dtype"),
]


@pytest.mark.parametrize("equation,shapes,match", BAD, ids=[f"{e}-{m}" for e, _, m in BAD])
def test_einsum_errors(equation, shapes, match):
    """Every equation PyTorch refuses is refused, with a message that says what is wrong."""
    arrays = [np.ones(s) for s in shapes]
    if match == "dtype":
        arrays[1] = arrays[1].astype(np.float32)
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.tensor(a) for a in arrays])
    with pytest.raises((ValueError, TypeError), match=match):
        tg.einsum(equation, *[Tensor(a) for a in arrays])


def test_einsum_of_two_operands_is_one_matmul_and_its_vjp_is_einsum(monkeypatch):
    from tinygrad_cnn import parallel

    calls = []
    real = parallel.matmul
    monkeypatch.setattr(parallel, "matmul", lambda a, b, out=None: calls.append(
        (a.shape, b.shape)) or real(a, b, out))
    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal((5, 2, 3, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal((5, 4, 6)), requires_grad=True)
    out = tg.einsum("bxij,bjk->xbik", a, b)
    assert calls == [((5, 6, 4), (5, 4, 6))]  # batch b, rows x*i, summed j, columns k
    assert out.grad_fn.name == "einsum"
    ga, gb = tg.grad(out.sum(), [a, b], create_graph=True)
    assert ga.grad_fn.name == "einsum" and gb.grad_fn.name == "einsum"
    assert len(calls) == 3
    ref = np.einsum("bxij,bjk->xbik", a.numpy(), b.numpy())
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)


def test_tensordot_outer_dot_mv_bmm():
    rng = np.random.default_rng(0)
    x, y, z = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4, 2)), rng.standard_normal(4)
    for dims in (2, 0, ([1, 2], [0, 1]), [[2, 1], [1, 0]], ([-1], [1])):
        _both(lambda m, a, b, dims=dims: m.tensordot(a, b, dims=dims), x, y)
    _both(lambda m, a, b: m.tensordot(a, b, 1), x, rng.standard_normal((4, 5)))
    _both(lambda m, a, b: m.outer(a, b), z, z[:3].copy())
    _both(lambda m, a, b: a.outer(b), z, z[:3].copy())
    _both(lambda m, a, b: m.dot(a, b), z, z[::-1].copy())
    _both(lambda m, a, b: a.mv(b), x[0], z)
    _both(lambda m, a, b: m.bmm(a, b), x, rng.standard_normal((2, 4, 5)))
    _close(Tensor(np.array([1, 2])).outer(Tensor(np.array([0.5]))),
           torch.outer(torch.tensor([1, 2]), torch.tensor([0.5], dtype=torch.float64)), "outer dtype")
    for bad in (lambda m: m.tensordot(m.ones(2, 3), m.ones(4, 2), dims=([1], [0])),
                lambda m: m.tensordot(m.ones(2, 3), m.ones(3, 2), dims=-1),
                lambda m: m.outer(m.ones(2, 2), m.ones(2)), lambda m: m.dot(m.ones(3), m.ones(2)),
                lambda m: m.dot(m.ones(3), m.ones(3, dtype=m.float64)),
                lambda m: m.mv(m.ones(2, 3), m.ones(2)), lambda m: m.bmm(m.ones(2, 3, 4),
                                                                       m.ones(1, 4, 5))):
        with pytest.raises(RuntimeError):
            bad(torch)
        with pytest.raises((ValueError, TypeError)):
            bad(tg)


# ------------------------------------------------------------------------------ the namespace
def test_top_level_functions_are_torchs():
    rng = np.random.default_rng(0)
    x = Tensor(rng.uniform(0.1, 0.9, (2, 3)))
    for name in tgf.__all__:
        assert hasattr(torch, name), f"tinygrad_cnn.{name} is not a torch function"
        assert getattr(tg, name) is getattr(tgf, name)
    for name in UNARY + ["isnan", "isinf", "isfinite", "logical_not"]:
        np.testing.assert_array_equal(getattr(tg, name)(x).numpy(), getattr(x, name)().numpy())


# the everyday top-level functions, each as ``torch.<name>`` is called in ported code:
# (how it is called, inputs, whether it has a gradient)
EVERYDAY = [
    (lambda m, a: m.exp(a), 1, True), (lambda m, a: m.log(a), 1, True),
    (lambda m, a: m.sqrt(a), 1, True), (lambda m, a: m.abs(a - 0.5), 1, True),
    (lambda m, a: m.absolute(a - 0.5), 1, True), (lambda m, a: m.neg(a), 1, True),
    (lambda m, a: m.negative(a), 1, True), (lambda m, a: m.sign(a - 0.5), 1, True),
    (lambda m, a: m.tanh(a), 1, True), (lambda m, a: m.sigmoid(a), 1, True),
    (lambda m, a: m.relu(a - 0.5), 1, True), (lambda m, a: m.softmax(a, 1), 1, True),
    (lambda m, a: m.log_softmax(a, dim=0), 1, True),
    (lambda m, a: m.clamp(a, 0.3, 0.6), 1, True), (lambda m, a: m.clip(a, max=0.5), 1, True),
    (lambda m, a, b: m.add(a, b), 2, True), (lambda m, a, b: m.sub(a, b), 2, True),
    (lambda m, a, b: m.subtract(a, 2.0), 2, True), (lambda m, a, b: m.mul(a, b), 2, True),
    (lambda m, a, b: m.multiply(a, b), 2, True), (lambda m, a, b: m.div(a, b), 2, True),
    (lambda m, a, b: m.divide(a, b), 2, True), (lambda m, a, b: m.true_divide(a, b), 2, True),
    (lambda m, a, b: m.pow(a, b), 2, True), (lambda m, a, b: m.pow(2.0, b), 2, True),
    (lambda m, a, b: m.pow(a, 3), 2, True), (lambda m, a, b: m.maximum(a, b), 2, True),
    (lambda m, a, b: m.minimum(a, b), 2, True), (lambda m, a, b: m.matmul(a, b.T), 2, True),
    (lambda m, a, b: m.mm(a.T, b), 2, True), (lambda m, a: m.sum(a), 1, True),
    (lambda m, a: m.sum(a, 1), 1, True), (lambda m, a: m.sum(a, dim=(0, 1), keepdim=True), 1, True),
    (lambda m, a: m.mean(a, 0), 1, True), (lambda m, a: m.max(a), 1, True),
    (lambda m, a: m.max(a, 1)[0], 1, True), (lambda m, a: m.max(a, dim=0, keepdim=True).values,
                                             1, True),
    (lambda m, a, b: m.max(a, b), 2, True), (lambda m, a: m.min(a), 1, True),
    (lambda m, a: m.min(a, 0).values, 1, True), (lambda m, a, b: m.min(a, b), 2, True),
    (lambda m, a: m.logsumexp(a, 1), 1, True),
    (lambda m, a: m.gather(a, 1, m.tensor(np.array([[2, 0], [1, 1]]))), 1, True),
    (lambda m, a: m.reshape(a, (3, 2)), 1, True), (lambda m, a: m.flatten(a), 1, True),
    (lambda m, a: m.squeeze(a[None]), 1, True), (lambda m, a: m.unsqueeze(a, 1), 1, True),
    (lambda m, a: m.permute(a, (1, 0)), 1, True), (lambda m, a: m.transpose(a, 0, 1), 1, True),
    (lambda m, a: m.t(a), 1, True), (lambda m, a: m.clone(a), 1, True),
    (lambda m, a: m.argmax(a), 1, False), (lambda m, a: m.argmin(a, 1), 1, False),
    (lambda m, a: m.argmax(a, 0, keepdim=True), 1, False),
    (lambda m, a: m.any(a > 0.5), 1, False), (lambda m, a: m.all(a > 0.2, 1), 1, False),
    (lambda m, a: m.any(a > 0.5, dim=0, keepdim=True), 1, False),
    (lambda m, a, b: m.eq(a, b), 2, False), (lambda m, a, b: m.ne(a, a), 2, False),
    (lambda m, a, b: m.lt(a, b), 2, False), (lambda m, a, b: m.le(a, 0.5), 2, False),
    (lambda m, a, b: m.gt(a, b), 2, False), (lambda m, a, b: m.ge(a, b), 2, False),
    (lambda m, a: m.detach(a), 1, False),
]


@pytest.mark.parametrize("case", range(len(EVERYDAY)))
def test_everyday_top_level_functions_match_torch(case):
    fn, arity, has_grad = EVERYDAY[case]
    rng = np.random.default_rng(case)
    arrays = [rng.uniform(0.1, 0.9, (2, 3)) for _ in range(arity)]
    if has_grad:
        _both(fn, *arrays, second=True)
    else:
        _close(fn(tg, *[Tensor(a) for a in arrays]), fn(torch, *[torch.tensor(a) for a in arrays]),
               "value")


def test_top_level_functions_want_a_tensor_as_torch_does():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    assert tg.numel(x) == torch.numel(torch.ones(2, 2)) == 4
    assert tg.is_tensor(x) and not tg.is_tensor(np.ones(2))
    assert tg.allclose(x, x + 1e-9) and not tg.allclose(x, x + 1e-3)
    assert tg.allclose(Tensor([np.nan]), Tensor([np.nan]), equal_nan=True)
    assert tg.equal(x, x.clone()) and not tg.equal(x, x[0]) and not tg.equal(x, x * 2)
    assert not tg.equal(Tensor([np.nan]), Tensor([np.nan]))
    assert tg.sum(input=x).item() == 4.0  # PyTorch's keyword
    assert tg.asin is tg.arcsin and tg.abs is tg.absolute and tg.clamp is tg.clip
    for bad in (lambda m: m.sum(np.ones(3)), lambda m: m.exp([1.0]), lambda m: m.max(2.0),
                lambda m: m.sin(input=3), lambda m: m.pow(2, 3)):
        with pytest.raises(TypeError):
            bad(torch)
        with pytest.raises(TypeError, match="must be a Tensor"):
            bad(tg)
    with pytest.raises(RuntimeError):
        torch.mm(torch.ones(2, 2), torch.ones(2))
    with pytest.raises(ValueError, match="mm: needs two 2-d tensors.*use matmul"):
        tg.mm(x, Tensor(np.ones(2)))


def test_any_and_all_are_bool_tensors_as_in_torch():
    for a in (np.array([[0.0, 1.0], [0.0, 0.0]]), np.zeros((0, 3)), np.array(2.0)):
        for kwargs in ({}, {"dim": 0}, {"dim": -1, "keepdim": True}, {"dim": ()},
                       {"dim": None, "keepdim": True}):
            if a.ndim == 0 and kwargs.get("dim") == -1:
                kwargs = {"dim": 0, "keepdim": True}
            for name in ("any", "all"):
                ours = getattr(Tensor(a), name)(**kwargs)
                theirs = getattr(torch.tensor(a), name)(**kwargs)
                assert ours.dtype == np.bool_ and ours.shape == tuple(theirs.shape), (name, kwargs)
                np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert bool(Tensor([0.0, 2.0]).any()) and not Tensor([0.0, 2.0]).all()  # still reads as a bool


def test_erf_is_accurate_to_a_few_ulp():
    x = np.concatenate([np.linspace(-7, 7, 20001), np.geomspace(1e-300, 1, 200),
                        -np.geomspace(1e-300, 1, 200)])
    ours = Tensor(x).erf().numpy()
    ref = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(ours, ref, rtol=5e-15, atol=0)
    assert Tensor(np.array(np.nan)).erf().isnan().item()
    assert Tensor(np.array([-np.inf, np.inf])).erf().tolist() == [-1.0, 1.0]


def test_a_number_divided_with_rounding_by_a_float16_tensor_is_rounded_to_half_first():
    """An outside tester: ``70000. // t`` and ``floor_divide(70000., t)`` kept the number in
    float32 (-46660) where ``div(70000., t, rounding_mode='floor')`` and PyTorch round the
    dividend to float16 first (inf, so NaN); a number as the divisor stays as it is."""
    torch = pytest.importorskip("torch")
    a = np.array([-1.5, 2.25, 0.1], np.float16)
    t, p = Tensor(a), torch.tensor(a)
    for f in (lambda m, x: 70000.0 // x, lambda m, x: m.floor_divide(70000.0, x),
              lambda m, x: m.div(70000.0, x, rounding_mode="floor"),
              lambda m, x: m.div(70000.0, x, rounding_mode="trunc"),
              lambda m, x: 0.1 // x, lambda m, x: x // 0.1, lambda m, x: 1 // x):
        np.testing.assert_array_equal(f(tg, t).numpy(), f(torch, p).numpy())


@pytest.mark.parametrize("expr", ["b - b", "b - 1", "1 - b", "b - i", "i - b", "i - True",
                                  "True - i", "b - 1.5", "tg.sub(i, b)", "i.sub_(b)",
                                  "i.sub_(True)"])
def test_subtraction_with_a_bool_is_refused_as_in_pytorch(expr):
    """An outside tester: bool - bool gave numpy's error text (naming no op of ours) and bool -
    number or int - bool computed an int result; PyTorch refuses every subtraction with a bool
    operand."""
    torch = pytest.importorskip("torch")
    for m, error in ((tg, TypeError), (torch, RuntimeError)):
        b, i = m.tensor([True, False]), m.tensor([1, 2])
        with pytest.raises(error, match="(?i)subtraction.*bool"):
            eval(expr, {"tg": m, "b": b, "i": i})


# ---- addmm, addmv, baddbmm, addbmm (found missing by an outside tester) --------------------------
def test_add_products_match_torch_with_beta_zero_ignoring_nan():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    c = rng.standard_normal((3, 5))
    c[0, 0] = np.nan  # with beta = 0 PyTorch ignores input: its NaN does not reach the result
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    for beta, alpha in ((0, 1), (0, 2.5), (1, 1), (0.5, -2)):
        ours = [tg.Tensor(v, requires_grad=True) for v in (c, a, b)]
        theirs = [torch.tensor(v, requires_grad=True) for v in (c, a, b)]
        y = tg.addmm(*ours, beta=beta, alpha=alpha)
        z = torch.addmm(*theirs, beta=beta, alpha=alpha)
        np.testing.assert_allclose(y.numpy(), z.detach().numpy(), rtol=1e-12, atol=1e-12)
        g = rng.standard_normal(y.shape)
        y.backward(tg.Tensor(g))
        z.backward(torch.tensor(g))
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_add_products_refuse_bad_shapes_and_dtypes_by_name():
    m = tg.ones(3, 4)
    with pytest.raises(ValueError, match=r"addmm: expected matrices .*\(3, 4\) and \(3, 4\)"):
        tg.addmm(tg.ones(3, 4), m, m)
    with pytest.raises(ValueError, match=r"addmm: input of shape \(2,\) does not broadcast to "
                                         r"the product's shape \(3, 3\)"):
        tg.addmm(tg.ones(2), m, m.T)
    with pytest.raises(TypeError, match="addmv: expected one dtype"):
        tg.addmv(tg.ones(3, dtype=tg.float64), m, tg.ones(4))
    with pytest.raises(ValueError, match="baddbmm"):
        tg.baddbmm(tg.ones(2, 3, 3), tg.ones(2, 3, 4), tg.ones(3, 4, 3))
    with pytest.raises(TypeError, match=r"addbmm\(\): argument 'beta' must be a Number, not a str"):
        tg.addbmm(tg.ones(3, 3), tg.ones(2, 3, 4), tg.ones(2, 4, 3), beta="1")


def test_set_num_threads_sets_the_ops_thread_count():
    from tinygrad_cnn import parallel

    before = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1 == parallel.threads()
        tg.set_num_threads(np.int64(3))
        assert tg.get_num_threads() == 3
        with pytest.raises(ValueError, match="set_num_threads: expected a positive integer"):
            tg.set_num_threads(0)
        with pytest.raises(TypeError, match="set_num_threads: expected a positive integer"):
            tg.set_num_threads(2.0)
    finally:
        tg.set_num_threads(before)


def test_add_products_alpha_zero_half_and_integer_batches_as_pytorch():
    """An outside tester's follow-ups: alpha=0 ignores the product (its NaN too); float16 is
    computed in float32 and rounded once; addbmm of int32 stays int32."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    i, a, b = rng.standard_normal((2, 2)), rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    a[0, 0] = np.nan
    np.testing.assert_array_equal(
        tg.addmm(tg.tensor(i), tg.tensor(a), tg.tensor(b), alpha=0, beta=2).numpy(),
        torch.addmm(torch.tensor(i), torch.tensor(a), torch.tensor(b), alpha=0, beta=2).numpy())
    for name, shapes in (("addmm", ((30, 10), (30, 20), (20, 10))),
                         ("addmv", ((30,), (30, 20), (20,)))):
        rs = [(rng.standard_normal(s) * 10).astype(np.float16) for s in shapes]
        np.testing.assert_array_equal(
            getattr(tg, name)(*[tg.tensor(v) for v in rs], beta=0.5, alpha=2).numpy(),
            getattr(torch, name)(*[torch.tensor(v) for v in rs], beta=0.5, alpha=2).numpy())
    ib = [np.arange(9, dtype=np.int32).reshape(3, 3), np.ones((2, 3, 2), np.int32),
          np.ones((2, 2, 3), np.int32)]
    ours = tg.addbmm(*[tg.tensor(v) for v in ib])
    assert ours.dtype == np.int32
    assert ours.tolist() == torch.addbmm(*[torch.tensor(v) for v in ib]).tolist()


def test_pow_exponent_gradient_overflows_in_half_where_pytorchs_does():
    """Found by the long fuzz: d/dy x^y = g * (x^y log x) in PyTorch's order -- in float16 the
    product x^y log x overflows to inf first (ours took (g x^y) log x: a finite 423 for inf)."""
    torch = pytest.importorskip("torch")
    a = np.array([0.0019, 1.49], np.float16)
    b = np.array(-1.627, np.float16)
    g = np.array([0.7, -1.2], np.float16)
    grads = []
    for lib in (tg, torch):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        (x ** y).backward(lib.tensor(g))
        grads.append((x.grad.numpy(), y.grad.numpy()))
    np.testing.assert_array_equal(grads[0][1], grads[1][1])
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=4e-3)
