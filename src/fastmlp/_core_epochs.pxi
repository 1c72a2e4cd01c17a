# _core_epochs.pxi -- layer 3 of _core.pyx (included there, not compiled on its own).
# _EpochRun: the arguments of one Engine.train_epochs call, so that the C call can run in a
# helper thread while the calling thread waits (and catches Ctrl-C).
import threading


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
    cdef void *sw             # sample weights, or NULL
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
                                            <double*>self.sw, self.N, self.batch,
                                            self.drop_last, self.shuffle, self.seed,
                                            self.epoch0, self.n_epochs, self.perm,
                                            <double*>self.work, self.ws, self.losses, &self.done,
                                            &self.stop, self.nt)
            else:
                self.st = fm_train_epochs_s(self.net, &self.opt, <float*>self.theta,
                                            <float*>self.grad, <float*>self.s1,
                                            <float*>self.s2, <float*>self.X, <float*>self.Y,
                                            <float*>self.sw, self.N, self.batch,
                                            self.drop_last, self.shuffle, self.seed,
                                            self.epoch0, self.n_epochs, self.perm,
                                            <float*>self.work, self.ws, self.losses, &self.done,
                                            &self.stop, self.nt)


cdef bint _run_in_helper(_EpochRun run) except -1:
    """Run `run` in a helper thread while this thread waits; True if Ctrl-C (a
    KeyboardInterrupt here) stopped it. The engine then stops at the next epoch boundary,
    never in the middle of an epoch; this waits for that."""
    # completion is signalled by an Event set after the C call returns (not by
    # Thread.join, which a KeyboardInterrupt can cut short before the thread ends)
    run.finished = threading.Event()
    worker = threading.Thread(target=run.go, name="fastmlp-train-epochs")
    worker.start()
    cdef bint interrupted = False
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
    return interrupted
