"""Fuzzer specs (fuzz_specs.py's format; imported by it) of logcumsumexp (ops/cumulative.py),
cdist's two ops (``cdist``, ``euclidean_dist``: ops/distance.py), and of the compositions and
gradient-free ops added with them.

Compositions are listed under the registered op they apply: ``quantile``/``nanquantile`` under
``lerp`` (their interpolation; ``lower``/``higher``/``nearest`` under ``gather``), ``aminmax``
under ``max`` and ``min``, ``cov`` under ``matmul``, ``corrcoef`` under ``clamp``,
``F.multilabel_margin_loss`` under ``gather``. The ops without a gradient (``histc``,
``bincount``) are compared as values, listed under ``getitem`` as ``unique`` is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fuzz_specs import FLOATS, broadcast_shapes, fixed, spec
from hypothesis import strategies as st


def _scan_dim(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1)})


# ------------------------------------------------------------------------------ logcumsumexp
spec("logcumsumexp", lambda m, a, dim: a.logcumsumexp(dim), params=_scan_dim, rtol=4)
# (second derivatives of values 300 apart are sums of exp(-hundreds): rounding noise on both
# sides, compared in the spec above)
spec("logcumsumexp", lambda m, a, dim: m.t.logcumsumexp(a * 300, dim), id="large",
     params=_scan_dim, dtypes=("float32", "float64"), rtol=4, smooth=False)
spec("logcumsumexp", lambda m, a, dim: a.logcumsumexp(dim), id="integers", params=_scan_dim,
     dtypes=("int64", "bool"), grad=False)


# ------------------------------------------------------------------------------ quantile
def _quantile_params(interpolations: list[str]) -> Any:
    def params(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
        n = len(shapes[0])
        q = st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0, 1 / 3, 0.9]),
                      st.lists(st.floats(0, 1), max_size=3).map(np.array),
                      st.floats(0, 1).map(np.array),
                      st.sampled_from([1.5, -0.25, np.array([0.5, 1.25])]))  # refused
        return st.fixed_dictionaries({
            "q": q, "dim": st.none() if n == 0 else st.one_of(st.none(), st.integers(-n, n - 1)),
            "keepdim": st.booleans(), "interpolation": st.sampled_from(interpolations)})
    return params


def _quantile(name: str) -> Any:
    def fn(m: Any, a: Any, q: Any, dim: Any, keepdim: bool, interpolation: str) -> Any:
        if isinstance(q, np.ndarray):  # a tensor q of the input's dtype
            q = m.const(q.astype(str(a.dtype).replace("torch.", "")))
        return getattr(m.t, name)(a, q, dim, keepdim, interpolation=interpolation)
    return fn


# Slices of at most 16 elements where ties (equal values, several infinities or NaNs) are drawn:
# PyTorch sorts with its unstable sort, which orders equal values as a stable sort only up to 16
# elements (the gradient goes to one of the tied elements: ours by the stable order). float16 and
# integers: refused by both.
_SMALL = broadcast_shapes(1, max_dims=2)
_LINEAR = ["linear", "midpoint"]
_STEP = ["lower", "higher", "nearest"]
for _name in ("quantile", "nanquantile"):
    spec("lerp", _quantile(_name), id=_name, params=_quantile_params(_LINEAR), shapes=_SMALL,
         dtypes=FLOATS + ("int64",), smooth=False)
    spec("gather", _quantile(_name), id=f"{_name}_steps", params=_quantile_params(_STEP),
         shapes=_SMALL, dtypes=FLOATS + ("int64",), smooth=False)
    spec("lerp", _quantile(_name), id=f"{_name}_3d", params=_quantile_params(_LINEAR + _STEP),
         specials=(), smooth=False)


# ------------------------------------------------------------------------------ aminmax
def _aminmax_params(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = len(shapes[0])
    return st.fixed_dictionaries({
        "dim": st.none() if n == 0 else st.one_of(st.none(), st.integers(-n, n - 1)),
        "keepdim": st.booleans()})


def _aminmax(m: Any, a: Any, dim: Any, keepdim: bool) -> Any:
    low, high = m.t.aminmax(a, dim=dim, keepdim=keepdim)
    return m.t.stack([low, high])


spec("max", _aminmax, id="aminmax", params=_aminmax_params, smooth=False,
     dtypes=FLOATS + ("int64", "uint8", "bool"))
spec("min", lambda m, a, dim, keepdim: a.aminmax(dim=dim, keepdim=keepdim).min,
     id="aminmax_min", params=_aminmax_params, smooth=False)


# ------------------------------------------------------------------------------ histc, bincount
def _histc_params(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({
        "bins": st.sampled_from([1, 3, 4, 10, 0]),
        "range_": st.sampled_from([(0, 0), (-1, 1), (0.5, 0.5), (-2.5, 0.3), (0.1, 0.7), (2, 1),
                                   (0, float("inf"))])})


spec("getitem", lambda m, a, bins, range_: m.t.histc(a, bins, *range_), id="histc", grad=False,
     params=_histc_params, dtypes=FLOATS + ("int64", "bool"))
# values rounded to multiples of 0.1: many fall on (or within a rounding of) a bin edge
spec("getitem", lambda m, a, bins, range_: ((a * 10).round() / 10).histc(bins, *range_),
     id="histc_edges", grad=False, params=_histc_params, specials=("zero", "tie"),
     shapes=broadcast_shapes(1, min_dims=1, max_side=40, max_dims=1))


def _bincount_params(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = shapes[0][0] if len(shapes[0]) == 1 else 3
    weights = st.tuples(st.sampled_from(["float32", "float64", "float16", "int64", "bool"]),
                        st.integers(0, 2**32 - 1)).map(
        lambda p: (np.random.default_rng(p[1]).standard_normal(n) * 10).astype(p[0]))
    return st.fixed_dictionaries({"minlength": st.sampled_from([0, 3, 9, -1]),
                                  "weights": st.one_of(st.none(), weights)})


# the values squared: non-negative (a float or 2-D input is refused by both)
spec("getitem", lambda m, a, minlength, weights: m.t.bincount(
    a * a, None if weights is None else m.const(weights), minlength), id="bincount", grad=False,
     params=_bincount_params, domain="int", specials=(),
     dtypes=("int64", "int32", "uint8", "float32"),
     shapes=st.one_of(st.integers(0, 12).map(lambda n: [(n,)]), st.just([(2, 3)])))


# ------------------------------------------------------------------------------ cov, corrcoef
def _observations(shapes: list[tuple[int, ...]]) -> int:
    shape = shapes[0]
    return shape[-1] if len(shape) == 2 else int(np.prod(shape))


def _cov_params(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = _observations(shapes)
    fweights = st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=n, max_size=n)
                         .map(lambda f: np.array(f, np.int64)))
    return st.fixed_dictionaries({"correction": st.sampled_from([0, 1, 2, -1]),
                                  "fweights": fweights})


# (``a * 1``, not ``a``: with fweights and one observation, PyTorch 2.13 refuses a leaf that
# requires grad -- "a view of a leaf Variable ... is being used in an in-place operation" -- where
# the same values without grad, or a non-leaf, compute; ours computes in both cases)
_MATRICES = broadcast_shapes(1, max_dims=2)
spec("matmul", lambda m, a, correction, fweights: m.t.cov(
    a * 1, correction=correction, fweights=None if fweights is None else m.const(fweights)), id="cov",
     params=_cov_params, shapes=_MATRICES, dtypes=FLOATS + ("int64", "bool"), rtol=8)
# aweights a second input (gradients reach it): one per observation, positive
spec("matmul", lambda m, a, w, correction, fweights: m.t.cov(
    a * 1, correction=correction, aweights=w, fweights=None if fweights is None else m.const(fweights)),
     id="cov_aweights", arity=2, params=_cov_params, domain=("real", "positive"), rtol=8,
     shapes=_MATRICES.map(lambda s: [s[0], (_observations(s),)]))
spec("clamp", lambda m, a: m.t.corrcoef(a), id="corrcoef", shapes=_MATRICES, rtol=8,
     dtypes=FLOATS + ("int64",))


# ------------------------------------------------------------------------------ cdist
_P = [0.0, 1.0, 2.0, 3.0, 0.5, 1.5, float("inf")]


def _pair_shapes(max_rows: int, least: int = 0) -> st.SearchStrategy[list[tuple[int, ...]]]:
    """``x1 (batch1..., P, M)`` and ``x2 (batch2..., R, M)`` with broadcasting batch dims (some
    drawn to refuse) and sizes from ``least`` (0: empty ones too)."""
    batches = [((), ()), ((2,), (2,)), ((2,), ()), ((1, 3), (2, 1)), ((2,), (3,))]
    batch = st.sampled_from(batches + ([((0,), (0,))] if least == 0 else []))
    size = st.integers(least, max_rows)
    return st.tuples(batch, size, size, st.integers(least, 3)).map(
        lambda s: [s[0][0] + (s[1], s[3]), s[0][1] + (s[2], s[3])])


def _p_mode(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"p": st.sampled_from(_P),
                                  "mode": st.sampled_from(["donot_use_mm_for_euclid_dist",
                                                           "use_mm_for_euclid_dist_if_necessary"])})


# the direct kernel: float32/float64 (PyTorch's CPU refuses float16 there, ours computes it);
# PyTorch has no second derivatives of it
spec("cdist", lambda m, a, b, p, mode: m.t.cdist(a, b, p, mode), arity=2,
     shapes=_pair_shapes(4), params=_p_mode, dtypes=("float32", "float64"), smooth=False, rtol=4)
spec("cdist", lambda m, a, b, p: m.t.cdist(a, m.t.cat([a[:1] * 1, b]), p), id="tied_rows",
     arity=2, shapes=fixed((3, 2), (2, 2)), params=lambda s: st.fixed_dictionaries(
         {"p": st.sampled_from(_P)}), dtypes=("float32", "float64"), smooth=False, rtol=4)
spec("cdist", lambda m, a, b: m.t.cdist(a, b, 2.0), id="refused", arity=2,
     shapes=st.sampled_from([[(3,), (2, 3)], [(2, 3), (2, 2)]]), dtypes=("float64", "int64"),
     grad=False)
# the matrix-product path (p = 2): float16 as well; second derivatives through its VJP. No ties
# or zeros drawn: a distance of 0 comes out as a rounding error of either library's product. Not
# empty: PyTorch takes the direct kernel for those (ours too: the "cdist" specs). The second set
# of points is moved 8 away: two points that fall close by chance (0.7159 and 0.7182) leave their
# distance to the rounding of |a|² + |b|² - 2ab, where the two libraries' products (summed in
# another order, by another BLAS) differed by 4% in a float32 gradient -- a long fuzz found that
_MM = {"specials": ("inf", "nan"), "rtol": 64}
spec("euclidean_dist",
     lambda m, a, b: m.t.cdist(a, b + 8, compute_mode="use_mm_for_euclid_dist"),
     arity=2, shapes=_pair_shapes(4, least=1), **_MM)
spec("euclidean_dist", lambda m, a, b: m.t.cdist(a, b + 8), id="more_than_25_rows", arity=2,
     shapes=st.sampled_from([[(26, 3), (2, 3)], [(2, 1, 3), (3, 27, 3)]]), **_MM)


# ------------------------------------------------------------------------------ multilabel margin
def _label_lists(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    """A target of the input's shape: class indices, -1 (the end of a sample's list) or, now and
    then, an index out of range (refused by both); and a reduction."""
    shape = shapes[0]
    c = shape[-1] if shape else 1
    target = st.integers(0, 2**32 - 1).map(lambda seed: np.random.default_rng(seed).integers(
        -1, c + (seed % 16 == 0), shape).astype(np.int64))
    return st.fixed_dictionaries({"target": target,
                                  "reduction": st.sampled_from(["mean", "sum", "none"])})


# (no empty batch: PyTorch's mean and sum of one are uninitialised memory; float16: PyTorch's CPU
# refuses it, ours computes it -- test_stats_ops.py checks both)
spec("gather", lambda m, a, target, reduction: m.F.multilabel_margin_loss(
    a, m.const(target), reduction=reduction), id="multilabel_margin_loss", params=_label_lists,
     shapes=st.one_of(broadcast_shapes(1, min_dims=2, max_dims=2, min_side=1, max_side=5),
                      broadcast_shapes(1, max_dims=1, min_side=1, max_side=5)),
     dtypes=("float32", "float64", "int64"), smooth=False)
