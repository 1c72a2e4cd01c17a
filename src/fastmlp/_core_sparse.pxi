# _core_sparse.pxi -- layer 3 of _core.pyx (included there, not compiled on its own).
# Sparse (CSR) input and the whole-set objective (csrc/fm_sparse.h): the checks of a CSR
# matrix, predictions from CSR rows, the CSR arguments of Engine.train_epochs, and
# ``objective`` -- the loss, L2 term and gradient of a full-batch optimiser (L-BFGS) over a
# whole data set in one engine call. Every C call releases the GIL.

cdef extern from "fm_sparse.h" nogil:
    ctypedef struct fm_csr:
        const int64_t *indptr
        const int *indices
        const void *data
        int64_t n_rows
    fm_status fm_csr_forward_s(const fm_net *net, const float *theta, const fm_csr *X,
                               int64_t row0, int n, float *work, const fm_workspace *ws,
                               int nthreads)
    fm_status fm_csr_forward_d(const fm_net *net, const double *theta, const fm_csr *X,
                               int64_t row0, int n, double *work, const fm_workspace *ws,
                               int nthreads)
    fm_status fm_csr_train_epochs_s(const fm_net *net, fm_opt *opt, float *theta, float *grad,
                                    float *state1, float *state2, const fm_csr *X,
                                    const float *Y, const float *sw, int batch, int drop_last,
                                    int shuffle, uint64_t seed, int64_t epoch0, int n_epochs,
                                    int64_t *perm, float *work, const fm_workspace *ws,
                                    double *losses_out, int *epochs_done, volatile int *stop,
                                    int nthreads)
    fm_status fm_csr_train_epochs_d(const fm_net *net, fm_opt *opt, double *theta,
                                    double *grad, double *state1, double *state2,
                                    const fm_csr *X, const double *Y, const double *sw,
                                    int batch, int drop_last, int shuffle, uint64_t seed,
                                    int64_t epoch0, int n_epochs, int64_t *perm, double *work,
                                    const fm_workspace *ws, double *losses_out,
                                    int *epochs_done, volatile int *stop, int nthreads)
    fm_status fm_objective_s(const fm_net *net, const float *theta, const float *X,
                             const fm_csr *Xs, int64_t N, const float *Y, const float *sw,
                             int chunk, float *grad, float *work, const fm_workspace *ws,
                             double lscale, double alpha, double *g_out, double *loss_out,
                             int nthreads)
    fm_status fm_objective_d(const fm_net *net, const double *theta, const double *X,
                             const fm_csr *Xs, int64_t N, const double *Y, const double *sw,
                             int chunk, double *grad, double *work, const fm_workspace *ws,
                             double lscale, double alpha, double *g_out, double *loss_out,
                             int nthreads)


cdef class Engine


def is_sparse(X):
    """Is X a scipy.sparse matrix or array (without importing scipy)?"""
    return hasattr(X, "tocsr") and hasattr(X, "nnz") and not isinstance(X, np.ndarray)


cdef class CSR:
    """A checked CSR matrix in the engine's form: ``indptr`` (int64), ``indices`` (int32),
    ``data`` (float32 or float64), ``shape``. Made by :func:`csr_input`; holds the arrays
    the C calls read (no copy where the matrix already has these dtypes, except indptr)."""
    cdef readonly object indptr, indices, data
    cdef readonly tuple shape
    cdef fm_csr c

    @property
    def nnz(self):
        return self.indices.shape[0]

    @property
    def dtype(self):
        return self.data.dtype

    def __getitem__(self, key):
        """Rows (a slice or an int array) as a new CSR."""
        if isinstance(key, slice):
            key = np.arange(*key.indices(self.shape[0]))     # O(rows taken), not O(all)
        return csr_take(self, key)

    def tocsr(self):
        """The scipy.sparse.csr_matrix of these arrays (no copy)."""
        return _scipy_csr(self)


def csr_input(X, dtype, n_features=None):
    """X (any scipy.sparse format, or a :class:`CSR`) as a checked :class:`CSR` of ``dtype``
    -- never densified: the arrays take O(nnz + rows) memory. A TypeError/ValueError says what
    is wrong (not sparse, wrong column count, indices out of range, non-finite values)."""
    cdef CSR out
    dtype = np.dtype(dtype)
    _is_double(dtype)
    if isinstance(X, CSR):
        out = <CSR>X
        if out.data.dtype == dtype and (n_features is None or out.shape[1] == n_features):
            return out
        X = _scipy_csr(out)
    if not is_sparse(X):
        raise TypeError(f"expected a scipy.sparse matrix, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"a sparse X must be 2-dimensional, got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features, the network expects {n_features}")
    if X.shape[1] > _MAX_SIZE:
        raise ValueError(f"X has {X.shape[1]} columns; at most {_MAX_SIZE} are supported")
    if X.format != "csr":
        X = X.tocsr()            # csc, coo, ...: converted, never densified
    out = CSR.__new__(CSR)
    out.shape = (int(X.shape[0]), int(X.shape[1]))
    nnz = int(X.indptr[X.shape[0]])
    out.indptr = np.ascontiguousarray(X.indptr, dtype=np.int64)
    out.indices = np.ascontiguousarray(X.indices[:nnz], dtype=np.int32)
    out.data = np.ascontiguousarray(X.data[:nnz], dtype=dtype)
    if out.indptr.shape[0] != out.shape[0] + 1 or out.indptr[0] != 0 or \
            (out.shape[0] and np.any(np.diff(out.indptr) < 0)):
        raise ValueError("X is not a valid CSR matrix: indptr must start at 0 and not decrease")
    if nnz and (int(out.indices.min()) < 0 or int(out.indices.max()) >= out.shape[1]):
        raise ValueError(f"X is not a valid CSR matrix: column indices must be in "
                         f"[0, {out.shape[1]})")
    if not _all_finite(out.data):
        raise ValueError("X contains NaN or infinity")
    out.c.indptr = <const int64_t*>_ptr(out.indptr)
    out.c.indices = <const int*>_ptr(out.indices)
    out.c.data = _ptr(out.data)
    out.c.n_rows = out.shape[0]
    return out


cdef object _scipy_csr(CSR X):
    import scipy.sparse as sp
    return sp.csr_matrix((X.data, X.indices, X.indptr), shape=X.shape)


cdef bint _all_finite(object a):
    cdef ptrdiff_t n = a.shape[0]
    cdef void *p = _ptr(a)
    cdef int ok
    cdef bint dbl = a.dtype == _F64
    with nogil:
        ok = _finite(dbl, p, n)
    return ok != 0


def csr_take(X, rows):
    """The rows ``rows`` (an int array) of a :class:`CSR`, as a new CSR (O(their nnz))."""
    cdef CSR s = <CSR>X
    rows = np.asarray(rows, dtype=np.int64)
    starts, ends = s.indptr[rows], s.indptr[rows + 1]
    lens = ends - starts
    indptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
    np.cumsum(lens, out=indptr[1:])
    idx = np.repeat(starts - indptr[:rows.shape[0]], lens) + np.arange(int(indptr[-1]), dtype=np.int64)
    import scipy.sparse as sp
    return csr_input(sp.csr_matrix((s.data[idx], s.indices[idx], indptr),
                                   shape=(rows.shape[0], s.shape[1])), s.data.dtype)


cdef _Workspace _csr_workspace(Engine eng, int rows):
    """A workspace for CSR rows: the dense one without its gathered-X block (rows x N_0),
    which the CSR paths never use -- memory grows with the rows and the layer widths."""
    cdef fm_net net = eng.net
    net.sizes[0] = 1
    return _new_workspace(&net, rows, eng.dtype)


cdef int _csr_forward_in(Engine eng, _Workspace w, CSR X, int start, int n, int nt) except -1:
    cdef fm_status st
    cdef void *th = eng._theta_p
    with nogil:
        if eng.dbl:
            st = fm_csr_forward_d(&eng.net, <double*>th, &X.c, start, n, <double*>w.p, &w.ws, nt)
        else:
            st = fm_csr_forward_s(&eng.net, <float*>th, &X.c, start, n, <float*>w.p, &w.ws, nt)
    _check_status(st, "forward")
    return 0


def csr_predict(Engine eng, X, n_threads=None, int chunk=1024):
    """``Engine.predict`` of sparse rows: a^L, ``chunk`` rows per pass (the first layer a
    sparse x dense product). Shared, like ``Engine.predict``."""
    cdef CSR Xc = csr_input(X, eng.dtype, eng.net.sizes[0])
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    cdef int n = Xc.shape[0]
    cdef int nt = _nt(n_threads)
    out = np.empty((n, eng.net.sizes[eng.net.n_layers]), dtype=eng.dtype)
    if n == 0:
        return out
    cdef int step = min(chunk, n)
    cdef int start, nb
    cdef _Workspace w
    eng._guard.begin_shared("predict")
    try:
        w = _csr_workspace(eng, step)
        for start in range(0, n, step):
            if start > 0:
                PyErr_CheckSignals()
            nb = min(step, n - start)
            _csr_forward_in(eng, w, Xc, start, nb, nt)
            eng._copy_out(w, out, start, nb)
    finally:
        eng._guard.end_shared()
    return out


def objective(Engine eng, X, Y, g_out, theta=None, sample_weight=None, double lscale=1.0,
              double alpha=0.0, int chunk=4096, n_threads=None):
    """The objective of a full-batch optimiser over all rows of X (dense or sparse), in one
    engine call: returns ``lscale * L + 0.5 * alpha * ||W||^2 / S`` (L: the mean loss,
    weighted by ``sample_weight``; S: the rows or the weight sum) and writes its gradient
    with respect to theta into ``g_out`` (float64, n_params: e.g. scipy's vector). ``theta``
    (float64 vector of n_params, for a float64 engine; None: the engine's own theta) is the
    point to evaluate; it is read, never copied. Rows go in chunks of ``chunk`` (fixed: the
    result does not depend on the thread count). Exclusive (uses the training workspace)."""
    cdef CSR Xc = None
    cdef int64_t N
    if is_sparse(X) or isinstance(X, CSR):
        Xc = csr_input(X, eng.dtype, eng.net.sizes[0])
        N = Xc.shape[0]
    else:
        X = eng._X(X)
        N = X.shape[0]
    if N < 1:
        raise ValueError("X must have at least one row")
    Y = eng._Y(Y, N)
    sw = _sample_weight(sample_weight, N, eng.dtype)
    g_out = _vector("g_out", g_out, _F64, eng.net.n_params, writeable=True)
    if theta is None:
        theta = eng._theta
    else:
        theta = _vector("theta", theta, eng.dtype, eng.net.n_params)
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    chunk = <int>min(<int64_t>chunk, N)
    grad = eng.grad
    _disjoint("objective", (("g_out", g_out),), (("theta", theta), ("grad", grad)))
    cdef void *th = _ptr(theta)
    cdef void *gr = _ptr(grad)
    cdef void *xp = _ptr(X) if Xc is None else NULL
    cdef const fm_csr *xs = &Xc.c if Xc is not None else NULL
    cdef void *yp = _ptr(Y)
    cdef void *wp = _ptr(sw) if sw is not None else NULL
    cdef double *go = <double*>_ptr(g_out)
    cdef double value = np.nan
    cdef int nt = _nt(n_threads)
    cdef fm_status st
    cdef _Workspace w
    eng._guard.begin_exclusive("objective")
    try:
        if Xc is None:
            eng._reserve(chunk)
            w = eng._ws
        else:
            w = _csr_workspace(eng, chunk)
        with nogil:
            if eng.dbl:
                st = fm_objective_d(&eng.net, <double*>th, <double*>xp, xs, N, <double*>yp,
                                    <double*>wp, chunk, <double*>gr, <double*>w.p, &w.ws,
                                    lscale, alpha, go, &value, nt)
            else:
                st = fm_objective_s(&eng.net, <float*>th, <float*>xp, xs, N, <float*>yp,
                                    <float*>wp, chunk, <float*>gr, <float*>w.p, &w.ws,
                                    lscale, alpha, go, &value, nt)
        eng.last_n = -1
    finally:
        eng._guard.end_exclusive()
    if st == FM_ERR_ARG and sw is not None:
        raise ValueError("sample_weight sums to 0: the objective is not defined")
    _check_status(st, "objective")
    return value

