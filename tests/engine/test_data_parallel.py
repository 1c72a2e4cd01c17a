"""The data-parallel training step (csrc/nn/network.inc, step_dp): the batch cut into fixed
chunks, each chunk's forward and backward pass on one thread, the chunks' gradients summed in
chunk order. Forced on here for small networks (set_data_parallel), it must give the same
bits for 1, 2 and 3 threads, agree with the reference (float64 1e-10, float32 1e-4) for every
activation and loss, with and without sample weights and l2, fused-SGD and unfused
optimisers alike, on batches that the chunk count does not divide."""
import numpy as np
import pytest

from fastmlp import _core

from weighted_helpers import OPTS, close, engine_params, ref_first_step, ref_weighted, setup

DTYPES = [np.float64, np.float32]
HIDDEN = [a for a in _core.ACTIVATION_CODES if a != "softmax"]
LOSSES = list(_core.LOSS_CODES)


def output_for(loss):
    return {"cross_entropy": "softmax", "logistic": "tanh", "poisson": "exp"}.get(loss, "linear")


@pytest.fixture
def dp():
    """Force the data-parallel step for every step size; restore the settings afterwards."""
    before = _core.get_data_parallel()

    def force(chunks):
        _core.set_data_parallel(chunks=chunks, min_flops=0, max_flops=float("inf"))
    yield force
    _core.set_data_parallel(*before)


def test_settings_round_trip_and_validation(dp):
    dp(3)
    assert _core.get_data_parallel() == (3, 0.0, float("inf"))
    assert _core.config()["dp_chunks"] == 3
    with pytest.raises(ValueError, match="chunks"):
        _core.set_data_parallel(chunks=-1)
    with pytest.raises(ValueError, match="chunks"):
        _core.set_data_parallel(chunks=65)
    with pytest.raises(TypeError, match="chunks"):
        _core.set_data_parallel(chunks=2.0)
    with pytest.raises(ValueError, match="min_flops"):
        _core.set_data_parallel(min_flops=-1.0)
    with pytest.raises(ValueError, match="max_flops"):
        _core.set_data_parallel(max_flops=float("nan"))
    assert _core.get_data_parallel() == (3, 0.0, float("inf"))


def test_show_config_reports_the_rule(dp, capsys):
    import fastmlp
    dp(2)
    assert "2 fixed chunks" in fastmlp.show_config()["data_parallel"]
    _core.set_data_parallel(chunks=0)
    assert fastmlp.show_config(print_=False)["data_parallel"] == "off"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("loss", LOSSES)
def test_step_every_activation_and_loss_against_reference(dtype, hidden, loss, dp):
    dp(2)
    n = 19                                     # chunks of 9 and 10 rows
    eng, acts, params, X, Y = setup(loss, hidden, output_for(loss), dtype, n, seed=2,
                                    sizes=[5, 7, 6, 3])
    rng = np.random.default_rng(9)
    if loss in ("hinge", "logistic"):
        Y = np.where(rng.random(Y.shape) < 0.5, -1.0, 1.0).astype(dtype)
    elif loss == "margin":
        Y = np.eye(Y.shape[1])[rng.integers(0, Y.shape[1], n)].astype(dtype)
    elif loss == "poisson":
        Y = rng.poisson(1.5, Y.shape).astype(dtype)
        if hidden == "exp":        # exp of exp: keep the inputs small enough to stay finite
            X = np.ascontiguousarray(X * 0.1, dtype=dtype)
    spec = OPTS["momentum"][0] + (0, 0.0)
    state = np.zeros(eng.n_params, dtype)
    value, _ = eng.train_step(X, Y, spec, state)
    w = np.ones(n)
    ref_value, g, _ = ref_weighted(params, acts, loss, X, Y, w)
    close(value, ref_value, dtype)
    close(eng.grad, np.concatenate([x.ravel() for x in g]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("opt,fused", [("sgd", True), ("sgd", False), ("momentum", False),
                                       ("adam", False)])
@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_weighted_step_against_reference(dtype, opt, fused, l2, weighted, dp, fusion):
    dp(3)
    fusion(1 << 30 if fused else 0)
    n = 26                                     # chunks of 8, 9, 9 rows
    eng, acts, params, X, Y = setup("square", "tanh", "linear", dtype, n, seed=4)
    w = (np.random.default_rng(1).uniform(0.0, 3.0, n) if weighted else np.ones(n))
    w = w.astype(dtype)
    if weighted:
        w[4] = 0
    base, n_state = OPTS[opt]
    states = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
    value, t = eng.train_step(X, Y, base + (0, l2), *states,
                              sample_weight=w if weighted else None)
    assert t == 1
    ref_value, g, S = ref_weighted(params, acts, "square", X, Y, w)
    close(value, ref_value, dtype)
    ref = ref_first_step(params, g, opt, base[4] + l2 / S)
    for mine, theirs in zip(engine_params(eng), ref):
        close(mine, theirs, dtype)


def run_epochs(dtype, hidden, loss, opt, nthreads, weighted, N=83, batch=24, epochs=3):
    eng, _, _, X, Y = setup(loss, hidden, output_for(loss), dtype, N, seed=7,
                            max_batch=batch)
    base, n_state = OPTS[opt]
    states = [np.zeros(eng.n_params, dtype) for _ in range(n_state)]
    w = np.random.default_rng(3).uniform(0.5, 2.0, N).astype(dtype) if weighted else None
    losses, _, _ = eng.train_epochs(X, Y, batch, epochs, base + (0, 0.1), *states,
                                    shuffle=True, seed=5, n_threads=nthreads,
                                    sample_weight=w)
    return np.asarray(losses), np.concatenate([p.ravel() for p in engine_params(eng)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunks", [2, 3, 5])
@pytest.mark.parametrize("opt", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("weighted", [False, True])
def test_epochs_same_bits_for_1_2_3_threads(dtype, chunks, opt, weighted, dp):
    """83 rows in batches of 24 (the last of 11): chunks that differ in size, a last batch
    with fewer chunks (or none: the output-split path), every thread count the same bits."""
    dp(chunks)
    runs = [run_epochs(dtype, "relu", "cross_entropy", opt, nt, weighted) for nt in (1, 2, 3)]
    for losses, params in runs[1:]:
        assert np.array_equal(losses, runs[0][0])
        assert np.array_equal(params, runs[0][1])
    assert np.all(np.isfinite(runs[0][1]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_epochs_match_the_output_split_path_to_rounding(dtype, dp):
    """The chunked sums differ from the one-GEMM sums only by rounding."""
    dp(2)
    a = run_epochs(dtype, "tanh", "square", "momentum", 2, True)
    _core.set_data_parallel(chunks=0)
    b = run_epochs(dtype, "tanh", "square", "momentum", 2, True)
    tol = {np.float64: 1e-10, np.float32: 1e-4}[dtype]
    np.testing.assert_allclose(a[0], b[0], rtol=tol)
    np.testing.assert_allclose(a[1], b[1], rtol=tol, atol=tol)
    assert not np.array_equal(a[1], b[1]) or dtype == np.float32


def test_nonfinite_step_changes_nothing(dp):
    dp(2)
    eng, _, _, X, Y = setup("square", "tanh", "linear", np.float64, 20, seed=1)
    before = [p.copy() for p in engine_params(eng)]
    X = X.copy()
    X[13, 2] = np.inf                          # in the second chunk
    with pytest.raises(Exception):
        eng.train_step(X, Y, OPTS["momentum"][0] + (0, 0.0), np.zeros(eng.n_params))
    for p, q in zip(engine_params(eng), before):
        assert np.array_equal(p, q)


def test_default_rule_is_per_network_and_batch():
    """With the default settings: xor- and digits-size steps stay on the output-split path,
    deep narrow ones are data parallel, huge ones use the output-split team."""
    chunks, lo, hi = _core.get_data_parallel()
    assert chunks >= 2 and 0 < lo < hi
    for sizes, batch, expect in [((2, 4, 1), 4, 0), ((64, 64, 10), 32, 0),
                                 ((64,) + (64,) * 8 + (10,), 64, chunks),
                                 ((784, 1024, 1024, 10), 256, 0), ((64, 64, 10), 1, 0)]:
        eng = _core.Engine(list(sizes), ["relu", "softmax"][-(len(sizes) - 1):]
                           if len(sizes) == 2 else ["relu"] * (len(sizes) - 2) + ["softmax"],
                           "cross_entropy", np.float64, max_batch=batch)
        assert eng.step_chunks(batch) == expect, (sizes, batch)


@pytest.mark.parametrize("opt", ["momentum", "adam"])
def test_update_blocks_same_bits_for_1_2_3_threads(opt, dp):
    """A network of ~17k parameters: the update rounds cut the parameters into blocks of a
    different size for every thread count (4, 8, 12 blocks); the same bits regardless."""
    dp(3)
    sizes = [64, 128, 64, 10]
    runs = []
    for nt in (1, 2, 3):
        eng, _, _, X, Y = setup("cross_entropy", "tanh", "softmax", np.float64, 70, seed=2,
                                sizes=sizes, max_batch=30)
        assert eng.n_params > 16 * 1024 and eng.step_chunks(30) == 3
        base, n_state = OPTS[opt]
        states = [np.zeros(eng.n_params) for _ in range(n_state)]
        losses, _, _ = eng.train_epochs(X, Y, 30, 2, base + (0, 0.05), *states, shuffle=True,
                                        seed=1, n_threads=nt)
        runs.append((np.asarray(losses),
                     np.concatenate([p.ravel() for p in engine_params(eng)])))
    for losses, params in runs[1:]:
        assert np.array_equal(losses, runs[0][0])
        assert np.array_equal(params, runs[0][1])


@pytest.mark.parametrize("nthreads", [1, 2, 3])
def test_update_overflow_in_one_block_changes_nothing(nthreads, dp):
    """Adam in float32 whose g^2 overflows for the first row of W^1 only (the loss is
    finite): that block fails its check, so no block is written -- not even those that
    passed -- and t stays 0."""
    dp(2)
    eng, _, _, X, Y = setup("square", "relu", "linear", np.float32, 24, seed=3)
    W1 = eng.weights()[0]
    W1[0, :] = 1e-30                            # x_0 * w_0j stays about 1
    X = X.copy()
    X[:, 0] = 1e30
    before = [p.copy() for p in engine_params(eng)]
    base, _ = OPTS["adam"]
    s1, s2 = np.zeros(eng.n_params, np.float32), np.zeros(eng.n_params, np.float32)
    with pytest.raises(Exception, match="(?i)finite|diverg|nan|inf"):
        eng.train_step(X, Y, base + (0, 0.0), s1, s2, n_threads=nthreads)
    for p, q in zip(engine_params(eng), before):
        assert np.array_equal(p, q)
    assert not s1.any() and not s2.any()
    # the same step with SGD (lr g stays finite) goes through: the loss was finite
    _, t = eng.train_step(X, Y, OPTS["sgd"][0] + (0, 0.0), np.zeros(eng.n_params, np.float32),
                          n_threads=nthreads)
    assert t == 1 and not np.array_equal(eng.weights()[0], before[0])


@pytest.mark.parametrize("nthreads", [1, 2])
def test_shuffled_batches_of_zero_weight_are_skipped_alike(nthreads, dp):
    """Shuffled data-parallel steps gather their rows inside the chunks and sum the batch's
    weights from the source rows: batches whose weights are all 0 are skipped exactly as
    on the output-split path, and the rest agree with it to rounding."""
    N, batch = 48, 16
    w = np.zeros(N)
    w[[3, 30]] = [1.5, 0.5]                    # most shuffled batches weigh nothing

    def run(chunks):
        _core.set_data_parallel(chunks=chunks, min_flops=0, max_flops=float("inf"))
        eng, _, _, X, Y = setup("square", "tanh", "linear", np.float64, N, seed=9,
                                max_batch=batch)
        base, n_state = OPTS["momentum"]
        states = [np.zeros(eng.n_params) for _ in range(n_state)]
        losses, t, _ = eng.train_epochs(X, Y, batch, 4, base + (0, 0.0), *states,
                                        shuffle=True, seed=2, n_threads=nthreads,
                                        sample_weight=w)
        return np.asarray(losses), t, np.concatenate([p.ravel() for p in engine_params(eng)])

    a, b = run(2), run(0)
    assert a[1] == b[1] and 4 <= a[1] <= 8     # the same steps taken: two per epoch at most
    np.testing.assert_allclose(a[0], b[0], rtol=1e-10)
    np.testing.assert_allclose(a[2], b[2], rtol=1e-10, atol=1e-12)
