"""Argument checks the functional modules share (``F.gelu``, ``F.layer_norm``, ``F.interpolate``,
the losses, ...): a mistake is reported in terms of the call the user wrote."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.backend import type_name
from tinygrad_cnn.tensor import Tensor


class ArgumentValueError(ValueError, RuntimeError):
    """A wrong shape or argument value: a ValueError, the package's rule (see the README's
    "Errors"), and a RuntimeError, as PyTorch raises it, so code ported from PyTorch that catches
    RuntimeError still catches it."""


class ArgumentTypeError(TypeError, RuntimeError):
    """A wrong argument type or dtype: a TypeError, the package's rule, and PyTorch's
    RuntimeError (see :class:`ArgumentValueError`)."""


def floating(input: Any, op: str, what: str = "the input") -> Tensor:
    """``input`` if it is a floating Tensor; else a TypeError naming ``op`` and the fix."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type_name(input)}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be a floating tensor, got {input.dtype}; call "
                        ".float() first")
    return input
