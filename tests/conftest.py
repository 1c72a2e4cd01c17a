"""Fixtures shared by the test files."""
import pytest


@pytest.fixture(scope="session")
def iris():
    """scikit-learn's iris, standardised: (X, y)."""
    datasets = pytest.importorskip("sklearn.datasets")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X, y = datasets.load_iris(return_X_y=True)
    return preprocessing.StandardScaler().fit_transform(X), y


@pytest.fixture
def fusion():
    """Set the fused-SGD batch limit for a test and restore it afterwards."""
    from fastmlp import _core
    before = _core.get_fused_sgd_max_batch()
    yield _core.set_fused_sgd_max_batch
    _core.set_fused_sgd_max_batch(before)
