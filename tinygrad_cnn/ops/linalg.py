"""Linear algebra: matmul (batched, with broadcast batch dimensions).

``Tensor.matmul`` has already turned 1-D operands into matrices and expanded the batch dims of an
operand that gets a gradient, so both VJPs below have their input's shape.
"""

from __future__ import annotations

from typing import Any

from tinygrad_cnn import parallel
from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.tensor import Tensor


class MatMul(Function):
    name = "matmul"

    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        return parallel.matmul(a, b)  # (..., n, k) @ (..., k, m) -> (..., n, m)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = ctx.saved_tensors
        ga = MatMul.apply(g, b.transpose(-1, -2)) if b is not None else None  # (n,m)@(m,k)
        gb = MatMul.apply(a.transpose(-1, -2), g) if a is not None else None  # (k,n)@(n,m)
        return ga, gb


class Linear(Function):
    """``y = x @ w.T + b`` in one op (``x (..., in)``, ``w (out, in)``, ``b (out,)``): one node
    instead of four (permute, matmul, expand, add) on the hot path of every dense layer."""

    name = "linear"

    @staticmethod
    def forward(ctx: Context, x: Any, w: Any, b: Any = None) -> Any:
        nx, nw = ctx.needs_input_grad[:2]
        ctx.save_for_backward(x if nw else None, w if nx else None)
        out = parallel.matmul(x, w.T)  # (..., in) @ (in, out) -> (..., out)
        if b is not None:
            out += b
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, ...]:
        x, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        gx = g.matmul(w) if needs[0] else None  # (..., out) @ (out, in); batch dims broadcast
        gw = gb = None
        if needs[1]:
            g2 = g.reshape(-1, g.shape[-1])  # (B, out)
            gw = g2.transpose(0, 1).matmul(x.reshape(-1, x.shape[-1]))  # (out, B) @ (B, in)
        if len(needs) > 2 and needs[2]:
            gb = g.sum(tuple(range(g.ndim - 1))) if g.ndim > 1 else g
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)
