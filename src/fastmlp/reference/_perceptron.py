"""fastmlp.reference: the perceptron (chapter 4.1). Part of the reference, whose notation and
formulas are in the package's docstring (__init__.py)."""

import numpy as np

from .._common import check_int, check_real
from ._activations import _act
from ._checks import _as_real_array
from ._network import _check_X


# --------------------------------------------------------------------------
# The perceptron (chapter 4.1): one layer of step units, outputs independent
# --------------------------------------------------------------------------

def _check_perceptron_y(y, n):
    y = _as_real_array("y", y)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, n_out), got {y.shape}")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y for the perceptron must hold labels 0 or 1")
    return y


def perceptron_train(X, y, epochs=100, lr=1.0, seed=None):
    """The classic perceptron rule for a single layer of step units.

    Start from W = 0, b = 0.  Each epoch visits the samples one at a time in a
    random order (a permutation drawn from ``np.random.default_rng(seed)``);
    for each sample x with labels y (in {0, 1}, one column per output unit):
        o = step(x W + b)   (0, 1, or 0.5 exactly on the boundary -- never right)
        W <- W + lr * outer(x, y - o),   b <- b + lr * (y - o).
    Units are independent: each output column learns on its own.
    Stops early after an epoch without a single mistake.

    Returns (W of shape (n_features, n_out), b, errors) where errors[e] is the
    number of samples misclassified (on any unit) during epoch e, before update.
    """
    X = _as_real_array("X", X, ndim=2)
    if X.shape[0] == 0:
        raise ValueError("X has no samples (0 rows)")
    y = _check_perceptron_y(y, X.shape[0]).astype(X.dtype)
    epochs = check_int("epochs", epochs, 0)
    lr = check_real("lr", lr, 0, low_open=True)
    rng = np.random.default_rng(seed)
    W = np.zeros((X.shape[1], y.shape[1]), dtype=X.dtype)
    b = np.zeros(y.shape[1], dtype=X.dtype)
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for k in rng.permutation(X.shape[0]):
            o = _act("step", X[k] @ W + b, None)
            err = y[k] - o
            if np.any(err != 0):
                mistakes += 1
                W += X.dtype.type(lr) * np.outer(X[k], err)
                b += X.dtype.type(lr) * err
        errors.append(mistakes)
        if mistakes == 0:
            break
    return W, b, errors


def perceptron_predict(X, W, b):
    """step(X W + b): 1 above the boundary, 0 below, 0.5 exactly on it."""
    W = _as_real_array("W", W, ndim=2)
    b = _as_real_array("b", b, dtype=W.dtype, ndim=1)
    if b.shape != (W.shape[1],):
        raise ValueError(f"b has shape {b.shape}, expected ({W.shape[1]},)")
    X = _check_X(X, W.shape[0], W.dtype)
    return _act("step", X @ W + b, None)
