"""The autograd engine: ``Function`` and its ``Context``, grad mode, and the backward pass.

How a graph is recorded
-----------------------
``MyOp.apply(*tensors, **attrs)`` runs ``MyOp.forward(ctx, *arrays, **attrs)`` on the backend
arrays of its inputs. When gradients are being recorded, ``ctx`` becomes the output's ``grad_fn``:
the graph node. It keeps

* ``ctx.next``: one *edge* per input -- the input's ``grad_fn`` (a ``Context``), the input itself
  when it is a leaf that requires grad, or ``None`` when no gradient flows there;
* ``ctx.needs_input_grad``: which inputs want a gradient (a VJP may skip the others);
* the arrays ``forward`` passed to ``ctx.save_for_backward``, with the version of each so that an
  in-place change made before backward is caught;
* ``ctx.seq``: a creation number. Every node is made after the nodes of its inputs, so sorting by
  ``seq`` (newest first) is a topological order -- no recursion and no dependency counting needed,
  and the order is the same on every run.

How backward runs
-----------------
:func:`run_backward` collects the nodes reachable from the roots with an explicit stack, visits them
newest first, calls each ``Function.backward(ctx, grad)`` (written in Tensor ops, so with
``create_graph=True`` the backward pass is itself recorded), checks that every returned gradient has
its input's shape and dtype, sums gradients that meet at a node, and finally accumulates into the
leaves' ``.grad``. Saved arrays are released as soon as a node has run, unless ``retain_graph``.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import inspect
import itertools
import operator
import os
import re
import sys
import threading
import traceback
import types
import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from tinygrad_cnn import _forward_array as _fa
from tinygrad_cnn._words import a_type
from tinygrad_cnn.backend import (
    ArgumentTypeError,
    ArgumentValueError,
    array_module,
    broadcast_shapes,
    device_of,
    new_locks_after_fork,
    no_memory,
    numpy_warnings_shown,
    out_of_memory,
)
from tinygrad_cnn.layout import follow as layout_follow
from tinygrad_cnn.layout import holds as layout_holds

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])

# --------------------------------------------------------------------------------------------
# Grad mode (per thread)
# --------------------------------------------------------------------------------------------


class _ThreadState(threading.local):
    grad_enabled = True
    scope: str | None = None  # path of the module whose forward is running (for the drawings)
    keep_inputs = False  # nodes keep their input tensors (gradcheck's replay of a graph)
    backward_of: Any = None  # inside detect_anomaly(): the node whose VJP is running
    inference = False  # inside inference_mode(): not even create_graph records
    #: the grad mode as no_grad/enable_grad/set_grad_enabled last set it: what is_grad_enabled()
    #: says inside inference_mode(), where nothing records whatever it is (PyTorch's two flags)
    grad_wanted = True
    #: the running backward pass, for ``viz.record_gradients`` (None: none runs): its number,
    #: the ids of the nodes and leaves it computes gradients for when it has ``inputs``
    #: (``grad()``, ``backward(inputs=...)``; else None), and its root edges (nodes or leaves).
    #: One field, so that a backward saves and restores one attribute (a small op's backward
    #: pays for each)
    backward_run: tuple[int, Any, Any] | None = None
    #: the user's numpy error settings while a backward pass runs quiet (None otherwise): the
    #: settings callbacks of theirs run under (:func:`user_numpy`)
    user_errstate: dict[str, str] | None = None
    module_depth = 0  # Module calls running in this thread (0: none; 1: the outermost)
    call_start = 0  # the workspace's request count when the outermost Module call began


_state = _ThreadState()
_PASSES = itertools.count(1)  # numbers the backward passes (every thread's: one sequence)


class _ProcessFlags:
    """Settings for every thread at once: anomaly detection is global in PyTorch (a NaN made in
    a worker thread's backward raises there too), unlike grad mode."""

    anomaly = False
    anomaly_check = True  # inside detect_anomaly(check_nan=False): record, do not raise


_flags = _ProcessFlags()


_FIRST_ORDER_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def first_order(g: Any, *tensors: Any) -> bool:
    """Whether a VJP may compute its gradient on the arrays, with no nodes: no graph of the
    gradient is being recorded (``backward()`` without ``create_graph``: every training step),
    and the gradient ``g`` and the saved ``tensors`` it reads (None: one not saved) are
    C-ordered numpy arrays of one float32 or float64 dtype (float16's products round in float32
    in PyTorch, which the Tensor expressions model; CuPy keeps them too; other layouts give
    results laid out as PyTorch's, which the ops do). The array expression must be the Tensor
    one, op for op and in its order, so the two give the same bits (``tests/test_first_order.py``
    checks it)."""
    if _state.grad_enabled:
        return False
    gd = g._data
    if type(gd) is not np.ndarray or gd.dtype not in _FIRST_ORDER_DTYPES or not (
            gd.flags.c_contiguous or _c_like(gd.strides)):  # (or a C array expanded: a sum's)
        return False
    for t in tensors:
        if t is None:
            continue
        a = t._data
        if type(a) is not np.ndarray or a.dtype != gd.dtype or not (
                a.flags.c_contiguous or _c_like(a.strides)):
            return False
    return True


class _Scratch:
    """The context of a forward run by :func:`forward_arrays`: takes what the forward stores."""

    def save_for_backward(self, *arrays: Any) -> None:
        pass


def forward_arrays(cls: Any, *arrays: Any, **attrs: Any) -> Any:
    """``cls``'s forward on arrays, outside the graph: a first-order VJP that is itself an op
    (``avg_pool2d_backward``, ``interpolate_backward``, ...) runs its array work without the
    node, its result in C order where the op's is (``contiguous``, as ``apply`` makes it). Not
    for ops whose result ``apply`` lays out by its operands (``pointwise``, and
    ``follows_channels_last`` beside a channels-last operand)."""
    scratch = _Scratch()
    scratch.needs_input_grad = (False,) * len(arrays)  # (nothing is saved for a backward)
    out = cls.forward(scratch, *arrays, **attrs)
    if cls.contiguous and not out.flags.c_contiguous:
        out = out.copy()
    return out


def is_grad_enabled() -> bool:
    """Whether grad mode is on in this thread: operations on tensors that require grad are
    recorded -- except inside ``inference_mode()``, where ``enable_grad()`` turns grad mode on
    (this says True, as PyTorch's) and still nothing records."""
    return _state.grad_wanted if _state.inference else _state.grad_enabled


def is_inference_mode_enabled() -> bool:
    """Whether this thread is inside ``inference_mode()`` (PyTorch's name)."""
    return _state.inference


class _GradModeSwitch:
    """Base of ``no_grad``/``enable_grad``/``set_grad_enabled``: a context manager and decorator."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._previous: list[tuple[bool, bool]] = []

    def __enter__(self) -> None:
        self._previous.append((_state.grad_enabled, _state.grad_wanted))
        # inside inference_mode() nothing records, enable_grad() or not (PyTorch's rule)
        _state.grad_enabled = self._enabled and not _state.inference
        _state.grad_wanted = self._enabled

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.grad_wanted = self._previous.pop()

    def __call__(self, fn: F) -> F:
        enabled = self._enabled
        if inspect.isgeneratorfunction(fn):
            return _generator_in_mode(fn, lambda: _GradModeSwitch(enabled))  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _GradModeSwitch(enabled):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _generator_in_mode(fn: Callable[..., Any], mode: Callable[[], Any]) -> Callable[..., Any]:
    """Decorate a generator function: the mode (a context manager ``mode()`` makes) holds while
    the generator's own code runs (each step), not while the caller works between steps."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gen = fn(*args, **kwargs)
        try:
            with mode():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with mode():
                        gen.close()
                    raise
                except BaseException as exc:
                    with mode():
                        response = gen.throw(exc)
                else:
                    with mode():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return wrapper


class _BareDecorator:
    """``@no_grad`` without parentheses decorates as ``@no_grad()`` does (PyTorch 2.x)."""

    def __new__(cls, orig_func: Any = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments (as a bare decorator it takes a "
                            f"function), got {type(orig_func).__name__}")
        return cls()(orig_func)


class no_grad(_BareDecorator, _GradModeSwitch):  # noqa: N801 (PyTorch's name)
    """Record nothing inside: ``with no_grad(): ...``, ``@no_grad()`` or ``@no_grad``. Nestable,
    per thread."""

    def __init__(self, orig_func: None = None) -> None:
        super().__init__(False)


class enable_grad(_BareDecorator, _GradModeSwitch):  # noqa: N801
    """Record again inside a ``no_grad`` block: ``with enable_grad(): ...``, ``@enable_grad()`` or
    ``@enable_grad``."""

    def __init__(self, orig_func: None = None) -> None:
        super().__init__(True)


class set_grad_enabled(_GradModeSwitch):  # noqa: N801
    """Switch recording on or off. Takes effect at once when called; a context manager restores the
    previous mode on exit; usable as a decorator."""

    def __init__(self, mode: bool) -> None:
        if callable(mode):  # ``@set_grad_enabled`` without a mode: PyTorch's TypeError
            raise TypeError("set_grad_enabled(): argument 'mode' must be bool, not a function; "
                            "decorate with @set_grad_enabled(False) (or @no_grad)")
        if not isinstance(mode, (bool, np.bool_)):  # ('no' would be true): PyTorch's TypeError
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not "
                            f"{type(mode).__name__}")
        super().__init__(bool(mode))
        # (PyTorch's: the mode at the call, restored on exit)
        self._prev = (_state.grad_enabled, _state.grad_wanted)
        _state.grad_enabled, _state.grad_wanted = bool(mode) and not _state.inference, bool(mode)

    def __enter__(self) -> None:
        # the switch happened in __init__; again here, for an object made earlier and entered
        # later (PyTorch's __enter__ sets its mode too)
        _state.grad_enabled = self._enabled and not _state.inference
        _state.grad_wanted = self._enabled

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.grad_wanted = self._prev

    def __call__(self, fn: F) -> F:
        # used as a decorator: undo the call-time switch
        _state.grad_enabled, _state.grad_wanted = self._prev
        return super().__call__(fn)


class _Switch:
    """A nestable on-switch of one flag of ``store`` (``_state``: per thread), as a context
    manager."""

    flag = ""
    store: Any = _state

    def __init__(self) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(getattr(self.store, self.flag))
        setattr(self.store, self.flag, True)

    def __exit__(self, *exc: object) -> None:
        setattr(self.store, self.flag, self._previous.pop())


class keep_inputs(_Switch):  # noqa: N801
    """Inside this block every recorded node keeps its input tensors (``ctx.inputs``), so that it
    can be replayed on its own: ``ctx.fn.apply(*ctx.inputs, **ctx.attrs)`` (gradcheck uses this
    to find the op whose VJP is wrong in a composite function). Costs the inputs' memory."""

    flag = "keep_inputs"


class detect_anomaly(_Switch):  # noqa: N801
    """Inside this block the first op whose forward makes NaN or Inf out of finite inputs, or whose
    VJP returns NaN or Inf, raises ``AnomalyError`` naming the op, the line of user code that
    created it (and the innermost calls), its module and its inputs' ranges. Unlike PyTorch's,
    forwards are checked too, and Inf counts (a masked ``where(x > 0, x.log(), 0)`` raises here):
    ``check_nan=False`` keeps the innermost calls of each node for errors but raises nothing.
    Only ops the graph records are checked: a NaN made under ``no_grad`` or from tensors that do
    not require grad raises where it first meets the graph (the op that takes it in, as its
    input's range), not where it was made."""

    flag = "anomaly"
    store = _flags  # (every thread, as PyTorch's)

    def __init__(self, check_nan: bool = True) -> None:
        super().__init__()
        self._check = bool(check_nan)
        self._checks: list[bool] = []

    def __enter__(self) -> None:
        super().__enter__()
        self._checks.append(_flags.anomaly_check)
        _flags.anomaly_check = self._check

    def __exit__(self, *exc: object) -> None:
        _flags.anomaly_check = self._checks.pop()
        super().__exit__(*exc)


class set_detect_anomaly:  # noqa: N801
    """PyTorch's ``set_detect_anomaly(mode, check_nan=True)``: turns anomaly detection (see
    :class:`detect_anomaly`) on or off at once, for every thread (as PyTorch's); as a context
    manager it restores the previous setting on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._previous = (_flags.anomaly, _flags.anomaly_check)
        _flags.anomaly, _flags.anomaly_check = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        _flags.anomaly, _flags.anomaly_check = self._previous


def set_anomaly_enabled(mode: bool, check_nan: bool = True) -> None:
    """PyTorch's ``torch.set_anomaly_enabled``: anomaly detection on or off (every thread)."""
    _flags.anomaly, _flags.anomaly_check = bool(mode), bool(check_nan)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on (in every thread; PyTorch's name)."""
    return _flags.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection, when on, raises on NaN and Inf (PyTorch's name)."""
    return _flags.anomaly_check


# --------------------------------------------------------------------------------------------
# Function and Context
# --------------------------------------------------------------------------------------------

_seq = itertools.count()
_IN, _OUT, _CONST, _NONE, _IN_NODE = 0, 1, 2, 3, 4  # _IN_NODE: an input with a grad_fn
_FREED = "freed"
_NO_VERSION = [0]  # version counter of saved arrays that alias no tensor


class _NodeName(str):
    """A node's name: a string that returns itself when called (PyTorch's ``name()`` method)."""

    __slots__ = ()

    def __call__(self) -> str:
        return str(self)


class AccumulateGrad:
    """What :attr:`Context.next_functions` gives for a leaf that requires grad (PyTorch's node of
    that name, which adds into the leaf's ``.grad``): ``variable`` is the leaf."""

    __slots__ = ("__weakref__", "_metadata", "variable")
    next_functions: tuple[tuple[Any, int], ...] = ()
    _alive: ClassVar[weakref.WeakValueDictionary[int, AccumulateGrad]] = weakref.WeakValueDictionary()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    @classmethod
    def of(cls, leaf: Tensor) -> AccumulateGrad:
        """The leaf's node: one object per leaf while any reference to it lives, as in PyTorch
        (a walk that meets a leaf twice sees one node; it keeps its leaf, and so its id, alive)."""
        node = cls._alive.get(id(leaf))
        if node is None or node.variable is not leaf:
            node = cls._alive[id(leaf)] = cls(leaf)
        return node

    def name(self) -> str:
        return "AccumulateGrad"

    @property
    def metadata(self) -> dict[str, Any]:
        """PyTorch's ``node.metadata``: a dict of the user's own, one per leaf's node."""
        found = getattr(self, "_metadata", None)
        if found is None:
            found = self._metadata = {}
        return found

    def register_prehook(self, hook: Callable[[tuple[Tensor, ...]], Any]) -> RemovableHandle:
        """``hook((grad,))`` just before ``backward()`` adds the gradient into the leaf's
        ``.grad``, after the leaf's tensor hooks (PyTorch's order; ``grad()`` runs no
        AccumulateGrad, so no such hook either); a returned 1-tuple replaces the gradient,
        ``(None,)`` adds nothing."""
        if not callable(hook):
            raise TypeError(f"AccumulateGrad.register_prehook: the hook must be callable, got "
                            f"{type(hook).__name__}")
        return _add_leaf_hook(_ACCUMULATE_PRE, self.variable, hook)

    def register_hook(self, hook: Callable[[tuple[()], tuple[Tensor]], Any]) -> RemovableHandle:
        """``hook(grad_inputs, grad_outputs)`` after ``backward()`` has added the gradient into
        the leaf's ``.grad`` (and its post-accumulate-grad hooks ran): ``grad_inputs`` is ``()``
        (the node sends nothing on), ``grad_outputs`` ``(grad,)``; it returns None (PyTorch's
        order and arguments)."""
        if not callable(hook):
            raise TypeError(f"AccumulateGrad.register_hook: the hook must be callable, got "
                            f"{type(hook).__name__}")
        return _add_leaf_hook(_ACCUMULATE_POST, self.variable, hook)

    def __repr__(self) -> str:
        return f"<AccumulateGrad of a leaf of shape {tuple(self.variable.shape)}>"


class Context:
    """What one op application remembers for its backward pass; also the graph node (``grad_fn``).

    In ``forward``: ``ctx.save_for_backward(*arrays)``, ``ctx.needs_input_grad``, and any attribute
    you set (``ctx.k = 3``). In ``backward``: ``ctx.saved_tensors`` gives the saved arrays back as
    Tensors (inputs and output connected to the graph, so VJPs are differentiable).
    """

    # Set on every node (slots); the rarely used ones below are class-level defaults that a node
    # overrides in its own __dict__ when it needs to (fewer stores per op on the hot path).
    __slots__ = (
        "__dict__",
        "__weakref__",
        "_saved",
        "_to_save",
        "attrs",
        "fn",
        "in_meta",
        "in_names",
        "needs_input_grad",
        "next",
        "out",
        "out_meta",
        "scope",
        "seq",
        "source",
    )

    #: whether a backward pass has run this node's VJP (for the drawings)
    backward_ran = False
    #: (outputs, places of the arrays among them) where a user's forward returned other values
    #: beside its arrays (see _apply_passthrough); None otherwise
    passthrough: tuple[int, tuple[int, ...]] | None = None
    #: the name given to the output (``y.name = "y"``), for the drawings once it is gone
    out_label: str | None = None
    #: the named output moved on to a newer node (an in-place change): this is an earlier version
    superseded = False
    #: tensor hooks registered on the output (``register_hook``)
    hooks: list[Callable[[Tensor], Tensor | None]] | None = None
    #: the output, weakly, when it called ``retain_grad()``
    retained: weakref.ref[Tensor] | None = None
    #: the innermost calls where the node was created (inside ``detect_anomaly()``)
    stack: list[str] | None = None
    #: the input tensors, kept only inside ``keep_inputs()`` (to replay a node by itself)
    inputs: tuple[Tensor, ...] | None = None
    #: how many outputs ``forward`` returned (a tuple of k arrays: each output tensor's grad_fn is
    #: then a small "output k of" node, and ``backward`` receives k gradients)
    n_outputs = 1
    #: missing output gradients arrive as zeros (not None)
    materialize = True
    #: what ``mark_dirty`` / ``mark_non_differentiable`` marked
    special: dict[str, Any] | None = None
    #: node hooks (``grad_fn.register_prehook`` / ``register_hook``): ``{"pre": [...], "post":
    #: [...]}``, None for a node that has none
    node_hooks: dict[str, list[Any]] | None = None
    #: for the output of a user's Function that shares an input's (or another output's) memory:
    #: the shared version counter's value when it was made (see _check_function_view)
    alias_at: int | None = None
    #: this node's own ``vjp_reads_input`` where it depends on the op's arguments (pad's modes)
    reads_input: bool = False
    #: a multi-output op's per-output nodes, in order (None for an output without one)
    out_hooked: tuple[Context | None, ...] = ()
    #: set by a view op's forward that copied instead (getitem with an index array): an empty
    #: result is then no view of its input either (it shares no memory to tell)
    copied: bool = False

    def __init__(self, fn: type[Function], needs_input_grad: tuple[bool, ...]) -> None:
        self.fn = fn
        self.needs_input_grad = needs_input_grad
        self._to_save: tuple[Any, ...] = ()
        self._saved: Any = ()
        # set when the node is recorded (``_record``): its edges ``next``, the inputs' shapes and
        # dtypes ``in_meta``, ``attrs``, the creation number ``seq``; for the drawings the output
        # (weakly: a node must not keep its output alive) and its shape and dtype, the inputs'
        # names, the module the op ran in (``scope``) and where the user's code created it
        # (``source``: the code object and line of the first frame outside tinygrad_cnn)
        self.next: tuple[Any, ...] = ()
        self.seq = -1
        self.source: tuple[Any, int] | None = None

    @property
    def name(self) -> str:
        """The registry name of the op that made this node (``"conv2d"``, ``"add"``, ...); a
        string that may also be called, ``grad_fn.name()``, as PyTorch's method is."""
        return _NodeName(self.fn.name)

    @property
    def metadata(self) -> dict[str, Any]:
        """PyTorch's ``grad_fn.metadata``: a dict of the user's own, kept with the node (the
        same dict at every access; made at the first)."""
        found = self.__dict__.get("_metadata")
        if found is None:
            found = self.__dict__["_metadata"] = {}
        return found

    @metadata.setter
    def metadata(self, value: Any) -> None:  # (a Function's forward may set ctx.metadata)
        self.__dict__["_metadata"] = value

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """PyTorch's ``grad_fn.next_functions``: per input ``(node, output index)`` -- the input's
        ``grad_fn`` (for output ``k`` of an op with several, that op and ``k``), an
        :class:`AccumulateGrad` for a leaf that requires grad (its ``variable`` is the leaf), or
        ``(None, 0)``. Graph-walking code written for PyTorch works on it. Kept on the node, so
        the AccumulateGrads live as long as the graph, as PyTorch's (a walk that keys on ids
        must not see one's id reused by another's)."""
        kept = self.__dict__.get("_next_functions")
        if kept is not None:
            return kept
        out: list[tuple[Any, int]] = []
        for e in self.next:
            if e is None:
                out.append((None, 0))
            elif type(e) is not Context:
                out.append((AccumulateGrad.of(e), 0))
            elif e.fn is OutputOf:
                out.append((e.next[0], e.index))  # type: ignore[attr-defined]
            else:
                out.append((e, 0))
        kept = self.__dict__["_next_functions"] = tuple(out)
        return kept

    def register_prehook(self, hook: Callable[[tuple[Tensor | None, ...]], Any]
                         ) -> RemovableHandle:
        """PyTorch's ``grad_fn.register_prehook``: ``hook(grad_outputs)`` before this node's VJP
        runs, with one gradient (or None) per output of the op; a returned tuple of the same
        length replaces them. Runs after the output tensor's own hooks (``register_hook``)."""
        return self._add_node_hook("pre", hook)

    def register_hook(self, hook: Callable[[tuple[Tensor | None, ...], tuple[Tensor | None, ...]],
                                           Any]) -> RemovableHandle:
        """PyTorch's ``grad_fn.register_hook``: ``hook(grad_inputs, grad_outputs)`` after this
        node's VJP has run -- what it sends to each input (None where nothing) and what it
        received; a returned tuple of the same length replaces ``grad_inputs``."""
        return self._add_node_hook("post", hook)

    def _add_node_hook(self, kind: str, hook: Any) -> RemovableHandle:
        if self.fn is OutputOf:  # output k of an op with several: the op's node, as PyTorch's
            return self.next[0]._add_node_hook(kind, hook)
        if not callable(hook):
            raise TypeError(f"grad_fn.register_{'prehook' if kind == 'pre' else 'hook'}: the hook "
                            f"must be callable, got {type(hook).__name__}")
        if self.node_hooks is None:
            self.node_hooks = {"pre": [], "post": []}
        hooks = self.node_hooks[kind]
        return RemovableHandle.register(hooks, hook)

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep backend arrays for backward; they come back as Tensors from ``saved_tensors``."""
        self._to_save = arrays

    def mark_non_differentiable(self, *arrays: Any) -> None:
        """Outputs (arrays ``forward`` returns) that get no gradient (indices, masks): their tensors
        do not require grad, and ``backward`` receives zeros (or None) for them."""
        _marked_arrays("mark_non_differentiable", arrays)
        self.special = {**(self.special or {}), "non_diff": arrays}

    def mark_dirty(self, *arrays: Any) -> None:
        """Input arrays that ``forward`` changed in place (a user's in-place Function). Their
        tensors' version counters are bumped; an input that ``forward`` also returns comes back
        as the same Tensor object, whose history now ends in this op (PyTorch's rule). A leaf
        that requires grad, or a view, cannot be changed this way while recording."""
        _marked_arrays("mark_dirty", arrays)
        self.special = {**(self.special or {}), "dirty": arrays}

    def set_materialize_grads(self, value: bool) -> None:
        """``False``: ``backward`` receives None (not zeros) for outputs that got no gradient."""
        self.materialize = bool(value)

    def __getattr__(self, name: str) -> Any:  # (only for names not found: no cost elsewhere)
        if name.startswith(("_saved_", "_raw_saved_")):  # (PyTorch's grad_fn._saved_self: t149)
            raise AttributeError(
                f"grad_fn has no {name}: PyTorch's per-argument saved attributes are not kept "
                "here; read grad_fn.saved_tensors (what the op saved, as Tensors, in order)")
        raise AttributeError(name)

    @property
    def saved_tensors(self) -> tuple[Tensor, ...]:
        saved = self._saved
        if saved is _FREED:
            raise RuntimeError(
                f"{self.fn.name}: trying to backward through the graph a second time (or to read "
                "saved tensors after they were freed). Saved tensors are released after backward; "
                "pass retain_graph=True to the first backward() or grad() call to keep them."
            )
        out = []
        for i, (kind, obj, counter, version) in enumerate(saved):
            if counter[0] != version:
                raise RuntimeError(
                    # (PyTorch's words first, so that a test matching them passes here too: t187)
                    f"one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: saved tensor {i} of {self.fn.name} was modified by an "
                    f"in-place operation since it was saved -- it is at version {counter[0]}, "
                    f"expected version {version}. {self._where()}".rstrip()
                    + " Do the in-place change after backward, or work on a .clone()."
                )
            if kind == _IN or kind == _NONE:
                out.append(obj)
            elif kind == _IN_NODE:
                if obj.grad_fn is None:  # (only detach_ takes a non-leaf's grad_fn away)
                    raise RuntimeError(
                        f"saved tensor {i} of {self.fn.name} has been detached in place "
                        f"(.detach_()) since it was saved, as PyTorch refuses: its gradient "
                        f"would flow through a graph that no longer exists. {self._where()}"
                        .rstrip() + " Use the out-of-place .detach() instead.")
                out.append(obj)
            elif kind == _OUT:
                node = self if self.n_outputs == 1 else self.out_nodes[id(obj)]  # type: ignore
                out.append(_TensorCls._make(obj, True, node, counter))
            else:
                out.append(_TensorCls._make(obj))
        return tuple(out)

    def _saved_input_changed(self, i: int) -> Any:
        """Saved tensor ``i`` -- an input -- if it changed in place since (for an op whose VJP
        needs only its graph, its values being kept otherwise), else None; a freed one raises
        as ``saved_tensors`` does."""
        if self._saved is _FREED:
            return self.saved_tensors
        kind, obj, counter, version = self._saved[i]
        return obj if kind in (_IN, _IN_NODE) and counter[0] != version else None

    @property
    def source_line(self) -> str | None:
        """``"file.py:42 in forward"``: the line of user code that created this node."""
        if self.source is None:
            return None
        code, line = self.source
        # (a notebook cell's file is a temporary one, /tmp/ipykernel_<pid>/<n>.py, another in
        # every kernel: `<cell>`, as the drawings name it -- a file's path stays whole)
        name = "<cell>" if NOTEBOOK_FILE.search(code.co_filename) else code.co_filename
        return f"{name}:{line} in {code.co_name}"

    @property
    def module(self) -> str | None:
        """The path of the module (``"features.3"``) whose forward created this node, if any."""
        return self.scope

    def _where(self) -> str:
        where = f"The {self.fn.name} was created at {self.source_line}"
        if self.scope:
            where += f" (in module {scope_text(self.scope)})"
        if self.stack:
            return f"{where}; the innermost calls:\n{''.join(self.stack)}"
        return where + "."

    def __repr__(self) -> str:
        """PyTorch's form, ``<MulBackward object at 0x...>`` (its ``name()`` is the op's
        registered name, ``'mul'``)."""
        return f"<{self.fn.__name__}Backward object at {id(self):#x}>"


def _snake(name: str) -> str:
    """``MaxPool2d`` -> ``max_pool2d``; an acronym is one word (``GELUTanh`` -> ``gelu_tanh``,
    ``LSTMCell`` -> ``lstm_cell``: was ``gelutanh``, ``lstmcell`` -- t185)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


class Function:
    """An op with its vector-Jacobian product. Subclass it, write two static methods, call ``apply``::

        class Mul(Function):
            @staticmethod
            def forward(ctx, x, y):              # backend arrays in, a backend array out
                ctx.save_for_backward(x, y)
                return x * y

            @staticmethod
            def backward(ctx, grad):             # grad is a Tensor; one Tensor (or None) per input
                x, y = ctx.saved_tensors
                return grad * y, grad * x

        z = Mul.apply(a, b)

    Keyword arguments of ``apply`` are passed to ``forward`` and kept as ``ctx.attrs`` (the drawings
    show them). ``name`` defaults to the class name in snake case.
    """

    name: ClassVar[str] = "function"
    #: True for ops whose output may share memory with their first input (reshape, permute, ...):
    #: the output then shares the input's version counter, so an in-place change through either
    #: one is seen by a backward that saved the other.
    is_view: ClassVar[bool] = False
    #: the result is made C-contiguous, as PyTorch's reductions, scans and softmax give theirs (a
    #: later ``reshape``/``view`` of it then shares memory in both libraries, not a copy in one)
    contiguous: ClassVar[bool] = False
    #: an elementwise op: its result is laid out in memory as PyTorch's TensorIterator lays out
    #: its own (the inputs' order of strides, the first input deciding where they disagree; numpy
    #: prefers C order there), so that a later ``reshape`` is a view or a copy in both libraries
    #: alike -- and an in-place change through it reaches the same tensors (set in ``ops``)
    pointwise: ClassVar[bool] = False
    #: the attribute holding an array that comes first among a pointwise op's operands in
    #: PyTorch (``where``'s condition): its layout decides first
    lead: ClassVar[str | None] = None
    #: the result lies channels-last where the (first) input does -- a 4-d array in (N, H, W, C)
    #: order and not also in C order -- as PyTorch's convolutions, pools and resampling give it
    #: (their ``suggest_memory_format``); else as the forward made it (set in ``ops``)
    follows_channels_last: ClassVar[bool] = False
    #: the VJP selects or scatters ``g`` by where the input lies (relu, the pools): PyTorch's
    #: formula reads the input (``"output"``: relu's reads its output), so under ``create_graph``
    #: the gradient depends on it with zero derivative -- the engine links it (:class:`ZeroLink`)
    vjp_reads_input: ClassVar[bool | str] = False
    #: the op is ``getitem``, whose node may be a piece of ``split``/``unbind``/``chunk`` (the
    #: ``piece`` attribute): its VJP is then written straight into its input's gradient
    #: (:func:`_add_piece`) -- by that class itself, not a subclass that wraps its VJP (the
    #: recording classes of ``viz.record_gradients``)
    pieces: ClassVar[bool] = False
    _user: ClassVar[bool] = False  # see __init_subclass__
    _setup_context: ClassVar[bool] = False  # see __init_subclass__
    _forward_parameters: ClassVar[tuple[tuple[str, ...], bool]] = ((), False)  # (the same)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = _snake(cls.__name__)
        # a user's Function (not one of ours, nor our wrapper of one): its forward may return an
        # input, or a view of one, which then shares that input's version counter
        cls._user = (not cls.__module__.startswith("tinygrad_cnn.")
                     or any(getattr(b, "_user", False) for b in cls.__bases__))
        # PyTorch 2's form: forward(*args) without ctx, and setup_context(ctx, inputs, output)
        cls._setup_context = any("setup_context" in vars(k) for k in cls.__mro__
                                 if k is not Function and issubclass(k, Function))
        if cls._user:  # (what apply binds keywords by, and setup_context's inputs)
            cls._forward_parameters = _read_forward_parameters(cls)
        # PyTorch's alias: a Function may name its VJP ``vjp`` instead of ``backward``
        mine = [k for k in cls.__mro__ if k is not Function and issubclass(k, Function)]
        if (not any("backward" in vars(k) for k in mine)
                and any("vjp" in vars(k) for k in mine)):
            cls.backward = cls.__dict__.get("vjp", cls.vjp)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = type(self).__name__
        raise RuntimeError(
            f"{name}: a Function is not called as an object ({name}()(x), the legacy form "
            f"PyTorch dropped too); call {name}.apply(x, ...) with static forward and backward")

    @staticmethod
    def forward(ctx: Context, *args: Any, **attrs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Any:
        raise NotImplementedError(
            f"{ctx.fn.name}: this Function defines no backward; write a static method "
            "backward(ctx, *grads) (or vjp) that returns one gradient (or None) per input of "
            "forward")

    @classmethod
    def apply(cls, *inputs: Tensor, **attrs: Any) -> Tensor:
        if attrs:
            if cls._user and "_tensors" not in attrs:
                inputs, attrs = _bind_keywords(cls, inputs, attrs)
            elif "keepdim" in attrs and attrs["keepdim"].__class__ is not bool:
                attrs["keepdim"] = keepdim_arg(cls.name, attrs["keepdim"])
        Tensor = _TensorCls
        arrays = []
        needs = []
        requires = False
        for t in inputs:
            if not isinstance(t, Tensor):
                if not cls.__module__.startswith("tinygrad_cnn."):
                    # a user's Function called as in PyTorch, ``Scale.apply(x, 0.5)``
                    return _with_constants(cls).apply_mixed(inputs, attrs)
                raise TypeError(
                    f"{cls.name}: inputs must be Tensors, got {type(t).__name__}; pass non-tensor "
                    "arguments as keywords"
                )
            view = t._view
            if view is not None and view[0]._grad_fn is not view[1]:
                t._refresh_view()  # its base was changed in place since: see it through the change
            elif t.__class__ is _FunctionView:
                _check_function_view(t, cls.name)
            arrays.append(t._data)
            needs.append(t._requires_grad)
            if t._requires_grad:
                requires = True
        if len(arrays) > 1:
            kind = type(arrays[0])
            for a in arrays:
                if type(a) is not kind:  # mixed array types: maybe two devices
                    _check_one_device(cls, arrays)
                    break
            if len(arrays) == 2:
                if arrays[0] is arrays[1] and inputs[0] is not inputs[1]:
                    arrays[1] = arrays[1].view()  # see _distinct_arrays
            else:
                _distinct_arrays(inputs, arrays)
        requires = requires and _state.grad_enabled
        # (a user's forward sees which inputs require grad even under no_grad, as in PyTorch;
        # the engine's own ops skip saving for a backward that cannot come)
        ctx = Context(cls, tuple(needs) if requires or cls._user else (False,) * len(inputs))
        try:
            if cls._user:  # a user's forward runs with recording off, as PyTorch's does
                with _GradModeSwitch(False):
                    out = _call_forward(cls, ctx, arrays, attrs,
                                        [t._version_counter for t in inputs])
                _warn_widened(cls, arrays, out)
            elif numpy_warnings_shown():  # (a filter in front of the package's: quiet here)
                with np.errstate(all="ignore"):
                    out = cls.forward(ctx, *arrays, **attrs)
            else:
                out = cls.forward(ctx, *arrays, **attrs)
        except (ValueError, IndexError, MemoryError) as exc:  # numpy's, in the op's words
            if cls._user:  # (a user's Function's own error, as raised: t181)
                raise
            if out_of_memory(exc):  # (PyTorch's is a RuntimeError)
                raise no_memory(cls.name, exc) from None
            if isinstance(exc, MemoryError) or not _NUMPY_DIMS.search(str(exc)):
                raise
            from tinygrad_cnn.tensor import too_many_dims  # (its 64-dim limit)

            raise ArgumentValueError(too_many_dims(cls.name)) from None
        if cls._user and type(out) is not tuple and _passed_through(out):
            return _as_tensors(out, inputs, arrays)  # (no array: no node, as PyTorch's)
        if type(out) is tuple or ctx.special is not None:
            if cls._user and type(out) is tuple and any(_passed_through(o) for o in out):
                return _apply_passthrough(cls, ctx, inputs, arrays, out, requires, attrs)
            return _apply_general(cls, ctx, inputs, arrays, out, requires, attrs)
        if type(out) is np.ndarray:
            xp: Any = np
        else:
            xp = array_module(out)
            if type(out) is not xp.ndarray:  # numpy turns 0-d results into scalars
                out = _as_array(cls, ctx, out)
        old = out  # (a result laid out anew below: a saved output is the new one, linked to
        if cls.follows_channels_last and out.ndim == 4 and (lead := next(  # the graph)
                (a for a in arrays[:2] if a.ndim == 4 and not a.flags.c_contiguous), None)) \
                is not None:  # (a convolution's input or weight channels-last: PyTorch's rule)
            out = layout_follow(lead, out)
            if cls.contiguous and not out.flags.c_contiguous and not layout_holds(out,
                                                                               "channels_last"):
                out = out.copy()  # (a transposed input's eval batch norm: C order, as PyTorch's)
        elif cls.contiguous and not out.flags.c_contiguous:
            out = out.copy()  # (C order; ascontiguousarray would make a 0-d result 1-d)
        elif cls.pointwise and out.ndim > 1:
            operands = arrays if cls.lead is None else (attrs[cls.lead], *arrays)
            for a in operands:
                if a.ndim > 1 and not a.flags.c_contiguous:
                    if not _c_like(a.strides):
                        out = _pointwise_layout(out, operands, xp)
                        break
                    # (every operand in C order, or expanded from it -- a gradient broadcast
                    # back over a sum's dims -- gives PyTorch's order: C; numpy's K order of an
                    # expand's astype is not)
                    if not out.flags.c_contiguous:
                        out = xp.ascontiguousarray(out)
        if ctx._to_save and out is not old:
            ctx._to_save = tuple(out if s is old else s for s in ctx._to_save)
        view = None
        a0 = arrays[0] if cls.is_view else None
        if a0 is not None and (_views(out, a0) or xp.may_share_memory(out, a0)
                               or (out.size == 0 and not ctx.copied)):
            # a view: it shares its base's memory and version counter, and remembers how it was
            # made from the base, so that an in-place change through it (or through the base) can
            # be recorded on the base and seen by every view (PyTorch's view + CopySlices)
            src = inputs[0]
            counter = src._version_counter
            base = src if src._view is None else src._view[0]
            view = (base, base._grad_fn, src, cls, attrs)
            made_without_grad = (src._requires_grad and not _state.grad_enabled) or \
                "_no_grad_view" in src.__dict__
        else:
            counter = _counter_of(out, inputs, arrays) if cls._user else None
        aliased = counter is not None and view is None
        if counter is None:
            counter = [0]
        if not requires or out.dtype.kind not in "fc":
            result = Tensor._make(out, False, None, counter)
            result._view = view
            if view is not None and made_without_grad:  # (see Tensor._check_no_grad_view)
                result.__dict__["_no_grad_view"] = True
            return result
        result = Tensor._make(out, True, ctx, counter)
        result._view = view
        if aliased:  # an input's memory returned by a user's forward: see _FunctionView
            result.__class__ = _FunctionView
            ctx.alias_at = counter[0]
        # the node (what _record does, inline and in one loop: the hot path of every op)
        edges, metas, names = [], [], []
        for t in inputs:
            a = t._data
            metas.append((a.shape, a.dtype))
            if t._requires_grad:
                edges.append(t._grad_fn or t)
                names.append(t._name)
            else:  # a constant: an unnamed 0-d one is drawn by its value, as a number is
                edges.append(None)
                names.append(t._name if t._name is not None or a.ndim else _value_label(a))
        ctx.next, ctx.in_meta, ctx.in_names = tuple(edges), tuple(metas), tuple(names)
        ctx.attrs = attrs
        ctx.seq = seq = next(_seq)
        if not seq & _DEFER_MASK:
            _defer_full_collections(ctx)
        ctx.out = weakref.ref(result)
        ctx.out_meta = (out.shape, out.dtype)
        ctx.scope = _state.scope
        ctx.source = _user_frame()
        if _state.keep_inputs:
            ctx.inputs = tuple(inputs)
        if _flags.anomaly:
            ctx.stack = _user_stack(1)  # the innermost calls of the user's code
            ctx.in_ranges = _ranges(arrays)  # (named if its backward makes a NaN or Inf)
        if ctx._to_save:
            ctx._saved = _resolve_saved(cls, ctx._to_save, inputs, arrays, ((out, counter, None),))
            ctx._to_save = ()
        if _flags.anomaly and _flags.anomaly_check:
            _check_forward(ctx, arrays, result)
        return result


def _c_like(strides: tuple[int, ...]) -> bool:
    """Whether an array's strides, its broadcast (0) ones aside, shrink from one dim to the next
    (C order, or an expand of it): such an operand does not move a result off C order. Equal
    strides (an overlapping view: ``unfold``'s (1, 1)) are not: PyTorch puts the smaller of the
    two dims first there (its abs() of a (2, 3) unfold has strides (1, 2), not (3, 1))."""
    last = 0
    for st in strides:
        if st:
            st = abs(st)
            if last and st >= last:
                return False
            last = st
    return True


def _pointwise_layout(out: Any, arrays: Sequence[Any], xp: Any) -> Any:
    """``out`` (an elementwise op's result) in the memory order PyTorch's TensorIterator gives
    it (:func:`torch_order`): ``out`` itself where it is already laid out so, a copy otherwise."""
    shape = out.shape
    perm = torch_order(shape, arrays)
    step = out.itemsize
    for d in perm:
        if shape[d] > 1 and out.strides[d] != step:
            new = empty_in_order(shape, out.dtype, perm, xp)
            new[...] = out
            return new
        step *= shape[d]
    return out


def torch_order(shape: tuple[int, ...], arrays: Sequence[Any]) -> list[int]:
    """The dims of a new array of ``shape``, fastest first, in the order PyTorch lays out the
    result of an elementwise op over ``arrays`` (TensorIterator) and a ``preserve_format`` copy
    of one array (``empty_like``, ``clone``: ``infer_dense_strides``): sorted by the arrays'
    strides -- the first array whose strides differ for two dims decides, dims an array
    broadcasts (stride 0) do not count for it, equal strides put the smaller dim first -- and
    in C order where nothing decides."""
    nd = len(shape)
    strides = []
    for a in arrays:
        if a.ndim == 0:
            continue
        pad = nd - a.ndim
        # (|stride|: a negative step -- ours, not PyTorch's -- orders as numpy orders it)
        strides.append((0,) * pad + tuple(0 if n == 1 and shape[pad + k] != 1 else abs(s)
                                          for k, (n, s) in enumerate(zip(a.shape, a.strides))))

    def order(d0: int, d1: int) -> int:  # 1: d0 goes after d1 (PyTorch's should_swap)
        for st in strides:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(nd - 1, -1, -1))  # insertion sort with ambiguous pairs, as PyTorch's
    for i in range(1, nd):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = order(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    return perm


def empty_in_order(shape: tuple[int, ...], dtype: Any, perm: Sequence[int], xp: Any) -> Any:
    """An uninitialised array of ``shape`` whose dims lie in memory in order ``perm`` (fastest
    first)."""
    slow = list(perm[::-1])
    return xp.empty(tuple(shape[d] for d in slow), dtype).transpose(
        tuple(slow.index(d) for d in range(len(shape))))


#: what the engine writes on a node after (or around) a user's forward: an attribute of the
#: user's own of one of these names was overwritten -- ``ctx.seq = 2`` read back as a counter,
#: ``ctx.next`` as the input tuple (a silently wrong gradient) -- or broke the graph
_ENGINE_ATTRS = ("attrs", "fn", "in_meta", "in_names", "next", "out", "out_meta", "scope", "seq",
                 "source", "backward_ran", "passthrough", "out_label", "superseded", "hooks",
                 "retained", "stack", "inputs", "n_outputs", "node_hooks", "alias_at",
                 "reads_input", "copied", "_saved")
_UNSET_ATTR = object()
#: the files of notebook cells (IPython's temporary ones)
NOTEBOOK_FILE = re.compile(r"(ipykernel_\d+[/\\]\d+\.py$|^<ipython-input-)")


def _setup_inputs(cls: Any, views: list[Any], attrs: dict[str, Any]) -> tuple[Any, ...]:
    """``setup_context``'s ``inputs``: every argument of ``forward`` in its order, keywords and
    defaults included, as PyTorch binds them (``(x, 1.0)`` for ``apply(x)`` of ``forward(x,
    scale=1.0)``; was ``(x,)``: an IndexError for ``inputs[1]``)."""
    if not attrs and not cls._forward_parameters[1]:
        return tuple(views)
    try:
        bound = inspect.signature(cls.forward).bind(*views, **attrs)
    except TypeError:
        return tuple(views)
    bound.apply_defaults()
    return tuple(bound.args)


def _read_forward_parameters(cls: Any) -> tuple[tuple[str, ...], bool]:
    """The positional parameters of a user's ``forward`` after ``ctx`` (the old form), and
    whether any has a default (read once per class, in ``__init_subclass__``)."""
    try:
        params = list(inspect.signature(cls.forward).parameters.values())
    except (TypeError, ValueError):
        return (), False
    if not cls._setup_context and params and params[0].kind in (
            inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
        params = params[1:]  # (ctx)
    positional = tuple(p for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                       inspect.Parameter.POSITIONAL_OR_KEYWORD))
    return tuple(p.name for p in positional), any(
        p.default is not inspect.Parameter.empty for p in positional)


def _check_user_attributes(cls: Any, ctx: Context, before: list[Any], views: list[Any]) -> None:
    """A user's forward set no attribute the engine uses (an error naming it: PyTorch's ctx
    takes these names, ours keeps the node's own state in them), and kept no input array as an
    attribute without saying what that means here (a warning)."""
    for name, old in zip(_ENGINE_ATTRS, before):
        if getattr(ctx, name, _UNSET_ATTR) is not old:
            raise AttributeError(
                f"{cls.__name__}.forward set ctx.{name}, a name the engine keeps the graph node's "
                f"own state in (it would be overwritten or break the graph); store it under "
                f"another name, e.g. ctx.my_{name.lstrip('_')}")
    if ctx.special is not None and not isinstance(ctx.special, dict):
        raise AttributeError(f"{cls.__name__}.forward set ctx.special, a name the engine keeps "
                             "what mark_dirty and mark_non_differentiable marked in; store it "
                             "under another name, e.g. ctx.my_special")
    needs = ctx.needs_input_grad
    for key, value in ctx.__dict__.items():
        for i, v in enumerate(views):
            # (only an input that would get a gradient: an index or a mask kept so loses
            # nothing)
            if value is v and isinstance(v, _fa.ForwardArray) and i < len(needs) and needs[i]:
                warnings.warn(
                    f"{cls.__name__}.forward keeps its input {i} as ctx.{key}: forward's inputs "
                    f"are numpy arrays here, so in backward ctx.{key} is a constant -- no "
                    "gradient flows through it, and second derivatives lose its terms (PyTorch's "
                    "ctx would hold the tensor); save it with ctx.save_for_backward(...) and read "
                    "ctx.saved_tensors", UserWarning, stacklevel=4)
                break


def _bind_keywords(cls: Any, inputs: tuple[Any, ...], attrs: dict[str, Any]
                   ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A user's ``F.apply(x, w=w)`` as PyTorch 2 binds it: a tensor passed by keyword for a
    positional parameter of ``forward`` (after ``ctx``, in the old form) joins the positional
    arguments in its place, with the keywords before it, so it is an input (it was kept as a
    constant attribute: its gradient silently lost). Keywords after the last such tensor stay
    keywords (``ctx.attrs``, drawn by name; ``backward`` returns gradients for the positional
    arguments alone, as before). A tensor that requires grad and cannot take its place (a
    parameter before it is missing) is an error."""
    if not any(isinstance(v, _TensorCls) for v in attrs.values()):
        return inputs, attrs
    positional = cls._forward_parameters[0]
    args, rest = list(inputs), dict(attrs)
    run = []  # the keywords that can take their places, in order
    for name in positional[len(args):]:
        if name not in rest:
            break
        run.append(name)
    last = max((i for i, name in enumerate(run) if isinstance(rest[name], _TensorCls)),
               default=-1)
    for name in run[:last + 1]:
        args.append(rest.pop(name))
    for name, value in rest.items():
        if isinstance(value, _TensorCls) and value.requires_grad:
            raise TypeError(
                f"{cls.__name__}.apply: the tensor passed as {name}= cannot be bound to a "
                f"positional parameter of forward (one before it is missing), so it would get no "
                f"gradient; pass it positionally")
    return tuple(args), rest


def _call_forward(cls: Any, ctx: Context, args: Sequence[Any], attrs: dict[str, Any],
                  counters: Sequence[Any] | None = None) -> Any:
    """A user's ``forward``: ``forward(ctx, *args)``, or PyTorch 2's ``forward(*args)`` followed
    by ``setup_context(ctx, inputs, output)``."""
    # (numpy arrays of a subclass that refuses the methods whose numpy meaning differs from
    # PyTorch's -- x.std(), x.repeat(2), x.max(1), x.sort(): _forward_array.py -- and plain
    # arrays again in what forward returns, saves and marks)
    # (each input's array carries its tensor's version counter: a write into it in forward is an
    # in-place change of the tensor, as PyTorch's; see ForwardArray)
    views = [_fa.wrap(a, c) for a, c in zip(args, counters)] if counters is not None else \
        [_fa.wrap(a) for a in args]
    before = [getattr(ctx, name, _UNSET_ATTR) for name in _ENGINE_ATTRS]
    if not cls._setup_context:
        out = cls.forward(ctx, *views, **attrs)
    else:
        out = cls.forward(*views, **attrs)
        cls.setup_context(ctx, _setup_inputs(cls, views, attrs), out)
    _check_user_attributes(cls, ctx, before, views)
    back = {id(v): a for v, a in zip(views, args) if v is not a}
    # an argument wrapped already (the Function of non-tensor arguments calls this inside its
    # own call): kept as it is here, for the outer call to map back to its input -- made a new
    # plain view here, a saved input lost its identity and its graph (a second derivative
    # through F.apply(x, 5) dropped the saved x's term)
    back.update({id(v): v for v, a in zip(views, args) if v is a and isinstance(v, _fa.ForwardArray)})
    out = _plain_outputs(out, back)
    if ctx._to_save:
        ctx._to_save = tuple(_unwrapped(a, back) for a in ctx._to_save)
    if ctx.special:
        ctx.special = {k: (tuple(_unwrapped(a, back) for a in v) if k in ("dirty", "non_diff")
                           else v) for k, v in ctx.special.items()}
    for k, v in list(ctx.__dict__.items()):  # (arrays kept on ctx for backward: ctx.mask = x > 0)
        if isinstance(v, _fa.ForwardArray):
            ctx.__dict__[k] = _unwrapped(v, back)
        elif type(v) in (tuple, list) and any(isinstance(a, _fa.ForwardArray) for a in v):
            ctx.__dict__[k] = type(v)(_unwrapped(a, back) for a in v)
    for k, o in enumerate(out if type(out) is tuple else (out,)):
        dtype = getattr(o, "dtype", None)  # (what is no array at all: _as_array's error)
        if dtype is not None and getattr(dtype, "kind", "f") not in "biuf":
            where = f"output {k} is" if type(out) is tuple else "it is"
            raise TypeError(f"{cls.__name__}.forward must return arrays of a tensor dtype (float, "
                            f"integer or bool); {where} {dtype} -- complex, string and object "
                            "arrays are not tensors here")
    return out


def _unwrapped(a: Any, back: dict[int, Any]) -> Any:
    """A forward's array as the engine keeps it: an input's view back to the input array itself,
    any other :class:`~tinygrad_cnn._forward_array.ForwardArray` as a plain array (the same
    object every time: ``back`` remembers it, so identities forward relied on hold)."""
    found = back.get(id(a))
    if found is None and isinstance(a, _fa.ForwardArray):
        found = back[id(a)] = _fa.plain(a)
    return a if found is None else found


def _plain_outputs(out: Any, back: dict[int, Any]) -> Any:
    """A user's forward's outputs with plain arrays for its ForwardArrays, also inside the lists,
    tuples and dicts it returns beside them (see :func:`_as_tensors`)."""
    if type(out) in (tuple, list):
        return type(out)(_plain_outputs(o, back) for o in out)
    if type(out) is dict:
        return {k: _plain_outputs(v, back) for k, v in out.items()}
    return _unwrapped(out, back)


def _counter_of(out: Any, inputs: Sequence[Tensor], arrays: Sequence[Any]) -> list[int] | None:
    """The version counter for the result of a user's Function: that of an input whose memory it
    may share (``forward`` returned the input, or a view of it: an in-place change through the
    result changes the input, and a VJP that saved the input must see it), else None."""
    for t, a in zip(inputs, arrays):
        if out is a or array_module(out).may_share_memory(out, a):
            return t._version_counter
    return None


def _check_function_view(t: Tensor, where: str, recording: bool | None = None) -> None:
    """Refuse to record with (or backpropagate from) the output of a user's Function that shares
    an input's memory, or another output's, once that memory was changed in place: the output
    shows the new values, but its gradient would flow through the Function's backward to the
    graph as it was before the change -- silently wrong (PyTorch's error too)."""
    node = t._grad_fn
    at = node.alias_at if node is not None else None
    if recording is None:
        recording = _state.grad_enabled  # (an op under no_grad records nothing to go wrong)
    if at is None or not recording or t._version_counter[0] == at:
        return
    fn = node.next[0].fn.name if node.fn is OutputOf else node.fn.name
    raise RuntimeError(
        f"{where}: this tensor is an output of {fn}, whose forward returned an input (or a view "
        "of one, or of another output), and that memory was changed in place since; its "
        f"gradient would not see the change (the values at creation: version {at}, now "
        f"{t._version_counter[0]}). Clone the Function's output before the in-place change "
        "(or return a copy from forward) -- PyTorch's rule")


def _saved_output_is(node: Context | None, arr: Any, t: Tensor) -> None:
    """An in-place op computed its result in ``arr`` and wrote it into ``t``: where ``node``
    saved that result for its VJP, it saves ``t`` instead, at ``t``'s current version -- as
    PyTorch's ``sigmoid_`` saves the tensor itself, so a later change of ``t`` (in place, or
    through ``.data``) is seen by the VJP or caught by the version check."""
    saved = getattr(node, "_saved", None)
    if not saved or saved is _FREED or getattr(node, "n_outputs", 1) != 1:
        return
    node._saved = tuple(  # type: ignore[union-attr]
        (_OUT, t._data, t._version_counter, t._version_counter[0])
        if kind == _OUT and obj is arr else (kind, obj, counter, version)
        for kind, obj, counter, version in saved)


def _views(out: Any, a: Any) -> bool:
    """Whether numpy says ``out`` is a view of ``a``'s memory (its ``base`` is the array that
    owns it): a tenth of ``may_share_memory``'s cost on the common path of every view op."""
    base = getattr(out, "base", None)
    return base is not None and (base is a or base is getattr(a, "base", None))


def _as_array(cls: type[Function], ctx: Context, out: Any, k: int | None = None) -> Any:
    """A forward's result (output ``k`` of a tuple) as an array (numpy turns 0-d results into
    scalars)."""
    if isinstance(out, (list, tuple)) or not hasattr(out, "dtype"):
        what = f"got {type(out).__name__}" if k is None else (
            f"got a tuple whose element {k} is {type(out).__name__} {out!r:.40}; return every "
            "output as an array (np.asarray(value)), or keep other values on ctx")
        raise TypeError(f"{cls.__name__}.forward must return an array or a tuple of arrays, "
                        f"{what}")
    scalar, arr = out, array_module(out).asarray(out)
    if ctx._to_save:  # a saved output must stay the output, not become a constant
        ctx._to_save = tuple(arr if a is scalar else a for a in ctx._to_save)
    return arr


def _value_label(a: Any) -> str | None:
    """The value of an unnamed 0-d constant, as the drawings show a number: the shortest text
    that is that value in its own dtype (``0.1`` for a float32 0.1; none for an array on the
    GPU, which reading would wait for)."""
    return str(a[()]) if type(a) is np.ndarray and a.dtype.kind in "biuf" else None


def _record(ctx: Context, inputs: Sequence[Tensor], arrays: Sequence[Any], attrs: dict[str, Any],
            result: Tensor) -> None:
    """Make ``ctx`` a graph node: its edges, metadata for the drawings, where it was created."""
    ctx.next = tuple((t._grad_fn or t) if t._requires_grad else None for t in inputs)
    ctx.in_meta = tuple((a.shape, a.dtype) for a in arrays)
    ctx.attrs = attrs
    ctx.seq = seq = next(_seq)
    if not seq & _DEFER_MASK:
        _defer_full_collections(ctx)
    ctx.out = weakref.ref(result)
    ctx.out_meta = (result._data.shape, result._data.dtype)
    ctx.in_names = tuple(t._name if t._name is not None or t._requires_grad or a.ndim
                         else _value_label(a) for t, a in zip(inputs, arrays))
    ctx.scope = _state.scope
    ctx.source = _user_frame(3)
    if _state.keep_inputs:
        ctx.inputs = tuple(inputs)
    if _flags.anomaly:
        ctx.stack = _user_stack(2)
        ctx.in_ranges = _ranges(arrays)


def once_differentiable(backward: F) -> F:
    """Decorate a ``backward`` that is not written in differentiable Tensor ops (it computes on
    ``.data``, say): it runs under ``no_grad``, and differentiating its result again (a
    ``create_graph=True`` backward through it, then another backward) raises instead of giving
    a silently wrong second derivative."""

    @functools.wraps(backward)
    def wrapper(ctx: Context, *grads: Any) -> Any:
        with _GradModeSwitch(False):
            results = backward(ctx, *grads)
        live = [g for g in grads if isinstance(g, _TensorCls) and g.requires_grad]
        if not _state.grad_enabled or not live:
            return results
        one = not isinstance(results, tuple)
        wrapped = tuple(_OnceDifferentiable.apply(r, *live, op=ctx.fn.name)
                        if isinstance(r, _TensorCls) else r
                        for r in ((results,) if one else results))
        return wrapped[0] if one else wrapped

    return wrapper  # type: ignore[return-value]


class _OnceDifferentiable(Function):
    """Carries a once-differentiable VJP's result; differentiating through it raises."""

    name = "once_differentiable"

    @staticmethod
    def forward(ctx: Context, r: Any, *grads: Any, op: str = "", why: str = "") -> Any:
        return r

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Any:
        if ctx.attrs.get("why"):  # one of our ops, once differentiable at some points only
            raise OnceDifferentiableError(ctx.attrs["why"])
        raise OnceDifferentiableError(
            f"trying to differentiate twice a function marked @once_differentiable (the backward "
            f"of {ctx.attrs['op']}); write its backward in Tensor ops to get second derivatives")


def _marked_arrays(where: str, arrays: tuple[Any, ...]) -> None:
    """The arrays a ``ctx.mark_*`` call names must be arrays (the outputs or inputs of forward
    themselves, matched by identity): an index or a number was ignored without a word."""
    for a in arrays:
        if isinstance(a, _TensorCls) or getattr(a, "shape", None) is None or \
                not hasattr(a, "dtype"):
            raise RuntimeError(
                f"ctx.{where} only accepts the arrays forward returns or received (as PyTorch's "
                f"accepts only tensors), got {a_type(a)}; pass the array itself -- "
                f"ctx.{where}(out) for `out = ...; return out` -- not its position")


class OnceDifferentiableError(RuntimeError):
    """The backward of a ``@once_differentiable`` VJP was asked for (PyTorch's RuntimeError)."""


# Keeping big graphs out of the cyclic garbage collector's way. Python's collector runs a full
# collection, which scans every tracked object, each time the heap has grown by a quarter: while
# a graph of 200,000 ops is recorded those scans cost more than the ops themselves (11 of 17 us
# per op). Graph nodes form no reference cycles -- reference counting frees them -- so once
# 32,768 ops have been recorded since the last backward, full collections are deferred until
# the next backward ends (young-generation collections go on as usual), or until every graph
# recorded meanwhile is freed -- an evaluation loop that forgot no_grad() records and drops
# graphs, and kept full collections off for the whole program (an outside tester's cyclic
# garbage grew from 126 MB to 1.3 GB). The thresholds are restored then, unless the program
# changed them meanwhile; nothing happens when gc is off.
_DEFER_MASK = (1 << 15) - 1
_deferred: tuple[int, ...] | None = None  # the thresholds we set, while deferring
# one node of each 32,768 recorded while deferring, watched: when none is alive, no graph they
# belong to is either
_sentinels: set[weakref.ref[Any]] = set()


def _sentinel_freed(ref: weakref.ref[Any]) -> None:
    _sentinels.discard(ref)
    if not _sentinels:
        _restore_collections()


def _defer_full_collections(node: Any) -> None:
    global _deferred, _saved_thresholds, _deferred_rounds
    if gc.isenabled():
        _sentinels.add(weakref.ref(node, _sentinel_freed))
    if _deferred is not None:
        # a program that records and records and never calls backward: one full collection per
        # million ops still frees its cyclic garbage (about 1 us per op at that heap size)
        _deferred_rounds += 1
        if _deferred_rounds % 32 == 0:
            gc.collect()
        return
    if not gc.isenabled():
        return
    _saved_thresholds = gc.get_threshold()
    _deferred = (*_saved_thresholds[:2], 1 << 30)
    _deferred_rounds = 0
    gc.set_threshold(*_deferred)


def _restore_collections() -> None:
    global _deferred
    _sentinels.clear()
    if _deferred is not None:
        if gc.get_threshold() == _deferred:
            gc.set_threshold(*_saved_thresholds)
        _deferred = None


_saved_thresholds: tuple[int, ...] = gc.get_threshold()
_deferred_rounds = 0


class OutputOf(Function):
    """The grad_fn of output k of an op that returns several: the engine hands this node's
    gradient to the op as its k-th output gradient (it has no VJP of its own)."""

    name = "output_of"


class ZeroLink(Function):
    """``g`` itself, with a second input ``anchor`` of zero derivative. Under ``create_graph`` the
    engine links the gradient an op marked ``vjp_reads_input`` (relu's mask, the pools' scatters)
    gives to that op's input (or, for relu, its output), as PyTorch's formulas that read them
    are: differentiating it again then reaches that input, with zeros, where it raised "does not
    require grad" or left a bias's ``.grad`` None (a relu network's gradient penalty)."""

    name = "zero_link"

    @staticmethod
    def forward(ctx: Context, g: Any, anchor: Any) -> Any:
        return g.copy()

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> tuple[Tensor | None, Tensor | None]:
        shape, dtype = ctx.in_meta[1]
        zero = array_module(gg._data).zeros(shape, dtype=dtype)
        return (gg if ctx.needs_input_grad[0] else None), _TensorCls._make(zero)


class Difference(Function):
    """``a - b`` with values computed before (``_values``, from the inputs as they were then: a
    VJP that records its formula reads them so, where rebuilding an input from them would not do
    -- ``t - (t - diff)`` is NaN where ``t`` is inf). VJP: ``g`` to ``a``, ``-g`` to ``b``."""

    name = "difference"

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any, _values: Any = None) -> Any:
        return _values.copy()

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor, Tensor]:
        return g, -g


def _linked(gi: Tensor, edge: Any, meta: tuple[Any, Any]) -> Tensor:
    """``gi`` made to depend, with zero derivative, on the input that ``edge`` leads to."""
    if isinstance(edge, _TensorCls):
        anchor = edge
    else:  # a stand-in for the op's output: no data of its own, the same graph node
        shape, dtype = meta
        xp = array_module(gi._data)
        anchor = _TensorCls._make(xp.broadcast_to(xp.zeros((), dtype=dtype), shape),
                                  requires_grad=True, grad_fn=edge)
    return ZeroLink.apply(gi, anchor)


def _passed_through(o: Any) -> bool:
    """Whether a user's forward output ``o`` is no array (a count, a flag, None, a string):
    PyTorch hands such outputs back as they are, without gradients."""
    return not hasattr(o, "dtype") or isinstance(o, (str, bytes))


def _apply_passthrough(cls: type[Function], ctx: Context, inputs: Sequence[Tensor],
                       arrays: list[Any], out: tuple[Any, ...], requires: bool,
                       attrs: dict[str, Any]) -> tuple[Any, ...]:
    """``apply`` for a user's forward that returns arrays and other values (``return y, n``):
    the arrays become tensors of the graph, the other values come back unchanged in their
    places, and ``backward`` receives None for them (:func:`_vjp_grads`), as in PyTorch."""
    keep = tuple(k for k, o in enumerate(out) if not _passed_through(o))
    full = [_as_tensors(o, inputs, arrays) for o in out]  # (arrays inside a list: tensors)
    if not keep:  # (no array at all: no node, the values as they are)
        return tuple(full)
    ctx.passthrough = (len(out), keep)
    got = _apply_general(cls, ctx, inputs, arrays, tuple(out[k] for k in keep), requires, attrs)
    for k, t in zip(keep, got if type(got) is tuple else (got,)):
        full[k] = t
    return tuple(full)


def _as_tensors(value: Any, inputs: Sequence[Tensor], arrays: Sequence[Any]) -> Any:
    """A value a user's forward returned beside its outputs, with the arrays inside lists,
    tuples and dicts made tensors without a graph (PyTorch hands back tensors there): an input's
    own array is that input, one that shares an input's memory shares its version counter (a
    write through it is seen by a backward that saved the input), any other a new tensor."""
    if type(value) in (list, tuple):
        return type(value)(_as_tensors(v, inputs, arrays) for v in value)
    if type(value) is dict:
        return {k: _as_tensors(v, inputs, arrays) for k, v in value.items()}
    if not hasattr(value, "dtype") or isinstance(value, (str, bytes, np.generic)):
        return value
    for t, a in zip(inputs, arrays):
        if value is a:
            return t
    return _TensorCls._make(value, False, None, _counter_of(value, inputs, arrays))


def _vjp_grads(ctx: Context, grads: Sequence[Any]) -> Sequence[Any]:
    """The gradients a node's ``backward`` receives: with None in the places of the outputs that
    were no arrays (see :func:`_apply_passthrough`)."""
    shape = ctx.passthrough
    if shape is None:
        return grads
    full: list[Any] = [None] * shape[0]
    for k, g in zip(shape[1], grads):
        full[k] = g
    return full


def _warn_widened(cls: type[Function], arrays: Sequence[Any], out: Any) -> None:
    """A user's forward that turns float32 (or float16) inputs into a float64 result -- numpy's
    promotion, ``0.5 * (x > 0)`` -- is warned of: PyTorch's gives float32, and the float64 only
    shows ops later, where it meets a float32 weight."""
    floats = {a.dtype for a in arrays if getattr(a, "dtype", None) is not None
              and a.dtype.kind == "f"}
    if not floats or any(dt.itemsize >= 8 for dt in floats):
        return
    if any(getattr(o, "dtype", None) == np.float64 for o in (
            out if type(out) is tuple else (out,))):
        frame, level = sys._getframe(1), 2  # (the warning points at the user's apply call)
        while frame is not None and _in_package(frame.f_code.co_filename):
            frame, level = frame.f_back, level + 1
        warnings.warn(
            f"{cls.name}: forward got {' and '.join(sorted(map(str, floats)))} inputs and "
            "returned float64 (numpy's promotion: a Python float times a bool or integer array "
            "is float64); PyTorch's op would give float32. Cast it in forward, e.g. `return "
            "y.astype(x.dtype)`", UserWarning, stacklevel=level)


def _apply_general(cls: type[Function], ctx: Context, inputs: Sequence[Tensor], arrays: list[Any],
                   out: Any, requires: bool, attrs: dict[str, Any]) -> Any:
    """``apply`` for a forward that returns several arrays, or marked outputs non-differentiable,
    or changed inputs in place (``mark_dirty``)."""
    Tensor = _TensorCls
    as_tuple = type(out) is tuple
    multi = as_tuple and len(out) > 1  # (a 1-tuple is one output: its grad_fn is the op's node)
    outs = [o if type(o) is array_module(o).ndarray else _as_array(cls, ctx, o, k if as_tuple
                                                                     else None)
            for k, o in enumerate(out if as_tuple else (out,))]
    special = ctx.special or {}
    non_diff = {id(a) for a in special.get("non_diff", ())}
    # (by the object forward returned too: a numpy scalar, `x.sum()`, becomes a new 0-d array
    # on the way -- marked, it was ignored and got a gradient: t161)
    non_diff_at = {k for k, (o0, o) in enumerate(zip(out if as_tuple else (out,), outs))
                   if id(o0) in non_diff or id(o) in non_diff}
    dirty = special.get("dirty", ())
    dirty_inputs = [i for i, a in enumerate(arrays) if any(a is d for d in dirty)]
    for i in dirty_inputs:
        if not any(arrays[i] is o for o in outs):
            inputs[i]._version_counter[0] += 1  # (it did change)
            raise RuntimeError(f"{cls.name}: input {i} was marked dirty (changed in place) but not "
                               "returned; return it as an output of forward (PyTorch's rule)")
    dirty_views: dict[int, tuple[Any, ...]] = {}  # id of a view changed in place -> its chain
    for i in dirty_inputs:
        t = inputs[i]
        if _state.grad_enabled and (t.requires_grad or requires):
            if t.requires_grad and t.grad_fn is None:
                raise RuntimeError(f"{cls.name}: marked input {i}, a leaf tensor that requires grad, "
                                   "dirty (changed in place) while gradients are recorded; run it "
                                   "under no_grad() or on a .clone()")
            if t._view is not None:  # recorded on the base, as a built-in op on a view is
                if multi:  # (PyTorch's rule: the base's node must be the op's one output)
                    t._version_counter[0] += 1  # (it did change)
                    raise RuntimeError(
                        f"{cls.name}: marked input {i}, a view of another tensor, dirty (changed "
                        "in place), and returned more than one output; a Function that changes "
                        "a view in place can return only that one tensor (PyTorch's rule). "
                        "Return the other results from a second Function, or pass a .clone() "
                        "of the view")
                if type(t) is _FunctionView:  # (PyTorch's CopySlices)
                    t._function_view_error(f"{cls.name} (marked input {i} dirty)")
                t._check_no_grad_view(cls.name, requires)
                t._check_leaf(cls.name, t._view[0] if "_no_grad_view" in t.__dict__ else
                              t._leaf_up_the_chain(), f"marked input {i} dirty, a view of a leaf "
                              "tensor")
                dirty_views[id(t)] = t._view_chain()
        t._version_counter[0] += 1
    results: list[Tensor] = []
    aliases: set[int] = set()  # positions of outputs sharing an input's or an earlier output's memory
    for k, o in enumerate(outs):
        same = [i for i in dirty_inputs if arrays[i] is o]
        if same and k in non_diff_at:
            # changed in place and not differentiable: a new tensor without history over the
            # input's memory and version counter (PyTorch's; the input kept its old graph)
            results.append(Tensor._make(o, False, None, inputs[same[0]]._version_counter))
            continue
        if same:
            results.append(inputs[same[0]])
            continue
        earlier = [r for r, p in zip(results, outs) if p is o]
        # the same new array twice: the same tensor twice (PyTorch's; its last node wins); an
        # input returned in several slots is a tensor per slot (PyTorch: a view each), so each
        # slot's gradient reaches backward in its own place
        if earlier and not any(o is a for a in arrays):
            results.append(earlier[0])
            continue
        counter = _counter_of(o, inputs, arrays) if cls._user else None
        if counter is None and cls._user:  # a view of an earlier output: one version counter
            xp = array_module(o)
            counter = next((r._version_counter for r, p in zip(results, outs)
                            if xp.may_share_memory(o, p)), None)
        if counter is not None:
            aliases.add(k)
        results.append(Tensor._make(o, False, None, counter or [0]))
    diff = [requires and o.dtype.kind in "fc" and k not in non_diff_at for k, o in enumerate(outs)]
    if any(diff):
        _record(ctx, inputs, arrays, attrs, results[0])  # edges first: a dirty input is rebased
        ctx.n_outputs = len(outs)
        ctx.out_metas = tuple((o.shape, o.dtype) for o in outs)  # type: ignore[attr-defined]
        ctx.out_xp = array_module(outs[0])  # type: ignore[attr-defined]
        nodes: list[Context | None] = []
        made: dict[int, Tensor] = {}  # the node's own output where a view was changed in place
        for k, (t, o, d) in enumerate(zip(results, outs, diff)):
            if not d:
                nodes.append(None)
                if t.grad_fn is None:
                    t._requires_grad = False
                continue
            node = ctx
            if multi:
                node = Context(OutputOf, (True,))
                node.next, node.attrs, node.index = (ctx,), {"index": k}, k  # type: ignore[attr-defined]
                node.in_meta = ((o.shape, o.dtype),)
            nodes.append(node)
            if id(t) in dirty_views:  # the new values, written into the view's base
                from tinygrad_cnn.tensor import _record_copy_slices

                made[k] = value = Tensor._make(o, True, node)
                node.out = weakref.ref(value)
                _record_copy_slices(t._view[0], dirty_views.pop(id(t)), value)
                t._refresh_view()
                continue
            t.grad_fn, t._requires_grad = node, True
            if k in aliases:  # see _FunctionView and _check_function_view
                t.__class__ = _FunctionView
                node.alias_at = t._version_counter[0]
        for k, (t, node) in enumerate(zip(results, nodes)):
            t = made.get(k, t)
            if node is not None and node is not ctx:  # the per-output nodes come after the op
                node.seq, node.out = next(_seq), weakref.ref(t)
                node.out_meta, node.in_names = (t._data.shape, t._data.dtype), (None,)
                node.scope, node.source = ctx.scope, ctx.source
        if multi:  # a saved output comes back with its own output node as grad_fn
            ctx.out_nodes = {id(o): node for o, node in zip(outs, nodes)}  # type: ignore
            ctx.out_hooked = tuple(nodes)  # (their hooks run with None when unused)
        if ctx._to_save:
            ctx._saved = _resolve_saved(cls, ctx._to_save, inputs, arrays, tuple(
                (o, t._version_counter, node) for o, t, node in zip(outs, results, nodes)),
                dirty_inputs)
            ctx._to_save = ()
        if _flags.anomaly and _flags.anomaly_check:
            for t in results:
                _check_forward(ctx, arrays, t)
    return tuple(results) if as_tuple else results[0]


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_internal_files: dict[str, bool] = {}  # a code object's file -> whether it lies in tinygrad_cnn


def _in_package(filename: str) -> bool:
    """Whether a frame's file lies in tinygrad_cnn. A relative name (`<string>`, a script run as
    `python ../x.py`) is resolved against the working folder -- which may have been deleted since
    (abspath then fails: such a name is not ours, as ours are absolute from the import)."""
    try:
        return os.path.abspath(filename).startswith(_PACKAGE_DIR)
    except OSError:
        return False


def _user_stack(cut: int) -> list[str]:
    """The innermost 8 calls where a node is being made (for ``AnomalyError``), formatted, without
    the frames of tinygrad_cnn itself (the engine's plumbing; all of them if only those are
    there); ``cut``: the calls of the engine to leave off the end."""
    frames = traceback.extract_stack()[:-cut - 1]
    mine = [fr for fr in frames if not _in_package(fr.filename)]
    return traceback.format_list((mine or frames)[-8:])


def keepdim_arg(op: str, keepdim: Any) -> bool:
    """A reduction's ``keepdim`` as a bool (numpy's too); anything else is PyTorch's TypeError (a
    string was taken as True by some reductions and reached numpy's in others: "'str' object
    cannot be interpreted as an integer" from inside numpy -- t195). ``apply`` checks the
    ``keepdim`` of every op recorded; reductions computed without a node call it themselves."""
    if keepdim.__class__ is bool:
        return keepdim
    if isinstance(keepdim, np.bool_):
        return bool(keepdim)
    raise ArgumentTypeError(f"{op}: keepdim must be a bool (True or False), got "
                            f"{type(keepdim).__name__} {keepdim!r}")


def _user_frame(depth: int = 2) -> tuple[Any, int] | None:
    """``(code, line)`` of the innermost frame outside the tinygrad_cnn package (the user's line
    that created an op). Each file is classified once, so this costs a few dict lookups (by the
    file name, whose hash Python keeps: a code object's hash is computed afresh each time)."""
    f: Any = sys._getframe(depth)
    internal = _internal_files
    while f is not None:
        code = f.f_code
        inside = internal.get(code.co_filename)
        if inside is None:
            name = code.co_filename
            inside = internal[name] = _in_package(name)
        if not inside:
            return code, f.f_lineno
        f = f.f_back
    return None


class AnomalyError(RuntimeError):
    """Raised inside ``detect_anomaly()`` by the first op whose forward or backward makes a NaN or
    an Inf. ``node`` is the op's graph node; ``output`` the forward's result when the forward was
    the culprit, else the tensor ``backward()`` started from -- either way a tensor whose graph
    holds the node: ``viz.draw(err.output, highlight=err.node)`` draws it red."""

    def __init__(self, message: str, node: Context, output: Tensor | None = None) -> None:
        super().__init__(message)
        self.node = node
        self.output = output


def _ranges(arrays: Sequence[Any], what: str = "input") -> str:
    """Each array's shape and range, as ``input 0: shape (2, 3), range [-1, 4]; ...``."""
    parts = []
    for i, a in enumerate(arrays):
        if a is None:
            parts.append(f"{what} {i}: none (zero)")
            continue
        if not hasattr(a, "dtype") or a.dtype.kind not in "fiub" or a.size == 0:
            parts.append(f"{what} {i}: {getattr(a, 'shape', '?')}")
            continue
        xp = array_module(a)
        finite = bool(xp.isfinite(a).all()) if a.dtype.kind == "f" else True
        parts.append(f"{what} {i}: shape {tuple(a.shape)}, range [{float(a.min()):.4g}, "
                     f"{float(a.max()):.4g}]" + ("" if finite else ", not all finite"))
    return "; ".join(parts)


def _check_forward(ctx: Context, arrays: Sequence[Any], result: Tensor) -> None:
    """Inside ``detect_anomaly()``: raise if this op made a NaN or Inf out of finite inputs."""
    out = result._data
    xp = array_module(out)
    if out.dtype.kind != "f" or bool(xp.isfinite(out).all()):
        return
    if not all(a.dtype.kind != "f" or bool(xp.isfinite(a).all()) for a in arrays):
        return  # not this op: a non-finite value came in
    bad = "NaN" if bool(xp.isnan(out).any()) else "Inf"
    owner = _state.backward_of
    if owner is not None:  # an op of a VJP that runs with create_graph: the VJP is the culprit
        raise AnomalyError(
            f"detect_anomaly: {owner.fn.name}.backward made {bad} from finite inputs, in its "
            f"{ctx.fn.name} ({_ranges(arrays)}). {owner._where()}", owner)
    raise AnomalyError(
        f"detect_anomaly: the forward of {ctx.fn.name} made {bad} from finite inputs "
        f"({_ranges(arrays)}). {ctx._where()}", ctx, result)


_CONSTANT_WRAPPERS: dict[type, type] = {}


def _with_constants(base: type[Function]) -> Any:
    """``base`` for calls with positional arguments that are not tensors (numbers, None, ...), as
    PyTorch's custom Functions take them: the tensors go through the engine, the others reach
    ``forward`` in their places (and show in drawings as ``arg1=...``); ``ctx.needs_input_grad``
    has an entry per argument, and ``backward`` returns one value per argument -- None for the
    non-tensors, as PyTorch requires."""
    wrapper = _CONSTANT_WRAPPERS.get(base)
    if wrapper is not None:
        return wrapper

    def expanded(flags: tuple[bool, ...], tensors: tuple[bool, ...]) -> tuple[bool, ...]:
        given = iter(flags)
        return tuple(next(given) if tensor else False for tensor in tensors)

    class WithConstants(base):  # type: ignore[valid-type,misc]
        name = base.name

        @classmethod
        def apply_mixed(cls, inputs: tuple[Any, ...], attrs: dict[str, Any]) -> Any:
            tensors = tuple(isinstance(x, _TensorCls) for x in inputs)
            constants = {f"arg{i}": x for i, x in enumerate(inputs) if not tensors[i]}
            clash = set(constants) & set(attrs)
            if clash:
                raise TypeError(f"{base.name}.apply: keyword {sorted(clash)[0]} clashes with a "
                                "positional argument's name")
            return Function.apply.__func__(  # type: ignore[attr-defined]
                cls, *(x for x in inputs if isinstance(x, _TensorCls)), _tensors=tensors,
                **constants, **attrs)

        @staticmethod
        def forward(ctx: Context, *arrays: Any, _tensors: tuple[bool, ...] = (),
                    **attrs: Any) -> Any:
            given = iter(arrays)
            args = [next(given) if tensor else attrs.pop(f"arg{i}")
                    for i, tensor in enumerate(_tensors)]
            engine = ctx.needs_input_grad
            ctx.needs_input_grad = expanded(engine, _tensors)
            try:
                return _call_forward(base, ctx, args, attrs)
            finally:
                ctx.needs_input_grad = engine

        @staticmethod
        def backward(ctx: Context, *grads: Any) -> Any:
            engine, kinds = ctx.needs_input_grad, ctx.attrs["_tensors"]
            ctx.needs_input_grad = expanded(engine, kinds)
            try:
                out = base.backward(ctx, *grads)
            finally:
                ctx.needs_input_grad = engine
            out = out if isinstance(out, tuple) else (out,)
            if len(out) > len(kinds) and all(g is None for g in out[len(kinds):]):
                out = out[:len(kinds)]  # (extra trailing Nones: PyTorch allows them)

            if len(out) != len(kinds):
                raise RuntimeError(f"{base.name}.backward returned {len(out)} gradients for "
                                   f"{len(kinds)} inputs; return one per input of forward (None "
                                   "for the non-tensor ones)")
            for i, (g, tensor) in enumerate(zip(out, kinds)):
                if not tensor and g is not None:
                    raise RuntimeError(f"{base.name}.backward returned a gradient for input {i}, "
                                       "which is not a tensor; return None there")
            return tuple(g for g, tensor in zip(out, kinds) if tensor)

    WithConstants.__name__ = WithConstants.__qualname__ = base.__name__
    WithConstants.__doc__ = base.__doc__
    WithConstants.__module__ = base.__module__
    WithConstants._setup_context = False  # its forward takes ctx; it calls base's in base's form
    WithConstants.backward.__wrapped__ = base.backward  # type: ignore[attr-defined]
    _CONSTANT_WRAPPERS[base] = WithConstants
    return WithConstants


def _check_one_device(cls: type[Function], arrays: list[Any]) -> None:
    """Every input of an op lives on one device (numpy scalars count as CPU arrays)."""
    devices = [device_of(a) for a in arrays]
    if len(set(devices)) > 1:
        raise RuntimeError(f"{cls.name}: the inputs are on different devices "
                           f"({', '.join(devices)}); move them to one device with .to(device)")


def _distinct_arrays(inputs: Sequence[Tensor], arrays: list[Any]) -> None:
    """Two tensors on one array (``y = x.detach()``) reach ``forward`` as two array objects (a
    view for the later one), so that what ``forward`` saves maps back to the tensor it came from
    (``_resolve_saved`` matches by identity), not to the first tensor with that array."""
    if len(arrays) < 8:  # (the common few: pairwise, no dict)
        for i in range(1, len(arrays)):
            for j in range(i):
                if arrays[j] is arrays[i] and inputs[j] is not inputs[i]:
                    arrays[i] = arrays[i].view()
                    break
        return
    first: dict[int, Tensor] = {}  # array id -> the first tensor on it (cat of 16,000 tensors
    for i, a in enumerate(arrays):  # was quadratic: 3 s, t165)
        t = first.setdefault(id(a), inputs[i])
        if t is not inputs[i]:
            arrays[i] = a.view()


def _resolve_saved(cls: type[Function], to_save: tuple[Any, ...], inputs: Sequence[Tensor],
                   arrays: list[Any], outs: tuple[tuple[Any, list[int], Any], ...],
                   dirty: Sequence[int] = ()) -> tuple[Any, ...]:
    """Turn the arrays ``forward`` saved into records ``(kind, object, counter, version)``.

    ``outs`` holds ``(array, version counter, grad_fn or None)`` per output. An input's array is
    kept as the input Tensor (so VJPs stay connected to the graph); an output as its array and
    node plus its version counter (no reference cycle through the output tensor); any other array
    as a constant that shares the version counter of an input it may alias. An input changed in
    place (``mark_dirty``) that is also an output is saved as that output.
    """
    records: list[tuple[Any, ...]] = []
    for a in to_save:
        if isinstance(a, _TensorCls):  # (a Tensor made in forward, as PyTorch's may save: its
            a = a._data  # array -- wrapped again, it broke every op in backward)
        if a is None:  # lets a forward keep its saved slots fixed while saving only what's needed
            records.append((_NONE, None, _NO_VERSION, 0))
            continue
        found = False
        for i, (t, arr) in enumerate(zip(inputs, arrays)):
            if a is arr and i not in dirty:
                counter = t._version_counter
                # (a built-in op's input with a graph: detached in place, refused at backward, as
                # PyTorch's SavedVariable does; a user's Function saves it as PyTorch's does not)
                node = t._grad_fn is not None and not cls._user
                records.append((_IN_NODE if node else _IN, t, counter, counter[0]))
                found = True
                break
        if found:
            continue
        for arr, counter, _node in outs:
            if a is arr:
                records.append((_OUT, a, counter, counter[0]))
                found = True
                break
        if found:
            continue
        if not hasattr(a, "shape"):
            raise TypeError(
                f"{cls.name}.forward: save_for_backward takes arrays, got {type(a).__name__}; "
                "keep other values as ctx attributes"
            )
        counter = _NO_VERSION
        xp = array_module(a)
        for t, arr in zip(inputs, arrays):
            if xp.may_share_memory(a, arr):
                counter = t._version_counter
                break
        records.append((_CONST, a, counter, counter[0]))
    return tuple(records)


# --------------------------------------------------------------------------------------------
# The backward pass
# --------------------------------------------------------------------------------------------


def _edge(t: Tensor) -> Any:
    view = t._view
    if view is not None and view[0]._grad_fn is not view[1]:
        t._refresh_view()
    return t._grad_fn if t._grad_fn is not None else t


def _collect(roots: Iterable[Any], leaf_users: dict[int, Any] | None = None) -> list[Context]:
    """All nodes reachable from ``roots``, newest first (a topological order). Iterative. With
    ``leaf_users``, fills it with ``id(leaf) -> (leaf, its oldest user)``: the node after which
    the leaf's gradient is complete (the last of its users to run)."""
    seen: set[int] = set()
    nodes: list[Context] = []
    stack = [r for r in roots if type(r) is Context]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        for e in node.next:
            if type(e) is Context:
                if id(e) not in seen:
                    stack.append(e)
            elif e is not None and leaf_users is not None:
                user = leaf_users.get(id(e))
                if user is None or node.seq < user[1].seq:
                    leaf_users[id(e)] = (e, node)
    nodes.sort(key=_BY_SEQ, reverse=True)
    return nodes


_BY_SEQ = operator.attrgetter("seq")  # (a C-level key: no Python call per node)


def _needed(nodes: list[Context], targets: set[int]) -> set[int]:
    """ids of the nodes (and leaves) that lie on a path to one of ``targets``."""
    needed = set(targets)
    for node in reversed(nodes):  # oldest first: inputs before the nodes that use them
        if id(node) in needed:
            continue
        for e in node.next:
            if e is not None and id(e) in needed:
                needed.add(id(node))
                break
    return needed


def _fitted(g: Tensor, shape: tuple[int, ...], dtype: Any) -> Tensor:
    """A user VJP's gradient summed down to ``shape`` where ``shape`` broadcasts to it
    (PyTorch's ``sum_to_size``), and cast to a float ``dtype``; else as it is (then refused)."""
    gs = g._data.shape
    extra = len(gs) - len(shape)
    if gs != shape:
        if extra < 0 or not all(s in (1, d) for s, d in zip(shape, gs[extra:])):
            return g  # (no way to fit it: refused, as it came)
        dims = tuple(range(extra)) + tuple(extra + k for k, (s, d) in
                                           enumerate(zip(shape, gs[extra:])) if s == 1 and d != 1)
        g = g.sum(dims, keepdim=True) if dims else g
        g = g.reshape(shape)
    if g._data.dtype != dtype and g._data.dtype.kind in "biuf" and np.dtype(dtype).kind == "f":
        g = g.to(dtype)
    return g


def _to_recorded_shape(ctx: Context, g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """A gradient that reached ``ctx`` in another shape than its output had when it was
    recorded: the output's shape changed since without being recorded (``t_()`` or
    ``transpose_()`` under ``no_grad()``, ``y.data = `` a tensor of another shape), so the
    gradient is laid out for the new one, and the VJP would read it in the old one's order -- a
    silently wrong gradient (t174). Summed to the old shape where it broadcasts to the new one,
    as PyTorch's ``validate_outputs`` does; else PyTorch's error."""
    got = tuple(g._data.shape)
    try:
        fits = broadcast_shapes(shape, got) == got
    except ValueError:
        fits = False
    if fits:
        return g.sum_to_size(shape)
    raise RuntimeError(
        f"backward: the gradient that reached {ctx.fn.name} (created at {ctx.source_line}) has "
        f"shape {got}, but its output had shape {tuple(shape)} when it was recorded (PyTorch: "
        f"'invalid gradient ... expected shape compatible with {list(shape)}'): the output's "
        "shape was changed afterwards without being recorded -- an in-place shape op "
        "(transpose_, t_, unsqueeze_, ...) under no_grad(), or .data = a tensor of another "
        "shape. Change the shape out of place (y = y.t()), or on y.detach()")


def _came_in_another_dtype(ctx: Context, received: Any) -> bool:
    """Whether the gradient ``received`` by ``ctx`` differs in dtype from the output it made."""
    meta = getattr(ctx, "out_meta", None)
    return isinstance(received, _TensorCls) and meta is not None and \
        received._data.dtype != meta[1] and received._data.dtype.kind in "fc"


def scope_text(scope: str) -> str:
    """```features.3` (Conv2d)``: a node's module path, and its class where it is known."""
    cls = getattr(scope, "cls", None)
    return f"`{scope}` ({cls})" if cls else f"`{scope}`"


def _name_node(exc: Exception, ctx: Context) -> None:
    """Say which node's VJP an exception came out of and where the user's code created that node:
    as a note (Python 3.11+) for an exception of a user's Function, whose message stays as raised,
    in the message of an error with a one-string message, else as a note."""
    if getattr(exc, "_node_named", False) or isinstance(exc, AnomalyError):
        return  # (an anomaly report names its own node)
    try:
        exc._node_named = True  # type: ignore[attr-defined]
    except AttributeError:
        return
    note = f"in the VJP of {ctx.fn.name}, created at {ctx.source_line}"
    if ctx.scope:
        note += f" in module {scope_text(ctx.scope)}"
    if hasattr(exc, "add_note") and ctx.fn._user:
        # (a user's own exception keeps its message, as PyTorch re-raises it: code that reads
        # str(e) still matches; the traceback shows the note -- t148 L7)
        exc.add_note(note)
    elif len(exc.args) == 1 and isinstance(exc.args[0], str) and type(exc).__str__ in (
            Exception.__str__, BaseException.__str__):
        exc.args = (f"{exc.args[0]} ({note})",)
    elif hasattr(exc, "add_note"):
        exc.add_note(note)


def _as_many(ctx: Context, in_grads: tuple[Any, ...]) -> tuple[Any, ...]:
    """A VJP's gradients, one per input: extra trailing Nones dropped (PyTorch allows them),
    any other count refused."""
    n = len(ctx.next)
    if len(in_grads) > n and all(g is None for g in in_grads[n:]):
        return in_grads[:n]
    raise RuntimeError(
        f"{ctx.fn.name}.backward returned {len(in_grads)} gradients for {n} inputs; return one "
        f"per input (None where there is none). {ctx._where()}"
    )


def _check_grad(ctx: Context, i: int, g: Any, meta: tuple[Any, Any], received: Any = None) -> Any:
    """``g``, checked to fit input ``i``; a user's Function may return it broadcast or in another
    float dtype, and gets it summed down and cast, as PyTorch's engine does."""
    if not isinstance(g, _TensorCls):
        raise RuntimeError(  # (PyTorch's class: "expected Variable or None")
            f"{ctx.fn.name}.backward returned {a_type(g)} for input {i}; a VJP returns "
            f"one Tensor (or None) per input. {ctx._where()}"
        )
    shape, dtype = meta
    if ctx.fn._user and (g._data.shape != shape or g._data.dtype != dtype):
        g = _fitted(g, shape, dtype)
    elif g._data.dtype != dtype and g._data.shape == shape and _came_in_another_dtype(ctx,
                                                                                     received):
        # the gradient this op received was not of its output's dtype (`h.data = ...` in
        # another dtype after h was made: its consumers saw the new one), so neither is its
        # VJP's: cast back to the input's, as PyTorch's engine casts every gradient
        g = _fitted(g, shape, dtype)
    if g._data.shape != shape or g._data.dtype != dtype:
        raise RuntimeError(
            f"{ctx.fn.name}.backward returned a gradient of shape {tuple(g._data.shape)} and dtype "
            f"{g._data.dtype} for input {i}, which has shape {tuple(shape)} and dtype {dtype}; a VJP "
            "must return each input's gradient in that input's shape and dtype (sum out broadcast "
            f"dimensions, cast back). {ctx._where()}"
        )
    if _flags.anomaly and _flags.anomaly_check:
        xp = array_module(g._data)
        # (a VJP that received NaN or Inf passes it on: it made none -- a root gradient of inf,
        # as the forward of an op whose inputs were not finite is not called the maker)
        if not bool(xp.isfinite(g._data).all()) and _received_finite(received):
            facts = []
            hint = ""
            if getattr(ctx, "in_ranges", None):
                facts.append(f"its inputs in the forward: {ctx.in_ranges}")
            else:  # the forward ran outside detect_anomaly(): what it saved, and how to see more
                try:
                    saved = [t._data for t in ctx.saved_tensors if isinstance(t, _TensorCls)]
                except Exception:  # (freed, or changed in place: nothing to show)
                    saved = []
                if saved:
                    facts.append("the tensors it saved: " + _ranges(saved, "saved"))
                hint = (" (its forward ran outside detect_anomaly(): run the forward inside it "
                        "too for its inputs' ranges and the calls that made it)")
            if type(received) is list:  # an op's list of one gradient per output
                facts.append("the gradients it received: " + _ranges(
                    [r._data if isinstance(r, _TensorCls) else None for r in received], "output"))
            elif isinstance(received, _TensorCls):
                facts.append("the gradient it received: "
                             + _ranges([received._data]).replace("input 0: ", "", 1))
            raise AnomalyError(
                f"detect_anomaly: {ctx.fn.name}.backward returned NaN or Inf in the gradient of "
                f"input {i}" + (f" ({'; '.join(facts)})" if facts else "")
                + f". {ctx._where()}" + hint, ctx)
    return g


def _received_finite(received: Any) -> bool:
    """Whether the gradient(s) a VJP received (a Tensor, a list of them and Nones) are finite."""
    for r in (received if type(received) is list else (received,)):
        if isinstance(r, _TensorCls) and r._data.dtype.kind in "fc" and \
                not bool(array_module(r._data).isfinite(r._data).all()):
            return False
    return True


QUIET_MIN_NODES = 8  # see _run_backward
_NO_CONTEXT = contextlib.nullcontext()


def run_backward(roots: Sequence[Tensor], grad_roots: Sequence[Tensor], retain_graph: bool,
                 create_graph: bool, inputs: Sequence[Tensor] | None = None) -> list[Tensor | None]:
    """Backpropagate ``grad_roots`` from ``roots`` (see ``_run_backward``); afterwards the
    garbage collector's full collections, deferred while a big graph was recorded, resume."""
    try:
        return _run_backward(roots, grad_roots, retain_graph, create_graph, inputs)
    except AnomalyError as exc:
        if exc.output is None and roots:
            exc.output = roots[0]
        raise
    finally:
        if _deferred is not None:
            _restore_collections()


def _run_backward(roots: Sequence[Tensor], grad_roots: Sequence[Tensor], retain_graph: bool,
                  create_graph: bool, inputs: Sequence[Tensor] | None = None
                  ) -> list[Tensor | None]:
    """Backpropagate ``grad_roots`` from ``roots``.

    Without ``inputs`` the gradients are accumulated into the ``.grad`` of every leaf that requires
    grad (``Tensor.backward``). With ``inputs`` only the paths to them are computed and their
    gradients are returned; no ``.grad`` is touched (``grad()``).
    """
    Tensor = _TensorCls
    for r in roots:
        if r.__class__ is _FunctionView:
            _check_function_view(r, "backward", recording=True)  # (whatever the grad mode)
    root_edges = [_edge(r) for r in roots]
    leaf_users: dict[int, Any] | None = {} if inputs is None else None
    nodes = _collect(root_edges, leaf_users)
    capture: dict[int, list[int]] = {}  # edge -> the positions of ``inputs`` it answers
    needed: set[int] | None = None
    if inputs is not None:
        for i, t in enumerate(inputs):
            capture.setdefault(id(_edge(t)), []).append(i)
        needed = _needed(nodes, set(capture))
    captured: list[Tensor | None] = [None] * (len(inputs) if inputs is not None else 0)

    grads: dict[int, Tensor] = {}
    leaves: dict[int, Tensor] = {}  # leaf tensors in the order their first gradient arrived
    owned: dict[int, Any] = {}  # gradients in arrays of this pass's own: see _add_piece
    for e, g in zip(root_edges, grad_roots):
        _accumulate(grads, leaves, e, g)

    # the VJPs meet inf and NaN as IEEE arithmetic does (0 * inf is NaN where the math says so,
    # masked away where it does not), without numpy's RuntimeWarnings, as PyTorch's backward --
    # for graphs of more than a few nodes: entering np.errstate costs 1-2 µs, 10-15% of a small
    # op's forward and backward (the ops whose VJPs meet inf most, pow, the pools, convolutions
    # and resampling, are quiet themselves)
    quiet = np.errstate(all="ignore") if len(nodes) > QUIET_MIN_NODES or \
        numpy_warnings_shown() else _NO_CONTEXT
    user = np.geterr() if quiet is not _NO_CONTEXT else None  # hooks are the user's code: theirs
    # a leaf's .grad is filled as soon as the last node that sends it a gradient has run (the
    # moment PyTorch's AccumulateGrad runs), so hooks that run later in the pass -- a module's
    # backward hook reading its weight's .grad -- see it, as in PyTorch
    due: dict[int, list[Tensor]] = {}  # id(node) -> the leaves complete once it has run
    if leaf_users and len(nodes) > 1:  # (after a graph's one node, all its leaves are complete)
        for leaf, last in leaf_users.values():
            due.setdefault(id(last), []).append(leaf)
    prev = None
    mode = _state.grad_enabled  # (set and restored by hand: a _GradModeSwitch costs a small op 5%)
    _state.grad_enabled = create_graph and not _state.inference
    outer_run = _state.backward_run
    _state.backward_run = (next(_PASSES), needed, root_edges)
    outer_user = _state.user_errstate
    if user is not None:
        _state.user_errstate = user
    try:
        with quiet:
            for ctx in nodes:
                if due and id(prev) in due:
                    _finish_leaves(due.pop(id(prev)), grads, leaves, create_graph, user)
                prev = ctx
                g = grads.pop(id(ctx), None)
                if g is None:
                    continue
                try:
                    shape = ctx.out_meta[0]
                except AttributeError:  # (a node recorded without its output's metadata)
                    shape = None
                if shape is not None and type(g) is Tensor and g._data.shape != shape:
                    g = _to_recorded_shape(ctx, g, shape)
                if ctx.hooks:
                    g = _run_hooks(ctx.hooks, g, ctx.fn.name, user, ctx)
                if ctx.retained is not None:
                    t = ctx.retained()
                    # (its node as it stands, not brought up to date: a view whose base changed
                    # in place keeps its retain_grad on the node the user's ops read until it is
                    # read again, as in PyTorch -- `grad_fn` would move it here, losing .grad)
                    if t is not None and t._grad_fn is ctx:
                        t._grad = _own_copy(g, create_graph) if t._grad is None else t._grad + g
                if id(ctx) in capture:
                    for i in capture[id(ctx)]:
                        captured[i] = g
                if needed is not None and (id(ctx) not in needed or _only_capture(ctx, needed, capture)):
                    continue
                if ctx.fn is OutputOf:  # hand the gradient of output k to its op, in slot k
                    op = ctx.next[0]
                    slots = grads.get(id(op))
                    if slots is None:
                        slots = grads[id(op)] = [None] * op.n_outputs
                    k = ctx.index  # type: ignore[attr-defined]
                    slots[k] = g if slots[k] is None else slots[k] + g
                    continue
                watched = _flags.anomaly  # ops the VJP records are checked as this VJP's
                if watched:
                    outer, _state.backward_of = _state.backward_of, ctx
                node_hooks = ctx.node_hooks
                if ctx.fn.pieces and "pieces" in ctx.fn.__dict__ and not create_graph and \
                        not watched and node_hooks is None \
                        and "piece" in ctx.attrs and ctx.next[0] is not None and (
                            needed is None or id(ctx.next[0]) in needed) and \
                        _add_piece(grads, leaves, owned, ctx, g):
                    ctx.backward_ran = True
                    if not retain_graph:
                        ctx._saved = _FREED
                    continue
                if ctx.out_hooked:  # (a multi-output op's)
                    _hook_unused_outputs(ctx, g, user)
                # a user's Function's backward is the user's code: their numpy error settings
                # (t152: np.log(0) in it was silenced under their warnings filter)
                theirs = np.errstate(**user) if user is not None and ctx.fn._user else None
                if theirs is not None:
                    theirs.__enter__()
                try:
                    if node_hooks is not None:
                        in_grads = _hooked_backward(ctx, g, node_hooks, user)
                    elif ctx.n_outputs > 1:
                        in_grads = ctx.fn.backward(ctx, *_vjp_grads(ctx, _output_grads(ctx, g)))
                    elif ctx.passthrough is not None:  # (a user's forward returned y, n)
                        in_grads = ctx.fn.backward(ctx, *_vjp_grads(ctx, (g,)))
                    else:
                        in_grads = ctx.fn.backward(ctx, g)
                except Exception as exc:
                    if out_of_memory(exc) and not ctx.fn._user:
                        exc = no_memory(ctx.fn.name, exc)  # (numpy's, named: t181)
                        _name_node(exc, ctx)
                        raise exc from None
                    _name_node(exc, ctx)
                    raise
                finally:
                    if theirs is not None:
                        theirs.__exit__(None, None, None)
                    if watched:
                        _state.backward_of = outer
                ctx.backward_ran = True  # (what the drawings ask: has a backward come here?)
                if not retain_graph:
                    ctx._saved = _FREED
                if type(in_grads) is not tuple:
                    in_grads = (in_grads,)
                if len(in_grads) != len(ctx.next):
                    in_grads = _as_many(ctx, in_grads)
                # each gradient must fit its input: checked in full (_check_grad) for a user's
                # Function, under detect_anomaly() and where the quick test below fails
                full = watched or ctx.fn._user
                for i, (e, gi) in enumerate(zip(ctx.next, in_grads)):
                    if e is None or gi is None:
                        continue
                    if needed is not None and id(e) not in needed:
                        continue
                    meta = ctx.in_meta[i]
                    if full or type(gi) is not Tensor or gi._data.shape != meta[0] or \
                            gi._data.dtype is not meta[1]:
                        gi = _check_grad(ctx, i, gi, meta, g)
                    if create_graph and (ctx.fn.vjp_reads_input or ctx.reads_input):
                        # relu's formula reads its output: the link goes through relu's node again
                        anchor = ctx if ctx.fn.vjp_reads_input == "output" else e
                        gi = _linked(gi, anchor, ctx.in_meta[i])
                    _accumulate(grads, leaves, e, gi, owned)

            for key, leaf in leaves.items():
                g = grads.pop(key, None)
                if g is None:  # (finished early, above)
                    continue
                if leaf._hooks:
                    g = _run_hooks(leaf._hooks, g, leaf.name or "a leaf tensor", user)
                if key in capture:
                    for i in capture[key]:
                        captured[i] = g
                elif inputs is None:
                    _into_grad(leaf, g, create_graph)
    finally:
        _state.grad_enabled = mode
        _state.backward_run = outer_run
        _state.user_errstate = outer_user
    if not captured:
        return captured
    # what grad() returns, the user may write into (PyTorch's are never read-only broadcasts)
    return [g if g is None or getattr(g._data.flags, "writeable", True) else _own_copy(g, create_graph)
            for g in captured]


_POST_ACCUMULATE: dict[int, list[Any]] = {}  # id(leaf) -> its post-accumulate-grad hooks
_ACCUMULATE_PRE: dict[int, list[Any]] = {}  # id(leaf) -> its AccumulateGrad node's pre-hooks
_ACCUMULATE_POST: dict[int, list[Any]] = {}  # ... and its (post) hooks


def user_numpy() -> Any:
    """A context for the user's code called inside a backward pass (module backward hooks,
    post-accumulate-grad hooks): their numpy error settings, not the pass's quiet ones."""
    u = _state.user_errstate
    return _NO_CONTEXT if u is None else np.errstate(**u)


def _post_accumulate(leaf: Tensor) -> None:
    """Run ``leaf``'s post-accumulate-grad hooks, ``hook(leaf)``, after its ``.grad`` grew."""
    for hook in list(_POST_ACCUMULATE.get(id(leaf), ())):
        with user_numpy():
            result = hook(leaf)
        if result is not None:
            raise RuntimeError("post accumulate grad hooks should return None (they may change "
                               "tensor.grad in place instead)")


def register_post_accumulate_grad_hook(t: Tensor, hook: Callable[[Tensor], None]
                                       ) -> RemovableHandle:
    """PyTorch's ``Tensor.register_post_accumulate_grad_hook``: ``hook(t)`` after ``backward()``
    has added into ``t.grad`` (a leaf's; not for ``grad()``), e.g. to step an optimizer inside
    the backward pass."""
    if not t.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: the hook must be callable, got "
                        f"{type(hook).__name__}")
    return _add_leaf_hook(_POST_ACCUMULATE, t, hook)


def _add_leaf_hook(registry: dict[int, list[Any]], leaf: Tensor, hook: Any) -> RemovableHandle:
    """Put ``hook`` in ``leaf``'s list of ``registry`` (keyed by id; the entry goes with the
    leaf, as ids are reused after death)."""
    key = id(leaf)
    hooks = registry.get(key)
    if hooks is None:
        hooks = registry[key] = []
        weakref.finalize(leaf, registry.pop, key, None)
    return RemovableHandle.register(hooks, hook)


def _finish_leaves(ready: list[Tensor], grads: dict[int, Tensor], leaves: dict[int, Tensor],
                   create_graph: bool, user: Any) -> None:
    """Run the hooks of leaves whose gradients are all in and add them into their ``.grad``."""
    for leaf in ready:
        g = grads.pop(id(leaf), None)
        if g is None:  # (no path from the roots reached it)
            continue
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g, leaf.name or "a leaf tensor", user)
        _into_grad(leaf, g, create_graph)


def _into_grad(leaf: Tensor, g: Tensor, create_graph: bool, named: bool = False) -> None:
    """Add ``g`` into ``leaf.grad`` (PyTorch's AccumulateGrad node: its pre-hooks first), then
    run its post-accumulate-grad hooks. (``named``: a tensor ``backward(inputs=...)`` named,
    a non-leaf too.)"""
    if leaf._grad_fn is None and not leaf._requires_grad:
        return  # frozen (requires_grad_(False)) after the graph was made: PyTorch's skip
    if leaf._grad_fn is not None and not named:
        # a leaf of this graph that an in-place op with a gradient-carrying source made a
        # non-leaf since (x.detach_(); x.add_(w)): PyTorch's error, not a .grad on a non-leaf
        raise RuntimeError(
            f"backward: leaf variable has been moved into the graph interior: "
            f"{leaf.name or 'a leaf tensor'} of shape {tuple(leaf.shape)} was a leaf of this graph "
            f"and has since been changed in place by {leaf._grad_fn.fn.name} with a source that "
            "requires grad; compute the graph again, or change a .clone() of it")
    if _ACCUMULATE_PRE and _ACCUMULATE_PRE.get(id(leaf)):
        for hook in list(_ACCUMULATE_PRE[id(leaf)]):
            with user_numpy():
                result = hook((g,))
            (g,) = _hook_result(result, (g,), hook, None, "register_prehook", "grad_outputs")
            if g is None:
                return
    # one thread at a time, as PyTorch's AccumulateGrad: two threads' backward into one leaf
    # lost updates (numpy's += lets go of the GIL) or one thread's whole first gradient
    with _ACCUMULATE_LOCK:
        _accumulate_leaf(leaf, g, create_graph)
    if create_graph and not _GRAD_CYCLE_WARNED and g._requires_grad and leaf._grad_fn is None:
        _warn_grad_cycle()  # (after .grad is written, as PyTorch's: under -W error it is there)
    if _POST_ACCUMULATE:
        _post_accumulate(leaf)
    if _ACCUMULATE_POST and _ACCUMULATE_POST.get(id(leaf)):
        for hook in list(_ACCUMULATE_POST[id(leaf)]):
            with user_numpy():
                result = hook((), (g,))
            if result not in (None, ()):  # (an empty tuple: the 0 values expected)
                raise RuntimeError(
                    f"AccumulateGrad hook {getattr(hook, '__name__', hook)!r} returned a value: "
                    "the node sends no gradient on (grad_inputs is ()), so its hooks return None "
                    "(as in PyTorch); change .grad in leaf.register_post_accumulate_grad_hook")


_ACCUMULATE_LOCK = threading.Lock()
new_locks_after_fork(globals(), "_ACCUMULATE_LOCK")
_GRAD_CYCLE_WARNED = False


def _warn_grad_cycle() -> None:
    """PyTorch's warning, once per process, the first time ``backward(create_graph=True)`` puts a
    gradient with a graph into a leaf's ``.grad`` (the graph holds the leaf: a reference cycle),
    shown at the user's line."""
    global _GRAD_CYCLE_WARNED
    _GRAD_CYCLE_WARNED = True
    depth, f = 1, sys._getframe(1)
    while f is not None and _in_package(f.f_code.co_filename):
        f, depth = f.f_back, depth + 1
    warnings.warn(
        "Using backward() with create_graph=True will create a reference cycle between the "
        "parameter and its gradient which can cause a memory leak. We recommend using "
        "autograd.grad when creating the graph to avoid this. If you have to use this function, "
        "make sure to reset the .grad fields of your parameters to None after use to break the "
        "cycle and avoid the leak.", UserWarning, stacklevel=depth + 1)


def _accumulate_leaf(leaf: Tensor, g: Tensor, create_graph: bool) -> None:
    """Add a gradient into ``leaf.grad``: in place when it can (PyTorch's rule: a reference kept to
    ``x.grad`` stays current), out of place when the sum must itself be differentiable."""
    cur = leaf._grad
    if cur is None:
        d = leaf._data
        if not d.flags.c_contiguous and d.ndim > 1:
            if not create_graph:
                leaf._grad = _TensorCls._make(_in_layout_of(d, g._data))
                return
            # the differentiable clone, its values laid out as the leaf lies, as with
            # create_graph=False and in PyTorch's both modes (was: C order, t132)
            own = _own_copy(g, create_graph)
            own._data = _in_layout_of(d, own._data)
            leaf._grad = own
        else:
            leaf._grad = _own_copy(g, create_graph)
        return
    a, b = cur._data, g._data
    if a.shape != b.shape:  # the leaf changed shape since (x.data = ...); PyTorch refuses too
        raise RuntimeError(
            f"backward: the gradient of shape {tuple(b.shape)} cannot be added into the .grad of "
            f"shape {tuple(a.shape)} that this tensor already holds (its shape changed since, "
            f"e.g. through .data = ...); set its .grad = None before this backward")
    # without create_graph, in place even into a .grad that has a graph of its own (PyTorch's
    # AccumulateGrad: the graph stays, the values grow, a reference stays current)
    if not create_graph and a.shape == b.shape and a.dtype == b.dtype and (
            a.flags.c_contiguous or not _self_overlapping(a)):
        try:
            a += b
        except ValueError:  # a read-only array the program assigned: add out of place below
            pass
        else:
            cur._version_counter[0] += 1
            return
    leaf._grad = cur + g if create_graph else _TensorCls._make(array_module(a).asarray(a + b))


def _own_copy(g: Tensor, create_graph: bool) -> Tensor:
    """A copy of ``g`` for a ``.grad`` of its own: the same gradient object may reach two leaves
    (``x + y``) or be a read-only broadcast (a sum's); with ``create_graph`` a differentiable
    clone (as PyTorch's AccumulateGrad clones)."""
    return g.clone() if create_graph else _TensorCls._make(g._data.copy())


def _in_layout_of(d: Any, g: Any) -> Any:
    """A copy of gradient ``g`` for a leaf's new ``.grad`` by PyTorch's layout contract: where the
    leaf's elements ``d`` lie densely in another order than C (a channels-last or transposed
    parameter), laid out as they lie; else in C order (a leaf whose elements have gaps)."""
    from tinygrad_cnn.tensor import _dense

    if type(d) is not np.ndarray or not _dense(d):
        return g.copy()
    if g.strides == d.strides:
        return g.copy(order="K")
    out = np.empty_like(d, dtype=g.dtype)  # (order K: the leaf's own strides, it being dense)
    out[...] = g
    return out


def _self_overlapping(a: Any) -> bool:
    """Whether elements of ``a`` share memory (a zero stride over more than one element, as a
    user-set ``.grad`` made by ``as_strided`` may have): adding into it in place would add twice."""
    return a.size > 1 and any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape))


def _run_hooks(hooks: list[Any], g: Tensor, where: str,
               user_errstate: dict[str, str] | None = None, ctx: Context | None = None) -> Tensor:
    """Run tensor hooks on ``g`` (under the user's numpy error settings, not the backward's);
    ``ctx``: the op whose output they are registered on (its source line goes in errors). The
    hooks registered when they start run (PyTorch's snapshot): one that a hook adds or removes
    takes effect from the next backward."""
    on = "registered on " + (f"the output of {where}" if ctx is not None else where)
    for hook in tuple(hooks):
        snaps = _finite_snapshots((g,))
        new = _call_hook(hook, g, user_errstate)
        if snaps is not None:  # (a hook that changed the gradient in place and returned None)
            _changed_in_place(hook, (g,), snaps, on, ctx)
        if new is None:
            continue
        if not isinstance(new, _TensorCls) or new._data.shape != g._data.shape or \
                new._data.dtype != g._data.dtype:
            got = (f"a gradient of shape {tuple(new._data.shape)} and dtype {new._data.dtype}"
                   if isinstance(new, _TensorCls) else a_type(new))
            name = getattr(hook, "__qualname__", repr(hook))
            kind = RuntimeError if isinstance(new, _TensorCls) else TypeError  # (PyTorch's)
            raise kind(
                f"hook {name} ({on}) returned {got}; it must "
                f"return None or a Tensor of the gradient's shape {tuple(g._data.shape)} and dtype "
                f"{g._data.dtype}" + (f". {ctx._where()}" if ctx is not None else ""))
        if _flags.anomaly and _flags.anomaly_check and new is not g:
            _hook_made_non_finite(hook, g, new, on, ctx)
        g = new
    return g


def _call_hook(hook: Any, g: Tensor | None, user_errstate: dict[str, str] | None) -> Any:
    """``hook(g)`` under the user's numpy error settings (None: those in force already)."""
    if user_errstate is None:
        return hook(g)
    with np.errstate(**user_errstate):
        return hook(g)


def _finite_snapshots(grads: Sequence[Any]) -> list[Any] | None:
    """Inside ``detect_anomaly()``: copies of the finite floating gradients a hook is about to
    see (None for the others), to tell whether it made one non-finite in place; else None."""
    if not (_flags.anomaly and _flags.anomaly_check):
        return None
    snaps = []
    for g in grads:
        ok = isinstance(g, _TensorCls) and g._data.dtype.kind in "fc" and bool(
            array_module(g._data).isfinite(g._data).all())
        snaps.append(g._data.copy() if ok else None)
    return snaps


def _changed_in_place(hook: Any, grads: Sequence[Any], snaps: list[Any], on: str,
                      ctx: Context | None, say_node: bool = True) -> None:
    """A hook that turned a finite gradient it was given non-finite in place (``g.mul_(nan)``,
    returning None) is named as the anomaly's maker, as one that returns it is."""
    for g, snap in zip(grads, snaps):
        if snap is not None:
            _hook_made_non_finite(hook, _TensorCls._make(snap), g, on, ctx, say_node, "in place")


def _hook_made_non_finite(hook: Any, g: Tensor | None, new: Tensor, on: str,
                          ctx: Context | None, say_node: bool = True,
                          how: str = "returned") -> None:
    """Inside ``detect_anomaly()``: a hook (a tensor's, a node's) that turned a finite gradient
    (or none) into one with NaN or Inf is where the anomaly began, not the VJP that receives it
    next. ``on``: what the hook is registered on, as the message says it; ``say_node``: where
    ``ctx`` was created goes in the message (not for a module's hooks: ``on`` names it)."""
    xp = array_module(new._data)
    if new._data.dtype.kind not in "fc" or bool(xp.isfinite(new._data).all()) or (
            g is not None and g._data.dtype.kind in "fc" and not bool(xp.isfinite(g._data).all())):
        return
    code = getattr(hook, "__code__", None)
    name = getattr(hook, "__qualname__", repr(hook))
    line = f", defined at {code.co_filename}:{code.co_firstlineno}" if code is not None else ""
    got = "none" if g is None else _ranges([g._data]).replace("input 0: ", "", 1)
    gave = _ranges([new._data]).replace("input 0: ", "", 1)
    raise AnomalyError(
        f"detect_anomaly: hook {name}{line} ({on}) " + (
            f"returned NaN or Inf from a finite gradient (it received: {got}; it returned: "
            f"{gave})" if how == "returned" else f"changed its finite gradient in place to hold "
            f"NaN or Inf (before: {got}; after: {gave})")
        + (f". {ctx._where()}" if ctx is not None and say_node else "."), ctx)


def _hooked_backward(ctx: Context, g: Any, node_hooks: dict[str, list[Any]],
                     user_errstate: dict[str, str] | None) -> tuple[Any, ...]:
    """Run ``ctx``'s VJP between its node hooks (``grad_fn.register_prehook`` / ``register_hook``),
    as PyTorch's engine does: pre-hooks may replace the gradients it receives, post hooks the
    gradients it sends."""
    outs = tuple(g) if ctx.n_outputs > 1 else (g,)  # (None for an output that got none)
    passthrough = ctx.passthrough
    if passthrough is not None:  # hooks see every output's place, None for the non-arrays
        outs = tuple(_vjp_grads(ctx, outs))
    with np.errstate(**(user_errstate or np.geterr())):
        for hook in list(node_hooks["pre"]):
            snaps = _finite_snapshots(outs)
            new = hook(outs)
            if snaps is not None:
                _changed_in_place(hook, outs, snaps,
                                  f"grad_fn.register_prehook of {ctx.fn.name}", ctx)
            outs = _hook_result(new, outs, hook, ctx, "register_prehook", "grad_outputs")
    if all(o is None for o in outs):  # the pre-hooks left no gradient: the VJP sends none
        return (None,) * len(ctx.next)
    received = outs  # (post hooks see these, None for an output that got none, as PyTorch's)
    if passthrough is not None:
        outs = tuple(outs[k] for k in passthrough[1])
    if ctx.n_outputs > 1:
        outs = tuple(_output_grads(ctx, list(outs)))
    outs = tuple(_vjp_grads(ctx, outs))
    in_grads = ctx.fn.backward(ctx, *outs)
    if not node_hooks["post"]:
        return in_grads
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    if len(in_grads) != len(ctx.next):
        in_grads = _as_many(ctx, in_grads)
    with np.errstate(**(user_errstate or np.geterr())):
        for hook in list(node_hooks["post"]):
            snaps = _finite_snapshots(in_grads)
            new = hook(in_grads, received)
            if snaps is not None:
                _changed_in_place(hook, in_grads, snaps,
                                  f"grad_fn.register_hook of {ctx.fn.name}", ctx)
            in_grads = _hook_result(new, in_grads, hook, ctx, "register_hook", "grad_inputs")
    note = getattr(ctx.fn, "_note_after_hooks", None)  # (a drawing's recording: what was sent)
    if note is not None:
        note(ctx, outs, in_grads)
    return in_grads


def _hook_result(new: Any, old: tuple[Any, ...], hook: Any, ctx: Context | None, kind: str,
                 what: str) -> tuple[Any, ...]:
    """A node hook's return value: None keeps ``old``; else a tuple (or list) of as many Tensors
    or Nones, each of its slot's shape and dtype."""
    if new is None:
        return old
    name = getattr(hook, "__qualname__", repr(hook))
    where = f"hook {name} (grad_fn.{kind} of {ctx.fn.name if ctx is not None else 'AccumulateGrad'})"
    if not isinstance(new, (tuple, list)) or len(new) != len(old):
        got = f"{len(new)} values" if isinstance(new, (tuple, list)) else a_type(new)
        raise RuntimeError(f"{where} returned {got}; it must return None or a tuple of "
                           f"{len(old)} (one per entry of {what}, None where there is none)")
    for i, (n, o) in enumerate(zip(new, old)):
        if n is None:
            continue
        if not isinstance(n, _TensorCls) or (o is not None and (
                n._data.shape != o._data.shape or n._data.dtype != o._data.dtype)):
            got = (f"shape {tuple(n._data.shape)} and dtype {n._data.dtype}"
                   if isinstance(n, _TensorCls) else a_type(n))
            want = (f"shape {tuple(o._data.shape)} and dtype {o._data.dtype}" if o is not None
                    else "a Tensor")
            # (not a Tensor at all: a TypeError, as PyTorch's and our tensor hooks' -- t148)
            raise (RuntimeError if isinstance(n, _TensorCls) else TypeError)(
                f"{where} returned {got} for {what}[{i}]; it must be {want}")
        if _flags.anomaly and _flags.anomaly_check and n is not o:
            _hook_made_non_finite(hook, o, n, f"grad_fn.{kind} of "
                                  f"{ctx.fn.name if ctx is not None else 'AccumulateGrad'}, "
                                  f"{what}[{i}]", ctx)
    return tuple(new)


def _hook_unused_outputs(ctx: Context, slots: list[Tensor | None],
                         user: dict[str, str] | None) -> None:
    """The tensor hooks of a multi-output op's outputs that got no gradient run with None when
    the op's VJP runs (PyTorch's: a hook on ``b`` of ``a, b = f(x)`` sees None when only ``a`` is
    used); a gradient cannot be made up there."""
    for k, node in enumerate(ctx.out_hooked):
        if node is None or slots[k] is not None or not node.hooks:
            continue
        for hook in tuple(node.hooks):
            if _call_hook(hook, None, user) is not None:
                raise RuntimeError(
                    f"a hook on output {k} of {ctx.fn.name} returned a gradient where that output "
                    "got none (it was not used): can't replace a None gradient with a non-None "
                    f"value, as PyTorch says; return None there. {ctx._where()}".rstrip())


def _output_grads(ctx: Context, slots: list[Tensor | None]) -> list[Tensor | None]:
    """The gradients of a multi-output op's outputs: zeros for outputs that got none (or None,
    after ``ctx.set_materialize_grads(False)``)."""
    if not ctx.materialize:
        return slots
    xp, metas = ctx.out_xp, ctx.out_metas  # type: ignore[attr-defined]
    return [g if g is not None else _TensorCls._make(xp.zeros(shape, dtype=dtype))
            for g, (shape, dtype) in zip(slots, metas)]


def _only_capture(ctx: Context, needed: set[int], capture: dict[int, list[int]]) -> bool:
    """A captured node whose own inputs lead to no other input need not run its VJP."""
    return id(ctx) in capture and not any(e is not None and id(e) in needed for e in ctx.next)


def _accumulate(grads: dict[int, Tensor], leaves: dict[int, Tensor], edge: Any, g: Tensor,
                owned: dict[int, Any] | None = None) -> None:
    key = id(edge)
    prev = grads.get(key)
    if prev is None:
        grads[key] = g
        if owned:
            owned.pop(key, None)  # (not ours: g is the VJP's)
    elif prev._data.shape == g._data.shape and first_order(prev, g):  # paths merge: the sum on
        if owned and key in owned and prev._data.dtype == g._data.dtype:
            prev._data += g._data  # (our own array, see _add_piece: the sum in place)
            owned[key] = _MIXED
        else:
            grads[key] = _TensorCls._make(prev._data + g._data)  # the arrays, as Add gives it
    else:
        grads[key] = prev + g
        if owned:
            owned.pop(key, None)
    if type(edge) is not Context and key not in leaves:
        leaves[key] = edge


_MIXED = object()  # an owned gradient array that holds more than one split's pieces
# numpy's messages for an array (or an indexing result) of more than 64 dims
_NUMPY_DIMS = re.compile(r"maximum supported dimension for an ndarray|number of dimensions must "
                         r"be within \[0, 64\]")


def _add_piece(grads: dict[int, Tensor], leaves: dict[int, Tensor], owned: dict[int, Any],
               ctx: Context, g: Tensor) -> bool:
    """The first-order VJP of a piece of ``split``, ``unbind`` or ``chunk`` (a ``getitem`` of a
    slice) written straight into its input's gradient, in an array of this pass's own: zeros
    made once, each piece's gradient written at its place -- PyTorch's VJP of these ops, a
    ``cat``/``stack`` of the pieces' gradients. (Each piece's VJP made a full array of zeros
    and each merge a full sum: O(n^2) for n pieces, t165.) ``owned[key]``: the split the array
    holds pieces of (written: they do not overlap), or ``_MIXED`` once another gradient was
    added into it (added from then on). The values are PyTorch's sums; of the signs of zeros
    only one is not: a -0.0 piece written where another gradient already holds -0.0 gives
    0.0 here, -0.0 there. False: the usual VJP is needed (a dtype or layout this does not
    handle)."""
    gd = g._data
    shape, dtype = ctx.in_meta[0][0], ctx.in_meta[0][1]
    if type(g) is not _TensorCls or gd.dtype != dtype or g._requires_grad:
        return False
    edge = ctx.next[0]
    key, token = id(edge), ctx.attrs["piece"]
    prev = grads.get(key)
    if prev is None:
        buf = array_module(gd).zeros(shape, dtype=dtype)
        buf[ctx.key] = gd
        grads[key] = _TensorCls._make(buf)
        owned[key] = token
    else:
        state = owned.get(key)
        buf = prev._data
        if state is None:  # another path's gradient, not ours to write into: a sum with it
            if buf.shape != shape or buf.dtype != dtype or prev._requires_grad:
                return False
            # (+ 0.0: where no piece writes, PyTorch's sum with the pieces' cat makes -0.0 a
            # 0.0; where this one writes, the sum with the gradient as it was)
            part = buf[ctx.key] + gd
            buf = buf + dtype.type(0)
            buf[ctx.key] = part
            grads[key] = _TensorCls._make(buf)
            owned[key] = _MIXED
            if type(edge) is not Context and key not in leaves:
                leaves[key] = edge
            return True
        if state is token:
            buf[ctx.key] = gd
        else:
            if state is not _MIXED:  # (another split's pieces: their cat's zeros make the
                buf += dtype.type(0)  # -0.0s where this one writes nothing 0.0, once)
            buf[ctx.key] += gd
            owned[key] = _MIXED
    if type(edge) is not Context and key not in leaves:
        leaves[key] = edge
    return True


def _as_tuple(x: Tensor | Sequence[Tensor], what: str = "tensors",
              where: str = "autograd") -> tuple[Tensor, ...]:
    if isinstance(x, _TensorCls):
        return (x,)
    if isinstance(x, (str, bytes)) or not isinstance(x, Iterable):
        raise TypeError(f"{where}: {what} must be a Tensor or a sequence of Tensors, got "
                        f"{type(x).__name__}")
    return tuple(x)


def _checked_outputs(outputs: Tensor | Sequence[Tensor], where: str) -> tuple[Tensor, ...]:
    """``outputs`` as a tuple of Tensors (a number there was Python's "'int' object is not
    iterable", and a list holding one an AttributeError)."""
    outs = _as_tuple(outputs, "outputs", where)
    for i, t in enumerate(outs):
        if not isinstance(t, _TensorCls):
            raise TypeError(f"{where}: outputs must be Tensors, output {i} is {a_type(t)}")
    return outs


def _root_grads(outputs: tuple[Tensor, ...], grad_outputs: Any, where: str) -> list[Tensor]:
    Tensor = _TensorCls
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):  # one Tensor, array or number
        grad_outputs = [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        if any(isinstance(g, (int, float)) for g in grad_outputs):  # backward([1., 1.])
            raise TypeError(
                f"{where}: the gradient must be a Tensor (or None), one per output; got a list "
                f"of {len(grad_outputs)} numbers for {len(outputs)} output(s) -- wrap it: "
                "tinygrad_cnn.tensor([...])")
        raise ValueError(f"{where}: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    result = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise RuntimeError(
                f"{where}: output {i} (shape {out.shape}) does not require grad and has no grad_fn; "
                "make sure an input has requires_grad=True and the computation ran outside no_grad()"
            )
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"{where}: output {i} has shape {out.shape}; a gradient can be created "
                    "implicitly only for a single-element output. Pass a gradient of that shape, "
                    "e.g. out.backward(gradient=ones_like(out)), or reduce it first (out.sum())."
                )
            xp = array_module(out._data)
            g = Tensor._make(xp.ones_like(out._data))
        else:
            if not isinstance(g, Tensor):
                # (a number as its value: Tensor(2) is the legacy size constructor -- an int
                # gradient was zeros of shape (2,), silently: t148)
                g = Tensor(array_module(out._data).asarray(g)
                           if hasattr(g, "shape") or isinstance(g, (int, float)) else g,
                           dtype=out.dtype, device=out.device)
            if g._data.shape != out._data.shape:
                raise RuntimeError(
                    f"{where}: the gradient for output {i} has shape {g.shape} but the output has "
                    f"shape {out.shape}; they must match"
                )
            if g._data.dtype != out._data.dtype:
                g = g.to(out.dtype)
        result.append(g)
    return result


def _check_graph_flags(where: str, retain_graph: Any, create_graph: Any) -> tuple[Any, bool]:
    """PyTorch's TypeError for a ``retain_graph`` that is not a bool (or an int, which PyTorch
    reads as one, or a one-element tensor) or None, or a ``create_graph`` that is not one
    (``retain_graph='yes'`` was read by truthiness: t148); both returned as bools."""
    for name, v, none in (("retain_graph", retain_graph, True), ("create_graph", create_graph,
                                                                  False)):
        if not (isinstance(v, (bool, int, np.bool_, np.integer)) or (none and v is None) or (
                isinstance(v, _TensorCls) and v.numel() == 1)):  # (PyTorch reads a tensor's bool)
            raise TypeError(f"{where}(): argument '{name}' must be "
                            f"{'None or ' if none else ''}bool, not {type(v).__name__}")
    return (None if retain_graph is None else bool(retain_graph)), bool(create_graph)


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None,
             retain_graph: bool | None = None, create_graph: bool = False,
             grad_variables: Any = None, inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of every leaf that needs one --
    or, with ``inputs``, into the ``.grad`` of those tensors only (leaves or not; one the outputs
    do not depend on keeps its ``.grad``). ``grad_variables`` is PyTorch's deprecated name of
    ``grad_tensors`` (with its warning)."""
    if grad_variables is not None:
        warnings.warn("'grad_variables' is deprecated. Use 'grad_tensors' instead.",
                      FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("backward: 'grad_tensors' and 'grad_variables' (deprecated) "
                               "arguments both passed to backward(). Please only use "
                               "'grad_tensors'.")
        grad_tensors = grad_variables
    if not ((retain_graph is None or type(retain_graph) is bool) and type(create_graph) is bool):
        retain_graph, create_graph = _check_graph_flags("backward", retain_graph, create_graph)
    outputs = _as_tuple(tensors, "tensors", "backward")
    roots = _root_grads(outputs, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        run_backward(outputs, roots, retain_graph, create_graph)
        return
    ins = tuple({id(t): t for t in _checked_inputs(inputs, "backward")}.values())  # (once each)
    # a non-leaf that retains its gradient gets it from the pass itself: not a second time here
    retained = [t.grad_fn is not None and t.retains_grad for t in ins]
    grads = run_backward(outputs, roots, retain_graph, create_graph, inputs=ins)
    for t, g, already in zip(ins, grads, retained):
        if g is not None and not already:
            _into_grad(t, g if create_graph else g.detach(), create_graph, named=True)
        if t.grad_fn is not None:  # a non-leaf named here keeps its gradient from now on
            t.retain_grad()


def _checked_inputs(inputs: Tensor | Sequence[Tensor], where: str) -> tuple[Tensor, ...]:
    ins = _as_tuple(inputs, "inputs", where)
    if not ins:
        raise RuntimeError(f"{where}: the `inputs` argument cannot be empty; leave it out to "
                           "differentiate with respect to every leaf")
    for i, t in enumerate(ins):
        if not isinstance(t, _TensorCls):
            raise TypeError(f"{where}: inputs must be Tensors, input {i} is {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(
                f"{where}: input {i} (shape {t.shape}) does not require grad; create it with "
                "requires_grad=True or call .requires_grad_()"
            )
    return ins


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False
         ) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not stored in ``.grad``).
    PyTorch's arguments, in its order.

    ``grad_outputs``: the vector of the vector-Jacobian product (needed for non-scalar outputs).
    ``create_graph=True`` records the backward pass, so the result can be differentiated again
    (Hessian-vector products, gradient penalties). ``retain_graph`` defaults to ``create_graph``.
    An input the outputs do not depend on is an error unless ``allow_unused=True`` (then ``None``),
    or ``materialize_grads=True`` (then zeros, as PyTorch's). ``only_inputs`` is ignored (as
    PyTorch has done for years; ``False`` warns as there). ``is_grads_batched=True``: the first dim
    of every ``grad_outputs`` entry is a batch of vectors, and each result gets that dim too (one
    vector-Jacobian product per vector; PyTorch vectorises them, here they run one by one, so a
    tensor hook runs once per vector, where PyTorch's runs once on the batch). ``inputs`` a
    dict of tensors: a dict of their gradients under the same keys (PyTorch 2.13's).
    """
    if type(inputs) is dict:
        keys = list(inputs)
        return dict(zip(keys, grad(outputs, [inputs[k] for k in keys], grad_outputs,  # type: ignore[return-value]
                                   retain_graph, create_graph, only_inputs, allow_unused,
                                   is_grads_batched, materialize_grads)))
    if not ((retain_graph is None or type(retain_graph) is bool) and type(create_graph) is bool):
        retain_graph, create_graph = _check_graph_flags("grad", retain_graph, create_graph)
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). "
                      "To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    if allow_unused is False and materialize_grads:
        raise ValueError("grad: materialize_grads=True needs allow_unused left at None or True")
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    allow_unused = bool(allow_unused) or materialize_grads
    outs = _checked_outputs(outputs, "grad")
    ins = _checked_inputs(inputs, "grad")
    roots = _root_grads(outs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    result = run_backward(outs, roots, retain_graph, create_graph, inputs=ins)
    for i, (t, g) in enumerate(zip(ins, result)):
        if g is None and materialize_grads:
            result[i] = _materialized_zeros(t, create_graph)
            continue
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; pass "
                    "allow_unused=True to get None for it"
                )
        elif not create_graph:
            result[i] = g.detach()
    return tuple(result)


def _materialized_zeros(t: Tensor, create_graph: bool) -> Tensor:
    """``materialize_grads``' gradient of an input the outputs do not reach: zeros of its shape,
    a leaf that requires grad with ``create_graph`` (PyTorch's ``zeros_like(input,
    requires_grad=True)``: a penalty on it backpropagates)."""
    zeros = array_module(t._data).zeros_like(t._data)
    return _TensorCls._make(zeros, create_graph and zeros.dtype.kind in "fc")


def _batched_grad(outputs: Any, inputs: Any, grad_outputs: Any, retain_graph: bool | None,
                  create_graph: bool, allow_unused: bool | None,
                  materialize_grads: bool) -> tuple[Tensor | None, ...]:
    """``grad`` with ``is_grads_batched=True``: one product per vector, the results stacked."""
    outs = _checked_outputs(outputs, "grad")
    vectors = [] if grad_outputs is None else list(_as_tuple(grad_outputs, "grad_outputs", "grad"))
    if not vectors or any(v is None for v in vectors):
        raise RuntimeError("grad: is_grads_batched=True needs a batch of grad_outputs for every "
                           "output (a tensor whose first dim is the batch)")
    sizes = {int(v.shape[0]) if v.ndim else -1 for v in vectors}
    if len(sizes) != 1 or -1 in sizes:
        raise RuntimeError(f"grad: is_grads_batched=True needs grad_outputs with one batch size "
                           f"along their first dim; got shapes {[tuple(v.shape) for v in vectors]}")
    (size,) = sizes
    for k, (o, v) in enumerate(zip(outs, vectors)):
        if isinstance(o, _TensorCls) and tuple(v.shape[1:]) != tuple(o.shape):
            raise RuntimeError(
                f"grad: with is_grads_batched=True the first dim of each grad_output is the "
                f"batch: grad_outputs[{k}] of shape {tuple(v.shape)} is a batch of {size} "
                f"gradients of shape {tuple(v.shape[1:])}, but output {k} has shape "
                f"{tuple(o.shape)}; pass a tensor of shape ({', '.join(['batch', *map(str, o.shape)])}) "
                "-- e.g. v.unsqueeze(0) for a batch of one")
    keep = create_graph if retain_graph is None else retain_graph  # (PyTorch's default)
    rows = [grad(outs, inputs, [v[b] for v in vectors], retain_graph=keep or b < size - 1,
                 create_graph=create_graph, allow_unused=allow_unused or materialize_grads)
            for b in range(size)]
    ins = _as_tuple(inputs)
    out: list[Tensor | None] = []
    for i, t in enumerate(ins):
        column = [r[i] for r in rows]
        if any(c is None for c in column) and materialize_grads:
            # (an unused input's zeros as grad() gives them, without the batch dim: PyTorch's)
            out.append(_materialized_zeros(t, create_graph))
        elif any(c is None for c in column):
            out.append(None)
        elif not column:
            out.append(_TensorCls._make(array_module(t._data).zeros((0, *t.shape), t._data.dtype)))
        else:
            out.append(_TensorCls.stack(column))
    return tuple(out)


class RemovableHandle:
    """Returned by ``register_hook``; ``handle.remove()`` takes the hook off again. ``id``: an
    int, distinct for each handle made (PyTorch's). ``hooks`` is a list that holds ``hook``, or
    a dict that holds it under the handle's ``id`` (PyTorch's way: ``hooks[handle.id] = hook``,
    ``hook`` left out)."""

    next_id: int = 0

    def __init__(self, hooks: list[Any] | dict[int, Any], hook: Any = None) -> None:
        self._hooks = hooks
        self._hook = hook
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1

    def remove(self) -> None:
        """Take this registration off (its own entry, found by identity: the same function
        registered twice is two entries, and removing one -- twice, too -- leaves the other
        where it was, as PyTorch's)."""
        if isinstance(self._hooks, dict):
            self._hooks.pop(self.id, None)
            return
        if self._hook is _REMOVED:  # (removed already: the same function registered since is
            return                  # another registration's, which this handle must not take)
        try:  # (list.index compares identity first, and runs in C)
            i = self._hooks.index(self._hook)
        except Exception:
            i = -1
        if i < 0 or self._hooks[i] is not self._hook:  # (an equal one before it: by identity)
            i = next((k for k, entry in enumerate(self._hooks) if entry is self._hook), -1)
        if i >= 0:
            del self._hooks[i]
        self._hook = _REMOVED

    @classmethod
    def register(cls, hooks: list[Any], hook: Any) -> RemovableHandle:
        """Append ``hook`` to ``hooks`` (an entry of its own: see :meth:`entry`) and return the
        handle that takes it off."""
        hook = cls.entry(hooks, hook)
        hooks.append(hook)
        return cls(hooks, hook)

    @staticmethod
    def entry(hooks: list[Any], hook: Any) -> Any:
        """What a list of hooks stores for ``hook``: itself, or a call of it that is a distinct
        object where the list holds it already (so that each registration's handle removes its
        own entry)."""
        try:  # (`in` tests identity first, in C; an equal but other object only wraps needlessly)
            again = hook in hooks
        except Exception:
            again = any(h is hook for h in hooks)
        return _Again(hook) if again else hook

    def __enter__(self) -> RemovableHandle:
        """``with module.register_forward_hook(h): ...``: the hook is on inside, off after."""
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


_REMOVED = object()  # (a handle's hook once it was removed)


class _Again(functools.partial):  # type: ignore[type-arg]
    """A hook registered again on the same list: a call of it that is an entry of its own."""


_TensorCls: Any = None  # set by tensor.py (tensor.py imports this module, not the reverse)
_FunctionView: Any = None


def _set_tensor_class(cls: Any, function_view: Any) -> None:
    global _TensorCls, _FunctionView
    _TensorCls, _FunctionView = cls, function_view


# ``tg.autograd.functional``: PyTorch's jacobian, hessian, vjp, jvp, hvp, vhp (built on grad).
# This module is a file, not a package, so ``from tinygrad_cnn.autograd.functional import
# jacobian`` (PyTorch's import form) finds the submodule only by its name in sys.modules.
from tinygrad_cnn import autograd_functional as functional  # noqa: E402


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802
    """PyTorch's old ``torch.autograd.Variable(t, requires_grad=...)``, kept for code written
    before 0.4: the tensor itself (``requires_grad_()`` when asked), as today's PyTorch returns."""
    if not isinstance(data, _TensorCls):
        raise TypeError(f"Variable: data must be a Tensor, got {type(data).__name__}; make it "
                        "one with tinygrad_cnn.tensor(...) (Variable is only the tensor itself)")
    return data.requires_grad_() if requires_grad else data


def __getattr__(name: str) -> Any:
    """``tg.autograd.gradcheck`` and ``gradgradcheck``, PyTorch's spelling (``torch.autograd.
    gradcheck``), from :mod:`tinygrad_cnn.gradcheck` (imported on first use: it imports this
    module)."""
    if name in ("gradcheck", "gradgradcheck"):
        import importlib

        return getattr(importlib.import_module("tinygrad_cnn.gradcheck"), name)
    if name == "inference_mode":  # (PyTorch's torch.autograd.inference_mode, defined with the
        from tinygrad_cnn.functions import inference_mode  # top-level functions)

        return inference_mode
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)

sys.modules[__name__ + ".functional"] = functional

# ``from torch.autograd.function import Function, once_differentiable`` -- PyTorch's other import
# path for these names (``FunctionCtx`` is the Context its forward receives)
function = types.ModuleType(__name__ + ".function", "PyTorch's torch.autograd.function names: "
                            "Function, FunctionCtx (the context), once_differentiable")
function.Function, function.FunctionCtx = Function, Context  # type: ignore[attr-defined]
function.once_differentiable = once_differentiable  # type: ignore[attr-defined]
sys.modules[__name__ + ".function"] = function

# ``torch.autograd.grad_mode``: where PyTorch defines its grad-mode switches
grad_mode = types.ModuleType(__name__ + ".grad_mode", "PyTorch's torch.autograd.grad_mode "
                             "names: no_grad, enable_grad, set_grad_enabled, inference_mode")
grad_mode.no_grad, grad_mode.enable_grad = no_grad, enable_grad  # type: ignore[attr-defined]
grad_mode.set_grad_enabled = set_grad_enabled  # type: ignore[attr-defined]
grad_mode.__getattr__ = lambda name: __getattr__(name)  # type: ignore[attr-defined] # (inference_mode)
sys.modules[__name__ + ".grad_mode"] = grad_mode
