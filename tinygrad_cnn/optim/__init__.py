"""Optimizers with PyTorch's update rules, hyper-parameters, defaults and state names: ``SGD``
(momentum, dampening, weight decay, Nesterov), ``Adam`` and ``AdamW`` (``amsgrad``), ``RMSprop``
(momentum, centered), ``Adagrad``, ``Adamax``, ``NAdam`` and ``RAdam``; ``Adadelta``, ``Rprop`` and
``ASGD`` (their own modules); ``LBFGS`` (closure-based, one parameter group, optional strong-Wolfe
line search). ``lr_scheduler`` holds the learning-rate schedules.

Every hyper-parameter is per parameter group (``[{"params": [...], "lr": 0.1}, {...}]``; missing
options come from the constructor's); ``add_param_group`` adds one later. A parameter may belong
to one group once only. ``maximize=True`` ascends instead of descending.

A step updates the parameters' arrays in place outside the graph (the ``no_grad`` of PyTorch) and
bumps their version counters, so a backward through a graph that saved the old values raises.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_cnn.backend import array_module, to_device
from tinygrad_cnn.nn.module import _foreign_array, zero_grads
from tinygrad_cnn.tensor import Tensor

__all__ = ["ASGD", "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam",
           "Optimizer", "RAdam", "RMSprop", "Rprop", "lr_scheduler"]


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


def _check(name: str, **values: float) -> None:
    for what, v in values.items():
        if not v >= 0:
            raise ValueError(f"{name}: {what} must be >= 0, got {v}")


def _invalid(name: str, what: str, value: Any, rule: str) -> ValueError:
    """PyTorch's ``Invalid <what>: <value>`` message, with the optimizer's name and the rule."""
    return ValueError(f"{name}: Invalid {what}: {value} ({rule})")


def _check_implementation(name: str, capturable: bool, differentiable: bool) -> None:
    """PyTorch's implementation switches: ``foreach`` and ``capturable`` choose kernels and CUDA
    graph capture, not numbers, so they are accepted and ignored; ``differentiable=True`` asks for
    a step that autograd records, which these in-place steps cannot be."""
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True (a step autograd records) is not "
                                  "supported; the step updates parameters outside the graph")


def _check_betas(name: str, betas: Any) -> None:
    if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
        raise ValueError(f"{name}: betas must be in [0, 1), got {tuple(betas)}")


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


def _decay(p: Tensor, g: Any, group: dict[str, Any], decoupled: bool = False) -> Any:
    """The gradient with L2 weight decay added (``g + weight_decay * p``); or, ``decoupled``
    (AdamW's way), the gradient as it is and ``p *= 1 - lr * weight_decay`` done here."""
    wd = group["weight_decay"]
    if wd and decoupled:
        p._data *= 1 - group["lr"] * wd
        return g
    return g + wd * p._data if wd else g


def _adam_moments(p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any],
                  **extra: Any) -> tuple[Any, Any, int]:
    """The Adam family's moving averages ``m`` of ``g`` and ``v`` of ``g²``, updated in place
    (made at the first step, with ``extra`` state), and the step count after this one."""
    xp = array_module(g)
    b1, b2 = group["betas"]
    if not state:
        state.update(step=0, exp_avg=xp.zeros_like(p._data), exp_avg_sq=xp.zeros_like(p._data),
                     **extra)
    state["step"] += 1
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m += (1 - b1) * (g - m)
    v *= b2
    v += (1 - b2) * g * g
    return m, v, state["step"]


class SGD(Optimizer):
    """``buf = momentum * buf + (1 - dampening) * g`` (``buf = g`` at the first step);
    ``p -= lr * (g + momentum * buf if nesterov else buf)``; ``g`` includes ``weight_decay * p``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _check_implementation("SGD", False, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("SGD", lr=group["lr"], momentum=group["momentum"],
               weight_decay=group["weight_decay"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        g = _decay(p, g, group)
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                dampening = group["dampening"]
                buf += (1 - dampening) * g if dampening else g  # (1.0 * g is g: no temporary)
            g = g + momentum * buf if group["nesterov"] else buf
        p._data -= group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's formulation: ``m``, ``v`` moving averages of ``g`` and ``g²``,
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``; ``amsgrad`` uses the largest
    ``v`` so far. ``weight_decay`` adds ``wd * p`` to the gradient (L2), unlike :class:`AdamW`."""

    decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check_implementation("Adam", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))
        if decoupled_weight_decay:  # PyTorch 2.13's Adam(decoupled_weight_decay=True) is AdamW
            self.decoupled = True

    def _check_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        _check(name, lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"])
        _check_betas(name, group["betas"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        g = _decay(p, g, group, self.decoupled)
        extra = {"max_exp_avg_sq": xp.zeros_like(p._data)} if group["amsgrad"] and not state else {}
        m, v, t = _adam_moments(p, g, group, state, **extra)
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = xp.sqrt(v) / math.sqrt(1 - b2**t) + eps
        p._data -= lr / (1 - b1**t) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step."""

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_implementation("AdamW", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class RMSprop(Optimizer):
    """``v = alpha v + (1 - alpha) g²``; with ``centered`` the variance ``v - mean(g)²`` instead;
    ``p -= lr g / (sqrt(v) + eps)``, or through a momentum buffer
    ``buf = momentum buf + g / (sqrt(v) + eps)``, ``p -= lr buf``."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False,
                 capturable: bool = False, foreach: bool | None = None, differentiable: bool = False) -> None:
        _check_implementation("RMSprop", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("RMSprop", lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
               weight_decay=group["weight_decay"], momentum=group["momentum"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        g = _decay(p, g, group)
        alpha, eps, momentum = group["alpha"], group["eps"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p._data)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(p._data)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p._data)
        state["step"] += 1
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g
        if group["centered"]:
            mean = state["grad_avg"]
            mean += (1 - alpha) * (g - mean)
            avg = xp.sqrt(v - mean * mean) + eps
        else:
            avg = xp.sqrt(v) + eps
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += g / avg
            p._data -= group["lr"] * buf
        else:
            p._data -= group["lr"] * (g / avg)


class Adagrad(Optimizer):
    """``s += g²``; ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)``; ``s`` starts at
    ``initial_accumulator_value`` -- the group's own where a group sets one (PyTorch 2.13 starts
    every parameter given to the constructor at the constructor's value, ignoring the group's)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _check_implementation("Adagrad", False, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("Adagrad", lr=group["lr"], lr_decay=group["lr_decay"], eps=group["eps"],
               weight_decay=group["weight_decay"],
               initial_accumulator_value=group["initial_accumulator_value"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p._data, group["initial_accumulator_value"])
        state["step"] += 1
        g = _decay(p, g, group)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        p._data -= clr * (g / (xp.sqrt(state["sum"]) + group["eps"]))


class Adamax(Optimizer):
    """Adam with the infinity norm: ``m`` as Adam's, ``u = max(b2 u, |g| + eps)``,
    ``p -= lr / (1 - b1^t) * m / u``."""

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, capturable: bool = False) -> None:
        _check_implementation("Adamax", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("Adamax", lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"])
        _check_betas("Adamax", group["betas"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        (b1, b2), eps = group["betas"], group["eps"]
        g = _decay(p, g, group)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p._data)
            state["exp_inf"] = xp.zeros_like(p._data)
        state["step"] += 1
        m, u = state["exp_avg"], state["exp_inf"]
        m += (1 - b1) * (g - m)
        u *= b2
        xp.maximum(u, xp.abs(g) + eps, out=u)
        p._data -= group["lr"] / (1 - b1 ** state["step"]) * (m / u)


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat), PyTorch's form: momentum ``mu_t = b1 (1 - 0.96^(t
    momentum_decay) / 2)`` and the product of all ``mu`` so far (state ``mu_product``);
    ``p -= lr ((1 - mu_t) / (1 - Πmu) g + mu_{t+1} / (1 - Πmu mu_{t+1}) m) / (sqrt(v / (1 -
    b2^t)) + eps)``. ``decoupled_weight_decay`` decays like AdamW."""

    _scalar_state = frozenset({"step", "mu_product"})

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _check_implementation("NAdam", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("NAdam", lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"],
               momentum_decay=group["momentum_decay"])
        _check_betas("NAdam", group["betas"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        g = _decay(p, g, group, group["decoupled_weight_decay"])
        m, v, t = _adam_moments(p, g, group, state, mu_product=1.0)
        md = group["momentum_decay"]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * md))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        denom = xp.sqrt(v / (1 - b2**t)) + eps
        p._data -= lr * (1.0 - mu) / (1.0 - mu_product) * (g / denom)
        p._data -= lr * mu_next / (1.0 - mu_product * mu_next) * (m / denom)


class RAdam(Optimizer):
    """Rectified Adam (Liu et al.): Adam's step scaled by the rectification ``r_t`` once the
    variance estimate is trustworthy (``rho_t > 5``), plain momentum SGD ``p -= lr m̂`` before.
    ``decoupled_weight_decay`` decays like AdamW."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _check_implementation("RAdam", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("RAdam", lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"])
        _check_betas("RAdam", group["betas"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        g = _decay(p, g, group, group["decoupled_weight_decay"])
        m, v, t = _adam_moments(p, g, group, state)
        bias_correction2 = 1 - b2**t
        m_hat = m / (1 - b1**t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * (b2**t) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                             ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = math.sqrt(bias_correction2) / (xp.sqrt(v) + eps)
            p._data -= m_hat * lr * adaptive * rect
        else:
            p._data -= m_hat * lr


from tinygrad_cnn.optim import lr_scheduler  # noqa: E402  (uses Optimizer)
from tinygrad_cnn.optim.adadelta import Adadelta  # noqa: E402
from tinygrad_cnn.optim.asgd import ASGD  # noqa: E402
from tinygrad_cnn.optim.lbfgs import LBFGS  # noqa: E402
from tinygrad_cnn.optim.rprop import Rprop  # noqa: E402
