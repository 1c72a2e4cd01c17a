"""Models, losses and errors of the user-facing API."""
import copy
import pickle

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import losses

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0])


def blobs(n=120, k=3, d=2, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 4, size=(k, d))
    y = rng.integers(0, k, size=n)
    X = centers[y] + rng.normal(0, 0.5, size=(n, d))
    return X, y


# ---- construction ----------------------------------------------------------------------------
def test_parameters_are_engine_views():
    net = fm.MLP([3, 5, 2], activation="prelu", seed=0)
    th = net.engine.theta
    for W in net.weights:
        assert np.shares_memory(W, th)
    for b in net.biases:
        assert np.shares_memory(b, th)
    assert np.shares_memory(net.alphas[0], th)
    assert net.alphas[1] is None
    assert np.all(net.alphas[0] == 0.25)
    net.weights[0][...] = 0.0   # writing changes the model
    assert np.all(net.engine.weights()[0] == 0)
    assert net.n_params == 3 * 5 + 5 * 2 + 5 + 2 + 5


def test_same_seed_same_model_and_reference_init():
    a = fm.MLP([4, 6, 3], activation="tanh", seed=7)
    b = fm.MLP([4, 6, 3], activation="tanh", seed=7)
    c = fm.MLP([4, 6, 3], activation="tanh", seed=8)
    assert np.array_equal(a.theta, b.theta)
    assert not np.array_equal(a.theta, c.theta)
    ref = pytest.importorskip("fastmlp.reference")
    W, b_, _ = ref.init_params([4, 6, 3], ["tanh", "linear"], seed=7)
    assert len(a.weights) == len(W) == 2
    for Wm, Wr in zip(a.weights, W):
        np.testing.assert_array_equal(Wm, Wr)


@pytest.mark.parametrize("init", ["glorot", "he", "uniform", "normal"])
def test_inits(init):
    net = fm.MLP([50, 40, 2], init=init, seed=0)
    W = net.weights[0]
    assert W.std() > 0
    if init == "he":
        assert np.abs(W).max() <= np.sqrt(6 / 50)
    net2 = fm.MLP([3, 2], init=lambda rng, i, o, act: np.ones((i, o)))
    assert np.all(net2.weights[0] == 1)


def test_output_defaults_from_loss_and_validation():
    assert fm.MLP([2, 3, 3], loss="ce").output == "softmax"
    assert fm.MLP([2, 3, 1], loss="hinge").output == "linear"
    assert fm.MLP([2, 3, 1], loss="square", output="sigmoid").output == "sigmoid"
    with pytest.raises(ValueError, match="softmax"):
        fm.MLP([2, 3, 3], loss="cross_entropy", output="linear")
    with pytest.raises(ValueError, match="output activation"):
        fm.MLP([2, 3, 1], loss="hinge", output="sigmoid")
    with pytest.raises(ValueError, match="unknown activation"):
        fm.MLP([2, 3, 1], activation="swish")
    with pytest.raises(ValueError, match="unknown loss"):
        fm.MLP([2, 3, 1], loss="huber")
    with pytest.raises(ValueError, match="output"):
        fm.MLP([2, 3, 1], activation="softmax")
    with pytest.raises(ValueError):
        fm.MLP([2])
    with pytest.raises(ValueError):
        fm.MLP([2, 0, 1])
    with pytest.raises(TypeError):
        fm.MLP([2, 3, 1], dtype="int32")


def test_repr_and_summary():
    net = fm.MLP([2, 4, 1], activation="tanh", loss="square", seed=0)
    assert "MLP([2, 4, 1]" in repr(net) and "17 parameters" in repr(net)
    s = net.summary()
    assert "tanh" in s and "linear" in s and "17" in s and "2 -> 4" in s


# ---- forward / backward -----------------------------------------------------------------------
def test_forward_trace_chapter_notation():
    net = fm.MLP([2, 3, 2], activation="sigmoid", output="linear", seed=1)
    X = np.random.default_rng(0).normal(size=(5, 2))
    tr = net.forward(X)
    assert tr.z[0] is None and np.array_equal(tr.a[0], X)
    W, b = net.weights, net.biases
    z1 = X @ W[0] + b[0]
    np.testing.assert_allclose(tr.z[1], z1, rtol=1e-12)
    np.testing.assert_allclose(tr.a[1], 1 / (1 + np.exp(-z1)), rtol=1e-12)
    np.testing.assert_allclose(tr.a[2], tr.a[1] @ W[1] + b[1], rtol=1e-12)
    np.testing.assert_allclose(net.forward(X, keep=False), tr.output, rtol=0)


@pytest.mark.parametrize("loss,output,act", [("square", "linear", "tanh"),
                                             ("cross_entropy", "softmax", "relu"),
                                             ("margin", "linear", "prelu"),
                                             ("logistic", "tanh", "sigmoid")])
def test_backward_matches_finite_differences(loss, output, act):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 3))
    y = rng.integers(0, 3, 6) if loss in ("cross_entropy", "margin") else (
        rng.integers(0, 2, 6) if loss == "logistic" else rng.normal(size=6))
    n_out = 3 if loss in ("cross_entropy", "margin") else 1
    net = fm.MLP([3, 4, n_out], activation=act, output=output, loss=loss, seed=2)
    g = net.backward(net.forward(X), y)
    assert len(g.delta) == 3 and g.delta[0] is None
    assert g.dW[1].shape == (3, 4) and g.db[2].shape == (n_out,)
    flat = np.concatenate([d.ravel() for d in g.as_list()])
    np.testing.assert_array_equal(flat, net.grad)
    theta = net.theta
    eps = 1e-6
    for i in rng.choice(net.n_params, 8, replace=False):
        old = theta[i]
        theta[i] = old + eps
        up = net.backward(net.forward(X), y).loss
        theta[i] = old - eps
        dn = net.backward(net.forward(X), y).loss
        theta[i] = old
        np.testing.assert_allclose(flat[i], (up - dn) / (2 * eps), rtol=1e-4, atol=1e-7)


def test_backward_other_builtin_loss_and_reference():
    ref = pytest.importorskip("fastmlp.reference")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 3))
    y = rng.normal(size=(7, 2))
    net = fm.MLP([3, 5, 2], activation="tanh", loss="hinge", seed=0)
    g = net.backward(net.forward(X), y, loss="square")   # a different loss than the model's
    tr = ref.forward(X, net.weights, net.biases, ["tanh", "linear"])
    gr = ref.backward(tr, y, net.weights, ["tanh", "linear"], "square")
    for l in (1, 2):
        np.testing.assert_allclose(g.dW[l], gr.dW[l], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(g.delta[l], gr.delta[l], rtol=1e-10, atol=1e-14)
    assert g.loss == pytest.approx(gr.loss, rel=1e-12)


# ---- predictions, classes, scores --------------------------------------------------------------
def test_string_labels_classes_and_proba():
    X, yi = blobs()
    names = np.array(["cat", "dog", "emu"])
    y = names[yi]
    net = fm.MLP([2, 16, 3], loss="cross_entropy", seed=0)
    with pytest.raises(fm.NotFittedError):
        net.predict(X)
    assert isinstance(fm.NotFittedError("x"), ValueError)
    assert isinstance(fm.NotFittedError("x"), AttributeError)
    net.fit(X, y, optimizer="adam", lr=0.02, epochs=40, batch_size=16)
    assert list(net.classes_) == ["cat", "dog", "emu"]
    assert set(net.predict(X)) <= set(names)
    assert net.score(X, y) > 0.95
    P = net.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-12)
    np.testing.assert_array_equal(names[P.argmax(1)], net.predict(X))


def test_binary_hinge_and_logistic_labels():
    X, y = blobs(k=2, seed=4)
    lab = np.where(y == 1, "yes", "no")
    for loss in ("hinge", "logistic"):
        net = fm.MLP([2, 8, 1], activation="tanh", loss=loss, seed=0)
        net.fit(X, lab, optimizer="adam", lr=0.05, epochs=30, batch_size=8)
        assert list(net.classes_) == ["no", "yes"]
        assert net.score(X, lab) > 0.95
        assert net.decision_function(X).shape == (X.shape[0],)
    P = net.predict_proba(X)
    assert P.shape == (X.shape[0], 2)
    np.testing.assert_allclose(P.sum(1), 1)
    net_h = fm.MLP([2, 3, 1], loss="hinge", seed=0)
    net_h.fit(X, y, epochs=1)
    with pytest.raises(ValueError, match="predict_proba"):
        net_h.predict_proba(X)


def test_regression_predict_and_r2_and_before_fit():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(200, 2))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2
    net = fm.MLP([2, 16, 1], activation="tanh", loss="square", seed=0)
    assert net.predict(X).shape == (200, 1)    # raw outputs before fit: allowed
    net.fit(X, y, optimizer="adam", lr=0.01, epochs=60, batch_size=16)
    assert net.predict(X).shape == (200,)
    assert net.score(X, y) > 0.9
    with pytest.raises(ValueError, match="predict_proba"):
        net.predict_proba(X)


def test_bad_inputs_clear_errors():
    X, y = blobs(n=40, k=3)
    net = fm.MLP([2, 4, 1], loss="hinge", seed=0)
    with pytest.raises(ValueError, match="binary"):
        net.fit(X, y)                          # labels {0,1,2} for a binary loss
    net = fm.MLP([2, 4, 3], loss="ce", seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        net.fit(X, y, batch_size=0)
    with pytest.raises(ValueError, match="lr"):
        net.fit(X, y, lr=-0.1)
    with pytest.raises(ValueError, match="different lengths"):
        net.fit(X, y[:-1])
    with pytest.raises(ValueError, match="features"):
        net.fit(X[:, :1], y)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        net.fit(Xn, y)
    with pytest.raises(ValueError, match="NaN"):
        net.predict(Xn)
    with pytest.raises(ValueError, match="unknown loss"):
        net.fit(X, y, loss="nope")
    with pytest.raises(ValueError, match="continuous"):
        net.fit(X, y + 0.5)
    with pytest.raises(ValueError, match="classes"):
        fm.MLP([2, 4, 5], loss="ce").fit(X, np.array(list("abc"))[y])
    net.fit(X, y, epochs=1)
    with pytest.raises(ValueError, match="features"):
        net.predict(np.zeros((3, 5)))


# ---- losses -----------------------------------------------------------------------------------
def test_loss_registry_and_tables():
    assert isinstance(losses.get_loss("ce"), losses.CrossEntropyLoss)
    assert isinstance(losses.get_loss("MSE"), losses.SquareLoss)
    assert isinstance(losses.get_loss("large-margin"), losses.MarginLoss)
    assert losses.get_loss("bce").code == fm._core.LOSS_CODES["logistic"]
    for ambiguous in ("log_loss", "log", "logloss"):   # logistic or softmax cross-entropy?
        with pytest.raises(ValueError, match="ambiguous.*'logistic'.*'cross_entropy'"):
            losses.get_loss(ambiguous)
        with pytest.raises(ValueError, match="loss: .*ambiguous"):
            fm.MLP([2, 3], loss=ambiguous)
    for name, cls in losses.LOSSES.items():
        assert fm._core.LOSS_CODES[name] == cls.code
    ce = losses.CrossEntropyLoss()
    assert ce.allowed_outputs == ("softmax",)
    with pytest.raises(ValueError):
        ce.check_output("linear")
    losses.SquareLoss().check_output("sigmoid")
    with pytest.raises(ValueError, match="unknown loss"):
        losses.get_loss("nope")


@pytest.mark.parametrize("name", ["square", "hinge", "logistic", "cross_entropy", "margin"])
def test_numpy_loss_value_and_gradient_match_c(name):
    rng = np.random.default_rng(1)
    n, m = 9, 3
    loss = losses.get_loss(name)
    z = rng.normal(size=(n, m))
    if name == "cross_entropy":
        a = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        act = "softmax"
    else:
        a = z.copy()
        act = "linear"
    if loss.encoding == "real":
        Y = rng.normal(size=(n, m))
    elif loss.encoding == "pm1":
        Y = rng.choice([-1.0, 1.0], size=(n, m))
    else:
        Y = np.eye(m)[rng.integers(0, m, n)]
    v, delta = fm._core.loss(name, act, Y, z, a)
    assert loss.value(Y, a, z) == pytest.approx(v, rel=1e-12)
    if act == "linear":
        np.testing.assert_allclose(loss.gradient(Y, a), delta, rtol=1e-12, atol=1e-15)


def test_encodings():
    sq, hi, ce, mg = (losses.get_loss(n) for n in ("square", "hinge", "ce", "margin"))
    Y, cl, mode = hi.encode(np.array([0, 1, 1]), 1)
    np.testing.assert_array_equal(Y[:, 0], [-1, 1, 1])
    assert mode == "binary"
    Y, cl, mode = hi.encode(np.array([0, 1, 2]), 3)     # one-vs-rest on 3 units
    assert mode == "ovr" and Y.min() == -1
    Y, cl, mode = ce.encode(np.array([2, 0]), 3)
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0]])
    ce.encode(np.array([[0.2, 0.8, 0.0]]), 3)            # probabilities are fine for CE
    with pytest.raises(ValueError, match="one-hot"):
        mg.encode(np.array([[0.2, 0.8, 0.0]]), 3)        # but not for the margin loss
    with pytest.raises(ValueError, match="not among"):
        ce.encode(np.array([5]), 3, classes=np.arange(3))
    with pytest.raises(ValueError):
        sq.encode(np.array(["a"]), 1)


class MySquare(losses.Loss):
    """The square loss written by a user."""

    def value(self, Y, a):
        return float(np.sum((Y - a) ** 2) / len(Y))

    def gradient(self, Y, a):
        return 2 * (a - Y) / len(Y)


def test_user_defined_loss_trains_like_builtin():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1
    kw = dict(optimizer=fm.optim.SGD(lr=0.05, momentum=0.5), batch_size=16, epochs=5, seed=3)
    a = fm.MLP([3, 8, 1], activation="tanh", seed=1)
    ha = a.fit(X, y, loss="square", **kw)
    kw["optimizer"] = fm.optim.SGD(lr=0.05, momentum=0.5)
    b = fm.MLP([3, 8, 1], activation="tanh", seed=1)
    hb = b.fit(X, y, loss=MySquare(), **kw)
    assert hb.params["per_batch"]
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hb.loss, ha.loss, rtol=1e-10)
    g = b.backward(b.forward(X[:5]), y[:5])
    g2 = a.backward(a.forward(X[:5]), y[:5])
    np.testing.assert_allclose(g.dW[1], g2.dW[1], rtol=1e-10, atol=1e-14)


# ---- perceptron -------------------------------------------------------------------------------
def test_perceptron_fails_on_xor_mlp_solves_it():
    p = fm.Perceptron(2, 1, seed=0).fit(XOR_X, XOR_Y, epochs=100)
    assert p.converged_ is False
    assert p.score(XOR_X, XOR_Y) <= 0.75
    assert len(p.errors_) == 100
    for act, loss in (("tanh", "square"), ("sigmoid", "logistic")):
        net = fm.MLP([2, 4, 1], activation=act, loss=loss, seed=0)
        net.fit(XOR_X, XOR_Y, optimizer=fm.optim.Adam(lr=0.05), batch_size=None, epochs=1500)
        pred = net.predict(XOR_X)
        if loss == "square":
            pred = (pred > 0.5).astype(int)
        np.testing.assert_array_equal(pred, XOR_Y)


def test_perceptron_converges_on_separable_and_matches_reference():
    AND = np.array([0, 0, 0, 1])
    p = fm.Perceptron(2, 1, seed=3).fit(XOR_X, AND)
    assert p.converged_ and p.score(XOR_X, AND) == 1.0
    ref = pytest.importorskip("fastmlp.reference")
    W, b, errors = ref.perceptron_train(XOR_X, AND, seed=3)
    np.testing.assert_array_equal(p.W, W)
    np.testing.assert_array_equal(p.b, b)
    assert p.errors_ == errors
    # independent outputs: AND and OR at once, and sign units with string labels
    Y2 = np.stack([AND, np.array([0, 1, 1, 1])], axis=1)
    p2 = fm.Perceptron(2, 2, seed=0).fit(XOR_X, Y2)
    assert p2.converged_ and p2.score(XOR_X, Y2) == 1.0
    lab = np.array(["no", "no", "no", "yes"])
    p3 = fm.Perceptron(2, activation="sign", seed=0).fit(XOR_X, lab)
    assert list(p3.predict(XOR_X)) == list(lab)
    with pytest.raises(ValueError, match="threshold"):
        fm.Perceptron(2, activation="tanh")
    with pytest.raises(ValueError, match="2 classes"):
        fm.Perceptron(2).fit(XOR_X, [0, 1, 2, 0])
    with pytest.raises(fm.NotFittedError):
        fm.Perceptron(2).predict(XOR_X)


# ---- pickling / copying -----------------------------------------------------------------------
def test_pickle_and_deepcopy():
    X, y = blobs(n=60)
    net = fm.MLP([2, 6, 3], loss="ce", dtype="float32", seed=0)
    net.fit(X, y, epochs=3)
    for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert clone.dtype == np.float32
        np.testing.assert_array_equal(clone.predict_proba(X), net.predict_proba(X))
        assert not np.shares_memory(clone.theta, net.theta)
        np.testing.assert_array_equal(clone.classes_, net.classes_)
    clone = copy.deepcopy(net)
    clone.fit(X, y, epochs=1)   # continues with its own copy of the optimiser
    assert not np.array_equal(clone.theta, net.theta)


def test_show_config_and_threads():
    info = fm.show_config(print_=False)
    for k in ("compiler", "openmp", "threads", "cpu_features", "gemm_kernels", "numpy"):
        assert k in info
    n = fm.get_num_threads()
    fm.set_num_threads(1)
    assert fm.get_num_threads() == 1
    fm.set_num_threads(n)
    with pytest.raises(ValueError):
        fm.set_num_threads(0)


def test_fit_loss_sets_default_output_and_keeps_weights():
    X, y = blobs(n=60)
    net = fm.MLP([2, 5, 3], activation="relu", seed=0)
    assert net.loss is None and net.output == "linear"
    W0 = net.weights[0].copy()
    net.fit(X, y, loss="ce", epochs=0)
    assert net.output == "softmax" and net.loss.name == "cross_entropy"
    np.testing.assert_array_equal(net.weights[0], W0)
    net.reset()
    assert net.epochs_trained_ == 0 and not hasattr(net, "classes_")
    with pytest.raises(ValueError, match="softmax"):
        fm.MLP([2, 5, 3], output="tanh").fit(X, y, loss="ce")


def test_gradcheck_is_the_package_level_checker():
    """``fm.gradcheck`` is the gradient checker itself: it passes a correct model and leaves
    the parameters bitwise unchanged."""
    from fastmlp.gradcheck import GradcheckReport, gradcheck
    assert fm.gradcheck is gradcheck
    net = fm.MLP([3, 4, 2], activation="tanh", loss="square", seed=0)
    theta = net.theta.copy()
    X = np.random.default_rng(0).normal(size=(5, 3))
    report = fm.gradcheck(net, X, X[:, :2])
    assert isinstance(report, GradcheckReport) and report.ok
    np.testing.assert_array_equal(net.theta, theta)
