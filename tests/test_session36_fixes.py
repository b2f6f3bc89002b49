"""Session 36's fixes, each found by an outside tester (report number in the test's docstring)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg


def _x():
    return tg.tensor([1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize(("call", "want"), [
    (lambda x: x.var(unbiased=np.False_), 1.25), (lambda x: tg.std(x, unbiased=np.False_), 1.25**0.5),
    (lambda x: x.var(0, np.False_), 1.25), (lambda x: tg.var_mean(x, unbiased=np.False_)[0], 1.25),
    (lambda x: x.var(np.True_), 5 / 3),
])
def test_numpy_bools_are_bools(call, want):
    """t129: unbiased=np.False_ (what a numpy comparison gives) gave the unbiased estimate."""
    assert float(call(_x())) == pytest.approx(want, rel=1e-6)


@pytest.mark.parametrize("call", [lambda x: x.var(0, 0), lambda x: tg.std(x, unbiased=0),
                                  lambda x: x.std(unbiased=1), lambda x: tg.var(x, 0, "no")])
def test_unbiased_must_be_a_bool(call):
    """t129: any other value is PyTorch's TypeError, not a silent choice."""
    with pytest.raises(TypeError, match="unbiased must be True or False"):
        call(_x())


def test_tensor_takes_data_only_positionally():
    """t129: tensor([1., 2], True) made a tensor that requires grad; tensor([1, 2], float64)
    failed with a misleading message. PyTorch's options are keyword-only."""
    with pytest.raises(TypeError, match="positional"):
        tg.tensor([1.0, 2.0], True)
    with pytest.raises(TypeError, match="positional"):
        tg.tensor([1, 2], tg.float64)
    assert tg.tensor([1.0], requires_grad=True).requires_grad
