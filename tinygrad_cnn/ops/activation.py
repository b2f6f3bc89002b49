"""Activations: relu, leaky_relu, sigmoid, tanh, softmax, log_softmax; and the modern ones: gelu
(with ndtr, the normal CDF its VJP needs), silu, elu (selu), softplus, logsigmoid, mish, hardswish,
hardsigmoid, hardtanh (relu6), prelu.

These are the tutorial's "activators" (``ReluActivator.backward`` is the ``out > 0`` mask below,
``SigmoidActivator.backward`` is ``out * (1 - out)``), as ops whose VJPs are Tensor expressions:
where a VJP uses the op's own output, the output is saved and comes back connected to the graph,
so second derivatives are right too.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import Context, Function, _state, first_order
from tinygrad_cnn.backend import array_module, zeros_shaped
from tinygrad_cnn.ops._special import SQRT1_2, ndtr
from tinygrad_cnn.ops.elementwise import keep, select, zero_below, zero_where
from tinygrad_cnn.ops.reduce import _add
from tinygrad_cnn.ops.unary import erf_array
from tinygrad_cnn.tensor import Tensor, where


class ReLU(Function):
    """``max(x, 0)``; the gradient at 0 is 0 (PyTorch's choice)."""
    vjp_reads_input = "output"  # (see Function.vjp_reads_input)

    name = "relu"

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        kind = x.dtype.kind
        if kind == "b":
            raise RuntimeError("relu: Boolean inputs not supported for relu (as in PyTorch); "
                               "convert first, e.g. x.float().relu()")
        # PyTorch's ``x < 0 ? 0 : x`` bit for bit, -0. and NaN kept (numpy's maximum gives +0 or
        # -0 for -0. by which of its loops runs): 84 against 40 µs for maximum on LeNet-5's first
        # activations, the price of matching PyTorch (small arrays: numpy's where, see zero_where)
        out = zero_below(x, x, strict=True) if kind == "f" else None
        if out is None:
            out = array_module(x).maximum(x, zeros_shaped(x))  # (an array: 3x faster than 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if not _state.grad_enabled:  # first order (every training step): 3 passes, not 4
            gx = zero_below(g._data, out._data, strict=False)  # exact 0 where out <= 0
            if gx is not None:
                return Tensor._make(gx)
        return keep(g, ~(out._data <= 0))  # NaN passes (as PyTorch)


class LeakyReLU(Function):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise. VJP: ``g`` where ``x > 0``,
    ``negative_slope * g`` elsewhere (the slope at 0 is ``negative_slope``, as PyTorch's)."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    name = "leaky_relu"

    @staticmethod
    def forward(ctx: Context, x: Any, negative_slope: float = 0.01) -> Any:
        if x.dtype.kind in "biu":  # (the slope would be cut to an integer)
            raise NotImplementedError(f"leaky_relu: not implemented for {x.dtype} tensors (as "
                                      "in PyTorch); convert first, e.g. x.float()")
        xp, y = array_module(x), _opmath(x)  # float16 in float32: a slope of 1e5 times -0.1
        slope = xp.where(y > 0, y.dtype.type(1), y.dtype.type(negative_slope))  # is -1e4, not -inf
        ctx.save_for_backward(slope)
        return (y * slope).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (slope,) = ctx.saved_tensors
        if first_order(g, slope):  # (the same on arrays: no nodes)
            return Tensor._make(g._data * slope._data)
        if g.dtype == slope.dtype:
            return g * slope
        return (g.to(slope.dtype) * slope).to(g.dtype)  # (float16, as the forward)


class Sigmoid(Function):
    """``1 / (1 + exp(-x))`` as it reads: accurate to a few ulp on both tails (where
    ``(1 + tanh(x / 2)) / 2`` cancels to 0 from x = -17 in float32, making ``log(sigmoid(x))``
    -inf); far left ``exp(-x)`` overflows to inf and the result is 0. float16 is computed in
    float32. VJP: ``g σ (1 - σ)``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = _sigmoid_array(_opmath(x)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if not _state.grad_enabled:  # first order: the same expression on arrays, no nodes
            o = out._data
            return Tensor._make(g._data * o * (1 - o))
        return g * out * (1 - out)


class Tanh(Function):
    """``tanh(x)``. VJP: ``g * (1 - y²)`` with ``y = tanh(x)`` the saved output (the tutorial's
    ``TanhActivator.backward``)."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = tanh_array(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        if out.dtype == np.float16:  # in float32, rounded once (PyTorch's opmath; was in half,
            return Tanh.backward(_Half32(ctx, out), g.float()).half()  # off by 6 steps, t134)
        if not _state.grad_enabled:  # first order: the same expression on arrays, no nodes
            o = out._data
            return Tensor._make(g._data * (1 - o * o))
        return g * (1 - out * out)


def _last_dim(x: Any, dim: int) -> bool:
    """Whether PyTorch's CPU softmax takes its last-dim kernel: no dim after ``dim`` is wider
    than 1."""
    return all(s == 1 for s in x.shape[dim % x.ndim + 1:]) if x.ndim else True


def softmax_array(x: Any, dim: int) -> Any:
    """Stable softmax on an array: subtract the max first, so logits in the thousands are fine.
    float16 is computed in float32 and rounded once, along every dim. (So does PyTorch's CPU
    kernel along the last dim. Along another it rounds ``exp(x - max)`` to float16 first in some
    columns and not in others, by its vector width and how it splits the columns between threads:
    within an ulp of ours, one ulp off in up to a fifth of the elements.)"""
    xp = array_module(x)
    if x.size == 0:
        return x.copy()
    if x.dtype == np.float16:
        return softmax_array(x.astype(np.float32), dim).astype(np.float16)
    with np.errstate(invalid="ignore"):  # a row of -inf, or with +inf: NaN, as PyTorch, quietly
        e = xp.exp(x - _reduce_max(x, dim))
    e /= _add(e, dim, True)
    return e


def _reduce_max(x: Any, dim: int) -> Any:
    """``x.max(axis=dim, keepdims=True)`` (numpy: the ufunc itself, without the method's Python
    layer -- a microsecond of a small softmax)."""
    if type(x) is np.ndarray:
        return np.maximum.reduce(x, axis=dim, keepdims=True)
    return x.max(axis=dim, keepdims=True)


def log_softmax_array(x: Any, dim: int) -> Any:
    """Stable log-softmax on an array: ``x - max - log(sum(exp(x - max)))``. float16 in float32,
    as PyTorch's CPU kernels, to the ulp: rounded once along a dim other than the last; along the
    last, the sum and its log are rounded to float16 first."""
    xp = array_module(x)
    if x.size == 0:
        return x.copy()
    if x.dtype == np.float16:
        if not _last_dim(x, dim):
            return log_softmax_array(x.astype(np.float32), dim).astype(np.float16)
        h, f = np.float16, np.float32
        with np.errstate(invalid="ignore"):
            shifted = x.astype(f) - x.max(axis=dim, keepdims=True).astype(f)
        total = xp.exp(shifted).sum(axis=dim, keepdims=True).astype(h).astype(f)
        return (shifted - xp.log(total).astype(h).astype(f)).astype(h)
    with np.errstate(invalid="ignore"):  # a row of -inf, or with +inf: NaN, as PyTorch, quietly
        shifted = x - _reduce_max(x, dim)
    shifted -= xp.log(_add(xp.exp(shifted), dim, True))
    return shifted


def _half_backward(ctx: Context, g: Tensor, out: Tensor, log: bool) -> Tensor:
    """The VJP of softmax (``y (g - sum(g y))``) or log_softmax (``g - exp(y) sum(g)``) of float16
    in float32, rounded once, as PyTorch's kernels: a float16 sum along the dim lost digits (numpy
    adds along a non-last dim in float16 itself) or overflowed (``sum(g)`` over 70,000 classes was
    inf, and every gradient of log_softmax with it)."""
    if not _state.grad_enabled:  # first order: the same expression on arrays, no nodes
        y, gd = out._data.astype(np.float32), g._data.astype(np.float32)
        xp = array_module(y)
        with np.errstate(invalid="ignore", over="ignore"):  # (inf - inf: NaN, as PyTorch's)
            gx = gd - xp.exp(y) * gd.sum(ctx.dim, keepdims=True) if log else \
                y * (gd - (gd * y).sum(ctx.dim, keepdims=True))
        return Tensor._make(gx.astype(np.float16))
    y, gf = out.float(), g.float()
    gx = gf - y.exp() * gf.sum(ctx.dim, keepdim=True) if log else \
        y * (gf - (gf * y).sum(ctx.dim, keepdim=True))
    return gx.to(np.float16)


class Softmax(Function):
    """``y = exp(x) / sum(exp(x))`` along ``dim``. VJP: ``y * (g - sum(g * y))`` along ``dim``
    (the Jacobian ``diag(y) - y yᵀ`` times ``g``), from the saved output."""
    contiguous = True

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int = -1) -> Any:
        out = softmax_array(x, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        # J^T g = y * (g - <g, y>) along dim
        (out,) = ctx.saved_tensors
        if out.dtype == np.float16:
            return _half_backward(ctx, g, out, log=False)
        if not _state.grad_enabled:  # first order: the same expression on arrays, no nodes
            y, gd = out._data, g._data
            dot = _add(gd * y, ctx.dim, True)  # (the ufunc's reduce on numpy arrays)
            return Tensor._make(y * (gd - dot))
        return out * (g - (g * out).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    """``y = x - logsumexp(x)`` along ``dim``. VJP: ``g - exp(y) * sum(g)`` along ``dim``
    (``exp(y)`` is the softmax), from the saved output."""
    contiguous = True

    name = "log_softmax"

    @staticmethod
    def forward(ctx: Context, x: Any, dim: int = -1) -> Any:
        out = log_softmax_array(x, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        # J^T g = g - softmax * sum(g) along dim; softmax = exp(log_softmax)
        (out,) = ctx.saved_tensors
        if out.dtype == np.float16:
            return _half_backward(ctx, g, out, log=True)
        if not _state.grad_enabled:  # first order: the same expression on arrays, no nodes
            gd = g._data
            return Tensor._make(gd - array_module(gd).exp(out._data) * _add(gd, ctx.dim, True))
        return g - out.exp() * g.sum(ctx.dim, keepdim=True)


# ---------------------------------------------------------------------------- modern activations
# Each forward computes float16 in float32 (PyTorch's "opmath") and rounds once. Each VJP is a
# Tensor expression of the saved input, so second derivatives flow; where a formula has a branch
# that would overflow outside its region (exp of a large x), the input is clamped first, so that
# the branch that is not taken cannot turn a zero gradient into NaN (0 * inf).
#
# The gradient at a NaN input: PyTorch's CPU kernels disagree with themselves there -- their
# vectorised loop and their scalar loop (the last few elements of a tensor) give different
# answers for elu, hardswish and hardtanh (1 in the scalar loop; NaN, NaN and 0 in the vectorised
# one). These ops follow the vectorised loop, i.e. what PyTorch gives for all but a tensor's tail.

_SQRT_2_OVER_PI = 0.79788456080286535588  # sqrt(2 / pi)
_INV_SQRT_2PI = 0.39894228040143267794  # 1 / sqrt(2 pi)
_GELU_KAPPA = 0.044715


class _Half32:
    """A float16 op's context seen with its saved input in float32 (the VJP computed there)."""

    def __init__(self, ctx: Context, x: Tensor) -> None:
        self.attrs, self.saved_tensors = ctx.attrs, (x.float(),)


def _opmath(x: Any) -> Any:
    """float16 is computed in float32 (as PyTorch does); other dtypes as they are."""
    return x.astype("float32") if x.dtype == "float16" else x


def _float32_saturation() -> np.float32:
    """The smallest float32 from which tanh rounds to 1: 1 - tanh(x) = 2 / (e^2x + 1) is at most
    half an ulp below 1 (2^-25) from x = 13 ln 2 on."""
    t = np.float32(13 * math.log(2.0))
    return t if float(t) >= 13 * math.log(2.0) else np.nextafter(t, np.float32(np.inf))


_TANH_ONE = _float32_saturation()


def tanh_array(x: Any) -> Any:
    """``tanh`` of an array; float32 from ``|x| = 13 ln 2`` on is ±1, the correctly rounded value
    (numpy's float32 kernel stops one ulp short, at 0.99999994, up to ``|x|`` = 10: its VJP
    ``1 - y²`` was then 1.2e-7 where the derivative is 7e-9 and PyTorch gives 0 -- an outside
    tester, t133, found it in tanh's and tanh-GELU's tails)."""
    xp = array_module(x)
    out = xp.tanh(x)
    if xp is np and x.dtype == np.float32:
        big = np.abs(x) >= _TANH_ONE
        if big.any():
            if out.ndim == 0:
                return np.sign(x).astype(np.float32)
            np.copyto(out, np.sign(x), where=big)
    return out


def _sigmoid_array(y: Any, quiet: bool = True) -> Any:
    """``1 / (1 + exp(-y))`` of an array (:class:`Sigmoid`'s forward, and the first-order VJPs
    that need a sigmoid); exp(-y) = inf far left makes 1 / inf = 0, as it should (``quiet``:
    without numpy's overflow warning; False inside a caller's own errstate, one fewer)."""
    if not quiet:
        return 1 / (1 + array_module(y).exp(-y))
    with np.errstate(over="ignore"):
        return 1 / (1 + array_module(y).exp(-y))


def _softplus_array(y: Any, beta: float, threshold: float) -> Any:
    """``log(1 + exp(beta y)) / beta``, ``y`` where ``beta y > threshold``, in ``y``'s dtype
    (:class:`Softplus`'s forward, and mish's first-order VJP)."""
    xp, t = array_module(y), y.dtype.type
    bx = y * t(beta) if beta != 1 else y  # (a factor of 1 skipped: y * 1 is y, bit for bit)
    with np.errstate(over="ignore"):
        soft = xp.log1p(xp.exp(bx))
    if beta != 1:
        soft /= t(beta)
    return xp.where(bx > t(threshold), y, soft)


def _mask(cond: Any) -> Tensor:
    return Tensor._make(cond)


class Ndtr(Function):
    """The standard normal CDF ``Φ(x) = (1 + erf(x / √2)) / 2`` (``torch.special.ndtr``).
    VJP: ``g φ(x)`` with the density ``φ(x) = exp(-x²/2) / √(2π)``. (GELU's VJP needs it.)"""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        return ndtr(x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * ((x * x * -0.5).exp() * _INV_SQRT_2PI)


class GELU(Function):
    """``x Φ(x)`` (``approximate="none"``) or ``x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2``
    (``approximate="tanh"``). VJP: ``g (Φ(x) + x φ(x))``, or the derivative of the tanh form."""

    name = "gelu"

    @staticmethod
    def forward(ctx: Context, x: Any, approximate: str = "none") -> Any:
        ctx.save_for_backward(x)
        y = _opmath(x)
        with np.errstate(invalid="ignore", over="ignore"):  # ±inf: PyTorch's NaNs, quietly
            if approximate == "tanh":
                out = y * 0.5 * (1 + tanh_array(_SQRT_2_OVER_PI * (y + _GELU_KAPPA * y * y * y)))
            else:
                out = y * 0.5 * (1 + erf_array(y * y.dtype.type(SQRT1_2)))
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if x.dtype == np.float16:  # in float32, rounded once (PyTorch's opmath): x³ and x² of
            # |x| >= 256 overflow float16, and 0 * inf made NaN gradients
            return (g.float() * _gelu_derivative(x.float(), ctx.attrs["approximate"])).half()
        if first_order(g, x):  # (the same on arrays: no nodes)
            with np.errstate(all="ignore"):
                return Tensor._make(g._data * _gelu_derivative_array(x._data,
                                                                     ctx.attrs["approximate"]))
        return g * _gelu_derivative(x, ctx.attrs["approximate"])


def _gelu_derivative_array(x: Any, approximate: str) -> Any:
    """:func:`_gelu_derivative` on a float32 or float64 array, op for op."""
    if approximate == "tanh":
        t = tanh_array((x + x * x * x * _GELU_KAPPA) * _SQRT_2_OVER_PI)
        dt = (1 - t * t) * ((x * x * (3 * _GELU_KAPPA) + 1) * _SQRT_2_OVER_PI)
        return (t + 1) * 0.5 + x * 0.5 * dt
    return ndtr(x) + x * (np.exp(x * x * -0.5) * _INV_SQRT_2PI)


def _gelu_derivative(x: Tensor, approximate: str) -> Tensor:
    if approximate == "tanh":
        t = ((x + x * x * x * _GELU_KAPPA) * _SQRT_2_OVER_PI).tanh()
        dt = (1 - t * t) * ((x * x * (3 * _GELU_KAPPA) + 1) * _SQRT_2_OVER_PI)
        return (t + 1) * 0.5 + x * 0.5 * dt
    return Ndtr.apply(x) + x * ((x * x * -0.5).exp() * _INV_SQRT_2PI)


class SiLU(Function):
    """``x σ(x)`` (swish). VJP: ``g σ(x) (1 + x (1 - σ(x)))``."""

    name = "silu"

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        xp, y = array_module(x), _opmath(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return (y / (1 + xp.exp(-y))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if x.dtype == np.float16:  # in float32, rounded once (PyTorch's opmath: in half, the
            return SiLU.backward(_Half32(ctx, x), g.float()).half()  # tail was 0, t134)
        if first_order(g, x):  # (the same on arrays: no nodes)
            xd = x._data
            sd = _sigmoid_array(xd)
            return Tensor._make(g._data * sd * (xd * (1 - sd) + 1))
        s = Sigmoid.apply(x)
        return g * s * (x * (1 - s) + 1)


class ELU(Function):
    """``scale * x`` for ``x > 0``, ``scale * alpha * (exp(input_scale * x) - 1)`` otherwise
    (PyTorch's ``elu`` kernel; SELU is ELU with fixed ``alpha`` and ``scale``).
    VJP: ``g * scale`` for ``x > 0``, ``g * scale * alpha * input_scale * exp(input_scale * x)``
    otherwise (``x <= 0``)."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    name = "elu"

    @staticmethod
    def forward(ctx: Context, x: Any, alpha: float = 1.0, scale: float = 1.0,
                input_scale: float = 1.0) -> Any:
        ctx.save_for_backward(x)
        xp, y = array_module(x), _opmath(x)
        t = y.dtype.type
        # (a factor of 1 skipped: x * 1 is x, bit for bit -- two passes fewer for plain elu)
        with np.errstate(over="ignore"):  # (large positive x: not the branch taken)
            neg = xp.expm1(y * t(input_scale) if input_scale != 1 else y)
        if alpha * scale != 1:
            neg *= t(alpha * scale)
        # PyTorch's test is x <= 0 (so -0 gives -0, and NaN takes the linear branch)
        return select(y <= 0, neg, y * t(scale) if scale != 1 else y).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if x.dtype == np.float16:  # in float32, rounded once (PyTorch's opmath)
            return ELU.backward(_Half32(ctx, x), g.float()).half()
        a = ctx.attrs
        if not _state.grad_enabled and g.dtype == x.dtype:  # first order: the same on arrays,
            xd, xp = x._data, array_module(x._data)           # in place (13x PyTorch's before)
            with np.errstate(over="ignore", invalid="ignore"):
                slope = zero_where(xd, xd >= 0)
                if slope is None:
                    slope = xp.where(xd >= 0, xd.dtype.type(0), xd)
                if a["input_scale"] != 1:  # (factors of 1 skipped, as in the forward)
                    slope *= a["input_scale"]
                xp.exp(slope, out=slope)
                if a["alpha"] * a["scale"] * a["input_scale"] != 1:
                    slope *= a["alpha"] * a["scale"] * a["input_scale"]
                slope *= g._data
                return Tensor._make(select(xd > 0, g._data * a["scale"] if a["scale"] != 1
                                           else g._data, slope))
        # exp of x where x < 0 (or NaN), of 0 elsewhere: so the second derivative at 0 is 0, as
        # PyTorch's elu_double_backward masks it with x < 0 (clamp(max=0) passed it at the bound)
        below = where(_mask(x._data >= 0), 0.0, x)
        slope = (below * a["input_scale"]).exp() * (a["alpha"] * a["scale"] * a["input_scale"])
        # NaN in: NaN out, as PyTorch's vectorised kernel gives (its scalar loop, which only
        # takes the last few elements of a tensor, gives g * scale)
        return where(_mask(x._data > 0), g * a["scale"], g * slope)


class Softplus(Function):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``.
    VJP: ``g σ(beta x)`` (``g`` above the threshold)."""

    @staticmethod
    def forward(ctx: Context, x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
        ctx.save_for_backward(x)
        return _softplus_array(_opmath(x), beta, threshold).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.attrs["beta"], ctx.attrs["threshold"]
        bx = x._data * beta if beta != 1 else x._data  # (x * 1 is x: the pass skipped)
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd = g._data
            return Tensor._make(np.where(bx > threshold, gd, gd * _sigmoid_array(bx)))
        soft = g * Sigmoid.apply(x * beta)
        at = bx == threshold
        if bool(at.any()):  # exactly at the threshold PyTorch's double backward (masked with
            # beta*x < threshold) gives 0: the sigmoid is a constant there
            soft = where(_mask(at), g * Sigmoid.apply(x.detach() * beta), soft)
        return where(_mask(bx > threshold), g, soft)


class LogSigmoid(Function):
    """``log σ(x) = min(x, 0) - log1p(exp(-|x|))``, stable on both tails (``-softplus(-x)`` would
    round ``log σ(-30)`` to -30 in float64 at softplus's threshold). float16 is computed in
    float32. VJP: ``g σ(-x)``."""

    name = "logsigmoid"

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        xp, y = array_module(x), _opmath(x)
        return (xp.minimum(y, 0) - xp.log1p(xp.exp(-xp.abs(y)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return g * Sigmoid.apply(-x)


class Mish(Function):
    """``x tanh(softplus(x))``. VJP: ``g (t + x σ(x) (1 - t²))`` with ``t = tanh(softplus(x))``."""

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        xp, y = array_module(x), _opmath(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return (y * tanh_array(xp.log1p(xp.exp(y)))).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if x.dtype == np.float16:  # in float32, rounded once (PyTorch's opmath, t134)
            return Mish.backward(_Half32(ctx, x), g.float()).half()
        if first_order(g, x):  # (the same on arrays: no nodes)
            xd = x._data
            with np.errstate(over="ignore", invalid="ignore"):
                td = tanh_array(_softplus_array(xd, 1.0, 20.0))
                sig = _sigmoid_array(xd, quiet=False)  # (inside this errstate)
                return Tensor._make(g._data * (td + xd * sig * (1 - td * td)))
        t = Softplus.apply(x, beta=1.0, threshold=20.0).tanh()
        return g * (t + x * Sigmoid.apply(x) * (1 - t * t))


class Hardswish(Function):
    """``x * relu6(x + 3) / 6``. VJP: ``0`` up to -3, ``g (x/3 + 1/2)`` on ``(-3, 3)``, ``g``
    from 3 on (PyTorch's boundaries)."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        ctx.save_for_backward(x)
        xp, y = array_module(x), _opmath(x)
        with np.errstate(invalid="ignore"):  # -inf * 0: NaN, as PyTorch
            return (y * xp.minimum(xp.maximum(y + 3, 0), 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        if x.dtype == np.float16:  # in float32, rounded once (PyTorch's opmath; x / 3 + 0.5 in
            return Hardswish.backward(_Half32(ctx, x), g.float()).half()  # half: 81 ulp off)
        d = x._data
        if first_order(g, x):  # (the same on arrays: no nodes)
            gd = g._data
            inner = np.where(d <= -3, d.dtype.type(0), gd * (d / 3 + 0.5))
            return Tensor._make(np.where(d >= 3, gd, inner))
        inside = where(_mask(d <= -3), 0.0, g * (x / 3 + 0.5))  # NaN in: NaN out
        return where(_mask(d >= 3), g, inside)


class Hardsigmoid(Function):
    """``relu6(x + 3) / 6``. VJP: ``g / 6`` strictly inside ``(-3, 3)``, else 0. Linear pieces:
    the second derivative is zero."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp, y = array_module(x), _opmath(x)
        ctx.inside = (x > -3) & (x < 3)
        return (xp.minimum(xp.maximum(y + 3, 0), 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        # times PyTorch's constant, 1.0f / 6.0f: a float32 number, also for float64 (an outside
        # tester's float64 trajectories split from PyTorch's at the first step with g / 6)
        return keep(g, ctx.inside) * _ONE_SIXTH


_ONE_SIXTH = float(np.float32(1.0) / np.float32(6.0))


class Hardtanh(Function):
    """``clamp(x, min_val, max_val)`` with PyTorch's hardtanh gradient: ``g`` strictly inside,
    exactly 0 at and beyond the ends and at NaN (``relu6`` is ``hardtanh(x, 0, 6)``)."""
    vjp_reads_input = True  # (see Function.vjp_reads_input)

    @staticmethod
    def forward(ctx: Context, x: Any, min_val: float = -1.0, max_val: float = 1.0) -> Any:
        xp, y = array_module(x), _opmath(x)  # (float16 compared in float32, as PyTorch: 0.1 in
        ctx.inside = (y > min_val) & (y < max_val)  # half is below a bound of 0.1)
        return xp.clip(x, min_val, max_val).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        return keep(g, ctx.inside)


class PReLU(Function):
    """``x`` for ``x > 0``, ``weight * x`` otherwise, with one learned slope per channel (dim 1)
    or one for all. VJP: ``g`` or ``g * weight`` for ``x``; for ``weight`` the sum of ``g * x``
    over the non-positive inputs of its channel."""

    vjp_reads_input = True  # (see Function.vjp_reads_input)

    name = "prelu"

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any) -> Any:
        ctx.save_for_backward(x, weight)
        w = _channel_view(weight, x.ndim)
        return array_module(x).where(x > 0, x, w * x)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, weight = ctx.saved_tensors
        positive = _mask(x._data > 0)
        # at x == 0 (and -0) the values below are PyTorch's, and so are their derivatives:
        # PyTorch's double backward takes the slope terms where x < 0 only, so there the
        # weight (in gx) and x (in gw) enter as constants
        at_zero = x._data == 0
        zero = _mask(at_zero) if bool(at_zero.any()) else None
        nx, nw = ctx.needs_input_grad
        gx = gw = None
        if nx:
            w = weight.reshape(_channel_view(weight._data, x.ndim).shape)
            slope = g * w if zero is None else where(zero, g * w.detach(), g * w)
            gx = where(positive, g, slope)
        if nw:
            per = where(positive, 0.0, g * x if zero is None else
                        where(zero, g * x.detach(), g * x))
            dims = tuple(d for d in range(x.ndim) if not (weight.numel() > 1 and d == 1))
            gw = per.sum(dims).reshape(weight.shape) if dims else per.reshape(weight.shape)
        return gx, gw


def _channel_view(weight: Any, ndim: int) -> Any:
    """A ``(C,)`` weight shaped to broadcast along dim 1 of an ``ndim``-dim input."""
    if weight.size == 1 or ndim < 2:
        return weight.reshape(())
    return weight.reshape((1, -1) + (1,) * (ndim - 2))
