"""What the learning-rate searches of :mod:`.lr_search` return, and the rules that choose a rate.

* :class:`LRSweepResult` -- one short training run per candidate rate: each rate's loss
  curves, which rates diverged and in which epoch, the chosen rate and the rule that chose
  it, ``plot()``.
* :class:`LRRangeResult` -- the range test (Smith, 2017): the loss of every batch against the
  rate it was trained with, the suggested rate and its rule, ``plot()``.
* :class:`SweepDivergedError` -- every candidate rate diverged (the sweep's result is
  attached).

Rules of a sweep (``rule=``), applied to each rate's monitored value at the end of its run
(the validation loss when there is validation, else the training loss; an estimator's
validation score -- accuracy or R^2, higher is better -- with early stopping, compared as
the loss-like 1 - score); rates that diverged never win:

* ``'largest_near_min'`` (the default) -- the largest rate whose final loss is within 10 %
  of the lowest. A sweep is short, and a short run favours rates smaller than the best
  rate for a long one (the "short-horizon bias" of Wu et al., 2018): near the largest
  stable rate a larger rate is slower at first and better in the end. Measured on the
  benchmarks' workloads (``benchmarks/bench_lr.py``), a sweep of a tenth of the epochs
  with 'min_loss' chose a rate whose full run ended 38 % above the best on one workload;
  this rule kept all three within 1 %;
* ``'min_loss'`` -- the rate with the lowest final loss;
* a callable ``rule(result) -> index`` into ``result.lrs``.

Rules of a range test: ``'minimum'`` (the rate of the lowest smoothed loss, divided by 10:
a rate at the edge of the explosion is too large to train with) and ``'steepest'`` (the rate
where the smoothed loss falls fastest), or a callable ``rule(result) -> rate``.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

__all__ = ["LRSweepResult", "LRRangeResult", "SweepDivergedError", "SWEEP_RULES",
           "RANGE_RULES"]


class SweepDivergedError(FloatingPointError):
    """Every candidate learning rate of a sweep diverged; ``result`` holds their curves."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


def _fmt(lr):
    return f"{lr:.3g}"


# ---------------------------------------------------------------------------------------------
# sweep
# ---------------------------------------------------------------------------------------------
def _rule_min_loss(res):
    return int(np.argmin(res.scores))


NEAR_MIN = 0.10         # 'largest_near_min': how far above the lowest final loss still counts


def _rule_largest_near_min(res):
    best = float(np.min(res.scores))
    return int(np.flatnonzero(res.scores <= best + abs(best) * NEAR_MIN)[-1])


SWEEP_RULES = {"largest_near_min": _rule_largest_near_min, "min_loss": _rule_min_loss}
_SWEEP_REASONS = {"min_loss": "the {best} final {what}",
                  "largest_near_min": "the largest rate within 10 % of the {best} final {what}"}


def _check_rule(rule, rules, returns):
    if callable(rule):
        return rule
    if rule not in rules:
        raise ValueError(f"rule must be one of {sorted(rules)} or a callable "
                         f"rule(result) -> {returns}, got {rule!r}")
    return rule


def check_sweep_rule(rule):
    return _check_rule(rule, SWEEP_RULES, "index")


class LRSweepResult:
    """One short training run per candidate learning rate, all from the same weights.

    Attributes: ``lrs`` (ascending), ``histories`` (each rate's
    :class:`~fastmlp.training.History`), ``loss`` and ``val_loss`` (per rate, an array of
    per-epoch values; ``val_loss`` None without validation), ``monitor`` and ``mode`` (what
    the rule compares: 'val_loss'/'loss' (min), or 'val_score' (max)), ``final`` (each
    rate's last monitored value; NaN where none), ``scores`` (what the rules compare, lower
    is better: the final loss, or 1 - the final score; inf for a diverged rate),
    ``diverged`` (bool per rate), ``diverged_epoch`` (per rate: the epoch of the sweep,
    counted from 1, in which it diverged; None if it did not), ``stage`` (0 for the grid's
    rates, k for those refinement stage k added), ``epochs``, ``workers`` (how many
    candidates ran at once), and the choice: ``index``, ``lr``, ``rule`` (its name) and
    ``reason`` (a sentence). ``table()`` prints it all, ``picture()`` picks the chapter's
    three rates, ``plot()`` draws them.
    """

    def __init__(self, lrs, histories, epochs, rule="largest_near_min", optimizer=None,
                 stage=None, beyond=None):
        self.lrs = np.asarray(lrs, dtype=np.float64)
        self.stage = (np.zeros(len(self.lrs), dtype=int) if stage is None
                      else np.asarray(stage, dtype=int))
        # the rates added one grid step beyond an edge the chosen rate was at
        self.beyond = (np.zeros(len(self.lrs), dtype=bool) if beyond is None
                       else np.asarray(beyond, dtype=bool))
        self.histories = list(histories)
        self.epochs = int(epochs)
        self.optimizer = optimizer
        first = self.histories[0]
        self.monitor, self.mode = first.monitor, first.monitor_mode
        self.loss = [np.asarray(h.loss, dtype=np.float64) for h in self.histories]
        has_val = any(np.isfinite(h.val_loss).any() for h in self.histories if h.val_loss)
        self.val_loss = ([np.asarray(h.val_loss, dtype=np.float64) for h in self.histories]
                         if has_val else None)
        self.diverged = np.array([bool(h.diverged) for h in self.histories])
        # the epochs of the sweep are numbered from 1, as everywhere: a run that diverged
        # recorded the epochs before the one that diverged
        self.diverged_epoch = [len(h) + 1 if h.diverged else None for h in self.histories]
        self.final = np.array([float(h.monitored[-1]) if len(h) else math.nan
                               for h in self.histories])
        scores = 1.0 - self.final if self.mode == "max" else self.final.copy()
        scores[self.diverged | ~np.isfinite(scores)] = math.inf
        self.scores = scores
        self.index: Optional[int] = None
        self.lr: Optional[float] = None
        self.workers = 1                 # how many candidates ran at once (set by the sweep)
        self.rule = rule if isinstance(rule, str) else getattr(rule, "__name__", "custom")
        self.reason = None
        if np.all(np.isinf(scores)):
            return
        idx = (SWEEP_RULES[rule] if isinstance(rule, str) else rule)(self)
        idx = int(idx)
        if not (0 <= idx < len(self.lrs)) or math.isinf(scores[idx]):
            raise ValueError(f"the sweep rule {self.rule!r} chose index {idx}, which is not a "
                             f"rate that trained without diverging")
        self.index, self.lr = idx, float(self.lrs[idx])
        what = {"val_loss": "validation loss", "loss": "training loss",
                "val_score": "1 - validation score",
                "val_metric": "1 - validation metric"}.get(self.monitor, self.monitor)
        template = _SWEEP_REASONS.get(rule) if isinstance(rule, str) else None
        how = (template.format(what=what, best="lowest") if template
               else f"chosen by the rule {self.rule!r}")
        refined = int(self.stage[~self.beyond].max()) if (~self.beyond).any() else 0
        n_beyond = int(self.beyond.sum())
        self.reason = (f"{how} ({self.monitor} {self.final[idx]:.4g}) after {self.epochs} epoch"
                       f"{'s' if self.epochs != 1 else ''} of a sweep over {len(self.lrs)} rates"
                       + (f" ({refined} refinement stage{'s' if refined > 1 else ''})"
                          if refined else "")
                       + (f" ({n_beyond} beyond the grid's edge)" if n_beyond else ""))

    # -- views --------------------------------------------------------------------------------
    @property
    def at_edge(self):
        """'smallest' or 'largest' when the chosen rate is that end of the rates tried
        (a better rate may lie beyond it), None when it is inside them or none was chosen."""
        if self.index is None or len(self.lrs) < 2:
            return None
        if self.index == 0:
            return "smallest"
        if self.index == len(self.lrs) - 1:
            return "largest"
        return None

    @property
    def stable_lrs(self):
        """The rates that did not diverge."""
        return self.lrs[~self.diverged]

    @property
    def largest_stable_lr(self):
        """The largest rate that did not diverge (None when all did)."""
        s = self.stable_lrs
        return float(s[-1]) if s.size else None

    def history_of(self, lr):
        """The History of the candidate ``lr`` (the nearest rate of the sweep)."""
        return self.histories[int(np.argmin(np.abs(np.log(self.lrs) - math.log(lr))))]

    def picture(self):
        """Indices of three rates for the chapter's picture: too small (the smallest rate),
        about right (the chosen one) and too large (the smallest rate above it that diverged
        or ended with at least twice its loss, else the largest rate)."""
        if self.index is None:
            raise ValueError("no rate was chosen: every candidate diverged")
        above = [i for i in range(self.index + 1, len(self.lrs))
                 if self.scores[i] >= 2 * self.scores[self.index]]
        large = above[0] if above else len(self.lrs) - 1
        return 0, self.index, large

    def table(self):
        """One line per rate: final training loss, final validation loss (when measured),
        divergence, refinement stage, the choice."""
        vl = self.val_loss
        val = vl is not None
        rows = [f"{'lr':>10s} {'loss':>11s}" + (f" {'val_loss':>11s}" if val else "") + "  note"]
        for i, lr in enumerate(self.lrs):
            loss = self.loss[i][-1] if len(self.loss[i]) else math.nan
            row = f"{_fmt(lr):>10s} {loss:11.5g}"
            if vl is not None:
                row += f" {vl[i][-1] if len(vl[i]) else math.nan:11.5g}"
            notes = []
            if self.diverged[i]:
                notes.append(f"diverged in epoch {self.diverged_epoch[i]}")
            if self.beyond[i]:
                notes.append("(beyond the grid)")
            elif self.stage[i]:
                notes.append(f"(refinement {self.stage[i]})")
            if i == self.index:
                notes.append(f"<- chosen ({self.rule})")
            rows.append(f"{row}  {'  '.join(notes)}".rstrip())
        # ends with a newline: print(res.table(), res.lr) puts the rate on a line of its own
        return "\n".join(rows) + "\n"

    def plot(self, ax=None, kind="curves", indices=None, log=True, title=None):
        """Draw the sweep with :func:`fastmlp.plot.plot_lr_sweep` (needs matplotlib):
        ``kind='curves'`` one loss curve per rate (diverged ones end in a cross; ``indices``
        picks rates, e.g. ``self.picture()``), ``'final'`` each rate's final loss against
        the rate. Returns the Axes."""
        from ..plot import plot_lr_sweep     # matplotlib is imported only when drawing
        return plot_lr_sweep(self, ax=ax, kind=kind, indices=indices, log=log, title=title)

    def __repr__(self):
        chosen = (f"lr={self.lr:.3g} ({self.rule})" if self.lr is not None
                  else "no rate chosen: all diverged")
        n_div = int(self.diverged.sum())
        return (f"LRSweepResult({len(self.lrs)} rates {_fmt(self.lrs[0])}..{_fmt(self.lrs[-1])}"
                f", {self.epochs} epochs, {n_div} diverged, {chosen})")


# ---------------------------------------------------------------------------------------------
# range test
# ---------------------------------------------------------------------------------------------
def _rule_minimum(res):
    return float(res.lrs[res.min_index] / 10.0)


def _rule_steepest(res):
    k = res.min_index + 1
    if k < 3:
        return float(res.lrs[max(k - 1, 0)])
    slope = np.gradient(res.smoothed[:k], np.log(res.lrs[:k]))
    return float(res.lrs[int(np.argmin(slope))])


RANGE_RULES = {"minimum": _rule_minimum, "steepest": _rule_steepest}
_RANGE_REASONS = {"minimum": "a tenth of the rate of the lowest smoothed loss ({at})",
                  "steepest": "the rate where the smoothed loss falls fastest"}


def check_range_rule(rule):
    return _check_rule(rule, RANGE_RULES, "rate")


class LRRangeResult:
    """The range test: one run whose rate grows exponentially from batch to batch.

    Attributes: ``lrs`` (the rate of each batch), ``loss`` (each batch's loss, measured
    before its update), ``smoothed`` (its bias-corrected exponential moving average),
    ``min_index`` (the batch of the lowest smoothed loss), ``stopped`` ('exploded': the
    smoothed loss passed ``diverge_factor`` times its minimum; 'diverged': a step became
    NaN or infinite; 'end': every step ran), and the suggestion: ``lr``, ``rule``,
    ``reason``.
    """

    def __init__(self, lrs, loss, smoothed, stopped, rule="minimum", diverge_factor=4.0):
        self.lrs = np.asarray(lrs, dtype=np.float64)
        self.loss = np.asarray(loss, dtype=np.float64)
        self.smoothed = np.asarray(smoothed, dtype=np.float64)
        self.stopped = stopped
        self.diverge_factor = float(diverge_factor)
        self.rule = rule if isinstance(rule, str) else getattr(rule, "__name__", "custom")
        finite = np.isfinite(self.smoothed)
        if not finite.any():
            raise FloatingPointError("the range test found no finite loss: start lower "
                                     "(start_lr=...) or scale the inputs")
        self.min_index = int(np.nanargmin(np.where(finite, self.smoothed, np.nan)))
        lr = (RANGE_RULES[rule] if isinstance(rule, str) else rule)(self)
        lr = float(lr)
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"the range-test rule {self.rule!r} returned {lr!r}, not a "
                             f"positive finite rate")
        self.lr = lr
        template = _RANGE_REASONS.get(rule) if isinstance(rule, str) else None
        how = (template.format(at=_fmt(self.lrs[self.min_index])) if template
               else f"chosen by the rule {self.rule!r}")
        self.reason = f"{how}, over {len(self.lrs)} batches ({self.stopped})"

    def plot(self, ax=None, title=None):
        """Draw the loss against the rate with :func:`fastmlp.plot.plot_lr_range` (needs
        matplotlib), the suggestion marked. Returns the Axes."""
        from ..plot import plot_lr_range     # matplotlib is imported only when drawing
        return plot_lr_range(self, ax=ax, title=title)

    def __repr__(self):
        return (f"LRRangeResult({len(self.lrs)} batches, lr {_fmt(self.lrs[0])}.."
                f"{_fmt(self.lrs[-1])}, stopped: {self.stopped}, suggested lr={self.lr:.3g} "
                f"({self.rule}))")
