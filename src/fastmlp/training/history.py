"""What a training run records: :class:`History`, and the signals a run can raise or emit
(:class:`StopTraining`, :class:`DivergenceWarning`)."""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

import numpy as np

from .._common import StopTraining

__all__ = ["History", "StopTraining", "DivergenceWarning"]


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss or a gradient became NaN or infinite."""


class History:
    """What happened during one training run, one entry per completed epoch.

    **Epoch numbers count from 1**, everywhere fastmlp shows one (this History, the
    callbacks' ``epoch`` argument, verbose output, the progress bar, warnings): epoch k is the
    k-th epoch the model was trained, so after a run ``model.epochs_trained_`` is the number
    of the last epoch. A ``fit`` that continues training continues the numbering.

    Lists: ``epoch`` (those epoch numbers, one per entry), ``loss``
    (mean training loss over the epoch's batches, each measured before its update; with
    ``sample_weight`` the weighted mean), ``val_loss``, ``val_metric`` (accuracy or R^2),
    ``val_score`` (an estimator's validation score; NaN where not measured), ``lr``,
    ``time`` (seconds). ``history`` gives them as a Keras-like dict.

    ``monitor`` names the list that decides which epoch was best (``val_loss`` with
    validation, else ``loss``; ``val_score`` for the scikit-learn estimators' early
    stopping, where higher is better: ``monitor_mode`` is then 'max'). ``best_epoch`` is the
    number of the best epoch and ``best_index`` its position in the lists
    (``history.val_loss[history.best_index]``). Flags: ``stopped_early``, ``diverged``
    (``diverged_epoch``: the number of the epoch that diverged),
    ``interrupted``. With restarts, ``restarts`` holds every restart's History and
    ``best_restart`` the index of the one kept. With ``lr='auto'``, ``lr_search`` holds the
    sweep that chose the rate (a :class:`~fastmlp.training.lr_results.LRSweepResult`).
    """

    _KEYS = ("loss", "val_loss", "val_metric", "val_score", "lr", "time")

    def __init__(self) -> None:
        self.epoch: list[int] = []
        self.loss: list[float] = []
        self.val_loss: list[float] = []
        self.val_metric: list[float] = []
        self.val_score: list[float] = []
        self.lr: list[float] = []
        self.time: list[float] = []
        self.stopped_early = False
        self.diverged = False
        self.diverged_epoch: Optional[int] = None
        self.interrupted = False
        self.restarts: list[History] = []
        self.best_restart: Optional[int] = None
        self.params: dict[str, Any] = {}
        self.monitor = "loss"
        self.monitor_mode = "min"
        self.lr_search: Any = None
        self.restored_best = False

    def _append(self, epoch: int, logs: Mapping[str, float]) -> None:
        self.epoch.append(int(epoch))
        for k in self._KEYS:
            getattr(self, k).append(float(logs.get(k, math.nan)))

    def _extend(self, first_epoch: int, losses: Sequence[float], lr: float,
                time_per_epoch: float) -> None:
        """Record len(losses) epochs at once, numbered from ``first_epoch`` (a whole run done
        in one engine call)."""
        n = len(losses)
        self.epoch.extend(range(int(first_epoch), int(first_epoch) + n))
        self.loss.extend(np.asarray(losses, dtype=float).tolist())
        for k in ("val_loss", "val_metric", "val_score"):
            getattr(self, k).extend([math.nan] * n)
        self.lr.extend([float(lr)] * n)
        self.time.extend([float(time_per_epoch)] * n)

    def _prepend(self, other: History) -> None:
        """Put the epochs of ``other`` (the run this one continues) before this run's."""
        for k in ("epoch",) + self._KEYS:
            getattr(self, k)[:0] = getattr(other, k)

    def _truncate(self, n: int) -> None:
        for k in ("epoch",) + self._KEYS:
            del getattr(self, k)[n:]

    @property
    def history(self) -> dict[str, list[float]]:
        """{'loss': [...], 'val_loss': [...], ...} (validation keys only where measured)."""
        out = {"loss": list(self.loss)}
        for k in ("val_loss", "val_metric", "val_score"):
            vals = getattr(self, k)
            if any(not math.isnan(v) for v in vals):
                out[k] = list(vals)
        out["lr"] = list(self.lr)
        out["time"] = list(self.time)
        return out

    @property
    def monitored(self) -> list[float]:
        return getattr(self, self.monitor)

    @property
    def best_index(self) -> Optional[int]:
        """Position of the best monitored entry in the lists (None before any finite one)."""
        vals = np.asarray(self.monitored, dtype=float)
        if vals.size == 0 or np.all(np.isnan(vals)):
            return None
        return int(np.nanargmax(vals) if self.monitor_mode == "max" else np.nanargmin(vals))

    @property
    def best_epoch(self) -> Optional[int]:
        """Number of the best epoch (counted from 1, like ``epoch``; None before any finite
        monitored value)."""
        i = self.best_index
        return None if i is None else self.epoch[i]

    @property
    def best_loss(self) -> Optional[float]:
        """The monitored value of the best epoch (None before any finite one)."""
        i = self.best_index
        return None if i is None else self.monitored[i]

    def final_score(self, restored_best: bool = False) -> float:
        """How good the weights the run ended with are, lower is better (inf if unusable):
        the monitored value of the best epoch when the run restored it, else of the last."""
        vals = self.monitored
        if not vals:
            return math.inf
        b = self.best_index if restored_best else len(vals) - 1
        v = vals[b] if b is not None else math.nan
        if not math.isfinite(v):
            return math.inf
        return -v if self.monitor_mode == "max" else v

    def __len__(self) -> int:
        return len(self.loss)

    def __repr__(self) -> str:
        last = f", last loss {self.loss[-1]:.6g}" if self.loss else ""
        flags = [f for f in ("stopped_early", "diverged", "interrupted") if getattr(self, f)]
        extra = f", restarts={len(self.restarts)}" if self.restarts else ""
        return (f"History({len(self)} epochs{last}, best_epoch={self.best_epoch}"
                f"{', ' + ', '.join(flags) if flags else ''}{extra})")
