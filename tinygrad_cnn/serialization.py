"""``save(obj, path)`` / ``load(path)``: checkpoints as ``.npz`` files that never hold pickles.

What can be saved: nested dicts (string or int keys), lists and tuples of tensors, numpy arrays,
numbers, strings, booleans and ``None`` -- a model's ``state_dict()``, an optimizer's, an epoch
counter -- nested at most ``MAX_DEPTH`` deep. Arrays go into the archive as ``a0``, ``a1``, ...;
the nesting and the small values go into one JSON entry.

A save writes a temporary file in the target's folder, flushes it to disk and renames it over the
target: an interrupted save (Ctrl-C, a crash, a full disk) leaves the previous file intact, and a
writer killed outright leaves a ``.NAME.PID.XXXXXXXX.part`` that the next save to the same path
removes. The file gets the permissions ``numpy.savez`` would give it (an existing file's, or the
umask's).

Loading reads every entry in full, so the zip's CRC-32 catches a flipped bit anywhere; arrays are
read with ``allow_pickle=False``, so a file that holds pickled objects is refused instead of run;
and every entry of the JSON is checked against what ``save`` writes. Anything else -- a truncated
or corrupt file, a file that is not an ``.npz`` at all, a crafted schema -- raises
:class:`CheckpointError` naming the file.
"""

from __future__ import annotations

import collections
import errno
import io
import json
import math
import os
import re
import stat
import struct
import zipfile
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from tinygrad_cnn._files import atomic_write, special_kind, writable
from tinygrad_cnn.backend import to_numpy, type_name
from tinygrad_cnn.tensor import Size, Tensor

FORMAT = "tinygrad_cnn-checkpoint"
VERSION = 1
MAX_DEPTH = 64  # containers inside containers; deeper is refused by save and by load
_SCHEMA_KEY = "__tinygrad_cnn__"
_ARRAY_KINDS = "biufU"  # what an "array" entry may hold; a "tensor" entry holds "biuf"


class CheckpointError(ValueError):
    """A file is not a readable tinygrad_cnn checkpoint."""


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str, depth: int = 0,
            seen: dict[int, str] | None = None) -> Any:
    """``obj`` as a JSON node, its arrays put in ``arrays``; ``seen``: the array key of each
    tensor already written (the same tensor met again is written as a reference to it, so tied
    parameters load as one object, as ``torch.load`` gives them)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"save: obj is nested more than {MAX_DEPTH} containers deep (a "
                         f"container that holds itself?), at {_short_path(where)}")
    if seen is None:
        seen = {}
    if isinstance(obj, Tensor):
        from tinygrad_cnn.nn.module import Parameter

        if id(obj) in seen:
            return {"same_as": seen[id(obj)]}

        if not type(obj).__module__.startswith("tinygrad_cnn."):
            if isinstance(obj, Parameter):
                _refuse_subclass(obj, where, "Parameter", "nn.Parameter(p.detach())")
            _refuse_subclass(obj, where, "Tensor", "t.detach()")
        key = f"a{len(arrays)}"
        arrays[key] = to_numpy(obj._data)
        seen[id(obj)] = key
        # a Parameter stays one, and requires_grad is kept, as torch.save does (.grad is not)

        if isinstance(obj, Parameter):
            node: Any = {"parameter": [key, bool(obj.requires_grad)]}
        else:
            node = {"tensor_requiring_grad": key} if obj.requires_grad else {"tensor": key}
        extra = vars(obj)  # (a user's own attributes -- p._no_weight_decay -- as torch.save)
        if extra or obj.name is not None:
            for k in extra:
                if not isinstance(k, str):
                    raise TypeError(f"save: {where} has an attribute named {k!r}; names must be "
                                    "strings")
            attrs = _encode(dict(extra), arrays, f"{where}.__dict__", depth + 1, seen)
            node = {"with_attributes": [node, obj.name, attrs]}
        return node
    if isinstance(obj, np.ma.MaskedArray):  # (an ndarray too: stored plain, its mask would go)
        raise TypeError(f"save: {where} is a numpy masked array, whose mask cannot be stored "
                        "with it; save its .filled(value) and its .mask as two arrays")
    if isinstance(obj, np.matrix):  # (an ndarray too: loaded plain, its * would turn elementwise)
        raise TypeError(f"save: {where} is a numpy matrix, which would load as a plain array (its "
                        "* then elementwise); save np.asarray(m)")
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in _ARRAY_KINDS:
            if obj.dtype.kind == "O":
                raise TypeError(f"save: {where} is an array of dtype {obj.dtype}, which cannot "
                                "be stored without pickle")
            # (numpy could store these; checkpoints hold what tensors hold, and strings)
            hint = {"c": "save its .real and .imag as two arrays",
                    "S": "decode it to str (arr.astype(str))"}.get(obj.dtype.kind,
                                                                   "save each field as an array")
            raise TypeError(f"save: {where} is an array of dtype {obj.dtype}, which checkpoints do "
                            f"not hold (they hold bool, int, float and str arrays); {hint}")
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"array": key}
    if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":  # kept as numpy's scalar type
        key = f"a{len(arrays)}"
        arrays[key] = np.asarray(obj)
        return {"scalar": key}
    if isinstance(obj, np.generic):
        if obj.dtype.kind not in "USb":  # (a datetime64's item() is a datetime: name numpy's)
            _refuse(obj, where)
        obj = obj.item()
    if isinstance(obj, int) and not isinstance(obj, bool) and obj.bit_length() > 4000:
        try:
            str(obj)  # (JSON writes ints in decimal: past sys.get_int_max_str_digits it cannot)
        except ValueError:
            raise ValueError(f"save: {where} is an int of {obj.bit_length()} bits, too many "
                             "decimal digits for this Python to write "
                             "(sys.set_int_max_str_digits); store it as a string") from None
    if isinstance(obj, (int, str, float)) and type(obj) not in (bool, int, str, float):
        base = next(t for t in (bool, int, str, float) if isinstance(obj, t))  # (an IntEnum)
        _refuse_subclass(obj, where, base.__name__, f"{base.__name__}(x)")
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return {"float": repr(obj)}  # repr round-trips exactly, and covers inf and nan
    if isinstance(obj, dict):
        if type(obj) not in (dict, collections.OrderedDict):
            if isinstance(obj, collections.OrderedDict):
                _refuse_subclass(obj, where, "OrderedDict", "collections.OrderedDict(d)")
            _refuse_subclass(obj, where, "dict", "dict(d)")
        if any(isinstance(k, np.integer) for k in obj):  # (np.int64(3): an int, as torch
            meta = getattr(obj, "_metadata", None)       # keeps it)
            obj = type(obj)((int(k) if isinstance(k, np.integer) else k, v)
                            for k, v in obj.items())
            if meta is not None:
                obj._metadata = meta  # type: ignore[attr-defined]
        for k in obj:
            if not isinstance(k, (str, int)):
                raise TypeError(f"save: {where} has a key {k!r}; keys must be str or int")
        kind = "ordered_dict" if isinstance(obj, collections.OrderedDict) else "dict"
        pairs = [[k, _encode(v, arrays, f"{where}[{k!r}]", depth + 1, seen)]
                 for k, v in obj.items()]
        meta = getattr(obj, "_metadata", None)
        if kind == "ordered_dict" and isinstance(meta, dict):  # a state_dict's versions
            return {"state_dict": [pairs, _encode(dict(meta), arrays, f"{where}._metadata",
                                                  depth + 1, seen)]}
        return {kind: pairs}
    if isinstance(obj, tuple) and _is_namedtuple(obj):  # a namedtuple: name and fields
        fields = list(type(obj)._fields)
        return {"namedtuple": [type(obj).__name__, fields,
                               [_encode(v, arrays, f"{where}.{f}", depth + 1, seen)
                                for f, v in zip(fields, obj)]]}
    if isinstance(obj, Size):  # (x.size(), x.shape: loaded as a Size, as torch.Size is)
        return {"size": [_encode(v, arrays, f"{where}[{i}]", depth + 1, seen)
                         for i, v in enumerate(obj)]}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        if type(obj) not in (list, tuple):
            _refuse_subclass(obj, where, kind, f"{kind}(x)")
        return {kind: [_encode(v, arrays, f"{where}[{i}]", depth + 1, seen)
                       for i, v in enumerate(obj)]}
    _refuse(obj, where)


def _short_path(where: str) -> str:
    """A path ``obj[0][0]...`` 65 levels deep, shortened: ``obj[0][0][0] ... [0][0] (65 levels)``
    (the reason came after 250 characters of ``[0]``)."""
    head = re.match(r"\w*", where).group()
    parts = re.findall(r"\[[^\]]*\]|\.[^.\[]+", where[len(head):])
    if len(parts) <= 8:
        return where
    return f"{head}{''.join(parts[:3])} ... {''.join(parts[-2:])} ({len(parts)} levels)"


def _refuse(obj: Any, where: str) -> NoReturn:
    hint = (" (convert it with tinygrad_cnn.tensor(t.numpy()))"
            if type_name(obj) == "torch.Tensor" else "")
    if isinstance(obj, np.dtype) or (isinstance(obj, type) and issubclass(obj, np.generic)):
        # (tg.float32 is numpy's dtype: "a numpy.Float32DType" named no dtype the user wrote)
        raise TypeError(f"save: {where} is the dtype {np.dtype(obj)}; checkpoints hold no dtypes "
                        f"(torch.save pickles them): store its name, str(dtype) = "
                        f"{str(np.dtype(obj))!r}, and read it back with np.dtype(name)")
    name = type_name(obj)
    article = "an" if name[:1].lower() in "aeiou" else "a"
    raise TypeError(f"save: {where} is {article} {name}{hint}; checkpoints hold tinygrad_cnn "
                    "tensors, numpy arrays, real numbers (bool, int, float), strings, None and "
                    "dicts/lists/tuples of them")


def _refuse_subclass(obj: Any, where: str, base: str, fix: str) -> NoReturn:
    """A subclass of a stored type (a defaultdict, a Counter, a user's Tensor subclass) would
    load as its base type, its behaviour gone (a defaultdict's default, say): refused by name."""
    raise TypeError(f"save: {where} is a {type_name(obj)}, a subclass of {base} that would load "
                    f"as a plain {base} (checkpoints store no classes: there is no pickle); save "
                    f"{fix} instead, and make the {type(obj).__name__} again after loading")


def _is_namedtuple(obj: tuple[Any, ...]) -> bool:
    """A namedtuple that :class:`_Reader` can make again: its ``_fields`` name every item, as
    valid field names (a tuple subclass with another ``_fields`` is saved as a plain tuple,
    every item kept)."""
    fields = getattr(type(obj), "_fields", None)
    if not (isinstance(fields, tuple) and len(fields) == len(obj)
            and all(isinstance(f, str) for f in fields)):
        return False
    try:
        return collections.namedtuple("T", fields, rename=True)._fields == fields
    except (TypeError, ValueError):
        return False


class _Reader:
    """The decoder of one checkpoint: checks every JSON node against what :func:`_encode` writes
    and reads each array entry (at most once) from the zip."""

    def __init__(self, zf: zipfile.ZipFile, members: dict[str, str], path: Any) -> None:
        self.zf, self.members, self.path = zf, members, path
        self.used: set[str] = set()
        self.tensors: dict[str, Tensor] = {}  # array key -> the tensor read from it ("same_as")

    def fail(self, where: str, what: str) -> CheckpointError:
        return CheckpointError(f"{self.path} is not a valid checkpoint: {where} {what}")

    def array(self, key: Any, where: str, kinds: str) -> np.ndarray:
        if not isinstance(key, str) or key not in self.members or key == _SCHEMA_KEY:
            raise self.fail(where, f"refers to an array entry {key!r} that the file does not have")
        if key in self.used:
            raise self.fail(where, f"refers to array entry {key!r} a second time")
        self.used.add(key)
        arr = _read_array(self.zf, self.members[key])
        if arr.dtype.kind not in kinds:
            raise self.fail(where, f"holds an array of dtype {arr.dtype} (expected one of kinds "
                            f"{kinds!r}: bool, int, uint, float{', str' if 'U' in kinds else ''})")
        return arr

    def decode(self, node: Any, where: str = "root", depth: int = 0) -> Any:
        if node is None or isinstance(node, (bool, int, str)):
            return node
        if depth > MAX_DEPTH:
            raise self.fail(_short_path(where), f"is nested more than {MAX_DEPTH} containers deep")
        if not isinstance(node, dict) or len(node) != 1:
            raise self.fail(where, f"is {_describe(node)}, not a value save() writes")
        ((kind, value),) = node.items()
        if kind == "with_attributes":  # a tensor with its name and a user's own attributes
            if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], dict)
                    and next(iter(value[0]), None) in ("tensor", "tensor_requiring_grad",
                                                       "parameter")
                    and (value[1] is None or isinstance(value[1], str))):
                raise self.fail(where, f"is a tensor with attributes of {_describe(value)}, not "
                                "[tensor, name, attributes]")
            t = self.decode(value[0], where, depth + 1)
            attrs = self.decode(value[2], f"{where}.__dict__", depth + 1)
            if not isinstance(attrs, dict) or not all(isinstance(k, str) for k in attrs):
                raise self.fail(where, "has attributes that are not a dict of names")
            t.name = value[1]
            vars(t).update(attrs)
            return t
        if kind == "same_as":  # the same tensor object as one read before (tied parameters)
            if not isinstance(value, str) or value not in self.tensors:
                raise self.fail(where, f"refers to a tensor {_describe(value)} that was not read "
                                "before it")
            return self.tensors[value]
        if kind in ("tensor", "tensor_requiring_grad"):
            arr = self.array(value, where, "biuf")
            try:
                t = Tensor(arr, requires_grad=kind == "tensor_requiring_grad")
            except (TypeError, ValueError, RuntimeError) as exc:
                raise self.fail(where, f"cannot be a tensor ({exc})") from None
            self.tensors[value] = t
            return t
        if kind == "parameter":
            if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], bool)):
                raise self.fail(where, f"is a parameter of {_describe(value)}, not [key, "
                                "requires_grad]")
            from tinygrad_cnn.nn.module import Parameter

            arr = self.array(value[0], where, "biuf")
            try:
                p = Parameter(arr, requires_grad=value[1])
            except (TypeError, ValueError, RuntimeError) as exc:
                raise self.fail(where, f"cannot be a parameter ({exc})") from None
            self.tensors[value[0]] = p
            return p
        if kind == "array":
            return self.array(value, where, _ARRAY_KINDS)
        if kind == "scalar":
            arr = self.array(value, where, "biuf")
            if arr.shape != ():
                raise self.fail(where, f"is a scalar of shape {arr.shape}, not 0-d")
            return arr[()]
        if kind == "namedtuple":
            if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
                    and isinstance(value[1], list) and isinstance(value[2], list)
                    and len(value[1]) == len(value[2])
                    and all(isinstance(f, str) for f in value[1])):
                raise self.fail(where, f"is a namedtuple of {_describe(value)}, not [name, "
                                "fields, values]")
            try:  # a class of that name and fields (the original is not imported: no pickle)
                # (rename: fields such as _0 that namedtuple(..., rename=True) gave the saved one)
                cls = collections.namedtuple(value[0], value[1], rename=True)  # type: ignore[misc]
            except (TypeError, ValueError) as exc:
                raise self.fail(where, f"is a namedtuple that cannot be made ({exc})") from None
            if list(cls._fields) != value[1]:
                raise self.fail(where, f"is a namedtuple with invalid field names {value[1]}")
            return cls(*(self.decode(v, f"{where}.{f}", depth + 1)
                         for f, v in zip(value[1], value[2])))
        if kind == "float":
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    pass
            raise self.fail(where, f"holds {value!r}, not a float written as text")
        if kind in ("list", "tuple", "size"):
            if not isinstance(value, list):
                raise self.fail(where, f"is a {kind} of {_describe(value)}, not a JSON list")
            items = [self.decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
            if kind == "size":
                if not all(type(v) is int and v >= 0 for v in items):
                    raise self.fail(where, f"is a size of {items!r}, not of ints >= 0")
                return Size(items)
            return items if kind == "list" else tuple(items)
        if kind == "state_dict":  # an OrderedDict with its _metadata (module versions)
            if not (isinstance(value, list) and len(value) == 2):
                raise self.fail(where, f"is a state_dict of {_describe(value)}, not [pairs, "
                                "metadata]")
            out_sd = self.decode({"ordered_dict": value[0]}, where, depth)
            meta = self.decode(value[1], f"{where}._metadata", depth + 1)
            if not isinstance(meta, dict):
                raise self.fail(where, f"has _metadata of {_describe(value[1])}, not a dict")
            out_sd._metadata = meta
            return out_sd
        if kind in ("dict", "ordered_dict"):
            if not isinstance(value, list):
                raise self.fail(where, f"is a dict of {_describe(value)}, not a JSON list of pairs")
            out: dict[Any, Any] = collections.OrderedDict() if kind == "ordered_dict" else {}
            for i, pair in enumerate(value):
                if not (isinstance(pair, list) and len(pair) == 2
                        and isinstance(pair[0], (str, int))):  # bool keys too, as save takes them
                    raise self.fail(f"{where}[{i}]", f"is {_describe(pair)}, not a [key, value] "
                                    "pair with a str, int or bool key")
                if pair[0] in out:  # (save writes each key once: a crafted file, t155)
                    raise self.fail(f"{where}[{i}]", f"repeats the key {pair[0]!r}")
                out[pair[0]] = self.decode(pair[1], f"{where}[{pair[0]!r}]", depth + 1)
            return out
        raise self.fail(where, f"has an unknown entry kind {kind!r}")


def _describe(node: Any) -> str:
    text = json.dumps(node)
    return f"{type(node).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _read_array(zf: zipfile.ZipFile, member: str) -> np.ndarray:
    """One ``.npy`` entry, read in full (so that its CRC-32 is checked), without pickles; a
    header that declares more data than the entry holds is refused before anything is
    allocated for it."""
    info = zf.getinfo(member)
    with zf.open(info) as entry:  # (in steps, to the size the entry declares and one byte more:
        # zf.read() inflated up to 2 GB for an entry whose header lies about its size)
        parts, left = [], info.file_size + 1
        while left > 0:
            part = entry.read(min(left, 1 << 24))
            if not part:
                break
            parts.append(part)
            left -= len(part)
        if left <= 0:
            raise ValueError(f"entry {member} holds more than the {info.file_size:,} bytes its "
                             "header declares (a crafted file?)")
    data = b"".join(parts)
    head = io.BytesIO(data)
    version = np.lib.format.read_magic(head)
    if version not in ((1, 0), (2, 0)):
        raise ValueError(f"entry {member} has .npy format version {version}")
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0) else
                   np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read_header(head)
    if dtype.hasobject:
        raise ValueError(f"entry {member} holds Python objects (pickle)")
    if any(n < 0 for n in shape):  # (was: (-1, 5) of 100 bytes read as (5, 5))
        raise ValueError(f"entry {member} declares shape {shape}, with a negative size")
    count = math.prod(shape)
    if count * dtype.itemsize > len(data) - head.tell():
        raise ValueError(f"entry {member} declares shape {shape} of {dtype} "
                         f"({count * dtype.itemsize:,} bytes) but holds "
                         f"{len(data) - head.tell():,} bytes")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=head.tell())
    return flat.reshape(shape, order="F" if fortran else "C").copy()  # (its own, writable)


def save(obj: Any, f: str | os.PathLike[str]) -> None:
    """Write ``obj`` to ``path`` (``.npz``), atomically: the whole file is written and flushed
    to disk under a temporary name first. It then replaces ``path`` by a rename; a file with
    other hard links, or a writable file in a read-only folder, is overwritten in place from it
    instead (as ``torch.save`` does), with Ctrl-C held back until that copy is done. ``f``
    (PyTorch's name): a path, or a binary file object."""
    _save(obj, f)


def _save(obj: Any, path: str | os.PathLike[str], *, fresh_mode: bool = False,
          keep_links: bool = True) -> None:
    """:func:`save`; ``fresh_mode``: the new file gets a new file's permissions, not those of the
    file it replaces (the command line's first save over an earlier run it keeps elsewhere);
    ``keep_links=False``: always a rename, never an in-place overwrite -- a file with other hard
    links is replaced all the same (the command line's hard-linked backup of an earlier run must
    keep that), and a folder where no new file can be made is an error (the command line then
    saves the epoch elsewhere: a process killed during an overwrite would corrupt the only
    checkpoint)."""
    if not isinstance(path, (str, os.PathLike)):
        if callable(getattr(path, "write", None)):
            _save_to_file_object(obj, path)
            return
        raise TypeError(f"save: path must be a file path (str or os.PathLike) or a binary file "
                        f"object open for writing, got {type(path).__name__}")
    if not os.fspath(path):  # (Path("") is ".": the error named a folder nobody gave)
        raise FileNotFoundError(errno.ENOENT, "save: the path is empty; give a file path such "
                                "as checkpoint.npz", "")
    if "\0" in str(os.fspath(path)):
        raise ValueError(f"save: the path {os.fspath(path)!r} holds a NUL character, which no "
                         "file name can hold")
    if os.fspath(path).endswith(("/", os.sep)):  # (Path() would drop the slash; open refuses)
        raise IsADirectoryError(f"save: {os.fspath(path)} names a folder (it ends in a slash); "
                                "give a file path such as checkpoint.npz")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"save: {path} is a directory; give a file path such as "
                                f"{path / 'checkpoint.npz'}")
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    blocker = next((p for p in target.parents if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"save: {blocker} is a file, not a folder, so "
                                 f"{path} cannot be made under it; give a path in a folder",
                                 str(path))
    if not target.parent.is_dir():  # (as torch.save: a typo in a folder name is not a new folder)
        raise FileNotFoundError(errno.ENOENT, f"save: the folder {target.parent} does not exist; "
                                "create it first (os.makedirs)", str(path))
    # (a read-only file at the path is replaced where the caller keeps it elsewhere first:
    # fresh_mode, the command line's earlier run moved to NAME.previous.npz with its mode)
    _replaceable(path, target, read_only_ok=fresh_mode)
    entries = _entries(obj)
    atomic_write(path, lambda f: _savez(f, entries), fresh_mode=fresh_mode, keep_links=keep_links)


def _entries(obj: Any) -> dict[str, np.ndarray]:
    """The arrays of the .npz that holds ``obj``: its schema and its tensors' data."""
    arrays: dict[str, np.ndarray] = {}
    schema = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays, "obj")}
    return {_SCHEMA_KEY: np.array(json.dumps(schema)), **arrays}


def _save_to_file_object(obj: Any, f: Any) -> None:
    """``save(obj, io.BytesIO())`` or an open file, as ``torch.save`` takes one: the whole
    checkpoint is built in memory first and written with one ``write`` (nothing is written when
    ``obj`` cannot be saved); the file object stays open, positioned after it."""
    buffer = io.BytesIO()
    _savez(buffer, _entries(obj))
    rest = memoryview(buffer.getvalue())
    total = len(rest)
    while rest:  # (a raw stream may take part of it: the rest goes after, never dropped)
        try:
            n = f.write(rest)
        except TypeError as exc:
            raise TypeError(f"save: the file object ({type(f).__name__}) does not take bytes "
                            f"({exc}); open it in binary mode ('wb')") from None
        except ValueError as exc:  # (a closed file)
            raise ValueError(f"save: the file object ({type(f).__name__}) cannot be written: "
                             f"{exc}") from None
        if n is None or n <= 0:
            raise BlockingIOError(errno.EAGAIN, f"save: the file object ({type(f).__name__}) "
                                  f"took {total - len(rest):,} of the checkpoint's {total:,} "
                                  "bytes and then no more (a non-blocking stream?); the "
                                  "checkpoint in it is incomplete -- write to a blocking stream")
        rest = rest[n:] if isinstance(n, int) else rest[len(rest):]


def _replaceable(path: Path, target: Path, read_only_ok: bool = False) -> None:
    """Refuse to save over what a save would destroy: the new file replaces the old one by a
    rename, so a device (``/dev/null``), a FIFO or a socket there would become a regular file
    (was: ``save(obj, "/dev/null")`` replaced the device, run as root), and a read-only file
    would lose the protection its mode gave it (``torch.save`` fails there too)."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return
    except OSError as exc:  # (a symlink loop, a path through a file)
        raise OSError(exc.errno, f"save: {path} cannot be resolved ({exc.strerror or exc})",
                      str(path)) from None
    if (kind := special_kind(st)) is not None:
        raise OSError(errno.EEXIST, f"save: {path} is {kind}, not a file; a save replaces the "
                      "file at its path, so give the path of a checkpoint file", str(path))
    if not read_only_ok and not writable(target):
        raise PermissionError(errno.EACCES, f"save: {path} is read-only (mode "
                              f"{stat.S_IMODE(st.st_mode):o}); make it writable (chmod u+w) or "
                              "save to another path", str(path))


def _savez(f: Any, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez``; a Ctrl-C that lands while zipfile closes an entry makes its close raise
    "Can't close the ZIP file while there is an open writing handle" -- the interruption is
    raised instead, as it came."""
    try:
        np.savez(f, **arrays)
    except ValueError as exc:
        cause = exc.__context__
        if isinstance(cause, BaseException) and not isinstance(cause, Exception):
            raise cause from None  # KeyboardInterrupt, SystemExit
        raise


def load(f: str | os.PathLike[str], map_location: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None) -> Any:
    """Read a checkpoint written by :func:`save`. Tensors come back as CPU tensors, or on
    ``map_location`` (PyTorch's argument: ``"cpu"``, ``"cuda"``, a device, a dict ``{saved
    device: device}`` -- a checkpoint here keeps no device, so the one target, or that of
    ``"cpu"`` -- or a function ``(tensor, location) -> tensor``, called with location ``"cpu"``,
    None keeping the tensor: ``lambda storage, loc: storage``). ``weights_only`` is accepted for
    ported code and changes nothing: a checkpoint holds arrays and plain values only, and nothing
    in it is ever unpickled. ``mmap`` is accepted likewise and changes nothing: the file is read
    whole (an ``.npz`` is a zip archive, not memory-mappable tensors).

    Raises ``FileNotFoundError`` when there is no file, and :class:`CheckpointError` (naming the
    file and what is wrong) for anything that is not a checkpoint ``save`` wrote, however it was
    broken or crafted. ``f`` (PyTorch's name): a path, or a binary file object."""
    path = f
    reading = not isinstance(path, (str, os.PathLike)) and callable(getattr(path, "read", None))
    if not isinstance(path, (str, os.PathLike)) and not reading:
        raise TypeError(f"load: path must be a file path (str or os.PathLike) or a binary file "
                        f"object open for reading, got {type(path).__name__}")
    if not reading and "\0" in str(os.fspath(path)):
        raise ValueError(f"load: the path {os.fspath(path)!r} holds a NUL character, which no "
                         "file name can hold")
    if not reading and not os.fspath(path):  # (Path("") is ".": the error named a folder nobody gave)
        raise FileNotFoundError(errno.ENOENT, "load: the path is empty; give a checkpoint's "
                                "file path", "")
    if isinstance(map_location, dict):
        # PyTorch's {saved device: target}: a checkpoint here keeps no device, so the one target
        # of them all, else the target of 'cpu' (where this package's tensors load), else none
        targets = {str(v) for v in map_location.values()}
        map_location = (str(next(iter(map_location.values()))) if len(targets) == 1 else
                        map_location.get("cpu"))
    if map_location is not None and not isinstance(map_location, str) and \
            isinstance(getattr(map_location, "type", None), str):
        map_location = str(map_location)  # a torch.device (or ours): its name, 'cpu', 'cuda:0'
    if map_location is not None and not isinstance(map_location, str) and \
            not callable(map_location):
        raise TypeError(f"load: map_location must be a device name such as 'cpu' or 'cuda', a "
                        "torch.device, a dict {saved device: device} or a function (tensor, "
                        f"location) -> tensor, got {type(map_location).__name__}")
    if isinstance(map_location, str):
        from tinygrad_cnn.backend import normalize_device

        try:
            normalize_device(map_location)
        except ValueError:
            raise ValueError(f"load: map_location {map_location!r} is not a device; expected "
                             "'cpu', 'cuda' or 'cuda:N'") from None
    obj = _load_file_object(path) if reading else _load(Path(path))
    if callable(map_location):  # PyTorch's fn(storage, location): here per tensor, from 'cpu'
        return _mapped(obj, _as_storage_function(map_location))
    if map_location is None or map_location == "cpu":
        return obj
    return _mapped(obj, lambda t, _: t.to(map_location))


def _as_storage_function(user: Any) -> Any:
    """A user's ``map_location(t, location)`` as PyTorch's acts on storages: it gets the loaded
    values with no history and records nothing, and a Parameter or a tensor that requires grad
    comes back as one -- a leaf (``lambda s, l: s * 2`` made a loaded parameter a non-leaf whose
    ``.grad`` never filled)."""
    from tinygrad_cnn.autograd import no_grad
    from tinygrad_cnn.nn.module import Parameter

    def fn(t: Tensor, location: str) -> Any:
        with no_grad():
            out = user(t.detach(), location)
        if not isinstance(out, Tensor):
            return out  # (None keeps t; anything else is refused by _mapped)
        if isinstance(t, Parameter):
            return Parameter(out.detach(), requires_grad=t.requires_grad)
        return out.detach().requires_grad_(t.requires_grad) if t.requires_grad else out.detach()

    return fn


def _mapped(obj: Any, fn: Any) -> Any:
    """``obj`` with each tensor ``t`` replaced by ``fn(t, "cpu")`` (None keeps ``t``: PyTorch's
    rule for a map_location function)."""
    if isinstance(obj, Tensor):
        out = fn(obj, "cpu")
        if out is None:
            return obj
        if not isinstance(out, Tensor):
            raise TypeError(f"load: the map_location function returned {type(out).__name__}; "
                            "it must return a tensor (or None to keep the one it was given)")
        return out
    if isinstance(obj, dict):
        return type(obj)((k, _mapped(v, fn)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_mapped(v, fn) for v in obj)
    return obj


def _load(path: Path) -> Any:
    if not path.exists():
        if path.is_symlink():
            try:
                os.stat(path)
            except OSError as exc:
                if exc.errno == errno.ELOOP:  # (was: 'not found' for a link that loops)
                    raise CheckpointError(f"{path} cannot be read: it is a symlink loop "
                                          f"({exc.strerror})") from None
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"{path} is not a checkpoint: it is a directory or another kind of "
                              "file, not a regular file")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise CheckpointError(f"{path} cannot be read: {exc.strerror or exc}") from None
    return _read_checkpoint(path, path, head, path.stat().st_size)


def _load_file_object(f: Any) -> Any:
    """``load(io.BytesIO(...))`` or an open file, as ``torch.load`` takes one: the checkpoint
    that starts at its position (the first of several written one after another); a seekable
    file is left positioned just after it, as PyTorch's."""
    try:
        start = f.tell() if f.seekable() else None
    except (AttributeError, OSError, ValueError):
        start = None
    try:
        data = f.read()
    except OSError as exc:
        raise CheckpointError(f"the file object ({type(f).__name__}) cannot be read: "
                              f"{exc.strerror or exc}") from None
    except ValueError as exc:  # (a closed file)
        raise ValueError(f"load: the file object ({type(f).__name__}) cannot be read: "
                         f"{exc}") from None
    if not isinstance(data, bytes):
        raise TypeError(f"load: the file object ({type(f).__name__}) gave "
                        f"{type(data).__name__}, not bytes; open it in binary mode ('rb')")
    end = _first_archive_end(data)
    if start is not None and end < len(data):
        f.seek(start + end)
    return _read_checkpoint(io.BytesIO(data[:end]), f"the file object ({type(f).__name__})",
                            data[:4], end)


def _first_archive_end(data: bytes) -> int:
    """Where the zip archive that starts ``data`` ends: after the first end-of-central-directory
    record whose central directory lies just before it (the same bytes inside an array's data do
    not also point at a central directory there); the whole of ``data`` where none does."""
    pos = 0
    while (k := data.find(b"PK\x05\x06", pos)) >= 0:
        if k + 22 <= len(data):
            cd_size, cd_off, comment = struct.unpack("<IIH", data[k + 12:k + 22])
            if 0xFFFFFFFF not in (cd_size, cd_off):
                if cd_off + cd_size == k:
                    return min(len(data), k + 22 + comment)
            elif k >= 20 and data[k - 20:k - 16] == b"PK\x06\x07":  # (zip64: its record)
                z64 = struct.unpack("<Q", data[k - 12:k - 4])[0]
                if data[z64:z64 + 4] == b"PK\x06\x06":
                    size64, off64 = struct.unpack("<QQ", data[z64 + 40:z64 + 56])
                    if off64 + size64 == z64:
                        return min(len(data), k + 22 + comment)
        pos = k + 1
    return len(data)


def _read_checkpoint(source: Any, path: Any, head: bytes, size: int) -> Any:
    """Decode the checkpoint in ``source`` (a file path or a BytesIO) of ``size`` bytes, which
    starts with ``head``; ``path`` names it in errors."""
    if head[:2] != b"PK":
        raise CheckpointError(f"{path} is not a checkpoint: it is not an .npz file (an .npz is a "
                              f"zip archive, which starts with 'PK'; this file starts with {head!r})")
    try:
        with zipfile.ZipFile(source) as zf:
            # save() stores its arrays uncompressed: entries that would unpack to far more than
            # the file holds are a crafted file (a zip bomb), refused before anything is unpacked
            declared = sum(i.file_size for i in zf.infolist())
            if declared > 4 * size + (1 << 20):
                raise CheckpointError(f"{path} is not a valid checkpoint: its entries would unpack "
                                      f"to {declared:,} bytes from a file of {size:,} (save() "
                                      "does not compress; a crafted file?)")
            names = zf.namelist()
            if len(set(names)) != len(names):  # (zipfile reads the last of two alike)
                twice = sorted({n for n in names if names.count(n) > 1})
                raise CheckpointError(f"{path} is not a valid checkpoint: it holds the entry "
                                      f"{twice[0]} more than once (save() writes each once; a "
                                      "crafted file?)")
            members = {name[:-4] if name.endswith(".npy") else name: name for name in names}
            if _SCHEMA_KEY not in members:
                if any(n.endswith("data.pkl") for n in zf.namelist()):
                    raise CheckpointError(
                        f"{path} is a PyTorch file (written by torch.save), not a tinygrad_cnn "
                        "checkpoint; load it with torch.load, then give its state_dict to "
                        "load_state_dict (which takes PyTorch's tensors)")
                raise CheckpointError(f"{path} is an .npz file but not a tinygrad_cnn checkpoint "
                                      f"(it has no {_SCHEMA_KEY} entry)")
            text = _read_array(zf, members[_SCHEMA_KEY])
            if text.dtype.kind != "U" or text.ndim != 0:
                raise CheckpointError(f"{path} is not a valid checkpoint: its {_SCHEMA_KEY} entry "
                                      f"is a {text.dtype} array of shape {text.shape}, not a string")
            schema = json.loads(str(text))
            if not isinstance(schema, dict):
                raise CheckpointError(f"{path} is not a valid checkpoint: its schema is "
                                      f"{_describe(schema)}, not a JSON object")
            if schema.get("format") != FORMAT or schema.get("version") != VERSION:
                raise CheckpointError(f"{path}: unknown checkpoint format {schema.get('format')!r} "
                                      f"version {schema.get('version')!r} (this version of "
                                      f"tinygrad_cnn reads {FORMAT!r} version {VERSION})")
            if "root" not in schema:
                raise CheckpointError(f"{path} is not a valid checkpoint: its schema has no root")
            return _Reader(zf, members, path).decode(schema["root"])
    except CheckpointError:
        raise
    except RecursionError:
        raise CheckpointError(f"{path} is not a valid checkpoint: its schema is nested too deeply "
                              "to read") from None
    except ValueError as exc:
        if "pickle" in str(exc):
            raise CheckpointError(f"{path} holds pickled objects; tinygrad_cnn refuses to load "
                                  "them (loading a pickle can run arbitrary code)") from None
        raise CheckpointError(f"{path} is not a valid checkpoint: {exc}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, KeyError, IndexError,
            NotImplementedError, RuntimeError, OverflowError, struct.error, MemoryError) as exc:
        raise CheckpointError(f"{path} is not a valid checkpoint (truncated, corrupt or not an "
                              f".npz file): {type(exc).__name__}: {exc}") from None
    except Exception as exc:  # anything else a crafted file provokes (a malformed .npy header)
        raise CheckpointError(f"{path} is not a valid checkpoint: {type(exc).__name__}: "
                              f"{exc}") from None
