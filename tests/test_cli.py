"""The command line: train learns, evaluate agrees, resume continues exactly, a killed or
interrupted run leaves its last checkpoint loadable, --help everywhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as tg

DATA = str(Path(__file__).resolve().parents[1] / "data" / "mnist")


def cli(*args, timeout=300, check=True):
    proc = subprocess.run([sys.executable, "-m", "tinygrad_cnn", *args], capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def last_accuracy(text):
    line = [ln for ln in text.strip().splitlines() if "test accuracy:" in ln][-1]
    return float(line.rsplit("test accuracy:", 1)[1].split()[0])


def test_train_learns_and_evaluate_agrees(tmp_path):
    ck = tmp_path / "ck.npz"
    out = cli("train", "--epochs", "1", "--limit", "2000", "--data-dir", DATA, "--out", str(ck))
    acc = last_accuracy(out.stdout)
    assert acc > 0.3, out.stdout  # chance is 0.1; 2000 images at batch 64 are 32 steps
    assert "epoch 1/1" in out.stderr and "img/s" in out.stderr  # the progress bar
    ev = cli("evaluate", "--checkpoint", str(ck), "--data-dir", DATA)
    assert ev.stdout.strip().splitlines()[-1] == f"test accuracy: {acc:.4f}"
    state = tg.load(ck)
    assert state["epoch"] == 1 and set(state) >= {"model", "optimizer", "epoch"}


def test_resume_continues_exactly_like_an_uninterrupted_run(tmp_path):
    common = ["--epochs", "2", "--limit", "3000", "--data-dir", DATA]
    cli("train", *common, "--out", str(tmp_path / "straight.npz"))
    proc, ck = _start_training(tmp_path, epochs="2", wait=0.0)  # killed right after epoch 1
    proc.kill()
    proc.communicate()
    assert tg.load(ck)["epoch"] == 1
    out = cli("train", *common, "--out", str(ck), "--resume", str(ck))
    assert "resumed from" in out.stdout and "after epoch 1" in out.stdout
    assert "epoch 2:" in out.stdout and "epoch 1:" not in out.stdout
    a, b = tg.load(tmp_path / "straight.npz"), tg.load(ck)
    assert a["epoch"] == b["epoch"] == 2
    for k in a["model"]:
        np.testing.assert_array_equal(a["model"][k].numpy(), b["model"][k].numpy(), err_msg=k)
    assert a["test_accuracy"] == b["test_accuracy"]


def _start_training(tmp_path, epochs="4", wait=0.5):
    ck = tmp_path / "ck.npz"
    proc = subprocess.Popen([sys.executable, "-m", "tinygrad_cnn", "train", "--epochs", epochs,
                             "--limit", "3000", "--data-dir", DATA, "--out", str(ck)],
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
    from tinygrad_cnn.models import LeNet5

    model = LeNet5()
    model.load_state_dict(state["model"])


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery")
def test_ctrl_c_stops_cleanly(tmp_path):
    proc, ck = _start_training(tmp_path)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "interrupted during epoch" in err and "is intact" in err and "Traceback" not in err
    assert tg.load(ck)["epoch"] >= 1


@pytest.mark.parametrize("command", ["train", "evaluate", "draw", "demo"])
def test_help(command):
    out = cli(command, "--help")
    assert "usage:" in out.stdout and command in out.stdout


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    out = cli("evaluate", "--checkpoint", str(tmp_path / "none.npz"), check=False)
    assert out.returncode == 1 and "checkpoint not found" in out.stderr
    assert "Traceback" not in out.stderr
