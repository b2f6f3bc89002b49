"""Regressions found by outside testers in the nn package, each checked against PyTorch: BatchNorm's
``track_running_stats`` and ``None`` buffers after construction, float16 running statistics, the
pooling, padding and norm layers' attributes and reprs, Module's registration rules, and the API
that ported CNN code uses (``reset_parameters``, ``ParameterList``/``ParameterDict``, ...)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, nn

torch = pytest.importorskip("torch")
tnn = torch.nn


def both(x):
    return Tensor(x), torch.tensor(x)


def arr(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


# ------------------------------------------------------------------ 1. BatchNorm's flags and buffers
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("cls", ["BatchNorm1d", "BatchNorm2d"])
def test_batch_norm_track_running_stats_switched_off_after_construction(cls, training):
    shape = (4, 2, 3, 3) if cls == "BatchNorm2d" else (4, 2, 3)
    x = np.random.RandomState(0).randn(*shape).astype(np.float32) * 2 + 1
    mods = []
    for lib in (nn, tnn):
        m = getattr(lib, cls)(2)
        with (tg.no_grad() if lib is nn else torch.no_grad()):
            m.running_mean.fill_(0.5)
            m.running_var.fill_(4.0)
        m.train(training)
        m.track_running_stats = False
        mods.append((m, m(Tensor(x) if lib is nn else torch.tensor(x))))
    (ours, y), (theirs, ty) = mods
    np.testing.assert_allclose(arr(y), arr(ty), rtol=1e-5, atol=1e-6)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(arr(getattr(ours, name)), arr(getattr(theirs, name)))


@pytest.mark.parametrize("track", [True, False])
def test_batch_norm_eval_without_running_stats_uses_the_batch(track):
    x = np.random.RandomState(1).randn(4, 2, 3, 3).astype(np.float32) * 3 - 2
    outs = []
    for lib in (nn, tnn):
        m = lib.BatchNorm2d(2).eval()
        m.running_mean = m.running_var = None
        m.track_running_stats = track
        outs.append(arr(m(Tensor(x) if lib is nn else torch.tensor(x))))
        assert m.running_mean is None and m.running_var is None
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_batch_norm_tracking_switched_on_without_buffers_uses_the_batch():
    x = np.random.RandomState(2).randn(4, 2, 3).astype(np.float32)
    outs = []
    for lib in (nn, tnn):
        m = lib.BatchNorm1d(2, track_running_stats=False)
        m.track_running_stats = True  # (no buffers to update: PyTorch uses the batch and counts none)
        outs.append(arr(m(Tensor(x) if lib is nn else torch.tensor(x))))
        assert m.num_batches_tracked is None
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)
