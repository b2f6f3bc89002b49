"""``tinygrad_cnn.linalg``'s norms against ``torch.linalg``: values and gradients (float64, a
random upstream gradient) over orders, dims and keepdim; errors where PyTorch raises."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

_A = np.random.default_rng(0).standard_normal((3, 4, 5))
_A[0, 0, 0] = 0.0


def _run(L, fn):
    x = L.tensor(_A, requires_grad=True)
    try:
        y = fn(L, x)
    except Exception as exc:  # (compared: both raise)
        return type(exc)
    g = L.tensor(np.random.default_rng(5).standard_normal(tuple(y.shape)))
    (y * g).sum().backward()
    return y.detach().numpy(), (None if x.grad is None else x.grad.numpy())  # (0-norm: None)


def _same(fn) -> None:
    ours, theirs = _run(tg, fn), _run(torch, fn)
    if isinstance(theirs, type):
        assert isinstance(ours, type), f"PyTorch raised {theirs.__name__}, we gave a value"
        return
    assert not isinstance(ours, type), f"we raised {ours.__name__}"
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, -1, (0, 2), (1,)])
@pytest.mark.parametrize("ord", [2, 1, 0, 3.5, 0.5, math.inf, -math.inf, -1])
def test_vector_norm(ord, dim, keepdim) -> None:
    _same(lambda L, x: L.linalg.vector_norm(x, ord, dim, keepdim))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [(-2, -1), (0, 2), (2, 0), (1, 1)])
@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf, 3])
def test_matrix_norm(ord, dim, keepdim) -> None:
    _same(lambda L, x: L.linalg.matrix_norm(x, ord, dim, keepdim))


@pytest.mark.parametrize("dim", [None, 0, (0, 1), (1, 2), (0, 1, 2)])
@pytest.mark.parametrize("ord", [None, "fro", 1, math.inf])
def test_norm(ord, dim) -> None:
    _same(lambda L, x: L.linalg.norm(x[0] if dim is None else x, ord, dim))


def test_errors() -> None:
    with pytest.raises(NotImplementedError, match="singular values"):
        tg.linalg.matrix_norm(tg.ones(2, 2), "nuc")
    with pytest.raises(RuntimeError, match="Expected a floating point tensor"):
        tg.linalg.vector_norm(tg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="without narrowing"):
        tg.linalg.vector_norm(tg.ones(2, dtype=tg.float64), dtype=tg.float32)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tg.linalg.matrix_norm(tg.ones(3))
    with pytest.raises(RuntimeError, match="must be 1D or 2D"):
        tg.linalg.norm(tg.ones(2, 2, 2), 1)
    with pytest.raises(TypeError, match="'ord' must be a number"):
        tg.linalg.vector_norm(tg.ones(2), "fro")


def test_empty_matrix_norms_are_zero_as_pytorch() -> None:
    for ord in (1, math.inf):
        assert tg.linalg.matrix_norm(tg.zeros(0, 3), ord).item() == \
            torch.linalg.matrix_norm(torch.zeros(0, 3), ord).item() == 0.0
