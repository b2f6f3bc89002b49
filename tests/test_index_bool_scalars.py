"""``True``/``False`` (and 0-d bool tensors) in an index, against PyTorch: a new dim of size 1 at
their place with a one-element mask over it -- not numpy's reading, which moved dims beside ints
(``x[1, :, True]`` was ``(1, 3, 4)``, PyTorch ``(3, 1, 4)``) and refused ``x[True, mask]``.
Found by an outside tester (indexing, eleventh session). Every key of up to three items from the
list below, in getitem (values, shape, gradient) and setitem."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

_ITEMS = {"1": lambda M: 1, ":": lambda M: slice(None), "None": lambda M: None,
          "True": lambda M: True, "False": lambda M: False, "...": lambda M: Ellipsis,
          "[0,1]": lambda M: [0, 1], "t1": lambda M: M.tensor(1), "tTrue": lambda M: M.tensor(True),
          "mask": lambda M: M.tensor([False, True]), "-1": lambda M: -1}
_KEYS = [c for r in (1, 2, 3) for c in itertools.product(_ITEMS, repeat=r)
         if c.count("...") <= 1 and any(x in ("True", "False", "tTrue") for x in c)]


def _get(M, combo):
    x = M.arange(24.0, dtype=M.float64).reshape(2, 3, 4).requires_grad_(True)
    try:
        y = x[tuple(_ITEMS[c](M) for c in combo)]
    except IndexError:
        return None
    g = M.arange(float(y.numel()), dtype=M.float64).reshape(y.shape) + 1
    (y * g).sum().backward()
    return tuple(y.shape), y.detach().flatten().tolist(), x.grad.flatten().tolist()


def _set(M, combo):
    x = M.zeros(2, 3, 4, dtype=M.float64)
    key = tuple(_ITEMS[c](M) for c in combo)
    try:
        shape = x[key].shape
        x[key] = M.arange(float(np.prod(shape)), dtype=M.float64).reshape(shape) + 1
    except IndexError:
        return None
    return x.flatten().tolist()


@pytest.mark.parametrize("combo", _KEYS, ids=["|".join(c) for c in _KEYS])
def test_bool_scalar_in_an_index_as_pytorch(combo) -> None:
    assert _get(tg, combo) == _get(torch, combo)
    assert _set(tg, combo) == _set(torch, combo)


@pytest.mark.parametrize("key", [lambda M: True, lambda M: False, lambda M: (1, True),
                                 lambda M: M.tensor(True), lambda M: (slice(None), True),
                                 lambda M: (True,)],
                         ids=["true", "false", "int_true", "tensor_true", "slice_true", "tuple"])
def test_setitem_with_a_bool_scalar_and_a_value_of_another_dtype(key) -> None:
    out = []
    for M in (tg, torch):
        x = M.zeros(3, 2, dtype=M.int64)
        try:
            x[key(M)] = M.tensor(2.7)
            out.append(x.tolist())
        except RuntimeError:
            out.append("RuntimeError")
    assert out[0] == out[1]
