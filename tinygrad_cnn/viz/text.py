"""The text form of a drawing: one line per op, for the terminal, for diffs and golden files in
your tests, and wherever Graphviz is missing.

Forward (``text(loss)``)::

    # forward graph of loss: 4 ops, oldest first
    # name  op                  shape  dtype    module  source
    x       leaf                (3,)   float64
    %0      mul(x, x)           (3,)   float64          demo.py:5 in <module>
    ...

Backward (``text(loss, backward=True)``): one line per VJP in the order ``backward()`` runs them,
with the gradient it receives and what it sends to each input (``+=`` where a second path adds to a
gradient), then the leaves. Values appear after a backward run inside ``record_gradients``; before
any backward they read ``not computed``.

Names are the tensors' own (``conv1.weight``, ``loss``) or ``%k`` for the output of the k-th op;
source lines give file basenames only, so the text is the same on every machine and every run.
"""

from __future__ import annotations

import unicodedata

from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import Context
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.viz import grads as _grads
from tinygrad_cnn.viz.graph import (
    GraphView,
    attr_items,
    fmt_shape,
    is_output_of,
    output_nodes,
    outputs,
    quoted,
    source_text,
    visible,
)


def _module(ctx: Context) -> str:
    """The module column: the module's path as the name columns write names (a blank in it
    would split the column for a reader of the text)."""
    return quoted(visible(ctx.scope)) if ctx.scope else ""


def _is_param(t: Tensor) -> bool:
    from tinygrad_cnn.nn.module import Parameter

    return isinstance(t, Parameter)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A header line (``# name  op ...``) and rows, columns padded to their widest cell, two spaces
    apart, no trailing blanks."""
    header = ["# " + header[0], *header[1:]]
    rows = [[_one_line(c) for c in r] for r in rows]
    widths = [max(_width(r[c]) for r in [header, *rows]) for c in range(len(header))]
    return ["  ".join(c + " " * (w - _width(c)) for c, w in zip(r, widths)).rstrip()
            for r in [header, *rows]]


def _width(cell: str) -> int:
    """The columns ``cell`` takes in a terminal: two for a wide character (``名``, most emoji),
    none for a combining mark, one for the rest (``len`` misaligned a table with a name in
    Chinese)."""
    if cell.isascii():
        return len(cell)
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in cell)


def _one_line(cell: str) -> str:
    """A cell on one line: line breaks and tabs in a name (the user's text) as escapes."""
    return cell.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _leaf_kind(t: Tensor) -> str:
    return "parameter" if _is_param(t) else "leaf"


def _root_names(view: GraphView) -> list[str]:
    names = []
    for r in view.roots:
        if r.grad_fn is not None:
            names.append(view.out_name(r.grad_fn))
        else:
            names.append(view.leaf_name(r) if r.requires_grad
                         else quoted(visible(r.name or "tensor")))
    return names


def _roots_text(view: GraphView) -> str:
    return _one_line(", ".join(_root_names(view)))


def text(*tensors: Tensor, backward: bool = False) -> str:
    """The graph that made ``tensors`` as text, one line per op (``backward=False``: name, op and
    its inputs and attributes, shape, dtype, module, source line) or per VJP (``backward=True``:
    step, gradient received, gradients sent, module, source line). Deterministic: usable as a
    golden file; no addresses, no absolute paths."""
    if not tensors:
        raise ValueError("text: pass the tensors whose graph to write, e.g. viz.text(loss)")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"text: argument {i} is {a_type(t)}, not a Tensor")
    view = GraphView(tensors, quote=True)
    return (_backward(view) if backward else _forward(view)) + "\n"


def _forward(view: GraphView) -> str:
    rows: list[list[str]] = []
    for src in view.sources:  # leaves and inputs, in the order the forward first used them
        if isinstance(src, Tensor):
            rows.append([view.leaf_name(src), _leaf_kind(src), fmt_shape(src.shape),
                         str(src.dtype), "", ""])
        else:
            name, shape, dtype = src
            rows.append([name, "input", fmt_shape(shape), str(dtype), "", ""])
    for r in view.roots:  # a root with no graph at all (made under no_grad, or detached)
        if r.grad_fn is None and not r.requires_grad:
            why = (f"no graph ({r.dtype} values have no gradient: a comparison, an index, ...)"
                   if r.dtype.kind in "biu" else
                   "no graph (made under no_grad, detached, or a constant)")
            rows.append([quoted(visible(r.name or "tensor")), why, fmt_shape(r.shape),
                         str(r.dtype), "", ""])
    for ctx in view.forward:
        if is_output_of(ctx):  # output k of an op with several outputs
            _, shape, dtype = outputs(ctx)[0]
            rows.append([view.out_name(ctx), f"output {ctx.index} of {view.out_name(ctx.next[0])}",
                         fmt_shape(shape), str(dtype), _module(ctx),
                         source_text(ctx) or ""])
            continue
        args = [view.input_name(ctx, i) for i in range(len(ctx.next))]
        args += [f"{k}={v}" for k, v in attr_items(ctx)]
        outs = outputs(ctx)  # one line per op, also for an op with several outputs
        rows.append([view.out_name(ctx), f"{ctx.fn.name}({', '.join(args)})",
                     ", ".join(fmt_shape(shape) for _, shape, _ in outs),
                     ", ".join(str(dtype) for _, _, dtype in outs), _module(ctx),
                     source_text(ctx) or ""])
    ops = sum(1 for c in view.forward if not is_output_of(c))  # ("output k of %n" rows are
    head = (f"forward graph of {_roots_text(view)}: {ops} op"  # not ops of their own: t188)
            f"{'s' if ops != 1 else ''}, oldest first")
    return "\n".join([f"# {head}", *_table(["name", "op", "shape", "dtype", "module", "source"],
                                            rows)])


def _grad_text(stat: _grads.GradStat | None, missing: str) -> str:
    return stat.short() if stat is not None else missing


def _backward(view: GraphView) -> str:
    shown = _grads.shown_pass(view.nodes, view.roots)  # one recorded backward pass, never a mix
    recorded = shown.pass_id is not None
    leaf_stats = _grads.leaf_stats(view.nodes, view.leaves, shown.pass_id)
    missing = _grads.missing(view.nodes)
    arrived: set[int] = set()
    for r in view.roots:
        if r.grad_fn is not None:
            arrived.add(id(r.grad_fn))
    rows: list[list[str]] = []
    vjps = [c for c in view.nodes if not is_output_of(c)]  # output nodes run no VJP of their own
    skipped = unseen = 0
    for step, ctx in enumerate(vjps, start=1):
        ng = _grads.node_grads(ctx, shown.pass_id) if recorded else None
        # recorded, but this VJP did not run: grad(..., inputs) needed no path through it (or
        # it ran, outside what the recording watched: a root not given to record_gradients)
        idle = recorded and ng is None and _grads.watched(ctx, shown.pass_id)
        unwatched = recorded and ng is None and not idle
        skipped += idle
        unseen += unwatched
        sends = []
        for i, e in enumerate(ctx.next):
            if e is None:
                continue
            name = view.input_name(ctx, i)
            sent = ng.sent[i] if ng is not None and i < len(ng.sent) else None
            op = "+=" if id(e) in arrived else "="
            if not recorded or sent is not None or unwatched:  # (recorded: what was sent adds)
                arrived.add(id(e))
            sends.append(f"d{name} {op} {fmt_shape(ctx.in_meta[i][0])}"
                         + (f" {sent.short()}" if sent is not None else ""))
        receives = []
        nodes = output_nodes(ctx) if getattr(ctx, "n_outputs", 1) > 1 else [ctx]
        stats = (ng.received_all or (ng.received,)) if ng is not None else ()
        for k, ((_, shape, _), node) in enumerate(zip(outputs(ctx), nodes)):
            drawn = node is not None and (node is ctx or id(node) in view.index)
            # (an output outside the drawn graph has no name of its own: the forward text's
            # words for it; was `d%0[1]`, a name the forward text never used)
            name = view.out_name(node) if drawn else f"(output {k} of {view.out_name(ctx)})"
            stat = stats[k] if k < len(stats) else None
            # (a gradient changed by hooks on the way -- the output tensor's, or the node's
            # pre-hooks -- is the one the VJP received: said, so a jump from what was sent is
            # explained)
            hooked = stat is not None and node is not None and (
                node.hooks or (ctx.node_hooks and ctx.node_hooks["pre"]))
            receives.append(f"d{name} {fmt_shape(shape)} " + (
                "(not used)" if idle else "not recorded" if unwatched else
                _grad_text(stat, _grads.missing_at(ctx, missing))
                + (" after its hooks" if hooked else "")))
        rows.append([f"{step}.", f"{ctx.fn.name} VJP" + (" (did not run)" if idle else ""),
                     "; ".join(receives), "; ".join(sends), _module(ctx),
                     source_text(ctx) or ""])
    if shown.foreign:  # record_gradients(loss) around another root's backward
        ran_note = (f" (the recorded backward started at another root, not at "
                    f"{_roots_text(view)}: these are that backward's gradients; "
                    f"{len(vjps) - skipped - unseen} of the VJPs ran)")
    elif shown.unseeded:  # (l1.backward(retain_graph=True); l2.backward(): a pass from l2 only)
        names = _root_names(view)
        ran_note = (f" ({len(vjps) - skipped} ran: the recorded backward started at "
                    f"{', '.join(n for i, n in enumerate(names) if i not in shown.unseeded)}, "
                    f"not at {', '.join(names[i] for i in shown.unseeded)})")
    else:
        ran_note = (f" ({len(vjps) - skipped} ran: the others lead to no requested input)"
                    if skipped else "")
    if unseen:
        ran_note += (f" ({unseen} VJP{'s' if unseen != 1 else ''} outside the graph of the "
                     "recording's roots: not recorded)")
    if shown.passes > 1:
        ran_note += f" (the latest of {shown.passes} recorded backward passes from here)"
    lines = [f"# backward graph of {_roots_text(view)}: {len(vjps)} VJP"
             f"{'s' if len(vjps) != 1 else ''} in the order backward() runs them{ran_note}; "
             f"gradients {'recorded' if recorded else missing}",
             *_table(["step", "vjp", "receives", "sends", "module", "source"], rows)]
    if view.leaves:
        leaf_rows = []
        for t in view.leaves:
            stat = leaf_stats[id(t)]
            shown = "grad not computed" if stat is None else \
                stat.short().replace("‖g‖", "‖grad‖").replace("g =", "grad =")  # (see dot.py)
            if stat is not None and recorded and t._hooks:  # (what its hooks made of it: .grad)
                shown += " before its hooks"
            leaf_rows.append([view.leaf_name(t), _leaf_kind(t), fmt_shape(t.shape), str(t.dtype),
                              shown])
        lines.append("# leaves: the gradient that reached each in the recorded backward"
                     if recorded else "# leaves: backward() accumulates their gradients into .grad")
        lines += _table(["name", "kind", "shape", "dtype", "gradient"], leaf_rows)
    return "\n".join(lines)

