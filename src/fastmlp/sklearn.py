"""scikit-learn estimators backed by fastmlp's C engine.

``MLPClassifier`` and ``MLPRegressor`` take the parameters of
:mod:`sklearn.neural_network` with the same meaning, and ``Perceptron`` those of
:class:`sklearn.linear_model.Perceptron` that apply to a single layer of neurons. All three
train through :class:`fastmlp._core.Engine` (whole epochs in C, GIL released) and expose the
fitted attributes scikit-learn names (``coefs_``, ``intercepts_``, ``loss_curve_``, ...).

scikit-learn is an optional dependency of fastmlp: it is imported here and nowhere else.

How scikit-learn's conventions map onto the engine
--------------------------------------------------
* **Loss scaling.** scikit-learn's gradient of every MLP loss is ``(a^L - y) / n`` plus
  ``alpha * W / n`` (``n`` = samples in the batch, or the sum of their weights). The engine's
  cross-entropy (softmax) and logistic losses (one linear output per class, targets +-1,
  ``log(1 + e^{-y z})`` = binary log-loss of ``sigmoid(z)``) have exactly that gradient;
  fastmlp's square loss is ``sum_j (y_j - a_j)^2``, twice scikit-learn's ``squared_error``
  gradient, so the regressor trains with the engine's learning rate halved (SGD) or Adam's
  epsilon doubled, and ``weight_decay = 2 * alpha / n``. The result is the same update.
  ``loss_curve_`` is reported in scikit-learn's units (``0.5 * mean`` of squared errors).
* **L2.** ``alpha`` becomes the engine's ``weight_decay = alpha / batch_size`` (times the loss
  scale above), recomputed for the short last batch of an epoch, which the estimator trains as
  a separate step.
* **Momentum.** scikit-learn keeps ``v <- mu v - lr g``; the engine ``v <- mu v + g``,
  ``theta -= lr v``. They coincide while ``lr`` is constant; when ``invscaling`` or
  ``adaptive`` changes ``lr`` between epochs, the engine's velocity is rescaled by
  ``lr_old / lr_new`` so the two stay the same method.
* **Adam.** scikit-learn adds ``epsilon`` to ``sqrt(v)`` and folds the bias corrections into
  the step size; the estimator uses the engine's Adam in that same ordering (kind 2), so
  Adam runs coincide too.
* **sample_weight** (scikit-learn >= 1.7 semantics: per batch, ``delta^L`` rows times
  ``w_i``, divided by ``sum(w)`` of the batch, and ``alpha / sum(w)``): constant weights use
  the whole-epoch C path with ``weight_decay`` rescaled. Other weights run batch by batch:
  ``Engine.forward``, then the row-scaled ``delta^L`` -- for a linear output from
  ``_core.loss`` rows times ``c_i = n_b w_i / sum(w)`` passed as ``backward(grad_output=)``;
  for softmax + cross-entropy as targets ``Y' = P - c_i (P - Y)``, whose fused
  ``(P - Y') / n_b`` is the same thing -- then ``Engine.update``.
* **Threads.** ``n_threads=None`` resolves inside ``fit`` (attribute ``n_threads_``) to the
  smallest of: the engine's OpenMP default (which honours ``OMP_NUM_THREADS`` and
  ``threadpoolctl`` limits), ``OMP_NUM_THREADS`` read at fit time (joblib's loky workers get
  ``cpu_count // n_jobs``, so 1 for ``n_jobs=2`` on 2 cores), and, inside a
  ``dask.distributed`` worker, ``cpu_count // (task threads of all workers in this process)``.
"""
from __future__ import annotations

import os
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from scipy.special import expit

from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (check_classification_targets, type_of_target,
                                      unique_labels)
from sklearn.utils.validation import (_check_sample_weight, check_is_fitted, validate_data)

from fastmlp import _core
from fastmlp.activations import canonical_name, get_activation

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron", "resolve_n_threads"]

PRELU_INIT = 0.25          # initial learned slope of PReLU units (He et al. 2015)
LEAKY_ALPHA = 0.01         # fixed slope of Leaky-ReLU units (the engine's default)
PERCEPTRON_SCALE = 1e6     # perceptron criterion = hinge with margin 1/PERCEPTRON_SCALE
_CHUNK = 4096              # rows per engine call in predict / L-BFGS


# ---------------------------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------------------------
def _dask_share():
    """cpu_count // task threads of the dask workers living in this process, or None."""
    try:
        from distributed import get_worker
        from distributed.worker import Worker
        get_worker()
    except Exception:
        return None
    try:
        total = sum(int(w.state.nthreads) for w in list(Worker._instances))
    except Exception:
        total = 1
    return max(1, (os.cpu_count() or 1) // max(total, 1))


def resolve_n_threads(n_threads=None):
    """The OpenMP thread count a fit uses for ``n_threads`` (None: see the module docs)."""
    if n_threads is not None:
        if isinstance(n_threads, bool) or not isinstance(n_threads, Integral) or n_threads < 1:
            raise ValueError(f"n_threads must be None or an int >= 1, got {n_threads!r}")
        return int(n_threads)
    n = _core.get_num_threads()
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        n = min(n, int(env))
    share = _dask_share()
    if share is not None:
        n = min(n, share)
    return max(1, int(n))


# ---------------------------------------------------------------------------------------------
# the shared machinery
# ---------------------------------------------------------------------------------------------
def _row_loss(loss, Y, out):
    """Per-sample cost in the engine's units (numpy; used for sample-weighted losses)."""
    if loss == "square":
        return ((Y - out) ** 2).sum(axis=1)
    if loss == "logistic":
        return np.logaddexp(0.0, -Y * out).sum(axis=1)
    if loss == "cross_entropy":
        return -(Y * np.log(np.clip(out, np.finfo(out.dtype).tiny, None))).sum(axis=1)
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - Y * out).sum(axis=1)
    if loss == "margin":
        cls = np.argmax(Y, axis=1)
        fc = out[np.arange(len(out)), cls][:, None]
        h = np.maximum(0.0, 1.0 + out - fc)
        h[np.arange(len(out)), cls] = 0.0
        return h.sum(axis=1)
    raise ValueError(loss)


class _BaseMLP(BaseEstimator):
    """Common fit machinery. Subclasses define ``_targets``, ``_setup_outputs``, ``_score``."""

    _solvers = ("sgd", "adam", "lbfgs")

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

    # -- parameters ---------------------------------------------------------------------------
    def _check_params(self):
        def num(name, lo, hi=None, lo_open=False, hi_open=False, integral=False):
            v = getattr(self, name)
            ok = isinstance(v, (Integral if integral else Real)) and not isinstance(v, bool)
            if ok:
                ok = (v > lo if lo_open else v >= lo) and (
                    hi is None or (v < hi if hi_open else v <= hi))
            if not ok:
                rng = f"{'(' if lo_open else '['}{lo}, {hi if hi is not None else 'inf'}" \
                      f"{')' if hi_open or hi is None else ']'}"
                raise ValueError(f"The '{name}' parameter of {type(self).__name__} must be "
                                 f"{'an int' if integral else 'a float'} in the range {rng}. "
                                 f"Got {v!r} instead.")
        hidden = self.hidden_layer_sizes
        hidden = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
        if any(isinstance(h, bool) or not isinstance(h, Integral) or h <= 0 for h in hidden):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {self.hidden_layer_sizes}.")
        if get_activation(self.activation).output_only:      # names: fastmlp.activations
            raise ValueError(f"activation {self.activation!r} is for the output layer only; "
                             f"the hidden layers need an element-wise activation")
        if self.solver not in self._solvers:
            raise ValueError(f"The 'solver' parameter must be one of {self._solvers}. "
                             f"Got {self.solver!r} instead.")
        if not (self.batch_size == "auto" or (isinstance(self.batch_size, Integral)
                                              and not isinstance(self.batch_size, bool)
                                              and self.batch_size >= 1)):
            raise ValueError(f"The 'batch_size' parameter must be 'auto' or an int >= 1. "
                             f"Got {self.batch_size!r} instead.")
        if self.learning_rate not in ("constant", "invscaling", "adaptive"):
            raise ValueError(f"The 'learning_rate' parameter must be one of 'constant', "
                             f"'invscaling', 'adaptive'. Got {self.learning_rate!r} instead.")
        num("alpha", 0)
        num("learning_rate_init", 0, lo_open=True)
        num("power_t", 0)
        num("max_iter", 1, integral=True)
        num("tol", 0)
        num("momentum", 0, 1)
        num("validation_fraction", 0, 1, hi_open=True)
        num("beta_1", 0, 1, hi_open=True)
        num("beta_2", 0, 1, hi_open=True)
        num("epsilon", 0, lo_open=True)
        num("max_fun", 1, integral=True)
        num("restarts", 1, integral=True)
        if not (self.n_iter_no_change == np.inf or (
                isinstance(self.n_iter_no_change, Integral) and self.n_iter_no_change >= 1)):
            raise ValueError(f"The 'n_iter_no_change' parameter must be an int >= 1 or "
                             f"numpy.inf. Got {self.n_iter_no_change!r} instead.")
        if self.dtype not in (None, "float32", "float64", np.float32, np.float64):
            try:
                ok = np.dtype(self.dtype) in (np.float32, np.float64)
            except TypeError:
                ok = False
            if not ok:
                raise ValueError(f"dtype must be None, 'float32' or 'float64', got "
                                 f"{self.dtype!r}")
        resolve_n_threads(self.n_threads)
        return hidden

    # -- engine state -------------------------------------------------------------------------
    def _make_engine(self, plan, theta=None):
        eng = _core.Engine(plan["sizes"], plan["acts"], plan["loss"], dtype=plan["dtype"],
                           leaky=LEAKY_ALPHA, max_batch=1)
        if theta is not None:
            eng.theta[:] = theta
        self._engine = eng
        self._expose()
        return eng

    def _expose(self):
        """Point coefs_/intercepts_ (and alphas_ for PReLU) at views of the engine's theta."""
        eng = self._engine
        self.coefs_ = eng.weights()
        self.intercepts_ = eng.biases()
        self._view_ids = [id(a) for a in self.coefs_ + self.intercepts_]
        if "prelu" in self._plan["acts"]:
            self.alphas_ = eng.alphas()
            self._view_ids += [id(a) for a in self.alphas_ if a is not None]

    def _sync(self):
        """Make the engine hold what coefs_/intercepts_ say (a user may have assigned new
        arrays, e.g. to start from given weights), rebuilding it after unpickling."""
        eng = getattr(self, "_engine", None)
        lists = [self.coefs_, self.intercepts_]
        if "prelu" in self._plan["acts"]:
            lists.append([a for a in self.alphas_ if a is not None])
        current = [a for lst in lists for a in lst]
        if eng is not None and [id(a) for a in current] == self._view_ids:
            return eng
        sizes = self._plan["sizes"]
        if len(self.coefs_) != len(sizes) - 1:
            raise ValueError(f"coefs_ must hold {len(sizes) - 1} arrays, got {len(self.coefs_)}")
        new = _core.Engine(self._plan["sizes"], self._plan["acts"], self._plan["loss"],
                           dtype=self._plan["dtype"], leaky=LEAKY_ALPHA, max_batch=1)
        for dst, src in zip(new.weights() + new.biases(), self.coefs_ + self.intercepts_):
            src = np.asarray(src)
            if src.shape != dst.shape:
                raise ValueError(f"a coefs_/intercepts_ entry has shape {src.shape}, the "
                                 f"network needs {dst.shape}")
            dst[...] = src
        if "prelu" in self._plan["acts"]:
            for dst, src in zip(new.alphas(), self.alphas_):
                if dst is not None:
                    dst[...] = np.asarray(src)
        self._engine = new
        self._expose()
        return new

    def __getstate__(self):
        state = super().__getstate__()
        state = dict(state)
        state.pop("_engine", None)
        for k in ("coefs_", "intercepts_", "alphas_"):
            if k in state:
                state[k] = [None if a is None else np.array(a) for a in state[k]]
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "coefs_" in state:
            self._view_ids = []
            self._engine = None
            self._sync()

    # -- data ---------------------------------------------------------------------------------
    def _float_dtype(self, X):
        if self.dtype is None:
            return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        return np.dtype(self.dtype)

    def _prep_X(self, X):
        if sp.issparse(X):
            X = X.toarray()
        return np.ascontiguousarray(X, dtype=self._plan["dtype"])

    def _output(self, X):
        """a^L for X (already validated), computed in chunks by the engine."""
        eng = self._sync()
        X = self._prep_X(X)
        if X.shape[0] == 0:
            return np.empty((0, self._plan["sizes"][-1]), dtype=X.dtype)
        return eng.predict(X, n_threads=resolve_n_threads(self.n_threads), chunk=_CHUNK)

    def _alpha(self):
        return float(self.alpha)

    def _tol(self):
        return float(self.tol)

    # -- optimiser ----------------------------------------------------------------------------
    def _spec(self, lr, wd, t):
        s = self._plan["gscale"]
        if self.solver == "adam":
            # scikit-learn's Adam: eps added to sqrt(v), bias corrections in the step size
            # (the engine's kind 2); a gradient scaled by s needs eps scaled by s
            return (2, float(lr), 0.0, False, float(s * wd), float(self.beta_1),
                    float(self.beta_2), float(s * self.epsilon), int(t))
        return (0, float(lr / s), float(self.momentum),
                bool(self.nesterovs_momentum), float(s * wd), 0.0, 0.0, 0.0, int(t))

    def _reset_optimizer(self):
        n = self._engine.n_params
        dt = self._plan["dtype"]
        self._opt_t = 0
        self._lr = float(self.learning_rate_init)
        self._lr_prev = self._lr
        self._s1 = np.zeros(n, dtype=dt) if (self.solver == "adam" or self.momentum) else None
        self._s2 = np.zeros(n, dtype=dt) if self.solver == "adam" else None

    def _rescale_velocity(self):
        if self.solver == "sgd" and self._s1 is not None and self._lr != self._lr_prev:
            self._s1 *= self._lr_prev / self._lr
        self._lr_prev = self._lr

    # -- one epoch ----------------------------------------------------------------------------
    def _epoch(self, X, Y, sw, B, nt):
        """Train one epoch; returns the mean loss in the engine's units (no L2 term)."""
        eng = self._engine
        n = X.shape[0]
        seed, ep = self._seed, self._epoch_counter
        self._epoch_counter += 1
        self._rescale_velocity()
        const = sw is None or np.all(sw == sw[0])
        c = 1.0 if sw is None else float(sw[0])
        if const and c > 0:
            nfull, rem = divmod(n, B)
            spec = self._spec(self._lr, self._alpha() / (B * c), self._opt_t)
            losses, t, diverged = eng.train_epochs(
                X, Y, B, 1, spec, self._s1, self._s2, shuffle=bool(self.shuffle),
                seed=seed, epoch0=ep, drop_last=True, n_threads=nt)
            if diverged:
                self._diverged()
            self._opt_t = t
            total = float(losses[0]) * nfull * B
            if rem:
                idx = (_core.permutation(seed, ep, n)[nfull * B:] if self.shuffle
                       else np.arange(nfull * B, n))
                spec = self._spec(self._lr, self._alpha() / (rem * c), self._opt_t)
                try:
                    val, t = eng.train_step(X[idx], Y[idx], spec, self._s1, self._s2,
                                            n_threads=nt)
                except FloatingPointError:
                    self._diverged()
                self._opt_t = t
                total += val * rem
            return total / n
        order = _core.permutation(seed, ep, n) if self.shuffle else np.arange(n)
        total = 0.0
        for start in range(0, n, B):
            idx = order[start:start + B]
            val, S = self._weighted_grad(X[idx], Y[idx], sw[idx], nt)
            if S <= 0:
                continue
            if not np.isfinite(val) or not np.all(np.isfinite(eng.grad)):
                self._diverged()
            spec = self._spec(self._lr, self._alpha() / S, self._opt_t)
            self._opt_t = eng.update(spec, self._s1, self._s2, n_threads=nt)
            total += val * len(idx)
        return total / n

    def _weighted_grad(self, Xb, Yb, wb, nt):
        """Fill engine.grad with the sample-weighted batch gradient (no L2 term); returns
        (weighted mean loss, sum of weights) in the engine's units."""
        eng = self._engine
        S = float(wb.sum())
        out = eng.forward(Xb, n_threads=nt)
        if S <= 0:
            return 0.0, S
        cw = (wb * (len(wb) / S)).astype(out.dtype)[:, None]
        loss = self._plan["loss"]
        if self._plan["acts"][-1] == "softmax":
            eng.backward(Xb, Y=np.ascontiguousarray(out - cw * (out - Yb)), n_threads=nt)
        else:
            _, delta = _core.loss(loss, self._plan["acts"][-1], Yb, out, out,
                                  leaky=LEAKY_ALPHA, n_threads=nt)
            eng.backward(Xb, grad_output=np.ascontiguousarray(delta * cw), n_threads=nt)
        with np.errstate(over="ignore", invalid="ignore"):   # divergence is checked by the caller
            val = float(wb @ _row_loss(loss, Yb.astype(np.float64), out.astype(np.float64))) / S
        return val, S

    def _diverged(self):
        raise ValueError("Solver produced non-finite parameter weights. The input data may "
                         "contain large values and need to be preprocessed.")

    def _sq_weights(self):
        w = self._engine.theta[:self._engine.n_weights]
        with np.errstate(over="ignore"):   # a diverged fit is reported by the caller
            return float(np.dot(w, w))

    def _report_loss(self, engine_loss, n_batches, n, sq_start):
        """scikit-learn's loss: data loss in its units + 0.5 alpha ||W||^2 / batch size for
        each batch, weighted by its size. The engine runs the epoch in one call, so ||W||^2
        is the mean of its values at the start and end of the epoch (scikit-learn takes it
        before each batch): exact for alpha = 0, close otherwise."""
        sq = 0.5 * (sq_start + self._sq_weights())
        return engine_loss * self._plan["lscale"] + 0.5 * self._alpha() * sq * n_batches / n

    # -- fit ----------------------------------------------------------------------------------
    def _validate_y(self, y, incremental, first_pass, classes=None):
        return y

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        hidden = self._check_params()
        if incremental and self.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic optimizers. "
                                 "lbfgs is not stochastic.")
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=first_pass,
                             y_numeric=not is_classifier(self))
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        Y = self._validate_y(y, incremental, first_pass, classes)
        self.n_threads_ = nt = resolve_n_threads(self.n_threads)
        self._random_state = rs = check_random_state(self.random_state)
        if first_pass:
            dtype = self._float_dtype(X)
            plan = self._setup_outputs(Y, dtype)
            plan["sizes"] = [X.shape[1]] + hidden + [plan["n_out"]]
            plan["acts"] = [canonical_name(self.activation)] * len(hidden) + [plan["out_act"]]
            plan["dtype"] = dtype
            self._plan = plan
            self.n_outputs_ = plan["n_out"] if is_classifier(self) else Y.shape[1]
            self.n_layers_ = len(plan["sizes"])
            self.out_activation_ = plan["out_name"]
        elif list(self._plan["sizes"][1:-1]) != hidden:
            raise ValueError(f"hidden_layer_sizes changed from {self._plan['sizes'][1:-1]} to "
                             f"{hidden}; refit with warm_start=False")
        Yt = np.ascontiguousarray(self._encode(Y), dtype=self._plan["dtype"])
        X = self._prep_X(X)

        if first_pass:
            self.n_iter_ = 0
            self.t_ = 0
            best = None
            for r in range(self.restarts):
                self._init_weights(rs)
                self._start_run(first=True)
                self._run(X, Yt, sample_weight, incremental, nt)
                key = self._run_quality()
                if self.restarts > 1 and self.verbose:
                    print(f"Restart {r + 1}/{self.restarts}: "
                          f"{'validation score' if self.early_stopping else 'loss'} = {key:.8f}")
                if best is None or key > best[0]:
                    best = (key, self._snapshot())
                if r + 1 < self.restarts:
                    self.n_iter_ = 0
                    self.t_ = 0
            self._restore_snapshot(best[1])
        else:
            self._sync()
            self._start_run(first=False, incremental=incremental)
            self._run(X, Yt, sample_weight, incremental, nt)
        return self

    def _run_quality(self):
        if self.solver == "lbfgs":
            return -self.loss_
        if self.early_stopping:
            return self.best_validation_score_
        return -(self.loss_curve_[-1] if self.loss_curve_ else np.inf)

    def _snapshot(self):
        d = {k: getattr(self, k) for k in ("n_iter_", "t_", "loss_", "loss_curve_",
                                           "best_loss_", "validation_scores_",
                                           "best_validation_score_", "_opt_t", "_lr",
                                           "_lr_prev", "_s1", "_s2", "_no_improvement_count",
                                           "_seed", "_epoch_counter") if hasattr(self, k)}
        d["_theta"] = self._engine.theta.copy()
        return d

    def _restore_snapshot(self, d):
        for k, v in d.items():
            if k != "_theta":
                setattr(self, k, v)
        self._engine.theta[:] = d["_theta"]

    def _init_weights(self, rs):
        """Glorot-uniform init drawn exactly as scikit-learn draws it (same random_state ->
        same initial coefs_ and intercepts_)."""
        plan = self._plan
        eng = self._make_engine(plan)
        factor = 2.0 if canonical_name(self.activation) == "sigmoid" else 6.0
        sizes = plan["sizes"]
        for l, (W, b) in enumerate(zip(eng.weights(), eng.biases())):
            bound = np.sqrt(factor / (sizes[l] + sizes[l + 1]))
            W[...] = rs.uniform(-bound, bound, (sizes[l], sizes[l + 1]))
            b[...] = rs.uniform(-bound, bound, sizes[l + 1])
        for a in eng.alphas():
            if a is not None:
                a[...] = PRELU_INIT

    def _start_run(self, first, incremental=False):
        if first or not incremental or not hasattr(self, "_lr"):
            self._reset_optimizer()
        if first:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None
            self._epoch_counter = 0
            self._seed = None
        if not incremental:
            self._seed = None           # drawn after the validation split, as scikit-learn
        if self.solver == "lbfgs":
            for k in ("loss_curve_", "best_loss_", "validation_scores_",
                      "best_validation_score_"):
                if k in vars(self):
                    delattr(self, k)

    def _run(self, X, Y, sw, incremental, nt):
        if self.solver == "lbfgs":
            return self._run_lbfgs(X, Y, sw, nt)
        return self._run_stochastic(X, Y, sw, incremental, nt)

    def _run_stochastic(self, X, Y, sw, incremental, nt):
        early = self.early_stopping
        if early:
            stratify = self._stratify_labels(Y)
            parts = train_test_split(X, Y, *(() if sw is None else (sw,)),
                                     random_state=self._random_state,
                                     test_size=self.validation_fraction, stratify=stratify)
            X_tr, X_val, Y_tr, Y_val = parts[:4]
            sw_tr, sw_val = (parts[4], parts[5]) if sw is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            y_val = self._decode_targets(Y_val)
            self._best_theta = self._engine.theta.copy()
        else:
            X_tr, Y_tr, sw_tr = X, Y, sw
        if self._seed is None:
            # the engine's shuffling seed, from random_state after the init and the split
            self._seed = int(self._random_state.randint(0, 2 ** 62))
        X_tr = np.ascontiguousarray(X_tr)
        Y_tr = np.ascontiguousarray(Y_tr)
        n = X_tr.shape[0]
        if self.batch_size == "auto":
            B = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is "
                              "going to be clipped")
            B = int(np.clip(self.batch_size, 1, n))
        n_batches = -(-n // B)
        tol = self._tol()
        self.n_iter_ = 0
        for _ in range(self.max_iter):
            sq_start = self._sq_weights()
            eloss = self._epoch(X_tr, Y_tr, sw_tr, B, nt)
            self.n_iter_ += 1
            self.loss_ = self._report_loss(eloss, n_batches, n, sq_start)
            self.t_ += n
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
            if early:
                score = self._score_arrays(X_val, y_val, sw_val)
                self.validation_scores_.append(score)
                if self.verbose:
                    print("Validation score: %f" % score)
                if score < self.best_validation_score_ + tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                if score > self.best_validation_score_:
                    self.best_validation_score_ = score
                    self._best_theta = self._engine.theta.copy()
            else:
                if self.loss_curve_[-1] > self.best_loss_ - tol:
                    self._no_improvement_count += 1
                else:
                    self._no_improvement_count = 0
                if self.loss_curve_[-1] < self.best_loss_:
                    self.best_loss_ = self.loss_curve_[-1]
            if self.solver == "sgd" and self.learning_rate == "invscaling":
                self._lr = float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t
            if self._no_improvement_count > self.n_iter_no_change:
                what = "Validation score" if early else "Training loss"
                msg = (f"{what} did not improve more than tol={tol:f} for "
                       f"{self.n_iter_no_change} consecutive epochs.")
                if self.solver == "sgd" and self.learning_rate == "adaptive":
                    if self._lr <= 1e-6:
                        if self.verbose:
                            print(msg + " Learning rate too small. Stopping.")
                        break
                    self._lr /= 5.0
                    if self.verbose:
                        print(msg + " Setting learning rate to %f" % self._lr)
                    self._no_improvement_count = 0
                else:
                    if self.verbose:
                        print(msg + " Stopping.")
                    break
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                              "optimization hasn't converged yet." % self.max_iter,
                              ConvergenceWarning)
        if early:
            self._engine.theta[:] = self._best_theta

    def _run_lbfgs(self, X, Y, sw, nt):
        eng = self._engine
        n = X.shape[0]
        w = np.ones(n) if sw is None else sw
        W_count = eng.n_weights
        # loss and gradient in scikit-learn's units (1/gscale of the engine's), consistent
        lscale = 1.0 / self._plan["gscale"]
        alpha = self._alpha()
        S_total = float(w.sum())
        if S_total <= 0:
            raise ValueError("sample_weight must not sum to zero")
        grad_acc = np.zeros(eng.n_params)

        def fun(theta):
            eng.theta[:] = theta
            grad_acc[:] = 0
            total = 0.0
            for start in range(0, n, _CHUNK):
                sl = slice(start, start + _CHUNK)
                if sw is None:
                    eng.forward(X[sl], n_threads=nt)
                    val = eng.backward(X[sl], Y=Y[sl], n_threads=nt)
                    S = float(min(n, start + _CHUNK) - start)
                else:
                    val, S = self._weighted_grad(X[sl], Y[sl], w[sl], nt)
                    if S <= 0:
                        continue
                total += val * S
                grad_acc[:] += eng.grad * S
            Wv = eng.theta[:W_count].astype(np.float64)
            loss = total / S_total * lscale + 0.5 * alpha * float(Wv @ Wv) / S_total
            g = grad_acc / S_total * lscale
            g[:W_count] += alpha * Wv / S_total
            return loss, g

        x0 = eng.theta.astype(np.float64)
        res = scipy.optimize.minimize(
            fun, x0, method="L-BFGS-B", jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol})
        self.n_iter_ = int(getattr(res, "nit", 0))
        if res.status == 1 or self.n_iter_ >= self.max_iter:
            warnings.warn(f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                          f"(status={res.status}): {res.message}", ConvergenceWarning)
        self.loss_ = float(res.fun)
        if not np.all(np.isfinite(res.x)):
            self._diverged()
        eng.theta[:] = res.x
        self.t_ += n * self.n_iter_

    def _stratify_labels(self, Y):
        return None     # regression: no stratified split

    def _score_arrays(self, X, y, sw):
        pred = self._predict_validated(X)
        if np.issubdtype(np.asarray(pred).dtype, np.floating) and not np.isfinite(pred).all():
            return np.nan
        return self._score_fn(y, pred, sample_weight=sw)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


# ---------------------------------------------------------------------------------------------
# MLPClassifier
# ---------------------------------------------------------------------------------------------
_CLF_LOSSES = (None, "log_loss", "cross_entropy", "logistic", "hinge", "square", "margin")


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier trained by fastmlp's C engine.

    Parameters are those of :class:`sklearn.neural_network.MLPClassifier`, with the same
    meaning (``activation`` also takes the chapter's ``step``, ``sign``, ``piecewise_linear``,
    ``leaky_relu``, ``prelu``, ``sigmoid`` and ``linear``), plus fastmlp's own:

    loss : {None, 'log_loss', 'cross_entropy', 'logistic', 'hinge', 'square', 'margin'}
        None / 'log_loss': scikit-learn's choice -- softmax + cross entropy for multi-class,
        one logistic output per label (binary, multi-label). 'cross_entropy' forces a softmax
        output (two units for a binary problem); 'logistic', 'hinge' and 'square' train one
        linear output per class (one for a binary problem) against +-1 targets; 'margin' is
        the multi-class large-margin loss on linear outputs. ``predict_proba`` exists for the
        log-loss family only.
    restarts : int, default=1
        Train from this many random starting points (drawn in turn from ``random_state``)
        and keep the best (lowest final training loss, or best validation score with
        ``early_stopping``).
    n_threads : int or None
        OpenMP threads of the engine; None resolves inside fit (see ``n_threads_`` and the
        module docs).
    dtype : None, 'float32' or 'float64'
        None follows the input's float dtype (float32 stays float32; anything else float64).
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant",
                 learning_rate_init=0.001, power_t=0.5, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1,
                 beta_1=0.9, beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000,
                 loss=None, restarts=1, n_threads=None, dtype=None):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes, activation=activation, solver=solver,
            alpha=alpha, batch_size=batch_size, learning_rate=learning_rate,
            learning_rate_init=learning_rate_init, power_t=power_t, max_iter=max_iter,
            shuffle=shuffle, random_state=random_state, tol=tol, verbose=verbose,
            warm_start=warm_start, momentum=momentum, nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, n_iter_no_change=n_iter_no_change,
            max_fun=max_fun, loss=loss, restarts=restarts, n_threads=n_threads, dtype=dtype)

    _score_fn = staticmethod(accuracy_score)

    def _check_params(self):
        if self.loss not in _CLF_LOSSES:
            raise ValueError(f"The 'loss' parameter of MLPClassifier must be one of "
                             f"{_CLF_LOSSES}. Got {self.loss!r} instead.")
        return super()._check_params()

    def _validate_y(self, y, incremental, first_pass, classes=None):
        check_classification_targets(y)
        if first_pass and not incremental:
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        elif first_pass and incremental:
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
            self.classes_ = self._label_binarizer.classes_
        else:
            labels = unique_labels(y)
            if self.warm_start and not incremental:
                if set(labels) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the "
                        f"previous call to fit. Previously got {self.classes_}, `y` has "
                        f"{labels}")
            elif len(np.setdiff1d(labels, self.classes_, assume_unique=True)):
                raise ValueError("`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {labels}.")
        Y = self._label_binarizer.transform(y).astype(np.float64)
        return Y

    def _setup_outputs(self, Y, dtype):
        k = Y.shape[1]
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        loss = self.loss
        if loss in (None, "log_loss"):
            loss = "cross_entropy" if multiclass else "logistic"
        n_out = k
        if loss in ("cross_entropy", "margin") and k == 1:
            n_out = 2                             # binary problem on two units
        if loss in ("cross_entropy", "margin") and self._label_binarizer.y_type_.startswith(
                "multilabel"):
            raise ValueError(f"loss={self.loss!r} needs one label per sample; use 'logistic', "
                             f"'hinge' or 'square' for multi-label targets")
        out_act = "softmax" if loss == "cross_entropy" else "linear"
        out_name = {"cross_entropy": "softmax", "logistic": "logistic"}.get(loss, "identity")
        return {"loss": loss, "n_out": n_out, "out_act": out_act, "out_name": out_name,
                "gscale": 1.0, "lscale": 1.0}

    def _encode(self, Y):
        """0/1 indicator (from the label binariser) -> the engine's targets."""
        loss = self._plan["loss"]
        if self._plan["n_out"] == 2 and Y.shape[1] == 1:
            Y = np.hstack([1.0 - Y, Y])
        if loss in ("logistic", "hinge", "square"):
            return 2.0 * Y - 1.0
        return Y

    def _decode_targets(self, Yt):
        """The engine's targets (0/1, +-1 or +-scale indicators) back to labels."""
        ind = (Yt > 0).astype(np.int64)
        if self._plan["n_out"] == 2 and self._label_binarizer.y_type_ == "binary":
            ind = ind[:, 1:]
        return self._label_binarizer.inverse_transform(ind)

    def _stratify_labels(self, Y):
        # as scikit-learn: stratified validation split for a binary problem only
        return Y if self._label_binarizer.y_type_ == "binary" else None

    def _scores(self, X):
        return self._output(X)

    def _predict_validated(self, X):
        out = self._output(X)
        lb = self._label_binarizer
        if self._plan["n_out"] == 2 and len(self.classes_) <= 2 and lb.y_type_ == "binary":
            ind = (out[:, 1] > out[:, 0]).astype(np.int64)[:, None]
            return lb.inverse_transform(ind)
        if lb.y_type_ == "multiclass":
            return lb.inverse_transform(out)
        thr = 0.5 if self._plan["out_act"] == "softmax" else 0.0
        return lb.inverse_transform((out > thr).astype(np.int64))

    def predict(self, X):
        """Predict class labels (or label indicators for multi-label targets)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                          dtype=(np.float64, np.float32))
        return self._predict_validated(X)

    def _has_proba(self):
        return self.loss in (None, "log_loss", "cross_entropy", "logistic")

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities: softmax outputs, or sigmoid of the logistic outputs (binary:
        two columns; multi-label: one per label; multi-class logistic: normalised)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                          dtype=(np.float64, np.float32))
        out = self._output(X)
        if self._plan["out_act"] == "softmax":
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

    def _check_solver(self):
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True

    @available_if(_check_solver)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y); ``classes`` is required on the first call."""
        first = not hasattr(self, "classes_")
        if first:
            if classes is None and not type_of_target(y).startswith("multilabel"):
                raise ValueError("classes must be passed on the first call to partial_fit.")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"`classes={classes!r}` is not the same as on last call to "
                             f"partial_fit, was: {self.classes_!r}")
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


# ---------------------------------------------------------------------------------------------
# MLPRegressor
# ---------------------------------------------------------------------------------------------
class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor trained by fastmlp's C engine.

    Parameters are those of :class:`sklearn.neural_network.MLPRegressor` (``loss`` is
    'squared_error', scikit-learn's ``0.5 * mean`` squared error, or fastmlp's 'square',
    the chapter's ``sum_j (y_j - f_j)^2`` per sample; 'poisson' is not supported), plus
    ``restarts``, ``n_threads`` and ``dtype`` as in :class:`MLPClassifier`. Multi-output
    targets train one linear output unit per target.
    """

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

    _score_fn = staticmethod(r2_score)

    def _check_params(self):
        if self.loss not in ("squared_error", "square"):
            raise ValueError(f"The 'loss' parameter of MLPRegressor must be 'squared_error' or "
                             f"'square'. Got {self.loss!r} instead.")
        return super()._check_params()

    def _validate_y(self, y, incremental, first_pass, classes=None):
        y = np.asarray(y, dtype=np.float64)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _setup_outputs(self, Y, dtype):
        m = Y.shape[1]
        sk = self.loss == "squared_error"
        # engine square loss = sum_j (y - a)^2 per sample: gradient 2x scikit-learn's,
        # value 2m x scikit-learn's 0.5 * mean over all entries
        return {"loss": "square", "n_out": m, "out_act": "linear", "out_name": "identity",
                "gscale": 2.0 if sk else 1.0, "lscale": 1.0 / (2.0 * m) if sk else 1.0}

    def _encode(self, Y):
        return Y

    def _decode_targets(self, Yt):
        return Yt[:, 0] if Yt.shape[1] == 1 else Yt

    def _predict_validated(self, X):
        out = self._output(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                          dtype=(np.float64, np.float32))
        return self._predict_validated(X)

    def fit(self, X, y, sample_weight=None):
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True

    @available_if(_check_solver)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)


# ---------------------------------------------------------------------------------------------
# Perceptron
# ---------------------------------------------------------------------------------------------
class Perceptron(MLPClassifier):
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

    # the MLP machinery's fixed settings for a single layer trained by plain SGD
    hidden_layer_sizes = ()
    solver = "sgd"
    learning_rate = "constant"
    power_t = 0.5
    momentum = 0.0
    nesterovs_momentum = False
    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-8
    max_fun = 15000
    restarts = 1

    @property
    def learning_rate_init(self):
        return self.eta0

    def _alpha(self):
        # scikit-learn's SGD adds alpha * W per sample; the MLP machinery divides by the batch
        return float(self.alpha) * (self.batch_size if isinstance(self.batch_size, Integral)
                                    else 1) if self.penalty == "l2" else 0.0

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
        return self._check_common()

    def _tol(self):
        return -np.inf if self.tol is None else float(self.tol)

    def _check_common(self):
        for name, lo in (("alpha", 0), ("max_iter", 1), ("n_iter_no_change", 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, Real) or v < lo:
                raise ValueError(f"{name} must be >= {lo}, got {v!r}")
        if not (0 < self.validation_fraction < 1):
            raise ValueError(f"validation_fraction must be in (0, 1), got "
                             f"{self.validation_fraction!r}")
        if not (self.batch_size == "auto" or (isinstance(self.batch_size, Integral)
                                              and self.batch_size >= 1)):
            raise ValueError(f"batch_size must be 'auto' or an int >= 1, got "
                             f"{self.batch_size!r}")
        resolve_n_threads(self.n_threads)
        return []

    def _setup_outputs(self, Y, dtype):
        k = Y.shape[1]
        if self._label_binarizer.y_type_.startswith("multilabel"):
            raise ValueError("Perceptron does not support multi-label targets")
        if self.loss == "perceptron":
            g = PERCEPTRON_SCALE
        else:
            g = 1.0
        return {"loss": "hinge", "n_out": k, "out_act": "linear", "out_name": self.activation,
                "gscale": g, "lscale": 1.0 / g}

    def _encode(self, Y):
        return (2.0 * Y - 1.0) * self._plan["gscale"]

    def _init_weights(self, rs):
        self._make_engine(self._plan)          # zeros, as scikit-learn's Perceptron

    def _expose(self):
        super()._expose()
        self.coef_ = self.coefs_[0].T
        self.intercept_ = self.intercepts_[0]

    def _sync(self):
        # coef_ (n_out, n_features) is a transposed view of coefs_[0]; an assigned coef_ or
        # intercept_ wins over the engine's weights
        eng = getattr(self, "_engine", None)
        if eng is not None and hasattr(self, "coef_") and not (
                np.shares_memory(self.coef_, eng.theta)
                and np.shares_memory(self.intercept_, eng.theta)):
            self.coefs_ = [np.asarray(self.coef_, dtype=eng.dtype).T.copy()]
            self.intercepts_ = [np.asarray(self.intercept_, dtype=eng.dtype).copy()]
        return super()._sync()

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("coef_", None)
        state.pop("intercept_", None)
        return state

    def _has_proba(self):
        return False

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
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                          dtype=(np.float64, np.float32))
        out = self._output(X)
        return out[:, 0] if out.shape[1] == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags
