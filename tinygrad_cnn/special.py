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
    return _tensor(input, "logit").logit(eps)


def erf(input: Tensor) -> Tensor:
    return _tensor(input, "erf").erf()


def erfc(input: Tensor) -> Tensor:
    return _tensor(input, "erfc").erfc()


def erfinv(input: Tensor) -> Tensor:
    return _tensor(input, "erfinv").erfinv()


def gammaln(input: Tensor) -> Tensor:
    """``log|Γ(x)|`` (``lgamma``)."""
    return _tensor(input, "gammaln").lgamma()


def digamma(input: Tensor) -> Tensor:
    return _tensor(input, "digamma").digamma()


psi = digamma


def polygamma(n: int, input: Tensor) -> Tensor:
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
    return _tensor(input, "exp2").exp2()


def expm1(input: Tensor) -> Tensor:
    return _tensor(input, "expm1").expm1()


def log1p(input: Tensor) -> Tensor:
    return _tensor(input, "log1p").log1p()


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    return _tensor(input, "round").round(decimals=decimals)


def sinc(input: Tensor) -> Tensor:
    return _tensor(input, "sinc").sinc()


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    return _tensor(input, "logsumexp").logsumexp(dim, keepdim=keepdim)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    x = _tensor(input, "softmax")
    return (x if dtype is None else x.to(dtype)).softmax(dim)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    x = _tensor(input, "log_softmax")
    return (x if dtype is None else x.to(dtype)).log_softmax(dim)


def xlogy(input: Any, other: Any) -> Tensor:
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
