"""MNIST: the four original IDX files, checksum-verified, found locally or downloaded atomically.

Where the files are looked for: an explicit ``root`` is the only place -- files missing there are
downloaded into it, never taken from elsewhere. Without one, in order: ``$TINYGRAD_CNN_DATA``;
``./data/mnist``; the ``data/mnist`` of the source checkout this package runs from (the repository
ships the files there); the user cache ``~/.cache/tinygrad_cnn/mnist`` (``$XDG_CACHE_HOME`` is
honoured), where files found nowhere are downloaded. A file that is found but does not match its
SHA-256 is an error naming the path -- it is never silently replaced. Downloads come from the known
mirrors (or ``$TINYGRAD_CNN_MNIST_MIRRORS``, comma-separated): streamed into a temporary file next
to the target, verified, and only then renamed into place, so an interrupted or wrong download
leaves nothing behind.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tinygrad_cnn._files import atomic_write
from tinygrad_cnn.data.dataset import Dataset
from tinygrad_cnn.data.idx import read_idx

FILES = {
    "train-images": ("train-images-idx3-ubyte.gz",
                     "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train-labels": ("train-labels-idx1-ubyte.gz",
                     "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "test-images": ("t10k-images-idx3-ubyte.gz",
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "test-labels": ("t10k-labels-idx1-ubyte.gz",
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}
#: the SHA-256 of each file unpacked: a folder holding the files gunzipped (what ``gunzip *.gz``
#: leaves, and torchvision reads) or gzipped again (another gzip header, the same data) is used
RAW_SHA256 = {
    "train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "test-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "test-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
MEAN, STD = 0.1307, 0.3081  # of the training images scaled to [0, 1]

Progress = Callable[[str, int, int], None]  # (file name, bytes so far, total bytes or 0)


class ChecksumError(ValueError):
    """A data file does not have the bytes it should."""


class DownloadError(RuntimeError):
    """No mirror served a data file with the right bytes."""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tinygrad_cnn" / "mnist"


def search_path(root: str | os.PathLike[str] | None = None) -> list[Path]:
    """The folders searched for the MNIST files, in order: ``[root]`` when ``root`` is given
    (and torchvision's ``root/MNIST/raw``, where it exists)."""
    if root is not None:
        torchvision = Path(root) / "MNIST" / "raw"
        return [Path(root)] + ([torchvision] if torchvision.is_dir() else [])
    paths: list[Path] = []
    if os.environ.get("TINYGRAD_CNN_DATA"):
        paths.append(Path(os.environ["TINYGRAD_CNN_DATA"]))
    try:
        paths.append(Path.cwd() / "data" / "mnist")
    except OSError:  # the working folder was deleted: no data/mnist under it
        pass
    paths.append(Path(__file__).resolve().parents[2] / "data" / "mnist")  # the source checkout
    paths.append(cache_dir())
    unique: dict[Path, Path] = {}  # resolved -> as given, first occurrence kept
    for p in paths:
        try:
            unique.setdefault(p.resolve(), p)
        except OSError:  # (a relative TINYGRAD_CNN_DATA in a deleted working folder)
            unique.setdefault(p, p)
    return list(unique.values())


def _verified(path: Path, digest: str, raw_digest: str | None = None) -> Path:
    """``path`` when its SHA-256 is ``digest`` (the file as the mirrors serve it) or, unpacked,
    ``raw_digest`` (the same data gunzipped, or gzipped again with another header)."""
    try:
        actual = sha256(path)
    except PermissionError:  # (was: "[Errno 13] Permission denied: '...'", no way out)
        raise PermissionError(f"cannot read the MNIST file {path}: permission "
                              f"denied; make it readable (chmod a+r {path}) or give --data-dir "
                              "(MNIST(root=...)) a folder with a readable copy") from None
    if actual != digest and (raw_digest is None or _unpacked_sha256(path) != raw_digest):
        also = f" (or, unpacked, {raw_digest})" if raw_digest not in (None, digest) else ""
        raise ChecksumError(f"{path} is corrupt or truncated: its SHA-256 is {actual}, expected "
                            f"{digest}{also}. Delete it (or put the original file there) and "
                            "run again.")
    return path


def _unpacked_sha256(path: Path, limit: int = 1 << 27) -> str | None:
    """The SHA-256 of ``path``'s content, gunzipped when it is gzip (at most ``limit`` bytes: the
    largest MNIST file unpacks to 47 MB); None when it cannot be read so."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gz else open(path, "rb")) as f:
            done = 0
            while block := f.read(1 << 20):
                done += len(block)
                if done > limit:
                    return None
                h.update(block)
    except (OSError, EOFError, zlib.error):
        return None
    return h.hexdigest()


def present(folder: Path, key: str) -> Path | None:
    """The file of ``key`` in ``folder``: ``name.gz``, or ``name`` gunzipped; None if neither."""
    name = FILES[key][0]
    for candidate in (folder / name, folder / name.removesuffix(".gz")):
        if candidate.is_file():
            return candidate
    return None


def download(name: str, digest: str, target_dir: Path, mirrors: tuple[str, ...] = MIRRORS,
             progress: Progress | None = None, timeout: float = 30.0,
             explicit: bool = False) -> Path:
    """Fetch ``name`` from the first mirror that serves the right bytes into ``target_dir``.

    The download goes to a temporary file beside the target and is renamed into place only after
    its SHA-256 matched; a failed or wrong download leaves nothing behind. ``explicit``: the
    folder was asked for (a root, ``--data-dir``), so the error does not suggest the
    environment variable it would win over."""
    errors = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name

        def fetch(out: Any, url: str = url) -> None:
            h = hashlib.sha256()
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                total = int(resp.headers.get("Content-Length") or 0)
                done = 0
                while block := resp.read(1 << 16):
                    out.write(block)
                    h.update(block)
                    done += len(block)
                    if progress:
                        progress(name, done, total)
            if h.hexdigest() != digest:
                raise ChecksumError(f"wrong bytes (SHA-256 {h.hexdigest()}, expected {digest})")

        try:  # the file appears under its name only once complete and verified
            return atomic_write(target_dir / name, fetch)
        except (OSError, urllib.error.URLError, ChecksumError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
    raise DownloadError(f"could not download {name}; tried:\n  " + "\n  ".join(errors) +
                       f"\nPut the file into {target_dir}" + (
                           "." if explicit else
                           " (or set TINYGRAD_CNN_DATA to a folder that has it)."))


def locate(key: str, root: str | os.PathLike[str] | None = None, download_missing: bool = True,
           mirrors: tuple[str, ...] | None = None, progress: Progress | None = None) -> Path:
    """The verified path of one of the four files (``"train-images"``, ...): in ``root`` when it is
    given (downloaded into it when missing), else the first found on :func:`search_path`
    (downloaded into the cache when missing)."""
    name, digest = FILES[key]
    if root is not None and Path(root).exists() and not Path(root).is_dir():
        raise NotADirectoryError(f"MNIST root {root} is a file, not a folder")
    folders = search_path(root)
    for folder in folders:
        candidate = folder / name
        if candidate.is_file():
            return _verified(candidate, digest, RAW_SHA256[key])
        unpacked = folder / name.removesuffix(".gz")
        if not candidate.exists() and unpacked.is_file():  # (gunzipped there: read as it is)
            return _verified(unpacked, RAW_SHA256[key], RAW_SHA256[key])
        if root is not None and candidate.exists():  # (not a download failure: a bad folder)
            raise IsADirectoryError(f"{candidate} is not a file; the MNIST file {name} must be a "
                                    "regular file there")
    if not download_missing:
        raise FileNotFoundError(f"{name} is not in any of: " + ", ".join(map(str, folders)))
    env_mirrors = os.environ.get("TINYGRAD_CNN_MNIST_MIRRORS", "").strip()
    if mirrors is None:
        mirrors = tuple(m.strip() for m in env_mirrors.split(",") if m.strip()) or MIRRORS
    return download(name, digest, Path(root) if root is not None else cache_dir(), mirrors,
                    progress, explicit=root is not None)


class MNIST(Dataset[tuple[np.ndarray, Any]]):
    """The MNIST digits: ``images`` ``(N, 28, 28)`` uint8 and ``labels`` ``(N,)`` int64 (also as
    torchvision's ``data`` and ``targets``, tensors sharing that memory).

    Items are ``(image, label)`` with the image as float32 ``(1, 28, 28)``, scaled to [0, 1] and
    normalised with the training set's mean and standard deviation (``normalize=False`` keeps
    [0, 1]). ``transform`` / ``target_transform`` (torchvision's names, as arguments or set as
    attributes later) are applied to each item's image and label after that -- one image at a
    time, also when the ``DataLoader`` reads a whole batch (without them a batch is converted at
    once).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, train: bool = True,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None,
                 download: bool = True, normalize: bool = True,
                 mirrors: tuple[str, ...] | None = None, progress: Progress | None = None) -> None:
        # (torchvision's positional order: root, train, transform, target_transform, download;
        # download is True here -- the files are fetched when missing)
        split = "train" if train else "test"
        if root is not None:  # (torchvision's: `~/data` is the home folder's)
            root = os.path.expanduser(os.fspath(root))
        paths = {kind: locate(f"{split}-{kind}", root, download, mirrors, progress)
                 for kind in ("images", "labels")}
        self.images = read_idx(paths["images"])
        self.labels = read_idx(paths["labels"]).astype(np.int64)
        if self.images.ndim != 3 or self.labels.shape != self.images.shape[:1]:
            raise ValueError(f"MNIST {split}: {paths['images']} has shape {self.images.shape} and "
                             f"{paths['labels']} {self.labels.shape}; expected (N, 28, 28) and (N,)")
        self.train, self.normalize, self.paths = train, normalize, paths
        # (a subclass's own transform method stays, unless one is given here)
        if transform is not None or not callable(getattr(type(self), "transform", None)):
            self.transform = transform
        if target_transform is not None or not callable(
                getattr(type(self), "target_transform", None)):
            self.target_transform = target_transform

    #: torchvision's class names, and their indices
    classes: ClassVar[list[str]] = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
        "7 - seven", "8 - eight", "9 - nine"]

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    @property
    def data(self) -> Any:
        """torchvision's name: the uint8 images ``(N, 28, 28)`` as a tensor (sharing memory)."""
        from tinygrad_cnn.tensor import Tensor

        return Tensor._make(self.images)

    @property
    def targets(self) -> Any:
        """torchvision's name: the int64 labels ``(N,)`` as a tensor (sharing memory)."""
        from tinygrad_cnn.tensor import Tensor

        return Tensor._make(self.labels)

    def __len__(self) -> int:
        return len(self.labels)

    def to_float(self, images: np.ndarray) -> np.ndarray:
        """uint8 ``(..., 28, 28)`` -> float32 ``(..., 1, 28, 28)``, scaled (and normalised)."""
        x = images.astype(np.float32)[..., None, :, :] / np.float32(255)
        if self.normalize:
            x = (x - np.float32(MEAN)) / np.float32(STD)
        return x

    def __getitem__(self, i: Any) -> tuple[Any, Any]:
        image, label = self.to_float(self.images[i]), self.labels[i]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def arrays(self, index: Any = slice(None)) -> tuple[np.ndarray, np.ndarray] | None:
        """A whole batch at once: ``(images float32 (B, 1, 28, 28), labels (B,))`` -- None with
        a ``transform`` or ``target_transform``, which take one item each: the ``DataLoader``
        then collates the items, as ``default_collate`` does (a transform may give lists,
        strings, ...)."""
        if self.transform is not None or self.target_transform is not None:
            return None
        return self.to_float(self.images[index]), self.labels[index]

    def __repr__(self) -> str:
        return f"MNIST({'train' if self.train else 'test'}, {len(self)} images)"
