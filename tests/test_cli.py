"""The command line: train learns, evaluate agrees, resume continues exactly (and says what it does
with changed arguments), a killed or interrupted run leaves its last checkpoint loadable and says
the truth about it, every bad invocation is one ``error:`` line with exit status 2 and leaves
nothing behind, --help everywhere names every default."""

from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import cli, optim
from tinygrad_cnn.backend import is_available
from tinygrad_cnn.models import MODELS, LeNet5

DATA = str(Path(__file__).resolve().parents[1] / "data" / "mnist")


def cli_run(*args, timeout=300, check=True, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def last_accuracy(text):
    line = [ln for ln in text.strip().splitlines() if "test accuracy:" in ln][-1]
    return float(line.rsplit("test accuracy:", 1)[1].split()[0])


def weights(path):
    return {k: v.numpy() for k, v in tg.load(path)["model"].items()}


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


def test_train_learns_and_evaluate_agrees(tmp_path):
    ck = tmp_path / "ck.npz"
    out = cli_run("train", "--epochs", "1", "--limit", "2000", "--data-dir", DATA, "--out", ck)
    acc = last_accuracy(out.stdout)
    assert acc > 0.3, out.stdout  # chance is 0.1; 2000 images at batch 64 are 32 steps
    assert "epoch 1/1" in out.stderr and "img/s" in out.stderr  # the progress bar
    assert "training lenet5 on 2,000 MNIST images" in out.stdout  # the banner names the model
    ev = cli_run("evaluate", "--checkpoint", ck, "--data-dir", DATA)
    assert ev.stdout.strip().splitlines()[-1] == f"test accuracy: {acc:.4f}"
    assert "(lenet5, epoch 1)" in ev.stdout
    state = tg.load(ck)
    assert state["epoch"] == 1 and set(state) >= {"model", "optimizer", "scheduler", "epoch"}
    assert state["config"]["model"] == "lenet5" and state["config"]["limit"] == 2000
    assert oct(ck.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # as np.savez would


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path):
    common = ["--epochs", "2", "--limit", "3000", "--data-dir", DATA]
    cli_run("train", *common, "--out", tmp_path / "straight.npz")
    proc, ck = _start_training(tmp_path, epochs="2", wait=0.0)  # killed right after epoch 1
    proc.kill()
    proc.communicate()
    assert tg.load(ck)["epoch"] == 1
    out = cli_run("train", "--resume", ck, "--data-dir", DATA)  # the rest from the checkpoint
    assert "resumed from" in out.stdout and "after epoch 1" in out.stdout
    assert "changed on resume" not in out.stdout
    assert "epoch 2:" in out.stdout and "epoch 1:" not in out.stdout
    a, b = tg.load(tmp_path / "straight.npz"), tg.load(ck)
    assert a["epoch"] == b["epoch"] == 2
    assert_same_weights(tmp_path / "straight.npz", ck)
    assert a["test_accuracy"] == b["test_accuracy"]


def _start_training(tmp_path, epochs="20", wait=0.5, extra=(), limit="3000"):
    # (20 epochs of 3,000 images: the run must still be going after the first checkpoint and
    # the wait -- with 4, a machine at 10,000 img/s under load finished before the signal)
    ck = tmp_path / "ck.npz"
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_cnn", "train", "--epochs", epochs,
                             "--limit", limit, "--data-dir", DATA, "--out", str(ck), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while not ck.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "no checkpoint after 240 s"
        time.sleep(0.05)
    time.sleep(wait)  # into the next epoch
    return proc, ck


def test_killed_mid_epoch_leaves_last_checkpoint_loadable(tmp_path):
    proc, ck = _start_training(tmp_path)
    proc.kill()  # SIGKILL: no chance to clean up
    proc.communicate()
    state = tg.load(ck)
    assert state["epoch"] >= 1
    model = LeNet5()
    model.load_state_dict(state["model"])


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery")
def test_ctrl_c_stops_cleanly(tmp_path):
    proc, ck = _start_training(tmp_path)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "interrupted during epoch" in err and "Traceback" not in err
    epoch = tg.load(ck)["epoch"]
    assert f"the checkpoint of epoch {epoch} at {ck} is intact" in err
    assert f"--resume={ck}" in err


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery")
def test_ctrl_c_during_a_resume_to_another_file_tells_the_truth(tmp_path, checkpoints):
    """--resume A --out B, interrupted before B was written: B does not exist, A is intact."""
    a, b = checkpoints["sgd"], tmp_path / "b.npz"
    before = a.read_bytes()
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_cnn", "train", "--resume", str(a),
                             "--out", str(b), "--epochs", "5", "--limit", "30000",
                             "--data-dir", DATA], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    for line in proc.stdout:  # the banner comes right before the first epoch starts
        if line.startswith("training "):
            break
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert not b.exists() and a.read_bytes() == before
    assert f"nothing was written to {b}" in err and f"{a} still holds epoch 1, intact" in err
    assert "is intact. Continue with" not in err and "Traceback" not in err


def test_help_names_every_default():
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) == {"train", "evaluate", "draw", "demo"}
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and "default" in action.help, (name, action.dest, action.help)
    for choice in subparsers._choices_actions:  # the top-level list of commands
        assert choice.help


@pytest.mark.parametrize("command", [None, "train", "evaluate", "draw", "demo"])
def test_help(command):
    out = cli_run(*([command] if command else []), "--help")
    assert "usage:" in out.stdout and (command or "COMMAND") in out.stdout
    assert "default" in out.stdout or command is None


def test_model_choices_come_from_the_registry(monkeypatch):
    monkeypatch.setitem(MODELS, "tiny", LeNet5)
    for command in ("train", "evaluate"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "tiny" in sub.choices["train"].format_help()
    assert sub.choices["train"].parse_args(["--model", "tiny"]).model == "tiny"


# ------------------------------------------------------------------ bad invocations
def _save_like_train(path, optimizer="sgd", drop=(), config=None, epoch=1):
    """A checkpoint with the structure `train` writes (``drop``: entries to leave out)."""
    tg.manual_seed(0)
    model = LeNet5()
    opt = (optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)
           if optimizer == "sgd" else optim.Adam(model.parameters(), lr=1e-3))
    x = tg.Tensor(np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32))
    tg.nn.functional.cross_entropy(model(x), np.arange(4)).backward()
    opt.step()
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)
    sched.step()
    cfg = {"model": "lenet5", "epochs": 3, "batch_size": 64, "optimizer": optimizer,
           "lr": opt.param_groups[0]["initial_lr"], "seed": 0, "limit": 500}
    cfg.update(config or {})
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "epoch": epoch, "test_accuracy": 0.5,
             "config": {k: v for k, v in cfg.items() if v is not ...}}
    for key in drop:
        state.pop(key)
    tg.save(state, path)
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Files the bad invocations point at: real `train` checkpoints and crafted ones."""
    kit = tmp_path_factory.mktemp("kit")
    for optimizer in ("sgd", "adam"):
        cli_run("train", "--epochs", "1", "--limit", "64", "--optimizer", optimizer,
                "--data-dir", DATA, "--out", kit / f"{optimizer}.npz")
    _save_like_train(kit / "no_model_entry.npz", config={"model": ...})
    _save_like_train(kit / "other_model.npz", config={"model": "vgg16"})
    _save_like_train(kit / "no_scheduler.npz", drop=("scheduler",))
    _save_like_train(kit / "bad_config.npz", config={"batch_size": "abc"})
    tg.save({"model": LeNet5().state_dict()}, kit / "weights_only.npz")
    state = tg.load(kit / "sgd.npz")
    state["model"]["conv1.weight"] = tg.zeros(3, 3)
    tg.save(state, kit / "bad_shape.npz")
    (kit / "readme.npz").write_text("# tinygrad_cnn\nA README renamed to .npz\n")
    (kit / "notes.txt").write_text("my notes, not a checkpoint\n")
    (kit / "a_file").write_text("a regular file\n")
    (kit / "a_dir").mkdir()
    (kit / "loop_a.npz").symlink_to(kit / "loop_b.npz")  # a loop of symbolic links
    (kit / "loop_b.npz").symlink_to(kit / "loop_a.npz")
    (kit / "loop_c.svg").symlink_to(kit / "loop_d.svg")
    (kit / "loop_d.svg").symlink_to(kit / "loop_c.svg")
    _save_like_train(kit / "huge_seed.npz", config={"seed": 2**70})
    return {p.stem: p for p in kit.iterdir()} | {"kit": kit}


def _snapshot(*folders):
    """Every path under ``folders``, with size, mtime and mode for files (a folder's mtime moves
    when a file is made and deleted in it, as the writability probe does)."""
    return {(str(p),) + ((p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_mode)
                         if p.is_file() else ())
            for folder in folders for p in Path(folder).rglob("*")}


# (arguments, the flag the error line must name, pieces of what it accepts, |-separated)
BAD = [
    (["train", "--epochs", "0"], "--epochs", "integer from 1 to 100000"),
    (["train", "--epochs", "2.5"], "--epochs", "integer from 1 to 100000"),
    (["train", "--epochs"], "--epochs", "expected one argument"),
    (["train", "--epochs", "1_0"], "--epochs", "integer from 1 to 100000"),  # int() reads it as 10
    (["train", "--epochs", "\uff12"], "--epochs", "integer from 1 to 100000"),  # a full-width 2
    (["train", "--lr", "1_0"], "--lr", "number > 0"),
    (["train", "--seed", "\u0663"], "--seed", "integer from 0 to"),  # an Arabic-Indic 3
    (["train", "--lr", "-1"], "--lr", "number > 0"),
    (["train", "--lr", "nan"], "--lr", "number > 0"),
    (["train", "--lr", "-inf"], "--lr", "number > 0"),  # (argparse reads -inf as an option)
    (["train", "--lr", "-NaN"], "--lr", "number > 0"),
    (["train", "--epochs", "-Infinity"], "--epochs", "integer from 1 to 100000"),
    (["train", "--lr", "0"], "--lr", "number > 0"),
    (["train", "--device", "tpu"], "--device", "cpu, cuda"),
    (["train", "--epochs", "100001"], "--epochs", "integer from 1 to 100000"),  # (t193)
    (["train", "--batch-size", "0"], "--batch-size", "integer >= 1"),
    (["train", "--limit", "0"], "--limit", "integer >= 1"),
    (["train", "--limit", "-5"], "--limit", "integer >= 1"),
    (["train", "--seed", "-1"], "--seed", "integer from 0 to"),
    (["train", "--seed", str(2**64)], "--seed", "integer from 0 to 18446744073709551615"),
    (["demo", "--seed", str(2**64)], "--seed", "integer from 0 to"),
    (["train", "--resume", "{huge_seed}"], "--resume", "written by `train`"),
    (["train", "--out", "{kit}/x.npz/"], "--out", "names a folder"),
    (["draw", "-o", "{kit}/g.svg/"], "--output", "names a folder"),
    (["train", "--out", "{loop_a}"], "--out", "loop of symbolic links"),
    (["draw", "-o", "{loop_c}"], "--output", "loop of symbolic links"),
    (["train", "--optimizer", "rmsprop"], "--optimizer", "choose from|sgd|adam"),
    (["train", "--model", "vgg16"], "--model", "choose from|lenet5"),
    (["train", "--out", "{a_file}/x.npz"], "--out", "a path in a folder"),
    (["train", "--out", "{a_file}/sub/x.npz"], "--out", "a path in a folder"),
    (["train", "--out", "{a_dir}"], "--out", "a file path"),
    (["train", "--out", "/proc/x.npz"], "--out", "writable folder"),
    (["train", "--out", "{notes}"], "--out", "a new path or an existing checkpoint"),
    (["train", "--out", ""], "--out", "expected a path"),
    (["train", "--resume", ""], "--resume", "expected a path"),
    (["train", "--data-dir", " "], "--data-dir", "expected a path"),
    (["evaluate", "--checkpoint", ""], "--checkpoint", "expected a path"),
    (["draw", "-o", ""], "--output", "expected a path"),
    (["train", "--data-dir", "{kit}/missing"], "--data-dir", "folder with the MNIST"),
    (["train", "--data-dir", "{a_file}"], "--data-dir", "folder with the MNIST"),
    (["train", "--resume", "{kit}/missing.npz"], "--resume", "checkpoint written by `train`"),
    (["train", "--resume", "{readme}"], "--resume", "not an .npz file"),
    (["train", "--resume", "{no_model_entry}"], "--resume", "no 'model' entry"),
    (["train", "--resume", "{other_model}"], "--resume", "known: lenet5"),
    (["train", "--resume", "{no_scheduler}"], "--resume", "written by `train`"),
    (["train", "--resume", "{weights_only}"], "--resume", "(it has no config)"),
    (["train", "--resume", "{bad_config}"], "--resume", "written by `train`"),
    (["train", "--resume", "{bad_shape}"], "--resume", "do not fit"),
    (["train", "--resume", "{sgd}", "--optimizer", "adam"], "--optimizer", "--optimizer sgd"),
    (["train", "--resume", "{adam}", "--optimizer", "sgd"], "--optimizer", "--optimizer adam"),
    (["train", "--resume", "{sgd}", "--out", "{notes}"], "--out", "existing checkpoint"),
    (["evaluate", "--checkpoint", "{no_model_entry}"], "--checkpoint", "no 'model' entry"),
    (["evaluate", "--checkpoint", "{other_model}"], "--checkpoint", "known: lenet5"),
    (["evaluate", "--checkpoint", "{bad_shape}"], "--checkpoint", "do not fit"),
    (["evaluate", "--checkpoint", "{readme}"], "--checkpoint", "not an .npz file"),
    (["evaluate", "--checkpoint", "{kit}/missing.npz"], "--checkpoint", "written by `train`"),
    (["evaluate", "--batch-size", "0"], "--batch-size", "integer >= 1"),
    (["evaluate", "--device", "tpu"], "--device", "cpu, cuda"),
    (["draw", "-o", "graph.bmp"], "--output", ".svg, .png"),
    (["draw", "-o", "{a_dir}"], "--output", "is a directory"),
    (["draw", "-o", "{a_file}/g.dot"], "--output", "a path in a folder"),
    (["draw", "-o", "{kit}/" + "a" * 300 + ".svg"], "--output", "more than the 255"),
    (["train", "--out", "b" * 250 + "é" * 10 + ".npz"], "--out", "274 bytes long"),  # UTF-8
    (["draw", "--batch", "0"], "--batch", "integer from 1 to"),
    (["draw", "--batch", "100000000"], "--batch", "integer from 1 to"),
    (["draw", "--max-nodes", "0"], "--max-nodes", "integer >= 1"),
    (["draw", "--model", "vgg16"], "--model", "choose from|lenet5"),
    (["demo", "--steps", "0"], "--steps", "integer >= 1"),
    (["demo", "--seed", "x"], "--seed", "integer from 0 to"),
]


def test_numbers_in_ascii_digits_are_read_as_python_reads_them():
    from tinygrad_cnn.cli import _int_range, _positive_float

    assert [_int_range(0)(t) for t in ("0", "+3", " 7 ", "010")] == [0, 3, 7, 10]
    assert [_positive_float(t) for t in ("0.1", "1e-3", ".5", "5.", "+2", " 3E1")] == [
        0.1, 1e-3, 0.5, 5.0, 2.0, 30.0]


@pytest.mark.parametrize("argv, flag, accepts", BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_invocation_is_one_error_line(tmp_path, checkpoints, argv, flag, accepts):
    argv = [a.format(**checkpoints) for a in argv]
    before = _snapshot(tmp_path, checkpoints["kit"])
    proc = cli_run(*argv, check=False, cwd=tmp_path, timeout=120)  # cwd: the default outputs
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert len(errors) == 1, proc.stderr
    assert f"argument {flag}" in errors[0] or f"/{flag}" in errors[0], errors[0]
    assert all(piece in errors[0] for piece in accepts.split("|")), errors[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert _snapshot(tmp_path, checkpoints["kit"]) == before  # nothing written, nothing left


@pytest.mark.parametrize("argv, unknown, accepts", [
    (["train", "--epoch", "2"], "--epoch 2 (did you mean --epochs?)", "--batch-size, --data-dir"),
    # (a prefix of --epochs trained 3 epochs: t193)
    (["train", "--e", "3"], "--e 3 (did you mean --epochs?)", "--epochs"),
    (["train", "--epochs", "1", "stray"], "stray", "--epochs, --help, --limit"),
    (["evaluate", "--chekpoint", "x"], "--chekpoint x (did you mean --checkpoint?)",
     "--batch-size, --checkpoint"),
    (["draw", "--backwards"], "--backwards (did you mean --backward?)", "--animate, --backward"),
    (["demo", "--sede", "1"], "--sede 1 (did you mean --seed?)", "--help, --seed, --steps"),
])
def test_an_unknown_flag_after_a_command_gets_that_commands_usage_and_flags(
        tmp_path, argv, unknown, accepts):
    """Was the top-level usage, naming nothing the command accepts; and a prefix of a flag (the
    typo --epoch) was taken for it, starting real work (t193)."""
    proc = cli_run(*argv, check=False, cwd=tmp_path, timeout=120)
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr
    assert errors[0].startswith(f"python -m tinygrad_cnn {argv[0]}: error: unrecognized arguments: "
                                f"{unknown}; it accepts "), errors[0]
    assert accepts in errors[0] and f"usage: python -m tinygrad_cnn {argv[0]}" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == "" and not list(tmp_path.iterdir())


def test_an_output_directory_gets_a_suggestion_of_the_commands_own_kind(tmp_path, capsys):
    (tmp_path / "d.svg").mkdir()
    with pytest.raises(SystemExit) as info:
        cli.main(["draw", "-o", str(tmp_path / "d.svg")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"such as {tmp_path / 'd.svg' / 'graph.svg'}" in err  # not out.npz, which draw refuses


def test_cuda_without_a_gpu_is_an_error_before_any_work(tmp_path):
    if is_available("cuda"):
        out = cli_run("train", "--device", "cuda", "--epochs", "0", check=False, cwd=tmp_path)
        assert out.returncode == 2 and "--epochs" in out.stderr  # the device itself was fine
        return
    out = cli_run("train", "--device", "cuda", check=False, cwd=tmp_path)
    assert out.returncode == 2 and "argument --device: device 'cuda' is not available" in out.stderr
    assert "Traceback" not in out.stderr and not any(tmp_path.iterdir())


def test_draw_text_suffix(tmp_path):
    """.txt is the text drawing where viz has one, and a clean error where it does not."""
    from tinygrad_cnn import viz

    out = cli_run("draw", "-o", tmp_path / "graph.txt", check=False)
    if hasattr(viz, "text"):
        assert out.returncode == 0, out.stderr
        assert (tmp_path / "graph.txt").read_text().strip()
    else:
        assert out.returncode == 2 and "Traceback" not in out.stderr
        assert "argument -o/--output" in out.stderr and ".dot" in out.stderr
        assert not any(tmp_path.iterdir())


def test_draw_dot_writes_the_file(tmp_path):
    out = cli_run("draw", "-o", tmp_path / "sub" / "g.dot", "--batch", "1")
    assert (tmp_path / "sub" / "g.dot").read_text().startswith("digraph")
    assert "wrote" in out.stdout


def test_draw_every_model_that_train_knows(tmp_path):
    """draw --model takes the models train does: ResNet-8's backward graph as text names its
    blocks and its BatchNorm VJPs."""
    out = cli_run("draw", "--model", "resnet8", "--backward", "-o", tmp_path / "r8.txt",
                  "--batch", "1")
    assert "wrote" in out.stdout
    page = (tmp_path / "r8.txt").read_text()
    assert "layer2" in page and "batch_norm" in page and page.startswith("# backward graph")


def test_draw_names_its_default_file_after_the_model(tmp_path):
    """draw --model resnet8 without -o wrote the ResNet-8 drawing to lenet5.svg."""
    import shutil

    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed (the README's install step adds it)")
    out = cli_run("draw", "--model", "resnet8", "--batch", "1", "--max-nodes", "20",
                  cwd=tmp_path)
    assert "wrote resnet8.svg" in out.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["resnet8.svg"]


def test_demo_runs():
    out = cli_run("demo", "--steps", "50")
    assert "final loss" in out.stdout


def test_evaluate_refuses_another_model_and_uses_the_checkpoints_own(tmp_path, monkeypatch,
                                                                      capsys):
    """In-process, with a second model registered: the checkpoint's model is built, a --model
    that differs is refused naming both."""
    from tinygrad_cnn import nn

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(28 * 28, 10)

        def forward(self, x):
            return self.fc(x.flatten(1))

    monkeypatch.setitem(MODELS, "tiny", Tiny)
    tiny = Tiny()
    tg.save({"model": tiny.state_dict(), "epoch": 1, "config": {"model": "tiny"}},
            tmp_path / "tiny.npz")
    with pytest.raises(SystemExit) as info:
        cli.main(["evaluate", "--checkpoint", str(tmp_path / "tiny.npz"), "--model", "lenet5"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --model" in err and "holds a tiny model, not lenet5" in err
    assert cli.main(["evaluate", "--checkpoint", str(tmp_path / "tiny.npz"), "--data-dir", DATA,
                     "--batch-size", "5000"]) == 0
    out = capsys.readouterr().out
    assert "(tiny, epoch 1)" in out and 0.0 <= last_accuracy(out) <= 1.0


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    out = cli_run("evaluate", "--checkpoint", tmp_path / "none.npz", check=False)
    assert out.returncode == 2 and "checkpoint not found" in out.stderr
    assert "Traceback" not in out.stderr


# ---------------------------------------------------------------------- resume rules
def test_resume_defaults_out_to_the_resumed_file(tmp_path, checkpoints):
    ck = tmp_path / "run.npz"
    ck.write_bytes(checkpoints["sgd"].read_bytes())
    out = cli_run("train", "--epochs", "2", "--resume", ck, "--data-dir", DATA, cwd=tmp_path)
    assert f"checkpoints to {ck}" in out.stdout
    assert tg.load(ck)["epoch"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]  # no checkpoints/ folder


def test_extending_a_finished_run_keeps_learning(tmp_path):
    """--epochs 1, then --epochs 2 --resume: the schedule is stretched, so epoch 2 learns -- at
    exactly the rate of a run planned for 2 epochs (whose epoch 1 has the same rate, the base),
    so the result is bit-identical to that run. Then --epochs 4: epoch 3 at the stretched rate."""
    common = ["--limit", "640", "--data-dir", DATA]
    cli_run("train", "--epochs", "2", *common, "--out", tmp_path / "straight.npz")
    ck = tmp_path / "ck.npz"
    cli_run("train", "--epochs", "1", *common, "--out", ck)
    first = weights(ck)
    out = cli_run("train", "--epochs", "2", "--resume", ck)  # the rest from the checkpoint
    assert "changed on resume: --epochs 1 -> 2 (the cosine schedule now ends at epoch 2)" \
        in out.stdout
    assert "epoch 2 at 0.01)" in out.stdout  # 0.02 * (1 + cos(pi / 2)) / 2
    assert any(not np.array_equal(first[k], v) for k, v in weights(ck).items())
    assert_same_weights(tmp_path / "straight.npz", ck)
    out = cli_run("train", "--epochs", "4", "--resume", ck)
    rate = 0.02 * (1 + math.cos(math.pi * 2 / 4)) / 2
    assert f"epoch 3 at {rate:.4g})" in out.stdout and "epoch 3:" in out.stdout
    state = tg.load(ck)
    assert state["epoch"] == 4 and state["config"]["epochs"] == 4
    assert state["scheduler"]["T_max"] == 4 and state["config"]["limit"] == 640


def test_resume_honours_a_new_lr_and_batch_size_and_says_so(tmp_path, checkpoints):
    ck = tmp_path / "ck.npz"
    ck.write_bytes(checkpoints["sgd"].read_bytes())
    out = cli_run("train", "--resume", ck, "--epochs", "2", "--lr", "0.005", "--batch-size",
                  "32", "--data-dir", DATA)
    assert "--lr 0.02 -> 0.005" in out.stdout and "--batch-size 64 -> 32" in out.stdout
    assert "sgd lr 0.005" in out.stdout and "batch 32" in out.stdout
    state = tg.load(ck)
    assert state["config"]["lr"] == 0.005 and state["config"]["batch_size"] == 32
    assert state["config"]["optimizer"] == "sgd"
    assert state["scheduler"]["base_lrs"] == [0.005]
    group = state["optimizer"]["param_groups"][0]
    assert group["initial_lr"] == 0.005 and group["weight_decay"] == 5e-4
    assert group["lr"] == 0.0  # the end of a 2-epoch cosine schedule
    assert "64 MNIST images" in out.stdout  # --limit came from the checkpoint


def test_resume_keeps_the_checkpoints_optimizer(tmp_path, checkpoints):
    ck = tmp_path / "ck.npz"
    ck.write_bytes(checkpoints["adam"].read_bytes())
    out = cli_run("train", "--resume", ck, "--epochs", "2", "--data-dir", DATA)
    assert "adam lr 0.001" in out.stdout
    state = tg.load(ck)
    assert state["config"]["optimizer"] == "adam" and state["config"]["lr"] == 0.001
    assert all(s["step"] == 2 for s in state["optimizer"]["state"].values())  # 1 step per epoch
    assert set(state["optimizer"]["param_groups"][0]) >= {"betas", "eps"}


def test_a_new_run_keeps_the_default_checkpoint_of_another(tmp_path, checkpoints):
    (tmp_path / "checkpoints").mkdir()
    ck = tmp_path / "checkpoints" / "lenet5.npz"
    earlier = checkpoints["sgd"].read_bytes()
    ck.write_bytes(earlier)
    out = cli_run("train", "--epochs", "1", "--limit", "64", "--data-dir", DATA, cwd=tmp_path)
    assert "kept as checkpoints/lenet5.previous.npz" in out.stdout
    assert (tmp_path / "checkpoints" / "lenet5.previous.npz").read_bytes() == earlier
    assert tg.load(ck)["config"]["limit"] == 64 and tg.load(ck)["config"]["resume"] is None
    out = cli_run("train", "--epochs", "1", "--limit", "64", "--data-dir", DATA, "--out", ck,
                  cwd=tmp_path)  # named explicitly: replaced, no copy kept
    assert "kept as" not in out.stdout


def test_resume_with_nothing_left_to_do_writes_nothing(tmp_path, checkpoints):
    before = checkpoints["sgd"].read_bytes()
    out = cli_run("train", "--resume", checkpoints["sgd"], "--epochs", "1", cwd=tmp_path)
    assert "nothing to do" in out.stdout and checkpoints["sgd"].read_bytes() == before
    assert not any(tmp_path.iterdir())


def test_a_full_disk_at_a_save_is_an_error_line_and_keeps_the_last_checkpoint(tmp_path,
                                                                              monkeypatch, capsys):
    import errno

    from tinygrad_cnn import serialization

    real_save, calls = serialization._save, []

    def save(obj, path, **options):
        calls.append(obj["epoch"])
        if obj["epoch"] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_save(obj, path, **options)

    monkeypatch.setattr(serialization, "_save", save)  # (the command line's own save)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ck = tmp_path / "ck.npz"
    code = cli.main(["train", "--epochs", "3", "--limit", "64", "--data-dir", DATA, "--out",
                     str(ck)])
    err = capsys.readouterr().err
    # (epoch 2 tried at --out, then in the two rescue folders: every save fails here)
    assert code == 1 and calls == [1, 2, 2, 2] and "was saved to" not in err
    assert f"error: could not save the checkpoint of epoch 2 to {ck}: No space left on device; " \
           f"{ck} still holds epoch 1" in err
    # (and that the rescue failed too: the epoch is lost, which the message said nowhere)
    assert f"Saving it to {tmp_path / 'cache' / 'tinygrad_cnn' / 'rescue'} or " in err
    assert "instead failed too: epoch 2's training is lost" in err
    assert tg.load(ck)["epoch"] == 1


# ----------------------------------------------------------------------- an eleventh outside pass
def test_one_run_at_a_time_per_checkpoint_and_no_earlier_run_deleted(tmp_path):
    """Two runs to one --out: the second is refused before any work (both used to save into it
    in turn, one run's epochs lost). Three runs to the default path keep both earlier ones
    (NAME.previous.npz, then NAME.previous-2.npz: the first was deleted)."""
    slow = subprocess.Popen([sys.executable, "-m", "tinygrad_cnn", "train", "--limit", "20000",
                             "--epochs", "2", "--data-dir", DATA, "--out", "a.npz"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not (tmp_path / ".a.npz.lock").exists() and time.time() < deadline:
            time.sleep(0.05)
        second = cli_run("train", "--limit", "300", "--epochs", "1", "--data-dir", DATA, "--out",
                         "a.npz", check=False, cwd=tmp_path)
        assert second.returncode == 2 and "another run is writing a.npz" in second.stderr
    finally:
        slow.communicate(timeout=300)
    assert slow.returncode == 0 and not (tmp_path / ".a.npz.lock").exists()  # tidied up
    for seed in ("1", "2", "3"):
        cli_run("train", "--limit", "300", "--epochs", "1", "--seed", seed, "--data-dir", DATA,
                cwd=tmp_path)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["lenet5.npz", "lenet5.previous-2.npz", "lenet5.previous.npz"]
    seeds = [tg.load(tmp_path / "checkpoints" / n)["config"]["seed"] for n in names]
    assert seeds == [3, 2, 1]


def test_resume_with_fewer_epochs_and_crafted_epochs_are_refused(tmp_path):
    cli_run("train", "--limit", "300", "--epochs", "2", "--data-dir", DATA, "--out", "r.npz",
            cwd=tmp_path)
    fewer = cli_run("train", "--resume", "r.npz", "--epochs", "1", check=False, cwd=tmp_path)
    assert fewer.returncode == 2 and "already has 2 epochs" in fewer.stderr
    state = tg.load(tmp_path / "r.npz")
    state["epoch"] = 10**30  # replayed the schedule that many times (a hang)
    tg.save(state, tmp_path / "crafted.npz")
    crafted = cli_run("train", "--resume", "crafted.npz", check=False, cwd=tmp_path, timeout=60)
    assert crafted.returncode == 2 and "cannot be" in crafted.stderr


def test_read_only_outputs_unreadable_data_and_the_environment_folder(tmp_path):
    cli_run("train", "--limit", "300", "--epochs", "1", "--data-dir", DATA, "--out", "ro.npz",
            cwd=tmp_path)
    before = (tmp_path / "ro.npz").read_bytes()
    (tmp_path / "ro.npz").chmod(0o444)
    ro = cli_run("train", "--limit", "300", "--epochs", "1", "--data-dir", DATA, "--out",
                 "ro.npz", check=False, cwd=tmp_path)
    assert ro.returncode == 2 and "is read-only" in ro.stderr
    assert (tmp_path / "ro.npz").read_bytes() == before
    env = dict(os.environ, TINYGRAD_CNN_DATA=str(tmp_path / "missing"))
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--limit", "300",
                           "--out", "e.npz"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "TINYGRAD_CNN_DATA" in proc.stderr
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--limit", "300",
                           "--epochs", "1", "--data-dir", DATA, "--out", "ü.npz"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "\\xfc" in proc.stdout


def test_a_ctrl_c_during_a_save_is_held_until_the_checkpoint_is_whole():
    """The epoch being saved is kept: Ctrl-C inside the save block is raised after it."""
    done = []
    with pytest.raises(KeyboardInterrupt):
        with cli._interrupt_after() as interrupted:
            os.kill(os.getpid(), signal.SIGINT)
            done.append("saved")
        assert interrupted and done == ["saved"]
        raise KeyboardInterrupt


def test_a_failed_drawing_leaves_the_old_one_whole(tmp_path):
    import resource

    cli_run("draw", "-o", "g.dot", cwd=tmp_path)
    before = (tmp_path / "g.dot").read_bytes()

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "draw", "--model", "resnet8",
                           "-o", "g.dot"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, preexec_fn=small_files)
    assert proc.returncode == 1 and "could not write g.dot" in proc.stderr
    assert "keeps what it held" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "g.dot").read_bytes() == before


def test_the_earlier_run_is_kept_under_a_name_free_when_it_is_moved(tmp_path):
    """The backup name was chosen at start and renamed over at the first save: a file (or another
    run's lock) that appeared there meanwhile was replaced. Now it is chosen when the earlier
    run is moved, and a hard link never replaces a file."""
    out = tmp_path / "lenet5.npz"
    out.write_bytes(b"earlier run")
    (tmp_path / "lenet5.previous.npz").write_bytes(b"appeared meanwhile")
    (tmp_path / ".lenet5.previous-2.npz.lock").write_bytes(b"")  # another run writes there
    backup = cli._keep_earlier_run(out)
    assert backup.name == "lenet5.previous-3.npz" and backup.read_bytes() == b"earlier run"
    assert (tmp_path / "lenet5.previous.npz").read_bytes() == b"appeared meanwhile"


def test_sigterm_stops_a_run_as_ctrl_c_does_and_a_diverging_run_saves_nothing(tmp_path):
    """SIGTERM left a stale lock and no word; a run whose loss went to NaN (--lr 1e308) exited 0
    and wrote NaN weights over the checkpoint."""
    cli_run("train", "--limit", "300", "--epochs", "1", "--data-dir", DATA, "--out", "good.npz",
            cwd=tmp_path)
    before = (tmp_path / "good.npz").read_bytes()
    bad = cli_run("train", "--resume", "good.npz", "--epochs", "2", "--lr", "1e308",
                  check=False, cwd=tmp_path)
    assert bad.returncode == 1 and "training diverged in epoch 2" in bad.stderr
    assert "good.npz is unchanged" in bad.stderr and "Warning" not in bad.stderr
    assert (tmp_path / "good.npz").read_bytes() == before
    if os.name != "posix":
        return
    run = _run_holding_its_lock(tmp_path, "t.npz")
    run.send_signal(signal.SIGTERM)
    err = _stderr(run)
    assert run.returncode == 143 and "terminated during epoch 1" in err
    assert not (tmp_path / ".t.npz.lock").exists() and "Traceback" not in err


def _run_holding_its_lock(cwd, out):
    """A one-epoch `train` run writing ``out`` (relative to ``cwd``), returned once its progress
    bar shows the first step of epoch 1 (so it holds its lock, and a signal sent now lands inside
    the epoch; a fixed wait after the lock appeared landed before it on a loaded machine). Its
    stderr goes to a file: ``_stderr(run)`` reads it once the run has ended."""
    err_path = Path(cwd).parent / f"{Path(cwd).name}.stderr"
    with open(err_path, "w") as err:
        run = subprocess.Popen([sys.executable, "-m", "tinygrad_cnn", "train", "--limit", "60000",
                                "--epochs", "1", "--data-dir", DATA, "--out", str(out)], cwd=cwd,
                               stdout=subprocess.PIPE, stderr=err, text=True)
    run.err_path = err_path
    deadline = time.time() + 120
    while run.poll() is None and "epoch 1/1 |" not in err_path.read_text() and \
            time.time() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, err_path.read_text()
    return run


def _stderr(run):
    run.communicate(timeout=120)
    return run.err_path.read_text()


def test_the_environment_data_folder_is_used_or_refused_like_data_dir(tmp_path):
    """An existing folder without the files in TINYGRAD_CNN_DATA was passed over for ./data/mnist
    without a word; now, as --data-dir, the files must be (or be downloaded) there."""
    empty = tmp_path / "empty"
    empty.mkdir()
    env = dict(os.environ, TINYGRAD_CNN_DATA=str(empty),
               TINYGRAD_CNN_MNIST_MIRRORS="http://127.0.0.1:9/")  # (no download here)
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--limit", "64",
                           "--epochs", "1", "--out", "x.npz"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and str(empty) in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.npz").exists()
    env["TINYGRAD_CNN_DATA"] = DATA
    ok = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--limit", "64",
                         "--epochs", "1", "--out", "x.npz"], cwd=tmp_path, env=env,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr


# ------------------------------------------------------------ found by an outside tester (CLI)
def test_an_immutable_output_is_refused_before_any_work(tmp_path, checkpoints):
    """chattr +i leaves the mode bits writable (root too): the run trained a whole epoch and then
    could not save it. Now the file is opened for appending up front."""
    target = tmp_path / "imm.npz"
    target.write_bytes(checkpoints["sgd"].read_bytes())
    if subprocess.run(["chattr", "+i", str(target)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i does not work here (no e2fsprogs, file system or privileges)")
    try:
        proc = cli_run("train", "--epochs", "1", "--limit", "64", "--data-dir", DATA, "--out",
                       target, check=False, timeout=120)
        assert proc.returncode == 2 and "cannot be replaced" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and "epoch 1" not in proc.stdout
    finally:
        subprocess.run(["chattr", "-i", str(target)], capture_output=True)


def test_resume_of_a_read_only_checkpoint_names_resume(tmp_path, checkpoints):
    ro = tmp_path / "ro.npz"
    ro.write_bytes(checkpoints["sgd"].read_bytes())
    ro.chmod(0o444)
    proc = cli_run("train", "--resume", ro, "--epochs", "2", "--data-dir", DATA, check=False,
                   timeout=120)
    assert proc.returncode == 2 and "argument --resume:" in proc.stderr and "read-only" in \
        proc.stderr, proc.stderr


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_a_stale_lock_goes_and_a_run_stopped_before_its_first_save_leaves_no_folders(tmp_path):
    """A SIGKILLed run's lock file stayed forever (the next run did not remove what it had not
    made); a run stopped before its first save left the folders it made for --out, empty."""
    out = tmp_path / "new" / "deeper" / "c.npz"
    out.parent.mkdir(parents=True)
    (out.parent / ".c.npz.lock").write_text("")  # left by a killed run
    cli_run("train", "--epochs", "1", "--limit", "64", "--data-dir", DATA, "--out", out)
    assert out.is_file() and not (out.parent / ".c.npz.lock").exists()
    run = _run_holding_its_lock(tmp_path, Path("other") / "sub" / "d.npz")
    run.send_signal(signal.SIGINT)
    err = _stderr(run)
    assert run.returncode == 130, err
    assert not (tmp_path / "other").exists()  # the folders it made, empty, are gone


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_a_flood_of_sigterms_ends_the_run_once_without_a_traceback(tmp_path):
    run = _run_holding_its_lock(tmp_path, "t.npz")
    for _ in range(40):
        if run.poll() is not None:
            break
        run.send_signal(signal.SIGTERM)
        time.sleep(0.003)
    err = _stderr(run)
    assert run.returncode == 143 and "terminated during epoch 1" in err, err
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_draw_replaces_only_an_earlier_drawing(tmp_path, capsys):
    """Found by an outside tester: `draw -o w.txt` replaced a checkpoint named w.txt (and a user's
    notes) without a word, where `train --out` refuses a file that is not a checkpoint."""
    ckpt = tmp_path / "w.txt"
    tg.save({"model": LeNet5().state_dict()}, ckpt)
    notes = tmp_path / "notes.txt"
    notes.write_text("precious\n")
    html = tmp_path / "page.html"
    html.write_text("<!DOCTYPE html><html><body>my page</body></html>")
    png = tmp_path / "photo.svg"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))  # an image, whatever its name: replaced
    dot_notes = tmp_path / "theory.dot"
    dot_notes.write_text("graph theory notes: a digraph has arrows\n")
    kept = {p: p.read_bytes() for p in (ckpt, notes, html, dot_notes)}
    for path, what, extra in ((ckpt, "is a tinygrad_cnn checkpoint", ()),
                              (notes, "is not a drawing", ()),
                              (dot_notes, "is not a drawing", ()),
                              (html, "is not a drawing", ("--animate",))):
        with pytest.raises(SystemExit) as info:
            cli.main(["draw", *extra, "-o", str(path)])
        err = capsys.readouterr().err
        assert info.value.code == 2
        errors = [ln for ln in err.splitlines() if "error:" in ln]
        assert len(errors) == 1 and f"{path} exists and {what}; refusing to overwrite" in errors[0]
    assert {p: p.read_bytes() for p in kept} == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "page.html", "photo.svg",
                                                          "theory.dot", "w.txt"]
    # what draw wrote, it replaces: the text form, DOT, an --animate page, an image
    for name, extra in (("g.txt", ()), ("g.dot", ()), ("b.html", ("--animate",))):
        for _ in range(2):
            assert cli.main(["draw", "--batch", "1", *extra, "-o", str(tmp_path / name)]) == 0
    if shutil.which("dot"):
        for _ in range(2):
            assert cli.main(["draw", "--batch", "1", "-o", str(tmp_path / "g.svg")]) == 0
        assert cli.main(["draw", "--batch", "1", "-o", str(png)]) == 0
        assert png.read_bytes().lstrip().startswith(b"<?xml")
    capsys.readouterr()


def test_draw_refuses_a_flag_it_would_ignore_and_names_a_folder_as_one(tmp_path):
    """An outside tester: `draw --animate --backward` ran with --backward doing nothing, and
    `draw -o /tmp` said only "cannot write a drawing to 'tmp'"."""
    proc = cli_run("draw", "--animate", "--backward", "-o", tmp_path / "a.html", check=False)
    assert proc.returncode == 2 and "--backward: not with --animate" in proc.stderr
    assert not (tmp_path / "a.html").exists() and "Traceback" not in proc.stderr
    proc = cli_run("draw", "-o", tmp_path, check=False)
    assert proc.returncode == 2 and f"{tmp_path} is a directory" in proc.stderr


@pytest.mark.parametrize("extra,name", [((), "l.txt"), (("--animate",), "l.html")])
def test_draw_refuses_max_nodes_where_every_op_is_listed(tmp_path, extra, name):
    """(an outside tester: `draw -o l.txt --max-nodes 3` was taken and did nothing)"""
    proc = cli_run("draw", *extra, "--max-nodes", "3", "-o", tmp_path / name, check=False)
    assert proc.returncode == 2 and "argument --max-nodes:" in proc.stderr
    assert "lists every op" in proc.stderr and not (tmp_path / name).exists()


@pytest.mark.parametrize("late", ["after the last save", "while letting go"])
def test_a_ctrl_c_after_the_run_finished_exits_0(tmp_path, monkeypatch, capsys, late):
    """(an outside tester: a Ctrl-C 30-80 ms after the last line exited 130 'interrupted', though
    the run had finished and its checkpoint was whole)"""
    from tinygrad_cnn import cli
    if late == "after the last save":
        say = cli._say

        def interrupted_after_epoch_line(*parts, **kw):
            say(*parts, **kw)
            if parts and str(parts[0]).startswith("epoch 1:"):
                raise KeyboardInterrupt
        monkeypatch.setattr(cli, "_say", interrupted_after_epoch_line)
    else:
        release = cli._release

        def interrupted_release():
            release()
            raise KeyboardInterrupt
        monkeypatch.setattr(cli, "_release", interrupted_release)
    out = tmp_path / "ck.npz"
    status = cli.main(["train", "--epochs", "1", "--limit", "64", "--data-dir", DATA,
                       "--out", str(out)])
    assert status == 0 and tg.load(out)["epoch"] == 1
    assert "interrupted" not in capsys.readouterr().err


def test_an_output_path_the_user_did_not_name_is_said_to_be_the_default():
    """(an outside tester: from an unusable folder, 'argument --out: cannot create a file in
    folder .', though no --out was given)"""
    if not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc, a folder no one can create files in (root neither)")
    for command, default in (("train", "checkpoints/lenet5.npz"), ("draw", "lenet5.svg")):
        args = [sys.executable, "-m", "tinygrad_cnn", command] + (
            ["--data-dir", str(Path(DATA).resolve())] if command == "train" else [])
        proc = subprocess.run(args, cwd="/proc", capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1])))
        assert proc.returncode == 2, proc.stderr
        assert f"{default} is the default output path" in proc.stderr


@pytest.mark.parametrize("columns", [200, 60, 30, 5])
def test_the_progress_bar_fits_one_terminal_row(monkeypatch, columns):
    """(an outside tester: a 66-75 character line on a narrower terminal wrapped, and each
    redraw stacked a new row)"""
    import io

    from tinygrad_cnn.cli import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("COLUMNS", str(columns))
    term = Terminal()
    bar = ProgressBar("epoch 10/10", stream=term)
    for step in (1, 500, 938):
        bar.update(step, 938, 0.1234, 12345.6)
    rows = term.getvalue().split("\r")[1:]
    assert rows and all(len(r.rstrip("\n")) < columns for r in rows)
    assert ("938/938" in rows[-1]) == (columns >= 30)


def test_a_signal_after_the_command_finished_leaves_its_status(tmp_path):
    """(outside tester t89: a Ctrl-C after 'wrote a.svg', once main() had returned, ended the
    process by SIGINT: status 130 for a whole drawing)"""
    code = ("import os, signal, sys\nfrom tinygrad_cnn import cli\n"
            f"status = cli.main(['draw', '-o', {str(tmp_path / 'a.svg')!r}], _whole_process=True)\n"
            "os.kill(os.getpid(), signal.SIGINT)\nos.kill(os.getpid(), signal.SIGTERM)\n"
            "print('still here', status)\nsys.exit(status)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1])))
    assert proc.returncode == 0 and "still here 0" in proc.stdout, proc.stderr
    assert (tmp_path / "a.svg").stat().st_size > 0


def test_a_ctrl_c_while_the_arguments_are_read_is_one_line(monkeypatch, capsys):
    """(outside tester t89: a KeyboardInterrupt traceback from parse_args, outside main's try)"""
    from tinygrad_cnn import cli

    def interrupted():
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["draw"]) == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_evaluate_says_the_checkpoint_it_looked_for_is_the_default(tmp_path):
    """(outside tester t89: `evaluate` alone did not say checkpoints/lenet5.npz was its default)"""
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "evaluate"], cwd=tmp_path,
                          capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1])))
    assert proc.returncode == 2
    assert "checkpoints/lenet5.npz is the default; pass --checkpoint PATH" in proc.stderr


def test_a_read_only_file_at_the_default_path_is_kept_as_the_previous_run(tmp_path):
    # (was: a whole epoch trained, then "is read-only" and the epoch went to the rescue folder;
    # the earlier file at the default path is kept as NAME.previous.npz, with its mode, anyway)
    (tmp_path / "checkpoints").mkdir()
    earlier = tmp_path / "checkpoints" / "lenet5.npz"
    earlier.write_text("notes")
    earlier.chmod(0o444)
    proc = cli_run("train", "--limit", "64", "--epochs", "1", "--data-dir", DATA, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    kept = tmp_path / "checkpoints" / "lenet5.previous.npz"
    assert kept.read_text() == "notes" and stat.S_IMODE(kept.stat().st_mode) == 0o444
    assert tg.load(earlier)["epoch"] == 1


def test_a_dangling_symlink_as_output_is_written_through_or_refused_alike(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "nowhere" / "q.svg", tmp_path / "dq.svg")
    os.symlink(tmp_path / "nowhere" / "zz.npz", tmp_path / "dang.npz")
    os.symlink("real/ok.npz", tmp_path / "ok.npz")
    draw = cli_run("draw", "-o", "dq.svg", check=False, cwd=tmp_path)
    train = cli_run("train", "--limit", "32", "--epochs", "1", "--data-dir", DATA, "--out",
                    "dang.npz", check=False, cwd=tmp_path)
    for proc, flag in ((draw, "-o/--output"), (train, "--out")):
        assert proc.returncode == 2 and f"argument {flag}:" in proc.stderr
        assert "is a symbolic link to" in proc.stderr and "whose folder" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "nowhere").exists()  # (draw made the link's folder)
    cli_run("train", "--limit", "32", "--epochs", "1", "--data-dir", DATA, "--out", "ok.npz",
            cwd=tmp_path)
    assert (tmp_path / "ok.npz").is_symlink() and tg.load(tmp_path / "real" / "ok.npz")["epoch"] == 1


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_standard_output_lost_to_a_full_disk_is_an_error(tmp_path):
    cli_run("train", "--limit", "32", "--epochs", "1", "--data-dir", DATA, "--out", "c.npz",
            cwd=tmp_path)
    command = [sys.executable, "-m", "tinygrad_cnn", "evaluate", "--checkpoint", "c.npz",
               "--data-dir", DATA]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True,
                              cwd=tmp_path, timeout=120)
    assert proc.returncode == 1 and "error: could not write to standard output" in proc.stderr
    assert "Traceback" not in proc.stderr
    # train's work is its checkpoint: saved, said, status 0 (test_session14_fixes.py)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--limit", "32",
                               "--epochs", "1", "--data-dir", DATA, "--out", "d.npz"],
                              stdout=full, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                              timeout=120)
    assert proc.returncode == 0 and "warning: could not write to standard output" in proc.stderr
    assert "(the checkpoints are saved)" in proc.stderr and (tmp_path / "d.npz").exists()
    closed = subprocess.run(["sh", "-c", " ".join(map(shlex.quote, command)) + " >&-"],
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=120)
    assert closed.returncode == 1 and "(it is closed)" in closed.stderr  # (python ... >&-)
    # a reader that stops early (`| head -1`) is no error
    head = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    head.stdout.readline()
    head.stdout.close()
    assert head.wait(timeout=120) == 0 and b"Traceback" not in head.stderr.read()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_help_lost_to_a_full_disk_is_an_error(tmp_path):
    # (was: argparse drops a failed write, and `--help > /dev/full` ended with status 0)
    for args in (["--help"], ["train", "--help"], ["draw", "-h"]):
        with open("/dev/full", "w") as full:
            proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", *args], stdout=full,
                                  stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=120)
        assert proc.returncode == 1, (args, proc.stderr)
        assert "error: could not write the help to standard output" in proc.stderr
        assert "Traceback" not in proc.stderr
    shown = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--help"],
                           capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert shown.returncode == 0 and "--epochs" in shown.stdout and shown.stdout.endswith("\n")
    # a usage error still goes to standard error, with status 2, even when that is full
    with open("/dev/full", "w") as full:
        bad = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "train", "--epochs", "x"],
                             stdout=subprocess.PIPE, stderr=full, text=True, cwd=tmp_path,
                             timeout=120)
    assert bad.returncode == 2 and bad.stdout == ""


def test_a_leading_tilde_is_the_home_folder(tmp_path):
    # (was: `--out=~/ck.npz` -- no shell expansion after `=` -- made a folder named ~ here)
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "HOME": str(home)}
    run = [sys.executable, "-m", "tinygrad_cnn", "train", "--limit", "32", "--epochs", "1",
           "--data-dir", DATA, "--out=~/ck.npz"]
    proc = subprocess.run(run, capture_output=True, text=True, cwd=work, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (home / "ck.npz").exists() and not (work / "~").exists()
    assert f"saved {home / 'ck.npz'}" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "tinygrad_cnn", "evaluate",
                          "--checkpoint=~nosuchuser9/x.npz"], capture_output=True, text=True,
                         cwd=work, env=env, timeout=300)
    assert bad.returncode == 2 and "starts with ~, which names no home folder" in bad.stderr
    assert "Traceback" not in bad.stderr and not (work / "~nosuchuser9").exists()


def test_out_replaces_only_a_training_checkpoint(tmp_path):
    # (was: any file tg.save wrote -- results, bare weights -- was replaced without a word)
    tg.save({"acc": 0.9, "losses": [1.0, 2.0]}, tmp_path / "results.npz")
    tg.save({"model": LeNet5().state_dict()}, tmp_path / "w.npz")
    # the usual hand-written checkpoint, and a run of train's with a key of the user's added
    tg.save({"model": LeNet5().state_dict(), "config": {"lr": 0.1, "note": "mine"}},
            tmp_path / "mine.npz")
    cli_run("train", "--limit", "32", "--epochs", "1", "--data-dir", DATA, "--out", "r.npz",
            cwd=tmp_path)
    noted = tg.load(tmp_path / "r.npz")
    noted["notes"] = "a good run"
    tg.save(noted, tmp_path / "noted.npz")
    for name, found in (("results.npz", "it has besides ['acc', 'losses']"),
                        ("w.npz", "it lacks ['config', 'epoch'"),
                        ("mine.npz", "its config names no model of train's"),
                        ("noted.npz", "it has besides ['notes']")):
        before = (tmp_path / name).read_bytes()
        proc = cli_run("train", "--limit", "32", "--epochs", "1", "--data-dir", DATA, "--out",
                       name, check=False, cwd=tmp_path)
        assert proc.returncode == 2 and "not a checkpoint written by `train`" in proc.stderr
        assert found in proc.stderr and (tmp_path / name).read_bytes() == before, proc.stderr
    cli_run("train", "--limit", "32", "--epochs", "1", "--data-dir", DATA, "--out", "r.npz",
            cwd=tmp_path)  # a run of train's is replaced


def test_state_dict_keys_that_are_not_strings_and_numpy_int_keys():
    from tinygrad_cnn import nn

    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="state_dict keys must be str .* got 1 \\(int\\)"):
        m.load_state_dict({1: tg.ones(1), **m.state_dict()})


def test_save_keeps_numpy_integer_keys_as_ints(tmp_path):
    np = pytest.importorskip("numpy")
    tg.save({np.int64(3): "a", 4: "b", "c": 5}, tmp_path / "k.npz")
    assert tg.load(tmp_path / "k.npz") == {3: "a", 4: "b", "c": 5}


def test_a_crafted_data_dir_or_epoch_in_a_checkpoint_is_named(tmp_path):
    # (an outside tester: a number as the config's data_dir was ignored -- the default places'
    # files used; evaluate showed "epoch three" as if it were one)
    cli_run("train", "--limit", "200", "--epochs", "1", "--data-dir", DATA, "--out", "r.npz",
            cwd=tmp_path)
    state = tg.load(tmp_path / "r.npz")
    state["config"]["data_dir"] = 5
    tg.save(state, tmp_path / "dir.npz")
    bad = cli_run("train", "--resume", "dir.npz", "--epochs", "2", check=False, cwd=tmp_path,
                  timeout=60)
    assert bad.returncode == 2 and "has data_dir=5 in its config" in bad.stderr
    state = tg.load(tmp_path / "r.npz")
    state["epoch"] = "three"
    tg.save(state, tmp_path / "epoch.npz")
    shown = cli_run("evaluate", "--checkpoint", "epoch.npz", "--data-dir", DATA, cwd=tmp_path)
    assert "epoch 'three', not an epoch count" in shown.stdout + shown.stderr
