"""A row's prediction does not depend on the batch it is in: predicted alone, in a small
batch, or inside a batch of thousands, on any number of threads, with every kernel set, it
is bit for bit the same. (The GEMM's direct path for few rows sums K in the packed path's
KC slices, so both paths give every element the same operations; the bias, activations and
softmax are row-wise.) Services that cache, shard or re-batch predictions rely on it."""
import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core

NETS = {
    "mnist": ([784, 128, 10], "relu", np.float32),
    "wide": ([784, 512, 512, 10], "relu", np.float32),
    "digits": ([64, 64, 10], "relu", np.float64),
    "tanh_regression": ([8, 64, 64, 1], "tanh", np.float64),
}


@pytest.fixture(params=["portable", "avx2", "avx512"])
def isa(request):
    g, v = _core.gemm_isa(), _core.vecmath_isa()
    try:
        _core.set_gemm_isa(request.param)
        _core.set_vecmath_isa(request.param)
    except ValueError:
        pytest.skip(f"{request.param} is not supported by this CPU")
    yield request.param
    _core.set_gemm_isa(g)
    _core.set_vecmath_isa(v)


@pytest.mark.parametrize("name", sorted(NETS))
def test_a_row_predicts_the_same_alone_and_in_any_batch(isa, name):
    sizes, act, dt = NETS[name]
    loss = "square" if sizes[-1] == 1 else "cross_entropy"
    net = fm.MLP(sizes, activation=act, loss=loss, dtype=dt, seed=3)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2048, sizes[0])).astype(dt)
    out = (net.predict_proba if loss == "cross_entropy" else net.decision_function)
    full = out(X, n_threads=2)
    for i in (0, 1, 777, 2047):
        assert np.array_equal(out(X[i:i + 1], n_threads=1), full[i:i + 1]), i
    for lo, hi in ((0, 3), (100, 105), (1000, 1064), (5, 260)):
        assert np.array_equal(out(X[lo:hi], n_threads=1), full[lo:hi]), (lo, hi)
        assert np.array_equal(out(X[lo:hi], n_threads=2), full[lo:hi]), (lo, hi)
