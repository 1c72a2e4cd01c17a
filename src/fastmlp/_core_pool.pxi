# _core_pool.pxi -- part of layer 3 of _core.pyx (included there, not compiled on its own).
# What an Engine's calls share: the workspaces (one per call in flight; free ones kept in a
# small pool) and the guard that keeps exclusive calls apart from every other call.

cdef class _Workspace:
    """One workspace: the fm_workspace layout for batches of up to ``max_batch`` rows and
    the memory it describes. Never resized -- a larger need gets a new one -- so a C call
    holding a reference to it can never see its memory move or go away."""
    cdef fm_workspace ws
    cdef object work
    cdef void *p


cdef object _zeros_aligned(Py_ssize_t n, object dtype):
    """np.zeros(n, dtype) starting on a 64-byte boundary (a cache line: the workspace's
    blocks are laid out on lines relative to its start, and the GEMM's speed depends on it,
    by several per cent on small networks, where malloc would leave it to chance)."""
    cdef Py_ssize_t isz = dtype.itemsize, extra = 64 // isz
    raw = np.zeros(n + extra, dtype=dtype)
    cdef size_t addr = <size_t>cnp.PyArray_DATA(<cnp.ndarray>raw)
    cdef Py_ssize_t off = <Py_ssize_t>((64 - addr % 64) % 64) // isz
    return raw[off:off + n]


cdef _Workspace _new_workspace(const fm_net *net, int rows, object dtype):
    cdef _Workspace w = _Workspace.__new__(_Workspace)
    _check_status(fm_workspace_init(net, rows, dtype.itemsize, &w.ws), "Engine workspace")
    try:
        w.work = _zeros_aligned(w.ws.size, dtype)
    except MemoryError:
        raise MemoryError(f"out of memory for a workspace of {rows} rows "
                          f"({w.ws.size * dtype.itemsize / 2**20:.1f} MiB)") from None
    w.p = _ptr(w.work)
    return w


# free inference workspaces an engine keeps for later calls (one per thread that predicted
# at the same time as others, up to this many)
cdef enum:
    _POOL_MAX = 8
    # the largest workspace (in rows) the pool keeps: predict's default chunk. A call on
    # more rows at once (forward_trace of a whole input, predict with a larger chunk) gets a
    # workspace of its own, freed when the call ends, instead of one kept until the engine
    # is deleted
    _POOL_MAX_ROWS = 1024


cdef class _WorkspacePool:
    """The free inference workspaces of one engine, for its shared calls (touched only
    with the GIL held)."""
    cdef list free
    cdef object dtype

    def __cinit__(self, dtype):
        self.free = []
        self.dtype = dtype

    cdef _Workspace take(self, const fm_net *net, int rows):
        """A workspace for a shared call of up to `rows` rows: a free one from the pool, or
        a new one. The caller hands it back with give."""
        cdef _Workspace w
        if rows > _POOL_MAX_ROWS:
            return _new_workspace(net, rows, self.dtype)
        while self.free:
            w = <_Workspace>self.free.pop()
            if w.ws.max_batch >= rows:
                return w
            # too small for this call: dropped, the larger one made below replaces it
        return _new_workspace(net, rows, self.dtype)

    cdef int give(self, _Workspace w) except -1:
        if w.ws.max_batch <= _POOL_MAX_ROWS and len(self.free) < _POOL_MAX:
            self.free.append(w)
        return 0


cdef class _CallGuard:
    """Who is using an engine: the thread inside an exclusive call, or how many shared
    calls are in flight. An exclusive call that would overlap any other call, or a shared
    call that would overlap an exclusive one, raises RuntimeError instead of running
    (touched only with the GIL held; a forked child starts with no call in flight)."""
    cdef unsigned long excl       # thread inside an exclusive call (0: none)
    cdef int shared               # shared calls in flight
    cdef unsigned long gen        # fork generation the two counts above belong to
    cdef unsigned long long writes   # exclusive calls begun (each may change the parameters)

    def __cinit__(self):
        self.gen = _fork_generation

    cdef inline void check_fork(self):
        if self.gen != _fork_generation:     # the parent's calls do not exist in a child
            self.gen = _fork_generation
            self.excl = 0
            self.shared = 0

    cdef int begin_exclusive(self, str what) except -1:
        self.check_fork()
        if self.excl != 0 or self.shared != 0:
            raise RuntimeError(
                f"Engine.{what}: another thread is using this engine "
                f"({'an exclusive call' if self.excl else 'a prediction'} is in flight); "
                f"training calls must not overlap other calls on the same engine (a model's "
                f"lock serialises them)")
        self.excl = PyThread_get_thread_ident()
        self.writes += 1      # an exclusive call may change the parameters
        return 0

    cdef inline void end_exclusive(self):
        self.excl = 0

    cdef int begin_shared(self, str what) except -1:
        self.check_fork()
        if self.excl != 0:
            raise RuntimeError(
                f"Engine.{what}: a training call is running on this engine in another "
                f"thread; predictions must wait for it (a model's lock does that)")
        self.shared += 1
        return 0

    cdef inline void end_shared(self):
        if self.shared > 0:
            self.shared -= 1
