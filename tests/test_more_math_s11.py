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
    (lambda L, x: L.sinc(x), ([0.0, 0.5, -1.0, 1e-9, 2.5],)),
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
