"""Gradient-check cases of the shape and indexing ops (ops/shape.py, ops/indexing.py), and of the
compositions built on them, each under the registered op it applies (``select`` under
``getitem``, ``take_along_dim`` under ``gather``, ...). ``a * a`` inside a case makes the second
derivative depend on the input, so that gradgradcheck checks the VJP of the VJP."""

from __future__ import annotations

import numpy as np
from op_cases import case, t

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor

# ------------------------------------------------------------------------------ registered ops


@case("flip", "two_dims")
def _flip(rng):
    return (lambda a: (a * a).flip(0, -1)), (t(rng, 2, 3, 4),)


@case("flip", "rot90_half_turn")
def _rot90_half(rng):
    return (lambda a: (a * a).rot90(-2, (2, 0))), (t(rng, 2, 3, 4),)


@case("rot90", "k3")
def _rot90(rng):
    return (lambda a: (a * a).rot90(3, (2, 0))), (t(rng, 2, 3, 4),)


@case("rot90", "k1_transposed_input")
def _rot90_k1(rng):
    return (lambda a: (a * a).transpose(0, 2).rot90(1, (1, -1))), (t(rng, 2, 3, 4),)


@case("roll", "dims")
def _roll(rng):
    return (lambda a: (a * a).roll((1, -5), (0, 2))), (t(rng, 2, 3, 4),)


@case("roll", "flattened")
def _roll_flat(rng):
    return (lambda a: (a * a).roll(4)), (t(rng, 2, 3),)


@case("tril")
def _tril(rng):
    return (lambda a: (a * a).tril(-1)), (t(rng, 2, 3, 4),)


@case("triu")
def _triu(rng):
    return (lambda a: (a * a).triu(1)), (t(rng, 2, 4, 3),)


@case("diagonal", "offset_dims")
def _diagonal(rng):
    return (lambda a: (a * a).diagonal(1, 2, 0)), (t(rng, 3, 2, 4),)


@case("diagonal", "trace")
def _trace(rng):
    return (lambda a: (a * a).trace()), (t(rng, 3, 4),)


@case("diag_embed")
def _diag_embed(rng):
    return (lambda a: (a * a).diag_embed(-1, 0, 2)), (t(rng, 2, 3),)


@case("unfold_dim", "overlapping")
def _unfold_overlapping(rng):
    return (lambda a: (a * a).unfold(1, 3, 2)), (t(rng, 2, 7, 2),)


@case("unfold_dim", "gaps_negative_dim")
def _unfold_gaps(rng):
    return (lambda a: (a * a).unfold(-1, 2, 3)), (t(rng, 3, 7),)


@case("unfold_dim", "zero_dim")
def _unfold_0d(rng):
    return (lambda a: (a * a).unfold(0, 1, 1)), (t(rng),)


@case("unfold_backward")
def _unfold_backward(rng):
    from tinygrad_cnn.ops.shape import UnfoldBackward

    return (lambda g: UnfoldBackward.apply(g * g, dim=1, size=3, step=2, shape=(2, 8))), \
        (t(rng, 2, 3, 3),)


@case("scatter", "src")
def _scatter(rng):
    index = np.array([[0, 3], [2, 1], [1, 0]])
    return (lambda a, b: (a * b.sum()).scatter(1, index, b * b)), (t(rng, 3, 4), t(rng, 3, 2))


@case("scatter", "index_smaller_than_src")
def _scatter_block(rng):
    index = np.array([[1, 0, 2]])
    return (lambda a, b: a.scatter(0, index, b * b)), (t(rng, 3, 4), t(rng, 2, 4))


@case("scatter_reduce", "amax")
def _scatter_reduce_amax(rng):
    index = np.array([[0, 3, 3], [2, 1, 2], [1, 0, 0]])
    return (lambda a, b: (a * b.sum()).scatter_reduce(1, index, b * b, "amax")), \
        (t(rng, 3, 4), t(rng, 3, 3))


@case("scatter_reduce", "amin_without_self")
def _scatter_reduce_amin(rng):
    index = np.array([[1, 0, 2, 1]])
    return (lambda a, b: a.scatter_reduce(0, index, b * b, "amin", include_self=False)), \
        (t(rng, 3, 4), t(rng, 1, 4))


@case("scatter", "value")
def _scatter_value(rng):
    index = np.array([[0], [2], [0]])
    return (lambda a: (a * a).scatter(1, index, 1.5)), (t(rng, 3, 3),)


# ------------------------------------------------------------------------------ compositions


@case("getitem", "select_narrow")
def _select_narrow(rng):
    return (lambda a: (a * a).select(1, -1).narrow(0, 1, 2)), (t(rng, 3, 4),)


@case("getitem", "chunk_split_unbind")
def _chunks(rng):
    def f(a):
        c = (a * a).chunk(3, 1)  # sizes 2, 2, 1
        s = a.split([1, 2], 0)
        return tg.cat([c[2], c[0] * 2], 1).sum() + s[1].sum() * (a * a).unbind(1)[3].sum()

    return f, (t(rng, 3, 5),)


@case("getitem", "index_select_repeated")
def _index_select(rng):
    index = np.array([2, 0, 2, 2])
    return (lambda a: (a * a).index_select(1, index)), (t(rng, 2, 3),)


@case("getitem", "repeat_interleave_tensor")
def _repeat_interleave_tensor(rng):
    return (lambda a: (a * a).repeat_interleave(tg.tensor(np.array([2, 0, 1])), 0)), \
        (t(rng, 3, 2),)


@case("gather", "take_along_dim_broadcast")
def _take_along_dim(rng):
    index = np.array([[0, 2, 2, -1]])  # broadcast over the rows; -1 is the last column
    return (lambda a: (a * a).take_along_dim(Tensor(index), 1)), (t(rng, 3, 3),)


@case("scatter_add", "public_repeated_block")
def _scatter_add(rng):
    index = np.array([[0, 3, 3], [1, 1, 1]])
    return (lambda a, b: (a * b.sum()).scatter_add(1, index, b * b)), (t(rng, 3, 4), t(rng, 2, 4))


@case("where", "masked_fill_tensor_value")
def _masked_fill(rng):
    mask = Tensor(rng.random((3, 1)) < 0.5)
    mask._data[0, 0], mask._data[1, 0] = True, False
    return (lambda a, v: (a * a).masked_fill(mask, v * v)), (t(rng, 3, 4), t(rng))


@case("where", "masked_scatter_broadcast")
def _masked_scatter(rng):
    mask = Tensor(np.array([[True, False, True], [False, True, True]]))
    return (lambda a, b: (a * a).masked_scatter(mask, b * b)), (t(rng, 3), t(rng, 2, 4))


@case("where", "masked_scatter_in_place")
def _masked_scatter_(rng):
    mask = Tensor(np.array([[False], [True]]))

    def f(a, b):
        y = a * a
        y.masked_scatter_(mask, b * b)
        return y

    return f, (t(rng, 2, 3), t(rng, 5))


@case("repeat", "repeat_tile")
def _repeat(rng):
    return (lambda a: (a * a).repeat(2, 1, 3) + (a * a).tile(2, 1, 3)), (t(rng, 3, 2),)


@case("repeat", "repeat_interleave_int")
def _repeat_interleave(rng):
    return (lambda a: (a * a).repeat_interleave(3, -1)), (t(rng, 2, 3),)


@case("expand", "broadcast")
def _broadcast(rng):
    def f(a, b):
        x, y = tg.broadcast_tensors(a, b * b)
        return x * y + a.broadcast_to((2, 3, 4))

    return f, (t(rng, 3, 1), t(rng, 4))


@case("permute", "movedim_swapaxes")
def _movedim(rng):
    return (lambda a: (a * a).movedim((0, 2), (2, 1)).swapaxes(0, -1)), (t(rng, 2, 3, 4),)


@case("cat", "grids_and_blocks")
def _grids_and_blocks(rng):
    def f(a, b):
        gx, gy = tg.meshgrid(a * a, b, indexing="xy")
        return (tg.block_diag(gx, gy * b[0], a).sum(0)[:3] * tg.cartesian_prod(a, b).sum()
                + (tg.column_stack([a, a * b[:3]]).reshape_as(gx[:2]) * gy[:2]).sum())
    return f, (t(rng, 3), t(rng, 4))


@case("cat", "hstack_vstack_dstack")
def _stacks(rng):
    def f(a, b):
        return (tg.hstack([a, b]).sum() * tg.vstack([a * a, b]).sum()
                + (tg.dstack([a, b * b]) ** 2).sum())

    return f, (t(rng, 2, 3), t(rng, 2, 3))


@case("getitem", "combinations")
def _combinations(rng):
    return (lambda a: tg.combinations(a * a, 2).prod(1) + tg.combinations(a, 2, True).sum(1)[:6]
            ), (t(rng, 4),)
