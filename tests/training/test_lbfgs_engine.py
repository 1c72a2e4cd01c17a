"""L-BFGS on the engine: ``fastmlp._core.objective`` (the loss, L2 term and gradient over a
whole data set in one engine call) against the NumPy path it replaced
(``fastmlp.training.objective.loss_and_gradient``) and finite differences; the estimators'
L-BFGS fits against fits driven by the NumPy objective (1e-10); sparse X; thread counts."""
import math
import warnings

import numpy as np
import pytest

from fastmlp import _core
from fastmlp.training.objective import loss_and_gradient

CASES = [  # sizes, activations, loss
    ([5, 9, 3], ["relu", "softmax"], "cross_entropy"),
    ([5, 8, 6, 2], ["tanh", "relu", "linear"], "square"),
    ([5, 7, 2], ["prelu", "sigmoid"], "square"),
    ([5, 6, 3], ["relu", "linear"], "logistic"),
    ([5, 4], ["exp"], "poisson"),
]


def _problem(sizes, acts, loss, n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    m = sizes[-1]
    if loss == "cross_entropy":
        Y = np.eye(m)[rng.integers(0, m, n)]
    elif loss == "logistic":
        Y = np.where(rng.random((n, m)) < 0.5, -1.0, 1.0)
    else:
        Y = rng.random((n, m))
    e = _core.Engine(sizes, acts, loss, np.float64)
    e.theta[:] = rng.normal(0, 0.3, e.n_params)
    return e, X, Y


def _numpy_objective(e, X, Y, acts, loss, sw, lscale, alpha, chunk):
    """The NumPy path's objective as the estimators computed it before."""
    val, g = loss_and_gradient(e, X, Y, loss, acts[-1], sw, chunk=chunk)
    S = float(X.shape[0] if sw is None else sw.sum())
    W = e.theta[:e.n_weights].astype(np.float64)
    val = val * lscale + 0.5 * alpha * float(W @ W) / S
    g *= lscale
    g[:e.n_weights] += alpha * W / S
    return val, g


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(c[1]) + "-" + c[2])
@pytest.mark.parametrize("chunk", [64, 4096])
def test_objective_equals_the_numpy_path(case, chunk):
    sizes, acts, loss = case
    e, X, Y = _problem(*case)
    g = np.full(e.n_params, np.nan)
    v = _core.objective(e, X, Y, g, lscale=0.5, alpha=0.7, chunk=chunk)
    want_v, want_g = _numpy_objective(e, X, Y, acts, loss, None, 0.5, 0.7, chunk)
    assert abs(v - want_v) <= 1e-10 * abs(want_v)
    np.testing.assert_allclose(g, want_g, rtol=1e-10, atol=1e-12 * np.abs(want_g).max())


@pytest.mark.parametrize("case", [CASES[0], CASES[1]], ids=lambda c: c[2])
def test_weighted_objective_equals_the_numpy_path(case):
    sizes, acts, loss = case
    e, X, Y = _problem(*case)
    sw = np.random.default_rng(3).random(X.shape[0])
    sw[:70] = 0                               # a whole chunk of weight 0 is left out
    g = np.empty(e.n_params)
    v = _core.objective(e, X, Y, g, sample_weight=sw, lscale=1.0, alpha=0.2, chunk=64)
    want_v, want_g = _numpy_objective(e, X, Y, acts, loss, sw, 1.0, 0.2, 64)
    assert abs(v - want_v) <= 1e-10 * abs(want_v)
    np.testing.assert_allclose(g, want_g, rtol=1e-10, atol=1e-12 * np.abs(want_g).max())


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(c[1]) + "-" + c[2])
def test_weighted_gradient_matches_finite_differences(case):
    """The engine's weighted gradient is the derivative of its weighted loss. (The NumPy
    path got it wrong for a sigmoid output: it applied sigma' twice.)"""
    e, X, Y = _problem(*case, n=60)
    sw = np.random.default_rng(4).random(60)
    theta = e.theta.copy()
    g = np.empty(e.n_params)
    _core.objective(e, X, Y, g, theta=theta, sample_weight=sw, alpha=0.1)
    rng = np.random.default_rng(5)
    for k in rng.choice(e.n_params, 12, replace=False):
        h = 1e-6 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += h
        tm[k] -= h
        fp = _core.objective(e, X, Y, np.empty(e.n_params), theta=tp, sample_weight=sw,
                             alpha=0.1)
        fm_ = _core.objective(e, X, Y, np.empty(e.n_params), theta=tm, sample_weight=sw,
                              alpha=0.1)
        assert abs((fp - fm_) / (2 * h) - g[k]) <= 1e-6 * max(1.0, abs(g[k]))


def test_objective_reads_theta_in_place_and_writes_g_out_only():
    e, X, Y = _problem(*CASES[0])
    before = e.theta.copy()
    theta = np.random.default_rng(9).normal(size=e.n_params)
    g = np.empty(e.n_params)
    v = _core.objective(e, X, Y, g, theta=theta)
    np.testing.assert_array_equal(e.theta, before)        # the engine's theta untouched
    e.theta[:] = theta
    g2 = np.empty(e.n_params)
    assert _core.objective(e, X, Y, g2) == v
    np.testing.assert_array_equal(g, g2)
    with pytest.raises(ValueError):
        _core.objective(e, X, Y, np.empty(e.n_params - 1))
    with pytest.raises(TypeError):
        _core.objective(e, X, Y, np.empty(e.n_params, dtype=np.float32))
    with pytest.raises(ValueError, match="sums to 0"):
        _core.objective(e, X, Y, g, sample_weight=np.zeros(X.shape[0]))


def test_objective_is_the_same_for_every_thread_count_and_on_sparse_x():
    sp = pytest.importorskip("scipy.sparse")
    e, X, Y = _problem([200, 64, 3], ["relu", "softmax"], "cross_entropy", n=900)
    X[np.abs(X) < 1.5] = 0
    got = []
    for nt in (1, 2):
        g = np.empty(e.n_params)
        got.append((_core.objective(e, X, Y, g, alpha=0.1, chunk=128, n_threads=nt), g))
        gs = np.empty(e.n_params)
        vs = _core.objective(e, sp.csr_matrix(X), Y, gs, alpha=0.1, chunk=128, n_threads=nt)
        assert abs(vs - got[-1][0]) <= 1e-12 * got[-1][0]
        np.testing.assert_allclose(gs, g, rtol=1e-12, atol=1e-15)
    assert got[0][0] == got[1][0]
    np.testing.assert_array_equal(got[0][1], got[1][1])


@pytest.mark.parametrize("n,chunk", [(60, 4096), (60, 25), (3000, 4096)])
def test_objective_bits_do_not_depend_on_threads_or_chunk_work(n, chunk):
    """Chunks below a team's worth of work run on the calling thread, larger ones on the
    team: the same bits either way, for one chunk and for several."""
    e, X, Y = _problem([2, 100, 100, 1], ["relu", "relu", "sigmoid"], "logistic", n=n)
    Y = (Y > 0.5).astype(np.float64)
    got = []
    for nt in (1, 2, 3):
        g = np.empty(e.n_params)
        got.append((_core.objective(e, X, Y, g, alpha=1e-3, chunk=chunk, n_threads=nt), g))
    for v, g in got[1:]:
        assert v == got[0][0]
        np.testing.assert_array_equal(g, got[0][1])
    want_v, want_g = _numpy_objective(e, X, Y, ["relu", "relu", "sigmoid"], "logistic", None,
                                      1.0, 1e-3, chunk)
    assert abs(got[0][0] - want_v) <= 1e-10 * abs(want_v)
    np.testing.assert_allclose(got[0][1], want_g, rtol=1e-10,
                               atol=1e-12 * np.abs(want_g).max())


def _numpy_lbfgs(monkeypatch):
    """Make the estimators' L-BFGS evaluate the NumPy objective (the path before)."""
    from fastmlp.sklearn import _network

    def objective(eng, X, Y, g_out, theta=None, sample_weight=None, lscale=1.0, alpha=0.0,
                  chunk=4096, n_threads=None):
        if theta is not None:
            eng.theta[:] = theta
        plan_loss = {3: "cross_entropy", 0: "square", 2: "logistic", 5: "poisson"}[eng.loss_code]
        out_act = [k for k, v in _core.ACTIVATION_CODES.items() if v == eng.acts[-1]][0]
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        val, g = loss_and_gradient(eng, X, Y, plan_loss, out_act, sw, leaky=0.01,
                                   n_threads=n_threads, chunk=chunk)
        S = float(X.shape[0] if sw is None else sw.sum())
        W = eng.theta[:eng.n_weights].astype(np.float64)
        g_out[:] = g * lscale
        g_out[:eng.n_weights] += alpha * W / S
        return val * lscale + 0.5 * alpha * float(W @ W) / S
    monkeypatch.setattr(_network._core, "objective", objective)


@pytest.mark.parametrize("est", ["classifier", "multiclass", "regressor"])
def test_estimator_lbfgs_equals_the_numpy_path(est, monkeypatch):
    from sklearn.datasets import load_iris, make_regression
    from fastmlp.sklearn import MLPClassifier, MLPRegressor
    if est == "regressor":
        X, y = make_regression(n_samples=150, n_features=6, noise=1.0, random_state=0)
        y = y / y.std()
        make = lambda: MLPRegressor(hidden_layer_sizes=(15, 7), solver="lbfgs", alpha=0.01, max_iter=40,  # noqa: E731
                                    random_state=0)
    else:
        X, y = load_iris(return_X_y=True)
        if est == "classifier":
            y = (y == 2).astype(int)
        make = lambda: MLPClassifier((12,), solver="lbfgs", alpha=1e-3, max_iter=40,  # noqa: E731
                                     random_state=0)
    # 40 iterations: the two objectives can differ by rounding (1e-16: e.g. ||W||^2 summed in
    # another order), which later iterations amplify (the regressor: equal weights up to 20
    # iterations, 2e-13 apart at 40, 1e-10 at 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        engine = make().fit(X, y)
        with monkeypatch.context() as mp:
            _numpy_lbfgs(mp)
            numpy = make().fit(X, y)
    assert engine.n_iter_ == numpy.n_iter_
    assert math.isclose(engine.loss_, numpy.loss_, rel_tol=1e-10)
    for a, b in zip(engine.coefs_ + engine.intercepts_, numpy.coefs_ + numpy.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10 * np.abs(b).max())


def test_estimator_lbfgs_max_fun_and_message_are_kept():
    from sklearn.datasets import load_iris
    from sklearn.exceptions import ConvergenceWarning
    from fastmlp.sklearn import MLPClassifier
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf = MLPClassifier((10,), solver="lbfgs", max_fun=5, random_state=0).fit(X, y)
    assert clf.n_iter_ <= 5
    with pytest.warns(ConvergenceWarning, match=r"max_iter=3"):
        clf = MLPClassifier((10,), solver="lbfgs", max_iter=3, random_state=0).fit(X, y)
    assert clf.n_iter_ == 3


def test_estimator_lbfgs_ctrl_c_keeps_the_best_point_evaluated(monkeypatch):
    """A SIGINT during the L-BFGS iterations (which run in C between evaluations) ends the
    fit with a warning, and the model keeps the lowest-loss point evaluated so far."""
    import signal
    from sklearn.datasets import load_iris
    from fastmlp.sklearn import MLPClassifier, _network
    X, y = load_iris(return_X_y=True)
    real, seen = _network._core.objective, []

    def objective(eng, X, Y, g_out, theta=None, **kw):
        v = real(eng, X, Y, g_out, theta=theta, **kw)
        seen.append((v, theta.copy()))
        if len(seen) == 12:
            signal.raise_signal(signal.SIGINT)
        return v
    monkeypatch.setattr(_network._core, "objective", objective)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        clf = MLPClassifier((8,), solver="lbfgs", max_iter=500, random_state=0).fit(X, y)
    assert len(seen) == 12
    # the interrupted (12th) evaluation never returned to the optimiser
    best = min(seen[:-1], key=lambda p: p[0])[1]
    np.testing.assert_array_equal(clf._net.engine.theta, best)
    assert clf.predict(X).shape == y.shape


def test_float32_estimator_lbfgs_close_to_float64():
    from sklearn.datasets import load_iris
    from fastmlp.sklearn import MLPClassifier
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = MLPClassifier((8,), solver="lbfgs", max_iter=5, random_state=0).fit(X, y)
        b = MLPClassifier((8,), solver="lbfgs", max_iter=5, random_state=0,
                          dtype="float32").fit(X, y)
    assert b.coefs_[0].dtype == np.float32
    for p, q in zip(a.coefs_, b.coefs_):
        np.testing.assert_allclose(q, p, rtol=1e-3, atol=1e-4)
