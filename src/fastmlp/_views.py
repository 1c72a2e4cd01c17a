"""What the figures show, computed once for both renderers: :mod:`fastmlp.plot`
(matplotlib) and :class:`fastmlp.training.Report` (an HTML file). Only NumPy here."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from ._typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from .training.lr_results import LRSweepResult

__all__ = ["predicted_labels", "plane_grid", "sweep_curves", "sweep_label", "histogram"]


def predicted_labels(pred: ArrayLike, y: ArrayLike) -> NDArray[Any]:
    """Predictions as class labels: argmax of score columns; a real-valued single output
    (e.g. a sigmoid unit trained with the square loss) is thresholded half-way between the
    two classes of ``y``."""
    p = np.asarray(pred)
    p = p.reshape(len(p), -1)
    p = p[:, 0] if p.shape[1] == 1 else np.argmax(p, axis=1)
    classes = np.unique(np.asarray(y).reshape(-1))
    if len(classes) == 2 and not np.all(np.isin(p, classes)):
        p = np.where(p > (classes[0] + classes[1]) / 2, classes[1], classes[0])
    return p


def plane_grid(X: NDArray[Any], margin: float, resolution: int
               ) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any], NDArray[Any]]:
    """The 2-D input plane a decision-region figure covers: the range of ``X`` (n, 2) plus
    ``margin`` on every side, ``resolution`` points a side. Returns (lo, hi, g0, g1): the
    corners and the meshgrid (row r of the grid is x_2 = g1[r, 0], from lo[1] up)."""
    lo = X.min(axis=0) - margin
    hi = X.max(axis=0) + margin
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    return lo, hi, g0, g1


def sweep_curves(result: LRSweepResult) -> tuple[list[NDArray[Any]], str]:
    """A sweep's per-rate curves and what they measure: the validation loss when it was
    measured, else the training loss."""
    if result.val_loss is not None:
        return result.val_loss, "validation loss"
    return result.loss, "training loss"


def sweep_label(result: LRSweepResult, i: int) -> str:
    """The legend entry of rate ``i``: its value, whether it was chosen, where it diverged."""
    label = f"lr={result.lrs[i]:.3g}"
    if i == result.index:
        label += " (chosen)"
    if result.diverged[i]:
        label += f", diverged in epoch {result.diverged_epoch[i]}"
    return label


def histogram(values: NDArray[Any], bins: int) -> Optional[dict[str, Any]]:
    """``bins`` equal-width counts over the finite range of ``values`` (any shape), as
    {'lo', 'hi', 'counts', 'nonfinite'}; None for no values. A constant array gets a range
    around its value (of width 1, or wider for values so large that 1 is below their
    precision). The bin of v is floor((v - lo) / (hi - lo) * bins), hi in
    the last bin."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size == 0:
        return None
    finite = np.isfinite(v)
    bad = int(v.size - np.count_nonzero(finite))
    if bad:
        v = v[finite]
    if v.size == 0:
        return {"lo": 0.0, "hi": 0.0, "counts": [], "nonfinite": bad}
    lo, hi = float(v.min()), float(v.max())
    if not hi > lo:
        d = max(0.5, abs(lo) * 2.0 ** -20)
        lo, hi = lo - d, hi + d
    # bin k holds lo + k w <= v < lo + (k + 1) w, the last bin also hi (w = (hi - lo) / bins),
    # computed as floor((v - lo) / (hi - lo) * bins): one pass, no edge search
    if np.isfinite(hi - lo):
        t = v - lo
        t *= bins / (hi - lo)
    else:                               # a range beyond the float range: scaled
        s = max(abs(lo), abs(hi))
        t = (v / s - lo / s) * (bins / (hi / s - lo / s))
    counts = np.bincount(np.clip(t.astype(np.intp), 0, bins - 1), minlength=bins)
    return {"lo": lo, "hi": hi, "counts": counts.tolist(), "nonfinite": bad}
