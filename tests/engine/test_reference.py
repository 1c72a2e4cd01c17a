"""Tests of fastmlp.reference: the oracle itself checked against hand-computed
values, closed forms and central finite differences."""

import math
import warnings
import zlib

import numpy as np
import pytest

import fastmlp.reference as R

HIDDEN = ["linear", "piecewise_linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu"]
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


# --------------------------------------------------- backpropagation vs finite differences

def random_targets(rng, loss, n, n_out):
    if loss == "square":
        return rng.normal(size=(n, n_out))
    if loss in ("hinge", "logistic"):
        return rng.choice([-1.0, 1.0], size=(n, n_out))
    if loss == "cross_entropy" and rng.random() < 0.5:
        return rng.dirichlet(np.ones(n_out), size=n)
    return R.encode_targets(loss, rng.integers(0, n_out, size=n), n_out)


def near_kink(trace, names, loss, Y, margin=1e-3):
    for l, name in enumerate(names, start=1):
        for k in KINKS.get(name, ()):
            if np.any(np.abs(trace.z[l] - k) < margin):
                return True
    f = trace.output
    if loss == "hinge" and np.any(np.abs(1 - Y * f) < margin):
        return True
    if loss == "margin":
        y = np.argmax(Y, axis=1)
        m = 1 + f - f[np.arange(len(y)), y][:, None]
        m[np.arange(len(y)), y] = 1.0
        if np.any(np.abs(m) < margin):
            return True
    return False


def make_case(rng, depth, hidden, loss, out):
    n_out_min = 2 if (loss in ("cross_entropy", "margin") or out == "softmax") else 1
    sizes = [int(s) for s in rng.integers(1, 5, size=depth)] + [int(rng.integers(n_out_min, 5))]
    names = [hidden] * (depth - 1) + [out]
    n = int(rng.integers(1, 18))
    for _ in range(200):
        X = rng.normal(size=(n, sizes[0]))
        weights = [rng.normal(scale=1.2 / math.sqrt(a), size=(a, b))
                   for a, b in zip(sizes[:-1], sizes[1:])]
        biases = [rng.normal(scale=0.5, size=b) for b in sizes[1:]]
        alphas = [rng.uniform(0.05, 0.6, size=b) if nm == "prelu" else None
                  for nm, b in zip(names, sizes[1:])]
        Y = random_targets(rng, loss, n, sizes[-1])
        trace = R.forward(X, weights, biases, names, alphas)
        if not near_kink(trace, names, loss, Y):
            return X, Y, weights, biases, alphas, names
    raise RuntimeError("could not draw a case away from kinks")


def finite_difference_grads(X, Y, weights, biases, alphas, names, loss, h=1e-5):
    """Central differences of the cost, fourth-order stencil
    (8 (C(+h) - C(-h)) - (C(+2h) - C(-2h))) / 12h, one parameter at a time."""
    def cost():
        t = R.forward(X, weights, biases, names, alphas)
        return R.loss_value(loss, Y, t.output, t.z[-1])

    def cost_at(p, i, value):
        p[i] = value
        return cost()

    out = []
    for p in R.parameters(weights, biases, alphas):
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            c = [cost_at(p, i, old + k * h) for k in (-2, -1, 1, 2)]
            p[i] = old
            g[i] = (8 * (c[2] - c[1]) - (c[3] - c[0])) / (12 * h)
        out.append(g)
    return out, cost()


@pytest.mark.parametrize("loss,out", PAIRS, ids=[f"{l}-{o}" for l, o in PAIRS])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_backprop_matches_finite_differences(hidden, loss, out):
    rng = rng_for("gradcheck", hidden, loss, out)
    depths = [1, 2, 3, 4] if hidden == "linear" else [2, 3, 4]  # depth 1 has no hidden layer
    for depth in depths:
        X, Y, weights, biases, alphas, names = make_case(rng, depth, hidden, loss, out)
        trace = R.forward(X, weights, biases, names, alphas)
        grads = R.backward(trace, Y, weights, names, loss, alphas)
        fd, value = finite_difference_grads(X, Y, weights, biases, alphas, names, loss)
        assert grads.loss == pytest.approx(value, rel=1e-14)
        analytic = grads.as_list()
        assert len(analytic) == len(fd)
        for i, (g, f) in enumerate(zip(analytic, fd)):
            err = np.linalg.norm(g - f)
            scale = max(np.linalg.norm(g), np.linalg.norm(f))
            assert err <= 1e-6 * scale + 1e-9, (depth, i, err, scale, X.shape)


def test_backprop_chapter_quantities():
    """delta, dW, db agree with the chapter's formulas written elementwise."""
    rng = rng_for("chapter")
    X = rng.normal(size=(5, 3))
    weights = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
    biases = [rng.normal(size=4), rng.normal(size=2)]
    Y = rng.normal(size=(5, 2))
    t = R.forward(X, weights, biases, ["tanh", "linear"])
    assert t.z[0] is None and t.a[0] is X and len(t.z) == len(t.a) == 3
    g = R.backward(t, Y, weights, ["tanh", "linear"], "square")
    assert g.delta[0] is None and g.dW[0] is None and g.dalpha == [None, None, None]
    np.testing.assert_allclose(g.delta[2], 2 * (t.a[2] - Y) / 5)
    # chapter: delta^1 = sigma'(z^1) * (W^2)^T delta^2, with W^2 = weights[1].T
    for k in range(5):
        W2 = weights[1].T  # N_2 x N_1
        np.testing.assert_allclose(g.delta[1][k], (1 - np.tanh(t.z[1][k]) ** 2) *
                                   (W2.T @ g.delta[2][k]), rtol=1e-13)
    # dC/dw_ij^1 = sum_k delta_i^1 x_j: stored transposed (j, i)
    for i in range(4):
        for j in range(3):
            assert g.dW[1][j, i] == pytest.approx(np.sum(g.delta[1][:, i] * X[:, j]))
    np.testing.assert_allclose(g.db[1], g.delta[1].sum(axis=0))


@pytest.mark.parametrize("dead", ["step", "sign"])
def test_no_gradient_through_step_and_sign(dead):
    """sigma' = 0 for step and sign: nothing below such a layer can learn by gradient
    descent, and finite differences agree (the cost is flat there)."""
    rng = rng_for("dead", dead)
    X = rng.normal(size=(6, 3))
    Y = rng.normal(size=(6, 2))
    weights = [rng.normal(size=(3, 4)), rng.normal(size=(4, 2))]
    biases = [rng.normal(size=4), np.zeros(2)]
    names = [dead, "linear"]
    t = R.forward(X, weights, biases, names)
    assert np.min(np.abs(t.z[1])) > 1e-3
    g = R.backward(t, Y, weights, names, "square")
    for arr in (g.delta[1], g.dW[1], g.db[1]):
        np.testing.assert_array_equal(arr, 0)
    assert np.any(g.dW[2] != 0)
    fd, _ = finite_difference_grads(X, Y, weights, biases, [None, None], names, "square")
    np.testing.assert_array_equal(fd[0], 0)
    # training moves the top layer but never the weights below the step/sign layer
    w, b, _, hist = R.train(X, Y, [3, 4, 2], names, "square", lr=0.05, epochs=20, seed=1,
                            params=(weights, biases, [None, None]))
    np.testing.assert_array_equal(w[0], weights[0])
    np.testing.assert_array_equal(b[0], biases[0])
    assert not np.array_equal(w[1], weights[1]) and hist[-1] < hist[0]
    # a step output layer has zero gradient too
    g2 = R.backward(R.forward(X, weights, biases, ["tanh", dead]), Y, weights,
                    ["tanh", dead], "square")
    np.testing.assert_array_equal(g2.dW[1], 0)
    np.testing.assert_array_equal(g2.dW[2], 0)


def test_leaky_alpha_argument_used_in_backward():
    rng = rng_for("leakyarg")
    X = rng.normal(size=(8, 2))
    Y = rng.normal(size=(8, 1))
    weights = [rng.normal(size=(2, 3)), rng.normal(size=(3, 1))]
    biases = [np.zeros(3), np.zeros(1)]
    names = ["leaky_relu", "linear"]
    t = R.forward(X, weights, biases, names, leaky_alpha=0.3)
    np.testing.assert_allclose(t.a[1], np.where(t.z[1] >= 0, t.z[1], 0.3 * t.z[1]))
    g = R.backward(t, Y, weights, names, "square", leaky_alpha=0.3)
    h = 1e-6
    W = [w.copy() for w in weights]
    W[0][1, 2] += h
    tp = R.forward(X, W, biases, names, leaky_alpha=0.3)
    W[0][1, 2] -= 2 * h
    tm = R.forward(X, W, biases, names, leaky_alpha=0.3)
    fd = (R.loss_value("square", Y, tp.output) - R.loss_value("square", Y, tm.output)) / (2 * h)
    assert g.dW[1][1, 2] == pytest.approx(fd, rel=1e-6)


def test_float32_stays_float32_and_matches_float64():
    rng = rng_for("f32")
    X = rng.normal(size=(9, 3))
    Y = R.encode_targets("ce", rng.integers(0, 3, size=9), 3)
    w, b, al = R.init_params([3, 5, 4, 3], ["prelu", "tanh", "softmax"], seed=0)
    names = ["prelu", "tanh", "softmax"]
    g64 = R.backward(R.forward(X, w, b, names, al), Y, w, names, "ce", al)
    w32 = [x.astype(np.float32) for x in w]
    b32 = [x.astype(np.float32) for x in b]
    al32 = [None if x is None else x.astype(np.float32) for x in al]
    t32 = R.forward(X, w32, b32, names, al32)  # X float64 converted to float32
    assert all(a.dtype == np.float32 for a in t32.a)
    g32 = R.backward(t32, Y, w32, names, "ce", al32)
    for a32, a64 in zip(g32.as_list(), g64.as_list()):
        assert a32.dtype == np.float32
        np.testing.assert_allclose(a32, a64, rtol=1e-4, atol=1e-6)


def test_init_params():
    w, b, al = R.init_params([4, 6, 3, 2], ["relu", "prelu", "sigmoid"], seed=3)
    assert [x.shape for x in w] == [(4, 6), (6, 3), (3, 2)]
    assert np.abs(w[0]).max() <= math.sqrt(6 / 4)
    assert np.abs(w[2]).max() <= math.sqrt(6 / 5)
    assert all(np.all(x == 0) for x in b)
    assert al[0] is None and al[2] is None
    np.testing.assert_array_equal(al[1], np.full(3, R.PRELU_INIT))
    w2, _, _ = R.init_params([4, 6, 3, 2], ["relu", "prelu", "sigmoid"], seed=3)
    assert all(np.array_equal(x, y) for x, y in zip(w, w2))
    w32, b32, al32 = R.init_params([4, 6, 3, 2], "tanh", seed=3, dtype=np.float32)
    assert all(x.dtype == np.float32 for x in w32 + b32) and al32 == [None] * 3


# -------------------------------------------------------------------- updates

def test_sgd_update_with_weight_decay_on_weights_only():
    W = np.array([[1.0, 2.0]])
    b = np.array([3.0])
    sgd_params = [W, b]
    R.sgd_update(sgd_params, [np.array([[0.5, -1.0]]), np.array([2.0])], lr=0.1,
                 weight_decay=0.5)
    np.testing.assert_allclose(W, [[1 - 0.1 * (0.5 + 0.5), 2 - 0.1 * (-1 + 1.0)]])
    np.testing.assert_allclose(b, [3 - 0.1 * 2.0])  # no decay on the bias


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_update_two_steps(nesterov):
    p = np.array([[1.0, -1.0]])
    v = np.zeros_like(p)
    g1, g2 = np.array([[0.5, 1.0]]), np.array([[-1.0, 2.0]])
    lr, mu = 0.1, 0.9
    R.momentum_update([p], [g1], [v], lr, mu, nesterov=nesterov)
    v1 = g1
    p1 = np.array([[1.0, -1.0]]) - lr * ((g1 + mu * v1) if nesterov else v1)
    np.testing.assert_allclose(v, v1)
    np.testing.assert_allclose(p, p1)
    R.momentum_update([p], [g2], [v], lr, mu, nesterov=nesterov)
    v2 = mu * v1 + g2
    np.testing.assert_allclose(v, v2)
    np.testing.assert_allclose(p, p1 - lr * ((g2 + mu * v2) if nesterov else v2))


def test_adam_update_two_steps():
    p = np.array([1.0, -2.0])
    m, v = np.zeros(2), np.zeros(2)
    g1, g2 = np.array([0.3, -4.0]), np.array([-0.1, 1.0])
    R.adam_update([p], [g1], [m], [v], 1, lr=0.01)
    # step 1: m_hat = g, v_hat = g^2 -> theta - lr * g / (|g| + eps)
    p1 = np.array([1.0, -2.0]) - 0.01 * g1 / (np.abs(g1) + 1e-8)
    np.testing.assert_allclose(p, p1, rtol=1e-14)
    R.adam_update([p], [g2], [m], [v], 2, lr=0.01)
    m2 = 0.9 * 0.1 * g1 + 0.1 * g2
    v2 = 0.999 * 0.001 * g1 ** 2 + 0.001 * g2 ** 2
    p2 = p1 - 0.01 * (m2 / (1 - 0.9 ** 2)) / (np.sqrt(v2 / (1 - 0.999 ** 2)) + 1e-8)
    np.testing.assert_allclose(m, m2, rtol=1e-14)
    np.testing.assert_allclose(v, v2, rtol=1e-14)
    np.testing.assert_allclose(p, p2, rtol=1e-14)
    # weight decay enters the gradient for a weight matrix only
    W, b = np.ones((1, 1)), np.ones(1)
    R.adam_update([W, b], [np.zeros((1, 1)), np.zeros(1)], [np.zeros((1, 1)), np.zeros(1)],
                  [np.zeros((1, 1)), np.zeros(1)], 1, lr=0.1, weight_decay=1.0)
    assert W[0, 0] == pytest.approx(0.9, rel=1e-7) and b[0] == 1.0


def test_updates_keep_float32():
    p = np.ones((2, 2), np.float32)
    R.sgd_update([p], [np.ones((2, 2), np.float32)], 0.1, weight_decay=0.1)
    v = np.zeros((2, 2), np.float32)
    R.momentum_update([p], [np.ones((2, 2))], [v], 0.1, 0.9, nesterov=True)
    m, s = np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32)
    R.adam_update([p], [np.ones((2, 2), np.float32)], [m], [s], 1, 0.1)
    assert p.dtype == v.dtype == m.dtype == s.dtype == np.float32


# ------------------------------------------------------------------- training

XOR_X = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1]])
XOR_Y = np.array([[0.0], [1], [1], [0]])


def regression_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    Y = np.c_[np.sin(X[:, 0]) + 0.5 * X[:, 1], X[:, 2] * 0.3]
    return X, Y


@pytest.mark.parametrize("batch_size", [None, 1, 7])
def test_training_reduces_loss_and_is_deterministic(batch_size):
    X, Y = regression_problem()
    kw = dict(lr=0.05, epochs=30, batch_size=batch_size, seed=11)
    w1, b1, a1, h1 = R.train(X, Y, [3, 8, 2], ["tanh", "linear"], "square", **kw)
    w2, b2, a2, h2 = R.train(X, Y, [3, 8, 2], ["tanh", "linear"], "square", **kw)
    for x, y in zip(w1 + b1, w2 + b2):
        np.testing.assert_array_equal(x, y)
    assert h1 == h2 and len(h1) == 30
    assert h1[-1] < 0.6 * h1[0]
    t = R.forward(X, w1, b1, ["tanh", "linear"])
    assert R.loss_value("square", Y, t.output) < h1[0]
    w3, *_ = R.train(X, Y, [3, 8, 2], ["tanh", "linear"], "square", **{**kw, "seed": 12})
    assert not np.array_equal(w1[0], w3[0])


def test_float32_training_stays_float32():
    X, Y = regression_problem()
    w, b, al, h = R.train(X, Y, [3, 5, 2], ["prelu", "linear"], "square", lr=0.05,
                          epochs=20, batch_size=8, seed=0, dtype=np.float32)
    assert all(x.dtype == np.float32 for x in w + b + [al[0]])
    assert al[1] is None and h[-1] < h[0]


def test_training_follows_the_stated_batching():
    """Same rng stream: init, then one permutation per epoch, batches of B, last short."""
    X, Y = regression_problem()
    X, Y = X[:10], Y[:10]
    names = ["sigmoid", "linear"]
    for B in (1, 3, None):
        w, b, al, hist = R.train(X, Y, [3, 4, 2], names, "square", lr=0.1, epochs=2,
                                 batch_size=B, seed=5)
        rng = np.random.default_rng(5)
        W, bb, _ = R.init_params([3, 4, 2], names, seed=rng)
        expected_hist = []
        for _ in range(2):
            order = rng.permutation(10) if B is not None else np.arange(10)
            step = 10 if B is None else B
            total = 0.0
            for s in range(0, 10, step):
                idx = order[s:s + step]
                g = R.backward(R.forward(X[idx], W, bb, names), Y[idx], W, names, "square")
                total += g.loss * len(idx)
                R.sgd_update(R.parameters(W, bb), g.as_list(), 0.1)
            expected_hist.append(total / 10)
        for x, y in zip(w + b, W + bb):
            np.testing.assert_allclose(x, y, rtol=1e-13)
        np.testing.assert_allclose(hist, expected_hist, rtol=1e-13)


def test_cross_entropy_training():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    Y = R.encode_targets("ce", y, 3)
    w, b, al, h = R.train(X, Y, [2, 8, 3], ["relu", "softmax"], "ce", lr=0.5, epochs=60,
                          batch_size=10, seed=2)
    acc = np.mean(np.argmax(R.forward(X, w, b, ["relu", "softmax"]).output, 1) == y)
    assert h[-1] < 0.5 * h[0] and acc > 0.85


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_xor_solved_by_two_layer_network(seed):
    w, b, _, hist = R.train(XOR_X, XOR_Y, [2, 4, 1], "sigmoid", "square", lr=2.0,
                            epochs=3000, seed=seed)
    out = R.forward(XOR_X, w, b, "sigmoid").output
    np.testing.assert_array_equal((out > 0.5).astype(int), XOR_Y)
    assert hist[-1] < 0.01


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_perceptron_fails_on_xor(seed):
    W, b, errors = R.perceptron_train(XOR_X, XOR_Y, epochs=200, seed=seed)
    assert len(errors) == 200 and min(errors) > 0
    pred = R.perceptron_predict(XOR_X, W, b)
    assert np.sum(pred == XOR_Y) < 4


def test_perceptron_learns_and_or_with_independent_outputs():
    Y = np.c_[[0, 0, 0, 1], [0, 1, 1, 1]]  # AND and OR, one unit each
    W, b, errors = R.perceptron_train(XOR_X, Y, epochs=100, seed=0)
    assert errors[-1] == 0 and len(errors) < 100
    np.testing.assert_array_equal(R.perceptron_predict(XOR_X, W, b), Y)


def test_no_single_unit_separates_xor():
    """Brute force: no threshold unit step(w1 x1 + w2 x2 + b) on a grid matches XOR."""
    g = np.linspace(-3, 3, 61)
    w1, w2, b0 = np.meshgrid(g, g, g, indexing="ij")
    params = np.stack([w1.ravel(), w2.ravel(), b0.ravel()], axis=1)
    z = params[:, :2] @ XOR_X.T + params[:, 2:3]  # (n_units, 4)
    out = R.activation("step", z)
    correct = np.sum(out == XOR_Y[:, 0], axis=1)
    assert correct.max() == 3  # 3 of 4 is possible, 4 of 4 never
    # the same search finds units for AND, so the grid is not simply too coarse
    assert np.any(np.all(out == np.array([0, 0, 0, 1]), axis=1))


# ------------------------------------------------------------------ bad input

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
