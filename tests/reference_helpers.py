"""Helpers of the reference tests (tests/engine/test_reference*.py): seeded generators, the
(loss, output activation) pairs, the kinks of the activations, XOR and a small regression."""
import zlib

import numpy as np

# (loss, output activation) pairs whose derivative exists
PAIRS = [("square", o) for o in ["linear", "sigmoid", "tanh", "piecewise_linear", "relu",
                                 "leaky_relu", "prelu", "softmax"]] + [
    ("hinge", "linear"), ("hinge", "tanh"),
    ("logistic", "linear"), ("logistic", "tanh"),
    ("cross_entropy", "softmax"),
    ("margin", "linear"), ("margin", "sigmoid"),
]
KINKS = {"piecewise_linear": (-0.5, 0.5), "relu": (0.0,), "leaky_relu": (0.0,),
         "prelu": (0.0,), "step": (0.0,), "sign": (0.0,)}


def rng_for(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


XOR_X = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0.0], [1], [1], [0]])


def regression_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    Y = np.c_[np.sin(X[:, 0]) + 0.5 * X[:, 1], X[:, 2] * 0.3]
    return X, Y
