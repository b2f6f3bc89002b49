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
from fuzz_specs import FLOATS, broadcast_shapes, spec
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
