"""Padding layers over ``F.pad``, with PyTorch's constructors and reprs, for 1, 2 and 3 spatial
dims: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and CircularPad, each ``1d``, ``2d`` and
``3d``. ``padding`` is an int (every side) or the sides as ``F.pad`` takes them, last dim first:
``(left, right)``, ``(left, right, top, bottom)``, ``(left, right, top, bottom, front, back)`` --
fewer pairs pad only the last dims. It is kept as that tuple, as PyTorch keeps it. The reflect,
replicate and circular layers take an input with one more dim than they pad (unbatched) or two."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tinygrad_cnn.backend import ArgumentValueError
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor

_SIDES = {1: "2 ints (left, right)", 2: "4 ints (left, right, top, bottom)",
          3: "6 ints (left, right, top, bottom, front, back)"}
_INPUTS = {1: "a 2-D (C, L) or 3-D (N, C, L)", 2: "a 3-D (C, H, W) or 4-D (N, C, H, W)",
           3: "a 4-D (C, D, H, W) or 5-D (N, C, D, H, W)"}


def _sides(padding: int | Sequence[int], dims: int, layer: str) -> tuple[int, ...]:
    """PyTorch's ``_pair``/``_quadruple``/``_ntuple(6)``: an int for every side of ``dims`` dims,
    or the sequence as it is (an even number of ints: ``F.pad`` takes the pairs from the last dim
    on, so ``ZeroPad1d((1, 1, 1, 1))`` pads two dims, as PyTorch's -- t189)."""
    if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
        return (int(padding),) * (2 * dims)
    if isinstance(padding, Sequence) and len(padding) and len(padding) % 2 == 0 and all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in padding):
        return tuple(int(p) for p in padding)
    # (also a RuntimeError, as PyTorch's refusal of an odd count is: t190)
    raise ArgumentValueError(f"{layer}: padding must be an int or {_SIDES[dims]}, got {padding!r}")


class _Pad(Module):
    """A padding mode of ``F.pad`` as a layer over ``dims`` spatial dims (input: one more dim,
    the channels, or two, with the batch)."""

    mode = ""
    dims = 2

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__()
        self.padding = _sides(padding, self.dims, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:
        # the dims padded are those the pads name, as PyTorch's (ReflectionPad1d((1, 1, 1, 1))
        # pads a 4-d input's last two: t190); F.pad refuses more than three
        dims = len(self.padding) // 2
        if not isinstance(input, Tensor) or (dims in _INPUTS and input.ndim not in (dims + 1,
                                                                                  dims + 2)):
            got = f"{input.ndim}-D {input.shape}" if isinstance(input, Tensor) else type(input).__name__
            # (a ValueError and PyTorch's NotImplementedError's base, RuntimeError: t189)
            raise ArgumentValueError(f"{type(self).__name__}: expected {_INPUTS.get(dims, 'a')} "
                                     f"input, got {got}")
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(Module):
    """Pad the last ``dims`` dims with ``value`` (any number of leading dims)."""

    dims = 2

    def __init__(self, padding: int | Sequence[int], value: float) -> None:
        super().__init__()
        self.padding = _sides(padding, self.dims, type(self).__name__)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPad:
    """A ConstantPad with zeros (mixed in before it: ``ZeroPad2d`` is a ``ConstantPad2d``, as in
    PyTorch)."""

    padding: tuple[int, ...]

    def __init__(self, padding: int | Sequence[int]) -> None:
        super().__init__(padding, 0.0)  # type: ignore[call-arg]

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_Pad):
    """Mirror the signal about its ends (the end itself not repeated); each pad must be smaller
    than the length."""

    mode, dims = "reflect", 1


class ReplicationPad1d(_Pad):
    """Repeat the end values outwards."""

    mode, dims = "replicate", 1


class CircularPad1d(_Pad):
    """Wrap around (periodic boundary); each pad at most the length."""

    mode, dims = "circular", 1


class ConstantPad1d(_ConstantPad):
    """Pad the last dim with ``value`` (any number of leading dims)."""

    dims = 1


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """Pad the last dim with zeros."""

    dims = 1


class ReflectionPad2d(_Pad):
    """Mirror the image about its edges (the edge itself not repeated); each pad must be smaller
    than its dim."""

    mode, dims = "reflect", 2


class ReplicationPad2d(_Pad):
    """Repeat the edge pixels outwards."""

    mode, dims = "replicate", 2


class CircularPad2d(_Pad):
    """Wrap around (periodic boundary); each pad at most its dim."""

    mode, dims = "circular", 2


class ConstantPad2d(_ConstantPad):
    """Pad the last two dims with ``value`` (any number of leading dims)."""

    dims = 2


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """Pad the last two dims with zeros (the padding of a convolution, as a layer)."""

    dims = 2


class ReflectionPad3d(_Pad):
    """Mirror the volume about its faces (the face itself not repeated); each pad must be smaller
    than its dim."""

    mode, dims = "reflect", 3


class ReplicationPad3d(_Pad):
    """Repeat the face voxels outwards."""

    mode, dims = "replicate", 3


class CircularPad3d(_Pad):
    """Wrap around (periodic boundary); each pad at most its dim."""

    mode, dims = "circular", 3


class ConstantPad3d(_ConstantPad):
    """Pad the last three dims with ``value`` (any number of leading dims)."""

    dims = 3


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    """Pad the last three dims with zeros."""

    dims = 3
