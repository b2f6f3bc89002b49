"""``tinygrad_cnn.special``: PyTorch's ``torch.special`` names for the special functions the
package has (each the same op as its top-level or method form, with its VJP)."""

from __future__ import annotations

import math
from typing import Any

from tinygrad_cnn.tensor import Tensor

__all__ = ["digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p",
           "log_softmax", "logit", "logsumexp", "multigammaln", "ndtr", "polygamma", "psi",
           "round", "sinc", "softmax", "xlogy"]


def _tensor(x: Any, where: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"special.{where}(): argument 'input' must be a Tensor, got "
                        f"{type(x).__name__}")
    return x


def expit(input: Tensor) -> Tensor:
    """The logistic sigmoid ``1 / (1 + exp(-x))``."""
    return _tensor(input, "expit").sigmoid()


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """``log(p / (1 - p))`` elementwise, ``p`` clamped to ``[eps, 1 - eps]`` first when ``eps`` is given."""
    return _tensor(input, "logit").logit(eps)


def erf(input: Tensor) -> Tensor:
    """The error function ``2/√π ∫₀ˣ exp(-t²) dt`` elementwise; VJP ``g 2/√π exp(-x²)``."""
    return _tensor(input, "erf").erf()


def erfc(input: Tensor) -> Tensor:
    """``1 - erf(x)`` elementwise, accurate where ``erf(x)`` is near 1."""
    return _tensor(input, "erfc").erfc()


def erfinv(input: Tensor) -> Tensor:
    """The inverse of ``erf`` on (-1, 1) (±inf at ±1, NaN beyond)."""
    return _tensor(input, "erfinv").erfinv()


def gammaln(input: Tensor) -> Tensor:
    """``log|Γ(x)|`` (``lgamma``)."""
    return _tensor(input, "gammaln").lgamma()


def digamma(input: Tensor) -> Tensor:
    """``ψ(x) = d/dx ln Γ(x)`` elementwise (``psi``)."""
    return _tensor(input, "digamma").digamma()


psi = digamma


def polygamma(n: int, input: Tensor) -> Tensor:
    """The ``n``-th derivative of ``digamma`` elementwise."""
    return _tensor(input, "polygamma").polygamma(n)


def multigammaln(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function (``mvlgamma``)."""
    return _tensor(input, "multigammaln").mvlgamma(p)


def ndtr(input: Tensor) -> Tensor:
    """The standard normal CDF, ``erfc(-x / √2) / 2`` (erfc keeps the left tail)."""
    x = _tensor(input, "ndtr")
    x = x if x.dtype.kind == "f" else x.float()  # (integers and bools: float32, as PyTorch)
    return x.neg().mul(1 / math.sqrt(2.0)).erfc() * 0.5


def exp2(input: Tensor) -> Tensor:
    """``2ˣ`` elementwise; VJP ``g 2ˣ ln 2``."""
    return _tensor(input, "exp2").exp2()


def expm1(input: Tensor) -> Tensor:
    """``eˣ - 1`` elementwise, accurate for small ``x``."""
    return _tensor(input, "expm1").expm1()


def log1p(input: Tensor) -> Tensor:
    """``log(1 + x)`` elementwise, accurate for small ``x``."""
    return _tensor(input, "log1p").log1p()


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Rounded to ``decimals`` decimal places, halves to even (as PyTorch); the gradient is 0."""
    return _tensor(input, "round").round(decimals=decimals)


def sinc(input: Tensor) -> Tensor:
    """``sin(πx) / (πx)`` elementwise, 1 at 0."""
    return _tensor(input, "sinc").sinc()


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log Σ exp(x)`` over ``dim``, stably (the maximum taken out first)."""
    return _tensor(input, "logsumexp").logsumexp(dim, keepdim=keepdim)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """``exp(x) / Σ exp(x)`` along ``dim`` (in ``dtype`` when given)."""
    x = _tensor(input, "softmax")
    return (x if dtype is None else x.to(dtype)).softmax(dim)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim`` (in ``dtype`` when given), stably."""
    x = _tensor(input, "log_softmax")
    return (x if dtype is None else x.to(dtype)).log_softmax(dim)


def xlogy(input: Any, other: Any) -> Tensor:
    """``x log y`` elementwise, 0 where ``x`` is 0 (even where ``y`` is 0 or inf), NaN where ``y`` is NaN."""
    from tinygrad_cnn.functions import xlogy as _xlogy

    return _xlogy(input, other)


def _with_out() -> None:
    """PyTorch's ``out=`` on every function of ``torch.special`` that takes it (all here but
    softmax and log_softmax), as on the top-level functions (``tinygrad_cnn/_out.py``)."""
    from tinygrad_cnn import _out

    for name in __all__:
        if name not in ("softmax", "log_softmax"):
            globals()[name] = _out.with_out(globals()[name], name)


_with_out()



def __getattr__(name: str) -> Any:
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
