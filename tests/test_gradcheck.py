"""gradcheck itself: it must pass right VJPs, catch wrong ones, and report usefully."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_cnn import Function, GradcheckError, Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.gradcheck import check_grads


class WrongSquare(Function):
    """x**2 with a VJP that is off by 10% for the last element."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        scale = np.ones(x.shape)
        scale.reshape(-1)[-1] = 1.1
        return g * x * 2 * Tensor(scale)


class FirstOrderOnly(Function):
    """x**3 whose VJP is right but not differentiable (it leaves the graph through numpy)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * Tensor(3 * x.numpy() ** 2)


class Flaky(Function):
    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        Flaky.calls += 1
        return g * (1 + 1e-12 * Flaky.calls)


def x64(*shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


def test_passes_correct_gradients():
    assert gradcheck(lambda a, b: (a * b).tanh(), (x64(2, 3), x64(3, seed=1)))
    assert gradcheck(lambda a: a.exp().sum(), x64(4), fast_mode=True)


def test_catches_wrong_vjp_and_names_input_and_element():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: WrongSquare.apply(a) + b, (Tensor(np.ones(3), requires_grad=True),
                                                        x64(3)))
    msg = str(info.value)
    assert "output 0 with respect to input 0" in msg
    assert "input element (2,)" in msg and "output element (2,)" in msg
    assert "analytical: 2.2" in msg and "numerical:  2" in msg
    assert "relative error 0.1" in msg and "atol + rtol" in msg


def test_fast_mode_catches_wrong_vjp():
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(lambda a: WrongSquare.apply(a), x64(4), fast_mode=True)


def test_raise_exception_false_returns_false():
    assert gradcheck(lambda a: WrongSquare.apply(a), x64(3), raise_exception=False) is False


def test_gradgradcheck_catches_non_differentiable_vjp():
    x = x64(3)
    assert gradcheck(lambda a: FirstOrderOnly.apply(a), x)
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda a: FirstOrderOnly.apply(a), x)


def test_non_reentrant_backward_is_caught():
    with pytest.raises(GradcheckError, match="reentrant"):
        gradcheck(lambda a: Flaky.apply(a), x64(2))


def test_float32_inputs_are_checked_on_float64_copies():
    """No warning and no spurious failure at the default eps: the check runs in float64 (and says
    so), and the input comes back float32."""
    import warnings

    x = Tensor(np.random.default_rng(0).standard_normal(5).astype(np.float32), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = check_grads(lambda a: (a.tanh() * a).exp(), x)
    assert report.ok and "float64 copies" in str(report)
    assert x.dtype == np.float32


def test_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda a: a * 2, Tensor(np.ones(2)))


def test_inputs_are_restored():
    x = x64(3)
    before = x.numpy().copy()
    data = x.data
    gradcheck(lambda a: a * a, x)
    assert x.data is data
    np.testing.assert_array_equal(x.numpy(), before)
