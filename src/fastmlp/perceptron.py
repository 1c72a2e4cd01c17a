"""The single-layer :class:`Perceptron` trained with the classic perceptron rule (chapter
4.1): threshold units, NumPy updates, the units evaluated by the C activation kernel."""
from __future__ import annotations


import warnings
from typing import Any, Optional

import numpy as np

from . import _core
from ._common import REAL_TYPES, NotFittedError, check_dtype, check_int, check_X, seed_int
from ._typing import ArrayLike, DTypeLike, FloatArray, NDArray, SeedLike
from .activations import canonical_name, get_activation
from .training.history import DivergenceWarning

__all__ = ["Perceptron"]


class Perceptron:
    """A single layer of threshold units trained with the classic perceptron rule.

    Output units are independent (each has its own weights). For each sample x, in a
    random order every epoch (``default_rng(seed)``)::

        y_hat = sigma(x W + b)          (step: 0 / 0.5 / 1;  sign: -1 / 0 / +1)
        W <- W + lr * outer(x, y - y_hat),   b <- b + lr * (y - y_hat)

    starting from W = 0, b = 0. ``fit`` stops after an epoch without a mistake
    (``converged_ = True``); on a problem that is not linearly separable (XOR) it never
    does -- that is the chapter's point: ``converged_`` stays False and ``score`` < 1.

    Divergence follows the library's one policy (as ``MLP.fit``): an update that would make
    a weight NaN or infinite (inputs near the dtype's limit) changes nothing, training stops
    with a ``fastmlp.DivergenceWarning`` and ``diverged_`` holds the epoch (from 1).

    Labels: any two classes for one output unit (``classes_[1]`` is the positive class);
    K classes on K units (one unit per class, prediction by the largest z); or a 2-D
    0/1 matrix, one column per unit.
    """

    classes_: NDArray[Any]

    def __init__(self, n_inputs: int, n_outputs: int = 1, activation: str = "step",
                 lr: float = 1.0, seed: SeedLike = None, dtype: DTypeLike = "float64") -> None:
        self.n_inputs = check_int("n_inputs", n_inputs, 1)
        self.n_outputs = check_int("n_outputs", n_outputs, 1)
        act = canonical_name(activation, "activation")
        if act not in ("step", "sign"):
            raise ValueError(f"the perceptron rule needs threshold units: activation 'step' "
                             f"or 'sign', got {act!r}")
        self.activation = act
        self._code = get_activation(act).code
        if isinstance(lr, bool) or not isinstance(lr, REAL_TYPES) or not np.isfinite(lr) \
                or lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
        self.lr = float(lr)
        self.seed = seed_int(seed)
        self.dtype = check_dtype(dtype)
        self.W = np.zeros((self.n_inputs, self.n_outputs), dtype=self.dtype)
        self.b = np.zeros(self.n_outputs, dtype=self.dtype)
        self.converged_ = False
        self.errors_: list[int] = []
        self.n_iter_ = 0
        self.diverged_: Any = None      # the epoch (from 1) a step would have diverged in

    @property
    def _low(self) -> float:
        return 0.0 if self.activation == "step" else -1.0

    def _z(self, X: FloatArray) -> FloatArray:
        with np.errstate(over="ignore"):     # a z beyond the dtype's range is +-inf: its sign
            return np.ascontiguousarray(X @ self.W + self.b)    # is what the unit needs

    def _a(self, X: FloatArray) -> FloatArray:
        """sigma(x W + b) by the C activation kernel."""
        return _core.act_forward(self._code, self._z(X))

    def _targets(self, y: ArrayLike, n: int) -> FloatArray:
        y = np.asarray(y)
        if y.shape[0] != n:
            raise ValueError(f"X and y have different lengths: {n} and {y.shape[0]}")
        lo = self._low
        if y.ndim == 2 and y.shape[1] == self.n_outputs and self.n_outputs > 1:
            vals = set(np.unique(y).tolist())
            if not vals <= {0, 1} and not vals <= {-1, 1}:
                raise ValueError(f"a 2-D y must hold 0/1 (or -1/+1) per unit, got "
                                 f"{sorted(vals)[:6]}")
            self.classes_ = np.array([-1, 1]) if vals <= {-1, 1} and -1 in vals else \
                np.array([0, 1])
            self._mode = "multilabel"
            return np.where(y == self.classes_[1], 1.0, lo).astype(self.dtype)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D labels or ({n}, {self.n_outputs}), got {y.shape}")
        classes = np.unique(y)
        if self.n_outputs == 1:
            if len(classes) > 2:
                raise ValueError(f"one perceptron unit separates 2 classes, y has "
                                 f"{len(classes)}: {classes.tolist()[:6]}; use n_outputs="
                                 f"{len(classes)} (one unit per class)")
            if len(classes) < 2:
                raise ValueError(f"y needs 2 classes, got only {classes.tolist()}")
            self.classes_, self._mode = classes, "binary"
            return np.where(y == classes[1], 1.0, lo).astype(self.dtype)[:, None]
        if len(classes) != self.n_outputs:
            raise ValueError(f"y has {len(classes)} classes but the perceptron has "
                             f"{self.n_outputs} units (one per class)")
        self.classes_, self._mode = classes, "ovr"
        T = np.full((n, self.n_outputs), lo, dtype=self.dtype)
        T[np.arange(n), np.searchsorted(classes, y)] = 1
        return T

    def fit(self, X: ArrayLike, y: ArrayLike, epochs: int = 100) -> "Perceptron":
        """Train with the perceptron rule for at most ``epochs`` epochs (from W = 0)."""
        X = check_X(X, self.n_inputs, self.dtype)
        if X.shape[0] == 0:
            raise ValueError("X has no samples (0 rows)")
        epochs = check_int("epochs", epochs, 1)
        T = self._targets(y, X.shape[0])
        rng = np.random.default_rng(self.seed)
        self.W[...] = 0
        self.b[...] = 0
        self.errors_ = []
        self.converged_ = False
        self.diverged_ = None
        lr = self.dtype.type(self.lr)
        for epoch in range(1, epochs + 1):
            mistakes = 0
            with np.errstate(over="ignore", invalid="ignore"):
                for k in rng.permutation(X.shape[0]):
                    x = X[k:k + 1]
                    err = T[k] - self._a(x)[0]
                    if np.any(err != 0):
                        W = self.W + lr * np.outer(x[0], err)
                        b = self.b + lr * err
                        if not (np.isfinite(W).all() and np.isfinite(b).all()
                                and np.isfinite(err).all()):
                            self.diverged_ = epoch      # the step is refused: see below
                            break
                        mistakes += 1
                        self.W[...] = W
                        self.b[...] = b
            if self.diverged_ is not None:
                # the library's one divergence policy (as MLP.fit): the failing step changes
                # nothing, training stops, the weights stay the last finite ones
                warnings.warn(f"Perceptron.fit: training diverged in epoch {epoch}: a step "
                              f"would have made the weights NaN or infinite, so training "
                              f"stopped with the last finite weights. Scale the inputs or "
                              f"use a smaller lr (lr={self.lr:g}).", DivergenceWarning,
                              stacklevel=2)
                break
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        self.n_iter_ = len(self.errors_)
        return self

    def decision_function(self, X: ArrayLike) -> FloatArray:
        X = check_X(X, self.n_inputs, self.dtype)
        z = self._z(X)
        return z[:, 0] if self.n_outputs == 1 else z

    def forward(self, X: ArrayLike) -> FloatArray:
        """The units' outputs sigma(x W + b) (computed by the C kernel)."""
        return self._a(check_X(X, self.n_inputs, self.dtype))

    @property
    def target_mode(self) -> Optional[str]:
        """How fit encoded the labels ('binary', 'ovr', 'multilabel'; None before it)."""
        return self.__dict__.get("_mode")

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        if not hasattr(self, "classes_"):
            raise NotFittedError("this Perceptron has not been fitted yet; call fit() first")
        X = check_X(X, self.n_inputs, self.dtype)
        if self._mode == "ovr":
            return self.classes_[np.argmax(self._z(X), axis=1)]
        on = (self._a(X) > 0.5 if self.activation == "step" else self._a(X) > 0)
        on = on.astype(np.intp)
        return self.classes_[on[:, 0]] if self._mode == "binary" else self.classes_[on]

    def score(self, X: ArrayLike, y: ArrayLike) -> float:
        """Accuracy of ``predict`` (a point exactly on a boundary goes to the first class)."""
        pred = self.predict(X)
        y = np.asarray(y)
        if pred.ndim == 2:
            return float(np.mean(np.all(pred == y.reshape(pred.shape), axis=1)))
        return float(np.mean(pred == y.reshape(-1)))

    def __repr__(self) -> str:
        return (f"Perceptron(n_inputs={self.n_inputs}, n_outputs={self.n_outputs}, "
                f"activation={self.activation!r}, lr={self.lr}, seed={self.seed})")
