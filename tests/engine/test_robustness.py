"""Numerical edges and the engine's boundary: divergence never leaves non-finite parameters,
NaN propagates as in the reference, probabilities stay defined where sigmoids underflow, and
_core refuses aliased outputs and handles empty shapes; small argument checks."""
import itertools
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core
from fastmlp.reference import _activations   # the unchecked sigma(z): activation() refuses NaN

OPTIMIZERS = {
    "sgd": lambda lr: fm.optim.SGD(lr=lr),
    "momentum": lambda lr: fm.optim.SGD(lr=lr, momentum=0.9),
    "nesterov": lambda lr: fm.optim.SGD(lr=lr, momentum=0.9, nesterov=True),
    "weight_decay": lambda lr: fm.optim.SGD(lr=lr, weight_decay=10.0),
    "adam": lambda lr: fm.optim.Adam(lr=lr),
    "adam_efficient": lambda lr: fm.optim.Adam(lr=lr, efficient=True),
}


def test_issue_example_float32_lr_times_grad_overflow():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), rng.normal(size=64)
    m = fm.MLP([3, 8, 1], activation="relu", loss="square", dtype="float32", seed=0)
    with pytest.warns(fm.DivergenceWarning):
        hist = m.fit(X, y, optimizer=fm.optim.SGD(lr=1e3), batch_size=8, epochs=20)
    assert hist.diverged
    assert np.all(np.isfinite(m.theta))


@pytest.fixture(params=["output-split", "data-parallel"])
def step_path(request):
    """Every step size on the usual path, or on the data-parallel step (chunks of the batch
    whose gradients are summed before the one update)."""
    before = _core.get_data_parallel()
    if request.param == "data-parallel":
        _core.set_data_parallel(chunks=2, min_flops=0, max_flops=float("inf"))
    yield request.param
    _core.set_data_parallel(*before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
@pytest.mark.parametrize("width", [8, 128])            # 128 hidden units: fused SGD steps
def test_divergence_never_leaves_non_finite_parameters(dtype, opt, width, step_path):
    rng = np.random.default_rng(1)
    X, y = 100 * rng.normal(size=(64, 40)), rng.normal(size=64)
    for lr, act in itertools.product([1e2, 1e6, 1e12, 1e30, 1e36], ["relu", "tanh", "linear"]):
        m = fm.MLP([40, width, 1], activation=act, loss="square", dtype=dtype, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hist = m.fit(X, y, optimizer=OPTIMIZERS[opt](lr), batch_size=8, epochs=5)
        assert np.all(np.isfinite(m.theta)), (lr, act)
        state = m.optimizer_.state
        assert all(np.all(np.isfinite(v)) for v in state.values()), (lr, act)
        if not hist.diverged:
            assert len(hist) == 5
        if act == "linear" and lr >= 1e30 and dtype == "float32":
            assert hist.diverged, (lr, act)    # lr x gradient overflows: said, not hidden


def test_divergence_on_the_per_batch_path():
    """A user-defined loss trains batch by batch through the engine's update: the same
    guard."""
    class Square(fm.losses.Loss):
        name = "my_square"

        def value(self, Y, a):
            return float(np.sum((Y - a) ** 2) / Y.shape[0])

        def gradient(self, Y, a):
            return 2 * (a - Y) / Y.shape[0]
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), rng.normal(size=64)
    m = fm.MLP([3, 8, 1], activation="relu", dtype="float32", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(X, y, loss=Square(), optimizer=fm.optim.SGD(lr=1e30), batch_size=8, epochs=5)
    assert np.all(np.isfinite(m.theta))


def test_optimizer_step_refuses_an_overflowing_update():
    m = fm.MLP([3, 4, 1], loss="square", dtype="float32", seed=0)
    X, y = np.ones((2, 3)), np.ones(2)
    m.backward(m.forward(X), y)
    before = m.theta.copy()
    with pytest.raises(FloatingPointError):
        fm.optim.SGD(lr=1e38).step(m)
    assert np.array_equal(m.theta, before)


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "step", "sign", "piecewise_linear",
                                 "linear", "sigmoid", "tanh", "prelu", "exp"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_propagates_through_activations_as_in_the_reference(act, dtype):
    z = np.array([[np.nan, -1.0, 0.0, 2.0]], dtype=dtype)
    alpha = np.full(4, 0.25, dtype=dtype) if act == "prelu" else None
    got = _core.act_forward(act, z, alpha=alpha)
    want = _activations._act(act, z, 0.01 if act == "leaky_relu" else alpha)
    assert np.isnan(got[0, 0]) and np.isnan(want[0, 0])
    np.testing.assert_allclose(got[0, 1:], want[0, 1:], rtol=1e-6)


def test_nan_weights_are_not_hidden_by_relu():
    m = fm.MLP([3, 4, 1], activation="relu", loss="square", seed=0)
    m.weights[0][0, 0] = np.nan
    assert np.isnan(m.predict(np.ones((1, 3)))).all()
    with pytest.warns(fm.DivergenceWarning):
        hist = m.fit(np.ones((4, 3)), np.ones(4), batch_size=4, epochs=3)
    assert hist.diverged and len(hist) == 0


def test_one_vs_rest_probabilities_where_every_score_underflows():
    rng = np.random.default_rng(0)
    m = fm.MLP([2, 3], activation="relu", output="linear", loss="logistic", seed=0)
    X = rng.normal(size=(30, 2))
    m.fit(X, np.arange(30) % 3, epochs=1, batch_size=10)
    m.biases[-1][...] = -1000.0                # every score far below -745
    m.weights[-1][...] = 0.0
    m.biases[-1][0] = -990.0
    p = m.predict_proba(X)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.all(p[:, 0] > 0.99)              # e^10 times as likely as each other class


def test_softmax_over_zero_columns_and_empty_kernels():
    for act in ("softmax", "relu", "sigmoid"):
        out = _core.act_forward(act, np.empty((3, 0)))
        assert out.shape == (3, 0)
        assert _core.act_forward(act, np.empty((0, 4))).shape == (0, 4)
    assert _core.act_deriv("relu", np.empty((0, 4))).shape == (0, 4)
    with pytest.raises(ValueError, match="at least one row"):
        _core.loss("square", "linear", np.empty((0, 2)), np.empty((0, 2)), np.empty((0, 2)))
    C = _core.gemm(np.ones((3, 0)), np.ones((0, 2)))
    assert np.array_equal(C, np.zeros((3, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_refuses_a_dimension_past_a_c_int(dtype):
    # zero-size operands with one dimension of 2**31: C-contiguous, no memory, and past the
    # C engine's int dimensions -- refused with the limit named, never wrapped to negative
    big = 2 ** 31
    cases = [(np.empty((big, 0), dtype), np.empty((0, 2), dtype), False, False),
             (np.empty((0, big), dtype), np.empty((0, 2), dtype), True, False),
             (np.empty((2, 0), dtype), np.empty((0, big), dtype), False, False),
             (np.empty((2, 0), dtype), np.empty((big, 0), dtype), False, True)]
    for A, B, ta, tb in cases:
        with pytest.raises(ValueError, match=f"dimensions up to {big - 1}"):
            _core.gemm(A, B, ta, tb)
    # one below the limit is taken: C (2**31 - 1) x 0 is empty, nothing is computed
    C = _core.gemm(np.empty((big - 1, 0), dtype), np.empty((0, 0), dtype))
    assert C.shape == (big - 1, 0) and C.dtype == dtype


def test_core_refuses_aliased_outputs():
    A = np.arange(16.0).reshape(4, 4)
    with pytest.raises(ValueError, match="share"):
        _core.gemm(A, np.eye(4), C=A)
    B = np.eye(4)
    with pytest.raises(ValueError, match="share"):
        _core.gemm(np.eye(4), B, C=B)
    buf = np.zeros(20)
    with pytest.raises(ValueError, match="share"):      # a shifted overlap
        _core.act_forward("relu", buf[:16].reshape(4, 4), out=buf[4:].reshape(4, 4))
    z = np.ones((4, 4))
    assert _core.act_forward("relu", z, out=z) is z     # exactly in place is fine
    with pytest.raises(ValueError, match="share"):
        _core.act_deriv("relu", z, out=z)
    eng = _core.Engine([2, 3, 1], ["tanh", "linear"], "square", np.float64, max_batch=2)
    X = eng.theta[:4].reshape(2, 2)                     # X is a view of the parameters
    with pytest.raises(ValueError, match="theta shares memory with the input X"):
        eng.train_step(X, np.zeros((2, 1)), (0, 0.1, 0, False, 0, 0, 0, 0, 0))
    s = np.zeros(eng.n_params)
    with pytest.raises(ValueError, match="share"):
        eng.update((0, 0.1, 0.9, False, 0, 0, 0, 0, 0), state1=eng.theta)
    eng.update((0, 0.1, 0.9, False, 0, 0, 0, 0, 0), state1=s)


def test_train_epochs_memory_follows_the_epochs_done():
    """fit(epochs=10**9) interrupted or stopped early does not allocate for 10**9 epochs."""
    import tracemalloc
    m = fm.MLP([2, 4, 1], loss="square", seed=0)
    X, y = np.zeros((4, 2)), np.zeros(4)
    tracemalloc.start()
    hist = m.fit(X, y, batch_size=4, epochs=10 ** 9, early_stopping=2)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert hist.stopped_early and peak < 50 * 2**20
    eng = _core.Engine([2, 4, 1], ["tanh", "linear"], "square", np.float64, max_batch=4)
    stop = _core.StopFlag()
    stop.set()
    tracemalloc.start()
    losses, t, _ = eng.train_epochs(X, np.zeros((4, 1)), 4, 10 ** 9,
                                    (0, 0.1, 0, False, 0, 0, 0, 0, 0), stop=stop)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(losses) == 0 and eng.interrupted and peak < 2**20
    losses, t, _ = eng.train_epochs(X, np.zeros((4, 1)), 4, 70_000,
                                    (0, 0.1, 0, False, 0, 0, 0, 0, 0))
    assert len(losses) == 70_000 and t == 70_000 and np.all(np.isfinite(losses))


def test_minor_argument_checks():
    with pytest.raises(ValueError, match="prelu_init"):
        fm.MLP([2, 3, 1], activation="prelu", prelu_init=float("nan"))
    m = fm.MLP([2, 3, 1], loss="square", seed=0)
    with pytest.raises(ValueError, match="0 rows"):
        m.score(np.empty((0, 2)), np.empty(0))
    with pytest.raises(ValueError, match="layer_sizes"):
        fm.MLP([2, 2 ** 40])


def test_epochs_bound_is_the_same_with_and_without_callbacks():
    """Before: fit(epochs=2**62) said 'n_epochs must be an int >= 0' (the engine's words)
    while the same value was accepted with a callback. Both refuse it now, saying the
    bound; the CLI's --epochs too."""
    import fastmlp as fm
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])

    class Noop:
        def on_epoch_end(self, epoch, logs):
            return False

    for cbs in (None, [Noop()]):
        m = fm.MLP([2, 3, 2], loss="cross_entropy", seed=0)
        with pytest.raises(ValueError, match=r"at most 2\*\*62 - 1"):
            m.fit(X, y, epochs=2 ** 62, callbacks=cbs)
        assert m.epochs_trained_ == 0
    from fastmlp.__main__ import main
    try:
        rc = main(["train", "nofile.csv", "--epochs", str(2 ** 62)])
    except SystemExit as exc:
        rc = exc.code
    assert rc == 2


def test_n_threads_zero_is_refused_by_predict_as_by_fit():
    """Before: predict(n_threads=0) was accepted although its error text gives [1, 1024];
    fit refused 0. Both refuse it now."""
    import fastmlp as fm
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    m = fm.MLP([2, 3, 2], loss="cross_entropy", seed=0)
    m.fit(X, y, epochs=1)
    for call in (lambda: m.predict(X, n_threads=0), lambda: m.predict_proba(X, n_threads=0),
                 lambda: m.forward(X, n_threads=0), lambda: m.fit(X, y, n_threads=0)):
        with pytest.raises(ValueError, match=r"n_threads must be None or an int in \[1, 1024\]"):
            call()
    assert m.predict(X, n_threads=1).shape == (4,)


@pytest.mark.parametrize("where", ["X", "y"])
def test_a_finite_value_that_overflows_float32_says_so(where):
    """Before: a float32 model given a finite 1e39 said 'contains NaN or infinite values'.
    Now it names the value, where it is, and that it overflows float32; a real NaN keeps the
    old message."""
    import fastmlp as fm
    X, y = np.zeros((3, 2)), np.zeros(3)
    (X if where == "X" else y)[1] = 1e39
    m = fm.MLP([2, 3, 1], loss="square", dtype="float32", seed=0)
    with pytest.raises(ValueError, match=r"1e\+39 overflows float32") as info:
        m.fit(X, y, epochs=1)
    assert f"{where}[1" in str(info.value)
    if where == "X":
        with pytest.raises(ValueError, match="overflows float32"):
            m.predict(X)
    X[1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        m.fit(X, np.zeros(3), epochs=1)


def test_the_perceptron_rule_follows_the_divergence_policy():
    """Before: fm.Perceptron's updates on inputs near 1e308 overflowed and left NaN or
    infinite weights, with only numpy RuntimeWarnings. Now the failing step changes
    nothing, training stops with a DivergenceWarning naming the epoch, and the weights are
    the last finite ones."""
    import fastmlp as fm
    from fastmlp.training import DivergenceWarning
    X = np.array([[1e308, -1e308], [-1e308, 1e308], [1e308, 1e308], [-1e308, -1e308]])
    y = np.array([0, 1, 1, 0])
    p = fm.Perceptron(2, seed=0)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        p.fit(X, y, epochs=50)
    cats = [r.category for r in rec]
    assert DivergenceWarning in cats, [str(r.message) for r in rec]
    assert not any(c is RuntimeWarning for c in cats), [str(r.message) for r in rec]
    assert np.isfinite(p.W).all() and np.isfinite(p.b).all()
    assert p.diverged_ is not None and p.n_iter_ == p.diverged_ - 1
    assert not p.converged_
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert p.predict(X[:2]).shape == (2,)
    q = fm.Perceptron(2, seed=0).fit(X / 1e308, y, epochs=50)    # scaled: no divergence
    assert q.diverged_ is None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sizes", [[40, 8, 3], [4, 16, 3], [5, 3], [6, 4, 1]])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_predictions_reject_a_non_finite_x_wherever_it_is(dtype, sizes, bad):
    """Predictions check X's finiteness inside Engine.predict, per chunk -- on z^1 where the
    first layer is narrower than the input (a NaN or infinity in a row makes that row of z^1
    non-finite), on X itself otherwise. Every public prediction, and Engine.predict, refuses
    a NaN or infinity in any row of any chunk (first, last, a chunk's edge) and any column;
    the check never refuses a finite X, even one whose z^1 overflows or where weights are NaN
    (the outputs say so instead)."""
    import fastmlp as fm
    m = fm.MLP(sizes, loss="cross_entropy" if sizes[-1] > 1 else "logistic", seed=0,
               dtype=dtype)
    X = np.random.default_rng(0).random((2500, sizes[0])).astype(dtype)
    y = np.arange(2500) % max(sizes[-1], 2)
    m.fit(X[:64], y[:64], epochs=1)
    calls = {"predict": m.predict, "predict_proba": m.predict_proba,
             "decision_function": m.decision_function,
             "Engine.predict": lambda x: m.engine.predict(x, chunk=1024)}
    ok = {k: f(X) for k, f in calls.items()}
    for i, j in [(0, 0), (1023, sizes[0] - 1), (1024, 1), (2499, sizes[0] // 2)]:
        Xb = X.copy()
        Xb[i, j] = bad
        for name, f in calls.items():
            with pytest.raises(ValueError, match="X contains NaN or infinite values"):
                f(Xb)
        # the model is unchanged and still predicts the finite X bitwise as before
    for name, f in calls.items():
        np.testing.assert_array_equal(f(X), ok[name])
    huge = np.full((3, sizes[0]), np.finfo(dtype).max / 4, dtype=dtype)
    with np.errstate(all="ignore"):
        assert m.decision_function(huge).shape[0] == 3            # overflow: no error
    m.weights[0][0, 0] = np.nan
    assert np.isnan(m.decision_function(X[:5])).all()             # NaN weights: NaN outputs
