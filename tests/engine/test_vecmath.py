"""The vector maths behind sigmoid, tanh and softmax (csrc/vecmath*.c): accuracy against libm
on millions of points and at every special value, for every kernel set this CPU runs; tails,
in-place use, dispatch, and bitwise agreement between the GEMM epilogue and act_forward."""
import os
import subprocess
import sys

import numpy as np
import pytest

from fastmlp import _core

ISAS = ("portable", "avx2", "avx512")
FUNCS = ("exp", "sigmoid", "tanh")
# the accuracy contract: relative error against the exact value (see HI below)
RTOL = {np.float64: 1e-14, np.float32: 2e-7}
# ... and in units in the last place, for the vector kernel sets (portable is libm itself)
MAX_ULP = {np.float64: 4.0, np.float32: 3.0}
# An exhaustive one-off check of every float32 with |x| < 128 (AVX-512 set, against float64
# libm; too slow for the suite) gave: exp 1.06 ulp, sigmoid 2.40 ulp / 1.81e-7 relative,
# tanh 2.50 ulp / 1.78e-7 relative.


def _supported(isa):
    old = _core.vecmath_isa()
    try:
        _core.set_vecmath_isa(isa)
    except ValueError:
        return False
    finally:
        _core.set_vecmath_isa(old)
    return True


AVAILABLE = [i for i in ISAS if _supported(i)]


@pytest.fixture(params=AVAILABLE)
def isa(request):
    old = _core.vecmath_isa()
    _core.set_vecmath_isa(request.param)
    yield request.param
    _core.set_vecmath_isa(old)


# the reference: libm in long double where that has a 64-bit significand (x86), so that it is
# exact at double precision; float64 elsewhere (then within about 1 ulp of the truth itself)
HI = np.longdouble if np.finfo(np.longdouble).nmant >= 63 else np.float64


def _sigmoid_ref(x):
    x = x.astype(HI)
    with np.errstate(over="ignore", under="ignore"):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


REF = {
    "exp": lambda x: np.exp(x.astype(HI)),
    "sigmoid": _sigmoid_ref,
    "tanh": lambda x: np.tanh(x.astype(HI)),
}

LN2 = np.log(2.0)


def _borders(dt):
    """Points where the kernels change regime: k = round(x/ln2) steps, the subnormal and
    overflow thresholds, the clamps, tanh's saturation -- each with its neighbours."""
    fi = np.finfo(dt)
    k = np.arange(-1100, 1100)
    pts = [(k + 0.5) * LN2, (k + 0.5) * LN2 / 2, k * LN2,
           [np.log(fi.max), np.log(fi.tiny), np.log(fi.smallest_subnormal),
            np.log(fi.smallest_subnormal) - LN2, 0.5 * LN2, 0.25 * LN2, 0.125, 0.25, 0.5,
            1.0, 9.0, 10.0, 19.0, 19.1, 20.0, 22.0, 44.0, 87.3, 88.72, 89.0, 103.9, 104.0,
            708.4, 709.78, 710.0, 744.44, 745.13, 746.0]]
    x = np.concatenate([np.ravel(np.asarray(p, dtype=np.float64)) for p in pts]).astype(dt)
    x = np.concatenate([x, -x])
    x = x[np.isfinite(x)]
    nb = [x]
    for _ in range(3):
        nb.append(np.nextafter(nb[-1], dt(np.inf)))
    lo = [x]
    for _ in range(3):
        lo.append(np.nextafter(lo[-1], dt(-np.inf)))
    return np.concatenate(nb + lo[1:])


SPECIAL = [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 1e-45, -1e-45, 1e-30, -1e-30,
           1e-10, -1e-10, 1e-5, -1e-5, 20.0, -20.0, 700.0, -700.0, 1e4, -1e4, 1e300, -1e300,
           np.inf, -np.inf]


def _points(dt, n=1_000_000, seed=0):
    rng = np.random.default_rng(seed)
    sign = rng.choice([-1.0, 1.0], n)
    parts = [
        rng.uniform(-1, 1, n),
        rng.uniform(-40, 40, n),
        rng.uniform(-760, 760, n // 2),
        # log-uniform magnitudes from far below the smallest normal to beyond overflow
        sign * np.exp(rng.uniform(np.log(1e-320) if dt == np.float64 else np.log(1e-44),
                                  np.log(800.0), n)),
        np.linspace(-1, 1, 400_001),
        np.asarray(SPECIAL),
    ]
    with np.errstate(over="ignore", under="ignore"):
        x = np.concatenate(parts).astype(dt)
    return np.concatenate([x, _borders(dt)])


def _errors(func, x, y):
    """(relative error, error in ulps) of y = func(x) against the float64 reference,
    with magnitudes below the smallest normal floored to it (a subnormal result is judged
    in absolute terms: at most one subnormal step off)."""
    dt = x.dtype.type
    fi = np.finfo(dt)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        r = REF[func](x)
        r_dt = r.astype(dt)          # what the exact result is in this dtype (overflow -> inf)
    special = ~np.isfinite(r_dt) | ~np.isfinite(y)
    assert np.array_equal(np.isnan(y), np.isnan(r_dt)), "NaN where libm has none (or vice versa)"
    nn = special & ~np.isnan(y)
    assert np.array_equal(y[nn], r_dt[nn]), f"{func}: inf mismatch at x={x[nn][y[nn] != r_dt[nn]][:5]}"
    fin = ~special
    diff = np.abs(y[fin].astype(HI) - r[fin]).astype(np.float64)
    mag = np.maximum(np.abs(r[fin]).astype(np.float64), fi.tiny)
    rel = diff / mag
    # the subnormal floor: one step of the smallest subnormal is never an error
    rel[diff <= float(fi.smallest_subnormal)] = 0.0
    ulp = diff / np.spacing(mag.astype(dt)).astype(np.float64)
    ulp[diff <= float(fi.smallest_subnormal)] = 0.0
    return rel, ulp, x[fin]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("func", FUNCS)
def test_accuracy_sweep(isa, func, dtype):
    x = _points(dtype)
    y = _core.vec_eval(func, x)
    assert y.dtype == dtype
    rel, ulp, xf = _errors(func, x, y)
    i = int(np.argmax(rel))
    assert rel[i] <= RTOL[dtype], f"{isa} {func}: rel err {rel[i]:.3g} at x={xf[i]!r}"
    if isa != "portable":
        j = int(np.argmax(ulp))
        assert ulp[j] <= MAX_ULP[dtype], f"{isa} {func}: {ulp[j]:.2f} ulp at x={xf[j]!r}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exact_special_values(isa, dtype):
    def ev(f, v):
        return _core.vec_eval(f, np.array(v, dtype=dtype))

    assert ev("sigmoid", [0.0, -0.0]).tolist() == [0.5, 0.5]
    assert ev("sigmoid", [-1e4, 1e4, -np.inf, np.inf]).tolist() == [0, 1, 0, 1]
    t = ev("tanh", [0.0, -0.0, np.inf, -np.inf, 1e4, -1e4, 30.0, -30.0])
    assert t.tolist() == [0, 0, 1, -1, 1, -1, 1, -1]
    assert not np.signbit(t[0]) and np.signbit(t[1])          # tanh(-0) = -0
    e = ev("exp", [0.0, -0.0, np.inf, -np.inf, 1e4, -1e4])
    assert e.tolist() == [1, 1, np.inf, 0, np.inf, 0]
    for f in FUNCS:
        y = ev(f, [np.nan, -np.nan, 1.0, np.nan])
        assert np.isnan(y[[0, 1, 3]]).all() and np.isfinite(y[2]), f
    # odd symmetry: tanh(-z) == -tanh(z) bitwise; sigmoid(-z) == 1 - sigmoid(z) closely
    z = _points(dtype, n=20_000, seed=3)
    z = z[np.isfinite(z)]
    assert np.array_equal(ev("tanh", -z), -ev("tanh", z))
    # tanh(tiny) == tiny: the relative error stays small down to the smallest numbers
    tiny = np.array([1e-30, 1e-38, 1e-300, 5e-324], dtype=np.float64).astype(dtype)
    tiny = tiny[tiny != 0]
    assert np.array_equal(ev("tanh", tiny), tiny) and np.array_equal(ev("tanh", -tiny), -tiny)
    # sigmoid(z) for very negative z is a subnormal, as with libm
    if dtype == np.float64:
        s = ev("sigmoid", [-740.0, -744.0])
        assert 0 < s[0] < np.finfo(np.float64).tiny and s[1] > 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("func", FUNCS)
def test_tails_and_in_place(isa, func, dtype):
    rng = np.random.default_rng(7)
    x = (rng.normal(size=70) * 5).astype(dtype)
    full = _core.vec_eval(func, x)
    # element by element (n = 1: the masked tail only) gives the body's values, bitwise
    one = np.array([_core.vec_eval(func, x[i:i + 1])[0] for i in range(len(x))])
    assert np.array_equal(one, full)
    sentinel = dtype(-12345.0)
    for n in (1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65):
        buf = np.full(n + 20, sentinel, dtype=dtype)
        # unaligned start, odd length: masked loads/stores touch nothing outside [0, n)
        out = buf[3:3 + n]
        _core.vec_eval(func, x[5:5 + n].copy(), out=out)
        assert np.array_equal(out, full[5:5 + n]), n
        assert (buf[:3] == sentinel).all() and (buf[3 + n:] == sentinel).all(), n
        inplace = x[5:5 + n].copy()
        _core.vec_eval(func, inplace, out=inplace)
        assert np.array_equal(inplace, full[5:5 + n]), n
    assert _core.vec_eval(func, np.empty(0, dtype=dtype)).shape == (0,)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("act", ["sigmoid", "tanh"])
def test_act_forward_uses_the_kernel(isa, act, dtype):
    rng = np.random.default_rng(11)
    z = (rng.normal(size=(37, 33)) * 4).astype(dtype)
    a = _core.act_forward(act, z)
    assert np.array_equal(a, _core.vec_eval(act, z.ravel()).reshape(z.shape))
    zz = z.copy()
    _core.act_forward(act, zz, out=zz)                      # in place
    assert np.array_equal(zz, a)
    big = (rng.normal(size=(600, 64)) * 4).astype(dtype)    # above the parallel threshold
    a1 = _core.act_forward(act, big, n_threads=1)
    a2 = _core.act_forward(act, big, n_threads=2)
    assert np.array_equal(a1, a2)
    # sigma' from z alone recomputes a with the same kernel
    d_a = _core.act_deriv(act, z, a)
    d_z = _core.act_deriv(act, z)
    assert np.array_equal(d_a, d_z)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_rows(isa, dtype):
    rng = np.random.default_rng(5)
    z = (rng.normal(size=(50, 17)) * 30).astype(dtype)
    p = _core.act_forward("softmax", z)
    zz = z.astype(np.float64)
    e = np.exp(zz - zz.max(axis=1, keepdims=True))
    ref = e / e.sum(axis=1, keepdims=True)
    tol = 1e-13 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(p, ref, rtol=tol, atol=tol * 1e-3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("acts", [("tanh", "tanh", "linear"), ("sigmoid", "sigmoid", "softmax")])
@pytest.mark.parametrize("n_threads", [1, 2])
def test_epilogue_equals_act_forward(isa, acts, dtype, n_threads):
    """The forward pass applies sigma in the GEMM's store, on blocks of any shape; the values
    must be bitwise those of the stand-alone kernel on the whole z."""
    sizes = [40, 333, 129, 7]
    loss = "square" if acts[-1] == "linear" else "cross_entropy"
    eng = _core.Engine(sizes, list(acts), loss, dtype, max_batch=150)
    rng = np.random.default_rng(2)
    eng.theta[:] = rng.normal(size=eng.theta.shape) * 0.3      # weights and biases
    X = (rng.normal(size=(150, sizes[0])) * 2).astype(dtype)
    eng.forward(X, n_threads=n_threads)
    z, a = eng.trace()
    for l in (1, 2):
        assert np.array_equal(a[l], _core.act_forward(acts[l - 1], z[l], n_threads=1)), l


def test_all_sets_agree_closely():
    """Every kernel set computes the same function (within the accuracy contract of each)."""
    x = _points(np.float64, n=100_000, seed=9)
    old = _core.vecmath_isa()
    try:
        for f in FUNCS:
            ys = []
            for i in AVAILABLE:
                _core.set_vecmath_isa(i)
                ys.append(_core.vec_eval(f, x))
            for y in ys[1:]:
                with np.errstate(invalid="ignore", over="ignore"):
                    np.testing.assert_allclose(y, ys[0], rtol=2e-14, atol=1e-320)
    finally:
        _core.set_vecmath_isa(old)


def test_set_isa_rejects_unknown():
    with pytest.raises(ValueError, match="expected 'portable'"):
        _core.set_vecmath_isa("sse9")
    with pytest.raises(ValueError, match="func must be"):
        _core.vec_eval("log", np.zeros(3))
    with pytest.raises(TypeError):
        _core.vec_eval("exp", np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize("env", ISAS)
def test_fastmlp_isa_environment(env):
    """FASTMLP_ISA caps both dispatchers (GEMM and vector maths) at the named set, read once
    at first use; a set the CPU lacks gives the best it has."""
    code = ("from fastmlp import _core; print(_core.vecmath_isa(), _core.gemm_isa(), "
            "_core.config()['vecmath_kernels'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "FASTMLP_ISA": env}, check=True).stdout.split()
    best = AVAILABLE[-1]
    expect = env if env in AVAILABLE else best
    assert out == [expect, expect, expect]
