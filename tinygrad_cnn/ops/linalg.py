"""Linear algebra: matmul (batched, with broadcast batch dimensions), products with a vector
(``matvec``: dot, mv) and ``outer`` in one op each, linear, and einsum (issue 14; ``tensordot``
and ``bmm`` at the end are compositions: einsums and matmuls).

``Tensor.matmul`` has already turned 1-D operands into matrices and expanded the batch dims of an
operand that gets a gradient, so both VJPs below have their input's shape.
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn import parallel
from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import (
    Context,
    Function,
    OnceDifferentiableError,
    ZeroLink,
    _state,
    first_order,
)
from tinygrad_cnn.backend import ArgumentTypeError, ArgumentValueError, array_module
from tinygrad_cnn.backend import broadcast_shapes as _bshapes
from tinygrad_cnn.ops.reduce import float_sum
from tinygrad_cnn.tensor import Tensor, _check_factor, _dim, _factor


class MatMul(Function):
    """``op(a) @ op(b)``, ``op`` the transpose of the last two dims where ``transpose_a`` /
    ``transpose_b`` say so (a strided view into BLAS, no copy). The VJPs multiply by the other
    operand transposed through these flags instead of through ``transpose`` nodes: two nodes per
    backward instead of four."""

    name = "matmul"
    contiguous = True  # (PyTorch's product is C order, whatever its operands' layouts)

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any, transpose_a: bool = False,
                transpose_b: bool = False) -> Any:
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        ctx.ta, ctx.tb = transpose_a, transpose_b
        if transpose_a:
            a = a.swapaxes(-1, -2)
        if transpose_b:
            b = b.swapaxes(-1, -2)
        return parallel.matmul(a, b)  # (..., n, k) @ (..., k, m) -> (..., n, m)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        ta, tb = ctx.ta, ctx.tb
        gd = g._data
        mm = _mm
        if not _state.grad_enabled and gd.ndim >= 2 and type(gd) is np.ndarray and all(
                t is None or (t._data.ndim == gd.ndim and t._data.dtype is gd.dtype) for t in (a, b)):
            # first order, matrices (or batches of them, the batch dims expanded alike by
            # Tensor.matmul) of g's dtype: the same products on the arrays, without their nodes'
            # overhead
            mm = _mm_arrays
        # C = A' @ B' with A' = op(a), B' = op(b): dA' = g @ B'.T, dB' = A'.T @ g; a transposed
        # operand takes the transpose of its gradient (dA = B' @ g.T, dB = g.T @ A')
        ga = gb = None
        if b is not None:
            ga = mm(b, g, tb, True) if ta else mm(g, b, False, not tb)
        if a is not None:
            gb = mm(g, a, True, ta) if tb else mm(a, g, not ta, False)
        return ga, gb


def _mm_arrays(a: Tensor, b: Tensor, ta: bool, tb: bool) -> Tensor:
    """What :func:`_mm` computes, on the arrays, recording nothing."""
    x, y = a._data, b._data
    return Tensor._make(parallel.matmul(x.swapaxes(-1, -2) if ta else x, y.swapaxes(-1, -2) if tb else y))


def _mm(a: Tensor, b: Tensor, ta: bool, tb: bool) -> Tensor:
    """``MatMul`` with only the flags that are set among its attributes (drawings stay short)."""
    if ta:
        return MatMul.apply(a, b, transpose_a=True, transpose_b=True) if tb else \
            MatMul.apply(a, b, transpose_a=True)
    return MatMul.apply(a, b, transpose_b=True) if tb else MatMul.apply(a, b)


def _save_for_each_other(ctx: Context, a: Any, b: Any) -> None:
    """Save what a product's VJPs read: each operand for the other's gradient, when that one is
    needed."""
    na, nb = ctx.needs_input_grad
    ctx.save_for_backward(a if nb else None, b if na else None)


class MatVec(Function):
    """A product with a vector in it, in one op: ``a @ b`` for a vector and a vector (a 0-d
    result), a matrix and a vector (``mv``) or a vector and a matrix. Matmul would take four more
    nodes to make matrices of the vectors and back. VJPs: ``g * b`` and ``g * a`` (dot);
    ``outer(g, b)`` and ``g @ a`` (matrix · vector); ``b @ g`` and ``outer(a, g)`` (vector ·
    matrix): products with a vector again, so every derivative stays in this op and ``outer``."""

    name = "matvec"
    contiguous = True

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _save_for_each_other(ctx, a, b)
        ctx.ndims = a.ndim, b.ndim
        out = array_module(a).matmul(a, b)
        return out if a.ndim + b.ndim > 2 else array_module(a).asarray(out)  # (numpy: a scalar)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        ndim_a, ndim_b = ctx.ndims
        if first_order(g, a, b):  # (the same on arrays: no nodes)
            gd = g._data
            ad = None if a is None else a._data
            bd = None if b is None else b._data
            if ndim_a == 1 == ndim_b:
                ga, gb = (None if bd is None else gd * bd), (None if ad is None else gd * ad)
            elif ndim_a == 2:
                ga = None if bd is None else np.multiply.outer(gd, bd)
                gb = None if ad is None else np.matmul(gd, ad)
            else:
                ga = None if bd is None else np.matmul(bd, gd)
                gb = None if ad is None else np.multiply.outer(ad, gd)
            return (None if ga is None else Tensor._make(ga)), (None if gb is None else Tensor._make(gb))
        if ndim_a == 1 == ndim_b:
            return (None if b is None else g * b), (None if a is None else g * a)
        if ndim_a == 2:
            return (None if b is None else Outer.apply(g, b)), (None if a is None else MatVec.apply(g, a))
        return (None if b is None else MatVec.apply(b, g)), (None if a is None else Outer.apply(a, g))


class Outer(Function):
    """``a[i] * b[j]`` for two vectors of one dtype, in one op (the product of two reshaped
    vectors took three nodes, and its VJPs two broadcast sums). VJP: ``g @ b`` to ``a``,
    ``a @ g`` to ``b`` (:class:`MatVec`)."""

    name = "outer"
    contiguous = True

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        _save_for_each_other(ctx, a, b)
        return array_module(a).multiply.outer(a, b)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        if first_order(g, a, b):  # (the same on arrays: no nodes)
            gd = g._data
            return (None if b is None else Tensor._make(np.matmul(gd, b._data))), \
                (None if a is None else Tensor._make(np.matmul(a._data, gd)))
        return (None if b is None else MatVec.apply(g, b)), (None if a is None else MatVec.apply(a, g))


def vector_product(a: Tensor, b: Tensor) -> Tensor | None:
    """``a @ b`` through :class:`MatVec` when it fits: operands of at most 2 dims, one of them a
    vector, of one float32 or float64 dtype, their shapes matched (None otherwise: matmul's
    general path, with its checks and messages)."""
    ad, bd = a._data, b._data
    if ad.dtype != bd.dtype or ad.dtype not in _VECTOR_DTYPES or not (
            (ad.ndim == 1 and bd.ndim in (1, 2)) or (ad.ndim == 2 and bd.ndim == 1)):
        return None
    if ad.shape[-1] != bd.shape[0]:
        return None
    return MatVec.apply(a, b)


def outer_product(a: Tensor, b: Tensor) -> Tensor | None:
    """``outer(a, b)`` through :class:`Outer` for two float32 or float64 vectors of one dtype
    (None otherwise: the product of the reshaped vectors, with its dtype promotion)."""
    ad, bd = a._data, b._data
    if ad.dtype != bd.dtype or ad.dtype not in _VECTOR_DTYPES:
        return None
    return Outer.apply(a, b)


_VECTOR_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


class Linear(Function):
    """``y = x @ w.T + b`` in one op (``x (..., in)``, ``w (out, in)``, ``b (out,)``): one node
    instead of four (permute, matmul, expand, add) on the hot path of every dense layer. VJP:
    ``g @ w`` to ``x``, ``gᵀ @ x`` (summed over the leading dims) to ``w``, ``g`` summed to
    ``b``."""

    name = "linear"

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, b: Any = None) -> Any:
        nx, nw = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if nw else None, w if nx else None)
        if b is not None and x.dtype == np.float16:
            # the product and the bias in float32, rounded once, as PyTorch's addmm (t173: the
            # product rounded to float16 and then the sum again was 1 ulp off a third of the time)
            out = parallel.matmul(x.astype(np.float32), w.T.astype(np.float32))
            out += b.astype(np.float32)
            return out.astype(np.float16)
        out = parallel.matmul(x, w.T)  # (..., in) @ (in, out) -> (..., out)
        if b is not None:
            out += b
        # (C order, as PyTorch's: a batch of transposed leading dims came out in their order)
        return out if out.flags.c_contiguous else array_module(out).ascontiguousarray(out)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gd = g._data
        if (not _state.grad_enabled and gd.ndim == 2 and type(gd) is np.ndarray
                and gd.dtype in (np.float32, np.float64)):
            # first order, a batch of rows (every dense layer's step): the three products below
            # on the arrays, as the ops would compute them, without their nodes' overhead
            return tuple(None if r is None else Tensor._make(r) for r in (
                parallel.matmul(gd, w._data) if needs[0] else None,
                parallel.matmul(gd.swapaxes(-1, -2), x._data) if needs[1] else None,
                float_sum(gd, (0,)) if len(needs) > 2 and needs[2] else None,  # (see _add)
            ))[:len(needs)]
        gx = g.matmul(w) if needs[0] else None  # (..., out) @ (out, in); batch dims broadcast
        gw = gb = None
        if needs[1]:
            rows = math.prod(g.shape[:-1])  # B (not -1: an empty feature dim is fine)
            g2 = g.reshape(rows, g.shape[-1])  # (B, out)
            gw = _mm(g2, x.reshape(rows, x.shape[-1]), True, False)  # (out, B) @ (B, in)
        if len(needs) > 2 and needs[2]:
            gb = g.sum(tuple(range(g.ndim - 1))) if g.ndim > 1 else g
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)


# ------------------------------------------------------------------------------ einsum (issue 14)
LETTERS = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's order for implicit outputs


@functools.lru_cache(maxsize=512)
def _pair_plan(la: str, lb: str, out: str, sa: tuple[int, ...], sb: tuple[int, ...]
               ) -> tuple[Any, ...]:
    """How to contract two operands with matmul: the labels shared and kept are the batch, those
    shared and not kept are contracted, the others are each operand's own rows and columns."""
    size = dict(zip(la, sa)) | dict(zip(lb, sb))
    batch = [c for c in la if c in lb and c in out]
    summed = [c for c in la if c in lb and c not in out]
    rows, cols = [c for c in la if c not in lb], [c for c in lb if c not in la]
    perm_a = tuple(la.index(c) for c in batch + rows + summed)
    perm_b = tuple(lb.index(c) for c in batch + summed + cols)
    nb, nm, nk, nn = (math.prod(size[c] for c in cs) for cs in (batch, rows, summed, cols))
    result = "".join(batch + rows + cols)
    return (perm_a, (nb, nm, nk), perm_b, (nb, nk, nn), tuple(size[c] for c in result),
            tuple(result.index(c) for c in out))


def _contract_pair(a: Any, la: str, b: Any, lb: str, out: str) -> Any:
    """``einsum(f"{la},{lb}->{out}", a, b)`` as one (batched) matmul between two transposes: every
    label of ``a`` and ``b`` is in the other operand or in ``out``."""
    perm_a, shape_a, perm_b, shape_b, shape, perm = _pair_plan(la, lb, out, a.shape, b.shape)
    a3 = a.transpose(perm_a).reshape(shape_a)  # (batch, rows, summed)
    b3 = b.transpose(perm_b).reshape(shape_b)  # (batch, summed, cols)
    if shape_a[2] == 1:  # nothing summed: an outer product per batch, no GEMM needed
        c = a3 * b3
    else:
        c = parallel.matmul(a3, b3)  # (batch, rows, cols)
    return c.reshape(shape).transpose(perm)


@functools.lru_cache(maxsize=256)
def _path(inputs: tuple[str, ...], output: str, size_items: tuple[tuple[str, int], ...]
          ) -> tuple[tuple[int, int, str], ...]:
    """The order in which :func:`_contract` merges operands: pairs ``(i, j, keep)`` over the list
    as it shrinks (the merged operand goes last), each time the pair with the smallest result
    (greedy), keeping the labels still needed. Cached: the search is O(n^3) in operands."""
    size = dict(size_items)
    inputs_l, steps = list(inputs), []
    count: dict[str, int] = {}  # in how many of the operands (and the output) each label is
    for sub in (*inputs, output):
        for c in sub:
            count[c] = count.get(c, 0) + 1
    while len(inputs_l) > 1:
        best = None
        for i in range(len(inputs_l)):
            for j in range(i + 1, len(inputs_l)):
                a, b = inputs_l[i], inputs_l[j]
                # a label is still needed when another operand or the output has it
                keep = "".join(c for c in dict.fromkeys(a + b)
                               if count[c] > (c in a) + (c in b))
                cost = math.prod(size[c] for c in keep)
                if best is None or cost < best[0]:
                    best = (cost, i, j, keep)
        _, i, j, keep = best  # type: ignore[misc]
        if len(inputs_l) == 2:
            keep = output
        steps.append((i, j, keep))
        for c in inputs_l[i] + inputs_l[j]:
            count[c] -= 1
        for c in keep:
            count[c] += 1
        inputs_l = [s for k, s in enumerate(inputs_l) if k not in (i, j)] + [keep]
    return tuple(steps)


def _path_of(inputs: list[str], output: str, arrays: Sequence[Any]) -> tuple[tuple[int, int, str], ...]:
    size = {c: s for sub, a in zip(inputs, arrays) for c, s in zip(sub, a.shape)}
    return _path(tuple(inputs), output, tuple(sorted(size.items())))


def _contract(inputs: list[str], output: str, arrays: list[Any], kept: list[Any] | None = None
              ) -> Any:
    """A clean einsum on arrays: one operand is a transpose; more are contracted in pairs, in
    :func:`_path`'s order (``kept``: each pair's result but the last is appended to it, for
    :func:`_tree_vjp`)."""
    if len(arrays) == 1:
        return arrays[0].transpose(tuple(inputs[0].index(c) for c in output)).copy()
    inputs, arrays = list(inputs), list(arrays)
    for i, j, keep in _path_of(inputs, output, arrays):
        merged = _contract_pair(arrays[i], inputs[i], arrays[j], inputs[j], keep)
        if kept is not None and len(arrays) > 2:
            kept.append(merged)
        inputs = [s for k, s in enumerate(inputs) if k not in (i, j)] + [keep]
        arrays = [a for k, a in enumerate(arrays) if k not in (i, j)] + [merged]
    return arrays[0]


def _tree_vjp(labels: list[str], output: str, ops: Sequence[Any], g: Any, needs: Sequence[bool],
              pair: Any, merged: Sequence[Any] | None = None) -> list[Any]:
    """The VJPs of a clean einsum of three or more operands through its contraction tree (the
    pairs of :func:`_path`): each pair's two VJPs, from the root down -- O(n) pair
    contractions, where the einsum of the other n-1 operands per operand cost O(n^2) of them,
    each with its own path search (t165: 662 ms for a chain of 32 3x3 matrices).
    ``pair(a, la, b, lb, out)`` contracts two operands (arrays, or Tensors through ``Einsum``
    nodes, so that the VJPs have derivatives of their own); ``ops``: the operands; ``merged``:
    the forward's pair results (:func:`_contract`'s ``kept``), else they are contracted again
    (as Tensors: the VJPs of the VJPs go through them)."""
    n = len(labels)
    lab, val = list(labels), list(ops)
    node = list(range(n))  # the tree node each list entry is
    kids: dict[int, tuple[int, int]] = {}
    node_lab = {k: labels[k] for k in range(n)}
    node_val: dict[int, Any] = dict(enumerate(ops))
    below = {k: {k} for k in range(n)}  # the operands under each node
    for i, j, keep in _path_of(labels, output, [o for o in ops]):
        k = len(node_lab)
        kids[k] = (node[i], node[j])
        node_lab[k] = keep
        below[k] = below[node[i]] | below[node[j]]
        if len(val) == 2:  # (the root: its value is not needed)
            result = None
        elif merged is not None:
            result = merged[k - n]
        else:
            result = pair(val[i], lab[i], val[j], lab[j], keep)
        node_val[k] = result
        keep_entries = [m for m in range(len(val)) if m not in (i, j)]
        lab = [lab[m] for m in keep_entries] + [keep]
        val = [val[m] for m in keep_entries] + [result]
        node = [node[m] for m in keep_entries] + [k]
    grad: dict[int, Any] = {node[0]: g}
    out: list[Any] = [None] * n
    for k in sorted(kids, reverse=True):  # (a node is made after both of its children)
        gk = grad.pop(k, None)
        if gk is None:  # (no operand under it needs a gradient)
            continue
        a, b = kids[k]
        if any(needs[m] for m in below[a]):
            grad[a] = pair(gk, node_lab[k], node_val[b], node_lab[b], node_lab[a])
        if any(needs[m] for m in below[b]):
            grad[b] = pair(node_val[a], node_lab[a], gk, node_lab[k], node_lab[b])
    for m in range(n):
        if needs[m]:
            out[m] = grad[m]
    return out


def _einsum_result(out: Any, n_operands: int) -> Any:
    """An einsum's result as the op gives it: in C order from three or more operands (PyTorch's;
    ours came out of whichever pair was contracted last), as contracted from one or two."""
    if n_operands > 2 and not out.flags.c_contiguous:
        return array_module(out).ascontiguousarray(out)
    return out


def _einsum_pair(a: Tensor, la: str, b: Tensor, lb: str, out: str) -> Tensor:
    """Two operands' clean einsum as an ``Einsum`` node (:func:`_tree_vjp` under create_graph)."""
    return Einsum.apply(a, b, equation=f"{la},{lb}->{out}")


class Einsum(Function):
    """A *clean* einsum (``einsum()`` below reduces every equation to one): each label appears once
    per operand, and in the output or in another operand. Two operands contract through one
    batched matmul. VJP: for each operand, the einsum of the other operand and ``g`` into that
    operand's labels (``ij,jk->ik`` gives ``jk,ik->ij`` and ``ij,ik->jk``), which is clean too;
    of three or more operands, the same pair by pair down the contraction tree (:func:`_tree_vjp`)."""

    @staticmethod
    def forward(ctx: Context, *operands: Any, equation: str = "") -> Any:
        lhs, output = equation.split("->")
        inputs = lhs.split(",")
        ctx.labels, ctx.out_labels = inputs, output  # (not ctx.inputs: keep_inputs() fills that)
        needs = ctx.needs_input_grad
        if len(operands) > 2 and any(needs):  # the tree's VJPs read every operand and the
            kept: list[Any] = []  # pairs' results, kept from here (not contracted again)
            out = _contract(inputs, output, list(operands), kept)
            ctx.save_for_backward(*operands, *kept)
            return _einsum_result(out, len(operands))
        if any(needs):  # an operand is needed by the VJPs of the *other* operands
            ctx.save_for_backward(*(a if any(needs[:k] + needs[k + 1:]) else None
                                    for k, a in enumerate(operands)))
        return _einsum_result(_contract(inputs, output, list(operands)), len(operands))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        saved = ctx.saved_tensors
        n = len(ctx.labels)
        ops = saved[:n]
        arrays = first_order(g, *ops)  # (then the same contractions on the arrays: no nodes)
        if n > 2:  # through the contraction tree
            if arrays:
                return tuple(None if r is None else Tensor._make(_einsum_result(r, 3)) for r in
                             _tree_vjp(ctx.labels, ctx.out_labels, [o._data for o in ops],
                                       g._data, ctx.needs_input_grad, _contract_pair,
                                       [m._data for m in saved[n:]]))
            return tuple(r if r is None or r._data.flags.c_contiguous else r.contiguous()
                         for r in _tree_vjp(ctx.labels, ctx.out_labels, ops, g,
                                            ctx.needs_input_grad, _einsum_pair))  # (C order,
            # as the arrays' way gives them)
        grads: list[Tensor | None] = []
        for i, need in enumerate(ctx.needs_input_grad):
            if not need:
                grads.append(None)
                continue
            labels = ctx.labels
            others = [k for k in range(len(labels)) if k != i]
            if arrays:
                grads.append(Tensor._make(_einsum_result(_contract(
                    [labels[k] for k in others] + [ctx.out_labels], labels[i],
                    [ops[k]._data for k in others] + [g._data]), len(labels))))
                continue
            eq = ",".join([labels[k] for k in others] + [ctx.out_labels]) + "->" + labels[i]
            grads.append(Einsum.apply(*(ops[k] for k in others), g, equation=eq))
        return tuple(grads)


def _parse_term(term: str, where: str) -> list[str]:
    """``"i...j"`` -> ``["i", "...", "j"]``, checking the characters."""
    labels: list[str] = []
    k = 0
    while k < len(term):
        if term.startswith("...", k):
            if "..." in labels:
                raise ArgumentValueError(f"einsum(): {where} has more than one ellipsis ('...')")
            labels.append("...")
            k += 3
        elif term[k] == ".":
            raise ArgumentValueError(f"einsum(): found '.' in {where} that is not part of an ellipsis "
                                     "('...')")
        elif term[k] in LETTERS:
            labels.append(term[k])
            k += 1
        else:
            raise ArgumentValueError(f"einsum(): invalid subscript {term[k]!r} in {where}; subscripts must "
                                     "be letters a-z, A-Z")
    return labels


def _sublist_equation(args: Sequence[Any]) -> tuple[str, list[Any]]:
    """PyTorch's sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])`` as an equation."""
    def term(sub: Any) -> str:
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, (int, np.integer)) and 0 <= s < len(LETTERS):
                out.append(LETTERS[int(s)])
            else:
                raise ArgumentValueError(f"einsum(): sublist entries must be Ellipsis or ints in "
                                         f"[0, {len(LETTERS)}), got {s!r}")
        return "".join(out)

    pairs = args if len(args) % 2 == 0 else args[:-1]  # an odd count ends with the output
    operands, terms = list(pairs[0::2]), [term(s) for s in pairs[1::2]]
    lhs = ",".join(terms)
    return (lhs + "->" + term(args[-1]), operands) if len(args) % 2 else (lhs, operands)


def einsum(equation: Any, *operands: Any) -> Tensor:
    """Einstein summation with PyTorch's grammar: ``einsum("ij,jk->ik", a, b)`` (or the operands as
    one list); without ``->`` the output is the labels that appear once, in alphabetical order
    (upper case first); ``...`` stands for broadcast dimensions; a label repeated in an operand takes
    its diagonal (``"ii->i"``, and ``"ii"`` is the trace); labels of size 1 broadcast; labels left
    out of the output are summed. Also PyTorch's sublist form ``einsum(a, [0, 1], b, [1, 2])``.

    The operands are first reduced to a clean equation in Tensor ops (diagonals, sums over labels
    only one operand has, broadcast labels squeezed); what remains is one ``Einsum`` op, which
    contracts two operands with one matmul."""
    if not isinstance(equation, str):
        equation, ops = _sublist_equation((equation, *operands))
    else:
        ops = list(operands[0]) if len(operands) == 1 and isinstance(operands[0], (list, tuple)) \
            else list(operands)
    for k, t in enumerate(ops):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {k} is {a_type(t)}, not a Tensor")
    eq = "".join(equation.split())
    lhs, arrow, rhs = eq.partition("->")
    if "->" in rhs:
        raise ArgumentValueError(f"einsum(): {equation!r} has more than one '->'")
    terms = [_parse_term(term, f"operand {k}'s subscripts") for k, term in enumerate(lhs.split(","))]
    if len(terms) != len(ops):
        raise ArgumentValueError(f"einsum(): the equation {equation!r} has subscripts for {len(terms)} "
                                 f"operands, but {len(ops)} were given")
    if len({t.dtype for t in ops}) > 1:
        raise ArgumentTypeError(f"einsum(): the operands have different dtypes "
                        f"({', '.join(str(t.dtype) for t in ops)}); convert them to one with .to()")
    # ellipsis dims get labels of their own (after the letters), right-aligned across operands
    n_ell = 0
    for k, (labels, t) in enumerate(zip(terms, ops)):
        named = len(labels) - ("..." in labels)
        if t.ndim < named or ("..." not in labels and t.ndim != named):
            raise ArgumentValueError(f"einsum(): operand {k} has {t.ndim} dimensions (shape {t.shape}) but "
                                     f"{named} subscripts {''.join(labels)!r}" +
                                     ("" if "..." in labels else " and no ellipsis ('...')"))
        n_ell = max(n_ell, t.ndim - named)
    ell = [chr(0x100 + i) for i in range(n_ell)]  # placeholder labels, not letters
    subs: list[list[str]] = []
    for labels, t in zip(terms, ops):
        if "..." in labels:
            e = labels.index("...")
            k = t.ndim - (len(labels) - 1)
            labels = labels[:e] + ell[n_ell - k:] + labels[e + 1:]
        subs.append(labels)
    counts: dict[str, int] = {}
    for labels in subs:
        for c in labels:
            counts[c] = counts.get(c, 0) + 1
    if arrow:
        out_labels = _parse_term(rhs, "the output")
        out: list[str] = []
        for c in out_labels:
            if c == "...":
                out += ell
            elif c in out:
                raise ArgumentValueError(f"einsum(): output subscript {c} appears more than once")
            elif c not in counts:
                raise ArgumentValueError(f"einsum(): output subscript {c} does not appear in any operand's "
                                         "subscripts")
            else:
                out.append(c)
    else:
        out = ell + sorted((c for c in counts if c in LETTERS and counts[c] == 1), key=LETTERS.index)
    if ops[0].dtype == np.bool_ and len(ops) > 1 and all(t.numel() for t in ops):
        # a label two operands share and the output drops is a sum of products: PyTorch's bmm,
        # which has no bool kernel (an outer product or an elementwise one it computes)
        shared = {c for c in counts if sum(c in labels for labels in subs) > 1}
        if shared - set(out):
            raise TypeError(f"einsum(): {equation!r} sums products of bool tensors, which is not "
                            "implemented for bool (as in PyTorch); convert them with .int() or "
                            ".float()")
    # every label's size: equal everywhere, or 1 (broadcast)
    size: dict[str, int] = {}
    for k, (labels, t) in enumerate(zip(subs, ops)):
        seen: dict[str, int] = {}
        for c, s in zip(labels, t.shape):
            if c in seen and seen[c] != s:
                raise ArgumentValueError(f"einsum(): subscript {c} is repeated in operand {k} for "
                                         f"dimensions of sizes {seen[c]} and {s} (shape {t.shape}); a "
                                         "diagonal needs equal sizes")
            seen[c] = s
            if size.get(c, 1) != 1 and s not in (1, size[c]):
                name = "an ellipsis dimension" if c in ell else f"subscript {c}"
                raise ArgumentValueError(f"einsum(): {name} has size {s} in operand {k} (shape {t.shape}) "
                                         f"but {size[c]} in an earlier operand; sizes must match or be 1")
            if s != 1 or c not in size:
                size[c] = s
    # reduce each operand to clean labels, in Tensor ops
    clean_ops, clean_subs = [], []
    for labels, t in zip(subs, ops):
        t, labels = _diagonals(t, labels)
        keep = [i for i, c in enumerate(labels) if not (t.shape[i] == 1 and size[c] != 1)]
        if len(keep) < len(labels):  # a broadcast label: as if absent
            t = t.reshape(tuple(t.shape[i] for i in keep))
            labels = [labels[i] for i in keep]
        clean_ops.append(t)
        clean_subs.append(labels)
    for k in range(len(clean_ops)):
        labels = clean_subs[k]
        elsewhere = set(out).union(*(set(s) for j, s in enumerate(clean_subs) if j != k))
        summed = tuple(i for i, c in enumerate(labels) if c not in elsewhere)
        if summed:
            clean_ops[k] = clean_ops[k].sum(summed)
            clean_subs[k] = [c for c in labels if c in elsewhere]
    # the clean equation keeps the user's letters; the ellipsis dims get letters not in use
    used = list(dict.fromkeys([c for s in clean_subs for c in s] + out))
    free = iter([c for c in LETTERS if c not in used])
    names = {c: c if c in LETTERS else next(free, "") for c in used}
    if "" in names.values():
        raise ArgumentValueError(f"einsum(): {len(used)} distinct dimensions; at most {len(LETTERS)}")
    clean_eq = ",".join("".join(names[c] for c in s) for s in clean_subs) + "->" + "".join(
        names[c] for c in out)
    if len(clean_ops) == 1 and sorted(clean_subs[0]) == sorted(out):
        # nothing summed or multiplied: a permutation of the operand (or of its diagonal), a view
        # of it, as PyTorch's ("i->i", "ij->ji", "ii->i": an in-place change shows through)
        order = [clean_subs[0].index(c) for c in out]
        if order == sorted(order) and clean_ops[0] is not ops[0]:
            return clean_ops[0]  # (already a new tensor in the output's order: "ij->j"'s sum)
        return clean_ops[0].permute(*order)
    return Einsum.apply(*clean_ops, equation=clean_eq)


def _diagonals(t: Tensor, labels: list[str]) -> tuple[Tensor, list[str]]:
    """Take the diagonal of every label repeated in one operand (``"ii"`` -> ``"i"``): a view, as
    PyTorch's (``diagonal`` puts it last; a label three times takes two)."""
    while len(set(labels)) < len(labels):
        c = next(c for c in labels if labels.count(c) > 1)
        i, j = [k for k, d in enumerate(labels) if d == c][:2]
        t = t.diagonal(0, i, j)
        labels = [d for k, d in enumerate(labels) if k not in (i, j)] + [c]
    return t, labels


# ------------------------------------------------------------------------------ products (issue 14)
def _tensors(where: str, *ts: Any) -> None:
    for k, t in enumerate(ts):
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: argument {k} is {a_type(t)}, not a Tensor")


def _one_dtype(where: str, *ts: Tensor, product: bool = False) -> None:
    """One dtype among ``ts``; with ``product``, not bool (PyTorch has no bool matrix product:
    refused here by the op's own name, before the matmul inside it)."""
    if len({t.dtype for t in ts}) > 1:
        raise ArgumentTypeError(f"{where}: expected one dtype, got {', '.join(str(t.dtype) for t in ts)} (as "
                        "PyTorch, no promotion here); convert with .to()")
    if product:
        no_bool_product(where, *(t._data for t in ts))


def no_bool_product(where: str, *arrays: Any) -> None:
    """Refuse a sum of products of bool arrays, as PyTorch does (it has no bool GEMM kernel), by
    the op's name -- but not of an empty operand, which multiplies nothing (PyTorch gives the
    empty or all-False result)."""
    if arrays and all(a.dtype == np.bool_ and a.size for a in arrays):
        raise TypeError(f"{where}: not implemented for bool tensors (as in PyTorch); convert "
                        "them with .int() or .float()")


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sum the products over the last ``dims`` dimensions of ``a`` and the first ``dims`` of ``b``,
    or over the dimensions paired by ``dims = ([a dims], [b dims])``; the result has ``a``'s other
    dimensions, then ``b``'s. An einsum."""
    _tensors("tensordot", a, b)
    _one_dtype("tensordot", a, b, product=True)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise ArgumentValueError(f"tensordot: dims={dims} must be between 0 and the smaller number of "
                                     f"dimensions of shapes {a.shape} and {b.shape}")
        da, db = list(range(a.ndim - int(dims), a.ndim)), list(range(int(dims)))
    else:
        try:
            da, db = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: dims must be an int or a pair of dim lists, got {dims!r}"
                            ) from None
        if len(da) != len(db):
            raise ArgumentValueError(f"tensordot: dims {dims!r} pairs {len(da)} dims of the first tensor "
                                     f"with {len(db)} of the second")
        da = [_dim(d, a.ndim, "tensordot") for d in da]
        db = [_dim(d, b.ndim, "tensordot") for d in db]
        if len(set(da)) < len(da) or len(set(db)) < len(db):
            raise ArgumentValueError(f"tensordot: dims {dims!r} names a dimension twice")
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y] and 1 not in (a.shape[x], b.shape[y]):  # (size 1 broadcasts,
            # as in PyTorch and einsum)
            raise ArgumentValueError(f"tensordot: contracted dimensions need to match, but the first tensor "
                                     f"(shape {a.shape}) has size {a.shape[x]} in dim {x} and the second "
                                     f"(shape {b.shape}) has {b.shape[y]} in dim {y}")
    if a.ndim + b.ndim - len(da) > len(LETTERS):
        raise ArgumentValueError(f"tensordot: too many dimensions (shapes {a.shape} and {b.shape})")
    la = LETTERS[:a.ndim]
    fresh = iter(LETTERS[a.ndim:])
    lb = "".join(la[da[db.index(i)]] if i in db else next(fresh) for i in range(b.ndim))
    out = "".join(c for i, c in enumerate(la) if i not in da) + "".join(
        c for i, c in enumerate(lb) if i not in db)
    return einsum(f"{la},{lb}->{out}", a, b)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """``input[i] * vec2[j]`` for two 1-D tensors (dtypes promote as in ``*``)."""
    a, b = input, vec2
    _tensors("outer", a, b)
    if a.ndim != 1 or b.ndim != 1:
        raise ArgumentValueError(f"outer: expected two 1-D tensors, got shapes {a.shape} and {b.shape}")
    fused = outer_product(a, b)
    return fused if fused is not None else a.reshape(a.shape[0], 1) * b.reshape(1, b.shape[0])


def dot(input: Tensor, tensor: Tensor, *, _where: str = "dot") -> Tensor:
    """The inner product of two 1-D tensors of one size and one dtype (a 0-d tensor)."""
    a, b = input, tensor
    _tensors(_where, a, b)
    if a.ndim != 1 or b.ndim != 1 or a.shape != b.shape:
        raise ArgumentValueError(f"{_where}: expected two 1-D tensors of one size, got shapes "
                                 f"{a.shape} and {b.shape}")
    _one_dtype(_where, a, b, product=True)
    return a.matmul(b)


def mv(input: Tensor, vec: Tensor, *, _where: str = "mv") -> Tensor:
    """Matrix (n, k) times vector (k,) -> (n,)."""
    m, v = input, vec
    _tensors(_where, m, v)
    if m.ndim != 2 or v.ndim != 1 or m.shape[1] != v.shape[0]:
        raise ArgumentValueError(f"{_where}: expected a matrix (n, k) and a vector (k,), got shapes "
                                 f"{m.shape} and {v.shape}")
    _one_dtype(_where, m, v, product=True)
    return m.matmul(v)


def bmm(input: Tensor, mat2: Tensor, *, _where: str = "bmm") -> Tensor:
    """Batched matrix product (B, n, k) @ (B, k, m) -> (B, n, m); unlike matmul, no broadcasting."""
    a, b = input, mat2
    _tensors(_where, a, b)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ArgumentValueError(f"{_where}: expected (B, n, k) and (B, k, m) tensors, got shapes "
                                 f"{a.shape} and {b.shape}; use matmul to broadcast")
    _one_dtype(_where, a, b, product=True)
    return a.matmul(b)


def _scaled_sum(where: str, input: Any, product: Tensor, beta: Any, alpha: Any) -> Tensor:
    """``beta * input + alpha * product`` with PyTorch's rules for the ``add*`` products: ``input``
    broadcasts to the product's shape; with ``beta = 0`` it is ignored (its NaN and inf do not
    reach the result) and gets a zero gradient; a factor of 1 multiplies nothing."""
    _tensors(where, input)
    _one_dtype(where, input, product)
    if product.dtype.kind == "b":
        raise TypeError(f"{where}: not implemented for bool tensors (as in PyTorch); convert "
                        "them with .int() or .float()")
    # (a bool factor is 1 or 0 here; on integer tensors a float one is cut to an int, and one
    # that wraps is PyTorch's error)
    beta, alpha = (_check_factor(where, name, int(v) if isinstance(v, bool) else v,
                                 product.dtype, truncated=True)
                   for name, v in (("beta", _factor(where, "beta", beta)),
                                   ("alpha", _factor(where, "alpha", alpha))))
    try:
        shape = _bshapes(tuple(input.shape), tuple(product.shape))
    except ValueError:
        shape = None
    if shape != tuple(product.shape):
        raise ArgumentValueError(f"{where}: input of shape {input.shape} does not broadcast to the "
                                 f"product's shape {product.shape}")
    if alpha == 0:  # PyTorch ignores the product then (its NaN and inf too)
        zeros = Tensor._make(array_module(product._data).zeros_like(product._data))
        out = ZeroLink.apply(zeros, product) if product.requires_grad and _state.grad_enabled \
            else zeros
    else:
        out = product if alpha == 1 else product * alpha
    if beta == 0:
        if input.requires_grad and _state.grad_enabled:
            out = ZeroLink.apply(out, input)  # (a zero gradient for input, as PyTorch's)
    else:
        # (the product first: the sum is laid out in memory as it is, as PyTorch's is)
        out = out + (input if beta == 1 else input * beta)
    return out


def _in_float32(fn: Any) -> Any:
    """A float16 ``add*`` product computed in float32 and rounded once at the end (PyTorch's
    opmath; rounding the product to half before the add was a second rounding, 1 ulp off in a
    third of the elements)."""

    @functools.wraps(fn)
    def wrapper(input: Any, a: Any, b: Any, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        ts = (input, a, b)
        if all(isinstance(t, Tensor) and t.dtype == np.float16 for t in ts):
            return fn(*(t.float() for t in ts), beta=beta, alpha=alpha).half()
        return fn(input, a, b, beta=beta, alpha=alpha)

    return wrapper


@_in_float32
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices ``(n, k)`` and ``(k, m)``; ``input``
    broadcasts to ``(n, m)``. Composition: its VJP is matmul's and the adds'."""
    _tensors("addmm", mat1, mat2)
    if mat1.ndim != 2 or mat2.ndim != 2 or mat1.shape[1] != mat2.shape[0]:
        raise ArgumentValueError(f"addmm: expected matrices (n, k) and (k, m), got shapes {mat1.shape} "
                                 f"and {mat2.shape}")
    _one_dtype("addmm", mat1, mat2, product=True)
    return _scaled_sum("addmm", input, mat1.matmul(mat2), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * (mat @ vec)`` for a matrix ``(n, k)`` and a vector ``(k,)``."""
    if all(isinstance(t, Tensor) and t.dtype == np.float16 for t in (input, mat, vec)):
        # (PyTorch checks addmv's factors against float16's range -- not addmm's: 2**40 is its
        # error, not a result of inf)
        for name, v in (("beta", beta), ("alpha", alpha)):
            v = _factor("addmv", name, v)
            _check_factor("addmv", name, int(v) if isinstance(v, bool) else v, np.dtype(np.float16))
    return _addmv(input, mat, vec, beta=beta, alpha=alpha)


@_in_float32
def _addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    return _scaled_sum("addmv", input, mv(mat, vec, _where="addmv"), beta, alpha)


@_in_float32
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
            alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``; ``input`` broadcasts to ``(B, n, m)``."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2, _where="baddbmm"), beta, alpha)


@_in_float32
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
           alpha: Any = 1) -> Tensor:
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]``; ``input`` broadcasts to ``(n, m)``."""
    product = bmm(batch1, batch2, _where="addbmm")
    # (summed in its own dtype: a sum of int32 would be int64)
    return _scaled_sum("addbmm", input, product.sum(0, dtype=product.dtype), beta, alpha)


# ------------------------------------------------------------------------------ products of vectors


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (inputs of one dtype and number of dims,
    broadcast);
    ``torch.cross``'s ``dim=None`` is the first dim of size 3, with PyTorch's deprecation
    warning (``linalg.cross`` takes ``dim=-1``). Composed of indexing, ``*`` and ``-``."""
    _tensors("cross", input, other)
    _one_dtype("cross", input, other)
    if input.ndim != other.ndim:
        raise ArgumentValueError(f"cross: inputs must have the same number of dimensions, got shapes "
                                 f"{input.shape} and {other.shape} (as PyTorch); unsqueeze the smaller")
    try:
        shape = _bshapes(input.shape, other.shape)
    except ValueError:
        raise ArgumentValueError(f"cross: shapes {input.shape} and {other.shape} cannot be broadcast "
                                 "together") from None
    if dim is None:
        import warnings

        threes = [d for d, n in enumerate(shape) if n == 3]
        if not threes:
            raise ArgumentValueError(f"cross: no dimension of size 3 in shape {shape}; pass dim")
        warnings.warn("cross: not specifying dim is deprecated (as in PyTorch); it is the first "
                      f"dimension of size 3, {threes[0]}; pass dim, or use linalg.cross",
                      UserWarning, stacklevel=2)
        dim = threes[0]
    if not shape:  # (was: a bare IndexError from a tuple)
        raise IndexError(f"cross: dim {dim} given, but the inputs are 0-d (shapes {input.shape} "
                         f"and {other.shape}); cross takes vectors of 3 elements along dim")
    d = _dim(dim, len(shape), "cross")
    if input.shape[d] != 3 or other.shape[d] != 3:  # (each: a size-1 one was stretched to 3 along
        # the vector dim itself, where PyTorch refuses -- t195)
        raise ArgumentValueError(f"cross: dimension {dim} of both inputs must have size 3, got "
                                 f"{input.shape[d]} and {other.shape[d]} (shapes {input.shape} "
                                 f"and {other.shape})")
    if input.dtype == np.bool_:  # (was sub's error: the op inside)
        raise ArgumentTypeError("cross: not implemented for bool tensors (as in PyTorch); convert "
                                "them with .int() or .float() first")
    a, b = input.expand(shape), other.expand(shape)

    def part(t: Tensor, k: int) -> Tensor:
        return t[(slice(None),) * d + (slice(k, k + 1),)]

    a0, a1, a2 = (part(a, k) for k in range(3))
    b0, b1, b2 = (part(b, k) for k in range(3))
    from tinygrad_cnn.tensor import cat

    return cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """The sum of products over the last dims (one dtype); a 0-d operand multiplies. The result
    has ``input``'s other dims, then ``other``'s."""
    _tensors("inner", input, other)
    _one_dtype("inner", input, other)
    if input.ndim == 0 or other.ndim == 0:
        return input * other  # (bool too: a product of elements, PyTorch's)
    _one_dtype("inner", input, other, product=True)
    if input.shape[-1] != other.shape[-1]:
        raise ArgumentValueError(f"inner: the last dims must match, got shapes {input.shape} and "
                                 f"{other.shape}")
    return tensordot(input, other, ([input.ndim - 1], [other.ndim - 1]))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: block ``(i, j, ...)`` is ``input[i, j, ...] * other``; the shapes
    are padded with leading 1s to one length, and the result's is their product. Composed of
    ``reshape`` and ``*``."""
    _tensors("kron", input, other)
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + input.shape
    sb = (1,) * (n - other.ndim) + other.shape
    a = input.reshape(tuple(v for s in sa for v in (s, 1)))
    b = other.reshape(tuple(v for s in sb for v in (1, s)))
    return (a * b).reshape(tuple(x * y for x, y in zip(sa, sb)))


# ------------------------------------------------------------------------ inverse, determinant
def _invertible(m: Any) -> bool:
    try:
        np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return False
    return True


def _square(where: str, a: Any) -> None:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"linalg.{where}: A must be batches of square matrices, but they are "
                           f"{'x'.join(map(str, a.shape[-2:])) if a.ndim >= 2 else a.ndim}"
                           f" {'matrices' if a.ndim >= 2 else '-dimensional'} (shape {a.shape})")


def _column_major(a: Any) -> Any:
    """``a`` with each matrix in column-major order, as LAPACK leaves PyTorch's results (``inv``,
    ``svd``'s ``U`` and ``Vh``): then a ``reshape(-1)`` of it copies, as PyTorch's does, where a
    row-major one would be a view whose writes reach the result (t174)."""
    xp = array_module(a)
    return xp.swapaxes(xp.ascontiguousarray(xp.swapaxes(a, -1, -2)), -1, -2)


class Inverse(Function):
    """``A⁻¹`` of each matrix of a batch; VJP ``-A⁻ᵀ G A⁻ᵀ`` from the saved output (so its
    second derivatives are matmuls')."""

    name = "linalg_inv"

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        _square("inv", a)
        xp = array_module(a)
        nan = xp.isnan(a).any(axis=(-2, -1)) if a.size else None  # (NaN in, NaN out: PyTorch's)
        if nan is not None and bool(nan.any()):
            a = xp.where(nan[..., None, None], xp.eye(a.shape[-1], dtype=a.dtype), a)
        try:
            with np.errstate(all="ignore"):
                out = xp.linalg.inv(a) if a.size else a.copy()
        except np.linalg.LinAlgError:
            flat = a.reshape(-1, *a.shape[-2:])
            k = next((i for i in range(len(flat)) if not _invertible(flat[i])), 0)
            index = tuple(int(i) for i in np.unravel_index(k, a.shape[:-2]))
            at = f" at batch index {index}" if a.ndim > 2 else ""
            raise RuntimeError(
                f"linalg.inv: the input matrix{at} (shape {a.shape}) is singular, so it has no "
                "inverse (as PyTorch); add a small multiple of the identity, or solve without "
                "inverting") from None
        out = out.astype(a.dtype, copy=False)
        if nan is not None and bool(nan.any()):
            out = xp.where(nan[..., None, None], xp.nan, out).astype(a.dtype, copy=False)
        out = _column_major(out)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        yt = y.mT
        return -(yt @ g @ yt)


class Det(Function):
    """The determinant of each matrix of a batch (1 for 0×0). VJP ``g · det(A) · A⁻ᵀ`` -- in
    tensor ops, so differentiable again -- where every matrix is invertible; at a singular one
    ``g · adj(A)ᵀ``, the adjugate from the SVD (``U diag(Π_{j≠i} s_j) Vᵀ · det(U) det(V)``: not
    0 at rank n - 1), first order only."""

    name = "linalg_det"

    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        _square("det", a)
        xp = array_module(a)
        with np.errstate(all="ignore"):  # (NaN and inf entries: NaN or inf, no warning)
            out = xp.linalg.det(a) if a.size else xp.ones(a.shape[:-2], dtype=a.dtype)
        out = xp.asarray(out, dtype=a.dtype)
        if a.size:  # (numpy's LU gives 0 for a matrix with a NaN; PyTorch's NaN)
            out = xp.where(xp.isnan(a).any(axis=(-2, -1)), xp.nan, out).astype(a.dtype)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        a, d = ctx.saved_tensors
        if a._data.size == 0:
            return Tensor._make(array_module(a._data).zeros_like(a._data))
        if bool((d._data != 0).all()):
            return (g * d).unsqueeze(-1).unsqueeze(-1) * Inverse.apply(a).mT
        if _state.grad_enabled:
            raise OnceDifferentiableError(
                "linalg.det: the second derivative at a singular matrix (or one whose "
                "determinant underflows to 0) is not implemented here (its first derivative "
                "is: the adjugate); check second derivatives at an invertible matrix of "
                "moderate scale")
        xp = array_module(a._data)
        finite = xp.isfinite(a._data).all(axis=(-2, -1))
        clean = xp.where(finite[..., None, None], a._data, 0).astype(np.float64)
        with np.errstate(all="ignore"):
            u, s, vt = xp.linalg.svd(clean)
        n = s.shape[-1]
        others = xp.where(xp.eye(n, dtype=bool), 1.0, s[..., None, :]).prod(-1)  # Π_{j≠i} s_j
        sign = xp.linalg.det(u) * xp.linalg.det(vt)
        adj_t = (u * others[..., None, :]) @ vt * sign[..., None, None]
        adj_t = xp.where(finite[..., None, None], adj_t, xp.nan)  # (NaN in: NaN out)
        return Tensor._make((g._data[..., None, None] * adj_t).astype(a._data.dtype))


class Svd(Function):
    """The singular value decomposition ``A = U diag(S) Vh`` of each matrix of a batch (reduced:
    ``U (..., m, k)``, ``S (..., k)`` largest first, ``Vh (..., k, n)``, k = min(m, n); or full,
    ``U (..., m, m)`` and ``Vh (..., n, n)``). VJP (PyTorch's formula, real case), in Tensor ops
    on the saved outputs, so differentiable again::

        gA = U [ (skew(Uᵀ gU) S + S skew(Vh gVhᵀ)) / E + diag(gS) ] Vh
             + (I - U Uᵀ) gU S⁻¹ Vh  (m > k)   or   + U S⁻¹ gVh (I - Vhᵀ Vh)  (n > k)

    with ``E_ij = S_j² - S_i²`` (1 on the diagonal) and ``skew(X) = X - Xᵀ``.

    With only ``gS`` (``svdvals``): ``U diag(gS) Vh``. Equal singular values make the gradients
    of U and Vh infinite (as in PyTorch); their signs are arbitrary, so only functions that do
    not depend on them (``U diag(w) Vh``, ``|U|``) have well-defined gradients."""

    name = "linalg_svd"

    @staticmethod
    def forward(ctx: Context, a: Any, full_matrices: bool = False, drop_extra: bool = False
                ) -> Any:
        xp = array_module(a)
        m, n = a.shape[-2:]
        k = min(m, n)
        batch = a.shape[:-2]
        if k == 0:
            def eye(d: int) -> Any:
                return xp.broadcast_to(xp.eye(d, dtype=a.dtype), (*batch, d, d)).copy()

            u = eye(m) if full_matrices else xp.zeros((*batch, m, 0), dtype=a.dtype)
            vt = eye(n) if full_matrices else xp.zeros((*batch, 0, n), dtype=a.dtype)
            s = xp.zeros((*batch, 0), dtype=a.dtype)
        else:
            if not bool(xp.isfinite(a).all()):
                raise RuntimeError("linalg.svd: the input matrix contains inf or NaN, so its "
                                   "singular values are not defined (PyTorch: the algorithm "
                                   "failed to converge); check for non-finite values first")
            u, s, vt = xp.linalg.svd(a, full_matrices=full_matrices)
            u, s, vt = _column_major(u.astype(a.dtype, copy=False)), s.astype(
                a.dtype, copy=False), _column_major(vt.astype(a.dtype, copy=False))
        ctx.set_materialize_grads(False)
        ctx.full = bool(full_matrices) and m != n
        ctx.save_for_backward(u, s, vt)
        return u, s, vt

    @staticmethod
    def backward(ctx: Context, gU: Tensor | None, gS: Tensor | None, gVh: Tensor | None
                 ) -> Tensor | None:
        from tinygrad_cnn.tensor import where

        U, S, Vh = ctx.saved_tensors
        m, n, k = U.shape[-2], Vh.shape[-1], S.shape[-1]
        if k == 0 or (gU is None and gS is None and gVh is None):
            shape = (*S.shape[:-1], m, n)
            return Tensor._make(array_module(S._data).zeros(shape, dtype=S._data.dtype))
        if ctx.full and (gU is not None or gVh is not None) and not ctx.attrs.get("drop_extra"):
            raise RuntimeError(
                "linalg.svd: with full_matrices=True the gradient through U or Vh of a "
                f"non-square matrix (here {m}x{n}) is not defined (as in PyTorch): the extra "
                "singular vectors are not unique; use full_matrices=False")
        if ctx.full:  # (torch.svd(some=False): the extra vectors' gradients are ignored)
            U, Vh = U[..., :k], Vh[..., :k, :]
            gU = None if gU is None else gU[..., :k]
            gVh = None if gVh is None else gVh[..., :k, :]
        if gU is None and gVh is None:
            return (U * gS.unsqueeze(-2)) @ Vh
        s_row, s_col = S.unsqueeze(-2), S.unsqueeze(-1)
        s2 = S * S
        diagonal = np.eye(k, dtype=bool)
        E = where(diagonal, 1.0, s2.unsqueeze(-2) - s2.unsqueeze(-1))  # (0 / 1 on the diagonal)
        UhgU = None if gU is None else U.mT @ gU
        VhgV = None if gVh is None else Vh @ gVh.mT
        UhgU = None if UhgU is None else UhgU - UhgU.mT
        VhgV = None if VhgV is None else VhgV - VhgV.mT
        if UhgU is not None and VhgV is not None:
            inner = (UhgU * s_row + s_col * VhgV) / E
        elif UhgU is not None:
            inner = (UhgU / E) * s_row
        else:
            inner = s_col * (VhgV / E)
        if gS is not None:
            inner = inner + gS.diag_embed()
        if m > k and gU is not None:
            gUSinv = gU / s_row
            out = U @ inner + gUSinv - U @ (U.mT @ gUSinv)
            return out @ Vh
        if n > k and gVh is not None:
            SinvgVh = gVh / s_col
            out = inner @ Vh + SinvgVh - (SinvgVh @ Vh.mT) @ Vh
            return U @ out
        return U @ inner @ Vh


def svd(A: Tensor, full_matrices: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """``torch.linalg.svd``: ``(U, S, Vh)`` with ``A = U diag(S) Vh`` for each matrix of a
    batch (PyTorch's default ``full_matrices=True``: square U and Vh)."""
    _tensors("linalg.svd", A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.svd: The input tensor A must have at least 2 dimensions (got "
                           f"shape {A.shape})")
    _float("svd", A)
    if not isinstance(full_matrices, (bool, np.bool_)):
        raise TypeError(f"linalg.svd: full_matrices must be a bool, got {a_type(full_matrices)}")
    return Svd.apply(A, full_matrices=bool(full_matrices))


def svdvals(A: Tensor) -> Tensor:
    """``torch.linalg.svdvals``: the singular values of each matrix of a batch (..., m, n), in
    descending order (differentiable twice, through the SVD)."""
    _tensors("linalg.svdvals", A)
    if A.ndim < 2:
        raise RuntimeError(f"linalg.svdvals: The input tensor A must have at least 2 dimensions "
                           f"(got shape {A.shape})")
    _float("svdvals", A)
    return Svd.apply(A, full_matrices=False)[1]


def inv(A: Tensor) -> Tensor:
    """``torch.linalg.inv``: the inverse of each square matrix of a batch (a float tensor)."""
    _tensors("linalg.inv", A)
    _float("inv", A)
    return Inverse.apply(A)


def det(A: Tensor) -> Tensor:
    """``torch.linalg.det``: the determinant of each square matrix of a batch."""
    _tensors("linalg.det", A)
    _float("det", A)
    return Det.apply(A)


def _float(where: str, a: Tensor) -> None:
    if a.dtype.kind != "f":
        raise RuntimeError(f"linalg.{where}: Expected a floating point tensor as input. Got "
                           f"{a.dtype} (as PyTorch); convert it with .float()")
    if a.dtype == np.float16:
        raise NotImplementedError(f"linalg.{where}: float16 is not supported (as PyTorch's on the "
                                  "CPU: LAPACK has no half precision); convert it with .float()")
