"""Fuzzer specs (``fuzz_specs.py``'s format; imported by it) of ops/statistics.py, ``take`` and
``masked_select`` (ops/indexing.py) and ``F.unfold``/``F.fold`` (ops/conv.py).

Compositions are listed under the registered op they apply: ``median(dim)``, ``nanmedian(dim)``,
``mode``, ``cummax`` and ``cummin`` under ``gather`` (their values are gathered at the index, so the
gradient goes there), ``take`` and ``masked_select`` under ``getitem``, ``nanmean`` under
``nansum``, ``var_mean``/``std_mean`` under ``var``/``std``. The ops without a gradient
(``count_nonzero``, ``unique``, ``unique_consecutive``, and the indices of the ops above) are
compared as values, listed under ``getitem`` as ``nonzero`` is. Ties, NaN and infinities are drawn
on purpose (the tie rules are PyTorch's: see ops/statistics.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fuzz_specs import FLOATS, INTS, broadcast_shapes, dims_param, fixed, spec
from fuzz_specs_shape import _mask, seeded
from hypothesis import strategies as st

NUMBERS = FLOATS + INTS  # median, cummax, ...: every dtype but bool (median refuses it)


def _reduce(m: Any, fn: str, a: Any, dim: Any, keepdim: bool) -> Any:
    return getattr(m.t, fn)(a, dim, keepdim)


def _one_dim(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1), "keepdim": st.booleans()})


def _scan_dim(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1)})


# ------------------------------------------------------------------------------ NaN-aware sums
spec("nansum", lambda m, a, dim, keepdim: _reduce(m, "nansum", a, dim, keepdim),
     params=dims_param, rtol=4)
spec("nansum", lambda m, a, dim, keepdim: _reduce(m, "nanmean", a, dim, keepdim), id="nanmean",
     params=dims_param, rtol=4)
spec("nansum", lambda m, a, dim: a.nansum(dim, dtype=m.dt("float64")), id="dtype",
     params=_scan_dim, dtypes=("float16", "float32"), rtol=4)
spec("sum", lambda m, a, dim: a.nansum(dim), id="nansum_integers", params=_scan_dim,
     dtypes=INTS + ("bool",), grad=False)


def _var_mean_params(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    return dims_param(shapes).flatmap(lambda d: st.fixed_dictionaries(
        {"correction": st.sampled_from([0, 1, 2])}).map(lambda c: {**d, **c}))


def _stats_mean(m: Any, fn: str, a: Any, dim: Any, keepdim: bool, correction: float) -> Any:
    spread, mean = getattr(m.t, fn)(a, dim, correction=correction, keepdim=keepdim)
    return m.t.stack([spread, mean])


spec("var", lambda m, a, dim, keepdim, correction: _stats_mean(m, "var_mean", a, dim, keepdim,
                                                                correction),
     id="var_mean", params=_var_mean_params, rtol=4)
spec("std", lambda m, a, dim, keepdim, correction: _stats_mean(m, "std_mean", a, dim, keepdim,
                                                                correction),
     id="std_mean", params=_var_mean_params, rtol=4)
spec("var", lambda m, a: m.t.stack(m.t.var_mean(a, 0, False)), id="var_mean_unbiased_positional",
     shapes=fixed((3, 2)), rtol=4)

# ------------------------------------------------------------------------------ medians
spec("median", lambda m, a: a.median(), dtypes=NUMBERS, smooth=False)
spec("median", lambda m, a: a.nanmedian(), id="nanmedian", dtypes=NUMBERS, smooth=False)
spec("median", lambda m, a: a.median(), id="ties", shapes=fixed((6,)), specials=("tie",),
     smooth=False)
_NONEMPTY = broadcast_shapes(1, min_side=1)
spec("gather", lambda m, a, dim, keepdim: a.median(dim, keepdim).values, id="median_dim",
     params=_one_dim, shapes=_NONEMPTY, dtypes=NUMBERS, smooth=False)
# (nanmedian over dim: no NaN drawn -- a slice of NaN only gets an index that follows no rule in
# PyTorch; tests/test_more_ops.py covers NaN in slices that hold numbers too)
spec("gather", lambda m, a, dim, keepdim: a.nanmedian(dim, keepdim).values, id="nanmedian_dim",
     params=_one_dim, shapes=_NONEMPTY, dtypes=NUMBERS, smooth=False,
     specials=("zero", "tie", "inf"))
spec("getitem", lambda m, a, dim, keepdim: a.median(dim, keepdim).indices, id="median_indices",
     params=_one_dim, shapes=_NONEMPTY, dtypes=NUMBERS, grad=False)
spec("getitem", lambda m, a, dim, keepdim: a.nanmedian(dim, keepdim).indices,
     id="nanmedian_indices", params=_one_dim, shapes=_NONEMPTY, dtypes=NUMBERS, grad=False,
     specials=("zero", "tie", "inf"))
# every value drawn from three: many ties, and NaN with them
spec("getitem", lambda m, a, dim: m.t.stack([(a * 0 + (a > 0).to(a.dtype)).nanmedian(dim).indices,
                                             (a * 0 + (a > 0).to(a.dtype)).median(dim).indices]),
     id="median_tie_indices", params=_scan_dim, shapes=fixed((7, 6)), grad=False,
     specials=("zero", "tie"))  # (no inf: inf * 0 is NaN; an all-NaN slice's index follows no
# rule in PyTorch)
# mode: no NaN drawn (PyTorch's sort is undefined with NaN; tests/test_more_ops.py has our rule)
# and sides of at most 4 (past 16 elements PyTorch's index is its unstable sort's pick)
spec("gather", lambda m, a, dim, keepdim: m.t.mode(a, dim, keepdim).values, id="mode_dim",
     params=_one_dim, shapes=_NONEMPTY, dtypes=NUMBERS, smooth=False,
     specials=("zero", "tie", "inf"))
spec("getitem", lambda m, a, dim: m.t.stack([(a * 0 + (a > 0).to(a.dtype)).mode(dim).indices,
                                             a.mode(dim).indices]),
     id="mode_tie_indices", params=_scan_dim, shapes=fixed((7, 6)), grad=False,
     specials=("zero", "tie"))

# ------------------------------------------------------------------------------ running extremes
_ALL = NUMBERS + ("bool",)
spec("gather", lambda m, a, dim: a.cummax(dim).values, id="cummax", params=_scan_dim,
     dtypes=_ALL, smooth=False)
spec("gather", lambda m, a, dim: m.t.cummin(a, dim).values, id="cummin", params=_scan_dim,
     dtypes=_ALL, smooth=False)
spec("getitem", lambda m, a, dim: m.t.stack([a.cummax(dim).indices, a.cummin(dim).indices]),
     id="cummax_cummin_indices", params=_scan_dim, dtypes=_ALL, grad=False)
spec("gather", lambda m, a: (a.round()).cummax(1).values * a, id="cummax_ties",
     shapes=fixed((3, 7)), smooth=False)

# ------------------------------------------------------------------------------ take, masked_select


def _take_index(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = int(np.prod(shapes[0]))
    if n == 0:
        return st.just({"index": np.zeros((0,), np.int64)})
    return st.tuples(st.lists(st.integers(0, 3), max_size=2), st.integers(0, 2**32 - 1)).map(
        lambda s: {"index": np.random.default_rng(s[1]).integers(-n, n, tuple(s[0]))})


spec("getitem", lambda m, a, index: a.take(m.const(index)), id="take", params=_take_index,
     dtypes=_ALL)
spec("getitem", lambda m, a, mask: a.masked_select(m.const(mask)), id="masked_select",
     params=seeded(lambda sh, r: {"mask": _mask(sh, r)}), dtypes=_ALL)

# ------------------------------------------------------------------------------ no gradient
spec("getitem", lambda m, a, dim: a.count_nonzero(dim), id="count_nonzero", grad=False,
     dtypes=_ALL, params=lambda s: dims_param(s).map(lambda d: {"dim": d["dim"]}))


def _unique(m: Any, a: Any, sorted: bool, inverse: bool, counts: bool, dim: Any,
            consecutive: bool) -> Any:
    """Every result of ``unique`` in one tensor (the values cast to float64, as are the rest)."""
    if consecutive:
        out = a.unique_consecutive(return_inverse=True, return_counts=True, dim=dim)
    else:
        out = a.unique(sorted=sorted, return_inverse=True, return_counts=True, dim=dim)
    values, inv, cnt = out
    return m.t.cat([values.reshape(-1).to(m.dt("float64")), inv.reshape(-1).to(m.dt("float64")),
                    cnt.to(m.dt("float64"))])


def _unique_params(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = len(shapes[0])
    return st.fixed_dictionaries({
        "sorted": st.booleans(), "inverse": st.booleans(), "counts": st.booleans(),
        "dim": st.none() if n == 0 else st.one_of(st.none(), st.integers(-n, n - 1))})


# the integers 0..2 (many repeats); with dim, NaN-free (PyTorch's order of rows holding NaN is
# that of its unstable sort; ours is documented in ops/statistics.py)
spec("getitem", lambda m, a, sorted, inverse, counts, dim: _unique(
    m, a, sorted, inverse, counts, dim, False), id="unique", grad=False, params=_unique_params,
     domain="int", specials=("zero", "tie"), dtypes=_ALL)
# (NaN: each NaN is its own value in both, but PyTorch orders them and their inverse indices
# by its unstable sort -- no rule to compare with; tests/test_more_ops.py checks the rest)
spec("getitem", lambda m, a, sorted, inverse, counts, dim: _unique(
    m, a, sorted, inverse, counts, dim, True), id="unique_consecutive", grad=False,
     params=_unique_params, domain="int", dtypes=_ALL)

# ------------------------------------------------------------------------------ im2col, col2im
_IM2COL = {"rtol": 4, "specials": ("zero", "tie", "inf", "nan")}
spec("unfold", lambda m, x: m.F.unfold(x, (2, 3), dilation=(2, 1), padding=1, stride=(1, 2)),
     shapes=fixed((2, 2, 5, 4)), **_IM2COL)
spec("unfold", lambda m, x: m.F.unfold(x, 2), id="unbatched", shapes=fixed((3, 3, 3)),
     dtypes=FLOATS + ("bool",), **_IM2COL)
spec("unfold", lambda m, x: m.F.unfold(x, 3, padding=1), id="empty_batch", shapes=fixed((0, 2, 3, 3)),
     **_IM2COL)
spec("fold", lambda m, c: m.F.fold(c, (4, 3), 2), shapes=fixed((2, 8, 6)), **_IM2COL)
spec("fold", lambda m, c: m.F.fold(c, (5, 4), (3, 2), padding=1, stride=2), id="padding_stride",
     shapes=fixed((1, 12, 9)), **_IM2COL)
spec("fold", lambda m, c: m.F.fold(c, 3, 2, dilation=2, padding=1), id="unbatched_dilation",
     shapes=fixed((4, 9)), **_IM2COL)
