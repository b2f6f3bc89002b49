"""Argument checks the functional modules share (``F.gelu``, ``F.layer_norm``, ``F.interpolate``,
the losses, ...): a mistake is reported in terms of the call the user wrote."""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.backend import ArgumentTypeError, ArgumentValueError, type_name  # noqa: F401
from tinygrad_cnn.tensor import Tensor


def floating(input: Any, op: str, what: str = "the input") -> Tensor:
    """``input`` if it is a floating Tensor; else a TypeError naming ``op`` and the fix (of
    another dtype, an :class:`ArgumentTypeError`: also PyTorch's RuntimeError)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor, got {type_name(input)}")
    if input.dtype.kind != "f":
        raise ArgumentTypeError(f"{op}: {what} must be a floating tensor, got {input.dtype}; call "
                        ".float() first")
    return input


def exact_float(input: Tensor, op: str) -> Tensor:
    """An integer tensor as float64, for an op that only picks values out of it (nearest
    resampling, max pooling), as PyTorch's run on integer images; values beyond 2**53, which
    float64 would round, are refused."""
    import numpy as np

    from tinygrad_cnn.backend import to_numpy

    if input.dtype.itemsize == 8 and input.numel():
        biggest = int(np.abs(to_numpy(input._data)).max()) if input.dtype.kind == "i" else \
            int(to_numpy(input._data).max())
        if biggest > 2**53:
            raise TypeError(f"{op}: {input.dtype} values beyond 2**53 (here {biggest}) would be "
                            "rounded on the way; pass a floating tensor or smaller values")
    return input.to(np.float64)
