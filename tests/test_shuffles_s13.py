"""pixel_shuffle, pixel_unshuffle and channel_shuffle return a new tensor, never a view of their
input -- also where their reshapes need no copy (outside tester t28) -- as PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F

torch = pytest.importorskip("torch")

CASES = [
    ("pixel_shuffle", (1, 4, 1, 1), 2),      # a 1×1 map
    ("pixel_shuffle", (1, 3, 2, 2), 1),      # a factor of 1
    ("pixel_unshuffle", (1, 3, 2, 2), 1),
    ("channel_shuffle", (1, 2, 1, 1), 2),    # one channel per group
    ("channel_shuffle", (2, 3, 2, 2), 1),
]


@pytest.mark.parametrize("name, shape, arg", CASES)
def test_a_write_into_the_result_leaves_the_input_alone(name, shape, arg):
    x = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    ours = tg.tensor(x)
    getattr(F, name)(ours, arg).mul_(0)
    theirs = torch.tensor(x)
    getattr(torch.nn.functional, name)(theirs, arg).mul_(0)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(ours.numpy(), x)


@pytest.mark.parametrize("name, shape, arg", CASES)
def test_a_later_write_into_the_input_changes_neither_result_nor_gradient(name, shape, arg):
    x = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    grads = []
    for L, f in ((tg, getattr(F, name)), (torch, getattr(torch.nn.functional, name))):
        leaf = L.tensor(x, requires_grad=True)
        h = leaf * 1
        y = f(h, arg)
        h.mul_(10)
        (y * y).sum().backward()
        grads.append(np.asarray(leaf.grad.tolist()))
    np.testing.assert_allclose(grads[0], grads[1])
    np.testing.assert_allclose(grads[0], 2 * x)


def test_in_place_on_the_shuffled_output_of_a_leaf_is_allowed():
    leaf = tg.tensor(np.ones((1, 4, 1, 1)), requires_grad=True)
    y = F.pixel_shuffle(leaf, 2)
    y.mul_(3)
    y.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), np.full((1, 4, 1, 1), 3.0))
