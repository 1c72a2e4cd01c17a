"""fastmlp.reference: activations sigma(z) and their derivatives sigma'(z) (chapter 4.1, 5).
Part of the reference, whose notation and formulas are in the package's docstring
(__init__.py)."""

import numpy as np

from ._checks import _as_real_array, _check_alpha, _quiet_underflow, canonical_activation


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
