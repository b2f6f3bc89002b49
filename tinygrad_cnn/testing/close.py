"""``assert_close``: PyTorch's ``torch.testing.assert_close`` -- tensors, numpy arrays, Python
numbers, and sequences and mappings of them, compared with tolerances that follow the dtype."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.backend import to_numpy
from tinygrad_cnn.tensor import Tensor

#: PyTorch's default (rtol, atol) per dtype; any other dtype (integers, bool) compares exactly
DEFAULT_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
    np.dtype(np.complex64): (1.3e-6, 1e-5),
    np.dtype(np.complex128): (1e-7, 1e-7),
}


def _tolerances(*dtypes: np.dtype) -> tuple[float, float]:
    """The loosest default tolerances of ``dtypes`` (PyTorch's rule when they differ)."""
    found = [DEFAULT_TOLERANCES.get(np.dtype(d), (0.0, 0.0)) for d in dtypes]
    return max(r for r, _ in found), max(a for _, a in found)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | Callable[[str], str] | None = None
                 ) -> None:
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close, as PyTorch's
    ``torch.testing.assert_close``: elementwise ``|actual - expected| <= atol + rtol *
    |expected|``, with ``rtol`` and ``atol`` both given or both left to the dtype's defaults
    (float32: 1.3e-6 and 1e-5; float64: 1e-7 and 1e-7; float16: 1e-3 and 1e-5; integers and
    bool: exact). Shapes, devices (``check_device``) and dtypes (``check_dtype``) must match;
    ``check_stride`` compares strides too. NaNs count as equal only with ``equal_nan``.

    Tensors are compared with tensors, numpy arrays with arrays, numbers with numbers (a
    ``TypeError`` for mixed kinds, as in PyTorch: wrap one side); sequences and mappings of them
    item by item. ``msg`` replaces the message (a callable gets the generated one). The message
    names how many elements differ and the greatest absolute and relative differences with
    their indices. ``allow_subclasses`` and ``check_layout`` are accepted (one layout here)."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device,
                   check_dtype=check_dtype, check_stride=check_stride)
    problem = _compare(actual, expected, [], options)
    if problem is None:
        return
    text, path = problem
    if path:
        text += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
    if callable(msg):
        text = msg(text)
    elif msg is not None:
        text = msg
    raise AssertionError(text)


def _is_number(x: Any) -> bool:
    return isinstance(x, (numbers.Number, np.bool_)) and not isinstance(x, np.ndarray)


def _compare(actual: Any, expected: Any, path: list[Any], options: dict[str, Any]
             ) -> tuple[str, list[Any]] | None:
    """None if close; else the message and the path of items to the failing pair."""
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        return _pair(actual, expected, path, options)
    if isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray):
        return _pair(actual, expected, path, options)
    if _is_number(actual) and _is_number(expected):
        return _numbers(actual, expected, path, options)
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        missing = [k for k in expected if k not in actual]
        extra = [k for k in actual if k not in expected]
        if missing or extra:
            parts = ["The keys of the mappings do not match:"]
            if missing:
                parts.append(f"Missing keys in the actual mapping: {sorted(map(repr, missing))}")
            if extra:
                parts.append(f"Extra keys in the actual mapping: {sorted(map(repr, extra))}")
            return "\n".join(parts), path
        for k in expected:
            found = _compare(actual[k], expected[k], [*path, k], options)
            if found is not None:
                return found
        return None
    if _sequence(actual) and _sequence(expected):
        if len(actual) != len(expected):
            return f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", path
        for i, (a, e) in enumerate(zip(actual, expected)):
            found = _compare(a, e, [*path, i], options)
            if found is not None:
                return found
        return None
    raise TypeError(f"No comparison pair was able to handle inputs of type {type(actual)} and "
                    f"{type(expected)}. (assert_close compares tensors with tensors, numpy arrays "
                    "with arrays and numbers with numbers: wrap one side, e.g. "
                    "tinygrad_cnn.tensor(expected).)")


def _sequence(x: Any) -> bool:
    return isinstance(x, Sequence) and not isinstance(x, (str, bytes))


def _numbers(actual: Any, expected: Any, path: list[Any], options: dict[str, Any]
             ) -> tuple[str, list[Any]] | None:
    a_type, e_type = _number_type(actual), _number_type(expected)
    if options["check_dtype"] and a_type is not e_type:
        return f"The (d)types do not match: {a_type} != {e_type}.", path
    kinds = [np.dtype(np.float64) if t is float else np.dtype(np.complex128) if t is complex
             else np.dtype(np.int64) for t in (a_type, e_type)]
    rtol, atol = _given_or_default(options, *kinds)
    a, e = complex(actual), complex(expected)
    if _close(np.array([a]), np.array([e]), rtol, atol, options["equal_nan"]).all():
        return None
    abs_diff = abs(a - e)
    rel_diff = abs_diff / abs(e) if e != 0 else (float("inf") if abs_diff else 0.0)
    exact = rtol == 0 and atol == 0
    lines = [f"Scalars are not {'equal' if exact else 'close'}!", "",
             f"Expected {expected} but got {actual}.",
             f"Absolute difference: {abs_diff}" + ("" if exact else
                                                          f" (up to {atol} allowed)"),
             f"Relative difference: {rel_diff}" + ("" if exact else
                                                          f" (up to {rtol} allowed)")]
    return "\n".join(lines), path


def _number_type(x: Any) -> type:
    if isinstance(x, (bool, np.bool_)):
        return bool
    if isinstance(x, numbers.Integral):
        return int
    if isinstance(x, numbers.Real):
        return float
    return complex


def _given_or_default(options: dict[str, Any], *dtypes: np.dtype) -> tuple[float, float]:
    if options["rtol"] is not None:
        return float(options["rtol"]), float(options["atol"])
    return _tolerances(*dtypes)


def _close(a: np.ndarray, e: np.ndarray, rtol: float, atol: float, equal_nan: bool) -> np.ndarray:
    with np.errstate(invalid="ignore", over="ignore"):
        return np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)


def _pair(actual: Any, expected: Any, path: list[Any], options: dict[str, Any]
          ) -> tuple[str, list[Any]] | None:
    """Two tensors (or two numpy arrays): attributes, then values."""
    shape_a, shape_e = tuple(actual.shape), tuple(expected.shape)
    if shape_a != shape_e:
        return (f"The values for attribute 'shape' do not match: {shape_a} != {shape_e}.", path)
    if options["check_device"] and isinstance(actual, Tensor) and actual.device != expected.device:
        return (f"The values for attribute 'device' do not match: {actual.device} != "
                f"{expected.device}.", path)
    if options["check_dtype"] and actual.dtype != expected.dtype:
        return (f"The values for attribute 'dtype' do not match: {actual.dtype} != "
                f"{expected.dtype}.", path)
    a = to_numpy(actual._data) if isinstance(actual, Tensor) else actual
    e = to_numpy(expected._data) if isinstance(expected, Tensor) else expected
    if options["check_stride"]:
        sa = tuple(s // a.itemsize for s in a.strides)
        se = tuple(s // e.itemsize for s in e.strides)
        if sa != se:
            return f"The values for attribute 'stride()' do not match: {sa} != {se}.", path
    rtol, atol = _given_or_default(options, a.dtype, e.dtype)
    wide = np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(e) else np.float64
    av, ev = a.astype(wide), e.astype(wide)
    ok = _close(av, ev, rtol, atol, options["equal_nan"])
    if ok.all():
        return None
    if a.ndim == 0:
        return _numbers(a.item(), e.item(), path, {**options, "check_dtype": False,
                                                   "rtol": rtol, "atol": atol})
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        abs_diff = np.abs(av - ev)
        rel_diff = abs_diff / np.abs(ev)
    rel_diff = np.where(abs_diff == 0, 0.0, rel_diff)
    exact = rtol == 0 and atol == 0
    bad = int((~ok).sum())
    lines = [f"Tensor-likes are not {'equal' if exact else 'close'}!", "",
             f"Mismatched elements: {bad} / {ok.size} ({100 * bad / ok.size:.1f}%)"]
    for what, diff, tol in (("absolute", abs_diff, atol), ("relative", rel_diff, rtol)):
        flat = np.where(np.isnan(diff), np.inf, diff).ravel()
        k = int(np.argmax(np.where(ok.ravel(), -1.0, flat)))
        index = tuple(int(i) for i in np.unravel_index(k, a.shape))
        value = diff.ravel()[k]
        number = int(value) if exact and np.isfinite(value) and float(value).is_integer() and \
            what == "absolute" and a.dtype.kind in "iub" else float(value)
        lines.append(f"Greatest {what} difference: {number} at index {index}"
                     + ("" if exact else f" (up to {tol} allowed)"))
    return "\n".join(lines), path
