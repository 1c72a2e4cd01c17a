# _core_sync.pxi -- part of layer 3 of _core.pyx (included there, not compiled on its own).
# What lets many threads and forked processes share models: ModelLock (a model's
# readers-writer lock), StopFlag (asks engine runs in other threads to stop at their next
# epoch boundary) and the fork generation that tells both that they were inherited by a
# forked child.
#
# Their state is plain C fields changed while the GIL is held and without any Python code
# in between, so each test-and-set is atomic; only a thread that must wait goes through a
# threading.Condition. (This module does not declare itself free-threading compatible, so a
# free-threaded interpreter keeps the GIL on while it is loaded.)
import os
import sys
import threading
from cpython.pythread cimport PyThread_get_thread_ident

# the ModelLocks each thread holds for writing (so that work it hands to other threads can
# act on its behalf: see ModelLock.add_guest)
_held = threading.local()


def held_write_locks():
    """The ModelLocks the calling thread holds for writing (innermost last)."""
    return list(getattr(_held, "locks", ()))


# incremented in a forked child: locks and guards taken by the parent's threads, which do
# not exist in the child, are void there
cdef unsigned long _fork_generation = 0
_cond_made = threading.Lock()     # ModelLock._get_cond: one condition per lock
# the thread that called fork (the one thread a child starts with)
cdef unsigned long _fork_thread = 0


def _after_fork_in_child():
    global _fork_generation, _fork_thread, _cond_made
    _fork_generation += 1
    _cond_made = threading.Lock()       # in case a parent's thread held it at the fork
    _fork_thread = PyThread_get_thread_ident()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _running_here():
    """ids of what the calling thread is: its Thread object and the futures it is running
    (a pool thread's: concurrent.futures' work item, fastmlp._workers.Workers' item)."""
    from concurrent.futures import Future
    mine = {id(threading.current_thread())}
    f = sys._getframe()
    while f is not None:
        loc = f.f_locals
        for name in ("self", "f", "work_item", "item"):
            obj = loc.get(name)
            if isinstance(obj, Future):
                mine.add(id(obj))
            elif isinstance(getattr(obj, "future", None), Future):
                mine.add(id(obj.future))
        f = f.f_back
    return mine


def _writer_waits_for_me(unsigned long writer):
    """A message when the thread holding the write lock is blocked waiting for the calling
    thread -- joining it, or waiting for the result of the future it runs (a fit callback
    that hands predict/score to another thread and waits: both would wait forever) -- else
    None. Called only by a reader that has waited a while, so it costs nothing otherwise."""
    frame = sys._current_frames().get(writer)
    if frame is None:
        return None
    waited = set()
    depth = 0
    while frame is not None and depth < 12:          # the writer's innermost calls
        # Future.result / Thread.join without a timeout: a wait with one ends by itself
        if frame.f_code.co_name in ("result", "join"):
            loc = frame.f_locals
            if loc.get("timeout") is None and loc.get("self") is not None:
                waited.add(id(loc["self"]))
        frame = frame.f_back
        depth += 1
    if not waited or not (waited & _running_here()):
        return None
    return ("deadlock: this call waits for a fit (or another exclusive call) of the same "
            "model, and the thread running that fit is waiting for this thread (a fit "
            "callback handed predict/score/forward to another thread and waits for it). "
            "Call it in the callback's own thread, or on a copy of the model")


cdef class ModelLock:
    """A model's readers-writer lock: any number of readers at once (predictions), or one
    writer (fit) and nobody else.

    The writer's thread may also read and write again (validation inside ``fit``, a callback
    that predicts); a thread that only reads must not ask for the write lock while it reads.
    The writer may name other threads as its guests (``add_guest``): threads it hands part
    of its work to (restarts, learning-rate sweeps), which then count as the writer.
    A waiting writer goes first: readers that arrive after it wait for it to finish, so a
    stream of predictions never starves a ``fit``. In a forked child the lock starts free
    (the parent's threads that held it do not exist there), unless the thread that forked
    held it for writing (a fork inside a fit callback): that thread still does, and the fit
    it is in goes on in the child.

    ``acquire_read``/``release_read`` cost about as much as two attribute lookups while no
    writer is about; ``reading()``/``writing()`` are the same as context managers.
    """
    cdef int readers            # threads inside a read section
    cdef unsigned long writer   # ident of the writer's thread (0: none)
    cdef int depth              # the writer's nesting
    cdef int waiting            # threads waiting in the slow path
    cdef int writers_waiting
    cdef unsigned long gen
    cdef object cond
    cdef object guests          # idents of the threads acting for the writer (a set) or None

    def __cinit__(self):
        self.gen = _fork_generation
        self.cond = None        # made by the first thread that has to wait (_get_cond)

    cdef inline void _check_fork(self):
        if self.gen != _fork_generation:
            self.gen = _fork_generation
            # Only the thread that called fork exists in the child. If it held the lock for
            # writing (a fork inside a fit callback), it still does: the fit goes on in the
            # child and releases it (with its nested reads, the only readers a held write
            # lock admits). Everything the parent's other threads held or waited for is void.
            if self.writer != 0 and self.writer == _fork_thread:
                self.waiting = self.writers_waiting = 0
            else:
                self.readers = self.depth = self.waiting = self.writers_waiting = 0
                self.writer = 0
            self.guests = None
            self.cond = None

    cdef object _get_cond(self):
        """The condition the slow paths wait on, made on first need: a model that is never
        contended (most are) never pays for one. Made under a module lock, so two threads
        that both need it first wait on the same one."""
        cond = self.cond
        if cond is None:
            with _cond_made:
                if self.cond is None:
                    self.cond = threading.Condition(threading.Lock())
                cond = self.cond
        return cond

    cdef inline bint _is_writer(self, unsigned long me):
        return self.writer == me or (self.guests is not None and self.writer != 0
                                     and me in self.guests)

    cpdef acquire_read(self):
        cdef unsigned long me = PyThread_get_thread_ident()
        self._check_fork()
        if (self.writer == 0 and self.writers_waiting == 0) or self._is_writer(me):
            self.readers += 1
            return
        cdef int rounds = 0
        with self._get_cond():
            self.waiting += 1
            try:
                while not ((self.writer == 0 and self.writers_waiting == 0)
                           or self._is_writer(me)):
                    # short waits: a writer that waits for this very thread is found below
                    self.cond.wait(0.05)
                    rounds += 1
                    if self.writer != 0 and (rounds == 2 or rounds % 10 == 0):
                        why = _writer_waits_for_me(self.writer)
                        if why is not None:
                            raise RuntimeError(why)
            finally:
                self.waiting -= 1
            self.readers += 1

    cpdef release_read(self):
        self._check_fork()
        if self.readers <= 0:
            raise RuntimeError("ModelLock.release_read without acquire_read")
        self.readers -= 1
        if self.readers == 0 and self.waiting:
            with self._get_cond():
                self.cond.notify_all()

    cpdef acquire_write(self):
        cdef unsigned long me = PyThread_get_thread_ident()
        self._check_fork()
        if self._is_writer(me):
            self.depth += 1
            return
        if self.writer == 0 and self.readers == 0:
            self.writer = me
            self.depth = 1
            self._register()
            return
        with self._get_cond():
            self.waiting += 1
            self.writers_waiting += 1
            try:
                while not (self.writer == 0 and self.readers == 0):
                    self.cond.wait()
            finally:
                self.waiting -= 1
                self.writers_waiting -= 1
            self.writer = me
            self.depth = 1
        self._register()

    cdef _register(self):
        locks = getattr(_held, "locks", None)
        if locks is None:
            locks = _held.locks = []
        locks.append(self)

    cpdef release_write(self):
        self._check_fork()
        if self.writer == 0 or not self._is_writer(PyThread_get_thread_ident()):
            raise RuntimeError("ModelLock.release_write from a thread that does not hold it")
        self.depth -= 1
        if self.depth == 0:
            owner = self.writer
            self.writer = 0
            self.guests = None
            locks = getattr(_held, "locks", None)
            if owner == PyThread_get_thread_ident() and locks and locks[len(locks) - 1] is self:
                locks.pop()
            elif locks and self in locks:
                locks.remove(self)
            if self.waiting:
                with self._get_cond():
                    self.cond.notify_all()

    def add_guest(self, unsigned long ident):
        """Let thread ``ident`` act as the writer (read and write) until remove_guest or
        the writer's release: for work the writer hands to other threads and waits for."""
        self._check_fork()
        if self.writer == 0:
            raise RuntimeError("ModelLock.add_guest: the lock is not held for writing")
        if self.guests is None:
            self.guests = set()
        self.guests.add(ident)

    def remove_guest(self, unsigned long ident):
        self._check_fork()
        if self.guests is not None:
            self.guests.discard(ident)

    def reading(self):
        """``with lock.reading(): ...``"""
        return _Section(self, False)

    def writing(self):
        """``with lock.writing(): ...``"""
        return _Section(self, True)

    @property
    def state(self):
        """(readers, writing, waiting): for tests and debugging."""
        self._check_fork()
        return self.readers, self.writer != 0, self.waiting

    def __reduce__(self):
        return (ModelLock, ())      # a copy of a model gets a free lock of its own


cdef class _Section:
    cdef ModelLock lock
    cdef bint write

    def __cinit__(self, ModelLock lock, bint write):
        self.lock = lock
        self.write = write

    def __enter__(self):
        if self.write:
            self.lock.acquire_write()
        else:
            self.lock.acquire_read()
        return self.lock

    def __exit__(self, *exc):
        if self.write:
            self.lock.release_write()
        else:
            self.lock.release_read()
        return False


cdef class StopFlag:
    """A request to stop, shared by the runs of one call (restarts, a learning-rate sweep):
    the engine reads it before every epoch of a ``train_epochs`` call that was given it, and
    the training loop between its own engine calls. Setting it never interrupts an epoch."""
    cdef volatile int flag

    def set(self):
        self.flag = 1

    def clear(self):
        self.flag = 0

    def is_set(self):
        return self.flag != 0

    def __bool__(self):
        return self.flag != 0
