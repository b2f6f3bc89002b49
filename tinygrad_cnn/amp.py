"""``tg.amp``: PyTorch's ``torch.amp`` for ported training scripts -- ``GradScaler`` (loss scaling,
which works here: a float16 model's small gradients kept from underflowing) and ``autocast``
(which has nothing to do here: there is no automatic mixed precision, so it runs disabled where
PyTorch's would be, and refuses to be enabled on the CPU).

nanoGPT's ``train.py`` makes ``scaler = torch.cuda.amp.GradScaler(enabled=(dtype == 'float16'))``
whatever the device and calls ``scaler.scale(loss).backward(); scaler.step(optimizer);
scaler.update()``: disabled, those are ``loss.backward(); optimizer.step()``, as in PyTorch.

Enabled, as PyTorch's: ``scale(loss)`` multiplies by the scale (65536 at first); ``unscale_``
divides the gradients by it and notes whether any is inf or NaN; ``step`` then skips the
optimizer's step if one was; ``update`` halves the scale after such a step and doubles it after
``growth_interval`` steps without one. ``tg.cuda.amp`` is PyTorch's older spelling with the
device ``"cuda"``: with no GPU here, an enabled scaler (or autocast) is disabled with PyTorch's
warning.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinygrad_cnn import backend
from tinygrad_cnn import cuda as _cuda
from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.tensor import Tensor

__all__ = ["GradScaler", "autocast", "is_autocast_available"]

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


def _device_available(device: str) -> bool:
    return device == "cpu" or (device == "cuda" and backend.is_available("cuda"))


def is_autocast_available(device_type: str) -> bool:
    """False: there is no automatic mixed precision here (``autocast`` only runs disabled)."""
    return False


class GradScaler:
    """PyTorch's ``torch.amp.GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0,
    backoff_factor=0.5, growth_interval=2000, enabled=True)``: see the module's docstring. With
    ``device="cuda"`` and no GPU here it is disabled, with PyTorch's warning; disabled, ``scale``
    returns its argument, ``step`` is ``optimizer.step()`` and ``update`` does nothing."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        if not isinstance(device, str) or device.split(":")[0] not in ("cpu", "cuda"):
            raise ValueError(f"GradScaler: device must be 'cpu' or 'cuda', got {device!r}")
        self._device = device.split(":")[0]
        self._enabled = bool(enabled)
        if self._enabled and not _device_available(self._device):
            warnings.warn("GradScaler(device='cuda') is enabled, but CUDA is not available here "
                          "(as PyTorch without a GPU): disabling it", UserWarning,
                          stacklevel=2 if type(self) is GradScaler else 3)
            self._enabled = False
        if self._enabled:
            if not growth_factor > 1.0:  # (PyTorch's assertions)
                raise AssertionError("GradScaler: the growth factor must be > 1.0.")
            if not backoff_factor < 1.0:
                raise AssertionError("GradScaler: the backoff factor must be < 1.0.")
            if not isinstance(growth_interval, int) or growth_interval <= 0:
                raise ValueError("GradScaler: growth_interval must be a positive int.")
        self._init_scale = init_scale  # (PyTorch's: the scale is made at the first scale())
        self._scale: np.float32 | None = None
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._states: dict[int, dict[str, Any]] = {}  # per optimizer (by id): stage, found inf

    # ------------------------------------------------------------------ the four calls
    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a tensor, or a list/tuple/dict of them, nested) times the scale."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = _float32(self._init_scale)
        if isinstance(outputs, Tensor):
            return outputs * Tensor._make(np.asarray(self._scale))
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if isinstance(outputs, dict):
            return {k: self.scale(v) for k, v in outputs.items()}
        raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of Tensors, "
                         f"got {type(outputs).__name__}")

    def unscale_(self, optimizer: Any) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place, and note whether any is inf or
        NaN (the next ``step`` is then skipped). Once per optimizer between two ``update``s."""
        if not self._enabled:
            return
        self._check_scaled("unscale_")
        state = self._state(optimizer)
        if state["stage"] is _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        if state["stage"] is _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = np.float32(np.float64(1.0) / np.float64(self._scale))  # (as PyTorch: in double)
        found: bool | None = None  # (None: no gradient at all -- step() then refuses, as PyTorch)
        with no_grad():
            for p in _params(optimizer):
                g = p.grad
                if g is None:
                    continue
                if g.dtype == np.float16:
                    raise ValueError("Attempting to unscale FP16 gradients. (GradScaler: keep the "
                                     "parameters in float32 -- the float16 copy is the model's "
                                     "input and activations only)")
                xp = backend.array_module(g._data)
                found = bool(found) or not bool(xp.isfinite(g._data).all())
                g.mul_(float(inv))
        state["stage"], state["found_inf"] = _UNSCALED, found

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step(*args, **kwargs)`` unless the unscaled gradients held an inf or NaN
        (then nothing, and None); unscales first if ``unscale_`` was not called."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scaled("step")
        state = self._state(optimizer)
        if state["stage"] is _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer. (GradScaler."
                                 "step: none of its parameters has a .grad -- was backward() "
                                 "called on scaler.scale(loss)?)")
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """The next scale: ``new_scale`` if given; else the scale times ``backoff_factor`` if a
        step since the last update found an inf or NaN, times ``growth_factor`` after
        ``growth_interval`` steps in a row without one."""
        if not self._enabled:
            return
        self._check_scaled("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError("new_scale should be a float or a 1-element "
                                         "FloatTensor with requires_grad=False.")
                if new_scale.ndim:
                    raise RuntimeError(f"GradScaler.update: output with shape [] doesn't match "
                                       f"the broadcast shape {list(new_scale.shape)} (pass a 0-d "
                                       "tensor or a float)")
                new_scale = new_scale.item()
            self._scale = _float32(new_scale)
        else:
            found = [s["found_inf"] for s in self._states.values() if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale = np.float32(self._scale * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    with np.errstate(over="ignore"):
                        grown = np.float32(self._scale * np.float32(self._growth_factor))
                    if np.isfinite(grown):  # (PyTorch's: a scale grown past float32 stays)
                        self._scale = grown
                    self._growth_tracker = 0
        self._states.clear()

    # ------------------------------------------------------------------ settings and state
    def get_scale(self) -> float:
        if not self._enabled:
            return 1.0
        return float(self._init_scale) if self._scale is None else float(self._scale)

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's keys (empty when disabled, as PyTorch's)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        missing = {"scale", "growth_factor", "backoff_factor", "growth_interval",
                   "_growth_tracker"} - set(state_dict)
        if missing:
            raise KeyError(f"GradScaler.load_state_dict: the state lacks {sorted(missing)}")
        scale = state_dict["scale"]
        self._init_scale = scale.item() if isinstance(scale, Tensor) else scale
        if self._scale is not None:
            self._scale = _float32(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])

    def _check_scaled(self, what: str) -> None:
        if self._scale is None:
            raise AssertionError(f"Attempted {what} but _scale is None.  This may indicate your "
                                 "script did not use scaler.scale(loss or outputs) earlier in the "
                                 "iteration.")

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._states.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})


def _half_like(dtype: Any) -> bool:
    """Whether ``dtype`` is one autocast takes (float16, or a bfloat16 spelled as a string)."""
    if isinstance(dtype, str):
        return dtype in ("float16", "half", "bfloat16")
    try:
        return np.dtype(dtype) == np.float16
    except TypeError:
        return False


def _float32(value: Any) -> np.float32:
    """A scale as float32; one past float32's range is PyTorch's overflow error."""
    with np.errstate(over="ignore"):
        v = np.float32(value)
    if np.isinf(v) and np.isfinite(float(value)):
        raise RuntimeError(f"GradScaler: the scale {value!r} cannot be converted to type float "
                           "without overflow")
    return v


def _params(optimizer: Any) -> Iterator[Tensor]:
    groups = getattr(optimizer, "param_groups", None)
    if groups is None:
        raise TypeError(f"GradScaler: expected an optimizer (with param_groups), got "
                        f"{type(optimizer).__name__}")
    for group in groups:
        yield from group["params"]


class autocast(contextlib.ContextDecorator):  # noqa: N801 -- PyTorch's name
    """PyTorch's ``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``,
    which has nothing to do here (no automatic mixed precision): disabled it is a no-op context
    (and decorator), as PyTorch's; on ``"cuda"`` with no GPU here it is disabled with PyTorch's
    warning; enabled otherwise it is an error that says what to write instead."""

    def __init__(self, device_type: str = "cuda", dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: expected device_type to be a str, got "
                             f"{type(device_type).__name__}")
        self.device = device_type.split(":")[0]
        if self.device not in ("cpu", "cuda"):
            raise RuntimeError(f"autocast: expected one of cpu, cuda device type at start of "
                               f"device string: {device_type}")
        self.fast_dtype = dtype
        if enabled and dtype is not None and not _half_like(dtype):
            # (PyTorch's: autocast('cpu', False) passes False as the dtype, not as enabled)
            warnings.warn(f"In {self.device.upper()} autocast, but the target dtype {dtype!r} is "
                          "not supported. Disabling autocast. (enabled is the third argument: "
                          "autocast(device_type, enabled=False))", UserWarning,
                          stacklevel=2 if type(self) is autocast else 3)
            enabled = False
        if enabled and self.device == "cuda" and not backend.is_available("cuda"):
            warnings.warn("autocast('cuda'): CUDA is not available here (as PyTorch without a "
                          "GPU): disabling it", UserWarning,
                          stacklevel=2 if type(self) is autocast else 3)
            enabled = False
        if enabled:
            raise RuntimeError(
                f"autocast({device_type!r}, enabled=True): there is no automatic mixed precision "
                "here; use contextlib.nullcontext() (or autocast(..., enabled=False)), and "
                "convert the model and its inputs with .half() yourself if you want float16")
        self._enabled = False

    def __enter__(self) -> autocast:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:  # type: ignore[override]
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        return run


# ---------------------------------------------------------------------- tg.cuda.amp
class _CudaGradScaler(GradScaler):
    """PyTorch's older ``torch.cuda.amp.GradScaler(init_scale, growth_factor, backoff_factor,
    growth_interval, enabled)``: ``GradScaler("cuda", ...)``."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated (as in PyTorch). Please "
                      "use `tinygrad_cnn.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


class _CudaAutocast(autocast):
    """PyTorch's older ``torch.cuda.amp.autocast(enabled=True, dtype=float16, cache_enabled=True)``:
    ``autocast("cuda", ...)``."""

    def __init__(self, enabled: bool = True, dtype: Any = None, cache_enabled: bool = True) -> None:
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated (as in PyTorch). Please "
                      "use `tinygrad_cnn.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", dtype, enabled, cache_enabled)


_CudaGradScaler.__name__ = _CudaGradScaler.__qualname__ = "GradScaler"
_CudaAutocast.__name__ = _CudaAutocast.__qualname__ = "autocast"
cuda_amp = types.ModuleType("tinygrad_cnn.cuda.amp", "PyTorch's ``torch.cuda.amp``: "
                            "``tinygrad_cnn.amp``'s GradScaler and autocast on the device 'cuda'.")
cuda_amp.GradScaler = _CudaGradScaler  # type: ignore[attr-defined]
cuda_amp.autocast = _CudaAutocast  # type: ignore[attr-defined]
sys.modules[cuda_amp.__name__] = cuda_amp
_cuda.amp = cuda_amp  # type: ignore[attr-defined]
