"""Optimizers with PyTorch's update rules, hyper-parameters, defaults and state names: ``SGD``
(momentum, dampening, weight decay, Nesterov), ``Adam`` and ``AdamW`` (``amsgrad``), ``RMSprop``
(momentum, centered), ``Adagrad``, ``Adamax``, ``NAdam`` and ``RAdam``; ``Adadelta``, ``Rprop`` and
``ASGD`` (their own modules); ``LBFGS`` (closure-based, one parameter group, optional strong-Wolfe
line search). ``lr_scheduler`` holds the learning-rate schedules.

Every hyper-parameter is per parameter group (``[{"params": [...], "lr": 0.1}, {...}]``; missing
options come from the constructor's); ``add_param_group`` adds one later. A parameter may belong
to one group once only. ``maximize=True`` ascends instead of descending. ``params`` (or a group's)
may be ``model.named_parameters()``: the groups then keep ``param_names``, which ``state_dict``
saves (PyTorch >= 2.6). The base class, its hooks (``register_step_pre_hook``, ...) and the global
step hooks are in ``optimizer.py``.

A step updates the parameters' arrays in place outside the graph (the ``no_grad`` of PyTorch) and
bumps their version counters, so a backward through a graph that saved the old values raises.
``optimizer.state[p]`` holds tensors under PyTorch's names (``step`` a 0-d float32 tensor), and
every update is computed in PyTorch's order, and rounded as PyTorch's is in float16 (in float32
and float64 a multiply-add PyTorch fuses rounds twice here: ``_inplace.py``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from tinygrad_cnn._scalars import check_numbers, described
from tinygrad_cnn.backend import _caller_outside, array_module
from tinygrad_cnn.optim import _inplace as ip
from tinygrad_cnn.optim.optimizer import SETSTATE_BASE, SETSTATE_CAPTURABLE, Optimizer
from tinygrad_cnn.tensor import Tensor

__all__ = ["ASGD", "LBFGS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam",
           "Optimizer", "RAdam", "RMSprop", "Rprop", "lr_scheduler", "swa_utils"]


def _check(name: str, **values: float) -> None:
    for what, v in values.items():
        if not v >= 0:
            raise ValueError(f"{name}: {what} must be >= 0, got {v}")


def _invalid(name: str, what: str, value: Any, rule: str) -> ValueError:
    """PyTorch's ``Invalid <what>: <value>`` message, with the optimizer's name and the rule."""
    return ValueError(f"{name}: Invalid {what}: {value} ({rule})")


def _check_implementation(name: str, capturable: bool, differentiable: bool,
                          foreach: Any = None, fused: Any = None) -> None:
    """PyTorch's implementation switches: ``foreach`` and ``capturable`` choose kernels and CUDA
    graph capture, not numbers, so they are accepted and ignored (``fused`` and ``foreach`` both
    True is PyTorch's error); ``differentiable=True`` asks for a step that autograd records,
    which these in-place steps cannot be."""
    if fused and foreach:
        raise RuntimeError(f"{name}: `fused` and `foreach` cannot be `True` together (as in "
                           "PyTorch); pass one of them")
    if differentiable:
        raise NotImplementedError(f"{name}: differentiable=True (a step autograd records) is not "
                                  "supported; the step updates parameters outside the graph")


def _pair(name: str, what: str, value: Any) -> tuple[Any, ...]:
    """``betas``/``etas``/``step_sizes`` as a tuple (its entries are checked with the group's)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{name}: {what} must be a tuple of 2 numbers, got {described(value)}")
    return tuple(value)


def _check_betas(name: str, betas: Any) -> None:
    if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
        raise ValueError(f"{name}: betas must be in [0, 1), got {tuple(betas)}")


def _decay(p: Tensor, g: Any, group: dict[str, Any], decoupled: bool = False) -> Any:
    """The gradient with L2 weight decay added (``g + weight_decay * p``); or, ``decoupled``
    (AdamW's way), the gradient as it is and ``p *= 1 - lr * weight_decay`` done here."""
    wd = group["weight_decay"]
    if wd and decoupled:
        ip.mul_(p._data, 1 - group["lr"] * wd)
        return g
    return ip.add(g, p._data, wd) if wd else g


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
    ip.lerp_(m, g, 1 - b1)
    ip.addcmul_(ip.mul_(v, b2), g, g, 1 - b2)
    return m, v, state["step"]


class SGD(Optimizer):
    """``buf = momentum * buf + (1 - dampening) * g`` (``buf = g`` at the first step);
    ``p -= lr * (g + momentum * buf if nesterov else buf)``; ``g`` includes ``weight_decay * p``."""

    _setstate_defaults: ClassVar[dict[str, Any]] = {**SETSTATE_BASE, "fused": False, "nesterov": False}

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        _check_implementation("SGD", False, differentiable, foreach, fused)
        # (the defaults only, as PyTorch's: a group that sets momentum=0 runs plain SGD, one
        # with dampening runs Nesterov's update with it)
        if nesterov:
            check_numbers("SGD", "one", momentum=momentum, dampening=dampening)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum needs momentum > 0 and dampening = 0 (got "
                             f"momentum={momentum}, dampening={dampening}): pass momentum=0.9, "
                             "or nesterov=False")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("SGD", lr=group["lr"], momentum=group["momentum"],
               weight_decay=group["weight_decay"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        g = _decay(p, g, group)
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy(order="K")  # (laid out as g: torch's clone)
            else:
                ip.add_(ip.mul_(buf, momentum), g, 1 - group["dampening"])
            g = ip.add(g, buf, momentum) if group["nesterov"] else buf
        ip.add_(p._data, g, -group["lr"])


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's formulation: ``m``, ``v`` moving averages of ``g`` and ``g²``,
    ``p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``; ``amsgrad`` uses the largest
    ``v`` so far. ``weight_decay`` adds ``wd * p`` to the gradient (L2), or with
    ``decoupled_weight_decay`` (a per-group option, as PyTorch 2.13's) decays as :class:`AdamW`.
    A loaded state dict's group without the option is coupled (PyTorch's)."""

    _setstate_defaults: ClassVar[dict[str, Any]] = {
        **SETSTATE_CAPTURABLE, "amsgrad": False, "decoupled_weight_decay": False, "fused": None}

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check_implementation("Adam", capturable, differentiable, foreach, fused)
        super().__init__(params, dict(lr=lr, betas=_pair("Adam", "betas", betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable,
                                      fused=fused,
                                      decoupled_weight_decay=bool(decoupled_weight_decay)))

    def _load_group(self, saved: dict[str, Any], group: dict[str, Any]) -> None:
        # a saved group without the option (an older PyTorch's) is coupled, as PyTorch's Adam
        group["decoupled_weight_decay"] = bool(saved.get("decoupled_weight_decay", False))

    def _check_group(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        _check(name, lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"])
        _check_betas(name, group["betas"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        g = _decay(p, g, group, bool(group["decoupled_weight_decay"]))
        extra = {"max_exp_avg_sq": xp.zeros_like(p._data)} if group["amsgrad"] and not state else {}
        m, v, t = _adam_moments(p, g, group, state, **extra)
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = ip.add_(ip.div(xp.sqrt(v), math.sqrt(1 - b2**t)), eps)
        ip.addcdiv_(p._data, m, denom, -lr / (1 - b1**t))


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * weight_decay`` before the Adam step
    (``Adam(decoupled_weight_decay=True)``; its groups carry ``decoupled_weight_decay=True``, and
    ``load_state_dict`` sets it to ``True`` in every group, as PyTorch's AdamW does)."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_implementation("AdamW", capturable, differentiable, foreach, fused)
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         foreach=foreach, capturable=capturable, fused=fused,
                         decoupled_weight_decay=True)

    def _load_group(self, saved: dict[str, Any], group: dict[str, Any]) -> None:
        group["decoupled_weight_decay"] = True  # (every loaded group, as PyTorch's AdamW)


class RMSprop(Optimizer):
    """``v = alpha v + (1 - alpha) g²``; with ``centered`` the variance ``v - mean(g)²`` instead;
    ``p -= lr g / (sqrt(v) + eps)``, or through a momentum buffer
    ``buf = momentum buf + g / (sqrt(v) + eps)``, ``p -= lr buf``."""

    _setstate_defaults: ClassVar[dict[str, Any]] = {**SETSTATE_CAPTURABLE, "centered": False, "momentum": 0}

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, capturable: bool = False, foreach: bool | None = None,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_implementation("RMSprop", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

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
        v = ip.addcmul_(ip.mul_(state["square_avg"], alpha), g, g, 1 - alpha)
        if group["centered"]:
            mean = ip.lerp_(state["grad_avg"], g, 1 - alpha)
            var = ip.addcmul_(v.copy(), mean, mean, -1)
            # (where mean² overflows beside an infinite v: inf, as PyTorch's fused addcmul,
            # whose product is never rounded -- not inf - inf = NaN, which stayed in p for good)
            if not bool(xp.isfinite(var).all()):  # (one pass on the common path)
                var[xp.isnan(var) & xp.isposinf(v)] = xp.inf
            avg = xp.sqrt(var)
        else:
            avg = xp.sqrt(v)
        ip.add_(avg, eps)
        if momentum > 0:
            buf = ip.addcdiv_(ip.mul_(state["momentum_buffer"], momentum), g, avg)
            ip.add_(p._data, buf, -group["lr"])
        else:
            ip.addcdiv_(p._data, g, avg, -group["lr"])


class Adagrad(Optimizer):
    """``s += g²``; ``p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)``; ``s`` starts at
    the constructor's ``initial_accumulator_value`` for every parameter, as PyTorch 2.13's:
    a group's own value (in the constructor's groups or ``add_param_group``) stays in the group
    and its state dict but is not used -- with a ``UserWarning`` saying so (PyTorch is silent).
    As PyTorch's, the constructor makes the state of every parameter (``step`` 0 and ``sum``),
    so ``state_dict()`` has an entry for each before any step (parameters of a group added later
    get theirs at their first step)."""

    _setstate_defaults: ClassVar[dict[str, Any]] = {**SETSTATE_BASE, "fused": None}

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_implementation("Adagrad", False, differentiable, foreach, fused)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._tensors({"step": 0, "sum": array_module(p._data).full_like(
                    p._data, self.defaults["initial_accumulator_value"])}, {})

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("Adagrad", lr=group["lr"], lr_decay=group["lr_decay"], eps=group["eps"],
               weight_decay=group["weight_decay"],
               initial_accumulator_value=group["initial_accumulator_value"])
        if group["initial_accumulator_value"] != self.defaults["initial_accumulator_value"]:
            warnings.warn(f"Adagrad: a param group's initial_accumulator_value "
                          f"({group['initial_accumulator_value']}) is not used: every "
                          f"accumulator starts at the constructor's "
                          f"({self.defaults['initial_accumulator_value']}), as in PyTorch",
                          UserWarning, stacklevel=_caller_outside())

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p._data, self.defaults["initial_accumulator_value"])
        state["step"] += 1
        g = _decay(p, g, group)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        ip.addcmul_(state["sum"], g, g)
        ip.addcdiv_(p._data, g, ip.add_(xp.sqrt(state["sum"]), group["eps"]), -clr)


class Adamax(Optimizer):
    """Adam with the infinity norm: ``m`` as Adam's, ``u = max(b2 u, |g| + eps)``,
    ``p -= lr / (1 - b1^t) * m / u``."""

    _setstate_defaults: ClassVar[dict[str, Any]] = SETSTATE_CAPTURABLE

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_implementation("Adamax", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, betas=_pair("Adamax", "betas", betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

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
        m, u = ip.lerp_(state["exp_avg"], g, 1 - b1), state["exp_inf"]
        xp.maximum(ip.mul_(u, b2), ip.add_(xp.abs(g), eps), out=u)
        ip.addcdiv_(p._data, m, u, -group["lr"] / (1 - b1 ** state["step"]))


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat), PyTorch's form: momentum ``mu_t = b1 (1 - 0.96^(t
    momentum_decay) / 2)`` and the product of all ``mu`` so far (state ``mu_product``);
    ``p -= lr ((1 - mu_t) / (1 - Πmu) g + mu_{t+1} / (1 - Πmu mu_{t+1}) m) / (sqrt(v / (1 -
    b2^t)) + eps)``. ``decoupled_weight_decay`` decays like AdamW."""

    _setstate_defaults: ClassVar[dict[str, Any]] = {**SETSTATE_CAPTURABLE, "decoupled_weight_decay": False}

    _scalar_state = frozenset({"step", "mu_product"})

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _check_implementation("NAdam", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, betas=_pair("NAdam", "betas", betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("NAdam", lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"],
               momentum_decay=group["momentum_decay"])
        _check_betas("NAdam", group["betas"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        g = _decay(p, g, group, group["decoupled_weight_decay"])
        m, v, t = _adam_moments(p, g, group, state, mu_product=np.float32(1.0))
        md = group["momentum_decay"]
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * md))
        mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
        # (a 0-d float32 tensor in PyTorch -- its default dtype's, tinygrad_cnn's fixed one --
        # or of the parameter's dtype after a load)
        state["mu_product"] = ip.scalar_mul(state["mu_product"], mu)
        mu_product = float(state["mu_product"])
        denom = ip.add_(xp.sqrt(ip.div(v, 1 - b2**t)), eps)
        ip.addcdiv_(p._data, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
        ip.addcdiv_(p._data, m, denom, -lr * mu_next / (1.0 - mu_product * mu_next))


class RAdam(Optimizer):
    """Rectified Adam (Liu et al.): Adam's step scaled by the rectification ``r_t`` once the
    variance estimate is trustworthy (``rho_t > 5``), plain momentum SGD ``p -= lr m̂`` before.
    ``decoupled_weight_decay`` decays like AdamW."""

    _setstate_defaults: ClassVar[dict[str, Any]] = {**SETSTATE_CAPTURABLE, "decoupled_weight_decay": False}

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False) -> None:
        _check_implementation("RAdam", capturable, differentiable)  # (the rest: accepted, ignored)
        super().__init__(params, dict(lr=lr, betas=_pair("RAdam", "betas", betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _check_group(self, group: dict[str, Any]) -> None:
        _check("RAdam", lr=group["lr"], eps=group["eps"], weight_decay=group["weight_decay"])
        _check_betas("RAdam", group["betas"])

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        g = _decay(p, g, group, group["decoupled_weight_decay"])
        m, v, t = _adam_moments(p, g, group, state)
        bias_correction2 = 1 - b2**t
        m_hat = ip.div(m, 1 - b1**t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * (b2**t) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                             ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = ip.rdiv(math.sqrt(bias_correction2), ip.add_(xp.sqrt(v), eps))
            ip.add_(p._data, ip.scale(ip.scale(m_hat, lr) * adaptive, rect), -1.0)
        else:
            ip.add_(p._data, ip.scale(m_hat, lr), -1.0)


from tinygrad_cnn.optim import lr_scheduler, swa_utils  # noqa: E402  (use Optimizer)
from tinygrad_cnn.optim.adadelta import Adadelta  # noqa: E402
from tinygrad_cnn.optim.asgd import ASGD  # noqa: E402
from tinygrad_cnn.optim.lbfgs import LBFGS  # noqa: E402
from tinygrad_cnn.optim.rprop import Rprop  # noqa: E402


def __getattr__(name: str) -> Any:
    # (a PyTorch name this module lacks: the error says what to do instead)
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
