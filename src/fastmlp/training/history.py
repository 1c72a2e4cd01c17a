"""What a training run records: :class:`History`, and the signals a run can raise or emit
(:class:`StopTraining`, :class:`DivergenceWarning`)."""
from __future__ import annotations

import math
from typing import Any, Iterator, Mapping, Optional, Sequence, Union, overload

import numpy as np

from .._common import StopTraining, call_repr
from .._typing import NDArray

__all__ = ["History", "EpochColumn", "StopTraining", "DivergenceWarning"]


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss or a gradient became NaN or infinite."""


class EpochColumn(Sequence[Any]):
    """One per-epoch list of a :class:`History` (``loss``, ``epoch``, ...): a read-only
    sequence over a compact NumPy array. Indexing gives Python numbers, slicing and ``+``
    give lists, it compares equal to a list of the same numbers, and ``np.asarray`` (or
    ``.values``) gives the array without a copy."""

    __slots__ = ("values",)

    def __init__(self, values: NDArray[Any]) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...

    def __getitem__(self, i: Union[int, slice]) -> Any:
        if isinstance(i, slice):
            return self.values[i].tolist()
        return self.values[i].item()

    def __iter__(self) -> Iterator[Any]:
        return iter(self.values.tolist())

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[Any]:
        return self.values if dtype is None else self.values.astype(dtype)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (EpochColumn, list, tuple)):
            return self.values.tolist() == list(other)
        return NotImplemented

    def __add__(self, other: Sequence[Any]) -> list[Any]:
        return self.values.tolist() + list(other)

    def __radd__(self, other: Sequence[Any]) -> list[Any]:
        return list(other) + self.values.tolist()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self.values.tolist())


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

    # defaults of the flags and settings (an instance sets its own when they change)
    _pending: Optional[tuple[int, Any, float, float]] = None
    _params_opt: Optional[tuple[str, dict[str, Any]]] = None
    stopped_early = False
    diverged = False
    diverged_epoch: Optional[int] = None
    interrupted = False
    best_restart: Optional[int] = None
    monitor = "loss"
    monitor_mode = "min"
    lr_search: Any = None
    restored_best = False

    def __init__(self) -> None:
        # the per-epoch figures: one compact float64 array per key (epoch numbers int64),
        # grown by doubling, the first ``_n`` entries in use; the public lists (``loss``, ...)
        # are read-only views of them, so a run of 10**7 epochs never holds 10**7 floats
        self._n = 0
        self._store: dict[str, NDArray[Any]] = {}
        # a whole run's figures as the engine gave them (_pending, set by _extend) are made
        # into columns when first read (_cols): a small fit whose history nobody reads never
        # builds them
        self.restarts: list[History] = []
        # the run's settings (``params``); the optimiser's description is formatted when first
        # read (_params_opt: its class name and hyper-parameters as the run ended)
        self._params: dict[str, Any] = {}

    # -- storage --------------------------------------------------------------------------
    @property
    def _cols(self) -> dict[str, NDArray[Any]]:
        """The columns (the pending whole run made into them first)."""
        if self._pending is not None:
            first_epoch, losses, lr, time_per_epoch = self._pending
            self._pending = None
            n = len(losses)               # (_n may be fewer: _truncate)
            block = np.empty((len(self._KEYS), max(n, 1)))
            block[0, :n] = losses                   # loss, then the three validation keys
            block[1:4, :n] = math.nan
            block[4, :n] = lr
            block[5, :n] = time_per_epoch
            cols: dict[str, NDArray[Any]] = dict(zip(self._KEYS, block))
            cols["epoch"] = np.arange(first_epoch, first_epoch + max(n, 1))
            self._store = cols
        return self._store

    @_cols.setter
    def _cols(self, cols: dict[str, NDArray[Any]]) -> None:
        self._pending = None
        self._store = cols

    def _reserve(self, n: int) -> dict[str, NDArray[Any]]:
        """The columns, with room for ``n`` entries (kept ones copied when they grow): the
        float keys are the rows of one block, the epoch numbers an int64 array."""
        cols = self._cols
        cap = len(cols["loss"]) if cols else 0
        if n > cap or not cols:
            cap = max(n, 2 * cap, 8)
            block = np.empty((len(self._KEYS), cap))
            new: dict[str, NDArray[Any]] = dict(zip(self._KEYS, block))
            new["epoch"] = np.empty(cap, np.int64)
            for k, v in cols.items():
                new[k][:self._n] = v[:self._n]
            self._cols = cols = new
        return cols

    def _column(self, key: str) -> EpochColumn:
        cols = self._cols
        return EpochColumn(cols[key][:self._n] if cols else
                           np.empty(0, np.int64 if key == "epoch" else np.float64))

    epoch = property(lambda self: self._column("epoch"), doc="Epoch numbers (from 1).")
    loss = property(lambda self: self._column("loss"), doc="Mean training loss per epoch.")
    val_loss = property(lambda self: self._column("val_loss"), doc="Validation loss.")
    val_metric = property(lambda self: self._column("val_metric"),
                          doc="Validation accuracy or R^2.")
    val_score = property(lambda self: self._column("val_score"),
                         doc="An estimator's validation score.")
    lr = property(lambda self: self._column("lr"), doc="Learning rate of each epoch.")
    time = property(lambda self: self._column("time"), doc="Seconds per epoch.")

    def _append(self, epoch: int, logs: Mapping[str, float]) -> None:
        i = self._n
        cols = self._reserve(i + 1)
        cols["epoch"][i] = int(epoch)
        for k in self._KEYS:
            cols[k][i] = float(logs.get(k, math.nan))
        self._n = i + 1

    def _extend(self, first_epoch: int, losses: Sequence[float], lr: float,
                time_per_epoch: float) -> None:
        """Record len(losses) epochs at once, numbered from ``first_epoch`` (a whole run done
        in one engine call)."""
        i, n = self._n, len(losses)
        if not self._store and self._pending is None:    # the first entries: kept as given
            self._pending = (int(first_epoch), losses, float(lr), float(time_per_epoch))
            self._n = n
            return
        cols = self._reserve(i + n)
        cols["epoch"][i:i + n] = np.arange(int(first_epoch), int(first_epoch) + n)
        cols["loss"][i:i + n] = losses
        for k in ("val_loss", "val_metric", "val_score"):
            cols[k][i:i + n] = math.nan
        cols["lr"][i:i + n] = float(lr)
        cols["time"][i:i + n] = float(time_per_epoch)
        self._n = i + n

    def _prepend(self, other: History) -> None:
        """Put the epochs of ``other`` (the run this one continues) before this run's."""
        m, n = other._n, self._n
        if not m:
            return
        mine = {k: v[:n].copy() for k, v in self._cols.items()}
        cols = self._reserve(m + n)
        for k in ("epoch",) + self._KEYS:
            cols[k][:m] = other._cols[k][:m]
            if n:
                cols[k][m:m + n] = mine[k]
        self._n = m + n

    def _truncate(self, n: int) -> None:
        self._n = min(self._n, max(int(n), 0))

    @property
    def params(self) -> dict[str, Any]:
        """The run's settings: batch_size, epochs, shuffle, drop_last, optimizer (its repr),
        seed, ... (a dict, which callers may extend)."""
        if self._params_opt is not None:
            name, hp = self._params_opt
            self._params_opt = None
            self._params["optimizer"] = call_repr(name, hp)
        return self._params

    def _set_params(self, params: dict[str, Any], optimizer: Any) -> None:
        """params.update(params), with ``optimizer``'s repr in params['optimizer'] (formatted
        when first read: the hyper-parameters are taken now)."""
        self._params.update(params)
        self._params["optimizer"] = None
        self._params_opt = (type(optimizer).__name__, dict(optimizer.hyperparameters()))

    def __getstate__(self) -> dict[str, Any]:
        cols = self._cols
        self.params                                       # formatted: the state is plain
        state = {k: v for k, v in self.__dict__.items() if k not in ("_store", "_pending")}
        state["_cols"] = {k: v[:self._n].copy() for k, v in cols.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        cols = state.pop("_cols", {})
        if "params" in state:                             # saved before params was a property
            state["_params"] = state.pop("params")
        state.setdefault("_params", {})
        state.setdefault("_params_opt", None)
        self.__dict__.update(state)
        self._cols = cols

    @property
    def history(self) -> dict[str, list[float]]:
        """{'loss': [...], 'val_loss': [...], ...} (validation keys only where measured)."""
        out = {"loss": list(self.loss)}
        for k in ("val_loss", "val_metric", "val_score"):
            vals = getattr(self, k)
            if not np.all(np.isnan(vals.values)):
                out[k] = list(vals)
        out["lr"] = list(self.lr)
        out["time"] = list(self.time)
        return out

    @property
    def monitored(self) -> EpochColumn:
        return self._column(self.monitor)

    @property
    def best_index(self) -> Optional[int]:
        """Position of the best monitored entry in the lists (None before any finite one)."""
        vals = self.monitored.values
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
        return self._n

    def __repr__(self) -> str:
        last = f", last loss {self.loss[-1]:.6g}" if self.loss else ""
        flags = [f for f in ("stopped_early", "diverged", "interrupted") if getattr(self, f)]
        extra = f", restarts={len(self.restarts)}" if self.restarts else ""
        return (f"History({len(self)} epochs{last}, best_epoch={self.best_epoch}"
                f"{', ' + ', '.join(flags) if flags else ''}{extra})")
