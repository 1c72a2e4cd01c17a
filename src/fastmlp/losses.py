"""Loss functions (chapter 4.2): one class per loss, a registry by name, label encodings.

Every loss works on the *canonical* target matrix ``Y`` (n samples x N_L outputs) and the
network output ``a = a^L`` (and the logits ``z = z^L`` where it helps numerically). The cost
is the MEAN over samples of the per-sample cost, which is the SUM over output units:

==============  ==========================================  ========================  ==========
name            per-sample C_k                              targets Y                 output
==============  ==========================================  ========================  ==========
square          sum_i (y_i - f_i)^2                         real values               any
hinge           sum_i max(0, 1 - y_i f_i)                   +-1                       a score
logistic        sum_i log(1 + exp(-y_i f_i))                +-1                       a score
cross_entropy   -sum_i y_i log p_i,  p = softmax(z^L)       one-hot / probabilities   softmax
margin          sum_{j != y} max(0, 1 + f_j - f_y)          one-hot (true class y)    any
poisson         sum_i y_i log(y_i / f_i) - y_i + f_i        counts / rates >= 0       exp
==============  ==========================================  ========================  ==========

poisson is half the Poisson deviance (scikit-learn's ``MLPRegressor(loss='poisson')``), with
``0 log 0 = 0``; its output is ``f = e^z`` and the engine computes it from z, so
``delta^L = (f - y) / n``.

"a score" means an output whose sign is the class: hinge and logistic refuse outputs that are
never negative (softmax, sigmoid, step, relu, piecewise_linear).

Labels given to ``fit`` are turned into ``Y`` by :meth:`Loss.encode`: classification losses
accept labels of any type (ints, strings, ...), sorted into ``classes_``. hinge and logistic
are binary with one output unit (``classes_[1]`` -> +1, ``classes_[0]`` -> -1); with K > 1
output units they take K classes one-vs-rest, or a 2-D 0/1 (or -1/+1) multi-label matrix.
cross_entropy and margin take K classes on K output units (or a one-hot matrix; cross_entropy
also probability rows).

A user-defined loss subclasses :class:`Loss` and implements ``value(Y, a)`` (a float: the mean
cost) and ``gradient(Y, a)`` (dC/da of that mean, same shape as ``a``, i.e. already divided by
n) in NumPy. ``fit`` then trains on a slower path: C forward pass, the Python gradient,
delta^L = sigma'(z^L) * grad C in C, and the C backward pass and update. Set
``encoding = "onehot"`` (or ``"pm1"``) in the subclass for a classification loss.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional, Union, cast

import numpy as np

from . import _core
from ._common import nonfinite_error
from ._names import LEAKY_ALPHA, LOSS_NAMES, LOSS_OUTPUTS
from ._typing import ArrayLike, DTypeLike, FloatArray, NDArray
from .activations import ACTIVATIONS, canonical_name, get_activation

__all__ = ["Loss", "SquareLoss", "HingeLoss", "LogisticLoss", "CrossEntropyLoss", "MarginLoss",
           "PoissonLoss", "LOSSES", "ALIASES", "get_loss", "Encoded", "missing_loss_error"]


class Encoded:
    """Result of :meth:`Loss.encode`: the canonical matrix ``Y``, ``classes`` and ``mode``.

    mode: 'regression', 'binary' (one output, +-1), 'ovr' (K outputs one-vs-rest, +-1),
    'multilabel' (K independent binary outputs), 'multiclass' (one-hot/probabilities).
    """
    __slots__ = ("Y", "classes", "mode")

    def __init__(self, Y: FloatArray, classes: Optional[NDArray[Any]], mode: str) -> None:
        self.Y, self.classes, self.mode = Y, classes, mode

    def __iter__(self) -> Iterator[Any]:
        return iter((self.Y, self.classes, self.mode))


def _softplus(t: FloatArray) -> FloatArray:
    return np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))


def _sigmoid(t: FloatArray) -> FloatArray:
    e = np.exp(-np.abs(t))
    return np.where(t >= 0, 1 / (1 + e), e / (1 + e))


def _log_softmax(z: FloatArray) -> FloatArray:
    s = z - z.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def ovr_probabilities(scores: ArrayLike) -> NDArray[np.float64]:
    """One-vs-rest class probabilities from logistic scores (n, k): the sigmoids of each
    row normalised to sum 1, p_k / sum_j p_j. Where a row's scores are so negative (below
    about -709) that sigmoids underflow to 0 -- 0/0 once a whole row does -- that row is
    normalised in log space: log p_k = -log(1 + e^-s_k), then a softmax of those."""
    s = np.asarray(scores, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        p = 1 / (1 + np.exp(-s))
    if s.shape[0] == 0:
        return p
    low = s.min(axis=1) < -700
    with np.errstate(invalid="ignore", divide="ignore"):
        p /= p.sum(axis=1, keepdims=True)
    if low.any():
        logp = -np.logaddexp(0.0, -s[low])
        e = np.exp(logp - logp.max(axis=1, keepdims=True))
        p[low] = e / e.sum(axis=1, keepdims=True)
    return p


def _unique_labels(y: NDArray[Any]) -> NDArray[Any]:
    if y.dtype.kind in "iu" and y.ndim == 1 and y.shape[0] <= 64:
        # np.unique's result for a few integer labels, sorted in Python (cheaper there)
        return np.array(sorted(set(y.tolist())), dtype=y.dtype)
    try:
        return np.unique(y)
    except TypeError as exc:
        raise TypeError(f"labels must be sortable and of one type (all numbers or all "
                        f"strings): {exc}") from None


class Loss:
    """Base class of every loss; subclass it for a user-defined loss.

    Class attributes:
      name: registry name (names and aliases of the built-in losses: ``fastmlp._names``);
      code: the engine's loss code (``_core.LOSS_CODES``; None: computed in Python);
      default_output: output activation used when the model does not name one;
      allowed_outputs: tuple of allowed output activations (None: any);
      encoding: 'real', 'pm1', 'onehot' or 'prob' (how labels become the matrix Y).
    """
    name: str = "custom"
    code: Optional[int] = None
    default_output: str = "linear"
    allowed_outputs: Optional[tuple[str, ...]] = None
    encoding: str = "real"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A built-in loss class (of this module, named in ``_core.LOSS_CODES``) takes its
        engine code and its outputs from the tables (``_names.LOSS_OUTPUTS``)."""
        super().__init_subclass__(**kwargs)
        if cls.__module__ == __name__ and cls.__dict__.get("name") in _core.LOSS_CODES:
            cls.code = _core.LOSS_CODES[cls.name]
            cls.default_output, cls.allowed_outputs = _outputs_of(cls.name)

    # -- maths (NumPy) -----------------------------------------------------------------------
    def value(self, Y: FloatArray, a: FloatArray,
              z: Optional[FloatArray] = None) -> float:  # pragma: no cover - abstract
        """The mean over samples of the per-sample cost."""
        raise NotImplementedError(f"{type(self).__name__} must implement value(Y, a)")

    def gradient(self, Y: FloatArray, a: FloatArray) -> FloatArray:  # pragma: no cover
        """grad C = dC/da^L of the mean cost (shape of a, already divided by n)."""
        raise NotImplementedError(f"{type(self).__name__} must implement gradient(Y, a)")

    @property
    def builtin(self) -> bool:
        return self.code is not None and type(self) in _BUILTIN_CLASSES

    @property
    def is_classifier(self) -> bool:
        return self.encoding != "real"

    # -- outputs -----------------------------------------------------------------------------
    def check_output(self, output: str) -> str:
        """Raise ValueError if ``output`` (an activation name) does not suit this loss."""
        name = canonical_name(output, "output")
        if self.allowed_outputs is not None and name not in self.allowed_outputs:
            raise ValueError(f"the {self.name} loss needs an output activation in "
                             f"{list(self.allowed_outputs)}, got {name!r}")
        return name

    # -- labels ------------------------------------------------------------------------------
    def encode(self, y: ArrayLike, n_outputs: int, classes: Optional[ArrayLike] = None,
               dtype: DTypeLike = np.float64) -> Encoded:
        """Labels/targets ``y`` -> :class:`Encoded` (canonical ``Y`` of shape (n, n_outputs)).

        ``classes``: the classes seen by an earlier fit (labels must be among them);
        None: taken from ``y``.
        """
        dtype = np.dtype(dtype)
        if self.encoding == "real":
            return self._encode_real(y, n_outputs, dtype)
        if self.encoding == "pm1":
            return self._encode_pm1(y, n_outputs, classes, dtype)
        return self._encode_onehot(y, n_outputs, classes, dtype)

    def _encode_real(self, y: ArrayLike, n_outputs: int, dtype: np.dtype[Any]) -> Encoded:
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise ValueError(f"the {self.name} loss needs real-valued targets, got dtype "
                             f"{y.dtype}")
        if y.ndim == 1:
            if n_outputs != 1:
                raise ValueError(f"y is 1-D but the network has {n_outputs} outputs and the "
                                 f"{self.name} loss: for class labels use "
                                 f"loss='cross_entropy' (one output unit per class); for "
                                 f"regression give y of shape (n_samples, {n_outputs})")
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != n_outputs:
            raise ValueError(f"y must have shape (n_samples, {n_outputs}), got {y.shape}")
        with np.errstate(over="ignore"):
            Y = np.ascontiguousarray(y, dtype=dtype)
        if not np.all(np.isfinite(Y)):
            raise nonfinite_error("y", y, Y)
        return Encoded(Y, None, "regression")

    def _labels_1d(self, y: NDArray[Any], classes: Optional[ArrayLike],
                   n_outputs: int) -> tuple[NDArray[Any], Optional[NDArray[Any]]]:
        if y.dtype.kind == "f":
            if not np.all(np.isfinite(y)):
                raise ValueError("y contains NaN or infinite values")
            if not np.all(y == np.round(y)):
                raise ValueError(f"the {self.name} loss is for classification, but y holds "
                                 f"non-integer numbers (continuous targets); use "
                                 f"loss='square' for regression")
        labels = _unique_labels(y)
        if classes is not None:
            classes = np.asarray(classes)
            unseen = np.setdiff1d(labels, classes)
            if unseen.size:
                raise ValueError(f"y has labels {unseen.tolist()[:6]} not among the classes "
                                 f"seen before, classes_={classes.tolist()[:10]}")
        return labels, classes

    def _encode_pm1(self, y: ArrayLike, n_outputs: int, classes: Optional[ArrayLike],
                    dtype: np.dtype[Any]) -> Encoded:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if classes is None and n_outputs == 1 and y.ndim == 1 and y.dtype.kind in "iu" \
                and y.shape[0] <= 64:
            # a few integer labels of a first fit (XOR, a notebook's toy set): the encoding
            # below, in Python, which is cheaper than NumPy's calls at this size
            yl = y.tolist()
            found = sorted(set(yl))
            if len(found) == 2:
                hi = found[1]
                Y = np.fromiter([1.0 if v == hi else -1.0 for v in yl], dtype, len(yl))
                return Encoded(Y.reshape(-1, 1), np.fromiter(found, y.dtype, 2), "binary")
        if y.ndim == 2:   # multi-label: one +-1 (or 0/1) column per output unit
            if y.shape[1] != n_outputs:
                raise ValueError(f"y has {y.shape[1]} columns, the network {n_outputs} outputs")
            if y.dtype.kind not in "biuf":
                raise ValueError(f"a 2-D y for the {self.name} loss must hold 0/1 or -1/+1, "
                                 f"got dtype {y.dtype}")
            vals = set(np.unique(y).tolist())
            if classes is None:
                if vals <= {0, 1}:
                    classes = np.array([0, 1])
                elif vals <= {-1, 1}:
                    classes = np.array([-1, 1])
                else:
                    raise ValueError(f"a 2-D y for the {self.name} loss must hold labels 0/1 "
                                     f"or -1/+1 per column, got values {sorted(vals)[:6]}")
            elif not vals <= set(np.asarray(classes).tolist()):
                raise ValueError(f"y holds values {sorted(vals)[:6]}, expected "
                                 f"{np.asarray(classes).tolist()}")
            classes = np.asarray(classes)
            Y = np.where(y == classes[1], 1.0, -1.0).astype(dtype)
            return Encoded(np.ascontiguousarray(Y), classes, "multilabel")
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D labels or a 2-D label matrix, got shape {y.shape}")
        labels, classes = self._labels_1d(y, classes, n_outputs)
        if classes is None:
            classes = labels
        if n_outputs == 1:
            if len(classes) != 2:
                if len(classes) > 2:
                    raise ValueError(
                        f"the {self.name} loss with one output unit is binary: y must hold "
                        f"exactly 2 classes (e.g. 0/1 or -1/+1), got {len(classes)} classes "
                        f"{classes.tolist()[:6]}; for {len(classes)} classes use "
                        f"loss='cross_entropy' or 'margin', or {len(classes)} output units "
                        f"(one-vs-rest)")
                raise ValueError(f"the {self.name} loss needs 2 classes in y, got only "
                                 f"{classes.tolist()}")
            Y = np.where(y == classes[1], 1.0, -1.0).astype(dtype, copy=False)
            return Encoded(Y.reshape(-1, 1), classes, "binary")
        if len(classes) != n_outputs:
            raise ValueError(f"y has {len(classes)} classes {classes.tolist()[:6]} but the "
                             f"network has {n_outputs} output units; one-vs-rest needs one "
                             f"unit per class (or 1 unit for 2 classes)")
        idx = np.searchsorted(classes, y)
        Y = -np.ones((y.shape[0], n_outputs), dtype=dtype)
        Y[np.arange(y.shape[0]), idx] = 1
        return Encoded(Y, classes, "ovr")

    def _encode_onehot(self, y: ArrayLike, n_outputs: int, classes: Optional[ArrayLike],
                       dtype: np.dtype[Any]) -> Encoded:
        y = np.asarray(y)
        if y.ndim == 2 and not (y.shape[1] == 1 and n_outputs > 1):
            if y.shape[1] != n_outputs:
                raise ValueError(f"a 2-D y must have one column per output unit "
                                 f"({n_outputs}), got shape {y.shape}")
            if y.dtype.kind not in "biuf":
                raise ValueError(f"a 2-D y must be numeric (one-hot rows), got dtype {y.dtype}")
            with np.errstate(over="ignore"):
                Y = np.ascontiguousarray(y, dtype=dtype)
            if not np.all(np.isfinite(Y)):
                raise nonfinite_error("y", y, Y)
            if self.encoding == "onehot":
                if not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
                    raise ValueError(f"a 2-D y for the {self.name} loss must hold one-hot rows "
                                     f"(one true class per sample)")
            else:
                tol = 1000 * np.finfo(dtype).eps
                if np.any(Y < 0) or not np.allclose(Y.sum(axis=1), 1, rtol=0, atol=tol):
                    raise ValueError(f"a 2-D y for the {self.name} loss must hold one-hot or "
                                     f"probability rows (>= 0, each summing to 1)")
            if classes is None:
                classes = np.arange(n_outputs)
            return Encoded(Y, np.asarray(classes), "multiclass")
        if y.ndim == 2:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D labels or a 2-D one-hot matrix, got shape {y.shape}")
        labels, classes = self._labels_1d(y, classes, n_outputs)
        if classes is None:
            if (labels.dtype.kind in "biuf" and labels.size and labels.min() >= 0
                    and labels.max() < n_outputs and len(labels) <= n_outputs):
                classes = np.arange(n_outputs, dtype=labels.dtype)
            else:
                classes = labels
        if len(classes) != n_outputs:
            raise ValueError(f"y has {len(classes)} classes {classes.tolist()[:6]} but the "
                             f"network has {n_outputs} output units; the {self.name} loss "
                             f"needs one output unit per class")
        idx = np.searchsorted(classes, y)
        Y = np.zeros((y.shape[0], n_outputs), dtype=dtype)
        Y[np.arange(y.shape[0]), idx] = 1
        return Encoded(Y, classes, "multiclass")

    # -- predictions -------------------------------------------------------------------------
    @staticmethod
    def decode(out: ArrayLike, classes: ArrayLike, mode: str) -> NDArray[Any]:
        """Network outputs -> labels (``classes`` indexed by sign or argmax)."""
        out = np.asarray(out)
        classes = np.asarray(classes)
        if mode == "binary":
            return classes[(out[:, 0] > 0).astype(np.intp)]
        if mode == "multilabel":
            return classes[(out > 0).astype(np.intp)]
        if mode in ("ovr", "multiclass"):
            return classes[np.argmax(out, axis=1)]
        raise ValueError(f"cannot decode labels for mode {mode!r}")

    @staticmethod
    def metric(Y: ArrayLike, a: ArrayLike, mode: Optional[str]) -> float:
        """Accuracy (classification modes) or R^2 (regression), from canonical Y and outputs."""
        Y, a = np.asarray(Y), np.asarray(a)
        if mode == "regression":
            return r2_score(Y, a)
        if mode in ("binary", "multilabel"):
            hit = (a > 0) == (Y > 0)
            return float(np.mean(np.all(hit, axis=1)))
        return float(np.mean(np.argmax(a, axis=1) == np.argmax(Y, axis=1)))

    # -- misc --------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))


def r2_score(Y: ArrayLike, A: ArrayLike) -> float:
    """Coefficient of determination, averaged uniformly over the output columns."""
    Y = np.asarray(Y, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    if Y.ndim == 1:
        Y, A = Y[:, None], A.reshape(Y.shape[0], -1)
    ss_res = ((Y - A) ** 2).sum(axis=0)
    ss_tot = ((Y - Y.mean(axis=0)) ** 2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(ss_tot > 0, 1 - ss_res / np.where(ss_tot > 0, ss_tot, 1),
                      np.where(ss_res == 0, 1.0, 0.0))
    return float(np.mean(r2))


# outputs whose sign can be the class (hinge, logistic): those that can be negative
_SCORE_OUTPUTS: tuple[str, ...] = tuple(a.name for a in ACTIVATIONS.values()
                                        if not a.nonnegative)


def _outputs_of(name: str) -> tuple[str, Optional[tuple[str, ...]]]:
    """(default output, allowed outputs) of the loss ``name``, from ``_names.LOSS_OUTPUTS``."""
    default, allowed = LOSS_OUTPUTS[name]
    if allowed == "score":
        return default, _SCORE_OUTPUTS
    return default, cast(Optional[tuple[str, ...]], allowed)


class SquareLoss(Loss):
    """C_k = sum_i (y_i - f_i)^2 (regression; equal to (1 - y f)^2 for y in {-1, +1})."""
    name = "square"
    encoding = "real"

    def value(self, Y: FloatArray, a: FloatArray, z: Optional[FloatArray] = None) -> float:
        return float(np.sum((Y - a) ** 2) / Y.shape[0])

    def gradient(self, Y: FloatArray, a: FloatArray) -> FloatArray:
        return 2 * (a - Y) / a.dtype.type(Y.shape[0])


class HingeLoss(Loss):
    """C_k = sum_i max(0, 1 - y_i f_i), y_i in {-1, +1}."""
    name = "hinge"
    encoding = "pm1"

    def value(self, Y: FloatArray, a: FloatArray, z: Optional[FloatArray] = None) -> float:
        return float(np.sum(np.maximum(0, 1 - Y * a)) / Y.shape[0])

    def gradient(self, Y: FloatArray, a: FloatArray) -> FloatArray:
        return np.where(Y * a < 1, -Y, 0 * Y) / a.dtype.type(Y.shape[0])


class LogisticLoss(Loss):
    """C_k = sum_i log(1 + exp(-y_i f_i)), y_i in {-1, +1}; P(y=+1) = sigmoid(f)."""
    name = "logistic"
    encoding = "pm1"

    def value(self, Y: FloatArray, a: FloatArray, z: Optional[FloatArray] = None) -> float:
        with np.errstate(under="ignore"):
            return float(np.sum(_softplus(-Y * a)) / Y.shape[0])

    def gradient(self, Y: FloatArray, a: FloatArray) -> FloatArray:
        with np.errstate(under="ignore"):
            return -Y * _sigmoid(-Y * a) / a.dtype.type(Y.shape[0])


class CrossEntropyLoss(Loss):
    """C_k = -sum_i y_i log p_i with p = softmax(z^L) (computed from z: log-sum-exp)."""
    name = "cross_entropy"
    encoding = "prob"

    def value(self, Y: FloatArray, a: FloatArray, z: Optional[FloatArray] = None) -> float:
        with np.errstate(under="ignore", divide="ignore"):
            if z is not None:
                return float(-np.sum(Y * _log_softmax(z)) / Y.shape[0])
            tiny = np.finfo(a.dtype).tiny
            return float(-np.sum(Y * np.log(np.maximum(a, tiny))) / Y.shape[0])

    def gradient(self, Y: FloatArray, a: FloatArray) -> FloatArray:
        g = np.zeros_like(a)
        nz = Y != 0
        g[nz] = -Y[nz] / a[nz]
        return g / a.dtype.type(Y.shape[0])


class MarginLoss(Loss):
    """Multi-class large margin (Weston-Watkins): C_k = sum_{j != y} max(0, 1 + f_j - f_y)."""
    name = "margin"
    encoding = "onehot"

    @staticmethod
    def _parts(Y: FloatArray, a: FloatArray) -> tuple[FloatArray, NDArray[Any], NDArray[Any]]:
        n = a.shape[0]
        y = np.argmax(Y, axis=1)
        rows = np.arange(n)
        m = 1 + a - a[rows, y][:, None]
        m[rows, y] = 0
        return m, y, rows

    def value(self, Y: FloatArray, a: FloatArray, z: Optional[FloatArray] = None) -> float:
        m, _, _ = self._parts(Y, a)
        return float(np.sum(np.maximum(0, m)) / Y.shape[0])

    def gradient(self, Y: FloatArray, a: FloatArray) -> FloatArray:
        m, y, rows = self._parts(Y, a)
        g = (m > 0).astype(a.dtype)
        g[rows, y] = -g.sum(axis=1)
        return g / a.dtype.type(Y.shape[0])


class PoissonLoss(Loss):
    """Half the Poisson deviance: C_k = sum_i y_i log(y_i / f_i) - y_i + f_i, y_i >= 0,
    f = e^z (computed from z when given: y log y - y z - y + e^z)."""
    name = "poisson"
    encoding = "real"

    def _encode_real(self, y: ArrayLike, n_outputs: int,
                     dtype: np.dtype[Any]) -> Encoded:
        enc = super()._encode_real(y, n_outputs, dtype)
        if np.any(enc.Y < 0):
            raise ValueError("the poisson loss needs targets y >= 0 (counts or rates), got "
                             f"a minimum of {float(enc.Y.min())}")
        return enc

    def value(self, Y: FloatArray, a: FloatArray, z: Optional[FloatArray] = None) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            ylogy = np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1)), 0.0)
            log_a = z if z is not None else np.log(a)
            return float(np.sum(ylogy - Y * log_a - Y + a) / Y.shape[0])

    def gradient(self, Y: FloatArray, a: FloatArray) -> FloatArray:
        return (1 - Y / a) / a.dtype.type(Y.shape[0])


_BUILTIN_CLASSES = (SquareLoss, HingeLoss, LogisticLoss, CrossEntropyLoss, MarginLoss,
                    PoissonLoss)
LOSSES: dict[str, type[Loss]] = {cls.name: cls for cls in _BUILTIN_CLASSES}
ALIASES = LOSS_NAMES.aliases


def missing_loss_error(y: Optional[ArrayLike] = None,
                       n_outputs: Optional[int] = None) -> ValueError:
    """The ValueError for a model that has no loss (the rule: fastmlp never guesses the task
    from the targets; the message names the losses, with a hint drawn from ``y``)."""
    hint = ""
    if y is not None:
        yy = np.asarray(y)
        if yy.ndim == 1 and yy.size and (yy.dtype.kind in "biuUSO" or (
                yy.dtype.kind == "f" and np.all(np.isfinite(yy))
                and np.all(yy == np.round(yy)))):
            k: Optional[int]
            try:
                k = len(np.unique(yy))
            except TypeError:
                k = None
            if k is not None and k <= 1000:
                hint = (f" (y holds {k} distinct labels: for classification use "
                        f"loss='cross_entropy'"
                        + (f", with {k} output units" if n_outputs not in (None, k) else "")
                        + ")")
    return ValueError(
        f"this MLP has no loss, and fit does not guess one from y{hint}: give "
        f"loss='cross_entropy' for class labels (one softmax output unit per class), "
        f"loss='square' for regression (real-valued targets), or 'logistic', 'hinge' or "
        f"'margin' -- to MLP(..., loss=...) or to fit(..., loss=...)")


LossLike = Union[str, Loss, "type[Loss]"]
"""A loss: a name or alias ('square', 'cross_entropy', 'ce', ...), a Loss class or instance."""


def get_loss(loss: LossLike, argname: str = "loss") -> Loss:
    """A :class:`Loss` instance from a name/alias ('ce', 'mse', ...), a Loss class or instance.

    'log_loss' (also 'log', 'logloss') is refused as ambiguous: choose 'logistic' or
    'cross_entropy'."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, type) and issubclass(loss, Loss):
        return loss()
    if not isinstance(loss, str):
        raise TypeError(f"{argname} must be a loss name, a Loss subclass or instance, got "
                        f"{type(loss).__name__} {loss!r}")
    return LOSSES[LOSS_NAMES.resolve(loss, argname)]()


def output_delta(loss: Loss, output: str, Y: FloatArray, z: FloatArray, a: FloatArray,
                 leaky_alpha: float = LEAKY_ALPHA, alpha: Optional[FloatArray] = None,
                 n_threads: Optional[int] = None) -> FloatArray:
    """delta^L = sigma'(z^L) (.) grad C(a) for any loss with a NumPy ``gradient`` (C sigma').

    Softmax outputs use the Jacobian-vector product p * (g - sum_i p_i g_i) row by row.
    """
    g = np.ascontiguousarray(loss.gradient(Y, a), dtype=a.dtype)
    name = canonical_name(output, "output")
    if name == "softmax":
        return np.ascontiguousarray(a * (g - np.sum(a * g, axis=1, keepdims=True)))
    d = _core.act_deriv(get_activation(name).code, np.ascontiguousarray(z),
                        np.ascontiguousarray(a), leaky=leaky_alpha, alpha=alpha,
                        n_threads=n_threads)
    d *= g
    return d
