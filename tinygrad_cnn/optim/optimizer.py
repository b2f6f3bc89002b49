"""The base class of the optimizers, ``Optimizer`` (PyTorch's ``torch.optim.optimizer``): parameter
groups, the step loop over parameters with gradients, ``state_dict`` / ``load_state_dict``."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.backend import array_module, to_device
from tinygrad_cnn.nn.module import _foreign_array, zero_grads
from tinygrad_cnn.tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer:
    """Holds parameter groups (each a dict with ``"params"`` and its hyper-parameters) and a state
    per parameter; subclasses write ``_update(p, grad, group, state)``."""

    defaults: dict[str, Any]
    # state entries that are numbers, not arrays of the parameter's shape (PyTorch saves both as
    # tensors, and for a 0-d parameter only the name tells them apart)
    _scalar_state: frozenset[str] = frozenset({"step"})

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        name = type(self).__name__
        if isinstance(params, Tensor):
            params = [params]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be an ordered collection (a list), not a "
                            "set, whose order changes from run to run")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (the others from the constructor's)."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict with 'params', got "
                            f"{type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be an ordered collection (a list), not a "
                            "set")
        params = [params] if isinstance(params, Tensor) else list(params)
        index = len(self.param_groups)
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
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Validate one group's options (subclasses)."""

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self._params(), set_to_none)

    def step(self, closure: Any = None) -> Any:
        """One update of every parameter that has a gradient; ``closure`` (re-evaluating the loss)
        is called first when given, and its result returned."""
        loss = closure() if closure is not None else None
        # (a diverging run overflows to inf and NaN as PyTorch's does, without numpy's warnings)
        with np.errstate(all="ignore"):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad._data
                    if group.get("maximize"):
                        g = -g
                    state = self.state.setdefault(p, {})
                    if p._data.ndim == 0:
                        _update_0d(self, p, g, group, state)
                    else:
                        self._update(p, g, group, state)
                    p._version_counter[0] += 1  # in place, like any optimizer step
        return loss

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``; parameters
        are numbered in group order, as in PyTorch."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[id(p)]: {k: self._export_state(v) for k, v in s.items()}
                 for p, s in self.state.items()}
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved optimizer has "
                             "different parameter groups than this one")
        params = self._params()
        for saved, group in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if k in ("betas", "etas", "step_sizes") else v
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            self.state[p] = {k: self._import_state(int(i), p, k, v) for k, v in s.items()}

    @staticmethod
    def _export_state(v: Any) -> Any:
        """One state value as ``state_dict`` gives it: arrays as tensors (copies), numbers as
        they are."""
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
        return value

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


def _update_0d(opt: Optimizer, p: Tensor, g: Any, group: dict[str, Any],
               state: dict[str, Any]) -> None:
    """The update of a 0-d parameter, on 1-element views of it, its gradient and its state: numpy
    turns arithmetic on 0-d arrays into scalars, which in-place updates of a state buffer would
    silently not reach (a momentum buffer that never moved)."""
    data = p._data
    for k, v in state.items():
        if getattr(v, "shape", None) == ():
            state[k] = v.reshape(1)
    p._data = data.reshape(1)  # a view: the update writes into the parameter's memory
    try:
        opt._update(p, array_module(g).asarray(g).reshape(1), group, state)
    finally:
        p._data = data
        for k, v in state.items():
            if getattr(v, "shape", None) == (1,):
                state[k] = v.reshape(())
