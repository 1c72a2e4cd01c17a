# _core_checks.pxi -- layer 1 of _core.pyx (included there, not compiled on its own).
# Argument checks: every array is checked once here -- type, dtype, dimensions, shape,
# C-contiguity, writeability -- and a TypeError/ValueError names what was wrong and what was
# expected. The C layer trusts what passes.


cdef inline int _is_double(object dtype) except -1:
    if dtype == np.float64:
        return 1
    if dtype == np.float32:
        return 0
    raise TypeError(f"dtype must be float32 or float64, got {np.dtype(dtype).name}")


cdef inline int _typenum(object dtype) except -1:
    return cnp.NPY_DOUBLE if _is_double(dtype) else cnp.NPY_FLOAT


cdef object _matrix(str name, object arr, object dtype, int rows=-1, int cols=-1,
                    bint writeable=False, bint allow_1d=False):
    """Return `arr` after checking it is a C-contiguous 2-D ndarray of `dtype` and shape.

    The common case (all fine) is decided with NumPy's C API alone; only a failing check
    goes on to build its error message from Python attributes."""
    cdef cnp.ndarray a
    cdef int tn
    if cnp.PyArray_Check(arr):
        a = <cnp.ndarray>arr
        tn = cnp.NPY_DOUBLE if dtype is _F64 else (cnp.NPY_FLOAT if dtype is _F32
                                                   else _typenum(dtype))
        if (cnp.PyArray_TYPE(a) == tn and cnp.PyArray_NDIM(a) == 2
                and cnp.PyArray_IS_C_CONTIGUOUS(a)
                and (not writeable or cnp.PyArray_ISWRITEABLE(a))
                and (rows < 0 or cnp.PyArray_DIM(a, 0) == rows)
                and (cols < 0 or cnp.PyArray_DIM(a, 1) == cols)):
            return arr
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(arr).__name__}")
    if arr.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype).name}, got {arr.dtype.name}")
    if allow_1d and arr.ndim == 1:
        pass
    elif arr.ndim != 2:
        raise ValueError(f"{name} must be 2-dimensional, got {arr.ndim} dimension(s) "
                         f"with shape {arr.shape}")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous (use numpy.ascontiguousarray)")
    if writeable and not arr.flags.writeable:
        raise ValueError(f"{name} is read-only; an output array must be writeable")
    if arr.ndim == 2:
        if rows >= 0 and arr.shape[0] != rows:
            raise ValueError(f"{name} must have {rows} rows, got shape {arr.shape}")
        if cols >= 0 and arr.shape[1] != cols:
            raise ValueError(f"{name} must have {cols} columns, got shape {arr.shape}")
    return arr


cdef object _vector(str name, object arr, object dtype, Py_ssize_t length, bint writeable=False):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(arr).__name__}")
    if arr.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype).name}, got {arr.dtype.name}")
    if arr.ndim != 1 or arr.shape[0] != length:
        raise ValueError(f"{name} must have shape ({length},), got {arr.shape}")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{name} must be contiguous")
    if writeable and not arr.flags.writeable:
        raise ValueError(f"{name} is read-only; it must be writeable")
    return arr



cdef object _sample_weight(object sw, Py_ssize_t n, object dtype):
    """sample_weight as the engine needs it: a C-contiguous 1-D array of `dtype` with one
    weight per sample (n), every weight finite and >= 0 (None stays None: unweighted).

    Any real array-like is accepted and converted (a copy only when it is not already so);
    the returned array must be kept alive for as long as C reads it."""
    if sw is None:
        return None
    cdef int tn = cnp.NPY_DOUBLE if dtype is _F64 else (cnp.NPY_FLOAT if dtype is _F32
                                                        else _typenum(dtype))
    cdef object a = sw
    if not (cnp.PyArray_Check(sw) and cnp.PyArray_TYPE(<cnp.ndarray>sw) == tn
            and cnp.PyArray_NDIM(<cnp.ndarray>sw) == 1
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>sw)):
        if isinstance(sw, (str, bytes)):
            raise TypeError(f"sample_weight must be a 1-D array of real numbers (one weight "
                            f"per sample), got {type(sw).__name__} {sw!r}")
        try:
            a = np.asarray(sw)
        except Exception as e:
            raise TypeError(f"sample_weight must be a 1-D array of real numbers (one weight "
                            f"per sample), got {type(sw).__name__}") from e
        if a.dtype.kind not in "biuf":
            raise TypeError(f"sample_weight must hold real numbers (one weight per sample), "
                            f"got dtype {a.dtype}")
        if a.ndim != 1:
            raise ValueError(f"sample_weight must be 1-dimensional, one weight per sample "
                             f"(shape ({n},)), got shape {a.shape}")
    if a.shape[0] != n:
        raise ValueError(f"sample_weight must have one weight per sample: shape ({n},), "
                         f"got shape {a.shape}")
    orig = a
    if cnp.PyArray_TYPE(<cnp.ndarray>a) != tn or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        with np.errstate(over="ignore", invalid="ignore"):   # reported below, with its index
            a = np.ascontiguousarray(a, dtype=dtype)
    # one pass: each weight finite and >= 0 (NaN fails both comparisons), the sum finite
    cdef Py_ssize_t i, bad = -1
    cdef double v, total = 0
    cdef const double *dp = <const double*>_ptr(a)
    cdef const float *fp = <const float*>_ptr(a)
    cdef bint dbl = tn == cnp.NPY_DOUBLE
    with nogil:
        for i in range(n):
            v = dp[i] if dbl else <double>fp[i]
            if not (v >= 0 and v <= DBL_MAX):
                bad = i
                break
            total += v
    if bad >= 0:
        v0 = float(orig[bad])
        if v0 < 0:
            raise ValueError(f"sample_weight must be >= 0 (one weight per sample); "
                             f"sample_weight[{bad}] is {v0!r}")
        too_big = f" (too large for {np.dtype(dtype).name})" if np.isfinite(v0) else ""
        raise ValueError(f"sample_weight must be finite (one real weight >= 0 per sample); "
                         f"sample_weight[{bad}] is {v0!r}{too_big}")
    if not total <= DBL_MAX:
        raise ValueError("the sum of sample_weight overflows a float64; rescale the weights")
    return a

cdef int _act_code(object act) except -1:
    if isinstance(act, str):
        if act not in ACTIVATION_CODES:
            raise ValueError(f"unknown activation {act!r}; expected one of "
                             f"{sorted(ACTIVATION_CODES)}")
        return ACTIVATION_CODES[act]
    if not isinstance(act, (int, np.integer)) or not (0 <= act < FM_N_ACT):
        raise ValueError(f"activation code must be an int in [0, {FM_N_ACT}), got {act!r}")
    return act


cdef int _loss_code(object loss) except -1:
    if isinstance(loss, str):
        if loss not in LOSS_CODES:
            raise ValueError(f"unknown loss {loss!r}; expected one of {sorted(LOSS_CODES)}")
        return LOSS_CODES[loss]
    if not isinstance(loss, (int, np.integer)) or not (0 <= loss < FM_N_LOSS):
        raise ValueError(f"loss code must be an int in [0, {FM_N_LOSS}), got {loss!r}")
    return loss


cdef int _check_status(fm_status st, str what) except -1:
    if st == FM_OK:
        return 0
    if st == FM_ERR_NONFINITE:
        raise FloatingPointError(f"{what}: the loss or a gradient became NaN or infinite; "
                                 f"the parameters were left unchanged")
    if st == FM_ERR_ALLOC:
        raise MemoryError(f"{what}: out of memory")
    raise ValueError(f"{what}: the engine rejected its arguments (status {<int>st})")


cdef inline void *_ptr(object arr):
    return cnp.PyArray_DATA(<cnp.ndarray>arr)


cdef inline int _nt(object n_threads) except? -1:
    """n_threads as the C side takes it: None is the default count (0 to C), else
    1..MAX_THREADS (0 is refused, as fit refuses it)."""
    if n_threads is None:
        return 0
    if not isinstance(n_threads, (int, np.integer)) or isinstance(n_threads, bool):
        raise TypeError(f"n_threads must be an int or None, got {type(n_threads).__name__}")
    if not (1 <= n_threads <= MAX_THREADS):
        raise ValueError(f"n_threads must be None or an int in [1, {MAX_THREADS}], got "
                         f"{n_threads}")
    return n_threads


cdef inline bint _overlap(object a, object b):
    """Do the bytes of two C-contiguous arrays overlap? (Exact for contiguous arrays.)"""
    if a is None or b is None:
        return False
    cdef Py_ssize_t na = cnp.PyArray_NBYTES(<cnp.ndarray>a), nb = cnp.PyArray_NBYTES(<cnp.ndarray>b)
    if na == 0 or nb == 0:
        return False
    cdef char *pa = <char*>cnp.PyArray_DATA(<cnp.ndarray>a)
    cdef char *pb = <char*>cnp.PyArray_DATA(<cnp.ndarray>b)
    return pa < pb + nb and pb < pa + na


cdef int _disjoint(str what, tuple outputs, tuple inputs) except -1:
    """Refuse an output array that shares memory with another output or with an input:
    the C side reads its inputs while it writes its outputs. outputs/inputs: (name, array)
    pairs of checked C-contiguous arrays (or None)."""
    cdef Py_ssize_t i, j
    for i in range(len(outputs)):
        n1, a1 = outputs[i]
        for j in range(i + 1, len(outputs)):
            n2, a2 = outputs[j]
            if _overlap(a1, a2):
                raise ValueError(f"{what}: {n1} and {n2} share memory; give separate arrays")
        for n2, a2 in inputs:
            if _overlap(a1, a2):
                raise ValueError(f"{what}: the output {n1} shares memory with the input {n2}; "
                                 f"give separate arrays (e.g. a copy of {n2})")
    return 0


cdef inline int _finite(bint dbl, const void *p, ptrdiff_t n) noexcept nogil:
    """1 if the n values at p (double where dbl, else float) are all finite: one vectorised
    pass (fm_all_finite_?), no temporary array."""
    return fm_all_finite_d(<const double*>p, n) if dbl else fm_all_finite_s(<const float*>p, n)


cdef int _finite_rows(const fm_net *net, bint dbl, const fm_workspace *ws, void *work, object X,
                      int start, int n) except -1:
    """ValueError unless rows [start, start + n) of X, just run through the forward pass in
    the workspace (ws, work), are finite. A NaN or infinity in row i of X makes every z^1_ij
    NaN or infinite (a non-finite product term, and every sum with it, stays non-finite), so
    where layer 1 is narrower than the input its z^1 (in cache) is checked instead of X; only
    a non-finite z^1 (non-finite X, an overflow, or non-finite weights) reads X itself."""
    cdef Py_ssize_t isz = 8 if dbl else 4
    cdef int n0 = net.sizes[0], h1 = net.sizes[1]
    cdef char *zp = <char*>work + ws.z_off[1] * isz
    cdef char *xp = <char*>_ptr(X) + <ptrdiff_t>start * n0 * isz
    cdef ptrdiff_t nz = <ptrdiff_t>n * h1, nx = <ptrdiff_t>n * n0
    cdef int ok = 0
    with nogil:
        if h1 < n0:
            ok = _finite(dbl, zp, nz)
        if not ok:
            ok = _finite(dbl, xp, nx)
    if not ok:
        raise ValueError("X contains NaN or infinite values")
    return 0
