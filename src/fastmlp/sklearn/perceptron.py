"""Perceptron: the chapter's single layer of threshold units, with the parameters of
:class:`sklearn.linear_model.Perceptron`, trained by the same engine and loop as the MLPs.
It owns a network of no hidden layer (composition) and states its own training settings."""
from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score

from ._base import EngineEstimator
from ._labels import LabelEncoding
from ._network import Plan, Settings
from .mlp import check_common

__all__ = ["Perceptron"]

PERCEPTRON_SCALE = 1e6     # perceptron criterion = hinge with margin 1/PERCEPTRON_SCALE


class Perceptron(ClassifierMixin, LabelEncoding, EngineEstimator):
    """The chapter's perceptron: one layer of neurons, one separate output unit per class
    (one for a binary problem), each deciding by a threshold (``activation='step'``,
    Heaviside, or ``'sign'``: both predict the class whose unit has ``z > 0``; several
    classes: the largest ``z``, one-vs-rest as in scikit-learn).

    Parameters follow :class:`sklearn.linear_model.Perceptron`: ``penalty`` (None or 'l2'),
    ``alpha``, ``max_iter``, ``tol`` (None: no stopping on the loss), ``shuffle``,
    ``verbose``, ``eta0``, ``random_state``, ``early_stopping``, ``validation_fraction``,
    ``n_iter_no_change``, ``warm_start``; plus ``activation``, ``loss``, ``batch_size``
    (default 1: online, sample by sample), ``n_threads``, ``dtype``.

    loss : {'perceptron', 'hinge'}
        'perceptron' is Rosenblatt's rule -- ``w += eta0 * y x`` for every sample with
        ``y z <= 0`` -- i.e. SGD on ``max(0, -y z)``; the engine trains it as its hinge loss
        on targets ``+-1e6`` with the learning rate divided by ``1e6`` (margin ``1e-6``
        instead of 0). 'hinge' is the chapter's ``max(0, 1 - y z)``.

    Like scikit-learn's, it starts from zero weights. The non-linearly separable case fails:
    on XOR no single layer reaches an accuracy above 3/4.
    """

    _y_numeric = False
    _score_fn = staticmethod(accuracy_score)

    def __init__(self, *, penalty=None, alpha=0.0001, max_iter=1000, tol=1e-3, shuffle=True,
                 verbose=0, eta0=1.0, random_state=0, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=5, warm_start=False,
                 activation="step", loss="perceptron", batch_size=1, n_threads=None,
                 dtype=None):
        self.penalty = penalty
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.warm_start = warm_start
        self.activation = activation
        self.loss = loss
        self.batch_size = batch_size
        self.n_threads = n_threads
        self.dtype = dtype

    def _check_params(self):
        if self.penalty not in (None, "l2"):
            raise ValueError(f"penalty must be None or 'l2', got {self.penalty!r}")
        if self.activation not in ("step", "heaviside", "sign"):
            raise ValueError(f"activation must be 'step' or 'sign', got {self.activation!r}")
        if self.loss not in ("perceptron", "hinge"):
            raise ValueError(f"loss must be 'perceptron' or 'hinge', got {self.loss!r}")
        if not (isinstance(self.eta0, Real) and self.eta0 > 0):
            raise ValueError(f"eta0 must be > 0, got {self.eta0!r}")
        if self.tol is not None and not (isinstance(self.tol, Real) and self.tol >= 0):
            raise ValueError(f"tol must be None or >= 0, got {self.tol!r}")
        for name, lo in (("alpha", 0), ("max_iter", 1), ("n_iter_no_change", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, Real) or v < lo:
                raise ValueError(f"{name} must be >= {lo}, got {v!r}")
        if not (0 < self.validation_fraction < 1):
            raise ValueError(f"validation_fraction must be in (0, 1), got "
                             f"{self.validation_fraction!r}")
        check_common(self)
        return []

    def _settings(self):
        # scikit-learn's SGD adds alpha * W per step, whatever the batch: weight decay
        return Settings(
            solver="sgd", learning_rate_init=float(self.eta0),
            alpha=float(self.alpha) if self.penalty == "l2" else 0.0, alpha_per_batch=False,
            batch_size=self.batch_size, max_iter=int(self.max_iter),
            shuffle=bool(self.shuffle), tol=-np.inf if self.tol is None else float(self.tol),
            n_iter_no_change=self.n_iter_no_change, early_stopping=bool(self.early_stopping),
            validation_fraction=float(self.validation_fraction))

    def _plan(self, Y, dtype, n_features, hidden):
        k = Y.shape[1]
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("Perceptron does not support multi-label targets")
        g = PERCEPTRON_SCALE if self.loss == "perceptron" else 1.0
        self.n_outputs_ = k
        self.n_layers_ = 2
        self.out_activation_ = self.activation
        return Plan([n_features, k], ["linear"], "hinge", dtype, gscale=g, lscale=1.0 / g)

    def _encode(self, Y, plan):
        return (2.0 * Y - 1.0) * plan.gscale

    def _init_network(self, net, rs):
        net.zero()                          # zeros, as scikit-learn's Perceptron
        coef, intercept = getattr(self, "_init", (None, None))
        W, b = net.model.weights[0], net.model.biases[0]
        for name, given, dst, shape in (("coef_init", coef, W, W.T.shape),
                                        ("intercept_init", intercept, b, b.shape)):
            if given is None:
                continue
            arr = np.asarray(given, dtype=np.float64)
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} contains NaN or infinite values")
            dst[...] = arr.T if dst.ndim == 2 else arr

    def _expose(self):
        super()._expose()
        self.coef_ = self.coefs_[0].T
        self.intercept_ = self.intercepts_[0]

    def _sync(self):
        # coef_ (n_out, n_features) is a transposed view of coefs_[0]; an assigned coef_ or
        # intercept_ wins over the engine's weights
        theta = self._net.engine.theta
        if hasattr(self, "coef_") and not (np.shares_memory(self.coef_, theta)
                                           and np.shares_memory(self.intercept_, theta)):
            dt = theta.dtype
            self.coefs_ = [np.asarray(self.coef_, dtype=dt).T.copy()]
            self.intercepts_ = [np.asarray(self.intercept_, dtype=dt).copy()]
        return super()._sync()

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("coef_", None)
        state.pop("intercept_", None)
        return state

    def _expected_failed_checks(self):
        """scikit-learn checks this estimator is known to fail, with the reason (used by the
        test suite's ``parametrize_with_checks(expected_failed_checks=...)``)."""
        why = ("online (batch_size=1) SGD visits samples one at a time in a shuffled order, so "
               "a sample of weight 2 is one step of twice the size, not two steps at "
               "different points of the epoch: weighting is not equivalent to repeating "
               "samples (scikit-learn's own Perceptron xfails this check for the same reason)")
        return {"check_sample_weight_equivalence_on_dense_data": why,
                "check_sample_weight_equivalence_on_sparse_data": why}

    def decision_function(self, X):
        """z = x W + b of each output unit ((n,) for a binary problem)."""
        out = self._output(self._check_X_predict(X))
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        """Predict class labels."""
        X = self._check_X_predict(X)
        return self._predict_net(self._sync(), X)

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit by the perceptron rule (``coef_init``/``intercept_init``: starting weights
        instead of zeros)."""
        self._init = (coef_init, intercept_init)
        try:
            return self._fit(X, y, sample_weight=sample_weight, incremental=False)
        finally:
            del self._init

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y); ``classes`` is required on the first call."""
        self._check_partial_classes(y, classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags
