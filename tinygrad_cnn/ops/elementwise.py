"""Elementwise ops: add, sub, mul, div, neg, pow, exp, log, sqrt, abs, maximum, minimum, clamp,
where, cast.

Binary ops receive operands that ``Tensor`` has already broadcast (an operand that gets a gradient
arrives expanded to the output's shape) and promoted to one dtype, so every VJP here returns a
gradient of exactly its input's shape. Masks (``x > y``) are constants: their derivative is zero
almost everywhere.
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.tensor import Tensor


class Add(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        return x + y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        nx, ny = ctx.needs_input_grad
        return (g if nx else None), (g if ny else None)


class Sub(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        return x - y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        nx, ny = ctx.needs_input_grad
        return (g if nx else None), (-g if ny else None)


class Mul(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        nx, ny = ctx.needs_input_grad
        ctx.save_for_backward(x if ny else None, y if nx else None)  # only what a VJP will read
        return x * y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        return (g * y if y is not None else None), (g * x if x is not None else None)


class Div(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, y)
        return x / y

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        gx = g / y if nx else None
        gy = -g * x / (y * y) if ny else None
        return gx, gy


class Neg(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        return -x

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return -g


class Pow(Function):
    """``x ** y``; ``y`` is usually a constant exponent (``x ** 2``)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        out = x**y
        ctx.save_for_backward(x, y, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y, out = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        gx = g * y * x ** (y - 1) if nx else None
        gy = g * out * x.log() if ny else None
        return gx, gy


class Exp(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g * out


class Log(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return array_module(x).log(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = array_module(x).sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return g / (out * 2)


class Abs(Function):
    """``|x|``; the gradient at 0 is 0 (PyTorch's choice)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = array_module(x)
        ctx.save_for_backward(xp.sign(x))
        return xp.abs(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (sign,) = ctx.saved_tensors
        return g * sign


class Maximum(Function):
    """Elementwise max of two tensors; on ties each side gets half the gradient (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        if any(ctx.needs_input_grad):
            share = (x > y).astype(x.dtype) + (x == y).astype(x.dtype) * 0.5  # x's share
            ctx.save_for_backward(share)
        return xp.maximum(x, y)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        (share,) = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        return (g * share if nx else None), (g * (1 - share) if ny else None)


class Minimum(Function):
    """Elementwise min of two tensors; on ties each side gets half the gradient (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any) -> Any:
        xp = array_module(x)
        if any(ctx.needs_input_grad):
            share = (x < y).astype(x.dtype) + (x == y).astype(x.dtype) * 0.5
            ctx.save_for_backward(share)
        return xp.minimum(x, y)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        (share,) = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        return (g * share if nx else None), (g * (1 - share) if ny else None)


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
        return xp.clip(x, min, max).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (inside,) = ctx.saved_tensors
        return g * inside


class Where(Function):
    """``condition ? x : y``; ``condition`` is a boolean array (no gradient)."""

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, condition: Any = None) -> Any:
        ctx.condition = condition
        return array_module(x).where(condition, x, y)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        nx, ny = ctx.needs_input_grad
        cond = Tensor._make(ctx.condition)
        return (g * cond if nx else None), (g * ~cond.data if ny else None)


class Cast(Function):
    """Change dtype; the VJP casts the gradient back to the input's dtype."""

    @staticmethod
    def forward(ctx: Context, x: Any, dtype: Any = None) -> Any:
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return Cast.apply(g, dtype=ctx.in_dtype)
