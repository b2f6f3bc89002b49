"""The check of a scalar hyper-parameter (a slope, a probability, a learning rate, a fill value):
a real number, and an error naming the op, the argument and what was given when it is not (a
string or None reached ``float()`` or a comparison and failed with Python's own words)."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np

from tinygrad_cnn.backend import type_name

#: the numbers PyTorch takes for a scalar argument (bool is an int, as there)
REAL_TYPES = (int, float, np.integer, np.floating, np.bool_)

#: ``"none"``: numbers only; ``"0d"``: a 0-d Tensor too (PyTorch's ``Number`` arguments);
#: ``"one"``: a Tensor or array of one element too (the optimizers' options, PyTorch's ``lr``)
TensorRule = Literal["none", "0d", "one"]

_ALSO = {"none": "", "0d": " (or a 0-d tensor)", "one": " (or a one-element tensor)"}


def is_number(value: Any, tensors: TensorRule = "none") -> bool:
    """``value`` is a real number (a Python or numpy int, float or bool), or a real tensor that
    ``tensors`` allows."""
    if isinstance(value, REAL_TYPES):
        return True
    if tensors == "none":
        return False
    from tinygrad_cnn.tensor import Tensor

    if isinstance(value, Tensor):
        size_ok = value.ndim == 0 if tensors == "0d" else value.numel() == 1
        return size_ok and value.dtype.kind in "biuf"
    if tensors == "one" and isinstance(getattr(value, "shape", None), tuple) and \
            hasattr(value, "dtype"):
        return math.prod(value.shape) == 1 and getattr(value.dtype, "kind", "") in "biuf"
    return False


def described(value: Any) -> str:
    """``str``, ``NoneType``, ``Tensor of shape (2,)``: what was given, for an error."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and not isinstance(value, REAL_TYPES):
        return f"{type_name(value)} of shape {shape}"
    return type_name(value)


def check_number(op: str, name: str, value: Any, tensors: TensorRule = "none") -> None:
    """Refuse a ``value`` of argument ``name`` of ``op`` that is not a number: PyTorch's
    TypeError, naming the op, the argument and the type given."""
    if not is_number(value, tensors):
        raise TypeError(f"{op}: {name} must be a number{_ALSO[tensors]}, got {described(value)}")


def check_numbers(op: str, tensors: TensorRule = "none", **values: Any) -> None:
    """:func:`check_number` of each ``name=value``."""
    for name, value in values.items():
        check_number(op, name, value, tensors)


def check_callable(op: str, name: str, value: Any) -> None:
    """Refuse a ``value`` of argument ``name`` of ``op`` that cannot be called (found at once,
    not at the first call, deep in a training loop)."""
    if not callable(value):
        raise TypeError(f"{op}: {name} must be callable (a function), got {described(value)}")


def check_training(op: str, training: Any) -> None:
    """A ``training`` flag that is a bool (Python's or numpy's), as PyTorch's argument parser
    wants it."""
    if not isinstance(training, (bool, np.bool_)):
        raise TypeError(f"{op}: training must be a bool, got {type(training).__name__} "
                        f"{training!r}")
