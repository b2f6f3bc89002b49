"""The array module of a device: numpy for ``"cpu"``, CuPy for ``"cuda"``.

Every op finds the module of its arrays with :func:`array_module` instead of calling ``numpy.``
directly, so the same forward code runs on both. CuPy is imported only when a CUDA tensor is made.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np

DEVICES = ("cpu", "cuda")

_cupy: ModuleType | None = None


class DeviceUnavailableError(RuntimeError):
    """A device was asked for that this machine cannot provide."""


def _load_cupy() -> ModuleType:
    global _cupy
    if _cupy is None:
        try:
            _cupy = importlib.import_module("cupy")
            _cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # ImportError, or a CUDA runtime error without a GPU
            _cupy = None
            raise DeviceUnavailableError(
                "device 'cuda' is not available: it needs CuPy and a CUDA GPU "
                f"({type(exc).__name__}: {exc}). Install CuPy for your CUDA version "
                "(e.g. `pip install cupy-cuda12x`) or use device='cpu'."
            ) from exc
    return _cupy


def normalize_device(device: str | None) -> str:
    """``None``/``"cpu"`` -> ``"cpu"``; ``"cuda"``/``"cuda:0"``/``"gpu"`` -> ``"cuda"``."""
    if device is None:
        return "cpu"
    if not isinstance(device, str):
        device = str(device)
    name = device.lower().split(":")[0]
    if name == "gpu":
        name = "cuda"
    if name not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of {DEVICES}")
    return name


def get_module(device: str) -> ModuleType:
    """The array module (numpy or cupy) that holds a device's arrays."""
    device = normalize_device(device)
    return np if device == "cpu" else _load_cupy()


def is_available(device: str) -> bool:
    """Whether arrays can be made on ``device`` here."""
    try:
        get_module(device)
    except DeviceUnavailableError:
        return False
    return True


def array_module(arr: Any) -> ModuleType:
    """The module of an array: numpy for ``np.ndarray``, cupy for a CuPy array."""
    if type(arr) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(arr)


def device_of(arr: Any) -> str:
    """``"cpu"`` for a numpy array, ``"cuda"`` for a CuPy array."""
    return "cpu" if array_module(arr) is np else "cuda"


def to_device(arr: Any, device: str) -> Any:
    """Copy an array to ``device`` (no copy when it is already there)."""
    device = normalize_device(device)
    if device_of(arr) == device:
        return arr
    if device == "cpu":
        return arr.get()
    return get_module("cuda").asarray(arr)


def to_numpy(arr: Any) -> np.ndarray:
    """A numpy array with the values of ``arr`` (a device-to-host copy for CuPy)."""
    return arr if type(arr) is np.ndarray else to_device(arr, "cpu")
