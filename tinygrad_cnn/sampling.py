"""PyTorch's samplers beyond ``rand``/``randn``/``randint``: ``multinomial``, ``normal`` (its four
forms), ``randint_like``, and the samples of the in-place fills ``exponential_``, ``random_``,
``geometric_``, ``log_normal_`` and ``cauchy_`` (the ``Tensor`` methods write them in, as
``normal_`` does). Each takes PyTorch's arguments, dtype rules and errors, and draws from the
generator ``generator=`` names (``random.as_generator``: the default one, that ``manual_seed``
seeds, when it is None) -- the same seed gives the same draws here, not PyTorch's.

No op is registered: a sample has no derivative. As PyTorch's, ``normal`` of tensors that require
grad, and the in-place fills of a tensor in a graph, give those tensors a zero gradient (through
``Fill``, whose VJP is zeros).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import _state
from tinygrad_cnn.backend import to_device
from tinygrad_cnn.random import as_generator
from tinygrad_cnn.tensor import (
    Tensor,
    _broadcast_shape,
    _dtype,
    _factory,
    _like_format,
    _like_layout,
    _low_high,
    _new_args,
    _size_arg,
    _tensor_arg,
)

__all__ = ["multinomial", "normal", "randint_like"]

# PyTorch's names of the dtypes in its messages: ScalarType ("not implemented for 'Long'") and C++
# ("out of bounds for long int")
_SCALAR_NAMES = {np.dtype(k): v for k, v in (
    ("float16", "Half"), ("float32", "Float"), ("float64", "Double"), ("int8", "Char"),
    ("uint8", "Byte"), ("int16", "Short"), ("int32", "Int"), ("int64", "Long"),
    ("bool", "Bool"))}
_C_NAMES = {np.dtype(k): v for k, v in (
    ("float16", "c10::Half"), ("float32", "float"), ("float64", "double"),
    ("int8", "signed char"), ("uint8", "unsigned char"), ("int16", "short int"),
    ("int32", "int"), ("int64", "long int"), ("bool", "bool"))}
_INT64 = (-2**63, 2**63 - 1)
_MAX_CATEGORIES = 2**24  # (PyTorch's indices pass through float32)


def _scalar_name(dt: np.dtype) -> str:
    return _SCALAR_NAMES.get(dt, str(dt))


def _c_name(dt: np.dtype) -> str:
    return _C_NAMES.get(dt, str(dt))


def _number(x: Any, where: str, name: str) -> float:
    """A real number argument (a Python or numpy number, or a 0-d tensor)."""
    if isinstance(x, Tensor) and x.ndim == 0:
        x = x.item()
    if isinstance(x, (bool, np.bool_)):
        return float(x)
    if not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}(): argument '{name}' must be a number, not "
                        f"{type(x).__name__}")
    return float(x)


def _integer(x: Any, where: str, name: str) -> int:
    """An int argument in int64's range (a Python or numpy int, or a 0-d integer tensor)."""
    if isinstance(x, Tensor) and x.ndim == 0 and x.dtype.kind in "iu":
        x = int(x.item())
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise TypeError(f"{where}(): argument '{name}' must be int, not {type(x).__name__}")
    x = int(x)
    if not _INT64[0] <= x <= _INT64[1]:
        raise ValueError(f"{where}(): argument '{name}' = {x} overflows int64 (Overflow when "
                         "unpacking long long, as PyTorch)")
    return x


def _fmt(x: float) -> str:
    """A number as PyTorch's messages print it (C++'s: ``-1``, ``0.5``, ``nan``, ``inf``)."""
    return f"{x:g}"


# ------------------------------------------------------------------------------ multinomial
def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:
    """``num_samples`` category indices (int64) drawn from the weights in the last dim of
    ``input`` (1-D: one distribution; 2-D: one per row, a row of indices each), PyTorch's
    ``torch.multinomial``: with ``replacement``, independently; without, one after another among
    the categories not drawn yet (the indices in the order drawn). The weights need not sum to 1;
    a zero weight is never drawn.

    PyTorch's errors (RuntimeError): a tensor that is not 1-D or 2-D or not floating, a
    ``num_samples`` not above 0 or, without replacement, above the number of categories, more
    than 2^24 categories, a row of zeros ("invalid multinomial distribution (sum of probabilities
    <= 0)"), a negative, infinite or NaN weight. Unlike PyTorch 2.13, ``replacement=False`` with
    ``num_samples`` beyond a row's non-zero weights is a RuntimeError too (PyTorch documents it
    as not allowed, then returns categories of weight 0: pytorch/pytorch#50034), as
    ``WeightedRandomSampler`` does."""
    input = _tensor_arg(input, "multinomial", "input")
    if isinstance(num_samples, Tensor) and num_samples.ndim == 0 and \
            num_samples.dtype.kind in "iu":
        num_samples = int(num_samples.item())
    if isinstance(num_samples, (bool, np.bool_)) or not isinstance(num_samples,
                                                                   (int, np.integer)):
        raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, not "
                        f"{type(num_samples).__name__}")
    if not isinstance(replacement, (bool, np.bool_)):
        raise TypeError(f"multinomial(): argument 'replacement' (position 3) must be bool, not "
                        f"{type(replacement).__name__}")
    n, replacement = int(num_samples), bool(replacement)
    if input.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim (multinomial: got a tensor of shape "
                           f"{tuple(input.shape)})")
    if input.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_scalar_name(input.dtype)}")
    if n <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (multinomial: num_samples={n})")
    cats = input.shape[-1]
    if not replacement and n > cats:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without "
                           f"replacement (multinomial: num_samples={n}, {cats} categories)")
    if cats > _MAX_CATEGORIES:
        raise RuntimeError(f"number of categories cannot exceed 2^24 (multinomial: {cats})")
    rows = input.shape[0] if input.ndim == 2 else 1
    out_shape = (n,) if input.ndim == 1 else (rows, n)
    if rows == 0:
        return _factory(lambda xp: xp.zeros(out_shape), np.int64, input.device, False)
    if cats == 0:  # (with replacement: no weights sum to 0)
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    w = np.asarray(input.detach().numpy(), dtype=np.float64).reshape(rows, cats)
    _check_weights(w, n, replacement)
    p = w / w.max(axis=1, keepdims=True)  # (no overflow in the sums below)
    rng = as_generator(generator, "multinomial")
    if replacement:  # the first category whose cumulative weight exceeds a uniform draw
        cdf = np.cumsum(p, axis=1)
        cdf /= cdf[:, -1:]  # exactly 1 at the end, and a uniform draw is below 1
        u = rng.random((rows, n))
        idx = np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)])
    else:
        # the categories in the order of exponential "arrival times" of rate p_i: the first to
        # arrive is i with probability p_i / sum(p), and (the exponential forgets) the next
        # among the rest likewise -- sequential draws, in one sort (as WeightedRandomSampler)
        with np.errstate(divide="ignore"):
            times = rng.standard_exponential((rows, cats)) / p  # weight 0: never (inf)
        if n == 1:
            idx = np.argmin(times, axis=1)[:, None]
        elif n < cats // 8:
            first = np.argpartition(times, n - 1, axis=1)[:, :n]
            order = np.argsort(np.take_along_axis(times, first, 1), axis=1, kind="stable")
            idx = np.take_along_axis(first, order, 1)
        else:
            idx = np.argsort(times, axis=1, kind="stable")[:, :n]
    idx = idx.astype(np.int64).reshape(out_shape)
    return Tensor._make(to_device(idx, input.device))


def _check_weights(w: np.ndarray, n: int, replacement: bool) -> None:
    """PyTorch's checks of the weights (float64 rows), with its messages: one draw or none
    replaced is its fast path (all the weights at once), else its row-by-row kernel."""
    bad = ~(w >= 0) | np.isinf(w)
    if not replacement or n == 1:
        if bad.any():
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (w.sum(axis=1) == 0).any():
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    else:
        for row, wrong in zip(w, bad):
            if wrong.any():
                v = row[np.argmax(wrong)]
                if not v >= 0:  # (NaN too: PyTorch's first test is entry >= 0)
                    raise RuntimeError("invalid multinomial distribution (encountering "
                                       "probability entry < 0)")
                raise RuntimeError("invalid multinomial distribution (encountering probability "
                                   "entry = infinity or NaN)")
            if not row.sum() > 0:
                raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement:
        fewest = int(np.count_nonzero(w, axis=1).min())
        if n > fewest:
            raise RuntimeError(f"multinomial: cannot draw num_samples={n} categories without "
                               f"replacement from a row with {fewest} non-zero weights (of "
                               f"{w.shape[1]}); give replacement=True or fewer num_samples "
                               "(PyTorch would return categories of weight 0)")


# ------------------------------------------------------------------------------ normal
_NO_STD = object()


def normal(mean: Any, std: Any = _NO_STD, size: Sequence[int] | None = None, *,
           generator: Any = None, dtype: Any = None, device: str | None = None,
           requires_grad: bool = False) -> Tensor:
    """Samples of ``N(mean, std²)``, PyTorch's ``torch.normal`` in its four forms:

    - ``normal(mean_tensor, std_tensor)``: one sample per element of their broadcast shape;
    - ``normal(mean_tensor, std=1.0)``, ``normal(mean, std_tensor)``: one per element of the
      tensor, the number shared;
    - ``normal(mean, std, size)``: numbers, ``size`` samples (float32 unless ``dtype`` says;
      ``device``, ``requires_grad`` as the factories').

    The dtype is the mean tensor's (else the std tensor's), which must be floating (PyTorch's
    NotImplementedError). ``std`` must be >= 0 (RuntimeError; NaN too). As PyTorch's, the samples
    are not reparameterised: a mean or std tensor that requires grad gets a zero gradient."""
    std_given = std is not _NO_STD
    tensors = isinstance(mean, Tensor) or (std_given and isinstance(std, Tensor))
    if not tensors:
        if not std_given or size is None:
            raise TypeError("normal(): takes (Tensor mean, Tensor std), (Tensor mean, float "
                            "std=1), (float mean, Tensor std) or (float mean, float std, tuple "
                            "size)")
        m, s = _number(mean, "normal", "mean"), _number(std, "normal", "std")
        shape = _size_arg(size, "normal", sequence=True)
        if not s >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(s)}")
        dt = _dtype(np.float32 if dtype is None else dtype, "normal")
        if dt.kind != "f":
            raise NotImplementedError(f'"normal_kernel_cpu" not implemented for '
                                      f"'{_scalar_name(dt)}'")
        sample = as_generator(generator, "normal").normal(m, s, shape)
        return _factory(lambda xp: xp.asarray(sample), dt, device, requires_grad)
    if size is not None or dtype is not None or device is not None or requires_grad:
        raise TypeError("normal(): size, dtype, device and requires_grad go with (float mean, "
                        "float std, tuple size) only; with a mean or std tensor the samples "
                        "take its shape, dtype and device")
    if not std_given:
        std = 1.0
    for value, name in ((mean, "mean"), (std, "std")):
        if not isinstance(value, Tensor):
            _number(value, "normal", name)
    first = mean if isinstance(mean, Tensor) else std
    dt = first.dtype
    shapes = [t.shape for t in (mean, std) if isinstance(t, Tensor)]
    shape = _broadcast_shape(*shapes) if len(shapes) == 2 else shapes[0]
    if shape is None:
        raise RuntimeError(_mismatch(shapes[0], shapes[1]))
    if isinstance(std, Tensor):
        s = np.asarray(std.detach().numpy(), dtype=np.float64)
        if not (s >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    else:
        s = _number(std, "normal", "std")
        if not s >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(s)}")
    if dt.kind != "f":
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for "
                                  f"'{_scalar_name(dt)}'")
    m = np.asarray(mean.detach().numpy(), dtype=np.float64) if isinstance(mean, Tensor) else \
        _number(mean, "normal", "mean")
    sample = as_generator(generator, "normal").normal(m, s, shape)
    out = Tensor._make(to_device(np.asarray(sample, dtype=dt), first.device))
    if _state.grad_enabled:
        from tinygrad_cnn.ops.inplace import Fill

        for t in (mean, std):  # (a zero gradient, of the tensor's shape and dtype)
            if isinstance(t, Tensor) and t.requires_grad:
                zero = Fill.apply(t, value=0)
                out = out + (zero if zero.dtype == dt else zero.to(dt))
    return out


def _mismatch(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """PyTorch's message for shapes that do not broadcast (the last dim that differs)."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return (f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) "
                    f"at non-singleton dimension {i}")
    return f"shapes {a} and {b} do not broadcast"


# ------------------------------------------------------------------------------ random_
def random_sample(shape: tuple[int, ...], dt: np.dtype, args: tuple[Any, ...],
                  kwargs: dict[str, Any], generator: Any, where: str = "random_") -> np.ndarray:
    """The samples of ``t.random_(from=0, to=None)`` for a tensor of ``shape`` and ``dt``, by
    PyTorch's rules: ``random_(to)`` and ``random_(from, to)`` draw from ``[from, to)``;
    ``random_()`` and ``random_(from, None)`` from ``from`` up to the dtype's top: its max for
    integers (1 for bool), ``2**mantissa digits`` for floats (2048 for float16, 2**24 for
    float32, 2**53 for float64: every integer there is exact); ``random_(-2**63, None)`` from
    all of int64. Bounds outside the dtype are PyTorch's RuntimeError ("to - 1 is out of
    bounds for unsigned char"), beyond a float's exact integers its UserWarning."""
    names = ("from", "to")
    if len(args) > 2 or set(kwargs) - set(names):
        raise TypeError(f"{where}(): takes (*, generator), (int to, *, generator) or (int from, "
                        f"int to, *, generator); got {len(args)} positional arguments and "
                        f"{sorted(kwargs)}")
    given: dict[str, Any] = dict(zip(("to",) if len(args) == 1 else names, args))
    for key, value in kwargs.items():
        if key in given:
            raise TypeError(f"{where}(): got multiple values for argument '{key}'")
        given[key] = value
    frm = _integer(given.get("from", 0), where, "from")
    to = given.get("to")
    if to is not None:
        to = _integer(to, where, "to")
    if dt.kind == "b":
        top = 1
    elif dt.kind in "iu":
        top = int(np.iinfo(dt).max)
    else:
        top = 2 ** (np.finfo(dt).nmant + 1)
    rng = as_generator(generator, where)
    if to is not None:
        if frm >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={frm} "
                               f">= to={to}")
        _check_bounds(frm, to - 1, dt)
        high = to - 1
    elif frm != _INT64[0]:
        if dt.kind == "f" and frm >= top:
            raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal "
                               f"to 'to_inc' casted to dtype, but got from={frm} > to_inc={top}")
        _check_bounds(frm, top, dt)
        high = top
    else:  # all of int64: PyTorch's kernel takes these dtypes only
        if dt.kind == "b" or dt == np.float16:
            raise NotImplementedError(f"\"random_full_64_bits_range_kernel_cpu\" not "
                                      f"implemented for '{_scalar_name(dt)}'")
        if dt not in (np.int64, np.float32, np.float64):
            raise RuntimeError("random_full_64_bits_range_kernel_cpu handles only int64, double, "
                               "float and bfloat16")
        high = _INT64[1]
    sample = rng.integers(frm, high, size=shape, dtype=np.int64, endpoint=True)
    return sample.astype(dt)


def _check_bounds(frm: int, to_inc: int, dt: np.dtype) -> None:
    """PyTorch's ``check_from_to_in_range`` (its warning at the caller of random_'s or randint's
    public function, four frames up)."""
    if dt.kind == "f":
        info = np.finfo(dt)
        lo, hi = float(info.min), float(info.max)
    elif dt.kind == "b":
        lo, hi = 0, 1
    else:
        lo, hi = int(np.iinfo(dt).min), int(np.iinfo(dt).max)
    for value, name in ((frm, "from"), (to_inc, "to - 1")):
        if not lo <= value <= hi:
            raise RuntimeError(f"{name} is out of bounds for {_c_name(dt)}")
    if dt.kind == "f":
        digits = np.finfo(dt).nmant + 1
        for value, name in ((frm, "from"), (to_inc, "to - 1")):
            if not -2**digits <= value <= 2**digits:
                warnings.warn(f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to "
                              f"precision limitations {_c_name(dt)} can support discrete uniform "
                              "distribution only within this range (PyTorch's warning)",
                              UserWarning, stacklevel=4)


def randint_like(input: Tensor, *args: Any, low: int | None = None, high: int | None = None,
                 generator: Any = None, dtype: Any = None, device: str | None = None,
                 requires_grad: bool = False, layout: Any = None, pin_memory: bool = False,
                 memory_format: Any = None) -> Tensor:
    """Integers drawn uniformly from ``[low, high)`` (``low`` 0 by default) in a tensor of
    ``input``'s shape, dtype and device (unless given): PyTorch's ``randint_like(input, high)``
    and ``randint_like(input, low, high)``, with ``random_``'s checks for the dtype (a range
    outside it is a RuntimeError)."""
    input = _tensor_arg(input, "randint_like", "input")
    fmt = _like_format(input, memory_format, "randint_like", layout, pin_memory)
    if len(args) > 2 or (len(args) == 2 and (low is not None or high is not None)) or \
            (len(args) == 1 and high is not None and low is not None):
        raise TypeError("randint_like(): takes (input, high) or (input, low, high)")
    low, high = _low_high(args, low, high)
    if high is None:
        raise TypeError("randint_like(): missing the argument 'high'")
    new = _new_args(input, dtype, device, requires_grad)
    dt = _dtype(new["dtype"], "randint_like")
    if requires_grad and dt.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                           "gradients")
    low = 0 if low is None else low
    sample = random_sample(input.shape, dt, (low, high), {}, generator, "randint_like")
    return _like_layout(_factory(lambda xp: xp.asarray(sample), dt, new["device"], requires_grad),
                        input, fmt)


# ------------------------------------------------------------------------------ in-place fills
def _continuous(dt: np.dtype, name: str, distribution: str) -> None:
    """PyTorch's refusal of a non-floating tensor for ``exponential_`` and ``cauchy_``."""
    if dt.kind != "f":
        shown = _scalar_name(dt) if distribution == "Exponential" else _c_name(dt)
        raise RuntimeError(f"{distribution} distribution is a continuous probability "
                           f"distribution. dtype must be a floating point but you specified "
                           f"{shown}")


def exponential_sample(t: Tensor, lambd: Any, generator: Any) -> np.ndarray:
    """``t.exponential_(lambd)``'s samples: ``Exp(lambd)``, of density ``lambd e^{-lambd x}``."""
    rate = _number(lambd, "exponential_", "lambd")
    if not rate > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_fmt(rate)}")
    _continuous(t.dtype, "exponential_", "Exponential")
    draw = as_generator(generator, "exponential_").standard_exponential(t.shape)
    return (draw / rate).astype(t.dtype)


def geometric_sample(t: Tensor, p: Any, generator: Any) -> np.ndarray:
    """``t.geometric_(p)``'s samples: the number of the first success in Bernoulli(``p``)
    trials, ``1, 2, ...`` (PyTorch's ``ceil(log(u) / log1p(-p))``). An integer tensor too; a
    draw beyond its range is cast as PyTorch's C cast does (int64's minimum, then wrapped)."""
    q = _number(p, "geometric_", "p")
    if not 0 < q < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_fmt(q)}")
    if t.dtype.kind == "b":
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    u = 1.0 - as_generator(generator, "geometric_").random(t.shape)  # in (0, 1]
    k = np.maximum(np.ceil(np.log(u) / np.log1p(-q)), 1.0)
    if t.dtype.kind == "f":
        return k.astype(t.dtype)
    k = np.where(k < 2.0**63, k, -(2.0**63)).astype(np.int64)
    return k.astype(t.dtype)


def log_normal_sample(t: Tensor, mean: Any, std: Any, generator: Any) -> np.ndarray:
    """``t.log_normal_(mean, std)``'s samples: ``exp(N(mean, std²))`` (``mean`` and ``std`` are
    those of the underlying normal, as PyTorch's)."""
    m, s = _number(mean, "log_normal_", "mean"), _number(std, "log_normal_", "std")
    if not s > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_fmt(s)}")
    if t.dtype.kind != "f":
        raise NotImplementedError(f"\"log_normal_cpu\" not implemented for "
                                  f"'{_scalar_name(t.dtype)}'")
    with np.errstate(over="ignore"):
        return np.exp(as_generator(generator, "log_normal_").normal(m, s, t.shape)).astype(
            t.dtype)


def cauchy_sample(t: Tensor, median: Any, sigma: Any, generator: Any) -> np.ndarray:
    """``t.cauchy_(median, sigma)``'s samples: ``median + sigma * tan(pi * (u - 1/2))``."""
    m, s = _number(median, "cauchy_", "median"), _number(sigma, "cauchy_", "sigma")
    if not s > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_fmt(s)}")
    _continuous(t.dtype, "cauchy_", "Cauchy")
    u = as_generator(generator, "cauchy_").random(t.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        return (m + s * np.tan(math.pi * (u - 0.5))).astype(t.dtype)
