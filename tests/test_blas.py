"""The direct OpenBLAS calls of tinygrad_cnn.blas against numpy: strided and transposed operands,
beta = 1 accumulation, the transposing copy; and that the module stays off where it should."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_cnn import blas

needs_blas = pytest.mark.skipif(not blas.available(np.float32),
                                reason="numpy's BLAS is not an OpenBLAS this module can call")


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta,tb", [(False, False), (False, True), (True, False), (True, True)])
def test_gemm_on_strided_windows_accumulates(dtype, ta, tb):
    rng = np.random.default_rng(0)
    m, n, k = 5, 7, 3
    big_a = rng.standard_normal((11, 13)).astype(dtype)  # operands are windows of larger arrays
    big_b = rng.standard_normal((12, 17)).astype(dtype)
    a = big_a[2:2 + (k if ta else m), 1:1 + (m if ta else k)]
    b = big_b[1:1 + (n if tb else k), 3:3 + (k if tb else n)]
    c_big = rng.standard_normal((m, 9)).astype(dtype)
    c = c_big[:, 1:1 + n]
    want = 0.5 * (a.T if ta else a) @ (b.T if tb else b) + c
    untouched = c_big[:, [0, 8]].copy()
    blas.gemm(dtype)(blas.ROW_MAJOR, blas.TRANS if ta else blas.NO_TRANS,
                     blas.TRANS if tb else blas.NO_TRANS, m, n, k, 0.5,
                     a.ctypes.data, big_a.shape[1], b.ctypes.data, big_b.shape[1], 1.0,
                     c.ctypes.data, c_big.shape[1])
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(c, want, rtol=tol, atol=tol)
    np.testing.assert_array_equal(c_big[:, [0, 8]], untouched)  # nothing written outside


@needs_blas
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_omatcopy_transposes_a_window(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((6, 10)).astype(dtype)
    out = np.full((8, 7), 3.0, dtype=dtype)
    blas.omatcopy(dtype)(blas.ROW_MAJOR, blas.TRANS, 4, 5, 1.0, a[1:, 2:].ctypes.data, 10,
                         out.ctypes.data, 7)
    np.testing.assert_array_equal(out[:5, :4], a[1:5, 2:7].T)
    assert (out[:5, 4:] == 3).all() and (out[5:] == 3).all()


def test_no_direct_calls_for_other_dtypes():
    for dtype in (np.float16, np.int32, np.complex64):
        assert not blas.available(dtype)


def test_environment_switch_turns_it_off():
    code = "import numpy as np; from tinygrad_cnn import blas; print(blas.available(np.float32))"
    env = dict(os.environ, TINYGRAD_CNN_DIRECT_BLAS="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_describe_names_the_kernels():
    text = blas.describe()
    if blas.available(np.float32):
        assert "OpenBLAS" in text and "kernels:" in text
    else:
        assert "no OpenBLAS" in text
