"""fastmlp.sklearn: scikit-learn semantics, same numbers as scikit-learn, pipelines,
parallel searches (joblib, dask), pickling, threads."""
import os
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
import joblib  # noqa: E402
from sklearn import neural_network as sknn  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import (GridSearchCV, cross_val_score,  # noqa: E402
                                     cross_validate)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from fastmlp.sklearn import (MLPClassifier, MLPRegressor, Perceptron,  # noqa: E402
                             resolve_n_threads)
from fastmlp.sklearn._compat import SKLEARN_VERSION  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(n_samples=230, n_features=12, n_informative=8, n_classes=4,
                               random_state=0)
    return X, y


def _sk_pair(cls_ours, cls_sk, **params):
    return cls_ours(**params), cls_sk(**params)


# ---------------------------------------------------------------------------------------------
# same model, same numbers
# ---------------------------------------------------------------------------------------------
def _inject(est, coefs, intercepts):
    est.coefs_ = [c.copy() for c in coefs]
    est.intercepts_ = [b.copy() for b in intercepts]
    est.set_params(warm_start=True)


@pytest.mark.parametrize("batch_size", [32, 230])
def test_one_sgd_epoch_equals_sklearn_multiclass(blobs, batch_size):
    """One epoch of plain SGD (shuffle off, momentum 0) from the same initial weights gives
    scikit-learn's coefs_ to 1e-10: softmax + cross entropy, mean over the batch, L2 as
    alpha * W / batch size, the short last batch (230 = 7 * 32 + 6) included."""
    X, y = blobs
    params = dict(hidden_layer_sizes=(20, 9), activation="tanh", solver="sgd", momentum=0.0,
                  shuffle=False, alpha=1e-2, batch_size=batch_size, learning_rate_init=0.05,
                  max_iter=1)
    ours, theirs = _sk_pair(MLPClassifier, sknn.MLPClassifier, **params)
    # initial weights: drawn by us, injected into both through warm_start
    rs = np.random.RandomState(3)
    sizes = [12, 20, 9, 4]
    W0 = [rs.uniform(-0.5, 0.5, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
    b0 = [rs.uniform(-0.5, 0.5, b) for b in sizes[1:]]
    for est in (ours, theirs):
        est.fit(X, y)                       # sets classes_ and the shapes
        _inject(est, W0, b0)
        est.fit(X, y)                       # the epoch under test
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    # the reported L2 term uses ||W||^2 averaged over the epoch (see _report_loss)
    assert ours.loss_curve_[-1] == pytest.approx(theirs.loss_curve_[-1], rel=1e-5)


def test_same_random_state_same_initial_weights_and_sgd_run(iris):
    """Glorot init is drawn as scikit-learn draws it, so with the same random_state and no
    shuffling a few SGD epochs (momentum, Nesterov, invscaling) agree too."""
    X, y = iris
    params = dict(hidden_layer_sizes=(10,), solver="sgd", shuffle=False, max_iter=5,
                  random_state=7, learning_rate="invscaling", learning_rate_init=0.2,
                  power_t=0.3, momentum=0.8, nesterovs_momentum=True, batch_size=40)
    ours, theirs = _sk_pair(MLPClassifier, sknn.MLPClassifier, **params)
    ours.fit(X, y)
    theirs.fit(X, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert ours.t_ == theirs.t_ and ours.n_iter_ == theirs.n_iter_


def test_early_stopping_matches_sklearn(blobs):
    """Same validation split (random_state after the init), same best-weights restore."""
    X, y = blobs
    params = dict(hidden_layer_sizes=(10,), solver="sgd", shuffle=False, max_iter=25,
                  random_state=2, momentum=0.9, batch_size=40, early_stopping=True,
                  n_iter_no_change=4, learning_rate_init=0.02, validation_fraction=0.2)
    ours, theirs = _sk_pair(MLPClassifier, sknn.MLPClassifier, **params)
    ours.fit(X, y)
    theirs.fit(X, y)
    assert ours.validation_scores_ == theirs.validation_scores_
    assert ours.n_iter_ == theirs.n_iter_
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.skipif(SKLEARN_VERSION < (1, 7), reason="scikit-learn's MLPs take sample_weight "
                    "since 1.7 (nothing to compare with before)")
def test_sample_weight_matches_sklearn(blobs):
    X, y = blobs
    sw = np.random.RandomState(0).uniform(0.1, 3.0, len(y))
    params = dict(hidden_layer_sizes=(15,), solver="sgd", shuffle=False, max_iter=2,
                  random_state=0, momentum=0.9, batch_size=50, alpha=0.1,
                  learning_rate_init=0.05)
    ours, theirs = _sk_pair(MLPClassifier, sknn.MLPClassifier, **params)
    ours.fit(X, y, sample_weight=sw)
    theirs.fit(X, y, sample_weight=sw)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("est", ["classifier", "regressor"])
def test_adam_matches_sklearn(iris, est):
    """Adam in scikit-learn's ordering (eps on sqrt(v), bias corrections in the step size):
    a few epochs with L2 from the same random_state give scikit-learn's weights."""
    X, y = iris
    params = dict(hidden_layer_sizes=(10,), solver="adam", shuffle=False, max_iter=4,
                  random_state=2, learning_rate_init=0.01, alpha=1e-3, batch_size=32,
                  epsilon=1e-6)
    if est == "classifier":
        ours, theirs = _sk_pair(MLPClassifier, sknn.MLPClassifier, **params)
        target = y
    else:
        ours, theirs = _sk_pair(MLPRegressor, sknn.MLPRegressor, **params)
        target = np.c_[X[:, 0] - X[:, 1], X[:, 2]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, target)
        theirs.fit(X, target)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_regressor_squared_error_matches_sklearn():
    """fastmlp's square loss is sum_j (y - f)^2; scikit-learn's squared_error is half the
    mean: the estimator rescales the step, so SGD runs coincide (multi-output included)."""
    X, Y = make_regression(n_samples=90, n_features=6, n_targets=2, noise=0.5, random_state=1)
    Y = Y / Y.std()
    params = dict(hidden_layer_sizes=(12,), solver="sgd", shuffle=False, max_iter=3,
                  random_state=0, momentum=0.5, batch_size=16, alpha=0.01,
                  learning_rate_init=0.01)
    ours, theirs = _sk_pair(MLPRegressor, sknn.MLPRegressor, **params)
    ours.fit(X, Y)
    theirs.fit(X, Y)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    assert ours.predict(X).shape == (90, 2)


def test_binary_logistic_output_matches_sklearn(iris):
    """Binary: one logistic output, log-loss (the engine's logistic loss on +-1 targets)."""
    X, y = iris
    yb = (y == 2).astype(int)
    params = dict(hidden_layer_sizes=(8,), solver="sgd", shuffle=False, max_iter=2,
                  random_state=0, momentum=0.0, batch_size=30, learning_rate_init=0.1)
    ours, theirs = _sk_pair(MLPClassifier, sknn.MLPClassifier, **params)
    ours.fit(X, yb)
    theirs.fit(X, yb)
    assert ours.out_activation_ == theirs.out_activation_ == "logistic"
    np.testing.assert_allclose(ours.coefs_[1], theirs.coefs_[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9)
    np.testing.assert_allclose(ours.predict_log_proba(X), theirs.predict_log_proba(X),
                               rtol=1e-8)


# ---------------------------------------------------------------------------------------------
# behaviour
# ---------------------------------------------------------------------------------------------
def test_fitted_attributes(iris):
    X, y = iris
    est = MLPClassifier(hidden_layer_sizes=(7, 5), max_iter=30, random_state=0,
                        learning_rate_init=0.02).fit(X, y)
    assert [c.shape for c in est.coefs_] == [(4, 7), (7, 5), (5, 3)]
    assert [b.shape for b in est.intercepts_] == [(7,), (5,), (3,)]
    assert est.n_layers_ == 4 and est.n_outputs_ == 3 and est.out_activation_ == "softmax"
    assert len(est.loss_curve_) == est.n_iter_ == 30 and est.t_ == 30 * len(y)
    assert est.best_loss_ == min(est.loss_curve_)
    assert est.validation_scores_ is None and est.best_validation_score_ is None
    assert est.n_features_in_ == 4 and list(est.classes_) == [0, 1, 2]
    assert est.score(X, y) > 0.8


def test_early_stopping_and_adaptive(iris):
    X, y = iris
    est = MLPClassifier(hidden_layer_sizes=(10,), solver="sgd", learning_rate="adaptive",
                        early_stopping=True, n_iter_no_change=3, max_iter=200,
                        learning_rate_init=0.1, random_state=0).fit(X, y)
    assert est.best_loss_ is None and len(est.validation_scores_) == est.n_iter_
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.n_iter_ < 200


def test_float32_stays_float32(iris):
    X, y = iris
    X32 = X.astype(np.float32)
    est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0).fit(X32, y)
    assert all(c.dtype == np.float32 for c in est.coefs_ + est.intercepts_)
    assert est.predict_proba(X32).dtype == np.float32
    est64 = MLPClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=0,
                          dtype="float64").fit(X32, y)
    assert est64.coefs_[0].dtype == np.float64
    reg = MLPRegressor(hidden_layer_sizes=(6,), max_iter=5, dtype="float32").fit(X, y * 1.0)
    assert reg.coefs_[0].dtype == np.float32 and reg.predict(X).dtype == np.float32


def test_multilabel_and_losses(blobs):
    X, y = blobs
    Y = np.c_[y == 0, y % 2 == 1, y > 1].astype(int)
    est = MLPClassifier(hidden_layer_sizes=(20,), max_iter=60, random_state=0,
                        learning_rate_init=0.01).fit(X, Y)
    assert est.out_activation_ == "logistic" and est.n_outputs_ == 3
    assert est.predict(X).shape == Y.shape and est.predict_proba(X).shape == Y.shape
    assert (est.predict(X) == Y).mean() > 0.8
    for loss in ["hinge", "square", "margin", "cross_entropy", "logistic"]:
        est = MLPClassifier(hidden_layer_sizes=(20,), loss=loss, max_iter=50, random_state=0,
                            learning_rate_init=0.01).fit(X, y)
        assert est.score(X, y) > 0.6, loss
        assert hasattr(est, "predict_proba") == (loss in ("cross_entropy", "logistic"))


@pytest.mark.parametrize("activation", ["step", "sign", "identity", "linear",
                                        "piecewise_linear", "logistic", "sigmoid", "tanh",
                                        "relu", "leaky_relu", "prelu"])
def test_chapter_activations(iris, activation):
    X, y = iris
    est = MLPClassifier(hidden_layer_sizes=(8,), activation=activation, max_iter=20,
                        random_state=0).fit(X, y)
    assert np.isfinite(est.loss_curve_).all()
    if activation == "prelu":
        assert est.alphas_[0].shape == (8,) and est.alphas_[1] is None
    if activation not in ("step", "sign"):      # sigma' = 0: the hidden layer cannot learn
        assert est.loss_curve_[-1] < est.loss_curve_[0]


def test_partial_fit(iris):
    X, y = iris
    est = MLPClassifier(hidden_layer_sizes=(8,), random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes"):
        est.partial_fit(X, y)
    est.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    for _ in range(30):
        est.partial_fit(X, y)
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 31 and est.score(X, y) > 0.8
    reg = MLPRegressor(hidden_layer_sizes=(8,), random_state=0)
    reg.partial_fit(X, y * 1.0)
    assert reg.t_ == len(y)
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")


def test_lbfgs(iris):
    X, y = iris
    ours = MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=100,
                         random_state=0).fit(X, y)
    theirs = sknn.MLPClassifier(hidden_layer_sizes=(10,), solver="lbfgs", max_iter=100,
                                random_state=0).fit(X, y)
    assert ours.score(X, y) >= theirs.score(X, y) - 0.02
    assert not hasattr(ours, "loss_curve_") and ours.loss_ > 0


def test_restarts_keep_the_best(iris):
    X, y = iris
    one = MLPClassifier(hidden_layer_sizes=(3,), max_iter=15, random_state=0).fit(X, y)
    four = MLPClassifier(hidden_layer_sizes=(3,), max_iter=15, random_state=0,
                         restarts=4).fit(X, y)
    assert four.loss_curve_[-1] <= one.loss_curve_[-1]      # the first start is one of four


def test_warm_start_continues(iris):
    X, y = iris
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0, warm_start=True)
    est.fit(X, y)
    W = est.coefs_[0].copy()
    est.fit(X, y)
    assert not np.allclose(W, est.coefs_[0]) and est.t_ == 10 * len(y)
    with pytest.raises(ValueError, match="warm_start"):
        est.fit(X[y < 2], y[y < 2])


def test_bad_parameters(iris):
    X, y = iris
    for bad in [dict(activation="swish"), dict(activation="softmax"), dict(solver="rmsprop"), dict(alpha=-1),
                dict(batch_size=0), dict(loss="poisson"), dict(learning_rate="cyclic"),
                dict(hidden_layer_sizes=(0,)), dict(n_threads=0), dict(dtype="int8")]:
        with pytest.raises(ValueError):
            MLPClassifier(**bad).fit(X, y)
    with pytest.raises(ValueError, match="squared_error"):
        MLPRegressor(loss="huber").fit(X, y)


def test_diverging_fit_keeps_finite_weights_and_warns():
    """The divergence policy of every path (on_divergence='warn'; the default raises
    scikit-learn's ValueError): the failing step changes nothing, training
    stops with a DivergenceWarning, the model keeps finite weights and predicts finitely."""
    from fastmlp import DivergenceWarning
    X = np.array([[1e30, -1e30], [1e30, 1e30]] * 5)
    est = MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=10.0,
                       random_state=0, max_iter=5)
    with pytest.raises(ValueError, match="non-finite parameter weights"):   # the default
        est.fit(X, np.arange(10.0))
    est.set_params(on_divergence="warn")
    with pytest.warns(DivergenceWarning, match="diverged"):
        est.fit(X, np.arange(10.0))
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)
    assert len(est.loss_curve_) == est.n_iter_ < 5


def test_diverging_fit_with_early_stopping_keeps_best_validation_weights(iris):
    """scikit-learn finishes such a fit and keeps the best validation weights; so do we."""
    from fastmlp import DivergenceWarning
    X, y = iris
    est = MLPClassifier(hidden_layer_sizes=(50,), solver="sgd", learning_rate_init=1.0,
                        momentum=0.99, early_stopping=True, random_state=0, max_iter=200,
                        n_iter_no_change=200)
    with pytest.warns(DivergenceWarning, match="diverged"):
        est.fit(X * 1e3, y)
    assert 0 < est.n_iter_ < 200 and len(est.validation_scores_) == est.n_iter_
    assert all(np.isfinite(c).all() for c in est.coefs_ + est.intercepts_)
    best = int(np.argmax(est.validation_scores_))
    assert best < est.n_iter_ - 1            # the run went on past its best epoch
    # the weights kept are the best epoch's: the same fit stopped right after that epoch
    # ends with them (it keeps its own best, the same epoch)
    short = MLPClassifier(hidden_layer_sizes=(50,), solver="sgd", learning_rate_init=1.0,
                          momentum=0.99, early_stopping=True, random_state=0,
                          max_iter=best + 1, n_iter_no_change=200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        short.fit(X * 1e3, y)
    assert len(short.coefs_) == len(est.coefs_) == 2
    for a, b in zip(short.coefs_ + short.intercepts_, est.coefs_ + est.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert short.best_validation_score_ == est.best_validation_score_


# ---------------------------------------------------------------------------------------------
# Perceptron
# ---------------------------------------------------------------------------------------------
def test_perceptron_fails_on_xor_mlp_solves_it():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0])
    p = Perceptron(max_iter=200, tol=None).fit(X, y)
    assert p.score(X, y) <= 0.75                        # no single layer separates XOR
    assert p.coef_.shape == (1, 2) and p.intercept_.shape == (1,)
    mlp = MLPClassifier(hidden_layer_sizes=(4,), activation="tanh", solver="lbfgs",
                        random_state=1).fit(X, y)
    assert mlp.score(X, y) == 1.0


def test_perceptron_matches_sklearn_rule(iris):
    """Rosenblatt's rule (w += eta0 y x on mistakes), one-vs-rest, from zero weights,
    online without shuffling: the same weights as scikit-learn's Perceptron."""
    from sklearn.linear_model import Perceptron as SkPerceptron
    X, y = iris
    ours = Perceptron(max_iter=3, shuffle=False, tol=None, eta0=0.5).fit(X, y)
    theirs = SkPerceptron(max_iter=3, shuffle=False, tol=None, eta0=0.5).fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    lin = Perceptron(random_state=0).fit(X[y < 2], y[y < 2])
    assert lin.score(X[y < 2], y[y < 2]) == 1.0           # linearly separable: solved


# ---------------------------------------------------------------------------------------------
# scikit-learn machinery
# ---------------------------------------------------------------------------------------------
def test_pipeline_clone_pickle(iris, tmp_path):
    X, y = iris
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0))
    pipe.fit(X, y)
    p = pipe.predict_proba(X)
    blob = pickle.dumps(pipe)
    back = pickle.loads(blob)
    np.testing.assert_array_equal(back.predict_proba(X), p)
    joblib.dump(pipe, tmp_path / "m.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "m.joblib").predict_proba(X), p)
    c = clone(pipe)
    assert not hasattr(c[-1], "coefs_")
    # an unpickled model keeps training (warm start) and its coefs_ stay live
    est = back[-1]
    est.set_params(warm_start=True, max_iter=3)
    est.fit(StandardScaler().fit_transform(X), y)
    assert est.t_ == 23 * len(y)
    est.coefs_[1][...] = 0
    est.intercepts_[1][...] = 0
    np.testing.assert_allclose(est.predict_proba(X[:3]), 1 / 3)


def test_grid_search_and_cross_val(iris):
    X, y = iris
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    gs = GridSearchCV(est, {"alpha": [1e-4, 1e-2], "learning_rate_init": [1e-3, 1e-2]},
                      cv=3, n_jobs=2).fit(X, y)
    assert gs.best_score_ > 0.7
    scores = cross_val_score(MLPRegressor(hidden_layer_sizes=(8,), max_iter=30,
                                          random_state=0), X, y * 1.0, cv=3, n_jobs=2)
    assert scores.shape == (3,)


def test_threads_inside_joblib_workers(iris):
    """loky workers of n_jobs=2 get OMP_NUM_THREADS = cpu_count // 2; a fit with
    n_threads=None uses that (1 on a 2-core machine), not every core."""
    X, y = iris
    res = cross_validate(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
                         X, y, cv=2, n_jobs=2, return_estimator=True)
    expected = max(1, joblib.cpu_count() // 2)
    assert [e.n_threads_ for e in res["estimator"]] == [expected, expected]
    if joblib.cpu_count() == 2:
        assert expected == 1
    assert MLPClassifier(n_threads=3, max_iter=1).fit(X, y).n_threads_ == 3
    assert resolve_n_threads(None) >= 1
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert MLPClassifier(max_iter=1).fit(X, y).n_threads_ == 1


def test_dask_backend_grid_search(iris):
    distributed = pytest.importorskip("distributed")
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        threads = client.run(lambda: None)  # workers are up
        assert len(threads) == 2
        gs = GridSearchCV(MLPClassifier(hidden_layer_sizes=(6,), max_iter=20, random_state=0,
                                        learning_rate_init=0.05),
                          {"alpha": [1e-4, 1e-1]}, cv=2, n_jobs=2)
        with joblib.parallel_config(backend="dask"):
            gs.fit(X, y)
        assert gs.best_score_ > 0.5
        # inside a dask worker (2 workers x 1 thread in this process) a fit uses
        # cpu_count // 2 threads
        n = client.submit(
            lambda: MLPClassifier(hidden_layer_sizes=(3,), max_iter=1).fit(X, y).n_threads_
        ).result()
        assert n == min(resolve_n_threads(None), max(1, (os.cpu_count() or 1) // 2))
    finally:
        client.close()
        cluster.close()
