"""Perceptron: :class:`sklearn.linear_model.Perceptron` on fastmlp's engine -- the chapter's
single layer of threshold units, trained one-vs-all by scikit-learn's SGD rule
(:mod:`fastmlp.sklearn._ova`: one engine run per binary problem, ``n_jobs`` at a time)."""
from __future__ import annotations

from numbers import Integral, Real

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.base import ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import check_is_fitted

from ..training import DivergenceWarning
from ..training.loop import warn_user
from ._base import EngineEstimator, reads, writes
from ._linear import train_linear
from ._compat import check_sample_weight, validate_data, validate_params
from ._network import Network, Plan
from ._ova import SPARSE_INTERCEPT_DECAY, BinaryTask, SGDRule, train_all
from ._threads import resolve_n_threads
from .mlp import check_dtype_param

__all__ = ["Perceptron"]

MAX_INT = np.iinfo(np.int32).max


class Perceptron(ClassifierMixin, EngineEstimator):
    """Linear perceptron classifier: :class:`sklearn.linear_model.Perceptron` trained by
    fastmlp's engine.

    Parameters, fitted attributes, methods and their argument order are scikit-learn's, with
    the same meaning: ``penalty`` (None, 'l2', 'l1', 'elasticnet'), ``alpha``, ``l1_ratio``,
    ``fit_intercept``, ``max_iter``, ``tol`` (None: no stopping test and no
    ConvergenceWarning), ``shuffle``, ``verbose``, ``eta0``, ``n_jobs``, ``random_state``,
    ``early_stopping``, ``validation_fraction``, ``n_iter_no_change``, ``class_weight``
    (dict or 'balanced') and ``warm_start``; ``fit(X, y, coef_init, intercept_init,
    sample_weight)``, ``partial_fit(X, y, classes, sample_weight)``, ``decision_function``,
    ``predict``, ``score``, ``sparsify``, ``densify``; ``coef_``, ``intercept_``,
    ``classes_``, ``n_iter_``, ``t_`` (``n_iter_ * n_samples + 1``, a float).

    The algorithm is scikit-learn's (its ``SGDClassifier(loss='perceptron',
    learning_rate='constant')``): from zero weights, for each sample with ``y p <= 0`` (p the
    margin, y = +-1), ``w += eta0 * c * y * x`` and ``b += eta0 * c * y``, c its class weight
    times its sample weight; the L2 part of the penalty shrinks w by ``1 - eta0 * alpha *
    (1 - l1_ratio)`` every step, the L1 part is the cumulative penalty. Several classes are
    one-vs-all: one binary problem per class, each with its own shuffling and its own
    stopping test (the mean of ``max(0, -y p)`` plus the penalty, or the validation accuracy
    with ``early_stopping``, improving by less than ``tol`` for ``n_iter_no_change`` epochs
    in a row); ``n_iter_`` is the largest epoch count. The order of the samples is
    scikit-learn's shuffling (seeded from ``random_state`` as scikit-learn seeds it), so the
    weights are scikit-learn's, with or without shuffling.

    It runs in C (csrc/linear, :mod:`fastmlp.sklearn._linear`): each binary problem is a
    unit whose weights are a vector times a scale factor (the L2 shrink is O(1)), the units
    spread over ``max(n_jobs, n_threads)`` threads without the GIL (one thread when an epoch
    of all of them is small), bitwise the same for any thread count. Sparse (CSR) input is
    trained on and scored as it is, never densified; as in scikit-learn, its intercept
    steps are damped by 0.01 and the L1 penalty covers a sample's non-zero features.

    Divergence follows fastmlp's one policy (scikit-learn raises a ValueError instead): the
    failing step changes nothing, that binary problem stops, and a
    ``fastmlp.DivergenceWarning`` names the class.

    Ctrl-C ends the whole fit, whatever ``n_jobs``: the binary problems running stop at
    their next epoch boundary (keeping that epoch's weights), those not started keep their
    starting weights, and ``fit`` returns with a RuntimeWarning.

    fastmlp's own parameters:

    activation : {'step', 'sign'}
        The threshold unit (``out_activation_``); both predict the class whose unit has
        ``z > 0`` (several classes: the largest z).
    loss : {'perceptron', 'hinge'}
        'perceptron' is Rosenblatt's rule above; 'hinge' the chapter's ``max(0, 1 - y z)``
        (a step also where ``0 <= y z < 1``), whose class and sample weights act as in
        :class:`fastmlp.MLP` (each batch's weighted mean, so with ``batch_size=1`` only a
        weight of 0 matters).
    batch_size : int, default=1
        Samples per step (1: scikit-learn's online rule).
    n_threads : int or None
        Threads for the binary problems (with ``n_jobs``, the larger of the two); with
        ``loss='hinge'`` or ``batch_size > 1``, the engine threads of each problem.
    dtype : None, 'float32' or 'float64'
        None follows the input's float dtype.

    ``loss='hinge'`` and ``batch_size > 1`` run on fastmlp's MLP engine instead (one
    engine run per binary problem, ``n_jobs`` at a time); sparse input stays sparse there
    too (CSR rows throughout, memory bounded by the non-zeros), with the same sparse-input
    rules.
    """

    _parameter_constraints: dict = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean"],
        "verbose": ["verbose"],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "warm_start": ["boolean"],
        "activation": [StrOptions({"step", "heaviside", "sign"})],
        "loss": [StrOptions({"perceptron", "hinge"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, *, penalty=None, alpha=0.0001, l1_ratio=0.15, fit_intercept=True,
                 max_iter=1000, tol=1e-3, shuffle=True, verbose=0, eta0=1.0, n_jobs=None,
                 random_state=0, early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=5, class_weight=None, warm_start=False,
                 activation="step", loss="perceptron", batch_size=1, n_threads=None,
                 dtype=None):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.eta0 = eta0
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.activation = activation
        self.loss = loss
        self.batch_size = batch_size
        self.n_threads = n_threads
        self.dtype = dtype

    # -- the fitted network ---------------------------------------------------------------
    def _expose(self):
        super()._expose()
        self.coef_ = self.coefs_[0].T
        self.intercept_ = self.intercepts_[0]

    def _sync(self):
        # coef_ (n_out, n_features) is a transposed view of coefs_[0]; an assigned coef_ or
        # intercept_ (or a sparse coef_, see sparsify) wins over the engine's weights
        net = self._net
        theta = net.engine.theta
        coef = self.coef_
        if sp.issparse(coef):
            net.model.weights[0][...] = coef.toarray().T
            net.model.biases[0][...] = np.asarray(self.intercept_)
            return net
        if not (np.shares_memory(coef, theta) and np.shares_memory(self.intercept_, theta)):
            dt = theta.dtype
            self.coefs_ = [np.asarray(coef, dtype=dt).T.copy()]
            self.intercepts_ = [np.asarray(self.intercept_, dtype=dt).copy()]
        return super()._sync()

    @reads
    def __getstate__(self):
        if "_net" in self.__dict__:
            self._sync()
        state = super().__getstate__()
        if not sp.issparse(state.get("coef_")):
            state.pop("coef_", None)
            state.pop("intercept_", None)
        return state

    def __setstate__(self, state):
        coef = state.get("coef_")
        super().__setstate__(state)
        if coef is not None:
            self.coef_ = coef

    @writes
    def sparsify(self):
        """Convert ``coef_`` to a scipy.sparse CSR matrix (as scikit-learn's; predictions
        are unchanged)."""
        check_is_fitted(self, msg="Estimator, %(name)s, must be fitted before sparsifying.")
        self._sync()
        self.coef_ = sp.csr_matrix(self.coef_)
        return self

    @writes
    def densify(self):
        """Convert ``coef_`` back to a dense array (the default)."""
        check_is_fitted(self, msg="Estimator, %(name)s, must be fitted before densifying.")
        if sp.issparse(self.coef_):
            self._sync()
            self._expose()
        return self

    # -- prediction -------------------------------------------------------------------------
    @reads
    def decision_function(self, X):
        """Confidence scores ``X coef_^T + intercept_``: (n_samples,) for two classes (the
        second class's), else (n_samples, n_classes)."""
        X = self._check_X_predict(X)
        if sp.issparse(X):      # kept sparse: X W + b over the non-zeros
            net = self._sync()
            W, b = net.model.weights[0], net.model.biases[0]
            out = np.asarray(X.tocsr().astype(W.dtype) @ W) + b
        else:
            out = self._output(X)
        return out[:, 0] if out.shape[1] == 1 else out

    @reads
    def predict(self, X):
        """Class labels: the second class where the score is > 0 (two classes), else the
        class of the largest score."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[scores.argmax(axis=1)]

    # -- fit ----------------------------------------------------------------------------------
    @writes
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit by scikit-learn's perceptron rule for up to ``max_iter`` epochs.

        coef_init : (n_classes, n_features), intercept_init : (n_classes,)
            Starting weights instead of zeros (warm_start: the previous fit's).
        sample_weight : (n_samples,)
            Multiplies each sample's step (together with ``class_weight``).
        """
        validate_params(self)
        check_dtype_param(self)
        self.__dict__.pop("classes_", None)
        y = validate_data(self, y=y)
        if self.warm_start and hasattr(self, "coef_"):
            self._sync()
            if coef_init is None:
                coef_init = self.coef_
            if intercept_init is None:
                intercept_init = self.intercept_
        else:
            self.__dict__.pop("coef_", None)
        self.t_ = 1.0
        self._train(X, y, np.unique(y), sample_weight, coef_init, intercept_init,
                    self.max_iter)
        if self.tol is not None and self.n_iter_ == self.max_iter:
            warn_user("Maximum number of iteration reached before convergence. Consider "
                      "increasing max_iter to improve the fit.", ConvergenceWarning)
        return self

    @writes
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y). ``classes`` (every class of the whole problem) is required
        on the first call; ``y`` may hold only some of them."""
        if not hasattr(self, "classes_"):
            validate_params(self)
            check_dtype_param(self)
            if self.early_stopping:
                raise ValueError("early_stopping should be False with partial_fit")
            if self.class_weight == "balanced":
                raise ValueError(
                    "class_weight 'balanced' is not supported for partial_fit. In order to "
                    "use 'balanced' weights, use compute_class_weight('balanced', "
                    "classes=classes, y=y). In place of y you can use a large enough sample "
                    "of the full training set target to properly estimate the class "
                    "frequency distributions. Pass the resulting weights as the "
                    "class_weight parameter.")
        return self._train(X, y, classes, sample_weight, None, None, 1)

    def _train(self, X, y, classes, sample_weight, coef_init, intercept_init, max_iter):
        first = not hasattr(self, "classes_")
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32],
                             order="C", accept_large_sparse=False, reset=first)
        self._set_classes(classes)
        classes_ = self.classes_
        extra = np.setdiff1d(unique_labels(y), classes_)
        if len(extra):
            raise ValueError("classes should include all valid labels that can be in y")
        cw = compute_class_weight(self.class_weight, classes=classes_, y=y)
        sw = check_sample_weight(sample_weight, X, dtype=X.dtype,
                                 allow_all_zero=self.early_stopping)
        n_classes = len(classes_)
        if n_classes < 2:
            raise ValueError("The number of classes has to be greater than one; got %d "
                             "class" % n_classes)
        dtype = np.dtype(self.dtype) if self.dtype is not None else X.dtype
        n_out = 1 if n_classes == 2 else n_classes
        if getattr(self, "coef_", None) is None or coef_init is not None or \
                self._net.plan.dtype != dtype:
            self._allocate(X.shape[1], n_out, dtype, coef_init, intercept_init)
        net = self._sync()
        if net.plan.sizes[0] != X.shape[1]:
            raise ValueError("Number of features %d does not match previous data %d."
                             % (X.shape[1], net.plan.sizes[0]))
        if not hasattr(self, "t_"):
            self.t_ = 1.0
        tasks = self._tasks(y, sw, cw, net)
        sparse = sp.issparse(X)
        rule = self._rule(max_iter, sparse)
        workers = joblib.effective_n_jobs(self.n_jobs)
        self.n_threads_ = nt = resolve_n_threads(self.n_threads)
        if self.loss == "perceptron" and self.batch_size == 1:
            # scikit-learn's rule, one sample at a time, in C (the classes on threads)
            results = train_linear(tasks, X, rule, dtype, max(workers, nt))
        else:
            results = train_all(tasks, X, rule, dtype, workers, nt, sparse=sparse)
        W, b = net.model.weights[0], net.model.biases[0]
        for r in results:
            W[:, r.index] = r.coef
            b[r.index] = r.intercept
            if r.diverged is not None:
                label = classes_[1] if n_out == 1 else classes_[r.index]
                warn_user(f"class {label} (one-vs-all): training diverged in epoch "
                          f"{r.diverged}: a step became NaN or infinite, so this class "
                          f"stopped with its last finite weights. Scale the inputs (e.g. "
                          f"StandardScaler) or use a smaller eta0 (eta0={self.eta0:g}).",
                          DivergenceWarning)
        self._expose()
        self.n_iter_ = max(r.n_iter for r in results)
        self.t_ += self.n_iter_ * X.shape[0]
        return self

    def _set_classes(self, classes):
        """scikit-learn's partial_fit rule for ``classes`` (fit passes np.unique(y))."""
        if not hasattr(self, "classes_"):
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit.")
            self.classes_ = unique_labels(classes)
            self._label_binarizer = LabelBinarizer().fit(self.classes_)
        elif classes is not None and not np.array_equal(self.classes_, unique_labels(classes)):
            raise ValueError("`classes=%r` is not the same as on last call to partial_fit, "
                             "was: %r" % (classes, self.classes_))

    def _allocate(self, n_features, n_out, dtype, coef_init, intercept_init):
        """A fresh network: zero weights, or coef_init/intercept_init (scikit-learn's checks)."""
        net = Network(Plan([n_features, n_out], ["linear"], "hinge", dtype))
        net.zero()
        W, b = net.model.weights[0], net.model.biases[0]
        if coef_init is not None:
            coef = coef_init.toarray() if sp.issparse(coef_init) else np.asarray(coef_init)
            coef = coef.astype(dtype)
            if n_out > 1:
                if coef.shape != (n_out, n_features):
                    raise ValueError("Provided ``coef_`` does not match dataset. ")
                W[...] = coef.T
            else:
                coef = coef.ravel()
                if coef.shape != (n_features,):
                    raise ValueError("Provided coef_init does not match dataset.")
                W[:, 0] = coef
        if intercept_init is not None:
            icpt = np.asarray(intercept_init, dtype=dtype)
            if (n_out > 1 and icpt.shape != (n_out,)) or (
                    n_out == 1 and icpt.shape not in ((1,), ())):
                raise ValueError("Provided intercept_init does not match dataset.")
            b[...] = icpt.reshape(b.shape)
        self._net = net
        self.n_outputs_ = n_out
        self.n_layers_ = 2
        self.out_activation_ = "sign" if self.activation == "sign" else "step"
        self._expose()

    def _validation_mask(self, y, sample_mask):
        """scikit-learn's stratified validation split (a boolean mask; all False without
        early stopping)."""
        n = y.shape[0]
        mask = np.zeros(n, dtype=bool)
        if not self.early_stopping:
            return mask
        cv = StratifiedShuffleSplit(test_size=self.validation_fraction,
                                    random_state=self.random_state)
        idx_train, idx_val = next(cv.split(np.zeros((n, 1)), y))
        if not np.any(sample_mask[idx_val]):
            raise ValueError("The sample weights for validation set are all zero, consider "
                             "using a different random state.")
        if idx_train.shape[0] == 0 or idx_val.shape[0] == 0:
            raise ValueError(
                "Splitting %d samples into a train set and a validation set with "
                "validation_fraction=%r led to an empty set (%d and %d samples). Please "
                "either change validation_fraction, increase number of samples, or disable "
                "early_stopping." % (n, self.validation_fraction, idx_train.shape[0],
                                     idx_val.shape[0]))
        mask[idx_val] = True
        return mask

    def _tasks(self, y, sw, cw, net):
        """The binary problems: scikit-learn's class weights, validation split and shuffling
        seeds, drawn from ``random_state`` in scikit-learn's order."""
        classes_ = self.classes_
        W, b = net.model.weights[0], net.model.biases[0]
        if len(classes_) == 2:
            rs = check_random_state(self.random_state)
            rs.randint(1, MAX_INT)                     # scikit-learn's dataset seed
            mask = self._validation_mask(np.where(y == classes_[1], 1.0, -1.0), sw > 0)
            jobs = [(0, classes_[1], cw[1], cw[0], int(rs.randint(MAX_INT)))]
        else:
            mask = self._validation_mask(y, sw > 0)
            seeds = check_random_state(self.random_state).randint(MAX_INT,
                                                                  size=len(classes_))
            jobs = []
            for k, seed in enumerate(seeds):
                rs = check_random_state(seed)
                rs.randint(1, MAX_INT)
                jobs.append((k, classes_[k], cw[k], 1.0, int(rs.randint(MAX_INT))))
        tasks = []
        for k, positive, w_pos, w_neg, seed in jobs:
            yk = np.where(y == positive, 1.0, -1.0)
            c = np.where(yk > 0, w_pos, w_neg) * sw
            tasks.append(BinaryTask(k, yk, c, sw, W[:, k].astype(np.float64), float(b[k]),
                                    seed, train=~mask if self.early_stopping else None))
        return tasks

    def _rule(self, max_iter, sparse):
        return SGDRule(
            loss=self.loss, eta0=float(self.eta0), penalty=self.penalty,
            alpha=float(self.alpha), l1_ratio=float(self.l1_ratio),
            fit_intercept=bool(self.fit_intercept), max_iter=int(max_iter),
            tol=None if self.tol is None else float(self.tol),
            n_iter_no_change=int(self.n_iter_no_change),
            early_stopping=bool(self.early_stopping), shuffle=bool(self.shuffle),
            batch_size=int(self.batch_size),
            intercept_decay=SPARSE_INTERCEPT_DECAY if sparse else 1.0,
            verbose=int(self.verbose))

    score = reads(ClassifierMixin.score)

    def _fastmlp_tags(self):
        tags = super()._fastmlp_tags()
        why = "sample_weight is not equivalent to removing/repeating samples."
        tags["xfail"] = {"check_sample_weight_equivalence_on_dense_data": why,
                         "check_sample_weight_equivalence_on_sparse_data": why}
        return tags

    def __sklearn_tags__(self):
        return self._with_fastmlp_tags(super().__sklearn_tags__())

    def _expected_failed_checks(self):
        """scikit-learn checks this estimator is known to fail, with the reason: the two
        scikit-learn's own Perceptron is expected to fail (online SGD visits samples one at a
        time in a shuffled order, so a sample of weight 2 is one step of twice the size, not
        two steps at different points of the epoch)."""
        return dict(self._fastmlp_tags()["xfail"])
