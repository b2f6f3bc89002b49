"""Split a batch over the CPU cores.

OpenBLAS runs a small GEMM (LeNet's are 6x25 by 25x892) on one core and numpy's copies and adds
always run on one core, so a convolution over a batch uses one core of two. :func:`run_chunks`
cuts the batch into one contiguous chunk per core and runs ``fn(start, stop)`` for each in a thread
(numpy and BLAS release the GIL while they work). Meanwhile OpenBLAS is held to one thread per call,
so the two chunks do not fight over the cores. ``TINYGRAD_CNN_THREADS`` sets the number of threads
(an integer from 1 to ``MAX_THREADS``, 1024; default: the number of cores; 1 turns this off; any
other value warns and keeps the default).

OpenBLAS's thread count is one setting for the whole process, so :func:`one_blas_thread` counts
its holders: the first to enter saves the setting and the last to leave restores it, whichever
threads they run on. Two threads training at once therefore leave OpenBLAS as they found it, and
the user's own numpy calls keep OpenBLAS's setting outside our kernels.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_cnn.backend import array_module, env_int, new_locks_after_fork
from tinygrad_cnn.backend import broadcast_shapes as _bshapes

MAX_THREADS = 1024  # more threads than any machine of ours has cores by far; 100,000 cannot start
_threads = env_int("TINYGRAD_CNN_THREADS", min(os.cpu_count() or 1, MAX_THREADS), 1, MAX_THREADS)
_pool: _Pool | None = None
_lock = threading.Lock()
_blas: tuple[Any, Any] | bool | None = False  # False: not looked for yet; None: not found
_hold_lock = threading.Lock()  # guards the two below
_holders = 0  # how many one_blas_thread blocks are open, over all threads
_saved_blas_threads = 0  # OpenBLAS's setting when the first of them opened

MIN_BYTES = 2 << 20  # below ~2 MB of data the thread handoff (25-250 µs) costs more than it saves
SMALL_GEMM_FLOPS = 16_000_000  # below this a GEMM runs on one OpenBLAS thread, see matmul()
CALLER_WEIGHT = 1.25  # the calling thread's share of a split job, against 1 for each pool thread
TINY_GEMM_FLOPS = 1 << 20  # below this a second BLAS thread buys nothing; holding it costs ~3 µs


def threads() -> int:
    """How many threads :func:`run_chunks` uses."""
    return _threads


def set_threads(n: int) -> None:
    """Change the number of threads (1 runs every kernel on the calling thread)."""
    global _threads, _pool
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_THREADS:
        raise ValueError(f"set_threads: n must be an integer >= 1 (at most {MAX_THREADS}), "
                         f"got {n!r}")
    with _lock:
        if int(n) == _threads:  # (nothing to change: the pool, in use by other threads, stays)
            return
        _threads = int(n)
        # the pool is let go, not joined: another thread may be submitting to it right now
        # (its pieces then run on that thread: see _Pool.submit); joining it there, with a
        # Ctrl-C landing in the join, left a dead pool in place for every later op -- t197
        old, _pool = _pool, None
    if old is not None:
        old.close()


class _Piece:
    """One piece of a split job on a pool thread: ``done`` is released when it has run,
    ``finished`` set just before, ``error`` what it raised."""

    __slots__ = ("done", "error", "finished")

    def __init__(self) -> None:
        self.done = threading.Lock()
        self.done.acquire()
        self.finished = False
        self.error: BaseException | None = None


class _Pool:
    """Worker threads fed by a ``SimpleQueue``; each piece's completion is a plain lock that its
    worker releases. Not ``concurrent.futures``: a Ctrl-C that lands while the caller waits on a
    ``Future`` can leave the Future's Condition (an RLock) held, and then the worker that
    finishes the piece blocks on it for good, and so does the interpreter's exit, which joins
    the workers (seen: a ``train`` run stopped by SIGINT that never ended). Here the caller waits
    on a lock it owns alone (see :func:`_wait_all`), and the workers are daemons."""

    def __init__(self, n: int) -> None:
        self.tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.closed = False
        self.gate = threading.Lock()  # (a submission and the closing, one at a time)
        self.workers = [threading.Thread(target=self._work, name=f"tinygrad_cnn_{i}", daemon=True)
                        for i in range(n)]
        for t in self.workers:
            t.start()

    def _work(self) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            fn, s, e, state, piece = task
            try:
                # under the caller's np.errstate (numpy keeps it per thread: a caller that
                # silenced the warnings of inf and NaN silences its pieces too)
                with np.errstate(**state):
                    fn(s, e)
            except BaseException as exc:  # (raised in the caller, after every piece is done)
                piece.error = exc
            finally:
                piece.finished = True
                piece.done.release()
                # (not kept while waiting for the next task: the piece's closure holds the job's
                # arrays -- 432 MB of a 6000x6000 product stayed alive until the next big op)
                task = fn = piece = state = None

    def submit(self, fn: Callable[[int, int], None], s: int, e: int) -> _Piece:
        """Queue ``fn(s, e)`` for a worker; on a pool already closed (``set_num_threads`` in
        another thread let it go: its workers may have ended) run it here, now -- queued there,
        no worker would run it and the caller would wait for good (t197)."""
        piece = _Piece()
        with self.gate:
            if not self.closed:
                self.tasks.put((fn, s, e, np.geterr(), piece))
                return piece
        try:
            fn(s, e)
        except BaseException as exc:  # (raised in the caller after every piece, as a worker's)
            piece.error = exc
        piece.finished = True
        piece.done.release()
        return piece

    def close(self) -> None:
        """Let the workers end once every piece queued so far has run (each takes one ``None``
        after them); later submissions run on their callers."""
        with self.gate:
            self.closed = True
            for _ in self.workers:
                self.tasks.put(None)


def _forget_pool() -> None:
    """In a forked child (a DataLoader worker) the parent's pool threads do not exist: a new
    pool is made on first use; OpenBLAS gets back the setting the parent's holds had saved. (The
    locks are new too, below: one that a thread of the parent held when it forked stays held in
    the child for good -- a worker hung in one_blas_thread while the parent trained in another
    thread.)"""
    global _pool, _holders
    _pool = None
    if _holders:
        _holders = 0
        blas = _openblas()
        if blas:
            blas[0](_saved_blas_threads)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
new_locks_after_fork(globals(), "_lock", "_hold_lock")


def _wait_all(pieces: list[_Piece]) -> None:
    """Wait until every piece has run -- through a Ctrl-C too, which is raised after them (a
    piece still running would write into buffers that the next op reuses). A signal's exception
    can come just after ``acquire`` succeeded: ``finished`` says the piece is done then, where a
    second ``acquire`` would wait for good."""
    interrupted: BaseException | None = None
    for piece in pieces:
        while True:
            try:
                piece.done.acquire()
                break
            except BaseException as exc:  # KeyboardInterrupt, the CLI's SIGTERM
                interrupted = exc
                if piece.finished:
                    break
    if interrupted is not None:
        raise interrupted


def _openblas() -> tuple[Any, Any] | None:
    """``(set_num_threads, get_num_threads)`` of the OpenBLAS that numpy loaded, if any."""
    global _blas
    if _blas is not False:
        return _blas  # type: ignore[return-value]
    _blas = None
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({line.split()[-1] for line in f if "openblas" in line.lower()
                            and ".so" in line})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_",
                     "openblas_set_num_threads64_", "scipy_openblas_set_num_threads"):
            setter = getattr(lib, name, None)
            getter = getattr(lib, name.replace("set_num", "get_num"), None)
            if setter is not None and getter is not None:
                _blas = (setter, getter)
                return _blas
    return None


class _OneBlasThread:
    """The context manager :func:`one_blas_thread` returns (a class: a generator-based one costs
    about a microsecond more per use, and a training step uses it a dozen times)."""

    __slots__ = ()

    def __enter__(self) -> None:
        global _holders, _saved_blas_threads
        blas = _openblas()
        if not blas:
            return
        with _hold_lock:
            if _holders == 0:
                _saved_blas_threads = blas[1]()
                blas[0](1)
            _holders += 1

    def __exit__(self, *exc: object) -> None:
        global _holders
        blas = _openblas()
        if not blas:
            return
        with _hold_lock:
            _holders -= 1
            # (not over a setting someone else made while the hold lasted: OpenBLAS shows
            # another number than our 1 -- a user's 1 then cannot be told from ours)
            if _holders == 0 and blas[1]() == 1:
                blas[0](_saved_blas_threads)


_ONE_BLAS_THREAD = _OneBlasThread()


def one_blas_thread() -> _OneBlasThread:
    """Hold OpenBLAS to one thread inside the ``with`` block (a no-op where numpy has no
    OpenBLAS).

    Blocks may nest and overlap across threads: the first one to open saves OpenBLAS's setting,
    the last one to close restores it (saving and restoring per block would let two threads
    restore each other's "1" and leave OpenBLAS on one thread for good)."""
    return _ONE_BLAS_THREAD


def matmul(a: Any, b: Any, out: Any = None) -> Any:
    """``a @ b`` in the arrays' own module; for numpy, on one OpenBLAS thread when the product is
    small.

    Alone, a small GEMM runs faster on two threads (LeNet-5's first dense layer: 46 µs instead of
    69 µs); inside a training step it is the other way round: OpenBLAS's helper threads keep
    spinning for a while after each multi-threaded call, on the very cores :func:`run_chunks` is
    about to use. Holding LeNet-5's dense layers (6 MFLOP) to one thread made its training step
    20% faster on our 2-core machines (``benchmarks/RESULTS.md``).
    """
    if type(a) is not np.ndarray:  # CuPy: the GPU's own BLAS
        return array_module(a).matmul(a, b, out=out)
    k = a.shape[-1]
    flops = 2 * k * b.shape[-1] * max(a.size // max(k, 1), 1)
    if flops < TINY_GEMM_FLOPS:
        return np.matmul(a, b, out=out)
    if flops >= SMALL_GEMM_FLOPS:
        split = _split_matmul(a, b, out, flops)
        if split is not None:
            return split
        return np.matmul(a, b, out=out)
    # (also with TINYGRAD_CNN_THREADS=1: OpenBLAS's own threads on a LeNet-sized GEMM took 3 ms
    # instead of 0.1 when another process kept the second core busy)
    with one_blas_thread():
        return np.matmul(a, b, out=out)


SPLIT_MIN_ROWS = 16  # rows per thread below which a big GEMM is left to OpenBLAS's own threads
LONG_GEMM_FLOPS = 1 << 28  # a GEMM this big splits evenly (see run_chunks' caller_weight)


def _split_matmul(a: np.ndarray, b: Any, out: Any, flops: int) -> Any:
    """A big product ``a @ b`` cut along the rows of ``a`` (or along a batch dim both operands
    share), one piece per thread of :func:`run_chunks`, each piece on one OpenBLAS thread; ``None``
    where there is no such cut (few rows, broadcast batch dims, no BLAS dtype) -- the caller then
    leaves it to OpenBLAS's own threads.

    Why not OpenBLAS's threads: they keep spinning for a while after each call, on the cores the
    next op's batch chunks need. LeNet-5's forward of 1,000 images (a 96 MFLOP first dense layer)
    took 54 ms that way and 38 ms with every GEMM on one thread (AMD EPYC Zen 3, 2 cores); our
    pool threads wait on a lock instead, and a big GEMM cut in two runs as fast.
    """
    if type(b) is not np.ndarray or a.dtype != b.dtype or a.dtype.char not in "fd" \
            or _threads == 1 or a.ndim < 2:
        return None
    if b.ndim == 2:
        axis_len = a.shape[0]  # rows (a 2-d a), or its first batch dim
    elif a.ndim == b.ndim and a.shape[0] == b.shape[0] and a.shape[0] >= _threads:
        axis_len = a.shape[0]  # a batch dim both have (the others may broadcast)
    else:
        return None
    rows_per_item = a.size // max(a.shape[0] * a.shape[-1], 1) if a.ndim > 2 else 1
    if axis_len * rows_per_item < SPLIT_MIN_ROWS * _threads or axis_len < _threads:
        return None
    if out is None:
        shape = _bshapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]) \
            if a.ndim > 2 or b.ndim > 2 else (a.shape[0], b.shape[-1])
        out = np.empty(shape, np.result_type(a, b))
    elif out.shape[0] != axis_len or np.may_share_memory(out, a) or np.may_share_memory(out, b):
        return None
    if b.ndim == 2:
        def piece(s: int, e: int) -> None:
            np.matmul(a[s:e], b, out=out[s:e])
    else:
        def piece(s: int, e: int) -> None:
            np.matmul(a[s:e], b[s:e], out=out[s:e])
    weight = 1.0 if flops >= LONG_GEMM_FLOPS else CALLER_WEIGHT
    run_chunks(axis_len, piece, nbytes=max(MIN_BYTES, a.nbytes), caller_weight=weight)
    return out


def run_chunks(n: int, fn: Callable[[int, int], None], nbytes: int = MIN_BYTES,
               caller_weight: float = CALLER_WEIGHT) -> None:
    """Run ``fn(start, stop)`` over ``[0, n)`` in contiguous chunks, one per thread; ``nbytes`` is
    how much data the whole job touches (small jobs run in one piece on the calling thread, with
    OpenBLAS on one thread too, see :func:`matmul`); ``caller_weight``: the calling thread's
    share against 1 for each pool thread (1 for jobs of milliseconds per chunk, where a pool
    thread's late start does not matter)."""
    global _pool
    k = min(_threads, n)
    if k <= 1 or nbytes < MIN_BYTES:
        if nbytes < MIN_BYTES or _threads == 1:
            # a job too small to share, or one thread asked for (TINYGRAD_CNN_THREADS=1): on
            # one OpenBLAS thread too -- its own threads took LeNet-5's conv2 forward 8 ms
            # instead of 0.7 while other processes kept the cores busy
            with one_blas_thread():
                fn(0, n)
        else:  # one big piece (a batch of one): OpenBLAS may use every core
            fn(0, n)
        return
    with _lock:
        if _pool is None:  # (at least one worker: the count read above may have been changed to
            _pool = _Pool(max(_threads - 1, 1))  # 1 by now, and an empty pool hung -- t198)
        pool = _pool
    # the calling thread starts at once; a pool thread starts 25-250 µs later on our VMs (an idle
    # virtual CPU halts, and the host must schedule it again), so the caller takes a larger piece
    # (LeNet-5 step -4.6% in an interleaved A/B against equal pieces)
    cuts = [0] + [round(n * (caller_weight + i) / (caller_weight + k - 1)) for i in range(k)]
    bounds = [(s, e) for s, e in itertools.pairwise(cuts) if e > s]
    with one_blas_thread():
        # each piece is queued, then listed: a Ctrl-C between the two can leave a piece
        # unwaited, never one waited for that was not queued (which would wait for good)
        pieces: list[_Piece] = []
        try:
            for s, e in bounds[1:]:
                pieces.append(pool.submit(fn, s, e))
            fn(*bounds[0])
        finally:
            _wait_all(pieces)
        for piece in pieces:
            if piece.error is not None:
                raise piece.error


BLOCK_ITEMS_BYTES = 1 << 18  # see blocks(): a block and its temporaries stay in a core's L2


def blocks(n: int, fn: Callable[[int, int], None], nbytes: int, item_bytes: int) -> None:
    """Run ``fn(start, stop)`` over ``[0, n)`` in blocks of about ``BLOCK_ITEMS_BYTES`` (items of
    ``item_bytes`` each), the blocks shared out over the threads by :func:`run_chunks` (``nbytes``:
    what the whole job touches). For a chain of numpy passes over big arrays (relu's compare, mask
    and select; max pooling's window maxima): each block's passes run on data still in the cache,
    and both cores work -- LeNet-5's first relu at batch 1,000 (18.8 MB) went from three passes
    over memory on one core to one on two."""
    step = max(1, BLOCK_ITEMS_BYTES // max(item_bytes, 1))

    def chunk(s: int, e: int) -> None:
        for b in range(s, e, step):
            fn(b, min(b + step, e))

    run_chunks(n, chunk, nbytes, caller_weight=1.0)
