"""The in-place and indexing ops ported models reach for (custom optimizers' ``addcmul_`` and
``addcdiv_``, EMA's ``lerp_``, DropPath's ``bernoulli_``, ``index_add_``, ``fill_diagonal_``,
``clamp_min_``, ...), each against PyTorch: values and dtypes without recording, gradients when
the change is recorded (on a tensor, through a view, with the other operand requiring grad), and
PyTorch's refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(7)


def _both(a: np.ndarray, requires_grad: bool = False) -> tuple[Tensor, Any]:
    return (Tensor(a.copy(), requires_grad=requires_grad),
            torch.tensor(a.copy(), requires_grad=requires_grad))


def _close(ours: Any, theirs: Any, rtol: float = 1e-6) -> None:
    o = ours.numpy() if isinstance(ours, Tensor) else np.asarray(ours)
    t = theirs.detach().numpy()
    assert o.dtype == t.dtype, (o.dtype, t.dtype)
    single = o.dtype.kind == "f" and o.dtype.itemsize < 8  # float32 rounds in other orders
    np.testing.assert_allclose(o, t, rtol=max(rtol, 1e-5) if single else rtol,
                               atol=1e-6 if single else 1e-12, equal_nan=True)


def _idx(lib: Any, values: list[int]) -> Any:
    return lib.tensor(values)


# ------------------------------------------------------------------------------ out of place
# (name, f(lib, a, b, c) with a (3, 4), b and c its operands)
OUT_OF_PLACE: list[tuple[str, Callable[..., Any]]] = [
    ("addcmul", lambda lib, a, b, c: a.addcmul(b, c)),
    ("addcmul value", lambda lib, a, b, c: lib.addcmul(a, b, c[0], value=-0.5)),
    ("addcdiv", lambda lib, a, b, c: a.addcdiv(b, c.abs() + 1, value=2)),
    ("index_add", lambda lib, a, b, c: a.index_add(0, _idx(lib, [2, 0, 2]), b[:3], alpha=0.5)),
    ("index_add dim 1", lambda lib, a, b, c: lib.index_add(a, 1, _idx(lib, [3, 1]), b[:, :2])),
    ("index_copy", lambda lib, a, b, c: a.index_copy(1, _idx(lib, [3, 0]), b[:, 1:3])),
    ("index_fill", lambda lib, a, b, c: a.index_fill(1, _idx(lib, [-1, 0]), 2.5)),
    ("index_fill tensor value", lambda lib, a, b, c: a.index_fill(0, _idx(lib, [1]), c[0, 0])),
    ("nan_to_num", lambda lib, a, b, c: (a / b.round()).nan_to_num(posinf=7.0)),
    ("negative/multiply/subtract", lambda lib, a, b, c: a.negative().multiply(b).subtract(c)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,f", OUT_OF_PLACE, ids=[n for n, _ in OUT_OF_PLACE])
def test_out_of_place_values_and_gradients_match_torch(name, f, dtype):
    arrays = [RNG.standard_normal((3, 4)).astype(dtype) for _ in range(3)]
    if name == "nan_to_num":
        arrays[0][0, :2] = 0.0  # 0 / 0 and x / 0: NaN and infinities to replace
        arrays[1][0, :3] = 0.0
    ours, theirs = zip(*(_both(a, True) for a in arrays))
    o, t = f(tg, *ours), f(torch, *theirs)
    _close(o, t)
    w = RNG.standard_normal(tuple(t.shape)).astype(dtype)
    with np.errstate(invalid="ignore", over="ignore"):  # the gradient of x / 0 (NaN, as torch's)
        (o * Tensor(w)).sum().backward()
    (t * torch.tensor(w)).sum().backward()
    for x, y in zip(ours, theirs):
        if y.grad is None:
            assert x.grad is None or not x.grad.numpy().any()
        else:
            _close(x.grad, y.grad, rtol=1e-5)


@pytest.mark.parametrize("name,f", OUT_OF_PLACE, ids=[n for n, _ in OUT_OF_PLACE])
def test_out_of_place_gradcheck_and_gradgradcheck(name, f):
    arrays = [RNG.standard_normal((3, 4)) for _ in range(3)]
    if name == "nan_to_num":  # finite differences need finite values: replace none
        def fn(a, b, c):
            return (a * 1.5).nan_to_num()
    else:
        def fn(a, b, c):
            return f(tg, a, b, c)
    inputs = [Tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_integer_index_add_copy_fill_match_torch():
    a = np.arange(12).reshape(3, 4)
    o = Tensor(a).index_add(0, tg.tensor([1, 1]), Tensor(np.ones((2, 4), dtype=np.int64)), alpha=2.5)
    t = torch.tensor(a).index_add(0, torch.tensor([1, 1]), torch.ones(2, 4, dtype=torch.long),
                                  alpha=2.5)
    _close(o, t)
    _close(Tensor(a).index_fill(1, tg.tensor([0]), 2.7), torch.tensor(a).index_fill(
        1, torch.tensor([0]), 2.7))
    for value in (0.5, 1.7, -2.5, 3):  # an integer addcmul truncates a float value
        _close(Tensor(a).addcmul(Tensor(a), Tensor(a), value=value),
               torch.tensor(a).addcmul(torch.tensor(a), torch.tensor(a), value=value))
    _close(tg.tensor(5.0).index_add(0, tg.tensor([0]), tg.tensor(2.0)),
           torch.tensor(5.0).index_add(0, torch.tensor([0]), torch.tensor(2.0)))
    _close(tg.tensor(5.0).index_copy(0, tg.tensor([0]), tg.tensor(2.0)),
           torch.tensor(5.0).index_copy(0, torch.tensor([0]), torch.tensor(2.0)))


def test_bool_index_add_casts_alpha_to_bool_as_pytorch():
    """An outside tester: alpha=3 on a bool tensor raised about scatter_add and int64."""
    for alpha in (3, 0, 1, 2.5):
        ours = tg.tensor([True, False, False])
        ours.index_add_(0, tg.tensor([0, 2]), tg.tensor([True, True]), alpha=alpha)
        theirs = torch.tensor([True, False, False])
        theirs.index_add_(0, torch.tensor([0, 2]), torch.tensor([True, True]), alpha=alpha)
        assert ours.tolist() == theirs.tolist() and ours.dtype == np.bool_


def test_nan_to_num_defaults_per_dtype_and_integers():
    for dtype in ("float16", "float32", "float64"):
        a = np.array([np.nan, np.inf, -np.inf, 1.5], dtype=dtype)
        _close(Tensor(a).nan_to_num(), torch.tensor(a).nan_to_num())
        _close(tg.nan_to_num(Tensor(a), nan=-1.0, neginf=0.0),
               torch.nan_to_num(torch.tensor(a), nan=-1.0, neginf=0.0))
    ints = np.array([1, -2, 3])
    _close(Tensor(ints).nan_to_num(), torch.tensor(ints).nan_to_num())


# ------------------------------------------------------------------------------ in place
# (name, f(lib, target, other) changing target in place; other has target's shape (3, 4))
IN_PLACE: list[tuple[str, Callable[..., Any]]] = [
    ("clamp_min_", lambda lib, t, o: t.clamp_min_(0.1)),
    ("clamp_max_", lambda lib, t, o: t.clamp_max_(-0.1)),
    ("clamp_min_ tensor", lambda lib, t, o: t.clamp_min_(o)),
    ("lerp_", lambda lib, t, o: t.lerp_(o, 0.3)),
    ("lerp_ tensor weight", lambda lib, t, o: t.lerp_(o, o.sigmoid())),
    ("addcmul_", lambda lib, t, o: t.addcmul_(o, o, value=0.5)),
    ("addcdiv_", lambda lib, t, o: t.addcdiv_(o, o * o + 1, value=-2)),
    ("remainder_", lambda lib, t, o: t.remainder_(1.5)),
    ("fmod_", lambda lib, t, o: t.fmod_(o.abs() + 0.5)),
    ("floor_divide_", lambda lib, t, o: t.floor_divide_(0.7)),
    ("atan2_", lambda lib, t, o: t.atan2_(o)),
    ("hypot_", lambda lib, t, o: t.hypot_(o)),
    ("sign_", lambda lib, t, o: t.sign_()),
    ("nan_to_num_", lambda lib, t, o: t.nan_to_num_()),
    ("tril_", lambda lib, t, o: t.tril_(1)),
    ("triu_", lambda lib, t, o: t.triu_(-1)),
    ("index_add_", lambda lib, t, o: t.index_add_(1, _idx(lib, [0, 0, 3]), o[:, :3], alpha=-1)),
    ("index_copy_", lambda lib, t, o: t.index_copy_(0, _idx(lib, [2]), o[:1])),
    ("index_fill_", lambda lib, t, o: t.index_fill_(1, _idx(lib, [1]), -3.0)),
    ("scatter_", lambda lib, t, o: t.scatter_(1, lib.tensor([[0, 2], [1, 1], [3, 0]]), o[:, :2])),
    ("scatter_ value", lambda lib, t, o: t.scatter_(0, lib.tensor([[2, 0, 1, 1]]), 4.0)),
    ("scatter_add_", lambda lib, t, o: t.scatter_add_(0, lib.tensor([[2, 0, 1, 1]]), o[:1])),
    ("fill_diagonal_", lambda lib, t, o: t.fill_diagonal_(-1.5)),
    ("fill_diagonal_ wrap", lambda lib, t, o: t.T.fill_diagonal_(9.0, wrap=True)),
    ("subtract_/multiply_", lambda lib, t, o: t.subtract_(o, alpha=2).multiply_(o)),
    ("true_divide_/negative_/absolute_", lambda lib, t, o: t.true_divide_(2.0).negative_().absolute_()),
]
IDS = [n for n, _ in IN_PLACE]


def _operands(dtype: str = "float64") -> tuple[np.ndarray, np.ndarray]:
    return (RNG.standard_normal((3, 4)).astype(dtype) * 2,
            RNG.standard_normal((3, 4)).astype(dtype))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,f", IN_PLACE, ids=IDS)
def test_in_place_without_recording_matches_torch(name, f, dtype):
    a, b = _operands(dtype)
    (ot, tt), (oo, to) = _both(a), _both(b)
    out_o, out_t = f(tg, ot, oo), f(torch, tt, to)
    _close(ot, tt)
    # the op returns the tensor it changed (or, for the transposed view, that view)
    assert out_o is ot or out_o._base is ot or name == "fill_diagonal_ wrap"
    _close(out_o, out_t)


@pytest.mark.parametrize("name,f", IN_PLACE, ids=IDS)
def test_in_place_recorded_gives_torch_gradients(name, f):
    """``h = x * 1; f(h, y)``: the change is recorded; x and y get PyTorch's gradients."""
    a, b = _operands()
    (ox, tx), (oy, ty) = _both(a, True), _both(b, True)
    oh, th = ox * 1, tx * 1
    f(tg, oh, oy)
    f(torch, th, ty)
    _close(oh, th)
    w = RNG.standard_normal((3, 4))
    if name == "floor_divide_":  # no gradient: PyTorch's backward raises, ours finds no graph
        for h, lib in ((oh, tg), (th, torch)):
            with pytest.raises(RuntimeError):
                (h * lib.tensor(w)).sum().backward()
        return
    (oh * Tensor(w)).sum().backward()
    (th * torch.tensor(w)).sum().backward()
    _close(ox.grad, tx.grad)
    if ty.grad is None:
        assert oy.grad is None or not oy.grad.numpy().any()
    else:
        _close(oy.grad, ty.grad)


@pytest.mark.parametrize("name,f", IN_PLACE, ids=IDS)
def test_in_place_on_a_plain_tensor_with_a_grad_requiring_operand(name, f):
    """The target does not require grad, the operand does: the change must still be recorded
    (the result depends on the operand) -- not written as plain numbers."""
    a, b = _operands()
    (ot, tt), (oy, ty) = _both(a), _both(b, True)
    f(tg, ot, oy)
    f(torch, tt, ty)
    assert ot.requires_grad == tt.requires_grad
    _close(ot, tt)
    if tt.requires_grad:
        w = RNG.standard_normal((3, 4))
        (ot * Tensor(w)).sum().backward()
        (tt * torch.tensor(w)).sum().backward()
        _close(oy.grad, ty.grad)


VIEWABLE = [(n, f) for n, f in IN_PLACE if n not in ("fill_diagonal_ wrap",)]


@pytest.mark.parametrize("name,f", VIEWABLE, ids=[n for n, _ in VIEWABLE])
def test_in_place_through_a_view_reaches_the_base(name, f):
    """``h = x * 1; f(h.view(...))``: the base sees the change and x gets PyTorch's gradient."""
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((3, 4))
    (ox, tx), (oy, ty) = _both(a, True), _both(b, True)
    oh, th = ox * 1, tx * 1
    f(tg, oh[1], oy)
    f(torch, th[1], ty)
    _close(oh, th)
    w = RNG.standard_normal((2, 3, 4))
    if name == "floor_divide_":  # PyTorch has no derivative for it (ours: zero, tested above)
        return
    ((oh * oh) * Tensor(w)).sum().backward()
    ((th * th) * torch.tensor(w)).sum().backward()
    _close(ox.grad, tx.grad)
    if ty.grad is not None:
        _close(oy.grad, ty.grad)


@pytest.mark.parametrize("name,f", IN_PLACE, ids=IDS)
def test_in_place_on_a_leaf_that_requires_grad_is_refused(name, f):
    a, b = _operands()
    x = Tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        f(tg, x, Tensor(b))
    with pytest.raises(RuntimeError):
        f(torch, torch.tensor(a, requires_grad=True), torch.tensor(b))
    with tg.no_grad():  # as optimizers do
        f(tg, x, Tensor(b))


def test_in_place_dtype_rule_as_torch():
    """An integer tensor refuses a float result; a float tensor takes an integer one."""
    for f in (lambda lib, t: t.lerp_(t, 0.5), lambda lib, t: t.remainder_(1.5),
              lambda lib, t: t.addcmul_(t, t, value=0.5), lambda lib, t: t.nan_to_num_()):
        results = []
        for lib in (tg, torch):
            t = lib.tensor([1, 2, 3])
            try:
                f(lib, t)
                results.append(t.tolist())
            except (RuntimeError, TypeError):
                results.append("error")
        assert results[0] == results[1]
    o, t = tg.tensor([1.5, -2.5]), torch.tensor([1.5, -2.5])
    o.index_fill_(0, tg.tensor([0]), 7)
    t.index_fill_(0, torch.tensor([0]), 7)
    _close(o, t)


def test_optimizer_idiom_adam_by_hand_matches_torch():
    """A hand-written Adam step (the ported-optimizer idiom) gives PyTorch's numbers."""
    p0, g0 = RNG.standard_normal(5), RNG.standard_normal(5)
    res = []
    for lib in (tg, torch):
        p, exp_avg, exp_avg_sq = lib.tensor(p0.copy()), lib.zeros(5, dtype=lib.float64), \
            lib.zeros(5, dtype=lib.float64)
        for step in range(1, 4):
            grad = lib.tensor(g0 * step)
            exp_avg.mul_(0.9).add_(grad, alpha=0.1)
            exp_avg_sq.mul_(0.999).addcmul_(grad, grad, value=0.001)
            denom = (exp_avg_sq.sqrt() / (1 - 0.999 ** step) ** 0.5).add_(1e-8)
            p.addcdiv_(exp_avg, denom, value=-0.01 / (1 - 0.9 ** step))
        ema = lib.zeros(5, dtype=lib.float64)
        ema.lerp_(p, 0.1)
        res.append((p.numpy().copy(), ema.numpy().copy()))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-12)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-12)


# ------------------------------------------------------------------------------ refusals
REFUSED: list[tuple[str, Callable[..., Any]]] = [
    ("index_add source shape", lambda lib: lib.zeros(3, 4).index_add(0, lib.tensor([0]),
                                                                     lib.ones(1, 3))),
    ("index_add count", lambda lib: lib.zeros(3, 4).index_add(0, lib.tensor([0, 1]),
                                                              lib.ones(3, 4))),
    ("index_add dtype", lambda lib: lib.zeros(3).index_add(0, lib.tensor([0]),
                                                           lib.ones(1, dtype=lib.float64))),
    ("index_add out of range", lambda lib: lib.zeros(3).index_add(0, lib.tensor([3]),
                                                                  lib.ones(1))),
    ("index_add negative", lambda lib: lib.zeros(3).index_add(0, lib.tensor([-1]), lib.ones(1))),
    ("index_add 2-d index", lambda lib: lib.zeros(3).index_add(0, lib.tensor([[0]]),
                                                               lib.ones(1))),
    ("index_add float index", lambda lib: lib.zeros(3).index_add(0, lib.tensor([0.0]),
                                                                 lib.ones(1))),
    ("index_copy shape", lambda lib: lib.zeros(3, 4).index_copy(0, lib.tensor([1]),
                                                                lib.ones(1, 3))),
    ("index_fill out of range", lambda lib: lib.zeros(3).index_fill(0, lib.tensor([3]), 1.0)),
    ("index_fill value shape", lambda lib: lib.zeros(3).index_fill(0, lib.tensor([0]),
                                                                   lib.ones(1))),
    ("addcdiv integers", lambda lib: lib.zeros(3, dtype=lib.long).addcdiv(
        lib.ones(3, dtype=lib.long), lib.ones(3, dtype=lib.long))),
    ("addcmul_ grows the tensor", lambda lib: lib.zeros(3).addcmul_(lib.ones(2, 3),
                                                                    lib.ones(3))),
    ("lerp_ grows the tensor", lambda lib: lib.zeros(3).lerp_(lib.ones(2, 3), 0.5)),
    ("fill_diagonal_ 1-d", lambda lib: lib.zeros(3).fill_diagonal_(1.0)),
    ("fill_diagonal_ unequal 3-d", lambda lib: lib.zeros(2, 3, 3).fill_diagonal_(1.0)),
    ("bernoulli_ p > 1", lambda lib: lib.zeros(3).bernoulli_(1.5)),
    ("bernoulli p < 0", lambda lib: lib.bernoulli(lib.tensor([0.5, -0.1]))),
    ("bernoulli NaN", lambda lib: lib.bernoulli(lib.tensor([float("nan")]))),
]


@pytest.mark.parametrize("name,f", REFUSED, ids=[n for n, _ in REFUSED])
def test_refused_as_torch_refuses(name, f):
    with pytest.raises(Exception):  # noqa: B017 -- PyTorch's kind is checked below
        f(torch)
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)) as info:
        f(tg)
    op = name.split()[0].rstrip("_")
    assert op in str(info.value), f"the error should name the op {op}: {info.value}"


# ------------------------------------------------------------------------------ bernoulli
def test_bernoulli_frequencies_seed_and_zero_gradient():
    tg.manual_seed(3)
    a = tg.empty(200, 500).bernoulli_(0.3)
    assert set(np.unique(a.numpy())) <= {0.0, 1.0}
    assert abs(a.numpy().mean() - 0.3) < 0.01
    tg.manual_seed(3)
    np.testing.assert_array_equal(tg.empty(200, 500).bernoulli_(0.3).numpy(), a.numpy())
    probs = np.tile(np.array([0.0, 0.25, 1.0]), (20000, 1))
    b = tg.empty(20000, 3).bernoulli_(Tensor(probs))
    np.testing.assert_allclose(b.numpy().mean(0), [0.0, 0.25, 1.0], atol=0.01)
    # bernoulli(p): the probabilities join the graph with a zero gradient, as in PyTorch
    p = Tensor(np.full((4, 5), 0.5), requires_grad=True)
    s = tg.bernoulli(p)
    assert s.requires_grad and s.dtype == np.float64
    (s * 3).sum().backward()
    tp = torch.full((4, 5), 0.5, dtype=torch.float64, requires_grad=True)
    (torch.bernoulli(tp) * 3).sum().backward()
    _close(p.grad, tp.grad)
    # DropPath, as timm writes it
    x = Tensor(RNG.standard_normal((8, 3)), requires_grad=True)
    keep = x.new_empty((8, 1)).bernoulli_(0.75).div_(0.75)
    (x * keep).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(keep.numpy(), (8, 3)))


def test_half_addcmul_addcdiv_lerp_round_once_and_value_takes_no_part_in_the_dtype():
    """Outside pass: half intermediates overflowed (60000 * 1e-3 * 2 gave inf; PyTorch computes in
    float32 and rounds once); `value * bool tensor` made the result int64 where PyTorch keeps the
    three tensors' dtype; nan_to_num(nan=None) is PyTorch's 0."""
    out = []
    for lib in (tg, torch):
        h = lib.float16
        a, b = lib.tensor([-60000.0], dtype=h), lib.tensor([60000.0], dtype=h)
        row = [lib.addcmul(lib.zeros(1, dtype=h), b, lib.tensor([1e-3], dtype=h), value=2),
               lib.addcdiv(lib.zeros(1, dtype=h), b, lib.tensor([4.0], dtype=h), value=2),
               a.lerp(b, 0.5), a.clone().lerp_(b, lib.tensor([0.25], dtype=h)),
               lib.addcmul(lib.tensor([1, 0, 3], dtype=lib.int32), lib.tensor([True, True, False]),
                           lib.tensor([True, True, False]), value=2),
               lib.tensor([1.0, float("nan")]).nan_to_num(nan=None)]
        out.append([(str(t.dtype).removeprefix("torch."), t.tolist()) for t in row])
    assert out[0] == out[1]
    with pytest.raises(NotImplementedError):
        torch.addcmul(torch.tensor([True]), torch.tensor([True]), torch.tensor([True]))
    with pytest.raises(NotImplementedError, match="bool"):
        tg.addcmul(tg.tensor([True]), tg.tensor([True]), tg.tensor([True]))


def test_addcmul_gradients_are_taken_at_the_result_shape():
    """Found by the long fuzz run: a 0-d -inf tensor1/tensor2 broadcast against a (1, 3) input --
    PyTorch forms the gradient at the result's shape and sums it (mixed-sign infinities: NaN);
    summing the upstream gradient first gave -inf."""
    w = np.array([[1.3, -1.1, 0.2]])
    grads = []
    for lib in (tg, torch):
        r0 = lib.tensor([[-np.inf, 0.775, -0.719]], requires_grad=True)
        s = r0.sum()
        out = lib.tensor([[1.0, 2.0, 3.0]], dtype=lib.float64).addcmul(s, s, value=0.5)
        (out * lib.tensor(w)).sum().backward()
        grads.append(r0.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])

