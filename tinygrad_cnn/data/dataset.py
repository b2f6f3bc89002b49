"""Datasets as ``torch.utils.data`` has them: ``Dataset`` (``a + b`` concatenates),
``IterableDataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``, ``ChainDataset`` and
``random_split``.

A dataset may also have ``arrays(index)``: a whole batch at once, one fancy-index per field --
the ``DataLoader``'s fast path. ``TensorDataset`` and ``MNIST`` have it, and ``Subset`` and
``ConcatDataset`` pass it on from the datasets they hold when those have it. A subclass that
overrides ``__getitem__`` (or ``__getitems__``) but not ``arrays`` -- a per-item transform -- has
no fast path (``has_batch_path``): its items are what count, as in PyTorch."""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

import numpy as np

from tinygrad_cnn._scalars import described, is_number
from tinygrad_cnn.backend import to_numpy
from tinygrad_cnn.random import as_generator
from tinygrad_cnn.tensor import Tensor, promote_types

T_co = TypeVar("T_co", covariant=True)


def stack_dtype(dtypes: Iterable[Any]) -> np.dtype:
    """The dtype ``torch.stack`` gives samples of these dtypes (``promote_types``: an int64 and a
    float16 sample give float16, an int32 and a float32 one float32 -- numpy's rule gave
    float64). ``default_collate`` and every batch path stack by it."""
    return functools.reduce(promote_types, (np.dtype(d) for d in dtypes))


def unequal_sizes(where: str, shapes: Iterable[tuple[int, ...]]) -> RuntimeError:
    """The error for samples of different shapes in one batch (``default_collate``'s)."""
    return RuntimeError(f"DataLoader: stack expects each tensor to be equal size, but {where} "
                        f"have shapes {sorted(set(shapes))} in one batch; pad or resize them in "
                        "the dataset")


class UnequalSamplesError(RuntimeError):
    """A batch path met samples that do not stack (shapes, or numbers of fields, that differ).
    The ``DataLoader`` then collates the batch's items one by one, so that the error is exactly
    ``default_collate``'s."""


def _join_rows(parts: list[np.ndarray], back: np.ndarray, where: str) -> np.ndarray:
    """Rows from several datasets as one batch, in the order ``back`` gives: what stacking their
    samples gives (``stack_dtype``'s dtype; samples of different shapes are an error)."""
    shapes = {a.shape[1:] for a in parts}
    if len(shapes) > 1:
        raise UnequalSamplesError(str(unequal_sizes(where, shapes)))
    dtype = stack_dtype(a.dtype for a in parts)
    return np.concatenate(parts, dtype=dtype, casting="unsafe")[back]


def _defining_class(cls: type, name: str) -> type | None:
    """The class in ``cls``'s MRO whose own namespace defines ``name``."""
    for c in cls.__mro__:
        if name in c.__dict__:
            return c
    return None


def has_batch_path(dataset: Any) -> bool:
    """Whether ``dataset.arrays(index)`` gives what its items would: it has ``arrays``, and no
    class below the one that defines ``arrays`` overrides ``__getitem__`` or ``__getitems__``
    (a subclass of ``TensorDataset`` or ``MNIST`` that transforms items in ``__getitem__`` has
    its items collated one by one; one that overrides ``arrays`` as well keeps the fast path).
    ``Subset`` and ``ConcatDataset`` ask this of the datasets they hold."""
    return _batch_path(dataset) is not None


def _batch_path(dataset: Any) -> Callable[..., Any] | None:
    """``dataset.arrays`` where ``has_batch_path`` holds, else None -- read once (a Subset's is a
    property that reads its dataset's: read twice a level, a Subset of a Subset of ... 20 deep
    took 2.4 s a batch, t165)."""
    cls = type(dataset)
    owner = _defining_class(cls, "arrays")
    if owner is None:
        return None
    for name in ("__getitem__", "__getitems__"):
        # the class that gives the dataset this method must be the one that gives it to the
        # owner of ``arrays`` (a subclass's override, or a mixin's before it, is not)
        if _defining_class(cls, name) is not _defining_class(owner, name):
            return None
    return getattr(dataset, "arrays", None)  # (Subset's raises for its dataset's)


class Dataset(Generic[T_co]):
    """A map from keys (usually ``0 .. len - 1``) to samples: subclasses define ``__getitem__``
    and, for the ``DataLoader``'s default samplers, ``__len__``. ``a + b`` is
    ``ConcatDataset([a, b])``."""

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset[T_co]) -> ConcatDataset[T_co]:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A stream of samples: subclasses define ``__iter__``. ``a + b`` is
    ``ChainDataset([a, b])``. The ``DataLoader`` batches it in the order it yields (no shuffle,
    sampler or batch_sampler, as PyTorch); with ``num_workers > 0`` each worker iterates its own
    copy, which can share the stream out by ``get_worker_info()`` (see ``DataLoader``)."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset[T_co]) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


def _host_array(data: Any) -> np.ndarray:
    """A tensor's array on the CPU (itself there, a copy from the GPU)."""
    return to_numpy(data)


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    """Tensors (or arrays) of one length, item ``i`` being the tuple of their ``i``-th rows, as
    Tensors: ``TensorDataset(images, labels)``. ``tensors``: the tensors given (arrays become
    Tensors sharing their memory). The loader's batches come from the tensors as they are then:
    a new ``ds.tensors`` or a ``t.data = ...`` swap is seen, as PyTorch's; a GPU tensor is copied
    to the host once per array it holds (and per in-place change), not once per batch."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor._make(np.asarray(t))
                             for t in tensors)
        if any(t.ndim == 0 for t in self.tensors):
            raise ValueError("TensorDataset: every tensor needs a first (sample) dimension")
        lengths = [t.shape[0] for t in self.tensors]
        if len(set(lengths)) > 1:
            raise ValueError(f"TensorDataset: the tensors have different lengths {lengths} "
                             "along their first dimension; they must all be the same")
        # position -> (the tensor's array object, its version, that array on the host)
        self._host: dict[int, tuple[Any, int, np.ndarray]] = {}

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, i: Any) -> tuple[Tensor, ...]:
        return tuple(t[i] for t in self.tensors)

    def _host_arrays(self) -> list[np.ndarray]:
        """Each current tensor's array on the host, copied again only when the tensor holds
        another array object (``ds.tensors = ...``, ``t.data = ...``) or a new version of it."""
        out = []
        for k, t in enumerate(self.tensors):
            if not isinstance(t, Tensor):  # (someone put arrays in ds.tensors)
                out.append(np.asarray(t))
                continue
            data, version = t._data, t._version_counter[0]
            cached = self._host.get(k)
            if cached is None or cached[0] is not data or cached[1] != version:
                cached = self._host[k] = (data, version, _host_array(data))
            out.append(cached[2])
        return out

    def arrays(self, index: Any = slice(None)) -> tuple[np.ndarray, ...]:
        """A whole batch at once: each tensor's rows at ``index``."""
        return tuple(a[index] for a in self._host_arrays())


class Subset(Dataset[T_co]):
    """The items of ``dataset`` at ``indices`` (``--limit`` uses the first N; ``random_split``
    makes these). ``indices`` is kept as given (a list stays a list, so ``a.indices +
    b.indices`` joins two, and ``dataset[k]`` gets its elements: Python ints from a list), as
    PyTorch's; the fast path takes a batch's keys from it as an int array."""

    def __init__(self, dataset: Any, indices: Sequence[int] | np.ndarray) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, list):
            return self.dataset[[self.indices[k] for k in i]]
        return self.dataset[self.indices[i]]

    def _keys(self, index: Any) -> Any:
        """The dataset's keys at the subset's positions ``index`` (an int, a slice or an int
        array): an int array (or one key), read from ``indices`` as it is now."""
        indices = self.indices
        if isinstance(index, (int, np.integer)):
            return indices[index]
        if isinstance(indices, np.ndarray):
            keys = indices[index]
        elif isinstance(index, slice):
            keys = np.asarray(list(indices[index]))
        else:  # a batch's positions: only its keys are read (the list may be long)
            keys = np.asarray([indices[k] for k in np.asarray(index).reshape(-1).tolist()])
        if keys.dtype.kind not in "iu":  # (floats and bools were truncated to 0 and 1)
            if keys.size and keys.dtype.kind != "O":
                raise IndexError(f"Subset: indices must be integers, got {keys.dtype} keys "
                                 f"({keys.reshape(-1)[:3].tolist()}...)")
            keys = keys.astype(np.int64)
        return keys

    @property
    def arrays(self) -> Callable[..., Any]:
        """The dataset's fast batch path on the subset's indices -- only where the dataset has
        one (``hasattr(subset, "arrays")`` is False otherwise, and the loader collates items)."""
        whole = _batch_path(self.dataset)
        if whole is None:
            raise AttributeError(f"{type(self.dataset).__name__} has no arrays() batch path")
        return lambda index=slice(None): whole(self._keys(index))

    def __getitems__(self, indices: list[int]) -> list[Any]:
        """The items at the subset's positions ``indices``, through the dataset's own
        ``__getitems__`` when it has one (PyTorch's) -- or through this subset's own
        ``__getitem__`` when a subclass overrides it (its items are what the subclass makes)."""
        if type(self).__getitem__ is not Subset.__getitem__:
            return [self[i] for i in indices]
        batched = getattr(self.dataset, "__getitems__", None)
        if callable(batched):
            return batched([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]


class StackDataset(Dataset[Any]):
    """Datasets of one length side by side (PyTorch's ``StackDataset``): item ``i`` is the tuple
    of their ``i``-th items (``StackDataset(images, labels)``), or with keywords a dict
    (``StackDataset(image=images, label=labels)``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args and kwargs:
            raise ValueError("StackDataset: give the datasets as positional arguments (tuple "
                             "items) or as keywords (dict items), not both")
        if not args and not kwargs:
            raise ValueError("StackDataset: at least one dataset should be passed")
        self.datasets: Any = args if args else kwargs
        parts = args if args else tuple(kwargs.values())
        lengths = {len(d) for d in parts}
        if len(lengths) > 1:
            raise ValueError(f"StackDataset: size mismatch between datasets (lengths "
                             f"{[len(d) for d in parts]}); they must all have one length")
        self._length = lengths.pop()

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices: list[Any]) -> list[Any]:
        """A batch's items at once, each dataset's by its own ``__getitems__`` where it has one
        (PyTorch's)."""
        def part(d: Any) -> list[Any]:
            got = d.__getitems__(indices) if callable(getattr(d, "__getitems__", None)) else [
                d[i] for i in indices]
            if len(got) != len(indices):
                raise ValueError(f"StackDataset: a dataset's __getitems__ returned {len(got)} "
                                 f"items for {len(indices)} indices")
            return list(got)

        if isinstance(self.datasets, dict):
            parts = {k: part(d) for k, d in self.datasets.items()}
            return [{k: v[j] for k, v in parts.items()} for j in range(len(indices))]
        columns = [part(d) for d in self.datasets]
        return [tuple(c[j] for c in columns) for j in range(len(indices))]


class ConcatDataset(Dataset[T_co]):
    """The datasets one after another: item ``i`` is item ``i - cumulative_sizes[k - 1]`` of
    ``datasets[k]``, the first ``k`` with ``i < cumulative_sizes[k]``. Negative indices count from
    the end. An empty list, or an ``IterableDataset`` in it, is refused (``AssertionError``, as
    PyTorch); an index past the end is an ``IndexError``, one before the start a ``ValueError``
    (PyTorch's)."""

    datasets: list[Any]
    cumulative_sizes: list[int]

    @staticmethod
    def cumsum(sequence: Iterable[Any]) -> list[int]:
        """The running totals of the lengths: ``[len(d0), len(d0) + len(d1), ...]``."""
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:  # (raised, not asserted: it holds under python -O too)
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> T_co:
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = n + idx
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        if k == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for {n} items")
        return self.datasets[k][idx - (self.cumulative_sizes[k - 1] if k else 0)]

    @property
    def arrays(self) -> Callable[..., Any]:
        """A batch from datasets that all have ``arrays``: each one's rows fetched in one call
        and put back in the order asked (``hasattr(concat, "arrays")`` is False otherwise). Rows
        of several datasets are joined as ``default_collate`` stacks their samples: by
        PyTorch's dtype rule (``stack_dtype``), and samples of different shapes or numbers of
        fields are an ``UnequalSamplesError``."""
        parts = [_batch_path(d) for d in self.datasets]
        if any(p is None for p in parts):
            lacking = next(d for d, p in zip(self.datasets, parts) if p is None)
            raise AttributeError(f"{type(lacking).__name__} has no arrays() batch path")

        def gather(index: Any = slice(None)) -> Any:
            n = len(self)
            idx = np.arange(n)[index] if isinstance(index, slice) else \
                np.asarray(index, dtype=np.int64).reshape(-1)
            if idx.size and (idx.min() < -n or idx.max() >= n):
                raise IndexError(f"ConcatDataset: an index in [{idx.min()}, {idx.max()}] is out "
                                 f"of range for {n} items")
            idx = np.where(idx < 0, idx + n, idx)
            which = np.searchsorted(self.cumulative_sizes, idx, side="right")
            starts = np.array([0, *self.cumulative_sizes[:-1]])
            if idx.size == 0 or (which == which[0]).all():  # one dataset: no reordering
                k = int(which[0]) if idx.size else 0
                return parts[k](idx - starts[k])
            order = np.argsort(which, kind="stable")  # grouped by dataset, in order within
            cuts = np.flatnonzero(np.diff(which[order])) + 1
            pieces = [parts[int(which[g[0]])](idx[g] - starts[which[g[0]]])
                      for g in np.split(order, cuts)]
            if any(p is None for p in pieces):  # (a dataset that gives none for this batch --
                return None  # MNIST with a transform: the loader collates the items)
            back = np.empty_like(order)
            back[order] = np.arange(order.size)  # the position of each asked row in `pieces`
            tuples = {isinstance(p, tuple) for p in pieces}
            if tuples == {True}:
                if len({len(p) for p in pieces}) > 1:  # (zip dropped the extra fields)
                    raise UnequalSamplesError(
                        "ConcatDataset: each element in list of batch should be of equal size: "
                        f"its datasets give samples of {sorted({len(p) for p in pieces})} fields")
                return tuple(_join_rows(list(field), back, f"the field [{k}]")
                             for k, field in enumerate(zip(*pieces)))
            if tuples != {False}:
                raise UnequalSamplesError(
                    "ConcatDataset: each element in list of batch should be of equal size: some "
                    "of its datasets give tuples of fields, others single arrays")
            return _join_rows(pieces, back, "the samples")

        return gather


class ChainDataset(IterableDataset):
    """``IterableDataset``s one after another (what ``a + b`` gives for them); its length is the
    sum of theirs. Anything else in it is an ``AssertionError`` when reached, as in PyTorch."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)  # type: ignore[arg-type]
        return total


def _is_int(n: Any) -> bool:
    return isinstance(n, (int, np.integer))


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: np.random.Generator | int | None = None) -> list[Subset[Any]]:
    """Split ``dataset`` into ``Subset``s of the given lengths, disjoint and covering it, the items
    dealt at random; each one's ``indices`` is a list of ints, as PyTorch's. ``lengths``: ints
    summing to ``len(dataset)``, or fractions summing to 1 -- each split gets
    ``floor(fraction * len(dataset))`` and the items left over go one each to the splits in turn
    from the first (PyTorch's rule; a split of 0 items warns).

    ``generator``: where the random permutation comes from -- ``None``, the generator that
    ``tinygrad_cnn.manual_seed`` seeds; a ``numpy.random.Generator``, drawn from (it advances);
    an int, a seed (``random_split(ds, [0.8, 0.2], generator=42)`` is the same split every time,
    as PyTorch's ``generator=torch.Generator().manual_seed(42)`` -- though not the same items as
    PyTorch's, whose generator differs).

    Errors as PyTorch's: ``ValueError`` for lengths that do not sum to ``len(dataset)`` (fractions
    must sum to 1 within ``math.isclose`` and not above it) or a fraction outside [0, 1];
    ``TypeError`` for non-integer lengths that do sum to it. A negative length is a ``ValueError``
    here (PyTorch's slices then give subsets of the wrong sizes).
    """
    n = len(dataset)
    if isinstance(lengths, (str, bytes)) or not isinstance(getattr(lengths, "_data", lengths),
                                                            Iterable) \
            or getattr(lengths, "ndim", 1) == 0:
        raise TypeError(f"random_split: lengths must be a sequence of ints (sizes summing to "
                        f"len(dataset)) or of fractions summing to 1, got {described(lengths)}")
    # a tensor or array of lengths, or 0-d tensors: as numpy scalars of their own dtype, so
    # float32 fractions add and multiply in float32, as PyTorch's tensor elements do
    # (0.2f + 0.8f is 1; 10 * 0.7f is 7)
    data = getattr(lengths, "_data", lengths)
    if hasattr(data, "shape") and hasattr(data, "dtype") and getattr(data, "ndim", 0) >= 1:
        lengths = list(np.asarray(data))
    lengths = [np.asarray(x._data)[()] if hasattr(x, "_data") and getattr(x, "ndim", None) == 0
               else x for x in lengths]
    for i, length in enumerate(lengths):
        if not is_number(length):
            raise TypeError(f"random_split: lengths must be a sequence of ints (sizes summing to "
                            f"len(dataset)) or of fractions summing to 1, got "
                            f"{described(length)} at index {i}")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        sizes: list[int] = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(math.floor(n * frac))
        for i in range(n - sum(sizes)):  # the remainder, one each, round-robin
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              "dataset.", stacklevel=2)
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {list(lengths)} sum to {sum(lengths)}, but the "
                         f"dataset has {n} items (PyTorch: \"Sum of input lengths does not equal "
                         f"the length of the input dataset!\"); give lengths that sum to {n}, or "
                         "fractions that sum to 1")
    if not all(_is_int(length) for length in lengths):
        raise TypeError(f"random_split: lengths must be ints (or fractions summing to 1), got "
                        f"{list(lengths)}")
    if any(length < 0 for length in lengths):
        raise ValueError(f"random_split: lengths must be non-negative, got {list(lengths)}")
    order = as_generator(generator, "random_split").permutation(n).tolist()  # (PyTorch's ints)
    ends = itertools.accumulate(int(length) for length in lengths)
    return [Subset(dataset, order[end - int(length):end]) for end, length in zip(ends, lengths)]
