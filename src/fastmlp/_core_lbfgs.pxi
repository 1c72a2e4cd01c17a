# _core_lbfgs.pxi -- part of layer 3 of _core.pyx (included there, not compiled on its own).
# The correction pairs of the engine's L-BFGS (fastmlp.training.lbfgs) and their vector work
# in C (csrc/nn/lbfgs.c). Every vector is a C-contiguous float64 array of n entries.


cdef inline double *_lb_vec(str name, object v, Py_ssize_t n, bint out) except NULL:
    if type(v) is not np.ndarray:
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(v).__name__}")
    cdef cnp.ndarray a = <cnp.ndarray>v
    if (a.dtype != _F64 or a.ndim != 1 or a.shape[0] != n
            or not cnp.PyArray_IS_C_CONTIGUOUS(a)):
        want = f" of {n} entries" if n >= 0 else ""
        raise ValueError(f"{name} must be a C-contiguous float64 vector{want}, got "
                         f"{v.dtype} of shape {v.shape}")
    if out and not cnp.PyArray_ISWRITEABLE(a):
        raise ValueError(f"{name} must be writeable")
    return <double*>cnp.PyArray_DATA(a)


cdef class LbfgsMemory:
    """The m most recent correction pairs of L-BFGS, s_k = x_{k+1} - x_k and
    y_k = g_{k+1} - g_k, as a ring (the rows of S and Y), and H0 = I / theta with
    theta = y'y / s'y of the newest pair (1 when there is none).

    ``direction(g, x, z, d)``: d = -H g by the two-loop recursion, then z = x + d and d = z - x
    (the step as it is taken). ``add(stp, d, g, r, sy)``: store s = stp d and y = g - r, whose
    s'y the caller measured (``sy``, > 0). ``reset()``: forget every pair."""
    cdef readonly Py_ssize_t n
    cdef readonly int m, col, head, tail, updates
    cdef readonly double theta
    cdef cnp.ndarray S, Y, rho, alpha

    def __init__(self, Py_ssize_t n, int m=10):
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if m < 1:
            raise ValueError(f"m (the pairs kept) must be >= 1, got {m}")
        self.n, self.m = n, m
        self.S = np.zeros((m, n))
        self.Y = np.zeros((m, n))
        self.rho = np.zeros(m)
        self.alpha = np.zeros(m)
        self.reset()

    def reset(self):
        self.col = self.head = self.tail = self.updates = 0
        self.theta = 1.0

    def direction(self, g, x, z, d):
        cdef Py_ssize_t n = self.n
        cdef double *pg = _lb_vec("g", g, n, False)
        cdef double *px = _lb_vec("x", x, n, False)
        cdef double *pz = _lb_vec("z", z, n, True)
        cdef double *pd = _lb_vec("d", d, n, True)
        _disjoint("LbfgsMemory.direction", (("z", z), ("d", d)), (("g", g), ("x", x)))
        self._direction(pg, px, pz, pd)

    def add(self, double stp, d, g, r, double sy):
        cdef Py_ssize_t n = self.n
        _lb_pair_check(stp, sy)
        cdef double *pd = _lb_vec("d", d, n, False)
        cdef double *pg = _lb_vec("g", g, n, False)
        cdef double *pr = _lb_vec("r", r, n, False)
        self._push(stp, pd, pg, pr, sy)

    cdef void _push(self, double stp, const double *pd, const double *pg, const double *pr,
                    double sy):
        cdef Py_ssize_t n = self.n
        cdef double yy
        self.updates += 1
        if self.updates <= self.m:
            self.col = self.updates
            self.tail = (self.head + self.updates - 1) % self.m
        else:
            self.tail = (self.tail + 1) % self.m
            self.head = (self.head + 1) % self.m
        cdef double *ps = <double*>cnp.PyArray_DATA(self.S) + self.tail * n
        cdef double *py = <double*>cnp.PyArray_DATA(self.Y) + self.tail * n
        with nogil:
            yy = fm_lbfgs_pair(n, stp, pd, pg, pr, ps, py)
        (<double*>cnp.PyArray_DATA(self.rho))[self.tail] = 1.0 / sy
        self.theta = yy / sy

    cdef void _direction(self, const double *pg, const double *px, double *pz, double *pd):
        with nogil:
            fm_lbfgs_direction(self.n, self.m, self.col, self.head,
                               <double*>cnp.PyArray_DATA(self.S),
                               <double*>cnp.PyArray_DATA(self.Y),
                               <double*>cnp.PyArray_DATA(self.rho), self.theta, pg, px, pz, pd,
                               <double*>cnp.PyArray_DATA(self.alpha))


cdef int _lb_pair_check(double stp, double sy) except -1:
    if not (sy > 0 and sy <= DBL_MAX):
        raise ValueError(f"sy (s'y of the new pair) must be a finite number > 0, got {sy!r}")
    if not (stp > 0 and stp <= DBL_MAX):
        raise ValueError(f"stp must be a finite number > 0, got {stp!r}")
    return 0


def lbfgs_dot(a, b):
    """a'b of two float64 vectors, summed in a fixed order (csrc/nn/lbfgs.c)."""
    cdef Py_ssize_t n = a.shape[0] if type(a) is np.ndarray and a.ndim == 1 else -1
    cdef double *pa = _lb_vec("a", a, n, False)
    cdef double *pb = _lb_vec("b", b, n, False)
    with nogil:
        r = fm_lbfgs_dot(n, pa, pb)
    return r


def lbfgs_trial(double stp, d, t, x):
    """x = stp * d + t (float64 vectors of one length; x apart from d and t)."""
    cdef Py_ssize_t n = d.shape[0] if type(d) is np.ndarray and d.ndim == 1 else -1
    cdef double *pd = _lb_vec("d", d, n, False)
    cdef double *pt = _lb_vec("t", t, n, False)
    cdef double *px = _lb_vec("x", x, n, True)
    _disjoint("lbfgs_trial", (("x", x),), (("d", d), ("t", t)))
    with nogil:
        fm_lbfgs_trial(n, stp, pd, pt, px)


def lbfgs_amax(g):
    """max |g_i| of a float64 vector, or a NaN of g if it has one."""
    cdef Py_ssize_t n = g.shape[0] if type(g) is np.ndarray and g.ndim == 1 else -1
    cdef double *pg = _lb_vec("g", g, n, False)
    with nogil:
        r = fm_lbfgs_amax(n, pg)
    return r


def lbfgs_equal(a, b):
    """Do two float64 vectors hold the same values (a NaN equals nothing)? Stops at the
    first difference."""
    cdef Py_ssize_t n = a.shape[0] if type(a) is np.ndarray and a.ndim == 1 else -1
    cdef double *pa = _lb_vec("a", a, n, False)
    cdef double *pb = _lb_vec("b", b, n, False)
    with nogil:
        r = fm_lbfgs_equal(n, pa, pb)
    return r != 0


def lbfgs_isa():
    """The kernel set of the L-BFGS vector work: 'avx512', 'avx2' or 'portable' (the same bits
    on each)."""
    return fm_lbfgs_isa().decode()


def set_lbfgs_isa(str name):
    """Force the L-BFGS kernel set (for tests and benchmarks)."""
    if fm_lbfgs_set_isa(name.encode()) != 0:
        raise ValueError(f"L-BFGS kernel set {name!r} is unknown or not supported by this CPU; "
                         f"expected 'portable', 'avx2' or 'avx512'")


cdef class LbfgsSearch:
    """Moré and Thuente's line search in C (csrc/nn/lbfgs_search.c): the same trial steps,
    bit for bit, as ``fastmlp.training.lbfgs.MoreThuente`` made with the same arguments.
    ``done(f, g)`` takes phi and phi' at ``stp`` and says whether stp is accepted, or else
    sets ``stp`` to the next trial."""
    cdef fm_lbfgs_search ls

    def __init__(self, double f0, double g0, double stp, *, double ftol=1e-3, double gtol=0.9,
                 double xtol=0.1, double stpmin=0.0, double stpmax=1e10):
        if not g0 < 0:
            raise ValueError(f"g0 (phi'(0)) must be < 0: a descent direction, got {g0!r}")
        if not (stp > 0 and stp <= stpmax and stpmin >= 0 and stpmin <= stpmax):
            raise ValueError(f"need 0 <= stpmin <= stp <= stpmax with stp > 0, got stp={stp!r}, "
                             f"stpmin={stpmin!r}, stpmax={stpmax!r}")
        fm_lbfgs_search_init(&self.ls, f0, g0, stp, ftol, gtol, xtol, stpmin, stpmax)

    @property
    def stp(self):
        return self.ls.stp

    @property
    def brackt(self):
        return self.ls.brackt != 0

    def done(self, double f, double g):
        return fm_lbfgs_search_done(&self.ls, f, g) != 0


cdef double _LB_STPMAX = 1e10     # the line search's largest step (lbfgs.STPMAX)


def lbfgs_run(fg, x, Py_ssize_t maxiter, Py_ssize_t maxfun, double gtol, double tol, int m,
              int maxls):
    """The iterations of ``fastmlp.training.lbfgs.minimize`` (see there) from the point in x
    (a writeable C-contiguous float64 vector, updated in place): each one a direction by the
    two-loop recursion and a Moré-Thuente line search, with only the evaluations
    ``fg(x, g)`` in Python. ``tol``: the relative reduction of f that ends the run (factr *
    epsmch). Returns (f, nit, nfev, status, reason), reason a key of lbfgs.MESSAGES."""
    cdef Py_ssize_t n = x.shape[0] if type(x) is np.ndarray and x.ndim == 1 else -1
    cdef double *px = _lb_vec("x", x, n, True)
    if n < 1:
        raise ValueError("x must have at least one entry")
    if maxiter < 1 or maxfun < 1 or m < 1 or maxls < 1:
        raise ValueError(f"maxiter, maxfun, m and maxls must be >= 1, got {maxiter}, {maxfun}, "
                         f"{m}, {maxls}")
    g, t, r, z, d = (np.empty(n) for _ in range(5))
    xlast = np.array(x, copy=True)
    cdef double *pg = <double*>cnp.PyArray_DATA(g)
    cdef double *pt = <double*>cnp.PyArray_DATA(t)
    cdef double *pr = <double*>cnp.PyArray_DATA(r)
    cdef double *pz = <double*>cnp.PyArray_DATA(z)
    cdef double *pd = <double*>cnp.PyArray_DATA(d)
    cdef double *pl = <double*>cnp.PyArray_DATA(xlast)
    cdef size_t nb = <size_t>n * sizeof(double)
    cdef LbfgsMemory mem = LbfgsMemory(n, m)
    cdef fm_lbfgs_search ls
    cdef double f, fold, gd, gdold, stp, gnorm, sy
    cdef Py_ssize_t nfev = 1, nit = 0
    cdef int trials, status
    cdef bint ok
    f = fg(x, g)
    if fm_lbfgs_amax(n, pg) <= gtol:
        return f, 0, nfev, 0, "grad"
    while True:
        mem._direction(pg, px, pz, pd)
        if nit == 0:
            stp = 1.0 / sqrt(fm_lbfgs_dot(n, pd, pd))
            stp = _LB_STPMAX if _LB_STPMAX < stp else stp
        else:
            stp = 1.0
        memcpy(pt, px, nb)
        memcpy(pr, pg, nb)
        fold = f
        gd = gdold = fm_lbfgs_dot(n, pg, pd)
        ok = gd < 0.0
        if ok:
            fm_lbfgs_search_init(&ls, f, gd, stp, 1e-3, 0.9, 0.1, 0.0, _LB_STPMAX)
            trials = 0
            while True:
                if trials >= maxls:
                    ok = False
                    break
                trials += 1
                stp = ls.stp
                if stp == 1.0:
                    memcpy(px, pz, nb)
                else:
                    fm_lbfgs_trial(n, stp, pd, pt, px)
                if not fm_lbfgs_equal(n, px, pl):    # the point evaluated last: not again
                    f = fg(x, g)
                    nfev += 1
                    gd = fm_lbfgs_dot(n, pg, pd)
                    memcpy(pl, px, nb)
                if fm_lbfgs_search_done(&ls, f, gd):
                    break
        if not ok:
            memcpy(px, pt, nb)
            memcpy(pg, pr, nb)
            if mem.col == 0:
                # as scipy reports it: x the last iterate, fun the last value evaluated
                status = 1 if (nfev > maxfun or nit >= maxiter) else 2
                return f, nit, nfev, status, "abnormal"
            f = fold
            mem.reset()
            continue
        nit += 1
        gnorm = fm_lbfgs_amax(n, pg)
        if nit >= maxiter:
            return f, nit, nfev, 1, "maxiter"
        if nfev > maxfun:
            return f, nit, nfev, 1, "maxfun"
        if not (isfinite(f) and isfinite(gnorm)):
            return f, nit, nfev, 2, "abnormal"
        if gnorm <= gtol:
            return f, nit, nfev, 0, "grad"
        if fold - f <= tol * max(fabs(fold), fabs(f), 1.0):
            return f, nit, nfev, 0, "f"
        sy = (gd - gdold) * stp if stp != 1.0 else gd - gdold
        if sy > DBL_EPSILON * (-gdold * stp if stp != 1.0 else -gdold):
            _lb_pair_check(stp, sy)
            mem._push(stp, pd, pg, pr, sy)
