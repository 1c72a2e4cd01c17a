"""The shortcuts of a small fit's per-call path give what the general path gives: the seeded
generator's stream, the remembered architecture checks, the name and dtype lookups, and a
History that makes its columns when first read."""
import pickle
import threading

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core
from fastmlp._common import check_dtype, check_int, check_real, derive_seed
from fastmlp._init import seeded_generator
from fastmlp._names import ACTIVATION_NAMES
from fastmlp.training.history import History

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
y = np.array([0, 1, 1, 0])


@pytest.mark.parametrize("seed", [0, 1, 12345, 2 ** 32, 2 ** 63 - 1])
def test_seeded_generator_is_default_rng(seed):
    for _ in range(2):                       # the second time from the cache
        a, b = np.random.default_rng(seed), seeded_generator(seed)
        assert np.array_equal(a.uniform(-1, 1, (3, 5)), b.uniform(-1, 1, (3, 5)))
        assert np.array_equal(a.normal(0, 2, 7), b.normal(0, 2, 7))
        assert a.integers(0, 2 ** 62) == b.integers(0, 2 ** 62)


@pytest.mark.parametrize("act,init", [("tanh", None), ("relu", None), ("prelu", "normal"),
                                      ("sigmoid", "uniform"), ("relu", "glorot")])
def test_initial_weights_are_default_rng_draws(act, init):
    sizes = [3, 5, 4, 2]
    net = fm.MLP(sizes, activation=act, loss="cross_entropy", seed=7, init=init)
    rng = np.random.default_rng(7)
    relu = act in ("relu", "prelu")
    acts = [act, act, "softmax"]
    for l, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        kind = init or ("he" if acts[l] in ("relu", "prelu") else "glorot")
        if kind == "glorot":
            r = np.sqrt(6.0 / (a + b))
            w = rng.uniform(-r, r, size=(a, b))
        elif kind == "uniform":
            r = 1.0 / np.sqrt(a)
            w = rng.uniform(-r, r, size=(a, b))
        elif kind == "he":
            r = np.sqrt(6.0 / a)
            w = rng.uniform(-r, r, size=(a, b))
        else:
            relu_l = acts[l] in ("relu", "prelu") and relu
            s = np.sqrt(2.0 / a) if relu_l else np.sqrt(2.0 / (a + b))
            w = rng.normal(0.0, s, size=(a, b))
        assert np.array_equal(net.weights[l], w)
        assert not net.biases[l].any()
    for al in net.alphas:
        assert al is None or np.all(al == net.prelu_init)
    net.weights[0][...] = 5.0
    net.biases[1][...] = 3.0
    net.initialize()                         # again from the seed: the same weights
    assert np.array_equal(net.theta, fm.MLP(sizes, activation=act, loss="cross_entropy",
                                            seed=7, init=init).theta)


def test_a_callable_init_gets_a_real_generator():
    got = []

    def init(rng, n_in, n_out, act):
        got.append(rng.spawn(1))             # a SeedSequence-backed generator can spawn
        return np.random.default_rng(3).uniform(size=(n_in, n_out))

    fm.MLP([2, 3, 1], seed=4, init=init)
    assert len(got) == 2


def test_remembered_architecture_gives_independent_models():
    a = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    b = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    assert a.loss is not b.loss and type(a.loss) is type(b.loss)
    a.layer_sizes.append(9)
    a.hidden_activations[0] = "relu"
    assert b.layer_sizes == [2, 4, 1] and b.hidden_activations == ["tanh"]
    c = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    ref = fm.MLP([2, 4, 1], activation="tanh", loss=type(a.loss)(), seed=0)   # not cached
    assert c.layer_sizes == [2, 4, 1] and c.activations == ref.activations
    # a list of names is not one name; bad arguments still raise after good ones passed
    d = fm.MLP([2, 4, 3, 1], activation=["tanh", "relu"], loss="square")
    assert d.activations == ["tanh", "relu", "linear"]
    with pytest.raises(ValueError, match="one name per hidden layer"):
        fm.MLP([2, 4, 1], activation=["tanh", "relu"], loss="square")
    with pytest.raises(ValueError, match="only allowed as the output"):
        fm.MLP([2, 4, 1], activation="softmax", loss="logistic")
    with pytest.raises(ValueError, match="ambiguous"):
        fm.MLP([2, 4, 1], activation="tanh", loss="log_loss")
    with pytest.raises(ValueError, match="layer_sizes"):
        fm.MLP([2, 0, 1], activation="tanh", loss="logistic")
    with pytest.raises(ValueError, match="needs a"):
        fm.MLP([2, 4, 1], activation="tanh", output="linear", loss="cross_entropy")


def test_name_and_dtype_lookups_answer_as_before():
    for _ in range(2):
        assert ACTIVATION_NAMES.resolve("ReLU", "activation") == "relu"
        assert ACTIVATION_NAMES.resolve("rectifier", "activation") == "relu"
        with pytest.raises(ValueError, match="unknown activation 'relux'"):
            ACTIVATION_NAMES.resolve("relux", "activation")
        with pytest.raises(TypeError, match="activation name"):
            ACTIVATION_NAMES.resolve(3, "activation")
    for spelling in ("float64", np.float64, float, np.dtype("float64"), "f8"):
        assert check_dtype(spelling) == np.dtype(np.float64)
    assert check_dtype(np.float32) == np.dtype(np.float32)
    with pytest.raises(TypeError, match="float32 or float64"):
        check_dtype(">f8")
    with pytest.raises(TypeError, match="float32 or float64"):
        check_dtype("int64")
    with pytest.raises(TypeError, match="float32 or float64"):
        check_dtype([1])


def test_argument_checks_answer_as_before():
    assert check_int("n", 3, 1) == 3 and type(check_int("n", np.int32(3), 1)) is int
    assert check_int("n", None, 1, True) is None
    for bad, err in ((True, TypeError), (2.0, TypeError), (0, ValueError), (None, TypeError)):
        with pytest.raises(err, match="n must be"):
            check_int("n", bad, 1)
    with pytest.raises(ValueError, match="<= 5"):
        check_int("n", 6, 1, high=5)
    assert check_real("x", 2, 0) == 2.0 and check_real("x", np.float32(0.5), 0) == 0.5
    for bad, err in ((True, TypeError), ("1", TypeError), (float("nan"), ValueError),
                     (-1.0, ValueError)):
        with pytest.raises(err, match="x must be"):
            check_real("x", bad, 0)
    assert derive_seed(5, 0) == derive_seed(np.int64(5), np.int64(0)) == derive_seed(5.0, 0)


def test_history_of_one_engine_call_reads_as_a_full_history():
    net = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
    h = net.fit(X, y, optimizer=fm.optim.SGD(lr=0.5), epochs=5)
    assert len(h) == 5 and h._pending is not None          # not made into columns yet
    again = pickle.loads(pickle.dumps(h))
    assert again.loss == h.loss and again.epoch == [1, 2, 3, 4, 5]
    assert np.isnan(h.val_loss.values).all() and h.lr == [0.5] * 5
    h2 = net.fit(X, y, epochs=3)          # continues the numbering
    assert h2.epoch == [6, 7, 8]
    h2._truncate(2)
    assert h2.epoch == [6, 7] and len(h2.loss) == 2
    h3 = History()
    h3._extend(1, np.array([3.0, 2.0]), 0.1, 0.0)
    h3._append(3, {"loss": 1.0})
    assert h3.loss == [3.0, 2.0, 1.0] and h3.epoch == [1, 2, 3]
    h4 = History()
    h4._extend(4, np.array([0.5]), 0.1, 0.0)
    h4._prepend(h3)
    assert h4.epoch == [1, 2, 3, 4] and h4.loss == [3.0, 2.0, 1.0, 0.5]
    empty = History()
    empty._extend(1, np.empty(0), 0.1, 0.0)
    assert len(empty) == 0 and empty.loss == [] and empty.best_epoch is None


def test_model_lock_waits_without_a_condition_made_in_advance():
    lock = _core.ModelLock()
    lock.acquire_write()
    seen = []

    def reader():
        lock.acquire_read()
        seen.append(lock.state)
        lock.release_read()

    t = threading.Thread(target=reader)
    t.start()
    t.join(0.2)
    assert t.is_alive() and not seen          # waits for the writer
    lock.release_write()
    t.join(5)
    assert not t.is_alive() and seen == [(1, False, 0)]
    lock.acquire_read()

    def writer():
        lock.acquire_write()
        lock.release_write()

    w = threading.Thread(target=writer)
    w.start()
    w.join(0.2)
    assert w.is_alive()
    lock.release_read()
    w.join(5)
    assert not w.is_alive() and lock.state == (0, False, 0)


@pytest.mark.parametrize("seed", [0, 1, 99, 2 ** 32 + 5, 2 ** 64 - 1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_uniform_fill_is_numpys_uniform(seed, dtype):
    # one generator across the segments, in turn; float32 rounds each float64 draw
    segs = [(3, 10, -0.25, 0.25), (20, 1, -3.0, 3.0), (13, 0, -1.0, 1.0), (30, 257, 0.0, 1e-3)]
    rng = np.random.default_rng(seed)
    expect = np.full(300, -7.0)
    for o, c, lo, hi in segs:
        expect[o:o + c] = rng.uniform(lo, hi, c)
    out = np.full(300, -7.0, dtype=dtype)
    _core.uniform_fill(np.random.SeedSequence(seed).generate_state(4, np.uint64), segs, out)
    assert np.array_equal(out, expect.astype(dtype))      # bitwise; untouched elements kept


def test_uniform_fill_rejects_bad_arguments():
    w = np.random.SeedSequence(0).generate_state(4, np.uint64)
    out = np.zeros(10)
    with pytest.raises(ValueError, match="outside"):
        _core.uniform_fill(w, [(5, 6, -1.0, 1.0)], out)
    with pytest.raises(ValueError, match="outside"):
        _core.uniform_fill(w, [(-1, 2, -1.0, 1.0)], out)
    with pytest.raises(ValueError, match="low <= high"):
        _core.uniform_fill(w, [(0, 2, 1.0, -1.0)], out)
    with pytest.raises(ValueError, match="low <= high"):
        _core.uniform_fill(w, [(0, 2, -np.inf, 1.0)], out)
    with pytest.raises(TypeError, match="words"):
        _core.uniform_fill(w[:3], [(0, 2, -1.0, 1.0)], out)
    with pytest.raises(TypeError, match="out"):
        _core.uniform_fill(w, [(0, 2, -1.0, 1.0)], out[::2])
    with pytest.raises(TypeError, match="out"):
        _core.uniform_fill(w, [(0, 2, -1.0, 1.0)], np.zeros(10, np.int64))
    assert not out.any()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_initialize_in_c_sets_every_parameter(dtype):
    # W^l drawn, biases zero, PReLU slopes prelu_init, from any earlier state
    net = fm.MLP([3, 6, 2], activation="prelu", loss="square", seed=4, dtype=dtype,
                 prelu_init=0.3)
    first = net.engine.theta.copy()
    net.engine.theta[...] = 9.0
    net.initialize()
    assert np.array_equal(net.engine.theta, first)
    assert not any(b.any() for b in net.engine.biases())
    assert all(a is None or np.all(a == np.asarray(0.3, dtype)) for a in net.engine.alphas())
    rng = np.random.default_rng(4)
    w1 = rng.uniform(-np.sqrt(6 / 3), np.sqrt(6 / 3), (3, 6)).astype(dtype)
    assert np.array_equal(net.engine.weights()[0], w1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("y,ydtype", [([0, 1, 1, 0], np.int64), ([3, -1, 3], np.int16),
                                      ([5, 7, 7, 5, 5], np.uint16), ([2 ** 62, -5], np.int64),
                                      ([1, 0] * 32, np.uint8)])
def test_few_integer_labels_encode_as_many_do(y, ydtype, dtype):
    # the Python path for <= 64 integer labels gives what the NumPy path gives
    yy = np.array(y, dtype=ydtype)
    loss = fm.losses.get_loss("logistic")
    few = loss.encode(yy, 1, dtype=dtype)
    many = loss.encode(np.concatenate([yy] * 30), 1, dtype=dtype)     # 65+ labels: NumPy
    assert few.Y.shape == (len(yy), 1) and few.Y.flags.c_contiguous and few.Y.dtype == dtype
    assert np.array_equal(few.Y, many.Y[:len(yy)])
    assert few.classes.dtype == many.classes.dtype == yy.dtype
    assert np.array_equal(few.classes, many.classes) and few.mode == many.mode == "binary"
    with pytest.raises(ValueError, match="exactly 2 classes"):
        loss.encode(np.array([0, 1, 2], dtype=ydtype), 1, dtype=dtype)


def test_init_uniform_refused_leaves_the_parameters_as_they_were():
    # the arguments are checked before theta is zeroed: no half-initialised model
    net = fm.MLP([3, 5, 2], activation="tanh", loss="square", seed=1)
    before = net.engine.theta.copy()
    w = np.random.SeedSequence(0).generate_state(4, np.uint64)
    for bad in ([(0, 15, -1.0, 1.0), (15, 10 ** 6, -1.0, 1.0)], [(0, 15, 1.0, -1.0)],
                [(0, 15, -1.0, np.nan)]):
        with pytest.raises(ValueError):
            net.engine.init_uniform(w, bad)
        assert np.array_equal(net.engine.theta, before)
    with pytest.raises(TypeError, match="words"):
        net.engine.init_uniform(w.astype(np.int64), [(0, 15, -1.0, 1.0)])
    assert np.array_equal(net.engine.theta, before)
