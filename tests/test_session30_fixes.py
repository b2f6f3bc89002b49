"""Regression tests for what the thirtieth session's outside testers (and its own reading) found."""

from __future__ import annotations

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
