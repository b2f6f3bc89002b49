"""Optimizers with PyTorch's update rules: ``SGD`` (momentum, dampening, weight decay, Nesterov),
``Adam`` and ``AdamW``. ``lr_scheduler`` holds ``StepLR`` and ``CosineAnnealingLR``.

A step updates the parameters' arrays in place outside the graph (the ``no_grad`` of PyTorch) and
bumps their version counters, so a backward through a graph that saved the old values raises.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from tinygrad_cnn.backend import array_module, to_device
from tinygrad_cnn.nn.module import zero_grads
from tinygrad_cnn.tensor import Tensor

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler"]


class Optimizer:
    """Holds parameter groups (each a dict with ``"params"`` and its hyper-parameters) and a state
    per parameter."""

    defaults: dict[str, Any]

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        self.param_groups: list[dict[str, Any]] = []
        for g in groups:
            group = {**defaults, **g, "params": list(g["params"])}
            for p in group["params"]:
                if not isinstance(p, Tensor) or not p.requires_grad:
                    raise ValueError(f"{type(self).__name__}: every parameter must be a Tensor "
                                     "that requires grad")
            self.param_groups.append(group)
        self.state: dict[Tensor, dict[str, Any]] = {}

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        zero_grads(self._params(), set_to_none)

    def step(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                self._update(p, p.grad.data, group, self.state.setdefault(p, {}))
                p._version_counter[0] += 1  # in place, like any optimizer step

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [indices]}]}``; parameters
        are numbered in group order, as in PyTorch."""
        index = {id(p): i for i, p in enumerate(self._params())}
        state = {index[id(p)]: {k: (Tensor._make(v.copy()) if hasattr(v, "shape") else v)
                                for k, v in s.items()}
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
                    group[k] = v
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            entry = {}
            for k, v in s.items():
                if isinstance(v, Tensor) or (hasattr(v, "shape") and getattr(v, "ndim", 0) > 0):
                    arr = v.data if isinstance(v, Tensor) else v
                    if tuple(arr.shape) != p.shape:
                        raise ValueError(f"{type(self).__name__}.load_state_dict: state {k!r} of "
                                         f"parameter {i} has shape {tuple(arr.shape)}, the "
                                         f"parameter {p.shape}")
                    entry[k] = to_device(arr, p.device).astype(p.dtype, copy=True)
                else:
                    entry[k] = v.item() if hasattr(v, "item") else v
            self.state[p] = entry


class SGD(Optimizer):
    """``buf = momentum * buf + (1 - dampening) * g`` (``buf = g`` at the first step);
    ``p -= lr * (g + momentum * buf if nesterov else buf)``; ``g`` includes ``weight_decay * p``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False) -> None:
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0, got {lr}, "
                             f"{momentum}, {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        wd, momentum = group["weight_decay"], group["momentum"]
        if wd:
            g = g + wd * p.data
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += (1 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p.data -= group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's formulation: ``m``, ``v`` moving averages of ``g`` and ``g²``,
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``. ``weight_decay`` adds
    ``wd * p`` to the gradient (L2), unlike :class:`AdamW`."""

    decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: invalid lr={lr}, betas={betas} or eps={eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd:
            if self.decoupled:
                p.data *= 1 - lr * wd
            else:
                g = g + wd * p.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        step_size = lr / (1 - b1**t)
        denom = xp.sqrt(v) / math.sqrt(1 - b2**t) + eps
        p.data -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step."""

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


from tinygrad_cnn.optim import lr_scheduler  # noqa: E402  (uses Optimizer)
