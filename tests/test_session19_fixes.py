"""Outside tester t69's findings on the newest ops, each against its oracle (mpmath, PyTorch)."""

from __future__ import annotations

import time

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F


def test_polygamma_of_a_huge_negative_argument_is_immediate_and_a_pole_is_inf():
    start = time.perf_counter()
    out = tg.polygamma(1, tg.tensor([-1e16, -1e6 - 0.5, -3.0], dtype=tg.float64)).numpy()
    x = tg.tensor([-1e16, -2.0**60], dtype=tg.float64, requires_grad=True)
    tg.digamma(x).sum().backward()  # (its VJP is trigamma)
    assert time.perf_counter() - start < 2.0  # (was: a loop of |x| steps, forever past 2^53)
    assert out[0] == np.inf and out[2] == np.inf
    # ψ1(-n - 1/2) = π² - ψ1(n + 3/2), and ψ1(z) = 1/z + 1/(2z²) + ...
    assert out[1] == pytest.approx(np.pi**2 - 1 / (1e6 + 1), rel=1e-15)
    assert np.all(np.isinf(x.grad.numpy()))


def test_digamma_and_polygamma_for_negative_arguments_against_mpmath():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    x = np.array([-1e15 - 0.5, -1e13 - 0.5, -1e10 - 0.3, -2 - 1e-10, -3 - 1e-12, -0.3, -1000.3,
                  -7.25])
    exact = np.array([float(mpmath.digamma(mpmath.mpf(v))) for v in x])
    ours = tg.digamma(tg.tensor(x)).numpy()
    np.testing.assert_allclose(ours, exact, rtol=1e-14)  # (was: 3e-2 off at -1e15 - 0.5)
    rng = np.random.default_rng(0)
    x = np.concatenate([x[4:], rng.uniform(-60, 0, 40), [-2 - 1e-10]])
    for n in range(1, 6):
        exact = np.array([float(mpmath.polygamma(n, mpmath.mpf(v))) for v in x])
        ours = tg.polygamma(n, tg.tensor(x)).numpy()
        # relative to the size of the reflection's terms (ψ⁽ⁿ⁾ crosses 0 for even n)
        scale = np.abs(exact) + np.abs(np.pi ** (n + 1) / np.sin(np.pi * x) ** (n + 1))
        assert np.max(np.abs(ours - exact) / scale) < 1e-13, n


def test_lgamma_gradient_for_a_large_negative_argument_is_digamma():
    mpmath = pytest.importorskip("mpmath")
    x = tg.tensor([-1e13 - 0.5, -2 - 1e-10], dtype=tg.float64, requires_grad=True)
    tg.special.gammaln(x).sum().backward()
    exact = [float(mpmath.digamma(mpmath.mpf(v))) for v in (-1e13 - 0.5, -2 - 1e-10)]
    np.testing.assert_allclose(x.grad.numpy(), exact, rtol=1e-14)


@pytest.mark.parametrize("da,db", [("float32", "float64"), ("float16", "float64"),
                                   ("float16", "float32"), ("float16", "float16"),
                                   ("float32", "float32"), ("float64", "float64")])
def test_logaddexp2_computes_in_the_promoted_dtype_as_pytorch(da, db):
    torch = pytest.importorskip("torch")
    a = [1, 100, -3, -7.1, np.inf, -np.inf, np.nan, 2, 10.3, 0.77]
    b = [3, 100.5, -3.2, -7.0, np.inf, -np.inf, 1, -np.inf, 10.1, 0.5]
    ours = tg.logaddexp2(tg.tensor(a, dtype=getattr(tg, da)), tg.tensor(b, dtype=getattr(tg, db)))
    theirs = torch.logaddexp2(torch.tensor(a, dtype=getattr(torch, da)),
                              torch.tensor(b, dtype=getattr(torch, db)))
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    # (PyTorch's vectorised log1p/exp2 may differ from C's by an ulp; the mixed dtypes were 1e-6
    # and 1e-3 off, computed in the narrower one)
    eps = np.finfo(ours.numpy().dtype).eps
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2 * eps, atol=0)
    half = tg.logaddexp2(tg.tensor([-7.1], dtype=tg.float16), tg.tensor([-7.0], dtype=tg.float16))
    assert half.item() == -6.05078125  # correctly rounded (was -6.046875: computed in half)


def test_logaddexp2_gradients_against_pytorch_and_finite_differences():
    torch = pytest.importorskip("torch")
    x = tg.tensor([1.0, 2, -3, 5, -np.inf], dtype=tg.float64, requires_grad=True)
    y = tg.tensor([0.5, 2, 4, -1, 0.0], dtype=tg.float64, requires_grad=True)
    tx = torch.tensor(x.numpy(), requires_grad=True)
    ty = torch.tensor(y.numpy(), requires_grad=True)
    tg.logaddexp2(x, y).sum().backward()
    torch.logaddexp2(tx, ty).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-15)
    a = tg.tensor([1.0, 2, -3], dtype=tg.float64, requires_grad=True)
    b = tg.tensor([0.5, 2.5, 4], dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(tg.logaddexp2, (a, b)) and tg.gradgradcheck(tg.logaddexp2, (a, b))


def _sdpa_both(shapes, **kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = F.scaled_dot_product_attention(*[tg.tensor(a) for a in arrays], **kw)
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *[torch.tensor(a) for a in arrays], **kw)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)


def test_sdpa_without_features_is_the_mean_of_value_as_pytorch():
    _sdpa_both([(2, 3, 0), (2, 5, 0), (2, 5, 6)])
    _sdpa_both([(2, 3, 0), (2, 5, 0), (2, 5, 6)], scale=2.0)


def test_sdpa_gqa_repeats_key_and_value_heads_each_by_their_own_count():
    _sdpa_both([(1, 4, 3, 5), (1, 2, 6, 5), (1, 1, 6, 7)], enable_gqa=True)
    q, k, v = tg.randn(1, 4, 3, 5), tg.randn(1, 3, 6, 5), tg.randn(1, 1, 6, 5)
    with pytest.raises(ValueError, match="query's 4 heads must be a multiple of the key's 3"):
        F.scaled_dot_product_attention(q, k, v, enable_gqa=True)


@pytest.mark.parametrize("mask_dtype", ["int64", "float64", "uint8"])
def test_sdpa_refuses_a_mask_neither_bool_nor_the_query_dtype(mask_dtype):
    q = k = v = tg.randn(1, 3, 4)
    mask = tg.tensor([[1, 0, 0], [1, 1, 0], [1, 1, 1]]).to(getattr(tg, mask_dtype))
    with pytest.raises(TypeError, match=rf"attn_mask must be bool .* got {mask_dtype}; use "
                                        r"mask.bool\(\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    with pytest.raises(TypeError, match="query, key and value must have one dtype"):
        F.scaled_dot_product_attention(q, k.double(), v)


def test_addr_and_rsub_refuse_float_factors_for_integer_tensors():
    i, v = tg.ones(2, 2, dtype=tg.int64), tg.tensor([1, 2])
    with pytest.raises(RuntimeError, match="addr: For integral input tensors, argument beta"):
        tg.addr(i, v, v, beta=0.5)
    with pytest.raises(RuntimeError, match="addr: For integral input tensors, argument alpha"):
        tg.addr(i, v, v, alpha=2.0)
    with pytest.raises(RuntimeError, match="rsub: For integral input tensors, argument alpha"):
        tg.rsub(v, tg.tensor([3, 4]), alpha=0.5)
    with pytest.raises(RuntimeError, match="rsub: Boolean alpha"):
        tg.rsub(v, v, alpha=True)
    assert tg.addr(i, v, v, beta=2, alpha=3).numpy().tolist() == [[5, 8], [8, 14]]
    assert tg.rsub(v, 3.5, alpha=2).numpy().tolist() == [1.5, -0.5]


def test_addr_with_beta_zero_keeps_the_input_in_the_graph_with_a_zero_gradient():
    m = tg.tensor(np.full((3, 2), np.nan), requires_grad=True)
    out = tg.addr(m, tg.tensor([1.0, 2, 3]), tg.tensor([4.0, 5]), beta=0)
    assert out.requires_grad and not np.isnan(out.numpy()).any()
    out.sum().backward()
    assert m.grad.numpy().tolist() == [[0, 0]] * 3
    wide = tg.addr(tg.zeros(2, 2, dtype=tg.float64), tg.ones(2), tg.ones(2), beta=0)
    assert wide.dtype == tg.float64  # (the promoted dtype, as PyTorch, not the product's)


def test_mvlgamma_in_place_and_below_its_domain_as_pytorch():
    torch = pytest.importorskip("torch")
    x = [0.9, 0.2, -3.5, 2.5]
    np.testing.assert_allclose(tg.mvlgamma(tg.tensor(x), 3).numpy(),
                               torch.mvlgamma(torch.tensor(x), 3).numpy(), rtol=1e-6)
    y, ty = tg.tensor([2.5, 4.0]), torch.tensor([2.5, 4.0])
    y.mvlgamma_(2)
    ty.mvlgamma_(2)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6)


def test_ndtr_of_bools_and_integers_is_float32_as_pytorch():
    out = tg.special.ndtr(tg.tensor([True, False]))
    assert out.dtype == tg.float32
    np.testing.assert_allclose(out.numpy(), [0.8413447, 0.5], rtol=1e-6)
    assert tg.special.ndtr(tg.tensor([1, 0])).dtype == tg.float32


def test_broadcast_shapes_errors_name_plain_shapes():
    with pytest.raises(RuntimeError, match=r"shapes \[\(2,\), \(3,\)\] cannot be broadcast"):
        tg.broadcast_shapes((np.int64(2),), (3,))
    with pytest.raises(ValueError, match=r"shape \(-1,\) has a negative length"):
        tg.broadcast_shapes((-1,), (3,))
    with pytest.raises(TypeError, match="a shape is a sequence of ints"):
        tg.broadcast_shapes((2.5,))
    assert tg.broadcast_shapes((), (4, 1), 3) == (4, 3)


def test_writeable_and_reshaped_view_work_without_numpys_flag_and_shape_setter():
    """CuPy arrays have no writeable flag (in-place ops on the GPU failed with AttributeError), and
    numpy 2.5 deprecates assigning ``.shape`` (the im2col and view() paths did)."""
    from types import SimpleNamespace

    from tinygrad_cnn.backend import reshaped_view, writeable

    a = np.arange(12.0)
    assert writeable(a) and not writeable(np.broadcast_to(a, (2, 12)))
    # an array type without the flag (CuPy's): writable unless elements share memory
    plain = SimpleNamespace(flags=SimpleNamespace(), size=12, itemsize=8, strides=(8,), shape=(12,))
    repeated = SimpleNamespace(flags=SimpleNamespace(), size=24, itemsize=8, strides=(0, 8),
                               shape=(2, 12))
    assert writeable(plain) and not writeable(repeated)
    v = reshaped_view(a[:6], (2, 3))
    v[1, 2] = -1
    assert a[5] == -1
    with pytest.raises(ValueError, match="without a copy"):
        reshaped_view(a.reshape(3, 4).T, (12,))
    t = tg.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="without a copy"):
        t.t().view(-1)
    assert t.t().contiguous().view(-1).tolist() == [0, 3, 1, 4, 2, 5]


def test_a_loss_weight_on_another_device_is_named():
    class Elsewhere(tg.Tensor):
        device = "cuda"  # (a stand-in: no GPU here)

    w = tg.ones(4)
    w.__class__ = Elsewhere
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: the inputs are on different "
                                           r"devices \(weight on cuda, the input on cpu\)"):
        F.binary_cross_entropy(tg.full((3, 4), 0.5), tg.ones(3, 4), weight=w)


def test_logaddexp_of_half_is_computed_in_float32_as_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(20000) * 8).astype(np.float16), \
        (rng.standard_normal(20000) * 8).astype(np.float16)
    ours = tg.logaddexp(tg.tensor(a), tg.tensor(b)).numpy()
    theirs = torch.logaddexp(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_array_equal(ours, theirs)  # (was 1 ulp off in 2% of them)


# ------------------------------------------------------------------ outside tester t70 (viz, gradcheck)
def test_a_node_hook_that_changes_a_gradient_shows_in_the_drawings():
    from tinygrad_cnn import viz

    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    x.name = "x"
    y = x.exp()
    y.grad_fn.register_hook(lambda gin, gout: (gin[0] * 100,))
    loss = y.sum()
    with viz.record_gradients(loss):
        loss.backward()
    norm = float(np.linalg.norm(x.grad.numpy()))  # 787.3: what the hook sent
    text = viz.text(loss, backward=True)
    assert f"dx = (2,) ‖g‖ = {norm:.4g}" in text and f"‖grad‖ = {norm:.4g}" in text
    # the step-through runs no user hook: its page says so
    x2 = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y2 = x2.exp()
    y2.grad_fn.register_hook(lambda gin, gout: (gin[0] * 100,))
    assert "they did not run here" in viz.animate(y2.sum()).html
    assert "did not run here" not in viz.animate((x2 * x2).sum()).html


@pytest.mark.parametrize("scale", [1e200, 1e-170])
def test_gradient_norms_of_extreme_float64_gradients_are_finite_and_drawn(scale):
    from tinygrad_cnn import viz

    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    x.name = "x"
    loss = (x * scale).sum()
    with viz.record_gradients(loss):
        loss.backward()
    assert f"‖grad‖ = {np.sqrt(2) * scale:.4g}" in viz.text(loss, backward=True)
    viz.draw(loss, backward=True)  # (was: OverflowError)
    viz.animate((tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True) * scale).sum())


def _abs_with_backward(at_zero):
    class Abs(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.abs(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x.sign() + (x == 0).double() * at_zero)

    return Abs


def test_taylor_does_not_excuse_a_wrong_vjp_at_a_kink_as_not_differentiable():
    from tinygrad_cnn.gradcheck.check import check_grads

    x = tg.tensor([0.0, 1.0], dtype=tg.float64, requires_grad=True)
    wrong = check_grads(_abs_with_backward(1000.0).apply, (x,), method="taylor")
    assert wrong.kind == "wrong_vjp"
    right = check_grads(_abs_with_backward(0.0).apply, (x,), method="taylor")
    assert right.kind == "not_differentiable"


def test_the_likely_cause_comes_from_the_failing_entries_not_the_excused_kinks():
    from tinygrad_cnn.gradcheck.check import check_grads

    class Wrong(tg.autograd.Function):  # forward 2x, backward 3g
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = tg.tensor([0.0, 1.0, -2.0], dtype=tg.float64, requires_grad=True)
    report = check_grads(lambda t: Wrong.apply(t).relu(), (x,))
    assert report.kind == "wrong_vjp" and "3/2 × numerical" in report.cause


def test_text_form_names_the_versions_of_a_tensor_changed_in_place():
    from tinygrad_cnn import viz

    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    x.name = "x"
    y = x * 2
    y.name = "y"
    y.mul_(3)
    rows = [line.split()[:2] for line in viz.text((y * x).sum()).splitlines()[2:]]
    # (session 24: no clone node before an in-place op -- mul_ reads y@1 itself)
    assert ["y@1", "mul(x,"] in rows and ["y", "mul(y@1,"] in rows
    assert ["%2", "mul(y,"] in rows and not any("clone" in r[1] for r in rows)


def test_a_recording_says_when_the_backward_started_elsewhere_and_shows_the_latest_pass():
    from tinygrad_cnn import viz

    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    s = x.sin()
    loss, other = (s * 2).sum(), (s * 5).sum()
    loss.name = "loss"
    with viz.record_gradients(loss):
        other.backward()
    assert "started at another root, not at loss" in viz.text(loss, backward=True)
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    x.name = "x"
    loss = (x * x).sum()
    with viz.record_gradients(loss):
        loss.backward(retain_graph=True)
        loss.backward()
    text = viz.text(loss, backward=True)
    # one pass in the rows, and the same pass at the leaf (was: the leaf added up both)
    assert "dx = (2,) ‖g‖ = 2.236; dx += (2,) ‖g‖ = 2.236" in text
    assert "‖grad‖ = 4.472" in text and "8.944" not in text


def test_text_form_of_a_tensor_without_a_graph_has_its_row():
    from tinygrad_cnn import viz

    t = tg.ones(3)
    t.name = "t"
    lines = viz.text(t).splitlines()
    assert lines[2].split()[:3] == ["t", "no", "graph"] and "(3,)" in lines[2]


# ------------------------------------------------------------------ outside tester t72 (CLI, files)
_DATA = str(__import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "mnist")


def test_recording_and_the_command_line_work_in_a_deleted_working_folder(tmp_path):
    import subprocess
    import sys

    gone = tmp_path / "gone"
    gone.mkdir()
    script = ("import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); "
              "import tinygrad_cnn as tg; x = tg.ones(2, requires_grad=True); (x * 2).sum()"
              ".backward(); print(x.grad.tolist()); from tinygrad_cnn import cli; "
              "sys.exit(cli.main(['train', '--limit', '64', '--epochs', '1', '--data-dir', "
              "sys.argv[2], '--out', sys.argv[3]]))")
    proc = subprocess.run([sys.executable, "-c", script, str(gone), _DATA,
                           str(tmp_path / "g.npz")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "[2.0, 2.0]" in proc.stdout and "done in" in proc.stdout
    script = ("import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); "
              "from tinygrad_cnn import cli; cli.main(['train', '--limit', '64'])")
    gone.mkdir()
    proc = subprocess.run([sys.executable, "-c", script, str(gone)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2 and "the current folder no longer exists" in proc.stderr


def test_cli_main_gives_back_the_signal_handlers_it_found_and_runs_in_a_thread(capsys):
    import signal
    import threading

    from tinygrad_cnn import cli

    def mine(*_):
        pass

    old = signal.signal(signal.SIGTERM, mine), signal.signal(signal.SIGINT, mine)
    try:
        assert cli.main(["demo", "--steps", "5"]) == 0
        assert signal.getsignal(signal.SIGTERM) is mine and signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGTERM, old[0])
        signal.signal(signal.SIGINT, old[1])
    codes = []
    thread = threading.Thread(target=lambda: codes.append(cli.main(["demo", "--steps", "5"])))
    thread.start()
    thread.join()
    assert codes == [0]


def test_a_ctrl_c_during_the_last_save_finishes_the_run(tmp_path, monkeypatch, capsys):
    import os
    import signal

    from tinygrad_cnn import cli, serialization

    real = serialization._save

    def save(obj, path, **options):
        os.kill(os.getpid(), signal.SIGINT)  # (held until the save ends)
        real(obj, path, **options)

    monkeypatch.setattr(serialization, "_save", save)  # (the command line's own save)
    out = tmp_path / "last.npz"
    code = cli.main(["train", "--limit", "64", "--epochs", "1", "--data-dir", _DATA, "--out",
                     str(out)])
    captured = capsys.readouterr()
    assert code == 0 and "done in" in captured.out and "the run had finished" in captured.err
    assert tg.load(out)["epoch"] == 1


def test_the_default_path_keeps_the_earlier_run_until_the_first_save_lands(tmp_path,
                                                                          monkeypatch, capsys):
    import errno
    import os

    from tinygrad_cnn import cli, serialization

    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--limit", "64", "--epochs", "1", "--data-dir", _DATA]) == 0
    earlier = (tmp_path / "checkpoints" / "lenet5.npz").read_bytes()
    capsys.readouterr()

    def full(obj, path, **options):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(serialization, "_save", full)
    assert cli.main(["train", "--limit", "64", "--epochs", "1", "--data-dir", _DATA]) == 1
    # (was: lenet5.npz unlinked before the save, so the printed --resume hint found nothing)
    assert (tmp_path / "checkpoints" / "lenet5.npz").read_bytes() == earlier
    assert "is unchanged" in capsys.readouterr().err


def test_a_file_that_is_not_a_checkpoint_at_the_default_path_is_called_so(tmp_path, monkeypatch,
                                                                          capsys):
    from tinygrad_cnn import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "lenet5.npz").write_text("my notes\n")
    assert cli.main(["train", "--limit", "64", "--epochs", "1", "--data-dir", _DATA]) == 0
    out = capsys.readouterr().out
    assert "is a file that is not a tinygrad_cnn checkpoint: it is kept as" in out
    assert "holds an earlier run" not in out
    assert (tmp_path / "checkpoints" / "lenet5.previous.npz").read_text() == "my notes\n"


def test_tinygrad_cnn_data_on_resume_shows_as_a_change(tmp_path, monkeypatch, capsys):
    import shutil

    from tinygrad_cnn import cli

    ck = tmp_path / "dd.npz"
    assert cli.main(["train", "--limit", "64", "--epochs", "1", "--data-dir", _DATA, "--out",
                     str(ck)]) == 0
    copy = tmp_path / "mnist_copy"
    shutil.copytree(_DATA, copy)
    capsys.readouterr()
    monkeypatch.setenv("TINYGRAD_CNN_DATA", str(copy))
    assert cli.main(["train", "--resume", str(ck), "--epochs", "2"]) == 0
    assert f"the data folder {_DATA} -> {copy} (TINYGRAD_CNN_DATA)" in capsys.readouterr().out


def test_small_messages_an_ellipsis_and_a_dangling_link(tmp_path, capsys):
    import os

    from tinygrad_cnn import cli

    with pytest.raises(TypeError, match=r"obj\[0\] is an ellipsis"):
        tg.save([...], tmp_path / "e.npz")
    os.symlink(tmp_path / "nowhere", tmp_path / "dlink")
    with pytest.raises(SystemExit):
        cli.main(["train", "--out", str(tmp_path / "dlink" / "x.npz")])
    assert "dlink is a symbolic link to" in capsys.readouterr().err


# ------------------------------------------------------------------ outside tester t71 (fuzzing)
def test_cross_entropy_with_probability_targets_differentiates_the_weight_as_pytorch():
    torch = pytest.importorskip("torch")
    x_np = np.array([[0.2, -1.0, 0.5], [1.0, 0.0, -0.3]])
    t_np = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    w_np = np.array([1.0, 2.0, 0.5])
    for smoothing in (0.0, 0.2):
        grads = []
        for lib, fn in ((torch, torch.nn.functional.cross_entropy), (tg, F.cross_entropy)):
            x, w = lib.tensor(x_np, requires_grad=True), lib.tensor(w_np, requires_grad=True)
            fn(x, lib.tensor(t_np), weight=w, label_smoothing=smoothing).backward()
            grads.append((x.grad.numpy(), w.grad.numpy()))
        np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-12)
        np.testing.assert_allclose(grads[1][1], grads[0][1], rtol=1e-12)
    x, w = tg.tensor(x_np, requires_grad=True), tg.tensor(w_np, requires_grad=True)
    fn = lambda a, b: F.cross_entropy(a, tg.tensor(t_np), weight=b)  # noqa: E731
    assert tg.gradcheck(fn, (x, w)) and tg.gradgradcheck(fn, (x, w))
    with pytest.raises(RuntimeError, match="with class-index targets"):
        F.cross_entropy(x, tg.tensor([0, 2]), weight=w)


def test_polygamma_at_tiny_negative_arguments_is_inf_not_nan():
    torch = pytest.importorskip("torch")
    x = np.array([-1e-310, -5e-324, -1e-309, -5e-309, -1e-300, -0.3, -0.4999])
    for n in (1, 2, 3):
        ours = tg.polygamma(n, tg.tensor(x, dtype=tg.float64)).numpy()
        theirs = torch.polygamma(n, torch.tensor(x)).numpy()
        assert not np.isnan(ours).any()
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    t = tg.tensor([-1e-310, 1.0], dtype=tg.float64, requires_grad=True)
    t.digamma().sum().backward()
    assert t.grad.numpy()[0] == np.inf
