"""The C path of single-layer linear models (csrc/linear, fastmlp._core.LinearUnits) behind
fastmlp.sklearn.Perceptron: scikit-learn's weights option by option on dense and sparse
input, sparse results equal to dense ones, sparse input never densified, and the checks of
the Cython boundary."""
import tracemalloc
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
import scipy.sparse as sp  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.linear_model import Perceptron as SkPerceptron  # noqa: E402

from fastmlp import _core  # noqa: E402
from fastmlp.sklearn import Perceptron  # noqa: E402
from fastmlp.sklearn._compat import SKLEARN_VERSION  # noqa: E402
from perceptron_helpers import _assert_same_model as _same  # noqa: E402
from perceptron_helpers import _fit_both  # noqa: E402

PENALTIES = [None, "l2", "l1", "elasticnet"]


def _data(problem, sparse, seed=0):
    n_classes = 2 if problem == "binary" else 3
    X, y = make_classification(n_samples=150, n_features=12, n_informative=6,
                               n_classes=n_classes, random_state=seed)
    if sparse:
        rs = np.random.RandomState(seed)
        X = X * (rs.rand(*X.shape) < 0.35)
        return sp.csr_matrix(X), y
    return X, y


@pytest.mark.skipif(SKLEARN_VERSION < (1, 8), reason="the penalised objective of >= 1.8")
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("problem", ["binary", "multiclass"])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("extra", ["plain", "weights", "no_intercept"])
def test_weights_equal_sklearn_for_every_option(sparse, problem, penalty, shuffle, extra):
    """Every penalty, with and without shuffling, class and sample weights, fit_intercept
    off, binary and one-vs-all, dense and CSR: scikit-learn's weights to 1e-12, its epochs
    and t_."""
    X, y = _data(problem, sparse)
    params = dict(penalty=penalty, alpha=1e-3, l1_ratio=0.3, shuffle=shuffle,
                  random_state=2)
    fit_kw = None
    if extra == "weights":
        params["class_weight"] = {0: 2.0, 1: 0.5}
        sw = np.random.RandomState(1).uniform(0.0, 2.0, len(y))
        sw[::9] = 0
        fit_kw = dict(sample_weight=sw)
    elif extra == "no_intercept":
        params["fit_intercept"] = False
    ours, theirs = _fit_both(X, y, fit_kw, **params)
    _same(ours, theirs)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("penalty", PENALTIES)
def test_partial_fit_equals_sklearn(sparse, penalty):
    X, y = _data("multiclass", sparse, seed=4)
    ours = Perceptron(penalty=penalty, alpha=1e-3, random_state=0)
    theirs = SkPerceptron(penalty=penalty, alpha=1e-3, random_state=0)
    for rows in (slice(0, 60), slice(60, 150), slice(0, 150)):
        ours.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        theirs.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        _same(ours, theirs)


@pytest.mark.parametrize("penalty", [None, "l2"])
@pytest.mark.parametrize("problem", ["binary", "multiclass"])
def test_sparse_results_equal_dense_ones(penalty, problem):
    """Where scikit-learn's rule is the same for both (no intercept, whose sparse steps are
    damped, no L1 penalty, which sparse input applies to a row's non-zeros only, and no
    stopping test on the norms it caches over them), a CSR fit gives the dense fit's
    weights, and predictions on CSR input equal those on the dense array, to 1e-12."""
    Xs, y = _data(problem, True, seed=5)
    X = Xs.toarray()
    params = dict(penalty=penalty, alpha=1e-3, fit_intercept=False, tol=None, max_iter=30)
    a = Perceptron(**params).fit(X, y)
    b = Perceptron(**params).fit(Xs, y)
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=0, atol=1e-12 * np.abs(a.coef_).max())
    np.testing.assert_allclose(a.decision_function(Xs), a.decision_function(X), rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_array_equal(a.predict(Xs), a.predict(X))
    assert a.score(Xs, y) == a.score(X, y)


def test_sparse_input_is_never_densified():
    """A 4000 x 400,000 CSR matrix (0.8 M non-zeros; dense it would be 12.8 GB): fit and
    predict allocate a bounded multiple of the non-zeros and the weights, never rows x
    columns (the peak traced by tracemalloc stays under 100 MB)."""
    rs = np.random.RandomState(0)
    n, d = 4000, 400_000
    per_row = 200
    cols = rs.randint(0, d, size=(n, per_row))
    cols.sort(axis=1)
    X = sp.csr_matrix((rs.rand(n * per_row), cols.ravel(), np.arange(n + 1) * per_row),
                      shape=(n, d))
    y = rs.randint(0, 3, n)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = Perceptron(max_iter=3, tol=None, random_state=0).fit(X, y)
        pred = p.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pred.shape == (n,) and p.coef_.shape == (3, d)
    assert peak < 100e6, peak
    assert p.score(X, y) > 0.5           # it learned something on its own training rows


def test_float32_sparse_follows_sklearn():
    if SKLEARN_VERSION < (1, 3):
        pytest.skip("scikit-learn's SGD computes in float32 since 1.3")
    X, y = _data("multiclass", True, seed=6)
    X = X.astype(np.float32)
    ours, theirs = _fit_both(X, y, shuffle=False)
    assert ours.coef_.dtype == theirs.coef_.dtype == np.float32
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_the_dtype_parameter_casts_the_input(sparse):
    X, y = _data("multiclass", sparse, seed=7)
    a = Perceptron(dtype="float32", shuffle=False, random_state=0).fit(X, y)
    b = Perceptron(shuffle=False, random_state=0).fit(X.astype(np.float32), y)
    assert a.coef_.dtype == np.float32
    np.testing.assert_array_equal(a.coef_, b.coef_)


def _units_args():
    X = np.arange(12.0).reshape(4, 3)
    Y = np.array([[1.0, -1.0, 1.0, -1.0]])
    C = np.ones((1, 4))
    W = np.zeros((1, 3))
    return X, Y, C, W


@pytest.mark.parametrize("change, exc, match", [
    (lambda a: a.update(X=a["X"].astype(np.float32)), TypeError, "X must have dtype"),
    (lambda a: a.update(X=np.asfortranarray(a["X"])), ValueError, "C-contiguous"),
    (lambda a: a["X"].__setitem__((0, 0), np.nan), ValueError, "finite"),
    (lambda a: a.update(Y=np.array([[1.0, 0.0, 1.0, -1.0]])), ValueError, r"\+1 or -1"),
    (lambda a: a.update(Y=np.ones((2, 4))), ValueError, "rows"),
    (lambda a: a.update(C=-np.ones((1, 4))), ValueError, ">= 0"),
    (lambda a: a.update(W=np.zeros((1, 4))), ValueError, "columns"),
    (lambda a: a.update(W=np.zeros((1, 6))[:, ::2]), ValueError, "C-contiguous"),
    (lambda a: a.update(penalty="l3"), ValueError, "penalty"),
    (lambda a: a.update(eta0=0.0), ValueError, "eta0"),
    (lambda a: a.update(alpha=np.inf), ValueError, "alpha"),
    (lambda a: a.update(l1_ratio=2.0), ValueError, "l1_ratio"),
    (lambda a: a.update(rule="hebb"), ValueError, "rule"),
    (lambda a: a.update(seeds=[-1]), ValueError, "seeds"),
    (lambda a: a.update(early_stopping=True), ValueError, "validation rows"),
    (lambda a: a.update(intercepts=[np.nan]), ValueError, "intercepts"),
])
def test_the_boundary_checks_every_input(change, exc, match):
    X, Y, C, W = _units_args()
    args = dict(X=X, Y=Y, C=C, W=W, intercepts=[0.0])
    change(args)
    with pytest.raises(exc, match=match):
        _core.LinearUnits(args.pop("X"), args.pop("Y"), args.pop("C"), args.pop("W"),
                          args.pop("intercepts"), **args)


def test_the_boundary_checks_csr_arrays_and_orders():
    X, Y, C, W = _units_args()
    Xs = sp.csr_matrix(X)
    ip = Xs.indptr.astype(np.int64)
    ok = dict(indices=Xs.indices, indptr=ip, n_features=3)
    _core.LinearUnits(Xs.data, Y, C, W, [0.0], **ok)
    bad_idx = Xs.indices.copy()
    bad_idx[0] = 3
    with pytest.raises(ValueError, match="column indices"):
        _core.LinearUnits(Xs.data, Y, C, W, [0.0], **dict(ok, indices=bad_idx))
    bad_ip = ip.copy()
    bad_ip[-1] += 1
    with pytest.raises(ValueError, match="indptr"):
        _core.LinearUnits(Xs.data, Y, C, W, [0.0], **dict(ok, indptr=bad_ip))
    with pytest.raises(TypeError, match="indices must have dtype int32"):
        _core.LinearUnits(Xs.data, Y, C, W, [0.0], **dict(ok, indices=Xs.indices.astype(
            np.int64)))
    u = _core.LinearUnits(X, Y, C, W, [0.0], rule="chapter")
    with pytest.raises(ValueError, match="permutation"):
        u.set_order([0, 0, 1, 2])
    with pytest.raises(ValueError, match="epochs"):
        u.epochs(0)
    with pytest.raises(ValueError, match="steps"):
        u.rewind(5)


def test_sgd_shuffle_is_sklearns_order():
    """scikit-learn's SGD order: the same Fisher-Yates permutation applied every epoch."""
    from fastmlp.sklearn._ova import sgd_permutation
    perm = sgd_permutation(12345, 50)
    order = np.arange(50)
    for epochs in range(4):
        np.testing.assert_array_equal(_core.sgd_shuffle(50, 12345, epochs), order)
        order = order[perm]


def _chapter_rule(X, T, lr, activation, seed, epochs):
    """The chapter's perceptron rule as NumPy steps (fm.Perceptron's former loop)."""
    W = np.zeros((X.shape[1], T.shape[1]))
    b = np.zeros(T.shape[1])
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(epochs):
        mistakes = 0
        for k in rng.permutation(X.shape[0]):
            z = X[k] @ W + b
            a = (np.sign(z) + 1) / 2 if activation == "step" else np.sign(z)
            err = T[k] - a
            if np.any(err != 0):
                mistakes += 1
                W += lr * np.outer(X[k], err)
                b += lr * err
        errors.append(mistakes)
        if mistakes == 0:
            break
    return W, b, errors


@pytest.mark.parametrize("activation", ["step", "sign"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_chapter_perceptron_in_c_equals_the_numpy_rule(activation, n_outputs):
    """fm.Perceptron runs the chapter's rule in C: the NumPy rule's weights, bias and
    mistakes per epoch (one unit per output, the units' mistakes counted per sample)."""
    import fastmlp as fm
    rs = np.random.RandomState(3)
    X = np.round(rs.randn(80, 5), 1)
    y = rs.randint(0, n_outputs if n_outputs > 1 else 2, 80)
    p = fm.Perceptron(5, n_outputs, activation=activation, lr=0.5, seed=11).fit(X, y,
                                                                              epochs=25)
    lo = 0.0 if activation == "step" else -1.0
    classes = np.unique(y)
    T = np.full((80, n_outputs), lo)
    if n_outputs == 1:
        T[:, 0] = np.where(y == classes[1], 1.0, lo)
    else:
        T[np.arange(80), y] = 1.0
    W, b, errors = _chapter_rule(X, T, 0.5, activation, 11, 25)
    np.testing.assert_allclose(p.W, W, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p.b, b, rtol=0, atol=1e-12)
    assert p.errors_ == errors and p.n_iter_ == len(errors)
