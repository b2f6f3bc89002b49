"""Reusable scratch buffers for the large arrays of convolutions.

A training step makes the same multi-megabyte temporaries every time (im2col columns, GEMM
outputs). Fresh ones cost page faults: the allocator maps new pages for each and the kernel zeroes
them, which on our 2-core machines nearly doubles a LeNet-5 step in a new process and costs ~10 ms
per 75 MB column matrix in any process. :func:`empty` hands out a cached buffer of the same shape
and dtype when nothing else holds it any more -- CPython's reference count says so -- and makes a
new one otherwise. Small arrays and non-numpy arrays (CuPy has its own memory pool) bypass it.
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np

MIN_BYTES = 1 << 18  # below this, malloc's own free lists already avoid page faults
MAX_CACHED_BYTES = 1 << 30

_pool: dict[tuple[tuple[int, ...], np.dtype], list[np.ndarray]] = {}
_lock = threading.Lock()
_cached_bytes = 0
# references to a pooled buffer while it is free: the pool's list, the loop variable, getrefcount's
# own argument
_FREE_REFS = 3


def empty(shape: tuple[int, ...], dtype: Any, xp: Any = np) -> Any:
    """An uninitialised array, reused from the pool when one of this shape and dtype is free."""
    global _cached_bytes
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    nbytes = dtype.itemsize * math.prod(shape)
    if xp is not np or nbytes < MIN_BYTES:
        return xp.empty(shape, dtype=dtype)
    key = (shape, dtype)
    with _lock:
        buffers = _pool.setdefault(key, [])
        for buf in buffers:
            if sys.getrefcount(buf) == _FREE_REFS:
                return buf
        arr = np.empty(shape, dtype=dtype)
        if _cached_bytes + nbytes <= MAX_CACHED_BYTES:
            buffers.append(arr)
            _cached_bytes += nbytes
        return arr


def zeros(shape: tuple[int, ...], dtype: Any, xp: Any = np) -> Any:
    """Like :func:`empty`, filled with zeros."""
    arr = empty(shape, dtype, xp)
    arr.fill(0)
    return arr


def clear() -> None:
    """Drop every cached buffer (those still in use stay alive with their users)."""
    global _cached_bytes
    with _lock:
        _pool.clear()
        _cached_bytes = 0


def cached_bytes() -> int:
    """Bytes held by the pool."""
    return _cached_bytes
