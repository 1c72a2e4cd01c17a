"""A small thread pool for the runs fastmlp trains side by side (restarts, learning-rate
sweeps, one-vs-all problems): :class:`concurrent.futures.ThreadPoolExecutor`'s ``submit`` and
``shutdown`` with threads that are daemon exactly when the calling thread is.

``ThreadPoolExecutor``'s threads are joined at interpreter exit whatever their daemon flag, so
a long fit with restarts in a daemon thread kept the process alive after its main thread had
ended. These threads are joined only by ``shutdown`` (the ``with`` block's end)."""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, Optional

__all__ = ["Workers"]

_Item = Optional[tuple[Future, Callable[..., Any], tuple[Any, ...]]]


class Workers:
    """``with Workers(n, name) as ex: f = ex.submit(fn, *args)`` -- up to n threads, started
    as work arrives; ``f`` is a :class:`concurrent.futures.Future` (cancel, result). The
    block's end waits for every submitted call that was not cancelled."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "fastmlp-worker") -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        self._max = int(max_workers)
        self._prefix = thread_name_prefix
        self._daemon = threading.current_thread().daemon
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._submitted = 0
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        if self._closed:
            raise RuntimeError("cannot submit to a Workers pool after shutdown")
        f: Future = Future()
        self._queue.put((f, fn, args))
        self._submitted += 1
        if len(self._threads) < min(self._max, self._submitted):
            t = threading.Thread(target=self._work, daemon=self._daemon,
                                 name=f"{self._prefix}_{len(self._threads)}")
            t.start()
            self._threads.append(t)
        return f

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            f, fn, args = item
            if not f.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:     # handed to the caller through the future
                f.set_exception(exc)
            else:
                f.set_result(result)

    def shutdown(self, wait: bool = True) -> None:
        if not self._closed:
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)
        if wait:
            for t in self._threads:
                t.join()

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown(wait=True)
