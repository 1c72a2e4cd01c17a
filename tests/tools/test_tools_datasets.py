"""fastmlp.datasets: generated data, deterministic per seed, no scikit-learn needed."""
import subprocess
import sys

import numpy as np
import pytest

from fastmlp import datasets


def test_xor():
    X, y = datasets.xor()
    assert X.shape == (4, 2) and X.dtype == np.float64
    np.testing.assert_array_equal(y, np.logical_xor(X[:, 0], X[:, 1]).astype(int))
    Xs, ys = datasets.xor(signed=True)
    assert set(Xs.ravel()) == {-1.0, 1.0} and set(ys) == {-1, 1}


@pytest.mark.parametrize("make,kw,k", [(datasets.make_moons, {}, 2),
                                       (datasets.make_blobs, {"centers": 4}, 4),
                                       (datasets.make_spirals, {"n_classes": 3}, 3)])
def test_generators(make, kw, k):
    X, y = make(n_samples=101, seed=3, **kw)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.flags.c_contiguous
    counts = np.bincount(y)
    assert len(counts) == k and counts.max() - counts.min() <= 1
    X2, y2 = make(n_samples=101, seed=3, **kw)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(n_samples=101, seed=4, **kw)
    assert not np.array_equal(X, X3)


def test_noise_free_shapes():
    X, y = datasets.make_moons(50, noise=0.0, shuffle=False)
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    X, y = datasets.make_spirals(40, noise=0.0, shuffle=False)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() <= 1 + 1e-12 and r.min() > 0.04
    X, y = datasets.make_blobs(30, centers=[[0, 0, 0], [5, 5, 5]], cluster_std=0.0)
    assert X.shape == (30, 3)
    assert set(map(tuple, X)) == {(0.0, 0.0, 0.0), (5.0, 5.0, 5.0)}


@pytest.mark.parametrize("call", [
    lambda: datasets.make_moons(0),
    lambda: datasets.make_moons(10, noise=-1),
    lambda: datasets.make_spirals(10, n_classes=0),
    lambda: datasets.make_blobs(10, centers=np.zeros(3)),
    lambda: datasets.load_digits(n_samples=0),
])
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_load_digits():
    d = datasets.load_digits(n_samples=300, seed=1)
    assert d.data.shape == (300, 64) and d.images.shape == (300, 8, 8)
    assert d.target.shape == (300,) and set(d.target) == set(range(10))
    assert d.data.min() == 0 and d.data.max() == 16
    assert np.all(d.data == np.round(d.data))
    np.testing.assert_array_equal(d.images.reshape(300, 64), d.data)
    assert np.all(np.bincount(d.target) == 30)
    assert d["data"] is d.data and "DESCR" in d
    X, y = datasets.load_digits(n_samples=300, seed=1, return_X_y=True)
    np.testing.assert_array_equal(X, d.data)
    X[0, 0] = 99                                       # callers get their own copy
    assert datasets.load_digits(n_samples=300, seed=1).data[0, 0] != 99
    assert not np.array_equal(datasets.load_digits(n_samples=300, seed=2).data, d.data)


def test_digits_are_learnable_but_not_trivial():
    """A linear least-squares classifier does well but not perfectly (real-ish data)."""
    X, y = datasets.load_digits(n_samples=1000, seed=0, return_X_y=True)
    Xtr, Xte, ytr, yte = datasets.train_test_split(X, y, test_size=0.3, seed=0)
    A = np.c_[Xtr, np.ones(len(Xtr))]
    W = np.linalg.lstsq(A, np.eye(10)[ytr], rcond=None)[0]
    acc = np.mean(np.argmax(np.c_[Xte, np.ones(len(Xte))] @ W, axis=1) == yte)
    assert 0.8 < acc < 0.995
    # each class has its own mean image, and they differ
    means = np.array([X[y == k].mean(axis=0) for k in range(10)])
    d = np.linalg.norm(means[:, None] - means[None], axis=-1)
    assert np.all(d[~np.eye(10, dtype=bool)] > 5)


def test_train_test_split():
    X = np.arange(20).reshape(10, 2)
    y = np.arange(10)
    Xtr, Xte, ytr, yte = datasets.train_test_split(X, y, test_size=0.3, seed=0)
    assert len(Xte) == 3 and len(Xtr) == 7
    np.testing.assert_array_equal(Xtr[:, 0] // 2, ytr)
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(10))
    with pytest.raises(ValueError):
        datasets.train_test_split(X, y[:5])
    with pytest.raises(ValueError):
        datasets.train_test_split(X, y, test_size=1.5)


def test_no_sklearn_needed():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "from fastmlp import datasets\n"
            "X, y = datasets.load_digits(n_samples=50, return_X_y=True)\n"
            "print(X.shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(50, 64)"
