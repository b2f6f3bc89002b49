"""Elementwise ops: add, sub, mul, div, neg, pow, exp, log, sqrt, abs, maximum, minimum, clamp,
where, cast; and the binary math of issue 14: remainder, fmod, atan2, hypot, lerp (the math of one
tensor -- sin, erf, floor, ... -- is in ``unary.py``).

Binary ops receive operands that ``Tensor`` has promoted to one dtype. Add, sub, mul and div
broadcast them themselves (``own_broadcast``: their VJPs sum each gradient back to its operand's
shape with ``summed_to``, as PyTorch's do -- one node where an expand node per broadcast operand
made two or three); for the others ``Tensor`` expands an operand that gets a gradient to the
output's shape first. Either way every VJP returns a gradient of exactly its input's shape.
Masks (``x > y``) are constants: their derivative is zero almost everywhere.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn import parallel
from tinygrad_cnn.autograd import Context, Function, _state, first_order, forward_arrays
from tinygrad_cnn.backend import array_module, cast, quiet
from tinygrad_cnn.tensor import Tensor, where


class Add(Function):
    """``x + y``. VJP: ``g`` to each operand, summed over the dims it was broadcast along."""

    own_broadcast = True

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        return x + y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        nx, ny = ctx.needs_input_grad
        (sx, _), (sy, _) = ctx.in_meta
        gs = g._data.shape  # (equal shapes, the common case: g itself, without a call)
        return (g if gs == sx else summed_to(g, sx)) if nx else None, \
            (g if gs == sy else summed_to(g, sy)) if ny else None


class Sub(Function):
    """``x - y``. VJP: ``g`` to ``x``, ``-g`` to ``y`` (each summed over its broadcast dims)."""

    own_broadcast = True

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        return x - y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        nx, ny = ctx.needs_input_grad
        (sx, _), (sy, _) = ctx.in_meta
        gs = g._data.shape
        gx = (g if gs == sx else summed_to(g, sx)) if nx else None
        if not ny:
            return gx, None
        # negated, then summed back (as PyTorch's: a sum of -0s is +0, the negated sum -0)
        if first_order(g):  # (neg's forward on the array: no node)
            gy = Tensor._make(-g._data)
        else:
            gy = -g
        return gx, (gy if gs == sy else summed_to(gy, sy))


class Mul(Function):
    """``x * y``. VJP: ``g * y`` to ``x``, ``g * x`` to ``y`` (each summed over its broadcast
    dims)."""

    own_broadcast = True

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        nx, ny = ctx.needs_input_grad
        ctx.save_for_backward(x if ny else None, y if nx else None)  # only what a VJP will read
        return x * y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        (sx, _), (sy, _) = ctx.in_meta
        if first_order(g, x, y):  # (the same on arrays: no nodes)
            gd = g._data
            gx = Tensor._make(gd * y._data) if y is not None else None
            gy = Tensor._make(gd * x._data) if x is not None else None
            if gd.shape == sx == sy:  # (equal shapes, the common case: nothing to sum)
                return gx, gy
            return (summed_to(gx, sx) if gx is not None else None), \
                (summed_to(gy, sy) if gy is not None else None)
        return (summed_to(g * y, sx) if y is not None else None), \
            (summed_to(g * x, sy) if x is not None else None)


class Div(Function):
    """``x / y``. VJP: ``g / y`` to ``x``, ``-g * x / y / y`` to ``y`` (not ``x / y²``, which
    over- or underflows sooner; each summed over its broadcast dims)."""

    own_broadcast = True

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, y)
        return x / y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        (sx, _), (sy, _) = ctx.in_meta
        if first_order(g, y, x):  # (the same on arrays: no nodes)
            gd, yd = g._data, y._data
            with np.errstate(all="ignore"):
                gx = Tensor._make(gd / yd) if nx else None
                gy = Tensor._make(-gd * (x._data / yd / yd)) if ny else None
            if gd.shape == sx == sy:  # (equal shapes, the common case: nothing to sum)
                return gx, gy
            return (summed_to(gx, sx) if nx else None), (summed_to(gy, sy) if ny else None)
        gx = summed_to(g / y, sx) if nx else None
        gy = summed_to(-g * (x / y / y), sy) if ny else None  # not x / y²: y² over- or
        return gx, gy  # underflows sooner


class Neg(Function):
    """``-x``. VJP: ``-g``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return -x

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if first_order(g):  # (the same on the array: no node)
            return Tensor._make(-g._data)
        return -g


class Pow(Function):
    """``x ** y``; ``y`` is usually a constant exponent (``x ** 2``). VJP: ``g * y * x ** (y - 1)``
    to ``x``, ``g * x ** y * log(x)`` to ``y`` (0 where ``x = 0`` and ``y >= 0``, as PyTorch)."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any, y: Any, *, _number: bool = False,
                _base: float | None = None) -> Any:
        if x.dtype.kind in "biu":  # integers: no gradient
            if x.dtype == np.bool_ and y.dtype == np.bool_:
                raise NotImplementedError("pow: not implemented for a bool base with a bool "
                                          "exponent (as in PyTorch); convert one of them, e.g. "
                                          "x.int() ** y")
            return _integer_pow(x, y)
        if _number and y == -0.5:
            # ``x ** -0.5`` with a Python number: PyTorch computes rsqrt, 1 / sqrt(x) (so -inf at
            # -0 and NaN at -inf, where pow gives inf and 0); ``_number``: the exponent was one
            # (``Tensor.__pow__`` passes it for float32 and float64, PyTorch's dtypes for this).
            out = 1 / array_module(x).sqrt(x)
        elif _number:
            out = _pow_number(x, y)
        else:
            out = x**y  # (numpy computes ** 0.5 of a number as sqrt, as PyTorch does)
            if not _number and out.dtype.kind == "f" and out.size:
                out = _pow_at_half(x, y, out)
        nx, ny = ctx.needs_input_grad
        ctx.save_for_backward(x, y, out if ny else None)
        return out

    @staticmethod
    @quiet  # (0 * log(0) and 0 ** -1 on the way to the values PyTorch gives)
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        # d/dx = y x^(y-1), taken as 0 where y == 0 (x^0 is constant, even at x = 0);
        # d/dy = x^y log(x), taken as 0 where x == 0 and y >= 0 (0^y is constant there)
        x, y, out = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        if ctx.attrs.get("_number") and not ny and first_order(g, x):
            # a number exponent, first order (x ** 2), on the arrays: no nodes, no 0-d masks
            yd = y._data
            yv = float(yd)
            if yv != 0:  # (x ** 0: the constant's zeros below)
                xd = x._data
                # (x ** 1 of numpy is x itself: ** 2's VJP is g * (2 x); PyTorch's backward of
                # x ** 0.5 takes its rsqrt too)
                p = xd if yv == 2 else 1 / np.sqrt(xd) if yv == 0.5 else \
                    _pow_number(xd, np.asarray(yd - 1))
                return Tensor._make(g._data * (yd * p)), None
        if not ctx.attrs.get("_number") and ctx.attrs.get("_base") is None and \
                first_order(g, x, y, out):
            return _pow_vjp_arrays(g._data, x._data, y._data, None if out is None else out._data,
                                   nx, ny)
        gx = gy = None
        if nx:
            flat = y._data == 0
            if not ny and flat.all() and ctx.attrs.get("_number"):
                # x ** 0 is the constant 1: its gradient is a constant 0, with no graph (PyTorch's;
                # y x^(y-1) has NaN derivatives at x = 0) -- for a number exponent; a tensor of
                # zeros keeps the masked graph below, as PyTorch's where (t160)
                return Tensor._make(array_module(x._data).zeros_like(x._data)), None
            if ctx.attrs.get("_number"):  # (recorded: Pow.apply takes x ** -0.5 as rsqrt)
                dx = y * Pow.apply(x, y - 1, _number=True)
            else:
                dx = y * x ** (y - 1)  # (PyTorch's order: 2 * x overflows before g scales)
            # the factor is masked, not the product: the product's VJP to g would multiply the
            # mask's 0 by the factor's NaN (0 * inf) -- a NaN jvp where the Jacobian is 0
            # (and the product is masked too: x ** 0 gets 0 whatever g is, NaN included, as
            # PyTorch's where(y == 0, 0, ...))
            gx = where(flat, 0.0, g * where(flat, 0.0, dx)) if flat.any() else g * dx
        if ny:
            base = ctx.attrs.get("_base")
            if base is not None:  # a number ** a tensor: the log of the number as it was given,
                # not of its rounding to the tensor's dtype (PyTorch's: 1e-50 ** x in float32
                # has the gradient log(1e-50) at 0, not log(0); 70000 ** x in half log(70000))
                dy = out * _log_of_number(base)
                flat = (y._data >= 0) if base == 0 else np.zeros((), bool)
                gy = g * (where(flat, 0.0, dy) if flat.any() else dy)
                return gx, gy
            dy = out * x.log()  # (PyTorch's order: in half, x^y log x may overflow first)
            flat = (x._data == 0) & (y._data >= 0)
            gy = g * (where(flat, 0.0, dy) if flat.any() else dy)
        return gx, gy


def _pow_vjp_arrays(g: Any, x: Any, y: Any, out: Any, nx: bool, ny: bool
                    ) -> tuple[Tensor | None, Tensor | None]:
    """Pow's VJPs by a tensor exponent on the arrays, op for op as the Tensor expressions of
    ``Pow.backward`` compute them (a first-order backward: no nodes)."""
    zero = g.dtype.type(0)
    gx = gy = None
    if nx:
        flat = y == 0
        if not ny and flat.all():
            return Tensor._make(np.zeros_like(x)), None
        dx = y * forward_arrays(Pow, x, y - y.dtype.type(1))
        gx = np.where(flat, zero, g * np.where(flat, zero, dx)) if flat.any() else g * dx
    if ny:
        dy = out * forward_arrays(Log, x)
        flat = (x == 0) & (y >= 0)
        gy = g * (np.where(flat, zero, dy) if flat.any() else dy)
    return (None if gx is None else Tensor._make(gx)), (None if gy is None else Tensor._make(gy))


def _log_of_number(x: float) -> float:
    """``log(x)`` of a Python number in double, as C's ``log``: -inf at 0, NaN below."""
    try:
        v = float(x)
    except OverflowError:  # (an int beyond double's range)
        return math.inf if x > 0 else math.nan
    if v > 0:
        return math.log(v) if v != math.inf else math.inf
    return -math.inf if v == 0 else math.nan


def _pow_at_half(x: Any, y: Any, out: Any) -> Any:
    """``x ** y`` as pow gives it where ``y`` is 0.5: numpy takes a constant exponent of 0.5 (a
    0-d or broadcast one) as sqrt, which gives -0 at -0 and NaN at -inf; PyTorch's pow by a tensor
    exponent (or of a float16 tensor by a number) gives +0 and inf there."""
    half = y == 0.5
    if not half.any():
        return out
    xp = array_module(out)
    out = xp.where(half & (x == 0), out.dtype.type(0), out)
    return xp.where(half & (x == -xp.inf), out.dtype.type(xp.inf), out)


def _pow_number(x: Any, e: Any) -> Any:
    """``x ** e`` for a number exponent ``e`` (a 0-d array) as PyTorch's kernel computes it: by
    products for 3 and -2 in float32 and float64 (numpy's pow was an ulp off those in ~30% of
    elements, t150), else pow (numpy computes ** 0.5 as sqrt, as PyTorch does)."""
    if x.dtype.kind == "f" and x.dtype != np.float16:
        if e == 3:
            return x * x * x
        if e == -2:
            return 1 / (x * x)
    return x**e


def _integer_pow(x: Any, y: Any) -> Any:
    """PyTorch's integer ``x ** y``: wraps on overflow (as numpy's), and a negative exponent gives
    0, except for the bases 1 (1) and -1 (-1 or 1 by the exponent's parity), where numpy raises."""
    xp = array_module(x)
    negative = y < 0
    if y.dtype.kind == "u" or not negative.any():
        return x**y
    out = x ** xp.where(negative, 0, y).astype(y.dtype)
    tiny = xp.where(x == 1, 1, xp.where(x == -1, xp.where(y % 2 != 0, -1, 1), 0)).astype(out.dtype)
    return xp.where(negative, tiny, out)


class Exp(Function):
    """``exp(x)``. VJP: ``g * exp(x)``, from the saved output."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if first_order(g, out):  # (the same on arrays: no nodes)
            return Tensor._make(g._data * out._data)
        return g * out


class Log(Function):
    """``log(x)``. VJP: ``g / x``."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).log(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if first_order(g, x):  # (the same on arrays: no nodes)
            with np.errstate(all="ignore"):
                return Tensor._make(g._data / x._data)
        return g / x


class Sqrt(Function):
    """``sqrt(x)``. VJP: ``g / (2 sqrt(x))``, from the saved output."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if first_order(g, out):  # (the same on arrays: no nodes)
            with np.errstate(all="ignore"):
                return Tensor._make(g._data / (out._data * 2))
        return g / (out * 2)


class Abs(Function):
    """``|x|``; the gradient at 0 is 0 (PyTorch's choice)."""

    vjp_reads_input = True  # (see Function.vjp_reads_input)

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = array_module(x)
        sign = xp.asarray(xp.sign(x))
        if sign.dtype.kind == "f":
            sign[sign != sign] = 0  # NaN passes no gradient (PyTorch's sgn(NaN) = 0)
        ctx.save_for_backward(sign)
        return xp.abs(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (sign,) = ctx.saved_tensors
        if first_order(g, sign):  # (the same on arrays: no nodes)
            return Tensor._make(g._data * sign._data)
        return g * sign


def _shares(ctx: Context, x: Any, y: Any, x_loses: Any, y_loses: Any) -> None:
    """Keep what the VJP of max/min needs: where each side loses (it gets 0 there), and the ties
    (each side gets half). Where a NaN makes neither win, both get the whole gradient (PyTorch's
    rule: NaN propagates)."""
    tie = x == y
    ctx.x_loses, ctx.y_loses, ctx.tie = x_loses, y_loses, tie if tie.any() else None


def _share(g: Tensor, loses: Any, tie: Any) -> Tensor:
    g = keep(g, ~loses)
    return g if tie is None else g * (1 - tie * g._data.dtype.type(0.5))


class Maximum(Function):
    """Elementwise max of two tensors (NaN wins). VJP: ``g`` to the larger side, ``g/2`` to each on
    ties, ``g`` to both where either is NaN (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        if any(ctx.needs_input_grad):
            _shares(ctx, x, y, x < y, x > y)
        return xp.maximum(x, y)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        nx, ny = ctx.needs_input_grad
        return (_share(g, ctx.x_loses, ctx.tie) if nx else None), \
            (_share(g, ctx.y_loses, ctx.tie) if ny else None)


class Minimum(Function):
    """Elementwise min of two tensors (NaN wins). VJP: ``g`` to the smaller side, ``g/2`` to each
    on ties, ``g`` to both where either is NaN (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        if any(ctx.needs_input_grad):
            _shares(ctx, x, y, x > y, x < y)
        return xp.minimum(x, y)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        nx, ny = ctx.needs_input_grad
        return (_share(g, ctx.x_loses, ctx.tie) if nx else None), \
            (_share(g, ctx.y_loses, ctx.tie) if ny else None)


class Clamp(Function):
    """Limit to ``[min, max]``; gradient 1 inside the interval (ends included), else 0."""

    @staticmethod
    def forward(ctx: Context, x: Any, min: float | None = None, max: float | None = None) -> Any:
        xp = array_module(x)
        if ctx.needs_input_grad[0]:
            inside = xp.ones(x.shape, dtype=bool)
            if min is not None:
                inside &= x >= min
            if max is not None:
                inside &= x <= max
            ctx.save_for_backward(inside)
        out = xp.clip(x, min, max).astype(x.dtype, copy=False)
        bound = min if max is None else max if min is None else None
        if bound is not None and bound == 0 and x.dtype.kind == "f":
            # one bound of ±0: PyTorch keeps x where x equals it (x < 0 ? 0 : x keeps -0.;
            # numpy's clip gives the bound's zero)
            out = xp.where(x == 0, x, out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (inside,) = ctx.saved_tensors
        return keep(g, inside._data)


class ClampBetween(Function):
    """``clamp`` with tensor bounds: ``min(max(x, lo), hi)``, the inputs ``(x, lo, hi)``, or
    ``(x, lo)`` / ``(x, hi)`` as ``bounds`` says (all of one shape and dtype; NaN anywhere gives
    NaN). VJP (PyTorch's): ``x`` gets ``g`` where ``lo <= x <= hi``; ``lo`` where
    ``x < lo < hi``; ``hi`` where ``x > hi`` or ``hi < lo`` (NaN compares false)."""

    name = "clamp_between"

    @staticmethod
    def forward(ctx: Context, x: Any, *given: Any, bounds: str = "min,max") -> Any:
        xp = array_module(x)
        lo = given[0] if bounds.startswith("min") else None
        hi = given[-1] if bounds.endswith("max") else None
        low = x if lo is None else xp.maximum(x, lo)
        out = low if hi is None else xp.minimum(low, hi)
        inside = xp.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        masks = [inside]
        if lo is not None:
            masks.append((x < lo) & (lo < hi) if hi is not None else x < lo)
        if hi is not None:
            masks.append((x > hi) | (hi < lo) if lo is not None else x > hi)
        ctx.masks = [m if need else None for m, need in zip(masks, ctx.needs_input_grad)]
        return out if out is not x else x.copy()

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        return tuple(None if m is None else keep(g, m) for m in ctx.masks)


class Where(Function):
    """``condition ? x : y``; ``condition`` is a boolean array (no gradient)."""

    lead = "condition"  # (PyTorch's first operand: the result is laid out as it is)

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, condition: Any = None) -> Any:
        ctx.condition = condition
        return _where_array(condition, x, y)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        # selected, not multiplied by the mask: the side not taken gets an exact 0 even where g
        # is NaN or Inf (as PyTorch's masked VJPs do)
        nx, ny = ctx.needs_input_grad
        cond = ctx.condition
        return (keep(g, cond) if nx else None), (keep(g, ~cond) if ny else None)


_INT_OF_SIZE = {2: np.int16, 4: np.int32, 8: np.int64}


# up to this many elements numpy's where is cheaper than a bit mask (two calls against six:
# 2.8 against 4.3 µs at 16×16), and its mispredicted branches cost little
WHERE_MAX_SIZE = 1024


def _where_array(condition: Any, x: Any, y: Any) -> Any:
    """``where`` on arrays; "``x`` or +0" as a bitwise and (:func:`_and_mask`) for big arrays."""
    if x.size > WHERE_MAX_SIZE and _selects_against_zero(x, y, condition):
        return _and_mask(x, condition)
    return array_module(x).where(condition, x, y)


def _selects_against_zero(x: Any, y: Any, condition: Any) -> bool:
    """Whether ``where(condition, x, y)`` is "``x`` or +0": a float numpy ``x`` of the
    condition's shape and ``y`` a 0-d +0 of its dtype (what :func:`keep` passes -- the VJPs of
    relu, clamp, where)."""
    return (type(x) is np.ndarray and x.dtype.kind == "f" and x.itemsize in _INT_OF_SIZE
            and type(condition) is np.ndarray and condition.dtype == np.bool_
            and condition.shape == x.shape and x.ndim > 0 and getattr(y, "shape", None) == ()
            and y.dtype == x.dtype and not y and not np.signbit(y))


def _and_mask(x: Any, condition: Any) -> Any:
    """``where(condition, x, +0)`` bit for bit, as ``x``'s bits and-ed with all ones or all
    zeros. numpy's ``where`` branches on every element, and a mask as mixed as relu's costs it a
    mispredicted branch on every other one: 1.05 ms against 0.05 ms for LeNet-5's first
    activations (64×6×28×28, float32), a tenth of a training step."""
    ints = _INT_OF_SIZE[x.itemsize]
    bits = np.negative(condition.view(np.int8), dtype=ints)  # True -> -1 (all ones), False -> 0
    return np.bitwise_and(x.view(ints), bits, out=bits).view(x.dtype)


def select(condition: Any, x: Any, y: Any) -> Any:
    """``where(condition, x, y)`` of two arrays of the condition's shape and one dtype: for big
    numpy float arrays their bits blended through an all-ones/all-zeros mask (numpy's where
    mispredicts a branch on every other element of a mask as mixed as elu's: 4.5 ms against
    0.6 for a million float32), bit for bit the same."""
    ints = _INT_OF_SIZE.get(x.itemsize)
    if (x.size <= WHERE_MAX_SIZE or type(x) is not np.ndarray or type(y) is not np.ndarray
            or x.dtype.kind != "f" or ints is None or y.dtype != x.dtype
            or not x.shape == y.shape == condition.shape or condition.dtype != np.bool_):
        return array_module(x).where(condition, x, y)
    mask = np.negative(condition.view(np.int8), dtype=ints)  # True -> all ones, False -> 0
    out = np.bitwise_and(x.view(ints), mask)
    np.invert(mask, out=mask)
    np.bitwise_and(y.view(ints), mask, out=mask)
    np.bitwise_or(out, mask, out=out)
    return out.view(x.dtype)


def zero_where(x: Any, drop: Any, out: Any = None) -> Any | None:
    """``x`` with +0 where the bool array ``drop`` (of ``x``'s shape, the caller's own: it may be
    overwritten) holds, bit for bit elsewhere (-0. and NaN kept): numpy's where up to
    ``WHERE_MAX_SIZE`` elements, above it a numpy float array's bits and-ed with a mask made from
    ``drop`` in place, one pass fewer than :func:`_and_mask`; None where neither applies
    (another array type or dtype: the caller takes its general way). ``out``: an array of ``x``'s
    shape and dtype to write into (big arrays only)."""
    ints = _INT_OF_SIZE.get(x.itemsize)
    if type(x) is not np.ndarray or x.dtype.kind != "f" or ints is None or drop.shape != x.shape:
        return None
    if x.size <= WHERE_MAX_SIZE and out is None:
        return np.where(drop, x.dtype.type(0), x)
    mask = drop.view(np.int8)
    mask -= 1  # 0 where dropped, all ones elsewhere
    if out is not None:
        return np.bitwise_and(x.view(ints), mask, out=out.view(ints)).view(x.dtype)
    return np.bitwise_and(x.view(ints), mask).view(x.dtype)


def zero_below(x: Any, bound: Any, strict: bool) -> Any | None:
    """``x`` with +0 where ``bound < 0`` (``strict``) or ``bound <= 0``, bit for bit elsewhere --
    relu's forward (``bound`` is ``x``) and its first-order VJP (``x`` the gradient, ``bound`` the
    output). For big contiguous float arrays in blocks on all cores (:func:`parallel.blocks`),
    else :func:`zero_where`; None where that gives None."""
    if type(x) is not np.ndarray or type(bound) is not np.ndarray or x.dtype.kind != "f" \
            or x.nbytes < parallel.MIN_BYTES or bound.shape != x.shape \
            or not (x.flags.c_contiguous and bound.flags.c_contiguous) \
            or x.itemsize not in _INT_OF_SIZE or parallel.threads() == 1:
        return zero_where(x, bound < 0 if strict else bound <= 0)
    out = np.empty_like(x)
    xf, bf, of = x.reshape(-1), bound.reshape(-1), out.reshape(-1)
    test = np.less if strict else np.less_equal
    zero = bound.dtype.type(0)

    def block(s: int, e: int) -> None:
        zero_where(xf[s:e], test(bf[s:e], zero), out=of[s:e])

    parallel.blocks(x.size, block, x.nbytes + bound.nbytes + out.nbytes, x.itemsize)
    return out


def keep(g: Tensor, mask: Any) -> Tensor:
    """``g`` where ``mask`` holds, exactly 0 elsewhere (a where, so differentiable again; in a
    first-order backward, where no graph is built, the same selection on the arrays alone)."""
    gd = g._data
    xp = array_module(gd)
    key = (xp, gd.dtype)
    zero = _ZEROS.get(key)
    if zero is None:  # one 0-d zero per device and dtype, never written (not user-visible)
        zero = _ZEROS[key] = Tensor._make(xp.zeros((), dtype=gd.dtype))
    if _state.grad_enabled:
        return Where.apply(g, zero, condition=mask)
    return Tensor._make(_where_array(mask, gd, zero._data))


_ZEROS: dict[Any, Tensor] = {}


class Cast(Function):
    """Change dtype; the VJP casts the gradient back to the input's dtype."""

    @staticmethod
    def forward(ctx: Context, x: Any, dtype: Any = None) -> Any:
        ctx.in_dtype = x.dtype
        with np.errstate(over="ignore", invalid="ignore"):  # to inf in half, as PyTorch: quietly
            return cast(x, dtype)  # (double -> half through float, as PyTorch)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Cast.apply(g, dtype=ctx.in_dtype)


# ------------------------------------------------------------------------------ issue 14: binary math
class Remainder(Function):
    """``x - y * floor(x / y)``: the remainder with the sign of ``y`` (Python's ``%``, PyTorch's
    ``remainder``). VJPs: ``g`` for ``x``; ``-g * floor(x / y)`` for ``y`` (the quotient is piecewise
    constant: its op, ``div(rounding_mode="floor")``, has zero gradient)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(x, y)
        if x.dtype.kind != "f":
            return xp.remainder(x, y)
        mod = xp.fmod(x, y)  # PyTorch's kernel: fmod, then shift into y's sign
        return xp.where((mod != 0) & ((y < 0) != (mod < 0)), mod + y, mod)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        nx, ny = ctx.needs_input_grad
        # the quotient through its op (zero gradient): differentiated again, x and y get zeros,
        # as from PyTorch's `-grad * self.div(other, rounding_mode="floor")`
        if ny and first_order(g, *ctx.saved_tensors):  # (the same on the arrays: no nodes)
            q = forward_arrays(DivFloor, *(t._data for t in ctx.saved_tensors))
            return (g if nx else None), Tensor._make(-g._data * q)
        return (g if nx else None), (-g * DivFloor.apply(*ctx.saved_tensors) if ny else None)


class Fmod(Function):
    """``x - y * trunc(x / y)``: the remainder with the sign of ``x`` (C's ``fmod``). VJPs: ``g`` for
    ``x``; ``-g * trunc(x / y)`` for ``y`` (``div(rounding_mode="trunc")``, of zero gradient)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        if ctx.needs_input_grad[1]:
            ctx.save_for_backward(x, y)
        return xp.fmod(x, y)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        nx, ny = ctx.needs_input_grad
        # (the quotient through its op, as in Remainder: PyTorch's div(rounding_mode="trunc"))
        if ny and first_order(g, *ctx.saved_tensors):  # (the same on the arrays: no nodes)
            q = forward_arrays(DivTrunc, *(t._data for t in ctx.saved_tensors))
            return (g if nx else None), Tensor._make(-g._data * q)
        return (g if nx else None), (-g * DivTrunc.apply(*ctx.saved_tensors) if ny else None)


class Atan2(Function):
    """The angle of the point ``(y=x, x=y)``: ``atan2(x, y)`` in (-π, π]. VJPs, with
    ``r = 1 / (x² + y²)``: ``g * y * r`` for ``x``, ``g * -x * r`` for ``y``; ``r`` is 0 where
    ``x² + y²`` is 0 (the origin, or an underflow), so the gradient there is 0, as PyTorch's."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x, y)
        return array_module(x).arctan2(x, y)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        if first_order(g, x, y):  # (the same on arrays: no nodes)
            gd, xd, yd = g._data, x._data, y._data
            with np.errstate(all="ignore"):
                r2d = xd * xd + yd * yd
                rd = np.where(r2d == 0, xd.dtype.type(0), np.reciprocal(r2d))
                return (Tensor._make(gd * yd * rd) if nx else None), \
                    (Tensor._make(gd * -xd * rd) if ny else None)
        r2 = x * x + y * y
        r = where(Tensor._make(r2._data == 0), 0, r2.reciprocal())
        return (g * y * r if nx else None), (g * -x * r if ny else None)


class Hypot(Function):
    """``sqrt(x² + y²)`` without overflow. VJPs: ``g * x / out``, ``g * y / out``."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        out = array_module(x).hypot(x, y)
        nx, ny = ctx.needs_input_grad
        ctx.save_for_backward(x if nx else None, y if ny else None, out)  # only what is needed
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y, out = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        if first_order(g, out, x, y):  # (the same on arrays: no nodes)
            gd, od = g._data, out._data
            with np.errstate(all="ignore"):
                return (Tensor._make(gd * x._data / od) if nx else None), \
                    (Tensor._make(gd * y._data / od) if ny else None)
        return (g * x / out if nx else None), (g * y / out if ny else None)


class Xlogy(Function):
    """``x * log(y)``, 0 where ``x`` is 0 (unless ``y`` is NaN), as PyTorch's ``xlogy``. VJPs
    (PyTorch's formulas): ``xlogy(g, y)`` for ``x`` (so 0 where ``g`` is, even where ``log(y)`` is
    NaN), 0 where ``x`` is 0 and ``y <= 0``; ``g * x / y`` for ``y``."""

    @staticmethod
    @quiet  # log(0) = -inf, log(-1) = NaN, as in PyTorch
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(x, y)
        return xp.where((x == 0) & ~xp.isnan(y), x.dtype.type(0), x * xp.log(y))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        gx = gy = None
        if nx:
            drop = (x._data == 0) & (y._data <= 0)
            gx = Xlogy.apply(g, y)
            if drop.any():
                gx = where(drop, 0.0, gx)
        if ny:
            gy = g * x / y
        return gx, gy


class Copysign(Function):
    """``|x|`` with the sign of ``y`` (signed zeros and NaNs' sign bits count), C's ``copysign``.
    VJPs (PyTorch's): ``g * out / x`` for ``x``, 0 where ``x`` is 0; zeros for ``y``."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        out = array_module(x).copysign(x, y)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, out = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        gx = gy = None
        if nx:
            zero = x._data == 0
            ratio = out / x
            gx = g * (where(zero, 0.0, ratio) if zero.any() else ratio)
        if ny:
            gy = Tensor._make(array_module(g._data).zeros(ctx.in_meta[1][0], dtype=g.dtype))
        return gx, gy


class Logaddexp(Function):
    """``log(exp(x) + exp(y))`` without overflow: ``max + log1p(exp(-|x - y|))``, and ``x``
    where both are the same infinity; half in float32 and rounded once (PyTorch's opmath). VJPs
    (PyTorch's formulas): ``g / (1 + exp(y - x))`` for ``x``, ``g / (1 + exp(x - y))`` for ``y``
    (NaN where both are the same infinity)."""

    _exp = "exp"  # (the base: Logaddexp2 below is the same op in base 2)
    _log_scale = 1.0

    @classmethod
    @quiet  # (inf - inf where both are infinite: replaced below)
    def forward(cls, ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        dt = x.dtype
        a, b = (x.astype(np.float32), y.astype(np.float32)) if dt == np.float16 else (x, y)
        tail = xp.log1p(getattr(xp, cls._exp)(-xp.abs(a - b)))
        out = xp.maximum(a, b) + (tail if cls._log_scale == 1.0 else tail * cls._log_scale)
        out = xp.where((a == b) & xp.isinf(a), a, out).astype(dt, copy=False)
        ctx.save_for_backward(x, y)
        return out

    @classmethod
    def backward(cls, ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        return ((g / (getattr(y - x, cls._exp)() + 1)) if nx else None), \
            ((g / (getattr(x - y, cls._exp)() + 1)) if ny else None)


class Logaddexp2(Logaddexp):
    """``log2(2**x + 2**y)``: :class:`Logaddexp` in base 2 (``max + log1p(2**-|x - y|) / ln 2``).
    VJPs: ``g / (1 + 2**(y - x))`` for ``x``, ``g / (1 + 2**(x - y))`` for ``y``."""

    _exp = "exp2"
    _log_scale = 1 / math.log(2.0)


class Lerp(Function):
    """``start + weight * (end - start)``; ``weight`` is a third tensor input or a number (keyword).
    Computed as PyTorch does for accuracy: ``end - (end - start) * (1 - weight)`` when
    ``|weight| >= 0.5``, in float and half each branch one fused multiply-add (bit for bit its
    results). VJPs: ``g * (1 - weight)``, ``g * weight``, ``g * (end - start)``."""

    @staticmethod
    def forward(ctx: Context, start: Any, end: Any, *tensor_weight: Any,
                weight: float | None = None) -> Any:
        xp = array_module(start)
        w = tensor_weight[0] if tensor_weight else weight
        ctx.weight = weight
        if tensor_weight:
            need_w = ctx.needs_input_grad[2]
            ctx.save_for_backward(w, start if need_w else None, end if need_w else None)
        dt = start.dtype
        if dt in (np.float16, np.float32):
            # PyTorch's float kernel: in float32 (half's opmath), each branch one fused
            # multiply-add -- here in double, where the product of two floats is exact
            start, end = start.astype(np.float32), end.astype(np.float32)
            w = w.astype(np.float32) if tensor_weight else np.float32(w)
            diff = (end - start).astype(np.float64)
            w64, rest = xp.asarray(w, dtype=np.float64), xp.asarray(1 - w, dtype=np.float64)
            out = xp.where(xp.abs(w) < 0.5, start.astype(np.float64) + w64 * diff,
                           end.astype(np.float64) - diff * rest)
            return out.astype(np.float32).astype(dt, copy=False)
        diff = end - start
        if not tensor_weight:
            out = start + w * diff if abs(w) < 0.5 else end - diff * (1 - w)
        else:
            out = xp.where(xp.abs(w) < 0.5, start + w * diff, end - diff * (1 - w))
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        needs = ctx.needs_input_grad
        if len(needs) == 2:
            w = ctx.weight
            if first_order(g):  # (the same on arrays: no nodes)
                gd = g._data
                return (Tensor._make(gd * (1 - w)) if needs[0] else None), \
                    (Tensor._make(gd * w) if needs[1] else None)
            return (g * (1 - w) if needs[0] else None), (g * w if needs[1] else None)
        wt, start, end = ctx.saved_tensors
        return ((g * (1 - wt) if needs[0] else None), (g * wt if needs[1] else None),
                (g * (end - start) if needs[2] else None))


class _ZeroGradients:
    """The VJP of a piecewise-constant function of two tensors: zero for each, in each input's
    own shape (PyTorch's ``div(..., rounding_mode=...)`` gives exact zeros, not ``0 * g``, which
    is NaN where ``g`` is inf). So its operands need not be expanded for their gradients
    (``own_broadcast``): a 0-d divisor that requires grad stays 0-d, PyTorch's cpu scalar."""

    own_broadcast = True

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        xp = array_module(g._data)
        return tuple(Tensor._make(xp.zeros(shape, dtype=dtype)) if need else None
                     for need, (shape, dtype) in zip(ctx.needs_input_grad, ctx.in_meta)
                     )  # type: ignore[return-value]


class DivTrunc(_ZeroGradients, Function):
    """``div(x, y, rounding_mode="trunc")``: the quotient rounded towards zero, ``trunc(x / y)``
    for floats, C's integer division for integers. VJP zero for both (as PyTorch's)."""

    @staticmethod
    @quiet  # x / 0 is inf or NaN; int8 -128 / -1 wraps to -128, as in PyTorch
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        if x.dtype == np.float16 and y.size == 1:
            # a divisor of one element (0-d, or any shape: PyTorch's TensorIterator takes it as
            # a scalar): the quotient in float32, not rounded to half before the trunc (8.586 /
            # 0.781 -> 10, not trunc(11.0)); a divisor of more elements runs in half
            return xp.trunc(x.astype(np.float32) / y.astype(np.float32)).astype(np.float16)
        if x.dtype.kind == "f":
            return xp.trunc(x / y)
        q = xp.floor_divide(x, y)
        if x.dtype.kind == "u":
            return q
        # floor is one below trunc where the division is inexact and the signs differ
        return q + ((q * y != x) & ((x < 0) != (y < 0))).astype(q.dtype)


class DivFloor(_ZeroGradients, Function):
    """``div(x, y, rounding_mode="floor")``: the quotient rounded down, as Python's ``//`` (for
    floats PyTorch's ``div_floor_floating``: ``(x - fmod(x, y)) / y``, corrected, which numpy's
    ``floor_divide`` also computes; float16 rounds each step to float16, as PyTorch's vectorised
    CPU kernel does). VJP zero for both (as PyTorch's)."""

    @staticmethod
    @quiet
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        if x.dtype != np.float16:
            return xp.floor_divide(x, y)
        if y.size == 1:  # a one-element divisor, PyTorch's scalar: in float32, rounded once
            return xp.floor_divide(x.astype(np.float32), y.astype(np.float32)).astype(np.float16)
        h = np.float16
        mod = xp.fmod(x, y)
        div = (x - mod) / y  # float16 - float16 and / stay float16: one rounding per step
        div = xp.where((mod != 0) & ((y < 0) != (mod < 0)), div - h(1), div)
        low = xp.floor(div)
        low = xp.where(div - low > h(0.5), low + h(1), low)
        low = xp.where(div != 0, low, xp.copysign(h(0), x / y))
        return xp.where(y == 0, x / y, low).astype(h, copy=False)


# (at the end: movement imports reduce, which imports `keep` from here)
from tinygrad_cnn.ops.movement import summed_to  # noqa: E402
