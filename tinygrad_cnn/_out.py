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

import contextlib
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
    "cat concat concatenate stack hstack vstack dstack column_stack row_stack "
    "gather index_select take_along_dim masked_select tensordot nonzero "
    "index_add index_copy index_reduce scatter scatter_add scatter_reduce logcumsumexp diff "
    "sort topk kthvalue cummax cummin mode median nanmedian max min aminmax "
    "quantile nanquantile histc polygamma mvlgamma"
).split()
#: functions whose result is a ``(values, indices)``-like named tuple (for ``max``, ``min``,
#: ``median``, ``nanmedian``: their forms with a ``dim``): ``out=`` is a tuple of as many
#: tensors, each of its result's dtype exactly (PyTorch's "Expected out tensor to have dtype")
TUPLE_RESULT = frozenset(
    "sort topk kthvalue cummax cummin mode median nanmedian max min aminmax".split())
#: functions with no gradient (comparisons, logical ops, indices): their ``out=`` is allowed
#: with an argument that requires grad, as in PyTorch (there is nothing to record)
NO_GRADIENT = frozenset(
    "eq ne ge gt le lt greater less greater_equal less_equal not_equal logical_and logical_or "
    "logical_xor logical_not isneginf isposinf signbit argmax argmin nonzero all any "
    "floor_divide heaviside histc".split())
#: functions whose ``out`` may not share memory with an input in part (PyTorch's elementwise
#: kernels; its reductions and products check nothing, and here compute from a snapshot)
NO_OVERLAP_AT_ALL = frozenset(
    "cross cat concat concatenate stack hstack vstack dstack column_stack row_stack gather "
    "index_select take_along_dim masked_select index_add index_copy index_reduce scatter "
    "scatter_add scatter_reduce".split())
#: ... except for the tensor written into (``index_add(a, 0, i, s, out=a)``: in place, as
#: PyTorch allows it; a part of it is refused)
SELF_AS_OUT = frozenset(
    "index_add index_copy index_reduce scatter scatter_add scatter_reduce".split())
#: the elementwise ones (PyTorch's TensorIterator: an ``out`` that is also an input is never
#: resized; its reductions and products resize it and read the resized memory)
ELEMENTWISE = frozenset(COMPUTED[:COMPUTED.index("matmul")])
OVERLAP_CHECKED = ELEMENTWISE | NO_OVERLAP_AT_ALL | {
    "addcmul", "addcdiv"}
#: factories: ``out``'s dtype unless ``dtype`` is given
FACTORIES = "zeros ones full empty arange linspace logspace eye rand randn randint randperm".split()
#: reductions that compute in ``out``'s dtype, as if it were their ``dtype=`` (a float16 sum into
#: a float32 ``out`` does not overflow; a float sum into an int64 one casts the input first)
IN_OUT_DTYPE = frozenset("sum mean prod cumsum cumprod nansum nanmean".split())
#: functions PyTorch writes into ``out`` by a copy it records (composites: ``out`` gets a
#: CopyBackwards node and the gradient reaches the inputs -- not refused with grad); a resized
#: ``out`` is C-contiguous, as that copy leaves it
RECORDED_COPY = frozenset("quantile nanquantile ndtr".split())
#: functions whose ``out`` must have the result's dtype exactly (PyTorch casts only in its
#: elementwise kernels): "Found dtype Double but expected Float"
EXACT = frozenset(
    "abs absolute neg negative ceil floor round trunc fix frac sign sgn clamp clip clamp_min "
    "clamp_max lerp where nan_to_num float_power heaviside signbit isposinf isneginf argmax "
    "argmin matmul mm bmm mv dot vdot inner addmm addmv addbmm baddbmm cross diag tril triu norm "
    "amax amin gather index_select take_along_dim masked_select tensordot nonzero index_add "
    "index_copy index_reduce scatter scatter_add scatter_reduce logcumsumexp quantile "
    "nanquantile histc".split()) | TUPLE_RESULT


def with_out(fn: Any, name: str, factory: bool = False) -> Any:
    """``fn`` taking PyTorch's keyword ``out`` (see the module's docstring)."""

    @functools.wraps(fn)
    def call(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if factory and ("layout" in kwargs or "pin_memory" in kwargs):
            from tinygrad_cnn.layout import factory_options

            # (PyTorch's keywords that pick nothing here)
            factory_options(name, kwargs.pop("layout", None), kwargs.pop("pin_memory", False))
        if out is None:
            return fn(*args, **kwargs)
        from tinygrad_cnn.autograd import no_grad
        from tinygrad_cnn.tensor import Tensor

        if name in TUPLE_RESULT and isinstance(out, (tuple, list)):
            return _tuple_out(fn, name, args, kwargs, tuple(out))
        if not isinstance(out, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be a Tensor, not "
                            f"{type(out).__name__}")
        if name not in NO_GRADIENT and name not in RECORDED_COPY:
            _not_recorded(name, args, kwargs, (out,))
        if name in OVERLAP_CHECKED:  # (add(h[:-1], 1, out=h[1:]): refused, as PyTorch's)
            from tinygrad_cnn.tensor import _no_partial_overlap

            strict = name in NO_OVERLAP_AT_ALL
            first = args[0] if args and name in SELF_AS_OUT else None
            for t in (*_tensors(args), *_tensors(kwargs.values())):
                if isinstance(t, Tensor) and (strict or t is not out):
                    _no_partial_overlap(name, out._data, t._data, strict and t is not first)
        if factory or name in IN_OUT_DTYPE:
            asked = kwargs.get("dtype")
            if asked is None:
                kwargs["dtype"] = out.dtype
            elif np.dtype(asked) != out.dtype:
                raise RuntimeError(f"{name}(): dtype {_torch_name(np.dtype(asked))} does not match "
                                   f"dtype of out parameter ({_torch_name(out.dtype)}), as in "
                                   "PyTorch; leave dtype out or pass an out= of that dtype")
        elif name == "logsumexp" and args and isinstance(args[0], Tensor) and \
                out.dtype.kind == "f" and args[0].dtype != out.dtype:
            args = (args[0].to(out.dtype), *args[1:])  # (in out's dtype, as PyTorch's)
        with no_grad() if name not in RECORDED_COPY else contextlib.nullcontext():
            result = fn(*args, **kwargs)
            if not isinstance(result, Tensor):
                many = f" (a tuple of {len(result)} tensors here)" if isinstance(result, tuple) \
                    else ""
                raise TypeError(f"{name}(): out= takes one tensor, and this call gives "
                                f"{type(result).__name__}{many}")
            if name in EXACT and result.dtype != out.dtype and not (
                    name in ("all", "any") and out.dtype == np.uint8) and not (
                    name == "lerp" and getattr(_weight(args, kwargs), "ndim", 0) == 0):
                # (lerp with a number or 0-d weight casts into out, as PyTorch's does)
                raise RuntimeError(
                    f"{name}(): Found dtype {_torch_name(out.dtype)} but expected "
                    f"{_torch_name(result.dtype)} (PyTorch's {name} takes an out= of its "
                    "result's dtype only); pass one of that dtype, or cast the result")
            if not _can_cast(result.dtype, out.dtype):
                raise RuntimeError(f"{name}(): result type {_torch_name(result.dtype)} can't be "
                                   f"cast to the desired output type {_torch_name(out.dtype)} "
                                   "(as in PyTorch); pass an out= of a wider kind")
            if tuple(out.shape) != tuple(result.shape):
                if name in ELEMENTWISE and out.numel() and any(
                        isinstance(t, Tensor) and np.may_share_memory(t._data, out._data)
                        for t in (*_tensors(args), *_tensors(kwargs.values()))):
                    # an input written into: never resized (PyTorch's words; was resized with
                    # a warning: add(x, y, out=x) grew x to the broadcast shape -- t144)
                    from tinygrad_cnn.backend import ArgumentValueError

                    raise ArgumentValueError(
                        f"{name}(): output with shape {list(out.shape)} doesn't match the "
                        f"broadcast shape {list(result.shape)} (out= is also an input here, "
                        "and is never resized, as in PyTorch); pass an out= of the result's "
                        "shape")
                _resize(out, result, name, warn=not factory,
                        c_order=name in RECORDED_COPY)
            out.copy_(result)
        if factory and kwargs.get("requires_grad"):
            out.requires_grad_(True)
        return out

    call.__wrapped_out__ = fn  # type: ignore[attr-defined]
    return call


def _tuple_out(fn: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
               outs: tuple[Any, ...]) -> Any:
    """``out=(values, indices)``: each part written with its result's part (of its dtype
    exactly; resized as a single ``out`` is), the result a named tuple of the ``out`` tensors."""
    from tinygrad_cnn.autograd import no_grad
    from tinygrad_cnn.tensor import Tensor

    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of Tensors, not one "
                            f"holding {type(o).__name__}")
    _not_recorded(name, args, kwargs, outs)
    if len({id(o._data) for o in outs}) < len(outs) or any(
            o._data.size and p._data.size and np.shares_memory(o._data, p._data)
            for k, o in enumerate(outs) for p in outs[k + 1:]):
        raise RuntimeError(f"{name}(): the tensors of out= share memory; pass separate ones")
    with no_grad():
        result = fn(*args, **kwargs)
        if not isinstance(result, tuple):
            raise TypeError(f"{name}(): this call gives one tensor, so out= takes one tensor, "
                            f"not a tuple of {len(outs)}")
        if len(outs) != len(result):
            raise TypeError(f"{name}(): expected a tuple of {len(result)} tensors as out= "
                            f"({', '.join(getattr(result, '_fields', ()))}), got {len(outs)}")
        for field, r, o in zip(getattr(result, "_fields", range(len(result))), result, outs):
            if r.dtype != o.dtype:
                raise RuntimeError(
                    f"{name}(): Expected out tensor to have dtype {_torch_name(r.dtype)}, but "
                    f"got {_torch_name(o.dtype)} instead (out= {field!r}; PyTorch's rule); pass "
                    "one of that dtype")
        for r, o in zip(result, outs):
            if tuple(o.shape) != tuple(r.shape):
                _resize(o, r, name, warn=True)
            o.copy_(r)
    return type(result)(*outs) if hasattr(result, "_fields") else tuple(outs)


def _not_recorded(name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                  outs: tuple[Any, ...]) -> None:
    """PyTorch's error for ``out=`` while grad mode is on and an argument (or ``out``) requires
    grad: ``out=`` records nothing."""
    from tinygrad_cnn.autograd import _state
    from tinygrad_cnn.tensor import Tensor

    if _state.grad_enabled and any(isinstance(t, Tensor) and t.requires_grad
                                   for t in (*_tensors(args), *_tensors(kwargs.values()), *outs)):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad (as in PyTorch); call "
            f"it without out= (result = {name}(...)) or under no_grad()")


def _weight(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """lerp's weight, given by position or by name."""
    return args[2] if len(args) > 2 else kwargs.get("weight")


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


def _resize(out: Any, result: Any, name: str, warn: bool, c_order: bool = False) -> None:
    """``out`` given ``result``'s shape (new memory, laid out as ``result``: in the stride order
    PyTorch gives a resized ``out``; ``c_order``: in C order), with PyTorch's warning where it held
    elements (not for a factory, which PyTorch resizes quietly)."""
    from tinygrad_cnn.autograd import empty_in_order, torch_order
    from tinygrad_cnn.backend import array_module

    shape = tuple(result.shape)
    if out._view is not None:
        raise RuntimeError(f"{name}(): out= is a view of another tensor and has shape "
                           f"{tuple(out.shape)}, not the result's {shape}: a view cannot be "
                           "resized; pass an out= of the result's shape")
    if out.numel() and warn:
        warnings.warn(
            f"An output with one or more elements was resized since it had shape "
            f"{list(out.shape)}, which does not match the required output shape {list(shape)}. "
            "This behavior is deprecated, and in a future PyTorch release outputs will not be "
            "resized unless they have zero elements. You can explicitly reuse an out tensor t "
            "by resizing it, inplace, to zero elements with t.resize_(0). (PyTorch's warning)",
            UserWarning, stacklevel=3)
    data = result._data
    order = list(range(len(shape) - 1, -1, -1)) if c_order else torch_order(shape, (data,))
    out._data = empty_in_order(shape, out.dtype, order, array_module(data))
    out._version_counter[0] += 1
