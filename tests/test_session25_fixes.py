"""Session 25: what outside testers and the differential fuzzer found, each against PyTorch.

Memory layouts (issue 12): where a result's memory order differs from PyTorch's, a later
``reshape`` is a view in one library and a copy in the other, so an in-place change through it
reaches different tensors -- a silently different value.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch")


def _strides(t) -> tuple[int, ...]:
    return tuple(s for n, s in zip(t.shape, t.stride()) if n != 1)


A = np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 7.5

LAYOUT_CASES = {
    "mixed operands: the first decides": lambda m, x: x.transpose(0, 2) + x.transpose(0, 2).contiguous(),
    "C first, transposed second": lambda m, x: x.transpose(0, 2).contiguous() * x.transpose(0, 2),
    "broadcast operand": lambda m, x: x.permute(2, 0, 1) * x[0:1, 0:1, :].permute(2, 0, 1),
    "unary of a transpose": lambda m, x: x.transpose(0, 2).exp(),
    "zeros_like": lambda m, x: m.zeros_like(x.transpose(0, 2)),
    "ones_like": lambda m, x: m.ones_like(x.transpose(0, 2)),
    "full_like": lambda m, x: m.full_like(x.transpose(0, 2), 3.0),
    "empty_like": lambda m, x: m.empty_like(x.transpose(0, 2)),
    "randn_like": lambda m, x: m.randn_like(x.transpose(0, 2)),
    "zeros_like contiguous_format": lambda m, x: m.zeros_like(
        x.transpose(0, 2), memory_format=m.contiguous_format),
    "zeros_like channels_last": lambda m, x: m.zeros_like(
        x.reshape(1, 2, 3, 4), memory_format=m.channels_last),
    "flip": lambda m, x: x.transpose(0, 2).flip(0),
    "cat: C order": lambda m, x: m.cat([x.transpose(0, 2), x.transpose(0, 2)], 0),
    "cat of channels-last": lambda m, x: m.cat(
        [x.reshape(1, 2, 3, 4).contiguous(memory_format=m.channels_last)] * 2, 0),
    "stack: C order": lambda m, x: m.stack([x.transpose(0, 2), x.transpose(0, 2)], 0),
    "masked_fill: C order": lambda m, x: x.transpose(0, 2).masked_fill(x.transpose(0, 2) > 3, 0.0),
    "addmm: the product's order": lambda m, x: m.addmm(x[0, :, :3].t().contiguous().t(),
                                                     x[1, :, :3], x[0, :, :3]),
}


@pytest.mark.parametrize("case", list(LAYOUT_CASES))
def test_results_are_laid_out_in_memory_as_pytorch_lays_out_its_own(case):
    f = LAYOUT_CASES[case]
    ours = f(tg, tg.tensor(A))
    theirs = f(torch, torch.tensor(A))
    assert _strides(ours) == _strides(theirs), (ours.stride(), theirs.stride())
    if case not in ("randn_like", "empty_like"):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("case", ["mixed operands: the first decides", "flip",
                                  "masked_fill: C order", "cat: C order"])
def test_an_in_place_change_through_a_reshape_reaches_what_it_reaches_in_pytorch(case):
    """The consequence that is a value: ``reshape`` shares memory only where the layout lets
    it, and the in-place ``add_`` through it then changes the tensor itself or only a copy."""
    f = LAYOUT_CASES[case]
    results = []
    for m in (tg, torch):
        x = m.tensor(A, requires_grad=True)
        y = f(m, x * 1)
        r = y.reshape(-1)
        r.add_(100.0)
        loss = (y * y).sum() + (r * 2).sum()
        loss.backward()
        results.append((y.detach().numpy().copy(), x.grad.numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1])


def test_the_layout_of_a_pointwise_result_does_not_change_its_gradients():
    x = tg.tensor(A.astype(np.float64), requires_grad=True)
    xt = torch.tensor(A.astype(np.float64), requires_grad=True)
    for m, t in ((tg, x), (torch, xt)):
        a = t.transpose(0, 2)
        y = (a * a.contiguous()).sigmoid() + a.exp()
        g, = (m.autograd.grad if m is torch else tg.grad)((y * y).sum(), [t], create_graph=True)
        (g.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


# ------------------------------------------------------------------------------ out= (issue 14)
def _both(f):
    """``f(lib)`` in both libraries: (ours, theirs) results or the error class names."""
    got = []
    for m in (tg, torch):
        try:
            got.append(f(m))
        except (RuntimeError, TypeError) as exc:
            got.append(type(exc).__name__)
    return got


OUT_CASES = {
    "add into an empty out": lambda m: m.add(m.tensor([1., 2]), m.tensor([3., 4]), out=m.empty(0)),
    "cat": lambda m: m.cat([m.tensor([1., 2]), m.tensor([3.])], out=m.zeros(3)),
    "sum over a dim": lambda m: m.sum(m.ones(2, 3), 1, out=m.zeros(2)),
    "a float result into int64": lambda m: m.mul(m.tensor([1.5]), 2, out=m.zeros(1, dtype=m.int64)),
    "a bool result into float": lambda m: m.gt(m.tensor([1., 3]), 2, out=m.zeros(2)),
    "an int result into float": lambda m: m.add(m.tensor([1, 2]), 3, out=m.zeros(2)),
    "a factory takes out's dtype": lambda m: m.arange(4, out=m.empty(0, dtype=m.int64)),
    "zeros into float64": lambda m: m.zeros(2, 2, out=m.ones(0, dtype=m.float64)),
    "an input that requires grad": lambda m: m.exp(m.ones(2, requires_grad=True), out=m.empty(2)),
    "matmul": lambda m: m.matmul(m.ones(2, 3), m.ones(3, 4), out=m.empty(0)),
    "where": lambda m: m.where(m.tensor([True, False]), m.tensor([1., 2]), m.tensor([3., 4]),
                               out=m.empty(2)),
}


@pytest.mark.parametrize("case", list(OUT_CASES))
def test_out_writes_the_result_into_the_tensor_given_as_pytorch_does(case):
    ours, theirs = _both(OUT_CASES[case])
    if isinstance(theirs, str):
        assert ours == theirs
        return
    assert ours.dtype == tg.tensor(theirs.numpy()).dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_out_returns_out_itself_and_a_view_out_changes_its_base():
    base = tg.zeros(2, 3)
    out = base[1]
    r = tg.add(tg.ones(3), 1, out=out)
    assert r is out
    np.testing.assert_array_equal(base.numpy(), [[0, 0, 0], [2, 2, 2]])
    with pytest.raises(RuntimeError, match="cannot be resized"):
        tg.add(tg.ones(2), 1, out=base[0])


def test_out_of_another_shape_is_resized_with_pytorch_s_warning():
    out = tg.zeros(5)
    with pytest.warns(UserWarning, match="was resized since it had shape"):
        tg.mul(tg.ones(2), 3, out=out)
    assert out.shape == (2,) and out.tolist() == [3.0, 3.0]


# ------------------------------------------------------------------------------ outside testers
def test_logit_s_gradient_at_minus_zero_is_plus_inf_as_pytorch_s():
    grads = []
    for m in (tg, torch):
        x = m.tensor([-0.0, 0.0, 0.3, 1.0, -1.0], requires_grad=True)
        m.logit(x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("name,arg", [("sgn_", None), ("arcsin_", None), ("arccos_", None),
                                      ("arctan_", None), ("arcsinh_", None), ("arctanh_", None),
                                      ("arccosh_", "above1"), ("ldexp_", "tensor"),
                                      ("nextafter_", "tensor")])
def test_the_in_place_forms_of_the_aliases_exist_and_match_pytorch(name, arg):
    got = []
    for m in (tg, torch):
        y = m.tensor([1.5, 2.0, 3.0] if arg == "above1" else [-0.5, 0.25, 0.0]) * 1
        r = getattr(y, name)(m.tensor([1.0, 2.0, -3.0])) if arg == "tensor" else getattr(y, name)()
        assert r is y
        got.append(y.numpy().copy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-6)


def test_lerp_of_three_0d_operands_promotes_with_the_weight():
    for m in (tg, torch):
        f64, half = m.float64, m.float16
        r1 = m.lerp(m.tensor(0.5), m.tensor(1.0), m.tensor(0.3, dtype=f64))
        r2 = m.lerp(m.tensor(0.5, dtype=half), m.tensor(1.0, dtype=half), m.tensor(0.3))
        r3 = m.lerp(m.tensor([0.5]), m.tensor([1.0]), m.tensor(0.3, dtype=f64))
        assert [str(r.dtype).replace("torch.", "") for r in (r1, r2, r3)] == [
            "float64", "float32", "float32"]


def test_a_function_may_return_values_that_are_no_arrays_with_its_outputs():
    class Count(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return "note", x * 2, None, x * 3, 7

        @staticmethod
        def backward(ctx, g0, g1, g2, g3, g4):
            assert g0 is None and g2 is None and g4 is None
            return g1 * 2 + g3 * 3

    class One(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 7

        @staticmethod
        def backward(ctx, g, n):
            assert n is None
            return g * 2

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    note, y, none, z, seven = Count.apply(x)
    assert (note, none, seven) == ("note", None, 7)
    (y.sum() + z.sum()).backward()
    assert x.grad.tolist() == [5.0, 5.0]
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y, n = One.apply(x)
    assert n == 7
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert tg.gradcheck(lambda t: One.apply(t)[0], (tg.tensor([1.0, 2.0], dtype=tg.float64,
                                                               requires_grad=True),))


def test_tensor_of_a_tensor_is_an_alias_with_its_history_as_in_pytorch():
    results = []
    for m in (tg, torch):
        x = m.ones(2, requires_grad=True)
        y = m.Tensor(x * 2)
        (y.sum() + x.sum()).backward()
        a = m.tensor([1.0, 2.0])
        b = m.Tensor(a)
        b.add_(1)
        results.append((x.grad.numpy().copy(), a.numpy().copy(), a._version))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert results[0][2] == results[1][2] == 1
    c = tg.Tensor(tg.tensor([1.0]), dtype=tg.float64)  # (our extension: with arguments, a copy)
    assert c.dtype == np.float64


def test_fill_with_a_0d_tensor_casts_it_as_pytorch_does():
    for m in (tg, torch):
        assert m.zeros(2, dtype=m.uint8).fill_(m.tensor(-1.25)).tolist() == [255, 255]
        assert m.zeros(2, dtype=m.int8).fill_(m.tensor(169, dtype=m.uint8)).tolist() == [-87, -87]
    with pytest.raises(RuntimeError, match="uint8"):
        tg.zeros(2, dtype=tg.uint8).fill_(-1.25)  # (a Python number is range-checked)


def test_real_is_the_tensor_itself_and_imag_pytorch_s_error():
    t = tg.tensor([1.0, 2.0])
    assert t.real is t
    with pytest.raises(RuntimeError, match="non-complex"):
        t.imag  # noqa: B018


def test_kl_div_batchmean_of_an_empty_batch_is_nan_and_of_a_0d_input_undivided():
    for m in (tg, torch):
        F = m.nn.functional
        for log_target in (False, True):
            empty = F.kl_div(m.zeros(0, 3), m.zeros(0, 3), reduction="batchmean",
                             log_target=log_target)
            assert np.isnan(empty.item())
        scalar = F.kl_div(m.tensor(0.3), m.tensor(0.5), reduction="batchmean")
        assert scalar.item() == pytest.approx(0.5 * (np.log(0.5) - 0.3), rel=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_whose_targets_all_weigh_0_has_pytorch_s_nan_gradient(smoothing):
    x = np.random.default_rng(0).standard_normal((3, 4))
    w, y = np.array([0.0, 0, 1, 1]), np.array([0, 1, 1])
    grads = []
    for m in (tg, torch):
        a = m.tensor(x, requires_grad=True)
        m.nn.functional.cross_entropy(a, m.tensor(y), weight=m.tensor(w),
                                      label_smoothing=smoothing).backward()
        grads.append(a.grad.numpy())
    assert np.isnan(grads[1]).all()
    np.testing.assert_array_equal(np.isnan(grads[0]), np.isnan(grads[1]))


def test_a_read_only_folder_s_message_does_not_call_a_writable_file_read_only(tmp_path):
    """An outside tester: a checkpoint save (never in place) into a read-only folder said "the
    file is read-only too" of a writable file."""
    import os
    import shutil

    from test_session23_fixes import _as_a_user

    if os.name != "posix" or shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to drop root's override of permissions")
    folder = tmp_path / "ro"
    folder.mkdir()
    tg.save({"w": tg.tensor([0.0])}, folder / "f.npz")
    os.chmod(folder, 0o555)
    script = ("from tinygrad_cnn.serialization import _save\n"
              "import tinygrad_cnn as tg\n"
              "try:\n"
              f"    _save({{'w': tg.tensor([7.0])}}, {str(folder / 'f.npz')!r}, keep_links=False)\n"
              "except PermissionError as e:\n"
              "    print('refused:', e)\n")
    try:
        done = _as_a_user(script)
    finally:
        os.chmod(folder, 0o755)
    assert done.returncode == 0, done.stderr
    assert "is not writable" in done.stdout and "read-only too" not in done.stdout
    assert "the file itself is writable" in done.stdout


# ------------------------------------------------------------------------------ tester t05
OUT_MORE = {
    "cumsum in a wider out": lambda m: m.cumsum(m.tensor(np.array([6e4, 6e4], np.float16)), 0,
                                               out=m.zeros(0, dtype=m.float32)),
    "nanmean in a wider out": lambda m: m.nanmean(m.tensor(np.array([6e4, 6e4], np.float16)),
                                                  out=m.zeros(0, dtype=m.float32)),
    "logsumexp in a wider out": lambda m: m.logsumexp(
        m.tensor(np.array([6e4, 6e4], np.float16)), 0, out=m.zeros(0, dtype=m.float32)),
    "an int64 sum in float64": lambda m: m.sum(m.tensor([2**62, 2**62]), 0,
                                              out=m.zeros(0, dtype=m.float64)),
    "a float sum into int64": lambda m: m.sum(m.tensor([1.7, 2.6, -0.5]), 0,
                                             out=m.zeros(0, dtype=m.int64)),
    "a float cumprod into int64": lambda m: m.cumprod(m.tensor([1.7, 2.6, -0.5]), 0,
                                                     out=m.zeros(0, dtype=m.int64)),
    "abs into another dtype": lambda m: m.abs(m.tensor([0.5]), out=m.zeros(1, dtype=m.float64)),
    "matmul into another dtype": lambda m: m.mm(m.ones(2, 2), m.ones(2, 2),
                                                out=m.zeros(0, dtype=m.float64)),
    "a factory's dtype against out's": lambda m: m.zeros(2, dtype=m.float64, out=m.zeros(0)),
    "mean's dtype against out's": lambda m: m.mean(m.tensor([1.0, 2]), 0, dtype=m.float64,
                                                   out=m.zeros(0)),
}


@pytest.mark.parametrize("case", list(OUT_MORE))
def test_out_s_dtype_rules_per_function_as_pytorch_s(case):
    ours, theirs = _both(OUT_MORE[case])
    if isinstance(theirs, str):
        assert ours == theirs
        return
    assert ours.dtype == tg.tensor(theirs.numpy()).dtype
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_a_resized_out_is_laid_out_as_pytorch_lays_it_out_and_factories_keep_requires_grad():
    for m in (tg, torch):
        a = m.arange(12.0).reshape(3, 4).t()
        o = m.empty(0)
        m.add(a, 1, out=o)
        assert o.stride() == (1, 4)
        f = m.zeros(0)
        m.zeros(2, requires_grad=True, out=f)
        assert f.requires_grad
    with warnings_none():
        tg.eye(2, out=tg.zeros(3, 3))  # (a factory resizes quietly, as PyTorch's)


def warnings_none():
    import warnings

    class _Quiet:
        def __enter__(self):
            self.cm = warnings.catch_warnings()
            self.cm.__enter__()
            warnings.simplefilter("error")

        def __exit__(self, *exc):
            return self.cm.__exit__(*exc)

    return _Quiet()


LAYOUT_MORE = {
    "where: the condition decides": lambda m, x: m.where(m.ones(4, 3) > 0, x[0].t() * 1, 0.0),
    "where: a transposed condition": lambda m, x: m.where(x[0].t() > 2, m.zeros(4, 3),
                                                          m.ones(4, 3)),
    "layer_norm of a transpose: C order": lambda m, x: m.nn.functional.layer_norm(
        x.transpose(1, 2), (3,)),
    "batch_norm of a permute: C order": lambda m, x: m.nn.functional.batch_norm(
        x.permute(0, 2, 1), None, None, training=True),
    "pad of a transpose: C order": lambda m, x: m.nn.functional.pad(x[0].t(), (1, 1)),
    "pad of channels-last: channels-last": lambda m, x: m.nn.functional.pad(
        x.reshape(1, 2, 3, 4).contiguous(memory_format=m.channels_last), (1, 1)),
    "batched matmul of a permute: C order": lambda m, x: (lambda y: y @ y.mT)(
        x.reshape(2, 3, 2, 2).permute(3, 1, 0, 2)),
}


@pytest.mark.parametrize("case", list(LAYOUT_MORE))
def test_more_results_are_laid_out_as_pytorch_s(case):
    f = LAYOUT_MORE[case]
    ours = f(tg, tg.tensor(A.astype(np.float64)))
    theirs = f(torch, torch.tensor(A.astype(np.float64)))
    assert _strides(ours) == _strides(theirs), (ours.stride(), theirs.stride())
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_a_negative_step_s_results_are_c_order_as_numpy_s_and_view_s_error_gives_strides():
    x = tg.arange(12.0).reshape(3, 4)
    assert (x[::-1] * 2).is_contiguous() and x[::-1].clone().is_contiguous()
    y = x.t().exp()
    with pytest.raises(RuntimeError, match=r"strides \(1, 4\)"):
        y.view(-1)


def test_arrays_inside_a_function_s_other_outputs_come_back_as_tensors_with_versions():
    class G(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x, {"input": x, "more": [x * 3, x[0:1]]}

        @staticmethod
        def backward(ctx, g, _):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    w = tg.tensor([1.0, 2.0], requires_grad=True)
    h = w * 1
    y, info = G.apply(h)
    assert info["input"] is h  # (the input itself, as PyTorch hands it back)
    assert isinstance(info["more"][0], tg.Tensor) and not info["more"][0].requires_grad
    assert info["more"][0].std().item() == pytest.approx(np.std([3.0, 6.0], ddof=1))
    info["more"][1][0] = 100.0  # a view of the saved input, changed: the backward must refuse
    with pytest.raises(RuntimeError, match="modified by an in-pl|changed in place"):
        y.sum().backward()


def test_node_hooks_of_a_function_with_non_array_outputs_see_every_output_s_place():
    class F(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return 7, x * 2, "s", x * 3

        @staticmethod
        def backward(ctx, g7, g, gs, g3):
            return g * 2 + g3 * 3

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    n, y, s, z = F.apply(x)
    seen = []
    y.grad_fn.register_prehook(lambda go: seen.append(len(go)) or (None, go[1] * 10, None, None))
    y.sum().backward()
    assert seen == [4] and x.grad.tolist() == [20.0, 20.0]

    class Only(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return 7, "s"

        @staticmethod
        def backward(ctx, a, b):
            return None

    assert Only.apply(x) == (7, "s")


# ------------------------------------------------------------------------------ tester t04
def _svg_texts(graph) -> list[str]:
    import html
    import re
    import shutil
    import subprocess

    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot")
    svg = subprocess.run(["dot", "-Tsvg"], input=graph.source, capture_output=True, text=True,
                         check=True).stdout
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_a_drawing_s_title_is_drawn_literally_and_does_not_eat_the_next_node():
    import warnings

    from tinygrad_cnn import viz

    x = tg.Tensor([1.0, 2.0], requires_grad=True, name="x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (graphviz's DotSyntaxWarning)
        g = viz.draw((x * 2).sum(), title="C:\\runs\\ and\nLaTeX \\alpha")
    texts = _svg_texts(g)
    assert "C:\\runs\\ and" in texts and "LaTeX \\alpha" in texts
    assert "mul" in texts  # (the node after the title keeps its label)


def test_a_name_with_a_backslash_or_a_line_break_is_drawn_as_the_text_form_shows_it():
    from tinygrad_cnn import viz

    x = tg.Tensor([1.0, 2.0], requires_grad=True, name="w\\")
    y = tg.Tensor([1.0, 2.0], requires_grad=True, name="new\nline")
    texts = _svg_texts(viz.draw((x * 2 + y).sum()))
    assert "w\\\\" in texts and "new\\nline" in texts  # (visible(): one escape, not two)
    assert not any("w\\\\\\\\" in t for t in texts)


def test_legacy_new_as_pytorch_s():
    for m in (tg, torch):
        x = m.ones(2, dtype=m.float64)
        assert tuple(x.new(2, 3).shape) == (2, 3) and x.new(2, 3).dtype == x.dtype
        assert x.new([1, 2]).dtype == x.dtype and x.new([1, 2]).tolist() == [1.0, 2.0]
        assert tuple(x.new().shape) == (0,) and tuple(x.new((2, 3)).shape) == (2,)
        assert tuple(x.new(m.Size([4])).shape) == (4,)
        t = m.tensor([1.0, 2.0], dtype=m.float64)
        x.new(t).add_(1)  # (an alias)
        assert t.tolist() == [2.0, 3.0]
        with pytest.raises((TypeError, RuntimeError)):
            x.new(m.tensor([1.0, 2.0]))


# ------------------------------------------------------------------------------ tester t06
def test_a_linear_op_at_large_inputs_is_not_called_wrong_the_quotient_divides_by_the_real_step():
    for v in (1.3e7, 2e7, 3e7, 3.9e7):
        x = tg.tensor(np.array([v, -v / 3]), requires_grad=True)
        assert tg.gradcheck(lambda t: t * 3, (x,))


def test_a_doubled_vjp_at_tiny_inputs_warns_that_it_passed_by_atol_alone():
    class SqBad(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 4 * x

    class Sq(SqBad):
        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 2 * x

    import warnings

    for scale in (1e-9, 1e-13, 1e-20):
        with pytest.warns(UserWarning, match="atol alone"):
            assert tg.gradcheck(SqBad.apply, tg.tensor(np.array([1.0, -2, 0.5]) * scale,
                                                       requires_grad=True))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert tg.gradcheck(Sq.apply, tg.tensor(np.array([1.0, -2, 0.5]) * scale,
                                                    requires_grad=True))


# ------------------------------------------------------------------------------ tester t07
def test_a_ported_seed_everything_runs_unchanged():
    for m in (tg, torch):
        m.backends.cudnn.deterministic = True
        m.backends.cudnn.benchmark = False
        m.backends.cuda.matmul.allow_tf32 = False
        m.use_deterministic_algorithms(True)
        assert m.are_deterministic_algorithms_enabled()
        m.use_deterministic_algorithms(False)
        m.set_float32_matmul_precision("high")
        assert m.get_float32_matmul_precision() == "high"
        m.set_float32_matmul_precision("highest")
    assert tg.backends.cudnn.is_available() is False
    with pytest.raises(AttributeError, match="benchmrk"):
        tg.backends.cudnn.benchmrk = True
    with pytest.raises(RuntimeError, match="precision"):
        tg.set_float32_matmul_precision("low")


def test_a_top_level_op_in_a_function_s_forward_says_to_use_numpy():
    class S(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return tg.sign(x)

        @staticmethod
        def backward(ctx, g):
            return g * 0

    with pytest.raises(TypeError, match=r"numpy arrays: use numpy's function there \(np.sign"):
        S.apply(tg.ones(2, requires_grad=True))


def test_conv_transposed_attribute_and_upsample_repr_as_pytorch():
    for m in (tg, torch):
        nn = m.nn
        assert (nn.Conv2d(1, 2, 3).transposed, nn.ConvTranspose2d(1, 2, 3).transposed,
                nn.Conv1d(1, 2, 3).transposed, nn.ConvTranspose1d(1, 2, 3).transposed) == (
            False, True, False, True)
    for kw in ({}, {"scale_factor": 2}, {"size": (3, 4), "mode": "bilinear"}):
        assert repr(tg.nn.Upsample(**kw)) == repr(torch.nn.Upsample(**kw))


def test_a_large_output_s_rounding_is_not_blamed_on_add_and_the_real_culprit_is_named():
    class SinBad(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos() * 1.5

    x = tg.tensor(np.array([0.3, -0.5]), requires_grad=True)
    with pytest.raises(tg.GradcheckError, match="cannot judge.*as large as 2e\\+07"):
        tg.gradcheck(lambda t: t + 2e7, x)
    with pytest.raises(tg.GradcheckError, match="the VJP of `sin_bad` is wrong"):
        tg.gradcheck(lambda t: (t + 2e7).sum() * 0 + SinBad.apply(t).sum(), x)


def test_taylor_weighs_each_output_by_its_size():
    class SinBad(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos() * 1.2

    x = tg.tensor(np.array([0.3, -1.2, 0.7, 2.0]), requires_grad=True)
    for seed in range(5):
        with pytest.raises(tg.GradcheckError):
            tg.gradcheck(lambda t: (t * 1e6, SinBad.apply(t)), x, method="taylor", seed=seed)
        assert tg.gradcheck(lambda t: (t * 1e6, t.sin()), x, method="taylor", seed=seed)


def test_gradgradcheck_refuses_a_vjp_whose_create_graph_path_gives_other_values():
    class Softplus(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.logaddexp(0, x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            if not tg.is_grad_enabled():  # the fast path: right
                return g * tg.Tensor(1 / (1 + np.exp(-x.numpy())))
            return g * (x.sigmoid() + x.sigmoid())  # the differentiable path: 2x

    x = tg.tensor(np.array([0.3, -1.2, 0.7]), requires_grad=True)
    assert tg.gradcheck(Softplus.apply, x)
    with pytest.raises(tg.GradcheckError, match="other values when its graph is recorded"):
        tg.gradgradcheck(Softplus.apply, x)


def test_a_tie_that_drops_the_gradient_is_not_said_to_hand_it_to_each():
    class MaxStrict(tg.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return np.maximum(a, b)

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * (a > b).double(), g * (b > a).double()

    with pytest.raises(tg.GradcheckError) as err:
        tg.gradcheck(MaxStrict.apply, (tg.tensor(np.array([1.0, 2.0]), requires_grad=True),
                                       tg.tensor(np.array([1.0, 0.0]), requires_grad=True)))
    assert "hands the whole gradient to each" not in str(err.value)
    assert "nor to none" in str(err.value)


def test_a_check_of_integer_outputs_only_warns_that_nothing_was_checked():
    x = tg.tensor(np.array([0.3, 1.7]), requires_grad=True)
    with pytest.warns(UserWarning, match="nothing was checked"):
        assert tg.gradcheck(lambda t: t.floor().long(), x)


def test_check_function_of_a_function_with_state_says_not_deterministic():
    pytest.importorskip("hypothesis")
    from tinygrad_cnn.testing import CheckFunctionError, check_function, shapes

    calls = [0]

    def flip(t):
        calls[0] += 1
        return t * (1 + 1e-3 * (calls[0] % 2))

    with pytest.raises(CheckFunctionError, match="not deterministic"):
        check_function(flip, shapes=[shapes()], torch_fn=lambda t: t)


# ------------------------------------------------------------------------------ tester t08
def test_a_function_with_a_number_argument_keeps_its_saved_input_s_graph():
    results = []
    for m in (tg, torch):
        base = tg.Function if m is tg else torch.autograd.Function

        class F(base):
            @staticmethod
            def forward(ctx, x, k):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 2 * x, None

        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = F.apply(x, 5)
        (gx,) = m.autograd.grad((y * y).sum(), x, create_graph=True)
        results.append(m.autograd.grad(gx.sum(), x)[0].tolist())
    assert results[0] == results[1] == [12.0, 48.0]


def test_a_cast_or_flip_of_an_expand_is_in_c_order_as_pytorch_s():
    for m in (tg, torch):
        x = m.arange(4.0, dtype=m.float64).expand(2, 3, 4)
        assert x.float().stride() == x.half().stride() == x.flip(0).stride() == (12, 4, 1)
        w = m.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        z = w.expand(2, 3, 4).flip(0)
        z.reshape(-1).mul_(3)
        z.sum().backward()
        assert w.grad.tolist() == [18.0] * 4
