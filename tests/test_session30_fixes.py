"""Regression tests for what the thirtieth session's outside testers (and its own reading) found."""

from __future__ import annotations

import importlib
import os
import signal
import time

import pytest

from tests.test_cli import _run_holding_its_lock, _stderr


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_sighup_stops_a_run_as_sigterm_does(tmp_path):
    """A closed terminal's SIGHUP killed a run by the default action: its lock file stayed, a
    save in progress left its temporary file, and nothing said what was kept."""
    run = _run_holding_its_lock(tmp_path, "t.npz")
    run.send_signal(signal.SIGHUP)
    err = _stderr(run)
    assert run.returncode == 128 + signal.SIGHUP, err
    assert "terminated by SIGHUP during epoch 1" in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no lock, no temporary file


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_a_sighup_ignored_as_nohup_does_stays_ignored(tmp_path):
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # (inherited by the child: nohup)
    try:
        run = _run_holding_its_lock(tmp_path, "t.npz")
    finally:
        signal.signal(signal.SIGHUP, previous)
    run.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert run.poll() is None  # still training
    run.send_signal(signal.SIGTERM)
    err = _stderr(run)
    assert run.returncode == 143 and "terminated during epoch 1" in err, err


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_the_held_signals_leave_an_ignored_one_ignored():
    from tinygrad_cnn._files import held_signals

    came = []
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with held_signals(came.append):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        assert came == [] and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def _torch():
    return pytest.importorskip("torch")


def test_ldexp_of_float16_is_rounded_once_as_pytorchs():
    """Found by an outside tester: 2**e was rounded to float16 first, so ldexp(60000, -25) gave
    0 and ldexp(inf, -128) NaN."""
    import numpy as np

    import tinygrad_cnn as tg

    torch = _torch()
    x = [60000.0, 1024.0, float("inf"), 3.0, -0.0, 65504.0, 1e-7]
    e = [-25, -30, -128, 2, 5, 1, 20]
    a = tg.tensor(x, dtype=tg.float16, requires_grad=True)
    b = torch.tensor(x, dtype=torch.float16)
    r, q = tg.ldexp(a, tg.tensor(e)), torch.ldexp(b, torch.tensor(e))
    assert r.dtype == np.float16
    np.testing.assert_array_equal(r.numpy(), q.detach().numpy())
    g = np.linspace(-2, 2, len(x)).astype(np.float16)
    r.backward(tg.tensor(g))  # g * 2**e rounded once (PyTorch's rounds 2**-25 to 0 first)
    with np.errstate(over="ignore"):  # (65504 * 2 and 2 * 2**20: inf, as the op gives)
        exact = (g.astype(np.float64) * np.ldexp(1.0, np.array(e))).astype(np.float16)
    np.testing.assert_array_equal(a.grad.numpy(), exact)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int8", "bool"])
def test_angle_of_a_real_tensor_as_pytorchs(dtype):
    import numpy as np

    import tinygrad_cnn as tg

    torch = _torch()
    values = {"bool": [True, False]}.get(dtype, [-3, 0, 2, -1, 5])
    if dtype.startswith("float"):
        values = [-3.0, -0.0, 0.0, 2.5, float("nan"), float("inf"), -float("inf")]
    t = tg.tensor(np.array(values, dtype=dtype))
    p = torch.from_numpy(np.array(values, dtype=dtype))
    r, q = tg.angle(t), torch.angle(p)
    assert str(r.dtype) == str(q.dtype).replace("torch.", "")
    np.testing.assert_array_equal(r.numpy(), q.numpy())
    np.testing.assert_array_equal(t.angle().numpy(), q.numpy())
    if dtype.startswith("float"):
        x = tg.tensor(np.array(values, dtype=dtype), requires_grad=True)
        x.angle().sum().backward()
        xt = torch.tensor(np.array(values, dtype=dtype), requires_grad=True)
        xt.angle().sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_the_step_through_reads_each_ops_formula_and_code_once(monkeypatch):
    """A 10,000-op chain took 57 s to animate: every frame read its op's source with inspect
    again (and dot's default ranking was quadratic in such a chain; see benchmarks/viz.py)."""
    import tinygrad_cnn as tg
    animate_module = importlib.import_module("tinygrad_cnn.viz.animate")

    read = []
    real = animate_module._backward_source
    monkeypatch.setattr(animate_module, "_backward_source", lambda fn: read.append(fn) or real(fn))
    x = tg.randn(3, requires_grad=True)
    y = x
    for _ in range(40):
        y = (y * 1.01).tanh()
    anim = tg.viz.animate(y.sum())
    assert len(anim) == 81 and sorted(f.name for f in read) == ["mul", "sum", "tanh"]
    tanh = [f for f in anim.frames if f["op"] == "tanh"]
    assert all(f["code"] == tanh[0]["code"] and "def backward" in f["code"] for f in tanh)


@pytest.mark.skipif(os.name != "posix", reason="signals")
@pytest.mark.parametrize("signame, status, word", [("SIGTERM", 143, "terminated"),
                                                   ("SIGHUP", 129, "terminated"),
                                                   ("SIGINT", 130, "interrupted")])
def test_a_signal_while_the_package_imports_is_one_line_and_its_status(signame, status, word):
    """Found by an outside tester: a SIGTERM in the first half second of `python -m
    tinygrad_cnn` (while numpy imports) ended the process without a word; Ctrl-C said
    'interrupted'."""
    import subprocess
    import sys

    code = ("import os, signal, time; from tinygrad_cnn import _start; _start.quiet_interrupts(); "
            f"os.kill(os.getpid(), signal.{signame}); time.sleep(10)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == status and r.stderr.strip() == word, (r.returncode, r.stderr)
    # handed back before main: main's own handlers (SIGTERM's is _terminated) take over
    code = ("import signal, tinygrad_cnn._start as s; s.quiet_interrupts(); "
            "s.restore_interrupts(); "
            f"assert signal.getsignal(signal.{signame}) in (signal.SIG_DFL, "
            "signal.default_int_handler)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
    # an ignored one (nohup, `cmd &`) stays ignored
    code = (f"import signal; signal.signal(signal.{signame}, signal.SIG_IGN); "
            "import tinygrad_cnn._start as s; s.quiet_interrupts(); "
            f"assert signal.getsignal(signal.{signame}) is signal.SIG_IGN")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


# --------------------------------------------------------------- gradcheck: a pass that rested
# on float32's widened tolerances or on the rounding allowed, measured again (outside tester t67)

def _check(f, x, **kw):
    import warnings

    from tinygrad_cnn import gradcheck

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        verdict = gradcheck(f, x, raise_exception=False, **kw)
    return verdict, [str(w.message) for w in seen if "gradcheck" in str(w.message)]


def _function(forward, vjp):
    """A user Function of one input: ``forward(x)`` on its array, ``vjp(x, g)`` on tensors
    (``x`` saved) -- the right or the deliberately wrong VJP under test."""
    from tinygrad_cnn import Function

    class Op(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return forward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return vjp(x, g)

    return Op


def _scaled_function(forward_factor, backward_factor):
    return _function(lambda x: x * forward_factor, lambda x, g: g * backward_factor)


@pytest.mark.parametrize("options", [{}, {"atol": 0, "rtol": 0}, {"fast_mode": True}])
def test_a_wrong_vjp_of_a_small_slope_in_float32_fails(options):
    """x * 3e-4 in float32 with a VJP of 6e-4 passed under the atol widened to 7e-4 for float32
    (even with atol=0, which the warning then told the user to pass)."""
    import numpy as np

    from tinygrad_cnn import Tensor

    x = Tensor(np.array([0.5, 0.7]), requires_grad=True)
    wrong = _scaled_function(3e-4, 6e-4)
    verdict, said = _check(lambda x: wrong.apply(x.float()).double(), x, **options)
    assert verdict is False, said
    right = _scaled_function(3e-4, 3e-4)
    assert _check(lambda x: right.apply(x.float()).double(), x, **options) == (True, [])


def test_a_wrong_vjp_of_a_mean_in_float32_fails_in_fast_mode_on_a_big_input():
    import numpy as np

    from tinygrad_cnn import Tensor

    def mean_square(factor):
        return _function(lambda x: np.array((x * x).mean()),
                         lambda x, g: g * factor * x / x.numel())

    x = Tensor(np.random.default_rng(0).standard_normal(2000), requires_grad=True)
    for seed in range(3):
        verdict, said = _check(lambda x: mean_square(4).apply(x.float()).double(), x,
                               fast_mode=True, seed=seed)
        assert verdict is False, (seed, said)
        assert _check(lambda x: mean_square(2).apply(x.float()).double(), x, fast_mode=True,
                      seed=seed) == (True, [])


@pytest.mark.parametrize("atol", [1e-5, 0.0])
def test_a_wrong_small_entry_beside_large_outputs_fails(atol):
    """1e5 + x * [1e3, 1e-4] with a VJP 3x off in the small slope passed: the rounding allowed
    for outputs of 1e5 (16 ulps over the step) covered it; a bigger step measures it."""
    import numpy as np

    from tinygrad_cnn import Tensor

    slopes = np.array([1e3, 1e-4])

    def affine(factors):
        return _function(lambda x: 1e5 + x * slopes, lambda x, g: g * Tensor(slopes * factors))

    x = Tensor(np.array([0.5, 0.7]), requires_grad=True)
    verdict, said = _check(affine(np.array([1.0, 3.0])).apply, x, atol=atol)
    assert verdict is False, said
    assert _check(affine(np.array([1.0, 1.0])).apply, x, atol=atol) == (True, [])


def test_right_float32_functions_still_pass_quietly_where_a_bigger_step_cannot_help():
    """x³ at 0 (the central difference at the widened step is h², the VJP 0), tanh and exp in
    float32: right, and said so without a warning (x³ at 0 warned 'passed by atol alone')."""
    import numpy as np

    from tinygrad_cnn import Tensor

    at = Tensor(np.array([0.0, 1e-3, 0.3]), requires_grad=True)
    assert _check(lambda x: (x.float() ** 3).double(), at) == (True, [])
    grid = Tensor(np.linspace(-2, 2, 7), requires_grad=True)
    assert _check(lambda x: (x.float() * 3).tanh().double(), grid) == (True, [])
    assert _check(lambda x: (x.float() * 5).exp().double(), grid) == (True, [])
    big = Tensor(np.random.default_rng(1).standard_normal(2000), requires_grad=True)
    assert _check(lambda x: (x.float() ** 2).mean().double(), big, fast_mode=True) == (True, [])


@pytest.mark.parametrize("write", ["zero_", "mul_", "copy_", "slice_copy_"])
def test_an_in_place_write_through_a_reshape_of_a_transposed_column_major_base(write):
    """Found by an outside tester: h = x.t().clone() is column-major, h.t().reshape(-1) a view
    of it; a write through that view was recorded, but its VJP zeroed the region in a C-ordered
    copy of the gradient, where the same reshape is a copy: the overwritten elements kept
    passing their gradient back (x.grad all 1 after zero_, torch's all 0)."""
    import numpy as np

    import tinygrad_cnn as tg

    torch = _torch()
    grads = []
    for lib in (tg, torch):
        x = lib.tensor([[1.0, 2, 3], [4, 5, 6]], requires_grad=True)
        y = lib.tensor([7.0, 8, 9, 10, 11, 12], requires_grad=True)
        h = x.t().clone()
        v = h.t().reshape(-1)
        if write == "zero_":
            v.zero_()
        elif write == "mul_":
            v.mul_(2)
        elif write == "copy_":
            v.copy_(y * 1)
        else:
            v[1:4].copy_(y[:3])
        (h * h).sum().backward()
        grads.append([x.grad.numpy().copy(), None if y.grad is None else y.grad.numpy().copy()])
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    assert (grads[0][1] is None) == (grads[1][1] is None)
    if grads[1][1] is not None:
        np.testing.assert_array_equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("shape, dim", [((0, 3), 1), ((3, 0), 1), ((0,), 0), ((2, 0, 3), None),
                                        ((2, 0, 3), 1)])
def test_prod_of_an_empty_tensor_has_a_recorded_gradient(shape, dim):
    """Found by the fuzzer once its draws moved: a recorded (create_graph) VJP of prod over an
    empty dim padded the empty products with a 1 and failed to reshape."""
    import tinygrad_cnn as tg

    x = tg.zeros(shape, dtype=tg.float64, requires_grad=True)
    y = x.prod() if dim is None else x.prod(dim)
    (g,) = tg.autograd.grad(y.sum(), x, create_graph=True)
    assert g.shape == shape and g.requires_grad


@pytest.mark.parametrize("op", ["layer_norm", "group_norm", "instance_norm", "batch_norm"])
def test_a_normalisation_whose_variance_overflows_float32_is_right(op):
    """Found by an outside tester: the variance of [1e20, -1e20, 3e20] overflowed float32, and
    layer_norm and group_norm gave 0 with zero gradients (PyTorch: NaN). The reference: the same
    values scaled down by 1e20, where nothing overflows (normalisation does not see the scale)."""
    import numpy as np

    import tinygrad_cnn as tg
    import tinygrad_cnn.nn.functional as F

    def run(x):
        if op == "layer_norm":
            return F.layer_norm(x, (3,))
        if op == "group_norm":
            return F.group_norm(x.reshape(1, 3, 1), 1).reshape(1, 3)
        if op == "instance_norm":
            return F.instance_norm(x.reshape(1, 1, 3)).reshape(1, 3)
        return F.batch_norm(x.reshape(3, 1), None, None, training=True).reshape(1, 3)

    values = np.array([[1.0, -1.0, 3.0]])
    big = tg.tensor((values * 1e20).astype(np.float32), requires_grad=True)
    small = tg.tensor(values.astype(np.float32), requires_grad=True)
    weights = tg.tensor([[1.0, 2.0, 3.0]])
    y_big, y_small = run(big), run(small)
    # (eps = 1e-5 counts beside the small variance only: 2e-6 apart)
    np.testing.assert_allclose(y_big.numpy(), y_small.numpy(), rtol=1e-5, atol=1e-6)
    (y_big * weights).sum().backward()
    (y_small * weights).sum().backward()
    np.testing.assert_allclose(big.grad.numpy() * 1e20, small.grad.numpy(), rtol=2e-5, atol=1e-6)
    # past float64's range: NaN, not a silent 0
    huge = run(tg.tensor(values * 1e200))
    assert np.isnan(huge.numpy()).all()


def test_rms_norm_whose_squares_overflow_is_right_and_tiny_inputs_keep_their_value():
    """Found by an outside tester: rms_norm of float32 [1e38, 2e38, -1e38, 3e38] gave 0 (as
    PyTorch's); the same values scaled down by 1e38 are the reference."""
    import numpy as np

    import tinygrad_cnn as tg
    import tinygrad_cnn.nn.functional as F

    values = np.array([[1.0, 2.0, -1.0, 3.0]])
    big = tg.tensor((values * 1e38).astype(np.float32), requires_grad=True)
    small = tg.tensor(values, requires_grad=True)  # float64: eps of float32 scaled by 1e-76
    weights = tg.tensor([[1.0, 2.0, 3.0, 4.0]])
    y_big = F.rms_norm(big, (4,))
    y_small = F.rms_norm(small, (4,), eps=float(np.finfo(np.float32).eps) * 1e-76)
    np.testing.assert_allclose(y_big.numpy(), y_small.numpy(), rtol=1e-6)
    (y_big * weights).sum().backward()
    (y_small * weights.double()).sum().backward()
    np.testing.assert_allclose(big.grad.numpy() * 1e38, small.grad.numpy(), rtol=1e-5)
    torch = _torch()  # and where nothing overflows, PyTorch's value (eps counts there)
    tiny = np.array([[1e-30, 2e-30]], np.float32)
    np.testing.assert_allclose(F.rms_norm(tg.tensor(tiny), (2,)).numpy(),
                               torch.nn.functional.rms_norm(torch.tensor(tiny), (2,)).numpy(),
                               rtol=1e-6)


def test_a_loaded_parameter_prints_as_a_fresh_one():
    """Found by an outside tester: after load_state_dict (whose state_dict labels the parameters
    with their module paths, for the drawings) repr showed name='weight'; PyTorch prints none."""
    from tinygrad_cnn import nn

    layer = nn.Linear(2, 2)
    before = repr(layer.weight)
    layer.load_state_dict(layer.state_dict())
    assert repr(layer.weight) == before and "name=" not in before
    assert layer.weight.name == "weight"  # (the drawings' label stays)
    named = nn.Linear(2, 2)
    named.weight.name = "mine"  # a name the user gave is shown
    assert "name='mine'" in repr(named.weight)
    layer.weight.name = "later"  # also one given after the drawings' label (outside tester)
    list(layer.named_parameters())
    assert "name='later'" in repr(layer.weight) and layer.weight.name == "later"


@pytest.mark.parametrize("write", ["fill_", "zero_", "setitem", "slice_fill_", "setitem_part",
                                   "setitem_0d_tensor", "fill_0d_tensor"])
def test_one_value_written_into_overlapping_unfold_windows_while_recording(write):
    """Found by an outside tester: fill_, zero_ and u[...] = v on an unfold whose windows overlap
    were refused as read-only while recording (done without); PyTorch writes them."""
    import numpy as np

    import tinygrad_cnn as tg

    torch = _torch()
    out = []
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2, 3, 4, 5, 6, 7], requires_grad=True)
        h = x * 1
        u = h.unfold(0, 3, 2)
        if write == "fill_":
            u.fill_(0.5)
        elif write == "zero_":
            u.zero_()
        elif write == "setitem":
            u[...] = 2.0
        elif write == "slice_fill_":
            u[1:].fill_(3.0)
        elif write == "setitem_0d_tensor":  # (found by an outside tester: refused)
            u[0:2] = lib.tensor(7.0)
        elif write == "fill_0d_tensor":
            u.fill_(lib.tensor(5.0))
        else:
            u[1:, 0] = 7
        (h * h * lib.arange(7.0)).sum().backward()
        out.append((h.detach().numpy().copy(), x.grad.numpy().copy()))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


# ------------------------------------ gradcheck of functions that compute in float32 inside:
# the widened eps (5e-3) is far from small (outside tester t70)

@pytest.mark.parametrize("case", ["sin50", "relu_near_kink", "abs_near_kink", "minus_mean_1e3"])
def test_right_vjps_computed_in_float32_inside_pass(case):
    """sin(50x)'s truncation at eps = 5e-3 (1%) failed its right VJP 'at a kink'; relu and abs
    1e-4 from their kink, which the step crosses, failed as 'outside the slopes'; x - x.mean()
    at 1e3, whose float32 rounding is at the inputs' scale, as 'leaves the graph'."""
    import numpy as np

    from tinygrad_cnn import Tensor

    f, at = {
        "sin50": (lambda x: (50 * x.float()).sin().double(), [0.3, -0.7]),
        "relu_near_kink": (lambda x: x.float().relu().double(), [1e-4, -1e-4, 0.5]),
        "abs_near_kink": (lambda x: x.float().abs().double(), [1e-3, -1e-3, 0.5]),
        "minus_mean_1e3": (lambda x: (x.float() - x.float().mean()).double(),
                           [1000.1, 1000.7, 999.2]),
    }[case]
    verdict, said = _check(f, Tensor(np.array(at), requires_grad=True))
    assert verdict is True and not said, said


@pytest.mark.parametrize("case", ["sin50_1pct_low", "relu_1pct_high_near_kink"])
def test_vjps_one_percent_off_computed_in_float32_inside_fail(case):
    """A sin(50x) VJP 1% low passed: the widened eps's truncation moved the central difference
    by the same 1% (now extrapolated from eps and 2 eps)."""
    import numpy as np

    from tinygrad_cnn import Tensor

    sin50 = _function(lambda x: np.sin(50 * x), lambda x, g: g * 50 * (50 * x).cos() * 0.99)
    relu = _function(lambda x: np.maximum(x, 0), lambda x, g: g * (x > 0) * 1.01)

    fn, at = {"sin50_1pct_low": (sin50, [0.3]),
              "relu_1pct_high_near_kink": (relu, [1e-4, -1e-4, 0.5])}[case]
    verdict, said = _check(lambda x: fn.apply(x.float()).double(),
                           Tensor(np.array(at), requires_grad=True))
    assert verdict is False, said


def test_log_softmax_at_large_logits_with_atol_0_is_cannot_judge_not_a_wrong_vjp():
    """Found by an outside tester: with atol=0 (the README's advice for small derivatives) the
    right log_softmax at [0, 40] was 'the VJP of log_softmax is wrong' with an invented cause:
    its output -4e-18 is 40 - 40.000..., rounded at 40's grain over the step."""
    import numpy as np

    from tinygrad_cnn import GradcheckError, Tensor, gradcheck

    x = Tensor(np.array([0.0, 40.0]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: t.log_softmax(-1), x, atol=0)
    assert "cannot judge" in str(info.value) and "is wrong" not in str(info.value)
    assert gradcheck(lambda t: t.log_softmax(-1), x)  # (the default atol judges it)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_ldexp_with_an_exponent_past_the_dtypes_range_as_pytorchs(dtype):
    """Found by an outside tester: ldexp(0, 200) and ldexp(inf, -200) gave NaN (2**e alone is
    inf or 0, and 0 * inf NaN); PyTorch's 0 and inf."""
    import numpy as np

    import tinygrad_cnn as tg

    torch = _torch()
    x = [0.0, -0.0, float("inf"), -float("inf"), 1e-30, 3.0, 60000.0, 1.5, float("nan")]
    e = [200, 200, -200, -5000, 250, -1000, -25, 3, 7]
    ours = tg.ldexp(tg.tensor(np.array(x, dtype=dtype)), tg.tensor(e))
    theirs = torch.ldexp(torch.tensor(np.array(x, dtype=dtype)), torch.tensor(e))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert tg.ldexp(tg.tensor(np.array([0.0, 2.0], dtype=dtype)), 300).tolist() == \
        torch.ldexp(torch.tensor(np.array([0.0, 2.0], dtype=dtype)), torch.tensor(300)).tolist()


@pytest.mark.parametrize("seed, offset, n", [(0, 10, 1025), (0, 1000, 2000), (1, 100, 2000)])
def test_fast_mode_allows_float32_rounding_of_a_projection(seed, offset, n):
    """Found by an outside tester: x.float().double() over more than 1024 inputs of size 10 and
    more failed in fast mode ('the VJP of cast is wrong' or 'a kink'): a projection of float32
    values was allowed none of their rounding."""
    import numpy as np

    from tinygrad_cnn import Tensor

    x = Tensor(np.random.RandomState(seed).randn(n) + offset, requires_grad=True)
    assert _check(lambda x: x.float().double(), x, fast_mode=True) == (True, [])


@pytest.mark.parametrize("seed", [1, 2])
def test_fast_mode_of_a_float32_conv_passes_and_a_wrong_one_fails(seed):
    import numpy as np

    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import Tensor

    r = np.random.RandomState(seed)
    x = Tensor(r.randn(2, 1, 32, 32), requires_grad=True)
    w = Tensor(r.randn(4, 1, 3, 3), requires_grad=True)
    assert _check(lambda x, w: F.conv2d(x.float(), w.float(), padding=1).double(), (x, w),
                  fast_mode=True) == (True, [])

    off = _function(lambda y: y.copy(), lambda y, g: g * 1.03)  # a VJP 3% off behind the conv

    verdict, said = _check(lambda x, w: off.apply(F.conv2d(x.float(), w.float(), padding=1))
                           .double(), (x, w), fast_mode=True)
    assert verdict is False, said


@pytest.mark.parametrize("at", [1e4, 1e5, 1.3e6])
def test_a_wrong_vjp_where_float32_rounding_swamps_the_widened_step_fails(at):
    """Found by outside testers: x * x at 1e4..1e6 with a VJP 20% off, computed in float32 (by
    numpy, out of the graph's sight), passed silently -- the outputs' rounding over the widened
    step was allowed -- or with a warning that it was not seen; steps scaled to the element
    measure it."""
    import numpy as np

    from tinygrad_cnn import Tensor

    def square(factor):
        return _function(lambda x: (x * x).astype(np.float32).astype(np.float64),
                         lambda x, g: g * factor * x)

    x = Tensor(np.array([at, -0.7 * at]), requires_grad=True)
    verdict, said = _check(square(2.4).apply, x)
    assert verdict is False, said
    assert _check(square(2.0).apply, x) == (True, [])


def test_a_right_vjp_a_little_way_from_a_kink_in_float32_is_not_called_wrong():
    """clamp 2e-5 from its bound in float32: every step that float32's rounding allows crosses
    the bound, where a measurement is the mean of the two slopes -- 0.5 at every big step, and
    the right VJP 1 was called wrong. Whatever the verdict, not a wrong VJP."""
    import numpy as np

    from tinygrad_cnn import Tensor, gradcheck

    x = Tensor(np.array([1 - 2e-5, -1 + 3e-5, 0.3]), requires_grad=True)
    try:
        gradcheck(lambda x: x.float().clamp(-1, 1).double(), x)
    except Exception as exc:
        assert "is wrong" not in str(exc) and "Jacobian mismatch" not in str(exc), str(exc)


def test_a_constant_output_is_no_sign_of_float16_rounding():
    """Found by an outside tester: softmax(x).mean() is 1/4 everywhere, a float16 number, and
    the right function was refused as 'computes in float16'."""
    import numpy as np

    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import Tensor

    x = Tensor(np.random.default_rng(0).standard_normal(4), requires_grad=True)
    assert _check(lambda t: F.softmax(t, -1).mean(), x) == (True, [])


@pytest.mark.parametrize("seed", range(4))
def test_layer_norm_of_small_inputs_in_float32_is_not_a_kink(seed):
    """Found by an outside tester: layer_norm of inputs ~0.01 computed in float32 failed 'at a
    kink' -- the widened 5e-3 step measured its curvature; smaller steps that resolve it agree."""
    import numpy as np

    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import Tensor

    x = Tensor(np.random.RandomState(seed).randn(4) * 0.01, requires_grad=True)
    assert _check(lambda t: F.layer_norm(t.float(), (4,)).double(), x) == (True, [])


def test_a_zero_derivative_under_float32_cancellation_is_not_refuted():
    """(x - x.mean()).sum() in float32: its derivative 0 is measured as rounding, about 1e-4,
    the same at two bigger steps -- was refuted as a wrong VJP; now the measurements must agree
    with each other ten times better than they disagree with the VJP."""
    import numpy as np

    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import Tensor

    x = Tensor(np.random.RandomState(0).randn(2, 4), requires_grad=True)
    assert _check(lambda t: (t.float() - t.float().mean()).sum().double(), x)[0] is True
    for scale in (1, 10, 1000):
        x = Tensor(np.random.RandomState(1).randn(4) * scale, requires_grad=True)
        assert _check(lambda t: F.layer_norm(t.float(), (4,)).sum().double(), x)[0] is True


def test_sin_at_1e3_in_float32_cannot_be_judged():
    """float32 rounds 1234.5 to ulps of 1.2e-4: no step measures one slope of sin there (PyTorch's
    gradcheck fails it too); it is 'cannot judge', not a wrong VJP."""
    import numpy as np

    from tinygrad_cnn import GradcheckError, Tensor, gradcheck

    x = Tensor(np.array([1234.5, 987.6]), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: t.float().sin().double(), x)
    assert "cannot judge" in str(info.value), str(info.value)


def test_fast_mode_in_float32_catches_a_vjp_half_off_over_many_elements():
    """Found by an outside tester: a VJP 50% too large over 1,152 elements computed in float32
    passed fast mode: the projection was allowed the worst case of its rounding, sum |v| |f|,
    300 times what it rounds by; now a random walk's, with room."""
    import numpy as np

    import tinygrad_cnn as tg
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import Function, Tensor

    def f(t):
        return F.softmax(t.sigmoid().sigmoid(), -1).relu()

    def wrapped(factor):
        class Wrapped(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                with tg.no_grad():
                    return f(Tensor(x)).numpy()

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                with tg.enable_grad():
                    xx = x.detach().requires_grad_()
                    (gx,) = tg.autograd.grad(f(xx), xx, g)
                return gx * factor
        return Wrapped

    x = Tensor(np.random.RandomState(1005).randn(2, 4, 12, 12) * 0.2149, requires_grad=True)
    verdict, said = _check(lambda t: wrapped(1.5).apply(t.float()).double(), x, fast_mode=True)
    assert verdict is False, said
    assert _check(lambda t: wrapped(1.0).apply(t.float()).double(), x, fast_mode=True) == (True, [])


def test_rms_norm_of_a_row_with_inf_beside_one_that_overflows():
    """Found by an outside tester: with the overflow scaling, a row holding inf came out NaN in
    every element (x / inf); PyTorch's is 0 where x is finite. The other row is unchanged."""
    import numpy as np

    import tinygrad_cnn as tg
    import tinygrad_cnn.nn.functional as F

    torch = _torch()
    rows = np.array([[1.0, np.inf, 3.0, 0.5], [1.0, -np.inf, np.nan, 2.0]], np.float32)
    np.testing.assert_array_equal(F.rms_norm(tg.tensor(rows), (4,)).numpy(),
                                  torch.nn.functional.rms_norm(torch.tensor(rows), (4,)).numpy())
    mixed = np.array([[1.0, np.inf, 3.0, 0.5], [1e38, 2e38, -1e38, 3e38]], np.float32)
    y = F.rms_norm(tg.tensor(mixed), (4,)).numpy()
    np.testing.assert_array_equal(y[0], [0.0, np.nan, 0.0, 0.0])
    np.testing.assert_allclose(y[1], F.rms_norm(tg.tensor(mixed[1:] / 1e38), (4,)).numpy()[0],
                               rtol=1e-6)
