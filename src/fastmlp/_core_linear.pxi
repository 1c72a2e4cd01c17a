# _core_linear.pxi -- part of _core.pyx (included there, not compiled on its own).
# LinearUnits: single-layer linear models trained one sample at a time by the C kernels of
# csrc/linear (the chapter's perceptron rule and scikit-learn's SGD perceptron). Every array
# is checked here; the C side trusts what passes.

from libc.stdint cimport int32_t, uint8_t, uint32_t
from libc.stdlib cimport calloc, free
from libc.math cimport INFINITY

cdef extern from "linear/linear.h" nogil:
    enum:
        FM_LIN_SGD
        FM_LIN_CHAPTER
    ctypedef struct fm_lin_data:
        const void *X
        const int32_t *indices
        const int64_t *indptr
        Py_ssize_t n, d
        const uint8_t *val_mask
        const double *xabs
        int rule, penalty
        double alpha, l1_ratio, eta0, intercept_decay, gain
        int fit_intercept, need_loss, early_stopping
        double tol
        int n_iter_no_change
    ctypedef struct fm_lin_unit:
        void *w
        void *q
        void *w_snap
        void *q_snap
        const double *y
        const void *c
        const void *sw
        int32_t *order
        uint8_t *wrong
        uint32_t seed
        int shuffle
        double wscale, u, intercept, sq_norm, l1_norm
        double best
        int no_improvement, n_iter, done, diverged
        double sumloss, objective, score
        int64_t mistakes, steps
        Py_ssize_t fail_at
        double wmax
    fm_status fm_lin_epochs_s(const fm_lin_data *D, fm_lin_unit *units, int nunits, int epochs,
                              int nthreads)
    fm_status fm_lin_epochs_d(const fm_lin_data *D, fm_lin_unit *units, int nunits, int epochs,
                              int nthreads)
    void fm_lin_row_abs_s(const fm_lin_data *D, double *out)
    void fm_lin_row_abs_d(const fm_lin_data *D, double *out)
    fm_status fm_lin_rewind_s(const fm_lin_data *D, fm_lin_unit *units, int nunits,
                              Py_ssize_t steps, int nthreads)
    fm_status fm_lin_rewind_d(const fm_lin_data *D, fm_lin_unit *units, int nunits,
                              Py_ssize_t steps, int nthreads)
    void fm_lin_unscale_s(fm_lin_unit *u, Py_ssize_t d)
    void fm_lin_unscale_d(fm_lin_unit *u, Py_ssize_t d)
    void fm_lin_shuffle(int32_t *order, Py_ssize_t n, uint32_t seed)


LINEAR_PENALTIES = {None: 0, "l1": 1, "l2": 2, "elasticnet": 3}


def sgd_shuffle(int64_t n, uint32_t seed, int epochs=1):
    """The visiting order after `epochs` of scikit-learn's SGD shuffling (from 0..n-1)."""
    if n < 0 or n > _MAX_SIZE:
        raise ValueError(f"n must be in [0, {_MAX_SIZE}], got {n}")
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    out = np.arange(n, dtype=np.int32)
    cdef int32_t *p = <int32_t*>_ptr(out)
    cdef int e
    with nogil:
        for e in range(epochs):
            fm_lin_shuffle(p, n, seed)
    return out


cdef object _finite_real(str name, object v, double lo, bint lo_open, double hi=INFINITY):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__}")
    cdef double x = float(v)
    if x != x or x < lo or (lo_open and x == lo) or x > hi or x == INFINITY:
        raise ValueError(f"{name} must be a finite number in {'(' if lo_open else '['}"
                         f"{lo:g}, {hi:g}], got {v!r}")
    return x


cdef class LinearUnits:
    """K linear units trained one sample at a time on the rows of one data set (see
    csrc/linear/linear.h): ``rule`` 'sgd' (scikit-learn's SGD perceptron) or 'chapter'
    (the chapter's perceptron rule). The arrays are checked here and kept alive while the
    units live; ``W`` (K, d) is updated in place (its rows times ``wscale``) and holds the
    plain weights after ``finish()``.

    X: a dense (n, d) C-contiguous array, or the CSR triple (data, indices, indptr) with
    ``n_features``; Y (K, n) float64 of +-1; C (K, n) the step factors (finite, >= 0);
    sw (n,) validation weights or None; val_mask (n,) bool or None; seeds (K,) uint32."""
    cdef fm_lin_data D
    cdef fm_lin_unit *U
    cdef readonly int n_units
    cdef bint dbl
    cdef readonly object W, dtype
    cdef object _keep

    def __cinit__(self):
        self.U = NULL

    def __dealloc__(self):
        free(self.U)

    def __init__(self, X, Y, C, W, intercepts, *, indices=None, indptr=None,
                 n_features=None, sw=None, val_mask=None, seeds=None, str rule="sgd",
                 penalty=None, alpha=0.0, l1_ratio=0.0, eta0=1.0, intercept_decay=1.0,
                 gain=1.0, bint fit_intercept=True, bint need_loss=False,
                 bint early_stopping=False, tol=None, int n_iter_no_change=5,
                 bint shuffle=False):
        if rule not in ("sgd", "chapter"):
            raise ValueError(f"rule must be 'sgd' or 'chapter', got {rule!r}")
        if penalty not in LINEAR_PENALTIES:
            raise ValueError(f"penalty must be None, 'l1', 'l2' or 'elasticnet', got "
                             f"{penalty!r}")
        if not isinstance(W, np.ndarray) or W.dtype not in (_F32, _F64):
            raise TypeError("W must be a float32 or float64 numpy.ndarray")
        dtype = W.dtype
        self.dtype = dtype
        self.dbl = dtype == _F64
        sparse = indptr is not None
        cdef Py_ssize_t n, d, k, K
        if sparse:
            if indices is None or n_features is None:
                raise ValueError("CSR input needs data, indices, indptr and n_features")
            indptr = _vector("indptr", indptr, np.int64, len(indptr)) if \
                isinstance(indptr, np.ndarray) else _vector("indptr", indptr, np.int64, 0)
            n = indptr.shape[0] - 1
            d = n_features
            if n < 0:
                raise ValueError("indptr must have n_samples + 1 entries")
            X = _vector("X (CSR data)", X, dtype, X.shape[0] if isinstance(X, np.ndarray)
                        else 0)
            indices = _vector("indices", indices, np.int32, X.shape[0])
            if indptr[0] != 0 or indptr[n] != X.shape[0] or np.any(np.diff(indptr) < 0):
                raise ValueError("indptr must start at 0, never decrease and end at nnz")
            if X.shape[0] and (indices.min() < 0 or indices.max() >= d):
                raise ValueError(f"CSR column indices must lie in [0, {d})")
        else:
            X = _matrix("X", X, dtype)
            n, d = X.shape[0], X.shape[1]
        if n < 1 or d < 1 or n > _MAX_SIZE or d > _MAX_SIZE:
            raise ValueError(f"X must have 1..{_MAX_SIZE} rows and columns, got ({n}, {d})")
        if not np.all(np.isfinite(X)):
            raise ValueError("X must be finite (no NaN or infinity)")
        W = _matrix("W", W, dtype, -1, d, writeable=True)
        K = W.shape[0]
        if K < 1:
            raise ValueError("W must have at least one row (unit)")
        Y = _matrix("Y", Y, _F64, K, n)
        if not np.all((Y == 1) | (Y == -1)):
            raise ValueError("Y must hold +1 or -1 only")
        C = _matrix("C", C, dtype, K, n)
        if not (np.all(np.isfinite(C)) and np.all(C >= 0)):
            raise ValueError("C (the step factors) must be finite and >= 0")
        b = np.array(intercepts, dtype=np.float64).reshape(-1)
        if b.shape[0] != K or not np.all(np.isfinite(b)):
            raise ValueError(f"intercepts must be {K} finite numbers")
        if not np.all(np.isfinite(W)):
            raise ValueError("W must be finite")
        if sw is not None:
            sw = _vector("sw", sw, dtype, n)
        if val_mask is not None:
            val_mask = np.ascontiguousarray(val_mask, dtype=np.uint8)
            if val_mask.shape != (n,):
                raise ValueError(f"val_mask must have shape ({n},)")
        if early_stopping and (val_mask is None or not val_mask.any()):
            raise ValueError("early_stopping needs validation rows (val_mask)")
        if seeds is None:
            seeds = np.zeros(K, dtype=np.uint32)
        seeds = np.asarray(seeds)
        if seeds.shape != (K,) or np.any(seeds < 0) or np.any(seeds > 0xFFFFFFFF):
            raise ValueError(f"seeds must be {K} integers in [0, 2**32)")
        cdef double t = -INFINITY if tol is None else _finite_real("tol", tol, 0.0, False)
        if n_iter_no_change < 1:
            raise ValueError(f"n_iter_no_change must be >= 1, got {n_iter_no_change}")
        self.D.X = _ptr(X)
        self.D.indices = <const int32_t*>_ptr(indices) if sparse else NULL
        self.D.indptr = <const int64_t*>_ptr(indptr) if sparse else NULL
        self.D.n, self.D.d = n, d
        self.D.val_mask = <const uint8_t*>_ptr(val_mask) if val_mask is not None else NULL
        xabs = None
        self.D.xabs = NULL
        if not sparse:
            xabs = np.empty(n, dtype=np.float64)
            if self.dbl:
                fm_lin_row_abs_d(&self.D, <double*>_ptr(xabs))
            else:
                fm_lin_row_abs_s(&self.D, <double*>_ptr(xabs))
            self.D.xabs = <const double*>_ptr(xabs)
        self.D.rule = FM_LIN_SGD if rule == "sgd" else FM_LIN_CHAPTER
        self.D.penalty = LINEAR_PENALTIES[penalty]
        self.D.alpha = _finite_real("alpha", alpha, 0.0, False)
        self.D.l1_ratio = _finite_real("l1_ratio", l1_ratio, 0.0, False, 1.0)
        self.D.eta0 = _finite_real("eta0", eta0, 0.0, True)
        self.D.intercept_decay = _finite_real("intercept_decay", intercept_decay, 0.0, False)
        self.D.gain = _finite_real("gain", gain, 0.0, True)
        self.D.fit_intercept = fit_intercept
        self.D.need_loss = need_loss
        self.D.early_stopping = early_stopping
        self.D.tol = t
        self.D.n_iter_no_change = n_iter_no_change
        l1 = self.D.penalty in (1, 3) and rule == "sgd"
        Q = np.zeros((K, d), dtype=dtype) if l1 else None
        snaps = np.empty((2 if l1 else 1, K, d), dtype=dtype)
        orders = np.empty((K, n), dtype=np.int32)
        orders[...] = np.arange(n, dtype=np.int32)
        wrong = np.zeros((K, n), dtype=np.uint8) if rule == "chapter" else None
        self.U = <fm_lin_unit*>calloc(K, sizeof(fm_lin_unit))
        if self.U == NULL:
            raise MemoryError("LinearUnits: out of memory")
        self.n_units = K
        cdef Py_ssize_t isz = dtype.itemsize
        cdef char *wp = <char*>_ptr(W)
        cdef char *cp = <char*>_ptr(C)
        cdef char *sp = <char*>_ptr(snaps)
        cdef char *qp = <char*>_ptr(Q) if l1 else NULL
        cdef const double *yp = <const double*>_ptr(Y)
        cdef int32_t *op = <int32_t*>_ptr(orders)
        cdef uint8_t *mp = <uint8_t*>_ptr(wrong) if wrong is not None else NULL
        for k in range(K):
            self.U[k].w = wp + k * d * isz
            self.U[k].q = qp + k * d * isz if l1 else NULL
            self.U[k].w_snap = sp + k * d * isz
            self.U[k].q_snap = sp + (K + k) * d * isz if l1 else NULL
            self.U[k].y = yp + k * n
            self.U[k].c = cp + k * n * isz
            self.U[k].sw = _ptr(sw) if sw is not None else NULL
            self.U[k].order = op + k * n
            self.U[k].wrong = mp + k * n if mp != NULL else NULL
            self.U[k].seed = <uint32_t>int(seeds[k])
            self.U[k].shuffle = shuffle
            self.U[k].wscale = 1.0
            self.U[k].intercept = b[k]
            wk = W[k].astype(np.float64)
            self.U[k].sq_norm = float(wk @ wk)
            self.U[k].l1_norm = float(np.abs(wk).sum())
            self.U[k].wmax = float(np.abs(wk).max())
            self.U[k].best = -INFINITY if early_stopping else INFINITY
            self.U[k].fail_at = -1
        self.W = W
        self._keep = (X, indices, indptr, Y, C, sw, val_mask, Q, snaps, orders, wrong, xabs)

    def set_order(self, order):
        """The next epoch's visiting order for every unit (a permutation of 0..n-1)."""
        cdef Py_ssize_t n = self.D.n
        order = np.asarray(order)
        if order.shape != (n,) or order.dtype.kind not in "iu":
            raise ValueError(f"order must be {n} integers")
        if not np.array_equal(np.bincount(order, minlength=n) if order.min() >= 0 else
                              np.zeros(0), np.ones(n, dtype=np.intp)):
            raise ValueError(f"order must be a permutation of 0..{n - 1}")
        self._keep[9][...] = order

    def epochs(self, int epochs=1, n_threads=None):
        """Up to `epochs` epochs of every unit still training, each on its own until it
        stops (the GIL released)."""
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        cdef int nt = _nt(n_threads)
        with nogil:
            if self.dbl:
                st = fm_lin_epochs_d(&self.D, self.U, self.n_units, epochs, nt)
            else:
                st = fm_lin_epochs_s(&self.D, self.U, self.n_units, epochs, nt)
        _check_status(st, "LinearUnits.epochs")

    def rewind(self, Py_ssize_t steps, n_threads=None):
        """Every unit back to its last epoch's start, then its first `steps` rows again."""
        if steps < 0 or steps > self.D.n:
            raise ValueError(f"steps must be in [0, {self.D.n}], got {steps}")
        cdef int nt = _nt(n_threads)
        with nogil:
            if self.dbl:
                st = fm_lin_rewind_d(&self.D, self.U, self.n_units, steps, nt)
            else:
                st = fm_lin_rewind_s(&self.D, self.U, self.n_units, steps, nt)
        _check_status(st, "LinearUnits.rewind")

    def finish(self):
        """W as plain weights (each row times its scale; the scales become 1)."""
        cdef int k
        for k in range(self.n_units):
            if self.dbl:
                fm_lin_unscale_d(&self.U[k], self.D.d)
            else:
                fm_lin_unscale_s(&self.U[k], self.D.d)
        return self.W

    def coef(self, int k):
        """Unit k's weights as plain numbers (a new float64 array)."""
        if not 0 <= k < self.n_units:
            raise IndexError(k)
        return self.W[k].astype(np.float64) * self.U[k].wscale

    def stats(self):
        """A dict of per-unit arrays: the state and the last epoch's figures."""
        names = ("intercept", "sumloss", "objective", "score", "wscale")
        out = {name: np.empty(self.n_units) for name in names}
        ints = ("n_iter", "done", "diverged", "mistakes", "steps", "fail_at")
        out.update({name: np.empty(self.n_units, dtype=np.int64) for name in ints})
        cdef int k
        for k in range(self.n_units):
            u = &self.U[k]
            out["intercept"][k] = u.intercept
            out["sumloss"][k] = u.sumloss
            out["objective"][k] = u.objective
            out["score"][k] = u.score
            out["wscale"][k] = u.wscale
            out["n_iter"][k] = u.n_iter
            out["done"][k] = u.done
            out["diverged"][k] = u.diverged
            out["mistakes"][k] = u.mistakes
            out["steps"][k] = u.steps
            out["fail_at"][k] = u.fail_at
        return out

    def wrong(self):
        """FM_LIN_CHAPTER: (K, n) uint8, the rows each unit erred on in the last epoch."""
        return self._keep[10]
