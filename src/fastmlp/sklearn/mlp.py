"""MLPClassifier and MLPRegressor: scikit-learn's multi-layer perceptrons on fastmlp's
engine. Parameters are those of :mod:`sklearn.neural_network` with the same meaning (plus
``loss``, ``restarts``, ``n_threads`` and ``dtype``); the fitted attributes are those
scikit-learn names (``coefs_``, ``intercepts_``, ``loss_curve_``, ...)."""
from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if

from ..activations import canonical_name, get_activation
from ._base import EngineEstimator
from ._labels import LabelEncoding
from ._network import Plan, Settings
from ._threads import resolve_n_threads

__all__ = ["MLPClassifier", "MLPRegressor"]

_SOLVERS = ("sgd", "adam", "lbfgs")


def check_number(est, name, lo, hi=None, lo_open=False, hi_open=False, integral=False):
    """scikit-learn's wording for a numeric parameter out of its range."""
    v = getattr(est, name)
    ok = isinstance(v, (Integral if integral else Real)) and not isinstance(v, bool)
    if ok:
        ok = (v > lo if lo_open else v >= lo) and (
            hi is None or (v < hi if hi_open else v <= hi))
    if not ok:
        rng = f"{'(' if lo_open else '['}{lo}, {hi if hi is not None else 'inf'}" \
              f"{')' if hi_open or hi is None else ']'}"
        raise ValueError(f"The '{name}' parameter of {type(est).__name__} must be "
                         f"{'an int' if integral else 'a float'} in the range {rng}. "
                         f"Got {v!r} instead.")


def check_dtype_param(est):
    """fastmlp's ``dtype`` parameter: None, 'float32' or 'float64'."""
    if est.dtype not in (None, "float32", "float64", np.float32, np.float64):
        try:
            ok = np.dtype(est.dtype) in (np.float32, np.float64)
        except TypeError:
            ok = False
        if not ok:
            raise ValueError(f"dtype must be None, 'float32' or 'float64', got {est.dtype!r}")


def check_common(est):
    """Parameters every estimator shares: batch_size, n_threads, dtype."""
    if not (est.batch_size == "auto" or (isinstance(est.batch_size, Integral)
                                         and not isinstance(est.batch_size, bool)
                                         and est.batch_size >= 1)):
        raise ValueError(f"The 'batch_size' parameter must be 'auto' or an int >= 1. "
                         f"Got {est.batch_size!r} instead.")
    check_dtype_param(est)
    resolve_n_threads(est.n_threads)


class _BaseMLP(EngineEstimator):
    """The parameters and checks of scikit-learn's two MLP estimators."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 loss=None, restarts=1, n_threads=None, dtype=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.loss = loss
        self.restarts = restarts
        self.n_threads = n_threads
        self.dtype = dtype

    @property
    def _restarts(self):
        return int(self.restarts)

    def _check_params(self):
        hidden = self.hidden_layer_sizes
        hidden = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
        if any(isinstance(h, bool) or not isinstance(h, Integral) or h <= 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {self.hidden_layer_sizes}.")
        if get_activation(self.activation).output_only:      # names: fastmlp.activations
            raise ValueError(f"activation {self.activation!r} is for the output layer only; "
                             f"the hidden layers need an element-wise activation")
        if self.solver not in _SOLVERS:
            raise ValueError(f"The 'solver' parameter must be one of {_SOLVERS}. "
                             f"Got {self.solver!r} instead.")
        if self.learning_rate not in ("constant", "invscaling", "adaptive"):
            raise ValueError(f"The 'learning_rate' parameter must be one of 'constant', "
                             f"'invscaling', 'adaptive'. Got {self.learning_rate!r} instead.")
        check_number(self, "alpha", 0)
        check_number(self, "learning_rate_init", 0, lo_open=True)
        check_number(self, "power_t", 0)
        check_number(self, "max_iter", 1, integral=True)
        check_number(self, "tol", 0)
        check_number(self, "momentum", 0, 1)
        check_number(self, "validation_fraction", 0, 1, hi_open=True)
        check_number(self, "beta_1", 0, 1, hi_open=True)
        check_number(self, "beta_2", 0, 1, hi_open=True)
        check_number(self, "epsilon", 0, lo_open=True)
        check_number(self, "max_fun", 1, integral=True)
        check_number(self, "restarts", 1, integral=True)
        if not (self.n_iter_no_change == np.inf or (
                isinstance(self.n_iter_no_change, Integral) and self.n_iter_no_change >= 1)):
            raise ValueError(f"The 'n_iter_no_change' parameter must be an int >= 1 or "
                             f"numpy.inf. Got {self.n_iter_no_change!r} instead.")
        check_common(self)
        return hidden

    def _settings(self):
        return Settings(
            solver=self.solver, learning_rate_init=float(self.learning_rate_init),
            learning_rate=self.learning_rate, power_t=float(self.power_t),
            momentum=float(self.momentum), nesterov=bool(self.nesterovs_momentum),
            beta_1=float(self.beta_1), beta_2=float(self.beta_2), epsilon=float(self.epsilon),
            alpha=float(self.alpha), alpha_per_batch=True, batch_size=self.batch_size,
            max_iter=int(self.max_iter), shuffle=bool(self.shuffle), tol=float(self.tol),
            n_iter_no_change=self.n_iter_no_change,
            early_stopping=bool(self.early_stopping),
            validation_fraction=float(self.validation_fraction), max_fun=int(self.max_fun))

    def _init_network(self, net, rs):
        """Glorot-uniform init drawn exactly as scikit-learn draws it (same random_state ->
        same initial coefs_ and intercepts_)."""
        net.init_glorot(rs, 2.0 if canonical_name(self.activation) == "sigmoid" else 6.0)

    def _hidden_acts(self, hidden):
        return [canonical_name(self.activation)] * len(hidden)

    def _check_solver(self):
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True


class MLPClassifier(ClassifierMixin, LabelEncoding, _BaseMLP):
    """Multi-layer perceptron classifier trained by fastmlp's C engine.

    Parameters are those of :class:`sklearn.neural_network.MLPClassifier`, with the same
    meaning (``activation`` also takes the chapter's ``step``, ``sign``, ``piecewise_linear``,
    ``leaky_relu``, ``prelu``, ``sigmoid`` and ``linear``), plus fastmlp's own:

    loss : {None, 'cross_entropy', 'logistic', 'hinge', 'square', 'margin'}
        None: scikit-learn's log-loss -- softmax + cross-entropy for multi-class, one
        logistic output per label (binary, multi-label). 'cross_entropy' forces a softmax
        output (two units for a binary problem); 'logistic', 'hinge' and 'square' train one
        linear output per class (one for a binary problem) against +-1 targets; 'margin' is
        the multi-class large-margin loss on linear outputs. ``predict_proba`` exists for
        None, 'cross_entropy' and 'logistic'.
    restarts : int, default=1
        Train from this many random starting points (drawn in turn from ``random_state``;
        run in parallel, one per thread, when ``verbose`` is off) and keep the best (lowest
        final training loss, or best validation score with ``early_stopping``).
    n_threads : int or None
        OpenMP threads of the engine; None resolves inside fit (``n_threads_``).
    dtype : None, 'float32' or 'float64'
        None follows the input's float dtype (float32 stays float32; anything else float64).

    Divergence (the same policy as ``fastmlp.MLP.fit``): a step whose loss or gradient is
    not finite changes nothing and ends training with a ``fastmlp.DivergenceWarning``; the
    model keeps its last finite weights, or the best validation epoch's with
    ``early_stopping``. Ctrl-C ends ``fit`` at the last completed epoch.
    """

    _LOSSES = (None, "cross_entropy", "logistic", "hinge", "square", "margin")
    _y_numeric = False
    _score_fn = staticmethod(accuracy_score)

    def _check_params(self):
        if self.loss not in self._LOSSES:
            hint = (" ('log_loss' is the default, None: softmax cross-entropy for several "
                    "classes, logistic outputs for binary and multi-label targets)"
                    if self.loss == "log_loss" else "")
            raise ValueError(f"The 'loss' parameter of MLPClassifier must be one of "
                             f"{self._LOSSES}. Got {self.loss!r} instead{hint}.")
        return super()._check_params()

    def _plan(self, Y, dtype, n_features, hidden):
        k = Y.shape[1]
        y_type = self._label_binarizer.y_type_
        loss = self.loss
        if loss is None:
            loss = "cross_entropy" if y_type == "multiclass" else "logistic"
        n_out = 2 if loss in ("cross_entropy", "margin") and k == 1 else k
        if loss in ("cross_entropy", "margin") and y_type.startswith("multilabel"):
            raise ValueError(f"loss={self.loss!r} needs one label per sample; use 'logistic', "
                             f"'hinge' or 'square' for multi-label targets")
        out_act = "softmax" if loss == "cross_entropy" else "linear"
        self.n_outputs_ = n_out
        self.n_layers_ = len(hidden) + 2
        self.out_activation_ = {"cross_entropy": "softmax",
                                "logistic": "logistic"}.get(loss, "identity")
        return Plan([n_features] + list(hidden) + [n_out],
                    self._hidden_acts(hidden) + [out_act], loss, dtype)

    def _encode(self, Y, plan):
        """0/1 indicator (from the label binariser) -> the engine's targets."""
        if plan.sizes[-1] == 2 and Y.shape[1] == 1:
            Y = np.hstack([1.0 - Y, Y])
        if plan.loss in ("logistic", "hinge", "square"):
            return 2.0 * Y - 1.0
        return Y

    def predict(self, X):
        """Predict class labels (or label indicators for multi-label targets)."""
        X = self._check_X_predict(X)
        return self._predict_net(self._sync(), X)

    def _has_proba(self):
        return self.loss in (None, "cross_entropy", "logistic")

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities: softmax outputs, or sigmoid of the logistic outputs (binary:
        two columns; multi-label: one per label; multi-class logistic: normalised)."""
        X = self._check_X_predict(X)
        net = self._sync()
        out = self._output(X, net)
        if net.plan.acts[-1] == "softmax":
            if len(self.classes_) == 1:
                return np.ones((out.shape[0], 1), dtype=out.dtype)
            return out
        p = expit(out)
        if p.shape[1] == 1:
            return np.hstack([1.0 - p, p])
        if self._label_binarizer.y_type_ == "multiclass":
            p /= p.sum(axis=1, keepdims=True)
        return p

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        p = self.predict_proba(X)
        return np.log(p, out=p)

    def fit(self, X, y, sample_weight=None):
        """Fit the model to X and y (class labels, or a binary indicator matrix for
        multi-label); ``sample_weight`` weights each sample's loss."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_BaseMLP._check_solver)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y); ``classes`` is required on the first call."""
        self._check_partial_classes(y, classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def _fastmlp_tags(self):
        tags = super()._fastmlp_tags()
        tags["multi_label"] = True
        return tags

    def __sklearn_tags__(self):
        return self._with_fastmlp_tags(super().__sklearn_tags__())


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by fastmlp's C engine.

    Parameters are those of :class:`sklearn.neural_network.MLPRegressor` (``loss`` is
    'squared_error', scikit-learn's ``0.5 * mean`` squared error, or fastmlp's 'square',
    the chapter's ``sum_j (y_j - f_j)^2`` per sample), plus ``restarts``, ``n_threads`` and
    ``dtype`` as in :class:`MLPClassifier`. Multi-output targets train one linear output
    unit per target.
    """

    _y_numeric = True
    _score_fn = staticmethod(r2_score)

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 restarts=1, n_threads=None, dtype=None):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, loss=loss, restarts=restarts, n_threads=n_threads, dtype=dtype)

    def _check_params(self):
        if self.loss not in ("squared_error", "square"):
            raise ValueError(f"The 'loss' parameter of MLPRegressor must be 'squared_error' or "
                             f"'square'. Got {self.loss!r} instead.")
        return super()._check_params()

    def _validate_y(self, y, incremental, first, classes=None):
        y = np.asarray(y, dtype=np.float64)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _plan(self, Y, dtype, n_features, hidden):
        m = Y.shape[1]
        sk = self.loss == "squared_error"
        self.n_outputs_ = m
        self.n_layers_ = len(hidden) + 2
        self.out_activation_ = "identity"
        # engine square loss = sum_j (y - a)^2 per sample: gradient 2x scikit-learn's,
        # value 2m x scikit-learn's 0.5 * mean over all entries
        return Plan([n_features] + list(hidden) + [m], self._hidden_acts(hidden) + ["linear"],
                    "square", dtype, gscale=2.0 if sk else 1.0,
                    lscale=1.0 / (2.0 * m) if sk else 1.0)

    def _encode(self, Y, plan):
        return Y

    def _decode_targets(self, Yt, plan):
        return Yt[:, 0] if Yt.shape[1] == 1 else Yt

    def _predict_net(self, net, X):
        out = self._output(X, net)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs)."""
        X = self._check_X_predict(X)
        return self._predict_net(self._sync(), X)

    def fit(self, X, y, sample_weight=None):
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_BaseMLP._check_solver)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def __sklearn_tags__(self):
        return self._with_fastmlp_tags(super().__sklearn_tags__())
