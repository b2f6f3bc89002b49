"""Averaged SGD (Polyak & Juditsky 1992), PyTorch's formulation and state names."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from tinygrad_cnn.backend import array_module
from tinygrad_cnn.optim import Optimizer, _check_implementation, _decay, _invalid
from tinygrad_cnn.optim import _inplace as ip
from tinygrad_cnn.optim.optimizer import SETSTATE_CAPTURABLE
from tinygrad_cnn.tensor import Tensor


class ASGD(Optimizer):
    """SGD with a decaying step and a running average of the iterates: ``p *= 1 - lambd eta``;
    ``p -= eta g``; the average ``ax`` (state) follows ``p`` (equals it while ``mu`` is 1, then
    ``ax += mu (p - ax)``); after step ``t``, ``eta = lr / (1 + lambd lr t)^alpha`` and
    ``mu = 1 / max(1, t - t0)``. ``eta`` and ``mu`` are kept as Python floats (PyTorch keeps them
    as 0-d tensors of the default dtype, float32 unless changed). ``foreach`` and ``capturable``
    are accepted and ignored."""

    _setstate_defaults: ClassVar[dict[str, Any]] = SETSTATE_CAPTURABLE

    _scalar_state = frozenset({"step", "eta", "mu"})

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_implementation("ASGD", capturable, differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _check_group(self, group: dict[str, Any]) -> None:
        lr, wd = group["lr"], group["weight_decay"]
        if not 0.0 <= lr:
            raise _invalid("ASGD", "learning rate", lr, "lr must be >= 0")
        if not 0.0 <= wd:
            raise _invalid("ASGD", "weight_decay value", wd, "weight_decay must be >= 0")

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        lr, lambd = float(group["lr"]), group["lambd"]  # (a one-element tensor lr: its number)
        if not state:
            state.update(step=0, eta=ip.scalar_state(float(lr)), mu=ip.scalar_state(1.0),
                         ax=xp.zeros_like(p._data))
        state["step"] += 1
        g = _decay(p, g, group)
        eta = float(state["eta"])
        ip.add_(ip.mul_(p._data, 1 - lambd * eta), g, -eta)
        ax = state["ax"]
        if state["mu"] != 1:
            ip.add_(ax, ip.scale(p._data - ax, float(state["mu"])))
        else:
            ax[...] = p._data
        t = state["step"]
        # (computed as float32 tensors in PyTorch -- its default dtype's, tinygrad_cnn's fixed
        # one -- and copied into the state's, the parameter's dtype after a load)
        state["eta"] = ip.scalar_state(lr / ((1 + lambd * lr * t) ** group["alpha"]),
                                       state["eta"])
        state["mu"] = ip.scalar_state(1 / max(1, t - group["t0"]), state["mu"])
