"""``MLP.fit``: the chapter's training practice (4.3) as arguments, turned into one
:class:`~fastmlp.training.loop.Run` (or several, for restarts).

Regimes: ``batch_size=None`` is full-batch gradient descent (one step per epoch over all
samples); ``batch_size=1`` is stochastic gradient descent (every sample once per epoch, in a
fresh random order); ``batch_size=B`` is mini-batch SGD with a fixed B, the samples reshuffled
before every epoch (the last short batch is kept unless ``drop_last=True``).
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union

import numpy as np

from .._common import REAL_TYPES, check_int, derive_seed
from .._typing import ArrayLike, FloatArray
from ..losses import Loss, LossLike, missing_loss_error
from ..optim import Optimizer, OptimizerLike, Schedule, ScheduleLike, get_optimizer, get_schedule
from .callbacks import EarlyStopping, EpochLogger, ProgressBar
from .history import History
from .loop import Run, best_of_restarts, copy_optimizer_template, restart_workers

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


def _check_sample_weight(sample_weight: Optional[ArrayLike], n: int) -> Optional[FloatArray]:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold real numbers, got dtype {w.dtype}")
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"sample_weight must be 1-D with one weight per sample ({n}), got "
                         f"shape {w.shape}")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and >= 0")
    if not w.sum() > 0:
        raise ValueError("sample_weight must not sum to zero")
    return w


def _validator(model: MLP, Xv: FloatArray, Yv: FloatArray, wv: Optional[FloatArray],
               n_threads: Optional[int]) -> Callable[[], dict[str, float]]:
    """The validation logs of the model's current weights: val_loss and val_metric."""
    eng, loss = model.engine, model.loss
    assert loss is not None

    def validate() -> dict[str, float]:
        if not loss.builtin:
            a = eng.predict(Xv, n_threads=n_threads)
            if wv is None:
                value = float(loss.value(Yv, a))
            else:
                value = float(np.average([loss.value(Yv[i:i + 1], a[i:i + 1])
                                          for i in range(len(a))], weights=wv))
        else:
            # the engine's loss is the model's: loss and output in one pass, in chunks
            kw = {} if wv is None else {"sample_weight": wv}
            value, a = eng.evaluate(Xv, Yv, n_threads=n_threads, **kw)
        return {"val_loss": float(value), "val_metric": Loss.metric(Yv, a, model._mode)}
    return validate


def fit(model: MLP, X: ArrayLike, y: ArrayLike, loss: Optional[LossLike] = None,
        optimizer: OptimizerLike = None, lr: Optional[float] = None,
        batch_size: Optional[int] = 32, epochs: int = 10, shuffle: bool = True,
        drop_last: bool = False, validation_split: float = 0.0,
        validation_data: Optional[Sequence[ArrayLike]] = None, validation_shuffle: bool = False,
        early_stopping: Union[int, bool, EarlyStopping, None] = None, min_delta: float = 0.0,
        restarts: int = 1, callbacks: Optional[Sequence[Any]] = None, verbose: int = 0,
        progress: bool = False, schedule: ScheduleLike = None, seed: Optional[int] = None,
        n_threads: Optional[int] = None, on_divergence: str = "warn",
        sample_weight: Optional[ArrayLike] = None) -> History:
    """Train ``model`` on ``(X, y)``; returns a :class:`~fastmlp.training.History`.

    The implementation of :meth:`fastmlp.MLP.fit`, whose docstring describes every
    parameter (``model.fit(X, y, **options)`` is ``fit(model, X, y, **options)``). It
    checks the options, encodes the targets, holds out validation data and builds one
    :class:`~fastmlp.training.loop.Run` (or one per restart).
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
    if isinstance(validation_split, bool) or not isinstance(validation_split, REAL_TYPES) \
            or not (0 <= validation_split < 1):
        raise ValueError(f"validation_split must be a number in [0, 1), got "
                         f"{validation_split!r}")
    if validation_split and validation_data is not None:
        raise ValueError("give validation_split or validation_data, not both")
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
        check_int("n_threads", n_threads, 1)
    nt = model.n_threads if n_threads is None else n_threads
    callbacks = _check_callbacks(callbacks)
    sched = get_schedule(schedule)
    if optimizer is None and model.optimizer_ is not None:
        opt = get_optimizer(model.optimizer_, lr)
    else:
        opt = get_optimizer(optimizer, lr)

    # -- loss and data --------------------------------------------------------------------
    if loss is not None:
        model._set_loss(loss)
    elif model.loss is None:
        raise missing_loss_error(y, model.layer_sizes[-1])
    the_loss = model.loss
    assert the_loss is not None
    X = model._X(X)
    n = X.shape[0]
    if n == 0:
        raise ValueError("X has no samples (0 rows)")
    Y = model._encode(the_loss, y, n, fitting=True).Y
    sw = _check_sample_weight(sample_weight, n)
    Xv: Optional[FloatArray] = None
    Yv: Optional[FloatArray] = None
    wv: Optional[FloatArray] = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise TypeError("validation_data must be a pair (X_val, y_val) or a triple "
                            "(X_val, y_val, sample_weight_val)")
        Xv = model._X(validation_data[0], "validation_data X")
        if Xv.shape[0] == 0:
            raise ValueError("validation_data has no samples")
        Yv = model._encode(the_loss, validation_data[1], Xv.shape[0], fitting=False).Y
        if len(validation_data) == 3:
            wv = _check_sample_weight(validation_data[2], Xv.shape[0])
    elif validation_split:
        n_val = int(round(n * validation_split))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(f"validation_split={validation_split} of {n} samples leaves "
                             f"{n_val} for validation and {n - n_val} for training; both "
                             f"need at least 1")
        if validation_shuffle:
            order = np.random.default_rng(derive_seed(model.seed if seed is None else seed,
                                                      7)).permutation(n)
            X, Y = X[order], Y[order]
            sw = None if sw is None else sw[order]
        X, Xv = np.ascontiguousarray(X[:n - n_val]), np.ascontiguousarray(X[n - n_val:])
        Y, Yv = np.ascontiguousarray(Y[:n - n_val]), np.ascontiguousarray(Y[n - n_val:])
        if sw is not None:
            sw, wv = np.ascontiguousarray(sw[:n - n_val]), np.ascontiguousarray(sw[n - n_val:])
    n_train = X.shape[0]
    if batch_size is None:
        B = n_train
    else:
        # at most the whole training set (scikit-learn's rule; no warning, since the default
        # of 32 exceeds a toy data set)
        B = min(check_int("batch_size", batch_size, 1), n_train)
    shuffle_seed = derive_seed(model.seed if seed is None else seed, 0)
    if sw is not None:
        sw = sw.astype(model.dtype)
    if wv is not None:
        wv = wv.astype(model.dtype)

    def one_run(m: MLP, o: Optimizer, s: Schedule, threads: Optional[int]) -> History:
        cbs: list[Any] = []
        if stopper_args is not None:
            cbs.append(EarlyStopping(*stopper_args))
        elif early_stopping is not None:
            cbs.append(copy.deepcopy(early_stopping))
        if progress or verbose == 1:
            cbs.append(ProgressBar(epochs))
        if verbose >= 2:
            cbs.append(EpochLogger())
        run = Run(m.engine, X, Y, optimizer=o, schedule=s, batch_size=B, epochs=epochs,
                  shuffle=bool(shuffle), seed=shuffle_seed, epoch0=m.epochs_trained_,
                  drop_last=bool(drop_last), sample_weight=sw,
                  validate=(None if Xv is None or Yv is None
                            else _validator(m, Xv, Yv, wv, threads)),
                  callbacks=cbs + callbacks,
                  custom_loss=None if m.loss is None or m.loss.builtin else m.loss,
                  n_threads=threads,
                  on_divergence=on_divergence)
        hist = run.execute()
        m.epochs_trained_ += run.epochs_done
        return hist

    if restarts == 1:
        hist = one_run(model, opt, sched, nt)
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

    def train_one(r: int, threads: Optional[int]) -> tuple[History, Any]:
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
    hist.restarts = [h for h, _ in done]
    hist.best_restart = best
    model.history_ = hist
    return hist
