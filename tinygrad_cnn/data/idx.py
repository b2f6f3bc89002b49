"""The IDX file format of MNIST: a big-endian header, then the array.

Header: two zero bytes, a type code, the number of dimensions, then each dimension as a big-endian
uint32. The data follows in row-major order, big-endian. ``.gz`` files are (de)compressed on the
fly. Every count is checked against the file's length, so a truncated or padded file is an error
that names the file, never a silently short array.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from tinygrad_cnn._files import atomic_write

# type code -> big-endian dtype
DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
CODES = {np.dtype(v).newbyteorder("="): k for k, v in DTYPES.items()}


class IDXError(ValueError):
    """A file is not valid IDX (bad magic, unknown type, or a length that does not match)."""


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """An array from the bytes of an (uncompressed) IDX file."""
    if len(raw) < 4:
        raise IDXError(f"{name}: {len(raw)} bytes is too short for an IDX header")
    zero, code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00":
        raise IDXError(f"{name}: not an IDX file (the magic number must start with two zero bytes, "
                       f"got {raw[:4].hex()})")
    if code not in DTYPES:
        raise IDXError(f"{name}: unknown IDX type code 0x{code:02x} (known: "
                       f"{', '.join(f'0x{c:02x}' for c in DTYPES)})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{name}: the header promises {ndim} dimensions but the file ends after "
                       f"{len(raw)} bytes")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(DTYPES[code])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        raise IDXError(f"{name}: the file is {what}: shape {shape} of {dtype.name} needs "
                       f"{expected} bytes, the file has {len(raw)}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(
        dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (``.gz`` is decompressed)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None
    except IsADirectoryError:
        raise IDXError(f"{path} is a directory, not an IDX file") from None
    if path.suffix == ".gz" or data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise IDXError(f"{path}: the gzip stream is corrupt or truncated "
                           f"({type(exc).__name__}: {exc})") from None
    return parse_idx(data, str(path))


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of an array."""
    array = np.asarray(array)
    code = CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise IDXError(f"IDX cannot store dtype {array.dtype} (supported: uint8, int8, int16, "
                       "int32, float32, float64)")
    if array.ndim > 255:
        raise IDXError("IDX stores at most 255 dimensions")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(DTYPES[code]).tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write an IDX file (gzip-compressed when the name ends in ``.gz``), atomically: a temporary
    file in the same folder is renamed over the target only once it is complete."""
    path = Path(path)
    data = idx_bytes(array)
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    atomic_write(path, lambda f: f.write(data))
