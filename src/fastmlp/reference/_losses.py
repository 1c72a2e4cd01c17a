"""fastmlp.reference: targets and losses (chapter 4.2). Part of the reference, whose notation
and formulas are in the package's docstring (__init__.py)."""

import numpy as np

from .._common import check_int
from .._names import fused_output, output_mismatch
from ._activations import _act_derivative, _log_softmax, _sigmoid
from ._checks import (_FLOATS, _as_real_array, _check_alpha, _quiet_underflow,
                      canonical_activation, canonical_loss)


# --------------------------------------------------------------------------
# Targets and losses  (chapter 4.2)
# --------------------------------------------------------------------------

def encode_targets(loss, y, n_outputs, dtype=None):
    """The canonical target matrix Y of shape (n, n_outputs) for ``loss``.

    * square: real targets as given (a 1-D y becomes a column).
    * hinge, logistic: labels +-1; accepts {0, 1} (0 becomes -1) or {-1, +1}.
    * cross_entropy: one-hot rows; accepts class indices 0..n_outputs-1 (1-D
      integer vector) or an (n, n_outputs) matrix of one-hot or probability
      rows (non-negative, each summing to 1).
    * margin: one-hot rows; accepts class indices or one-hot rows (the margin
      loss needs one true class per sample, so probability rows are refused).
    * poisson: real targets >= 0 as given (a 1-D y becomes a column).

    ``dtype``: float32 or float64; None keeps float32 input, else float64.
    """
    loss = canonical_loss(loss)
    n_outputs = check_int("n_outputs", n_outputs, 1)
    y = _as_real_array("y", y)
    if dtype is None:
        dtype = y.dtype if y.dtype in _FLOATS else np.float64
    dtype = np.dtype(dtype)
    if dtype not in _FLOATS:
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}")

    if loss in ("square", "hinge", "logistic", "poisson"):
        if y.ndim == 1:
            y = y[:, None]
        if y.shape[1] != n_outputs:
            raise ValueError(f"y has {y.shape[1]} columns, expected n_outputs={n_outputs}")
        if loss == "poisson":
            _check_target_values(loss, y, "y")
        elif loss != "square":
            values = set(np.unique(y).tolist())
            if values <= {-1.0, 1.0}:
                pass
            elif values <= {0.0, 1.0}:
                y = 2 * y - 1
            else:
                raise ValueError(f"y for the {loss} loss must hold labels {{0, 1}} or "
                                 f"{{-1, +1}}, got values {sorted(values)[:6]}")
        return np.array(y, dtype=dtype)

    if y.ndim == 1:  # class indices
        if not np.all(y == np.round(y)) or y.min(initial=0) < 0 or \
                y.max(initial=0) >= n_outputs:
            raise ValueError(f"y as class indices must be integers in 0..{n_outputs - 1}, "
                             f"got values in [{y.min(initial=0)}, {y.max(initial=0)}]")
        Y = np.zeros((y.shape[0], n_outputs), dtype=dtype)
        Y[np.arange(y.shape[0]), y.astype(np.intp)] = 1
        return Y
    if y.shape[1] != n_outputs:
        raise ValueError(f"y has {y.shape[1]} columns, expected n_outputs={n_outputs}")
    Y = np.array(y, dtype=dtype)
    _check_target_values(loss, Y, "y")
    return Y


def _check_target_values(loss, Y, argname="Y"):
    """Refuse targets that do not fit the encoding ``loss`` expects."""
    if loss in ("hinge", "logistic"):
        if not np.all(np.abs(Y) == 1):
            raise ValueError(f"{argname} for the {loss} loss must hold labels -1/+1 "
                             f"(see encode_targets), got other values")
    elif loss == "cross_entropy":
        tol = 1000 * np.finfo(Y.dtype).eps
        if np.any(Y < 0) or not np.allclose(Y.sum(axis=1), 1, rtol=0, atol=tol):
            raise ValueError(f"{argname} for cross_entropy must hold one-hot or "
                             f"probability rows (>= 0, summing to 1)")
    elif loss == "margin":
        if not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
            raise ValueError(f"{argname} for the margin loss must hold one-hot rows "
                             f"(one true class per sample)")
    elif loss == "poisson":
        if np.any(Y < 0):
            raise ValueError(f"{argname} for the poisson loss must hold values >= 0 "
                             f"(counts or rates)")


def _check_Y_against(Y, out, out_name):
    Y = _as_real_array("Y", Y, dtype=out.dtype, ndim=2)
    if Y.shape != out.shape:
        raise ValueError(f"Y has shape {Y.shape}, expected {out.shape} "
                         f"(rows = samples, columns = output units of {out_name})")
    return Y


def _softplus(t):
    # log(1 + e^t) = max(t, 0) + log1p(e^{-|t|}): never overflows
    return np.maximum(t, 0) + np.log1p(np.exp(-np.abs(t)))


def _margin_parts(Y, f):
    """Weston-Watkins terms m_kj = 1 + f_j - f_y (0 at j = y) and the true class y."""
    n = f.shape[0]
    y = np.argmax(Y, axis=1)
    rows = np.arange(n)
    m = 1 + f - f[rows, y][:, None]
    m[rows, y] = 0
    return m, y, rows


def _loss_value(loss, Y, a_L, z_L):
    n = Y.shape[0]
    if loss == "square":
        per_sample = np.sum((Y - a_L) ** 2, axis=1)
    elif loss == "hinge":
        per_sample = np.sum(np.maximum(0, 1 - Y * a_L), axis=1)
    elif loss == "logistic":
        per_sample = np.sum(_softplus(-Y * a_L), axis=1)
    elif loss == "cross_entropy":
        per_sample = -np.sum(Y * _log_softmax(z_L), axis=1)
    elif loss == "margin":
        m, _, _ = _margin_parts(Y, a_L)
        per_sample = np.sum(np.maximum(0, m), axis=1)
    elif loss == "poisson":                  # y log(y / f) - y + f, with 0 log 0 = 0
        with np.errstate(divide="ignore"):
            ylog = np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1) / a_L), 0 * Y)
        per_sample = np.sum(ylog - Y + a_L, axis=1)
    return float(np.sum(per_sample) / n)


def _loss_gradient(loss, Y, a_L):
    n = Y.shape[0]
    if loss == "square":
        g = 2 * (a_L - Y)
    elif loss == "hinge":
        g = np.where(Y * a_L < 1, -Y, 0 * Y)
    elif loss == "logistic":
        g = -Y * _sigmoid(-Y * a_L)
    elif loss == "cross_entropy":
        g = np.zeros_like(a_L)
        nz = Y != 0
        g[nz] = -Y[nz] / a_L[nz]
    elif loss == "margin":
        m, y, rows = _margin_parts(Y, a_L)
        g = (m > 0).astype(a_L.dtype)
        g[rows, y] = -g.sum(axis=1)
    elif loss == "poisson":
        g = 1 - Y / a_L
    return g / a_L.dtype.type(n)


@_quiet_underflow
def loss_value(loss, Y, a_L, z_L=None):
    """Mean over samples of the per-sample cost C_k (a sum over output units).

    ``cross_entropy`` is computed from the logits ``z_L`` (log-sum-exp), so it
    stays finite for |z| up to 1e4; the other losses use ``a_L`` (z_L unused).
    """
    loss = canonical_loss(loss)
    a_L = _as_real_array("a_L", a_L, ndim=2)
    Y = _check_Y_against(Y, a_L, "a_L")
    _check_target_values(loss, Y)
    if loss == "cross_entropy":
        if z_L is None:
            raise ValueError("z_L: the cross_entropy value is computed from the "
                             "output logits z_L, got None")
        z_L = _as_real_array("z_L", z_L, dtype=a_L.dtype, ndim=2)
        if z_L.shape != a_L.shape:
            raise ValueError(f"z_L has shape {z_L.shape}, expected {a_L.shape} like a_L")
    return _loss_value(loss, Y, a_L, z_L)


@_quiet_underflow
def loss_gradient(loss, Y, a_L):
    """grad C(y) = dC/da^L of the batch-mean cost, shape (n, n_out) (already / n).

    For cross_entropy this is the chapter form -Y / (n p) with p = a_L: it is
    not stable at extreme logits (use output_delta, which fuses it with softmax).
    """
    loss = canonical_loss(loss)
    a_L = _as_real_array("a_L", a_L, ndim=2)
    Y = _check_Y_against(Y, a_L, "a_L")
    _check_target_values(loss, Y)
    if loss == "cross_entropy" and np.any((a_L <= 0) & (Y != 0)):
        raise ValueError("a_L: cross_entropy needs probabilities p > 0 where Y != 0")
    if loss == "poisson" and np.any(a_L <= 0):
        raise ValueError("a_L: the poisson loss needs rates f > 0")
    return _loss_gradient(loss, Y, a_L)


def _check_loss_output(loss, out_act, what):
    msg = output_mismatch(loss, out_act)
    if msg is not None:
        raise ValueError(f"{what}: {msg}")


def _output_delta(loss, out_act, Y, z_L, a_L, alpha):
    if fused_output(loss) == out_act:
        return (a_L - Y) / a_L.dtype.type(Y.shape[0])       # fused, stable: (a - Y)/n
    g = _loss_gradient(loss, Y, a_L)
    if out_act == "softmax":                                 # J^T g, row by row
        return a_L * (g - np.sum(a_L * g, axis=1, keepdims=True))
    return _act_derivative(out_act, z_L, alpha, a_L) * g     # sigma'(z^L) * grad C


@_quiet_underflow
def output_delta(loss, output_activation, Y, z_L, a_L, alpha=None):
    """delta^L = dC/dz^L for the output layer.

    General case: sigma'(z^L) * grad C(y).  Softmax output: J^T grad C.
    cross_entropy requires a softmax output and then uses the fused (P - Y)/n;
    poisson requires an exp output and uses (f - Y)/n.
    ``alpha``: the leaky_relu slope or the prelu vector of the output layer.
    """
    loss = canonical_loss(loss)
    out_act = canonical_activation(output_activation, "output_activation")
    _check_loss_output(loss, out_act, "output_activation")
    z_L = _as_real_array("z_L", z_L, ndim=2)
    a_L = _as_real_array("a_L", a_L, dtype=z_L.dtype, ndim=2)
    if a_L.shape != z_L.shape:
        raise ValueError(f"a_L has shape {a_L.shape}, expected {z_L.shape} like z_L")
    Y = _check_Y_against(Y, a_L, "a_L")
    _check_target_values(loss, Y)
    alpha = _check_alpha(out_act, z_L, alpha)
    return _output_delta(loss, out_act, Y, z_L, a_L, alpha)
