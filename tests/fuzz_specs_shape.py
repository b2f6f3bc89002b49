"""Fuzzer specs of the shape and indexing ops (ops/shape.py, ops/indexing.py), and of the
compositions built on them and on the movement ops: each composition is listed under the
registered op it applies (``select`` under ``getitem``, ``take_along_dim`` under ``gather``, ...),
with its own id. Every spec of this file is also in ``SHAPE_SPECS``, whose drawn arguments
``test_ops_shape.py`` checks to be valid (``test_every_spec_applies_its_op`` runs each spec).

These ops move values without arithmetic, so they are fuzzed in every dtype (floats, integers and
bool) and with special values; indices, masks, dims and sizes are drawn to fit the drawn shapes
(repeated indices where the op allows them, unique ones for ``scatter``, whose winner among
repeated writes is unspecified).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from fuzz_specs import FLOATS, Spec, broadcast_shapes, fixed, spec
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

MOVES = (*FLOATS, "int64", "int32", "uint8", "bool")

#: (registered op name, spec) of every spec below
SHAPE_SPECS: list[tuple[str, Spec]] = []


def s(name: str, fn: Callable[..., Any], **kw: Any) -> None:
    kw.setdefault("dtypes", MOVES)
    SHAPE_SPECS.append((name, spec(name, fn, **kw)))


Build = Callable[[list[tuple[int, ...]], np.random.Generator], dict[str, Any]]


def seeded(build: Build) -> Callable[[list[tuple[int, ...]]], st.SearchStrategy[dict[str, Any]]]:
    """``params`` made by ``build(shapes, rng)`` from a drawn seed (indices that fit the shapes)."""
    return lambda shapes: st.integers(0, 2**32 - 1).map(
        lambda seed: build(shapes, np.random.default_rng(seed)))


def _dim(n: int, rng: np.random.Generator) -> int:
    """A valid dim of an ``n``-dim tensor, negative half the time (0 or -1 for 0-d)."""
    d = int(rng.integers(0, max(n, 1)))
    return d - max(n, 1) if rng.random() < 0.5 else d


def _dims(n: int, rng: np.random.Generator, k: int | None = None) -> list[int]:
    """``k`` (random by default) distinct dims of an ``n``-dim tensor, some negative."""
    k = int(rng.integers(0, n + 1)) if k is None else k
    return [int(d) - n if rng.random() < 0.5 else int(d) for d in rng.permutation(n)[:k]]


def _size(shape: tuple[int, ...], d: int) -> int:
    return shape[d] if shape else 1


# ------------------------------------------------------------------------------ flip, rot90, roll
s("flip", lambda m, a, dims: m.t.flip(a, dims),
  params=seeded(lambda sh, r: {"dims": _dims(len(sh[0]), r)}))
s("rot90", lambda m, a, k, dims: m.t.rot90(a, k, dims),  # (quarter turns: a rot90 op)
  shapes=broadcast_shapes(1, min_dims=2),
  params=seeded(lambda sh, r: {"k": int(r.choice([-5, -3, -1, 1, 3, 5])),
                               "dims": _dims(len(sh[0]), r, 2)}))
# (half turns: a flip; whole turns: a clone)
s("flip", lambda m, a, k, dims: m.t.rot90(a, k, dims), id="rot90_even",
  shapes=broadcast_shapes(1, min_dims=2),
  params=seeded(lambda sh, r: {"k": int(r.choice([-4, -2, 0, 2, 4, 6])), "dims": _dims(len(sh[0]), r, 2)}))


def _roll(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    n = len(sh[0])
    if n == 0 or r.random() < 0.3:
        return {"shifts": int(r.integers(-6, 7)), "dims": None}
    dims = _dims(n, r, int(r.integers(1, n + 1)))
    return {"shifts": tuple(int(v) for v in r.integers(-6, 7, len(dims))), "dims": tuple(dims)}


s("roll", lambda m, a, shifts, dims: m.t.roll(a, shifts, dims), params=seeded(_roll))

# ------------------------------------------------------------------------------ triangles, diagonals
_TRI = {"shapes": broadcast_shapes(1, min_dims=2),
        "params": lambda sh: st.fixed_dictionaries({"diagonal": st.integers(-4, 4)})}
s("tril", lambda m, a, diagonal: m.t.tril(a, diagonal), **_TRI)
s("triu", lambda m, a, diagonal: m.t.triu(a, diagonal), **_TRI)
s("diagonal", lambda m, a, offset, dim1, dim2: m.t.diagonal(a, offset, dim1, dim2),
  shapes=broadcast_shapes(1, min_dims=2),
  params=seeded(lambda sh, r: dict(zip(("dim1", "dim2"), _dims(len(sh[0]), r, 2)),
                                    offset=int(r.integers(-4, 5)))))
s("diagonal", lambda m, a: m.t.trace(a), id="trace",
  shapes=st.sampled_from([[(3, 3)], [(2, 4)], [(4, 1)], [(0, 3)]]))
s("diag_embed", lambda m, a, offset, dim1, dim2: m.t.diag_embed(a, offset, dim1, dim2),
  shapes=broadcast_shapes(1, min_dims=1),
  params=seeded(lambda sh, r: dict(zip(("dim1", "dim2"), _dims(len(sh[0]) + 1, r, 2)),
                                    offset=int(r.integers(-3, 4)))))



def _unfold(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    d = _dim(len(sh[0]), r)
    return {"dimension": d, "size": int(r.integers(0, _size(sh[0], d) + 1)),
            "step": int(r.integers(1, 5))}


s("unfold_dim", lambda m, a, dimension, size, step: a.unfold(dimension, size, step),
  params=seeded(_unfold))
#: (gradient's shape, input's shape, dim, size, step) of unfold_backward: overlapping windows,
#: gaps, a last element no window reads, windows of 0 and of the whole dim, a 0-d input
_UNFOLD_BACKWARD = {(4, 3): ((10,), 0, 3, 2), (2, 2, 3): ((2, 7), 1, 3, 3),
                    (3, 2, 2): ((4, 2), 0, 2, 1), (5, 0): ((4,), 0, 0, 1), (1, 4): ((4,), 0, 4, 2),
                    (1,): ((), 0, 1, 1)}


def _unfold_backward_ours(m: Any, g: Any) -> Any:
    from tinygrad_cnn.ops.shape import UnfoldBackward

    shape, dim, size, step = _UNFOLD_BACKWARD[tuple(g.shape)]
    return UnfoldBackward.apply(g, dim=dim, size=size, step=step, shape=shape)


def _unfold_backward_theirs(m: Any, g: Any) -> Any:
    shape, dim, size, step = _UNFOLD_BACKWARD[tuple(g.shape)]
    return m.t.ops.aten.unfold_backward(g, list(shape), dim, size, step)


s("unfold_backward", _unfold_backward_ours, theirs=_unfold_backward_theirs, dtypes=FLOATS,
  shapes=st.sampled_from([[k] for k in _UNFOLD_BACKWARD]))

# ------------------------------------------------------------------------------ views (getitem)


def _nonempty_dim(sh: list[tuple[int, ...]], r: np.random.Generator) -> int:
    """A dim (negative half the time) of non-zero size (the shapes have one)."""
    n = len(sh[0])
    d = int(r.choice([i for i, v in enumerate(sh[0]) if v]))
    return d - n if r.random() < 0.5 else d


def _select(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    d = _nonempty_dim(sh, r)
    n = sh[0][d]
    return {"dim": d, "index": int(r.integers(-n, n))}


#: shapes with at least one dim of non-zero size (others may be empty)
_SOME = broadcast_shapes(1, min_dims=1).filter(lambda sh: any(sh[0]))
_ONE_DIM = broadcast_shapes(1, min_dims=1)


def _narrow(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    d = _dim(len(sh[0]), r)
    n = _size(sh[0], d)
    start = int(r.integers(-n, n + 1))
    begin = start + n if start < 0 else start
    return {"dim": d, "start": start, "length": int(r.integers(0, n - begin + 1))}


def _split(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    d = _dim(len(sh[0]), r)
    n = _size(sh[0], d)
    if r.random() < 0.5:
        return {"dim": d, "sizes": int(r.integers(1, 5))}
    cuts = np.sort(r.integers(0, n + 1, int(r.integers(0, 3))))
    return {"dim": d, "sizes": np.diff(np.concatenate([[0], cuts, [n]])).astype(int).tolist()}


s("getitem", lambda m, a, dim, index: a.select(dim, index), id="select", shapes=_SOME,
  params=seeded(_select))
s("getitem", lambda m, a, dim, start, length: a.narrow(dim, start, length), id="narrow",
  shapes=_ONE_DIM, params=seeded(_narrow))
s("getitem", lambda m, a, dim, sizes: m.t.cat(m.t.split(a, sizes, dim)[::-1], dim), id="split",
  shapes=_ONE_DIM, params=seeded(_split))
s("getitem", lambda m, a, dim, chunks: m.t.cat(m.t.chunk(a, chunks, dim)[::-1], dim), id="chunk",
  shapes=_ONE_DIM, params=seeded(lambda sh, r: {"dim": _dim(len(sh[0]), r), "chunks": int(r.integers(1, 6))}))
s("getitem", lambda m, a, cuts: m.t.cat(m.t.hsplit(a, cuts)[::-1], 1 if a.ndim > 1 else 0),
  id="hsplit", shapes=_ONE_DIM, params=lambda sh: st.fixed_dictionaries(
      {"cuts": st.lists(st.integers(-3, 4), max_size=3).map(sorted)}))
s("getitem", lambda m, a: m.t.cat(m.t.vsplit(a, [1])[::-1], 0), id="vsplit",
  shapes=st.sampled_from([[(3, 2)], [(2, 2, 3)]]))
s("getitem", lambda m, a: m.t.cat(a.dsplit(2)[::-1], 2), id="dsplit", shapes=fixed((2, 1, 4)))
s("getitem", lambda m, a, dim: m.t.stack(m.t.unbind(a, dim)[::-1], dim), id="unbind",
  shapes=_SOME, params=seeded(lambda sh, r: {"dim": _nonempty_dim(sh, r)}))

# ------------------------------------------------------------------------------ views (permute, expand)


def _movedim(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    n = len(sh[0])
    k = int(r.integers(0, n + 1))
    src, dst = _dims(n, r, k), _dims(n, r, k)
    if k == 1 and r.random() < 0.5:
        return {"source": src[0], "destination": dst[0]}
    return {"source": tuple(src), "destination": tuple(dst)}


s("permute", lambda m, a, source, destination: m.t.movedim(a, source, destination), id="movedim",
  shapes=broadcast_shapes(1, min_dims=2), params=seeded(_movedim))
s("permute", lambda m, a, d0, d1: a.swapaxes(d0, d1), id="swapaxes",
  shapes=broadcast_shapes(1, min_dims=2),
  params=seeded(lambda sh, r: {"d0": _dim(len(sh[0]), r), "d1": _dim(len(sh[0]), r)}))
s("permute", lambda m, a: a.transpose(0, 1).ravel(), id="ravel_non_contiguous",
  shapes=broadcast_shapes(1, min_dims=2))
s("permute", lambda m, a, d0, d1: a.swapdims(d0, d1), id="swapdims",
  shapes=broadcast_shapes(1, min_dims=2),
  params=seeded(lambda sh, r: {"d0": _dim(len(sh[0]), r), "d1": _dim(len(sh[0]), r)}))


def _broadcast_to(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    shape = [int(r.integers(0, 4)) if v == 1 and r.random() < 0.7 else v for v in sh[0]]
    shape = [-1 if r.random() < 0.2 else v for v in shape]
    return {"shape": tuple(int(v) for v in r.integers(1, 4, int(r.integers(1, 3)))) + tuple(shape)}


s("expand", lambda m, a, shape: a.broadcast_to(shape), id="broadcast_to", params=seeded(_broadcast_to))
s("expand", lambda m, a, b: m.t.stack(m.t.broadcast_tensors(a, b)), id="broadcast_tensors", arity=2,
  shapes=st.sampled_from([[(3, 1), (4,)], [(2, 1, 3), (1, 4, 1)], [(0, 1), (1, 3)], [(), (2, 2)]]))

# ------------------------------------------------------------------------------ copies by reshape


def _repeat(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    sizes = [int(v) for v in r.integers(0, 4, len(sh[0]) + int(r.integers(0, 3)))]
    if all(v == 1 for v in sizes) or not sizes:
        sizes = [2, *sizes]
    return {"sizes": sizes}


s("repeat", lambda m, a, sizes: a.repeat(*sizes), id="repeat", params=seeded(_repeat))
s("repeat", lambda m, a, sizes: m.t.tile(a, tuple(sizes[1:])) if len(sizes) > 1
  else m.t.tile(a, tuple(sizes)), id="tile", params=seeded(_repeat))
s("repeat", lambda m, a, repeats, dim: m.t.repeat_interleave(a, repeats, dim),
  id="repeat_interleave_int",
  params=seeded(lambda sh, r: {"repeats": int(r.integers(0, 4)),
                               "dim": None if not sh[0] or r.random() < 0.3
                               else _dim(len(sh[0]), r)}))


def _interleave_counts(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    if not sh[0] or r.random() < 0.3:
        n, d = int(np.prod(sh[0])), None
    else:
        d = _dim(len(sh[0]), r)
        n = sh[0][d]
    counts = r.integers(0, 4, 1 if r.random() < 0.2 else n)
    return {"counts": counts, "dim": d}


s("getitem", lambda m, a, counts, dim: m.t.repeat_interleave(a, m.const(counts), dim),
  id="repeat_interleave_tensor", params=seeded(_interleave_counts))

# ------------------------------------------------------------------------------ stacks (cat)
s("cat", lambda m, a, b: m.t.hstack([a, b]), id="hstack", arity=2,
  shapes=st.sampled_from([[(3,), (2,)], [(), ()], [(2, 3), (2, 1)], [(2, 3, 1), (2, 1, 1)],
                          [(0, 2), (0, 2)]]))
s("cat", lambda m, a, b: m.t.vstack([a, b]), id="vstack", arity=2,
  shapes=st.sampled_from([[(3,), (3,)], [(), ()], [(2, 3), (1, 3)], [(0, 2), (1, 2)],
                          [(2, 3, 1), (1, 3, 1)]]))
s("cat", lambda m, a, b: m.t.dstack([a, b]), id="dstack", arity=2,
  shapes=st.sampled_from([[(3,), (3,)], [(), ()], [(2, 3, 1), (2, 3, 2)], [(2, 3), (2, 3, 2)]]))
s("stack", lambda m, a, b: m.t.dstack([a, b]), id="dstack_matrices", arity=2,  # (one stack)
  shapes=st.sampled_from([[(2, 3), (2, 3)], [(0, 2), (0, 2)]]))

s("cat", lambda m, a, b: m.t.column_stack([a, b]), id="column_stack", arity=2,
  shapes=st.sampled_from([[(3,), (3,)], [(), ()], [(2, 3), (2,)], [(0,), (0, 2)]]))
s("cat", lambda m, a, b: m.t.block_diag(a, b), id="block_diag", arity=2,
  shapes=st.sampled_from([[(2, 3), (1, 2)], [(), (2,)], [(0, 2), (3, 0)], [(2, 2), (2, 2)]]))
s("expand", lambda m, a, b: m.t.meshgrid(a, b, indexing="ij")[0] * 2
  + m.t.meshgrid(a, b, indexing="ij")[1], id="meshgrid_ij", arity=2,
  shapes=st.sampled_from([[(3,), (2,)], [(), (4,)], [(0,), (2,)]]))
s("expand", lambda m, a, b: m.t.meshgrid([a, b, a], indexing="xy")[1] * 3
  - m.t.meshgrid([a, b, a], indexing="xy")[2], id="meshgrid_xy", arity=2,
  shapes=st.sampled_from([[(3,), (2,)], [(2,), ()]]))
s("cat", lambda m, a, b: m.t.cartesian_prod(a, b), id="cartesian_prod", arity=2,
  shapes=st.sampled_from([[(3,), (2,)], [(1,), (4,)], [(0,), (2,)]]))
s("getitem", lambda m, a: m.t.combinations(a), id="combinations",
  shapes=st.sampled_from([[(4,)], [(1,)], [(0,)], [(2,)]]), dtypes=FLOATS + ("int64",))
s("getitem", lambda m, a, r: m.t.combinations(a, r, with_replacement=True),
  id="combinations_with_replacement", shapes=st.sampled_from([[(3,)], [(1,)], [(0,)]]),
  params=lambda s_: st.fixed_dictionaries({"r": st.integers(0, 3)}))
s("reshape", lambda m, a, b: a.reshape_as(b), id="reshape_as", arity=2,
  shapes=st.sampled_from([[(2, 3), (3, 2)], [(6,), (1, 2, 3)], [(), (1,)]]))

# ------------------------------------------------------------------------------ indexing


def _index_select(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    d = _dim(len(sh[0]), r)
    n = _size(sh[0], d)
    k = 1 if not sh[0] else int(r.integers(0, 6)) if n else 0
    return {"dim": d, "index": r.integers(0, max(n, 1), k)}


s("getitem", lambda m, a, dim, index: a.index_select(dim, m.const(index)), id="index_select",
  params=seeded(_index_select))


def _take_along_dim(sh: list[tuple[int, ...]], r: np.random.Generator) -> dict[str, Any]:
    shape = sh[0]
    if not shape or r.random() < 0.3:
        n = int(np.prod(shape))
        size = tuple(int(v) for v in r.integers(0, 4, int(r.integers(1, 3)))) if n else (0,)
        # (non-negative: PyTorch refuses negative indices without a dim, wraps them with one)
        return {"indices": r.integers(0, max(n, 1), size) if n else np.zeros(0, int),
                "dim": None}
    d = _dim(len(shape), r)
    n = shape[d]
    size = [int(r.integers(0, 4)) if i == d % len(shape) else
            (1 if r.random() < 0.3 else 3 if v == 1 and r.random() < 0.3 else v)
            for i, v in enumerate(shape)]
    if n == 0:
        size[d % len(shape)] = 0
    return {"indices": r.integers(-n, max(n, 1), size), "dim": d}


s("gather", lambda m, a, indices, dim: m.t.take_along_dim(a, m.const(indices), dim),
  id="take_along_dim", params=seeded(_take_along_dim))


def _scatter_shapes() -> st.SearchStrategy[list[tuple[int, ...]]]:
    """The tensor's shape and a ``src`` no larger in any dim, which the index will match: with an
    index smaller than ``src``, PyTorch's own VJP fails (``test_ops_shape.py`` checks ours)."""
    return array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4).flatmap(
        lambda x: st.tuples(*[st.integers(0, v) for v in x]).map(lambda src: [x, src]))


def _scatter_index(sh: list[tuple[int, ...]], r: np.random.Generator, unique: bool
                   ) -> dict[str, Any]:
    x, shape = sh[0], sh[-1]
    d = _dim(len(x), r)
    dd = d % len(x)
    n = x[dd]
    if len(sh) == 1:  # scatter of a value: any index no larger than the tensor
        shape = tuple(int(r.integers(0, v + 1)) for v in x)
    if not unique:
        return {"dim": d, "index": r.integers(0, max(n, 1), shape) if n else np.zeros(shape, int)}
    # each row along dim: distinct positions (a random permutation, cut to the index's length)
    rest = shape[:dd] + shape[dd + 1:]
    perm = r.random(rest + (n,)).argsort(-1)[..., :shape[dd]]
    return {"dim": d, "index": np.moveaxis(perm, -1, dd)}


s("scatter", lambda m, a, b, dim, index: a.scatter(dim, m.const(index), b), arity=2,
  shapes=_scatter_shapes(), params=seeded(lambda sh, r: _scatter_index(sh, r, unique=True)))
s("scatter", lambda m, a, dim, index, value: a.scatter(dim, m.const(index), value), id="value",
  shapes=_scatter_shapes().map(lambda sh: sh[:1]),
  params=seeded(lambda sh, r: {**_scatter_index(sh, r, unique=True),
                               "value": float(r.choice([0.0, -1.5, 2.0]))}))
s("scatter", lambda m, a, b, dim, index, reduce: a.scatter(dim, m.const(index), b, reduce=reduce),
  id="reduce", arity=2, grad=False, dtypes=(*FLOATS, "int64"), shapes=_scatter_shapes(),
  params=seeded(lambda sh, r: {**_scatter_index(sh, r, unique=False),
                               "reduce": str(r.choice(["add", "multiply"]))}))
s("scatter_reduce", lambda m, a, b, dim, index, reduce, include_self: a.scatter_reduce(
    dim, m.const(index), b, reduce, include_self=include_self), arity=2, shapes=_scatter_shapes(),
  params=seeded(lambda sh, r: {**_scatter_index(sh, r, unique=False),
                               "reduce": str(r.choice(["amax", "amin", "prod"])),
                               "include_self": bool(r.random() < 0.5)}))
s("scatter_reduce", lambda m, a, b, dim, index, reduce, include_self: a.scatter_reduce(
    dim, m.const(index), b, reduce, include_self=include_self), id="sum_mean_prod", arity=2,
  dtypes=(*FLOATS, "int64"), grad=False, shapes=_scatter_shapes(),
  params=seeded(lambda sh, r: {**_scatter_index(sh, r, unique=False),
                               "reduce": str(r.choice(["sum", "mean", "prod"])),
                               "include_self": bool(r.random() < 0.5)}))
s("scatter_add", lambda m, a, b, dim, index: a.scatter_add(dim, m.const(index), b), id="public",
  arity=2, shapes=_scatter_shapes(),
  params=seeded(lambda sh, r: _scatter_index(sh, r, unique=False)))


def _mask(sh: list[tuple[int, ...]], r: np.random.Generator) -> np.ndarray:
    """A bool mask that broadcasts with the first shape (sometimes to a larger shape)."""
    cut = int(r.integers(0, len(sh[0]) + 1))  # leading dims the mask leaves out
    shape = [1 if r.random() < 0.3 else v for v in sh[0]][cut:]
    if cut == 0 and r.random() < 0.15:  # a mask with an extra leading dim broadcasts the result
        shape = [2, *shape]
    return r.random(shape) < 0.5


s("where", lambda m, a, mask, value: a.masked_fill(m.const(mask), value), id="masked_fill",
  params=seeded(lambda sh, r: {"mask": _mask(sh, r),
                               "value": [0.0, -1.5, 2.0, 3, float("inf"), True][r.integers(6)]}))
s("where", lambda m, a, v, mask: a.masked_fill(m.const(mask), v), id="masked_fill_tensor_value",
  arity=2, shapes=broadcast_shapes(1).map(lambda sh: [sh[0], ()]),
  params=seeded(lambda sh, r: {"mask": _mask(sh, r)}))


def _masked_scatter(sh: list[tuple[int, ...]], r: np.random.Generator, grow: bool = True
                    ) -> dict[str, Any]:
    """A mask as ``_mask`` draws it (not broadcasting beyond the tensor unless ``grow``), with
    True places cut to no more than the source's (the second shape's) elements."""
    while True:
        mask = np.array(_mask(sh, r))  # (an array also when 0-d)
        if grow or np.broadcast_shapes(mask.shape, sh[0]) == sh[0]:
            break
    shape = np.broadcast_shapes(mask.shape, sh[0])
    n = int(np.prod(sh[1]))
    while np.broadcast_to(mask, shape).sum() > n:
        mask[tuple(np.argwhere(mask)[r.integers(int(mask.sum()))])] = False
    return {"mask": mask}


#: the tensor, and a source of up to 3 x 6 elements (often more than the mask's True places)
_SCATTER_SOURCE = st.tuples(broadcast_shapes(1), array_shapes(min_dims=0, max_dims=2, min_side=0,
                                                              max_side=6)).map(
    lambda p: [p[0][0], p[1]])
s("where", lambda m, a, b, mask: a.masked_scatter(m.const(mask), b), id="masked_scatter",
  arity=2, shapes=_SCATTER_SOURCE, params=seeded(_masked_scatter))
s("where", lambda m, a, b, mask: a.clone().masked_scatter_(m.const(mask), b),
  id="masked_scatter_", arity=2, shapes=_SCATTER_SOURCE,
  params=seeded(lambda sh, r: _masked_scatter(sh, r, grow=False)))
s("getitem", lambda m, a: a.nonzero(), id="nonzero", grad=False)
s("getitem", lambda m, a: m.t.cat(a.nonzero(as_tuple=True)), id="nonzero_as_tuple", grad=False)
