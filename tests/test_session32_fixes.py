"""Session 32 (the first on an Intel Xeon): first-order VJPs of sum and matmul computed on the
arrays, and matmul's two-matrix fast path. Each must give what the recorded ops give (bit for
bit: the same numpy calls) and what PyTorch gives."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor

DTYPES = [np.float32, np.float64]


def _grads(fn, arrays, create_graph):
    ts = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*ts)
    g = Tensor(np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype))
    return [x.numpy().copy() for x in tg.autograd.grad(out, ts, g, create_graph=create_graph)]


CASES = {
    "matmul": (lambda a, b: a @ b, [(5, 3), (3, 4)]),
    "matmul of a transposed": (lambda a, b: a.T @ b, [(3, 5), (3, 4)]),
    "matmul by b transposed": (lambda a, b: a @ b.T, [(5, 3), (4, 3)]),
    "matmul, both transposed": (lambda a, b: a.T @ b.T, [(3, 5), (4, 3)]),
    "matmul of a vector": (lambda a, b: a @ b, [(3,), (3, 4)]),
    "batched matmul": (lambda a, b: a @ b, [(2, 5, 3), (3, 4)]),
    "sum": (lambda a: a.sum(), [(4, 5)]),
    "sum over dim 1": (lambda a: a.sum(1), [(4, 5, 2)]),
    "sum over dims 0, 2 kept": (lambda a: a.sum((0, 2), keepdim=True), [(4, 5, 2)]),
    "sum of an empty dim": (lambda a: a.sum(0), [(0, 3)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(CASES))
def test_first_order_arrays_match_the_ops(case, dtype):
    fn, shapes = CASES[case]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    fast = _grads(fn, arrays, create_graph=False)  # the array paths
    ops = _grads(fn, arrays, create_graph=True)  # the recorded ops
    for f, o, a in zip(fast, ops, arrays):
        assert f.dtype == a.dtype and f.shape == a.shape
        np.testing.assert_array_equal(f, o)
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    tfn = {"matmul of a transposed": lambda a, b: a.T @ b, "matmul by b transposed":
           lambda a, b: a @ b.T, "matmul, both transposed": lambda a, b: a.T @ b.T,
           "sum over dim 1": lambda a: a.sum(1), "sum over dims 0, 2 kept":
           lambda a: a.sum((0, 2), keepdim=True), "sum of an empty dim": lambda a: a.sum(0),
           "sum": lambda a: a.sum()}.get(case, lambda a, b: a @ b)
    out = tfn(*ts)
    g = torch.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(dtype))
    for f, t in zip(fast, torch.autograd.grad(out, ts, g)):
        np.testing.assert_allclose(f, t.numpy(), rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-5 if dtype == np.float32 else 1e-12)


def test_second_derivative_of_matmul_runs_the_flagged_array_path():
    """The VJP's own matmuls carry transpose flags; their VJPs (first order, in a second
    backward) take the array path with the flags: the Hessian-vector product of ``sum((a@b)**2)``
    against PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a0, b0 = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    ga, gb = tg.autograd.grad(((a @ b) ** 2).sum(), (a, b), create_graph=True)
    (ga.sum() + (gb * gb).sum()).backward()
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    tga, tgb = torch.autograd.grad(((ta @ tb) ** 2).sum(), (ta, tb), create_graph=True)
    (tga.sum() + (tgb * tgb).sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_matmul_fast_path_keeps_the_checks():
    a = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    with pytest.raises(TypeError, match="matmul: expected one dtype"):
        a @ Tensor(np.ones((3, 2), np.float64))
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\) do not fit"):
        a @ Tensor(np.ones((2, 3), np.float32))
    out = a @ Tensor(np.ones((3, 2), np.float32))
    assert out.grad_fn.fn.name == "matmul" and out.shape == (2, 2)


HOOKED = {
    "sum of one element": ((1,), lambda x: x.sum()),
    "sum of a 0-d tensor": ((), lambda x: x.sum()),
    "sum over a dim of size 1": ((1, 3), lambda x: x.sum(0)),
    "mean of one element": ((1,), lambda x: x.mean()),
    "mean over a dim of size 1": ((1, 3), lambda x: x.mean(0)),
    "sum over dims of size 1, kept": ((1, 3, 1), lambda x: x.sum((0, 2), keepdim=True)),
}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("case", list(HOOKED))
def test_a_hook_may_change_in_place_what_a_reduction_repeats_nowhere(case, create_graph):
    """Found by an outside tester: the array path made every sum's gradient a read-only
    broadcast, so an in-place hook (``g.mul_(2)``) failed where the reduction repeats nothing
    -- a writable gradient in PyTorch and on the recorded ops. (Where it does repeat, PyTorch
    refuses the write too: its gradient is an expand.)"""
    torch = pytest.importorskip("torch")
    shape, fn = HOOKED[case]
    x = Tensor(np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape), requires_grad=True)
    x.register_hook(lambda g: g.mul_(2))
    out = fn(x)
    (gx,) = tg.autograd.grad(out, (x,), Tensor(np.full(out.shape, 3.0)), create_graph=create_graph)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    tx.register_hook(lambda g: g.mul_(2))
    tout = fn(tx)
    (tgx,) = torch.autograd.grad(tout, (tx,), torch.full(tuple(tout.shape), 3.0, dtype=tx.dtype))
    np.testing.assert_array_equal(gx.numpy(), tgx.numpy())


def test_a_repeated_gradient_stays_read_only_as_pytorch_refuses_the_write():
    torch = pytest.importorskip("torch")
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    x.register_hook(lambda g: g.mul_(2))
    with pytest.raises(RuntimeError, match="read-only"):
        x.sum(0).backward(Tensor(np.ones(3)))
    tx = torch.ones(2, 3, dtype=torch.float64, requires_grad=True)
    tx.register_hook(lambda g: g.mul_(2))
    with pytest.raises(RuntimeError):
        tx.sum(0).backward(torch.ones(3, dtype=torch.float64))


@pytest.mark.parametrize("shapes", [((2, 2), (2, 2)), ((2,), (2,)), ((2, 3, 2), (2, 2))])
def test_bool_matmul_is_refused_as_pytorch_refuses_it(shapes):
    """Found by an outside tester: bool @ bool gave a result; PyTorch has no bool product."""
    torch = pytest.importorskip("torch")
    sa, sb = shapes
    with pytest.raises(NotImplementedError):
        torch.ones(*sa, dtype=torch.bool) @ torch.ones(*sb, dtype=torch.bool)
    with pytest.raises(TypeError, match=r"matmul: not implemented for bool tensors .* convert them"):
        tg.ones(*sa, dtype=tg.bool) @ tg.ones(*sb, dtype=tg.bool)
    assert (tg.ones(*sa, dtype=tg.bool).long() @ tg.ones(*sb, dtype=tg.bool).long()).dtype \
        == np.int64


def _forward_of(body):
    """A Function whose forward is ``body`` (on the arrays forward receives) and whose VJP
    passes the gradient on: session 24's helper."""
    from test_session24_porting import _one_op

    return _one_op(body)


@pytest.mark.parametrize("call, why", [
    (lambda a: a.transpose(0, 1) * 1.0, "permutes all 2 axes where PyTorch's swaps two"),
    (lambda a: a.transpose(-2, -1) * 1.0, "np.swapaxes"),
    (lambda a: a[None].transpose(1, 2) * 1.0, "permutes all 3 axes"),
    (lambda a: a.sum(1, True), "second argument of sum is the dtype"),
    (lambda a: a.mean(0, True), "keepdims=True"),
    (lambda a: a.flatten(1), "keeps the dims before start_dim"),
    (lambda a: a.view_as(a), r"spelling: x\.reshape\(other\.shape\)"),
])
def test_pytorch_spellings_that_numpy_reads_otherwise_are_refused_in_forward(call, why):
    """Found by an outside tester (t93): in a user's Function.forward, ``a.transpose(0, 1)`` of a
    matrix was numpy's identity permutation -- a hand-written linear layer trained with the
    wrong product -- and keepdim by position, flatten(start_dim) and view_as failed with
    numpy's messages. Each is now refused with the numpy spelling."""
    x = Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    with pytest.raises((TypeError, AttributeError), match=why):
        _forward_of(call).apply(x)


@pytest.mark.parametrize("call, want", [
    (lambda a: a.transpose(1, 0) * 1.0, [[0.0, 2.0], [1.0, 3.0]]),  # the same in both
    (lambda a: a.transpose(-1, -2) * 1.0, [[0.0, 2.0], [1.0, 3.0]]),
    (lambda a: a.transpose() * 1.0, [[0.0, 2.0], [1.0, 3.0]]),
    (lambda a: a.transpose((1, 0)) * 1.0, [[0.0, 2.0], [1.0, 3.0]]),
    (lambda a: np.swapaxes(a, 0, 1) * 1.0, [[0.0, 2.0], [1.0, 3.0]]),
    (lambda a: a.sum(axis=1, keepdims=True), [[1.0], [5.0]]),
    (lambda a: np.mean(a, 0, keepdims=True), [[1.0, 2.0]]),
    (lambda a: a.flatten(), [0.0, 1.0, 2.0, 3.0]),
])
def test_numpy_spellings_still_work_in_forward(call, want):
    x = Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    assert _forward_of(call).apply(x).numpy().tolist() == want


@pytest.mark.parametrize("name", ["dot", "mv", "bmm", "tensordot", "inner", "addmm", "addmv",
                                  "baddbmm", "addbmm"])
def test_the_products_built_on_matmul_refuse_bool_by_their_own_name(name):
    torch = pytest.importorskip("torch")
    args = {"dot": ((2,), (2,)), "mv": ((2, 2), (2,)), "bmm": ((1, 2, 2), (1, 2, 2)),
            "tensordot": ((2, 2), (2, 2)), "inner": ((2,), (2,)),
            "addmm": ((2, 2), (2, 2), (2, 2)), "addmv": ((2,), (2, 2), (2,)),
            "baddbmm": ((1, 2, 2), (1, 2, 2), (1, 2, 2)), "addbmm": ((2, 2), (1, 2, 2), (1, 2, 2))}
    extra = (1,) if name == "tensordot" else ()
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(*(torch.ones(s, dtype=torch.bool) for s in args[name]), *extra)
    with pytest.raises(TypeError, match=f"{name}: not implemented for bool tensors"):
        getattr(tg, name)(*(tg.ones(*s, dtype=tg.bool) for s in args[name]), *extra)


def test_inner_with_a_0d_bool_operand_multiplies_as_pytorch():
    torch = pytest.importorskip("torch")
    theirs = torch.inner(torch.tensor(True), torch.tensor([True, False]))
    ours = tg.inner(tg.tensor(True), tg.tensor([True, False]))
    assert ours.dtype == tg.bool and ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("call, why", [
    (lambda a: a.repeat(2, 1), "pass axis= \\(by keyword\\)"),  # numpy: axis 1; PyTorch: tiles
    (lambda a: a.put([0], [9.0]), "writes into the array in place"),  # the input's memory
    (lambda a: a.reshape(-1).sort(), "sorts the array in place"),  # a view of the input
    (lambda a: a.transpose(np.array(0), np.array(1)) * 1.0, "permutes all 2 axes"),
])
def test_more_pytorch_spellings_that_numpy_reads_otherwise_are_refused(call, why):
    """Outside tester t94: these computed something else silently (or wrote into the input
    tensor's memory) inside a Function's forward."""
    x = Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    with pytest.raises(TypeError, match=why):
        _forward_of(call).apply(x)
    assert x.numpy().tolist() == [[0.0, 1.0], [2.0, 3.0]]  # the input kept its values


@pytest.mark.parametrize("call, want", [
    (lambda a: np.unique(a * 0 + 1.0), [1.0]),  # numpy sorts its own copy inside
    (lambda a: _sorted_copy(a), [0.0, 1.0, 2.0, 3.0]),
    (lambda a: np.atleast_1d(a.max(None)), [3.0]),  # None is numpy's "all axes"
    (lambda a: a.repeat(2, axis=0)[:, 0], [0.0, 0.0, 2.0, 2.0]),
    (lambda a: a.transpose(3, 0), None),  # out of range: numpy's own error
])
def test_numpy_code_on_arrays_forward_owns_still_works(call, want):
    x = Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    if want is None:
        with pytest.raises(np.exceptions.AxisError):
            _forward_of(call).apply(x)
        return
    assert _forward_of(call).apply(x).numpy().ravel().tolist() == want


def _sorted_copy(a):
    y = a.reshape(-1)[::-1].copy()
    y.sort()
    return y


@pytest.mark.parametrize("shapes", [((2, 0), (0, 2)), ((0, 2), (2, 3)), ((1, 0, 2), (1, 2, 2))])
def test_bool_products_of_empty_operands_compute_as_pytorch(shapes):
    torch = pytest.importorskip("torch")
    sa, sb = shapes
    theirs = torch.ones(sa, dtype=torch.bool) @ torch.ones(sb, dtype=torch.bool)
    ours = tg.ones(*sa, dtype=tg.bool) @ tg.ones(*sb, dtype=tg.bool)
    assert ours.dtype == tg.bool and ours.shape == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()


EINSUMS = [("ij,jk->ik", [(2, 2), (2, 2)]), ("i,i->", [(2,), (2,)]), ("ij,ij->i", [(2, 2), (2, 2)]),
           ("i,j->ij", [(2,), (2,)]), ("ij,ij->ij", [(2, 2), (2, 2)]), ("ij,j->i", [(2, 2), (2,)]),
           ("ii->i", [(2, 2)]), ("ij->", [(2, 2)]), ("ij,kl->", [(2, 2), (2, 2)]),
           ("ij,jk,kl->il", [(2, 2), (2, 2), (2, 2)])]


@pytest.mark.parametrize("eq, shapes", EINSUMS)
def test_bool_einsum_computes_or_refuses_as_pytorch(eq, shapes):
    """Outside tester t94: a bool einsum that sums products over a shared subscript computed
    (tensordot refused the same product); PyTorch refuses exactly those."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    arrays = [rng.random(s) > 0.5 for s in shapes]
    try:
        theirs = torch.einsum(eq, *(torch.tensor(a) for a in arrays))
    except NotImplementedError:
        with pytest.raises(TypeError, match="einsum\\(\\): .* not implemented for bool"):
            tg.einsum(eq, *(tg.tensor(a) for a in arrays))
        return
    ours = tg.einsum(eq, *(tg.tensor(a) for a in arrays))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    assert ours.tolist() == theirs.tolist()


def test_linear_and_bilinear_refuse_bool_as_pytorch():
    torch = pytest.importorskip("torch")
    x, w = np.ones((2, 3), bool), np.ones((4, 3), bool)
    with pytest.raises(NotImplementedError):
        torch.nn.functional.linear(torch.tensor(x), torch.tensor(w))
    with pytest.raises(TypeError, match="linear: not implemented for bool"):
        tg.nn.functional.linear(tg.tensor(x), tg.tensor(w))
    with pytest.raises(TypeError, match="not implemented for bool"):
        tg.nn.functional.bilinear(tg.tensor(x), tg.tensor(x), tg.tensor(np.ones((4, 3, 3), bool)))


def test_a_bool_times_a_float_matrix_is_the_one_dtype_error_as_pytorch():
    """Found trying to break this session's change: bool @ float64 said "not implemented for
    bool"; PyTorch's error, and ours before, is the dtype mismatch."""
    with pytest.raises(TypeError, match="matmul: expected one dtype, got bool and float64"):
        tg.ones(2, 2, dtype=tg.bool) @ tg.ones(2, 2, dtype=tg.float64)
    with pytest.raises(TypeError, match="linear: input, weight and bias must have one dtype"):
        tg.nn.functional.linear(tg.ones(2, 2, dtype=tg.bool), tg.ones(2, 2, dtype=tg.float64))
