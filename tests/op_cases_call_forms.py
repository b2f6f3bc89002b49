"""Gradient-check cases for the ops behind the call forms of ``test_call_forms.py``
(``op_cases.py``'s format; imported by it): ``div(..., rounding_mode="trunc"/"floor")``, whose
VJP is zero for both inputs. Inputs keep ``x / y`` away from an integer (the jumps)."""

from __future__ import annotations

import numpy as np
from op_cases import case

from tinygrad_cnn import Tensor


def _quotient_safe(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Tensor, Tensor]:
    y = rng.uniform(0.6, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    q = rng.integers(-3, 4, shape) + rng.uniform(0.1, 0.9, shape)
    return Tensor(q * y, requires_grad=True), Tensor(y, requires_grad=True)


@case("div_trunc")
def _div_trunc(rng):
    # times a smooth term, so the check sees a nonzero gradient flow past the zero one
    return (lambda a, b: a.div(b, rounding_mode="trunc") * a * b), _quotient_safe(rng, (3, 4))


@case("div_floor")
def _div_floor(rng):
    return (lambda a, b: a.div(b, rounding_mode="floor") * a + b), _quotient_safe(rng, (3, 4))
