"""The per-model reader/writer discipline of :class:`fastmlp.MLP`: methods that read the
model run side by side, methods that change it run alone (the lock is the model's
``_core.ModelLock``)."""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar, cast

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _holding(side: str, method: _Method) -> _Method:
    """``method`` run while holding its model's lock (``_lock``) for ``side``: 'read' or
    'write'."""
    acquire_name, release_name = f"acquire_{side}", f"release_{side}"

    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        lock = self._lock
        acquire, release = getattr(lock, acquire_name), getattr(lock, release_name)
        acquire()
        try:
            return method(self, *args, **kwargs)
        finally:
            release()
    return cast(_Method, locked)


def reads(method: _Method) -> _Method:
    """The method reads the model: any number of threads may run it at once (it waits
    while another thread fits the model)."""
    return _holding("read", method)


def writes(method: _Method) -> _Method:
    """The method changes the model: it runs alone (other threads' calls on this model wait
    for it, and it waits for theirs); in its own thread it may call any other method."""
    return _holding("write", method)
