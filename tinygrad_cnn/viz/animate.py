"""A step-through of the backward pass: one frame per VJP, in the order ``backward()`` runs them.

``animate(loss)`` runs a backward of its own (``grad`` with ``retain_graph=True``, hooks and
``retain_grad()`` off: no ``.grad`` is touched, no user hook runs) inside
:class:`~tinygrad_cnn.viz.record_gradients` (the record stays in the animation: later
``text``/``draw`` calls do not show it), and returns an :class:`Animation`: it shows inline in
Jupyter and ``.save("backprop.html")`` writes one self-contained page -- the SVG,
the frames and a few lines of JavaScript inline; nothing is fetched. Each frame highlights the VJP
that runs, the gradient it receives, what it sends to each input (``+=`` where a second path adds
to a gradient that already arrived), the op's VJP formula (its docstring) and its ``backward``.
A slider, previous/next buttons and the arrow keys move between frames.
"""

from __future__ import annotations

import html
import inspect
import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

from tinygrad_cnn._files import atomic_write, file_path_only
from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import Context, grad
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.viz.grads import node_grads, record_gradients, restore, snapshot
from tinygrad_cnn.viz.graph import (
    GraphView,
    fmt_shape,
    output_nodes,
    outputs,
    source_text,
    visible,
    vjp_node,
)


def _doc(fn: type) -> str:
    """The op's own docstring (its VJP formula), not one inherited from ``Function``."""
    for cls in fn.__mro__:
        doc = cls.__dict__.get("__doc__")
        if doc and cls.__module__ != "tinygrad_cnn.autograd":
            return inspect.cleandoc(doc)
        if cls.__module__ == "tinygrad_cnn.autograd":
            break
    return "(this op has no docstring)"


def _backward_source(fn: type) -> str:
    try:
        return textwrap.dedent(inspect.getsource(fn.backward))
    except (OSError, TypeError):
        return ""


class Animation:
    """The step-through of one backward pass. ``frames``: one dict per VJP (what the page shows);
    ``html``: the self-contained page; ``save(path)`` writes it; notebooks show it inline."""

    def __init__(self, page: str, frames: list[dict[str, Any]]) -> None:
        self.html = page
        self.frames = frames

    def __len__(self) -> int:
        return len(self.frames)

    def save(self, path: str | Path) -> Path:
        """Write the page (open it in any browser; it needs no network). ``path`` must end in
        ``.html`` or ``.htm``: the page is HTML, whatever the name says."""
        if not isinstance(path, (str, Path)):
            raise TypeError(f"Animation.save: path must be a str or Path, got "
                            f"{type(path).__name__}")
        file_path_only(path)  # (a folder's name -- "out/", "." -- is named as one)
        if Path(path).suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"Animation.save: cannot write the step-through to "
                             f"{Path(path).name!r}; the page is HTML, so the file name must end "
                             "in .html or .htm")
        page = self.html.encode("utf-8")
        # never a half-written page; no folder made (as open: a dangling link's target's either)
        return atomic_write(path, lambda f: f.write(page), parents=False)

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" style="width: 100%; '
                'height: 640px; border: 1px solid #ccc" sandbox="allow-scripts"></iframe>')


def _node_id(view: GraphView, e: Any) -> str:
    e = vjp_node(e)  # a gradient for an output of an op goes to the op's VJP
    return f"v{view.index[id(e)]}" if isinstance(e, Context) else f"l{view.leaf_index[id(e)]}"


def _frames(view: GraphView, steps: list[Context]) -> list[dict[str, Any]]:
    arrived: dict[int, list[str]] = {}  # node or leaf -> the steps whose gradients reached it
    for r in view.roots:
        if r.grad_fn is not None:
            arrived.setdefault(id(r.grad_fn), []).append("the seed")
    frames = []
    texts: dict[type, tuple[str, str]] = {}  # an op's docstring and VJP source, read once
    for ctx in steps:
        ng = node_grads(ctx)
        if ng is None:
            continue
        fn = ctx.fn
        if fn not in texts:
            texts[fn] = (_doc(fn), _backward_source(fn))
        sends = []
        for i, e in enumerate(ctx.next):
            if e is None or i >= len(ng.sent) or ng.sent[i] is None:
                continue
            before = arrived.setdefault(id(e), [])
            target = (f"{view.leaf_name(e)}.grad" if isinstance(e, Tensor)
                      else f"d{view.out_name(e)}")
            sends.append({"to": target, "input": view.input_name(ctx, i),
                          "accumulate": bool(before), "stat": ng.sent[i].describe(),
                          "edge": f"e{_node_id(view, ctx)}_{i}", "dst": _node_id(view, e)})
            before.append(f"step {ng.step}")
        several = getattr(ctx, "n_outputs", 1) > 1
        per_output = [arrived.get(id(node), []) if node is not None else []
                      for node in (output_nodes(ctx) if several else [ctx])]
        # (an op with several outputs gets one gradient per output: a sum only where one output's
        # gradient came along several paths -- was: 'the sum of 2 gradients' for outputs 0 and 1)
        merged = "; ".join(
            (f"output {k}: " if several else "")
            + f"the sum of {len(came)} gradients (from {', '.join(came)})"
            for k, came in enumerate(per_output) if len(came) > 1)
        frames.append({
            "step": ng.step, "op": fn.name, "node": _node_id(view, ctx),
            "output": f"d{view.out_name(ctx)}", "shape": fmt_shape(outputs(ctx)[0][1]),
            "source": source_text(ctx) or "", "module": visible(ctx.scope) if ctx.scope else "",
            "received": ng.received.describe() if not ng.received_all else "; ".join(
                f"output {k}: {st.describe() if st is not None else 'no gradient'}"
                for k, st in enumerate(ng.received_all)),
            "merged": merged,
            "sends": sends, "doc": texts[fn][0], "code": texts[fn][1]})
    return frames


#: above this many VJPs and leaves the page shows the graph as text: every node must be drawn
#: (a frame highlights it), and dot's layout time grows faster than the graph (t188: 1,080 ops
#: 8 s, 2,000 ops 41 s, 4,000 ops still running after 12 minutes)
MAX_DRAWN_NODES = 1000


def _as_text(view: GraphView) -> str | None:
    """Why the page shows the graph as text (None: it is drawn)."""
    if shutil.which("dot") is None:
        return "Graphviz's <code>dot</code> was not installed when this page was made"
    nodes = len(view.nodes) + len(view.leaves)
    if nodes > MAX_DRAWN_NODES:
        return (f"the graph has {nodes:,} nodes, more than {MAX_DRAWN_NODES:,} (Graphviz would "
                "take minutes to lay it out)")
    return None


def _svg(roots: tuple[Tensor, ...]) -> str:
    from tinygrad_cnn.viz.dot import draw, run_dot

    svg = run_dot(draw(*roots, backward=True, collapse=False, max_nodes=None), "svg", "animate",
                  "no page was made").decode("utf-8")
    return svg[svg.index("<svg"):]  # no XML prolog, no DOCTYPE (it names a remote DTD)


def _text_fallback(view: GraphView, frames: list[dict[str, Any]], why: str) -> str:
    lines = []
    for f in frames:
        lines.append(f'<span class="node" id="{f["node"]}">{f["step"]:>4}. '
                     f'{html.escape(f["op"])} VJP  {html.escape(f["output"])} {f["shape"]}'
                     "</span>")
    for j, t in enumerate(view.leaves):
        lines.append(f'<span class="node" id="l{j}">      leaf {html.escape(view.leaf_name(t))} '
                     f"{fmt_shape(t.shape)}</span>")
    return f'<p class="note">{why}: the graph is shown as text.</p><pre>' + "\n".join(lines) + "</pre>"


def animate(*roots: Tensor, title: str | None = None) -> Animation:
    """Step through the backward pass of ``roots`` (scalars, e.g. a loss): returns an
    :class:`Animation` with one frame per VJP. Runs its own backward (with ``retain_graph=True``,
    writing no ``.grad``, running no hooks: the frames show the VJPs alone), so call it before a
    ``backward()`` that frees the graph."""
    for i, r in enumerate(roots):
        if not isinstance(r, Tensor):
            raise TypeError(f"animate: root {i} is {a_type(r)}, not a Tensor")
        if r.grad_fn is None:
            raise ValueError(f"animate: root {i} (shape {r.shape}) has no graph to step through; "
                             "it must be the result of ops on tensors that require grad")
        if r.numel() != 1:
            raise ValueError(f"animate: root {i} has shape {r.shape}; the backward pass it "
                             "steps through starts from a single number (a loss): pass "
                             "its .sum() or .mean()")
    if not roots:
        raise ValueError("animate: pass the tensor whose backward pass to show (e.g. the loss)")
    view = GraphView(roots)
    if not view.leaves:
        raise ValueError("animate: no leaf of this graph requires grad")
    # the recording is this animation's own: what it shows is put back as it was afterwards, so
    # that text/draw of this or another graph sharing a leaf never shows these gradients
    state = snapshot(view.nodes, view.leaves)
    off = _no_user_hooks(view.nodes, view.leaves)
    try:
        with off, record_gradients(*roots, _private=True) as rec:
            hooked = off.describe(view)
            try:
                grad(list(roots), view.leaves, retain_graph=True, allow_unused=True)
            except RuntimeError as exc:
                if "second time" in str(exc):
                    raise RuntimeError(
                        "animate: the graph's saved tensors were freed by an earlier backward(); "
                        "call viz.animate(loss) before loss.backward(), or pass retain_graph=True "
                        "to that backward") from exc
                raise
        frames = _frames(view, rec.steps)
        why = _as_text(view)
        svg = _svg(roots) if why is None else None
    finally:
        restore(state, view.nodes, view.leaves)
    graph_html = svg if why is None else _text_fallback(view, frames, why)
    names = ", ".join(view.out_name(r.grad_fn) for r in roots)
    page_title = visible(title) if title else f"Backpropagation through {names}, step by step"
    note = "" if not hooked else (
        f" This graph has hooks ({hooked}); they did not run here, so where one changes a "
        "gradient, a real backward() sends what it returns, not what these frames show.")
    return Animation(_page(page_title, graph_html, frames, note), frames)


class _no_user_hooks:  # noqa: N801 (a context manager)
    """The backward of an animation changes nothing the user sees: for its duration the graph's
    tensor hooks (``register_hook``), node hooks (``grad_fn.register_prehook``/``register_hook``),
    module backward hooks and ``retain_grad()`` are off -- ``grad()`` would otherwise run them
    (as PyTorch's does) and fill the ``.grad`` of retained tensors, which the next real backward
    then adds to. The frames show the VJPs themselves."""

    def __init__(self, nodes: list[Context], leaves: list[Tensor]) -> None:
        self.nodes, self.leaves = nodes, leaves
        self.saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> None:
        for ctx in self.nodes:
            for attr in ("hooks", "retained", "node_hooks"):
                if getattr(ctx, attr, None) is not None:
                    self.saved.append((ctx, attr, getattr(ctx, attr)))
                    setattr(ctx, attr, None)
            if "run_hooks" in vars(ctx):  # a module's backward hooks: their identity op passes on
                self.saved.append((ctx, "run_hooks", ctx.run_hooks))
                ctx.run_hooks = _pass_on
        for leaf in self.leaves:
            if leaf._hooks:
                self.saved.append((leaf, "_hooks", leaf._hooks))
                leaf._hooks = None

    def describe(self, view: GraphView) -> str:
        """The hooks that are off, counted and placed: ``2 tensor hooks on h; retain_grad on
        %1; 1 pre-hook on the VJP of mul (%2)``."""
        def count(n: int, what: str) -> str:
            return f"{n} {what}{'s' if n != 1 else ''}"

        parts = []
        for obj, attr, value in self.saved:
            if attr == "_hooks":
                parts.append(f"{count(len(value), 'tensor hook')} on {view.leaf_name(obj)}")
            elif attr == "hooks":
                parts.append(f"{count(len(value), 'tensor hook')} on {view.out_name(obj)}")
            elif attr == "retained":
                parts.append(f"retain_grad on {view.out_name(obj)}")
            elif attr == "node_hooks":
                kinds = [count(len(value[k]), f"{k}-hook") for k in ("pre", "post") if value[k]]
                if kinds:
                    parts.append(f"{' and '.join(kinds)} on the VJP of {obj.fn.name} "
                                 f"({view.out_name(obj)})")
            else:  # run_hooks: a module's full backward hooks
                parts.append(f"module backward hooks of {obj.scope or 'a module'}")
        return "; ".join(parts)

    def __exit__(self, *exc: object) -> None:
        for obj, attr, value in reversed(self.saved):
            setattr(obj, attr, value)
        self.saved.clear()


def _pass_on(grads: tuple[Any, ...], ctx: Context) -> tuple[Any, ...]:
    """A module hook's identity op without the hooks: the gradients as they came, and None on
    the edge the output side keeps to the input side (used only when pre-hooks cut a path)."""
    return tuple(grads) + (None,) * (len(ctx.next) - len(grads))


GENERATOR = '<meta name="generator" content="tinygrad_cnn viz.animate">'  # marks our pages

_CSS = """
body { font: 14px/1.4 Helvetica, Arial, sans-serif; margin: 0; color: #222; }
header { padding: 8px 16px; border-bottom: 1px solid #ddd; }
header h1 { font-size: 18px; margin: 4px 0; }
header p { margin: 2px 0; color: #555; }
#controls { padding: 8px 16px; display: flex; gap: 10px; align-items: center;
            border-bottom: 1px solid #ddd; position: sticky; top: 0; background: #fff; }
#slider { flex: 1; }
main { display: flex; align-items: flex-start; }
#graph { flex: 3; overflow: auto; padding: 8px; max-height: calc(100vh - 120px); }
#graph svg { max-width: 100%; height: auto; }
#panel { flex: 2; padding: 8px 16px; border-left: 1px solid #ddd; max-height: calc(100vh - 120px);
         overflow: auto; }
#panel h2 { font-size: 17px; margin: 6px 0; }
#panel h3 { font-size: 13px; margin: 12px 0 4px; text-transform: uppercase; color: #666; }
#panel pre { background: #f6f6f6; padding: 6px; white-space: pre-wrap; font-size: 12px; }
.acc { color: #b35806; font-weight: bold; }
.node.active polygon, .node.active path, .node.active ellipse { stroke: #d62728 !important;
  stroke-width: 4px !important; }
.edge.sent path { stroke: #d62728 !important; stroke-width: 3px !important; }
.edge.sent polygon { stroke: #d62728 !important; fill: #d62728 !important; }
.edge.sent text { fill: #d62728 !important; font-weight: bold; }
.node.target polygon, .node.target path { stroke: #ff7f0e !important; stroke-width: 3px !important;
  stroke-dasharray: 5 2; }
span.node.active { background: #ffd7d7; } span.node.target { background: #ffe9c7; }
"""

_JS = """
const frames = JSON.parse(document.getElementById('frames').textContent);
const slider = document.getElementById('slider');
const prev = document.getElementById('prev'), next = document.getElementById('next');
let shown = -1;
function mark(id, name, on) {
  const el = document.getElementById(id);
  if (el) { el.classList.toggle(name, on); return; }
  // a leaf drawn as one copy beside each user in a big graph: ids <id>_<user's id>
  document.querySelectorAll('[id^="' + id + '_"]').forEach(e => e.classList.toggle(name, on));
}
function text(id, value) { document.getElementById(id).textContent = value; }
function show(i) {
  i = Math.max(0, Math.min(frames.length - 1, i));
  if (shown >= 0) {
    const old = frames[shown];
    mark(old.node, 'active', false);
    old.sends.forEach(s => { mark(s.edge, 'sent', false); mark(s.dst, 'target', false); });
  }
  const f = frames[i];
  mark(f.node, 'active', true);
  const el = document.getElementById(f.node);
  if (el && el.scrollIntoView) el.scrollIntoView({block: 'center', inline: 'center'});
  f.sends.forEach(s => { mark(s.edge, 'sent', true); mark(s.dst, 'target', true); });
  text('f-title', f.step + '. ' + f.op + ' VJP');
  text('f-where', [f.source ? 'created at ' + f.source : '',
                   f.module ? 'in module ' + f.module : ''].filter(Boolean).join(' '));
  text('f-received', f.output + ' ' + f.received);
  text('f-merged', f.merged ? 'It arrived as ' + f.merged + ': paths merged here.' : '');
  const list = document.getElementById('f-sends');
  list.innerHTML = '';
  if (!f.sends.length) list.appendChild(document.createElement('li')).textContent =
    'nothing: no input of this op needs a gradient';
  f.sends.forEach(s => {
    const li = document.createElement('li');
    const op = li.appendChild(document.createElement('span'));
    op.textContent = s.to + (s.accumulate ? ' += ' : ' = ');
    if (s.accumulate) op.className = 'acc';
    li.appendChild(document.createTextNode(s.stat + '  (input ' + s.input + ')' +
      (s.accumulate ? '  -- a second path: added to what arrived before' : '')));
    list.appendChild(li);
  });
  text('f-doc', f.doc);
  text('f-code', f.code);
  text('counter', 'step ' + (i + 1) + ' of ' + frames.length);
  slider.value = i;
  prev.disabled = i === 0;
  next.disabled = i === frames.length - 1;
  document.body.dataset.frame = String(i);
  shown = i;
}
slider.addEventListener('input', () => show(Number(slider.value)));
prev.addEventListener('click', () => show(shown - 1));
next.addEventListener('click', () => show(shown + 1));
document.addEventListener('keydown', e => {
  if (e.key === 'ArrowRight') show(shown + 1);
  if (e.key === 'ArrowLeft') show(shown - 1);
});
show(0);
"""


def _page(title: str, graph_html: str, frames: list[dict[str, Any]], note: str = "") -> str:
    # every <, > and & as a JSON escape: no text of a frame (tensor names are the user's) can
    # end the script block or put the HTML parser into a comment state ("<!--<script>")
    data = (json.dumps(frames, ensure_ascii=False).replace("&", "\\u0026")
            .replace("<", "\\u003c").replace(">", "\\u003e"))
    n = len(frames)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="tinygrad_cnn viz.animate">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<p>{n} VJPs, run newest op first. Each frame: the VJP that runs (red), the gradient it receives,
what it sends to each input (red edges, orange targets; <span class="acc">+=</span> where a second
path adds to a gradient that already arrived), its formula and its code. Nodes are coloured by the
norm of their gradient (log scale).{html.escape(note)}</p>
</header>
<div id="controls">
<button id="prev" type="button">&#9664; previous</button>
<input id="slider" type="range" min="0" max="{max(n - 1, 0)}" value="0" step="1"
 aria-label="backward step">
<button id="next" type="button">next &#9654;</button>
<span id="counter"></span>
</div>
<main>
<div id="graph">{graph_html}</div>
<aside id="panel">
<h2 id="f-title"></h2>
<p id="f-where"></p>
<h3>receives</h3>
<p id="f-received"></p>
<p id="f-merged"></p>
<h3>sends</h3>
<ul id="f-sends"></ul>
<h3>the VJP (the op's docstring)</h3>
<pre id="f-doc"></pre>
<h3>its backward</h3>
<pre id="f-code"></pre>
</aside>
</main>
<script type="application/json" id="frames">{data}</script>
<script>{_JS}</script>
</body>
</html>
"""
