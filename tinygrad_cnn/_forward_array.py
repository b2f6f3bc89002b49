"""The arrays a user's ``Function.forward`` receives: numpy arrays (this engine's protocol: forward
computes on arrays, backward on Tensors), of a subclass that refuses the few methods whose numpy
meaning differs silently from PyTorch's Tensor method of the same name -- so a forward ported from
PyTorch fails with a message instead of computing something else:

* ``x.std()`` / ``x.var()`` -- numpy divides by n, PyTorch by n - 1: pass ``ddof=`` explicitly;
* ``x.repeat(2)`` -- numpy repeats each element (PyTorch's ``repeat_interleave``), PyTorch tiles
  (``np.tile``): pass ``axis=``, or call ``np.tile``;
* ``x.max(1)`` / ``x.min(1)`` -- numpy gives the values, PyTorch (values, indices): pass
  ``axis=``;
* ``x.sort()`` -- numpy sorts the array in place (the input tensor's memory!) and returns None,
  PyTorch returns (values, indices): use ``np.sort(x, axis=...)``;
* ``x.transpose(0, 1)`` of a matrix -- numpy's is the identity permutation, PyTorch's swaps the
  two dims (two dims of any other array: numpy's error): use ``np.swapaxes(x, a, b)``
  (``x.transpose(1, 0)`` means the same in both and stays);
* ``x.sum(dim, True)`` / ``x.mean(dim, True)`` -- numpy's second argument is the dtype, PyTorch's
  keepdim: pass ``keepdims=True``;
* ``x.flatten(1)`` -- numpy's argument is the memory order, and it flattens everything: reshape.

A Tensor method numpy lacks (``clamp``, ``unsqueeze``, ``permute``, ...) is an AttributeError that
names the rule and numpy's spelling. numpy's own functions (``np.std(x)``, ``np.sort(x)``,
``np.repeat(x, 2)``) pass their arguments by keyword and work as usual. What forward returns and
saves goes back to plain arrays."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

#: PyTorch Tensor methods numpy arrays lack, with numpy's spelling
_NUMPY_SPELLING = {
    "clamp": "np.clip(x, lo, hi)", "clamp_min": "np.maximum(x, lo)",
    "clamp_max": "np.minimum(x, hi)", "unsqueeze": "np.expand_dims(x, dim)",
    "permute": "x.transpose(dims)", "view": "x.reshape(shape)", "size": "x.shape",
    "dim": "x.ndim", "numel": "x.size", "exp": "np.exp(x)", "log": "np.log(x)",
    "sigmoid": "1 / (1 + np.exp(-x))", "tanh": "np.tanh(x)", "relu": "np.maximum(x, 0)",
    "sqrt": "np.sqrt(x)", "abs": "np.abs(x)", "pow": "x ** p", "softmax": "an exp over a sum",
    "contiguous": "np.ascontiguousarray(x)", "float": "x.astype(np.float32)",
    "double": "x.astype(np.float64)", "long": "x.astype(np.int64)", "detach": "x itself",
    "clone": "x.copy()", "numpy": "x itself", "item": "x.item()", "t": "x.T", "mm": "x @ y",
    "matmul": "x @ y", "masked_fill": "np.where(mask, value, x)", "expand": "np.broadcast_to",
    "gather": "np.take_along_axis", "index_select": "np.take(x, idx, axis=dim)",
    "new_zeros": "np.zeros_like / np.zeros", "new_ones": "np.ones", "zero_": "x[...] = 0",
    "type_as": "x.astype(other.dtype)", "sign": "np.sign(x)", "norm": "np.linalg.norm",
    "logsumexp": "a max-shifted log of a sum of exp", "repeat_interleave": "np.repeat",
    "flip": "np.flip(x, dims)", "roll": "np.roll", "narrow": "slicing",
    "chunk": "np.array_split", "split": "np.split", "cumsum": "np.cumsum(x, axis=dim)",
    "view_as": "x.reshape(other.shape)", "reshape_as": "x.reshape(other.shape)",
    "transpose_": "np.swapaxes(x, a, b)", "swapdims": "np.swapaxes(x, a, b)",
}

_UNSET: Any = object()


def _refuse(method: str, why: str, fix: str) -> TypeError:
    return TypeError(f"x.{method}(...) in a Function's forward: forward receives numpy arrays "
                     f"here, not Tensors, and {why}; {fix}")


class ForwardArray(np.ndarray):
    """A numpy array as a user's ``Function.forward`` receives it (see the module docstring).

    An input's array (and every view of it) carries its tensor's version counter: a write into
    it -- ``x *= 2``, ``x[:] = v``, ``x.fill(0)``, ``out=x``, ``np.copyto(x, v)`` -- counts as an
    in-place change of that tensor, as in PyTorch, so an op that saved the tensor before is
    caught in backward instead of reading the new values (``mark_dirty`` says the same of an
    input the forward returns)."""

    _counter: list[int] | None = None  # the input tensor's version counter (its views' too)

    def __array_finalize__(self, obj: Any) -> None:
        counter = getattr(obj, "_counter", None)
        if counter is not None and self.base is not None:  # a view (a new array has no base)
            self._counter = counter

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        _written(self)

    def fill(self, value: Any) -> None:
        super().fill(value)
        _written(self)

    def partition(self, *args: Any, **kwargs: Any) -> None:
        super().partition(*args, **kwargs)  # (in place, as sort is: numpy's, not PyTorch's)
        _written(self)

    def resize(self, *args: Any, **kwargs: Any) -> None:
        super().resize(*args, **kwargs)
        _written(self)

    @property
    def flat(self) -> Any:
        """numpy's flat iterator; a write through it (``x.flat[0] = 5``, ``x.flat = v``) counts
        as one."""
        return _Flat(self) if self._counter is not None else np.ndarray.flat.__get__(self)

    @flat.setter
    def flat(self, value: Any) -> None:
        np.ndarray.flat.__set__(self, value)
        _written(self)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        outs = kwargs.get("out")
        if outs is not None:
            kwargs["out"] = tuple(plain(o) for o in outs)
        result = getattr(ufunc, method)(*(plain(a) for a in inputs), **kwargs)
        if method == "at":  # (np.add.at(x, idx, v) writes into its first operand)
            _written(inputs[0])
            return None
        if outs is not None:
            for o in outs:
                _written(o)
            return outs[0] if len(outs) == 1 else outs
        return tuple(wrap(r) for r in result) if type(result) is tuple else wrap(result)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        result = super().__array_function__(func, types, args, kwargs)
        if result is NotImplemented:
            return result
        if func in _WRITERS and args:
            _written(args[0])
        out = kwargs.get("out")
        if out is not None:
            for o in out if type(out) is tuple else (out,):
                _written(o)
        return result

    def std(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) < 4 and "ddof" not in kwargs:
            raise _refuse("std", "numpy's std divides by n where PyTorch's divides by n - 1",
                          "pass ddof= (ddof=1 for PyTorch's default)")
        return super().std(*args, **kwargs)

    def var(self, *args: Any, **kwargs: Any) -> Any:
        if len(args) < 4 and "ddof" not in kwargs:
            raise _refuse("var", "numpy's var divides by n where PyTorch's divides by n - 1",
                          "pass ddof= (ddof=1 for PyTorch's default)")
        return super().var(*args, **kwargs)

    def repeat(self, repeats: Any, *args: Any, axis: Any = _UNSET) -> Any:
        # (a second argument by position too: x.repeat(2, 1) is numpy's axis 1 and PyTorch's
        # tiling by (2, 1) -- an outside tester's silent case)
        if axis is _UNSET:
            raise _refuse("repeat", "numpy's repeat repeats each element (PyTorch's "
                          "repeat_interleave) where PyTorch's tiles the whole tensor",
                          "call np.tile(x, reps) for PyTorch's repeat, or pass axis= (by "
                          "keyword) for numpy's")
        return super().repeat(repeats, *args, axis=axis)

    def max(self, *args: Any, **kwargs: Any) -> Any:
        if (args and args != (None,)) or "dim" in kwargs:
            raise _refuse("max", "numpy's x.max(dim) gives the values where PyTorch's gives "
                          "(values, indices)", "write x.max(axis=dim) and x.argmax(axis=dim)")
        return super().max(*args, **kwargs)

    def min(self, *args: Any, **kwargs: Any) -> Any:
        if (args and args != (None,)) or "dim" in kwargs:
            raise _refuse("min", "numpy's x.min(dim) gives the values where PyTorch's gives "
                          "(values, indices)", "write x.min(axis=dim) and x.argmin(axis=dim)")
        return super().min(*args, **kwargs)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        # (an array that owns its memory -- a copy, numpy's own inside np.unique -- may sort
        # itself; a view may be the input tensor's memory)
        if not kwargs and self.base is not None:
            raise _refuse("sort", "numpy's sort sorts the array in place (here: the input "
                          "tensor's memory) and returns None, where PyTorch's returns "
                          "(values, indices)", "use np.sort(x, axis=dim) and "
                          "np.argsort(x, axis=dim)")
        super().sort(*args, **kwargs)

    def put(self, *args: Any, **kwargs: Any) -> None:
        if self.base is not None:
            raise _refuse("put", "numpy's put writes into the array in place (here: the input "
                          "tensor's memory) and returns None, where PyTorch's returns a new "
                          "tensor", "write y = x.copy(); y.put(index, values)")
        super().put(*args, **kwargs)

    def transpose(self, *axes: Any) -> Any:
        dims = _two_ints(axes)
        n = self.ndim
        if dims is not None and -n <= min(dims) and max(dims) < n:  # (else numpy's own error)
            # numpy permutes all the axes, PyTorch swaps two: the same only for (1, 0) of a matrix
            if not (n == 2 and (dims[0] % n, dims[1] % n) == (1, 0)):
                raise _refuse("transpose", f"numpy's x.transpose({axes[0]}, {axes[1]}) permutes "
                              f"all {n} axes where PyTorch's swaps two dims",
                              f"write np.swapaxes(x, {axes[0]}, {axes[1]}) for PyTorch's "
                              "transpose (x.T for a matrix)")
        return super().transpose(*axes)

    def sum(self, *args: Any, **kwargs: Any) -> Any:
        _no_positional_keepdim("sum", args)
        return super().sum(*args, **kwargs)

    def mean(self, *args: Any, **kwargs: Any) -> Any:
        _no_positional_keepdim("mean", args)
        return super().mean(*args, **kwargs)

    def flatten(self, *args: Any, **kwargs: Any) -> Any:
        if (args and not isinstance(args[0], str)) or "start_dim" in kwargs \
                or "end_dim" in kwargs:
            raise _refuse("flatten", "numpy's flatten(order) flattens every dim, where PyTorch's "
                          "flatten(start_dim) keeps the dims before start_dim",
                          "write x.reshape(x.shape[:start_dim] + (-1,))")
        return super().flatten(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        spelling = _NUMPY_SPELLING.get(name)
        if spelling is None or name.startswith("__"):
            raise AttributeError(f"'numpy.ndarray' object has no attribute {name!r}")
        raise AttributeError(f"'numpy.ndarray' object has no attribute {name!r}: a Function's "
                             f"forward receives numpy arrays here, not Tensors (backward gets "
                             f"Tensors); numpy's spelling: {spelling}")


def _two_ints(axes: tuple[Any, ...]) -> tuple[int, int] | None:
    """Two dims, as ``operator.index`` reads them (Python ints, numpy integers, 0-d integer
    arrays), or None."""
    if len(axes) != 2 or any(isinstance(a, (bool, np.bool_)) for a in axes):
        return None
    try:
        return operator.index(axes[0]), operator.index(axes[1])
    except TypeError:
        return None


def _no_positional_keepdim(method: str, args: tuple[Any, ...]) -> None:
    """``x.sum(dim, True)``: PyTorch's keepdim where numpy takes a dtype."""
    if len(args) > 1 and isinstance(args[1], (bool, np.bool_)):
        raise _refuse(method, f"numpy's second argument of {method} is the dtype, PyTorch's "
                      "keepdim", f"write x.{method}(axis=dim, keepdims={args[1]})")


class _Flat:
    """``x.flat`` of an input's array: numpy's flatiter, whose writes count as writes into ``x``
    (a flatiter cannot be subclassed)."""

    def __init__(self, a: ForwardArray) -> None:
        self._a, self._it = a, np.ndarray.flat.__get__(a)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._it[key] = value
        _written(self._a)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._it, name)

    def __getitem__(self, key: Any) -> Any:
        return self._it[key]

    def __iter__(self) -> Any:
        return iter(self._it)

    def __len__(self) -> int:
        return len(self._it)

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        return self._it.__array__(*args, **kwargs)


#: numpy functions that write into their first argument
_WRITERS = frozenset((np.copyto, np.place, np.putmask, np.put, np.put_along_axis,
                      np.fill_diagonal))


def _written(a: Any) -> None:
    """A write into ``a``: the version of the input tensor it belongs to goes up."""
    counter = getattr(a, "_counter", None) if isinstance(a, ForwardArray) else None
    if counter is not None:
        counter[0] += 1


def wrap(a: Any, counter: list[int] | None = None) -> Any:
    """``a`` as a :class:`ForwardArray` view where it is a plain numpy array (``counter``: the
    version counter of the tensor it is the data of)."""
    if type(a) is not np.ndarray:
        return a
    view = a.view(ForwardArray)
    if counter is not None:
        view._counter = counter
    return view


def plain(a: Any) -> Any:
    """``a`` as a plain numpy array where it is a :class:`ForwardArray`."""
    return a.view(np.ndarray) if isinstance(a, ForwardArray) else a
