"""scikit-learn's estimator checks for fastmlp.sklearn's estimators."""
import pytest

pytest.importorskip("sklearn")
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastmlp.sklearn import MLPClassifier, MLPRegressor, Perceptron  # noqa: E402

ESTIMATORS = [
    MLPClassifier(max_iter=100, random_state=0),
    MLPRegressor(max_iter=100, random_state=0),
    Perceptron(max_iter=20, random_state=0),
]


def expected_failed_checks(estimator):
    return getattr(estimator, "_expected_failed_checks", lambda: {})()


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
