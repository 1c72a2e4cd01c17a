"""Callbacks: what a training run does between epochs.

A callback is any object with ``on_epoch_end(epoch, logs)`` (return True, or raise
:class:`StopTraining`, to stop after this epoch; ``epoch`` is the epoch's number, counted
from 1 as in :class:`~fastmlp.training.History`) and/or ``on_batch_end(batch, logs)`` (return
True to end the epoch after this batch and stop: the partial epoch is recorded); it may
also define ``on_train_begin(run)`` and ``on_train_end(run)``, where ``run`` is the
:class:`~fastmlp.training.loop.Run` (its ``engine``, ``history``, ``optimizer``).

``logs`` holds 'loss', 'lr', 'time', 'samples_seen' and, with validation, 'val_loss' and
'val_metric' (or an estimator's 'val_score').

The built-in ones implement the chapter's training practice and scikit-learn's:

* :class:`EarlyStopping` -- patience on a monitored value, best weights restored (Keras'
  rule: an epoch counts as an improvement when it beats the best by more than min_delta);
* :class:`NoImprovement` -- scikit-learn's ``tol`` / ``n_iter_no_change`` rule (stop when
  ``n_iter_no_change`` consecutive epochs failed to beat the best by ``tol``), optionally
  restoring the best weights (scikit-learn does so for validation-score early stopping);
* :class:`ProgressBar` and :class:`EpochLogger` -- progress on stderr (within long epochs
  too: a callback with ``on_progress(epoch, batches_done, n_batches, logs)`` hears about
  them), one line per epoch.

Every callback with ``on_epoch_end`` makes the run return to Python between epochs; without
any, all epochs run in one engine call.
"""
from __future__ import annotations

import math
import sys
import time
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional

from .._common import check_int
from .history import StopTraining

if TYPE_CHECKING:
    from .loop import Run

Logs = Mapping[str, float]

__all__ = ["Callback", "EarlyStopping", "NoImprovement", "ProgressBar", "EpochLogger"]


class Callback:
    """Base class for callbacks (optional: any object with ``on_epoch_end`` works).

    Define ``on_batch_end(batch, logs)`` (logs: 'loss', 'size', 'epoch') only if needed:
    it makes the run call the engine once per batch instead of once per epoch.
    """

    def on_epoch_end(self, epoch: int, logs: Logs) -> Optional[bool]:
        return None


class _BestTracker:
    """Keeps a copy of the weights of the best epoch and restores them at the end."""

    def __init__(self, restore_best: bool) -> None:
        self.restore_best = bool(restore_best)
        self.best_theta: Any = None
        self.best_at: Optional[int] = None
        self._run: Optional[Run] = None

    @property
    def run(self) -> Run:
        """The run in progress (between on_train_begin and on_train_end)."""
        if self._run is None:
            raise RuntimeError(f"{type(self).__name__} is used outside a training run")
        return self._run

    def _remember(self) -> None:
        if self.restore_best:
            self.best_theta = self.run.engine.theta.copy()
            self.best_at = len(self.run.history) - 1

    def on_train_end(self, run: Run) -> None:
        self._run = None                # the rule outlives the run (and may be pickled)
        if self.restore_best and self.best_theta is not None:
            if self.best_at != len(run.history) - 1:
                run.engine.theta[...] = self.best_theta
            run.restored_best = True


class EarlyStopping(_BestTracker):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs; restore the weights of the best epoch (``restore_best``).

    monitor: 'val_loss', 'loss', 'val_metric', 'val_score' or None (val_loss with
    validation, else loss). mode: 'min', 'max' or None (max for val_metric/val_score).
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, monitor: Optional[str] = None,
                 mode: Optional[str] = None, restore_best: bool = True) -> None:
        super().__init__(restore_best)
        self.patience = check_int("patience", patience, 1)
        self.min_delta = float(min_delta)
        if not math.isfinite(self.min_delta) or self.min_delta < 0:
            raise ValueError(f"min_delta must be a finite number >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.mode = mode
        self.best = math.inf
        self.wait = 0

    def on_train_begin(self, run: Run) -> None:
        self._run = run
        if self.monitor is None:
            self.monitor = "val_loss" if run.has_validation else "loss"
        if self.mode is None:
            self.mode = "max" if self.monitor in ("val_metric", "val_score") else "min"
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {self.mode!r}")
        run.history.monitor = self.monitor
        run.history.monitor_mode = self.mode
        self.best = -math.inf if self.mode == "max" else math.inf
        self.wait = 0

    def on_epoch_end(self, epoch: int, logs: Logs) -> bool:
        assert self.monitor is not None
        cur = logs.get(self.monitor)
        if cur is None:
            raise KeyError(f"EarlyStopping monitors {self.monitor!r}, which the run does not "
                           f"log (it logs {sorted(logs)})")
        better = cur > self.best + self.min_delta if self.mode == "max" else \
            cur < self.best - self.min_delta
        if better:
            self.best, self.wait = cur, 0
            self._remember()
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.run.history.stopped_early = True
            return True
        return False


class NoImprovement(_BestTracker):
    """scikit-learn's stopping rule: an epoch fails to improve when its ``monitor`` value is
    not better than the best so far by at least ``tol``; after more than
    ``n_iter_no_change`` consecutive failures, stop. The best value is updated by any
    improvement. ``monitor``: 'loss' (mode min) or 'val_score' (mode max, best weights
    restored at the end). The state persists across runs (scikit-learn's ``partial_fit``
    keeps counting), so create a new one to start afresh. ``n_iter_no_change=inf`` only
    tracks the best (and its weights).
    """

    def __init__(self, tol: float = 1e-4, n_iter_no_change: float = 10, monitor: str = "loss",
                 restore_best: Optional[bool] = None) -> None:
        if monitor not in ("loss", "val_loss", "val_score", "val_metric"):
            raise ValueError(f"monitor must be 'loss', 'val_loss', 'val_score' or "
                             f"'val_metric', got {monitor!r}")
        self.monitor = monitor
        self.mode = "max" if monitor in ("val_score", "val_metric") else "min"
        super().__init__(self.mode == "max" if restore_best is None else restore_best)
        self.tol = float(tol)
        self.n_iter_no_change = n_iter_no_change
        self.best = -math.inf if self.mode == "max" else math.inf
        self.count = 0
        self.stopped = False

    def on_train_begin(self, run: Run) -> None:
        self._run = run
        run.history.monitor = self.monitor
        run.history.monitor_mode = self.mode
        self.stopped = False
        if self.restore_best and self.best_theta is None:
            self.best_theta = run.engine.theta.copy()
            self.best_at = -1

    def on_epoch_end(self, epoch: int, logs: Logs) -> bool:
        v = logs[self.monitor]
        if self.mode == "max":
            self.count = self.count + 1 if v < self.best + self.tol else 0
            if v > self.best:
                self.best = v
                self._remember()
        else:
            self.count = self.count + 1 if v > self.best - self.tol else 0
            if v < self.best:
                self.best = v
                self._remember()
        if self.count > self.n_iter_no_change:
            self.stopped = True
            self.run.history.stopped_early = True
            return True
        return False


class ProgressBar:
    """A progress bar on stderr: tqdm when installed, else a carriage-return line with the
    loss and the time left.

    It counts epochs, and advances within an epoch too when an epoch takes longer than about
    ``2 * interval`` seconds (one second by default): such epochs run as several engine calls
    of about ``interval`` seconds each, with bitwise the same result (see
    :mod:`fastmlp.training.loop`). ``total``: the number of epochs (default: the run's);
    ``desc``: the bar's label; ``interval``: seconds between updates within an epoch.
    """

    def __init__(self, total: Optional[int] = None, desc: str = "fit",
                 interval: float = 0.5) -> None:
        self.total = total
        self.desc = desc
        self.progress_interval = float(interval)
        if not self.progress_interval >= 0:
            raise ValueError(f"interval must be a number of seconds >= 0, got {interval!r}")
        self.bar: Any = None
        self.n_epochs = 0

    def on_train_begin(self, run: Run) -> None:
        self.n_epochs = run.epochs if self.total is None else self.total
        self.first = run.epoch0          # epochs before this run (the numbering continues)
        self.pos = 0.0                   # epochs done in this run, fractions included
        self.t0 = time.perf_counter()
        try:
            from tqdm.auto import tqdm           # optional dependency
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=self.n_epochs, desc=self.desc, leave=True, unit="epoch",
                            bar_format="{l_bar}{bar}| {n:.2f}/{total} epochs "
                                       "[{elapsed}<{remaining}{postfix}]")

    def _show(self, epoch: int, pos: float, logs: Logs) -> None:
        post = {"loss": f"{logs['loss']:.4g}"}
        if "val_loss" in logs:
            post["val_loss"] = f"{logs['val_loss']:.4g}"
        if self.bar is not None:
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(pos - self.pos)
        else:
            el = time.perf_counter() - self.t0
            eta = el / pos * (self.n_epochs - pos) if pos > 0 else math.nan
            width = 20
            fill = int(width * min(pos / self.n_epochs, 1.0)) if self.n_epochs else width
            items = " ".join(f"{k}={v}" for k, v in post.items())
            sys.stderr.write(f"\r{self.desc}: epoch {epoch}/"
                             f"{self.first + self.n_epochs} [{'=' * fill}{' ' * (width - fill)}] "
                             f"{items} elapsed {el:.1f}s ETA {eta:.1f}s   ")
            sys.stderr.flush()
        self.pos = pos

    def on_progress(self, epoch: int, batches_done: int, n_batches: int, logs: Logs) -> None:
        """Part of epoch number ``epoch`` is done (``batches_done`` of ``n_batches``)."""
        done_before = epoch - 1 - self.first
        self._show(epoch, done_before + batches_done / max(n_batches, 1), logs)

    def on_epoch_end(self, epoch: int, logs: Logs) -> bool:
        self._show(epoch, float(epoch - self.first), logs)
        return False

    def on_train_end(self, run: Run) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            sys.stderr.write("\n")
            sys.stderr.flush()


class EpochLogger:
    """One line per epoch on stdout: loss, validation values, lr and time."""

    def on_train_begin(self, run: Run) -> None:
        self.last = run.epoch0 + run.epochs

    def on_epoch_end(self, epoch: int, logs: Logs) -> bool:
        items = " - ".join(f"{k}: {logs[k]:.5g}" for k in
                           ("loss", "val_loss", "val_metric", "val_score") if k in logs)
        print(f"epoch {epoch}/{self.last} - {items} - lr: {logs['lr']:.3g} - "
              f"{logs['time']:.3f}s")
        return False


def stop_requested(callbacks: Iterable[Any], epoch: int, logs: Logs) -> bool:
    """Run every on_epoch_end (all of them, even after one asks to stop); True to stop."""
    stop = False
    for cb in callbacks:
        try:
            if cb.on_epoch_end(epoch, logs) is True:
                stop = True
        except StopTraining:
            stop = True
    return stop
