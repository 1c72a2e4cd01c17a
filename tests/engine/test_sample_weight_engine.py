"""Per-sample weights and the l2 coefficient in the C training path (Engine.train_step,
train_epochs, evaluate), against independent NumPy computations: the reference's per-sample
gradients combined as sum_i w_i g_i / sum_i w_i, repeated and removed rows, rescaled
weights, the thread count, and train_epochs against a loop of train_step."""
import numpy as np
import pytest

from fastmlp import _core
from fastmlp import reference as R

from weighted_helpers import (DTYPES, TOL, CASES, SIZES, close, targets, setup, ref_weighted, engine_params, row_sum, OPTS, ref_first_step)  # noqa: F401


# --------------------------------------------------------------------------------------
# one weighted step against the reference
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
@pytest.mark.parametrize("opt,fused", [("sgd", True), ("sgd", False), ("momentum", False),
                                       ("adam", False)])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_weighted_step_equals_reference(dtype, case, opt, fused, l2, fusion):
    loss, hidden, out = case
    fusion(1 << 30 if fused else 0)
    n = 11
    eng, acts, params, X, Y = setup(loss, hidden, out, dtype, n, seed=3)
    w = np.random.default_rng(5).uniform(0.0, 3.0, n).astype(dtype)
    w[2] = 0                                   # a sample that must not count
    base, n_state = OPTS[opt]
    states = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
    value, t = eng.train_step(X, Y, base + (0, l2), *states, sample_weight=w)
    assert t == 1
    ref_value, g, S = ref_weighted(params, acts, loss, X, Y, w)
    close(value, ref_value, dtype)
    if not fused:   # the stored gradient is the weighted mean's (no decay in it)
        close(eng.grad, np.concatenate([x.ravel() for x in g]), dtype)
    ref = ref_first_step(params, g, opt, base[4] + l2 / S)
    for mine, theirs in zip(engine_params(eng), ref):
        close(mine, theirs, dtype)


# --------------------------------------------------------------------------------------
# equivalences that need no reference
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES[:3], ids=[c[0] for c in CASES[:3]])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_integer_weights_equal_repeated_rows(dtype, case, opt):
    """Full batch: weight k == the row k times (0: the row absent), l2 included (S_b is the
    row count of the repeated batch)."""
    loss, hidden, out = case
    n = 9
    eng, _, _, X, Y = setup(loss, hidden, out, dtype, n, seed=7, max_batch=40)
    theta0 = eng.theta.copy()
    w = np.array([1, 3, 0, 2, 1, 0, 4, 1, 2])
    base, n_state = OPTS[opt]
    spec = base + (0, 0.5)
    s_w = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
    v_w, _ = eng.train_step(X, Y, spec, *s_w, sample_weight=w)
    theta_w = eng.theta.copy()
    eng.theta[:] = theta0
    rep = np.repeat(np.arange(n), w)
    s_r = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
    v_r, _ = eng.train_step(X[rep], Y[rep], spec, *s_r)
    close(v_w, v_r, dtype)
    close(theta_w, eng.theta, dtype)
    for a, c in zip(s_w, s_r):
        close(a, c, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_zero_weight_equals_absent_row(dtype, case):
    loss, hidden, out = case
    n = 8
    eng, _, _, X, Y = setup(loss, hidden, out, dtype, n, seed=9)
    theta0 = eng.theta.copy()
    w = np.random.default_rng(1).uniform(0.5, 2, n).astype(dtype)
    w[[0, 5]] = 0
    # an absent row's cost may be anything, even infinite (the prelu case in float64); in
    # float32 it stays below what a fused step's overflow guard rejects
    X[5] = 1e200 if dtype == np.float64 else 1e15
    spec = OPTS["sgd"][0] + (0, 0.2)
    v_w, t = eng.train_step(X, Y, spec, sample_weight=w)
    assert np.isfinite(v_w) and t == 1
    theta_w = eng.theta.copy()
    eng.theta[:] = theta0
    keep = w > 0
    v_k, _ = eng.train_step(X[keep], Y[keep], spec, sample_weight=w[keep])
    close(v_w, v_k, dtype)
    close(theta_w, eng.theta, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
def test_rescaled_weights_change_nothing(dtype, opt):
    """The step depends on w / sum(w) only (with l2 = 0): a power-of-two factor gives the
    same bits, any other factor the same result to rounding."""
    n = 10
    results = []
    w = np.random.default_rng(2).uniform(0.1, 2.0, n).astype(dtype)
    for k in (1.0, 4.0, 3.7):
        eng, _, _, X, Y = setup("cross_entropy", "relu", "softmax", dtype, n, seed=11)
        base, n_state = OPTS[opt]
        states = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
        v, _ = eng.train_step(X, Y, base + (0,), *states, sample_weight=w * dtype(k))
        results.append((v, eng.theta.copy()))
    assert results[0][0] == results[1][0]
    assert np.array_equal(results[0][1], results[1][1])
    close(results[2][0], results[0][0], dtype)
    close(results[2][1], results[0][1], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
def test_unit_weights_equal_unweighted_bitwise(dtype, opt):
    """All-ones weights: c_i = n * 1 / n = 1 exactly, so the same bits as no weights, in a
    step and in whole epochs (fused path for sgd); evaluate sums sum_i c_i / n per row
    instead of (chunk means) x (chunk sizes), equal within 1e-12."""
    n = 30
    out = []
    for sw in (None, np.ones(n)):
        eng, _, _, X, Y = setup("cross_entropy", "relu", "softmax", dtype, n, seed=13)
        base, n_state = OPTS[opt]
        states = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
        v, t = eng.train_step(X, Y, base + (0, 0.1), *states, sample_weight=sw)
        losses, t, _ = eng.train_epochs(X, Y, 7, 3, base + (t, 0.1), *states, seed=4,
                                        sample_weight=sw)
        value, _ = eng.evaluate(X, Y, chunk=8, sample_weight=sw)
        out.append((v, losses, value, eng.theta.copy(), t))
    assert out[0][0] == out[1][0] and out[0][4] == out[1][4]
    assert out[0][2] == pytest.approx(out[1][2], rel=1e-12, abs=0)
    assert np.array_equal(out[0][1], out[1][1])
    assert np.array_equal(out[0][3], out[1][3])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", ["sgd", "momentum"])
def test_weighted_threads_bitwise(dtype, opt):
    """A weighted step and weighted epochs on a team of 2 threads (the step is large enough)
    give the bits of one thread, skipped all-zero batches included (in order and shuffled)."""
    sizes = [64, 200, 150, 10]
    n = 96
    w = np.random.default_rng(3).uniform(0, 2, 4 * n)
    w[:40] = 0                    # with shuffle=False the first batch of 32 has no weight
    sparse = np.zeros(4 * n)
    sparse[[5, 77, 300]] = 1.0    # shuffled: most batches of 32 have no weight
    perm = _core.permutation(8, 0, 4 * n)
    live = len({int(np.where(perm == i)[0][0]) // 32 for i in (5, 77, 300)})
    results = []
    for nt in (1, 2):
        eng, _, _, X, Y = setup("cross_entropy", "relu", "softmax", dtype, 4 * n, seed=17,
                                sizes=sizes, max_batch=n)
        base, n_state = OPTS[opt]
        states = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
        v, t = eng.train_step(X[:n], Y[:n], base + (0, 0.2), *states, n_threads=nt,
                              sample_weight=w[:n])
        l1, t, _ = eng.train_epochs(X, Y, n, 2, base + (t, 0.2), *states, seed=3,
                                    n_threads=nt, sample_weight=w)
        l2, t, _ = eng.train_epochs(X, Y, 32, 1, base + (t, 0.2), *states, shuffle=False,
                                    n_threads=nt, sample_weight=w)
        l3, t, _ = eng.train_epochs(X, Y, 32, 1, base + (t, 0.2), *states, seed=8,
                                    n_threads=nt, sample_weight=sparse)
        results.append((v, l1, l2, l3, t, eng.theta.copy()))
    assert results[0][4] == 1 + 8 + 11 + live     # all-zero batches skipped
    assert results[0][0] == results[1][0] and results[0][4] == results[1][4]
    for a, b in zip(results[0][1:], results[1][1:]):
        assert np.array_equal(a, b)


# --------------------------------------------------------------------------------------
# whole epochs
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("fused", [True, False])
def test_train_epochs_equals_train_step_loop(dtype, opt, fused, fusion):
    """Shuffled weighted epochs (short last batch, l2) in one C call == train_step over the
    same permutation, batch by batch, with the weights gathered like the rows."""
    fusion(1 << 30 if fused else 0)
    N, B, E, seed, epoch0 = 47, 8, 3, 21, 5
    eng, _, _, X, Y = setup("logistic", "tanh", "tanh", dtype, N, seed=23, max_batch=B)
    theta0 = eng.theta.copy()
    w = np.random.default_rng(4).uniform(0, 2, N).astype(dtype)
    w[::5] = 0
    base, n_state = OPTS[opt]
    states = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
    losses, t, div = eng.train_epochs(X, Y, B, E, base + (0, 0.4), *states, seed=seed,
                                      epoch0=epoch0, sample_weight=w, n_threads=1)
    assert not div and len(losses) == E and t == E * 6
    theta_run = eng.theta.copy()
    eng.theta[:] = theta0
    states2 = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
    t2, expect = 0, []
    for e in range(E):
        perm = _core.permutation(seed, epoch0 + e, N)
        total, seen = 0.0, 0
        for s in range(0, N, B):
            idx = perm[s:s + B]
            v, t2 = eng.train_step(X[idx], Y[idx], base + (t2, 0.4), *states2,
                                   sample_weight=w[idx], n_threads=1)
            total += v * len(idx)
            seen += len(idx)
        expect.append(total / seen)
    assert t2 == t
    assert np.array_equal(eng.theta, theta_run)
    assert np.array_equal(np.array(expect), losses)
    for a, c in zip(states, states2):
        assert np.array_equal(a, c)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_weight_batches_are_skipped(dtype):
    """A batch whose weights sum to 0 changes nothing, t included, and is left out of the
    epoch loss; a step with all-zero weights returns NaN and changes nothing."""
    N, B = 20, 5
    eng, _, _, X, Y = setup("square", "tanh", "linear", dtype, N, seed=29)
    theta0 = eng.theta.copy()
    w = np.random.default_rng(6).uniform(0.5, 1.5, N).astype(dtype)
    w[5:10] = 0                                             # the second batch
    spec = OPTS["adam"][0] + (0, 0.1)
    m, v = np.zeros(eng.n_params, dtype), np.zeros(eng.n_params, dtype)
    losses, t, _ = eng.train_epochs(X, Y, B, 2, spec, m, v, shuffle=False, sample_weight=w)
    assert t == 2 * 3
    theta_w, m_w, v_w = eng.theta.copy(), m.copy(), v.copy()
    keep = np.r_[0:5, 10:20]
    eng.theta[:] = theta0
    m[:], v[:] = 0, 0
    losses_k, t_k, _ = eng.train_epochs(X[keep], Y[keep], B, 2, spec, m, v, shuffle=False,
                                        sample_weight=w[keep])
    assert t_k == t
    assert np.array_equal(theta_w, eng.theta)
    assert np.array_equal(m_w, m) and np.array_equal(v_w, v)
    assert np.array_equal(losses, losses_k)
    # a single step without weight
    before = (eng.theta.copy(), m.copy(), v.copy())
    value, t2 = eng.train_step(X[5:10], Y[5:10], spec[:8] + (t, 0.1), m, v,
                               sample_weight=w[5:10])
    assert np.isnan(value) and t2 == t
    for a, c in zip(before, (eng.theta, m, v)):
        assert np.array_equal(a, c)
    # an epoch without weight: no step, its loss NaN
    losses0, t3, div = eng.train_epochs(X, Y, B, 1, spec[:8] + (t, 0.1), m, v,
                                        sample_weight=np.zeros(N))
    assert t3 == t and not div and np.isnan(losses0[0])
    assert np.array_equal(before[0], eng.theta)


# --------------------------------------------------------------------------------------
# the l2 coefficient
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt,fused", [("sgd", True), ("sgd", False), ("momentum", False),
                                       ("adam", False)])
@pytest.mark.parametrize("weighted", [False, True])
def test_l2_is_weight_decay_plus_l2_over_batch_weight(dtype, opt, fused, weighted, fusion):
    """l2 == weight_decay + l2 / S_b in closed form, bitwise: for a step, and for a whole
    epoch in one call whose short last batch gets its own S_b."""
    fusion(1 << 30 if fused else 0)
    N, B, l2 = 20, 8, 0.7
    eng, _, _, X, Y = setup("cross_entropy", "relu", "softmax", dtype, N, seed=31)
    theta0 = eng.theta.copy()
    w = np.random.default_rng(8).uniform(0.2, 3, N).astype(dtype) if weighted else None
    base, n_state = OPTS[opt]

    def S(sl):
        return row_sum(w[sl]) if weighted else float(sl.stop - sl.start)

    def run(steps):
        eng.theta[:] = theta0
        states = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
        t = 0
        for sl, spec in steps:
            _, t = eng.train_step(X[sl], Y[sl], spec[:8] + (t,) + spec[8:], *states,
                                  sample_weight=None if w is None else w[sl])
        return eng.theta.copy(), states

    slices = [slice(0, 8), slice(8, 16), slice(16, 20)]
    a = run([(sl, base + (l2,)) for sl in slices])
    b = run([(sl, base[:4] + (base[4] + l2 / S(sl),) + base[5:]) for sl in slices])
    assert np.array_equal(a[0], b[0])
    # the whole epoch, short last batch included, in one call
    eng.theta[:] = theta0
    states = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
    _, t, _ = eng.train_epochs(X, Y, B, 1, base + (0, l2), *states, shuffle=False,
                               sample_weight=w)
    assert t == 3
    assert np.array_equal(eng.theta, a[0])
    for x, y in zip(states, a[1]):
        assert np.array_equal(x, y)
    # l2 = 0 is exactly no l2 (a 9-entry spec)
    c = run([(sl, base + (0.0,)) for sl in slices])
    d = run([(sl, base) for sl in slices])
    assert np.array_equal(c[0], d[0])


def test_l2_spec_checks():
    eng = _core.Engine([3, 4, 2], ["tanh", "linear"], "square", np.float64)
    X, Y = np.zeros((2, 3)), np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"l2 .* must be a finite number >= 0"):
        eng.train_step(X, Y, (0, 0.1, 0, False, 0, 0, 0, 0, 0, -1.0))
    with pytest.raises(ValueError, match=r"l2 .* must be a finite number >= 0"):
        eng.train_step(X, Y, (0, 0.1, 0, False, 0, 0, 0, 0, 0, np.nan))
    with pytest.raises(ValueError, match="got 11 entries"):
        eng.train_step(X, Y, (0, 0.1, 0, False, 0, 0, 0, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="no batch to divide l2 by"):
        eng.update((0, 0.1, 0, False, 0, 0, 0, 0, 0, 0.5))
    assert eng.update((0, 0.1, 0, False, 0, 0, 0, 0, 0, 0.0)) == 1


# --------------------------------------------------------------------------------------
# evaluate
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_evaluate_weighted_mean(dtype, case):
    loss, hidden, out = case
    n = 50
    eng, acts, (W, b, al), X, Y = setup(loss, hidden, out, dtype, n, seed=37)
    w = np.random.default_rng(9).uniform(0, 4, n)
    w[3] = 0
    value, output = eng.evaluate(X, Y, chunk=16, sample_weight=w)
    tr = R.forward(X.astype(np.float64), W, b, acts, al)
    costs = [R.loss_value(loss, Y[i:i + 1].astype(np.float64), tr.a[-1][i:i + 1],
                          tr.z[-1][i:i + 1]) for i in range(n)]
    close(value, np.dot(w.astype(dtype).astype(np.float64), costs) / w.astype(dtype).sum(),
          dtype)
    close(output, tr.a[-1], dtype)
    assert eng.evaluate(X, Y, chunk=16, sample_weight=np.ones(n))[0] == \
        pytest.approx(eng.evaluate(X, Y, chunk=16)[0], rel=1e-12, abs=0)
    assert np.isnan(eng.evaluate(X, Y, sample_weight=np.zeros(n))[0])


# --------------------------------------------------------------------------------------
# bad input and conversions at the boundary
# --------------------------------------------------------------------------------------
BAD = [
    (np.ones(4), ValueError, r"one weight per sample: shape \(5,\), got shape \(4,\)"),
    (np.ones((5, 1)), ValueError, r"must be 1-dimensional.*got shape \(5, 1\)"),
    (np.float64(2.0), ValueError, r"must be 1-dimensional.*got shape \(\)"),
    (np.array([1, 2, -0.5, 1, 1]), ValueError, r"must be >= 0.*sample_weight\[2\] is -0.5"),
    (np.array([1, 2, 1, np.nan, 1]), ValueError, r"must be finite.*sample_weight\[3\] is nan"),
    (np.array([1, np.inf, 1, 1, 1]), ValueError, r"must be finite.*sample_weight\[1\] is inf"),
    (np.array(["1", "2", "3", "4", "5"]), TypeError, r"must hold real numbers.*<U1"),
    ("abcde", TypeError, r"must be a 1-D array of real numbers.*got str"),
    (np.ones(5, complex), TypeError, r"must hold real numbers.*complex128"),
    ([1, None, 1, 1, 1], TypeError, r"must hold real numbers.*object"),
]


@pytest.mark.parametrize("sw,exc,msg", BAD, ids=[str(i) for i in range(len(BAD))])
@pytest.mark.parametrize("call", ["train_step", "train_epochs", "evaluate"])
def test_bad_sample_weight(sw, exc, msg, call):
    eng = _core.Engine([3, 4, 2], ["tanh", "linear"], "square", np.float64)
    X, Y = np.zeros((5, 3)), np.zeros((5, 2))
    theta0 = eng.theta.copy()
    spec = (0, 0.1, 0, False, 0, 0, 0, 0, 0)
    with pytest.raises(exc, match=msg):
        if call == "train_step":
            eng.train_step(X, Y, spec, sample_weight=sw)
        elif call == "train_epochs":
            eng.train_epochs(X, Y, 2, 1, spec, sample_weight=sw)
        else:
            eng.evaluate(X, Y, sample_weight=sw)
    assert np.array_equal(eng.theta, theta0)


def test_sample_weight_too_large_for_float32():
    eng = _core.Engine([3, 4, 2], ["tanh", "linear"], "square", np.float32)
    X, Y = np.zeros((3, 3), np.float32), np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"sample_weight\[1\] is 1e\+300 \(too large for "
                                         r"float32\)"):
        eng.train_step(X, Y, (0, 0.1, 0, False, 0, 0, 0, 0, 0),
                       sample_weight=np.array([1.0, 1e300, 1.0]))
    e64 = _core.Engine([3, 4, 2], ["tanh", "linear"], "square", np.float64)
    with pytest.raises(ValueError, match="sum of sample_weight overflows"):
        e64.evaluate(X.astype(np.float64), Y.astype(np.float64),
                     sample_weight=np.array([1e308, 1e308, 1e308]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_sample_weight_conversions(dtype):
    """Lists, integers, booleans, the other float dtype and strided views are converted;
    the results equal those of the engine-dtype contiguous array."""
    n = 6
    w = np.array([1, 0, 2, 3, 1, 2])
    forms = [w.tolist(), w, w.astype(np.float32), w.astype(np.float64),
             np.repeat(w, 2).astype(dtype)[::2], w.astype(np.uint8)]
    results = []
    for form in forms:
        eng, _, _, X, Y = setup("square", "tanh", "linear", dtype, n, seed=41)
        v, _ = eng.train_step(X, Y, OPTS["sgd"][0] + (0, 0.1), sample_weight=form)
        results.append((v, eng.theta.copy()))
    for v, th in results[1:]:
        assert v == results[0][0] and np.array_equal(th, results[0][1])
    eng, _, _, X, Y = setup("square", "tanh", "linear", dtype, n, seed=41)
    vb, _ = eng.train_step(X, Y, OPTS["sgd"][0] + (0,), sample_weight=w > 0)
    eng2, _, _, _, _ = setup("square", "tanh", "linear", dtype, n, seed=41)
    vf, _ = eng2.train_step(X, Y, OPTS["sgd"][0] + (0,), sample_weight=(w > 0) * 1.0)
    assert vb == vf and np.array_equal(eng.theta, eng2.theta)


def test_weights_kept_alive_in_a_helper_thread():
    """A converted weight array (made at the boundary, referenced nowhere else) stays valid
    while the run goes on in a helper thread: the result equals the run in this thread."""
    N = 64
    out = []
    for interruptible in (False, True):
        eng, _, _, X, Y = setup("square", "tanh", "linear", np.float64, N, seed=43)
        w = [float(i % 7) for i in range(N)]
        losses, t, _ = eng.train_epochs(X, Y, 8, 20, OPTS["momentum"][0] + (0, 0.1),
                                        np.zeros(eng.n_params), seed=2, sample_weight=w,
                                        interruptible=interruptible)
        out.append((losses, t, eng.theta.copy()))
    assert out[0][1] == out[1][1]
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][2], out[1][2])
