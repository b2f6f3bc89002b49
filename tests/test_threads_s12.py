"""Thread counts an outside tester (t20) found accepted although no machine can run them:
``TINYGRAD_CNN_THREADS=100000`` made the first convolution fail with "can't start new thread",
a 20-digit value hung, and ``set_num_threads(10**20)`` was taken."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import parallel


@pytest.mark.parametrize("value", ["100000", "99999999999999999999", "1025"])
def test_a_thread_count_past_the_maximum_warns_and_keeps_the_default(value):
    code = ("import warnings, tinygrad_cnn as tg\n"
            "from tinygrad_cnn import nn\n"
            "y = nn.Conv2d(3, 8, 3)(tg.randn(64, 3, 32, 32))\n"
            "print(tg.get_num_threads())\n")
    env = {**os.environ, "TINYGRAD_CNN_THREADS": value}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) == min(os.cpu_count() or 1, parallel.MAX_THREADS)
    assert "TINYGRAD_CNN_THREADS" in proc.stderr and "(at most 1024)" in proc.stderr


def test_set_num_threads_refuses_counts_past_the_maximum():
    before = tg.get_num_threads()
    for n in (10**20, parallel.MAX_THREADS + 1):
        with pytest.raises(ValueError, match=r"\(at most 1024"):
            tg.set_num_threads(n)
        with pytest.raises(ValueError, match=r"\(at most 1024"):
            parallel.set_threads(n)
    assert tg.get_num_threads() == before
    tg.set_num_threads(parallel.MAX_THREADS)  # the maximum itself is taken
    try:
        assert tg.get_num_threads() == parallel.MAX_THREADS
    finally:
        tg.set_num_threads(before)
