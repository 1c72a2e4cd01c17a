"""Runs side by side in one process: how a run's engine calls share the machine's threads,
restarts (several starting points, the best kept) and :func:`run_concurrently`, which
restarts, learning-rate sweeps and one-vs-all fits use.

**Threads.** A run whose thread count was left to fastmlp (``n_threads=None``) shares the
engine's threads with the other runs training in this process at the same time: with k runs
in flight each engine call gets ``max(1, threads // k)`` (re-read at every call, so a run
takes the threads back when the others finish). Restarts and learning-rate sweeps that run
side by side give each run one thread (:func:`run_concurrently`); joblib's process workers
get ``OMP_NUM_THREADS`` (see :func:`fastmlp.sklearn._threads.resolve_n_threads`); a
program's own threads fitting models at once share as above -- no fit oversubscribes the
machine. The engine's results do not depend on its thread count, so none of this changes a
bit of any result.
"""
from __future__ import annotations

import copy
import os
import sys
import threading
import warnings
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable, Optional, Sequence

from .. import _core
from .._workers import StopOnCtrlC, Workers
from ..optim import Optimizer
from .history import History

__all__ = ["active_runs", "best_of_restarts", "copy_optimizer_template", "enter_run",
           "restart_workers", "run_concurrently", "shared_threads", "warn_user",
           "worker_stop_flag"]

_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def warn_user(message: str, category: type[Warning]) -> None:
    """warnings.warn pointing at the first frame outside fastmlp (the user's line)."""
    frame: Any = sys._getframe(1)
    level = 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PKG_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


# the StopFlag of the run_concurrently call whose worker this thread is (None elsewhere)
class _WorkerState(threading.local):
    stop: Any = None             # (a class default: no AttributeError raised to find None)


_worker = _WorkerState()

# runs training in this process right now (Run.execute), for the thread sharing above
_active_lock = threading.Lock()
_active_runs = 0


def active_runs() -> int:
    """How many :class:`Run` are training in this process at this moment."""
    return _active_runs


def enter_run(delta: int) -> None:
    """Count ``delta`` more runs training in this process (+1 when one starts, -1 when it
    ends)."""
    global _active_runs
    with _active_lock:
        _active_runs += delta


def shared_threads(n_threads: Optional[int], share: bool) -> Optional[int]:
    """The thread count for one engine call of a run: ``n_threads`` (None: the engine's
    default) when it is alone or was given explicitly (``share`` False), else its share of
    the threads among the runs in flight."""
    k = _active_runs
    if not share or k <= 1:
        return n_threads
    base = _core.get_num_threads() if n_threads is None else n_threads
    return max(1, base // k)



def worker_stop_flag() -> Any:
    """The StopFlag of the :func:`run_concurrently` call whose worker this thread is (None
    in any other thread)."""
    return _worker.stop


# ---------------------------------------------------------------------------------------------
# restarts: several starting points, the best kept
# ---------------------------------------------------------------------------------------------
def restart_workers(restarts: int, n_threads: Optional[int], callbacks: Sequence[Any] = (),
                    verbose: int = 0, progress: bool = False) -> int:
    """How many restarts run at once: one per engine thread, when nothing in the loop talks
    to the user (callbacks, progress, verbose output stay on one sequential run)."""
    if callbacks or verbose or progress:
        return 1
    threads = _core.get_num_threads() if n_threads is None else n_threads
    return max(1, min(restarts, threads))


def best_of_restarts(restarts: int,
                     train_one: Callable[[int, Optional[int]], tuple[History, Any]],
                     workers: int) -> tuple[int, list[tuple[History, Any]]]:
    """Run ``train_one(r, n_threads)`` for r = 0..restarts-1 -> (History, result); return
    (index of the best, [(History, result), ...]).

    With ``workers > 1`` the restarts run concurrently, one per thread, each engine on one
    thread: the engine releases the GIL, so small networks train truly in parallel, and the
    results are bitwise those of running them in turn (each restart is seeded on its own and
    the engine's results do not depend on its thread count). The best run is the one with
    the lowest :meth:`History.final_score` (ties: the earliest).

    Ctrl-C: the restarts that finished are kept, those running stop at their next epoch
    boundary (each then holds a usable model, its History ``interrupted``) and those not
    started are skipped; the best of the ones that ran is chosen as usual (a RuntimeWarning
    says how many of each). Only when none had started does the KeyboardInterrupt
    propagate.
    """
    done = run_concurrently(restarts, train_one, workers)
    if not done:
        raise KeyboardInterrupt
    stopped = sum(h.interrupted for h, _ in done)
    # sequentially, a run that Ctrl-C stopped has said so itself; an interrupt between two
    # runs (or any in parallel) is said here
    if (stopped or len(done) < restarts) and (workers > 1 or not stopped):
        warn_user(f"training interrupted (KeyboardInterrupt): {len(done) - stopped} of "
                  f"{restarts} restarts finished, {stopped} stopped at an epoch boundary, "
                  f"{restarts - len(done)} not started; the best of those that ran is kept",
                  RuntimeWarning)
    scores = [h.final_score(h.restored_best) for h, _ in done]
    best = min(range(len(done)), key=lambda i: (scores[i], i))
    return best, done


def _as_worker(stop: Any, locks: Sequence[Any],
               train_one: Callable[[int, Optional[int]], tuple[History, Any]], i: int,
               threads: Optional[int]) -> tuple[History, Any]:
    """train_one(i, threads) in a pool thread, acting for the caller: it sees the caller's
    StopFlag and counts as the writer of every model the caller is fitting (its ModelLocks).
    A call that starts after the flag was set (a Ctrl-C between two calls, before the caller
    cancelled those not started) does not run: CancelledError, as if cancelled."""
    if stop.is_set():
        raise CancelledError
    me = threading.get_ident()
    _worker.stop = stop
    for lock in locks:
        lock.add_guest(me)
    try:
        return train_one(i, threads)
    finally:
        _worker.stop = None
        for lock in locks:
            lock.remove_guest(me)


def run_concurrently(n: int, train_one: Callable[[int, Optional[int]], tuple[History, Any]],
                     workers: int, name: str = "fastmlp-restart"
                     ) -> list[tuple[History, Any]]:
    """[train_one(i, n_threads) for i in range(n)], ``workers`` at a time -> a list of
    (History, result) pairs, in order.

    With ``workers > 1`` each call runs in a pool thread with a single-threaded engine
    (``n_threads=1``); the engine releases the GIL, so the runs are truly parallel, and
    its results do not depend on the thread count, so they are bitwise those of running
    the calls in turn. Sequentially (``n_threads=None``: the caller's), a Ctrl-C that a
    run turned into ``history.interrupted`` ends the series after that run, keeping what
    finished. Used by restarts and by learning-rate sweeps.

    Ctrl-C while runs are in flight (``workers > 1``): every running :class:`Run` stops at
    its next epoch boundary (a shared :class:`fastmlp._core.StopFlag`; its History is then
    ``interrupted``), the calls not started are dropped, and the list holds the calls that
    ran -- a prefix of 0..n-1, possibly shorter than n, holding every call that returned. A second Ctrl-C does not cut that
    wait short. Any other exception stops the other runs the same way and is re-raised.
    """
    done: list[tuple[History, Any]] = []
    if workers <= 1:
        for i in range(n):
            try:
                done.append(train_one(i, None))
            except KeyboardInterrupt:     # outside the Run (which handles its own)
                break
            if done[-1][0].interrupted:
                break
        return done
    stop = _core.StopFlag()
    locks = _core.held_write_locks()
    with Workers(workers, name) as ex, StopOnCtrlC(stop.set) as ctrl_c:
        futures = [ex.submit(_as_worker, stop, locks, train_one, i, 1) for i in range(n)]
        interrupted = False
        try:
            for f in futures:
                while True:
                    try:
                        # in short waits: a Ctrl-C that comes without a signal to interrupt
                        # a blocking wait (_thread.interrupt_main) is seen within 50 ms, and
                        # one whose KeyboardInterrupt a finalizer swallowed, by ctrl_c.hit
                        done.append(f.result(timeout=0.05))
                        break
                    except FutureTimeout:
                        if ctrl_c.hit and not interrupted:
                            interrupted = True
                            ex.cancel_pending()
                        continue
                    except CancelledError:
                        break
                    except KeyboardInterrupt:
                        if not interrupted:
                            interrupted = True
                            stop.set()
                            ex.cancel_pending()
                        # wait on: this run ends at its next epoch boundary
        except BaseException:
            stop.set()
            ex.cancel_pending()
            raise
    return done


def copy_optimizer_template(opt: Optimizer) -> Optimizer:
    """A fresh copy of ``opt``: same hyper-parameters, no state, lr back at base_lr."""
    template = copy.deepcopy(opt)
    template.reset_state()
    template._set_lr_quietly(template.base_lr)
    return template
