"""Samplers as ``torch.utils.data`` has them: the order in which a ``DataLoader`` visits a
dataset's keys (``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``), and
``BatchSampler``, which groups them into batches.

Any iterable of keys serves as a sampler, and any iterable of lists of keys as a batch sampler.
Ours also give a whole epoch's keys as one int array (``_indices``), which the ``DataLoader``
slices into batches without a Python loop over the keys -- unless a subclass overrides
``__iter__``, which is then what counts."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from tinygrad_cnn.random import as_generator

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class: subclasses define ``__iter__`` (the keys, or lists of keys for a batch
    sampler) and, for ``len(loader)``, ``__len__``."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class _ArraySampler(Sampler[int]):
    """A sampler whose epoch is one int array (``_indices``)."""

    def _indices(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())


def epoch_indices(sampler: Iterable[Any]) -> np.ndarray | Iterator[Any]:
    """One epoch of ``sampler``: an int array from our own samplers (not overridden), an iterator
    over it from any other iterable."""
    if isinstance(sampler, _ArraySampler) and type(sampler).__iter__ is _ArraySampler.__iter__:
        return sampler._indices()
    return iter(sampler)


class SequentialSampler(_ArraySampler):
    """``0, 1, ..., len(data_source) - 1``, every epoch."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _indices(self) -> np.ndarray:
        return np.arange(len(self.data_source))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(_ArraySampler):
    """The keys of ``data_source`` in a random order, a new one every epoch: a permutation
    (``replacement=False``; ``num_samples`` beyond the length takes further permutations, cut to
    fit), or ``num_samples`` keys drawn independently (``replacement=True``). ``num_samples``
    defaults to ``len(data_source)``.

    ``generator``: ``None``, the generator that ``tinygrad_cnn.manual_seed`` seeds; a
    ``numpy.random.Generator``, drawn from each epoch; an int, the seed of a generator made here
    (so a sampler built with ``generator=0`` gives the same sequence of epochs every time, as one
    built with PyTorch's ``torch.Generator().manual_seed(0)`` does -- not the same orders as
    PyTorch's). Errors as PyTorch's: ``TypeError`` for a non-bool ``replacement``, ``ValueError``
    for a ``num_samples`` (or an empty ``data_source``) that is not a positive int."""

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None,
                 generator: np.random.Generator | int | None = None) -> None:
        self.data_source, self.replacement, self._num_samples = data_source, replacement, num_samples
        self.generator = None if generator is None else as_generator(generator, "RandomSampler")
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or \
                self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """How many keys an epoch gives: ``num_samples`` if given, else the dataset's length."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self) -> np.ndarray:
        n, rng = len(self.data_source), as_generator(self.generator, "RandomSampler")
        if self.replacement:
            return rng.integers(0, n, self.num_samples)
        whole, rest = divmod(self.num_samples, n)
        parts = [rng.permutation(n) for _ in range(whole)]
        if rest:
            parts.append(rng.permutation(n)[:rest])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(_ArraySampler):
    """The given ``indices`` in a random order, a new one every epoch (``generator`` as
    ``RandomSampler``'s)."""

    def __init__(self, indices: Sequence[int],
                 generator: np.random.Generator | int | None = None) -> None:
        self.indices = indices
        self.generator = None if generator is None else as_generator(generator,
                                                                     "SubsetRandomSampler")

    def _indices(self) -> np.ndarray:
        order = as_generator(self.generator, "SubsetRandomSampler").permutation(len(self.indices))
        return np.asarray(self.indices, dtype=np.int64).reshape(-1)[order]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler[list[int]]):
    """The keys of ``sampler`` (any iterable of them) in lists of ``batch_size``; the last,
    shorter one dropped if ``drop_last``. ``ValueError`` for a ``batch_size`` that is not a
    positive int or a ``drop_last`` that is not a bool, as PyTorch's."""

    def __init__(self, sampler: Iterable[Any], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        keys = iter(self.sampler)
        while batch := list(itertools.islice(keys, self.batch_size)):
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def batch_indices(batch_sampler: Iterable[Any]) -> Iterator[Any]:
    """One epoch of ``batch_sampler``'s batches, each an int array where its keys are ints (a list
    of the keys otherwise): a ``BatchSampler`` over one of our samplers slices one array."""
    if isinstance(batch_sampler, BatchSampler) and \
            type(batch_sampler).__iter__ is BatchSampler.__iter__:
        keys = epoch_indices(batch_sampler.sampler)
        if isinstance(keys, np.ndarray):
            size = batch_sampler.batch_size
            stop = len(keys) - len(keys) % size if batch_sampler.drop_last else len(keys)
            return (keys[start:start + size] for start in range(0, stop, size))
    return (as_index(batch) for batch in batch_sampler)


def as_index(batch: Any) -> Any:
    """A batch of keys as an int array where they are ints, else as they came (a list)."""
    if isinstance(batch, np.ndarray) and batch.dtype.kind in "iu":
        return batch
    keys = list(batch)
    if keys and all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys):
        return np.asarray(keys, dtype=np.int64)
    return keys
