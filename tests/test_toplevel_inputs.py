"""Top-level functions given a list or an array where the Tensor goes: PyTorch's TypeError naming
the function, not an AttributeError from inside (found by an outside tester, indexing, eleventh
session)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

_CALLS = {
    "nonzero": ([1, 0],), "index_select": ([1.0, 2.0], 0, tg.tensor([0])),
    "masked_select": ([1.0], tg.tensor([True])), "take": (np.array([1.0]), tg.tensor([0])),
    "take_along_dim": ([[1.0]], tg.tensor([[0]]), 1), "narrow": ([1.0], 0, 0, 1),
    "select": ([1.0], 0, 0), "unbind": ([1.0],), "split": ([1.0], 1), "chunk": ([1.0], 1),
    "masked_fill": ([1.0], tg.tensor([True]), 0.0),
    "scatter": (np.zeros(2), 0, tg.tensor([0]), tg.tensor([1.0])),
    "scatter_add": (np.zeros(2), 0, tg.tensor([0]), tg.tensor([1.0])),
    "masked_scatter": ([1.0], tg.tensor([True]), tg.tensor([2.0])),
    "flip": ([1.0], 0), "roll": ([1.0], 1), "tril": ([[1.0]],), "movedim": ([[1.0]], 0, 1),
}


@pytest.mark.parametrize("name", list(_CALLS))
def test_a_list_first_is_a_type_error_naming_the_function(name: str) -> None:
    with pytest.raises(TypeError, match=rf"^{name}\(\): argument 'input' must be a Tensor"):
        getattr(tg, name)(*_CALLS[name])


def test_tensors_still_pass() -> None:
    x = tg.arange(6.0).reshape(2, 3)
    assert [t.tolist() for t in tg.split(x, 1)] == [[[0.0, 1.0, 2.0]], [[3.0, 4.0, 5.0]]]
    assert tg.index_select(x, 1, tg.tensor([2, 0])).tolist() == [[2.0, 0.0], [5.0, 3.0]]
    assert tg.nonzero(input=tg.tensor([0, 3])).tolist() == [[1]]
