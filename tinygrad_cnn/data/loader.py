"""``DataLoader``: batches of tensors from a dataset, in the order of a sampler (by default in
order, or shuffled) or of an ``IterableDataset``'s stream, collated by ``default_collate`` or a
``collate_fn``, optionally built by worker processes."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import multiprocessing
import os
import pickle
import queue
import random
import signal
import sys
import time
import traceback
import warnings
from collections.abc import (
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    MutableSequence,
    Sequence,
)
from typing import Any

import numpy as np

from tinygrad_cnn._scalars import check_callable, described
from tinygrad_cnn.autograd import is_grad_enabled, no_grad
from tinygrad_cnn.data.dataset import (
    ConcatDataset,
    IterableDataset,
    Subset,
    TensorDataset,
    UnequalSamplesError,
    has_batch_path,
    stack_dtype,
    unequal_sizes,
)
from tinygrad_cnn.data.sampler import (
    BatchSampler,
    RandomSampler,
    SequentialSampler,
    batch_indices,
    epoch_indices,
)
from tinygrad_cnn.random import (
    Generator,
    as_generator,
    default_generator,
    held_generator,
    manual_seed,
)
from tinygrad_cnn.tensor import Tensor

__all__ = ["DataLoader", "Subset", "TensorDataset", "WorkerInfo", "default_collate",
           "default_convert", "get_worker_info"]


def _items(dataset: Any, idx: Any) -> list[Any]:
    """The samples at the keys ``idx`` (an int array, or a list of keys from a user's sampler):
    one call of the dataset's ``__getitems__(keys)`` where it has one (PyTorch's batched fetch),
    else ``dataset[k]`` for each key."""
    keys = idx.tolist() if isinstance(idx, np.ndarray) else idx
    batched = getattr(dataset, "__getitems__", None)
    if batched:
        return batched(keys)
    return [dataset[k] for k in keys]


def _requires_grad(dataset: Any) -> bool:
    """Whether the batch path of ``dataset`` reads tensors that require grad: a
    ``TensorDataset`` of such tensors, or a ``Subset`` or ``ConcatDataset`` holding one."""
    if isinstance(dataset, TensorDataset):
        return any(getattr(t, "requires_grad", False) for t in dataset.tensors)
    if isinstance(dataset, Subset):
        return _requires_grad(dataset.dataset)
    if isinstance(dataset, ConcatDataset):
        return any(_requires_grad(d) for d in dataset.datasets)
    return False


class _BatchPath:
    """A dataset's batch path (``has_batch_path``) for an epoch, and whether it reads tensors
    that require grad, looked up once: a ``ConcatDataset`` of 16,000 datasets paid for each of
    them on every batch (t165). Made where it is used (a worker makes its own: the path may be a
    lambda, which does not pickle)."""

    __slots__ = ("arrays", "graph")

    def __init__(self, dataset: Any) -> None:
        self.arrays = dataset.arrays
        self.graph = _requires_grad(dataset)


def _batch(dataset: Any, idx: Any, path: _BatchPath | None) -> Any:
    """The arrays of one batch: one fancy-index when the dataset has a batch path (``path``,
    looked up once an epoch), else its items collated (``_collate``).
    Either way the batch is ``default_collate``'s, dtype and errors alike: where the batch path
    meets samples that do not stack, the items are collated for ``default_collate``'s error, and
    tensors that require grad (with grad mode on) keep their history, as stacking their items
    does (a ``TensorDataset``'s rows by one indexing op, a ``Subset`` or ``ConcatDataset`` of
    one by its items)."""
    if path is not None and path.graph and is_grad_enabled():
        if not isinstance(dataset, TensorDataset):
            return _collate(_items(dataset, idx), "")
        rows = Tensor._make(np.asarray(idx, dtype=np.int64))  # rows with their history
        return [t[rows] for t in dataset.tensors]  # (a list: default_collate's)
    if path is not None and isinstance(idx, np.ndarray):
        try:
            out = path.arrays(idx)
        except UnequalSamplesError:  # default_collate's own error, from the items (raised
            out = None  # below, outside this handler: one traceback, not two)
        except IndexError:  # (numpy's "index 100 is out of bounds for axis 0", from inside)
            n = len(dataset) if hasattr(dataset, "__len__") else None
            bad = [int(k) for k in idx.reshape(-1).tolist()
                   if n is not None and not -n <= int(k) < n][:3]
            if not bad:
                raise
            raise IndexError(f"{type(dataset).__name__}: index {bad[0]} is out of range for a "
                             f"dataset of {n} items (a batch asked for {bad}...); check the "
                             "sampler or batch_sampler that gave it") from None
        if out is None:
            return _collate(_items(dataset, idx), "")
        return [np.ascontiguousarray(a) for a in out] if isinstance(out, tuple) else \
            np.ascontiguousarray(out)  # (fields as a list, as default_collate's)
    return _collate(_items(dataset, idx), "")


def default_collate(batch: list[Any]) -> Any:
    """PyTorch's ``default_collate``: a list of samples as one batch of Tensors, stacked along a
    new first dimension and nested as the samples are (see ``_collate``). What the ``DataLoader``
    does without a ``collate_fn``, and what a ``collate_fn`` can call for the parts it does not
    treat itself."""
    return _as_tensors(_collate(list(batch), ""))


def default_convert(data: Any) -> Any:
    """PyTorch's ``default_convert``: numpy arrays and numpy scalars in ``data`` become Tensors
    (sharing an array's memory), inside dicts, lists, tuples and namedtuples, which keep their
    type -- except a plain tuple, which becomes a list (PyTorch's, for backward compatibility).
    Tensors, Python numbers, strings, and arrays of strings or objects stay as they are. What the
    ``DataLoader`` does to each sample with ``batch_size=None`` and no ``collate_fn``."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, (np.ndarray, np.generic)):
        if data.dtype.kind in "biufc":  # (PyTorch leaves strings, bytes and objects alone)
            return _tensor_of(np.asarray(data), "default_convert")
        return data
    if isinstance(data, Mapping):
        return _same_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a namedtuple
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, tuple):
        return [default_convert(v) for v in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _same_sequence(data, [default_convert(v) for v in data])
    return data


def _same_mapping(template: Mapping[Any, Any], values: dict[Any, Any]) -> Any:
    """``values`` in a mapping of ``template``'s type, as PyTorch's collate and convert build it:
    a mutable one is a copy of ``template`` updated with them (its other attributes kept); an
    immutable one is ``type(template)(values)``; a plain dict where that fails (TypeError)."""
    if type(template) is dict:
        return values
    try:
        if isinstance(template, MutableMapping):
            clone = copy.copy(template)
            clone.update(values)
            return clone
        return type(template)(values)  # type: ignore[call-arg]
    except TypeError:  # a mapping that cannot be copied, updated, or built from a dict
        return values


def _same_sequence(template: Sequence[Any], values: list[Any]) -> Any:
    """``values`` in a sequence of ``template``'s type (a list subclass, a user's sequence), as
    PyTorch's collate and convert build it: a mutable one is a copy of ``template`` with its
    items replaced; another is ``type(template)(values)``; a plain list where that fails."""
    if type(template) is list:
        return values
    try:
        if isinstance(template, MutableSequence):
            clone = copy.copy(template)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(template)(values)  # type: ignore[call-arg]
    except TypeError:  # a sequence that cannot be copied, assigned to, or built from a list
        return values


class _KeysDifferError(RuntimeError, KeyError):
    """Samples whose dicts have other keys; a KeyError too, PyTorch's type for it (an ``except``
    written for PyTorch catches it)."""

    __str__ = BaseException.__str__  # (KeyError's would quote the message)


class _EmptyBatchError(ValueError, IndexError):
    """A batch of no samples; an IndexError too, PyTorch's type for it."""


class _IntTooBigError(OverflowError, ValueError):
    """An int beyond int64 in a batch; a ValueError too, PyTorch's type for it."""


def _collate(items: list[Any], path: str) -> Any:
    """PyTorch's ``default_collate`` on numpy arrays: arrays, tensors and numbers are stacked
    along a new first dimension (Python ints give int64, floats float64, numpy scalars keep their
    dtype; samples of several dtypes by PyTorch's rule, ``stack_dtype``); a mapping gives a
    mapping of its type (``_same_mapping``: an OrderedDict stays one) of the collated values of
    each key; a tuple, list or other sequence gives one of its collated fields (a plain tuple
    becomes a list, as PyTorch's, for backward compatibility -- ``x, y = batch`` works either
    way; a namedtuple stays itself, a list subclass or other sequence its type where it can be
    built, ``_same_sequence``); strings stay as they came (a list of them, or a tuple for a field of
    sequence samples, as PyTorch's). ``path`` names the field in errors."""
    if not items:
        raise _EmptyBatchError("DataLoader: a batch of 0 samples (the batch_sampler gave an empty "
                         "batch, or default_collate([]) was called): there is nothing to stack; "
                         "skip empty batches in the batch_sampler")
    first = items[0]
    where = f"the field {path}" if path else "the samples"
    if isinstance(first, (str, bytes)):  # as they came: a field of tuple samples stays a tuple,
        return items if isinstance(items, tuple) else list(items)  # as PyTorch's zip gives it
    if isinstance(first, Mapping):
        keys = list(first)
        for i, it in enumerate(items):
            if not isinstance(it, Mapping) or (list(it) != keys and set(it) != set(keys)):
                # (the same keys in another order are fine: fields are taken by key, PyTorch's)
                got = list(it) if isinstance(it, Mapping) else type(it).__name__
                raise _KeysDifferError(f"DataLoader: sample {i} of a batch has keys {got}, sample 0 "
                                   f"has {keys} ({where}); every sample needs the same keys")
        return _same_mapping(first, {k: _collate([it[k] for it in items], f"{path}[{k!r}]")
                                     for k in keys})
    if _is_sequence(first):
        n = len(first)
        for i, it in enumerate(items):
            if not _is_sequence(it) or len(it) != n:
                got = len(it) if _is_sequence(it) else type(it).__name__
                raise RuntimeError(f"DataLoader: each element in list of batch should be of "
                                   f"equal size: sample {i} has {got} fields, sample 0 has {n} "
                                   f"({where})")
        fields = [_collate(tuple(it[k] for it in items), f"{path}[{k}]") for k in range(n)]
        if hasattr(first, "_fields"):  # a namedtuple
            return type(first)(*fields)
        return fields if isinstance(first, tuple) else _same_sequence(first, fields)
    if is_grad_enabled() and any(isinstance(it, Tensor) and it.requires_grad for it in items):
        from tinygrad_cnn.tensor import stack

        try:  # samples with a history stay in the graph (PyTorch's collate stacks tensors)
            return stack([it if isinstance(it, Tensor) else Tensor(np.asarray(it))
                          for it in items])
        except ValueError as exc:
            raise RuntimeError(f"DataLoader: cannot stack {where}: {exc}") from None
    if isinstance(first, np.generic) and any(
            isinstance(it, (bool, int, float)) and not isinstance(it, np.generic) for it in items) \
            and all(isinstance(it, (bool, int, float, np.number, np.bool_)) for it in items):
        # a numpy scalar first, Python numbers after: PyTorch's torch.as_tensor(batch), whose
        # Python floats are float32 (numpy's stack made float64 of [np.float32(2), 1.0])
        from tinygrad_cnn.tensor import tensor

        return tensor(list(items))._data
    arrays = []
    for it in items:
        if isinstance(it, Tensor):
            arrays.append(it.numpy())
        elif isinstance(it, (bool, int, float)) and not isinstance(it, np.generic):
            dt = np.bool_ if isinstance(it, bool) else np.int64 if isinstance(it, int) else \
                np.float64
            try:
                arrays.append(np.asarray(it, dtype=dt))
            except OverflowError:
                raise _IntTooBigError(f"DataLoader: {where} hold the int {it}, which does not fit "
                                    "int64 (the dtype Python ints are batched in); store it as "
                                    "a float or a string") from None
        elif isinstance(it, (np.ndarray, np.generic)) and it.dtype.kind in "biuf":
            arrays.append(np.asarray(it))
        elif isinstance(it, (np.ndarray, np.generic)):  # (was: "samples must hold ... numpy
            # arrays" of an array of complex numbers)
            hint = {"c": ", e.g. .real and .imag as two float arrays",
                    "U": ": a string as a Python str", "S": ": bytes as a Python str"}.get(
                        it.dtype.kind, "")
            raise TypeError(f"DataLoader: cannot batch {where}: an array of dtype {it.dtype}, "
                            "which tensors do not take (they hold bool, int, uint8 and float); "
                            f"convert it in the dataset{hint}")
        else:
            raise TypeError(f"DataLoader: cannot batch {where} of type {type(it).__name__}; "
                            "samples must hold tensors, numpy arrays, numbers, strings, or "
                            "dicts, tuples and lists of them")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise unequal_sizes(where, shapes)
    if isinstance(first, int) and not isinstance(first, np.generic):  # (bool too) PyTorch
        # makes torch.tensor(batch): with a float among the ints, float32, not numpy's float64
        out = np.stack(arrays)
        return out.astype(np.float32) if out.dtype == np.float64 else out
    dtypes = {a.dtype for a in arrays}
    if len(dtypes) == 1:
        return np.stack(arrays)
    # tensors or arrays of several dtypes: PyTorch's stack promotes by its rule (an int64 and a
    # float32 sample give float32, not numpy's float64), each sample cast once
    return np.stack(arrays, dtype=stack_dtype(dtypes), casting="unsafe")


class _LoaderIterator:
    """An epoch of a ``DataLoader``: its batches in turn, and ``len()`` -- the loader's, as
    PyTorch's iterator gives it (progress bars that wrap the iterator read it)."""

    __slots__ = ("_batches", "_loader")

    def __init__(self, batches: Iterator[Any], loader: DataLoader) -> None:
        self._batches, self._loader = batches, loader

    def __iter__(self) -> _LoaderIterator:
        return self

    def __next__(self) -> Any:
        return next(self._batches)

    def __len__(self) -> int:
        return len(self._loader)

    def close(self) -> None:
        """Stop the epoch early (its workers stop with it)."""
        self._batches.close()  # type: ignore[attr-defined]


def _is_sequence(x: Any) -> bool:
    """A sample's sequence of fields: a tuple, a list, or another ``Sequence`` (not a string)."""
    return isinstance(x, Sequence) and not isinstance(x, (str, bytes))


def _tensor_of(arr: np.ndarray, where: str) -> Tensor:
    """A batch's array as a Tensor, of a dtype the tensors take (as ``tinygrad_cnn.tensor``
    refuses the others: numpy's promotion of uint64 + int64 to float64 is none of PyTorch's)."""
    dt = arr.dtype
    if dt.kind == "c" or dt.itemsize > 8 or (dt.kind == "u" and dt != np.uint8):
        raise TypeError(
            f"DataLoader ({where}): a sample holds an array of dtype {dt}, which tensors do not "
            "take (of the unsigned types only uint8 -- PyTorch 2.13's uint16/32/64 have no "
            "promotion rules -- and no complex or 128-bit types); convert it in the dataset, "
            "e.g. with .astype(np.int64) or .astype(np.float32)")
    return Tensor._make(arr)


def _as_tensors(batch: Any) -> Any:
    """The collated arrays as Tensors, in the same mappings, tuples, lists and sequences."""
    if isinstance(batch, np.ndarray):
        return _tensor_of(batch, "default_collate")
    if isinstance(batch, Tensor):
        return batch
    if isinstance(batch, Mapping):
        return _same_mapping(batch, {k: _as_tensors(v) for k, v in batch.items()})
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(_as_tensors(v) for v in batch))
    if _is_sequence(batch) and not (batch and isinstance(batch[0], (str, bytes))):
        values = [_as_tensors(v) for v in batch]
        return tuple(values) if isinstance(batch, tuple) else _same_sequence(batch, values)
    return batch


class WorkerInfo:
    """What ``get_worker_info()`` gives inside a worker process (PyTorch's): ``id`` (0 ..
    ``num_workers - 1``), ``num_workers`` (the workers this epoch runs), ``seed`` (what the
    worker's random generators were seeded with before ``worker_init_fn``; each batch of a
    map-style dataset then reseeds them from the epoch's seed and its number, while an
    ``IterableDataset``'s worker draws on through its whole stream) and ``dataset`` (this
    process's copy: an ``IterableDataset`` can shard itself by ``id`` and ``num_workers``).
    Read-only."""

    id: int
    num_workers: int
    seed: int
    dataset: Any

    def __init__(self, **fields: Any) -> None:
        for key, value in fields.items():
            object.__setattr__(self, key, value)
        object.__setattr__(self, "_keys", tuple(fields))

    def __setattr__(self, key: str, value: Any) -> None:
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)}" for k in self._keys)
        return f"{type(self).__name__}({fields})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a ``DataLoader`` worker process, its ``WorkerInfo`` (``id``, ``num_workers``, ``seed``,
    ``dataset``); ``None`` in the main process (PyTorch's). A dataset or ``worker_init_fn`` can
    use it to behave per worker."""
    return _worker_info


def _reseed(seed: int) -> None:
    # numpy's global generator takes 32-bit words: all of the seed's bits through a SeedSequence
    # (``seed % 2**32`` kept 12 of them: whole epochs of numpy augmentations recurred)
    np.random.seed(np.random.SeedSequence(seed).generate_state(4))
    random.seed(seed)
    manual_seed(seed)


def _generator_position(gen: Any) -> list[int]:
    """A ``generator=`` argument's seed and position (``None``: the default generator's), as
    ints for a ``SeedSequence``."""
    rng = as_generator(gen, "DataLoader")
    root = getattr(getattr(rng.bit_generator, "seed_seq", None), "entropy", 0)
    text = json.dumps(rng.bit_generator.state, sort_keys=True, default=str)
    return [int(root or 0), int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "little")]


#: seconds a worker waits for a task before it looks whether the main process is still there
_WATCH = 2.0


def _next_task(tasks: Any, parent: int, results: Any) -> Any:
    """The next task from the main process, or None (stop) once it is gone: a main process killed
    (SIGKILL, an unhandled SIGTERM) left its workers waiting for ever, 50 MB each (t170; PyTorch's
    watchdog ends them)."""
    while True:
        try:
            return tasks.get(timeout=_WATCH)
        except queue.Empty:
            if os.getppid() != parent:  # (re-parented: the main process is gone)
                results.cancel_join_thread()
                return None


def _default_sigterm() -> None:
    """A worker ends at the main process's ``terminate()`` (SIGTERM), whatever handler a forked
    worker inherited: one that raised (a training loop's, to save first) was caught as the
    worker's error while the worker held its queue's lock, and the worker hung for good; an
    ignored SIGTERM stayed ignored."""
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _worker(dataset: Any, tasks: Any, results: Any, worker_id: int,
            init: Callable[[int], None] | None, seed: int = 0,
            collate_fn: Callable[[Any], Any] | None = None, fast: bool = False,
            num_workers: int = 1, items: bool = False) -> None:
    """A worker process: build the batches whose indices arrive on ``tasks`` (this worker's own
    queue) until ``None``. Its random generators (numpy's global one, Python's ``random``, ours)
    are seeded for each batch from ``seed`` (one per epoch) and the batch's number: a forked
    worker would otherwise repeat its parent's random numbers -- in every worker, every epoch --
    and this way a batch's random augmentations do not depend on which worker happened to build
    it (repeatable with ``seed``). A ``collate_fn``'s batch is pickled here, so that one that
    cannot be is an error with this batch's number rather than a batch lost in the queue's
    feeder thread. With ``items`` (``batch_size=None``) each task is one key: the answer is
    ``collate_fn(dataset[key])``, or ``default_convert(dataset[key])`` without one (PyTorch's
    worker fetcher), pickled here too.
    """
    global _worker_info
    _default_sigterm()
    parent = os.getppid()
    own_seed = seed + 2**32 * (worker_id + 1)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=own_seed,
                              dataset=dataset)
    _reseed(own_seed)  # (worker_init_fn's own draws)
    try:
        if init is not None:
            init(worker_id)
    except BaseException:  # reported to the main process
        results.put((-1, None, _WorkerError.caught(worker_id, "(in worker_init_fn)")))
        return
    path: _BatchPath | None = None  # (the batch path, looked up at the first batch)
    while True:
        task = _next_task(tasks, parent, results)
        if task is None:
            return
        number, idx = task
        try:
            _reseed(seed + number)
            # the samples with grad mode on, as PyTorch's worker reads them (a tensor that
            # requires grad is then an error, as there: its graph cannot cross to the main
            # process -- under no_grad it came back detached, its gradients silently gone)
            samples = dataset[idx] if items else None if fast and collate_fn is None else \
                _items(dataset, idx)
            if items or collate_fn is not None:  # (collate_fn with grad mode on too: a graph it
                # builds cannot cross either -- leaves that require grad can, pickled)
                _refuse_graph(samples, worker_id, stacked=False)
                out = (collate_fn or default_convert)(samples)
                _refuse_graph(out, worker_id, stacked=False)
                batch = _pickled(out, "the item") if items else _pickled(out)
            else:
                _refuse_graph(samples, worker_id, stacked=True)
                if path is None and fast:
                    path = _BatchPath(dataset)
                with no_grad():  # (arrays cross to the main process; a graph cannot)
                    batch = _batch(dataset, idx, path) if samples is None else \
                        _collate(samples, "")
                if _user_containers(batch):  # (a type that does not pickle would be lost
                    batch = _Pickled(_pickled(batch, "the batch"))  # in the feeder thread)
            results.put((number, batch, None))
        except BaseException:  # reported to the main process
            note = f"(building item {number} of the epoch)" if items else None
            results.put((number, None, _WorkerError.caught(worker_id, note)))


def _refuse_graph(obj: Any, worker_id: int, stacked: bool, depth: int = 0) -> None:
    """What a worker sends holds no tensor with a graph (a non-leaf that requires grad: PyTorch's
    worker refuses to pickle it), and with ``stacked`` (default_collate will stack the samples)
    no tensor that requires grad at all -- the stack would have a graph. Such a graph would stay
    in the worker, and its gradients would silently not come. A leaf that requires grad, sent as
    it is, crosses (pickled with its flag), as in PyTorch."""
    if isinstance(obj, Tensor):
        if obj.requires_grad and (stacked or obj.grad_fn is not None):
            what = ("a tensor that requires grad, which default_collate would stack into one with "
                    "a graph" if obj.grad_fn is None else "a tensor with a graph (not a leaf)")
            raise RuntimeError(
                f"DataLoader worker {worker_id}: a sample or batch holds {what} (shape "
                f"{tuple(obj.shape)}); a graph cannot cross to the main process (PyTorch refuses "
                "too): return .detach()ed tensors, or use num_workers=0 to keep the graph")
        return
    if depth > 32 or isinstance(obj, (str, bytes, np.ndarray)):
        return
    if isinstance(obj, Mapping):
        for v in obj.values():
            _refuse_graph(v, worker_id, stacked, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _refuse_graph(v, worker_id, stacked, depth + 1)


def _stream_batches(items: Iterator[Any], batch_size: int,
                    drop_last: bool) -> Iterator[list[Any]]:
    """The samples of each batch of a stream, as PyTorch's fetcher cuts them: ``batch_size``
    each, the last one shorter (dropped with ``drop_last``); a stream that ends mid-batch is
    not read again."""
    while True:
        batch = list(itertools.islice(items, batch_size))
        if not batch or (drop_last and len(batch) < batch_size):
            return
        yield batch
        if len(batch) < batch_size:
            return


class _StreamEnd:
    """What a worker answers once its copy of an ``IterableDataset`` is exhausted."""


def _plain(data: Any) -> bool:
    """Whether the queue surely pickles ``data``: arrays (not of objects), numbers, strings, and
    dicts, lists and tuples of them. Anything else a worker pickles itself (``_Pickled``), so
    that what cannot be is an error with its number rather than data lost in the queue."""
    if isinstance(data, np.ndarray):
        return data.dtype.kind != "O"
    if data is None or type(data) in (bool, int, float, complex, str, bytes) or \
            isinstance(data, np.generic):
        return True
    if type(data) is dict:
        return all(_plain(k) and _plain(v) for k, v in data.items())
    if type(data) in (list, tuple):
        return all(_plain(v) for v in data)
    return False


def _stream_worker(dataset: Any, tasks: Any, results: Any, worker_id: int,
                   init: Callable[[int], None] | None, seed: int,
                   collate_fn: Callable[[Any], Any] | None, batch_size: int | None,
                   drop_last: bool, num_workers: int) -> None:
    """A worker process for an ``IterableDataset``: iterate this process's copy of it, one batch
    (or, with ``batch_size=None``, one item) for each task number that arrives on ``tasks``
    (its own queue) until ``None``, as PyTorch's worker: collated here (``_collate``'s arrays, or
    the ``collate_fn``'s batch; an item is sent as it is, ``default_convert`` runs in the main
    process), a ``_StreamEnd`` once the stream is exhausted, after which its tasks get no answer.
    Its random generators are seeded once, before ``worker_init_fn``, from the epoch's ``seed``
    and the worker's id (``WorkerInfo.seed``), and draw on through the whole stream: unlike a
    map-style batch, a stream's batches are this worker's own, and reseeding them by number
    would give every unsharded copy the same draws. An error in ``worker_init_fn`` or the
    dataset's ``__iter__`` is the answer to the first task, as PyTorch's."""
    global _worker_info
    _default_sigterm()
    parent = os.getppid()
    own_seed = seed + 2**32 * (worker_id + 1)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=own_seed,
                              dataset=dataset)
    _reseed(own_seed)
    failed: _WorkerError | None = None
    try:
        if init is not None:
            init(worker_id)
    except BaseException:
        failed = _WorkerError.caught(worker_id, "(in worker_init_fn)")
    else:
        try:
            items = iter(dataset)
            stream = items if batch_size is None else _stream_batches(items, batch_size,
                                                                       drop_last)
        except BaseException:
            failed = _WorkerError.caught(worker_id, "(in the dataset's __iter__)")
    what = "item" if batch_size is None else "batch"
    count, ended = 0, False
    while True:
        number = _next_task(tasks, parent, results)
        if number is None:
            results.cancel_join_thread()  # (what is left in the queue is not wanted)
            return
        if ended:  # (sent before the main process heard of the end: no answer, as PyTorch)
            continue
        if failed is not None:
            results.put((number, None, failed))
            ended = True
            continue
        try:
            data = next(stream, _StreamEnd)  # (grad mode on, as PyTorch's worker: see _worker)
            _refuse_graph(data, worker_id, stacked=collate_fn is None and batch_size is not None)
            if collate_fn is not None and data is not _StreamEnd:
                data = collate_fn(data)
                _refuse_graph(data, worker_id, stacked=False)
                data = _Pickled(_pickled(data))
            with no_grad():  # (arrays cross to the main process; a graph cannot)
                if data is _StreamEnd:
                    data, ended = _StreamEnd(), True
                elif collate_fn is None:  # (a collate_fn's batch is pickled above)
                    if batch_size is not None:
                        data = _collate(data, "")
                    if not _plain(data):
                        data = _Pickled(_pickled(data, f"the {what}"))
            results.put((number, data, None))
        except BaseException:  # reported to the main process
            note = f"(building {what} {count} of worker {worker_id}'s stream)"
            results.put((number, None, _WorkerError.caught(worker_id, note)))
            ended = True
        count += 1


class _KeyErrorMessage(str):
    """A KeyError's message that prints as itself: ``str(KeyError(text))`` is ``repr(text)``,
    a traceback on one line with its newlines as ``\\n`` (PyTorch's workaround)."""

    def __repr__(self) -> str:
        return str(self)


class _WorkerError:
    """An exception caught in a worker, as it crosses to the main process: its type (where
    that pickles), its name, the worker's traceback and the worker's id (PyTorch's
    ``ExceptionWrapper``)."""

    def __init__(self, exc_type: type[BaseException] | None, type_name: str, text: str,
                 worker_id: int, note: str | None = None) -> None:
        self.exc_type, self.type_name, self.text, self.worker_id = \
            exc_type, type_name, text, worker_id
        self.note = note

    @classmethod
    def caught(cls, worker_id: int, note: str | None = None) -> _WorkerError:
        """The exception being handled now; ``note`` says where, if not a batch's number."""
        exc_type = sys.exc_info()[0] or RuntimeError
        try:  # (a type that does not pickle would be lost in the queue's feeder thread)
            pickle.dumps(exc_type)
            sendable: type[BaseException] | None = exc_type
        except Exception:
            sendable = None
        return cls(sendable, exc_type.__name__, traceback.format_exc(), worker_id, note)

    def reraise(self, batch: int) -> None:
        """Raise it here as PyTorch does: its own type, with the message "Caught {type} in
        DataLoader worker process {id}.\\nOriginal Traceback ..." -- a ``RuntimeError`` when the
        type cannot be made from that one string (or did not pickle). A note names the batch
        (or the worker's own ``note``)."""
        msg = (f"Caught {self.type_name} in DataLoader worker process {self.worker_id}.\n"
               f"Original {self.text}")
        exc_type = self.exc_type
        exception: BaseException
        if exc_type is None or not issubclass(exc_type, Exception):
            exception = RuntimeError(msg)
        elif exc_type is KeyError:
            exception = KeyError(_KeyErrorMessage(msg))
        else:
            try:
                exception = exc_type(message=msg) if getattr(exc_type, "message", None) else \
                    exc_type(msg)
            except Exception:  # it takes other arguments: PyTorch falls back alike
                exception = RuntimeError(msg)
        if hasattr(exception, "add_note"):
            exception.add_note(self.note or ("(in worker_init_fn)" if batch < 0 else
                                             f"(building batch {batch} of the epoch)"))
        raise exception


def _pickled(batch: Any, what: str = "the batch that collate_fn returned") -> bytes:
    try:
        return pickle.dumps(batch, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        raise TypeError(f"{what} cannot be sent from a worker process (it cannot be pickled: "
                        f"{exc}); define the classes it holds at module level, or use "
                        "num_workers=0") from exc


class _Pickled:
    """A default-collated batch that a worker pickled itself (``_user_containers``)."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def _user_containers(batch: Any) -> bool:
    """Whether a collated batch holds a container of a user's type (a namedtuple, a mapping or
    sequence type that collation keeps), which may not pickle: the worker then pickles it
    itself, so that such a batch is an error with its number, not one lost in the queue."""
    if isinstance(batch, (np.ndarray, Tensor, str, bytes)):
        return False
    if type(batch) in (dict, list, tuple):
        values = batch.values() if isinstance(batch, dict) else batch
        return any(_user_containers(v) for v in values)
    return isinstance(batch, (Mapping, Sequence))


def _check_picklable(what: str, fn: Any, method: str) -> None:
    """Workers that are not forked receive their arguments pickled: say so up front."""
    try:
        pickle.dumps(fn)
    except Exception as exc:
        raise TypeError(f"DataLoader: {what} {fn!r} cannot be sent to worker processes started "
                        f"by {method!r} (it cannot be pickled: {exc}); define it at module level "
                        "(not a lambda or a local function), or use num_workers=0"
                        + (", or multiprocessing_context='fork'"
                           if "fork" in multiprocessing.get_all_start_methods() else "")) from None


class _TimedOutError(RuntimeError):
    """No batch from the workers within the loader's ``timeout`` (PyTorch's RuntimeError)."""


#: seconds between two looks at the workers while waiting for a batch (a dead worker is seen
#: this late at most; the wait itself ends as soon as a batch comes)
_POLL = 0.1


def _stop(workers: list[Any], tasks: list[Any], results: Any, wait: float = 5.0) -> None:
    """Shut the workers down: ``None`` on each one's task queue (``tasks[i]`` is worker ``i``'s;
    the map-style workers share one), then join them (or terminate those that have not stopped
    within ``wait`` seconds in all: none when the loop ended early -- an error, a timeout, a
    ``break`` -- whose workers may be busy with batches nobody will read) and close the
    queues."""
    for q in tasks:
        q.put(None)
    deadline = time.monotonic() + wait
    for w in workers:
        w.join(timeout=max(0.0, deadline - time.monotonic()))
        if w.is_alive():
            w.terminate()
            w.join(timeout=5.0)
            if w.is_alive():  # (SIGTERM blocked there somehow: the one signal no one can)
                w.kill()
                w.join()
    for q in dict.fromkeys(tasks):
        q.close()
    results.close()


_FIXED_AFTER_INIT = frozenset({"batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                               "persistent_workers"})


class DataLoader:
    """Iterate over ``dataset`` in batches of Tensors (a list of them when items are tuples:
    ``[x, y]``, as PyTorch's; a dict of them when items are dicts; nested as the items are, as PyTorch's
    ``default_collate``).

    The arguments are PyTorch's, in its order, with its defaults and its errors for combinations
    that exclude each other (``ValueError``: ``sampler`` with ``shuffle``; ``batch_sampler`` with
    ``batch_size``, ``shuffle``, ``sampler`` or ``drop_last``; ``batch_size=None`` with
    ``drop_last``):

    - ``sampler``: the keys to visit, in order -- a ``Sampler`` or any iterable of keys (default:
      ``SequentialSampler``, or ``RandomSampler`` with ``shuffle=True``). ``batch_sampler``: the
      batches, as lists of keys (default: ``BatchSampler(sampler, batch_size, drop_last)``).
      ``batch_size=None``: the samples one by one, uncollated (numpy arrays in them made
      Tensors by ``default_convert``, unless a ``collate_fn`` is given: PyTorch's).
    - ``collate_fn(samples)``: makes the batch from the list of samples (the samples themselves
      with ``batch_size=None``); what it returns is what the loader gives. Without one (or with
      ``default_collate``) a dataset with an ``arrays(index)`` method is batched with one
      fancy-index per batch (unless a subclass overrides ``__getitem__`` or ``__getitems__``
      without ``arrays``: ``has_batch_path``), one with ``__getitems__(keys)`` by one call of
      it per batch (PyTorch's), and any other item by item, then collated as
      ``default_collate``.
    - ``shuffle`` draws a new order every epoch: from ``generator`` (a ``numpy.random.Generator``
      or an int seed of one, which it advances -- PyTorch's ``torch.Generator`` role), or from
      ``seed`` (ours: epoch ``e`` uses ``seed + e``, so a run resumed with ``loader.epoch = e``
      repeats the uninterrupted one), or else from the generator that ``manual_seed`` seeds.
    - ``num_workers > 0`` builds the batches in that many worker processes (``fork`` where the
      platform has it, or ``multiprocessing_context``), up to ``prefetch_factor`` (default 2)
      batches each ahead, batch ``t`` in worker ``t % num_workers`` (PyTorch's round-robin); the
      keys are drawn here, so the batches are the same, in the same order, as with
      ``num_workers=0``. Random numbers drawn in the workers (ours, numpy's, ``random``'s)
      repeat for a loader made after the same ``manual_seed`` or with a generator seeded alike
      (PyTorch's), and differ from epoch to epoch and from a later loader on the same
      generator; with ``seed``, epoch ``e``'s repeat from ``seed`` and ``e`` alone.
      With ``batch_size=None`` the workers load the items one by one alike,
      each converted there (``default_convert`` or ``collate_fn``), as PyTorch's. An error in a
      worker is raised here as PyTorch does: its own type, the message "Caught {type} in
      DataLoader worker process {id}." and the worker's traceback (a ``RuntimeError`` when the
      type cannot be made from one string). ``worker_init_fn(worker_id)`` runs first in each
      worker; inside one, ``get_worker_info()`` says which it is. A ``collate_fn`` runs in the
      workers, so with a start method other than ``fork`` it must pickle (a lambda does not:
      ``TypeError`` up front), and so must the batches it returns.
    - An ``IterableDataset`` with ``num_workers > 0`` is PyTorch's: each worker iterates its own
      copy of the dataset -- so every sample comes once per worker, unless its ``__iter__``
      shares the stream out by ``get_worker_info()`` -- and batches its own stream
      (``collate_fn`` or ``default_collate``; ``drop_last`` drops each worker's short batch);
      the loader yields round-robin over the workers (worker 0's first batch, worker 1's
      first, ..., then their second ones), skipping those whose stream has ended. With
      ``batch_size=None`` the items come one by one in that order. Each worker's random
      generators are seeded once from the epoch's seed and its id (``WorkerInfo.seed``,
      repeatable with ``seed``), so unsharded copies draw different numbers.
      ``len(loader)`` is the dataset's len batched (it needs ``__len__``); once it was asked,
      each batch beyond the dataset's len warns, as PyTorch's.
    - ``persistent_workers`` is accepted (``ValueError`` without workers, as PyTorch's); the
      workers are started for each epoch all the same (an ``IterableDataset``'s copies start
      afresh each epoch: state a copy keeps in itself does not carry over, as it does in
      PyTorch's persistent workers).
    - ``batch_size``, ``batch_sampler``, ``sampler``, ``drop_last``, ``dataset`` and
      ``persistent_workers`` cannot be set after construction (``ValueError``, PyTorch's).
    - ``pin_memory`` is accepted and does nothing (the batches are on the CPU, as with PyTorch
      without an accelerator).
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Iterable[Any] | None = None,
                 batch_sampler: Iterable[Any] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[Any], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: str | Any | None = None,
                 generator: np.random.Generator | int | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True,
                 seed: int | None = None) -> None:
        object.__setattr__(self, "_initialized", False)
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(
                batch_size, (int, np.integer)) or batch_size < 1):
            raise ValueError(f"DataLoader: batch_size should be a positive integer value (or "
                             f"None: items one by one, not batched), got {batch_size!r}")
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers}")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0 (DataLoader: pass "
                             "num_workers > 0, or leave persistent_workers=False)")
        if prefetch_factor is not None and prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor must be >= 1, got {prefetch_factor}")
        if num_workers and prefetch_factor is None:
            prefetch_factor = 2  # (what it reads back as, PyTorch's)
        if multiprocessing_context is not None:  # PyTorch's checks, at construction (a bogus
            # start method failed only when an epoch began)
            if num_workers == 0:
                raise ValueError("multiprocessing_context can only be used with multi-process "
                                 "loading (num_workers > 0), but got num_workers=0")
            if isinstance(multiprocessing_context, str):
                methods = multiprocessing.get_all_start_methods()
                if multiprocessing_context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={multiprocessing_context!r}")
            elif not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context "
                                f"object or a string specifying the start method, but got "
                                f"multiprocessing_context={multiprocessing_context!r}")
        for what, fn in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn)):
            if fn is not None:  # (found here, not when the first batch is made)
                check_callable("DataLoader", what, fn)
        for what, indices in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if indices is not None and not isinstance(indices, Iterable):
                raise TypeError(f"DataLoader: {what} must be an iterable of "
                                f"{'indices' if what == 'sampler' else 'lists of indices'} (a "
                                f"Sampler), got {described(indices)}")
        if seed is not None and generator is not None:
            raise ValueError("DataLoader: give seed or generator, not both")
        if generator is not None:
            generator = held_generator(generator, "DataLoader")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not iterable:
            if shuffle and seed is not None:
                sampler = _EpochSeededSampler(dataset, seed)
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, int(batch_size), drop_last)
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.drop_last, self.seed, self.generator, self.epoch = drop_last, seed, generator, 0
        self.collate_fn, self.pin_memory = collate_fn, pin_memory
        # accepted, as PyTorch 2.13's: no pinned memory here, and batches always come in order
        # (which in_order=False allows too)
        self.pin_memory_device, self.in_order = pin_memory_device, in_order
        self.num_workers, self.prefetch_factor = num_workers, prefetch_factor
        self.worker_init_fn, self.timeout = worker_init_fn, timeout
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self._len_reported: int | None = None  # an IterableDataset's len, once len(self) asked
        self._initialized = True

    def __setattr__(self, attr: str, value: Any) -> None:
        """PyTorch's rule: what the batches are built from (``dataset``, ``sampler``,
        ``batch_sampler``, ``batch_size``, ``drop_last``, ``persistent_workers``) is fixed once
        the loader is made -- build a new ``DataLoader`` to change it. The rest (``collate_fn``,
        ``num_workers``, ``epoch``, ...) may change between epochs."""
        if attr in _FIXED_AFTER_INIT and self.__dict__.get("_initialized", False):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is "
                             f"initialized (PyTorch's rule: make a new {type(self).__name__} with "
                             f"{attr}=... instead)")
        object.__setattr__(self, attr, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (
            isinstance(self.dataset, IterableDataset) and self.batch_size is not None)

    @property
    def _collate_fn(self) -> Callable[[list[Any]], Any] | None:
        """The user's ``collate_fn``; ``None`` for ours (``default_collate``, fast path)."""
        return None if self.collate_fn in (None, default_collate) else self.collate_fn

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = self._len_reported = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)  # type: ignore[arg-type]

    def _start_epoch(self) -> None:
        if isinstance(self.sampler, _EpochSeededSampler):
            self.sampler.set_epoch(self.epoch)

    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, IterableDataset):
            # (the len reported when the iterator is made, as PyTorch's: list(loader) asks
            # len(loader) only after iter(loader), and that first call does not count)
            return _LoaderIterator(self._stream_epoch(self._len_reported), self)
        return _LoaderIterator(self._map_epoch(), self)

    def _stream_epoch(self, reported: int | None) -> Iterator[Any]:
        """An epoch of an ``IterableDataset``, with PyTorch's warning for each batch beyond
        ``reported``, the dataset's len if ``len(self)`` was asked."""
        self.epoch += 1
        stream = self._from_stream() if self.num_workers == 0 else self._from_stream_workers()
        if reported is None:
            yield from stream
            return
        try:
            for count, batch in enumerate(stream, 1):
                if count > reported:  # PyTorch's count: batches against the dataset's len
                    # (not the loader's)
                    warnings.warn(self._too_many(reported, count), stacklevel=2)
                yield batch
        finally:
            stream.close()  # (the workers stop with it)

    def _map_epoch(self) -> Iterator[Any]:
        """An epoch of a map-style dataset."""
        if not self._auto_collation:  # PyTorch's batch_size=None: the items themselves
            self._start_epoch()
            keys = epoch_indices(self.sampler)  # type: ignore[arg-type]
            self.epoch += 1
            keys = iter(keys.tolist() if isinstance(keys, np.ndarray) else keys)
            if self.num_workers > 0:  # (each item converted in a worker, as PyTorch's)
                yield from self._from_workers(keys, False, items=True)
                return
            convert = self.collate_fn or default_convert
            for k in keys:
                try:
                    item = self.dataset[k]
                except StopIteration:  # a dataset's way to end the epoch (PyTorch's)
                    return
                yield convert(item)
            return
        self._start_epoch()
        batches = batch_indices(self.batch_sampler)  # type: ignore[arg-type]
        self.epoch += 1
        fast = has_batch_path(self.dataset)
        if self.num_workers == 0:
            collate = self._collate_fn
            path = _BatchPath(self.dataset) if fast else None
            for idx in batches:
                try:
                    batch = _as_tensors(_batch(self.dataset, idx, path)) if collate is None \
                        else collate(_items(self.dataset, idx))
                except StopIteration:  # raised by __getitem__: the epoch ends (PyTorch's)
                    return
                yield batch
        else:
            yield from self._from_workers(batches, fast)

    def _from_stream(self) -> Iterator[Any]:
        """An ``IterableDataset``'s samples, in batches of ``batch_size`` as they come."""
        items = iter(self.dataset)
        if self.batch_size is None:
            convert = self.collate_fn or default_convert
            for item in items:
                yield convert(item)
            return
        collate = self.collate_fn or default_collate
        for batch in _stream_batches(items, self.batch_size, self.drop_last):
            yield collate(batch)

    def _too_many(self, reported: int, count: int) -> str:
        msg = (f"Length of IterableDataset {self.dataset} was reported to be {reported}(when "
               f"accessing len(dataloader)), but {count} samples have been fetched. ")
        if self.num_workers > 0:
            msg += ("For multiprocessing data-loading, this could be caused by not properly "
                    "configuring the IterableDataset replica at each worker. Please see "
                    "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset "
                    "for examples.")
        return msg

    def _from_stream_workers(self) -> Iterator[Any]:
        """An ``IterableDataset`` read by ``num_workers`` processes, each iterating its own copy
        (PyTorch's): task ``t`` goes to the next worker whose stream has not ended, in turn,
        each to its own queue, up to ``prefetch_factor`` per worker ahead; the answers are
        yielded in task order, the tasks of an ended worker skipped -- worker 0's first batch,
        worker 1's first, ..., then their second ones, as PyTorch's."""
        ctx = self._context()
        batched = self.batch_size is not None
        collate = self._collate_fn if batched else self.collate_fn
        if ctx.get_start_method() != "fork":
            for what, fn in (("collate_fn", collate), ("worker_init_fn", self.worker_init_fn)):
                if fn is not None:
                    _check_picklable(what, fn, ctx.get_start_method())
        n = self.num_workers
        tasks, results = [ctx.Queue() for _ in range(n)], ctx.Queue()
        seed = self._epoch_seed()
        workers = [ctx.Process(target=_stream_worker, daemon=True,
                               args=(self.dataset, tasks[i], results, i, self.worker_init_fn,
                                     seed, collate, self.batch_size, self.drop_last, n))
                   for i in range(n)]
        started: list[Any] = []  # (a worker that fails to start -- a dataset that does not
        # pickle for spawn -- leaves those before it to stop)
        owner: dict[int, int] = {}  # task number -> its worker, until yielded or skipped
        waiting, live = [0] * n, [True] * n  # tasks unanswered; streams not ended, per worker
        ready: dict[int, Any] = {}
        sent, done, turn, stuck = 0, 0, 0, False
        ahead = (self.prefetch_factor or 2) * n
        try:
            for w in workers:
                w.start()
                started.append(w)
            while True:
                while any(live) and sum(c for c, a in zip(waiting, live) if a) < ahead:
                    while not live[turn]:
                        turn = (turn + 1) % n
                    tasks[turn].put(sent)
                    owner[sent] = turn
                    waiting[turn] += 1
                    sent, turn = sent + 1, (turn + 1) % n
                while done < sent and done not in ready and not live[owner[done]]:
                    del owner[done]  # (a task its worker got after its stream ended)
                    done += 1
                if done == sent:
                    return
                if done not in ready:
                    number, data, error = self._result(results, workers)
                    waiting[owner[number]] -= 1
                    if error is not None:  # raised in its turn: a later worker's error waits
                        ready[number] = error  # for the batches before it (PyTorch's order)
                    elif isinstance(data, _StreamEnd):
                        live[owner[number]] = False
                    else:
                        ready[number] = data
                    continue
                data = ready.pop(done)
                if isinstance(data, _WorkerError):
                    if data.exc_type is StopIteration:
                        return
                    data.reraise(done)
                del owner[done]
                done += 1
                if isinstance(data, _Pickled):
                    data = pickle.loads(data.data)
                if collate is not None:
                    yield data
                else:
                    yield _as_tensors(data) if batched else default_convert(data)
        except BaseException:  # (an error, a timeout, a break: GeneratorExit)
            stuck = True
            raise
        finally:
            _stop(started, tasks[:len(started)], results, 0.0 if stuck else 5.0)

    def _context(self) -> Any:
        if isinstance(self.multiprocessing_context, multiprocessing.context.BaseContext):
            return self.multiprocessing_context
        if self.multiprocessing_context is not None:
            return multiprocessing.get_context(self.multiprocessing_context)
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context("fork" if "fork" in methods else methods[0])

    def _from_workers(self, batches: Iterator[Any], fast: bool,
                      items: bool = False) -> Iterator[Any]:
        """The batches of a map-style dataset built by ``num_workers`` processes, in order:
        batch ``t`` goes to worker ``t % n`` (its own queue, PyTorch's round-robin), up to
        ``prefetch_factor`` per worker ahead. With ``items`` (``batch_size=None``) each of
        ``batches`` is one key, and the answers are the converted items."""
        if is_grad_enabled() and _requires_grad(self.dataset):  # (under no_grad the batches
            # carry no graph, and a forked worker reads them as PyTorch's does: allowed)
            raise RuntimeError("DataLoader: num_workers > 0 cannot send tensors that require grad "
                               "to worker processes while grad mode is on (their graph stays in "
                               "this one; PyTorch refuses too): use num_workers=0, iterate under "
                               "no_grad(), or a TensorDataset of .detach()ed tensors")
        ctx = self._context()
        collate = self.collate_fn if items else self._collate_fn
        if ctx.get_start_method() != "fork":
            for what, fn in (("collate_fn", collate), ("worker_init_fn", self.worker_init_fn)):
                if fn is not None:
                    _check_picklable(what, fn, ctx.get_start_method())
        try:
            n = min(self.num_workers, max(len(self), 1))
        except TypeError:  # a sampler without a length
            n = self.num_workers
        tasks, results = [ctx.Queue() for _ in range(n)], ctx.Queue()
        seed = self._epoch_seed()
        workers = [ctx.Process(target=_worker, daemon=True,
                               args=(self.dataset, tasks[i], results, i, self.worker_init_fn,
                                     seed, collate, fast, n, items))
                   for i in range(n)]
        for w in workers:
            w.start()
        sent, done, ready, exhausted, stuck = 0, 0, {}, False, False
        try:
            ahead = (self.prefetch_factor or 2) * len(workers)
            while True:
                while not exhausted and sent - done < ahead:
                    idx = next(batches, _StreamEnd)
                    if idx is _StreamEnd:
                        exhausted = True
                    else:
                        tasks[sent % n].put((sent, idx))
                        sent += 1
                if exhausted and done == sent:
                    return
                while done not in ready:
                    number, batch, error = self._result(results, workers)
                    if number < 0:  # its worker_init_fn failed: the answer to its first task
                        number = error.worker_id  # (task t goes to worker t % n)
                    # an error waits for the batches before it (PyTorch's order)
                    ready[number] = batch if error is None else error
                batch = ready.pop(done)
                if isinstance(batch, _WorkerError):
                    if batch.exc_type is StopIteration:  # a dataset's way to end the epoch
                        return  # (PyTorch's: re-raised in __next__, it ends the loop)
                    batch.reraise(done)
                if isinstance(batch, _Pickled) or collate is not None or items:
                    batch = pickle.loads(batch.data if isinstance(batch, _Pickled) else batch)
                yield _as_tensors(batch) if collate is None and not items else batch
                done += 1
        except BaseException:  # (an error, a timeout, a break: GeneratorExit)
            stuck = True
            raise
        finally:
            _stop(workers, tasks, results, 0.0 if stuck else 5.0)

    def _epoch_seed(self) -> int:
        """This epoch's seed for the workers: from ``seed`` (or from the seed of ``generator``, or
        of the generator ``manual_seed`` seeded) and the epoch number -- repeatable, without
        drawing from the generator that shuffles (so the order stays that of
        ``num_workers=0``)."""
        if self.seed is not None:
            words = [self.seed, self.epoch]
        else:  # PyTorch draws a base seed per iterator from the generator; drawing would change
            # the shuffle order, so the seed is the generator's seed, its position and how many
            # worker epochs it has started since it was last seeded: a second loader after the
            # same manual_seed (or with a generator seeded alike) repeats the first one's
            # numbers, and a later loader from the same generator does not
            words = [*_generator_position(self.generator), self._worker_epochs_started()]
        sequence = np.random.SeedSequence(words)
        return int(sequence.generate_state(1, np.uint32)[0]) * 2**20

    def _worker_epochs_started(self) -> int:
        """The worker epochs started from this loader's generator since it was last seeded
        (counted on a ``tinygrad_cnn.Generator``, the default one for ``None``; on the loader
        for a numpy generator or an int seed's), counting this one."""
        holder: Any = default_generator if self.generator is None else self.generator
        if not isinstance(holder, Generator):
            holder = self
        holder._worker_epochs = getattr(holder, "_worker_epochs", 0) + 1
        return int(holder._worker_epochs)

    def _result(self, results: Any, workers: list[Any]) -> tuple[int, Any, str | None]:
        """The next finished batch; a worker that died without a word is an error too."""
        deadline = time.monotonic() + self.timeout if self.timeout else None
        while True:
            step = _POLL if deadline is None else max(0.0, min(_POLL, deadline - time.monotonic()))
            try:
                return results.get(timeout=step)
            except queue.Empty:
                dead = [w for w in workers if not w.is_alive()]
                if dead:
                    codes = ", ".join(str(w.exitcode) for w in dead)
                    raise RuntimeError(f"DataLoader: {len(dead)} worker process(es) exited "
                                       f"unexpectedly (exit codes {codes})") from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise _TimedOutError(f"DataLoader timed out after {self.timeout} seconds: no "
                                         "batch from the workers") from None


class _EpochSeededSampler(RandomSampler):
    """``shuffle=True`` with the loader's ``seed``: epoch ``e``'s order is the permutation drawn
    from ``seed + e`` (``set_epoch``, as PyTorch's ``DistributedSampler``), so that a run resumed
    at epoch ``e`` repeats the uninterrupted one."""

    def __init__(self, data_source: Any, seed: int) -> None:
        super().__init__(data_source)
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose order ``__iter__`` gives."""
        self.epoch = epoch

    def _indices(self) -> np.ndarray:
        return np.random.default_rng(self.seed + self.epoch).permutation(len(self.data_source))
