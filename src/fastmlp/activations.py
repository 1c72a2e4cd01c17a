"""Activation functions: one spec per activation (name, aliases, C code, properties).

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
exp                 e^z (the log link of Poisson regression)             a
==================  ===================================================  =====================

The engine evaluates them in C (:func:`forward` and :func:`derivative` call
``fastmlp._core``); :mod:`fastmlp.reference` has them in NumPy. Names and aliases come from
the one name table (``fastmlp._names``), codes from the C enum (``_core.ACTIVATION_CODES``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _core
from ._names import ACTIVATION_NAMES, LEAKY_ALPHA
from ._typing import ArrayLike, FloatArray

__all__ = ["Activation", "ACTIVATIONS", "ALIASES", "get_activation", "canonical_name",
           "forward", "derivative", "RELU_FAMILY"]


@dataclass(frozen=True)
class Activation:
    """Description of one activation function."""
    name: str
    code: int
    aliases: tuple[str, ...] = ()
    output_only: bool = False     # softmax
    relu_family: bool = False     # He initialisation by default
    zero_gradient: bool = False   # step, sign: sigma' = 0, gradient descent cannot train
    nonnegative: bool = False     # outputs never negative (bad for sign-based losses)
    doc: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.name


def _spec(name: str, doc: str, **flags: bool) -> Activation:
    """The spec of ``name``: its code from the C enum, its aliases from the name table."""
    return Activation(name, _core.ACTIVATION_CODES[name], ACTIVATION_NAMES.aliases_of(name),
                      doc=doc, **flags)


_SPECS: list[Activation] = [
    _spec("step", "unit step (Heaviside)", zero_gradient=True, nonnegative=True),
    _spec("sign", "sign", zero_gradient=True),
    _spec("linear", "linear"),
    _spec("piecewise_linear", "piecewise linear", nonnegative=True),
    _spec("sigmoid", "logistic sigmoid", nonnegative=True),
    _spec("tanh", "tanh"),
    _spec("relu", "ReLU", relu_family=True, nonnegative=True),
    _spec("leaky_relu", "Leaky ReLU (fixed alpha)", relu_family=True),
    _spec("prelu", "PReLU (learned alpha per neuron)", relu_family=True),
    _spec("softmax", "softmax (output layer only)", output_only=True, nonnegative=True),
    _spec("exp", "exponential (a positive rate; Poisson regression's output)",
          nonnegative=True),
]

ACTIVATIONS: dict[str, Activation] = {s.name: s for s in _SPECS}
ALIASES = ACTIVATION_NAMES.aliases
RELU_FAMILY = tuple(s.name for s in _SPECS if s.relu_family)


def canonical_name(name: str | Activation, argname: str = "activation") -> str:
    """The canonical activation name for ``name`` (case, '-' and aliases resolved)."""
    if isinstance(name, Activation):
        return name.name
    return ACTIVATION_NAMES.resolve(name, argname)


def get_activation(name: str | Activation, argname: str = "activation") -> Activation:
    """The :class:`Activation` spec for a name or alias."""
    return ACTIVATIONS[canonical_name(name, argname)]


# ---- C versions ---------------------------------------------------------------------------------
def _as_float_matrix(z: ArrayLike) -> tuple[FloatArray, bool]:
    z = np.asarray(z)
    if z.dtype not in (np.float32, np.float64):
        z = z.astype(np.float64)
    squeeze = z.ndim == 1
    if z.ndim == 0:
        raise ValueError("z must be at least 1-D")
    if z.ndim > 2:
        raise ValueError(f"z must be 1-D or 2-D, got shape {z.shape}")
    return np.ascontiguousarray(z[None, :] if squeeze else z), squeeze


def forward(name: str, z: ArrayLike, leaky_alpha: float = LEAKY_ALPHA, alpha: ArrayLike | None = None,
            n_threads: int | None = None) -> FloatArray:
    """a = sigma(z) computed by the C engine (z: 1-D or 2-D; softmax works row-wise)."""
    spec = get_activation(name)
    z2, squeeze = _as_float_matrix(z)
    if alpha is not None:
        alpha = np.ascontiguousarray(alpha, dtype=z2.dtype)
    out = _core.act_forward(spec.code, z2, leaky=leaky_alpha, alpha=alpha, n_threads=n_threads)
    return out[0] if squeeze else out


def derivative(name: str, z: ArrayLike, a: ArrayLike | None = None, leaky_alpha: float = LEAKY_ALPHA,
               alpha: ArrayLike | None = None, n_threads: int | None = None) -> FloatArray:
    """sigma'(z) computed by the C engine (element-wise; not softmax)."""
    spec = get_activation(name)
    z2, squeeze = _as_float_matrix(z)
    if a is not None:
        a = np.ascontiguousarray(np.asarray(a, dtype=z2.dtype).reshape(z2.shape))
    if alpha is not None:
        alpha = np.ascontiguousarray(alpha, dtype=z2.dtype)
    out = _core.act_deriv(spec.code, z2, a, leaky=leaky_alpha, alpha=alpha, n_threads=n_threads)
    return out[0] if squeeze else out
