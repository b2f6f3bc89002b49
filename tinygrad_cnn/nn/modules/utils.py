"""``torch.nn.modules.utils``: the helpers custom layers import to take an int or a tuple for a
size (``_pair(3) == (3, 3)``), as PyTorch's."""

from __future__ import annotations

import collections.abc
import itertools
from collections.abc import Callable
from typing import Any

__all__ = ["_ntuple", "_pair", "_quadruple", "_reverse_repeat_tuple", "_single", "_triple"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple[Any, ...]]:
    """A function that makes ``n`` copies of a single value, and passes an iterable through as a
    tuple (PyTorch's)."""

    def parse(x: Any) -> tuple[Any, ...]:
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t: Any, n: int) -> tuple[Any, ...]:
    """``t`` reversed, each element repeated ``n`` times: a conv's padding as ``F.pad`` takes it."""
    return tuple(x for x in reversed(t) for _ in range(n))
