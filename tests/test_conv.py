"""conv2d and conv_transpose2d, every way they can be computed, against the plain loops of
reference.py (float64 to 1e-10; float32 on odd shapes to PyTorch's float32 tolerance), the
tutorial's worked example, and bad input."""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
from thread_counts import assert_same_on_1_2_3_threads

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck, reference
from tinygrad_cnn.ops import conv_arrays

PATHS = [f"{t}-{w}-{lay}" for t in ("banded", "conv", "col2im")
         for w in ("wgrad_cols", "wgrad_t") for lay in ("rows", "wide")]
PATHS += ["shifted", "shifted-numpy-blas-off", "channels_last"]


def use_path(path, monkeypatch):
    """Force one way of computing convolutions (see :func:`transposed_path`)."""
    monkeypatch.setattr(conv_arrays, "SHIFTED_MIN_Q", 10**12)
    monkeypatch.setattr(conv_arrays, "CHANNELS_LAST_MIN_RUN", 10**9)
    if path == "channels_last":
        # channels-last columns wherever one group and no width dilation allow them
        monkeypatch.setattr(conv_arrays, "CHANNELS_LAST_MIN_RUN", 0)
        return
    if path.startswith("shifted"):
        # every stride-1 convolution the shifted way (the others as by default); with the BLAS
        # "not found", the same thresholds must fall back to the numpy ways
        monkeypatch.setattr(conv_arrays, "SHIFTED_MIN_Q", 0)
        monkeypatch.setattr(conv_arrays, "SHIFTED_MIN_CHANNELS", 0)
        monkeypatch.setattr(conv_arrays, "SHIFTED_MIN_WORK", 0)
        if path.endswith("blas-off"):
            monkeypatch.setattr(conv_arrays.blas, "available", lambda dtype: False)
        elif not conv_arrays.blas.available(np.float64):
            pytest.skip("no OpenBLAS GEMM found for the shifted way")
        return
    way, wgrad, lay = path.split("-")
    monkeypatch.setattr(conv_arrays, "BANDED_MAX_WIDTH", 10**9 if way == "banded" else 0)
    monkeypatch.setattr(conv_arrays, "AS_CONV_MAX_WASTE", 10**9 if way == "conv" else 0)
    monkeypatch.setattr(conv_arrays, "WGRAD_T_MIN_CHANNELS", 1 if wgrad == "wgrad_t" else 10**9)
    monkeypatch.setattr(conv_arrays, "SMALL_GEMM_MNK", 10**12)
    monkeypatch.setattr(conv_arrays, "WIDE_MAX_BYTES", 10**9 if lay == "wide" else 0)


@pytest.fixture(params=PATHS)
def transposed_path(request, monkeypatch):
    """Run a test with each way a convolution can be computed: the three ways of
    conv_transpose2d (and so of conv2d's input gradient) -- band matrices by rows, a convolution
    of the padded gradient (stride 1 only), or a GEMM and col2im -- each with the two ways the
    weight gradient reads the output gradient (columns, or transposed columns) and the two column
    layouts (rows; wide wherever stride 1 allows it); the shifted way (one GEMM per kernel
    offset, no column matrix: forward, weight gradient and adjoint, wherever stride 1 allows it),
    also with the BLAS it calls missing; and channels-last columns (forward and weight gradient,
    wherever one group and no width dilation allow them)."""
    use_path(request.param, monkeypatch)
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


# float32 on the odd shapes: (x shape, weight shape, conv2d keywords)
ODD = {
    "stride 2": ((2, 4, 9, 8), (6, 4, 3, 3), dict(stride=2, padding=1)),
    "stride (2,1) dilation (1,2)": ((2, 4, 9, 8), (6, 4, 3, 2), dict(stride=(2, 1), dilation=(1, 2))),
    "dilation 2": ((2, 4, 9, 9), (4, 4, 3, 3), dict(dilation=2, padding=2)),
    "groups 2": ((2, 4, 7, 7), (6, 2, 3, 3), dict(groups=2, padding=1)),
    "depthwise": ((2, 4, 7, 7), (4, 1, 3, 3), dict(groups=4, padding=1)),
    "asymmetric same": ((2, 3, 6, 7), (5, 3, 4, 2), dict(padding="same")),
    "1x1": ((2, 5, 6, 6), (7, 5, 1, 1), {}),
    "kernel = input": ((2, 3, 5, 4), (4, 3, 5, 4), {}),
    "kernel = padded input": ((2, 3, 3, 3), (4, 3, 5, 5), dict(padding=1)),
    "batch 1": ((1, 8, 12, 12), (16, 8, 3, 3), dict(padding=1)),
    "empty batch": ((0, 4, 6, 6), (4, 4, 3, 3), dict(padding=1)),
    "wide channels": ((3, 16, 20, 20), (16, 16, 3, 3), dict(padding=1)),
}


def _unit(rng, shape, fan):
    """float32 values of size ~1/sqrt(fan): sums of ``fan`` products stay O(1), so PyTorch's
    float32 tolerance (rtol 1.3e-6, atol 1e-5) is meaningful for every output and gradient."""
    return (rng.uniform(-1, 1, shape) / np.sqrt(max(fan, 1))).astype(np.float32)


@functools.cache
def _odd_conv2d(case):
    """Inputs and the loops' float64 results for one ODD case (the same for every way)."""
    xs, ws, kw = ODD[case]
    rng = np.random.default_rng(sorted(ODD).index(case))
    x, w, b = _unit(rng, xs, 1), _unit(rng, ws, np.prod(ws[1:])), _unit(rng, ws[:1], 1)
    stride, dilation, groups = kw.get("stride", 1), kw.get("dilation", 1), kw.get("groups", 1)
    pads = _explicit_pads(kw.get("padding", 0), ws[2:], dilation)
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    ref = reference.conv2d(x64, w64, b.astype(np.float64), stride, pads, dilation, groups)
    g = _unit(rng, ref.shape, ref.shape[0] * ref.shape[2] * ref.shape[3])
    grads = reference.conv2d_backward(x64, w64, g.astype(np.float64), stride, pads, dilation,
                                      groups)
    return (x, w, b, g), ref, grads


@pytest.mark.parametrize("case", list(ODD))
@pytest.mark.parametrize("path", PATHS)
def test_float32_conv2d_on_odd_shapes(case, path, monkeypatch):
    """Every way, in float32, within PyTorch's float32 tolerance of the float64 loops."""
    use_path(path, monkeypatch)
    (x, w, b, g), ref, grads = _odd_conv2d(case)
    tx, tw, tb = (Tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, **ODD[case][2])
    assert out.dtype == np.float32
    tol = dict(rtol=1.3e-6, atol=1e-5)
    np.testing.assert_allclose(out.numpy(), ref, **tol)
    out.backward(Tensor(g))
    for got, want in zip((tx.grad, tw.grad, tb.grad), grads):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), want, **tol)


TRANSPOSED_ODD = ["stride 2", "dilation 2", "groups 2", "1x1", "batch 1", "empty batch",
                  "wide channels"]


@functools.cache
def _odd_conv_transpose2d(case):
    (n, c, h, wd), (k, cg, kh, kw), args = ODD[case]
    groups = args.get("groups", 1)
    kw_t = dict(stride=args.get("stride", 1), padding=args.get("padding", 0),
                dilation=args.get("dilation", 1), groups=groups)
    rng = np.random.default_rng(50 + sorted(ODD).index(case))
    # conv_transpose2d's weight is (in, out/G, kh, kw): the conv's weight read the other way
    z, w = _unit(rng, (n, k, h, wd), 1), _unit(rng, (k, cg, kh, kw), k // groups * kh * kw)
    z64, w64 = z.astype(np.float64), w.astype(np.float64)
    ref = reference.conv_transpose2d(z64, w64, None, kw_t["stride"], kw_t["padding"], 0, groups,
                                     kw_t["dilation"])
    g = _unit(rng, ref.shape, max(ref.shape[0] * ref.shape[2] * ref.shape[3], 1))
    gz, gw, _ = reference.conv_transpose2d_backward(z64, w64, g.astype(np.float64),
                                                    kw_t["stride"], kw_t["padding"], 0, groups,
                                                    kw_t["dilation"])
    return kw_t, (z, w, g), ref, (gz, gw)


@pytest.mark.parametrize("case", TRANSPOSED_ODD)
@pytest.mark.parametrize("path", PATHS)
def test_float32_conv_transpose2d_on_odd_shapes(case, path, monkeypatch):
    use_path(path, monkeypatch)
    kw_t, (z, w, g), ref, grads = _odd_conv_transpose2d(case)
    tz, tw = Tensor(z, requires_grad=True), Tensor(w, requires_grad=True)
    out = F.conv_transpose2d(tz, tw, **kw_t)
    tol = dict(rtol=1.3e-6, atol=1e-5)
    np.testing.assert_allclose(out.numpy(), ref, **tol)
    out.backward(Tensor(g))
    for got, want in zip((tz.grad, tw.grad), grads):
        np.testing.assert_allclose(got.numpy(), want, **tol)


@pytest.mark.parametrize("path", PATHS)
def test_second_derivatives_every_way(path, monkeypatch):
    """gradcheck and gradgradcheck (float64) of a stride-1 convolution, its transposed twin and
    the weight-gradient op, computed each way: the VJPs call each other, so a second derivative
    runs all three ops of the way."""
    from tinygrad_cnn.ops.conv import Conv2dWeight

    use_path(path, monkeypatch)
    rng = np.random.default_rng(7)

    def t(*shape):
        return Tensor(rng.standard_normal(shape), requires_grad=True)

    cases = [
        (lambda x, w, b: F.conv2d(x, w, b, padding=(1, 0), dilation=(1, 2), groups=2),
         (t(2, 4, 5, 6), t(4, 2, 3, 2), t(4))),
        (lambda x, w: F.conv_transpose2d(x, w, padding=1), (t(1, 3, 4, 4), t(3, 2, 3, 3))),
        (lambda x, g: Conv2dWeight.apply(x, g, kernel_size=(3, 3), padding=((1, 1), (1, 1))),
         (t(2, 2, 4, 5), t(2, 3, 4, 5))),
    ]
    for fn, inputs in cases:
        assert gradcheck(fn, inputs)
        assert gradgradcheck(fn, inputs)


def test_ops_applied_without_their_defaults_have_a_backward():
    """Conv2d/ConvTranspose2d/Conv2dWeight applied directly with their keyword defaults left out
    (a KeyError in backward before)."""
    from tinygrad_cnn.ops.conv import Conv2d, Conv2dWeight, ConvTranspose2d

    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    g = Tensor(rng.standard_normal((2, 4, 3, 3)), requires_grad=True)
    for out in (Conv2d.apply(x, w), ConvTranspose2d.apply(g, w),
                Conv2dWeight.apply(x, g, kernel_size=(3, 3))):
        x.grad = w.grad = g.grad = None
        out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), reference.conv2d_backward(
        x.numpy(), np.ones((4, 3, 3, 3)), g.numpy(), 1, 0)[0], atol=1e-12)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("block_bytes", [1, 5000, 10**9])
def test_forward_without_weight_gradient_in_blocks(path, block_bytes, monkeypatch):
    """Without a weight gradient to feed (no_grad, or a frozen weight) conv2d makes its column
    matrix a few samples at a time: the same output for one sample per block, a few, or all."""
    from tinygrad_cnn import no_grad

    use_path(path, monkeypatch)
    monkeypatch.setattr(conv_arrays, "BLOCK_BYTES", block_bytes)
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((7, 4, 9, 8)), rng.standard_normal((6, 2, 3, 2)), \
        rng.standard_normal(6)
    for kw in (dict(padding=1, groups=2), dict(stride=2, dilation=(1, 2), groups=2)):
        ref = reference.conv2d(x, w, b, kw.get("stride", 1), kw["padding"] if "padding" in kw
                               else 0, kw.get("dilation", 1), 2)
        with no_grad():
            out = F.conv2d(Tensor(x), Tensor(w), Tensor(b), **kw)
        np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-10)
        tx = Tensor(x, requires_grad=True)  # the input's gradient only: no column matrix kept
        y = F.conv2d(tx, Tensor(w), Tensor(b), **kw)
        np.testing.assert_allclose(y.numpy(), ref, rtol=0, atol=1e-10)
        y.sum().backward()
        np.testing.assert_allclose(tx.grad.numpy(), reference.conv2d_backward(
            x, w, np.ones(ref.shape), kw.get("stride", 1), kw.get("padding", 0),
            kw.get("dilation", 1), 2)[0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("path", ["shifted", "channels_last"])
@pytest.mark.parametrize("groups", [1, 2])
def test_new_ways_do_not_depend_on_the_thread_count(path, groups, monkeypatch):
    """Split over 1, 2 or 3 threads (each batch chunk sums its own part of the weight gradient),
    the results agree to rounding."""
    from tinygrad_cnn import parallel

    use_path(path, monkeypatch)
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)  # split even these small convolutions
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((7, 4, 12, 11)), requires_grad=True)
    w = Tensor(rng.standard_normal((6, 4 // groups, 3, 2)), requires_grad=True)
    assert_same_on_1_2_3_threads(x, w, padding=(1, 2), dilation=(2, 1), groups=groups)


def test_shifted_way_runs_where_chosen(monkeypatch):
    """The shifted way computes the forward, the weight gradient and the input gradient of a
    stride-1 convolution it is chosen for (here: the benchmark's 3×3 shape, smaller batch); with
    the BLAS missing, the same convolution takes the numpy ways; LeNet-5's stays with im2col."""
    if not conv_arrays.blas.available(np.float32):
        pytest.skip("no OpenBLAS GEMM found for the shifted way")
    ran = []
    for name in ("conv2d_shifted", "conv2d_weight_shifted", "conv_transpose2d_shifted"):
        fn = getattr(conv_arrays, name)
        monkeypatch.setattr(conv_arrays, name, lambda *a, _fn=fn, _name=name, **k: (ran.append(_name),
                                                                             _fn(*a, **k))[1])
    rng = np.random.default_rng(0)

    def run(shape, wshape, padding):
        x = Tensor(_unit(rng, shape, 1), requires_grad=True)
        w = Tensor(_unit(rng, wshape, np.prod(wshape[1:])), requires_grad=True)
        F.conv2d(x, w, padding=padding).sum().backward()
        return x.grad.numpy(), w.grad.numpy()

    big = run((2, 64, 32, 32), (64, 64, 3, 3), 1)
    assert ran == ["conv2d_shifted", "conv_transpose2d_shifted", "conv2d_weight_shifted"]
    ran.clear()
    run((4, 6, 14, 14), (16, 6, 5, 5), 0)  # LeNet-5's conv2
    assert ran == []
    monkeypatch.setattr(conv_arrays.blas, "available", lambda dtype: False)
    rng = np.random.default_rng(0)
    numpy_way = run((2, 64, 32, 32), (64, 64, 3, 3), 1)
    assert ran == []
    for a, b in zip(big, numpy_way):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


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


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("where", ["input", "weight", "output_grad"])
def test_an_inf_gives_pytorch_nans_every_way(path, where, monkeypatch):
    """An inf in the input, the weight or the output gradient: every way gives PyTorch's values
    and NaNs. The shifted way, the wide layout, the band matrices and the adjoint computed as a
    convolution multiply zeros that stand for no output (wrapped columns, padding, the band's
    zeros) by the other operand; 0 * inf made NaNs the true sums do not have."""
    torch = pytest.importorskip("torch")
    use_path(path, monkeypatch)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 9, 7))
    w = rng.standard_normal((5, 4, 3, 3))
    g = rng.standard_normal((2, 5, 9, 7))
    {"input": x, "weight": w, "output_grad": g}[where][0, 1, 1, 0] = np.inf
    tx, tw = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    F.conv2d(tx, tw, padding=1).backward(Tensor(g))
    px, pw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    torch.nn.functional.conv2d(px, pw, padding=1).backward(torch.tensor(g))
    for ours, theirs in ((tx.grad, px.grad), (tw.grad, pw.grad)):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, atol=1e-10)
    # the transposed convolution's forward is the same adjoint
    ours = F.conv_transpose2d(Tensor(g), Tensor(w), padding=1).numpy()
    theirs = torch.nn.functional.conv_transpose2d(torch.tensor(g), torch.tensor(w), padding=1)
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-10)


def test_width_one_inputs_with_odd_unit_strides_match_torch():
    """Found by an outside tester (silently wrong, and reading outside the array): numpy calls
    ``s[:, None, :, None]`` C-contiguous although its size-1 dims have stride 0, and im2col's wide
    layout stepped through the plane with the width's stride -- conv2d's forward and weight
    gradient, and conv_transpose2d's gradients when its output was used transposed."""
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(0)
    s, w = rng.standard_normal((2, 5)), rng.standard_normal((3, 1, 2, 1))
    xs = [tg.tensor(s, requires_grad=True), torch.tensor(s, requires_grad=True)]
    ws = [tg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)]
    outs = [F.conv2d(xs[0][:, None, :, None], ws[0]), TF.conv2d(xs[1][:, None, :, None], ws[1])]
    np.testing.assert_allclose(outs[0].numpy(), outs[1].detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(tuple(outs[1].shape))
    for o, lib in ((outs[0], tg), (outs[1], torch)):
        (o * lib.tensor(g)).sum().backward()
    for a, b in ((xs[0], xs[1]), (ws[0], ws[1])):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    x = np.arange(1.0, 4.0).reshape(1, 1, 1, 3)
    one = np.ones((1, 1, 1, 1))
    np.testing.assert_array_equal(F.conv2d(tg.tensor(x).transpose(2, 3), tg.tensor(one)).numpy(),
                                  x.reshape(1, 1, 3, 1))
    x, w = np.arange(1.0, 4.0).reshape(1, 1, 3, 1), np.ones((1, 1, 2, 1))
    weights = np.array([[[[1.0, 2.0, 3.0, 4.0]]]])
    got = []
    for lib, conv in ((tg, F.conv_transpose2d), (torch, TF.conv_transpose2d)):
        xg, wg = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        y = conv(xg, wg)
        (y.transpose(2, 3) * lib.tensor(weights)).sum().backward()
        got.append((xg.grad.numpy().ravel().tolist(), wg.grad.numpy().ravel().tolist()))
    assert got[0] == got[1] == ([3.0, 5.0, 7.0], [14.0, 20.0])
