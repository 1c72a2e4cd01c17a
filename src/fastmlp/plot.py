"""Figures for training curves and decision regions (needs matplotlib: ``pip install matplotlib``).

Importing ``fastmlp`` or ``fastmlp.plot`` does not import matplotlib; each function imports
it when called and raises an ImportError that says what to install when it is missing. No
backend is chosen here (use ``matplotlib.use("Agg")`` for files without a display). The
figures these functions create use matplotlib's constrained layout, so axis labels and tick
labels stay inside a saved figure. ``fastmlp.plot`` is also reachable as ``fm.plot`` after
``import fastmlp as fm`` (loaded on first use).

* :func:`plot_history` -- training and validation loss per epoch.
* :func:`plot_decision_regions` -- the class a model predicts over a 2-D input plane, with
  the samples on top.
* :func:`plot_xor` -- the chapter's point in one figure: a perceptron next to an MLP on XOR.
* :func:`plot_lr_sweep` -- a learning-rate sweep: one loss curve per rate (too small, about
  right, too large), or each rate's final loss against the rate.
* :func:`plot_lr_range` -- the learning-rate range test: loss against rate, the suggestion
  marked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

import numpy as np

from ._install import install_hint
from ._typing import ArrayLike
from ._views import plane_grid, predicted_labels, sweep_curves, sweep_label
from .datasets import xor

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .training.lr_results import LRRangeResult, LRSweepResult

__all__ = ["plot_history", "plot_decision_regions", "plot_xor", "plot_lr_sweep",
           "plot_lr_range"]

_INSTALL = "fastmlp.plot needs matplotlib: " + install_hint("plot")


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(_INSTALL) from exc
    return plt


def _history_dict(history: Any) -> Mapping[str, Sequence[float]]:
    """A dict of per-epoch lists from a History, a dict, or anything with .history."""
    h = getattr(history, "history", history)
    if not isinstance(h, dict):
        raise TypeError(f"history must be a History (from fit) or a dict of per-epoch lists, "
                        f"got {type(history).__name__}")
    return h


def plot_history(history: Any, ax: Optional[Axes] = None, log: bool = False,
                 keys: Optional[Sequence[str]] = None, title: Optional[str] = None) -> Axes:
    """Plot the per-epoch training loss and, when recorded, the validation loss.

    ``history``: the History returned by ``fit`` (or its ``.history`` dict). ``log=True`` puts
    the loss on a logarithmic axis. ``keys``: which curves to draw (default: ``loss`` and
    ``val_loss`` where present). Returns the Axes; one Line2D per curve, in ``keys`` order.
    """
    h = _history_dict(history)
    if keys is None:
        keys = [k for k in ("loss", "val_loss") if h.get(k) is not None and len(h[k])]
        if not keys:
            raise ValueError(f"history has no 'loss' values to plot (keys: {sorted(h)})")
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
    labels = {"loss": "training loss", "val_loss": "validation loss"}
    for k in keys:
        if k not in h:
            raise KeyError(f"history has no {k!r} (keys: {sorted(h)})")
        v = np.asarray(h[k], dtype=np.float64)
        ax.plot(np.arange(1, len(v) + 1), v, marker="." if len(v) < 30 else None,
                label=labels.get(k, k))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    if log:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


def plot_decision_regions(model: Any, X: ArrayLike, y: ArrayLike, ax: Optional[Axes] = None,
                          resolution: int = 200, margin: float = 0.5,
                          title: Optional[str] = None, cmap: str = "coolwarm") -> Axes:
    """Colour the 2-D input plane by the class ``model.predict`` gives, and scatter (X, y).

    ``X``: (n, 2) inputs; ``y``: their labels (used for the marker colours). The grid covers
    the data's range plus ``margin`` on every side at ``resolution`` x ``resolution``
    points. Returns the Axes (one filled contour set and one scatter collection).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y).reshape(len(X), -1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_regions needs 2-D inputs: X of shape (n, 2), "
                         f"got {X.shape}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or \
            resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    y = y[:, 0] if y.shape[1] == 1 else np.argmax(y, axis=1)
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
    lo, hi, g0, g1 = plane_grid(X, margin, resolution)
    grid = np.column_stack([g0.ravel(), g1.ravel()])
    pred = _labels(model.predict(grid), y).astype(np.float64).reshape(g0.shape)
    classes = np.unique(np.concatenate([np.unique(pred), np.unique(y).astype(np.float64)]))
    if len(classes) > 1:
        edges = np.concatenate([[classes[0] - 0.5], (classes[:-1] + classes[1:]) / 2,
                                [classes[-1] + 0.5]])
    else:
        edges = np.array([classes[0] - 0.5, classes[0] + 0.5])
    ax.contourf(g0, g1, pred, levels=edges, cmap=cmap, alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y.astype(np.float64), cmap=cmap, vmin=classes[0],
               vmax=classes[-1], edgecolors="k", s=60 if len(X) <= 50 else 15, zorder=3)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


_labels = predicted_labels


def _accuracy(model: Any, X: ArrayLike, y: ArrayLike) -> float:
    y = np.asarray(y).reshape(-1)
    return float(np.mean(_labels(model.predict(X), y) == y))


def plot_xor(perceptron: Any, mlp: Any, X: Optional[ArrayLike] = None,
             y: Optional[ArrayLike] = None, resolution: int = 200) -> Figure:
    """Two panels side by side: the perceptron's and the MLP's decision regions on XOR.

    Both models must already be fitted; ``X, y`` default to :func:`fastmlp.datasets.xor`.
    Each panel's title gives the model's accuracy on the four points. Returns the Figure.
    """
    if X is None or y is None:
        X, y = xor()
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
    for ax, model, name in ((axes[0], perceptron, "perceptron (one layer)"),
                            (axes[1], mlp, "MLP " + "-".join(
                                map(str, getattr(mlp, "layer_sizes", []))))):
        plot_decision_regions(model, X, y, ax=ax, resolution=resolution, margin=0.5)
        ax.set_title(f"{name.strip()}: accuracy {100 * _accuracy(model, X, y):.0f} %")
    fig.suptitle("XOR: not linearly separable")
    return fig


_sweep_label = sweep_label


def plot_lr_sweep(result: LRSweepResult, ax: Optional[Axes] = None, kind: str = "curves",
                  indices: Optional[Sequence[int]] = None, log: bool = True,
                  title: Optional[str] = None) -> Axes:
    """Plot a learning-rate sweep (an :class:`~fastmlp.training.LRSweepResult`).

    ``kind='curves'``: the monitored loss (validation loss when measured, else training
    loss) per epoch, one line per rate; a rate that diverged ends in a cross at its last
    finite epoch. ``indices``: which rates (indices into ``result.lrs``; default all, e.g.
    ``result.picture()`` for too small / about right / too large). ``kind='final'``: each
    rate's final loss against the rate (log x axis), diverged rates as crosses along the
    top, the chosen rate marked. ``log``: logarithmic loss axis. Returns the Axes.
    """
    if kind not in ("curves", "final"):
        raise ValueError(f"kind must be 'curves' or 'final', got {kind!r}")
    n = len(result.lrs)
    idx = list(range(n)) if indices is None else [int(i) for i in indices]
    if any(not 0 <= i < n for i in idx):
        raise ValueError(f"indices must be in 0..{n - 1}, got {idx}")
    curves, what = sweep_curves(result)
    plt = _pyplot()
    if ax is None:
        ax = _new_axes(plt)
    if kind == "curves":
        for i in idx:
            v = np.asarray(curves[i], dtype=np.float64)
            epochs = np.arange(1, len(v) + 1)
            (line,) = ax.plot(epochs, v, marker="." if len(v) < 30 else None,
                              lw=2.5 if i == result.index else 1.5, label=_sweep_label(result, i))
            if result.diverged[i] and len(v):
                ax.plot(epochs[-1:], v[-1:], "x", ms=10, mew=2, color=line.get_color())
        ax.set_xlabel("epoch")
        from matplotlib.ticker import MaxNLocator
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))    # epochs are whole
    else:
        lrs = result.lrs[idx]
        final = np.array([result.final[i] for i in idx])
        ok = np.array([not result.diverged[i] and np.isfinite(result.final[i]) for i in idx])
        ax.plot(lrs[ok], final[ok], "o-", label=f"final {what}")
        if (~ok).any():
            top = np.nanmax(final[ok]) if ok.any() else 1.0
            ax.plot(lrs[~ok], np.full((~ok).sum(), top), "x", color="tab:red", ms=10, mew=2,
                    label="diverged")
        if result.index is not None and result.lr is not None and result.index in idx:
            ax.axvline(result.lr, color="tab:green", ls="--",
                       label=f"chosen lr={result.lr:.3g} ({result.rule})")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
    ax.set_ylabel(what)
    if log:
        ax.set_yscale("log")
    return _finish(ax, title, outside=True)


def _new_axes(plt: Any) -> Axes:
    """A figure of its own, laid out by constrained layout: labels and the legend outside
    the axes are kept inside the figure, also by ``savefig``."""
    fig = plt.figure(figsize=(7.0, 3.8), constrained_layout=True)
    return fig.add_subplot()


def _finish(ax: Axes, title: Optional[str], outside: bool = False) -> Axes:
    if outside:      # beside the axes, so it never covers a curve
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  borderaxespad=0.0)
    else:
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


def plot_lr_range(result: LRRangeResult, ax: Optional[Axes] = None,
                  title: Optional[str] = None) -> Axes:
    """Plot a learning-rate range test (an :class:`~fastmlp.training.LRRangeResult`): each
    batch's loss (faint) and its smoothed value against the rate (log x axis), the
    suggested rate marked by a vertical line. The y axis stops a little above the first
    smoothed loss, so the explosion at the end does not flatten the rest. Returns the Axes.
    """
    plt = _pyplot()
    if ax is None:
        ax = _new_axes(plt)
    lrs, raw, sm = result.lrs, result.loss, result.smoothed
    ax.plot(lrs, raw, color="tab:blue", alpha=0.3, lw=1, label="batch loss")
    ax.plot(lrs, sm, color="tab:blue", lw=2, label="smoothed")
    at = lrs[result.min_index]
    ax.plot([at], [sm[result.min_index]], "o", color="tab:orange",
            label=f"minimum at lr={at:.3g}")
    rule = {"minimum": "a tenth of the minimum's rate",
            "steepest": "where the smoothed loss falls fastest"}.get(result.rule, result.rule)
    ax.axvline(result.lr, color="tab:green", ls="--",
               label=f"suggested lr={result.lr:.3g}\n({rule})")
    finite = sm[np.isfinite(sm)]
    if finite.size:
        lo, hi = float(finite.min()), float(max(finite[0], finite.min()))
        pad = 0.1 * (hi - lo) if hi > lo else 0.1 * abs(hi) + 1e-12
        ax.set_ylim(lo - pad, hi + 2 * pad)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    return _finish(ax, title, outside=True)
