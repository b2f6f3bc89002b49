"""Rprop (resilient backpropagation, Riedmiller & Braun 1993), PyTorch's formulation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from tinygrad_cnn.backend import array_module
from tinygrad_cnn.optim import Optimizer, _check_implementation, _invalid, _pair
from tinygrad_cnn.optim.optimizer import SETSTATE_CAPTURABLE
from tinygrad_cnn.tensor import Tensor


class Rprop(Optimizer):
    """Each coordinate has its own step size (state ``step_size``, starting at ``lr``): times
    ``etas[1]`` where the gradient kept its sign since the last step (state ``prev``), times
    ``etas[0]`` where it flipped -- and there the coordinate does not move and its gradient is
    forgotten -- clamped to ``step_sizes``; then ``p -= sign(g) * step_size``. Full-batch
    gradients only, as in PyTorch. ``foreach`` and ``capturable`` are accepted and ignored."""

    _setstate_defaults: ClassVar[dict[str, Any]] = SETSTATE_CAPTURABLE

    def __init__(self, params: Iterable[Any], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_implementation("Rprop", capturable, differentiable)
        super().__init__(params, dict(lr=lr, etas=_pair("Rprop", "etas", etas),
                                      step_sizes=_pair("Rprop", "step_sizes", step_sizes),
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _check_group(self, group: dict[str, Any]) -> None:
        lr, etas = group["lr"], group["etas"]
        if not 0.0 <= lr:
            raise _invalid("Rprop", "learning rate", lr, "lr must be >= 0")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise _invalid("Rprop", "eta values", f"{etas[0]}, {etas[1]}",
                           "etas must be (etaminus, etaplus) with 0 < etaminus < 1 < etaplus")

    def _update(self, p: Tensor, g: Any, group: dict[str, Any], state: dict[str, Any]) -> None:
        xp = array_module(g)
        etaminus, etaplus = group["etas"]
        low, high = group["step_sizes"]
        if not state:
            state.update(step=0, prev=xp.zeros_like(p._data),
                         step_size=xp.full_like(p._data, group["lr"]))
        state["step"] += 1
        with np.errstate(invalid="ignore"):  # (inf * 0 is NaN, whose sign is 0 below)
            sign = _sign(xp, g * state["prev"])
        factor = sign.copy()
        factor[sign > 0] = etaplus
        factor[sign < 0] = etaminus
        factor[sign == 0] = 1
        step_size = state["step_size"]
        step_size *= factor
        xp.clip(step_size, low, high, out=step_size)
        g = xp.where(factor == etaminus, 0, g).astype(p._data.dtype, copy=False)
        p._data -= _sign(xp, g) * step_size  # (an inf gradient steps as +-1, a NaN one not)
        state["prev"][...] = g


def _sign(xp: Any, a: Any) -> Any:
    """PyTorch's ``sign``: 0 at NaN (numpy's is NaN, which turned a NaN or inf gradient into a
    NaN parameter)."""
    out = xp.sign(a)
    out[out != out] = 0
    return out
