"""The layers of issue 15 against PyTorch (float64): PyTorch's weights loaded through
``state_dict``, then forward values, input and parameter gradients and running statistics over
several training steps and in eval mode; and our ``state_dict`` loaded back into PyTorch's layer
(same names, same shapes, same outputs)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn

torch = pytest.importorskip("torch")
tnn = torch.nn

RTOL, ATOL = 1e-10, 1e-12


def to_ours(state):
    return {k: v.detach().numpy().copy() for k, v in state.items()}


def to_theirs(state):
    return {k: torch.from_numpy(np.array(v.numpy())) for k, v in state.items()}


def close(a, b, what, rtol=RTOL):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=ATOL, err_msg=what)


def run_layer(ours, theirs, shape, steps=2, seed=0, positive=False, train_eval=True,
              grad_rtol=RTOL):
    """Load PyTorch's parameters and buffers into ``ours``; compare outputs, input and parameter
    gradients and buffers after each of ``steps`` training steps and then in eval mode; load ours
    back into a fresh copy of theirs and compare again."""
    rng = np.random.default_rng(seed)
    theirs = theirs.double()
    ours = ours.double()
    with torch.no_grad():  # parameters away from their (often trivial) defaults
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.uniform(0.5, 1.5, tuple(p.shape))))
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict()), "state_dict names differ"
    ours.load_state_dict(to_ours(theirs.state_dict()))
    modes = [True] * steps + ([False] if train_eval else [])
    for step, training in enumerate(modes):
        ours.train(training)
        theirs.train(training)
        x = rng.standard_normal(shape) * 2 + 0.5
        if positive:
            x = np.abs(x) + 0.1
        xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = ours(xo), theirs(xt)
        what = f"{type(ours).__name__} step {step} ({'train' if training else 'eval'})"
        close(out.numpy(), ref.detach().numpy(), f"forward of {what}")
        g = rng.standard_normal(tuple(ref.shape))
        ours.zero_grad()
        theirs.zero_grad()
        out.backward(Tensor(g))
        ref.backward(torch.from_numpy(g))
        close(xo.grad.numpy(), xt.grad.numpy(), f"input gradient of {what}", grad_rtol)
        for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert name == tname
            close(p.grad.numpy(), tp.grad.numpy(), f"gradient of {name} in {what}")
        theirs_state = theirs.state_dict()
        for name, b in ours.named_buffers():
            close(b.numpy(), theirs_state[name].numpy(), f"buffer {name} after {what}")
    fresh = _fresh_copy(theirs)
    fresh.load_state_dict(to_theirs(ours.state_dict()))
    fresh.eval()
    ours.eval()
    x = rng.standard_normal(shape)
    close(ours(Tensor(x)).numpy(), fresh(torch.tensor(x)).detach().numpy(),
          "PyTorch's layer with our state_dict")


def _fresh_copy(module):
    import copy

    fresh = copy.deepcopy(module)
    with torch.no_grad():
        for t in [*fresh.parameters(), *fresh.buffers()]:
            t.zero_() if t.dtype.is_floating_point else t.fill_(7)
    return fresh


# ------------------------------------------------------------------------------ normalisation
@pytest.mark.parametrize("make,shape", [
    (lambda m: m.BatchNorm1d(3), (5, 3)),
    (lambda m: m.BatchNorm1d(3, momentum=None), (4, 3, 6)),
    (lambda m: m.BatchNorm2d(3), (4, 3, 5, 5)),
    (lambda m: m.BatchNorm2d(3, momentum=0.3, eps=1e-3), (2, 3, 2, 3)),
    (lambda m: m.BatchNorm2d(3, affine=False), (4, 3, 2, 2)),
    (lambda m: m.BatchNorm2d(3, track_running_stats=False), (4, 3, 2, 2)),
    (lambda m: m.InstanceNorm2d(3), (2, 3, 4, 4)),
    (lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 5)),
    (lambda m: m.InstanceNorm2d(2, affine=True), (2, 3, 3)),
    (lambda m: m.LayerNorm(6), (3, 4, 6)),
    (lambda m: m.LayerNorm((4, 6), eps=1e-3), (3, 4, 6)),
    (lambda m: m.LayerNorm(6, elementwise_affine=False), (3, 6)),
    (lambda m: m.LayerNorm(6, bias=False), (3, 6)),
    (lambda m: m.GroupNorm(2, 6), (3, 6, 4, 4)),
    (lambda m: m.GroupNorm(3, 6, affine=False), (3, 6, 5)),
    (lambda m: m.GroupNorm(1, 4), (2, 4)),
], ids=["bn1d_2d", "bn1d_3d_cumulative", "bn2d", "bn2d_momentum_eps", "bn2d_no_affine",
        "bn2d_no_stats", "in2d", "in2d_affine_stats", "in2d_unbatched", "ln", "ln_2d_eps",
        "ln_no_affine", "ln_no_bias", "gn", "gn_no_affine", "gn_2d_input"])
def test_normalisation_layers(make, shape):
    tg.manual_seed(0)
    run_layer(make(nn), make(tnn), shape, steps=3)


def test_batchnorm_errors_and_edge_cases():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(Tensor(np.ones((1, 3))))
    with pytest.raises(ValueError, match=r"expected \(N, C\) or \(N, C, L\) with C = 3"):
        bn(Tensor(np.ones((4, 5))))
    with pytest.raises(ValueError, match="4-D input"):
        nn.BatchNorm2d(3)(Tensor(np.ones((4, 3))))
    empty = nn.BatchNorm2d(2)(Tensor(np.ones((0, 2, 3, 3), np.float32)))
    assert empty.shape == (0, 2, 3, 3)
    with pytest.raises(ValueError, match="num_groups=4 must divide"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"normalized_shape \(5,\) must be the last dims"):
        nn.LayerNorm(5)(Tensor(np.ones((2, 4))))
    with pytest.raises(TypeError, match="floating"):
        nn.LayerNorm(4)(Tensor(np.ones((2, 4), dtype=np.int64)))


def test_batchnorm_float32_running_stats_stay_float32():
    bn = nn.BatchNorm2d(2)
    bn(Tensor(np.random.default_rng(0).standard_normal((4, 2, 3, 3)).astype(np.float32)))
    assert bn.running_mean.dtype == np.float32 and bn.num_batches_tracked.item() == 1
    assert bn.running_mean._version == 1


# ------------------------------------------------------------------------------ pooling, resampling
@pytest.mark.parametrize("make,shape", [
    (lambda m: m.AdaptiveAvgPool2d(1), (2, 3, 5, 7)),
    (lambda m: m.AdaptiveAvgPool2d((3, 4)), (2, 3, 5, 7)),
    (lambda m: m.AdaptiveAvgPool2d((None, 2)), (2, 3, 5, 6)),
    (lambda m: m.AdaptiveMaxPool2d(2), (2, 3, 6, 4)),
    (lambda m: m.AdaptiveMaxPool2d((3, 2)), (2, 3, 5, 5)),
    (lambda m: m.Upsample(scale_factor=2), (2, 3, 3, 4)),
    (lambda m: m.Upsample(size=(5, 7)), (2, 3, 3, 4)),
    (lambda m: m.Upsample(scale_factor=1.5, mode="bilinear"), (2, 3, 3, 4)),
    (lambda m: m.Upsample(size=(6, 5), mode="bilinear", align_corners=True), (2, 3, 3, 4)),
    (lambda m: m.Upsample(scale_factor=0.5, mode="bilinear"), (1, 2, 6, 8)),
    (lambda m: m.Upsample(scale_factor=1.5, mode="bicubic"), (2, 3, 3, 4)),
    (lambda m: m.Upsample(size=(2, 7), mode="bicubic", align_corners=True), (1, 2, 5, 3)),
    (lambda m: m.UpsamplingBilinear2d(scale_factor=2), (1, 2, 3, 3)),
    (lambda m: m.UpsamplingNearest2d(size=5), (1, 2, 3, 3)),
    (lambda m: m.PixelShuffle(2), (2, 8, 3, 3)),
    (lambda m: m.PixelUnshuffle(2), (2, 2, 4, 6)),
], ids=["aap_global", "aap_overlapping", "aap_none", "amp_divisible", "amp_overlapping",
        "up_nearest_x2", "up_nearest_size", "up_bilinear_x1.5", "up_bilinear_align",
        "up_bilinear_down", "up_bicubic_x1.5", "up_bicubic_align", "up_bilinear2d",
        "up_nearest2d", "pixel_shuffle", "pixel_unshuffle"])
def test_pooling_and_resampling_layers(make, shape):
    run_layer(make(nn), make(tnn), shape, steps=1)


def test_adaptive_max_pool_return_indices_and_ties():
    torch_x = torch.tensor([[[[1.0, 3.0, 3.0], [2.0, float("nan"), 0.0], [float("nan"), 1.0, 1.0]]]])
    x = Tensor(torch_x.numpy(), requires_grad=True)
    out, idx = nn.AdaptiveMaxPool2d(2, return_indices=True)(x)
    tout, tidx = tnn.AdaptiveMaxPool2d(2, return_indices=True)(torch_x)
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    with tg.no_grad():
        _, idx2 = nn.functional.adaptive_max_pool2d(Tensor(torch_x.numpy()), 2,
                                                    return_indices=True)
    np.testing.assert_array_equal(idx2.numpy(), tidx.numpy())


def test_interpolate_matches_pytorch_over_many_sizes():
    rng = np.random.default_rng(0)
    tf = torch.nn.functional
    for h, w, oh, ow in [(3, 5, 7, 2), (4, 4, 9, 13), (7, 3, 2, 1), (1, 1, 3, 3), (5, 9, 5, 9)]:
        x = rng.standard_normal((1, 2, h, w))
        for kw in [dict(mode="nearest"), dict(mode="nearest-exact"), dict(mode="bilinear"),
                   dict(mode="bilinear", align_corners=True), dict(mode="area")]:
            ours = nn.functional.interpolate(Tensor(x), size=(oh, ow), **kw)
            ref = tf.interpolate(torch.tensor(x), size=(oh, ow), **kw)
            close(ours.numpy(), ref.numpy(), f"{(h, w)} -> {(oh, ow)} {kw}")
        for sf in (0.7, 1.3, 2.5, (2.0, 0.4)):
            for mode in ("nearest", "nearest-exact", "bilinear"):
                try:
                    ref = tf.interpolate(torch.tensor(x), scale_factor=sf, mode=mode)
                except RuntimeError:  # an empty output
                    with pytest.raises(ValueError, match="greater than 0"):
                        nn.functional.interpolate(Tensor(x), scale_factor=sf, mode=mode)
                    continue
                ours = nn.functional.interpolate(Tensor(x), scale_factor=sf, mode=mode)
                close(ours.numpy(), ref.numpy(), f"{(h, w)} x {sf} {mode}")
    for shape, sf in [((1, 1, 3, 100), 1.3), ((1, 1, 50, 80), (1.01, 1.3)), ((1, 1, 3, 4), 1.3),
                      ((1, 1, 40, 50), 2.1), ((1, 2, 7), 1.1), ((1, 1, 3, 4, 5), (1.3, 1, 2))]:
        x = rng.standard_normal(shape)  # PyTorch's two nearest kernels (see interpolation_taps)
        modes = ["nearest", "nearest-exact", {3: "linear", 4: "bilinear", 5: "trilinear"}[len(shape)]]
        for mode in modes:
            ours = nn.functional.interpolate(Tensor(x), scale_factor=sf, mode=mode)
            ref = tf.interpolate(torch.tensor(x), scale_factor=sf, mode=mode)
            close(ours.numpy(), ref.numpy(), f"{shape} x {sf} {mode}")
    x32 = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    np.testing.assert_array_equal(
        nn.functional.interpolate(Tensor(x32), scale_factor=1.7).numpy(),
        tf.interpolate(torch.tensor(x32), scale_factor=1.7).numpy())  # float32 index rule


def test_interpolate_errors():
    x = Tensor(np.ones((1, 1, 2, 2)))
    F = nn.functional
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners can only be set"):
        F.interpolate(x, size=3, align_corners=True)
    with pytest.raises(NotImplementedError, match="linear mode needs a 3-D"):
        F.interpolate(x, size=3, mode="linear")
    with pytest.raises(NotImplementedError, match="bicubic mode needs a 4-D"):
        F.interpolate(Tensor(np.ones((1, 1, 2))), size=3, mode="bicubic")
    with pytest.raises(ValueError, match="greater than 0"):
        F.interpolate(x, scale_factor=0.2)
    with pytest.raises(ValueError, match="divisible by upscale_factor"):
        F.pixel_shuffle(Tensor(np.ones((1, 3, 2, 2))), 2)


# ------------------------------------------------------------------------------ bicubic
_BICUBIC_IN = [(1, 1), (1, 4), (3, 1), (2, 2), (3, 4), (6, 5)]
_BICUBIC_OUT = ([dict(size=s) for s in [(1, 1), (1, 3), (2, 5), (4, 4), (7, 3), (9, 11)]] +
                [dict(scale_factor=f) for f in [2, 3, 0.5, 1.5, 0.7, (2, 0.4), (1.25, 3)]] +
                [dict(scale_factor=f, recompute_scale_factor=True) for f in [1.7, (0.6, 2.5)]])


def _bicubic_pair(x, kw, g_rng=None):
    """Ours and PyTorch's bicubic of ``x`` (and, with ``g_rng``, both input gradients for one
    random output gradient); None where PyTorch refuses the sizes (an empty output)."""
    xt = torch.tensor(x, requires_grad=True)
    try:
        ref = torch.nn.functional.interpolate(xt, mode="bicubic", **kw)
    except RuntimeError:
        with pytest.raises(ValueError, match="greater than 0"):
            nn.functional.interpolate(Tensor(x), mode="bicubic", **kw)
        return None
    xo = Tensor(x, requires_grad=True)
    out = nn.functional.interpolate(xo, mode="bicubic", **kw)
    assert out.shape == tuple(ref.shape) and out.numpy().dtype == x.dtype, kw
    if g_rng is None:
        return out.numpy(), ref.detach().numpy()
    g = g_rng.standard_normal(tuple(ref.shape)).astype(x.dtype)
    out.backward(Tensor(g))
    ref.backward(torch.from_numpy(g))
    return out.numpy(), ref.detach().numpy(), xo.grad.numpy(), xt.grad.numpy()


@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_bicubic_matches_pytorch_float64(align_corners):
    """Values and input gradients over input sizes (1-pixel dims included), output sizes and
    scale factors up and down, integer and fractional, given or recomputed."""
    rng = np.random.default_rng(1)
    for h, w in _BICUBIC_IN:
        for kw in _BICUBIC_OUT:
            kw = dict(kw, align_corners=align_corners)
            got = _bicubic_pair(rng.standard_normal((2, 3, h, w)), kw, rng)
            if got is not None:
                what = f"{(h, w)} {kw}"
                np.testing.assert_allclose(got[0], got[1], rtol=1e-12, atol=1e-12, err_msg=what)
                np.testing.assert_allclose(got[2], got[3], rtol=1e-12, atol=1e-12, err_msg=what)


def test_interpolate_bicubic_float32_float16():
    """float32 to rounding; float16 is computed in float32 with its weights rounded to float16,
    as PyTorch's kernel (within one float16 ulp of PyTorch's)."""
    rng = np.random.default_rng(2)
    for h, w in [(1, 4), (3, 4), (6, 5), (17, 9)]:
        for kw in [dict(size=(5, 12)), dict(size=(2, 3), align_corners=True),
                   dict(scale_factor=2.5), dict(scale_factor=(0.6, 1.5))]:
            x = rng.standard_normal((2, 3, h, w)) * 3
            got = _bicubic_pair(x.astype(np.float32), kw, rng)
            if got is None:
                continue
            np.testing.assert_allclose(got[0], got[1], rtol=1e-5, atol=1e-5, err_msg=str(kw))
            np.testing.assert_allclose(got[2], got[3], rtol=1e-5, atol=1e-4, err_msg=str(kw))
            got = _bicubic_pair(x.astype(np.float16), kw, rng)
            np.testing.assert_allclose(got[0].astype(np.float64), got[1].astype(np.float64),
                                       rtol=1e-3, atol=4e-3, err_msg=str(kw))
            np.testing.assert_allclose(got[2].astype(np.float64), got[3].astype(np.float64),
                                       rtol=1e-3, atol=2e-2, err_msg=str(kw))


def test_interpolate_bicubic_details_as_pytorch():
    """An axis that keeps its size is still interpolated (an inf beside a pixel gives NaN, as
    PyTorch's 0 * inf); the result overshoots the input's range; the VJP of the VJP is bicubic
    again (second derivatives through create_graph)."""
    x = np.arange(12.0).reshape(1, 1, 3, 4)
    x[0, 0, 1, 2] = np.inf
    x[0, 0, 2, 0] = np.nan
    for kw in [dict(size=(3, 4)), dict(scale_factor=1.2), dict(size=(5, 2), align_corners=True)]:
        ours = nn.functional.interpolate(Tensor(x), mode="bicubic", **kw).numpy()
        ref = torch.nn.functional.interpolate(torch.tensor(x), mode="bicubic", **kw).numpy()
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref), err_msg=str(kw))
        close(np.nan_to_num(ours), np.nan_to_num(ref), str(kw))
    step = np.zeros((1, 1, 1, 6))
    step[..., 3:] = 1
    up = nn.functional.interpolate(Tensor(step), size=(1, 12), mode="bicubic").numpy()
    assert up.min() < 0 and up.max() > 1  # (PyTorch's too: no clamping)
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((1, 2, 3, 5))
    g0 = rng.standard_normal((1, 2, 4, 7))
    v0 = rng.standard_normal((1, 2, 3, 5))
    res = []
    for lib, T in ((tg, Tensor), (torch, torch.tensor)):
        x, g = T(xs, requires_grad=True), T(g0, requires_grad=True)
        y = (lib.nn.functional.interpolate(x * x, size=(4, 7), mode="bicubic") * g).sum()
        (gx,) = (tg.grad if lib is tg else torch.autograd.grad)(y, [x], create_graph=True)
        gg = (tg.grad if lib is tg else torch.autograd.grad)((gx * T(v0)).sum(), [x, g])
        res.append([np.asarray(t.detach().numpy()) for t in (gx, *gg)])
    for a, b in zip(*res):
        close(a, b, "second derivatives")


def test_interpolate_bicubic_errors_as_pytorch():
    F = nn.functional
    for shape in [(1, 2, 5), (1, 2, 3, 3, 3)]:
        with pytest.raises(NotImplementedError):
            torch.nn.functional.interpolate(torch.ones(shape), size=2, mode="bicubic")
        with pytest.raises(NotImplementedError, match="bicubic mode needs a 4-D"):
            F.interpolate(Tensor(np.ones(shape)), size=2, mode="bicubic")
    x = Tensor(np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=re.escape("linear | bilinear | bicubic | trilinear")):
        F.interpolate(x, size=3, mode="nearest", align_corners=False)
    with pytest.raises(ValueError, match="greater than 0"):
        F.interpolate(x, size=(0, 3), mode="bicubic")


def _antialias_pair(x, mode, kw, rng):
    """Ours and PyTorch's ``antialias=True`` resize of ``x``, and both input gradients."""
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.interpolate(xt, mode=mode, antialias=True, **kw)
    xo = Tensor(x, requires_grad=True)
    out = nn.functional.interpolate(xo, mode=mode, antialias=True, **kw)
    assert out.shape == tuple(ref.shape) and out.numpy().dtype == x.dtype, kw
    g = rng.standard_normal(tuple(ref.shape)).astype(x.dtype)
    out.backward(Tensor(g))
    ref.backward(torch.from_numpy(g))
    return out.numpy(), ref.detach().numpy(), xo.grad.numpy(), xt.grad.numpy()


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias_matches_pytorch(mode):
    """Pillow's resampling as PyTorch's CPU kernels (float64 to 1e-12, float32 to rounding), down
    (the filter widened to every input under it) and up, 1-pixel dims, both align_corners. Left
    out here: the two cases below, where PyTorch's kernels are wrong."""
    rng = np.random.default_rng(4)
    for h, w in [(1, 5), (3, 4), (7, 6), (16, 9), (40, 33)]:
        for kw in [dict(size=(2, 3)), dict(size=(1, 2)), dict(size=(5, 7)), dict(size=(13, 4)),
                   dict(scale_factor=0.3), dict(scale_factor=0.5), dict(scale_factor=0.7),
                   dict(scale_factor=(2, 0.6)), dict(scale_factor=1.7),
                   dict(scale_factor=0.45, recompute_scale_factor=True)]:
            if "scale_factor" in kw:
                f = kw["scale_factor"] if isinstance(kw["scale_factor"], tuple) else \
                    (kw["scale_factor"],) * 2
                size = (int(h * f[0]), int(w * f[1]))
                if 0 in size or (not kw.get("recompute_scale_factor") and (
                        (size[0] == h and f[0] != 1) or (size[1] == w and f[1] != 1))):
                    continue  # (an empty output; PyTorch's gradient quirk below)
            else:
                size = kw["size"]
            if size[1] == 1 and size[0] != h:
                continue  # (PyTorch's forward quirk below)
            for align in (False, True):
                x = rng.standard_normal((2, 3, h, w))
                got = _antialias_pair(x, mode, dict(kw, align_corners=align), rng)
                what = f"{(h, w)} {kw} align_corners={align}"
                np.testing.assert_allclose(got[0], got[1], rtol=1e-12, atol=1e-12, err_msg=what)
                np.testing.assert_allclose(got[2], got[3], rtol=1e-12, atol=1e-12, err_msg=what)
                got = _antialias_pair(x.astype(np.float32), mode, dict(kw, align_corners=align),
                                      rng)
                np.testing.assert_allclose(got[0], got[1], rtol=1e-5, atol=5e-5, err_msg=what)
                np.testing.assert_allclose(got[2], got[3], rtol=1e-5, atol=1e-4, err_msg=what)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_antialias_where_pytorch_is_wrong(mode):
    """Two differences kept, both cases where PyTorch 2.13's CPU kernels fail their own
    gradcheck. (1) An output of width 1 whose height changes: PyTorch's forward repeats its first
    row (its vertical pass reads the first output's taps for every row); ours is the resize that
    PyTorch computes on the transposed image. (2) A scale factor on an axis that keeps its size:
    the forward copies that axis (as PyTorch's), but PyTorch's VJP resamples it with the scale
    factor; ours is the adjoint of the forward, PyTorch's gradient with a scale factor of 1
    there."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 9, 4))
    ours = nn.functional.interpolate(Tensor(x), size=(3, 1), mode=mode, antialias=True).numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(x), size=(3, 1), mode=mode,
                                             antialias=True)
    assert (theirs[:, :, 1:] == theirs[:, :, :1]).all()  # (PyTorch's quirk: still there?)
    transposed = torch.nn.functional.interpolate(torch.tensor(x).transpose(2, 3), size=(1, 3),
                                                 mode=mode, antialias=True).transpose(2, 3)
    close(ours, transposed.numpy(), "width-1 output")
    x = rng.standard_normal((2, 3, 3, 4))
    got = _antialias_pair(x, mode, dict(scale_factor=1.3), rng)
    close(got[0], got[1], "forward with a kept axis")
    xo = Tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    g = rng.standard_normal((2, 3, 3, 5))
    nn.functional.interpolate(xo, scale_factor=1.3, mode=mode, antialias=True).backward(Tensor(g))
    torch.nn.functional.interpolate(xt, scale_factor=(1.0, 1.3), mode=mode,
                                    antialias=True).backward(torch.tensor(g))
    close(xo.grad.numpy(), xt.grad.numpy(), "gradient with a kept axis")
    assert tg.gradcheck(lambda t: nn.functional.interpolate(t, scale_factor=1.3, mode=mode,
                                                            antialias=True),
                        (Tensor(x[:1, :1], requires_grad=True),))


def test_interpolate_antialias_errors_as_pytorch():
    F = nn.functional
    x = np.ones((1, 1, 4, 4))
    for mode, shape in [("nearest", (1, 1, 4, 4)), ("area", (1, 1, 4, 4)),
                        ("linear", (1, 1, 4)), ("bilinear", (1, 1, 4))]:
        with pytest.raises(ValueError, match="Anti-alias"):
            torch.nn.functional.interpolate(torch.ones(shape), size=2, mode=mode,
                                            antialias=True)
        with pytest.raises(ValueError, match="antialias=True is restricted"):
            F.interpolate(Tensor(np.ones(shape)), size=2, mode=mode, antialias=True)
    with pytest.raises(NotImplementedError):
        torch.nn.functional.interpolate(torch.ones(x.shape, dtype=torch.float16), size=2,
                                        mode="bicubic", antialias=True)
    with pytest.raises(NotImplementedError, match="float16"):
        F.interpolate(Tensor(x.astype(np.float16)), size=2, mode="bicubic", antialias=True)
    same = F.interpolate(Tensor(x), size=(4, 4), mode="bicubic", antialias=True)
    np.testing.assert_array_equal(same.numpy(), x)  # (the same size: a copy, as PyTorch's)


# ------------------------------------------------------------------------------ activations
@pytest.mark.parametrize("make", [
    lambda m: m.GELU(), lambda m: m.GELU(approximate="tanh"), lambda m: m.SiLU(),
    lambda m: m.ELU(alpha=0.5), lambda m: m.SELU(), lambda m: m.CELU(alpha=1.5),
    lambda m: m.Softplus(beta=2, threshold=3), lambda m: m.Hardswish(),
    lambda m: m.Hardsigmoid(), lambda m: m.ReLU6(), lambda m: m.Hardtanh(-2, 0.5),
    lambda m: m.Mish(), lambda m: m.PReLU(), lambda m: m.PReLU(3), lambda m: m.Identity(),
], ids=["gelu", "gelu_tanh", "silu", "elu", "selu", "celu", "softplus", "hardswish",
        "hardsigmoid", "relu6", "hardtanh", "mish", "prelu", "prelu_channels", "identity"])
def test_activation_layers(make):
    ours = make(nn)
    # PyTorch's hardsigmoid gradient multiplies by float32(1/6) in every dtype: 3e-8 off
    rtol = 4e-8 if isinstance(ours, nn.Hardsigmoid) else RTOL
    run_layer(ours, make(tnn), (2, 3, 4, 4), steps=1, grad_rtol=rtol)


def test_inplace_changes_the_input_as_pytorch():
    """``inplace=True`` writes into the input and returns it (tests/test_sched_inplace.py has the
    gradients and errors)."""
    for make in (lambda m: m.ReLU(inplace=True), lambda m: m.LeakyReLU(0.1, inplace=True),
                 lambda m: m.SiLU(True), lambda m: m.ELU(inplace=True),
                 lambda m: m.Hardswish(inplace=True), lambda m: m.ReLU6(inplace=True)):
        layer = make(nn)
        name = type(layer).__name__
        x, tx = Tensor(np.array([-1.0, 2.0])), torch.tensor([-1.0, 2.0], dtype=torch.float64)
        assert layer(x) is x, name
        make(tnn)(tx)
        np.testing.assert_allclose(x.numpy(), tx.numpy(), err_msg=name)


def test_activations_at_special_values_match_pytorch():
    special = np.array([-np.inf, -50.0, -3.0, -1e-8, 0.0, 1e-8, 3.0, 6.0, 50.0, np.inf] * 4)
    for name in ["gelu", "silu", "elu", "selu", "softplus", "mish", "hardswish", "hardsigmoid",
                 "relu6"]:
        x, xt = Tensor(special, requires_grad=True), torch.tensor(special, requires_grad=True)
        out, ref = getattr(nn.functional, name)(x), getattr(torch.nn.functional, name)(xt)
        # (PyTorch's erf is 1e-21 off near -1, so gelu(-50) and its gradient are 1e-20, not 0)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-18,
                                   err_msg=name)
        (g,) = tg.grad(out.sum(), x)
        (gt,) = torch.autograd.grad(ref.sum(), xt)
        np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=4e-8, atol=1e-18, err_msg=name)


def test_gradient_at_nan_follows_pytorchs_vectorised_loop():
    """PyTorch's elu/hardswish/hardtanh give one gradient at NaN in their vectorised loop and
    another in their scalar tail loop; ours is the vectorised one (a long tensor's bulk)."""
    x = np.full(64, np.nan)
    for name in ["elu", "selu", "celu", "hardswish", "hardtanh", "relu6", "hardsigmoid", "silu",
                 "gelu", "mish", "softplus"]:
        xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        (g,) = tg.grad(getattr(nn.functional, name)(xo).sum(), xo)
        (gt,) = torch.autograd.grad(getattr(torch.nn.functional, name)(xt).sum(), xt)
        np.testing.assert_array_equal(g.numpy()[:32], gt.numpy()[:32], err_msg=name)


def test_erfc_and_ndtr_are_accurate_to_the_last_digits():
    import math

    from tinygrad_cnn.ops._special import erfc, ndtr

    x = np.concatenate([np.linspace(-8, 8, 20001), [0.46875, -0.46875, 4.0, 26.0, -30.0]])
    np.testing.assert_allclose(erfc(x), [math.erfc(v) for v in x], rtol=2e-14, atol=1e-300)
    # (deep in the tail the rounding of x / sqrt(2) alone moves Φ(x) by 2 (x²/2) 1e-16)
    np.testing.assert_allclose(ndtr(x), [math.erfc(-v / math.sqrt(2)) / 2 for v in x],
                               rtol=1e-12, atol=1e-300)
    assert ndtr(np.array([-10.0]))[0] > 7e-24  # where 1 + erf(x / sqrt(2)) would cancel to 0
    assert np.isnan(erfc(np.array([np.nan])))[0] and erfc(np.array([np.inf]))[0] == 0.0
    assert ndtr(np.float32([0.5])).dtype == np.float32


# ------------------------------------------------------------------------------ other layers
def test_embedding_matches_pytorch_with_padding_idx():
    for padding_idx in (None, 1, -1):
        theirs = tnn.Embedding(5, 3, padding_idx=padding_idx).double()
        ours = nn.Embedding(5, 3, padding_idx=padding_idx).double()
        if padding_idx is not None:
            assert not ours.weight.numpy()[padding_idx].any()  # the padding row starts at zero
        ours.load_state_dict(to_ours(theirs.state_dict()))
        idx = np.array([[1, 4, 1], [0, 4, 4]])
        out, ref = ours(idx), theirs(torch.tensor(idx))
        close(out.numpy(), ref.detach().numpy(), "embedding forward")
        g = np.random.default_rng(0).standard_normal(ref.shape)
        out.backward(Tensor(g))
        ref.backward(torch.tensor(g))
        close(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), f"padding_idx={padding_idx}")
        back = tnn.Embedding(5, 3, padding_idx=padding_idx).double()
        back.load_state_dict(to_theirs(ours.state_dict()))
        close(back(torch.tensor(idx)).detach().numpy(), out.numpy(), "our weights in PyTorch")
    pre = nn.Embedding.from_pretrained(Tensor(np.eye(3)), freeze=True)
    assert not pre.weight.requires_grad and pre(np.array([2])).numpy().tolist() == [[0, 0, 1]]
    with pytest.raises(IndexError, match="index 5 is out of range for 5 embeddings"):
        nn.Embedding(5, 2)(np.array([5]))
    with pytest.raises(TypeError, match="integers"):
        nn.Embedding(5, 2)(np.array([0.5]))


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same", "valid"])
def test_conv2d_padding_modes(mode, padding):
    kw = dict(padding=padding, padding_mode=mode)
    run_layer(nn.Conv2d(2, 3, (3, 4), **kw), tnn.Conv2d(2, 3, (3, 4), **kw), (2, 2, 5, 6),
              steps=1)


def test_pad_modes_match_pytorch_and_refuse_what_pytorch_refuses():
    F, TF = nn.functional, torch.nn.functional
    rng = np.random.default_rng(0)
    for shape, pad in [((2, 5), (2, 3)), ((1, 2, 5), (4, 0)), ((2, 3, 4), (1, 2, 3, 0)),
                       ((1, 2, 3, 4), (3, 3, 2, 2)), ((1, 1, 2, 3, 4), (1, 1, 1, 1, 1, 1))]:
        x = rng.standard_normal(shape)
        for mode in ("reflect", "replicate", "circular"):
            try:
                ref = TF.pad(torch.tensor(x), pad, mode=mode)
            except (RuntimeError, NotImplementedError):
                with pytest.raises((ValueError, NotImplementedError)):
                    F.pad(Tensor(x), pad, mode=mode)
                continue
            close(F.pad(Tensor(x), pad, mode=mode).numpy(), ref.numpy(), f"{mode} {pad} {shape}")
    with pytest.raises(ValueError, match="smaller than its dim"):
        F.pad(Tensor(np.ones((1, 1, 3))), (3, 0), mode="reflect")
    with pytest.raises(NotImplementedError, match="pads the last 1, 2 or 3 dims"):
        F.pad(Tensor(np.ones(4)), (1, 1), mode="reflect")
    with pytest.raises(ValueError, match="mode must be one of"):
        F.pad(Tensor(np.ones((1, 4))), (1, 1), mode="symmetric")


NEGATIVE_PADS = [((2, 6), (-1, 2)), ((2, 6), (3, -4)), ((2, 6), (-2, -3)), ((2, 6), (-3, -3)),
                 ((2, 6), (4, -7)), ((2, 6), (-6, 6)), ((1, 3, 5), (-2, 3)),
                 ((1, 2, 4, 5), (-1, 2, 3, -2)), ((2, 4, 5), (2, -3, -1, -1)),
                 ((1, 1, 3, 4, 5), (-1, 1, 1, -2, 2, -1))]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", NEGATIVE_PADS, ids=[str(p) for _, p in NEGATIVE_PADS])
def test_negative_pad_matches_pytorch(mode, shape, pad):
    """A negative pad removes elements, in every mode, as PyTorch 2.13 does (values and input
    gradients); what PyTorch refuses we refuse; a circular pad wider than what a negative one left
    wraps the cut dim again (numpy's "wrap"), where PyTorch's computes or refuses by chance."""
    F, TF = nn.functional, torch.nn.functional
    rng = np.random.default_rng(len(shape) * 10 + sum(pad))
    x = rng.standard_normal(shape)
    n = {i: shape[-1 - i // 2] for i in range(len(pad))}
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]
    left = [n[2 * i] + min(b, 0) + min(a, 0) for i, (b, a) in enumerate(pairs)]
    if mode == "circular":
        # PyTorch's rule: each pad at most the dim; a pad wider than what a negative one left
        # wraps the cut dim again, as numpy's "wrap" does (PyTorch computes some of these,
        # refuses others as overlapping, and its VJP is wrong there: see session 29's tests)
        if any(lf < 0 or max(b, a) > n[2 * i] or (lf == 0 and max(b, a) > 0)
               for i, ((b, a), lf) in enumerate(zip(pairs, left))):
            with pytest.raises(ValueError, match="pad: "):
                F.pad(Tensor(x), pad, mode=mode)
            return
        if any(max(b, a) > lf for (b, a), lf in zip(pairs, left)):
            ref = x
            for i, (b, a) in enumerate(pairs):
                axis = x.ndim - 1 - i
                ref = ref.take(range(max(-b, 0), ref.shape[axis] - max(-a, 0)), axis=axis)
                widths = [(0, 0)] * x.ndim
                widths[axis] = (max(b, 0), max(a, 0))
                ref = np.pad(ref, widths, mode="wrap")
            np.testing.assert_array_equal(F.pad(Tensor(x), pad, mode=mode).numpy(), ref)
            assert tg.gradcheck(lambda t: F.pad(t, pad, mode=mode), (Tensor(x, requires_grad=True),))
            return
    want_x = torch.tensor(x, requires_grad=True)
    try:
        want = TF.pad(want_x, pad, mode=mode, value=0.5 if mode == "constant" else None)
    except (RuntimeError, NotImplementedError):
        want = None
    if want is None:
        with pytest.raises(ValueError, match="pad: "):
            F.pad(Tensor(x), pad, mode=mode)
        return
    tx = Tensor(x, requires_grad=True)
    y = F.pad(tx, pad, mode=mode, value=0.5 if mode == "constant" else None)
    assert y.shape == tuple(want.shape)
    np.testing.assert_array_equal(y.numpy(), want.detach().numpy())
    g = rng.standard_normal(y.shape)
    y.backward(Tensor(g))
    want.backward(torch.tensor(g))
    close(tx.grad.numpy(), want_x.grad.numpy(), f"{mode} {pad} {shape}")


ZERO_CROPS = [((1, 1, 3, 3), (-3, 0, 0, 0)), ((1, 1, 3, 3), (0, 0, -1, -2)),
              ((1, 1, 3, 3), (-3, 0, 2, 2)), ((1, 1, 3, 3), (2, -5, 1, 1)),
              ((1, 3, 3), (-4, 1, 0, 0)), ((0, 1, 3, 3), (-3, 0, 0, 0)),
              ((1, 1, 2, 3, 3), (-3, 0, 0, 0, 0, 0)), ((1, 1, 2, 3, 3), (-3, 0, -3, 0, 0, 0)),
              ((1, 1, 2, 3, 3), (0, 0, 0, 0, -2, 0)),
              # refused by PyTorch: a 1-dim pad to 0, every padded dim to 0, a dim below 0
              ((2, 5), (-5, 0)), ((1, 2, 5), (2, -7)), ((1, 1, 3, 3), (-1, -2, -3, 0)),
              ((1, 1, 3, 3), (-4, 0, 1, 0)), ((1, 1, 2, 3, 3), (-3, 0, -3, 0, -2, 0))]


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
@pytest.mark.parametrize("shape,pad", ZERO_CROPS, ids=[f"{s}{p}" for s, p in ZERO_CROPS])
def test_negative_pad_that_crops_a_dim_to_nothing_as_pytorch(mode, shape, pad):
    """Reflect and replicate pads may cut one of the padded dims to 0 elements: an empty
    result, as PyTorch's (the input's gradient all zeros); not the only padded dim, nor all of
    them, nor below 0 (PyTorch's errors)."""
    F, TF = nn.functional, torch.nn.functional
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    try:
        want = TF.pad(torch.tensor(x), pad, mode=mode)
    except RuntimeError:
        with pytest.raises(ValueError, match="pad: "):
            F.pad(Tensor(x), pad, mode=mode)
        return
    tx = Tensor(x, requires_grad=True)
    y = F.pad(tx, pad, mode=mode)
    assert y.shape == tuple(want.shape) and y.numel() == 0
    y.sum().backward()  # (PyTorch's reflect of 3 dims leaves this gradient uninitialised)
    np.testing.assert_array_equal(tx.grad.numpy(), np.zeros(shape))
    if len(pad) == 4:
        layer = nn.ReflectionPad2d if mode == "reflect" else nn.ReplicationPad2d
        assert layer(pad)(Tensor(x)).shape == tuple(want.shape)


def test_negative_pad_gradcheck_and_errors():
    F = nn.functional
    rng = np.random.default_rng(3)
    for mode, pad in (("constant", (-1, 2, 2, -3)), ("reflect", (3, -2, -1, 2)),
                      ("replicate", (-4, 1, 2, -3)), ("circular", (-2, 1, 2, -1))):
        x = Tensor(rng.standard_normal((2, 4, 5)), requires_grad=True)

        def f(a, mode=mode, pad=pad):
            return F.pad(a * a, pad, mode=mode)

        assert tg.gradcheck(f, (x,)) and tg.gradgradcheck(f, (x,)), mode
    x = Tensor(np.ones((1, 2, 6)))
    assert x.pad((-2, -4)).shape == (1, 2, 0)  # everything cut: empty, as PyTorch
    for pad, mode, match in (((-4, -3), "constant", "removes 7 elements, but it has 6"),
                             ((4, -7), "constant", "removes 7 elements"),
                             ((-3, -3), "reflect", "leaves 0 elements"),
                             ((4, -10), "replicate", "leaves 0 elements"),
                             ((6, -2), "reflect", "smaller than its dim"),
                             ((-4, -3), "circular", "removes 7 elements"),
                             ((-2, 7), "circular", "at most its dim")):
        with pytest.raises(ValueError, match=match):
            F.pad(x, pad, mode=mode)
        with pytest.raises(RuntimeError):
            torch.nn.functional.pad(torch.ones(1, 1, 6), pad, mode=mode)
    assert nn.ZeroPad2d((-1, 1, 0, -1))(Tensor(np.ones((1, 3, 3)))).shape == tuple(
        tnn.ZeroPad2d((-1, 1, 0, -1))(torch.ones(1, 3, 3)).shape)


def test_unflatten_identity_dropout2d():
    x = Tensor(np.arange(24.0).reshape(2, 12))
    assert nn.Unflatten(1, (3, -1))(x).shape == (2, 3, 4)
    assert nn.Unflatten(-1, (2, 2, 3))(x).shape == (2, 2, 2, 3)
    with pytest.raises(ValueError, match="cannot split dim 1 of size 12"):
        nn.Unflatten(1, (5, 2))(x)
    ident = nn.Identity(54, unused_argument=0.1)
    assert ident(x) is x
    tg.manual_seed(0)
    d = nn.Dropout2d(0.5)
    y = d(Tensor(np.ones((8, 16, 3, 3)))).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 2).all(-1)).all()  # whole channels
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7
    d.eval()
    x4 = Tensor(np.ones((2, 3, 2, 2)))
    assert d(x4) is x4


# ------------------------------------------------------------------------------ containers
def _container_model(m, base):
    class Model(base):
        def __init__(self):
            super().__init__()
            self.blocks = m.ModuleList([m.Linear(3, 4), m.Linear(4, 4)])
            self.blocks.append(m.Linear(4, 2))
            self.heads = m.ModuleDict({"a": m.Linear(2, 1), "b": m.Linear(2, 3)})

        def forward(self, x):
            for b in self.blocks:
                x = b(x).tanh()
            return self.heads["a"](x) + self.heads["b"](x).sum(-1, keepdim=True)

    return Model()


def test_module_list_and_dict_names_match_pytorch():
    ours, theirs = _container_model(nn, nn.Module), _container_model(tnn, tnn.Module)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    run_layer(ours, theirs, (5, 3), steps=1, train_eval=False)
    assert len(ours.blocks) == 3 and isinstance(ours.blocks[1:], nn.ModuleList)
    del ours.blocks[0]
    assert [n for n, _ in ours.blocks.named_parameters()] == ["0.weight", "0.bias", "1.weight",
                                                             "1.bias"]
    ours.blocks.insert(0, nn.Identity())
    assert len(ours.blocks) == 3 and isinstance(ours.blocks[0], nn.Identity)
    assert "a" in ours.heads and list(ours.heads.keys()) == ["a", "b"]
    ours.heads.pop("a")
    assert len(ours.heads) == 1
    with pytest.raises(TypeError, match="not a Module"):
        ours.blocks.append(3)
    with pytest.raises(IndexError, match="out of range"):
        ours.blocks[7]
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    assert len(seq[1:]) == 2 and isinstance(seq[1:], nn.Sequential)
    seq.append(nn.Tanh())
    assert isinstance(seq[-1], nn.Tanh)


def test_layer_classes_are_not_each_others_subclasses_where_pytorchs_are_not():
    for ours, theirs in [(nn.Mish(), tnn.Mish()), (nn.CELU(), tnn.CELU()),
                         (nn.LogSoftmax(1), tnn.LogSoftmax(1)), (nn.ReLU6(), tnn.ReLU6()),
                         (nn.AdaptiveMaxPool2d(1), tnn.AdaptiveMaxPool2d(1)),
                         (nn.Hardswish(), tnn.Hardswish()), (nn.SELU(), tnn.SELU())]:
        for name in ("SiLU", "ELU", "Softmax", "Hardtanh", "AdaptiveAvgPool2d"):
            assert isinstance(ours, getattr(nn, name)) == isinstance(theirs, getattr(tnn, name)), \
                (type(ours).__name__, name)


def test_functional_normalize_matches_pytorch():
    x = np.random.default_rng(0).standard_normal((3, 4, 2))
    for kw in [dict(), dict(p=1.0, dim=0), dict(p=3.0, dim=-1)]:
        xo, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, ref = nn.functional.normalize(xo, **kw), torch.nn.functional.normalize(xt, **kw)
        close(out.numpy(), ref.detach().numpy(), f"normalize {kw}")
        g = np.cos(np.arange(x.size)).reshape(x.shape)
        out.backward(Tensor(g))
        ref.backward(torch.tensor(g))
        close(xo.grad.numpy(), xt.grad.numpy(), f"normalize gradient {kw}")
    zero = nn.functional.normalize(Tensor(np.zeros((2, 3))))
    assert not np.isnan(zero.numpy()).any()  # eps keeps 0 / 0 away


def _draw_dims(out: np.ndarray) -> tuple[int, ...]:
    """The dims along which a channel-dropout mask varies (it is constant along the rest)."""
    kept = out != 0
    return tuple(d for d in range(kept.ndim)
                 if not (kept == kept.take([0], axis=d)).all())


@pytest.mark.parametrize("name, shape", [
    ("dropout1d", (16, 12, 5)), ("dropout1d", (40, 5)),
    ("dropout2d", (16, 12, 3, 3)), ("dropout2d", (16, 12, 5)), ("dropout2d", (16, 12)),
    ("dropout2d", (6, 8, 2, 2, 2)),
    ("dropout3d", (6, 8, 2, 2, 2)), ("dropout3d", (40, 2, 2, 2)), ("dropout3d", (40, 3))])
def test_channel_dropouts_draw_per_channel_as_pytorch(name, shape):
    """PyTorch 2.13 takes a 3-D input of dropout2d as (N, C, L): one draw per (n, c) (we drew one
    per sample, as if it were (C, H, W)); other ranks warn as PyTorch's do."""
    tg.manual_seed(0)
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = getattr(nn.functional, name)(tg.ones(*shape), 0.5).numpy()
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        theirs = getattr(torch.nn.functional, name)(torch.ones(*shape), 0.5).numpy()
    assert _draw_dims(ours) == _draw_dims(theirs)
    assert set(np.unique(ours)) <= {0.0, 2.0}
    assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]


def test_dropout1d_refuses_other_ranks_as_pytorch():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        nn.functional.dropout1d(tg.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="1-D input to dropout2d"), \
            pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        nn.functional.dropout2d(tg.ones(3))
    assert nn.Dropout1d(0.5).eval()(tg.ones(2, 3)).tolist() == [[1.0] * 3] * 2


@pytest.mark.parametrize("layer", ["Conv2d", "ConvTranspose2d", "Conv1d", "ConvTranspose1d"])
@pytest.mark.parametrize("channels, groups", [((4, 4), 0), ((4, 4), -1), ((4, 6), 4), ((6, 4), 4),
                                              ((4, 4), 2.0)])
def test_conv_layers_check_groups_as_pytorch(layer, channels, groups):
    """groups=0 was a ZeroDivisionError in Conv2d and ConvTranspose2d, and ConvTranspose2d took
    groups that do not divide its channels."""
    with pytest.raises((TypeError, ValueError)) as theirs:
        getattr(tnn, layer)(*channels, 3, groups=groups)
    with pytest.raises((TypeError, ValueError)) as ours:
        getattr(nn, layer)(*channels, 3, groups=groups)
    assert ours.type is theirs.type, (ours.value, theirs.value)
    assert layer in str(ours.value) and "groups" in str(ours.value)


def test_float16_hardtanh_and_leaky_relu_compute_as_pytorch():
    """float16 hardtanh compared with its bounds in half (0.1 in half is below a bound of 0.1:
    PyTorch passes the gradient); leaky_relu's slope times x in float32 (a slope of 1e5 gave
    -inf); an integer leaky_relu is refused (the slope was cut to an integer)."""
    out = []
    for lib in (tg, torch):
        fn = lib.nn.functional
        x = lib.tensor([0.1, -0.1, 0.05], dtype=lib.float16, requires_grad=True)
        fn.hardtanh(x, -0.1, 0.1).sum().backward()
        z = lib.tensor([-0.1, 0.0, 1.0], dtype=lib.float16, requires_grad=True)
        y = fn.leaky_relu(z, 1e5)
        y.sum().backward()
        out.append((x.grad.tolist(), y.tolist(), z.grad.tolist()))
        with pytest.raises(NotImplementedError):
            fn.leaky_relu(lib.tensor([-50, 3], dtype=lib.int32), 0.5)
    assert out[0] == out[1]


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_integer_hardtanh_and_relu6_clamp_in_the_dtype_as_pytorch(dtype):
    """PyTorch's hardtanh of an integer tensor is clamp with the bounds cut to integers (toward
    0), in the tensor's dtype; ours refused it ("must be a floating tensor"). The in-place forms
    and the modules too; uint8 with a negative bound, a bound past the dtype and bool are
    refused, as there."""
    values = np.array([-3, 0, 1, 3, 7, 100]) if dtype != "uint8" else np.array([0, 1, 3, 7, 250])
    calls = [
        lambda f, x: f.hardtanh(x, 0.0, 6.0), lambda f, x: f.hardtanh(x, 0.5, 2.5),
        lambda f, x: f.relu6(x), lambda f, x: f.relu6(x, inplace=True),
        lambda f, x: f.hardtanh(x, 1.0, 1.9, inplace=True),
    ]
    if dtype != "uint8":
        calls += [lambda f, x: f.hardtanh(x), lambda f, x: f.hardtanh_(x),
                  lambda f, x: f.hardtanh(x, -0.5, 2.5)]
    for call in calls:
        x, tx = tg.tensor(values.astype(dtype)), torch.tensor(values.astype(dtype))
        ours, theirs = call(nn.functional, x), call(torch.nn.functional, tx)
        assert ours.dtype == np.dtype(dtype) and ours.tolist() == theirs.tolist()
        assert x.tolist() == tx.tolist()  # (the in-place forms changed both alike)
    x, tx = tg.tensor(values.astype(dtype)), torch.tensor(values.astype(dtype))
    assert nn.ReLU6()(x).tolist() == tnn.ReLU6()(tx).tolist()
    assert nn.Hardtanh(0, 5)(x).tolist() == tnn.Hardtanh(0, 5)(tx).tolist()
    refused = [lambda f, x: f.hardtanh(x.bool()), lambda f, x: f.relu6(x.bool())]
    refused += ([lambda f, x: f.hardtanh(x), lambda f, x: f.hardtanh(x, -2.0, 3.0)]
                if dtype == "uint8" else [])
    refused += [lambda f, x: f.hardtanh(x, 0.0, 1e6)] if dtype in ("int8", "int16") else []
    for call in refused:
        with pytest.raises(RuntimeError):
            call(torch.nn.functional, tx)
        with pytest.raises(RuntimeError, match="hardtanh|relu6"):
            call(nn.functional, x)


@pytest.mark.parametrize("name", ["hardswish", "elu", "selu", "celu"])
def test_float16_activation_gradients_are_pytorchs_bit_for_bit(name):
    """Their VJPs ran in half (hardswish 81 ulp off); now in float32, rounded once, as PyTorch's
    opmath."""
    x = (np.random.default_rng(0).standard_normal(2048) * 4).astype(np.float16)
    ours = Tensor(x, requires_grad=True)
    getattr(nn.functional, name)(ours).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    getattr(torch.nn.functional, name)(theirs).sum().backward()
    assert ours.grad.dtype == np.float16
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("factor", [0, -2])
def test_pixel_shuffle_factor_must_be_positive_as_pytorch(factor):
    """Found by an outside tester: ``PixelShuffle(0)`` said "the 1 channels ... must be divisible
    by upscale_factor² = 0"; now PyTorch's words and type -- the factor must be positive."""
    torch = pytest.importorskip("torch")
    x = np.ones((1, 4, 6, 6))
    for name, word in (("PixelShuffle", "upscale_factor"), ("PixelUnshuffle", "downscale_factor")):
        with pytest.raises(RuntimeError) as theirs:
            getattr(torch.nn, name)(factor)(torch.tensor(x))
        with pytest.raises(RuntimeError, match=f"expects a positive {word}, but got {factor}") \
                as mine:
            getattr(nn, name)(factor)(Tensor(x))
        assert str(theirs.value) in str(mine.value)
