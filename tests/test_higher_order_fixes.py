"""Second derivatives against PyTorch: what an outside tester (higher-order derivatives, eleventh
session) found -- the jvp of ``x ** e`` at base 0 was NaN (the mask sat after the product, whose
VJP to the cotangent multiplied 0 by the factor's inf), and the divisor's gradient of ``fmod`` /
``remainder`` had no graph, so differentiating it again raised."""

from __future__ import annotations

import pytest
import tinygrad_cnn.autograd.functional as GAF

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as tF

torch = pytest.importorskip("torch")
TAF = torch.autograd.functional
TF = torch.nn.functional


def test_jvp_of_pow_at_base_zero_is_the_jacobians() -> None:
    out = []
    for lib, AF in ((tg, GAF), (torch, TAF)):
        x = lib.tensor([0.0, 1.5], dtype=lib.float64)
        e = lib.tensor([2.0, 2.0], dtype=lib.float64)
        one = lib.ones(2, dtype=lib.float64)
        out.append((AF.jvp(lambda a, b: a ** b, (x, e), (one, one))[1].tolist(),
                    AF.jvp(lambda b: 0.0 ** b, e, one)[1].tolist()))
    assert out[0] == out[1]
    assert out[0][0][0] == 0.0


def test_gradient_of_the_exponent_gradient_with_respect_to_the_cotangent() -> None:
    out = []
    for lib, F in ((tg, tF), (torch, TF)):
        x = lib.tensor([0.0, 1.0, -1.0], dtype=lib.float64, requires_grad=True)
        p = lib.tensor([1.5, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        v = lib.ones(3, dtype=lib.float64, requires_grad=True)
        gx, gp = lib.autograd.grad(F.relu(x) ** p, (x, p), grad_outputs=v, create_graph=True)
        out.append((gp.tolist(), lib.autograd.grad(gp.sum(), v, retain_graph=True)[0].tolist(),
                    lib.autograd.grad(gx.sum(), v)[0].tolist()))
    assert out[0] == out[1]


@pytest.mark.parametrize("dtype", ["float64", "float16"])
@pytest.mark.parametrize("op", ["fmod", "remainder"])
def test_divisor_gradient_differentiates_to_zero(op: str, dtype: str) -> None:
    out = []
    for lib in (tg, torch):
        x = lib.tensor([5.5, -7.25, 3.0, 9.1], dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.tensor([2.0, 2.5, -1.25, 0.7], dtype=getattr(lib, dtype), requires_grad=True)
        gx, gy = lib.autograd.grad(getattr(lib, op)(x, y).sum(), (x, y), create_graph=True)
        second = lib.autograd.grad(gy.sum(), (x, y))
        out.append((gy.tolist(), [s.tolist() for s in second]))
    assert out[0] == out[1]


def test_gradgradcheck_of_a_once_differentiable_backward_fails_cleanly() -> None:
    import numpy as np

    class GSin(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        @tg.once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * np.cos(x)

    x = tg.tensor(np.array([0.3, 1.0]), requires_grad=True)
    assert tg.gradgradcheck(GSin.apply, (x,), raise_exception=False) is False
    with pytest.raises(tg.GradcheckError, match="once_differentiable"):
        tg.gradgradcheck(GSin.apply, (x,))
    assert tg.gradcheck(GSin.apply, (x,))


def test_batch_norm_in_training_refuses_eps_zero_as_pytorch() -> None:
    x = tg.ones(4, 3, 2, 2)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        tF.batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError):
        TF.batch_norm(torch.ones(4, 3, 2, 2), None, None, training=True, eps=0.0)
    assert tF.batch_norm(x, tg.zeros(3), tg.ones(3), training=False, eps=0.0).shape == (4, 3, 2, 2)
