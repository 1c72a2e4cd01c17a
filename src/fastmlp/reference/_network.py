"""fastmlp.reference: the network: forward and backward passes (chapter 4.1 and 5). Part of the
reference, whose notation and formulas are in the package's docstring (__init__.py)."""

import math

import numpy as np

from .._common import Gradients, Trace, check_dtype, check_int, check_real
from .._names import LEAKY_ALPHA, PRELU_INIT
from ._activations import _act, _act_derivative
from ._checks import (_FLOATS, _RELU_FAMILY, _as_real_array, _describe, _quiet_underflow,
                      canonical_activation, canonical_loss)
from ._losses import (_check_Y_against, _check_loss_output, _check_target_values, _loss_gradient,
                      _loss_value, _output_delta)


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
