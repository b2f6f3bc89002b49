"""Argument checks the functional modules share (``F.gelu``, ``F.layer_norm``, ``F.interpolate``,
the losses, ...): a mistake is reported in terms of the call the user wrote."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.backend import ArgumentTypeError, ArgumentValueError, type_name  # noqa: F401
from tinygrad_cnn.tensor import Tensor


def floating(input: Any, op: str, what: str = "the input") -> Tensor:
    """``input`` if it is a floating Tensor; else a TypeError naming ``op`` and the fix."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type_name(input)}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be a floating tensor, got {input.dtype}; call "
                        ".float() first")
    return input
