"""Weight initialisation, in place, with PyTorch's names and formulas.

He initialisation -- the tutorial's PaddlePaddle "smart" init, ``std = sqrt(2 / (k*k*C))`` for a
``k×k`` kernel over ``C`` input channels -- is ``kaiming_normal_(w, nonlinearity="relu")``.
All draws come from the generator that ``tinygrad_cnn.manual_seed`` seeds.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from tinygrad_cnn._scalars import check_number
from tinygrad_cnn.backend import to_device
from tinygrad_cnn.ops.unary import erf_array
from tinygrad_cnn.random import as_generator
from tinygrad_cnn.tensor import Tensor, _in_dtype


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``fan_in = size(1) * receptive field``, ``fan_out = size(0) * receptive field``."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out can not be computed for a tensor with fewer than 2 "
                         f"dimensions; got shape {tensor.shape} (at least 2 dims, (out, in, ...))")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out  # PyTorch's (private) name

_GAIN_ONE = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
             "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance for ``nonlinearity`` (PyTorch's table; ``selu``:
    3/4, which with ``kaiming_normal_(w, nonlinearity="linear")``-style fans gives self-normalising
    networks their variance 1)."""
    if nonlinearity in _GAIN_ONE:
        return 1  # (PyTorch's int)
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{(*_GAIN_ONE, 'tanh', 'relu', 'leaky_relu', 'selu')}")


def _floating(tensor: Tensor, where: str) -> None:
    """Random fills draw real numbers: an integer or bool tensor is refused, as PyTorch's
    kernels refuse it (its values would be cut to integers)."""
    if tensor.dtype.kind != "f":
        raise NotImplementedError(f"{where}: fills floating tensors only, this one is "
                                  f"{tensor.dtype} (as in PyTorch); create it as float")


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    if not getattr(tensor._data.flags, "writeable", True):
        raise RuntimeError(f"nn.init: this tensor (shape {tuple(tensor.shape)}) is read-only: a "
                           "view that shows one value in several places (an expand() result) or "
                           "a read-only array (from_numpy of one); initialise the tensor it was "
                           "expanded from, or a .clone() of it")
    tensor._data[...] = to_device(values.astype(tensor.dtype, copy=False), tensor.device)
    tensor._version_counter[0] += 1
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Any = None) -> Tensor:
    """Fill in place with values drawn uniformly from ``[a, b)`` (the package's generator, or
    ``generator``)."""
    _floating(tensor, "uniform_")
    if not a <= b:  # (NaN too)
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > "
                           f"to={b}")
    if not (math.isfinite(a) and math.isfinite(b)):
        raise RuntimeError(f"uniform_: the bounds must be finite, got from={a}, to={b}")
    return _fill(tensor, as_generator(generator, "uniform_").uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Any = None) -> Tensor:
    """Fill in place with values drawn from ``N(mean, std²)`` (the package's generator, or ``generator``)."""
    _floating(tensor, "normal_")
    if not std >= 0:  # (NaN too)
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill(tensor, as_generator(generator, "normal_").normal(mean, std, tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01,
            generator: Any = None) -> Tensor:
    """A sparse 2-D matrix (Martens 2010), PyTorch's: samples of ``N(0, std²)`` with
    ``ceil(sparsity * rows)`` entries of each column, chosen at random, set to 0. Unlike
    PyTorch's, whose choice of rows ignores ``generator`` (it calls ``randperm`` without it),
    every draw comes from ``generator``: the same seed gives the same matrix."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (sparse_: got shape "
                         f"{tuple(tensor.shape)})")
    _floating(tensor, "sparse_")
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    rng = as_generator(generator, "sparse_")
    values = rng.normal(0.0, std, tensor.shape)
    # each column's own random order of the rows (PyTorch: randperm per column), its first
    # ``num_zeros`` zeroed (a negative count slices as PyTorch's does: all but the last ones)
    order = np.argsort(rng.random((rows, cols)), axis=0)[:num_zeros]
    values[order, np.arange(cols)] = 0.0
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Every element set to ``val`` (a number, or a 0-d tensor: PyTorch's ``fill_``), in place."""
    check_number("constant_", "val", val, "0d")
    v = val.item() if isinstance(val, Tensor) else val
    if tensor._data.dtype.kind in "biu":  # (nan, inf, 1e30 into an int64 tensor: PyTorch's
        v = _in_dtype(v, tensor._data.dtype, "constant_")  # overflow error, not INT64_MIN)
    return _fill(tensor, np.full(tensor.shape, v))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill in place with zeros."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill in place with ones."""
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (ones on the main diagonal of a 2-D, possibly rectangular, tensor)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2013), by PyTorch's algorithm: the
    QR factorisation of a standard normal ``(rows, cols)`` draw (transposed when rows < cols),
    each column of Q multiplied by the sign of R's diagonal, so that Q is uniform (Haar); dims
    after the first are flattened into ``cols``. Rows or columns, whichever are fewer, come out
    orthonormal. An empty tensor is left as it is."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got "
                         f"shape {tuple(tensor.shape)}")
    if tensor.dtype.kind != "f":
        raise NotImplementedError(f"orthogonal_: fills floating tensors only, this one is "
                                  f"{tensor.dtype}")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = as_generator(generator, "orthogonal_").standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)  # (n, k) with k = min(rows, cols)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))


def _fan(tensor: Tensor, mode: str, where: str) -> int:
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    mode = mode.lower() if isinstance(mode, str) else mode  # (PyTorch's: any case)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return max(fan_in if mode == "fan_in" else fan_out, 1)  # a zero-element tensor: nothing to draw


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He initialisation: ``N(0, std²)`` with ``std = gain / sqrt(fan)``; for ReLU and a conv weight
    ``(K, C, k, k)`` that is ``sqrt(2 / (k*k*C))``, PaddlePaddle's "smart" init."""
    if _no_elements(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode, "kaiming_normal_"))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: Any = None) -> Tensor:
    """He initialisation, uniform: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan)``."""
    if _no_elements(tensor):
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode, "kaiming_uniform_"))
    return uniform_(tensor, -bound, bound, generator)


def _no_elements(tensor: Tensor) -> bool:
    """A zero-element tensor: PyTorch's kaiming inits warn and leave it."""
    if isinstance(tensor, Tensor) and tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op (PyTorch's warning)",
                      UserWarning, stacklevel=3)
        return True
    return False


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot initialisation: ``U(-b, b)`` with ``b = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Glorot's normal initialisation in place: ``N(0, std²)``, ``std = gain * sqrt(2 / (fan_in
    + fan_out))``."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / max(fan_in + fan_out, 1)), generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Any = None) -> Tensor:
    """``N(mean, std²)`` truncated to ``[a, b]`` (absolute bounds, as in PyTorch), by PyTorch's
    method: a uniform draw between the normal CDF at ``a`` and at ``b``, mapped back through the
    inverse CDF, then clamped -- except for an interval wholly beyond 3 std on one side, where
    the CDFs round together: there an exact rejection sampler of the tail. Warns, as PyTorch
    does, when ``mean`` is more than 2 std outside ``[a, b]``."""
    if tensor.dtype.kind != "f":
        raise NotImplementedError(f"trunc_normal_: fills floating tensors only, this one is "
                                  f"{tensor.dtype}")
    if a > b:
        raise RuntimeError(f"trunc_normal_: expects a <= b, got a={a} > b={b}")
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    rng = as_generator(generator, "trunc_normal_")
    alpha, beta = ((x - mean) / std for x in (a, b)) if std > 0 else (-math.inf, math.inf)
    if std > 0 and (alpha > _TAIL or beta < -_TAIL):
        # the whole interval in one far tail: there the CDFs at a and b round to the same number
        # and every value landed on a bound; an exact sampler of the tail instead
        flip = beta < -_TAIL
        z = _tail_normal(rng, -beta if flip else alpha, -alpha if flip else beta, tensor.shape)
        values = (-z if flip else z) * std + mean
    else:
        lo, hi = (0.5 * (1 + math.erf((x - mean) / (std * math.sqrt(2.0)))) for x in (a, b))
        y = rng.uniform(2 * lo - 1, 2 * hi - 1, tensor.shape)
        values = _erfinv(y) * (std * math.sqrt(2.0)) + mean
    return _fill(tensor, np.clip(values, a, b))


_TAIL = 3.0  # standard deviations: beyond, trunc_normal_ samples the tail by rejection


def _tail_normal(rng: Any, alpha: float, beta: float, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal values truncated to ``[alpha, beta]`` with ``alpha > 0`` (a right tail), by
    rejection: an exponential proposal from ``alpha`` (C. Robert, "Simulation of truncated
    normal variables", 1995), or a uniform one for an interval narrower than its scale."""
    n = math.prod(shape)
    out = np.empty(n)
    filled = 0
    lam = (alpha + math.sqrt(alpha * alpha + 4.0)) / 2.0
    narrow = beta - alpha < 1.0 / lam
    while filled < n:
        m = max(2 * (n - filled), 16)
        if narrow:  # density ratio exp((alpha² - z²) / 2) >= exp(-1): few rejections
            z = rng.uniform(alpha, beta, m)
            keep = rng.uniform(0.0, 1.0, m) <= np.exp((alpha * alpha - z * z) / 2.0)
        else:
            z = alpha + rng.exponential(1.0 / lam, m)
            keep = (rng.uniform(0.0, 1.0, m) <= np.exp(-((z - lam) ** 2) / 2.0)) & (z <= beta)
        got = z[keep][: n - filled]
        out[filled:filled + got.size] = got
        filled += got.size
    return out.reshape(shape)


def _erfinv(y: np.ndarray) -> np.ndarray:
    """The inverse error function on float64 arrays in (-1, 1): M. Giles' single-precision
    approximation ("Approximating the erfinv function", GPU Computing Gems, 2011), then two Newton
    steps on ``erf`` to float64 accuracy; ±1 give ±inf."""
    y = np.asarray(y, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = -np.log((1.0 - y) * (1.0 + y))
        central, tail = w - 2.5, np.sqrt(w) - 3.0
        p_c = np.full_like(y, 2.81022636e-08)
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p_c = c + p_c * central
        p_t = np.full_like(y, -0.000200214257)
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            p_t = c + p_t * tail
        x = np.where(w < 5.0, p_c, p_t) * y
        finite = np.isfinite(x)
        for _ in range(2):
            step = (erf_array(x) - y) / (2.0 / math.sqrt(math.pi) * np.exp(-x * x))
            x = np.where(finite, x - step, x)
    return np.where(np.abs(y) == 1.0, np.copysign(np.inf, y), x)


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The identity of a convolution: zeros, and 1 at the kernel's centre where the output
    channel (within each of ``groups``) equals the input channel (PyTorch's ``dirac_``; a 3-, 4-
    or 5-d weight whose first dim divides into ``groups``)."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4 or 5 dimensions are supported, got "
                         f"shape {tuple(tensor.shape)}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or \
            tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 (size {tensor.shape[0]}) must divide into groups "
                         f"(got {groups!r})")
    per = tensor.shape[0] // groups
    values = np.zeros(tuple(tensor.shape))
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per, tensor.shape[1])):
            values[(g * per + d, d, *centre)] = 1.0
    return _fill(tensor, values)


def _deprecated(new: Any) -> Any:
    old = new.__name__.removesuffix("_")

    def call(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"nn.init.{old} is now deprecated in favor of nn.init.{new.__name__} (as "
                      "in PyTorch)", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    call.__name__ = call.__qualname__ = old
    call.__doc__ = f"Deprecated (as in PyTorch): :func:`{new.__name__}`."
    return call


# PyTorch's names from before the in-place underscore, kept (with a warning) for old code
uniform, normal, constant = _deprecated(uniform_), _deprecated(normal_), _deprecated(constant_)
xavier_uniform, xavier_normal = _deprecated(xavier_uniform_), _deprecated(xavier_normal_)
kaiming_uniform, kaiming_normal = _deprecated(kaiming_uniform_), _deprecated(kaiming_normal_)
orthogonal, sparse = _deprecated(orthogonal_), _deprecated(sparse_)
