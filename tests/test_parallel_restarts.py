"""restarts=N runs the N models concurrently (one per engine thread) with exactly the
results of running them one after another."""
import numpy as np

import fastmlp as fm
from fastmlp import datasets
from fastmlp.training import restart_workers as _restart_workers


def _fit(n_threads, **kw):
    X, y = datasets.make_moons(120, noise=0.2, seed=1)
    m = fm.MLP([2, 8, 1], activation="tanh", loss="logistic", seed=5, n_threads=n_threads)
    h = m.fit(X, y, optimizer=fm.optim.SGD(lr=0.2, momentum=0.5), batch_size=16, epochs=15,
              restarts=3, **kw)
    return m, h


def test_parallel_restarts_equal_sequential_bitwise():
    m_seq, h_seq = _fit(1)
    m_par, h_par = _fit(2)
    assert h_seq.params["parallel_restarts"] == 1
    assert h_par.params["parallel_restarts"] == 2
    assert h_seq.best_restart == h_par.best_restart
    assert np.array_equal(m_seq.engine.theta, m_par.engine.theta)
    for a, b in zip(h_seq.restarts, h_par.restarts):
        assert a.history["loss"] == b.history["loss"]
        assert a.params["init_seed"] == b.params["init_seed"]
    # the kept model is the one with the lowest final training loss
    finals = [h.history["loss"][-1] for h in h_par.restarts]
    assert h_par.best_restart == int(np.argmin(finals))


def test_restarts_stay_sequential_when_the_loop_talks_to_the_user():
    assert _restart_workers(4, 2, [], 0, False) == 2
    assert _restart_workers(4, 1, [], 0, False) == 1
    assert _restart_workers(1, 2, [], 0, False) == 1
    assert _restart_workers(4, 2, [object()], 0, False) == 1
    assert _restart_workers(4, 2, [], 2, False) == 1
    assert _restart_workers(4, 2, [], 0, True) == 1
