"""fastmlp.reference's activations, losses and target encodings, by hand and in closed form."""

import math
import warnings

import numpy as np
import pytest

import fastmlp.reference as R
from reference_helpers import KINKS, PAIRS, rng_for


@pytest.fixture
def strict():
    """Any floating-point exception or warning fails the test."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---------------------------------------------------------------- activations

SPECIAL_Z = np.array([-1e4, -1.0, -0.5, 0.0, 0.5, 1.0, 1e4])
EXPECTED = {
    "step": [0, 0, 0, 0.5, 1, 1, 1],
    "sign": [-1, -1, -1, 0, 1, 1, 1],
    "linear": list(SPECIAL_Z),
    "piecewise_linear": [0, 0, 0, 0.5, 1, 1, 1],
    "sigmoid": [0, 1 / (1 + math.e), 1 / (1 + math.exp(0.5)), 0.5,
                1 / (1 + math.exp(-0.5)), 1 / (1 + math.exp(-1)), 1],
    "tanh": [-1, math.tanh(-1), math.tanh(-0.5), 0, math.tanh(0.5), math.tanh(1), 1],
    "relu": [0, 0, 0, 0, 0.5, 1, 1e4],
    "leaky_relu": [-100, -0.01, -0.005, 0, 0.5, 1, 1e4],
}
DERIV_EXPECTED = {
    "step": [0] * 7, "sign": [0] * 7, "linear": [1] * 7,
    "piecewise_linear": [0, 0, 0, 1, 0, 0, 0],
    "relu": [0, 0, 0, 0, 1, 1, 1],
    "leaky_relu": [0.01, 0.01, 0.01, 1, 1, 1, 1],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_activation_special_points(name, strict):
    np.testing.assert_allclose(R.activation(name, SPECIAL_Z), EXPECTED[name], rtol=1e-15)


@pytest.mark.parametrize("name", sorted(DERIV_EXPECTED))
def test_derivative_special_points(name, strict):
    np.testing.assert_array_equal(R.activation_derivative(name, SPECIAL_Z),
                                  DERIV_EXPECTED[name])


def test_piecewise_linear_inside_and_sigmoid_tanh_derivatives_at_extremes(strict):
    np.testing.assert_allclose(R.activation("piecewise", [-0.25, 0.25]), [0.25, 0.75])
    np.testing.assert_array_equal(R.activation_derivative("piecewise", [-0.4999, 0.4999]),
                                  [1, 1])
    assert R.activation_derivative("sigmoid", 0.0) == 0.25
    assert R.activation_derivative("tanh", 0.0) == 1.0
    np.testing.assert_array_equal(R.activation_derivative("sigmoid", [-1e4, 1e4]), [0, 0])
    np.testing.assert_array_equal(R.activation_derivative("tanh", [-1e4, 1e4]), [0, 0])


def test_prelu_one_alpha_per_neuron(strict):
    z = np.array([[-2.0, -2.0, 3.0], [1.0, -4.0, -1.0]])
    alpha = np.array([0.1, 0.5, 2.0])
    np.testing.assert_allclose(R.activation("prelu", z, alpha),
                               [[-0.2, -1.0, 3.0], [1.0, -2.0, -2.0]])
    np.testing.assert_allclose(R.activation_derivative("prelu", z, alpha),
                               [[0.1, 0.5, 1.0], [1.0, 0.5, 2.0]])
    np.testing.assert_allclose(R.prelu_alpha_derivative(z), [[-2, -2, 0], [0, -4, -1]])
    np.testing.assert_array_equal(R.activation_derivative("prelu", [[0.0, 0.0]], [0.3, 0.3]),
                                  [[1, 1]])


def test_leaky_custom_alpha():
    np.testing.assert_allclose(R.activation("leaky", [-2.0, 2.0], alpha=0.2), [-0.4, 2.0])
    np.testing.assert_allclose(R.activation_derivative("leaky", [-2.0, 2.0], 0.2), [0.2, 1])


def test_aliases():
    for alias, name in [("heaviside", "step"), ("identity", "linear"), ("logistic", "sigmoid"),
                        ("hard_linear", "piecewise_linear"), ("piecewise", "piecewise_linear"),
                        ("leaky", "leaky_relu"), ("ReLU", "relu")]:
        assert R.canonical_activation(alias) == name
    for alias, name in [("squared", "square"), ("mse", "square"), ("bce", "logistic"),
                        ("ce", "cross_entropy"), ("categorical_crossentropy", "cross_entropy"),
                        ("multiclass_hinge", "margin"), ("large_margin", "margin")]:
        assert R.canonical_loss(alias) == name
    for ambiguous in ("log", "log_loss", "Log-Loss"):
        with pytest.raises(ValueError, match="ambiguous.*'logistic'.*'cross_entropy'"):
            R.canonical_loss(ambiguous)
    with pytest.raises(ValueError, match="name.*'swish'.*sigmoid"):
        R.canonical_activation("swish")
    with pytest.raises(TypeError, match="name"):
        R.canonical_activation(3)


def closed_form(name, z):
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
    if name == "relu":
        return np.array([max(0.0, v) for v in z.ravel()]).reshape(z.shape)
    if name == "leaky_relu":
        return np.array([v if v >= 0 else 0.01 * v for v in z.ravel()]).reshape(z.shape)
    if name == "piecewise_linear":
        out = [1.0 if v >= 0.5 else (v + 0.5 if v > -0.5 else 0.0) for v in z.ravel()]
        return np.array(out).reshape(z.shape)
    if name == "step":
        return np.array([1.0 if v > 0 else (0.0 if v < 0 else 0.5) for v in z.ravel()]
                        ).reshape(z.shape)
    if name == "sign":
        return np.array([1.0 if v > 0 else (-1.0 if v < 0 else 0.0) for v in z.ravel()]
                        ).reshape(z.shape)
    if name == "linear":
        return z
    raise KeyError(name)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "piecewise_linear",
                                  "step", "sign", "linear"])
def test_activation_closed_form_random(name):
    z = rng_for(name).normal(scale=3, size=(7, 5))
    np.testing.assert_allclose(R.activation(name, z), closed_form(name, z), rtol=1e-13,
                               atol=1e-15)


def test_softmax_closed_form_and_extremes(strict):
    z = rng_for("softmax").normal(size=(6, 4))
    e = np.exp(z)
    np.testing.assert_allclose(R.softmax(z), e / e.sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(R.softmax(z + 100.0), R.softmax(z), rtol=1e-12)
    np.testing.assert_array_equal(R.softmax([[1e4, -1e4, 0.0]]), [[1, 0, 0]])
    np.testing.assert_allclose(R.softmax(np.zeros((2, 5))), np.full((2, 5), 0.2))


@pytest.mark.parametrize("name", ["linear", "piecewise_linear", "sigmoid", "tanh", "relu",
                                  "leaky_relu", "prelu", "step", "sign"])
def test_derivative_against_finite_differences(name):
    rng = rng_for("deriv", name)
    z = rng.uniform(-3, 3, size=(9, 4))
    for k in KINKS.get(name, ()):  # stay away from kinks
        z = np.where(np.abs(z - k) < 1e-3, z + 0.01, z)
    alpha = rng.uniform(0.05, 0.6, size=4) if name == "prelu" else None
    h = 1e-6
    fd = (R.activation(name, z + h, alpha) - R.activation(name, z - h, alpha)) / (2 * h)
    np.testing.assert_allclose(R.activation_derivative(name, z, alpha), fd, rtol=1e-7,
                               atol=1e-8)
    if name == "prelu":
        fd_alpha = (R.activation(name, z, alpha + h) - R.activation(name, z, alpha - h)) / (2 * h)
        np.testing.assert_allclose(R.prelu_alpha_derivative(z), fd_alpha, rtol=1e-7, atol=1e-8)


def test_softmax_jacobian_against_finite_differences():
    z = rng_for("jac").normal(size=(3, 4))
    J = R.activation_derivative("softmax", z)
    assert J.shape == (3, 4, 4)
    h = 1e-6
    for j in range(4):
        dz = np.zeros(4)
        dz[j] = h
        fd = (R.softmax(z + dz) - R.softmax(z - dz)) / (2 * h)
        np.testing.assert_allclose(J[:, :, j], fd, rtol=1e-7, atol=1e-9)


def test_activation_keeps_float32():
    z = np.linspace(-2, 2, 9, dtype=np.float32)
    for name in R.ACTIVATIONS:
        alpha = np.full(9, 0.25, np.float32) if name == "prelu" else None
        assert R.activation(name, z, alpha).dtype == np.float32, name
        assert R.activation_derivative(name, z, alpha).dtype == np.float32, name


# ---------------------------------------------------------------------- losses

def test_square_loss_by_hand():
    Y = np.array([[1.0, 0.0], [-1.0, 2.0]])
    a = np.array([[0.5, 1.0], [1.0, 2.0]])
    # sample 1: 0.25 + 1 = 1.25; sample 2: 4 + 0 = 4; mean 2.625
    assert R.loss_value("square", Y, a) == pytest.approx(2.625, rel=1e-15)
    np.testing.assert_allclose(R.loss_gradient("square", Y, a), [[-0.5, 1.0], [2.0, 0.0]])
    # the chapter's (1 - yhat f)^2 for yhat in {-1, +1}
    Y = np.array([[1.0], [-1.0], [1.0]])
    f = np.array([[0.3], [0.4], [-2.0]])
    chapter = np.mean((1 - Y * f) ** 2)
    assert R.loss_value("square", Y, f) == pytest.approx(chapter, rel=1e-15)


def test_hinge_loss_by_hand():
    Y = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    a = np.array([[2.0], [0.5], [1.0], [-3.0]])
    # max(0,-1)=0, max(0,1.5)=1.5, max(0,0)=0 (the hinge point), max(0,-2)=0 -> 1.5/4
    assert R.loss_value("hinge", Y, a) == 0.375
    # gradient -yhat where yhat f < 1; 0 exactly at yhat f = 1
    np.testing.assert_array_equal(R.loss_gradient("hinge", Y, a), [[0], [0.25], [0], [0]])


def test_logistic_loss_by_hand():
    Y = np.array([[1.0], [-1.0]])
    a = np.array([[0.0], [2.0]])
    # log 2 = 0.6931471805599453, log(1 + e^2) = 2.1269280110429727
    assert R.loss_value("logistic", Y, a) == pytest.approx(1.410037595801459, rel=1e-14)
    # -yhat sigmoid(-yhat f) / n: -0.5/2, +sigmoid(2)/2 = 0.8807970779778823/2
    np.testing.assert_allclose(R.loss_gradient("logistic", Y, a),
                               [[-0.25], [0.44039853898894116]], rtol=1e-14)


def test_cross_entropy_by_hand():
    Y = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    z = np.array([[0.0, 0, 0], [0, math.log(3), 0]])
    p = R.softmax(z)  # rows [1/3,1/3,1/3] and [1/5,3/5,1/5]
    # -log(1/3) = 1.0986122886681098, -log(3/5) = 0.5108256237659907
    assert R.loss_value("ce", Y, p, z) == pytest.approx(0.8047189562170502, rel=1e-14)
    np.testing.assert_allclose(R.loss_gradient("ce", Y, p),
                               [[-1.5, 0, 0], [0, -1 / 1.2, 0]], rtol=1e-14)
    np.testing.assert_allclose(R.output_delta("ce", "softmax", Y, z, p),
                               [[-1 / 3, 1 / 6, 1 / 6], [0.1, -0.2, 0.1]], rtol=1e-14)


def test_margin_loss_by_hand():
    Y = R.encode_targets("margin", [0, 1, 2], 3)
    f = np.array([[3.0, 1.0, 2.5], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    # row 1: max(0, 1+1-3) + max(0, 1+2.5-3) = 0 + 0.5
    # row 2: 1 + 1 = 2;  row 3: max(0, 1+1-3) + max(0, 1+2-3) = 0 + 0 (hinge point)
    assert R.loss_value("margin", Y, f) == pytest.approx(2.5 / 3, rel=1e-15)
    np.testing.assert_allclose(R.loss_gradient("margin", Y, f),
                               np.array([[-1, 0, 1], [1, -2, 1], [0, 0, 0]]) / 3, rtol=1e-15)


EXTREME_Z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3], [-1e4, -1e4, -1e4]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss,out", PAIRS)
def test_extreme_outputs_are_finite(loss, out, dtype, strict):
    z = EXTREME_Z.astype(dtype)
    n_out = 3
    Y = {"square": np.array([[1.0, -1, 0], [0, 2, 1], [1, 1, 1]]),
         "hinge": np.array([[1.0, -1, 1], [-1, 1, 1], [1, 1, -1]]),
         "logistic": np.array([[-1.0, 1, 1], [1, -1, -1], [1, 1, 1]]),
         "cross_entropy": R.encode_targets("ce", [1, 0, 2], n_out),
         "margin": R.encode_targets("margin", [1, 0, 2], n_out)}[loss].astype(dtype)
    alpha = np.full(n_out, 0.25, dtype) if out == "prelu" else None
    a = R.activation(out, z, alpha)
    value = R.loss_value(loss, Y, a, z)
    assert math.isfinite(value)
    delta = R.output_delta(loss, out, Y, z, a, alpha)
    assert delta.dtype == dtype and np.all(np.isfinite(delta))
    if loss != "cross_entropy":  # the chapter form -Y/(n p) is not stable by design
        assert np.all(np.isfinite(R.loss_gradient(loss, Y, a)))


def test_cross_entropy_from_huge_logits(strict):
    Y = R.encode_targets("ce", [1, 0], 3)
    z = np.array([[1e4, -1e4, 0.0], [1e4, 0.0, 0.0]])
    # row 1: the true class is 2e4 below the max -> C = 2e4 (log-sum-exp); row 2: the true
    # class is the max -> C = log(1 + 2 e^-1e4) = 0; mean 1e4
    assert R.loss_value("ce", Y, R.softmax(z), z) == pytest.approx(1e4, rel=1e-15)


def test_logistic_extreme_values(strict):
    Y = np.array([[1.0], [-1.0], [1.0]])
    a = np.array([[1e4], [1e4], [-1e4]])
    assert R.loss_value("logistic", Y, a) == pytest.approx(2e4 / 3, rel=1e-15)
    np.testing.assert_array_equal(R.loss_gradient("logistic", Y, a), [[0], [1 / 3], [-1 / 3]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden,out,loss", [("sigmoid", "softmax", "ce"),
                                             ("tanh", "sigmoid", "logistic"),
                                             ("sigmoid", "linear", "margin"),
                                             ("tanh", "tanh", "hinge")])
def test_forward_backward_with_huge_pre_activations(hidden, out, loss, dtype, strict):
    """Weights of size 1e3 drive |z| to about 1e4: everything stays finite, no warnings."""
    X = np.array([[1.0, -1.0], [-3.0, 2.0], [0.5, 4.0]], dtype=dtype)
    weights = [np.array([[1e3, -2e3, 3e3], [2e3, 1e3, -1e3]], dtype=dtype),
               np.array([[4e3, -4e3], [-3e3, 2e3], [1e3, 3e3]], dtype=dtype)]
    biases = [np.zeros(3, dtype), np.zeros(2, dtype)]
    names = [hidden, out]
    t = R.forward(X, weights, biases, names)
    assert np.abs(t.z[2]).max() >= 1e3
    y = np.array([0, 1, 1])
    Y = R.encode_targets(loss, y if loss in ("ce", "margin") else np.eye(2)[y], 2, dtype=dtype)
    g = R.backward(t, Y, weights, names, loss)
    assert math.isfinite(g.loss)
    assert all(x.dtype == dtype and np.all(np.isfinite(x)) for x in g.as_list())


@pytest.mark.parametrize("loss", ["square", "hinge", "logistic", "margin", "cross_entropy"])
def test_softmax_general_jacobian_form(loss):
    """delta^L = J^T grad C for a softmax output; for cross entropy it equals (P - Y)/n."""
    rng = rng_for("jvp", loss)
    z = rng.normal(scale=2, size=(7, 4))
    p = R.softmax(z)
    if loss in ("hinge", "logistic"):
        Y = rng.choice([-1.0, 1.0], size=(7, 4))
    elif loss == "square":
        Y = rng.normal(size=(7, 4))
    else:
        Y = R.encode_targets(loss, rng.integers(0, 4, size=7), 4)
    g = R.loss_gradient(loss, Y, p)
    J = R.softmax_jacobian(z)
    general = np.einsum("kij,ki->kj", J, g)  # row k: J_k^T g_k
    np.testing.assert_allclose(R.output_delta(loss, "softmax", Y, z, p), general,
                               rtol=1e-12, atol=1e-15)
    if loss == "cross_entropy":
        np.testing.assert_allclose(general, (p - Y) / 7, rtol=1e-10, atol=1e-15)
        Yp = rng.dirichlet(np.ones(4), size=7)  # probability rows too
        gp = R.loss_gradient("ce", Yp, p)
        np.testing.assert_allclose(np.einsum("kij,ki->kj", J, gp),
                                   R.output_delta("ce", "softmax", Yp, z, p), rtol=1e-10,
                                   atol=1e-15)


def test_output_delta_general_form():
    rng = rng_for("odelta")
    z = rng.normal(size=(5, 3))
    Y = rng.normal(size=(5, 3))
    a = R.activation("tanh", z)
    np.testing.assert_allclose(R.output_delta("square", "tanh", Y, z, a),
                               (1 - a ** 2) * 2 * (a - Y) / 5, rtol=1e-14)


# ------------------------------------------------------------------ encodings

def test_encode_targets_round_trips():
    y = np.array([2, 0, 1, 2])
    Y = R.encode_targets("ce", y, 3)
    np.testing.assert_array_equal(Y, np.eye(3)[y])
    np.testing.assert_array_equal(np.argmax(Y, axis=1), y)
    np.testing.assert_array_equal(R.encode_targets("margin", Y, 3), Y)
    np.testing.assert_array_equal(R.encode_targets("ce", Y, 3), Y)
    P = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(R.encode_targets("ce", P, 3), P)
    for loss in ("hinge", "logistic"):
        y01 = np.array([0, 1, 1, 0])
        Ypm = R.encode_targets(loss, y01, 1)
        np.testing.assert_array_equal(Ypm, [[-1], [1], [1], [-1]])
        np.testing.assert_array_equal((Ypm[:, 0] + 1) / 2, y01)
        np.testing.assert_array_equal(R.encode_targets(loss, Ypm, 1), Ypm)
        np.testing.assert_array_equal(R.encode_targets(loss, [[True, False]], 2), [[1, -1]])
    Ys = R.encode_targets("square", np.array([1.5, -2.0], np.float32), 1)
    assert Ys.shape == (2, 1) and Ys.dtype == np.float32
    assert R.encode_targets("square", [1, 2], 1).dtype == np.float64
    assert R.encode_targets("ce", y, 3, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("loss,y,n_out,exc,match", [
    ("hinge", [0, 1, 2], 1, ValueError, "y.*labels"),
    ("logistic", [-1, 0, 1], 1, ValueError, "y.*labels"),
    ("hinge", [0, 1], 2, ValueError, "y.*columns"),
    ("ce", [0, 3], 3, ValueError, "y.*class indices"),
    ("ce", [0.5, 1], 3, ValueError, "y.*class indices"),
    ("ce", [-1, 1], 3, ValueError, "y.*class indices"),
    ("ce", [[0.5, 0.6, 0.0]], 3, ValueError, "y.*probability"),
    ("ce", [[1.2, -0.2, 0.0]], 3, ValueError, "y.*probability"),
    ("margin", [[0.5, 0.5, 0.0]], 3, ValueError, "y.*one-hot"),
    ("ce", [[1, 0]], 3, ValueError, "y.*columns"),
    ("square", [[1.0, 2.0]], 1, ValueError, "y.*columns"),
    ("square", [np.nan], 1, ValueError, "y.*finite"),
    ("square", ["a"], 1, TypeError, "y.*dtype"),
    ("square", [1 + 2j], 1, TypeError, "y.*dtype"),
    ("square", np.zeros((2, 2, 2)), 1, ValueError, "y.*1-D or 2-D"),
    ("nope", [1], 1, ValueError, "loss.*'nope'"),
    ("square", [1], 0, ValueError, "n_outputs"),
    ("square", [1], 1.5, TypeError, "n_outputs"),
])
def test_encode_targets_rejections(loss, y, n_out, exc, match):
    with pytest.raises(exc, match=match):
        R.encode_targets(loss, y, n_out)
