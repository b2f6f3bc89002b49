"""The activations of ``nn.functional`` beyond relu/sigmoid/tanh/softmax: ``F.gelu``, ``F.silu``,
``F.elu``, ``F.selu``, ``F.celu``, ``F.softplus``, ``F.logsigmoid``, ``F.mish``, ``F.hardswish``,
``F.hardsigmoid``, ``F.hardtanh``, ``F.relu6``, ``F.prelu`` (each one op of ``ops/activation.py``);
``F.threshold``, ``F.hardshrink``, ``F.softshrink`` (ops of ``ops/threshold.py``); and the ones that
PyTorch itself composes of other ops, composed here the same way, so that values and gradients
are PyTorch's at 0, ±inf and NaN too: ``F.softsign``, ``F.tanhshrink``, ``F.rrelu``, ``F.glu``,
``F.softmin``, ``F.gumbel_softmax``. PyTorch's in-place functions ``F.relu_``, ``F.elu_``,
``F.leaky_relu_``, ``F.hardtanh_``, ``F.threshold_``, ``F.rrelu_``, ``F.celu_``, ``F.selu_`` are the
``inplace=True`` forms.

``inplace=True`` does what PyTorch does: the result is written into the input, which is returned.
It is recorded like any in-place op (``Tensor.relu_``), so gradients flow through it, a later
backward through a graph that saved the old values raises, and a leaf that requires grad is
refused while gradients are recorded.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from tinygrad_cnn._scalars import check_number, check_numbers
from tinygrad_cnn.backend import ArgumentValueError, array_module, like, type_name
from tinygrad_cnn.nn._checks import floating as _floating
from tinygrad_cnn.ops import activation
from tinygrad_cnn.ops import threshold as threshold_ops
from tinygrad_cnn.tensor import DTypeLike, Tensor, _dim, zeros_like


def _inplace_or_new(input: Tensor, inplace: bool, name: str,
                    fn: Callable[[Tensor], Tensor]) -> Tensor:
    """``fn(input)``; with ``inplace``, that result written into ``input`` (``input`` returned) by
    the in-place machinery of ``Tensor._inplace``, which records it for autograd as ``name_``."""
    if not inplace:
        return fn(input)
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: the input must be a Tensor, got {type_name(input)}")
    return input._result_in_place(name + "_", fn)

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946



def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x Φ(x)`` with the normal CDF ``Φ``; ``approximate="tanh"`` uses
    ``x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2``."""
    if approximate not in ("none", "tanh"):
        raise ArgumentValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return activation.GELU.apply(_floating(input, "gelu"), approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x σ(x)`` (also called swish)."""
    return _inplace_or_new(_floating(input, "silu"), inplace, "silu",
                           activation.SiLU.apply)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, ``alpha (exp(x) - 1)`` otherwise."""
    check_number("elu", "alpha", alpha, "0d")
    return _inplace_or_new(_floating(input, "elu"), inplace, "elu", lambda x: activation.ELU.apply(
        x, alpha=float(alpha), scale=1.0, input_scale=1.0))


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants ``alpha ≈ 1.6733``,
    ``scale ≈ 1.0507``."""
    return _inplace_or_new(_floating(input, "selu"), inplace, "selu", lambda x: activation.ELU.apply(
        x, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, ``alpha (exp(x / alpha) - 1)`` otherwise."""
    check_number("celu", "alpha", alpha, "0d")
    if alpha == 0:
        raise ArgumentValueError("celu: alpha must not be 0 (it divides the input)")
    return _inplace_or_new(_floating(input, "celu"), inplace, "celu", lambda x: activation.ELU.apply(
        x, alpha=float(alpha), scale=1.0, input_scale=1.0 / alpha))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold`` (for stability)."""
    check_numbers("softplus", "0d", beta=beta, threshold=threshold)
    if beta == 0:
        raise ArgumentValueError("softplus: beta must not be 0 (it divides the result)")
    return activation.Softplus.apply(_floating(input, "softplus"), beta=float(beta),
                                     threshold=float(threshold))


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x))``, computed stably (``min(x, 0) - log1p(exp(-|x|))``)."""
    return activation.LogSigmoid.apply(_floating(input, "logsigmoid"))


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x tanh(softplus(x))``."""
    return _inplace_or_new(_floating(input, "mish"), inplace, "mish",
                           activation.Mish.apply)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x relu6(x + 3) / 6``."""
    return _inplace_or_new(_floating(input, "hardswish"), inplace, "hardswish",
                           activation.Hardswish.apply)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``relu6(x + 3) / 6``."""
    return _inplace_or_new(_floating(input, "hardsigmoid"), inplace, "hardsigmoid",
                           activation.Hardsigmoid.apply)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """``clamp(x, min_val, max_val)``; the gradient is 0 at the ends (PyTorch's rule). An
    integer tensor is clamped in its dtype to the bounds cut to integers (toward 0), as PyTorch's
    ``hardtanh`` does; bool is refused."""
    check_numbers("hardtanh", "0d", min_val=min_val, max_val=max_val)
    if min_val > max_val:
        raise ArgumentValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    if isinstance(input, Tensor) and input.dtype.kind in "biu":
        return _integer_hardtanh(input, min_val, max_val, inplace, "hardtanh")
    return _inplace_or_new(_floating(input, "hardtanh"), inplace, "hardtanh",
                           lambda x: activation.Hardtanh.apply(x, min_val=float(min_val),
                                                               max_val=float(max_val)))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``: ``hardtanh(x, 0, 6)`` (integer tensors too)."""
    if isinstance(input, Tensor) and input.dtype.kind in "biu":
        return _integer_hardtanh(input, 0.0, 6.0, inplace, "relu6")
    return _inplace_or_new(_floating(input, "relu6"), inplace, "relu6",
                           lambda x: activation.Hardtanh.apply(x, min_val=0.0, max_val=6.0))


def _integer_hardtanh(input: Tensor, min_val: float, max_val: float, inplace: bool,
                      op: str) -> Tensor:
    """PyTorch's ``hardtanh`` of an integer tensor: ``clamp`` with the bounds cut to integers
    (toward 0: ``(-0.5, 2.5)`` is ``(0, 2)``), in the tensor's dtype; no negative bound for uint8,
    and a bound past the dtype's range is refused, as there. Integers have no gradient."""
    if input.dtype == np.bool_:
        raise RuntimeError(f"{op}: Bool inputs not supported for hardtanh (as in PyTorch); "
                           "convert first, e.g. x.float()")
    lo, hi = int(min_val), int(max_val)
    if input.dtype == np.uint8 and (lo < 0 or hi < 0):
        raise RuntimeError(f"{op}: cannot do hardtanh on an unsigned type with negative limits "
                           f"(got min_val={min_val}, max_val={max_val} for uint8); give limits "
                           ">= 0, or convert first, e.g. x.long()")
    info = np.iinfo(input.dtype)
    for what, bound in (("min_val", lo), ("max_val", hi)):
        if not info.min <= bound <= info.max:
            raise RuntimeError(f"{op}: {what}={bound} cannot be converted to {input.dtype} "
                               f"without overflow (its range: {info.min} to {info.max})")
    return input.clamp_(lo, hi) if inplace else input.clamp(lo, hi)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` for ``x > 0``, ``weight * x`` otherwise; ``weight`` holds one slope, or one per
    channel (dim 1 of the input)."""
    op = "prelu"
    x = _floating(input, op)
    if not isinstance(weight, Tensor) or weight.ndim > 1:
        raise ArgumentValueError(f"prelu: weight must be a 1-D tensor (one slope, or one per channel), "
                                 f"got {getattr(weight, 'shape', type(weight).__name__)}")
    n = weight.numel()
    channels = x.shape[1] if x.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise ArgumentValueError(f"prelu: weight has {n} slopes but the input {x.shape} has {channels} "
                                 "channels (dim 1); give one slope or one per channel")
    if weight.dtype != x.dtype:
        raise TypeError(f"prelu: input and weight must have one dtype, got {x.dtype} and "
                        f"{weight.dtype}")
    return activation.PReLU.apply(x, weight)


# ------------------------------------------------------------------------------ thresholds
def _fits(number: float, x: Tensor, op: str, what: str) -> None:
    """PyTorch's check of a number that is converted to the input's floating dtype: a finite one
    past its range is an error (inf is allowed)."""
    if x.dtype.kind == "f" and math.isfinite(number) and abs(number) > float(np.finfo(x.dtype).max):
        raise RuntimeError(f"{op}: {what}={number} cannot be converted to {x.dtype} without "
                           f"overflow (largest: {float(np.finfo(x.dtype).max):g})")


def _threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """``value`` where ``x <= threshold``, ``x`` elsewhere (integer tensors too); the gradient is
    0 where the value was replaced, ``g`` elsewhere (NaN included). (Defined as ``_threshold``, as
    in PyTorch, because its argument ``threshold`` hides the function's name.)"""
    op = "threshold"
    check_numbers(op, "0d", threshold=threshold, value=value)
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: the input must be a Tensor, got {type_name(input)}")
    if input.dtype == np.bool_:
        raise TypeError(f"{op}: bool tensors are not supported (as in PyTorch); convert first, "
                        "e.g. x.float()")
    _fits(value, input, op, "value")
    return _inplace_or_new(input, inplace, op, lambda x: threshold_ops.Threshold.apply(
        x, threshold=float(threshold), value=value))


threshold = _threshold


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, 0 elsewhere; the gradient is 0 at ``±lambd`` (and at NaN, as
    PyTorch's vectorised kernel)."""
    check_number("hardshrink", "lambd", lambd, "0d")
    x = _floating(input, "hardshrink")
    _fits(lambd, x, "hardshrink", "lambd")
    return threshold_ops.Hardshrink.apply(x, lambd=float(lambd))


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 in between; ``lambd``
    must lie in ``[0, finfo(dtype).max]``."""
    check_number("softshrink", "lambd", lambd, "0d")
    x = _floating(input, "softshrink")
    top = float(np.finfo(x.dtype).max)
    if not 0 <= lambd <= top:
        raise RuntimeError(f"softshrink: lambd must be in [0, {top:g}] for input dtype {x.dtype}, "
                           f"got {lambd} (it is the half-width of the band set to 0)")
    return threshold_ops.Softshrink.apply(x, lambd=float(lambd))


# ------------------------------------------------------------------------------ compositions
def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``, composed as PyTorch composes it (NaN at ±inf, as PyTorch)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"softsign: the input must be a Tensor, got {type_name(input)}")
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"tanhshrink: the input must be a Tensor, got {type_name(input)}")
    return input - input.tanh()


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: ``x`` for ``x > 0``, ``a x`` otherwise. While training, ``a`` is
    drawn for each element uniformly from ``[lower, upper)`` by tinygrad_cnn's generator
    (``manual_seed``); in eval, ``a = (lower + upper) / 2`` (``leaky_relu``). The gradient is the
    slope used (1 for positive and NaN inputs, as PyTorch's kernel)."""
    op = "rrelu"
    check_numbers(op, "0d", lower=lower, upper=upper)
    x = _floating(input, op)
    if lower > upper:
        raise RuntimeError(f"{op}: lower ({lower}) must not exceed upper ({upper}): the slopes are "
                           "drawn from [lower, upper)")
    if not training or upper - lower <= 1e-6:  # (PyTorch's kernel: then the mean slope)
        slope = (lower + upper) / 2
        return _inplace_or_new(x, inplace, op, lambda t: activation.LeakyReLU.apply(
            t, negative_slope=float(slope)))

    def draw(t: Tensor) -> Tensor:
        from tinygrad_cnn.random import generator

        slopes = like(generator().uniform(lower, upper, t.shape).astype(t.dtype), t._data)
        # NaN <= 0 is False: a NaN input keeps slope 1, as PyTorch's kernel
        noise = array_module(t._data).where(t._data <= 0, slopes, t.dtype.type(1))
        return t * Tensor._make(noise)

    return _inplace_or_new(x, inplace, op, draw)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: ``a * sigmoid(b)`` for the two halves ``a``, ``b`` of the input
    along ``dim`` (whose size must be even)."""
    op = "glu"
    x = _floating(input, op)
    if x.ndim == 0:
        raise RuntimeError(f"{op} does not support scalars because halving size must be even "
                           "(give a tensor with an even-sized dim)")
    d = _dim(dim, x.ndim, op)
    n = x.shape[d]
    if n % 2:
        raise RuntimeError(f"{op}: halving dimension must be even, but dimension {d} of the input "
                           f"{x.shape} is size {n}; pick an even-sized dim with dim=")
    a, b = x.narrow(d, 0, n // 2), x.narrow(d, n // 2, n // 2)
    return a * b.sigmoid()


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,
            dtype: DTypeLike = None) -> Tensor:
    """``softmax(-x)`` along ``dim`` (None: PyTorch's implicit choice, with its warning)."""
    from tinygrad_cnn.nn.functional import _softmax_dim

    if not isinstance(input, Tensor):
        raise TypeError(f"softmin: the input must be a Tensor, got {type_name(input)}")
    return (-input).softmax(_softmax_dim(input, dim, "softmin", _stacklevel), dtype)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax distribution: ``softmax((logits + G) / tau)`` along ``dim``
    with Gumbel(0, 1) noise ``G = -log(E)``, ``E`` exponential draws of tinygrad_cnn's generator.
    ``hard``: the one-hot of each sample's largest entry in the forward pass, differentiated as the
    soft sample (the straight-through trick ``y_hard - y_soft.detach() + y_soft``). ``eps`` is
    PyTorch's deprecated no-op."""
    from tinygrad_cnn.random import generator

    x = _floating(logits, "gumbel_softmax", "the logits")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    draws = generator().standard_exponential(x.shape).astype(x.dtype)
    gumbels = -Tensor._make(like(draws, x._data)).log()  # ~Gumbel(0, 1)
    y_soft = ((x + gumbels) / tau).softmax(dim)
    if not hard:
        return y_soft  # the reparameterisation trick
    index = y_soft.max(dim, keepdim=True).indices
    y_hard = zeros_like(x).scatter(dim, index, value=1.0)
    return y_hard - y_soft.detach() + y_soft


# ------------------------------------------------------------------------------ in-place forms
def relu_(input: Tensor) -> Tensor:
    """In-place ``relu``: the result is written into ``input``, which is returned."""
    return input.relu_()


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu``."""
    return elu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu``."""
    from tinygrad_cnn.nn.functional import leaky_relu

    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``."""
    return hardtanh(input, min_val, max_val, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``."""
    return _threshold(input, threshold, value, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3,
           training: bool = False) -> Tensor:
    """In-place ``rrelu``."""
    return rrelu(input, lower, upper, training, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``."""
    return celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``."""
    return selu(input, inplace=True)
