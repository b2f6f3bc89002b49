"""Checkpoints: round trips, atomic writes, and refusal of pickles, foreign and broken files."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import CheckpointError, Tensor, optim
from tinygrad_cnn.models import LeNet5
from tinygrad_cnn.serialization import _SCHEMA_KEY


def test_round_trip_of_nested_state(tmp_path):
    model = LeNet5()
    opt = optim.Adam(model.parameters(), lr=1e-3, betas=(0.8, 0.9))
    tg.nn.functional.cross_entropy(model(Tensor(np.zeros((2, 1, 28, 28), np.float32))),
                                   np.array([0, 1])).backward()
    opt.step()
    obj = {"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
           "accuracy": 0.987654321, "name": "lenet", "none": None, "flag": True,
           "arr": np.arange(4, dtype=np.int16), "inf": float("inf")}
    tg.save(obj, tmp_path / "ck.npz")
    back = tg.load(tmp_path / "ck.npz")
    assert back["epoch"] == 3 and back["accuracy"] == 0.987654321 and back["name"] == "lenet"
    assert back["none"] is None and back["flag"] is True and back["inf"] == float("inf")
    assert back["arr"].dtype == np.int16
    for k, v in obj["model"].items():
        np.testing.assert_array_equal(back["model"][k].numpy(), v.numpy())
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.8, 0.9)
    fresh = LeNet5()
    fresh.load_state_dict(back["model"])
    opt2 = optim.Adam(fresh.parameters())
    opt2.load_state_dict(back["optimizer"])
    assert opt2.param_groups[0]["betas"] == (0.8, 0.9)
    assert opt2.state[fresh.conv1.weight]["step"] == 1


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "ck.npz"
    tg.save({"epoch": 1, "w": Tensor(np.ones(3))}, path)
    before = path.read_bytes()

    def broken_savez(f, **arrays):
        f.write(b"PK partial")
        raise KeyboardInterrupt  # Ctrl-C in the middle of writing

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"epoch": 2, "w": Tensor(np.zeros(3))}, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["ck.npz"]  # no temporary left
    monkeypatch.undo()
    assert tg.load(path)["epoch"] == 1


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{_SCHEMA_KEY: np.array('{"format": "tinygrad_cnn-checkpoint", "version": 1, '
                                            '"root": {"array": "a0"}}'),
                      "a0": np.array([{"x": 1}], dtype=object)})
    with pytest.raises(CheckpointError, match="refuses to load"):
        tg.load(path)
    with pytest.raises(TypeError, match="cannot be stored without pickle"):
        tg.save({"x": np.array([object()], dtype=object)}, tmp_path / "x.npz")


def test_missing_truncated_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        tg.load(tmp_path / "nope.npz")
    good = tmp_path / "good.npz"
    tg.save({"w": Tensor(np.ones(1000))}, good)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="truncated.npz"):
        tg.load(truncated)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(CheckpointError, match="not a tinygrad_cnn checkpoint"):
        tg.load(foreign)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match="notes.npz"):
        tg.load(text)


def test_the_archive_holds_only_plain_arrays(tmp_path):
    tg.save({"model": LeNet5().state_dict()}, tmp_path / "ck.npz")
    with zipfile.ZipFile(tmp_path / "ck.npz") as z:
        for name in z.namelist():
            arr = np.load(io.BytesIO(z.read(name)), allow_pickle=False)
            assert arr.dtype.kind in "fU"


def test_unsupported_values_are_refused(tmp_path):
    with pytest.raises(TypeError, match="checkpoints hold"):
        tg.save({"f": lambda: 1}, tmp_path / "x.npz")
