"""The array module of a device: numpy for ``"cpu"``, CuPy for ``"cuda"``.

Every op finds the module of its arrays with :func:`array_module` instead of calling ``numpy.``
directly, so the same forward code runs on both. CuPy is imported only when a CUDA tensor is made.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import importlib
import math
import os
import re
import sys
import threading
import warnings
from types import ModuleType
from typing import Any

import numpy as np

DEVICES = ("cpu", "cuda")

_cupy: ModuleType | None = None


class DeviceUnavailableError(RuntimeError):
    """A device was asked for that this machine cannot provide."""


def _load_cupy() -> ModuleType:
    global _cupy
    if _cupy is None:
        try:
            _cupy = importlib.import_module("cupy")
            _cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # ImportError, or a CUDA runtime error without a GPU
            _cupy = None
            raise DeviceUnavailableError(
                "device 'cuda' is not available: it needs CuPy and a CUDA GPU "
                f"({type(exc).__name__}: {exc}). Install CuPy for your CUDA version "
                "(e.g. `pip install cupy-cuda12x`) or use device='cpu'."
            ) from exc
    return _cupy


def normalize_device(device: str | None) -> str:
    """``None``/``"cpu"`` -> ``"cpu"``; ``"cuda"``/``"cuda:0"``/``"gpu"`` -> ``"cuda"``."""
    if device is None:
        return "cpu"
    if not isinstance(device, str):
        device = str(device)
    name, colon, index = device.lower().partition(":")
    if name == "gpu":
        name = "cuda"
    if name not in DEVICES:
        raise ArgumentValueError(f"unknown device {device!r}; expected one of {DEVICES}")
    if colon and not (index.isascii() and index.isdigit()):  # (cuda:x, cuda:-1: PyTorch's error,
        # not "cuda is not available" -- t194; a RuntimeError too, as PyTorch's -- t199)
        raise ArgumentValueError(f"invalid device string {device!r}: the index after ':' must be "
                                 "a non-negative integer, as in 'cuda:0'")
    return name


class device(str):  # noqa: N801 (PyTorch's name)
    """PyTorch's ``torch.device``: ``device("cpu")``, ``device("cuda")``, ``device("cuda", 0)``,
    ``device("cuda:0")``, with ``.type`` and ``.index``. It is also the string it names, so it
    compares equal to ``"cpu"`` and goes wherever a device string does (``x.to(dev)``)."""

    type: str
    index: int | None

    def __new__(cls, type: Any, index: int | None = None) -> device:
        if isinstance(type, device) and index is None:
            return type
        text = str(type)
        if index is not None:
            if ":" in text:
                raise ValueError(f"device: type (string) must not include an index because index "
                                 f"was passed explicitly: {text}")
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise ValueError(f"device: the index must be a non-negative int, got {index!r}")
            text = f"{text}:{index}"
        kind, colon, number = text.partition(":")
        if kind not in DEVICES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICES)} device type at start of "
                               f"device string: {text}")
        if colon and not number.isdigit():
            raise RuntimeError(f"Invalid device string: '{text}'")
        obj = super().__new__(cls, text)
        obj.type, obj.index = kind, int(number) if colon else None
        return obj

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"

    def __reduce__(self) -> tuple[Any, ...]:
        return device, (self.type, self.index)


DEVICE_OF = {"cpu": device("cpu"), "cuda": device("cuda")}  # what Tensor.device returns


def get_module(device: str) -> ModuleType:
    """The array module (numpy or cupy) that holds a device's arrays."""
    device = normalize_device(device)
    return np if device == "cpu" else _load_cupy()


def is_available(device: str) -> bool:
    """Whether arrays can be made on ``device`` here."""
    try:
        get_module(device)
    except DeviceUnavailableError:
        return False
    return True


def broadcast_shapes(*shapes: Any) -> tuple[int, ...]:
    """``np.broadcast_shapes``, past its 32 dims too (numpy's arrays and PyTorch's tensors take
    up to 64: ``x + y`` of 33-dim tensors raised numpy's "only supports up to 32 dimensions")."""
    if len(shapes) == 2 and type(shapes[0]) is tuple and type(shapes[1]) is tuple:
        # (two shapes, every binary op's: in Python, a fifth of numpy's Python layer's cost;
        # a mismatch goes on to numpy, for its error)
        s, t = shapes
        if len(s) < len(t):
            s, t = t, s
        lead = len(s) - len(t)
        both = list(s[:lead])
        for m, n in zip(s[lead:], t):
            if m == n or n == 1:
                both.append(m)
            elif m == 1:
                both.append(n)
            else:
                break
        else:
            return tuple(both)
    try:
        return np.broadcast_shapes(*shapes)
    except RuntimeError as exc:  # (numpy's limit; a mismatch is its ValueError, raised as it is)
        if "32" not in str(exc):
            raise
    out: list[int] = []
    for dims in zip(*(((1,) * (max(map(len, shapes)) - len(s))) + tuple(s) for s in shapes)):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            raise ValueError(f"shape mismatch: objects cannot be broadcast to a single shape: "
                             f"{', '.join(str(tuple(s)) for s in shapes)}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def rows_past_32_dims(fn: Any) -> Any:
    """``fn(x, d, *args)``, an array computed along dim ``d`` of the array ``x`` (a sort order, a
    kept-dim index), on an ``x`` of more than 32 dims as the rows of its other dims: numpy's
    sorts stop at 32 dims, PyTorch's at 64."""

    @functools.wraps(fn)
    def run(x: Any, d: int, *args: Any) -> Any:
        if x.ndim <= 32:
            return fn(x, d, *args)
        xp = array_module(x)
        moved = xp.moveaxis(x, d, -1)
        out = fn(moved.reshape(-1, moved.shape[-1]), 1, *args)
        return xp.moveaxis(out.reshape(moved.shape[:-1] + out.shape[-1:]), -1, d)
    return run


def array_module(arr: Any) -> ModuleType:
    """The module of an array: numpy for ``np.ndarray``, cupy for a CuPy array."""
    if type(arr) is np.ndarray or _cupy is None:
        return np
    return _cupy.get_array_module(arr)


def device_of(arr: Any) -> str:
    """``"cpu"`` for a numpy array, ``"cuda"`` for a CuPy array."""
    return "cpu" if array_module(arr) is np else "cuda"


def to_device(arr: Any, device: str) -> Any:
    """Copy an array to ``device`` (no copy when it is already there)."""
    device = normalize_device(device)
    if device_of(arr) == device:
        return arr
    if device == "cpu":
        return arr.get()
    return get_module("cuda").asarray(arr)


_SHOWN_LIST: Any = None  # the warnings filters last read (the list, its length, its first)
_SHOWN_LEN = -1
_SHOWN_FIRST: Any = None
_SHOWN = False
_PROBE_MESSAGES = ("invalid value encountered in multiply", "overflow encountered in exp",
                   "divide by zero encountered in log", "underflow encountered in multiply")
_PROBE_MODULE = "tinygrad_cnn.ops.elementwise"


def numpy_warnings_shown() -> bool:
    """Whether a numpy arithmetic RuntimeWarning raised in this package's modules would be shown
    (or raised) under the warnings filters as they stand: the package ignores them by a filter
    (``__init__.py``), but a filter placed in front of it -- ``warnings.simplefilter("error")``,
    ``pytest -W error`` -- wins, and then an op that meets inf or NaN raised numpy's warning from
    deep inside where PyTorch is silent (t151). Read once per change of the filters (their
    list, its length and its first entry), so a few attribute reads an op."""
    global _SHOWN_LIST, _SHOWN_LEN, _SHOWN_FIRST, _SHOWN
    filters = warnings.filters
    if filters is _SHOWN_LIST and len(filters) == _SHOWN_LEN and (
            not filters or filters[0] is _SHOWN_FIRST):
        return _SHOWN
    shown = False  # (the filters changed: read them again, for each kind of message)
    for probe in _PROBE_MESSAGES:
        action = warnings.defaultaction
        for act, msg, cat, mod, line in filters:
            if line or not issubclass(RuntimeWarning, cat):
                continue
            if (msg is None or msg.match(probe)) and (mod is None or mod.match(_PROBE_MODULE)):
                action = act
                break
        shown = shown or action != "ignore"
    _SHOWN = shown
    _SHOWN_LIST, _SHOWN_LEN = filters, len(filters)
    _SHOWN_FIRST = filters[0] if filters else None
    return _SHOWN


_NOT_SHOWN = contextlib.nullcontext()


def quiet_if_shown() -> Any:
    """``np.errstate(all="ignore")`` where :func:`numpy_warnings_shown`, else a no-op context:
    for package code outside an op's forward or a backward pass (those two check it
    themselves)."""
    return np.errstate(all="ignore") if numpy_warnings_shown() else _NOT_SHOWN


def quiet(fn: Any) -> Any:
    """``fn`` under ``np.errstate(all="ignore")``: IEEE results (inf, NaN) without numpy's
    RuntimeWarnings, as PyTorch gives them (``log(0)``, ``sqrt(-1)``, ``1 / 0``). For the forwards
    of ops whose domain has edges; the hot elementwise ops (add, mul, exp, ...) go without it (it
    costs about a microsecond: 10% of a 16×16 exp)."""

    @functools.wraps(fn)
    def quietly(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return quietly


def flat_positions(shape: tuple[int, ...], index: Any) -> Any:
    """The flat (C-order) positions, in an array of ``shape``, of the elements ``index`` reaches
    (an integer-array key of one array per dim, broadcast together; or any numpy key)."""
    key = index if isinstance(index, tuple) else (index,)
    xp = array_module(key[0]) if key and hasattr(key[0], "dtype") else np
    if len(key) == len(shape) and all(getattr(k, "dtype", np.dtype(object)).kind in "iu"
                                      and k.ndim for k in key):
        pos: Any = xp.zeros((), np.int64)
        step = 1
        for k, size in zip(reversed(key), reversed(shape)):
            pos = pos + xp.where(k < 0, k + size, k).astype(np.int64, copy=False) * step
            step *= size
        return pos
    return xp.arange(math.prod(shape), dtype=np.int64).reshape(shape)[index]


def _deep_at(target: Any, index: Any) -> bool:
    """Whether numpy's ``ufunc.at(target, index, ...)`` would reach past 32 dims: numpy 2.4 then
    crashes the interpreter (a segmentation fault), so the caller goes by flat positions."""
    if target.ndim > 32:
        return True
    return any(getattr(k, "ndim", 0) > 32 - target.ndim + 1
               for k in (index if isinstance(index, tuple) else (index,)))


def _flat_at(ufunc: Any, target: np.ndarray, index: Any, values: Any) -> None:
    """``ufunc.at(target, index, values)`` on ``target``'s flat positions (see :func:`_deep_at`)."""
    pos = flat_positions(target.shape, index)
    work = target if target.flags.c_contiguous else np.ascontiguousarray(target)
    ufunc.at(work.reshape(-1), pos.reshape(-1), np.broadcast_to(values, pos.shape).reshape(-1))
    if work is not target:
        target[...] = work


def add_at(target: Any, index: Any, values: Any) -> None:
    """``target[index] += values`` with repeated indices adding up (``numpy.add.at``; in CuPy
    ``cupy.add.at``, or ``cupyx.scatter_add`` before CuPy had it)."""
    if type(target) is np.ndarray:
        with quiet_if_shown():  # (inf - inf is NaN, quietly: bincount's weights, t152)
            if _deep_at(target, index):
                _flat_at(np.add, target, index, values)
            else:
                np.add.at(target, index, values)
        return
    xp = array_module(target)
    if hasattr(xp.add, "at"):
        xp.add.at(target, index, values)
    else:
        importlib.import_module("cupyx").scatter_add(target, index, values)


def reduce_at(ufunc: str, target: Any, index: Any, values: Any) -> None:
    """``target[index] = ufunc(target[index], values)`` with repeated indices combining in turn
    (``numpy.maximum.at`` and the like; ``ufunc``: "maximum", "minimum" or "multiply"). CuPy's
    own ``maximum.at`` was seen 2e-7 off for float64 on an H200 (CuPy 14.2): on the host there."""
    if type(target) is np.ndarray:
        if _deep_at(target, index):
            _flat_at(getattr(np, ufunc), target, index, values)
        else:
            getattr(np, ufunc).at(target, index, values)
        return
    key = tuple(to_numpy(k) if hasattr(k, "__cuda_array_interface__") else k
                for k in (index if isinstance(index, tuple) else (index,)))
    host = to_numpy(target)
    getattr(np, ufunc).at(host, key, to_numpy(values) if hasattr(values, "__cuda_array_interface__")
                          else values)
    target[...] = to_device(host, "cuda")


ZERO_SHAPED_MAX = 1 << 24  # elements; see zeros_shaped()
_ZERO_BUFFERS: dict[Any, np.ndarray] = {}


def zeros_shaped(arr: Any) -> Any:
    """Zeros of ``arr``'s shape and dtype, read-only, as a view of one cached buffer per dtype --
    or the 0-d zero for CuPy, an odd dtype or a large ``arr``. numpy's ``maximum(x, 0)`` runs a
    scalar loop about 3x slower than its vectorised loop over two arrays (LeNet-5's first relu,
    64×6×28×28 float32: 90 µs against 28 µs on an AMD EPYC, numpy 2.4), and reading a zero buffer
    costs less than that difference. The buffer only grows to ``ZERO_SHAPED_MAX`` elements; its
    pages are never written, so the kernel backs them with its one zero page."""
    if type(arr) is not np.ndarray or arr.dtype.kind != "f" or arr.size > ZERO_SHAPED_MAX:
        return array_module(arr).zeros((), dtype=arr.dtype)
    buf = _ZERO_BUFFERS.get(arr.dtype)
    if buf is None or buf.size < arr.size:
        buf = np.zeros(max(arr.size, 1 << 16), dtype=arr.dtype)
        buf.flags.writeable = False
        _ZERO_BUFFERS[arr.dtype] = buf
    return buf[:arr.size].reshape(arr.shape)


def cast(arr: Any, dtype: Any) -> Any:
    """``arr.astype(dtype)`` (a new array) as PyTorch converts: a double becomes a half through
    float, rounding twice -- a double just off the midpoint of two halves lands on the other
    half than numpy's direct cast gives (found by the long fuzz)."""
    if arr.dtype == np.float64 and np.dtype(dtype) == np.float16:
        return arr.astype(np.float32).astype(dtype)
    return arr.astype(dtype)


def may_overlap(a: Any) -> bool:
    """Whether two elements of ``a`` may share memory: False only where the strides, taken from
    the smallest, each step past everything the smaller ones span (then no two elements meet);
    True for a zero stride, or windows that overlap (``unfold`` with a step under its size)."""
    if a.size <= 1:
        return False
    extent = a.itemsize
    for stride, n in sorted((abs(st), n) for st, n in zip(a.strides, a.shape) if n > 1):
        if stride < extent:
            return True
        extent += stride * (n - 1)
    return False


def writeable(a: Any) -> bool:
    """numpy's ``flags.writeable``. CuPy keeps no such flag (its broadcasts are writable views):
    a CuPy array counts as writable unless two of its elements share memory -- what numpy's
    read-only broadcasts and ``expand()`` views mark."""
    flag = getattr(a.flags, "writeable", None)
    return bool(flag) if flag is not None else not may_overlap(a)


def reshaped_view(a: Any, shape: tuple[int, ...]) -> Any:
    """``a`` with ``shape``, on the same memory (a write through it lands in ``a``), or an error
    where that would take a copy. (Assigning ``.shape`` did this; numpy 2.5 deprecates it.)"""
    r = a.reshape(shape)
    if a.size and _address(r) != _address(a):
        raise ValueError(f"an array of shape {a.shape} and strides {a.strides} cannot be "
                         f"reshaped to {shape} without a copy")
    return r


def _address(a: Any) -> int:
    data = a.data
    return data.ptr if hasattr(data, "ptr") else a.__array_interface__["data"][0]


def like(arr: Any, reference: Any) -> Any:
    """``arr`` on the device of ``reference`` (index arrays and targets made on the host)."""
    if arr is None or array_module(arr) is array_module(reference):
        return arr
    return to_device(arr, device_of(reference))


def to_numpy(arr: Any) -> np.ndarray:
    """A numpy array with the values of ``arr`` (a device-to-host copy for CuPy)."""
    return arr if type(arr) is np.ndarray else to_device(arr, "cpu")


# -------------------------------------------------------------------- environment variables
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def _env(name: str) -> str | None:
    """The stripped value of ``name``, or ``None`` when it is unset or empty (like Python's own
    ``PYTHON*`` variables, an empty value counts as unset)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return None
    return raw.strip()


def env_flag(name: str, default: bool) -> bool:
    """A boolean environment variable: ``1/true/yes/on`` or ``0/false/no/off`` (any case).

    Unset or empty gives ``default``; any other value warns (naming the variable and what it
    accepts) and gives ``default`` too -- a setting never breaks ``import tinygrad_cnn``."""
    value = _env(name)
    if value is None:
        return default
    if value.lower() in TRUE_WORDS:
        return True
    if value.lower() in FALSE_WORDS:
        return False
    warnings.warn(f"{name}={os.environ[name]!r} is not a boolean; it accepts "
                  f"{'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)} (any case). Using the "
                  f"default, {'on' if default else 'off'}.", RuntimeWarning,
                  stacklevel=_caller_outside())
    return default


def _caller_outside() -> int:
    """The warnings stacklevel of the first frame outside this package (at import time: the
    user's ``import tinygrad_cnn`` line, not a line of ours that looks like a traceback)."""
    frame, level = sys._getframe(2), 2
    while frame is not None:
        internal = "importlib" in frame.f_code.co_filename and "_bootstrap" in \
            frame.f_code.co_filename  # (warnings does not count import machinery frames)
        if not internal and not frame.f_globals.get("__name__", "").startswith("tinygrad_cnn"):
            break
        frame, level = frame.f_back, level + (not internal)
    return level


def env_int(name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer environment variable ``>= minimum`` (and ``<= maximum`` when given). Unset or
    empty gives ``default``; any other value (``abc``, ``2.5``, ``0``, too big) warns, naming the
    variable and what it accepts, and gives ``default``."""
    value = _env(name)
    if value is None:
        return default
    # (ASCII digits only: int() also takes "1_0" and full-width digits)
    number = int(value.strip()) if re.fullmatch(r"\s*[+-]?[0-9]+\s*", value, re.ASCII) else None
    if number is None or number < minimum or (maximum is not None and number > maximum):
        accepts = f"an integer >= {minimum}" + ("" if maximum is None else f" (at most {maximum})")
        warnings.warn(f"{name}={os.environ[name]!r} is not valid; it accepts {accepts}. Using "
                      f"the default, {default}.", RuntimeWarning, stacklevel=_caller_outside())
        return default
    return number


@functools.cache
def _libc_function(name: str) -> Any:
    """A function of glibc, or ``None`` where the C library is not glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL("libc.so.6"), name)
    except (OSError, AttributeError):  # not glibc (musl, ...)
        return None


def tune_malloc() -> bool:
    """Make glibc's malloc keep and reuse the multi-megabyte blocks a training step frees.

    By default glibc returns freed memory at the top of its heap to the OS as soon as more than
    twice the current mmap threshold is free there, and maps fresh pages for the next step's
    temporaries: ~550 page faults, about 3 ms, per LeNet-5 step. Fixing the mmap threshold at
    32 MiB and the trim threshold at 256 MiB keeps those pages (the process's peak memory does not
    change; it is just not handed back between steps; :mod:`tinygrad_cnn.workspace` hands it back
    with :func:`trim_malloc` when the workload changes). Called once when tinygrad_cnn is imported;
    ``TINYGRAD_CNN_TUNE_MALLOC=0`` (or ``false``/``no``/``off``) leaves malloc alone. Returns
    whether it took effect.
    """
    if not env_flag("TINYGRAD_CNN_TUNE_MALLOC", True):
        return False
    mallopt = _libc_function("mallopt")
    if mallopt is None:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 256 << 20))


def trim_malloc() -> bool:
    """Give the free memory malloc keeps back to the OS (glibc's ``malloc_trim(0)``; a no-op
    elsewhere). Returns whether any memory was released."""
    trim = _libc_function("malloc_trim")
    return bool(trim(0)) if trim is not None else False


def type_name(value: Any) -> str:
    """``value``'s type as a user reads it in an error: ``Tensor`` for ours, ``torch.Tensor``
    (module and name) for another library's, so that "must be a Tensor, got Tensor" never
    happens."""
    kind = type(value)
    module = kind.__module__.split(".")[0]
    if module in ("builtins", "tinygrad_cnn"):
        return kind.__name__
    return f"{module}.{kind.__qualname__}"


class ArgumentValueError(ValueError, RuntimeError):
    """A wrong shape or argument value: a ValueError, the package's rule (see the README's
    "Errors"), and a RuntimeError, as PyTorch raises it, so code ported from PyTorch that catches
    RuntimeError still catches it."""


class ArgumentTypeError(TypeError, RuntimeError):
    """A wrong argument type or dtype: a TypeError, the package's rule, and PyTorch's
    RuntimeError (see :class:`ArgumentValueError`)."""


class OutOfMemoryError(MemoryError, RuntimeError):
    """An op's result too large for memory (or for numpy's sizes): a MemoryError, as numpy
    raises it, and the RuntimeError PyTorch's CPU allocator raises ("not enough memory"), with
    the op named."""


# numpy's messages for a result past its largest size
_NUMPY_TOO_BIG = re.compile(r"array is too big|Maximum allowed size exceeded|iterator is too large")


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is numpy running out of memory (or of sizes) -- not yet named by us."""
    return (isinstance(exc, MemoryError) and not isinstance(exc, OutOfMemoryError)) or (
        type(exc) is ValueError and _NUMPY_TOO_BIG.search(str(exc)) is not None)


def no_memory(name: str, exc: BaseException) -> OutOfMemoryError:
    """The error for numpy's ``MemoryError`` (or too-big ``ValueError``) ``exc`` in ``name``."""
    return OutOfMemoryError(f"{name}: not enough memory for the result ({exc}); use smaller "
                            "inputs, a smaller batch, or split the work")


def named_memory_errors(fn: Any) -> Any:
    """``fn`` (a factory: ``zeros``, ``randn``, ...) raising :class:`OutOfMemoryError` named
    after it where numpy runs out of memory, as the ops do."""

    @functools.wraps(fn)
    def factory(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (MemoryError, ValueError) as exc:
            if out_of_memory(exc):
                raise no_memory(fn.__name__, exc) from None
            raise

    return factory


class ArgumentIndexError(RuntimeError):
    """An index value out of range where PyTorch raises RuntimeError (``gather``'s,
    ``scatter``'s and ``take_along_dim``'s index, ``kthvalue``'s k). Not an IndexError: Python's
    sequence protocol reads an IndexError out of ``__getitem__`` as the end of the data, so a
    dataset whose items gather with a bad index ended early without a word (t163)."""


def new_locks_after_fork(namespace: dict[str, Any], *names: str) -> None:
    """Give a forked child (a DataLoader worker) new locks under ``names`` in a module's
    ``namespace`` (its ``globals()``): a lock a thread of the parent held when it forked stays
    held in the child for good (a worker hung in one_blas_thread while the parent trained in
    another thread)."""
    def renew() -> None:
        for name in names:
            namespace[name] = threading.Lock()

    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=renew)
