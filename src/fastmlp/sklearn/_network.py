"""What an estimator has fitted, and how it trains: a :class:`fastmlp.MLP` (whose engine
holds the parameters) and the training state that carries over between ``fit`` and
``partial_fit`` calls. Every estimator of this package owns one (composition); the training
itself is :class:`fastmlp.training.Run`, the loop ``MLP.fit`` uses.

How scikit-learn's conventions map onto the engine
--------------------------------------------------
* **Loss scaling.** scikit-learn's gradient of every MLP loss is ``(a^L - y) / n`` plus
  ``alpha * W / n`` (``n`` = samples in the batch, or the sum of their weights). The engine's
  cross-entropy (softmax) and logistic losses have exactly that gradient; fastmlp's square
  loss is ``sum_j (y_j - a_j)^2``, twice scikit-learn's ``squared_error`` gradient: the
  plan's ``gscale`` (2) divides SGD's learning rate and multiplies Adam's epsilon and the L2
  term, which gives the same update. ``loss_curve_`` is in scikit-learn's units
  (``lscale``).
* **L2.** ``alpha`` is the optimiser's ``l2`` term: ``(alpha / S) W`` per batch, S the
  batch's sample count or weight sum (:mod:`fastmlp.optim`), computed by the engine for
  every batch, the short last one included. The linear models' ``alpha`` (SGD's per-step
  decay) is ``weight_decay``.
* **Momentum** is :class:`fastmlp.optim.SGD` with ``lr_in_velocity=True``; **Adam** is
  :class:`fastmlp.optim.Adam` with ``efficient=True``; ``learning_rate='invscaling'`` and
  ``'adaptive'`` are :class:`fastmlp.optim.InverseScaling` (per sample) and
  :class:`fastmlp.optim.Adaptive`; ``tol``/``n_iter_no_change`` is
  :class:`fastmlp.training.NoImprovement`.
* **sample_weight** goes to the engine's whole-epoch C call (weighted batch means).
* **Sparse X** stays sparse (a :class:`fastmlp._core.CSR`): the engine's first layer reads
  CSR rows, in training, prediction and the L-BFGS objective alike.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from .. import _core
from .._names import LEAKY_ALPHA
from ..network import MLP
from ..optim import SGD, Adam, Adaptive, Constant, InverseScaling
from ..training import DivergenceWarning, History, NoImprovement, Run
from ..training.batches import BatchPlan
from ..training import lbfgs
from ..training.loop import warn_user

PRELU_INIT = 0.25          # initial learned slope of PReLU units (He et al. 2015)
CHUNK = 4096               # rows per engine call in predict / L-BFGS


@dataclass
class Plan:
    """The network an estimator builds for its targets."""
    sizes: list
    acts: list             # one per layer 1..L, canonical names
    loss: str              # the engine's loss
    dtype: np.dtype
    gscale: float = 1.0    # engine gradient / scikit-learn gradient
    lscale: float = 1.0    # scikit-learn loss / engine loss


@dataclass
class Settings:
    """How to train, in scikit-learn's terms, independent of any estimator's parameters."""
    solver: str = "sgd"                 # 'sgd', 'adam' or 'lbfgs'
    learning_rate_init: float = 0.001
    learning_rate: str = "constant"     # sgd: 'constant', 'invscaling', 'adaptive'
    power_t: float = 0.5
    momentum: float = 0.0
    nesterov: bool = False
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    alpha: float = 0.0
    alpha_per_batch: bool = True        # MLP: alpha / S per batch; False: alpha per step
    batch_size: object = "auto"
    max_iter: int = 200
    shuffle: bool = True
    tol: float = 1e-4                   # -inf: never stop on the loss
    n_iter_no_change: object = 10
    early_stopping: bool = False
    validation_fraction: float = 0.1
    max_fun: int = 15000


def batch_plan(n, s, warn=False):
    """The estimators' cut of ``n`` rows into batches: ``batch_size='auto'`` is min(200, n);
    a size out of [1, n] is clipped (with scikit-learn's UserWarning when ``warn``)."""
    if s.batch_size == "auto":
        return BatchPlan(n, min(200, n), shuffle=bool(s.shuffle))

    def clipped():
        if warn:
            warn_user("Got `batch_size` less than 1 or larger than sample size. It is "
                      "going to be clipped", UserWarning)
    return BatchPlan.make(n, s.batch_size, shuffle=bool(s.shuffle), on_clip=clipped)


class _ObjectiveInSklearnUnits:
    """An epoch's reported loss: the engine's mean loss in scikit-learn's units plus
    0.5 alpha ||W||^2 / batch size for each batch, weighted by its size. The engine runs the
    epoch in one call, so ||W||^2 is the mean of its values at the start and the end of the
    epoch (scikit-learn takes it before each batch): exact for alpha = 0, close otherwise."""

    def __init__(self, net, alpha, n_batches, n):
        self.net, self.alpha, self.n_batches, self.n = net, alpha, n_batches, n
        # one view of W for the run's epochs, dropped when the run ends (release)
        self.w = net.engine.theta[:net.engine.n_weights]
        self.sq = self._sq()

    def _sq(self):
        with np.errstate(over="ignore"):
            return float(np.dot(self.w, self.w))

    def release(self):
        self.w = None

    def __call__(self, engine_loss):
        sq_end = self._sq()
        sq = 0.5 * (self.sq + sq_end)
        self.sq = sq_end
        return (engine_loss * self.net.plan.lscale
                + 0.5 * self.alpha * sq * self.n_batches / self.n)


class _Printer:
    """scikit-learn's verbose lines (after the stopping rule, so it can say it stopped)."""

    def __init__(self, validation, stopper, s):
        self.validation = validation
        self.stopper, self.s = stopper, s
        self.i = 0

    def on_epoch_end(self, epoch, logs):
        self.i += 1
        print("Iteration %d, loss = %.8f" % (self.i, logs["loss"]))
        if self.validation:
            print("Validation score: %f" % logs["val_score"])
        if self.stopper.stopped:
            what = "Validation score" if self.validation else "Training loss"
            print("%s did not improve more than tol=%f for %d consecutive epochs. Stopping."
                  % (what, self.s.tol, self.s.n_iter_no_change))
        return False


class Network:
    """The fitted network of an estimator and its training state."""

    def __init__(self, plan, n_threads=None):
        self.plan = plan
        self.model = MLP(plan.sizes, activation=list(plan.acts[:-1]), output=plan.acts[-1],
                         loss=plan.loss, dtype=plan.dtype, seed=0, leaky_alpha=LEAKY_ALPHA,
                         prelu_init=PRELU_INIT, n_threads=n_threads)
        self.reset_training()

    @property
    def engine(self):
        return self.model.engine

    def reset_training(self):
        self.optimizer = None
        self.schedule = None
        self.stopper = None
        self.seed = None
        self.shuffle_rs = None      # scikit-learn's shuffling stream (a RandomState)
        self.epoch = 0

    def __deepcopy__(self, memo):
        new = copy.copy(self)
        new.model = copy.deepcopy(self.model, memo)
        new.optimizer = copy.deepcopy(self.optimizer, memo)
        new.schedule = copy.deepcopy(self.schedule, memo)
        new.stopper = copy.deepcopy(self.stopper, memo)
        new.shuffle_rs = copy.deepcopy(self.shuffle_rs, memo)
        return new

    # -- parameters ---------------------------------------------------------------------------
    def init_glorot(self, rs, factor):
        """Glorot-uniform weights and biases drawn exactly as scikit-learn draws them."""
        sizes = self.plan.sizes
        for l, (W, b) in enumerate(zip(self.model.weights, self.model.biases)):
            bound = np.sqrt(factor / (sizes[l] + sizes[l + 1]))
            W[...] = rs.uniform(-bound, bound, (sizes[l], sizes[l + 1]))
            b[...] = rs.uniform(-bound, bound, sizes[l + 1])

    def zero(self):
        self.engine.theta[...] = 0

    def output(self, X, n_threads):
        """a^L for X. Any number of threads at once (the model's read lock: it waits while
        another thread trains this network)."""
        if X.shape[0] == 0:
            return np.empty((0, self.plan.sizes[-1]), dtype=self.plan.dtype)
        with self.model.reading():
            return self.engine.predict(X, n_threads=n_threads, chunk=CHUNK)

    # -- stochastic solvers -------------------------------------------------------------------
    def new_optimizer(self, s):
        g = self.plan.gscale
        decay = dict(l2=g * s.alpha) if s.alpha_per_batch else dict(weight_decay=g * s.alpha)
        if s.solver == "adam":
            return Adam(lr=s.learning_rate_init, betas=(s.beta_1, s.beta_2),
                        eps=g * s.epsilon, efficient=True, **decay)
        return SGD(lr=s.learning_rate_init / g, momentum=s.momentum,
                   nesterov=bool(s.nesterov and s.momentum > 0), lr_in_velocity=True, **decay)

    def _new_schedule(self, s):
        if s.solver != "sgd" or s.learning_rate == "constant":
            return Constant()
        if s.learning_rate == "invscaling":
            return InverseScaling(s.power_t, per="sample")
        return Adaptive(factor=0.2, patience=s.n_iter_no_change, tol=max(s.tol, 0.0),
                        min_lr=1e-6 / self.plan.gscale,
                        monitor="val_score" if s.early_stopping else "loss")

    def start(self, s, incremental):
        """Optimiser, schedule and stopping rule for a fit: fresh for every fit, kept by
        partial_fit (scikit-learn keeps its optimiser and counters between calls)."""
        if not incremental or self.optimizer is None:
            self.optimizer = self.new_optimizer(s)
            self.schedule = self._new_schedule(s)
        if self.stopper is None:
            adaptive = isinstance(self.schedule, Adaptive)
            self.stopper = NoImprovement(
                tol=s.tol, n_iter_no_change=math.inf if adaptive else s.n_iter_no_change,
                monitor="val_score" if s.early_stopping else "loss")

    def train(self, X, Y, sw, s, n_threads, *, epochs, samples0, validate=None,
              verbose=False, on_divergence="warn", share_threads=False, callbacks=()):
        """Train ``epochs`` epochs of the stochastic solver; returns the Run's History. Runs
        alone on this network (the model's write lock). share_threads: n_threads was chosen
        by fastmlp, so concurrent fits share the threads (training.loop)."""
        with self.model.writing():
            return self._train(X, Y, sw, s, n_threads, epochs=epochs, samples0=samples0,
                               validate=validate, verbose=verbose, on_divergence=on_divergence,
                               share_threads=share_threads, callbacks=callbacks)

    def _train(self, X, Y, sw, s, n_threads, *, epochs, samples0, validate, verbose,
               on_divergence, share_threads, callbacks=()):
        n = X.shape[0]
        plan = batch_plan(n, s, warn=True)
        callbacks = [self.stopper] + (
            [_Printer(validate is not None, self.stopper, s)] if verbose else []) + list(callbacks)
        run = Run(self.engine, X, Y, optimizer=self.optimizer, schedule=self.schedule,
                  plan=plan, epochs=epochs, seed=self.seed or 0,
                  epoch_order=_sklearn_order(self.shuffle_rs, n) if s.shuffle else None,
                  epoch0=self.epoch, samples0=samples0, sample_weight=sw,
                  validate=validate, callbacks=callbacks,
                  objective=_ObjectiveInSklearnUnits(self, s.alpha if s.alpha_per_batch
                                                     else 0.0, plan.n_batches, n),
                  n_threads=n_threads, on_divergence=on_divergence,
                  share_threads=share_threads)
        try:
            hist = run.execute()
        finally:
            run.objective.release()
        self.epoch += run.epochs_done
        return hist

    # -- L-BFGS -------------------------------------------------------------------------------
    def train_lbfgs(self, X, Y, sw, s, n_threads, on_divergence="warn"):
        """L-BFGS (fastmlp.training.lbfgs: scipy's L-BFGS-B without bounds, step by step) on
        the objective in scikit-learn's units (data loss + alpha/(2S)
        ||W||^2), each evaluation one engine call (fastmlp._core.objective: loss, L2 term and
        gradient over the whole set; X dense or sparse). on_divergence: 'raise' (a
        FloatingPointError), 'warn' or 'ignore' for a non-finite result. Returns
        (loss, n_iter, converged message or None). Runs alone on this network (the model's
        write lock). Ctrl-C ends it with the best weights evaluated so far."""
        with self.model.writing():
            return self._train_lbfgs(X, Y, sw, s, n_threads, on_divergence)

    def _train_lbfgs(self, X, Y, sw, s, n_threads, on_divergence):
        eng, plan = self.engine, self.plan
        lscale = 1.0 / plan.gscale
        best = [math.inf, None]     # the lowest finite loss evaluated, and its point
        f64 = eng.dtype == np.float64
        w = None if sw is None else np.ascontiguousarray(sw, dtype=eng.dtype)
        kept = np.empty(eng.n_params)   # the best point so far (for Ctrl-C), reused

        def fun(theta, g):
            # one engine call: loss, L2 term and gradient over the whole set, the gradient
            # written into the optimiser's vector g; a float64 engine reads theta in place
            if not f64:
                eng.theta[:] = theta
            loss = _core.objective(eng, X, Y, g, theta=theta if f64 else None,
                                   sample_weight=w, lscale=lscale, alpha=s.alpha, chunk=CHUNK,
                                   n_threads=n_threads)
            if loss < best[0]:
                kept[...] = theta
                best[0], best[1] = loss, kept
            return loss

        x0 = eng.theta.astype(np.float64)
        try:
            res = lbfgs.minimize(fun, x0, maxfun=s.max_fun, maxiter=s.max_iter, gtol=s.tol)
        except KeyboardInterrupt:
            eng.theta[:] = x0 if best[1] is None else best[1]
            hist = History()
            hist._append(0, {"loss": best[0]})
            hist.interrupted = True
            warn_user("training interrupted (KeyboardInterrupt); the model keeps the best "
                      "weights L-BFGS had evaluated", RuntimeWarning)
            return hist, 0, None
        n_iter = min(res.nit, s.max_iter)
        finite = bool(np.all(np.isfinite(res.x))) and math.isfinite(res.fun)
        eng.theta[:] = res.x if finite else x0
        hist = History()
        hist._append(1, {"loss": float(res.fun) if finite else math.nan})   # epochs count from 1
        if not finite and on_divergence == "raise":
            raise FloatingPointError("L-BFGS diverged: the loss or the weights became NaN or "
                                     "infinite")
        if not finite:
            hist.diverged = True
            if on_divergence == "warn":
                warn_user("L-BFGS diverged: the loss or the weights became NaN or infinite; "
                          "the model keeps its initial weights. Scale the inputs (e.g. "
                          "StandardScaler) or use a stochastic solver.", DivergenceWarning)
        failed = None
        if res.status != 0:          # scikit-learn's message (sklearn.utils.optimize)
            failed = (f"lbfgs failed to converge after {n_iter} iteration(s) "
                      f"(status={res.status}):\n{res.message}\n")
            if n_iter == s.max_iter:
                failed += ("\nIncrease the number of iterations to improve the convergence "
                           f"(max_iter={s.max_iter}).")
            failed += ("\nYou might also want to scale the data as shown in:\n"
                       "    https://scikit-learn.org/stable/modules/preprocessing.html")
        return hist, n_iter, failed


def _sklearn_order(rs, n):
    """scikit-learn's epoch order (``MLP._fit_stochastic``): each epoch starts with
    ``sample_idx = shuffle(sample_idx, random_state=rs)``, sample_idx starting at
    ``arange(n)`` in every fit/partial_fit call, rs the estimator's RandomState after the
    weight init and the early-stopping split. None (no stream): fastmlp's own order."""
    if rs is None:
        return None
    idx = np.arange(n, dtype=int)

    def order(epoch):
        # sklearn.utils.shuffle(idx, random_state=rs), written out: the same draw (a
        # permutation of arange(n) shuffled in place by rs) without its per-call argument
        # validation, which cost more than a small epoch
        nonlocal idx
        perm = np.arange(n)
        rs.shuffle(perm)
        idx = idx[perm]
        return idx
    return order
