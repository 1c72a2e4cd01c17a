"""The engine's tunables (_core.set_* / _core.config()): each one set, read back, rejected
when out of range, seen to take effect; and changed from one thread while another trains,
which must neither race nor change the results."""
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import fastmlp
from fastmlp import _core

# (config key, setter, getter or None, accepted values, rejected values)
TUNABLES = [
    ("parallel_threshold", _core.set_parallel_threshold, None,
     [0, 1, 12345, 2**40], [-1]),
    ("fused_sgd_max_batch", _core.set_fused_sgd_max_batch, _core.get_fused_sgd_max_batch,
     [0, 7, 2**31 - 1], [-1]),
    ("team_min_flops", _core.set_team_min_flops, _core.get_team_min_flops,
     [0.0, 1.5e7, float("inf")], [-1.0, float("nan")]),
    ("gemm_par_flops", _core.set_gemm_par_flops, _core.get_gemm_par_flops,
     [0.0, 2.5e5, float("inf")], [-1e-9, float("nan")]),
]
KEYS = [t[0] for t in TUNABLES]
SETTERS = {t[0]: t[1] for t in TUNABLES}


@pytest.fixture(autouse=True)
def restore_tunables():
    before = {k: _core.config()[k] for k in KEYS}
    yield
    for k, v in before.items():
        SETTERS[k](v)


@pytest.mark.parametrize("key,setter,getter,good,bad", TUNABLES, ids=KEYS)
def test_set_read_and_reject(key, setter, getter, good, bad):
    default = _core.config()[key]
    for v in good:
        setter(v)
        assert _core.config()[key] == v
        if getter is not None:
            assert getter() == v
    setter(default)
    for v in bad:
        with pytest.raises(ValueError):
            setter(v)
        assert _core.config()[key] == default      # a rejected value changes nothing
    if key == "fused_sgd_max_batch":
        with pytest.raises(OverflowError):
            setter(2**31)                           # a C int
    if key in ("parallel_threshold", "team_min_flops"):
        assert fastmlp.show_config(print_=False)[key] == default


@pytest.fixture
def no_data_parallel():
    """Fusion is a choice of the output-split step: keep the data-parallel one off."""
    dp = _core.get_data_parallel()
    _core.set_data_parallel(chunks=0)
    yield
    _core.set_data_parallel(*dp)


def _fused_run(max_batch):
    """A plain-SGD run (784 x 16 weights: large enough to be fused) on batches of 16."""
    _core.set_fused_sgd_max_batch(max_batch)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(64, 784))
    Y = np.eye(10)[rng.integers(0, 10, 64)]
    eng = _core.Engine([784, 16, 10], ["relu", "softmax"], "cross_entropy", np.float64,
                       max_batch=16)
    eng.theta[:] = np.random.default_rng(1).normal(size=eng.n_params) * 0.05
    dp = _core.get_data_parallel()
    _core.set_data_parallel(chunks=0)   # fusion is a choice of the output-split step
    try:
        eng.train_epochs(X, Y, 16, 2, (0, 0.1, 0, False, 0, 0, 0, 0, 0), seed=2, n_threads=1)
    finally:
        _core.set_data_parallel(*dp)
    return eng.theta.copy()


def test_fused_sgd_max_batch_takes_effect():
    """Batches of 16 are fused up to a limit of 16 and not from 15 down: the fused update
    (one rounding inside the GEMM's store) and the unfused one differ in the last bits."""
    fused, unfused = _fused_run(16), _fused_run(15)
    assert np.array_equal(fused, _fused_run(2**31 - 1))
    assert np.array_equal(unfused, _fused_run(0))
    assert not np.array_equal(fused, unfused)
    np.testing.assert_allclose(fused, unfused, rtol=1e-9, atol=1e-12)


# The threading tunables never change results, only whether a parallel region is opened:
# OpenMP starts its worker threads at the first region of more than one thread, so in a fresh
# process the OS thread count shows whether any region was opened.
_THREADS_PROBE = textwrap.dedent("""
    import os, sys
    import numpy as np
    from fastmlp import _core
    def n_os_threads():
        return len(os.listdir("/proc/self/task"))
    _core.set_parallel_threshold(2**40)
    _core.set_team_min_flops(float("inf"))
    _core.set_gemm_par_flops(float("inf"))
    rng = np.random.default_rng(0)
    A = rng.normal(size=(256, 256))
    X = rng.normal(size=(256, 64))
    Y = np.eye(10)[rng.integers(0, 10, 256)]
    eng = _core.Engine([64, 256, 10], ["tanh", "softmax"], "cross_entropy", np.float64,
                       max_batch=256)
    def work():
        _core.gemm(A, A, n_threads=2)
        _core.act_forward("sigmoid", A, n_threads=2)
        eng.train_epochs(X, Y, 256, 1, (0, 0.1, 0.9, False, 0, 0, 0, 0, 0),
                         state1=np.zeros(eng.n_params), n_threads=2, interruptible=False)
    start = n_os_threads()
    work()
    print(start, n_os_threads())
    {setter}
    work()
    print(n_os_threads())
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/task")
@pytest.mark.skipif(not _core.config()["openmp"], reason="single-threaded build")
@pytest.mark.parametrize("setter", ["_core.set_parallel_threshold(0)",
                                    "_core.set_team_min_flops(0.0)",
                                    "_core.set_gemm_par_flops(0.0)"])
def test_threading_tunables_take_effect(setter):
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", OMP_WAIT_POLICY="passive")
    out = subprocess.run([sys.executable, "-c", _THREADS_PROBE.format(setter=setter)],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    start, after_off, after_on = map(int, out.stdout.split())
    assert after_off == start        # every limit at its maximum: no region opened
    assert after_on > start          # this limit at 0: its kernels opened a region


def _train(eng, X, Y, spec, calls, nt):
    velocity = np.zeros(eng.n_params, np.float32)
    for c in range(calls):
        eng.train_epochs(X, Y, 32, 1, spec, state1=velocity, epoch0=c, seed=7, n_threads=nt,
                         interruptible=False)
        eng.forward(X[:32], n_threads=nt)
    return eng.theta.copy()


def _engine():
    eng = _core.Engine([64, 256, 128, 10], ["relu", "tanh", "softmax"], "cross_entropy",
                       np.float32, max_batch=32)
    eng.theta[:] = np.random.default_rng(0).normal(size=eng.n_params).astype(np.float32) * 0.1
    _ = eng.grad                 # allocated: unfused steps need it whatever fusion decides
    return eng


def _data():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(480, 64)).astype(np.float32)
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 480)]
    return X, Y


class _Flipper(threading.Thread):
    """Sets each of `settings` (setter, values) in turn, as fast as it can, until stopped."""

    def __init__(self, settings):
        super().__init__(daemon=True)
        self.settings, self.stop, self.flips = settings, threading.Event(), 0

    def run(self):
        while not self.stop.is_set():
            for setter, values in self.settings:
                setter(values[self.flips % len(values)])
            self.flips += 1

    def start(self):
        super().start()
        while self.flips == 0:       # flipping before the training starts
            time.sleep(0.001)


@pytest.mark.skipif(not _core.config()["openmp"], reason="single-threaded build")
def test_threading_tunables_changed_while_training():
    """Thread counts and region thresholds flipped by another thread during training (team or
    one thread per step, GEMMs threaded or not, element-wise kernels threaded or not): every
    call reads each tunable once, and the parameters stay bitwise the serial run's."""
    X, Y = _data()
    spec = (0, 0.05, 0.9, False, 1e-4, 0, 0, 0, 0)   # momentum: never fused
    reference = _train(_engine(), X, Y, spec, 6, 1)
    flipper = _Flipper([(_core.set_team_min_flops, [0.0, 1e18, 4e6]),
                        (_core.set_gemm_par_flops, [0.0, 1e18, 1e5]),
                        (_core.set_parallel_threshold, [0, 2**40, 1000])])
    flipper.start()
    try:
        got = _train(_engine(), X, Y, spec, 6, 2)
    finally:
        flipper.stop.set()
        flipper.join()
    assert np.array_equal(got, reference)


@pytest.mark.skipif(not _core.config()["openmp"], reason="single-threaded build")
def test_fusion_limit_changed_while_training(no_data_parallel):
    """The fusion limit flipped during one train_epochs call: the call reads it once, so the
    run is wholly fused or wholly unfused -- bitwise one of the two serial runs, never a mix
    (and no team thread ever takes the other branch than its partners)."""
    X, Y = _data()
    spec = (0, 0.05, 0, False, 0, 0, 0, 0, 0)        # plain SGD: fusable
    refs = []
    for limit in (2**31 - 1, 0):
        _core.set_fused_sgd_max_batch(limit)
        eng = _engine()
        eng.train_epochs(X, Y, 32, 6, spec, seed=7, n_threads=1, interruptible=False)
        refs.append(eng.theta.copy())
    assert not np.array_equal(refs[0], refs[1])
    _core.set_team_min_flops(0.0)                    # a team of 2 for every step
    for _ in range(3):
        flipper = _Flipper([(_core.set_fused_sgd_max_batch, [0, 2**31 - 1])])
        eng = _engine()
        flipper.start()
        try:
            eng.train_epochs(X, Y, 32, 6, spec, seed=7, n_threads=2, interruptible=False)
        finally:
            flipper.stop.set()
            flipper.join()
        assert any(np.array_equal(eng.theta, r) for r in refs)
