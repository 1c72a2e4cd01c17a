"""Helpers of the Perceptron tests (tests/sklearn): fit fastmlp's and scikit-learn's
Perceptron alike and compare the fitted models."""
import warnings

import numpy as np
from sklearn.linear_model import Perceptron as SkPerceptron

from fastmlp.sklearn import Perceptron


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
