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
@pytest.mark.parametrize("ord", ["fro", 1, -1, math.inf, -math.inf, 3, "nuc", 2, -2])
def test_matrix_norm(ord, dim, keepdim) -> None:
    _same(lambda L, x: L.linalg.matrix_norm(x, ord, dim, keepdim))


@pytest.mark.parametrize("dim", [None, 0, (0, 1), (1, 2), (0, 1, 2)])
@pytest.mark.parametrize("ord", [None, "fro", 1, math.inf, "nuc", 2, -2])
def test_norm(ord, dim) -> None:
    _same(lambda L, x: L.linalg.norm(x[0] if dim is None else x, ord, dim))


def test_errors() -> None:
    with pytest.raises(RuntimeError, match="contains inf or NaN"):
        tg.linalg.matrix_norm(tg.tensor([[math.nan, 1.0], [1.0, 1.0]]), "nuc")
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


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (2, 3, 3), (1, 5), (2, 0, 3)])
def test_svdvals_values_and_gradients(shape) -> None:
    a = np.random.default_rng(1).standard_normal(shape)
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    s, ts = tg.linalg.svdvals(x), torch.linalg.svdvals(tx)
    assert s.shape == tuple(ts.shape)
    np.testing.assert_allclose(s.numpy(), ts.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(2).standard_normal(s.shape)
    (s * tg.tensor(g)).sum().backward()
    (ts * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    if a.size:
        assert tg.gradcheck(tg.linalg.svdvals, (tg.tensor(a, requires_grad=True),))


def _gauge_free(L, x, w):
    """A function of the SVD that does not depend on the singular vectors' arbitrary signs."""
    U, S, Vh = L.linalg.svd(x, full_matrices=False)
    return (((U * w[0]) @ Vh).sum() + (S * S * w[1]).sum() + (U.abs() * 0.3).sum()
            + (Vh.abs() ** 2 * w[2]).sum())


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (3, 3), (2, 3, 5), (2, 5, 3)])
def test_svd_values_gradients_and_second_derivatives(shape) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)
    k = min(shape[-2:])
    w = [rng.standard_normal(k), rng.standard_normal(k), rng.standard_normal((k, 1))]
    x, tx = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = _gauge_free(tg, x, [tg.tensor(v) for v in w])
    ty = _gauge_free(torch, tx, [torch.tensor(v) for v in w])
    np.testing.assert_allclose(y.item(), ty.item(), rtol=1e-12)
    # second derivatives against PyTorch's: d/dx <grad(x), v>
    (g,) = tg.autograd.grad(y, [x], create_graph=True)
    (tg_,) = torch.autograd.grad(ty, [tx], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg_.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = rng.standard_normal(shape)
    (h,) = tg.autograd.grad((g * tg.tensor(v)).sum(), [x])
    (th,) = torch.autograd.grad((tg_ * torch.tensor(v)).sum(), [tx])
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-8, atol=1e-10)
    def f(t):
        return _gauge_free(tg, t, [tg.tensor(u) for u in w])

    assert tg.gradgradcheck(f, (tg.tensor(a, requires_grad=True),))
    assert tg.gradgradcheck(tg.linalg.svdvals, (tg.tensor(a, requires_grad=True),))


def test_svd_full_matrices_and_errors() -> None:
    a = np.random.default_rng(1).standard_normal((3, 5))
    U, S, Vh = tg.linalg.svd(tg.tensor(a))  # (PyTorch's default: full_matrices=True)
    tU, tS, tVh = torch.linalg.svd(torch.tensor(a))
    assert (U.shape, S.shape, Vh.shape) == (tuple(tU.shape), tuple(tS.shape), tuple(tVh.shape))
    np.testing.assert_allclose((U.numpy() * S.numpy()) @ Vh.numpy()[:3], a, atol=1e-12)
    x = tg.tensor(a, requires_grad=True)
    tg.linalg.svd(x)[1].sum().backward()  # (S alone: defined)
    np.testing.assert_allclose(x.grad.numpy(), np.linalg.svd(a, full_matrices=False)[0]
                               @ np.linalg.svd(a, full_matrices=False)[2], atol=1e-12)
    with pytest.raises(RuntimeError, match="full_matrices=True the gradient through U or Vh"):
        tg.linalg.svd(tg.tensor(a, requires_grad=True))[2].sum().backward()
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tg.linalg.svdvals(tg.ones(3))
    with pytest.raises(RuntimeError, match="Expected a floating point tensor"):
        tg.linalg.svdvals(tg.ones(2, 2, dtype=tg.int64))
    with pytest.raises(RuntimeError, match="contains inf or NaN"):
        tg.linalg.svd(tg.tensor([[math.inf, 1.0], [1.0, 1.0]]))
    empty = tg.linalg.svd(tg.zeros(2, 0, 3))
    assert [t.shape for t in empty] == [tuple(t.shape) for t in
                                       torch.linalg.svd(torch.zeros(2, 0, 3))]


def test_tensor_norm_nuc_as_pytorch() -> None:
    a = np.random.default_rng(3).standard_normal((2, 3, 4))
    for dim in [(0, 2), (1, 2)]:
        np.testing.assert_allclose(tg.tensor(a).norm(p="nuc", dim=dim).numpy(),
                                   torch.tensor(a).norm(p="nuc", dim=dim).numpy(), rtol=1e-12)
    np.testing.assert_allclose(tg.tensor(a[0]).norm(p="nuc").item(),
                               torch.tensor(a[0]).norm(p="nuc").item(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="p='nuc' needs a 2-d input or two dims"):
        tg.tensor(a).norm(p="nuc")
