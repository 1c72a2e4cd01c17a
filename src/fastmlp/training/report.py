"""A training report: :class:`Report`, a callback that writes one self-contained HTML file
per run (its script, style and data inline: no network, it opens from disk).

What it holds, each part where it applies: the configuration; the loss, validation loss and
score, learning rate and time of every epoch; the learning-rate sweep of ``lr='auto'``; per
layer l at sampled epochs, in the chapter's notation, histograms of W^l, b^l, a^l and
delta^l, the norm of dC/dW^l and the fraction of dead ReLU or saturated sigmoid/tanh units;
for 2-D inputs the decision regions over the epochs; a confusion matrix (classifiers) or
the residuals (regressors); divergence, early stopping, interruption.

Cost: the statistics are taken only at about ``samples`` epochs spread over the run (and
before the first): one forward and backward pass over a fixed probe batch of at most
``probe_rows`` training rows (on one thread when small: waking a team for so few rows costs
more than it saves), and histograms of every weight (one NumPy pass over each array), within
a time budget (``budget``). Between samples the run is untouched, except that with the
report it returns to Python after every epoch (as with any callback) to record the epoch.
"""
from __future__ import annotations

import math
import os
import time
from typing import TYPE_CHECKING, Any, Optional, Union

import numpy as np

from .. import _core
from .._common import check_int
from .._views import histogram, plane_grid, predicted_labels
from .concurrency import shared_threads
from .objective import custom_loss_gradient
from .report_page import render

if TYPE_CHECKING:
    from .history import History
    from .loop import Run

__all__ = ["Report"]

_ACT_NAMES = {code: name for name, code in _core.ACTIVATION_CODES.items()}
_LOSS_NAMES = {code: name for name, code in _core.LOSS_CODES.items()}
_CLASSIFIER_LOSSES = ("logistic", "cross_entropy", "hinge", "margin")
_PER_EPOCH = ("loss", "val_loss", "val_metric", "val_score", "lr", "time")   # History's lists
MAX_POINTS = 1000           # training points drawn in the regions / residual figures
MAX_FRAMES = 16             # decision-region frames kept (first and last always)
FREE_SECONDS = 0.01         # the statistics' time the budget never counts against a run


def _finite(v: Any) -> Any:
    """A float for JSON: NaN and infinities become None (null)."""
    v = float(v)
    return v if math.isfinite(v) else None


class Report:
    """A callback that writes one self-contained HTML report of a training run to ``path``.

    ``Report(path)`` goes in any ``callbacks`` list (``MLP.fit``, :class:`Run`); ``fit(...,
    report=path)``, the command line's ``--report`` and the scikit-learn estimators'
    ``report=`` parameter create one. The file is written when the run ends (also when it
    diverged, stopped early or was interrupted); ``fit`` rewrites it once with the whole
    History (restarts, the ``lr='auto'`` sweep).

    Parameters
    ----------
    path : str or os.PathLike
        Where the HTML file goes (overwritten).
    samples : int
        About how many epochs get the per-layer statistics (spread evenly; the weights
        before the first epoch and at the last are always sampled).
    probe_rows : int
        Rows of the training data (evenly spaced) whose a^l, delta^l and dC/dW^l are shown.
    bins : int
        Histogram bins.
    grid : int
        Decision regions: points per side of the 2-D input plane.
    title : str or None
        The page's heading (default: the file name).
    budget : float or None
        The most time the statistics may take, as a fraction of the run's time so far (or
        10 ms in all, whichever is more): after epoch 1, 2, 4, 8, ... of the run, the
        spacing of the sampled epochs doubles while the mean times of an epoch and of a
        sample so far say that it must (the first and last are always sampled). None:
        every planned epoch, whatever it costs (reproducible sample epochs).
    max_rows : int
        The confusion matrix or residuals use at most this many rows (evenly spaced) of the
        validation data (when ``fit`` had some) or else the training data.
    """

    def __init__(self, path: Union[str, os.PathLike[str]], samples: int = 30,
                 probe_rows: int = 128, bins: int = 30, grid: int = 60,
                 title: Optional[str] = None, budget: Optional[float] = 0.02,
                 max_rows: int = 1000) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file name (str or os.PathLike), got "
                            f"{type(path).__name__}")
        self.path = os.fspath(path)
        if not self.path:
            raise ValueError("path must be a non-empty file name")
        self.samples = check_int("samples", samples, 2)
        self.probe_rows = check_int("probe_rows", probe_rows, 1)
        self.bins = check_int("bins", bins, 2, high=1000)
        self.grid = check_int("grid", grid, 2, high=400)
        if budget is not None and not (isinstance(budget, (int, float)) and 0 < budget <= 1):
            raise ValueError(f"budget must be a fraction in (0, 1] or None, got {budget!r}")
        self.budget = budget
        self.max_rows = check_int("max_rows", max_rows, 1)
        self.title = title
        self.model: Any = None          # set by fit: names, classes, seed
        self.validation: Any = None     # (X, Y) encoded, set by fit
        self.class_names: Any = None    # the confusion matrix's labels (default: classes_)
        self.deferred = False           # fit writes once at its end
        self.runs: list[dict[str, Any]] = []
        self.last_history: Any = None
        self._run: Optional[Run] = None

    # -- the callback ---------------------------------------------------------------------
    def on_train_begin(self, run: Run) -> None:
        self._run = run
        n = run.X.shape[0]
        rows = np.unique(np.linspace(0, n - 1, min(self.probe_rows, n)).astype(np.intp))
        self._probe = (np.ascontiguousarray(run.X[rows]), np.ascontiguousarray(run.Y[rows]))
        self._every = max(1, -(-run.epochs // (self.samples - 1)))
        # the probe's passes: on one thread when small (a team's wake-up costs more)
        flops = 6 * len(rows) * run.engine.n_weights
        self._nt = 1 if flops < 5e7 else shared_threads(run.n_threads, run.share_threads)
        self._t0 = time.perf_counter()
        self._spent = 0.0
        rec: dict[str, Any] = {"config": self._config(run), "samples": [], "frames": [],
                               "epoch0": run.epoch0}
        self.runs.append(rec)
        self._regions_setup(run, rec)
        self._sample(run.epoch0)

    def on_epoch_end(self, epoch: int, logs: Any) -> bool:
        run = self._run
        if run is None:
            return False
        k = epoch - run.epoch0
        if self.budget is not None and k & (k - 1) == 0:       # k = 1, 2, 4, 8, ...
            self._plan(run, k)
        if k % self._every == 0:
            # a safety net for a plan gone wrong: never more than twice the budget
            if self.budget is None or self._spent <= 2 * max(
                    FREE_SECONDS, self.budget * (time.perf_counter() - self._t0)):
                self._sample(epoch)
        return False

    def on_train_end(self, run: Run) -> None:
        rec = self.runs[-1]
        # the weights the run ends with: those of its last epoch, or of the best one when a
        # stopping rule (whose on_train_end ran before, as it comes first) restored them
        last = run.epoch0 + run.epochs_done
        if getattr(run, "restored_best", False) and run.history.best_epoch is not None:
            last = run.history.best_epoch
        rec["final_epoch"] = last
        if last not in [smp["epoch"] for smp in rec["samples"]]:
            self._sample(last)
            for key in ("samples", "frames"):
                rec[key].sort(key=lambda item: item["epoch"])
        rec["final"] = self._final(run)
        self._run = None
        self.last_history = run.history
        if not self.deferred:
            self.write(run.history)

    # -- statistics -------------------------------------------------------------------------
    def _names(self, run: Run) -> tuple[list[str], str, Any]:
        eng = run.engine
        acts = [_ACT_NAMES.get(c, str(c)) for c in eng.acts]
        loss = run.custom_loss
        if loss is not None:
            return acts, getattr(loss, "name", type(loss).__name__), loss
        name = _LOSS_NAMES.get(eng.loss_code, str(eng.loss_code))
        m = self.model
        if m is not None and getattr(m, "loss", None) is not None:
            return acts, m.loss.name, m.loss
        return acts, name, None

    def _is_classifier(self, run: Run) -> bool:
        m = self.model
        if m is not None and hasattr(m, "_is_classifier"):
            return bool(m._is_classifier())
        _, name, loss = self._names(run)
        if loss is not None:
            return bool(getattr(loss, "is_classifier", False))
        return name in _CLASSIFIER_LOSSES

    def _config(self, run: Run) -> list[list[str]]:
        from .. import show_config
        eng = run.engine
        acts, loss_name, _ = self._names(run)
        m = self.model
        cfg = show_config(print_=False)
        threads = run.n_threads if run.n_threads is not None else _core.get_num_threads()
        rows = [["layer sizes", " - ".join(map(str, eng.sizes))],
                ["activations (layers 1..L)", ", ".join(acts)],
                ["loss", loss_name],
                ["optimiser", repr(run.optimizer)],
                ["schedule", repr(run.schedule)],
                ["batch size", str(run.batch_size)],
                ["epochs asked", str(run.epochs)],
                ["training samples", str(run.X.shape[0])]]
        if self.validation is not None:
            rows.append(["validation samples", str(self.validation[0].shape[0])])
        if m is not None and hasattr(m, "seed"):
            rows.append(["seed (initialisation)", str(m.seed)])
        rows += [["seed (shuffling)", str(run.seed)],
                 ["dtype", str(np.dtype(eng.dtype))],
                 ["threads", str(threads)],
                 ["ISA (cpu_features)", str(cfg.get("cpu_features"))],
                 ["kernels (gemm / vecmath)",
                  f"{cfg.get('gemm_kernels')} / {cfg.get('vecmath_kernels')}"],
                 ["fastmlp", str(cfg.get("fastmlp"))]]
        return rows

    def _plan(self, run: Run, k: int) -> None:
        """After k epochs: space the samples as far apart as the budget requires, from the
        mean time of an epoch and of a sample so far. The spacing only ever doubles, so the
        epochs sampled before stay on the grid."""
        assert self.budget is not None
        epoch_s = max(time.perf_counter() - self._t0 - self._spent, 1e-9) / k
        cost = max(self._spent / max(len(self.runs[-1]["samples"]), 1), 1e-9)
        afford = (FREE_SECONDS + self.budget * epoch_s * run.epochs) / cost
        n = int(min(self.samples, max(2, afford)))
        need = -(-run.epochs // max(n - 1, 1))
        while self._every < need:
            self._every *= 2

    def _sample(self, epoch: int) -> None:
        t0 = time.perf_counter()
        try:
            self._take_sample(epoch)
        finally:
            self._spent += time.perf_counter() - t0

    def _take_sample(self, epoch: int) -> None:
        run = self._run
        assert run is not None
        eng = run.engine
        L = eng.n_layers
        Xp, Yp = self._probe
        acts, _, loss = self._names(run)
        layers: list[dict[str, Any]] = []
        with np.errstate(all="ignore"):
            if run.custom_loss is not None:
                _, g, _ = custom_loss_gradient(eng, run.custom_loss, Xp, Yp, None, self._nt)
                if g is not None:
                    eng.backward(Xp, grad_output=g, n_threads=self._nt)
                else:
                    eng.grad[...] = np.nan
            else:
                eng.forward(Xp, n_threads=self._nt)
                eng.backward(Xp, Y=Yp, n_threads=self._nt)
            z, a = eng.trace()
            d = eng.deltas()
            W, b, gW = eng.weights(), eng.biases(), eng.grad_weights()
            for l in range(1, L + 1):
                layers.append({
                    "W": histogram(W[l - 1], self.bins), "b": histogram(b[l - 1], self.bins),
                    "a": histogram(a[l], self.bins), "d": histogram(d[l], self.bins),
                    "gnorm": _finite(math.sqrt(np.square(gW[l - 1], dtype=np.float64).sum())),
                    "inactive": _inactive(acts[l - 1], z[l], a[l])})
        rec = self.runs[-1]
        rec["samples"].append({"epoch": int(epoch), "layers": layers})
        if "regions" in rec:
            self._frame(run, rec, epoch)

    def _regions_setup(self, run: Run, rec: dict[str, Any]) -> None:
        """Decision regions: a classifier on 2-D inputs."""
        if run.X.shape[1] != 2 or not self._is_classifier(run):
            return
        X = np.asarray(run.X, dtype=np.float64)
        lo, hi, g0, g1 = plane_grid(X, 0.5, self.grid)
        self._grid = np.ascontiguousarray(np.column_stack([g0.ravel(), g1.ravel()]),
                                          dtype=run.engine.dtype)
        cls = self._true_labels(run.Y)
        keep = np.unique(np.linspace(0, len(X) - 1, min(MAX_POINTS, len(X))).astype(np.intp))
        rec["regions"] = {"lo": lo.tolist(), "hi": hi.tolist(), "res": self.grid,
                          "points": [[float(X[i, 0]), float(X[i, 1]), int(cls[i])]
                                     for i in keep],
                          "n_classes": int(max(2, run.Y.shape[1]))}
        self._Yref = run.Y

    def _frame(self, run: Run, rec: dict[str, Any], epoch: int) -> None:
        out = run.engine.predict(self._grid, n_threads=1)
        lab = self._pred_index(out, self._Yref)
        rec["frames"].append({"epoch": int(epoch),
                              "labels": "".join(chr(48 + int(c)) for c in lab)})

    @staticmethod
    def _true_labels(Y: Any) -> Any:
        """Class index of encoded targets: argmax of one-hot rows, else 0/1 about the
        midpoint of a single column's two values."""
        if Y.shape[1] > 1:
            return np.argmax(Y, axis=1)
        vals = np.unique(Y[:, 0])
        return (Y[:, 0] > vals[0]).astype(int) if len(vals) == 2 else np.zeros(len(Y), int)

    @staticmethod
    def _pred_index(out: Any, Y: Any) -> Any:
        if out.shape[1] > 1:
            return np.argmax(out, axis=1)
        vals = np.unique(Y[:, 0])
        lab = predicted_labels(out, vals)
        return (lab > vals[0]).astype(int)

    def _final(self, run: Run) -> dict[str, Any]:
        """Confusion matrix or residuals, on the validation data when fit gave it."""
        X, Y, on = run.X, run.Y, "training data"
        if self.validation is not None:
            X, Y = self.validation
            on = "validation data"
        if X.shape[0] > self.max_rows:
            keep = np.unique(np.linspace(0, X.shape[0] - 1, self.max_rows).astype(np.intp))
            on = f"{len(keep):,} evenly spaced rows of the {X.shape[0]:,} of the {on}"
            X, Y = X[keep], Y[keep]
        if X.shape[0] == 0 or not np.all(np.isfinite(run.engine.theta)):
            return {}
        small = 2 * X.shape[0] * run.engine.n_weights < 5e7
        nt = 1 if small else shared_threads(run.n_threads, run.share_threads)
        out = run.engine.predict(np.ascontiguousarray(X, dtype=run.engine.dtype), n_threads=nt)
        if self._is_classifier(run):
            one_hot = Y.shape[1] == 1 or bool(np.all(np.abs(Y.sum(axis=1) - 1) < 1e-6))
            if not one_hot:        # multi-label: no single class per sample
                return {}
            t, p = self._true_labels(Y), self._pred_index(out, Y)
            k = int(max(2, Y.shape[1]))
            M = np.zeros((k, k), dtype=np.int64)
            np.add.at(M, (t, p), 1)
            classes = (self.class_names if self.class_names is not None
                       else getattr(self.model, "classes_", None))
            names = ([str(c) for c in classes] if classes is not None and len(classes) == k
                     else [str(i) for i in range(k)])
            return {"confusion": {"labels": names, "matrix": M.tolist(), "on": on,
                                  "accuracy": float(np.trace(M) / max(M.sum(), 1))}}
        res = (Y - out).astype(np.float64)
        keep = np.unique(np.linspace(0, len(X) - 1, min(MAX_POINTS, len(X))).astype(np.intp))
        y0 = Y[:, 0].astype(np.float64)
        ss = float(((y0 - y0.mean()) ** 2).sum())
        r2 = 1.0 - float((res[:, 0] ** 2).sum()) / ss if ss > 0 else math.nan
        return {"residuals": {"on": on, "true": [_finite(v) for v in y0[keep]],
                              "pred": [_finite(v) for v in out[keep, 0]],
                              "hist": histogram(res, self.bins),
                              "rmse": _finite(np.sqrt(np.mean(res ** 2))), "r2": _finite(r2)}}

    # -- the file ---------------------------------------------------------------------------
    def data(self, history: History, lr_search: Any = None,
             run_index: Optional[int] = None) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready Python objects (the HTML file embeds
        exactly this). The statistics are those of the last run this callback saw, or of
        the kept restart (``history.best_restart``), or of run ``run_index``."""
        from .._version import __version__
        rec = self.runs[-1] if self.runs else {"config": [], "samples": [], "frames": []}
        best = getattr(history, "best_restart", None)
        if history.restarts and best is not None and len(self.runs) >= len(history.restarts):
            rec = self.runs[len(self.runs) - len(history.restarts) + best]
        if run_index is not None and self.runs:
            rec = self.runs[run_index]
        frames = rec["frames"]
        if len(frames) > MAX_FRAMES:
            pick = np.unique(np.linspace(0, len(frames) - 1, MAX_FRAMES).round().astype(int))
            frames = [frames[i] for i in pick]
        regions = dict(rec["regions"], frames=frames) if "regions" in rec else None
        lr_search = lr_search if lr_search is not None else getattr(history, "lr_search", None)
        acts = [row[1] for row in rec["config"] if row[0].startswith("activations")]
        return {"title": self.title or os.path.basename(self.path),
                "version": __version__,
                "config": rec["config"],
                "activations": acts[0].split(", ") if acts else [],
                "history": _history(history),
                "events": _events(history),
                "lr_search": _sweep(lr_search),
                "samples": rec["samples"],
                "final_epoch": rec.get("final_epoch"),
                "regions": regions,
                **rec.get("final", {})}

    def write(self, history: History, lr_search: Any = None,
              run_index: Optional[int] = None) -> str:
        """Write the HTML file for ``history`` (and a sweep; see :meth:`data`); returns its
        path."""
        page = render(self.data(history, lr_search, run_index))
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, self.path)
        return self.path

    def __repr__(self) -> str:
        return f"Report({self.path!r})"


def _inactive(act: str, z: Any, a: Any) -> Optional[float]:
    """The fraction of layer units that do nothing on the probe rows: a ReLU-family unit
    whose z is <= 0 on every row (dead), a sigmoid/tanh unit in its flat tails (a < 0.01 or
    > 0.99; |a| > 0.99) on at least 90 % of the rows (saturated). None: not such a layer."""
    if act in ("relu", "leaky_relu", "prelu"):
        return float(np.mean(np.all(z <= 0, axis=0)))
    if act == "sigmoid":
        flat = (a < 0.01) | (a > 0.99)
    elif act == "tanh":
        flat = np.abs(a) > 0.99
    else:
        return None
    return float(np.mean(np.mean(flat, axis=0) >= 0.9))


def _history(h: History) -> dict[str, Any]:
    out: dict[str, Any] = {"epoch": list(h.epoch)}
    for k in _PER_EPOCH:
        vals = getattr(h, k)
        out[k] = ([_finite(v) for v in vals]
                  if any(not math.isnan(v) for v in vals) else None)
    out["monitor"] = h.monitor
    out["best_epoch"] = h.best_epoch
    return out


def _events(h: History) -> list[dict[str, Any]]:
    """What happened to the run, each with the epoch it happened at (None: the whole run)."""
    last = h.epoch[-1] if h.epoch else None
    found = [
        (h.diverged, "diverged", h.diverged_epoch,
         f"diverged in epoch {h.diverged_epoch}: the loss or a gradient became NaN or "
         f"infinite, training stopped"),
        (h.stopped_early, "stopped_early", last,
         f"stopped early after epoch {last} ({h.monitor} had not improved; best epoch "
         f"{h.best_epoch})"),
        (h.restored_best and h.best_epoch is not None, "restored_best", h.best_epoch,
         f"the weights of epoch {h.best_epoch} (best {h.monitor}) were restored"),
        (h.interrupted, "interrupted", last, f"interrupted (Ctrl-C) after epoch {last}"),
        (bool(h.restarts), "restarts", None,
         f"{len(h.restarts)} restarts; restart {h.best_restart} was kept")]
    return [{"kind": kind, "epoch": epoch, "text": text}
            for happened, kind, epoch, text in found if happened]


def _sweep(res: Any) -> Optional[dict[str, Any]]:
    if res is None:
        return None
    from .._views import sweep_curves, sweep_label
    curves, what = sweep_curves(res)
    return {"lrs": [float(v) for v in res.lrs], "what": what,
            "curves": [[_finite(v) for v in c] for c in curves],
            "diverged": [bool(v) for v in res.diverged],
            "diverged_epoch": [None if v is None else int(v) for v in res.diverged_epoch],
            "final": [_finite(v) for v in res.final],
            "chosen": None if res.index is None else int(res.index),
            "labels": [sweep_label(res, i) for i in range(len(res.lrs))],
            "reason": str(getattr(res, "reason", ""))}
