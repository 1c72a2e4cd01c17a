"""The public API fuzzed with bad shapes, dtypes and values (Hypothesis). Every call either
succeeds with a well-formed, finite result or raises TypeError/ValueError (FileNotFoundError
for a missing model file): never another exception, a crash, a hang or non-finite weights.

The example budget is fixed and the search is derandomised, so a run is reproducible: each
test tries FASTMLP_FUZZ_EXAMPLES examples (default 25; CI's .ci/fuzz runs more).
"""
import io
import os
import warnings
import zipfile

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import fastmlp as fm  # noqa: E402
from fastmlp import _core  # noqa: E402

EXAMPLES = int(os.environ.get("FASTMLP_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), print_blob=True)
OK_ERRORS = (TypeError, ValueError)

ACTS = ["relu", "tanh", "sigmoid", "linear", "step", "sign", "piecewise_linear",
        "leaky_relu", "prelu", "softmax", "gelu", "", 3, None]
LOSSES = ["square", "cross_entropy", "logistic", "hinge", "margin", "mse", "nope", None, 1]
DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int8, np.bool_, np.complex128]
# floats including the awkward ones
VALUES = st.floats(allow_nan=True, allow_infinity=True, width=64) | st.sampled_from(
    [0.0, -0.0, 1e308, -1e308, 1e-320, 3.5e38, np.nan, np.inf])


def arrays(max_dims=3, max_side=6):
    """Arrays of any of DTYPES, 0..max_dims dimensions, with awkward values mixed in."""
    return st.sampled_from(DTYPES).flatmap(lambda dt: hnp.arrays(
        dt, hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side),
        elements=VALUES.filter(lambda v: True) if np.dtype(dt).kind == "f" and
        np.dtype(dt).itemsize == 8 else None))


def _quiet():
    w = warnings.catch_warnings()
    w.__enter__()
    warnings.simplefilter("ignore")
    return w


def _model(sizes=(3, 5, 2), loss="square", dtype="float64"):
    return fm.MLP(list(sizes), loss=loss, dtype=dtype, seed=0)


@FUZZ
@given(sizes=st.lists(st.one_of(st.integers(-3, 9), st.just(2 ** 31), st.floats(0, 5),
                                st.text(max_size=2)), min_size=0, max_size=4),
       act=st.sampled_from(ACTS), loss=st.sampled_from(LOSSES),
       dtype=st.sampled_from(["float32", "float64", "float16", "int", None, np.float32]),
       leaky=VALUES, prelu=VALUES, n_threads=st.one_of(st.none(), st.integers(-2, 2 ** 41)))
def test_construction(sizes, act, loss, dtype, leaky, prelu, n_threads):
    try:
        m = fm.MLP(sizes, activation=act, loss=loss, dtype=dtype, seed=0, leaky_alpha=leaky,
                   prelu_init=prelu, n_threads=n_threads)
    except OK_ERRORS:
        return
    assert np.all(np.isfinite(m.theta)) and m.n_params == m.theta.size


@FUZZ
@given(X=arrays(), loss=st.sampled_from(["square", "cross_entropy", "logistic"]),
       dtype=st.sampled_from(["float32", "float64"]))
def test_predictions(X, loss, dtype):
    m = _model(loss=loss, dtype=dtype)
    if loss != "square":
        m.fit(np.eye(3)[[0, 1, 2, 0]], [0, 1, 0, 1], batch_size=2, epochs=1)
    for call in (m.predict, m.decision_function, m.predict_proba,
                 lambda X: m.forward(X).output):
        try:
            out = call(X)
        except OK_ERRORS:
            continue
        out = np.asarray(out)
        assert out.shape[0] == np.asarray(X).reshape(-1, 3).shape[0]
        if out.dtype.kind == "f":
            assert np.all(np.isfinite(out))
    try:
        s = m.score(X, np.zeros(len(X)) if np.ndim(X) else [0])
    except OK_ERRORS:
        return
    assert isinstance(s, float)


@FUZZ
@given(X=arrays(max_dims=2, max_side=8), y=arrays(max_dims=2, max_side=8),
       loss=st.sampled_from(["square", "cross_entropy", "logistic", "hinge"]),
       opt=st.sampled_from(["sgd", "adam", "momentum"]), lr=VALUES,
       batch=st.one_of(st.none(), st.integers(-1, 10)), epochs=st.integers(-1, 3),
       dtype=st.sampled_from(["float32", "float64"]),
       weights=st.one_of(st.none(), arrays(max_dims=1, max_side=8)))
def test_fit(X, y, loss, opt, lr, batch, epochs, dtype, weights):
    m = _model(loss=loss, dtype=dtype)
    try:
        optimizer = {"sgd": lambda: fm.optim.SGD(lr=lr), "adam": lambda: fm.optim.Adam(lr=lr),
                     "momentum": lambda: fm.optim.SGD(lr=lr, momentum=0.9)}[opt]()
    except OK_ERRORS:
        return
    w = _quiet()
    try:
        hist = m.fit(X, y, optimizer=optimizer, batch_size=batch, epochs=epochs,
                     sample_weight=weights)
    except OK_ERRORS:
        return
    finally:
        w.__exit__(None, None, None)
    assert np.all(np.isfinite(m.theta))
    assert len(hist) <= max(epochs, 0)


@FUZZ
@given(z=arrays(max_dims=3, max_side=5), act=st.sampled_from(ACTS),
       out_kind=st.sampled_from(["none", "same", "shifted", "other"]))
def test_core_kernels(z, act, out_kind):
    out = None
    if isinstance(z, np.ndarray) and z.ndim == 2 and z.dtype in (np.float32, np.float64):
        if out_kind == "same":
            out = z
        elif out_kind == "shifted" and z.size > 1:
            buf = np.zeros(z.size + 1, dtype=z.dtype)
            z = buf[:-1].reshape(z.shape)
            out = buf[1:].reshape(z.shape)
        elif out_kind == "other":
            out = np.empty_like(z)
    for call in (lambda: _core.act_forward(act, z, out=out),
                 lambda: _core.act_deriv(act, z, out=out),
                 lambda: _core.gemm(z, z.T if isinstance(z, np.ndarray) else z, C=out)):
        try:
            r = call()
        except OK_ERRORS:
            continue
        assert isinstance(r, np.ndarray)


@FUZZ
@given(data=st.data())
def test_load_of_damaged_files(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("fuzz")
    m = _model(loss="cross_entropy")
    m.fit(np.eye(3)[[0, 1, 2, 0]], [0, 1, 0, 1], batch_size=2, epochs=1)
    raw = open(m.save(d / "m.npz"), "rb").read()
    how = data.draw(st.sampled_from(["flip", "truncate", "entry"]))
    if how == "flip":
        pos = data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=8))
        b = bytearray(raw)
        for p in pos:
            b[p] ^= data.draw(st.integers(1, 255))
        raw = bytes(b)
    elif how == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    else:                                       # one entry replaced by an arbitrary array
        name = data.draw(st.sampled_from(["theta", "config", "classes", "fastmlp_format"]))
        arr = data.draw(arrays(max_dims=2, max_side=40) | st.text(max_size=30).map(
            lambda t: np.array([t])))
        with np.load(d / "m.npz") as f:
            entries = {k: f[k] for k in f.files}
        entries[name] = arr
        buf = io.BytesIO()
        np.savez(buf, **entries)
        raw = buf.getvalue()
    p = d / "bad.npz"
    p.write_bytes(raw)
    try:
        loaded = fm.load(p)
    except (ValueError, zipfile.BadZipFile) as exc:
        assert not isinstance(exc, zipfile.BadZipFile), "BadZipFile escaped"
        assert "bad.npz" in str(exc)
        return
    assert np.all(np.isfinite(loaded.theta))
    loaded.predict(np.zeros((2, loaded.layer_sizes[0])))


@FUZZ
@given(n=st.integers(1, 12), data=st.data(),
       loss=st.sampled_from(["square", "cross_entropy", "logistic"]),
       opt=st.sampled_from(["sgd", "adam", "nesterov"]),
       lr=st.floats(1e-6, 1e38), scale=st.sampled_from([1.0, 1e3, 1e18, 1e36]),
       batch=st.integers(1, 12), dtype=st.sampled_from(["float32", "float64"]),
       act=st.sampled_from(["relu", "tanh", "step", "prelu", "leaky_relu", "sigmoid"]))
def test_fit_well_shaped_awkward_values(n, data, loss, opt, lr, scale, batch, dtype, act):
    """Shapes right, values anywhere (huge inputs, huge rates): training either runs or
    diverges, and never leaves non-finite weights."""
    X = data.draw(hnp.arrays(np.float64, (n, 3), elements=st.floats(-1, 1))) * scale
    y = data.draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, 1)))
    m = fm.MLP([3, 6, 2], activation=act, loss=loss, dtype=dtype, seed=0)
    optimizer = {"sgd": fm.optim.SGD(lr=lr), "adam": fm.optim.Adam(lr=lr),
                 "nesterov": fm.optim.SGD(lr=lr, momentum=0.9, nesterov=True)}[opt]
    w = _quiet()
    try:
        y_fit = np.stack([y, 1 - y], axis=1).astype(float) if loss == "square" else y
        hist = m.fit(X, y_fit, optimizer=optimizer, batch_size=min(batch, n), epochs=3)
    except OK_ERRORS:
        return
    finally:
        w.__exit__(None, None, None)
    assert np.all(np.isfinite(m.theta))
    assert hist.diverged or len(hist) == 3
