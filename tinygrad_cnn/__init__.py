"""tinygrad_cnn: a small, readable, fast autograd engine for convolutional networks, on numpy.

>>> from tinygrad_cnn import Tensor
>>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([[2., 4.],
        [6., 8.]])
"""

import sys as _sys

from tinygrad_cnn import _start

if _start.run_as_main(_sys):  # python -m tinygrad_cnn: a Ctrl-C while importing is one line
    _start.quiet_interrupts()

import builtins  # (``bool`` and ``int`` here are dtypes, as ``torch.bool``)
import numbers
import operator
import warnings
from typing import Any

import numpy as np

from tinygrad_cnn import cuda, linalg
from tinygrad_cnn import parallel as _parallel
from tinygrad_cnn.autograd import (
    AnomalyError,
    Context,
    Function,
    detect_anomaly,
    enable_grad,
    grad,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    keep_inputs,
    no_grad,
    once_differentiable,
    set_anomaly_enabled,
    set_detect_anomaly,
    set_grad_enabled,
)
from tinygrad_cnn.backend import (
    ArgumentIndexError,
    ArgumentTypeError,
    ArgumentValueError,
    OutOfMemoryError,
    device,
    is_available,
    tune_malloc,
)
from tinygrad_cnn.functions import *  # noqa: F403 (sin, einsum, ...: PyTorch's top-level math)
from tinygrad_cnn.functions import __all__ as _functions
from tinygrad_cnn.functions import _tensor_first
from tinygrad_cnn.gradcheck import GradcheckError, check_grads, gradcheck, gradgradcheck
from tinygrad_cnn.interop import from_dlpack, from_numpy
from tinygrad_cnn.layout import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    memory_format,
    preserve_format,
    strided,
)
from tinygrad_cnn.ops.indexing import (
    index_select,
    masked_fill,
    nonzero,
    scatter,
    scatter_add,
    take_along_dim,
)
from tinygrad_cnn.ops.shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    broadcast_tensors,
    broadcast_to,
    cartesian_prod,
    chunk,
    column_stack,
    diag_embed,
    diagonal,
    dstack,
    flip,
    hstack,
    meshgrid,
    movedim,
    narrow,
    ravel,
    repeat_interleave,
    roll,
    rot90,
    select,
    split,
    swapaxes,
    swapdims,
    tile,
    trace,
    tril,
    triu,
    unbind,
    vstack,
)
from tinygrad_cnn.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)
from tinygrad_cnn.sampling import multinomial, normal, randint_like
from tinygrad_cnn.serialization import CheckpointError, load, save
from tinygrad_cnn.tensor import (
    Size,
    Tensor,
    arange,
    as_tensor,
    can_cast,
    cat,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    isclose,
    linspace,
    logspace,
    ones,
    ones_like,
    promote_types,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    result_type,
    set_printoptions,
    stack,
    tensor,
    tril_indices,
    triu_indices,
    where,
    zeros,
    zeros_like,
)

# PyTorch's TypeError for a list or an array where a Tensor goes first (not an AttributeError from
# inside); the ones taking several tensors (atleast_*, *stack, broadcast_tensors) stay as they are
(index_select, masked_fill, nonzero, scatter, scatter_add, take_along_dim, chunk, diag_embed,
 diagonal, flip, movedim, narrow, ravel, repeat_interleave, roll, rot90, select, split, swapaxes,
 swapdims, tile, trace, tril, triu, unbind, broadcast_to) = map(_tensor_first, (
    index_select, masked_fill, nonzero, scatter, scatter_add, take_along_dim, chunk, diag_embed,
    diagonal, flip, movedim, narrow, ravel, repeat_interleave, roll, rot90, select, split,
    swapaxes, swapdims, tile, trace, tril, triu, unbind, broadcast_to))

# PyTorch computes with inf and NaN silently, as IEEE arithmetic does; numpy warns at every ufunc
# that makes one ("invalid value encountered in multiply"). The ops are numpy calls in this
# package, so those numpy attributes to its modules are ignored (its own warnings are not) -- a
# user's own numpy code still warns, and a filter the user places later (``warnings.simplefilter``)
# still wins.
_NUMPY_ARITHMETIC_WARNINGS = (r"(invalid value|divide by zero|overflow|underflow) encountered"
                             r"|Mean of empty slice|Degrees of freedom <= 0")
# (not those of ``_forward_array``: its ``__array_ufunc__`` runs a user's Function's forward,
# whose numpy warnings are theirs -- they were dropped, t154)
warnings.filterwarnings("ignore", _NUMPY_ARITHMETIC_WARNINGS, RuntimeWarning,
                        r"tinygrad_cnn(?!\._forward_array)(\.|$)")

float16, float32, float64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")
int8, int16, int32, int64 = np.dtype("int8"), np.dtype("int16"), np.dtype("int32"), np.dtype("int64")
uint8, bool_ = np.dtype("uint8"), np.dtype("bool")
# PyTorch's other names (tg.long, tg.float, ...); they shadow builtins in this module only, which
# uses none of them below, and stay out of __all__ so that a star import cannot shadow yours
half, double, short, long = float16, float64, int16, int64
float, int, bool = float32, int32, bool_

__version__ = "0.1.0"

concat = concatenate = cat  # PyTorch's other names


def get_default_dtype() -> np.dtype:
    """float32: the dtype of Python floats made into tensors (fixed here)."""
    return float32


def set_default_dtype(d: Any) -> None:
    """PyTorch's switch of the default float dtype: here the default is float32, fixed, so
    float32 is accepted (nothing changes) and any other dtype is a clear error, not a silent
    float32 (give ``dtype=tg.float64`` to the factories, or ``.double()`` tensors and modules)."""
    try:
        dt = np.dtype(d)
    except TypeError:
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {d!r}") from None
    if dt.kind != "f":  # (PyTorch's TypeError)
        raise TypeError(f"set_default_dtype({dt}): only floating-point types are supported as "
                        "the default type")
    if dt != float32:
        how = ".double()" if dt == np.float64 else ".half()"
        raise NotImplementedError(
            f"set_default_dtype({dt}): the default float dtype is float32, fixed in tinygrad_cnn; "
            f"make {dt} tensors with dtype=tinygrad_cnn.{dt} (or {how}), and model{how} for a "
            "module's parameters")


class finfo:  # noqa: N801 (PyTorch's name)
    """Limits of a float dtype, as ``torch.finfo``: ``bits``, ``eps``, ``max``, ``min``,
    ``tiny`` (= ``smallest_normal``), ``resolution`` as Python numbers, ``dtype`` its name;
    float32 by default."""

    def __init__(self, type: Any = None) -> None:
        dt = np.dtype(float32 if type is None else type)
        if dt.kind != "f":
            raise TypeError(f"finfo: {dt} is not a floating point dtype; use iinfo for integers")
        info = np.finfo(dt)
        self.bits, self.dtype = builtins.int(info.bits), str(dt)
        self.eps, self.max = builtins.float(info.eps), builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.smallest_normal)
        self.resolution = 10.0 ** -builtins.int(info.precision)  # (PyTorch's: 0.001, not half's)

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, "
                f"eps={self.eps}, smallest_normal={self.smallest_normal}, tiny={self.tiny}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 (PyTorch's name)
    """Limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``min``, ``max`` as
    Python ints, ``dtype`` its name."""

    def __init__(self, type: Any) -> None:
        dt = np.dtype(type)
        if dt.kind not in "iu":
            raise TypeError(f"iinfo: {dt} is not an integer dtype (as PyTorch: not bool); use "
                            "finfo for floats")
        info = np.iinfo(dt)
        self.bits, self.dtype = builtins.int(info.bits), str(dt)
        self.min, self.max = builtins.int(info.min), builtins.int(info.max)

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


# `import tinygrad_cnn as torch; torch.nn.Linear; torch.optim.SGD` as in PyTorch: the layers and
# optimisers sit above the tensor (they import it), so they come last
from tinygrad_cnn import nn as nn  # noqa: E402  (re-exported)
from tinygrad_cnn import optim as optim  # noqa: E402

# PyTorch's import path ``from torch.autograd.gradcheck import GradcheckError`` (autograd is a
# module here, so the package is found under that name only in sys.modules)
_sys.modules.setdefault("tinygrad_cnn.autograd.gradcheck", _sys.modules["tinygrad_cnn.gradcheck"])
tune_malloc()  # keep freed step buffers for reuse; TINYGRAD_CNN_TUNE_MALLOC=0 turns it off

__all__ = [
    "AnomalyError",
    "ArgumentIndexError",
    "ArgumentTypeError",
    "OutOfMemoryError",
    "ArgumentValueError",
    "Size",
    "channels_last",
    "channels_last_3d",
    "contiguous_format",
    "memory_format",
    "preserve_format",
    "strided",
    "concat",
    "concatenate",
    "finfo",
    "get_default_dtype",
    "set_default_dtype",
    "iinfo",
    "CheckpointError",
    "Context",
    "Function",
    "GradcheckError",
    "Tensor",
    "arange",
    "as_tensor",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "block_diag",
    "broadcast_tensors",
    "broadcast_to",
    "cartesian_prod",
    "cat",
    "chunk",
    "column_stack",
    "cuda",
    "detect_anomaly",
    "device",
    "diag_embed",
    "diagonal",
    "dstack",
    "empty",
    "empty_like",
    "enable_grad",
    "eye",
    "flip",
    "from_dlpack",
    "from_numpy",
    "full",
    "full_like",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "hstack",
    "index_select",
    "isclose",
    "is_available",
    "is_anomaly_check_nan_enabled",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "is_inference_mode_enabled",
    "keep_inputs",
    "check_grads",
    "linspace",
    "linalg",
    "load",
    "manual_seed",
    "Generator",
    "default_generator",
    "get_rng_state",
    "initial_seed",
    "seed",
    "set_rng_state",
    "masked_fill",
    "meshgrid",
    "movedim",
    "narrow",
    "no_grad",
    "nonzero",
    "once_differentiable",
    "ones",
    "ones_like",
    "promote_types",
    "can_cast",
    "logspace",
    "tril_indices",
    "triu_indices",
    "multinomial",
    "normal",
    "rand",
    "rand_like",
    "randint",
    "randint_like",
    "randn",
    "randn_like",
    "randperm",
    "ravel",
    "repeat_interleave",
    "result_type",
    "set_printoptions",
    "roll",
    "rot90",
    "save",
    "scatter",
    "scatter_add",
    "select",
    "set_anomaly_enabled",
    "set_detect_anomaly",
    "set_grad_enabled",
    "split",
    "stack",
    "swapaxes",
    "swapdims",
    "take_along_dim",
    "tensor",
    "tile",
    "trace",
    "tril",
    "triu",
    "unbind",
    "vstack",
    "where",
    "zeros",
    "zeros_like",
    "set_num_threads",
    "get_num_threads",
    "use_deterministic_algorithms",
    "are_deterministic_algorithms_enabled",
    "is_deterministic_algorithms_warn_only_enabled",
    "set_float32_matmul_precision",
    "get_float32_matmul_precision",
    *_functions,
]


def set_num_threads(n: int) -> None:
    """How many threads the ops split their big jobs over (PyTorch's name; the default is the
    number of cores, or ``TINYGRAD_CNN_THREADS``); 1 runs everything on the calling thread, with
    OpenBLAS on one thread too."""
    # (PyTorch's errors are RuntimeErrors: these are that too -- t197)
    if isinstance(n, builtins.bool) or not isinstance(n, numbers.Integral):
        raise ArgumentTypeError(f"set_num_threads: expected a positive integer, got {n!r}")
    if not 1 <= n <= _parallel.MAX_THREADS:
        raise ArgumentValueError(f"set_num_threads: expected a positive integer (at most "
                         f"{_parallel.MAX_THREADS}: more threads than cores only slow the ops "
                         f"down), got {n}")
    _parallel.set_threads(operator.index(n))


_DETERMINISTIC = {"mode": False, "warn_only": False}
_MATMUL_PRECISION = {"value": "highest"}


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """PyTorch's switch, kept for ported code: every CPU op here is deterministic already (numpy,
    a fixed summation order for a given thread count), so it only records ``mode``."""
    if not isinstance(mode, builtins.bool):
        raise TypeError(f"use_deterministic_algorithms(): mode must be a bool, got "
                        f"{type(mode).__name__}")
    _DETERMINISTIC.update(mode=mode, warn_only=builtins.bool(warn_only))


def are_deterministic_algorithms_enabled() -> bool:
    """What :func:`use_deterministic_algorithms` last set (the ops are deterministic anyway)."""
    return _DETERMINISTIC["mode"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    """Whether ``use_deterministic_algorithms(True, warn_only=True)`` is in force (PyTorch's name)."""
    return _DETERMINISTIC["warn_only"]


def set_float32_matmul_precision(precision: str) -> None:
    """PyTorch's switch, kept for ported code: float32 matmuls here are numpy's (OpenBLAS), always
    at full float32 precision, whatever is set ("highest", "high" or "medium")."""
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"set_float32_matmul_precision: invalid precision {precision!r}; "
                           "use 'highest', 'high' or 'medium'")
    _MATMUL_PRECISION["value"] = precision


def get_float32_matmul_precision() -> str:
    """What :func:`set_float32_matmul_precision` last set ("highest" by default)."""
    return _MATMUL_PRECISION["value"]


def get_num_threads() -> int:
    """The number of threads :func:`set_num_threads` set."""
    return _parallel.threads()


from tinygrad_cnn import aliases as _aliases  # noqa: E402  (torch.conv2d, ...: after nn)
from tinygrad_cnn.aliases import *  # noqa: E402, F403
from tinygrad_cnn.tensor import LEGACY_TYPES as _LEGACY_TYPES  # noqa: E402

globals().update(_LEGACY_TYPES)  # FloatTensor, LongTensor, ... (PyTorch's legacy types)
from tinygrad_cnn import _out  # noqa: E402  (out=: PyTorch's keyword on these functions)

for _name in (*_out.COMPUTED, *_out.FACTORIES):  # (functions.py's have it already)
    if _name in globals() and not hasattr(globals()[_name], "__wrapped_out__"):
        globals()[_name] = _out.with_out(globals()[_name], _name, _name in _out.FACTORIES)
del _name
from tinygrad_cnn import amp  # noqa: E402  (and tg.cuda.amp, PyTorch's older spelling)
from tinygrad_cnn._missing import install_finder as _missing_install_finder  # noqa: E402
from tinygrad_cnn.amp import autocast  # noqa: E402

#: the class of every dtype here (numpy's): ``isinstance(x.dtype, tinygrad_cnn.dtype)``
dtype = np.dtype
__all__ += [*_LEGACY_TYPES, "dtype", *_aliases.__all__, "amp", "autocast"]


_missing_install_finder()  # (`import tinygrad_cnn.jit`: the way out, not a bare "No module")


def _share_docstrings() -> None:
    """A function here and the Tensor method of the same name document each other where only one
    has a docstring (``help(tg.clamp)`` showed a bare signature: t185)."""
    for name in __all__:
        fn, method = globals().get(name), getattr(Tensor, name, None)
        if not callable(fn) or not callable(method) or isinstance(fn, type):
            continue
        docs = [(getattr(f, "__doc__", None) or "").strip() for f in (fn, method)]
        if (docs[0] == "") == (docs[1] == ""):  # (both or neither; `bool` is a dtype here)
            continue
        target = fn if not docs[0] else method
        try:
            target.__doc__ = fn.__doc__ if docs[0] else method.__doc__
        except (AttributeError, TypeError):  # (a builtin or a bound method: left as it is)
            pass


_share_docstrings()


def __getattr__(name: str) -> Any:
    # ``tg.utils`` (``torch.utils.data``'s place), ``tg.data``, ``tg.models``: imported on first
    # use (the data package is not needed to compute)
    if name in ("utils", "data", "models", "special", "distributed", "backends", "testing", "func"):
        import importlib

        return importlib.import_module(f"tinygrad_cnn.{name}")
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
