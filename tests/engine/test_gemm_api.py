"""fastmlp's own GEMM through the Cython boundary (fastmlp._core.gemm): against NumPy for every
transpose form and both dtypes, leading dimensions and beta, the same bits for every thread
count, every kernel set this CPU supports, and the errors of bad input."""
import numpy as np
import pytest

from fastmlp import _core

from weighted_helpers import DTYPES, TOL

SHAPES = [(1, 1, 1), (1, 7, 1), (7, 1, 13), (13, 31, 7), (97, 257, 31), (64, 64, 64),
          (33, 17, 300), (300, 129, 65), (2, 1025, 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,N,K", SHAPES)
@pytest.mark.parametrize("ta,tb", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_gemm_matches_numpy(M, N, K, ta, tb, dtype):
    rng = np.random.default_rng(M * 7 + N)
    A = rng.normal(size=(K, M) if ta else (M, K)).astype(dtype)
    B = rng.normal(size=(N, K) if tb else (K, N)).astype(dtype)
    C = _core.gemm(A, B, bool(ta), bool(tb))
    expected = (A.T if ta else A).astype(np.float64) @ (B.T if tb else B).astype(np.float64)
    tol = TOL[dtype] * np.sqrt(K) * 10
    np.testing.assert_allclose(C, expected, rtol=tol, atol=tol * np.abs(expected).max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_leading_dimension_and_beta(dtype):
    rng = np.random.default_rng(5)
    big = rng.normal(size=(40, 50)).astype(dtype)
    A = big[:13, :31]                       # a view with leading dimension 50 ...
    A = np.ascontiguousarray(A)
    B = rng.normal(size=(31, 29)).astype(dtype)
    C0 = rng.normal(size=(13, 29)).astype(dtype)
    C = _core.gemm(A, B, alpha=-0.5, beta=1.0, C=C0.copy())
    expected = C0.astype(np.float64) - 0.5 * (A.astype(np.float64) @ B)
    np.testing.assert_allclose(C, expected, rtol=TOL[dtype] * 50, atol=TOL[dtype] * 50)


def test_gemm_threads_bitwise():
    rng = np.random.default_rng(9)
    for dtype in DTYPES:
        A = rng.normal(size=(257, 300)).astype(dtype)
        B = rng.normal(size=(300, 129)).astype(dtype)
        assert np.array_equal(_core.gemm(A, B, n_threads=1), _core.gemm(A, B, n_threads=2))


def test_gemm_every_kernel_set():
    rng = np.random.default_rng(11)
    A, B = rng.normal(size=(70, 90)), rng.normal(size=(90, 45))
    original = _core.gemm_isa()
    try:
        for isa in ["portable", "avx2", "avx512"]:
            try:
                _core.set_gemm_isa(isa)
            except ValueError:
                continue                    # not supported by this CPU
            np.testing.assert_allclose(_core.gemm(A, B), A @ B, rtol=1e-12, atol=1e-12)
    finally:
        _core.set_gemm_isa(original)
    with pytest.raises(ValueError, match="unknown or not supported"):
        _core.set_gemm_isa("sse9")


def test_gemm_bad_input():
    A = np.zeros((3, 4))
    with pytest.raises(ValueError, match="inner dimensions differ"):
        _core.gemm(A, np.zeros((5, 2)))
    with pytest.raises(TypeError, match="B must have dtype float64"):
        _core.gemm(A, np.zeros((4, 2), np.float32))
    with pytest.raises(ValueError, match="beta != 0 needs an input C"):
        _core.gemm(A, np.zeros((4, 2)), beta=1.0)
    with pytest.raises(ValueError, match=r"inner dimensions differ: op\(A\) is 4x3, op\(B\) is 2x5"):
        _core.gemm(A, np.zeros((5, 2)), True, True)
    # C may not share memory with A or B, whichever of them it overlaps
    buf = np.zeros((4, 4))
    with pytest.raises(ValueError, match="the output C shares memory with the input A"):
        _core.gemm(buf[:3], np.eye(4), False, False, 1.0, 0.0, buf[1:4])
    with pytest.raises(ValueError, match="the output C shares memory with the input B"):
        _core.gemm(np.eye(4), buf, False, False, 1.0, 0.0, buf)
    out = np.zeros((3, 4))
    assert _core.gemm(buf[:3], np.eye(4), False, False, 1.0, 0.0, out) is out


@pytest.mark.parametrize("a_shape, b_shape, ta, tb", [
    ((2**31, 0), (0, 3), False, False),      # M too large
    ((0, 2**31), (0, 3), True, False),       # M, through op(A) = A^T
    ((2, 0), (2**31, 0), False, True),       # N, through op(B) = B^T
    ((1, 0), (0, 2**31), False, False),      # N
])
def test_gemm_dimensions_past_int_max_are_refused(a_shape, b_shape, ta, tb):
    # the C layer takes int dimensions: a larger one is a ValueError, not a wrapped int
    # (empty arrays: no memory is needed to hold a dimension of 2**31)
    for dt in (np.float32, np.float64):
        with pytest.raises(ValueError, match="gemm takes dimensions up to 2147483647"):
            _core.gemm(np.empty(a_shape, dt), np.empty(b_shape, dt), ta, tb)
