"""No oversubscription: when restarts, learning-rate sweeps, a program's own threads or
joblib's workers already supply the parallelism, each fit's engine runs on one thread (its
share). Observed through _core.widest_team(): the most threads any engine call ran on.

Every test forces the data-parallel step for small steps, so that a lone fit with
n_threads=2 does open 2-thread teams (the control test checks it)."""
import threading

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core
from fastmlp.training import concurrency

pytestmark = pytest.mark.slow


@pytest.fixture
def teams():
    """Small steps data parallel (2 chunks), the engine's default 2 threads; widest_team
    reset before the test; everything restored after."""
    dp, nt = _core.get_data_parallel(), _core.get_num_threads()
    _core.set_data_parallel(chunks=2, min_flops=0, max_flops=float("inf"))
    _core.set_num_threads(2)
    _core.widest_team(reset=True)
    yield lambda: _core.widest_team(reset=True)
    _core.set_data_parallel(*dp)
    _core.set_num_threads(nt)


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


def net(seed=0):
    return fm.MLP([8, 16, 2], activation="tanh", loss="cross_entropy", seed=seed)


def test_a_lone_fit_uses_two_threads(teams):
    """The control: the observation sees a 2-thread team when there is one."""
    X, y = data()
    net().fit(X, y, epochs=2, batch_size=32, n_threads=2)
    assert teams() == 2
    net().fit(X, y, epochs=2, batch_size=32)          # n_threads=None: the default, 2
    assert teams() == 2
    net().fit(X, y, epochs=2, batch_size=32, n_threads=1)
    assert teams() == 1


def test_parallel_restarts_use_one_thread_each(teams):
    X, y = data()
    m = net()
    m.fit(X, y, epochs=3, batch_size=32, restarts=2, n_threads=2)
    assert teams() == 1
    # the same result as the restarts run one after the other (a callback keeps them
    # sequential) on two threads each
    class Quiet:
        def on_epoch_end(self, epoch, logs):
            return None

    seq = net()
    seq.fit(X, y, epochs=3, batch_size=32, restarts=2, n_threads=2, callbacks=[Quiet()])
    assert teams() == 2
    for a, b in zip(m.weights, seq.weights):
        assert np.array_equal(a, b)


def test_parallel_lr_sweep_uses_one_thread_per_candidate(teams):
    X, y = data()
    fm.training.lr_sweep(net(), X, y, lrs=[0.01, 0.1], epochs=2, batch_size=32,
                         n_threads=2, seed=0)
    assert teams() == 1


def test_concurrent_fits_in_a_program_s_threads_share_the_threads(teams):
    """Two threads fit at once with n_threads left open: each engine call gets
    threads // 2 = 1. A barrier before the first epoch and at every epoch end keeps the runs
    overlapping."""
    X, y = data()
    barrier = threading.Barrier(2, timeout=60)

    class Together:           # both runs are in flight before either starts an epoch
        def on_train_begin(self, run):
            barrier.wait()

        def on_epoch_end(self, epoch, logs):
            barrier.wait()

    errors = []

    def fit(seed):
        try:
            net(seed).fit(X, y, epochs=3, batch_size=32, callbacks=[Together()])
        except BaseException as e:      # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=fit, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert teams() == 1
    assert concurrency.active_runs() == 0
    # an explicit n_threads is the user's choice and is kept
    barrier.reset()

    def fit2(seed):
        net(seed).fit(X, y, epochs=2, batch_size=32, n_threads=2, callbacks=[Together()])

    threads = [threading.Thread(target=fit2, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert teams() == 2


def test_shared_threads_rule():
    assert concurrency.shared_threads(4, False) == 4
    assert concurrency.shared_threads(None, True) is None           # alone: the engine's default
    concurrency.enter_run(3)
    try:
        assert concurrency.shared_threads(4, True) == 1
        assert concurrency.shared_threads(8, True) == 2
        assert concurrency.shared_threads(3, False) == 3
        assert concurrency.shared_threads(None, True) == max(1, _core.get_num_threads() // 3)
    finally:
        concurrency.enter_run(-3)


def _fit_in_worker(seed):
    """Runs in a joblib (loky) worker process."""
    from fastmlp import _core as core
    from fastmlp.sklearn import MLPClassifier
    core.set_data_parallel(chunks=2, min_flops=0, max_flops=float("inf"))
    core.widest_team(reset=True)
    X, y = data(seed=seed)
    est = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3, batch_size=32,
                        random_state=seed).fit(X, y)
    return est.n_threads_, core.widest_team()


def test_joblib_process_workers_fit_on_one_thread_each():
    joblib = pytest.importorskip("joblib")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # ConvergenceWarning from max_iter=3
        out = joblib.Parallel(n_jobs=2, backend="loky")(
            joblib.delayed(_fit_in_worker)(s) for s in (0, 1))
    share = max(1, joblib.cpu_count() // 2)   # what joblib gives each of 2 workers
    for n_threads, widest in out:
        assert n_threads == share and widest <= share
