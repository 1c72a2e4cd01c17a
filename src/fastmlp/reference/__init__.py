"""fastmlp.reference -- the whole maths of the chapter in plain NumPy.

This package is written to be read first.  It is the oracle that every C kernel
of fastmlp is checked against (float64: 1e-10 relative), and the baseline the
benchmarks compare with.  It favours clarity over speed, but every step is
vectorised over the batch: samples are rows.

Layout: this docstring gives the notation and the formulas; one module per part of
the chapter holds their code, and every public name is imported here (use
``fastmlp.reference.<name>``).

=====================  ==============================================================
module                 the chapter's part
=====================  ==============================================================
``_activations``       activations sigma(z) and derivatives sigma'(z) (4.1, 5)
``_losses``            targets and costs, grad C(y), delta^L (4.2, 5)
``_network``           forward and backward passes, parameter lists (4.1, 5)
``_training``          the updates (SGD, momentum, Adam) and ``train`` (4.3)
``_perceptron``        the perceptron rule (4.1)
``_checks``            the name tables and the checks of user input
=====================  ==============================================================

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

from .._common import Gradients, Trace
from .._names import LEAKY_ALPHA, PRELU_INIT
from ._activations import (activation, activation_derivative, prelu_alpha_derivative, softmax,
                           softmax_jacobian)
from ._checks import ACTIVATIONS, LOSSES, canonical_activation, canonical_loss
from ._losses import encode_targets, loss_gradient, loss_value, output_delta
from ._network import backward, forward, init_params, parameters
from ._perceptron import perceptron_predict, perceptron_train
from ._training import adam_update, momentum_update, sgd_update, train

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

