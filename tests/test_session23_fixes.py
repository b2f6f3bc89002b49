"""Session 23: findings of the outside testers left open in session 22, each against its oracle
(PyTorch when installed, else the rule the README states)."""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import _files
from tinygrad_cnn.serialization import _save

ROOT = Path(__file__).resolve().parents[1]


def _parts(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def test_save_over_a_hard_link_writes_every_name(tmp_path):
    """(was: the rename gave the saved name a new file; the other name kept the old bytes, as
    torch.save -- which writes in place -- does not)"""
    (tmp_path / "h1").write_bytes(b"old")
    os.link(tmp_path / "h1", tmp_path / "h2")
    tg.save({"w": tg.tensor([1.0, 2.0])}, tmp_path / "h2")
    assert os.stat(tmp_path / "h1").st_nlink == 2
    assert os.path.samefile(tmp_path / "h1", tmp_path / "h2")
    np.testing.assert_array_equal(tg.load(tmp_path / "h1")["w"].numpy(), [1.0, 2.0])
    assert _parts(tmp_path) == []
    # a shorter checkpoint over a longer one: the tail is cut (the file is whole, loadable)
    tg.save({"w": tg.zeros(10000)}, tmp_path / "h1")
    big = os.path.getsize(tmp_path / "h2")
    tg.save({"w": tg.tensor([3.0])}, tmp_path / "h1")
    assert os.path.getsize(tmp_path / "h2") < big
    np.testing.assert_array_equal(tg.load(tmp_path / "h2")["w"].numpy(), [3.0])
    torch = pytest.importorskip("torch")
    (tmp_path / "t1").write_bytes(b"old")
    os.link(tmp_path / "t1", tmp_path / "t2")
    torch.save({"w": torch.tensor([1.0])}, tmp_path / "t2")
    assert os.stat(tmp_path / "t1").st_nlink == 2  # the oracle: torch keeps the link too


def test_the_command_lines_checkpoints_still_replace_a_hard_link(tmp_path):
    """The command line keeps an earlier run as a hard link NAME.previous.npz, then saves over
    NAME: that save must not write into the earlier run."""
    tg.save({"w": tg.tensor([1.0])}, tmp_path / "run.npz")
    os.link(tmp_path / "run.npz", tmp_path / "run.previous.npz")
    _save({"w": tg.tensor([2.0])}, tmp_path / "run.npz", fresh_mode=True, keep_links=False)
    np.testing.assert_array_equal(tg.load(tmp_path / "run.previous.npz")["w"].numpy(), [1.0])
    np.testing.assert_array_equal(tg.load(tmp_path / "run.npz")["w"].numpy(), [2.0])
    assert os.stat(tmp_path / "run.npz").st_nlink == 1


def _read_only_folder(monkeypatch, folder: Path) -> None:
    """Make ``folder`` refuse new files as a read-only folder does for a user who is not root
    (the suite may run as root, for whom chmod changes nothing)."""
    real_open, real_access = os.open, os.access

    def fake_open(path, flags, mode=0o777, *args, **kwargs):
        if Path(path).parent == folder and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, mode, *args, **kwargs)

    def fake_access(path, how, **kwargs):
        if Path(path) == folder and how & os.W_OK:
            return False
        return real_access(path, how, **kwargs)

    monkeypatch.setattr(_files.os, "open", fake_open)
    monkeypatch.setattr(_files.os, "access", fake_access)


def test_save_over_a_writable_file_in_a_read_only_folder(tmp_path, monkeypatch):
    """(was: refused, "cannot write ro/f: Permission denied" -- of a writable file, which
    torch.save writes)"""
    folder = tmp_path / "ro"
    folder.mkdir()
    tg.save({"w": tg.tensor([0.0])}, folder / "f")
    os.chmod(folder / "f", 0o640)
    inode = os.stat(folder / "f").st_ino
    _read_only_folder(monkeypatch, folder)
    tg.save({"w": tg.tensor([1.0, 5.0])}, folder / "f")
    monkeypatch.undo()
    np.testing.assert_array_equal(tg.load(folder / "f")["w"].numpy(), [1.0, 5.0])
    assert os.stat(folder / "f").st_ino == inode  # written in place
    assert oct(os.stat(folder / "f").st_mode & 0o777) == oct(0o640)
    assert _parts(folder) == []


def test_a_new_file_in_a_read_only_folder_names_the_folder(tmp_path, monkeypatch):
    """(was: "cannot write ro/g: Permission denied", as if the file were the problem)"""
    folder = tmp_path / "ro"
    folder.mkdir()
    _read_only_folder(monkeypatch, folder)
    with pytest.raises(PermissionError, match=r"its folder .*ro is not writable \(a new file "
                       r"cannot be created there\); make the folder writable"):
        tg.save({"w": tg.tensor([1.0])}, folder / "g")
    monkeypatch.undo()
    assert not (folder / "g").exists()


_AS_A_USER = pytest.mark.skipif(
    os.name != "posix" or shutil.which("setpriv") is None,
    reason="needs setpriv (util-linux) to drop root's override of permissions")


def _as_a_user(script: str) -> subprocess.CompletedProcess:
    """Run ``script`` in a Python whose file permissions the kernel enforces (as root: with
    root's override dropped by setpriv)."""
    cmd = [sys.executable, "-c", script]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner",
               "--inh-caps=-all", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


@_AS_A_USER
def test_read_only_folder_for_real(tmp_path):
    """The same as above with the kernel's own permission checks (root's override dropped)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    tg.save({"w": tg.tensor([0.0])}, folder / "f")
    os.chmod(folder, 0o555)
    script = ("import tinygrad_cnn as tg\n"
              f"tg.save({{'w': tg.tensor([7.0])}}, {str(folder / 'f')!r})\n"
              "try:\n"
              f"    tg.save({{'w': tg.tensor([7.0])}}, {str(folder / 'g')!r})\n"
              "except PermissionError as e:\n"
              "    print('refused:', e)\n")
    try:
        done = _as_a_user(script)
    finally:
        os.chmod(folder, 0o755)
    assert done.returncode == 0, done.stderr
    assert "its folder" in done.stdout and "is not writable" in done.stdout
    np.testing.assert_array_equal(tg.load(folder / "f")["w"].numpy(), [7.0])
    assert not (folder / "g").exists()


def test_an_in_place_copy_that_fails_names_the_whole_copy(tmp_path, monkeypatch):
    """A failure part-way through the in-place copy (a full disk) names the temporary file that
    holds the whole new checkpoint, and keeps it."""
    (tmp_path / "h1").write_bytes(b"old")
    os.link(tmp_path / "h1", tmp_path / "h2")

    def full(src, dst, length=0):
        dst.write(src.read(10))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_files.shutil, "copyfileobj", full)
    with pytest.raises(OSError, match=r"may be incomplete: the whole new content is in "
                       r".*\.part") as info:
        tg.save({"w": tg.tensor([4.0])}, tmp_path / "h2")
    monkeypatch.undo()
    kept = re.search(r"content is in (\S+\.part)", str(info.value)).group(1)
    np.testing.assert_array_equal(tg.load(kept)["w"].numpy(), [4.0])


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="POSIX signal masks only")
def test_ctrl_c_during_an_in_place_copy_waits_for_it(tmp_path, monkeypatch):
    """A Ctrl-C that comes while the checkpoint is copied in place is raised after the copy: the
    file is never left half-written."""
    (tmp_path / "h1").write_bytes(b"old")
    os.link(tmp_path / "h1", tmp_path / "h2")
    real = shutil.copyfileobj

    def interrupted(src, dst, length=0):
        os.kill(os.getpid(), signal.SIGINT)  # (held back: delivered when the copy is done)
        dst.write(src.read(5))
        real(src, dst, length)

    monkeypatch.setattr(_files.shutil, "copyfileobj", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tg.save({"w": tg.tensor([6.0])}, tmp_path / "h2")
    monkeypatch.undo()
    np.testing.assert_array_equal(tg.load(tmp_path / "h1")["w"].numpy(), [6.0])


def test_backward_text_names_an_unused_output_as_the_forward_text_does():
    """(was: `d%0[1]`, a name the forward text never uses; it says `output 1 of %0`)"""
    from tinygrad_cnn import viz
    from tinygrad_cnn.autograd import Function

    class SinCos(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x), np.cos(x)

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            return gs * x.cos() - gc * x.sin()

    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    s, _ = SinCos.apply(x)
    loss = (s * 2).sum()
    forward = viz.text(loss)
    assert "%1      output 0 of %0" in forward
    back = viz.text(loss, backward=True)
    row = next(line for line in back.splitlines() if "sin_cos VJP" in line)
    assert "d%1 (2,)" in row and "d(output 1 of %0) (2,)" in row and "[1]" not in row


def test_check_function_calls_a_noisy_op_not_deterministic_before_blaming_pytorch():
    """(was: "output 0 differs from PyTorch's (3e-8)" for an op that differs from itself)"""
    torch = pytest.importorskip("torch")
    from tinygrad_cnn import testing
    from tinygrad_cnn.autograd import Function

    class NoisySin(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x) + np.random.default_rng().uniform(1e-5, 2e-5, x.shape)  # (over the tolerance)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos()

    class OffSin(Function):  # deterministic, and not PyTorch's sin: still blamed on the values
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.sin(x) + 1e-3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos()

    with pytest.raises(testing.CheckFunctionError, match="the function failed:\nit is not "
                       "deterministic: two calls on the same inputs give output 0 differing"):
        testing.check_function(NoisySin.apply, [(3,)], torch.sin, seed=1, max_examples=3)
    with pytest.raises(testing.CheckFunctionError, match="the comparison with PyTorch failed:"
                       "\noutput 0 differs from PyTorch's"):
        testing.check_function(OffSin.apply, [(3,)], torch.sin, seed=1, max_examples=3)


class _MatMulT:
    """y = a @ b whose VJP for ``a`` comes back transposed (a square ``a`` hides it from the
    shape check)."""

    @staticmethod
    def make():
        from tinygrad_cnn.autograd import Function

        class MatMulT(Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.save_for_backward(a, b)
                return a @ b

            @staticmethod
            def backward(ctx, g):
                a, b = ctx.saved_tensors
                return (g @ b.T).T, a.T @ g

        return MatMulT


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize("n", [3, 40])
def test_a_transposed_gradient_is_named_as_such(fast_mode, n):
    """(was: no likely cause, or 'wrong indices, axis, transpose or reshape' among others)"""
    from tinygrad_cnn import GradcheckError, gradcheck

    op = _MatMulT.make()
    rng = np.random.default_rng(0)
    a = tg.tensor(rng.standard_normal((n, n)), requires_grad=True)
    b = tg.tensor(rng.standard_normal((n, 2)), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"Likely cause: analytical = numerical with input "
                       r"0's last two dims swapped: the VJP returns the gradient transposed"):
        gradcheck(op.apply, (a, b), fast_mode=fast_mode)
    # the oracle: the right VJP passes, and a symmetric input hides nothing it should not
    from tinygrad_cnn.gradcheck.report import _transposed

    jac = rng.standard_normal((n * n, 3))
    tol = np.full(jac.shape, 1e-6)
    perm = np.arange(n * n).reshape(n, n).T.ravel()
    assert _transposed(jac[perm], jac, tol, (n, n))
    assert not _transposed(jac, jac, tol, (n, n))
    assert not _transposed(jac[perm], jac, tol, (n * n,))


def test_check_function_skips_a_kink_where_only_the_choice_of_slope_differs_from_pytorch():
    """relu with slope 1 at 0 (PyTorch picks 0): both are valid there. The comparison with
    PyTorch skipped such a case no more than gradcheck does (was: failed, shrunk onto x = 0);
    a gradient unlike PyTorch's away from a kink still fails, reported by gradcheck."""
    torch = pytest.importorskip("torch")
    from tinygrad_cnn import testing
    from tinygrad_cnn.autograd import Function

    class ReluAtZeroOne(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.maximum(x, 0)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x >= 0).to(g.dtype)

    class ReluHalf(Function):  # wrong everywhere x > 0
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.maximum(x, 0)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x > 0).to(g.dtype) * 0.5

    x = tg.tensor(np.array([0.0, 1.0, -1.0]), requires_grad=True)
    (ours,) = tg.autograd.grad(ReluAtZeroOne.apply(x).sum(), [x])
    tx = torch.tensor([0.0, 1.0, -1.0], dtype=torch.float64, requires_grad=True)
    (theirs,) = torch.autograd.grad(torch.relu(tx).sum(), [tx])
    assert ours.numpy()[0] != theirs.numpy()[0]  # the case this test is about
    testing.check_function(ReluAtZeroOne.apply, [testing.shapes()], torch.relu, seed=3,
                           max_examples=40, gradgrad=False)
    with pytest.raises(testing.CheckFunctionError, match=r"gradcheck failed:\nthe VJP of "
                       r"`relu_half` is wrong"):
        testing.check_function(ReluHalf.apply, [testing.shapes()], torch.relu, seed=3,
                               max_examples=40, gradgrad=False)


def test_logaddexp2_of_a_tie_is_exact():
    """logaddexp2(x, x) = x + 1 exactly (numpy's; PyTorch's is an ulp off at x = -1: -4.8e-17,
    which is why logaddexp2 left the fuzzer's random programs)."""
    x = np.array([-1.0, 0.0, 3.0, -40.0, -np.inf, np.inf])
    got = tg.tensor(x).logaddexp2(tg.tensor(x)).numpy()
    np.testing.assert_array_equal(got, x + 1)
    assert np.signbit(got[0]) == np.signbit(0.0)  # +0, not -0: atan2(got, -1) is pi


def test_fill_and_zero_on_a_transpose_of_an_expanded_tensor():
    """(was: `e.mT.zero_()` refused, naming fill_; PyTorch fills it, as it fills `e` itself)"""
    torch = pytest.importorskip("torch")
    for name in ("mT", "t", "permute"):
        ours_b, theirs_b = tg.zeros(3, 1), torch.zeros(3, 1)

        def view(e, name=name):
            return e.mT if name == "mT" else e.t() if name == "t" else e.permute(1, 0)

        view(ours_b.expand(3, 3)).zero_().fill_(2.5)
        view(theirs_b.expand(3, 3)).zero_().fill_(2.5)
        np.testing.assert_array_equal(ours_b.numpy(), theirs_b.numpy())
    # with a graph: the filled values no longer depend on x (PyTorch fills too, then refuses
    # the backward through its CopySlices; ours is the derivative of the values as filled)
    x = tg.ones(3, 1, requires_grad=True)
    h = x * 1
    h.expand(3, 3).mT.fill_(3.0)
    (h * h * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((3, 1), 9.0))
    direct = tg.ones(3, 1, requires_grad=True)  # the same as filling the expand itself
    g = direct * 1
    g.expand(3, 3).fill_(3.0)
    (g * g * direct).sum().backward()
    np.testing.assert_array_equal(direct.grad.numpy(), x.grad.numpy())
    # other in-place ops there stay refused, as PyTorch refuses them
    with pytest.raises(RuntimeError, match="add_: .*read-only"):
        tg.zeros(3, 1).expand(3, 3).mT.add_(1)


def test_every_atomic_writer_refuses_to_replace_a_fifo(tmp_path):
    """(was: write_idx over a device or FIFO renamed a regular file over it -- as root,
    write_idx("/dev/null", ...) replaced the device; tg.save refused already)"""
    from tinygrad_cnn.data.idx import write_idx

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        write_idx(fifo, np.zeros(3, np.uint8))
    assert fifo.is_fifo()


def test_a_held_sigterm_leaves_no_temporary_file(tmp_path, monkeypatch):
    """The temporary file of an in-place copy is removed before a SIGTERM held during the copy
    ends the process (was: a whole copy of the checkpoint left in the temporary folder)."""
    (tmp_path / "h1").write_bytes(b"old")
    os.link(tmp_path / "h1", tmp_path / "h2")
    real = shutil.copyfileobj
    seen: list[list[str]] = []

    def term(src, dst, length=0):
        os.kill(os.getpid(), signal.SIGTERM)
        real(src, dst, length)

    previous = signal.signal(signal.SIGTERM, lambda *_: seen.append(_parts(tmp_path)))
    try:
        monkeypatch.setattr(_files.shutil, "copyfileobj", term)
        tg.save({"w": tg.tensor([2.0])}, tmp_path / "h2")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [[]]  # the signal came after the copy, with no temporary file left
    np.testing.assert_array_equal(tg.load(tmp_path / "h1")["w"].numpy(), [2.0])


def test_cli_resume_checks_each_optimizer_option_by_its_kind(tmp_path):
    """(outside tester t98: maximize="False" resumed and trained uphill -- a non-empty string is
    true; amsgrad=True printed a traceback; eps=inf trained an epoch that changed nothing; and
    lr=np.float32(0.01) was refused as "not a number")"""
    import subprocess
    import sys

    data = ROOT / "data" / "mnist"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "tinygrad_cnn", *map(str, args)],
                              capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)

    for optimizer, bad in (("sgd", {"maximize": "False"}), ("sgd", {"nesterov": 1}),
                           ("adam", {"amsgrad": "yes"}), ("adam", {"eps": float("inf")}),
                           ("adam", {"betas": [0.9]}), ("adam", {"betas": ["a", 0.9]})):
        good = tmp_path / f"{optimizer}.npz"
        if not good.exists():
            assert cli("train", "--epochs", "1", "--limit", "64", "--optimizer", optimizer,
                       "--data-dir", data, "--out", good).returncode == 0
        state = tg.load(good)
        state["optimizer"]["param_groups"][0].update(bad)
        tg.save(state, tmp_path / "bad.npz")
        r = cli("train", "--resume", tmp_path / "bad.npz", "--epochs", "2")
        (key, value), = bad.items()
        assert r.returncode == 2 and f"has {key} = {value!r}, " in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and r.stderr.count("error:") == 1, r.stderr
    state = tg.load(tmp_path / "adam.npz")
    state["optimizer"]["param_groups"][0].update(lr=np.float32(0.01), eps=np.float64(1e-8),
                                                 amsgrad=np.bool_(False))
    tg.save(state, tmp_path / "numpy.npz")
    r = cli("train", "--resume", tmp_path / "numpy.npz", "--epochs", "2", "--limit", "64")
    assert r.returncode == 0 and "resumed from" in r.stdout, r.stderr


def test_an_in_place_copy_leaves_no_readable_copy_and_clears_killed_writers_parts(
        tmp_path, monkeypatch):
    """(outside tester t98: the temporary file in the system's folder took the checkpoint's mode
    -- a world-readable copy of a checkpoint kept in a private folder -- and one a killed writer
    left there was never removed)"""
    import tempfile

    system = tmp_path / "system_tmp"
    system.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system))
    folder = tmp_path / "ro"
    folder.mkdir()
    tg.save({"w": tg.tensor([0.0])}, folder / "f")
    os.chmod(folder / "f", 0o644)
    stale = system / ".f.999999999.deadbeef.part"  # (no such process)
    stale.write_bytes(b"a killed writer's copy")
    modes: list[int] = []
    real = shutil.copyfileobj

    def watch(src, dst, length=0):
        modes.append(os.stat(src.name).st_mode & 0o777)
        real(src, dst, length)

    _read_only_folder(monkeypatch, folder)
    monkeypatch.setattr(_files.shutil, "copyfileobj", watch)
    tg.save({"w": tg.tensor([1.0])}, folder / "f")
    monkeypatch.undo()
    assert modes == [0o600] and not stale.exists() and list(system.iterdir()) == []
    assert os.stat(folder / "f").st_mode & 0o777 == 0o644  # the checkpoint keeps its own mode
    np.testing.assert_array_equal(tg.load(folder / "f")["w"].numpy(), [1.0])


@_AS_A_USER
def test_a_write_only_hard_linked_file_is_saved_as_torch_saves_it(tmp_path):
    """(outside tester t98: the in-place copy opened the file for reading too, so a 0o200 file
    was refused -- with an error that said it "may be incomplete" and a private error type)"""
    (tmp_path / "h1").write_bytes(b"old")
    os.link(tmp_path / "h1", tmp_path / "h2")
    os.chmod(tmp_path / "h1", 0o200)
    (tmp_path / "ro").write_bytes(b"old")
    os.chmod(tmp_path / "ro", 0o444)
    os.link(tmp_path / "ro", tmp_path / "ro2")
    script = ("import tinygrad_cnn._files as f\n"
              f"f.atomic_write({str(tmp_path / 'h2')!r}, lambda out: out.write(b'new'))\n"
              "try:\n"
              f"    f.atomic_write({str(tmp_path / 'ro2')!r}, lambda out: out.write(b'new'))\n"
              "except PermissionError as e:\n"
              "    print('refused:', e)\n")
    done = _as_a_user(script)
    assert done.returncode == 0, done.stderr
    os.chmod(tmp_path / "h1", 0o600)
    assert (tmp_path / "h1").read_bytes() == b"new"
    assert "refused: [Errno 13] cannot write" in done.stdout and "may be" not in done.stdout
    assert (tmp_path / "ro").read_bytes() == b"old" and _parts(tmp_path) == []


def _maximum(share: bool):
    """maximum(a, b) whose VJP at a tie gives the gradient to a alone (``share``: a valid
    subgradient, PyTorch's own choice is half to each) or to both (wrong: doubled)."""
    from tinygrad_cnn.autograd import Function

    class Maximum(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return np.maximum(a, b)

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            m = (a >= b).to(g.dtype)
            return g * m, g * ((1 - m) if share else (b >= a).to(g.dtype))

    return Maximum


def test_a_tie_between_two_inputs_whose_vjp_doubles_the_gradient_is_wrong():
    """(outside tester t100: maximum(a, b) with a VJP of (1, 1) at a == b was called not
    differentiable -- "not a wrong VJP" -- and check_function skipped every tied case;
    torch.autograd.gradcheck fails it, numerical 0.5 against 1)"""
    from tinygrad_cnn import check_grads

    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tg.tensor([1.0, 0.0, 5.0], requires_grad=True)
    doubled = check_grads(_maximum(False).apply, (a, b))
    assert doubled.kind == "wrong_vjp" and "between them -- but the element is tied" in str(doubled)
    assert "outside [0, 1]" not in str(doubled)
    shared = check_grads(_maximum(True).apply, (a, b))
    assert shared.kind == "not_differentiable"  # one valid subgradient: not a wrong VJP
    torch = pytest.importorskip("torch")
    ta, tb = (torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True),
              torch.tensor([1.0, 0.0, 5.0], dtype=torch.float64, requires_grad=True))

    class TorchDoubled(torch.autograd.Function):  # the oracle: PyTorch's check fails it too
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return torch.maximum(x, y)

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            return g * (x >= y), g * (y >= x)

    assert not torch.autograd.gradcheck(TorchDoubled.apply, (ta, tb), raise_exception=False)


def test_check_function_fails_a_doubled_tie_between_inputs_and_passes_a_shared_one():
    torch = pytest.importorskip("torch")
    from tinygrad_cnn import testing

    with pytest.raises(testing.CheckFunctionError, match="gradcheck failed"):
        testing.check_function(_maximum(False).apply, [(4,), (4,)], torch.maximum, seed=0,
                               min_value=-1, max_value=1, gradgrad=False, max_examples=60)
    testing.check_function(_maximum(True).apply, [(4,), (4,)], torch.maximum, seed=0,
                           min_value=-1, max_value=1, gradgrad=False, max_examples=60)


def test_a_tie_inside_one_tensor_says_the_entries_add_up_too_much():
    """(outside tester t100: max of [3, 3, 1] with a VJP of (1, 1, 0) read "gives 1, outside
    [0, 1]", a contradiction)"""
    from tinygrad_cnn import check_grads
    from tinygrad_cnn.autograd import Function

    class MaxAll(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.array(x.max())

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * (x == x.max()).to(g.dtype)

    text = str(check_grads(MaxAll.apply, (tg.tensor([3.0, 3.0, 1.0], requires_grad=True),)))
    assert "gives 1, between them -- but the element is tied with others" in text
    assert "outside [0, 1]" not in text


def test_text_form_tells_a_users_name_from_the_names_it_makes():
    """(outside tester t98: a tensor named `const0` printed as the form's own `const0`, so
    `p*d + c` and `p*c + d` gave the same text; one named `True` read as the constant True)"""
    from tinygrad_cnn import viz

    p = tg.tensor([1.0, 2.0], requires_grad=True, name="p")
    c, d = tg.tensor([3.0, 4.0], name="const0"), tg.tensor([5.0, 6.0])
    first, second = viz.text(p * d + c), viz.text(p * c + d)
    assert first != second
    assert "add(%0, 'const0')" in _lines(first)[-1] and "mul(p, const0)" in first
    t = tg.tensor([1.0, 2.0], requires_grad=True, name="True")
    assert "mul('True', True)" in viz.text(t * True)
    for made_like in ("leaf0", "None", "nan"):
        assert f"'{made_like}'" in viz.text(tg.tensor([1.0], requires_grad=True, name=made_like) * 2)


def _lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def test_write_idx_writes_only_what_read_idx_reads(tmp_path):
    """(outside tester t98: a 33-dimensional array was written, then refused on reading; the
    reader's message said "1 to 3" while it reads up to 32)"""
    from tinygrad_cnn.data.idx import MAX_DIMS, IDXError, read_idx, write_idx

    fine = np.arange(2, dtype=np.uint8).reshape((1,) * (MAX_DIMS - 1) + (2,))
    write_idx(tmp_path / "fine.idx", fine)
    np.testing.assert_array_equal(read_idx(tmp_path / "fine.idx"), fine)
    with pytest.raises(IDXError, match=f"read_idx reads at most {MAX_DIMS}"):
        write_idx(tmp_path / "big.idx", np.zeros((1,) * (MAX_DIMS + 1), np.uint8))
    assert not (tmp_path / "big.idx").exists()
    (tmp_path / "crafted.idx").write_bytes(b"\0\0\x08\x21" + b"\0\0\0\x01" * 33 + b"x")
    with pytest.raises(IDXError, match=f"more than the {MAX_DIMS} read_idx reads"):
        read_idx(tmp_path / "crafted.idx")
