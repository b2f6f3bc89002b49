"""conv2d and conv_transpose2d against the plain loops of reference.py (float64, 1e-10), the
tutorial's worked example, and bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, reference
from tinygrad_cnn.ops import conv


@pytest.fixture(params=[f"{t}-{w}-{lay}" for t in ("banded", "conv", "col2im")
                        for w in ("wgrad_cols", "wgrad_t") for lay in ("rows", "wide")])
def transposed_path(request, monkeypatch):
    """Run a test with each of the three ways conv_transpose2d (and so conv2d's input gradient)
    is computed -- band matrices by rows, a convolution of the padded gradient (stride 1 only), or
    a GEMM and col2im -- each of the two ways the weight gradient reads the output gradient
    (columns, or transposed columns), and each column layout (rows; wide wherever stride 1 allows
    it)."""
    way, wgrad, lay = request.param.split("-")
    monkeypatch.setattr(conv, "BANDED_MAX_WIDTH", 10**9 if way == "banded" else 0)
    monkeypatch.setattr(conv, "AS_CONV_MAX_WASTE", 10**9 if way == "conv" else 0)
    monkeypatch.setattr(conv, "WGRAD_T_MIN_CHANNELS", 1 if wgrad == "wgrad_t" else 10**9)
    monkeypatch.setattr(conv, "SMALL_GEMM_MNK", 10**12)
    monkeypatch.setattr(conv, "WIDE_MAX_BYTES", 10**9 if lay == "wide" else 0)
    return request.param

STRIDES = [1, 2, (2, 1)]
PADDINGS = [0, 1, (1, 2), "same", "valid"]
DILATIONS = [1, 2, (2, 1)]
GROUPS = [1, 2, 4]  # 4 == in_channels: depthwise

GRID = [c for c in itertools.product(STRIDES, PADDINGS, DILATIONS, GROUPS)
        if not (c[1] == "same" and c[0] != 1)]


def _explicit_pads(padding, kernel, dilation):
    """(top, bottom, left, right) for reference.py, with PyTorch's rule for 'same'."""
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    if padding == "valid":
        return (0, 0, 0, 0)
    if padding == "same":
        pads = []
        for k, dd in zip(kernel, d):
            total = dd * (k - 1)
            pads += [total // 2, total - total // 2]
        return tuple(pads)
    p = (padding, padding) if isinstance(padding, int) else padding
    return (p[0], p[0], p[1], p[1])


@pytest.mark.parametrize("stride,padding,dilation,groups", GRID,
                         ids=[f"s{s}-p{p}-d{d}-g{g}" for s, p, d, g in GRID])
def test_conv2d_matches_reference(stride, padding, dilation, groups, transposed_path):
    case = GRID.index((stride, padding, dilation, groups))
    rng = np.random.default_rng(case)
    n = 1 if case % 2 else 3  # batch 1 and 3
    with_bias = case % 3 != 0
    kernel = (3, 2) if case % 4 else (2, 3)  # rectangular kernels, both ways
    c, k = 4, 4
    x = rng.standard_normal((n, c, 7, 6))  # rectangular input
    w = rng.standard_normal((k, c // groups, *kernel))
    b = rng.standard_normal(k) if with_bias else None
    tx, tw = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    tb = Tensor(b, requires_grad=True) if with_bias else None
    out = F.conv2d(tx, tw, tb, stride=stride, padding=padding, dilation=dilation, groups=groups)

    pads = _explicit_pads(padding, kernel, dilation)
    ref = reference.conv2d(x, w, b, stride, pads, dilation, groups)
    np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-10)

    g = rng.standard_normal(ref.shape)
    out.backward(Tensor(g))
    gx, gw, gb = reference.conv2d_backward(x, w, g, stride, pads, dilation, groups)
    np.testing.assert_allclose(tx.grad.numpy(), gx, rtol=0, atol=1e-10)
    np.testing.assert_allclose(tw.grad.numpy(), gw, rtol=0, atol=1e-10)
    if with_bias:
        np.testing.assert_allclose(tb.grad.numpy(), gb, rtol=0, atol=1e-10)


TGRID = list(itertools.product([1, 2, (2, 1)], [0, 1, (1, 0)], [1, 2], [1, 2]))


@pytest.mark.parametrize("stride,padding,dilation,groups", TGRID,
                         ids=[f"s{s}-p{p}-d{d}-g{g}" for s, p, d, g in TGRID])
def test_conv_transpose2d_matches_reference(stride, padding, dilation, groups, transposed_path):
    case = TGRID.index((stride, padding, dilation, groups))
    rng = np.random.default_rng(100 + case)
    s = (stride, stride) if isinstance(stride, int) else stride
    output_padding = tuple(min(case % 2, max(si, dilation) - 1) for si in s)
    n = 1 if case % 2 else 3
    x = rng.standard_normal((n, 4, 4, 3))
    w = rng.standard_normal((4, 6 // groups, 3, 2))
    b = rng.standard_normal(6) if case % 3 else None
    tx, tw = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    tb = Tensor(b, requires_grad=True) if b is not None else None
    out = F.conv_transpose2d(tx, tw, tb, stride=stride, padding=padding,
                             output_padding=output_padding, groups=groups, dilation=dilation)
    ref = reference.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-10)
    g = rng.standard_normal(ref.shape)
    out.backward(Tensor(g))
    gx, gw, gb = reference.conv_transpose2d_backward(x, w, g, stride, padding, output_padding,
                                                     groups, dilation)
    np.testing.assert_allclose(tx.grad.numpy(), gx, rtol=0, atol=1e-10)
    np.testing.assert_allclose(tw.grad.numpy(), gw, rtol=0, atol=1e-10)
    if tb is not None:
        np.testing.assert_allclose(tb.grad.numpy(), gb, rtol=0, atol=1e-10)


def test_conv_transpose_is_the_adjoint_of_conv():
    """<conv2d(x, w), y> == <x, conv_transpose2d(y, w)> for the same stride/padding/dilation."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 3, 2))
    y = F.conv2d(Tensor(x), Tensor(w), stride=2, padding=1, dilation=(1, 2), groups=2)
    z = rng.standard_normal(y.shape)
    xt = F.conv_transpose2d(Tensor(z), Tensor(w), stride=2, padding=1, dilation=(1, 2), groups=2,
                            output_padding=(0, 1))
    assert xt.shape == x.shape
    np.testing.assert_allclose((y.numpy() * z).sum(), (x * xt.numpy()).sum(), rtol=1e-12)


def test_tutorial_flipped_kernel_method_agrees():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((4, 3, 3, 3))
    g = rng.standard_normal((2, 4, 4, 4))
    flipped = reference.conv2d_input_grad_tutorial(x.shape, w, g, stride=2, padding=1)
    chain_rule = reference.conv2d_backward(x, w, g, 2, 1)[0]
    np.testing.assert_allclose(flipped, chain_rule, atol=1e-12)


# --------------------------------------------------------------------------- the tutorial
TUTORIAL_FORWARD = [[[6, 7, 5], [3, -1, -1], [2, -1, 4]], [[2, -5, -8], [1, -4, -4], [0, -5, -5]]]
TUTORIAL_FILTER1 = [[[-1.008, 0.99, -0.009], [-0.005, 0.994, -0.006], [-0.006, 0.995, 0.996]],
                    [[-1.004, -1.001, -0.004], [-0.01, -0.009, -0.012], [-0.002, -1.002, -0.002]],
                    [[-0.002, -0.002, -1.003], [-0.005, 0.992, -0.005], [0.993, -1.008, -1.007]]]
TUTORIAL_FILTER2 = [[[0.998, 0.998, -1.001], [-1.004, -1.007, 0.997], [-0.004, -1.004, 0.998]],
                    [[0, 0.999, 0], [-1.009, -0.005, -1.004], [-1.004, 1, 0]],
                    [[-1.004, -0.006, -0.005], [-1.002, -0.005, 0.998], [-1.002, -0.001, 0]]]
TUTORIAL_BIAS = [0.991, -0.007]


def test_tutorial_worked_example_to_the_last_digit():
    ex = reference.tutorial_example()
    x = Tensor(ex["input"])  # (3, 5, 5): unbatched, as in the tutorial
    w = Tensor(ex["weight"], requires_grad=True)
    b = Tensor(ex["bias"], requires_grad=True)
    out = F.conv2d(x, w, b, stride=2, padding=1)  # identity activation
    np.testing.assert_array_equal(out.numpy(), TUTORIAL_FORWARD)
    out.backward(Tensor(ex["grad_output"]))
    lr = 0.001
    new_w = w.numpy() - lr * w.grad.numpy()  # the tutorial's Filter.update
    new_b = b.numpy() - lr * b.grad.numpy()
    # the gradients are integers; the updated filters are the tutorial's printed arrays (numpy
    # prints them to 3 decimals) and the biases its printed 17 significant digits
    np.testing.assert_array_equal(w.grad.numpy(), np.round(w.grad.numpy()))
    np.testing.assert_array_equal(np.round(new_w[0], 3), TUTORIAL_FILTER1)
    np.testing.assert_array_equal(np.round(new_w[1], 3), TUTORIAL_FILTER2)
    np.testing.assert_allclose(new_w, [TUTORIAL_FILTER1, TUTORIAL_FILTER2], rtol=0, atol=1e-15)
    assert [f"{v:.17g}" for v in new_b] == ["0.99099999999999999", "-0.0070000000000000001"]
    np.testing.assert_array_equal(new_b, TUTORIAL_BIAS)
    # and the plain loops agree
    ref_gx, ref_gw, ref_gb = reference.conv2d_backward(ex["input"][None], ex["weight"],
                                                       ex["grad_output"][None], 2, 1)
    np.testing.assert_array_equal(w.grad.numpy(), ref_gw)
    np.testing.assert_array_equal(b.grad.numpy(), ref_gb)


def test_per_position_bias_is_a_broadcast_add():
    """PaddlePaddle's shared_biases=False: one bias per output position is just a broadcast add."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 3, 6, 6)))
    w = Tensor(rng.standard_normal((4, 3, 3, 3)))
    pb = Tensor(rng.standard_normal((4, 4, 4)), requires_grad=True)  # (C, OH, OW)
    y = F.conv2d(x, w) + pb
    np.testing.assert_allclose(y.numpy(), F.conv2d(x, w).numpy() + pb.numpy())
    y.sum().backward()
    np.testing.assert_array_equal(pb.grad.numpy(), np.full((4, 4, 4), 2.0))


def test_weight_gradient_skips_unneeded_input_gradient():
    x = Tensor(np.ones((1, 1, 5, 5)))  # the first layer: no input gradient needed
    w = Tensor(np.ones((2, 1, 3, 3)), requires_grad=True)
    y = F.conv2d(x, w)
    assert y.grad_fn.needs_input_grad == (False, True)
    y.sum().backward()
    assert x.grad is None and w.grad is not None


# --------------------------------------------------------------------------- bad input
X = Tensor(np.ones((2, 4, 8, 8)))
W = Tensor(np.ones((6, 4, 3, 3)))

BAD = [
    (lambda: F.conv2d(X, Tensor(np.ones((6, 3, 3, 3)))), ValueError, r"4 channels.*expects 3"),
    (lambda: F.conv2d(X, Tensor(np.ones((6, 4, 3, 3))), groups=3), ValueError,
     "groups=3 does not divide the 4 input channels"),
    (lambda: F.conv2d(X, Tensor(np.ones((6, 4, 9, 3)))), ValueError,
     "kernel 9x3.*larger than the padded input 8x8"),
    (lambda: F.conv2d(X, W, dilation=4), ValueError, r"dilated: 9x9.*larger"),
    (lambda: F.conv2d(Tensor(np.ones((8, 8))), W), ValueError, "expected a 4-D input"),
    (lambda: F.conv2d(X, W, stride=0), ValueError, "stride must be positive"),
    (lambda: F.conv2d(X, W, padding=-1), ValueError, "padding must be non-negative"),
    (lambda: F.conv2d(X, W, dilation=0), ValueError, "dilation must be positive"),
    (lambda: F.conv2d(X, W, stride=2, padding="same"), ValueError, "'same' needs stride 1"),
    (lambda: F.conv2d(X, W, padding="full"), ValueError, "'same' or 'valid'"),
    (lambda: F.conv2d(X, W, Tensor(np.ones(4))), ValueError, r"bias must have shape \(6,\)"),
    (lambda: F.conv2d(X, W, stride=(1, 2, 3)), ValueError, r"stride must be an int or an \(h, w\)"),
    (lambda: F.conv2d(X, Tensor(np.ones((6, 4, 3)))), ValueError, "weight must be a 4-D"),
    (lambda: F.conv2d(X, Tensor(np.ones((6, 4, 3, 3), dtype=np.float32))), TypeError, "one dtype"),
    (lambda: F.conv_transpose2d(X, Tensor(np.ones((4, 2, 3, 3))), stride=2, output_padding=2),
     ValueError, "output_padding .* must be smaller than the stride"),
    (lambda: F.conv_transpose2d(X, Tensor(np.ones((3, 2, 3, 3)))), ValueError,
     r"4 channels.*expects 3"),
]


@pytest.mark.parametrize("call,exc,match", BAD, ids=[m[:30] for _, _, m in BAD])
def test_bad_conv_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
