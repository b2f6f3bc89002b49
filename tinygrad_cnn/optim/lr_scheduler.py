"""Learning-rate schedules with PyTorch's names, arguments and arithmetic: ``StepLR``,
``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, ``CosineAnnealingWarmRestarts``,
``LambdaLR``, ``MultiplicativeLR``, ``ConstantLR``, ``LinearLR``, ``PolynomialLR``, ``CyclicLR``
and ``OneCycleLR`` (which also cycle the momentum), ``SequentialLR`` (one schedule after another),
``ChainedScheduler`` (several stepped together) and ``ReduceLROnPlateau`` (``step(metric)``).

As in PyTorch, creating a schedule sets each group's ``initial_lr`` and takes step 0; call
``scheduler.step()`` after ``optimizer.step()`` (per epoch or per batch, as the schedule means).
Several of PyTorch's schedules are *chainable*: each step multiplies the current ``lr`` (so two
schedules on one optimizer compose); those here do the same, so their float trajectories equal
PyTorch's. ``state_dict()`` holds numbers, lists and dicts only (``tinygrad_cnn.save`` stores it);
``LambdaLR`` saves the state of callable objects, not functions (as PyTorch).
"""

from __future__ import annotations

import functools
import math
import numbers
import types
import warnings
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tinygrad_cnn._scalars import REAL_TYPES, check_callable, check_numbers, described
from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.tensor import Tensor

__all__ = ["ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
           "CyclicLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR",
           "MultiplicativeLR", "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau", "SequentialLR",
           "StepLR"]


def _check_optimizer(optimizer: Any, name: str) -> None:
    from tinygrad_cnn.optim import Optimizer

    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: {type(optimizer).__name__} is not an Optimizer")


#: PyTorch warns so (deprecated, not removed) when ``step`` is given an epoch
EPOCH_DEPRECATION_WARNING = (
    "{}.step(epoch): the epoch argument is deprecated (as in PyTorch): call scheduler.step() "
    "once per epoch instead. Given an epoch, the closed form of the schedule is used where "
    "there is one, instead of the chainable form.")


def _warn_epoch(schedule: Any) -> None:
    warnings.warn(EPOCH_DEPRECATION_WARNING.format(type(schedule).__name__), UserWarning,
                  stacklevel=3)


class LRScheduler:
    """The base of the schedules: ``get_lr()`` gives every group's learning rate for the epoch
    ``last_epoch``; ``step()`` advances it and writes the rates into the optimizer."""

    _is_initial = False
    #: whether get_lr reads a value per group fixed when the scheduler was made (base_lrs,
    #: lr_lambdas, max_lrs): then a group added later has none, and step() refuses to go on
    _per_group_schedule = False

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, type(self).__name__)
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                # (a tensor lr is written in place from now on: its start, a copy)
                g.setdefault("initial_lr", _copied(g["lr"]))
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"{type(self).__name__}: param_groups[{i}] has no "
                                   "'initial_lr', which resuming with last_epoch >= 0 needs; "
                                   "load the optimizer's state_dict first")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inner = cls.__dict__.get("get_lr")
        if cls.__module__ == __name__ and inner is not None:
            # PyTorch's schedulers warn when get_lr is called outside step (it computes the
            # next value, which is not the one in use): get_last_lr is what a user wants
            @functools.wraps(inner)
            def get_lr(self: LRScheduler) -> list[float]:
                if not self.__dict__.get("_get_lr_called_within_step", False):
                    warnings.warn("To get the last learning rate computed by the scheduler, "
                                  "please use `get_last_lr()`.", UserWarning, stacklevel=2)
                return inner(self)

            cls.get_lr = get_lr  # type: ignore[method-assign]

    def _lr_in_step(self) -> list[float]:
        self._get_lr_called_within_step = True
        try:
            return self.get_lr()
        finally:
            self._get_lr_called_within_step = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The learning rates the last step set."""
        return self._last_lr

    def _check_groups(self, values: Sequence[Any] | None = None) -> None:
        """A group added to the optimizer after this scheduler was made has no schedule in it
        (PyTorch fails with a bare zip() error, or leaves the group unscheduled): say so."""
        n = len(self.optimizer.param_groups)
        known = len(values) if values is not None else len(self.base_lrs) \
            if self._per_group_schedule else n
        if known != n:
            name = type(self).__name__
            raise ValueError(
                f"{name}.step: the optimizer has {n} parameter groups, but this {name} schedules "
                f"{known} (a group added with add_param_group after the scheduler was made has "
                f"no schedule in it); make the scheduler again after adding the group")

    def step(self, epoch: int | None = None) -> None:
        self._check_groups()
        if self._step_count == 1 and not self.optimizer.__dict__.get("_opt_called"):
            warnings.warn(
                f"{type(self).__name__}: Detected call of `lr_scheduler.step()` before "
                "`optimizer.step()`: call optimizer.step() first, then lr_scheduler.step(); "
                "in this order the first value of the learning rate schedule is skipped (as "
                "PyTorch warns)", UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            _warn_epoch(self)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self._lr_in_step()
        else:  # an explicit epoch: the closed form where there is one
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self._lr_in_step()
        self._check_groups(values)
        for g, lr in zip(self.optimizer.param_groups, values):
            _set_lr(g, lr)
        self._last_lr = _lrs(self.optimizer)

    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs (alone:
    ``lr = base_lr * gamma ** (epoch // step_size)``). Chainable, as PyTorch's: each step scales
    the group's current ``lr``, so it composes with other schedules and keeps manual changes."""

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        check_numbers("StepLR", "one", step_size=step_size, gamma=gamma)
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate by cosine; alone,
    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``. Chainable, as
    PyTorch's: each step scales ``lr - eta_min`` by the ratio of consecutive cosine terms (past
    ``T_max`` it climbs back), so it composes with other schedules and keeps manual changes."""

    _per_group_schedule = True

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        check_numbers("CosineAnnealingLR", "one", T_max=T_max, eta_min=eta_min)
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups, epoch, t_max, eta_min = self.optimizer.param_groups, self.last_epoch, \
            self.T_max, self.eta_min
        if self._is_initial:
            return [g["lr"] for g in groups]
        if self._step_count == 1 and epoch > 0:  # resumed with last_epoch >= 0
            return self._get_closed_form_lr()
        if (epoch - 1 - t_max) % (2 * t_max) == 0:  # at a trough, where the ratio is 0 / 0
            return [g["lr"] + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                    for base, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * epoch / t_max)) / (1 + math.cos(math.pi * (epoch - 1)
                                                                         / t_max))
                * (g["lr"] - eta_min) + eta_min for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch
                                                                     / self.T_max)) / 2
                for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter): cosine annealing from ``base_lr`` to ``eta_min`` over ``T_i``
    epochs, then a restart at ``base_lr``; ``T_0`` the first period, each next one ``T_mult``
    times longer. ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``.
    ``step()`` advances one epoch; ``step(epoch)`` jumps there, fractional epochs allowed (call it
    per batch with ``epoch + i / batches``); the two may be mixed. Not chainable (PyTorch's is
    not either): it sets the rate from ``base_lrs``."""

    _per_group_schedule = True

    def __init__(self, optimizer: Any, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: Expected positive integer T_0, but "
                             f"got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: Expected integer T_mult >= 1, but "
                             f"got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"CosineAnnealingWarmRestarts: Expected float or int eta_min, but "
                             f"got {eta_min} of type {type(eta_min)}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [self.eta_min + (base - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2 for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        self._check_groups()
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: Expected non-negative epoch, "
                                 f"but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:  # the period n that epoch falls in: T_0 (T_mult^n - 1) / (T_mult - 1)
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        values = self._lr_in_step()
        self._check_groups(values)
        for g, lr in zip(self.optimizer.param_groups, values):
            _set_lr(g, lr)
        self._last_lr = _lrs(self.optimizer)


class LambdaLR(LRScheduler):
    """``lr = base_lr * lr_lambda(epoch)``, one function for all groups or one per group."""

    _per_group_schedule = True

    def __init__(self, optimizer: Any, lr_lambda: Callable[[int], float] |
                 Sequence[Callable[[int], float]], last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, "LambdaLR")
        self.lr_lambdas = _per_group(lr_lambda, optimizer.param_groups, "lr_lambda",
                                     "LambdaLR: expected {n} lr_lambdas (one per parameter "
                                     "group), got {got}")
        for f in self.lr_lambdas:
            check_callable("LambdaLR", "lr_lambda", f)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * f(self.last_epoch) for f, base in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else dict(f.__dict__)
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        lambdas = state.pop("lr_lambdas")
        if len(lambdas) != len(self.lr_lambdas):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state_dict holds "
                             f"{len(lambdas)} lr_lambdas, this scheduler {len(self.lr_lambdas)}")
        self.__dict__.update(state)
        for f, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                f.__dict__.update(saved)


class MultiplicativeLR(LRScheduler):
    """Multiply the learning rate by ``lr_lambda(epoch)`` at every step after the first (one
    function for all groups or one per group). Chainable: it scales the group's current ``lr``.
    ``state_dict`` saves the state of callable objects, not of functions (as PyTorch)."""

    _per_group_schedule = True

    def __init__(self, optimizer: Any, lr_lambda: Callable[[int], float] |
                 Sequence[Callable[[int], float]], last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, "MultiplicativeLR")
        self.lr_lambdas = _per_group(lr_lambda, optimizer.param_groups, "lr_lambda",
                                     "MultiplicativeLR: Expected {n} lr_lambdas, but got {got} "
                                     "(one per parameter group)")
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"MultiplicativeLR: lr_lambda should be a function, but got "
                                f"{type(f).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [g["lr"] for g in groups]
        return [g["lr"] * f(self.last_epoch) for f, g in zip(self.lr_lambdas, groups)]

    state_dict = LambdaLR.state_dict
    load_state_dict = LambdaLR.load_state_dict


class MultiStepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` at each milestone epoch (twice at a milestone given
    twice)."""

    def __init__(self, optimizer: Any, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        # ints as ints (a numpy or 0-d tensor one too); a float milestone is kept as given, as
        # PyTorch's: 2.0 is epoch 2, 2.5 is never reached
        check_numbers("MultiStepLR", "one", gamma=gamma)
        self.milestones = Counter(m if isinstance(m, float) else int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch not in self.milestones:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma ** self.milestones[self.last_epoch] for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["milestones"] = dict(self.milestones)
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter({k: int(v) for k, v in self.milestones.items()})


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch."""

    def __init__(self, optimizer: Any, gamma: float, last_epoch: int = -1) -> None:
        check_numbers("ExponentialLR", "one", gamma=gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """Multiply the learning rate by ``factor`` for the first ``total_iters`` epochs, then give
    the factor back (a constant warm-up). Chainable: it scales the group's current ``lr``."""

    def __init__(self, optimizer: Any, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        check_numbers("ConstantLR", "one", factor=factor, total_iters=total_iters)
        if factor > 1.0 or factor < 0:
            raise ValueError(f"ConstantLR: Constant multiplicative factor expected to be between "
                             f"0 and 1. Got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in groups]
        if self.last_epoch != self.total_iters:
            return [g["lr"] for g in groups]
        if self.factor == 0:  # (0 cannot be divided out: the rate it replaced, as alone)
            return list(self.base_lrs)
        return [g["lr"] * (1.0 / self.factor) for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay the learning rate polynomially to 0 over ``total_iters`` epochs (alone:
    ``lr = base_lr * (1 - epoch / total_iters) ** power``), then keep it. Chainable: each step
    scales the group's current ``lr`` by the ratio of consecutive terms."""

    def __init__(self, optimizer: Any, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1) -> None:
        check_numbers("PolynomialLR", "one", total_iters=total_iters, power=power)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial or self.last_epoch > self.total_iters:
            return [g["lr"] for g in groups]
        decay = ((1.0 - self.last_epoch / self.total_iters)
                 / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [g["lr"] * decay for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters)
                ** self.power for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the learning rate linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs (a warm-up with the defaults), then keep it."""

    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        check_numbers("LinearLR", "one", start_factor=start_factor, end_factor=end_factor,
                      total_iters=total_iters)
        if not 0 < start_factor <= 1.0:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1.0:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, \
            total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] * self.start_factor for g in groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return [g["lr"] for g in groups]
        delta = self.end_factor - self.start_factor
        factor = 1.0 + delta / (self.total_iters * self.start_factor +
                                (self.last_epoch - 1) * delta)
        return [g["lr"] * factor for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * (self.start_factor + (self.end_factor - self.start_factor) *
                        min(self.total_iters, self.last_epoch) / self.total_iters)
                for base in self.base_lrs]


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith), stepped once per *batch*: the rate climbs from
    ``base_lr`` to ``max_lr`` over ``step_size_up`` steps and back over ``step_size_down``
    (default the same), the amplitude scaled by ``mode``: ``"triangular"`` (constant),
    ``"triangular2"`` (halved each cycle), ``"exp_range"`` (``gamma ** step``), or by
    ``scale_fn`` of the cycle or the step (``scale_mode``). With ``cycle_momentum`` the momentum
    (SGD's ``momentum``, Adam's ``beta1``) moves the opposite way between ``max_momentum`` and
    ``base_momentum``. Creating it sets each group's ``lr`` to ``base_lr``. ``state_dict`` saves
    the state of a callable-object ``scale_fn``, not of a function (as PyTorch)."""

    _per_group_schedule = True

    def __init__(self, optimizer: Any, base_lr: float | Sequence[float],
                 max_lr: float | Sequence[float], step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.8,
                 max_momentum: float | Sequence[float] = 0.9, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, "CyclicLR")
        self.optimizer = optimizer
        base_lrs = _format_param("CyclicLR", "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, g in zip(base_lrs, optimizer.param_groups):
                _set_lr(g, lr)
        self.max_lrs = _format_param("CyclicLR", "max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: mode is invalid and scale_fn is None (mode {mode!r}; "
                             "give 'triangular', 'triangular2' or 'exp_range', or a scale_fn)")
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("CyclicLR: optimizer must support momentum or beta1 with "
                                 "`cycle_momentum` option enabled (or pass "
                                 "cycle_momentum=False)")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _format_param("CyclicLR", "base_momentum", optimizer,
                                                base_momentum)
            self.max_momentums = _format_param("CyclicLR", "max_momentum", optimizer,
                                               max_momentum)
            if last_epoch == -1:
                for hi, lo, g in zip(self.max_momentums, self.base_momentums,
                                     optimizer.param_groups):
                    if self.use_beta1:
                        g["betas"] = (hi, *g["betas"][1:])
                    else:
                        g["momentum"] = hi
                    g["max_momentum"], g["base_momentum"] = hi, lo
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is not None:
            return
        if self.mode == "triangular":
            self._scale_fn_ref: Callable[[float], float] = _triangular_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "triangular2":
            self._scale_fn_ref = _triangular2_scale_fn
            self.scale_mode = "cycle"
        elif self.mode == "exp_range":
            self._scale_fn_ref = functools.partial(_exp_range_scale_fn, self.gamma)
            self.scale_mode = "iterations"

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or step) ``x``."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        return self._scale_fn_ref(x)

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle  # where in the cycle, in [0, 1)
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        at = cycle if self.scale_mode == "cycle" else self.last_epoch
        lrs = [base + (top - base) * scale_factor * self.scale_fn(at)
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for lo, hi, g in zip(self.base_momentums, self.max_momentums,
                                 self.optimizer.param_groups):
                momentum = hi - (hi - lo) * scale_factor * self.scale_fn(at)
                if self.use_beta1:
                    g["betas"] = (momentum, *g["betas"][1:])
                else:
                    g["momentum"] = momentum
        return lrs

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items()
                 if k not in ("optimizer", "_scale_fn_ref", "_scale_fn_custom")}
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = dict(fn.__dict__) \
            if fn is not None and not isinstance(fn, types.FunctionType) else None
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        fn = state.pop("_scale_fn_custom", None)
        self.__dict__.update(state)
        if fn is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


def _triangular_scale_fn(x: float) -> float:
    return 1.0


def _triangular2_scale_fn(x: float) -> float:
    return 1 / (2.0 ** (x - 1))


def _exp_range_scale_fn(gamma: float, x: float) -> float:
    return gamma**x


def _format_param(where: str, name: str, optimizer: Any,
                  value: float | Sequence[float]) -> list[float]:
    """One value per parameter group: a list or tuple as given (of the right length), a number
    repeated."""
    return _per_group(value, optimizer.param_groups, name,
                      f"{where}: {{name}} must have the same length as optimizer.param_groups. "
                      "{name} has {got} values, param_groups has {n}.")


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin), stepped once per *batch*: the learning rate rises from
    ``max_lr / div_factor`` to ``max_lr`` over the first ``pct_start`` of ``total_steps`` (or
    ``epochs * steps_per_epoch``) and falls to ``initial_lr / final_div_factor``, annealed by
    cosine (or linearly); the momentum (SGD's ``momentum``, Adam's ``beta1``) moves the opposite
    way between ``max_momentum`` and ``base_momentum``. ``three_phase`` climbs back down to the
    initial rate before the final decay."""

    _per_group_schedule = True

    def __init__(self, optimizer: Any, max_lr: float | Sequence[float],
                 total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.85,
                 max_momentum: float | Sequence[float] = 0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, "OneCycleLR")
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: total_steps must be a positive int, got "
                                 f"{total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0 or not isinstance(steps_per_epoch, int) \
                    or steps_per_epoch <= 0:
                raise ValueError(f"OneCycleLR: epochs and steps_per_epoch must be positive ints, "
                                 f"got {epochs} and {steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be a float in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        up = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                _phase(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                       "base_momentum", "max_momentum"),
                _phase(self.total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                       "max_momentum")]
        else:
            self._schedule_phases = [
                _phase(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(self.total_steps - 1, "max_lr", "min_lr", "base_momentum",
                       "max_momentum")]
        groups = optimizer.param_groups
        max_lrs = _per_group(max_lr, groups, "max_lr")
        if last_epoch == -1:
            for lr, g in zip(max_lrs, groups):
                g["initial_lr"] = lr / div_factor
                g["max_lr"] = lr
                g["min_lr"] = g["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("OneCycleLR: cycle_momentum needs an optimizer with momentum "
                                 "or betas (or pass cycle_momentum=False)")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                for hi, lo, g in zip(_per_group(max_momentum, groups, "max_momentum"),
                                     _per_group(base_momentum, groups, "base_momentum"), groups):
                    if self.use_beta1:
                        g["betas"] = (hi, *g["betas"][1:])
                    else:
                        g["momentum"] = hi
                    g["max_momentum"], g["base_momentum"] = hi, lo
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, but total_steps is "
                             f"{self.total_steps}")
        lrs = []
        for g in self.optimizer.param_groups:
            start = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or i == len(self._schedule_phases) - 1:
                    # (a phase of no steps -- total_steps * pct_start == 1 -- is over at once:
                    # its end value; PyTorch divides by zero)
                    pct = (step - start) / (end - start) if end != start else 1.0
                    lr = self._anneal(g[phase["start_lr"]], g[phase["end_lr"]], pct)
                    momentum = self._anneal(g[phase["start_momentum"]],
                                            g[phase["end_momentum"]], pct) \
                        if self.cycle_momentum else None
                    break
                start = end
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    g["betas"] = (momentum, *g["betas"][1:])
                else:
                    g["momentum"] = momentum
        return lrs


def _phase(end_step: float, start_lr: str, end_lr: str, start_momentum: str,
           end_momentum: str) -> dict[str, Any]:
    return {"end_step": end_step, "start_lr": start_lr, "end_lr": end_lr,
            "start_momentum": start_momentum, "end_momentum": end_momentum}


def _per_group(value: Any, groups: list[dict[str, Any]], name: str,
               mismatch: str = "OneCycleLR: expected {n} values for {name} (one per parameter "
                               "group), got {got}") -> list[Any]:
    """One value per parameter group: a list or tuple as given (``mismatch``, formatted with
    ``n``, ``got`` and ``name``, when its length is not the number of groups), else the value
    repeated (the schedules' per-group arguments: lambdas, max_lr, momenta)."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(mismatch.format(n=len(groups), got=len(value), name=name))
        return list(value)
    return [value] * len(groups)


def _check_schedulers(where: str, verb: str, optimizer: Any,
                      schedulers: Sequence[LRScheduler]) -> None:
    """What SequentialLR and ChainedScheduler ask of the schedulers they hold."""
    for i, s in enumerate(schedulers):
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{where}: scheduler {i} is a ReduceLROnPlateau, which steps on a "
                             f"metric; it cannot be {verb}")
        if getattr(s, "optimizer", None) is not optimizer:
            raise ValueError(f"{where}: scheduler {i} ({type(s).__name__}) belongs to another "
                             "optimizer; all must share this one")


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another: the ``i``-th from epoch ``milestones[i - 1]`` on
    (each restarting from its own epoch 0)."""

    def __init__(self, optimizer: Any, schedulers: Sequence[LRScheduler],
                 milestones: Sequence[int], last_epoch: int = -1) -> None:
        _check_optimizer(optimizer, "SequentialLR")
        if not schedulers:
            raise ValueError("SequentialLR: needs at least one scheduler")
        _check_schedulers("SequentialLR", "sequenced", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(schedulers)} schedulers need "
                             f"{len(schedulers) - 1} milestones, got {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for g in optimizer.param_groups:  # undo the steps the schedulers took when created
            _set_lr(g, g["initial_lr"])
        self._undo(self)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def _undo(self, sched: Any) -> None:
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)  # the next schedule starts at its epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        if len(saved) != len(self._schedulers):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state_dict holds "
                             f"{len(saved)} schedulers, this one {len(self._schedulers)}")
        kept = [dict(self.__dict__)] + [s.state_dict() for s in self._schedulers]
        try:  # (all or nothing: a sub-scheduler's refusal leaves every one as it was)
            self.__dict__.update(state)
            for s, st in zip(self._schedulers, saved):
                s.load_state_dict(st)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(kept[0])
            for s, st in zip(self._schedulers, kept[1:]):
                s.load_state_dict(st)
            raise


class ChainedScheduler(LRScheduler):
    """Step several chainable schedules on one optimizer together: ``step()`` steps each in
    order, so their factors multiply (as when each is stepped by hand)."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Any = None) -> None:
        if not schedulers:
            raise ValueError("ChainedScheduler: needs at least one scheduler")
        optimizer = optimizer or schedulers[0].optimizer
        _check_optimizer(optimizer, "ChainedScheduler")
        _check_schedulers("ChainedScheduler", "chained", optimizer, schedulers)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = _lrs(optimizer)

    def step(self) -> None:  # type: ignore[override]
        for s in self._schedulers:
            s.step()
        self._last_lr = _lrs(self.optimizer)

    state_dict = SequentialLR.state_dict
    load_state_dict = SequentialLR.load_state_dict


class ReduceLROnPlateau(LRScheduler):
    """Multiply the learning rate by ``factor`` when a metric (``step(metric)``) has not improved
    for ``patience`` epochs -- improved meaning below ``best * (1 - threshold)`` (``mode="min"``,
    ``threshold_mode="rel"``), or the like for ``"max"``/``"abs"``; then wait ``cooldown`` epochs.
    Never below ``min_lr``; changes smaller than ``eps`` are skipped."""

    def __init__(self, optimizer: Any, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float | Sequence[float] = 0,
                 eps: float = 1e-8) -> None:
        check_numbers("ReduceLROnPlateau", "one", factor=factor, patience=patience,
                      threshold=threshold, cooldown=cooldown, eps=eps)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor}")
        _check_optimizer(optimizer, "ReduceLROnPlateau")
        self.factor, self.optimizer = factor, optimizer
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"ReduceLROnPlateau: expected {n} min_lrs, got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * n
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = _lrs(optimizer)
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else \
                a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else \
            a > best + self.threshold

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        value = metrics.item() if hasattr(metrics, "item") else metrics
        if not isinstance(value, (*REAL_TYPES, numbers.Real)):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number (the quantity "
                            f"watched, e.g. the validation loss: loss.item()), got "
                            f"{described(metrics)}")
        current = float(value)
        if epoch is not None:
            _warn_epoch(self)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _lrs(self.optimizer)

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} "
                                   f"parameter groups but min_lr has {len(self.min_lrs)}; "
                                   "update min_lrs after add_param_group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for g, low in zip(groups, self.min_lrs):
            old = float(g["lr"])
            new = max(old * self.factor, low)
            if old - new > self.eps:
                _set_lr(g, new)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)


#: PyTorch's older name of the base (``torch.optim.lr_scheduler._LRScheduler``), which schedules
#: written before PyTorch 2.0 subclass
_LRScheduler = LRScheduler


def _copied(lr: Any) -> Any:
    """A tensor learning rate's copy (PyTorch's ``initial_lr``), any other as it is."""
    return lr.detach().clone() if isinstance(lr, Tensor) else lr


def _lrs(optimizer: Any) -> list[Any]:
    """The groups' learning rates, a tensor one copied (PyTorch's ``get_last_lr``)."""
    return [_copied(g["lr"]) for g in optimizer.param_groups]


def _set_lr(group: dict[str, Any], lr: Any) -> None:
    """A group's new learning rate: written into its tensor where it has one (as PyTorch's
    schedulers do: a reference the user holds stays current, and the rate keeps the tensor's
    dtype), else set."""
    held = group.get("lr")
    if isinstance(held, Tensor) and held.ndim == 0:
        with no_grad():
            held.fill_(lr.item() if isinstance(lr, Tensor) else float(lr))
    else:
        group["lr"] = lr
