"""The Hypothesis half of :mod:`tinygrad_cnn.testing` (its docstring tells how to use it): the
strategies (:func:`tensors`, :func:`broadcastable_tensors`, :func:`shapes`, :func:`dtypes`) and
:func:`check_function`. Needs Hypothesis (``pip install hypothesis``); ``import tinygrad_cnn``
and ``testing.assert_close`` do not.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

try:
    import hypothesis
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as exc:  # pragma: no cover - exercised only without hypothesis
    raise ImportError("tinygrad_cnn.testing needs Hypothesis: pip install hypothesis (or "
                      "pip install 'tinygrad_cnn[testing]')") from exc

from tinygrad_cnn.autograd import grad
from tinygrad_cnn.gradcheck import check_grads
from tinygrad_cnn.tensor import Tensor

__all__ = ["CheckFunctionError", "broadcastable_shapes", "broadcastable_tensors", "check_function",
           "dtypes", "shapes", "tensors"]

FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
#: tolerances of the comparison with PyTorch, per dtype: (rtol, atol)
TORCH_TOLERANCE = {np.dtype(np.float16): (1e-2, 1e-2), np.dtype(np.float32): (1e-4, 1e-5),
                   np.dtype(np.float64): (1e-7, 1e-9)}

Shape = tuple[int, ...]


class CheckFunctionError(AssertionError):
    """``check_function`` found a failing case (shrunk to the smallest one found); the message
    gives the case, what failed, and the seed to reproduce it."""


# ------------------------------------------------------------------------------ strategies
def dtypes(*, floats: Sequence[Any] = FLOATS) -> st.SearchStrategy[np.dtype]:
    """Floating dtypes (float16, float32, float64 by default)."""
    return st.sampled_from([np.dtype(d) for d in floats])


def shapes(*, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes; Hypothesis shrinks them towards fewer and smaller dimensions."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num: int = 2, *, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 4) -> st.SearchStrategy[tuple[Shape, ...]]:
    """``num`` shapes that broadcast together (NumPy's and PyTorch's rule). Half the draws are
    the everyday case, shapes of one rank where some sizes are 1 (``(3, 4)`` with ``(1, 4)``: a
    VJP must sum over those dims, keeping them); the others Hypothesis's general ones (ranks that
    differ, 0-d shapes)."""
    general = hnp.mutually_broadcastable_shapes(num_shapes=num, min_dims=min_dims,
                                                max_dims=max_dims, max_side=max_side
                                                ).map(lambda b: b.input_shapes)
    if max_dims < 1 or max_side < 2:
        return general

    def with_ones(shape: Shape) -> st.SearchStrategy[tuple[Shape, ...]]:
        one = st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)).map(
            lambda mask: tuple(1 if m else d for m, d in zip(mask, shape)))
        return st.tuples(*[one] * num)

    same_rank = hnp.array_shapes(min_dims=max(min_dims, 1), max_dims=max_dims, min_side=2,
                                 max_side=max_side).flatmap(with_ones)
    return st.one_of(same_rank, general)


def _allowed(lo: float, hi: float, away_from: Sequence[float], gap: float
             ) -> list[tuple[float, float]]:
    """``[lo, hi]`` less the points closer than ``gap`` to one of ``away_from``: closed
    intervals, in order (adjacent ones at least ``2 gap`` apart)."""
    parts = [(float(lo), float(hi))]
    for p in sorted(away_from):
        a, b = p - gap, p + gap
        parts = [q for x, y in parts
                 for q in ((x, min(y, a)), (max(x, b), y)) if q[0] <= q[1]]
        # (an end at exactly p +- gap is allowed: that is the distance asked for)
    return parts


def _capacity(parts: list[tuple[float, float]], gap: float) -> int:
    """How many values ``gap`` apart the intervals ``parts`` can hold."""
    if gap <= 0 or any(np.isinf(y - x) for x, y in parts):
        return np.iinfo(np.int64).max if parts else 0
    return sum(int(np.floor((y - x) / gap * (1 + 1e-12))) + 1 for x, y in parts)


def _check_room(n: int, lo: float, hi: float, away_from: Sequence[float], gap: float,
                distinct: bool) -> list[tuple[float, float]]:
    parts = _allowed(lo, hi, away_from, gap)
    if not parts:
        raise ValueError(
            f"testing: no value in [min_value, max_value] = [{lo:g}, {hi:g}] lies min_distance="
            f"{gap:g} away from away_from={list(away_from)}: widen the range or lower "
            "min_distance")
    if distinct and n > 1 and _capacity(parts, gap) < n:
        raise ValueError(
            f"testing: [min_value, max_value] = [{lo:g}, {hi:g}] cannot hold {n} distinct values "
            f"min_distance={gap:g} apart (away from {list(away_from)}): it holds "
            f"{_capacity(parts, gap)}; widen the range, lower min_distance, or draw fewer "
            "elements")
    return parts


def _keep_away(values: np.ndarray, away_from: Sequence[float], min_distance: float,
               distinct: bool, lo: float = -np.inf, hi: float = np.inf) -> np.ndarray:
    """Move values at least ``min_distance`` away from each of ``away_from`` (kinks: relu's 0,
    clamp's bounds) and, with ``distinct``, at least ``min_distance`` apart (no ties for max),
    staying inside ``[lo, hi]`` (a value at a kink on the range's edge moves inwards). A
    ``ValueError`` where the range cannot hold them. Deterministic, so Hypothesis still
    shrinks through it."""
    flat = values.ravel().copy()
    parts = _check_room(flat.size, lo, hi, away_from, min_distance, distinct)

    def up(v: float) -> float:  # the smallest allowed value >= v (inf: none)
        return next((max(v, x) for x, y in parts if y >= v), np.inf)

    def down(v: float) -> float:  # the largest allowed value <= v (-inf: none)
        return next((min(v, y) for x, y in reversed(parts) if x <= v), -np.inf)

    if distinct and flat.size > 1:
        order = np.argsort(flat, kind="stable")
        previous = -np.inf
        for k in order:  # in order: each at least a gap above the last ...
            flat[k] = previous = up(max(flat[k], previous + min_distance))
        following = np.inf
        for k in order[::-1]:  # ... and, from the top, back under hi
            flat[k] = following = down(min(flat[k], following - min_distance))
    else:
        for k in range(flat.size):
            u, d = up(flat[k]), down(flat[k])
            flat[k] = u if u - flat[k] <= flat[k] - d else d
    return flat.reshape(values.shape)


def arrays(shape: Shape | st.SearchStrategy[Shape], dtype: Any = np.float64, *,
           min_value: float = -3.0, max_value: float = 3.0, away_from: Sequence[float] = (),
           min_distance: float = 1e-2, distinct: bool = False) -> st.SearchStrategy[np.ndarray]:
    """numpy arrays of ``dtype`` with values in ``[min_value, max_value]``, kept ``min_distance``
    from the points ``away_from`` and, with ``distinct``, from each other. Up to 256 elements,
    every element is drawn by itself (no fill value: Hypothesis would otherwise set about half of
    them to one value, 0), so values spread over the range while 0 and the bounds still come up
    now and then; a bigger array is spread over the range from a drawn seed, with 16 drawn
    elements among them (drawing each overran Hypothesis's buffer at about 1,000). In float16
    and float32 the values are the dtype's own inside the range (a bound that rounds outward is
    moved in; a range that holds none of them is a ``ValueError``)."""
    dt = np.dtype(dtype)
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)
    fixed = not isinstance(shape, st.SearchStrategy)
    n = int(np.prod(shape, dtype=np.int64)) if fixed else 1
    if fixed:  # (a range too small: said at once)
        _check_room(n, min_value, max_value, away_from, min_distance, distinct)
    shape_st = st.just(tuple(shape)) if fixed else shape
    # spaced in float64 by what rounding to ``dtype`` may take back (float16 moved a value 0.01
    # from a kink to 0.0098), where the range has room for that margin
    gap = min_distance
    if dt != np.float64 and (away_from or distinct):
        wider = gap + float(np.finfo(dt).eps) * max(abs(min_value), abs(max_value), 1.0)
        with contextlib.suppress(ValueError):
            _check_room(n, min_value, max_value, away_from, wider, distinct)
            gap = wider
    lo, hi = _bounds_in(dt, min_value, max_value)

    def values(s: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
        if int(np.prod(s, dtype=np.int64)) <= DRAWN_MAX:
            return hnp.arrays(np.float64, s, elements=elements, fill=st.nothing())
        # (a big array: a seed numpy spreads over the range, and a few elements Hypothesis
        # draws -- and shrinks -- itself; drawing every one overran Hypothesis's buffer from
        # about 1,000 elements: "Unsatisfiable")
        return st.tuples(st.integers(0, 2**32 - 1),
                         st.lists(elements, max_size=DRAWN_FEATURED)).map(
            lambda p: _spread(s, p[0], p[1], min_value, max_value))

    return shape_st.flatmap(values).map(
        lambda a: _in_dtype(_keep_away(a, tuple(away_from), gap, distinct, min_value, max_value),
                            dt, lo, hi, tuple(away_from), min_distance))


DRAWN_MAX = 256  # arrays: up to this many elements Hypothesis draws each one ...
DRAWN_FEATURED = 16  # ... past it, a seed and this many drawn ones


def _spread(shape: tuple[int, ...], seed: int, featured: list[float], lo: float, hi: float
            ) -> np.ndarray:
    """A big array: uniform in ``[lo, hi]`` from ``seed`` (normal, clipped, if a bound is
    infinite), the ``featured`` values at the first positions of a shuffled order."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape, dtype=np.int64))
    if np.isfinite(lo) and np.isfinite(hi):
        a = rng.uniform(lo, hi, n)
    else:
        a = np.clip(rng.standard_normal(n) * 3.0, lo, hi)
    a[rng.permutation(n)[:len(featured)]] = featured[:n]
    return a.reshape(shape)


def _bounds_in(dt: np.dtype, lo: float, hi: float) -> tuple[float, float]:
    """The smallest and largest values of ``dt`` inside ``[lo, hi]`` (a bound that rounds outward
    -- 0.7 is 0.7002 in float16 -- moved in by an ulp; one past the dtype's range its largest
    number); a ``ValueError`` where ``dt`` holds none (float16 in [1e-10, 1e-9])."""
    if dt == np.float64:
        return lo, hi
    big = float(np.finfo(dt).max)
    a, b = (np.asarray(np.clip(v, -big, big)).astype(dt) for v in (lo, hi))
    if float(a) < lo:
        a = np.nextafter(a, dt.type(np.inf))
    if float(b) > hi:
        b = np.nextafter(b, dt.type(-np.inf))
    if float(a) > float(b):
        raise ValueError(f"testing: no {dt} value lies in [min_value, max_value] = [{lo:g}, {hi:g}] "
                         f"(its nearest are {float(b):g} and {float(a):g}): widen the range or use "
                         "a wider dtype")
    return float(a), float(b)


def _in_dtype(a: np.ndarray, dt: np.dtype, lo: float, hi: float, away_from: tuple[float, ...],
              min_distance: float) -> np.ndarray:
    """``a`` rounded to ``dt``, kept in ``[lo, hi]`` (the dtype's values inside the range) and,
    where rounding took a value back within ``min_distance`` of a kink, moved out again to the
    dtype's nearest value that far on the same side (where the range has one)."""
    out = a.astype(dt)
    if dt == np.float64:
        return out
    out = np.clip(out, dt.type(lo), dt.type(hi))
    flat, given = out.reshape(-1), a.reshape(-1)  # (a view of out: any shape)
    for k in away_from:
        near = np.abs(flat.astype(np.float64) - k) < min_distance
        if not near.any():
            continue
        side = np.where(given[near] >= k, 1.0, -1.0)
        moved = _away_in_dtype(dt, k, side, min_distance)
        # (the other side where this one leaves the range)
        outside = (moved.astype(np.float64) < lo) | (moved.astype(np.float64) > hi)
        moved[outside] = _away_in_dtype(dt, k, -side[outside], min_distance)
        flat[np.flatnonzero(near)] = moved
    return out


def _away_in_dtype(dt: np.dtype, k: float, side: Any, min_distance: float) -> Any:
    """``dt``'s nearest values at least ``min_distance`` from ``k`` on ``side`` (+1 or -1)."""
    moved = np.asarray(k + side * min_distance).astype(dt)
    short = np.abs(moved.astype(np.float64) - k) < min_distance
    moved[short] = np.nextafter(moved[short], (side[short] * np.inf).astype(dt))
    return moved


def _check_room_in_dtype(dt: np.dtype, min_value: float, max_value: float,
                         away_from: Sequence[float], min_distance: float) -> None:
    """A ``ValueError`` where no value of ``dt`` in ``[lo, hi]`` lies ``min_distance`` from every
    point of ``away_from`` (float16 in [59990, 60010], away from 60000: its values there are 32
    apart)."""
    if dt == np.float64 or not away_from:
        return
    lo, hi = _bounds_in(dt, min_value, max_value)
    for k in away_from:
        sides = _away_in_dtype(dt, k, np.array([-1.0, 1.0]), min_distance).astype(np.float64)
        if not ((lo <= sides) & (sides <= hi)).any():
            raise ValueError(f"testing: no {dt} value in [min_value, max_value] = "
                             f"[{min_value:g}, {max_value:g}] lies min_distance={min_distance:g} "
                             f"from {k:g} (its nearest are {sides[0]:g} and {sides[1]:g}): widen "
                             "the range, lower min_distance, or use a wider dtype")


def _as_view(values: np.ndarray, how: str) -> np.ndarray:
    """The same values in a non-contiguous array: transposed, strided, or reversed."""
    if values.ndim == 0:
        return values
    if how == "transposed" and values.ndim >= 2:
        return np.ascontiguousarray(values.T).T
    if how == "reversed":
        return np.ascontiguousarray(values[::-1])[::-1]  # negative strides
    base = np.zeros((*values.shape[:-1], 2 * values.shape[-1]), values.dtype)
    base[..., ::2] = values
    return base[..., ::2]


def _tensor(values: np.ndarray, requires_grad: bool, view: str | None) -> Tensor:
    t = Tensor(values, requires_grad=requires_grad and values.dtype.kind == "f")
    if view is not None:
        t._data = _as_view(values, view)  # a leaf whose memory is not C-contiguous
    return t


def tensors(shape: Shape | st.SearchStrategy[Shape] | None = None,
            dtype: Any | st.SearchStrategy[np.dtype] = np.float64, *, min_dims: int = 0,
            max_dims: int = 3, max_side: int = 4, min_value: float = -3.0, max_value: float = 3.0,
            away_from: Sequence[float] = (), min_distance: float = 1e-2, distinct: bool = False,
            view: bool | None = False, requires_grad: bool = True) -> st.SearchStrategy[Tensor]:
    """Tensors for property tests.

    ``shape``: a shape, a strategy of shapes, or None (any shape up to ``max_dims`` x
    ``max_side``). ``dtype``: a dtype or a strategy (``dtypes()``). Values lie in ``[min_value,
    max_value]``, at least ``min_distance`` away from each point of ``away_from`` (the kinks:
    ``(0.0,)`` for relu and abs, ``(lo, hi)`` for clamp) and, with ``distinct=True``, from each
    other (no ties for max or max pooling); a value at a kink on the range's edge moves inwards,
    and a range that cannot hold them is a ``ValueError``. ``view``: True gives non-contiguous leaves
    (transposed, every other element of a bigger array, or negative strides), None lets
    Hypothesis choose.
    """
    _check_shape_and_dtype("tensors", shape, dtype)
    if shape is not None and not isinstance(shape, st.SearchStrategy):  # (said at once)
        _check_room(int(np.prod(shape, dtype=np.int64)), min_value, max_value, away_from,
                    min_distance, distinct)
    shape_st = shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side) if shape is None \
        else shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))
    dtype_st = dtype if isinstance(dtype, st.SearchStrategy) else st.just(np.dtype(dtype))
    if not isinstance(dtype, st.SearchStrategy):  # (a range the dtype holds no value of: now)
        _bounds_in(np.dtype(dtype), min_value, max_value)
        _check_room_in_dtype(np.dtype(dtype), min_value, max_value, away_from, min_distance)
    # None first: Hypothesis shrinks towards the first choice, a contiguous tensor
    view_st = st.just(None) if view is False else st.sampled_from(
        ([None] if view is None else []) + ["transposed", "strided", "reversed"])

    @st.composite
    def one(draw: Any) -> Tensor:
        dt = draw(dtype_st)
        values = draw(arrays(draw(shape_st), dt, min_value=min_value,
                                  max_value=max_value, away_from=away_from,
                                  min_distance=min_distance, distinct=distinct))
        return _tensor(values, requires_grad, draw(view_st))

    return one()


def broadcastable_tensors(num: int = 2, dtype: Any = np.float64, **options: Any
                          ) -> st.SearchStrategy[tuple[Tensor, ...]]:
    """``num`` tensors whose shapes broadcast together; ``options`` as for :func:`tensors`
    (and ``min_dims``, ``max_dims``, ``max_side`` for the shapes)."""
    shape_opts = {k: options.pop(k) for k in ("min_dims", "max_dims", "max_side") if k in options}

    @st.composite
    def several(draw: Any) -> tuple[Tensor, ...]:
        shps = draw(broadcastable_shapes(num, **shape_opts))
        return tuple(draw(tensors(s, dtype, **options)) for s in shps)

    return several()


# ------------------------------------------------------------------------------ check_function
class _CaseError(Exception):
    pass


class _GradientMismatchError(_CaseError):
    """Our gradient differs from PyTorch's (the values agree)."""


class _AtKinkError(_CaseError):
    """The case's point is a kink, jump or tie (or a domain edge): no derivative to check there.
    During the search such a point is rejected, not failed -- or a real failure (a wrong VJP
    at x = 1.3) would shrink onto the kink at 0, where a wrong VJP can give a valid one-sided
    slope and the report says 'not differentiable, not a wrong VJP'."""


def _describe(inputs: tuple[Tensor, ...]) -> str:
    lines = []
    with np.printoptions(precision=4, threshold=24, edgeitems=3, linewidth=100):
        for i, t in enumerate(inputs):
            layout = "" if t._data.flags.c_contiguous else ", a non-contiguous view"
            lines.append(f"  input {i}: shape {t.shape}, {t.dtype}{layout}\n    "
                         + str(t.numpy()).replace("\n", "\n    "))
    return "\n".join(lines)


def _short(w: np.ndarray) -> str:
    """An output gradient as the report shows it: its values when few, else its shape."""
    if w.size <= 6:
        return np.array2string(np.asarray(w, dtype=np.float64), precision=4, separator=", ")
    return f"shape {tuple(w.shape)}"


def _compare_with_torch(fn: Callable[..., Any], torch_fn: Callable[..., Any],
                        inputs: tuple[Tensor, ...], rtol: float | None, atol: float | None) -> None:
    import torch

    outs = fn(*inputs)
    outs = tuple(outs) if isinstance(outs, (tuple, list)) else (outs,)
    tins = tuple(torch.tensor(t.numpy().copy(), requires_grad=t.requires_grad) for t in inputs)
    touts = torch_fn(*tins)
    touts = tuple(touts) if isinstance(touts, (tuple, list)) else (touts,)
    for j, to in enumerate(touts):
        if not isinstance(to, torch.Tensor):
            raise _CaseError(f"torch_fn returned {type(to).__name__} as output {j}; it must return "
                             "torch tensors (a tuple or list of them for several outputs)")
    if len(outs) != len(touts):
        raise _CaseError(f"{len(outs)} outputs, PyTorch's counterpart gives {len(touts)}")
    for j, (o, to) in enumerate(zip(outs, touts)):
        tv = to.detach().numpy()
        if o.shape != tv.shape or o.dtype != tv.dtype:
            raise _CaseError(f"output {j} has shape {o.shape} and dtype {o.dtype}; PyTorch's has "
                              f"shape {tuple(tv.shape)} and dtype {tv.dtype}")
        r, a = TORCH_TOLERANCE.get(o.dtype, (1e-7, 1e-9))
        r, a = rtol if rtol is not None else r, atol if atol is not None else a
        if not np.allclose(o.numpy(), tv, rtol=r, atol=a, equal_nan=True):
            worst = np.nanmax(np.abs(o.numpy().astype(np.float64) - tv.astype(np.float64)))
            raise _CaseError(f"output {j} differs from PyTorch's (largest difference {worst:.3g}, "
                              f"rtol={r:g}, atol={a:g})")
    diff = [k for k, t in enumerate(inputs) if t.requires_grad]
    float_outs = [j for j, o in enumerate(outs) if o.requires_grad]
    if not diff or not float_outs:
        return
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(outs[j].shape).astype(outs[j].dtype) for j in float_outs]
    ours = grad([outs[j] for j in float_outs], [inputs[k] for k in diff],
                [Tensor(w) for w in ws], allow_unused=True)
    theirs = torch.autograd.grad([touts[j] for j in float_outs], [tins[k] for k in diff],
                                 [torch.from_numpy(w) for w in ws], allow_unused=True)
    for k, g, tg in zip(diff, ours, theirs):
        mine = np.zeros(inputs[k].shape) if g is None else g.numpy()
        other = np.zeros(inputs[k].shape) if tg is None else tg.numpy()
        r, a = TORCH_TOLERANCE.get(inputs[k].dtype, (1e-7, 1e-9))
        r, a = rtol if rtol is not None else r, atol if atol is not None else a
        if not np.allclose(mine, other, rtol=r * 10, atol=a * 10, equal_nan=True):
            with np.errstate(invalid="ignore"):
                d = np.abs(mine.astype(np.float64) - other.astype(np.float64))
            # (a NaN against a number is the worst; NaN against NaN agrees)
            key = np.where(np.isnan(mine) != np.isnan(other), np.inf,
                           np.where(np.isnan(d), -1.0, d))
            at = np.unravel_index(int(np.argmax(key)), d.shape)
            sent = "; ".join(f"output {j}: {_short(w)}" for j, w in zip(float_outs, ws))
            raise _GradientMismatchError(
                f"the gradient for input {k} differs from PyTorch's (each the VJP of the same "
                f"random output gradient, normal, seed 0 -- {sent}): largest difference "
                f"{float(d[at]):.3g} at element {tuple(int(i) for i in at)}, ours "
                f"{float(mine[at]):.6g}, PyTorch's {float(other[at]):.6g} (rtol={r * 10:g}, "
                f"atol={a * 10:g})")


def _check_deterministic(fn: Callable[..., Any], inputs: tuple[Tensor, ...]) -> None:
    """Raise :class:`_CaseError` when two calls of ``fn`` on the same inputs differ."""
    first, second = (o if isinstance(o, tuple) else (o,) for o in (fn(*inputs), fn(*inputs)))
    for j, (a, b) in enumerate(zip(first, second)):
        x, y = np.asarray(a.numpy()), np.asarray(b.numpy())
        if x.shape == y.shape and not np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"):
            diff = np.abs(x.astype(np.float64) - y.astype(np.float64))
            raise _CaseError(f"it is not deterministic: two calls on the same inputs give "
                             f"output {j} differing by up to {np.nanmax(diff):.3g}; gradient "
                             "checks and comparisons need the same output each time (a random "
                             "op: seed it inside the function, or pass the noise in as an input)")


def _gradcheck_case(fn: Callable[..., Any], inputs: tuple[Tensor, ...], order: int,
                    fast_mode: bool, find_culprit: bool) -> None:
    report = check_grads(fn, inputs, order=order, fast_mode=fast_mode,
                         find_culprit=find_culprit, caller="check_function")
    if not report.ok:
        at_kink = (report.kind == "not_differentiable"
                   and "not available" not in report.headline)  # (once differentiable)
        raise (_AtKinkError if at_kink else _CaseError)(str(report))


def _check_case(fn: Callable[..., Any], inputs: tuple[Tensor, ...],
                torch_fn: Callable[..., Any] | None, gradgrad: bool, fast_mode: bool,
                rtol: float | None, atol: float | None, find_culprit: bool) -> None:
    """Cheap checks first: shrinking runs this hundreds of times on failing cases."""
    step = "the function"
    try:
        fn(*inputs)
        if torch_fn is not None:
            step = "the comparison with PyTorch"
            try:
                _compare_with_torch(fn, torch_fn, inputs, rtol, atol)
            except _CaseError as exc:
                # (a function that differs from itself: said so, not blamed on PyTorch)
                step = "the function"
                _check_deterministic(fn, inputs)
                if isinstance(exc, _GradientMismatchError):
                    # a gradient unlike PyTorch's: at a kink (relu at 0, tied maxima) both are
                    # valid one-sided choices, and the case is skipped as gradcheck skips it;
                    # a wrong VJP is reported by gradcheck, which says where and why
                    step = "gradcheck"
                    _gradcheck_case(fn, inputs, 1, fast_mode, find_culprit)
                step = "the comparison with PyTorch"
                raise
        for order in (1, 2) if gradgrad else (1,):
            step = "gradcheck" if order == 1 else "gradgradcheck"
            _gradcheck_case(fn, inputs, order, fast_mode, find_culprit)
    except _CaseError as exc:
        raise type(exc)(f"{step} failed:\n{exc}\non the inputs\n{_describe(inputs)}") from None
    except Exception as exc:
        raise _CaseError(f"{step} raised {type(exc).__name__}: {exc}\non the inputs\n"
                          f"{_describe(inputs)}") from None


def _is_shape(e: Any) -> bool:
    return isinstance(e, (tuple, list)) and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in e)


def _check_shape_and_dtype(where: str, shape: Any, dtype: Any) -> None:
    """A shape (a tuple of sizes >= 0, a strategy, or None) and a floating dtype (or a strategy),
    checked before anything is drawn: a usage mistake says so, not numpy from inside a draw."""
    if shape is not None and not isinstance(shape, st.SearchStrategy) and not _is_shape(shape):
        raise TypeError(f"{where}: a shape must be a tuple of sizes >= 0 (or a strategy such as "
                        f"testing.shapes()), got {shape!r}")
    if not isinstance(dtype, st.SearchStrategy):
        try:
            dt = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"{where}: dtype must be a numpy floating dtype (np.float16, "
                            f"np.float32, np.float64) or a strategy of them, got {dtype!r}") from None
        if dt.kind != "f":
            raise TypeError(f"{where}: dtype must be floating (np.float16, np.float32, "
                            f"np.float64), got {dt}: gradients are checked for floating inputs")


def _check_arguments(shapes: Any, dtype: Any, max_examples: Any) -> None:
    """check_function's arguments, checked before any case is drawn: a usage mistake is an error
    that says so, not a case Hypothesis shrank."""
    if not isinstance(shapes, st.SearchStrategy):
        entries = list(shapes) if isinstance(shapes, (list, tuple)) else None
        if entries is None or any(not isinstance(e, st.SearchStrategy) and not _is_shape(e)
                                  for e in entries):
            hint = f" -- for one input of that shape: shapes=[{tuple(shapes)}]" if isinstance(
                shapes, (tuple, list)) and shapes and all(isinstance(n, int) for n in shapes) else ""
            raise TypeError(f"check_function: shapes must hold one shape per input (a tuple of "
                            f"sizes, or a strategy such as testing.shapes()), or be one strategy "
                            f"of a tuple of shapes; got {shapes!r}{hint}")
    _check_shape_and_dtype("check_function", None, dtype)
    if isinstance(max_examples, bool) or not isinstance(max_examples, (int, np.integer)) or \
            max_examples < 1:
        raise ValueError(f"check_function: max_examples must be an integer >= 1, got "
                         f"{max_examples!r}")


def check_function(fn: Callable[..., Any],
                   shapes: Sequence[Shape | st.SearchStrategy[Shape]] | st.SearchStrategy[Any],
                   torch_fn: Callable[..., Any] | None = None, *,
                   dtype: Any | st.SearchStrategy[np.dtype] = np.float64,
                   min_value: float = -2.0, max_value: float = 2.0,
                   away_from: Sequence[float] = (), min_distance: float = 1e-2,
                   distinct: bool = False, views: bool | None = None, gradgrad: bool = True,
                   fast_mode: bool = False, max_examples: int = 20, seed: int | None = None,
                   rtol: float | None = None, atol: float | None = None) -> None:
    """Property-test ``fn`` -- your op (``MyOp.apply``) or any function of tensors.

    ``shapes``: one entry per input -- a shape tuple, or a strategy of shapes
    (``testing.shapes()``) -- or one strategy of a tuple of shapes
    (``testing.broadcastable_shapes(2)``). ``torch_fn``: PyTorch's counterpart, called with torch
    tensors; values, output dtypes and gradients are compared (PyTorch must be installed).
    ``dtype``: the inputs' dtype or a strategy (``testing.dtypes()``); gradchecks of float16/32
    run on float64 copies. Values lie in ``[min_value, max_value]``, ``min_distance`` away from
    the kinks ``away_from`` and, with ``distinct``, from each other. ``views``: non-contiguous
    inputs (True), never (False), or drawn (None). ``gradgrad``: also run ``gradgradcheck``.

    Each of ``max_examples`` cases runs ``gradcheck``, ``gradgradcheck`` and the comparison with
    PyTorch. A failure is shrunk by Hypothesis to the smallest failing case and raised as
    :class:`CheckFunctionError` with the case, the report and the seed; ``seed=`` that number
    reproduces it. A case whose point is a kink, jump or tie (relu at 0, tied maxima: the checks
    say *not differentiable*) is skipped, not failed -- there is no derivative to check there,
    and a wrong VJP found elsewhere is not shrunk onto it; if every drawn case sits at one, the
    error says so and names ``away_from``/``distinct``. Do not call it inside a Hypothesis test
    (Hypothesis does not nest).
    """
    __tracebackhide__ = True  # (pytest: the user's line and the report, not this function)
    _check_arguments(shapes, dtype, max_examples)
    if isinstance(shapes, st.SearchStrategy):
        shape_list: st.SearchStrategy[Any] = shapes.map(tuple)
    else:
        shape_list = st.tuples(*[s if isinstance(s, st.SearchStrategy) else st.just(tuple(s))
                                 for s in shapes])
    seed = random.SystemRandom().randrange(2**32) if seed is None else int(seed)

    @st.composite
    def cases(draw: Any) -> tuple[Tensor, ...]:
        shps = draw(shape_list)
        return tuple(draw(tensors(s, dtype, min_value=min_value, max_value=max_value,
                                       away_from=away_from, min_distance=min_distance,
                                       distinct=distinct, view=views)) for s in shps)

    failing: list[tuple[Tensor, ...]] = []
    at_kinks: list[_AtKinkError] = []

    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=max_examples, deadline=None, database=None,
                         derandomize=False, print_blob=False, report_multiple_bugs=False,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[p for p in hypothesis.Phase if p.name != "explain"])
    @hypothesis.given(cases())
    def run(inputs: tuple[Tensor, ...]) -> None:
        try:
            _check_case(fn, inputs, torch_fn, gradgrad, fast_mode, rtol, atol, False)
        except _AtKinkError as exc:  # (not checkable here: not a failure, see _AtKinkError)
            at_kinks[:] = [exc]
            hypothesis.reject()
        except _CaseError:
            failing[:] = [inputs]  # the last one is the smallest: Hypothesis replays it last
            raise

    owner = getattr(fn, "__self__", None)  # MyOp.apply: name the op
    name = f"{owner.__name__}.apply" if isinstance(owner, type) else getattr(fn, "__qualname__",
                                                                            repr(fn))
    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        if not at_kinks:
            raise
        raise CheckFunctionError(
            f"check_function({name}): every drawn case sat at a kink, jump or tie (or a domain "
            "edge), where the function has no derivative to check, so nothing was checked. Keep "
            "the values off them: away_from=[...] with the kinks (away_from=[0.0] for relu or "
            "abs at 0) and min_distance=, distinct=True against ties (max, sort, median), or "
            f"min_value=/max_value= inside the domain. The last such case:\n{at_kinks[-1]}\n"
            f"(reproduce it with check_function(..., seed={seed}))") from None
    except hypothesis.errors.Flaky:
        # (the same case failed once and not when Hypothesis replayed it: the function's
        # results change from one call to the next -- state, randomness -- which its checks
        # read as jumps or kinks; Hypothesis's own error named only _kit.py's lines)
        raise CheckFunctionError(
            f"check_function({name}): the function is not deterministic: one case gave a "
            "verdict once and another when it was run again (its values change from one call "
            "to the next -- a random draw, a counter, a cache, state kept between calls), so "
            "no derivative can be checked. Fix a seed inside it (or check it in eval mode), "
            "and make repeated calls at the same point give the same values"
            f"\n(reproduce it with check_function(..., seed={seed}))") from None
    except _CaseError as first:
        message = str(first)
        try:  # the smallest case once more, now with the culprit search in its report
            _check_case(fn, failing[-1], torch_fn, gradgrad, fast_mode, rtol, atol, True)
        except _CaseError as full:
            message = str(full)
        raise CheckFunctionError(
            f"check_function({name}): {message}\n(the smallest failing case Hypothesis found; "
            f"reproduce it with check_function(..., seed={seed}))") from None
