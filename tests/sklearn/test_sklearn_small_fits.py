"""The estimators' shortcuts for a plain fit give what scikit-learn's generic checks give:
the RandomState of an int seed, the label binariser of 1-D int/str labels, the checked X and
y, and a parameter set validated once (never a stale answer after set_params)."""
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state

from fastmlp.sklearn import MLPClassifier, MLPRegressor
from fastmlp.sklearn._base import random_state
from fastmlp.sklearn._labels import _plain_labels

X, Y = load_iris(return_X_y=True)


def _fit(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


@pytest.mark.parametrize("seed", [0, 1, 42, 2 ** 32 - 1])
def test_random_state_of_an_int_is_check_random_state(seed):
    a, b = check_random_state(seed), random_state(seed)
    sa, sb = a.get_state(), b.get_state()
    assert sa[0] == sb[0] and np.array_equal(sa[1], sb[1]) and sa[2:] == sb[2:]
    assert np.array_equal(a.uniform(-1, 1, 20), b.uniform(-1, 1, 20))


def test_random_state_of_anything_else_is_check_random_state():
    rs = np.random.RandomState(3)
    assert random_state(rs) is rs
    assert random_state(None) is check_random_state(None)
    for bad in (-1, 2 ** 32):
        with pytest.raises(ValueError) as mine:
            random_state(bad)
        with pytest.raises(ValueError) as theirs:
            check_random_state(bad)
        assert str(mine.value) == str(theirs.value)
    with pytest.raises(ValueError, match="cannot be used to seed"):
        random_state("seed")


@pytest.mark.parametrize("y", [
    np.array([3, 1, 2, 2, 3], np.int32), np.array([0, 1, 1, 0], np.uint8),
    np.array([7, 7, 9]), np.array(["b", "aa", "b", "c"], dtype="<U10"),
    np.array(["yes", "no", "no"]), np.array([5, 5, 5]), np.arange(12) % 5])
def test_plain_labels_are_label_binarizers(y):
    lb, Yt = _plain_labels(y)
    ref = LabelBinarizer().fit(y)
    assert set(vars(lb)) == set(vars(ref))
    for k, v in vars(ref).items():
        got = vars(lb)[k]
        if isinstance(v, np.ndarray):
            assert got.dtype == v.dtype and np.array_equal(got, v)
        else:
            assert got == v
    expected = ref.transform(y).astype(np.float64)
    assert Yt.dtype == expected.dtype and np.array_equal(Yt, expected)
    assert np.array_equal(lb.inverse_transform(ref.transform(y)), y)


@pytest.mark.parametrize("y", [np.array([0.0, 1.0]), np.array([[0, 1], [1, 0]]),
                               np.array([True, False]), [0, 1], np.array([], int),
                               np.array([1, "a"], dtype=object)])
def test_other_labels_take_scikit_learns_path(y):
    assert _plain_labels(y) is None


def test_plain_fit_data_sets_what_validate_data_sets():
    pd = pytest.importorskip("pandas")
    est = _fit(MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0),
               pd.DataFrame(X, columns=list("abcd")), Y)
    assert list(est.feature_names_in_) == list("abcd")
    _fit(est, X[:, :3].copy(), Y)
    assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == 3


def test_fits_through_either_path_are_the_same():
    kw = dict(hidden_layer_sizes=(6,), max_iter=5, random_state=1)
    fast = _fit(MLPClassifier(**kw), X, Y)
    slow = _fit(MLPClassifier(**kw), np.asfortranarray(X), list(Y))     # generic checks
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_):
        assert np.array_equal(a, b)
    assert fast.loss_curve_ == slow.loss_curve_
    assert np.array_equal(fast.classes_, slow.classes_)
    names = np.array(["setosa", "versicolor", "virginica"])[Y]
    est = _fit(MLPClassifier(**kw), X, names)
    assert est.classes_.dtype == np.array(["setosa", "versicolor", "virginica"]).dtype
    assert set(est.predict(X)) <= set(names)
    r1 = _fit(MLPRegressor(**kw), X[:, :3], X[:, 3])
    r2 = _fit(MLPRegressor(**kw), X[:, :3].tolist(), X[:, 3].tolist())
    assert np.array_equal(r1.coefs_[0], r2.coefs_[0]) and r1.loss_curve_ == r2.loss_curve_


def test_bad_data_still_gets_scikit_learns_errors():
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MLPClassifier(max_iter=2).fit(bad, Y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        MLPClassifier(max_iter=2).fit(X, Y[:-1])
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier(max_iter=2).fit(X, X[:, 0])
    yr = X[:, 3].copy()
    yr[0] = np.inf
    with pytest.raises(ValueError, match="infinity|inf"):
        MLPRegressor(max_iter=2).fit(X[:, :3], yr)


def test_validated_parameters_are_never_stale():
    est = _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0), X, Y)
    est.set_params(max_iter=-1)
    with pytest.raises(ValueError, match="max_iter"):
        est.fit(X, Y)
    est.set_params(max_iter=2, alpha=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        est.fit(X, Y)
    est.set_params(alpha=0.0)
    _fit(est, X, Y)
    with pytest.raises(ValueError, match="alpha"):      # a new estimator, a bad value
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, alpha=-1.0).fit(X, Y)
    # 1.0 is not 1 (equal and of equal hash): the record keeps each parameter's type
    _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0), X, Y)
    with pytest.raises(ValueError, match="max_iter"):
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=1.0).fit(X, Y)
    # a list can change in place: checked on every fit
    hidden = [4]
    est = _fit(MLPClassifier(hidden_layer_sizes=hidden, max_iter=2, random_state=0), X, Y)
    hidden[0] = 0
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        est.fit(X, Y)
    if "skip_parameter_validation" in sklearn.get_config():     # scikit-learn >= 1.3
        with sklearn.config_context(skip_parameter_validation=True):
            _fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0), X, Y)
