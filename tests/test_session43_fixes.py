"""Fixes of the forty-third session (outside testers t183, t184; a fifth CPU kind, Zen 2)."""

from __future__ import annotations

import io

import numpy as np
import pytest

import tinygrad_cnn as tg


# ------------------------------------------------------------------------------ t184: figures
def _three_figures():
    from tinygrad_cnn import viz
    from tinygrad_cnn.models import LeNet5

    tg.manual_seed(0)
    model, x = LeNet5(), tg.randn(1, 1, 28, 28)
    return [viz.feature_maps(model, x), viz.filters(model.conv1), viz.saliency(model, x, 3)]


def test_figures_drawn_for_saving_are_not_kept_by_pyplot():
    """With a backend that shows nothing (Agg: scripts, tests), a figure dropped is freed: pyplot
    kept every one (200 calls of the three grew a process by 4 GB). They still save."""
    plt = pytest.importorskip("matplotlib.pyplot")
    import matplotlib

    if matplotlib.get_backend().lower() != "agg":
        pytest.skip("needs the Agg backend")
    before = set(plt.get_fignums())
    figs = _three_figures()
    assert set(plt.get_fignums()) == before
    for fig in figs:
        png = io.BytesIO()
        fig.savefig(png, format="png")
        assert png.getvalue()[:8] == b"\x89PNG\r\n\x1a\n" and len(png.getvalue()) > 5000
    assert len(figs[0].axes) > 6 and len(figs[1].axes) == 6 and len(figs[2].axes) == 4


def test_figures_under_a_showing_backend_are_pyplots(monkeypatch):
    """Where the backend shows figures (Jupyter's inline backend, a window), they are pyplot's, so
    the inline backend displays them after the cell and ``plt.show()`` shows them."""
    plt = pytest.importorskip("matplotlib.pyplot")
    import matplotlib

    monkeypatch.setattr(matplotlib, "get_backend",
                        lambda: "module://matplotlib_inline.backend_inline")
    before = set(plt.get_fignums())
    figs = _three_figures()
    try:
        assert len(set(plt.get_fignums()) - before) == 3
        assert {f.number for f in figs} == set(plt.get_fignums()) - before
    finally:
        for f in figs:
            plt.close(f)
    np.testing.assert_equal(set(plt.get_fignums()), before)
