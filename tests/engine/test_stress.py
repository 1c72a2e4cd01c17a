"""Stress: many threads sharing one model while it is being fitted, and repeated forks after
OpenMP. FASTMLP_STRESS scales the work (default 1, a few seconds; CI's .ci/stress runs more).
Prints how many concurrent calls were checked."""
import copy
import os
import sys
import threading

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core

from forking import in_forked_child

pytestmark = pytest.mark.slow

SCALE = int(os.environ.get("FASTMLP_STRESS", "1"))


def _readers_while_fitting(fitter, reader, n_readers):
    """Run reader(t) on n_readers threads while fitter() runs on another; wait for all."""
    threads = [threading.Thread(target=reader, args=(t,)) for t in range(n_readers)]
    f = threading.Thread(target=fitter)
    for t in threads:
        t.start()
    f.start()
    f.join()
    for t in threads:
        t.join()


def test_threads_share_a_model_while_it_is_fitted():
    """Predictions from 8 threads while a ninth fits the model epoch by epoch: every result
    is bitwise the prediction of one of the model's states between two fits."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(1500, 16)), rng.integers(0, 4, 1500)
    m = fm.MLP([16, 48, 4], loss="cross_entropy", seed=0)
    m.fit(X, y, epochs=1)
    rounds = 6 * SCALE
    replay = copy.deepcopy(m)
    states = [replay.predict_proba(X)]
    for _ in range(rounds):
        replay.fit(X, y, epochs=1)
        states.append(replay.predict_proba(X))
    keys = {s.tobytes(): i for i, s in enumerate(states)}
    traces = {}
    for i, s in enumerate(states):
        traces.setdefault(s[:16].tobytes(), i)
    counts, bad = [0], []
    done = threading.Event()

    def fitter():
        for _ in range(rounds):      # a refit now and then, predictions in between
            threading.Event().wait(0.02)
            m.fit(X, y, epochs=1)
        threading.Event().wait(0.02)
        done.set()

    def reader(t):
        r = np.random.default_rng(t)
        while not done.is_set():
            which = r.integers(3)
            if which == 0:
                ok = m.predict_proba(X).tobytes() in keys
            elif which == 1:
                ok = m.forward(X[:16]).output.tobytes() in traces
            else:
                lab = m.predict(X)
                ok = any(np.array_equal(lab, np.argmax(s, axis=1)) for s in states)
            counts[0] += 1
            if not ok:
                bad.append(which)

    _readers_while_fitting(fitter, reader, 8)
    print(f"stress: {counts[0]} concurrent predictions checked during {rounds} fits")
    assert bad == [] and counts[0] > 0
    assert np.array_equal(m.predict_proba(X), states[-1])


def test_estimator_shared_while_refitted_on_relabelled_classes():
    """Three threads call predict/predict_proba/score on a scikit-learn estimator while a
    fourth refits it, alternately on two labellings with different classes (one inverted):
    every answer is the one the old or the new fitted state gives, labels included."""
    pytest.importorskip("sklearn")
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from fastmlp.sklearn import MLPClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 8))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    labellings = [np.where(y == 1, "dog", "cat"), np.where(y == 1, "ant", "bee")]
    kw = dict(hidden_layer_sizes=(12,), max_iter=3, random_state=0, n_threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        refs = [MLPClassifier(**kw).fit(X, lab) for lab in labellings]
        preds = [r.predict(X) for r in refs]
        probas = [r.predict_proba(X) for r in refs]
        scores = {r.score(X, lab) for r in refs for lab in labellings}
        est = MLPClassifier(**kw).fit(X, labellings[0])
        rounds = 10 * SCALE
        counts, bad = [0], []
        done = threading.Event()

        def fitter():
            for i in range(rounds):
                est.fit(X, labellings[(i + 1) % 2])
                threading.Event().wait(0.005)
            done.set()

        def reader(t):
            r = np.random.default_rng(t)
            while not done.is_set():
                which = int(r.integers(3))
                try:
                    if which == 0:
                        p = est.predict(X)
                        ok = any(np.array_equal(p, q) for q in preds)
                    elif which == 1:
                        p = est.predict_proba(X)
                        ok = any(np.array_equal(p, q) for q in probas)
                    else:
                        ok = est.score(X, labellings[t % 2]) in scores
                except Exception as e:
                    ok = False
                    bad.append(repr(e))
                counts[0] += 1
                if not ok:
                    bad.append(which)

        _readers_while_fitting(fitter, reader, 3)
    print(f"stress: {counts[0]} estimator predictions checked during {rounds} refits")
    assert bad == [] and counts[0] > 0


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"), reason="needs fork")
def test_repeated_fork_after_openmp():
    before = _core.get_team_min_flops()
    _core.set_team_min_flops(0)
    try:
        rng = np.random.default_rng(1)
        X, y = rng.normal(size=(600, 32)), rng.integers(0, 5, 600)

        def train():
            m = fm.MLP([32, 256, 5], loss="cross_entropy", seed=3, n_threads=2)
            m.fit(X, y, epochs=1, batch_size=100)
            return m.theta

        want = train()
        for _ in range(3 * SCALE):
            assert np.array_equal(in_forked_child(train), want)
            want = train()                      # the parent opens regions again, then forks
    finally:
        _core.set_team_min_flops(before)


def test_oversubscribed_data_parallel_fits_match_a_lone_fit():
    """Four threads each train their own model with data-parallel steps on 3 engine threads
    (12 spinning threads on this machine's cores: helpers are descheduled mid-round all the
    time). Every model must equal the one trained alone, on one thread."""
    dp = _core.get_data_parallel()
    _core.set_data_parallel(chunks=3, min_flops=0, max_flops=float("inf"))
    try:
        rng = np.random.default_rng(5)
        X = rng.normal(size=(960, 12))
        y = (X[:, 0] * X[:, 1] > 0).astype(int)

        def train(n_threads):
            m = fm.MLP([12, 48, 48, 2], activation="tanh", loss="cross_entropy", seed=3)
            m.fit(X, y, epochs=4 * SCALE, batch_size=30, seed=1, n_threads=n_threads,
                  optimizer=fm.optim.Adam(lr=0.01))
            return m.weights

        alone = train(1)
        _core.widest_team(reset=True)
        results, errors = [], []

        def worker():
            try:
                results.append(train(3))
            except BaseException as e:           # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors and len(results) == 4
        assert _core.widest_team() == 3               # the fits did run on 3-thread teams
        for weights in results:
            for a, b in zip(weights, alone):
                assert np.array_equal(a, b)
        print(f"\nstress: {len(results)} oversubscribed data-parallel fits bitwise equal to "
              f"a lone one-thread fit")
    finally:
        _core.set_data_parallel(*dp)
