"""The exp output activation and the Poisson loss (half the Poisson deviance, scikit-learn's
``MLPRegressor(loss='poisson')``): the reference against hand values and finite differences,
the C engine against the reference, and the pairing rules."""
import math

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core
from fastmlp import reference as R

DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-10, np.float32: 1e-4}


def _data(dtype, n=13, m=3, seed=0):
    rng = np.random.default_rng(seed)
    z = (rng.normal(size=(n, m)) * 1.5).astype(dtype)
    Y = rng.poisson(2.0, size=(n, m)).astype(dtype)      # zeros included
    Y[0] = 0
    return z, np.exp(z), Y


def test_reference_poisson_by_hand():
    Y = np.array([[0.0, 2.0], [3.0, 1.0]])
    z = np.array([[0.5, math.log(2.0)], [0.0, -1.0]])
    a = R.activation("exp", z)
    # row 1: 0 log 0 - 0 + e^0.5 = e^0.5; 2 log(2/2) - 2 + 2 = 0
    # row 2: 3 log 3 - 3 + 1; 1 log(1/e^-1) - 1 + e^-1 = 1 - 1 + e^-1
    expected = (math.exp(0.5) + 3 * math.log(3) - 2 + math.exp(-1)) / 2
    assert R.loss_value("poisson", Y, a, z) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(R.output_delta("poisson", "exp", Y, z, a), (a - Y) / 2,
                               rtol=1e-15)
    np.testing.assert_allclose(R.activation_derivative("exp", z), np.exp(z), rtol=1e-15)


def test_reference_poisson_against_finite_differences():
    z, a, Y = _data(np.float64)
    h = 1e-6
    num = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        num[idx] = (R.loss_value("poisson", Y, np.exp(zp), zp)
                    - R.loss_value("poisson", Y, np.exp(zm), zm)) / (2 * h)
    np.testing.assert_allclose(R.output_delta("poisson", "exp", Y, z, a), num, rtol=1e-6,
                               atol=1e-9)
    # the chapter's chain sigma'(z) grad C(a) gives the same delta
    chain = R.activation_derivative("exp", z) * R.loss_gradient("poisson", Y, a)
    np.testing.assert_allclose(chain, num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_threads", [1, 2])
def test_c_exp_activation_equals_reference(dtype, n_threads):
    rng = np.random.default_rng(1)
    z = (rng.normal(size=(5000, 10)) * 3).astype(dtype)
    z[0, :4] = [-700, -30, 0, 30]
    a = _core.act_forward("exp", z, n_threads=n_threads)
    tol = 1e-12 if dtype == np.float64 else 1e-6
    with np.errstate(under="ignore"):
        np.testing.assert_allclose(a, R.activation("exp", z), rtol=tol, atol=0)
        np.testing.assert_allclose(_core.act_deriv("exp", z, a, n_threads=n_threads),
                                   R.activation_derivative("exp", z), rtol=tol, atol=0)
        np.testing.assert_allclose(_core.act_deriv("exp", z, n_threads=n_threads),
                                   R.activation_derivative("exp", z), rtol=tol, atol=0)
    assert np.array_equal(a, _core.act_forward("exp", z, n_threads=1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_c_poisson_loss_equals_reference(dtype):
    z, _, Y = _data(dtype)
    a = _core.act_forward("exp", z)
    value, delta = _core.loss("poisson", "exp", Y, z, a)
    assert value == pytest.approx(R.loss_value("poisson", Y, a, z), rel=TOL[dtype])
    np.testing.assert_allclose(delta, R.output_delta("poisson", "exp", Y, z, a),
                               rtol=TOL[dtype], atol=TOL[dtype] * np.abs(a).max() / len(z))


@pytest.mark.parametrize("dtype", DTYPES)
def test_network_gradients_equal_reference(dtype):
    """A 4-6-2 tanh network with an exp output: the engine's backward pass (chapter 5) is
    the reference's."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(17, 4)).astype(dtype)
    Y = rng.poisson(1.5, size=(17, 2)).astype(dtype)
    net = fm.MLP([4, 6, 2], activation="tanh", loss="poisson", dtype=dtype, seed=3)
    assert net.output == "exp"
    trace = net.forward(X)
    grads = net.backward(trace, Y)
    ref = R.backward(R.forward(X, net.weights, net.biases, ["tanh", "exp"]), Y, net.weights,
                     ["tanh", "exp"], "poisson")
    for l in (1, 2):
        np.testing.assert_allclose(grads.dW[l], ref.dW[l], rtol=TOL[dtype],
                                   atol=TOL[dtype] * np.abs(ref.dW[l]).max())
        np.testing.assert_allclose(grads.db[l], ref.db[l], rtol=TOL[dtype],
                                   atol=TOL[dtype] * np.abs(ref.db[l]).max())
    assert grads.loss == pytest.approx(ref.loss, rel=TOL[dtype])
    if dtype == np.float64:
        report = fm.gradcheck(net, X, Y)
        assert report.ok


def test_mlp_fits_a_poisson_rate():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(600, 2))
    rate = np.exp(0.8 * X[:, 0] - 0.5 * X[:, 1])
    y = rng.poisson(rate).astype(float)
    net = fm.MLP([2, 1], loss="poisson", seed=0)
    net.fit(X, y, optimizer=fm.optim.SGD(lr=0.05), batch_size=32, epochs=60)
    W, b = net.weights[0][:, 0], net.biases[0][0]
    np.testing.assert_allclose(W, [0.8, -0.5], atol=0.12)
    assert abs(b) < 0.12
    assert np.all(net.predict(X) > 0)


def test_pairing_and_targets_are_checked():
    with pytest.raises(ValueError, match="exp output"):
        _core.Engine([2, 1], [_core.ACTIVATION_CODES["linear"]], _core.LOSS_CODES["poisson"])
    with pytest.raises(ValueError, match="rejected"):
        _core.loss("poisson", "linear", np.ones((2, 1)), np.zeros((2, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="exp"):
        fm.MLP([2, 1], loss="poisson", output="linear")
    with pytest.raises(ValueError, match="exp output"):
        R.output_delta("poisson", "linear", np.ones((2, 1)), np.zeros((2, 1)),
                       np.ones((2, 1)))
    with pytest.raises(ValueError, match=">= 0"):
        R.loss_value("poisson", -np.ones((2, 1)), np.ones((2, 1)))
    with pytest.raises(ValueError, match=">= 0"):
        fm.MLP([2, 1], loss="poisson", seed=0).fit(np.zeros((3, 2)), [1.0, -1.0, 0.0],
                                                   epochs=1)
    assert fm.losses.get_loss("poisson_deviance").name == "poisson"
    assert fm.activations.canonical_name("Exponential") == "exp"
