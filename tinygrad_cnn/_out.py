"""PyTorch's ``out=`` argument on the top-level functions: ``tg.add(a, b, out=c)`` writes the
result into ``c`` and returns ``c``.

As in PyTorch: the result is computed as without ``out``, then cast to ``out``'s dtype where the
cast keeps its category (a float result into an integer ``out`` is an error, a bool one into
anything is fine); an empty ``out`` is resized to the result's shape, one of another shape too,
with PyTorch's deprecation warning; a factory (``zeros``, ``arange``, ``rand``, ...) makes its
values in ``out``'s dtype unless given one; and nothing is recorded -- where grad mode is on and
an argument (or ``out``) requires grad, it is PyTorch's error.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

#: functions whose result is one tensor, computed from their arguments
COMPUTED = (
    "abs absolute acos acosh arccos arccosh asin asinh arcsin arcsinh atan atanh arctan arctanh "
    "ceil cos cosh deg2rad digamma erf erfc erfinv exp exp2 expm1 floor frac fix lgamma log log10 "
    "log1p log2 logit neg negative rad2deg reciprocal round rsqrt sigmoid sign sgn signbit sin "
    "sinc sinh sqrt square tan tanh trunc nan_to_num logical_not isneginf isposinf "
    "add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow atan2 "
    "arctan2 hypot maximum minimum fmax fmin copysign logaddexp logaddexp2 xlogy eq ne ge gt le "
    "lt greater less greater_equal less_equal not_equal logical_and logical_or logical_xor "
    "heaviside nextafter ldexp float_power clamp clip clamp_min clamp_max lerp where "
    "matmul mm bmm mv dot vdot outer inner ger kron addmm addmv addbmm baddbmm addr addcmul "
    "addcdiv cross tril triu diag "
    "sum mean prod std var amax amin logsumexp cumsum cumprod argmax argmin nansum nanmean "
    "all any norm "
    "cat concat concatenate stack hstack vstack dstack column_stack row_stack"
).split()
#: factories: ``out``'s dtype unless ``dtype`` is given
FACTORIES = "zeros ones full empty arange linspace logspace eye rand randn randint randperm".split()


def with_out(fn: Any, name: str, factory: bool = False) -> Any:
    """``fn`` taking PyTorch's keyword ``out`` (see the module's docstring)."""

    @functools.wraps(fn)
    def call(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        from tinygrad_cnn.autograd import _state, no_grad
        from tinygrad_cnn.tensor import Tensor

        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be a Tensor, not "
                            f"{type(out).__name__}")
        if _state.grad_enabled and any(isinstance(t, Tensor) and t.requires_grad
                                       for t in (*_tensors(args), *_tensors(kwargs.values()),
                                                 out)):
            raise RuntimeError(
                f"{name}(): functions with out=... arguments don't support automatic "
                "differentiation, but one of the arguments requires grad (as in PyTorch); call "
                f"it without out= (result = {name}(...)) or under no_grad()")
        if factory and kwargs.get("dtype") is None:
            kwargs["dtype"] = out.dtype
        with no_grad():
            result = fn(*args, **kwargs)
            if not isinstance(result, Tensor):
                raise TypeError(f"{name}(): out= takes one tensor, and this call gives "
                                f"{type(result).__name__}")
            if not _can_cast(result.dtype, out.dtype):
                raise RuntimeError(f"{name}(): result type {_torch_name(result.dtype)} can't be "
                                   f"cast to the desired output type {_torch_name(out.dtype)} "
                                   "(as in PyTorch); pass an out= of a wider kind")
            if tuple(out.shape) != tuple(result.shape):
                _resize(out, tuple(result.shape), name)
            out.copy_(result)
        return out

    call.__wrapped_out__ = fn  # type: ignore[attr-defined]
    return call


def _tensors(values: Any) -> list[Any]:
    found = []
    for v in values:
        if isinstance(v, (list, tuple)):
            found.extend(_tensors(v))
        else:
            found.append(v)
    return found


def _can_cast(src: np.dtype, dst: np.dtype) -> bool:
    """PyTorch's ``canCast``: no float into an integer, no non-bool into bool."""
    order = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    return order[src.kind] <= order[dst.kind] and not (dst.kind == "b" and src.kind != "b")


def _torch_name(dt: np.dtype) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
            "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
            "bool": "Bool"}.get(str(dt), str(dt))


def _resize(out: Any, shape: tuple[int, ...], name: str) -> None:
    """``out`` given ``shape`` (new memory), PyTorch's warning where it held elements."""
    if out._view is not None:
        raise RuntimeError(f"{name}(): out= is a view of another tensor and has shape "
                           f"{tuple(out.shape)}, not the result's {shape}: a view cannot be "
                           "resized; pass an out= of the result's shape")
    if out.numel():
        warnings.warn(
            f"An output with one or more elements was resized since it had shape "
            f"{list(out.shape)}, which does not match the required output shape {list(shape)}. "
            "This behavior is deprecated, and in a future PyTorch release outputs will not be "
            "resized unless they have zero elements. You can explicitly reuse an out tensor t "
            "by resizing it, inplace, to zero elements with t.resize_(0). (PyTorch's warning)",
            UserWarning, stacklevel=3)
    from tinygrad_cnn.backend import array_module

    out._data = array_module(out._data).zeros(shape, out.dtype)
    out._version_counter[0] += 1
