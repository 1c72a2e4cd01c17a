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


_RESTARTS_RSS = r"""
import resource, sys
import numpy as np, fastmlp as fm
R = int(sys.argv[1])
rng = np.random.default_rng(0)
X, y = rng.normal(size=(16, 500)), rng.integers(0, 3, 16)
m = fm.MLP([500, 1500, 500, 3], loss="cross_entropy", seed=0)   # 1.5M parameters: 12 MiB
m.fit(X, y, epochs=1, batch_size=16, optimizer="adam")           # Adam: 3 vectors per model
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
h = m.fit(X, y, epochs=1, batch_size=16, restarts=R, n_threads=2)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert len(h.restarts) == R
print((peak - base) / 1024)
"""


def test_restarts_memory_does_not_grow_with_their_number():
    """Before: fit(restarts=R) kept a replica of the model for every restart and every
    run's weights and optimiser state to the end: +195/677/2626 MiB of peak RSS at R =
    2/8/32 for a 12 MiB Adam model. Now only the running replicas and the best run so far
    are kept: R = 12 costs about what R = 2 does."""
    import subprocess
    import sys

    def peak_growth(R):
        out = subprocess.run([sys.executable, "-c", _RESTARTS_RSS, str(R)],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        return float(out.stdout.split()[-1])

    two, twelve = peak_growth(2), peak_growth(12)
    print(f"peak RSS growth: {two:.0f} MiB at R=2, {twelve:.0f} MiB at R=12")
    assert twelve < two + 100, (two, twelve)      # before: about 1000 MiB more
    assert twelve < 400, twelve
