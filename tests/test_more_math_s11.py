"""float_power, sinc, xlogy (function forms, numbers first) and the in-place logical ops against
PyTorch: values, dtypes and float64 gradients. (Missing until outside testers asked for them,
eleventh session; xlogy's op is gradchecked and fuzzed with the others.)"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _grads(L, fn, *values):
    xs = [L.tensor(v, dtype=L.float64, requires_grad=True) for v in values]
    out = fn(L, *xs)
    out.sum().backward()
    return out.tolist(), str(out.dtype).split(".")[-1], [x.grad.tolist() for x in xs]


@pytest.mark.parametrize("fn,values", [
    (lambda L, x, y: L.xlogy(x, y), ([0.0, 0.0, 0.0, 1.0, 2.0, -1.0, 0.0],
                                     [0.0, float("nan"), float("inf"), 0.0, 3.0, 2.0, -1.0])),
    # (not 1e-9: there PyTorch's quotient rounds its gradient to 0 where it is -3.3e-9 --
    # tests/test_session26_fixes.py checks small inputs against the series)
    (lambda L, x: L.sinc(x), ([0.0, 0.5, -1.0, 0.3, 2.5],)),
    (lambda L, x, y: L.float_power(x, y), ([2.0, 3.0, 0.5], [2.0, 0.5, -1.0])),
    (lambda L, x: x.float_power(2), ([2.0, 3.0],)),
], ids=["xlogy_edges", "sinc", "float_power", "float_power_number"])
def test_values_and_gradients(fn, values) -> None:
    ours, theirs = _grads(tg, fn, *values), _grads(torch, fn, *values)
    assert ours[1] == theirs[1]
    np.testing.assert_allclose(np.array(ours[0]), np.array(theirs[0]), rtol=1e-12)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-12)


@pytest.mark.parametrize("expr", [
    lambda L: L.xlogy(2, L.tensor([3.0])),
    lambda L: L.xlogy(L.tensor([0, 2]), 3),
    lambda L: L.float_power(L.tensor([2]), 2),
    lambda L: L.tensor([2.0]).float_power(L.tensor([3], dtype=L.int32)),
    lambda L: L.sinc(L.tensor([0, 1])),
], ids=["number_first", "int_tensor", "int_float_power", "float32_int32", "int_sinc"])
def test_dtypes_and_number_arguments(expr) -> None:
    ours, theirs = expr(tg), expr(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name,start,other", [
    ("logical_and_", [1.0, 0.0, 2.0], [True, True, False]),
    ("logical_or_", [3, 0], [0, 0]),
    ("logical_xor_", [True, False], [True, True]),
    ("logical_not_", [True, False], None),
    ("logical_not_", [2.5, 0.0], None),
])
def test_logical_ops_in_place(name, start, other) -> None:
    out = []
    for L in (tg, torch):
        x = L.tensor(start)
        args = () if other is None else (L.tensor(other),)
        r = getattr(x, name)(*args)
        assert r is x
        out.append((x.tolist(), str(x.dtype).split(".")[-1]))
    assert out[0] == out[1]


@pytest.mark.parametrize("fn,values", [
    (lambda L, x, y: L.copysign(x, y), ([1.0, -2.0, 0.0, -0.0, 3.0, float("inf")],
                                        [-1.0, 2.0, -3.0, 1.0, -0.0, -1.0])),
    (lambda L, x, y: L.logaddexp(x, y), ([1.0, float("-inf"), float("inf"), 0.0, 0.0],
                                         [2.0, float("-inf"), float("inf"), -1000.0, float("inf")])),
    (lambda L, x: L.diag(x), ([1.0, 2.0, 3.0],)),
    (lambda L, x: L.diag(x.reshape(3, 2), -1), ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0],)),
    (lambda L, x: x.clone().sinc_(), ([0.0, 0.5, 2.5],)),
    (lambda L, x, y: x.clone().xlogy_(y), ([0.0, 2.0], [0.0, 3.0])),
    (lambda L, x: x.clone().float_power_(2), ([1.5, -2.0],)),
], ids=["copysign", "logaddexp", "diag_1d", "diag_2d", "sinc_", "xlogy_", "float_power_"])
def test_more_ops_values_and_gradients(fn, values) -> None:
    ours, theirs = _grads(tg, fn, *values), _grads(torch, fn, *values)
    assert ours[1] == theirs[1]
    np.testing.assert_allclose(np.array(ours[0]), np.array(theirs[0]), rtol=1e-12)
    for a, b in zip(ours[2], theirs[2]):
        np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float),
                                   rtol=1e-12)


def test_sinc_in_half_as_pytorch() -> None:
    x = np.random.default_rng(0).uniform(-4, 4, 500).astype(np.float16)
    x[:3] = [1, 2, -3]
    np.testing.assert_array_equal(tg.sinc(tg.tensor(x)).numpy(), torch.sinc(torch.tensor(x)).numpy())


def test_diff_of_order_zero_is_a_copy() -> None:
    x = tg.tensor([1.0, 2.0])
    tg.diff(x, n=0).add_(1)
    assert x.tolist() == [1.0, 2.0]


def test_once_differentiable_import_path() -> None:
    from tinygrad_cnn.autograd.function import Function, FunctionCtx, once_differentiable

    assert once_differentiable is tg.once_differentiable and Function is tg.Function
    assert FunctionCtx is tg.Context


def test_float_power_in_place_needs_float64() -> None:
    with pytest.raises(RuntimeError, match="requires dtype float64"):
        tg.tensor([1.0]).float_power_(2)


def test_xlogy_gradient_where_the_upstream_gradient_is_zero() -> None:
    # (the long fuzz: PyTorch's VJP is xlogy(g, y), 0 where g is 0 even where log(y) is NaN)
    out = []
    for L in (tg, torch):
        x = L.tensor([-0.13, 0.5, 0.0], dtype=L.float64, requires_grad=True)
        L.xlogy(x, x).clamp(-0.5, 0.5).sum().backward()
        out.append(np.nan_to_num(x.grad.numpy(), nan=99.0).tolist())
    assert out[0] == out[1]
