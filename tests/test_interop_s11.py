"""Interop found by an outside tester (numpy, Python protocols; eleventh session), against PyTorch:
ndarray subclasses (np.matrix, masked arrays, memmaps) shared as plain arrays; sequences times a
0-d int tensor repeat; ``in``; numpy's shape functions on tensors that require grad; 0-d integer
tensors as sizes, dims and counts; dtypes a checkpoint could not read back refused at the door."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as tF

torch = pytest.importorskip("torch")
TF = torch.nn.functional


@pytest.mark.filterwarnings("ignore:the matrix subclass")
@pytest.mark.parametrize("make", [
    lambda: np.matrix([[1.0, 2.0], [3.0, 4.0]]),
    lambda: np.ma.array([[1.0, 2.0], [3.0, 4.0]], mask=[[0, 1], [0, 0]]),
], ids=["matrix", "masked"])
def test_ndarray_subclasses_are_shared_as_plain_arrays(make) -> None:
    out = []
    for L in (tg, torch):
        a = make()
        t = L.from_numpy(a)
        w = L.from_numpy(make().copy()).requires_grad_(True) if L is tg else \
            L.tensor(np.asarray(make()), requires_grad=True)
        (w * w).sum().backward()
        out.append(((t * t).tolist(), tuple(t.reshape(-1).shape), tuple(t[0].shape),
                    t.sum().item(), w.grad.tolist()))
        np.asarray(a)[0, 0] = 9.0
        assert t[0, 0].item() == 9.0  # (still shared)
    assert out[0] == out[1]
    assert type(tg.from_numpy(make()).numpy()) is np.ndarray


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32, np.uint64])
def test_dtypes_without_rules_are_refused_by_from_numpy_too(dtype) -> None:
    with pytest.raises(TypeError, match="not supported"):
        tg.from_numpy(np.zeros(2, dtype))


@pytest.mark.parametrize("expr", [
    lambda L: [1, 2] * L.tensor(2), lambda L: L.tensor(2) * [1, 2], lambda L: (1,) * L.tensor(2),
    lambda L: "ab" * L.tensor(2), lambda L: L.tensor([1, 2]) in L.tensor([[1, 2], [3, 4]]),
    lambda L: L.tensor(5) in L.tensor([[1, 2], [3, 4]]), lambda L: 2 in L.tensor([1, 2]),
], ids=["list_first", "list_second", "tuple", "str", "in_row", "in_0d", "in_number"])
def test_python_protocols(expr) -> None:
    assert expr(tg) == expr(torch)


def test_contains_refuses_other_things() -> None:
    with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
        "a" in tg.tensor([1, 2])  # noqa: B015 (the test is that it raises)


def test_numpy_shape_functions_answer_for_tensors_that_require_grad() -> None:
    w = tg.ones(2, 3, requires_grad=True)
    assert (np.shape(w), np.ndim(w), np.size(w), np.size(w, 1)) == ((2, 3), 2, 6, 3)
    with pytest.raises(TypeError, match="drop its history"):
        np.clip(w, 0, 1)


@pytest.mark.parametrize("expr", [
    lambda L, F, n, k: tuple(L.zeros(n, 3).shape), lambda L, F, n, k: tuple(L.ones(n).shape),
    lambda L, F, n, k: tuple(L.randint(5, (n,)).shape),
    lambda L, F, n, k: tuple(L.ones(3).new_zeros(n).shape),
    lambda L, F, n, k: L.arange(6.0).topk(n).values.tolist(),
    lambda L, F, n, k: L.arange(6.0).kthvalue(n).values.item(),
    lambda L, F, n, k: tuple(L.ones(2, 3).unsqueeze(k).shape),
    lambda L, F, n, k: tuple(L.ones(2, 3).transpose(0, k).shape),
    lambda L, F, n, k: tuple(L.cat([L.ones(2, 2), L.ones(2, 2)], dim=k).shape),
    lambda L, F, n, k: F.one_hot(L.tensor([0, 1]), num_classes=n).tolist(),
    lambda L, F, n, k: L.ones(6).sum(dim=L.tensor(0)).item(),
    lambda L, F, n, k: L.ones(2, 3).sum(k).tolist(),
], ids=lambda f: None)
def test_zero_dim_integer_tensors_are_ints(expr) -> None:
    assert expr(tg, tF, tg.tensor(2), tg.tensor(1)) == \
        expr(torch, TF, torch.tensor(2), torch.tensor(1))


def test_numpy_force() -> None:
    w = tg.ones(2, requires_grad=True)
    a = w.numpy(force=True)
    assert a.flags.writeable and a.tolist() == [1.0, 1.0]
    assert not w.numpy().flags.writeable
