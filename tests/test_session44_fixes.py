"""Fixes of the forty-fourth session (outside testers t185: the documentation's truth; t186: the
day's small-op speed-ups; and the speed-ups' own edge cases)."""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import nn
from tinygrad_cnn.autograd import Function

F = tg.nn.functional


def _arr(t):
    return t.detach().numpy() if hasattr(t, "detach") else t.numpy()


# ---------------------------------------------------------- the speed-ups: values as numpy's
def test_constant_pad_as_numpy_pad_for_every_dtype_layout_and_width():
    """The constant pad now fills the border itself (np.pad's Python layer was half a small pad's
    time): the same values and dtype as np.pad, in C order, for every dim count and layout."""
    from tinygrad_cnn.ops.movement import _constant_pad

    rng = np.random.default_rng(0)
    for _ in range(600):
        nd = int(rng.integers(1, 5))
        shape = tuple(int(s) for s in rng.integers(0, 4, nd))
        dt = [np.float32, np.float64, np.float16, np.int64, np.bool_][int(rng.integers(0, 5))]
        x = (rng.standard_normal(shape) * 3).astype(dt)
        if rng.random() < 0.3:
            x = x.T
        pad = tuple((int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(nd))
        value = [0, 1, -2][int(rng.integers(0, 3))] if dt in (np.int64, np.bool_) else \
            [0.0, 1.5, np.inf, np.nan][int(rng.integers(0, 4))]
        want, got = np.pad(x, pad, constant_values=value), _constant_pad(np, x, pad, value)
        assert got.dtype == want.dtype and got.shape == want.shape and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)


def test_array_mean_is_numpys_mean_bit_for_bit():
    from tinygrad_cnn.ops.reduce import array_mean

    rng = np.random.default_rng(1)
    for dt in (np.float16, np.float32, np.float64):
        x = (rng.standard_normal((3, 5, 7)) * 100).astype(dt)
        for axis in (None, 0, -1, 2, (0, 2), (1,)):
            for keepdims in (False, True):
                want, got = x.mean(axis=axis, keepdims=keepdims), array_mean(x, axis, keepdims)
                assert type(got) is type(want) and np.asarray(got).dtype == np.asarray(want).dtype
                np.testing.assert_array_equal(got, want)


def test_expand_view_as_broadcast_to_and_two_shapes_broadcast_as_numpy():
    """Broadcasting binary ops record their expand directly, its read-only view built by
    ndarray(): the same view (values, strides, read-only, sharing) as np.broadcast_to's."""
    from tinygrad_cnn.autograd import _Scratch
    from tinygrad_cnn.backend import broadcast_shapes
    from tinygrad_cnn.ops.movement import Expand

    rng = np.random.default_rng(2)
    for _ in range(500):
        shape = tuple(int(v) for v in rng.integers(0, 4, int(rng.integers(0, 4))))
        x = rng.standard_normal(shape).astype(np.float32)
        lead = int(rng.integers(0, 3))
        target = tuple(int(v) for v in rng.integers(0, 4, lead)) + tuple(
            int(rng.integers(0, 4)) if s == 1 else s for s in shape)
        want, got = np.broadcast_to(x, target), Expand.forward(_Scratch(), x, shape=target)
        np.testing.assert_array_equal(got, want)
        if want.size and not (target[lead:] == shape and all(s == 1 for s in target[:lead])):
            assert got.strides == want.strides and not got.flags.writeable
            assert np.shares_memory(got, x)
        a = tuple(int(v) for v in rng.integers(0, 4, int(rng.integers(0, 4))))
        try:
            both = np.broadcast_shapes(shape, a)
        except ValueError:
            with pytest.raises(ValueError):
                broadcast_shapes(shape, a)
        else:
            assert broadcast_shapes(shape, a) == both


def test_broadcasting_binary_ops_keep_their_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a, w, b = rng.standard_normal((4, 5)), rng.standard_normal(5), rng.standard_normal((4, 1))
    ours = [tg.tensor(v, requires_grad=True) for v in (a, w, b)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (a, w, b)]
    for x, y, z in (ours, theirs):
        ((x * y + z) / (y + 2)).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)


# ------------------------------------------------------------------------------- t186: norms
def test_a_finite_group_whose_float32_sum_overflows_is_normalised_in_float64():
    """3e38 and -3e38 twice among 16 values: numpy's float32 running sum met inf - inf and the
    whole row came out NaN; such a group is now computed in float64 (the README's rule)."""
    x = np.zeros(16, np.float32)
    x[[0, 8]], x[[1, 9]] = 3e38, -3e38
    want = np.zeros(16)
    want[[0, 8]], want[[1, 9]] = 2.0, -2.0
    np.testing.assert_allclose(_arr(F.layer_norm(tg.tensor(x[None]), (16,)))[0], want, atol=1e-6)
    col = np.stack([x, np.arange(16, dtype=np.float32)], 1)  # channel 0 overflows, channel 1 not
    y = _arr(F.batch_norm(tg.tensor(col), None, None, training=True))
    np.testing.assert_allclose(y[:, 0], want, atol=1e-6)
    assert np.isfinite(y).all()
    assert np.isnan(_arr(F.layer_norm(tg.tensor([[np.nan, 1.0]]), (2,)))).all()  # NaN in: NaN


def test_running_statistics_past_float32_are_inf_without_a_warning_shown():
    """The running variance of a 1e20 batch (float64 statistics) cast to float32 warned
    "overflow encountered in cast" under a filter set after import (pytest -W error)."""
    rm, rv = tg.zeros(1), tg.ones(1)
    x = tg.tensor(np.array([[1e20], [-1e20], [3e20]], np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = F.batch_norm(x, rm, rv, training=True)
    np.testing.assert_allclose(_arr(y)[:, 0], [0.0, -1.2247449, 1.2247449], rtol=1e-6)
    assert np.isinf(_arr(rv)).all()


def test_cross_entropy_with_probabilities_ignores_a_negative_ignore_index_as_pytorch():
    torch = pytest.importorskip("torch")
    x, p = np.array([[1.0, 2.0, 0.5]]), np.array([[0.2, 0.3, 0.5]])
    for ii in (-1, -5):
        want = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(p), ignore_index=ii)
        got = F.cross_entropy(tg.tensor(x), tg.tensor(p), ignore_index=ii)
        np.testing.assert_allclose(_arr(got), want.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="ignore_index \\(0\\) is not supported"):
        F.cross_entropy(tg.tensor(x), tg.tensor(p), ignore_index=0)


@pytest.mark.parametrize("name,args", [("ZeroPad3d", (1,)), ("ConstantPad3d", ((1, 0, 2, 1, 0, 2), 2.5)),
                                       ("ReflectionPad3d", ((1, 2, 0, 1, 2, 1),)),
                                       ("ReplicationPad3d", (2,)), ("CircularPad3d", ((1, 0, 2, 1, 1, 1),))])
@pytest.mark.parametrize("shape", [(2, 3, 4, 5, 6), (3, 4, 5, 6)])
def test_3d_padding_layers_as_torch(name, args, shape):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs) and ours.padding == theirs.padding
    x = np.random.RandomState(6).randn(*shape)
    xo, xt = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(xo), theirs(xt)
    np.testing.assert_array_equal(_arr(y), ty.detach().numpy())
    g = np.random.RandomState(7).randn(*ty.shape)
    y.backward(tg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


def test_3d_padding_layers_refuse_other_inputs_clearly():
    with pytest.raises(ValueError, match=r"ReflectionPad3d: expected a 4-D \(C, D, H, W\) or 5-D"):
        nn.ReflectionPad3d(1)(tg.zeros(3, 4, 5))
    with pytest.raises(ValueError, match="ZeroPad3d: padding must be an int or 6 ints"):
        nn.ZeroPad3d((1, 2, 3))


# ---------------------------------------------------------------- t185: what the docs promise
def test_pytorch_keyword_names():
    x = tg.ones(3, 3)
    assert tg.linalg.norm(input=x).item() == pytest.approx(3.0)
    assert tg.linalg.vector_norm(input=x).item() == tg.linalg.vector_norm(x=x).item() == \
        pytest.approx(3.0)
    assert tg.linalg.matrix_norm(input=x).item() == pytest.approx(3.0)
    with pytest.raises(TypeError, match="vector_norm: got both input and x"):
        tg.linalg.vector_norm(x, x=x)
    assert tg.linalg.norm(x=x).item() == tg.linalg.matrix_norm(x=x).item() == pytest.approx(3.0)
    assert tg.promote_types(type1=tg.int32, type2=tg.float16) == tg.float16


def test_save_and_load_take_f(tmp_path):
    path = os.path.join(tmp_path, "a.npz")
    tg.save({"w": tg.arange(3)}, f=path)
    assert tg.load(f=path)["w"].tolist() == [0, 1, 2]


def test_default_function_names_keep_acronyms_whole():
    for cls_name, want in (("GELUTanh", "gelu_tanh"), ("LSTMCell", "lstm_cell"),
                           ("MaxPool2d", "max_pool2d"), ("MyFunc", "my_func"), ("Square", "square")):
        cls = type(cls_name, (Function,), {"forward": staticmethod(lambda ctx, x: x),
                                          "backward": staticmethod(lambda ctx, g: g)})
        assert cls.name == want


def test_errors_name_the_op_the_user_called():
    x = tg.zeros(*([1] * 64))
    for call, op in ((lambda: x.unsqueeze(0), "unsqueeze"), (lambda: x.unflatten(0, (1, 1)), "unflatten")):
        with pytest.raises(ValueError, match=f"^{op}: tensors here have at most 64 dims"):
            call()
    with pytest.raises(ValueError, match=r"random_split: the lengths \[3, 3\] sum to 6, but the dataset "
                                         r"has 10 items"):
        tg.data.random_split(range(10), [3, 3])
    with pytest.raises(RuntimeError, match="^histc: bins must be > 0"):
        tg.histc(tg.ones(3), bins=0)
    with pytest.raises(RuntimeError, match=r"^cdist: X1 and X2 must have the same number of columns"):
        tg.cdist(tg.ones(2, 3), tg.ones(2, 4))


def test_layouts_as_pytorch_group_norm_of_a_transposed_input_and_a_channels_last_volume_padded():
    torch = pytest.importorskip("torch")
    b = np.random.default_rng(0).standard_normal((4, 2, 3, 5)).astype(np.float32)
    ours = F.group_norm(tg.tensor(b).transpose(0, 1), 2)
    theirs = torch.nn.functional.group_norm(torch.tensor(b).transpose(0, 1), 2)
    assert ours.is_contiguous() and theirs.is_contiguous()
    np.testing.assert_allclose(_arr(ours), theirs.numpy(), atol=1e-5)
    v = np.random.default_rng(1).standard_normal((2, 3, 4, 5, 6)).astype(np.float32)
    for mode in ("constant", "reflect", "replicate", "circular"):
        t = torch.tensor(v).contiguous(memory_format=torch.channels_last_3d)
        o = tg.tensor(v).contiguous(memory_format=tg.channels_last_3d)
        yt = torch.nn.functional.pad(t, (1, 1, 1, 1, 1, 1), mode=mode)
        yo = F.pad(o, (1, 1, 1, 1, 1, 1), mode=mode)
        assert yo.stride() == yt.stride(), mode
        np.testing.assert_array_equal(_arr(yo), yt.numpy())


# ------------------------------------------------------------------------ t187: PyTorch's API
def test_promote_types_takes_python_types_and_result_type_pytorchs_keywords(tmp_path):
    assert tg.promote_types(float, int) == tg.float64 and tg.promote_types(int, bool) == tg.int64
    assert tg.promote_types(tg.float16, int) == tg.float16
    a, b = tg.ones(2, dtype=tg.int32), tg.ones(2, dtype=tg.float16)
    assert tg.result_type(tensor=a, other=b) == tg.result_type(a, b) == tg.float16
    assert tg.result_type(a, other=2.5) == tg.float32
    with pytest.raises(TypeError, match="unexpected keyword argument 'input'"):
        tg.result_type(input=a, other=b)
    path = os.path.join(tmp_path, "b.npz")
    tg.save(tg.arange(2), path)
    assert tg.load(path, mmap=False).tolist() == [0, 1]


def test_the_in_place_error_says_pytorchs_words_and_ours():
    x = tg.ones(3, requires_grad=True)
    h = x * 1
    y = h * h
    h.add_(1)
    for words in ("modified by an inplace operation", "modified by an in-place operation"):
        with pytest.raises(RuntimeError, match=words):
            y.sum().backward(retain_graph=True)


def test_a_function_and_its_tensor_method_share_a_docstring():
    """``help(tg.clamp)`` showed a bare signature where ``Tensor.clamp`` had a docstring (t185)."""
    assert tg.clamp.__doc__ and tg.clamp.__doc__ == tg.Tensor.clamp.__doc__
    missing = [n for n in tg.__all__ if callable(getattr(tg, n, None)) and not isinstance(
        getattr(tg, n), type) and callable(getattr(tg.Tensor, n, None)) and
        bool((getattr(tg, n).__doc__ or "").strip()) != bool((getattr(tg.Tensor, n).__doc__ or "").strip())]
    assert not missing, missing


def test_fliplr_and_flipud_refuse_too_few_dims_as_pytorch():
    with pytest.raises(RuntimeError, match="fliplr: the input must have at least 2 dims"):
        tg.fliplr(tg.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="flipud: the input must have at least 1 dim"):
        tg.tensor(1.0).flipud()
    assert tg.flipud(tg.tensor([1.0, 2.0])).tolist() == [2.0, 1.0]


def test_every_public_function_and_tensor_method_has_a_docstring():
    """``help()`` and an IDE's hover show a description for each (t185: 185 functions and 290
    methods had none)."""
    top = [n for n in tg.__all__ if callable(getattr(tg, n, None)) and not isinstance(getattr(tg, n), type)]
    methods = [n for n in dir(tg.Tensor) if not n.startswith("_") and callable(getattr(tg.Tensor, n))]
    assert not [n for n in top if not (getattr(tg, n).__doc__ or "").strip()]
    assert not [n for n in methods if not (getattr(tg.Tensor, n).__doc__ or "").strip()]
    assert "in place" in tg.Tensor.sin_.__doc__ and "shape" in tg.Tensor.unsqueeze_.__doc__


# ------------------------------------------------------------------------------ t188: drawings
def _two_losses():
    from tinygrad_cnn import viz

    x = tg.tensor([0.5, -1.0], requires_grad=True)
    x.name = "x"
    t = x.tanh()
    t.name = "t"
    l1, l2 = t.sum(), t.exp().sum()
    l1.name, l2.name = "l1", "l2"
    return viz, x, l1, l2


def test_a_backward_from_one_of_two_roots_is_said_to_have_started_there():
    """``l1.backward(retain_graph=True); l2.backward()``: the drawing of both showed the latest
    pass, from l2, but said l1's VJP "leads to no requested input" and seeded l1 with 1."""
    viz, x, l1, l2 = _two_losses()
    with viz.record_gradients(l1, l2):
        l1.backward(retain_graph=True)
        l2.backward(retain_graph=True)
    head = viz.text(l1, l2, backward=True).splitlines()[0]
    assert "(3 ran: the recorded backward started at l2, not at l1)" in head, head
    assert "not seeded: the recorded backward started elsewhere" in viz.draw(l1, l2, backward=True).source
    x.grad = None
    with viz.record_gradients(l1, l2):
        tg.autograd.backward([l1, l2])
    head = viz.text(l1, l2, backward=True).splitlines()[0]
    assert "started at" not in head and "4 VJPs" in head


def test_the_pieces_of_a_split_draw_without_an_address_and_multi_output_rows_are_not_ops():
    from tinygrad_cnn import viz

    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a, b = x.split(1)
    c, d = x.chunk(2)
    loss = (a * b + c * d).sum()
    text, dot = viz.text(loss), viz.draw(loss).source
    assert not re.search(r"0x[0-9a-f]{6,}", text + dot) and "piece=" not in text + dot

    class TwoOut(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    u, v = TwoOut.apply(x)
    assert viz.text((u + v).sum()).splitlines()[0].endswith(": 3 ops, oldest first")


def test_animate_shows_a_big_graph_as_text_and_names_a_failing_dot(tmp_path, monkeypatch):
    import importlib

    from tinygrad_cnn import viz
    from tinygrad_cnn.viz.dot import GraphvizFailed

    animate_module = importlib.import_module("tinygrad_cnn.viz.animate")

    x = tg.randn(3, requires_grad=True)
    y = x
    for i in range(40):
        y = y * 1.5 if i % 2 else y + 1.0
    monkeypatch.setattr(animate_module, "MAX_DRAWN_NODES", 20)  # (dot's time grows fast: a cap)
    page = viz.animate(y.sum()).html
    assert "more than 20" in page and "shown as text" in page and "<svg" not in page
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\necho boom >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(animate_module, "MAX_DRAWN_NODES", 1000)
    with pytest.raises(GraphvizFailed, match="animate: Graphviz's dot failed .*boom"):
        viz.animate((x * 2).sum())



# --------------------------------------------------------------------------- t189: a last attempt
def test_cumsum_along_a_negative_dim_when_the_backward_is_recorded():
    """``Cumsum.apply(x, dim=-1)`` reversed along dim 0 in its recorded VJP (create_graph)."""
    torch = pytest.importorskip("torch")
    from tinygrad_cnn.ops.reduce import Cumsum

    x = np.random.default_rng(0).standard_normal((3, 4))
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g = np.random.default_rng(1).standard_normal((3, 4))
    (ga,) = tg.autograd.grad(Cumsum.apply(a, dim=-1), a, tg.tensor(g), create_graph=True)
    (gb,) = torch.autograd.grad(b.cumsum(-1), b, torch.tensor(g), create_graph=True)
    np.testing.assert_allclose(ga.detach().numpy(), gb.detach().numpy(), rtol=1e-12)


def test_layer_norm_refuses_a_list_as_weight_with_a_type_error():
    with pytest.raises(TypeError, match="layer_norm: weight must be a Tensor"):
        F.layer_norm(tg.ones(2, 3), (3,), [1.0, 1.0, 1.0])


def test_padding_layers_take_more_pairs_and_refuse_too_few_dims_as_a_runtime_error():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((1, 2, 2, 2))
    ours = nn.ZeroPad1d((1, 1, 1, 1))(tg.tensor(x))
    theirs = torch.nn.ZeroPad1d((1, 1, 1, 1))(torch.tensor(x))
    np.testing.assert_array_equal(_arr(ours), theirs.numpy())
    for layer in (nn.ReflectionPad2d(1), nn.ReplicationPad3d(1), nn.CircularPad1d(1)):
        with pytest.raises(RuntimeError, match="expected a"):
            layer(tg.ones(3))


# ------------------------------------------------------------------------- t190: float16 conv
@pytest.mark.parametrize("shape", [(1, 6, 14, 14), (2, 6, 20, 20), (2, 3, 9, 13)])
def test_float16_conv2d_with_a_bias_has_its_weight_gradient(shape):
    """The float16 forward with a bias runs in float32 and kept a column matrix laid out for
    float32's itemsize; the float16 weight gradient's layout differed ((1, 6, 14, 14): numpy's
    matmul refused, and LeNet5().half() could not train). Checked against the float32 VJP."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float16)
    w = (rng.standard_normal((16, shape[1], 5, 5)) * 0.1).astype(np.float16)
    b = rng.standard_normal(16).astype(np.float16)
    grads = []
    for dt in (np.float16, np.float32):
        ts = [tg.tensor(a.astype(dt), requires_grad=True) for a in (x, w, b)]
        F.conv2d(*ts, padding=1).sum().backward()
        grads.append([t.grad.numpy().astype(np.float32) for t in ts])
    for half, full in zip(*grads):
        np.testing.assert_allclose(half, full, rtol=2e-2, atol=0.2)


def test_padding_layers_pad_the_dims_their_pads_name_and_refuse_as_runtime_errors():
    """``ReflectionPad1d((1, 1, 1, 1))`` pads a 4-d input's last two dims, as PyTorch's (t190);
    an odd number of pads is also a RuntimeError, as PyTorch's."""
    torch = pytest.importorskip("torch")
    for name, arg, shape in (("ReflectionPad1d", (1, 1, 1, 1), (1, 2, 4, 4)),
                             ("ReflectionPad2d", (1, 1), (2, 4)), ("ReplicationPad3d", (1, 1), (2, 4))):
        a = np.random.default_rng(1).standard_normal(shape)
        np.testing.assert_array_equal(_arr(getattr(nn, name)(arg)(tg.tensor(a))),
                                      getattr(torch.nn, name)(arg)(torch.tensor(a)).numpy())
    with pytest.raises(RuntimeError, match="ZeroPad2d: padding must be an int or 4 ints"):
        nn.ZeroPad2d((1, 2, 3))
