"""Direct calls of the GEMM in the OpenBLAS that numpy loaded, for what ``numpy.matmul`` cannot do.

``numpy.matmul`` always overwrites its output. A convolution computed as one GEMM per kernel offset
(``ops/conv_arrays.py``, the "shifted" way) must *add* the products of all offsets into one output --
BLAS's ``beta = 1`` -- or pay a pass over the output per offset. :func:`gemm` is that call:
``C = alpha * op(A) @ op(B) + beta * C`` on raw pointers into numpy buffers, with leading
dimensions, so its operands may be shifted windows of a larger array. ctypes releases the GIL for
the call, so the batch chunks of ``parallel.run_chunks`` still run on all cores.

:func:`available` says whether a float dtype can use it: only where numpy's BLAS is an OpenBLAS
whose ``cblas_sgemm``/``cblas_dgemm`` this module found and checked on a small product at first
use; everywhere else (MKL, Accelerate, CuPy, float16) the callers keep their numpy ways.

Integer arguments are passed as 64-bit values: right for the 64-bit-integer builds numpy ships
(``scipy_cblas_sgemm64_``), and for 32-bit-integer builds too on 64-bit platforms, where each
argument fills a whole register or 8-byte stack slot and the callee reads its low half. The check
at first use would catch anything else (and the module then stays off).
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from typing import Any

import numpy as np

from tinygrad_cnn.backend import new_locks_after_fork

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112

# symbol names, most specific first: numpy's wheels (scipy-openblas, 64-bit ints), the 64-bit
# suffixed builds of Linux distributions, plain OpenBLAS
_NAMES = ("scipy_cblas_{}gemm64_", "cblas_{}gemm64_", "scipy_cblas_{}gemm", "cblas_{}gemm")

_lock = threading.Lock()
new_locks_after_fork(globals(), "_lock")
_gemms: dict[np.dtype, Any] | None = None  # dtype -> (gemm, omatcopy), once looked for
_enabled = os.environ.get("TINYGRAD_CNN_DIRECT_BLAS", "1") != "0"


def _library_paths() -> list[str]:
    """Shared objects with "openblas" in their name mapped into this process (numpy's own)."""
    try:
        with open("/proc/self/maps") as f:
            return sorted({line.split()[-1] for line in f
                           if "openblas" in line.lower() and ".so" in line})
    except OSError:  # no /proc (macOS, Windows): ask the loaded numpy's library folder instead
        libs = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
        if not os.path.isdir(libs):
            return []
        return sorted(os.path.join(libs, f) for f in os.listdir(libs) if "openblas" in f.lower())


def _bind(lib: Any, prefix: str, real: Any) -> Any:
    for pattern in _NAMES:
        fn = getattr(lib, pattern.format(prefix), None)
        if fn is not None:
            i64 = ctypes.c_int64
            fn.argtypes = [i64, i64, i64, i64, i64, i64, real, ctypes.c_void_p, i64,
                           ctypes.c_void_p, i64, real, ctypes.c_void_p, i64]
            fn.restype = None
            return fn
    return None


def _bind_omatcopy(lib: Any, prefix: str, real: Any) -> Any:
    for pattern in _NAMES:
        fn = getattr(lib, pattern.format(prefix).replace("gemm", "omatcopy"), None)
        if fn is not None:
            i64 = ctypes.c_int64
            fn.argtypes = [i64, i64, i64, i64, real, ctypes.c_void_p, i64, ctypes.c_void_p, i64]
            fn.restype = None
            return fn
    return None


def _omatcopy_works(fn: Any, dtype: Any) -> bool:
    """A 2x3 block of a wider matrix, transposed into a 3x2 block of a wider one."""
    a = np.arange(1, 9, dtype=dtype).reshape(2, 4)
    b = np.zeros((3, 3), dtype=dtype)
    fn(ROW_MAJOR, TRANS, 2, 3, 1.0, a.ctypes.data, 4, b.ctypes.data, 3)
    return bool(np.array_equal(b[:, :2], a[:, :3].T) and not b[:, 2].any())


def _works(fn: Any, dtype: Any) -> bool:
    """A 2x3 @ 3x2 product with a transposed, strided operand and beta = 1, against numpy."""
    a = np.arange(1, 7, dtype=dtype).reshape(2, 3)
    bt = np.zeros((2, 5), dtype=dtype)  # B^T in the first 3 columns of a wider buffer
    bt[:, :3] = [[1, -1, 2], [0, 3, 1]]
    c = np.full((2, 2), 0.5, dtype=dtype)
    want = a @ bt[:, :3].T + 0.5
    fn(ROW_MAJOR, NO_TRANS, TRANS, 2, 2, 3, 1.0, a.ctypes.data, 3, bt.ctypes.data, 5, 1.0,
       c.ctypes.data, 2)
    return bool(np.array_equal(c, want))


def _find() -> dict[np.dtype, tuple[Any, Any]]:
    if not _enabled or sys.maxsize <= 2**32:
        return {}
    for path in _library_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        found = {}
        for dtype, prefix, real in ((np.float32, "s", ctypes.c_float),
                                    (np.float64, "d", ctypes.c_double)):
            fn, copy = _bind(lib, prefix, real), _bind_omatcopy(lib, prefix, real)
            if fn is not None and copy is not None and _works(fn, dtype) \
                    and _omatcopy_works(copy, dtype):
                found[np.dtype(dtype)] = (fn, copy)
        if found:
            return found
    return {}


def _table() -> dict[np.dtype, tuple[Any, Any]]:
    global _gemms
    if _gemms is None:
        with _lock:
            if _gemms is None:
                _gemms = _find()
    return _gemms


def available(dtype: Any) -> bool:
    """Whether :func:`gemm` can multiply numpy arrays of this dtype."""
    return np.dtype(dtype) in _table()


def gemm(dtype: Any) -> Any:
    """The raw row-major ``?gemm`` for ``dtype``: ``f(ROW_MAJOR, trans_a, trans_b, m, n, k, alpha,
    a_ptr, lda, b_ptr, ldb, beta, c_ptr, ldc)`` computing ``C (m, n) = alpha * op(A) @ op(B) +
    beta * C`` (``op(A)`` is ``(m, k)``, ``op(B)`` is ``(k, n)``; a ``ld`` is the element
    distance between consecutive rows of the matrix as stored). Only after :func:`available`."""
    return _table()[np.dtype(dtype)][0]


def omatcopy(dtype: Any) -> Any:
    """The raw row-major ``?omatcopy`` for ``dtype``: ``f(ROW_MAJOR, TRANS, rows, cols, alpha,
    a_ptr, lda, b_ptr, ldb)`` writes ``B (cols, rows) = alpha * A.T`` for ``A (rows, cols)`` --
    a blocked transposition, 3-5x faster than numpy's copy of a transposed view once the arrays
    leave the caches. Only after :func:`available`."""
    return _table()[np.dtype(dtype)][1]


def describe() -> str:
    """OpenBLAS's configuration and the kernels it chose for this CPU ("OpenBLAS 0.3.31 ...;
    kernels: SkylakeX"), or why there is none."""
    if not _table():
        return "no OpenBLAS GEMM found (or TINYGRAD_CNN_DIRECT_BLAS=0)"
    for path in _library_paths():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        parts = []
        for what in ("config", "corename"):
            for name in (f"scipy_openblas_get_{what}64_", f"openblas_get_{what}64_",
                         f"scipy_openblas_get_{what}", f"openblas_get_{what}"):
                fn = getattr(lib, name, None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p
                    parts.append(fn().decode(errors="replace").strip())
                    break
        if parts:
            return "; kernels: ".join(parts)
    return "OpenBLAS (no version information)"
