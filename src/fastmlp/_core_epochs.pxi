# _core_epochs.pxi -- layer 3 of _core.pyx (included there, not compiled on its own).
# Engine.train_epochs (_train_epochs, at the end). _EpochRun: the arguments of one call, so
# that the C call can run in a helper thread while the calling thread waits (and catches
# Ctrl-C). The helper threads are made on demand and reused by later calls.
import os
import threading


# epochs per C call: the losses buffer of a call is sized by this, not by the run's length
cdef enum:
    _EPOCH_CHUNK = 65536


cdef class _EpochRun:
    """The arguments of one train_epochs call, so it can run in a helper thread."""
    cdef fm_opt opt
    cdef object keep          # keeps the engine and arrays alive while the C call runs
    cdef _Workspace w         # the training workspace (kept alive here too)
    cdef const fm_net *net
    cdef int dbl
    cdef void *theta
    cdef void *grad
    cdef int64_t *perm
    cdef void *s1
    cdef void *s2
    cdef void *X
    cdef void *Y
    cdef void *sw             # sample weights, or NULL
    cdef const fm_csr *csr    # X as CSR rows (then X is NULL), or NULL
    cdef int64_t N
    cdef int batch, drop_last, shuffle, nt
    cdef uint64_t seed
    cdef int64_t epoch0
    cdef int64_t n_epochs
    cdef int64_t done
    cdef list parts           # the losses of each C call, trimmed to its completed epochs
    cdef volatile int own_stop
    cdef volatile int *stop   # &own_stop, or a StopFlag's flag
    cdef fm_status st
    cdef object finished      # a threading.Event when run in a helper thread

    cdef int bind(self, Engine eng, object X, object Y, object sw, object state1,
                  object state2, object grad, object stop, int64_t N, int batch, bint drop_last,
                  bint shuffle, uint64_t seed, int64_t epoch0, int64_t n_epochs,
                  int nt) except -1:
        """Point this run at ``eng``'s network, parameters and workspace and at the call's
        arrays (kept alive in ``keep``); ``Engine.train_epochs`` checked them all."""
        self.keep = (eng, X, Y, sw, state1, state2, eng._theta, grad, eng.perm, stop)
        self.w = eng._ws
        self.net = &eng.net
        self.dbl = eng.dbl
        self.theta = eng._theta_p
        self.perm = <int64_t*>_ptr(eng.perm)
        self.s1 = _ptr(state1) if state1 is not None else NULL
        self.s2 = _ptr(state2) if state2 is not None else NULL
        self.X = _ptr(X)
        self.Y = _ptr(Y)
        self.sw = _ptr(sw) if sw is not None else NULL
        self.N = N
        self.batch = batch
        self.drop_last = drop_last
        self.shuffle = shuffle
        self.seed = seed
        self.epoch0 = epoch0
        self.n_epochs = n_epochs
        self.nt = nt
        self.done = 0
        self.own_stop = 0
        self.stop = &(<StopFlag>stop).flag if stop is not None else &self.own_stop
        return 0

    def request_stop(self):
        """Stop at the next epoch boundary (the flag is read before every epoch)."""
        self.stop[0] = 1

    def go(self):
        try:
            self._go()
        finally:
            if self.finished is not None:
                self.finished.set()

    def _go(self):
        """The run as C calls of at most _EPOCH_CHUNK epochs, each writing its losses into
        a buffer of its own length."""
        cdef int k, kdone
        cdef double *lp
        self.parts = []
        self.st = FM_OK
        while self.done < self.n_epochs and self.st == FM_OK:
            k = <int>min(<int64_t>_EPOCH_CHUNK, self.n_epochs - self.done)
            buf = np.empty(k, dtype=np.float64)   # kdone entries written, only those kept
            lp = <double*>_ptr(buf)
            kdone = 0
            with nogil:
                if self.csr != NULL and self.dbl:
                    self.st = fm_csr_train_epochs_d(
                        self.net, &self.opt, <double*>self.theta, <double*>self.grad,
                        <double*>self.s1, <double*>self.s2, self.csr, <double*>self.Y,
                        <double*>self.sw, self.batch, self.drop_last, self.shuffle, self.seed,
                        self.epoch0 + self.done, k, self.perm, <double*>self.w.p, &self.w.ws,
                        lp, &kdone, self.stop, self.nt)
                elif self.csr != NULL:
                    self.st = fm_csr_train_epochs_s(
                        self.net, &self.opt, <float*>self.theta, <float*>self.grad,
                        <float*>self.s1, <float*>self.s2, self.csr, <float*>self.Y,
                        <float*>self.sw, self.batch, self.drop_last, self.shuffle, self.seed,
                        self.epoch0 + self.done, k, self.perm, <float*>self.w.p, &self.w.ws,
                        lp, &kdone, self.stop, self.nt)
                elif self.dbl:
                    self.st = fm_train_epochs_d(self.net, &self.opt, <double*>self.theta,
                                                <double*>self.grad, <double*>self.s1,
                                                <double*>self.s2, <double*>self.X,
                                                <double*>self.Y, <double*>self.sw, self.N,
                                                self.batch, self.drop_last, self.shuffle,
                                                self.seed, self.epoch0 + self.done, k,
                                                self.perm, <double*>self.w.p, &self.w.ws, lp,
                                                &kdone, self.stop, self.nt)
                else:
                    self.st = fm_train_epochs_s(self.net, &self.opt, <float*>self.theta,
                                                <float*>self.grad, <float*>self.s1,
                                                <float*>self.s2, <float*>self.X,
                                                <float*>self.Y, <float*>self.sw, self.N,
                                                self.batch, self.drop_last, self.shuffle,
                                                self.seed, self.epoch0 + self.done, k,
                                                self.perm, <float*>self.w.p, &self.w.ws, lp,
                                                &kdone, self.stop, self.nt)
            self.parts.append(buf if kdone == k else buf[:kdone].copy())
            self.done += kdone
            if kdone < k:
                break

    cdef object losses(self):
        if not self.parts:
            return np.empty(0, dtype=np.float64)
        if len(self.parts) == 1:
            return self.parts[0]
        return np.concatenate(self.parts)


# The helper threads: one pool per process, created on first use. Each helper only waits in a
# C call (the work runs on OpenMP's threads), so there are plenty of them: callers in
# different threads each get their own instead of queueing behind one another.
_HELPER_NAME = "fastmlp-train-epochs"     # a helper's name while it runs an engine call
_HELPER_IDLE = "fastmlp-helper"           # ... and while it waits for the next one
_HELPER_MAX = 32
_helpers = None
_helpers_lock = threading.Lock()


def _forget_helpers():
    """In a forked child: the parent's helper threads do not exist here, start afresh."""
    global _helpers, _helpers_lock
    _helpers = None
    _helpers_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_helpers)


def _helper_pool():
    global _helpers
    with _helpers_lock:
        if _helpers is None:
            from concurrent.futures import ThreadPoolExecutor
            _helpers = ThreadPoolExecutor(max_workers=_HELPER_MAX,
                                          thread_name_prefix=_HELPER_IDLE)
        return _helpers


def _helper_task(_EpochRun run):
    """Runs in a helper thread: the C call, named after what it does while it does it."""
    me = threading.current_thread()
    idle = me.name
    me.name = _HELPER_NAME
    try:
        run._go()
    finally:
        me.name = idle
        run.finished.set()   # last: the waiting caller may return right after this


cdef bint _run_in_helper(_EpochRun run) except -1:
    """Run `run` in a helper thread while this thread waits; True if Ctrl-C (a
    KeyboardInterrupt here) stopped it. The engine then stops at the next epoch boundary,
    never in the middle of an epoch; this waits for that."""
    # Only the main thread receives Ctrl-C: any other thread runs the call itself. (A helper
    # would outlive it: the pool's threads are joined at interpreter exit, so a long fit in
    # a daemon thread kept the process alive after its main thread had ended.)
    if threading.current_thread() is not threading.main_thread():
        run.finished = None
        run.go()
        return False
    # completion is signalled by an Event set after the C call returns (not by the future,
    # whose wait a KeyboardInterrupt could cut short before the call ends)
    run.finished = threading.Event()
    try:
        future = _helper_pool().submit(_helper_task, run)
    except RuntimeError:          # no new threads (interpreter shutting down): run here
        run.finished = None
        run.go()
        return False
    cdef bint interrupted = False
    # a Ctrl-C that Python delivers inside a finalizer is lost as an exception, but the
    # handler has told the run to stop (StopOnCtrlC)
    with StopOnCtrlC(run.request_stop) as ctrl_c:
        try:
            while not run.finished.wait(0.05):
                pass
        except KeyboardInterrupt:
            run.request_stop()
            interrupted = True
            while not run.finished.is_set():
                try:
                    run.finished.wait(0.05)
                except KeyboardInterrupt:     # a second Ctrl-C: still wait for the epoch
                    pass
        except BaseException:         # e.g. SystemExit from a signal handler: stop, then raise
            run.request_stop()
            run.finished.wait()
            raise
    future.result()               # re-raises anything unexpected from the helper
    return interrupted or ctrl_c.hit


cdef object _train_epochs(Engine eng, object X, object Y, int batch_size, object n_epochs,
                          object spec, object state1, object state2, bint shuffle, uint64_t seed,
                          int64_t epoch0, bint drop_last, object n_threads, object interruptible,
                          object sample_weight, object stop):
    """Engine.train_epochs (an exclusive call: the training workspace, or a workspace of
    its own for CSR rows, _core_sparse.pxi)."""
    cdef CSR Xc = None
    if is_sparse(X) or isinstance(X, CSR):
        Xc = csr_input(X, eng.dtype, eng.net.sizes[0])
        X = Xc.data
    else:
        X = eng._X(X)
    cdef int64_t N = X.shape[0] if Xc is None else Xc.shape[0]
    Y = eng._Y(Y, N)
    if N < 1:
        raise ValueError("X must have at least one row")
    sw = _sample_weight(sample_weight, N, eng.dtype)
    if batch_size < 1 or batch_size > N:
        raise ValueError(f"batch_size must be in [1, {N}], got {batch_size}")
    if (isinstance(n_epochs, bool) or not isinstance(n_epochs, (int, np.integer))
            or not 0 <= n_epochs < 2 ** 62):
        raise ValueError(f"n_epochs must be an int >= 0, got {n_epochs!r}")
    if stop is not None and not isinstance(stop, StopFlag):
        raise TypeError(f"stop must be a StopFlag or None, got {type(stop).__name__}")
    cdef _EpochRun run = _EpochRun()
    _opt_from_spec(spec, &run.opt)
    state1 = eng._state("state1", state1)
    state2 = eng._state("state2", state2)
    _check_opt_state(&run.opt, state1, state2)
    run.grad = eng._grad_for(&run.opt, batch_size) if Xc is None else _ptr(eng.grad)
    grad = eng._grad if run.grad != NULL else None
    _disjoint("train_epochs", (("theta", eng._theta), ("grad", grad), ("state1", state1),
                               ("state2", state2)),
              (("X", X), ("Y", Y), ("sample_weight", sw)))
    eng._guard.begin_exclusive("train_epochs")
    try:
        if Xc is None:
            eng._reserve(batch_size)
        if eng.perm.shape[0] != N:
            eng.perm = np.empty(N, dtype=np.int64)
        run.bind(eng, X, Y, sw, state1, state2, grad, stop, N, batch_size, drop_last,
                 shuffle, seed, epoch0, n_epochs, _nt(n_threads))
        if Xc is not None:   # CSR rows: X above is Xc.data, the engine reads run.csr
            run.keep = run.keep + (Xc,)
            run.csr = &Xc.c
            run.w = _csr_workspace(eng, batch_size)
        if interruptible is None:
            # worth a thread only when the run is long: ~6 flops per weight per sample
            interruptible = 6.0 * eng.net.n_weights * N * n_epochs > 2e9
        interrupted = False
        if interruptible:
            interrupted = _run_in_helper(run)
        else:
            run.go()
        eng.last_n = -1
    finally:
        eng._guard.end_exclusive()
    if run.st == FM_ERR_INTERRUPT:
        interrupted = True
    elif run.st != FM_OK and run.st != FM_ERR_NONFINITE:
        _check_status(run.st, "train_epochs")
    eng.interrupted = interrupted
    return run.losses(), run.opt.t, run.st == FM_ERR_NONFINITE
