"""float16 sums inside indexing ops, against PyTorch's CPU kernels: scatter's ``reduce=`` and the
gradients of index_select and masked_select add up in float32, rounded once (they added in
float16: 3,000 ones made 2048); ``x[idx]``'s gradient adds in float16, as PyTorch's. Found by an
outside tester (indexing, eleventh session)."""

from __future__ import annotations

import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _scatter_add(L):
    b = L.zeros(1, 2, dtype=L.float16)
    return b.scatter(1, L.zeros(1, 3000, dtype=L.int64), L.ones(1, 3000, dtype=L.float16),
                     reduce="add")[0, 0].item()


def _scatter_multiply(L):
    b = L.full((1, 2), 1.001, dtype=L.float16)
    return b.scatter(1, L.zeros(1, 3000, dtype=L.int64), L.full((1, 3000), 1.001, dtype=L.float16),
                     reduce="multiply")[0, 0].item()


def _scatter_value(L):
    return L.zeros(1, 2, dtype=L.float16).scatter_(1, L.zeros(1, 3000, dtype=L.int64), 1.0,
                                                   reduce="add")[0, 0].item()


def _index_select_grad(L):
    a = L.ones(1, 3, dtype=L.float16, requires_grad=True)
    a.index_select(1, L.ones(3000, dtype=L.int64)).backward(L.full((1, 3000), 0.1, dtype=L.float16))
    return a.grad[0, 1].item()


def _masked_select_grad(L):
    a = L.ones(3, dtype=L.float16, requires_grad=True)
    a.masked_select(L.ones(3000, 3, dtype=L.bool)).backward(L.full((9000,), 0.1, dtype=L.float16))
    return a.grad[0].item()


def _getitem_grad(L):
    a = L.ones(3000, dtype=L.float16, requires_grad=True)
    a[L.zeros(3000, dtype=L.int64)].backward(L.full((3000,), 0.1, dtype=L.float16))
    return a.grad[0].item()


@pytest.mark.filterwarnings("ignore:The reduce argument")
@pytest.mark.parametrize("case", [_scatter_add, _scatter_multiply, _scatter_value,
                                  _index_select_grad, _masked_select_grad, _getitem_grad],
                         ids=lambda f: f.__name__.strip("_"))
def test_float16_sums_as_pytorch(case) -> None:
    assert case(tg) == case(torch)
