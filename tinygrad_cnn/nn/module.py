"""``Module``, ``Parameter`` and the containers ``Sequential``, ``ModuleList``, ``ModuleDict``:
models as trees of layers that own parameters.

A module registers every ``Parameter``, sub-module and buffer assigned to one of its attributes,
in assignment order. Parameters are named by their path in the tree (``conv1.weight``) the first
time the root module is called or asked for ``named_parameters()``, so drawings can label them.
"""

from __future__ import annotations

import functools
import operator
import os
import sys
import threading
import warnings
from collections import OrderedDict
from collections.abc import (
    Callable,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    MutableMapping,
    ValuesView,
)
from typing import Any, NamedTuple

import numpy as np

from tinygrad_cnn import workspace
from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import RemovableHandle, _Again, _in_package, _state, no_grad
from tinygrad_cnn.backend import array_module, get_module, normalize_device, to_device
from tinygrad_cnn.nn._backward_hooks import ModuleBackwardHooks
from tinygrad_cnn.tensor import Tensor, _dtype

# Global module hooks (``register_module_forward_hook`` and the rest, PyTorch's
# ``torch.nn.modules.module``): they run for every module's call, before the module's own. Entries
# as a module's own (``Module._add_hook``). ``_GLOBAL_HOOKS_ON`` says whether any is registered: the
# one check ``Module.__call__`` makes for them (kept current by ``_GlobalHookHandle``).
_GLOBAL_HOOKS: dict[str, list[Any]] = {"pre": [], "post": [], "backward": [], "backward_pre": []}
_GLOBAL_HOOKS_ON = False
_NO_HOOKS: dict[str, list[Any]] = {"pre": [], "post": [], "backward": [], "backward_pre": []}


def _global_hooks_changed() -> None:
    global _GLOBAL_HOOKS_ON
    _GLOBAL_HOOKS_ON = any(_GLOBAL_HOOKS.values())


class _NoKeyError(KeyError, AttributeError):
    """A key a ``ParameterDict`` does not hold: PyTorch's AttributeError (its ``getattr``),
    and the KeyError of a mapping."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class _OperandError(TypeError, ValueError):
    """``Sequential + x`` of something not a Sequential: PyTorch's ValueError, Python's
    TypeError."""


class _HookView(MutableMapping):  # type: ignore[type-arg]
    """One kind of a module's hooks as PyTorch's ``OrderedDict`` of them reads: each
    registration's handle id to its hook (the function registered), in calling order, live;
    ``clear()``, ``popitem()`` and ``del view[handle.id]`` take hooks off."""

    def __init__(self, module: Module, kind: str) -> None:
        self._module, self._kind = module, kind

    def _entries(self) -> list[Any]:
        return self._module.__dict__.get("_hooks", {}).get(self._kind, [])

    def _keys(self) -> list[int]:
        ids = self._module.__dict__.get("_hook_ids", {})
        return [ids[id(e)] for e in self._entries()]

    def _position(self, key: Any) -> int:
        keys = self._keys()
        if key not in keys:
            raise KeyError(key)
        return keys.index(key)

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self) -> Iterator[int]:
        return iter(self._keys())

    def __getitem__(self, key: int) -> Any:
        hook = self._entries()[self._position(key)]
        hook = hook[0] if isinstance(hook, tuple) else hook
        return hook.func if isinstance(hook, _Again) else hook

    def __setitem__(self, key: int, hook: Any) -> None:
        raise TypeError("a module's hooks are added with register_forward_hook (and its kin), "
                        "which return a handle that removes them")

    def __delitem__(self, key: int) -> None:
        del self._entries()[self._position(key)]

    def popitem(self, last: bool = True) -> tuple[int, Any]:
        """The last registration taken off (the first with ``last=False``), as an
        ``OrderedDict``'s."""
        keys = self._keys()
        if not keys:
            raise KeyError("popitem(): dictionary is empty")
        key = keys[-1 if last else 0]
        hook = self[key]
        del self[key]
        return key, hook

    def __repr__(self) -> str:
        return f"OrderedDict({list(self.items())!r})"


class _GlobalHookHandle(RemovableHandle):
    """The handle of a global module hook: removing it also updates ``_GLOBAL_HOOKS_ON``."""

    def remove(self) -> None:
        super().remove()
        _global_hooks_changed()


def _add_global_hook(kind: str, hook: Callable[..., Any], what: str, with_kwargs: bool = False,
                     always_call: bool = False) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"{what}: the hook must be callable, got {type(hook).__name__}")
    entry = (hook, bool(with_kwargs), bool(always_call)) if kind in ("pre", "post") else \
        RemovableHandle.entry(_GLOBAL_HOOKS[kind], hook)
    _GLOBAL_HOOKS[kind].append(entry)
    _global_hooks_changed()
    return _GlobalHookHandle(_GLOBAL_HOOKS[kind], entry)


def register_module_forward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, args)`` runs before the ``forward`` of every module called from now on,
    before the module's own pre-hooks; what it returns (not None) replaces the positional
    arguments, as a module's own pre-hook (PyTorch's global hook). ``handle.remove()`` takes it
    off again."""
    return _add_global_hook("pre", hook, "register_module_forward_pre_hook")


def register_module_forward_hook(hook: Callable[..., Any], *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """``hook(module, args, output)`` (with ``with_kwargs``: ``hook(module, args, kwargs,
    output)``) runs after the ``forward`` of every module, before the module's own forward
    hooks; what it returns (not None) replaces the output. ``always_call``: it runs when the
    call raises too, as ``Module.register_forward_hook``'s (PyTorch's global hook).
    ``handle.remove()`` takes it off again."""
    return _add_global_hook("post", hook, "register_module_forward_hook", with_kwargs,
                            always_call)


def register_module_full_backward_pre_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, grad_output)`` for every module called from now on, before the module's
    own backward pre-hooks: ``Module.register_full_backward_pre_hook`` on all of them
    (PyTorch's global hook). ``handle.remove()`` takes it off again."""
    return _add_global_hook("backward_pre", hook, "register_module_full_backward_pre_hook")


def register_module_full_backward_hook(hook: Callable[..., Any]) -> RemovableHandle:
    """``hook(module, grad_input, grad_output)`` for every module called from now on, before the
    module's own full backward hooks: ``Module.register_full_backward_hook`` on all of them
    (PyTorch's global hook). ``handle.remove()`` takes it off again."""
    return _add_global_hook("backward", hook, "register_module_full_backward_hook")


class Parameter(Tensor):
    """A tensor that a ``Module`` owns and an optimizer updates (``requires_grad=True``)."""

    __slots__ = ("_path_named",)

    def __init__(self, data: Any = None, requires_grad: bool = True,
                 name: str | None = None) -> None:
        if data is None:  # PyTorch's Parameter(): an empty float32 tensor
            data = np.empty(0, dtype=np.float32)
        super().__init__(data, requires_grad=requires_grad, name=name)
        if isinstance(data, Tensor) and data.dtype.kind in "fc":
            # a new leaf on the tensor's memory, as PyTorch's Parameter(t): tied weights made as
            # Parameter(other.weight.t()) move together, changes to t show in the parameter
            self._data = data._data
        self._path_named = False

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    @property
    def name(self) -> str | None:
        """As :attr:`Tensor.name`; a name set here is the user's (shown by ``repr``), not the
        module-path label ``named_parameters`` gives for the drawings."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        Tensor.name.fset(self, value)  # type: ignore[attr-defined]
        self._path_named = False

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        new = super().__deepcopy__(memo)
        new._grad = None  # (as PyTorch's Parameter: a copied model starts without gradients)
        return new  # type: ignore[return-value]


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Drop (or zero in place) the ``.grad`` of each tensor: ``Module.zero_grad`` and
    ``Optimizer.zero_grad``."""
    for p in params:
        if set_to_none:
            p.grad = None
        elif p.grad is not None:
            if p.grad.grad_fn is not None or p.grad.requires_grad:
                p.grad.detach_()  # a .grad with a graph (create_graph=True): cut it, as PyTorch
            p.grad._data.fill(0)


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"  # (PyTorch's)
        return (f"IncompatibleKeys(missing_keys={self.missing_keys!r}, "
                f"unexpected_keys={self.unexpected_keys!r})")


EXTRA_STATE_KEY = "_extra_state"  # state_dict's key (after a module's prefix) for get_extra_state()


def _local_metadata(module: Module) -> dict[str, Any]:
    """What a state_dict post-hook gets as ``local_metadata``: PyTorch's ``{"version": ...}``,
    the class's ``_version`` (1 when it has none)."""
    return {"version": type(module)._version}


def _copy_into(t: Tensor, arr: Any) -> None:
    """``t``'s values replaced by ``arr`` (of its shape, dtype and device), a new version."""
    t._data[...] = arr
    t._version_counter[0] += 1


_LOADING = threading.local()  # .run: the _Loading of the load_state_dict running in this thread


class _Loading:
    """One ``load_state_dict`` run: the missing and unexpected keys and the error messages found
    so far, and the writes -- done at once, each with a way back, when a post-hook may look at
    the module (``immediate``); else queued until every check has passed."""

    def __init__(self, assign: bool, immediate: bool) -> None:
        self.assign, self.immediate = assign, immediate
        self.missing: list[str] = []
        self.unexpected: list[str] = []
        self.errors: list[str] = []
        self.pending: list[tuple[Callable[[], Any], Any]] = []
        self.undo: list[Callable[[], Any]] = []

    def write(self, do: Callable[[], Any],
              snapshot: Callable[[], Callable[[], Any]] | None = None) -> None:
        """``do()`` now or once the checks pass; ``snapshot()``, called just before ``do()``,
        returns what undoes it."""
        if not self.immediate:
            self.pending.append((do, snapshot))
            return
        if snapshot is not None:
            self.undo.append(snapshot())
        do()

    def flush(self) -> None:
        """The queued writes, each with its way back (a ``set_extra_state`` that raises midway
        leaves no parameter changed)."""
        self.immediate = True
        for do, snapshot in self.pending:
            self.write(do, snapshot)


def _own_tensors_back(module: Module) -> Callable[[], None]:
    """What puts back every parameter and buffer of ``module``'s tree -- the tensor objects
    under their names, their arrays and values -- for a ``_load_from_state_dict`` override or a
    ``set_extra_state`` that writes them itself."""
    saved = [(table, name, t, t._data, t._data.copy())
             for m in module.modules() for table in (m._parameters, m._buffers)
             for name, t in table.items() if t is not None]

    def back() -> None:
        for table, name, t, data, values in saved:
            table[name] = t
            t._data = data
            _copy_into(t, values)

    return back


#: PyTorch Module methods this engine has no use for, with what to do instead
_MISSING_METHODS = {
    "compile": "tinygrad_cnn runs every op eagerly on numpy, with no compiler: delete the "
               "`model.compile()` line",
    "bfloat16": "numpy has no bfloat16: use model.half() or model.float()",
    "share_memory": "there are no worker processes sharing a model: delete the line",
    "to_empty": "modules are made with their memory here: create the module on its device",
    "ipu": "there is no IPU backend: the CPU runs numpy, a GPU CuPy (model.cuda())",
    "xpu": "there is no XPU backend: the CPU runs numpy, a GPU CuPy (model.cuda())",
    "mtia": "there is no MTIA backend: the CPU runs numpy, a GPU CuPy (model.cuda())",
}


class Module:
    """Base class of layers and models: subclass it, assign layers and parameters in ``__init__``,
    write ``forward``, and call the module."""

    training: bool
    _version: int = 1  # the layout of this class's state_dict entries (PyTorch's; see state_dict)

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())  # buffers left out of state_dict
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_paths_assigned", False)
        object.__setattr__(self, "_path", None)  # "conv1", "features.0": ops run inside are tagged

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            # before Module.__init__: a plain attribute (a flag, a size, even a Tensor) is set as
            # any object's; a Parameter or a Module needs the registries (PyTorch's rule)
            if isinstance(value, Parameter):
                self._require_init("parameters")
            if isinstance(value, Module):
                self._require_init("module")
            object.__setattr__(self, name, value)
            return
        # PyTorch's rules, in its order: a Parameter registers under the name whatever was
        # there; a parameter's name takes only a Parameter or None (not even a Module); a Module
        # registers over a buffer or a plain attribute; a module's name takes only a Module or
        # None, a buffer's a Tensor or None
        if isinstance(value, Parameter):
            if "." in name:  # (its state_dict key could not be loaded back: PyTorch's KeyError)
                raise KeyError(f"parameter name can't contain \".\" (got {name!r}; "
                               "setattr(module, name, Parameter) registers it under that name)")
            if name not in self._parameters and hasattr(type(self), name):
                # a class attribute or property of that name would shadow the parameter (the
                # optimizer would train what forward never reads): PyTorch's KeyError
                raise KeyError(f"attribute '{name}' already exists ({type(self).__name__} has a "
                               f"class attribute or property '{name}'; register the parameter "
                               "under another name)")
            self._modules.pop(name, None)
            self._buffers.pop(name, None)
            self._non_persistent.discard(name)
            self._parameters[name] = value
        elif name in self._parameters:
            if value is not None:
                wrap = "wrap it: nn.Parameter(...)" if isinstance(value, Tensor) else \
                    f"delete the parameter first (del module.{name}) to put something else there"
                raise TypeError(f"{type(self).__name__}: cannot assign {a_type(value)} "
                                f"as parameter '{name}' (a Parameter or None expected); {wrap}")
            self._parameters[name] = None
        elif isinstance(value, Module):
            self._buffers.pop(name, None)
            self._non_persistent.discard(name)
            self._modules[name] = value
        elif name in self._modules:
            if value is not None:
                raise TypeError(f"{type(self).__name__}: cannot assign {a_type(value)} "
                                f"as child module '{name}' (a Module or None expected)")
            self._modules[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}: cannot assign {a_type(value)} "
                                f"as buffer '{name}' (a Tensor or None expected)")
            self._buffers[name] = value  # `self.avg = self.avg * 0.9 + ...` updates the buffer
        else:
            object.__setattr__(self, name, value)
            return
        # registered: kept in its registry only, found by __getattr__ (PyTorch's way), so what
        # is written into `module._parameters[...]` (EMA, reparametrisations, functional calls)
        # is what `module.weight` and forward read
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        """A parameter, buffer or submodule registered but not kept as a plain attribute (a
        ``ModuleDict``'s: ``ModuleDict({"a": m}).a``), as PyTorch's ``Module.__getattr__`` finds
        them. Only asked when ordinary lookup fails."""
        attributes = self.__dict__
        entries = attributes.get("_parameters")  # (straight-line: forward reads every
        if entries is not None:                  # parameter through here, each call)
            if name in entries:
                return entries[name]
            entries = attributes["_buffers"]
            if name in entries:
                return entries[name]
            entries = attributes["_modules"]
            if name in entries:
                return entries[name]
        if entries is None and name.startswith("_"):  # (Module.__init__ never ran)
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute '{name}': "
                f"{type(self).__name__}.__init__ did not call super().__init__(), which sets up "
                "the module's registries; call it at the top of __init__")
        advice = _MISSING_METHODS.get(name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'"
                             + (f" (PyTorch's Module.{name}): {advice}" if advice else ""))

    def __setstate__(self, state: dict[str, Any]) -> None:
        """What pickle and deepcopy restore (PyTorch's hook: a subclass may override it and call
        ``super().__setstate__(state)``); registries missing from an old pickle start empty."""
        self.__dict__.update(state)
        for registry in ("_parameters", "_modules", "_buffers"):
            self.__dict__.setdefault(registry, OrderedDict())
        self.__dict__.setdefault("_non_persistent", set())

    def __dir__(self) -> list[str]:
        """The attributes, with the registered parameters, buffers and submodules (PyTorch's;
        keys that are not identifiers -- a Sequential's "0" -- left out)."""
        names = [*dir(type(self)), *self.__dict__, *self._parameters, *self._modules,
                 *self._buffers]
        return sorted({n for n in names if not n[:1].isdigit()})

    def __delattr__(self, name: str) -> None:
        registries = tuple(self.__dict__.get(r, {}) for r in ("_parameters", "_modules", "_buffers"))
        registered = any(name in registry for registry in registries)
        for registry in registries:
            registry.pop(name, None)
        if name in self.__dict__ or not registered:
            object.__delattr__(self, name)

    def _require_init(self, what: str) -> None:
        """PyTorch's AttributeError for registering before ``Module.__init__`` has run."""
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {what} before Module.__init__() call ({type(self).__name__}: call "
                "super().__init__() at the top of __init__, before assigning layers, parameters "
                "or buffers)")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is part of the state but not trained (BatchNorm's running statistics):
        saved and loaded with ``state_dict``, unless ``persistent=False``."""
        self._require_init("buffer")
        self._check_new_name("register_buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: cannot assign {a_type(tensor)} as buffer "
                            f"'{name}' (a Tensor or None expected)")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._require_init("parameter")
        self._check_new_name("register_parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: cannot assign {a_type(param)} as "
                            f"parameter '{name}' (a Parameter or None expected); wrap it: "
                            "nn.Parameter(...)")
        if param is None:
            self._modules.pop(name, None)
            self._buffers.pop(name, None)
            self._parameters[name] = None
            self.__dict__.pop(name, None)
        else:
            setattr(self, name, param)

    def _check_new_name(self, where: str, name: Any, own: dict[str, Any]) -> None:
        """PyTorch's checks of a registered name: a non-empty str without '.', not already an
        attribute of another kind."""
        if not isinstance(name, str):
            raise TypeError(f"{where}: the name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{where}: the name {name!r} must be non-empty and contain no '.'")
        if name not in own and (name in self._parameters or name in self._buffers
                                or name in self._modules or name in self.__dict__
                                or hasattr(type(self), name)):
            raise KeyError(f"{where}: attribute '{name}' already exists")

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` (or None, a placeholder) as the child ``name``, as assigning
        ``self.name = module`` does."""
        self._require_init("module")
        self._check_new_name("add_module", name, self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        if module is None:
            for registry in (self._parameters, self._buffers):
                registry.pop(name, None)
            self._modules[name] = None
            self.__dict__.pop(name, None)
        else:
            setattr(self, name, module)

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The module at the dotted path ``target`` (``"features.3"``; ``""`` is this one)."""
        if not isinstance(target, str):  # (0 was falsy: it gave this module, not child 0)
            raise TypeError(f"get_submodule: target must be a dotted path string such as "
                            f"'features.3', got {type(target).__name__} {target!r}")
        module: Module = self
        for item in target.split(".") if target else ():
            if item in module._modules:
                child = module._modules[item]
            elif hasattr(module, item):
                child = getattr(module, item)
            else:
                raise AttributeError(f"get_submodule({target!r}): {type(module).__name__} has no "
                                     f"attribute `{item}`")
            if not isinstance(child, Module):
                raise AttributeError(f"get_submodule({target!r}): `{item}` is not an nn.Module")
            module = child
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        """Put ``module`` at the dotted path ``target`` (``"features.3"``), as PyTorch's: the
        parent (``"features"``) must exist; the last name may be new (registered as a child)
        unless ``strict``, and if it exists it must be a module. Errors: ValueError for an empty
        ``target`` or a ``module`` that is not a Module; AttributeError for a path that is not
        there (or, with ``strict``, a new last name) or that names something not a module."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        exists = hasattr(parent, name)
        if strict and not exists:
            raise AttributeError(f"set_submodule({target!r}): {type(parent).__name__} has no "
                                 f"attribute `{name}` (strict=True replaces only an existing "
                                 "submodule)")
        if exists and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"set_submodule({target!r}): `{name}` is not an nn.Module (it "
                                 f"is {a_type(getattr(parent, name))})")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"features.0.weight"``)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"get_parameter({target!r}): {type(module).__name__} has no "
                                 f"attribute `{name}`")
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"get_parameter({target!r}): `{name}` is not an nn.Parameter "
                                 f"(it is {a_type(param)})")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (``"bn1.running_mean"``)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"get_buffer({target!r}): {type(module).__name__} has no "
                                 f"attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"get_buffer({target!r}): `{name}` is not a buffer (it is a "
                                 f"{type(getattr(module, name)).__name__})")
        return getattr(module, name)

    def apply(self, fn: Any) -> Module:
        """Call ``fn(module)`` on every module of the tree, children first (depth first, in
        registration order), then this one, as PyTorch does (``model.apply(init_weights)``);
        returns self."""
        if not callable(fn):
            raise TypeError(f"apply: fn must be callable, got {type(fn).__name__}")
        stack: list[tuple[Module, bool]] = [(self, False)]
        while stack:  # iterative post-order: a deep tree needs no recursion
            module, children_done = stack.pop()
            if children_done:
                fn(module)
                continue
            stack.append((module, True))
            stack.extend((c, False) for c in reversed(list(module.children())))
        return self

    # ------------------------------------------------------------------ traversal
    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """Every module of the tree with its path, this one first, depth first in registration
        order (iterative). As PyTorch: each once, unless ``remove_duplicate=False`` (a module
        under two names then comes under both); modules in ``memo`` are left out, with their
        subtrees, and the ones seen are added to it."""
        if memo is None:
            memo = set()
        # (path, module, the ids of its ancestors: without deduplication a cycle would not end)
        stack: list[tuple[str, Module, frozenset[int]]] = [(prefix, self, frozenset())]
        while stack:
            path, module, above = stack.pop()
            if module in memo:
                continue
            if remove_duplicate:
                memo.add(module)
            yield path, module
            inside = frozenset() if remove_duplicate else above | {id(module)}
            stack.extend(reversed([(f"{path}.{n}" if path else n, m, inside)
                                   for n, m in module._modules.items()
                                   if m is not None and id(m) not in inside]))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The direct submodules, each once (a module registered under two names: the first)."""
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Module, Any]]:
        """PyTorch's ``_named_members``: ``(path, owner, tensor)`` from each module's
        ``registry``, each tensor once unless ``remove_duplicate=False``."""
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else iter([(prefix, self)])
        for path, module in modules:
            for name, t in getattr(module, registry).items():
                if t is None or id(t) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(t))
                yield (f"{path}.{name}" if path else name), module, t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``(path, parameter)`` pairs in registration order; each parameter once (the first
        path of a tied weight), unless ``remove_duplicate=False``."""
        labelled: set[int] = set()
        for full, _, p in self._named_members("_parameters", prefix, recurse, remove_duplicate):
            if id(p) not in labelled and (p.name is None or p._path_named):
                p.name, p._path_named = full, True  # label it for the drawings (its first path)
            labelled.add(id(p))
            yield full, p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """``(path, buffer)`` pairs, each buffer once unless ``remove_duplicate=False``;
        ``recurse=False``: this module's own."""
        for full, _, b in self._named_members("_buffers", prefix, recurse, remove_duplicate):
            yield full, b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes and state
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, BatchNorm uses batch statistics); returns self. Each
        child's own ``train`` is called, so a child that overrides it (a frozen BatchNorm) has its
        say, as in PyTorch."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool (PyTorch's ValueError), got "
                             f"{type(mode).__name__} {mode!r}")
        object.__setattr__(self, "training", mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode; the same as ``train(False)``."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self.parameters(), set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient tracking of every parameter (freeze with ``False``); returns self."""
        if not isinstance(requires_grad, (bool, np.bool_)):  # (was: read by truthiness)
            raise TypeError(f"requires_grad_: requires_grad must be a bool, got "
                            f"{type(requires_grad).__name__}")
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args: Any, device: str | None = None, dtype: Any = None,
           non_blocking: bool = False, memory_format: Any = None) -> Module:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` (its dtype and
        device) or by keyword, as PyTorch: floating parameters and buffers are cast to the
        floating ``dtype``, every one is moved to ``device`` (in place); returns self.
        ``non_blocking`` (a last positional bool, or by keyword) is accepted; ``memory_format``
        (``tinygrad_cnn.channels_last``) lays out the 4-d parameters and buffers so."""
        positional = list(args)
        if positional and isinstance(positional[-1], bool):
            positional.pop()  # non_blocking: copies here are synchronous
        if len(positional) > 2:
            raise TypeError(f"Module.to: takes a device, a dtype or a tensor, then non_blocking "
                            f"(a bool); got {len(args)} positional arguments {args!r}")
        for a in positional:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, str):
                device = a
            else:
                dtype = a
        if dtype is not None:
            dt = _dtype(dtype, "Module.to")
            if dt.kind != "f":
                raise TypeError(f"Module.to only accepts floating point dtypes, but got {dt} "
                                "(integer parameters cannot learn)")
            self._cast(dt)
        if device is not None:
            self._move(device)
        if memory_format is not None:
            self._lay_out(memory_format)
        return self

    def _lay_out(self, memory_format: Any) -> None:
        """``to(memory_format=channels_last)``, as PyTorch: the 4-d parameters and buffers (conv
        weights) laid out in that format, the others left as they are; values unchanged."""
        from tinygrad_cnn import layout

        name = layout.resolve(memory_format, "Module.to")
        rank = {"channels_last": 4, "channels_last_3d": 5}.get(name)

        def lay(t: Tensor) -> Tensor:
            if name == "preserve_format" or (rank is not None and t.ndim != rank) or \
                    layout.holds(t._data, name):
                return t
            return Tensor._make(layout.arrange(t._data, name))

        self._apply(lay)

    def cpu(self) -> Module:
        """Every parameter and buffer to the CPU (in place); returns self."""
        return self.to(device="cpu")

    def cuda(self, device: int | str | None = None) -> Module:
        """Every parameter and buffer to the GPU (in place; ``device``: an index or a
        ``"cuda[:i]"`` name, there is one GPU device); returns self. Without CuPy and a GPU, the
        error of ``Tensor.cuda``."""
        if device is not None and not isinstance(device, int) and \
                normalize_device(str(device)) != "cuda":
            raise ValueError(f"Module.cuda: {device!r} is not a cuda device; use .to({device!r})")
        return self.to(device="cuda")

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Module:
        """PyTorch's conversion walk, which ``to``/``cpu``/``cuda``/``half``/``float``/
        ``double`` go through: the children's ``_apply`` first, then ``fn`` on this module's
        parameters and buffers (and their ``.grad``). A tensor ``fn`` returns unchanged is left
        as it is; otherwise the same Parameter or buffer object takes the new data (in place,
        its version bumped), so optimizers and user references keep following it. Override it
        (calling ``super()._apply(fn)``) to convert state of your own too."""
        if self.__dict__.get("_applying") or not recurse:  # (a module inside itself: once)
            return self._apply_own(fn)
        object.__setattr__(self, "_applying", True)
        try:
            for child in self.children():
                child._apply(fn)
        finally:
            del self.__dict__["_applying"]
        return self._apply_own(fn)

    def _apply_own(self, fn: Callable[[Tensor], Tensor]) -> Module:
        for registry in (self._parameters, self._buffers):
            for t in registry.values():
                if t is None:
                    continue
                new = fn(t)
                if new is not t and new._data is not t._data:
                    t._data = new._data
                    t._version_counter[0] += 1
                if t.grad is not None:
                    grad = t.grad
                    g = fn(grad)
                    if g is not grad and grad.grad_fn is None and g._data is not grad._data:
                        grad._data = g._data  # (the same .grad object: a reference kept to it
                        grad._version_counter[0] += 1  # follows, as PyTorch's in-place cast)
                    elif g is not grad:
                        t.grad = g
        return self

    # A tensor already there (device, dtype) is left as it is, as PyTorch's: its .data,
    # .detach() and numpy views, and a .grad kept by the user, keep following it
    def _move(self, device: str) -> None:
        def move(t: Tensor) -> Tensor:
            moved = to_device(t._data, device)
            return t if moved is t._data else Tensor._make(moved)

        self._apply(move)

    def _cast(self, dtype: Any) -> Module:
        dtype = np.dtype(dtype)

        def cast(t: Tensor) -> Tensor:
            if t.dtype.kind != "f" or t.dtype == dtype:
                return t
            return Tensor._make(t._data.astype(dtype))

        return self._apply(cast)

    def half(self) -> Module:
        """Floating parameters and buffers to float16 (in place); returns self."""
        return self._cast(np.float16)

    def double(self) -> Module:
        """Floating parameters and buffers to float64 (in place); returns self."""
        return self._cast(np.float64)

    def float(self) -> Module:
        """Floating parameters and buffers to float32 (in place); returns self."""
        return self._cast(np.float32)

    def type(self, dst_type: Any) -> Module:
        """Every parameter and buffer cast to ``dst_type`` -- integer buffers too, unlike
        ``to``/``float``/``double`` (PyTorch's) -- in place: the same Parameter objects take the
        new data, and their ``.grad`` is cast too; returns self. ``dst_type`` is what
        ``Tensor.type`` takes: a dtype or a type name (``'torch.DoubleTensor'``;
        ``'torch.cuda.FloatTensor'`` also moves them to the GPU). A dtype that is not floating
        is refused when a parameter requires grad (PyTorch's RuntimeError), before anything
        changes."""
        tensors = [*self.parameters(), *self.buffers()]
        with no_grad():
            new = [t.type(dst_type) for t in tensors]  # (a bad dst_type raises here)
            for t, n in zip(tensors, new):
                if t.requires_grad and n.dtype.kind not in "fc":
                    raise RuntimeError(f"Module.type({dst_type!r}): data set to a tensor that "
                                       "requires gradients must be floating point or complex "
                                       f"dtype, got {n.dtype}")
            # (through _apply, as PyTorch's: a subclass's override converts its own state too)
            self._apply(lambda t: t.type(dst_type))
        return self

    def to_empty(self, *, device: Any, recurse: bool = True) -> Module:
        """Every parameter and buffer (and ``.grad``) given new, uninitialised memory of its
        shape and dtype on ``device`` (None: where it is), without copying its values (PyTorch's,
        for a module built on the meta device; here numpy's ``empty``); the same Parameter
        objects; ``recurse=False``: this module's own only. ``device`` is keyword-only and
        required, as in PyTorch. Returns self."""
        if isinstance(device, int) and not isinstance(device, bool):
            device = "cuda"  # (a GPU index, as Module.cuda takes one)
        xp = None if device is None else get_module(normalize_device(device))
        for t in [*self.parameters(recurse=recurse), *self.buffers(recurse=recurse)]:
            here = array_module(t._data) if xp is None else xp
            t._data = here.empty(t.shape, dtype=t.dtype)
            t._version_counter[0] += 1
            if t.grad is not None:
                t.grad = Tensor._make(here.empty(t.grad.shape, dtype=t.grad.dtype))
        return self

    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> Any:
        """Every parameter and persistent buffer by path, detached (sharing memory, like
        PyTorch), in PyTorch's order: module by module, each module's parameters, then its
        buffers, then ``prefix + '_extra_state'`` (what ``get_extra_state()`` returns) when its
        class overrides ``get_extra_state``. A tied weight or a shared module appears under every
        path it has, as in PyTorch (``parameters()`` lists it once). PyTorch's options:
        ``prefix`` before every key, ``keep_vars`` the tensors themselves (not detached),
        ``destination`` a dict to fill. Each module's ``register_state_dict_pre_hook`` hooks run
        before its entries are added, its ``register_state_dict_post_hook`` hooks after its
        children's."""
        if args:  # PyTorch's deprecated positional form: (destination, prefix, keep_vars)
            if len(args) > 3:
                raise TypeError(f"state_dict: takes at most 3 positional arguments, got "
                                f"{len(args)}")
            destination, prefix, keep_vars = (*args, *(destination, prefix, keep_vars)[len(args):])
        if not isinstance(prefix, str):
            raise TypeError(f"state_dict: prefix must be a str, got {type(prefix).__name__}")
        for _ in self.named_parameters():  # labels them for the drawings
            pass
        out = OrderedDict() if destination is None else destination
        if destination is None:
            # each module's {"version": its class's _version} under its path, as PyTorch's: what
            # _load_from_state_dict gets as local_metadata (a migration of old checkpoints
            # tells them by a missing or older version)
            out._metadata = OrderedDict()  # type: ignore[attr-defined]
        metadata = getattr(out, "_metadata", None)
        # PyTorch's recursion as a walk (no recursion limit; a module that contains itself is
        # not entered again): (prefix, module, its ancestors, whether its children are done)
        stack: list[tuple[str, Module, frozenset[int], bool | None]] = [
            (prefix, self, frozenset(), False)]
        while stack:
            path, module, above, done = stack.pop()
            if done is None:  # a child whose class overrides state_dict: called, as PyTorch's
                module.state_dict(destination=out, prefix=path, keep_vars=keep_vars)
                continue
            hooks = module.__dict__.get("_state_hooks")
            if done:
                for hook in list(hooks["state_dict_post"].values()) if hooks else ():
                    if hook(module, out, path, _local_metadata(module)) is not None:
                        raise RuntimeError("state_dict post-hook must return None")
                continue
            for hook in list(hooks["state_dict_pre"].values()) if hooks else ():
                hook(module, path, keep_vars)
            if metadata is not None:
                metadata[path[:-1]] = _local_metadata(module)
            module._save_to_state_dict(out, path, keep_vars)
            stack.append((path, module, above, True))
            inside = above | {id(module)}
            children = []
            for n, m in module._modules.items():
                if m is None or id(m) in inside:
                    continue
                if type(m).state_dict is not Module.state_dict:  # a child's own state_dict
                    children.append((f"{path}{n}.", m, inside, None))
                else:
                    children.append((f"{path}{n}.", m, inside, False))
            stack.extend(reversed(children))
        return out

    def _save_to_state_dict(self, destination: Any, prefix: str, keep_vars: bool) -> None:
        """This module's own entries of ``state_dict`` (not its children's): its parameters,
        persistent buffers and extra state under ``prefix``. Override it (PyTorch's extension
        point, calling ``super()._save_to_state_dict(...)``) to save more or other entries."""
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                destination[prefix + name] = b if keep_vars else b.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + EXTRA_STATE_KEY] = self.get_extra_state()

    def get_extra_state(self) -> Any:
        """Override it (with :meth:`set_extra_state`) to keep more than tensors in
        ``state_dict``: what it returns is stored under ``prefix + '_extra_state'``. Only called
        when a class overrides it; this base version raises, as PyTorch's. (Saving a state_dict
        with ``tinygrad_cnn.save`` stores tensors and arrays only.)"""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be "
                           "called: state_dict calls it only for a class that overrides it")

    def set_extra_state(self, state: Any) -> None:
        """Override it (with :meth:`get_extra_state`): ``load_state_dict`` calls it with the
        value stored under ``prefix + '_extra_state'``. This base version raises, as PyTorch's."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be "
                           "called: load_state_dict calls it only for a class that overrides it")

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values into the parameters and buffers, module by module in PyTorch's order.
        Every missing, unexpected or mis-shaped key is named; a mis-shaped one is always an
        error, missing and unexpected ones with ``strict`` (the default); on an error no
        parameter or buffer is changed. A module whose class overrides ``set_extra_state`` gets
        its ``prefix + '_extra_state'`` entry (missing if absent); one that does not finds it
        unexpected. ``assign=True`` (PyTorch's): the checkpoint's tensors become the model's
        (their dtype and memory kept; a parameter's wrapped in a ``Parameter``, or an incoming
        ``Parameter`` switched, to the old one's ``requires_grad``) instead of being copied into
        them.

        Hooks, as PyTorch's: each module's ``register_load_state_dict_pre_hook`` hooks run before
        it loads, with its part of the (copied) state dict, which they may change;
        ``register_load_state_dict_post_hook`` hooks run after it and its children have loaded,
        and may change the lists of missing and unexpected keys in place, which ``strict`` then
        judges. The values are copied as the walk goes only when such a post-hook is there (so it
        sees them), and put back if the load then fails; otherwise they are copied once every
        check has passed; if one of them fails (a ``set_extra_state`` that raises), every
        parameter and buffer is put back, also those that a ``_load_from_state_dict`` override
        or ``set_extra_state`` wrote itself. Other effects of ``set_extra_state`` and of the
        hooks are not undone."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict of name -> tensor (a state_dict), "
                            f"got {type(state_dict).__name__}")
        for key in state_dict:
            if not isinstance(key, str):
                raise TypeError(f"load_state_dict: state_dict keys must be str (names such as "
                                f"'fc.weight'), got {key!r} ({type(key).__name__})")
        metadata = getattr(state_dict, "_metadata", None)
        run = _Loading(assign, immediate=any(
            h["load_post"] for m in self.modules() if (h := m.__dict__.get("_state_hooks"))))
        # (prefix, module, its part of the state dict, its ancestors, whether its children are
        # done): PyTorch's recursion as a walk
        stack: list[tuple[str, Module, dict[str, Any], frozenset[int], bool]] = [
            ("", self, OrderedDict(state_dict), frozenset(), False)]
        outer, _LOADING.run = getattr(_LOADING, "run", None), run
        try:
            while stack:
                path, module, local, above, done = stack.pop()
                if done:
                    hooks = module.__dict__.get("_state_hooks")
                    keys = IncompatibleKeys(run.missing, run.unexpected)
                    for hook in list(hooks["load_post"].values()) if hooks else ():
                        if hook(module, keys) is not None:
                            raise AssertionError(
                                "Hooks registered with ``register_load_state_dict_post_hook`` are "
                                "not expected to return new values, if incompatible_keys need to "
                                "be modified, it should be done inplace.")
                    continue
                local_metadata = {} if metadata is None else dict(metadata.get(path[:-1], {}))
                if assign:
                    local_metadata["assign_to_params_buffers"] = True
                if type(module)._load_from_state_dict is not Module._load_from_state_dict:
                    run.undo.append(_own_tensors_back(module))  # (it may write them itself)
                module._load_from_state_dict(local, path, local_metadata, True, run.missing,
                                             run.unexpected, run.errors)
                stack.append((path, module, local, above, True))
                inside = above | {id(module)}
                children = []
                for name, child in module._modules.items():
                    if child is not None and id(child) not in inside:
                        sub = f"{path}{name}."
                        children.append((sub, child, {k: v for k, v in local.items()
                                                      if k.startswith(sub)}, inside, False))
                stack.extend(reversed(children))
            problems = []
            if strict and run.missing:
                problems.append("missing keys: " + ", ".join(run.missing))
            if strict and run.unexpected:
                problems.append("unexpected keys: " + ", ".join(run.unexpected))
            problems += run.errors
            if problems:
                raise RuntimeError(f"load_state_dict into {type(self).__name__}: "
                                   + ". ".join(problems))
            run.flush()
        except BaseException:
            for undo in reversed(run.undo):
                undo()
            raise
        finally:
            _LOADING.run = outer
        return IncompatibleKeys(run.missing, run.unexpected)

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str,
                              local_metadata: dict[str, Any], strict: bool,
                              missing_keys: list[str], unexpected_keys: list[str],
                              error_msgs: list[str]) -> None:
        """This module's own part of ``load_state_dict`` (PyTorch's extension point and
        signature): its load pre-hooks, then its parameters, persistent buffers and extra state
        from ``state_dict`` (this module's part, keys with their full path), then the keys under
        ``prefix`` that name nothing here (not a child's: those the child judges) -- each problem
        appended to the lists. Override it (calling ``super()._load_from_state_dict(...)``) to
        rename or convert old entries first; ``load_state_dict`` calls it for every module."""
        run = _LOADING.run if getattr(_LOADING, "run", None) is not None else _Loading(
            bool(local_metadata.get("assign_to_params_buffers")), immediate=True)
        missing, unexpected, errors = missing_keys, unexpected_keys, error_msgs
        local = state_dict
        hooks = self.__dict__.get("_state_hooks")
        for hook in list(hooks["load_pre"].values()) if hooks else ():
            hook(self, local, prefix, local_metadata, True, missing, unexpected, errors)
        own = {n: p for n, p in self._parameters.items() if p is not None}
        own.update((n, b) for n, b in self._buffers.items()
                   if b is not None and n not in self._non_persistent)
        for name, t in own.items():
            key = prefix + name
            if key not in local:
                # a BatchNorm checkpoint from before num_batches_tracked existed (version 1, or
                # none recorded) loads, the model keeping its count, as PyTorch's
                version = local_metadata.get("version")
                if name != "num_batches_tracked" or (version is not None and version >= 2):
                    missing.append(key)
                continue
            value = local[key]
            try:
                arr = _foreign_array(value)
                if t.shape == () and tuple(arr.shape) == (1,):
                    # PyTorch's rule for checkpoints from before 0-d tensors: a one-element
                    # vector loads into a 0-d parameter or buffer
                    arr = arr.reshape(())
                    if run.assign and isinstance(value, Tensor):
                        value = value.reshape(())
                if tuple(arr.shape) != t.shape:
                    errors.append(f"size mismatch for {key}: the checkpoint has shape "
                                      f"{tuple(arr.shape)}, the model {t.shape}")
                    continue
                if not run.assign:  # (converted now: a value that cannot be is an error here)
                    arr = to_device(arr, t.device).astype(t.dtype, copy=False)
            except Exception as exc:
                errors.append(f"while copying {key}: {type(exc).__name__}: {exc}")
                continue
            if run.assign:  # (another library's tensor too: its memory, as PyTorch's assign)
                new = value if isinstance(value, Tensor) else _sharing(arr)
                if isinstance(t, Parameter):  # the module's requires_grad wins (PyTorch's)
                    try:
                        if isinstance(new, Parameter):
                            new.requires_grad_(t.requires_grad)
                        else:
                            new = Parameter(new, requires_grad=t.requires_grad)
                    except (TypeError, RuntimeError) as exc:  # (an int64 tensor cannot require grad)
                        errors.append(f"while assigning {key}: the checkpoint's {new.dtype} tensor "
                                      f"cannot become the parameter ({exc}); convert it to "
                                      f"{t.dtype} first, or load without assign=True")
                        continue
                run.write(functools.partial(setattr, self, name, new),
                          lambda m=self, n=name, old=t: functools.partial(setattr, m, n, old))
            else:
                run.write(functools.partial(_copy_into, t, arr),
                          lambda t=t: functools.partial(_copy_into, t, t._data.copy()))
        extra = prefix + EXTRA_STATE_KEY
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra in local:
                run.write(functools.partial(self.set_extra_state, local[extra]),
                          lambda m=self: _own_tensors_back(m))
            else:
                missing.append(extra)
        elif extra in local:
            unexpected.append(extra)
        for key in local:
            if key.startswith(prefix) and key != extra:
                first, *rest = key[len(prefix):].split(".", 1)
                if first not in (self._modules if rest else own):
                    unexpected.append(key)

    def register_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, prefix, keep_vars)`` runs in ``state_dict`` before this module's
        entries are added (``prefix``: its keys' prefix, e.g. ``"features.0."``). Returns a
        handle whose ``remove()`` takes it off."""
        return self._add_state_hook("state_dict_pre", hook, "register_state_dict_pre_hook")

    def register_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata)`` runs in ``state_dict`` after this
        module's entries and its children's are in; it may change ``state_dict`` in place and
        must return None (PyTorch's RuntimeError otherwise). ``local_metadata`` is
        ``{"version": ...}`` (the class's ``_version``, 1 when it has none)."""
        return self._add_state_hook("state_dict_post", hook, "register_state_dict_post_hook")

    def register_load_state_dict_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs in ``load_state_dict`` before this module loads:
        ``state_dict`` is this module's part of a copy of the one given (keys still with their
        full path; it may rename or convert entries), ``strict`` is always True (PyTorch's: the
        lists are always filled; ``load_state_dict``'s own ``strict`` decides), and a message
        appended to ``error_msgs`` fails the load."""
        return self._add_state_hook("load_pre", hook, "register_load_state_dict_pre_hook")

    def register_load_state_dict_post_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """``hook(module, incompatible_keys)`` runs in ``load_state_dict`` after this module and
        its children have loaded: ``incompatible_keys.missing_keys`` and ``.unexpected_keys`` are
        the lists found so far, which it may change in place (clearing them lets a ``strict``
        load pass; adding to them fails it). It must return None (PyTorch's AssertionError
        otherwise)."""
        return self._add_state_hook("load_post", hook, "register_load_state_dict_post_hook")

    def _add_state_hook(self, kind: str, hook: Callable[..., Any], what: str) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{what}: the hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.setdefault("_state_hooks", {
            "state_dict_pre": {}, "state_dict_post": {}, "load_pre": {}, "load_post": {}})[kind]
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    # ------------------------------------------------------------------ calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._paths_assigned:  # name parameters by their path, from the root called first
            for _ in self.named_parameters():
                pass
            for path, m in self.named_modules():
                object.__setattr__(m, "_paths_assigned", True)
                object.__setattr__(m, "_path", _ScopePath(path, type(m).__name__)
                                   if path else None)
        hooks = self.__dict__.get("_hooks")
        outer = _state.scope
        _state.scope = self._path if self._path is not None else outer
        if not _state.module_depth:
            _state.call_start = workspace.requests()
        _state.module_depth += 1
        try:
            if hooks or _GLOBAL_HOOKS_ON:
                return self._call_with_hooks(hooks or _NO_HOOKS, args, kwargs)
            return self.forward(*args, **kwargs)
        except Exception as exc:
            _name_module(exc, self)
            raise
        finally:
            _state.scope = outer
            _state.module_depth -= 1
            if not _state.module_depth and not _state.grad_enabled:
                # an inference call of a whole model has returned: the scratch buffers of shapes
                # it was the first to use go back beyond workspace.IDLE_BYTES (a sweep of image
                # sizes kept the last size's, 600 MB for ResNet-8 at 124x124)
                workspace.release_new(_state.call_start)

    def _call_with_hooks(self, hooks: dict[str, list[Any]], args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Any:
        """PyTorch's ``_call_impl``: forward pre-hooks, the backward hooks' views, ``forward``,
        forward hooks. When any of it raises, the forward hooks registered with
        ``always_call=True`` that have not run yet run (with the arguments as the pre-hooks left
        them and the result so far, None when ``forward`` raised; an error of theirs becomes a
        warning), and the first error propagates. The global hooks
        (``register_module_forward_hook``, ...) come first in each list."""
        out = None
        pre, post = hooks["pre"], hooks["post"]
        backward, backward_pre = hooks["backward"], hooks["backward_pre"]
        if _GLOBAL_HOOKS_ON:
            pre, post = _GLOBAL_HOOKS["pre"] + pre, _GLOBAL_HOOKS["post"] + post
            backward = _GLOBAL_HOOKS["backward"] + backward
            backward_pre = _GLOBAL_HOOKS["backward_pre"] + backward_pre
        post = list(post)
        reached = 0  # forward hooks already reached (an always_call one does not run twice)
        try:
            for hook, with_kwargs, _ in list(pre):
                if with_kwargs:
                    result = hook(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            raise RuntimeError(
                                "forward pre-hook must return None or a tuple of (new_args, "
                                f"new_kwargs), but got {result}.")
                        args, kwargs = result
                else:
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
            backward_hooks = None
            if (backward or backward_pre) and _state.grad_enabled:
                backward_hooks = ModuleBackwardHooks(self, backward, backward_pre)
                args = backward_hooks.wrap_inputs(args)  # forward (and forward hooks) see views
            out = self.forward(*args, **kwargs)
            for hook, with_kwargs, _ in post:
                reached += 1
                result = hook(self, args, kwargs, out) if with_kwargs else hook(self, args, out)
                if result is not None:
                    out = result
            if backward_hooks is not None:
                out = backward_hooks.wrap_outputs(out)
            return out
        except Exception:
            for hook, with_kwargs, always_call in post[reached:]:
                if not always_call:
                    continue
                try:
                    result = hook(self, args, kwargs, out) if with_kwargs else \
                        hook(self, args, out)
                    if result is not None:
                        out = result
                except Exception as e:
                    warnings.warn("module forward hook with ``always_call=True`` raised an "
                                  "exception that was silenced as another error was raised in "
                                  f"forward: {e}", stacklevel=3)
            raise

    def _add_hook(self, kind: str, hook: Callable[..., Any], prepend: bool,
                  with_kwargs: bool = False, what: str = "",
                  always_call: bool = False) -> RemovableHandle:
        if not callable(hook):
            what = what or f"register_forward_{'pre_' if kind == 'pre' else ''}hook"
            raise TypeError(f"{what}: the hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.setdefault(
            "_hooks", {"pre": [], "post": [], "backward": [], "backward_pre": []})
        entry = (hook, bool(with_kwargs), bool(always_call)) if kind in ("pre", "post") else \
            RemovableHandle.entry(hooks[kind], hook)  # (a distinct entry for each registration)
        if prepend:
            hooks[kind].insert(0, entry)
        else:
            hooks[kind].append(entry)
        handle = RemovableHandle(hooks[kind], entry)
        ids = self.__dict__.setdefault("_hook_ids", {})  # entry -> its handle's id (the views' keys)
        if len(ids) > 2 * sum(map(len, hooks.values())) + 16:  # (entries removed since: dropped)
            live = {id(e) for entries in hooks.values() for e in entries}
            for k in [k for k in ids if k not in live]:
                del ids[k]
        ids[id(entry)] = handle.id
        return handle

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` runs before ``forward``; what it returns (not None) replaces the
        positional arguments (with ``with_kwargs``: ``hook(module, args, kwargs)`` returns
        ``(args, kwargs)``). ``handle.remove()`` takes it off again."""
        return self._add_hook("pre", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` runs after ``forward`` (feature maps, Grad-CAM); what it
        returns (not None) replaces the output (with ``with_kwargs``: ``hook(module, args, kwargs,
        output)``). With ``always_call=True`` it also runs when a pre-hook, ``forward`` or an
        earlier forward hook raises (``output`` None if there is none yet; the error still
        propagates, and one of the hook's own becomes a warning), as PyTorch's.
        ``handle.remove()`` takes it off again."""
        return self._add_hook("post", hook, prepend, with_kwargs, always_call=always_call)

    def register_full_backward_hook(self, hook: Callable[..., Any],
                                    prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs once per backward through each call of
        the module, when the gradients w.r.t. its inputs are computed: ``grad_input`` holds one
        entry per positional argument (the gradient w.r.t. a Tensor, None for anything else;
        zeros for a Tensor that does not require grad while another does, as PyTorch), and
        ``grad_output`` one per result (a Tensor or a tuple; None for a result that got no
        gradient or is not a Tensor). What it returns (not None: a tuple as long as
        ``grad_input``) replaces ``grad_input``. When none of the arguments requires grad it runs
        with the gradients w.r.t. the results, and ``grad_input`` all None (with PyTorch's
        warning). Hooks are taken as they are at the module's call; nothing runs under
        ``no_grad``. While it is registered, ``forward`` gets views of the tensor arguments and
        the caller views of the results; changing them in place while gradients are recorded is
        an error (PyTorch's rule). ``handle.remove()`` takes it off again.

        Grad-CAM: ``model.features[-1].register_full_backward_hook(lambda m, gi, go:
        grads.append(go[0]))``."""
        self._backward_hook_kind(True)
        return self._add_hook("backward", hook, prepend, what="register_full_backward_hook")

    def register_full_backward_pre_hook(self, hook: Callable[..., Any],
                                        prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)`` runs once per backward through each call of the module,
        when the gradients w.r.t. its results are complete, before they go into the module's own
        backward; what it returns (not None: a tuple as long as ``grad_output``) replaces
        ``grad_output`` there and for the full backward hooks. See
        :meth:`register_full_backward_hook`."""
        return self._add_hook("backward_pre", hook, prepend,
                              what="register_full_backward_pre_hook")

    def register_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Deprecated in PyTorch; here an alias of :meth:`register_full_backward_hook`, with a
        DeprecationWarning. ``grad_output`` is what PyTorch's old hook gets for a module that
        ends in one op (Grad-CAM code that reads ``grad_output[0]`` works unchanged), but
        ``grad_input`` holds the gradients w.r.t. the module's inputs, not PyTorch's gradients
        w.r.t. the inputs of the module's last op."""
        warnings.warn("register_backward_hook is deprecated (as in PyTorch) and registers a full "
                      "backward hook here: grad_input holds the gradients w.r.t. the module's "
                      "inputs, not those of its last op; use register_full_backward_hook",
                      DeprecationWarning, stacklevel=2)
        self._backward_hook_kind(False)
        return self._add_hook("backward", hook, False, what="register_backward_hook")

    def _backward_hook_kind(self, full: bool) -> None:
        """PyTorch's rule: a module takes old-style or full backward hooks, never both (kept
        after the hooks are removed, as PyTorch's ``_is_full_backward_hook``)."""
        if self.__dict__.get("_is_full_backward_hook", full) != full:
            raise RuntimeError(f"{type(self).__name__}: cannot use both regular backward hooks "
                               "and full backward hooks on a single Module (as in PyTorch); "
                               "please use only one of them")
        self.__dict__["_is_full_backward_hook"] = full

    # ------------------------------------------- PyTorch's private registries, as views
    @property
    def _forward_hooks(self) -> _HookView:
        """PyTorch's ``module._forward_hooks``: this module's forward hooks (a live view:
        ``len``, ``values()``, ``clear()``, ``del view[position]``; keyed by position here, by
        handle id in PyTorch)."""
        return _HookView(self, "post")

    @property
    def _forward_pre_hooks(self) -> _HookView:
        return _HookView(self, "pre")

    @property
    def _backward_hooks(self) -> _HookView:
        return _HookView(self, "backward")

    @property
    def _backward_pre_hooks(self) -> _HookView:
        return _HookView(self, "backward_pre")

    @property
    def _non_persistent_buffers_set(self) -> set[str]:
        """PyTorch's name for the buffers ``state_dict`` leaves out (``persistent=False``)."""
        return self.__dict__.setdefault("_non_persistent", set())

    def _get_name(self) -> str:
        """The class name, as PyTorch's ``__repr__`` shows it."""
        return type(self).__name__

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: ``Name(extra)`` on one line; with children or a multi-line
        ``extra_repr``, one line each, indented by two."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m)) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


def _addindent(text: str, spaces: int = 2) -> str:
    """PyTorch's ``_addindent``: every line after the first indented, blank lines left empty."""
    first, *rest = text.split("\n")
    return "\n".join([first, *((" " * spaces + line) if line.strip() else "" for line in rest)])


def _user_line(exc: BaseException) -> str | None:
    """``"train.py:42 in main"``: the innermost line of user code in the traceback of ``exc``
    (a user's ``forward``), else the user's line that called into the package."""
    tb, user = exc.__traceback__, None
    while tb is not None:  # outermost -> innermost: keep the last frame outside the package
        if not _in_package(tb.tb_frame.f_code.co_filename):
            user = tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next
    if user is None:  # all of it ran inside the package (LeNet5.forward): whoever called the model
        f: Any = sys._getframe(2)
        while f is not None and _in_package(f.f_code.co_filename):
            f = f.f_back
        if f is None:
            return None
        user = f, f.f_lineno
    frame, line = user
    return f"{os.path.basename(frame.f_code.co_filename)}:{line} in {frame.f_code.co_name}"


class _ScopePath(str):
    """A module's path (``"features.3"``), which ops recorded in its forward carry as their
    ``scope``, knowing its class: errors raised in backward say ``in module `features.3`
    (Conv2d)`` as forward errors do."""

    cls: str

    def __new__(cls, path: str, module_class: str = "") -> _ScopePath:
        self = super().__new__(cls, path)
        self.cls = module_class
        return self

    def __getnewargs__(self) -> tuple[str, str]:  # (copy and pickle: a model deep-copied)
        return str(self), self.cls


def _name_module(exc: Exception, module: Module) -> None:
    """Say which module an exception came out of: ``(in `features.3` (Conv2d), at train.py:42 in
    main)`` -- once, from the innermost module. An op's error (raised inside tinygrad_cnn, with a
    one-string message) gets it in its message; any other exception as a note (Python 3.11+)."""
    if getattr(exc, "_module_named", False):
        return
    try:
        exc._module_named = True  # type: ignore[attr-defined]
    except AttributeError:  # an exception type with __slots__: leave it alone
        return
    path, cls = module._path, type(module).__name__
    if path is not None and f"`{path}`" in str(exc):  # an anomaly report already names it
        return
    where = f"in `{path}` ({cls})" if path else f"in the model ({cls})"
    line = _user_line(exc)
    note = where + (f", at {line}" if line else "")
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    ours = tb is not None and _in_package(tb.tb_frame.f_code.co_filename)
    if ours and len(exc.args) == 1 and isinstance(exc.args[0], str) and type(exc).__str__ in (
            Exception.__str__, BaseException.__str__):
        exc.args = (f"{exc.args[0]} ({note})",)
    elif hasattr(exc, "add_note"):
        exc.add_note(note)


def _list_index(container: Module, i: Any, items: str) -> int:
    """``i`` as a position in a list-like container of ``len(container)`` ``items``; PyTorch's
    ``operator.index`` (a bool and a 0-d integer tensor count as ints), negatives from the end."""
    n, name = len(container), type(container).__name__
    try:
        i = operator.index(i)
    except TypeError:
        raise TypeError(f"{name}: indices must be integers or slices, not "
                        f"{type(i).__name__}") from None
    if not -n <= i < n:
        raise IndexError(f"{name}: index {i} is out of range for {n} {items}")
    return i % n


def _no_slice_assignment(container: Module, i: Any) -> None:
    """Containers take one item at a time (PyTorch's: a slice assignment is a TypeError)."""
    if isinstance(i, slice):
        raise TypeError(f"{type(container).__name__}: item assignment takes an integer index, not "
                        "a slice; assign one item at a time, or build a new container")


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: modules in order under the keys ``0``, ``1``, ...,
    list indexing, and deletion, extension and ``pop`` that renumber the keys (PyTorch's)."""

    def _check(self, module: Any, item: Any) -> Module:
        """A module to hold, or None (PyTorch's containers hold None as an empty slot, which
        ``children()``, ``parameters()`` and the like skip)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: item {item} is {a_type(module)}, "
                            "not a Module")
        return module

    def _index(self, i: Any) -> int:
        return _list_index(self, i, "modules")

    def _renumber(self, modules: list[Module]) -> None:
        """The modules under the keys ``0``, ``1``, ... (after a deletion or an insertion, named
        keys included, as PyTorch's Sequential does)."""
        for key in self._modules:  # (found through __getattr__ from now on, never stale)
            self.__dict__.pop(key, None)
        self._modules.clear()
        for k, m in enumerate(modules):
            self._modules[str(k)] = m

    def __delitem__(self, i: int | slice) -> None:
        modules = list(self._modules.values())
        del modules[i if isinstance(i, slice) else self._index(i)]
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> Any:
        return self.extend(modules)

    def append(self, module: Module) -> Any:
        self._modules[str(len(self))] = self._check(module, len(self))
        return self

    def extend(self, modules: Iterable[Module]) -> Any:
        if not isinstance(modules, Iterable) or isinstance(modules, Mapping):
            raise TypeError(f"{type(self).__name__}.extend should be called with an iterable of "
                            f"modules, but got {type(modules).__name__}")
        for m in list(modules):  # (a copy: extending by itself)
            self.append(m)
        return self

    def pop(self, i: int | slice) -> Any:
        v = self[i]  # type: ignore[index]
        del self[i]
        return v


class Sequential(_ModuleSequence):
    """Modules applied one after the other; ``Sequential(a, b)`` or ``Sequential(OrderedDict)``."""

    def __init__(self, *layers: Any) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], dict):
            for name, m in layers[0].items():  # (names checked as add_module's: "forward" or
                self._check_new_name("Sequential", name, self._modules)  # "training" would
                self.add_module(name, self._check(m, repr(name)))  # replace the Module's own)
        else:
            for i, m in enumerate(layers):
                self.add_module(str(i), self._check(m, i))

    def forward(self, input: Any) -> Any:
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, i: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(i, slice):
            keys = list(self._modules)[i]
            return Sequential(OrderedDict(zip(keys, modules[i])))
        return modules[self._index(i)]

    def __setitem__(self, i: int, module: Module) -> None:
        _no_slice_assignment(self, i)
        key = list(self._modules)[self._index(i)]
        self._modules[key] = self._check(module, i)
        self.__dict__.pop(key, None)  # (getattr(seq, key) finds the new one)

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise _OperandError(f"Sequential: can only add another Sequential, not "
                                f"{type(other).__name__}")
        return Sequential(*self, *other)

    def _factor(self, other: Any) -> int:
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: 'Sequential' and "
                            f"'{type(other).__name__}'; repeat a Sequential by a positive int: "
                            "seq * 3")
        if other <= 0:
            raise ValueError(f"Sequential: non-positive multiplication factor {other}; repeat a "
                             "Sequential by a positive int: seq * 3")
        return other

    def __mul__(self, other: int) -> Sequential:
        """``seq * n`` (or ``n * seq``): a new Sequential of the same modules ``n`` times over,
        keyed ``0, 1, ...`` -- the same objects, not copies, so they share parameters
        (PyTorch's)."""
        return Sequential(*(list(self) * self._factor(other)))

    def __rmul__(self, other: int) -> Sequential:
        return self.__mul__(other)

    def __imul__(self, other: int) -> Sequential:
        """``seq *= n``: this Sequential's modules appended ``n - 1`` more times (the same
        objects)."""
        modules = list(self)
        for _ in range(self._factor(other) - 1):
            self.extend(modules)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        modules = list(self._modules.values())
        n = len(modules)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or \
                not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} modules")
        if module is None:  # (PyTorch's insert refuses None, which its other methods take)
            raise TypeError("Sequential.insert: module should be a Module, not None")
        modules.insert(int(index) + n if index < 0 else int(index), self._check(module, index))
        self._renumber(modules)
        return self


class ModuleList(_ModuleSequence):
    """A list of modules, registered as ``0``, ``1``, ... (so ``named_parameters`` and
    ``state_dict`` see them). It has no ``forward``: iterate over it in yours."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, i: int | slice) -> Any:
        modules = list(self._modules.values())
        if isinstance(i, slice):
            return ModuleList(modules[i])
        return modules[self._index(i)]

    def __setitem__(self, i: int, module: Module) -> None:
        _no_slice_assignment(self, i)
        key = str(self._index(i))
        self._modules[key] = self._check(module, i)
        self.__dict__.pop(key, None)  # (getattr(modules, key) finds the new one)

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, self._check(module, index))
        self._renumber(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """PyTorch's: a run of children with the same repr is one line,
        ``(0-2): 3 x Linear(in_features=2, out_features=2, bias=True)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return f"{type(self).__name__}()"
        runs: list[list[Any]] = []  # [first index, last index, repr]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [_addindent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}")
                 for a, b, text in runs]
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules, registered under their keys (insertion order)."""

    def __init__(self, modules: Mapping[str, Module] | ModuleDict | Iterable[tuple[str, Module]]
                 | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):  # (PyTorch's classes: TypeError here, KeyError below)
            raise TypeError(f"ModuleDict: keys must be strings (module names), got "
                            f"{type(key).__name__} {key!r}")
        if not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        if module is not None and not isinstance(module, Module):  # (None: PyTorch's too)
            raise TypeError(f"ModuleDict: {key!r} is {a_type(module)}, not a Module")
        self._check_new_name("ModuleDict", key, self._modules)  # (not "keys", "forward", ...)
        self._modules[key] = module

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def keys(self) -> KeysView[str]:  # (live views of _modules, as PyTorch's)
        return self._modules.keys()

    def values(self) -> ValuesView[Module]:
        return self._modules.values()

    def items(self) -> ItemsView[str, Module]:
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | ModuleDict | Iterable[tuple[str, Module]]
               ) -> None:
        """Add (or replace) the entries of a mapping -- a dict, any ``Mapping``, another
        ``ModuleDict`` -- in its order, or of an iterable of ``(key, module)`` pairs (PyTorch's)."""
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleDict.update should be called with an iterable of key/value "
                            f"pairs or a mapping, but got {type(modules).__name__}")
        if isinstance(modules, (Mapping, ModuleDict)):
            pairs: list[Any] = list(modules.items())
        else:
            pairs = list(modules)
            for j, pair in enumerate(pairs):
                if not isinstance(pair, Iterable) or isinstance(pair, (str, Module)):
                    raise TypeError(f"ModuleDict update sequence element #{j} should be a "
                                    f"(key, module) pair, got {a_type(pair)}")
                pairs[j] = pair = tuple(pair)
                if len(pair) != 2:
                    raise ValueError(f"ModuleDict update sequence element #{j} has length "
                                     f"{len(pair)}; 2 is required (a (key, module) pair)")
        for key, m in pairs:
            self[key] = m

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()


def _as_parameter(value: Any) -> Any:
    """What ParameterList and ParameterDict store: a plain tensor becomes a Parameter (as in
    PyTorch); a Parameter or any other object is kept as it is."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _parameters_repr(items: Iterable[tuple[Any, Any]]) -> str:
    """PyTorch's extra_repr of ParameterList/ParameterDict: one line per entry."""
    lines = []
    for key, value in items:
        if isinstance(value, Tensor):
            size = "x".join(str(s) for s in value.shape)
            device = f" ({value.device})" if value.device != "cpu" else ""
            kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
            lines.append(f"  ({key}): {kind} containing: [{value.dtype} of size {size}{device}]")
        else:
            lines.append(f"  ({key}): Object of type: {type(value).__name__}")
    return "\n".join(lines)


class ParameterList(Module):
    """A list of parameters, registered as ``0``, ``1``, ... (so ``parameters()``,
    ``state_dict`` and optimizers see them); a plain tensor put in becomes a ``Parameter``, any
    other object is kept as a plain attribute (PyTorch's rules)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _index(self, i: Any) -> int:
        return _list_index(self, i, "entries")

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return ParameterList([self[k] for k in range(len(self))[i]])
        return getattr(self, str(self._index(i)))

    def __setitem__(self, i: int, value: Any) -> None:
        _no_slice_assignment(self, i)
        setattr(self, str(self._index(i)), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return iter([self[k] for k in range(len(self))])

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for v in list(values):  # (a copy: extending by itself)
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return _parameters_repr(enumerate(self))


class ParameterDict(Module):
    """An ordered dict of parameters, registered under their (string) keys; a plain tensor put in
    becomes a ``Parameter``. ``update`` and the constructor take a mapping (a plain dict in sorted
    key order, an ``OrderedDict`` or ``ParameterDict`` in its own, as PyTorch) or ``(key, value)``
    pairs."""

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def _key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__} "
                            f"({key!r})")
        return key

    def _existing(self, key: Any) -> str:
        if self._key(key) not in self._keys:
            raise _NoKeyError(f"ParameterDict has no key {key!r} (its keys: {list(self._keys)})")
        return key

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self._existing(key))

    def __setitem__(self, key: str, value: Any) -> None:
        self._key(key)
        if not key or "." in key:
            raise KeyError(f"ParameterDict: the key {key!r} must be non-empty and contain no '.' "
                           "(it is the parameter's name in state_dict)")
        if key not in self._keys and (hasattr(type(self), key) or key in self.__dict__):
            raise KeyError(f"ParameterDict: the key {key!r} is already an attribute of the "
                           "ParameterDict (a method or its state); choose another key")
        setattr(self, key, _as_parameter(value))
        self._keys[key] = None

    def __delitem__(self, key: str) -> None:
        del self._keys[self._existing(key)]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __or__(self, other: Any) -> ParameterDict:
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other: Any) -> ParameterDict:
        out = ParameterDict(other)
        out.update(self)
        return out

    def __ior__(self, other: Any) -> ParameterDict:
        self.update(other)
        return self

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    @classmethod
    def fromkeys(cls, keys: Iterable[str], default: Any = None) -> ParameterDict:
        return cls(OrderedDict((k, default) for k in keys))

    def keys(self) -> KeysView[str]:
        return self._keys.keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter([(k, self[k]) for k in self._keys])

    def values(self) -> Iterator[Any]:
        return iter([self[k] for k in self._keys])

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        if not self._keys:
            raise KeyError("ParameterDict.popitem: the dict is empty")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def update(self, parameters: Any) -> None:
        if not isinstance(parameters, Iterable):
            raise TypeError(f"ParameterDict.update should be called with an iterable of key/value "
                            f"pairs, but got {type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs: list[Any] = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items(), key=lambda kv: kv[0])
        else:
            pairs = list(parameters)
            for j, pair in enumerate(pairs):
                if isinstance(pair, Iterable) and not isinstance(pair, (str, Tensor)):
                    pairs[j] = pair = tuple(pair)
                if not isinstance(pair, tuple) or len(pair) != 2:
                    raise ValueError(f"ParameterDict.update: element #{j} of the sequence should "
                                     f"be a (key, value) pair, got {pair!r}")
        for key, value in pairs:
            self[key] = value

    def extra_repr(self) -> str:
        return _parameters_repr(self.items())


def _sharing(arr: Any) -> Tensor:
    """A tensor over ``arr``'s memory where it can share it (a writable native numpy array whose
    elements each have memory of their own: a PyTorch CPU tensor's), else over a copy (an
    ``expand``ed tensor's repeated rows would take one optimizer update for all)."""
    if isinstance(arr, np.ndarray) and arr.dtype.isnative and arr.flags.writeable and \
            not _overlaps(arr):
        from tinygrad_cnn.interop import from_numpy

        return from_numpy(arr)
    return Tensor(arr)


def _overlaps(arr: np.ndarray) -> bool:
    """Whether two elements of ``arr`` share memory (a 0 stride, or strides that interleave)."""
    dims = sorted((abs(st), n) for st, n in zip(arr.strides, arr.shape) if n > 1)
    extent = arr.itemsize  # bytes spanned by the dims with the smaller strides
    for stride, n in dims:
        if stride < extent:
            return True
        extent = stride * (n - 1) + extent
    return False


def _foreign_array(v: Any) -> Any:
    """A state_dict value as an array: ours, a numpy array, or another library's tensor (a
    PyTorch Parameter that requires grad, on any device, bfloat16 widened to float32)."""
    if isinstance(v, Tensor):
        return v._data
    if type(v).__module__.split(".")[0] == "torch":
        v = v.detach().cpu()
        if str(v.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            v = v.float()
        arr = v.numpy()
    elif isinstance(v, (list, tuple)) or type(v) in (int, float, bool, complex):  # (numpy's
        # scalars load, as its arrays do: np.float64 is a float too)
        # (PyTorch's load wants a tensor: a list or a number here is mostly a checkpoint that
        # went through JSON or .tolist(), its dtype and shape guessed back)
        raise TypeError(f"expected a tensor or a numeric array in the state_dict, got a "
                        f"{type(v).__name__} ({v!r:.40}); convert it with tinygrad_cnn.tensor(...) "
                        "if that is what is meant")
    else:
        arr = np.asarray(v)
    if arr.dtype.kind == "c":  # (PyTorch drops the imaginary part with a warning)
        raise TypeError(f"a complex {type(v).__name__} of dtype {arr.dtype}: complex values are "
                        "not supported; load its .real (or .abs()) if that is what is meant")
    if arr.dtype.kind not in "biuf":  # None, a string, objects: PyTorch wants a tensor there
        raise TypeError(f"expected a tensor or a numeric array in the state_dict, got a "
                        f"{type(v).__name__} ({v!r:.40})")
    return arr
