"""``functional_call``: call a module with some of its parameters and buffers replaced by given
tensors, for that call only -- PyTorch's ``torch.func.functional_call`` (and its older place,
``nn.utils.stateless``). MAML's inner loop is its common use: the adapted weights are tensors
computed from the parameters (``w - lr * grad`` with ``create_graph=True``), and the module runs
on them without being changed, so the outer loss differentiates through the adaptation.

The tensors are put into the modules' registries (``_parameters``, ``_buffers``) for the call and
the originals put back afterwards, also when the call raises. Tied weights (one Parameter under
two names, ``lm_head.weight = wte.weight``) stay tied: a value given for one name is used for all
of them (``tie_weights=False``: for that name only)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tinygrad_cnn.tensor import Tensor

__all__ = ["functional_call"]


Values = Mapping[str, Tensor]


def functional_call(module: Any, parameter_and_buffer_dicts: Values | Sequence[Values],
                    args: Any = None, kwargs: dict[str, Any] | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the parameters and buffers named in
    ``parameter_and_buffer_dicts`` (a dict, or several with no name in two) replaced by the
    given tensors for this call. ``args`` that is not a tuple is the one argument. ``strict``:
    every parameter and buffer must be given and no other name (a RuntimeError listing them)."""
    from tinygrad_cnn.nn.module import Module

    if not isinstance(module, Module):
        raise TypeError(f"functional_call: expected an nn.Module, got {type(module).__name__}")
    dicts = [parameter_and_buffer_dicts] if isinstance(parameter_and_buffer_dicts, Mapping) \
        else list(parameter_and_buffer_dicts)
    values: dict[str, Any] = {}
    for d in dicts:
        if not isinstance(d, Mapping):
            raise TypeError(f"functional_call: expected a dict of tensors (or a sequence of "
                            f"dicts), got {type(d).__name__}")
        twice = sorted(set(values) & set(d))
        if twice:
            raise ValueError(f"{twice} appeared in multiple dictionaries; behavior of functional "
                             "call is ambiguous")
        values.update(d)
    names = _named_tensors(module)  # name -> the tensor registered there (tied ones repeat)
    if tie_weights:
        values = _tied(names, values)
    if strict:
        missing = [n for n in names if n not in values]
        unexpected = [n for n in values if n not in names]
        if missing or unexpected:
            lines = []
            if unexpected:
                lines.append("Unexpected key(s): " + ", ".join(repr(n) for n in unexpected) + ".")
            if missing:
                lines.append("Missing key(s): " + ", ".join(repr(n) for n in missing) + ".")
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(lines))
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    undo: list[tuple[Any, str, str | None, Any]] = []
    try:
        for name, value in values.items():
            owner, attr = _owner(module, name)
            _replaceable(owner, attr, name, value)
            for registry in ("_parameters", "_buffers"):
                table = owner.__dict__[registry]
                if attr in table:
                    undo.append((owner, attr, registry, table[attr]))
                    table[attr] = value
                    break
            else:  # (a name of neither: an attribute for the call, as PyTorch's)
                had = attr in owner.__dict__
                undo.append((owner, attr, None, owner.__dict__.get(attr) if had else _ABSENT))
                object.__setattr__(owner, attr, value)
        return module(*args, **(kwargs or {}))
    finally:
        for owner, attr, registry, old in reversed(undo):
            if registry is not None:
                owner.__dict__[registry][attr] = old
            elif old is _ABSENT:
                owner.__dict__.pop(attr, None)
            else:
                object.__setattr__(owner, attr, old)


_ABSENT = object()


def _named_tensors(module: Any) -> dict[str, Any]:
    """Every parameter and buffer by its dotted name, a tied one under each of its names."""
    found: dict[str, Any] = {}
    stack = [("", module)]
    while stack:
        prefix, m = stack.pop()
        for registry in ("_parameters", "_buffers"):
            for name, t in m.__dict__[registry].items():
                if t is not None:
                    found[prefix + name] = t
        for name, child in reversed(m.__dict__["_modules"].items()):
            if child is not None:
                stack.append((f"{prefix}{name}.", child))
    return found


def _tied(names: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with each given tensor also under the other names of the tensor it replaces."""
    groups: dict[int, list[str]] = {}
    for name, t in names.items():
        groups.setdefault(id(t), []).append(name)
    out = dict(values)
    for group in groups.values():
        given = [n for n in group if n in values]
        if len(group) < 2 or not given:
            continue
        if len(given) > 1 and any(values[n] is not values[given[0]] for n in given[1:]):
            raise ValueError(f"functional_call got multiple values for keys {sorted(given)}, which "
                             "are tied. Consider using tie_weights=False")
        for n in group:
            out.setdefault(n, values[given[0]])
    return out


def _replaceable(owner: Any, attr: str, name: str, value: Any) -> None:
    """PyTorch's checks of one replacement: a tensor, for a parameter, a buffer or a new name --
    not a submodule, a method or another attribute (``training``)."""
    if not isinstance(value, Tensor):
        raise TypeError(f"functional_call: the value for {name!r} must be a Tensor, got "
                        f"{type(value).__name__} (wrap it: tinygrad_cnn.tensor(...))")
    if not attr:
        raise KeyError(f"functional_call: an empty name in the dict ({name!r})")
    if attr in owner.__dict__["_parameters"] or attr in owner.__dict__["_buffers"]:
        return
    if attr in owner.__dict__["_modules"]:
        raise TypeError(f"functional_call: {name!r} names a submodule of "
                        f"{type(owner).__name__}, not a parameter or buffer; name its tensors "
                        f"({name}.weight, ...)")
    if hasattr(owner, attr) and not isinstance(getattr(owner, attr), Tensor):
        raise TypeError(f"functional_call: attribute {attr!r} of {type(owner).__name__} "
                        f"({name!r}) is {type(getattr(owner, attr)).__name__}, not a Tensor: only "
                        "parameters, buffers and tensor attributes can be replaced")


def _owner(module: Any, name: str) -> tuple[Any, str]:
    """The submodule holding the dotted ``name``, and its last part."""
    *path, attr = name.split(".")
    owner = module
    for i, part in enumerate(path):
        child = owner.__dict__["_modules"].get(part)
        if child is None:
            raise AttributeError(f"functional_call: {type(owner).__name__} has no submodule "
                                 f"{part!r} (the name {name!r}: {'.'.join(path[:i + 1])} is not a "
                                 "module)")
        owner = child
    return owner, attr
