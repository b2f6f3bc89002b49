"""Fuzz specs (fuzz_specs.py's format) of the ops that issue 15's layers added: activations,
normalisation, resampling, padding modes and losses, each against its PyTorch counterpart.

Internal ops (the VJP ops, ``normalize``, ``affine``) are compared with what PyTorch computes for
the same thing: a VJP op with ``torch.autograd.grad(..., create_graph=True)`` of the forward, so
that its own derivatives are compared too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fuzz_specs import FLOATS, fixed, spec, torch
from hypothesis import strategies as st

_F32_64 = ("float32", "float64")


def unary(name: str, fn: Any, **kw: Any) -> Any:
    """A spec of one input. These ops stay out of the random-program fuzzer (which chains the
    elementwise specs with views and in-place ops to test the engine): some have NaN gradients
    on which PyTorch's own loops disagree (see ops/activation.py), and this file's op-by-op
    specs cover them."""
    return spec(name, fn, arity=1, **kw)


def _internal(name: str) -> Any:
    """An op class of tinygrad_cnn by registry name (imported late: this module is imported by
    fuzz_specs.py before the tests import tinygrad_cnn)."""
    from tinygrad_cnn.ops import REGISTRY

    return REGISTRY[name]


def _choice(**options: list[Any]) -> Any:
    return lambda shapes: st.fixed_dictionaries({k: st.sampled_from(v)
                                                 for k, v in options.items()})


# ------------------------------------------------------------------------------ activations
spec("ndtr", lambda m, a: torch.special.ndtr(a) if m.torch else _internal("ndtr").apply(a),
     arity=1, dtypes=_F32_64)
# (+inf: PyTorch's float32 gelu gives NaN in its vectorised loop and inf, the limit, in its
# scalar loop and in float64; ours gives inf. Found by the long fuzzer run.)
unary("gelu", lambda m, a, approximate: m.F.gelu(a, approximate=approximate),
      params=_choice(approximate=["none", "tanh"]), specials=("zero", "tie", "nan"))
unary("silu", lambda m, a: m.F.silu(a))
# (NaN inputs: PyTorch's vectorised and scalar loops disagree for elu, hardswish and hardtanh --
# see ops/activation.py; test_layers.py checks ours against the vectorised loop)
_NO_NAN = ("zero", "tie", "inf")
unary("elu", lambda m, a, alpha: m.F.elu(a, alpha=alpha), params=_choice(alpha=[1.0, 0.3]),
      smooth=False, specials=_NO_NAN)
unary("elu", lambda m, a: m.F.selu(a), id="selu", smooth=False, specials=_NO_NAN)
unary("elu", lambda m, a: m.F.celu(a, alpha=2.0), id="celu", smooth=False, specials=_NO_NAN)
unary("softplus", lambda m, a, beta, threshold: m.F.softplus(a, beta=beta, threshold=threshold),
      params=_choice(beta=[1.0, 2.0, -0.5], threshold=[20.0, 1.0]), smooth=False)
unary("logsigmoid", lambda m, a: m.F.logsigmoid(a))
unary("mish", lambda m, a: m.F.mish(a))
unary("hardswish", lambda m, a: m.F.hardswish(a * 3), smooth=False, specials=_NO_NAN)
# PyTorch's hardsigmoid gradient multiplies by float32(1/6) in every dtype (3e-8 off in float64)
unary("hardsigmoid", lambda m, a: m.F.hardsigmoid(a * 3), smooth=False, rtol=64)
unary("hardtanh", lambda m, a: m.F.relu6(a * 4), id="relu6", smooth=False, specials=_NO_NAN)
unary("hardtanh", lambda m, a: m.F.hardtanh(a, -0.5, 1.0), smooth=False, specials=_NO_NAN)
spec("prelu", lambda m, x, w: m.F.prelu(x, w), arity=2, smooth=False,
     shapes=st.sampled_from([[(2, 3, 4), (3,)], [(2, 3), (1,)], [(0, 2, 2, 2), (2,)],
                             [(4,), (1,)]]))

# ------------------------------------------------------------------------------ normalisation
# (rtol 32: a group of tied values has variance 0, so a float32 mean one rounding off -- PyTorch's
# sums round, ours give the value exactly -- comes out divided by sqrt(eps), ~300x: found by a
# long fuzz run at 2.8e-5 against an allowance of 2.77e-5)
spec("normalize", lambda m, x: m.F.batch_norm(x, None, None, training=True), rtol=32,
     shapes=st.sampled_from([[(4, 3)], [(3, 2, 5)], [(2, 3, 2, 2)]]), dtypes=_F32_64,
     specials=("zero", "tie"))
spec("normalize", lambda m, x: m.F.layer_norm(x, x.shape[-2:]), id="layer_norm", rtol=32,
     shapes=st.sampled_from([[(3, 4, 2)], [(2, 5)], [(0, 2, 3)]]), dtypes=_F32_64,
     specials=("zero", "tie"))
spec("group_norm", lambda m, x: m.F.group_norm(x, 2), id="no_affine", rtol=32,
     shapes=st.sampled_from([[(2, 4, 3)], [(1, 6, 2, 2)]]), dtypes=_F32_64,
     specials=("zero", "tie"))
spec("normalize", lambda m, x: m.F.instance_norm(x), id="instance_norm", rtol=32,
     shapes=st.sampled_from([[(2, 3, 4)], [(1, 2, 3, 3)]]), dtypes=_F32_64,
     specials=("zero", "tie"))


def _normalize_backward_theirs(m: Any, g: Any, x: Any) -> Any:
    # batch norm written out in PyTorch's elementary ops: the derivative of PyTorch's own
    # batch_norm double backward is wrong (its third derivative differs from finite differences
    # by O(1) in torch 2.13; ours and this composite agree with them to 2e-9)
    centered = x - x.mean((0, 2), keepdim=True)
    y = centered / torch.sqrt((centered * centered).mean((0, 2), keepdim=True) + 1e-3)
    return torch.autograd.grad(y, x, g, create_graph=True)[0]


spec("normalize_backward", lambda m, g, x: _internal("normalize_backward").apply(
    g, x, dims=(0, 2), eps=1e-3), arity=2, shapes=fixed((3, 2, 4), (3, 2, 4)), rtol=16,
     dtypes=_F32_64, specials=("zero", "tie"), theirs=_normalize_backward_theirs)
spec("batch_norm", lambda m, x, w, b: m.F.batch_norm(x, None, None, w, b, training=True),
     arity=3, shapes=fixed((4, 3, 2), (3,), (3,)), rtol=16, dtypes=_F32_64,
     specials=("zero", "tie"))
spec("group_norm", lambda m, x, w, b: m.F.group_norm(x, 2, w, b), arity=3,
     shapes=st.sampled_from([[(2, 4, 3), (4,), (4,)], [(1, 6, 2, 2), (6,), (6,)]]), rtol=32,
     dtypes=_F32_64, specials=("zero", "tie"))
spec("instance_norm", lambda m, x, w, b: m.F.instance_norm(x, weight=w, bias=b), arity=3,
     shapes=st.sampled_from([[(2, 3, 4), (3,), (3,)], [(1, 2, 3, 3), (2,), (2,)]]), rtol=32,
     dtypes=_F32_64, specials=("zero", "tie"))
spec("affine", lambda m, x, w, b: m.F.batch_norm(
    x, m.const(np.array([0.5, -1.0, 2.0], x.dtype if not m.torch else np.float64)
               .astype(str(x.dtype).replace("torch.", ""))),
    m.const(np.array([1.5, 0.2, 3.0]).astype(str(x.dtype).replace("torch.", ""))),
    w, b, training=False), id="eval", arity=3, shapes=fixed((4, 3, 2, 2), (3,), (3,)), rtol=4,
     dtypes=_F32_64, specials=("zero", "tie"))  # (no inf weight: ours centres x first,
# (x - mean) * (w * rstd) + b, ±inf there; PyTorch's kernel folds to x * a + (b - mean * a),
# inf - inf = NaN -- the folding cancelled float16 inputs near 1000 to 16%, t196)
spec("layer_norm", lambda m, x, w, b: m.F.layer_norm(x, (2, 3), w, b), arity=3,
     shapes=fixed((4, 2, 3), (2, 3), (2, 3)), rtol=16, dtypes=_F32_64, specials=("zero", "tie"))

# ------------------------------------------------------------------------------ resampling
_INTERP = [
    dict(size=(5, 7), mode="nearest"), dict(scale_factor=2, mode="nearest"),
    dict(scale_factor=(0.6, 1.5), mode="nearest"), dict(size=(3, 3), mode="nearest-exact"),
    dict(size=(5, 3), mode="bilinear"), dict(scale_factor=1.7, mode="bilinear"),
    dict(size=(4, 6), mode="bilinear", align_corners=True),
    dict(size=(1, 2), mode="bilinear", align_corners=True),
    dict(scale_factor=0.5, mode="bilinear", recompute_scale_factor=True),
    dict(size=(2, 2), mode="area"),
    dict(size=(5, 7), mode="bicubic"), dict(scale_factor=(0.6, 1.5), mode="bicubic"),
    dict(size=(1, 6), mode="bicubic", align_corners=True),
    dict(scale_factor=0.5, mode="bicubic", recompute_scale_factor=True),
    dict(size=(2, 3), mode="bicubic", antialias=True),
    dict(scale_factor=0.6, mode="bilinear", antialias=True, align_corners=True),
]
# (antialias: no output of width 1 whose height changes, nor a scale factor on an axis that keeps
# its size -- two cases where PyTorch's CPU kernels fail their own gradcheck; see test_layers.py)
# (no infinities: where a linear mode weighs an inf by exactly 0 at the border, PyTorch's kernel
# gives NaN (0 * inf) and ours the inf its other weight selects -- a difference in how the sum
# is written, not a wrong gradient; NaN inputs are compared)
spec("interpolate", lambda m, x, kw: m.F.interpolate(x, **kw), smooth=False, rtol=4,
     shapes=st.sampled_from([[(2, 2, 3, 4)], [(1, 1, 4, 4)], [(0, 2, 3, 3)]]),
     params=lambda s: st.fixed_dictionaries({"kw": st.sampled_from(
         [kw for kw in _INTERP if kw["mode"] != "area"])}), dtypes=_F32_64,
     specials=("zero", "tie", "nan"))
spec("interpolate", lambda m, x, kw: m.F.interpolate(x, **kw), id="1d_3d", smooth=False,
     shapes=fixed((2, 3, 5)), rtol=4, dtypes=_F32_64,
     params=lambda s: st.fixed_dictionaries({"kw": st.sampled_from([
         dict(size=7, mode="linear"), dict(scale_factor=0.5, mode="linear", align_corners=True),
         dict(size=2, mode="nearest")])}))
spec("interpolate", lambda m, x: m.F.interpolate(x, size=(3, 2, 5), mode="trilinear"),
     id="trilinear", smooth=False, shapes=fixed((1, 2, 2, 3, 4)), rtol=4, dtypes=_F32_64)


def _grad_of(f: Any) -> Any:
    """``theirs`` for a VJP op: PyTorch's input gradient of ``f`` for the output gradient ``g``,
    with a graph, as a function of ``g``."""
    def theirs(m: Any, g: Any) -> Any:
        x = torch.zeros(f.in_shape, dtype=g.dtype, requires_grad=True)
        return torch.autograd.grad(f(x), x, g, create_graph=True)[0]
    return theirs


def _with_shape(f: Any, shape: tuple[int, ...]) -> Any:
    f.in_shape = shape
    return f


spec("interpolate_backward", lambda m, g: _internal("interpolate_backward").apply(
    g, in_size=(3, 4), size=(5, 7), mode="linear", align_corners=False, scales=None),
     shapes=fixed((2, 2, 5, 7)), rtol=4, dtypes=_F32_64, smooth=True,
     theirs=_grad_of(_with_shape(lambda x: torch.nn.functional.interpolate(
         x, size=(5, 7), mode="bilinear"), (2, 2, 3, 4))))
spec("interpolate_backward", lambda m, g: _internal("interpolate_backward").apply(
    g, in_size=(3, 4), size=(6, 2), mode="cubic", align_corners=True, scales=None), id="cubic",
     shapes=fixed((2, 2, 6, 2)), rtol=4, dtypes=_F32_64, smooth=True,
     theirs=_grad_of(_with_shape(lambda x: torch.nn.functional.interpolate(
         x, size=(6, 2), mode="bicubic", align_corners=True), (2, 2, 3, 4))))
spec("adaptive_avg_pool2d", lambda m, x, size: m.F.adaptive_avg_pool2d(x, size), rtol=4,
     shapes=st.sampled_from([[(2, 3, 5, 7)], [(1, 2, 4, 4)], [(2, 3, 3)]]),
     params=_choice(size=[1, (2, 3), (3, None), 4]), dtypes=FLOATS)
spec("adaptive_avg_pool2d_backward", lambda m, g: _internal("adaptive_avg_pool2d_backward").apply(
    g, in_size=(5, 7)), shapes=fixed((2, 2, 3, 2)), rtol=4, dtypes=_F32_64,
     theirs=_grad_of(_with_shape(lambda x: torch.nn.functional.adaptive_avg_pool2d(x, (3, 2)),
                                 (2, 2, 5, 7))))
spec("adaptive_max_pool2d", lambda m, x, size: m.F.adaptive_max_pool2d(x, size), smooth=False,
     shapes=st.sampled_from([[(2, 3, 5, 7)], [(1, 2, 4, 4)], [(2, 3, 3)]]),
     params=_choice(size=[1, (2, 3), (3, None), 2]), dtypes=FLOATS)

# ------------------------------------------------------------------------------ padding modes
_PADS = st.sampled_from([[(2, 3, 4)], [(1, 2, 3, 4)], [(3, 5)]])
spec("pad", lambda m, x, mode: m.F.pad(x, (1, 2, 2, 1) if x.ndim >= 3 else (2, 1), mode=mode),
     id="modes", shapes=_PADS, params=_choice(mode=["reflect", "replicate", "circular"]))
spec("pad", lambda m, x: m.F.pad(x, (0, 3), mode="replicate"), id="replicate_wide",
     shapes=fixed((2, 1, 2)))
spec("pad", lambda m, x: m.F.pad(x, (1, 1, 1, 1, 1, 1), mode="circular"), id="3d",
     shapes=fixed((1, 2, 2, 3)))
spec("pad", lambda m, x, mode: m.F.pad(x, (-1, 2, 2, -1) if x.ndim >= 3 else (-2, 1), mode=mode),
     id="negative", shapes=_PADS, params=_choice(mode=["constant", "reflect", "replicate",
                                                       "circular"]))
spec("pad_backward", lambda m, g: _internal("pad_backward").apply(
    g, pad=((0, 0), (0, 0), (1, 2), (2, 1)), mode="reflect", in_shape=(1, 2, 3, 4)),
     shapes=fixed((1, 2, 6, 7)), theirs=_grad_of(_with_shape(
         lambda x: torch.nn.functional.pad(x, (2, 1, 1, 2), mode="reflect"), (1, 2, 3, 4))))

# ------------------------------------------------------------------------------ losses
_REDUCTION = ["mean", "sum", "none"]
_TARGET = np.array([1, 0, 3, 3, 2])
_CLASS_W = np.array([0.5, 2.0, 1.0, 1.5])


def _const_like(m: Any, a: np.ndarray, x: Any) -> Any:
    return m.const(a.astype(str(x.dtype).replace("torch.", "")))


spec("cross_entropy", lambda m, x, reduction, smoothing: m.F.cross_entropy(
    x, m.const(_TARGET), weight=_const_like(m, _CLASS_W, x), reduction=reduction,
    label_smoothing=smoothing), id="weight_smoothing", shapes=fixed((5, 4)), rtol=4,
     specials=("zero", "tie", "inf"), params=_choice(reduction=_REDUCTION, smoothing=[0.0, 0.3]))
spec("cross_entropy", lambda m, x, reduction, smoothing: m.F.cross_entropy(
    x, m.const(np.array([1, -100, 3, 1, -100])), reduction=reduction, label_smoothing=smoothing),
     id="ignore_index", shapes=fixed((5, 4)), rtol=4, specials=("zero", "tie", "inf"),
     params=_choice(reduction=_REDUCTION, smoothing=[0.0, 0.2]))
spec("cross_entropy", lambda m, x: m.F.cross_entropy(x, m.const(np.full(3, -100))),
     id="all_ignored", shapes=fixed((3, 4)), dtypes=_F32_64)
spec("log_softmax", lambda m, x, t, smoothing: m.F.cross_entropy(
    x, t.softmax(1), label_smoothing=smoothing), id="cross_entropy_probabilities", arity=2,
     shapes=st.sampled_from([[(3, 4), (3, 4)], [(2, 3, 2), (2, 3, 2)]]), rtol=4,
     specials=("zero", "tie"), params=_choice(smoothing=[0.0, 0.25]))
spec("nll_loss", lambda m, x, reduction: m.F.nll_loss(
    x, m.const(_TARGET), weight=_const_like(m, _CLASS_W, x), ignore_index=3,
    reduction=reduction), id="weight_ignore", shapes=fixed((5, 4)),
     params=_choice(reduction=_REDUCTION))
spec("huber_loss", lambda m, a, b, reduction, delta: m.F.huber_loss(
    a, b, reduction=reduction, delta=delta), arity=2, shapes=fixed((3, 4), (3, 4)), smooth=False,
     params=_choice(reduction=_REDUCTION, delta=[1.0, 0.3]))
spec("smooth_l1_loss", lambda m, a, b, reduction, beta: m.F.smooth_l1_loss(
    a, b, reduction=reduction, beta=beta), arity=2, shapes=fixed((3, 4), (3, 4)), smooth=False,
     params=_choice(reduction=_REDUCTION, beta=[1.0, 0.3]))
spec("binary_cross_entropy", lambda m, a, b, reduction: m.F.binary_cross_entropy(
    a.sigmoid(), b.sigmoid(), weight=_const_like(m, np.array([0.5, 1.0, 2.0, 1.5]), a),
    reduction=reduction), arity=2, shapes=fixed((3, 4), (3, 4)), rtol=4,
     params=_choice(reduction=_REDUCTION))
spec("binary_cross_entropy", lambda m, a, b: m.F.binary_cross_entropy(
    _const_like(m, np.array([0.0, 1.0, 0.5]), a), b.sigmoid()), id="saturated_probabilities",
     arity=2, shapes=fixed((3,), (3,)), smooth=False)  # (sigmoid's 2nd derivative: inf - inf)
spec("binary_cross_entropy_with_logits", lambda m, a, b, reduction, pos: m.F.binary_cross_entropy_with_logits(
    a * 40, b.sigmoid(), pos_weight=None if not pos else _const_like(m, np.array(
        [0.5, 1.0, 3.0, 2.0]), a), reduction=reduction), arity=2, shapes=fixed((3, 4), (3, 4)),
     rtol=4, params=_choice(reduction=_REDUCTION, pos=[False, True]))
spec("binary_cross_entropy_with_logits", lambda m, a, b: m.F.binary_cross_entropy_with_logits(
    a, b, weight=_const_like(m, np.array([[0.5], [2.0]]), a)), id="weight", arity=2,
     shapes=fixed((2, 3), (2, 3)), rtol=4)
spec("kl_div", lambda m, a, b, reduction: m.F.kl_div(a, b, reduction=reduction), arity=2,
     shapes=fixed((3, 4), (3, 4)), domain=("real", "positive"), rtol=4, specials=("zero", "tie"),
     params=_choice(reduction=["mean", "sum", "none", "batchmean"]))
spec("kl_div", lambda m, a, b, reduction: m.F.kl_div(a, b, reduction=reduction, log_target=True),
     id="log_target", arity=2, shapes=fixed((3, 4), (3, 4)), rtol=4,
     params=_choice(reduction=["batchmean", "none"]))

# ------------------------------------------------------------------------------ embedding
spec("embedding", lambda m, w, padding_idx: m.F.embedding(
    m.const(np.array([[0, 2, 2], [3, 1, 0]])), w, padding_idx=padding_idx),
     shapes=st.sampled_from([[(4, 3)], [(5, 0)]]), params=_choice(padding_idx=[None, 2, -4]))
