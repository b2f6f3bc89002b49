"""What an outside tester's own differential fuzzer (t31) found at the edges, against PyTorch:
a float32 variance of huge values (accumulated in float64, as PyTorch's CPU kernel), cumsum's
signed zeros (a running sum from +0), and pow's gradient where the exponent is 0 (0 whatever
the incoming gradient, NaN included)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("op", ["std", "var"])
def test_float32_std_of_huge_values_stays_finite(op):
    vals = [1e20, -1e20, 3e20]
    ours = getattr(tg.tensor(vals, dtype=tg.float32), op)().item()
    theirs = getattr(torch.tensor(vals, dtype=torch.float32), op)().item()
    assert ours == pytest.approx(theirs, rel=1e-6)
    assert math.isfinite(ours) == (op == "std")  # (the variance, 4e40, is past float32's range)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_cumsum_of_negative_zeros_starts_from_plus_zero(dtype):
    vals = [-0.0, -0.0, 1.0, -1.0]
    ours = tg.tensor(vals, dtype=getattr(tg, dtype)).cumsum(0).numpy()
    theirs = torch.tensor(vals, dtype=getattr(torch, dtype)).cumsum(0).numpy()
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
    assert not np.signbit(ours[:2]).any()


def test_pow_gradient_where_the_exponent_is_zero_ignores_a_nan_gradient():
    grads = []
    for L in (tg, torch):
        x = L.tensor([2.0, 3.0, 0.0], dtype=L.float64, requires_grad=True)
        e = L.tensor([0.0, 2.0, 0.0], dtype=L.float64, requires_grad=True)
        up = L.tensor([float("nan"), 1.0, float("inf")], dtype=L.float64)
        (gx,) = L.autograd.grad(x ** e, x, up)
        grads.append(np.asarray(gx.tolist()))
    np.testing.assert_array_equal(grads[0], grads[1])
    np.testing.assert_array_equal(grads[0], [0.0, 6.0, 0.0])
    # through a NaN-making op after it (the tester's program)
    x = tg.tensor([2.0], dtype=tg.float64, requires_grad=True)
    e = tg.tensor([0.0], dtype=tg.float64, requires_grad=True)
    ((x ** e) * 2).asin().sum().backward()  # asin(2) is NaN, its gradient NaN
    assert x.grad.tolist() == [0.0]
