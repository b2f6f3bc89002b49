"""Gradient-check cases, one or more per registered op (``tinygrad_cnn.ops.REGISTRY``).

``CASES[name]`` is a list of ``(id, make)``; ``make(rng)`` returns ``(func, inputs)`` for
``gradcheck(func, inputs)`` and ``gradgradcheck(func, inputs)``. Every case calls its op through the
public API where there is one (so the Tensor-level argument handling is covered too). Inputs are
float64 and kept away from kinks (relu at 0, ties of max, |x| at 0, clamp's ends).

``test_registry_is_covered`` fails for any registered op without a case here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_cnn import Tensor
from tinygrad_cnn.ops import movement

Make = Callable[[np.random.Generator], tuple[Callable[..., Any], tuple[Any, ...]]]
CASES: dict[str, list[tuple[str, Make]]] = {}


def case(name: str, id_: str = "") -> Callable[[Make], Make]:
    def register(make: Make) -> Make:
        CASES.setdefault(name, []).append((id_ or make.__name__, make))
        return make

    return register


def t(rng: np.random.Generator, *shape: int, away: float = 0.0, positive: bool = False,
      grad: bool = True) -> Tensor:
    """A float64 tensor; ``away`` keeps |x| >= away, ``positive`` makes it > 0.5."""
    x = rng.standard_normal(shape)
    if away:
        x = np.sign(x) * (away + np.abs(x))
        x[x == 0] = away
    if positive:
        x = 0.5 + np.abs(x)
    return Tensor(x, requires_grad=grad)


# ------------------------------------------------------------------------- elementwise
@case("add", "broadcast")
def _add(rng):
    return (lambda a, b: a + b), (t(rng, 3, 4), t(rng, 4))


@case("add", "scalar")
def _add_scalar(rng):
    return (lambda a: 2.5 + a), (t(rng, 2, 3),)


@case("sub")
def _sub(rng):
    return (lambda a, b: a - b), (t(rng, 2, 1, 3), t(rng, 4, 1))


@case("mul")
def _mul(rng):
    return (lambda a, b: a * b), (t(rng, 3, 4), t(rng, 3, 1))


@case("div")
def _div(rng):
    return (lambda a, b: a / b), (t(rng, 3, 4), t(rng, 4, positive=True))


@case("neg")
def _neg(rng):
    return (lambda a: -a), (t(rng, 5),)


@case("pow", "scalar_exponent")
def _pow(rng):
    return (lambda a: a**3), (t(rng, 2, 3),)


@case("pow", "tensor_exponent")
def _pow_tensor(rng):
    return (lambda a, b: a**b), (t(rng, 2, 3, positive=True), t(rng, 3))


@case("exp")
def _exp(rng):
    return (lambda a: a.exp()), (t(rng, 2, 3),)


@case("log")
def _log(rng):
    return (lambda a: a.log()), (t(rng, 2, 3, positive=True),)


@case("sqrt")
def _sqrt(rng):
    return (lambda a: a.sqrt()), (t(rng, 2, 3, positive=True),)


@case("abs")
def _abs(rng):
    return (lambda a: a.abs() * a), (t(rng, 2, 3, away=0.1),)


@case("maximum")
def _maximum(rng):
    return (lambda a, b: a.maximum(b)), (t(rng, 3, 4), t(rng, 4))


@case("minimum")
def _minimum(rng):
    return (lambda a, b: a.minimum(b) * a), (t(rng, 3, 4), t(rng, 3, 4))


@case("clamp")
def _clamp(rng):
    x = rng.uniform(-2, 2, (3, 4))
    x[np.abs(np.abs(x) - 1) < 0.05] = 0.3  # away from the ends at +-1
    return (lambda a: a.clamp(-1, 1) * a), (Tensor(x, requires_grad=True),)


@case("clamp_between")
def _clamp_between(rng):  # tensor bounds, broadcast; inputs away from the bounds (the kinks)
    lo, hi = rng.uniform(-1.5, -0.5, (4,)), rng.uniform(0.5, 1.5, (3, 1))
    x = rng.uniform(-2, 2, (3, 4))
    x[(np.abs(x - lo) < 0.05) | (np.abs(x - hi) < 0.05)] = 0.0
    return (lambda a, b, c: a.clamp(b, c) * a * b * c), (
        Tensor(x, requires_grad=True), Tensor(lo, requires_grad=True),
        Tensor(hi, requires_grad=True))


@case("where")
def _where(rng):
    from tinygrad_cnn import where

    cond = Tensor(rng.random((3, 4)) > 0.5)
    return (lambda a, b: where(cond, a * a, b)), (t(rng, 3, 4), t(rng, 4))


@case("cast")
def _cast(rng):
    # float64 -> float64 keeps the finite differences exact; casts between dtypes are tested in
    # test_tensor.py (the gradient comes back in the input's dtype)
    from tinygrad_cnn.ops.elementwise import Cast

    return (lambda a: Cast.apply(a * a, dtype=np.dtype("float64"))), (t(rng, 3),)


# ------------------------------------------------------------------------- activations
@case("relu")
def _relu(rng):
    return (lambda a: a.relu() * a), (t(rng, 3, 4, away=0.1),)


@case("leaky_relu")
def _leaky_relu(rng):
    from tinygrad_cnn.ops.activation import LeakyReLU

    return (lambda a: LeakyReLU.apply(a, negative_slope=0.2) * a), (t(rng, 3, 4, away=0.1),)


@case("sigmoid")
def _sigmoid(rng):
    return (lambda a: a.sigmoid()), (t(rng, 3, 4),)


@case("tanh")
def _tanh(rng):
    return (lambda a: a.tanh()), (t(rng, 3, 4),)


@case("softmax")
def _softmax(rng):
    return (lambda a: a.softmax(1)), (t(rng, 2, 4),)


@case("log_softmax")
def _log_softmax(rng):
    return (lambda a: a.log_softmax(-1)), (t(rng, 2, 4),)


# ------------------------------------------------------------------------- reductions
@case("sum", "all")
def _sum(rng):
    return (lambda a: (a * a).sum()), (t(rng, 2, 3),)


@case("sum", "dims_keepdim")
def _sum_dims(rng):
    return (lambda a: (a * a).sum((0, 2), keepdim=True)), (t(rng, 2, 3, 2),)


@case("mean")
def _mean(rng):
    return (lambda a: (a * a).mean(1)), (t(rng, 2, 3),)


@case("max", "dim")
def _max(rng):
    return (lambda a: (a * a).amax(1)), (t(rng, 3, 4),)


@case("max", "all")
def _max_all(rng):
    return (lambda a: a.max() * a), (t(rng, 3, 4),)


@case("logsumexp")
def _logsumexp(rng):
    return (lambda a: a.logsumexp(1)), (t(rng, 3, 4),)


# ------------------------------------------------------------------------- movement
@case("reshape")
def _reshape(rng):
    return (lambda a: (a * a).reshape(3, 2)), (t(rng, 2, 3),)


@case("permute")
def _permute(rng):
    return (lambda a: (a * a).permute(2, 0, 1)), (t(rng, 2, 3, 2),)


@case("expand")
def _expand(rng):
    return (lambda a: (a * a).expand(2, 3, 4)), (t(rng, 3, 1),)


@case("getitem", "basic")
def _getitem(rng):
    return (lambda a: (a * a)[1:, ::2]), (t(rng, 3, 4),)


@case("getitem", "integer_arrays")
def _getitem_adv(rng):
    idx = Tensor(np.array([0, 2, 0, 1]))
    return (lambda a: (a * a)[idx, 1:]), (t(rng, 3, 4),)


@case("getitem_backward")
def _getitem_backward(rng):
    key = (np.array([0, 2, 0]),)
    return (lambda a: movement.GetItemBackward.apply(a * a, key=key, shape=(4, 2))), \
        (t(rng, 3, 2),)


@case("pad")
def _pad(rng):
    return (lambda a: (a * a).pad((1, 2, 0, 1))), (t(rng, 2, 3),)


@case("pad", "negative_crops")
def _pad_negative_constant(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda a: F.pad(a * a, (-1, 2, 1, -2), value=0.5)), (t(rng, 4, 3),)


@case("cat")
def _cat(rng):
    from tinygrad_cnn import cat

    return (lambda a, b: cat([a * b, b], dim=1)), (t(rng, 2, 3), t(rng, 2, 3))


@case("stack")
def _stack(rng):
    from tinygrad_cnn import stack

    return (lambda a, b: stack([a * b, a], dim=1)), (t(rng, 2, 3), t(rng, 2, 3))


@case("gather")
def _gather(rng):
    index = rng.integers(0, 4, (3, 5))
    return (lambda a: (a * a).gather(1, index)), (t(rng, 3, 4),)


@case("gather_squeeze")
def _gather_squeeze(rng):
    return (lambda a: (a * a).max(1).values + (a * a).kthvalue(2, 0).values.sum()), (t(rng, 3, 4),)


@case("scatter_add")
def _scatter_add(rng):
    index = rng.integers(0, 4, (3, 5))
    return (lambda a: movement.ScatterAdd.apply(a * a, index=index, dim=1, size=4)), \
        (t(rng, 3, 5),)


@case("clone")
def _clone(rng):
    return (lambda a: (a * a).clone()), (t(rng, 3),)


@case("to_device")
def _to_device(rng):
    return (lambda a: movement.ToDevice.apply(a * a, device="cpu")), (t(rng, 3),)


# ------------------------------------------------------------------------- in-place writes
@case("copy_slices", "inplace_on_a_view")
def _copy_slices(rng):
    def f(a, b):
        h = a * a
        h[1:, ::2].mul_(b)  # recorded on h as copy_slices
        return h * a

    return f, (t(rng, 3, 4), t(rng, 2, 2))


@case("copy_slices", "setitem_integer_array")
def _copy_slices_setitem(rng):
    def f(a, b):
        h = a * 1.5
        h[np.array([0, 2]), 1:] = b * b  # a broadcast value
        return h * h

    return f, (t(rng, 3, 3), t(rng, 2))


@case("fill")
def _fill(rng):
    def f(a, b):
        h = a * b
        h[1:].fill_(0.5)  # fill, then copy_slices into h
        return h * a

    return f, (t(rng, 3, 2), t(rng, 3, 2))


@case("zero_slices")
def _zero_slices(rng):
    from tinygrad_cnn.ops.inplace import ZeroSlices

    chain = ((movement.Reshape, {"shape": (2, 6)}), (movement.GetItem, {"key": (slice(None), slice(1, 4))}))
    return (lambda a: ZeroSlices.apply(a * a, chain=chain)), (t(rng, 3, 4),)


# ------------------------------------------------------------------------- linear algebra
@case("matmul", "matrices")
def _matmul(rng):
    return (lambda a, b: a @ b), (t(rng, 3, 4), t(rng, 4, 2))


@case("matmul", "batched_broadcast")
def _matmul_batched(rng):
    return (lambda a, b: a @ b), (t(rng, 2, 3, 4), t(rng, 4, 2))


@case("matmul", "batch_times_vector")
def _matmul_vec(rng):
    return (lambda a, b: (a @ b) * (b @ b)), (t(rng, 2, 3, 4), t(rng, 4))


@case("matvec", "dot")
def _dot(rng):
    import tinygrad_cnn as tg

    return (lambda a, b: tg.dot(a, b) * a), (t(rng, 4), t(rng, 4))


@case("matvec", "matrix_vector")
def _mv(rng):
    return (lambda a, b: (a @ b) * (a @ b)), (t(rng, 3, 4), t(rng, 4))


@case("matvec", "vector_matrix")
def _vm(rng):
    return (lambda a, b: (a @ b) * (a @ b)), (t(rng, 3), t(rng, 3, 4))


@case("outer")
def _outer(rng):
    import tinygrad_cnn as tg

    return (lambda a, b: tg.outer(a, b) * tg.outer(a, b)), (t(rng, 3), t(rng, 4))


def _matmul_flags(ta: bool, tb: bool) -> Make:
    """The op with its transpose flags (what the VJPs of matmul and linear use): op(a) @ op(b)
    on batched operands shaped so that only the flagged reading fits."""

    def make(rng):
        from tinygrad_cnn.ops.linalg import MatMul

        a = t(rng, 2, 4, 3) if ta else t(rng, 2, 3, 4)
        b = t(rng, 2, 5, 4) if tb else t(rng, 2, 4, 5)
        return (lambda a, b: MatMul.apply(a, b, transpose_a=ta, transpose_b=tb)), (a, b)

    return make


for _ta, _tb in ((True, False), (False, True), (True, True)):
    case("matmul", f"transpose_a={_ta}_transpose_b={_tb}")(_matmul_flags(_ta, _tb))


# ------------------------------------------------------------------------- convolution
@case("conv2d", "stride_pad_bias")
def _conv2d(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1)), \
        (t(rng, 2, 2, 5, 4), t(rng, 3, 2, 3, 2), t(rng, 3))


@case("conv2d", "dilation_groups_same")
def _conv2d_groups(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda x, w: F.conv2d(x, w, padding="same", dilation=(2, 1), groups=2)), \
        (t(rng, 1, 4, 5, 4), t(rng, 4, 2, 2, 3))


@case("conv_transpose2d", "stride_output_padding_bias")
def _conv_transpose2d(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)), \
        (t(rng, 2, 2, 3, 2), t(rng, 2, 3, 3, 2), t(rng, 3))


@case("conv_transpose2d", "groups_dilation")
def _conv_transpose2d_groups(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda x, w: F.conv_transpose2d(x, w, groups=2, dilation=2, output_padding=1)), \
        (t(rng, 1, 4, 3, 3), t(rng, 4, 1, 2, 2))


@case("conv2d_weight")
def _conv2d_weight(rng):
    from tinygrad_cnn.ops.conv import Conv2dWeight

    return (lambda x, g: Conv2dWeight.apply(x, g, kernel_size=(3, 2), stride=(2, 1),
                                            padding=((1, 1), (0, 0)), dilation=(1, 1), groups=1)), \
        (t(rng, 2, 2, 5, 4), t(rng, 2, 3, 3, 3))


# ------------------------------------------------------------------------- pooling
@case("max_pool2d", "overlapping_padded")
def _max_pool2d(rng):
    import tinygrad_cnn.nn.functional as F

    x = rng.permutation(2 * 2 * 5 * 4).reshape(2, 2, 5, 4) * 0.1  # distinct values: no ties
    return (lambda a: F.max_pool2d(a, 3, stride=1, padding=1) * a.sum()), \
        (Tensor(x, requires_grad=True),)


@case("max_pool2d", "2x2_ceil_dilation")
def _max_pool2d_ceil(rng):
    import tinygrad_cnn.nn.functional as F

    x = rng.permutation(2 * 7 * 6).reshape(1, 2, 7, 6) * 0.1
    return (lambda a: F.max_pool2d(a, 2, dilation=2, ceil_mode=True)), \
        (Tensor(x, requires_grad=True),)


@case("avg_pool2d", "padded_exclusive_ceil")
def _avg_pool2d(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda a: F.avg_pool2d(a, (3, 2), stride=2, padding=1, ceil_mode=True,
                                   count_include_pad=False)), (t(rng, 2, 2, 5, 4),)


@case("avg_pool2d", "2x2")
def _avg_pool2d_plain(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda a: F.avg_pool2d(a * a, 2)), (t(rng, 1, 2, 4, 4),)


@case("avg_pool2d", "divisor_override")
def _avg_pool2d_divisor(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda a: F.avg_pool2d(a * a, (3, 2), stride=2, padding=1, ceil_mode=True,
                                   divisor_override=-3)), (t(rng, 1, 2, 5, 4),)


@case("avg_pool2d_backward")
def _avg_pool2d_backward(rng):
    from tinygrad_cnn.ops.pool import AvgPool2dBackward

    return (lambda g: AvgPool2dBackward.apply(g * g, kernel_size=(2, 3), stride=(1, 2),
                                              padding=(1, 1), ceil_mode=True,
                                              count_include_pad=True, in_hw=(4, 5))), \
        (t(rng, 1, 2, 5, 3),)


# ------------------------------------------------------------------------- losses
@case("cross_entropy", "mean")
def _cross_entropy(rng):
    import tinygrad_cnn.nn.functional as F

    target = rng.integers(0, 4, 3)
    return (lambda a: F.cross_entropy(a, target)), (t(rng, 3, 4),)


@case("cross_entropy", "none_spatial")
def _cross_entropy_none(rng):
    import tinygrad_cnn.nn.functional as F

    target = rng.integers(0, 3, (2, 2))
    return (lambda a: F.cross_entropy(a, target, reduction="none")), (t(rng, 2, 3, 2),)


@case("nll_loss")
def _nll_loss(rng):
    import tinygrad_cnn.nn.functional as F

    target = rng.integers(0, 4, 3)
    return (lambda a: F.nll_loss(a.log_softmax(1), target, reduction="sum")), (t(rng, 3, 4),)


@case("mse_loss")
def _mse_loss(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda a, b: F.mse_loss(a, b)), (t(rng, 3, 4), t(rng, 3, 4))


@case("linear", "batch_bias")
def _linear(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda x, w, b: F.linear(x, w, b)), (t(rng, 3, 4), t(rng, 2, 4), t(rng, 2))


@case("linear", "3d_no_bias")
def _linear_3d(rng):
    import tinygrad_cnn.nn.functional as F

    return (lambda x, w: F.linear(x, w) * x.sum()), (t(rng, 2, 3, 4), t(rng, 2, 4))


# ------------------------------------------------------------------------- more families
# Cases of further op families live in op_cases_<family>.py files next to this one, so that a
# family can be added without touching this file.
def _import_families() -> None:
    import importlib
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("op_cases_*.py")):
        importlib.import_module(path.stem)


_import_families()
