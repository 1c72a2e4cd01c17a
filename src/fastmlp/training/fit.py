"""``MLP.fit``: the chapter's training practice (4.3) as arguments, turned into one
:class:`~fastmlp.training.loop.Run` (or several, for restarts).

Regimes: ``batch_size=None`` is full-batch gradient descent (one step per epoch over all
samples); ``batch_size=1`` is stochastic gradient descent (every sample once per epoch, in a
fresh random order); ``batch_size=B`` is mini-batch SGD with a fixed B, the samples reshuffled
before every epoch (the last short batch is kept unless ``drop_last=True``).
"""
from __future__ import annotations

import copy
import os
import threading
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union

import numpy as np

from .. import _core
from .._common import check_int, check_n_threads, derive_seed
from .._model_config import MAX_EPOCHS
from .._typing import ArrayLike
from ..losses import LossLike, missing_loss_error
from ..optim import Optimizer, OptimizerLike, Schedule, ScheduleLike, get_optimizer, get_schedule
from .batches import BatchPlan
from .callbacks import EarlyStopping, EpochLogger, ProgressBar
from .data import check_validation, prepare, validator
from .history import History
from .loop import Run, best_of_restarts, copy_optimizer_template, restart_workers
from .lr_search import continue_chosen, search_for_fit
from .report import Report

if TYPE_CHECKING:
    from ..network import MLP

__all__ = ["fit"]


def _check_callbacks(callbacks: Any) -> list[Any]:
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    for cb in callbacks:
        if not any(callable(getattr(cb, hook, None))
                   for hook in ("on_epoch_end", "on_batch_end", "on_progress")):
            raise TypeError(f"callback {cb!r} has none of on_epoch_end, on_batch_end, "
                            f"on_progress")
    return list(callbacks)


def fit(model: MLP, X: ArrayLike, y: ArrayLike, loss: Optional[LossLike] = None,
        optimizer: OptimizerLike = None, lr: Union[float, str, None] = None,
        batch_size: Optional[int] = 32, epochs: int = 10, shuffle: bool = True,
        drop_last: bool = False, validation_split: float = 0.0,
        validation_data: Optional[Sequence[ArrayLike]] = None, validation_shuffle: bool = False,
        early_stopping: Union[int, bool, EarlyStopping, None] = None, min_delta: float = 0.0,
        restarts: int = 1, callbacks: Optional[Sequence[Any]] = None, verbose: int = 0,
        progress: bool = False, schedule: ScheduleLike = None, seed: Optional[int] = None,
        n_threads: Optional[int] = None, on_divergence: str = "warn",
        sample_weight: Optional[ArrayLike] = None,
        report: Union[str, os.PathLike[str], Report, None] = None) -> History:
    """Train ``model`` on ``(X, y)``; returns a :class:`~fastmlp.training.History`.

    The implementation of :meth:`fastmlp.MLP.fit`, whose docstring describes every
    parameter (``model.fit(X, y, **options)`` is ``fit(model, X, y, **options)``). It
    checks the options, encodes the targets, holds out validation data and builds one
    :class:`~fastmlp.training.loop.Run` (or one per restart).
    """
    # -- options --------------------------------------------------------------------------
    epochs = check_int("epochs", epochs, 0)
    if model.epochs_trained_ + epochs > MAX_EPOCHS:
        raise ValueError(f"epochs must be at most 2**62 - 1 = {MAX_EPOCHS} in all, counting "
                         f"the {model.epochs_trained_} already trained, got {epochs}")
    restarts = check_int("restarts", restarts, 1)
    verbose = check_int("verbose", verbose, 0)
    if on_divergence not in ("warn", "raise"):
        raise ValueError(f"on_divergence must be 'warn' or 'raise', got {on_divergence!r}")
    for name, val in (("shuffle", shuffle), ("drop_last", drop_last), ("progress", progress),
                      ("validation_shuffle", validation_shuffle)):
        if not isinstance(val, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {val!r}")
    check_validation(validation_split, validation_data)
    if early_stopping is True:
        early_stopping = 10
    if isinstance(early_stopping, EarlyStopping):
        stopper_args = None
    elif early_stopping is None or early_stopping is False:
        stopper_args = None
        early_stopping = None
    else:
        stopper_args = (check_int("early_stopping", early_stopping, 1), float(min_delta))
        EarlyStopping(*stopper_args)            # validates min_delta
    if n_threads is not None:
        check_n_threads(n_threads)
    nt = model.n_threads if n_threads is None else n_threads
    callbacks = _check_callbacks(callbacks)
    if report is not None:
        callbacks.append(report if isinstance(report, Report) else Report(report))
    reports = [cb for cb in callbacks if isinstance(cb, Report)]
    sched = get_schedule(schedule)
    auto = isinstance(lr, str)
    if auto and lr != "auto":
        raise ValueError(f"lr must be a positive number or 'auto', got {lr!r}")
    rate = None if isinstance(lr, str) else lr
    if optimizer is None and model.optimizer_ is not None:
        opt = get_optimizer(model.optimizer_, rate)
    else:
        opt = get_optimizer(optimizer, rate)
    before = model.snapshot_state() if auto else None

    # -- loss and data --------------------------------------------------------------------
    if loss is not None:
        model.use_loss(loss)
    elif model.loss is None:
        raise missing_loss_error(y, model.layer_sizes[-1])
    X, Y, sw, Xv, Yv, wv, B, shuffle_seed = prepare(
        model, X, y, batch_size=batch_size, validation_split=validation_split,
        validation_data=validation_data, validation_shuffle=validation_shuffle,
        sample_weight=sample_weight, seed=seed)
    plan = BatchPlan(X.shape[0], B, bool(drop_last), bool(shuffle))
    for rep in reports:               # written once, below, with the whole History
        rep.model, rep.deferred = model, True
        rep.validation = None if Xv is None or Yv is None else (Xv, Yv)
    hist = None
    try:
        hist = _train(model, X, Y, Xv, Yv, sw, wv, plan, shuffle_seed, opt, sched, nt, auto,
                      before, epochs, restarts, early_stopping, stopper_args, progress,
                      verbose, callbacks, on_divergence)
    finally:
        for rep in reports:
            rep.deferred = False
            shown = hist if hist is not None else rep.last_history
            if rep.runs and shown is not None:     # also after an error: what ran is shown
                rep.write(shown)
    return hist


def _train(model: MLP, X: Any, Y: Any, Xv: Any, Yv: Any, sw: Any, wv: Any, plan: BatchPlan,
           shuffle_seed: int, opt: Optimizer, sched: Schedule, nt: Optional[int], auto: bool,
           before: Any, epochs: int, restarts: int, early_stopping: Any, stopper_args: Any,
           progress: bool, verbose: int, callbacks: list[Any], on_divergence: str) -> History:
    """The runs of a fit whose options and data are checked: one, or one per restart
    (the best kept), after the ``lr='auto'`` search."""

    def one_run(m: MLP, o: Optimizer, s: Schedule, threads: Optional[int],
                n_epochs: int = epochs, quiet: bool = False) -> History:
        cbs: list[Any] = []
        if stopper_args is not None:
            cbs.append(EarlyStopping(*stopper_args))
        elif early_stopping is not None:
            cbs.append(copy.deepcopy(early_stopping))
        if progress or verbose == 1:
            cbs.append(ProgressBar(epochs))
        if verbose >= 2:
            cbs.append(EpochLogger())
        run = Run(m.engine, X, Y, optimizer=o, schedule=s, plan=plan, epochs=n_epochs,
                  seed=shuffle_seed, epoch0=m.epochs_trained_, sample_weight=sw,
                  validate=(None if Xv is None or Yv is None
                            else validator(m, Xv, Yv, wv, threads)),
                  callbacks=[] if quiet else cbs + callbacks,   # quiet: an lr='auto' candidate
                  custom_loss=None if m.loss is None or m.loss.builtin else m.loss,
                  n_threads=threads,
                  on_divergence="ignore" if quiet else on_divergence)
        hist = run.execute()
        m.epochs_trained_ += run.epochs_done
        return hist

    search = kept = None
    if auto:
        plain = restarts == 1 and early_stopping is None and not callbacks and not verbose \
            and not progress
        search, kept = search_for_fit(model, before, opt, sched, nt, epochs,
                                      plan.n_batches,
                                      one_run, plain)
        opt.set_base_lr(search.lr)
        if verbose:
            print(f"lr='auto': {search.lr:.3g}, {search.reason}")

    if restarts == 1:
        if kept is not None:
            hist = continue_chosen(model, opt, search, kept, one_run, nt, epochs)
        else:
            hist = one_run(model, opt, sched, nt)
        hist.lr_search = search
        model.optimizer_ = opt
        model.history_ = hist
        return hist

    # -- restarts: N fresh initialisations, keep the best -----------------------------------
    template = copy_optimizer_template(opt)
    seeds = [model.seed if r == 0 else derive_seed(model.seed, 1000 + r)
             for r in range(restarts)]
    workers = restart_workers(restarts, nt, callbacks, verbose, progress)
    # Memory: a replica exists only while its run does (one per worker at a time), and of the
    # finished runs only the best one's weights and optimiser state are kept -- the one
    # best_of_restarts will pick (lowest (score, index) among the runs that returned, all
    # of which it gets) -- so fit(restarts=R) costs about workers + 1 runs, not R.
    best_run: dict[str, Any] = {}
    best_lock = threading.Lock()

    def train_one(r: int, threads: Optional[int]) -> tuple[History, Any]:
        m = copy.deepcopy(model) if workers > 1 else model
        m.initialize(seeds[r])
        m.epochs_trained_ = 0
        o = copy.deepcopy(template)
        h = one_run(m, o, copy.deepcopy(sched), nt if threads is None else threads)
        h.params.update(init_seed=seeds[r], restart=r, parallel_restarts=workers)
        key = (h.final_score(h.restored_best), r)
        with best_lock:
            if "key" not in best_run or key < best_run["key"]:
                best_run.update(key=key, state=(m.engine.theta.copy(), o, m.epochs_trained_))
        return h, None

    best, done = best_of_restarts(restarts, train_one, workers)
    assert best_run["key"][1] == best, (best_run["key"], best)
    theta, o, ep = best_run.pop("state")
    model.engine.theta[...] = theta
    model.epochs_trained_ = ep
    model.optimizer_ = o
    hist = done[best][0]
    if len(done) < restarts or any(h.interrupted for h, _ in done):
        hist = copy.copy(hist)          # the fit was interrupted, not necessarily this run
        hist.interrupted = True
    hist.restarts = [h for h, _ in done]
    hist.best_restart = best
    hist.lr_search = search
    model.history_ = hist
    return hist
