"""ONNX export (fastmlp.onnx): onnxruntime's outputs equal the model's own predictions.

Labels are identical; values agree to 1e-12 (float64) or 1e-5 (float32) relative to the
output's scale (max |value|: an element that is the small difference of large terms has
no meaningful relative error of its own), for every activation, every loss's output form,
both dtypes and batches of 1 and 1,000 rows. Skipped, with the reason, only where the
onnx extra (onnx, onnxruntime; skl2onnx for the converters) is not installed.
"""
import subprocess
import sys
import warnings

import numpy as np
import pytest

import fastmlp as fm

_EXTRA = "the onnx extra is not installed (pip install onnx onnxruntime skl2onnx)"
onnx = pytest.importorskip("onnx", reason=_EXTRA)
ort = pytest.importorskip("onnxruntime", reason=_EXTRA)
fonnx = pytest.importorskip("fastmlp.onnx", reason=_EXTRA)

RTOL = {np.float64: 1e-12, np.float32: 1e-5}
DTYPES = ["float64", "float32"]
HIDDEN = ["step", "sign", "linear", "piecewise_linear", "sigmoid", "tanh", "relu",
          "leaky_relu", "prelu"]


def session(onx, threads=1):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(onx.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def run(onx, X):
    sess = session(onx)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"X": X})))


def assert_values(actual, expected, dtype):
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.dtype == np.dtype(dtype), (actual.dtype, dtype)
    expected = expected.reshape(actual.shape)
    rtol = RTOL[np.dtype(dtype).type]
    scale = max(float(np.max(np.abs(expected))), np.finfo(np.float64).tiny)
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def assert_labels(actual, expected):
    expected = np.asarray(expected)
    actual = np.asarray(actual)
    assert actual.shape == expected.shape
    if expected.dtype.kind in "US":
        assert actual.dtype == object and all(isinstance(a, str) for a in actual.ravel())
    else:
        assert actual.dtype == expected.dtype, (actual.dtype, expected.dtype)
    assert np.array_equal(actual.astype(expected.dtype), expected)


def data(n=1000, d=6, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    X[:5] = 0.0      # rows whose first z is exactly the bias: activations at their kinks
    return X.astype(dtype)


def kinks(bias):
    """Biases at the activations' special points: z = 0 (step 1/2, sign 0, relu) and
    z = +-1/2 (the piecewise-linear ramp's ends), hit exactly by the all-zero rows."""
    bias[:4] = [0.0, 0.5, -0.5, 0.0][:len(bias[:4])]


def check_model(onx, expect_outputs):
    onnx.checker.check_model(onx, full_check=True)
    assert [o.name for o in onx.graph.output] == expect_outputs
    assert [i.name for i in onx.graph.input] == ["X"]


# ---------------------------------------------------------------------------------------------
# fastmlp.MLP: every activation, every loss's output form
# ---------------------------------------------------------------------------------------------
def fit_mlp(hidden, loss, y, dtype, n_out, output=None, **kw):
    X = data(dtype=dtype)
    net = fm.MLP([X.shape[1], 9, 7, n_out], activation=hidden, loss=loss, output=output,
                 dtype=dtype, seed=3, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X[:300], y[:300], epochs=2, batch_size=50, seed=1)
    kinks(net.biases[0])
    if net.alphas[0] is not None:      # one learned slope per neuron, all different
        for a in net.alphas:
            if a is not None:
                a[...] = np.linspace(0.05, 0.6, a.size)
    return net, X


LABELS = {
    "int": np.arange(1000) % 4,
    "str": np.array(["cat", "dog", "eel", "fox"])[np.arange(1000) % 4],
    "float": (np.arange(1000) % 4) * 2.0 - 1.0,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_mlp_softmax_classifier_every_activation(hidden, dtype):
    y = LABELS["str"]
    net, X = fit_mlp(hidden, "cross_entropy", y, dtype, 4)
    onx = fonnx.to_onnx(net)
    check_model(onx, ["label", "probabilities"])
    for rows in (X[:1], X):
        out = run(onx, rows)
        assert_labels(out["label"], net.predict(rows))
        assert_values(out["probabilities"], net.predict_proba(rows), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", [a for a in HIDDEN] + ["softmax"])
def test_mlp_output_activation_values(output, dtype):
    """Each activation as the output layer of a regression net, so its values themselves
    (kinks included) are compared, not only what a later layer makes of them."""
    X = data(dtype=dtype)
    net = fm.MLP([X.shape[1], 5], output=output, loss="square" if output != "softmax"
                 else None, dtype=dtype, seed=2, leaky_alpha=0.037)
    kinks(net.biases[0])
    if net.alphas[0] is not None:
        net.alphas[0][...] = np.linspace(0.05, 0.6, 5)
    onx = fonnx.to_onnx(net)
    check_model(onx, ["variable"])
    for rows in (X[:1], X):
        got = run(onx, rows)["variable"]
        assert_values(got, net.decision_function(rows), dtype)
    if output in ("step", "sign", "piecewise_linear"):   # the special points themselves
        z0 = net.forward(X[:1], keep=True).z[1][0]
        a0 = run(onx, X[:1])["variable"][0]
        want = {"step": [0.5, 1.0, 0.0, 0.5], "sign": [0.0, 1.0, -1.0, 0.0],
                "piecewise_linear": [0.5, 1.0, 0.0, 0.5]}[output]
        assert list(z0[:4]) == [0.0, 0.5, -0.5, 0.0]
        assert list(a0[:4]) == want


@pytest.mark.parametrize("dtype", DTYPES)
def test_leaky_relu_uses_the_models_alpha(dtype):
    X = data(dtype=dtype)
    for alpha in (0.01, 0.3, 1.7):
        net = fm.MLP([X.shape[1], 4], output="leaky_relu", dtype=dtype, seed=0,
                     leaky_alpha=alpha)
        got = run(fonnx.to_onnx(net), X)["variable"]
        assert_values(got, net.decision_function(X), dtype)
        assert np.any(got < 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", ["int", "str", "float"])
@pytest.mark.parametrize("loss,n_out,classes", [
    ("cross_entropy", 4, 4),      # softmax probabilities, argmax
    ("margin", 4, 4),             # scores, argmax
    ("logistic", 4, 4),           # one-vs-rest: normalised sigmoids
    ("hinge", 4, 4),              # one-vs-rest scores
    ("logistic", 1, 2),           # binary: [1 - p, p], label by the sign
    ("hinge", 1, 2),              # binary scores: [-s, s]
])
def test_mlp_every_loss_output_form(loss, n_out, classes, labels, dtype):
    y = LABELS[labels]
    if classes == 2:
        y = np.where(np.isin(y, np.unique(y)[:2]), np.unique(y)[0], np.unique(y)[1])
    net, X = fit_mlp("tanh", loss, y, dtype, n_out)
    onx = fonnx.to_onnx(net)
    check_model(onx, ["label", "probabilities"])
    proba = loss in ("cross_entropy", "logistic")
    for rows in (X[:1], X):
        out = run(onx, rows)
        assert_labels(out["label"], net.predict(rows))
        if proba:
            expect = net.predict_proba(rows)
        else:
            s = net.decision_function(rows)
            expect = np.column_stack([-s, s]) if s.ndim == 1 else s
        assert_values(out["probabilities"], expect, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_mlp_multilabel(loss, dtype):
    X = data(dtype=dtype)
    Y = (X[:, :3] + 0.3 * X[:, 3:] > 0).astype(int)
    net, _ = fit_mlp("relu", loss, Y, dtype, 3)
    onx = fonnx.to_onnx(net)
    out = run(onx, X)
    assert_labels(out["label"], net.predict(X))
    expect = net.predict_proba(X) if loss == "logistic" else net.decision_function(X)
    assert_values(out["probabilities"], expect, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_regression(dtype):
    X = data(dtype=dtype)
    y = np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]])
    net, _ = fit_mlp("prelu", "square", y, dtype, 2)
    onx = fonnx.to_onnx(net)
    check_model(onx, ["variable"])
    for rows in (X[:1], X):
        assert_values(run(onx, rows)["variable"], net.predict(rows), dtype)


def test_bool_labels_come_out_as_bool():
    X = data()
    y = X[:, 0] > 0
    net, _ = fit_mlp("relu", "cross_entropy", y, "float64", 2)
    out = run(fonnx.to_onnx(net), X)
    assert_labels(out["label"], net.predict(X))


# ---------------------------------------------------------------------------------------------
# fastmlp.Perceptron
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["step", "sign"])
@pytest.mark.parametrize("n_out,kind", [(1, "binary"), (3, "ovr"), (3, "multilabel")])
def test_perceptron(activation, n_out, kind, dtype):
    X = data(dtype=dtype)
    if kind == "binary":
        y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    elif kind == "ovr":
        y = np.argmax(X[:, :3], axis=1) * 10
    else:
        y = (X[:, :3] > 0).astype(int)
    p = fm.Perceptron(X.shape[1], n_out, activation=activation, dtype=dtype, seed=0)
    p.fit(X[:200], y[:200], epochs=3)
    onx = fonnx.to_onnx(p)
    check_model(onx, ["label", "probabilities"])
    for rows in (X[:1], X):
        out = run(onx, rows)
        assert_labels(out["label"], p.predict(rows))
        s = p.decision_function(rows)
        assert_values(out["probabilities"], np.column_stack([-s, s]) if s.ndim == 1 else s,
                      dtype)


# ---------------------------------------------------------------------------------------------
# options and errors
# ---------------------------------------------------------------------------------------------
def test_options_dtype_opset_name():
    y = LABELS["int"]
    net, X = fit_mlp("relu", "cross_entropy", y, "float64", 4)
    onx = fonnx.to_onnx(net, dtype="float32", opset=15, name="digits")
    assert onx.graph.name == "digits"
    assert onx.opset_import[0].version == 15
    assert onx.producer_name == "fastmlp"
    out = run(onx, X.astype(np.float32))
    np.testing.assert_allclose(out["probabilities"], net.predict_proba(X), atol=1e-5)
    props = {p.key: p.value for p in onx.metadata_props}
    assert props["fastmlp.layer_sizes"] == "6,9,7,4"
    assert props["fastmlp.activations"] == "relu,relu,softmax"
    default = fonnx.to_onnx(net)
    assert default.opset_import[0].version == fonnx.DEFAULT_OPSET
    assert default.graph.name == "fastmlp_MLP"


@pytest.mark.parametrize("labels", ["int", "str", "float"])
def test_zipmap_form(labels):
    y = LABELS[labels]
    for dtype in DTYPES:
        net, X = fit_mlp("relu", "cross_entropy", y, dtype, 4)
        onx = fonnx.to_onnx(net, zipmap=True)
        check_model(onx, ["output_label", "output_probability"])
        out = run(onx, X[:50])
        assert_labels(out["output_label"], net.predict(X[:50]))
        P = net.predict_proba(X[:50])
        got = np.array([[row[c] for c in net.classes_.tolist()]
                        for row in out["output_probability"]])
        np.testing.assert_allclose(got, P, rtol=1e-6, atol=1e-7)


def test_errors():
    with pytest.raises(TypeError, match="exports fastmlp.MLP"):
        fonnx.to_onnx(object())
    unfitted = fm.MLP([3, 2], loss="cross_entropy")
    with pytest.raises(fm.NotFittedError, match="fit"):
        fonnx.to_onnx(unfitted)
    with pytest.raises(fm.NotFittedError):
        fonnx.to_onnx(fm.Perceptron(3))
    net = fm.MLP([3, 2], loss="square")
    for bad, err in ((12, ValueError), (10 ** 4, ValueError), ("17", TypeError),
                     (True, TypeError)):
        with pytest.raises(err, match="opset"):
            fonnx.to_onnx(net, opset=bad)
    with pytest.raises((TypeError, ValueError), match="dtype"):
        fonnx.to_onnx(net, dtype="int8")
    with pytest.raises(TypeError, match="zipmap"):
        fonnx.to_onnx(net, zipmap="yes")
    X = data()
    ml, _ = fit_mlp("relu", "logistic", (X[:, :3] > 0).astype(int), "float64", 3)
    with pytest.raises(ValueError, match="single-label"):
        fonnx.to_onnx(ml, zipmap=True)


def test_every_activation_and_output_op_has_a_form():
    from fastmlp.activations import ACTIVATIONS
    from fastmlp.onnx import _graph
    assert set(_graph.ACTIVATIONS) == set(ACTIVATIONS)


# ---------------------------------------------------------------------------------------------
# the scikit-learn estimators: to_onnx and the skl2onnx converters
# ---------------------------------------------------------------------------------------------
sk = pytest.importorskip("fastmlp.sklearn", reason="scikit-learn is not installed")


def fit_quiet(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


def sk_expected(est, X):
    """(label, second output) as the estimator computes them."""
    label = est.predict(X)
    if hasattr(est, "predict_proba"):
        return label, est.predict_proba(X)
    if hasattr(est, "decision_function"):
        s = est.decision_function(X)
    else:
        s = est._output(est._check_X_predict(X))
        s = s[:, 0] if s.shape[1] == 1 else s
    return label, (np.column_stack([-s, s]) if s.ndim == 1 else s)


CLASSIFIER_CASES = [   # (estimator params, labels)
    (dict(), "str4"),                                   # softmax
    (dict(), "int2"),                                   # one logistic unit
    (dict(), "multilabel"),                             # logistic per label
    (dict(loss="cross_entropy"), "str2"),               # two softmax units
    (dict(loss="logistic"), "int4"),                    # normalised sigmoids
    (dict(loss="hinge"), "str2"),                       # scores [-s, s]
    (dict(loss="square"), "int4"),
    (dict(loss="margin"), "float4"),
    (dict(activation="prelu"), "bool2"),
    (dict(activation="piecewise_linear", loss="cross_entropy"), "int4"),
    (dict(activation="leaky_relu"), "str4"),
    (dict(activation="step", solver="lbfgs"), "int4"),
]


def sk_labels(kind, X):
    k = np.argmax(X[:, :4], axis=1)
    if kind == "multilabel":
        return (X[:, :3] > 0).astype(int)
    n = int(kind[-1])
    k = k % n
    if kind.startswith("str"):
        return np.array(["ant", "bee", "cow", "doe"])[k]
    if kind.startswith("float"):
        return k * 2.0 - 3.0
    if kind.startswith("bool"):
        return k == 1
    return k


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("params,labels", CLASSIFIER_CASES,
                         ids=[f"{p or 'default'}-{lab}" for p, lab in CLASSIFIER_CASES])
def test_sklearn_classifier(params, labels, dtype):
    X = data(dtype=dtype)
    y = sk_labels(labels, X)
    est = fit_quiet(sk.MLPClassifier(hidden_layer_sizes=(8, 5), max_iter=5, random_state=0,
                                     **params), X[:300], y[:300])
    onx = fonnx.to_onnx(est)
    check_model(onx, ["label", "probabilities"])
    for rows in (X[:1], X):
        out = run(onx, rows)
        label, second = sk_expected(est, rows)
        assert_labels(out["label"], label)
        assert_values(out["probabilities"], second, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_targets", [1, 3])
def test_sklearn_regressor(n_targets, dtype):
    X = data(dtype=dtype)
    y = X[:, :n_targets] ** 2 if n_targets > 1 else X[:, 0] ** 2
    est = fit_quiet(sk.MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=5,
                                    random_state=0), X[:300], y[:300])
    onx = fonnx.to_onnx(est)
    check_model(onx, ["variable"])
    for rows in (X[:1], X):
        assert_values(run(onx, rows)["variable"], est.predict(rows), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("labels", ["int2", "str4"])
def test_sklearn_perceptron(labels, dtype):
    X = data(dtype=dtype)
    y = sk_labels(labels, X)
    est = fit_quiet(sk.Perceptron(max_iter=5, random_state=0), X[:300], y[:300])
    onx = fonnx.to_onnx(est)
    for rows in (X[:1], X):
        out = run(onx, rows)
        label, second = sk_expected(est, rows)
        assert_labels(out["label"], label)
        assert_values(out["probabilities"], second, dtype)


@pytest.mark.parametrize("loss", [None, "cross_entropy"])
def test_sklearn_single_class(loss):
    X = data()
    est = fit_quiet(sk.MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, loss=loss),
                    X[:50], np.array(["only"] * 50))
    out = run(fonnx.to_onnx(est), X)
    label, proba = sk_expected(est, X)
    assert_labels(out["label"], label)
    assert_values(out["probabilities"], proba, "float64")


def test_sklearn_assigned_coefs_are_exported():
    X = data()
    est = fit_quiet(sk.MLPRegressor(hidden_layer_sizes=(4,), max_iter=3), X[:100],
                    X[:100, 0])
    est.coefs_ = [c * 2 for c in est.coefs_]
    assert_values(run(fonnx.to_onnx(est), X)["variable"], est.predict(X), "float64")


def test_output_table_names_every_out_activation():
    X = data()
    seen = set()
    for est, y in ((sk.MLPClassifier(max_iter=2), sk_labels("int4", X)),
                   (sk.MLPClassifier(max_iter=2), sk_labels("int2", X)),
                   (sk.MLPRegressor(max_iter=2), X[:, 0])):
        seen.add(fit_quiet(est, X[:50], y[:50]).out_activation_)
    assert seen <= set(fonnx.OUTPUT_OPS)
    est = fit_quiet(sk.MLPRegressor(max_iter=2), X[:50], X[:50, 0])
    est.out_activation_ = "cube"
    with pytest.raises(ValueError, match="OUTPUT_OPS"):
        fonnx.to_onnx(est)


def test_unfitted_estimator():
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        fonnx.to_onnx(sk.MLPClassifier())


class TestSkl2onnx:
    @pytest.fixture(autouse=True)
    def registered(self):
        self.skl2onnx = pytest.importorskip("skl2onnx", reason=_EXTRA)
        fonnx.register()
        fonnx.register()             # idempotent

    def pipeline(self, dtype, labels="str4", **params):
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
        X = data(dtype=dtype) * 3 + 1
        y = sk_labels(labels, X - 1)
        pipe = Pipeline([("scale", StandardScaler()),
                         ("mlp", sk.MLPClassifier(hidden_layer_sizes=(8,), max_iter=10,
                                                  random_state=0, **params))])
        return fit_quiet(pipe, X[:300], y[:300]), X

    @pytest.mark.parametrize("dtype", DTYPES)
    def test_pipeline_default_zipmap(self, dtype):
        pipe, X = self.pipeline(dtype)
        onx = self.skl2onnx.to_onnx(pipe, X[:1])
        check_model(onx, ["output_label", "output_probability"])
        out = run(onx, X)
        assert_labels(out["output_label"], pipe.predict(X))
        P = np.array([[row[c] for c in pipe.classes_] for row in out["output_probability"]])
        # ZipMap holds float32 values
        np.testing.assert_allclose(P, pipe.predict_proba(X), rtol=1e-5, atol=1e-6)

    @pytest.mark.parametrize("dtype", DTYPES)
    @pytest.mark.parametrize("labels,params", [("str4", {}), ("int2", {}),
                                               ("multilabel", {}),
                                               ("int4", {"loss": "hinge"})])
    def test_pipeline_tensors_exact(self, dtype, labels, params):
        pipe, X = self.pipeline(dtype, labels, **params)
        onx = self.skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False})
        check_model(onx, ["label", "probabilities"])
        for rows in (X[:1], X):
            out = run(onx, rows)
            scaled = pipe[0].transform(rows)
            label, second = sk_expected(pipe[-1], scaled)
            assert_labels(out["label"], label)
            # the scaler's ONNX form rounds differently from NumPy's: a scaled input
            # differs by an ulp, so compare at the float32 tolerance of that
            np.testing.assert_allclose(out["probabilities"], second, rtol=1e-9 if dtype ==
                                       "float64" else 1e-5, atol=1e-9 if dtype == "float64"
                                       else 1e-5)

    @pytest.mark.parametrize("dtype", DTYPES)
    def test_converter_equals_to_onnx(self, dtype):
        """The estimator alone through skl2onnx gives to_onnx's values exactly."""
        X = data(dtype=dtype)
        for est, y in ((sk.MLPClassifier(hidden_layer_sizes=(8,), max_iter=5),
                        sk_labels("str4", X)),
                       (sk.MLPRegressor(hidden_layer_sizes=(8,), max_iter=5), X[:, :2]),
                       (sk.Perceptron(max_iter=5), sk_labels("int4", X))):
            fit_quiet(est, X[:300], y[:300])
            ours = run(fonnx.to_onnx(est), X)
            options = {"zipmap": False} if hasattr(est, "classes_") else None
            theirs = run(self.skl2onnx.to_onnx(est, X[:1], options=options), X)
            assert sorted(ours) == sorted(theirs)
            for k in ours:
                assert np.array_equal(ours[k], theirs[k]), k

    def test_nocl_and_columns_options(self):
        pipe, X = self.pipeline("float32")
        onx = self.skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": False, "nocl": True})
        out = run(onx, X)
        assert np.array_equal(pipe.classes_[out["label"]], pipe.predict(X))
        onx = self.skl2onnx.to_onnx(pipe, X[:1], options={"zipmap": "columns"})
        sess = session(onx)
        out = sess.run(None, {"X": X})
        assert len(out) == 1 + len(pipe.classes_)
        assert_labels(out[0], pipe.predict(X))
        for k, column in enumerate(out[1:]):     # one output per class, in classes_ order
            np.testing.assert_allclose(column, pipe.predict_proba(X)[:, k], rtol=1e-5,
                                       atol=1e-6)


# ---------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------
def test_cli_export(tmp_path, capsys):
    from fastmlp.cli import main
    y = LABELS["str"]
    net, X = fit_mlp("relu", "cross_entropy", y, "float32", 4)
    model = tmp_path / "model.npz"
    net.save(model)
    rc = main(["export", str(model), str(tmp_path / "m.onnx")])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "label" in out and "probabilities" in out and "float32" in out
    onx = onnx.load(str(tmp_path / "m.onnx"))
    got = run(onx, X)
    assert_labels(got["label"], net.predict(X))
    assert_values(got["probabilities"], net.predict_proba(X), "float32")
    rc = main(["export", str(model), "--dtype", "float64", "--zipmap", "--opset", "18"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    onx = onnx.load(str(tmp_path / "model.onnx"))
    assert [o.name for o in onx.graph.output] == ["output_label", "output_probability"]
    assert onx.opset_import[0].version == 18
    rc = main(["export", str(model), str(tmp_path / "x.onnx"), "--opset", "3"])
    out, err = capsys.readouterr()
    assert rc == 2 and err.startswith("fastmlp: error: ") and "opset" in err
    rc = main(["export", str(tmp_path / "missing.npz")])
    out, err = capsys.readouterr()
    assert rc == 2 and "missing.npz" in err
    assert not list(tmp_path.glob(".fastmlp-*"))
    # a missing directory: train's clean message, no temporary file's name
    target = tmp_path / "no_such_dir" / "m.onnx"
    rc = main(["export", str(model), str(target)])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert err.strip() == (f"fastmlp: error: {target}: cannot write the ONNX graph there: "
                           f"directory '{target.parent}' does not exist")
    assert ".tmp" not in err and ".fastmlp-" not in err


def test_cli_export_without_the_extra(tmp_path):
    """Without onnx installed, export says what to install, in one line, exit status 2."""
    net = fm.MLP([3, 2], loss="square")
    model = tmp_path / "m.npz"
    net.save(model)
    code = ("import sys; sys.modules['onnx'] = None\n"
            "from fastmlp.cli import main\n"
            f"sys.exit(main(['export', {str(model)!r}]))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "pip install onnx onnxruntime skl2onnx" in lines[0], res.stderr
    assert 'pip install ".[onnx]"' in lines[0] and "fastmlp[" not in lines[0], res.stderr


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_poisson_regressor_exports_its_exp_output(dtype, tol):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)).astype(dtype)
    y = np.exp(0.5 * X[:, 0].astype(np.float64))
    est = fit_quiet(sk.MLPRegressor(loss="poisson", hidden_layer_sizes=(8,), max_iter=30,
                                    random_state=0), X, y)
    assert est.out_activation_ == "exp"
    sess = ort.InferenceSession(fonnx.to_onnx(est).SerializeToString())
    got = sess.run(None, {sess.get_inputs()[0].name: X})[0].ravel()
    np.testing.assert_allclose(got, est.predict(X), rtol=tol, atol=0)
