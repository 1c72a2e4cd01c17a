"""asv: sparse input and the L-BFGS solver of the scikit-learn estimators (see
sparse_lbfgs_compare.py for the comparison with scikit-learn, ratios and peak RSS).

``TimeSparse``: one epoch of ``MLPClassifier()`` on a CSR set (5,000 x 50,000 at 0.1 %: the
comparison script's shape with fewer rows, so an asv run stays short), its peak memory and
its training accuracy. ``TimeLBFGS``: L-BFGS fits of the alpha sweep's network (hidden
(100, 100), max_iter 2000) on make_moons, per alpha, and their test accuracy.
"""
import warnings

import numpy as np

from .sparse_lbfgs_compare import sparse_set, sweep_data

_CACHE = {}


def _sparse():
    if "sparse" not in _CACHE:
        _CACHE["sparse"] = sparse_set(n=5000)
    return _CACHE["sparse"]


def _fit_sparse():
    from fastmlp.sklearn import MLPClassifier
    X, y = _sparse()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MLPClassifier(max_iter=1, tol=0.0, random_state=0).fit(X, y)


class TimeSparse:
    timeout = 300.0
    repeat = (1, 5, 60.0)

    def setup(self):
        _sparse()

    def time_fit_one_epoch(self):
        _fit_sparse()

    def peakmem_fit_one_epoch(self):
        _fit_sparse()

    def track_train_accuracy(self):
        X, y = _sparse()
        return float(np.mean(_fit_sparse().predict(X) == y))


class TimeLBFGS:
    params = [[1e-5, 1e-1, 1e3]]
    param_names = ["alpha"]
    timeout = 300.0

    def setup(self, alpha):
        self.data = sweep_data()[0]        # make_moons

    def _fit(self, alpha):
        from fastmlp.sklearn import MLPClassifier
        X_tr, X_te, y_tr, y_te = self.data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return MLPClassifier(solver="lbfgs", alpha=alpha, hidden_layer_sizes=(100, 100),
                                 max_iter=2000, random_state=1).fit(X_tr, y_tr)

    def time_fit(self, alpha):
        self._fit(alpha)

    def track_test_accuracy(self, alpha):
        X_tr, X_te, y_tr, y_te = self.data
        return self._fit(alpha).score(X_te, y_te)
