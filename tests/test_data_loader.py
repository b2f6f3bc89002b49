"""TensorDataset, DataLoader with worker processes (the same batches in the same order as
without), and nn.utils (gradient clipping against PyTorch, parameter vectors)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.data import (
    DataLoader,
    IterableDataset,
    Subset,
    TensorDataset,
    get_worker_info,
)


def _epochs(loader, n=2):
    return [[tuple(t.numpy().copy() for t in batch) for batch in loader] for _ in range(n)]


def test_tensor_dataset():
    x = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    ds = TensorDataset(Tensor(x), y, Tensor(x * 2))
    assert len(ds) == 10
    a, b, c = ds[3]
    np.testing.assert_array_equal(a, [6, 7])
    assert b == 3
    xs, ys, zs = ds.arrays(np.array([1, 4]))
    np.testing.assert_array_equal(ys, [1, 4])
    batches = list(DataLoader(ds, batch_size=4))
    assert len(batches) == 3 and len(batches[0]) == 3 and batches[-1][0].shape == (2, 2)
    with pytest.raises(ValueError, match="different lengths"):
        TensorDataset(np.ones(3), np.ones(4))


class ItemDataset:
    """A dataset without ``arrays``: batched item by item (as a user's own dataset)."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.full((2, 3), float(i)), i % 3


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_give_the_same_batches_in_the_same_order(workers):
    x = np.random.default_rng(0).standard_normal((103, 4)).astype(np.float32)
    ds = Subset(TensorDataset(x, np.arange(103)), np.arange(3, 103))
    for dataset in (ds, ItemDataset(37)):
        plain = _epochs(DataLoader(dataset, 8, shuffle=True, seed=5))
        parallel = _epochs(DataLoader(dataset, 8, shuffle=True, seed=5, num_workers=workers))
        assert len(plain[0]) == len(parallel[0]) > 1
        for e0, e1 in zip(plain, parallel):
            for b0, b1 in zip(e0, e1):
                for a0, a1 in zip(b0, b1):
                    np.testing.assert_array_equal(a0, a1)
        assert not np.array_equal(plain[0][0][0], plain[1][0][0])  # epochs reshuffle
    tg.manual_seed(3)
    first = _epochs(DataLoader(ds, 16, shuffle=True, drop_last=True, num_workers=2), 1)
    tg.manual_seed(3)
    again = _epochs(DataLoader(ds, 16, shuffle=True, drop_last=True), 1)
    assert [b[1].tolist() for b in first[0]] == [b[1].tolist() for b in again[0]]
    assert len(first[0]) == 6


class Broken(ItemDataset):
    def __getitem__(self, i):
        if i == 5:
            raise KeyError("no item 5 here")
        return super().__getitem__(i)


def test_worker_errors_arrive_with_their_traceback_and_workers_stop():
    loader = DataLoader(Broken(12), 4, num_workers=2)
    with pytest.raises(KeyError, match=r"(?s)^Caught KeyError in DataLoader worker process \d\."
                                       r"\nOriginal Traceback.*no item 5 here") as info:
        list(loader)
    note = "(building batch 1 of the epoch)"  # (notes from Python 3.11)
    assert getattr(info.value, "__notes__", [note]) == [note]
    with pytest.raises(ZeroDivisionError, match="worker process 0") as info:
        list(DataLoader(ItemDataset(4), 2, num_workers=1, worker_init_fn=lambda i: 1 / 0))
    assert getattr(info.value, "__notes__", ["(in worker_init_fn)"]) == ["(in worker_init_fn)"]
    # breaking out early shuts the workers down
    it = iter(DataLoader(ItemDataset(40), 2, num_workers=2))
    next(it)
    it.close()
    import multiprocessing

    time.sleep(0.1)
    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


def test_worker_init_fn_runs_in_each_worker(tmp_path):
    def init(worker_id):
        (tmp_path / f"w{worker_id}-{os.getpid()}").touch()

    list(DataLoader(ItemDataset(20), 2, num_workers=2, worker_init_fn=init))
    names = sorted(p.name.split("-")[0] for p in tmp_path.iterdir())
    assert names == ["w0", "w1"]
    assert all(int(p.name.split("-")[1]) != os.getpid() for p in tmp_path.iterdir())


class WhoLoads:
    """A map-style dataset whose items say which worker built them (``info``: our
    ``get_worker_info`` or PyTorch's), with a numpy array and a tuple; with ``draw``, a draw from
    numpy's global generator (seeded per item in a worker) in place of the tuple's float."""

    def __init__(self, info, n=6, draw=False):
        self.info, self.n, self.draw = info, n, draw

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == 99:
            raise KeyError("no item 99 here")
        info = self.info()
        return {"who": -1 if info is None else info.id, "x": np.full(2, i, np.float32),
                "pair": (i, float(np.random.random_sample()) if self.draw else i / 2)}


def _plain_items(v):
    """Items as plain values, keeping their types' names (Tensor/tensor, list, tuple, dict)."""
    if hasattr(v, "numpy") and not isinstance(v, np.ndarray):
        return ("tensor", v.numpy().tolist(), str(v.numpy().dtype))
    if isinstance(v, np.ndarray):
        return ("ndarray", v.tolist(), str(v.dtype))
    if isinstance(v, dict):
        return {k: _plain_items(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return (type(v).__name__, [_plain_items(x) for x in v])
    return v


def _who_and_x(v):
    return (v["who"], v["x"])


def test_batch_size_none_items_come_from_the_workers_as_pytorch():
    """``batch_size=None`` with workers: each item is loaded and converted (``default_convert``
    or ``collate_fn``) in a worker, round-robin over them, as PyTorch's."""
    pytest.importorskip("torch")
    import torch.utils.data as td

    from tinygrad_cnn import data as ours

    def load(lib, **kw):
        return [_plain_items(v) for v in lib.DataLoader(WhoLoads(lib.get_worker_info), **kw)]

    for kw in (dict(), dict(collate_fn=_who_and_x)):
        for workers in (0, 2, 3):
            mine = load(ours, batch_size=None, num_workers=workers, **kw)
            assert mine == load(td, batch_size=None, num_workers=workers, **kw)
            who = [v["who"] if isinstance(v, dict) else v[1][0] for v in mine]
            assert who == [-1 if workers == 0 else i % workers for i in range(6)]


def test_batch_size_none_workers_seed_init_and_errors():
    """``batch_size=None`` with workers as the batches: the same items, the same draws (seeded
    per item from ``seed``, whichever worker loads it), ``worker_init_fn`` in each worker, and a
    worker's error with its type and the item's number."""
    def draws(workers, **kw):
        return [v["pair"][1] for v in DataLoader(WhoLoads(get_worker_info, 7, draw=True),
                                                 batch_size=None, num_workers=workers, seed=4,
                                                 **kw)]

    first = draws(1)
    assert first == draws(3) and first == draws(2, shuffle=False) and len(set(first)) == 7
    assert [v["x"].tolist() for v in DataLoader(WhoLoads(get_worker_info), batch_size=None,
                                                  num_workers=2, shuffle=True, seed=1)] == \
        [v["x"].tolist() for v in DataLoader(WhoLoads(get_worker_info), batch_size=None,
                                             shuffle=True, seed=1)]
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1") as info:
        list(DataLoader(WhoLoads(get_worker_info), batch_size=None, num_workers=2,
                        sampler=[0, 99]))
    note = "(building item 1 of the epoch)"  # (notes from Python 3.11)
    assert getattr(info.value, "__notes__", [note]) == [note]
    with pytest.raises(ZeroDivisionError, match="worker process 0"):
        list(DataLoader(WhoLoads(get_worker_info), batch_size=None, num_workers=1,
                        worker_init_fn=lambda i: 1 / 0))


def test_worker_init_fn_runs_in_each_worker_with_batch_size_none(tmp_path):
    def init(worker_id):
        (tmp_path / f"w{worker_id}-{os.getpid()}").touch()

    assert [v.item() for v in DataLoader(np.arange(5.0), batch_size=None, num_workers=2,
                                         worker_init_fn=init)] == [0, 1, 2, 3, 4]
    assert sorted(p.name.split("-")[0] for p in tmp_path.iterdir()) == ["w0", "w1"]
    assert all(int(p.name.split("-")[1]) != os.getpid() for p in tmp_path.iterdir())


class ShardedStream(IterableDataset):
    """``range(n)`` shared out between the workers by ``get_worker_info()`` (here, not in
    test_data_loader_streams.py: a spawned worker imports this module, and that one imports
    torch)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (info.id, info.num_workers) if info is not None else (0, 1)
        return ((np.full(2, i, dtype=np.float32), i) for i in range(start, self.n, step))


def test_spawned_workers_read_an_iterable_dataset_as_forked_ones():
    """With ``spawn`` the dataset, the worker function and the batches pickle; the batches are
    those of forked workers (against PyTorch's in test_data_loader_streams.py)."""
    kw = dict(batch_size=2, num_workers=2)
    spawned = [[t.tolist() for t in b]
               for b in DataLoader(ShardedStream(7), **kw, multiprocessing_context="spawn")]
    assert spawned == [[t.tolist() for t in b] for b in DataLoader(ShardedStream(7), **kw)]
    assert [b[1] for b in spawned] == [[0, 2], [1, 3], [4, 6], [5]]


def test_bad_loader_arguments():
    with pytest.raises(ValueError, match="num_workers must be >= 0"):
        DataLoader(ItemDataset(3), 1, num_workers=-1)
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ItemDataset(3), 0)


# ------------------------------------------------------------------------------ nn.utils
def _grads(seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) * 3 for s in [(3, 4), (5,), (2, 2, 2)]]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    grads = _grads(0)
    ours = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, tp, g in zip(ours, theirs, grads):
        p.grad = Tensor(g.copy())
        tp.grad = torch.tensor(g.copy())
    ours.append(Tensor(np.zeros(2), requires_grad=True))  # no gradient: skipped
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.numpy(), ttotal.numpy(), rtol=1e-12)
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_nonfinite_and_vectors():
    p = Tensor(np.zeros(4), requires_grad=True)
    p.grad = Tensor(np.array([-3.0, 0.5, 2.0, -0.1]))
    nn.utils.clip_grad_value_(p, 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1, 0.5, 1, -0.1])
    p.grad = Tensor(np.array([np.inf, 1.0, 0.0, 0.0]))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([Tensor(np.ones(2), requires_grad=True)], 1.0).item() == 0
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (3 * 2 + 2 + 2 + 1,)
    vec.sum().backward()  # differentiable: every parameter gets ones
    assert all((p.grad.numpy() == 1).all() for p in model.parameters())
    new = Tensor(np.arange(11.0, dtype=np.float32))
    before = [id(p) for p in model.parameters()]
    nn.utils.vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(model.parameters()).numpy(),
                                  np.arange(11.0))
    assert [id(p) for p in model.parameters()] == before
    with pytest.raises(RuntimeError, match="the vector has 3 elements, the parameters 11"):
        nn.utils.vector_to_parameters(Tensor(np.ones(3)), model.parameters())


class _DrawsInWorker:
    """Each item: a draw from ``lib.rand``, numpy's global generator, Python's ``random`` and
    the worker's ``get_worker_info().seed`` (what a random augmentation would use)."""

    def __init__(self, lib, info):
        self.lib, self.info = lib, info

    def __len__(self):
        return 4

    def __getitem__(self, i):
        import random
        return np.array([float(self.lib.rand(1)[0]), np.random.rand(), random.random(),
                         float(self.info().seed % 2**40)])


def _in_worker_draws(lib, data, seed=None):
    lib.manual_seed(0)
    kw = {} if seed is None else {"generator": lib.Generator().manual_seed(seed)}
    loader = data.DataLoader(_DrawsInWorker(lib, data.get_worker_info), batch_size=1,
                             num_workers=2, **kw)
    return [np.asarray(b).ravel().tolist() for epoch in range(2) for b in loader]


def test_worker_random_numbers_follow_manual_seed_and_generator():
    """Found by an outside tester: random numbers drawn inside workers changed from loader to
    loader after the same ``manual_seed`` or with a generator seeded alike (a process-wide
    count of worker epochs picked their seeds); PyTorch's repeat (each iterator's base seed
    comes from the generator). The second epoch of one loader still draws new ones."""
    torch = pytest.importorskip("torch")
    import torch.utils.data as torch_data

    import tinygrad_cnn.data as tg_data
    for lib, data in ((torch, torch_data), (tg, tg_data)):
        for seed in (None, 5):
            first, again = _in_worker_draws(lib, data, seed), _in_worker_draws(lib, data, seed)
            assert first == again, (lib.__name__, seed)
            assert first[:4] != first[4:], (lib.__name__, seed)  # epochs differ
            other = _in_worker_draws(lib, data, 6 if seed else None) if seed else None
            assert other is None or other != first
    # a second loader from the same, not reseeded, generator draws other numbers (PyTorch's)
    tg.manual_seed(0)
    a = [b.tolist() for b in DataLoader(_DrawsInWorker(tg, get_worker_info), num_workers=2)]
    b = [b.tolist() for b in DataLoader(_DrawsInWorker(tg, get_worker_info), num_workers=2)]
    assert a != b
    # the loader's own seed= still fixes them
    runs = [[b.tolist() for b in DataLoader(_DrawsInWorker(tg, get_worker_info), num_workers=2,
                                            seed=3)] for _ in range(2)]
    assert runs[0] == runs[1]
