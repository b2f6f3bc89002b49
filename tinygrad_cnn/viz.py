"""Drawings of the graph with Graphviz: the forward graph, the backward graph, and the graph of a
gradient (a tensor made by ``grad(..., create_graph=True)`` is an ordinary tensor, so drawing it
shows the backward computation itself -- conv2d's input gradient appears as ``conv_transpose2d``).

Colours (the legend of the backward graph says the same):

* grey boxes: ops, labelled with their registry name and attributes (``conv2d stride=(2, 2)``);
* records ``name | shape | dtype``: tensors -- amber for parameters, blue for other leaves that
  require grad, pale blue for inputs and constants, green for the tensors you asked to draw;
* in the backward graph, orange: tensors an op saved for its VJP (``show_saved=True``).

Walks are iterative and the output depends only on the graph, never on ``id()`` or set order, so
the DOT text of one expression is the same on every run. ``max_nodes`` keeps the part nearest the
outputs and says how much it left out. Ops that ran inside a module (``model.conv1``) are grouped in
a cluster named after the module's path.

The DOT text needs nothing installed; rendering (SVG/PNG/PDF, or showing the drawing inline in a
notebook) needs Graphviz's ``dot`` program, and its absence is a clear :class:`GraphvizNotFound`.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, _collect
from tinygrad_cnn.backend import to_numpy
from tinygrad_cnn.tensor import Tensor

OP, INPUT, LEAF, PARAM, OUTPUT, SAVED, NOTE = ("#e6e6e6", "#deebf7", "#9ecae1", "#fdd49e",
                                               "#a1d99b", "#fdae6b", "#ffffff")
INSTALL = ("Graphviz's `dot` program was not found on the PATH, so the graph cannot be rendered "
           "(its DOT text can: save to a .dot file, or use .source). Install Graphviz: "
           "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
           "`conda install -c conda-forge graphviz`, or see https://graphviz.org/download/")


class GraphvizNotFound(RuntimeError):  # noqa: N818 (named after the condition)
    """Rendering needs Graphviz's ``dot``, which is not installed."""

    def __init__(self, message: str = INSTALL) -> None:
        super().__init__(message)


def _graphviz() -> Any:
    import graphviz  # imported here: `import tinygrad_cnn` stays light

    return graphviz


def _digraph_class() -> Any:
    graphviz = _graphviz()

    class Drawing(graphviz.Digraph):  # type: ignore[misc, valid-type]
        """A ``graphviz.Digraph`` that shows itself inline in notebooks (SVG) and, when ``dot`` is
        missing, shows the install line and its DOT text instead of a traceback."""

        def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any
                              ) -> dict[str, str]:
            if shutil.which("dot") is None:
                return {"text/plain": f"{INSTALL}\n\n{self.source}"}
            return {"image/svg+xml": self.pipe(format="svg", encoding="utf-8")}

        def save_as(self, path: str | Path) -> Path:
            """Write ``.svg``/``.png``/``.pdf`` (needs ``dot``) or ``.dot`` (DOT text)."""
            return render(self, path)

    return Drawing


# --------------------------------------------------------------------------------------- labels
def _fmt(value: Any) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"array{tuple(value.shape)}"
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, tuple) for v in value) \
            and all(len(v) == 2 and v[0] == v[1] for v in value):
        return str((value[0][0], value[1][0]))  # symmetric ((t, b), (l, r)) padding: (h, w)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, np.dtype):
        return str(value)
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# attribute values that change nothing (stride 1, no padding, ...) are left out of op labels
_NEUTRAL: dict[str, tuple[Any, ...]] = {
    "stride": ((1, 1),), "padding": (((0, 0), (0, 0)), (0, 0)), "dilation": ((1, 1),),
    "groups": (1,), "ceil_mode": (False,), "count_include_pad": (True,),
    "output_padding": ((0, 0),), "keepdim": (False,), "unique": (False, True),
}


def op_label(ctx: Context) -> str:
    """``conv2d stride=(2, 2) padding=(1, 1)``: the registry name and the attributes that change
    something."""
    parts = [ctx.fn.name]
    for k, v in ctx.attrs.items():
        if k.startswith("_") or v is None:
            continue
        if not hasattr(v, "shape") and v in _NEUTRAL.get(k, ()):
            continue
        parts.append(f"{k}={_fmt(v)}")
    return " ".join(parts)


def _esc(text: str) -> str:
    """Escape text for a record label."""
    for ch in "\\{}|<>":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", " ")


def _record(name: str | None, shape: Any, dtype: Any, extra: str | None = None) -> str:
    fields = [_esc(name)] if name else []
    fields.append(_esc(str(tuple(shape))))
    fields.append(_esc(str(dtype)))
    if extra:
        fields.append(_esc(extra))
    return "{" + "|".join(fields) + "}"


def _norm(t: Tensor | None) -> str | None:
    if t is None:
        return None
    return f"‖grad‖ = {float(np.sqrt((to_numpy(t.data).astype(np.float64) ** 2).sum())):.4g}"


def _is_param(t: Tensor) -> bool:
    from tinygrad_cnn.nn.module import Parameter

    return isinstance(t, Parameter)


def _keep(nodes: list[Context], max_nodes: int | None) -> tuple[list[Context], int]:
    """The ``max_nodes`` budget spent on the ops nearest the outputs. An op costs about itself, its
    output and one node per constant input."""
    if max_nodes is None:
        return nodes, 0
    budget, kept = max_nodes, []
    for ctx in sorted(nodes, key=lambda c: c.seq, reverse=True):
        budget -= 2 + sum(e is None for e in ctx.next)
        if budget < 0 and kept:
            break
        kept.append(ctx)
    return kept, len(nodes) - len(kept)


# --------------------------------------------------------------------------------------- drawing
def draw(*roots: Tensor, backward: bool = False, show_saved: bool = False,
         max_nodes: int | None = None, rankdir: str = "TB", cluster_modules: bool = True,
         show_attrs: bool = True, title: str | None = None) -> Any:
    """Draw the graph that made ``roots``; returns a ``graphviz.Digraph`` (inline SVG in notebooks).

    ``backward=False``: the forward graph -- tensors and the ops between them.
    ``backward=True``: the backward graph -- the VJP nodes in the order ``backward()`` runs them,
    with edges in the direction gradients flow, labelled with gradient shapes; leaves and
    parameters by name, with the norm of their ``.grad`` once a backward has run.
    ``show_saved``: also the tensors each op saved for its VJP (backward graph).
    ``max_nodes``: keep about that many nodes, nearest the outputs; a note says what was left out.
    ``cluster_modules``: group the ops of each module (``conv1``, ``fc2``) in a box.
    """
    for i, r in enumerate(roots):
        if not isinstance(r, Tensor):
            raise TypeError(f"draw: root {i} is a {type(r).__name__}, not a Tensor")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw: rankdir must be TB, LR, BT or RL, got {rankdir!r}")
    Drawing = _digraph_class()
    g = Drawing(name="backward" if backward else "forward", format="svg")
    g.attr(rankdir=rankdir, fontname="Helvetica", fontsize="11", nodesep="0.25", ranksep="0.35")
    g.attr("node", fontname="Helvetica", fontsize="10", margin="0.08,0.03", height="0.3")
    g.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.6")
    if title:
        g.attr(label=title, labelloc="t", fontsize="13")
    nodes = _collect([r.grad_fn for r in roots if r.grad_fn is not None])
    nodes, dropped = _keep(nodes, max_nodes)
    if backward:
        _draw_backward(g, roots, nodes, show_saved)
    else:
        _draw_forward(g, roots, nodes, cluster_modules, show_attrs)
    if dropped:
        g.node("omitted", f"… {dropped:,} earlier ops not shown (max_nodes={max_nodes})",
               shape="note", style="filled", fillcolor=NOTE)
    return g


class _Names:
    """Stable node ids in order of first appearance (no id() or addresses in the output)."""

    def __init__(self) -> None:
        self.ids: dict[int, str] = {}
        self.keep: list[Any] = []  # hold objects so their id()s stay unique while drawing

    def get(self, obj: Any, prefix: str) -> tuple[str, bool]:
        key = id(obj)
        if key in self.ids:
            return self.ids[key], False
        name = f"{prefix}{len(self.ids)}"
        self.ids[key] = name
        self.keep.append(obj)
        return name, True


def _draw_forward(g: Any, roots: Iterable[Tensor], nodes: list[Context], cluster_modules: bool,
                  show_attrs: bool) -> None:
    names = _Names()
    root_list = list(roots)
    root_ids = {id(r) for r in root_list}
    kept = {id(c) for c in nodes}
    order = sorted(nodes, key=lambda c: c.seq)  # the order the forward ran
    clusters: dict[str, list[tuple[str, str]]] = {}
    named_constants: dict[str, str] = {}

    def tensor_node(t: Tensor, color: str) -> str:
        nid, new = names.get(t, "t")
        if new:
            g.node(nid, _record(t.name, t.shape, t.dtype), shape="record", style="filled",
                   fillcolor=color)
        return nid

    def output_node(ctx: Context) -> str:
        nid, new = names.get(ctx, "t")
        if new:
            out = ctx.out() if ctx.out is not None else None
            is_root = out is not None and id(out) in root_ids
            g.node(nid, _record(out.name if out is not None else None, *ctx.out_meta),
                   shape="record", style="filled", fillcolor=OUTPUT if is_root else "white")
        return nid

    for ctx in order:
        oid, _ = names.get(("op", ctx), "op")
        label = op_label(ctx) if show_attrs else ctx.fn.name
        if cluster_modules and ctx.scope:
            clusters.setdefault(ctx.scope, []).append((oid, label))
        else:
            g.node(oid, label, shape="box", style="rounded,filled", fillcolor=OP)
        for i, e in enumerate(ctx.next):
            if isinstance(e, Context):
                src = output_node(e) if id(e) in kept else _elided(g, names, e)
            elif isinstance(e, Tensor):
                src = tensor_node(e, PARAM if _is_param(e) else LEAF)
            else:  # an input that needs no gradient: an image batch, a mask, a constant
                shape, dtype = ctx.in_meta[i]
                cname = ctx.in_names[i] if i < len(ctx.in_names) else None
                if cname and cname in named_constants:
                    src = named_constants[cname]
                else:
                    src, _ = names.get((ctx, i), "c")
                    g.node(src, _record(cname, shape, dtype), shape="record", style="filled",
                           fillcolor=INPUT)
                    if cname:
                        named_constants[cname] = src
            g.edge(src, oid)
        g.edge(oid, output_node(ctx))
    for scope, ops in clusters.items():  # in the order the modules first ran
        with g.subgraph(name=f"cluster_{scope}") as sub:
            sub.attr(label=scope, style="rounded,dashed", color="#999999", fontsize="10")
            for oid, label in ops:
                sub.node(oid, label, shape="box", style="rounded,filled", fillcolor=OP)
    for r in root_list:  # roots that are leaves themselves
        if r.grad_fn is None:
            tensor_node(r, OUTPUT)


def _elided(g: Any, names: _Names, ctx: Context) -> str:
    nid, new = names.get(ctx, "t")
    if new:
        g.node(nid, _record(None, *ctx.out_meta), shape="record", style="filled,dashed",
               fillcolor="white")
    return nid


def _draw_backward(g: Any, roots: Iterable[Tensor], nodes: list[Context], show_saved: bool
                   ) -> None:
    names = _Names()
    kept = {id(c) for c in nodes}
    leaves: dict[str, Tensor] = {}  # in the order gradients reach them

    def leaf(t: Tensor) -> str:
        lid, new = names.get(t, "l")
        if new:
            leaves[lid] = t
        return lid

    for r in roots:
        rid, _ = names.get(("root", r), "r")
        g.node(rid, _record(r.name or "output", r.shape, r.dtype, "grad = 1" if r.numel() == 1
                            else "grad given"), shape="record", style="filled", fillcolor=OUTPUT)
        if r.grad_fn is not None:
            g.edge(rid, names.get(r.grad_fn, "v")[0], label=_esc(str(tuple(r.shape))))
        elif r.requires_grad:
            g.edge(rid, leaf(r))
    for step, ctx in enumerate(nodes, start=1):  # nodes come newest first: the engine's order
        vid, _ = names.get(ctx, "v")
        label = f"{step}. {ctx.fn.name} VJP"
        out = ctx.out() if ctx.out is not None else None
        if out is not None and out._grad is not None:  # a retained non-leaf gradient
            label += f"\n{_norm(out._grad)}"
        g.node(vid, label, shape="box", style="rounded,filled", fillcolor=OP)
        for i, e in enumerate(ctx.next):
            if e is None or (isinstance(e, Context) and id(e) not in kept):
                continue
            dst = names.get(e, "v")[0] if isinstance(e, Context) else leaf(e)
            g.edge(vid, dst, label=_esc(str(tuple(ctx.in_meta[i][0]))))
        if show_saved:
            _saved_nodes(g, names, ctx, vid)
    for lid, t in leaves.items():
        g.node(lid, _record(t.name or "leaf", t.shape, t.dtype, _norm(t.grad)), shape="record",
               style="filled", fillcolor=PARAM if _is_param(t) else LEAF)
    _legend(g, show_saved)


def _saved_nodes(g: Any, names: _Names, ctx: Context, vid: str) -> None:
    saved = ctx._saved
    if saved == "freed":
        sid, _ = names.get(("saved", ctx), "s")
        g.node(sid, "saved tensors freed\n(backward ran without retain_graph)", shape="note",
               style="filled", fillcolor=SAVED, fontsize="8")
        g.edge(sid, vid, style="dashed", arrowhead="none")
        return
    for j, (kind, obj, _counter, _version) in enumerate(saved):
        if obj is None:
            continue
        data = obj.data if isinstance(obj, Tensor) else obj
        what = ("input", "output", "constant", "")[kind]
        sid, _ = names.get(("saved", ctx, j), "s")
        name = obj.name if isinstance(obj, Tensor) else None
        g.node(sid, _record(name or f"saved {what}", data.shape, data.dtype), shape="record",
               style="filled", fillcolor=SAVED, fontsize="8")
        g.edge(sid, vid, style="dashed", arrowhead="none")


def _legend(g: Any, show_saved: bool) -> None:
    with g.subgraph(name="cluster_legend") as lg:
        lg.attr(label="legend", style="rounded", color="#bbbbbb", fontsize="9")
        items = [("legend_out", "output (gradient seed)", OUTPUT),
                 ("legend_vjp", "op VJP, in run order", OP),
                 ("legend_param", "parameter (name, shape, ‖grad‖)", PARAM),
                 ("legend_leaf", "other leaf with requires_grad", LEAF)]
        if show_saved:
            items.append(("legend_saved", "saved for backward", SAVED))
        for nid, text, color in items:
            lg.node(nid, text, shape="box", style="rounded,filled", fillcolor=color, fontsize="8")
        for (a, _, _), (b, _, _) in itertools.pairwise(items):
            lg.edge(a, b, style="invis")


# --------------------------------------------------------------------------------------- files
def render(graph: Any, path: str | Path) -> Path:
    """Write ``graph`` to ``path``: ``.dot`` (or ``.gv``) as DOT text, anything else through
    ``dot`` in the format of the suffix. Raises :class:`GraphvizNotFound` without ``dot``."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt in ("dot", "gv"):
        path.write_text(graph.source)
        return path
    if fmt not in ("svg", "png", "pdf", "jpg", "jpeg"):
        raise ValueError(f"render: unknown format {path.suffix!r}; use .svg, .png, .pdf or .dot")
    if shutil.which("dot") is None:
        raise GraphvizNotFound()
    graphviz = _graphviz()
    try:
        data = graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFound() from None
    path.write_bytes(data)
    return path


def lenet5_graph(batch: int = 2, backward: bool = False, max_nodes: int | None = None,
                 seed: int = 0) -> Any:
    """LeNet-5 on a sample batch: its forward graph, or (after a backward) its backward graph."""
    import tinygrad_cnn as tg
    from tinygrad_cnn.models import LeNet5
    from tinygrad_cnn.nn import functional as F

    tg.manual_seed(seed)
    model = LeNet5()
    x = Tensor(np.random.default_rng(seed).standard_normal((batch, 1, 28, 28)).astype(np.float32),
               name="images")
    logits = model(x)
    logits.name = "logits"
    loss = F.cross_entropy(logits, np.arange(batch) % 10)
    loss.name = "loss"
    if backward:
        loss.backward(retain_graph=True)
    return draw(loss, backward=backward, show_saved=False, max_nodes=max_nodes,
                title=f"LeNet-5, {'backward' if backward else 'forward'} graph (batch {batch})")


def draw_model_to_file(model: str, path: str | Path, backward: bool = False,
                       max_nodes: int | None = None, batch: int = 2) -> Path:
    """What ``python -m tinygrad_cnn draw`` does."""
    if model != "lenet5":
        raise ValueError(f"draw: unknown model {model!r} (known: lenet5)")
    return render(lenet5_graph(batch, backward, max_nodes), path)
