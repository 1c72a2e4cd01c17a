"""A small thread pool for the runs fastmlp trains side by side (restarts, learning-rate
sweeps, one-vs-all problems): :class:`concurrent.futures.ThreadPoolExecutor`'s ``submit`` and
``shutdown`` with threads that are daemon exactly when the calling thread is.

``ThreadPoolExecutor``'s threads are joined at interpreter exit whatever their daemon flag, so
a long fit with restarts in a daemon thread kept the process alive after its main thread had
ended. These threads are joined only by ``shutdown`` (the ``with`` block's end).

:class:`StopOnCtrlC` is how a main thread that waits for such runs (or for one run in a helper
thread) makes sure that a Ctrl-C stops them."""
from __future__ import annotations

import collections
import signal
import threading
from concurrent.futures import Future
from typing import Any, Callable

__all__ = ["StopOnCtrlC", "Workers"]

_Item = tuple[Future, Callable[..., Any], tuple[Any, ...]]


class Workers:
    """``with Workers(n, name) as ex: f = ex.submit(fn, *args)`` -- up to n threads, started
    as work arrives; ``f`` is a :class:`concurrent.futures.Future` (cancel, result). The
    block's end waits for every submitted call that was not cancelled. Calls start in the
    order submitted, and taking the next call and starting it is one step for
    :meth:`cancel_pending`, so the calls that ever start are a prefix of those submitted."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "fastmlp-worker") -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self._max = int(max_workers)
        self._prefix = thread_name_prefix
        self._daemon = threading.current_thread().daemon
        self._items: collections.deque[_Item] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._threads: list[threading.Thread] = []
        self._submitted = 0
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        f: Future = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("cannot submit to a Workers pool after shutdown")
            self._items.append((f, fn, args))
            self._submitted += 1
            self._cond.notify()
        if len(self._threads) < min(self._max, self._submitted):
            t = threading.Thread(target=self._work, daemon=self._daemon,
                                 name=f"{self._prefix}_{len(self._threads)}")
            t.start()
            self._threads.append(t)
        return f

    def cancel_pending(self) -> None:
        """Cancel every call not yet started (the last ones submitted)."""
        with self._cond:
            for f, _, _ in self._items:
                f.cancel()
            self._items.clear()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closed:
                    self._cond.wait()
                if not self._items:
                    return
                f, fn, args = self._items.popleft()
                if not f.set_running_or_notify_cancel():
                    continue
            try:
                result = fn(*args)
            except BaseException as exc:     # handed to the caller through the future
                f.set_exception(exc)
            else:
                f.set_result(result)

    def shutdown(self, wait: bool = True) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            for t in self._threads:
                t.join()

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown(wait=True)


class StopOnCtrlC:
    """``with StopOnCtrlC(stop) as ctrl_c: <wait for runs>`` -- while the block runs in the
    main thread, SIGINT's handler (in place of Python's own, and only of that) calls ``stop()``
    (which tells the runs to stop; it must be quick and take no lock the main thread may hold)
    and sets ``ctrl_c.hit``, then raises KeyboardInterrupt as Python's handler would.

    Python runs a signal's handler in whatever Python code the main thread runs next. Where
    that is a finalizer (a ``__del__`` run by a collection inside the wait), the
    KeyboardInterrupt is printed as "Exception ignored" and lost; with Python's own handler
    the runs then went on to their end -- seconds, or hours -- as if nobody had pressed Ctrl-C.
    Here they have been told to stop all the same, and a wait that checks ``ctrl_c.hit``
    between its timeouts sees the interrupt. In any other thread, or under a handler of the
    user's own, the block changes nothing."""

    def __init__(self, stop: Callable[[], Any]) -> None:
        self._stop = stop
        self._prev: Any = None
        self.hit = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.hit = True
        self._stop()
        raise KeyboardInterrupt

    def __enter__(self) -> "StopOnCtrlC":
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            try:
                self._prev = signal.signal(signal.SIGINT, self)
            except ValueError:        # not the main interpreter's main thread
                self._prev = None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._prev is not None:
            signal.signal(signal.SIGINT, self._prev)
            self._prev = None
