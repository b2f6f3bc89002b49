"""Normalisation layers at the edges an outside tester found: statistics over axes that are not
contiguous in memory (a permuted or Fortran-ordered input) as accurate as over contiguous ones,
an empty spatial dim, and the argument checks of batch_norm. Oracles: float64 statistics and
PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F


def _exact(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    x = x.astype(np.float64)
    return (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)


@pytest.mark.parametrize("order", ["C", "F"])
def test_layer_norm_of_a_long_row_is_accurate_in_either_memory_order(order):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((2, 100_000)) + 1e4).astype(np.float32)
    arr = np.asfortranarray(a) if order == "F" else a
    err = np.abs(F.layer_norm(tg.tensor(arr), (100_000,)).numpy() - _exact(a, (1,))).max()
    assert err < 2e-3  # (the Fortran-ordered input was off by 4.7: numpy's one-at-a-time sums)


def test_layer_norm_over_channels_of_a_permuted_nchw_tensor_is_accurate():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((2, 4096, 3, 3)) + 1e4).astype(np.float32)
    exact = _exact(x.transpose(0, 2, 3, 1), (3,))
    ours = tg.nn.LayerNorm(4096)(tg.tensor(x).permute(0, 2, 3, 1)).detach().numpy()
    theirs = torch.nn.LayerNorm(4096)(torch.tensor(x).permute(0, 2, 3, 1)).detach().numpy()
    assert np.abs(ours - exact).max() <= 2 * np.abs(theirs - exact).max() + 1e-4


@pytest.mark.parametrize("fn", [
    lambda t: F.instance_norm(t),
    lambda t: F.group_norm(t, 2),
    lambda t: F.layer_norm(t, t.shape[2:]),
])
def test_norms_of_a_transposed_input_match_the_contiguous_one(fn):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((2, 4, 64, 64)) + 1e4).astype(np.float32)
    xt = tg.tensor(np.ascontiguousarray(x.transpose(0, 1, 3, 2))).transpose(2, 3)  # same values
    assert not xt.is_contiguous()
    a, b = fn(tg.tensor(x)).numpy(), fn(xt).numpy()
    np.testing.assert_allclose(b, a, atol=2e-3)


def test_gradient_of_layer_norm_on_a_transposed_input_against_float64():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((3, 2000)) + 1e3).astype(np.float32)
    g = rng.standard_normal((3, 2000))
    xt = tg.tensor(np.asfortranarray(x), requires_grad=True)
    F.layer_norm(xt, (2000,)).backward(tg.tensor(g.astype(np.float32)))
    x64 = tg.tensor(x.astype(np.float64), requires_grad=True)
    F.layer_norm(x64, (2000,)).backward(tg.tensor(g))
    np.testing.assert_allclose(xt.grad.numpy(), x64.grad.numpy(), atol=5e-3)


def test_instance_norm_of_an_empty_spatial_dim_is_empty():
    torch = pytest.importorskip("torch")
    out = F.instance_norm(tg.tensor(np.zeros((2, 3, 0))))
    assert out.shape == tuple(torch.nn.functional.instance_norm(
        torch.zeros(2, 3, 0, dtype=torch.float64)).shape) == (2, 3, 0)
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(tg.zeros(2, 3, 1))


def test_batch_norm_argument_checks_name_the_op():
    x = tg.randn(6, 3)
    with pytest.raises(TypeError, match="batch_norm: argument 'momentum' must be a float"):
        F.batch_norm(x, tg.zeros(3), tg.ones(3), training=True, momentum=None)
    with pytest.raises(TypeError, match="batch_norm: argument 'eps' must be a float"):
        F.batch_norm(x, tg.zeros(3), tg.ones(3), training=True, eps=None)
    with pytest.raises(ValueError, match="both be None or neither"):
        F.batch_norm(x, tg.zeros(3), None, training=True)


def test_mixed_precision_needs_every_parameter_in_float32():
    x = tg.tensor(np.arange(18, dtype=np.float16).reshape(6, 3))
    out = F.batch_norm(x, None, None, tg.ones(3), tg.zeros(3), training=True)
    assert out.dtype == np.float16
    with pytest.raises(TypeError, match="input is float16 but bias is float32"):
        F.batch_norm(x, None, None, tg.ones(3, dtype=tg.float16), tg.zeros(3), training=True)
    with pytest.raises(TypeError, match="input is float16 but weight is float32"):
        F.batch_norm(x, tg.zeros(3, dtype=tg.float16), tg.ones(3, dtype=tg.float16), tg.ones(3),
                     tg.zeros(3), training=True)


def test_rms_norm_of_a_fortran_ordered_input_is_as_accurate_as_of_a_c_ordered_one():
    rng = np.random.default_rng(4)
    a = (rng.standard_normal((2, 100_000)) + 1e4).astype(np.float32)
    x64 = a.astype(np.float64)
    exact = x64 / np.sqrt((x64 * x64).mean(1, keepdims=True) + np.finfo(np.float32).eps)
    err_c = np.abs(F.rms_norm(tg.tensor(a), (100_000,)).numpy() - exact).max()
    err_f = np.abs(F.rms_norm(tg.tensor(np.asfortranarray(a)), (100_000,)).numpy() - exact).max()
    assert err_f <= 4 * err_c + 1e-7  # (4.2e-5 against 8e-8 before)
