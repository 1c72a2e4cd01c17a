"""fastmlp.training.lbfgs: scipy's L-BFGS-B without bounds, step by step, on the engine's
vector kernels (fastmlp._core.LbfgsMemory, lbfgs_*)."""
import math

import numpy as np
import pytest
import scipy.optimize as so

from fastmlp import _core
from fastmlp.training import lbfgs


def _fg(fun):
    """fun(x) -> (f, g) as lbfgs.minimize takes it: fg(x, g_out) -> f."""
    def fg(x, g):
        f, gg = fun(x)
        g[...] = gg
        return f
    return fg


def rosen(x):
    return so.rosen(x), so.rosen_der(x)


def _quad(seed=0, n=40):
    rng = np.random.default_rng(seed)
    A, b = rng.normal(size=(2 * n, n)), rng.normal(size=2 * n)

    def fun(x):
        r = A @ x - b
        return 0.5 * float(r @ r), A.T @ r
    return fun


def _logistic(seed=1, n=200, d=15):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, d)), rng.integers(0, 2, n)

    def fun(w):
        z = X @ w
        p = 1 / (1 + np.exp(-z))
        f = float(np.sum(np.logaddexp(0, z) - y * z)) / n + 1e-3 * float(w @ w)
        return f, X.T @ (p - y) / n + 2e-3 * w
    return fun


CASES = [("rosen10", rosen, np.random.default_rng(0).normal(size=10)),
         ("rosen50", rosen, 0.5 * np.random.default_rng(1).normal(size=50)),
         ("quad", _quad(), np.zeros(40)),
         ("logistic", _logistic(), np.zeros(15))]


def _scipy(fun, x0, **opt):
    return so.minimize(fun, x0, jac=True, method="L-BFGS-B", options=opt)


@pytest.mark.parametrize("name,fun,x0", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("maxiter", [1, 5, 30])
def test_takes_scipys_steps(name, fun, x0, maxiter):
    """Same iterations, evaluations, status and message as scipy's L-BFGS-B, and the same
    point up to rounding."""
    a = _scipy(fun, x0, maxiter=maxiter, maxfun=15000, gtol=1e-5)
    b = lbfgs.minimize(_fg(fun), x0, maxiter=maxiter, maxfun=15000, gtol=1e-5)
    assert (b.nit, b.nfev, b.status, b.message) == (a.nit, a.nfev, a.status, a.message)
    scale = max(1.0, float(np.max(np.abs(a.x))))
    assert np.max(np.abs(b.x - a.x)) <= 1e-9 * scale
    assert b.fun == pytest.approx(a.fun, rel=1e-9, abs=1e-12)
    assert b.success == (b.status == 0)


@pytest.mark.parametrize("name,fun,x0", CASES, ids=[c[0] for c in CASES])
def test_converges_where_scipy_does(name, fun, x0):
    a = _scipy(fun, x0, maxiter=15000, maxfun=15000, gtol=1e-5)
    b = lbfgs.minimize(_fg(fun), x0, maxiter=15000, maxfun=15000, gtol=1e-5)
    assert a.status == b.status == 0 and a.message == b.message
    assert b.fun <= a.fun + 1e-8 * max(1.0, abs(a.fun))
    assert abs(b.nit - a.nit) <= max(2, a.nit // 20)


def test_stops_on_maxfun_and_gtol_like_scipy():
    x0 = np.random.default_rng(0).normal(size=10)
    for opt in (dict(maxfun=5, maxiter=100, gtol=1e-5), dict(maxfun=100, maxiter=100, gtol=1.0)):
        a, b = _scipy(rosen, x0, **opt), lbfgs.minimize(_fg(rosen), x0, **opt)
        assert (b.nit, b.nfev, b.status, b.message) == (a.nit, a.nfev, a.status, a.message)
    # already stationary: no iteration
    b = lbfgs.minimize(_fg(rosen), np.ones(4), maxiter=10, maxfun=10)
    assert (b.nit, b.nfev, b.status) == (0, 1, 0) and b.message == lbfgs.MESSAGES["grad"]


def test_wrong_gradient_ends_abnormally_like_scipy():
    """An ascent direction with no pairs stored: L-BFGS-B gives up ("ABNORMAL")."""
    def bad(x):
        f, g = rosen(x)
        return f, -g
    x0 = np.random.default_rng(2).normal(size=6)
    a, b = _scipy(bad, x0, maxiter=50, maxfun=100), lbfgs.minimize(_fg(bad), x0, maxiter=50)
    assert (b.nit, b.status, b.message) == (a.nit, a.status, a.message) == (0, 2, "ABNORMAL: ")
    assert b.nfev == a.nfev and b.fun == a.fun    # the last value evaluated, as scipy's
    np.testing.assert_array_equal(b.x, x0)       # back at the last iterate


def test_nonfinite_loss_ends_the_run():
    calls = []

    def blows_up(x):
        calls.append(1)
        f, g = rosen(x)
        return (math.nan, g * math.nan) if len(calls) > 4 else (f, g)
    r = lbfgs.minimize(_fg(blows_up), np.full(5, 2.0), maxiter=10_000, maxfun=10_000)
    assert r.status == 2 and len(calls) < 60


def test_does_not_keep_or_change_x0_and_checks_arguments():
    x0 = np.array([1.5, -0.5, 2.0])
    keep = x0.copy()
    r = lbfgs.minimize(_fg(rosen), x0, maxiter=3)
    np.testing.assert_array_equal(x0, keep)
    assert r.x is not x0
    for bad in (dict(maxiter=0), dict(maxfun=0), dict(m=0), dict(maxls=0)):
        with pytest.raises(ValueError, match="must be >= 1"):
            lbfgs.minimize(_fg(rosen), x0, **bad)
    with pytest.raises(ValueError, match="at least one entry"):
        lbfgs.minimize(_fg(rosen), np.zeros(0))


@pytest.mark.parametrize("phi", ["quartic", "exp", "flat_then_steep"])
def test_more_thuente_meets_the_strong_wolfe_conditions(phi):
    f = {"quartic": lambda a: ((a - 3.0) ** 4 - 10 * a, 4 * (a - 3.0) ** 3 - 10),
         "exp": lambda a: (math.exp(a) - 5 * a, math.exp(a) - 5),
         "flat_then_steep": lambda a: ((a - 20.0) ** 2 / 400, (a - 20.0) / 200)}[phi]
    f0, g0 = f(0.0)
    for stp in (1e-3, 1.0, 50.0):
        ls = lbfgs.MoreThuente(f0, g0, stp)
        for _ in range(40):
            fa, ga = f(ls.stp)
            if ls.done(fa, ga):
                break
        else:
            pytest.fail("no step accepted in 40 trials")
        fa, ga = f(ls.stp)
        assert fa <= f0 + 1e-3 * ls.stp * g0
        assert abs(ga) <= 0.9 * abs(g0)


def _phis():
    """1-D functions phi(a) -> (phi, phi') with phi'(0) < 0 whose line searches take every
    branch of Moré-Thuente's step (higher value; opposite slopes; same-sign slopes, the slope
    shrinking or not; with and without a bracket; psi or phi)."""
    fixed = [lambda a: ((a - 3.0) ** 4 - 10 * a, 4 * (a - 3.0) ** 3 - 10),
             lambda a: (math.exp(a) - 5 * a, math.exp(a) - 5),
             lambda a: ((a - 20.0) ** 2 / 400, (a - 20.0) / 200),
             lambda a: (-a / (a * a + 2), (a * a - 2) / (a * a + 2) ** 2),
             lambda a: (0.5 * a - math.sin(3 * a), 0.5 - 3 * math.cos(3 * a)),
             lambda a: (1e-8 * (a - 1e4) ** 2, 2e-8 * (a - 1e4))]
    rng = np.random.default_rng(11)
    rand = []
    for _ in range(40):
        c = rng.normal(size=4) * [1, 1, 3, 1]
        c[1] = -abs(c[1]) - 0.1               # phi'(0) < 0
        c[3] = abs(c[3]) * 0.3
        rand.append(lambda a, c=c: (c[0] + c[1] * a + c[2] * a * a / 2 + c[3] * a ** 4,
                                    c[1] + c[2] * a + 4 * c[3] * a ** 3))
    return fixed + rand


def test_c_line_search_takes_the_python_one_s_steps_bit_for_bit():
    """_core.LbfgsSearch (C) and lbfgs.MoreThuente (Python): the same trial steps, the same
    bracket and the same verdict at every trial."""
    trials = 0
    for phi in _phis():
        f0, g0 = phi(0.0)
        for stp in (1e-3, 0.3, 1.0, 7.0, 300.0):
            py, c = lbfgs.MoreThuente(f0, g0, stp), _core.LbfgsSearch(f0, g0, stp)
            for _ in range(30):
                assert c.stp == py.stp and c.brackt == py.brackt
                f, g = phi(py.stp)
                done = py.done(f, g)
                assert c.done(f, g) == done
                trials += 1
                if done:
                    break
            assert c.stp == py.stp
    assert trials > 500


def test_c_line_search_checks_its_arguments():
    with pytest.raises(ValueError, match="descent"):
        _core.LbfgsSearch(1.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="descent"):
        _core.LbfgsSearch(1.0, math.nan, 1.0)
    for stp in (0.0, -1.0, 2e10, math.nan):
        with pytest.raises(ValueError, match="stpmax"):
            _core.LbfgsSearch(1.0, -1.0, stp)
    ls = _core.LbfgsSearch(1.0, -1.0, 2.0, ftol=1e-4, gtol=0.5, stpmax=3.0)
    assert ls.stp == 2.0 and not ls.brackt


def test_run_checks_its_arguments_and_propagates_errors_of_fg():
    x = np.zeros(3)
    with pytest.raises(ValueError, match="must be >= 1"):
        _core.lbfgs_run(_fg(rosen), x, 0, 10, 1e-5, 1e-9, 10, 20)
    with pytest.raises(ValueError, match="C-contiguous float64"):
        _core.lbfgs_run(_fg(rosen), np.zeros(3, np.float32), 10, 10, 1e-5, 1e-9, 10, 20)
    ro = np.zeros(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _core.lbfgs_run(_fg(rosen), ro, 10, 10, 1e-5, 1e-9, 10, 20)
    calls = []

    def interrupted(x, g):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return _fg(rosen)(x, g)
    with pytest.raises(KeyboardInterrupt):
        lbfgs.minimize(interrupted, np.full(4, 2.0))
    assert len(calls) == 3
    with pytest.raises(TypeError):
        lbfgs.minimize(lambda x, g: "not a number", np.ones(2))


def _dense_bfgs_inverse(pairs, theta, n):
    """H from H0 = I/theta and the BFGS inverse update per pair, oldest first."""
    H = np.eye(n) / theta
    for s, y in pairs:
        rho = 1.0 / (y @ s)
        V = np.eye(n) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return H


@pytest.mark.parametrize("m,k", [(3, 2), (3, 3), (3, 7), (1, 4)])
def test_two_loop_direction_is_the_bfgs_step(m, k):
    """direction() = -H g with H the BFGS inverse of the m newest pairs (a ring that has
    wrapped when k > m), H0 = I / theta of the newest pair."""
    n = 9
    rng = np.random.default_rng(k)
    A = rng.normal(size=(n, n))
    A = A @ A.T + n * np.eye(n)                 # s'y > 0 for y = A s
    mem = _core.LbfgsMemory(n, m)
    pairs = []
    for _ in range(k):
        d, r, stp = rng.normal(size=n), rng.normal(size=n), float(rng.uniform(0.5, 2))
        g = r + A @ (stp * d)
        s, y = stp * d, g - r
        mem.add(stp, d, g, r, float(s @ y))
        pairs.append((s, y))
    kept = pairs[-m:]
    assert mem.col == len(kept) and mem.updates == k
    s, y = kept[-1]
    assert mem.theta == pytest.approx((y @ y) / (s @ y), rel=1e-14)
    g, x = rng.normal(size=n), rng.normal(size=n)
    z, d = np.empty(n), np.empty(n)
    mem.direction(g, x, z, d)
    want = -_dense_bfgs_inverse(kept, mem.theta, n) @ g
    np.testing.assert_allclose(d, want, rtol=1e-10, atol=1e-12 * np.abs(want).max())
    np.testing.assert_array_equal(z, x + (z - x))
    np.testing.assert_array_equal(d, z - x)
    mem.reset()
    mem.direction(g, x, z, d)                   # no pairs: the steepest descent step
    np.testing.assert_array_equal(d, (x - g) - x)


def test_vector_kernels_are_exact_and_deterministic():
    rng = np.random.default_rng(3)
    for n in (1, 7, 8, 9, 1000, 10_001):
        a, b = rng.normal(size=n), rng.normal(size=n)
        v = _core.lbfgs_dot(a, b)
        assert v == pytest.approx(float(np.dot(a, b)), rel=1e-12, abs=1e-12 * n)
        assert _core.lbfgs_dot(a, b) == v == _core.lbfgs_dot(b, a)
        x = np.empty(n)
        _core.lbfgs_trial(0.25, a, b, x)
        np.testing.assert_array_equal(x, 0.25 * a + b)
        assert _core.lbfgs_amax(a) == np.max(np.abs(a))
        assert _core.lbfgs_equal(a, a.copy()) and not _core.lbfgs_equal(a, a + (a == a[-1]))
    nan = np.array([1.0, np.nan, 5.0])
    assert math.isnan(_core.lbfgs_amax(nan))
    assert not _core.lbfgs_equal(nan, nan.copy())        # a NaN equals nothing


@pytest.mark.parametrize("n", [3, 8, 37, 10_001])
def test_amax_propagates_the_first_nan_and_keeps_infinities(n):
    """max |g_i| over vector lanes and the scalar tail alike: an infinity anywhere is the
    maximum, a NaN anywhere is returned (the first one, whatever its sign bit)."""
    rng = np.random.default_rng(n)
    g = rng.normal(size=n)
    for where in sorted({0, n // 2, n - 1}):
        h = g.copy()
        h[where] = -np.inf
        assert _core.lbfgs_amax(h) == np.inf
        h[where] = np.nan
        assert math.isnan(_core.lbfgs_amax(h))
        h[-1 if where != n - 1 else 0] = np.inf
        assert math.isnan(_core.lbfgs_amax(h))
    h = -np.abs(g)
    h[n // 3] = -1e300
    assert _core.lbfgs_amax(h) == 1e300
    assert _core.lbfgs_amax(np.full(n, -0.0)) == 0.0


def test_kernels_refuse_bad_vectors():
    mem = _core.LbfgsMemory(4, 2)
    v = np.zeros(4)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        mem.direction([0.0] * 4, v, np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="float64 vector of 4 entries"):
        mem.direction(np.zeros(4, np.float32), v, np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="float64 vector of 4 entries"):
        mem.direction(np.zeros(5), v, np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="float64 vector of 4 entries"):
        mem.direction(np.zeros(8)[::2], v, np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="shares? memory"):
        mem.direction(np.zeros(4), v, v, np.zeros(4))
    ro = np.zeros(4)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        mem.direction(np.zeros(4), v, ro, np.zeros(4))
    for sy in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="sy"):
            mem.add(1.0, v, v, v, sy)
    with pytest.raises(ValueError, match="stp"):
        mem.add(0.0, v, v, v, 1.0)
    assert mem.col == 0 and mem.updates == 0           # nothing stored by a refused call
    with pytest.raises(ValueError, match="n must be"):
        _core.LbfgsMemory(0)
    with pytest.raises(ValueError, match="m .* must be"):
        _core.LbfgsMemory(3, 0)
    with pytest.raises(ValueError, match="shares? memory"):
        _core.lbfgs_trial(1.0, v, np.zeros(4), v)
    with pytest.raises(ValueError, match="float64 vector of 4 entries"):
        _core.lbfgs_dot(v, np.zeros(3))
    with pytest.raises(ValueError, match="float64 vector"):
        _core.lbfgs_amax(np.zeros((2, 2)))


def test_every_kernel_set_gives_the_same_bits():
    """The kernel sets (portable, AVX2, AVX-512 builds of one source) agree bit for bit, so a
    fit's result does not depend on the CPU it runs on."""
    supported = []
    before = _core.lbfgs_isa()
    try:
        for isa in ("portable", "avx2", "avx512"):
            try:
                _core.set_lbfgs_isa(isa)
            except ValueError:
                continue
            rng = np.random.default_rng(5)
            n, out = 1037, []
            mem = _core.LbfgsMemory(n, 4)
            for _ in range(6):
                d, r = rng.normal(size=n), rng.normal(size=n)
                g = r + 3.0 * d + 0.1 * rng.normal(size=n)
                mem.add(0.7, d, g, r, float(0.7 * d @ (g - r)))
            g, x, z, d = rng.normal(size=n), rng.normal(size=n), np.empty(n), np.empty(n)
            mem.direction(g, x, z, d)
            out.append(d.tobytes() + z.tobytes())
            out.append(np.float64(_core.lbfgs_dot(g, x)).tobytes())
            supported.append((isa, out))
    finally:
        _core.set_lbfgs_isa(before)
    assert supported and supported[0][0] == "portable"
    for isa, out in supported[1:]:
        assert out == supported[0][1], isa
    with pytest.raises(ValueError, match="unknown or not supported"):
        _core.set_lbfgs_isa("sse9")
