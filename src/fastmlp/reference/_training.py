"""fastmlp.reference: parameter updates and training: gradient descent, SGD and mini-batch SGD
(chapter 4.3). Part of the reference, whose notation and formulas are in the package's
docstring (__init__.py)."""

import numpy as np

from .._common import check_dtype, check_int, check_real
from .._names import LEAKY_ALPHA
from ._checks import _FLOATS, _as_real_array, _describe, _quiet_underflow, canonical_loss
from ._losses import _check_loss_output, _check_target_values
from ._network import (_backward, _check_X, _check_activations, _check_layer_sizes,
                       _check_network, _forward, init_params, parameters)


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
