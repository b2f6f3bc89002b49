"""Reusable scratch buffers for the large arrays of convolutions.

A training step makes the same multi-megabyte temporaries every time (im2col columns, GEMM
outputs). Fresh ones cost page faults: the allocator maps new pages for each and the kernel zeroes
them, which on our 2-core machines nearly doubles a LeNet-5 step in a new process and costs ~10 ms
per 75 MB column matrix in any process. :func:`empty` hands out a cached buffer of the same shape
and dtype when nothing else holds it any more -- CPython's reference count says so -- and makes a
new one otherwise. Small arrays and non-numpy arrays (CuPy has its own memory pool) bypass it.

What is kept is bounded by what recent steps used, counted in requests (calls of :func:`empty`
for arrays of at least ``MIN_BYTES``):

- A shape is cached only from its second request on: a shape asked for once (one image size of an
  inference sweep, a one-off batch) is an ordinary array, freed with its last user.
- The pool learns how far apart requests for the same shape come -- a training step's length,
  about 14 requests for LeNet-5 -- and keeps a window of twice that (at least ``MIN_WINDOW``; a
  longer gap seen once widens it for a while, then it shrinks back by ``WINDOW_DECAY`` per
  request). A free buffer not asked for within the window is dropped: after a step of another
  shape (the test-set evaluation, a new image size) the old buffers go.
- Whenever ``TRIM_BYTES`` of uncached or dropped buffers have gone through malloc, its free memory
  is handed back to the OS (:func:`~tinygrad_cnn.backend.trim_malloc`; the tuning of
  :func:`~tinygrad_cnn.backend.tune_malloc` would keep it otherwise).
- At most ``MAX_CACHED_BYTES`` are held in any case. When an inference call of a whole model (a
  ``Module`` under ``no_grad``) returns, the buffers of shapes it was the first to ask for go
  until at most ``IDLE_BYTES`` are held (:func:`release_new`): nothing else would evict them
  until the next call; the shapes of a steady loop stay.

In steady training every request finds its buffer and nothing is dropped; :func:`clear` drops
everything at once, :func:`cached_bytes` says how much is held.
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np

from tinygrad_cnn.backend import new_locks_after_fork, trim_malloc

MIN_BYTES = 1 << 18  # below this, malloc's own free lists already avoid page faults
MAX_CACHED_BYTES = 1 << 30
IDLE_BYTES = 64 << 20  # see release_new() (LeNet-5 inference at batch 1000 caches ~30 MB)
MIN_WINDOW = 8  # requests; a free buffer idle for longer than the window is dropped
WINDOW_DECAY = 1 - 1 / 256  # per request: a long gap seen once is forgotten after ~1000 requests
SWEEP_EVERY = 64  # requests between two looks for idle buffers (also at every new buffer)
TRIM_BYTES = 64 << 20  # uncached or dropped bytes after which malloc's free memory goes back
MAX_SHAPES_REMEMBERED = 4096

_Key = tuple[tuple[int, ...], np.dtype]
# key -> [request number of the key's last request, [[buffer, request number of its last use], ...]]
_slots: dict[_Key, list[Any]] = {}
_lock = threading.Lock()
new_locks_after_fork(globals(), "_lock")
_cached_bytes = 0
_requests = 0
_window = float(MIN_WINDOW)
_untrimmed_bytes = 0
# references to a pooled buffer while it is free: its entry, the local name, getrefcount's argument
_FREE_REFS = 3


def empty(shape: tuple[int, ...], dtype: Any, xp: Any = np) -> Any:
    """An uninitialised array, reused from the pool when one of this shape and dtype is free."""
    global _cached_bytes, _requests, _window, _untrimmed_bytes
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    nbytes = dtype.itemsize * math.prod(shape)
    if xp is not np or nbytes < MIN_BYTES:
        return xp.empty(shape, dtype=dtype)
    key = (shape, dtype)
    with _lock:
        _requests += 1
        now = _requests
        window = _window * WINDOW_DECAY
        slot = _slots.get(key)
        if slot is None:
            slot = _slots[key] = [now, [], now]  # (last request, buffers, first request)
            last = None
        else:
            last = slot[0]
            slot[0] = now
            if 2 * (now - last) > window:
                window = 2 * (now - last)
        _window = window if window > MIN_WINDOW else MIN_WINDOW
        for entry in slot[1]:
            buf = entry[0]
            if sys.getrefcount(buf) == _FREE_REFS:
                entry[1] = now
                if now % SWEEP_EVERY == 0:
                    _sweep(now)
                return buf
        arr = np.empty(shape, dtype=dtype)
        if last is not None and _cached_bytes + nbytes <= MAX_CACHED_BYTES:
            slot[1].append([arr, now])
            _cached_bytes += nbytes
        else:  # a shape's first request (or a full pool): an ordinary array
            _untrimmed_bytes += nbytes
        _sweep(now)
        return arr


def _sweep(now: int) -> None:
    """Drop the free buffers not used within the window, and forget the oldest shapes when too
    many are remembered (the caller holds ``_lock``)."""
    global _untrimmed_bytes
    for slot in _slots.values():
        if slot[1]:
            _untrimmed_bytes += _drop_free(slot, lambda entry: now - entry[1] > _window)
    if len(_slots) > MAX_SHAPES_REMEMBERED:
        for key in sorted((k for k, v in _slots.items() if not v[1]),
                          key=lambda k: _slots[k][0])[:len(_slots) // 2]:
            del _slots[key]
    if _untrimmed_bytes >= TRIM_BYTES:
        _untrimmed_bytes = 0
        trim_malloc()


def requests() -> int:
    """How many requests the pool has had (a clock for :func:`release_new`)."""
    return _requests


def release_new(since: int, limit: int | None = None) -> None:
    """Drop the free buffers of shapes first asked for after request ``since`` until at most
    ``limit`` bytes (``IDLE_BYTES``) stay cached, and hand malloc's free memory back.
    ``Module.__call__`` calls it when an inference call of a whole model returns: a call at a new
    image size left its buffers cached with nothing to evict them (ResNet-8 at 124x124: 609 MB
    after an inference sweep). Shapes seen before the call -- a steady loop's, a training step's
    while a teacher model or a validation batch runs between steps -- are kept."""
    limit = IDLE_BYTES if limit is None else limit
    if _cached_bytes <= limit:
        return
    dropped = 0
    with _lock:
        for slot in _slots.values():
            if slot[1] and slot[2] > since:
                dropped += _drop_free(slot, lambda entry: _cached_bytes > limit)
    if dropped:
        trim_malloc()


def _drop_free(slot: list[Any], drop: Any) -> int:
    """Drop the free buffers of ``slot`` for which ``drop(entry)`` holds (asked buffer by buffer,
    so a condition on the pool's size sees each drop); returns the bytes dropped (the caller
    holds ``_lock``)."""
    global _cached_bytes
    dropped = 0
    keep = []
    for entry in slot[1]:
        buf = entry[0]
        if sys.getrefcount(buf) == _FREE_REFS and drop(entry):
            _cached_bytes -= buf.nbytes
            dropped += buf.nbytes
        else:
            keep.append(entry)
        del buf
    slot[1] = keep
    return dropped


def zeros(shape: tuple[int, ...], dtype: Any, xp: Any = np) -> Any:
    """Like :func:`empty`, filled with zeros."""
    arr = empty(shape, dtype, xp)
    arr.fill(0)
    return arr


def clear() -> None:
    """Drop every cached buffer (those still in use stay alive with their users) and forget the
    shapes seen so far -- and the request clock, so that the pool behaves after a ``clear()`` as
    in a new process (its sweeps run every ``SWEEP_EVERY`` requests: with the clock kept, where
    they fell depended on all the requests before, and a test of the pool on the process's
    history)."""
    global _cached_bytes, _window, _untrimmed_bytes, _requests
    with _lock:
        _slots.clear()
        _cached_bytes = 0
        _window = float(MIN_WINDOW)
        _untrimmed_bytes = 0
        _requests = 0
    trim_malloc()


def cached_bytes() -> int:
    """Bytes held by the pool."""
    return _cached_bytes
