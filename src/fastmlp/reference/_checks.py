"""fastmlp.reference: the names tables and the checks of user input (kept apart so that the
maths stays short). Part of the reference, whose notation and formulas are in the package's
docstring (__init__.py)."""

import functools

import numpy as np

from .._common import check_real
from .._names import ACTIVATION_NAMES, LEAKY_ALPHA, LOSS_NAMES, PRELU_INIT


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
