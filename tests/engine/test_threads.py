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


_DAEMON_FIT = r"""
import sys, threading, time
import numpy as np
import fastmlp as fm

rng = np.random.default_rng(0)
X, y = rng.normal(size=(2000, 20)), rng.integers(0, 3, 2000)
mode = sys.argv[1]
started = threading.Event()

def fit():
    started.set()
    m = fm.MLP([20, 64, 3], loss="cross_entropy", seed=0)
    if mode == "plain":           # one long engine call
        m.fit(X, y, epochs=10**6)
    elif mode == "restarts":      # runs side by side in worker threads
        m.fit(X, y, epochs=10**6, restarts=2, n_threads=2)
    elif mode == "lr":            # a learning-rate sweep in worker threads
        m.fit(X, y, epochs=10**6, lr="auto", n_threads=2)
    else:                         # the one-vs-all perceptron, two problems at a time
        from fastmlp.sklearn import Perceptron
        Perceptron(max_iter=10**6, tol=None, n_jobs=2).fit(X, y)

threading.Thread(target=fit, daemon=True).start()
started.wait(30)
time.sleep(1.0)
print("main thread ends", flush=True)
"""


@pytest.mark.parametrize("mode", ["plain", "restarts", "lr", "ova"])
def test_a_fit_in_a_daemon_thread_does_not_keep_the_process_alive(mode):
    """Before: the engine's helper thread (a long call) and the worker pools of restarts,
    sweeps and the one-vs-all perceptron were ThreadPoolExecutor threads, which the
    interpreter joins at exit: the process lived until the fit ended. Now it exits as soon
    as its main thread ends."""
    import subprocess
    import sys
    import time
    t0 = time.monotonic()
    try:
        out = subprocess.run([sys.executable, "-c", _DAEMON_FIT, mode], capture_output=True,
                             text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{mode}: the process was still alive 60 s after its main thread ended")
    took = time.monotonic() - t0
    assert out.returncode == 0, out.stderr[-2000:]
    assert "main thread ends" in out.stdout
    assert took < 20, took
