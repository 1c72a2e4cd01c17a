"""fastmlp.sklearn.Perceptron against sklearn.linear_model.Perceptron: the same weights,
epochs, t_, warnings and errors, option by option (one-vs-all, shuffling, penalties,
weights, early stopping, sparse input, warm starts, partial_fit)."""
import threading
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
import scipy.sparse as sp  # noqa: E402
from sklearn.datasets import load_iris, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import Perceptron as SkPerceptron  # noqa: E402

from fastmlp import DivergenceWarning  # noqa: E402
from fastmlp.sklearn import Perceptron  # noqa: E402
from fastmlp.sklearn import _ova  # noqa: E402
from fastmlp.sklearn._compat import SKLEARN_VERSION  # noqa: E402
from sklearn_messages import norm_message  # noqa: E402

# scikit-learn 1.8 added the penalty to the SGD stopping test's objective (and made eta0 > 0
# strict); fastmlp follows it on every release, so a penalised fit stopping on the
# objective is compared with scikit-learn >= 1.8 only
PENALTY_OBJECTIVE = (1, 8)


def _objective_needs_new_sklearn(params):
    return (params.get("penalty") is not None and params.get("tol", 1e-3) is not None
            and not params.get("early_stopping", False)
            and SKLEARN_VERSION < PENALTY_OBJECTIVE)


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(n_samples=120, n_features=7, n_informative=5, n_classes=4,
                               random_state=3)
    return X, y


def _fit_both(X, y, fit_kw=None, **params):
    """Fit ours and scikit-learn's with the same parameters (warnings silenced)."""
    fit_kw = fit_kw or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = Perceptron(**params).fit(X, y, **fit_kw)
        theirs = SkPerceptron(**params).fit(X, y, **fit_kw)
    return ours, theirs


def _assert_same_model(ours, theirs, rtol=1e-12):
    scale = max(1.0, float(np.abs(theirs.coef_).max()))
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=rtol * scale)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=rtol * scale)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_ and isinstance(ours.t_, float)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)


OPTIONS = [
    {},
    dict(shuffle=False),
    dict(tol=None, max_iter=40),
    dict(penalty="l2", alpha=1e-3),
    dict(penalty="l1", alpha=1e-3),
    dict(penalty="elasticnet", alpha=1e-3, l1_ratio=0.4),
    dict(penalty="l2", alpha=0.5, eta0=3.0),              # eta0 * alpha > 1: w is zeroed
    dict(fit_intercept=False),
    dict(class_weight="balanced"),
    dict(class_weight={0: 3.0, 1: 0.5}, penalty="l2"),
    dict(early_stopping=True, n_iter_no_change=3),
    dict(early_stopping=True, validation_fraction=0.3, tol=None, max_iter=15),
    dict(eta0=0.1, n_iter_no_change=1, tol=0.05),
    dict(random_state=7, n_jobs=2),
]


@pytest.mark.parametrize("params", OPTIONS, ids=lambda p: ",".join(f"{k}={v}" for k, v in
                                                                  p.items()) or "defaults")
@pytest.mark.parametrize("problem", ["binary", "multiclass"])
def test_same_weights_epochs_and_t_as_sklearn(iris, blobs, params, problem):
    """scikit-learn's algorithm, seeds and shuffling order: its weights to 1e-12, its
    n_iter_ (per class stopping, the `>=` test) and its t_, with and without shuffling."""
    if _objective_needs_new_sklearn(params):
        pytest.skip("scikit-learn < 1.8 stops a penalised fit on the loss alone")
    X, y = blobs if problem == "multiclass" else (iris[0], (iris[1] == 1).astype(int))
    ours, theirs = _fit_both(X, y, **params)
    _assert_same_model(ours, theirs)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("params", [dict(shuffle=False), {}, dict(penalty="l1", alpha=1e-3)])
def test_sample_weight_matches_sklearn(blobs, params):
    X, y = blobs
    sw = np.random.RandomState(0).uniform(0.0, 3.0, len(y))
    sw[::7] = 0                                     # weight 0: the step does nothing
    ours, theirs = _fit_both(X, y, fit_kw=dict(sample_weight=sw), **params)
    _assert_same_model(ours, theirs)


def test_iris_twenty_seeds_match_sklearn(iris):
    """The issue's figures: mean training accuracy over random_state 0..19 with tol=None and
    100 epochs, and with the defaults -- every seed gives scikit-learn's model."""
    X, y = iris
    for params in (dict(tol=None, max_iter=100), {}):
        ours, theirs = [], []
        for seed in range(20):
            a, b = _fit_both(X, y, random_state=seed, **params)
            _assert_same_model(a, b)
            ours.append(a.score(X, y))
            theirs.append(b.score(X, y))
        assert abs(np.mean(ours) - np.mean(theirs)) < 0.01
        assert np.mean(ours) == np.mean(theirs)


def test_shuffle_false_weights_equal_to_1e_12():
    X, y = load_iris(return_X_y=True)
    ours, theirs = _fit_both(X, y, shuffle=False)
    _assert_same_model(ours, theirs)
    assert ours.n_iter_ == theirs.n_iter_ == 18      # the `>=` stopping test


def test_sparse_input_matches_sklearn():
    """Sparse X: scikit-learn damps the intercept's steps by 0.01 and applies the L1 penalty
    to a sample's non-zero features only."""
    rs = np.random.RandomState(0)
    X = rs.randn(90, 12) * (rs.rand(90, 12) < 0.3)
    y = (X[:, 0] + X[:, 1] - X[:, 2] > 0).astype(int) + (X[:, 3] > 0.5)
    Xs = sp.csr_matrix(X)
    for params in ({}, dict(penalty="l1", alpha=1e-2), dict(penalty="elasticnet", alpha=1e-2)):
        if _objective_needs_new_sklearn(params):
            continue
        ours, theirs = _fit_both(Xs, y, **params)
        _assert_same_model(ours, theirs)
        dense = Perceptron(**params).fit(X, y)
        assert not np.allclose(dense.intercept_, ours.intercept_)   # the decay is real


def test_float32_follows_the_input(iris):
    X, y = iris
    X32 = X.astype(np.float32)
    ours, theirs = _fit_both(X32, y, shuffle=False)
    assert ours.coef_.dtype == np.float32
    if SKLEARN_VERSION < (1, 3):
        pytest.skip("scikit-learn's SGD computes in float32 since 1.3")
    assert theirs.coef_.dtype == np.float32
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-4, atol=1e-4)


def test_warm_start_coef_init_and_partial_fit_match_sklearn(blobs):
    X, y = blobs
    rs = np.random.RandomState(1)
    coef0, icpt0 = rs.randn(4, X.shape[1]), rs.randn(4)
    ours, theirs = _fit_both(X, y, fit_kw=dict(coef_init=coef0, intercept_init=icpt0),
                             max_iter=5, tol=None)
    _assert_same_model(ours, theirs)
    for est in (ours, theirs):
        est.set_params(warm_start=True, max_iter=3)
        est.fit(X, y)
    _assert_same_model(ours, theirs)
    # partial_fit, positional arguments in scikit-learn's order (X, y, classes, sample_weight)
    sw = rs.uniform(0.5, 2, len(y))
    a, b = Perceptron(random_state=2), SkPerceptron(random_state=2)
    for est in (a, b):
        est.partial_fit(X[:60], y[:60], np.unique(y), sw[:60])
        est.partial_fit(X[60:], y[60:], None, sw[60:])
    _assert_same_model(a, b)


def test_tol_none_gives_no_convergence_warning_and_max_iter_one_does(iris):
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Perceptron(tol=None, max_iter=3).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="Maximum number of iteration") as rec:
        Perceptron(max_iter=2).fit(X, y)
    assert rec[0].filename == __file__                 # attributed to the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Perceptron(max_iter=1).partial_fit(X, y, classes=[0, 1, 2])   # partial_fit: never


def test_n_jobs_trains_classes_in_threads_with_the_same_result(blobs, monkeypatch):
    X, y = blobs
    seen = []
    orig = _ova._train_one

    def spy(*args, **kw):
        seen.append(threading.current_thread().name)
        return orig(*args, **kw)

    monkeypatch.setattr(_ova, "_train_one", spy)
    one = Perceptron(n_jobs=1, tol=None, max_iter=20).fit(X, y)
    assert seen == ["MainThread"] * 4
    seen.clear()
    two = Perceptron(n_jobs=2, tol=None, max_iter=20).fit(X, y)
    assert len(seen) == 4 and all(name.startswith("fastmlp-ova") for name in seen)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    np.testing.assert_array_equal(one.intercept_, two.intercept_)
    import joblib
    seen.clear()
    with joblib.parallel_config(n_jobs=2):     # n_jobs=None follows joblib's context
        Perceptron(tol=None, max_iter=2).fit(X, y)
    assert all(name.startswith("fastmlp-ova") for name in seen)


@pytest.mark.parametrize("bad", [dict(penalty="l3"), dict(l1_ratio=1.5),
                                 pytest.param(dict(eta0=0), marks=pytest.mark.skipif(
                                     SKLEARN_VERSION < PENALTY_OBJECTIVE,
                                     reason="scikit-learn < 1.8 accepts eta0=0")),
                                 dict(tol=-1), dict(validation_fraction=1.0),
                                 dict(n_iter_no_change=0), dict(class_weight="auto"),
                                 dict(max_iter=0), dict(alpha=-1.0), dict(n_jobs=1.5)])
def test_invalid_parameters_raise_like_sklearn(iris, bad):
    X, y = iris
    with pytest.raises(ValueError) as theirs:
        SkPerceptron(**bad).fit(X, y)
    with pytest.raises(type(theirs.value)) as ours:
        Perceptron(**bad).fit(X, y)
    assert norm_message(ours.value) == norm_message(theirs.value)


def test_errors_match_sklearn(iris):
    X, y = iris
    cases = [
        (lambda E: E(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2]), {}),
        (lambda E: E(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2]), {}),
        (lambda E: E().partial_fit(X, y), {}),
        (lambda E: E().partial_fit(X, y, classes=[0, 1]), {}),
        (lambda E: E().fit(X, y, coef_init=np.zeros((2, 4))), {}),
        (lambda E: E().fit(X, y, intercept_init=np.zeros(2)), {}),
        (lambda E: E().fit(X, y == 0, coef_init=np.zeros(3)), {}),
        (lambda E: E().fit(X, np.zeros(len(y))), {}),
        (lambda E: E().fit(X, y + 0.5), {}),
    ]
    if SKLEARN_VERSION >= (1, 9):        # scikit-learn refuses all-zero weights since 1.9
        cases.append((lambda E: E().fit(X, y, sample_weight=np.zeros(len(y))), {}))
    with pytest.raises(ValueError, match="at least one non-zero"):
        Perceptron().fit(X, y, sample_weight=np.zeros(len(y)))
    for call, _ in cases:
        with pytest.raises(ValueError) as theirs:
            call(SkPerceptron)
        with pytest.raises(ValueError) as ours:
            call(Perceptron)
        assert str(ours.value) == str(theirs.value)
    p = Perceptron().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="is not the same as on last call"):
        p.partial_fit(X, y, classes=[0, 1])


def test_sparsify_densify_and_pickle(iris):
    import pickle
    X, y = iris
    p = Perceptron(random_state=0).fit(X, y)
    pred = p.predict(X)
    p.sparsify()
    assert sp.issparse(p.coef_)
    np.testing.assert_array_equal(p.predict(X), pred)
    back = pickle.loads(pickle.dumps(p))
    assert sp.issparse(back.coef_)
    np.testing.assert_array_equal(back.predict(X), pred)
    p.densify()
    assert isinstance(p.coef_, np.ndarray)
    np.testing.assert_array_equal(p.predict(X), pred)
    # an assigned coef_ is what predicts
    p.coef_ = np.zeros((3, 4))
    p.intercept_ = np.array([0.0, 1.0, 0.0])
    assert (p.predict(X) == 1).all()


def test_divergence_warns_and_keeps_finite_weights():
    """fastmlp's one policy (scikit-learn raises a ValueError here): the failing step
    changes nothing, that class stops, a DivergenceWarning names it."""
    X = np.array([[1e307, 1.0], [-1e307, 1.0], [1e307, -1.0], [-1e307, -1.0]])
    y = np.array([0, 1, 1, 0])
    with pytest.warns(DivergenceWarning, match="class 1") as rec:
        p = Perceptron(eta0=1e3, tol=None, max_iter=10, shuffle=False).fit(X, y)
    assert rec[0].filename == __file__
    assert np.isfinite(p.coef_).all() and np.isfinite(p.intercept_).all()
    with pytest.raises(ValueError, match="under-/overflow"):
        SkPerceptron(eta0=1e3, tol=None, max_iter=10, shuffle=False).fit(X, y)


def test_verbose_prints_sklearn_lines(iris, capsys):
    X, y = iris
    Perceptron(verbose=1, max_iter=3, tol=None).fit(X, y == 0)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "-- Epoch 1" and out[1].startswith("Norm: ") and "Avg. loss:" in out[1]
    assert len([line for line in out if line.startswith("-- Epoch")]) == 3


def test_hinge_and_batches_are_fastmlp_extras(iris):
    X, y = iris
    h = Perceptron(loss="hinge", random_state=0).fit(X, y)
    assert h.score(X, y) > 0.8
    b = Perceptron(batch_size=10, random_state=0, tol=None, max_iter=50).fit(X, y)
    assert b.score(X, y) > 0.8
    s = Perceptron(activation="sign").fit(X, y)
    assert s.out_activation_ == "sign"
