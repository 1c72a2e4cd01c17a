"""``MLP.fit``: the chapter's training practice (4.3) as arguments, turned into one
:class:`~fastmlp.training.loop.Run` (or several, for restarts).

Regimes: ``batch_size=None`` is full-batch gradient descent (one step per epoch over all
samples); ``batch_size=1`` is stochastic gradient descent (every sample once per epoch, in a
fresh random order); ``batch_size=B`` is mini-batch SGD with a fixed B, the samples reshuffled
before every epoch (the last short batch is kept unless ``drop_last=True``).
"""
from __future__ import annotations

import copy

import numpy as np

from .. import _core
from .._common import check_int, derive_seed
from ..optim import get_optimizer, get_schedule
from .callbacks import EarlyStopping, EpochLogger, ProgressBar
from .data import check_validation, prepare, validator
from .loop import Run, best_of_restarts, copy_optimizer_template, restart_workers
from .lr_search import continue_chosen, search_for_fit

__all__ = ["fit"]


def _check_callbacks(callbacks):
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    for cb in callbacks:
        if not (callable(getattr(cb, "on_epoch_end", None))
                or callable(getattr(cb, "on_batch_end", None))):
            raise TypeError(f"callback {cb!r} has neither on_epoch_end nor on_batch_end")
    return list(callbacks)


def fit(model, X, y, loss=None, optimizer=None, lr=None, batch_size=32, epochs=10,
        shuffle=True, drop_last=False, validation_split=0.0, validation_data=None,
        validation_shuffle=False, early_stopping=None, min_delta=0.0, restarts=1,
        callbacks=None, verbose=0, progress=False, schedule=None, seed=None, n_threads=None,
        on_divergence="warn", sample_weight=None):
    """Train ``model`` on (X, y); returns a :class:`~fastmlp.training.History`.

    loss: name/Loss (default: the model's loss, else 'square'). optimizer: 'sgd', 'adam', an
    Optimizer (its state is used and updated) or None (the optimiser of the previous fit, else
    SGD(lr=0.01)); ``lr`` overrides its learning rate. ``lr='auto'`` first runs a short
    sweep on this fit's data and options (:mod:`fastmlp.training.lr_search`: four rates a
    decade apart for the optimiser, three bisection stages, a tenth of the epochs, 1 to 10,
    and at least 50 steps; the largest rate within 10 % of the lowest final validation --
    else training -- loss
    wins), then trains with that rate: ``history.lr_search`` holds the sweep, and the
    weights are those of ``fit(lr=<that rate>)``. batch_size: None (full-batch GD), 1
    (SGD) or B (mini-batch, 1 <= B <= n_train). epochs >= 0. shuffle: reshuffle before every
    epoch (seeded by ``seed``, default derived from the model's seed). validation_split:
    fraction of the samples held out -- the LAST fraction, as in Keras (``validation_shuffle
    =True`` picks a random one with the seed instead); or validation_data=(X_val, y_val) or
    (X_val, y_val, w_val). sample_weight: one weight >= 0 per sample; every batch's loss is
    the weighted mean of its samples' costs (scikit-learn's definition), in the engine's
    whole-run C call. early_stopping: patience in epochs (or an
    :class:`~fastmlp.training.EarlyStopping`), on val_loss (training loss without
    validation); the best weights are restored. restarts: N > 1 trains N fresh
    initialisations (the first from the model's seed, the others from seeds derived from
    it), keeping the best by validation loss (or training loss); all N Histories are in
    ``history.restarts``; Ctrl-C keeps the restarts that finished, stops those running at
    their next epoch boundary, skips the rest, and keeps the best of those that ran
    (``history.interrupted`` is then True and ``history.restarts`` lists only those).
    callbacks: objects with on_epoch_end(epoch, logs) /
    on_batch_end(batch, logs). verbose: 0 silent, 1 progress bar, 2 one line per epoch.
    progress: a progress bar (tqdm if installed). schedule: a Schedule (see fastmlp.optim).
    n_threads: engine threads. on_divergence: 'warn' (DivergenceWarning) or 'raise'
    (FloatingPointError).

    The input is converted once to the model's dtype (C-contiguous); NaN/inf raise
    ValueError. fit continues from the current weights; ``model.reset()`` starts over.
    """
    # -- options --------------------------------------------------------------------------
    epochs = check_int("epochs", epochs, 0)
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
        check_int("n_threads", n_threads, 1, high=_core.MAX_THREADS)
    nt = model.n_threads if n_threads is None else n_threads
    callbacks = _check_callbacks(callbacks)
    sched = get_schedule(schedule)
    auto = isinstance(lr, str)
    if auto and lr != "auto":
        raise ValueError(f"lr must be a positive number or 'auto', got {lr!r}")
    if optimizer is None and model.optimizer_ is not None:
        opt = get_optimizer(model.optimizer_, None if auto else lr)
    else:
        opt = get_optimizer(optimizer, None if auto else lr)
    before = dict(model.__dict__) if auto else None

    # -- loss and data --------------------------------------------------------------------
    if loss is not None:
        model._set_loss(loss)
    elif model.loss is None:
        model._set_loss("square")
    X, Y, sw, Xv, Yv, wv, B, shuffle_seed = prepare(
        model, X, y, batch_size=batch_size, validation_split=validation_split,
        validation_data=validation_data, validation_shuffle=validation_shuffle,
        sample_weight=sample_weight, seed=seed)

    def one_run(m, o, s, threads, n_epochs=epochs, quiet=False):
        cbs = []
        if stopper_args is not None:
            cbs.append(EarlyStopping(*stopper_args))
        elif early_stopping is not None:
            cbs.append(copy.deepcopy(early_stopping))
        if progress or verbose == 1:
            cbs.append(ProgressBar(epochs))
        if verbose >= 2:
            cbs.append(EpochLogger())
        run = Run(m.engine, X, Y, optimizer=o, schedule=s, batch_size=B, epochs=n_epochs,
                  shuffle=bool(shuffle), seed=shuffle_seed, epoch0=m.epochs_trained_,
                  drop_last=bool(drop_last), sample_weight=sw,
                  validate=None if Xv is None else validator(m, Xv, Yv, wv, threads),
                  callbacks=[] if quiet else cbs + callbacks,   # quiet: an lr='auto' candidate
                  custom_loss=None if m.loss.builtin else m.loss, n_threads=threads,
                  on_divergence="ignore" if quiet else on_divergence)
        hist = run.execute()
        m.epochs_trained_ += run.epochs_done
        return hist

    search = kept = None
    if auto:
        plain = restarts == 1 and early_stopping is None and not callbacks and not verbose \
            and not progress
        search, kept = search_for_fit(model, before, opt, sched, nt, epochs,
                                      X.shape[0] // B if drop_last else -(-X.shape[0] // B),
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
    replicas = ([copy.deepcopy(model) for _ in range(restarts)] if workers > 1
                else [model] * restarts)

    def train_one(r, threads):
        m = replicas[r]
        m.initialize(seeds[r])
        m.epochs_trained_ = 0
        o = copy.deepcopy(template)
        h = one_run(m, o, copy.deepcopy(sched), nt if threads is None else threads)
        h.params.update(init_seed=seeds[r], restart=r, parallel_restarts=workers)
        return h, (m.engine.theta.copy(), o, m.epochs_trained_)

    best, done = best_of_restarts(restarts, train_one, workers)
    theta, o, ep = done[best][1]
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
