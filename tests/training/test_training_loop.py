"""The one training loop (fastmlp.training): MLP.fit and the scikit-learn estimators share
its schedules, stopping rules, divergence policy, Ctrl-C handling and sample weights."""
import _thread
import math
import threading
import time
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import optim
from fastmlp.training import EarlyStopping, History, NoImprovement, StopTraining


def _data(n=120, d=5, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    return X, y % k


# ---------------------------------------------------------------------------------------------
# optimisers and schedules of the loop
# ---------------------------------------------------------------------------------------------
def test_spec_carries_l2_and_folds_it_for_a_known_batch_weight():
    sgd = optim.SGD(lr=0.1, weight_decay=0.01, l2=0.5)
    from fastmlp import _core
    spec = sgd.spec()
    assert isinstance(spec, _core.OptSpec)
    assert (spec.kind, spec.lr, spec.weight_decay, spec.l2) == (_core.OPT_CODES["sgd"], 0.1,
                                                                0.01, 0.5)
    folded = sgd.spec(batch_weight=10.0)
    assert folded.l2 == 0 and folded.weight_decay == pytest.approx(0.01 + 0.5 / 10.0)
    assert optim.SGD(lr=0.1).spec().l2 == 0
    assert optim.Adam(efficient=True).spec().kind == _core.OPT_CODES["adam_efficient"]
    assert optim.Adam().spec().kind == _core.OPT_CODES["adam"]
    assert optim.Adam(betas=(0.8, 0.9)).spec()[5:7] == (0.8, 0.9)
    with pytest.raises(ValueError):
        optim.SGD(l2=-1)


def test_lr_in_velocity_rescales_the_velocity_when_lr_changes():
    opt = optim.SGD(lr=0.2, momentum=0.9, lr_in_velocity=True)
    opt._ensure_state(4, np.float64)
    opt.state["velocity"][:] = [1.0, -2.0, 0.5, 0.0]
    opt.lr = 0.1                                  # lr * v (the step) must stay the same
    np.testing.assert_allclose(opt.state["velocity"] * 0.1, [0.2, -0.4, 0.1, 0.0])
    plain = optim.SGD(lr=0.2, momentum=0.9)
    plain._ensure_state(4, np.float64)
    plain.state["velocity"][:] = 1.0
    plain.lr = 0.1
    np.testing.assert_array_equal(plain.state["velocity"], 1.0)


def test_inverse_scaling_per_sample_and_adaptive_schedules():
    inv = optim.InverseScaling(power_t=0.5, per="sample")
    assert inv(0, 1.0, 0.3, None) == 0.3                         # first epoch: current lr
    assert inv(1, 1.0, 0.3, {"samples_seen": 99}) == pytest.approx(0.1)
    ada = optim.Adaptive(factor=0.2, patience=2, tol=0.1, min_lr=0.01)
    lr = 1.0
    for loss in [1.0, 0.95, 0.94, 0.93]:       # 3 epochs without a 0.1 improvement: > 2
        lr = ada(0, 1.0, lr, {"loss": loss})
    assert lr == pytest.approx(0.2) and ada.count == 0
    with pytest.raises(StopTraining):
        for _ in range(10):
            lr = ada(0, 1.0, 0.005, {"loss": 0.93})
    with pytest.raises(ValueError):
        optim.InverseScaling(per="batch")


def test_stopping_rules_count_like_their_models():
    """NoImprovement is scikit-learn's rule (stop after MORE than n epochs without a tol
    improvement); EarlyStopping Keras' (stop after `patience` such epochs). The first
    epoch always improves on the initial best (inf)."""
    X, y = _data()
    for rule, expected in [(NoImprovement(tol=1e9, n_iter_no_change=2), 4),
                           (EarlyStopping(patience=2, min_delta=1e9), 3)]:
        net = fm.MLP([5, 4, 3], loss="cross_entropy", seed=0)
        h = net.fit(X, y, epochs=50, callbacks=[rule])
        assert len(h) == expected and h.stopped_early


def test_history_final_score_and_best_epoch_follow_the_monitor_mode():
    h = History()
    for v in [0.5, 0.9, 0.7]:
        h._append(len(h), {"loss": 1.0, "val_score": v})
    h.monitor, h.monitor_mode = "val_score", "max"
    assert h.best_epoch == 1
    assert h.final_score(restored_best=True) == -0.9
    assert h.final_score() == -0.7


# ---------------------------------------------------------------------------------------------
# sample weights through MLP.fit
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-4)])
def test_integer_sample_weights_equal_repeated_samples_full_batch(dtype, tol):
    X, y = _data()
    w = np.random.default_rng(1).integers(0, 4, len(y))
    a = fm.MLP([5, 6, 3], activation="tanh", loss="cross_entropy", seed=3, dtype=dtype)
    b = fm.MLP([5, 6, 3], activation="tanh", loss="cross_entropy", seed=3, dtype=dtype)
    ha = a.fit(X, y, sample_weight=w, batch_size=None, epochs=5,
               optimizer=optim.SGD(lr=0.3, momentum=0.5))
    hb = b.fit(np.repeat(X, w, axis=0), np.repeat(y, w), batch_size=None, epochs=5,
               optimizer=optim.SGD(lr=0.3, momentum=0.5))
    np.testing.assert_allclose(a.theta, b.theta, rtol=tol, atol=tol)
    np.testing.assert_allclose(ha.loss, hb.loss, rtol=tol)


def test_sample_weight_bad_input():
    X, y = _data()
    net = fm.MLP([5, 4, 3], loss="cross_entropy", seed=0)
    for bad, exc in [(np.ones(3), ValueError), (-np.ones(len(y)), ValueError),
                     (np.full(len(y), np.nan), ValueError), (np.zeros(len(y)), ValueError),
                     (np.array(["a"] * len(y)), TypeError)]:
        with pytest.raises(exc):
            net.fit(X, y, sample_weight=bad, epochs=1)


def test_weighted_validation_loss_is_the_weighted_mean():
    X, y = _data()
    w = np.r_[np.ones(60), np.zeros(60)]
    net = fm.MLP([5, 4, 3], loss="cross_entropy", seed=0)
    h = net.fit(X[:60], y[:60], epochs=1, validation_data=(X, y, w))
    ref = fm.MLP([5, 4, 3], loss="cross_entropy", seed=0)
    h2 = ref.fit(X[:60], y[:60], epochs=1, validation_data=(X[:60], y[:60]))
    assert h.val_loss[0] == pytest.approx(h2.val_loss[0], rel=1e-12)


# ---------------------------------------------------------------------------------------------
# the same policies on every path
# ---------------------------------------------------------------------------------------------
def test_divergence_policy_is_the_same_for_mlp_and_estimators():
    """MLP.fit's policy is the estimators' with on_divergence='warn' (their default raises
    scikit-learn's ValueError: tests/test_sklearn_divergence.py)."""
    pytest.importorskip("sklearn")
    from fastmlp.sklearn import MLPRegressor
    X, _ = _data()
    y = X[:, 0] * 100
    net = fm.MLP([5, 8, 1], activation="relu", loss="square", seed=0)
    with pytest.warns(fm.DivergenceWarning, match="diverged in epoch"):
        h = net.fit(X, y, optimizer=optim.SGD(lr=1e3), epochs=20, batch_size=8)
    assert h.diverged and np.isfinite(net.theta).all()
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1e3,
                       momentum=0, max_iter=20, batch_size=8, random_state=0,
                       on_divergence="warn")
    with pytest.warns(fm.DivergenceWarning, match="diverged in epoch"):
        est.fit(X, y)
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)


def test_warnings_point_at_the_callers_line():
    X, _ = _data()
    net = fm.MLP([5, 8, 1], activation="relu", loss="square", seed=0)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        net.fit(X, X[:, 0] * 100, optimizer=optim.SGD(lr=1e3), epochs=20, batch_size=8)
    assert rec and all(r.filename == __file__ for r in rec)


def test_estimator_honours_ctrl_c_between_epochs():
    """Before the one loop, MLPClassifier read nothing of the engine's interrupt flag and
    trained on to max_iter; now it stops at the last completed epoch."""
    pytest.importorskip("sklearn")
    from fastmlp.sklearn import MLPClassifier
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 256))
    y = rng.integers(0, 10, 4000)
    est = MLPClassifier(hidden_layer_sizes=(512,), max_iter=400, random_state=0, tol=0,
                        n_iter_no_change=1000)
    timer = threading.Timer(1.0, _thread.interrupt_main)
    t0 = time.perf_counter()
    timer.start()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est.fit(X, y)
    timer.join()
    assert time.perf_counter() - t0 < 60
    assert any("interrupted" in str(r.message) for r in rec)
    # on a loaded machine the interrupt may come within the first epoch: 0 epochs then
    assert 0 <= est.n_iter_ < 400 and len(est.loss_curve_) == est.n_iter_
    assert all(np.isfinite(c).all() for c in est.coefs_)


def test_estimator_restarts_in_parallel_equal_sequential():
    pytest.importorskip("sklearn")
    from fastmlp.sklearn import MLPClassifier
    X, y = _data(200)
    one = MLPClassifier(hidden_layer_sizes=(6,), max_iter=8, random_state=0, restarts=3,
                        n_threads=1).fit(X, y)
    par = MLPClassifier(hidden_layer_sizes=(6,), max_iter=8, random_state=0, restarts=3,
                        n_threads=2).fit(X, y)
    for a, b in zip(one.coefs_ + one.intercepts_, par.coefs_ + par.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert one.loss_curve_ == par.loss_curve_


def test_a_fit_of_the_same_model_inside_its_fit_is_a_clear_error():
    """Before: a callback that refit the model (here with another loss) ran, and the outer
    fit silently lost its epochs. Now the inner fit raises RuntimeError; the model stays
    usable and can be fitted again."""
    import re
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    m = fm.MLP([3, 4, 2], loss="cross_entropy", seed=0)
    calls = []

    class Refit:
        def on_epoch_end(self, epoch, logs):
            calls.append(epoch)
            m.fit(X, np.eye(2)[y], loss="square", epochs=1)

    with pytest.raises(RuntimeError, match=re.escape("fit of the same model is running")):
        m.fit(X, y, epochs=3, callbacks=[Refit()])
    assert calls == [1]
    hist = m.fit(X, y, epochs=2)            # not left locked or marked as fitting
    assert len(hist) == 2 and np.isfinite(m.theta).all()
    other = fm.MLP([3, 4, 2], loss="cross_entropy", seed=1)

    class FitOther:                          # another model may be fitted from a callback
        def on_epoch_end(self, epoch, logs):
            other.fit(X, y, epochs=1)

    assert len(m.fit(X, y, epochs=2, callbacks=[FitOther()])) == 2
    assert other.epochs_trained_ == 2
