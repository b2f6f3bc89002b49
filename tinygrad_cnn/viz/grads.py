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
import threading
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
    """What one VJP did in one recorded backward pass (``pass_id``): its step in that pass, the
    gradient it received (the sum of everything that reached its output; for an op with several
    outputs all of them together, and ``received_all`` one per output) and what it sent to each
    input (``None``: nothing)."""

    step: int
    received: GradStat
    sent: tuple[GradStat | None, ...]
    received_all: tuple[GradStat | None, ...] = ()
    pass_id: int = 0  # the backward pass (the engine numbers them) this was recorded in


KEEP = 32  # recorded passes kept per node and per leaf (a table shows one pass, never a mix)
# ctx -> {pass: what its VJP did in that recorded backward}; leaf -> {pass: the sum that reached
# it}; pass -> the nodes (or leaves) that backward started at
_NODES: weakref.WeakKeyDictionary[Context, dict[int, NodeGrads]] = weakref.WeakKeyDictionary()
_LEAVES: dict[int, tuple[weakref.ref[Tensor], dict[int, GradStat]]] = {}
_STARTS: dict[int, tuple[Any, ...]] = {}
_STEPS: dict[int, int] = {}  # pass -> the VJPs recorded in it so far
# pass -> the nodes a recording watched in it (one of them without a record did not run)
_COVERED: dict[int, weakref.WeakSet[Context]] = {}


def _leaf_ref(leaf: Tensor, key: int) -> weakref.ref[Tensor]:
    """A weak reference to a recorded leaf whose death drops its records (else every short
    graph left an entry behind)."""
    def forget(ref: weakref.ref[Tensor]) -> None:
        if _LEAVES.get(key, (None,))[0] is ref:
            del _LEAVES[key]

    return weakref.ref(leaf, forget)


def _keep(records: dict[int, Any], pass_id: int, value: Any) -> None:
    records[pass_id] = value
    while len(records) > KEEP:
        del records[min(records)]


def node_grads(ctx: Context, pass_id: int | None = None) -> NodeGrads | None:
    """What the VJP of ``ctx`` did in the recorded backward pass ``pass_id`` (default: the latest
    recorded one that ran it), if one ran."""
    records = _NODES.get(ctx)
    if not records:
        return None
    return records[max(records)] if pass_id is None else records.get(pass_id)


_ACTIVE: list[record_gradients] = []  # the recordings whose block is running


class _Private(threading.local):
    depth = 0  # private recordings (an animation's own) running in this thread


_private = _Private()


def _recorded_leaf(t: Tensor, pass_id: int | None = None) -> GradStat | None:
    for rec in reversed(_ACTIVE):  # (inside the block: the sums of the passes being recorded)
        opened = rec._open.get(rec._pass if pass_id is None else pass_id)
        got = opened[1].get(id(t)) if opened is not None else None
        if got is not None and got[0] is t:
            return GradStat.of(got[1])
    entry = _LEAVES.get(id(t))
    if entry is None or entry[0]() is not t or not entry[1]:
        return None
    return entry[1][max(entry[1])] if pass_id is None else entry[1].get(pass_id)


def leaf_grad(t: Tensor) -> GradStat | None:
    """The gradient that reached leaf ``t`` in the latest recorded backward; else its ``.grad``."""
    stat = _recorded_leaf(t)
    if stat is None and t.grad is not None:
        return GradStat.of(t.grad._data)
    return stat


def _start(r: Tensor) -> Any:
    """The node a backward from ``r`` starts at (an op's, for an output of one with several)."""
    node = r.grad_fn
    return node.next[0] if node is not None and node.fn is OutputOf else node


@dataclass(frozen=True)
class Shown:
    """Which recorded backward pass a drawing of a graph shows: ``pass_id`` (None: none was
    recorded through it), whether that pass started at another root than the drawing's
    (``foreign``), and how many recorded passes through the drawing's roots are kept."""

    pass_id: int | None
    foreign: bool = False
    passes: int = 0
    unseeded: tuple[int, ...] = ()  # roots (by index) that pass did not start at, when it
    # started at others of them (``l1.backward(retain_graph=True); l2.backward()``: l2 only)


def watched(ctx: Context, pass_id: int | None) -> bool:
    """Whether a recording watched the VJP of ``ctx`` in pass ``pass_id`` (so no record means
    it did not run there, rather than that it ran unwatched)."""
    return pass_id is not None and ctx in _COVERED.get(pass_id, ())


def shown_pass(nodes: Sequence[Context], roots: Sequence[Tensor]) -> Shown:
    """The pass a drawing of ``roots`` (graph ``nodes``) shows: the latest recorded one that ran
    the VJP of one of the roots; else (a backward from another root that went through part of this
    graph) the latest recorded one through any of the graph's nodes."""
    per_root = [_start(r) for r in roots]
    starts = [s for s in per_root if s is not None]
    at_roots = {p for c in starts for p in _NODES.get(c, ())}
    anywhere = at_roots or {p for c in nodes for p in _NODES.get(c, ())}
    if not anywhere:
        return Shown(None)
    p = max(anywhere)
    began = [ref() for ref in _STARTS.get(p, ())]
    foreign = bool(began) and not any(b is s for b in began for s in starts)
    unseeded = () if foreign or not began else tuple(
        i for i, s in enumerate(per_root) if s is not None and not any(b is s for b in began))
    return Shown(p, foreign, len(at_roots), unseeded)


def backward_ran(nodes: Sequence[Context]) -> bool:
    """Whether a backward pass has run through any of ``nodes`` (recorded or not)."""
    return any(c.backward_ran or isinstance(c._saved, str) for c in nodes)


def missing(nodes: Sequence[Context]) -> str:
    """What a drawing of the graph of ``nodes`` says where it shows no gradient: "not recorded"
    once a backward ran through it outside :class:`record_gradients`, else "not computed"."""
    return "not recorded" if backward_ran(nodes) and not recorded(nodes) else "not computed"


def missing_at(ctx: Context, missing: str) -> str:
    """:func:`missing` for one node: "not computed" where its own VJP never ran (the nodes
    ``grad(..., create_graph=True)`` made, in a graph whose older part ran unrecorded)."""
    if missing == "not recorded" and not (ctx.backward_ran or isinstance(ctx._saved, str)):
        return "not computed"
    return missing


def leaf_stats(nodes: Sequence[Context], leaves: Sequence[Tensor],
               pass_id: int | None = None) -> dict[int, GradStat | None]:
    """What a backward drawing of the graph of ``nodes`` shows for each of its ``leaves`` (by id):
    where a backward through it was recorded, the sum that reached the leaf in the pass shown
    (``pass_id``, default the latest; None: it got nothing there -- grad() asked for other
    inputs); else, once a backward has run through the graph, the leaf's ``.grad``; before any,
    None ("not computed" -- never a ``.grad`` left from another graph, or the zeros of
    ``zero_grad(set_to_none=False)``)."""
    if recorded(nodes):
        if pass_id is None:
            pass_id = max((p for c in nodes for p in _NODES.get(c, ())), default=None)
        return {id(t): _recorded_leaf(t, pass_id) for t in leaves}
    if backward_ran(nodes):
        return {id(t): GradStat.of(t.grad._data) if t.grad is not None else None for t in leaves}
    return {id(t): None for t in leaves}


class record_gradients:  # noqa: N801 (a context manager, like no_grad)
    """Inside this block, a backward pass through the graph of ``roots`` is recorded for the
    drawings: the gradient each op receives, what its VJP sends to each input, and the order the
    VJPs run. Use it around ``loss.backward()`` or ``grad(...)``; ``draw(loss, backward=True)``,
    ``text(loss, backward=True)`` and the step-through then show the values.

    ``steps`` lists the nodes in the order their VJPs ran; ``leaves`` maps each leaf (by id) to the
    summed gradient it received -- both of the pass that ran a VJP last (of several passes one
    after the other, the latest; of a backward run inside a hook of another, the outer one).
    Every pass is recorded on its own, also passes run from other threads at the same time."""

    def __init__(self, *roots: Tensor, _private: bool = False) -> None:
        for i, r in enumerate(roots):
            if not isinstance(r, Tensor):
                raise TypeError(f"record_gradients: root {i} is {a_type(r)}, not a Tensor")
        self.roots = roots
        self.steps: list[Context] = []
        self._leaves: dict[int, tuple[Tensor, GradStat]] = {}
        # pass -> (its steps, the sum that reached each leaf) while the block runs (the latest
        # KEEP passes; each is kept under its number on exit, or when KEEP newer ones began)
        self._open: dict[int, tuple[list[Context], dict[int, tuple[Tensor, Any]]]] = {}
        self._swapped: list[tuple[Context, type[Function]]] = []
        self._classes: dict[type[Function], type[Function]] = {}  # op class -> its recording one
        self._active = False  # the block runs (a recording class left in a graph notes nothing)
        self._pass = 0  # the engine's number of the backward pass that ran a VJP last
        # an animation's own recording: while it runs (in its thread) other recordings note
        # nothing, so that its pass never shows as theirs
        self._private = _private

    @property
    def leaves(self) -> dict[int, tuple[Tensor, GradStat]]:
        opened = self._open.get(self._pass)
        if opened is None:
            return self._leaves
        return {key: (leaf, GradStat.of(total)) for key, (leaf, total) in opened[1].items()}

    def __enter__(self) -> record_gradients:
        nodes = _collect([r.grad_fn for r in self.roots if r.grad_fn is not None])
        classes = self._classes
        self._active = True
        for ctx in nodes:
            fn = ctx.fn
            if fn is OutputOf:  # no VJP of its own: the engine hands its gradient to the op
                continue
            if fn not in classes:
                classes[fn] = self._recording(fn)
            self._swapped.append((ctx, fn))
            ctx.fn = classes[fn]
        _ACTIVE.append(self)
        if self._private:
            _private.depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        # blocks may end out of nesting order (two threads): a node wrapped again by a recording
        # that is still open keeps its class (that one unwraps ours when it ends); else the op's
        # class comes back, skipping the classes of recordings that have ended
        self._active = False
        for ctx, fn in reversed(self._swapped):
            if ctx.fn is self._classes.get(fn):
                while "_recorder" in fn.__dict__ and not fn.__dict__["_recorder"]._active:
                    fn = fn.__dict__["_recorded_from"]
                ctx.fn = fn
        self._swapped.clear()
        self._classes.clear()
        if self in _ACTIVE:
            _ACTIVE.remove(self)
            if self._private:
                _private.depth -= 1
        for p in sorted(self._open):
            self._commit(p)

    def _commit(self, p: int) -> None:
        """The leaves' sums of pass ``p``, kept under its number."""
        _, sums = self._open.pop(p)
        stats = {}
        for key, (leaf, total) in sums.items():
            stats[key] = (leaf, stat := GradStat.of(total))
            entry = _LEAVES.get(key)
            if entry is None or entry[0]() is not leaf:
                entry = _LEAVES[key] = (_leaf_ref(leaf, key), {})
            _keep(entry[1], p, stat)
        if p == self._pass:
            self._leaves = stats

    def _recording(self, fn: type[Function]) -> type[Function]:
        record = self

        def backward(ctx: Context, *grads: Tensor) -> Any:  # one gradient per output
            result = fn.backward(ctx, *grads)
            hooks = ctx.node_hooks
            if not (hooks and hooks["post"]):  # (else noted after them: what they send on)
                record._note(ctx, grads, result)
            return result

        outer = getattr(fn, "_note_after_hooks", None)  # (a recording this one is nested in)

        def note_after_hooks(ctx: Context, received: tuple[Any, ...], result: Any) -> None:
            record._note(ctx, received, result)
            if outer is not None:
                outer(ctx, received, result)

        return type(fn.__name__, (fn,), {"name": fn.name, "backward": staticmethod(backward),
                                         "__module__": fn.__module__, "__doc__": fn.__doc__,
                                         "__qualname__": fn.__qualname__, "_recorded_from": fn,
                                         "_recorder": record,
                                         "_note_after_hooks": staticmethod(note_after_hooks)})

    def _note(self, ctx: Context, received: tuple[Any, ...], result: Any) -> None:
        if not self._active or (_private.depth and not self._private):  # (ended; an animation's
            return                                                      # own pass runs)
        p, needed, began = _state.backward_run or (0, None, ())
        opened = self._open.get(p)
        if opened is None:  # a new backward pass (or one nested in another, from a hook)
            opened = self._open[p] = ([], {})
            if len(self._open) > KEEP:
                self._commit(min(self._open))
            if p not in _STARTS:
                _STARTS[p] = tuple(weakref.ref(e) for e in began)
                for old in [q for q in _STARTS if q < p - 64]:  # (passes long gone)
                    del _STARTS[old]
                    _STEPS.pop(old, None)
                    _COVERED.pop(old, None)
            _COVERED.setdefault(p, weakref.WeakSet()).update(c for c, _ in self._swapped)
        self._pass = p
        self.steps, sums = opened
        self.steps.append(ctx)
        grads = result if isinstance(result, tuple) else (result,)
        # (needed: with grad()/backward(inputs=), only the paths to those)
        for e, g in zip(ctx.next, grads):
            if isinstance(e, Tensor) and isinstance(g, Tensor) and (needed is None
                                                                    or id(e) in needed):
                prev = sums.get(id(e))  # a leaf: add up what reaches it
                arr = np.asarray(to_numpy(g._data))
                sums[id(e)] = (e, arr.copy() if prev is None else prev[1] + arr)
        records = _NODES.setdefault(ctx, {})
        if p in records:  # (a recording nested in another one noted it already)
            return
        sent = tuple(None if e is None or not isinstance(g, Tensor) or (
            needed is not None and id(e) not in needed) else GradStat.of(g._data)
            for e, g in zip(ctx.next, grads))
        stats = tuple(GradStat.of(g._data) if isinstance(g, Tensor) else None for g in received)
        given = [st for st in stats if st is not None]
        if not given:  # every output gradient None (set_materialize_grads(False))
            total = GradStat((), "", 0.0, 0.0, 0.0, True, ())
        elif len(given) == 1:
            total = given[0]
        else:  # several outputs: the node shows (is coloured by) all they received together
            total = _together(given)
        _STEPS[p] = step = _STEPS.get(p, 0) + 1
        _keep(records, p, NodeGrads(step, total, sent, stats if len(stats) > 1 else (), p))


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
    return ({c: dict(_NODES[c]) for c in nodes if c in _NODES},
            {id(t): (_LEAVES[id(t)][0], dict(_LEAVES[id(t)][1])) for t in leaves
             if id(t) in _LEAVES},
            {c: c.backward_ran for c in nodes})  # (an animation's backward, put back too:
                                                 # drawings then said 'not recorded')


def restore(state: Any, nodes: Sequence[Context], leaves: Sequence[Tensor]) -> None:
    """Put back what :func:`snapshot` saw for ``nodes`` and ``leaves``, forgetting newer records."""
    old_nodes, old_leaves, ran = state
    for c in nodes:
        _NODES.pop(c, None)
        c.backward_ran = ran.get(c, c.backward_ran)
    for t in leaves:
        _LEAVES.pop(id(t), None)
    _NODES.update(old_nodes)
    _LEAVES.update(old_leaves)


def recorded(nodes: Sequence[Context]) -> bool:
    """Whether any of ``nodes`` has a recorded gradient."""
    return any(ctx in _NODES for ctx in nodes)
