"""learning_rate_init='auto' in the scikit-learn estimators (fastmlp's extension): parameter
validation, scikit-learn's estimator checks, the same result as the chosen rate given by
hand, the same on any thread count."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastmlp import datasets  # noqa: E402
from fastmlp.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from fastmlp.training import LRSweepResult  # noqa: E402
from fastmlp.training.lr_search import AUTO_NUM, AUTO_REFINE  # noqa: E402

AUTO = [MLPClassifier(max_iter=100, random_state=0, learning_rate_init="auto"),
        MLPRegressor(max_iter=100, random_state=0, learning_rate_init="auto")]


@parametrize_with_checks(AUTO)
def test_sklearn_compatible_with_auto(estimator, check):
    check(estimator)


def _digits():
    X, y = datasets.load_digits(n_samples=300, seed=5, return_X_y=True)
    return X / 16.0, y


@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("value", ["Auto", "fast", "", -0.1, 0.0, float("nan"), None])  # True is a Real to scikit-learn (accepted there too)
def test_bad_learning_rate_init_is_refused(Est, value):
    X, y = _digits()
    with pytest.raises(ValueError, match="learning_rate_init"):
        Est(learning_rate_init=value, max_iter=2).fit(X, y)


def test_auto_message_names_the_extension():
    X, y = _digits()
    with pytest.raises(ValueError, match=r"or 'auto' \(fastmlp's extension\)"):
        MLPClassifier(learning_rate_init="fast", max_iter=2).fit(X, y)


@pytest.mark.parametrize("solver,extra", [("sgd", {}), ("adam", {}),
                                          ("sgd", {"early_stopping": True})],
                         ids=["sgd", "adam", "sgd-early-stopping"])
def test_auto_equals_the_chosen_rate_given_by_hand(solver, extra):
    X, y = _digits()
    kw = dict(hidden_layer_sizes=(16,), solver=solver, max_iter=30, random_state=0, **extra)
    auto = MLPClassifier(learning_rate_init="auto", **kw).fit(X, y)
    assert auto.get_params()["learning_rate_init"] == "auto"       # the parameter is kept
    s = auto.lr_search_
    assert isinstance(s, LRSweepResult) and s.lr == auto.learning_rate_init_
    # 2 batches of <= 200 per epoch: 25 epochs make the sweep's 50 steps
    assert len(s.lrs) == AUTO_NUM + 2 * AUTO_REFINE and s.epochs == 25
    assert s.monitor == ("val_score" if extra else "loss")
    hand = MLPClassifier(learning_rate_init=auto.learning_rate_init_, **kw).fit(X, y)
    for a, b in zip(auto.coefs_ + auto.intercepts_, hand.coefs_ + hand.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert auto.loss_curve_ == hand.loss_curve_
    assert not hasattr(hand, "lr_search_") and not hasattr(hand, "learning_rate_init_")


def test_auto_is_the_same_on_any_thread_count_and_clones():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ rng.normal(size=5)
    fits = [MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init="auto",
                         max_iter=20, random_state=1, n_threads=nt).fit(X, y) for nt in (1, 2)]
    np.testing.assert_array_equal(fits[0].lr_search_.lrs, fits[1].lr_search_.lrs)
    for a, b in zip(fits[0].lr_search_.loss, fits[1].lr_search_.loss):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(fits[0].coefs_, fits[1].coefs_):
        np.testing.assert_array_equal(a, b)
    assert fits[0].learning_rate_init_ == fits[1].learning_rate_init_
    c = clone(fits[0])
    assert c.learning_rate_init == "auto" and not hasattr(c, "lr_search_")
    # a refit with a number forgets the sweep
    fits[0].set_params(learning_rate_init=0.01).fit(X, y)
    assert not hasattr(fits[0], "lr_search_")


def test_no_partial_fit_with_auto_and_lbfgs_ignores_it():
    X, y = _digits()
    est = MLPClassifier(learning_rate_init="auto", max_iter=5)
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError) as exc:
        est.partial_fit(X, y, classes=np.arange(10))
    assert "learning_rate_init='auto'" in str(exc.value.__cause__)
    lb = MLPClassifier(solver="lbfgs", learning_rate_init="auto", max_iter=5,
                       random_state=0).fit(X, y)
    assert not hasattr(lb, "lr_search_")
