"""``torch.backends`` as ported set-up code uses it: the switches exist and can be set, and change
nothing -- there is no cuDNN, MKL-DNN or MPS here (the CPU runs numpy, a GPU CuPy), every CPU op
is deterministic for a given thread count, and float32 matmuls run at full float32 precision.

So a ``seed_everything`` written for PyTorch runs unchanged::

    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
"""

from __future__ import annotations

from typing import Any


class _Switches:
    """A namespace of settable flags (``cudnn.benchmark = True``), each without effect here."""

    def __init__(self, name: str, available: bool = False, **flags: Any) -> None:
        self.__dict__["_name"] = name
        self.__dict__["_available"] = available
        self.__dict__.update(flags)

    def is_available(self) -> bool:
        """False: tinygrad_cnn has no such backend."""
        return bool(self._available)

    def version(self) -> None:
        """None: the backend is not there."""
        return None

    def __setattr__(self, key: str, value: Any) -> None:
        if key not in self.__dict__:
            raise AttributeError(f"torch.backends.{self._name} has no switch {key!r} here (it "
                                 f"has {', '.join(k for k in self.__dict__ if k[0] != '_')})")
        self.__dict__[key] = value

    def __repr__(self) -> str:
        flags = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if k[0] != "_")
        return f"backends.{self._name}({flags}; no effect in tinygrad_cnn)"


cudnn = _Switches("cudnn", enabled=True, benchmark=False, deterministic=False, allow_tf32=True)
mkldnn = _Switches("mkldnn", enabled=True)
mps = _Switches("mps")
openmp = _Switches("openmp")


class _Matmul(_Switches):
    pass


class _CudaBackend:
    """``torch.backends.cuda``: ``matmul.allow_tf32`` and friends, settable, without effect."""

    def __init__(self) -> None:
        self.matmul = _Matmul("cuda.matmul", allow_tf32=False,
                              allow_fp16_reduced_precision_reduction=True,
                              allow_bf16_reduced_precision_reduction=True)

    def is_built(self) -> bool:
        return False


cuda = _CudaBackend()

__all__ = ["cuda", "cudnn", "mkldnn", "mps", "openmp"]
