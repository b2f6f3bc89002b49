"""Bad arguments of the CNN functions found by outside tester t28: a numpy array where a Tensor
belongs, a pad that is not an even tuple, a scale factor that is NaN, inf, negative, a string or a
tensor -- each a clear error naming the op (never Python's own error from deep inside)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F


def test_numpy_weight_or_bias_is_named_as_such():
    x = tg.randn(2, 3, 6, 6)
    w = np.ones((4, 3, 3, 3), np.float32)
    with pytest.raises(TypeError, match="conv2d: weight must be a Tensor, got numpy.ndarray"):
        F.conv2d(x, w)
    with pytest.raises(TypeError, match="conv2d: bias must be a Tensor, got numpy.ndarray"):
        F.conv2d(x, tg.tensor(w), np.zeros(4, np.float32))
    assert F.conv2d(x, tg.tensor(w), tg.zeros(4)).shape == (2, 4, 4, 4)


@pytest.mark.parametrize("bad, error", [(None, TypeError), ((1,), TypeError), ((1, 1, 1), TypeError)])
def test_pad_needs_an_even_tuple(bad, error):
    with pytest.raises(error, match="pad: pad must be a tuple of ints, an even number"):
        F.pad(tg.randn(1, 2, 3), bad)


def test_pad_of_a_numpy_array_names_the_op():
    with pytest.raises(TypeError, match="pad: the input must be a Tensor, got numpy.ndarray"):
        F.pad(np.ones((2, 2)), (1, 1))


@pytest.mark.parametrize("factor", [float("nan"), float("inf"), -1.0, "2", tg.tensor(2.0)])
def test_interpolate_refuses_a_bad_scale_factor_by_name(factor):
    with pytest.raises((TypeError, ValueError), match="interpolate: scale_factor must be"):
        F.interpolate(tg.randn(1, 1, 4, 4), scale_factor=factor)


def test_interpolate_area_by_zero_is_empty_as_pytorch():
    torch = pytest.importorskip("torch")
    ours = F.interpolate(tg.randn(2, 3, 6, 6), scale_factor=0.0, mode="area")
    theirs = torch.nn.functional.interpolate(torch.randn(2, 3, 6, 6), scale_factor=0.0,
                                             mode="area")
    assert ours.shape == tuple(theirs.shape) == (2, 3, 0, 0)
