"""The read side of :class:`fastmlp.MLP`: its outputs, predictions, probabilities and score
(a base class of ``MLP``; every method takes the model's read lock)."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import _core
from ._common import NotFittedError, check_X
from ._model_lock import reads as _reads
from ._typing import ArrayLike, FloatArray, NDArray
from .losses import Loss, ovr_probabilities, r2_score


class Outputs:
    """What an MLP computes from inputs (``predict``, ``predict_proba``,
    ``decision_function``, ``score``)."""

    engine: Any
    _lock: Any
    loss: Optional[Loss]
    layer_sizes: list[int]
    dtype: Any
    n_threads: Optional[int]
    classes_: NDArray[Any]
    _mode: str

    # -- passes ---------------------------------------------------------------------------
    def check_inputs(self, X: ArrayLike, name: str = "X", finite: bool = True) -> FloatArray:
        """``X`` as the engine takes it: a C-contiguous 2-D array of the model's dtype with
        ``n_features_in_`` columns, finite (TypeError/ValueError naming ``name`` otherwise);
        a sparse X (any scipy.sparse format) as a checked CSR, never densified.
        ``finite=False``: leave the finiteness of an X that needs no conversion to the
        caller's next step (``Engine.predict`` checks it as it goes)."""
        if _core.is_sparse(X) or isinstance(X, _core.CSR):
            return _core.csr_input(X, self.dtype, self.layer_sizes[0])
        return check_X(X, self.layer_sizes[0], self.dtype, name, finite)

    def _outputs(self, X: ArrayLike, n_threads: Optional[int] = None) -> FloatArray:
        X = self.check_inputs(X, finite=False)     # Engine.predict checks it, per chunk
        if X.shape[0] == 0:
            return np.empty((0, self.layer_sizes[-1]), dtype=self.dtype)
        return self.engine.predict(X, n_threads=self._nt(n_threads))

    def _nt(self, n_threads: Optional[int] = None) -> Optional[int]:
        return self.n_threads if n_threads is None else n_threads


    def _is_classifier(self) -> bool:
        return self.loss is not None and self.loss.is_classifier

    def predict(self, X: ArrayLike, n_threads: Optional[int] = None) -> NDArray[Any]:
        """Class labels (classification losses; needs ``classes_`` from fit) or the raw
        outputs (square loss / no loss: shape (n, N_L), 1-D if fit saw a 1-D y)."""
        lock = self._lock          # as @_reads, written out: this is the latency path
        lock.acquire_read()
        try:
            return self._predict(X, n_threads)
        finally:
            lock.release_read()

    def _predict(self, X: ArrayLike, n_threads: Optional[int] = None) -> NDArray[Any]:
        if self.loss is not None and self.loss.is_classifier:
            classes = getattr(self, "classes_", None)
            if classes is None:
                raise NotFittedError(f"this MLP with the {self.loss.name} loss has not been "
                                     f"fitted yet: predict() returns class labels, which "
                                     f"fit() learns (classes_). Call fit() first, or use "
                                     f"decision_function() / forward() for raw outputs")
            return Loss.decode(self._outputs(X, n_threads), classes, self._mode)
        out = self._outputs(X, n_threads)
        if getattr(self, "_y_1d", False) and out.shape[1] == 1:
            return out[:, 0]
        return out

    def decision_function(self, X: ArrayLike, n_threads: Optional[int] = None) -> FloatArray:
        """The raw outputs a^L (1-D for a single output unit)."""
        lock = self._lock          # as @_reads
        lock.acquire_read()
        try:
            out = self._outputs(X, n_threads)
        finally:
            lock.release_read()
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_proba(self, X: ArrayLike, n_threads: Optional[int] = None) -> FloatArray:
        """Class probabilities, columns in the order of ``classes_``.

        cross_entropy: the softmax outputs; logistic: sigmoid of the margin ([1-p, p] for
        one output unit; one-vs-rest rows normalised -- in log space where every score is
        so negative that the sigmoids underflow; multi-label: one p per column).
        Other losses have no probabilities (ValueError).
        """
        lock = self._lock          # as @_reads
        lock.acquire_read()
        try:
            name = self.loss.name if self.loss is not None else None
            if name not in ("cross_entropy", "logistic"):
                what = ("regression (square loss)" if name in (None, "square")
                        else f"the {name} loss")
                raise ValueError(f"predict_proba is not available for {what}: it needs a "
                                 f"probabilistic loss (cross_entropy or logistic); use "
                                 f"decision_function() for raw scores")
            out = self._outputs(X, n_threads)
            mode = getattr(self, "_mode", "binary" if out.shape[1] == 1 else "multilabel")
        finally:
            lock.release_read()
        if name == "cross_entropy":
            return out
        out = out.astype(np.float64)
        if mode == "ovr":
            return ovr_probabilities(out).astype(self.dtype)
        with np.errstate(over="ignore", under="ignore"):
            p = 1 / (1 + np.exp(-out))
        return (np.hstack([1 - p, p]) if mode == "binary" else p).astype(self.dtype)

    @_reads
    def score(self, X: ArrayLike, y: ArrayLike, n_threads: Optional[int] = None) -> float:
        """Accuracy for classification losses, R^2 (uniform over outputs) otherwise. Needs
        at least one sample."""
        y = yt = np.asarray(y)
        if _core.is_sparse(X) or isinstance(X, _core.CSR):
            if X.shape[0] == 0:  # type: ignore[union-attr]
                raise ValueError("score needs at least one sample: X has 0 rows")
        elif np.ndim(X) >= 1 and len(X) == 0:  # type: ignore[arg-type]
            raise ValueError("score needs at least one sample: X has 0 rows")
        if self._is_classifier():
            pred = self._predict(X, n_threads)
            if yt.shape[0] != pred.shape[0]:
                raise ValueError(f"X and y have different lengths: {pred.shape[0]} and "
                                 f"{yt.shape[0]}")
            if getattr(self, "_mode", None) == "multiclass" and yt.ndim == 2 and yt.shape[1] > 1:
                yt = self.classes_[np.argmax(yt, axis=1)]
            if pred.ndim == 2:
                return float(np.mean(np.all(pred == yt.reshape(pred.shape), axis=1)))
            return float(np.mean(pred == yt.reshape(-1)))
        out = self._outputs(X, n_threads)
        if y.shape[0] != out.shape[0]:
            raise ValueError(f"X and y have different lengths: {out.shape[0]} and {y.shape[0]}")
        return r2_score(y.reshape(out.shape[0], -1), out)
