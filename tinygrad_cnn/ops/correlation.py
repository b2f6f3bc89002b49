"""Covariance and correlation matrices: ``cov`` and ``corrcoef``, composed of Tensor ops exactly as
PyTorch 2.13 composes them (ATen's ``Correlation.cpp``), so their dtypes, special values and
gradients (through the weights too) are PyTorch's:

``cov``: the rows of ``input (V, N)`` are variables and its columns observations (a 1-D or 0-d
input is one variable). With ``w = fweights * aweights`` (either alone, or none),
``avg = sum(x * w, 1) / sum(w)`` and the normalisation ``sum(w) - correction`` --
``sum(w) - correction * sum(w * aweights) / sum(w)`` when there are ``aweights`` and
``correction != 0`` -- the result is ``(x - avg) @ ((x - avg) * w).T / norm``, squeezed. A
normalisation that is not positive warns (PyTorch's ``UserWarning``) and becomes 0: the result is
then inf or NaN. PyTorch's corner cases are kept: one observation with one kind of weights has
``x - avg`` exactly 0 (so no gradient to the input), and with ``aweights`` alone and
``correction=1`` a normalisation of exactly 0.

``corrcoef``: ``cov(input)`` divided by the square roots of its diagonal on both sides, clipped
to ``[-1, 1]`` (a 1x1 result, squeezed to 0-d, is ``c / c``: 1, or NaN for 0, inf or NaN).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_cnn.backend import array_module
from tinygrad_cnn.tensor import Tensor, tensor, where, zeros_like

_DOF_WARNING = ("cov(): degrees of freedom is <= 0. Correction should be strictly less than the "
                "number of observations.")


def _tensor(input: Any, where: str) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{where}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    return input


def _weights(w: Any, what: str, kinds: str, kind_name: str, n: int) -> Tensor:
    """Check ``fweights`` or ``aweights`` as PyTorch does (at most 1-D, of its kind of dtype, one
    per observation, none negative)."""
    if not isinstance(w, Tensor):
        raise TypeError(f"cov(): argument '{what}' must be a Tensor or None, not "
                        f"{type(w).__name__}")
    if w.ndim > 1:
        raise RuntimeError(f"cov(): expected {what} to have one or fewer dimensions but got "
                           f"{what} with {w.ndim} dimensions")
    if w.dtype.kind not in kinds:
        raise RuntimeError(f"cov(): expected {what} to have {kind_name} dtype but got {what} with "
                           f"{w.dtype} dtype")
    if w.numel() != n:
        raise RuntimeError(f"cov(): expected {what} to have the same numel as there are "
                           f"observations in the input but got {w.numel()} != {n}")
    if n and not bool(w._data.min() >= 0):  # (NaN fails too, as PyTorch's min().ge(0))
        raise RuntimeError(f"cov(): {what} cannot be negative")
    return w


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in the
    columns), ``(V, V)``, or 0-d for one variable. ``correction``: 1 for the unbiased estimate, 0
    for the maximum-likelihood one (an int). ``fweights``: integer frequencies of the
    observations, ``aweights``: floating weights (both 1-D, one per observation, not negative).
    See the module for the formula; gradients flow to ``input`` and ``aweights``."""
    input = _tensor(input, "cov")
    if isinstance(correction, (bool, np.bool_)) or not isinstance(correction, (int, np.integer)):
        raise TypeError(f"cov(): argument 'correction' must be int, not "
                        f"{type(correction).__name__}")
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.ndim} dimensions (shape {input.shape})")
    if input.dtype == np.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input; convert it with "
                           ".float()")
    x = input.reshape(1, -1) if input.ndim < 2 else input  # (variables, observations)
    n = x.shape[1]
    w = None if fweights is None else _weights(fweights, "fweights", "iu", "integral", n)
    if aweights is not None:
        aweights = _weights(aweights, "aweights", "f", "floating point", n)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = tensor(n, dtype=np.int64, device=x.device)
    else:
        w_sum = w.sum()
        if not bool(w_sum._data != 0):
            raise RuntimeError("cov(): weights sum to zero, can't be normalized")
    weighted = x if w is None else x * w
    avg = weighted.sum(1) / w_sum
    if w is None:
        norm = tensor(n - correction, dtype=np.int64, device=x.device)
    elif correction == 0:
        norm = w_sum
    elif aweights is None:
        norm = w_sum - correction
    elif fweights is None and n == 1 and correction == 1:
        norm = tensor(0, dtype=np.int64, device=x.device)  # (PyTorch's exact 0 for this case)
    else:
        norm = w_sum - correction * (w * aweights).sum() / w_sum
    if bool(norm._data <= 0):
        warnings.warn(_DOF_WARNING, UserWarning, stacklevel=3)
        norm = zeros_like(norm)  # (PyTorch zeroes it in place: no gradient through it)
    if n == 1 and (fweights is None) != (aweights is None):
        # one observation and one kind of weights: the centred input is exactly 0 (PyTorch
        # zeroes its view of the input in place -- the caller's tensor too; ours is a zero
        # tensor that selects nothing from the input), so the input's gradient through it is 0
        if x.dtype.kind in "iu":
            centred = zeros_like(x, dtype=np.float32)
        else:
            centred = where(Tensor._make(array_module(x._data).ones(x.shape, dtype=bool)), 0.0, x)
    else:
        centred = x - avg.unsqueeze(1)
    c = centred.mm((centred if w is None else centred * w).t())
    return (c / norm).squeeze()


def corrcoef(input: Tensor) -> Tensor:
    """Pearson's correlation coefficients of the variables in the rows of ``input``: ``cov``
    normalised by the standard deviations, clipped to ``[-1, 1]``; NaN for a variable of zero
    (or infinite) variance. Gradients as PyTorch's (the clip passes them at ``±1``)."""
    input = _tensor(input, "corrcoef")
    if input.ndim > 2:
        raise RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but got "
                           f"an input with {input.ndim} dimensions (shape {input.shape})")
    c = cov(input)
    if c.ndim == 0:  # one variable: 1, or NaN where its variance is 0, inf or NaN
        return c / c
    stddev = c.diagonal().sqrt()
    c = c / stddev.reshape(-1, 1)
    c = c / stddev.reshape(1, -1)
    return c.clip(-1, 1)
