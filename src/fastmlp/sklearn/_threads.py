"""How many OpenMP threads an estimator's fit uses (``n_threads=None`` resolved at fit time).

The smallest of: the engine's OpenMP default (which honours ``OMP_NUM_THREADS`` and
``threadpoolctl`` limits), ``OMP_NUM_THREADS`` read at fit time (joblib's loky workers get
``cpu_count // n_jobs``, so 1 for ``n_jobs=2`` on 2 cores), and, inside a
``dask.distributed`` worker, ``cpu_count // (task threads of all workers in this process)``.
"""
from __future__ import annotations

import os
import sys
from numbers import Integral

from .. import _core

__all__ = ["resolve_n_threads"]


def _dask_share():
    """cpu_count // task threads of the dask workers living in this process, or None."""
    if "distributed" not in sys.modules:     # no dask worker here (and importing it is slow)
        return None
    try:
        from distributed import get_worker          # optional dependency
        from distributed.worker import Worker
        get_worker()
    except Exception:
        return None
    try:
        total = sum(int(w.state.nthreads) for w in list(Worker._instances))
    except Exception:
        total = 1
    return max(1, (os.cpu_count() or 1) // max(total, 1))


def resolve_n_threads(n_threads=None):
    """The OpenMP thread count a fit uses for ``n_threads`` (None: see the module docs)."""
    if n_threads is not None:
        if isinstance(n_threads, bool) or not isinstance(n_threads, Integral) or n_threads < 1:
            raise ValueError(f"n_threads must be None or an int >= 1, got {n_threads!r}")
        return int(n_threads)
    n = _core.get_num_threads()
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env.isdigit() and int(env) > 0:
        n = min(n, int(env))
    share = _dask_share()
    if share is not None:
        n = min(n, share)
    return max(1, int(n))
