"""One-vs-all training of linear threshold units: scikit-learn's ``SGDClassifier`` algorithm
(what its ``Perceptron`` runs) on fastmlp's engine, one :class:`fastmlp.training.Run` per
binary problem.

scikit-learn trains a K-class linear classifier as K binary problems (class k against the
rest; one problem for two classes), each with its own shuffling seed, its own stopping test
and its own number of epochs, in parallel threads (``n_jobs``). :func:`train_all` does the
same: each :class:`BinaryTask` trains a one-output network of its own, in a thread pool, and
the results are bitwise the same for any ``n_jobs`` and thread count.

scikit-learn's per-sample step, for a sample x with label y = +-1, margin p = w.x + b (before
the step), factor c = class weight x sample weight::

    w <- max(0, 1 - eta0 * alpha * (1 - l1_ratio)) * w  +  eta0 * c * y * x   if y p <= 0
    b <- b + eta0 * c * y                                                      if y p <= 0
    then, for 'l1'/'elasticnet', the cumulative L1 penalty (Tsuruoka et al., 2009)

How the engine runs it: the perceptron criterion ``max(0, -y p)`` is the engine's hinge loss
``max(0, 1 - t p)`` on targets ``t = c y 2^50`` with learning rate ``eta0 / 2^50`` (the margin
becomes 2^-50 / c instead of 0; powers of two scale without rounding), so ``c`` scales each
sample's step exactly as in scikit-learn; the L2 factor is the optimiser's weight decay. Whole
epochs run in C. The details the engine's step does not have -- the cumulative L1 penalty,
``fit_intercept=False``, the 0.01 intercept decay of sparse input, and the stopping test's
objective (the unweighted mean of ``max(0, -y p)`` plus the penalty, summed sample by sample)
when it cannot be read from the engine's loss -- run per sample in :class:`_ExactRule`, one
engine step at a time (slower, the same numbers).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import _core
from ..optim import SGD
from ..training import NoImprovement, Run
from ..training.loop import run_concurrently, warn_user
from ._network import Network, Plan

__all__ = ["SCALE", "SGDRule", "BinaryTask", "BinaryResult", "train_all"]

SCALE = 2.0 ** 50          # target scale of the perceptron criterion (see the module docs)
SPARSE_INTERCEPT_DECAY = 0.01   # scikit-learn's factor on the intercept's step for sparse X


@dataclass
class SGDRule:
    """The settings every binary problem of one fit shares (scikit-learn's meaning)."""
    loss: str = "perceptron"        # 'perceptron' (max(0, -y p)) or 'hinge' (max(0, 1 - y p))
    eta0: float = 1.0
    penalty: object = None          # None, 'l2', 'l1', 'elasticnet'
    alpha: float = 1e-4
    l1_ratio: float = 0.15
    fit_intercept: bool = True
    max_iter: int = 1000
    tol: object = 1e-3              # None: never stop on the objective / validation score
    n_iter_no_change: int = 5
    early_stopping: bool = False
    shuffle: bool = True
    batch_size: int = 1
    intercept_decay: float = 1.0    # 0.01 for sparse input, as scikit-learn
    verbose: int = 0

    @property
    def l1_share(self):
        """The L1 part of the penalty (l1_ratio for 'elasticnet', 1 for 'l1', else 0)."""
        return {"l1": 1.0, "elasticnet": float(self.l1_ratio)}.get(self.penalty, 0.0)

    @property
    def l2_coef(self):
        """alpha times the L2 part of the penalty."""
        if self.penalty is None:
            return 0.0
        return self.alpha * (1.0 - self.l1_share)


@dataclass
class BinaryTask:
    """One binary problem: the positive class's column ``index`` of coef_. ``y``, ``c`` and
    ``sw`` cover every row of X; the validation rows (early stopping) are those outside
    ``train`` (None: all rows train)."""
    index: int
    y: np.ndarray            # +-1
    c: np.ndarray            # class weight x sample weight
    sw: np.ndarray           # sample weight (the validation score's weights)
    coef: np.ndarray         # starting weights, (n_features,)
    intercept: float
    seed: int                # scikit-learn's shuffling seed
    train: object = None


@dataclass
class BinaryResult:
    index: int
    coef: np.ndarray
    intercept: float
    n_iter: int
    diverged: object         # the epoch (counted from 1) whose step was not finite, or None
    interrupted: bool = False  # Ctrl-C stopped it at an epoch boundary


def _accuracy(y, pred, w):
    s = float(w.sum())
    return float(np.dot(w, (y == pred))) / s if s > 0 else 0.0


def sgd_permutation(seed, n):
    """The permutation scikit-learn's SGD applies to its sample order before every epoch
    (``SequentialDataset.shuffle``: Fisher-Yates driven by a 32-bit xorshift generator that
    restarts from ``seed`` at each epoch, so every epoch applies the same permutation to
    the previous epoch's order). New order = old order[perm]."""
    perm = np.arange(n)
    s = int(seed) & 0xFFFFFFFF
    for i in range(n - 1):
        if s == 0:
            s = 1
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        j = i + (s % 0x80000000) % (n - i)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def _take_rows(X, rows):
    """Rows ``rows`` (an int array) of X: a C-contiguous copy of a dense X, a new
    :class:`fastmlp._core.CSR` of a CSR one (O(their non-zeros))."""
    if isinstance(X, _core.CSR):
        return _core.csr_take(X, rows)
    return np.ascontiguousarray(X[rows])


def _csr_take_into(src, rows, dst):
    """Rewrite the arrays of the CSR ``dst`` in place with the rows ``rows`` of ``src`` (the
    same rows as dst holds, in another order: the array sizes do not change)."""
    starts = src.indptr[rows]
    lens = src.indptr[rows + 1] - starts
    indptr = dst.indptr
    np.cumsum(lens, out=indptr[1:])
    idx = np.repeat(starts - indptr[:-1], lens)
    idx += np.arange(idx.shape[0], dtype=idx.dtype)
    np.take(src.data, idx, out=dst.data)
    np.take(src.indices, idx, out=dst.indices)


class _Reshuffle:
    """scikit-learn's epoch order: before every epoch the whole sample order (validation rows
    included) is permuted by :func:`sgd_permutation` and the training rows are visited in
    it. The Run trains on its arrays in order; this callback rewrites them in place, in the
    next epoch's order, at the end of each epoch (the first order is set before the run).
    A CSR X (:class:`fastmlp._core.CSR`) is rewritten array by array: the engine reads that
    object's own arrays (no copy), and the Run slices its batches from it at each step."""

    def __init__(self, seed, n_all, train_mask, sources, targets):
        self.perm = sgd_permutation(seed, n_all)
        self.order = np.arange(n_all)
        self.train_mask = train_mask
        self.sources, self.targets = sources, targets     # full arrays -> training arrays
        self.advance()

    def advance(self):
        self.order = self.order[self.perm]
        rows = self.order[self.train_mask[self.order]]
        for src, dst in zip(self.sources, self.targets):
            if isinstance(dst, _core.CSR):
                _csr_take_into(src, rows, dst)
            else:
                np.take(src, rows, axis=0, out=dst)      # one gather, no temporary

    def on_epoch_end(self, epoch, logs):
        self.advance()
        return False


class _ExactRule:
    """scikit-learn's per-sample details around each engine step (a batch callback: the Run
    calls the engine once per batch). Holds the weights before the step, so it computes the
    margins p the step saw, and then applies what the engine's step does not do.

    The objective of the stopping test is scikit-learn's to the last detail: its penalty
    term uses the norms scikit-learn caches in its weight vector -- recomputed over the
    sample's non-zero features after each step that moved w, scaled with the L2 shrinking,
    and not updated by the L1 truncation."""

    def __init__(self, net, X, y, c, rule, need_objective, sparse):
        self.W = net.model.weights[0][:, 0]
        self.b = net.model.biases[0]
        self.W_prev, self.b_prev = self.W.copy(), self.b.copy()
        self.X, self.y, self.c, self.rule, self.n = X, y, c, rule, X.shape[0]
        self.need_objective = need_objective
        # the cached norms count only in a penalised objective
        self.norms = need_objective and rule.penalty is not None
        self.sparse = sparse                # sparse input: only a row's non-zeros count
        self.csr = isinstance(X, _core.CSR)  # ... read from its CSR arrays (X in row order)
        self.threshold = 0.0 if rule.loss == "perceptron" else 1.0
        self.l1 = rule.l1_share * rule.alpha
        self.shrink = max(0.0, 1.0 - rule.eta0 * rule.l2_coef)
        self.q = np.zeros_like(self.W) if self.l1 > 0 else None
        self.u = 0.0
        w = self.W.astype(np.float64)
        self.sq_norm, self.l1_norm = float(w @ w), float(np.abs(w).sum())
        self.total = 0.0

    def on_batch_end(self, bi, logs):
        rule = self.rule
        B = rule.batch_size          # the Run visits the rows in order (see _Reshuffle)
        r0, r1 = bi * B, min((bi + 1) * B, self.n)
        rows = slice(r0, r1)
        p = self._margins(r0, r1)
        y = self.y[rows]
        if self.need_objective:
            value = float(np.maximum(0.0, self.threshold - y * p).sum())
            if rule.penalty is not None:
                value += (r1 - r0) * rule.alpha * ((1.0 - rule.l1_share) * 0.5 * self.sq_norm
                                                   + rule.l1_share * self.l1_norm)
            self.total += value
        if rule.penalty in ("l2", "elasticnet"):
            self.sq_norm *= self.shrink * self.shrink
            self.l1_norm *= self.shrink
        moved = (y * p <= self.threshold) & (self.c[rows] != 0)
        if self.shrink == 0 and r1 - r0 == 1:
            # eta0 * alpha >= 1: scikit-learn sets w to 0 before the step, so w is exactly
            # this sample's step (the engine's decay leaves rounding residue of the old w)
            step = rule.eta0 * y[0] * self.c[r0] if moved[0] else 0.0
            if self.csr:
                a, b = int(self.X.indptr[r0]), int(self.X.indptr[r0 + 1])
                self.W[...] = 0
                self.W[self.X.indices[a:b]] = self.X.data[a:b] * step
            else:
                self.W[...] = self.X[r0] * step
            self.b[...] = self.b_prev + step
        cols = self._cols(r0, r1) if self.l1 > 0 or self.norms else None
        if self.norms and np.any(moved):     # the step moved w
            w = self.W[cols].astype(np.float64)
            self.sq_norm, self.l1_norm = float(w @ w), float(np.abs(w).sum())
        if not rule.fit_intercept:
            self.b[...] = self.b_prev
        elif rule.intercept_decay != 1.0:
            self.b[...] = self.b_prev + rule.intercept_decay * (self.b - self.b_prev)
        if self.l1 > 0:        # the cumulative L1 penalty (Tsuruoka et al., 2009)
            self.u += rule.eta0 * self.l1
            w, q = self.W[cols], self.q[cols]
            new = np.where(w > 0, np.maximum(0.0, w - (self.u + q)),
                           np.where(w < 0, np.minimum(0.0, w + (self.u - q)), w))
            self.q[cols] = q + (new - w)
            self.W[cols] = new
        self.W_prev[...] = self.W
        self.b_prev[...] = self.b

    def _margins(self, r0, r1):
        """The margins p of rows r0..r1 under the weights before the step."""
        X = self.X
        if self.csr:       # over the non-zeros: row sums of data * W[indices]
            a, b = int(X.indptr[r0]), int(X.indptr[r1])
            rid = np.repeat(np.arange(r1 - r0), np.diff(X.indptr[r0:r1 + 1]))
            p = np.bincount(rid, weights=X.data[a:b] * self.W_prev[X.indices[a:b]],
                            minlength=r1 - r0)
            return p.astype(self.W.dtype) + self.b_prev[0]
        return X[r0:r1] @ self.W_prev + self.b_prev[0]

    def _cols(self, r0, r1):
        """The columns whose weights the step of rows r0..r1 touches (sparse input: the
        rows' non-zero features; dense input: all)."""
        X = self.X
        if self.csr:
            a, b = int(X.indptr[r0]), int(X.indptr[r1])
            vals, ind = X.data[a:b], X.indices[a:b]
            return np.unique(ind[vals != 0])
        if not self.sparse:
            return slice(None)
        return np.flatnonzero(np.any(X[r0:r1] != 0, axis=0))

    def objective(self, engine_loss):
        value, self.total = self.total / self.n, 0.0
        return value


class _CSRSteps:
    """The engine as a Run on CSR rows sees it. A Run with a batch callback (:class:`_ExactRule`)
    steps batch by batch through ``train_step``, which takes dense rows only; here a step on
    CSR rows is a one-batch ``train_epochs`` call, the same step: the batch's weighted mean,
    a batch whose weights sum to 0 skipped (NaN loss, t unchanged), a FloatingPointError with
    nothing changed when the step is not finite. Everything else is the engine's."""

    def __init__(self, engine):
        self._engine = engine

    def __getattr__(self, name):
        return getattr(self._engine, name)

    def train_step(self, X, Y, spec, state1=None, state2=None, n_threads=None,
                   sample_weight=None):
        losses, t, div = self._engine.train_epochs(
            X, Y, X.shape[0], 1, spec, state1, state2, shuffle=False, n_threads=n_threads,
            interruptible=False, sample_weight=sample_weight)
        if div:
            raise FloatingPointError("the step's loss or gradient is not finite")
        skipped = sample_weight is not None and not float(np.sum(sample_weight)) > 0
        return (math.nan if skipped else float(losses[0])), t


class _Printer:
    """scikit-learn's SGD verbose lines, one block per epoch."""

    def __init__(self, net, n, validation):
        self.W = net.model.weights[0][:, 0]
        self.b = net.model.biases[0]
        self.n, self.validation = n, validation
        self.t0 = time.time()
        self.epochs = 0

    def on_epoch_end(self, epoch, logs):
        self.epochs += 1
        w = self.W.astype(np.float64)
        print("-- Epoch %d" % self.epochs)
        line = ("Norm: %.2f, NNZs: %d, Bias: %.6f, T: %d, Avg. loss: %f"
                % (math.sqrt(float(w @ w)), int(np.count_nonzero(w)), float(self.b[0]),
                   self.n * self.epochs, logs["loss"]))
        if self.validation:
            line += ", Validation score: %f" % logs["val_score"]
        print(line)
        print("Total training time: %.2f seconds." % (time.time() - self.t0))
        return False

    def on_train_end(self, run):
        if run.history.stopped_early:
            print("Convergence after %d epochs took %.2f seconds"
                  % (self.epochs, time.time() - self.t0))


def _train_one(task, X_all, rule, dtype, n_threads, sparse):
    """Train one binary problem; returns its (History, :class:`BinaryResult`)."""
    nf = X_all.shape[1]
    net = Network(Plan([nf, 1], ["linear"], "hinge", dtype))
    net.model.weights[0][:, 0] = task.coef
    net.model.biases[0][0] = task.intercept
    if rule.loss == "perceptron":
        scale = SCALE
        Y_all = task.y * task.c * scale
        sw_all = None
    else:           # the chapter's hinge: the weights act through the engine's weighted mean
        scale = 1.0
        Y_all = task.y
        sw_all = None if np.all(task.c == 1) else np.ascontiguousarray(task.c, dtype=dtype)
    Y_all = np.ascontiguousarray(Y_all[:, None], dtype=dtype)
    train = np.ones(len(task.y), bool) if task.train is None else task.train
    # the training arrays: the Run visits their rows in order; _Reshuffle rewrites them
    sources = [X_all, Y_all, task.y, task.c] + ([] if sw_all is None else [sw_all])
    rows = np.flatnonzero(train)
    arrays = [_take_rows(a, rows) for a in sources]
    reshuffle = None
    if rule.shuffle:
        reshuffle = _Reshuffle(task.seed, len(train), train, sources, arrays)
    X, Y, y, c = arrays[:4]
    sw = None if sw_all is None else arrays[4]
    # scikit-learn multiplies w by max(0, 1 - eta0 * l2) before each step
    wd = min(rule.l2_coef, 1.0 / rule.eta0) * scale
    opt = SGD(lr=rule.eta0 / scale, weight_decay=wd)
    stopping = rule.tol is not None
    need_objective = (stopping and not rule.early_stopping) or bool(rule.verbose)
    uniform = bool(c.size) and float(c.min()) == float(c.max()) and c[0] > 0
    exact = (rule.l1_share > 0 or not rule.fit_intercept or rule.intercept_decay != 1.0
             or rule.eta0 * rule.l2_coef >= 1
             or (need_objective and (rule.penalty is not None or not uniform)))
    callbacks, objective = [], None
    if exact:
        ex = _ExactRule(net, X, y, c, rule, need_objective, sparse)
        callbacks.append(ex)
        objective = ex.objective if need_objective else None
    elif need_objective:
        c0 = float(c[0]) if rule.loss == "perceptron" else 1.0
        objective = (lambda v: v / (c0 * scale))  # noqa: E731
    validate = None
    if rule.early_stopping and (stopping or rule.verbose):
        X_val = _take_rows(X_all, np.flatnonzero(~train))
        y_val, sw_val = task.y[~train], task.sw[~train]
        eng = net.engine

        def validation_score():
            z = eng.predict(X_val, n_threads=n_threads)[:, 0]
            return {"val_score": _accuracy(y_val, np.where(z > 0, 1.0, -1.0), sw_val)}
        validate = validation_score
    if stopping:
        # scikit-learn's SGD stops once n_iter_no_change epochs in a row failed to improve
        # (`>=`); NoImprovement stops after more than its count, hence the - 1
        callbacks.append(NoImprovement(
            tol=rule.tol, n_iter_no_change=rule.n_iter_no_change - 1,
            monitor="val_score" if rule.early_stopping else "loss", restore_best=False))
    if rule.verbose:
        callbacks.append(_Printer(net, X.shape[0], validate is not None))
    if reshuffle is not None:
        callbacks.append(reshuffle)          # last: after everything that reads this epoch
    engine = _CSRSteps(net.engine) if isinstance(X, _core.CSR) else net.engine
    run = Run(engine, X, Y, optimizer=opt, batch_size=min(rule.batch_size, X.shape[0]),
              epochs=rule.max_iter, shuffle=False, sample_weight=sw, validate=validate,
              callbacks=callbacks, objective=objective, n_threads=n_threads,
              on_divergence="raise")
    diverged = None
    try:
        run.execute()
    except FloatingPointError:            # the failing step changed nothing
        diverged = run.history.diverged_epoch
    return run.history, BinaryResult(task.index, net.model.weights[0][:, 0].copy(),
                                     float(net.model.biases[0][0]), len(run.history),
                                     diverged, bool(run.history.interrupted))


def train_all(tasks, X, rule, dtype, n_jobs, n_threads, sparse=False):
    """Train every task on the rows of X (dense, or a scipy.sparse matrix trained on as CSR,
    never densified; ``sparse``: scikit-learn's rule for sparse input -- the intercept decay
    of ``rule`` and the L1 penalty over a row's non-zeros -- also true for a sparse X),
    ``n_jobs`` at a time, each engine on ``n_threads`` threads (one thread when several run
    at once); returns the results in task order.

    Ctrl-C ends the whole fit (:func:`fastmlp.training.run_concurrently`): the problems
    running stop at their next epoch boundary, those not started are skipped, and the
    results returned are those of the problems that ran (a prefix of ``tasks``), with a
    RuntimeWarning; a KeyboardInterrupt only when none had started."""
    workers = max(1, min(int(n_jobs), len(tasks)))
    if _core.is_sparse(X):
        sparse = True
        X = X.tocsr()
        if not X.has_canonical_format:    # one entry per (row, column), as densified
            X = X.copy()
            X.sum_duplicates()
        X = _core.csr_input(X, dtype)     # checked once; the tasks read it, never write
    else:
        X = np.ascontiguousarray(X, dtype=dtype)

    def one(i, threads):
        return _train_one(tasks[i], X, rule, dtype, n_threads if threads is None else threads,
                          sparse)

    done = run_concurrently(len(tasks), one, workers, name="fastmlp-ova")
    if not done:
        raise KeyboardInterrupt
    stopped = sum(r.interrupted for _, r in done)
    if stopped or len(done) < len(tasks):
        if workers > 1 or not stopped:     # sequentially, the stopped run has said so
            warn_user(f"training interrupted (KeyboardInterrupt): {len(done) - stopped} of "
                      f"{len(tasks)} one-vs-all problems finished, {stopped} stopped at an "
                      f"epoch boundary, {len(tasks) - len(done)} not started (they keep "
                      f"their starting weights)", RuntimeWarning)
    return [r for _, r in done]
