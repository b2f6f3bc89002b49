"""Fuzz specs (fuzz_specs.py's format) of the threshold activations (threshold, hardshrink,
softshrink), pdist, soft_margin_loss, and the compositions added with them -- softsign,
tanhshrink, rrelu (eval), glu, softmin, cosine_similarity, pairwise_distance and the margin,
embedding and likelihood losses -- each under a registered op it applies, against its PyTorch
counterpart.

None of these joins the random-program fuzzer (they are not ``unary``/``binary`` specs): their
op-by-op comparison here covers them. NaN inputs are left out where PyTorch's scalar loop (the
small tensors drawn here run in it) disagrees with its vectorised loop, which ours follows
(hardshrink and softshrink; test_act_loss_more.py checks them on 80 elements).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fuzz_specs import FLOATS, broadcast_shapes, fixed, spec
from hypothesis import strategies as st

_F32_64 = ("float32", "float64")
_NO_NAN = ("zero", "tie", "inf")
_REDUCTION = ["mean", "sum", "none"]


def _choice(**options: list[Any]) -> Any:
    return lambda shapes: st.fixed_dictionaries({k: st.sampled_from(v)
                                                 for k, v in options.items()})


def _const(m: Any, a: Any, x: Any) -> Any:
    """A constant of ``x``'s dtype (a target or a weight that needs no gradient)."""
    return m.const(np.asarray(a).astype(str(x.dtype).replace("torch.", "")))


def _signs(m: Any, x: Any, n: int) -> Any:
    """A fixed ±1 (and one 0) target of length ``n`` in ``x``'s dtype."""
    return _const(m, np.resize([1.0, -1.0, -1.0, 1.0, 0.0], n), x)


# ------------------------------------------------------------------------------ thresholds
spec("threshold", lambda m, a, th, value: m.F.threshold(a, th, value), arity=1, smooth=False,
     params=_choice(th=[0.0, 0.5, -1.0], value=[-2.0, 0.0, 3.0]),
     dtypes=FLOATS + ("int64", "int32"))
spec("threshold", lambda m, a: m.F.threshold(a * 1, 0.0, 20.0, inplace=True), id="inplace",
     arity=1, smooth=False)
spec("hardshrink", lambda m, a, lambd: m.F.hardshrink(a, lambd), arity=1, smooth=False,
     params=_choice(lambd=[0.5, 0.0, 1.0, -0.5]), specials=_NO_NAN)
spec("softshrink", lambda m, a, lambd: m.F.softshrink(a, lambd), arity=1, smooth=False,
     params=_choice(lambd=[0.5, 0.0, 1.0]), specials=_NO_NAN)

# ------------------------------------------------------------------------------ compositions
spec("abs", lambda m, a: m.F.softsign(a), id="softsign", arity=1)
spec("tanh", lambda m, a: m.F.tanhshrink(a), id="tanhshrink", arity=1)
spec("leaky_relu", lambda m, a, lower, upper: m.F.rrelu(a, lower, upper), id="rrelu_eval",
     arity=1, smooth=False, params=_choice(lower=[0.125, 0.0], upper=[1 / 3, 0.5]))
spec("sigmoid", lambda m, a, dim: m.F.glu(a, dim), id="glu", arity=1,
     shapes=st.sampled_from([[(4, 3)], [(2, 2, 6)], [(2,)], [(0, 2)]]),
     params=lambda s: st.fixed_dictionaries({"dim": st.sampled_from(
         [d for d in range(-len(s[0]), len(s[0])) if s[0][d] % 2 == 0])}))
spec("softmax", lambda m, a, dim: m.F.softmin(a, dim), id="softmin", arity=1,
     shapes=broadcast_shapes(1, min_dims=1), specials=_NO_NAN,
     params=lambda s: st.fixed_dictionaries({"dim": st.integers(-len(s[0]), len(s[0]) - 1)}))

# ------------------------------------------------------------------------------ distances
spec("norm", lambda m, a, b, dim, eps: m.F.cosine_similarity(a, b, dim, eps),
     id="cosine_similarity", arity=2, rtol=4,
     shapes=st.sampled_from([[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 3, 2), (3, 1)], [(5,), (5,)]]),
     params=lambda s: st.fixed_dictionaries({"dim": st.sampled_from([-1, 0]),
                                             "eps": st.sampled_from([1e-8, 0.5])}))
# (float16: where x1 = x2, the distance is eps = 1e-6, a float16 subnormal, and PyTorch's norm
# gradient for p = 3 underflows to 0 / 0 = NaN in float16; ours keeps it (test_act_loss_more.py
# compares float16 away from there))
spec("norm", lambda m, a, b, p, keepdim: m.F.pairwise_distance(a, b, p, 1e-6, keepdim),
     id="pairwise_distance", arity=2, rtol=4, smooth=False, dtypes=_F32_64,
     shapes=st.sampled_from([[(3, 4), (3, 4)], [(3, 4), (4,)], [(4,), (2, 4)], [(), ()]]),
     params=_choice(p=[2.0, 1.0, 3.0, float("inf"), 0.0], keepdim=[False, True]))
# (float16: PyTorch's CPU pdist refuses it, ours computes it; no second derivatives in PyTorch;
# no (0, M) input: PyTorch's pdist backward crashes the process on it -- a segmentation fault --
# test_act_loss_more.py checks ours)
spec("pdist", lambda m, a, p: m.F.pdist(a, p), rtol=4, smooth=False, dtypes=_F32_64,
     shapes=st.sampled_from([[(4, 3)], [(5, 2)], [(1, 3)], [(3, 0)]]),
     params=_choice(p=[2.0, 1.0, 0.0, 0.5, 1.5, 3.0, float("inf")]))

# ------------------------------------------------------------------------------ losses
spec("clamp", lambda m, a, b, c, margin, reduction: m.F.margin_ranking_loss(
    a, b, c.sign(), margin, reduction=reduction), id="margin_ranking_loss", arity=3,
     shapes=st.sampled_from([[(5,), (5,), (5,)], [(2, 3), (2, 3), (1, 3)]]), smooth=False,
     params=_choice(margin=[0.0, 0.5], reduction=_REDUCTION))
spec("where", lambda m, a, margin, reduction: m.F.hinge_embedding_loss(
    a, _signs(m, a, a.shape[-1]), margin, reduction=reduction), id="hinge_embedding_loss",
     shapes=st.sampled_from([[(5,)], [(3, 5)]]), smooth=False,
     params=_choice(margin=[1.0, 0.0, -0.5], reduction=_REDUCTION))
spec("soft_margin_loss", lambda m, a, scale, reduction: m.F.soft_margin_loss(
    a * scale, _signs(m, a, a.shape[-1]), reduction=reduction),
     shapes=st.sampled_from([[(5,)], [(2, 5)], [(0, 5)]]),
     params=_choice(scale=[1.0, 100.0], reduction=_REDUCTION))
spec("logsigmoid", lambda m, a, b, weighted, reduction: m.F.multilabel_soft_margin_loss(
    a, b.sigmoid(), weight=_const(m, [0.5, 2.0, 1.0, 1.5], a) if weighted else None,
    reduction=reduction), id="multilabel_soft_margin_loss", arity=2, rtol=4,
     shapes=st.sampled_from([[(3, 4), (3, 4)], [(4,), (4,)]]),
     params=_choice(weighted=[False, True], reduction=_REDUCTION))
spec("sqrt", lambda m, a, b, margin, reduction: m.F.cosine_embedding_loss(
    a, b, _signs(m, a, a.shape[0]) if a.ndim == 2 else _const(m, -1.0, a), margin,
    reduction=reduction), id="cosine_embedding_loss", arity=2, rtol=4, smooth=False,
     shapes=st.sampled_from([[(5, 3), (5, 3)], [(4,), (4,)], [(5, 3), (1, 3)]]),
     params=_choice(margin=[0.0, 0.3], reduction=_REDUCTION))
spec("norm", lambda m, a, b, c, p, swap, reduction: m.F.triplet_margin_loss(
    a, b, c, 1.0, p, 1e-6, swap, reduction=reduction), id="triplet_margin_loss", arity=3,
     rtol=4, smooth=False, shapes=st.sampled_from([[(4, 3)] * 3, [(3,)] * 3, [(4, 3), (4, 3), (3,)]]),
     params=_choice(p=[2.0, 1.0, float("inf")], swap=[False, True], reduction=_REDUCTION))
spec("exp", lambda m, a, b, full, reduction: m.F.poisson_nll_loss(
    a, b.round(), full=full, reduction=reduction), id="poisson_nll_loss", arity=2,
     shapes=fixed((3, 4), (3, 4)), domain=("real", "positive"), smooth=False,
     params=_choice(full=[False, True], reduction=_REDUCTION))
spec("log", lambda m, a, b, reduction: m.F.poisson_nll_loss(
    a, b, log_input=False, reduction=reduction), id="poisson_nll_loss_rates", arity=2,
     shapes=st.sampled_from([[(3, 4), (3, 4)], [(4,), (2, 1)]]), domain=("positive", "real"),
     params=_choice(reduction=_REDUCTION), specials=("zero", "tie", "inf"))
spec("log", lambda m, a, b, v, full, reduction: m.F.gaussian_nll_loss(
    a, b, v, full=full, reduction=reduction), id="gaussian_nll_loss", arity=3, rtol=4,
     domain=("real", "real", "positive"), specials=("zero", "tie", "inf"),
     shapes=st.sampled_from([[(3, 4), (3, 4), (3, 4)], [(3, 4), (3, 4), (3,)],
                             [(3, 4), (3, 4), (3, 1)], [(3, 4), (4,), (1, 4)]]),
     params=_choice(full=[False, True], reduction=_REDUCTION))
_CLASSES = np.array([1, 0, 3, 3, 2])
spec("gather", lambda m, a, p, margin, weighted, reduction: m.F.multi_margin_loss(
    a, m.const(_CLASSES), p, margin, _const(m, [0.5, 2.0, 1.0, 1.5], a) if weighted else None,
    reduction=reduction), id="multi_margin_loss", shapes=fixed((5, 4)), dtypes=_F32_64,
     smooth=False, params=_choice(p=[1, 2], margin=[1.0, 0.0], weighted=[False, True],
                                  reduction=_REDUCTION))
