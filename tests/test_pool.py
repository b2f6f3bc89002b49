"""max_pool2d and avg_pool2d against the plain loops of reference.py, the tie rule, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, reference

MAX_GRID = list(itertools.product([2, (3, 2), 3], [None, 1, (2, 1)], [0, 1], [1, 2],
                                  [False, True]))


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode", MAX_GRID,
                         ids=[f"k{k}-s{s}-p{p}-d{d}-c{int(c)}" for k, s, p, d, c in MAX_GRID])
def test_max_pool2d_matches_reference(kernel, stride, padding, dilation, ceil_mode):
    case = MAX_GRID.index((kernel, stride, padding, dilation, ceil_mode))
    rng = np.random.default_rng(case)
    n = 1 if case % 2 else 3
    x = rng.standard_normal((n, 2, 7, 6))
    out, idx = F.max_pool2d(Tensor(x), kernel, stride, padding, dilation, ceil_mode,
                            return_indices=True)
    ref, ref_idx = reference.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
    np.testing.assert_array_equal(out.numpy(), ref)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)
    tx = Tensor(x, requires_grad=True)
    y = F.max_pool2d(tx, kernel, stride, padding, dilation, ceil_mode)
    g = rng.standard_normal(ref.shape)
    y.backward(Tensor(g))
    expected = reference.max_pool2d_backward(x, g, kernel, stride, padding, dilation, ceil_mode)
    np.testing.assert_allclose(tx.grad.numpy(), expected, rtol=0, atol=1e-12)


AVG_GRID = list(itertools.product([2, (3, 2), 3], [None, 1, (2, 1)], [0, 1], [False, True],
                                  [True, False]))


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode,count_include_pad", AVG_GRID,
                         ids=[f"k{k}-s{s}-p{p}-c{int(c)}-i{int(i)}" for k, s, p, c, i in AVG_GRID])
def test_avg_pool2d_matches_reference(kernel, stride, padding, ceil_mode, count_include_pad):
    case = AVG_GRID.index((kernel, stride, padding, ceil_mode, count_include_pad))
    rng = np.random.default_rng(case)
    n = 1 if case % 2 else 3
    x = rng.standard_normal((n, 2, 7, 6))
    tx = Tensor(x, requires_grad=True)
    y = F.avg_pool2d(tx, kernel, stride, padding, ceil_mode, count_include_pad)
    ref = reference.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
    np.testing.assert_allclose(y.numpy(), ref, rtol=0, atol=1e-12)
    g = rng.standard_normal(ref.shape)
    y.backward(Tensor(g))
    expected = reference.avg_pool2d_backward(x, g, kernel, stride, padding, ceil_mode,
                                             count_include_pad)
    np.testing.assert_allclose(tx.grad.numpy(), expected, rtol=0, atol=1e-12)


def test_max_pool_tie_rule_first_maximum_in_row_major_order():
    """Equal maxima: the gradient goes to the first one in row-major window order (the tutorial's
    get_max_index, whose `>` never replaces an equal value) -- and only to it."""
    x = np.array([[[[1.0, 3.0, 5.0, 5.0],
                    [3.0, 2.0, 5.0, 5.0],
                    [0.0, 0.0, 7.0, 1.0],
                    [0.0, 0.0, 1.0, 7.0]]]])
    tx = Tensor(x, requires_grad=True)
    F.max_pool2d(tx, 2).sum().backward()
    np.testing.assert_array_equal(tx.grad.numpy()[0, 0], [[0, 1, 1, 0],
                                                         [0, 0, 0, 0],
                                                         [1, 0, 1, 0],
                                                         [0, 0, 0, 0]])
    assert reference.get_max_index(x[0, 0, :2, :2]) == (0, 1)
    assert reference.get_max_index(x[0, 0, 2:, :2]) == (0, 0)  # all four equal: the first


def test_max_pool_overlapping_windows_add_up():
    x = Tensor(np.array([[[[0.0, 1.0, 0.0], [0.0, 9.0, 0.0], [0.0, 0.0, 0.0]]]]),
               requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()  # all four windows pick the 9
    assert x.grad.numpy()[0, 0, 1, 1] == 4.0 and x.grad.numpy().sum() == 4.0


def test_unbatched_input():
    x = np.random.default_rng(0).standard_normal((2, 4, 4))
    np.testing.assert_allclose(F.max_pool2d(Tensor(x), 2).numpy(),
                               reference.max_pool2d(x[None], 2)[0][0])
    np.testing.assert_allclose(F.avg_pool2d(Tensor(x), 2).numpy(),
                               reference.avg_pool2d(x[None], 2)[0])


X = Tensor(np.ones((1, 2, 5, 5)))
BAD = [
    (lambda: F.max_pool2d(X, 0), ValueError, "kernel_size must be positive"),
    (lambda: F.max_pool2d(X, 6), ValueError, "larger than the input"),
    (lambda: F.avg_pool2d(X, (6, 2)), ValueError, "larger than the input"),
    (lambda: F.max_pool2d(X, 2, padding=2), ValueError, "at most half"),
    (lambda: F.avg_pool2d(X, 3, padding=2), ValueError, "at most half"),
    (lambda: F.max_pool2d(X, (2, 2, 2)), ValueError, r"kernel_size must be an int or an \(h, w\)"),
    (lambda: F.max_pool2d(X, 2, stride=0), ValueError, "stride must be positive"),
    (lambda: F.max_pool2d(Tensor(np.ones(5)), 2), ValueError, "expected a 4-D input"),
    (lambda: F.max_pool2d(Tensor(np.ones((1, 1, 8, 1))), (4, 2), (1, 3), (2, 1), (2, 2), True),
     ValueError, "reads only padding"),
]


@pytest.mark.parametrize("call,exc,match", BAD, ids=[m[:30] for _, _, m in BAD])
def test_bad_pool_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_max_pool2d_commute_exactly(dtype):
    """relu(max_pool2d(x)) and max_pool2d(relu(x)): the same values and gradients, bit for bit
    -- with zeros, ties, all-negative windows and NaN in the input (so a model may apply relu on
    the pooled quarter of the elements)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 8, 6)).astype(dtype)
    x[0, 0, :2, :2] = 0.0  # a window of zeros
    x[0, 1, :2, :2] = [[-1.0, -2.0], [-0.5, -3.0]]  # all negative
    x[1, 0, :2, :2] = [[0.0, -1.0], [0.0, -2.0]]  # maximum 0, tied
    x[1, 1, 2:4, 2:4] = [[0.7, 0.7], [0.1, 0.7]]  # positive ties
    x[2, 0, 4:6, 0:2] = [[np.nan, 1.0], [2.0, -1.0]]
    g = rng.standard_normal((3, 2, 4, 3)).astype(dtype)
    results = []
    for relu_first in (True, False):
        t = Tensor(x, requires_grad=True)
        y = F.max_pool2d(t.relu(), 2) if relu_first else F.max_pool2d(t, 2).relu()
        y.backward(Tensor(g))
        results.append((y.numpy().tobytes(), t.grad.numpy().tobytes()))
    assert results[0] == results[1]


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode", MAX_GRID,
                         ids=[f"k{k}-s{s}-p{p}-d{d}-c{int(c)}" for k, s, p, d, c in MAX_GRID])
def test_max_pool2d_without_grad_gives_the_same_values(kernel, stride, padding, dilation,
                                                       ceil_mode):
    """Under no_grad (and for inputs without grad) max_pool2d keeps no indices: the same values
    as with them (the loops' where the input is finite; NaN is the maximum of its window, as in
    PyTorch), infinities included."""
    from tinygrad_cnn import no_grad

    rng = np.random.default_rng(MAX_GRID.index((kernel, stride, padding, dilation, ceil_mode)))
    x = rng.standard_normal((2, 2, 7, 6))
    args = (kernel, stride, padding, dilation, ceil_mode)
    with no_grad():
        fast = F.max_pool2d(Tensor(x, requires_grad=True), *args)
    assert fast.grad_fn is None
    np.testing.assert_array_equal(fast.numpy(), reference.max_pool2d(x, *args)[0])
    x[0, 0, 1, 1], x[1, 1, 3, 2], x[1, 0, 5, 5] = np.nan, np.inf, -np.inf
    with_indices = F.max_pool2d(Tensor(x, requires_grad=True), *args)
    np.testing.assert_array_equal(F.max_pool2d(Tensor(x), *args).numpy(), with_indices.numpy())


# ------------------------------------------------------------------------------ divisor_override
DIVISOR_GRID = list(itertools.product([2, (3, 2)], [None, 1], [0, 1], [False, True],
                                      [True, False], [1, 3, -2]))


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode,count_include_pad,divisor", DIVISOR_GRID,
                         ids=[f"k{k}-s{s}-p{p}-c{int(c)}-i{int(i)}-d{d}"
                              for k, s, p, c, i, d in DIVISOR_GRID])
def test_avg_pool2d_divisor_override_matches_torch(kernel, stride, padding, ceil_mode,
                                                   count_include_pad, divisor):
    """Every window's sum divided by ``divisor_override`` (padding, ``count_include_pad`` and the
    ceil_mode overhang change nothing then): values and input gradients as PyTorch's."""
    torch = pytest.importorskip("torch")
    case = DIVISOR_GRID.index((kernel, stride, padding, ceil_mode, count_include_pad, divisor))
    rng = np.random.default_rng(case)
    x = rng.standard_normal((2, 2, 7, 6))
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    tx = Tensor(x, requires_grad=True)
    y = F.avg_pool2d(tx, *args)
    want_x = torch.tensor(x, requires_grad=True)
    want = torch.nn.functional.avg_pool2d(want_x, *args)
    np.testing.assert_allclose(y.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(Tensor(g))
    want.backward(torch.tensor(g))
    np.testing.assert_allclose(tx.grad.numpy(), want_x.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_avg_pool2d_divisor_override_module_float32_and_gradcheck():
    torch = pytest.importorskip("torch")
    import tinygrad_cnn.nn as nn
    from tinygrad_cnn import gradcheck, gradgradcheck

    x = np.random.default_rng(1).standard_normal((3, 5, 5)).astype(np.float32)  # unbatched
    for kw in (dict(divisor_override=3), dict(padding=1, ceil_mode=True, divisor_override=5),
               dict(stride=1, count_include_pad=False, divisor_override=np.int64(-4))):
        ours = nn.AvgPool2d(3 if "padding" not in kw else 2, **kw)
        theirs = torch.nn.AvgPool2d(3 if "padding" not in kw else 2, **kw)
        assert ours.divisor_override == theirs.divisor_override
        got = ours(Tensor(x))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-6,
                                   atol=1e-6)
    assert repr(nn.AvgPool2d(2, divisor_override=3)) == repr(torch.nn.AvgPool2d(
        2, divisor_override=3))
    t = Tensor(np.random.default_rng(2).standard_normal((1, 2, 5, 4)), requires_grad=True)
    f = lambda a: F.avg_pool2d(a * a, (3, 2), 2, 1, True, False, divisor_override=4)  # noqa: E731
    assert gradcheck(f, (t,)) and gradgradcheck(f, (t,))


def test_avg_pool2d_divisor_override_errors_as_torch():
    torch = pytest.importorskip("torch")
    import tinygrad_cnn.nn as nn

    x = np.ones((1, 1, 4, 4))
    for bad, exc in ((0, RuntimeError), (2.5, TypeError), (True, TypeError), ("2", TypeError)):
        with pytest.raises(exc) as want:
            torch.nn.functional.avg_pool2d(torch.tensor(x), 2, divisor_override=bad)
        with pytest.raises(exc, match="avg_pool2d: ") as got:
            F.avg_pool2d(Tensor(x), 2, divisor_override=bad)
        assert got.type is want.type
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        nn.AvgPool2d(2, divisor_override=0)(Tensor(x))  # at the call, as PyTorch's
    with pytest.raises(TypeError):  # PyTorch's AvgPool1d and avg_pool1d have none
        F.avg_pool1d(Tensor(np.ones((1, 1, 4))), 2, divisor_override=2)
