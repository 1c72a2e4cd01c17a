"""Forked workers after the parent has used OpenMP: the child's engine works (it runs
single-threaded: OpenMP's pool does not survive fork) and gives the parent's bits. Checked with
os.fork, multiprocessing's 'fork' start method and joblib's default backend."""
import multiprocessing
import os
import pickle
import sys

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core

from forking import in_forked_child

pytestmark = pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"),
                                reason="needs fork")


def _train():
    """The issue's reproducer: a 64-512-10 cross-entropy fit on 2000x64, one epoch, on a team
    of threads (so the process has surely opened OpenMP parallel regions)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 64))
    y = rng.integers(0, 10, 2000)
    m = fm.MLP([64, 512, 10], loss="cross_entropy", seed=0, n_threads=2)
    m.fit(X, y, epochs=1, batch_size=200)
    return m.theta.copy(), m.predict_proba(X[:50])


@pytest.fixture(scope="module")
def parent_result():
    before = _core.get_team_min_flops()
    _core.set_team_min_flops(0)          # every step on a team of 2 threads
    try:
        yield _train()
    finally:
        _core.set_team_min_flops(before)


def _child_payload():
    theta, proba = _train()
    return pickle.dumps((theta, proba, _core.config()["fork_child_single_threaded"]))


def test_os_fork_child_trains_and_matches(parent_result):
    theta, proba, single = pickle.loads(in_forked_child(_child_payload))
    assert single is True
    assert np.array_equal(theta, parent_result[0])
    assert np.array_equal(proba, parent_result[1])


def _mp_worker(q):
    q.put(_child_payload())


def test_multiprocessing_fork_child_trains_and_matches(parent_result):
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_mp_worker, args=(q,))
    p.start()
    try:
        data = q.get(timeout=120)
    finally:
        p.join(30)
        if p.is_alive():
            p.kill()
    assert p.exitcode == 0
    theta, proba, single = pickle.loads(data)
    assert single is True
    assert np.array_equal(theta, parent_result[0]) and np.array_equal(proba, parent_result[1])


def _predict_in_worker(model, X):
    return model.predict_proba(X)


def test_joblib_default_backend(parent_result):
    joblib = pytest.importorskip("joblib")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 64))
    y = rng.integers(0, 10, 2000)
    m = fm.MLP([64, 512, 10], loss="cross_entropy", seed=0, n_threads=2)
    m.fit(X, y, epochs=1, batch_size=200)
    parts = joblib.Parallel(n_jobs=2)(joblib.delayed(_predict_in_worker)(m, X[i::4])
                                      for i in range(4))
    for i in range(4):
        assert np.array_equal(parts[i], m.predict_proba(X[i::4]))


def test_model_lock_held_at_fork_is_free_in_the_child():
    """A lock another thread held at the moment of fork belongs to a thread the child does
    not have: the child can still fit."""
    m = fm.MLP([2, 4, 1], loss="square", seed=0)
    m._lock.acquire_read()                     # as if a prediction were running at fork
    try:
        def child():
            m.fit(np.zeros((4, 2)), np.zeros(4), batch_size=2, epochs=2)
            return m.epochs_trained_
        assert in_forked_child(child, timeout=60) == 2
    finally:
        m._lock.release_read()


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork")
def test_fork_inside_a_fit_callback_lets_the_child_finish_and_fit_again():
    """Before: os.fork() inside a fit callback broke the child's fit ('ModelLock.release_write
    from a thread that does not hold it': the child's lock had been reset under the fit that
    held it). Now the forking thread keeps its write lock in the child: the child's fit ends
    normally, with the parent's result, and the model can be fitted and used again there."""
    import subprocess
    code = r'''
import os, numpy as np, fastmlp as fm
rng = np.random.default_rng(0)
X, y = rng.normal(size=(60, 4)), rng.integers(0, 2, 60)
m = fm.MLP([4, 8, 2], loss="cross_entropy", seed=0)

class ForkOnce:
    pid, child = None, False
    def on_epoch_end(self, epoch, logs):
        if epoch == 2 and self.pid is None and not self.child:
            pid = os.fork()
            if pid == 0:
                self.child = True
            else:
                self.pid = pid
        return False

cb = ForkOnce()
try:
    h = m.fit(X, y, epochs=4, callbacks=[cb])
    theta = m.theta.copy()
    h2 = m.fit(X, y, epochs=1)
    status = "ok %d %d %s %d" % (len(h), len(h2), m.predict(X).shape, hash(theta.tobytes()))
except BaseException as e:
    status = "error %s: %s" % (type(e).__name__, e)
if cb.child:
    print("child:", status, flush=True)
    os._exit(0 if status.startswith("ok") else 1)
_, st = os.waitpid(cb.pid, 0)
print("parent:", status, flush=True)
print("child exit", os.waitstatus_to_exitcode(st), flush=True)
'''
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)
    assert lines["parent"].strip().startswith("ok 4 1"), out.stdout
    assert lines["child"] == lines["parent"], out.stdout       # the same fit, bit for bit
    assert "child exit 0" in out.stdout, out.stdout
