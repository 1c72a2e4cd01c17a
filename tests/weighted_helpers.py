"""Helpers of the weighted-training tests (tests/engine/test_sample_weight_engine.py,
test_data_parallel.py): cases, engine set-up, and the reference's weighted gradients and
first optimiser steps."""
import numpy as np

from fastmlp import _core
from fastmlp import reference as R

DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-10, np.float32: 1e-4}
# (loss, hidden activation, output activation); 64-72-3 has 4824 >= 4096 weights, so plain
# SGD takes the fused path (dW applied inside the GEMM) unless fusion is turned off
CASES = [("square", "tanh", "linear"), ("logistic", "tanh", "tanh"),
         ("cross_entropy", "tanh", "softmax"), ("square", "prelu", "prelu")]
SIZES = [64, 72, 3]


def close(actual, expected, dtype):
    """|actual - expected| <= tol * (|expected| + max |expected|), entry by entry."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    assert actual.shape == expected.shape
    scale = np.abs(expected).max(initial=0.0) + 1e-300
    err = np.abs(actual - expected) - TOL[dtype] * (np.abs(expected) + scale)
    assert np.all(err <= 0), f"max excess {err.max():.3g}"


def targets(loss, n, m, rng):
    if loss == "cross_entropy":
        return np.eye(m)[rng.integers(0, m, n)]
    if loss == "logistic":
        return np.where(rng.random((n, m)) < 0.5, -1.0, 1.0)
    return rng.normal(size=(n, m))


def setup(loss, hidden, out, dtype, n, seed=0, sizes=SIZES, max_batch=None):
    """An engine with the reference's initial parameters (cast to dtype), float64 copies of
    those parameters for the reference, and data (X, Y) in dtype."""
    rng = np.random.default_rng(seed)
    acts = [hidden] * (len(sizes) - 2) + [out]
    eng = _core.Engine(sizes, acts, loss, dtype, max_batch=max_batch or n)
    W, b, al = R.init_params(sizes, acts, seed=seed + 1)
    W = [w.astype(dtype).astype(np.float64) for w in W]
    b = [v + rng.normal(size=v.shape).astype(dtype).astype(np.float64) * 0.1 for v in b]
    al = [None if a is None else a.astype(dtype).astype(np.float64) for a in al]
    for dst, src in zip(eng.weights() + eng.biases(), W + b):
        dst[...] = src
    for dst, src in zip(eng.alphas(), al):
        if src is not None:
            dst[...] = src
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    Y = targets(loss, n, sizes[-1], rng).astype(dtype)
    return eng, acts, (W, b, al), X, Y


def ref_weighted(params, acts, loss, X, Y, w):
    """(weighted mean loss, gradient list) from per-sample reference gradients, float64."""
    W, b, al = params
    X, Y = X.astype(np.float64), Y.astype(np.float64)
    S = float(np.sum(w, dtype=np.float64))
    value, grads = 0.0, None
    for i in range(X.shape[0]):
        tr = R.forward(X[i:i + 1], W, b, acts, al)
        g = R.backward(tr, Y[i:i + 1], W, acts, loss, al)
        wi = float(w[i])
        value += wi * g.loss
        gl = [wi * x for x in g.as_list()]
        grads = gl if grads is None else [a + c for a, c in zip(grads, gl)]
    return value / S, [x / S for x in grads], S


def engine_params(eng):
    return (eng.weights() + eng.biases() + [a for a in eng.alphas() if a is not None])


def row_sum(w):
    """The engine's S_b: the weights summed in double, in row order."""
    s = 0.0
    for x in w:
        s += float(x)
    return s


OPTS = {  # name -> (spec without t and l2, state vectors)
    "sgd": ((0, 0.1, 0.0, False, 1e-3, 0.9, 0.999, 1e-8), 0),
    "momentum": ((0, 0.1, 0.9, True, 1e-3, 0.9, 0.999, 1e-8), 1),
    "adam": ((1, 0.01, 0.0, False, 1e-3, 0.9, 0.999, 1e-8), 2),
}

def ref_first_step(params, g, opt, wd):
    """The reference's parameters after the first step of OPTS[opt] from gradient g, with
    L2 coefficient wd."""
    base = OPTS[opt][0]
    ref = R.parameters(*params)
    if opt == "sgd":
        R.sgd_update(ref, g, lr=base[1], weight_decay=wd)
    elif opt == "momentum":
        R.momentum_update(ref, g, [np.zeros_like(p) for p in ref], lr=base[1],
                          momentum=base[2], nesterov=True, weight_decay=wd)
    else:
        R.adam_update(ref, g, [np.zeros_like(p) for p in ref],
                      [np.zeros_like(p) for p in ref], 1, lr=base[1], beta1=base[5],
                      beta2=base[6], eps=base[7], weight_decay=wd)
    return ref
