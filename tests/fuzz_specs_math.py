"""Fuzzer specs for issue 14's math (``fuzz_specs.py``'s format; imported by it): the elementwise
math of ops/unary.py and ops/elementwise.py, the reductions of ops/reduce.py, einsum, and the
compositions built on them (square, tensordot, outer, dot, mv, bmm: specs of the ops they apply).

Second derivatives are compared only on draws without special values, so the tricky points get
specs of their own that put them there on purpose: zeros for prod/cumprod and zero rows for norm
(multiplied in by a constant mask), ``correction`` larger than the sample for var.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from fuzz_specs import FLOATS, INTS, binary, broadcast_shapes, dims_param, fixed, spec, unary
from hypothesis import strategies as st

NUMBERS = FLOATS + INTS + ("bool",)  # the float functions take every dtype (ints -> float32)
SIGNED = FLOATS + ("int64", "int32")


def _method(name: str) -> Any:
    return lambda m, a: getattr(a, name)()


# ------------------------------------------------------------------------------ one tensor
for _name, _domain in [("sin", "real"), ("cos", "real"), ("tan", "unit"), ("asin", "unit"),
                       ("acos", "unit"), ("atan", "real"), ("sinh", "real"), ("cosh", "real"),
                       ("asinh", "real"), ("acosh", "above1"), ("atanh", "unit"),
                       ("log1p", "positive"), ("expm1", "real"), ("log2", "positive"),
                       ("log10", "positive"), ("exp2", "real"), ("reciprocal", "nonzero"),
                       ("rsqrt", "positive"), ("erf", "real")]:
    unary(_name, _method(_name), domain=_domain, dtypes=NUMBERS)
    if _domain != "real":  # outside the domain: NaN, inf at the edges, in both libraries
        unary(_name, _method(_name), id="any_sign", smooth=False)
unary("erf", lambda m, a: (a * 3).erf(), id="tails")
unary("erfc", lambda m, a: a.erfc(), dtypes=NUMBERS)
unary("erfc", lambda m, a: (a * 8).erfc(), id="tails")  # (erfc(8) = 1e-29: no 1 - erf)
unary("erfinv", lambda m, a: a.erfinv(), domain="unit", dtypes=NUMBERS)
unary("erfinv", lambda m, a: a.erfinv(), id="any_sign", smooth=False)  # (±inf at ±1, NaN beyond)
unary("erfinv", lambda m, a: (1 - (a * 30).exp().reciprocal()).erfinv(), id="tails",
      domain="positive")  # (1 - e^-30x: the tail near 1, where Newton on erf creeps)
unary("logit", lambda m, a: ((a + 1) / 2).logit(), domain="unit", dtypes=FLOATS)
unary("logit", lambda m, a: a.logit(), id="any_sign", smooth=False)  # (NaN gradient outside [0, 1])
# (0 outside [eps, 1-eps]; at a NaN, PyTorch's vectorised loop gives 0 and its scalar loop -- a
# tensor under 16 float64s, the last elements of others -- NaN, as ours: NaN is not drawn here,
# and the op stays out of the programs, which draw NaN)
unary("logit", lambda m, a: a.logit(eps=0.25), id="eps", smooth=False,
      specials=("zero", "tie", "inf"), in_programs=False)
unary("lgamma", lambda m, a: a.lgamma(), domain="positive", dtypes=NUMBERS)
unary("lgamma", lambda m, a: (a * 3.3).lgamma(), id="any_sign", smooth=False)  # (poles: +inf)
# (digamma and polygamma stay out of the random programs: PyTorch's float64 trigamma is off by
# up to 5e-10 of mpmath's -- ours by 7e-16 -- and a program's sums of paths can cancel that
# into a gradient far past float64's tolerance; the cases here compare each op alone)
unary("digamma", lambda m, a: a.digamma(), domain="positive", dtypes=NUMBERS, in_programs=False)
# (PyTorch's pole values differ at -0 and the integers; and within 1e-3 of a pole PyTorch's
# float32 trigamma is off by 4e-3 -- ours by 6e-8 of float64's -- so the points keep 0.1 away:
# n - 0.5 ± 0.4 for an integer n of either sign)
unary("digamma", lambda m, a: ((a * 1.7).round() - 0.5 + a.sin() * 0.4).digamma(),
      id="negative_non_integers", smooth=False, specials=(), in_programs=False)
unary("polygamma", lambda m, a, n: m.t.polygamma(n, a), domain="positive", dtypes=FLOATS,
      in_programs=False,
      params=lambda s: st.fixed_dictionaries({"n": st.integers(1, 3)}),
      specials=("zero", "tie", "nan"))  # (at ±inf PyTorch's Cephes gives NaN or ±inf by n)
unary("pow", lambda m, a: a.square(), id="square", dtypes=NUMBERS)
for _name in ("floor", "ceil", "trunc", "round", "sign", "angle"):
    unary(_name, _method(_name), smooth=False, dtypes=FLOATS + INTS + ("bool",))
unary("round", lambda m, a, decimals: (a * 37).round(decimals=decimals), id="decimals",
      smooth=False, params=lambda s: st.fixed_dictionaries({"decimals": st.integers(-2, 3)}))
unary("frac", lambda m, a: (a * 3).frac(), smooth=False, dtypes=NUMBERS)
unary("nan_to_num", lambda m, a: a.nan_to_num(), dtypes=FLOATS)
unary("nan_to_num", lambda m, a: a.nan_to_num(nan=1.5, posinf=2.0, neginf=-3.0), id="values",
      dtypes=FLOATS)

# ------------------------------------------------------------------------------ two tensors
# (not in random programs: there nan_to_num makes +-1.8e308, and PyTorch's vectorised
# remainder overflows on it -- x / y is inf: NaN -- where its scalar loop, numpy and ours give
# the true remainder; found by the long fuzz run, 12 elements NaN, 3 elements right)
binary("remainder", lambda m, a, b: a % b, domain=("real", "nonzero"), smooth=False,
       dtypes=SIGNED, in_programs=False)
binary("remainder", lambda m, a, b: a.remainder(b), id="zeros_and_infs", smooth=False,
       dtypes=FLOATS + ("int64",), in_programs=False)
unary("remainder", lambda m, a: a % 0.75, id="python_scalar", smooth=False, in_programs=False)
# PyTorch has no derivative for a number % tensor (ours is -floor(x / y), gradchecked in
# op_cases_math.py): values only
unary("remainder", lambda m, a: -1.5 % a, id="reflected", grad=False, dtypes=SIGNED)
binary("fmod", lambda m, a, b: a.fmod(b), domain=("real", "nonzero"), smooth=False,
       dtypes=SIGNED)
binary("fmod", lambda m, a, b: a.fmod(b), id="zeros_and_infs", smooth=False,
       dtypes=FLOATS + ("int64",))
binary("atan2", lambda m, a, b: a.atan2(b), domain=("real", "nonzero"), dtypes=NUMBERS)
binary("atan2", lambda m, a, b: a.atan2(b), id="origin", smooth=False)
# (not in random programs: copysign reads a NaN's sign bit, and the NaN an op makes has numpy's
# sign there, PyTorch's here -- acos(2.) is +NaN in numpy, -NaN in PyTorch; the long fuzz found it)
binary("copysign", lambda m, a, b: a.copysign(b), domain="nonzero", in_programs=False)
binary("copysign", lambda m, a, b: a.copysign(b), id="zeros_and_edges", smooth=False,
       in_programs=False)
binary("logaddexp", lambda m, a, b: a.logaddexp(b))
binary("logaddexp", lambda m, a, b: a.logaddexp(b), id="infinities", smooth=False)
# (not in random programs: at a tie PyTorch's logaddexp2 is an ulp off where numpy's is exact --
# logaddexp2(-1., -1.) is -4.8e-17 there, 0 here -- and a log, atan2 or lgamma after it turns
# that ulp into -inf against -36.8, or pi against -pi; the long fuzz found it. Values, ties and
# gradients stay checked op by op)
binary("logaddexp2", lambda m, a, b: a.logaddexp2(b), in_programs=False)
binary("logaddexp2", lambda m, a, b: a.logaddexp2(b), id="infinities", smooth=False,
       in_programs=False)
binary("xlogy", lambda m, a, b: a.xlogy(b), domain=("real", "positive"))
binary("xlogy", lambda m, a, b: a.xlogy(b), id="zeros_and_edges", smooth=False)
binary("hypot", lambda m, a, b: a.hypot(b), domain="nonzero")
binary("hypot", lambda m, a, b: a.hypot(b), id="origin", smooth=False)
spec("lerp", lambda m, a, b, w: a.lerp(b, w), arity=3, shapes=broadcast_shapes(3),
     elementwise=True)
binary("lerp", lambda m, a, b, w: a.lerp(b, w), id="number_weight",
       params=lambda s: st.fixed_dictionaries({"w": st.sampled_from([0.0, 0.25, 0.5, 0.9, -1.5])}))


# ------------------------------------------------------------------------------ reductions
def _one_dim(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    """PyTorch's prod takes one int dim (keepdim only with it) or none."""
    n = max(len(shapes[0]), 1)
    return st.one_of(st.just({"dim": None, "keepdim": False}),
                     st.fixed_dictionaries({"dim": st.integers(-n, n - 1),
                                            "keepdim": st.booleans()}))


def _prod(m: Any, a: Any, dim: Any, keepdim: bool) -> Any:
    return a.prod() if dim is None else a.prod(dim, keepdim=keepdim)


_ZEROS = np.array([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]])  # 1, 2, 0
spec("prod", _prod, params=_one_dim, dtypes=NUMBERS, rtol=4)
spec("prod", lambda m, a, dim, keepdim: _prod(m, a * m.const(_ZEROS), dim, keepdim),
     id="with_zeros", params=_one_dim, shapes=fixed((3, 4)), specials=(), rtol=4)
spec("prod", lambda m, a, dim, keepdim: _prod(m, a * m.const(_ZEROS[:2].T), dim, keepdim),
     id="zeros_in_columns", params=_one_dim, shapes=fixed((4, 2)), specials=(), rtol=4)
spec("cumsum", lambda m, a, dim: a.cumsum(dim), params=lambda s: st.fixed_dictionaries(
    {"dim": st.integers(-max(len(s[0]), 1), max(len(s[0]), 1) - 1)}), dtypes=NUMBERS, rtol=4)


def _scan_dim(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    n = max(len(shapes[0]), 1)
    return st.fixed_dictionaries({"dim": st.integers(-n, n - 1)})


spec("cumprod", lambda m, a, dim: a.cumprod(dim), params=_scan_dim, dtypes=NUMBERS, rtol=4)
spec("cumprod", lambda m, a, dim: (a * m.const(_ZEROS)).cumprod(dim), id="with_zeros",
     params=_scan_dim, shapes=fixed((3, 4)), specials=(), rtol=4)
spec("cumprod", lambda m, a: (a * m.const(np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0]))).cumprod(0),
     id="two_zeros_long", shapes=fixed((6,)), specials=(), rtol=4)


def _var_params(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    return dims_param(shapes).flatmap(lambda d: st.fixed_dictionaries(
        {"correction": st.sampled_from([0, 1, 2, 1.5, 7])}).map(lambda c: {**d, **c}))


spec("var", lambda m, a, dim, keepdim, correction: a.var(dim, correction=correction,
                                                         keepdim=keepdim),
     params=_var_params, rtol=4)
spec("var", lambda m, a, dim: a.var(dim, False), id="unbiased_positional", params=_scan_dim,
     rtol=4)
spec("std", lambda m, a, dim, keepdim, correction: a.std(dim, correction=correction,
                                                         keepdim=keepdim),
     params=_var_params, rtol=4)
spec("std", lambda m, a: (a * 0 + 1.5).std(1), id="all_equal", shapes=fixed((2, 3)), rtol=4)

_P = [1, 2, 3, 0.5, 1.5, math.inf, -math.inf, 0, -1, "fro"]


def _norm_params(shapes: list[tuple[int, ...]]) -> st.SearchStrategy[dict[str, Any]]:
    return dims_param(shapes).flatmap(lambda d: st.fixed_dictionaries(
        {"p": st.sampled_from(_P)}).map(lambda p: {**d, **p}))


spec("norm", lambda m, a, p, dim, keepdim: a.norm(p=p, dim=dim, keepdim=keepdim),
     params=_norm_params, rtol=4, specials=("zero", "tie", "inf"))
spec("norm", lambda m, a, p, dim, keepdim: (a * m.const(_ZEROS[1:] * 0 + [[1], [0]])).norm(
    p=p, dim=dim, keepdim=keepdim), id="zero_row", shapes=fixed((2, 4)), specials=(),
     params=lambda s: st.fixed_dictionaries({"p": st.sampled_from(_P), "dim": st.just(1),
                                             "keepdim": st.booleans()}), rtol=4)
spec("max", lambda m, a, dim, keepdim: a.amax(dim if dim is not None else (), keepdim=keepdim),
     id="amax", params=dims_param, smooth=False, shapes=broadcast_shapes(1, min_side=1),
     dtypes=FLOATS + INTS + ("bool",))
spec("min", lambda m, a, dim, keepdim: a.amin(dim if dim is not None else (), keepdim=keepdim),
     params=dims_param, smooth=False, shapes=broadcast_shapes(1, min_side=1),
     dtypes=FLOATS + INTS + ("bool",))


# ------------------------------------------------------------------------------ linear algebra
def _einsum(equation: str, *shapes: tuple[int, ...], what: str = "", op: str = "einsum",
            **kw: Any) -> None:
    """``op``: the registered op an equation of one operand comes down to (PyTorch's einsum
    returns a view for a diagonal or a permutation; so does ours: diagonal, permute, sum)."""
    name = equation.replace("...", "E").replace("->", "_to_").replace(",", "_")
    spec(op, lambda m, *ts: m.t.einsum(equation, *ts), arity=len(shapes),
         shapes=fixed(*shapes), id=name + (f"_{what}" if what else ""), rtol=8,
         specials=("zero", "tie"), **kw)


_einsum("ij,jk->ik", (3, 4), (4, 2), dtypes=FLOATS + ("int64",))
_einsum("ij,jk", (3, 4), (4, 2))
_einsum("bij,bjk->bik", (2, 3, 4), (2, 4, 2))
_einsum("ii->i", (3, 3), op="diagonal")
_einsum("ii", (3, 3), op="diagonal")
_einsum("iij->j", (3, 3, 2), op="diagonal")
_einsum("iji->ij", (3, 2, 3), op="diagonal")
_einsum("i,i", (4,), (4,))
_einsum("i,j->ij", (3,), (2,))
_einsum("ij->ji", (2, 3), op="permute")
_einsum("ij->", (2, 3), op="sum")
_einsum("ab,cd->dbca", (2, 3), (4, 1))
_einsum("...j,jk", (2, 3, 4), (4, 2))
_einsum("...j,jk->k", (2, 3, 4), (4, 2))
_einsum("...ij,...jk->...ik", (2, 1, 3, 4), (5, 4, 2))
_einsum("ij,jk->ik", (3, 1), (4, 2), what="broadcast_label")  # j has size 1 in the first
_einsum("ij,jk,kl->il", (2, 3), (3, 4), (4, 2))
_einsum("i,ij,j->", (3,), (3, 4), (4,))
_einsum("bn,anm,bm->ba", (2, 3), (4, 3, 5), (2, 5))
_einsum("ij,jk->ik", (0, 3), (3, 2), what="empty_rows")
_einsum("ij,jk->ik", (2, 0), (0, 3), what="empty_sum")
_einsum(",i->i", (), (3,))
spec("einsum", lambda m, a, b: m.t.einsum("ij,jk", [a, b]), arity=2, id="operand_list",
     shapes=fixed((2, 3), (3, 2)), rtol=8)
spec("einsum", lambda m, a, b: m.t.einsum(a, [0, 1], b, [1, 2], [0, 2]), arity=2, id="sublist",
     shapes=fixed((2, 3), (3, 2)), rtol=8)
spec("einsum", lambda m, a, b, dims: m.t.tensordot(a, b, dims=dims), arity=2, id="tensordot",
     shapes=fixed((2, 3, 4), (3, 4, 2)), rtol=8,
     params=lambda s: st.fixed_dictionaries({"dims": st.sampled_from(
         [([1, 2], [0, 1]), ([2], [1]), ([1], [0]), [[2, 1], [1, 0]], 0])}))
spec("einsum", lambda m, a, b: m.t.tensordot(a, b, 2), arity=2, id="tensordot_int",
     shapes=fixed((2, 3, 4), (3, 4, 2)), rtol=8)
spec("outer", lambda m, a, b: m.t.outer(a, b), arity=2, id="outer",
     shapes=st.sampled_from([[(3,), (4,)], [(0,), (2,)], [(1,), (1,)]]), dtypes=FLOATS + ("int64",))
spec("mul", lambda m, a, b: m.t.kron(a, b), arity=2, id="kron",
     shapes=st.sampled_from([[(2, 3), (4,)], [(3,), (2, 2)], [(), (3,)], [(2, 0), (3, 2)]]),
     dtypes=FLOATS + ("int64",))
spec("mul", lambda m, a, b: m.t.linalg.cross(a, b), arity=2, id="cross",
     shapes=st.sampled_from([[(3,), (3,)], [(2, 3), (1, 3)], [(4, 1, 3), (1, 2, 3)],
                             [(0, 3), (1, 3)], [(2, 3), (3,)]]))
spec("mul", lambda m, a, b: m.t.cross(a, b, dim=0), arity=2, id="cross_dim",
     shapes=fixed((3, 2), (3, 2)))
spec("einsum", lambda m, a, b: m.t.inner(a, b), arity=2, id="inner",
     shapes=st.sampled_from([[(2, 3), (4, 3)], [(3,), (3,)], [(2, 1, 3), (3,)]]), rtol=8)
spec("mul", lambda m, a, b: m.t.inner(a, b), arity=2, id="inner_0d", shapes=fixed((), (2, 3)))
def _svd_gauge_free(m: Any, a: Any) -> Any:
    U, S, Vh = m.t.linalg.svd(a, full_matrices=False)
    return (U * S.unsqueeze(-2)) @ Vh + (U.abs() @ Vh.abs()) * 0.5


def _shifted(m: Any, a: Any) -> Any:
    # (tanh(a) + 3 I is diagonally dominant for 3x3: a condition number of a few. A + 3 I drew
    # one of 5,700, where PyTorch's second derivative of det * inverse is off by 3e-7 of
    # mpmath's -- ours by 3e-10 -- past float64's tolerance)
    return a.tanh() + 3 * m.t.eye(a.shape[-1], dtype=a.dtype)


# inverse and determinant of A + 3 I (invertible for normal draws); at an exactly singular matrix
# PyTorch 2.13's det gradient is 0 (its own gradcheck fails there), ours the cofactors
# (tests/test_session17_fixes.py checks them against finite differences)
spec("linalg_inv", lambda m, a: m.t.linalg.inv(a + 3 * m.t.eye(a.shape[-1], dtype=a.dtype)),
     shapes=st.sampled_from([[(3, 3)], [(2, 4, 4)], [(1, 1)], [(0, 0)], [(2, 0, 0)]]),
     dtypes=("float32", "float64"), specials=(), rtol=8)
spec("linalg_det", lambda m, a: m.t.linalg.det(a + 3 * m.t.eye(a.shape[-1], dtype=a.dtype)),
     shapes=st.sampled_from([[(3, 3)], [(2, 4, 4)], [(1, 1)], [(0, 0)], [(2, 0, 0)]]),
     dtypes=("float32", "float64"), specials=(), rtol=8)
spec("linalg_det", lambda m, a: _shifted(m, a).det()[..., None] * _shifted(m, a).inverse().sum(-1),
     id="methods", shapes=fixed((2, 3, 3)), dtypes=("float64",), specials=(), rtol=8)
# singular values (distinct for normal draws), and a function of U, S, Vh that does not depend on
# the singular vectors' arbitrary signs (NaN/inf inputs: both libraries refuse; not drawn)
spec("linalg_svd", lambda m, a: m.t.linalg.svdvals(a), id="svdvals",
     shapes=st.sampled_from([[(3, 4)], [(4, 3)], [(2, 3, 3)], [(1, 5)], [(0, 3)], [(2, 0, 2)]]),
     dtypes=("float32", "float64"), specials=(), rtol=8, in_programs=False)
spec("linalg_svd", lambda m, a: _svd_gauge_free(m, a), id="gauge_free",
     shapes=st.sampled_from([[(3, 4)], [(4, 3)], [(2, 3, 3)]]), dtypes=("float64",),
     specials=(), rtol=8, in_programs=False)
spec("sum", lambda m, a, dim: m.t.trapezoid(a, dim=dim), id="trapezoid",
     shapes=st.sampled_from([[(3,)], [(4, 2)], [(1, 3)], [(0, 2)], [(2, 1)]]),
     params=lambda s: st.fixed_dictionaries({"dim": st.integers(-len(s[0]), len(s[0]) - 1)}),
     dtypes=FLOATS + ("int64",), rtol=4)
spec("sum", lambda m, a, b: m.t.trapezoid(a, b), arity=2, id="trapezoid_x",
     shapes=st.sampled_from([[(2, 4), (4,)], [(3, 2), (3, 2)], [(1,), (1,)]]), rtol=4)
spec("cumsum", lambda m, a: m.t.cumulative_trapezoid(a, dx=0.5, dim=0), id="cumulative_trapezoid",
     shapes=st.sampled_from([[(4, 2)], [(1, 3)], [(0,)], [(5,)]]), rtol=4)
spec("matvec", lambda m, a, b: m.t.dot(a, b), arity=2, id="dot",
     shapes=st.sampled_from([[(4,), (4,)], [(0,), (0,)], [(1,), (1,)]]), rtol=8)
spec("matvec", lambda m, a, b: m.t.mv(a, b), arity=2, id="mv",
     shapes=st.sampled_from([[(3, 4), (4,)], [(3, 0), (0,)], [(0, 2), (2,)]]), rtol=8)
spec("matvec", lambda m, a, b: a @ b, arity=2, id="vector_matrix",
     shapes=st.sampled_from([[(4,), (4, 3)], [(0,), (0, 2)], [(2,), (2, 0)]]), rtol=8)
spec("matmul", lambda m, a, b: m.t.bmm(a, b), arity=2, id="bmm", shapes=fixed((2, 3, 4), (2, 4, 5)),
     rtol=8)
# the add* products: beta * input + alpha * product (PyTorch's BLAS-style names)
spec("matmul", lambda m, c, a, b: m.t.addmm(c, a, b, beta=0.5, alpha=-2), arity=3, id="addmm",
     shapes=st.sampled_from([[(3, 5), (3, 4), (4, 5)], [(5,), (3, 4), (4, 5)],
                             [(1, 1), (3, 4), (4, 5)]]), rtol=8)
spec("matmul", lambda m, c, a, b: c.addmm(a, b, beta=0), arity=3, id="addmm_beta0",
     shapes=fixed((3, 5), (3, 4), (4, 5)), rtol=8)
spec("matvec", lambda m, c, a, b: m.t.addmv(c, a, b, alpha=3), arity=3, id="addmv",
     shapes=fixed((3,), (3, 4), (4,)), rtol=8)
spec("matmul", lambda m, c, a, b: m.t.baddbmm(c, a, b, beta=2), arity=3, id="baddbmm",
     shapes=st.sampled_from([[(2, 3, 5), (2, 3, 4), (2, 4, 5)], [(3, 5), (2, 3, 4), (2, 4, 5)]]),
     rtol=8)
spec("matmul", lambda m, c, a, b: m.t.addbmm(c, a, b), arity=3, id="addbmm",
     shapes=fixed((3, 5), (2, 3, 4), (2, 4, 5)), rtol=8)
