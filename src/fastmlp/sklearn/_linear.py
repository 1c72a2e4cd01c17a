"""One-vs-all training of linear threshold units in C (csrc/linear): scikit-learn's SGD
perceptron (what its ``Perceptron`` runs), one sample at a time, every binary problem a
unit of one :class:`fastmlp._core.LinearUnits`, the units spread over threads.

The rule, for a sample x with label y = +-1, margin p = w.x + b (before the step), factor
c = class weight x sample weight::

    w <- max(0, 1 - eta0 * alpha * (1 - l1_ratio)) * w  +  eta0 * c * y * x   if y p <= 0
    b <- b + eta0 * c * y * decay                                              if y p <= 0
    then, for 'l1'/'elasticnet', the cumulative L1 penalty (Tsuruoka et al., 2009)

with scikit-learn's details: w is a vector times a scale factor (the L2 shrink is one
multiplication), the L1 penalty and the cached norms of the stopping test's objective cover
the sample's non-zero features, ``decay`` is 0.01 for sparse input, the order is its
shuffling, and its stopping test ends each problem on its own. Sparse (CSR) input is used as
it is: nothing is densified."""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from .. import _core
from ..training.loop import warn_user
from ._ova import BinaryResult

__all__ = ["train_linear", "PARALLEL_MIN_WORK"]

PARALLEL_MIN_WORK = 4_000_000    # input values x units per epoch below which one thread runs


def _units(tasks, X, rule, dtype, sparse, early_stopping):
    """A LinearUnits for `tasks` (all sharing one validation split)."""
    n, d = X.shape
    K = len(tasks)
    W = np.empty((K, d), dtype=dtype)
    Y = np.empty((K, n))
    C = np.empty((K, n), dtype=dtype)
    for k, t in enumerate(tasks):
        W[k] = t.coef
        Y[k] = t.y
        C[k] = t.c
    train = tasks[0].train
    kw = dict(
        sw=np.ascontiguousarray(tasks[0].sw, dtype=dtype) if early_stopping else None,
        val_mask=None if train is None else ~train,
        seeds=np.array([t.seed for t in tasks], dtype=np.uint64), rule="sgd",
        penalty=rule.penalty, alpha=rule.alpha, l1_ratio=rule.l1_ratio, eta0=rule.eta0,
        intercept_decay=rule.intercept_decay, fit_intercept=rule.fit_intercept,
        need_loss=bool(rule.verbose) or not early_stopping, early_stopping=early_stopping,
        tol=rule.tol, n_iter_no_change=rule.n_iter_no_change, shuffle=rule.shuffle)
    b = np.array([t.intercept for t in tasks], dtype=np.float64)
    if sparse:       # the non-zeros in the training dtype (a copy only if it differs)
        return _core.LinearUnits(np.ascontiguousarray(X.data, dtype=dtype), Y, C, W, b,
                                 indices=np.ascontiguousarray(X.indices, dtype=np.int32),
                                 indptr=X.indptr.astype(np.int64), n_features=d, **kw)
    return _core.LinearUnits(np.ascontiguousarray(X, dtype=dtype), Y, C, W, b, **kw)


def _print_epoch(units, epoch, t0, early_stopping):
    """scikit-learn's verbose lines of one epoch (one unit)."""
    s = units.stats()
    w = units.coef(0)
    print("-- Epoch %d" % epoch)
    steps = int(s["steps"][0])
    line = ("Norm: %.2f, NNZs: %d, Bias: %.6f, T: %d, Avg. loss: %f, Objective: %f"
            % (np.sqrt(float(w @ w)), int(np.count_nonzero(w)), s["intercept"][0],
               steps * epoch, s["sumloss"][0] / max(steps, 1),
               s["objective"][0] / max(steps, 1)))
    if early_stopping:
        line += ", Validation score: %f" % s["score"][0]
    print(line)
    print("Total training time: %.2f seconds." % (time.time() - t0))


def _run(units, max_iter, n_threads, verbose, early_stopping):
    """Epochs until every unit stops or max_iter; returns whether Ctrl-C ended it. The
    units run whole chunks of epochs per C call (each on its own, no waiting between
    epochs), the chunk sized to about 50 ms so that Ctrl-C is seen soon; verbose: one epoch
    per call, printed."""
    t0 = time.time()
    done = 0
    chunk = 1
    try:
        while done < max_iter:
            k = min(chunk, max_iter - done)
            t = time.perf_counter()
            units.epochs(k, n_threads)
            took = time.perf_counter() - t
            done += k
            if verbose:
                _print_epoch(units, done, t0, early_stopping)
            elif took < 0.025:
                chunk = min(chunk * 4, 1 << 20)
            if units.stats()["done"].all():
                break
    except KeyboardInterrupt:
        return True
    if verbose:
        s = units.stats()
        if s["done"][0] and not s["diverged"][0]:
            print("Convergence after %d epochs took %.2f seconds"
                  % (s["n_iter"][0], time.time() - t0))
    return False


def train_linear(tasks, X, rule, dtype, n_threads):
    """Train every task (:class:`fastmlp.sklearn._ova.BinaryTask`) on X (dense, or CSR kept
    sparse) by scikit-learn's SGD perceptron rule, the units on up to ``n_threads`` threads
    (one below PARALLEL_MIN_WORK; verbose: one after another, printing scikit-learn's lines);
    returns the results in task order. Ctrl-C ends the whole fit at the next epoch boundary (with a RuntimeWarning)."""
    sparse = sp.issparse(X)
    early = bool(rule.early_stopping)
    # threads where an epoch of all the units is large enough to pay for waking them (on a
    # busy machine a team of small epochs waits for its descheduled members)
    if (X.nnz if sparse else X.size) * len(tasks) < PARALLEL_MIN_WORK:
        n_threads = 1
    groups = [[t] for t in tasks] if rule.verbose else [tasks]
    results, interrupted = [], False
    for group in groups:
        units = _units(group, X, rule, dtype, sparse, early)
        if not interrupted:
            interrupted = _run(units, rule.max_iter, n_threads, rule.verbose, early)
        W = units.finish()
        s = units.stats()
        for k, t in enumerate(group):
            results.append(BinaryResult(
                t.index, W[k].astype(np.float64), float(s["intercept"][k]),
                int(s["n_iter"][k]), int(s["diverged"][k]) or None, interrupted))
    if interrupted:
        warn_user("training interrupted (KeyboardInterrupt): the one-vs-all problems "
                  "stopped at an epoch boundary, keeping that epoch's weights",
                  RuntimeWarning)
    return results
