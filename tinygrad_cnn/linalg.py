"""``tinygrad_cnn.linalg``: ``inv`` and ``det`` (ops in ``ops/linalg.py``), and the norms of
PyTorch's ``torch.linalg`` -- ``vector_norm``,
``matrix_norm`` and ``norm`` -- with its arguments, defaults and errors, composed of the reduction
ops (``norm``, ``sum``, ``amax``/``amin``), so their gradients are those ops' (0 at the zero
vector; ties of a max share the gradient equally, as PyTorch's). The matrix norms of singular
values (``"nuc"``, 2, -2) are sums and extremes of ``svdvals``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.tensor import DTypeLike, Tensor, _dtype

__all__ = ["cross", "det", "inv", "matrix_norm", "matrix_power", "norm", "svd", "svdvals", "vector_norm"]


def _checked(x: Any, where: str, dtype: DTypeLike) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{where}(): argument 'input' must be a Tensor, not "
                        f"{type(x).__name__}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"linalg.{where}: Expected a floating point tensor as input. Got "
                           f"{x.dtype} (as PyTorch); convert it with .float()")
    if dtype is not None:
        dt = _dtype(dtype)
        if dt.kind != "f" or np.promote_types(x.dtype, dt) != dt:
            raise RuntimeError(f"linalg.{where}: the dtype of the input ({x.dtype}) should be "
                               f"convertible without narrowing to the specified dtype ({dt})")
        x = x.to(dt)
    return x


def _the_tensor(op: str, input: Any, x: Any) -> Any:
    """The tensor a norm was given, as ``input`` (positional or keyword) or ``x=`` -- PyTorch
    2.13's runtime takes both keywords on the three norms (t185, t189)."""
    if (input is None) == (x is None):
        raise TypeError(f"linalg.{op}: give the tensor once, as input (or x=)" if x is None
                        else f"linalg.{op}: got both input and x; give the tensor once")
    return x if input is None else input


def vector_norm(input: Tensor | None = None, ord: float = 2,
                dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
                dtype: DTypeLike = None, x: Tensor | None = None) -> Tensor:
    """``(Σ |x|^ord)^(1/ord)`` over ``dim`` (None: every element); ``ord`` a number: ``inf``
    (max |x|), ``-inf`` (min |x|), 0 (the count of non-zeros) too. The tensor is ``input`` or,
    by keyword, ``x`` (PyTorch takes both)."""
    x = _the_tensor("vector_norm", input, x)
    if isinstance(ord, (str, bool)) or not isinstance(ord, (int, float, np.integer, np.floating)):
        raise TypeError(f"linalg.vector_norm(): argument 'ord' must be a number, not "
                        f"{type(ord).__name__} (\"fro\" and \"nuc\" are matrix norms: "
                        "linalg.matrix_norm)")
    x = _checked(x, "vector_norm", dtype)
    return x.norm(p=float(ord), dim=dim, keepdim=keepdim)


def matrix_norm(input: Tensor | None = None, ord: float | str = "fro",
                dim: tuple[int, int] = (-2, -1), keepdim: bool = False, *,
                dtype: DTypeLike = None, x: Tensor | None = None) -> Tensor:
    """The matrix norm over the two dims ``dim``: ``"fro"`` (the 2-norm of the entries), 1 / -1
    (the largest / smallest column sum of ``|A|``), ``inf`` / ``-inf`` (the same of the row
    sums), ``"nuc"`` (the sum of the singular values), 2 / -2 (the largest / smallest one)."""
    A = _checked(_the_tensor("matrix_norm", input, x), "matrix_norm", dtype)
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions (got shape {A.shape})")
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple of ints, got {dim!r}")
    d0, d1 = (d % A.ndim if isinstance(d, int) and -A.ndim <= d < A.ndim else None for d in dim)
    if d0 is None or d1 is None or d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different dims of the input "
                           f"(shape {A.shape}), got {dim!r}")
    if ord == "fro":
        return A.norm(p=2.0, dim=(d0, d1), keepdim=keepdim)
    if ord in ("nuc", 2, -2):  # from the singular values, the two dims moved last
        if A.shape[d0] == 0 or A.shape[d1] == 0:  # (no entries: PyTorch's 0)
            return A.abs().sum((d0, d1), keepdim=keepdim)
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        for d in sorted((d0, d1)) if keepdim else ():
            out = out.unsqueeze(d)
        return out
    if isinstance(ord, str) or ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported (PyTorch's orders: "
                           "'fro', 'nuc', inf, -inf, 1, -1, 2, -2)")
    # the column sums (over d0) for 1 / -1, the row sums (over d1) for inf / -inf
    summed, extreme = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(summed, keepdim=True)
    if sums.shape[extreme] == 0:  # no columns (rows) at all: PyTorch's 0
        out = sums.sum(extreme, keepdim=True) * 0
    else:
        out = sums.amax(extreme, keepdim=True) if ord > 0 else sums.amin(extreme, keepdim=True)
    return out if keepdim else out.squeeze(max(d0, d1)).squeeze(min(d0, d1))


def norm(input: Tensor | None = None, ord: float | str | None = None,
         dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: DTypeLike = None, x: Tensor | None = None) -> Tensor:
    """``vector_norm`` over one dim (or, with ``ord`` None, over all), ``matrix_norm`` over two --
    PyTorch's ``linalg.norm``: without ``dim``, ``ord`` needs a 1-D or 2-D input (``input``, or
    by keyword ``x``)."""
    A = _the_tensor("norm", input, x)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None:
        if ord is None:
            return vector_norm(A, 2, None, keepdim, dtype=dtype)
        if not isinstance(A, Tensor) or A.ndim not in (1, 2):
            got = f"{A.ndim}D" if isinstance(A, Tensor) else type(A).__name__
            raise RuntimeError("linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {got}.")
        dim = tuple(range(A.ndim))
    dim = tuple(dim)
    if len(dim) == 1:
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.norm: ord={ord!r} is a matrix norm, it needs two dims (got "
                               f"dim={dim}); give a number for a vector norm")
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dim}")


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (default the last), the inputs broadcast."""
    from tinygrad_cnn.ops.linalg import cross as _cross

    for t in (input, other):
        if isinstance(t, Tensor) and t.ndim == 0:  # (was: IndexError: tuple index out of range)
            raise IndexError(f"linalg.cross: Dimension specified as {dim} but tensor has no "
                             "dimensions; cross takes 3-vectors, shape (..., 3)")
    return _cross(input, other, dim)


def svdvals(A: Tensor) -> Tensor:
    """The singular values of each matrix of a batch ``(..., m, n)``, largest first (PyTorch's
    ``linalg.svdvals``). VJP ``U diag(g) Vᵀ``, differentiable again."""
    from tinygrad_cnn.ops.linalg import svdvals as _svdvals

    return _svdvals(A)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """``A @ A @ ...`` (``n`` times) of each square matrix of a batch: the identity for n = 0, the
    inverse's power for n < 0 (PyTorch's ``linalg.matrix_power``)."""
    if not isinstance(A, Tensor):
        raise TypeError(f"linalg.matrix_power(): argument 'A' must be a Tensor, not "
                        f"{type(A).__name__}")
    return A.matrix_power(n)


def svd(A: Tensor, full_matrices: bool = True) -> tuple[Tensor, Tensor, Tensor]:
    """``(U, S, Vh)`` with ``A = U diag(S) Vh`` for each matrix of a batch (PyTorch's
    ``linalg.svd``; ``full_matrices=False``: the reduced SVD). The signs of the singular vectors
    are arbitrary: differentiate functions that do not depend on them."""
    from tinygrad_cnn.ops.linalg import svd as _svd

    return _svd(A, full_matrices)


def inv(A: Tensor) -> Tensor:
    """The inverse of each square matrix of a batch; a singular one is an error (as PyTorch's).
    VJP ``-A⁻ᵀ G A⁻ᵀ``."""
    from tinygrad_cnn.ops.linalg import inv as _inv

    return _inv(A)


def det(A: Tensor) -> Tensor:
    """The determinant of each square matrix of a batch. VJP ``g det(A) A⁻ᵀ``; at a singular
    matrix the adjugate (first derivatives only there)."""
    from tinygrad_cnn.ops.linalg import det as _det

    return _det(A)


def __getattr__(name: str) -> Any:
    from tinygrad_cnn._missing import no_attribute

    raise no_attribute(__name__, name)
