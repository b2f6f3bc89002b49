"""Padding layers over ``F.pad``, with PyTorch's constructors and reprs: ZeroPad2d,
ConstantPad2d, ReflectionPad2d, ReplicationPad2d, CircularPad2d. ``padding`` is an int (every
side) or ``(left, right, top, bottom)``; it is kept as that tuple, as PyTorch keeps it. The 1-D
ones (ZeroPad1d, ConstantPad1d, ReflectionPad1d, ReplicationPad1d, CircularPad1d) pad the last
dim by an int (both sides) or ``(left, right)``; the 3-D ones (ZeroPad3d, ConstantPad3d,
ReflectionPad3d, ReplicationPad3d, CircularPad3d) the last three, by an int or ``(left, right, top,
bottom, front, back)``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


def _quadruple(padding: int | Sequence[int], layer: str) -> tuple[int, ...]:
    """PyTorch's ``_quadruple``: an int for all four sides, or the sequence as it is (an even
    number of ints; two pad only the last dim)."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return (int(padding),) * 4
    if isinstance(padding, Sequence) and len(padding) in (2, 4) and all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in padding):
        return tuple(int(p) for p in padding)
    raise ValueError(f"{layer}: padding must be an int or 4 ints (left, right, top, bottom), got "
                     f"{padding!r}")


class _Pad2d(Module):
    """A padding mode of ``F.pad`` as a layer over ``(C, H, W)`` or ``(N, C, H, W)``."""

    mode = ""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _quadruple(padding, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor) or input.ndim not in (3, 4):
            got = f"{input.ndim}-D {input.shape}" if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{type(self).__name__}: expected a 3-D (C, H, W) or 4-D "
                             f"(N, C, H, W) input, got {got}")
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad2d(_Pad2d):
    """Mirror the image about its edges (the edge itself not repeated); each pad must be smaller
    than its dim."""

    mode = "reflect"


class ReplicationPad2d(_Pad2d):
    """Repeat the edge pixels outwards."""

    mode = "replicate"


class CircularPad2d(_Pad2d):
    """Wrap around (periodic boundary); each pad at most its dim."""

    mode = "circular"


class ConstantPad2d(Module):
    """Pad the last two dims with ``value`` (any number of leading dims)."""

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__()
        self.padding = _quadruple(padding, type(self).__name__)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros (the padding of a convolution, as a layer)."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


def _pair(padding: int | Sequence[int], layer: str) -> tuple[int, int]:
    """PyTorch's ``_pair``: an int for both sides, or ``(left, right)``."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return (int(padding),) * 2  # type: ignore[return-value]
    if isinstance(padding, Sequence) and len(padding) == 2 and all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in padding):
        return int(padding[0]), int(padding[1])
    raise ValueError(f"{layer}: padding must be an int or 2 ints (left, right), got {padding!r}")


class _Pad1d(Module):
    """A padding mode of ``F.pad`` as a layer over ``(C, L)`` or ``(N, C, L)``."""

    mode = ""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _pair(padding, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor) or input.ndim not in (2, 3):
            got = f"{input.ndim}-D {input.shape}" if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{type(self).__name__}: expected a 2-D (C, L) or 3-D (N, C, L) "
                             f"input, got {got}")
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_Pad1d):
    """Mirror the signal about its ends (the end itself not repeated); each pad must be smaller
    than the length."""

    mode = "reflect"


class ReplicationPad1d(_Pad1d):
    """Repeat the end values outwards."""

    mode = "replicate"


class CircularPad1d(_Pad1d):
    """Wrap around (periodic boundary); each pad at most the length."""

    mode = "circular"


class ConstantPad1d(Module):
    """Pad the last dim with ``value`` (any number of leading dims)."""

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__()
        self.padding = _pair(padding, type(self).__name__)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


def _sextuple(padding: int | Sequence[int], layer: str) -> tuple[int, ...]:
    """PyTorch's ``_ntuple(6)``: an int for all six sides, or the sequence as it is (an even number
    of ints, up to six: ``(left, right, top, bottom, front, back)``)."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return (int(padding),) * 6
    if isinstance(padding, Sequence) and len(padding) in (2, 4, 6) and all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in padding):
        return tuple(int(p) for p in padding)
    raise ValueError(f"{layer}: padding must be an int or 6 ints (left, right, top, bottom, front, "
                     f"back), got {padding!r}")


class _Pad3d(Module):
    """A padding mode of ``F.pad`` as a layer over ``(C, D, H, W)`` or ``(N, C, D, H, W)``."""

    mode = ""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _sextuple(padding, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor) or input.ndim not in (4, 5):
            got = f"{input.ndim}-D {input.shape}" if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"{type(self).__name__}: expected a 4-D (C, D, H, W) or 5-D "
                             f"(N, C, D, H, W) input, got {got}")
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad3d(_Pad3d):
    """Mirror the volume about its faces (the face itself not repeated); each pad must be smaller
    than its dim."""

    mode = "reflect"


class ReplicationPad3d(_Pad3d):
    """Repeat the face voxels outwards."""

    mode = "replicate"


class CircularPad3d(_Pad3d):
    """Wrap around (periodic boundary); each pad at most its dim."""

    mode = "circular"


class ConstantPad3d(Module):
    """Pad the last three dims with ``value`` (any number of leading dims)."""

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__()
        self.padding = _sextuple(padding, type(self).__name__)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dims with zeros."""

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
