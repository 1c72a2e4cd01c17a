"""Thread control: fastmlp.set_num_threads is process-wide, threadpoolctl can limit the
engine's OpenMP threads, and results never depend on the thread count."""
import threading

import numpy as np
import pytest

import fastmlp
from fastmlp import _core


@pytest.fixture
def restore_threads():
    before = fastmlp.get_num_threads()
    yield
    fastmlp.set_num_threads(before)


def test_set_num_threads_is_process_wide(restore_threads):
    fastmlp.set_num_threads(1)
    seen = []
    t = threading.Thread(target=lambda: seen.append(fastmlp.get_num_threads()))
    t.start()
    t.join()
    assert fastmlp.get_num_threads() == 1 and seen == [1]
    with pytest.raises(ValueError, match=">= 1"):
        fastmlp.set_num_threads(0)


def test_threadpoolctl_sees_and_limits_the_engine(restore_threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    fastmlp.set_num_threads(2)
    apis = {m["user_api"] for m in threadpoolctl.threadpool_info()}
    assert "openmp" in apis
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert fastmlp.get_num_threads() == 1
    assert fastmlp.get_num_threads() == 2


def test_fit_is_bitwise_equal_for_1_and_2_threads():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 40))
    y = rng.integers(0, 4, 300)
    thetas = []
    for nt in (1, 2):
        m = fastmlp.MLP([40, 300, 4], activation="relu", loss="cross_entropy", seed=2,
                        n_threads=nt)
        m.fit(X, y, optimizer=fastmlp.optim.Adam(lr=1e-3), batch_size=150, epochs=3)
        thetas.append(m.engine.theta.copy())
    assert np.array_equal(thetas[0], thetas[1])
