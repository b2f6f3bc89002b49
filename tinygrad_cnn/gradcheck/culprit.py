"""Which op is wrong: when the check of a composite function (a model, a loss) fails, run it once
more inside ``keep_inputs()`` so that every graph node keeps its input tensors, then check each
node by itself -- ``ctx.fn.apply(*float64 copies of ctx.inputs, **ctx.attrs)`` -- oldest first,
its VJP (and, for a second-derivative failure, its VJP's VJP) at the inputs it had in the graph.
The first node that fails is named by its registry name, its input shapes and the line of user
code that created it; ``report.node`` is that node and ``report.outputs`` the replayed outputs
whose graph holds it, so ``viz.draw(*report.outputs, highlight=report.node)`` can show it.

Kinks at a node's recorded inputs (a max pooling over tied zeros out of a relu) are moved away
(``avoid_kinks``): they make the node's own check inconclusive, not wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_cnn.autograd import Context, _collect, _edge, keep_inputs, scope_text
from tinygrad_cnn.gradcheck.jacobian import outputs_of
from tinygrad_cnn.gradcheck.report import kink_verdict
from tinygrad_cnn.ops.inplace import CopySlices
from tinygrad_cnn.tensor import Tensor

if TYPE_CHECKING:
    from tinygrad_cnn.gradcheck.check import Settings
    from tinygrad_cnn.gradcheck.report import GradcheckReport

#: a node whose Jacobian has at most this many entries is checked whole, a bigger one in fast mode
WHOLE_MAX = 4096
#: ... and where no node fails, one checked by projections is checked again whole up to this many
WHOLE_AGAIN = 1 << 20
#: the kinds of a node's failed check that say nothing of its VJP: a kink at its inputs, an input
#: that is inf or NaN there (its own check cannot run: `mul` was blamed for an inf that another
#: op had written into its input), a step under the inputs' rounding
UNJUDGED = ("not_differentiable", "not_finite", "step_too_small")


def _apply(fn: Any, attrs: dict[str, Any], *xs: Tensor) -> Tensor:
    return fn.apply(*xs, **attrs)


def _apply_to_clones(fn: Any, attrs: dict[str, Any], *xs: Tensor) -> Tensor:
    """An op that changes its inputs in place (``mark_dirty``), replayed on clones: a leaf that
    requires grad cannot be changed in place while recording."""
    return fn.apply(*(x.clone() if isinstance(x, Tensor) else x for x in xs), **attrs)


def _replay(node: Context) -> Callable[..., Tensor]:
    """The node's op as a function of its inputs. An op that writes into an input (marked dirty,
    or copy_slices, which writes a view's value into its base) runs on clones of them: every
    call must leave the inputs as they were (the check calls it many times at one point)."""
    in_place = bool(node.special and node.special.get("dirty")) or node.fn is CopySlices
    return functools.partial(_apply_to_clones if in_place else _apply, node.fn, node.attrs)


def _copies(node: Context, leads: dict[int, bool]) -> tuple[Any, ...] | None:
    """Fresh leaves with the node's recorded inputs (float64 where floating), requiring grad where
    the input leads to a checked input (``leads``); None when none does."""
    if node.inputs is None:
        return None
    wanted = [bool(needs) and e is not None and leads.get(id(e), False)
              for needs, e in zip(node.needs_input_grad, node.next)]
    if not any(wanted):
        return None
    out = []
    for t, want in zip(node.inputs, wanted):
        floating = t.dtype.kind == "f"
        copy = Tensor(t.detach(), dtype=np.float64 if floating else None,
                      requires_grad=bool(want and floating))
        a = t._data
        if isinstance(a, np.ndarray) and a.size > 1 and not a.flags.c_contiguous:
            # (laid out as the op met it -- strided, reversed, transposed: a VJP wrong only for
            # such an input was wrong in the graph and right at a C-ordered copy)
            copy._data = _same_layout(a, copy._data)
        out.append(copy)
    return tuple(out)


def _same_layout(a: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` (C order, ``a``'s shape) in a new array with ``a``'s strides scaled to
    ``values``' item size: every other element, reversed or transposed as ``a`` is."""
    scale = values.itemsize / a.itemsize
    strides = tuple(int(st * scale) for st in a.strides)
    low = sum(st * (n - 1) for st, n in zip(strides, a.shape) if st < 0)
    high = sum(st * (n - 1) for st, n in zip(strides, a.shape) if st > 0)
    buf = np.zeros((high - low) // values.itemsize + 1, dtype=values.dtype)
    view = np.lib.stride_tricks.as_strided(buf[-low // values.itemsize:], a.shape, strides)
    view[...] = values
    return view


def _leads_to(nodes: list[Context], checked: set[int]) -> dict[int, bool]:
    """For every graph edge (a node or a leaf): whether the checked inputs lie behind it. A node's
    VJP toward a parameter the check does not vary (a closed-over weight) is not what failed."""
    leads: dict[int, bool] = {k: True for k in checked}
    for node in nodes:  # oldest first: a node's inputs are decided before it
        # (a checked input that is no leaf -- ``x.double()``, ``x[1:]`` -- is itself a node of
        # the graph: it stays checked, whatever lies behind it)
        if id(node) not in checked:
            leads[id(node)] = any(e is not None and leads.get(id(e), False) for e in node.next)
    return leads


#: frames of test runners are no user's line (an op applied straight by check_function)
_RUNNERS = ("/hypothesis/", "/_pytest/", "/pluggy/")


def _user_class(node: Context) -> type | None:
    """The class of a user's Function (one defined outside tinygrad_cnn), else None."""
    cls = node.fn if isinstance(node.fn, type) else type(node.fn)
    return None if cls.__module__.startswith("tinygrad_cnn.") else cls


def label(node: Context) -> str:
    """The op as a verdict names it: ```mul```, or ```mul` (your Function Mul)``` for a user's
    op named like a built-in one."""
    from tinygrad_cnn.ops import REGISTRY

    cls = _user_class(node)
    clash = cls is not None and node.name in REGISTRY and REGISTRY[node.name] is not cls
    return f"`{node.name}`" + (f" (your Function {cls.__qualname__})" if clash else "")


def describe(node: Context) -> str:
    shapes = ", ".join(f"{tuple(shape)} {dtype}" for shape, dtype in node.in_meta)
    line = node.source_line
    if line and not any(r in line.replace("\\", "/") for r in _RUNNERS):
        where = f"created at {line}"
    else:
        where = "applied directly by the checked function"
    if node.scope:
        where += f" (in module {scope_text(node.scope)})"
    cls = _user_class(node)
    if cls is not None:  # (a user's `Mul` is not our `mul`)
        where = f"your Function {cls.__qualname__} (module {cls.__module__}), {where}"
    return f"`{node.name}` (inputs {shapes}), {where}"


def attach(report: GradcheckReport, func: Callable[..., Any], inputs: tuple[Any, ...], order: int,
           s: Settings, node_check: Callable[..., GradcheckReport]) -> None:
    """Replay ``func``'s graph node by node and put the first failing node into ``report``."""
    with keep_inputs():
        outs = outputs_of(func, inputs)
    nodes = list(reversed(_collect([o.grad_fn for o in outs if o.grad_fn is not None])))
    edges = {id(_edge(t)) for t in inputs if isinstance(t, Tensor) and t.requires_grad}
    leads = _leads_to(nodes, edges)
    checked = 0
    # (then, if none failed, the nodes checked by projections once more whole, where that is
    # affordable: one element 0.3% off among 900 hid from the node's own projections)
    first = 0  # (how many the first pass checked)
    sweeps = ((again, item) for again in (False, True)
              for item in _node_checks(nodes, edges, leads, order, s, node_check, again=again))
    for again, (node, fn, copies, r) in sweeps:
        checked += 1
        if again and not first:
            first = checked - 1
        if r.ok or r.kind in UNJUDGED:
            continue
        _blame(report, node, outs, r, composite=len(nodes) > 1)
        passed = f" ({checked - 1} op(s) before it pass)" if checked > 1 and not again else ""
        if again:
            passed = (" (checked whole: its check by random projections had missed it"
                      + (f"; the other {first - 1} op(s) pass" if first > 1 else "") + ")")
        inner = None
        if order == 2 and r.kind == "wrong_vjp":
            inner = _inner_culprit(node, fn, copies, s, node_check)
        if inner is not None:  # an op its backward applies has a wrong VJP of its own
            inner_node, inner_outs, inner_report = inner
            verdict = (f"second derivative: the VJP of {label(node)}'s VJP is wrong: its "
                       f"backward applies {label(inner_node)}, whose own VJP is wrong.")
            _blame(report, inner_node, inner_outs, inner_report, composite=True)
            head = report.headline.removeprefix("second derivative: ")
            report.headline = f"{verdict}\n{head[0].upper()}{head[1:]}"
            report.culprit = (f"The culprit: {describe(inner_node)}, applied by the backward "
                              f"of {describe(node)}; its own check fails at the inputs it had "
                              "there.")
            return
        if r.kind in ("not_deterministic", "not_reentrant"):
            # (no VJP need be wrong: the op's forward or backward is not a function of its
            # inputs alone -- its own check below says which)
            verdict = (f"the op {label(node)} is not "
                       + ("deterministic, or changes its input in place"
                          if r.kind == "not_deterministic" else "reentrant") + ":")
        elif order == 2 and r.kind != "first_derivative":
            verdict = f"second derivative: the VJP of {label(node)}'s VJP is wrong."
        else:
            verdict = f"the VJP of {label(node)} is wrong."
        head = report.headline.removeprefix("second derivative: ")
        report.headline = f"{verdict}\n{head[0].upper()}{head[1:]}"
        report.culprit = (f"The culprit: {describe(node)}; its own check fails at the inputs it "
                          f"had in this graph{passed}.")
        return
    report.outputs = outs
    if order == 1 and s.method != "taylor" and len(nodes) > 1 and _slightly_wrong(
            report, nodes, edges, leads, outs, s, node_check):
        return
    # a failing entry at a kink (the worst, or another: a NaN a VJP gives at relu's 0 spreads
    # to every output element, whose entries off the kink lead the list)
    top = next((e for e in report.worst if e.left is not None and e.right is not None
                and s.is_kink(e.right, e.left)), None)
    if top is not None:
        report.cause = None  # (read from the whole Jacobian it would name another bug)
        at_kink = functools.partial(node_check, avoid_kinks=False)
        for node, _, _, r in _node_checks(nodes, edges, leads, order, s, at_kink):
            if r.kind == "wrong_vjp":  # the op whose VJP is wrong at its own kink, named
                head = report.headline.removeprefix("second derivative: ")
                report.headline = (("second derivative: " if order == 2 else "")
                                   + f"the VJP of {label(node)} is wrong at a kink.\n"
                                   + f"{head[0].upper()}{head[1:]}")
                own = next((e for e in r.worst if e.left is not None and e.right is not None
                            and s.is_kink(e.right, e.left)), top)  # (its own slopes and VJP)
                report.culprit = (
                    f"The culprit: {describe(node)}; its own check passes away from kinks, "
                    "but at the inputs it had in this graph an element sits at a kink, where "
                    f"{kink_verdict(own.analytical, own.left, own.right)}.")
                return
        report.culprit = (
            f"The failing element sits at a kink: "
            f"{kink_verdict(top.analytical, top.left, top.right)}. Every op of the graph passes "
            "its own check away from "
            f"kinks ({checked} checked), so look at what the op of this element returns exactly "
            "at its kink (relu or abs at 0, a tie of max, clamp at its bound).")
        return
    # a likely cause read from the whole Jacobian ('a missing 1/2', 'wrong indices') would name
    # a VJP bug, against the conclusion below that no VJP is wrong: the conclusion stands alone
    report.cause = None
    how = ("the Taylor test" if s.method == "taylor" else
           f"central differences with atol={s.atol:g}, rtol={s.rtol:g}, kinks moved away")
    report.culprit = (f"No op of the graph fails its own check at its recorded inputs ({checked} "
                      f"checked, each by {how}), so the error likely comes from outside the "
                      "recorded ops: a value that leaves the graph (`.data`, `.numpy()`, "
                      "`.detach()`, a new Tensor made from another's values), state that changes "
                      "between calls (randomness, a counter), or a kink of the whole function at "
                      "this point.")


def _node_checks(nodes: list[Context], edges: set[int], leads: dict[int, bool], order: int,
                 s: Settings, node_check: Callable[..., GradcheckReport], again: bool = False
                 ) -> Any:
    """``(node, its replay, its input copies, its own check's report)`` for every node that
    leads to a checked input, oldest first (nodes that cannot be replayed by themselves are
    skipped: no verdict on them). ``again``: only the nodes a first pass checked by projections
    (more than ``WHOLE_MAX`` Jacobian entries), now whole, up to ``WHOLE_AGAIN`` entries."""
    for node in nodes:
        if id(node) in edges:  # (an input that is no leaf: made before the function was called)
            continue
        copies = _copies(node, leads)
        if copies is None:
            continue
        n_in = sum(c._data.size for c in copies if isinstance(c, Tensor) and c.requires_grad)
        n_out = int(np.prod(node.out_meta[0])) if node.out_meta[0] else 1
        entries = n_in * n_out * (order * order)
        fast = entries > WHOLE_MAX
        if again:
            if not fast or entries > WHOLE_AGAIN:
                continue
            fast = False
        fn = _replay(node)
        try:
            r = node_check(fn, copies, order, s, fast)
        except Exception:  # an op that cannot be replayed by itself: no verdict on it
            continue
        yield node, fn, copies, r


#: :func:`_slightly_wrong`: the tolerances of the second look at every op -- far above float64
#: central differences' own error (~1e-9 of an entry), far below gradcheck's default rtol
TIGHT_RTOL, TIGHT_ATOL = 1e-5, 1e-8


def _slightly_wrong(report: GradcheckReport, nodes: list[Context], edges: set[int],
                    leads: dict[int, bool], outs: tuple[Tensor, ...], s: Settings,
                    node_check: Callable[..., GradcheckReport]) -> bool:
    """Every op passed its own check, yet the composite failed: an op whose VJP is off by less
    than rtol by itself can fail a composite whose ops cancel (``f(x) - exp(x)`` with a VJP of
    exp 0.05% wrong: the difference is all error). Each op is checked once more with tight
    tolerances; the first that fails is named, with that explanation. Whether one was."""
    import dataclasses

    tight = dataclasses.replace(s, rtol=min(s.rtol, TIGHT_RTOL), atol=min(s.atol, TIGHT_ATOL))
    for node, _, _, r in _node_checks(nodes, edges, leads, 1, tight, node_check):
        if r.ok or r.kind != "wrong_vjp":
            continue
        _blame(report, node, outs, r, composite=True)
        top = r.worst[0] if r.worst else None
        off = (f"off by {abs(top.analytical - top.numerical) / abs(top.numerical):.2g} of its "
               "value, " if top is not None and top.numerical else "")
        report.headline = (f"the VJP of {label(node)} is slightly wrong -- {off}under "
                           f"rtol={s.rtol:g} by itself -- and the ops around it cancel (they "
                           "subtract nearly equal values), so the whole function's check sees "
                           f"it.\n{report.headline[0].upper()}{report.headline[1:]}")
        report.culprit = (f"The culprit: {describe(node)}; its own check passes at rtol="
                          f"{s.rtol:g} and fails at rtol={tight.rtol:g}, atol={tight.atol:g} at "
                          "the inputs it had in this graph, and the ops before it pass both.")
        return True
    return False


def _blame(report: GradcheckReport, node: Context, outs: tuple[Tensor, ...],
           own: GradcheckReport, composite: bool) -> None:
    """Name ``node`` (in the graph of ``outs``), whose own check ``own`` failed, in ``report``.
    In a composite the likely cause becomes the node's own (or none): one read from the
    composite's Jacobian mixes in the ops around it (a detached VJP after a conv and a linear
    layer read as 'no gradient for some elements')."""
    report.node, report.outputs, report.node_report = node, outs, own
    report.show_node_report = composite
    if composite:
        report.cause = own.cause
        report.cause_of = label(node) if own.cause else ""


def _inner_culprit(node: Context, fn: Callable[..., Any], copies: tuple[Any, ...], s: Settings,
                   node_check: Callable[..., GradcheckReport]
                   ) -> tuple[Context, tuple[Tensor, ...], GradcheckReport] | None:
    """When ``node``'s VJP's VJP is wrong, its VJP may be right but apply an op whose own VJP is
    wrong (a custom Function whose backward calls another): run the VJP once more with
    ``create_graph`` inside ``keep_inputs()``, and check the first derivatives of the ops it
    recorded, oldest first. The first that fails, with the VJP's outputs whose graph holds it
    and its report; None if they all pass."""
    from tinygrad_cnn.autograd import grad

    xs = [c for c in copies if isinstance(c, Tensor) and c.requires_grad]
    rng = np.random.default_rng(s.seed + 7)
    try:
        with keep_inputs():
            out = fn(*copies)
            outs = out if isinstance(out, tuple) else (out,)
            outs = tuple(o for o in outs if isinstance(o, Tensor) and o.requires_grad)
            vs = [Tensor(rng.standard_normal(o.shape)) for o in outs]
            gs = grad(list(outs), xs, grad_outputs=vs, create_graph=True, allow_unused=True)
    except Exception:  # (not replayable: no finer verdict)
        return None
    gs = tuple(g for g in gs if g is not None and g.grad_fn is not None)
    forward = {id(n) for n in _collect([o.grad_fn for o in outs if o.grad_fn is not None])}
    inner = [n for n in reversed(_collect([g.grad_fn for g in gs])) if id(n) not in forward]
    leads = _leads_to(list(reversed(_collect([g.grad_fn for g in gs]))),
                      {id(_edge(x)) for x in xs})
    for n in inner:
        if n.fn is node.fn:
            continue
        sub = _copies(n, leads)
        if sub is None:
            continue
        sub_fn = _replay(n)
        n_in = sum(c._data.size for c in sub if isinstance(c, Tensor) and c.requires_grad)
        n_out = int(np.prod(n.out_meta[0])) if n.out_meta[0] else 1
        try:
            r = node_check(sub_fn, sub, 1, s, n_in * n_out > WHOLE_MAX)
        except Exception:
            continue
        if not r.ok and r.kind not in UNJUDGED:
            return n, gs, r
    return None
