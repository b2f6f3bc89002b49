"""The CuPy backend against the CPU (float64). These run only where CuPy and a CUDA GPU are
present; `python -m benchmarks.gpu` runs them (and timings) on a GPU machine."""

from __future__ import annotations

import pytest

import tinygrad_cnn as tg

pytestmark = pytest.mark.skipif(not tg.is_available("cuda"),
                                reason="no CUDA device here; run `python -m benchmarks.gpu` on "
                                       "a GPU machine")


def test_ops_and_lenet_steps_match_the_cpu():
    from benchmarks.gpu import parity_checks

    assert parity_checks() == []


def test_gradcheck_on_the_device():
    from benchmarks.gpu import gradcheck_on_gpu

    assert gradcheck_on_gpu()


def test_training_on_the_device_learns():
    from benchmarks.gpu import train_on_gpu

    assert train_on_gpu(steps=200)["test accuracy"] > 0.9


def test_devices_do_not_mix():
    import numpy as np

    a = tg.Tensor(np.ones(2), device="cuda")
    with pytest.raises(RuntimeError, match="different devices"):
        a + tg.Tensor(np.ones(2))
