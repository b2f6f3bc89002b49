"""Regression tests for an outside tester's report on tinygrad_cnn.data and nn.Module, each
against torch 2.13: the loader's fast path and subclasses' ``__getitem__`` / ``__getitems__``,
TensorDataset reading its current tensors, ``load_state_dict(assign=True)``'s requires_grad,
DataLoader attributes that cannot change after construction, ``random_split``'s list indices,
``batch_size=None``'s ``default_convert``, worker errors re-raised with their own type, and small
API gaps (non_blocking/memory_format, ModuleDict attributes, ``Sequential * n``,
``RemovableHandle.id``, ``get_worker_info``)."""

from __future__ import annotations

import collections
import collections.abc
import inspect
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn import data as ours
from tinygrad_cnn.data import dataset as dataset_module

torch = pytest.importorskip("torch")
theirs = torch.utils.data


def _plain(batch: Any, strict: bool = False) -> Any:
    """A batch (ours or PyTorch's) as nested plain values, tensors tagged with their dtype, so
    that an array that should be a tensor shows; ``strict``: a tuple that should be a list shows
    too (collated batches keep a tuple a tuple here, where PyTorch makes a list of it)."""
    if isinstance(batch, (Tensor, torch.Tensor)):
        return ("tensor", str(batch.dtype).replace("torch.", ""), batch.tolist())
    if isinstance(batch, np.ndarray):
        return ("ndarray", str(batch.dtype), batch.tolist())
    if isinstance(batch, np.generic):
        return ("npscalar", str(batch.dtype), batch.item())
    if isinstance(batch, dict):
        return {k: _plain(v, strict) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        kind = type(batch).__name__ if hasattr(batch, "_fields") else \
            strict and type(batch) is tuple
        return (kind, [_plain(v, strict) for v in batch])
    return batch


def _both(make: Any, **kw: Any) -> tuple[Any, Any]:
    """``make(module)`` built with our data module and with PyTorch's, each loaded."""
    return (_plain(list(ours.DataLoader(make(ours), **kw))),
            _plain(list(theirs.DataLoader(make(theirs), **kw))))


X = np.arange(24, dtype=np.float32).reshape(12, 2)
Y = np.arange(12, dtype=np.int64)


def _tensor_dataset(mod: Any, x: np.ndarray = X, y: np.ndarray = Y) -> Any:
    if mod is ours:
        return ours.TensorDataset(Tensor(x.copy()), Tensor(y.copy()))
    return theirs.TensorDataset(torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))


# ------------------------------------------------------------------ 1. the fast path and subclasses
def _augmented(mod: Any) -> Any:
    class Augmented(mod.TensorDataset):
        def __getitem__(self, i: Any) -> Any:
            x, y = super().__getitem__(i)
            return x * 10, y + 100

    base = _tensor_dataset(mod)
    return Augmented(*base.tensors)


def test_subclass_getitem_is_not_bypassed_by_the_fast_path():
    mine, want = _both(_augmented, batch_size=5)
    assert mine == want
    assert mine[1][0][1][1][2][2] == 102  # labels + 100: the override ran
    sub = _both(lambda m: m.Subset(_augmented(m), [3, 1, 7]), batch_size=2)
    assert sub[0] == sub[1]
    cat = _both(lambda m: m.ConcatDataset([_augmented(m), _tensor_dataset(m)]), batch_size=7)
    assert cat[0] == cat[1]
    assert not hasattr(ours.Subset(_augmented(ours), [0]), "arrays")


def test_a_subclass_overriding_both_keeps_the_fast_path_and_plain_ones_stay_fast():
    calls = []

    class Both(ours.TensorDataset):
        def __getitem__(self, i: Any) -> Any:
            x, y = super().__getitem__(i)
            return x * 10, y

        def arrays(self, index: Any = slice(None)) -> Any:
            calls.append(index)
            x, y = super().arrays(index)
            return x * 10, y

    both = Both(Tensor(X), Tensor(Y))
    got = [b[0].numpy() for b in ours.DataLoader(both, batch_size=6)]
    assert len(calls) == 2
    np.testing.assert_array_equal(np.concatenate(got), X * 10)
    for plain in (_tensor_dataset(ours), ours.Subset(_tensor_dataset(ours), [1, 2]),
                  ours.ConcatDataset([_tensor_dataset(ours), _tensor_dataset(ours)])):
        assert dataset_module.has_batch_path(plain)


def _batched(mod: Any, calls: list[Any]) -> Any:
    class Batched(mod.Dataset):
        def __len__(self) -> int:
            return 7

        def __getitem__(self, i: int) -> Any:
            raise AssertionError("__getitems__ should have been used")

        def __getitems__(self, keys: list[int]) -> list[Any]:
            calls.append(keys)
            return [(np.full(2, k, dtype=np.float32), k * 2) for k in keys]

    return Batched()


def test_getitems_is_called_with_the_batch_of_keys_then_collated():
    mine_calls: list[Any] = []
    torch_calls: list[Any] = []
    mine = _plain(list(ours.DataLoader(_batched(ours, mine_calls), batch_size=3)))
    want = _plain(list(theirs.DataLoader(_batched(theirs, torch_calls), batch_size=3)))
    assert mine == want and mine_calls == torch_calls == [[0, 1, 2], [3, 4, 5], [6]]
    assert all(type(k) is int for keys in mine_calls for k in keys)
    # a Subset passes the batch on to its dataset's __getitems__, as PyTorch's
    mine_calls.clear()
    torch_calls.clear()
    keys = np.array([6, 0, 2])
    mine = _plain(list(ours.DataLoader(ours.Subset(_batched(ours, mine_calls), keys),
                                       batch_size=2, collate_fn=lambda b: b)))
    want = _plain(list(theirs.DataLoader(theirs.Subset(_batched(theirs, torch_calls), keys),
                                         batch_size=2, collate_fn=lambda b: b)))
    assert mine == want and mine_calls == torch_calls == [[6, 0], [2]]
    # in a worker too
    worker = _plain(list(ours.DataLoader(_batched(ours, []), batch_size=3, num_workers=1)))
    assert worker == _plain(list(theirs.DataLoader(_batched(theirs, []), batch_size=3)))


def test_a_subclass_getitems_over_an_arrays_dataset_is_used():
    class Batched(ours.TensorDataset):
        def __getitems__(self, keys: list[int]) -> list[Any]:
            return [(x * 0 - 1, y) for x, y in (self[k] for k in keys)]

    got = list(ours.DataLoader(Batched(Tensor(X), Tensor(Y)), batch_size=4))
    assert (got[0][0].numpy() == -1).all()


# ------------------------------------------------------------------ 2. TensorDataset reads its tensors now
def test_tensor_dataset_sees_a_replaced_tensors_tuple_and_a_data_swap():
    def swapped(mod: Any) -> Any:
        ds = _tensor_dataset(mod)
        make = Tensor if mod is ours else torch.from_numpy
        ds.tensors = (make(X[:6] + 1000), make(Y[:6] * 3))
        return ds

    mine, want = _both(swapped, batch_size=4)
    assert mine == want and len(mine) == 2

    def data_swap(mod: Any) -> Any:
        ds = _tensor_dataset(mod)
        make = Tensor if mod is ours else torch.from_numpy
        ds.tensors[0].data = make(-X)
        return ds

    mine, want = _both(data_swap, batch_size=5)
    assert mine == want
    assert mine[1][0][1][0][2][0] == [-0.0, -1.0]


def test_tensor_dataset_copies_each_array_to_the_host_once(monkeypatch):
    copies = []
    host = dataset_module._host_array

    def counted(data: Any) -> np.ndarray:
        copies.append(data)
        return host(data)

    monkeypatch.setattr(dataset_module, "_host_array", counted)
    ds = _tensor_dataset(ours)
    for _ in range(2):
        list(ours.DataLoader(ds, batch_size=3))
    assert len(copies) == 2  # one per tensor, not one per batch
    ds.tensors[1].data = Tensor(Y[::-1].copy())
    got = np.concatenate([b[1].numpy() for b in ours.DataLoader(ds, batch_size=5)])
    np.testing.assert_array_equal(got, Y[::-1])
    assert len(copies) == 3
    with tg.no_grad():
        ds.tensors[1].mul_(2)  # in place: a new version of the same array
    got = np.concatenate([b[1].numpy() for b in ours.DataLoader(ds, batch_size=5)])
    np.testing.assert_array_equal(got, Y[::-1] * 2)


# ------------------------------------------------------------------ 3. load_state_dict(assign=True)
def test_assign_keeps_the_modules_requires_grad():
    for frozen in (False, True):
        results = []
        for lib in (nn, torch.nn):
            m = lib.Linear(2, 2)
            if frozen:
                m.weight.requires_grad_(False)
            sd = m.state_dict()
            incoming = {k: lib.Parameter(v.clone(), requires_grad=frozen) for k, v in sd.items()}
            m.load_state_dict(incoming, assign=True)
            results.append((m.weight.requires_grad, m.bias.requires_grad,
                            m.weight is incoming["weight"]))
        assert results[0] == results[1], (frozen, results)


# ------------------------------------------------------------------ 4. attributes fixed after __init__
@pytest.mark.parametrize("attr", ["batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                  "persistent_workers"])
def test_setting_a_fixed_attribute_after_init_is_refused(attr):
    messages = []
    for loader in (ours.DataLoader(range(4)), theirs.DataLoader(range(4))):
        with pytest.raises(ValueError) as info:
            setattr(loader, attr, getattr(loader, attr))
        messages.append(str(info.value))
    want = f"{attr} attribute should not be set after DataLoader is initialized"
    assert messages[1] == want and messages[0].startswith(want)  # (ours adds the fix)
    assert f"make a new DataLoader with {attr}=" in messages[0]


def test_other_attributes_may_still_be_set_and_persistent_workers_is_checked():
    loader = ours.DataLoader(range(4), batch_size=2)
    loader.num_workers, loader.collate_fn, loader.epoch = 0, (lambda b: len(b)), 3
    assert list(loader) == [2, 2]
    for lib in (ours, theirs):
        with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
            lib.DataLoader(range(4), persistent_workers=True)
    assert ours.DataLoader(range(4), num_workers=1, persistent_workers=True).persistent_workers


# ------------------------------------------------------------------ 5. random_split and Subset indices
def test_random_split_gives_lists_of_ints():
    received = []

    class Recording(ours.Dataset):
        def __len__(self) -> int:
            return 10

        def __getitem__(self, i: Any) -> Any:
            received.append(type(i))
            return i

    a, b = ours.random_split(Recording(), [6, 4], generator=0)
    ta, tb = theirs.random_split(range(10), [6, 4], generator=torch.Generator().manual_seed(0))
    assert type(a.indices) is type(ta.indices) is list
    assert all(type(i) is int for i in a.indices)
    assert sorted(a.indices + b.indices) == sorted(ta.indices + tb.indices) == list(range(10))
    a[0], b[1]
    assert received == [int, int]


def test_subset_keeps_indices_as_given_and_batches_through_the_fast_path():
    for indices in ([3, 1], (3, 1), np.array([3, 1]), range(3, 0, -2)):
        mine, want = ours.Subset(range(10), indices), theirs.Subset(range(10), indices)
        assert mine.indices is indices and want.indices is indices
        assert [mine[0], mine[1]] == [want[0], want[1]]
    mine, want = _both(lambda m: m.Subset(_tensor_dataset(m), [5, 0, 11, 2]), batch_size=3)
    assert mine == want
    sub = ours.Subset(_tensor_dataset(ours), [5, 0])
    assert dataset_module.has_batch_path(sub)
    sub.indices.append(7)  # seen, as PyTorch's (it reads the list)
    got = list(ours.DataLoader(sub, batch_size=3))
    assert got[0][1].tolist() == [5, 0, 7]
    empty = ours.Subset(_tensor_dataset(ours), [])
    assert len(empty) == 0 and list(ours.DataLoader(empty, batch_size=2)) == []


# ------------------------------------------------------------------ 6. batch_size=None converts
class _NumpyItems:
    def __init__(self, mod: Any) -> None:
        self.mod = mod

    def __len__(self) -> int:
        return 3

    def __getitem__(self, i: int) -> Any:
        return (np.full(2, i), np.float32(i / 2), i, "s")


NT = collections.namedtuple("NT", "x y")
CONVERT_CASES = [
    np.arange(3.0), np.int64(4), np.float32(2.5), np.bool_(True), 3, 2.5, "text",
    (np.ones(2), 3, np.float32(2.0), "s", np.array(["a"])),
    {"a": np.ones(1, dtype=np.float32), "b": [np.int64(3), 2.0]},
    NT(np.zeros(2, dtype=np.int32), 2),
    [np.arange(2), (np.uint8(1),)],
]


def test_batch_size_none_converts_numpy_to_tensors():
    mine = _plain(list(ours.DataLoader(_NumpyItems(ours), batch_size=None)), True)
    want = _plain(list(theirs.DataLoader(_NumpyItems(theirs), batch_size=None)), True)
    assert mine == want
    assert mine[1][0] == (False, [("tensor", "int64", [0, 0]), ("tensor", "float32", 0.0), 0, "s"])
    # with a collate_fn, it alone is applied (PyTorch's)
    assert list(ours.DataLoader(_NumpyItems(ours), batch_size=None, collate_fn=lambda v: v[1])) \
        == [np.float32(0), np.float32(0.5), np.float32(1)]


@pytest.mark.parametrize("case", range(len(CONVERT_CASES)))
def test_default_convert_matches_pytorch(case):
    from torch.utils.data import default_convert as their_convert

    value = CONVERT_CASES[case]
    assert ours.default_convert is tg.utils.data.default_convert
    assert _plain(ours.default_convert(value), True) == _plain(their_convert(value), True)


# ------------------------------------------------------------------ 7. worker errors keep their type
class _Failing(ours.Dataset):
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> Any:
        if i == 2:
            raise self.error
        return np.float32(i)


class _TwoArgError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(code, text)


@pytest.mark.parametrize("error,expected", [(KeyError("no item 2"), KeyError),
                                            (ValueError("bad item 2"), ValueError),
                                            (_TwoArgError(7, "two args"), RuntimeError)])
def test_worker_errors_are_reraised_as_pytorch(error, expected):
    with pytest.raises(expected) as info:
        list(ours.DataLoader(_Failing(error), batch_size=2, num_workers=1))
    assert type(info.value) is expected
    message = str(info.value)
    prefix = (f"Caught {type(error).__name__} in DataLoader worker process 0.\n"
              "Original Traceback (most recent call last):\n")
    assert message.startswith(prefix), message
    assert "__getitem__" in message and "raise self.error" in message
    if expected is KeyError:  # printed readably, not as the repr of one long string
        assert "\\n" not in message and "\nKeyError: 'no item 2'" in message


def test_worker_init_fn_errors_keep_their_type_too():
    def init(worker_id: int) -> None:
        raise OSError("no such device")

    with pytest.raises(OSError, match="(?s)^Caught OSError in DataLoader worker process 0.*"
                                      "no such device"):
        list(ours.DataLoader(range(4), batch_size=2, num_workers=1, worker_init_fn=init))


# ------------------------------------------------------------------ 8. small API gaps
def test_to_cuda_cpu_take_torchs_keywords():
    m = nn.Linear(2, 2)
    assert m.to("cpu", non_blocking=True) is m
    assert m.to("cpu", np.float64, True) is m and m.weight.dtype == np.float64
    assert m.to(device="cpu", dtype=np.float32, non_blocking=False) is m
    assert m.to(memory_format=torch.preserve_format) is m
    t = Tensor(np.ones(2))
    assert t.cpu(memory_format=torch.preserve_format).shape == (2,)
    assert t.to("cpu", memory_format=torch.preserve_format).shape == (2,)
    # torch.Tensor.cuda(device=None, non_blocking=False, memory_format=...), .cpu(memory_format=...)
    inspect.signature(Tensor.cuda).bind(t, 0, non_blocking=True, memory_format=None)
    inspect.signature(Tensor.cuda).bind(t, "cuda:0", True)
    with pytest.raises(TypeError, match="non_blocking"):
        m.to("cpu", np.float32, "yes")


def test_module_dict_attribute_access_and_stale_sequence_keys():
    for lib in (nn, torch.nn):
        md = lib.ModuleDict({"a": lib.ReLU()})
        assert type(md.a).__name__ == "ReLU"
        md["b"] = lib.Tanh()
        assert type(md.b).__name__ == "Tanh"
        del md["a"]
        with pytest.raises(AttributeError, match="'ModuleDict' object has no attribute 'a'"):
            md.a  # noqa: B018
        seq = lib.Sequential(lib.ReLU(), lib.Tanh())
        del seq[0]
        assert type(getattr(seq, "0")).__name__ == "Tanh"
        seq[0] = lib.Sigmoid()
        assert type(getattr(seq, "0")).__name__ == "Sigmoid"


def test_sequential_times_int_repeats_the_same_modules():
    for lib in (nn, torch.nn):
        s = lib.Sequential(lib.Linear(1, 1), lib.ReLU())
        for r in (s * 2, 2 * s):
            assert len(r) == 4 and r[0] is r[2] is s[0] and list(r._modules) == ["0", "1", "2", "3"]
            assert len(list(r.parameters())) == 2
        named = lib.Sequential(collections.OrderedDict(a=lib.ReLU(), b=lib.Tanh())) * 2
        assert list(named._modules) == ["0", "1", "2", "3"]
        for bad, error in ((0, ValueError), (-1, ValueError), (2.0, TypeError),
                           (np.int64(2), TypeError)):
            with pytest.raises(error):
                s * bad
        first = s[0]
        s *= 3
        assert len(s) == 6 and s[4] is first and list(s._modules) == [str(i) for i in range(6)]
    with pytest.raises(ValueError, match="(?s)Sequential.*positive"):
        nn.Sequential(nn.ReLU()) * 0


def test_removable_handle_id():
    m = nn.Linear(1, 1)
    handles = [m.register_forward_hook(lambda *a: None),
               m.register_forward_pre_hook(lambda *a: None),
               Tensor(np.ones(1), requires_grad=True).register_hook(lambda g: g)]
    ids = [h.id for h in handles]
    assert all(type(i) is int for i in ids) and ids == sorted(set(ids))
    assert type(torch.nn.Linear(1, 1).register_forward_hook(lambda *a: None).id) is int


class _WhoAmI(ours.Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> Any:
        info = ours.get_worker_info()
        return (info.id, info.num_workers, isinstance(info.seed, int),
                type(info.dataset).__name__, len(info.dataset))


def test_get_worker_info():
    assert ours.get_worker_info() is None and theirs.get_worker_info() is None
    seen = list(ours.DataLoader(_WhoAmI(), batch_size=2, num_workers=2, collate_fn=lambda b: b))
    rows = [row for batch in seen for row in batch]
    assert {r[0] for r in rows} <= {0, 1} and all(r[1:] == (2, True, "_WhoAmI", 4) for r in rows)
    assert ours.get_worker_info() is None


def test_overrides_of_getitem_through_a_mixin_or_a_subset_subclass_are_used():
    """A mixin's __getitem__ before TensorDataset, and a Subset subclass's (through Subset's
    __getitems__), were bypassed by the one-index batch path."""
    class Mixin:
        def __getitem__(self, i):
            return self.tensors[0][i] + 100

    class Mixed(Mixin, ours.TensorDataset):
        pass

    class Shifted(ours.Subset):
        def __getitem__(self, i):
            return self.dataset[self.indices[i]][0] + 100

    batches = list(ours.DataLoader(Mixed(tg.arange(4)), batch_size=2))
    assert [b.tolist() for b in batches] == [[100, 101], [102, 103]]
    shifted = Shifted(ours.TensorDataset(tg.arange(4)), [2, 3])
    assert [b.tolist() for b in ours.DataLoader(shifted, batch_size=2)] == [[102, 103]]


class _Noise(ours.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return np.random.rand()


def test_worker_random_numbers_differ_between_loaders_and_over_many_epochs():
    """Each new loader's workers repeated the first one's numpy draws, and numpy was seeded with
    seed % 2**32 (only 4096 epoch seeds); a loader with seed= stays repeatable."""
    draws = [tuple(next(iter(ours.DataLoader(_Noise(), batch_size=2, num_workers=1))).tolist())
             for _ in range(3)]
    assert len(set(draws)) == 3
    loader = ours.DataLoader(_Noise(), batch_size=2, num_workers=1, seed=5)
    epochs = []
    for e in range(0, 60, 3):
        loader.epoch = e
        epochs.append(tuple(next(iter(loader)).tolist()))
    assert len(set(epochs)) == len(epochs)
    loader.epoch = 0
    assert tuple(next(iter(loader)).tolist()) == epochs[0]


def test_batch_path_refuses_what_items_would_refuse():
    """Samples of different lengths across a ConcatDataset lost a field silently, float
    indices of a Subset were truncated (PyTorch raises for both)."""
    x, y = tg.zeros(2, 3), tg.tensor([7, 8])
    mixed = ours.ConcatDataset([ours.TensorDataset(x, y), ours.TensorDataset(x)])
    with pytest.raises(RuntimeError, match="equal size"):
        list(ours.DataLoader(mixed, batch_size=4))
    with pytest.raises(RuntimeError):
        list(theirs.DataLoader(theirs.ConcatDataset([theirs.TensorDataset(torch.zeros(2, 3),
                                                                          torch.tensor([7, 8])),
                                                     theirs.TensorDataset(torch.zeros(2, 3))]),
                               batch_size=4))
    floats = ours.Subset(ours.TensorDataset(tg.arange(10)), [1.7, 2.9])
    with pytest.raises(IndexError, match="integers"):
        list(ours.DataLoader(floats, batch_size=2))


@pytest.mark.parametrize("batch", [[1, 2.5], [1, 2], [2.5, 1], [True, False], [True, 2]])
def test_default_collate_of_numbers_takes_pytorchs_dtype(batch):
    """An int first and a float after it: PyTorch's torch.tensor(batch) is float32 (numpy's
    stack gave float64)."""
    assert str(ours.default_collate(batch).dtype) == \
        str(theirs.default_collate(batch).dtype).replace("torch.", "")


def test_default_collate_of_tensors_of_several_dtypes_promotes_as_pytorch():
    pairs = [(np.array([1, 2]), np.array([1.0, 2.0], np.float32)),
             (np.array([1.0], np.float16), np.array([1], np.int32))]
    for a, b in pairs:
        got = ours.default_collate([tg.tensor(a), tg.tensor(b)]).dtype
        want = theirs.default_collate([torch.from_numpy(a), torch.from_numpy(b)]).dtype
        assert str(got) == str(want).replace("torch.", "")


def _dtype(t: Any) -> str:
    return str(t.dtype).replace("torch.", "")


def _concat(mod: Any, *arrays: np.ndarray) -> Any:
    wrap = Tensor if mod is ours else torch.from_numpy
    return mod.ConcatDataset([mod.TensorDataset(wrap(a.copy())) for a in arrays])


@pytest.mark.parametrize("a, b", [
    (np.arange(2, dtype=np.int64), np.arange(2, dtype=np.float32)),
    (np.arange(2, dtype=np.int32), np.arange(2, dtype=np.float32)),
    (np.arange(2, dtype=np.int64), np.arange(2, dtype=np.float16)),
    (np.arange(2, dtype=np.uint8), np.arange(2, dtype=np.int8)),
    (np.array([True, False]), np.arange(2, dtype=np.int16)),
])
@pytest.mark.parametrize("num_workers", [0, 2])
def test_concat_dataset_batches_promote_as_default_collate_and_pytorch(a, b, num_workers):
    """The batch path joined the rows of a ConcatDataset of TensorDatasets of different dtypes
    by numpy's rule (int32 + float32 gave float64, int64 + float16 float64); PyTorch's stack and
    our own default_collate of the items give float32 and float16. Through a Subset too."""
    mine, want = _concat(ours, a, b), _concat(theirs, a, b)
    got = next(iter(ours.DataLoader(mine, batch_size=4, num_workers=num_workers)))[0]
    expected = next(iter(theirs.DataLoader(want, batch_size=4)))[0]
    assert _dtype(got) == _dtype(expected) == \
        _dtype(ours.default_collate([mine[i] for i in range(4)])[0])
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    keys = [3, 0, 2]
    got = next(iter(ours.DataLoader(ours.Subset(mine, keys), batch_size=3,
                                    num_workers=num_workers)))[0]
    expected = next(iter(theirs.DataLoader(theirs.Subset(want, keys), batch_size=3)))[0]
    assert _dtype(got) == _dtype(expected)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    # a batch from one of the datasets only keeps that dataset's dtype (PyTorch's too)
    got = next(iter(ours.DataLoader(mine, batch_size=2)))[0]
    assert _dtype(got) == _dtype(next(iter(theirs.DataLoader(want, batch_size=2)))[0])


@pytest.mark.parametrize("num_workers", [0, 2])
def test_concat_dataset_samples_of_different_shapes_give_default_collates_error(num_workers):
    """numpy's "all the input array dimensions except for the concatenation axis must match"
    came through the batch path (in a ValueError from the workers); default_collate's
    RuntimeError now, as PyTorch's ("stack expects each tensor to be equal size")."""
    a, b = np.zeros((2, 3), np.float32), np.zeros((2, 2), np.float32)
    for wrap in (lambda d: d, lambda d: ours.Subset(d, [0, 3])):
        loader = ours.DataLoader(wrap(_concat(ours, a, b)), batch_size=4, num_workers=num_workers)
        with pytest.raises(RuntimeError, match=r"(?s)stack expects each tensor to be equal "
                           r"size.*\[\(2,\), \(3,\)\].*pad or resize"):
            list(loader)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        list(theirs.DataLoader(_concat(theirs, a, b), batch_size=4))
    items = _concat(ours, a, b)
    with pytest.raises(RuntimeError) as direct:
        ours.default_collate([items[i] for i in range(4)])
    with pytest.raises(RuntimeError) as loaded:
        list(ours.DataLoader(items, batch_size=4))
    assert str(direct.value) == str(loaded.value)


def test_subset_and_concat_of_tensors_that_require_grad_keep_their_history():
    """A TensorDataset's batch kept its graph, a Subset or ConcatDataset of one lost it (the
    batch path read arrays); stacking the items keeps it, as PyTorch's."""
    x = tg.arange(6.0).reshape(3, 2).requires_grad_()
    xt = torch.arange(6.0).reshape(3, 2).requires_grad_()
    for wrap_ours, wrap_theirs in ((lambda d: ours.Subset(d, [2, 0]),
                                    lambda d: theirs.Subset(d, [2, 0])),
                                   (lambda d: d + d, lambda d: d + d)):
        got = next(iter(ours.DataLoader(wrap_ours(ours.TensorDataset(x)), batch_size=4)))[0]
        want = next(iter(theirs.DataLoader(wrap_theirs(theirs.TensorDataset(xt)),
                                           batch_size=4)))[0]
        assert got.requires_grad and want.requires_grad
        got.sum().backward()
        want.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
        x.grad, xt.grad = None, None
    with pytest.raises(RuntimeError, match="require grad"):
        list(ours.DataLoader(ours.Subset(ours.TensorDataset(x), [0]), num_workers=1))


class _Frozen(collections.abc.Mapping):
    """A read-only mapping made from a dict (collate builds it with ``type(m)(dict)``)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Any:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _TwoFields(_Frozen):
    """A mapping that cannot be made from a dict: collate falls back to a dict."""

    def __init__(self, a: Any, b: Any) -> None:
        super().__init__({"a": a, "b": b})


class _Fields(list):
    pass


@pytest.mark.parametrize("make", [
    lambda i: collections.OrderedDict(x=np.ones(2) * i, y=i),
    lambda i: _Frozen({"x": np.full(2, i, np.float32), "y": i}),
    lambda i: _TwoFields(i, 2.5 * i),
    lambda i: _Fields([i, np.ones(1) * i]),
    lambda i: {"outer": collections.OrderedDict(v=i)},
], ids=["OrderedDict", "mapping", "no-dict-constructor", "list-subclass", "nested"])
@pytest.mark.parametrize("num_workers", [0, 1])
def test_default_collate_keeps_mapping_and_sequence_types_as_pytorch(make, num_workers):
    """default_collate made every Mapping a dict and a list subclass a list; PyTorch keeps the
    type where it can be built (a copy updated, or ``type(m)(dict)``) and falls back to a dict
    or list. Through the DataLoader and its workers too."""
    def dicts(batch: Any) -> Any:  # (_plain compares dicts)
        if isinstance(batch, collections.abc.Mapping):
            return {k: dicts(v) for k, v in batch.items()}
        return batch

    items = [make(i) for i in range(3)]
    want = _plain(dicts(theirs.default_collate(items)))
    for got in (ours.default_collate(items),
                next(iter(ours.DataLoader(items, batch_size=3, num_workers=num_workers)))):
        assert type(got) is type(theirs.default_collate(items))
        assert _plain(dicts(got)) == want
        if isinstance(got, dict) and "outer" in got:
            assert type(got["outer"]) is collections.OrderedDict


def test_a_batch_of_a_local_container_type_is_an_error_from_the_workers_not_a_hang():
    """A namedtuple (or mapping) class defined in a function does not pickle: the worker's
    batch was lost in the queue's feeder thread and the loader waited forever."""
    Pair = collections.namedtuple("Pair", ["x", "y"])
    items = [Pair(np.ones(2) * i, i) for i in range(4)]
    assert type(next(iter(ours.DataLoader(items, batch_size=2)))) is Pair
    with pytest.raises(TypeError, match="(?s)cannot be pickled.*module level"):
        list(ours.DataLoader(items, batch_size=2, num_workers=1, timeout=30))


def test_dict_samples_with_their_keys_in_another_order_collate_by_key_as_torch():
    torch = pytest.importorskip("torch")
    batch = [{"a": 1, "b": 2.0}, {"b": 3.0, "a": 4}]
    mine = ours.default_collate(batch)
    theirs = torch.utils.data.default_collate(batch)
    assert list(mine) == list(theirs)
    for k in theirs:
        np.testing.assert_array_equal(mine[k].numpy(), theirs[k].numpy())
        assert str(mine[k].dtype) == str(theirs[k].dtype).replace("torch.", "")
    with pytest.raises(RuntimeError, match="same keys"):
        ours.default_collate([{"a": 1}, {"a": 2, "b": 3}])


class _StopsAtTwo(ours.Dataset):
    """A map-style dataset whose ``__getitem__`` ends the epoch at key 2 (PyTorch treats a
    StopIteration from it as the end of the loop)."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> np.ndarray:
        if i == 2:
            raise StopIteration
        return np.zeros(2)


@pytest.mark.parametrize("kw", [dict(batch_size=4), dict(batch_size=2), dict(batch_size=None),
                                dict(batch_size=None, num_workers=2),
                                dict(batch_size=2, num_workers=2),
                                dict(batch_size=1, num_workers=2)])
def test_a_stop_iteration_from_getitem_ends_the_epoch_as_in_pytorch(kw):
    """Found by an outside tester: it was "RuntimeError: generator raised StopIteration". The
    batches before the one that raised come out; PyTorch gives the same counts with workers as
    without (checked once with its workers; here against its loader without them)."""
    torch = pytest.importorskip("torch")

    class Theirs(torch.utils.data.Dataset):
        __len__ = _StopsAtTwo.__len__
        __getitem__ = _StopsAtTwo.__getitem__

    plain = {k: v for k, v in kw.items() if k != "num_workers"}
    want = len(list(torch.utils.data.DataLoader(Theirs(), **plain)))
    assert len(list(ours.DataLoader(_StopsAtTwo(), **kw))) == want


class _SlowThenFails(ours.Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> np.ndarray:
        if i == 0:
            import time
            time.sleep(0.3)  # worker 1's error reaches the main process first
        if i == 1:
            raise ValueError("no sample 1")
        return np.full(2, float(i))


def test_a_workers_error_waits_for_the_batches_before_it_as_in_pytorch():
    """PyTorch keeps results that arrive early, errors too, until their turn: batch 0 comes out,
    then batch 1's error (it was raised as soon as it arrived, losing batch 0)."""
    got = []
    with pytest.raises(ValueError, match="no sample 1"):
        for batch in ours.DataLoader(_SlowThenFails(), batch_size=1, num_workers=2):
            got.append(batch.tolist())
    assert got == [[[0.0, 0.0]]]


def test_collated_tuple_samples_are_a_list_as_pytorch():
    """Found by an outside tester: a batch of tuple samples (``TensorDataset``, a dataset
    returning ``(x, y)``, nested tuples) was a tuple here, a list in PyTorch's default_collate
    (so ``batch[0] = batch[0].to(device)`` failed); namedtuples stay namedtuples."""
    samples = [((1, 2), 2.0), ((3, 4), 4.0)]
    assert _plain(ours.default_collate(samples), True) == \
        _plain(theirs.default_collate(samples), True)
    pair = collections.namedtuple("pair", "x y")
    named = [pair(1, 2.0), pair(3, 4.0)]
    assert _plain(ours.default_collate(named), True) == \
        _plain(theirs.default_collate(named), True)
    for workers in (0, 2):
        mine = list(ours.DataLoader(ours.TensorDataset(Tensor(X), Tensor(Y)), batch_size=5,
                                    num_workers=workers))
        want = list(theirs.DataLoader(theirs.TensorDataset(torch.tensor(X), torch.tensor(Y)),
                                      batch_size=5, num_workers=workers))
        assert _plain(mine, True) == _plain(want, True)
        mine[0][0] = mine[0][0].float()  # (a list: assignable, as PyTorch's)
        mine_items = list(ours.DataLoader([(x, int(y)) for x, y in zip(X, Y)], batch_size=4,
                                          num_workers=workers))
        want_items = list(theirs.DataLoader([(x, int(y)) for x, y in zip(X, Y)], batch_size=4,
                                            num_workers=workers))
        assert _plain(mine_items, True) == _plain(want_items, True)


def test_string_fields_of_tuple_samples_collate_to_a_tuple_as_pytorchs():
    """An outside tester: after tuples became lists (PyTorch's default_collate), a string field of
    tuple samples became a list too, where PyTorch keeps the tuple its zip made."""
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as theirs

    from tinygrad_cnn.data import default_collate as ours

    def shape_of(v):  # the container types all the way down, and the leaves' values
        if isinstance(v, (list, tuple)):
            return (type(v).__name__, [shape_of(x) for x in v])
        if isinstance(v, dict):
            return ("dict", {k: shape_of(x) for k, x in v.items()})
        return v.tolist() if hasattr(v, "tolist") else v

    for batch in ([("a", 1), ("b", 2)], [(b"x", 1.0), (b"y", 2.0)], [{"s": "a"}, {"s": "b"}],
                  ["a", "b"], [("a", ("c", 1)), ("b", ("d", 2))], [["a", 1], ["b", 2]]):
        assert shape_of(ours(batch)) == shape_of(theirs(batch)), batch
