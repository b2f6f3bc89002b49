"""``index_put`` / ``index_put_`` (with ``accumulate``) against PyTorch: values and the gradients
to the tensor and to the values, out of place and in place, with repeated indices and masks. (Missing
until an outside tester asked for them, eleventh session.)"""

from __future__ import annotations

import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

_KEYS = {"repeated": lambda L: (L.tensor([0, 0, 2]), L.tensor([1, 1, 3])),
         "rows": lambda L: (L.tensor([1, 1]),),
         "mask": lambda L: (L.tensor([[True, False, False, True]] * 3),)}
_VALUES = {"repeated": [1.0, 2.0, 3.0], "rows": [[1.0, 2.0, 3.0, 4.0]], "mask": [5.0]}


def _run(L, key, accumulate, inplace, requires_grad):
    x = L.arange(12.0, dtype=L.float64).reshape(3, 4).requires_grad_(requires_grad)
    v = L.tensor(_VALUES[key], dtype=L.float64, requires_grad=requires_grad)
    h = x * 1 if requires_grad else x.clone()
    k = _KEYS[key](L)
    out = h.index_put_(k, v, accumulate=accumulate) if inplace else \
        L.index_put(h, k, v, accumulate=accumulate)
    res = [out.tolist()]
    if requires_grad:
        (out * (L.arange(12.0, dtype=L.float64).reshape(3, 4) + 1)).sum().backward()
        res += [x.grad.tolist(), v.grad.tolist()]
    return res


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("key", list(_KEYS))
def test_index_put_as_pytorch(key: str, accumulate: bool, inplace: bool,
                              requires_grad: bool) -> None:
    assert _run(tg, key, accumulate, inplace, requires_grad) == \
        _run(torch, key, accumulate, inplace, requires_grad)


def test_index_put_refuses_values_of_another_dtype() -> None:
    with pytest.raises(RuntimeError, match="index_put_: index put requires the source and "
                                           "destination dtypes match"):
        tg.zeros(3).index_put_((tg.tensor([0]),), tg.tensor([1]))
    with pytest.raises(TypeError, match="index_put: indices must be a tuple"):
        tg.zeros(3).index_put(tg.tensor([0]), tg.tensor([1.0]))
