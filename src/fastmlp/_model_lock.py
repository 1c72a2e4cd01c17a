"""The per-model reader/writer discipline of :class:`fastmlp.MLP`: methods that read the
model run side by side, methods that change it run alone (the lock is the model's
``_core.ModelLock``)."""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar, cast

_Method = TypeVar("_Method", bound=Callable[..., Any])


def reads(method: _Method) -> _Method:
    """The method reads the model: any number of threads may run it at once (it waits
    while another thread fits the model)."""
    @functools.wraps(method)
    def reading(self: Any, *args: Any, **kwargs: Any) -> Any:
        lock = self._lock
        lock.acquire_read()
        try:
            return method(self, *args, **kwargs)
        finally:
            lock.release_read()
    return cast(_Method, reading)





def writes(method: _Method) -> _Method:
    """The method changes the model: it runs alone (other threads' calls on this model wait
    for it, and it waits for theirs); in its own thread it may call any other method."""
    @functools.wraps(method)
    def writing(self: Any, *args: Any, **kwargs: Any) -> Any:
        lock = self._lock
        lock.acquire_write()
        try:
            return method(self, *args, **kwargs)
        finally:
            lock.release_write()
    return cast(_Method, writing)
