"""The activations of ``nn.functional`` beyond relu/sigmoid/tanh/softmax: ``F.gelu``, ``F.silu``,
``F.elu``, ``F.selu``, ``F.celu``, ``F.softplus``, ``F.logsigmoid``, ``F.mish``, ``F.hardswish``,
``F.hardsigmoid``, ``F.hardtanh``, ``F.relu6``, ``F.prelu``. Each is one op of ``ops/activation.py``.

``inplace=True`` does what PyTorch does: the result is written into the input, which is returned.
It is recorded like any in-place op (``Tensor.relu_``), so gradients flow through it, a later
backward through a graph that saved the old values raises, and a leaf that requires grad is
refused while gradients are recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from tinygrad_cnn.nn._checks import floating as _floating
from tinygrad_cnn.ops import activation
from tinygrad_cnn.tensor import Tensor


def _inplace_or_new(input: Tensor, inplace: bool, name: str,
                    fn: Callable[[Tensor], Tensor]) -> Tensor:
    """``fn(input)``; with ``inplace``, that result written into ``input`` (``input`` returned) by
    the in-place machinery of ``Tensor._inplace``, which records it for autograd as ``name_``."""
    if not inplace:
        return fn(input)
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: the input must be a Tensor, got {type(input).__name__}")
    return input._result_in_place(name + "_", fn)

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946



def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x Φ(x)`` with the normal CDF ``Φ``; ``approximate="tanh"`` uses
    ``x (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2``."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return activation.GELU.apply(_floating(input, "gelu"), approximate=approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x σ(x)`` (also called swish)."""
    return _inplace_or_new(_floating(input, "silu"), inplace, "silu",
                           activation.SiLU.apply)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, ``alpha (exp(x) - 1)`` otherwise."""
    return _inplace_or_new(_floating(input, "elu"), inplace, "elu", lambda x: activation.ELU.apply(
        x, alpha=float(alpha), scale=1.0, input_scale=1.0))


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with the self-normalising constants ``alpha ≈ 1.6733``,
    ``scale ≈ 1.0507``."""
    return _inplace_or_new(_floating(input, "selu"), inplace, "selu", lambda x: activation.ELU.apply(
        x, alpha=SELU_ALPHA, scale=SELU_SCALE, input_scale=1.0))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, ``alpha (exp(x / alpha) - 1)`` otherwise."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides the input)")
    return _inplace_or_new(_floating(input, "celu"), inplace, "celu", lambda x: activation.ELU.apply(
        x, alpha=float(alpha), scale=1.0, input_scale=1.0 / alpha))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``, and ``x`` where ``beta x > threshold`` (for stability)."""
    if beta == 0:
        raise ValueError("softplus: beta must not be 0 (it divides the result)")
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
    """``clamp(x, min_val, max_val)``; the gradient is 0 at the ends (PyTorch's rule)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return _inplace_or_new(_floating(input, "hardtanh"), inplace, "hardtanh",
                           lambda x: activation.Hardtanh.apply(x, min_val=float(min_val),
                                                               max_val=float(max_val)))


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``: ``hardtanh(x, 0, 6)``."""
    return _inplace_or_new(_floating(input, "relu6"), inplace, "relu6",
                           lambda x: activation.Hardtanh.apply(x, min_val=0.0, max_val=6.0))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` for ``x > 0``, ``weight * x`` otherwise; ``weight`` holds one slope, or one per
    channel (dim 1 of the input)."""
    op = "prelu"
    x = _floating(input, op)
    if not isinstance(weight, Tensor) or weight.ndim > 1:
        raise ValueError(f"prelu: weight must be a 1-D tensor (one slope, or one per channel), "
                         f"got {getattr(weight, 'shape', type(weight).__name__)}")
    n = weight.numel()
    channels = x.shape[1] if x.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise ValueError(f"prelu: weight has {n} slopes but the input {x.shape} has {channels} "
                         "channels (dim 1); give one slope or one per channel")
    if weight.dtype != x.dtype:
        raise TypeError(f"prelu: input and weight must have one dtype, got {x.dtype} and "
                        f"{weight.dtype}")
    return activation.PReLU.apply(x, weight)
