"""The C engine (fastmlp._core) against the NumPy reference: activations, losses (the GEMM:
test_gemm_api.py), forward/backward for random architectures, SGD steps, determinism, bad input."""
import zlib

import numpy as np
import pytest

from fastmlp import _core
from fastmlp import reference as R

DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-10, np.float32: 1e-4}
HIDDEN = ["step", "sign", "linear", "piecewise_linear", "sigmoid", "tanh", "relu",
          "leaky_relu", "prelu"]
LOSS_OUTPUTS = {
    "square": ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "piecewise_linear",
               "softmax"],
    "hinge": ["linear", "tanh", "prelu"],
    "logistic": ["linear", "tanh", "sigmoid"],
    "cross_entropy": ["softmax"],
    "margin": ["linear", "leaky_relu", "softmax"],
}
PAIRS = [(loss, out) for loss, outs in LOSS_OUTPUTS.items() for out in outs]


def close(actual, expected, dtype, scale=None):
    """|actual - expected| <= tol * (|expected| + scale): relative to each entry, with a floor
    at the array's own magnitude (max |expected|), because entries that are sums of many
    terms can cancel to near zero and then carry the rounding of the terms, not of the sum."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if scale is None:
        scale = np.abs(expected).max(initial=0.0) + 1e-300
    assert actual.shape == expected.shape
    err = np.abs(actual - expected) - TOL[dtype] * (np.abs(expected) + scale)
    assert np.all(err <= 0), f"max excess {err.max():.3g}"


# --------------------------------------------------------------------------------------
# activations
# --------------------------------------------------------------------------------------
SPECIAL = np.array([[-1e4, -3.0, -0.5, -0.25, 0.0, 0.25, 0.5, 3.0, 1e4, -1e-300]])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("act", HIDDEN + ["softmax"])
@pytest.mark.parametrize("rows", [3, 5000])          # below and above the threading threshold
@pytest.mark.parametrize("n_threads", [1, 2])
def test_c_activation_equals_reference(act, dtype, rows, n_threads):
    rng = np.random.default_rng(rows)
    z = (rng.normal(size=(rows, 10)) * 3).astype(dtype)
    z[0] = SPECIAL.astype(dtype)
    alpha = rng.uniform(0.05, 0.5, size=10).astype(dtype) if act == "prelu" else None
    ref_alpha = alpha if act == "prelu" else (0.01 if act == "leaky_relu" else None)
    a = _core.act_forward(act, z, alpha=alpha, n_threads=n_threads)
    with np.errstate(under="ignore"):
        expected = R.activation(act, z, ref_alpha)
    assert a.dtype == dtype
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(a, expected, rtol=tol, atol=tol * 1e-3)
    if act == "softmax":
        return
    d = _core.act_deriv(act, z, a, alpha=alpha, n_threads=n_threads)
    with np.errstate(under="ignore"):
        dexp = R.activation_derivative(act, z, ref_alpha)
    # sigma' = a(1 - a) and 1 - a^2 lose relative accuracy where a is near 1 (one ulp of a is
    # amplified by 1/(1 - a)); sigma' is at most 1, so the floor is absolute there
    np.testing.assert_allclose(d, dexp, rtol=tol, atol=tol)


def test_c_activation_special_points():
    z = np.array([[-1.0, -0.5, 0.0, 0.5, 1.0]])
    assert _core.act_forward("step", z).tolist() == [[0, 0, 0.5, 1, 1]]
    assert _core.act_forward("sign", z).tolist() == [[-1, -1, 0, 1, 1]]
    assert _core.act_forward("piecewise_linear", z).tolist() == [[0, 0, 0.5, 1, 1]]
    assert _core.act_deriv("piecewise_linear", z).tolist() == [[0, 0, 1, 0, 0]]
    assert _core.act_deriv("relu", z).tolist() == [[0, 0, 0, 1, 1]]
    assert _core.act_deriv("leaky_relu", z, leaky=0.1).tolist() == [[0.1, 0.1, 1, 1, 1]]


def test_c_activation_threads_bitwise():
    z = np.random.default_rng(1).normal(size=(4000, 33))
    for act in HIDDEN:
        alpha = np.full(33, 0.2) if act == "prelu" else None
        a1 = _core.act_forward(act, z, alpha=alpha, n_threads=1)
        a2 = _core.act_forward(act, z, alpha=alpha, n_threads=2)
        assert np.array_equal(a1, a2)


def test_activation_bad_input():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match="unknown activation 'bogus'"):
        _core.act_forward("bogus", z)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        _core.act_forward("relu", z.astype(np.int64))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        _core.act_forward("relu", [[1.0]])
    with pytest.raises(ValueError, match="2-dimensional"):
        _core.act_forward("relu", np.zeros(3))
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.act_forward("relu", np.zeros((3, 4))[:, ::2])
    out = np.zeros((2, 3))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _core.act_forward("relu", z, out=out)
    with pytest.raises(ValueError, match="PReLU needs its alpha"):
        _core.act_forward("prelu", z)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        _core.act_forward("prelu", z, alpha=np.ones(4))
    with pytest.raises(TypeError, match="out must have dtype float64"):
        _core.act_forward("relu", z, out=np.zeros((2, 3), np.float32))


def test_activation_out_written_in_place():
    z = np.linspace(-2, 2, 12).reshape(3, 4)
    out = np.empty_like(z)
    res = _core.act_forward("tanh", z, out=out)
    assert np.shares_memory(res, out)
    np.testing.assert_allclose(out, np.tanh(z), rtol=1e-15)


# --------------------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------------------
def _targets(loss, n, m, rng, dtype):
    if loss == "square":
        return rng.normal(size=(n, m)).astype(dtype)
    if loss in ("hinge", "logistic"):
        return rng.choice([-1.0, 1.0], size=(n, m)).astype(dtype)
    return np.eye(m, dtype=dtype)[rng.integers(0, m, size=n)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss,out", PAIRS)
def test_c_loss_equals_reference(loss, out, dtype):
    rng = np.random.default_rng(3)
    n, m = 13, 4
    z = (rng.normal(size=(n, m)) * 2).astype(dtype)
    alpha = np.full(m, 0.3, dtype) if out == "prelu" else None
    ref_alpha = alpha if out == "prelu" else (0.01 if out == "leaky_relu" else None)
    a = R.activation(out, z, ref_alpha).astype(dtype)
    Y = _targets(loss, n, m, rng, dtype)
    value, delta = _core.loss(loss, out, Y, z, a, alpha=alpha)
    close(value, R.loss_value(loss, Y, a, z), dtype)
    close(delta, R.output_delta(loss, out, Y, z, a, ref_alpha), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", list(LOSS_OUTPUTS))
def test_c_loss_extreme_logits_finite(loss, dtype):
    out = "softmax" if loss == "cross_entropy" else "linear"
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]], dtype=dtype)
    a = _core.act_forward(out, z)
    Y = _targets(loss, 2, 3, np.random.default_rng(0), dtype)
    value, delta = _core.loss(loss, out, Y, z, a)
    assert np.isfinite(value) and np.all(np.isfinite(delta))
    with np.errstate(under="ignore"):
        close(value, R.loss_value(loss, Y, a, z), dtype)


def test_c_cross_entropy_hand_value():
    z = np.array([[0.0, np.log(3.0)]])          # p = (1/4, 3/4)
    a = _core.act_forward("softmax", z)
    value, delta = _core.loss("cross_entropy", "softmax", np.array([[0.0, 1.0]]), z, a)
    assert value == pytest.approx(-np.log(0.75), rel=1e-15)
    np.testing.assert_allclose(delta, [[0.25, -0.25]], rtol=1e-15)


def test_loss_bad_input():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match="unknown loss"):
        _core.loss("nope", "linear", z, z, z)
    with pytest.raises(ValueError, match="must have 2 rows"):
        _core.loss("square", "linear", np.zeros((3, 3)), z, z)
    with pytest.raises(ValueError, match="rejected"):
        _core.loss("cross_entropy", "linear", z, z, z)   # needs a softmax output


# --------------------------------------------------------------------------------------
# the network: forward, backward, step, against the reference
# --------------------------------------------------------------------------------------
def _random_net(rng, dtype, loss, out, hidden_choices, max_depth=5, max_width=300,
                max_batch=300):
    depth = int(rng.integers(1, max_depth + 1))
    sizes = [int(rng.integers(1, max_width + 1)) for _ in range(depth)]
    n_out = int(rng.integers(2, 6)) if loss in ("cross_entropy", "margin") else int(rng.integers(1, 5))
    sizes.append(n_out)
    acts = [str(rng.choice(hidden_choices)) for _ in range(depth - 1)] + [out]
    n = int(rng.integers(1, max_batch + 1))
    eng = _core.Engine(sizes, acts, loss, dtype, leaky=0.01, max_batch=n)
    weights, biases, alphas = R.init_params(sizes, acts, seed=int(rng.integers(1 << 30)),
                                            dtype=dtype)
    for W, Wr in zip(eng.weights(), weights):
        W[...] = Wr
    for b, br in zip(eng.biases(), biases):
        b[...] = rng.normal(size=b.shape) * 0.1
    for al in eng.alphas():
        if al is not None:
            al[...] = rng.uniform(0.05, 0.5, size=al.shape)
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    Y = _targets(loss, n, n_out, rng, dtype)
    return eng, acts, X, Y


def _ref_alphas(eng):
    return [None if a is None else a.copy() for a in eng.alphas()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss,out", PAIRS)
def test_engine_equals_reference(loss, out, dtype):
    rng = np.random.default_rng(zlib.crc32(f"{loss}-{out}-{np.dtype(dtype).name}".encode()))
    for trial in range(3):
        eng, acts, X, Y = _random_net(rng, dtype, loss, out, HIDDEN,
                                      max_width=120 if trial else 300)
        W = [w.copy() for w in eng.weights()]
        b = [x.copy() for x in eng.biases()]
        al = _ref_alphas(eng)
        with np.errstate(under="ignore"):
            tr = R.forward(X, W, b, acts, alphas=al)
            g = R.backward(tr, Y, W, acts, loss, alphas=al)
        out_c = eng.forward(X)
        value = eng.backward(X, Y)
        z, a = eng.trace()
        deltas = eng.deltas()
        L = len(acts)
        for l in range(1, L + 1):
            close(z[l], tr.z[l], dtype)
            close(a[l], tr.a[l], dtype)
            close(deltas[l], g.delta[l], dtype)
        close(out_c, tr.a[L], dtype)
        close(value, g.loss, dtype)
        for l in range(1, L + 1):
            close(eng.grad_weights()[l - 1], g.dW[l], dtype)
            close(eng.grad_biases()[l - 1], g.db[l], dtype)
            if g.dalpha[l] is not None:
                close(eng.grad_alphas()[l - 1], g.dalpha[l], dtype)
        # one SGD step (with weight decay) leaves the reference's parameters
        params = R.parameters(W, b, al)
        R.sgd_update(params, g.as_list(), lr=0.05, weight_decay=1e-3)
        eng.update((0, 0.05, 0.0, False, 1e-3, 0.9, 0.999, 1e-8, 0))
        for l in range(L):
            close(eng.weights()[l], W[l], dtype)
            close(eng.biases()[l], b[l], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_train_step_threads_bitwise(dtype):
    rng = np.random.default_rng(21)
    results = []
    for nt in (1, 2):
        eng = _core.Engine([64, 200, 150, 10], ["relu", "tanh", "softmax"], "cross_entropy",
                           dtype, max_batch=96)
        eng.theta[:] = np.random.default_rng(0).normal(size=eng.n_params) * 0.1
        X = np.random.default_rng(1).normal(size=(96, 64)).astype(dtype)
        Y = np.eye(10, dtype=dtype)[np.random.default_rng(2).integers(0, 10, 96)]
        state = np.zeros(eng.n_params, dtype)
        for _ in range(3):
            eng.train_step(X, Y, (0, 0.1, 0.9, True, 1e-4, 0.9, 0.999, 1e-8, 0), state,
                           n_threads=nt)
        losses, t, div = eng.train_epochs(X, Y, 17, 2, (0, 0.1, 0.9, False, 0, 0, 0, 0, 0),
                                          state, seed=5, n_threads=nt)
        results.append((eng.theta.copy(), losses))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])


def test_train_epochs_equals_reference_training():
    """Whole epochs in C = the reference's mini-batch SGD given the same batch order."""
    rng = np.random.default_rng(4)
    sizes, acts = [6, 9, 3], ["tanh", "softmax"]
    X = rng.normal(size=(40, 6))
    Y = np.eye(3)[rng.integers(0, 3, 40)]
    eng = _core.Engine(sizes, acts, "cross_entropy", np.float64, max_batch=8)
    W, b, al = R.init_params(sizes, acts, seed=1)
    for dst, src in zip(eng.weights() + eng.biases(), W + b):
        dst[...] = src
    losses, t, div = eng.train_epochs(X, Y, 8, 3, (0, 0.2, 0, False, 0, 0, 0, 0, 0), seed=7)
    assert t == 15 and not div and len(losses) == 3
    params = R.parameters(W, b)
    for epoch in range(3):
        order = _core.permutation(7, epoch, 40)
        for start in range(0, 40, 8):
            idx = order[start:start + 8]
            tr = R.forward(X[idx], W, b, acts)
            g = R.backward(tr, Y[idx], W, acts, "cross_entropy")
            R.sgd_update(params, g.as_list(), lr=0.2)
    for l in range(2):
        close(eng.weights()[l], W[l], np.float64)
        close(eng.biases()[l], b[l], np.float64)


def test_optimizer_updates_equal_reference():
    rng = np.random.default_rng(8)
    eng = _core.Engine([5, 4, 2], ["prelu", "linear"], "square", np.float64, max_batch=6)
    eng.theta[:] = rng.normal(size=eng.n_params)
    X, Y = rng.normal(size=(6, 5)), rng.normal(size=(6, 2))
    for kind in ["momentum", "nesterov", "adam"]:
        theta0 = eng.theta.copy()
        s1 = rng.normal(size=eng.n_params) * 0.01
        s2 = np.abs(rng.normal(size=eng.n_params)) * 0.01
        eng.forward(X)
        eng.backward(X, Y)
        W, b, al = [w.copy() for w in eng.weights()], [x.copy() for x in eng.biases()], _ref_alphas(eng)
        params = R.parameters(W, b, al)
        grads = [g.copy() for g in eng.grad_weights() + eng.grad_biases()] + \
                [g.copy() for g in eng.grad_alphas() if g is not None]
        # the reference's state lists, in the same layout as theta
        def split(vec):
            out, off = [], 0
            for p in params:
                out.append(vec[off:off + p.size].reshape(p.shape).copy())
                off += p.size
            return out
        m_ref, v_ref = split(s1), split(s2)
        if kind == "adam":
            R.adam_update(params, grads, m_ref, v_ref, 3, lr=0.01, weight_decay=0.01)
            t = eng.update((1, 0.01, 0, False, 0.01, 0.9, 0.999, 1e-8, 2), s1, s2)
            assert t == 3
        else:
            nest = kind == "nesterov"
            R.momentum_update(params, grads, m_ref, lr=0.1, momentum=0.9, nesterov=nest,
                              weight_decay=0.01)
            eng.update((0, 0.1, 0.9, nest, 0.01, 0, 0, 0, 0), s1)
        flat = np.concatenate([p.ravel() for p in params])
        close(eng.theta, flat, np.float64)
        close(s1, np.concatenate([m.ravel() for m in m_ref]), np.float64)
        eng.theta[:] = theta0


def test_nonfinite_input_leaves_parameters_untouched():
    eng = _core.Engine([3, 4, 1], ["tanh", "linear"], "square", np.float64, max_batch=2)
    eng.theta[:] = 0.5
    before = eng.theta.copy()
    X = np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 2.0]])
    with pytest.raises(FloatingPointError, match="left unchanged"):
        eng.train_step(X, np.zeros((2, 1)), (0, 0.1, 0, False, 0, 0, 0, 0, 0))
    assert np.array_equal(eng.theta, before)
    losses, t, diverged = eng.train_epochs(X, np.zeros((2, 1)), 2, 5,
                                           (0, 0.1, 0, False, 0, 0, 0, 0, 0))
    assert diverged and len(losses) == 0 and np.array_equal(eng.theta, before)


def test_huge_logits_train_step_finite():
    eng = _core.Engine([2, 3], ["softmax"], "cross_entropy", np.float32, max_batch=2)
    eng.weights()[0][...] = np.array([[1e4, -1e4, 0], [0, 0, 0]], np.float32)
    X = np.array([[1, 0], [-1, 0]], np.float32)
    Y = np.array([[0, 1, 0], [0, 0, 1]], np.float32)
    value, _ = eng.train_step(X, Y, (0, 1e-6, 0, False, 0, 0, 0, 0, 0))
    assert np.isfinite(value) and value > 1e3
    assert np.all(np.isfinite(eng.theta))


def test_user_defined_loss_through_grad_output():
    """backward(grad_output=dC/da) equals the built-in loss's backward."""
    rng = np.random.default_rng(2)
    for out in ["sigmoid", "softmax", "prelu"]:
        eng = _core.Engine([4, 6, 3], ["relu", out], "square", np.float64, max_batch=5)
        eng.theta[:] = rng.normal(size=eng.n_params)
        X, Y = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
        a = eng.forward(X)
        eng.backward(X, Y)
        expected = eng.grad.copy()
        eng.forward(X)
        eng.backward(X, grad_output=R.loss_gradient("square", Y, a))
        close(eng.grad, expected, np.float64)


def test_engine_bad_input():
    with pytest.raises(ValueError, match="at least an input and an output"):
        _core.Engine([3], [], "square")
    with pytest.raises(ValueError, match="one activation per layer"):
        _core.Engine([3, 2], ["relu", "relu"], "square")
    with pytest.raises(ValueError, match="only allowed as the output"):
        _core.Engine([3, 4, 2], ["softmax", "linear"], "square")
    with pytest.raises(ValueError, match=">= 1"):
        _core.Engine([3, 0, 2], ["relu", "linear"], "square")
    with pytest.raises(ValueError, match="needs a softmax output"):
        _core.Engine([3, 2], ["linear"], "cross_entropy")
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.Engine([3, 2], ["linear"], "square", np.int32)
    eng = _core.Engine([3, 2], ["linear"], "square", np.float64, max_batch=4)
    with pytest.raises(ValueError, match="must have 3 columns"):
        eng.forward(np.zeros((2, 4)))
    with pytest.raises(TypeError, match="X must have dtype float64"):
        eng.forward(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        eng.forward(np.zeros((3, 2)).T)
    with pytest.raises(RuntimeError, match="must follow forward"):
        eng.backward(np.zeros((3, 3)), np.zeros((3, 2)))
    eng.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="must have 2 columns"):
        eng.backward(np.zeros((2, 3)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="batch_size must be in"):
        eng.train_epochs(np.zeros((2, 3)), np.zeros((2, 2)), 0, 1, (0, 0.1, 0, 0, 0, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="needs a velocity"):
        eng.update((0, 0.1, 0.9, False, 0, 0, 0, 0, 0))
    with pytest.raises(ValueError, match="state1 must have shape"):
        eng.update((0, 0.1, 0.9, False, 0, 0, 0, 0, 0), np.zeros(3))


def test_workspace_views_and_reserve():
    eng = _core.Engine([3, 5, 2], ["tanh", "linear"], "square", np.float32, max_batch=2)
    assert eng.n_params == 3 * 5 + 5 * 2 + 5 + 2 and eng.n_weights == 25
    assert np.shares_memory(eng.weights()[0], eng.theta)
    eng.forward(np.ones((10, 3), np.float32))          # grows the workspace
    assert eng.max_batch >= 10
    p = eng.predict(np.ones((2500, 3), np.float32), chunk=1000)
    assert p.shape == (2500, 2) and np.all(p == p[0])


def test_permutation_is_a_permutation_and_deterministic():
    p = _core.permutation(3, 1, 1000)
    assert sorted(p.tolist()) == list(range(1000))
    assert np.array_equal(p, _core.permutation(3, 1, 1000))
    assert not np.array_equal(p, _core.permutation(3, 2, 1000))


def test_config_reports_build():
    cfg = _core.config()
    assert set(cfg) >= {"compiler", "openmp", "max_threads", "cpu_features", "gemm_kernels"}
    assert cfg["gemm_kernels"] in ("avx512", "avx2", "portable")
    # the clone follows the CPU: v4 exactly with every AVX-512 feature the clone needs
    feats = set(cfg["cpu_features"].split())
    clones = cfg["elementwise_clones"]
    assert clones in ("x86-64-v4", "x86-64-v3", "baseline") or clones.startswith("none")
    if clones == "x86-64-v4":
        assert {"avx512f", "avx512dq", "avx512vl", "avx512bw", "avx2", "fma"} <= feats
    if clones == "x86-64-v3":
        assert {"avx2", "fma"} <= feats and "avx512f" not in feats


@pytest.fixture
def team_threshold():
    before = _core.get_team_min_flops()
    yield
    _core.set_team_min_flops(before)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("acts,loss,opt", [
    (["relu", "tanh", "softmax"], "cross_entropy", (0, 0.1, 0, False, 1e-4, 0, 0, 0, 0)),
    (["prelu", "prelu", "linear"], "square", (0, 0.05, 0.9, True, 0, 0, 0, 0, 0)),
    (["sigmoid", "leaky_relu", "softmax"], "margin", (1, 1e-3, 0, False, 1e-3, 0.9, 0.999,
                                                      1e-8, 0)),
])
def test_team_step_equals_serial_bitwise(team_threshold, dtype, acts, loss, opt):
    """A whole run on a team of threads (one parallel region, phases split by outputs)
    gives bitwise the parameters of the serial run, for fused SGD, momentum and Adam."""
    rng = np.random.default_rng(31)
    X = rng.normal(size=(203, 48)).astype(dtype)
    Y = _targets(loss, 203, 7, rng, dtype)
    thetas = []
    for threshold, nt in [(1e18, 1), (0.0, 2), (0.0, 3)]:
        _core.set_team_min_flops(threshold)
        eng = _core.Engine([48, 130, 90, 7], acts, loss, dtype, max_batch=64)
        eng.theta[:] = np.random.default_rng(0).normal(size=eng.n_params) * 0.1
        s1 = np.zeros(eng.n_params, dtype) if opt[0] == 1 or opt[2] else None
        s2 = np.zeros(eng.n_params, dtype) if opt[0] == 1 else None
        losses, t, div = eng.train_epochs(X, Y, 64, 3, opt, s1, s2, seed=3, n_threads=nt)
        eng.forward(X[:17], n_threads=nt)
        value = eng.backward(X[:17], Y[:17], n_threads=nt)
        thetas.append((eng.theta.copy(), losses, value, eng.grad.copy(), t, div))
    for other in thetas[1:]:
        assert np.array_equal(thetas[0][0], other[0])
        assert np.array_equal(thetas[0][1], other[1])
        assert thetas[0][2] == other[2]
        assert np.array_equal(thetas[0][3], other[3])
        assert thetas[0][4] == other[4] == 12 and not other[5]   # 3 epochs x 4 batches


def test_adam_efficient_form_step():
    """kind 2: theta -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), weight decay
    added to the weights' gradient only -- one step against the formula written out."""
    rng = np.random.default_rng(12)
    eng = _core.Engine([4, 5, 3], ["tanh", "linear"], "square", np.float64, max_batch=6)
    eng.theta[:] = rng.normal(size=eng.n_params)
    X, Y = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    eng.forward(X)
    eng.backward(X, Y)
    theta, g = eng.theta.copy(), eng.grad.copy()
    m0 = rng.normal(size=eng.n_params) * 0.01
    v0 = np.abs(rng.normal(size=eng.n_params)) * 0.01
    s1, s2 = m0.copy(), v0.copy()
    lr, b1, b2, eps, wd, t = 0.01, 0.9, 0.999, 1e-6, 0.05, 4
    assert eng.update((2, lr, 0, False, wd, b1, b2, eps, t), s1, s2) == t + 1
    gw = g.copy()
    gw[:eng.n_weights] += wd * theta[:eng.n_weights]
    m = b1 * m0 + (1 - b1) * gw
    v = b2 * v0 + (1 - b2) * gw * gw
    step = lr * np.sqrt(1 - b2 ** (t + 1)) / (1 - b1 ** (t + 1))
    close(eng.theta, theta - step * m / (np.sqrt(v) + eps), np.float64)
    close(s1, m, np.float64)
    close(s2, v, np.float64)
    with pytest.raises(ValueError, match="optimizer kind"):
        eng.update((3, lr, 0, False, 0, b1, b2, eps, 0), s1, s2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_evaluate_and_predict_in_chunks_equal_reference(dtype):
    """evaluate() (loss and output, no gradients) and predict() over more rows than a chunk
    give the reference's loss and output; the workspace is not left holding gradients."""
    rng = np.random.default_rng(40)
    acts = ["tanh", "softmax"]
    eng = _core.Engine([9, 13, 4], acts, "cross_entropy", dtype, max_batch=8)
    W, b, _ = R.init_params([9, 13, 4], acts, seed=1, dtype=dtype)
    for dst, src in zip(eng.weights() + eng.biases(), W + b):
        dst[...] = src
    X = rng.normal(size=(250, 9)).astype(dtype)
    Y = np.eye(4, dtype=dtype)[rng.integers(0, 4, 250)]
    value, out = eng.evaluate(X, Y, chunk=64)
    tr = R.forward(X, W, b, acts)
    close(out, tr.a[2], dtype)
    close(value, R.loss_value("cross_entropy", Y, tr.a[2], tr.z[2]), dtype)
    assert np.array_equal(eng.predict(X, chunk=33), out)
    with pytest.raises(ValueError, match="must have 250 rows"):
        eng.evaluate(X, Y[:10])
    # one chunk (the one-pass path) gives the same rows, in an array of its own: a later
    # pass through the same workspace does not change it
    first = eng.predict(X[:20])
    assert np.array_equal(first, out[:20]) and first.flags.owndata
    eng.predict(X[20:40])
    assert np.array_equal(first, out[:20])
    assert eng.predict(X[:0]).shape == (0, 4)


@pytest.mark.parametrize("spec", [(0, 0.1, 0.9, True, 1e-3, 0, 0, 0, 5),
                                  (1, 1e-3, 0, False, 1e-3, 0.9, 0.999, 1e-8, 5),
                                  (2, 1e-3, 0, False, 0, 0.9, 0.999, 1e-8, 5)])
def test_long_update_threads_bitwise(spec):
    """An update over a long parameter vector (split over threads) equals the one-thread
    update bitwise, state included."""
    results = []
    for nt in (1, 2):
        eng = _core.Engine([400, 400, 10], ["relu", "softmax"], "cross_entropy", np.float32)
        assert eng.n_params > 4 * _core.config()["parallel_threshold"]
        rng = np.random.default_rng(3)
        eng.theta[:] = rng.normal(size=eng.n_params)
        eng.grad[:] = rng.normal(size=eng.n_params)
        s1 = rng.normal(size=eng.n_params).astype(np.float32) * 0.01
        s2 = np.abs(rng.normal(size=eng.n_params)).astype(np.float32) * 0.01
        t = eng.update(spec, s1, s2, n_threads=nt)
        results.append((eng.theta.copy(), s1, s2, t))
    for a, b in zip(results[0], results[1]):
        assert np.array_equal(a, b)
