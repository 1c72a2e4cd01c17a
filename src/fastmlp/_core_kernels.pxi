# _core_kernels.pxi -- layer 2 of _core.pyx (included there, not compiled on its own).
# Element-wise kernels: act_forward, act_deriv, loss (value and delta^L), gemm, permutation
# and the vector maths, for float32 and float64 (the C function is picked by dtype).


cdef object _prelu_vector(int act, object alpha, object dtype, int cols):
    if act != 8:
        return None
    if alpha is None:
        raise ValueError("PReLU needs its alpha: a vector with one entry per column")
    return _vector("alpha", alpha, dtype, cols)


def act_forward(act, z, out=None, double leaky=FM_LEAKY_ALPHA, alpha=None, n_threads=None):
    """a = sigma(z) element-wise in C (softmax row-wise). z: 2-D float32/float64 C array.
    ``out`` may be z itself (in place), but no other array sharing z's memory. An empty z
    (0 rows or 0 columns) gives an empty result."""
    cdef int code = _act_code(act)
    if not isinstance(z, np.ndarray):
        raise TypeError(f"z must be a numpy.ndarray, got {type(z).__name__}")
    cdef int dbl = _is_double(z.dtype)
    z = _matrix("z", z, z.dtype)
    cdef int rows = z.shape[0], cols = z.shape[1]
    if out is None:
        out = np.empty_like(z)
    out = _matrix("out", out, z.dtype, rows, cols, writeable=True)
    pr = _prelu_vector(code, alpha, z.dtype, cols)
    if _ptr(out) != _ptr(z):        # in place is fine, a shifted overlap is not
        _disjoint("act_forward", (("out", out),), (("z", z), ("alpha", pr)))
    else:
        _disjoint("act_forward", (("out", out),), (("alpha", pr),))
    if rows == 0 or cols == 0:
        return out
    cdef void *zp = _ptr(z)
    cdef void *ap = _ptr(out)
    cdef void *pp = _ptr(pr) if pr is not None else NULL
    cdef int nt = _nt(n_threads)
    cdef fm_status st
    with nogil:
        if dbl:
            st = fm_act_forward_d(code, rows, cols, <double*>zp, cols, <double*>ap, cols,
                                  leaky, <double*>pp, nt)
        else:
            st = fm_act_forward_s(code, rows, cols, <float*>zp, cols, <float*>ap, cols,
                                  leaky, <float*>pp, nt)
    _check_status(st, "act_forward")
    return out


def act_deriv(act, z, a=None, out=None, double leaky=FM_LEAKY_ALPHA, alpha=None, n_threads=None):
    """sigma'(z) element-wise in C (from a as well, where sigma' is written in terms of it).
    ``out`` must not share memory with z, a or alpha. An empty z gives an empty result."""
    cdef int code = _act_code(act)
    if code == FM_ACT_SOFTMAX:
        raise ValueError("softmax has no element-wise derivative (its Jacobian is full)")
    if not isinstance(z, np.ndarray):
        raise TypeError(f"z must be a numpy.ndarray, got {type(z).__name__}")
    cdef int dbl = _is_double(z.dtype)
    z = _matrix("z", z, z.dtype)
    cdef int rows = z.shape[0], cols = z.shape[1]
    if a is not None:
        a = _matrix("a", a, z.dtype, rows, cols)
    if out is None:
        out = np.empty_like(z)
    out = _matrix("out", out, z.dtype, rows, cols, writeable=True)
    pr = _prelu_vector(code, alpha, z.dtype, cols)
    _disjoint("act_deriv", (("out", out),), (("z", z), ("a", a), ("alpha", pr)))
    if rows == 0 or cols == 0:
        return out
    cdef void *zp = _ptr(z)
    cdef void *ap = _ptr(a) if a is not None else NULL
    cdef void *dp = _ptr(out)
    cdef void *pp = _ptr(pr) if pr is not None else NULL
    cdef int nt = _nt(n_threads)
    cdef fm_status st
    with nogil:
        if dbl:
            st = fm_act_deriv_d(code, rows, cols, <double*>zp, cols, <double*>ap, cols,
                                <double*>dp, cols, leaky, <double*>pp, nt)
        else:
            st = fm_act_deriv_s(code, rows, cols, <float*>zp, cols, <float*>ap, cols,
                                <float*>dp, cols, leaky, <float*>pp, nt)
    _check_status(st, "act_deriv")
    return out


def loss(loss, act, Y, z, a, double leaky=FM_LEAKY_ALPHA, alpha=None, n_threads=None):
    """(value, delta^L) of `loss` for output activation `act` in C.

    value is the mean over rows of the per-sample cost; delta^L = dC/dz^L of that mean.
    Needs at least one row and one column.
    """
    cdef int lc = _loss_code(loss), code = _act_code(act)
    if not isinstance(z, np.ndarray):
        raise TypeError(f"z must be a numpy.ndarray, got {type(z).__name__}")
    cdef int dbl = _is_double(z.dtype)
    z = _matrix("z", z, z.dtype)
    cdef int rows = z.shape[0], cols = z.shape[1]
    a = _matrix("a", a, z.dtype, rows, cols)
    Y = _matrix("Y", Y, z.dtype, rows, cols)
    if rows == 0 or cols == 0:
        raise ValueError(f"loss needs at least one row and one column, got shape {z.shape}")
    pr = _prelu_vector(code, alpha, z.dtype, cols)
    delta = np.empty_like(z)
    rowloss = np.empty(rows, dtype=np.float64)
    cdef double value = 0
    cdef void *yp = _ptr(Y)
    cdef void *zp = _ptr(z)
    cdef void *ap = _ptr(a)
    cdef void *dp = _ptr(delta)
    cdef void *pp = _ptr(pr) if pr is not None else NULL
    cdef double *rp = <double*>_ptr(rowloss)
    cdef int nt = _nt(n_threads)
    cdef fm_status st
    with nogil:
        if dbl:
            st = fm_loss_d(lc, code, rows, cols, <double*>yp, <double*>zp, <double*>ap,
                           <double*>dp, leaky, <double*>pp, rp, &value, nt)
        else:
            st = fm_loss_s(lc, code, rows, cols, <float*>yp, <float*>zp, <float*>ap,
                           <float*>dp, leaky, <float*>pp, rp, &value, nt)
    _check_status(st, "loss")
    return value, delta


def gemm(A, B, bint transA=False, bint transB=False, double alpha=1.0, double beta=0.0,
         C=None, n_threads=None):
    """C = alpha * op(A) @ op(B) + beta * C with fastmlp's own GEMM (same dtype throughout).
    C must not share memory with A or B (ValueError): the product reads them while it writes
    C. Empty shapes follow the usual rules (K == 0: C = beta * C)."""
    if not cnp.PyArray_Check(A):
        raise TypeError(f"A must be a numpy.ndarray, got {type(A).__name__}")
    cdef int tn = cnp.PyArray_TYPE(<cnp.ndarray>A)
    cdef int dbl
    if tn == cnp.NPY_DOUBLE:
        dbl = 1
        dt = _F64
    elif tn == cnp.NPY_FLOAT:
        dbl = 0
        dt = _F32
    else:
        dbl = _is_double(A.dtype)   # raises the TypeError
        dt = _F64
    A = _matrix("A", A, dt)
    B = _matrix("B", B, dt)
    # shapes through NumPy's C API: A.shape would build a tuple per read (a third of the
    # cost of a call on a 4x2x4 product)
    cdef ptrdiff_t ar = cnp.PyArray_DIM(<cnp.ndarray>A, 0), ac = cnp.PyArray_DIM(<cnp.ndarray>A, 1)
    cdef ptrdiff_t br = cnp.PyArray_DIM(<cnp.ndarray>B, 0), bc = cnp.PyArray_DIM(<cnp.ndarray>B, 1)
    if ar > INT_MAX or ac > INT_MAX or br > INT_MAX or bc > INT_MAX:
        raise ValueError(f"gemm takes dimensions up to {INT_MAX}, got A {A.shape}, B {B.shape}")
    cdef int M = ac if transA else ar
    cdef int K = ar if transA else ac
    cdef int KB = bc if transB else br
    cdef int N = br if transB else bc
    if K != KB:
        raise ValueError(f"inner dimensions differ: op(A) is {M}x{K}, op(B) is {KB}x{N}")
    cdef cnp.npy_intp dims[2]
    if C is None:
        if beta != 0:
            raise ValueError("beta != 0 needs an input C")
        dims[0] = M
        dims[1] = N
        C = cnp.PyArray_EMPTY(2, dims, tn, 0)
    else:
        C = _matrix("C", C, dt, M, N, writeable=True)
        if _overlap(C, A) or _overlap(C, B):
            _disjoint("gemm", (("C", C),), (("A", A), ("B", B)))     # raises, naming them
    cdef void *ap = _ptr(A)
    cdef void *bp = _ptr(B)
    cdef void *cp = _ptr(C)
    cdef ptrdiff_t lda = ac, ldb = bc, ldc = N
    cdef int nt = _nt(n_threads)
    # up to ~10 us of work: keep the GIL (releasing and taking it back costs ~0.2 us, a tenth
    # of a 32x64x64 product; other Python threads wait at most that long)
    if 2.0 * M * N * K < 1e6:
        if dbl:
            fm_dgemm(transA, transB, M, N, K, alpha, <double*>ap, lda, <double*>bp, ldb,
                     beta, <double*>cp, ldc, NULL, NULL, nt)
        else:
            fm_sgemm(transA, transB, M, N, K, <float>alpha, <float*>ap, lda, <float*>bp, ldb,
                     <float>beta, <float*>cp, ldc, NULL, NULL, nt)
        return C
    with nogil:
        if dbl:
            fm_dgemm(transA, transB, M, N, K, alpha, <double*>ap, lda, <double*>bp, ldb,
                     beta, <double*>cp, ldc, NULL, NULL, nt)
        else:
            fm_sgemm(transA, transB, M, N, K, <float>alpha, <float*>ap, lda, <float*>bp, ldb,
                     <float>beta, <float*>cp, ldc, NULL, NULL, nt)
    return C


def permutation(uint64_t seed, uint64_t stream, int64_t n):
    """The permutation of 0..n-1 that the engine uses for epoch `stream` under `seed`."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    out = np.empty(n, dtype=np.int64)
    cdef int64_t *p = <int64_t*>_ptr(out)
    with nogil:
        fm_permutation(seed, stream, n, p)
    return out


cdef int _uniform_fill(object words, object segments, void *dst, int64_t n,
                       int dbl, bint zero_first) except -1:
    """fm_uniform_fill into dst (n elements, double or float) after checking the arguments
    (up to FM_MAX_LAYERS segments: one per layer of a network); zero_first: dst set to 0
    first -- once the arguments passed, so that a refused call leaves dst as it was."""
    if not isinstance(words, np.ndarray) or words.dtype != np.uint64 or words.shape != (4,):
        raise TypeError("words must be a uint64 array of shape (4,)")
    cdef Py_ssize_t n_seg = len(segments), s
    if n_seg > FM_MAX_LAYERS:
        raise ValueError(f"at most {FM_MAX_LAYERS} segments, got {n_seg}")
    cdef int64_t op[FM_MAX_LAYERS]
    cdef int64_t cp[FM_MAX_LAYERS]
    cdef double lp[FM_MAX_LAYERS]
    cdef double hp[FM_MAX_LAYERS]
    cdef int64_t o, c
    for s in range(n_seg):
        o, c, lp[s], hp[s] = segments[s]
        if o < 0 or c < 0 or o > n - c:
            raise ValueError(f"segment {s} ({o}, {c}) is outside the output (size {n})")
        if not (lp[s] <= hp[s]) or not (hp[s] - lp[s] <= DBL_MAX):
            raise ValueError(f"segment {s}: need finite low <= high, got {lp[s]}, {hp[s]}")
        op[s], cp[s] = o, c
    if not words.flags.c_contiguous:
        words = np.ascontiguousarray(words)
    cdef const uint64_t *wp = <const uint64_t*>_ptr(words)
    with nogil:
        if zero_first:
            memset(dst, 0, <size_t>n * (8 if dbl else 4))
        fm_uniform_fill(wp, <int>n_seg, op, cp, lp, hp, dst, dbl)
    return 0


def uniform_fill(words, segments, out):
    """NumPy's ``Generator(PCG64(seed)).uniform(low, high, count)`` for each ``(offset,
    count, low, high)`` of ``segments`` in turn, from one generator, written into the 1-D
    float64 or float32 array ``out`` at ``out[offset:offset + count]`` (float32: each draw
    rounded from its float64 value, as assigning NumPy's draws rounds them). ``words``: the
    generator's seed as ``SeedSequence(seed).generate_state(4, np.uint64)`` gives it. The
    same bits as NumPy's draws, without a Generator object."""
    if not isinstance(out, np.ndarray) or out.dtype not in (np.float64, np.float32) \
            or out.ndim != 1 or not out.flags.c_contiguous or not out.flags.writeable:
        raise TypeError("out must be a writeable, C-contiguous 1-D float64 or float32 array")
    _uniform_fill(words, segments, _ptr(out), out.shape[0], out.dtype == np.float64, False)


def gemm_isa():
    """The GEMM kernel set in use: 'avx512', 'avx2' or 'portable'."""
    return fm_gemm_isa().decode()


def set_gemm_isa(str name):
    """Force a GEMM kernel set (for tests and benchmarks)."""
    if fm_gemm_set_isa(name.encode()) != 0:
        raise ValueError(f"GEMM kernel set {name!r} is unknown or not supported by this CPU; "
                         f"expected 'portable', 'avx2' or 'avx512'")


def vecmath_isa():
    """The kernel set behind sigmoid, tanh and softmax's exp: 'avx512', 'avx2' or 'portable'."""
    return fm_vecmath_isa().decode()


def set_vecmath_isa(str name):
    """Force the vector-maths kernel set (for tests and benchmarks)."""
    if fm_vecmath_set_isa(name.encode()) != 0:
        raise ValueError(f"vector-maths kernel set {name!r} is unknown or not supported by this "
                         f"CPU; expected 'portable', 'avx2' or 'avx512'")


_VEC_FUNCS = {"exp": 0, "sigmoid": 1, "tanh": 2}


def vec_eval(str func, x, out=None):
    """y = func(x) element-wise with the vector-maths kernels ('exp', 'sigmoid', 'tanh').
    x: 1-D contiguous float32/float64 array; out may be x (in place)."""
    if func not in _VEC_FUNCS:
        raise ValueError(f"func must be one of {sorted(_VEC_FUNCS)}, got {func!r}")
    if not isinstance(x, np.ndarray):
        raise TypeError(f"x must be a numpy.ndarray, got {type(x).__name__}")
    cdef int dbl = _is_double(x.dtype)
    if x.ndim != 1 or not x.flags.c_contiguous:
        raise ValueError(f"x must be a 1-D contiguous array, got shape {x.shape}")
    if out is None:
        out = np.empty_like(x)
    if (not isinstance(out, np.ndarray) or out.dtype != x.dtype or out.shape != x.shape
            or not out.flags.c_contiguous or not out.flags.writeable):
        raise ValueError("out must be a writeable contiguous array of x's shape and dtype")
    if _ptr(out) != _ptr(x):
        _disjoint("vec_eval", (("out", out),), (("x", x),))
    cdef int code = _VEC_FUNCS[func]
    cdef Py_ssize_t n = x.shape[0]
    cdef void *xp = _ptr(x)
    cdef void *yp = _ptr(out)
    cdef fm_status st
    with nogil:
        if dbl:
            st = fm_vec_eval_d(code, n, <double*>xp, <double*>yp)
        else:
            st = fm_vec_eval_s(code, n, <float*>xp, <float*>yp)
    _check_status(st, "vec_eval")
    return out
