"""Memory formats, PyTorch's ``memory_format`` argument: how the elements of an image batch lie
in memory. ``contiguous_format`` is row-major (N, C, H, W); ``channels_last`` keeps the channels
of a pixel together (strides of an (N, H, W, C) array, shape still (N, C, H, W));
``preserve_format`` keeps the input's layout. A layout never changes a value, a shape or a
gradient -- only ``stride()`` and ``is_contiguous(memory_format=...)`` show it -- so a ported
``x.to(memory_format=tinygrad_cnn.channels_last)`` runs as it did in PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["channels_last", "channels_last_3d", "contiguous_format", "layout", "memory_format",
           "preserve_format", "strided"]


class memory_format:  # noqa: N801 (PyTorch's name: torch.memory_format)
    """One of the memory formats below (compare with ``is``, as in PyTorch)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"tinygrad_cnn.{self.name}"

    def __reduce__(self) -> str:
        return self.name  # (pickled as the module-level instance)


contiguous_format = memory_format("contiguous_format")
preserve_format = memory_format("preserve_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")


class layout:  # noqa: N801 (PyTorch's name: torch.layout)
    """A tensor layout: ``strided``, the only one here (PyTorch's sparse layouts are not)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "tinygrad_cnn.strided"

    def __reduce__(self) -> str:
        return "strided"


strided = layout()


def factory_options(op: str, kind: Any = None, pin: Any = False) -> None:
    """PyTorch's factory keywords that pick nothing here, checked: ``layout`` (``strided``, or
    PyTorch's ``torch.strided``) and ``pin_memory`` (a bool or None; page-locked host memory is a
    CUDA transfer detail, so it changes nothing on the CPU)."""
    if kind is not None and kind is not strided and str(kind) != "torch.strided":
        raise TypeError(f"{op}(): layout must be tinygrad_cnn.strided (the only layout here; "
                        f"sparse layouts are not supported), got {kind!r}")
    if pin is not None and not isinstance(pin, (bool, np.bool_)):  # (None: PyTorch's default)
        raise TypeError(f"{op}(): argument 'pin_memory' must be bool, not {type(pin).__name__}")


_BY_NAME = {f.name: f for f in (contiguous_format, preserve_format, channels_last,
                                channels_last_3d)}
#: the rank each channels-last format needs
_RANK = {"channels_last": 4, "channels_last_3d": 5}


def resolve(fmt: Any, op: str, ndim: int | None = None) -> str:
    """The name of memory format ``fmt`` -- ours, or PyTorch's object in code ported with torch
    (``torch.channels_last``) -- checked against the tensor's rank; a clear error otherwise."""
    name = fmt.name if isinstance(fmt, memory_format) else None
    if name is None and type(fmt).__name__ == "memory_format":  # a torch.memory_format
        name = str(fmt).rsplit(".", 1)[-1]
    if name not in _BY_NAME:
        raise TypeError(f"{op}: memory_format must be one of tinygrad_cnn.contiguous_format, "
                        f"preserve_format, channels_last or channels_last_3d, got {fmt!r}")
    rank = _RANK.get(name)
    if rank is not None and ndim is not None and ndim != rank:
        raise RuntimeError(f"{op}: memory_format={name} needs a {rank}-d tensor (N, C, "
                           f"{'D, ' if rank == 5 else ''}H, W), got a {ndim}-d one; use "
                           "contiguous_format for other ranks")
    return name


def _channels_last_order(ndim: int) -> tuple[int, ...]:
    """The axes of an (N, C, *spatial) array in the order they lie in memory: (N, *spatial, C)."""
    return (0, *range(2, ndim), 1)


def holds(data: Any, name: str) -> bool:
    """Whether array ``data`` lies in memory in format ``name`` (``preserve_format``: always)."""
    if name == "preserve_format":
        return True
    if name == "contiguous_format":
        return bool(data.flags.c_contiguous)
    order = _channels_last_order(data.ndim)
    return bool(data.transpose(order).flags.c_contiguous)


def arrange(data: Any, name: str) -> Any:
    """A copy of array ``data`` laid out in format ``name``."""
    if name == "contiguous_format":
        return data.copy()
    if name == "preserve_format":
        from tinygrad_cnn.ops.movement import copy_preserving

        return data.copy() if data.ndim < 2 else copy_preserving(data)
    order = _channels_last_order(data.ndim)
    xp_copy = data.transpose(order).copy()
    return xp_copy.transpose(np.argsort(order))


def follow(x: Any, out: Any) -> Any:
    """4-d array ``out`` laid out channels-last where 4-d ``x`` lies so (and not also in C
    order: PyTorch's ``suggest_memory_format``), as PyTorch's convolutions, pools and resampling
    give their results (``Function.follows_channels_last``); else ``out`` itself."""
    if x.ndim != 4 or out.ndim != 4 or x.flags.c_contiguous or not holds(x, "channels_last") \
            or holds(out, "channels_last"):
        return out
    return arrange(out, "channels_last")
