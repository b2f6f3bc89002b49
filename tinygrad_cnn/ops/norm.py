"""Normalisation: normalize (and its VJP, normalize_backward), affine, and the layers --
batch_norm, layer_norm, group_norm, instance_norm -- each the two in one node.

Batch, layer, group and instance norm differ only in which dims their statistics run over:

| layer | input | normalized over (``dims``) | affine |
|---|---|---|---|
| ``BatchNorm2d`` | ``(N, C, H, W)`` | ``(0, 2, 3)`` | one scale and shift per channel |
| ``InstanceNorm2d`` | ``(N, C, H, W)`` | ``(2, 3)`` | per channel |
| ``GroupNorm`` | ``(N, C, H, W)`` viewed as ``(N, G, C/G * H * W)`` | ``(2,)`` | per channel |
| ``LayerNorm`` | ``(..., *normalized_shape)`` | the last ``len(normalized_shape)`` | per element |

so each is ``normalize`` -- ``x̂ = (x - mean) / sqrt(var + eps)`` with the biased variance over
``dims`` -- followed by ``affine`` -- ``x̂ * weight + bias``, broadcast. A layer records the two
as one node (its class at the end of this file, named after the layer: one op's overhead, not
two -- as PyTorch's ``native_batch_norm``), whose VJP is the two VJPs composed; without weight
and bias it is ``normalize`` alone (group norm's its own op all the same), and batch norm in eval
mode is ``affine`` of the input less the running mean, its scale ``weight / sqrt(running_var +
eps)`` (centred first, not folded into the shift: no cancellation).
``nn/functional_norm.py`` picks the dims, keeps the running statistics and checks arguments.

The VJP of normalize, for the ``n`` elements of one group, is the projection

    dx = s * (g - mean(g) - x̂ * mean(g * x̂)),      s = 1 / sqrt(var + eps),

computed in one fused op (``normalize_backward``) from the statistics of the forward pass. That op
is linear and self-adjoint in ``g``; its derivative in ``x`` is written out in Tensor ops below, so
second (and third) derivatives flow.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn import layout
from tinygrad_cnn.autograd import Context, Function, first_order, is_grad_enabled
from tinygrad_cnn.backend import array_module, quiet
from tinygrad_cnn.ops.reduce import array_mean, float_sum
from tinygrad_cnn.tensor import Tensor

Dims = tuple[int, ...]


def moments(x: Any, dims: Dims) -> tuple[Any, Any]:
    """``(mean, biased variance)`` of ``x`` over ``dims``, kept as size-1 dims; float16 in
    float32. Two passes (no ``E[x²] - E[x]²`` cancellation)."""
    if type(x) is np.ndarray and x.dtype in _FAST_DTYPES and x.flags.c_contiguous and x.size \
            and x.ndim - 1 in dims and x.shape[-1] > 1:
        # the common case (a layer's float32 input, its last dim reduced, so summed pairwise)
        # straight to the two passes, without the checks and the errstate below (13.7 -> ~9 µs
        # of a 16×16 layer norm's forward); its callers are quiet where numpy's warnings would
        # show (an op's apply, the backward pass, quiet_if_shown)
        return _two_passes(x, dims)
    return _moments(x, dims)


_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_BIG_BYTES = 1 << 30  # (see _moments)


@quiet  # (inf - inf, an empty batch: NaN, as PyTorch, without numpy's warnings)
def _moments(x: Any, dims: Dims) -> tuple[Any, Any]:
    """:func:`moments`, every case."""
    y = x.astype("float32") if x.dtype == "float16" else x
    if y.nbytes >= _BIG_BYTES:  # (an expanded input: its result must fit before its statistics
        array_module(y).empty(y.shape, y.dtype)  # are summed over every repeat -- minutes for
        # 10¹² -- so that a result too big fails at once, as PyTorch's: t182)
    if y.size == 0:  # statistics of nothing: 0 and 1 (the output is empty anyway)
        kept = tuple(1 if d in dims else s for d, s in enumerate(y.shape))
        xp = array_module(y)
        return xp.zeros(kept, dtype=y.dtype), xp.ones(kept, dtype=y.dtype)
    if _summed_naively(y, dims):
        # numpy sums pairwise only along the axis its loop runs fastest over; over the others
        # it adds one value at a time, which loses float32's digits on long sums (a
        # LayerNorm(C) on x.permute(0, 2, 3, 1) of an NCHW tensor with a 1e4 offset: error 0.03
        # instead of 1e-3): the reduced dims are gathered last, contiguous, first
        # (transposes, not moveaxis: its argument checks were 10% of a small batch norm)
        perm = [d for d in range(y.ndim) if d not in dims] + list(dims)
        back = tuple(perm.index(d) for d in range(y.ndim))
        last = tuple(range(y.ndim - len(dims), y.ndim))
        mean, var = moments(array_module(y).ascontiguousarray(y.transpose(perm)), last)
        return mean.transpose(back), var.transpose(back)
    return _two_passes(y, dims)


def _two_passes(y: Any, dims: Dims) -> tuple[Any, Any]:
    """The mean, then the mean of the squared deviations from it (``y`` float32/64, not empty)."""
    mean = array_mean(y, dims, True)
    centered = y - mean
    centered *= centered
    var = array_mean(centered, dims, True)
    if type(var) is np.ndarray and math.isfinite(np.add.reduce(var, axis=None)) and \
            math.isfinite(np.add.reduce(mean, axis=None)):
        return mean, var  # (finite sums: no inf in either -- two sums, not isinf's four calls)
    xp = array_module(y)
    if xp.isinf(var).any() or xp.isinf(mean).any():
        return _wide_moments(y, dims, mean, var)
    lost = xp.isnan(mean) | xp.isnan(var)  # (a NaN of finite values: a running sum past the
    if lost.any() and (lost & xp.isfinite(y).all(axis=dims, keepdims=True)).any():  # range
        return _wide_moments(y, dims, mean, var)  # met its negative, inf - inf: t186)
    return mean, var


@quiet  # (squares past the dtype's range: numpy's overflow warnings)
def _wide_moments(y: Any, dims: Dims, mean: Any, var: Any) -> tuple[Any, Any]:
    """The moments where the squares (or the sum) of finite values overflowed: float32 ones again
    in float64, where they fit (was: the variance of [1e20, -1e20, 3e20] was inf in float32, and
    layer_norm gave 0 for every element -- PyTorch's NaN; now [0, -1.22, 1.22]); a float64
    group past float64's range (|x| ~ 1e154) gets a NaN variance, not a silent 0 output."""
    xp = array_module(y)
    if y.dtype != xp.float64:
        wide = y.astype(xp.float64)
        mean = wide.mean(axis=dims, keepdims=True)
        centered = wide - mean
        centered *= centered
        return mean, centered.mean(axis=dims, keepdims=True)
    finite = xp.isfinite(y).all(axis=dims, keepdims=True)
    return mean, xp.where(finite & xp.isinf(var), xp.nan, var)


def _summed_naively(y: Any, dims: Dims) -> bool:
    """Whether the axis with the smallest stride (the one numpy's reduction loop runs fastest
    over, with pairwise sums) is not among the reduced ``dims`` while a reduced one is long."""
    if not dims or y.ndim < 2:
        return False
    inner = min((abs(st), -ax) for ax, (st, n) in enumerate(zip(y.strides, y.shape)) if n > 1) \
        if any(n > 1 for n in y.shape) else (0, 0)
    return -inner[1] not in dims and max(y.shape[d] for d in dims) > 8


def _count(shape: tuple[int, ...], dims: Dims) -> int:
    return math.prod(shape[d] for d in dims)


class Normalize(Function):
    """``(x - mean) / sqrt(var + eps)``, mean and biased variance over ``dims`` (kept per group;
    left on ``ctx.mean`` and ``ctx.var``, where batch norm reads them for its running averages).
    VJP: ``normalize_backward(g, x)``, the projection above."""

    @staticmethod
    def forward(ctx: Context, x: Any, dims: Dims = (), eps: float = 1e-5,
                zero_degenerate: bool = False) -> Any:
        y, ctx.mean, ctx.var = _xhat(x, dims, eps, zero_degenerate)
        ctx.save_for_backward(x)
        return _laid_out(x, y.astype(x.dtype, copy=False), dims)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        attrs = _norm_attrs(ctx)
        if first_order(g, x):  # normalize_backward's forward on the arrays (no node), with the
            # statistics of this forward (the same x: its version is checked)
            return Tensor._make(_normalize_vjp(g._data, x._data, attrs["dims"], attrs["eps"],
                                               bool(attrs.get("zero_degenerate")),
                                               (ctx.mean, ctx.var)))
        return NormalizeBackward.apply(g, x, **attrs)


def _laid_out(x: Any, y: Any, dims: Dims) -> Any:
    """Normalized ``y`` of ``x`` in C order, as PyTorch's layer_norm and batch_norm of a
    transposed input -- but batch norm of a channels-last image stays channels-last, as
    PyTorch's (here, not by ``Function.contiguous``: batch norm without a graph calls forward
    itself)."""
    if x.ndim == 4 and tuple(dims) == (0, 2, 3):
        y = layout.follow(x, y)
        if layout.holds(y, "channels_last") and not x.flags.c_contiguous:
            return y
    return y if y.flags.c_contiguous else array_module(y).ascontiguousarray(y)


def _norm_attrs(ctx: Context) -> dict[str, Any]:
    attrs = {"dims": ctx.attrs["dims"], "eps": ctx.attrs["eps"]}
    if ctx.attrs.get("zero_degenerate"):
        attrs["zero_degenerate"] = True
    return attrs


def _rstd(xp: Any, var: Any, eps: float, zero_degenerate: bool) -> Any:
    """``1 / sqrt(var + eps)``; with ``zero_degenerate``, 0 where ``var + eps`` is 0 (PyTorch's
    batch-norm kernel, behind instance_norm: eps=0 over a constant channel gives 0, not NaN)."""
    if not zero_degenerate:
        return 1.0 / xp.sqrt(var + eps)
    v = var + eps
    with np.errstate(divide="ignore"):
        return xp.where(v == 0, 0.0, 1.0 / xp.sqrt(xp.where(v == 0, 1.0, v)))


def _standardized(x: Tensor, dims: Dims, eps: float,
                  zero_degenerate: bool = False) -> tuple[Tensor, Tensor]:
    """``(x̂, s)`` of ``x`` over ``dims`` as Tensor expressions (differentiable in ``x``)."""
    centered = x - x.mean(dims, keepdim=True)
    v = (centered * centered).mean(dims, keepdim=True) + eps
    if zero_degenerate:  # (s = 0 where v = 0, its gradient 0 there too: v taken as 1 on that side)
        kept = v != 0
        s = (v.where(kept, 1.0) ** -0.5).where(kept, 0.0)
    else:
        s = v ** -0.5
    return centered * s, s


@quiet  # (as moments: numpy's own mean of an empty batch warns from numpy's modules)
def _normalize_vjp(g: Any, x: Any, dims: Dims, eps: float, zero_degenerate: bool,
                   stats: tuple[Any, Any] | None = None, xhat: Any = None) -> Any:
    """``s * (g - mean(g) - x̂ * mean(g * x̂))`` on arrays (``stats``: ``x``'s moments, if known;
    ``xhat``: ``x̂`` itself, as the forward computed it in the statistics' dtype)."""
    xp = array_module(x)
    mean, var = moments(x, dims) if stats is None else stats
    rstd = _rstd(xp, var, eps, zero_degenerate)
    if xhat is None:
        xhat = x.astype(mean.dtype, copy=False) - mean
        xhat *= rstd
    gg = g.astype(rstd.dtype, copy=False)
    dx = gg - array_mean(gg, dims, True)
    dx -= xhat * array_mean(gg * xhat, dims, True)
    dx *= rstd
    return dx.astype(g.dtype, copy=False)


class NormalizeBackward(Function):
    """The VJP of normalize: ``s * (g - mean(g) - x̂ * mean(g * x̂))`` over ``dims``, for the
    output gradient ``g`` and the input ``x`` (``x̂`` and ``s`` recomputed from ``x``: an op is a
    function of its inputs and attributes only, so that any node can be replayed by itself).

    Its own VJP, for a cotangent ``u``: in ``g`` the same projection of ``u`` (it is symmetric);
    in ``x``, with per-group sums ``A = Σ u (g - mean(g))``, ``B = Σ u x̂``, ``C = Σ g x̂``:
    ``-(A - B C / n) s² x̂ / n - s / n * (C * P(u) + B * P(g))``, ``P`` being this op."""

    name = "normalize_backward"

    @staticmethod
    @quiet  # (as moments)
    def forward(ctx: Context, g: Any, x: Any, dims: Dims = (), eps: float = 1e-5,
                zero_degenerate: bool = False) -> Any:
        ctx.save_for_backward(g, x)
        return _normalize_vjp(g, x, dims, eps, zero_degenerate)

    @staticmethod
    def backward(ctx: Context, u: Tensor) -> tuple[Tensor | None, Tensor | None]:
        g, x = ctx.saved_tensors
        attrs = _norm_attrs(ctx)
        dims, eps = attrs["dims"], attrs["eps"]
        ng, nx = ctx.needs_input_grad
        pu = NormalizeBackward.apply(u, x, **attrs)
        if not nx:
            return pu if ng else None, None
        n = _count(x.shape, dims)
        xhat, s = _standardized(x, dims, eps, bool(attrs.get("zero_degenerate")))
        a = (u * (g - g.mean(dims, keepdim=True))).sum(dims, keepdim=True)
        b = (u * xhat).sum(dims, keepdim=True)
        c = (g * xhat).sum(dims, keepdim=True)
        pg = NormalizeBackward.apply(g, x, **attrs)
        gx = -(a - b * c / n) * s * s * xhat / n - s / n * (c * pu + b * pg)
        return (pu if ng else None), gx


class Affine(Function):
    """``x * weight + bias``, with ``weight`` and ``bias`` viewed as ``shape`` (``(1, C, 1, 1)``:
    one scale and shift per channel; ``(1, *normalized_shape)``: per element) and broadcast.
    VJP: ``g * weight`` for ``x``; the sums of ``g * x`` and of ``g`` over the broadcast dims for
    ``weight`` and ``bias``."""

    contiguous = True  # (as Normalize, whose result it scales -- channels-last kept, as
    follows_channels_last = True  # PyTorch's batch norm keeps it)

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, shape: tuple[int, ...] = ()) -> Any:
        nx, nw, _ = ctx.needs_input_grad
        ctx.save_for_backward(x if nw else None, weight if nx else None)
        out = x * weight.reshape(shape)
        out += bias.reshape(shape)
        return out

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        x, weight = ctx.saved_tensors
        shape = ctx.attrs["shape"]
        nx, nw, nb = ctx.needs_input_grad
        lead = g.ndim - len(shape)
        dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1)
        w_shape, b_shape = ctx.in_meta[1][0], ctx.in_meta[2][0]
        if first_order(g, weight, x):
            gd = g._data  # (the same on arrays: no nodes)
            return (Tensor._make(gd * weight._data.reshape(shape)) if nx else None), \
                (Tensor._make(_sum_to(gd * x._data, dims, w_shape)) if nw else None), \
                (Tensor._make(_sum_to(gd, dims, b_shape)) if nb else None)
        gx = g * weight.reshape(shape) if nx else None
        gw = _reduce_to(g * x, dims, w_shape) if nw else None
        gb = _reduce_to(g, dims, b_shape) if nb else None
        return gx, gw, gb


def _sum_to(a: Any, dims: Dims, shape: tuple[int, ...]) -> Any:
    return (float_sum(a, dims) if dims else a).reshape(shape)


def _reduce_to(t: Tensor, dims: Dims, shape: tuple[int, ...]) -> Tensor:
    return (t.sum(dims) if dims else t).reshape(shape)


# ----------------------------------------------------------------- the layers: one node each
class _NormAffine:
    """``normalize`` then ``affine`` in one node: ``x̂ * weight + bias``, ``x̂`` the input
    normalized over ``dims`` (of the input viewed as ``(N, groups, -1)`` when ``groups`` is set:
    group norm), ``weight`` and ``bias`` viewed as ``shape``. One node where the two ops made two,
    as PyTorch's native_batch_norm, native_layer_norm and native_group_norm are: a layer's
    recording and VJP cost an op's overhead once.

    VJP: ``weight``'s the sum of ``g * x̂`` over the broadcast dims, ``bias``'s that of ``g``, and
    the input's normalize's VJP of ``g * weight`` (the projection in the module docstring) --
    the two ops' VJPs composed, value for value. Under ``create_graph`` they are the same
    expressions in Tensor ops (``normalize_backward``, and ``x̂`` recorded again as a
    ``normalize`` node), so second derivatives flow as before."""

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, dims: Dims = (),
                eps: float = 1e-5, shape: tuple[int, ...] = (), groups: int = 0,
                zero_degenerate: bool = False) -> Any:
        xp = array_module(x)
        y, ctx.mean, ctx.var = _xhat(_grouped(x, groups), dims, eps, zero_degenerate)
        xhat = y if y.dtype == x.dtype else None  # (x̂ for the VJP, as it is)
        if groups:
            y = y.reshape(x.shape)  # (a view of x̂)
            if _channels_last(x):
                y = layout.arrange(y, "channels_last")  # (PyTorch's group norm keeps it)
            elif not y.flags.c_contiguous:  # (x̂ of a transposed input seen as groups without a
                y = xp.ascontiguousarray(y)  # copy kept its order: PyTorch's result is C -- t186)
        else:
            y = _laid_out(x, y, dims)
        wide = y  # (x̂ in the statistics' dtype: float32 for float16)
        y = y.astype(x.dtype, copy=False)  # (in wide's layout)
        nx, nw, _ = ctx.needs_input_grad
        # (then the VJP reads x̂ from y, not again from x)
        ctx.xhat_is_y = nx and xhat is not None and (y is xhat or y.base is xhat)
        ctx.save_for_backward(x, weight if nx else None, y if nw or ctx.xhat_is_y else None)
        if wide is not y:  # float16: x̂ * weight + bias in float32, rounded once, as PyTorch's
            # (rounded twice, x̂ then the result, a sum cancelling against the bias was 1,465 ulp
            # off -- t196)
            out = wide * weight.astype(wide.dtype).reshape(shape)
            out += bias.astype(wide.dtype).reshape(shape)
            out = out.astype(x.dtype)
        else:
            out = y * weight.reshape(shape)
            out += bias.reshape(shape)
        if y.flags.c_contiguous:
            return out if out.flags.c_contiguous else xp.ascontiguousarray(out)
        return layout.follow(y, out)  # (channels-last, as y)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        x, weight, y = ctx.saved_tensors
        attrs = _norm_attrs(ctx)
        dims, eps = attrs["dims"], attrs["eps"]
        shape, groups = ctx.attrs["shape"], ctx.attrs.get("groups", 0)
        nx, nw, nb = ctx.needs_input_grad
        lead = g.ndim - len(shape)
        sums = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1)
        w_shape, b_shape = ctx.in_meta[1][0], ctx.in_meta[2][0]
        if first_order(g, x, weight, y):  # (the arrays, no nodes: every training step)
            gd = g._data
            gx = None
            if nx:
                gy = _grouped(gd * weight._data.reshape(shape), groups)
                dx = _normalize_vjp(gy, _grouped(x._data, groups), dims, eps,
                                    bool(attrs.get("zero_degenerate")), (ctx.mean, ctx.var),
                                    _grouped(y._data, groups) if ctx.xhat_is_y else None)
                gx = Tensor._make(dx.reshape(x.shape) if groups else dx)
            return gx, (Tensor._make(_sum_to(gd * y._data, sums, w_shape)) if nw else None), \
                (Tensor._make(_sum_to(gd, sums, b_shape)) if nb else None)
        gx = gw = None
        if nx:
            gy = g * weight.reshape(shape)
            gx = NormalizeBackward.apply(_grouped(gy, groups), _grouped(x, groups), **attrs)
            gx = gx.reshape(x.shape) if groups else gx
        if nw:
            if is_grad_enabled():  # (create_graph: x̂ as a function of x, recorded again)
                y = _normalized(x, attrs, groups)
            gw = _reduce_to(g * y, sums, w_shape)
        return gx, gw, (_reduce_to(g, sums, b_shape) if nb else None)


def _xhat(x: Any, dims: Dims, eps: float, zero_degenerate: bool) -> tuple[Any, Any, Any]:
    """``(x̂, mean, var)`` of array ``x`` over ``dims``, ``x̂`` in the statistics' dtype."""
    mean, var = moments(x, dims)
    y = x.astype(mean.dtype, copy=False) - mean
    y *= _rstd(array_module(x), var, eps, zero_degenerate)
    return y, mean, var


def _grouped(a: Any, groups: int) -> Any:
    """``a`` (an array or a Tensor) as ``(N, groups, -1)`` -- group norm's view -- or itself when
    ``groups`` is 0."""
    if not groups:
        return a
    return a.reshape(a.shape[0], groups, -1 if math.prod(a.shape) else 0)


def _channels_last(x: Any) -> bool:
    """Whether array ``x`` is a channels-last image (and not also C-ordered): PyTorch's group
    norm keeps that layout."""
    return x.ndim == 4 and not x.flags.c_contiguous and layout.holds(x, "channels_last")


def _normalized(x: Tensor, attrs: dict[str, Any], groups: int) -> Tensor:
    """The layer's ``x̂`` as a ``normalize`` node of ``x`` (its forward's values and layout)."""
    if not groups:
        return Normalize.apply(x, **attrs)
    y = Normalize.apply(_grouped(x, groups), **attrs).reshape(x.shape)
    return y.contiguous(memory_format=layout.channels_last) if _channels_last(x._data) else y


class BatchNorm(_NormAffine, Function):
    """Batch norm's training step: ``normalize`` over the batch and spatial dims, then a scale and
    shift per channel, one node. VJP: see ``_NormAffine`` -- the sums of ``g * x̂`` and ``g`` for
    weight and bias, normalize's projection of ``g * weight`` for the input."""

    name = "batch_norm"


class LayerNorm(_NormAffine, Function):
    """Layer norm: ``normalize`` over the last dims, then a scale and shift per element, one
    node. VJP: see ``_NormAffine`` -- the sums of ``g * x̂`` and ``g`` over the leading dims for
    weight and bias, normalize's projection of ``g * weight`` for the input."""

    name = "layer_norm"


class GroupNorm(_NormAffine, Function):
    """Group norm: ``normalize`` over each group of channels (and the spatial dims) of each
    sample, then a scale and shift per channel, one node. VJP: see ``_NormAffine`` -- the sums
    of ``g * x̂`` and ``g`` for weight and bias, normalize's projection of ``g * weight``, per
    group, for the input."""

    name = "group_norm"


class InstanceNorm(_NormAffine, Function):
    """Instance norm: ``normalize`` over each channel of each sample, then a scale and shift per
    channel, one node. VJP: see ``_NormAffine`` -- the sums of ``g * x̂`` and ``g`` for weight
    and bias, normalize's projection of ``g * weight`` for the input."""

    name = "instance_norm"
