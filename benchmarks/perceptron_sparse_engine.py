"""fastmlp.sklearn.Perceptron's engine path (``loss='hinge'`` / ``batch_size > 1``) on CSR
input: kept sparse against the same fit on X densified (how that path ran before).

Not a test: run it and read the ratios.

    python benchmarks/perceptron_sparse_engine.py [--repeats 5] [--rows 3000]
                                                  [--cols 10000] [--per-row 50]

A random CSR set (``--per-row`` non-zeros per row, 3 classes from a random linear teacher)
is fitted by ``Perceptron(loss='hinge', batch_size=10, max_iter=5, tol=None)``, once on the
CSR matrix as it is and once through the engine path on ``X.toarray()`` (scikit-learn's
sparse-input rules kept, so the weights agree: checked to 1e-12). The two alternate, run
after run; the ratio is the median densified time / the median CSR time (> 1: CSR faster).
The machine may be shared: the load average is printed, other jobs skew every number.
"""
import argparse
import os
import statistics
import time
import warnings
from unittest import mock

import numpy as np
import scipy.sparse as sp

import fastmlp
from fastmlp.sklearn import Perceptron
from fastmlp.sklearn import _ova
from fastmlp.sklearn import perceptron as perceptron_module


def make_set(n, d, per_row, seed=0):
    rs = np.random.RandomState(seed)
    cols = np.sort(rs.randint(0, d, size=(n, per_row)), axis=1)
    X = sp.csr_matrix((rs.rand(n * per_row), cols.ravel(), np.arange(n + 1) * per_row),
                      shape=(n, d))
    X.sum_duplicates()
    y = np.argmax(X @ rs.randn(d, 3), axis=1)
    return X, y


def densified(tasks, X, *args, **kw):
    return _ova.train_all(tasks, X.toarray() if sp.issparse(X) else X, *args, **kw)


def fit(X, y, dense):
    p = Perceptron(loss="hinge", batch_size=10, max_iter=5, tol=None, random_state=0)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dense:
            with mock.patch.object(perceptron_module, "train_all", densified):
                p.fit(X, y)
        else:
            p.fit(X, y)
    return time.perf_counter() - t0, p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--cols", type=int, default=10000)
    ap.add_argument("--per-row", type=int, default=50)
    a = ap.parse_args()
    X, y = make_set(a.rows, a.cols, a.per_row)
    fastmlp.show_config()
    print(f"load average {os.getloadavg()}; X {X.shape}, {X.nnz} non-zeros "
          f"(dense float64: {X.shape[0] * X.shape[1] * 8 / 1e6:.0f} MB)")
    times = {False: [], True: []}
    fits = {}
    for _ in range(a.repeats):
        for dense in (False, True):
            t, fits[dense] = fit(X, y, dense)
            times[dense].append(t)
    scale = max(1.0, float(np.abs(fits[True].coef_).max()))
    diff = float(np.abs(fits[False].coef_ - fits[True].coef_).max()) / scale
    assert diff <= 1e-12, diff
    csr, dense = statistics.median(times[False]), statistics.median(times[True])
    print(f"CSR kept sparse: median {csr * 1e3:.1f} ms; densified: median {dense * 1e3:.1f} ms; "
          f"densified / CSR = {dense / csr:.2f}x (weights agree to {diff:.1e})")


if __name__ == "__main__":
    main()
