"""tinygrad_cnn.testing: the strategies draw what they promise, and check_function passes right ops,
catches wrong ones (shrunk, with a seed that reproduces the failure) and compares with PyTorch."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_cnn import Function, Tensor
from tinygrad_cnn.testing import (
    CheckFunctionError,
    _keep_away,
    broadcastable_shapes,
    broadcastable_tensors,
    check_function,
    dtypes,
    shapes,
    tensors,
)


class Softplus(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid()


class SoftplusWrongAboveOne(Function):
    """Right for x <= 1, 10% off above: only some cases fail, so shrinking has work to do."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid() * Tensor(np.where(x._data > 1, 1.1, 1.0))


# ------------------------------------------------------------------------------ strategies
@settings(max_examples=40)
@given(tensors(away_from=(0.0, 1.0), min_distance=0.05, dtype=dtypes()))
def test_tensors_keep_away_from_kinks(t):
    x = t.numpy().astype(np.float64)
    assert np.all(np.abs(x) >= 0.05 - 1e-3) and np.all(np.abs(x - 1) >= 0.05 - 1e-3)
    assert t.requires_grad and t.is_leaf and t.dtype in (np.float16, np.float32, np.float64)


@settings(max_examples=40)
@given(tensors(shape=shapes(min_dims=1), distinct=True, min_distance=0.01))
def test_tensors_distinct_have_no_ties(t):
    x = np.sort(t.numpy().ravel())
    assert np.all(np.diff(x) >= 0.01 - 1e-12)


@settings(max_examples=30)
@given(tensors(shape=shapes(min_dims=1, min_side=2), view=True))
def test_tensors_views_are_not_contiguous(t):
    assert not t._data.flags.c_contiguous
    assert np.array_equal(t.numpy(), np.ascontiguousarray(t._data))


@settings(max_examples=30)
@given(broadcastable_tensors(3, max_dims=3))
def test_broadcastable_tensors_broadcast(ts):
    assert len(ts) == 3
    np.broadcast_shapes(*(t.shape for t in ts))  # raises if they do not


@pytest.mark.parametrize("values,kinks,distinct", [
    ([0.0, 1e-9, -1e-9, 0.004, 2.0], (0.0,), False),
    ([0.0, 0.0, 0.0, 0.5, 0.5], (0.0,), True),
    ([0.49, 0.5, 0.51, 0.52], (0.5, 0.52), True),
    ([3.0, 3.0, 3.0, 3.0], (), True),
])
def test_keep_away_handles_crowded_values(values, kinks, distinct):
    out = _keep_away(np.array(values), kinks, 0.01, distinct)
    for p in kinks:
        assert np.all(np.abs(out - p) >= 0.01 - 1e-12), out
    if distinct:
        assert np.all(np.diff(np.sort(out)) >= 0.01 - 1e-12), out


# ------------------------------------------------------------------------------ check_function
def test_check_function_passes_a_right_op_against_pytorch():
    torch = pytest.importorskip("torch")
    check_function(Softplus.apply, [(3, 4)], torch.nn.functional.softplus, seed=1, max_examples=8)
    check_function(Softplus.apply, [shapes()], torch.nn.functional.softplus, dtype=dtypes(),
                   views=None, seed=2, max_examples=8)


def test_check_function_shrinks_a_failure_and_gives_the_seed():
    with pytest.raises(CheckFunctionError) as info:
        check_function(SoftplusWrongAboveOne.apply, [shapes()], seed=3, gradgrad=False)
    msg = str(info.value)
    assert msg.startswith("check_function(SoftplusWrongAboveOne.apply): gradcheck failed")
    assert "the VJP of `softplus_wrong_above_one` is wrong" in msg
    assert "input 0: shape (), float64" in msg  # shrunk to a single number above 1
    assert "check_function(..., seed=3)" in msg
    with pytest.raises(CheckFunctionError) as again:
        check_function(SoftplusWrongAboveOne.apply, [shapes()], seed=3, gradgrad=False)
    line = re.compile(r"\.py:\d+")  # the two calls sit on different lines of this file
    assert line.sub("", str(again.value)) == line.sub("", msg)  # the seed reproduces it


def test_check_function_catches_a_second_derivative():
    from test_gradcheck_gallery import SwishFromData

    with pytest.raises(CheckFunctionError, match="gradgradcheck failed"):
        check_function(SwishFromData.apply, [(3,)], seed=0, max_examples=5)


def test_check_function_compares_values_dtypes_and_gradients_with_pytorch():
    torch = pytest.importorskip("torch")
    with pytest.raises(CheckFunctionError, match="output 0 differs from PyTorch's"):
        check_function(Softplus.apply, [(4,)], torch.relu, seed=0, max_examples=5)
    with pytest.raises(CheckFunctionError, match="dtype"):
        check_function(lambda a: a * 2, [(4,)], lambda a: (a * 2).float(), seed=0,
                       max_examples=3)

    class TorchSoftplusWrongGrad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.nn.functional.softplus(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * torch.sigmoid(x) * 1.5

    with pytest.raises(CheckFunctionError, match="gradient for input 0 differs"):
        check_function(Softplus.apply, [(4,)], TorchSoftplusWrongGrad.apply, seed=0,
                       max_examples=3)


def test_check_function_with_broadcasting_and_kinks():
    torch = pytest.importorskip("torch")
    check_function(lambda a, b: a * b + a, broadcastable_shapes(2), lambda a, b: a * b + a,
                   seed=0, max_examples=10)
    check_function(lambda a: a.relu(), [shapes()], torch.relu, away_from=(0.0,), seed=0,
                   max_examples=10)
    check_function(lambda a: a.max(-1).values, [(3, 5)], lambda a: a.max(-1).values, distinct=True,
                   seed=0, max_examples=10)


def test_check_function_reports_an_exception_of_the_function():
    def broken(a):
        if a.shape and a.shape[0] > 2:
            raise ValueError("cannot do that")
        return a * 2

    with pytest.raises(CheckFunctionError) as info:
        check_function(broken, [shapes(min_dims=1)], seed=0)
    assert "ValueError: cannot do that" in str(info.value)
    assert "shape (3,)" in str(info.value)  # the smallest shape that fails


# ------------------------------------------------------------------------------ optional dependency
def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_importing_tinygrad_cnn_does_not_need_hypothesis():
    done = _run("import sys; sys.modules['hypothesis'] = None\n"
                "import tinygrad_cnn, tinygrad_cnn.gradcheck, tinygrad_cnn.pytest_plugin\n"
                "assert 'hypothesis' not in [m for m in sys.modules if sys.modules[m]]\n"
                "try:\n    from tinygrad_cnn.testing import check_function\nexcept ImportError as e:\n"
                "    print(e)\n")
    assert done.returncode == 0, done.stderr
    assert "needs Hypothesis: pip install hypothesis" in done.stdout


@settings(max_examples=5)
@given(st.integers(0, 3))
def test_strategies_compose_with_given(n):
    """The strategies are ordinary Hypothesis strategies."""
    assert isinstance(tensors(shape=(n,)), st.SearchStrategy)
