"""Sharing memory with numpy, PyTorch, CuPy and anything else that speaks DLPack.

``from_numpy(a)`` wraps a numpy array without copying, as ``torch.from_numpy`` does: writing into
``a`` changes the tensor and the other way round. ``from_dlpack(obj)`` wraps any object with
``__dlpack__`` (a PyTorch tensor, a numpy or CuPy array, another library's tensor) without copying,
and ``Tensor.__dlpack__``/``__dlpack_device__`` let those libraries wrap a tensor of ours the same
way (``torch.from_dlpack(t)``, ``np.from_dlpack(t)``, ``cupy.from_dlpack(t)``). Strided views
travel as they are (DLPack carries strides); only negative strides, which PyTorch cannot hold, are
copied on export unless ``copy=False`` asks for a ``BufferError`` instead. CUDA arrays go through
``cupy.from_dlpack``: written to the protocol, not tested on a GPU here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tinygrad_cnn.tensor import Tensor

# DLPack's device types (dlpack.h, DLDeviceType)
_KDL_CPU, _KDL_CUDA, _KDL_CUDA_HOST, _KDL_CUDA_MANAGED = 1, 2, 3, 13


def _wrap(arr: Any, where: str) -> Tensor:
    from tinygrad_cnn.tensor import Tensor

    if arr.dtype.kind not in "biuf" or arr.dtype.itemsize > 8 or (
            arr.dtype.kind == "u" and arr.dtype != np.uint8):
        raise TypeError(f"{where}: arrays of dtype {arr.dtype} are not supported; tinygrad_cnn "
                        "tensors hold floats (float16/32/64), integers (int8/16/32/64, uint8) and "
                        "bools; convert with .astype() (a checkpoint of another dtype could not "
                        "be read back)")
    if type(arr) is not np.ndarray and isinstance(arr, np.ndarray):
        # a subclass (np.matrix, a masked array, a memmap): its data as a plain array, still
        # shared -- its own operators (matrix products, masks) are not the tensor's
        arr = arr.view(np.ndarray)
    return Tensor._make(arr)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor that shares ``ndarray``'s memory (no copy): writing into either changes both.
    Float, integer and bool arrays in native byte order; strided views are fine."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}; use "
                        "tinygrad_cnn.tensor() to copy other data")
    if not ndarray.dtype.isnative:
        raise ValueError(f"from_numpy: the array's byte order ({ndarray.dtype}) is not this "
                         "machine's; convert it first with a.astype(a.dtype.newbyteorder('='))")
    # a view: the memory is shared, the array object (its shape, dtype, strides) is not
    return _wrap(ndarray.view(), "from_numpy")


def from_dlpack(ext_tensor: Any, *, copy: bool | None = None) -> Tensor:
    """A tensor that shares the memory of ``ext_tensor``, any object with ``__dlpack__`` (a PyTorch
    tensor, a numpy or CuPy array, ...); ``copy=True`` copies, ``copy=False`` refuses to.
    CPU data becomes a numpy-backed tensor, CUDA data a CuPy-backed one (``device="cuda"``).
    A DLPack capsule itself (the legacy protocol: ``torch.utils.dlpack.to_dlpack(t)``) is taken
    as CPU data, once (a capsule is used up when read)."""
    legacy = type(ext_tensor).__name__ == "PyCapsule"
    if legacy:
        ext_tensor = _Capsule(ext_tensor)
    if not hasattr(ext_tensor, "__dlpack__") or not hasattr(ext_tensor, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ and __dlpack_device__ "
                        f"(a PyTorch tensor, a numpy or CuPy array, ...), got "
                        f"{type(ext_tensor).__name__}")
    device_type = int(ext_tensor.__dlpack_device__()[0])
    if device_type in (_KDL_CPU, _KDL_CUDA_HOST):
        module = np
    elif device_type in (_KDL_CUDA, _KDL_CUDA_MANAGED):
        try:
            module = importlib.import_module("cupy")
        except ImportError:
            raise RuntimeError("from_dlpack: the data is on a CUDA device; that needs CuPy "
                               "(pip install cupy-cuda12x)") from None
    else:
        raise RuntimeError(f"from_dlpack: DLPack device type {device_type} is not supported (CPU "
                           "and CUDA are)")
    try:
        arr = module.from_dlpack(ext_tensor, copy=copy)
    except TypeError:  # a CuPy older than the copy keyword
        if copy is not None:
            raise
        arr = module.from_dlpack(ext_tensor)
    except ValueError:
        if legacy:  # numpy: "PyCapsule_GetPointer called with incorrect name"
            raise ValueError("from_dlpack: this DLPack capsule was read already (a capsule is "
                             "used up once read); make a new one, or pass the tensor itself"
                             ) from None
        raise
    except RuntimeError as exc:  # numpy: "Unsupported dtype in DLTensor." (bfloat16, ...)
        if legacy and "device" in str(exc).lower():
            raise RuntimeError("from_dlpack: a DLPack capsule is taken as CPU data, and this one "
                               "is not; pass the tensor itself (it says where its data is)"
                               ) from None
        dtype = getattr(ext_tensor, "dtype", None)  # (a capsule has none to name)
        what = (f"its dtype, {dtype}, is not one of ours" if dtype is not None else
                str(exc).rstrip("."))
        raise TypeError(f"from_dlpack: {what}; tinygrad_cnn tensors hold float16/32/64, "
                        "integers and bools (convert it first, e.g. .float())") from None
    if legacy and not arr.flags.writeable:  # (numpy marks a legacy capsule's array read-only;
        arr = np.asarray(_Writable(arr))       # the protocol has no such flag: PyTorch writes)
    return _wrap(arr, "from_dlpack")


class _Writable:
    """A writable view of ``arr``'s memory through the array interface (it keeps ``arr``, and
    so the capsule's memory, alive)."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr = arr
        self.__array_interface__ = {**arr.__array_interface__,
                                    "data": (arr.__array_interface__["data"][0], False)}


class _Capsule:
    """A legacy DLPack capsule behind the protocol's two methods (its device: the CPU)."""

    def __init__(self, capsule: Any) -> None:
        self.capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self.capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return (_KDL_CPU, 0)


def to_dlpack(t: Tensor, stream: Any = None, max_version: tuple[int, int] | None = None,
              dl_device: Any = None, copy: bool | None = None) -> Any:
    """``Tensor.__dlpack__``: the tensor's array exported as a DLPack capsule (no copy)."""
    if t.requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    arr = t._data
    kwargs: dict[str, Any] = {"stream": stream}
    if max_version is not None:
        kwargs["max_version"] = max_version
    if dl_device is not None:
        kwargs["dl_device"] = dl_device
    if copy is not None:
        kwargs["copy"] = copy
    if any(s < 0 for s in arr.strides):  # a [::-1] view: PyTorch aborts on negative strides
        if copy is False:
            raise BufferError(f"__dlpack__: this view has negative strides {arr.strides}, which "
                              "PyTorch cannot hold; export t.contiguous(), or allow a copy")
        kwargs["copy"] = True  # the producer copies and flags the capsule as a copy
    return arr.__dlpack__(**kwargs)
