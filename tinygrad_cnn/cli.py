"""The command line: ``python -m tinygrad_cnn train | evaluate | draw | demo``.

All output of the package goes through this module (the library itself never prints): results
on stdout through :func:`_say`, progress and problems on stderr.

Exit status: 0 done; 2 an invocation that cannot work -- a bad argument, an output path that
cannot be written, a checkpoint that does not fit -- reported as one ``error:`` line (argparse's
convention) before any data is loaded and before any file is written; 1 a failure while working
(a download, a full disk); 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 129 hung up
(SIGHUP: the terminal closed; ignored under ``nohup``).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import functools
import math
import os
import re
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from tinygrad_cnn._files import held_signals, sidecar, stop_signals
from tinygrad_cnn._words import a_type

PROG = "python -m tinygrad_cnn"
DEFAULT_MODEL = "lenet5"
DEFAULT_CHECKPOINT = f"checkpoints/{DEFAULT_MODEL}.npz"
TRAIN_DEFAULTS: dict[str, Any] = {"model": DEFAULT_MODEL, "epochs": 3, "batch_size": 64,
                                  "optimizer": "sgd", "lr": None, "seed": 0, "limit": None}
DEFAULT_LR = {"sgd": 0.02, "adam": 1e-3}
OPTIMIZERS = ("sgd", "adam")
DRAW_SUFFIXES = (".svg", ".png", ".pdf", ".jpg", ".jpeg", ".dot", ".gv", ".txt")
MAX_DRAW_BATCH = 1024


def _say(*lines: str, stream: TextIO | None = None) -> None:
    """The one place the command line writes its messages (stdout unless told otherwise)."""
    stream = stream or sys.stdout
    if stream is None:  # (started with the stream closed: python ... >&-; standard output's
        if lines and sys.stderr is not None and sys.stdout is None:  # loss said at the end)
            _LOST_OUTPUT.append("it is closed")
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        for line in lines:
            # a path in a message may not fit the stream's encoding (PYTHONIOENCODING=ascii)
            stream.write((line + "\n").encode(encoding, "backslashreplace").decode(encoding))
        stream.flush()
    except (OSError, ValueError) as exc:  # the work goes on: a closed pipe (`| head`) is the
        # reader's choice; standard output lost otherwise (a full disk: `evaluate > acc.txt`)
        # is said at the end, and the status is 1 (main)
        if stream is sys.stdout and isinstance(exc, OSError) and exc.errno != errno.EPIPE:
            _LOST_OUTPUT.append(exc.strerror or str(exc))


_LOST_OUTPUT: list[str] = []  # why writes to standard output failed in this command


class ProgressBar:
    """One line per epoch, redrawn in place on a terminal; a line every 10% otherwise."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 28) -> None:
        self.label, self.width = label, width
        self.stream: TextIO | None = stream or sys.stderr
        try:
            self.tty = self.stream is not None and self.stream.isatty()
        except (OSError, ValueError):
            self.tty = False
        self.last_tenth = -1
        # a stream that cannot encode the block characters (PYTHONIOENCODING=ascii, a latin-1
        # terminal) gets ASCII ones, not "\u2588" escapes
        encoding = getattr(self.stream, "encoding", None) or "ascii"
        try:
            "█·".encode(encoding)
            self.marks = "█·"
        except (UnicodeEncodeError, LookupError):
            self.marks = "#."

    def update(self, step: int, steps: int, loss: float, rate: float) -> None:
        """Draw the bar; a stream that cannot be written (closed, full) is given up, and the
        training goes on: the bar is not the work."""
        if self.stream is None:
            return
        try:
            self._draw(step, steps, loss, rate)
        except (OSError, ValueError):
            self.stream = None

    def _draw(self, step: int, steps: int, loss: float, rate: float) -> None:
        assert self.stream is not None
        frac = step / max(steps, 1)
        done, todo = self.marks
        rest = f" {step}/{steps} loss {loss:.4f} {rate:,.0f} img/s"
        width = self.width
        if self.tty:  # one terminal row: a line that wraps is redrawn below itself, row on row
            cols = shutil.get_terminal_size().columns - 1
            width = min(width, cols - len(self.label) - len(rest) - 3)
        filled = int(frac * max(width, 0))
        # (a bar shrunk below 5 cells says nothing: then only the numbers)
        bar = f" |{done * filled}{todo * (width - filled)}|" if width >= min(5, self.width) else ""
        line = f"{self.label}{bar}{rest}"
        if self.tty:
            line = line[:max(cols, 1)]
            self.stream.write("\r" + line)
            if step == steps:
                self.stream.write("\n")
            self.stream.flush()
        elif int(frac * 10) != self.last_tenth or step == steps:
            self.last_tenth = int(frac * 10)
            self.stream.write(line + "\n")
            self.stream.flush()


class WorkError(Exception):
    """A failure while working (not the invocation's fault): ``error:`` and exit status 1."""


# ------------------------------------------------------------------------- argument types
# Python's int() and float() also take "1_000" and non-ASCII digits; a number on a command line
# is written in ASCII digits (a typo such as "1_0" for "10" is refused, not read as 10)
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _int_range(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    accepts = (f"an integer >= {minimum}" if maximum is None
               else f"an integer from {minimum} to {maximum}")

    def parse(text: str) -> int:
        if not _INT.fullmatch(text.strip()):  # ASCII digits only: no "1_0", no full-width digits
            raise argparse.ArgumentTypeError(f"expected {accepts}, got {text!r}")
        value = int(text)
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"expected {accepts}, got {text!r}")
        return value

    parse.accepts = accepts  # type: ignore[attr-defined]
    return parse


def _positive_float(text: str) -> float:
    value = float(text) if _FLOAT.fullmatch(text.strip()) else math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


_positive_float.accepts = "a finite number > 0"  # type: ignore[attr-defined]


def _device(text: str) -> str:
    from tinygrad_cnn.backend import DEVICES, normalize_device

    try:
        return normalize_device(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(DEVICES)} (or cuda:N; gpu "
                                         f"is cuda), got {text!r}") from None


def _path_max() -> int:
    try:
        return int(os.pathconf("/", "PC_PATH_MAX"))
    except (AttributeError, OSError, ValueError):
        return 4096  # (Linux's)


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got {text!r}")
    if text.startswith("~"):  # (`--out=~/ck.npz`: the shell expands ~ only after a space; a
        # folder named ~ made here was never what was meant)
        home = os.path.expanduser(text)
        if home.startswith("~"):
            raise argparse.ArgumentTypeError(f"{text!r} starts with ~, which names no home "
                                             "folder here; write the path in full")
        text = home
    size = len(os.fsencode(text))
    if size >= _path_max():  # (the system's ENAMETOOLONG named no argument, exit status 1)
        raise argparse.ArgumentTypeError(f"the path is {size:,} bytes long, more than the "
                                         f"{_path_max() - 1:,} the system allows; expected a "
                                         "shorter path")
    longest = max(text.replace(os.sep, "/").split("/"), key=lambda part: len(os.fsencode(part)))
    if len(os.fsencode(longest)) > _NAME_MAX:
        raise argparse.ArgumentTypeError(f"the name {longest[:40]}... is "
                                         f"{len(os.fsencode(longest))} bytes long, more than the "
                                         f"{_NAME_MAX} a file system allows in one name")
    return text


def _file_path(text: str) -> str:
    """An output or checkpoint file: a trailing slash names a folder (``open`` refuses it too),
    so do a last ``.`` or ``..``; a ``..`` after a folder that does not exist names nothing (the
    system refuses it; pathlib would drop ``ck.npz/.`` to ``ck.npz`` and write there)."""
    text = _path(text)
    parts = text.replace(os.sep, "/").split("/")
    if text.endswith(("/", os.sep)) or parts[-1] in (".", ".."):
        raise argparse.ArgumentTypeError(f"expected a file path, got {text!r}, which names a "
                                         "folder (it ends in a slash, '.' or '..')")
    for k, part in enumerate(parts):
        prefix = "/".join(parts[:k])
        if part == ".." and prefix and not os.path.isdir(prefix):
            raise argparse.ArgumentTypeError(f"expected a file path, got {text!r}: {prefix} is "
                                             "not a folder, so its '..' names nothing")
    return text


_positive = _int_range(1)
MAX_EPOCHS = 100_000  # (more is a typo, not a plan: `--epochs 99999999999999999999999` trained)
_epochs = _int_range(1, MAX_EPOCHS)
_non_negative = _int_range(0)
_seed = _int_range(0, 2**64 - 1)  # (manual_seed's range, as PyTorch's)


# ------------------------------------------------------------------- checks before work
def _usage(args: argparse.Namespace, message: str) -> NoReturn:
    """One ``error:`` line under the subcommand's usage, exit status 2 (argparse's way)."""
    args.parser.error(message)
    raise AssertionError("unreachable")  # parser.error exits


def _check_device(args: argparse.Namespace, lead: str = "argument --device: ") -> None:
    from tinygrad_cnn.backend import DeviceUnavailableError, get_module

    try:
        get_module(args.device)
    except DeviceUnavailableError as exc:
        _usage(args, f"{lead}{exc}")


def _check_data_dir(args: argparse.Namespace,
                    keys: tuple[str, ...] = ("train-images", "train-labels", "test-images",
                                             "test-labels")) -> None:
    """An explicit ``--data-dir`` (or ``TINYGRAD_CNN_DATA``) is used or refused, never replaced
    by other folders; one that lacks some of the files ``keys`` and cannot be written to (no
    download could land there) is refused too."""
    what = "argument --data-dir:"
    if args.data_dir is None:
        env = os.environ.get("TINYGRAD_CNN_DATA")
        if not env:
            return
        # the environment's folder is as explicit as --data-dir: used (files missing there are
        # downloaded into it) or refused, never passed over for another folder's files
        args.data_dir, what = env, "TINYGRAD_CNN_DATA:"
    path = Path(args.data_dir)
    _refuse_relative_in_gone_folder(args, what, path)
    if not path.exists():
        _usage(args, f"{what} {path} does not exist; expected a folder with the MNIST .gz files "
               "(or an empty one to download them into), or leave it out to use the default "
               "places")
    if not path.is_dir():
        _usage(args, f"{what} {path} is not a folder; expected a folder with the MNIST .gz files")
    if not os.access(path, os.R_OK | os.X_OK):
        _usage(args, f"{what} {path} cannot be read (permissions); expected a readable folder "
               "with the MNIST .gz files")
    from tinygrad_cnn.data.mnist import FILES, present, search_path

    for name, _ in FILES.values():  # (a folder there was reported as a failed download)
        if (path / name).exists() and not (path / name).is_file():
            _usage(args, f"{what} {path / name} is not a file; expected the MNIST file {name} "
                   "there (or nothing, to download it)")
    missing = [FILES[k][0] for k in keys if not any(present(f, k) for f in search_path(path))]
    if missing and not _writable(path):  # (was: three download attempts, each failing to
        # write, then exit 1 -- t177)
        _usage(args, f"{what} {path} lacks {', '.join(missing)} and cannot be written to, so "
               "they cannot be downloaded there; put the files into it, make it writable, or "
               "give another folder")


def _writable(folder: Path) -> bool:
    """Whether a file can be made in ``folder``: tried (and removed at once), since permissions
    do not tell -- root passes every ``os.access`` check, and /proc or a read-only mount refuse
    all the same."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _cwd_exists() -> bool:
    try:
        os.getcwd()
    except OSError:
        return False
    return True


def _refuse_relative_in_gone_folder(args: argparse.Namespace, what: str, path: Path) -> None:
    if not path.is_absolute() and not _cwd_exists():
        _usage(args, f"{what} {path} is relative, but the current folder no longer exists "
               "(deleted since this shell entered it); cd to an existing folder, or give an "
               "absolute path")


def _nearest_existing(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists() or parent.is_symlink():
            return parent
    return Path(".")


_NAME_MAX = 255  # bytes in one file name: ext4, xfs, btrfs, tmpfs, APFS, NTFS (in UTF-16 units)


def _check_output(args: argparse.Namespace, flag: str, path: Path,
                  overwrite: Callable[[Path], str | None] | None = None,
                  example: str = "out.npz", replaced: bool = True, implied: str = "") -> None:
    """Refuse an output path that cannot be written, before any work: a directory, a path under
    a regular file, a name too long for the file system, an unwritable folder. ``overwrite(path)``
    says why an existing file must not be replaced (``None``: it may be). Missing folders are fine
    (the first write creates them); ``example``: a file name to suggest inside a directory;
    ``replaced=False``: an existing file there is renamed away first, not written over (a
    read-only one is fine then); ``implied``: where the path came from when the user did not
    name it (a default, the resumed file), said after every refusal."""
    def refuse(message: str) -> NoReturn:
        _usage(args, message + implied)

    for part in path.parts:  # (before any stat: a name too long makes it raise)
        if len(os.fsencode(part)) > _NAME_MAX:
            refuse(f"argument {flag}: the name {part[:24]}... is {len(os.fsencode(part))} "
                   f"bytes long, more than the {_NAME_MAX} a file system allows in one name")
    try:
        path.resolve()
    except (RuntimeError, OSError) as exc:  # (a symlink loop: RuntimeError before Python 3.13)
        _refuse_relative_in_gone_folder(args, f"argument {flag}:", path)
        refuse(f"argument {flag}: {path} cannot be resolved ({exc}); expected a path that "
               "is not a loop of symbolic links")
    if path.is_dir():
        refuse(f"argument {flag}: {path} is a directory; expected a file path such as "
               f"{path / example}")
    if path.exists() and not path.is_file():
        refuse(f"argument {flag}: {path} exists and is not a regular file; expected a file "
               "path")
    if path.is_symlink() and not path.exists():  # a link to a file to be made: written
        target = Path(os.path.realpath(path))    # through, into the folder the link names
        if not target.parent.is_dir():
            refuse(f"argument {flag}: {path} is a symbolic link to {os.readlink(path)}, whose "
                   f"folder {target.parent} does not exist; create that folder, or remove the "
                   "link")
        path = target
    folder = _nearest_existing(path)
    if folder.is_symlink() and not folder.exists():
        refuse(f"argument {flag}: {folder} is a symbolic link to {os.readlink(folder)}, "
               f"which does not exist, so {path} cannot be created under it; expected a path in "
               "a folder")
    if not folder.is_dir():
        refuse(f"argument {flag}: {folder} is a file, so {path} cannot be created under it; "
               "expected a path in a folder")
    try:  # the truth about writability (permissions, read-only mounts, /proc) is to try
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".tinygrad_cnn-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        refuse(f"argument {flag}: cannot create a file in folder {folder} (the system "
               f"says: {exc.strerror or exc}); expected a path in a writable folder")
    if path.is_file() and replaced:
        if not path.stat().st_mode & 0o222:
            refuse(f"argument {flag}: {path} is read-only (mode "
                   f"{path.stat().st_mode & 0o777:o}); make it writable to replace it, or "
                   "choose another path")
        try:  # (an immutable file -- chattr +i -- has writable mode bits; root included)
            os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
        except OSError as exc:
            refuse(f"argument {flag}: {path} cannot be replaced (the system says: "
                   f"{exc.strerror or exc}); choose another path")
        reason = overwrite(path) if overwrite is not None else None
        if reason:
            refuse(f"argument {flag}: {reason}")


#: what a checkpoint of `train` holds (``_train`` writes these keys and no others)
TRAIN_KEYS = frozenset(("model", "optimizer", "scheduler", "epoch", "test_accuracy", "config"))


def _saved_by_us(path: Path) -> bool:
    """Whether ``path`` is a file ``tinygrad_cnn.save`` wrote (an .npz holding its schema)."""
    import zipfile

    from tinygrad_cnn.serialization import _SCHEMA_KEY

    try:
        with zipfile.ZipFile(path) as zf:
            return f"{_SCHEMA_KEY}.npy" in zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _not_a_checkpoint(path: Path) -> str | None:
    """Why an existing file at ``--out`` must not be overwritten: it is not a tinygrad_cnn
    checkpoint (a user's own file would be lost)."""
    if not _saved_by_us(path):
        return (f"{path} exists and is not a tinygrad_cnn checkpoint; refusing to overwrite it. "
                "Expected a new path or an existing checkpoint")
    # a file of tg.save's is replaced only where it is a run of `train`'s: results or bare
    # weights saved by hand there were replaced without a word
    import tinygrad_cnn as tg

    try:
        state = tg.load(path)
    except tg.CheckpointError as exc:
        return (f"{path} cannot be read as a checkpoint ({exc}); refusing to overwrite it. "
                "Expected a new path, or remove the file")
    from tinygrad_cnn.models import MODELS

    config = state.get("config") if isinstance(state, dict) else None
    if isinstance(state, dict) and set(map(str, state)) == TRAIN_KEYS and \
            isinstance(state["model"], dict) and isinstance(config, dict) and \
            config.get("model") in MODELS:
        return None
    # (a hand-written {"model": ..., "config": ...}, or a run of train's with a key of the
    # user's added, holds work that is not all train's: kept)
    if not isinstance(state, dict):
        found = f"it holds {a_type(state)}"
    else:
        keys = set(map(str, state))
        parts = [f"{what} {sorted(diff)}" for what, diff in (
            ("it lacks", TRAIN_KEYS - keys), ("it has besides", keys - TRAIN_KEYS)) if diff]
        if "config" in keys and not (isinstance(config, dict) and config.get("model") in MODELS):
            parts.append("its config names no model of train's" if isinstance(config, dict) else
                         f"its config is {a_type(config)}")
        found = "; ".join(parts)
    return (f"{path} is a tinygrad_cnn file but not a checkpoint written by `train` ({found}); "
            "refusing to overwrite it. Expected a new path or a checkpoint written by `train`")


# what `draw` writes: an existing -o file is replaced only when its first bytes are one of these
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"%PDF-", b"\xff\xd8\xff")  # PNG, PDF, JPEG
_TEXT_FORM_START = ("# forward graph of ", "# backward graph of ")  # viz.text
_DOT_START = re.compile(r"(strict\s+)?(di)?graph(\s+(\w+|\"[^\"\n]*\"))?\s*\{")
_SVG_START = ("<?xml", "<svg", "<!DOCTYPE svg", "<!--")


def _is_drawing(head: bytes) -> bool:
    """Whether ``head`` (a file's first bytes) starts a drawing of the kinds ``draw`` writes:
    a PNG, PDF or JPEG image, an SVG, DOT source, the text form, or an ``--animate`` page."""
    if head.startswith(_IMAGE_MAGIC):
        return True
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith(_TEXT_FORM_START) or _DOT_START.match(text):
        return True
    if text.startswith(_SVG_START) and "<svg" in text:
        return True
    from tinygrad_cnn.viz.animate import GENERATOR

    return text.lower().startswith("<!doctype html") and GENERATOR in text


def _not_a_drawing(path: Path) -> str | None:
    """Why an existing file at ``draw -o`` must not be overwritten: it is not a drawing (a
    checkpoint, a user's notes would be lost)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror or exc}); refusing to overwrite it"
    if _is_drawing(head):
        return None
    what = "a tinygrad_cnn checkpoint" if _saved_by_us(path) else "not a drawing"
    return (f"{path} exists and is {what}; refusing to overwrite it (draw replaces only an "
            "earlier drawing: SVG, PNG, PDF, JPEG, DOT, the text form or an --animate page). "
            "Expected a new path")


def _load_checkpoint(args: argparse.Namespace, flag: str, path: str,
                     model: str | None = None) -> dict[str, Any]:
    """A checkpoint written by ``train``: a dict with ``model`` weights and a ``config`` that
    names a known model (or ``model``, where the file names none: weights a user saved as
    ``{"model": model.state_dict()}``). Anything else is a usage error naming what was found."""
    import tinygrad_cnn as tg
    from tinygrad_cnn.models import MODELS

    try:
        state = tg.load(path)
    except FileNotFoundError:
        default = (f" ({path} is the default; pass --checkpoint PATH)" if flag == "--checkpoint"
                   and args.checkpoint is None else "")
        _usage(args, f"argument {flag}: checkpoint not found: {path}; expected a checkpoint "
               f"written by `train`{default}")
    except tg.CheckpointError as exc:
        _usage(args, f"argument {flag}: {exc}")
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        found = sorted(map(str, state)) if isinstance(state, dict) else type(state).__name__
        _usage(args, f"argument {flag}: {path} is a tinygrad_cnn file but not a training "
               f"checkpoint (expected a dict with 'model' weights and a 'config'; found {found})")
    config = state.get("config")
    if model is not None and (config is None or (isinstance(config, dict) and "model" not in config)):
        state = {**state, "config": {**(config or {}), "model": model}}
        config = state["config"]
    if not isinstance(config, dict) or "model" not in config:
        what = ("it has no config" if config is None else
                f"its config has no 'model' entry; found {sorted(map(str, config))}"
                if isinstance(config, dict) else f"its config is {a_type(config)}")
        _usage(args, f"argument {flag}: {path} does not say which model it holds ({what}). "
               "Expected a checkpoint written by `train` of "
               "this version" + (", or --model naming its model" if flag == "--checkpoint"
                                 else ""))
    name = config["model"]
    if not isinstance(name, str) or name not in MODELS:
        _usage(args, f"argument {flag}: {path} holds a model {name!r} that this version does not "
               f"know (known: {', '.join(sorted(MODELS))})")
    return state


def _load_weights(args: argparse.Namespace, flag: str, path: str, model: Any,
                  state: dict[str, Any]) -> None:
    weights = state["model"]
    if isinstance(weights, dict):  # (load_state_dict below judges anything else)
        own = model.state_dict()
        for key, value in weights.items():
            dtype = getattr(value, "dtype", None)
            if key in own and own[key].dtype.kind == "f" and dtype is not None and \
                    getattr(dtype, "kind", "f") != "f":
                # (load_state_dict casts, as PyTorch's: a bool weight evaluated to 0.10 without a
                # word; train saves only floating weights)
                _usage(args, f"argument {flag}: {path} holds weight {key} as {dtype}, not a "
                       "floating dtype (train saves float32); use another checkpoint, or train "
                       "anew")
    try:
        model.load_state_dict(state["model"])
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RuntimeError) as exc:
        _usage(args, f"argument {flag}: the weights in {path} do not fit a "
               f"{state['config']['model']} model: {exc}")
    bad = _not_finite(state["model"])
    if bad is not None:  # (was: evaluate printed an accuracy of 0.098, a resume trained an
        # epoch to report 'diverged ... try a smaller --lr'; train never saves such weights)
        _usage(args, f"argument {flag}: {path} is broken: its weight {bad} holds NaN or inf "
               "values (train never saves such weights); use another checkpoint, or train anew")


def _not_finite(tree: Any, prefix: str = "") -> str | None:
    """The name of the first floating tensor in ``tree`` (nested dicts and lists) with a NaN or
    an inf, or None."""
    import numpy as np

    from tinygrad_cnn.backend import to_numpy
    from tinygrad_cnn.tensor import Tensor

    if isinstance(tree, Tensor):
        data = to_numpy(tree._data)
        return prefix or "tensor" if data.dtype.kind == "f" and not np.isfinite(data).all() \
            else None
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) \
        if isinstance(tree, (list, tuple)) else ()
    for k, v in items:
        found = _not_finite(v, f"{prefix}.{k}" if prefix else str(k))
        if found is not None:
            return found
    return None


# ------------------------------------------------------------------------------ train
_MISSING = object()


def _check_schedule(args: argparse.Namespace, sched: dict[str, Any], epoch: int,
                    saved: dict[str, Any]) -> None:
    """A resumed run rebuilds its cosine schedule from the config and the epoch (so a new
    ``--epochs`` or ``--lr`` can reshape it): the checkpoint's scheduler state must be the one
    ``train`` saved with them -- else the file is not what it says (an outside tester's crafted
    ``last_epoch=0`` or ``base_lrs=[5.0]`` resumed without a word)."""
    expected = {"T_max": saved["epochs"], "last_epoch": epoch, "base_lrs": [saved["lr"]]}
    for key, want in expected.items():
        have = sched.get(key, _MISSING)
        if key == "base_lrs":
            ok = isinstance(have, list) and len(have) == 1 and isinstance(have[0], (int, float)) \
                and not isinstance(have[0], bool) and math.isclose(have[0], want[0], rel_tol=1e-9)
        else:
            ok = type(have) is int and have == want
        if not ok:
            found = "has none" if have is _MISSING else f"is {have!r}"
            _usage(args, f"argument --resume: {args.resume} has a scheduler state that does not "
                   f"match its config and epoch ({key} {found}, expected {want!r} for epoch "
                   f"{epoch} of a {saved['epochs']}-epoch run at lr {saved['lr']:g}); expected a "
                   "checkpoint written by `train`")


def _resolve_training(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any] | None,
                                                         dict[str, Any], list[str]]:
    """The settings of this run, the resumed checkpoint, its settings, and what changed on resume.

    Not resuming: the arguments, with their defaults. Resuming: every setting left out comes
    from the checkpoint's config; ``--model`` and ``--optimizer`` must agree with it (their
    weights and state cannot change kind); a new ``--lr`` is honoured as the schedule's new base
    rate, a new ``--epochs`` stretches or shrinks the cosine schedule to end there, and a new
    ``--batch-size``, ``--seed`` or ``--limit`` applies from the next epoch."""
    given = {k: getattr(args, k) for k in TRAIN_DEFAULTS if getattr(args, k) is not None}
    if not args.resume:
        settings = {**TRAIN_DEFAULTS, **given}
        if settings["lr"] is None:
            settings["lr"] = DEFAULT_LR[settings["optimizer"]]
        args.device = args.device or "cpu"
        return settings, None, {}, []
    state = _load_checkpoint(args, "--resume", args.resume)
    config = state["config"]
    for key in ("optimizer", "scheduler"):
        if key not in state:
            _usage(args, f"argument --resume: {args.resume} has no {key} state (found "
                   f"{sorted(map(str, state))}), so training cannot continue from it; expected a "
                   "checkpoint written by `train`")
        if not isinstance(state[key], dict):  # (was: 'no scheduler state (found [..., 'scheduler'])')
            _usage(args, f"argument --resume: {args.resume} has a {key} entry that is "
                   f"{a_type(state[key])}, not a {key}'s state dict, so training cannot continue "
                   "from it; expected a checkpoint written by `train`")
    epoch, ok = _epoch_of(state)
    if not ok:
        _usage(args, f"argument --resume: {args.resume} has epoch {epoch!r}; expected an integer "
               ">= 0")
    saved: dict[str, Any] = {}
    checks: dict[str, Callable[[str], Any]] = {"epochs": _epochs, "batch_size": _positive,
                                               "lr": _positive_float, "seed": _seed,
                                               "limit": _positive}
    for key, default in TRAIN_DEFAULTS.items():
        value = config.get(key, default)
        ok = True
        if key == "model":
            ok = isinstance(value, str)
        elif key == "optimizer":
            ok = value in OPTIMIZERS
        elif value is None:
            ok = key in ("limit", "lr")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            ok = False
        else:
            try:
                checks[key](repr(value))
            except argparse.ArgumentTypeError:
                ok = False
        if not ok:
            _usage(args, f"argument --resume: {args.resume} has {key}={value!r} in its config, "
                   "which is not a valid setting; expected a checkpoint written by `train`")
        saved[key] = value
    if saved["lr"] is None:
        saved["lr"] = DEFAULT_LR[saved["optimizer"]]
    if epoch > saved["epochs"]:  # (a crafted epoch of 10**30 would replay the schedule forever)
        _usage(args, f"argument --resume: {args.resume} says it finished epoch {epoch} of a "
               f"{saved['epochs']}-epoch run, which cannot be; expected a checkpoint written by "
               "`train`")
    _check_schedule(args, state["scheduler"], epoch, saved)
    if "epochs" in given and given["epochs"] < epoch:
        _usage(args, f"argument --epochs: {args.resume} already has {epoch} epochs, more than "
               f"--epochs {given['epochs']}; give --epochs above {epoch} to train further")
    for key in ("model", "optimizer"):
        if key in given and given[key] != saved[key]:
            what = ("its weights cannot become another model's" if key == "model" else
                    "its optimizer state cannot continue as another optimizer's")
            _usage(args, f"argument --{key}: {args.resume} was trained with --{key} {saved[key]}; "
                   f"{what}. Leave --{key} out (or pass --{key} {saved[key]}) to resume it, or "
                   "train anew without --resume")
    settings = {**saved, **given}
    changes = []
    # the MNIST folder it was trained on is used again (an explicit --data-dir or
    # TINYGRAD_CNN_DATA wins, and shows as a change); gone now: refused, not replaced
    saved_dir = config.get("data_dir")
    if saved_dir is not None and not (isinstance(saved_dir, str) and saved_dir):
        # (was: a crafted number there ignored silently, the default places' files used)
        _usage(args, f"argument --resume: {args.resume} has data_dir={saved_dir!r} in its "
               "config, which is not a valid setting; expected a checkpoint written by `train`")
    if isinstance(saved_dir, str) and saved_dir:
        if args.data_dir is None and not os.environ.get("TINYGRAD_CNN_DATA"):
            if not Path(saved_dir).is_dir():
                _usage(args, f"argument --resume: {args.resume} was trained on the MNIST files in "
                       f"{saved_dir}, which is not a folder now; pass --data-dir with the folder "
                       "that holds them now")
            from tinygrad_cnn.data.mnist import FILES, present

            missing = [name for key, (name, _) in FILES.items()
                       if present(Path(saved_dir), key) is None]
            if missing:  # (a folder a checkpoint names is no place to download into: was /etc)
                _usage(args, f"argument --resume: {args.resume} was trained on the MNIST files in "
                       f"{saved_dir}, which does not hold them now ({missing[0]} is missing); "
                       "pass --data-dir with the folder that holds them (or an empty one to "
                       "download them into)")
            args.data_dir = saved_dir
        elif args.data_dir is not None and \
                Path(args.data_dir).resolve() != Path(saved_dir).resolve():
            changes.append(f"--data-dir {saved_dir} -> {args.data_dir}")
        elif args.data_dir is None:  # TINYGRAD_CNN_DATA
            env = os.environ["TINYGRAD_CNN_DATA"]
            if Path(env).resolve() != Path(saved_dir).resolve():
                changes.append(f"the data folder {saved_dir} -> {env} (TINYGRAD_CNN_DATA)")
    elif args.data_dir is not None:  # (trained on the default places' files)
        changes.append(f"--data-dir (the default places) -> {args.data_dir}")
    elif os.environ.get("TINYGRAD_CNN_DATA"):
        changes.append("the data folder (the default places) -> "
                       f"{os.environ['TINYGRAD_CNN_DATA']} (TINYGRAD_CNN_DATA)")
    # the device it was trained on, unless --device says otherwise (a change is shown)
    saved_device = config.get("device", "cpu")
    try:
        saved_device = _device(saved_device) if isinstance(saved_device, str) else None
    except argparse.ArgumentTypeError:
        saved_device = None
    if saved_device is None:
        _usage(args, f"argument --resume: {args.resume} has device={config.get('device')!r} in "
               "its config, which is not a valid setting; expected a checkpoint written by "
               "`train`")
    if args.device is None:
        args.device = saved_device
        _check_device(args, f"argument --resume: {args.resume} was trained on {saved_device}, "
                      "which is not available here; pass --device cpu to continue it on the CPU. ")
    elif args.device != saved_device:
        changes.append(f"--device {saved_device} -> {args.device}")
    for key in ("epochs", "lr", "batch_size", "seed", "limit"):
        if settings[key] != saved[key]:
            flag = "--" + key.replace("_", "-")
            old = saved[key] if saved[key] is not None else "all"
            note = {"epochs": f" (the cosine schedule now ends at epoch {settings[key]})",
                    "lr": " (the new base rate of the cosine schedule, at the same point in it)",
                    "limit": "", "batch_size": "", "seed": " (the shuffling from now on)"}[key]
            changes.append(f"{flag} {old} -> {settings[key]}{note}")
    return settings, state, saved, changes


def _train(args: argparse.Namespace) -> int:
    settings, state, saved, changes = _resolve_training(args)
    out = Path(args.out or args.resume or f"checkpoints/{settings['model']}.npz")
    # a new run to the default path keeps the earlier run there: at this run's first save it is
    # moved to NAME.previous.npz (so the main job can be run again, and nothing is lost)
    backup = None
    if args.out is None and args.resume is None and out.is_symlink() and not out.exists():
        _usage(args, f"{out}, the default output path, is a symbolic link to "
               f"{os.readlink(out)}, which does not exist; remove the link, or pass --out")
    if args.out is None and args.resume is None and out.is_file():
        backup = _free_backup(out)  # never an older previous run's file: nothing is deleted
        _check_output(args, "--out", backup, overwrite=_not_a_checkpoint)
    # (without --out the resumed file is the one replaced: an error about it names --resume)
    flag = "--resume" if args.out is None and args.resume is not None else "--out"
    implied = "" if args.out is not None else (
        f" (--resume writes the run back to {out}; pass --out to write it elsewhere)"
        if args.resume is not None else
        f" ({out} is the default output path; pass --out to choose another)")
    _check_output(args, flag, out, overwrite=_not_a_checkpoint, replaced=backup is None,
                  implied=implied)
    _check_device(args)
    _check_data_dir(args)

    import numpy as np

    import tinygrad_cnn as tg
    from tinygrad_cnn import optim
    from tinygrad_cnn.data import MNIST, DataLoader, Subset
    from tinygrad_cnn.models import MODELS
    from tinygrad_cnn.serialization import _save
    from tinygrad_cnn.training import evaluate, train_epoch

    name, epochs, lr = settings["model"], settings["epochs"], settings["lr"]
    tg.manual_seed(settings["seed"])
    model = MODELS[name]()
    if settings["optimizer"] == "sgd":
        opt: Any = optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    else:
        opt = optim.Adam(model.parameters(), lr=lr)
    start_epoch = 0
    if state is not None:
        _load_weights(args, "--resume", args.resume, model, state)
        saved_groups = state["optimizer"].get("param_groups")
        # the saved groups must be of this optimizer: no key it lacks, and its distinguishing
        # one (an older checkpoint may lack options added since, which keep their defaults)
        expected, marker = set(opt.defaults), {"sgd": "momentum", "adam": "betas"}[
            settings["optimizer"]]
        if not isinstance(saved_groups, list) or not all(
                isinstance(g, dict) and set(g) - {"params", "initial_lr"} <= expected
                and marker in g for g in saved_groups):
            _usage(args, f"argument --resume: the optimizer state in {args.resume} is not "
                   f"{settings['optimizer']}'s (expected param_groups with "
                   f"{', '.join(sorted(expected))})")
        for g in saved_groups:  # (was: "'>=' not supported between instances of 'str' and 'int'")
            for key, default in opt.defaults.items():
                wrong = _option_problem(default, g[key]) if key in g else None
                if wrong is not None:
                    _usage(args, f"argument --resume: the optimizer state in {args.resume} "
                           f"has {key} = {g[key]!r:.40}, {wrong}; expected a checkpoint "
                           "written by `train`")
        try:
            opt.load_state_dict(state["optimizer"])
        except (ValueError, KeyError, TypeError, AttributeError, IndexError, RuntimeError) as exc:
            _usage(args, f"argument --resume: the optimizer state in {args.resume} does not fit "
                   f"{name}'s parameters: {exc}")
        bad = _not_finite(state["optimizer"].get("state", {}))
        if bad is not None:
            _usage(args, f"argument --resume: {args.resume} is broken: its optimizer state "
                   f"{bad} holds NaN or inf values (train never saves such state); resume "
                   "another checkpoint, or train anew")
        start_epoch = int(state["epoch"])
    for group in opt.param_groups:  # the base rate of the schedule (a new --lr on resume too)
        group["initial_lr"] = group["lr"] = lr
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    with warnings.catch_warnings():  # (a replay before any optimizer step, on purpose)
        warnings.filterwarnings("ignore", ".*Detected call of `lr_scheduler.step", UserWarning)
        for _ in range(start_epoch):  # the schedule is chainable (each step scales the last
            sched.step()  # rate): replay it, so a resumed run has a straight one's rates
    if state is not None:
        _say(f"resumed from {args.resume} after epoch {start_epoch} of {saved['epochs']} ({name}, "
             f"{saved['optimizer']}, base lr {saved['lr']:g}, batch {saved['batch_size']})")
        if start_epoch >= epochs:
            _say(f"nothing to do: the checkpoint already has {start_epoch} epochs (of its run's "
                 f"{saved['epochs']}), and --epochs asks for {epochs} (raise --epochs to train "
                 "further" + ("; nothing else was changed)" if changes else ")"))
            return 0
        if changes:
            _say("changed on resume: " + "; ".join(changes))
    if args.device != "cpu":
        model.to(args.device)

    _lock_output(args, out)  # after every check: a refused invocation leaves nothing behind

    def report(file: str, done: int, total: int) -> None:
        sys.stderr.write(f"\rdownloading {file}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")

    train_set = MNIST(args.data_dir, train=True, progress=report)
    test_set = MNIST(args.data_dir, train=False, progress=report)
    over = ""
    if settings["limit"] is not None:
        if settings["limit"] > len(train_set):  # (was: all of them without a word)
            over = f" (all there are: --limit {settings['limit']:,} asks for more)"
        train_set = Subset(train_set, np.arange(min(settings["limit"], len(train_set))))
    train_loader = DataLoader(train_set, settings["batch_size"], shuffle=True,
                              seed=settings["seed"])
    train_loader.epoch = start_epoch  # the same shuffles as an uninterrupted run
    test_loader = DataLoader(test_set, 1000)
    _say(f"training {name} on {len(train_set):,} MNIST images{over}, epochs {start_epoch + 1} to "
         f"{epochs}, batch {settings['batch_size']}, {settings['optimizer']} lr {lr:g} "
         f"(cosine-annealed to 0 at epoch {epochs}; epoch {start_epoch + 1} at "
         f"{opt.param_groups[0]['lr']:.4g}), device {args.device}; checkpoints to {out}")
    if backup is not None and _not_a_checkpoint(out) is not None:
        _say(f"{out} is a file that is not a tinygrad_cnn checkpoint: it is kept as {backup} when "
             "this run saves its first epoch (nothing of it is read or changed)")
    elif backup is not None:
        _say(f"{out} holds an earlier run: it is kept as {backup} when this run saves its first "
             f"epoch (to continue it instead: {PROG} train --resume {out})")
    # (the data folder absolute: a resume from another folder finds the same files)
    data_dir = None if args.data_dir is None else str(Path(args.data_dir).resolve())
    config = {**settings, "device": args.device, "data_dir": data_dir, "out": str(out),
              "resume": args.resume}
    t_start = time.perf_counter()
    epoch, saved_epoch, acc = start_epoch, None, math.nan
    try:
        for epoch in range(start_epoch + 1, epochs + 1):
            t0 = time.perf_counter()
            bar = ProgressBar(f"epoch {epoch}/{epochs}")
            loss = train_epoch(model, train_loader, opt, args.device, on_step=bar.update)
            if not math.isfinite(loss) or not _weights_finite(model):
                # diverged: its weights are not worth a checkpoint (the mean loss is of the
                # losses before each step: the last step's blow-up shows in the weights only)
                raise WorkError(f"training diverged in epoch {epoch} (mean loss {loss}"
                                f"{', weights not finite' if math.isfinite(loss) else ''}); "
                                f"nothing of it was saved and {_what_is_kept(out, saved_epoch)}; "
                                f"try a smaller --lr (this run: {lr:g})")
            sched.step()
            acc = evaluate(model, test_loader, args.device)
            state = {"model": model.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "epoch": epoch, "test_accuracy": acc,
                     "config": config}
            try:
                with _interrupt_after() as interrupted:  # a finished epoch is saved whole
                    first_over_earlier = backup is not None and saved_epoch is None
                    if first_over_earlier:
                        backup = _keep_earlier_run(out)  # (a name free *now*)
                    # (always a rename: a hard-linked NAME.previous.npz keeps the earlier run)
                    save = functools.partial(_save, fresh_mode=first_over_earlier,
                                             keep_links=False)
                    save(state, out)
            except OSError as exc:
                kept = (f"the earlier run is in {backup}" if backup is not None and
                        saved_epoch is None and backup.exists() and not out.exists()
                        else _what_is_kept(out, saved_epoch))
                rescued = _rescue(state, out, epoch)
                if rescued is not None:  # (a full disk, say: the epoch's work is not lost)
                    raise WorkError(
                        f"could not save the checkpoint of epoch {epoch} to {out}: "
                        f"{exc.strerror or exc}; {kept}. The checkpoint of epoch {epoch} was "
                        f"saved to {rescued} instead; continue from it with {PROG} train "
                        f"--resume {shlex.quote(str(rescued))} (the run goes on saving there; "
                        f"move the file where you want it once {out} can be written)") from None
                tried = " or ".join(str(f) for f in _rescue_folders())
                raise WorkError(f"could not save the checkpoint of epoch {epoch} to {out}: "
                                f"{exc.strerror or exc}; {kept}. Saving it to {tried} instead "
                                f"failed too: epoch {epoch}'s training is lost (free some space "
                                "or give --out a writable place, and run again)") from None
            saved_epoch = epoch
            _say(f"epoch {epoch}: train loss {loss:.4f}, test accuracy {acc:.4f} "
                 f"({time.perf_counter() - t0:.1f} s); saved {out}")
            if interrupted and epoch < epochs:
                raise interrupted[0]  # the Ctrl-C (or SIGTERM) that came during the save
            if interrupted:  # during the last save: the run is done, and says so
                _say(f"({_signal_name(interrupted[0])} came while the last epoch was saved; "
                     "the run had finished, and its checkpoint is whole)", stream=sys.stderr)
    except KeyboardInterrupt as exc:
        what = _stopped_word(exc)
        if saved_epoch != epochs:
            when = f"after epoch {epoch}" if saved_epoch == epoch else f"during epoch {epoch}"
            _say("", f"{what} {when}; " + _interrupted_advice(args, out, saved_epoch,
                                                               start_epoch), stream=sys.stderr)
            return _stopped_status(exc)
        # after the last epoch was saved: the run is done (as one during that save)
        _say(f"({_signal_name(exc)} came after the last epoch was saved; the run had "
             "finished, and its checkpoint is whole)", stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):  # (the run is done: a late Ctrl-C changes nothing)
        _say(f"done in {time.perf_counter() - t_start:.1f} s; test accuracy: {acc:.4f}")
    return 0


def _option_problem(default: Any, value: Any) -> str | None:
    """What is wrong with a resumed optimizer option ``value`` whose default is ``default``, or
    None: a flag must be a bool (was: maximize="False" counted as true and trained uphill, and
    amsgrad=True printed a traceback), a number a finite real one (numpy's too), betas a pair."""
    import numpy as np

    if isinstance(default, bool):
        return None if isinstance(value, (bool, np.bool_)) else "not True or False"
    if isinstance(default, (int, float)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            return "not a number"
        return None if math.isfinite(float(value)) else "not a finite number"
    if isinstance(default, tuple):
        if not isinstance(value, (list, tuple)) or len(value) != len(default):
            return f"not a list of {len(default)} numbers"
        problems = [_option_problem(d, v) for d, v in zip(default, value)]
        return next((f"an entry {p}" for p in problems if p is not None), None)
    return None


def _signal_name(exc: KeyboardInterrupt) -> str:
    return f"a {exc.name}" if isinstance(exc, Terminated) else "a Ctrl-C"


@contextlib.contextmanager
def _interrupt_after() -> Any:
    """Ctrl-C inside the block is held until it ends (a checkpoint being saved is finished, not
    thrown away with the epoch it holds); the list it gives says whether one came."""
    came: list[KeyboardInterrupt] = []
    with held_signals(lambda signum: came.append(
            KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum))):
        yield came


def _rescue_folders() -> list[Path]:
    """Where a checkpoint that could not be written to its own path goes instead: the user's
    cache (``$XDG_CACHE_HOME`` or ``~/.cache``, ``tinygrad_cnn/rescue``), then the temp folder --
    often another file system than the output's, which a full disk does not reach."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return [Path(base) / "tinygrad_cnn" / "rescue", Path(tempfile.gettempdir())]


def _rescue(state: Any, out: Path, epoch: int) -> Path | None:
    """Save ``state`` (the epoch that could not be saved to ``out``) in the first rescue folder
    that takes it, under a name no file has; that path, or None where none did."""
    from tinygrad_cnn.serialization import save

    for folder in _rescue_folders():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            k, path = 1, folder / f"{out.stem}.epoch{epoch}.npz"
            while path.exists():
                k += 1
                path = folder / f"{out.stem}.epoch{epoch}-{k}.npz"
            save(state, path)
            return path
        except (OSError, ValueError):
            continue
    return None


def _what_is_kept(out: Path, saved_epoch: int | None) -> str:
    if saved_epoch:  # (unless it was removed since: its folder deleted during the run)
        return (f"{out} still holds epoch {saved_epoch}" if out.exists() else
                f"{out}, which held epoch {saved_epoch}, is gone (removed during the run)")
    return f"{out} is unchanged" if out.exists() else f"no {out} was written"


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP: the terminal closed), raised where Ctrl-C's KeyboardInterrupt would
    be; the exit status is the shell's 128 + the signal's number (143, 129)."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__()
        self.signum = int(signum)
        self.name = signal.Signals(signum).name
        self.status = 128 + self.signum


def _stopped_word(exc: KeyboardInterrupt) -> str:
    if not isinstance(exc, Terminated):
        return "interrupted"
    return "terminated" if exc.signum == signal.SIGTERM else f"terminated by {exc.name}"


def _stopped_status(exc: KeyboardInterrupt) -> int:
    return exc.status if isinstance(exc, Terminated) else 130


def _terminated(signum: int, frame: Any) -> None:
    # later signals are ignored: the run is ending already, and one raised while this one
    # unwinds (in an atexit handler, in threading's shutdown) would print a traceback
    for other in stop_signals()[1:]:
        signal.signal(other, signal.SIG_IGN)
    raise Terminated(signum)


def _keep_earlier_run(out: Path) -> Path:
    """Move the earlier run at ``out`` to the first free NAME.previous[-k].npz, chosen now (a file
    or another run's lock that appeared there since this run started is skipped): a hard link
    never replaces an existing file, and the save that follows replaces ``out`` atomically.
    Where the file system has no hard links, a rename to a name checked just before."""
    while True:
        backup = _free_backup(out)
        try:
            os.link(out, backup)
        except FileExistsError:
            continue  # taken between the check and the link: the next name
        except OSError:  # (no hard links here)
            os.replace(out, backup)
            return backup
        if out.is_symlink():  # (the link was linked, not its target: the save would write
            os.unlink(out)    # through it into the earlier run; the backup link keeps that)
        # ``out`` stays until the first save replaces it (a kill before that leaves the earlier
        # run at both names, and the resume hint printed at the start still works); that save
        # gives the new file a new file's mode, not the earlier one's (a read-only file stays
        # read-only as the previous run)
        return backup


def _weights_finite(model: Any) -> bool:
    """Whether every parameter and buffer of ``model`` holds finite numbers only."""
    import numpy as np

    from tinygrad_cnn.backend import to_numpy

    return all(np.isfinite(to_numpy(t._data)).all() for t in model.state_dict().values()
               if t.dtype.kind == "f")


def _free_backup(out: Path) -> Path:
    """Where the earlier run at the default path goes: NAME.previous.npz, or, when an even
    earlier one is there already, the first free NAME.previous-2.npz, -3, ..."""
    k = 1
    while True:
        tag = ".previous" if k == 1 else f".previous-{k}"
        backup = out.with_name(out.stem + tag + out.suffix)
        lock = backup.with_name(f"{sidecar(backup.name)}.lock")  # (another run writes there)
        if not backup.exists() and not backup.is_symlink() and not lock.exists():
            return backup
        k += 1


class _Owned(threading.local):
    """What the command running in this thread holds: its open lock files (released when it
    ends) and the folders it made, outermost first (removed if left empty). Per thread: a
    command ending in one thread leaves another thread's run its lock and its folders."""

    def __init__(self) -> None:
        self.locks: list[tuple[Any, Path]] = []
        self.made: list[Path] = []


_OWNED = _Owned()


def _make_parents(path: Path) -> None:
    """Make ``path``'s missing folders, remembered so that a command that ends -- refused,
    interrupted, failed -- before writing into them leaves none behind."""
    made = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    _OWNED.made.extend(reversed(made))


def _release() -> None:
    """The end of a command (in ``main``, so also one called in a notebook or a test): its
    locks released and their files removed, its empty new folders removed."""
    while _OWNED.locks:
        handle, lock = _OWNED.locks.pop()
        with contextlib.suppress(OSError):
            handle.close()
        _unlink_quietly(lock)
    while _OWNED.made:
        _rmdir_quietly(_OWNED.made.pop())  # (innermost first; one holding a file stays)


def _lock_output(args: argparse.Namespace, out: Path) -> None:
    """One run at a time per checkpoint: an exclusive lock on a hidden file beside it, held until
    the process ends (the system drops it when a run is killed). A second run to the same path --
    another terminal, another resume of it -- is refused before any work, not left to overwrite
    the first one's epochs."""
    try:
        import fcntl
    except ImportError:  # (no flock on this system: unlocked, as before)
        return
    _make_parents(out)  # (a run that ends before its first save leaves no empty folders)
    target = out.resolve()  # (a symlink to the file is the same checkpoint)
    lock = target.with_name(f"{sidecar(target.name)}.lock")
    try:
        handle = open(lock, "a")  # (held open for the life of the run)
    except OSError as exc:
        _usage(args, f"argument --out: cannot create the lock file {lock} "
               f"({exc.strerror or exc}); expected a path in a writable folder")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        _usage(args, f"argument --out: another run is writing {out} now (it holds {lock}); wait "
               "for it to finish, or give this run another --out")
    _OWNED.locks.append((handle, lock))  # (the lock file goes with the run that holds it)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _rmdir_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):  # (not empty: it holds a checkpoint, or another's files)
        path.rmdir()


def _interrupted_advice(args: argparse.Namespace, out: Path, saved_epoch: int | None,
                        start_epoch: int) -> str:
    extra = "".join(f" --{k.replace('_', '-')} {shlex.quote(str(v))}" for k, v in
                    (("device", args.device if args.device != "cpu" else None),
                     ("data_dir", args.data_dir)) if v is not None)
    if saved_epoch is not None:
        return (f"the checkpoint of epoch {saved_epoch} at {out} is intact. Continue with "
                f"`{PROG} train --resume={shlex.quote(str(out))}{extra}`")
    if args.resume:
        same = Path(args.resume).resolve() == out.resolve()
        where = "" if same else f"nothing was written to {out}; "
        return (f"{where}{args.resume} still holds epoch {start_epoch}, intact. Continue by "
                "running the same command again")
    kept = f" ({out} keeps what it held before)" if out.exists() else ""
    return f"no checkpoint was written yet{kept}. Start again by running the same command"


# --------------------------------------------------------------------------- evaluate
def _epoch_of(state: dict[str, Any]) -> tuple[Any, bool]:
    """A checkpoint's epoch (a numpy integer as an int, as save() keeps them) and whether it is
    an epoch count, an int >= 0."""
    epoch = state.get("epoch")
    if hasattr(epoch, "dtype") and getattr(epoch, "ndim", 1) == 0 and \
            str(getattr(epoch, "dtype", "")).startswith(("int", "uint")):
        epoch = int(epoch)
    return epoch, isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0


def _evaluate(args: argparse.Namespace) -> int:
    path = args.checkpoint or f"checkpoints/{args.model or DEFAULT_MODEL}.npz"
    state = _load_checkpoint(args, "--checkpoint", path, model=args.model)
    found = state["config"]["model"]
    if args.model is not None and args.model != found:
        _usage(args, f"argument --model: {path} holds a {found} model, not {args.model}; leave "
               "--model out to evaluate the checkpoint's own model")
    _check_device(args)
    _check_data_dir(args, ("test-images", "test-labels"))

    from tinygrad_cnn.data import MNIST, DataLoader
    from tinygrad_cnn.models import MODELS
    from tinygrad_cnn.training import evaluate

    model = MODELS[found]()
    _load_weights(args, "--checkpoint", path, model, state)
    if args.device != "cpu":
        model.to(args.device)
    acc = evaluate(model, DataLoader(MNIST(args.data_dir, train=False), args.batch_size),
                   args.device)
    epoch, ok = _epoch_of(state)
    if "epoch" not in state:
        epoch = "?"
    elif not ok:
        epoch = f"{epoch!r}, not an epoch count"  # (a crafted file; train --resume refuses it)
    _say(f"checkpoint {path} ({found}, epoch {epoch})",
         f"test accuracy: {acc:.4f}")
    return 0


# ------------------------------------------------------------------------------- draw
def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long, say: the output checks below report it
        return False


def _draw(args: argparse.Namespace) -> int:
    implied = ""
    if args.output is None:  # named after the model drawn (resnet8.svg, not lenet5.svg)
        args.output = f"{args.model}{'.html' if args.animate else '.svg'}"
        implied = f" ({args.output} is the default output path; pass -o to choose another)"
    path = Path(args.output)
    if args.animate and args.backward:
        _usage(args, "argument --backward: not with --animate, which always steps through the "
               "backward pass (leave --backward out)")
    suffixes = (".html", ".htm") if args.animate else DRAW_SUFFIXES
    if _is_dir(path):
        _usage(args, f"argument -o/--output: {path} is a directory; expected a file path such "
               f"as {path / ('graph' + suffixes[0])}")
    if path.suffix.lower() not in suffixes:
        what = "the step-through of --animate" if args.animate else "a drawing"
        _usage(args, f"argument -o/--output: cannot write {what} to {str(path)!r}; the file name "
               f"must end in one of {', '.join(suffixes)}"
               + ("" if args.animate else " (or .html with --animate)"))
    _check_output(args, "-o/--output", path, _not_a_drawing, example="graph" + suffixes[0],
                  implied=implied)
    if args.max_nodes is not None and (args.animate or path.suffix.lower() == ".txt"):
        _usage(args, "argument --max-nodes: the " + ("step-through (--animate)" if args.animate
               else "text form (.txt)") + " lists every op, so a limit would change nothing; "
               "leave --max-nodes out, or draw to .svg/.png/.pdf/.jpg/.dot")
    text_form = args.animate or path.suffix.lower() in (".dot", ".gv", ".txt")
    from tinygrad_cnn import viz

    if not text_form and shutil.which("dot") is None:
        _usage(args, f"argument -o/--output: {path.suffix} needs Graphviz's `dot`, which is not "
               f"installed ({viz.GraphvizNotFound()}); .dot and .txt need no Graphviz")
    _make_parents(path)
    try:
        if args.animate or path.suffix.lower() == ".txt":
            from tinygrad_cnn._files import atomic_write

            loss = _draw_loss(args)
            if args.animate:
                page = viz.animate(loss, title=f"{args.model} (batch {args.batch}): "
                                   "backpropagation, step by step").html
            else:
                if args.backward:
                    with viz.record_gradients(loss):
                        loss.backward(retain_graph=True)
                page = viz.text(loss, backward=args.backward)
            atomic_write(path, lambda f: f.write(page.encode()))
        else:
            path = viz.draw_model_to_file(args.model, path, backward=args.backward,
                                          max_nodes=args.max_nodes, batch=args.batch)
    except viz.GraphvizNotFound as exc:
        _usage(args, f"argument -o/--output: {exc}")
    except viz.GraphvizFailed as exc:  # dot itself failed: not the invocation's fault
        raise WorkError(str(exc).removeprefix("render: ")) from None
    except OSError as exc:  # (a full disk): the file was written whole or not at all
        kept = "keeps what it held" if path.exists() else "was not created"
        raise WorkError(f"could not write {path}: {exc.strerror or exc}; {path} {kept}") from None
    _say(f"wrote {path}")
    return 0


def _draw_loss(args: argparse.Namespace) -> Any:
    """The loss of ``--model`` on a sample batch (no backward yet)."""
    from tinygrad_cnn import viz

    return viz.model_loss(args.model, args.batch)


# ------------------------------------------------------------------------------- demo
def _demo(args: argparse.Namespace) -> int:
    """Fit a tiny tanh network to XOR with plain tensor expressions and backward()."""
    import tinygrad_cnn as tg

    tg.manual_seed(args.seed)
    x = tg.Tensor([[0, 0], [0, 1], [1, 0], [1, 1]])
    y = tg.Tensor([[0], [1], [1], [0]])
    w1 = (tg.randn(2, 8) * 0.8).requires_grad_()
    b1 = tg.zeros(8, requires_grad=True)
    w2 = (tg.randn(8, 1) * 0.8).requires_grad_()
    loss = out = None
    for step in range(args.steps):
        out = ((x @ w1 + b1).tanh() @ w2).sigmoid()
        loss = ((out - y) ** 2).mean()
        for p in (w1, b1, w2):
            p.grad = None
        loss.backward()
        with tg.no_grad():
            for p in (w1, b1, w2):
                p.sub_(p.grad * 2.0)
        if step % max(args.steps // 5, 1) == 0:
            _say(f"step {step:4d}  loss {loss.item():.4f}")
    assert loss is not None and out is not None  # --steps is >= 1
    _say(f"final loss {loss.item():.4f}; predictions "
         f"{[round(float(v), 3) for v in out.numpy().ravel()]}")
    return 0


# ----------------------------------------------------------------------------- parser
class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose ``--help`` and ``--version`` text goes through ``_say``: argparse
    drops a failed write silently, so ``--help > /dev/full`` ended with status 0. A flag is
    written in full: argparse's prefixes let a typo (``--epoch 2``, ``--e 3``) start real work
    (t193)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            _say(message.rstrip("\n"), stream=file or sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m tinygrad_cnn``; every argument's help names its default."""
    from tinygrad_cnn.models import MODELS

    models = sorted(MODELS)
    p = _Parser(prog=PROG, description="tinygrad_cnn: an autograd engine for "
                                "CNNs, on numpy. Exit status: 0 done, 1 a failure while working, "
                                "2 a bad invocation (one 'error:' line, before any work), "
                                "130 interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="one of train, evaluate, draw, demo (required; "
                           f"`{PROG} COMMAND --help` for its arguments)")

    t = sub.add_parser("train", help="train a model on MNIST",
                       description="Train a model on MNIST with a progress bar; after every "
                       "epoch print the test accuracy and save a checkpoint (model, optimizer, "
                       "schedule, epoch, settings). Ctrl-C stops cleanly; --resume continues. "
                       "Every argument and output path is checked before any data is loaded.")
    t.add_argument("--model", choices=models, default=None,
                   help=f"the model (default {DEFAULT_MODEL}; with --resume, the checkpoint's, "
                   "and another one is refused)")
    t.add_argument("--epochs", type=_epochs, default=None, metavar="N",
                   help=f"total epochs, an integer from 1 to {MAX_EPOCHS:,} (default 3; with --resume, the "
                   "checkpoint's; a new value stretches or shrinks the cosine schedule to end "
                   "there)")
    t.add_argument("--batch-size", type=_positive, default=None, metavar="N",
                   help="an integer >= 1 (default 64; with --resume, the checkpoint's)")
    t.add_argument("--lr", type=_positive_float, default=None,
                   help="base learning rate, > 0, cosine-annealed to 0 at the last epoch "
                   f"(default {DEFAULT_LR['sgd']} for sgd, {DEFAULT_LR['adam']} for adam; with "
                   "--resume, the checkpoint's; a new value becomes the schedule's base rate)")
    t.add_argument("--optimizer", choices=OPTIMIZERS, default=None,
                   help="sgd (momentum 0.9, weight decay 5e-4) or adam (default sgd; with "
                   "--resume, the checkpoint's, and another one is refused)")
    t.add_argument("--device", type=_device, default=None,
                   help="cpu or cuda (default cpu; with --resume, the checkpoint's)")
    t.add_argument("--data-dir", default=None, metavar="DIR", type=_path,
                   help="an existing folder with the MNIST .gz files; files missing there are "
                   "downloaded into it (default: $TINYGRAD_CNN_DATA, ./data/mnist, the package's "
                   "checkout, the cache, downloading into the cache)")
    t.add_argument("--out", default=None, metavar="PATH", type=_file_path,
                   help=f"the checkpoint to write after every epoch (default "
                   f"checkpoints/MODEL.npz, e.g. {DEFAULT_CHECKPOINT}: an earlier run there is "
                   "kept as MODEL.previous.npz, or -2, -3, ... when that exists; with --resume, "
                   "the resumed file); an existing file named here must be a writable "
                   "checkpoint, and is replaced; one run at a time per path")
    t.add_argument("--seed", type=_seed, default=None,
                   help="random seed, an integer from 0 to 2**64 - 1 (default 0; with --resume, "
                   "the checkpoint's)")
    t.add_argument("--limit", type=_positive, default=None, metavar="N",
                   help="train on the first N images only, an integer >= 1 (default: all 60,000; "
                   "with --resume, the checkpoint's)")
    t.add_argument("--resume", default=None, metavar="PATH", type=_file_path,
                   help="continue from a checkpoint of `train` (default: none, a new run)")
    t.set_defaults(func=_train, parser=t)

    e = sub.add_parser("evaluate", help="test accuracy of a checkpoint",
                       description="Evaluate a checkpoint of `train` on the MNIST test set; the "
                       "last line is 'test accuracy: 0.9912' (a fraction).")
    e.add_argument("--checkpoint", default=None, metavar="PATH", type=_file_path,
                   help=f"the checkpoint (default checkpoints/MODEL.npz for --model MODEL, "
                   f"else {DEFAULT_CHECKPOINT})")
    e.add_argument("--model", choices=models, default=None,
                   help="the model the checkpoint must hold (default: the one it names)")
    e.add_argument("--data-dir", default=None, metavar="DIR", type=_path,
                   help="an existing folder with the MNIST .gz files; the test files missing "
                   "there are downloaded into it (default: $TINYGRAD_CNN_DATA, ./data/mnist, "
                   "the package's checkout, the cache)")
    e.add_argument("--batch-size", type=_positive, default=1000, metavar="N",
                   help="an integer >= 1 (default 1000)")
    e.add_argument("--device", type=_device, default="cpu", help="cpu or cuda (default cpu)")
    e.set_defaults(func=_evaluate, parser=e)

    d = sub.add_parser("draw", help="draw a model's forward or backward graph",
                       description="Draw a model on a sample batch with Graphviz; the format "
                       "comes from the file name (.svg, .png, .pdf, .jpg; .dot/.gv for the DOT text "
                       "and .txt for the text form, one line per op, which need no Graphviz). "
                       "--animate writes a step-through of the backward pass as one HTML page.")
    d.add_argument("--model", default=DEFAULT_MODEL, choices=models,
                   help=f"the model, one of {', '.join(models)} (default {DEFAULT_MODEL})")
    d.add_argument("--backward", action="store_true",
                   help="draw the backward graph (default: the forward graph)")
    d.add_argument("--animate", action="store_true",
                   help="write a step-through of the backward pass, one frame per VJP, as a "
                   "self-contained HTML page (-o must end in .html; default: off)")
    d.add_argument("-o", "--output", default=None, metavar="PATH", type=_file_path,
                   help="output file; its suffix picks the format (default MODEL.svg, e.g. "
                   "lenet5.svg; MODEL.html with --animate)")
    d.add_argument("--max-nodes", type=_positive, default=None, metavar="N",
                   help="keep at most N nodes in a drawing (.svg/.png/.pdf/.jpg/.dot), an "
                   "integer >= 1 (default: all); the text form and --animate list every op")
    d.add_argument("--batch", type=_int_range(1, MAX_DRAW_BATCH), default=2, metavar="N",
                   help=f"sample batch size, an integer from 1 to {MAX_DRAW_BATCH} (default 2)")
    d.set_defaults(func=_draw, parser=d)

    m = sub.add_parser("demo", help="fit a tiny network to XOR (a first look at the engine)",
                       description="Fit a tiny tanh network to XOR with tensor expressions and "
                       "backward().")
    m.add_argument("--steps", type=_positive, default=500, metavar="N",
                   help="gradient steps, an integer >= 1 (default 500)")
    m.add_argument("--seed", type=_seed, default=0,
                   help="random seed, an integer from 0 to 2**64 - 1 (default 0)")
    m.set_defaults(func=_demo, parser=m)
    return p


def _unrecognized(parser: argparse.ArgumentParser, extra: Sequence[str]) -> None:
    """The usage of ``parser`` (the command's) and one ``error:`` line naming the arguments it did
    not recognise, the closest flag it has, and every flag it accepts; exit status 2."""
    flags = sorted({o for a in parser._actions for o in a.option_strings if o.startswith("--")})
    hint = ""
    first = next((e.split("=", 1)[0] for e in extra if e.startswith("-")), None)
    close = [f for f in flags if first and f.startswith(first)] if first else []
    if len(close) != 1:  # (a prefix of one flag names it; else the closest spelling)
        close = difflib.get_close_matches(first, flags, n=1) if first else []
    if close:
        hint = f" (did you mean {close[0]}?)"
    parser.error(f"unrecognized arguments: {' '.join(extra)}{hint}; it accepts "
                 f"{', '.join(flags)}")


_NEGATIVE_NON_FINITE = ("-inf", "-infinity", "-nan")


def _joined_non_finite(argv: Sequence[str]) -> list[str]:
    """``argv`` with ``--flag -inf`` written ``--flag=-inf``: argparse reads a value that starts
    with ``-`` and is no plain number as another option ("expected one argument"); so joined, the
    flag's own check names the value it refuses."""
    out: list[str] = []
    for a in argv:
        if a.lower() in _NEGATIVE_NON_FINITE and out and out[-1].startswith("--") and \
                "=" not in out[-1]:
            out[-1] = f"{out[-1]}={a}"
        else:
            out.append(a)
    return out


def main(argv: Sequence[str] | None = None, *, _whole_process: bool = False) -> int:
    """Run one command (``argv``: the arguments after ``python -m tinygrad_cnn``) and return its
    exit status. Called from a program (a notebook, a test), it gives back the SIGINT and SIGTERM
    handlers it found; ``python -m tinygrad_cnn`` keeps its own until the process ends (a flood of
    SIGTERMs then still ends it with status 143, not killed)."""
    _LOST_OUTPUT.clear()
    global PROG
    if argv is None and os.path.basename(sys.argv[0]) == "tinygrad-cnn":  # (the console script:
        PROG = "tinygrad-cnn"                                               # its own name)
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(
            _joined_non_finite(sys.argv[1:] if argv is None else argv))
        if extra:  # (a typo after a command: that command's usage, and what it accepts -- t193)
            _unrecognized(getattr(args, "parser", parser), extra)
    except KeyboardInterrupt:  # (a Ctrl-C while the arguments are read: nothing began)
        _say("", "interrupted", stream=sys.stderr)
        return 130
    except SystemExit as exc:  # --help: its text is the work, and a lost one is an error
        if exc.code in (0, None) and _LOST_OUTPUT:
            _say(f"{PROG}: error: could not write the help to standard output "
                 f"({_LOST_OUTPUT[0]})", stream=sys.stderr)
            return 1
        raise
    found: tuple[Any, Any] | None = None  # the handlers of a program that called main()
    if os.name == "posix" and threading.current_thread() is threading.main_thread():
        # a Ctrl-C while numpy works in another thread must still arrive here
        found = tuple(signal.getsignal(signum) for signum in stop_signals())
        if found[0] is not signal.SIG_IGN:  # (ignored -- `cmd &` in a script -- stays ignored)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        # SIGTERM (kill, timeout, a job scheduler) and SIGHUP (the terminal closed) stop a run
        # as Ctrl-C does: the epoch being saved is finished, the lock file removed, and the
        # exit status says which signal. A SIGHUP ignored (`nohup`) stays ignored.
        if found[1] is not signal.SIG_IGN:  # (an ignored SIGTERM stays ignored too, t170)
            signal.signal(signal.SIGTERM, _terminated)
        if len(found) > 2 and found[2] is not signal.SIG_IGN:
            signal.signal(signal.SIGHUP, _terminated)
    done: list[int] = []  # the command's status, once it has returned
    _LOST_OUTPUT.clear()
    try:
        try:
            done.append(int(args.func(args) or 0))
            if _LOST_OUTPUT and done[0] == 0:
                # train's work is its checkpoint, saved: said, status 0; another command's
                # work is what it printed (evaluate's accuracy): lost, status 1
                saved = args.command == "train"
                _say(f"{PROG} {args.command}: {'warning' if saved else 'error'}: could not write "
                     f"to standard output ({_LOST_OUTPUT[0]}): what this command printed there "
                     f"is lost{' (the checkpoints are saved)' if saved else ''}",
                     stream=sys.stderr)
                done[0] = 0 if saved else 1
            return done[0]
        finally:
            if found is not None and _whole_process and done:  # the work is whole: a signal
                for signum in stop_signals():  # from here to the process's end changes nothing
                    signal.signal(signum, signal.SIG_IGN)
            try:
                _release()
            finally:  # (also after a Ctrl-C while letting go: the caller's handlers back -- a
                # notebook's process kept ours, and DataLoader workers forked there inherited
                # them, caught terminate()'s SIGTERM and hung)
                if found is not None and not _whole_process:  # (a notebook's or a test's again)
                    for signum, handler in zip(stop_signals(), found):
                        if handler is not None:
                            signal.signal(signum, handler)
    except KeyboardInterrupt as exc:  # (Terminated too)
        if done:  # a signal while the finished command let go of its locks: its work is whole
            return done[0]
        _say("", _stopped_word(exc), stream=sys.stderr)
        return _stopped_status(exc)
    except MemoryError:
        _say(f"{PROG} {args.command}: error: out of memory; try a smaller --batch-size",
             stream=sys.stderr)
        return 1
    except (WorkError, OSError, ValueError, RuntimeError) as exc:
        if isinstance(exc, (WorkError, OSError)) or type(exc).__module__.startswith(
                "tinygrad_cnn"):
            _say(f"{PROG} {args.command}: error: {exc}", stream=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
