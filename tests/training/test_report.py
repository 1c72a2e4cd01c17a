"""fm.training.Report: the data a report embeds, checked against the History, the model and
NumPy, without a browser (tests/test_report_browser.py opens the files in Chromium)."""
import json
import math
import os
import re

import numpy as np
import pytest

import fastmlp as fm
from fastmlp.__main__ import main
from fastmlp.training import Report
from fastmlp.training.report_page import CSP


def load(path):
    """The JSON a report embeds."""
    text = open(path, encoding="utf-8").read()
    m = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text,
                  re.S)
    assert m, "no report-data element"
    return json.loads(m.group(1).replace("<\\/", "</"))


def same(shown, values):
    """Report values (None for NaN) equal History values."""
    assert len(shown) == len(values)
    for s, v in zip(shown, values):
        assert (s is None and not math.isfinite(v)) or s == v, (s, v)


def digits(n=400):
    d = fm.datasets.load_digits(n_samples=n, seed=0)
    return np.ascontiguousarray(d.data / 16.0), d.target


def test_history_config_and_layers_are_the_runs(tmp_path):
    X, y = digits()
    net = fm.MLP([64, 32, 10], activation="relu", loss="cross_entropy", seed=1)
    path = tmp_path / "run.html"
    h = net.fit(X, y, optimizer="sgd", lr=0.1, epochs=12, validation_split=0.25,
                report=str(path))
    d = load(path)
    H = d["history"]
    assert H["epoch"] == h.epoch == list(range(1, 13))
    for k in ("loss", "val_loss", "val_metric", "lr", "time"):
        same(H[k], getattr(h, k))
    assert H["val_score"] is None                 # never measured
    cfg = dict(d["config"])
    assert cfg["layer sizes"] == "64 - 32 - 10"
    assert cfg["activations (layers 1..L)"] == "relu, softmax"
    assert cfg["loss"] == "cross_entropy"
    assert cfg["ISA (cpu_features)"] == fm.show_config(print_=False)["cpu_features"]
    assert cfg["dtype"] == "float64" and cfg["seed (initialisation)"] == "1"
    assert cfg["validation samples"] == "100" and cfg["training samples"] == "300"
    # sampled epochs: the initial weights, then evenly, and the last
    epochs = [s["epoch"] for s in d["samples"]]
    assert epochs[0] == 0 and epochs[-1] == 12 and epochs == sorted(set(epochs))
    last = d["samples"][-1]["layers"]
    assert len(last) == 2
    for l, (W, b) in enumerate(zip(net.weights, net.biases)):
        hw = last[l]["W"]
        assert sum(hw["counts"]) == W.size and len(hw["counts"]) == 30
        assert hw["lo"] == W.min() and hw["hi"] == W.max()
        counts, _ = np.histogram(W, bins=30, range=(hw["lo"], hw["hi"]))
        assert hw["counts"] == counts.tolist()
        assert sum(last[l]["b"]["counts"]) == b.size
    # a and delta on the probe batch (128 evenly spaced rows of the 300), and the norm
    # of dC/dW^l there: the model's own forward/backward on those rows
    rows = np.unique(np.linspace(0, 299, 128).astype(np.intp))
    Xtr, ytr = X[:300], y[:300]
    g = net.backward(net.forward(Xtr[rows]), ytr[rows])
    for l in range(2):
        assert sum(last[l]["a"]["counts"]) == len(rows) * net.layer_sizes[l + 1]
        assert sum(last[l]["d"]["counts"]) == len(rows) * net.layer_sizes[l + 1]
        assert last[l]["gnorm"] == pytest.approx(np.linalg.norm(g.dW[l + 1]), rel=1e-12)
    assert last[1]["inactive"] is None               # softmax: neither dead nor saturated
    assert 0.0 <= last[0]["inactive"] <= 1.0
    assert d["regions"] is None and "residuals" not in d
    # a confusion matrix of the validation rows, labelled with the classes
    C = d["confusion"]
    assert C["on"] == "validation data"
    assert C["labels"] == [str(c) for c in net.classes_]
    pred = net.predict(X[300:])
    M = np.zeros((10, 10), int)
    np.add.at(M, (np.searchsorted(net.classes_, y[300:]), np.searchsorted(net.classes_, pred)), 1)
    assert C["matrix"] == M.tolist()
    assert C["accuracy"] == pytest.approx(np.mean(pred == y[300:]))


def test_dead_and_saturated_units(tmp_path):
    X, y = digits(100)
    net = fm.MLP([64, 8, 8, 10], activation=["relu", "tanh"], loss="cross_entropy", seed=0)
    net.biases[0][:4] = -1e3                    # 4 of 8 ReLU units never fire
    net.weights[1][...] = 0.0
    net.biases[1][:2] = 50.0                     # 2 of 8 tanh units stuck at +1
    path = tmp_path / "dead.html"
    net.fit(X, y, optimizer="sgd", lr=1e-9, epochs=1, report=str(path))
    first = load(path)["samples"][0]["layers"]
    assert first[0]["inactive"] == 0.5
    assert first[1]["inactive"] == 0.25
    assert first[2]["inactive"] is None


def test_two_d_classifier_regions_over_epochs(tmp_path):
    X, y = fm.datasets.xor()
    net = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    path = tmp_path / "xor.html"
    net.fit(X, y, optimizer="sgd", lr=0.5, batch_size=None, epochs=1000,
            report=Report(path, grid=20, budget=None))
    d = load(path)
    R = d["regions"]
    assert R["res"] == 20 and len(R["frames"]) == 16
    assert R["frames"][0]["epoch"] == 0 and R["frames"][-1]["epoch"] == 1000
    assert [p[2] for p in R["points"]] == [int(v) for v in y]
    assert R["lo"] == (X.min(axis=0) - 0.5).tolist()
    # the last frame is the model's prediction over the grid (row r: x2 from lo up)
    g0, g1 = np.meshgrid(np.linspace(R["lo"][0], R["hi"][0], 20),
                         np.linspace(R["lo"][1], R["hi"][1], 20))
    pred = net.predict(np.column_stack([g0.ravel(), g1.ravel()]))
    assert R["frames"][-1]["labels"] == "".join(str(int(v)) for v in pred)
    assert net.score(X, y) == 1.0
    assert d["confusion"]["matrix"] == [[2, 0], [0, 2]]
    assert os.path.getsize(path) < 2_000_000


def test_regression_residuals(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=300)
    net = fm.MLP([3, 16, 1], activation="tanh", loss="square", seed=0)
    path = tmp_path / "reg.html"
    net.fit(X, y, optimizer="adam", lr=0.01, epochs=20, report=str(path))
    d = load(path)
    R = d["residuals"]
    out = net.predict(X).reshape(-1)
    assert R["rmse"] == pytest.approx(np.sqrt(np.mean((y - out) ** 2)), rel=1e-12)
    assert R["r2"] == pytest.approx(net.score(X, y), rel=1e-12)
    assert R["true"] == y.tolist() and R["pred"] == pytest.approx(out.tolist(), rel=1e-15)
    assert sum(R["hist"]["counts"]) == 300
    assert "confusion" not in d and d["regions"] is None


def test_events_divergence_and_early_stopping(tmp_path):
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(64, 3)) * 100
    net = fm.MLP([3, 16, 1], activation="relu", loss="square", seed=0)
    path = tmp_path / "div.html"
    with pytest.warns(fm.training.DivergenceWarning):
        h = net.fit(Xr, Xr.sum(axis=1), optimizer="sgd", lr=1.0, epochs=30,
                    report=str(path))
    d = load(path)
    assert h.diverged
    ev = {e["kind"]: e for e in d["events"]}
    assert ev["diverged"]["epoch"] == h.diverged_epoch
    assert d["samples"][-1]["epoch"] == h.diverged_epoch - 1     # the last finite weights
    X, y = digits(200)
    net2 = fm.MLP([64, 16, 10], loss="cross_entropy", seed=0)
    path2 = tmp_path / "es.html"
    h2 = net2.fit(X, y, optimizer="sgd", lr=2.0, epochs=200, validation_split=0.3,
                  early_stopping=3, report=str(path2))
    assert h2.stopped_early
    ev = {e["kind"]: e for e in load(path2)["events"]}
    assert ev["stopped_early"]["epoch"] == h2.epoch[-1]
    assert ev["restored_best"]["epoch"] == h2.best_epoch


def test_lr_auto_sweep_and_restarts(tmp_path):
    X, y = digits(300)
    net = fm.MLP([64, 16, 10], loss="cross_entropy", seed=0)
    path = tmp_path / "auto.html"
    h = net.fit(X, y, optimizer="sgd", lr="auto", epochs=10, report=str(path))
    d = load(path)
    S, res = d["lr_search"], h.lr_search
    assert S["lrs"] == res.lrs.tolist() and S["chosen"] == res.index
    assert S["diverged"] == res.diverged.tolist()
    same(d["history"]["loss"], h.loss)           # the whole run, the chosen candidate's too
    net = fm.MLP([64, 8, 10], loss="cross_entropy", seed=0)
    path = tmp_path / "restarts.html"
    h = net.fit(X, y, optimizer="sgd", lr=0.1, epochs=4, restarts=3, report=str(path))
    d = load(path)
    same(d["history"]["loss"], h.loss)
    assert any(e["kind"] == "restarts" for e in d["events"])
    # the layers shown are the kept restart's: its final weights are the model's
    W = net.weights[0]
    counts, _ = np.histogram(W, bins=30, range=(W.min(), W.max()))
    assert d["samples"][-1]["layers"][0]["W"]["counts"] == counts.tolist()


def test_thousand_epochs_stay_small_and_offline(tmp_path):
    X, y = digits(200)
    net = fm.MLP([64, 32, 10], loss="cross_entropy", seed=0)
    path = tmp_path / "long.html"
    net.fit(X, y, optimizer="sgd", lr=0.05, batch_size=100, epochs=1000,
            validation_split=0.2, report=str(path))
    assert os.path.getsize(path) < 2_000_000
    d = load(path)
    assert len(d["history"]["loss"]) == 1000 and len(d["samples"]) <= 31
    text = open(path, encoding="utf-8").read()
    assert f'content="{CSP}"' in text and "default-src 'none'" in CSP
    # the only URL in the page is the SVG namespace (a name, never fetched)
    urls = set(re.findall(r"[a-z]+://[^\s\"'`<>)]*", text))
    assert urls == {"http://www.w3.org/2000/svg"}
    assert not re.search(r"<(link|img|iframe|object|embed)\b|\bsrc=|@import|url\(", text)


def test_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="path must be a file name"):
        Report(5)
    with pytest.raises(ValueError, match="non-empty"):
        Report("")
    with pytest.raises(ValueError, match="samples"):
        Report(tmp_path / "r.html", samples=1)
    with pytest.raises(ValueError, match="bins"):
        Report(tmp_path / "r.html", bins=0)
    net = fm.MLP([2, 2, 1], loss="square", seed=0)
    with pytest.raises(TypeError, match="path must be a file name"):
        net.fit(np.zeros((4, 2)), np.zeros(4), report=3.5)


def test_as_a_plain_callback_and_a_custom_loss(tmp_path):
    X, y = digits(120)
    net = fm.MLP([64, 8, 10], loss="cross_entropy", seed=0)
    rep = Report(tmp_path / "cb.html", samples=3, budget=None)
    h = net.fit(X, y, optimizer="sgd", lr=0.1, epochs=5, callbacks=[rep])
    d = load(rep.path)
    same(d["history"]["loss"], h.loss)
    assert [s["epoch"] for s in d["samples"]] == [0, 3, 5]

    class Half(fm.losses.Loss):
        name = "half_square"

        def value(self, Y, a):
            return 0.5 * float(((Y - a) ** 2).sum(axis=1).mean())

        def gradient(self, Y, a):
            return (a - Y) / len(a)
    Xr = X[:, :4]
    net = fm.MLP([4, 6, 1], loss=Half(), seed=0)
    path = tmp_path / "custom.html"
    net.fit(Xr, Xr.sum(axis=1), optimizer="sgd", lr=0.05, epochs=3, report=str(path))
    d = load(path)
    assert dict(d["config"])["loss"] == "half_square"
    assert all(ly["gnorm"] is not None for s in d["samples"] for ly in s["layers"])
    assert "residuals" in d


def test_sklearn_estimators(tmp_path):
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.metrics import confusion_matrix
    from fastmlp.sklearn import MLPClassifier, MLPRegressor
    X, y = digits(300)
    path = str(tmp_path / "sk.html")
    clf = MLPClassifier((16,), max_iter=15, random_state=0, report=path)
    assert clone(clf).get_params()["report"] == path
    with pytest.warns(Warning):
        clf.fit(X, y)
    d = load(path)
    same(d["history"]["loss"], clf.loss_curve_)
    assert d["confusion"]["matrix"] == confusion_matrix(y, clf.predict(X)).tolist()
    assert d["confusion"]["labels"] == [str(c) for c in clf.classes_]
    with pytest.raises(ValueError, match="report"):
        MLPClassifier(report=5).fit(X, y)
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5,
                       random_state=0, report=str(tmp_path / "lbfgs.html"))
    with pytest.warns(Warning):
        reg.fit(X[:, :5], X[:, 5])
    d = load(tmp_path / "lbfgs.html")           # no epochs to sample: the final loss
    assert d["history"]["loss"] == [reg.loss_] and d["samples"] == []


def test_cli_train_and_demo(tmp_path, capsys):
    X, y = digits(120)
    data = tmp_path / "d.npz"
    np.savez(data, X=X, y=y)
    rep = tmp_path / "train.html"
    rc = main(["train", str(data), "--epochs", "3", "--report", str(rep),
               "-o", str(tmp_path / "m.npz")])
    out = capsys.readouterr().out
    assert rc == 0 and f"wrote the report to {rep}" in out
    assert len(load(rep)["history"]["loss"]) == 3
    rc = main(["train", str(data), "--report", str(tmp_path / "no" / "r.html")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err
    rc = main(["demo", "--quick", "--report", str(tmp_path / "demo.html")])
    assert rc == 0
    xor, dig = load(tmp_path / "demo.html"), load(tmp_path / "demo-digits.html")
    assert xor["regions"]["frames"] and dig["lr_search"]["lrs"] and dig["confusion"]


def test_histogram_of_extreme_values():
    from fastmlp._views import histogram
    h = histogram(np.array([-1e308, 0.0, 1e308, np.nan, np.inf]), 4)
    assert h["counts"] == [1, 0, 1, 1] and h["nonfinite"] == 2
    h = histogram(np.array([1e15, 1e15 + 0.125, 1e15 + 0.25]), 2)
    assert sum(h["counts"]) == 3 and h["lo"] == 1e15
    assert histogram(np.array([2.0, 2.0]), 3) == {"lo": 1.5, "hi": 2.5, "counts": [0, 2, 0],
                                                  "nonfinite": 0}
    assert histogram(np.array([]), 3) is None
    assert histogram(np.array([np.nan]), 3)["counts"] == []
    h = histogram(np.array([1e300, 1e300]), 2)
    assert h["lo"] < 1e300 < h["hi"] and h["counts"] == [0, 2]


def test_restored_weights_are_sampled_as_their_epoch(tmp_path):
    X, y = digits(200)
    net = fm.MLP([64, 16, 10], loss="cross_entropy", seed=0)
    path = tmp_path / "best.html"
    h = net.fit(X, y, optimizer="sgd", lr=2.0, epochs=200, validation_split=0.3,
                early_stopping=3, report=Report(path, samples=2, budget=None))
    assert h.stopped_early and h.restored_best and h.best_epoch < h.epoch[-1]
    samples = load(path)["samples"]
    # only the initial weights and the weights the run ended with: the best epoch's
    assert [s["epoch"] for s in samples] == [0, h.best_epoch]
    assert load(path)["final_epoch"] == h.best_epoch
    at_best = samples[1]["layers"][0]["W"]
    W = net.weights[0]                                       # the restored weights
    assert at_best["lo"] == W.min() and at_best["hi"] == W.max()
