"""MLPClassifier and MLPRegressor: scikit-learn's multi-layer perceptrons on fastmlp's
engine. Parameters are those of :mod:`sklearn.neural_network` with the same meaning (plus
``loss``, ``restarts``, ``n_threads``, ``dtype``, ``report`` and ``on_divergence``); the
fitted attributes are those scikit-learn names (``coefs_``, ``intercepts_``,
``loss_curve_``, ...)."""
from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils._param_validation import (Hidden, Interval, InvalidParameterError,
                                             Options, StrOptions)
from sklearn.utils.metaestimators import available_if

from .._names import ACTIVATION_NAMES
from ..activations import canonical_name, get_activation
from ..losses import ovr_probabilities
from ._base import EngineEstimator, reads, writes
from ._compat import validate_params
from ._labels import LabelEncoding
from ._network import Plan, Settings

__all__ = ["MLPClassifier", "MLPRegressor"]

def check_dtype_param(est):
    """fastmlp's ``dtype`` parameter: None, 'float32' or 'float64'."""
    if est.dtype not in (None, "float32", "float64", np.float32, np.float64):
        try:
            ok = np.dtype(est.dtype) in (np.float32, np.float64)
        except TypeError:
            ok = False
        if not ok:
            raise InvalidParameterError(
                f"The 'dtype' parameter of {type(est).__name__} must be None, 'float32' or "
                f"'float64'. Got {est.dtype!r} instead.")


def _check_activation(est):
    """``activation``: scikit-learn's four names or any element-wise activation of
    :mod:`fastmlp.activations` (its aliases, case-insensitive)."""
    name = ACTIVATION_NAMES.get(est.activation)
    if name is None or get_activation(name).output_only:
        valid = sorted({n for n in ACTIVATION_NAMES.names if not get_activation(n).output_only}
                       | {"identity", "logistic"})
        raise InvalidParameterError(
            f"The 'activation' parameter of {type(est).__name__} must be a str among "
            f"{set(valid)} (or one of their aliases, see fastmlp.activations). Got "
            f"{est.activation!r} instead.")


class _BaseMLP(EngineEstimator):
    """The parameters and checks of scikit-learn's two MLP estimators."""

    # scikit-learn's table (same errors), plus fastmlp's own parameters; activation, loss
    # and dtype are checked in _check_params
    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        # 'auto' is fastmlp's extension (a learning-rate sweep before training), hidden from
        # scikit-learn's message so a bad number is reported in scikit-learn's own words
        "learning_rate_init": [Interval(Real, 0, None, closed="neither"),
                               Hidden(StrOptions({"auto"}))],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"),
                             Options(Real, {np.inf})],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "restarts": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "report": [str, os.PathLike, None],
        "on_divergence": [StrOptions({"raise", "warn"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 loss="log_loss", restarts=1, n_threads=None, dtype=None, report=None,
                 on_divergence="raise"):
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
        self.report = report
        self.on_divergence = on_divergence

    @property
    def _restarts(self):
        return int(self.restarts)

    def _check_params(self):
        lr = self.learning_rate_init
        if isinstance(lr, str) and lr != "auto":
            raise InvalidParameterError(
                f"The 'learning_rate_init' parameter of {type(self).__name__} must be a float "
                f"in the range (0.0, inf) or 'auto' (fastmlp's extension). Got {lr!r} instead.")
        validate_params(self)
        _check_activation(self)
        check_dtype_param(self)
        hidden = self.hidden_layer_sizes
        hidden = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
        if any(isinstance(h, bool) or not isinstance(h, Integral) or h <= 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden}.")
        return hidden

    def _settings(self):
        return Settings(
            solver=self.solver, learning_rate_init=(
                self.learning_rate_init if isinstance(self.learning_rate_init, str)
                else float(self.learning_rate_init)),
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
        if isinstance(self.learning_rate_init, str) and self.learning_rate_init == "auto":
            raise AttributeError("partial_fit is not available with learning_rate_init='auto' "
                                 "(fit chooses the rate by a sweep); give a number")
        return True


class MLPClassifier(ClassifierMixin, LabelEncoding, _BaseMLP):
    """Multi-layer perceptron classifier trained by fastmlp's C engine.

    Parameters are those of :class:`sklearn.neural_network.MLPClassifier`, with the same
    meaning (``activation`` also takes the chapter's ``step``, ``sign``, ``piecewise_linear``,
    ``leaky_relu``, ``prelu``, ``sigmoid`` and ``linear``), plus fastmlp's own:

    loss : {'log_loss', 'cross_entropy', 'logistic', 'hinge', 'square', 'margin'}
        'log_loss' (the default; None means the same): scikit-learn's -- softmax +
        cross-entropy for multi-class, one logistic output per label (binary,
        multi-label). 'cross_entropy' forces a softmax output (two units for a binary
        problem); 'logistic', 'hinge' and 'square' train one linear output per class (one
        for a binary problem) against +-1 targets; 'margin' is the multi-class large-margin
        loss on linear outputs. ``predict_proba`` exists for 'log_loss', 'cross_entropy'
        and 'logistic'.
    restarts : int, default=1
        Train from this many random starting points (drawn in turn from ``random_state``;
        run in parallel, one per thread, when ``verbose`` is off) and keep the best (lowest
        final training loss, or best validation score with ``early_stopping``).
    n_threads : int or None
        OpenMP threads of the engine; None resolves inside fit (``n_threads_``).
    dtype : None, 'float32' or 'float64'
        None follows the input's float dtype (float32 stays float32; anything else float64).
    on_divergence : {'raise', 'warn'}, default='raise'
        What a fit does when a step makes the loss or a parameter NaN or infinite.
        'raise' (scikit-learn's answer): ``ValueError("Solver produced non-finite parameter
        weights. The input data may contain large values and need to be preprocessed.")``,
        so that a grid search's ``error_score`` marks the configuration as failed.
        'warn' (the policy of ``fastmlp.MLP.fit``): training stops, the model keeps its last
        finite weights and a ``fastmlp.training.DivergenceWarning`` says so.
    learning_rate_init : float or 'auto', default=0.001
        scikit-learn's initial learning rate; ``'auto'`` is fastmlp's extension: ``fit``
        first runs the short learning-rate sweep behind ``fastmlp.MLP.fit(lr='auto')`` --
        copies of the initial network, trained in parallel by the chosen solver for a tenth
        of ``max_iter`` epochs (1 to 10, at least 50 steps), four rates a decade apart then
        three bisection stages; the largest rate within 10 % of the lowest final training
        loss (of the lowest 1 - validation score with ``early_stopping``) wins -- then
        trains with it. The chosen rate is ``learning_rate_init_``, the sweep
        ``lr_search_`` (a ``fastmlp.training.LRSweepResult``). There is no
        ``partial_fit`` then; ``solver='lbfgs'`` ignores it.
    report : str, os.PathLike or None, default=None
        fastmlp's extension: each ``fit``/``partial_fit`` writes a self-contained HTML
        report of its run there (``fastmlp.training.Report``: curves, configuration,
        per-layer histograms, confusion matrix or residuals, the sweep of ``'auto'``). A
        constructor parameter, stored as given and used by ``fit``, as scikit-learn
        configures a fit; clones fitted with the same path overwrite each other's file.

    Randomness is scikit-learn's: the initial weights, the ``early_stopping`` split and,
    with ``shuffle=True``, every epoch's order (``sklearn.utils.shuffle`` of the previous
    epoch's order, starting in order at each ``fit``/``partial_fit`` call) are drawn from
    ``random_state`` in scikit-learn's order, so the same ``random_state`` and settings
    give scikit-learn's weights (float64: to 1e-10) with or without shuffling. Only the
    first of several ``restarts`` draws so; the others shuffle from streams seeded from a
    copy of ``random_state`` (reproducible, not scikit-learn's).

    Divergence (the same policy as ``fastmlp.MLP.fit``): a step whose loss or gradient is
    not finite changes nothing and ends training with a ``fastmlp.DivergenceWarning``; the
    model keeps its last finite weights, or the best validation epoch's with
    ``early_stopping``. Ctrl-C ends ``fit`` at the last completed epoch.
    """

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"log_loss", "cross_entropy", "logistic", "hinge", "square",
                             "margin"}), None],
    }
    _y_numeric = False
    _score_fn = staticmethod(accuracy_score)

    def _plan(self, Y, dtype, n_features, hidden):
        k = Y.shape[1]
        y_type = self._label_binarizer.y_type_
        loss = self.loss
        if loss in (None, "log_loss"):
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

    @reads
    def predict(self, X):
        """Predict class labels (or label indicators for multi-label targets)."""
        X = self._check_X_predict(X)
        return self._predict_net(self._sync(), X)

    def _has_proba(self):
        return self.loss in (None, "log_loss", "cross_entropy", "logistic")

    @available_if(_has_proba)
    @reads
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
        if self._label_binarizer.y_type_ == "multiclass":   # stable where sigmoids underflow
            return ovr_probabilities(out).astype(p.dtype)
        return p

    @available_if(_has_proba)
    @reads
    def predict_log_proba(self, X):
        p = self.predict_proba(X)
        return np.log(p, out=p)

    @writes
    def fit(self, X, y, sample_weight=None):
        """Fit the model to X and y (class labels, or a binary indicator matrix for
        multi-label); ``sample_weight`` weights each sample's loss."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_BaseMLP._check_solver)
    @writes
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y) (scikit-learn >= 1.7's argument order: ``sample_weight``
        before ``classes``). ``classes`` (every class of the whole problem) is required on
        the first call; ``y`` may hold only some of them."""
        if (classes is None and sample_weight is not None and not hasattr(self, "classes_")
                and np.ndim(sample_weight) == 1 and len(sample_weight) != len(y)):
            raise ValueError("classes must be passed on the first call to partial_fit. (The "
                             "third argument of partial_fit is sample_weight, as in "
                             "scikit-learn >= 1.7: give classes=... by keyword.)")
        self._check_partial_classes(y, classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    score = reads(ClassifierMixin.score)

    def _fastmlp_tags(self):
        tags = super()._fastmlp_tags()
        tags["multi_label"] = True
        return tags

    def __sklearn_tags__(self):
        return self._with_fastmlp_tags(super().__sklearn_tags__())


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by fastmlp's C engine.

    Parameters are those of :class:`sklearn.neural_network.MLPRegressor`, plus
    ``restarts``, ``n_threads``, ``dtype``, ``report``, ``on_divergence`` and
    ``learning_rate_init='auto'`` (fastmlp's extension: a learning-rate sweep before
    training) as in :class:`MLPClassifier`. Multi-output targets train one output unit per
    target.

    loss : {'squared_error', 'poisson', 'square'}
        'squared_error': scikit-learn's half mean squared error, on linear outputs.
        'poisson': scikit-learn's half Poisson deviance ``y log(y / f) - y + f`` on exp
        outputs ``f = e^z`` (``out_activation_ = 'exp'``); targets must be >= 0.
        'square' (fastmlp's): the chapter's ``sum_j (y_j - f_j)^2`` per sample.
    """

    _y_numeric = True
    _score_fn = staticmethod(r2_score)

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 restarts=1, n_threads=None, dtype=None, report=None, on_divergence="raise"):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, loss=loss, restarts=restarts, n_threads=n_threads, dtype=dtype,
            report=report, on_divergence=on_divergence)

    _parameter_constraints: dict = {
        **_BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", "square"})],
    }

    def _validate_y(self, y, incremental, first, classes=None):
        y = np.asarray(y, dtype=np.float64)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError("MLPRegressor with loss='poisson' needs targets y >= 0 (counts "
                             f"or rates); y has a minimum of {float(y.min())}.")
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _plan(self, Y, dtype, n_features, hidden):
        m = Y.shape[1]
        self.n_outputs_ = m
        self.n_layers_ = len(hidden) + 2
        if self.loss == "poisson":
            # the engine's poisson loss is scikit-learn's (value and gradient (f - y)/n)
            self.out_activation_ = "exp"
            return Plan([n_features] + list(hidden) + [m],
                        self._hidden_acts(hidden) + ["exp"], "poisson", dtype)
        sk = self.loss == "squared_error"
        self.out_activation_ = "identity"
        # engine square loss = sum_j (y - a)^2 per sample: gradient 2x scikit-learn's,
        # value 2m x scikit-learn's 0.5 * mean over all entries
        return Plan([n_features] + list(hidden) + [m], self._hidden_acts(hidden) + ["linear"],
                    "square", dtype, gscale=2.0 if sk else 1.0,
                    lscale=1.0 / (2.0 * m) if sk else 1.0)

    def _encode(self, Y, plan):
        return Y

    score = reads(RegressorMixin.score)

    def _decode_targets(self, Yt, plan):
        return Yt[:, 0] if Yt.shape[1] == 1 else Yt

    def _predict_net(self, net, X):
        out = self._output(X, net)
        return out[:, 0] if out.shape[1] == 1 else out

    @reads
    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs)."""
        X = self._check_X_predict(X)
        return self._predict_net(self._sync(), X)

    @writes
    def fit(self, X, y, sample_weight=None):
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_BaseMLP._check_solver)
    @writes
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def __sklearn_tags__(self):
        return self._with_fastmlp_tags(super().__sklearn_tags__())
