"""fastmlp.plot with the Agg backend; matplotlib stays optional."""
import subprocess
import sys

import numpy as np
import pytest

from fastmlp import datasets

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fastmlp import plot  # noqa: E402


class Linear:
    """A fixed linear threshold unit: what a perceptron can represent."""
    layer_sizes = [2, 1]

    def predict(self, X):
        return (np.asarray(X) @ [1.0, 1.0] > 0.5).astype(int)


class XorOracle:
    layer_sizes = [2, 4, 1]

    def predict(self, X):
        X = np.asarray(X) > 0.5
        return (X[:, 0] ^ X[:, 1]).astype(int)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_importing_fastmlp_does_not_import_matplotlib():
    code = ("import sys, fastmlp, fastmlp.plot, fastmlp.gradcheck, fastmlp.datasets;"
            "import fastmlp.__main__;"
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_missing_matplotlib_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install matplotlib \(or, from a fastmlp "
                                          r"checkout, pip install \"\.\[plot\]\""):
        plot.plot_history({"loss": [1.0, 0.5]})


class FakeHistory:
    def __init__(self, h):
        self.history = h


def test_plot_history(tmp_path):
    h = FakeHistory({"loss": [1.0, 0.5, 0.25, 0.2], "val_loss": [1.1, 0.6, 0.4, 0.45]})
    ax = plot.plot_history(h, log=True)
    assert len(ax.get_lines()) == 2
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), [1.1, 0.6, 0.4, 0.45])
    ax.figure.savefig(tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    fig, ax2 = plt.subplots()
    out = plot.plot_history({"loss": [3, 2, 1], "val_loss": []}, ax=ax2)
    assert out is ax2 and len(ax2.get_lines()) == 1 and ax2.get_yscale() == "linear"
    with pytest.raises(ValueError, match="no 'loss'"):
        plot.plot_history({"accuracy": [0.5]})
    with pytest.raises(TypeError):
        plot.plot_history([1, 2])


def test_plot_decision_regions(tmp_path):
    X, y = datasets.xor()
    ax = plot.plot_decision_regions(XorOracle(), X, y, resolution=50)
    assert len(ax.collections) >= 2          # the filled regions and the scatter
    offsets = ax.collections[-1].get_offsets()
    np.testing.assert_array_equal(np.asarray(offsets), X)
    ax.figure.savefig(tmp_path / "r.png")
    assert (tmp_path / "r.png").stat().st_size > 1000
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plot.plot_decision_regions(XorOracle(), np.zeros((4, 3)), y)


def test_plot_xor(tmp_path):
    fig = plot.plot_xor(Linear(), XorOracle(), resolution=40)
    assert len(fig.axes) == 2
    t0, t1 = (ax.get_title() for ax in fig.axes)
    assert "perceptron" in t0 and "75 %" in t0
    assert "MLP 2-4-1" in t1 and "100 %" in t1
    fig.savefig(tmp_path / "xor.png")
    assert (tmp_path / "xor.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_decision_regions_multiclass():
    X, y = datasets.make_blobs(60, centers=3, seed=0)

    class Nearest:
        def __init__(self):
            self.c = np.array([X[y == k].mean(0) for k in range(3)])

        def predict(self, Z):
            return np.argmin(((Z[:, None] - self.c) ** 2).sum(-1), axis=1)

    ax = plot.plot_decision_regions(Nearest(), X, y, resolution=30)
    assert ax.get_xlabel() == "$x_1$"


def test_real_valued_output_is_thresholded():
    class Sigmoidish:
        layer_sizes = [2, 4, 1]

        def predict(self, X):
            X = np.asarray(X) > 0.5
            return np.where(X[:, 0] ^ X[:, 1], 0.9, 0.1)[:, None]

    fig = plot.plot_xor(Linear(), Sigmoidish(), resolution=20)
    assert "100 %" in fig.axes[1].get_title()


import fastmlp  # noqa: E402


@pytest.mark.skipif(not hasattr(fastmlp, "MLP"), reason="fastmlp.MLP not built")
def test_with_real_models(tmp_path):
    X, y = datasets.xor()
    per = fastmlp.Perceptron(2, 1).fit(X, y, epochs=50)
    mlp = fastmlp.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    hist = mlp.fit(X, y, optimizer="sgd", lr=0.5, batch_size=None, epochs=1000)
    fig = plot.plot_xor(per, mlp, resolution=60)
    assert "100 %" in fig.axes[1].get_title()
    assert "100 %" not in fig.axes[0].get_title()
    fig.savefig(tmp_path / "xor.png")

    Xm, ym = datasets.make_moons(200, noise=0.1, seed=0)
    net = fastmlp.MLP([2, 16, 2], activation="relu", loss="cross_entropy", seed=0)
    hist = net.fit(Xm, ym, lr=0.1, epochs=15, validation_split=0.2)
    ax = plot.plot_history(hist, log=True)
    assert len(ax.get_lines()) == 2
    assert len(ax.get_lines()[0].get_ydata()) == 15
    ax = plot.plot_decision_regions(net, Xm, ym, resolution=80)
    ax.figure.savefig(tmp_path / "moons.png")
    assert (tmp_path / "moons.png").stat().st_size > 1000


def _inside_figure(fig):
    """Everything drawn on every Axes lies inside the figure (nothing clipped on save)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fb = fig.bbox
    for ax in fig.axes:
        b = ax.get_tightbbox(renderer)
        if not (b.x0 >= fb.x0 and b.y0 >= fb.y0 and b.x1 <= fb.x1 and b.y1 <= fb.y1):
            return False
    return True


def test_figures_keep_their_labels_inside(tmp_path):
    X, y = datasets.xor()
    axes = [plot.plot_history({"loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.6, 0.3]}),
            plot.plot_decision_regions(Linear(), X, y)]
    for ax in axes:
        assert ax.xaxis.label.get_text() and ax.yaxis.label.get_text()
        assert _inside_figure(ax.figure)
    assert _inside_figure(plot.plot_xor(Linear(), XorOracle()))
    # and a figure made without the layout does clip them: the check can fail
    fig, ax = plt.subplots(figsize=(5, 3.5))
    plot.plot_history({"loss": [1.0, 0.5]}, ax=ax)
    assert not _inside_figure(fig)


def test_plot_is_reachable_from_the_package_lazily():
    code = ("import sys, fastmlp as fm; before = 'fastmlp.plot' in sys.modules;"
            "f = fm.plot.plot_history; print(before, 'fastmlp.plot' in sys.modules,"
            "'matplotlib' in sys.modules, 'plot' in dir(fm))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "True", "False", "True"]
