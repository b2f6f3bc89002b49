"""``save(obj, path)`` / ``load(path)``: checkpoints as ``.npz`` files that never hold pickles.

What can be saved: nested dicts (string keys), lists and tuples of tensors, numpy arrays, numbers,
strings, booleans and ``None`` -- a model's ``state_dict()``, an optimizer's, an epoch counter.
Arrays go into the archive as ``a0``, ``a1``, ...; the nesting and the small values go into one JSON
entry. Loading uses ``numpy.load(allow_pickle=False)``, so a file that holds pickled objects is
refused instead of run.

A save writes a temporary file in the target's folder, flushes it to disk and renames it over the
target: an interrupted save (Ctrl-C, a crash, a full disk) leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_cnn._files import atomic_write
from tinygrad_cnn.backend import to_numpy
from tinygrad_cnn.tensor import Tensor

FORMAT = "tinygrad_cnn-checkpoint"
VERSION = 1
_SCHEMA_KEY = "__tinygrad_cnn__"


class CheckpointError(ValueError):
    """A file is not a readable tinygrad_cnn checkpoint."""


def _encode(obj: Any, arrays: dict[str, np.ndarray], where: str) -> Any:
    if isinstance(obj, Tensor):
        key = f"a{len(arrays)}"
        arrays[key] = to_numpy(obj.data)
        return {"tensor": key}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biufU":
            raise TypeError(f"save: {where} is an array of dtype {obj.dtype}, which cannot be "
                            "stored without pickle")
        key = f"a{len(arrays)}"
        arrays[key] = obj
        return {"array": key}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return {"float": repr(obj)}  # repr round-trips exactly, and covers inf and nan
    if isinstance(obj, dict):
        for k in obj:
            if not isinstance(k, (str, int)):
                raise TypeError(f"save: {where} has a key {k!r}; keys must be str or int")
        return {"dict": [[k, _encode(v, arrays, f"{where}[{k!r}]")] for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {kind: [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    raise TypeError(f"save: {where} is a {type(obj).__name__}; checkpoints hold tensors, arrays, "
                    "numbers, strings, None and dicts/lists/tuples of them")


def _decode(node: Any, archive: Any) -> Any:
    if not isinstance(node, dict):
        return node
    (kind, value), = node.items()
    if kind == "tensor":
        return Tensor(archive[value])
    if kind == "array":
        return archive[value]
    if kind == "float":
        return float(value)
    if kind == "dict":
        return {k: _decode(v, archive) for k, v in value}
    if kind == "list":
        return [_decode(v, archive) for v in value]
    if kind == "tuple":
        return tuple(_decode(v, archive) for v in value)
    raise CheckpointError(f"unknown entry kind {kind!r}")


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` to ``path`` (``.npz``), atomically."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    schema = {"format": FORMAT, "version": VERSION, "root": _encode(obj, arrays, "obj")}
    atomic_write(path, lambda f: np.savez(f, **{_SCHEMA_KEY: np.array(json.dumps(schema))},
                                          **arrays))


def load(path: str | os.PathLike[str]) -> Any:
    """Read a checkpoint written by :func:`save`. Tensors come back as CPU tensors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _SCHEMA_KEY not in archive.files:
                raise CheckpointError(f"{path} is an .npz file but not a tinygrad_cnn checkpoint "
                                      f"(it has no {_SCHEMA_KEY} entry)")
            schema = json.loads(str(archive[_SCHEMA_KEY]))
            if schema.get("format") != FORMAT or schema.get("version") != VERSION:
                raise CheckpointError(f"{path}: unknown checkpoint format {schema.get('format')!r} "
                                      f"version {schema.get('version')!r}")
            return _decode(schema["root"], {k: archive[k] for k in archive.files
                                             if k != _SCHEMA_KEY})
    except CheckpointError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc):
            raise CheckpointError(f"{path} holds pickled objects; tinygrad_cnn refuses to load "
                                  "them (loading a pickle can run arbitrary code)") from None
        raise CheckpointError(f"{path} is not a valid checkpoint: {exc}") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path} is not a valid checkpoint (truncated, corrupt or not an "
                              f".npz file): {type(exc).__name__}: {exc}") from None
