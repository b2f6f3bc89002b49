"""Gradient checks that an outside tester (t21) found giving wrong verdicts: a Taylor test that
certified a 0.1%-wrong VJP "exact to rounding" and called relu at 0 a wrong VJP, gradgradcheck
failing a correct function for float32/float16 grad_outputs (numerical 0), and fast mode excusing
a wrong VJP as a kink when its projection mixed the two."""

from __future__ import annotations

import numpy as np
import pytest
from test_gradcheck import FirstOrderOnly
from test_gradcheck_gallery import Relu

from tinygrad_cnn import Function, Tensor, check_grads, gradgradcheck


def _scaled(op: str, factor: float) -> type[Function]:
    """``op`` (sin, exp or tanh) whose VJP is multiplied by ``factor``."""
    fwd = {"sin": np.sin, "exp": np.exp, "tanh": np.tanh}[op]

    class Scaled(Function):
        name = f"{op}_scaled"

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return fwd(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            d = {"sin": lambda: x.cos(), "exp": lambda: x.exp(),
                 "tanh": lambda: 1 - x.tanh() ** 2}[op]()
            return g * d * factor

    return Scaled


def test_taylor_fails_the_reported_band_of_small_vjp_errors():
    # factors 1.00095 .. 1.00107 at this point passed as "exact to rounding" (order inf)
    np.random.seed(0)
    a = np.random.randn(6)
    for factor in (1.0001, 1.0005, 1.00095, 1.001, 1.00107, 1.0011, 1.01, 2.0):
        r = check_grads(_scaled("sin", factor).apply, (Tensor(a, requires_grad=True),),
                        method="taylor")
        assert not r.ok and r.kind == "taylor", (factor, r.headline)
    assert check_grads(_scaled("sin", 1.0).apply, (Tensor(a, requires_grad=True),),
                       method="taylor").ok


@pytest.mark.parametrize("op", ["sin", "exp", "tanh"])
def test_taylor_random_sweep_no_false_pass(op):
    rng = np.random.default_rng(1)
    for trial in range(12):
        x = rng.standard_normal(int(rng.integers(1, 20)))
        factor = 1 + 10 ** rng.uniform(-4, 0) * rng.choice([-1, 1])
        seed = int(rng.integers(0, 1000))
        wrong = check_grads(_scaled(op, factor).apply, (Tensor(x, requires_grad=True),),
                            method="taylor", seed=seed)
        assert not wrong.ok, (op, trial, factor, wrong.headline)
        right = check_grads(_scaled(op, 1.0).apply, (Tensor(x, requires_grad=True),),
                            method="taylor", seed=seed)
        assert right.ok, (op, trial, right.headline)


def test_taylor_at_a_relu_kink_says_not_differentiable():
    for x in (np.zeros(3), np.array([0.0, 1.5, -2.0])):
        r = check_grads(lambda t: t.relu(), (Tensor(x, requires_grad=True),), method="taylor")
        assert not r.ok and r.kind == "not_differentiable", r.headline
        assert "kink" in r.headline


def test_taylor_passes_a_vjp_with_pytorchs_float32_constant():
    # hardsigmoid's VJP multiplies by 1.0f / 6.0f also in float64 (as PyTorch): 3e-8 off
    import tinygrad_cnn.nn.functional as F

    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    r = check_grads(F.hardsigmoid, (x,), method="taylor")
    assert r.ok, r.headline


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_gradgradcheck_with_low_precision_grad_outputs(dtype, requires_grad):
    torch = pytest.importorskip("torch")
    x = np.array([0.3, 0.7, -1.2])
    v = Tensor(np.ones(3, dtype), requires_grad=requires_grad)
    assert gradgradcheck(lambda t: t.sin(), (Tensor(x, requires_grad=True),), (v,))
    assert v.dtype == dtype and v.requires_grad == requires_grad  # the caller's tensor restored
    # PyTorch agrees for a float32 v that does not require grad
    if dtype == np.float32 and not requires_grad:
        assert torch.autograd.gradgradcheck(
            lambda t: t.sin(), (torch.tensor(x, requires_grad=True),),
            (torch.tensor(np.ones(3, dtype)),))


def test_gradgradcheck_low_precision_grad_outputs_still_catch_a_wrong_second_derivative():
    # (first derivative right, the second lost: the VJP leaves the graph through numpy)
    x = Tensor(np.array([0.3, 0.7, -1.2]), requires_grad=True)
    v = Tensor(np.ones(3, np.float32))
    assert not gradgradcheck(FirstOrderOnly.apply, (x,), (v,), raise_exception=False)


def test_fast_mode_does_not_excuse_a_wrong_vjp_next_to_a_kink():
    class ReluNeg(Relu):  # relu whose VJP gives 0.5 instead of 0 for x < 0
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ((x > 0) * 1.0 + (x <= 0) * 0.5)

    r = check_grads(ReluNeg.apply, (Tensor([0.0, -1.0], requires_grad=True),), fast_mode=True)
    assert not r.ok and r.kind == "wrong_vjp", r.headline
    # a right VJP at a kink is still a kink in fast mode
    r = check_grads(lambda t: t.relu(), (Tensor([0.0, -1.0, 2.0], requires_grad=True),),
                    fast_mode=True)
    assert not r.ok and r.kind == "not_differentiable", r.headline
