"""PyTorch's top-level functions: ``tinygrad_cnn.sin(x)`` is ``x.sin()``, ``tinygrad_cnn.sum(x, 1)``
is ``x.sum(1)``, ``tinygrad_cnn.einsum("ij,jk", a, b)`` is ``torch.einsum``'s. Each is one line;
the ops and their VJPs are in ``ops/`` (``unary.py``, ``elementwise.py``, ``reduce.py``,
``activation.py``, ``linalg.py``, ...). A first argument that is not a Tensor is PyTorch's
TypeError, not an AttributeError from inside (nor, for a numpy array, numpy's own method).

(They live here, not in ``tensor.py``, because a module-level ``round``, ``sum``, ``max``, ``min``,
``abs``, ``pow`` or ``all`` there would hide Python's.)
"""

from __future__ import annotations

import builtins
import collections
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from tinygrad_cnn import _out
from tinygrad_cnn.autograd import _generator_in_mode, _GradModeSwitch, _state
from tinygrad_cnn.backend import ArgumentValueError, array_module
from tinygrad_cnn.backend import broadcast_shapes as _bshapes
from tinygrad_cnn.ops.correlation import corrcoef, cov
from tinygrad_cnn.ops.cumulative import logcumsumexp
from tinygrad_cnn.ops.distance import cdist
from tinygrad_cnn.ops.histogram import bincount, histc
from tinygrad_cnn.ops.indexing import (
    bucketize,
    diagonal_scatter,
    isin,
    masked_scatter,
    masked_select,
    put,
    scatter_reduce,
    searchsorted,
    select_scatter,
    slice_scatter,
    take,
)
from tinygrad_cnn.ops.linalg import (
    addbmm,
    addmm,
    addmv,
    baddbmm,
    bmm,
    cross,
    dot,
    einsum,
    inner,
    kron,
    mv,
    outer,
    tensordot,
)
from tinygrad_cnn.ops.quantile import nanquantile, quantile
from tinygrad_cnn.ops.statistics import (
    aminmax,
    count_nonzero,
    cummax,
    cummin,
    median,
    mode,
    nanmean,
    nanmedian,
    nansum,
    std_mean,
    unique,
    unique_consecutive,
    var_mean,
)
from tinygrad_cnn.tensor import (
    DTypeLike,
    Number,
    Tensor,
    _check_factor,
    _dim_names,
    _factor,
    _factory_keywords,
    _to_tensor,
    result_type,
    tensor,
)


# ------------------------------------------------------------------------------ everyday ops
def exp(input: Tensor) -> Tensor:
    """``eˣ`` elementwise; VJP ``g eˣ`` (from the saved output). Integers become float32."""
    return input.exp()


def log(input: Tensor) -> Tensor:
    """Natural logarithm elementwise (-inf at 0, NaN below); VJP ``g / x``. Integers become float32."""
    return input.log()


def sqrt(input: Tensor) -> Tensor:
    """``sqrt(x)`` elementwise (NaN below 0); VJP ``g / (2 sqrt(x))``. Integers become float32."""
    return input.sqrt()


def abs(input: Tensor) -> Tensor:
    """``|x|`` elementwise; the gradient at 0 is 0 (PyTorch's choice). Not for bool tensors."""
    return input.abs()


absolute = abs


def neg(input: Tensor) -> Tensor:
    """``-x`` elementwise; VJP ``-g``. Not for bool tensors (PyTorch's rule)."""
    return input.neg()


negative = neg


def sign(input: Tensor) -> Tensor:
    return input.sign()


sgn = sign


def angle(input: Tensor) -> Tensor:
    return input.angle()


def tanh(input: Tensor) -> Tensor:
    """``tanh x`` elementwise; VJP ``g (1 - tanh² x)`` (from the saved output)."""
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))`` elementwise, accurate on both tails; VJP ``g s (1 - s)``."""
    return input.sigmoid()


def relu(input: Tensor) -> Tensor:
    """``max(x, 0)`` elementwise; the gradient at 0 is 0 (PyTorch's choice)."""
    return input.relu()


def softmax(input: Tensor, dim: int, dtype: DTypeLike = None) -> Tensor:
    return input.softmax(dim, dtype)


def log_softmax(input: Tensor, dim: int, dtype: DTypeLike = None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``, stably; VJP ``g - softmax(x) Σ g`` along ``dim``."""
    return input.log_softmax(dim, dtype)


def clamp(input: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    return input.clamp(min, max)


clip = clamp


def clamp_min(input: Tensor, min: Any) -> Tensor:
    """``clamp(min=min)``: values below ``min`` set to it; the gradient is 0 there."""
    return input.clamp_min(min)


def clamp_max(input: Tensor, max: Any) -> Tensor:
    """``clamp(max=max)``: values above ``max`` set to it; the gradient is 0 there."""
    return input.clamp_max(max)


# add, sub, mul and div take a number first, as PyTorch's do (``torch.add(2, x)``)
def add(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:
    """``input + alpha * other``."""
    return _number_first(input, other, "add").add(other, alpha=alpha)


def sub(input: Any, other: Any, *, alpha: Number = 1) -> Tensor:
    """``input - alpha * other``."""
    return _number_first(input, other, "sub").sub(other, alpha=alpha)


subtract = sub


def mul(input: Any, other: Any) -> Tensor:
    """``input * other`` (broadcast, dtypes promoted as in PyTorch); VJP ``g * other`` and ``g * input``."""
    return _number_first(input, other, "mul").mul(other)


multiply = mul


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``input / other``, rounded with ``rounding_mode="trunc"`` or ``"floor"``."""
    if rounding_mode is None and isinstance(other, Tensor) and not isinstance(input, Tensor) \
            and isinstance(input, (bool, int, float, np.bool_, np.number)):
        # a true division is floating: the number joins it as a floating 0-d operand (PyTorch's
        # wrapped number), not wrapped into an integer tensor's dtype first (div(-3, uint8) is
        # -1.5, not 253 / 2)
        number = input.item() if isinstance(input, np.generic) else input
        dt = result_type(other, number)
        if dt.kind != "f":
            dt = np.dtype(np.float32)
        return _to_tensor(number, other, dt).div(other)
    return _number_first(input, other, "div").div(other, rounding_mode=rounding_mode)


divide = true_divide = div


def pow(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent`` (``input`` may be a number, as in PyTorch)."""
    if isinstance(input, Tensor):
        return input.pow(exponent)
    if isinstance(exponent, Tensor):
        return exponent.__rpow__(input)
    raise TypeError(f"pow(): one of input and exponent must be a Tensor, got "
                    f"{type(input).__name__} and {type(exponent).__name__}")


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """The larger of ``input`` and ``other`` elementwise (NaN if either is; dtypes promoted). The gradient
    of a tie is shared equally."""
    return input.maximum(other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """The smaller of ``input`` and ``other`` elementwise (NaN if either is; dtypes promoted). The gradient
    of a tie is shared equally."""
    return input.minimum(other)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    return input.matmul(other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """``input @ mat2`` for two matrices (``matmul`` broadcasts and takes vectors)."""
    if input.ndim != 2 or getattr(mat2, "ndim", None) != 2:
        raise ArgumentValueError(f"mm: needs two 2-d tensors, got shapes {input.shape} and "
                                 f"{getattr(mat2, 'shape', type(mat2).__name__)} (use matmul for others)")
    return input.matmul(mat2)


def eq(input: Tensor, other: Any) -> Tensor:
    """A bool tensor: ``input == other`` elementwise (broadcast; NaN equals nothing)."""
    return input.eq(other)


def ne(input: Tensor, other: Any) -> Tensor:
    """A bool tensor: ``input != other`` elementwise (broadcast; NaN differs from everything)."""
    return input.ne(other)


def lt(input: Tensor, other: Any) -> Tensor:
    """A bool tensor: ``input < other`` elementwise (broadcast)."""
    return input.lt(other)


def le(input: Tensor, other: Any) -> Tensor:
    """A bool tensor: ``input <= other`` elementwise (broadcast)."""
    return input.le(other)


def gt(input: Tensor, other: Any) -> Tensor:
    """A bool tensor: ``input > other`` elementwise (broadcast)."""
    return input.gt(other)


def ge(input: Tensor, other: Any) -> Tensor:
    """A bool tensor: ``input >= other`` elementwise (broadcast)."""
    return input.ge(other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne  # PyTorch's aliases


def sum(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
        dtype: DTypeLike = None) -> Tensor:
    return input.sum(dim, keepdim, dtype=dtype)


def mean(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: DTypeLike = None) -> Tensor:
    return input.mean(dim, keepdim, dtype=dtype)


def max(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Tensor | None = None
        ) -> Any:
    return input.max(dim, keepdim, other=other)


def min(input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Tensor | None = None
        ) -> Any:
    return input.min(dim, keepdim, other=other)


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the smallest value (the first on ties; NaN counts as smallest) over all elements or
    along ``dim``."""
    return input.argmin(dim, keepdim)


def any(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    return input.any(dim, keepdim)


def all(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    return input.all(dim, keepdim)


def logsumexp(input: Tensor, dim: int | Sequence[int], keepdim: bool = False) -> Tensor:
    return input.logsumexp(dim, keepdim)


def gather(input: Tensor, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
    return input.gather(dim, index, sparse_grad=sparse_grad)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
    """``(values, indices)`` sorted along ``dim`` (ascending unless ``descending``; NaN last ascending,
    first descending, as PyTorch's; ``stable`` keeps ties in order). The values' VJP scatters ``g`` back
    by the indices."""
    return input.sort(dim, descending, stable=stable)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *,
            stable: bool = False) -> Tensor:
    """The indices that sort along ``dim`` (``sort``'s second result)."""
    return input.argsort(dim, descending, stable=stable)


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
    """``(values, indices)`` of the ``k`` largest (or smallest) along ``dim``, sorted unless
    ``sorted=False``; the values' VJP scatters ``g`` back."""
    return input.topk(k, dim, largest, sorted)


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    return input.reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim`` to ``end_dim`` merged into one (a view where numpy can make one)."""
    return input.flatten(start_dim, end_dim)


def squeeze(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    return input.squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A new dim of size 1 at ``dim`` (a view); VJP: ``g`` reshaped back."""
    return input.unsqueeze(dim)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    return input.permute(dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Dims ``dim0`` and ``dim1`` swapped (a view); VJP: ``g`` swapped back."""
    return input.transpose(dim0, dim1)


def t(input: Tensor) -> Tensor:
    return input.t()


def clone(input: Tensor) -> Tensor:
    return input.clone()


def detach(input: Tensor) -> Tensor:
    return input.detach()


def numel(input: Tensor) -> int:
    return input.numel()


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a Tensor of this package."""
    return isinstance(obj, Tensor)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether ``|input - other| <= atol + rtol * |other|`` everywhere (broadcast), as PyTorch."""
    if not isinstance(other, Tensor):
        raise TypeError(f"allclose(): argument 'other' must be a Tensor, not "
                        f"{type(other).__name__}")
    a, b = input._data, other._data
    try:
        with np.errstate(all="ignore"):  # (numpy's allclose warns from numpy's own module: t152)
            return bool(array_module(a).allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))
    except ValueError:
        raise ArgumentValueError(f"allclose: shapes {input.shape} and {other.shape} cannot be broadcast "
                                 "together") from None


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether both have the same shape and the same values (NaN equals nothing)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"equal(): argument 'other' must be a Tensor, not {type(other).__name__}")
    return input.shape == other.shape and bool((input == other)._data.all())


# ------------------------------------------------------------------------------ one tensor
def sin(input: Tensor) -> Tensor:
    """``sin x`` elementwise; VJP ``g cos x``. Integers become float32."""
    return input.sin()


def cos(input: Tensor) -> Tensor:
    """``cos x`` elementwise; VJP ``-g sin x``. Integers become float32."""
    return input.cos()


def tan(input: Tensor) -> Tensor:
    """``tan x`` elementwise; VJP ``g (1 + tan² x)``. Integers become float32."""
    return input.tan()


def asin(input: Tensor) -> Tensor:
    """``arcsin x`` elementwise (NaN outside [-1, 1]); VJP ``g / sqrt(1 - x²)``. Integers become float32."""
    return input.asin()


def acos(input: Tensor) -> Tensor:
    """``arccos x`` elementwise (NaN outside [-1, 1]); VJP ``-g / sqrt(1 - x²)``. Integers become float32."""
    return input.acos()


def atan(input: Tensor) -> Tensor:
    """``arctan x`` elementwise; VJP ``g / (1 + x²)``. Integers become float32."""
    return input.atan()


def sinh(input: Tensor) -> Tensor:
    """``sinh x`` elementwise; VJP ``g cosh x``. Integers become float32."""
    return input.sinh()


def cosh(input: Tensor) -> Tensor:
    """``cosh x`` elementwise; VJP ``g sinh x``. Integers become float32."""
    return input.cosh()


def asinh(input: Tensor) -> Tensor:
    """``arsinh x`` elementwise; VJP ``g / sqrt(x² + 1)``. Integers become float32."""
    return input.asinh()


def acosh(input: Tensor) -> Tensor:
    """``arcosh x`` elementwise (NaN below 1); VJP ``g / sqrt(x² - 1)``. Integers become float32."""
    return input.acosh()


def atanh(input: Tensor) -> Tensor:
    """``artanh x`` elementwise (±inf at ±1, NaN beyond); VJP ``g / (1 - x²)``. Integers become float32."""
    return input.atanh()


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def log1p(input: Tensor) -> Tensor:
    """``log(1 + x)`` elementwise, accurate for small ``x``; VJP ``g / (1 + x)``."""
    return input.log1p()


def expm1(input: Tensor) -> Tensor:
    """``eˣ - 1`` elementwise, accurate for small ``x``; VJP ``g eˣ``. Integers become float32."""
    return input.expm1()


def log2(input: Tensor) -> Tensor:
    """``log₂ x`` elementwise; VJP ``g / (x ln 2)``. Integers become float32."""
    return input.log2()


def log10(input: Tensor) -> Tensor:
    """``log₁₀ x`` elementwise; VJP ``g / (x ln 10)``. Integers become float32."""
    return input.log10()


def exp2(input: Tensor) -> Tensor:
    """``2ˣ`` elementwise; VJP ``g 2ˣ ln 2``. Integers become float32."""
    return input.exp2()


def square(input: Tensor) -> Tensor:
    return input.square()


def reciprocal(input: Tensor) -> Tensor:
    """``1 / x`` elementwise; VJP ``-g / x²``. Integers become float32."""
    return input.reciprocal()


def rsqrt(input: Tensor) -> Tensor:
    """``1 / sqrt(x)`` elementwise; VJP ``-g / (2 x^(3/2))``. Integers become float32."""
    return input.rsqrt()


def erf(input: Tensor) -> Tensor:
    """The error function ``2/√π ∫₀ˣ exp(-t²) dt`` elementwise; VJP ``g 2/√π exp(-x²)``."""
    return input.erf()


def erfc(input: Tensor) -> Tensor:
    return input.erfc()


def erfinv(input: Tensor) -> Tensor:
    return input.erfinv()


def isposinf(input: Tensor) -> Tensor:
    return input.isposinf()


def isneginf(input: Tensor) -> Tensor:
    return input.isneginf()


def logaddexp2(input: Tensor, other: Any) -> Tensor:
    return input.logaddexp2(other)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    return input.diagflat(offset)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    return input.vdot(other)


def ger(input: Tensor, vec2: Tensor) -> Tensor:
    return input.ger(vec2)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    return input.addr(vec1, vec2, beta=beta, alpha=alpha)


def ldexp(input: Tensor, other: Any) -> Tensor:
    return input.ldexp(other)


def nextafter(input: Tensor, other: Any) -> Tensor:
    return input.nextafter(other)


def frexp(input: Tensor) -> Any:
    return input.frexp()


def adjoint(input: Tensor) -> Tensor:
    return input.adjoint()


def mvlgamma(input: Tensor, p: int) -> Tensor:
    return input.mvlgamma(p)


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """``other - alpha * input`` (PyTorch's reversed subtraction)."""
    alpha = _factor("rsub", "alpha", alpha)
    _check_factor("rsub", "alpha", alpha, result_type(input, other))
    return other - (input if alpha == 1 else input * alpha)


def trapz(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """PyTorch's older name of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def unravel_index(indices: Any, shape: Any) -> tuple[Tensor, ...]:
    """The coordinates (int64 tensors, one per dim of ``shape``) of flat ``indices``."""
    flat = np.asarray(indices._data if isinstance(indices, Tensor) else indices)
    if flat.dtype.kind not in "iu":
        raise TypeError(f"unravel_index: expected 'indices' to be an integer tensor, got "
                        f"{flat.dtype}")
    dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    if dims and np.min(dims) < 0:  # (min and any here are the tensor functions)
        raise ArgumentValueError(f"unravel_index: 'shape' cannot have negative values, got {dims}")
    total = int(np.prod(dims, dtype=object)) if dims else 1
    if flat.size and (flat.min() < -total or flat.max() >= total):
        raise RuntimeError(f"unravel_index: index out of bounds for shape {dims} "
                           f"(indices from {-total} to {total - 1})")
    coords = np.unravel_index(np.where(flat < 0, flat + total, flat), dims) if dims else ()
    return tuple(Tensor(np.asarray(c, dtype=np.int64)) for c in coords)


def broadcast_shapes(*shapes: Any) -> Any:
    """The shape that tensors of ``shapes`` broadcast to (a :class:`Size`)."""
    from tinygrad_cnn.tensor import Size

    plain = []
    for s in shapes:
        dims = (s,) if isinstance(s, (int, np.integer)) else tuple(s)
        if not builtins.all(isinstance(d, (int, np.integer)) for d in dims):  # (True is 1)
            raise TypeError(f"broadcast_shapes: a shape is a sequence of ints, got {s!r}")
        if builtins.any(d < 0 for d in dims):
            raise ArgumentValueError(f"broadcast_shapes: shape {tuple(int(d) for d in dims)} has a "
                                     "negative length")
        plain.append(tuple(int(d) for d in dims))
    try:
        return Size(_bshapes(*plain))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {plain} cannot be broadcast together (each "
                           "dim must match or be 1)") from None


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
                  layout: Any = None, pin_memory: bool = False) -> Tensor:
    """A 0-d tensor of the number ``s`` (float32 unless ``dtype`` says otherwise)."""
    _factory_keywords("scalar_tensor", layout, pin_memory)
    if isinstance(s, (list, tuple)) or (isinstance(s, Tensor) and s.numel() != 1) or \
            isinstance(s, (str, bytes, np.ndarray)):
        raise TypeError(f"scalar_tensor(): argument 's' (position 1) must be Number, not "
                        f"{type(s).__name__}")
    if isinstance(s, Tensor):
        s = s.item()
    return tensor(s, dtype=dtype or np.float32, device=device, requires_grad=requires_grad)


def lgamma(input: Tensor) -> Tensor:
    return input.lgamma()


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """``input.renorm(p, dim, maxnorm)``: each slice along ``dim`` whose ``p``-norm exceeds
    ``maxnorm`` scaled down to it."""
    return input.renorm(p, dim, maxnorm)


_SVDResult = collections.namedtuple("svd", ["U", "S", "V"])


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """PyTorch's older ``torch.svd``: ``(U, S, V)`` with ``input = U diag(S) Vᵀ`` -- ``V``, not
    ``linalg.svd``'s ``Vh``; ``some=True``: the reduced SVD. ``compute_uv=False``: ``S`` and
    zero-filled ``U (m, m)`` and ``V (n, n)``, as PyTorch's."""
    from tinygrad_cnn import linalg

    if not isinstance(input, Tensor):
        raise TypeError(f"svd(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if not compute_uv:
        s = linalg.svdvals(input)
        m, n = input.shape[-2:]
        batch = input.shape[:-2]
        return _SVDResult(input.new_zeros((*batch, m, m)), s, input.new_zeros((*batch, n, n)))
    if some:
        u, s, vh = linalg.svd(input, full_matrices=False)
    else:  # (the extra singular vectors' gradients are ignored, as PyTorch's torch.svd does)
        from tinygrad_cnn.ops.linalg import Svd, _float

        _float("svd", input)
        u, s, vh = Svd.apply(input, full_matrices=True, drop_extra=True)
    return _SVDResult(u, s, vh.transpose(-2, -1))


def digamma(input: Tensor) -> Tensor:
    return input.digamma()


def polygamma(n: int, input: Tensor) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"polygamma(): argument 'input' must be a Tensor, got "
                        f"{type(input).__name__} (the order is polygamma(n, input))")
    return input.polygamma(n)


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    return input.logit(eps)


def deg2rad(input: Tensor) -> Tensor:
    return input.deg2rad()


def rad2deg(input: Tensor) -> Tensor:
    return input.rad2deg()


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    return input.heaviside(values)


def inverse(input: Tensor) -> Tensor:
    return input.inverse()


def det(input: Tensor) -> Tensor:
    return input.det()


def floor(input: Tensor) -> Tensor:
    return input.floor()


def ceil(input: Tensor) -> Tensor:
    """The smallest integer ``>= x`` elementwise (integers unchanged); the gradient is 0."""
    return input.ceil()


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    return input.round(decimals)


def trunc(input: Tensor) -> Tensor:
    """``x`` rounded toward zero elementwise (``fix``; integers unchanged); the gradient is 0."""
    return input.trunc()


fix = trunc


def frac(input: Tensor) -> Tensor:
    return input.frac()


def isnan(input: Tensor) -> Tensor:
    return input.isnan()


def isinf(input: Tensor) -> Tensor:
    """A bool tensor: True where ``x`` is +inf or -inf."""
    return input.isinf()


def isfinite(input: Tensor) -> Tensor:
    """A bool tensor: True where ``x`` is neither ±inf nor NaN (integers: everywhere)."""
    return input.isfinite()


def logical_not(input: Tensor) -> Tensor:
    return input.logical_not()


def index_put_(input: Tensor, indices: Sequence[Any], values: Tensor,
               accumulate: bool = False) -> Tensor:
    return input.index_put_(indices, values, accumulate)


def is_signed(input: Tensor) -> bool:
    return input.is_signed()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


# ------------------------------------------------------------------------------ two or three tensors
def remainder(input: Any, other: Any) -> Tensor:
    """Python's ``%`` (``input`` may be a number, as in PyTorch)."""
    return input.remainder(other) if isinstance(input, Tensor) else other.__rmod__(input)


def fmod(input: Tensor, other: Any) -> Tensor:
    return input.fmod(other)


def floor_divide(input: Any, other: Any) -> Tensor:
    return input.floor_divide(other) if isinstance(input, Tensor) else other.__rfloordiv__(input)


def atan2(input: Tensor, other: Any) -> Tensor:
    return input.atan2(other)


arctan2 = atan2


def hypot(input: Tensor, other: Any) -> Tensor:
    return input.hypot(other)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    return input.lerp(end, weight)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
    return input.addcmul(tensor1, tensor2, value=value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Number = 1) -> Tensor:
    return input.addcdiv(tensor1, tensor2, value=value)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    return input.nan_to_num(nan, posinf, neginf)


def index_add(input: Tensor, dim: int, index: Any, source: Tensor, *, alpha: Number = 1) -> Tensor:
    """A copy with ``alpha * source`` added at ``index`` along ``dim`` (repeated indices add up)."""
    return input.index_add(dim, index, source, alpha=alpha)


def index_reduce(input: Tensor, dim: int, index: Any, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """A copy with ``source`` reduced into the slices at ``index`` along ``dim`` (``reduce``: prod, mean,
    amax, amin; ``include_self``)."""
    return input.index_reduce(dim, index, source, reduce, include_self=include_self)


def index_copy(input: Tensor, dim: int, index: Any, source: Tensor) -> Tensor:
    """A copy with ``source``'s slices written at ``index`` along ``dim``."""
    return input.index_copy(dim, index, source)


def index_fill(input: Tensor, dim: int, index: Any, value: Any) -> Tensor:
    """A copy with ``value`` written at ``index`` along ``dim``."""
    return input.index_fill(dim, index, value)


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    return input.bernoulli(p, generator=generator)


# bitwise ops take a number first, as PyTorch's do (``torch.bitwise_and(3, t)``)
def bitwise_and(input: Any, other: Any) -> Tensor:
    return _number_first(input, other, "bitwise_and").bitwise_and(other)


def bitwise_or(input: Any, other: Any) -> Tensor:
    """``input | other`` for integer and bool tensors."""
    return _number_first(input, other, "bitwise_or").bitwise_or(other)


def bitwise_xor(input: Any, other: Any) -> Tensor:
    """``input ^ other`` for integer and bool tensors."""
    return _number_first(input, other, "bitwise_xor").bitwise_xor(other)


def bitwise_not(input: Tensor) -> Tensor:
    return input.bitwise_not()


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    """``input << other`` (``input`` may be a number: ``other``'s dtype, as in PyTorch)."""
    return _number_first(input, other, "bitwise_left_shift").bitwise_left_shift(other)


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    """``input >> other`` (``input`` may be a number)."""
    return _number_first(input, other, "bitwise_right_shift").bitwise_right_shift(other)


def logical_and(input: Tensor, other: Any) -> Tensor:
    """A bool tensor: ``input`` and ``other`` both non-zero."""
    return input.logical_and(other)


def logical_or(input: Tensor, other: Any) -> Tensor:
    """A bool tensor: ``input`` or ``other`` non-zero."""
    return input.logical_or(other)


def logical_xor(input: Tensor, other: Any) -> Tensor:
    """A bool tensor: exactly one of ``input`` and ``other`` non-zero."""
    return input.logical_xor(other)


# ------------------------------------------------------------------------------ reductions
def prod(input: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: DTypeLike = None) -> Tensor:
    return input.prod(dim, keepdim, dtype=dtype)


def cumsum(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:
    return input.cumsum(dim, dtype=dtype)


def cumprod(input: Tensor, dim: int, *, dtype: DTypeLike = None) -> Tensor:
    return input.cumprod(dim, dtype=dtype)


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    return input.var(dim, unbiased, keepdim, correction=correction)


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: float | None = None) -> Tensor:
    return input.std(dim, unbiased, keepdim, correction=correction)


def norm(input: Tensor, p: float | str | None = "fro", dim: int | Sequence[int] | None = None,
         keepdim: bool = False, dtype: DTypeLike = None) -> Tensor:
    return input.norm(p, dim, keepdim, dtype)


def dist(input: Tensor, other: Any, p: float = 2) -> Tensor:
    return input.dist(other, p)


def signbit(input: Tensor) -> Tensor:
    return input.signbit()


def positive(input: Tensor) -> Tensor:
    return input.positive()


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """``(values, indices)`` of the ``k``-th smallest along ``dim``; the values' VJP sends ``g`` to that
    element."""
    return input.kthvalue(k, dim, keepdim)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Views of nearly equal parts (``sections``) or cut at ``indices``, along ``dim``; the sizes differ by
    at most one."""
    return input.tensor_split(indices_or_sections, dim)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 1 (dim 0 for a 1-d tensor): views."""
    return input.hsplit(indices_or_sections)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 0: views."""
    return input.vsplit(indices_or_sections)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple[Tensor, ...]:
    """``tensor_split`` along dim 2: views."""
    return input.dsplit(indices_or_sections)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None
         ) -> Tensor:
    """The ``n``-th forward difference along ``dim`` (``prepend``/``append`` joined first)."""
    return input.diff(n, dim, prepend, append)


def unflatten(input: Tensor, dim: int, sizes: Any) -> Tensor:
    return input.unflatten(dim, sizes)


def fliplr(input: Tensor) -> Tensor:
    """The columns (dim 1) in reverse order; at least 2 dims."""
    return input.fliplr()


def flipud(input: Tensor) -> Tensor:
    """The rows (dim 0) in reverse order; at least 1 dim."""
    return input.flipud()


def moveaxis(input: Tensor, source: Any, destination: Any) -> Tensor:
    return input.movedim(source, destination)


def is_floating_point(input: Tensor) -> bool:
    """Whether the dtype is a floating one (float16, float32, float64)."""
    return input.is_floating_point()


def amax(input: Tensor, dim: int | Sequence[int] | None = (), keepdim: bool = False) -> Tensor:
    return input.amax(dim, keepdim)


def amin(input: Tensor, dim: int | Sequence[int] | None = (), keepdim: bool = False) -> Tensor:
    return input.amin(dim, keepdim)


# ------------------------------------------------------------------------------ grad mode
class inference_mode(_GradModeSwitch):  # noqa: N801 (PyTorch's name)
    """``no_grad`` by PyTorch's other name (this engine has no separate inference tensors):
    ``with inference_mode():``, ``@inference_mode()`` or ``@inference_mode``; inside it even
    ``grad(..., create_graph=True)`` records nothing. ``inference_mode(False)`` turns recording
    on, as PyTorch's does (inside ``no_grad`` too)."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode) and not isinstance(mode, bool):  # bare ``@inference_mode``
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        super().__init__(not mode)
        self._mode = bool(mode)
        self._previous_inference: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append((_state.grad_enabled, _state.grad_wanted))
        self._previous_inference.append(_state.inference)
        _state.grad_enabled, _state.inference = not self._mode, self._mode
        _state.grad_wanted = not self._mode

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled, _state.grad_wanted = self._previous.pop()
        _state.inference = self._previous_inference.pop()

    def __call__(self, fn: Any) -> Any:
        mode = self._mode
        if inspect.isgeneratorfunction(fn):  # (each step in inference mode)
            return _generator_in_mode(fn, lambda: inference_mode(mode))

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper


_F = TypeVar("_F", bound=Callable[..., Any])


def float_power(input: Any, exponent: Any) -> Tensor:
    """``input ** exponent`` in float64 (``input`` may be a number, as in PyTorch)."""
    if isinstance(input, Tensor):
        return input.float_power(exponent)
    if isinstance(exponent, Tensor):
        return exponent.to(np.float64).__rpow__(input)
    raise TypeError("float_power(): one of input and exponent must be a Tensor")


def xlogy(input: Any, other: Any) -> Tensor:
    """``input * log(other)``, 0 where ``input`` is 0 (either may be a number, as in PyTorch)."""
    if isinstance(input, Tensor):
        return input.xlogy(other)
    if isinstance(other, Tensor):
        return _to_tensor(input, other, result_type(other, 1.0)).xlogy(other)
    raise TypeError("xlogy(): one of input and other must be a Tensor")


def sinc(input: Tensor) -> Tensor:
    """``sin(πx) / (πx)``, 1 at 0."""
    return input.sinc()


def fmax(input: Tensor, other: Any) -> Tensor:
    return input.fmax(other)


def fmin(input: Tensor, other: Any) -> Tensor:
    return input.fmin(other)


def msort(input: Tensor) -> Tensor:
    return input.msort()


def argwhere(input: Tensor) -> Tensor:
    return input.argwhere()


def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    return input.narrow_copy(dim, start, length)


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    return input.split_with_sizes(split_sizes, dim)


def copysign(input: Tensor, other: Any) -> Tensor:
    return input.copysign(other)


def logaddexp(input: Tensor, other: Any) -> Tensor:
    return input.logaddexp(other)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    return input.diag(diagonal)


def index_put(input: Tensor, indices: Sequence[Any], values: Tensor, accumulate: bool = False
              ) -> Tensor:
    """``input.index_put(indices, values, accumulate)``."""
    return input.index_put(indices, values, accumulate)


def _number_first(input: Any, other: Any, where: str) -> Tensor:
    """``input`` as the Tensor whose method computes ``where(input, other)``: a number first
    (``torch.add(2, x)``) becomes a 0-d tensor of the result's dtype on ``other``'s device, so it
    counts as PyTorch's wrapped number does (``add(2, x)`` has ``x``'s dtype); two numbers make a
    0-d tensor as ``tensor()`` does (``add(2, 3)`` is int64)."""
    if isinstance(input, Tensor):
        return input
    if isinstance(input, (bool, int, float, np.bool_, np.number)):
        # (a numpy bool is the float 1.0 or 0.0, as PyTorch reads it: add(np.True_, int8) is
        # float32, as np.True_ + t is)
        number = (float(input) if isinstance(input, np.bool_) else
                  input.item() if isinstance(input, np.generic) else input)
        return _to_tensor(number, other) if isinstance(other, Tensor) else tensor(number)
    raise TypeError(f"{where}(): argument 'input' must be a Tensor or a number, not "
                    f"{type(input).__name__} (make one with tinygrad_cnn.tensor(...))")


# ----------------------------------------------------------------- compositions (no new ops)
def _trapezoid_terms(where: str, y: Tensor, x: Any, dx: Any, dim: int) -> Tensor:
    """``(y[k] + y[k+1]) / 2 * (x[k+1] - x[k])`` along ``dim`` (``dx`` for a uniform step)."""
    if not isinstance(y, Tensor):
        raise TypeError(f"{where}(): argument 'y' must be a Tensor, not {type(y).__name__}")
    if x is not None and dx is not None:
        raise TypeError(f"{where}(): give x or dx, not both")
    if x is not None and not isinstance(x, Tensor):
        raise TypeError(f"{where}(): x must be a Tensor of sample points, got "
                        f"{type(x).__name__} (a spacing is dx=..., by keyword)")
    if y.dtype == np.bool_:
        raise RuntimeError(f"{where}: received a bool input for `y`, but bool is not supported "
                           "(as PyTorch); convert it with .float()")
    if isinstance(x, Tensor) and y.dtype.kind in "iu" and x.dtype.kind == "f":
        y = y.to(x.dtype)  # (integer samples take the points' float dtype, as PyTorch's)
    if isinstance(dx, Tensor):
        if dx.ndim != 0:
            raise TypeError(f"{where}(): dx must be a number or a 0-d tensor, got shape {dx.shape}")
        dx = dx.item()
    if y.ndim == 0:
        raise IndexError(f"{where}: dimension out of range: y is 0-d (give it a dim to "
                         "integrate along)")
    d = dim + y.ndim if dim < 0 else dim
    if not 0 <= d < y.ndim:
        raise IndexError(f"{where}: dim {dim} is out of range for y of shape {y.shape}")
    n = y.shape[d]
    if n == 0:
        return y.narrow(d, 0, 0) * 1.0
    mid = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * 0.5
    if isinstance(x, Tensor):
        if x.ndim == 1:
            if x.shape[0] != n:
                raise RuntimeError(f"{where}: x has {x.shape[0]} points, y {n} along dim {dim} "
                                   f"(shape {y.shape}); they must match")
            steps = x.diff().reshape(*([1] * d), n - 1, *([1] * (y.ndim - d - 1)))
        else:
            xd = x.ndim - y.ndim + d  # (x broadcasts against y: dim counted from the right)
            if x.ndim > y.ndim or xd < 0 or x.shape[xd] != n:
                raise RuntimeError(f"{where}: x must be 1-D with y's length along dim, or "
                                   f"broadcast against y with that length there; got x "
                                   f"{x.shape} and y {y.shape}, dim {dim}")
            steps = x.diff(dim=xd)
        return mid * steps
    step = 1.0 if dx is None and x is None else (x if dx is None else dx)
    if not isinstance(step, (int, float, np.number)) or isinstance(step, bool):
        raise TypeError(f"{where}(): dx must be a number, got {type(step).__name__}")
    return mid * float(step)


def trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: ``x`` the sample points (1-D, or y's shape), or
    ``dx`` the spacing (default 1); fewer than two points integrate to 0. With a spacing it is
    PyTorch's ``(sum(y) - (y[0] + y[-1]) / 2) * dx`` (the same rounding, and NaN where an inf
    end meets the sum's inf, as PyTorch's)."""
    terms = _trapezoid_terms("trapezoid", y, x, dx, dim)
    d = dim + y.ndim if dim < 0 else dim
    n = y.shape[d]
    if n == 0:  # (zeros of y's own dtype, PyTorch's: int64 stays int64, with x= too)
        return y.sum(d, dtype=y.dtype)
    if isinstance(x, Tensor):
        return terms.sum(dim)
    step = 1.0 if dx is None and x is None else float(x if dx is None else dx)
    ends = (y.narrow(d, 0, 1) + y.narrow(d, n - 1, 1)).squeeze(d) * 0.5
    return (y.sum(d) - ends) * step


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The running trapezoidal rule along ``dim`` (one fewer element there than ``y``)."""
    return _trapezoid_terms("cumulative_trapezoid", y, x, dx, dim).cumsum(dim)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The ``r``-element combinations of a 1-D tensor's elements, one per row, in
    ``itertools.combinations``'s order (``with_replacement``: ``combinations_with_replacement``);
    ``r = 0`` gives an empty 1-D tensor, as PyTorch's. A gather: gradients add up."""
    import itertools

    if not isinstance(input, Tensor):
        raise TypeError(f"combinations(): argument 'input' must be a Tensor, not "
                        f"{type(input).__name__}")
    if input.ndim != 1:
        raise RuntimeError(f"combinations: Expect a 1D vector, but got shape {list(input.shape)}")
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
        raise TypeError(f"combinations(): argument 'r' must be an int, not {type(r).__name__}")
    if r < 0:
        raise RuntimeError(f"combinations: Expect a non-negative number, but got {r!r}")
    if not isinstance(with_replacement, (bool, np.bool_)):
        raise TypeError(f"combinations(): argument 'with_replacement' must be a bool, not "
                        f"{type(with_replacement).__name__}")
    if r == 0:
        return input[:0]
    pick = (itertools.combinations_with_replacement if with_replacement
            else itertools.combinations)
    rows = list(pick(range(input.shape[0]), int(r)))
    index = np.array(rows, dtype=np.int64).reshape(len(rows), int(r))
    return input[Tensor(index)]


def _tensor_first(fn: _F) -> _F:
    """``fn`` with PyTorch's TypeError when its first argument is not a Tensor."""
    name = next(iter(inspect.signature(fn).parameters), "input")  # (trapezoid's is y)

    @functools.wraps(fn)
    def checked(*args: Any, **kwargs: Any) -> Any:
        first = args[0] if args else kwargs.get(name)
        if not isinstance(first, Tensor):
            if isinstance(first, np.ndarray):  # (a Function's forward: its inputs are arrays)
                raise TypeError(
                    f"{fn.__name__}(): argument 'input' must be a Tensor, not a numpy array; "
                    "inside a Function's forward the inputs are numpy arrays: use numpy's "
                    f"function there (np.{fn.__name__}(x), or its numpy spelling), or make a "
                    "tensor with tinygrad_cnn.tensor(...) elsewhere")
            raise TypeError(f"{fn.__name__}(): argument 'input' must be a Tensor, not "
                            f"{type(first).__name__} (make one with tinygrad_cnn.tensor(...))")
        if kwargs and ("axis" in kwargs or "keepdims" in kwargs):  # numpy's names, as PyTorch
            kwargs = _dim_names(fn.__name__, kwargs)
        return fn(*args, **kwargs)
    return checked  # type: ignore[return-value]


__all__ = [
    "abs",
    "absolute",
    "acos",
    "acosh",
    "add",
    "addbmm",
    "addcdiv",
    "addcmul",
    "addmm",
    "addmv",
    "addr",
    "adjoint",
    "all",
    "allclose",
    "amax",
    "amin",
    "aminmax",
    "angle",
    "any",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "argmax",
    "argmin",
    "argsort",
    "argwhere",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "baddbmm",
    "bernoulli",
    "bincount",
    "bitwise_and",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "bmm",
    "broadcast_shapes",
    "bucketize",
    "cdist",
    "ceil",
    "clamp",
    "clamp_max",
    "clamp_min",
    "clip",
    "clone",
    "combinations",
    "copysign",
    "corrcoef",
    "cos",
    "cosh",
    "count_nonzero",
    "cov",
    "cross",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "cumulative_trapezoid",
    "deg2rad",
    "det",
    "detach",
    "diag",
    "diagflat",
    "diagonal_scatter",
    "diff",
    "digamma",
    "dist",
    "div",
    "divide",
    "dot",
    "dsplit",
    "einsum",
    "eq",
    "equal",
    "erf",
    "erfc",
    "erfinv",
    "exp",
    "exp2",
    "expm1",
    "fix",
    "flatten",
    "fliplr",
    "flipud",
    "float_power",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "frac",
    "frexp",
    "gather",
    "ge",
    "ger",
    "greater",
    "greater_equal",
    "gt",
    "heaviside",
    "histc",
    "hsplit",
    "hypot",
    "index_add",
    "index_copy",
    "index_fill",
    "index_put",
    "index_put_",
    "index_reduce",
    "inference_mode",
    "inner",
    "inverse",
    "is_complex",
    "is_floating_point",
    "is_signed",
    "is_tensor",
    "isfinite",
    "isin",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "kron",
    "kthvalue",
    "ldexp",
    "le",
    "lerp",
    "less",
    "less_equal",
    "lgamma",
    "log",
    "log1p",
    "log2",
    "log10",
    "log_softmax",
    "logaddexp",
    "logaddexp2",
    "logcumsumexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logit",
    "logsumexp",
    "lt",
    "masked_scatter",
    "masked_select",
    "matmul",
    "max",
    "maximum",
    "mean",
    "median",
    "min",
    "minimum",
    "mm",
    "mode",
    "moveaxis",
    "msort",
    "mul",
    "multiply",
    "mv",
    "mvlgamma",
    "nan_to_num",
    "nanmean",
    "nanmedian",
    "nanquantile",
    "nansum",
    "narrow_copy",
    "ne",
    "neg",
    "negative",
    "nextafter",
    "norm",
    "not_equal",
    "numel",
    "outer",
    "permute",
    "polygamma",
    "positive",
    "pow",
    "prod",
    "put",
    "quantile",
    "rad2deg",
    "reciprocal",
    "relu",
    "remainder",
    "renorm",
    "reshape",
    "round",
    "rsqrt",
    "rsub",
    "scalar_tensor",
    "scatter_reduce",
    "searchsorted",
    "select_scatter",
    "sgn",
    "sigmoid",
    "sign",
    "signbit",
    "sin",
    "sinc",
    "sinh",
    "slice_scatter",
    "softmax",
    "sort",
    "split_with_sizes",
    "sqrt",
    "square",
    "squeeze",
    "std",
    "std_mean",
    "sub",
    "subtract",
    "sum",
    "svd",
    "t",
    "take",
    "tan",
    "tanh",
    "tensor_split",
    "tensordot",
    "topk",
    "transpose",
    "trapezoid",
    "trapz",
    "true_divide",
    "trunc",
    "unflatten",
    "unique",
    "unique_consecutive",
    "unravel_index",
    "unsqueeze",
    "var",
    "var_mean",
    "vdot",
    "vsplit",
    "xlogy",
]

# every function whose first argument must be a Tensor checks it (aliases stay the same object);
# add, sub, mul, div, remainder, floor_divide and pow take a number first, is_tensor anything,
# einsum a string, inference_mode a flag, and the linear algebra of ops/linalg.py checks its own
# arguments
_WRAPPED: dict[int, Any] = {}
for _name in __all__:
    _fn = globals()[_name]
    if _name in ("add", "sub", "mul", "div", "subtract", "multiply", "divide", "true_divide",
                 "remainder", "floor_divide", "pow", "is_tensor", "inference_mode", "bitwise_and",
                 "bitwise_or", "bitwise_xor", "bitwise_left_shift", "bitwise_right_shift",
                 "float_power", "xlogy", "bucketize", "searchsorted", "isin", "polygamma",
                 "broadcast_shapes", "scalar_tensor", "unravel_index") or \
            _fn.__module__ not in (__name__, "tinygrad_cnn.ops.indexing"):
        continue
    globals()[_name] = _WRAPPED.setdefault(id(_fn), _tensor_first(_fn))
# PyTorch's out= (tinygrad_cnn/_out.py); an alias stays the same object as its original
for _name in (*_out.COMPUTED, *_out.FACTORIES):
    if _name in __all__:
        _fn = globals()[_name]
        # (named for the original, whichever name comes first: trunc's errors say trunc, not fix)
        _own = _fn.__name__ if _fn.__name__ in _out.COMPUTED else _name
        globals()[_name] = _WRAPPED.setdefault(-id(_fn), _out.with_out(_fn, _own,
                                                                      _own in _out.FACTORIES))
del _name, _fn, _own, _WRAPPED
