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
        with nogil:
            fm_lbfgs_direction(n, self.m, self.col, self.head,
                               <double*>cnp.PyArray_DATA(self.S),
                               <double*>cnp.PyArray_DATA(self.Y),
                               <double*>cnp.PyArray_DATA(self.rho), self.theta, pg, px, pz, pd,
                               <double*>cnp.PyArray_DATA(self.alpha))

    def add(self, double stp, d, g, r, double sy):
        if not (sy > 0 and sy <= DBL_MAX):
            raise ValueError(f"sy (s'y of the new pair) must be a finite number > 0, got {sy!r}")
        if not (stp > 0 and stp <= DBL_MAX):
            raise ValueError(f"stp must be a finite number > 0, got {stp!r}")
        cdef Py_ssize_t n = self.n
        cdef double *pd = _lb_vec("d", d, n, False)
        cdef double *pg = _lb_vec("g", g, n, False)
        cdef double *pr = _lb_vec("r", r, n, False)
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
