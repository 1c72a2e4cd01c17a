"""Helpers of the command-line tests (tests/tools/test_tools_cli*.py): running main, the
one-line error check, writing data files, a subprocess environment."""
import os

import numpy as np

from fastmlp.__main__ import main


def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, out, err, *words):
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastmlp: error: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])


def _write(path, content):
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(path, mode) as f:
        f.write(content)
    return path


def _env():
    env = dict(os.environ)
    env.pop("FASTMLP_DEBUG", None)
    return env


SPECIES = np.array(["setosa", "versicolor", "virginica"])


def _species_csv(path, n=150, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 4)) + 3 * np.eye(4)[y]
    with open(path, "w") as f:
        f.write("a,b,c,d,species\n")
        for row, t in zip(X, y):
            f.write(",".join(f"{v:.4f}" for v in row) + f",{SPECIES[t]}\n")
    return X, SPECIES[y]
