"""Activation functions: one spec per activation (name, aliases, C code, NumPy sigma and sigma').

The chapter's table (4.1), in its order, plus softmax for the output layer:

==================  ===================================================  =====================
name                sigma(z)                                             sigma'(z)
==================  ===================================================  =====================
step (heaviside)    0 (z<0), 0.5 (z=0), 1 (z>0)                          0
sign                -1, 0, 1                                             0
linear (identity)   z                                                    1
piecewise_linear    1 (z>=1/2), z+1/2 (-1/2<z<1/2), 0 (z<=-1/2)          1 inside (-1/2, 1/2)
sigmoid (logistic)  1 / (1 + e^-z)                                       a (1 - a)
tanh                (e^z - e^-z) / (e^z + e^-z)                          1 - a^2
relu                max(0, z)                                            [z > 0]
leaky_relu          z (z>=0), alpha z (z<0), alpha fixed                 1 or alpha
prelu               same form, alpha learned (one per neuron)            1 or alpha
softmax             e^z_i / sum_j e^z_j (row-wise, output layer only)    full Jacobian
==================  ===================================================  =====================

The NumPy functions here document the maths; the engine evaluates the same functions in C
(:func:`forward` and :func:`derivative` call ``fastmlp._core``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Activation", "ACTIVATIONS", "ALIASES", "get_activation", "canonical_name",
           "forward", "derivative", "RELU_FAMILY"]


@dataclass(frozen=True)
class Activation:
    """Description of one activation function."""
    name: str
    code: int
    aliases: tuple = ()
    output_only: bool = False     # softmax
    relu_family: bool = False     # He initialisation by default
    zero_gradient: bool = False   # step, sign: sigma' = 0, gradient descent cannot train
    nonnegative: bool = False     # outputs never negative (bad for sign-based losses)
    doc: str = field(default="", compare=False)

    def numpy_forward(self, z, alpha=None):
        """sigma(z) in NumPy (``alpha``: Leaky-ReLU slope or the PReLU vector)."""
        return _np_forward(self.name, np.asarray(z, dtype=float) if not
                           isinstance(z, np.ndarray) else z, alpha)

    def numpy_derivative(self, z, alpha=None):
        """sigma'(z) in NumPy, element-wise (not defined for softmax)."""
        return _np_derivative(self.name, np.asarray(z, dtype=float) if not
                              isinstance(z, np.ndarray) else z, alpha)

    def __str__(self):
        return self.name


_SPECS = [
    Activation("step", 0, ("heaviside", "unit_step", "threshold"), zero_gradient=True,
               nonnegative=True, doc="unit step (Heaviside)"),
    Activation("sign", 1, ("signum",), zero_gradient=True, doc="sign"),
    Activation("linear", 2, ("identity", "none"), doc="linear"),
    Activation("piecewise_linear", 3, ("piecewise", "hard_linear", "saturated_linear",
                                       "satlin"), nonnegative=True, doc="piecewise linear"),
    Activation("sigmoid", 4, ("logistic", "logistic_sigmoid"), nonnegative=True,
               doc="logistic sigmoid"),
    Activation("tanh", 5, ("hyperbolic_tangent",), doc="tanh"),
    Activation("relu", 6, ("rectifier",), relu_family=True, nonnegative=True, doc="ReLU"),
    Activation("leaky_relu", 7, ("leaky", "leakyrelu", "lrelu"), relu_family=True,
               doc="Leaky ReLU (fixed alpha)"),
    Activation("prelu", 8, ("parametric_relu",), relu_family=True,
               doc="PReLU (learned alpha per neuron)"),
    Activation("softmax", 9, ("softargmax",), output_only=True, nonnegative=True,
               doc="softmax (output layer only)"),
]

ACTIVATIONS = {s.name: s for s in _SPECS}
ALIASES = {a: s.name for s in _SPECS for a in s.aliases}
RELU_FAMILY = tuple(s.name for s in _SPECS if s.relu_family)


def resolve_name(name, names, aliases, what, argname):
    """``name`` (a str) as one of ``names``: case, '-' and ' ' folded, aliases resolved;
    a ValueError naming the argument and listing the valid names otherwise."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = aliases.get(key, key)
    if key not in names:
        raise ValueError(f"{argname}: unknown {what} {name!r}; valid names are "
                         f"{', '.join(names)} (aliases: "
                         f"{', '.join(f'{a}->{c}' for a, c in aliases.items())})")
    return key


def canonical_name(name, argname="activation"):
    """The canonical activation name for ``name`` (case, '-' and aliases resolved)."""
    if isinstance(name, Activation):
        return name.name
    if not isinstance(name, str):
        raise TypeError(f"{argname} must be an activation name (str), got "
                        f"{type(name).__name__} {name!r}")
    return resolve_name(name, ACTIVATIONS, ALIASES, "activation", argname)


def get_activation(name, argname="activation"):
    """The :class:`Activation` spec for a name or alias."""
    return ACTIVATIONS[canonical_name(name, argname)]


# ---- NumPy versions (documentation and checks; the engine uses C) -------------------------------
def _np_forward(name, z, alpha):
    one, zero = z.dtype.type(1), z.dtype.type(0)
    if name == "step":
        return np.where(z > 0, one, np.where(z < 0, zero, z.dtype.type(0.5)))
    if name == "sign":
        return np.sign(z)
    if name == "linear":
        return z.copy()
    if name == "piecewise_linear":
        return np.clip(z + z.dtype.type(0.5), zero, one)
    if name == "sigmoid":
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, zero)
    if name in ("leaky_relu", "prelu"):
        al = 0.01 if alpha is None else alpha
        return np.where(z >= 0, z, np.asarray(al, dtype=z.dtype) * z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise AssertionError(name)


def _np_derivative(name, z, alpha):
    one, zero = z.dtype.type(1), z.dtype.type(0)
    if name in ("step", "sign"):
        return np.zeros_like(z)
    if name == "linear":
        return np.ones_like(z)
    if name == "piecewise_linear":
        return np.where((z > -0.5) & (z < 0.5), one, zero)
    if name == "sigmoid":
        a = _np_forward("sigmoid", z, None)
        return a * (1 - a)
    if name == "tanh":
        a = np.tanh(z)
        return 1 - a * a
    if name == "relu":
        return np.where(z > 0, one, zero)
    if name in ("leaky_relu", "prelu"):
        al = 0.01 if alpha is None else alpha
        return np.where(z >= 0, one, np.broadcast_to(np.asarray(al, dtype=z.dtype), z.shape))
    raise ValueError("softmax has no element-wise derivative (its Jacobian is full)")


# ---- C versions ---------------------------------------------------------------------------------
def _as_float_matrix(z):
    z = np.asarray(z)
    if z.dtype not in (np.float32, np.float64):
        z = z.astype(np.float64)
    squeeze = z.ndim == 1
    if z.ndim == 0:
        raise ValueError("z must be at least 1-D")
    if z.ndim > 2:
        raise ValueError(f"z must be 1-D or 2-D, got shape {z.shape}")
    return np.ascontiguousarray(z[None, :] if squeeze else z), squeeze


def forward(name, z, leaky_alpha=0.01, alpha=None, n_threads=None):
    """a = sigma(z) computed by the C engine (z: 1-D or 2-D; softmax works row-wise)."""
    from . import _core
    spec = get_activation(name)
    z2, squeeze = _as_float_matrix(z)
    if alpha is not None:
        alpha = np.ascontiguousarray(alpha, dtype=z2.dtype)
    out = _core.act_forward(spec.code, z2, leaky=leaky_alpha, alpha=alpha, n_threads=n_threads)
    return out[0] if squeeze else out


def derivative(name, z, a=None, leaky_alpha=0.01, alpha=None, n_threads=None):
    """sigma'(z) computed by the C engine (element-wise; not softmax)."""
    from . import _core
    spec = get_activation(name)
    z2, squeeze = _as_float_matrix(z)
    if a is not None:
        a = np.ascontiguousarray(np.asarray(a, dtype=z2.dtype).reshape(z2.shape))
    if alpha is not None:
        alpha = np.ascontiguousarray(alpha, dtype=z2.dtype)
    out = _core.act_deriv(spec.code, z2, a, leaky=leaky_alpha, alpha=alpha, n_threads=n_threads)
    return out[0] if squeeze else out
