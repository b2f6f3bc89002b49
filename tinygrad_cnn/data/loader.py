"""``DataLoader``: batches of tensors from a dataset, optionally shuffled, optionally built by
worker processes; ``TensorDataset`` and ``Subset``."""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinygrad_cnn.random import generator
from tinygrad_cnn.tensor import Tensor


class Subset:
    """The items of ``dataset`` at ``indices`` (``--limit`` uses the first N)."""

    def __init__(self, dataset: Any, indices: Any) -> None:
        self.dataset, self.indices = dataset, np.asarray(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: Any) -> Any:
        return self.dataset[self.indices[i]]

    def arrays(self, index: Any = slice(None)) -> Any:
        return self.dataset.arrays(self.indices[index])


class TensorDataset:
    """Tensors (or arrays) of one length, item ``i`` being the tuple of their ``i``-th rows:
    ``TensorDataset(images, labels)``."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        arrays = [t.numpy() if isinstance(t, Tensor) else np.asarray(t) for t in tensors]
        if any(a.ndim == 0 for a in arrays):
            raise ValueError("TensorDataset: every tensor needs a first (sample) dimension")
        lengths = [a.shape[0] for a in arrays]
        if len(set(lengths)) > 1:
            raise ValueError(f"TensorDataset: the tensors have different lengths {lengths} "
                             "along their first dimension; they must all be the same")
        self.tensors = tuple(arrays)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, i: Any) -> tuple[Any, ...]:
        return tuple(a[i] for a in self.tensors)

    def arrays(self, index: Any = slice(None)) -> tuple[np.ndarray, ...]:
        """A whole batch at once: each tensor's rows at ``index``."""
        return tuple(a[index] for a in self.tensors)


def _batch(dataset: Any, idx: np.ndarray) -> tuple[np.ndarray, ...] | np.ndarray:
    """The arrays of one batch: one fancy-index when the dataset has ``arrays``, else its items
    stacked field by field."""
    if hasattr(dataset, "arrays"):
        out = dataset.arrays(idx)
        return tuple(np.ascontiguousarray(a) for a in out) if isinstance(out, tuple) else \
            np.ascontiguousarray(out)
    items = [dataset[int(i)] for i in idx]
    if isinstance(items[0], tuple):
        return tuple(np.stack([np.asarray(it[k]) for it in items]) for k in range(len(items[0])))
    return np.stack([np.asarray(it) for it in items])


def _as_tensors(batch: Any) -> Any:
    if isinstance(batch, tuple):
        return tuple(Tensor._make(a) for a in batch)
    return Tensor._make(batch)


def _worker(dataset: Any, tasks: Any, results: Any, worker_id: int,
            init: Callable[[int], None] | None) -> None:
    """A worker process: build the batches whose indices arrive on ``tasks`` until ``None``."""
    try:
        if init is not None:
            init(worker_id)
    except BaseException:  # reported to the main process
        results.put((-1, None, traceback.format_exc()))
        return
    while True:
        task = tasks.get()
        if task is None:
            return
        number, idx = task
        try:
            results.put((number, _batch(dataset, idx), None))
        except BaseException:  # reported to the main process
            results.put((number, None, traceback.format_exc()))


class DataLoader:
    """Iterate over ``dataset`` in batches of Tensors (a tuple of them when items are tuples:
    ``(x, y)``).

    ``shuffle`` draws a new order every epoch, from ``seed`` when given (epoch ``e`` uses
    ``seed + e``, so runs repeat exactly) or else from the generator that ``manual_seed`` seeds.
    A dataset with an ``arrays(index)`` method is batched with one fancy-index per batch; any other
    dataset item by item.

    ``num_workers > 0`` builds the batches in that many worker processes (``fork`` where the
    platform has it, or ``multiprocessing_context``), up to ``prefetch_factor`` batches each
    ahead; the order is decided here, so the batches are the same, in the same order, as with
    ``num_workers=0``. An error in a worker is raised here with the worker's traceback.
    ``worker_init_fn(worker_id)`` runs first in each worker.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None, num_workers: int = 0,
                 prefetch_factor: int = 2, worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: str | None = None, timeout: float = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers}")
        if prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor must be >= 1, got {prefetch_factor}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.drop_last, self.seed, self.epoch = drop_last, seed, 0
        self.num_workers, self.prefetch_factor = num_workers, prefetch_factor
        self.worker_init_fn, self.timeout = worker_init_fn, timeout
        self.multiprocessing_context = multiprocessing_context

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        rng = np.random.default_rng(self.seed + self.epoch) if self.seed is not None else \
            generator()
        return rng.permutation(n)

    def _batches(self) -> list[np.ndarray]:
        order = self._order()
        self.epoch += 1
        stop = min(len(self) * self.batch_size, len(order))
        return [order[start:start + self.batch_size]
                for start in range(0, stop, self.batch_size)]

    def __iter__(self) -> Iterator[Any]:
        batches = self._batches()
        if self.num_workers == 0:
            for idx in batches:
                yield _as_tensors(_batch(self.dataset, idx))
        else:
            yield from self._from_workers(batches)

    def _context(self) -> Any:
        if self.multiprocessing_context is not None:
            return multiprocessing.get_context(self.multiprocessing_context)
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("fork" if "fork" in methods else methods[0])

    def _from_workers(self, batches: list[np.ndarray]) -> Iterator[Any]:
        ctx = self._context()
        tasks, results = ctx.Queue(), ctx.Queue()
        workers = [ctx.Process(target=_worker, daemon=True,
                               args=(self.dataset, tasks, results, i, self.worker_init_fn))
                   for i in range(min(self.num_workers, max(len(batches), 1)))]
        for w in workers:
            w.start()
        sent, done, ready = 0, 0, {}
        try:
            ahead = self.prefetch_factor * len(workers)
            while done < len(batches):
                while sent < len(batches) and sent - done < ahead:
                    tasks.put((sent, batches[sent]))
                    sent += 1
                while done not in ready:
                    number, batch, error = self._result(results, workers)
                    if error is not None:
                        where = "worker_init_fn" if number < 0 else f"batch {number}"
                        raise RuntimeError(f"DataLoader: a worker failed building {where}:\n"
                                           f"{error}")
                    ready[number] = batch
                yield _as_tensors(ready.pop(done))
                done += 1
        finally:
            for _ in workers:
                tasks.put(None)
            for w in workers:
                w.join(timeout=5)
                if w.is_alive():
                    w.terminate()
                    w.join()
            tasks.close()
            results.close()

    def _result(self, results: Any, workers: list[Any]) -> tuple[int, Any, str | None]:
        """The next finished batch; a worker that died without a word is an error too."""
        waited = 0.0
        while True:
            try:
                return results.get(timeout=1.0)
            except queue.Empty:
                waited += 1.0
                dead = [w for w in workers if not w.is_alive()]
                if dead:
                    codes = ", ".join(str(w.exitcode) for w in dead)
                    raise RuntimeError(f"DataLoader: {len(dead)} worker process(es) exited "
                                       f"unexpectedly (exit codes {codes})") from None
                if self.timeout and waited >= self.timeout:
                    raise RuntimeError(f"DataLoader: no batch from the workers within "
                                       f"{self.timeout} s") from None
