"""DataLoader(IterableDataset, num_workers=N) against torch 2.13's: each worker iterates its own
copy of the dataset (every sample N times unless the dataset shards itself by
``get_worker_info()``), batches its own stream (``drop_last`` per worker), and the loader yields
round-robin over the workers, skipping those whose stream ended; ``batch_size=None``; a
``collate_fn``; ``worker_init_fn``; errors; ``len`` and PyTorch's warning; seeding; shutdown.

The datasets are defined here, at module level, so that the workers can import them (as with
the map-style worker tests), once over our ``IterableDataset`` and once over PyTorch's."""

from __future__ import annotations

import gc
import multiprocessing
import time
import warnings
from typing import Any

import numpy as np
import pytest

from tinygrad_cnn import Tensor
from tinygrad_cnn import data as ours

torch = pytest.importorskip("torch")
theirs = torch.utils.data

# PyTorch's own warning for more workers than the machine's CPUs (this one may have two)
pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")


def _plain(batch: Any) -> Any:
    """A batch (ours or PyTorch's) as nested plain values, tensors tagged with their dtype (and
    a tuple that PyTorch's default_collate makes a list compared as one)."""
    if isinstance(batch, (Tensor, torch.Tensor)):
        return ("tensor", str(batch.dtype).replace("torch.", ""), batch.tolist())
    if isinstance(batch, np.ndarray):
        return ("ndarray", str(batch.dtype), batch.tolist())
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [_plain(v) for v in batch]
    return batch


def _both(make: Any, *args: Any, **kw: Any) -> tuple[Any, Any]:
    """What ``make(ours, ...)`` and ``make(theirs, ...)`` give, as plain values."""
    return _plain(make(ours, *args, **kw)), _plain(make(theirs, *args, **kw))


# ------------------------------------------------------------------ datasets, ours and PyTorch's
class _Stream:
    """Worker ``w`` of ``k`` yields ``n + extra * w`` samples ``(x, label)`` starting at ``100 *
    w`` (uneven copies: some workers end first); ``shard``: the samples ``w, w + k, ...`` of
    ``range(n)`` instead (each once); ``fail_at``: the sample at which worker ``fail_worker``
    raises a KeyError; ``eager_error``: ``__iter__`` itself raises (not a generator);
    ``length``: what ``__len__`` says, if not ``n``."""

    lib: Any

    def __init__(self, n: int, extra: int = 0, shard: bool = False, fail_at: int | None = None,
                 fail_worker: int = 0, eager_error: bool = False, sleep: float = 0.0,
                 length: int | None = None) -> None:
        self.n, self.extra, self.shard, self.length = n, extra, shard, length
        self.fail_at, self.fail_worker, self.eager_error, self.sleep = \
            fail_at, fail_worker, eager_error, sleep

    def __len__(self) -> int:
        return self.n if self.length is None else self.length

    def __iter__(self) -> Any:
        info = self.lib.get_worker_info()
        w, k = (info.id, info.num_workers) if info is not None else (0, 1)
        if self.eager_error:
            raise ValueError(f"no stream in worker {w}")
        return self._samples(w, k)

    def _samples(self, w: int, k: int) -> Any:
        keys = range(w, self.n, k) if self.shard else \
            range(100 * w + _INIT_OFFSET[0], 100 * w + _INIT_OFFSET[0] + self.n + self.extra * w)
        for j, key in enumerate(keys):
            if self.fail_at == j and w == self.fail_worker:
                raise KeyError(f"no sample {j} in worker {w}")
            if self.sleep:
                time.sleep(self.sleep)
            yield np.full(2, key, dtype=np.float32), key


class OurStream(_Stream, ours.IterableDataset):
    lib = ours


class TheirStream(_Stream, theirs.IterableDataset):
    lib = theirs


def _stream(lib: Any, *args: Any, **kw: Any) -> _Stream:
    return (OurStream if lib is ours else TheirStream)(*args, **kw)


def _tag(samples: list[Any]) -> dict[str, Any]:
    """A collate_fn: the labels and the worker that built the batch."""
    return {"labels": [int(s[1]) for s in samples], "n": len(samples)}


def _tag_item(sample: Any) -> list[int]:
    """A collate_fn for batch_size=None: called on each sample."""
    return [int(sample[1]), int(sample[0][0])]


_INIT_OFFSET = [0]


def _init(worker_id: int) -> None:
    """A worker_init_fn whose effect the dataset's ``__iter__`` sees (it runs first)."""
    _INIT_OFFSET[0] = 10 * (worker_id + 1)


def _error_of(fn: Any) -> tuple[type, str, list[str]]:
    """The type, message and notes of what ``fn()`` raises -- not the exception itself: its
    traceback would keep PyTorch's iterator, and its workers, alive into later tests."""
    try:
        fn()
    except Exception as exc:
        caught = type(exc), str(exc), list(getattr(exc, "__notes__", []))
    else:
        raise AssertionError("no error")
    gc.collect()
    return caught


def _load(lib: Any, dataset_args: tuple[Any, ...], dataset_kw: dict[str, Any] | None = None,
          **loader_kw: Any) -> list[Any]:
    return list(lib.DataLoader(_stream(lib, *dataset_args, **(dataset_kw or {})), **loader_kw))


# ------------------------------------------------------------------------------------ the tests
@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("kw", [dict(batch_size=2), dict(batch_size=3, drop_last=True),
                                dict(batch_size=None), dict(batch_size=2, collate_fn=_tag),
                                dict(batch_size=None, collate_fn=_tag_item)],
                         ids=["batched", "drop_last", "items", "collate_fn", "items_collate_fn"])
def test_batches_come_round_robin_over_the_workers_as_pytorch(kw, workers):
    """Uneven copies: worker w yields 4 + 3w samples, so workers end one after another."""
    mine, want = _both(_load, (4,), dict(extra=3), num_workers=workers, **kw)
    assert mine == want
    if kw.get("collate_fn") is None and kw["batch_size"] is not None:
        # each worker batched its own stream: worker 0's first batch, worker 1's first, ...
        firsts = [b[1][2][0] for b in mine[:workers]]
        assert firsts == [100 * w for w in range(workers)]


def test_without_sharding_every_sample_comes_once_per_worker():
    mine, want = _both(_load, (5,), num_workers=2, batch_size=None)
    assert mine == want
    labels = [label for _, label in mine]
    assert sorted(labels) == sorted(list(range(5)) + list(range(100, 105)))
    assert labels[:4] == [0, 100, 1, 101]


@pytest.mark.parametrize("kw", [dict(batch_size=2), dict(batch_size=2, drop_last=True),
                                dict(batch_size=None)])
def test_sharding_by_get_worker_info_reads_each_sample_once(kw):
    mine, want = _both(_load, (11,), dict(shard=True), num_workers=3, **kw)
    assert mine == want
    if kw["batch_size"] is None:
        assert sorted(label for _, label in mine) == list(range(11))


def test_drop_last_drops_each_workers_short_batch():
    """Two workers of 5 samples in batches of 2: 2 + 2 batches (5 // 2 each), not 10 // 2."""
    mine, want = _both(_load, (5,), num_workers=2, batch_size=2, drop_last=True)
    assert mine == want and len(mine) == 4
    assert [b[1][2] for b in mine] == [[0, 1], [100, 101], [2, 3], [102, 103]]


def test_worker_init_fn_runs_first_in_each_worker():
    mine, want = _both(_load, (3,), num_workers=2, batch_size=None, worker_init_fn=_init)
    assert mine == want
    assert [label for _, label in mine][:2] == [10, 120]  # (offsets 10 and 20)
    assert _INIT_OFFSET == [0]  # (in the workers, not here)


class _WhoAmI:
    """Yields what ``get_worker_info()`` says in the worker, twice."""

    lib: Any

    def __iter__(self) -> Any:
        info = self.lib.get_worker_info()
        for _ in range(2):
            yield [info.id, info.num_workers, info.seed, type(info.dataset).__name__]


class OurWhoAmI(_WhoAmI, ours.IterableDataset):
    lib = ours


class TheirWhoAmI(_WhoAmI, theirs.IterableDataset):
    lib = theirs


def test_get_worker_info_in_the_workers():
    def rows(lib: Any, cls: Any) -> list[Any]:
        return list(lib.DataLoader(cls(), batch_size=None, num_workers=3, collate_fn=list))

    mine, want = rows(ours, OurWhoAmI), rows(theirs, TheirWhoAmI)
    assert [r[:2] for r in mine] == [r[:2] for r in want] == [[w, 3] for w in (0, 1, 2)] * 2
    assert {r[3] for r in mine} == {"OurWhoAmI"}
    seeds = [r[2] for r in mine[:3]]
    assert len(set(seeds)) == 3 and all(isinstance(s, int) for s in seeds)
    assert ours.get_worker_info() is None


def _until_error(lib: Any, dataset_kw: dict[str, Any],
                 **loader_kw: Any) -> tuple[list[Any], tuple[type, str, list[str]]]:
    """The batches before the error, and the error (``_error_of``)."""
    got: list[Any] = []
    loader = lib.DataLoader(_stream(lib, **dataset_kw), num_workers=2, **loader_kw)
    return got, _error_of(lambda: [got.append(_plain(b)) for b in loader])


@pytest.mark.parametrize("batch_size", [2, None])
def test_an_error_in_a_workers_stream_is_raised_here_after_the_batches_before_it(batch_size):
    """Worker 1 fails at its sample 3: the batches before it in round-robin order come first,
    then its error, with its type and PyTorch's message. (Against PyTorch with batches only:
    its workers take 5 s each to stop after an error; with items its order was checked once,
    and is written here.)"""
    failing = dict(n=6, fail_at=3, fail_worker=1)
    mine, error = _until_error(ours, failing, batch_size=batch_size)
    if batch_size is None:
        assert [label for _, label in mine] == [0, 100, 1, 101, 2, 102, 3]
    else:
        want, theirs_error = _until_error(theirs, failing, batch_size=batch_size)
        assert mine == want and len(mine) == 3
        assert theirs_error[0] is KeyError and theirs_error[1].startswith(error[1][:60])
    assert error[0] is KeyError
    assert error[1].startswith("Caught KeyError in DataLoader worker process 1.\n"
                               "Original Traceback")
    assert "no sample 3 in worker 1" in error[1] and "_samples" in error[1]
    what = "batch 1" if batch_size else "item 3"
    assert error[2] in ([], [f"(building {what} of worker 1's stream)"])  # (notes: 3.11 on)


def _failing_init(worker_id: int) -> None:
    if worker_id == 0:  # worker 1's error reaches the main process first; it must still come
        time.sleep(0.3)  # after worker 0's first batch (a race the suite once lost under load)
    if worker_id == 1:
        raise OSError(f"no device for worker {worker_id}")


@pytest.mark.parametrize("kw", [dict(worker_init_fn=_failing_init), dict(eager_error=True)],
                         ids=["worker_init_fn", "__iter__"])
def test_errors_in_worker_init_fn_and_iter_arrive_with_the_workers_first_batch(kw):
    """As PyTorch's (checked once; its workers take 5 s each to stop after an error): worker
    1's failing worker_init_fn comes after worker 0's first batch; an ``__iter__`` that raises
    (not a generator) is worker 0's first answer."""
    init = "worker_init_fn" in kw
    dataset_kw = dict(n=4, eager_error=not init)
    mine, error = _until_error(ours, dataset_kw, batch_size=2,
                               **({"worker_init_fn": _failing_init} if init else {}))
    assert [b[1][2] for b in mine] == ([[0, 1]] if init else [])
    expected = OSError if init else ValueError
    assert error[0] is expected
    assert error[1].startswith(f"Caught {expected.__name__} in DataLoader worker process "
                               f"{1 if init else 0}.\nOriginal Traceback")
    where = "(in worker_init_fn)" if init else "(in the dataset's __iter__)"
    assert error[2] in ([], [where])


def test_len_and_pytorchs_warning_for_more_batches_than_the_datasets_len():
    """len(loader) is PyTorch's; once it was asked, each batch beyond the dataset's len (not the
    loader's: PyTorch's count) warns -- from the next iterator on (list(loader) asks len only
    after iter)."""
    def run(lib: Any, workers: int = 2, **kw: Any) -> tuple[int, list[int]]:
        loader = lib.DataLoader(_stream(lib, 3, extra=2, length=2), num_workers=workers, **kw)
        counts = []
        for _ in range(2):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                list(loader)
            counts.append(sum("Length of IterableDataset" in str(w.message) for w in caught))
        return len(loader), counts

    for kw in (dict(batch_size=2), dict(batch_size=1), dict(batch_size=None),
               dict(batch_size=1, workers=0)):
        assert run(ours, **kw) == run(theirs, **kw), kw
    assert run(ours, batch_size=1) == (2, [0, 6])  # 3 + 5 batches
    assert run(ours, batch_size=1, workers=0) == (2, [0, 1])
    loader = ours.DataLoader(_stream(ours, 3), batch_size=2, num_workers=2)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match=r"reported to be 3\(when accessing len\(dataloader\)\), "
                                         r"but 4 samples have been fetched. For multiprocessing"):
        list(loader)


def test_timeout_prefetch_factor_and_persistent_workers_are_taken():
    kw = dict(batch_size=2, num_workers=2, timeout=30, prefetch_factor=1, persistent_workers=True)
    loader = ours.DataLoader(_stream(ours, 7, shard=True), **kw)
    want = _plain(list(theirs.DataLoader(_stream(theirs, 7, shard=True), **kw)))
    assert _plain(list(loader)) == _plain(list(loader)) == want
    slow = ours.DataLoader(_stream(ours, 1, sleep=1.5), batch_size=2, num_workers=1, timeout=1)
    with pytest.raises(RuntimeError, match="timed out after 1 seconds"):
        list(slow)


class _Noise:
    """An endless stream of numpy random numbers."""

    def __iter__(self) -> Any:
        while True:
            yield np.random.rand()


class OurNoise(_Noise, ours.IterableDataset):
    pass


def test_workers_draw_their_own_random_numbers_repeatably_with_seed():
    def epoch(loader: Any) -> list[float]:
        out = []
        for batch in loader:
            out.append(batch.tolist())
            if len(out) == 4:
                break
        return out

    loader = ours.DataLoader(OurNoise(), batch_size=2, num_workers=2, seed=7)
    first, second = epoch(loader), epoch(loader)
    w0, w1 = first[0] + first[2], first[1] + first[3]  # worker 0's stream, worker 1's
    assert len(set(w0 + w1)) == 8  # unsharded copies draw different numbers
    assert first != second  # and new ones each epoch
    again = ours.DataLoader(OurNoise(), batch_size=2, num_workers=2, seed=7)
    assert epoch(again) == first
    loader.epoch = 1
    assert epoch(loader) == second  # a resumed run repeats the uninterrupted one
    assert epoch(ours.DataLoader(OurNoise(), batch_size=2, num_workers=2, seed=8)) != first


def test_breaking_out_of_an_endless_stream_stops_the_workers():
    before = set(multiprocessing.active_children())
    start = time.monotonic()
    it = iter(ours.DataLoader(OurNoise(), batch_size=4, num_workers=2))
    next(it)
    assert len(set(multiprocessing.active_children()) - before) == 2
    it.close()
    assert not [p for p in set(multiprocessing.active_children()) - before if p.is_alive()]
    assert time.monotonic() - start < 4  # (not the 5 s a worker is given before terminate)


class _Unpicklable:
    def __iter__(self) -> Any:
        yield {"f": lambda: 0}


class OurUnpicklable(_Unpicklable, ours.IterableDataset):
    pass


def test_an_item_that_cannot_be_sent_is_an_error_not_a_hang():
    with pytest.raises(TypeError, match="(?s)worker process 0.*the item cannot be sent from a "
                                        "worker process"):
        list(ours.DataLoader(OurUnpicklable(), batch_size=None, num_workers=1, timeout=30))
