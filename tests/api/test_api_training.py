"""Optimisers, schedules, the fit loop and save/load."""
import os
import warnings

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import optim
from fastmlp.training import DivergenceWarning, StopTraining


def data(n=200, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    W = rng.normal(size=(d, k))
    y = np.argmax(X @ W + 0.3 * rng.normal(size=(n, k)), axis=1)
    return X, y


def regression(n=256, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    return X, y


# ---- one optimiser step against the formula ----------------------------------------------------
def _grad_state(seed=0):
    X, y = data(16)
    net = fm.MLP([4, 5, 3], activation="tanh", loss="ce", seed=seed)
    net.backward(net.forward(X), y)
    return net, net.theta.copy(), net.grad.copy()


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_step_formula(nesterov):
    net, th, g = _grad_state()
    nw = net.engine.n_weights
    rng = np.random.default_rng(5)
    v0 = rng.normal(size=net.n_params)
    opt = optim.SGD(lr=0.1, momentum=0.9, nesterov=nesterov, weight_decay=0.01)
    opt.load_state_dict({"type": "SGD", "hyperparameters": {
        "lr": 0.1, "momentum": 0.9, "nesterov": nesterov, "weight_decay": 0.01},
        "t": 3, "state": {"velocity": v0}})
    opt.step(net)
    gd = g.copy()
    gd[:nw] += 0.01 * th[:nw]
    v = 0.9 * v0 + gd
    step = gd + 0.9 * v if nesterov else v
    np.testing.assert_allclose(net.theta, th - 0.1 * step, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(opt.state["velocity"], v, rtol=1e-13)


def test_plain_sgd_and_adam_step_formula():
    net, th, g = _grad_state()
    optim.SGD(lr=0.3).step(net)
    np.testing.assert_allclose(net.theta, th - 0.3 * g, rtol=1e-14)

    net, th, g = _grad_state()
    rng = np.random.default_rng(1)
    m0, v0 = rng.normal(size=net.n_params), rng.uniform(0, 1, size=net.n_params)
    opt = optim.Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-7)
    sd = opt.state_dict()
    sd["t"] = 4
    sd["state"] = {"m": m0, "v": v0}
    opt.load_state_dict(sd)
    assert opt.step(net) == 5
    m = 0.8 * m0 + 0.2 * g
    v = 0.99 * v0 + 0.01 * g * g
    expect = th - 0.01 * (m / (1 - 0.8 ** 5)) / (np.sqrt(v / (1 - 0.99 ** 5)) + 1e-7)
    np.testing.assert_allclose(net.theta, expect, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(opt.state["m"], m, rtol=1e-13)


def test_optimizer_validation():
    for bad in (dict(lr=-1), dict(lr=0), dict(lr=float("nan")), dict(momentum=1.0),
                dict(momentum=-0.1), dict(nesterov=True)):
        with pytest.raises(ValueError):
            optim.SGD(**bad)
    for bad in (dict(betas=(1.0, 0.9)), dict(betas=(0.9, -1)), dict(eps=0), dict(lr=-1e-3)):
        with pytest.raises(ValueError):
            optim.Adam(**bad)
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.get_optimizer("rmsprop")
    assert isinstance(optim.get_optimizer("adam", lr=0.5), optim.Adam)


# ---- resumable training --------------------------------------------------------------------------
@pytest.mark.parametrize("opt_cls", [lambda: optim.SGD(lr=0.05, momentum=0.9),
                                     lambda: optim.Adam(lr=0.01)])
def test_two_plus_two_epochs_equal_four(opt_cls, tmp_path):
    X, y = data()
    a = fm.MLP([4, 8, 3], loss="ce", seed=0)
    a.fit(X, y, optimizer=opt_cls(), epochs=4, batch_size=16)
    b = fm.MLP([4, 8, 3], loss="ce", seed=0)
    ob = opt_cls()
    b.fit(X, y, optimizer=ob, epochs=2, batch_size=16)
    state = ob.state_dict()
    b.save(tmp_path / "half")
    c = fm.load(tmp_path / "half.npz")          # a fresh process would do this
    oc = type(ob)().load_state_dict(state)
    c.fit(X, y, optimizer=oc, epochs=2, batch_size=16)
    np.testing.assert_array_equal(c.theta, a.theta)
    b.fit(X, y, epochs=2, batch_size=16)        # same model object: continues by itself
    np.testing.assert_array_equal(b.theta, a.theta)
    assert b.epochs_trained_ == 4


# ---- regimes -------------------------------------------------------------------------------------
def test_regimes_full_batch_sgd_minibatch():
    X, y = regression(256)
    budget_epochs = 10    # the same number of sample-gradients for each regime
    res = {}
    for name, B in (("gd", None), ("sgd", 1), ("mini", 16)):
        net = fm.MLP([3, 16, 1], activation="tanh", loss="square", seed=0)
        h = net.fit(X, y, optimizer=optim.SGD(lr=0.02), batch_size=B, epochs=budget_epochs)
        assert h.params["single_call"]
        res[name] = net.backward(net.forward(X), y).loss
    assert res["mini"] < res["gd"]
    assert res["sgd"] < res["gd"]


def test_training_matches_reference_float64():
    ref = pytest.importorskip("fastmlp.reference")
    X, y = regression(64)
    net = fm.MLP([3, 6, 1], activation="tanh", loss="square", seed=4)
    W0 = [w.copy() for w in net.weights]
    b0 = [b.copy() for b in net.biases]
    h = net.fit(X, y, optimizer=optim.SGD(lr=0.05), batch_size=8, epochs=3, shuffle=False)
    W, b, _, hist = ref.train(X, y[:, None], [3, 6, 1], ["tanh", "linear"], "square",
                              lr=0.05, epochs=3, batch_size=8, shuffle=False,
                              params=(W0, b0, [None, None]))
    assert len(net.weights) == len(W) == 2
    for Wm, Wr in zip(net.weights, W):
        np.testing.assert_allclose(Wm, Wr, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(h.loss, hist, rtol=1e-10)


@pytest.mark.parametrize("batch_size", [1, 7, None])
def test_training_matches_reference_float32(batch_size):
    """float32 training (plain SGD, fused into the GEMM for this size) against the
    reference's float32 training: 1e-4 relative, as the engine's contract says."""
    ref = pytest.importorskip("fastmlp.reference")
    rng = np.random.default_rng(6)
    X = rng.normal(size=(70, 20)).astype(np.float32)
    y = rng.integers(0, 5, 70)
    net = fm.MLP([20, 240, 5], activation="relu", loss="cross_entropy", dtype="float32", seed=2)
    assert net.engine.n_weights >= 4096            # the fused SGD step is the one tested
    W0 = [w.copy() for w in net.weights]
    b0 = [b.copy() for b in net.biases]
    h = net.fit(X, y, optimizer=optim.SGD(lr=0.05), batch_size=batch_size, epochs=2,
                shuffle=False)
    Y = ref.encode_targets("cross_entropy", y, 5, dtype=np.float32)
    W, b, _, hist = ref.train(X, Y, [20, 240, 5], ["relu", "softmax"], "cross_entropy",
                              lr=0.05, epochs=2, batch_size=batch_size, shuffle=False,
                              dtype=np.float32, params=(W0, b0, [None, None]))
    assert len(net.weights) == len(W) == 2 and len(net.biases) == len(b) == 2
    for Wm, Wr in zip(net.weights + net.biases, W + b):
        assert Wm.dtype == np.float32
        np.testing.assert_allclose(Wm, Wr, rtol=1e-4, atol=1e-4 * np.abs(Wr).max())
    np.testing.assert_allclose(h.loss, hist, rtol=1e-4)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_determinism_across_thread_counts(dtype):
    # large enough that GEMMs (>= 3e6 flops) and element-wise kernels really use 2 threads
    X, y = data(512, d=64, k=10)
    old = fm._core.config()["parallel_threshold"]
    fm._core.set_parallel_threshold(0)
    try:
        thetas = []
        for nt in (1, 2, 1):
            net = fm.MLP([64, 256, 10], loss="ce", dtype=dtype, seed=11, n_threads=nt)
            net.fit(X, y, optimizer=optim.SGD(lr=0.1, momentum=0.9), batch_size=128, epochs=2)
            thetas.append(net.theta.copy())
    finally:
        fm._core.set_parallel_threshold(old)
    assert thetas[0].dtype == np.dtype(dtype)
    np.testing.assert_array_equal(thetas[0], thetas[1])
    np.testing.assert_array_equal(thetas[0], thetas[2])


def test_drop_last_and_full_batch():
    X, y = data(50)
    net = fm.MLP([4, 3], loss="ce", seed=0)
    o = optim.Adam()
    net.fit(X, y, optimizer=o, batch_size=16, epochs=2, drop_last=True)
    assert o.t == 2 * 3
    o = optim.Adam()
    net.fit(X, y, optimizer=o, batch_size=16, epochs=2)
    assert o.t == 2 * 4
    o = optim.Adam()
    net.fit(X, y, optimizer=o, batch_size=None, epochs=5)
    assert o.t == 5


# ---- validation, early stopping, restarts, schedules ---------------------------------------------
def test_validation_early_stopping_restores_best():
    X, y = data(120, seed=2)
    net = fm.MLP([4, 32, 3], loss="ce", seed=0)
    h = net.fit(X, y, optimizer=optim.Adam(lr=0.05), batch_size=8, epochs=200,
                validation_split=0.25, early_stopping=3)
    assert h.stopped_early and len(h) < 200
    assert len(h.val_loss) == len(h.loss) and not np.isnan(h.val_loss).any()
    assert set(h.history) >= {"loss", "val_loss", "val_metric", "lr", "time"}
    Xv, yv = X[90:], y[90:]
    Yv = np.eye(3)[yv]
    val_now = net.backward(net.forward(Xv), yv).loss
    assert val_now == pytest.approx(h.val_loss[h.best_index], rel=1e-9)
    assert h.val_metric[h.best_index] == pytest.approx(net.score(Xv, yv))
    assert Yv.shape == (30, 3)


def test_validation_data_and_split_errors():
    X, y = data(40)
    net = fm.MLP([4, 3], loss="ce", seed=0)
    h = net.fit(X[:30], y[:30], validation_data=(X[30:], y[30:]), epochs=2, batch_size=10)
    assert len(h.val_loss) == 2
    with pytest.raises(ValueError, match="validation_split"):
        net.fit(X, y, validation_split=1.5)
    with pytest.raises(ValueError, match="not both"):
        net.fit(X, y, validation_split=0.2, validation_data=(X, y))


def test_restarts_keep_best():
    X, y = data(80)
    net = fm.MLP([4, 8, 3], loss="ce", seed=0)
    h = net.fit(X, y, optimizer=optim.SGD(lr=0.1), epochs=5, batch_size=16, restarts=3,
                validation_split=0.25)
    assert len(h.restarts) == 3
    finals = [r.val_loss[-1] for r in h.restarts]
    assert h.best_restart == int(np.argmin(finals))
    assert len({r.params["init_seed"] for r in h.restarts}) == 3
    val = net.backward(net.forward(X[60:]), y[60:]).loss
    assert val == pytest.approx(min(finals), rel=1e-9)


def test_schedules():
    assert optim.StepLR(2, 0.5)(5, 1.0, 1.0) == 0.25
    assert optim.InverseScaling(0.5)(3, 1.0, 1.0) == pytest.approx(0.5)
    cos = optim.Cosine(10, eta_min=0.1)
    assert cos(0, 1.0, 1.0) == pytest.approx(1.0) and cos(10, 1.0, 1.0) == pytest.approx(0.1)
    p = optim.ReduceOnPlateau(factor=0.5, patience=1)
    lr = 1.0
    for v in (1.0, 1.0, 1.0, 1.0):
        lr = p(0, 1.0, lr, {"loss": v})
    assert lr == 0.5
    X, y = data(64)
    net = fm.MLP([4, 3], loss="ce", seed=0)
    h = net.fit(X, y, optimizer=optim.SGD(lr=0.4), epochs=6, batch_size=16,
                schedule=optim.StepLR(2, 0.5))
    assert h.lr == [0.4, 0.4, 0.2, 0.2, 0.1, 0.1]
    assert not h.params["single_call"]
    with pytest.raises(ValueError):
        optim.StepLR(0)


# ---- callbacks, divergence, interrupts -----------------------------------------------------------
class Recorder:
    def __init__(self, stop_at=None, exc=None):
        self.epochs, self.stop_at, self.exc = [], stop_at, exc

    def on_epoch_end(self, epoch, logs):
        self.epochs.append((epoch, logs["loss"]))
        if self.exc is not None and epoch == self.stop_at:
            raise self.exc
        return epoch == self.stop_at


class BatchCounter:
    def __init__(self):
        self.n = 0

    def on_batch_end(self, batch, logs):
        self.n += 1


def test_callbacks_stop_and_batch_path_equals_epoch_path():
    X, y = data(64)
    rec = Recorder(stop_at=3)       # epochs are numbered from 1
    net = fm.MLP([4, 6, 3], loss="ce", seed=0)
    h = net.fit(X, y, epochs=10, batch_size=16, callbacks=[rec])
    assert len(h) == 3 and [e for e, _ in rec.epochs] == [1, 2, 3] == h.epoch
    net2 = fm.MLP([4, 6, 3], loss="ce", seed=0)
    h2 = net2.fit(X, y, epochs=10, batch_size=16, callbacks=[Recorder(3, StopTraining())])
    assert len(h2) == 3
    np.testing.assert_array_equal(net.theta, net2.theta)
    bc = BatchCounter()
    a = fm.MLP([4, 6, 3], loss="ce", seed=0)
    ha = a.fit(X, y, epochs=3, batch_size=10, callbacks=[bc])
    assert bc.n == 3 * 7 and ha.params["per_batch"]
    b = fm.MLP([4, 6, 3], loss="ce", seed=0)
    hb = b.fit(X, y, epochs=3, batch_size=10)
    assert hb.params["single_call"]
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_allclose(ha.loss, hb.loss, rtol=1e-12)


def test_keyboard_interrupt_leaves_last_completed_epoch():
    X, y = data(64)
    ref = fm.MLP([4, 6, 3], loss="ce", seed=0)
    ref.fit(X, y, epochs=2, batch_size=16)
    net = fm.MLP([4, 6, 3], loss="ce", seed=0)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        h = net.fit(X, y, epochs=10, batch_size=16,
                    callbacks=[Recorder(stop_at=2, exc=KeyboardInterrupt())])
    assert h.interrupted and len(h) == 2
    np.testing.assert_array_equal(net.theta, ref.theta)
    assert net.epochs_trained_ == 2


def test_divergence_warns_keeps_finite_weights_or_raises():
    X, y = regression(64)
    X = X * 100
    net = fm.MLP([3, 16, 1], activation="relu", loss="square", seed=0)
    with pytest.warns(DivergenceWarning, match="smaller"):
        h = net.fit(X, y, optimizer=optim.SGD(lr=10.0), epochs=50, batch_size=8)
    assert h.diverged and np.all(np.isfinite(net.theta))
    net = fm.MLP([3, 16, 1], activation="relu", loss="square", seed=0)
    with pytest.raises(FloatingPointError, match="epoch"):
        net.fit(X, y, optimizer=optim.SGD(lr=10.0), epochs=50, batch_size=8,
                validation_split=0.2, on_divergence="raise")
    assert np.all(np.isfinite(net.theta))


def test_progress_and_verbose_output(capsys):
    X, y = data(32)
    net = fm.MLP([4, 3], loss="ce", seed=0)
    net.fit(X, y, epochs=2, batch_size=8, verbose=2)
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "loss" in out
    net.fit(X, y, epochs=2, batch_size=8, progress=True)
    err = capsys.readouterr().err
    assert "loss" in err


# ---- save / load ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_roundtrip(tmp_path, dtype):
    X, y = data(60)
    labels = np.array(["a", "b", "c"])[y]
    net = fm.MLP([4, 7, 3], activation="prelu", loss="ce", dtype=dtype, seed=5)
    net.fit(X, labels, epochs=2, batch_size=10)
    path = net.save(tmp_path / "m.npz")
    assert os.path.exists(path) and not [p for p in os.listdir(tmp_path) if "tmp" in p]
    m = fm.load(path)
    assert m.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(m.classes_, net.classes_)
    np.testing.assert_array_equal(m.predict(X), net.predict(X))
    np.testing.assert_array_equal(m.predict_proba(X), net.predict_proba(X))
    assert m.activations == net.activations and m.epochs_trained_ == 2
    data_ = np.load(path, allow_pickle=False)
    assert int(data_["fastmlp_format"][0]) == 1


def test_load_bad_files(tmp_path):
    net = fm.MLP([2, 3, 1], loss="square", seed=0)
    good = net.save(tmp_path / "good.npz")
    raw = open(good, "rb").read()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    np.savez(tmp_path / "foreign.npz", a=np.arange(3))
    for name in ("trunc.npz", "junk.npz", "foreign.npz"):
        with pytest.raises(ValueError, match=name):
            fm.load(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        fm.load(tmp_path / "missing.npz")
