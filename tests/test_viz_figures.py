"""Feature maps, filters and saliency: the figures show the arrays they claim to (checked against
the layers run by hand, and the saliency against central differences)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, viz
from tinygrad_cnn.models import LeNet5

plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def lenet_and_images(n=2):
    tg.manual_seed(0)
    return LeNet5(), np.random.default_rng(0).standard_normal((n, 1, 28, 28)).astype(np.float32)


def test_feature_map_arrays_are_the_layers_outputs():
    model, x = lenet_and_images()
    maps = viz.feature_map_arrays(model, x, sample=1)
    labels = [label for label, _ in maps]
    assert labels == ["conv1 · conv2d", "relu", "max_pool2d", "conv2 · conv2d", "relu",
                      "max_pool2d"]
    conv1 = F.conv2d(Tensor(x), model.conv1.weight, model.conv1.bias, padding=2).numpy()
    np.testing.assert_allclose(maps[0][1], conv1[1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(maps[1][1], np.maximum(conv1[1], 0), rtol=1e-5, atol=1e-6)
    assert [m.shape for _, m in maps] == [(6, 28, 28), (6, 28, 28), (6, 14, 14), (16, 10, 10),
                                         (16, 10, 10), (16, 5, 5)]
    assert all(p.grad is None for p in model.parameters())


def test_feature_maps_figure_has_one_row_per_map():
    model, x = lenet_and_images()
    fig = viz.feature_maps(model, x[0], max_channels=6, layers=["conv", "max_pool2d"])
    axes = np.array(fig.axes).reshape(4, 6)
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["conv1 · conv2d", "max_pool2d",
                                                       "conv2 · conv2d", "max_pool2d"]
    shown = axes[2, 3].get_images()[0].get_array()
    np.testing.assert_allclose(shown, viz.feature_map_arrays(model, x[:1])[3][1][3])
    with pytest.raises(ValueError, match="matching"):
        viz.feature_maps(model, x, layers=["nothing like this"])
    with pytest.raises(ValueError, match="image batch"):
        viz.feature_maps(model, np.ones((28, 28), np.float32))
    with pytest.raises(IndexError, match="outside the batch"):
        viz.feature_maps(model, x, sample=5)


def test_filters_figure_shows_every_kernel_on_one_symmetric_scale():
    model, _ = lenet_and_images()
    fig = viz.filters(model.conv2, max_filters=16, max_channels=6)
    images = [ax.get_images()[0] for ax in fig.axes]
    assert len(images) == 16 * 6
    w = model.conv2.weight.numpy()
    np.testing.assert_array_equal(images[1 * 16 + 2].get_array(), w[2, 1])  # row: in 1, col: 2
    lo, hi = images[0].get_clim()
    assert lo == -hi == -np.abs(w).max()
    assert len(viz.filters(model.conv1).axes) == 6
    with pytest.raises(ValueError, match="4-D"):
        viz.filters(model.fc1)


def test_saliency_is_the_input_gradient_of_the_target_logit():
    model, x = lenet_and_images(3)
    model.eval()
    sal = viz.saliency_map(model, x, target=7, sample=2)
    assert sal.shape == (28, 28)
    # central differences in float64 at a few pixels, on a float64 copy of the model
    model.double()
    xd = x[2:3].astype(np.float64)

    def logit(img):
        return model(Tensor(img)).numpy()[0, 7]

    exact = viz.saliency_map(model, xd, target=7)
    for i, j in [(14, 14), (10, 20), (5, 7)]:
        e = np.zeros_like(xd)
        e[0, 0, i, j] = 1e-6
        fd = (logit(xd + e) - logit(xd - e)) / 2e-6
        assert abs(abs(fd) - exact[i, j]) < 1e-6 * max(1.0, abs(fd))
    np.testing.assert_allclose(sal, exact, rtol=1e-3, atol=1e-5)
    assert all(p.grad is None for p in model.parameters())
    fig = viz.saliency(model, xd, target=7)
    np.testing.assert_allclose(fig.axes[1].get_images()[0].get_array(), exact)
    with pytest.raises(IndexError, match="not one of the 10 classes"):
        viz.saliency_map(model, xd, target=10)
