"""Samplers as ``torch.utils.data`` has them: the order in which a ``DataLoader`` visits a
dataset's keys (``SequentialSampler``, ``RandomSampler``, ``SubsetRandomSampler``,
``WeightedRandomSampler``), and ``BatchSampler``, which groups them into batches.

Any iterable of keys serves as a sampler, and any iterable of lists of keys as a batch sampler.
Ours also give a whole epoch's keys as one int array (``_indices``), which the ``DataLoader``
slices into batches without a Python loop over the keys -- unless a subclass overrides
``__iter__``, which is then what counts."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

import numpy as np

from tinygrad_cnn.random import as_generator, held_generator
from tinygrad_cnn.tensor import Tensor

T_co = TypeVar("T_co", covariant=True)


class Sampler(Generic[T_co]):
    """Base class: subclasses define ``__iter__`` (the keys, or lists of keys for a batch
    sampler) and, for ``len(loader)``, ``__len__``."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class _ArraySampler(Sampler[int]):
    """A sampler whose epoch is one int array (``_indices``), or, for an epoch too long to hold
    (``_too_long``), keys drawn a block at a time (``_blocks``)."""

    def _indices(self) -> np.ndarray:
        raise NotImplementedError

    def _too_long(self) -> bool:
        return False

    def _blocks(self) -> Iterator[int]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[int]:
        if self._too_long():
            return self._blocks()
        return iter(self._indices().tolist())


#: an epoch of more keys than this is drawn a block at a time (RandomSampler with replacement
#: and num_samples=10**9 -- "train for N steps" -- needed 8 GB before its first key)
BLOCK = 1 << 20


def epoch_indices(sampler: Iterable[Any]) -> np.ndarray | Iterator[Any]:
    """One epoch of ``sampler``: an int array from our own samplers (not overridden), an iterator
    over it from any other iterable (and over blocks for an epoch too long to hold)."""
    if isinstance(sampler, _ArraySampler) and type(sampler).__iter__ is _ArraySampler.__iter__ \
            and not sampler._too_long():
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
        self.generator = held_generator(generator, "RandomSampler")
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

    def _too_long(self) -> bool:
        return self.num_samples > BLOCK

    def _empty(self) -> RuntimeError:
        """PyTorch's RuntimeError for keys drawn from nothing (was numpy's "high <= 0", a
        ZeroDivisionError, or without replacement past a block an endless loop)."""
        return RuntimeError(f"RandomSampler: cannot draw {self.num_samples} keys from an empty "
                            "data source (len 0); give it samples, or leave num_samples out")

    def _blocks(self) -> Iterator[int]:
        n, rng = len(self.data_source), as_generator(self.generator, "RandomSampler")
        if n == 0:
            raise self._empty()
        left = self.num_samples
        while left > 0:  # (with replacement: independent draws; without: one permutation at a
            k = min(left, BLOCK if self.replacement else n)  # time, the last one cut)
            yield from (rng.integers(0, n, k) if self.replacement else rng.permutation(n)[:k]
                        ).tolist()
            left -= k

    def _indices(self) -> np.ndarray:
        n, rng = len(self.data_source), as_generator(self.generator, "RandomSampler")
        if n == 0:
            raise self._empty()
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
        self.generator = held_generator(generator, "SubsetRandomSampler")

    def _indices(self) -> np.ndarray:
        order = as_generator(self.generator, "SubsetRandomSampler").permutation(len(self.indices))
        return np.asarray(self.indices, dtype=np.int64).reshape(-1)[order]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(_ArraySampler):
    """``num_samples`` keys out of ``0 .. len(weights) - 1``, key ``i`` drawn with probability
    ``weights[i] / sum(weights)`` -- ``torch.multinomial(weights, num_samples, replacement)``, as
    PyTorch's: independently (``replacement=True``), or one after another among the keys not
    drawn yet (``replacement=False``; the keys in the order they were drawn). A new draw every
    epoch. ``weights``: any 1-d sequence, array or tensor of numbers, kept as a float64 Tensor
    (``self.weights``); they need not sum to 1.

    ``generator`` as ``RandomSampler``'s: ``None``, the generator that ``tinygrad_cnn.manual_seed``
    seeds; a ``numpy.random.Generator``, drawn from each epoch; an int, the seed of a generator
    made here (the same sequence of epochs every time -- not PyTorch's keys).

    Errors as PyTorch's, at construction: ``ValueError`` for a ``num_samples`` that is not a
    positive int, a ``replacement`` that is not a bool, ``weights`` that are not 1-d; and, when an
    epoch is drawn (``iter``), as ``torch.multinomial``'s: ``RuntimeError`` for a negative, NaN
    or infinite weight, weights that sum to 0 (or no weights), and ``replacement=False`` with
    ``num_samples`` beyond ``len(weights)``. Unlike PyTorch 2.13 on the CPU, ``replacement=False``
    with ``num_samples`` beyond the number of non-zero weights is a ``RuntimeError`` too: PyTorch
    documents it as not allowed but then returns keys of weight 0 (pytorch/pytorch#50034)."""

    def __init__(self, weights: Sequence[float] | np.ndarray | Tensor, num_samples: int,
                 replacement: bool = True,
                 generator: np.random.Generator | int | None = None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        array = np.array(weights, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(array.shape)}")
        self.weights = Tensor(array)
        self.num_samples, self.replacement = num_samples, replacement
        self.generator = held_generator(generator, "WeightedRandomSampler")

    def _probabilities(self) -> np.ndarray:
        """The weights, checked as ``torch.multinomial`` checks them, scaled to a maximum of 1."""
        w = np.asarray(self.weights, dtype=np.float64)
        who = "WeightedRandomSampler: invalid multinomial distribution"
        if not self.replacement and self.num_samples > w.size:
            raise RuntimeError(f"WeightedRandomSampler: cannot sample n_sample > "
                               f"prob_dist.size(-1) samples without replacement: num_samples="
                               f"{self.num_samples}, but there are {w.size} weights")
        if w.size == 0:
            raise RuntimeError(f"{who} (sum of probabilities <= 0): weights is empty")
        bad = np.flatnonzero(~(w >= 0))
        if bad.size:
            raise RuntimeError(f"{who} (encountering probability entry < 0 or NaN): "
                               f"weights[{bad[0]}] = {w[bad[0]]}; weights must be non-negative, "
                               f"finite and have a non-zero sum")
        bad = np.flatnonzero(np.isinf(w))
        if bad.size:
            raise RuntimeError(f"{who} (encountering probability entry = infinity or NaN): "
                               f"weights[{bad[0]}] = {w[bad[0]]}; weights must be non-negative, "
                               f"finite and have a non-zero sum")
        top = w.max()
        if top <= 0:
            raise RuntimeError(f"{who} (sum of probabilities <= 0): all {w.size} weights are 0")
        nonzero = int(np.count_nonzero(w))
        if not self.replacement and self.num_samples > nonzero:
            raise RuntimeError(f"WeightedRandomSampler: cannot draw num_samples="
                               f"{self.num_samples} keys without replacement from {nonzero} "
                               f"non-zero weights (of {w.size}); give replacement=True or fewer "
                               f"num_samples")
        return w / top  # no overflow in the sums below, even for weights near the float64 max

    def _indices(self) -> np.ndarray:
        p = self._probabilities()
        rng = as_generator(self.generator, "WeightedRandomSampler")
        if self.replacement:  # the first key whose cumulative weight exceeds a uniform draw
            cdf = np.cumsum(p)
            cdf /= cdf[-1]  # exactly 1 at the end, and a uniform draw is below 1
            return np.searchsorted(cdf, rng.random(self.num_samples), side="right")
        # Without replacement: the keys in the order of exponential "arrival times" of rate
        # weights[i] -- the first to arrive is key i with probability p_i / sum(p), and (the
        # exponential forgets) the next among the rest likewise: sequential draws, in one sort.
        with np.errstate(divide="ignore", invalid="ignore"):
            times = rng.standard_exponential(p.size) / p  # weight 0: never (inf)
        return np.argsort(times, kind="stable")[:self.num_samples]

    def __len__(self) -> int:
        return self.num_samples


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
