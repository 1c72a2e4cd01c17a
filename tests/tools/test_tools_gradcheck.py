"""fastmlp.gradcheck: finite differences vs backpropagation."""
import warnings

import numpy as np
import pytest

reference = pytest.importorskip("fastmlp.reference")
from fastmlp.gradcheck import (GradcheckError, GradcheckReport,  # noqa: E402
                               GradcheckWarning, gradcheck)


class RefModel:
    """A model object with the MLP interface, backed by fastmlp.reference (pure NumPy)."""

    def __init__(self, sizes, activations, loss, dtype=np.float64, seed=0, leaky_alpha=0.01):
        self.layer_sizes = list(sizes)
        self.activations = list(activations)
        self.dtype = np.dtype(dtype)
        self.loss = loss
        self.leaky_alpha = leaky_alpha
        W, b, al = reference.init_params(sizes, activations, seed=seed, dtype=dtype)
        rng = np.random.default_rng(seed + 1)
        self._W = W
        self._b = [(0.3 * rng.standard_normal(v.shape)).astype(dtype) for v in b]
        self._al = [None if a is None else (a + 0.1 * rng.standard_normal(a.shape)).astype(dtype)
                    for a in al]

    weights = property(lambda self: self._W)
    biases = property(lambda self: self._b)
    alphas = property(lambda self: self._al)

    def forward(self, X, keep=True):
        return reference.forward(np.asarray(X, self.dtype), self._W, self._b, self.activations,
                                 self._al, self.leaky_alpha)

    def backward(self, trace, y, loss=None):
        loss = loss or self.loss
        Y = reference.encode_targets(loss, y, self.layer_sizes[-1], dtype=self.dtype)
        return reference.backward(trace, Y, self._W, self.activations, loss, self._al,
                                  self.leaky_alpha)


def _data(n_in, n, loss, n_out, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in))
    if loss == "square":
        y = rng.standard_normal((n, n_out))
    elif loss in ("hinge", "logistic"):
        y = rng.choice([-1.0, 1.0], size=(n, n_out))
    else:
        y = rng.integers(0, n_out, size=n)
    return X, y


def _params(model):
    return [p.copy() for p in model.weights + model.biases + [a for a in model.alphas
                                                               if a is not None]]


def _bitwise_equal(before, model):
    after = [p for p in model.weights + model.biases + [a for a in model.alphas
                                                         if a is not None]]
    return all(u.tobytes() == v.tobytes() for u, v in zip(before, after))


SMOOTH = ["linear", "sigmoid", "tanh"]
KINKED = ["relu", "leaky_relu", "prelu", "piecewise_linear"]


@pytest.mark.parametrize("act", SMOOTH + KINKED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_passes_every_activation(act, dtype):
    m = RefModel([3, 5, 4, 2], [act, act, "linear"], "square", dtype=dtype, seed=3)
    X, y = _data(3, 6, "square", 2)
    before = _params(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        rep = gradcheck(m, X, y)
    assert isinstance(rep, GradcheckReport)
    assert rep.ok, str(rep)
    names = [r.name for r in rep]
    expected = ["W1", "b1", "W2", "b2", "W3", "b3"]
    if act == "prelu":
        expected = ["W1", "b1", "alpha1", "W2", "b2", "alpha2", "W3", "b3"]
    assert names == expected
    assert sum(r.n_checked for r in rep) > 0
    assert _bitwise_equal(before, m)


@pytest.mark.parametrize("loss,out", [("square", "linear"), ("square", "sigmoid"),
                                      ("hinge", "tanh"), ("logistic", "linear"),
                                      ("cross_entropy", "softmax"), ("margin", "linear")])
def test_passes_every_loss(loss, out):
    m = RefModel([4, 6, 3], ["tanh", out], loss, seed=1)
    X, y = _data(4, 7, loss, 3, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        rep = gradcheck(m, X, y)
    assert rep.ok, str(rep)
    assert rep.loss_name == loss
    assert rep.loss > 0


def test_fails_on_tampered_backward_and_restores_params():
    class Tampered(RefModel):
        def backward(self, trace, y, loss=None):
            g = super().backward(trace, y, loss)
            g.dW[2] = g.dW[2] * 1.01          # 1 % off: a subtle bug
            return g

    m = Tampered([3, 4, 2], ["sigmoid", "linear"], "square")
    X, y = _data(3, 5, "square", 2)
    before = _params(m)
    rep = gradcheck(m, X, y)
    assert not rep.ok
    assert rep.failed == ["W2"]
    assert rep["W1"].passed and not rep["W2"].passed
    assert "FAIL" in str(rep)
    with pytest.raises(GradcheckError, match="W2"):
        rep.raise_if_failed()
    assert isinstance(GradcheckError("x"), AssertionError)
    assert _bitwise_equal(before, m)


def test_fails_on_wrong_loss_gradient():
    # a backward that uses the gradient of the SUM instead of the MEAN over the batch
    class SumNotMean(RefModel):
        def backward(self, trace, y, loss=None):
            g = super().backward(trace, y, loss)
            n = trace.a[0].shape[0]
            g.dW = [None] + [d * n for d in g.dW[1:]]
            g.db = [None] + [d * n for d in g.db[1:]]
            return g

    m = SumNotMean([2, 3, 1], ["tanh", "linear"], "square")
    X, y = _data(2, 4, "square", 1)
    rep = gradcheck(m, X, y)
    assert not rep.ok and set(rep.failed) == {"W1", "b1", "W2", "b2"}


def test_restores_params_after_exception():
    class Exploding(RefModel):
        calls = 0

        def forward(self, X, keep=True):
            Exploding.calls += 1
            if Exploding.calls == 6:      # in the middle of perturbing an entry
                raise RuntimeError("boom")
            return super().forward(X, keep)

    m = Exploding([3, 4, 2], ["tanh", "linear"], "square")
    X, y = _data(3, 5, "square", 2)
    before = _params(m)
    with pytest.raises(RuntimeError, match="boom"):
        gradcheck(m, X, y)
    assert _bitwise_equal(before, m)


def test_max_checks_params_and_seed():
    m = RefModel([10, 12, 3], ["tanh", "linear"], "square")
    X, y = _data(10, 4, "square", 3)
    rep = gradcheck(m, X, y, max_checks=5, params=["W1", "b2"], seed=7)
    assert [r.name for r in rep] == ["W1", "b2"]
    assert rep["W1"].n_checked == 5 and rep["W1"].n_entries == 120
    assert rep["b2"].n_checked == 3
    assert np.sum(~np.isnan(rep.numeric["W1"])) == 5
    rep2 = gradcheck(m, X, y, max_checks=5, params="W1", seed=7)
    np.testing.assert_array_equal(np.isnan(rep.numeric["W1"]), np.isnan(rep2.numeric["W1"]))
    assert [r.name for r in gradcheck(m, X, y, params="b")] == ["b1", "b2"]
    with pytest.raises(ValueError, match="unknown parameter"):
        gradcheck(m, X, y, params="W9")
    with pytest.raises(ValueError, match="max_checks"):
        gradcheck(m, X, y, max_checks=0)


def test_step_units_warn_and_kinks_are_skipped():
    m = RefModel([2, 3, 1], ["step", "linear"], "square")
    X, y = _data(2, 4, "square", 1)
    with pytest.warns(GradcheckWarning, match="step"):
        rep = gradcheck(m, X, y)
    assert rep.ok
    assert np.all(rep.analytic["W1"] == 0)       # below a step layer: zero by convention

    # a relu unit exactly at its kink: z = 0 for every sample (zero weights and bias)
    m = RefModel([2, 3, 1], ["relu", "linear"], "square")
    m.weights[0][:, 0] = 0
    m.biases[0][0] = 0
    with pytest.warns(GradcheckWarning, match="kink"):
        rep = gradcheck(m, X, y)
    assert rep.ok
    assert rep["b1"].n_skipped >= 1
    assert any("kink" in w for w in rep.warnings)


def test_report_table():
    m = RefModel([2, 3, 1], ["prelu", "sigmoid"], "square")
    X, y = _data(2, 4, "square", 1)
    rep = gradcheck(m, X, y)
    text = str(rep)
    for name in ("W1", "b1", "alpha1", "W2", "b2", "max abs err", "max rel err"):
        assert name in text
    assert "all gradients agree" in text
    assert rep.raise_if_failed() is rep
    r = rep["alpha1"]
    assert r.shape == (3,) and r.max_rel_err < 1e-5 and r.max_abs_err < 1e-8
    with pytest.raises(KeyError):
        rep["alpha2"]


# ------------------------------------------------------------------------------------------
# the real model (C engine)
# ------------------------------------------------------------------------------------------
import fastmlp  # noqa: E402

needs_mlp = pytest.mark.skipif(not hasattr(fastmlp, "MLP"), reason="fastmlp.MLP not built")


def _mlp(sizes, act, loss, dtype="float64", seed=0, output=None):
    net = fastmlp.MLP(sizes, activation=act, output=output, loss=loss, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed + 100)
    for b in net.biases:                      # non-zero biases: no unit starts at a kink
        b[...] = 0.3 * rng.standard_normal(b.shape)
    for a in net.alphas:
        if a is not None:
            a[...] += 0.1 * rng.standard_normal(a.shape)
    return net


@needs_mlp
@pytest.mark.parametrize("act", SMOOTH + KINKED)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_mlp_every_activation(act, dtype):
    net = _mlp([3, 6, 5, 2], act, "square", dtype=dtype, seed=4)
    X, y = _data(3, 8, "square", 2, seed=5)
    before = _params(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        rep = fastmlp.gradcheck(net, X, y)
    assert rep.ok, str(rep)
    assert rep.dtype == dtype
    assert ("alpha1" in [r.name for r in rep]) == (act == "prelu")
    assert sum(r.n_checked for r in rep) >= 0.9 * sum(r.n_entries for r in rep)
    assert _bitwise_equal(before, net)


@needs_mlp
@pytest.mark.parametrize("loss,out,n_out", [("square", "sigmoid", 2), ("hinge", "tanh", 1),
                                            ("logistic", "linear", 1),
                                            ("cross_entropy", "softmax", 3),
                                            ("margin", "linear", 3)])
def test_mlp_every_loss(loss, out, n_out):
    net = _mlp([4, 5, n_out], "tanh", loss, output=out, seed=2)
    X, y = _data(4, 9, loss, n_out, seed=3)
    if loss in ("hinge", "logistic"):
        y = (y[:, 0] > 0).astype(int)          # binary labels 0/1 for one output unit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GradcheckWarning)
        rep = fastmlp.gradcheck(net, X, y)
    assert rep.ok, str(rep)
    assert rep.loss_name == loss


@needs_mlp
def test_mlp_custom_loss_with_wrong_gradient_fails():
    from fastmlp.losses import Loss

    class HalfSquare(Loss):
        """value: the square loss; gradient: half of the right one (a bug)."""
        name = "half_square"

        def value(self, Y, a, z=None):
            return float(np.sum((Y - a) ** 2) / Y.shape[0])

        def gradient(self, Y, a):
            return (a - Y) / Y.shape[0]       # should be 2 (a - Y) / n

    class RightSquare(HalfSquare):
        def gradient(self, Y, a):
            return 2 * (a - Y) / Y.shape[0]

    net = _mlp([3, 4, 1], "tanh", "square", seed=1)
    X, y = _data(3, 6, "square", 1)
    before = _params(net)
    assert fastmlp.gradcheck(net, X, y, loss=RightSquare()).ok
    rep = fastmlp.gradcheck(net, X, y, loss=HalfSquare())
    assert not rep.ok and set(rep.failed) == {"W1", "b1", "W2", "b2"}
    with pytest.raises(AssertionError):
        rep.raise_if_failed()
    assert _bitwise_equal(before, net)


@needs_mlp
def test_mlp_fitted_classifier_with_string_like_labels():
    # labels that are not 0..K-1: gradcheck must encode them with the model's classes_
    net = _mlp([2, 5, 3], "tanh", "cross_entropy", seed=0)
    X, _ = _data(2, 12, "square", 1)
    y = np.array([10, 20, 30] * 4)
    net.fit(X, y, epochs=2, lr=0.01, batch_size=None)
    rep = fastmlp.gradcheck(net, X[:6], y[:6])
    assert rep.ok, str(rep)


@needs_mlp
def test_mlp_big_layer_sampled():
    net = _mlp([30, 40, 10], "sigmoid", "cross_entropy", seed=0)
    X, y = _data(30, 5, "cross_entropy", 10)
    rep = fastmlp.gradcheck(net, X, y, max_checks=20, seed=3)
    assert rep.ok, str(rep)
    assert rep["W1"].n_checked == 20 and rep["W1"].n_entries == 1200
    assert rep["b2"].n_checked == 10
