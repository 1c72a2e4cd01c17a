"""The fit loop (chapter 4.3): epochs, batches, shuffling, validation, early stopping,
restarts, schedules, callbacks, progress, divergence and Ctrl-C handling.

Regimes: ``batch_size=None`` is full-batch gradient descent (one step per epoch over all
samples); ``batch_size=1`` is stochastic gradient descent (every sample once per epoch, in a
fresh random order); ``batch_size=B`` is mini-batch SGD with a fixed B, the samples reshuffled
before every epoch (the last short batch is kept unless ``drop_last=True``). The epoch order
is ``fastmlp._core.permutation(shuffle_seed, epoch)`` -- a counter-based generator, so it is
the same on any number of threads and a resumed fit continues the sequence.

How much runs in C per Python call:
  * a user-defined loss (Python gradient) or a callback with ``on_batch_end``: one call per
    batch (per-batch Python work is unavoidable);
  * otherwise, when something happens between epochs (validation, callbacks, progress or
    verbose output, a changing schedule, early stopping): one ``train_epochs`` call per epoch;
  * otherwise ALL epochs run in ONE ``train_epochs`` call.

Divergence: when the loss or a gradient becomes NaN/inf the failing step changes nothing,
training stops, the model keeps its last finite weights, ``history.diverged`` is True and a
:class:`DivergenceWarning` names the epoch and suggests a smaller learning rate
(``on_divergence="raise"``: a ``FloatingPointError`` instead).

Ctrl-C (``KeyboardInterrupt``) during fit leaves the model (and optimiser) at the end of the
last completed epoch recorded in the history, and fit returns that history
(``history.interrupted`` is True).
"""
from __future__ import annotations

import copy
import math
import numbers
import sys
import time
import warnings

import numpy as np

from .losses import Loss
from .optim import get_optimizer, get_schedule

__all__ = ["fit", "History", "Callback", "StopTraining", "DivergenceWarning"]


class StopTraining(Exception):
    """Raise from a callback's ``on_epoch_end`` to stop training after this epoch."""


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss or a gradient became NaN or infinite."""


class Callback:
    """Base class for callbacks (optional: any object with ``on_epoch_end`` works).

    ``on_epoch_end(epoch, logs)``: after each epoch; logs has 'loss', 'lr', 'time' and,
    with validation, 'val_loss' and 'val_metric'. Return True (or raise StopTraining) to stop.
    Define ``on_batch_end(batch, logs)`` (logs: 'loss', 'size', 'epoch') only if needed:
    it makes fit run one C call per batch instead of one per epoch.
    """

    def on_epoch_end(self, epoch, logs):
        return None


class History:
    """What happened during fit, one entry per completed epoch.

    Lists: ``epoch`` (global epoch numbers), ``loss`` (mean training loss over the epoch's
    batches, each measured before its update), ``val_loss``, ``val_metric`` (accuracy or
    R^2; NaN without validation), ``lr``, ``time`` (seconds). ``history`` gives them as a
    Keras-like dict. ``best_epoch`` is the index (into these lists) of the lowest monitored
    loss (val_loss with validation, else loss); ``stopped_early``, ``diverged``,
    ``interrupted`` flags; ``restarts``: with ``restarts=N`` the N per-restart Histories
    (``best_restart`` is the index of the one kept).
    """

    _KEYS = ("loss", "val_loss", "val_metric", "lr", "time")

    def __init__(self):
        self.epoch = []
        self.loss = []
        self.val_loss = []
        self.val_metric = []
        self.lr = []
        self.time = []
        self.stopped_early = False
        self.diverged = False
        self.diverged_epoch = None
        self.interrupted = False
        self.restarts = []
        self.best_restart = None
        self.params = {}
        self.monitor = "loss"

    def _append(self, epoch, logs):
        self.epoch.append(int(epoch))
        for k in self._KEYS:
            getattr(self, k).append(float(logs.get(k, math.nan)))

    def _extend(self, epoch0, losses, lr, time_per_epoch):
        """Record len(losses) epochs at once (a whole run done in one engine call)."""
        n = len(losses)
        self.epoch.extend(range(int(epoch0), int(epoch0) + n))
        self.loss.extend(np.asarray(losses, dtype=float).tolist())
        self.val_loss.extend([math.nan] * n)
        self.val_metric.extend([math.nan] * n)
        self.lr.extend([float(lr)] * n)
        self.time.extend([float(time_per_epoch)] * n)

    def _truncate(self, n):
        for k in ("epoch",) + self._KEYS:
            del getattr(self, k)[n:]

    @property
    def history(self):
        """{'loss': [...], 'val_loss': [...], ...} (validation keys only with validation)."""
        out = {"loss": list(self.loss)}
        if any(not math.isnan(v) for v in self.val_loss):
            out["val_loss"] = list(self.val_loss)
            out["val_metric"] = list(self.val_metric)
        out["lr"] = list(self.lr)
        out["time"] = list(self.time)
        return out

    @property
    def monitored(self):
        return self.val_loss if self.monitor == "val_loss" else self.loss

    @property
    def best_epoch(self):
        vals = np.asarray(self.monitored, dtype=float)
        if vals.size == 0 or np.all(np.isnan(vals)):
            return None
        return int(np.nanargmin(vals))

    @property
    def best_loss(self):
        b = self.best_epoch
        return None if b is None else self.monitored[b]

    def __len__(self):
        return len(self.loss)

    def __repr__(self):
        last = f", last loss {self.loss[-1]:.6g}" if self.loss else ""
        flags = [f for f in ("stopped_early", "diverged", "interrupted") if getattr(self, f)]
        extra = f", restarts={len(self.restarts)}" if self.restarts else ""
        return (f"History({len(self)} epochs{last}, best_epoch={self.best_epoch}"
                f"{', ' + ', '.join(flags) if flags else ''}{extra})")


# ---------------------------------------------------------------------------------------------
# progress output
# ---------------------------------------------------------------------------------------------
class _Progress:
    """tqdm when installed, else a carriage-return line with loss and ETA (stderr)."""

    def __init__(self, total, enabled, desc="fit"):
        self.enabled = enabled
        self.total = total
        self.n = 0
        self.t0 = time.perf_counter()
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
                self.bar = tqdm(total=total, desc=desc, unit="epoch", leave=True)
            except ImportError:
                self.bar = None

    def update(self, logs):
        if not self.enabled:
            return
        self.n += 1
        post = {"loss": f"{logs['loss']:.4g}"}
        if "val_loss" in logs:
            post["val_loss"] = f"{logs['val_loss']:.4g}"
        if self.bar is not None:
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)
            return
        el = time.perf_counter() - self.t0
        eta = el / self.n * (self.total - self.n)
        items = " ".join(f"{k}={v}" for k, v in post.items())
        sys.stderr.write(f"\repoch {self.n}/{self.total} {items} "
                         f"elapsed {el:.1f}s ETA {eta:.1f}s   ")
        sys.stderr.flush()

    def close(self):
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        else:
            sys.stderr.write("\n")
            sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------------------------
def _check_int(name, x, low, allow_none=False):
    if x is None and allow_none:
        return None
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer{' or None' if allow_none else ''}, got "
                        f"{type(x).__name__} {x!r}")
    if x < low:
        raise ValueError(f"{name} must be >= {low}, got {x}")
    return int(x)


def _evaluate(model, X, Y, loss):
    """(loss value, metric) of the model on canonical (X, Y), in chunks."""
    eng = model.engine
    nt = model.n_threads
    if not loss.builtin:
        a = eng.predict(X, n_threads=nt)
        return float(loss.value(Y, a)), Loss.metric(Y, a, model._mode)
    # the engine's loss is the model's (rebuilt with it): loss and output in one pass, in
    # chunks, without copying every layer's z and a
    value, A = eng.evaluate(X, Y, n_threads=nt)
    return value, Loss.metric(Y, A, model._mode)


def _snapshot(model, opt, hist):
    return (model.engine.theta.copy(), copy.deepcopy(opt.state), opt.t, opt.lr,
            model.epochs_trained_, len(hist))


def _restore(model, opt, hist, snap):
    theta, state, t, lr, ep, n = snap
    model.engine.theta[...] = theta
    for k, v in state.items():   # in place: the vectors may be referenced elsewhere
        if k in opt.state and opt.state[k].shape == v.shape:
            opt.state[k][...] = v
        else:
            opt.state[k] = v
    opt.t, opt.lr = t, lr
    model.epochs_trained_ = ep
    hist._truncate(n)


# ---------------------------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------------------------
def _epoch_python(model, X, Y, B, opt, s1, s2, shuffle, seed, epoch, drop_last, batch_cbs, nt):
    """One epoch with one C call per batch. Returns (mean loss, diverged)."""
    from . import _core
    eng, loss = model.engine, model.loss
    N = X.shape[0]
    in_order = (not shuffle) or B >= N
    order = None if in_order else _core.permutation(seed, epoch, N)
    total, seen = 0.0, 0
    for bi, start in enumerate(range(0, N, B)):
        nb = min(B, N - start)
        if nb < B and drop_last and start > 0:
            break
        if in_order:
            Xb, Yb = X[start:start + nb], Y[start:start + nb]
        else:
            idx = order[start:start + nb]
            Xb, Yb = X[idx], Y[idx]
        spec = opt.spec()
        if loss.builtin:
            try:
                val, t = eng.train_step(Xb, Yb, spec, s1, s2, n_threads=nt)
            except FloatingPointError:
                return math.nan, True
            opt.t = int(t)
        else:
            a = eng.forward(Xb, n_threads=nt)
            with np.errstate(all="ignore"):
                val = float(loss.value(Yb, a))
                g = np.ascontiguousarray(loss.gradient(Yb, a), dtype=eng.dtype)
            if not math.isfinite(val) or not np.all(np.isfinite(g)):
                return math.nan, True
            eng.backward(Xb, grad_output=g, n_threads=nt)
            if not np.all(np.isfinite(eng.grad)):
                return math.nan, True
            opt.t = int(eng.update(spec, s1, s2, n_threads=nt))
        total += val * nb
        seen += nb
        for cb in batch_cbs:
            cb.on_batch_end(bi, {"loss": val, "size": nb, "epoch": epoch})
    return total / seen, False


def _diverged(hist, epoch, opt, on_divergence):
    hist.diverged = True
    hist.diverged_epoch = int(epoch)
    msg = (f"training diverged in epoch {epoch}: the loss or a gradient became NaN or "
           f"infinite, so training stopped; the model keeps its last finite weights. The "
           f"learning rate (lr={opt.lr:g}) is probably too large: try a smaller one "
           f"(e.g. lr={opt.lr / 10:g}).")
    if on_divergence == "raise":
        raise FloatingPointError(msg)
    warnings.warn(msg, DivergenceWarning, stacklevel=4)


def _train(model, X, Y, Xv, Yv, opt, sched, B, epochs, shuffle, drop_last, patience,
           min_delta, callbacks, verbose, progress, seed, nt, on_divergence):
    eng = model.engine
    hist = History()
    hist.monitor = "val_loss" if Xv is not None else "loss"
    opt._ensure_state(eng.n_params, eng.dtype)
    s1, s2 = opt._vectors()
    loss = model.loss
    batch_cbs = [cb for cb in callbacks if callable(getattr(cb, "on_batch_end", None))]
    epoch_cbs = [cb for cb in callbacks if callable(getattr(cb, "on_epoch_end", None))]
    per_batch = (not loss.builtin) or bool(batch_cbs)
    per_epoch = (per_batch or Xv is not None or bool(epoch_cbs) or progress or verbose > 0
                 or sched.per_epoch or patience is not None)
    e0 = model.epochs_trained_
    bar = _Progress(epochs, enabled=progress or verbose == 1)
    # Ctrl-C leaves the model at an epoch boundary. A whole-run engine call only ever stops
    # between epochs, so it needs no copy; the per-epoch loop keeps one (parameters and
    # optimiser state) to undo a half-done epoch or a half-recorded one.
    snap = _snapshot(model, opt, hist) if per_epoch else None
    best, best_theta, best_at, wait = math.inf, None, None, 0
    try:
        if not per_epoch:
            opt.lr = sched(e0, opt.base_lr, opt.lr, None)
            t0 = time.perf_counter()
            losses, t, div = eng.train_epochs(X, Y, B, epochs, opt.spec(), s1, s2,
                                              shuffle=shuffle, seed=seed, epoch0=e0,
                                              drop_last=drop_last, n_threads=nt)
            opt.t = int(t)
            dt = (time.perf_counter() - t0) / max(len(losses) + div, 1)
            hist._extend(e0, losses, opt.lr, dt)
            model.epochs_trained_ += len(losses)
            if div:
                _diverged(hist, e0 + len(losses), opt, on_divergence)
            if eng.interrupted:   # Ctrl-C, honoured by the engine between two epochs
                raise KeyboardInterrupt
        else:
            logs = None
            for i in range(epochs):
                e = e0 + i
                opt.lr = sched(e, opt.base_lr, opt.lr, logs)
                t0 = time.perf_counter()
                if per_batch:
                    v, div = _epoch_python(model, X, Y, B, opt, s1, s2, shuffle, seed, e,
                                           drop_last, batch_cbs, nt)
                else:
                    losses, t, div = eng.train_epochs(X, Y, B, 1, opt.spec(), s1, s2,
                                                      shuffle=shuffle, seed=seed, epoch0=e,
                                                      drop_last=drop_last, n_threads=nt)
                    opt.t = int(t)
                    if eng.interrupted:
                        raise KeyboardInterrupt
                    v = losses[0] if len(losses) else math.nan
                if div:
                    _diverged(hist, e, opt, on_divergence)
                    break
                model.epochs_trained_ += 1
                logs = {"loss": float(v), "lr": opt.lr, "time": time.perf_counter() - t0}
                if Xv is not None:
                    logs["val_loss"], logs["val_metric"] = _evaluate(model, Xv, Yv, loss)
                hist._append(e, logs)
                snap = _snapshot(model, opt, hist)
                bar.update(logs)
                if verbose >= 2:
                    items = " - ".join(f"{k}: {logs[k]:.5g}" for k in
                                       ("loss", "val_loss", "val_metric") if k in logs)
                    print(f"epoch {e + 1}/{e0 + epochs} - {items} - lr: {opt.lr:.3g} - "
                          f"{logs['time']:.3f}s")
                stop = False
                if patience is not None:
                    cur = logs[hist.monitor]
                    if cur < best - min_delta:
                        best, best_at, wait = cur, len(hist) - 1, 0
                        best_theta = eng.theta.copy()
                    else:
                        wait += 1
                        if wait >= patience:
                            hist.stopped_early = True
                            stop = True
                for cb in epoch_cbs:
                    try:
                        if cb.on_epoch_end(e, dict(logs)) is True:
                            stop = True
                    except StopTraining:
                        stop = True
                if stop:
                    break
    except KeyboardInterrupt:
        if snap is not None:
            _restore(model, opt, hist, snap)
        hist.interrupted = True
        warnings.warn(f"training interrupted (KeyboardInterrupt); the model is left at the "
                      f"end of its last completed epoch ({len(hist)} epochs recorded)",
                      RuntimeWarning, stacklevel=3)
    finally:
        bar.close()
    if patience is not None and best_theta is not None and best_at != len(hist) - 1:
        eng.theta[...] = best_theta   # restore the best weights
    hist.params.update({"batch_size": B, "epochs": epochs, "shuffle": shuffle,
                        "drop_last": drop_last, "optimizer": repr(opt), "seed": seed,
                        "single_call": not per_epoch, "per_batch": per_batch})
    return hist


def _final_score(hist):
    """The monitored loss of the weights the run ended with (inf when unusable)."""
    if hist.diverged and len(hist) == 0:
        return math.inf
    vals = hist.monitored
    if not vals:
        return math.inf
    b = hist.best_epoch if hist.stopped_early or hist.monitor == "val_loss" else len(vals) - 1
    v = vals[b] if b is not None else math.inf
    return v if math.isfinite(v) else math.inf


def _restart_workers(restarts, nt, callbacks, verbose, progress):
    """How many restarts run at once: one per engine thread, when nothing in the loop talks
    to the user (callbacks, progress, verbose output stay on one sequential run)."""
    if callbacks or verbose or progress:
        return 1
    from . import _core
    threads = _core.get_num_threads() if nt is None else nt
    return max(1, min(restarts, threads))


def fit(model, X, y, loss=None, optimizer=None, lr=None, batch_size=32, epochs=10,
        shuffle=True, drop_last=False, validation_split=0.0, validation_data=None,
        validation_shuffle=False, early_stopping=None, min_delta=0.0, restarts=1,
        callbacks=None, verbose=0, progress=False, schedule=None, seed=None, n_threads=None,
        on_divergence="warn"):
    """Train ``model`` on (X, y); returns a :class:`History`.

    loss: name/Loss (default: the model's loss, else 'square'). optimizer: 'sgd', 'adam', an
    Optimizer (its state is used and updated) or None (the optimiser of the previous fit, else
    SGD(lr=0.01)); ``lr`` overrides its learning rate. batch_size: None (full-batch GD), 1
    (SGD) or B (mini-batch, 1 <= B <= n_train). epochs >= 0. shuffle: reshuffle before every
    epoch (seeded by ``seed``, default derived from the model's seed). validation_split:
    fraction of the samples held out -- the LAST fraction, as in Keras (``validation_shuffle
    =True`` picks a random one with the seed instead); or validation_data=(X_val, y_val).
    early_stopping: patience in epochs, on val_loss (training loss without validation); the
    best weights are restored. restarts: N > 1 trains N fresh initialisations (the first
    from the model's seed, the others from seeds derived from it), keeping the best by
    validation loss (or training loss); all N Histories are in ``history.restarts``.
    callbacks: objects with on_epoch_end(epoch, logs) / on_batch_end(batch, logs).
    verbose: 0 silent, 1 progress bar, 2 one line per epoch. progress: a progress bar (tqdm
    if installed). schedule: a Schedule (see fastmlp.optim). n_threads: engine threads.
    on_divergence: 'warn' (DivergenceWarning) or 'raise' (FloatingPointError).

    The input is converted once to the model's dtype (C-contiguous); NaN/inf raise
    ValueError. fit continues from the current weights; ``model.reset()`` starts over.
    """
    # -- options --------------------------------------------------------------------------
    epochs = _check_int("epochs", epochs, 0)
    restarts = _check_int("restarts", restarts, 1)
    if early_stopping is True:
        early_stopping = 10
    patience = _check_int("early_stopping", early_stopping, 1, allow_none=True) \
        if early_stopping is not False else None
    verbose = _check_int("verbose", verbose, 0)
    if on_divergence not in ("warn", "raise"):
        raise ValueError(f"on_divergence must be 'warn' or 'raise', got {on_divergence!r}")
    for name, val in (("shuffle", shuffle), ("drop_last", drop_last), ("progress", progress),
                      ("validation_shuffle", validation_shuffle)):
        if not isinstance(val, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {val!r}")
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
            or not (0 <= validation_split < 1):
        raise ValueError(f"validation_split must be a number in [0, 1), got "
                         f"{validation_split!r}")
    if validation_split and validation_data is not None:
        raise ValueError("give validation_split or validation_data, not both")
    min_delta = float(min_delta)
    if n_threads is not None:
        _check_int("n_threads", n_threads, 1)
    nt = model.n_threads if n_threads is None else n_threads
    if callbacks is None:
        callbacks = []
    elif not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    for cb in callbacks:
        if not (callable(getattr(cb, "on_epoch_end", None))
                or callable(getattr(cb, "on_batch_end", None))):
            raise TypeError(f"callback {cb!r} has neither on_epoch_end nor on_batch_end")
    sched = get_schedule(schedule)
    if optimizer is None and model.optimizer_ is not None:
        opt = get_optimizer(model.optimizer_, lr)
    else:
        opt = get_optimizer(optimizer, lr)

    # -- loss and data --------------------------------------------------------------------
    if loss is not None:
        model._set_loss(loss)
    elif model.loss is None:
        model._set_loss("square")
    X = model._X(X)
    n = X.shape[0]
    if n == 0:
        raise ValueError("X has no samples (0 rows)")
    Y = model._encode(model.loss, y, n, fitting=True).Y
    Xv = Yv = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise TypeError("validation_data must be a pair (X_val, y_val)")
        Xv = model._X(validation_data[0], "validation_data X")
        if Xv.shape[0] == 0:
            raise ValueError("validation_data has no samples")
        Yv = model._encode(model.loss, validation_data[1], Xv.shape[0], fitting=False).Y
    elif validation_split:
        n_val = int(round(n * validation_split))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(f"validation_split={validation_split} of {n} samples leaves "
                             f"{n_val} for validation and {n - n_val} for training; both "
                             f"need at least 1")
        if validation_shuffle:
            from .network import derive_seed
            order = np.random.default_rng(derive_seed(model.seed if seed is None else seed,
                                                      7)).permutation(n)
            X, Y = X[order], Y[order]
        X, Xv = np.ascontiguousarray(X[:n - n_val]), np.ascontiguousarray(X[n - n_val:])
        Y, Yv = np.ascontiguousarray(Y[:n - n_val]), np.ascontiguousarray(Y[n - n_val:])
    n_train = X.shape[0]
    if batch_size is None:
        B = n_train
    else:
        B = _check_int("batch_size", batch_size, 1)
        if B > n_train:
            raise ValueError(f"batch_size={B} is larger than the {n_train} training samples; "
                             f"use batch_size=None for full-batch gradient descent")
    from .network import derive_seed
    shuffle_seed = derive_seed(model.seed if seed is None else seed, 0)

    common = dict(B=B, epochs=epochs, shuffle=bool(shuffle), drop_last=bool(drop_last),
                  patience=patience, min_delta=min_delta, callbacks=callbacks,
                  verbose=verbose, progress=bool(progress), seed=shuffle_seed, nt=nt,
                  on_divergence=on_divergence)

    if restarts == 1:
        hist = _train(model, X, Y, Xv, Yv, opt, sched, **common)
        model.optimizer_ = opt
        model.history_ = hist
        return hist

    # -- restarts: N fresh initialisations, keep the best -----------------------------------
    template = copy.deepcopy(opt)
    template.reset_state()
    template.lr = template.base_lr
    seeds = [model.seed if r == 0 else derive_seed(model.seed, 1000 + r)
             for r in range(restarts)]
    workers = _restart_workers(restarts, nt, callbacks, verbose, progress)

    def one_restart(r, m, n_threads):
        m.initialize(seeds[r])
        m.epochs_trained_ = 0
        o = copy.deepcopy(template)
        h = _train(m, X, Y, Xv, Yv, o, copy.deepcopy(sched),
                   **dict(common, nt=n_threads))
        h.params["init_seed"] = seeds[r]
        h.params["restart"] = r
        h.params["parallel_restarts"] = workers
        return h, o, m

    results, best = [], None

    def consider(r, h, o, m):
        nonlocal best
        results.append(h)
        score = _final_score(h)
        if best is None or score < best[0]:
            best = (score, r, m.engine.theta.copy(), o, m.epochs_trained_)

    if workers > 1:
        # one model per thread, each engine single-threaded: the C engine releases the GIL,
        # so small networks train truly concurrently. Results are bitwise the same as the
        # sequential run (each restart is seeded on its own; the engine's results do not
        # depend on its thread count).
        from concurrent.futures import ThreadPoolExecutor
        replicas = [copy.deepcopy(model) for _ in range(restarts)]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fastmlp-restart") as ex:
            futures = [ex.submit(one_restart, r, replicas[r], 1) for r in range(restarts)]
            for r, f in enumerate(futures):
                h, o, m = f.result()
                consider(r, h, o, m)
    else:
        for r in range(restarts):
            h, o, m = one_restart(r, model, nt)
            consider(r, h, o, m)
            if h.interrupted:
                break
    _, r, theta, o, ep = best
    model.engine.theta[...] = theta
    model.epochs_trained_ = ep
    model.optimizer_ = o
    hist = results[r]
    hist.restarts = results
    hist.best_restart = r
    model.history_ = hist
    return hist
