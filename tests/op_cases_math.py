"""Gradient-check cases for issue 14's math (``op_cases.py``'s format; imported by it): the
elementwise math of ops/unary.py and ops/elementwise.py, the reductions of ops/reduce.py, einsum.

Inputs are float64 and kept inside each op's domain and away from its kinks: the rounding ops
away from integers and halves, remainder/fmod away from the jumps of the quotient, prod and cumprod
with zeros in their own cases (their VJPs switch formula there), norm away from ties of max |x|.
"""

from __future__ import annotations

import numpy as np
from op_cases import case, t

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor


def _in(rng: np.random.Generator, lo: float, hi: float, *shape: int) -> Tensor:
    return Tensor(rng.uniform(lo, hi, shape), requires_grad=True)


def _off_integers(rng: np.random.Generator, *shape: int, offset: float = 0.5) -> Tensor:
    """Values ``k + offset ± 0.3``: away from the jumps of floor/ceil/trunc (offset 0.5) or of
    round (offset 0)."""
    return Tensor(rng.integers(-3, 4, shape) + offset + rng.uniform(-0.3, 0.3, shape),
                  requires_grad=True)


# ------------------------------------------------------------------------- one tensor
for _name, _lo, _hi in [("sin", -3, 3), ("cos", -3, 3), ("tan", -1.2, 1.2), ("asin", -0.9, 0.9),
                        ("acos", -0.9, 0.9), ("atan", -3, 3), ("sinh", -2, 2), ("cosh", -2, 2),
                        ("asinh", -3, 3), ("acosh", 1.2, 4), ("atanh", -0.9, 0.9),
                        ("log1p", -0.8, 3), ("expm1", -2, 2), ("log2", 0.2, 4), ("log10", 0.2, 4),
                        ("exp2", -2, 2), ("reciprocal", 0.5, 3), ("rsqrt", 0.3, 3),
                        ("erf", -2.5, 2.5), ("erfc", -2.5, 2.5), ("erfinv", -0.9, 0.9)]:
    def _make(rng, name=_name, lo=_lo, hi=_hi):
        return (lambda a: getattr(a, name)()), (_in(rng, lo, hi, 3, 4),)

    case(_name, "uniform")(_make)


@case("lgamma", "both_signs")
def _lgamma(rng):  # (away from the poles 0, -1, -2)
    return (lambda a: a.lgamma()), (Tensor(rng.uniform(0.2, 4, (3, 4)) * rng.choice([1, -1], (3, 4))
                                           - 0.1, requires_grad=True),)


@case("digamma", "uniform")
def _digamma(rng):
    return (lambda a: a.digamma()), (_in(rng, 0.2, 6, 3, 4),)


@case("digamma", "negative")
def _digamma_negative(rng):  # between the poles
    return (lambda a: a.digamma()), (_in(rng, -2.8, -2.2, 3, 4),)


@case("polygamma", "n2")
def _polygamma(rng):
    return (lambda a: a.polygamma(2)), (_in(rng, 0.3, 5, 3, 4),)


@case("logit", "uniform")
def _logit(rng):
    return (lambda a: a.logit()), (_in(rng, 0.05, 0.95, 3, 4),)


@case("logit", "eps")
def _logit_eps(rng):  # inside [eps, 1 - eps] (outside the gradient is 0, a step at the ends)
    return (lambda a: a.logit(eps=0.01)), (_in(rng, 0.05, 0.95, 3, 4),)


@case("reciprocal", "negative")
def _reciprocal_negative(rng):
    return (lambda a: a.reciprocal()), (_in(rng, -3, -0.5, 5),)


@case("floor")
def _floor(rng):
    return (lambda a: a.floor() * a), (_off_integers(rng, 3, 4),)


@case("ceil")
def _ceil(rng):
    return (lambda a: a.ceil() * a), (_off_integers(rng, 3, 4),)


@case("trunc")
def _trunc(rng):
    return (lambda a: a.trunc() * a), (_off_integers(rng, 3, 4),)


@case("sign")
def _sign(rng):  # away from 0, where the step is
    return (lambda a: a.sign() * a), (_off_integers(rng, 3, 4),)


@case("angle")
def _angle(rng):  # away from 0, where the step is (pi or 0: a step too)
    return (lambda a: a.angle() * a + a), (_off_integers(rng, 3, 4),)


@case("round")
def _round(rng):
    return (lambda a: a.round() * a), (_off_integers(rng, 3, 4, offset=0.0),)


@case("round", "decimals")
def _round_decimals(rng):
    x = Tensor((rng.integers(-300, 300, (2, 5)) + rng.uniform(-0.3, 0.3, (2, 5))) / 100,
               requires_grad=True)
    return (lambda a: a.round(decimals=2) * a), (x,)


@case("frac")
def _frac(rng):
    return (lambda a: a.frac() * a), (_off_integers(rng, 3, 4),)


@case("nan_to_num")
def _nan_to_num(rng):  # finite points: the identity, whose second derivative flows through a
    return (lambda a: a.nan_to_num() * a), (t(rng, 3, 4),)


# ------------------------------------------------------------------------- two tensors
def _quotient_safe(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    """``x, y`` with ``x / y`` at least 0.1 away from an integer (the jumps of remainder/fmod)."""
    y = rng.uniform(0.6, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    q = rng.integers(-3, 4, shape) + rng.uniform(0.1, 0.9, shape)
    return Tensor(q * y, requires_grad=True), Tensor(y, requires_grad=True)


@case("remainder")
def _remainder(rng):
    return (lambda a, b: (a % b) * b), _quotient_safe(rng, (3, 4))


@case("remainder", "broadcast_scalar")
def _remainder_scalar(rng):
    x, _ = _quotient_safe(rng, (2, 3))
    return (lambda a: 1.7 % (a * a + 0.3) + a % 0.9), (x,)


@case("fmod")
def _fmod(rng):
    return (lambda a, b: a.fmod(b) * a), _quotient_safe(rng, (3, 4))


@case("atan2")
def _atan2(rng):
    return (lambda a, b: a.atan2(b)), (t(rng, 3, 4), t(rng, 4, away=0.3))


@case("hypot")
def _hypot(rng):
    return (lambda a, b: a.hypot(b)), (t(rng, 3, 4, away=0.2), t(rng, 3, 1, away=0.2))


@case("xlogy")
def _xlogy(rng):
    x = t(rng, 3, 4)
    x._data[0, :2] = 0.0  # (smooth in x at 0 where y > 0: the gradient is log y)
    return (lambda a, b: a.xlogy(b)), (x, _in(rng, 0.5, 2.0, 4))


@case("copysign")
def _copysign(rng):
    return (lambda a, b: a.copysign(b) * a), (t(rng, 3, 4, away=0.2), t(rng, 4, away=0.2))


@case("logaddexp")
def _logaddexp(rng):
    return (lambda a, b: a.logaddexp(b)), (t(rng, 3, 4), t(rng, 3, 1))


@case("logaddexp2")
def _logaddexp2(rng):
    return (lambda a, b: a.logaddexp2(b)), (t(rng, 3, 4), t(rng, 3, 1))


@case("lerp", "tensor_weight")
def _lerp(rng):
    return (lambda a, b, w: a.lerp(b, w)), (t(rng, 3, 4), t(rng, 4), _in(rng, -0.5, 1.5, 3, 1))


@case("lerp", "number_weight")
def _lerp_number(rng):
    return (lambda a, b: a.lerp(b, 0.3) * a.lerp(b, 0.8)), (t(rng, 3, 4), t(rng, 3, 4))


# ------------------------------------------------------------------------- reductions
@case("min")
def _amin(rng):
    return (lambda a: a.amin(1) * a.amin()), (t(rng, 3, 4),)


@case("prod")
def _prod(rng):
    return (lambda a: a.prod(1) * a.prod()), (t(rng, 3, 4, away=0.3),)


@case("prod", "one_zero")
def _prod_one_zero(rng):
    x = rng.standard_normal((3, 4))
    x[0, 1] = 0.0
    return (lambda a: a.prod(1, keepdim=True) * a.prod()), (Tensor(x, requires_grad=True),)


@case("prod", "two_zeros")
def _prod_two_zeros(rng):
    x = rng.standard_normal((2, 4))
    x[0, 1] = x[0, 3] = 0.0
    return (lambda a: a.prod(1)), (Tensor(x, requires_grad=True),)


@case("cumsum")
def _cumsum(rng):
    return (lambda a: a.cumsum(0) * a.cumsum(-1)), (t(rng, 3, 4),)


@case("cumprod")
def _cumprod(rng):
    return (lambda a: a.cumprod(1)), (t(rng, 3, 4, away=0.3),)


@case("cumprod", "zeros")
def _cumprod_zeros(rng):
    x = rng.standard_normal((3, 5))
    x[0, 2] = 0.0  # one zero
    x[1, 0] = x[1, 3] = 0.0  # two zeros
    return (lambda a: a.cumprod(1)), (Tensor(x, requires_grad=True),)


@case("var")
def _var(rng):
    return (lambda a: a.var(1) * a.var(correction=0)), (t(rng, 3, 4),)


@case("var", "dims_keepdim")
def _var_dims(rng):
    return (lambda a: a.var((0, 2), keepdim=True, correction=2)), (t(rng, 3, 2, 4),)


@case("std")
def _std(rng):
    return (lambda a: a.std(0) * a.std(unbiased=False)), (t(rng, 3, 4),)


@case("norm")
def _norm(rng):
    return (lambda a: a.norm() * a.norm(dim=1)), (t(rng, 3, 4),)


@case("norm", "p")
def _norm_p(rng):
    def f(a):
        return (a.norm(p=1, dim=0) + a.norm(p=3, dim=0) + a.norm(p=0.5, dim=0)
                + a.norm(p=1.5, dim=0) + a.norm(p=float("inf"), dim=0)
                + a.norm(p=-float("inf"), dim=0) + a.norm(p=-1, dim=0))

    return f, (t(rng, 4, 3, away=0.2),)


# ------------------------------------------------------------------------- einsum
@case("einsum", "matmul")
def _einsum(rng):
    return (lambda a, b: tg.einsum("ij,jk->ik", a, b)), (t(rng, 3, 4), t(rng, 4, 2))


@case("einsum", "batch_diagonal_ellipsis")
def _einsum_grammar(rng):
    def f(a, b, c):
        return (tg.einsum("bij,bjk", a, b).sum() * tg.einsum("ii", c)
                + tg.einsum("...i,ii->...i", a, c).sum())

    return f, (t(rng, 2, 3, 3), t(rng, 2, 3, 2), t(rng, 3, 3))


@case("einsum", "three_operands")
def _einsum_three(rng):
    return (lambda a, b, c: tg.einsum("ij,jk,k->i", a, b, c)), (t(rng, 2, 3), t(rng, 3, 4),
                                                               t(rng, 4))


@case("mul", "kron_cross")
def _kron_cross(rng):
    return (lambda a, b: tg.kron(a * a, b).sum(1) * tg.linalg.cross(a, b[:2, :3]).sum()
            ), (t(rng, 2, 3), t(rng, 3, 4))


@case("einsum", "inner")
def _inner(rng):
    return (lambda a, b: tg.inner(a * a, b)), (t(rng, 2, 3), t(rng, 4, 3))


@case("einsum", "tensordot_outer")
def _tensordot(rng):
    return (lambda a, b: tg.tensordot(a, b, dims=([1, 2], [0, 1])) * tg.outer(a[0, 0], b[0, 0]).sum()
            ), (t(rng, 2, 3, 4), t(rng, 3, 4, 2))


def _well_conditioned(rng, *shape: int) -> Tensor:
    """Square matrices ``A + 3 I``: invertible, away from where inverse and det blow up."""
    return Tensor(rng.standard_normal(shape) + 3 * np.eye(shape[-1]), requires_grad=True)


@case("linalg_inv", "batched")
def _inv(rng):
    return (lambda a: tg.linalg.inv(a)), (_well_conditioned(rng, 2, 3, 3),)


@case("linalg_det", "batched")
def _det(rng):
    return (lambda a: tg.linalg.det(a) * a.inverse().sum()), (_well_conditioned(rng, 2, 3, 3),)


@case("linalg_svd", "gauge_free")
def _svd(rng):
    def f(a):
        u, s, vh = tg.linalg.svd(a, full_matrices=False)
        return (u * s.unsqueeze(-2)) @ vh + (u.abs() @ vh.abs()) * 0.5 + s.sum()
    return f, (t(rng, 2, 3, 4),)


@case("sum", "trapezoid")
def _trapezoid(rng):
    return (lambda y, x: tg.trapezoid(y * y, x, dim=0) + tg.trapezoid(y, dx=0.5, dim=0)
            + tg.cumulative_trapezoid(y * x[:, None], dim=0).sum(0)), (t(rng, 4, 2), t(rng, 4))
