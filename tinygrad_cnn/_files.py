"""Writing files so that an interruption never leaves a half-written one."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import signal
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

# ".NAME.PID.RANDOM.part": the writer's process id tells a stale part from one being written
_PART = re.compile(r"(\d+)\.[0-9a-f]{8}")
_LEGACY_PART = re.compile(r"[A-Za-z0-9_]{8}")  # tempfile.mkstemp's names, before process ids
LEGACY_PART_AGE = 3600.0  # seconds after which such a part is surely abandoned


_NAME_MAX = 255  # bytes in one file name (ext4, xfs, btrfs, tmpfs, APFS)
_SIDECAR_ROOM = 24  # bytes after the stem: ".PID.XXXXXXXX.part" with a 10-digit PID, ".lock"


def sidecar(name: str) -> str:
    """The stem of the hidden files kept beside the file ``name`` (its lock, its temporary
    parts): ``.NAME`` -- or, where that and the longest suffix would not fit in one file name,
    ``.NAME`` cut short plus ``~`` and 8 hex digits of NAME's hash (a name of 250 bytes is
    legal; its ``.NAME.PID.XXXXXXXX.part`` would not be, and the save would fail at the end)."""
    raw = os.fsencode(name)
    if 1 + len(raw) + _SIDECAR_ROOM <= _NAME_MAX:
        return "." + name
    digest = hashlib.sha1(raw).hexdigest()[:8]
    return "." + os.fsdecode(raw[:_NAME_MAX - _SIDECAR_ROOM - 10]) + "~" + digest


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing it
    if os.name != "posix":
        return True  # no cheap, safe check: keep it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def remove_stale_parts(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files that writers of ``path`` killed mid-write (SIGKILL, power loss)
    left beside it: ``.NAME.PID.XXXXXXXX.part`` whose process no longer runs, and parts of the old
    ``.NAME.XXXXXXXX.part`` form older than an hour. Returns what was removed."""
    path = Path(path)
    prefix = f"{sidecar(path.name)}."
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(".part")):
            continue
        middle = name[len(prefix):-len(".part")]
        if (m := _PART.fullmatch(middle)) is not None:
            stale = not _process_alive(int(m.group(1)))
        elif _LEGACY_PART.fullmatch(middle):
            try:
                stale = time.time() - entry.stat(follow_symlinks=False).st_mtime > LEGACY_PART_AGE
            except OSError:
                continue
        else:
            continue
        if stale and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None], *,
                 fresh_mode: bool = False, keep_links: bool = True, parents: bool = True) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to disk, then rename it
    over ``path``. On any error or interruption the temporary file is removed and ``path`` keeps
    its previous content; temporaries that killed writers left behind are removed first.

    The new file gets the permissions ``open(path, "wb")`` would give it: those of the file it
    replaces, or ``0o666`` less the umask for a new one (``fresh_mode``: always the latter -- the
    file replaced is another's, kept elsewhere). A symlink at ``path`` is followed: the file it
    points to is replaced, the link stays.

    Two files are written in place instead, as ``open(path, "wb")`` would, once the whole new
    content is on disk in a temporary file: one with other hard links (a rename would leave the
    other names holding the old content), and a writable file in a folder where no temporary
    file can be created (the temporary file goes to the system's temporary folder) -- neither
    when ``keep_links`` is false: then it is a rename or an error, never an overwrite that a
    killed process could leave half done (the command line's own checkpoints). A missing parent
    folder is made, unless ``parents`` is false (then it is an error, as for ``open``). The copy runs
    with Ctrl-C and SIGTERM held back until it is done; should it fail anyway, the error names
    the temporary file that holds the complete new content."""
    file_path_only(path)
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    if path.is_dir():  # (os.replace would fail naming the temporary file, not this path)
        raise IsADirectoryError(errno.EISDIR, f"cannot write {path}: it is a directory; expected "
                                "a file path", str(path))
    try:
        if not parents and not path.parent.is_dir():  # (as open(path, "wb"): no folder made)
            raise FileNotFoundError(errno.ENOENT, f"cannot write {path}: the folder "
                                    f"{path.parent} does not exist; create it first", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # (a parent that is a file, or a place that cannot be written)
        blocker = next((p for p in path.parents if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"cannot write {path}: {blocker} is a file, "
                                     "not a folder", str(path)) from None
        if isinstance(exc, FileNotFoundError) and not parents:
            raise
        raise _naming(exc, path) from None
    remove_stale_parts(path)
    try:
        st: os.stat_result | None = path.stat()
    except FileNotFoundError:
        st = None
    if st is not None and (kind := special_kind(st)) is not None:
        # (a rename would put a regular file where a device, FIFO or socket was: as root,
        # write_idx("/dev/null", ...) replaced the device)
        raise OSError(errno.EEXIST, f"cannot write {path}: it is {kind}, not a regular file, "
                      "which this write would replace; give a file path", str(path))
    mode = None if fresh_mode or st is None else stat.S_IMODE(st.st_mode)  # (None: the umask's)
    # a file with other names keeps them (a rename would leave them the old content)
    in_place = keep_links and st is not None and st.st_nlink > 1
    tmp = path.parent / f"{sidecar(path.name)}.{os.getpid()}.{secrets.token_hex(4)}.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | \
        getattr(os, "O_CLOEXEC", 0)
    fd = -1
    try:
        try:
            fd = os.open(tmp, flags, 0o600 if in_place else 0o666)
        except OSError as exc:
            if st is None or not keep_links or not writable(path) or \
                    exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise _no_temporary(exc, path, st is not None) from None
            # a writable file in a folder we cannot create files in: written in place, from a
            # temporary file in the system's folder (where a killed writer's are removed too)
            in_place = True
            remove_stale_parts(Path(tempfile.gettempdir()) / path.name)
            tmp = Path(tempfile.gettempdir()) / f"{sidecar(path.name)}.{os.getpid()}." \
                f"{secrets.token_hex(4)}.part"
            try:
                fd = os.open(tmp, flags, 0o600)
            except OSError:
                raise _no_temporary(exc, path, True) from None
        if mode is not None and not in_place and hasattr(os, "fchmod"):
            # (a file renamed into place takes its mode now; one only copied from keeps 0o600:
            # a readable copy of a private checkpoint in /tmp would leak it)
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            fd = -1  # the file object owns it now
            write(f)
            f.flush()
            os.fsync(f.fileno())
        if not in_place:
            os.replace(tmp, path)
    except BaseException as exc:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno is not None and \
                exc.filename in (None, str(tmp), os.fspath(tmp)):
            # (a full disk names no file, a rename names our temporary one: say which file)
            raise _naming(exc, path) from None
        raise
    if in_place:
        _copy_over(tmp, path)
        return path
    _fsync_folder(path.parent)
    return path


def file_path_only(path: str | os.PathLike[str]) -> None:
    """Refuse a path that names a folder by its spelling -- ``g.svg/``, ``out/.`` (``Path`` drops
    the slash and would write ``g.svg``) -- or runs through a folder that does not exist with
    ``..`` (``nodir/../g.svg``: ``open`` finds nothing there, and the parent folder made for it
    would be left behind)."""
    raw = os.fspath(path)
    raw = raw.decode(errors="surrogateescape") if isinstance(raw, bytes) else raw
    parts = raw.replace(os.sep, "/").split("/")
    if raw.endswith(("/", os.sep)) or parts[-1] in (".", ".."):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {raw!r}: the path names a folder "
                                "(it ends in a slash, '.' or '..'); name a file", raw)
    for k, part in enumerate(parts[1:-1], start=1):
        before = "/".join(parts[:k]) or "/"
        if part == ".." and not os.path.isdir(before):
            raise FileNotFoundError(errno.ENOENT, f"cannot write {raw!r}: {before!r} does not "
                                    "exist, so the path through it and '..' names nothing", raw)


def writable(path: str | os.PathLike[str]) -> bool:
    """Whether this process may write ``path`` (its effective ids, where the OS tells them)."""
    return os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids)


def special_kind(st: os.stat_result) -> str | None:
    """What a path that is not a regular file is ("a FIFO", ...), or None for a regular file."""
    if stat.S_ISREG(st.st_mode):
        return None
    return ("a character device" if stat.S_ISCHR(st.st_mode) else "a block device"
            if stat.S_ISBLK(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode) else
            "a socket" if stat.S_ISSOCK(st.st_mode) else "a folder" if stat.S_ISDIR(st.st_mode)
            else "not a regular file")


def _no_temporary(exc: OSError, path: Path, exists: bool) -> OSError:
    """The error for a temporary file that could not be created beside ``path``: names the
    folder when it is the folder that refuses (was: "cannot write ro/f", of a writable file)."""
    if exc.errno in (errno.EACCES, errno.EPERM) and not writable(path.parent):
        what = ("a new file cannot be created there" if not exists else
                "the file is read-only too" if not writable(path) else
                "the file itself is writable, but a save writes a temporary file beside it and "
                "renames it over the file, so that it is never half-written")
        return type(exc)(exc.errno, f"cannot write {path}: its folder {path.parent} is not "
                         f"writable ({what}); make the folder writable or write elsewhere",
                         str(path))
    return _naming(exc, path)


def stop_signals() -> tuple[int, ...]:
    """The signals that stop a run as Ctrl-C does: SIGINT, SIGTERM and, where there is one,
    SIGHUP (a closed terminal or ssh session; was: the default action killed the run mid-save,
    leaving its lock and temporary file)."""
    return (signal.SIGINT, signal.SIGTERM) + ((signal.SIGHUP,) if hasattr(signal, "SIGHUP")
                                              else ())


@contextlib.contextmanager
def held_signals(note: Callable[[int], None]) -> Iterator[None]:
    """Inside the block, Ctrl-C (SIGINT), SIGTERM and SIGHUP call ``note(signum)`` instead of
    their handlers (one that is ignored stays ignored); the handlers are back after it. Main
    thread only (elsewhere: nothing is held) -- the handlers are swapped, not the signal mask,
    which would let another thread take them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, lambda signum, _frame: note(signum))
                for signum in stop_signals() if signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _copy_over(tmp: Path, path: Path) -> None:
    """Copy the whole new content in ``tmp`` into the file ``path`` itself (its inode, so its
    other names, its mode and its owner stay) and remove ``tmp``, with Ctrl-C and SIGTERM held
    until both are done; they are raised again then. A copy that fails part-way keeps ``tmp``
    and names it."""
    try:  # (write access only, as open(path, "wb") needs; the file is untouched if refused)
        dst = os.fdopen(os.open(path, os.O_WRONLY | getattr(os, "O_BINARY", 0) |
                                getattr(os, "O_CLOEXEC", 0)), "wb")
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _naming(exc, path) from None
    try:  # the room first: a disk that fills part-way through the copy would leave the old
        # content overwritten at its start under every name (a hard-linked backup too)
        if hasattr(os, "posix_fallocate"):
            os.posix_fallocate(dst.fileno(), 0, max(tmp.stat().st_size, 1))
    except OSError as exc:  # (a file system that cannot reserve room: copied as before)
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            dst.close()
            raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}; it is left as "
                          f"it was (it is written in place: it has other hard links, or its "
                          f"folder is read-only); the whole new content is in {tmp}",
                          str(path)) from None
    came: list[int] = []
    try:
        with held_signals(came.append):
            try:
                with dst, open(tmp, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
                    dst.truncate()
                    dst.flush()
                    os.fsync(dst.fileno())
            except OSError as exc:
                raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}; it was "
                              f"being written in place (it has other hard links, or its folder "
                              f"is read-only) and may be incomplete: the whole new content is "
                              f"in {tmp}", str(path)) from None
            tmp.unlink(missing_ok=True)  # (before a held SIGTERM ends the process)
    finally:
        for signum in dict.fromkeys(came):  # (each once, in the order they came)
            signal.raise_signal(signum)


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` (same type and errno) saying it could not write ``path``."""
    return type(exc)(exc.errno, f"cannot write {path}: {exc.strerror or exc}", str(path))


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; elsewhere a no-op)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
