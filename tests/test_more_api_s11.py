"""Small PyTorch API pieces asked for by outside testers (eleventh session), against PyTorch:
searchsorted, bucketize, fmax/fmin (with gradients), msort, argwhere, narrow_copy,
split_with_sizes, sum_to_size, cumsum_/cumprod_, gather(sparse_grad=False)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _both(expr):
    out = []
    for L in (tg, torch):
        try:
            r = expr(L)
        except Exception as exc:  # (compared: both raise)
            out.append(type(exc).__name__)
            continue
        rs = r if isinstance(r, tuple) else (r,)
        out.append([(x.tolist(), str(x.dtype).split(".")[-1]) for x in rs])
    return out


_S = [1.0, 3.0, 5.0, 7.0]


@pytest.mark.parametrize("expr", [
    lambda L: L.searchsorted(L.tensor(_S), L.tensor([3.0, 6.0, 0.0, 9.0, float("nan")])),
    lambda L: L.searchsorted(L.tensor(_S), L.tensor([3.0, 7.0]), right=True),
    lambda L: L.searchsorted(L.tensor(_S), L.tensor([3.0]), side="right"),
    lambda L: L.searchsorted(L.tensor(_S), 3),
    lambda L: L.searchsorted(L.tensor(_S), L.tensor([[3.0, 6.0]]), out_int32=True),
    lambda L: L.searchsorted(L.tensor([[1.0, 3.0], [2.0, 4.0]]), L.tensor([[2.0], [3.0]])),
    lambda L: L.searchsorted(L.tensor([3.0, 1.0, 2.0]), L.tensor([2.5]),
                             sorter=L.tensor([1, 2, 0])),
    lambda L: L.searchsorted(L.tensor(_S), L.tensor([3.0]), side="left", right=True),
    lambda L: L.bucketize(L.tensor([[1.0, 6.0, 7.0]]), L.tensor(_S)),
    lambda L: L.bucketize(L.tensor([[1.0, 6.0, 7.0]]), L.tensor(_S), right=True),
    lambda L: L.bucketize(3, L.tensor(_S)),
    lambda L: L.bucketize(L.tensor([1.0]), L.tensor([[1.0, 2.0]])),
    lambda L: L.msort(L.tensor([[3.0, 1.0], [2.0, 5.0], [1.0, 0.0]])),
    lambda L: L.argwhere(L.tensor([[0, 2], [3, 0]])),
    lambda L: L.tensor([0.0, 1.0]).argwhere(),
    lambda L: L.narrow_copy(L.arange(6.0).reshape(2, 3), 1, 1, 2),
    lambda L: L.split_with_sizes(L.arange(6.0), [2, 4]),
    lambda L: L.arange(6.0).reshape(2, 3).sum_to_size(1, 3),
    lambda L: L.ones(2, 3, 4).sum_to_size(3, 1),
    lambda L: L.ones(2, 3).sum_to_size((2, 3)),
    lambda L: L.ones(2, 3).sum_to_size(4),
    lambda L: L.tensor([1.0, 2.0, 3.0]).cumsum_(0),
    lambda L: L.tensor([[1, 2], [3, 4]]).cumprod_(1),
    lambda L: L.tensor([[1.0, 2.0], [3.0, 4.0]]).gather(1, L.tensor([[1], [0]]), sparse_grad=False),
], ids=lambda f: None)
def test_values_and_dtypes(expr) -> None:
    ours, theirs = _both(expr)
    if isinstance(theirs, str):
        assert isinstance(ours, str), f"PyTorch raised {theirs}, we gave {ours}"
    else:
        assert ours == theirs


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_values_and_gradients(name: str) -> None:
    a = [1.0, float("nan"), 3.0, float("nan"), 2.0, -0.5]
    b = [2.0, 1.0, float("nan"), float("nan"), 2.0, -1.5]
    out = []
    for L in (tg, torch):
        x = L.tensor(a, dtype=L.float64, requires_grad=True)
        y = L.tensor(b, dtype=L.float64, requires_grad=True)
        r = getattr(L, name)(x, y)
        (r * L.arange(1.0, 7.0, dtype=L.float64)).sum().backward()
        out.append((np.nan_to_num(r.detach().numpy(), nan=99).tolist(), x.grad.tolist(),
                    y.grad.tolist()))
    assert out[0] == out[1]
