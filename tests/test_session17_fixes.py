"""Session 17's fixes, each checked against an exact oracle or PyTorch (skipped without it): the
Taylor test in float32 and at any scale, ..."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.gradcheck import check_grads


class _Square(tg.Function):
    factor = 2.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        return cls.factor * x * g


class _DoubledSquare(_Square):
    factor = 4.0


@pytest.mark.parametrize("scale", [1e-9, 1e-7, 1e-5, 1.0, 1e3])
def test_the_taylor_test_judges_a_vjp_at_any_scale(scale):
    # x² with a VJP of 4x at |x| ~ 1e-7: the error h·2x outgrows the h² term only below
    # h ~ 1e-7, so the test halves down to rounding before it calls an order of 2 a pass
    x = tg.Tensor(np.random.default_rng(1).standard_normal(5) * scale, requires_grad=True)
    assert check_grads(_Square.apply, (x,), method="taylor").ok
    wrong = check_grads(_DoubledSquare.apply, (x,), method="taylor")
    assert not wrong.ok and wrong.kind == "taylor"


class _Sin32(tg.Function):
    """sin computed in float32 by numpy, out of the graph's sight; ``factor`` scales its VJP."""

    factor = 1.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x.astype(np.float32)).astype(np.float64)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        return cls.factor * x.cos() * g


class _Sin32Off3(_Sin32):
    factor = 1.03


class _SumSquares32(tg.Function):
    """A scalar computed in float32: one output value to tell its precision by."""

    factor = 2.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.array((x.astype(np.float32) ** 2).sum(dtype=np.float32), dtype=np.float64)

    @classmethod
    def backward(cls, ctx, g):
        (x,) = ctx.saved_tensors
        return cls.factor * x * g


class _SumSquares32Doubled(_SumSquares32):
    factor = 4.0


W32 = np.random.default_rng(0).standard_normal((30, 20)).astype(np.float32)
FLOAT32_INSIDE = {
    "graph float32 sin": (lambda t: t.float().sin().double(), (6,)),
    "graph float32 matmul": (lambda t: (t.float() @ tg.Tensor(W32)).tanh().sum().double(),
                             (5, 30)),
    "graph float32 sin(100 x)": (lambda t: (t.float() * 100).sin().double(), (6,)),
    "numpy float32 sin": (_Sin32.apply, (6,)),
    "numpy float32 scalar": (_SumSquares32.apply, (2000,)),
}


@pytest.mark.parametrize("case", sorted(FLOAT32_INSIDE))
def test_the_taylor_test_passes_right_vjps_of_functions_computing_in_float32(case):
    # (each failed for 9-20 of 20 seeds: float32 rounding read as a wrong VJP)
    fn, shape = FLOAT32_INSIDE[case]
    for seed in range(8):
        x = tg.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
        report = check_grads(fn, (x,), method="taylor")
        assert report.ok, (seed, str(report))


@pytest.mark.parametrize("fn,shape", [(_Sin32Off3.apply, (6,)),
                                      (_SumSquares32Doubled.apply, (2000,))])
def test_the_taylor_test_in_float32_still_fails_a_wrong_vjp(fn, shape):
    # its rounding is measured, not bounded by 1000 ulps (a bound that let a VJP off by 3% pass)
    failed = 0
    for seed in range(8):
        x = tg.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
        failed += not check_grads(fn, (x,), method="taylor").ok
    assert failed >= 7
