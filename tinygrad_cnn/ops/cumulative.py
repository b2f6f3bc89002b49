"""Running log-sum-exp: ``logcumsumexp``.

The other scans live with their families: ``cumsum`` and ``cumprod`` in ``reduce.py`` (next to
``logsumexp``, the whole-dim form of this one), ``cummax`` and ``cummin`` in ``statistics.py``.

``out_i = log(sum_{k <= i} exp(x_k))`` along a dim, computed as PyTorch's CPU kernel does: a
running ``log_add_exp(x_i, out_{i-1})`` from ``-inf``, each step ``max + log1p(exp(min - max))``,
so large values do not overflow (``[1000, 1000]`` gives ``[1000, 1000.693]``), ``-inf`` entries
add nothing (``log(0)``), a ``+inf`` stays ``+inf`` to the end, and a NaN is NaN from there on.
The running value is kept in float64 for float32 input and in float32 for float16 (PyTorch's CPU
accumulation type), rounded once per element.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.backend import array_module, quiet
from tinygrad_cnn.ops.reduce import _flip, _scan_wide
from tinygrad_cnn.tensor import Tensor, _dim, where


def _log_add_exp_scan(x: Any, dim: int) -> Any:
    """The running ``logaddexp`` along ``dim`` (numpy's ``logaddexp`` is PyTorch's
    ``log_add_exp_helper``: ``max + log1p(exp(min - max))``, equal infinities kept, NaN
    propagated). The first element is ``logaddexp(-inf, x_0)``, as PyTorch starts its scan:
    ``x_0 + 0``, so a -0.0 there becomes +0.0 (``log(exp(-0.0))``)."""
    xp = array_module(x)
    if xp is np:
        out = np.logaddexp.accumulate(x, axis=dim)
        if x.shape[dim]:
            out[(slice(None),) * dim + (0,)] += 0  # (accumulate copies x_0 as it is)
        return out
    out = xp.empty_like(x)  # (CuPy: one step per element of the dim)
    index: list[Any] = [slice(None)] * x.ndim
    running = None
    for i in range(x.shape[dim]):
        index[dim] = i
        step = x[tuple(index)]
        running = step + 0 if running is None else xp.logaddexp(step, running)
        out[tuple(index)] = running
    return out


class LogCumSumExp(Function):
    """``out_i = log(sum_{k <= i} exp(x_k))`` along ``dim`` (stable: see the module). VJP
    (PyTorch's, from TensorFlow's ``cumulative_logsumexp``), split by the sign of ``g`` so that
    every logarithm is of a positive number: with ``rev(v) = flip(logcumsumexp(flip(v)))`` the
    scan from the other end, ``L+ = log|g|`` where ``g > 0`` and the dtype's lowest finite value
    elsewhere (``L-`` likewise where ``g < 0``),
    ``grad = exp(rev(L+ - out) + x) - exp(rev(L- - out) + x)``, i.e.
    ``grad_k = sum_{i >= k} g_i exp(x_k - out_i)``. Written in Tensor ops (this op included), so
    it has derivatives of its own. Like PyTorch's, it is NaN at a leading run of ``-inf`` inputs
    (``out = -inf`` there). A 0-d input is its own result: the gradient is ``g``."""
    name = "logcumsumexp"
    contiguous = True

    @staticmethod
    @quiet  # (inf - inf: NaN, as PyTorch's kernel, without numpy's warning)
    def forward(ctx: Context, x: Any, dim: int = 0) -> Any:
        xp = array_module(x)
        if x.ndim == 0:
            out = x.copy()
        else:
            out = xp.ascontiguousarray(_log_add_exp_scan(_scan_wide(x), dim).astype(x.dtype,
                                                                                copy=False))
        ctx.save_for_backward(x, out)  # (the result: its tensor, so the VJP differentiates too)
        return out

    @staticmethod
    @quiet  # (log 0, inf - inf: IEEE results, as PyTorch's)
    def backward(ctx: Context, g: Tensor) -> Tensor:
        if g.ndim == 0 or g.numel() == 0:
            return g
        x, out = ctx.saved_tensors
        dim = ctx.attrs["dim"]
        lowest = float(np.finfo(g.dtype).min)
        log_abs = g.abs().log()
        positive = where(g > 0, log_abs, lowest)
        negative = where(g < 0, log_abs, lowest)

        def rev(v: Tensor) -> Tensor:
            return _flip(LogCumSumExp.apply(_flip(v, dim), dim=dim), dim)

        return (rev(positive - out) + x).exp() - (rev(negative - out) + x).exp()


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """``log(cumsum(exp(input), dim))`` without overflow or underflow (see the module): floating
    tensors only (PyTorch's CPU kernel has no integer one); ``dim`` an int."""
    if not isinstance(input, Tensor):
        raise TypeError(f"logcumsumexp(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    d = _dim(dim, input.ndim, "logcumsumexp")
    if input.dtype.kind != "f":
        name = {"b": "Bool", "u": "Byte"}.get(input.dtype.kind,
                                               {4: "Int", 8: "Long", 2: "Short", 1: "Char"}.get(
                                                   input.dtype.itemsize, str(input.dtype)))
        raise NotImplementedError(f'"logcumsumexp_out_cpu" not implemented for \'{name}\' (as in '
                                  "PyTorch): convert the input with .float() or .double()")
    return LogCumSumExp.apply(input, dim=d)
