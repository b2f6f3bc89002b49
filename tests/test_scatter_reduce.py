"""``scatter_reduce`` against PyTorch: every reduce (sum, prod, mean, amax, amin), with and without
``include_self``, along both dims, float64 / float32 / int64, with ties; values and float64
gradients (PyTorch's: amax/amin share ``g`` equally among the elements equal to the result, NaN
where that result is NaN). Missing until an outside tester asked for it (eleventh session); the
op is also gradchecked (op_cases_shape.py) and fuzzed (fuzz_specs_shape.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

_CASES = list(itertools.product(["sum", "prod", "mean", "amax", "amin"], [True, False], [0, 1],
                                ["float64", "int64", "float32"], [False, True]))


def _run(L, reduce, include_self, dim, dtype, ties, seed):
    rng = np.random.default_rng(seed)
    x, s = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    if ties or dtype == "int64":
        x, s = np.round(x * (3 if dtype == "int64" else 1)), np.round(s * (3 if dtype == "int64" else 1))
    index = rng.integers(0, 3 if dim == 0 else 4, (3, 4))
    grad = dtype == "float64"  # (prod too: ties give zeros, the special case of its VJP)
    a = L.tensor(x, dtype=getattr(L, dtype), requires_grad=grad)
    b = L.tensor(s, dtype=getattr(L, dtype), requires_grad=grad)
    out = a.scatter_reduce(dim, L.tensor(index), b, reduce, include_self=include_self)
    res = [out.detach().numpy().astype(float), str(out.dtype).split(".")[-1]]
    if grad:
        (out * L.tensor(np.arange(1.0, 13.0).reshape(3, 4))).sum().backward()
        res += [a.grad.numpy(), b.grad.numpy()]
    return res


@pytest.mark.parametrize("reduce,include_self,dim,dtype,ties", _CASES)
def test_scatter_reduce_as_pytorch(reduce, include_self, dim, dtype, ties) -> None:
    ours = _run(tg, reduce, include_self, dim, dtype, ties, 3)
    theirs = _run(torch, reduce, include_self, dim, dtype, ties, 3)
    assert ours[1] == theirs[1]
    for a, b in zip(ours[:1] + ours[2:], theirs[:1] + theirs[2:]):
        np.testing.assert_allclose(a, b, rtol=1e-6 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_nan_results_give_nan_gradients_as_pytorch(reduce, include_self) -> None:
    out = []
    for L in (tg, torch):
        x = L.tensor([[1.0, float("nan"), 3.0], [4.0, 5.0, 6.0]], dtype=L.float64,
                     requires_grad=True)
        s = L.tensor([[float("nan"), 2.0, 3.0], [0.0, 1.0, 9.0]], dtype=L.float64,
                     requires_grad=True)
        r = x.scatter_reduce(0, L.tensor([[0, 0, 1], [1, 0, 0]]), s, reduce,
                             include_self=include_self)
        r.backward(L.ones(2, 3, dtype=L.float64))
        out.append([np.nan_to_num(v, nan=99.0).tolist()
                    for v in (r.detach().numpy(), x.grad.numpy(), s.grad.numpy())])
    assert out[0] == out[1]


def test_errors() -> None:
    with pytest.raises(RuntimeError, match="reduce argument must be either"):
        tg.zeros(3).scatter_reduce(0, tg.tensor([0]), tg.ones(1), "median")
    y = tg.zeros(3)
    assert y.scatter_reduce_(0, tg.tensor([0, 0]), tg.tensor([2.0, 5.0]), "amax") is y
    assert y.tolist() == [5.0, 0.0, 0.0]
