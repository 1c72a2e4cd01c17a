"""Test helper: run a function in a forked child and get its pickled result back."""
import os
import pickle
import signal


def in_forked_child(fn, timeout=120):
    """fn() in a child made by os.fork; returns what it returned (pickled through a pipe).
    A child that hangs is killed by an alarm after `timeout` s and the call fails."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                               # the child: never return into pytest
        code = 1
        try:
            os.close(r)
            signal.alarm(timeout)
            data = pickle.dumps(fn())
            with os.fdopen(w, "wb") as f:
                f.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child status {status}"
    return pickle.loads(data)
