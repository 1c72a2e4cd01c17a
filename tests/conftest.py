"""Fixtures shared by the test files."""
import pytest


@pytest.fixture(scope="session")
def iris():
    """scikit-learn's iris, standardised: (X, y)."""
    datasets = pytest.importorskip("sklearn.datasets")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X, y = datasets.load_iris(return_X_y=True)
    return preprocessing.StandardScaler().fit_transform(X), y
