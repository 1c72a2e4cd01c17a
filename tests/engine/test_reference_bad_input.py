"""fastmlp.reference's refusals of bad input, and the inputs it must leave unmodified."""

import numpy as np
import pytest

import fastmlp.reference as R
from reference_helpers import XOR_X, XOR_Y, regression_problem


def _net():
    w = [np.ones((2, 3)), np.ones((3, 1))]
    b = [np.zeros(3), np.zeros(1)]
    return w, b


X_OK = np.zeros((4, 2))
Y_OK = np.zeros((4, 1))
W_OK, B_OK = _net()
T_OK = R.forward(X_OK, W_OK, B_OK, "tanh")

BAD_CALLS = {
    "activation-name": (lambda: R.activation("swish", [1.0]), ValueError, "name"),
    "activation-z-complex": (lambda: R.activation("relu", [1j]), TypeError, "z.*complex"),
    "activation-z-object": (lambda: R.activation("relu", np.array([1, None])), TypeError, "z"),
    "activation-z-nan": (lambda: R.activation("relu", [np.nan]), ValueError, "z.*finite"),
    "activation-prelu-noalpha": (lambda: R.activation("prelu", [[1.0]]), ValueError, "alpha"),
    "activation-prelu-shape": (lambda: R.activation("prelu", [[1.0, 2]], [1.0]), ValueError,
                               "alpha.*shape"),
    "activation-alpha-unused": (lambda: R.activation("tanh", [1.0], 0.1), ValueError, "alpha"),
    "activation-leaky-str": (lambda: R.activation("leaky", [1.0], "a"), TypeError, "alpha"),
    "derivative-name": (lambda: R.activation_derivative(5, [1.0]), TypeError, "name"),
    "loss-name": (lambda: R.loss_value("l1", Y_OK, Y_OK), ValueError, "loss.*'l1'"),
    "loss-shape": (lambda: R.loss_value("square", np.zeros((3, 1)), Y_OK), ValueError, "Y.*shape"),
    "loss-hinge-01": (lambda: R.loss_value("hinge", Y_OK, Y_OK), ValueError, "Y.*-1/\\+1"),
    "loss-ce-no-z": (lambda: R.loss_value("ce", np.eye(2), np.eye(2)), ValueError, "z_L"),
    "loss-a-nan": (lambda: R.loss_value("square", Y_OK, Y_OK + np.nan), ValueError, "a_L"),
    "gradient-1d": (lambda: R.loss_gradient("square", [1.0], [1.0]), ValueError, "a_L.*2-D"),
    "gradient-ce-zero-p": (lambda: R.loss_gradient("ce", np.eye(2), np.fliplr(np.eye(2))),
                           ValueError, "a_L"),
    "delta-ce-sigmoid": (lambda: R.output_delta("ce", "sigmoid", np.eye(2), np.eye(2),
                                                np.eye(2)), ValueError, "output_activation"),
    "delta-shape": (lambda: R.output_delta("square", "linear", Y_OK, np.zeros((4, 2)),
                                           Y_OK), ValueError, "a_L.*shape"),
    "forward-X-cols": (lambda: R.forward(np.zeros((4, 3)), W_OK, B_OK, "tanh"), ValueError,
                       "X.*3 features.*expected 2"),
    "forward-X-str": (lambda: R.forward([["a", "b"]], W_OK, B_OK, "tanh"), TypeError, "X"),
    "forward-X-inf": (lambda: R.forward(X_OK + np.inf, W_OK, B_OK, "tanh"), ValueError,
                      "X.*finite"),
    "forward-X-1d": (lambda: R.forward(np.zeros(2), W_OK, B_OK, "tanh"), ValueError, "X.*2-D"),
    "forward-W-chain": (lambda: R.forward(X_OK, [np.ones((2, 3)), np.ones((2, 1))], B_OK,
                                          "tanh"), ValueError, r"weights\[1\].*shape"),
    "forward-W-int": (lambda: R.forward(X_OK, [np.ones((2, 3), int), np.ones((3, 1))], B_OK,
                                        "tanh"), TypeError, r"weights\[0\]"),
    "forward-W-mixed": (lambda: R.forward(X_OK, [np.ones((2, 3)), np.ones((3, 1), np.float32)],
                                          B_OK, "tanh"), TypeError, r"weights\[1\].*float64"),
    "forward-W-nan": (lambda: R.forward(X_OK, [np.full((2, 3), np.nan), np.ones((3, 1))],
                                        B_OK, "tanh"), ValueError, r"weights\[0\].*finite"),
    "forward-b-shape": (lambda: R.forward(X_OK, W_OK, [np.zeros(2), np.zeros(1)], "tanh"),
                        ValueError, r"biases\[0\].*shape"),
    "forward-b-len": (lambda: R.forward(X_OK, W_OK, [np.zeros(3)], "tanh"), ValueError,
                      "biases"),
    "forward-acts-len": (lambda: R.forward(X_OK, W_OK, B_OK, ["tanh"]), ValueError,
                         "activations"),
    "forward-acts-name": (lambda: R.forward(X_OK, W_OK, B_OK, ["tanh", "nope"]), ValueError,
                          r"activations\[1\]"),
    "forward-hidden-softmax": (lambda: R.forward(X_OK, W_OK, B_OK, ["softmax", "linear"]),
                               ValueError, r"activations\[0\].*output layer only"),
    "forward-prelu-no-alpha": (lambda: R.forward(X_OK, W_OK, B_OK, ["prelu", "linear"]),
                               ValueError, r"alphas\[0\]"),
    "forward-alpha-not-prelu": (lambda: R.forward(X_OK, W_OK, B_OK, "tanh",
                                                  [np.ones(3), None]), ValueError, r"alphas\[0\]"),
    "forward-leaky-nan": (lambda: R.forward(X_OK, W_OK, B_OK, "tanh", leaky_alpha=np.nan),
                          ValueError, "leaky_alpha"),
    "forward-weights-none": (lambda: R.forward(X_OK, None, B_OK, "tanh"), TypeError, "weights"),
    "backward-trace": (lambda: R.backward("t", Y_OK, W_OK, "tanh", "square"), TypeError,
                       "trace"),
    "backward-Y-rows": (lambda: R.backward(T_OK, np.zeros((3, 1)), W_OK, "tanh", "square"),
                        ValueError, "Y.*shape"),
    "backward-Y-cols": (lambda: R.backward(T_OK, np.zeros((4, 2)), W_OK, "tanh", "square"),
                        ValueError, "Y.*shape"),
    "backward-Y-complex": (lambda: R.backward(T_OK, np.zeros((4, 1), complex), W_OK, "tanh",
                                              "square"), TypeError, "Y"),
    "backward-ce-tanh": (lambda: R.backward(T_OK, Y_OK, W_OK, "tanh", "ce"), ValueError,
                         "cross_entropy.*softmax"),
    "backward-weights-len": (lambda: R.backward(T_OK, Y_OK, W_OK[:1], "tanh", "square"),
                             ValueError, "weights"),
    "init-sizes": (lambda: R.init_params([3], "tanh"), ValueError, "layer_sizes"),
    "init-size-zero": (lambda: R.init_params([3, 0], "tanh"), ValueError, r"layer_sizes\[1\]"),
    "init-dtype": (lambda: R.init_params([3, 1], "tanh", dtype=np.int32), TypeError, "dtype"),
    "init-dtype-complex": (lambda: R.init_params([3, 1], "tanh", dtype=complex), TypeError,
                           "dtype"),
    "sgd-lr": (lambda: R.sgd_update([np.ones(2)], [np.ones(2)], -1.0), ValueError, "lr"),
    "sgd-shape": (lambda: R.sgd_update([np.ones(2)], [np.ones(3)], 0.1), ValueError,
                  r"grads\[0\].*shape"),
    "sgd-len": (lambda: R.sgd_update([np.ones(2)], [], 0.1), ValueError, "grads"),
    "sgd-int-param": (lambda: R.sgd_update([np.ones(2, int)], [np.ones(2)], 0.1), TypeError,
                      r"params\[0\]"),
    "sgd-nan-grad": (lambda: R.sgd_update([np.ones(2)], [np.array([np.nan, 1])], 0.1),
                     ValueError, r"grads\[0\].*finite"),
    "sgd-decay": (lambda: R.sgd_update([np.ones(2)], [np.ones(2)], 0.1, weight_decay=-1),
                  ValueError, "weight_decay"),
    "momentum-mu": (lambda: R.momentum_update([np.ones(2)], [np.ones(2)], [np.zeros(2)], 0.1,
                                              1.5), ValueError, "momentum"),
    "momentum-velocity": (lambda: R.momentum_update([np.ones(2)], [np.ones(2)], [np.zeros(3)],
                                                    0.1, 0.9), ValueError, r"velocity\[0\]"),
    "momentum-nesterov": (lambda: R.momentum_update([np.ones(2)], [np.ones(2)], [np.zeros(2)],
                                                    0.1, 0.9, nesterov="yes"), TypeError,
                          "nesterov"),
    "adam-t": (lambda: R.adam_update([np.ones(2)], [np.ones(2)], [np.zeros(2)], [np.zeros(2)],
                                     0, 0.1), ValueError, "t must be >= 1"),
    "adam-beta": (lambda: R.adam_update([np.ones(2)], [np.ones(2)], [np.zeros(2)],
                                        [np.zeros(2)], 1, 0.1, beta1=1.0), ValueError, "beta1"),
    "adam-eps": (lambda: R.adam_update([np.ones(2)], [np.ones(2)], [np.zeros(2)],
                                       [np.zeros(2)], 1, 0.1, eps=0), ValueError, "eps"),
    "train-Y-rows": (lambda: R.train(X_OK, np.zeros((3, 1)), [2, 3, 1], "tanh", "square"),
                     ValueError, "Y.*shape"),
    "train-Y-cols": (lambda: R.train(X_OK, np.zeros((4, 2)), [2, 3, 1], "tanh", "square"),
                     ValueError, "Y.*shape"),
    "train-X-cols": (lambda: R.train(X_OK, Y_OK, [3, 3, 1], "tanh", "square"), ValueError,
                     "X.*features"),
    "train-batch": (lambda: R.train(X_OK, Y_OK, [2, 1], "tanh", "square", batch_size=0),
                    ValueError, "batch_size"),
    "train-batch-float": (lambda: R.train(X_OK, Y_OK, [2, 1], "tanh", "square",
                                          batch_size=2.0), TypeError, "batch_size"),
    "train-epochs": (lambda: R.train(X_OK, Y_OK, [2, 1], "tanh", "square", epochs=-1),
                     ValueError, "epochs"),
    "train-lr": (lambda: R.train(X_OK, Y_OK, [2, 1], "tanh", "square", lr=np.inf),
                 ValueError, "lr"),
    "train-loss": (lambda: R.train(X_OK, Y_OK, [2, 1], "tanh", "cubic"), ValueError, "loss"),
    "train-hinge-Y": (lambda: R.train(X_OK, Y_OK, [2, 1], "tanh", "hinge"), ValueError,
                      "Y.*-1/\\+1"),
    "train-dtype": (lambda: R.train(X_OK, Y_OK, [2, 1], "tanh", "square", dtype="U3"),
                    TypeError, "dtype"),
    "train-params-sizes": (lambda: R.train(X_OK, Y_OK, [2, 3, 1], "tanh", "square",
                                           params=([np.ones((2, 1))], [np.zeros(1)], [None])),
                           ValueError, "activations|layer sizes"),
    "perceptron-y": (lambda: R.perceptron_train(XOR_X, [0, 1, 2, 0]), ValueError, "y.*0 or 1"),
    "perceptron-y-rows": (lambda: R.perceptron_train(XOR_X, [0, 1]), ValueError, "y.*shape"),
    "perceptron-X": (lambda: R.perceptron_train([["a", "b"]], [0]), TypeError, "X"),
    "perceptron-lr": (lambda: R.perceptron_train(XOR_X, XOR_Y, lr=0), ValueError, "lr"),
    "predict-X": (lambda: R.perceptron_predict(np.zeros((2, 3)), np.ones((2, 1)), np.zeros(1)),
                  ValueError, "X.*features"),
    "predict-b": (lambda: R.perceptron_predict(XOR_X, np.ones((2, 1)), np.zeros(2)),
                  ValueError, "b.*shape"),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_bad_input(case):
    call, exc, match = BAD_CALLS[case]
    with pytest.raises(exc, match=match):
        call()


def test_inputs_are_not_modified_and_X_of_other_dtype_is_converted():
    X = np.array([[0, 1], [1, 0]], dtype=np.int64)
    w32 = [np.ones((2, 3), np.float32), np.ones((3, 1), np.float32)]
    b32 = [np.zeros(3, np.float32), np.zeros(1, np.float32)]
    t = R.forward(X, w32, b32, "relu")
    assert t.a[0].dtype == np.float32 and t.output.dtype == np.float32
    X64, Y = regression_problem()
    w, b, al = R.init_params([3, 2], "linear", seed=0)
    w_copy = [x.copy() for x in w]
    R.train(X64, Y, [3, 2], "linear", "square", epochs=2, params=(w, b, al))
    assert all(np.array_equal(x, y) for x, y in zip(w, w_copy))
