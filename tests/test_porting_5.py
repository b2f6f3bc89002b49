"""PyTorch's names that ported code reaches for and an outside tester found missing: the aliases
(``divide``, ``greater``, ``not_equal``, ...), keyword forms (``flip(dims=)``, ``expand(size=)``,
``repeat(repeats=)``, ``where(condition=, input=, other=)``) and small ops built from registered
ones (``dist``, ``signbit``, ``kthvalue``, ``tensor_split``, ``diff``). Each against PyTorch:
values, dtype, and the gradient for a random output gradient."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")

A = np.random.default_rng(0).standard_normal((3, 5))  # no ties: kthvalue's index is unique
A[0, 1], A[1, 2] = -0.0, np.nan

CASES = {
    "greater": lambda m, v: v.greater(0.5),
    "greater_equal": lambda m, v: m.greater_equal(v, 0.5),
    "less": lambda m, v: m.less(v, 0.5),
    "less_equal": lambda m, v: v.less_equal(0.5),
    "not_equal": lambda m, v: m.not_equal(v, v[0]),
    "divide": lambda m, v: v.divide(2.0) + m.divide(v, 4.0, rounding_mode="floor"),
    "signbit": lambda m, v: m.signbit(v),
    "positive": lambda m, v: m.positive(v) * 2,
    "sgn": lambda m, v: m.sgn(v) * v,
    "absolute": lambda m, v: v.absolute(),
    "dist": lambda m, v: m.dist(v[:, :3], v[0, 2:]),
    "dist_1": lambda m, v: v[1:, 3:].dist(m.zeros(2), 1),
    "dist_inf": lambda m, v: v[0].dist(m.ones(5), float("inf")),
    "kthvalue": lambda m, v: m.kthvalue(v[[0, 2]], 2, 1).values,
    "kthvalue_indices": lambda m, v: m.kthvalue(v[[0, 2]], 4, 1).indices,
    "kthvalue_keepdim": lambda m, v: v.kthvalue(3, 0, keepdim=True).values,
    "tensor_split_sections": lambda m, v: m.tensor_split(v, 3, 1)[1] * 3,
    "tensor_split_indices": lambda m, v: v.tensor_split([1, -1], 1)[1],
    "tensor_split_past_the_end": lambda m, v: v.tensor_split(m.tensor([2, 9]), 1)[1],
    "diff": lambda m, v: m.diff(v, 1),
    "diff_2_prepend": lambda m, v: v.diff(2, 0, prepend=v[:1] * 3),
    "diff_append": lambda m, v: v.diff(append=m.zeros(3, 2, dtype=v.dtype)),
    "diff_bool": lambda m, v: (v > 0).diff(),
    "flip_dims": lambda m, v: v.flip(dims=(0,)),
    "expand_size": lambda m, v: v[:1].expand(size=(4, 5)),
    "repeat_repeats": lambda m, v: v.repeat(repeats=(1, 2)),
    "where_keywords": lambda m, v: m.where(condition=v > 0, input=v, other=v * 2),
    "moveaxis": lambda m, v: m.moveaxis(v, 0, 1) * 1,
    "fliplr": lambda m, v: m.fliplr(v),
    "flipud": lambda m, v: m.flipud(v),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_pytorch(name):
    f = CASES[name]
    x, t = tg.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    ours, theirs = f(tg, x), f(torch, t)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    assert ours.requires_grad == theirs.requires_grad
    if not theirs.requires_grad:
        return
    g = np.random.default_rng(1).standard_normal(tuple(theirs.shape))
    (go,) = tg.grad(ours, [x], tg.tensor(g))
    (gt,) = torch.autograd.grad(theirs, [t], torch.tensor(g))
    np.testing.assert_allclose(go.numpy(), gt.numpy(), rtol=1e-12, atol=1e-15)


def test_the_sizes_of_a_tensor():
    x, t = tg.ones(3, 4, dtype=tg.float16), torch.ones(3, 4, dtype=torch.float16)
    assert (x.nbytes, x.itemsize) == (t.nbytes, t.itemsize) == (24, 2)
    assert tg.is_floating_point(x) and not tg.is_floating_point(tg.ones(2, dtype=tg.int64))


def test_bad_arguments_are_named():
    x = tg.ones(3, 4)
    with pytest.raises(TypeError, match="multiple values for argument 'dims'"):
        x.flip(0, dims=(1,))
    with pytest.raises(TypeError, match="where.*not both"):
        tg.where(x > 0, x, input=x, other=x)
    with pytest.raises(RuntimeError, match="kthvalue: k=5 is out of range.*1 to 4"):  # (PyTorch's)
        x.kthvalue(5)
    with pytest.raises(RuntimeError, match="tensor_split: number of sections must be larger than 0"):
        x.tensor_split(0)
    with pytest.raises(RuntimeError, match="order must be non-negative"):
        x.diff(-1)
    with pytest.raises(TypeError, match="positive: not defined for bool"):
        tg.positive(x > 0)


def test_the_top_level_flip_takes_dims_and_unflatten_is_there():
    """An outside tester: tg.flip(x, dims=[0]) was refused, tg.unflatten missing, and a 0-d
    unflatten raised a bare IndexError."""
    x, t = tg.arange(6.0).reshape(2, 3), torch.arange(6.0).reshape(2, 3)
    assert tg.flip(x, dims=[0]).tolist() == torch.flip(t, dims=[0]).tolist()
    assert tg.unflatten(x, 1, (3, 1)).shape == tuple(torch.unflatten(t, 1, (3, 1)).shape)
    with pytest.raises(TypeError, match="multiple values for argument 'dims'"):
        tg.flip(x, 0, dims=[1])
    with pytest.raises(RuntimeError, match="unflatten: dimension specified as 0 but the tensor"):
        tg.tensor(1.0).unflatten(0, (1,))


@pytest.mark.parametrize("name", ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_",
                                  "greater_equal_", "less_", "less_equal_", "not_equal_"])
def test_in_place_comparisons_as_pytorchs(name):
    """An outside tester: the in-place comparisons (and PyTorch's aliases of them, divide_) were
    missing: the result, 0 or 1 in the tensor's own dtype; through a recorded tensor the gradient
    of what came before is zero."""
    outs = []
    for m in (tg, torch):
        x = m.tensor(A[:2, :3].copy(), requires_grad=True)
        h = x * 1
        getattr(h, name)(0.5)
        (h * m.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
        i = m.tensor([[1, 5, 2]])
        getattr(i, name)(2)
        outs.append((h.detach().numpy().tolist(), str(h.dtype).split(".")[-1],
                     np.nan_to_num(x.grad.numpy()).tolist(), i.numpy().tolist()))
    assert outs[0] == outs[1]
    x, t = tg.tensor([3.0, 4.0]), torch.tensor([3.0, 4.0])
    assert x.divide_(2.0).tolist() == t.divide_(2.0).tolist()
