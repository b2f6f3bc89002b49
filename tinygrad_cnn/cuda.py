"""``tg.cuda``: the ``torch.cuda`` queries ported scripts start with (``device = tg.device("cuda"
if tg.cuda.is_available() else "cpu")``). The GPU is CuPy's, when it is installed and sees one."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn import backend

__all__ = ["current_device", "device_count", "empty_cache", "is_available", "manual_seed",
           "manual_seed_all", "synchronize"]
#: (a package to the import system: ``import tinygrad_cnn.cuda.amp`` reaches the finder that
#: says what to write instead, not Python's "'tinygrad_cnn.cuda' is not a package")
__path__: list[str] = []


def __getattr__(name: str) -> Any:
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)


def is_available() -> bool:
    """Whether tensors can be made on ``"cuda"`` here (CuPy installed and a GPU visible)."""
    return backend.is_available("cuda")


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or a GPU)."""
    if not is_available():
        return 0
    return int(backend.get_module("cuda").cuda.runtime.getDeviceCount())


def current_device() -> int:
    """The index of the GPU in use (PyTorch's error without one)."""
    _need("current_device")
    return int(backend.get_module("cuda").cuda.Device().id)


def synchronize(device: Any = None) -> None:
    """Wait for the GPU's queued work (nothing to wait for without one, as PyTorch errors)."""
    _need("synchronize")
    backend.get_module("cuda").cuda.Device().synchronize()


def empty_cache() -> None:
    """Give CuPy's cached GPU memory back (no-op without CUDA, as PyTorch's)."""
    if is_available():
        backend.get_module("cuda").get_default_memory_pool().free_all_blocks()


def manual_seed(seed: int) -> None:
    """Accepted for ported scripts; one generator (``tg.manual_seed``) serves both devices here,
    so this seeds nothing by itself."""


manual_seed_all = manual_seed


def _need(what: str) -> None:
    if not is_available():
        raise RuntimeError(f"cuda.{what}: no CUDA GPU here (CuPy is not installed or sees no "
                           "GPU); check tg.cuda.is_available() first")
