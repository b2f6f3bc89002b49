"""backend, workspace and parallel: the pieces under the ops."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_cnn import backend, parallel, workspace


def test_device_names():
    assert backend.normalize_device(None) == "cpu"
    assert backend.normalize_device("CUDA:0") == "cuda" and backend.normalize_device("gpu") == "cuda"
    with pytest.raises(ValueError, match="unknown device"):
        backend.normalize_device("tpu")
    assert backend.array_module(np.ones(1)) is np and backend.device_of(np.ones(1)) == "cpu"


def test_add_at_adds_repeated_indices():
    a = np.zeros(3)
    backend.add_at(a, np.array([0, 0, 2]), np.array([1.0, 2.0, 3.0]))
    assert a.tolist() == [3, 0, 3]


def test_workspace_reuses_only_free_buffers():
    a = workspace.empty((512, 1024), np.float32)
    ida = id(a)
    b = workspace.empty((512, 1024), np.float32)
    assert b is not a  # a is still in use
    del a
    c = workspace.empty((512, 1024), np.float32)
    assert id(c) == ida  # a's buffer came back
    view = c[:1]
    del c
    d = workspace.empty((512, 1024), np.float32)
    assert id(d) != ida and view.base is not None  # a view keeps its buffer in use
    small = workspace.empty((4,), np.float32)
    assert small is not workspace.empty((4,), np.float32)  # small arrays are not pooled


def test_run_chunks_covers_the_range_once():
    seen = []
    parallel.run_chunks(10, lambda s, e: seen.extend(range(s, e)), nbytes=1 << 30)
    assert sorted(seen) == list(range(10))
    seen.clear()
    parallel.run_chunks(10, lambda s, e: seen.append((s, e)), nbytes=10)  # small: one piece
    assert seen == [(0, 10)]


def test_run_chunks_propagates_errors():
    def boom(s, e):
        if s > 0:
            raise ValueError("chunk failed")

    if parallel.threads() > 1:
        with pytest.raises(ValueError, match="chunk failed"):
            parallel.run_chunks(8, boom, nbytes=1 << 30)


@pytest.mark.parametrize("way", ["col2im", "banded", "conv"])
@pytest.mark.parametrize("stride", [(1, 2), 1], ids=["rows", "wide"])
def test_conv_results_do_not_depend_on_the_thread_count(monkeypatch, way, stride):
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn import Tensor
    from tinygrad_cnn.ops import conv

    monkeypatch.setattr(conv, "BANDED_MAX_WIDTH", 10**9 if way == "banded" else 0)
    monkeypatch.setattr(conv, "AS_CONV_MAX_WASTE", 10**9 if way == "conv" else 0)
    monkeypatch.setattr(conv, "WGRAD_T_MIN_CHANNELS", 1)  # the transposed weight gradient
    monkeypatch.setattr(conv, "WIDE_MAX_BYTES", 10**9)  # stride 1: the wide layout
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)  # split even these small convolutions
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((7, 4, 12, 11)), requires_grad=True)
    w = Tensor(rng.standard_normal((6, 2, 3, 2)), requires_grad=True)
    results = []
    before = parallel.threads()
    try:
        for n in (1, 2, 3):
            parallel.set_threads(n)
            x.grad = w.grad = None
            y = F.conv2d(x, w, padding=(1, 2), stride=stride, dilation=(2, 1), groups=2)
            y.backward(Tensor(np.arange(y.numel(), dtype=np.float64).reshape(y.shape)))
            results.append((y.numpy(), x.grad.numpy(), w.grad.numpy()))
    finally:
        parallel.set_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)


def test_one_blas_thread_holds_and_restores_openblas():
    blas = parallel._openblas()
    if not blas:
        pytest.skip("numpy here has no OpenBLAS to hold")
    before = blas[1]()
    with parallel.one_blas_thread():
        assert blas[1]() == 1
    assert blas[1]() == before
    with pytest.raises(RuntimeError), parallel.one_blas_thread():
        raise RuntimeError("inside")
    assert blas[1]() == before  # restored after an error too


def test_small_gemm_helper_equals_numpy_matmul():
    rng = np.random.default_rng(0)
    for shape_a, shape_b in [((64, 400), (400, 120)), ((3, 5, 7), (7, 2)), ((300, 300), (300, 300))]:
        a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
        # (the thread count may change the rounding, not the result)
        np.testing.assert_allclose(parallel.matmul(a, b), np.matmul(a, b), rtol=1e-12, atol=1e-12)
