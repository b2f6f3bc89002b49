"""Graphviz drawings of the forward graph, the backward graph and the graph of a gradient.

Colours (each drawing's legend shows the ones it uses):

* grey boxes: ops, labelled with their registry name and attributes (``conv2d stride=(2, 2)``);
  an op's tooltip gives the line of your code that created it (``show_source=True`` prints it);
* records ``name | shape | dtype``: tensors -- amber for parameters, blue for other leaves that
  require grad, pale blue for inputs and constants (a scalar constant shows its value), green for
  the tensors you asked to draw; operands whose order matters are named on their edges;
* double-bordered boxes: ``×N`` repeated blocks, or modules collapsed to stay under ``max_nodes``;
* backward graph, after a backward run inside :class:`~tinygrad_cnn.viz.record_gradients`: every
  node coloured by the norm of its gradient on a log scale (blue small, red large; a colour bar
  in the legend), gradient norms on the edges, values for scalars; **not computed** where no
  backward has run; lavender: tensors an op saved for its VJP (``show_saved=True``);
* red: the node you asked to ``highlight`` (an anomaly's culprit, a failing gradient check).

The DOT text needs nothing installed; rendering (SVG/PNG/PDF, or showing the drawing inline in a
notebook) needs Graphviz's ``dot`` program, and its absence is a clear :class:`GraphvizNotFound`.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import Context
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.viz import grads as _grads
from tinygrad_cnn.viz.colors import (
    GROUP,
    HIGHLIGHT,
    INPUT,
    LEAF,
    NONFINITE,
    NOTE,
    OP,
    OUTPUT,
    PARAM,
    SAVED,
    ZERO,
    HTMLLabel,
    LogScale,
)
from tinygrad_cnn.viz.graph import (
    GraphView,
    Group,
    edge_role,
    fmt_number,
    fmt_shape,
    is_output_of,
    op_label,
    outputs,
    saved_items,
    source_text,
    visible,
    vjp_node,
)
from tinygrad_cnn.viz.layout import Plan

DEFAULT_MAX_NODES = 400
INSTALL = ("Graphviz's `dot` program was not found on the PATH, so the graph cannot be rendered "
           "(its DOT text can: save to a .dot file, or use .source; viz.text() needs nothing). "
           "Install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
           "(macOS), `conda install -c conda-forge graphviz`, or see https://graphviz.org/download/")


class GraphvizNotFound(RuntimeError):  # noqa: N818 (named after the condition)
    """Rendering needs Graphviz's ``dot``, which is not installed."""

    def __init__(self, message: str = INSTALL) -> None:
        super().__init__(message)


class GraphvizFailed(RuntimeError):  # noqa: N818 (named after the condition)
    """Graphviz's ``dot`` ran but failed (an exit status, a signal, or no output)."""


def _graphviz() -> Any:
    import graphviz  # imported here: `import tinygrad_cnn` stays light

    return graphviz


def _digraph_class() -> Any:
    graphviz = _graphviz()

    class Drawing(graphviz.Digraph):  # type: ignore[misc, valid-type]
        """A ``graphviz.Digraph`` that shows itself inline in notebooks (SVG) and, when ``dot`` is
        missing, shows the install line and the text form of the graph instead of a traceback."""

        text_of: tuple[tuple[Any, ...], bool] | None = None  # (roots, backward) of the text form

        def node(self, name: str, label: str | None = None, **attrs: Any) -> None:
            super().node(name, _plain(graphviz, label), **_plain_attrs(graphviz, attrs))

        def edge(self, tail: str, head: str, label: str | None = None, **attrs: Any) -> None:
            super().edge(tail, head, _plain(graphviz, label), **_plain_attrs(graphviz, attrs))

        @property
        def text_form(self) -> str | None:
            """The text form of the drawn graph (:func:`~tinygrad_cnn.viz.text`)."""
            if self.text_of is None:
                return None
            from tinygrad_cnn.viz.text import text

            roots, backward = self.text_of
            return text(*roots, backward=backward)

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any
                              ) -> dict[str, str]:
            if shutil.which("dot") is None:
                return {"text/plain": f"{INSTALL}\n\n{self.text_form or self.source}"}
            return {"image/svg+xml": self.pipe(format="svg", encoding="utf-8")}

        def save_as(self, path: str | Path) -> Path:
            """Write ``.svg``/``.png``/``.pdf`` (needs ``dot``) or ``.dot`` (DOT text)."""
            return render(self, path)

    return Drawing


# ----------------------------------------------------------------------------------- helpers
def _plain(graphviz: Any, text: str | None) -> Any:
    """Plain text stays plain: ``<cell>:3 in <module>`` is not an HTML label."""
    if text is None or isinstance(text, HTMLLabel):
        return text
    return graphviz.nohtml(text)


def _plain_attrs(graphviz: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(graphviz, _literal(v)) if k in ("tooltip", "xlabel") else v
            for k, v in attrs.items()}


def _literal(text: Any) -> Any:
    """A plain label or tooltip drawn as written: a backslash is one (a name ending in one
    escaped the closing quote: a DOT syntax error), and control characters but the line break
    are dropped (a NUL stops ``dot``)."""
    if not isinstance(text, str) or isinstance(text, HTMLLabel):
        return text
    if "\\" in text or not text.replace("\n", "").isprintable():
        text = "".join(c for c in text if c.isprintable() or c == "\n").replace("\\", "\\\\")
    return text


def _esc(text: str) -> str:
    """Escape text for a record label (``&`` too: Graphviz reads ``&amp;`` in any label as an
    entity, so a name holding one would lose its ``amp;``)."""
    for ch in "\\{}|<>":
        text = text.replace(ch, "\\" + ch)
    return text.replace("&", "&amp;").replace("\n", " ")


def _box_text(text: str) -> str:
    """Text for a plain (non-record) label, drawn as written (see :func:`_esc`)."""
    return text.replace("\\", "\\\\").replace("&", "&amp;")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _record(name: str | None, shape: Any, dtype: Any, *extra: str | None) -> str:
    """A record label; ``name`` as the drawing shows it (already :func:`visible`: the view's
    names are, and a tensor's own is passed through it once -- twice doubled its backslashes)."""
    fields = [_esc(name)] if name else []
    fields.append(_esc(fmt_shape(shape)))
    fields.append(_esc(str(dtype)))
    fields.extend(_esc(e) for e in extra if e)
    return "{" + "|".join(fields) + "}"


def _is_param(t: Tensor) -> bool:
    from tinygrad_cnn.nn.module import Parameter

    return isinstance(t, Parameter)


def _targets(highlight: Any) -> list[Any]:
    if highlight is None:
        return []
    if isinstance(highlight, (Context, Tensor)):
        return [highlight]
    if isinstance(highlight, (str, bytes)) or not hasattr(highlight, "__iter__"):
        raise TypeError(f"draw: highlight is {a_type(highlight)}; pass a graph node (a "
                        "Context, e.g. an AnomalyError's .node), a tensor, or a list of them")
    items = list(highlight)
    for i, h in enumerate(items):
        if not isinstance(h, (Context, Tensor)):
            raise TypeError(f"draw: highlight item {i} is {a_type(h)}; pass graph nodes "
                            "(a Context, e.g. an AnomalyError's .node) or tensors")
    return items


# --------------------------------------------------------------------------------------- drawing
def draw(*roots: Tensor, backward: bool = False, show_saved: bool = False,
         max_nodes: int | None = DEFAULT_MAX_NODES, rankdir: str = "TB",
         cluster_modules: bool = True, show_attrs: bool = True, title: str | None = None,
         show_source: bool = False, highlight: Any = None, collapse: bool = True,
         expand: Iterable[str] = (), legend: bool = True) -> Any:
    """Draw the graph that made ``roots``; returns a ``graphviz.Digraph`` (inline SVG in notebooks).

    ``backward=False``: the forward graph -- tensors and the ops between them.
    ``backward=True``: the backward graph -- the VJP nodes in the order ``backward()`` runs them,
    edges in the direction gradients flow, labelled with gradient shapes; leaves and parameters by
    name. After a backward run inside ``record_gradients(...)`` every node is coloured by its
    gradient's norm and the edges carry the norms; before any backward, nodes say "not computed".
    ``show_saved``: also the tensors each op saved for its VJP (backward graph), named.
    ``show_source``: print each op's source line in its box (it is always in the tooltip).
    ``highlight``: a node (``Context``, e.g. ``AnomalyError.node``) or tensor, or a list of them,
    drawn red.
    ``collapse``: draw runs of identical blocks (ResNet stages, deep MLPs) as one ``×N`` box;
    ``expand``: module paths to keep open (``["layers.3"]`` opens that block of a run, the others
    stay ``×N`` boxes; the run's parent opens all its blocks; ``["*"]`` opens everything). A path
    that names no module of the graph is a ValueError listing the paths there.
    ``max_nodes``: above about this many nodes, collapse modules (deepest first) and then leave
    out the ops farthest from the outputs; a note says what was hidden. ``None``: draw everything.
    A highlighted op is never left out: it is drawn with the ops that join it to the rest when
    they fit in another ``max_nodes``, else on its own, with a note saying so.
    ``cluster_modules``: group the ops of each module (``conv1``, ``fc2``) in a dashed box.
    """
    if not roots:
        raise ValueError("draw: pass the tensors whose graph to draw, e.g. viz.draw(loss)")
    for i, r in enumerate(roots):
        if not isinstance(r, Tensor):
            raise TypeError(f"draw: root {i} is {a_type(r)}, not a Tensor")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw: rankdir must be TB, LR, BT or RL, got {rankdir!r}")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(
            max_nodes, (int, np.integer))):
        raise TypeError(f"draw: max_nodes must be an int or None, got {max_nodes!r}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be positive or None, got {max_nodes}")
    view = GraphView(roots)
    marked = _targets(highlight)
    node_ids = {id(c) for c in view.nodes}
    leaf_ids = {id(t) for t in view.leaves}
    keep: list[Context] = []
    for h in marked:
        ctx = h if isinstance(h, Context) else h.grad_fn
        if ctx is not None:
            if id(ctx) not in node_ids:
                raise ValueError(f"draw: the highlighted {ctx.fn.name} node (created at "
                                 f"{source_text(ctx)}) is not in the graph of the drawn tensors")
            keep.append(ctx)
        elif id(h) not in leaf_ids and id(h) not in view.root_ids:
            raise ValueError("draw: the highlighted tensor is not in the graph of the drawn tensors")
    expand = _check_expand(expand, view)
    plan = Plan(view, backward, max_nodes, collapse, expand, keep)
    Drawing = _digraph_class()
    g = Drawing(name="backward" if backward else "forward", format="svg")
    g.attr(rankdir=rankdir, fontname="Helvetica", fontsize="11", nodesep="0.25", ranksep="0.35")
    if len(plan.units) > 150:  # big graphs: cheaper layout passes (a 3,000-op graph in seconds)
        # (newrank: one global ranking; the default one took 23 s, of 24, on a 10,000-op chain
        # whose edges carry labels -- the step-through of backward -- and 1 s with it)
        g.attr(mclimit="0.2", nslimit="0.05", nslimit1="0.05", remincross="false",
               newrank="true")
    g.attr("node", fontname="Helvetica", fontsize="10", margin="0.08,0.03", height="0.3")
    g.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.6")
    if title:  # drawn literally: a backslash is one (not an escape of Graphviz's: "C:\\runs\\"
        # ate the next node), a line break breaks the line, other control characters are dropped
        shown = "".join(c for c in title if c.isprintable() or c in "\n\t").replace("\t", " ")
        g.attr(label=_graphviz().nohtml(shown.replace("\\", "\\\\").replace("\n", "\\n")),
               labelloc="t", fontsize="13")  # (nohtml: "<b>x</b>" is text, not markup)
    hl = {id(h) if not isinstance(h, Tensor) or h.grad_fn is None else id(h.grad_fn)
          for h in marked}
    painter = _Backward(g, view, plan, show_saved, show_source, hl) if backward else \
        _Forward(g, view, plan, cluster_modules, show_attrs, show_source, hl)
    painter.draw()
    notes = list(plan.notes)
    if plan.dropped:
        notes.append(f"… {plan.dropped:,} earlier ops not shown (max_nodes={max_nodes})")
    for k, text in enumerate(notes):
        g.node("omitted" if k == len(notes) - 1 and plan.dropped else f"note{k}", text,
               shape="note", style="filled", fillcolor=NOTE)
    if legend:
        painter.legend()
    g.text_of = (roots, backward)
    return g


def _check_expand(expand: Iterable[str], view: GraphView) -> list[str]:
    """``expand`` as a list, each path naming a module of the graph (``"*"``: all)."""
    if isinstance(expand, str):
        raise TypeError(f"draw: expand must be a list of module paths, e.g. [{expand!r}], not a "
                        "str")
    paths = list(expand)
    known: list[str] = []  # every module path the ops ran in, parents included, in forward order
    seen: set[str] = set()
    for ctx in view.forward:
        scope = ctx.scope or ""
        parts = scope.split(".") if scope else []
        for n in range(1, len(parts) + 1):
            path = ".".join(parts[:n])
            if path not in seen:
                seen.add(path)
                known.append(path)
    for path in paths:
        if not isinstance(path, str):
            raise TypeError(f"draw: expand holds {a_type(path)}; expected module paths "
                            "(str)")
        if path not in seen and path not in ("*", ""):
            some = ", ".join(repr(k) for k in known[:8]) + (", …" if len(known) > 8 else "")
            raise ValueError(f"draw: expand names {path!r}, which is no module of this graph; "
                             + (f"module paths here: {some} ('*' opens all)" if known else
                                "this graph ran in no module"))
    return paths


def _op_style(hl: bool) -> dict[str, str]:
    if hl:
        return {"fillcolor": HIGHLIGHT, "color": "#b30000", "penwidth": "2.5"}
    return {"fillcolor": OP}


def _receives(ng: _grads.NodeGrads | None, stat: _grads.GradStat | None) -> str:
    """A VJP node's tooltip of what it received: each output's gradient for an op with several."""
    if ng is not None and len(ng.received_all) > 1:
        return "receives " + "; ".join(
            f"output {k}: {st.describe() if st is not None else 'no gradient'}"
            for k, st in enumerate(ng.received_all))
    return f"receives {stat.describe()}" if stat is not None else ""


def _tooltip(ctx: Context, extra: str = "") -> str:
    parts = [source_text(ctx) or "created by tinygrad_cnn itself (no line of user code)"]
    if ctx.scope:
        parts.append(f"module {ctx.scope}")
    if extra:
        parts.append(extra)
    return " | ".join(parts)


def _group_tooltip(gr: Group) -> str:
    parts = [source_text(gr.members[0]) or "", f"{len(gr.members)} ops",
             f"expand=[{gr.paths[0].split('–')[0].split(' ')[0]!r}] "
             + ("opens the first block" if gr.count > 1 else "draws them")]
    return " | ".join(p for p in parts if p)


def _group_label(gr: Group, n_params: int, extra: str = "") -> str:
    # (module names as written: `b\N` is no Graphviz escape -- the node's id -- nor `a\l` a
    # line break, and `&amp;` no entity)
    lines = [_box_text(gr.title), _box_text(gr.summary)]
    if n_params:
        lines.append(f"{n_params} parameter tensor{'s' if n_params != 1 else ''} inside")
    if extra:
        lines.append(extra)
    return "\n".join(lines)


class _Painter:
    def __init__(self, g: Any, view: GraphView, plan: Plan) -> None:
        self.g, self.view, self.plan = g, view, plan
        self.kinds: list[tuple[str, dict[str, str]]] = []  # legend entries, in first-use order
        self.drawn: set[str] = set()
        # in a big drawing a leaf used by many ops is drawn beside each of them: one node with
        # edges to ops far apart makes Graphviz route hundreds of long edges (minutes of layout)
        self.split = len(plan.units) > 150

    def leaf_id(self, t: Tensor, near: str | None) -> tuple[str, str | None]:
        """The node id of leaf ``t`` as drawn beside node ``near``, and a note on shared copies."""
        j = self.view.leaf_index[id(t)]
        uses = len(self.view.consumers().get(id(t), ()))
        if self.split and near is not None and uses > 1:
            return f"l{j}_{near}", f"one of {uses} uses"
        return f"l{j}", None

    def used(self, text: str, **style: str) -> None:
        if all(t != text for t, _ in self.kinds):
            self.kinds.append((text, style))

    def node_once(self, nid: str, label: str, **attrs: str) -> str:
        if nid not in self.drawn:
            self.drawn.add(nid)
            self.g.node(nid, label, **attrs)
        return nid

    def group_id(self, gr: Group) -> str:
        return f"g{self.plan.groups.index(gr)}"

    def legend(self, extra: str | None = None) -> None:
        items = self.kinds
        if not items and extra is None:
            return
        with self.g.subgraph(name="cluster_legend") as lg:
            lg.attr(label="legend", style="rounded", color="#bbbbbb", fontsize="9")
            names = []
            for k, (text, style) in enumerate(items):
                nid = f"legend{k}"
                base = {"shape": "box", "style": "rounded,filled", "fontsize": "8"}
                base.update(style)
                lg.node(nid, text, **base)
                names.append(nid)
            if extra is not None:
                lg.node("legend_scale", extra, shape="plaintext")
                names.append("legend_scale")
            for a, b in itertools.pairwise(names):
                lg.edge(a, b, style="invis")


class _Forward(_Painter):
    def __init__(self, g: Any, view: GraphView, plan: Plan, cluster_modules: bool,
                 show_attrs: bool, show_source: bool, hl: set[int]) -> None:
        super().__init__(g, view, plan)
        self.cluster_modules, self.show_attrs, self.show_source, self.hl = (
            cluster_modules, show_attrs, show_source, hl)

    def compact(self, ctx: Context) -> bool:
        """In a big drawing an unnamed intermediate tensor is no node of its own: the op's box
        gives its shape and edges run op to op (half the nodes: Graphviz's layout of a long graph
        grows faster than linearly)."""
        if not self.split or is_output_of(ctx) or self.plan.unit(ctx) is not ctx:
            return False
        out = outputs(ctx)[0][0]
        return not self.view.is_root(ctx) and (out is None or not out.name)

    def tensor_out(self, ctx: Context) -> str:
        """The record of ``ctx``'s output (drawn on first use), or its op in a compact drawing."""
        k = self.view.index[id(ctx)]
        if self.compact(ctx):
            return f"op{k}"
        outs = outputs(ctx)
        out, shape, dtype = outs[0]
        is_root = self.view.is_root(ctx)
        if is_root:
            self.used("tensor you drew", fillcolor=OUTPUT, shape="record")
        else:
            self.used("intermediate tensor", fillcolor="white", shape="record")
        # (the view's name: an earlier version of a tensor changed in place is `y@1`, a second
        # result named alike `h#2` -- as the text form names them)
        named = self.view.named(ctx)
        label = _record(named if named is not None else
                        visible(out.name) if out is not None and out.name else None, shape, dtype)
        return self.node_once(f"t{k}", label, shape="record", style="filled",
                              fillcolor=OUTPUT if is_root else "white", id=f"t{k}")

    def leaf(self, t: Tensor, near: str | None = None) -> str:
        lid, shared = self.leaf_id(t, near)
        param = _is_param(t)
        self.used("parameter" if param else "leaf that requires grad", shape="record",
                  fillcolor=PARAM if param else LEAF)
        color = OUTPUT if id(t) in self.view.root_ids else PARAM if param else LEAF
        style = "filled"
        extra: dict[str, str] = {}
        if id(t) in self.hl:
            extra = {"color": "#b30000", "penwidth": "2.5"}
            color = HIGHLIGHT
            self.used("highlighted", shape="box", fillcolor=HIGHLIGHT, color="#b30000")
        return self.node_once(lid, _record(self.view.leaf_name(t), t.shape, t.dtype, shared),
                              shape="record", style=style, fillcolor=color, id=lid, **extra)

    def source_of(self, ctx: Context, i: int, near: str | None = None) -> str:
        """The node an input edge of ``ctx`` starts from (``near``: the node it goes to)."""
        e = ctx.next[i]
        if isinstance(e, Context):
            unit = self.plan.unit(e)
            if unit is None:  # left out by max_nodes: a dashed stub
                k = self.view.index[id(e)]
                return self.node_once(f"t{k}", _record(None, *outputs(e)[0][1:]), shape="record",
                                      style="filled,dashed", fillcolor="white", id=f"t{k}")
            return self.tensor_out(e)
        if isinstance(e, Tensor):
            return self.leaf(e, near)
        name = self.view.const_name(ctx, i)
        if self.view.is_scalar_constant(ctx, i):
            self.used("1.0: a scalar constant, by value", shape="plaintext", style="",
                      fillcolor="white")
            k = self.view.index[id(ctx)]
            return self.node_once(f"c{k}_{i}", name, shape="plaintext", fontsize="9",
                                  id=f"c{k}_{i}")
        self.used("input or constant (no grad)", shape="record", fillcolor=INPUT)
        shape, dtype = ctx.in_meta[i]
        j = self.view.const_index.get(name)
        cid = f"c{j}" if j is not None else f"c{self.view.index[id(ctx)]}_{i}"
        return self.node_once(cid, _record(None if name.startswith("const") else name, shape,
                                           dtype), shape="record", style="filled",
                              fillcolor=INPUT, id=cid)

    def draw(self) -> None:
        clusters: dict[str, list[tuple[str, str, dict[str, str]]]] = {}
        if self.split and len({u.scope for u in self.plan.units if isinstance(u, Context)}) > 60:
            self.cluster_modules = False  # hundreds of module boxes: minutes of layout, no help
        for unit in self.plan.units:
            if isinstance(unit, Group):
                self.draw_group(unit)
                continue
            ctx = unit
            k = self.view.index[id(ctx)]
            oid = f"op{k}"
            if is_output_of(ctx):  # output k of an op with several: a tensor beside the op
                op = ctx.next[0]
                if self.plan.unit(op) is op:
                    self.g.edge(f"op{self.view.index[id(op)]}", self.tensor_out(ctx),
                                label=f"output {ctx.index}", fontcolor="#555555", fontsize="8")
                else:
                    self.tensor_out(ctx)
                continue
            label = op_label(ctx) if self.show_attrs else ctx.fn.name
            if self.compact(ctx):
                label += f" → {fmt_shape(outputs(ctx)[0][1])}"
            if self.show_source and source_text(ctx):
                label += f"\n{source_text(ctx)}"
            attrs = {"shape": "box", "style": "rounded,filled", "tooltip": _tooltip(ctx),
                     "id": oid, **_op_style(id(ctx) in self.hl)}
            self.used("op", shape="box", fillcolor=OP)
            if id(ctx) in self.hl:
                self.used("highlighted", shape="box", fillcolor=HIGHLIGHT, color="#b30000")
            if self.cluster_modules and ctx.scope:
                clusters.setdefault(ctx.scope, []).append((oid, label, attrs))
            else:
                self.g.node(oid, label, **attrs)
            for i in range(len(ctx.next)):
                src = self.source_of(ctx, i, oid)
                role = edge_role(ctx, i)
                if role:
                    self.g.edge(src, oid, label=role, fontcolor="#555555", fontsize="8")
                else:
                    self.g.edge(src, oid)
            if getattr(ctx, "n_outputs", 1) == 1 and not self.compact(ctx):  # else: no record
                self.g.edge(oid, self.tensor_out(ctx))
        for k, (scope, ops) in enumerate(clusters.items()):  # in the order the modules ran
            self.used("module", shape="box", style="rounded,dashed", fillcolor="white",
                      color="#999999")
            # (a name of letters, digits, dots, dashes and underscores is the id; any other --
            # ModuleDict keys hold anything, a trailing backslash too -- is only shown, and the
            # id is by number)
            ident = scope if re.fullmatch(r"[\w.\-]+", scope, re.ASCII) else f"#{k}"
            with self.g.subgraph(name=f"cluster_{ident}") as sub:
                # the module's name is a node beside its first op, not the cluster's label: edges
                # are routed around nodes, so none runs across the name
                sub.attr(label="", style="rounded,dashed", color="#999999")
                name_id = f"m_{ident}"
                sub.node(name_id, visible(scope).replace("\\", "\\\\"), shape="plaintext",
                         fontsize="9", fontcolor="#666666", height="0.2", margin="0.02,0.0",
                         id=name_id)
                for oid, label, attrs in ops:
                    sub.node(oid, label, **attrs)
                with sub.subgraph() as same:
                    same.attr(rank="same")
                    same.node(name_id)
                    same.node(ops[0][0])
        for r in self.view.roots:  # roots that are leaves themselves
            if r.grad_fn is None:
                if r.requires_grad:
                    self.leaf(r)
                else:
                    self.used("tensor you drew", fillcolor=OUTPUT, shape="record")
                    self.node_once("root_leaf", _record(visible(r.name) if r.name else None, r.shape,
                                                                r.dtype), shape="record",
                                   style="filled", fillcolor=OUTPUT)

    def draw_group(self, gr: Group) -> None:
        gid = self.group_id(gr)
        members = {id(c) for c in gr.members}
        uses = self.view.consumers()
        params = {id(e) for c in gr.members for e in c.next if isinstance(e, Tensor)}
        outside_params = {id(e) for c in self.view.forward if id(c) not in members
                          for e in c.next if isinstance(e, Tensor)}
        hidden = params - outside_params
        self.used("×N repeated blocks / collapsed module", shape="box", fillcolor=GROUP,
                  peripheries="2")
        self.g.node(gid, _group_label(gr, len(hidden)), shape="box", style="rounded,filled",
                    fillcolor=GROUP, peripheries="2", id=gid,
                    tooltip=_group_tooltip(gr))
        seen: set[str] = set()
        for c in gr.members:
            for i, e in enumerate(c.next):
                if isinstance(e, Context) and id(e) in members:
                    continue
                if isinstance(e, Tensor) and id(e) in hidden:
                    continue
                if e is None and self.view.is_scalar_constant(c, i):
                    continue  # the blocks' own scalars stay inside the box
                src = self.source_of(c, i, gid)
                if src not in seen:
                    seen.add(src)
                    self.g.edge(src, gid)
        for c in gr.members:  # outputs used after the box, or drawn
            used_outside = any(id(u) not in members for u, _ in uses.get(id(c), []))
            if used_outside or self.view.is_root(c):
                self.g.edge(gid, self.tensor_out(c))

    def legend(self, extra: str | None = None) -> None:
        if len(self.kinds) > 1:
            super().legend()


class _Backward(_Painter):
    def __init__(self, g: Any, view: GraphView, plan: Plan, show_saved: bool, show_source: bool,
                 hl: set[int]) -> None:
        super().__init__(g, view, plan)
        self.show_saved, self.show_source, self.hl = show_saved, show_source, hl
        vjps = [c for c in view.nodes if not is_output_of(c)]  # output nodes run no VJP
        self.steps = {id(c): s for s, c in enumerate(vjps, start=1)}
        self.shown = _grads.shown_pass(view.nodes, view.roots)  # one recorded pass, not a mix
        self.recorded = self.shown.pass_id is not None
        self.leaf_stats = _grads.leaf_stats(view.nodes, view.leaves, self.shown.pass_id)
        norms = [s.norm for s in self.leaf_stats.values() if s is not None]
        for c in view.nodes:
            ng = self.node_grads(c)
            if ng is not None:
                norms.append(ng.received.norm)
        self.scale = LogScale(norms)
        # (coloured once anything was recorded: all-zero gradients too, dotted, not the grey
        # of an uncoloured op)
        self.coloured = bool(norms)
        self.missing = _grads.missing(view.nodes)

    def node_grads(self, ctx: Context) -> _grads.NodeGrads | None:
        """What the VJP of ``ctx`` did in the recorded pass this drawing shows."""
        return _grads.node_grads(ctx, self.shown.pass_id) if self.recorded else None

    def vjp_id(self, ctx: Context) -> str:
        ctx = vjp_node(ctx)  # a gradient sent to an output of an op goes to the op's VJP
        unit = self.plan.unit(ctx)
        if isinstance(unit, Group):
            return self.group_id(unit)
        return f"v{self.view.index[id(ctx)]}"

    def target_id(self, e: Context) -> str:
        """Where an edge sending a gradient to ``e``'s VJP ends: its node, or, where max_nodes
        left it out, a dashed stub (the edge and its norm were dropped silently: t153)."""
        if self.plan.unit(e) is not None:
            return self.vjp_id(e)
        e = vjp_node(e)
        k = self.view.index[id(e)]
        self.used("VJP left out (max_nodes)", shape="box", style="filled,dashed",
                  fillcolor="white")
        return self.node_once(f"h{k}", f"{e.fn.name} VJP\n(left out)", shape="box",
                              style="filled,dashed", fillcolor="white", id=f"h{k}")

    def grad_text(self, stat: _grads.GradStat | None, ctx: Context | None = None) -> str:
        if stat is not None:
            return stat.short()
        return f"grad {self.missing if ctx is None else _grads.missing_at(ctx, self.missing)}"

    def node_style(self, stat: _grads.GradStat | None, hl: bool, base: str) -> dict[str, str]:
        if hl:
            self.used("highlighted", shape="box", fillcolor=HIGHLIGHT, color="#b30000")
            return {"fillcolor": HIGHLIGHT, "color": "#b30000", "penwidth": "2.5",
                    "style": "rounded,filled"}
        if stat is None:
            self.used(f"gradient {self.missing}", shape="box", style="rounded,filled,dashed",
                      fillcolor="white")
            return {"fillcolor": "white", "style": "rounded,filled,dashed"}
        if not self.coloured:
            return {"fillcolor": base, "style": "rounded,filled"}
        style = {"style": "rounded,filled", **self.scale.style(stat)}
        if stat.finite and stat.norm == 0:  # (not the grey of an uncoloured op)
            style["style"] = "rounded,filled,dotted"
            self.used("gradient exactly 0", shape="box", style="rounded,filled,dotted",
                      fillcolor=ZERO)
        if not stat.finite:
            self.used("NaN or Inf in the gradient", shape="box", fillcolor=NONFINITE,
                      fontcolor="white")
        return style

    def leaf_node(self, t: Tensor, near: str | None = None) -> str:
        lid, shared = self.leaf_id(t, near)
        if lid in self.drawn:
            return lid
        self.drawn.add(lid)
        stat = self.leaf_stats.get(id(t))
        param = _is_param(t)
        base = PARAM if param else LEAF
        kind = "parameter (name, shape, ‖grad‖)" if param else "leaf with requires_grad"
        outline = base if not param else "#d9822b"
        if self.coloured:  # (filled by its gradient: the kind is the outline)
            self.used(f"{kind}: outline; fill: ‖grad‖", shape="record", fillcolor="white",
                      color=outline, penwidth="2.5")
        else:
            self.used(kind, shape="record", fillcolor=base)
        style = self.node_style(stat, id(t) in self.hl, base)
        style["style"] = style["style"].replace("rounded,", "")
        if self.coloured and id(t) not in self.hl:  # (also where its gradient is not computed)
            style.update(color=outline, penwidth="2.5")
        # (a leaf without a gradient was not reached -- a backward that stopped early, or
        # grad() of other inputs: "not computed", whether or not the pass was recorded; t153)
        shown = (stat.short().replace("g =", "grad =").replace("‖g‖", "‖grad‖")
                 if stat is not None else "grad not computed")
        if stat is not None and self.recorded and t._hooks:  # (its hooks then made .grad)
            shown += " before its hooks"
        self.g.node(lid, _record(self.view.leaf_name(t), t.shape, t.dtype, shown, shared),
                    shape="record", id=lid, **style)
        return lid

    def edge_label(self, shape: Any, stat: _grads.GradStat | None) -> str:
        text = fmt_shape(shape)
        if stat is not None:
            text += f"\n{stat.short()}"
        return text

    def draw(self) -> None:
        g, view = self.g, self.view
        self.used("output (gradient seed)", shape="record", fillcolor=OUTPUT)
        for n, r in enumerate(view.roots):
            rid = f"r{n}"
            # the seed backward() got (recorded: what the root's VJP received, when no other
            # root feeds it), else what backward() seeds by default (1 for a scalar)
            ng = self.node_grads(r.grad_fn) if r.grad_fn is not None else None
            fed = sum(1 for q in view.roots if q.grad_fn is r.grad_fn) == 1 and not any(
                e is r.grad_fn for c in view.nodes for e in (getattr(c, "next", ()) or ()))
            got = ng.received if ng is not None and fed and not is_output_of(r.grad_fn) else None
            if got is not None:
                seed = got.short().replace("g =", "grad =").replace("‖g‖", "‖grad‖")
                edge = f"\n{got.short()}"
            elif n in self.shown.unseeded:  # (the recorded pass started at another root)
                seed, edge = "not seeded: the recorded backward started elsewhere", ""
            else:  # not recorded: what backward() seeds, not a gradient that was computed
                # (the edge carries no value: the VJP it feeds says "not computed" / "not
                # recorded", as the text form does; backward(gradient=5) may have seeded 5)
                seed = "seed: backward()'s (1 by default)" if r.numel() == 1 else "seed: given"
                edge = ""
            g.node(rid, _record(visible(r.name or "output"), r.shape, r.dtype, seed), shape="record",
                   style="filled", fillcolor=OUTPUT, id=rid)
            if r.grad_fn is not None and self.plan.unit(r.grad_fn) is not None:
                g.edge(rid, self.vjp_id(r.grad_fn), label=fmt_shape(r.shape) + edge,
                       id=f"e{rid}")
            elif r.grad_fn is None and r.requires_grad:
                g.edge(rid, self.leaf_node(r))
        for unit in reversed(self.plan.units):  # newest first: the engine's order
            if isinstance(unit, Group):
                self.draw_group(unit)
            elif not is_output_of(unit):
                self.draw_vjp(unit)
        if self.show_saved:
            self.used("saved for backward", shape="record", fillcolor=SAVED)

    def draw_vjp(self, ctx: Context) -> None:
        g = self.g
        vid = self.vjp_id(ctx)
        ng = self.node_grads(ctx)
        stat = ng.received if ng is not None else None
        out = outputs(ctx)[0][0]
        if stat is None and out is not None and out.retains_grad and out.grad is not None:
            stat = _grads.GradStat.of(out.grad._data)
        # (recorded, but this VJP did not run -- backward(inputs=...) needed no path through
        # it: no run-order number, as the text form says "(did not run)")
        idle = self.recorded and ng is None and stat is None and \
            _grads.watched(ctx, self.shown.pass_id)
        unwatched = self.recorded and ng is None and stat is None and not idle
        label = (f"{ctx.fn.name} VJP (did not run)" if idle else
                 f"{self.steps[id(ctx)]}. {ctx.fn.name} VJP") + (
            "\ngrad not recorded" if unwatched else f"\n{self.grad_text(stat, ctx)}")
        if ng is not None and len(ng.received_all) > 1:  # an op with several outputs
            label = f"{self.steps[id(ctx)]}. {ctx.fn.name} VJP\n" + "\n".join(
                f"output {k}: {st.short() if st is not None else 'no gradient'}"
                for k, st in enumerate(ng.received_all))
        if self.show_source and source_text(ctx):
            label += f"\n{source_text(ctx)}"
        if self.coloured:  # (filled by its gradient's norm: the swatch is not a colour)
            self.used("op VJP, numbered in run order; fill: ‖grad‖", shape="box",
                      fillcolor="white")
        else:
            self.used("op VJP, numbered in run order", shape="box", fillcolor=OP)
        g.node(vid, label, shape="box", id=vid,
               tooltip=_tooltip(ctx, _receives(ng, stat)),
               **self.node_style(stat, id(ctx) in self.hl, OP))
        self.edges_from(ctx, vid, ng, skip=set())
        if self.show_saved:
            self.saved_nodes(ctx, vid)

    def edges_from(self, ctx: Context, vid: str, ng: _grads.NodeGrads | None, skip: set[int]
                   ) -> None:
        for i, e in enumerate(ctx.next):
            if e is None or id(e) in skip:
                continue
            if isinstance(e, Context):
                dst = self.target_id(e)
            else:
                dst = self.leaf_node(e, vid)
            stat = ng.sent[i] if ng is not None and i < len(ng.sent) else None
            label = self.edge_label(ctx.in_meta[i][0], stat)
            role = edge_role(ctx, i)
            if role:
                label = f"{role}: {label}"
            if is_output_of(e):
                label = f"to output {e.index}\n{label}"
            self.g.edge(vid, dst, label=label, id=f"e{vid}_{i}")

    def draw_group(self, gr: Group) -> None:
        gid = self.group_id(gr)
        members = {id(c) for c in gr.members}
        stats = [ng.received for c in gr.members if (ng := self.node_grads(c)) is not None]
        steps = sorted(self.steps[id(c)] for c in gr.members if id(c) in self.steps)
        params = {id(e) for c in gr.members for e in c.next if isinstance(e, Tensor)}
        outside = {id(e) for c in self.view.forward if id(c) not in members for e in c.next
                   if isinstance(e, Tensor)}
        hidden = params - outside
        if stats:
            finite = [s.norm for s in stats if s.finite]
            extra = (f"‖g‖ {fmt_number(min(finite))} … {fmt_number(max(finite))}" if finite
                     else "NaN/Inf")
            top = max(stats, key=lambda s: (not s.finite, s.norm))
        else:
            extra, top = f"grad {self.missing}", None
        label = f"steps {steps[0]}–{steps[-1]}: VJPs of\n" + _group_label(gr, len(hidden), extra)
        self.used("×N repeated blocks / collapsed module", shape="box", fillcolor=GROUP,
                  peripheries="2")
        style = self.node_style(top, any(id(c) in self.hl for c in gr.members), GROUP)
        if top is not None and not self.coloured:
            style["fillcolor"] = GROUP
        self.g.node(gid, label, shape="box", peripheries="2", id=gid, tooltip=_group_tooltip(gr),
                    **style)
        # one edge per target, carrying every gradient the box sends it: a residual block's
        # input gets one from its main path and one from its skip (t153: only the first was
        # drawn, its norm not what the target receives)
        sent: dict[str, list[tuple[Any, Any]]] = {}
        for c in gr.members:
            ng = self.node_grads(c)
            for i, e in enumerate(c.next):
                if e is None or (isinstance(e, Context) and id(e) in members):
                    continue
                if isinstance(e, Tensor) and id(e) in hidden:
                    continue
                if isinstance(e, Context):
                    dst = self.target_id(e)
                else:
                    dst = self.leaf_node(e, gid)
                stat = ng.sent[i] if ng is not None and i < len(ng.sent) else None
                sent.setdefault(dst, []).append((c.in_meta[i][0], stat))
        for k, (dst, parts) in enumerate(sent.items(), 1):
            shape, stat = parts[0]
            label = self.edge_label(shape, stat)
            stats = [st for _, st in parts if st is not None]
            if len(parts) > 1 and stats:  # (several gradients: each, added at the target)
                label = (f"{fmt_shape(shape)}\n" + " + ".join(st.short() for st in stats)
                         + f"\n({len(parts)} gradients, added there)")
            self.g.edge(gid, dst, label=label, id=f"e{gid}_{k}")

    def saved_nodes(self, ctx: Context, vid: str) -> None:
        items = saved_items(ctx)
        k = self.view.index[id(ctx)]
        if items is None:
            sid = f"s{k}"
            self.g.node(sid, "saved tensors freed\n(backward ran without retain_graph)",
                        shape="note", style="filled", fillcolor=SAVED, fontsize="8", id=sid)
            self.g.edge(sid, vid, style="dashed", arrowhead="none")
            return
        for j, (what, shape, dtype) in enumerate(items):
            sid = f"s{k}_{j}"
            self.g.node(sid, _record(f"saved {what}", shape, dtype), shape="record",
                        style="filled", fillcolor=SAVED, fontsize="8", id=sid)
            self.g.edge(sid, vid, style="dashed", arrowhead="none")

    def legend(self, extra: str | None = None) -> None:
        if self.coloured and not self.scale.empty:
            super().legend(self.scale.legend_label())
        else:  # (no scale where every gradient is 0: the dotted "exactly 0" entry says it)
            super().legend()


# --------------------------------------------------------------------------------------- files
def render(graph: Any, path: str | Path) -> Path:
    """Write ``graph`` to ``path``: ``.dot`` (or ``.gv``) as DOT text, ``.txt`` as the text form
    (:func:`~tinygrad_cnn.viz.text`), ``.svg``, ``.png``, ``.pdf``, ``.jpg``/``.jpeg`` through
    ``dot``; any other suffix is a ValueError. Raises :class:`GraphvizNotFound` without ``dot``."""
    from tinygrad_cnn._files import atomic_write, file_path_only

    def write(data: bytes) -> Path:  # whole or not at all: an existing drawing is never cut short
        atomic_write(path, lambda f: f.write(data), parents=False)  # (no folder made: as open)
        return path

    if not (hasattr(graph, "source") and callable(getattr(graph, "pipe", None))):
        raise TypeError(f"render: graph must be a drawing from viz.draw (or a graphviz Graph or "
                        f"Digraph), got {type(graph).__name__}; for an animation use "
                        "viz.animate(...).save(path)")
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise TypeError(f"render: path must be a str or Path, got {type(path).__name__}")
    file_path_only(path)  # (g.svg/ is a folder's name: Path would drop the slash)
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"render: {str(path)!r} is a folder; name a file in it, such as "
                                f"{str(path / ('graph' + (path.suffix or '.svg')))!r}")
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("dot", "gv"):
        return write(graph.source.encode())
    if fmt == "txt":
        text_form = getattr(graph, "text_form", None)
        if text_form is None:
            raise ValueError("render: this graph has no text form; use viz.text(...) for .txt")
        return write(text_form.encode())
    if fmt not in ("svg", "png", "pdf", "jpg", "jpeg"):
        raise ValueError(f"render: unknown format {path.suffix!r}; use .svg, .png, .pdf, .jpg, "
                         ".jpeg, .dot, .gv or .txt")
    return write(run_dot(graph, fmt, "render", f"{path} was not written"))


def run_dot(graph: Any, fmt: str, where: str, lost: str) -> bytes:
    """Graphviz's output of ``graph`` in format ``fmt``; :class:`GraphvizNotFound` without
    ``dot``, :class:`GraphvizFailed` (naming ``where`` and what is ``lost``) when it fails."""
    engine = getattr(graph, "engine", None) or "dot"
    exe = shutil.which(engine)
    if exe is None:
        raise GraphvizNotFound()
    # dot itself, with the whole source at once: graphviz's ``pipe`` writes line by line and
    # meets a BrokenPipeError, not dot's own message, when dot fails before reading it all
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=graph.source.encode(), capture_output=True,
                              check=False)
    except OSError as exc:  # (not executable)
        raise GraphvizFailed(f"{where}: could not run Graphviz's {engine}: {exc.strerror or exc}; "
                             f"{lost}") from None
    data = done.stdout
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        status = (f"died with signal {-done.returncode}" if done.returncode < 0
                  else f"exit status {done.returncode}")
        raise GraphvizFailed(f"{where}: Graphviz's {engine} failed ({status})"
                             + (f": {said[-1]}" if said else "") + f"; {lost}; "
                             "the .dot or .txt form needs no Graphviz")
    if not data:
        raise GraphvizFailed(f"{where}: Graphviz's dot gave no {fmt} output; {lost}")
    return data
