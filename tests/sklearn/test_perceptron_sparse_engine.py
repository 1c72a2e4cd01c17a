"""fastmlp.sklearn.Perceptron's engine path (``loss='hinge'``, ``batch_size > 1``) on CSR
input: trained as CSR, never densified. The weights equal those of the same X densified
(the path as it was before it kept X sparse: scikit-learn's sparse-input rules on the dense
array) to 1e-12 for every option, memory stays bounded by the non-zeros, and bad input gets
the usual errors."""
import tracemalloc
import warnings
from unittest import mock

import numpy as np
import pytest

pytest.importorskip("sklearn")
import scipy.sparse as sp  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402

from fastmlp import _core  # noqa: E402
from fastmlp.sklearn import Perceptron  # noqa: E402
from fastmlp.sklearn import _ova  # noqa: E402
from fastmlp.sklearn import perceptron as perceptron_module  # noqa: E402

PENALTIES = [None, "l2", "l1", "elasticnet"]
MODES = {"hinge": dict(loss="hinge"), "batch4": dict(batch_size=4),
         "hinge_batch7": dict(loss="hinge", batch_size=7)}
EXTRAS = {
    "plain": {},
    "no_shuffle": dict(shuffle=False),
    "weights": dict(class_weight={0: 2.0, 1: 0.5}),
    "early_stopping": dict(early_stopping=True, validation_fraction=0.2),
    "no_intercept": dict(fit_intercept=False),
    "n_jobs": dict(n_jobs=2, n_threads=2),
}


def _data(problem, seed=0, n=120):
    X, y = make_classification(n_samples=n, n_features=12, n_informative=6,
                               n_classes=2 if problem == "binary" else 3, random_state=seed)
    X = X * (np.random.RandomState(seed).rand(*X.shape) < 0.35)
    return sp.csr_matrix(X), y


def _densified_train_all(tasks, X, *args, **kw):
    """The engine path on the same X densified (sparse=True keeps scikit-learn's rules for
    sparse input: the damped intercept, the L1 penalty over a row's non-zeros)."""
    return _ova.train_all(tasks, X.toarray() if sp.issparse(X) else X, *args, **kw)


def _fit_pair(X, y, fit_kw=None, method="fit", **params):
    """The same estimator fitted on CSR X, and on X densified inside the engine path."""
    fit_kw = fit_kw or {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = getattr(Perceptron(random_state=3, **params), method)(X, y, **fit_kw)
        with mock.patch.object(perceptron_module, "train_all", _densified_train_all):
            b = getattr(Perceptron(random_state=3, **params), method)(X, y, **fit_kw)
    return a, b


def _same(a, b, tol=1e-12):
    scale = max(1.0, float(np.abs(b.coef_).max()), float(np.abs(b.intercept_).max()))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=tol * scale)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=0, atol=tol * scale)
    assert a.n_iter_ == b.n_iter_ and a.t_ == b.t_


@pytest.mark.parametrize("problem", ["binary", "multiclass"])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("extra", list(EXTRAS))
def test_csr_equals_the_densified_path(problem, penalty, mode, extra):
    """Every penalty, both engine extras, shuffling on and off, class and sample weights,
    early stopping, fit_intercept off, n_jobs, binary and one-vs-all: the CSR fit's weights,
    epochs and t_ are those of the same X densified, to 1e-12."""
    X, y = _data(problem, seed=len(extra) + len(mode))
    params = dict(penalty=penalty, alpha=1e-3, l1_ratio=0.3, max_iter=15, **MODES[mode],
                  **EXTRAS[extra])
    fit_kw = None
    if extra == "weights":
        sw = np.random.RandomState(1).uniform(0.0, 2.0, len(y))
        sw[::9] = 0
        fit_kw = dict(sample_weight=sw)
    a, b = _fit_pair(X, y, fit_kw, **params)
    _same(a, b)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize("params", [
    dict(loss="hinge", eta0=2.0, penalty="l2", alpha=1.0),       # eta0 * alpha >= 1
    dict(batch_size=5, tol=None, max_iter=6),                    # no stopping test
    dict(loss="hinge", verbose=0, tol=1e-1, n_iter_no_change=2),
    dict(loss="hinge", dtype="float32", penalty="elasticnet", alpha=1e-3, max_iter=10),
])
def test_csr_equals_the_densified_path_at_the_edges(params):
    X, y = _data("multiclass", seed=9)
    a, b = _fit_pair(X, y, **params)
    _same(a, b, tol=1e-5 if params.get("dtype") == "float32" else 1e-12)


@pytest.mark.parametrize("penalty", PENALTIES)
def test_partial_fit_on_csr_equals_the_densified_path(penalty):
    X, y = _data("multiclass", seed=4, n=150)
    params = dict(loss="hinge", batch_size=3, penalty=penalty, alpha=1e-3, random_state=0)
    a, b = Perceptron(**params), Perceptron(**params)
    for rows in (slice(0, 60), slice(60, 150), slice(0, 150)):
        a.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        with mock.patch.object(perceptron_module, "train_all", _densified_train_all):
            b.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        _same(a, b)


def test_csr_equals_a_dense_fit_where_the_rules_agree():
    """Without an intercept, an L1 penalty or a stopping test on the cached norms, sparse
    and dense input follow the same rule: a CSR fit equals a fit on the dense array."""
    X, y = _data("multiclass", seed=5)
    params = dict(loss="hinge", batch_size=4, penalty="l2", alpha=1e-3, fit_intercept=False,
                  tol=None, max_iter=12, random_state=0)
    a = Perceptron(**params).fit(X, y)
    b = Perceptron(**params).fit(X.toarray(), y)
    _same(a, b)


def test_explicit_zeros_and_duplicate_entries_count_as_densified():
    """A CSR matrix with stored zeros and a repeated (row, column) entry trains as its dense
    form: a zero is not a touched feature, duplicates add up."""
    X, y = _data("binary", seed=6)
    data, indices, indptr = [], [], [0]
    for r in range(X.shape[0]):
        vals = list(X.data[X.indptr[r]:X.indptr[r + 1]])
        cols = list(X.indices[X.indptr[r]:X.indptr[r + 1]])
        if r % 4 == 0 and vals:               # the first entry split in two
            vals, cols = [vals[0] / 2] + vals[:1] + vals[1:], [cols[0]] + cols
            vals[1] /= 2
        if r % 3 == 0:                        # a stored zero in a column of its own
            free = sorted(set(range(X.shape[1])) - set(cols))[0]
            vals, cols = vals + [0.0], cols + [free]
        data += vals
        indices += cols
        indptr.append(len(data))
    messy = sp.csr_matrix((np.array(data), np.array(indices), np.array(indptr)),
                          shape=X.shape)
    assert not messy.has_canonical_format and np.count_nonzero(messy.data == 0) > 0
    ref = sp.csr_matrix(messy.toarray())
    params = dict(loss="hinge", batch_size=1, penalty="l1", alpha=1e-3)
    a, _ = _fit_pair(messy, y, **params)
    _, b = _fit_pair(ref, y, **params)
    _same(a, b)


def test_verbose_lines_are_the_densified_paths(capsys):
    X, y = _data("binary", seed=2)
    a, b = _fit_pair(X, y, loss="hinge", verbose=1, max_iter=4, tol=None,
                     early_stopping=True)
    out = capsys.readouterr().out.splitlines()
    lines = [ln for ln in out if not ln.startswith("Total training time")]
    assert len(lines) == 2 * 2 * 4 and lines[:8] == lines[8:]
    assert "Validation score" in lines[1]


def test_the_reordering_rewrites_the_csr_arrays_in_place():
    """_Reshuffle on CSR rows rewrites the very arrays the engine reads (same objects, same
    sizes) with the rows in scikit-learn's next order."""
    X, _ = _data("binary", seed=1, n=40)
    src = _core.csr_input(X, np.float64)
    train = np.ones(40, bool)
    train[::5] = False
    dst = _ova._take_rows(src, np.flatnonzero(train))
    ids = [id(dst.indptr), id(dst.indices), id(dst.data)]
    ptrs = [a.__array_interface__["data"][0] for a in (dst.indptr, dst.indices, dst.data)]
    shuffle = _ova._Reshuffle(7, 40, train, [src], [dst])
    for _ in range(3):
        expect = X[shuffle.order[train[shuffle.order]]]
        got = sp.csr_matrix((dst.data, dst.indices, dst.indptr), shape=dst.shape)
        assert (got != expect).nnz == 0 and got.nnz == expect.nnz
        assert [id(dst.indptr), id(dst.indices), id(dst.data)] == ids
        assert [a.__array_interface__["data"][0]
                for a in (dst.indptr, dst.indices, dst.data)] == ptrs
        shuffle.on_epoch_end(0, {})


def test_a_csr_step_is_the_dense_train_step():
    """_CSRSteps.train_step on CSR rows: the dense train_step's loss, t and weights; a batch
    of weight 0 changes nothing (NaN loss); a non-finite step raises, changing nothing."""
    rs = np.random.RandomState(0)
    X = rs.randn(6, 5) * (rs.rand(6, 5) < 0.5)
    Y = rs.choice([-1.0, 1.0], size=(6, 1))
    spec = (0, 0.1, 0, False, 0, 0, 0, 0, 0)
    dense = _core.Engine([5, 1], ["linear"], "hinge", np.float64, max_batch=6)
    csr = _core.Engine([5, 1], ["linear"], "hinge", np.float64, max_batch=6)
    dense.theta[...] = csr.theta[...] = rs.randn(dense.n_params)
    steps = _ova._CSRSteps(csr)
    assert steps.n_params == csr.n_params
    sw = rs.uniform(0.5, 2.0, 6)
    v1, t1 = dense.train_step(X, Y, spec, sample_weight=sw)
    v2, t2 = steps.train_step(_core.csr_input(sp.csr_matrix(X), np.float64), Y, spec,
                              sample_weight=sw)
    assert t1 == t2 == 1 and abs(v1 - v2) <= 1e-12 * abs(v1)
    np.testing.assert_allclose(csr.theta, dense.theta, rtol=1e-12, atol=1e-15)
    before = csr.theta.copy()
    v, t = steps.train_step(_core.csr_input(sp.csr_matrix(X), np.float64), Y, spec,
                            sample_weight=np.zeros(6))
    assert np.isnan(v) and t == 0 and np.array_equal(csr.theta, before)
    huge = sp.csr_matrix(X * 1e200)
    with pytest.raises(FloatingPointError):
        steps.train_step(_core.csr_input(huge, np.float64), Y,
                         (0, 1e200, 0, False, 0, 0, 0, 0, 0))
    assert np.array_equal(csr.theta, before)


@pytest.mark.parametrize("params", [
    dict(loss="hinge", batch_size=100, max_iter=3, tol=None),
    dict(batch_size=50, penalty="l1", alpha=1e-4, max_iter=2, early_stopping=True,
         n_iter_no_change=1),
])
def test_csr_input_is_never_densified_on_the_engine_path(params):
    """A 2000 x 200,000 CSR matrix (100,000 non-zeros; dense it would be 3.2 GB): the
    engine path's fit and predict stay under 60 MB of traced memory -- a bounded multiple of
    the non-zeros and the weights, never rows x columns."""
    rs = np.random.RandomState(0)
    n, d, per_row = 2000, 200_000, 50
    cols = np.sort(rs.randint(0, d, size=(n, per_row)), axis=1)
    X = sp.csr_matrix((rs.rand(n * per_row), cols.ravel(), np.arange(n + 1) * per_row),
                      shape=(n, d))
    X.sum_duplicates()
    y = rs.randint(0, 3, n)
    tracemalloc.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = Perceptron(random_state=0, **params).fit(X, y)
        pred = p.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pred.shape == (n,) and p.coef_.shape == (3, d) and np.all(np.isfinite(p.coef_))
    assert peak < 60e6, peak
    assert p.score(X, y) > 0.5


@pytest.mark.parametrize("change, exc, match", [
    ("nan", ValueError, "NaN"),
    ("features", ValueError, "features"),
    ("sample_weight", ValueError, "sample_weight|Sample weights|shape"),
    ("one_class", ValueError, "greater than one"),
])
def test_bad_csr_input_gets_clear_errors(change, exc, match):
    X, y = _data("multiclass", seed=8)
    p = Perceptron(loss="hinge", batch_size=2, max_iter=3, random_state=0)
    kw = {}
    if change == "nan":
        X = X.copy()
        X.data[0] = np.nan
    elif change == "features":
        p.fit(X, y)
        coef = p.coef_.copy()
        with pytest.raises(exc, match=match):
            p.partial_fit(X[:, :5], y)
        np.testing.assert_array_equal(p.coef_, coef)       # left as it was
        return
    elif change == "sample_weight":
        kw = dict(sample_weight=np.ones(len(y) + 1))
    else:
        y = np.zeros_like(y)
    with pytest.raises(exc, match=match):
        p.fit(X, y, **kw)


def test_csr_slices_are_the_rows_of_the_scipy_matrix():
    """The Run slices its batches from the CSR rows: every kind of slice gives scipy's rows
    (steps, negative bounds, out-of-range ends, empty)."""
    X, _ = _data("binary", seed=3, n=30)
    Xc = _core.csr_input(X, np.float64)
    for key in (slice(0, 7), slice(25, 40), slice(None, None, 3), slice(-5, None),
                slice(20, 4, -2), slice(9, 9)):
        got = Xc[key]
        assert got.shape == (len(range(30)[key]), 12)
        if got.shape[0]:
            assert (got.tocsr() != X[key]).nnz == 0
