"""Inference weights packed once per version of a model's parameters.

A prediction packs each W^l that the GEMM would pack (layers with more than a few outputs) once,
and later predictions reuse that copy. Every way the parameters can change starts a new version:
training (fit, partial_fit, an engine's exclusive calls), set_weights, initialize/reset, loading,
and writes through the views that ``weights``, ``biases``, ``theta`` and ``engine.theta`` hand
out -- while such a view is alive, nothing packed is used. The test of each: after the change, a
prediction is bitwise that of a fresh copy of the model (which packs anew), and differs from the
prediction before it.

Batch invariance (the property the packing must keep): a row's output is bitwise the same
whatever the batch around it, its position, the thread count, the layout of X and the kernel
set -- a Hypothesis property over networks, batches and rows.
"""
import copy
import os
import threading
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core

EXAMPLES = int(os.environ.get("FASTMLP_FUZZ_EXAMPLES", "25"))


def _net(dtype=np.float64, sizes=(20, 48, 33, 3), seed=0):
    return fm.MLP(list(sizes), loss="cross_entropy", dtype=dtype, seed=seed)


def _data(n=150, d=20, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(dtype), rng.integers(0, 3, n)


def _fresh(net):
    """The model's current parameters in a new model (nothing packed yet)."""
    return copy.deepcopy(net)


def _same_as_fresh(net, X):
    got = net.predict_proba(X)
    assert net.engine.packed_nbytes > 0                 # the prediction used packed weights
    want = _fresh(net).predict_proba(X)
    assert np.array_equal(got, want)
    return got


def test_weights_are_packed_once_and_reused():
    net = _net()
    X, _ = _data()
    assert net.engine.packed_nbytes == 0
    p1 = net.predict_proba(X)
    nbytes = net.engine.packed_nbytes
    assert nbytes == net.engine.packed_plan_nbytes > 0
    p2 = net.predict_proba(X)
    assert np.array_equal(p1, p2)
    assert net.engine.packed_nbytes == nbytes
    # a network whose layers are all read in place packs nothing
    small = fm.MLP([4, 8, 2], loss="cross_entropy", seed=0)
    small.predict_proba(np.ones((50, 4)))
    assert small.engine.packed_plan_nbytes == 0 and small.engine.packed_nbytes == 0


def test_summary_shows_the_packed_weights():
    net = _net()
    assert "none yet" in net.summary()
    net.predict_proba(_data()[0])
    mib = net.engine.packed_nbytes / 2**20
    assert f"packed inference weights: {mib:,.2f} MiB" in net.summary()
    assert "every layer is read in place" in fm.MLP([2, 4, 1]).summary()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("change", ["fit", "fit_more", "set_weights", "initialize", "reset",
                                    "weights_view", "biases_view", "theta_view",
                                    "engine_theta", "held_view", "derived_view", "load"])
def test_every_change_of_the_weights_is_seen_by_the_next_prediction(dtype, change, tmp_path):
    net = _net(dtype)
    X, y = _data(dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y, epochs=1, seed=0)
    held = net.weights[0] if change in ("held_view", "derived_view") else None
    derived = held[:5, 1:] if change == "derived_view" else None
    if held is not None and change == "derived_view":
        held = None                               # only the view made from it stays alive
    net.predict_proba(X)
    before = net.predict_proba(X)                 # the packed copy in use (no view alive)
    if change in ("held_view", "derived_view"):
        assert net.engine.packed_nbytes == 0      # a writable view is alive: nothing packed
    else:
        assert net.engine.packed_nbytes > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if change == "fit":
            net.fit(X, y, epochs=1, seed=1)
        elif change == "fit_more":                # training goes on from the fitted state
            net.fit(X, y, epochs=2, seed=2, optimizer="adam")
        elif change == "set_weights":
            net.set_weights([W * 0.5 for W in net.weights], [b + 0.1 for b in net.biases])
        elif change == "initialize":
            net.initialize(seed=7)
        elif change == "reset":
            net.reset(seed=8)
        elif change == "weights_view":
            net.weights[0][...] *= -1.0
        elif change == "biases_view":
            net.biases[1][...] += 1.0
        elif change == "theta_view":
            net.theta[: net.engine.n_weights] *= 0.5
        elif change == "engine_theta":
            net.engine.theta[3] += 5.0
        elif change == "held_view":
            held[0, :] = 3.0
        elif change == "derived_view":
            derived[...] = -2.0
        elif change == "load":
            other = _net(dtype, seed=5)
            net = type(net).load(other.save(str(tmp_path / "m")))
    held = derived = None
    after = _same_as_fresh(net, X)
    assert not np.array_equal(after, before), "the change did not change the predictions"
    # and the new packed copy is reused, not rebuilt, by the next prediction
    assert np.array_equal(net.predict_proba(X), after)


def test_a_living_view_keeps_predictions_on_the_current_weights():
    net = _net()
    X, _ = _data()
    W = net.weights[1]
    outs = []
    for k in range(4):                       # write, predict, write, predict ...
        W[k, :] = 0.1 * (k + 1)
        outs.append(net.predict_proba(X))
        assert np.array_equal(outs[-1], _fresh(net).predict_proba(X))
    assert net.engine.packed_nbytes == 0
    del W
    p = net.predict_proba(X)                 # no view left: packed once more
    assert net.engine.packed_nbytes > 0 and np.array_equal(p, outs[-1])


def test_the_kernel_set_of_the_packed_weights_is_checked():
    """Packed for one kernel set, the weights are not read by another (the layouts differ):
    a prediction after a kernel-set change packs for the new set and still matches a fresh
    model bitwise."""
    net = _net(np.float32)
    X, _ = _data(dtype=np.float32)
    base = _core.gemm_isa()
    net.predict_proba(X)
    try:
        for isa in ("portable", "avx2", "avx512"):
            try:
                _core.set_gemm_isa(isa)
            except ValueError:
                continue
            assert np.array_equal(net.predict_proba(X), _fresh(net).predict_proba(X)), isa
    finally:
        _core.set_gemm_isa(base)


def test_predictions_from_many_threads_share_one_packed_copy():
    net = _net(np.float32, sizes=(64, 96, 96, 3))
    X, _ = _data(n=700, d=64, dtype=np.float32)
    want = _fresh(net).predict_proba(X)
    bad, barrier = [], threading.Barrier(6)

    def reader():
        barrier.wait()
        for _ in range(20):
            if not np.array_equal(net.predict_proba(X), want):
                bad.append(1)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not bad
    assert net.engine.packed_nbytes == net.engine.packed_plan_nbytes


def test_validation_during_fit_uses_the_prediction_path():
    """The last epoch's validation loss is bitwise the engine's evaluation of the fitted model
    on the validation set (the same packed path as every prediction), and its metric is the
    model's score."""
    net = _net(np.float32, sizes=(20, 64, 3))
    X, y = _data(dtype=np.float32)
    Xv, yv = _data(n=1500, seed=4, dtype=np.float32)       # more than one chunk of rows
    h = net.fit(X, y, epochs=3, validation_data=(Xv, yv), seed=0)
    value, a = net.engine.evaluate(Xv, np.eye(3, dtype=np.float32)[yv])
    assert h.val_loss[-1] == float(value)
    assert np.array_equal(a, net.predict_proba(Xv))
    assert h.val_metric[-1] == net.score(Xv, yv)


# ---- batch invariance: a Hypothesis property --------------------------------------------------
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROPERTY = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


def _supported(isa):
    base = _core.gemm_isa()
    try:
        _core.set_gemm_isa(isa)
        return True
    except ValueError:
        return False
    finally:
        _core.set_gemm_isa(base)


ISAS = [isa for isa in ("portable", "avx2", "avx512") if _supported(isa)]


@PROPERTY
@given(hidden=st.lists(st.sampled_from([3, 16, 17, 40, 130]), min_size=0, max_size=2),
       n_in=st.sampled_from([1, 7, 64, 300]), n_out=st.sampled_from([1, 2, 10, 20]),
       double=st.booleans(), n=st.integers(1, 1100), isa=st.sampled_from(ISAS),
       layout=st.sampled_from(["C", "F", "strided"]), threads=st.sampled_from([1, 2, 3]),
       data=st.data())
def test_a_row_is_the_same_in_any_batch(hidden, n_in, n_out, double, n, isa, layout,
                                        threads, data):
    dt = np.float64 if double else np.float32
    sizes = [n_in] + hidden + [n_out]
    loss = "cross_entropy" if n_out > 1 else "square"
    net = fm.MLP(sizes, activation="tanh" if n % 2 else "relu", loss=loss, dtype=dt, seed=n)
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, n_in)).astype(dt)
    lo = data.draw(st.integers(0, n - 1), label="lo")
    hi = data.draw(st.integers(lo + 1, n), label="hi")
    part = X[lo:hi]
    if layout == "F":
        part = np.asfortranarray(part)
    elif layout == "strided":
        wide = np.zeros((hi - lo, 2 * n_in), dt)
        wide[:, ::2] = part
        part = wide[:, ::2]
    base = _core.gemm_isa()
    try:
        _core.set_gemm_isa(isa)
        methods = ["decision_function", "forward"] + \
            (["predict_proba"] if loss == "cross_entropy" else [])
        for m in methods:
            if m == "forward":
                full = net.forward(X, keep=False, n_threads=2)
                got = net.forward(part, keep=False, n_threads=threads)
            else:
                full = getattr(net, m)(X, n_threads=2)
                got = getattr(net, m)(part, n_threads=threads)
            assert np.array_equal(got, full[lo:hi]), m
            if m == "forward":                # the trace's a^L, too
                tr = net.forward(part, n_threads=threads)
                assert np.array_equal(tr.a[-1], full[lo:hi])
    finally:
        _core.set_gemm_isa(base)
