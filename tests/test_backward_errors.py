"""Errors raised during backward name the op whose VJP failed and the line of user code that
created it (and its module)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from tinygrad_cnn import Function, Tensor, nn

HERE = os.path.basename(__file__)


class Fragile(Function):
    """y = 2 x; its VJP fails, or returns a wrong shape, on request."""

    @staticmethod
    def forward(ctx, x, mode="raise"):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        if ctx.attrs.get("mode", "raise") == "raise":
            raise ValueError("the VJP broke")
        if ctx.attrs.get("mode") == "shape":
            return g.sum()
        return g, g


def test_an_exception_inside_a_vjp_names_the_op_and_its_line():
    x = Tensor(np.ones(3), requires_grad=True)
    line = sys._getframe().f_lineno + 1
    y = Fragile.apply(x).sum()
    with pytest.raises(ValueError) as info:
        y.backward()
    # (a user Function's exception keeps its message, as PyTorch's; the op and line are a note)
    assert str(info.value) == "the VJP broke"
    (note,) = info.value.__notes__
    assert note.startswith("in the VJP of fragile, created at ")
    assert note.endswith(f"{HERE}:{line} in test_an_exception_inside_a_vjp_names_the_op_and_its_line")


@pytest.mark.parametrize("mode, error, words", [
    ("shape", RuntimeError, "returned a gradient of shape ()"),
    ("two", RuntimeError, "returned 2 gradients for 1 inputs"),
])
def test_a_malformed_vjp_names_the_line_that_created_the_op(mode, error, words):
    x = Tensor(np.ones(3), requires_grad=True)
    line = sys._getframe().f_lineno + 1
    y = Fragile.apply(x, mode=mode).sum()
    with pytest.raises(error) as info:
        y.backward()
    assert words in str(info.value)
    assert "The fragile was created at " in str(info.value)
    assert f"{HERE}:{line}" in str(info.value)
    assert str(info.value).count(f"{HERE}:{line}") == 1


def test_a_second_backward_through_a_freed_graph_names_the_op_and_module():
    model = nn.Sequential(nn.Linear(3, 2))
    loss = model(Tensor(np.ones((1, 3), np.float32))).tanh().sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"second time.*\(in the VJP of tanh, created at "
                                           rf".*{HERE}:\d+"):
        loss.backward()
