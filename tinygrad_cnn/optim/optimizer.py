"""The base class of the optimizers, ``Optimizer`` (PyTorch's ``torch.optim.optimizer``): parameter
groups (of tensors, or of ``(name, tensor)`` pairs from ``named_parameters()``), the step loop over
parameters with gradients, ``state_dict`` / ``load_state_dict``, and hooks around the step and the
state dicts -- per optimizer, and for every optimizer (``register_optimizer_step_pre_hook``,
``register_optimizer_step_post_hook``)."""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import numpy as np

from tinygrad_cnn._scalars import REAL_TYPES, described, is_number
from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import RemovableHandle
from tinygrad_cnn.backend import array_module, to_device, writeable
from tinygrad_cnn.nn.module import _foreign_array, zero_grads
from tinygrad_cnn.tensor import Tensor

__all__ = ["Optimizer", "register_optimizer_step_post_hook", "register_optimizer_step_pre_hook"]

#: ``hook(optimizer, args, kwargs)``; a pre hook may return new ``(args, kwargs)``
StepHook = Callable[..., Any]

_global_step_pre_hooks: OrderedDict[int, StepHook] = OrderedDict()
_global_step_post_hooks: OrderedDict[int, StepHook] = OrderedDict()


def _register(hooks: OrderedDict[int, Any], hook: Any, what: str,
              prepend: bool = False) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"{what}: the hook must be callable, got {type(hook).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook: StepHook) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's ``step`` (before the
    optimizer's own pre hooks); ``args`` starts with the optimizer itself, as PyTorch's. A hook
    that returns ``(new_args, new_kwargs)`` replaces them. ``handle.remove()`` takes it off."""
    return _register(_global_step_pre_hooks, hook, "register_optimizer_step_pre_hook")


def register_optimizer_step_post_hook(hook: StepHook) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's ``step`` (after the
    optimizer's own post hooks). ``handle.remove()`` takes it off."""
    return _register(_global_step_post_hooks, hook, "register_optimizer_step_post_hook")


_Step = TypeVar("_Step", bound=Callable[..., Any])


def _hooked(step: _Step) -> _Step:
    """``step`` with the step hooks around it (PyTorch's ``profile_hook_step``): the global pre
    hooks, then the optimizer's; the step; the optimizer's post hooks, then the global ones.
    Every subclass's own ``step`` is wrapped (``Optimizer.__init_subclass__``); a ``step`` that
    calls its parent's runs the hooks once."""

    @functools.wraps(step)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        self = args[0]
        if self.__dict__.get("_in_step"):  # a subclass's step calling super().step()
            return step(*args, **kwargs)
        for hook in [*_global_step_pre_hooks.values(), *self._hooks("step_pre").values()]:
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result}. (the step pre hook "
                                       f"{hook!r} returned it)")
                args, kwargs = result
        self.__dict__["_in_step"] = True
        try:
            out = step(*args, **kwargs)
        finally:
            self.__dict__["_in_step"] = False
        self.__dict__["_opt_called"] = True  # (a schedule's first step warns before this)
        for hook in [*self._hooks("step_post").values(), *_global_step_post_hooks.values()]:
            hook(self, args, kwargs)
        return out

    wrapper._hooked = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


_REFERENCE: dict[tuple[type, tuple[str, ...]], dict[str, Any]] = {}


def _reference_defaults(opt: Optimizer) -> dict[str, Any]:
    """The options of ``opt``'s groups that must be numbers or tuples of numbers, with the
    defaults that say so: its class's constructor defaults (``defaults`` holds the values given,
    maybe wrong), else the constructor's values (a subclass's own options). Once per class."""
    key = (type(opt), tuple(opt.defaults))
    found = _REFERENCE.get(key)
    if found is not None:
        return found
    try:
        signature = {k: v.default for k, v in inspect.signature(type(opt).__init__).parameters.items()}
    except (TypeError, ValueError):
        signature = {}
    found = {}
    for k, v in opt.defaults.items():
        default = signature.get(k, v)
        if k == "params" or default is None or isinstance(default, bool):
            continue
        pair = isinstance(default, tuple) and bool(default) and all(
            isinstance(d, (int, float)) and not isinstance(d, bool) for d in default)
        if isinstance(default, (int, float)) or pair:
            found[k] = default
    _REFERENCE[key] = found
    return found


def _described(v: Any) -> str:
    """``a list``, ``a tensor of shape (1,)``: what a state value is, for an error."""
    if hasattr(v, "shape"):
        return f"{a_type(v)} of shape {tuple(v.shape)}"
    return f"{a_type(v)}"


#: the switches PyTorch's ``__setstate__`` of every optimizer defaults in a loaded group that lacks
#: them (an older PyTorch's dict), and of those with a ``capturable`` option; each class adds its own
#: (``Optimizer._setstate_defaults``)
SETSTATE_BASE: dict[str, Any] = {"differentiable": False, "foreach": None, "maximize": False}
SETSTATE_CAPTURABLE: dict[str, Any] = {**SETSTATE_BASE, "capturable": False}


class Optimizer:
    """Holds parameter groups (each a dict with ``"params"`` and its hyper-parameters) and a state
    per parameter; subclasses write ``_update(p, grad, group, state)``."""

    defaults: dict[str, Any]
    # state entries that are numbers, not arrays of the parameter's shape (PyTorch saves both as
    # tensors, and for a 0-d parameter only the name tells them apart)
    _scalar_state: frozenset[str] = frozenset({"step"})
    #: the options PyTorch's ``__setstate__`` gives their default when a loaded group lacks them
    #: (``group.setdefault``: dicts saved by an older PyTorch), per class; the others a loaded
    #: group lacks keep this optimizer's own
    _setstate_defaults: ClassVar[dict[str, Any]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if callable(step) and not getattr(step, "_hooked", False):
            cls.step = _hooked(step)  # type: ignore[method-assign]

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params argument given to the optimizer should be an "
                            f"iterable of Tensors or dicts, but got a Tensor (shape "
                            f"{params.shape}, {params.dtype}); pass [tensor], or "
                            "model.parameters()")
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be an ordered collection (a list), not a "
                            "set, whose order changes from run to run")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups: list[dict[str, Any]] = []
        # a defaultdict, as PyTorch's: a subclass's step may read self.state[p] before writing
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (the others from the constructor's)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict with 'params', got "
                            f"{type(param_group).__name__}")
        if "params" not in param_group:  # (PyTorch's KeyError, named)
            raise KeyError(f"{name}: parameter group {len(self.param_groups)} has no 'params' "
                           f"(it holds {', '.join(map(repr, param_group)) or 'nothing'}); give "
                           "each group its parameters: {'params': [...], 'lr': ...}")
        params = param_group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be an ordered collection (a list), not a "
                            "set")
        params = [params] if isinstance(params, Tensor) else list(params)
        index = len(self.param_groups)
        names = [p[0] for p in params if isinstance(p, tuple) and len(p) == 2]
        for p in params:
            if isinstance(p, tuple) and len(p) != 2:
                raise TypeError(f"{name}: a named parameter is a (name, Tensor) pair, as "
                                f"named_parameters() gives; group {index} has a tuple of "
                                f"{len(p)}")
        if names and len(names) != len(params):
            raise ValueError(f"{name}: all optimizer params should be with/without names. Some "
                             f"param names are missing ({len(names)} of the {len(params)} "
                             f"parameters of group {index} are (name, Tensor) pairs); pass "
                             "model.named_parameters() or model.parameters(), not a mix")
        if names:
            params = [p[1] for p in params]
        named = bool(names) or "param_names" in param_group  # (PyTorch keeps a group's own)
        for i, g in enumerate(self.param_groups):
            if ("param_names" in g) != named:
                raise ValueError(
                    f"{name}: all optimizer param groups should be with/without names. cannot add "
                    f"param group {'with' if named else 'without'} names to the optimizer (group "
                    f"{i} is {'without' if named else 'with'} them); give every group "
                    "named_parameters(), or none")
        for p in params:
            # a frozen parameter (requires_grad=False, fine-tuning) is accepted, as in PyTorch:
            # it has no gradient, so steps leave it alone until it is unfrozen
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: every parameter must be a Tensor, group {index} has a "
                                f"{type(p).__name__}")
        for p in params:
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (shape {p.shape}, made "
                                 f"by {p.grad_fn}); optimize the leaf it was computed from")
        seen: set[int] = set()
        for p in params:
            if id(p) in seen:
                raise ValueError(f"{name}: parameter group {index} holds a parameter (shape "
                                 f"{p.shape}) twice; a step would move it twice")
            seen.add(id(p))
        for i, g in enumerate(self.param_groups):
            if any(id(p) in seen for p in g["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one parameter "
                                 f"group (groups {i} and {index}); give each parameter once")
        group = {k: _plain_option(v) for k, v in {**self.defaults, **param_group}.items()}
        group["params"] = params
        if names:
            group["param_names"] = names
        self._check_options(group, index, name)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate one group's options (subclasses)."""

    def _check_options(self, group: dict[str, Any], index: int, where: str) -> None:
        """The types of group ``index``'s options: a number (or a one-element tensor, as PyTorch
        takes for ``lr``) where the default is a number, a pair of numbers where it is a pair
        (``betas``). Else a TypeError naming the option -- not a bare ``'>=' not supported`` from
        a range check, or a bare error half-way through a step. A few dict reads: ``step`` runs
        it on every group before any parameter moves, so a step refused leaves all of them."""
        for k, default in _reference_defaults(self).items():
            if isinstance(default, (int, float)):
                v = group.get(k)
                if not (isinstance(v, REAL_TYPES) or is_number(v, "one")):
                    raise TypeError(f"{where}: option {k!r} of parameter group {index} must be a "
                                    f"number (or a one-element tensor), got {described(v)}")
            elif isinstance(default, tuple) and all(isinstance(d, (int, float)) for d in default):
                v = group.get(k)
                if not isinstance(v, (tuple, list)) or not all(is_number(x, "one") for x in v):
                    raise TypeError(f"{where}: option {k!r} of parameter group {index} must be a "
                                    f"tuple of {len(default)} numbers (such as {default}), got "
                                    f"{v!r}")
                if len(v) != len(default):
                    raise ValueError(f"{where}: option {k!r} of parameter group {index} must be a "
                                     f"tuple of {len(default)} numbers (such as {default}), got "
                                     f"{len(v)}: {tuple(v)!r}")

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self._params(), set_to_none)

    def _check_updatable(self, every: bool = False) -> None:
        """Refuse a step, before any parameter moves, that some parameter cannot take: an
        integer one with a gradient, or one in read-only memory (``from_numpy`` of a read-only
        array) -- found halfway, the others had moved and a retry moved them twice. ``every``:
        the parameters without a gradient too (LBFGS's closure makes them later)."""
        name = type(self).__name__
        for gi, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                if p.grad is None and not every:
                    continue
                if p.grad is not None and p._data.dtype.kind != "f":
                    raise RuntimeError(
                        f"{name}.step: a parameter of shape {p.shape} is {p._data.dtype} and has "
                        "a gradient; an optimizer updates floating-point parameters only (make "
                        "it float, or leave it out of the optimizer)")
                if not writeable(p._data):
                    raise RuntimeError(
                        f"{name}.step: parameter {i} of group {gi} (shape {p.shape}) is "
                        "read-only memory (from_numpy of a read-only array, or a view that shows "
                        "one value in several places), so no parameter was updated; give the "
                        "optimizer a writable copy (tinygrad_cnn.tensor(array, requires_grad="
                        "True), or p.detach().clone().requires_grad_())")

    @_hooked
    def step(self, closure: Any = None) -> Any:
        """One update of every parameter that has a gradient; ``closure`` (re-evaluating the loss)
        is called first when given, and its result returned. A parameter whose update keeps no
        state (SGD without momentum) gets no entry in ``state``, as in PyTorch."""
        loss = closure() if closure is not None else None
        self._check_updatable()
        where = f"{type(self).__name__}.step"
        for i, group in enumerate(self.param_groups):  # (before any parameter moves)
            self._check_options(group, i, where)
        # (a diverging run overflows to inf and NaN as PyTorch's does, without numpy's warnings)
        with np.errstate(all="ignore"):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad._data
                    if group.get("maximize"):
                        g = -g
                    kept = self.state.get(p)
                    new = kept is None
                    state = {} if kept is None else self._arrays(kept, p)
                    try:
                        if p._data.ndim == 0:
                            _update_0d(self, p, g, group, state)
                        else:
                            self._update(p, g, group, state)
                    except KeyError as exc:
                        if new or type(self)._update is Optimizer._update:
                            raise
                        # a loaded state without a key this optimizer keeps: another kind's
                        raise RuntimeError(
                            f"{type(self).__name__}.step: the state of a parameter of shape "
                            f"{p.shape} has no {exc.args[0]!r} (it holds "
                            f"{', '.join(sorted(map(str, state))) or 'nothing'}). Either an "
                            "option that keeps more state (amsgrad, centered, momentum) was "
                            "switched on in param_groups after the first step -- set it when "
                            "the optimizer is made, or clear its state (opt.state.clear()) -- "
                            "or a state_dict of another optimizer was loaded into this one: "
                            "load it into the optimizer that saved it") from None
                    if state:
                        self.state[p] = self._tensors(state, kept or {})
                    p._version_counter[0] += 1  # in place, like any optimizer step
        return loss

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        """One parameter's update, in place on ``p._data``, with its gradient array ``g`` and its
        state as arrays and numbers (``state`` holds them as tensors, as PyTorch's)."""
        raise NotImplementedError

    def _arrays(self, state: dict[str, Any], p: Tensor | None = None) -> dict[str, Any]:
        """A parameter's state as ``_update`` works on it: arrays, and numbers for the scalar
        state (``step`` an int; the others numpy scalars of their tensor's dtype: float32, or
        the parameter's after a load, as PyTorch's). A built-in optimizer's state that is not
        an array of the parameter's shape is an error naming the key (a list assigned there
        was read, never updated)."""
        out = {}
        own = p is not None and type(self).__module__.startswith("tinygrad_cnn.optim")
        for k, v in state.items():
            if isinstance(v, Tensor):
                v = v._data
            if own and k in self._scalar_state and not (
                    isinstance(v, (int, float, np.number)) or getattr(v, "ndim", None) == 0):
                raise TypeError(
                    f"{type(self).__name__}.step: state[{k!r}] of a parameter of shape {p.shape} "
                    f"is {_described(v)}; it must be a number or a 0-d tensor")
            if k in self._scalar_state and getattr(v, "ndim", None) == 0:
                if k == "step":
                    v = v.item()
                    if float(v).is_integer():
                        v = int(v)
                else:
                    v = np.dtype(v.dtype).type(v.item())
            elif own and k not in self._scalar_state:
                if v is None:  # (PyTorch < 2.0 saved SGD's momentum_buffer=None: start afresh)
                    continue
                if hasattr(v, "shape") and hasattr(v, "dtype") and \
                        not isinstance(v, type(p._data)):  # PyTorch's or another array kind
                    v = to_device(_foreign_array(v), p.device)
                if not (hasattr(v, "shape") and hasattr(v, "dtype")):
                    raise TypeError(
                        f"{type(self).__name__}.step: state[{k!r}] of a parameter of shape "
                        f"{p.shape} is {a_type(v)}; optimizer state holds tensors of "
                        "the parameter's shape (assign tinygrad_cnn.tensor(...) or delete the "
                        "key to start it afresh)")
                if tuple(v.shape) != p.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: state[{k!r}] of a parameter of shape "
                        f"{p.shape} has shape {tuple(v.shape)}; it must have the parameter's")
                if v.dtype != p._data.dtype:
                    if v.dtype.kind == "f" and p._data.dtype.kind == "f" and \
                            v.dtype.itemsize > p._data.dtype.itemsize:
                        # (PyTorch's step raises here; rounding on, silently, lost Adam's small
                        # second moments to 0 in float16)
                        warnings.warn(
                            f"{type(self).__name__}.step: state[{k!r}] of a parameter of shape "
                            f"{p.shape} is {v.dtype}, the parameter {p._data.dtype}: it is "
                            f"rounded to {p._data.dtype}, where values too small for it become "
                            "0. If the parameter's dtype changed after this optimizer stepped "
                            "(module.half()), make the optimizer after the change (or load a "
                            "state_dict into it)", UserWarning, stacklevel=4)
                    v = v.astype(p._data.dtype)  # (as a load casts it; integers too)
            out[k] = v
        return out

    def _tensors(self, state: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
        """A parameter's state as ``optimizer.state[p]`` shows it, as PyTorch's: tensors, the
        scalar state 0-d tensors (float32, ``step`` too, or of the dtype loaded); a tensor whose
        array was updated in place stays the same tensor (one a user holds sees the new values),
        and so does a 0-d one whose number changed (written into it, as PyTorch's
        ``step_t += 1``)."""
        out = {}
        for k, v in state.items():
            old = kept.get(k)
            if isinstance(old, Tensor) and old._data is v:
                out[k] = old
            elif k in self._scalar_state and isinstance(v, (int, float, np.number)):
                if isinstance(old, Tensor) and old._data.ndim == 0 and old.dtype.kind == "f":
                    old._data[...] = v  # (in the tensor's dtype, as PyTorch's copy_)
                    old._version_counter[0] += 1
                    out[k] = old
                else:
                    dtype = v.dtype if isinstance(v, np.floating) else np.float32
                    out[k] = Tensor._make(np.asarray(v, dtype=dtype))
            elif hasattr(v, "shape") and hasattr(v, "dtype"):
                out[k] = Tensor._make(v)
            else:
                out[k] = v
        return out

    # ------------------------------------------------------------------ hooks
    def __getstate__(self) -> dict[str, Any]:
        """What ``copy.deepcopy`` and ``pickle`` take: everything but the hooks (PyTorch's: a
        copy must not run the original's logging or EMA hooks, and a lambda hook must not make
        the optimizer unpicklable)."""
        return {k: v for k, v in self.__dict__.items()
                if not (k.startswith("_") and k.endswith("_hooks"))}

    def _hooks(self, kind: str) -> OrderedDict[int, Any]:
        """The optimizer's hooks of one kind (``step_pre``, ``step_post``, ``state_dict_pre``,
        ``state_dict_post``, ``load_state_dict_pre``, ``load_state_dict_post``), by handle id."""
        return self.__dict__.setdefault(f"_{kind}_hooks", OrderedDict())

    def register_step_pre_hook(self, hook: StepHook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; ``args`` starts with the
        optimizer itself, as PyTorch's. A hook that returns ``(new_args, new_kwargs)`` replaces
        them (anything else but None is an error). ``handle.remove()`` takes it off again."""
        return _register(self._hooks("step_pre"), hook, f"{type(self).__name__}."
                         "register_step_pre_hook")

    def register_step_post_hook(self, hook: StepHook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``. ``handle.remove()`` takes
        it off again."""
        return _register(self._hooks("step_post"), hook, f"{type(self).__name__}."
                         "register_step_post_hook")

    def register_state_dict_pre_hook(self, hook: Callable[[Optimizer], None],
                                     prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` before ``state_dict`` builds the dict (``prepend``: before
        the hooks already registered)."""
        return _register(self._hooks("state_dict_pre"), hook,
                         f"{type(self).__name__}.register_state_dict_pre_hook", prepend)

    def register_state_dict_post_hook(
            self, hook: Callable[[Optimizer, dict[str, Any]], dict[str, Any] | None],
            prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` on the dict ``state_dict`` built; it may change it
        in place or return another, which is then returned (``prepend``: before the hooks
        already registered)."""
        return _register(self._hooks("state_dict_post"), hook,
                         f"{type(self).__name__}.register_state_dict_post_hook", prepend)

    def register_load_state_dict_pre_hook(
            self, hook: Callable[[Optimizer, dict[str, Any]], dict[str, Any] | None],
            prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` before ``load_state_dict`` loads -- on a shallow
        copy of the dict given; it may change it in place or return another, which is loaded
        instead (``prepend``: before the hooks already registered)."""
        return _register(self._hooks("load_state_dict_pre"), hook,
                         f"{type(self).__name__}.register_load_state_dict_pre_hook", prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[[Optimizer], None],
                                           prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` after ``load_state_dict`` has loaded (``prepend``: before the
        hooks already registered)."""
        return _register(self._hooks("load_state_dict_post"), hook,
                         f"{type(self).__name__}.register_load_state_dict_post_hook", prepend)

    # ------------------------------------------------------------------ state dicts
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``; parameters
        are numbered in group order, as in PyTorch; a group made from ``named_parameters()`` has
        its ``"param_names"`` too. The state dict hooks run before and after."""
        for pre in list(self._hooks("state_dict_pre").values()):
            pre(self)
        index = {id(p): i for i, p in enumerate(self._params())}
        # (a loaded key that names no parameter is kept as it was loaded, as PyTorch's)
        state = {(index[id(p)] if isinstance(p, Tensor) else p):
                 ({k: self._export_state(v) for k, v in s.items()} if isinstance(p, Tensor)
                  else dict(s)) for p, s in self.state.items()}
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        out = {"state": state, "param_groups": groups}
        for post in list(self._hooks("state_dict_post").values()):
            result = post(self, out)
            if result is not None:
                out = result
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load what ``state_dict`` gave (ours or PyTorch's): each group's options, and the state
        of each parameter, matched by position. Saved ``"param_names"`` replace the groups'
        (names are not used to match parameters, as in PyTorch); a dict without them leaves
        the groups' as they are. The load state dict hooks run before and after."""
        state_dict = dict(state_dict)  # (a shallow copy, for the pre hooks, as PyTorch's)
        for pre in list(self._hooks("load_state_dict_pre").values()):
            result = pre(self, state_dict)
            if result is not None:
                state_dict = result
        # all or nothing: a state_dict refused half-way leaves this optimizer as it was
        kept_groups, kept_state = [dict(g) for g in self.param_groups], self.state
        try:
            self._load_state_dict(state_dict)
        except BaseException:
            for group, kept in zip(self.param_groups, kept_groups):
                group.clear()
                group.update(kept)
            self.state = kept_state
            raise
        for post in list(self._hooks("load_state_dict_post").values()):
            post(self)

    def _load_state_dict(self, state_dict: dict[str, Any]) -> None:
        for key in ("state", "param_groups"):  # (PyTorch's KeyError, named)
            if key not in state_dict:
                raise KeyError(f"{type(self).__name__}.load_state_dict: the state_dict has no "
                               f"{key!r} (it holds {', '.join(map(repr, state_dict)) or 'nothing'}"
                               "); give it what optimizer.state_dict() returns: {'state': ..., "
                               "'param_groups': ...}")
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved optimizer has "
                             "different parameter groups than this one")
        _same_kind(self, groups)
        params = self._params()
        for index, (saved, group) in enumerate(zip(groups, self.param_groups)):
            for k, v in saved.items():
                if k == "param_names":
                    group[k] = list(v)
                elif k != "params":
                    v = _plain_option(v)
                    if isinstance(v, Tensor):  # (a copy, as PyTorch's deepcopy: a scheduler
                        v = v.detach().clone()  # writing it in place changed the saved dict)
                    group[k] = tuple(v) if k in ("betas", "etas", "step_sizes") and \
                        isinstance(v, (list, tuple)) else v
            for k, default in self._setstate_defaults.items():
                if k not in saved and k in group:
                    # (an older PyTorch's dict, without `maximize` or `amsgrad`: the class's
                    # default, as PyTorch's __setstate__ sets it -- not this optimizer's own)
                    group[k] = default
            self._load_group(saved, group)
            self._check_options(group, index, f"{type(self).__name__}.load_state_dict")
            self._check_group(group)
        self.state = defaultdict(dict)
        # the state as tensors (PyTorch's); a custom optimizer's own step reads them as they are
        as_tensors = type(self)._update is Optimizer._update
        saved_state = state_dict["state"]
        if not isinstance(saved_state, dict):
            raise TypeError(f"{type(self).__name__}.load_state_dict: 'state' must be a dict from "
                            f"parameter index to that parameter's state, got "
                            f"{type(saved_state).__name__}")
        for i, s in saved_state.items():
            if not isinstance(s, dict):
                raise TypeError(f"{type(self).__name__}.load_state_dict: the state of parameter "
                                f"{i!r} must be a dict of its buffers (momentum_buffer, exp_avg, "
                                f"step, ...), got {type(s).__name__}")
            if not isinstance(i, (int, np.integer, str)) or not str(i).lstrip("-").isdigit() \
                    or not 0 <= int(i) < len(params):
                self.state[i] = dict(s)  # (a key naming no parameter is kept, as PyTorch's)
                continue
            p = params[int(i)]
            self.state[p] = {k: self._import_state(int(i), p, k, v) for k, v in s.items()}
            self._check_loaded(int(i), p, self.state[p])
            if not as_tensors:
                self.state[p] = self._tensors(self.state[p], {})
            else:
                self.state[p] = {k: Tensor._make(v) if hasattr(v, "shape") and
                                 not isinstance(v, Tensor) else v
                                 for k, v in self.state[p].items()}
        self._check_state()

    def _check_loaded(self, i: int, p: Tensor, state: dict[str, Any]) -> None:
        """A built-in optimizer's loaded state of parameter ``i`` must be what its step can use
        (else the step, after a resumed run loaded its data, failed: a number where a tensor
        belongs, a negative ``step``, a None)."""
        if not type(self).__module__.startswith("tinygrad_cnn.optim") or \
                type(self)._update is Optimizer._update:
            return
        name = type(self).__name__
        for k, v in state.items():
            if v is None and k != "momentum_buffer":  # (PyTorch < 2.0's SGD saved None there)
                what = "a number" if k in self._scalar_state else "a tensor"
                raise TypeError(f"{name}.load_state_dict: state {k!r} of parameter {i} is None; "
                                f"it must be {what} (or leave the key out to start it afresh)")
            if k == "step":
                step = v.item() if hasattr(v, "item") else v
                if isinstance(step, bool) or not isinstance(step, (int, float)) or \
                        not 0 <= step < math.inf:
                    raise ValueError(f"{name}.load_state_dict: state 'step' of parameter {i} "
                                     f"must be a count >= 0, got {step!r}")
        try:
            self._arrays(state, p)
        except (TypeError, ValueError) as exc:
            raise type(exc)(str(exc).replace(f"{name}.step:", f"{name}.load_state_dict:")) \
                from None

    def _check_state(self) -> None:
        """A subclass's check of the loaded state as a whole (by default none): a ValueError
        naming what does not fit."""

    def _load_group(self, saved: dict[str, Any], group: dict[str, Any]) -> None:
        """A subclass's adjustment of ``group`` after ``saved``'s options were loaded into it
        (by default none)."""

    @staticmethod
    def _export_state(v: Any) -> Any:
        """One state value as ``state_dict`` gives it: arrays as tensors (copies), numbers as
        they are."""
        if isinstance(v, Tensor):  # (a custom optimizer's, or ASGD's tensor lr)
            return v.detach().clone()
        return Tensor._make(v.copy()) if hasattr(v, "shape") else v

    def _import_state(self, i: int, p: Tensor, k: str, v: Any) -> Any:
        """One saved state value of parameter ``i`` as ``_update`` keeps it: an array of the
        parameter's shape, dtype and device, or a number."""
        if k not in self._scalar_state and hasattr(v, "shape"):
            arr = _foreign_array(v)  # ours, numpy's, or PyTorch's (its optimizer state)
            if tuple(arr.shape) != p.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: state {k!r} of "
                                 f"parameter {i} has shape {tuple(arr.shape)}, the "
                                 f"parameter {p.shape}")
            return to_device(arr, p.device).astype(p.dtype, copy=True)
        value = v.item() if hasattr(v, "item") else v  # PyTorch keeps "step" as a 0-d tensor
        if k == "step" and isinstance(value, float) and value.is_integer():
            value = int(value)
        elif k != "step" and hasattr(v, "dtype") and isinstance(value, float) and \
                p.dtype.kind == "f":  # (PyTorch casts all other float state to the parameter's)
            value = np.dtype(p.dtype).type(value)
        return value

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            if i:
                lines.append("")  # (PyTorch's blank line between groups)
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


#: the options that tell the built-in optimizers apart (lr, weight_decay, maximize and
#: PyTorch's implementation switches -- foreach, fused, ... -- are shared or ignored)
_OPTION_NAMES = frozenset({
    "momentum", "dampening", "nesterov", "betas", "amsgrad", "eps", "alpha", "centered",
    "initial_accumulator_value", "lr_decay", "momentum_decay", "rho", "lambd", "t0", "etas",
    "step_sizes", "history_size", "line_search_fn", "max_eval", "max_iter", "tolerance_change",
    "tolerance_grad", "decoupled_weight_decay"})


def _plain_option(v: Any) -> Any:
    """A group option as the steps read it: a PyTorch one-element tensor (PyTorch allows a tensor
    ``lr``, and its state_dicts may hold one) as a Python number, inside tuples too."""
    if isinstance(v, tuple):
        return tuple(_plain_option(x) for x in v)
    if type(v).__module__.split(".")[0] == "torch" and hasattr(v, "numel") and v.numel() == 1:
        return v.item()
    return v


def _same_kind(opt: Optimizer, groups: list[dict[str, Any]]) -> None:
    """Refuse a built-in optimizer's load of another optimizer's state_dict (Adam's into SGD
    trained on at Adam's lr; SGD's into Adam failed at step() with a KeyError): a saved group
    holding options of another kind names them. Keys of the user's own stay allowed."""
    if not type(opt).__module__.startswith("tinygrad_cnn.optim"):
        return
    foreign = sorted({k for g in groups for k in g if k in _OPTION_NAMES} - set(opt.defaults))
    # options of its own that every state_dict of this kind holds (newer ones an older
    # state_dict may lack -- maximize, decoupled_weight_decay -- do not count): a user's own
    # group key named like another optimizer's option leaves them all there
    own = set(opt.defaults) & _OPTION_NAMES - {"decoupled_weight_decay"}
    missing = any(own - set(g) for g in groups)
    if foreign and missing:
        name = type(opt).__name__
        raise ValueError(
            f"{name}.load_state_dict: this state_dict was written by another optimizer: its "
            f"parameter groups hold {', '.join(foreign)}, which {name} does not have (its "
            f"options: {', '.join(sorted(opt.defaults))}); load it into the optimizer that "
            "saved it")


def _update_0d(opt: Optimizer, p: Tensor, g: Any, group: dict[str, Any],
               state: dict[str, Any]) -> None:
    """The update of a 0-d parameter, on 1-element views of it, its gradient and its state: numpy
    turns arithmetic on 0-d arrays into scalars, which in-place updates of a state buffer would
    silently not reach (a momentum buffer that never moved)."""
    data = p._data
    for k, v in state.items():
        if getattr(v, "shape", None) == () and not isinstance(v, np.generic):
            state[k] = v.reshape(1)
    p._data = data.reshape(1)  # a view: the update writes into the parameter's memory
    try:
        opt._update(p, array_module(g).asarray(g).reshape(1), group, state)
    finally:
        p._data = data
        for k, v in state.items():
            if getattr(v, "shape", None) == (1,):
                state[k] = v.reshape(())
