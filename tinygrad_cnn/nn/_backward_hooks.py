"""Module backward hooks (``register_full_backward_hook``, ``register_full_backward_pre_hook``),
as PyTorch's ``BackwardHook`` does them.

A call of a module that has backward hooks passes its positional tensor arguments through one
identity op and its tensor results through another. The engine runs the VJP of the second when
the gradients w.r.t. the module's results are complete (the pre-hooks run there and may replace
them) and the VJP of the first when those w.r.t. its arguments are (the full hooks run there
and may replace them). Each call has its own :class:`ModuleBackwardHooks`, with the hooks as they
were at that call. Modules without backward hooks never come here. With pre-hooks, the output
side also takes the input side's results as inputs of its own: an edge on which it sends zeros
when its pre-hooks returned None for every gradient (PyTorch's input side then still runs, and
gives the arguments zeros) -- and None otherwise.

The module's ``forward`` receives views of its tensor arguments and the caller views of its
results; changing them in place while gradients are recorded is refused (PyTorch's rule: the
change would go around the identity op, and the hooks would see wrong gradients).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import (
    Context,
    Function,
    OutputOf,
    _changed_in_place,
    _finite_snapshots,
    _flags,
    _hook_made_non_finite,
    _in_package,
    _state,
    user_numpy,
)
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.tensor import Tensor, _FunctionView

if TYPE_CHECKING:
    from tinygrad_cnn.nn.module import Module

Grads = tuple[Tensor | None, ...]


class BackwardHook(Function):
    """The identity on several tensors (views of them). Its VJP hands the gradients to the
    module's hooks (``ctx.run_hooks``, set by :meth:`ModuleBackwardHooks._wrap`) and passes on
    what they return."""

    name = "backward_hook"

    @staticmethod
    def forward(ctx: Context, *arrays: Any, n_extra: int = 0) -> tuple[Any, ...]:
        # (the last ``n_extra`` arrays are the module's wrapped arguments, given to the output
        # side: an edge to the input side, fed only when a pre-hook cut every path to it)
        outs = tuple(a.view() for a in arrays[:len(arrays) - n_extra])
        # an argument that does not require grad gets none back (its gradient slot: zeros)
        ctx.mark_non_differentiable(*(o for o, need in zip(outs, ctx.needs_input_grad)
                                      if not need))
        return outs

    @staticmethod
    def backward(ctx: Context, *grads: Tensor | None) -> Grads:
        return ctx.run_hooks(grads, ctx)  # type: ignore[attr-defined, no-any-return]


class ModuleBackwardHooks:
    """The backward hooks of one call of ``module``: which of its positional arguments and
    results are tensors, and the gradients w.r.t. the results between the two VJPs."""

    def __init__(self, module: Module, hooks: Sequence[Callable[..., Any]],
                 pre_hooks: Sequence[Callable[..., Any]]) -> None:
        self.module = module
        self.hooks = list(hooks)  # as they are now: a hook added or removed later counts from
        self.pre_hooks = list(pre_hooks)  # the next call on (PyTorch's)
        self.n_inputs = self.n_outputs = 0
        self.input_index: list[int] | None = None  # positions of the tensors, when wrapped
        self.output_index: list[int] | None = None
        self.input_metas: list[tuple[Any, Any]] = []
        self.output_metas: list[tuple[Any, Any]] = []
        # with pre-hooks, the arguments as wrapped (the input side's results, until the output
        # side takes them as its last ``n_extra`` inputs: see _output_grads_ready)
        self.wrapped_inputs: list[Tensor] = []
        self.n_extra = 0
        self.input_xp: Any = None
        self.grad_outputs: Grads | None = None

    # ------------------------------------------------------------------ forward
    def wrap_inputs(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """``args`` with its tensors passed through the input-side identity op."""
        self.n_inputs = len(args)
        wrapped = self._wrap(args, self._input_grads_ready, materialize=True)
        if wrapped is None:
            return args
        self.input_index, self.input_metas, new = wrapped
        if self.pre_hooks:  # (see _output_grads_ready)
            self.wrapped_inputs = [new[i] for i in self.input_index if new[i].requires_grad]
            self.input_xp = array_module(self.wrapped_inputs[0]._data)
        return tuple(new)

    def wrap_outputs(self, out: Any) -> Any:
        """``forward``'s result with its tensors passed through the output-side identity op
        (a Tensor or a tuple of them; other results pass as they are and the hooks never run)."""
        extras, self.wrapped_inputs = self.wrapped_inputs, []  # (no reference cycle kept)
        if not isinstance(out, (Tensor, tuple)):
            warnings.warn(f"For backward hooks to be called, the output of {self._describe()} "
                          "should be a Tensor or a tuple of Tensors, not "
                          f"{type(out).__name__}", UserWarning, stacklevel=_user_stacklevel())
            return out
        values = out if isinstance(out, tuple) else (out,)
        self.n_outputs = len(values)
        wrapped = self._wrap(values, self._output_grads_ready, materialize=False, extras=extras)
        self.n_extra = len(extras) if wrapped is not None else 0
        if wrapped is None:
            return out
        self.output_index, self.output_metas, new = wrapped
        if isinstance(out, Tensor):
            return new[0]
        return tuple(new) if type(out) is tuple else type(out)(*new)  # a namedtuple stays one

    def _wrap(self, values: Sequence[Any], run_hooks: Callable[[Grads, Context], Grads],
              materialize: bool, extras: Sequence[Tensor] = ()
              ) -> tuple[list[int], list[tuple[Any, Any]], list[Any]] | None:
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        tensors = [values[i] for i in index]
        if not (_state.grad_enabled and any(t.requires_grad for t in tensors)):
            return None
        if extras:
            outs = BackwardHook.apply(*tensors, *extras, n_extra=len(extras))
        else:
            outs = BackwardHook.apply(*tensors)
        node = next(t.grad_fn for t in outs if t.grad_fn is not None)
        if node.fn is OutputOf:  # (several tensors: each has its own output node)
            node = node.next[0]
        node.run_hooks = run_hooks
        node.module_hooks = self  # (named in the error of an in-place change of a view)
        node.materialize = materialize  # output side: an unused result's gradient is None
        for t, src in zip(outs, tensors):
            # a view of ``src``: an in-place change of either is seen by the other's saved copies
            t._version_counter = src._version_counter
            if t.requires_grad:
                t.__class__ = _FunctionView
        new = list(values)
        for i, t in zip(index, outs):
            new[i] = t
        return index, [(t._data.shape, t._data.dtype) for t in tensors], new

    # ------------------------------------------------------------------ backward
    def _output_grads_ready(self, grads: Grads, node: Context) -> Grads:
        """The VJP of the output side: run the pre-hooks; when no argument requires grad, the
        full hooks too (with grad_input all None), as there will be no input side."""
        assert self.output_index is not None
        n_extra = self.n_extra
        grad_outputs = _pack(self.output_index, grads, self.n_outputs)
        cut = False
        for hook in self.pre_hooks:
            snaps = _finite_snapshots(grad_outputs)
            with user_numpy():  # (the user's numpy settings: t152)
                new = hook(self.module, grad_outputs)
            if snaps is not None:  # (one that made a gradient non-finite in place)
                _changed_in_place(hook, grad_outputs, snaps, "backward pre-hook of "
                                  f"{self._describe()}", node, say_node=False)
            if new is not None:
                grad_outputs = self._checked(new, grad_outputs, self.output_index,
                                             self.output_metas, hook, "pre-hook", "grad_output",
                                             node)
                cut = all(grad_outputs[i] is None for i in self.output_index)
        self.grad_outputs = grad_outputs
        if self.input_index is None and self.hooks:
            warnings.warn(f"Full backward hook of {self._describe()} is firing when gradients are "
                          "computed with respect to the module's outputs, since none of its "
                          "inputs requires grad (grad_input is all None); PyTorch does the same",
                          UserWarning, stacklevel=_user_stacklevel())
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                with user_numpy():
                    res = hook(self.module, grad_inputs, grad_outputs)
                if res is not None and not (isinstance(res, (tuple, list))
                                            and all(r is None for r in res)):
                    raise RuntimeError(
                        f"backward hook {_name(hook)} of {self._describe()} returned gradients "
                        "although none of the module's inputs requires grad; it must return "
                        "None (or None for every input)")
            self.grad_outputs = None
        extra: Grads = (None,) * n_extra
        if cut and n_extra and _reaches(node.next[:-n_extra], node.next[-n_extra:]):
            # the pre-hooks cut every gradient: none goes into the module's graph (its
            # parameters get none), but its arguments get zeros and its full hooks run, as
            # PyTorch's (whose input-side Function materializes the missing gradients)
            xp = self.input_xp
            extra = tuple(Tensor._make(xp.zeros(shape, dtype=dtype))
                          for shape, dtype in node.in_meta[-n_extra:])
        return tuple(grad_outputs[i] for i in self.output_index) + extra

    def _input_grads_ready(self, grads: Grads, node: Context) -> Grads:
        """The VJP of the input side: run the full hooks; what they return goes on."""
        assert self.input_index is not None
        grad_outputs = self.grad_outputs
        if grad_outputs is None:
            # the gradient reached the inputs without passing through this call's outputs
            # (a second-order gradient through a saved input): no hook (PyTorch's)
            return grads
        grad_inputs = _pack(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            snaps = _finite_snapshots(grad_inputs)
            with user_numpy():
                new = hook(self.module, grad_inputs, grad_outputs)
            if snaps is not None:  # (one that made a gradient non-finite in place)
                _changed_in_place(hook, grad_inputs, snaps, f"backward hook of {self._describe()}",
                                  node, say_node=False)
            if new is not None:
                grad_inputs = self._checked(new, grad_inputs, self.input_index, self.input_metas,
                                            hook, "hook", "grad_input", node)
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_index)

    def _checked(self, new: Any, old: Grads, index: list[int], metas: list[tuple[Any, Any]],
                 hook: Callable[..., Any], kind: str, what: str, node: Context) -> Grads:
        """What a hook returned, checked: a tuple as long as ``old``, each tensor's entry None
        or a Tensor of that tensor's shape and dtype (and inside ``detect_anomaly()``, finite
        where the gradient it replaces was: else the hook is named as the anomaly's maker)."""
        where = f"backward {kind} {_name(hook)} of {self._describe()}"
        if not isinstance(new, (tuple, list)):
            raise TypeError(f"{where} returned {a_type(new)}; it must return None or a "
                            f"tuple of {len(old)} gradients (its {what}, replaced)")
        if len(new) != len(old):
            raise RuntimeError(f"{where} returned {len(new)} gradients for {what}, expected "
                               f"{len(old)}")
        for i, (shape, dtype) in zip(index, metas):
            g = new[i]
            if g is None:
                continue
            if not isinstance(g, Tensor):
                raise TypeError(f"{where} returned {a_type(g)} as {what}[{i}]; it must "
                                "be a Tensor or None")
            if g._data.shape != shape or g._data.dtype != dtype:
                raise RuntimeError(
                    f"{where} returned {what}[{i}] of shape {tuple(g._data.shape)} and dtype "
                    f"{g._data.dtype}; "
                    f"it must keep the gradient's shape {tuple(shape)} and dtype {dtype}")
            if _flags.anomaly and _flags.anomaly_check and g is not old[i]:
                _hook_made_non_finite(hook, old[i], g, f"backward {kind} of {self._describe()}, "
                                      f"{what}[{i}]", node, say_node=False)
        return tuple(new)

    def _describe(self) -> str:
        path = self.module._path
        kind = type(self.module).__name__
        return f"`{path}` ({kind})" if path else kind


def _reaches(starts: Sequence[Any], targets: Sequence[Any]) -> bool:
    """Whether a path leads from the edges ``starts`` (the module's results, before the output
    side) to one of the nodes ``targets`` (the input side's): a walk of the nodes made after
    the oldest target (the module's own graph; older ones cannot lead to it)."""
    goal = {id(t) for t in targets}
    first = min(t.seq for t in targets)
    stack, seen = [e for e in starts if isinstance(e, Context)], set()
    while stack:
        ctx = stack.pop()
        if id(ctx) in goal:
            return True
        if id(ctx) in seen or ctx.seq < first:
            continue
        seen.add(id(ctx))
        stack.extend(e for e in ctx.next if isinstance(e, Context))
    return False


def _pack(index: list[int], values: Sequence[Tensor | None], size: int) -> Grads:
    """``values`` at the positions ``index`` of a tuple of ``size``, None elsewhere."""
    res: list[Tensor | None] = [None] * size
    for i, v in zip(index, values):
        res[i] = v
    return tuple(res)


def _name(hook: Callable[..., Any]) -> str:
    return getattr(hook, "__qualname__", None) or repr(hook)


def _user_stacklevel() -> int:
    """The ``stacklevel`` of a warning raised by the caller that points at the user's code (the
    first frame outside tinygrad_cnn: the line that called the model, or ``backward()``)."""
    level, f = 2, sys._getframe(2)
    while f is not None and _in_package(f.f_code.co_filename):
        level, f = level + 1, f.f_back
    return level
