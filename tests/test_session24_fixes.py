"""Session 24: gradient checks of inputs that are no leaves, and of functions that round to float32
inside where their outputs do not show it. Oracles: the VJPs' known right values (a correct twin
passes, a broken one fails with the right op named)."""

import numpy as np
import pytest

from tinygrad_cnn import Tensor
from tinygrad_cnn.autograd import Function
from tinygrad_cnn.gradcheck import check_grads


class BadScale(Function):
    """x -> 3x with a VJP of 2g: wrong by a factor of 2/3."""

    @staticmethod
    def forward(ctx, x):
        return x * 3

    @staticmethod
    def backward(ctx, g):
        return g * 2


def _through_bad_scale(x):
    return BadScale.apply(x.sin()).sum()


def _points():
    rng = np.random.default_rng(0)
    leaf = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    return {
        "leaf": leaf,
        "double": Tensor(rng.standard_normal((3, 4)).astype(np.float32),
                         requires_grad=True).double(),
        "slice": leaf[1:],
        "reshape": Tensor(rng.standard_normal(12), requires_grad=True).reshape(3, 4),
    }


@pytest.mark.parametrize("kind", ["leaf", "double", "slice", "reshape"])
def test_culprit_found_for_an_input_that_is_no_leaf(kind):
    """An input made by an op before the call (x.double(), x[1:]) is itself a node of the graph:
    the op-by-op replay still treats it as the checked input, names the wrong op and keeps the
    likely cause (it said '0 checked' and dropped both)."""
    r = check_grads(_through_bad_scale, (_points()[kind],))
    assert not r.ok and r.kind == "wrong_vjp"
    text = str(r)
    assert "the VJP of `bad_scale` is wrong" in text
    assert "The culprit: `bad_scale`" in text
    assert "constant factor" in text and "2/3" in text
    assert "0 checked" not in text


def test_input_that_is_no_leaf_made_from_another_checked_input():
    """Inputs (x, x * 2): the second is computed from the first, so no finite difference can
    check them apart -- refused, saying so (PyTorch's check fails with a plain mismatch)."""
    x = Tensor(np.linspace(-1, 1, 6), requires_grad=True)
    with pytest.raises(ValueError, match="input 1 is computed from input 0"):
        check_grads(lambda a, b: BadScale.apply(a * b).sum(), (x, x * 2))


def test_correct_function_of_inputs_that_are_no_leaves_passes():
    pts = _points()
    for kind in ("double", "slice", "reshape"):
        assert check_grads(lambda t: (t.sin() * 3).sum(), (pts[kind],)).ok


# ---------------------------------------------------------------- float32 inside, out of sight
def _exp32(factor, vjp_factor):
    class Exp32(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.exp(x.astype(np.float32)).astype(x.dtype) * factor

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.exp() * vjp_factor
    return Exp32


def _square32(term):
    class Square32(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (x.astype(np.float32) ** 2).astype(x.dtype) + 0.1 * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (2 * x + term)
    return Square32


def _x(dtype):
    rng = np.random.default_rng(0)
    return Tensor(rng.standard_normal((3, 4)) * 3, dtype=dtype, requires_grad=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fn", [_exp32(1.1, 1.1), _square32(0.1)],
                         ids=["exp32_times_1.1", "square32_plus_x"])
def test_hidden_float32_forward_right_vjp_passes(fn, dtype):
    """A Function whose forward computes in float32 and then does float64 arithmetic (its outputs
    are no float32 numbers, so nothing shows the rounding): its differences at eps=1e-6 measure
    rounding (numerical 0 beside 55). The check measures how the values round, widens the step,
    says so, and passes the right VJP."""
    r = check_grads(fn.apply, (_x(dtype),))
    assert r.ok, str(r)
    assert any("round to about" in n for n in r.notes), r.notes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fn, cause", [(_exp32(1.1, 1.1 * 1.003), "1.00"),
                                        (_square32(0.0), None),
                                        (_exp32(1.0, 1.003), "1.00")],
                         ids=["exp32_vjp_0.3%_off", "square32_drops_term", "exp32_plain_0.3%"])
def test_hidden_float32_forward_wrong_vjp_fails(fn, cause, dtype):
    """The wrong twins still fail as wrong VJPs -- a 0.3% error too, which at the wide step of
    float32 was read as a kink (the one-sided slopes of exp differ by f'' eps = 0.5% there)."""
    r = check_grads(fn.apply, (_x(dtype),))
    assert not r.ok and r.kind == "wrong_vjp", str(r)
    if cause:  # (1.003, or 1.00299 where the differences round)
        assert f"analytical = {cause}" in str(r.cause) and "constant factor" in str(r.cause)


def test_kink_in_low_precision_still_a_kink():
    """The curvature correction keeps a real kink: relu at 0 computed in float32."""
    x = Tensor(np.array([-1.0, 0.0, 0.5, 2.0]), requires_grad=True)
    r = check_grads(lambda t: t.float().relu().double() * 1.5, (x,))
    assert not r.ok and r.kind == "not_differentiable", str(r)


def test_gradgradcheck_keeps_the_first_order_atol_warning():
    """A doubled VJP at x ~ 1e-4 passes the first-order check by atol alone; gradgradcheck, which
    runs that check first, now warns as gradcheck does (it passed silently)."""
    import warnings

    from tinygrad_cnn.gradcheck import gradcheck, gradgradcheck

    class DoubledCube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 6 * x * x

    x = Tensor(np.array([1e-4, 2e-4]), requires_grad=True)
    with pytest.warns(UserWarning, match="gradcheck: it passed by atol alone"):
        assert gradcheck(DoubledCube.apply, (x,))
    with pytest.warns(UserWarning, match="gradgradcheck: its first-order check passed by atol "
                                         "alone"):
        assert gradgradcheck(DoubledCube.apply, (x,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (at order-1 inputs: no warning, and it fails)
        y = Tensor(np.array([1.0, 2.0]), requires_grad=True)
        assert not gradgradcheck(DoubledCube.apply, (y,), raise_exception=False)


def test_a_vjp_that_gives_nan_where_the_derivative_is_finite_is_named_so():
    """(was: 'the VJP does not scale with the incoming gradient', read from NaN * 2 != 2 * NaN)"""
    class NanAtZero(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sqrt(x * x + 1)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x / (x * x + 1).sqrt() * (x / x)  # 0/0 at x = 0

    class Right(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sqrt(x * x + 1)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x / (x * x + 1).sqrt()

    x = Tensor(np.array([0.0, 1.0, -2.0]), requires_grad=True)
    r = check_grads(NanAtZero.apply, (x,))
    assert not r.ok and r.kind == "wrong_vjp"
    assert r.cause.startswith("the VJP gives NaN where the derivative is finite (numerical 0)")
    assert "does not scale" not in str(r)
    assert check_grads(Right.apply, (x,)).ok


# ------------------------------------------------------------------ an unreadable MNIST file
def test_unreadable_mnist_file_is_named_with_the_way_out(tmp_path):
    """(was: 'error: [Errno 13] Permission denied: ...' with nothing to do about it) -- with
    the kernel's own permission checks (root's override dropped)."""
    import shutil

    from test_session23_fixes import _AS_A_USER, _as_a_user

    if _AS_A_USER.args[0]:
        pytest.skip(_AS_A_USER.kwargs["reason"])
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    data = tmp_path / "mnist"
    shutil.copytree(root / "data" / "mnist", data)
    (data / "train-images-idx3-ubyte.gz").chmod(0)
    script = ("import runpy, sys\n"
              f"sys.argv = ['tinygrad_cnn', 'train', '--data-dir', {str(data)!r}, '--epochs', "
              f"'1', '--limit', '64', '--out', {str(tmp_path / 'ck.npz')!r}]\n"
              "runpy.run_module('tinygrad_cnn', run_name='__main__')\n")
    done = _as_a_user(script)
    assert done.returncode != 0
    assert "cannot read the MNIST file" in done.stderr and "chmod a+r" in done.stderr
    assert "Errno" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "ck.npz").exists()
    # and read_idx by itself
    script = ("from tinygrad_cnn.data.idx import read_idx\n"
              f"try:\n    read_idx({str(data / 'train-images-idx3-ubyte.gz')!r})\n"
              "except PermissionError as e:\n    print(e)\n")
    done = _as_a_user(script)
    assert "cannot read the IDX file" in done.stdout and "chmod a+r" in done.stdout


# ------------------------------------------------------------------ a full disk loses nothing
def test_a_checkpoint_that_cannot_be_written_is_rescued_elsewhere(tmp_path, monkeypatch, capsys):
    """(was: 'could not save ... No space left on device' and the epoch's work lost) The
    command line saves the epoch to the user's cache (here $XDG_CACHE_HOME) instead, says where
    and how to continue; the earlier checkpoint stays as it was."""
    import errno
    import os

    import tinygrad_cnn as tg
    from tinygrad_cnn import cli, serialization

    real_save = serialization._save
    full = tmp_path / "full"
    full.mkdir()

    def save(obj, path, **options):
        if str(path).startswith(str(full)) and obj["epoch"] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_save(obj, path, **options)

    monkeypatch.setattr(serialization, "_save", save)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    data = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "mnist"
    ck = full / "ck.npz"
    code = cli.main(["train", "--epochs", "2", "--limit", "64", "--data-dir", str(data),
                     "--out", str(ck)])
    err = capsys.readouterr().err
    rescued = tmp_path / "cache" / "tinygrad_cnn" / "rescue" / "ck.epoch2.npz"
    assert code == 1
    assert f"could not save the checkpoint of epoch 2 to {ck}: No space left on device" in err
    assert f"was saved to {rescued} instead; continue from it with" in err
    assert f"train --resume {rescued}" in err and "mv " not in err
    assert tg.load(ck)["epoch"] == 1  # (the earlier epoch, untouched)
    back = tg.load(rescued)
    assert back["epoch"] == 2 and back["config"]["out"] == str(ck)


def test_gradients_returned_in_swapped_order_are_named_so():
    class Swapped(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * np.sin(b)

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * a * b.cos(), g * b.sin()  # (b's gradient first)

    class Right(Swapped):
        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b.sin(), g * a * b.cos()

    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    for fn in (Swapped.apply, lambda x, y: (Swapped.apply(x, y) * 2).sum()):
        r = check_grads(fn, (a, b))
        assert not r.ok and r.cause.startswith(
            "the VJP returns the gradients of input 0 and input 1 in swapped order"), r.cause
    assert check_grads(Right.apply, (a, b)).ok
    # (different shapes cannot be swapped: no such cause)
    c = Tensor(rng.standard_normal((3, 1)), requires_grad=True)
    r = check_grads(lambda x, y: x * y, (a, c))
    assert r.ok


def test_in_place_ops_record_no_clone_node_and_keep_pytorchs_gradients():
    """(issue 17: the text and drawings showed a `clone` line before every in-place op) The
    value before the write is kept at the tensor's own node; gradients, retained gradients and
    hooks are PyTorch's."""
    torch = pytest.importorskip("torch")
    import tinygrad_cnn as tg
    from tinygrad_cnn import viz

    def run(lib):
        x = lib.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
        h = x * 2
        h.retain_grad()
        seen = []
        h.register_hook(lambda g: seen.append(g.tolist()))
        h.mul_(3)
        h[0:2].add_(1)
        h.relu_()
        loss = (h * h).sum()
        loss.backward()
        return loss, x.grad.tolist(), h.grad.tolist(), seen

    loss, *ours = run(tg)
    _, *theirs = run(torch)
    assert ours == theirs
    text = viz.text(loss)
    assert "clone" not in text
    assert [line.split()[1].split("(")[0] for line in text.splitlines()[3:]] == \
        ["mul", "mul", "getitem", "add", "copy_slices", "relu", "mul", "sum"]


def test_names_that_print_alike_get_distinct_names_in_the_text():
    """(issue 17: 'é' composed and decomposed read as one tensor twice: mul(é, é))"""
    import unicodedata

    import tinygrad_cnn as tg
    from tinygrad_cnn import viz

    names = [unicodedata.normalize("NFC", "é"), unicodedata.normalize("NFD", "é"), "ﬁ", "fi",
             "ａ", "a"]
    ts = [tg.Tensor(np.ones(2), requires_grad=True, name=n) for n in names]
    loss = (ts[0] * ts[1] + ts[2] * ts[3] + ts[4] * ts[5]).sum()
    text = viz.text(loss)
    rows = [line.split()[0] for line in text.splitlines() if line.endswith("leaf  (2,)   float64")
            or " leaf " in line]
    shown = [unicodedata.normalize("NFKC", r) for r in rows]
    assert len(shown) == 6 and len(set(shown)) == 6, rows


def test_a_forward_that_rounds_to_float16_inside_is_refused_not_read_as_kinks():
    """(tester: sin in float16 inside a Function's forward was called a kink at every element,
    with a note saying float32) -- refused as a function computing in float16, as the README
    says; float32 inside still checked."""
    class Half(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x.astype(np.float16)).astype(x.dtype)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos()

    class Single(Half):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x.astype(np.float32)).astype(x.dtype)

    x = Tensor(np.random.default_rng(1).standard_normal(6), requires_grad=True)
    with pytest.raises(ValueError, match="computes in float16"):
        check_grads(Half.apply, (x,))
    r = check_grads(Single.apply, (x,))
    assert r.ok and any("all float32 values" in n for n in r.notes), r.notes


# ------------------------------------------------------------------ tester 01, F2 to F4
def test_taylor_wrong_vjp_along_a_small_slope_is_not_called_a_jump():
    class S(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(1e4 * x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (1e4 * x).cos() * 1e4 * 1.003

    x = Tensor(np.array([0.55145404, 2.29220801, 0.04153939, -1.11792545, 0.53905832]),
               requires_grad=True)
    r = check_grads(S.apply, (x,), method="taylor")
    assert not r.ok and r.kind == "wrong_vjp", str(r)
    assert "1.003" in str(r.cause)


def test_an_op_wrong_under_rtol_that_a_cancelling_composite_exposes_is_named():
    class BadExp(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.exp(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.exp() * 1.0005  # 0.05% wrong: under rtol=1e-3 by itself

    x = Tensor(np.random.default_rng(5).standard_normal(4), requires_grad=True)
    assert check_grads(BadExp.apply, (x,)).ok  # (as PyTorch's: within rtol)
    r = check_grads(lambda t: BadExp.apply(t) - t.exp(), (x,))
    assert not r.ok and r.node is not None and r.node.name == "bad_exp"
    assert str(r).startswith("the VJP of `bad_exp` is slightly wrong -- off by 0.0005")
    assert "No op of the graph fails" not in str(r)
    # a right twin: the composite passes (it is 0 with gradient 0)
    assert check_grads(lambda t: t.exp() * 1.0 - t.exp(), (x,)).ok


def test_checked_inputs_that_share_memory_are_refused_clearly():
    b = Tensor(np.random.default_rng(4).standard_normal(5), requires_grad=True)
    with pytest.raises(ValueError, match="inputs 0 and 1 share memory"):
        check_grads(lambda a, v: (a * a).sum() + (v ** 3).sum(), (b, b[1:]))
    # one tensor passed twice is fine (both sides sum the two paths)
    assert check_grads(lambda a, c: (a * c.sin()).sum(), (b, b)).ok
    with pytest.raises(ValueError, match="input 1 is computed from input 0"):
        check_grads(lambda a, v: (a * a).sum() + (v ** 3).sum(), (b, b[1:].clone()))
    leaf = b[1:].detach().clone().requires_grad_()
    assert check_grads(lambda a, v: (a * a).sum() + (v ** 3).sum(), (b, leaf)).ok


@pytest.mark.parametrize("value", [0.0, 0.5, 0.9, 1.55, -0.1, -2.0])
def test_hidden_float32_forward_of_one_element_passes(value):
    """(tester 01 F5: a 1-element input failed at 22 of 81 points, 'numerical 0': the rounding
    probe moved its one element along a random normal direction, sometimes by less than its
    float32 grain)"""
    fn = _exp32(1.1, 1.1)
    assert check_grads(fn.apply, (Tensor(np.array([value]), requires_grad=True),)).ok
    assert check_grads(fn.apply, (Tensor(np.array(value), requires_grad=True),)).ok
    wrong = _exp32(1.1, 1.1 * 1.01)
    assert not check_grads(wrong.apply, (Tensor(np.array([value]), requires_grad=True),)).ok


def test_float32_model_with_batchnorm_is_checked_on_float64_copies():
    """(tester 01 F6, a false pass: BatchNorm's float32 running statistics kept the float64 run
    from working, and the float32 fallback's tolerances passed a 10% wrong VJP) -- the modules
    the function reaches are converted too; the statistics are as before the check."""
    import tinygrad_cnn as tg
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import nn

    def swish(factor):
        class Swish(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x / (1 + np.exp(-x))

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                s = x.sigmoid()
                return g * (s + x * s * (1 - s)) * factor
        return Swish

    tg.manual_seed(0)
    conv, bn, lin = nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Linear(4 * 6 * 6, 3)
    x = Tensor(np.random.default_rng(10).standard_normal((2, 1, 8, 8)).astype(np.float32),
               requires_grad=True)
    stats = bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    for factor, ok in ((1.1, False), (1.01, False), (1.0, True)):
        sw = swish(factor)

        def f(t, sw=sw):
            return F.cross_entropy(lin(sw.apply(bn(conv(t))).flatten(1)), np.array([0, 2]))

        for fast in (True, False):
            r = check_grads(f, (x,), fast_mode=fast)
            assert r.ok == ok, (factor, fast, str(r)[:300])
            assert any("checked on float64 copies" in n for n in r.notes), r.notes
            if not ok:
                assert r.node is not None and r.node.name == "swish"
    assert bn.running_mean.dtype == np.float32 and conv.weight.dtype == np.float32
    np.testing.assert_array_equal(bn.running_mean.numpy(), stats[0])
    np.testing.assert_array_equal(bn.running_var.numpy(), stats[1])


# ------------------------------------------------------------------ tester 05, tester 04 F7
def test_load_from_a_stream_reads_the_checkpoint_at_its_position():
    """(was: the last of two checkpoints written one after another, and the stream at its end)"""
    import io

    import tinygrad_cnn as tg

    b = io.BytesIO()
    tg.save({"a": 1}, b)
    first = b.tell()
    tg.save({"b": 2}, b)
    tg.save([tg.ones(50, 50)], b)
    b.write(b"trailing bytes")
    b.seek(0)
    assert tg.load(b) == {"a": 1} and b.tell() == first
    assert tg.load(b) == {"b": 2}
    assert tg.load(b)[0].shape == (50, 50)
    assert b.read() == b"trailing bytes"


def test_save_to_a_stream_that_takes_part_of_it_says_so():
    """(was: 64 KiB of 640 KiB written to a non-blocking pipe, and success)"""
    import os

    import tinygrad_cnn as tg

    r, w = os.pipe()
    try:
        os.set_blocking(w, False)
        with os.fdopen(w, "wb", buffering=0) as f, \
                pytest.raises(BlockingIOError, match="took .* bytes and then no more"):
            tg.save([tg.ones(400, 400)], f)
    finally:
        os.close(r)

    class Dribble:  # a stream that takes 100 bytes per write: all of it goes in
        def __init__(self):
            self.data = b""

        def write(self, b):
            self.data += bytes(b[:100])
            return min(100, len(b))

    d = Dribble()
    tg.save({"w": tg.ones(30)}, d)
    import io
    assert tg.load(io.BytesIO(d.data))["w"].tolist() == [1.0] * 30


def test_the_command_lines_saves_never_overwrite_in_place(tmp_path):
    """(tester 05 F4: a folder made read-only between epochs made the save an in-place copy, and
    a SIGKILL during it corrupted the only checkpoint) -- with keep_links=False the save is a
    rename or an error (the command line then rescues the epoch elsewhere)."""
    from test_session23_fixes import _AS_A_USER, _as_a_user

    if _AS_A_USER.args[0]:
        pytest.skip(_AS_A_USER.kwargs["reason"])
    import tinygrad_cnn as tg

    folder = tmp_path / "ro"
    folder.mkdir()
    tg.save({"epoch": 1}, folder / "ck.npz")
    before = (folder / "ck.npz").read_bytes()
    folder.chmod(0o555)
    script = ("from tinygrad_cnn.serialization import _save\n"
              "try:\n"
              f"    _save({{'epoch': 2}}, {str(folder / 'ck.npz')!r}, keep_links=False)\n"
              "except PermissionError as e:\n"
              "    print('refused:', e)\n")
    try:
        done = _as_a_user(script)
    finally:
        folder.chmod(0o755)
    assert "refused:" in done.stdout, done.stdout + done.stderr
    assert (folder / "ck.npz").read_bytes() == before


def test_clone_of_an_expanded_tensor_is_row_major_as_pytorchs():
    """(tester 04 F7, silent: expand().clone() kept a transposed layout, so reshape(-1) was a
    copy and a write through it was lost)"""
    torch = pytest.importorskip("torch")
    import tinygrad_cnn as tg

    def run(lib):
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        c = x.expand(2, 2).clone()
        c.reshape(-1)[0:2].zero_()
        (c * c).sum().backward()
        return c.tolist(), x.grad.tolist(), tuple(c.stride())

    assert run(tg) == run(torch)
    for lib in (tg, torch):
        a = lib.tensor(np.arange(24.0).reshape(2, 3, 4))
        assert a.permute(2, 0, 1).clone().stride() == (1, 12, 4)  # (a dense layout is kept)
        assert a[:, ::2].clone().stride() == (8, 4, 1)


def test_a_view_taken_under_no_grad_cannot_be_changed_in_place_while_recording():
    """(tester 04 F1: PyTorch refuses, we recorded it) -- and inside no_grad it still works."""
    torch = pytest.importorskip("torch")
    import tinygrad_cnn as tg

    for change in (lambda v, y: v.mul_(y), lambda v, y: v.__setitem__(slice(0, 2), y),
                   lambda v, y: v[0:1].add_(1)):
        for lib in (tg, torch):
            x = lib.tensor(np.array([0.5, -1.0, 2.0, 0.3]), requires_grad=True)
            y = lib.tensor(np.array([0.7, 1.1]), requires_grad=True)
            h = x * 2
            with lib.no_grad():
                v = h[1:3]
            with pytest.raises(RuntimeError, match="no_grad mode"):
                change(v, y)
    x = tg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    h = x * 2
    with tg.no_grad():
        v = h[0:2]
        v.mul_(3)
    assert h.tolist() == [6.0, 12.0, 6.0]
    v2 = h[0:2]  # (taken with grad on: an ordinary view)
    v2.mul_(tg.tensor([1.0, 1.0], requires_grad=True))


def test_save_and_load_name_a_file_in_the_path_and_a_nul_character(tmp_path):
    """(tester 05 F6: 'the folder does not exist' for a path under a file; a NUL byte read as
    'checkpoint not found')"""
    import tinygrad_cnn as tg

    (tmp_path / "file.py").write_text("x")
    with pytest.raises(NotADirectoryError, match="file.py is a file, not a folder"):
        tg.save({}, tmp_path / "file.py" / "x.npz")
    with pytest.raises(ValueError, match="NUL character"):
        tg.save({}, str(tmp_path / "a\0b.npz"))
    with pytest.raises(ValueError, match="NUL character"):
        tg.load(str(tmp_path / "a\0b.npz"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.py"]
