"""``DataLoader``: batches of tensors from a dataset, optionally shuffled, optionally built by
worker processes; ``TensorDataset`` and ``Subset``."""

from __future__ import annotations

import multiprocessing
import queue
import random
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import is_grad_enabled, no_grad
from tinygrad_cnn.random import generator, manual_seed
from tinygrad_cnn.tensor import Tensor


class Subset:
    """The items of ``dataset`` at ``indices`` (``--limit`` uses the first N)."""

    def __init__(self, dataset: Any, indices: Any) -> None:
        self.dataset, self.indices = dataset, np.asarray(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: Any) -> Any:
        return self.dataset[self.indices[i]]

    @property
    def arrays(self) -> Callable[..., Any]:
        """The dataset's fast batch path on the subset's indices -- only where the dataset has
        one (``hasattr(subset, "arrays")`` is False otherwise, and the loader collates items)."""
        whole = getattr(self.dataset, "arrays", None)
        if whole is None:
            raise AttributeError(f"{type(self.dataset).__name__} has no arrays() batch path")
        return lambda index=slice(None): whole(self.indices[index])


class TensorDataset:
    """Tensors (or arrays) of one length, item ``i`` being the tuple of their ``i``-th rows, as
    Tensors: ``TensorDataset(images, labels)``. ``tensors``: the tensors given (arrays become
    Tensors sharing their memory)."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor._make(np.asarray(t))
                             for t in tensors)
        self._arrays = [t.numpy() for t in self.tensors]  # the loader's batches, on the CPU
        if any(a.ndim == 0 for a in self._arrays):
            raise ValueError("TensorDataset: every tensor needs a first (sample) dimension")
        lengths = [a.shape[0] for a in self._arrays]
        if len(set(lengths)) > 1:
            raise ValueError(f"TensorDataset: the tensors have different lengths {lengths} "
                             "along their first dimension; they must all be the same")

    def __len__(self) -> int:
        return self._arrays[0].shape[0]

    def __getitem__(self, i: Any) -> tuple[Tensor, ...]:
        return tuple(t[i] for t in self.tensors)

    def arrays(self, index: Any = slice(None)) -> tuple[np.ndarray, ...]:
        """A whole batch at once: each tensor's rows at ``index``."""
        return tuple(a[index] for a in self._arrays)


def _batch(dataset: Any, idx: np.ndarray) -> Any:
    """The arrays of one batch: one fancy-index when the dataset has ``arrays``, else its items
    collated (``_collate``)."""
    if isinstance(dataset, TensorDataset) and is_grad_enabled() and any(
            t.requires_grad for t in dataset.tensors):  # rows with their history (PyTorch's)
        rows = Tensor._make(np.asarray(idx, dtype=np.int64))
        return tuple(t[rows] for t in dataset.tensors)
    if hasattr(dataset, "arrays"):
        out = dataset.arrays(idx)
        return tuple(np.ascontiguousarray(a) for a in out) if isinstance(out, tuple) else \
            np.ascontiguousarray(out)
    return _collate([dataset[int(i)] for i in idx], "")


def _collate(items: list[Any], path: str) -> Any:
    """PyTorch's ``default_collate`` on numpy arrays: arrays, tensors and numbers are stacked
    along a new first dimension (Python ints give int64, floats float64, numpy scalars keep their
    dtype); a dict gives a dict of the collated values of each key; a tuple or list gives one of
    its collated fields (a tuple stays a tuple, so ``x, y = batch`` works either way; a namedtuple
    stays itself); strings stay a list of strings. ``path`` names the field in errors."""
    first = items[0]
    where = f"the field {path}" if path else "the samples"
    if isinstance(first, (str, bytes)):
        return list(items)
    if isinstance(first, Mapping):
        keys = list(first)
        for i, it in enumerate(items):
            if not isinstance(it, Mapping) or list(it) != keys:
                got = list(it) if isinstance(it, Mapping) else type(it).__name__
                raise RuntimeError(f"DataLoader: sample {i} of a batch has keys {got}, sample 0 "
                                   f"has {keys} ({where}); every sample needs the same keys")
        return {k: _collate([it[k] for it in items], f"{path}[{k!r}]") for k in keys}
    if isinstance(first, (tuple, list)):
        n = len(first)
        for i, it in enumerate(items):
            if not isinstance(it, (tuple, list)) or len(it) != n:
                got = len(it) if isinstance(it, (tuple, list)) else type(it).__name__
                raise RuntimeError(f"DataLoader: each element in list of batch should be of "
                                   f"equal size: sample {i} has {got} fields, sample 0 has {n} "
                                   f"({where})")
        fields = [_collate([it[k] for it in items], f"{path}[{k}]") for k in range(n)]
        if hasattr(first, "_fields"):  # a namedtuple
            return type(first)(*fields)
        return tuple(fields) if isinstance(first, tuple) else fields
    if is_grad_enabled() and any(isinstance(it, Tensor) and it.requires_grad for it in items):
        from tinygrad_cnn.tensor import stack

        try:  # samples with a history stay in the graph (PyTorch's collate stacks tensors)
            return stack([it if isinstance(it, Tensor) else Tensor(np.asarray(it))
                          for it in items])
        except ValueError as exc:
            raise RuntimeError(f"DataLoader: cannot stack {where}: {exc}") from None
    arrays = []
    for it in items:
        if isinstance(it, Tensor):
            arrays.append(it.numpy())
        elif isinstance(it, (bool, int, float)) and not isinstance(it, np.generic):
            dt = np.bool_ if isinstance(it, bool) else np.int64 if isinstance(it, int) else \
                np.float64
            arrays.append(np.asarray(it, dtype=dt))
        elif isinstance(it, (np.ndarray, np.generic)) and it.dtype.kind in "biuf":
            arrays.append(np.asarray(it))
        else:
            raise TypeError(f"DataLoader: cannot batch {where} of type {type(it).__name__}; "
                            "samples must hold tensors, numpy arrays, numbers, strings, or "
                            "dicts, tuples and lists of them")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"DataLoader: stack expects each tensor to be equal size, but "
                           f"{where} have shapes {sorted(shapes)} in one batch; pad or resize "
                           "them in the dataset")
    return np.stack(arrays)


def _as_tensors(batch: Any) -> Any:
    """The collated arrays as Tensors, in the same dicts, tuples and lists."""
    if isinstance(batch, np.ndarray):
        return Tensor._make(batch)
    if isinstance(batch, Tensor):
        return batch
    if isinstance(batch, dict):
        return {k: _as_tensors(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_as_tensors(v) for v in batch))
    if isinstance(batch, (tuple, list)) and not (batch and isinstance(batch[0], (str, bytes))):
        return type(batch)(_as_tensors(v) for v in batch)
    return batch


def _reseed(seed: int) -> None:
    np.random.seed(seed % 2**32)
    random.seed(seed)
    manual_seed(seed)


def _worker(dataset: Any, tasks: Any, results: Any, worker_id: int,
            init: Callable[[int], None] | None, seed: int = 0) -> None:
    """A worker process: build the batches whose indices arrive on ``tasks`` until ``None``. Its
    random generators (numpy's global one, Python's ``random``, ours) are seeded for each batch
    from ``seed`` (one per epoch) and the batch's number: a forked worker would otherwise repeat
    its parent's random numbers -- in every worker, every epoch -- and this way a batch's random
    augmentations do not depend on which worker happened to build it (repeatable with ``seed``).
    """
    _reseed(seed + 2**32 * (worker_id + 1))  # (worker_init_fn's own draws)
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
            _reseed(seed + number)
            with no_grad():  # (arrays cross to the main process; a graph cannot)
                batch = _batch(dataset, idx)
            results.put((number, batch, None))
        except BaseException:  # reported to the main process
            results.put((number, None, traceback.format_exc()))


class DataLoader:
    """Iterate over ``dataset`` in batches of Tensors (a tuple of them when items are tuples:
    ``(x, y)``; a dict of them when items are dicts; nested as the items are, as PyTorch's
    ``default_collate``).

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
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
                batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size should be a positive integer value (or "
                             f"None: items one by one, not batched), got {batch_size!r}")
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
        if self.batch_size is None:
            return n
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
        if self.batch_size is None:  # PyTorch's batch_size=None: the items themselves
            order = self._order()
            self.epoch += 1
            for i in order:
                yield self.dataset[int(i)]
            return
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
        if isinstance(self.dataset, TensorDataset) and any(
                t.requires_grad for t in self.dataset.tensors):
            raise RuntimeError("DataLoader: num_workers > 0 cannot send tensors that require grad "
                               "to worker processes (their graph stays in this one; PyTorch "
                               "refuses too): use num_workers=0, or TensorDataset of .detach()ed "
                               "tensors")
        ctx = self._context()
        tasks, results = ctx.Queue(), ctx.Queue()
        n = min(self.num_workers, max(len(batches), 1))
        seed = self._epoch_seed()
        workers = [ctx.Process(target=_worker, daemon=True,
                               args=(self.dataset, tasks, results, i, self.worker_init_fn, seed))
                   for i in range(n)]
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

    def _epoch_seed(self) -> int:
        """This epoch's seed for the workers: from ``seed`` (or from the seed ``manual_seed``
        gave) and the epoch number -- repeatable, without drawing from the generator that
        shuffles (so the order stays that of ``num_workers=0``)."""
        root = self.seed if self.seed is not None else generator().bit_generator.seed_seq.entropy
        sequence = np.random.SeedSequence([int(root or 0), self.epoch])
        return int(sequence.generate_state(1, np.uint32)[0]) * 2**20

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
