"""asv: fastmlp's GEMM (``_core.gemm``) against ``numpy.matmul`` on the same operands.

Large shapes: square 1024 and 2048 and the three layers of `wide` at batch 256 in the
NN (forward), TN (dW = A^T delta) and NT (delta W^T) forms.  Small shapes (every dimension
<= 64): time per call, where call overhead and packing decide.  fastmlp and numpy are
separate benchmarks, so asv runs them in separate processes (never interleaved).
"""
import numpy as np

from fastmlp import _core

from . import workloads as W

THREADS = 2

_BIG = [(f"square {s}", s, s, s, False, False) for s in W.SQUARE_SHAPES] + W.wide_gemm_shapes()
_BIG_BY_LABEL = {c[0]: c for c in _BIG}
_SMALL_BY_LABEL = {f"{m}x{k}.{k}x{n}": (m, n, k) for (m, k, n) in W.SMALL_SHAPES}


def _fastmlp(A, B, ta, tb, C):
    _core.gemm(A, B, ta, tb, 1.0, 0.0, C, THREADS)


def _numpy(A, B, ta, tb, C):
    np.matmul(A.T if ta else A, B.T if tb else B, out=C)


class GemmLarge:
    params = [list(_BIG_BY_LABEL), ["float32", "float64"]]
    param_names = ["shape", "dtype"]
    timeout = 120.0

    def setup(self, label, dtype):
        _, M, N, K, ta, tb = _BIG_BY_LABEL[label]
        self.args = W.gemm_operands(M, N, K, ta, tb, dtype)
        self.t = (ta, tb)

    def time_gemm_fastmlp(self, label, dtype):
        A, B, C = self.args
        _fastmlp(A, B, *self.t, C)

    def time_gemm_numpy(self, label, dtype):
        A, B, C = self.args
        _numpy(A, B, *self.t, C)


class GemmSmall:
    params = [list(_SMALL_BY_LABEL), ["float32", "float64"]]
    param_names = ["shape", "dtype"]

    def setup(self, label, dtype):
        M, N, K = _SMALL_BY_LABEL[label]
        self.args = W.gemm_operands(M, N, K, False, False, dtype)

    def time_gemm_fastmlp(self, label, dtype):
        A, B, C = self.args
        _fastmlp(A, B, False, False, C)

    def time_gemm_numpy(self, label, dtype):
        A, B, C = self.args
        _numpy(A, B, False, False, C)
