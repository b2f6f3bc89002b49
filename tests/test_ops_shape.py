"""The shape and indexing ops (ops/shape.py, ops/indexing.py) and numpy/DLPack interop.

* (The specs of ``fuzz_specs_shape.py`` run against PyTorch in ``test_fuzz.py``: values, result
  dtype, gradients, second derivatives; every dtype; negative and empty dims. Here: that their
  drawn arguments are valid and that each applies the op it is listed under.)
* Repeated indices, index blocks, masked_fill's value, empty and 0-d tensors against PyTorch.
* Views share memory and the version counter where PyTorch's do; copies share neither.
* Bad arguments: an IndexError (out-of-range indices) or ValueError/TypeError naming the op and
  the sizes.
* Repeated indices add their gradients up; an index smaller than ``src`` pads its gradient.
* ``from_numpy``, ``from_dlpack`` and ``__dlpack__`` share memory both ways, strided views too.
"""

from __future__ import annotations

import numpy as np
import pytest
import test_fuzz
from fuzz_specs import torch
from fuzz_specs_shape import SHAPE_SPECS
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, gradcheck, no_grad

needs_torch = pytest.mark.skipif(torch is None, reason="needs PyTorch (pip install torch==2.13.0)")
IDS = [f"{name}-{s.id or i}" for i, (name, s) in enumerate(SHAPE_SPECS)]


# ------------------------------------------------------------------------------ PyTorch parity
def _torch_grads(fn, arrays, g):
    ins = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ins)
    out.backward(torch.tensor(g))
    return out.detach().numpy(), [i.grad.numpy() for i in ins]


def _our_grads(fn, arrays, g):
    ins = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ins)
    out.backward(Tensor(g))
    return out.numpy(), [i.grad.numpy() for i in ins]


@needs_torch
def test_repeated_indices_add_their_gradients():
    rng = np.random.default_rng(0)
    x, src = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    cases = [  # (fn(index maker, *inputs), inputs, output shape)
        (lambda m, a: a.index_select(1, m(np.array([3, 0, 3, 3]))), [x], (3, 4)),
        (lambda m, a: a.take_along_dim(m(np.array([[1, 1, 1, 2]])), 0), [x], (1, 4)),
        (lambda m, a, b: a.scatter_add(0, m(np.array([[2, 2, 2, 0], [2, 0, 2, 2]])), b),
         [x, src[:2]], (3, 4)),
    ]
    for fn, arrays, out_shape in cases:
        g = rng.standard_normal(out_shape)
        ref, ref_grads = _torch_grads(lambda *a, f=fn: f(torch.from_numpy, *a), arrays, g)
        out, grads = _our_grads(lambda *a, f=fn: f(Tensor, *a), arrays, g)
        np.testing.assert_allclose(out, ref, rtol=1e-12)
        for a, b in zip(grads, ref_grads):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    # the repeated column 3 of index_select collects three gradients
    a = Tensor(x, requires_grad=True)
    a.index_select(1, np.array([3, 0, 3, 3])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.tile([1.0, 0, 0, 3], (3, 1)))


@needs_torch
def test_scatter_index_smaller_than_src():
    """PyTorch reads the leading block of src; its own VJP fails for this shape, ours pads with
    zeros (checked against PyTorch on the block and against finite differences)."""
    rng = np.random.default_rng(1)
    x, src = rng.standard_normal((3, 5)), rng.standard_normal((4, 4))
    index = np.array([[2, 0, 1], [0, 1, 2]])
    for op in ("scatter", "scatter_add"):
        ref = getattr(torch.from_numpy(x), op)(0, torch.from_numpy(index), torch.from_numpy(src))
        a, b = Tensor(x, requires_grad=True), Tensor(src, requires_grad=True)
        out = getattr(a, op)(0, index, b)
        np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-12)
        g = rng.standard_normal(out.shape)
        out.backward(Tensor(g))
        block = torch.tensor(src[:2, :3], requires_grad=True)
        xt = torch.tensor(x, requires_grad=True)
        getattr(xt, op)(0, torch.from_numpy(index), block).backward(torch.tensor(g))
        want = np.zeros_like(src)
        want[:2, :3] = block.grad.numpy()
        np.testing.assert_allclose(b.grad.numpy(), want, rtol=1e-12)
        np.testing.assert_allclose(a.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
        assert gradcheck(lambda p, q, o=op: getattr(p, o)(0, index, q * q), (a, b))


@needs_torch
def test_masked_fill_value_tensor_gets_the_summed_gradient():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3))
    mask = np.array([[True], [False]])
    v = Tensor(np.array(0.5), requires_grad=True)
    a = Tensor(x, requires_grad=True)
    g = rng.standard_normal((2, 3))
    a.masked_fill(Tensor(mask), v).backward(Tensor(g))
    np.testing.assert_allclose(v.grad.numpy(), g[0].sum(), rtol=1e-12)
    np.testing.assert_array_equal(a.grad.numpy(), np.where(mask, 0, g))
    # a float32 tensor filled with a float64 value stays float32; the value's gradient is float64
    out = Tensor(x, dtype=np.float32).masked_fill(Tensor(mask), v)
    assert out.dtype == np.float32


# ------------------------------------------------------------------------------ views and copies
def _base():
    return Tensor(np.arange(24.0).reshape(2, 3, 4))


VIEWS = {
    "select": lambda x: x.select(1, -1),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "chunk": lambda x: x.chunk(2, 2)[1],
    "split": lambda x: x.split([1, 2], 1)[1],
    "unbind": lambda x: x.unbind(0)[1],
    "movedim": lambda x: x.movedim(0, -1),
    "swapaxes": lambda x: x.swapaxes(0, 2),
    "swapdims": lambda x: x.swapdims(1, 2),
    "diagonal": lambda x: x.diagonal(0, 1, 2),
    "diagonal_offset": lambda x: tg.diagonal(x, -1, -1, -2),
    "ravel_contiguous": lambda x: x.ravel(),
    "unfold_disjoint_windows": lambda x: x.unfold(2, 1, 2),
}
READ_ONLY_VIEWS = {
    "broadcast_to": lambda x: x.broadcast_to((5, 2, 3, 4)),
    "unfold_overlapping_windows": lambda x: x.unfold(1, 2, 1),
    "broadcast_tensors": lambda x: tg.broadcast_tensors(x, Tensor(np.zeros((3, 1, 1, 1))))[0],
}
COPIES = {
    "flip": lambda x: x.flip(0),
    "flip_no_dims": lambda x: x.flip([]),
    "rot90": lambda x: x.rot90(1, (1, 2)),
    "rot90_k0": lambda x: x.rot90(0),
    "roll": lambda x: x.roll(1, 0),
    "repeat": lambda x: x.repeat(1, 2, 1),
    "repeat_all_ones": lambda x: x.repeat(1, 1, 1),
    "repeat_one_dim": lambda x: x[:1].repeat(2, 1, 1),
    "tile": lambda x: x.tile((1,)),
    "repeat_interleave_1": lambda x: x.repeat_interleave(1, 0),
    "repeat_interleave": lambda x: x.repeat_interleave(2, 0),
    "tril": lambda x: x.tril(),
    "triu": lambda x: x.triu(1),
    "diag_embed": lambda x: x.diag_embed(),
    "index_select": lambda x: x.index_select(0, np.array([1])),
    "take_along_dim": lambda x: x.take_along_dim(Tensor(np.zeros((1, 1, 1), np.int64)), 0),
    "scatter": lambda x: x.scatter(0, np.zeros((1, 1, 1), np.int64), 5.0),
    "scatter_add": lambda x: x.scatter_add(0, np.zeros((1, 1, 1), np.int64), x),
    "masked_fill": lambda x: x.masked_fill(Tensor(np.array(False)), 1.0),
    "ravel_non_contiguous": lambda x: x.swapaxes(0, 1).ravel(),
    "hstack": lambda x: tg.hstack([x]),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_views_share_memory_and_version(name):
    x = _base()
    v = VIEWS[name](x)
    assert np.shares_memory(v.numpy(), x.numpy())
    assert v._version_counter is x._version_counter
    before = x.numpy().copy()
    v.add_(100)  # in place through the view changes the base, and bumps the shared counter
    assert x._version == 1
    assert (x.numpy() != before).sum() == v.numel()
    x.mul_(0)
    np.testing.assert_array_equal(v.numpy(), 0)


@pytest.mark.parametrize("name", sorted(READ_ONLY_VIEWS))
def test_broadcast_views_are_read_only(name):
    x = _base()
    v = READ_ONLY_VIEWS[name](x)
    assert np.shares_memory(v.numpy(), x.numpy())
    assert v._version_counter is x._version_counter
    with pytest.raises(RuntimeError, match="read-only"):
        v.add_(1)


@pytest.mark.parametrize("name", sorted(COPIES))
def test_copies_share_nothing(name):
    x = _base()
    c = COPIES[name](x)
    assert not np.shares_memory(c.numpy(), x.numpy())
    assert c._version_counter is not x._version_counter
    c.add_(1)
    np.testing.assert_array_equal(x.numpy(), np.arange(24.0).reshape(2, 3, 4))


@needs_torch
@pytest.mark.parametrize("name", sorted(VIEWS))
def test_in_place_through_a_view_is_recorded_on_the_base(name):
    """PyTorch's semantics: an in-place op on a view of a non-leaf changes the base, and the
    gradient flows through the change (the engine records it on the base; the view ops replay)."""
    rng = np.random.default_rng(3)
    x0, w = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    grads = []
    for lib in (tg, torch):
        x = (Tensor if lib is tg else torch.tensor)(x0, requires_grad=True)
        y = x * 1
        v = VIEWS[name](y) if lib is tg else TORCH_VIEWS[name](y)
        v.mul_(3)
        (y * (Tensor if lib is tg else torch.tensor)(w)).sum().backward()
        grads.append((y.detach().numpy().copy(), x.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-12)


# PyTorch refuses in-place changes of chunk/split/unbind outputs while recording ("a function
# that returns multiple views"); ours are single getitem views each, so they take them: the same
# region through narrow/select is the reference
TORCH_VIEWS = {
    "select": lambda x: x.select(1, -1),
    "narrow": lambda x: x.narrow(2, 1, 2),
    "chunk": lambda x: x.narrow(2, 2, 2),
    "split": lambda x: x.narrow(1, 1, 2),
    "unbind": lambda x: x.select(0, 1),
    "movedim": lambda x: x.movedim(0, -1),
    "swapaxes": lambda x: x.swapaxes(0, 2),
    "swapdims": lambda x: x.swapdims(1, 2),
    "diagonal": lambda x: x.diagonal(0, 1, 2),
    "diagonal_offset": lambda x: torch.diagonal(x, -1, -1, -2),
    "ravel_contiguous": lambda x: x.ravel(),
    "unfold_disjoint_windows": lambda x: x.unfold(2, 1, 2),
}


def test_in_place_change_through_a_view_is_caught_at_backward():
    x = Tensor(np.ones((3, 3)), requires_grad=True)
    y = x * 2
    loss = (y * y).sum()  # saves y
    with no_grad():
        y.diagonal().fill_(0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        loss.backward()


def test_diagonal_is_a_writable_view_in_both_directions():
    x = tg.zeros(3, 4)
    d = x.diagonal(1)
    d.fill_(7)
    np.testing.assert_array_equal(x.numpy(), np.eye(3, 4, 1) * 7)
    x._data[0, 1] = -1
    assert d.numpy()[0] == -1


# ------------------------------------------------------------------------------ bad arguments
ERRORS = [
    (lambda x: x.select(1, 3), IndexError, r"select: index 3 is out of range for dim 1 of size 3"),
    (lambda x: x.select(-1, -5), IndexError, r"select: index -5 .* dim 2 of size 4"),
    (lambda x: Tensor(1.0).select(0, 0), IndexError, r"select: .*0-d"),
    (lambda x: x.narrow(2, 5, 0), IndexError, r"narrow: start 5 is out of range for dim 2 of size 4"),
    (lambda x: x.narrow(2, 1, 4), ValueError, r"narrow: start 1 \+ length 4 .* size 4"),
    (lambda x: x.narrow(0, 0, -1), ValueError, r"narrow: length must not be negative"),
    (lambda x: x.index_select(1, np.array([0, 3])), IndexError,
     r"index_select: index 3 is out of range for dim 1 of size 3 \(tensor shape \(2, 3, 4\)"),
    (lambda x: x.index_select(1, np.array([-1])), IndexError, r"index_select: index -1 .* size 3"),
    (lambda x: x.index_select(1, np.array([[0]])), IndexError, r"index_select: .*1-D"),
    (lambda x: x.index_select(1, np.array([0.0])), TypeError, r"index_select: index must be an integer"),
    (lambda x: x.take_along_dim(Tensor(np.array([[[4]]])), 2), RuntimeError,  # (PyTorch's)
     r"take_along_dim: index 4 is out of range for dim 2 of size 4"),
    (lambda x: x.take_along_dim(Tensor(np.array([[-5]])), 1), ValueError,
     r"take_along_dim: indices have 2 dims"),
    (lambda x: x.take_along_dim(Tensor(np.array([[[0, 0]]]).repeat(3, 0)), 2), ValueError,
     r"take_along_dim: .*cannot be broadcast"),
    (lambda x: x.scatter(2, np.full((1, 1, 1), 4), 1.0), RuntimeError,  # (PyTorch's)
     r"scatter: index 4 is out of range for dim 2 of size 4"),
    (lambda x: x.scatter(0, np.full((1, 1, 1), -1), 1.0), RuntimeError, r"scatter: index -1"),
    (lambda x: x.scatter_add(1, np.zeros((1, 5, 1), np.int64), x), ValueError,
     r"scatter_add: index of shape \(1, 5, 1\) must be no larger"),
    (lambda x: x.scatter_add(1, np.zeros((3, 1, 1), np.int64), x), ValueError,
     r"scatter_add: index of shape \(3, 1, 1\)"),
    (lambda x: x.scatter(0, np.zeros((1, 1), np.int64), 1.0), ValueError, r"scatter: index has 2 dims"),
    (lambda x: x.scatter(0, np.zeros((1, 1, 1), np.int64), x.float()), TypeError,
     r"scatter: src is float32 but the tensor is float64"),
    (lambda x: x.scatter(0, np.zeros((1, 1, 1), np.int64), 1.0, reduce="mean"), ValueError,
     r"reduce must be 'add' or 'multiply'"),
    (lambda x: x.to(np.uint8).scatter(0, np.zeros((1, 1, 1), np.int64), 256), RuntimeError,
     r"scatter\(\): the value 256 cannot be converted to uint8"),  # (-1 wraps, as in PyTorch)
    (lambda x: x.masked_fill(Tensor(np.array([1, 0, 1, 0])), 1.0), TypeError,
     r"masked_fill: mask must be a bool tensor, got int64"),
    (lambda x: x.masked_fill(Tensor(np.array([True])), Tensor([1.0])), ValueError,
     r"masked_fill: value must be a number or a 0-d tensor"),
    (lambda x: x.masked_fill(Tensor(np.ones(5, bool)), 1.0), ValueError,
     r"masked_fill: the mask of shape \(5,\)"),
    (lambda x: x.flip(0, -3), ValueError, r"flip: dim -3 appears more than once"),
    (lambda x: x.flip(3), IndexError, r"flip: dim 3 is out of range"),
    (lambda x: x.flip(), TypeError, r"flip: give the dims"),
    (lambda x: x.rot90(1, (0,)), ValueError, r"rot90: dims must name two dims"),
    (lambda x: x.rot90(1, (1, -2)), ValueError, r"rot90: dim -2 appears more than once"),
    (lambda x: x.roll((1, 2), 0), ValueError, r"roll: shifts \(1, 2\) and dims 0"),
    (lambda x: x.roll((1, 2)), ValueError, r"roll: without dims"),
    (lambda x: x.tril() + Tensor([1.0]).tril(), ValueError, r"tril: needs .* at least 2 dims"),
    (lambda x: x.diagonal(0, 1, -2), ValueError, r"diagonal: dim1 and dim2 name the same dim"),
    (lambda x: x.diag_embed(0, 0, -4), ValueError, r"diag_embed: dim1 and dim2"),
    (lambda x: x.trace(), ValueError, r"trace: needs a matrix, got .* \(2, 3, 4\)"),
    (lambda x: x[0].to(bool).trace(), TypeError, r"trace: not defined for bool"),
    (lambda x: x.repeat(2, 2), ValueError, r"repeat: got 2 repeats \(2, 2\) for a tensor of shape"),
    (lambda x: x.repeat(1, -1, 1), ValueError, r"repeat: repeats must not be negative"),
    (lambda x: x.repeat_interleave(Tensor(np.array([1, 2])), 1), ValueError,
     r"repeat_interleave: got 2 repeats for a dim of size 3"),
    (lambda x: x.repeat_interleave(Tensor(np.array([1, -1, 1])), 1), ValueError,
     r"repeats must not be negative"),
    (lambda x: x.repeat_interleave(-1), ValueError, r"repeats must not be negative"),
    (lambda x: x.repeat_interleave(2, 0, output_size=3), ValueError, r"output_size=3"),
    (lambda x: x.split([1, 1], 1), ValueError, r"split: sizes \(1, 1\) .* add up to 3"),
    (lambda x: x.split(0, 1), ValueError, r"split: split_size must be positive"),
    (lambda x: x.chunk(0), ValueError, r"chunk: chunks must be positive"),
    (lambda x: x.unbind(3), IndexError, r"unbind: dim 3 is out of range"),
    (lambda x: x.movedim((0, 1), 2), ValueError, r"movedim: source .* must name as many dims"),
    (lambda x: x.movedim((0, 0), (1, 2)), ValueError, r"movedim: dim 0 appears more than once"),
    (lambda x: x.broadcast_to((3, 4)), ValueError, r"broadcast_to: cannot expand shape"),
    (lambda x: x.broadcast_to((2, 2, 4)), ValueError, r"broadcast_to: .*dimension 1 has size 3"),
    (lambda x: tg.broadcast_tensors(x, Tensor(np.ones(3))), ValueError,
     r"broadcast_tensors: shapes \[\(2, 3, 4\), \(3,\)\] cannot be broadcast"),
    (lambda x: tg.hstack([]), ValueError, r"hstack: needs at least one tensor"),
    (lambda x: tg.vstack([x, 1.0]), TypeError, r"vstack: item 1 is a float"),
]


@pytest.mark.parametrize("call,kind,message", ERRORS, ids=[f"error{i}" for i in range(len(ERRORS))])
def test_bad_arguments_raise_clear_errors(call, kind, message):
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    with pytest.raises(kind, match=message):
        call(x)


def test_scatter_reduce_has_no_gradient():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    out = x.scatter(0, np.zeros((1, 2), np.int64), 3.0, reduce="multiply")  # (as PyTorch: the
    np.testing.assert_array_equal(out.detach().numpy(), [[3, 3], [1, 1]])  # forward runs)
    with pytest.raises(RuntimeError, match="scatter: reduce='multiply' has no gradient"):
        out.sum().backward()
    with no_grad():
        out = x.scatter(0, np.zeros((2, 2), np.int64), 3.0, reduce="multiply")
    np.testing.assert_array_equal(out.numpy(), [[9, 9], [1, 1]])


# ------------------------------------------------------------------------------ edge cases
@needs_torch
def test_empty_and_zero_dim_edge_cases_match_torch():
    z = np.zeros((0, 3))
    cases = [
        lambda m, a: m.cat(a.chunk(3, 0) + (a,), 1) if m is torch else tg.cat(
            list(a.chunk(3, 0)) + [a], 1),
        lambda m, a: a.flip(0).roll(2, 1),
        lambda m, a: a.repeat(2, 0),
        lambda m, a: a.diagonal(),
        lambda m, a: a.index_select(0, m.tensor(np.zeros(0, np.int64)) if m is torch
                                    else Tensor(np.zeros(0, np.int64))),
        lambda m, a: a.T.tril(),
        lambda m, a: m.hstack([a, a]),
        lambda m, a: a.scatter_add(0, (m.tensor if m is torch else Tensor)(np.zeros((0, 3), np.int64)), a),
        lambda m, a: a.split(2, 0)[0],
        lambda m, a: a.diag_embed(),
    ]
    for i, fn in enumerate(cases):
        ours, ref = fn(tg, Tensor(z)), fn(torch, torch.from_numpy(z))
        assert ours.shape == tuple(ref.shape), f"case {i}: {ours.shape} vs {tuple(ref.shape)}"
    s = np.array(2.5)
    for fn in (lambda m, a: a.flip(0), lambda m, a: a.roll(1), lambda m, a: a.repeat(2, 1),
               lambda m, a: a.repeat_interleave(3), lambda m, a: a.movedim(0, 0),
               lambda m, a: a.ravel(), lambda m, a: a.index_select(0, (m.tensor if m is torch
                                                                       else Tensor)(np.array(0))),
               lambda m, a: a.scatter(0, (m.tensor if m is torch else Tensor)(np.array(0)), 7.0),
               lambda m, a: m.vstack([a, a]), lambda m, a: m.dstack([a])):
        ours, ref = fn(tg, Tensor(s)), fn(torch, torch.from_numpy(s))
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert tg.nonzero(Tensor(s)).shape == (1, 0)
    assert tg.nonzero(Tensor(np.array(0.0))).shape == (0, 0)
    (idx,) = Tensor(s).nonzero(as_tuple=True)
    np.testing.assert_array_equal(idx.numpy(), [0])
    assert idx.dtype == np.int64


def test_gather_with_an_empty_index_has_a_gradient():
    """gather's VJP (movement.ScatterAdd) once failed to reshape its row offsets for an index with
    an empty gather dim."""
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    for index in (np.zeros((3, 0), np.int64), np.zeros((0, 4), np.int64)):
        x.grad = None
        x.gather(1 if index.shape[1] == 0 else 0, index).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))
    x.grad = None
    x.take_along_dim(Tensor(np.zeros((1, 0), np.int64)), 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_repeat_interleave_counts_only():
    out = tg.repeat_interleave(Tensor(np.array([2, 0, 3])))
    np.testing.assert_array_equal(out.numpy(), [0, 0, 2, 2, 2])


def test_nonzero_has_no_gradient():
    x = Tensor(np.array([[0.0, 1.0], [np.nan, 0.0]]), requires_grad=True)
    out = x.nonzero()
    np.testing.assert_array_equal(out.numpy(), [[0, 1], [1, 0]])
    assert not out.requires_grad and out.dtype == np.int64


def test_int_and_bool_dtypes_move_exactly():
    a = np.arange(12).reshape(3, 4).astype(np.int32)
    x = Tensor(a)
    np.testing.assert_array_equal(x.flip(0).numpy(), a[::-1])
    np.testing.assert_array_equal(x.roll(1, 1).numpy(), np.roll(a, 1, 1))
    np.testing.assert_array_equal(x.tril(-1).numpy(), np.tril(a, -1))
    np.testing.assert_array_equal(x.repeat(2, 1).numpy(), np.tile(a, (2, 1)))
    np.testing.assert_array_equal(x.index_select(1, np.array([3, 3])).numpy(), a[:, [3, 3]])
    assert x.trace().dtype == np.int64 and x.trace().item() == 0 + 5 + 10
    m = a % 3 == 1
    b = Tensor(m)
    added = m.copy()
    added[0, 0] |= m[0, 0] | m[0, 1]  # bool scatter_add is a logical or, as in PyTorch
    for out, want in ((b.flip(1), m[:, ::-1]), (b.diagonal(), np.diagonal(m)),
                      (b.scatter_add(1, np.array([[0, 0]]), b[:1, :2]), added),
                      (b.masked_fill(b, False), np.zeros((3, 4), bool))):
        assert out.dtype == np.bool_
        np.testing.assert_array_equal(out.numpy(), want)


# ------------------------------------------------------------------------------ interop
def test_from_numpy_shares_memory_both_ways():
    a = np.arange(6.0).reshape(2, 3)
    t = tg.from_numpy(a)
    assert t.dtype == np.float64 and t.shape == (2, 3)
    a[0, 0] = 100
    assert t.numpy()[0, 0] == 100
    t.add_(1)
    assert a[0, 0] == 101
    strided = tg.from_numpy(a[:, ::2])
    assert np.shares_memory(strided.numpy(), a)
    np.testing.assert_array_equal(strided.numpy(), a[:, ::2])
    for bad, kind in ((np.float64(1.0), TypeError), ([1.0], TypeError),
                      (np.ones(2, np.complex64), TypeError),
                      (np.ones(2, ">f8"), ValueError)):
        with pytest.raises(kind, match="from_numpy"):
            tg.from_numpy(bad)


@needs_torch
def test_torch_from_dlpack_shares_our_memory():
    x = Tensor(np.arange(12.0).reshape(3, 4))
    views = {"contiguous": x, "transposed": x.T, "stepped": x[:, ::2], "select": x.select(1, 2),
             "diagonal": x.diagonal(), "int": Tensor(np.arange(4)), "bool": Tensor(np.ones(3, bool)),
             "float16": Tensor(np.ones(3, np.float16)), "0-d": Tensor(np.array(3.0))}
    for name, v in views.items():
        t = torch.from_dlpack(v)
        np.testing.assert_array_equal(t.numpy(), v.numpy(), err_msg=name)
        if v.numel() > 1:
            assert t.data_ptr() == v.numpy().ctypes.data, name
            assert tuple(s * v.numpy().itemsize for s in t.stride()) == v.numpy().strides, name
    t = torch.from_dlpack(x.T)
    t[0, 1] = -7.0  # PyTorch writes into our memory
    assert x.numpy()[1, 0] == -7.0
    x._data[2, 3] = 42.0
    assert t[3, 2].item() == 42.0
    # numpy's own import works too
    assert np.shares_memory(np.from_dlpack(x[1:]), x.numpy())


@needs_torch
def test_from_dlpack_shares_torch_memory():
    base = torch.arange(24.0).reshape(2, 3, 4)
    views = {"contiguous": base, "transposed": base.transpose(0, 2), "stepped": base[:, ::2, 1::2],
             "expanded": torch.ones(3, 1).expand(3, 4), "int64": torch.arange(5),
             "bool": torch.ones(2, dtype=torch.bool), "float16": torch.ones(2, dtype=torch.float16),
             "0-d": torch.tensor(1.5)}
    for name, v in views.items():
        t = tg.from_dlpack(v)
        np.testing.assert_array_equal(t.numpy(), v.numpy(), err_msg=name)
        assert t.dtype == np.dtype(str(v.dtype).replace("torch.", "")), name
        assert t.numpy().ctypes.data == v.data_ptr(), name
    t = tg.from_dlpack(base.transpose(0, 2))
    base[1, 2, 3] = -1.0
    assert t.numpy()[3, 2, 1] == -1.0
    t._data[0, 0, 0] = 99.0
    assert base[0, 0, 0].item() == 99.0
    # round trip: torch -> ours -> torch, the same memory
    assert torch.from_dlpack(tg.from_dlpack(base)).data_ptr() == base.data_ptr()
    # ours -> ours
    y = tg.from_dlpack(t)
    assert np.shares_memory(y.numpy(), t.numpy())
    with pytest.raises(BufferError, match="require gradient"):
        tg.from_dlpack(torch.ones(2, requires_grad=True))
    for dtype in (torch.bfloat16, torch.complex64):
        with pytest.raises(TypeError, match="from_dlpack"):
            tg.from_dlpack(torch.ones(2, dtype=dtype))
    with pytest.raises(TypeError, match="from_dlpack: expected an object with __dlpack__"):
        tg.from_dlpack([1.0, 2.0])
    copied = tg.from_dlpack(base, copy=True)
    assert not np.shares_memory(copied.numpy(), t.numpy())


@needs_torch
def test_dlpack_export_refuses_grad_and_copies_negative_strides():
    x = Tensor(np.arange(6.0), requires_grad=True)
    with pytest.raises(BufferError, match="require gradient, use tensor.detach"):
        torch.from_dlpack(x)
    assert torch.from_dlpack(x.detach()).data_ptr() == x.numpy().ctypes.data
    rev = x.detach()[::-1]  # negative strides: PyTorch cannot hold them (it aborts the process)
    np.testing.assert_array_equal(torch.from_dlpack(rev).numpy(), np.arange(6.0)[::-1])
    with pytest.raises(BufferError, match="negative strides"):
        rev.__dlpack__(copy=False)
    assert x.__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("name,spec", SHAPE_SPECS, ids=IDS)
@test_fuzz.FUZZ
@given(data=st.data())
def test_every_shape_spec_applies_its_op(name, spec, data):
    """Every spec runs (its drawn arguments are valid) and applies the op it is listed under, or
    none but a clone (identity permutations, rot90 by 0, an empty index: a copy is all it takes;
    a scatter of an empty index whose source wants a gradient is a scatter writing nothing)."""
    from tinygrad_cnn.autograd import _collect

    shapes = data.draw(spec.shape_strategy(), label="shapes")
    params = data.draw(spec.params(shapes), label="params") if spec.params else {}
    rng = np.random.default_rng(0)
    ins = [Tensor(test_fuzz._values(rng, s, "float64", d, ()), requires_grad=spec.grad)
           for s, d in zip(shapes, spec.domains())]
    out = spec.fn(test_fuzz.OURS, *ins, **params)
    ops = {node.fn.name for node in _collect([out.grad_fn])} if out.grad_fn else set()
    copies = {"clone", "scatter"} if name.startswith(("scatter", "index_")) else {"clone"}
    assert name in ops or ops <= copies or not spec.grad, (
        f"spec {name}/{spec.id} does not apply {name} (it applies {sorted(ops)})")


def test_gather_with_an_index_smaller_than_the_input_reads_the_leading_block():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((4, 5, 3))
    idx = np.array([[[0, 2], [1, 4]], [[3, 3], [0, 1]]])  # (2, 2, 2): smaller in dims 0 and 2
    a = Tensor(x, requires_grad=True)
    out = a.gather(1, idx)
    out.backward(Tensor(np.arange(8.0).reshape(2, 2, 2)))
    ta = torch.tensor(x, requires_grad=True)
    tout = ta.gather(1, torch.tensor(idx))
    tout.backward(torch.arange(8.0, dtype=torch.float64).reshape(2, 2, 2))
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    with pytest.raises(ValueError, match="gather: index shape"):
        a.gather(1, np.zeros((5, 1, 1), dtype=np.int64))


def test_t_is_pytorchs():
    torch = pytest.importorskip("torch")
    for shape in [(), (3,), (2, 3)]:
        x = np.arange(float(np.prod(shape))).reshape(shape)
        np.testing.assert_array_equal(Tensor(x).t().numpy(), torch.tensor(x).t().numpy())
    with pytest.raises(ValueError, match="t: expects"):
        Tensor(np.ones((2, 2, 2))).t()


def test_float16_scatter_add_and_gather_gradient_add_up_in_float32():
    """An outside tester: float16 scatter_add (and the gradients of gather and take_along_dim)
    added in float16 -- 3,000 ones stopped at 2,048, and 1,000 values in 3 bins were off by up to
    0.6 -- where PyTorch adds in float32 and rounds once."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    v = rng.uniform(0, 3, 1000).astype(np.float16)
    idx = rng.integers(0, 3, 1000)
    exact = np.bincount(idx, v.astype(np.float64)).astype(np.float16)  # the sum, rounded once
    ours = tg.zeros(3, dtype=tg.float16).scatter_add(0, Tensor(idx), Tensor(v)).numpy()
    theirs = torch.zeros(3, dtype=torch.float16).scatter_add(0, torch.tensor(idx), torch.tensor(v))
    np.testing.assert_array_equal(ours, exact)
    np.testing.assert_array_equal(ours, theirs.numpy())
    for op in ("gather", "take_along_dim"):
        x = Tensor(np.ones(3, np.float16), requires_grad=True)
        tx = torch.ones(3, dtype=torch.float16, requires_grad=True)
        (x.gather(0, Tensor(idx)) if op == "gather" else tg.take_along_dim(x, Tensor(idx), 0)
         ).mul(Tensor(v)).sum().backward()
        (tx.gather(0, torch.tensor(idx)) if op == "gather" else
         torch.take_along_dim(tx, torch.tensor(idx), 0)).mul(torch.tensor(v)).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy(), err_msg=op)
        np.testing.assert_array_equal(x.grad.numpy(), exact, err_msg=op)
    ones = tg.zeros(2, 1, dtype=tg.float16).scatter_add(1, Tensor(np.zeros((2, 3000), np.int64)),
                                                        tg.ones(2, 3000, dtype=tg.float16))
    np.testing.assert_array_equal(ones.numpy(), [[3000.0], [3000.0]])


@pytest.mark.parametrize("sizes", [(3, 3), (2, 2), (-1, 2), (-1, 3), (2, -1, 1), (-1, -1), (0,),
                                   (-1, 0), (4,), (-2, -2)])
def test_unflatten_refuses_what_pytorch_refuses_in_its_own_name(sizes):
    """An outside tester: a bad unflatten was reported by reshape."""
    torch = pytest.importorskip("torch")
    try:
        theirs = tuple(torch.ones(2, 3, 4).unflatten(2, sizes).shape)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="unflatten"):
            tg.ones(2, 3, 4).unflatten(2, sizes)
    else:
        assert tuple(tg.ones(2, 3, 4).unflatten(2, sizes).shape) == theirs


def test_float16_scatter_add_into_a_nonzero_input_rounds_once():
    """An outside tester: the float32 sum of the sources was rounded to float16 before it was
    added to the input (-1024 + (1024 + 0.5 + 0.25) gave 1.0); PyTorch adds in float32 and rounds
    once (0.75)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    base = rng.standard_normal((5, 4)).astype(np.float16)
    src = (3 * rng.standard_normal((5, 400))).astype(np.float16)
    idx = rng.integers(0, 4, (5, 400))
    exact = base.astype(np.float64).copy()
    for r in range(5):
        np.add.at(exact[r], idx[r], src[r].astype(np.float64))
    for how in ("scatter_add", "scatter_add_"):
        ours = getattr(Tensor(base.copy()), how)(1, Tensor(idx), Tensor(src)).numpy()
        theirs = getattr(torch.tensor(base), how)(1, torch.tensor(idx), torch.tensor(src)).numpy()
        np.testing.assert_array_equal(ours, theirs)
        np.testing.assert_array_equal(ours, exact.astype(np.float16))
    one = Tensor(np.array([-1024.0], np.float16)).scatter_add(
        0, Tensor(np.zeros(3, np.int64)), Tensor(np.array([1024.0, 0.5, 0.25], np.float16)))
    assert one.tolist() == [0.75] and one.dtype == np.float16


def test_hsplit_vsplit_dsplit_refuse_as_pytorch():
    """Found missing by an outside tester. An int must divide the dim evenly (unlike
    tensor_split), and each needs its number of dims -- PyTorch's errors, word for word."""
    torch = pytest.importorskip("torch")
    x = np.arange(12.0).reshape(3, 4)
    for name, arg, a in (("hsplit", 3, x), ("vsplit", 2, x), ("dsplit", 2, x),
                         ("vsplit", 2, np.arange(4.0))):
        with pytest.raises(RuntimeError) as theirs:
            getattr(torch, name)(torch.from_numpy(a), arg)
        with pytest.raises(RuntimeError) as ours:
            getattr(tg, name)(tg.tensor(a), arg)
        assert str(ours.value) == str(theirs.value).replace("torch.", "")
    parts = tg.hsplit(tg.tensor(x), [1, 3])
    assert [p.shape for p in parts] == [(3, 1), (3, 2), (3, 1)]
    assert [p.tolist() for p in tg.tensor(np.arange(4.0)).hsplit(2)] == [[0.0, 1.0], [2.0, 3.0]]
