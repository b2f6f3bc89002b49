"""``Tensor.unfold`` (a sliding-window view) and ``masked_scatter``/``masked_scatter_`` against
PyTorch: values, dtypes, gradients, second derivatives, errors, and unfold's view behaviour (an
in-place change of the base is seen through it; overlapping windows are read-only; others can be
written through, with PyTorch's gradients)."""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_specs import torch

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck, no_grad

needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch (pip install torch==2.13.0)")

DTYPES = ["float16", "float32", "float64", "int64", "int32", "uint8", "bool"]


# ------------------------------------------------------------------------------ unfold
UNFOLDS = [((10,), 0, 3, 2), ((10,), 0, 3, 1), ((10,), 0, 2, 3), ((10,), 0, 10, 1),
           ((10,), 0, 0, 3), ((2, 7, 3), 1, 3, 2), ((2, 7, 3), -1, 2, 1), ((4, 5), 0, 1, 1),
           ((0,), 0, 0, 1), ((3, 0), 0, 2, 1), ((), 0, 1, 1), ((), -1, 0, 2)]


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim,size,step", UNFOLDS)
def test_unfold_values_and_dtypes_match_torch(shape, dim, size, step, dtype):
    x = np.asarray(np.arange(int(np.prod(shape))).reshape(shape) % 5).astype(dtype)
    ours = Tensor(x).unfold(dim, size, step)
    theirs = torch.from_numpy(x.copy()).unfold(dim, size, step)
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@needs_torch
@pytest.mark.parametrize("shape,dim,size,step", UNFOLDS)
def test_unfold_gradients_and_second_derivatives_match_torch(shape, dim, size, step):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    a, b = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_o, out_t = (a * a).unfold(dim, size, step), (b * b).unfold(dim, size, step)
    g = rng.standard_normal(tuple(out_t.shape))
    (ga,) = tg.grad(out_o, a, Tensor(g), create_graph=True)
    (gb,) = torch.autograd.grad(out_t, b, torch.from_numpy(g), create_graph=True)
    np.testing.assert_allclose(ga.numpy(), gb.detach().numpy(), rtol=1e-12, atol=1e-12)
    v = rng.standard_normal(shape)
    (ha,) = tg.grad((ga * Tensor(v)).sum(), a)
    (hb,) = torch.autograd.grad((gb * torch.from_numpy(v)).sum(), b)
    np.testing.assert_allclose(ha.numpy(), hb.numpy(), rtol=1e-12, atol=1e-12)
    f = lambda t: (t * t).unfold(dim, size, step)  # noqa: E731
    assert gradcheck(f, (Tensor(x, requires_grad=True),))
    assert gradgradcheck(f, (Tensor(x, requires_grad=True),))


def test_overlapping_windows_add_their_gradients():
    a = Tensor(np.arange(5.0), requires_grad=True)
    a.unfold(0, 3, 1).sum().backward()  # elements 0..4 are in 1, 2, 3, 2, 1 windows
    np.testing.assert_array_equal(a.grad.numpy(), [1, 2, 3, 2, 1])
    b = Tensor(np.arange(6.0), requires_grad=True)
    b.unfold(0, 2, 3).sum().backward()  # gaps get nothing
    np.testing.assert_array_equal(b.grad.numpy(), [1, 1, 0, 1, 1, 0])


def test_unfold_is_a_view_that_sees_changes_of_its_base():
    x = Tensor(np.arange(10.0))
    u = x.unfold(0, 3, 2)
    assert np.shares_memory(u.numpy(), x.numpy())
    assert u._version_counter is x._version_counter
    x.mul_(10)
    np.testing.assert_array_equal(u.numpy()[1], [20, 30, 40])
    x[4] = -1.0
    assert u.numpy()[1, 2] == -1 and u.numpy()[2, 0] == -1


@pytest.mark.parametrize("op", [lambda u: u.add_(1), lambda u: u.mul_(2)])
def test_overlapping_windows_are_read_only(op):
    # (PyTorch adds to an element once per window it is in -- 1, 2, 4, 4, ... -- which depends on
    # the order of the writes: refused here)
    x = Tensor(np.arange(10.0))
    u = x.unfold(0, 3, 2)
    with pytest.raises(RuntimeError, match=r"read-only: .*unfold\(\) whose windows overlap"):
        op(u)
    np.testing.assert_array_equal(x.numpy(), np.arange(10.0))  # nothing was written
    with no_grad(), pytest.raises(RuntimeError, match="read-only"):
        op(u)
    u.clone().add_(1)  # the fix the message names


def test_one_window_of_overlapping_windows_is_written_as_pytorch():
    """``u[0] = 5`` writes one window (its elements do not repeat), into the unfolded tensor."""
    torch = pytest.importorskip("torch")
    out = []
    for make in (lambda: Tensor(np.arange(10.0)), lambda: torch.arange(10.0)):
        x = make()
        x.unfold(0, 3, 2)[0] = 5.0
        x.unfold(0, 3, 2)[2].mul_(-1)
        out.append(x.tolist())
    assert out[0] == out[1]


def test_the_read_only_error_still_names_expand():
    with pytest.raises(RuntimeError, match=r"read-only: .*an expand\(\) result"):
        Tensor(np.ones((3, 1))).expand(3, 4).add_(1)


def test_one_window_and_disjoint_windows_are_writable():
    x = Tensor(np.arange(3.0))
    x.unfold(0, 3, 1).add_(1)  # step < size but a single window: no element twice
    np.testing.assert_array_equal(x.numpy(), [1, 2, 3])
    y = Tensor(np.arange(10.0))
    y.unfold(0, 2, 3).mul_(-1)
    np.testing.assert_array_equal(y.numpy(), [0, -1, 2, -3, -4, 5, -6, -7, 8, 9])


@needs_torch
@pytest.mark.parametrize("size,step", [(2, 3), (2, 2), (1, 4), (3, 3), (9, 1)])
def test_in_place_through_disjoint_windows_matches_torch(size, step):
    """The base changes, and the gradients (to the base's source and to what was multiplied in)
    are PyTorch's."""
    rng = np.random.default_rng(1)
    x0, w = rng.standard_normal((2, 9)), rng.standard_normal((2, 9))
    n = (9 - size) // step + 1
    s0 = rng.standard_normal((2, n, size))
    res = []
    for make in (lambda a: Tensor(a, requires_grad=True),
                 lambda a: torch.tensor(a, requires_grad=True)):
        x, s = make(x0), make(s0)
        y = x * 1
        u = y.unfold(1, size, step)
        u.mul_(s)
        u.add_(1)
        (y * y * make(w).detach()).sum().backward()
        res.append([y.detach().numpy().copy(), x.grad.numpy(), s.grad.numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


UNFOLD_ERRORS = [
    (lambda x: x.unfold(1, 5, 1), ValueError,
     r"unfold: size 5 is larger than dim 1 of size 4 \(tensor shape \(3, 4\)\).*size <= 4"),
    (lambda x: x.unfold(0, 2, 0), ValueError, r"unfold: step must be positive, got 0"),
    (lambda x: x.unfold(0, 2, -1), ValueError, r"unfold: step must be positive, got -1"),
    (lambda x: x.unfold(0, -1, 1), ValueError, r"unfold: size must not be negative, got -1"),
    (lambda x: x.unfold(2, 1, 1), IndexError, r"unfold: dim 2 is out of range .*-2 to 1"),
    (lambda x: x.unfold(-3, 1, 1), IndexError, r"unfold: dim -3 is out of range"),
    (lambda x: tg.tensor(5.0).unfold(0, 2, 1), ValueError, r"unfold: size 2 is larger .* size 1"),
    (lambda x: tg.tensor(5.0).unfold(1, 1, 1), IndexError, r"unfold: dim 1 is out of range"),
    (lambda x: x.unfold(0, 1.5, 1), TypeError, r"unfold: size must be an int"),
]


@pytest.mark.parametrize("call,kind,message", UNFOLD_ERRORS,
                         ids=[f"unfold_error{i}" for i in range(len(UNFOLD_ERRORS))])
def test_unfold_bad_arguments(call, kind, message):
    with pytest.raises(kind, match=message):
        call(Tensor(np.zeros((3, 4))))


@needs_torch
@pytest.mark.parametrize("call", [
    lambda x: x.unfold(1, 5, 1), lambda x: x.unfold(0, 2, 0), lambda x: x.unfold(0, 2, -1),
    lambda x: x.unfold(0, -1, 1), lambda x: x.unfold(2, 1, 1), lambda x: x.unfold(-3, 1, 1),
    lambda x: torch.tensor(5.0).unfold(0, 2, 1), lambda x: torch.tensor(5.0).unfold(1, 1, 1),
])
def test_torch_refuses_the_same_unfolds(call):
    with pytest.raises((RuntimeError, IndexError)):
        call(torch.zeros(3, 4))


# ------------------------------------------------------------------------------ masked_scatter
MASK = np.array([[True, False, True], [False, True, True]])


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,mshape,sshape", [((2, 3), (2, 3), (6,)), ((3,), (2, 3), (2, 4)),
                                                 ((2, 3), (3,), (5,)), ((2, 1), (2, 3), (8,)),
                                                 ((), (), (1,)), ((2, 0), (2, 0), (0,)),
                                                 ((4,), (4,), (0,))])
def test_masked_scatter_matches_torch(shape, mshape, sshape, dtype):
    rng = np.random.default_rng(2)
    x = np.asarray(rng.integers(0, 9, shape)).astype(dtype)
    mask = np.asarray(rng.random(mshape) < 0.5)
    src = np.asarray(rng.integers(0, 9, sshape) + 10).astype(dtype)
    if np.broadcast_to(mask, np.broadcast_shapes(shape, mshape)).sum() > src.size:
        mask = np.zeros(mshape, bool)
    ours = Tensor(x).masked_scatter(Tensor(mask), Tensor(src))
    theirs = torch.from_numpy(x).masked_scatter(torch.from_numpy(mask), torch.from_numpy(src))
    assert ours.dtype == np.dtype(dtype) and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(tg.masked_scatter(Tensor(x), Tensor(mask), Tensor(src)).numpy(),
                                  theirs.numpy())
    if np.broadcast_shapes(shape, mshape) == shape:
        y, z = Tensor(x.copy()), torch.from_numpy(x.copy())
        assert y.masked_scatter_(Tensor(mask), Tensor(src)) is y
        z.masked_scatter_(torch.from_numpy(mask), torch.from_numpy(src))
        np.testing.assert_array_equal(y.numpy(), z.numpy())


@needs_torch
@pytest.mark.parametrize("in_place", [False, True])
def test_masked_scatter_gradients_match_torch(in_place):
    rng = np.random.default_rng(3)
    shape = (2, 3) if in_place else (3,)
    x0, s0 = rng.standard_normal(shape), rng.standard_normal((2, 4))
    g = rng.standard_normal((2, 3))
    res = []
    for lib, make, m in ((tg, lambda a: Tensor(a, requires_grad=True), Tensor(MASK)),
                         (torch, lambda a: torch.tensor(a, requires_grad=True),
                          torch.from_numpy(MASK))):
        x, s = make(x0), make(s0)
        if in_place:
            out = x * x
            out.masked_scatter_(m, s * s)
        else:
            out = (x * x).masked_scatter(m, s * s)
        grads = lib.autograd.grad(out, (x, s), (Tensor if lib is tg else torch.from_numpy)(g),
                                  create_graph=True)
        second = lib.autograd.grad(sum((gr * gr).sum() for gr in grads), (x, s))
        res.append([out.detach().numpy(), *(v.detach().numpy() for v in (*grads, *second))])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # the source's elements past mask.sum() get zeros; self gets nothing where the mask is True
    assert np.all(res[0][2].reshape(-1)[MASK.sum():] == 0)


def test_masked_scatter_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(4)
    f = lambda a, b: (a * a).masked_scatter(Tensor(MASK), b * b)  # noqa: E731
    inputs = (Tensor(rng.standard_normal(3), requires_grad=True),
              Tensor(rng.standard_normal(7), requires_grad=True))
    assert gradcheck(f, inputs) and gradgradcheck(f, inputs)

    def g(a, b):
        y = a * 1
        y.masked_scatter_(Tensor(MASK[1]), b)
        return y * y

    inputs = (Tensor(rng.standard_normal((2, 3)), requires_grad=True),
              Tensor(rng.standard_normal((2, 2)), requires_grad=True))
    assert gradcheck(g, inputs) and gradgradcheck(g, inputs)


def test_masked_scatter_in_place_follows_the_in_place_rules():
    leaf = Tensor(np.zeros(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="masked_scatter_: a leaf tensor that requires grad"):
        leaf.masked_scatter_(Tensor(np.array([True, False, True])), Tensor(np.ones(2)))
    with no_grad():
        leaf.masked_scatter_(Tensor(np.array([True, False, True])), Tensor(np.ones(2)))
    np.testing.assert_array_equal(leaf.numpy(), [1, 0, 1])
    # a change of a tensor saved for backward is caught there
    x = Tensor(np.ones(3), requires_grad=True)
    y = x * 2
    loss = (y * y).sum()
    y.masked_scatter_(Tensor(np.array([True, False, False])), Tensor(np.zeros(1)))
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()
    # through a view: the base changes
    base = Tensor(np.zeros((2, 3)))
    base[1].masked_scatter_(Tensor(np.array([False, True, True])), Tensor(np.array([7.0, 8.0])))
    np.testing.assert_array_equal(base.numpy(), [[0, 0, 0], [0, 7, 8]])


MS_ERRORS = [
    (lambda x: x.masked_scatter(Tensor(MASK.astype(np.uint8)), Tensor(np.ones(6))), TypeError,
     r"masked_scatter: mask must be a bool tensor, got uint8"),
    (lambda x: x.masked_scatter(MASK, Tensor(np.ones(6))), TypeError,
     r"masked_scatter: mask must be a bool Tensor, got ndarray"),
    (lambda x: x.masked_scatter(Tensor(MASK), Tensor(np.ones(3))), ValueError,
     r"masked_scatter: the mask has 4 True places but source \(shape \(3,\)\) has only 3 "
     r"elements; give a source of at least 4"),
    (lambda x: x.masked_scatter(Tensor(MASK), Tensor(np.ones(6, np.float32))), TypeError,
     r"masked_scatter: source is float32 but the tensor is float64"),
    (lambda x: x.masked_scatter(Tensor(MASK), Tensor(np.ones(6, np.int64))), TypeError,
     r"source is int64 but the tensor is float64"),
    (lambda x: x.masked_scatter(Tensor(MASK), [1.0] * 6), TypeError,
     r"masked_scatter: source must be a Tensor, got list"),
    (lambda x: x.masked_scatter(Tensor(np.array([True, False])), Tensor(np.ones(6))), ValueError,
     r"masked_scatter: input of shape \(2, 3\) and mask of shape \(2,\) cannot be broadcast"),
    (lambda x: x.masked_scatter_(Tensor(MASK), Tensor(np.ones(2))), ValueError,
     r"masked_scatter_: the mask has 4 True places"),
    (lambda x: x.masked_scatter_(Tensor(MASK), Tensor(np.ones(6, np.float32))), TypeError,
     r"masked_scatter_: source is float32"),
    (lambda x: x[0].masked_scatter_(Tensor(MASK), Tensor(np.ones(6))), ValueError,
     r"masked_scatter_: a mask of shape \(2, 3\) does not broadcast to the tensor's shape \(3,\)"),
    (lambda x: x.masked_scatter_(Tensor(MASK.astype(np.float64)), Tensor(np.ones(6))), TypeError,
     r"masked_scatter_: mask must be a bool tensor, got float64"),
]


@pytest.mark.parametrize("call,kind,message", MS_ERRORS,
                         ids=[f"masked_scatter_error{i}" for i in range(len(MS_ERRORS))])
def test_masked_scatter_bad_arguments(call, kind, message):
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(kind, match=message):
        call(x)
    np.testing.assert_array_equal(x.numpy(), 0)  # an in-place form refused writes nothing


@needs_torch
@pytest.mark.parametrize("call", [
    lambda t, m, s: t.masked_scatter(m.to(torch.uint8), s),
    lambda t, m, s: t.masked_scatter(m, s[:3]),
    lambda t, m, s: t.masked_scatter(m, s.float()),
    lambda t, m, s: t.masked_scatter(m, s.long()),
    lambda t, m, s: t.masked_scatter(m[0, :2], s),
    lambda t, m, s: t[0].masked_scatter_(m, s),
    lambda t, m, s: t.masked_scatter_(m.double(), s),
])
def test_torch_refuses_the_same_masked_scatters(call):
    with pytest.raises(RuntimeError):
        call(torch.zeros(2, 3, dtype=torch.float64), torch.from_numpy(MASK),
             torch.ones(6, dtype=torch.float64))


@pytest.mark.parametrize("op", [lambda u: u.zero_(), lambda u: u.fill_(5.0),
                                lambda u: u.__setitem__(slice(None), 5.0),
                                lambda u: u[:, 1:].fill_(1.0)])
def test_one_value_written_into_overlapping_windows_is_pytorchs(op):
    # (one value lands alike in every window an element is in: written, as PyTorch writes it)
    import torch as pt

    ours, theirs = Tensor(np.arange(10.0)), pt.arange(10.0)
    op(ours.unfold(0, 3, 2))
    op(theirs.unfold(0, 3, 2))
    assert ours.tolist() == theirs.tolist()
