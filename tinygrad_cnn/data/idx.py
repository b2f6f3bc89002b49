"""The IDX file format of MNIST: a big-endian header, then the array.

Header: two zero bytes, a type code, the number of dimensions, then each dimension as a big-endian
uint32. The data follows in row-major order, big-endian. ``.gz`` files are (de)compressed on the
fly. Every count is checked against the file's length, so a truncated or padded file is an error
that names the file, never a silently short array.
"""

from __future__ import annotations

import gzip
import math
import os
import stat
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


MAX_DIMS = 32  #: dimensions an IDX file may have here (the format allows 255)

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
    if ndim > MAX_DIMS:  # (numpy holds 64 dims; MNIST has 1 or 3: a crafted or broken header)
        raise IDXError(f"{name}: the header declares {ndim} dimensions, more than the "
                       f"{MAX_DIMS} read_idx reads (images or labels have 1 to 3): a broken or "
                       "crafted file")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{name}: the header promises {ndim} dimensions but the file ends after "
                       f"{len(raw)} bytes")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = np.dtype(DTYPES[code])
    expected = header + math.prod(shape) * dtype.itemsize  # (a Python int: no overflow)
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
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):  # (was: /dev/zero read until MemoryError, a FIFO hung)
            raise IDXError(f"{path} is not a regular file (a device, FIFO or socket); give the "
                           "path of an IDX file")
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None
    except PermissionError:
        raise PermissionError(f"cannot read the IDX file {path}: permission "
                              f"denied; make it readable (chmod a+r {path}) or read a copy") from None
    except IsADirectoryError:
        raise IDXError(f"{path} is a directory, not an IDX file") from None
    if data[:2] == b"\x1f\x8b":  # (by its magic: a .gz a browser already unpacked is raw IDX)
        data = _gunzip(data, str(path))
    return parse_idx(data, str(path))


def _declared_size(head: bytes) -> int | None:
    """The size an IDX file's header declares (a Python int: no overflow), or None where
    ``head`` is no IDX header."""
    if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] not in DTYPES:
        return None
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        return None
    size = np.dtype(DTYPES[head[2]]).itemsize
    for n in struct.unpack(f">{ndim}I", head[4:4 + 4 * ndim]):
        size *= n
    return 4 + 4 * ndim + size


def _gunzip(data: bytes, name: str) -> bytes:
    """``data`` gunzipped -- every member, as ``gzip -d`` reads ``cat a.gz b.gz`` -- but never
    more than its IDX header declares plus one byte: a small file that inflates to gigabytes (a
    header saying 10 bytes, then zeros) is an IDXError, not a MemoryError after filling the
    memory."""
    out = bytearray()
    limit: int | None = None
    rest = data
    try:
        while rest:
            d = zlib.decompressobj(wbits=31)  # (one member; its CRC and length are checked)
            pending = rest
            while pending and not d.eof:
                room = (4 + 4 * 255 - len(out)) if limit is None else (limit + 1 - len(out))
                out += d.decompress(pending, max(room, 1))
                pending = d.unconsumed_tail
                if limit is None and len(out) >= 4:
                    limit = _declared_size(bytes(out[:4 + 4 * 255]))
                    if limit is None and len(out) >= 4 + 4 * 255:
                        return bytes(out)  # no IDX header: parse_idx names what is wrong
                if limit is not None and len(out) > limit:
                    raise IDXError(f"{name}: the file is longer than its header says "
                                   f"({limit} bytes unpacked): its gzip data is corrupt, or it "
                                   "holds more than one IDX file")
            if not d.eof:
                raise EOFError("the compressed stream ends before its end-of-stream marker")
            rest = d.unused_data
            if not rest.strip(b"\0"):  # (trailing zeros after the last member: gzip's padding)
                break
    except (EOFError, zlib.error) as exc:
        raise IDXError(f"{name}: the gzip stream is corrupt or truncated "
                       f"({type(exc).__name__}: {exc})") from None
    return bytes(out)


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of an array."""
    array = np.asarray(array)
    code = CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise IDXError(f"IDX cannot store dtype {array.dtype} (supported: uint8, int8, int16, "
                       "int32, float32, float64)")
    if array.ndim > MAX_DIMS:  # (the format's byte holds 255; read_idx reads this many)
        raise IDXError(f"write_idx: an array of {array.ndim} dimensions; read_idx reads at most "
                       f"{MAX_DIMS} (was: written, then refused on reading)")
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
