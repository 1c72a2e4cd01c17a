"""Tuning the learning rate (chapter 4.3: it must be neither too large nor too small).

* :func:`lr_sweep` -- one copy of the model per candidate rate, every copy from the same
  weights, each trained for a few epochs by a :class:`~fastmlp.training.loop.Run`. The
  copies run concurrently, one per thread with a single-threaded engine (the machinery of
  restarts, :func:`~fastmlp.training.loop.run_concurrently`): since the engine's results do
  not depend on its thread count, they are bitwise those of running the copies one after
  another, and a sweep of K small networks on K cores costs about one run.
* :func:`lr_range_test` -- the single-run test of Smith (2017, "Cyclical learning rates for
  training neural networks", section 3.3): the rate grows exponentially from batch to batch
  until the loss explodes.
* ``lr="auto"`` in ``MLP.fit`` (:func:`search_for_fit`) and ``learning_rate_init="auto"`` in
  the scikit-learn estimators: a short sweep (:func:`auto_sweep`: the optimiser's range in
  decades, three bisection stages, :func:`auto_epochs`: a tenth of the epochs, 1 to 10, at
  least 50 steps), then training with the chosen rate.

The results, and the rules that choose a rate, are in :mod:`.lr_results`. Neither search
changes the model: they train copies.
"""
from __future__ import annotations

import copy
import math

from typing import Any

import numpy as np

from .. import _core
from .._common import REAL_TYPES, check_int, check_n_threads
from ..optim import Adam, Optimizer, Schedule, get_optimizer, get_schedule
from .data import prepare, validator
from .batches import BatchPlan
from .loop import Run, restart_workers, run_concurrently, warn_user
from .lr_results import (LRRangeResult, LRSweepResult, SweepDivergedError, check_range_rule,
                         check_sweep_rule)

__all__ = ["lr_sweep", "lr_range_test", "default_lrs", "check_lrs", "sweep", "refinement",
           "auto_epochs", "auto_sweep",
           "search_for_fit", "continue_chosen", "LRSweepResult", "LRRangeResult",
           "SweepDivergedError"]

# The default grids: half-decades (10^(k/2)) over three decades, where the optimiser's
# useful rates lie. Plain SGD on the chapter's losses trains from about 1e-3 up to about 1;
# momentum mu multiplies every step by about 1 / (1 - mu), so its grid is shifted down by
# (1 - mu); Adam's steps are normalised, its rates sit between 1e-4 and 1e-1.
_SGD_RANGE = (1e-3, 1.0)
_ADAM_RANGE = (1e-4, 1e-1)
DEFAULT_NUM = 7


def default_lrs(optimizer=None, num=DEFAULT_NUM):
    """A log-spaced grid of ``num`` rates suited to ``optimizer`` (name, class, instance or
    None for SGD): SGD 1e-3 .. 1 times (1 - momentum), Adam 1e-4 .. 1e-1."""
    num = check_int("num", num, 1)
    opt = optimizer if isinstance(optimizer, Optimizer) else get_optimizer(optimizer)
    if isinstance(opt, Adam):
        lo, hi = _ADAM_RANGE
    else:
        scale = 1.0 - float(getattr(opt, "momentum", 0.0))
        lo, hi = _SGD_RANGE[0] * scale, _SGD_RANGE[1] * scale
    return np.logspace(math.log10(lo), math.log10(hi), num)


def check_lrs(lrs, name="lrs"):
    """The candidate rates as a sorted float array without repeats (clear errors for an empty
    grid, non-numbers, non-positive or non-finite rates)."""
    if isinstance(lrs, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of learning rates, got {lrs!r}")
    try:
        a = np.asarray(lrs)
    except Exception:
        raise TypeError(f"{name} must be a sequence of learning rates, got {lrs!r}") from None
    if a.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers, got {lrs!r}")
    if a.ndim > 1:
        raise ValueError(f"{name} must be a 1-D sequence of learning rates, got shape "
                         f"{np.shape(lrs)}")
    a = a.astype(np.float64).reshape(-1)
    if a.size == 0:
        raise ValueError(f"{name} is empty: give at least one learning rate (or None for the "
                         f"default grid)")
    bad = ~np.isfinite(a) | (a <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"every learning rate must be a positive finite number; {name}[{i}] "
                         f"is {float(a[i])!r}")
    return np.unique(a)


def _check_lr(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, REAL_TYPES) \
            or not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


AUTO_MIN_STEPS = 50


def auto_epochs(epochs, steps_per_epoch=None):
    """How many epochs the sweep behind ``lr='auto'`` runs: a tenth of the run (at most 10
    epochs), but at least :data:`AUTO_MIN_STEPS` optimiser steps when the run has them
    (a few steps on a small data set cannot tell the rates apart); never more than the
    run's ``epochs``."""
    e = max(1, min(10, int(round(epochs / 10))))
    if steps_per_epoch:
        e = max(e, -(-AUTO_MIN_STEPS // int(steps_per_epoch)))
    return min(e, int(epochs))


# lr='auto': the optimiser's range in decades (4 rates), then three refinement stages of
# two rates each (bisection in log-rate), so the rate is chosen to within 10^(1/8) ~ 1.33:
# near the largest stable rate the validation loss at the end of a run changes by 10 %
# between rates a factor 1.5 apart. On 2 threads: 5 rounds of 2 concurrent candidates.
AUTO_NUM = 4
AUTO_REFINE = 3
AUTO_RULE = "largest_near_min"


def auto_sweep(train_one, optimizer, n_threads, epochs, scale=1.0, label=None):
    """The sweep behind ``lr='auto'`` (``MLP.fit`` and the estimators):
    ``default_lrs(optimizer, AUTO_NUM) * scale``, :data:`AUTO_REFINE` stages, the rule
    :data:`AUTO_RULE`, ``epochs`` per candidate. Returns what :func:`sweep` returns."""
    lrs = default_lrs(optimizer, AUTO_NUM) * scale
    return sweep(lrs, train_one, n_threads, epochs, AUTO_RULE, True, AUTO_REFINE,
                 repr(optimizer) if label is None else label)


def _all_diverged_message(result):
    lo, hi = result.lrs[0], result.lrs[-1]
    ep = result.diverged_epoch[0]
    rng = f"{len(result.lrs)} rates from {lo:.3g} to {hi:.3g}" if len(result.lrs) > 1 \
        else f"the one rate {lo:.3g}"
    return (f"every learning rate of the sweep diverged ({rng}): none was stable, so "
            f"there is no largest stable rate to choose; the smallest, {lo:.3g}, diverged "
            f"in epoch {ep}. Try smaller rates (e.g. lrs=numpy.logspace("
            f"{math.log10(lo) - 3:.0f}, {math.log10(lo) - 0.5:.1f}, 6)), or scale the "
            f"inputs. The model is unchanged.")


def refinement(lrs, index):
    """The rates a refinement stage tries around ``lrs[index]`` (the best so far, ``lrs``
    ascending): the geometric midpoints with its two neighbours, or, at an end of the
    grid, one step further out (the grid's spacing there)."""
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.size < 2:
        return []
    i = int(index)
    below = math.sqrt(lrs[i - 1] * lrs[i]) if i > 0 else lrs[0] * lrs[0] / lrs[1]
    above = math.sqrt(lrs[i] * lrs[i + 1]) if i + 1 < lrs.size else lrs[-1] * lrs[-1] / lrs[-2]
    return [float(below), float(above)]


def edge_step(lrs, index):
    """The rate one grid step beyond the edge of ``lrs`` (ascending) where ``lrs[index]``
    is, or None when ``index`` is inside the grid (or the grid has one rate)."""
    lrs = np.asarray(lrs, dtype=np.float64)
    if lrs.size < 2 or 0 < index < lrs.size - 1:
        return None
    if index == 0:
        return float(lrs[0] * lrs[0] / lrs[1])
    return float(lrs[-1] * lrs[-1] / lrs[-2])


def sweep(lrs, train_one, n_threads=None, epochs=1, rule="largest_near_min", parallel=True,
          refine=0, optimizer=None, extend=0):
    """The core every sweep shares: ``train_one(lr, n_threads) -> (History, payload)`` trains
    a copy of the model, from the same weights, with rate ``lr``.

    Stage 0 trains the rates ``lrs``; each of ``refine`` further stages trains the two rates
    :func:`refinement` proposes around the best so far (by ``rule``), halving the spacing
    there. Then, while the chosen rate is at an edge of the rates tried, up to ``extend``
    more stages each try the rate one grid step beyond that edge (:func:`edge_step`). A stage's candidates run ``restart_workers(n, n_threads)`` at a time (one per
    thread, single-threaded engines) when ``parallel``, else in turn with ``n_threads``.
    Returns (:class:`LRSweepResult` over every rate tried, [payload per rate, same order]).
    A Ctrl-C ends the sweep with KeyboardInterrupt; every candidate diverging raises
    :class:`SweepDivergedError`.
    """
    rates, stages, runs, past = [], [], [], []
    todo, workers = [float(lr) for lr in lrs], 1
    for stage in range(int(refine) + int(extend) + 1):
        w = restart_workers(len(todo), n_threads) if parallel else 1
        workers = max(workers, w)
        stage_lrs = list(todo)
        # a lone candidate of a parallel sweep (a step beyond the edge) also runs on one
        # thread, as every candidate of a parallel sweep does (same bits on any count)
        one = parallel and w == 1 and len(stage_lrs) == 1 and workers > 1
        done = run_concurrently(len(stage_lrs),
                                lambda i, t: train_one(stage_lrs[i], 1 if one else t), w,
                                name="fastmlp-lr-sweep")
        if len(done) < len(todo) or any(h.interrupted for h, _ in done):
            raise KeyboardInterrupt("learning-rate sweep interrupted")
        rates += todo
        stages += [stage] * len(todo)
        past += [stage > refine] * len(todo)
        runs += done
        order = np.argsort(rates, kind="stable")
        result = LRSweepResult(np.asarray(rates)[order], [runs[i][0] for i in order], epochs,
                               rule, optimizer, stage=np.asarray(stages)[order],
                               beyond=np.asarray(past, dtype=bool)[order])
        if result.lr is None:
            break
        if stage < refine:
            todo = [lr for lr in refinement(result.lrs, result.index) if lr not in rates]
        else:
            beyond = edge_step(result.lrs, result.index)
            todo = [] if beyond is None or beyond in rates else [beyond]
        if not todo:
            break
    result.workers = workers
    if result.lr is None:
        raise SweepDivergedError(_all_diverged_message(result), result)
    return result, [runs[i][1] for i in order]


def _resolve(model, optimizer, n_threads):
    """A private copy of the model (with a loss), the optimiser a fit would use (copied:
    the caller's is not changed) and the thread count."""
    if model.loss is None:
        raise ValueError("the model has no loss, so there is nothing to measure a learning "
                         "rate by: build it with loss=... (e.g. MLP(sizes, loss='square')) "
                         "or fit it once with loss=...")
    if n_threads is not None:
        check_n_threads(n_threads)
    base = copy.deepcopy(model)
    if optimizer is None and base.optimizer_ is not None:
        opt = base.optimizer_
    else:
        opt = get_optimizer(copy.deepcopy(optimizer) if isinstance(optimizer, Optimizer)
                            else optimizer)
    return base, opt, model.n_threads if n_threads is None else n_threads


def lr_sweep(model, X, y, lrs=None, *, epochs=5, optimizer=None, batch_size=32,
             validation_split=0.0, validation_data=None, validation_shuffle=False,
             sample_weight=None, schedule=None, shuffle=True, drop_last=False, seed=None,
             rule="largest_near_min", num=DEFAULT_NUM, refine=0, parallel=True,
             n_threads=None, extend=3):
    """Train one copy of ``model`` per learning rate in ``lrs`` for ``epochs`` epochs, every
    copy from the model's current weights; returns an :class:`LRSweepResult`.

    lrs: the candidate rates (sorted, repeats dropped) or None for :func:`default_lrs`
    (``num`` rates suited to the optimiser). The other training options mean what they mean
    in ``MLP.fit`` (``optimizer``: None is the model's optimiser from its last fit, else
    SGD; it is copied, never changed), so candidate i trains exactly as
    ``copy.fit(X, y, lr=lrs[i], epochs=epochs, ...)`` would. ``rule`` chooses the rate
    (:mod:`fastmlp.training.lr_results`): 'largest_near_min' (default: the largest rate
    within 10 % of the lowest final loss, which corrects a short run's bias towards small
    rates), 'min_loss' or a callable; it compares the final validation loss when there is
    validation, else the final training loss. ``refine``: stages after the grid, each
    trying the two rates half-way (geometrically) between the best so far and its
    neighbours, or one step past the grid's end when the best is there (``lr='auto'``: 3
    stages after a 4-rate grid). Divergence is recorded per rate (``diverged``,
    ``diverged_epoch``), without warnings. ``extend`` (default 3): when the chosen rate is
    the smallest or the largest rate tried, up to this many more rates are tried one grid
    step at a time beyond that edge (``result.stage`` marks them), since a better rate may
    lie there; a rate still at an edge after that warns (UserWarning) and is named in
    ``result.at_edge`` ('smallest' or 'largest'; None inside the grid). ``extend=0``
    only warns.

    The copies run concurrently, one per thread (``n_threads``: how many; default the
    model's or the engine's setting), each engine on one thread: bitwise the results of
    ``parallel=False`` (one after another, each engine on ``n_threads``). The model is not
    changed. Raises ValueError for a model without a loss or a bad grid, and
    :class:`SweepDivergedError` (a FloatingPointError) when every rate diverges.
    """
    rule = check_sweep_rule(rule)
    epochs = check_int("epochs", epochs, 1)
    refine = check_int("refine", refine, 0)
    extend = check_int("extend", extend, 0)
    base, opt, nt = _resolve(model, optimizer, n_threads)
    lrs = default_lrs(opt, num) if lrs is None else check_lrs(lrs)
    sched = get_schedule(schedule)
    for name, val in (("shuffle", shuffle), ("drop_last", drop_last), ("parallel", parallel)):
        if not isinstance(val, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {val!r}")
    data = prepare(base, X, y, batch_size=batch_size, validation_split=validation_split,
                   validation_data=validation_data, validation_shuffle=validation_shuffle,
                   sample_weight=sample_weight, seed=seed)

    def train_one(lr, threads):
        m = copy.deepcopy(base)
        o = copy.deepcopy(opt)
        o.set_base_lr(lr)
        threads = nt if threads is None else threads
        run = Run(m.engine, data.X, data.Y, optimizer=o, schedule=copy.deepcopy(sched),
                  batch_size=data.batch_size, epochs=epochs, shuffle=bool(shuffle),
                  seed=data.shuffle_seed, epoch0=m.epochs_trained_, drop_last=bool(drop_last),
                  sample_weight=data.sw,
                  validate=(None if data.Xv is None or data.Yv is None
                            else validator(m, data.Xv, data.Yv, data.wv, threads)),
                  custom_loss=None if m.loss.builtin else m.loss, n_threads=threads,
                  on_divergence="ignore")
        return run.execute(), None

    result, _ = sweep(lrs, train_one, nt, epochs, rule, bool(parallel), refine, repr(opt),
                      extend=extend)
    if result.at_edge is not None:
        side = "smaller" if result.at_edge == "smallest" else "larger"
        warn_user(f"lr_sweep chose lr={result.lr:.3g}, the {result.at_edge} rate it tried "
                  f"(after {extend} grid step{'s' if extend != 1 else ''} beyond the edge): a "
                  f"{side} rate may be better; sweep {side} rates (lrs=...) or pass a larger "
                  f"extend", UserWarning)
    return result


# ---------------------------------------------------------------------------------------------
# lr="auto" in MLP.fit
# ---------------------------------------------------------------------------------------------
def search_for_fit(model, before, opt, sched, n_threads, epochs, steps, one_run, resumable):
    """The sweep behind ``MLP.fit(lr='auto')``, on the data fit has prepared.

    ``one_run(m, o, s, threads, n_epochs, quiet)`` is fit's own run of a model; each
    candidate is one such run on a copy of ``model`` for :func:`auto_epochs` epochs (the run
    has ``steps`` batches per epoch) with a copy of ``opt`` and of ``sched``. Returns (result, kept): ``kept`` (the chosen
    candidate's model, optimiser and schedule) when ``resumable`` -- fit's run is then
    exactly the candidate's run continued, see :func:`continue_chosen` -- else None. When
    every rate diverges (:class:`SweepDivergedError`) or Ctrl-C ends the sweep
    (KeyboardInterrupt), the model's attributes are put back as ``before`` (a copy of its
    attributes taken by ``model.snapshot_state()`` when fit began, before the loss and classes were set) and the
    exception propagates.
    """
    if epochs < 1:
        raise ValueError("lr='auto' needs epochs >= 1: the learning rate is chosen by "
                         "training")
    e = auto_epochs(epochs, steps)

    def train_one(lr, threads):
        m = copy.deepcopy(model)
        o = copy.deepcopy(opt)
        o.set_base_lr(lr)
        s = copy.deepcopy(sched)
        hist = one_run(m, o, s, n_threads if threads is None else threads, e, True)
        return hist, ((m, o, s) if resumable else None)

    try:
        result, kept = auto_sweep(train_one, opt, n_threads, e)
    except (SweepDivergedError, KeyboardInterrupt):
        model.restore_state(before)
        raise
    return result, kept[result.index] if resumable else None


def continue_chosen(model, opt, result, kept, one_run, n_threads, epochs):
    """Finish ``MLP.fit(lr='auto')`` from the chosen candidate: its first epochs ARE the
    first epochs of a run with its rate (same weights, batches and rate; the engine's
    results do not depend on its thread count), so the model takes its weights and ``opt``
    its state, and the remaining epochs run on. The History covers the whole run."""
    m, o, s = kept
    model.engine.theta[...] = m.engine.theta
    model.epochs_trained_ = m.epochs_trained_
    opt.copy_from(o)          # the caller's optimiser carries the state on
    rest = one_run(model, opt, s, n_threads, epochs - result.epochs, False)
    rest._prepend(result.histories[result.index])
    rest.params["epochs"] = epochs
    return rest


# ---------------------------------------------------------------------------------------------
# the range test
# ---------------------------------------------------------------------------------------------
class _KeepLR(Schedule):
    """Leaves the rate where the batches put it (the range test sets it per batch)."""

    def __call__(self, epoch, base_lr, lr, logs=None):
        return lr


class _Ramp:
    """The range test as a callback: records each batch's loss, smooths it, raises the rate
    for the next batch, and stops when the smoothed loss explodes."""

    def __init__(self, lrs, beta, factor):
        self.lrs, self.beta, self.factor = lrs, beta, factor
        self.loss, self.smoothed = [], []
        self.avg, self.best = 0.0, math.inf
        self.stopped = None
        self.opt: Any = None         # the Run's optimiser (set by on_train_begin)

    def on_train_begin(self, run):
        self.opt = run.optimizer

    def on_batch_end(self, batch, logs):
        i = len(self.loss)
        v = float(logs["loss"])
        self.loss.append(v)
        self.avg = self.beta * self.avg + (1.0 - self.beta) * v
        s = self.avg / (1.0 - self.beta ** (i + 1))
        self.smoothed.append(s)
        if not math.isfinite(s) or s > self.factor * self.best:
            self.stopped = "exploded"
            return True
        self.best = min(self.best, s)
        if i + 1 == len(self.lrs):
            self.stopped = "end"
            return True
        self.opt.lr = float(self.lrs[i + 1])
        return False


def lr_range_test(model, X, y, *, start_lr=None, end_lr=None, num_steps=100, optimizer=None,
                  batch_size=32, sample_weight=None, shuffle=True, seed=None, smooth=0.98,
                  diverge_factor=4.0, rule="minimum", n_threads=None):
    """The learning-rate range test (Smith, 2017) on a copy of ``model``; returns an
    :class:`LRRangeResult`.

    One run of up to ``num_steps`` mini-batches (as many epochs as that takes, reshuffled as
    in fit) whose rate grows exponentially from ``start_lr`` to ``end_lr`` (defaults: a
    hundredth of the smallest and ten times the largest rate of :func:`default_lrs` for the
    optimiser). Each batch's loss is recorded with the rate it was trained at, smoothed by
    an exponential moving average (``smooth``, bias-corrected); the test stops when the
    smoothed loss exceeds ``diverge_factor`` times its minimum, or a step diverges.
    ``rule``: 'minimum' (default: the rate of the lowest smoothed loss divided by 10),
    'steepest', or a callable. The model is not changed.
    """
    rule = check_range_rule(rule)
    base, opt, nt = _resolve(model, optimizer, n_threads)
    steps = check_int("num_steps", num_steps, 2)
    grid = default_lrs(opt)
    lo = grid[0] / 100 if start_lr is None else _check_lr("start_lr", start_lr)
    hi = grid[-1] * 10 if end_lr is None else _check_lr("end_lr", end_lr)
    if not lo < hi:
        raise ValueError(f"start_lr ({lo:g}) must be smaller than end_lr ({hi:g})")
    beta = float(smooth)
    if not 0 <= beta < 1:
        raise ValueError(f"smooth must be in [0, 1), got {smooth!r}")
    factor = float(diverge_factor)
    if not (math.isfinite(factor) and factor > 1):
        raise ValueError(f"diverge_factor must be a finite number > 1, got {diverge_factor!r}")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    data = prepare(base, X, y, batch_size=batch_size, sample_weight=sample_weight, seed=seed)
    lrs = lo * (hi / lo) ** (np.arange(steps) / (steps - 1))
    opt.set_base_lr(float(lrs[0]))
    ramp = _Ramp(lrs, beta, factor)
    plan = BatchPlan(data.X.shape[0], data.batch_size, shuffle=bool(shuffle))
    run = Run(base.engine, data.X, data.Y, optimizer=opt, schedule=_KeepLR(), plan=plan,
              epochs=-(-steps // plan.n_batches),
              seed=data.shuffle_seed, epoch0=base.epochs_trained_, sample_weight=data.sw,
              callbacks=[ramp], custom_loss=None if base.loss.builtin else base.loss,
              n_threads=nt, on_divergence="ignore")
    hist = run.execute()
    if hist.interrupted:
        raise KeyboardInterrupt("learning-rate range test interrupted")
    stopped = "diverged" if hist.diverged else (ramp.stopped or "end")
    n = len(ramp.loss)
    if n == 0:
        raise FloatingPointError(f"the range test diverged at its first batch (lr="
                                 f"{lrs[0]:.3g}): start lower (start_lr=...) or scale the "
                                 f"inputs")
    return LRRangeResult(lrs[:n], ramp.loss, ramp.smoothed, stopped, rule, factor)
