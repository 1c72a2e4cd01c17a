"""The helper threads behind Engine.train_epochs(interruptible=True): reused from call to
call by the main thread (callers in other threads, which Ctrl-C does not reach, run the call
on their own thread), named "fastmlp-train-epochs" only while they run an engine call, and
working in a forked child."""
import multiprocessing
import sys
import threading

import numpy as np
import pytest

from fastmlp import _core

RUNNING = "fastmlp-train-epochs"
SPEC = (0, 0.1, 0, False, 0, 0, 0, 0, 0)


def xor_engine():
    eng = _core.Engine([2, 4, 1], ["tanh", "linear"], "square", np.float64, max_batch=4)
    eng.theta[:] = np.linspace(-0.5, 0.5, eng.n_params)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    Y = np.array([[0.0], [1], [1], [0]])
    return eng, X, Y


def helpers():
    return {t.ident for t in threading.enumerate() if t.name.startswith("fastmlp-")}


def test_helper_thread_is_reused_and_named_while_running():
    seen = []

    def run():
        eng, X, Y = xor_engine()
        losses, t, _ = eng.train_epochs(X, Y, 4, 2000, SPEC, interruptible=True, n_threads=1)
        return losses, t

    first = run()
    pool = helpers()
    assert pool and not any(t.name == RUNNING for t in threading.enumerate())
    for _ in range(5):
        seen.append(run())
    assert helpers() == pool                       # no new thread per call
    assert not any(t.name == RUNNING for t in threading.enumerate())
    eng, X, Y = xor_engine()
    losses, t, _ = eng.train_epochs(X, Y, 4, 2000, SPEC, interruptible=False, n_threads=1)
    for losses_i, t_i in [first] + seen:      # the same run as in the calling thread
        assert t_i == t and np.array_equal(losses_i, losses)


def test_concurrent_callers_run_at_the_same_time():
    """Two Python threads (not the main thread, which alone receives Ctrl-C) each start a
    long interruptible run: each runs it on its own thread -- no helper, which would outlive
    a daemon caller at interpreter exit -- and the two run at once; each result equals a run
    on its own."""
    import time
    n_epochs = 1_500_000                      # about half a second each
    results, spans, helpers_seen = {}, {}, [0]
    start = threading.Barrier(3)
    done = threading.Event()

    def caller(k):
        eng, X, Y = xor_engine()
        start.wait()
        t0 = time.monotonic()
        results[k] = eng.train_epochs(X, Y, 4, n_epochs, SPEC, interruptible=True,
                                      n_threads=1)
        spans[k] = (t0, time.monotonic())

    def watch():
        start.wait()
        while not done.is_set():
            helpers_seen[0] = max(helpers_seen[0],
                                  sum(t.name == RUNNING for t in threading.enumerate()))
            done.wait(0.002)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(2)]
    watcher = threading.Thread(target=watch)
    for t in threads + [watcher]:
        t.start()
    for t in threads:
        t.join()
    done.set()
    watcher.join()
    assert helpers_seen[0] == 0
    (a0, a1), (b0, b1) = spans[0], spans[1]
    assert a0 < b1 and b0 < a1                 # the two runs overlapped in time
    eng, X, Y = xor_engine()
    losses, t, _ = eng.train_epochs(X, Y, 4, n_epochs, SPEC, n_threads=1)
    for k in range(2):
        assert results[k][1] == t and np.array_equal(results[k][0], losses)


def _child(queue):
    eng, X, Y = xor_engine()
    losses, t, _ = eng.train_epochs(X, Y, 4, 100, SPEC, interruptible=True, n_threads=1)
    queue.put((t, float(losses[-1])))


@pytest.mark.skipif(sys.platform == "win32" or "fork" not in
                    multiprocessing.get_all_start_methods(), reason="needs fork")
def test_helpers_work_in_a_forked_child():
    """The parent's helper threads do not exist in a forked child: it makes its own."""
    eng, X, Y = xor_engine()
    losses, t, _ = eng.train_epochs(X, Y, 4, 100, SPEC, interruptible=True, n_threads=1)
    assert helpers()                           # the parent has a helper now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue,))
    proc.start()
    proc.join(60)
    if proc.is_alive():
        proc.kill()
        pytest.fail("the forked child's interruptible run did not finish")
    assert proc.exitcode == 0
    assert queue.get(timeout=5) == (t, float(losses[-1]))
