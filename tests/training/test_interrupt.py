"""Ctrl-C during a long whole-run engine call stops it between two epochs."""
import _thread
import signal
import threading
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core


def _interrupt_after(cond, timeout=120):
    """Ctrl-C to the main thread as soon as cond() holds."""
    def watch():
        for _ in range(int(timeout / 0.002)):
            if cond():
                _thread.interrupt_main()
                return
            threading.Event().wait(0.002)
    t = threading.Thread(target=watch)
    t.start()
    return t


def _interrupt_soon(delay=0.05):
    """Send Ctrl-C to the main thread once the engine's run is under way (its helper thread
    exists), plus `delay` seconds."""
    def running():
        if any(t.name == "fastmlp-train-epochs" for t in threading.enumerate()):
            threading.Event().wait(delay)
            return True
        return False
    return _interrupt_after(running)


def test_engine_run_stops_between_epochs_on_ctrl_c():
    eng = _core.Engine([2, 4, 1], ["tanh", "linear"], "square", np.float64, max_batch=4)
    eng.theta[:] = np.linspace(-0.5, 0.5, eng.n_params)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    Y = np.array([[0.0], [1], [1], [0]])
    n_epochs = 20_000_000                      # seconds of work: the interrupt comes first
    timer = _interrupt_soon()
    losses, t, diverged = eng.train_epochs(X, Y, 4, n_epochs, (0, 0.1, 0, False, 0, 0, 0, 0, 0),
                                           interruptible=True)
    timer.join()
    assert eng.interrupted and not diverged
    assert 0 < len(losses) < n_epochs and t == len(losses)   # whole epochs only: 1 step each
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(eng.theta))


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
class _Finalized:
    """Dropped in the main thread: sends it Ctrl-C, which Python then handles inside this
    ``__del__``, where the KeyboardInterrupt is printed and lost."""

    def __del__(self):
        _thread.interrupt_main()
        for _ in range(10_000):      # the pending signal is handled here, inside __del__
            pass


def test_ctrl_c_that_python_delivers_inside_a_finalizer_still_stops_the_run(monkeypatch):
    """Python runs a pending Ctrl-C in whatever Python code the main thread runs next. When
    that is a finalizer (a ``__del__`` run by a collection in the wait loop), the
    KeyboardInterrupt it raises is printed as "Exception ignored" and lost. Before: the run
    then went on to its end (seconds, or hours) as if nobody had pressed Ctrl-C; the
    interrupt in this test lands that way on purpose."""
    class _Event(threading.Event):
        waits = 0

        def wait(self, timeout=None):
            _Event.waits += 1
            if _Event.waits == 3:        # the run is under way: drop a finalized object
                _Finalized()
            return super().wait(timeout)

    monkeypatch.setattr(threading, "Event", _Event)
    eng = _core.Engine([2, 4, 1], ["tanh", "linear"], "square", np.float64, max_batch=4)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    Y = np.array([[0.0], [1], [1], [0]])
    n_epochs = 20_000_000
    losses, t, diverged = eng.train_epochs(X, Y, 4, n_epochs, (0, 0.1, 0, False, 0, 0, 0, 0, 0),
                                           interruptible=True)
    assert _Event.waits >= 3
    assert eng.interrupted and not diverged
    assert 0 < len(losses) < n_epochs
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # put back


def test_fit_returns_history_so_far_on_ctrl_c():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([0, 1, 1, 0])
    net = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    timer = _interrupt_soon()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        # 2e9 "flops" of work makes the engine run interruptible by itself
        hist = net.fit(X, y, optimizer=fm.optim.SGD(lr=0.1), batch_size=None,
                       epochs=20_000_000)
    timer.join()
    assert hist.interrupted
    assert 0 < len(hist) < 20_000_000
    assert net.epochs_trained_ == len(hist)
    assert net.optimizer_.t == len(hist)
    assert np.all(np.isfinite(net.engine.theta))


def _restart_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 8)), rng.integers(0, 3, 64)


@pytest.mark.parametrize("parallel", [True, False])
def test_ctrl_c_during_restarts_keeps_the_finished_ones(monkeypatch, parallel):
    """Before: fit(restarts=...) raised only after every restart had finished, and threw
    their results away. Now the running ones stop at their next epoch boundary and the best
    of those that ran is kept."""
    from fastmlp.training import loop
    started = []
    execute = loop.Run.execute

    def recording(self):
        started.append(self)
        return execute(self)
    monkeypatch.setattr(loop.Run, "execute", recording)
    X, y = _restart_data()
    epochs = 400 if parallel else 40
    net = fm.MLP([8, 16, 3], loss="cross_entropy", seed=0)
    # the interrupt comes once a run after the first two has started (sequentially: the
    # third; in parallel, two at a time: the third or fourth), so at least two have finished
    timer = _interrupt_after(lambda: len(started) >= 3 + parallel)
    kw = dict(n_threads=2) if parallel else dict(n_threads=1, callbacks=[_Slow()])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        hist = net.fit(X, y, epochs=epochs if parallel else 2000, batch_size=16,
                       restarts=6, **kw)
    timer.join()
    assert hist.interrupted
    assert any("interrupted" in str(r.message) for r in rec)
    done = hist.restarts
    assert 2 <= len(done) < 6 or any(h.interrupted for h in done)
    complete = [h for h in done if not h.interrupted]
    assert len(complete) >= 2
    assert all(len(h) == (epochs if parallel else 2000) for h in complete)
    assert [h.params["restart"] for h in done] == list(range(len(done)))
    assert np.all(np.isfinite(net.theta))
    assert net.predict(X).shape == (64,)       # usable


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ctrl_c_lost_in_a_finalizer_still_stops_parallel_restarts(monkeypatch):
    """The same for runs side by side (restarts here; learning-rate sweeps and one-vs-all
    problems wait the same way, in run_concurrently). Before: the lost Ctrl-C let all four
    restarts run to their end (about 20 s each); now the running ones stop at their next
    epoch boundary and fit returns promptly."""
    import time
    from concurrent.futures import Future
    result = Future.result
    waits = []

    def result_then_drop(self, timeout=None):
        if threading.current_thread() is threading.main_thread():
            waits.append(1)
            if len(waits) == 3:          # the restarts are under way
                _Finalized()
        return result(self, timeout)
    monkeypatch.setattr(Future, "result", result_then_drop)
    X, y = _restart_data()
    net = fm.MLP([8, 16, 3], loss="cross_entropy", seed=0)
    t0 = time.monotonic()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        hist = net.fit(X, y, epochs=600_000, batch_size=16, restarts=4, n_threads=2)
    took = time.monotonic() - t0
    assert len(waits) >= 3
    assert took < 8.0, took
    assert hist.interrupted
    assert any("interrupted" in str(r.message) for r in rec)
    assert 1 <= len(hist.restarts) <= 2 and all(h.interrupted for h in hist.restarts)
    assert 0 < len(hist) < 600_000
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # put back
    assert net.predict(X).shape == (64,)


class _Slow:
    """A callback (it makes restarts sequential) that lets time pass each epoch."""

    def on_epoch_end(self, epoch, logs):
        threading.Event().wait(0.0005)
        return False


def test_ctrl_c_stops_a_long_prediction_and_leaves_the_model_usable():
    """One predict call of seconds: Ctrl-C ends it between two chunks (before, the call ran
    to its end and the KeyboardInterrupt came afterwards)."""
    import time
    net = fm.MLP([8, 1024, 3], loss="cross_entropy", seed=0)
    X = np.random.default_rng(0).normal(size=(400_000, 8))
    t0 = time.perf_counter()
    net.predict_proba(X[:4000])
    whole = (time.perf_counter() - t0) * 100      # the estimated time of one call on all of X
    timer = threading.Timer(0.1, _thread.interrupt_main)
    t0 = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        net.predict_proba(X)
    took = time.perf_counter() - t0
    timer.join()
    assert took < 0.1 + whole / 2, (took, whole)
    assert net._lock.state == (0, False, 0)     # the read lock was released
    p = net.predict_proba(X[:10])
    assert p.shape == (10, 3) and np.allclose(p.sum(axis=1), 1)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_ctrl_c_ends_the_whole_one_vs_all_perceptron_fit(monkeypatch, n_jobs):
    """Before: with n_jobs=None Ctrl-C stopped only the class being trained (the others went
    on training); with n_jobs=2 the KeyboardInterrupt came only after the whole fit. Now the
    running problems stop at their next epoch boundary, the rest are skipped, and fit
    returns promptly with a RuntimeWarning, the estimator usable."""
    pytest.importorskip("sklearn")
    import time
    from fastmlp.sklearn import Perceptron
    started = []
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20000, 40)), rng.integers(0, 4, 20000)
    # 4 problems of 4000 epochs: seconds of work in C
    est = Perceptron(max_iter=4000, tol=None, n_jobs=n_jobs)
    timer = _interrupt_after(lambda: started and time.monotonic() - started[0] > 0.3)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        started.append(time.monotonic())
        est.fit(X, y)
    took = time.monotonic() - started[0]
    timer.join()
    assert took < 0.3 + 4.0, took
    assert any(issubclass(r.category, RuntimeWarning) and "interrupted" in str(r.message)
               for r in rec)
    assert 0 < est.n_iter_ < 4000
    assert est.predict(X).shape == (20000,) and np.all(np.isfinite(est.coef_))
