"""Adadelta (Zeiler 2012), PyTorch's formulation and state names."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from tinygrad_cnn.backend import array_module
from tinygrad_cnn.optim import Optimizer, _check_implementation, _decay, _invalid
from tinygrad_cnn.optim import _inplace as ip
from tinygrad_cnn.optim.optimizer import SETSTATE_CAPTURABLE
from tinygrad_cnn.tensor import Tensor


class Adadelta(Optimizer):
    """``v = rho v + (1 - rho) g²``; ``delta = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho u + (1 - rho) delta²``; ``p -= lr * delta`` (state ``square_avg`` ``v`` and
    ``acc_delta`` ``u``); ``g`` includes ``weight_decay * p``. ``foreach`` and ``capturable`` are
    accepted and ignored (they choose PyTorch's kernels, not the numbers)."""

    _setstate_defaults: ClassVar[dict[str, Any]] = SETSTATE_CAPTURABLE

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_implementation("Adadelta", capturable, differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _check_group(self, group: dict[str, Any]) -> None:
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        if not 0.0 <= lr:
            raise _invalid("Adadelta", "learning rate", lr, "lr must be >= 0")
        if not 0.0 <= rho <= 1.0:
            raise _invalid("Adadelta", "rho value", rho, "rho must be in [0, 1]")
        if not 0.0 <= eps:
            raise _invalid("Adadelta", "epsilon value", eps, "eps must be >= 0")
        if not 0.0 <= wd:
            raise _invalid("Adadelta", "weight_decay value", wd, "weight_decay must be >= 0")

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        rho, eps = group["rho"], group["eps"]
        if not state:
            state.update(step=0, square_avg=xp.zeros_like(p._data),
                         acc_delta=xp.zeros_like(p._data))
        state["step"] += 1
        g = _decay(p, g, group)
        v = ip.addcmul_(ip.mul_(state["square_avg"], rho), g, g, 1 - rho)
        u = state["acc_delta"]
        delta = xp.sqrt(ip.add(u, eps)) / xp.sqrt(ip.add(v, eps)) * g
        ip.addcmul_(ip.mul_(u, rho), delta, delta, 1 - rho)
        ip.add_(p._data, delta, -group["lr"])
