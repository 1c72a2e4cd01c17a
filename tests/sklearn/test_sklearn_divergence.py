"""scikit-learn's answer to divergence: the estimators raise its ValueError ("Solver
produced non-finite parameter weights...") by default (on_divergence='raise'), so its own
test_nonfinite_params passes and a grid search's error_score marks the failed
configuration; on_divergence='warn' keeps fastmlp.MLP.fit's policy, which MLP.fit keeps."""
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.exceptions import FitFailedWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

import fastmlp as fm  # noqa: E402
from fastmlp.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from fastmlp.training import DivergenceWarning  # noqa: E402

MESSAGE = ("Solver produced non-finite parameter weights. The input data may contain large "
           "values and need to be preprocessed.")


def _huge(n=10):
    rng = np.random.RandomState(0)
    X = np.finfo(np.float64).max * rng.uniform(size=(n, 2))
    return X, rng.standard_normal(size=n)


def test_scikit_learns_own_test_nonfinite_params_passes(monkeypatch):
    tests = pytest.importorskip("sklearn.neural_network.tests.test_mlp")
    monkeypatch.setattr(tests, "MLPRegressor", MLPRegressor)
    tests.test_nonfinite_params()


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("Est", [MLPRegressor, MLPClassifier])
def test_every_solver_raises_scikit_learns_error(Est, solver):
    X, y = _huge(20)
    if Est is MLPClassifier:
        y = (y > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError) as info:
            Est(solver=solver, random_state=0).fit(X, y)
    assert str(info.value) == MESSAGE
    assert isinstance(info.value.__cause__, FloatingPointError)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_warn_policy_keeps_finite_weights(solver):
    X, y = _huge()
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        reg = MLPRegressor(solver=solver, random_state=0, on_divergence="warn").fit(X, y)
    assert any(issubclass(w.category, DivergenceWarning) for w in got)
    assert all(np.isfinite(c).all() for c in reg.coefs_ + reg.intercepts_)


def test_on_divergence_is_checked():
    from sklearn.utils._param_validation import InvalidParameterError
    with pytest.raises(InvalidParameterError, match="on_divergence"):
        MLPRegressor(on_divergence="ignore").fit(*_huge())


def test_grid_search_error_score_marks_the_diverging_configuration():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, -2.0, 0.5]
    grid = {"learning_rate_init": [1e-3, 1e12]}     # the second one diverges
    base = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=RuntimeWarning)
        with pytest.warns(FitFailedWarning, match="non-finite parameter weights"):
            gs = GridSearchCV(base, grid, cv=2, error_score=np.nan).fit(X, y)
    scores = gs.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    assert gs.best_params_ == {"learning_rate_init": 1e-3}
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            GridSearchCV(base, grid, cv=2, error_score="raise").fit(X, y)


def test_mlp_fit_keeps_its_warning_policy():
    X, y = _huge()
    m = fm.MLP([2, 8, 1], loss="square", seed=0)
    with pytest.warns(DivergenceWarning):
        h = m.fit(X, y, epochs=3)
    assert h.diverged
    assert np.isfinite(m.engine.theta).all()
