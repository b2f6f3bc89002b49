"""What a backward pass sends along every edge of the graph, kept for the drawings.

The engine keeps only the leaves' gradients (``.grad``). To see the gradient that reaches every op,
and what each VJP sends to each of its inputs, run the backward inside :class:`record_gradients`::

    with viz.record_gradients(loss):
        loss.backward()
    viz.draw(loss, backward=True)        # nodes coloured by |grad|, norms on the edges

No engine change is involved: for the duration of the block, each node of the graph runs its VJP
through a subclass of its op whose ``backward`` calls the op's own and notes what came in and
what went out (the op's class is put back on exit). Only summaries are kept (shape, norm,
range, the first values), plus the sum of what reached each leaf.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import Context, Function, OutputOf, _collect, _state
from tinygrad_cnn.backend import to_numpy
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.viz.graph import fmt_number, fmt_shape

PREVIEW = 6  # values of a gradient kept for display


@dataclass(frozen=True)
class GradStat:
    """A summary of one gradient array."""

    shape: tuple[int, ...]
    dtype: str
    norm: float  # the 2-norm, in float64
    min: float
    max: float
    finite: bool
    preview: tuple[float, ...]  # the first few values, row-major

    @classmethod
    def of(cls, array: Any) -> GradStat:
        a = np.asarray(to_numpy(array))
        flat = a.reshape(-1).astype(np.float64)
        finite = bool(np.isfinite(flat).all())
        if flat.size == 0:
            return cls(tuple(a.shape), str(a.dtype), 0.0, 0.0, 0.0, True, ())
        with np.errstate(over="ignore", invalid="ignore"):
            # scaled by the largest magnitude: float64 squares of 1e200 or 1e-170 would overflow
            # to inf or underflow to 0 (a finite gradient drawn as inf, a nonzero one as zero)
            big = float(np.abs(flat).max()) if finite else math.inf
            norm = big * float(np.sqrt(np.square(flat / big).sum())) if 0 < big < math.inf \
                else float(np.sqrt(np.square(flat).sum()))
        all_nan = bool(np.isnan(flat).all())
        lo = float("nan") if all_nan else float(np.nanmin(flat))
        hi = float("nan") if all_nan else float(np.nanmax(flat))
        return cls(tuple(a.shape), str(a.dtype), norm, lo, hi, finite,
                   tuple(float(v) for v in flat[:PREVIEW]))

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def value(self) -> float | None:
        """The value of a one-element gradient."""
        return self.preview[0] if self.size == 1 and self.preview else None

    def short(self) -> str:
        """``‖g‖ = 0.1234``, or ``g = 0.5`` for a scalar; NaN/Inf said plainly."""
        bad = "" if self.finite else " (NaN/Inf!)"
        if self.value is not None:
            return f"g = {fmt_number(self.value)}{bad}"
        return f"‖g‖ = {fmt_number(self.norm)}{bad}"

    def describe(self) -> str:
        """Shape, norm, range and the first values: for the step-through."""
        text = f"{fmt_shape(self.shape)} {self.dtype}, {self.short()}"
        if self.size > 1:
            text += f", range [{fmt_number(self.min)}, {fmt_number(self.max)}]"
            vals = ", ".join(fmt_number(v) for v in self.preview)
            text += f", values [{vals}{', …' if self.size > len(self.preview) else ''}]"
        return text


@dataclass
class NodeGrads:
    """What one VJP did: its step in the backward run, the gradient it received (the sum of
    everything that reached its output; for an op with several outputs all of them together,
    and ``received_all`` one per output)
    and what it sent to each input (``None``: nothing)."""

    step: int
    received: GradStat
    sent: tuple[GradStat | None, ...]
    received_all: tuple[GradStat | None, ...] = ()
    foreign: bool = False  # the recorded backward started at a root outside this recording's


# ctx -> what its VJP did in the latest recorded backward; leaf -> the sum that reached it
_NODES: weakref.WeakKeyDictionary[Context, NodeGrads] = weakref.WeakKeyDictionary()
_LEAVES: dict[int, tuple[weakref.ref[Tensor], GradStat]] = {}


def node_grads(ctx: Context) -> NodeGrads | None:
    """What the VJP of ``ctx`` did in the latest recorded backward, if one ran."""
    return _NODES.get(ctx)


def _recorded_leaf(t: Tensor) -> GradStat | None:
    entry = _LEAVES.get(id(t))
    return entry[1] if entry is not None and entry[0]() is t else None


def leaf_grad(t: Tensor) -> GradStat | None:
    """The gradient that reached leaf ``t`` in the latest recorded backward; else its ``.grad``."""
    stat = _recorded_leaf(t)
    if stat is None and t.grad is not None:
        return GradStat.of(t.grad._data)
    return stat


def backward_ran(nodes: Sequence[Context]) -> bool:
    """Whether a backward pass has run through any of ``nodes`` (recorded or not)."""
    return any(c.backward_ran or isinstance(c._saved, str) for c in nodes)


def missing(nodes: Sequence[Context]) -> str:
    """What a drawing of the graph of ``nodes`` says where it shows no gradient: "not recorded"
    once a backward ran through it outside :class:`record_gradients`, else "not computed"."""
    return "not recorded" if backward_ran(nodes) and not recorded(nodes) else "not computed"


def leaf_stats(nodes: Sequence[Context], leaves: Sequence[Tensor]) -> dict[int, GradStat | None]:
    """What a backward drawing of the graph of ``nodes`` shows for each of its ``leaves`` (by id):
    where a backward through it was recorded, the sum that reached the leaf in it (None: it got
    nothing there -- grad() asked for other inputs); else, once a backward has run through the
    graph, the leaf's ``.grad``; before any, None ("not computed" -- never a ``.grad`` left from
    another graph, or the zeros of ``zero_grad(set_to_none=False)``)."""
    if recorded(nodes):
        return {id(t): _recorded_leaf(t) for t in leaves}
    if backward_ran(nodes):
        return {id(t): GradStat.of(t.grad._data) if t.grad is not None else None for t in leaves}
    return {id(t): None for t in leaves}


class record_gradients:  # noqa: N801 (a context manager, like no_grad)
    """Inside this block, a backward pass through the graph of ``roots`` is recorded for the
    drawings: the gradient each op receives, what its VJP sends to each input, and the order the
    VJPs run. Use it around ``loss.backward()`` or ``grad(...)``; ``draw(loss, backward=True)``,
    ``text(loss, backward=True)`` and the step-through then show the values.

    ``steps`` lists the nodes in the order their VJPs ran; ``leaves`` maps each leaf (by id) to the
    summed gradient it received."""

    def __init__(self, *roots: Tensor) -> None:
        for i, r in enumerate(roots):
            if not isinstance(r, Tensor):
                raise TypeError(f"record_gradients: root {i} is {a_type(r)}, not a Tensor")
        self.roots = roots
        self.steps: list[Context] = []
        self.leaves: dict[int, tuple[Tensor, GradStat]] = {}
        self._sums: dict[int, tuple[Tensor, Any]] = {}
        self._swapped: list[tuple[Context, type[Function]]] = []
        self._noted: set[Context] = set()
        self._foreign = False

    def __enter__(self) -> record_gradients:
        nodes = _collect([r.grad_fn for r in self.roots if r.grad_fn is not None])
        classes: dict[type[Function], type[Function]] = {}
        for ctx in nodes:
            fn = ctx.fn
            if fn is OutputOf:  # no VJP of its own: the engine hands its gradient to the op
                continue
            if fn not in classes:
                classes[fn] = self._recording(fn)
            self._swapped.append((ctx, fn))
            ctx.fn = classes[fn]
        for ctx in nodes:  # a fresh record: forget what an earlier backward did
            _NODES.pop(ctx, None)
            for e in ctx.next:
                if isinstance(e, Tensor):
                    _LEAVES.pop(id(e), None)
        return self

    def __exit__(self, *exc: object) -> None:
        for ctx, fn in reversed(self._swapped):
            ctx.fn = fn
        self._swapped.clear()
        for key, (leaf, total) in self._sums.items():
            stat = GradStat.of(total)
            self.leaves[key] = (leaf, stat)
            _LEAVES[key] = (weakref.ref(leaf), stat)
        self._sums.clear()

    def _recording(self, fn: type[Function]) -> type[Function]:
        record = self

        def backward(ctx: Context, *grads: Tensor) -> Any:  # one gradient per output
            result = fn.backward(ctx, *grads)
            hooks = ctx.node_hooks
            if not (hooks and hooks["post"]):  # (else noted after them: what they send on)
                record._note(ctx, grads, result)
            return result

        return type(fn.__name__, (fn,), {"name": fn.name, "backward": staticmethod(backward),
                                         "__module__": fn.__module__, "__doc__": fn.__doc__,
                                         "__qualname__": fn.__qualname__, "_recorded_from": fn,
                                         "_note_after_hooks": staticmethod(record._note)})

    def _note(self, ctx: Context, received: tuple[Any, ...], result: Any) -> None:
        if ctx in self._noted:
            # a second backward inside one recording: the record is of the latest one, whole
            # (its steps and its leaves' sums; they disagreed when the sums added up both)
            for old in self.steps:
                _NODES.pop(old, None)
            self.steps.clear()
            self._sums.clear()
            self._noted.clear()
        if not self.steps:  # the first VJP of a backward: did it start at one of our roots?
            starts = set()
            for r in self.roots:
                node = r.grad_fn
                if node is not None:
                    starts.add(node.next[0] if node.fn is OutputOf else node)
            self._foreign = not any(ctx is c for c in starts)
        self._noted.add(ctx)
        grads = result if isinstance(result, tuple) else (result,)
        needed = _state.backward_needed  # grad()/backward(inputs=): only the paths to those
        sent: list[GradStat | None] = []
        for e, g in zip(ctx.next, grads):
            if e is None or not isinstance(g, Tensor) or (needed is not None
                                                          and id(e) not in needed):
                sent.append(None)
                continue
            sent.append(GradStat.of(g._data))
            if isinstance(e, Tensor):  # a leaf: add up what reaches it
                prev = self._sums.get(id(e))
                arr = np.asarray(to_numpy(g._data))
                self._sums[id(e)] = (e, arr.copy() if prev is None else prev[1] + arr)
        stats = tuple(GradStat.of(g._data) if isinstance(g, Tensor) else None for g in received)
        given = [st for st in stats if st is not None]
        if not given:  # every output gradient None (set_materialize_grads(False))
            total = GradStat((), "", 0.0, 0.0, 0.0, True, ())
        elif len(given) == 1:
            total = given[0]
        else:  # several outputs: the node shows (is coloured by) all they received together
            total = _together(given)
        _NODES[ctx] = NodeGrads(len(self.steps) + 1, total, tuple(sent),
                                stats if len(stats) > 1 else (), self._foreign)
        self.steps.append(ctx)


def _together(stats: Sequence[GradStat]) -> GradStat:
    """The gradients of an op's several outputs summarised as one array of all their values
    (the 2-norm of all, the range of all, the first values of the first): an op whose output 0
    got zeros and output 1 a gradient is drawn with that gradient, not as receiving 0."""
    ranged = [s for s in stats if s.size and not (np.isnan(s.min) and np.isnan(s.max))]
    return GradStat((sum(s.size for s in stats),), stats[0].dtype,
                    math.hypot(*(s.norm for s in stats)),
                    min((s.min for s in ranged), default=float("nan")),
                    max((s.max for s in ranged), default=float("nan")),
                    all(s.finite for s in stats),
                    tuple(v for s in stats for v in s.preview)[:PREVIEW])


def snapshot(nodes: Sequence[Context], leaves: Sequence[Tensor]) -> Any:
    """What is recorded now for ``nodes`` and ``leaves``: for :func:`restore`, so that a
    recording made for one purpose (an animation) does not show in other drawings."""
    return ({c: _NODES[c] for c in nodes if c in _NODES},
            {id(t): _LEAVES[id(t)] for t in leaves if id(t) in _LEAVES})


def restore(state: Any, nodes: Sequence[Context], leaves: Sequence[Tensor]) -> None:
    """Put back what :func:`snapshot` saw for ``nodes`` and ``leaves``, forgetting newer records."""
    old_nodes, old_leaves = state
    for c in nodes:
        _NODES.pop(c, None)
    for t in leaves:
        _LEAVES.pop(id(t), None)
    _NODES.update(old_nodes)
    _LEAVES.update(old_leaves)


def recorded(nodes: Sequence[Context]) -> bool:
    """Whether any of ``nodes`` has a recorded gradient."""
    return any(ctx in _NODES for ctx in nodes)
