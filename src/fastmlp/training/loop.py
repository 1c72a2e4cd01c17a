"""The training loop (chapter 4.3): the one place that drives the engine through epochs.

``MLP.fit``, the scikit-learn estimators' ``fit``/``partial_fit`` and the command line all
train through :class:`Run` (and :func:`best_of_restarts` for several starting points). A
Run owns: batching and shuffling (in C), the learning-rate schedule, validation, the
callbacks (stopping rules, progress, the user's own), divergence and Ctrl-C.

How much runs in C per Python call:

* a user-defined loss (Python gradient) or a callback with ``on_batch_end``: one engine call
  per batch;
* otherwise, when something happens between epochs (validation, a callback, a changing
  schedule, an objective to report): one ``train_epochs`` call per epoch;
* otherwise ALL epochs run in ONE ``train_epochs`` call.

**Progress within an epoch.** A callback with ``on_progress(epoch, batches_done, n_batches,
logs)`` (the :class:`~fastmlp.training.ProgressBar`) hears about a long epoch while it runs,
without falling back to one engine call per batch: an epoch that takes longer than twice the
callback's ``progress_interval`` (0.5 s for the bar: so epochs over about a second) runs as
several ``train_epochs`` calls over consecutive ranges of its batches, each about
``progress_interval`` long. The batches are exactly those of the whole-epoch call (the same
rows, in the same order, cut at the same places), so the weights are bitwise the same; the
epoch's mean loss is assembled from the calls' means and may differ from the single call's in
the last bits. Epochs shorter than that run in one call as before; the first epoch of a run
(its length unknown) starts with one batch and grows the calls geometrically.

The epoch order is ``fastmlp._core.permutation(seed, epoch)`` -- a counter-based generator,
so it is the same on any number of threads and a resumed run continues the sequence.

**Divergence** (the same policy on every path): when the loss or a gradient of a step
becomes NaN or infinite, that step changes nothing and training stops. The weights are those
of the last finite step -- or, when a stopping rule restores the best epoch's weights, those
-- ``history.diverged`` is True and a :class:`DivergenceWarning` names the epoch and
suggests a smaller learning rate (``on_divergence="raise"``: a ``FloatingPointError``).

**Ctrl-C** (``KeyboardInterrupt``) leaves the weights and the optimiser at the end of the
last completed epoch recorded in the history (``history.interrupted`` is True) and the run
returns normally; a whole-run engine call stops at its next epoch boundary, so the wait is
at most about one epoch. Runs side by side in threads (restarts, learning-rate sweeps:
:func:`run_concurrently`) all stop at their next epoch boundary the same way: a
:class:`fastmlp._core.StopFlag` shared by the runs of one call asks them to.

**Threads**: how runs side by side share them is :mod:`fastmlp.training.concurrency`.
"""
from __future__ import annotations

import math
import time
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

from .. import _core
from .._typing import FloatArray
from ..losses import Loss
from ..optim import Constant, Optimizer, ScheduleLike, get_schedule
from .batches import BatchPlan
from .callbacks import stop_requested
from .concurrency import (best_of_restarts, copy_optimizer_template, enter_run,  # noqa: F401
                          restart_workers, run_concurrently, shared_threads, warn_user,
                          worker_stop_flag)
from .history import DivergenceWarning, History, StopTraining
from .objective import custom_loss_gradient

__all__ = ["Run", "best_of_restarts", "restart_workers", "run_concurrently", "warn_user"]


class _StopRequested(Exception):
    """Raised inside Run.execute when its StopFlag asks it to stop (a sibling run's Ctrl-C)."""


class Run:
    """One training run of ``engine`` on encoded targets ``Y`` (see the module docs).

    Parameters: ``optimizer`` (a :class:`fastmlp.optim.Optimizer`, whose state is used and
    updated), ``schedule`` (a :class:`fastmlp.optim.Schedule`), ``plan`` (the epoch's cut
    into batches, a :class:`~fastmlp.training.batches.BatchPlan`; or ``batch_size``,
    ``shuffle`` and ``drop_last``, from which the Run makes one),
    ``epochs`` (>= 0), ``shuffle``, ``seed`` (the shuffling stream), ``epoch0`` (the global
    number of the first epoch; a resumed run continues the shuffling sequence),
    ``samples0`` (samples seen before this run, for schedules counting samples),
    ``drop_last``, ``sample_weight`` (per-row weights: each batch's loss is the weighted
    mean of its samples' costs), ``validate`` (a callable returning the validation logs,
    e.g. ``{'val_loss': .., 'val_metric': ..}``), ``callbacks``, ``objective`` (maps the
    engine's mean loss to the reported 'loss', e.g. an estimator's units plus its L2 term),
    ``custom_loss`` (a :class:`fastmlp.losses.Loss` computed in NumPy), ``n_threads``,
    ``on_divergence`` ('warn', 'raise', or 'ignore': only recorded in the History, for
    runs that expect some rates to diverge, e.g. a learning-rate sweep), ``epoch_order``
    (a callable ``epoch -> rows``, called once as each epoch starts, giving that epoch's
    order of the rows in place of ``fastmlp._core.permutation(seed, epoch)``; used only
    with ``shuffle=True``, e.g. by the scikit-learn estimators to draw scikit-learn's order).
    """

    def __init__(self, engine: Any, X: FloatArray, Y: FloatArray, *, optimizer: Optimizer,
                 schedule: ScheduleLike = None, batch_size: Optional[int] = None,
                 epochs: int, shuffle: bool = True, seed: int = 0, epoch0: int = 0, samples0: int = 0,
                 drop_last: bool = False, sample_weight: Optional[FloatArray] = None,
                 validate: Optional[Callable[[], Mapping[str, float]]] = None,
                 callbacks: Sequence[Any] = (),
                 objective: Optional[Callable[[float], float]] = None,
                 custom_loss: Optional[Loss] = None, n_threads: Optional[int] = None,
                 on_divergence: str = "warn",
                 share_threads: Optional[bool] = None,
                 epoch_order: Optional[Callable[[int], Any]] = None,
                 plan: Optional[BatchPlan] = None) -> None:
        self.engine = engine
        self.X, self.Y = X, Y
        self.optimizer = optimizer
        self.schedule = get_schedule(schedule)
        # the cut into batches: ``plan``, or one made from batch_size, drop_last and shuffle
        if plan is None:
            plan = BatchPlan.make(X.shape[0], batch_size, drop_last=drop_last, shuffle=shuffle)
        elif plan.n != X.shape[0]:
            raise ValueError(f"the batch plan is for {plan.n} rows, X has {X.shape[0]}")
        self.plan = plan
        self.batch_size = plan.size
        self.epochs = int(epochs)
        self.shuffle = plan.shuffle
        self.seed = int(seed)
        self.epoch0 = int(epoch0)
        self.samples0 = int(samples0)
        self.drop_last = plan.drop_last
        self.sample_weight = sample_weight
        self.validate = validate
        self.callbacks = list(callbacks)
        self.objective = objective
        self.custom_loss = custom_loss
        self.n_threads = n_threads
        # share the threads with concurrent runs: by default when the count was left open
        self.share_threads = n_threads is None if share_threads is None else bool(share_threads)
        self.on_divergence = on_divergence
        self.epoch_order = epoch_order if self.shuffle else None
        self.has_validation = validate is not None
        self.history = History()
        self.history.monitor = "val_loss" if validate is not None else "loss"
        self.restored_best = False
        self.epochs_done = 0
        self.stop_after_epoch = False     # set when a callback's on_batch_end returns True
        # set by run_concurrently's caller on Ctrl-C: this run stops at its next epoch boundary
        self.stop = worker_stop_flag()
        self._theta_view: Any = None

    def _check_stop(self) -> None:
        if self.stop is not None and self.stop.is_set():
            raise _StopRequested

    # -- state kept for Ctrl-C ------------------------------------------------------------
    def _snapshot(self, old: Optional[tuple[Any, ...]] = None) -> tuple[Any, ...]:
        """The state to restore on Ctrl-C; ``old`` (an earlier snapshot) lends its arrays,
        overwritten in place, so a run holds one copy of the parameters, not two at once."""
        opt = self.optimizer
        # one view of the parameters for the run's snapshots (dropped when the run ends)
        theta = self._theta_view
        if theta is None:
            theta = self._theta_view = self.engine.theta
        state = opt.state
        if (old is not None and old[0].shape == theta.shape and old[1].keys() == state.keys()
                and all(old[1][k].shape == v.shape for k, v in state.items())):
            old[0][...] = theta
            for k, v in state.items():
                old[1][k][...] = v
            kept_theta, kept_state = old[0], old[1]
        else:
            kept_theta, kept_state = theta.copy(), {k: v.copy() for k, v in state.items()}
        return (kept_theta, kept_state, opt.t, opt.lr, self.epochs_done, len(self.history))

    def _restore(self, snap: tuple[Any, ...]) -> None:
        theta, state, t, lr, done, n = snap
        opt = self.optimizer
        self.engine.theta[...] = theta
        for k, v in state.items():      # in place: the vectors may be referenced elsewhere
            if k in opt.state and opt.state[k].shape == v.shape:
                opt.state[k][...] = v
            else:
                opt.state[k] = v
        opt.t = t
        opt._set_lr_quietly(lr)
        self.epochs_done = done
        self.history._truncate(n)

    def _order(self, epoch: int, N: int, in_order: bool) -> Any:
        """Epoch ``epoch``'s row order (None: in order). An ``epoch_order`` is asked for
        every epoch, a single batch included (its draws are part of its stream)."""
        if self.epoch_order is not None:
            order = np.asarray(self.epoch_order(epoch), dtype=np.intp)
            if order.shape != (N,):
                raise ValueError(f"epoch_order gave {order.shape} rows, expected ({N},)")
            return order
        return None if in_order else _core.permutation(self.seed, epoch, N)

    # -- one epoch, one engine call per batch ----------------------------------------------
    def _epoch_per_batch(self, epoch: int, batch_cbs: Sequence[Any], s1: Optional[FloatArray],
                         s2: Optional[FloatArray], progress: Sequence[Any] = (),
                         interval: float = math.inf) -> tuple[float, bool]:
        eng, loss, opt = self.engine, self.custom_loss, self.optimizer
        plan = self.plan
        n_batches = plan.n_batches
        last_report = time.perf_counter()
        X, Y, sw = self.X, self.Y, self.sample_weight
        nt = self._threads()
        order: Any = self._order(epoch, plan.n, plan.in_order)
        in_order = order is None
        total, seen = 0.0, 0
        for bi, (start, nb) in enumerate(plan.batches()):
            idx = np.arange(start, start + nb) if in_order else order[start:start + nb]
            Xb, Yb = (X[start:start + nb], Y[start:start + nb]) if in_order else (X[idx], Y[idx])
            wb = None if sw is None else sw[idx]
            if loss is None:
                kw = {} if wb is None else {"sample_weight": wb}
                try:
                    val, t = eng.train_step(Xb, Yb, opt.spec(), s1, s2, n_threads=nt, **kw)
                except FloatingPointError:
                    return math.nan, True
                opt.t = int(t)
            else:
                val, g, S = custom_loss_gradient(eng, loss, Xb, Yb, wb, nt)
                if S <= 0:
                    continue
                if g is None:
                    return math.nan, True
                eng.backward(Xb, grad_output=g, n_threads=nt)
                try:     # refuses a non-finite gradient or result, changing nothing
                    opt.t = int(eng.update(opt.spec(S), s1, s2, n_threads=nt))
                except FloatingPointError:
                    return math.nan, True
            total += val * nb
            seen += nb
            stop = False
            for cb in batch_cbs:
                if cb.on_batch_end(bi, {"loss": val, "size": nb, "epoch": epoch + 1}) is True:
                    stop = True
            if progress and time.perf_counter() - last_report >= interval:
                last_report = time.perf_counter()
                for cb in progress:
                    cb.on_progress(epoch + 1, bi + 1, n_batches, {"loss": total / seen})
            if stop:
                self.stop_after_epoch = True
                break
        return (total / seen if seen else math.nan), False

    # -- one epoch as several engine calls (progress reports within a long epoch) ----------
    def _epoch_in_chunks(self, epoch: int, s1: Optional[FloatArray], s2: Optional[FloatArray],
                         progress_cbs: Sequence[Any], interval: float,
                         per_batch_s: Optional[float]) -> tuple[float, bool]:
        """Epoch ``epoch`` (0-based) as train_epochs calls over consecutive batch ranges;
        returns (mean loss, diverged)."""
        eng, opt = self.engine, self.optimizer
        X, Y, sw, plan = self.X, self.Y, self.sample_weight, self.plan
        B, n_batches, rows_end = plan.size, plan.n_batches, plan.rows
        order: Any = self._order(epoch, plan.n, plan.in_order)
        in_order = order is None
        done = 0
        total, seen = 0.0, 0
        chunk = 1 if per_batch_s is None else _chunk_batches(interval, per_batch_s, n_batches)
        while done < n_batches:
            k = min(chunk, n_batches - done)
            r0, r1 = done * B, min((done + k) * B, rows_end)
            if in_order:
                Xc, Yc = X[r0:r1], Y[r0:r1]
                wc = None if sw is None else sw[r0:r1]
            else:
                idx = order[r0:r1]
                Xc, Yc = X[idx], Y[idx]
                wc = None if sw is None else sw[idx]
            kw = {} if wc is None else {"sample_weight": wc}
            t0 = time.perf_counter()
            losses, t, div = eng.train_epochs(Xc, Yc, min(B, r1 - r0), 1, opt.spec(), s1, s2,
                                              shuffle=False, epoch0=epoch,
                                              n_threads=self._threads(),
                                              stop=self.stop, **kw)
            opt.t = int(t)
            if eng.interrupted:
                self._check_stop()
                raise KeyboardInterrupt
            if div:
                return math.nan, True
            rows = plan.counted_rows(wc, r1 - r0)
            if rows:
                total += float(losses[0]) * rows
                seen += rows
            done += k
            dt = max(time.perf_counter() - t0, 1e-9) / k
            chunk = min(2 * k, _chunk_batches(interval, dt, n_batches))
            logs = {"loss": total / seen if seen else math.nan}
            for cb in progress_cbs:
                cb.on_progress(epoch + 1, done, n_batches, logs)
        return (total / seen if seen else math.nan), False

    # -- the run ---------------------------------------------------------------------------
    def _diverged(self, epoch: int) -> None:
        """Record and report divergence in epoch number ``epoch`` (counted from 1)."""
        hist, opt = self.history, self.optimizer
        hist.diverged = True
        hist.diverged_epoch = int(epoch)
        msg = (f"training diverged in epoch {epoch}: the loss or a gradient became NaN or "
               f"infinite, so training stopped; the model keeps its last finite weights"
               f"{' (or its best epoch, when a stopping rule restores it)' if self.callbacks else ''}."
               f" The learning rate (lr={opt.lr:g}) is probably too large: try a smaller one "
               f"(e.g. lr={opt.lr / 10:g}).")
        if self.on_divergence == "raise":
            raise FloatingPointError(msg)
        if self.on_divergence == "warn":
            warn_user(msg, DivergenceWarning)

    def _threads(self) -> Optional[int]:
        return shared_threads(self.n_threads, self.share_threads)

    def execute(self) -> History:
        """Train; returns the :class:`History` (also ``self.history``)."""
        enter_run(1)
        try:
            return self._execute()
        finally:
            enter_run(-1)

    def _execute(self) -> History:
        eng, opt, hist, sched = self.engine, self.optimizer, self.history, self.schedule
        opt._ensure_state(eng.n_params, eng.dtype)
        s1, s2 = opt._vectors()
        cbs = self.callbacks
        batch_cbs: list[Any] = []
        epoch_cbs: list[Any] = []
        progress_cbs: list[Any] = []
        if cbs:
            batch_cbs = [cb for cb in cbs if callable(getattr(cb, "on_batch_end", None))]
            epoch_cbs = [cb for cb in cbs if callable(getattr(cb, "on_epoch_end", None))]
            progress_cbs = [cb for cb in cbs if callable(getattr(cb, "on_progress", None))]
        interval = (min(float(getattr(cb, "progress_interval", 0.5)) for cb in progress_cbs)
                    if progress_cbs else math.inf)
        per_batch = self.custom_loss is not None or bool(batch_cbs)
        per_epoch = (per_batch or self.validate is not None or bool(epoch_cbs)
                     or sched.per_epoch or self.objective is not None
                     or self.epoch_order is not None)
        sw_kw = {} if self.sample_weight is None else {"sample_weight": self.sample_weight}
        n = self.X.shape[0]
        e0 = self.epoch0
        started = []
        snap = None
        try:
            for cb in cbs:
                if callable(getattr(cb, "on_train_begin", None)):
                    cb.on_train_begin(self)
                started.append(cb)
            # Ctrl-C leaves the model at an epoch boundary. A whole-run engine call only ever
            # stops between epochs, so it needs no copy; the per-epoch loop keeps one
            # (parameters and optimiser state) to undo a half-done or half-recorded epoch.
            snap = self._snapshot() if per_epoch else None
            if type(sched) is not Constant or opt.lr != opt.base_lr:   # (Constant: base_lr)
                opt.lr = sched(e0, opt.base_lr, opt.lr, None)
            if not per_epoch:
                t0 = time.perf_counter()
                losses, t, div = eng.train_epochs(
                    self.X, self.Y, self.batch_size, self.epochs, opt.spec(), s1, s2,
                    shuffle=self.shuffle, seed=self.seed, epoch0=e0, drop_last=self.drop_last,
                    n_threads=self._threads(), stop=self.stop, **sw_kw)
                opt.t = int(t)
                dt = (time.perf_counter() - t0) / max(len(losses) + div, 1)
                hist._extend(e0 + 1, losses, opt.lr, dt)
                self.epochs_done = len(losses)
                if div:
                    self._diverged(e0 + len(losses) + 1)
                if eng.interrupted:   # Ctrl-C, honoured by the engine between two epochs
                    self._check_stop()
                    raise KeyboardInterrupt
            else:
                epoch_s = None            # the last epoch's duration (None: not known yet)
                for i in range(self.epochs):
                    e = e0 + i
                    self._check_stop()
                    t0 = time.perf_counter()
                    if per_batch:
                        v, div = self._epoch_per_batch(e, batch_cbs, s1, s2, progress_cbs,
                                                       interval)
                    elif progress_cbs and (epoch_s is None or epoch_s > 2 * interval):
                        n_batches = self.plan.n_batches
                        v, div = self._epoch_in_chunks(
                            e, s1, s2, progress_cbs, interval,
                            None if epoch_s is None else epoch_s / max(n_batches, 1))
                    else:
                        Xe, Ye, kw_e, shuffle_e = self.X, self.Y, sw_kw, self.shuffle
                        if self.epoch_order is not None:     # the rows in the epoch's order
                            rows = self._order(e, n, False)
                            Xe, Ye, shuffle_e = self.X[rows], self.Y[rows], False
                            if self.sample_weight is not None:
                                kw_e = {"sample_weight": self.sample_weight[rows]}
                        losses, t, div = eng.train_epochs(
                            Xe, Ye, self.batch_size, 1, opt.spec(), s1, s2,
                            shuffle=shuffle_e, seed=self.seed, epoch0=e,
                            drop_last=self.drop_last, n_threads=self._threads(),
                            stop=self.stop, **kw_e)
                        opt.t = int(t)
                        if eng.interrupted:
                            self._check_stop()
                            raise KeyboardInterrupt
                        v = losses[0] if len(losses) else math.nan
                    if div:
                        self._diverged(e + 1)
                        break
                    self.epochs_done += 1
                    epoch_s = time.perf_counter() - t0
                    logs = {"loss": float(v), "lr": opt.lr, "time": epoch_s,
                            "samples_seen": self.samples0 + n * self.epochs_done}
                    if self.objective is not None:
                        logs["loss"] = float(self.objective(logs["loss"]))
                    if self.validate is not None:
                        logs.update(self.validate())
                    hist._append(e + 1, logs)
                    # None while the arrays are rewritten: a Ctrl-C then keeps the model as
                    # it is, which is this recorded epoch's end
                    old, snap = snap, None
                    snap = self._snapshot(old)
                    stop = stop_requested(epoch_cbs, e + 1, logs) or self.stop_after_epoch
                    try:
                        opt.lr = sched(e + 1, opt.base_lr, opt.lr, logs)
                    except StopTraining:
                        hist.stopped_early = stop = True
                    if stop:
                        break
        except (KeyboardInterrupt, _StopRequested) as exc:
            if snap is not None:
                self._restore(snap)
            hist.interrupted = True
            if isinstance(exc, KeyboardInterrupt):   # a stop request: its caller reports it
                warn_user(f"training interrupted (KeyboardInterrupt); the model is left at "
                          f"the end of its last completed epoch ({len(hist)} epochs "
                          f"recorded)", RuntimeWarning)
        finally:
            self._theta_view = None
            for cb in started:
                if callable(getattr(cb, "on_train_end", None)):
                    cb.on_train_end(self)
        hist.restored_best = self.restored_best
        hist._set_params({"batch_size": self.batch_size, "epochs": self.epochs,
                          "shuffle": self.shuffle, "drop_last": self.drop_last,
                          "optimizer": None, "seed": self.seed,
                          "weighted": self.sample_weight is not None,
                          "single_call": not per_epoch, "per_batch": per_batch}, opt)
        return hist


def _chunk_batches(interval: float, per_batch_s: float, n_batches: int) -> int:
    """How many batches take about ``interval`` seconds (at least 1, at most the epoch)."""
    if not per_batch_s > 0:
        return n_batches
    return int(max(1, min(n_batches, interval / per_batch_s)))
