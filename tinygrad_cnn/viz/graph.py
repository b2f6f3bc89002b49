"""The graph behind a drawing, shared by the drawings (``dot.py``), the text form (``text.py``) and
the step-through (``animate.py``): which ops, in which order, under which names, with which source
lines, operand roles, saved tensors and module groups.

Everything here is deterministic: names come from the order the forward ran (``ctx.seq``), never
from ``id()`` or set order, and source lines show file basenames, never absolute paths.
"""

from __future__ import annotations

import ast
import functools
import inspect
import math
import os
import re
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import NOTEBOOK_FILE as _NOTEBOOK_FILE
from tinygrad_cnn.autograd import Context, OutputOf, _collect
from tinygrad_cnn.tensor import Tensor

# ------------------------------------------------------------------------------------ source lines


def short_file(path: str) -> str:
    """A file name without its folders (``train.py``); a notebook cell is ``<cell>``."""
    if _NOTEBOOK_FILE.search(path):
        return "<cell>"
    return os.path.basename(path) or path


def source_text(ctx: Context) -> str | None:
    """``"train.py:42 in main"``: the line of user code that created ``ctx`` (basename only, so
    drawings and text forms do not depend on where the code lives)."""
    src = getattr(ctx, "source", None)
    if src is None:
        return None
    code, line = src
    if code.co_filename.startswith("<frozen "):  # python -m ...: no user code on the stack
        return None
    return f"{short_file(code.co_filename)}:{line} in {code.co_name}"


# ------------------------------------------------------------------------------------------ labels
def _index(key: Any) -> str:
    """An indexing key as Python writes it: ``[0:1, ..., None]``."""
    parts = []
    for k in key if isinstance(key, tuple) else (key,):
        if isinstance(k, slice):
            a, b, c = ("" if v is None else str(v) for v in (k.start, k.stop, k.step))
            parts.append(f"{a}:{b}" + (f":{c}" if c else ""))
        elif k is Ellipsis:
            parts.append("...")
        else:
            parts.append(fmt(k))
    return "[" + ", ".join(parts) + "]"


def fmt(value: Any) -> str:
    """An attribute value, short: a 0-d array as its value, a few elements as a list, larger
    arrays as ``bool(2, 3)`` (dtype and shape), symmetric paddings as ``(h, w)``."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        if type(value) is np.ndarray and value.size <= 4 and value.ndim <= 1:
            return repr(value.tolist())
        return f"{value.dtype}{tuple(value.shape)}"
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, tuple) for v in value) \
            and all(len(v) == 2 and v[0] == v[1] for v in value):
        return str((value[0][0], value[1][0]))  # symmetric ((t, b), (l, r)) padding: (h, w)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, np.dtype):
        return str(value)
    text = str(value)
    if " at 0x" in text:  # (an object's default repr: its address, which differs from run to
        text = _ADDRESS.sub("", text)  # run -- the drawings and the text form are deterministic)
    return text if len(text) <= 40 else text[:37] + "..."


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


# attribute values that change nothing (stride 1, no padding, ...) are left out of op labels
_NEUTRAL: dict[str, tuple[Any, ...]] = {
    "stride": ((1, 1),), "padding": (((0, 0), (0, 0)), (0, 0)), "dilation": ((1, 1),),
    "groups": (1,), "ceil_mode": (False,), "count_include_pad": (True,),
    "output_padding": ((0, 0),), "keepdim": (False,), "unique": (False, True),
    "reduction": ("mean",),
}


# the engine's own bookkeeping, not the op's arguments: ``piece`` is the token the pieces of one
# split share (its address in a drawing made the text form differ from run to run: t188)
_INTERNAL = frozenset(("piece",))


def attr_items(ctx: Context) -> list[tuple[str, str]]:
    """The attributes of an op that change something, formatted: ``[("stride", "(2, 2)")]``."""
    items = []
    for k, v in ctx.attrs.items():
        if k.startswith("_") or v is None or k in _INTERNAL:
            continue
        try:
            if not hasattr(v, "shape") and v in _NEUTRAL.get(k, ()):
                continue
        except (TypeError, ValueError):  # a value that cannot be compared with ==
            pass
        items.append((k, _index(v) if k == "key" else _chain(v) if k == "chain" else fmt(v)))
    return items


def _chain(chain: Any) -> str:
    """The views an in-place write through a view went through (``copy_slices``' ``chain``), as
    ``permute(dims=(1, 0)) → [1]``."""
    try:
        parts = []
        for cls, attrs in chain:
            if set(attrs) == {"key"}:
                parts.append(_index(attrs["key"]))
            else:
                args = ", ".join(f"{k}={fmt(v)}" for k, v in attrs.items())
                parts.append(f"{getattr(cls, 'name', cls.__name__)}({args})")
        return " → ".join(parts)
    except (TypeError, ValueError):
        return fmt(chain)


def op_label(ctx: Context) -> str:
    """``conv2d stride=(2, 2) padding=(1, 1)``: the registry name and the attributes that change
    something."""
    return " ".join([ctx.fn.name] + [f"{k}={v}" for k, v in attr_items(ctx)])


# ops whose operands can be swapped: their edges need no operand names
COMMUTATIVE = frozenset({"add", "mul", "maximum", "minimum"})
# the forward parameter names of some ops, as a reader knows them
_ROLE_WORDS = {"w": "weight", "b": "bias", "g": "grad_output"}


@functools.cache
def _forward_params(fn: type) -> tuple[tuple[str, ...], str | None]:
    """Names of the array parameters of ``fn.forward`` (after ``ctx``) and of its ``*args``."""
    try:
        params = list(inspect.signature(fn.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return (), None
    names, star = [], None
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            star = p.name
            break
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
    return tuple(names), star


def op_class(fn: type) -> type:
    """The op's own class, also while :class:`~tinygrad_cnn.viz.record_gradients` runs it through
    a recording subclass."""
    while "_recorded_from" in fn.__dict__:
        fn = fn.__dict__["_recorded_from"]
    return fn


def input_role(ctx: Context, i: int) -> str:
    """What input ``i`` of ``ctx`` is to its op: ``"weight"`` of a conv2d, ``"y"`` of a sub,
    ``"xs[1]"`` of a cat (from the names of the op's ``forward`` parameters)."""
    names, star = _forward_params(op_class(ctx.fn))
    if i < len(names):
        name = names[i]
        if "w" in names or "weight" in names:  # a layer-like op: input, weight, bias
            return {"x": "input", "z": "input"}.get(name, _ROLE_WORDS.get(name, name))
        return "grad_output" if name == "g" and len(names) > 1 else name
    if star is not None:
        return f"{star}[{i - len(names)}]"
    return f"input {i}"


def edge_role(ctx: Context, i: int) -> str | None:
    """The operand name to write on an input edge: only where the order of operands matters
    (``sub``, ``div``, ``pow``, ``matmul``, ``conv2d``'s input vs weight, ...)."""
    if len(ctx.in_meta) < 2 or ctx.fn.name in COMMUTATIVE:
        return None
    return input_role(ctx, i)


# --------------------------------------------------------------------------------- saved tensors
# what the arrays that ops keep for their VJPs are, by the variable name in ``forward``
SAVED_WORDS = {
    "cols": "im2col columns", "flat_indices": "max indices", "indices": "indices",
    "winners": "max positions", "share": "share of the max", "inside": "inside-the-range mask",
    "slope": "slope per element", "out": "output", "mask": "mask", "target": "target classes",
    "sign(x)": "sign of the input", "onehot": "one-hot targets",
}


@functools.cache
def _saved_names(fn: type) -> tuple[str, ...]:
    """The expressions ``fn.forward`` passes to ``ctx.save_for_backward`` (``x if nw else None`` is
    ``x``), read from its source."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn.forward)))
    except (OSError, TypeError, SyntaxError):
        return ()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "save_for_backward":
            names = []
            for arg in node.args:
                while isinstance(arg, ast.IfExp):
                    arg = arg.body if not (isinstance(arg.body, ast.Constant) and
                                           arg.body.value is None) else arg.orelse
                names.append(re.sub(r"^(xp|np|cp)\.", "", ast.unparse(arg)))
            return tuple(names)
    return ()


def saved_items(ctx: Context) -> list[tuple[str, tuple[int, ...], str]] | None:
    """``(what, shape, dtype)`` of each array ``ctx`` keeps for its VJP: what ``forward`` saved
    (``"input"``, ``"weight"``, ``"output"``, ``"im2col columns"``) and the arrays it set as
    attributes (``"max indices"``). ``None`` once a backward without ``retain_graph`` freed them."""
    saved = ctx._saved
    if isinstance(saved, str):  # "freed"
        return None
    names = _saved_names(op_class(ctx.fn))
    params, _ = _forward_params(op_class(ctx.fn))
    items = []
    for j, (kind, obj, _counter, _version) in enumerate(saved):
        if obj is None:
            continue
        data = obj._data if isinstance(obj, Tensor) else obj
        name = names[j] if j < len(names) else None
        if kind == 1 or name == "out":
            what = "output"
        elif kind in (0, 4) and name in params:  # (an input: a leaf's, or one with a grad_fn)
            what = input_role(ctx, params.index(name))
        elif name is not None:
            what = SAVED_WORDS.get(name, name)
        else:
            what = "saved array"
        items.append((what, tuple(data.shape), str(data.dtype)))
    for k, v in sorted(vars(ctx).items()):
        if not k.startswith("_") and isinstance(getattr(v, "shape", None), tuple) and \
                hasattr(v, "dtype") and k not in ctx.attrs:  # arrays (not a module: np.shape)
            items.append((SAVED_WORDS.get(k, k.replace("_", " ")), tuple(v.shape), str(v.dtype)))
    return items


# ------------------------------------------------------------------------------------- the graph
def is_output_of(ctx: Any) -> bool:
    """Whether ``ctx`` is the node of output k of an op with several outputs (the engine hands its
    gradient to the op; it has no VJP of its own)."""
    return isinstance(ctx, Context) and op_class(ctx.fn) is OutputOf


def vjp_node(e: Any) -> Any:
    """The node whose VJP a gradient sent to ``e`` reaches: the op itself for an output node."""
    return e.next[0] if is_output_of(e) else e


def output_nodes(ctx: Context) -> list[Context | None]:
    """The node of each output of an op with several outputs (None: not differentiable)."""
    nodes: list[Context | None] = [None] * getattr(ctx, "n_outputs", 1)
    for node in (getattr(ctx, "out_nodes", None) or {}).values():
        if node is not None and node is not ctx:
            nodes[node.index] = node
    return nodes


def outputs(ctx: Context) -> list[tuple[Tensor | None, tuple[int, ...], Any]]:
    """``(tensor or None, shape, dtype)`` of each output of ``ctx``: one for most ops, one per
    output for an op with several (``ctx.n_outputs``; each output has its own ``OutputOf``
    node, which holds the tensor)."""
    if getattr(ctx, "n_outputs", 1) > 1:
        result = []
        for node, (shape, dtype) in zip(output_nodes(ctx), ctx.out_metas):
            t = node.out() if node is not None and node.out is not None else None
            result.append((t, tuple(shape), dtype))
        return result
    out, meta = ctx.out, ctx.out_meta
    return [(out() if out is not None else None, tuple(meta[0]), meta[1])]


def _number(text: str | None) -> bool:
    if not text:
        return False
    try:
        float(text)
    except ValueError:
        return text in ("True", "False")
    return True


def _short_exact(text: str) -> str:
    """A scalar constant's label: short (``1.23457e+08`` for ``123456789.5``) only where that is
    still its exact value -- ``x - 1.0000001`` must not read ``sub(x, 1)``."""
    if len(text) <= 8 or text in ("True", "False") or text.lstrip("-").isdigit():
        return text  # (an integer as it is: 2**60 + 1 is not 1.15292e+18)
    value = float(text)
    short = f"{value:.6g}"
    # (else the text as it came: a Python number's repr, or a float32 constant's shortest
    # text in its own dtype -- 1.0995116e+12, not float64's reading of it)
    return short if float(short) == value else text


def visible(name: str) -> str:
    """A user's name as every drawing shows it: control characters (a NUL, a tab, a line
    break), which Graphviz refuses or drops and which would break a line of the text form, as
    their escapes (``\\x00``, ``\\t``, ``\\n``), and so a backslash of the name's own as
    ``\\\\`` (a name ``a\\nb`` typed with a backslash and a line break read alike)."""
    if name.isprintable() and "\\" not in name:
        return name
    return "".join("\\\\" if c == "\\" else c if c.isprintable() or c == " " else
                   repr(c)[1:-1] if c in "\n\r\t" else f"\\x{ord(c):02x}" if ord(c) < 256
                   else f"\\u{ord(c):04x}" for c in name)


_PLAIN = re.compile(r"[^\s,;=()'\"`\\#@%]+")


def quoted(name: str) -> str:
    """A name as the text form writes it: as it is when it reads as one word (``conv1.weight``,
    ``%3``, ``h#2``), else in single quotes (``'my weight'``, ``'a, b'``, ``'x\\n'``), so a
    name with a blank, a comma, an ``=`` or an escape cannot be read as two names or as an op's
    arguments, nor a name ``a#2`` or ``1.0`` of the user's as the form's second ``a`` or a
    scalar constant (``#``, ``@`` and ``%`` mark the names the form makes). ``name`` is already
    :func:`visible`."""
    if _PLAIN.fullmatch(name) and not _number_like(name) and not _MADE.fullmatch(name):
        return name
    return "'" + name.replace("'", "\\'") + "'"


# names the text form writes itself: the ones it makes, and constants' values
_MADE = re.compile(r"(leaf|const)\d+|True|False|None|inf|nan")


def _number_like(name: str) -> bool:
    try:
        float(name)
    except ValueError:
        return False
    return True


def _as_is(name: str) -> str:
    return name


def _alike(name: str) -> str:
    """The form in which two names that print alike are equal (Unicode NFKC)."""
    return unicodedata.normalize("NFKC", name)


class GraphView:
    """The ops that made ``roots``: ``nodes`` newest first (the order ``backward()`` runs their
    VJPs), ``forward`` oldest first, and a deterministic name for every tensor -- the tensor's own
    ``name`` (``conv1.weight``, ``loss``), else ``%k`` for the output of the k-th op, ``leafk`` and
    ``constk`` for unnamed leaves and inputs, the value for a scalar constant (``1.0``)."""

    def __init__(self, roots: Sequence[Tensor], nodes: list[Context] | None = None,
                 quote: bool = False) -> None:
        self.roots = list(roots)
        # (the text form's names are `quoted`: one word each; a drawing's labels need no quotes)
        self._form = quoted if quote else _as_is
        if nodes is None:
            nodes = _collect([r.grad_fn for r in self.roots if r.grad_fn is not None])
        self.nodes = nodes
        self.forward = sorted(nodes, key=lambda c: c.seq)
        self.index = {id(c): k for k, c in enumerate(self.forward)}
        self.root_ids = {id(r) for r in self.roots}
        self._leaf_names: dict[int, str] = {}
        self.leaves: list[Tensor] = []  # leaves that require grad, in order of first use
        self._const_names: dict[tuple[int, int], str] = {}
        self.constants: list[tuple[str, tuple[int, ...], Any]] = []  # name, shape, dtype
        # leaves and (non-scalar) constants in the order the forward first used them
        self.sources: list[Tensor | tuple[str, tuple[int, ...], Any]] = []
        n_leaf = n_const = 0
        named_consts: dict[str, str] = {}
        # a leaf's name is unique in the view: two leaves named alike get `#2`, `#3`, ... (the
        # text form read `mul(w, w)` for two leaves `w`); one named like an op's output (`%0`)
        # differs from it as drawn -- the text form quotes the user's names ('%0'), and drawings
        # give ops' outputs no name -- so it keeps its own
        taken: set[str] = set()

        def unique(name: str | None, made: str = "", suffix: str = "") -> str:
            # (the text form quotes the user's part alone: a name 'a#2' of theirs is never
            # read as the second tensor named a; ``made``, the name the form makes where the
            # user gave none, is never quoted -- a user's `const0` is, so the two differ)
            base = (made if name is None else self._form(visible(name))) + suffix
            j, new = 2, base
            # (names that print alike -- 'é' composed and decomposed, a 'ﬁ' ligature and 'fi',
            # a fullwidth 'ａ' -- are one name to the reader: compared in NFKC form)
            while _alike(new) in taken:
                new, j = f"{base}#{j}", j + 1
            taken.add(_alike(new))
            return new

        for ctx in self.forward:
            for i, e in enumerate(ctx.next):
                if isinstance(e, Tensor):
                    if id(e) not in self._leaf_names:
                        self._leaf_names[id(e)] = unique(e.name, f"leaf{n_leaf}")
                        n_leaf += e.name is None
                        self.leaves.append(e)
                        self.sources.append(e)
                elif e is None:
                    shape, dtype = ctx.in_meta[i]
                    cname = ctx.in_names[i] if i < len(ctx.in_names) else None
                    if _number(cname) and tuple(shape) == ():  # a scalar: its value
                        self._const_names[(id(ctx), i)] = _short_exact(str(cname))
                        continue
                    if cname and cname in named_consts:
                        self._const_names[(id(ctx), i)] = named_consts[cname]
                        continue
                    name = unique(cname or None, f"const{n_const}")  # (not a leaf's or op's name)
                    n_const += cname is None
                    self._const_names[(id(ctx), i)] = name
                    if cname:
                        named_consts[cname] = name
                    self.constants.append((name, tuple(shape), dtype))
                    self.sources.append(self.constants[-1])
        for r in self.roots:  # roots that are leaves themselves
            if r.grad_fn is None and r.requires_grad and id(r) not in self._leaf_names:
                self._leaf_names[id(r)] = unique(r.name, f"leaf{n_leaf}")
                n_leaf += r.name is None
                self.leaves.append(r)
                self.sources.append(r)
        self.leaf_index = {id(t): j for j, t in enumerate(self.leaves)}
        self.const_index = {c[0]: j for j, c in enumerate(self.constants)}
        self._consumers: dict[int, list[tuple[Context, int]]] | None = None
        # a named tensor changed in place is the output of several ops: its earlier versions
        # are `y@1`, `y@2`, ... (oldest first), the current one `y` (the text form read
        # `y mul(x, 2)` ... `y mul(%1, 3)` ... `mul(y, x)`, two results of one name)
        self._versions: dict[int, str] = {}
        count: dict[Any, int] = {}
        for ctx in self.forward:
            out = outputs(ctx)[0][0] if getattr(ctx, "n_outputs", 1) == 1 else None
            if out is not None and out.name and out._grad_fn is not ctx:
                count[id(out)] = count.get(id(out), 0) + 1
                self._versions[id(ctx)] = unique(out.name, suffix=f"@{count[id(out)]}")
            elif out is None and ctx.out_label and ctx.superseded:  # (the tensor is gone)
                key = ("gone", ctx.out_label)
                count[key] = count.get(key, 0) + 1
                self._versions[id(ctx)] = unique(ctx.out_label, suffix=f"@{count[key]}")
        # the other named results: the tensor's name (the node's copy of it once the tensor is
        # gone); a name given to several results -- a loop's `h` -- is `h`, `h#2`, ... oldest
        # first, as the leaves' (the text form read `add(p, p)` for two tensors named p)
        for ctx in self.forward:
            if id(ctx) in self._versions or getattr(ctx, "n_outputs", 1) != 1:
                continue
            out = outputs(ctx)[0][0]
            label = out.name if out is not None else ctx.out_label
            if label:
                self._versions[id(ctx)] = unique(label)

    def named(self, ctx: Context) -> str | None:
        """The name of ``ctx``'s result where it has one (its tensor's, a version's ``y@1``)."""
        return self._versions.get(id(ctx))

    def out_name(self, ctx: Context) -> str:
        name = self._versions.get(id(ctx))
        return name if name is not None else f"%{self.index.get(id(ctx), '?')}"

    def leaf_name(self, t: Tensor) -> str:
        return self._leaf_names.get(id(t)) or self._form(visible(t.name or "leaf"))

    def const_name(self, ctx: Context, i: int) -> str:
        return self._const_names.get((id(ctx), i), f"const({ctx.fn.name}:{i})")

    def is_scalar_constant(self, ctx: Context, i: int) -> bool:
        return ctx.next[i] is None and _number(self._const_names.get((id(ctx), i)))

    def input_name(self, ctx: Context, i: int) -> str:
        """The name of input ``i`` of ``ctx``: the producing op's output, a leaf, a constant."""
        e = ctx.next[i]
        if isinstance(e, Context):
            return self.out_name(e)
        if isinstance(e, Tensor):
            return self.leaf_name(e)
        return self.const_name(ctx, i)

    def is_root(self, ctx: Context) -> bool:
        out = outputs(ctx)[0][0]
        return out is not None and id(out) in self.root_ids

    def consumers(self) -> dict[int, list[tuple[Context, int]]]:
        """For every op and leaf (by id): the ``(op, input index)`` pairs that use it."""
        if self._consumers is None:
            uses: dict[int, list[tuple[Context, int]]] = {}
            for ctx in self.forward:
                for i, e in enumerate(ctx.next):
                    if e is not None:
                        uses.setdefault(id(e), []).append((ctx, i))
            self._consumers = uses
        return self._consumers


# --------------------------------------------------------------------------------- module groups
@dataclass
class Group:
    """Ops drawn as one box: ``count`` repeated blocks (``layers.1 … layers.5 ×5``), or one module
    collapsed to keep a drawing under ``max_nodes``."""

    key: str  # a stable id: the first block's module path
    paths: list[str]  # the module path of each block
    members: list[Context] = field(default_factory=list)  # in forward order
    count: int = 1
    unit: list[str] = field(default_factory=list)  # the op names of one block

    @property
    def title(self) -> str:
        if self.count > 1:
            return f"{self.paths[0]} … {self.paths[-1]}  ×{self.count}"
        return self.paths[0]

    @property
    def summary(self) -> str:
        names = self.unit if self.count > 1 else [c.fn.name for c in self.members]
        text = " → ".join(names[:6]) + (f" → … ({len(names)} ops)" if len(names) > 6 else "")
        return (f"each block: {text}" if self.count > 1 else text)


def _scope(ctx: Context) -> str:
    return ctx.scope or ""


def _parent(path: str) -> str:
    return path.rsplit(".", 1)[0] if "." in path else ""


def _within(scope: str, path: str) -> bool:
    return path == "" or scope == path or scope.startswith(path + ".")


class _ModuleTree:
    """The module paths the ops ran in, as a tree, with the ops of each subtree (forward order)."""

    def __init__(self, forward: list[Context]) -> None:
        self.forward = forward
        self.pos = {id(c): k for k, c in enumerate(forward)}
        self.children: dict[str, list[str]] = {}
        self.ops: dict[str, list[Context]] = {"": list(forward)}
        for ctx in forward:  # children in the order they first ran
            path = _scope(ctx)
            while path:
                self.ops.setdefault(path, []).append(ctx)
                parent = _parent(path)
                kids = self.children.setdefault(parent, [])
                if path not in kids:
                    kids.append(path)
                path = parent

    def contiguous(self, paths: Iterable[str]) -> bool:
        """Whether the ops of ``paths`` (disjoint subtrees) are one unbroken stretch of the forward
        order (so a box around them cannot sit in a cycle: everything outside runs before or after
        it)."""
        lo, hi, n = None, None, 0
        for p in paths:
            ops = self.ops[p]  # in forward order
            a, b = self.pos[id(ops[0])], self.pos[id(ops[-1])]
            lo, hi, n = a if lo is None else min(lo, a), b if hi is None else max(hi, b), n + len(ops)
        return lo is not None and hi - lo + 1 == n

    def signature(self, path: str) -> tuple[Any, ...]:
        """What one block computes, independent of where it is: its ops with their attributes,
        scopes relative to the block, shapes, and where each input comes from."""
        ops = self.ops[path]
        local = {id(c): k for k, c in enumerate(ops)}
        sig = []
        for ctx in ops:
            ins = []
            for i, e in enumerate(ctx.next):
                if isinstance(e, Context):
                    ins.append(("op", local.get(id(e), -1)))
                elif isinstance(e, Tensor):
                    ins.append(("leaf", tuple(e.shape)))
                else:
                    ins.append(("const", tuple(ctx.in_meta[i][0])))
            outs = tuple((shape, str(dtype)) for _, shape, dtype in outputs(ctx))
            sig.append((_scope(ctx)[len(path):], op_label(ctx), outs, tuple(ins)))
        return tuple(sig)


def _expanded(paths: list[str], parent: str, expand: set[str]) -> bool:
    if "" in expand or "*" in expand or parent in expand:
        return True
    return any(n == p or n.startswith(p + ".") or p.startswith(n + ".") for n in expand
               for p in paths)


def find_repeats(forward: list[Context], expand: Iterable[str] = ()) -> list[Group]:
    """Runs of ≥ 2 consecutive sibling modules (or units of up to 4 siblings) that compute the same
    thing on the same shapes -- the blocks of a ResNet stage, the layers of a deep MLP -- each
    collapsed into one :class:`Group`. ``expand`` names module paths to leave open (a block's
    path, a path inside one, or the parent's; ``"*"`` opens all)."""
    tree = _ModuleTree(forward)
    expand = set(expand)
    groups: list[Group] = []
    stack = [""]
    while stack:
        parent = stack.pop()
        kids = tree.children.get(parent, [])
        interned: dict[tuple[Any, ...], int] = {}
        sigs = [interned.setdefault(tree.signature(k), len(interned)) for k in kids]
        candidates = []
        runs: dict[int, list[tuple[int, int]]] = {}  # period -> (start, end) of runs found
        for i in range(len(kids)):
            for p in range(1, min(4, (len(kids) - i) // 2) + 1):
                if any(a + p <= i < b for a, b in runs.get(p, ())):
                    continue  # a whole period into a run already found: a part of it
                unit = sigs[i:i + p]
                k = 1
                while sigs[i + k * p:i + (k + 1) * p] == unit:
                    k += 1
                if k >= 2:
                    runs.setdefault(p, []).append((i, i + k * p))
                if k >= 2 and tree.contiguous(kids[i:i + k * p]):
                    first_has_params = any(isinstance(e, Tensor) for c in tree.ops[kids[i]]
                                           for e in c.next)
                    candidates.append((-(k * p), not first_has_params, i, p, k))
        taken = [False] * len(kids)
        chosen = []
        for _, _, i, p, k in sorted(candidates):
            if any(taken[i:i + k * p]):
                continue
            for j in range(i, i + k * p):
                taken[j] = True
            chosen.append((i, p, k))
        for i, p, k in sorted(chosen):
            blocks = [kids[i + b * p] + ("" if p == 1 else "–" + kids[i + b * p + p - 1]
                                         .rsplit(".", 1)[-1]) for b in range(k)]
            unit = [c.fn.name for kid in kids[i:i + p] for c in tree.ops[kid]]
            if "" in expand or "*" in expand or parent in expand or any(
                    p_.startswith(n + ".") for n in expand for p_ in kids[i:i + k * p]):
                opened = set(range(k))  # the run's parent (or above) named: every block opens
            else:  # only the blocks named (or a path inside one) open; the others stay runs
                opened = {b for b in range(k) if _expanded(kids[i + b * p:i + (b + 1) * p],
                                                           parent, expand)}
            b = 0
            while b < k:
                if b in opened:
                    b += 1
                    continue
                e = b
                while e < k and e not in opened:
                    e += 1
                if e - b >= 2:  # a stretch of >= 2 closed blocks: one ×N box
                    members = [c for kid in kids[i + b * p:i + e * p] for c in tree.ops[kid]]
                    members.sort(key=lambda c: tree.pos[id(c)])
                    groups.append(Group(key=blocks[b], paths=blocks[b:e], members=members,
                                        count=e - b, unit=unit))
                else:
                    opened.add(b)  # a single block left: drawn open
                b = e
            for b in opened:
                for j in range(i + b * p, i + (b + 1) * p):
                    taken[j] = False  # open: look inside the blocks instead
        stack.extend(kid for j, kid in reversed(list(enumerate(kids))) if not taken[j])
    groups.sort(key=lambda g: tree.pos[id(g.members[0])])
    return groups


def collapse_modules(forward: list[Context], depth: int, groups: list[Group],
                     keep: Iterable[Context] = ()) -> list[Group]:
    """Collapse every module at ``depth`` (1 = the children of the root) that is not already in a
    group, each unbroken stretch of its ops into one box. Modules holding a node of ``keep`` (a
    highlighted op) stay open."""
    tree = _ModuleTree(forward)
    grouped = {id(c) for g in groups for c in g.members}
    keep_ids = {id(c) for c in keep}
    result = list(groups)
    for path, ops in tree.ops.items():
        if not path or path.count(".") != depth - 1:
            continue
        if any(id(c) in keep_ids for c in ops):
            continue
        run: list[Context] = []
        calls = []
        for c in ops:
            if id(c) in grouped:
                continue
            if run and tree.pos[id(c)] != tree.pos[id(run[-1])] + 1:
                calls.append(run)
                run = []
            run.append(c)
        if run:
            calls.append(run)
        for n, members in enumerate(calls):
            if len(members) < 2:
                continue
            key = path if len(calls) == 1 else f"{path} (call {n + 1})"
            result.append(Group(key=key, paths=[key], members=members))
    result.sort(key=lambda g: tree.pos[id(g.members[0])])
    return result


def module_depth(forward: list[Context]) -> int:
    return max((_scope(c).count(".") + 1 for c in forward if c.scope), default=0)


# ---------------------------------------------------------------------------------- formatting
def fmt_shape(shape: Sequence[int]) -> str:
    return str(tuple(int(s) for s in shape))


def fmt_number(x: float) -> str:
    if x != x:
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.4g}"
