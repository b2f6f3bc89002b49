"""Weight averaging, PyTorch's ``torch.optim.swa_utils``: ``AveragedModel`` keeps a running
average of a model's parameters (stochastic weight averaging, or an exponential moving average
with ``get_ema_multi_avg_fn``), ``SWALR`` anneals the learning rate to a constant for the
averaging phase, and ``update_bn`` recomputes BatchNorm's running statistics for the averaged
weights with one pass over the data."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tinygrad_cnn._words import a_type
from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.optim.lr_scheduler import LRScheduler, _format_param
from tinygrad_cnn.tensor import Tensor

__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
           "get_swa_multi_avg_fn", "update_bn"]

AvgFn = Callable[[Tensor, Tensor, Any], Tensor]
MultiAvgFn = Callable[[Sequence[Tensor], Sequence[Tensor], Any], None]


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """``ema ← decay · ema + (1 - decay) · param``, in place, for lists of tensors."""
    _check_decay(decay)

    def ema_update(ema: Sequence[Tensor], current: Sequence[Tensor], num_averaged: Any) -> None:
        with no_grad():
            for e, c in zip(ema, current):
                if e.dtype.kind == "f":
                    e.lerp_(c, 1 - decay)
                else:  # (an integer buffer: the float average, cut back to the dtype)
                    e.copy_(e * decay + c * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """``avg ← avg + (param - avg) / (n + 1)``, in place, for lists of tensors: the mean of the
    ``n + 1`` models seen."""

    def swa_update(avg: Sequence[Tensor], current: Sequence[Tensor], num_averaged: Any) -> None:
        n = num_averaged.item() if isinstance(num_averaged, Tensor) else num_averaged
        with no_grad():
            for a, c in zip(avg, current):
                if a.dtype.kind == "f":
                    a.lerp_(c, 1 / (n + 1))
                else:  # (an integer buffer, as num_batches_tracked: PyTorch divides in its dtype)
                    a.add_((c - a) // (int(n) + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """One tensor's exponential moving average: ``decay · ema + (1 - decay) · param``."""
    _check_decay(decay)

    def ema_update(ema: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        return decay * ema + (1 - decay) * current

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """One tensor's running mean: ``avg + (param - avg) / (n + 1)``."""

    def swa_update(avg: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        return avg + (current - avg) / (num_averaged + 1)

    return swa_update


def _check_decay(decay: float) -> None:
    if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay <= 1:
        raise ValueError(f"EMA decay must be a number in [0, 1], got {decay!r}")


class AveragedModel(Module):
    """A copy of ``model`` (``deepcopy``) whose parameters are the running average of the
    models given to :meth:`update_parameters` -- their mean (SWA) by default, or what ``avg_fn``
    (one tensor at a time) or ``multi_avg_fn`` (lists, in place) computes. The first update
    copies the parameters. Buffers (BatchNorm's statistics) are averaged too with
    ``use_buffers=True``; otherwise they are copied from the model at every update (call
    :func:`update_bn` for statistics that fit the averaged weights). Calling it runs the copy."""

    def __init__(self, model: Module, device: str | None = None,
                 avg_fn: AvgFn | None = None, multi_avg_fn: MultiAvgFn | None = None,
                 use_buffers: bool = False) -> None:
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be a Module, got {a_type(model)}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both (as PyTorch, "
                             "only one of them is used)")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        import numpy as np

        self.register_buffer("n_averaged", Tensor(np.array(0, dtype=np.int64)))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _tensors(self, model: Module) -> list[Tensor]:
        out = list(model.parameters())
        return out + list(model.buffers()) if self.use_buffers else out

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters (and buffers, with ``use_buffers``) into the
        average."""
        mine, theirs = self._tensors(self.module), self._tensors(model)
        if len(mine) != len(theirs) or any(a.shape != b.shape for a, b in zip(mine, theirs)):
            raise ValueError(
                "AveragedModel.update_parameters: the model's parameters do not match the "
                f"averaged copy's ({len(theirs)} tensors of shapes "
                f"{[tuple(t.shape) for t in theirs][:4]}... against {len(mine)}); pass the model "
                "the AveragedModel was made from")
        n = int(self.n_averaged.item())
        with no_grad():
            avg = [a.detach() for a in mine]
            cur = [b.detach().to(a.device) for a, b in zip(avg, theirs)]
            if n == 0:
                for a, b in zip(avg, cur):
                    a.copy_(b)
            elif self.avg_fn is not None:
                for a, b in zip(avg, cur):
                    a.copy_(self.avg_fn(a, b, self.n_averaged))
            else:  # (one call per dtype, as PyTorch groups them)
                fn = self.multi_avg_fn or get_swa_multi_avg_fn()
                for dtype in dict.fromkeys(a.dtype for a in avg):
                    pairs = [(a, b) for a, b in zip(avg, cur) if a.dtype == dtype]
                    fn([a for a, _ in pairs], [b for _, b in pairs], self.n_averaged)
            if not self.use_buffers:  # (kept in step with the model: update_bn refits them)
                for a, b in zip(self.module.buffers(), model.buffers()):
                    a.detach().copy_(b.detach().to(a.device))
            self.n_averaged.add_(1)


class SWALR(LRScheduler):
    """The learning rate of every group annealed from its current value to ``swa_lr`` (a number,
    or one per group) over ``anneal_epochs`` steps -- along a half cosine (``"cos"``) or a line
    (``"linear"``) -- then held there, for the averaging phase of SWA (PyTorch's ``SWALR``)."""

    def __init__(self, optimizer: Any, swa_lr: float | Sequence[float], anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        swa_lrs = _format_param("SWALR", "swa_lr", optimizer, swa_lr)
        for lr in swa_lrs:
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr >= 0:
                raise ValueError(f"SWALR: swa_lr must be a number >= 0, got {lr!r}")
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy!r}")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or \
                anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs!r}")
        self._anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2 if self._anneal_strategy == "cos" else t

    @staticmethod
    def _initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        prev_alpha = self._anneal(max(0.0, min(1.0, (step - 1) / span)))
        alpha = self._anneal(max(0.0, min(1.0, step / span)))
        groups = self.optimizer.param_groups
        return [g["swa_lr"] * alpha + self._initial_lr(g["lr"], g["swa_lr"], prev_alpha)
                * (1 - alpha) for g in groups]


def update_bn(loader: Iterable[Any], model: Module, device: str | None = None) -> None:
    """Recompute the running mean and variance of every BatchNorm layer of ``model`` with one
    pass over ``loader`` (batches: tensors, or tuples whose first item is the input), in train
    mode, as cumulative averages; the layers' momentum and the model's mode are restored after.
    Nothing happens for a model without BatchNorm."""
    from tinygrad_cnn.nn.layers.norm import _BatchNorm

    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for batch in loader:
                x = batch[0] if isinstance(batch, (list, tuple)) else batch
                if device is not None:
                    x = x.to(device)
                model(x)
    finally:
        for module, m in momenta.items():
            module.momentum = m
        model.train(was_training)
