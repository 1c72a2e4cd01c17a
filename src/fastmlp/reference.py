"""fastmlp.reference -- the whole maths of the chapter in plain NumPy.

This module is written to be read first.  It is the oracle that every C kernel
of fastmlp is checked against (float64: 1e-10 relative), and the baseline the
benchmarks compare with.  It favours clarity over speed, but every step is
vectorised over the batch: samples are rows.

Notation (chapter -> code)
==========================
Layers are numbered l = 1..L; layer 0 is the input.

=====================  ==========================  =================================
chapter                code                        shape
=====================  ==========================  =================================
x, a^0                 ``X``, ``trace.a[0]``       (n, N_0)      one sample per row
W^l  (N_l x N_{l-1})   ``weights[l-1]``            (N_{l-1}, N_l) -- the TRANSPOSE
b^l                    ``biases[l-1]``             (N_l,)
alpha^l (PReLU)        ``alphas[l-1]``             (N_l,)  one alpha per neuron
z^l                    ``trace.z[l]``              (n, N_l)
a^l = sigma(z^l)       ``trace.a[l]``              (n, N_l)
y = f(x) = a^L         ``trace.output``            (n, N_L)
delta^l = dC/dz^l      ``grads.delta[l]``          (n, N_l)
dC/dW^l, dC/db^l       ``grads.dW[l]``, ``db[l]``  same shapes as weights/biases
dC/dalpha^l            ``grads.dalpha[l]``         (N_l,) or None
eta                    ``lr``
=====================  ==========================  =================================

Weights are stored ``(n_in, n_out)`` -- scikit-learn's ``coefs_`` layout -- so
the chapter's column-vector equation z^l = W^l a^{l-1} + b^l becomes, for a
batch stored as rows,

    z^l = a^{l-1} @ W + b        with W = (W^l)^T,   a^l = sigma(z^l),   a^0 = X.

User-supplied parameter lists (``weights``, ``biases``, ``alphas``,
``activations``) are plain 0-based lists of length L (``weights[0]`` is W^1).
The lists inside a :class:`Trace` or :class:`Gradients` are indexed like the
chapter, 1..L (``z[0]``, ``delta[0]``, ``dW[0]`` ... are None; ``a[0]`` is X).

Cost (chapter 4.2)
==================
The batch cost is the MEAN over the n samples of the per-sample cost C_k, and
C_k is a SUM over the output units i:

    square         C_k = sum_i (yhat_i - f_i)^2      dC_k/df = 2 (f - yhat)
    hinge          C_k = sum_i max(0, 1 - yhat_i f_i)             yhat in {-1,+1}
    logistic       C_k = sum_i log(1 + exp(-yhat_i f_i))         yhat in {-1,+1}
    cross_entropy  C_k = -sum_i yhat_i log p_i,  p = softmax(z^L) yhat one-hot/prob.
    margin         C_k = sum_{j != y} max(0, 1 + f_j - f_y)       y the true class
    poisson        C_k = sum_i yhat_i log(yhat_i / f_i) - yhat_i + f_i   yhat >= 0,
                   f = e^z (exp output; 0 log 0 = 0): half the Poisson deviance

``loss_gradient`` returns grad C(y) = dC/da^L for the whole batch, i.e. already
divided by n.

Backpropagation (chapter 5)
===========================
    delta^L = sigma'(z^L) * grad C(y)                       (elementwise)
    delta^l = sigma'(z^l) * (delta^{l+1} @ W^{l+1}.T)       l = L-1 .. 1
    dC/dW^l = a^{l-1}.T @ delta^l    (chapter: dC/dw_ij^l = delta_i^l a_j^{l-1})
    dC/db^l = sum over rows of delta^l
    dC/dalpha_j^l = sum over rows of (dC/da^l)_j * (z^l_j if z^l_j < 0 else 0)
                    where dC/da^l = delta^{l+1} @ W^{l+1}.T  (grad C(y) for l = L).
    (Not delta^l * z: delta^l already carries the factor sigma' = alpha for z < 0.)

A softmax output has a full Jacobian J = diag(p) - p p^T, so there
delta^L = J^T grad C = p * (g - sum_i p_i g_i) row by row; with the cross
entropy this simplifies to the stable fused form delta^L = (P - Y) / n; likewise the
Poisson loss with its exp output gives delta^L = (f - Y) / n.

Derivative conventions sigma'(z) (at kinks they are *chosen*, as listed):
step 0 everywhere (also at 0), sign 0 everywhere, linear 1, piecewise_linear
1 on the open interval (-1/2, 1/2) else 0, sigmoid a(1-a), tanh 1-a^2, relu
1 for z > 0 else 0, leaky_relu / prelu 1 for z >= 0 else alpha, exp a = e^z.  Because
sigma' of step and sign is zero, gradient descent cannot move any weight
below a layer of step or sign units: their gradient is exactly zero.

Optimisation (chapter 4.3)
==========================
One *epoch* visits every training sample once.  ``train`` does
full-batch gradient descent (``batch_size=None``), stochastic gradient descent
(``batch_size=1``: one sample at a time, in a fresh random permutation every
epoch) or mini-batch SGD (``batch_size=B``: reshuffled before every epoch,
fixed B, the last short batch kept):  theta <- theta - eta * (1/B) sum_k grad C_k.

dtype: float32 and float64 both work and the computation stays in the dtype of
the weights; other real inputs are converted to it.  Bad input raises
TypeError / ValueError naming the argument, what it got and what was expected.
"""

import functools
import math

import numpy as np

from ._common import Gradients, Trace, check_dtype, check_int, check_real
from ._names import (ACTIVATION_NAMES, LEAKY_ALPHA, LOSS_NAMES, PRELU_INIT, fused_output,
                     output_mismatch)

__all__ = [
    "LEAKY_ALPHA", "PRELU_INIT", "ACTIVATIONS", "LOSSES",
    "canonical_activation", "canonical_loss",
    "activation", "activation_derivative", "prelu_alpha_derivative",
    "softmax", "softmax_jacobian",
    "encode_targets", "loss_value", "loss_gradient", "output_delta",
    "Trace", "Gradients", "forward", "backward", "init_params", "parameters",
    "sgd_update", "momentum_update", "adam_update",
    "train", "perceptron_train", "perceptron_predict",
]

# LEAKY_ALPHA (the fixed slope of leaky_relu for z < 0 unless another is given) and
# PRELU_INIT (the initial value of every learned PReLU slope made by init_params) come
# from fastmlp._names, the one table of defaults.

# names and aliases: the one table every part of fastmlp uses
ACTIVATIONS = ACTIVATION_NAMES.names
LOSSES = LOSS_NAMES.names
_RELU_FAMILY = ("relu", "leaky_relu", "prelu")
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# --------------------------------------------------------------------------
# Input checking (kept apart so the maths below stays short)
# --------------------------------------------------------------------------

def _quiet_underflow(func):
    """Underflow to 0 is the right answer here (e.g. exp(-1e4)); ignore it only."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with np.errstate(under="ignore"):
            return func(*args, **kwargs)
    return wrapper


def _describe(x):
    if isinstance(x, np.ndarray):
        return f"array of dtype {x.dtype} and shape {x.shape}"
    return f"{type(x).__name__} {x!r}"[:120]


def _as_real_array(name, x, dtype=None, ndim=None):
    """Return ``x`` as a finite real ndarray (converted to ``dtype`` if given)."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{name} must be a real numeric array, got {_describe(x)}")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a real numeric array, got {_describe(x)}") from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, int or float), "
                        f"got dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if arr.dtype in _FLOATS else np.dtype(np.float64)
    arr = arr.astype(dtype, copy=False)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got NaN or inf values")
    return arr


def canonical_activation(name, argname="name"):
    """Return the canonical activation name for ``name`` (aliases resolved).

    Raises ValueError (naming ``argname``) listing the valid names.
    """
    return ACTIVATION_NAMES.resolve(name, argname)


def canonical_loss(name, argname="loss"):
    """Return the canonical loss name for ``name`` (aliases resolved)."""
    return LOSS_NAMES.resolve(name, argname)


def _check_alpha(name, z, alpha, argname="alpha"):
    """The slope parameter for ``name``: a float for leaky_relu, a vector for prelu."""
    if name == "leaky_relu":
        if alpha is None:
            return LEAKY_ALPHA
        return check_real(argname, alpha)
    if name == "prelu":
        if alpha is None:
            raise ValueError(f"{argname}: prelu needs a vector of one learned slope "
                             f"per neuron, shape ({z.shape[-1]},), got None "
                             f"(init_params starts them at PRELU_INIT={PRELU_INIT})")
        alpha = _as_real_array(argname, alpha, dtype=z.dtype)
        if z.ndim == 0 or alpha.shape != (z.shape[-1],):
            raise ValueError(f"{argname}: prelu needs one slope per neuron, shape "
                             f"({z.shape[-1] if z.ndim else '?'},), got shape {alpha.shape}")
        return alpha
    if alpha is not None:
        raise ValueError(f"{argname} is only used by leaky_relu and prelu, "
                         f"got {_describe(alpha)} for {name!r}")
    return None


# --------------------------------------------------------------------------
# Activations sigma(z) and their derivatives sigma'(z)  (chapter 4.1, 5)
# --------------------------------------------------------------------------

def _sigmoid(z):
    # 1/(1+e^-z) for z >= 0 and e^z/(1+e^z) for z < 0: exp never overflows.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _act(name, z, alpha):
    """sigma(z) for a canonical name; ``alpha`` already checked."""
    one, zero = z.dtype.type(1), z.dtype.type(0)
    if name == "step":
        # NaN stays NaN, as through every other activation
        return np.where(z > 0, one, np.where(z < 0, zero, np.where(z == 0, z.dtype.type(0.5), z)))
    if name == "sign":
        return np.sign(z)
    if name == "linear":
        return z.copy()
    if name == "piecewise_linear":
        return np.clip(z + z.dtype.type(0.5), zero, one)
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, zero)
    if name in ("leaky_relu", "prelu"):
        return np.where(z >= 0, z, z.dtype.type(alpha) * z if name == "leaky_relu"
                        else alpha * z)
    if name == "softmax":
        return _softmax(z)
    if name == "exp":
        with np.errstate(over="ignore"):
            return np.exp(z)
    raise AssertionError(name)


def _act_derivative(name, z, alpha, a=None):
    """sigma'(z) elementwise (not softmax); ``a = sigma(z)`` may be passed to reuse it."""
    one, zero = z.dtype.type(1), z.dtype.type(0)
    if name in ("step", "sign"):
        return np.zeros_like(z)
    if name == "linear":
        return np.ones_like(z)
    if name == "piecewise_linear":
        return np.where((z > -0.5) & (z < 0.5), one, zero)
    if name == "sigmoid":
        a = _sigmoid(z) if a is None else a
        return a * (1 - a)
    if name == "tanh":
        a = np.tanh(z) if a is None else a
        return 1 - a * a
    if name == "relu":
        return np.where(z > 0, one, zero)
    if name == "leaky_relu":
        return np.where(z >= 0, one, z.dtype.type(alpha))
    if name == "prelu":
        return np.where(z >= 0, one, np.broadcast_to(alpha, z.shape))
    if name == "exp":
        if a is None:
            with np.errstate(over="ignore"):
                a = np.exp(z)
        return a.copy()
    raise AssertionError(name)


@_quiet_underflow
def activation(name, z, alpha=None):
    """sigma(z), elementwise (softmax: row-wise over the last axis).

    ``alpha``: for ``leaky_relu`` a fixed scalar slope (None -> LEAKY_ALPHA); for
    ``prelu`` the learned slopes, a vector of shape (z.shape[-1],) -- one per
    neuron (required).  Must be None for the other activations.
    The result has the dtype of ``z`` (float32 stays float32; ints -> float64).
    """
    name = canonical_activation(name)
    z = _as_real_array("z", z)
    if name == "softmax" and z.ndim == 0:
        raise ValueError("z: softmax needs at least a 1-D array, got a scalar")
    return _act(name, z, _check_alpha(name, z, alpha))


def softmax(z):
    """Row-wise softmax p_i = e^{z_i} / sum_j e^{z_j}, stable by max-subtraction."""
    return activation("softmax", z)


@_quiet_underflow
def softmax_jacobian(z):
    """J[..., i, j] = dp_i/dz_j = p_i (delta_ij - p_j) for each row of ``z``."""
    p = softmax(z)
    return p[..., :, None] * (np.eye(p.shape[-1], dtype=p.dtype) - p[..., None, :])


@_quiet_underflow
def activation_derivative(name, z, alpha=None):
    """sigma'(z) with the conventions of the module docstring (same shape as z).

    For ``softmax`` the derivative is a full Jacobian: returns
    ``softmax_jacobian(z)`` of shape z.shape + (z.shape[-1],).
    """
    name = canonical_activation(name)
    z = _as_real_array("z", z)
    alpha = _check_alpha(name, z, alpha)
    if name == "softmax":
        return softmax_jacobian(z)
    return _act_derivative(name, z, alpha)


def prelu_alpha_derivative(z):
    """da/dalpha_j for a PReLU unit: z where z < 0, else 0."""
    z = _as_real_array("z", z)
    return np.where(z < 0, z, z.dtype.type(0))


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


# --------------------------------------------------------------------------
# The network: forward and backward passes  (chapter 4.1 and 5)
# --------------------------------------------------------------------------

def parameters(weights, biases, alphas=None):
    """[W^1..W^L, b^1..b^L, alpha of each prelu layer] -- the same arrays, not
    copies, in the order of :meth:`Gradients.as_list`."""
    alphas = alphas or []
    return list(weights) + list(biases) + [al for al in alphas if al is not None]


def _check_activations(activations, L, argname="activations"):
    if isinstance(activations, str):
        names = [canonical_activation(activations, argname)] * L
    else:
        if not isinstance(activations, (list, tuple)):
            raise TypeError(f"{argname} must be a name or a list of {L} names, "
                            f"got {_describe(activations)}")
        if len(activations) != L:
            raise ValueError(f"{argname} must hold one name per layer ({L}), "
                             f"got {len(activations)}")
        names = [canonical_activation(n, f"{argname}[{i}]") for i, n in enumerate(activations)]
    for i, n in enumerate(names[:-1]):
        if n == "softmax":
            raise ValueError(f"{argname}[{i}]: softmax is allowed on the output layer "
                             f"only, got it on hidden layer {i + 1}")
    return names


def _check_network(weights, biases, activations, alphas, leaky_alpha):
    """Validate the parameters; return (weights, biases, names, alphas, leaky, dtype)."""
    if not isinstance(weights, (list, tuple)) or len(weights) == 0:
        raise TypeError(f"weights must be a non-empty list of 2-D arrays (one per layer), "
                        f"got {_describe(weights)}")
    L = len(weights)
    W0 = weights[0]
    if not isinstance(W0, np.ndarray) or W0.dtype not in _FLOATS:
        raise TypeError(f"weights[0] must be a float32 or float64 ndarray, got {_describe(W0)}")
    dtype = W0.dtype
    checked: list = []
    for l, W in enumerate(weights):
        if not isinstance(W, np.ndarray) or W.dtype != dtype:
            raise TypeError(f"weights[{l}] must be a {dtype} ndarray like weights[0], "
                            f"got {_describe(W)}")
        W = _as_real_array(f"weights[{l}]", W, dtype=dtype, ndim=2)
        if l > 0 and W.shape[0] != checked[-1].shape[1]:
            raise ValueError(f"weights[{l}] has shape {W.shape}, expected "
                             f"({checked[-1].shape[1]}, n_out): layer {l} has "
                             f"{checked[-1].shape[1]} outputs")
        checked.append(W)
    if not isinstance(biases, (list, tuple)) or len(biases) != L:
        raise ValueError(f"biases must be a list of {L} vectors, got {_describe(biases)}")
    bs = []
    for l, b in enumerate(biases):
        b = _as_real_array(f"biases[{l}]", b, dtype=dtype, ndim=1)
        if b.shape != (checked[l].shape[1],):
            raise ValueError(f"biases[{l}] has shape {b.shape}, expected "
                             f"({checked[l].shape[1]},)")
        bs.append(b)
    names = _check_activations(activations, L)
    leaky = check_real("leaky_alpha", leaky_alpha)
    if alphas is None:
        alphas = [None] * L
    if not isinstance(alphas, (list, tuple)) or len(alphas) != L:
        raise ValueError(f"alphas must be None or a list of {L} entries, "
                         f"got {_describe(alphas)}")
    als = []
    for l, (name, al) in enumerate(zip(names, alphas)):
        if name == "prelu":
            if al is None:
                raise ValueError(f"alphas[{l}]: layer {l + 1} is prelu and needs a vector "
                                 f"of {checked[l].shape[1]} slopes, got None")
            al = _as_real_array(f"alphas[{l}]", al, dtype=dtype, ndim=1)
            if al.shape != (checked[l].shape[1],):
                raise ValueError(f"alphas[{l}] has shape {al.shape}, expected "
                                 f"({checked[l].shape[1]},): one slope per neuron")
        elif al is not None:
            raise ValueError(f"alphas[{l}] must be None: layer {l + 1} is {name}, "
                             f"not prelu; got {_describe(al)}")
        als.append(al)
    return checked, bs, names, als, leaky, dtype


def _alpha_of(name, alpha_l, leaky):
    return leaky if name == "leaky_relu" else alpha_l


def _forward(X, weights, biases, names, alphas, leaky):
    L = len(weights)
    z: list = [None] * (L + 1)
    a: list = [None] * (L + 1)
    a[0] = X
    for l in range(1, L + 1):
        z[l] = a[l - 1] @ weights[l - 1] + biases[l - 1]       # z^l = a^{l-1} W + b
        a[l] = _act(names[l - 1], z[l], _alpha_of(names[l - 1], alphas[l - 1], leaky))
    return Trace(z, a)


def _check_X(X, n_in, dtype):
    X = _as_real_array("X", X, dtype=dtype, ndim=2)
    if X.shape[1] != n_in:
        raise ValueError(f"X has {X.shape[1]} features (columns), expected {n_in} "
                         f"(the first layer's n_in)")
    if X.shape[0] == 0:
        raise ValueError("X has no samples (0 rows)")
    return X


@_quiet_underflow
def forward(X, weights, biases, activations, alphas=None, leaky_alpha=LEAKY_ALPHA):
    """The forward pass z^l = a^{l-1} W^l + b^l, a^l = sigma(z^l) for l = 1..L.

    ``activations``: one name for every layer or a list of L names (softmax
    only last).  ``alphas``: None or a list of L entries, a vector per prelu
    layer and None for the others.  Returns a :class:`Trace`.
    """
    weights, biases, names, alphas, leaky, dtype = _check_network(
        weights, biases, activations, alphas, leaky_alpha)
    X = _check_X(X, weights[0].shape[0], dtype)
    return _forward(X, weights, biases, names, alphas, leaky)


def _backward(trace, Y, weights, names, loss, alphas, leaky):
    L = len(weights)
    z, a = trace.z, trace.a
    delta: list = [None] * (L + 1)
    dC_da: list = [None] * (L + 1)       # dC/da^l, kept only where a PReLU slope needs it
    if names[L - 1] == "prelu":
        dC_da[L] = _loss_gradient(loss, Y, a[L])
    delta[L] = _output_delta(loss, names[L - 1], Y, z[L], a[L],
                             _alpha_of(names[L - 1], alphas[L - 1], leaky))
    for l in range(L - 1, 0, -1):       # delta^l = sigma'(z^l) * (delta^{l+1} W^{l+1 T})
        upstream = delta[l + 1] @ weights[l].T                # = dC/da^l
        sp = _act_derivative(names[l - 1], z[l], _alpha_of(names[l - 1], alphas[l - 1], leaky),
                             a[l])
        delta[l] = sp * upstream
        if names[l - 1] == "prelu":
            dC_da[l] = upstream
    dW: list = [None] * (L + 1)
    db: list = [None] * (L + 1)
    dalpha: list = [None] * (L + 1)
    for l in range(1, L + 1):
        dW[l] = a[l - 1].T @ delta[l]                         # dC/dw_ij = delta_i a_j
        db[l] = delta[l].sum(axis=0)                          # dC/db_i = delta_i
        if names[l - 1] == "prelu":                           # dC/dalpha_j, da/dalpha = z (z<0)
            dalpha[l] = (dC_da[l] * np.where(z[l] < 0, z[l], 0 * z[l])).sum(axis=0)
    value = _loss_value(loss, Y, a[L], z[L])
    return Gradients(delta, dW, db, dalpha, value)


@_quiet_underflow
def backward(trace, Y, weights, activations, loss, alphas=None, leaky_alpha=LEAKY_ALPHA):
    """Backpropagation (chapter 5) from L down to 1; returns :class:`Gradients`.

    ``Y`` is the canonical target matrix (see :func:`encode_targets`).
    """
    if not isinstance(trace, Trace):
        raise TypeError(f"trace must be a Trace from forward(), got {_describe(trace)}")
    loss = canonical_loss(loss)
    L = len(trace.a) - 1
    if not isinstance(weights, (list, tuple)) or len(weights) != L:
        raise ValueError(f"weights must be the list of {L} arrays used for the trace, "
                         f"got {_describe(weights)}")
    biases = [np.zeros(W.shape[1], dtype=W.dtype) if isinstance(W, np.ndarray) else None
              for W in weights]
    weights, _, names, alphas, leaky, dtype = _check_network(
        weights, biases, activations, alphas, leaky_alpha)
    for l in range(1, L + 1):
        want = (trace.a[l - 1].shape[0], weights[l - 1].shape[1])
        if trace.z[l].shape != want or trace.a[l].shape != want or \
                trace.a[l - 1].shape[1] != weights[l - 1].shape[0]:
            raise ValueError(f"trace does not match weights at layer {l}: z has shape "
                             f"{trace.z[l].shape}, expected {want}")
        if trace.z[l].dtype != dtype:
            raise TypeError(f"trace has dtype {trace.z[l].dtype}, weights {dtype}")
    _check_loss_output(loss, names[-1], "activations")
    Y = _check_Y_against(Y, trace.output, "the network")
    _check_target_values(loss, Y)
    return _backward(trace, Y, weights, names, loss, alphas, leaky)


def init_params(layer_sizes, activations, seed=None, dtype=np.float64):
    """Random initial (weights, biases, alphas) for ``layer_sizes`` [N_0, ..., N_L].

    W^l ~ Uniform(-r, r) with r = sqrt(6 / (n_in + n_out)) (Glorot) for
    sigmoid, tanh, linear, softmax, step, sign and piecewise_linear layers, and
    r = sqrt(6 / n_in) (He) for relu, leaky_relu and prelu.  Biases are zero;
    prelu slopes start at PRELU_INIT; alphas[l] is None for other layers.
    Draws use ``np.random.default_rng(seed)`` (seed may be a Generator), in
    float64, then are cast to ``dtype``: the same seed gives the same numbers
    in both dtypes up to rounding.
    """
    sizes = _check_layer_sizes(layer_sizes)
    dtype = check_dtype(dtype)
    names = _check_activations(activations, len(sizes) - 1)
    rng = np.random.default_rng(seed)
    weights, biases, alphas = [], [], []
    for n_in, n_out, name in zip(sizes[:-1], sizes[1:], names):
        r = math.sqrt(6 / n_in) if name in _RELU_FAMILY else math.sqrt(6 / (n_in + n_out))
        weights.append(rng.uniform(-r, r, size=(n_in, n_out)).astype(dtype))
        biases.append(np.zeros(n_out, dtype=dtype))
        alphas.append(np.full(n_out, PRELU_INIT, dtype=dtype) if name == "prelu" else None)
    return weights, biases, alphas


def _check_layer_sizes(layer_sizes):
    if isinstance(layer_sizes, (str, bytes)) or not hasattr(layer_sizes, "__len__"):
        raise TypeError(f"layer_sizes must be a list of ints [N_0, ..., N_L], "
                        f"got {_describe(layer_sizes)}")
    if len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes needs at least 2 entries (inputs and outputs), "
                         f"got {list(layer_sizes)}")
    return [check_int(f"layer_sizes[{i}]", s, 1) for i, s in enumerate(layer_sizes)]


# --------------------------------------------------------------------------
# Parameter updates (in place).  params and grads are matching lists of arrays.
# Weight decay (an L2 penalty weight_decay/2 * ||W||^2 added to the cost) is
# applied to the WEIGHTS only: the 2-D arrays.  Biases and PReLU slopes (1-D)
# are never decayed.
# --------------------------------------------------------------------------

def _check_update_lists(params, grads, **state):
    if not isinstance(params, (list, tuple)):
        raise TypeError(f"params must be a list of arrays, got {_describe(params)}")
    lists = {"grads": grads, **state}
    for name, lst in lists.items():
        if not isinstance(lst, (list, tuple)) or len(lst) != len(params):
            raise ValueError(f"{name} must be a list of {len(params)} arrays like params, "
                             f"got {_describe(lst)}")
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or p.dtype not in _FLOATS:
            raise TypeError(f"params[{i}] must be a float32/float64 ndarray (updated "
                            f"in place), got {_describe(p)}")
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; it is updated in place")
        _as_real_array(f"params[{i}]", p)
        for name, lst in lists.items():
            arr = lst[i]
            if name != "grads" and (not isinstance(arr, np.ndarray) or
                                    not arr.flags.writeable or arr.dtype != p.dtype):
                raise TypeError(f"{name}[{i}] must be a writeable {p.dtype} ndarray "
                                f"(optimiser state, updated in place), got {_describe(arr)}")
            arr = _as_real_array(f"{name}[{i}]", arr, dtype=p.dtype)
            if arr.shape != p.shape:
                raise ValueError(f"{name}[{i}] has shape {arr.shape}, expected {p.shape} "
                                 f"like params[{i}]")


def _decayed(p, g, weight_decay):
    g = np.asarray(g, dtype=p.dtype)
    return g + p.dtype.type(weight_decay) * p if (weight_decay and p.ndim >= 2) else g


def sgd_update(params, grads, lr, weight_decay=0.0):
    """theta <- theta - lr * (g + weight_decay * theta), in place.

    Weight decay applies to the weights only: the 2-D arrays of ``params``;
    biases and PReLU slopes (1-D) get theta <- theta - lr * g.
    """
    _check_update_lists(params, grads)
    lr = check_real("lr", lr, 0, low_open=True)
    weight_decay = check_real("weight_decay", weight_decay, 0)
    for p, g in zip(params, grads):
        p -= p.dtype.type(lr) * _decayed(p, g, weight_decay)


def momentum_update(params, grads, velocity, lr, momentum, nesterov=False, weight_decay=0.0):
    """Heavy-ball momentum, PyTorch convention (``velocity`` updated in place):

    g <- g + weight_decay * theta (weights only);  v <- mu v + g;
    theta <- theta - lr * v,   or with Nesterov  theta <- theta - lr * (g + mu v).
    """
    _check_update_lists(params, grads, velocity=velocity)
    lr = check_real("lr", lr, 0, low_open=True)
    mu = check_real("momentum", momentum, 0, 1, high_open=True)
    weight_decay = check_real("weight_decay", weight_decay, 0)
    if not isinstance(nesterov, (bool, np.bool_)):
        raise TypeError(f"nesterov must be True or False, got {_describe(nesterov)}")
    for p, g, v in zip(params, grads, velocity):
        g = _decayed(p, g, weight_decay)
        v *= p.dtype.type(mu)
        v += g
        step = g + p.dtype.type(mu) * v if nesterov else v
        p -= p.dtype.type(lr) * step


def adam_update(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8,
                weight_decay=0.0):
    """Adam with bias correction; ``t`` is the step number, starting at 1.

    g <- g + weight_decay * theta (weights only, L2 as in torch.optim.Adam);
    m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;
    theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
    ``m`` and ``v`` are updated in place.
    """
    _check_update_lists(params, grads, m=m, v=v)
    t = check_int("t", t, 1)
    lr = check_real("lr", lr, 0, low_open=True)
    b1 = check_real("beta1", beta1, 0, 1, high_open=True)
    b2 = check_real("beta2", beta2, 0, 1, high_open=True)
    eps = check_real("eps", eps, 0, low_open=True)
    weight_decay = check_real("weight_decay", weight_decay, 0)
    c1, c2 = 1 - b1 ** t, 1 - b2 ** t
    for p, g, m_i, v_i in zip(params, grads, m, v):
        T = p.dtype.type
        g = _decayed(p, g, weight_decay)
        m_i *= T(b1)
        m_i += T(1 - b1) * g
        v_i *= T(b2)
        v_i += T(1 - b2) * g * g
        p -= T(lr) * (m_i / T(c1)) / (np.sqrt(v_i / T(c2)) + T(eps))


# --------------------------------------------------------------------------
# Training: gradient descent, SGD and mini-batch SGD  (chapter 4.3)
# --------------------------------------------------------------------------

@_quiet_underflow
def train(X, Y, layer_sizes, activations, loss, lr=0.1, epochs=10, batch_size=None,
          seed=None, dtype=np.float64, params=None, shuffle=True):
    """Train an MLP with plain (stochastic / mini-batch) gradient descent.

    ``Y`` is the canonical target matrix (see :func:`encode_targets`).
    ``batch_size``: None -> full-batch gradient descent (one step per epoch);
    1 -> SGD, B -> mini-batch SGD.  With ``shuffle`` the sample order is a fresh
    ``rng.permutation(n)`` before every epoch; batches hold B samples except the
    last.  Full batch (None, or B >= n) draws no permutation: rows in order.
    Steps are plain SGD: theta <- theta - lr * grad (no weight decay).
    ``params``: optional starting (weights, biases, alphas) -- copied, cast to
    ``dtype``; otherwise :func:`init_params`.  One ``np.random.default_rng(seed)``
    drives the initialisation and then the shuffling, so the same seed gives
    identical results.

    Returns (weights, biases, alphas, history); history[e] is epoch e's mean
    training loss: the sample-weighted mean of the batch losses measured during
    the epoch, each before its update (for full-batch GD: the loss before the step).
    """
    sizes = _check_layer_sizes(layer_sizes)
    dtype = check_dtype(dtype)
    loss = canonical_loss(loss)
    names = _check_activations(activations, len(sizes) - 1)
    _check_loss_output(loss, names[-1], "activations")
    lr = check_real("lr", lr, 0, low_open=True)
    epochs = check_int("epochs", epochs, 0)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, 1)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {_describe(shuffle)}")
    X = _check_X(X, sizes[0], dtype)
    Y = _as_real_array("Y", Y, dtype=dtype, ndim=2)
    if Y.shape != (X.shape[0], sizes[-1]):
        raise ValueError(f"Y has shape {Y.shape}, expected ({X.shape[0]}, {sizes[-1]}): "
                         f"one row per sample of X, one column per output unit")
    _check_target_values(loss, Y)

    rng = np.random.default_rng(seed)
    if params is None:
        weights, biases, alphas = init_params(sizes, names, seed=rng, dtype=dtype)
    else:
        if not isinstance(params, (list, tuple)) or len(params) != 3:
            raise TypeError(f"params must be (weights, biases, alphas), got {_describe(params)}")
        w0, b0, al0 = params
        if not isinstance(w0, (list, tuple)):
            raise TypeError(f"params[0] (weights) must be a list, got {_describe(w0)}")
        weights = [np.array(_as_real_array(f"params weights[{i}]", W, dtype=dtype))
                   for i, W in enumerate(w0)]
        weights, biases, names, alphas, leaky, _ = _check_network(
            weights, b0, names, al0, LEAKY_ALPHA)
        biases = [b.copy() for b in biases]
        alphas = [None if al is None else al.copy() for al in alphas]
        got = [weights[0].shape[0]] + [W.shape[1] for W in weights]
        if got != sizes:
            raise ValueError(f"params have layer sizes {got}, expected layer_sizes {sizes}")

    n = X.shape[0]
    B = n if batch_size is None else min(batch_size, n)
    theta = parameters(weights, biases, alphas)
    history = []
    for _ in range(epochs):
        order = rng.permutation(n) if (shuffle and B < n) else np.arange(n)
        total = 0.0
        for start in range(0, n, B):
            idx = order[start:start + B]
            trace = _forward(X[idx], weights, biases, names, alphas, LEAKY_ALPHA)
            grads = _backward(trace, Y[idx], weights, names, loss, alphas, LEAKY_ALPHA)
            total += grads.loss * len(idx)
            for p, g in zip(theta, grads.as_list()):      # theta <- theta - eta * grad
                p -= dtype.type(lr) * g
        history.append(total / n)
    return weights, biases, alphas, history


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
