# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The boundary between Python and the C engine (csrc/fastmlp.h).

Layers of this file, in order:

1. argument checks: every array is checked once here -- type, dtype, dimensions, shape,
   C-contiguity, writeability -- and a TypeError/ValueError names what was wrong. The C
   layer trusts what passes.
2. element-wise kernels: ``act_forward``, ``act_deriv``, ``loss`` (value and delta^L),
   ``gemm`` and ``permutation``, for float32 and float64 (the C function is picked by dtype).
3. ``Engine``: one network's plan, its flat parameter and gradient vectors and its
   workspace, with forward/backward/train_step/train_epochs. Every C call releases the GIL.
4. configuration: ``config()``, ``set_num_threads``, ``get_num_threads``.

C status codes become exceptions in ``_check_status``; FM_ERR_NONFINITE is a
``FloatingPointError`` (parameters were not changed).
"""
import numpy as np
cimport numpy as cnp
from libc.stdint cimport int64_t, uint64_t
from libc.string cimport memcpy

cnp.import_array()

# canonical name -> code, read from the C enums (fastmlp.h): every Python module takes its
# codes from these three tables
ACTIVATION_CODES = {
    "step": FM_ACT_STEP, "sign": FM_ACT_SIGN, "linear": FM_ACT_LINEAR,
    "piecewise_linear": FM_ACT_PIECEWISE, "sigmoid": FM_ACT_SIGMOID, "tanh": FM_ACT_TANH,
    "relu": FM_ACT_RELU, "leaky_relu": FM_ACT_LEAKY, "prelu": FM_ACT_PRELU,
    "softmax": FM_ACT_SOFTMAX,
}
LOSS_CODES = {"square": FM_LOSS_SQUARE, "hinge": FM_LOSS_HINGE, "logistic": FM_LOSS_LOGISTIC,
              "cross_entropy": FM_LOSS_CROSS_ENTROPY, "margin": FM_LOSS_MARGIN}
OPT_CODES = {"sgd": FM_OPT_SGD, "adam": FM_OPT_ADAM, "adam_efficient": FM_OPT_ADAM_EFFICIENT}
MAX_LAYERS = FM_MAX_LAYERS
_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)


# ---------------------------------------------------------------------------------------------
# 1. argument checks
# ---------------------------------------------------------------------------------------------
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
    if n_threads is None:
        return 0
    if not isinstance(n_threads, (int, np.integer)) or isinstance(n_threads, bool):
        raise TypeError(f"n_threads must be an int or None, got {type(n_threads).__name__}")
    return n_threads


# ---------------------------------------------------------------------------------------------
# 2. element-wise kernels
# ---------------------------------------------------------------------------------------------
cdef object _prelu_vector(int act, object alpha, object dtype, int cols):
    if act != 8:
        return None
    if alpha is None:
        raise ValueError("PReLU needs its alpha: a vector with one entry per column")
    return _vector("alpha", alpha, dtype, cols)


def act_forward(act, z, out=None, double leaky=0.01, alpha=None, n_threads=None):
    """a = sigma(z) element-wise in C (softmax row-wise). z: 2-D float32/float64 C array."""
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


def act_deriv(act, z, a=None, out=None, double leaky=0.01, alpha=None, n_threads=None):
    """sigma'(z) element-wise in C (from a as well, where sigma' is written in terms of it)."""
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


def loss(loss, act, Y, z, a, double leaky=0.01, alpha=None, n_threads=None):
    """(value, delta^L) of `loss` for output activation `act` in C.

    value is the mean over rows of the per-sample cost; delta^L = dC/dz^L of that mean.
    """
    cdef int lc = _loss_code(loss), code = _act_code(act)
    if not isinstance(z, np.ndarray):
        raise TypeError(f"z must be a numpy.ndarray, got {type(z).__name__}")
    cdef int dbl = _is_double(z.dtype)
    z = _matrix("z", z, z.dtype)
    cdef int rows = z.shape[0], cols = z.shape[1]
    a = _matrix("a", a, z.dtype, rows, cols)
    Y = _matrix("Y", Y, z.dtype, rows, cols)
    pr = _prelu_vector(code, alpha, z.dtype, cols)
    delta = np.empty_like(z)
    rowloss = np.empty(max(rows, 1), dtype=np.float64)
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
    """C = alpha * op(A) @ op(B) + beta * C with fastmlp's own GEMM (same dtype throughout)."""
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
    cdef int M = A.shape[1] if transA else A.shape[0]
    cdef int K = A.shape[0] if transA else A.shape[1]
    cdef int KB = B.shape[1] if transB else B.shape[0]
    cdef int N = B.shape[0] if transB else B.shape[1]
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
    cdef void *ap = _ptr(A)
    cdef void *bp = _ptr(B)
    cdef void *cp = _ptr(C)
    cdef ptrdiff_t lda = A.shape[1], ldb = B.shape[1], ldc = N
    cdef int nt = _nt(n_threads)
    if 2.0 * M * N * K < 2e5:           # a few microseconds at most: keep the GIL
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


# ---------------------------------------------------------------------------------------------
# 3. the network engine
# ---------------------------------------------------------------------------------------------
cdef class _EpochRun


cdef class Engine:
    """One network's plan, flat parameter/gradient vectors and workspace.

    ``theta`` holds every parameter in one vector, laid out
    ``[W^1 .. W^L | b^1 .. b^L | alpha of each PReLU layer]``; ``weights()``, ``biases()``
    and ``alphas()`` return views into it (W^l of shape (N_{l-1}, N_l)), and the same for
    the gradient vector ``grad``.
    """
    cdef fm_net net
    cdef fm_workspace ws
    cdef readonly object dtype
    cdef readonly object theta
    cdef object _grad      # allocated on first need: fused SGD steps never store dW
    cdef object work
    cdef object perm
    cdef int dbl
    cdef int last_n      # rows of the last forward pass held in the workspace (-1: none)
    cdef public bint interrupted   # did Ctrl-C stop the last train_epochs call?
    cdef void *_theta_p
    cdef void *_grad_p
    cdef void *_work_p
    cdef int64_t *_perm_p

    def __init__(self, sizes, acts, loss, dtype=np.float64, double leaky=0.01, int max_batch=1):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
        if len(sizes) - 1 > FM_MAX_LAYERS:
            raise ValueError(f"at most {FM_MAX_LAYERS} layers are supported, got {len(sizes) - 1}")
        if any(s < 1 for s in sizes):
            raise ValueError(f"every layer size must be >= 1, got {sizes}")
        if len(acts) != len(sizes) - 1:
            raise ValueError(f"acts must give one activation per layer ({len(sizes) - 1}), "
                             f"got {len(acts)}")
        self.dbl = _is_double(np.dtype(dtype))
        self.dtype = np.dtype(np.float64 if self.dbl else np.float32)
        self.net.n_layers = len(sizes) - 1
        cdef int l
        for l in range(len(sizes)):
            self.net.sizes[l] = sizes[l]
        self.net.acts[0] = 0
        for l in range(1, len(sizes)):
            self.net.acts[l] = _act_code(acts[l - 1])
            if self.net.acts[l] == FM_ACT_SOFTMAX and l != len(sizes) - 1:
                raise ValueError("softmax is only allowed as the output activation")
        self.net.loss = _loss_code(loss)
        self.net.leaky = leaky
        _check_status(fm_net_init(&self.net), "Engine")
        self.theta = np.zeros(self.net.n_params, dtype=self.dtype)
        self._grad = None
        self._theta_p = _ptr(self.theta)
        self._grad_p = NULL
        self.last_n = -1
        self.perm = np.empty(0, dtype=np.int64)
        self.reserve(max(max_batch, 1))

    @property
    def grad(self):
        """The gradient vector (layout of theta) of the last backward pass or unfused step.

        Allocated on first use: training with plain SGD on a larger network applies dW
        inside the GEMM and never stores it, so such a fit does not pay for this vector."""
        if self._grad is None:
            self._grad = np.zeros(self.net.n_params, dtype=self.dtype)
            self._grad_p = _ptr(self._grad)
        return self._grad

    cdef void *_grad_for(self, fm_opt *opt, int n) except? NULL:
        """The gradient pointer for a step on n rows: NULL when the step is fused and the
        vector was never needed so far."""
        if self._grad is None and fm_step_is_fused(&self.net, opt, n):
            return NULL
        return _ptr(self.grad)

    # -- plan ---------------------------------------------------------------------------------
    @property
    def n_layers(self):
        return self.net.n_layers

    @property
    def sizes(self):
        return [self.net.sizes[l] for l in range(self.net.n_layers + 1)]

    @property
    def acts(self):
        return [self.net.acts[l] for l in range(1, self.net.n_layers + 1)]

    @property
    def loss_code(self):
        return self.net.loss

    @property
    def leaky(self):
        return self.net.leaky

    @property
    def n_weights(self):
        return self.net.n_weights

    @property
    def n_params(self):
        return self.net.n_params

    @property
    def max_batch(self):
        return self.ws.max_batch

    def offsets(self):
        """{'W': [...], 'b': [...], 'alpha': [...]}: where each layer's parameters start."""
        L = self.net.n_layers
        return {"W": [self.net.w_off[l] for l in range(1, L + 1)],
                "b": [self.net.b_off[l] for l in range(1, L + 1)],
                "alpha": [self.net.alpha_off[l] for l in range(1, L + 1)]}

    cdef list _views(self, object vec, int which):
        out = []
        cdef int l
        cdef ptrdiff_t o
        for l in range(1, self.net.n_layers + 1):
            ni, no = self.net.sizes[l - 1], self.net.sizes[l]
            if which == 0:
                o = self.net.w_off[l]
                out.append(vec[o:o + ni * no].reshape(ni, no))
            elif which == 1:
                o = self.net.b_off[l]
                out.append(vec[o:o + no])
            else:
                o = self.net.alpha_off[l]
                out.append(None if o < 0 else vec[o:o + no])
        return out

    def weights(self):
        """W^1..W^L as views into theta, each (N_{l-1}, N_l)."""
        return self._views(self.theta, 0)

    def biases(self):
        return self._views(self.theta, 1)

    def alphas(self):
        """PReLU alpha per layer (a view, one per neuron), None for other layers."""
        return self._views(self.theta, 2)

    def grad_weights(self):
        return self._views(self.grad, 0)

    def grad_biases(self):
        return self._views(self.grad, 1)

    def grad_alphas(self):
        return self._views(self.grad, 2)

    def reserve(self, int max_batch):
        """Make the workspace hold batches of up to max_batch rows (only ever grows)."""
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if self.work is not None and max_batch <= self.ws.max_batch:
            return
        cdef fm_workspace ws
        _check_status(fm_workspace_init(&self.net, max_batch, self.dtype.itemsize, &ws),
                      "Engine.reserve")
        self.work = np.zeros(ws.size, dtype=self.dtype)
        self._work_p = _ptr(self.work)
        self.ws = ws
        self.last_n = -1

    # -- passes -------------------------------------------------------------------------------
    cdef object _X(self, object X):
        X = _matrix("X", X, self.dtype, -1, self.net.sizes[0])
        return X

    cdef object _Y(self, object Y, int n):
        return _matrix("Y", Y, self.dtype, n, self.net.sizes[self.net.n_layers])

    def forward(self, X, n_threads=None):
        """Forward pass of X (n <= max_batch rows); returns a copy of the output a^L."""
        return self._forward(self._X(X), _nt(n_threads)).copy()

    cdef object _forward(self, object X, int nt):
        """The forward pass of checked rows X; returns a^L as a view of the workspace."""
        cdef int n = X.shape[0]
        if n > self.ws.max_batch:
            self.reserve(n)
        cdef void *xp = _ptr(X)
        cdef void *th = _ptr(self.theta)
        cdef void *wk = _ptr(self.work)
        cdef fm_status st
        with nogil:
            if self.dbl:
                st = fm_forward_d(&self.net, <double*>th, <double*>xp, self.net.sizes[0], n,
                                  <double*>wk, &self.ws, nt)
            else:
                st = fm_forward_s(&self.net, <float*>th, <float*>xp, self.net.sizes[0], n,
                                  <float*>wk, &self.ws, nt)
        _check_status(st, "forward")
        self.last_n = n
        return self._block(self.ws.a_off[self.net.n_layers], n, self.net.sizes[self.net.n_layers])

    def predict(self, X, n_threads=None, int chunk=1024):
        """Output a^L for any number of rows, computed in chunks through the workspace."""
        X = self._X(X)
        cdef int n = X.shape[0]
        out = np.empty((n, self.net.sizes[self.net.n_layers]), dtype=self.dtype)
        cdef int step = max(min(chunk, n), 1)
        if step > self.ws.max_batch:
            self.reserve(step)
        cdef int nt = _nt(n_threads)
        for start in range(0, n, step):
            out[start:start + step] = self._forward(X[start:start + step], nt)
        return out

    cdef object _block(self, ptrdiff_t off, int rows, int cols):
        return self.work[off:off + <ptrdiff_t>rows * cols].reshape(rows, cols)

    def trace(self):
        """(z, a): copies of z^l (l=1..L, z[0] None) and a^l (l=1..L; a[0] None -- it is X)
        from the last forward pass."""
        if self.last_n < 0:
            raise RuntimeError("trace() needs a forward pass first")
        L = self.net.n_layers
        z = [None] + [self._block(self.ws.z_off[l], self.last_n, self.net.sizes[l]).copy()
                      for l in range(1, L + 1)]
        a = [None] + [self._block(self.ws.a_off[l], self.last_n, self.net.sizes[l]).copy()
                      for l in range(1, L + 1)]
        return z, a

    def deltas(self):
        """delta^l (l=1..L, index 0 None) from the last backward pass, as copies."""
        if self.last_n < 0:
            raise RuntimeError("deltas() needs a forward and backward pass first")
        L = self.net.n_layers
        return [None] + [self._block(self.ws.d_off[l], self.last_n, self.net.sizes[l]).copy()
                         for l in range(1, L + 1)]

    def backward(self, X, Y=None, grad_output=None, n_threads=None):
        """Loss and backward pass for the rows of the last forward pass (which must be X).

        With Y (canonical targets) the engine's loss gives delta^L. With ``grad_output``
        instead -- grad C(y) = dC/da^L of a user-defined loss, already divided by the batch
        size -- the engine forms delta^L = sigma'(z^L) (.) grad_output (the softmax Jacobian
        product for a softmax output) and back-propagates it. Fills ``grad``; returns the
        loss value (NaN with grad_output).
        """
        X = self._X(X)
        cdef int n = X.shape[0]
        if self.last_n != n:
            raise RuntimeError("backward() must follow forward() on the same rows")
        cdef int L = self.net.n_layers
        if (Y is None) == (grad_output is None):
            raise ValueError("give exactly one of Y (targets) or grad_output")
        cdef void *yp = NULL
        if Y is not None:
            Y = self._Y(Y, n)
            yp = _ptr(Y)
        else:
            grad_output = _matrix("grad_output", grad_output, self.dtype, n, self.net.sizes[L])
            self._block(self.ws.d_off[L], n, self.net.sizes[L])[...] = grad_output
        cdef int nt = _nt(n_threads)
        cdef void *xp = _ptr(X)
        cdef void *th = _ptr(self.theta)
        cdef void *gr = _ptr(self.grad)
        cdef void *wk = _ptr(self.work)
        cdef double value = np.nan
        cdef fm_status st
        with nogil:
            if self.dbl:
                st = fm_backward_d(&self.net, <double*>th, <double*>xp, self.net.sizes[0],
                                   <double*>yp, self.net.sizes[L], n, <double*>gr,
                                   <double*>wk, &self.ws, &value, nt)
            else:
                st = fm_backward_s(&self.net, <float*>th, <float*>xp, self.net.sizes[0],
                                   <float*>yp, self.net.sizes[L], n, <float*>gr,
                                   <float*>wk, &self.ws, &value, nt)
        _check_status(st, "backward")
        return value

    # -- training -----------------------------------------------------------------------------
    cdef int _opt(self, object spec, fm_opt *opt) except -1:
        """spec: (kind, lr, momentum, nesterov, weight_decay, beta1, beta2, eps, t); kind 0 SGD,
        1 Adam, 2 Adam in the efficient ordering (eps added to sqrt(v), scikit-learn's)."""
        if len(spec) != 9:
            raise ValueError("optimizer spec must be (kind, lr, momentum, nesterov, "
                             "weight_decay, beta1, beta2, eps, t)")
        kind, lr, mom, nest, wd, b1, b2, eps, t = spec
        if kind not in (0, 1, 2):
            raise ValueError(f"optimizer kind must be 0 (sgd), 1 (adam) or 2 (adam, "
                             f"efficient form), got {kind!r}")
        opt.kind = kind
        opt.lr = lr
        opt.momentum = mom
        opt.nesterov = 1 if nest else 0
        opt.weight_decay = wd
        opt.beta1 = b1
        opt.beta2 = b2
        opt.eps = eps
        opt.t = t
        return 0

    cdef object _state(self, str name, object s):
        if s is None:
            return None
        return _vector(name, s, self.dtype, self.net.n_params, writeable=True)

    cdef int _check_state(self, fm_opt *opt, object s1, object s2) except -1:
        if opt.kind != 0 and (s1 is None or s2 is None):
            raise ValueError("Adam needs two state vectors (m and v) of n_params entries")
        if opt.kind == 0 and opt.momentum != 0 and s1 is None:
            raise ValueError("SGD with momentum needs a velocity vector of n_params entries")
        return 0

    def update(self, spec, state1=None, state2=None, n_threads=None):
        """Apply one optimiser step from ``grad``; returns the new step count t."""
        cdef fm_opt opt
        self._opt(spec, &opt)
        state1 = self._state("state1", state1)
        state2 = self._state("state2", state2)
        self._check_state(&opt, state1, state2)
        cdef void *s1 = _ptr(state1) if state1 is not None else NULL
        cdef void *s2 = _ptr(state2) if state2 is not None else NULL
        cdef void *th = _ptr(self.theta)
        cdef void *gr = _ptr(self.grad)
        cdef int nt = _nt(n_threads)
        cdef fm_status st
        with nogil:
            if self.dbl:
                st = fm_update_d(&self.net, &opt, <double*>th, <double*>gr, <double*>s1,
                                 <double*>s2, nt)
            else:
                st = fm_update_s(&self.net, &opt, <float*>th, <float*>gr, <float*>s1,
                                 <float*>s2, nt)
        _check_status(st, "update")
        return opt.t

    def train_step(self, X, Y, spec, state1=None, state2=None, n_threads=None):
        """forward + loss + backward + update on one batch; returns (loss, t).

        Raises FloatingPointError (parameters untouched) if the loss or gradient is not finite.
        """
        X = self._X(X)
        cdef int n = X.shape[0]
        Y = self._Y(Y, n)
        if n > self.ws.max_batch:
            self.reserve(n)
        cdef fm_opt opt
        self._opt(spec, &opt)
        state1 = self._state("state1", state1)
        state2 = self._state("state2", state2)
        self._check_state(&opt, state1, state2)
        cdef void *s1 = _ptr(state1) if state1 is not None else NULL
        cdef void *s2 = _ptr(state2) if state2 is not None else NULL
        cdef void *xp = _ptr(X)
        cdef void *yp = _ptr(Y)
        cdef void *th = _ptr(self.theta)
        cdef void *gr = self._grad_for(&opt, n)
        cdef void *wk = _ptr(self.work)
        cdef int nt = _nt(n_threads)
        cdef double value = 0
        cdef fm_status st
        with nogil:
            if self.dbl:
                st = fm_train_step_d(&self.net, &opt, <double*>th, <double*>gr, <double*>s1,
                                     <double*>s2, <double*>xp, <double*>yp, n, <double*>wk,
                                     &self.ws, &value, nt)
            else:
                st = fm_train_step_s(&self.net, &opt, <float*>th, <float*>gr, <float*>s1,
                                     <float*>s2, <float*>xp, <float*>yp, n, <float*>wk,
                                     &self.ws, &value, nt)
        self.last_n = n
        _check_status(st, "train_step")
        return value, opt.t

    def train_epochs(self, X, Y, int batch_size, int n_epochs, spec, state1=None, state2=None,
                     bint shuffle=True, uint64_t seed=0, int64_t epoch0=0, bint drop_last=False,
                     n_threads=None, interruptible=None):
        """Whole epochs in one C call. Returns (losses, t, diverged):
        losses has one mean training loss per completed epoch; diverged is True when a step
        produced a non-finite loss or gradient (that step changed nothing). ``interrupted``
        (an attribute) is then True if Ctrl-C stopped the run between two epochs.

        Ctrl-C: a long run (or ``interruptible=True``) executes in a helper thread while this
        thread waits, so a KeyboardInterrupt is caught here and stops the engine at the next
        epoch boundary -- never in the middle of an epoch.
        """
        X = self._X(X)
        cdef int64_t N = X.shape[0]
        Y = self._Y(Y, N)
        if N < 1:
            raise ValueError("X must have at least one row")
        if batch_size < 1 or batch_size > N:
            raise ValueError(f"batch_size must be in [1, {N}], got {batch_size}")
        if n_epochs < 0:
            raise ValueError(f"n_epochs must be >= 0, got {n_epochs}")
        if batch_size > self.ws.max_batch:
            self.reserve(batch_size)
        if self.perm.shape[0] != N:
            self.perm = np.empty(N, dtype=np.int64)
        self._perm_p = <int64_t*>_ptr(self.perm) if N > 0 else NULL
        cdef _EpochRun run = _EpochRun()
        self._opt(spec, &run.opt)
        state1 = self._state("state1", state1)
        state2 = self._state("state2", state2)
        self._check_state(&run.opt, state1, state2)
        losses = np.full(max(n_epochs, 1), np.nan, dtype=np.float64)
        run.keep = (self, X, Y, state1, state2, losses, self.theta, self._grad, self.work,
                    self.perm)
        run.net = &self.net
        run.ws = &self.ws
        run.dbl = self.dbl
        run.theta = self._theta_p
        run.grad = self._grad_for(&run.opt, batch_size)
        run.work = self._work_p
        run.perm = self._perm_p
        run.s1 = _ptr(state1) if state1 is not None else NULL
        run.s2 = _ptr(state2) if state2 is not None else NULL
        run.X = _ptr(X)
        run.Y = _ptr(Y)
        run.N = N
        run.batch = batch_size
        run.drop_last = drop_last
        run.shuffle = shuffle
        run.seed = seed
        run.epoch0 = epoch0
        run.n_epochs = n_epochs
        run.losses = <double*>_ptr(losses)
        run.nt = _nt(n_threads)
        run.done = 0
        run.stop = 0
        if interruptible is None:
            # worth a thread only when the run is long: ~6 flops per weight per sample
            interruptible = 6.0 * self.net.n_weights * N * n_epochs > 2e9
        interrupted = False
        if interruptible:
            import threading
            # completion is signalled by an Event set after the C call returns (not by
            # Thread.join, which a KeyboardInterrupt can cut short before the thread ends)
            run.finished = threading.Event()
            worker = threading.Thread(target=run.go, name="fastmlp-train-epochs")
            worker.start()
            try:
                while not run.finished.wait(0.05):
                    pass
            except KeyboardInterrupt:
                run.stop = 1
                interrupted = True
                while not run.finished.is_set():
                    try:
                        run.finished.wait(0.05)
                    except KeyboardInterrupt:     # a second Ctrl-C: still wait for the epoch
                        pass
            worker.join()
        else:
            run.go()
        self.last_n = -1
        if run.st == FM_ERR_INTERRUPT:
            interrupted = True
        elif run.st != FM_OK and run.st != FM_ERR_NONFINITE:
            _check_status(run.st, "train_epochs")
        self.interrupted = interrupted
        return losses[:run.done].copy(), run.opt.t, run.st == FM_ERR_NONFINITE

    def evaluate(self, X, Y, n_threads=None, int chunk=1024):
        """(mean loss, output a^L) of the engine's loss on (X, Y), in chunks, no gradients."""
        X = self._X(X)
        cdef int n = X.shape[0]
        if n < 1:
            raise ValueError("X must have at least one row")
        Y = self._Y(Y, n)
        cdef int L = self.net.n_layers, m = self.net.sizes[L]
        out = np.empty((n, m), dtype=self.dtype)
        cdef int step = max(min(chunk, n), 1)
        if step > self.ws.max_batch:
            self.reserve(step)
        rowloss = np.empty(step, dtype=np.float64)
        cdef double *rp = <double*>_ptr(rowloss)
        cdef double total = 0, value = 0
        cdef int nt = _nt(n_threads)
        cdef int start, nb
        cdef void *yp
        cdef void *wk = _ptr(self.work)
        cdef void *th = _ptr(self.theta)
        cdef fm_status st
        cdef const void *alpha = NULL
        cdef Py_ssize_t isz = self.dtype.itemsize
        if self.net.alpha_off[L] >= 0:
            alpha = <char*>th + self.net.alpha_off[L] * isz
        for start in range(0, n, step):
            nb = min(step, n - start)
            out[start:start + nb] = self._forward(X[start:start + nb], nt)
            yp = <char*>_ptr(Y) + <ptrdiff_t>start * m * isz
            with nogil:
                if self.dbl:
                    st = fm_loss_d(self.net.loss, self.net.acts[L], nb, m, <double*>yp,
                                   <double*>wk + self.ws.z_off[L], <double*>wk + self.ws.a_off[L],
                                   NULL, self.net.leaky, <const double*>alpha, rp, &value, nt)
                else:
                    st = fm_loss_s(self.net.loss, self.net.acts[L], nb, m, <float*>yp,
                                   <float*>wk + self.ws.z_off[L], <float*>wk + self.ws.a_off[L],
                                   NULL, self.net.leaky, <const float*>alpha, rp, &value, nt)
            _check_status(st, "evaluate")
            total += value * nb
        return total / n, out


cdef class _EpochRun:
    """The arguments of one train_epochs call, so it can run in a helper thread."""
    cdef fm_opt opt
    cdef object keep          # keeps the engine and arrays alive while the C call runs
    cdef const fm_net *net
    cdef const fm_workspace *ws
    cdef int dbl
    cdef void *theta
    cdef void *grad
    cdef void *work
    cdef int64_t *perm
    cdef void *s1
    cdef void *s2
    cdef void *X
    cdef void *Y
    cdef int64_t N
    cdef int batch, drop_last, shuffle, n_epochs, nt
    cdef uint64_t seed
    cdef int64_t epoch0
    cdef double *losses
    cdef int done
    cdef volatile int stop
    cdef fm_status st
    cdef object finished      # a threading.Event when run in a helper thread

    def go(self):
        try:
            self._go()
        finally:
            if self.finished is not None:
                self.finished.set()

    def _go(self):
        with nogil:
            if self.dbl:
                self.st = fm_train_epochs_d(self.net, &self.opt, <double*>self.theta,
                                            <double*>self.grad, <double*>self.s1,
                                            <double*>self.s2, <double*>self.X, <double*>self.Y,
                                            self.N, self.batch, self.drop_last, self.shuffle,
                                            self.seed, self.epoch0, self.n_epochs, self.perm,
                                            <double*>self.work, self.ws, self.losses, &self.done,
                                            &self.stop, self.nt)
            else:
                self.st = fm_train_epochs_s(self.net, &self.opt, <float*>self.theta,
                                            <float*>self.grad, <float*>self.s1,
                                            <float*>self.s2, <float*>self.X, <float*>self.Y,
                                            self.N, self.batch, self.drop_last, self.shuffle,
                                            self.seed, self.epoch0, self.n_epochs, self.perm,
                                            <float*>self.work, self.ws, self.losses, &self.done,
                                            &self.stop, self.nt)


# ---------------------------------------------------------------------------------------------
# 4. configuration
# ---------------------------------------------------------------------------------------------
def config():
    """What this build is: compiler, OpenMP, threads, CPU features, GEMM kernels."""
    return {
        "compiler": fm_compiler().decode(),
        "openmp": bool(fm_openmp_enabled()),
        "max_threads": fm_max_threads(),
        "cpu_features": fm_cpu_features().decode(),
        "gemm_kernels": fm_gemm_isa().decode(),
        "vecmath_kernels": fm_vecmath_isa().decode(),
        "parallel_threshold": fm_get_parallel_threshold(),
        "fused_sgd_max_batch": fm_get_fused_sgd_max_batch(),
        "team_min_flops": fm_get_team_min_flops(),
        "gemm_par_flops": fm_get_gemm_par_flops(),
    }


def set_num_threads(int n):
    """Set the number of OpenMP threads the engine uses by default (>= 1)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    fm_set_max_threads(n)


def get_num_threads():
    return fm_max_threads()


def set_parallel_threshold(Py_ssize_t n):
    """Element count above which element-wise kernels use threads (for tuning and tests)."""
    if n < 0:
        raise ValueError(f"threshold must be >= 0, got {n}")
    fm_set_parallel_threshold(n)


def set_fused_sgd_max_batch(int n):
    """Largest batch for which a plain-SGD step is fused into the weight-gradient GEMM
    (0 turns fusion off). Results agree with the unfused step to rounding."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    fm_set_fused_sgd_max_batch(n)


def get_fused_sgd_max_batch():
    return fm_get_fused_sgd_max_batch()


def all_finite(arr):
    """True if every entry of a float32/float64 C-contiguous array is finite (one vectorised
    pass, no temporary array)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"arr must be a numpy.ndarray, got {type(arr).__name__}")
    cdef int dbl = _is_double(arr.dtype)
    if not arr.flags.c_contiguous:
        raise ValueError("arr must be C-contiguous")
    cdef void *p = _ptr(arr)
    cdef ptrdiff_t n = arr.size
    cdef int ok
    with nogil:
        ok = fm_all_finite_d(<double*>p, n) if dbl else fm_all_finite_s(<float*>p, n)
    return bool(ok)


def set_team_min_flops(double flops):
    """Smallest training step (6 x weights x rows flops) that runs on a team of threads in
    one parallel region; smaller steps run on one thread, whose large products may still
    use threads of their own. For tuning and benchmarks."""
    if not flops >= 0:
        raise ValueError(f"flops must be >= 0, got {flops}")
    fm_set_team_min_flops(flops)


def get_team_min_flops():
    return fm_get_team_min_flops()


def set_gemm_par_flops(double flops):
    """Smallest product (2MNK flops) that the GEMM splits over threads (for tuning)."""
    if not flops >= 0:
        raise ValueError(f"flops must be >= 0, got {flops}")
    fm_set_gemm_par_flops(flops)


def get_gemm_par_flops():
    return fm_get_gemm_par_flops()
