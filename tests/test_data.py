"""Data: IDX reading and writing, MNIST (real files, checksums, the search order, downloads from a
local HTTP server), DataLoader."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

from tinygrad_cnn.data import MNIST, ChecksumError, DataLoader, IDXError, Subset, read_idx, write_idx
from tinygrad_cnn.data import mnist as mnist_module

REPO_DATA = Path(__file__).resolve().parents[1] / "data" / "mnist"


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    a = (np.random.default_rng(0).standard_normal((3, 4, 5)) * 50).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, a)
    b = read_idx(path)
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    assert list(tmp_path.iterdir()) == [path]  # no temporary left over


def test_idx_header_is_big_endian(tmp_path):
    write_idx(tmp_path / "l.idx", np.array([1, 2, 3], dtype=np.uint8))
    assert (tmp_path / "l.idx").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3])


@pytest.mark.parametrize("data, match", [
    (bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]), "magic number"),
    (bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 7]), "unknown IDX type code 0x42"),
    (bytes([0, 0, 8, 2, 0, 0]), "header promises 2 dimensions"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 4, 7, 7]), "truncated"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 1, 7, 7]), "longer than its header says"),
])
def test_idx_errors_name_the_file(tmp_path, data, match):
    path = tmp_path / "bad.idx"
    path.write_bytes(data)
    with pytest.raises(IDXError, match=match) as info:
        read_idx(path)
    assert "bad.idx" in str(info.value)


def test_corrupt_deflate_data_is_an_idx_error(tmp_path):
    """Flipped bytes inside the compressed stream make zlib fail (not gzip's own checks): still an
    IDXError naming the file."""
    raw = (REPO_DATA / "t10k-labels-idx1-ubyte.gz").read_bytes()
    hits = 0
    for offset in range(40, len(raw) - 8, 211):
        data = bytearray(raw)
        data[offset] ^= 0x55
        try:
            gzip.decompress(bytes(data))
            continue
        except zlib.error:
            hits += 1
        except (OSError, EOFError):
            pass
        (tmp_path / "bad.gz").write_bytes(bytes(data))
        # (decompressed no further than the header declares: a flip that inflates to more
        # is reported as that, before the CRC at the end is reached)
        with pytest.raises(IDXError, match="bad.gz: the (gzip stream is corrupt|file is longer "
                                           "than its header says)"):
            read_idx(tmp_path / "bad.gz")
    assert hits >= 3  # the case the fix is about did occur


def test_truncated_gzip_is_an_idx_error(tmp_path):
    raw = (REPO_DATA / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "t.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IDXError, match="corrupt or truncated"):
        read_idx(tmp_path / "t.gz")


def test_real_mnist_test_split_and_label_counts():
    test = MNIST(REPO_DATA, train=False, download=False)
    assert test.images.shape == (10000, 28, 28) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974,
                                                 1009]
    x, y = test[0]
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and y == 7
    train = MNIST(REPO_DATA, train=True, download=False)
    assert len(train) == 60000 and np.bincount(train.labels)[1] == 6742


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """MNIST's search path cut down to an empty root and an empty cache under tmp_path."""
    root, cache = tmp_path / "root", tmp_path / "cache"
    root.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.delenv("TINYGRAD_CNN_DATA", raising=False)
    monkeypatch.setattr(mnist_module, "search_path",
                        lambda r=None: ([Path(r)] if r is not None else []) +
                        [mnist_module.cache_dir()])
    return root, cache / "tinygrad_cnn" / "mnist"


def test_search_order(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist_module.search_path(tmp_path / "explicit") == [tmp_path / "explicit"]
    paths = mnist_module.search_path()
    assert paths[0] == tmp_path / "env"
    assert paths[1] == Path.cwd() / "data" / "mnist" or paths[1].name == "mnist"
    assert paths[-1] == tmp_path / "xdg" / "tinygrad_cnn" / "mnist"


def test_an_explicit_root_is_used_or_refused_never_replaced(tmp_path, monkeypatch):
    """The repository's files are on the default search path, but a root without the files is
    not quietly swapped for them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError) as info:
        MNIST(empty, train=False, download=False)
    assert str(empty) in str(info.value) and str(REPO_DATA) not in str(info.value)
    with pytest.raises(FileNotFoundError):
        MNIST(tmp_path / "missing", train=False, download=False)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(NotADirectoryError, match="a_file is a file"):
        MNIST(tmp_path / "a_file", train=False)
    with _Server(REPO_DATA) as server:  # missing files are downloaded into the root itself
        test = MNIST(empty, train=False, mirrors=(server.url,))
    assert len(test) == 10000 and test.paths["labels"].parent == empty
    assert not (tmp_path / "cache").exists()


def test_corrupt_file_is_an_error_and_nothing_lands_in_the_cache(isolated):
    root, cache = isolated
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(REPO_DATA / name, root / name)
    raw = bytearray((root / "t10k-labels-idx1-ubyte.gz").read_bytes())
    raw[100] ^= 0xFF
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz is corrupt or truncated"):
        MNIST(root, train=False)
    truncated = (REPO_DATA / "t10k-labels-idx1-ubyte.gz").read_bytes()[:1000]
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(truncated)
    with pytest.raises(ChecksumError, match="corrupt or truncated"):
        MNIST(root, train=False)
    assert not cache.exists() or not any(cache.iterdir())


class _Server:
    def __init__(self, directory: Path):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_from_a_local_server_lands_verified(isolated, monkeypatch):
    root, cache = isolated
    with _Server(REPO_DATA) as server:
        seen = []
        test = MNIST(train=False, mirrors=(server.url,), progress=lambda n, d, t: seen.append(d))
    assert len(test) == 10000
    assert sorted(p.name for p in cache.iterdir()) == ["t10k-images-idx3-ubyte.gz",
                                                       "t10k-labels-idx1-ubyte.gz"]
    assert seen  # the progress callback was called


def test_download_of_wrong_bytes_leaves_no_file(isolated, tmp_path):
    root, cache = isolated
    bad = tmp_path / "bad_mirror"
    bad.mkdir()
    (bad / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"not mnist"))
    with _Server(bad) as server, pytest.raises(RuntimeError) as info:
        mnist_module.locate("test-labels", mirrors=(server.url,))
    assert "wrong bytes" in str(info.value)
    assert not any(cache.iterdir())  # neither the file nor a .part


def test_download_from_a_dead_mirror_falls_through(isolated):
    root, cache = isolated
    with _Server(REPO_DATA) as server:
        path = mnist_module.locate("test-labels", mirrors=("http://127.0.0.1:9/", server.url))
    assert path == cache / "t10k-labels-idx1-ubyte.gz"


def test_dataloader_batches_shuffle_and_seed():
    test = MNIST(REPO_DATA, train=False, download=False)
    small = Subset(test, np.arange(100))
    loader = DataLoader(small, batch_size=32)
    batches = list(loader)
    assert len(loader) == 4 and [len(y) for _, y in batches] == [32, 32, 32, 4]
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]),
                                  test.labels[:100])
    assert len(DataLoader(small, 32, drop_last=True)) == 3
    a = [y.numpy() for _, y in DataLoader(small, 10, shuffle=True, seed=1)]
    b = [y.numpy() for _, y in DataLoader(small, 10, shuffle=True, seed=1)]
    np.testing.assert_array_equal(np.concatenate(a), np.concatenate(b))
    assert not np.array_equal(np.concatenate(a), test.labels[:100])
    loader = DataLoader(small, 10, shuffle=True, seed=1)
    first, second = [np.concatenate([y.numpy() for _, y in loader]) for _ in range(2)]
    assert not np.array_equal(first, second)  # a new order every epoch
    assert sorted(first.tolist()) == sorted(test.labels[:100].tolist())


def test_dataloader_on_a_plain_dataset():
    data = [(np.full((2,), i, np.float32), i) for i in range(5)]
    x, y = next(iter(DataLoader(data, batch_size=5)))
    assert x.shape == (5, 2) and y.numpy().tolist() == [0, 1, 2, 3, 4]
