"""Sparse (CSR) input kept sparse: the engine's CSR paths against the dense ones (float64 to
1e-12, float32 to 1e-4), through Engine, fastmlp.MLP and the scikit-learn estimators; the
checks of a CSR matrix; and memory bounded by the non-zeros (a subprocess under an
address-space limit that the dense matrix could never fit in)."""
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

sp = pytest.importorskip("scipy.sparse")

import fastmlp as fm  # noqa: E402
from fastmlp import _core  # noqa: E402
from fastmlp.optim import SGD, Adam  # noqa: E402

ARCHS = [  # (sizes, activations, loss)
    ([40, 12, 3], ["relu", "softmax"], "cross_entropy"),
    ([40, 9, 7, 2], ["tanh", "relu", "linear"], "square"),
    ([40, 3], ["softmax"], "cross_entropy"),
    ([40, 6, 2], ["prelu", "sigmoid"], "square"),
]


def _data(n=240, d=40, density=0.12, seed=0):
    X = sp.random(n, d, density=density, random_state=seed, format="csr")
    X.data = X.data * 2 - 1
    return X


def _engines(sizes, acts, loss, dtype, seed=0):
    a = _core.Engine(sizes, acts, loss, dtype)
    a.theta[:] = np.random.default_rng(seed).normal(0, 0.2, a.n_params)
    b = _core.Engine(sizes, acts, loss, dtype)
    b.theta[:] = a.theta
    return a, b


def _targets(n, m, loss, seed=1):
    rng = np.random.default_rng(seed)
    if loss == "cross_entropy":
        return np.eye(m)[rng.integers(0, m, n)]
    return rng.random((n, m))


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("arch", ARCHS, ids=lambda a: "-".join(a[1]))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("opt", ["adam", "sgd"])
def test_engine_train_predict_evaluate_equal_dense_float64(arch, weighted, opt):
    sizes, acts, loss = arch
    X = _data()
    Xd = X.toarray()
    Y = _targets(X.shape[0], sizes[-1], loss)
    sw = np.random.default_rng(2).random(X.shape[0]) if weighted else None
    a, b = _engines(sizes, acts, loss, np.float64)
    o1 = Adam(lr=0.01, l2=0.3) if opt == "adam" else SGD(lr=0.05, momentum=0.9, l2=0.3)
    o2 = Adam(lr=0.01, l2=0.3) if opt == "adam" else SGD(lr=0.05, momentum=0.9, l2=0.3)
    for o in (o1, o2):
        o._ensure_state(a.n_params, np.float64)
    s = [o1.state.get(k) for k in o1._needed_state()] + [None, None]
    t = [o2.state.get(k) for k in o2._needed_state()] + [None, None]
    la, ta, da = a.train_epochs(Xd, Y, 32, 4, o1.spec(), s[0], s[1], seed=5, sample_weight=sw)
    lb, tb, db = b.train_epochs(X, Y, 32, 4, o2.spec(), t[0], t[1], seed=5, sample_weight=sw)
    assert not da and not db and ta == tb
    assert _rel(b.theta, a.theta) < 1e-12
    np.testing.assert_allclose(lb, la, rtol=1e-12)
    np.testing.assert_allclose(b.predict(X), a.predict(Xd), rtol=1e-12, atol=1e-14)
    va, oa = a.evaluate(Xd, Y, sample_weight=sw)
    vb, ob = b.evaluate(X, Y, sample_weight=sw)
    assert abs(va - vb) <= 1e-12 * abs(va)
    np.testing.assert_allclose(ob, oa, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("arch", ARCHS[:2], ids=lambda a: "-".join(a[1]))
def test_engine_float32_equal_dense(arch):
    sizes, acts, loss = arch
    X = _data().astype(np.float32)
    Y = _targets(X.shape[0], sizes[-1], loss).astype(np.float32)
    a, b = _engines(sizes, acts, loss, np.float32)
    spec = SGD(lr=0.05).spec()
    a.train_epochs(X.toarray(), Y, 16, 3, spec, seed=1)
    b.train_epochs(X, Y, 16, 3, spec, seed=1)
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b.predict(X), a.predict(X.toarray()), rtol=1e-4, atol=1e-5)


def test_formats_unsorted_duplicates_and_int64_indices_equal_dense():
    X = _data(n=50)
    coo = X.tocoo()
    # duplicates (an entry split in two halves) and reversed column order within rows
    rows = np.concatenate([coo.row, coo.row])
    cols = np.concatenate([coo.col, coo.col])
    vals = np.concatenate([coo.data / 2, coo.data / 2])
    dup = sp.csr_matrix((vals[::-1], (rows[::-1], cols[::-1])), shape=X.shape)
    dup.has_canonical_format = False
    big = X.copy()
    big.indices = big.indices.astype(np.int64)
    big.indptr = big.indptr.astype(np.int64)
    e = _core.Engine([40, 8, 2], ["relu", "linear"], "square", np.float64)
    e.theta[:] = np.random.default_rng(0).normal(size=e.n_params)
    want = e.predict(X.toarray())
    for M in (X, X.tocsc(), X.tocoo(), sp.csr_array(X), dup, big, _core.csr_input(X, np.float64)):
        np.testing.assert_allclose(e.predict(M), want, rtol=1e-12, atol=1e-13)


def test_thread_count_does_not_change_a_bit():
    X = _data(n=600, d=300, density=0.05)
    Y = _targets(600, 4, "cross_entropy")
    out = []
    for nt in (1, 2):
        e = _core.Engine([300, 64, 4], ["relu", "softmax"], "cross_entropy", np.float64)
        e.theta[:] = np.random.default_rng(0).normal(0, 0.1, e.n_params)
        o = Adam(lr=0.01)
        o._ensure_state(e.n_params, np.float64)
        e.train_epochs(X, Y, 200, 2, o.spec(), o.state["m"], o.state["v"], seed=3, n_threads=nt)
        out.append((e.theta.copy(), e.predict(X, n_threads=nt, chunk=4096)))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])


def test_bad_sparse_input_is_refused_clearly():
    e = _core.Engine([40, 5, 2], ["relu", "linear"], "square", np.float64)
    X = _data(n=20)
    with pytest.raises(ValueError, match="features"):
        e.predict(_data(n=20, d=41))
    bad = X.copy()
    bad.indices[0] = 40
    with pytest.raises(ValueError, match="column indices"):
        _core.csr_input(bad, np.float64)
    nan = X.copy()
    nan.data[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        e.predict(nan)
    with pytest.raises(TypeError, match="dense X"):
        e.forward(X)
    with pytest.raises(TypeError, match="dense X"):
        e.train_step(X, np.zeros((20, 2)), SGD(lr=0.1).spec())
    with pytest.raises(TypeError, match="scipy.sparse"):
        _core.csr_input(np.zeros((2, 40)), np.float64)
    m = fm.MLP([40, 5, 2], loss="square", seed=0)
    with pytest.raises(TypeError, match="dense X"):
        m.forward(X)


@pytest.mark.parametrize("kw", [dict(), dict(validation_split=0.25)])
def test_mlp_fit_predict_score_equal_dense(kw):
    X = _data(n=300)
    y = (X.toarray().sum(1) > 0).astype(int)
    got = []
    for data in (X.toarray(), X.tocsc()):
        m = fm.MLP([40, 16, 2], activation="relu", output="softmax", loss="cross_entropy",
                   seed=3)
        h = m.fit(data, y, epochs=4, batch_size=32, optimizer=Adam(lr=0.01), **kw)
        got.append((m.engine.theta.copy(), m.predict_proba(data), m.predict(data),
                    m.score(data, y), h.loss, h.val_loss if kw else None))
    (ta, pa, ya, sa, la, va), (tb, pb, yb, sb, lb, vb) = got
    assert _rel(tb, ta) < 1e-12
    np.testing.assert_allclose(pb, pa, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(yb, ya)
    assert sa == sb
    np.testing.assert_allclose(lb, la, rtol=1e-12)
    if kw:
        np.testing.assert_allclose(vb, va, rtol=1e-12)


def _fit_both(Est, y, **kw):
    X = _data(n=400, d=60, density=0.06)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = Est(hidden_layer_sizes=(20,), max_iter=12, random_state=0, **kw).fit(X.toarray(), y)
        b = Est(hidden_layer_sizes=(20,), max_iter=12, random_state=0, **kw).fit(X, y)
    return X, a, b


def _same_weights(a, b, tol):
    for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert np.abs(p - q).max() <= tol * max(np.abs(p).max(), 1.0)


CLF_CASES = [dict(), dict(solver="sgd", momentum=0.9, early_stopping=True),
             dict(solver="lbfgs"), dict(loss="hinge", solver="sgd"),
             dict(sample_weight=True)]


@pytest.mark.parametrize("kw", CLF_CASES, ids=str)
def test_classifier_sparse_equals_dense(kw):
    from fastmlp.sklearn import MLPClassifier
    kw = dict(kw)
    y = np.random.default_rng(1).integers(0, 3, 400)
    fit_kw = {}
    if kw.pop("sample_weight", False):
        fit_kw = dict(sample_weight=np.random.default_rng(2).random(400))
    X = _data(n=400, d=60, density=0.06)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = MLPClassifier((20,), max_iter=12, random_state=0, **kw).fit(X.toarray(), y, **fit_kw)
        b = MLPClassifier((20,), max_iter=12, random_state=0, **kw).fit(X, y, **fit_kw)
    _same_weights(a, b, 1e-12)
    Xd = X.toarray()
    if hasattr(a, "predict_proba"):
        np.testing.assert_allclose(b.predict_proba(X), a.predict_proba(Xd), rtol=1e-12,
                                   atol=1e-14)
    if hasattr(a, "decision_function"):
        np.testing.assert_allclose(b.decision_function(X), a.decision_function(Xd),
                                   rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(b.predict(X), a.predict(Xd))
    assert b.score(X, y) == a.score(Xd, y)
    assert b.n_iter_ == a.n_iter_


def test_partial_fit_float32_and_regressor_sparse_equal_dense():
    from fastmlp.sklearn import MLPClassifier, MLPRegressor
    X = _data(n=300, d=50, density=0.08)
    Xd = X.toarray()
    y = np.random.default_rng(1).integers(0, 2, 300)
    a = MLPClassifier((10,), random_state=0)
    b = MLPClassifier((10,), random_state=0)
    for _ in range(3):
        a.partial_fit(Xd, y, classes=[0, 1])
        b.partial_fit(X, y, classes=[0, 1])
    _same_weights(a, b, 1e-12)
    yr = Xd @ np.random.default_rng(3).normal(size=50)
    for solver in ("adam", "lbfgs"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = MLPRegressor(hidden_layer_sizes=(12,), solver=solver, max_iter=10,
                             random_state=0).fit(Xd, yr)
            b = MLPRegressor(hidden_layer_sizes=(12,), solver=solver, max_iter=10,
                             random_state=0).fit(X, yr)
        _same_weights(a, b, 1e-10 if solver == "lbfgs" else 1e-12)
        np.testing.assert_allclose(b.predict(X), a.predict(Xd), rtol=1e-10, atol=1e-12)
    X32 = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = MLPClassifier((10,), max_iter=5, random_state=0).fit(X32.toarray(), y)
        b = MLPClassifier((10,), max_iter=5, random_state=0).fit(X32, y)
    assert b.coefs_[0].dtype == np.float32
    _same_weights(a, b, 1e-4)
    np.testing.assert_allclose(b.predict_proba(X32), a.predict_proba(X32.toarray()),
                               rtol=1e-4, atol=1e-5)


_UNDER_LIMIT = r"""
import resource, warnings, numpy as np, scipy.sparse as sp
from fastmlp.sklearn import MLPClassifier
import fastmlp as fm
n, d = 20000, 60000                     # dense float64: 9.6 GB
rng = np.random.default_rng(0)            # 30 non-zeros a row (not sp.random: it draws
rows = np.repeat(np.arange(n), 30)        # from all n x d positions, 9.6 GB of indices)
X = sp.csr_matrix((rng.random(rows.size), (rows, rng.integers(0, d, rows.size))), shape=(n, d))
y = rng.integers(0, 3, n)
vsz = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (vsz + (1536 << 20), resource.RLIM_INFINITY))
try:
    X.toarray()
    print("dense fits")
except MemoryError:
    print("dense refused")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    clf = MLPClassifier((32,), max_iter=2, random_state=0).fit(X, y)
print("classes", clf.predict(X[:1000]).shape, np.isfinite(clf.predict_proba(X)).all())
m = fm.MLP([d, 16, 3], loss="cross_entropy", seed=0)
m.fit(X, y, epochs=1, batch_size=200)
print("mlp", m.predict(X).shape)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="Linux /proc")
def test_sparse_fit_under_a_memory_limit_the_dense_matrix_could_not_fit():
    """A 20000 x 60000 CSR matrix (9.6 GB dense) trains and predicts in an address space of
    its own size plus 1.5 GB; the same limit refuses its dense form."""
    env = dict(os.environ, OMP_STACKSIZE="16M", MALLOC_ARENA_MAX="2")
    out = subprocess.run([sys.executable, "-c", _UNDER_LIMIT], env=env, timeout=600,
                         capture_output=True, text=True)
    assert out.returncode == 0, (out.returncode, out.stdout, out.stderr[-2000:])
    assert "dense refused" in out.stdout, out.stdout
    assert "classes (1000,) True" in out.stdout and "mlp (20000,)" in out.stdout, out.stdout
