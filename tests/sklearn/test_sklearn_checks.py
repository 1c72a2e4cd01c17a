"""scikit-learn's estimator checks for fastmlp.sklearn's estimators (no expected failures
beyond those of scikit-learn's own estimators)."""
import inspect

import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastmlp.sklearn import MLPClassifier, MLPRegressor, Perceptron  # noqa: E402

# The checks fit on small random data with max_iter capped (100 MLP epochs, 20 perceptron
# passes): not converging there is expected, and scikit-learn says so with these two
# ConvergenceWarnings (its MLPs' and its SGD's text). Only those are filtered, so any other
# warning the checks raise still shows in the summary.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        # '.' stands for the ':' after "Optimizer" (':' separates a filter's fields)
        r"ignore:Stochastic Optimizer. Maximum iterations \(100\) reached"
        r":sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings(
        r"ignore:Maximum number of iteration reached before convergence"
        r":sklearn.exceptions.ConvergenceWarning"),
]

ESTIMATORS = [
    MLPClassifier(max_iter=100, random_state=0),
    MLPRegressor(max_iter=100, random_state=0),
    Perceptron(max_iter=20, random_state=0),
]


def expected_failed_checks(estimator):
    return getattr(estimator, "_expected_failed_checks", lambda: {})()


if "expected_failed_checks" in inspect.signature(parametrize_with_checks).parameters:
    checks = parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
else:   # scikit-learn < 1.6 reads the same expected failures from the `_xfail_checks` tag
    checks = parametrize_with_checks(ESTIMATORS)


@checks
def test_sklearn_compatible(estimator, check):
    check(estimator)
