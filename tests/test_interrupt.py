"""Ctrl-C during a long whole-run engine call stops it between two epochs."""
import _thread
import threading
import warnings

import numpy as np

import fastmlp as fm
from fastmlp import _core


def _interrupt_soon(delay=0.05):
    """Send Ctrl-C to the main thread once the engine's run is under way (its helper thread
    exists), plus `delay` seconds."""
    def watch():
        for _ in range(20000):
            if any(t.name == "fastmlp-train-epochs" for t in threading.enumerate()):
                threading.Event().wait(delay)
                _thread.interrupt_main()
                return
            threading.Event().wait(0.001)
    timer = threading.Thread(target=watch)
    timer.start()
    return timer


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
