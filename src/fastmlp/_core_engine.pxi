# _core_engine.pxi -- layer 3 of _core.pyx (included there, not compiled on its own).
# Engine: one network's plan, its flat parameter and gradient vectors and its workspace, with
# forward/backward/train_step/train_epochs/evaluate (its workspace pool and call guard:
# _core_pool.pxi). Every C call releases the GIL.

cdef class _EpochRun

cdef class Engine:
    """One network's plan, flat parameter/gradient vectors and workspaces.

    ``theta`` holds every parameter in one vector, laid out
    ``[W^1 .. W^L | b^1 .. b^L | alpha of each PReLU layer]``; ``weights()``, ``biases()``
    and ``alphas()`` return views into it (W^l of shape (N_{l-1}, N_l)), and the same for
    the gradient vector ``grad``.

    Threads. ``predict``, ``evaluate``, ``forward_trace``: *shared* calls, any number at once,
    each in a workspace of its own (_core_pool.pxi), each bitwise what it gives alone. Every
    other call is *exclusive* (it may change theta): one that would overlap any other call
    raises RuntimeError (a model's ModelLock makes callers wait instead). Writing into theta
    while a call runs is the caller's business. A forked child starts with no call in flight.
    """
    cdef fm_net net
    cdef _Workspace _ws     # the training workspace (exclusive calls; None until needed)
    cdef int _ws_rows       # the rows it is made for at least
    cdef _WorkspacePool _pool    # free workspaces for shared calls
    cdef _CallGuard _guard       # which calls are in flight
    cdef readonly object dtype
    cdef object _theta     # the parameter vector (handed out as leased views: theta)
    cdef _PackedWeights _pw   # inference weights packed once per version of theta
    cdef object _grad      # allocated on first need: fused SGD steps never store dW
    cdef object perm
    cdef int dbl
    cdef int last_n      # rows of the last forward pass held in the workspace (-1: none)
    cdef public bint interrupted   # did Ctrl-C stop the last train_epochs call?
    cdef void *_theta_p
    cdef void *_grad_p
    cdef int64_t *_perm_p

    def __init__(self, sizes, acts, loss, dtype=np.float64, double leaky=FM_LEAKY_ALPHA, int max_batch=1):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output size, got {sizes}")
        if len(sizes) - 1 > FM_MAX_LAYERS:
            raise ValueError(f"at most {FM_MAX_LAYERS} layers are supported, got {len(sizes) - 1}")
        if any(s < 1 or s > _MAX_SIZE for s in sizes):
            raise ValueError(f"every layer size must be >= 1 and <= {_MAX_SIZE}, got {sizes}")
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
        mismatch = _names.output_mismatch(_LOSS_NAME[self.net.loss],
                                          _ACT_NAME[self.net.acts[len(sizes) - 1]])
        if mismatch is not None:
            raise ValueError(mismatch)
        self.net.leaky = leaky
        _check_status(fm_net_init(&self.net), "Engine")
        try:
            self._theta = _zeros_aligned(self.net.n_params, self.dtype)
        except MemoryError:
            raise MemoryError(f"out of memory for {self.net.n_params} parameters "
                              f"({self.net.n_params * self.dtype.itemsize / 2**30:.2f} GiB)") \
                from None
        self._grad = None
        self._theta_p = _ptr(self._theta)
        self._pw = _PackedWeights.__new__(_PackedWeights)
        self._grad_p = NULL
        self.last_n = -1
        self.perm = np.empty(0, dtype=np.int64)
        self._pool = _WorkspacePool(self.dtype)
        self._guard = _CallGuard()
        self._ws_rows = max(max_batch, 1)    # the workspace: made by the first call needing it

    @property
    def theta(self):
        """Every parameter in one vector (see the class docstring), as a writable view: see
        _core_packed.pxi for what a view alive means to predictions."""
        return self._pw.lease(self._theta)

    @property
    def packed_nbytes(self):
        """Bytes of the inference weights packed (0: none yet, or none needed)."""
        return self._pw.nbytes()

    @property
    def packed_plan_nbytes(self):
        """Bytes the packed weights take for this network and kernel set (0: none needed)."""
        return self._pw.plan_nbytes(&self.net, self.dtype.itemsize)

    @property
    def grad(self):
        """The gradient vector (layout of theta) of the last backward pass or unfused step.

        Allocated on first use: training with plain SGD on a larger network applies dW
        inside the GEMM and never stores it, so such a fit does not pay for this vector."""
        if self._grad is None:
            self._grad = _zeros_aligned(self.net.n_params, self.dtype)
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
        """Rows the training workspace holds (grows on demand)."""
        return self._ws.ws.max_batch if self._ws is not None else self._ws_rows

    def init_uniform(self, words, segments):
        """theta = 0, then :func:`uniform_fill`'s draws at each (offset, count, low, high) of
        segments (one generator, seeded by words). Exclusive: the parameters change."""
        self._guard.begin_exclusive("init_uniform")
        try:
            _uniform_fill(words, segments, self._theta_p, self.net.n_params, self.dbl, True)
        finally:
            self._guard.end_exclusive()

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
        """Make the training workspace hold batches of up to max_batch rows (only ever
        grows). Exclusive."""
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self._guard.begin_exclusive("reserve")
        try:
            self._reserve(max_batch)
        finally:
            self._guard.end_exclusive()

    cdef int _reserve(self, int rows) except -1:
        if self._ws is not None and rows <= self._ws.ws.max_batch:
            return 0
        self._ws = _new_workspace(&self.net, max(rows, self._ws_rows), self.dtype)
        self.last_n = -1
        return 0

    # -- passes -------------------------------------------------------------------------------
    cdef object _X(self, object X):
        if is_sparse(X) or isinstance(X, CSR):
            raise TypeError("this call needs a dense X (numpy.ndarray); sparse X is taken by "
                            "predict, train_epochs and objective only (or use X.toarray())")
        X = _matrix("X", X, self.dtype, -1, self.net.sizes[0])
        return X

    cdef object _Y(self, object Y, int n):
        return _matrix("Y", Y, self.dtype, n, self.net.sizes[self.net.n_layers])

    cdef int _forward_in(self, _Workspace w, object X, int start, int n, int nt,
                         const fm_packed *pk=NULL, object pbuf=None) except -1:
        """The forward pass of rows [start, start + n) of checked X into workspace w, reading
        the packed weights pbuf (plan pk) where given (bitwise the same outputs)."""
        cdef Py_ssize_t isz = 8 if self.dbl else 4
        cdef char *xp = <char*>_ptr(X) + <ptrdiff_t>start * self.net.sizes[0] * isz
        cdef void *th = self._theta_p
        cdef void *bp = NULL if pbuf is None else _ptr(pbuf)
        if bp == NULL:
            pk = NULL
        cdef fm_status st
        with nogil:
            if self.dbl:
                st = fm_forward_packed_d(&self.net, <double*>th, pk, <double*>bp, <double*>xp,
                                         self.net.sizes[0], n, <double*>w.p, &w.ws, nt)
            else:
                st = fm_forward_packed_s(&self.net, <float*>th, pk, <float*>bp, <float*>xp,
                                         self.net.sizes[0], n, <float*>w.p, &w.ws, nt)
        _check_status(st, "forward")
        return 0

    cdef inline void _copy_out(self, _Workspace w, object out, int start, int n):
        """Rows [start, start + n) of out <- a^L of the pass in w."""
        cdef int L = self.net.n_layers
        cdef Py_ssize_t isz = 8 if self.dbl else 4
        cdef Py_ssize_t row = <Py_ssize_t>self.net.sizes[L] * isz
        memcpy(<char*>_ptr(out) + start * row, <char*>w.p + w.ws.a_off[L] * isz, n * row)

    def forward(self, X, n_threads=None):
        """Forward pass of X in the training workspace (grown to X's rows), for a
        ``backward``/``trace``/``deltas`` that follows; returns a copy of a^L. Exclusive:
        predictions from several threads use ``predict`` or ``forward_trace``."""
        X = self._X(X)
        cdef int n = X.shape[0]
        cdef int nt = _nt(n_threads)
        self._guard.begin_exclusive("forward")
        try:
            self._reserve(max(n, 1))
            self._forward_in(self._ws, X, 0, n, nt)
            self.last_n = n
            out = np.empty((n, self.net.sizes[self.net.n_layers]), dtype=self.dtype)
            self._copy_out(self._ws, out, 0, n)
        finally:
            self._guard.end_exclusive()
        return out

    def predict(self, X, n_threads=None, int chunk=1024):
        """Output a^L for any number of rows, ``chunk`` rows per pass. Shared: any number of
        threads may call it at once, each gets bitwise what it gets alone. Ctrl-C stops it
        between two chunks (KeyboardInterrupt; the engine stays usable). X may be a
        scipy.sparse matrix (CSR rows, never densified). A dense X must be finite
        (ValueError otherwise), checked per chunk without a pass over X where the first layer
        is narrower than the input (_finite_rows)."""
        if is_sparse(X) or isinstance(X, CSR):
            return csr_predict(self, X, n_threads, chunk)
        X = self._X(X)
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        cdef int n = X.shape[0]
        cdef int nt = _nt(n_threads)
        cdef int m = self.net.sizes[self.net.n_layers]
        out = np.empty((n, m), dtype=self.dtype)
        if n == 0:
            return out
        cdef int step = min(chunk, n)
        cdef int start, nb
        cdef _Workspace w
        cdef fm_packed pk
        self._guard.begin_shared("predict")
        try:
            pbuf = self._pw.current(&self.net, self._theta, self.dtype, self._guard.writes, &pk)
            w = self._pool.take(&self.net, step)
            for start in range(0, n, step):
                if start > 0:
                    PyErr_CheckSignals()       # Ctrl-C between two chunks
                nb = min(step, n - start)
                self._forward_in(w, X, start, nb, nt, &pk, pbuf)
                _finite_rows(&self.net, self.dbl, &w.ws, w.p, X, start, nb)
                self._copy_out(w, out, start, nb)
            self._pool.give(w)
        finally:
            self._guard.end_shared()
        return out

    def forward_trace(self, X, n_threads=None):
        """(z, a) of a forward pass of X: lists of copies of z^l and a^l (l = 1..L; index 0
        None), as ``trace()`` gives after ``forward``. Shared (see ``predict``)."""
        X = self._X(X)
        cdef int n = X.shape[0]
        if n < 1:
            raise ValueError("X must have at least one row")
        cdef int nt = _nt(n_threads)
        cdef _Workspace w
        cdef fm_packed pk
        self._guard.begin_shared("forward_trace")
        try:
            pbuf = self._pw.current(&self.net, self._theta, self.dtype, self._guard.writes, &pk)
            w = self._pool.take(&self.net, n)
            self._forward_in(w, X, 0, n, nt, &pk, pbuf)
            z, a = self._trace_of(w, n)
            self._pool.give(w)
        finally:
            self._guard.end_shared()
        return z, a

    cdef object _block(self, _Workspace w, ptrdiff_t off, int rows, int cols):
        return w.work[off:off + <ptrdiff_t>rows * cols].reshape(rows, cols)

    cdef tuple _trace_of(self, _Workspace w, int n):
        L = self.net.n_layers
        z = [None] + [self._block(w, w.ws.z_off[l], n, self.net.sizes[l]).copy()
                      for l in range(1, L + 1)]
        a = [None] + [self._block(w, w.ws.a_off[l], n, self.net.sizes[l]).copy()
                      for l in range(1, L + 1)]
        return z, a

    def trace(self):
        """(z, a): copies of z^l (l=1..L, z[0] None) and a^l (l=1..L; a[0] None -- it is X)
        from the last ``forward`` (or training step) in the training workspace."""
        self._guard.begin_exclusive("trace")
        try:
            if self.last_n < 0:
                raise RuntimeError("trace() needs a forward pass first")
            return self._trace_of(self._ws, self.last_n)
        finally:
            self._guard.end_exclusive()

    def deltas(self):
        """delta^l (l=1..L, index 0 None) from the last backward pass, as copies."""
        self._guard.begin_exclusive("deltas")
        try:
            if self.last_n < 0:
                raise RuntimeError("deltas() needs a forward and backward pass first")
            L = self.net.n_layers
            return [None] + [self._block(self._ws, self._ws.ws.d_off[l], self.last_n,
                                         self.net.sizes[l]).copy() for l in range(1, L + 1)]
        finally:
            self._guard.end_exclusive()

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
        cdef int L = self.net.n_layers
        if (Y is None) == (grad_output is None):
            raise ValueError("give exactly one of Y (targets) or grad_output")
        cdef void *yp = NULL
        if Y is not None:
            Y = self._Y(Y, n)
            yp = _ptr(Y)
        else:
            grad_output = _matrix("grad_output", grad_output, self.dtype, n, self.net.sizes[L])
        cdef int nt = _nt(n_threads)
        grad = self.grad
        _disjoint("backward", (("grad", grad),), (("X", X), ("Y", Y), ("theta", self._theta)))
        cdef void *xp = _ptr(X)
        cdef void *th = self._theta_p
        cdef void *gr = _ptr(grad)
        cdef double value = np.nan
        cdef fm_status st
        cdef _Workspace w
        self._guard.begin_exclusive("backward")
        try:
            if self.last_n != n:
                raise RuntimeError("backward() must follow forward() on the same rows")
            w = self._ws
            if grad_output is not None:
                self._block(w, w.ws.d_off[L], n, self.net.sizes[L])[...] = grad_output
            with nogil:
                if self.dbl:
                    st = fm_backward_d(&self.net, <double*>th, <double*>xp, self.net.sizes[0],
                                       <double*>yp, self.net.sizes[L], n, <double*>gr,
                                       <double*>w.p, &w.ws, &value, nt)
                else:
                    st = fm_backward_s(&self.net, <float*>th, <float*>xp, self.net.sizes[0],
                                       <float*>yp, self.net.sizes[L], n, <float*>gr,
                                       <float*>w.p, &w.ws, &value, nt)
            _check_status(st, "backward")
        finally:
            self._guard.end_exclusive()
        return value

    # -- training -----------------------------------------------------------------------------
    cdef object _state(self, str name, object s):
        if s is None:
            return None
        return _vector(name, s, self.dtype, self.net.n_params, writeable=True)

    def update(self, spec, state1=None, state2=None, n_threads=None):
        """Apply one optimiser step from ``grad``; returns the new step count t. The spec's
        l2 must be 0 here (it needs a batch: fold l2 / S_b into weight_decay instead)."""
        cdef fm_opt opt
        _opt_from_spec(spec, &opt)
        if opt.l2 != 0:
            raise ValueError("update() has no batch to divide l2 by: give l2 = 0 and "
                             "weight_decay + l2 / (the batch's weight sum) instead")
        state1 = self._state("state1", state1)
        state2 = self._state("state2", state2)
        _check_opt_state(&opt, state1, state2)
        grad = self.grad
        _disjoint("update", (("theta", self._theta), ("state1", state1), ("state2", state2)),
                  (("grad", grad),))
        cdef void *s1 = _ptr(state1) if state1 is not None else NULL
        cdef void *s2 = _ptr(state2) if state2 is not None else NULL
        cdef void *th = self._theta_p
        cdef void *gr = _ptr(grad)
        cdef int nt = _nt(n_threads)
        cdef fm_status st
        self._guard.begin_exclusive("update")
        try:
            with nogil:
                if self.dbl:
                    st = fm_update_d(&self.net, &opt, <double*>th, <double*>gr, <double*>s1,
                                     <double*>s2, nt)
                else:
                    st = fm_update_s(&self.net, &opt, <float*>th, <float*>gr, <float*>s1,
                                     <float*>s2, nt)
        finally:
            self._guard.end_exclusive()
        _check_status(st, "update")
        return opt.t

    def step_chunks(self, int n):
        """Chunks of the data-parallel step for a batch of n rows under the current settings
        (set_data_parallel); 0: the step is split over the threads by outputs instead."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        return fm_step_chunks(&self.net, n)

    def train_step(self, X, Y, spec, state1=None, state2=None, n_threads=None,
                   sample_weight=None):
        """forward + loss + backward + update on one batch; returns (loss, t).

        sample_weight (one weight >= 0 per row; None: unweighted): the loss is the weighted
        mean of the per-sample costs, sum_i w_i c_i / sum_i w_i, and the step follows its
        gradient. Weights summing to 0 skip the step: nothing changes, t included, and the
        loss is NaN. Raises FloatingPointError (parameters untouched) if the loss or gradient
        is not finite, or if the step would make a parameter non-finite.
        """
        X = self._X(X)
        cdef int n = X.shape[0]
        if n < 1:
            raise ValueError("X must have at least one row")
        Y = self._Y(Y, n)
        sw = _sample_weight(sample_weight, n, self.dtype)
        cdef fm_opt opt
        _opt_from_spec(spec, &opt)
        state1 = self._state("state1", state1)
        state2 = self._state("state2", state2)
        _check_opt_state(&opt, state1, state2)
        cdef void *gr = self._grad_for(&opt, n)
        grad = self._grad if gr != NULL else None
        _disjoint("train_step", (("theta", self._theta), ("grad", grad), ("state1", state1),
                                 ("state2", state2)),
                  (("X", X), ("Y", Y), ("sample_weight", sw)))
        cdef void *s1 = _ptr(state1) if state1 is not None else NULL
        cdef void *s2 = _ptr(state2) if state2 is not None else NULL
        cdef void *xp = _ptr(X)
        cdef void *yp = _ptr(Y)
        cdef void *th = self._theta_p
        cdef void *wp = _ptr(sw) if sw is not None else NULL
        cdef int nt = _nt(n_threads)
        cdef double value = 0
        cdef fm_status st
        cdef _Workspace w
        self._guard.begin_exclusive("train_step")
        try:
            self._reserve(n)
            w = self._ws
            with nogil:
                if self.dbl:
                    st = fm_train_step_d(&self.net, &opt, <double*>th, <double*>gr, <double*>s1,
                                         <double*>s2, <double*>xp, <double*>yp, <double*>wp, n,
                                         <double*>w.p, &w.ws, &value, nt)
                else:
                    st = fm_train_step_s(&self.net, &opt, <float*>th, <float*>gr, <float*>s1,
                                         <float*>s2, <float*>xp, <float*>yp, <float*>wp, n,
                                         <float*>w.p, &w.ws, &value, nt)
            self.last_n = n
        finally:
            self._guard.end_exclusive()
        _check_status(st, "train_step")
        return value, opt.t

    def train_epochs(self, X, Y, int batch_size, n_epochs, spec, state1=None, state2=None,
                     bint shuffle=True, uint64_t seed=0, int64_t epoch0=0, bint drop_last=False,
                     n_threads=None, interruptible=None, sample_weight=None, stop=None):
        """Whole epochs in C calls of up to 65536 epochs each. Returns (losses, t, diverged):
        losses has one mean training loss per completed epoch (memory grows with the epochs
        done, not with ``n_epochs``); diverged is True when a step produced a non-finite
        loss or gradient, or would have made a parameter non-finite (that step changed
        nothing). ``interrupted`` (an attribute) is then True if Ctrl-C or ``stop`` ended the
        run between two epochs.

        sample_weight (one weight >= 0 per row of X; None: unweighted) follows the rows
        through the shuffle; each batch is a weighted step as in ``train_step`` (a batch of
        weight sum 0 is skipped). An epoch's loss is the mean of its batch losses weighted by
        their row counts.

        Ctrl-C: a long run (or ``interruptible=True``) executes in a helper thread while this
        thread waits, so a KeyboardInterrupt is caught here and stops the engine at the next
        epoch boundary -- never in the middle of an epoch. ``stop`` (a :class:`StopFlag`)
        is read before every epoch as well: another thread sets it to end this run the same
        way (a Ctrl-C while waiting sets it too).

        X may be sparse (a scipy.sparse matrix or a :class:`CSR`): the first layer then
        reads the batches' CSR rows (fastmlp/_core_sparse.pxi).
        """
        return _train_epochs(self, X, Y, batch_size, n_epochs, spec, state1, state2, shuffle, seed,
                             epoch0, drop_last, n_threads, interruptible, sample_weight, stop)

    def evaluate(self, X, Y, n_threads=None, int chunk=1024, sample_weight=None):
        """(mean loss, output a^L) of the engine's loss on (X, Y), in chunks, no gradients.
        Shared (see ``predict``); Ctrl-C stops it between two chunks.

        With sample_weight (one weight >= 0 per row) the loss is the weighted mean
        sum_i w_i c_i / sum_i w_i of the per-sample costs (NaN if the weights sum to 0)."""
        return _evaluate(self, X, Y, n_threads, chunk, sample_weight)
