"""A gallery of deliberately broken Functions, each next to its correct twin: the broken one must be
caught with the right diagnosis (in whole-Jacobian and in fast mode), the twin must pass. A
detector that cannot fail is a defect, so every diagnosis is asserted on a case that triggers it
and its absence on the twin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Function, GradcheckError, Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.gradcheck import NotDifferentiableError, check_grads


# ------------------------------------------------------------------------------- the ops
class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid()


class SoftplusTwiceTooBig(Function):
    """Wrong scale: the derivative doubled."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid() * 2


class SoftplusWithoutGrad(Function):
    """Forgets the incoming gradient: returns f'(x) instead of grad * f'(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return x.sigmoid()


class Swish(Function):
    """x * sigmoid(x), its VJP in tensor ops: differentiable again."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.exp(-x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return g * (s + x * s * (1 - s))


class SwishFromData(Function):
    """Right first derivative, built from ``.data``: its second derivative is wrong."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + np.exp(-x))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        s = Tensor(1 / (1 + np.exp(-x.data)))  # leaves the graph
        return g * (s + x * s * (1 - s))


class AddBias(Function):
    """x (N, C) + b (C,): b's gradient sums over the broadcast dim."""

    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, g):
        return g, g.sum(0)


class AddBiasMean(Function):
    """Wrong broadcasting reduction: a mean where the sum belongs."""

    @staticmethod
    def forward(ctx, x, b):
        return x + b

    @staticmethod
    def backward(ctx, g):
        return g, g.mean(0)


class ScaleColumns(Function):
    """x (N, N) * b (N,): b's gradient is (g * x) summed over dim 0."""

    @staticmethod
    def forward(ctx, x, b):
        ctx.save_for_backward(x, b)
        return x * b

    @staticmethod
    def backward(ctx, g):
        x, b = ctx.saved_tensors
        return g * b, (g * x).sum(0)


class ScaleColumnsWrongAxis(Function):
    """Wrong broadcasting reduction: summed over the other (same-sized) axis."""

    @staticmethod
    def forward(ctx, x, b):
        ctx.save_for_backward(x, b)
        return x * b

    @staticmethod
    def backward(ctx, g):
        x, b = ctx.saved_tensors
        return g * b, (g * x).sum(1)


class Mul(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, g * x


class MulIgnoresY(Function):
    """A VJP that ignores an input: no gradient for y."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y, None


class Relu(Function):
    """max(x, 0) with PyTorch's gradient 0 at 0: right everywhere, but not differentiable at 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x._data > 0)


class Flaky(Function):
    """A VJP with hidden state: two backward passes differ."""

    calls = 0

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        Flaky.calls += 1
        return g * (1 + 1e-12 * Flaky.calls)


class Identity(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        return g


# ------------------------------------------------------------------------------- the gallery
def x64(*shape: int, seed: int = 0, away: float = 0.2) -> Tensor:
    x = np.random.default_rng(seed).standard_normal(shape)
    x = np.sign(x) * (away + np.abs(x))
    return Tensor(x, requires_grad=True)


@dataclass
class Case:
    name: str
    broken: Any
    twin: Any
    inputs: Any  # () -> tuple of Tensors
    order: int
    kind: str
    cause: tuple[str, ...]  # words the likely cause must contain
    headline: tuple[str, ...] = ()
    modes: tuple[bool, ...] = (False, True)  # fast_mode values to run


GALLERY = [
    Case("wrong scale", SoftplusTwiceTooBig.apply, Softplus.apply, lambda: (x64(3, 4),), 1,
         "wrong_vjp", ("2 × numerical", "constant factor")),
    Case("incoming gradient not multiplied in", SoftplusWithoutGrad.apply, Softplus.apply,
         lambda: (x64(5),), 1, "wrong_vjp", ("does not scale with the incoming gradient",)),
    Case("second derivative from .data", SwishFromData.apply, Swish.apply, lambda: (x64(4),), 2,
         "wrong_vjp", (".data", "in backward"),
         ("second derivative: the VJP of `swish_from_data`'s VJP is wrong",)),
    Case("broadcast: mean instead of sum", AddBiasMean.apply, AddBias.apply,
         lambda: (x64(4, 3), x64(3, seed=1)), 1, "wrong_vjp",
         ("1/4", "broadcast over dim(s) [0]", "summed")),
    Case("broadcast: summed over the wrong axis", ScaleColumnsWrongAxis.apply, ScaleColumns.apply,
         lambda: (x64(4, 4), x64(4, seed=1)), 1, "wrong_vjp", ("broadcast over dim(s) [0]",)),
    Case("a VJP that ignores an input", MulIgnoresY.apply, Mul.apply,
         lambda: (x64(3), x64(3, seed=1)), 1, "wrong_vjp", ("ignores that input", "input 1")),
    Case("a kink: relu at 0", Relu.apply, Relu.apply,
         lambda: (Tensor(np.array([0.0, 1.5, -0.7]), requires_grad=True),), 1,
         "not_differentiable", ()),
    Case("hidden state in the VJP", Flaky.apply, Identity.apply, lambda: (x64(3),), 1,
         "not_reentrant", ()),
]
IDS = [c.name for c in GALLERY]


@pytest.mark.parametrize("case", GALLERY, ids=IDS)
@pytest.mark.parametrize("fast", [False, True], ids=["whole", "fast"])
def test_broken_op_is_caught_with_the_right_diagnosis(case, fast):
    report = check_grads(case.broken, case.inputs(), order=case.order, fast_mode=fast)
    assert not report.ok, str(report)
    assert report.kind == case.kind, str(report)
    for word in case.cause:
        assert report.cause and word in report.cause, f"{word!r} not in the cause:\n{report}"
    for words in case.headline:
        assert words in report.headline, str(report)
    assert len(str(report)) < 3000  # a report, not a dump


@pytest.mark.parametrize("case", GALLERY, ids=IDS)
@pytest.mark.parametrize("fast", [False, True], ids=["whole", "fast"])
def test_correct_twin_passes(case, fast):
    inputs = case.inputs()
    if case.kind == "not_differentiable":  # the twin of a kink: the same op away from it
        inputs = (x64(3),)
    report = check_grads(case.twin, inputs, order=case.order, fast_mode=fast)
    assert report.ok, str(report)
    assert report.kind == "ok" and report.cause is None
    order1 = check_grads(case.twin, inputs, order=1, fast_mode=fast)
    assert order1.ok, str(order1)


def test_second_derivative_from_data_passes_the_first_order_check():
    """What makes this case hard: its first derivative is right."""
    assert gradcheck(SwishFromData.apply, x64(4))
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(SwishFromData.apply, x64(4))
    msg = str(info.value)
    assert msg.startswith("second derivative: the VJP of `swish_from_data`'s VJP is wrong")
    assert "test_gradcheck_gallery.py" in msg  # the line of backward that left the graph
    assert info.value.node.name == "swish_from_data"


def test_kink_is_reported_as_not_differentiable_with_both_slopes():
    x = Tensor(np.array([0.0, 1.5, -0.7]), requires_grad=True)
    with pytest.raises(NotDifferentiableError) as info:
        gradcheck(Relu.apply, x)
    msg = str(info.value)
    assert msg.startswith("not differentiable")
    assert "element (0,)" in msg
    assert "left slope:  0" in msg and "right slope: 1" in msg and "the VJP gave 0" in msg
    assert "wrong VJP" not in msg.split("\n")[0] and "avoid_kinks=True" in msg
    entry = info.value.report.worst[0]
    assert (entry.left, entry.right, entry.analytical) == pytest.approx((0, 1, 0))


@pytest.mark.parametrize("fast", [False, True], ids=["whole", "fast"])
@pytest.mark.parametrize("func,values,kind", [
    # abs'(0) = 0 is the mean of the slopes -1 and 1: the central difference agrees, no failure
    (lambda x: x.abs() * 3, [0.0, 1.0, -2.0], "ok"),
    (lambda x: x.clamp(-1, 1), [1.0, 0.3, -0.5], "not_differentiable"),
    (lambda x: x.clamp(-1, 1), [-1.0, 0.3, 0.5], "not_differentiable"),
    (lambda x: x.reshape(1, 1, 2, 2).max(), [1.0, 3.0, 3.0, 3.0], "not_differentiable"),
    (lambda x: x.relu().sum(), [0.0, 2.0, -1.0], "not_differentiable"),
], ids=["abs at 0", "clamp at max", "clamp at min", "tied maxima", "relu at 0"])
def test_kinks_of_built_in_ops(func, values, kind, fast):
    x = Tensor(np.array(values), requires_grad=True)
    report = check_grads(func, x, fast_mode=fast)
    assert report.kind == kind, str(report)
    if kind == "not_differentiable":
        assert "left slope" in report.headline and "wrong" not in report.headline
    moved = check_grads(func, x, fast_mode=fast, avoid_kinks=True)
    assert moved.ok, str(moved)
    assert "avoid_kinks: moved input 0's element(s)" in str(moved)  # abs's kink too
    np.testing.assert_array_equal(x.numpy(), values)  # the input itself is left alone


@pytest.mark.parametrize("fast", [False, True], ids=["whole", "fast"])
def test_a_kink_at_0_with_a_wrong_vjp_is_still_wrong(fast):
    """The kink diagnosis applies only when the VJP gave one of the one-sided slopes."""

    class ReluWrongSlope(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.maximum(x, 0)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x._data >= 0) * 3

    report = check_grads(ReluWrongSlope.apply, Tensor(np.array([0.0, 1.5, -0.7]),
                                                      requires_grad=True), fast_mode=fast)
    assert report.kind == "wrong_vjp", str(report)


def test_avoid_kinks_says_what_it_moved_and_checks_there():
    x = Tensor(np.array([0.0, 1.5, -0.7]), requires_grad=True)
    report = check_grads(Relu.apply, x, avoid_kinks=True)
    assert report.ok, str(report)
    assert "avoid_kinks: moved input 0's element(s) (0,)" in str(report)
    assert gradgradcheck(Relu.apply, x, avoid_kinks=True)
    np.testing.assert_array_equal(x.numpy(), [0.0, 1.5, -0.7])


def test_avoid_kinks_breaks_three_way_ties():
    x = Tensor(np.array([[1.0, 3.0, 3.0, 3.0]]), requires_grad=True)
    pool = lambda a: F.max_pool2d(a.reshape(1, 1, 2, 2), 2)  # noqa: E731
    assert check_grads(pool, x).kind == "not_differentiable"
    report = check_grads(pool, x, avoid_kinks=True)
    assert report.ok, str(report)
    assert "(0, 1)" in str(report) and "(0, 2)" in str(report) and "(0, 3)" in str(report)


def test_a_wrong_vjp_behind_a_kink_elsewhere_is_still_found():
    """avoid_kinks moves the kinked elements, and the wrong VJP is still caught."""
    x = Tensor(np.array([0.0, 1.5, -0.7, 0.4]), requires_grad=True)
    report = check_grads(lambda a: SoftplusTwiceTooBig.apply(Relu.apply(a)), x, avoid_kinks=True)
    assert report.kind == "wrong_vjp" and report.node.name == "softplus_twice_too_big", str(report)


@pytest.mark.parametrize("case", GALLERY, ids=IDS)
def test_taylor_test_catches_every_broken_op_and_passes_every_twin(case):
    """The Taylor test needs no eps or tolerance: order about 1 for each broken op (or a kink, or
    hidden state), order 2 for each twin."""
    expected = {"wrong_vjp": "taylor"}.get(case.kind, case.kind)
    report = check_grads(case.broken, case.inputs(), order=case.order, method="taylor")
    assert not report.ok and report.kind == expected, str(report)
    inputs = (x64(3),) if case.kind == "not_differentiable" else case.inputs()
    twin = check_grads(case.twin, inputs, order=case.order, method="taylor")
    assert twin.ok, str(twin)
