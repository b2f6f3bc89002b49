"""torch.utils.data's pieces against PyTorch's own: random_split, ConcatDataset / ChainDataset and
the Dataset base classes, the samplers, and the DataLoader's sampler=, batch_sampler= and
collate_fn= (in this process and in workers). Where randomness makes orders incomparable with
PyTorch's, the properties are checked instead: disjoint, covering, sizes, repeatable with a seed,
different with another."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import data as ours


@pytest.fixture
def theirs() -> Any:
    torch = pytest.importorskip("torch")
    return torch.utils.data


def _error(fn: Any) -> type[BaseException] | None:
    """The type of what ``fn()`` raises (None if it returns), warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn()
        except Exception as exc:
            return type(exc)
    return None


def _same_error(mine: Any, torch_s: Any) -> type[BaseException]:
    got, want = _error(mine), _error(torch_s)
    assert want is not None and got is want, (got, want)
    return got


def _plain(batch: Any) -> Any:
    """A batch (ours or PyTorch's) as nested Python lists."""
    if hasattr(batch, "tolist"):
        return batch.tolist()
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [_plain(v) for v in batch]
    return batch


def _items_of(subset: Any) -> list[int]:
    return [int(subset[i]) for i in range(len(subset))]


class Items:
    """A map-style dataset without ``arrays``: item ``i`` is ``(i * [1, 1], i)``."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return np.full(2, float(i)), int(i)


# ------------------------------------------------------------------------------ random_split
@pytest.mark.parametrize("n, lengths", [
    (10, [3, 7]), (10, [10]), (10, [0, 10, 0]), (0, []),
    (10, [0.3, 0.3, 0.4]), (7, [0.34, 0.33, 0.33]), (10, [0.05, 0.95]), (101, [0.8, 0.1, 0.1]),
    (3, [0.1] * 10), (5, [0.5, 0.5])])
def test_random_split_sizes_match_pytorch_and_the_splits_partition(theirs, n, lengths):
    with warnings.catch_warnings(record=True) as mine_warned:
        warnings.simplefilter("always")
        mine = ours.random_split(range(n), lengths, generator=0)
    with warnings.catch_warnings(record=True) as torch_warned:
        warnings.simplefilter("always")
        want = theirs.random_split(range(n), lengths)
    assert [len(s) for s in mine] == [len(s) for s in want]
    assert [str(w.message) for w in mine_warned] == [str(w.message) for w in torch_warned]
    assert all(isinstance(s, ours.Subset) for s in mine)
    seen = [i for s in mine for i in _items_of(s)]
    assert sorted(seen) == list(range(n))  # disjoint and covering


def test_random_split_is_repeatable_with_a_seed_or_a_generator():
    def split(generator: Any) -> list[list[int]]:
        return [_items_of(s) for s in ours.random_split(range(50), [0.5, 0.3, 0.2], generator)]

    assert split(7) == split(7) == split(np.random.default_rng(7))
    assert split(7) != split(8)
    rng = np.random.default_rng(7)
    assert split(rng) != split(rng)  # a Generator advances, as a torch.Generator does
    tg.manual_seed(3)
    first = split(None)  # None: the generator manual_seed seeds
    tg.manual_seed(3)
    assert split(None) == first
    with pytest.raises(TypeError, match="generator must be"):
        ours.random_split(range(4), [2, 2], generator="seed")


@pytest.mark.parametrize("lengths", [[3, 5], [0.5, 0.6], [1.5, -0.5], [2.5, 7.5],
                                     [0.5, 0.5 + 1e-12], [0.7, 0.3000000001], [3.0, 7.0],
                                     [], [11]])
def test_random_split_errors_are_pytorchs(theirs, lengths):
    _same_error(lambda: ours.random_split(range(10), lengths),
                lambda: theirs.random_split(range(10), lengths))


def test_random_split_refuses_negative_lengths():
    # PyTorch slices with them and hands out subsets of the wrong sizes ([9, 1] for [-1, 11])
    with pytest.raises(ValueError, match="non-negative"):
        ours.random_split(range(10), [-1, 11])


def test_random_split_subsets_batch_through_the_fast_path():
    x = np.arange(40.0).reshape(20, 2)
    train, test = ours.random_split(ours.TensorDataset(x, np.arange(20)), [0.75, 0.25], 1)
    assert hasattr(train, "arrays")
    xs, ys = zip(*ours.DataLoader(train, batch_size=4))
    ys = np.concatenate([y.numpy() for y in ys])
    np.testing.assert_array_equal(ys, train.indices)
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b in xs]), x[train.indices])
    assert len(test) == 5 and set(ys).isdisjoint(test.indices)


# ------------------------------------------------------------------------------ datasets
def test_concat_dataset_indexes_as_pytorch(theirs):
    parts = [range(3), range(0), range(10, 12), range(20, 24)]
    mine, want = ours.ConcatDataset(parts), theirs.ConcatDataset(parts)
    assert mine.cumulative_sizes == want.cumulative_sizes == [3, 3, 5, 9]
    assert len(mine) == len(want) == 9
    for i in range(-9, 9):
        assert mine[i] == want[i]
    assert mine[np.int64(4)] == want[4]
    for bad in (9, 20, -10, 1.5):
        _same_error(lambda bad=bad: mine[bad], lambda bad=bad: want[bad])
    _same_error(lambda: ours.ConcatDataset([]), lambda: theirs.ConcatDataset([]))
    _same_error(lambda: ours.ConcatDataset([range(2), range(0)])[2],
                lambda: theirs.ConcatDataset([range(2), range(0)])[2])


def test_dataset_base_classes_as_pytorch(theirs):
    torch = pytest.importorskip("torch")
    _same_error(lambda: ours.Dataset()[0], lambda: theirs.Dataset()[0])
    a, b = ours.TensorDataset(np.ones(2)), ours.TensorDataset(np.zeros(3))
    assert isinstance(a, ours.Dataset) and isinstance(ours.Subset(a, [0]), ours.Dataset)
    both = a + b
    want = theirs.TensorDataset(torch.ones(2)) + theirs.TensorDataset(torch.zeros(3))
    assert type(both).__name__ == type(want).__name__ == "ConcatDataset"
    assert [float(both[i][0]) for i in range(5)] == [float(want[i][0]) for i in range(5)]

    class Stream(ours.IterableDataset):
        def __init__(self, n: int) -> None:
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self) -> int:
            return self.n

    class TorchStream(theirs.IterableDataset):
        def __init__(self, n: int) -> None:
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

    _same_error(lambda: ours.ConcatDataset([range(2), Stream(2)]),
                lambda: theirs.ConcatDataset([range(2), TorchStream(2)]))
    chained, torch_chained = Stream(3) + Stream(2), TorchStream(3) + TorchStream(2)
    assert type(chained).__name__ == type(torch_chained).__name__ == "ChainDataset"
    assert list(chained) == list(torch_chained) and len(chained) == 5
    for kw in (dict(batch_size=2), dict(batch_size=2, drop_last=True), dict(batch_size=None)):
        assert _plain(list(ours.DataLoader(Stream(5), **kw))) == \
            _plain(list(theirs.DataLoader(TorchStream(5), **kw)))
    assert len(ours.DataLoader(Stream(5), batch_size=2)) == 3
    for kw in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        _same_error(lambda kw=kw: ours.DataLoader(Stream(5), **kw),
                    lambda kw=kw: theirs.DataLoader(TorchStream(5), **kw))
    # workers each iterate their own copy (tests/test_data_loader_streams.py against PyTorch)
    assert _plain(list(ours.DataLoader(Stream(3), num_workers=2))) == [[0], [0], [1], [1], [2], [2]]


def test_concat_of_array_datasets_batches_by_arrays_alike(theirs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((n, 3)).astype(np.float32) for n in (5, 0, 7, 4)]
    ys = [np.arange(len(x)) + 100 * k for k, x in enumerate(xs)]
    parts = [ours.TensorDataset(x, y) for x, y in zip(xs, ys)]
    parts[2] = ours.Subset(parts[2], np.arange(6, -1, -1))
    mine = ours.ConcatDataset(parts)
    want = theirs.ConcatDataset(
        [theirs.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)) for x, y in zip(xs, ys)])
    want.datasets[2] = theirs.Subset(want.datasets[2], list(range(6, -1, -1)))
    want.cumulative_sizes = want.cumsum(want.datasets)
    assert hasattr(mine, "arrays")
    order = rng.permutation(len(mine)).tolist()
    for batch_size in (1, 3, 16):
        got = _plain(list(ours.DataLoader(mine, batch_size, sampler=order)))
        assert got == _plain(list(theirs.DataLoader(want, batch_size, sampler=order)))
    rows = mine.arrays(np.array([-1, 0, 12, 5]))
    np.testing.assert_array_equal(rows[1], [303, 0, 300, 206])
    with pytest.raises(IndexError, match="out of range"):
        mine.arrays(np.array([16]))
    assert not hasattr(ours.ConcatDataset([parts[0], Items(3)]), "arrays")


# ------------------------------------------------------------------------------ samplers
def test_samplers_as_pytorch(theirs):
    assert list(ours.SequentialSampler(range(5))) == list(theirs.SequentialSampler(range(5)))
    for n, num, replacement in ((6, None, False), (6, 15, False), (6, 4, False), (6, 20, True)):
        mine = ours.RandomSampler(range(n), replacement, num, generator=0)
        want = theirs.RandomSampler(range(n), replacement, num)
        keys = list(mine)
        assert len(keys) == len(mine) == len(list(want)) == len(want)
        assert all(isinstance(k, int) and 0 <= k < n for k in keys)
        if not replacement:  # whole permutations, then part of one
            for start in range(0, len(keys), n):
                assert len(set(keys[start:start + n])) == len(keys[start:start + n])
        assert keys != list(mine)  # a new order every epoch ...
        assert keys == list(ours.RandomSampler(range(n), replacement, num, generator=0))  # seeded
    for kw in (dict(replacement=1), dict(num_samples=0), dict(num_samples=2.0)):
        _same_error(lambda kw=kw: ours.RandomSampler(range(3), **kw),
                    lambda kw=kw: theirs.RandomSampler(range(3), **kw))
    _same_error(lambda: ours.RandomSampler([]), lambda: theirs.RandomSampler([]))
    picked = list(ours.SubsetRandomSampler([7, 3, 9, 1], generator=np.random.default_rng(0)))
    assert sorted(picked) == sorted(theirs.SubsetRandomSampler([7, 3, 9, 1])) == [1, 3, 7, 9]
    for sampler in (range(7), ours.SequentialSampler(range(7)), [5, 3, 1]):
        for drop_last in (False, True):
            mine, want = ours.BatchSampler(sampler, 3, drop_last), theirs.BatchSampler(
                sampler, 3, drop_last)
            assert list(mine) == list(want) and len(mine) == len(want)
    for args in ((0, False), (2.0, False), (True, False), (2, 1)):
        _same_error(lambda args=args: ours.BatchSampler(range(3), *args),
                    lambda args=args: theirs.BatchSampler(range(3), *args))


def _chi2_bound(dof: int) -> float:
    """Chi-square's upper 1e-6 tail for ``dof`` degrees of freedom (Wilson-Hilferty, z = 4.75):
    a correct sampler exceeds it once in a million seeds; the seeds here are fixed."""
    return dof * (1 - 2 / (9 * dof) + 4.75 * (2 / (9 * dof)) ** 0.5) ** 3


def _chi2(counts: np.ndarray, probs: np.ndarray) -> float:
    expected = counts.sum() * probs
    return float(((counts - expected) ** 2 / expected).sum())


def test_weighted_random_sampler_distribution():
    weights = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6, 0.0]
    p = np.array(weights) / sum(weights)
    keys = np.array(list(ours.WeightedRandomSampler(weights, 60000, generator=0)))
    counts = np.bincount(keys, minlength=len(weights))
    assert counts[-1] == 0  # weight 0: never drawn
    assert _chi2(counts[:-1], p[:-1]) < _chi2_bound(5)
    uniform = np.full(6, 1 / 6)  # the bound has teeth: the wrong distribution is far above it
    assert _chi2(counts[:-1], uniform) > 100 * _chi2_bound(5)
    # Without replacement, drawn one after another: P(first i, then j) = p_i * p_j / (1 - p_i).
    weights = [1.0, 2.0, 3.0, 4.0]
    p = np.array(weights) / sum(weights)
    sampler = ours.WeightedRandomSampler(weights, 2, replacement=False,
                                         generator=np.random.default_rng(1))
    pairs = np.array([list(sampler) for _ in range(20000)])
    assert (pairs[:, 0] != pairs[:, 1]).all()
    counts = np.zeros((4, 4))
    np.add.at(counts, (pairs[:, 0], pairs[:, 1]), 1)
    want = p[:, None] * p[None, :] / (1 - p[:, None])
    off = ~np.eye(4, dtype=bool)
    assert _chi2(counts[off], want[off]) < _chi2_bound(11)
    # all of them: a permutation of the keys with non-zero weight, then never a weight-0 key
    for _ in range(50):
        keys = list(ours.WeightedRandomSampler([0.0, 5.0, 1.0, 0.0, 2.0], 3, False))
        assert sorted(keys) == [1, 2, 4]


def test_weighted_random_sampler_as_pytorch(theirs):
    for replacement in (True, False):
        mine = ours.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, replacement,
                                          generator=0)
        want = theirs.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5, replacement)
        keys = list(mine)
        assert len(keys) == len(mine) == len(list(want)) == len(want) == 5
        assert all(type(k) is int and 0 <= k < 6 for k in keys)
        assert mine.weights.dtype == tg.float64 and mine.weights.tolist() == want.weights.tolist()
        assert mine.replacement is want.replacement and mine.num_samples == want.num_samples
        if not replacement:
            assert len(set(keys)) == 5
        assert keys == list(ours.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], 5,
                                                       replacement, generator=0))  # seeded
    tg.manual_seed(3)  # generator=None: the one manual_seed seeds
    first = list(ours.WeightedRandomSampler(np.arange(1.0, 9.0), 8))
    tg.manual_seed(3)
    assert list(ours.WeightedRandomSampler(tg.arange(1.0, 9.0), 8)) == first  # a Tensor too
    nan, inf = float("nan"), float("inf")
    at_construction = [([1.0, 2.0], dict(num_samples=0)), ([1.0, 2.0], dict(num_samples=2.0)),
                       ([1.0, 2.0], dict(num_samples=True)), ([1.0, 2.0], dict(num_samples=-1)),
                       ([1.0, 2.0], dict(num_samples=2, replacement=1)),
                       ([[1.0, 2.0]], dict(num_samples=2)), (5.0, dict(num_samples=2))]
    for weights, kw in at_construction:
        assert _same_error(lambda w=weights, kw=kw: ours.WeightedRandomSampler(w, **kw),
                           lambda w=weights, kw=kw: theirs.WeightedRandomSampler(w, **kw)) \
            is ValueError
    when_drawn = [([1.0, -1.0, 2.0], 3, True), ([1.0, nan], 2, True), ([1.0, inf], 2, True),
                  ([0.0, 0.0, 0.0], 2, True), ([], 2, True), ([0.0, 0.0], 1, False),
                  ([1.0, 2.0], 3, False), ([-1.0, 1.0], 3, False)]
    for weights, num, replacement in when_drawn:
        mine = ours.WeightedRandomSampler(weights, num, replacement)
        want = theirs.WeightedRandomSampler(weights, num, replacement)
        assert _same_error(lambda s=mine: list(s), lambda s=want: list(s)) is RuntimeError
    with pytest.raises(RuntimeError, match="weights\\[1\\] = nan"):
        list(ours.WeightedRandomSampler([1.0, nan], 2))
    # PyTorch documents more keys than non-zero weights without replacement as not allowed, but
    # 2.13 on the CPU then returns keys of weight 0 (pytorch/pytorch#50034); we refuse.
    assert sorted(theirs.WeightedRandomSampler([0.0, 1.0, 2.0], 3, False)) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="3 keys without replacement from 2 non-zero"):
        list(ours.WeightedRandomSampler([0.0, 1.0, 2.0], 3, False))
    assert list(ours.WeightedRandomSampler([0.0, 1.0, 2.0], 2, False, generator=0))  # fine


def test_weighted_random_sampler_in_a_loader():
    ds = ours.TensorDataset(tg.arange(10.0), tg.arange(10))
    sampler = ours.WeightedRandomSampler([0.0] * 5 + [1.0] * 5, 7, generator=5)
    batches = list(ours.DataLoader(ds, batch_size=3, sampler=sampler))
    assert [len(b[1]) for b in batches] == [3, 3, 1]
    keys = np.concatenate([b[1].numpy() for b in batches])
    assert (keys >= 5).all()
    again = ours.WeightedRandomSampler([0.0] * 5 + [1.0] * 5, 7, generator=5)
    assert keys.tolist() == list(again)  # the sampler's own keys, in its order
    with pytest.raises(ValueError, match="mutually exclusive"):
        ours.DataLoader(ds, sampler=sampler, shuffle=True)


class EveryOther(ours.Sampler[int]):
    """A user's sampler subclassing ours (the loader must iterate it, not use a fast path)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        return iter(range(0, self.n, 2))

    def __len__(self) -> int:
        return (self.n + 1) // 2


class Reversed(ours.SequentialSampler):
    def __iter__(self):
        return iter(range(len(self.data_source) - 1, -1, -1))


# ------------------------------------------------------------------------------ DataLoader
def test_dataloader_sampler_and_batch_sampler_give_pytorchs_batches(theirs):
    torch = pytest.importorskip("torch")
    x = np.arange(22.0).reshape(11, 2)
    mine_ds = ours.TensorDataset(x, np.arange(11))
    want_ds = theirs.TensorDataset(torch.from_numpy(x), torch.arange(11))
    cases = [dict(sampler=[4, 9, 0, 2, 2]), dict(sampler=[4, 9, 0, 2, 2], batch_size=2,
                                                    drop_last=True),
             dict(sampler=EveryOther(11), batch_size=4),
             dict(batch_sampler=[[3, 1], [10], [0, 0, 5]]),
             dict(sampler=[6, 1], batch_size=None),
             dict(batch_size=4, drop_last=True), dict(batch_size=None)]
    for kw in cases:
        for dataset, torch_dataset in ((mine_ds, want_ds), (Items(11), Items(11))):
            mine = ours.DataLoader(dataset, **kw)
            want = theirs.DataLoader(torch_dataset, **kw)
            assert _plain(list(mine)) == _plain(list(want)), kw
            assert len(mine) == len(want)
    # a batch sampler without a length (a generator) is read lazily
    batches = (list(range(k, k + 2)) for k in range(0, 6, 2))
    assert [b[1].tolist() for b in ours.DataLoader(Items(11), batch_sampler=batches)] == \
        [[0, 1], [2, 3], [4, 5]]
    # our samplers handed over, and a subclass that overrides __iter__, count as given
    sampler = ours.BatchSampler(Reversed(range(5)), 2, False)
    assert _plain(list(ours.DataLoader(Items(5), batch_sampler=sampler)))[0][1] == [4, 3]
    mine = ours.DataLoader(Items(5), sampler=ours.SequentialSampler(range(5)), batch_size=2)
    assert isinstance(mine.batch_sampler, ours.BatchSampler) and len(mine) == 3


def test_dataloader_mutually_exclusive_options_are_pytorchs_errors(theirs):
    cases = [dict(shuffle=True, sampler=[0]), dict(batch_sampler=[[0]], batch_size=2),
             dict(batch_sampler=[[0]], shuffle=True), dict(batch_sampler=[[0]], drop_last=True),
             dict(batch_sampler=[[0]], sampler=[0]), dict(batch_size=None, drop_last=True),
             dict(timeout=-1), dict(prefetch_factor=2), dict(shuffle=True, batch_size=0)]
    for kw in cases:
        assert _same_error(lambda kw=kw: ours.DataLoader(range(3), **kw),
                           lambda kw=kw: theirs.DataLoader(range(3), **kw)) is ValueError, kw
    _same_error(lambda: ours.DataLoader([], shuffle=True),
                lambda: theirs.DataLoader([], shuffle=True))
    _same_error(lambda: len(ours.DataLoader(range(3), batch_sampler=iter([[0]]))),
                lambda: len(theirs.DataLoader(range(3), batch_sampler=iter([[0]]))))


def test_dataloader_positional_arguments_are_pytorchs(theirs):
    import inspect

    mine = list(inspect.signature(ours.DataLoader).parameters)
    want = list(inspect.signature(theirs.DataLoader).parameters)
    assert mine[:13] == want[:13]


def _labels_only(samples: list[Any]) -> list[int]:
    return [label for _, label in samples]


def _padded(samples: list[Any]) -> dict[str, Any]:
    """A collate_fn of the usual kind: pads, then hands the rest to default_collate."""
    width = max(len(s[0]) for s in samples)
    rows = [np.pad(s[0], (0, width - len(s[0]))) for s in samples]
    return {"x": ours.default_collate(rows), "len": ours.default_collate([len(s[0]) for s in
                                                                         samples])}


class Ragged(Items):
    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        return np.arange(i % 4, dtype=np.float32), int(i)


class ArraysOnly(ours.TensorDataset):
    """Overrides arrays too: a subclass overriding __getitem__ alone has no fast path."""

    def __getitem__(self, i: Any) -> Any:
        raise AssertionError("the item path was taken: arrays() is the fast one")

    def arrays(self, index: Any = slice(None)) -> Any:
        return super().arrays(index)


def test_dataloader_collate_fn_as_pytorch(theirs):
    for dataset, fn in ((Items(7), _labels_only), (ours.TensorDataset(np.arange(7)), len),
                        (Items(7), lambda s: s)):
        for kw in (dict(batch_size=3), dict(batch_size=3, shuffle=False, drop_last=True)):
            mine = list(ours.DataLoader(dataset, collate_fn=fn, **kw))
            want = list(theirs.DataLoader(dataset, collate_fn=fn, **kw))
            assert _plain(mine) == _plain(want)
    assert list(ours.DataLoader(range(4), batch_size=None, collate_fn=lambda v: v * 10)) == \
        list(theirs.DataLoader(range(4), batch_size=None, collate_fn=lambda v: v * 10))

    def torch_padded(samples):
        width = max(len(s[0]) for s in samples)
        rows = [np.pad(s[0], (0, width - len(s[0]))) for s in samples]
        return {"x": theirs.default_collate(rows),
                "len": theirs.default_collate([len(s[0]) for s in samples])}

    mine = list(ours.DataLoader(Ragged(9), batch_size=4, collate_fn=_padded))
    want = list(theirs.DataLoader(Ragged(9), batch_size=4, collate_fn=torch_padded))
    assert _plain(mine) == _plain(want) and isinstance(mine[0]["x"], tg.Tensor)
    assert mine[0]["x"].dtype == np.float32 and mine[0]["len"].dtype == np.int64
    # default_collate: PyTorch's values and dtypes; passing it keeps the arrays() fast path
    samples = [(np.float32(i), i, 0.5 * i, {"k": np.ones(2, np.int8) * i}) for i in range(3)]
    got, expect = ours.default_collate(samples), theirs.default_collate(samples)
    assert _plain(got) == _plain(expect)
    assert str(got[3]["k"].dtype) == str(expect[3]["k"].dtype).replace("torch.", "")
    assert got[1].dtype == np.int64 and got[2].dtype == np.float64
    fast = [b[0].tolist() for b in ours.DataLoader(ArraysOnly(np.arange(10.0)), 4,
                                                    collate_fn=ours.default_collate)]
    assert fast == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_dataloader_generator_and_seed():
    ds = ours.TensorDataset(np.arange(30))

    def epochs(loader: Any) -> list[list[int]]:
        return [np.concatenate([b[0].numpy() for b in loader]).tolist() for _ in range(2)]

    for make in (lambda: 5, lambda: np.random.default_rng(5)):
        first = epochs(ours.DataLoader(ds, 4, shuffle=True, generator=make()))
        assert first == epochs(ours.DataLoader(ds, 4, shuffle=True, generator=make()))
        assert first[0] != first[1] and sorted(first[0]) == list(range(30))
    assert epochs(ours.DataLoader(ds, 4, shuffle=True, generator=5)) != \
        epochs(ours.DataLoader(ds, 4, shuffle=True, generator=6))
    loader = ours.DataLoader(ds, 4, shuffle=True, seed=2)
    first = epochs(loader)
    loader.epoch = 1  # resuming at epoch 1 repeats it (the sampler follows the loader)
    assert epochs(loader)[0] == first[1]
    loader.sampler.set_epoch(0)
    assert list(loader.sampler) == first[0]
    with pytest.raises(ValueError, match="not both"):
        ours.DataLoader(ds, shuffle=True, seed=1, generator=1)
    with pytest.raises(TypeError, match="generator must be"):
        ours.DataLoader(ds, shuffle=True, generator=1.5)


def _tag(samples: list[Any]) -> tuple[str, list[int], Any]:
    return "batch", [int(s[1]) for s in samples], ours.default_collate([s[0] for s in samples])


def test_workers_run_collate_fn_and_give_the_same_batches():
    dataset = Items(23)
    keys = np.random.default_rng(1).permutation(23).tolist()
    for kw in (dict(batch_size=4, collate_fn=_tag), dict(batch_size=3, collate_fn=_tag,
                                                         sampler=keys, drop_last=True),
               dict(batch_sampler=[[1, 2], [22], [0, 5, 9]], collate_fn=lambda s: len(s)),
               dict(batch_size=5, sampler=keys)):
        plain = _plain(list(ours.DataLoader(dataset, **kw)))
        workers = _plain(list(ours.DataLoader(dataset, num_workers=2, **kw)))
        assert plain == workers and len(plain) > 1
    got = list(ours.DataLoader(dataset, batch_size=4, collate_fn=_tag, num_workers=2))
    assert isinstance(got[0][2], tg.Tensor) and got[0][1] == [0, 1, 2, 3]
    with pytest.raises(TypeError, match="(?s)^Caught TypeError in DataLoader worker process 0"
                                        ".*cannot be pickled"):
        list(ours.DataLoader(dataset, batch_size=4, num_workers=1,
                             collate_fn=lambda s: (lambda: s)))
    # workers that are not forked get their arguments pickled: a lambda is refused up front
    loader = ours.DataLoader(dataset, batch_size=4, num_workers=1, collate_fn=lambda s: s,
                             multiprocessing_context="spawn")
    with pytest.raises(TypeError, match="(?s)collate_fn .* cannot be pickled.*module level"):
        next(iter(loader))
    assert pickle.loads(pickle.dumps(_tag)) is _tag


def test_torch_utils_data_place():
    import tinygrad_cnn as tg
    from tinygrad_cnn.utils.data import DataLoader, random_split

    assert tg.utils.data.DataLoader is DataLoader is tg.data.DataLoader
    assert random_split is tg.data.random_split
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        tg.nope  # noqa: B018


def test_subpackages_load_on_first_use_and_small_porting_forms():
    import inspect

    import tinygrad_cnn as tg

    torch = pytest.importorskip("torch")
    assert tg.data.DataLoader is tg.utils.data.DataLoader and tg.models.LeNet5 is not None
    assert tg.ones(2).allclose(tg.ones(2)) and not tg.ones(2).allclose(tg.zeros(2))
    for name in ("MSELoss", "L1Loss", "SoftMarginLoss", "KLDivLoss"):
        ours = list(inspect.signature(getattr(tg.nn, name)).parameters)
        assert ours == list(inspect.signature(getattr(torch.nn, name)).parameters), name
    assert tg.nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
