"""Threads sharing one model (the concurrency contract in README.md): predictions from many
threads at once are bitwise those of a sequential call and run in parallel; fit runs alone;
different models are independent; no thread leaks memory; thread counts are bounded."""
import gc
import threading

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core

N_THREADS = 8


def _data(n=400, d=20, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, k, n)


def _hammer(fn, n_threads=N_THREADS, calls=60):
    """Run fn(thread, call) from n_threads threads at once; re-raise the first error."""
    errors, start = [], threading.Barrier(n_threads)

    def work(t):
        try:
            start.wait()
            for c in range(calls):
                fn(t, c)
        except BaseException as exc:          # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return n_threads * calls


def test_concurrent_predictions_are_bitwise_sequential():
    X, y = _data()
    m = fm.MLP([20, 64, 3], loss="cross_entropy", seed=0)
    m.fit(X, y, epochs=2)
    rows = np.random.default_rng(1).integers(1, 400, size=(N_THREADS, 60))
    want_p = {r: m.predict_proba(X[:r]) for r in np.unique(rows)}
    want_y = m.predict(X)
    want_s = m.score(X, y)
    want_t = m.forward(X[:37])
    bad = []

    def call(t, c):
        r = rows[t, c]
        if not np.array_equal(m.predict_proba(X[:r]), want_p[r]):
            bad.append(("predict_proba", r))
        if c % 4 == 0 and not np.array_equal(m.predict(X), want_y):
            bad.append(("predict", r))
        if c % 4 == 1 and m.score(X, y) != want_s:
            bad.append(("score", r))
        if c % 4 == 2:
            tr = m.forward(X[:37])
            if not all(np.array_equal(a, b) for a, b in zip(tr.z[1:] + tr.a, want_t.z[1:] + want_t.a)):
                bad.append(("forward", r))
    _hammer(call)
    assert bad == []


def test_concurrent_predictions_grow_workspaces_safely():
    """Every call needs a larger workspace than the last: no call may see another's."""
    X, _ = _data(n=3000)
    m = fm.MLP([20, 32, 2], loss="square", seed=3)
    want = {n: m.predict(X[:n]) for n in range(100, 3001, 100)}

    def call(t, c):
        n = 100 * (1 + (t * 7 + c) % 30)
        assert np.array_equal(m.predict(X[:n]), want[n])
    _hammer(call, calls=30)


def test_predictions_run_in_parallel_and_wait_for_fit():
    """While one thread fits, predictions wait (they see the model before or after the
    fit, never during); fits in two threads run one after the other."""
    X, y = _data(n=2000)
    m = fm.MLP([20, 32, 3], loss="cross_entropy", seed=0)
    before = m.predict_proba(X)
    ref = fm.MLP([20, 32, 3], loss="cross_entropy", seed=0)
    ref.fit(X, y, epochs=30, optimizer=fm.optim.Adam(lr=1e-2))
    after = ref.predict_proba(X)
    seen = []
    started = threading.Event()

    def fitter():
        started.set()
        m.fit(X, y, epochs=30, optimizer=fm.optim.Adam(lr=1e-2))

    def predictor(t, c):
        started.wait()
        p = m.predict_proba(X)
        seen.append(0 if np.array_equal(p, before) else 1 if np.array_equal(p, after) else 2)

    f = threading.Thread(target=fitter)
    f.start()
    _hammer(predictor, n_threads=4, calls=20)
    f.join()
    assert 2 not in seen                      # no half-trained or torn weights
    assert np.array_equal(m.predict_proba(X), after)


def test_two_fits_on_one_model_do_not_overlap():
    X, y = _data(n=600)
    m = fm.MLP([20, 16, 3], loss="cross_entropy", seed=0)
    ref = fm.MLP([20, 16, 3], loss="cross_entropy", seed=0)
    for _ in range(2):
        ref.fit(X, y, epochs=5)
    threads = [threading.Thread(target=m.fit, args=(X, y), kwargs={"epochs": 5})
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert m.epochs_trained_ == 10
    assert np.array_equal(m.theta, ref.theta)


def test_different_models_in_different_threads_are_independent():
    X, y = _data()
    want = []
    for s in range(4):
        m = fm.MLP([20, 16, 3], loss="cross_entropy", seed=s)
        m.fit(X, y, epochs=3)
        want.append(m.theta.copy())
    got = [None] * 4

    def run(s):
        m = fm.MLP([20, 16, 3], loss="cross_entropy", seed=s)
        m.fit(X, y, epochs=3)
        got[s] = m.theta.copy()
    threads = [threading.Thread(target=run, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(a, b) for a, b in zip(want, got))


def test_estimator_predictions_from_many_threads():
    pytest.importorskip("sklearn")
    from fastmlp.sklearn import MLPClassifier
    X, y = _data()
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(X, y)
    want = est.predict_proba(X)
    _hammer(lambda t, c: np.testing.assert_array_equal(est.predict_proba(X), want),
            n_threads=4, calls=20)


def test_estimator_refit_on_new_labels_is_atomic_for_predictions():
    """A refit replaces classes_, the label binariser and the network together: a prediction
    that arrives while the refit is under way (here: held inside fit, after the new labels
    are known) waits for it and then sees the new state whole -- never the new labels on
    the old network, nor a missing attribute."""
    pytest.importorskip("sklearn")
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from fastmlp.sklearn import MLPClassifier

    inside, release = threading.Event(), threading.Event()

    class Held(MLPClassifier):
        hold = False

        def _init_network(self, net, rs):
            super()._init_network(net, rs)
            if self.hold:
                inside.set()
                assert release.wait(30)

    X, y = _data(n=200, d=6, k=2)
    old_y = np.where(y == 1, "dog", "cat")
    new_y = np.where(y == 1, "ant", "bee")        # inverted: class 1 is now the first label
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, n_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        want_new = MLPClassifier(**kw).fit(X, new_y).predict(X)
        est = Held(**kw).fit(X, old_y)
        want_old = est.predict(X)
        est.hold = True
        errors, got = [], {}

        def refit():
            try:
                est.fit(X, new_y)
            except BaseException as e:          # pragma: no cover - reported below
                errors.append(e)

        def predict(name, fn):
            try:
                got[name] = fn()
            except BaseException as e:
                errors.append(e)

        f = threading.Thread(target=refit)
        f.start()
        assert inside.wait(30)
        readers = [threading.Thread(target=predict, args=("predict", lambda: est.predict(X))),
                   threading.Thread(target=predict, args=("proba", lambda: est.predict_proba(X))),
                   threading.Thread(target=predict, args=("score", lambda: est.score(X, new_y)))]
        for t in readers:
            t.start()
        threading.Event().wait(0.3)
        waiting = [t.is_alive() for t in readers]
        release.set()
        f.join(30)
        for t in readers:
            t.join(30)
    assert errors == []
    assert waiting == [True, True, True]          # they waited for the refit
    assert set(want_old) == {"cat", "dog"} and set(want_new) <= {"ant", "bee"}
    assert np.array_equal(got["predict"], want_new)
    assert got["score"] == np.mean(want_new == new_y)
    assert np.array_equal(est.classes_[got["proba"].argmax(axis=1)], want_new)


def test_engine_refuses_overlapping_exclusive_calls():
    """The engine's own guard: a training call on an engine another thread is using is a
    RuntimeError, never a crash (models serialise these calls with their lock)."""
    eng = _core.Engine([2, 64, 1], ["tanh", "linear"], "square", np.float64, max_batch=4)
    X = np.random.default_rng(0).normal(size=(4, 2))
    Y = np.zeros((4, 1))
    spec = (0, 0.01, 0, False, 0, 0, 0, 0, 0)
    errors = []

    def long_run(go):
        go.set()
        eng.train_epochs(X, Y, 4, 400_000, spec, interruptible=False, n_threads=1)

    # a few tries: on a loaded machine this thread may not run again before the training ends
    for _ in range(5):
        go = threading.Event()
        t = threading.Thread(target=long_run, args=(go,))
        t.start()
        go.wait()
        while t.is_alive() and not errors:
            try:
                eng.predict(X)
            except RuntimeError as exc:
                errors.append(str(exc))
            threading.Event().wait(0.001)
        t.join()
        if errors:
            break
    assert errors and "training call is running" in errors[0]


def test_model_lock_readers_share_and_writer_excludes():
    lock = _core.ModelLock()
    with lock.reading():
        with lock.reading():
            assert lock.state[0] == 2
    order = []
    lock.acquire_write()

    def reader():
        with lock.reading():
            order.append("read")
    t = threading.Thread(target=reader)
    t.start()
    t.join(0.2)
    assert t.is_alive() and order == []       # waits for the writer
    with lock.reading():                      # the writer's own thread may read
        order.append("writer reads")
    lock.release_write()
    t.join()
    assert order == ["writer reads", "read"]
    with pytest.raises(RuntimeError):
        lock.release_write()


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="Linux /proc")
def test_no_memory_growth_per_thread():
    """200 short-lived threads that train (each GEMM packs into a per-thread buffer, freed
    when the thread ends), 200 that train with data-parallel steps (per-thread gradient
    vectors, freed the same way: < 40 MB where 110 MB would stay) and 200 fit(restarts=2)
    calls (a thread per restart): RSS grows by less than 10 MB."""
    X, y = _data(n=256, d=64, k=4)

    def train():
        m = fm.MLP([64, 128, 4], loss="cross_entropy", seed=1)
        m.fit(X, y, epochs=1, batch_size=128, n_threads=1)

    def restarts():
        m = fm.MLP([64, 128, 4], loss="cross_entropy", seed=1)
        m.fit(X, y, epochs=1, batch_size=128, restarts=2, n_threads=2)

    def train_dp():
        m = fm.MLP([64, 512, 4], loss="cross_entropy", seed=1)   # 35k parameters
        m.fit(X, y, epochs=1, batch_size=128, n_threads=2)

    def in_a_thread(fn):
        def run():
            t = threading.Thread(target=fn)
            t.start()
            t.join()
        return run

    def rss_growth(unit, n=200):
        for _ in range(10):                   # warm-up: allocator pools, imports
            unit()
        gc.collect()
        before = _rss()
        for _ in range(n):
            unit()
        gc.collect()
        return _rss() - before

    dp = _core.get_data_parallel()
    _core.set_data_parallel(chunks=2, min_flops=0, max_flops=float("inf"))
    try:
        grow_dp = rss_growth(in_a_thread(train_dp))
    finally:
        _core.set_data_parallel(*dp)
    grow_threads = rss_growth(in_a_thread(train))
    grow_restarts = rss_growth(restarts)
    print(f"RSS growth: threads {grow_threads / 2**20:.2f} MB, data-parallel threads "
          f"{grow_dp / 2**20:.2f} MB, restarts {grow_restarts / 2**20:.2f} MB")
    assert grow_threads < 10 * 2**20
    # 0.5 MB of gradient vectors per thread: 110 MB if they were not freed; the allocator's
    # per-thread arenas keep a few MB of their own
    assert grow_dp < 40 * 2**20
    assert grow_restarts < 10 * 2**20


def test_thread_counts_are_bounded_with_clear_errors():
    cap = _core.MAX_THREADS
    with pytest.raises(ValueError, match=f"<= {cap}"):
        fm.set_num_threads(10 ** 6)
    with pytest.raises(ValueError, match="n_threads"):
        fm.MLP([2, 2], n_threads=2 ** 40)
    m = fm.MLP([2, 2], loss="square", seed=0)
    with pytest.raises(ValueError, match="n_threads"):
        m.predict(np.zeros((1, 2)), n_threads=2 ** 40)
    with pytest.raises(ValueError, match="n_threads"):
        m.fit(np.zeros((4, 2)), np.zeros((4, 2)), n_threads=2 ** 40, batch_size=2)
    with pytest.raises(ValueError, match="layer_sizes"):
        fm.MLP([2, 2 ** 31, 2])
    assert _core.config()["max_threads_cap"] == cap


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_thread_start_failure_is_an_exception_not_an_exit():
    """Before: set_num_threads(n) under a memory limit let OpenMP end the process at the
    next parallel region. Now the threads are started once to check: RuntimeError, the
    setting unchanged."""
    import resource

    from forking import in_forked_child

    def child():
        before = fm.get_num_threads()
        pages = int(open("/proc/self/statm").read().split()[0])
        limit = pages * 4096 + (64 << 20)        # no room for 200 thread stacks of 8 MiB
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
        try:
            fm.set_num_threads(200)
        except RuntimeError as exc:
            return "could start only" in str(exc) and fm.get_num_threads() == before
        return "no error"
    assert in_forked_child(child, timeout=60) is True


_CONCURRENT_TEAMS = r"""
import resource, threading
import numpy as np
import fastmlp as fm
from fastmlp import _core

_core.set_team_min_flops(0)                 # every step on a team of 48 threads
rng = np.random.default_rng(0)
X, y = rng.normal(size=(96, 8)), rng.integers(0, 3, 96)

def train(n_threads):
    m = fm.MLP([8, 16, 3], loss="cross_entropy", seed=1)
    m.fit(X, y, epochs=2, batch_size=48, n_threads=n_threads, seed=2)
    return m.theta

want = train(1)
vsz = int(open("/proc/self/statm").read().split()[0]) * 4096
# room for one team of 48 threads of 16 MiB stacks (and some slack), not for six
resource.setrlimit(resource.RLIMIT_AS, (vsz + (47 + 24) * (16 << 20), resource.RLIM_INFINITY))
start, got, errors = threading.Barrier(6), [], []

def worker():
    try:
        start.wait()
        got.append(train(48))
    except BaseException as e:
        errors.append(repr(e))

threads = [threading.Thread(target=worker) for _ in range(6)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("errors", errors)
print("equal", len(got) == 6 and all(np.array_equal(g, want) for g in got))
print("shortfalls", _core.config()["thread_shortfalls"] > 0)
"""


def test_concurrent_teams_under_a_memory_limit_shrink_instead_of_exiting():
    """Before: six threads each opening a 48-thread team under an address-space limit that
    fits one team passed the per-thread probe each, then libgomp could not start the
    threads ("Thread creation failed") and ended the process with status 1. Now widening
    admissions are serialised and each starts its team's threads before the next probes:
    the teams that do not fit run on fewer threads, with the same results."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, OMP_STACKSIZE="16M", MALLOC_ARENA_MAX="2", OMP_WAIT_POLICY="passive")
    out = subprocess.run([sys.executable, "-c", _CONCURRENT_TEAMS], env=env, timeout=240,
                         capture_output=True, text=True)
    assert out.returncode == 0, (out.returncode, out.stdout, out.stderr[-2000:])
    assert "errors []" in out.stdout and "equal True" in out.stdout, out.stdout
    assert "shortfalls True" in out.stdout, out.stdout


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/statm"), reason="Linux /proc")
def test_forward_keep_does_not_keep_a_workspace_for_the_whole_input():
    """Before: forward(X, keep=True) pooled the workspace it made for all of X's rows (here
    about 130 MB) until the model was deleted. Now a workspace larger than a prediction
    chunk is freed when the call ends; the trace itself is the caller's."""
    rng = np.random.default_rng(0)
    m = fm.MLP([64, 1024, 1024, 4], loss="cross_entropy", seed=0)
    X = rng.normal(size=(4000, 64))
    m.forward(X[:10], keep=True)                  # warm-up: small workspace, imports
    m.predict_proba(X[:2000])
    gc.collect()
    before = _rss()
    for _ in range(3):
        t = m.forward(X, keep=True)
        assert t.a[-1].shape == (4000, 4)
        del t
    gc.collect()
    grown = _rss() - before
    print(f"RSS growth after forward(keep=True) on 4000 rows: {grown / 2**20:.1f} MB")
    assert grown < 30 * 2**20
    np.testing.assert_array_equal(m.forward(X[:50], keep=True).a[-1],
                                  m.predict_proba(X[:50]))


_HANDOFF = r"""
import sys, threading
from concurrent.futures import ThreadPoolExecutor
import numpy as np, fastmlp as fm
rng = np.random.default_rng(0)
X, y = rng.normal(size=(60, 4)), rng.integers(0, 2, 60)
m = fm.MLP([4, 8, 2], loss="cross_entropy", seed=0)
mode, errors = sys.argv[1], []

class Handoff:
    def on_epoch_end(self, epoch, logs):
        if mode == "pool":                   # score in a pool thread, waiting for its result
            with ThreadPoolExecutor(1) as ex:
                ex.submit(m.score, X, y).result()
        else:                                # predict in a thread, joined
            def target():
                try:
                    m.predict(X)
                except RuntimeError as e:
                    errors.append(str(e))
            t = threading.Thread(target=target)
            t.start()
            t.join()
        return False

try:
    m.fit(X, y, epochs=2, callbacks=[Handoff()])
except RuntimeError as e:
    errors.append(str(e))
print("deadlock" in " ".join(errors), len(errors))
print(m.predict(X[:3]).shape)                 # the model is usable afterwards
"""


@pytest.mark.parametrize("mode", ["pool", "thread"])
def test_a_callback_that_waits_for_a_prediction_in_another_thread_raises(mode):
    """Before: a fit callback that handed score/predict to another thread and waited for it
    deadlocked (the other thread waits for the fit's write lock, the fit for the thread).
    Now the waiting call sees that the fit's thread waits for it and raises RuntimeError."""
    import subprocess
    import sys
    try:
        out = subprocess.run([sys.executable, "-c", _HANDOFF, mode], capture_output=True,
                             text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the callback's hand-off deadlocked")
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.split("\n")
    assert lines[0].startswith("True"), out.stdout
    assert lines[1] == "(3,)", out.stdout
