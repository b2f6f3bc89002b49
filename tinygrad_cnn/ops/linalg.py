"""Linear algebra: matmul (batched, with broadcast batch dimensions).

``Tensor.matmul`` has already turned 1-D operands into matrices and expanded the batch dims of an
operand that gets a gradient, so both VJPs below have their input's shape.
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module
from tinygrad_cnn.tensor import Tensor


class MatMul(Function):
    name = "matmul"

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        return array_module(a).matmul(a, b)  # (..., n, k) @ (..., k, m) -> (..., n, m)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        ga = MatMul.apply(g, b.transpose(-1, -2)) if b is not None else None  # (n,m)@(m,k)
        gb = MatMul.apply(a.transpose(-1, -2), g) if a is not None else None  # (k,n)@(n,m)
        return ga, gb
