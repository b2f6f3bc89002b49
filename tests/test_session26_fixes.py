"""Session 26: what outside testers found, each checked against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import viz

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------- issue 12: mark_dirty on a view


def _double_functions():
    class Double(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            np.multiply(x, 2, out=x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class TDouble(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            x.mul_(2)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return Double, TDouble


def _exp_functions():
    class Exp(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            np.exp(x, out=x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    class TExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            x.exp_()
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (r,) = ctx.saved_tensors
            return g * r

    return Exp, TExp


@pytest.mark.parametrize("take", [lambda y: y[0], lambda y: y[:, 1], lambda y: y.reshape(4)[1:3]])
@pytest.mark.parametrize("make", [_double_functions, _exp_functions])
def test_mark_dirty_on_a_view_is_recorded_into_its_base(take, make):
    ours, theirs = make()
    w = np.array([[1.0, 10.0], [100.0, 1000.0]])
    results = []
    for lib, F in ((tg, ours), (torch, theirs)):
        x = lib.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=lib.float64, requires_grad=True)
        y = x * 1
        v = take(y)
        r = F.apply(v)
        assert r is v  # the input itself comes back, as in PyTorch
        ((y * lib.tensor(w)).sum() + (v * v).sum()).backward()
        results.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_mark_dirty_on_a_view_keeps_the_saved_value_checked():
    Exp, _ = _exp_functions()
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=tg.float64, requires_grad=True)
    y = x * 1
    Exp.apply(y[1])
    y.mul_(2)  # changes what exp saved
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        (y * y).sum().backward()


def test_mark_dirty_on_a_view_of_a_leaf_is_refused():
    Double, _ = _double_functions()
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="double: marked input 0 dirty, a view of a leaf"):
        Double.apply(x[0:1])


def test_mark_dirty_on_a_view_passes_gradcheck():
    Exp, _ = _exp_functions()
    x = tg.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=tg.float64, requires_grad=True)

    def f(x):
        y = x * 1
        Exp.apply(y[1])
        return y

    assert tg.gradcheck(f, (x,))
    assert tg.gradgradcheck(f, (x,))


# ---------------------------------------------------------------- issue 14: factories and bool


@pytest.mark.parametrize("name,args", [("arange", (3,)), ("linspace", (0, 1, 3)),
                                       ("logspace", (0, 1, 3)), ("randperm", (3,))])
def test_ranges_have_no_bool_form(name, args):
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(*args, dtype=torch.bool)
    with pytest.raises(NotImplementedError, match=f"{name}: not implemented for dtype bool"):
        getattr(tg, name)(*args, dtype=tg.bool)


def test_arange_into_a_bool_out_is_refused():
    with pytest.raises(NotImplementedError):
        torch.arange(3, out=torch.empty(3, dtype=torch.bool))
    with pytest.raises(NotImplementedError, match="arange"):
        tg.arange(3, out=tg.empty(3, dtype=tg.bool))


def test_randint_into_bool_takes_only_0_and_1():
    assert set(tg.randint(0, 2, (50,), dtype=tg.bool).tolist()) <= {False, True}
    for low, high in ((0, 5), (-1, 1)):
        with pytest.raises(RuntimeError):
            torch.randint(low, high, (3,), dtype=torch.bool)
        with pytest.raises(RuntimeError, match="out of bounds for bool"):
            tg.randint(low, high, (3,), dtype=tg.bool)


# ---------------------------------------------------------------- issue 14: node hooks


def test_node_post_hook_sees_none_for_an_output_that_got_no_gradient():
    seen = {}
    for lib in (tg, torch):
        class F(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3, x * 5

            @staticmethod
            def backward(ctx, a, b, c):
                return a * 2 + b * 3 + c * 5

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b, c = F.apply(x)
        got = []
        a.grad_fn.register_hook(lambda gi, go, got=got: got.append(go))
        (a.sum() + c.sum()).backward()
        seen[lib.__name__] = [None if g is None else g.tolist() for g in got[0]]
        assert x.grad.tolist() == [7.0, 7.0]
    assert seen["tinygrad_cnn"] == seen["torch"] == [[1.0, 1.0], None, [1.0, 1.0]]


# ---------------------------------------------------------------- issue 17: drawings


def test_a_leaf_named_like_an_op_output_keeps_its_name_in_drawings():
    z = tg.Tensor([1.0, 2.0], requires_grad=True, name="%0")
    source = viz.draw((z * 2).sum()).source
    assert "{%0|(2,)|float32}" in source and "%0#2" not in source
    # the text form tells the two apart by quoting the user's name
    assert "mul('%0', 2)" in viz.text((z * 2).sum())


def test_highlighting_a_leaf_adds_the_legend_entry():
    x = tg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    loss = (x * 2).sum()
    without = viz.draw(loss).source
    assert "highlighted" not in without
    assert "highlighted" in viz.draw(loss, highlight=x).source


# ---------------------------------------------------------------- issue 14: special values


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sinc_gradient_near_zero_is_linear_in_the_upstream_gradient(dtype):
    xs = np.array([0.0, -0.0, 1e-30, -1e-20, 1e-8, 1e-4, 0.003, -0.01])
    g = np.array([-0.21879166393254573, -0.3, 1.7, 0.4, -2.2, 0.9, 1.1, -0.5])
    x = tg.tensor(xs, dtype=getattr(tg, dtype), requires_grad=True)
    tg.sinc(x).backward(tg.tensor(g, dtype=getattr(tg, dtype)))
    # sinc = sum (-1)^k z^k / (2k+1)! with z = (pi x)^2, so
    # sinc'(x) = 2 pi^2 x (-1/6 + z/60 - z^2/1680 + z^3/90720 - ...)
    z = (np.pi * xs) ** 2
    want = g * 2 * np.pi ** 2 * xs * (-1 / 6 + z / 60 - z * z / 1680 + z ** 3 / 90720)
    tol = 1e-12 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=tol, atol=1e-300)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sinc_matches_torch_away_from_zero(dtype):
    xs = np.array([0.04, 0.0159, 0.09, 0.1, 0.5, 1.0, 2.5, -3.3, 0.29, 0.31])
    got, want = [], []
    for lib, out in ((tg, got), (torch, want)):
        x = lib.tensor(xs, dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.sinc(x)
        y.sum().backward()
        out += [y.detach().numpy().copy(), x.grad.numpy().copy()]
    tol = 1e-12 if dtype == "float64" else 2e-5
    np.testing.assert_allclose(got[0], want[0], rtol=tol, atol=tol)
    np.testing.assert_allclose(got[1], want[1], rtol=tol, atol=tol)
    x = tg.tensor(np.array([1e-30, 0.01, 0.3, 1.2]), requires_grad=True)
    assert tg.gradcheck(tg.sinc, (x,)) and tg.gradgradcheck(tg.sinc, (x,))


def test_nextafter_promotes_as_torch():
    a, b = np.array([1.0, 2.0], np.float32), np.array([2.0, 0.0])
    for x, y in ((a, b), (np.array([1, 3]), np.array([2.0, 0.0], np.float32))):
        got = tg.nextafter(tg.tensor(x), tg.tensor(y))
        want = torch.nextafter(torch.tensor(x), torch.tensor(y))
        assert str(got.dtype) == str(want.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    t = tg.tensor([1.0, 2.0])
    t.nextafter_(tg.tensor([3.0, 0.0], dtype=tg.float64))  # in float32's dtype, as torch's
    np.testing.assert_array_equal(
        t.numpy(), torch.tensor([1.0, 2.0]).nextafter_(torch.tensor([3.0, 0.0],
                                                                   dtype=torch.float64)).numpy())


def test_prod_over_an_empty_tuple_of_dims_is_over_all_as_sum():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.prod(dim=()).item() == 24.0 and x.sum(dim=()).item() == 10.0


# ---------------------------------------------------------------- issue 12: layouts


def _as(lib, a, how):
    t = lib.tensor(a)
    if how == "transposed":
        return t.transpose(0, 1)
    return t.contiguous(memory_format=lib.channels_last)


@pytest.mark.parametrize("how", ["transposed", "channels_last"])
@pytest.mark.parametrize("case", [
    lambda F, x: F.adaptive_avg_pool2d(x, 3),
    lambda F, x: F.adaptive_avg_pool2d(x, 1),
    lambda F, x: F.adaptive_avg_pool2d(x, (2, 5)),
    lambda F, x: F.linear(x, x.new_ones(2, 6)),
    lambda F, x: F.pad(x, (1, 1, 1, 1), mode="circular"),
    lambda F, x: F.pad(x, (1, 1, 1, 1), mode="reflect"),
])
def test_result_layouts_follow_torch(case, how):
    import torch.nn.functional as TF

    import tinygrad_cnn.nn.functional as GF

    a = np.random.default_rng(0).standard_normal((2, 3, 4, 6)).astype(np.float32)
    ours, theirs = case(GF, _as(tg, a, how)), case(TF, _as(torch, a, how))
    keep = [k for k, n in enumerate(theirs.shape) if n != 1]
    assert [ours.stride()[k] for k in keep] == [theirs.stride()[k] for k in keep]
    assert ours.is_contiguous() == theirs.is_contiguous()
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(3,), (3, 4), (2, 3, 4), (1, 2, 3, 4, 5)])
def test_is_contiguous_channels_last_of_another_rank_is_false(shape):
    assert torch.ones(shape).is_contiguous(memory_format=torch.channels_last) is False
    assert tg.ones(shape).is_contiguous(memory_format=tg.channels_last) is False


# ---------------------------------------------------------------- issue 16: gradcheck verdicts

from tinygrad_cnn.gradcheck import check_grads  # noqa: E402


def test_state_that_alternates_between_calls_is_not_deterministic():
    calls = [0]

    def flip(t):
        calls[0] += 1
        return t * (1 + 1e-3 * (calls[0] % 2))

    for _ in range(2):  # whichever parity the check starts at
        report = check_grads(flip, tg.tensor(np.array([0.5, 1.0, -2.0]), requires_grad=True))
        assert report.kind == "not_deterministic", str(report)
        calls[0] += 1


@pytest.mark.parametrize("fn", [lambda t: t.sum(), lambda t: t.mean(), lambda t: t ** 3,
                                lambda t: (t * t).sum()])
def test_large_inputs_are_not_called_ties_or_kinks(fn):
    # at 1e8 a step of 1e-6 is a few ulps of the input: rounding decides, no tie, no kink
    x = tg.tensor(np.array([1.3, -0.7, 2.1, 0.4]) * 1e8, requires_grad=True)
    report = check_grads(fn, x)  # (passed where steps scaled to the inputs agree)
    assert report.ok or report.kind == "step_too_small", str(report)
    assert "Tied inputs" not in str(report) and "kink" not in str(report)


def _square_functions():
    class Sq(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    class SqW(Sq):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2.2 * g * x  # 10% too big

    return Sq, SqW


def test_a_wrong_vjp_among_rounding_limited_elements_is_reported_as_wrong():
    Sq, SqW = _square_functions()
    for seed in range(6):
        x = np.random.RandomState(seed).randn(4) * 1e8
        ok = check_grads(Sq.apply, tg.tensor(x, requires_grad=True))
        assert ok.ok or ok.kind == "step_too_small", str(ok)
    # x = [4.4e7, -3.3e7, 2.4e8, -2.5e7]: element 3 can be judged, and it is 10% off
    x = np.random.RandomState(5).randn(4) * 1e8
    report = check_grads(SqW.apply, tg.tensor(x, requires_grad=True))
    text = str(report)
    assert report.kind == "wrong_vjp" and text.startswith("the VJP of `sq_w` is wrong."), text
    assert ("11/10" in text or "1.09" in text or "1.1 ×" in text) and "kink" not in text, text


def test_a_vjp_wrong_only_at_its_kink_is_named():
    class Max2(tg.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return np.maximum(a, b)

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * (a >= b).double(), g * (b >= a).double()  # the whole gradient to both

    a = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([1.0, 3.0], dtype=tg.float64, requires_grad=True)
    report = check_grads(lambda a, b: Max2.apply(a * 2, b * 2).sum(), (a, b))
    text = str(report)
    assert text.startswith("the VJP of `max2` is wrong at a kink."), text
    assert "The culprit: `max2`" in text and "sits at a kink" in text, text


# ---------------------------------------------------------------- issue 17: drawings


def test_an_ampersand_in_a_name_is_drawn_as_given():
    import shutil
    import subprocess

    b = tg.Tensor([2.0], requires_grad=True, name="x&amp;y")
    source = viz.draw((b * 2).sum()).source
    assert "x&amp;amp;y" in source
    if shutil.which("dot"):
        svg = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True,
                             check=True).stdout
        assert ">x&amp;amp;y<" in svg  # (shown as x&amp;y)


def test_vjps_a_gradient_graph_made_say_not_computed():
    x = tg.Tensor([0.5, 1.5], requires_grad=True, name="x")
    (g,) = tg.grad((x.tanh() * x).sum(), x, create_graph=True)
    loss = (g * g).sum()
    text = viz.text(loss, backward=True)
    rows = [line for line in text.splitlines() if " VJP " in line]
    assert rows and "not computed" in rows[0]  # the sum grad() never ran
    assert any("tanh VJP" in r and "not recorded" in r for r in rows)  # it ran, unrecorded
    assert "not computed" in viz.draw(loss, backward=True).source


# ---------------------------------------------------------------- issue 12: overlapping writes

OVERLAP_CASES = {
    "copy_ partial": lambda L, h: h[1:].copy_(h[:-1]),
    "add_ partial": lambda L, h: h[1:].add_(h[:-1]),
    "add_ itself": lambda L, h: h.add_(h),
    "copy_ itself": lambda L, h: h.copy_(h),
    "mul_ by its own row": lambda L, h: h.view(2, 2).mul_(h.view(2, 2)[0]),
    "copy_ of its own row": lambda L, h: h.view(2, 2).copy_(h.view(2, 2)[0]),
    "setitem partial": lambda L, h: h.__setitem__(slice(1, None), h[:-1]),
    "setitem itself": lambda L, h: h.__setitem__(slice(None), h),
    "setitem index array": lambda L, h: h.__setitem__(L.tensor([0, 1]), h[2:4]),
    "addcmul_ partial": lambda L, h: h[1:].addcmul_(h[:-1], h[:-1]),
    "lerp_ partial": lambda L, h: h[1:].lerp_(h[:-1], 0.5),
    "clamp_ partial": lambda L, h: h[1:].clamp_(h[:-1], None),
    "index_add_ partial": lambda L, h: h.index_add_(0, L.tensor([0, 1]), h[1:3]),
    "add_ its transpose": lambda L, h: h.view(2, 2).add_(h.view(2, 2).t()),
    "add_ a view of other strides": lambda L, h: h.view(1, 4).add_(h),
    "add_ the same memory seen alike": lambda L, h: h.add_(h.view(1, 4)[0]),
    "step slices (too tangled to compare)": lambda L, h: h[::2].add_(h[1::2]),
    "an expanded element": lambda L, h: h[1:3].copy_(h[0].expand(2)),
    "a 0-d element apart": lambda L, h: h[1:3].add_(h[0]),
    "out= partial": lambda L, h: L.add(h[:3], 1, out=h[1:]),
    "out= itself": lambda L, h: L.add(h, 1, out=h),
}


@pytest.mark.parametrize("case", list(OVERLAP_CASES))
def test_writes_that_partly_overlap_what_they_read_are_refused_as_torch(case):
    f = OVERLAP_CASES[case]
    results = []
    for lib in (torch, tg):
        h = lib.tensor([1.0, 2.0, 3.0, 4.0])
        try:
            f(lib, h)
            results.append(h.tolist())
        except RuntimeError as e:
            assert "refer to a single memory location" in str(e)
            results.append("refused")
    assert results[0] == results[1]


# ---------------------------------------------------------------- issue 15: porting details


def test_load_takes_pytorchs_map_location_forms(tmp_path):
    path = tmp_path / "c.pt"
    tg.save({"w": tg.ones(2), "n": 3, "l": [tg.zeros(1)]}, path)
    kept = tg.load(path, map_location=lambda storage, loc: storage)  # the classic idiom
    assert kept["w"].tolist() == [1.0, 1.0] and kept["n"] == 3 and kept["l"][0].tolist() == [0.0]
    assert tg.load(path, map_location=lambda t, loc: t * 2 if loc == "cpu" else None)[
        "w"].tolist() == [2.0, 2.0]
    assert tg.load(path, map_location=lambda t, loc: None)["w"].tolist() == [1.0, 1.0]
    assert tg.load(path, map_location={"cpu": "cpu", "cuda:1": "cuda:0"})["w"].tolist() == [1, 1]
    with pytest.raises(TypeError, match="map_location function returned int"):
        tg.load(path, map_location=lambda t, loc: 5)
    with pytest.raises(TypeError, match="a function"):
        tg.load(path, map_location=5)


def test_a_forward_that_widens_float32_to_float64_is_warned_of():
    class Step(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return 0.5 * (x > 0)

        @staticmethod
        def backward(ctx, g):
            return g * 0

    with pytest.warns(UserWarning, match="step: forward got float32 inputs and returned float64"):
        Step.apply(tg.randn(3, requires_grad=True))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Step.apply(tg.randn(3, dtype=tg.float64, requires_grad=True))  # float64 in: fine


_W = np.random.default_rng(1).standard_normal((4, 4, 3, 3)).astype(np.float32)
CHANNELS_LAST_CASES = {
    "conv2d": lambda L, F, x: F.conv2d(x, L.tensor(_W), padding=1),
    "conv2d depthwise": lambda L, F, x: F.conv2d(x, L.tensor(_W[:, :1]), groups=4),
    "conv2d 1x1": lambda L, F, x: F.conv2d(x, L.tensor(_W[:, :, :1, :1])),
    "conv_transpose2d": lambda L, F, x: F.conv_transpose2d(x, L.tensor(_W), stride=2),
    "max_pool2d": lambda L, F, x: F.max_pool2d(x, 2),
    "avg_pool2d": lambda L, F, x: F.avg_pool2d(x, 2),
    "adaptive_max_pool2d": lambda L, F, x: F.adaptive_max_pool2d(x, 3),
    "lp_pool2d": lambda L, F, x: F.lp_pool2d(x, 2, 2),
    "interpolate nearest": lambda L, F, x: F.interpolate(x, scale_factor=2),
    "interpolate bilinear": lambda L, F, x: F.interpolate(x, size=(7, 9), mode="bilinear",
                                                          align_corners=True),
    "roll": lambda L, F, x: x.roll(1, 2),
    "relu": lambda L, F, x: F.relu(x),
    "batch_norm training": lambda L, F, x: F.batch_norm(x, None, None, training=True),
    "batch_norm eval": lambda L, F, x: F.batch_norm(x, L.zeros(4), L.ones(4), training=False),
    "group_norm": lambda L, F, x: F.group_norm(x, 2, L.ones(4), L.zeros(4)),
    "group_norm without affine": lambda L, F, x: F.group_norm(x, 2),
    "instance_norm (C in both)": lambda L, F, x: F.instance_norm(x),
    "layer_norm (C in both)": lambda L, F, x: F.layer_norm(x, (8,)),
    "softmax (C in both)": lambda L, F, x: F.softmax(x, 1),
}


def _layout(lib, t):
    if t.is_contiguous():
        return "C"
    return "channels_last" if t.is_contiguous(memory_format=lib.channels_last) else t.stride()


@pytest.mark.parametrize("case", list(CHANNELS_LAST_CASES))
def test_channels_last_results_and_leaf_gradients_lie_as_torch(case):
    import torch.nn.functional as TF

    import tinygrad_cnn.nn.functional as GF

    a = np.random.default_rng(0).standard_normal((2, 4, 6, 8)).astype(np.float32)
    got = {}
    for lib, F in ((torch, TF), (tg, GF)):
        x = lib.tensor(a).contiguous(memory_format=lib.channels_last).requires_grad_(True)
        y = CHANNELS_LAST_CASES[case](lib, F, x)
        y.backward(lib.ones_like(y))
        got[lib.__name__] = (_layout(lib, y), _layout(lib, x.grad), y.detach().numpy().copy(),
                             x.grad.numpy().copy())
    ours, theirs = got["tinygrad_cnn"], got["torch"]
    assert ours[:2] == theirs[:2]
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("grad", [True, False])
def test_max_pool_indices_lie_as_the_values(grad):
    a = np.random.default_rng(0).standard_normal((2, 4, 6, 8)).astype(np.float32)
    strides = []
    for lib in (torch, tg):
        x = lib.tensor(a).contiguous(memory_format=lib.channels_last).requires_grad_(grad)
        v, i = lib.nn.functional.max_pool2d(x, 2, return_indices=True)
        strides.append((v.stride(), i.stride()))
        assert i.tolist() == lib.nn.functional.max_pool2d(lib.tensor(a), 2,
                                                          return_indices=True)[1].tolist()
    assert strides[0] == strides[1]


@pytest.mark.parametrize("make", [lambda L, a: L.tensor(a).t(),
                                  lambda L, a: L.tensor(a.reshape(2, 3, 2, 2)).contiguous(
                                      memory_format=L.channels_last).reshape(2, 3, 2, 2),
                                  lambda L, a: L.tensor(a)[:, ::2]])
def test_a_leaf_s_new_grad_lies_as_the_leaf(make):
    a = np.arange(24, dtype=np.float32).reshape(4, 6)
    strides = []
    for lib in (torch, tg):
        x = make(lib, a).detach().requires_grad_(True)
        (x * 2).sum().backward()
        strides.append(x.grad.stride())
        assert (x.grad.numpy() == 2).all()
    assert strides[0] == strides[1]


# ---------------------------------------------------------------- issue 14: autograd API names


def test_grads_batched_without_the_batch_dim_says_so():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match=r"first dim of each grad_output is the batch: "
                       r"grad_outputs\[0\] of shape \(3,\) is a batch of 3 gradients of shape "
                       r"\(\), but output 0 has shape \(3,\); pass a tensor of shape "
                       r"\(batch, 3\)"):
        tg.autograd.grad(y, x, grad_outputs=tg.ones(3), is_grads_batched=True)
    (g,) = tg.autograd.grad(y, x, grad_outputs=tg.eye(3), is_grads_batched=True)
    np.testing.assert_array_equal(g.numpy(), np.diag([2.0, 4.0, 6.0]))


def test_pytorchs_autograd_submodules_are_there_or_say_what_to_do():
    assert tg.autograd.inference_mode is tg.inference_mode
    from tinygrad_cnn.autograd.grad_mode import enable_grad, no_grad, set_grad_enabled

    assert (no_grad, enable_grad, set_grad_enabled) == (tg.no_grad, tg.enable_grad,
                                                       tg.set_grad_enabled)
    for owner, name, hint in ((tg.autograd, "graph", "saved tensors stay in memory"),
                              (tg.autograd, "forward_ad", "functional.jvp"),
                              (tg.func, "jacrev", "autograd.functional"), (tg, "vmap", "loop over")):
        with pytest.raises(AttributeError, match=hint):
            getattr(owner, name)
    with pytest.raises(ImportError, match="saved tensors stay in memory"):
        from tinygrad_cnn.autograd import graph  # noqa: F401


@pytest.mark.parametrize("scale", [1e-30, 1e-20, 1e-13])
def test_a_doubled_vjp_at_tiny_inputs_is_said_and_a_right_one_passes_quietly(scale):
    import warnings

    Sq, _ = _square_functions()

    class SqBad(Sq):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 4 * x  # twice too big

    x = np.array([1.3, -0.7, 2.1]) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.gradcheck(Sq.apply, tg.tensor(x, requires_grad=True))
    with pytest.warns(UserWarning, match="passed by atol alone"):
        tg.gradcheck(SqBad.apply, tg.tensor(x, requires_grad=True))


# ---------------------------------------------------------------- tester t15 (this session's code)


def test_a_function_that_changes_a_view_and_returns_two_outputs_is_refused_as_torch():
    class AddTwo(tg.Function):  # (the gradient of the view's write was dropped, silently)
        @staticmethod
        def forward(ctx, x, y):
            x += y
            ctx.mark_dirty(x)
            return x, y * 2

        @staticmethod
        def backward(ctx, gx, gy2):
            return gx, gx + 2 * gy2

    a = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = a * 1
    version = h._version
    with pytest.raises(RuntimeError, match="can return only that one tensor"):
        AddTwo.apply(h[1], tg.tensor([10.0, 20.0], requires_grad=True))
    assert h._version > version  # (it did change)


MORE_OVERLAP_CASES = {
    "add_ alpha partial": lambda L, x: x[1:].add_(x[:-1], alpha=2),
    "sub_ alpha partial": lambda L, x: x[1:].sub_(x[:-1], alpha=2),
    "masked_fill_ by its own element": lambda L, x: x.masked_fill_(x > 2, x[0]),
    "index_fill_ by its own element": lambda L, x: x.index_fill_(0, L.tensor([1, 2]), x[0]),
    "masked_scatter_ partial": lambda L, x: x[1:].masked_scatter_(x[1:] > 4, x[:-1]),
    "index_add_ itself": lambda L, x: x.index_add_(0, L.tensor([0, 1, 2, 3, 4, 5]), x),
    "index_copy_ itself": lambda L, x: x.index_copy_(0, L.tensor([5, 4, 3, 2, 1, 0]), x),
    "index_put_ itself": lambda L, x: x.index_put_((L.tensor([5, 4, 3, 2, 1, 0]),), x),
    "setitem index array itself": lambda L, x: x.__setitem__(L.tensor([5, 4, 3, 2, 1, 0]), x),
    "scatter_add_ itself": lambda L, x: x.scatter_add_(0, L.zeros(6, dtype=L.int64), x),
    "cross out= itself": lambda L, x: L.cross(x[:3].reshape(1, 3), x[3:].reshape(1, 3), dim=1,
                                             out=x[3:].reshape(1, 3)),
    "cat out= over an input": lambda L, x: L.cat([x[:2], x[2:3]], out=x[1:4]),
    "dot out= an element": lambda L, x: L.dot(x[:3], x[:3], out=x[0]),
    "amax out= an element": lambda L, x: L.amax(x, 0, out=x[0]),
    "copy_ of more dims": lambda L, x: x.copy_(x.new_ones(1, 6)),
    "pow_ of more dims": lambda L, x: x.pow_(x.new_ones(1, 6)),
    "floor div_ of more dims": lambda L, x: x.div_(x.new_ones(1, 6), rounding_mode="floor"),
}


@pytest.mark.parametrize("case", list(MORE_OVERLAP_CASES))
def test_more_in_place_and_out_rules_as_torch(case):
    f = MORE_OVERLAP_CASES[case]
    results = []
    for lib in (torch, tg):
        x = lib.arange(6.0) + 1
        try:
            f(lib, x)
            results.append(x.tolist())
        except RuntimeError as e:
            results.append("refused")
            assert lib is torch or "single memory location" in str(e) or "broadcast" in str(e)
    assert results[0] == results[1]


def test_conv_with_a_channels_last_weight_and_pool_indices_lie_as_torch():
    a = np.random.default_rng(0).standard_normal((2, 3, 6, 5)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((4, 3, 3, 3)).astype(np.float32)
    got = []
    for lib in (torch, tg):
        y = lib.nn.functional.conv2d(lib.tensor(a), lib.tensor(w).contiguous(
            memory_format=lib.channels_last), padding=1)
        x = lib.tensor(a).contiguous(memory_format=lib.channels_last)
        v, i = lib.nn.functional.adaptive_max_pool2d(x, (2, 3), return_indices=True)
        got.append((y.stride(), v.stride(), i.stride()))
    assert got[0] == got[1]


def test_sgd_momentum_buffer_lies_as_the_parameter():
    strides = []
    for lib in (torch, tg):
        p = lib.nn.Parameter(lib.ones(2, 3, 4, 5).contiguous(memory_format=lib.channels_last))
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
        (p * p).sum().backward()
        opt.step()
        strides.append(tuple(opt.state[p]["momentum_buffer"].stride()))
    assert strides[0] == strides[1]


@pytest.mark.parametrize("fn,scale", [(lambda x: x + 1e8, 1e6), (lambda x: x - x.sum(), 1e6),
                                      (lambda x: x - x.mean(), 1e7),
                                      (lambda x: x.cumsum(0) - x.cumsum(0).roll(1, 0), 1e6)])
def test_large_intermediates_are_not_called_wrong_vjps_or_kinks(fn, scale):
    x = tg.tensor(np.array([1.3, 2.7, 3.1, 4.9]) * scale, dtype=tg.float64, requires_grad=True)
    report = check_grads(fn, x)
    assert report.ok or report.kind == "step_too_small", str(report)


def test_a_wrong_vjp_at_1e8_is_not_a_silent_pass():
    import warnings

    class SqrtW(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sqrt(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 0.6 / x.sqrt()  # 20% too big

    class Sqrt(SqrtW):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 0.5 / x.sqrt()

    x = np.array([1.3, 2.7, 3.1, 4.9]) * 1e8
    with pytest.warns(UserWarning, match="passed by atol alone"):
        tg.gradcheck(SqrtW.apply, tg.tensor(x, requires_grad=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.gradcheck(Sqrt.apply, tg.tensor(x, requires_grad=True))


# ---------------------------------------------------------------- tester t16 (numpy interop)

NUMPY_WRITES = {
    "add.at": lambda w: np.add.at(w, [0], 5),
    "multiply.at": lambda w: np.multiply.at(w, [0], 5),
    "copyto": lambda w: np.copyto(w, np.array([9.0, 9.0, 9.0], np.float32)),
    "put": lambda w: np.put(w, [0], [9.0]),
    "place": lambda w: np.place(w, np.array([True, False, False]), [9.0]),
    "putmask": lambda w: np.putmask(w, np.array([True, False, False]), 9.0),
    "fill_diagonal of a view": lambda w: np.fill_diagonal(w.reshape(3, 1), 9.0),
    "clip out=": lambda w: np.clip(w, 2, 3, out=w),
    "cumsum out=": lambda w: np.cumsum(w, out=w),
    "put_along_axis": lambda w: np.put_along_axis(w, np.array([0]), 9.0, 0),
}


@pytest.mark.parametrize("case", list(NUMPY_WRITES))
def test_numpy_writing_into_a_saved_tensor_is_caught(case):
    # (PyTorch refuses these calls; here numpy writes, and the version says so)
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = tg.tensor([1.0, 1.0, 1.0])
    y = (x * w).sum()
    NUMPY_WRITES[case](w)
    assert w.tolist() != [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_a_0d_numpy_array_with_a_half_tensor_is_a_0d_tensor():
    x = np.array([-0.0, 65000.0, 1e-4], np.float16)
    n = np.array(100000)
    want = (torch.tensor(x) * torch.tensor(n)).tolist()
    assert (tg.tensor(x) * n).tolist() == want == (n * tg.tensor(x)).tolist()
    np.testing.assert_allclose((tg.tensor(x) / n).numpy(),
                               (torch.tensor(x) / torch.tensor(n)).numpy(), rtol=1e-3)


def test_tensor_takes_another_librarys_array():
    import array

    assert tg.tensor(torch.tensor([1.0, 2.0])).tolist() == [1.0, 2.0]
    assert tg.tensor(torch.tensor([1, 2])).dtype == tg.int64
    assert tg.tensor(memoryview(np.arange(3.0))).tolist() == [0.0, 1.0, 2.0]
    for data in (array.array("d", [1.0, 2.0]), array.array("i", [1, 2]), bytearray(b"\x01\x02"),
                 memoryview(bytearray(b"\x01"))):  # (read as sequences, as torch reads them)
        assert str(tg.tensor(data).dtype) == str(torch.tensor(data).dtype).removeprefix("torch.")
    # a list of PyTorch 0-d tensors: their own dtypes (was float32, 16777217 rounded)
    assert tg.tensor([torch.tensor(16777217), torch.tensor(5)]).tolist() == [16777217, 5]
    assert tg.tensor([torch.tensor(True), torch.tensor(False)]).dtype == tg.bool
    assert tg.tensor([torch.tensor(0.1, dtype=torch.float64)]).dtype == tg.float64
    assert tg.tensor(torch.ones(2, dtype=torch.bfloat16)).dtype == tg.float32
    with pytest.warns(UserWarning, match="requires grad"):  # (copied, as torch.tensor does)
        assert tg.tensor(torch.ones(2, requires_grad=True)).tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match=r"cannot take the values of torch\.Tensor"):
        tg.tensor(torch.empty(3, device="meta"))


def test_a_numpy_scalar_on_the_left_of_a_comparison_is_the_mirrored_comparison():
    for lib in (tg, torch):
        z = lib.tensor(np.array(7, dtype=np.uint8))
        assert (np.int8(-2) < z).item() is (z > np.int8(-2)).item() is False
        assert (np.int16(300) >= z).item() == (z <= np.int16(300)).item()


def test_ldexp_lerp_and_numpy_bool_first_promote_as_torch():
    import itertools

    names = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
    for a, b in itertools.product(names, ["float16", "float32", "float64", "int64"]):
        for zero_d in (False, True):
            got = []
            for lib in (torch, tg):
                x = lib.tensor([1, 0, 1]).to(getattr(lib, a))
                o = (lib.tensor(2) if zero_d else lib.tensor([1, 2, 0])).to(getattr(lib, b))
                y = lib.ldexp(x, o)
                got.append((str(y.dtype).split(".")[-1], [float(v) for v in y.tolist()]))
            assert got[0] == got[1], (a, b, zero_d)
    for dt, wd in itertools.product(["int64", "uint8", "bool"], ["float16", "float32", "float64"]):
        got = []
        for lib in (torch, tg):
            y = lib.lerp(lib.tensor([1, 0]).to(getattr(lib, dt)),
                         lib.tensor([3, 1]).to(getattr(lib, dt)), lib.tensor(0.5).to(getattr(lib, wd)))
            got.append((str(y.dtype).split(".")[-1], y.tolist()))
        assert got[0] == got[1]
    for f in ("add", "mul", "sub"):
        ours = getattr(tg, f)(np.True_, tg.tensor([1, 2], dtype=tg.int8))
        theirs = getattr(torch, f)(np.True_, torch.tensor([1, 2], dtype=torch.int8))
        assert ours.dtype == tg.float32 and ours.tolist() == theirs.tolist()


# ---------------------------------------------------------------- tester t17


def test_fills_through_item_assignment_read_their_value_first_as_torch():
    cases = [lambda L, a: a.__setitem__(a > 2, a[5]),
             lambda L, a: a.__setitem__(slice(None), a[0]),
             lambda L, a: a.__setitem__(L.tensor([False, True] * 3), a[:1]),
             lambda L, a: a.__setitem__([0, 1], a[0]),  # an index array: refused by both
             lambda L, a: a.__setitem__(slice(1, 3), a[:2])]  # a partial overlap: refused
    for f in cases:
        got = []
        for lib in (torch, tg):
            a = lib.arange(1.0, 7.0)
            try:
                f(lib, a)
                got.append(a.tolist())
            except RuntimeError:
                got.append("refused")
        assert got[0] == got[1]


def test_fill_with_its_own_element_while_recording():
    grads = []
    for lib in (torch, tg):
        x = lib.arange(1.0, 7.0, requires_grad=True)
        h = x * 1
        h.fill_(h[3])
        (h * x).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]


def test_nan_to_num_in_place_on_a_saved_tensor_is_caught():
    w = tg.tensor(np.array([1.0, np.nan, 3.0, 4.0]))
    x = tg.tensor(np.ones(4), requires_grad=True)
    y = (x * w).sum()
    np.nan_to_num(w, copy=False)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()
    w2 = tg.tensor(np.array([1.0, np.nan]))
    np.nan_to_num(w2)  # (a copy: nothing written)
    assert w2._version == 0


@pytest.mark.parametrize("fn,values", [
    (lambda x: 1 / x, [1e-30]), (lambda x: 1 / x, [1e-10]), (lambda x: x.log(), [1e-30]),
    (lambda x: x.sqrt(), [1e-30, 1.0]), (lambda x: (x * 1e30).tanh(), [1e-30, -5e-31]),
    (lambda x: (x + 3e7).sum() * x, [1.0, 2.0, 3.0]), (lambda x: x * x, [1e8, 1.0, 2.0]),
    (lambda x: (x + 1).sin(), [1e-30])])
def test_correct_functions_at_elements_out_of_the_steps_scale_pass(fn, values):
    x = tg.tensor(np.array(values), dtype=tg.float64, requires_grad=True)
    report = check_grads(fn, x)
    assert report.ok, str(report)


def test_a_vjp_wrong_only_at_tiny_elements_is_said_beside_ordinary_ones():
    Sq, _ = _square_functions()

    class SqWrongTiny(Sq):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g * (1 + (x.abs() < 1e-20).double())

    for values in ([1e-30], [1e-30, 1.0], [1e-30, 1e-10]):
        with pytest.warns(UserWarning, match="passed by atol alone"):
            tg.gradcheck(SqWrongTiny.apply, tg.tensor(np.array(values), requires_grad=True))


def test_a_wrong_vjp_at_1e9_is_not_passed():
    Sq, _ = _square_functions()

    class SqW(Sq):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * g  # 50% too big

    # (the outputs' rounding does not explain a 50% error: not measured again, and not passed)
    report = check_grads(SqW.apply, tg.tensor(np.array([1e8, 2e9]), requires_grad=True))
    assert not report.ok and report.kind in ("wrong_vjp", "step_too_small"), str(report)


# ---------------------------------------------------------------- tester t18 (gradcheck)


def _functions_of(forward, backward):
    class F(tg.Function):
        @staticmethod
        def forward(ctx, *xs):
            ctx.save_for_backward(*xs)
            return forward(*xs)

        @staticmethod
        def backward(ctx, g):
            return backward(g, *ctx.saved_tensors)

    return F


@pytest.mark.parametrize("name,forward,backward,values", [
    # frac with a VJP of 0 at 1e8: a step scaled to 1e8 (100) steps over whole periods
    ("frac", lambda x: x - np.floor(x), lambda g, x: g * 0.0, [1e8 + 0.3]),
    ("frac at 1e6", lambda x: x - np.floor(x), lambda g, x: g * 0.0, [1e6 + 0.3]),
    # sin(2 pi x) with a VJP of 0 at 1e8
    ("sin 2 pi x", lambda x: np.sin(2 * np.pi * x), lambda g, x: g * 0.0, [1e8 + 0.1]),
    # log with a doubled VJP near 0 (was: "not differentiable ... edge of its domain")
    ("log", np.log, lambda g, x: g * 2 / x, [1e-8]),
    ("log at 1e-30", np.log, lambda g, x: g * 2 / x, [1e-30]),
])
def test_wrong_vjps_out_of_the_steps_scale_are_not_passed(name, forward, backward, values):
    F = _functions_of(forward, backward)
    report = check_grads(F.apply, tg.tensor(np.array(values), requires_grad=True))
    assert not report.ok and report.kind in ("wrong_vjp", "step_too_small"), str(report)
    assert "not differentiable" not in str(report).splitlines()[0]


def test_an_input_a_huge_output_hides_is_said_so_not_passed_silently():
    AddW = _functions_of(lambda x, y: x + y, lambda g, x, y: (g * 0, g))  # ignores x
    big = (tg.tensor([1.0], dtype=tg.float64, requires_grad=True),
           tg.tensor([1e11], dtype=tg.float64, requires_grad=True))
    with pytest.warns(UserWarning, match="passed without seeing input 0's element 0"):
        tg.gradcheck(AddW.apply, big)


def test_a_narrow_feature_at_a_big_input_is_not_stepped_over():
    # (a step scaled to 1e8, 100, steps over a bump 1 wide: it must not overturn eps's verdict)
    bump = _functions_of(lambda x: np.exp(-(x - 1e8) ** 2), lambda g, x: g * 0.0)
    report = check_grads(bump.apply, tg.tensor(np.array([1e8 + 0.5]), requires_grad=True))
    assert not report.ok, str(report)


def test_the_checkers_probes_out_of_the_domain_warn_nothing():
    import warnings

    F = _functions_of(np.log, lambda g, x: g / x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.gradcheck(F.apply, tg.tensor(np.array([1e-8]), requires_grad=True))


def test_a_right_vjp_beside_a_wiggle_at_1e9_is_not_called_wrong():
    # (steps of 1,000 and 137 average a wiggle 0.06 wide away: they may confirm, not overturn)
    wiggle = _functions_of(lambda x: x + 0.01 * np.sin(100 * x),
                           lambda g, x: g * (1 + (100 * x).cos()))
    report = check_grads(wiggle.apply, tg.tensor(np.array([1e9 + 0.3]), requires_grad=True))
    assert report.ok or report.kind == "step_too_small", str(report)


def test_a_recorded_copy_keeps_the_sign_of_zero():
    got = []
    for lib in (torch, tg):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = x * 1
        z.copy_(lib.tensor([-0.0, 3.0]))
        h = x * 1
        h[0:1].copy_(lib.tensor([-0.0]))
        got.append(np.signbit(np.concatenate([z.detach().numpy(), h.detach().numpy()])).tolist())
    assert got[0] == got[1] == [True, False, True, False]
