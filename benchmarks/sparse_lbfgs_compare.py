"""fastmlp.sklearn against scikit-learn on sparse input and on the L-BFGS alpha sweep.

Not a test: run it and read the ratios.

    python benchmarks/sparse_lbfgs_compare.py [--repeats 3] [--epochs 3] [--threads 2]
                                              [--only sparse|lbfgs]

**sparse**: ``MLPClassifier()`` (hidden (100,), Adam, batch 200; ``max_iter=--epochs``,
``tol=0`` so every epoch runs) on a 20,000 x 50,000 CSR matrix at 0.1 % density (1M
non-zeros, a TF-IDF-like text set: 5 classes, each with its own 500 indicative terms). The
matrix is made once and saved; every fit runs in a fresh process that loads it, fits, and
reports its fit time and its peak RSS (``ru_maxrss``), the peak growth over the RSS before
the fit, and its training accuracy. The libraries alternate, run after run.

**lbfgs**: the 15-fit alpha sweep -- ``MLPClassifier(solver="lbfgs", hidden_layer_sizes=
(100, 100), alpha=a, max_iter=2000, random_state=1)`` for ``a in np.logspace(-5, 3, 5)`` on
the three 2-D data sets of scikit-learn's classifier-comparison example (make_moons,
make_circles, the linearly separable one; 100 points, StandardScaler, 40 % test split),
timed as a whole in a fresh process per run; the test accuracy of each fit is compared. The
fits' iteration counts are printed too, with the speed per iteration: the long fits (hundreds
to 2000 iterations, ending on the relative reduction of the loss) take a number of iterations
that rounding differences of 1e-16 change by tens of percent, in either library, so the
per-iteration ratio says what the whole-sweep ratio says without that chance.

Every worker gets ``OMP_NUM_THREADS=--threads`` and ``OPENBLAS_NUM_THREADS=--blas-threads``
(default 1, scikit-learn's fastest setting here: its small products and scipy's L-BFGS-B
vector work collapse with threaded BLAS on a busy machine). Ratios are medians of alternating runs, scikit-learn's time / fastmlp's (> 1: fastmlp is
faster) and fastmlp's peak RSS / scikit-learn's. The load average is printed: other jobs on
the machine skew every number.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

SPARSE_SHAPE = (20000, 50000)
DENSITY = 0.001


def sparse_set(n=SPARSE_SHAPE[0], d=SPARSE_SHAPE[1], density=DENSITY):
    """(X, y): a TF-IDF-like CSR set of 5 classes. Per row 70 % of its terms are drawn from
    the whole vocabulary and 30 % from its class's own block of 500 "indicative" terms (a
    repeated term adds up)."""
    import numpy as np
    import scipy.sparse as sp
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, n)
    k_any, k_cls = int(density * d * 0.7), int(density * d * 0.3)
    rows = np.repeat(np.arange(n), k_any + k_cls)
    cols = rng.integers(0, d, rows.size)
    cls = (np.arange(rows.size) % (k_any + k_cls)) >= k_any
    cols[cls] = y[rows[cls]] * 500 + rng.integers(0, 500, int(cls.sum()))
    X = sp.csr_matrix((rng.random(rows.size), (rows, cols)), shape=(n, d))
    X.sum_duplicates()
    return X, y


def make_sparse(path):
    import numpy as np
    import scipy.sparse as sp
    X, y = sparse_set()
    sp.save_npz(path, X)
    np.save(path + ".y.npy", y)


def worker_sparse(lib, path, epochs, threads):
    import resource
    import warnings
    import numpy as np
    import scipy.sparse as sp
    X = sp.load_npz(path)
    y = np.load(path + ".y.npy")
    if lib == "sklearn":
        from sklearn.neural_network import MLPClassifier
        kw = {}
    else:
        from fastmlp.sklearn import MLPClassifier
        kw = dict(n_threads=threads)
    rss0 = _rss()
    clf = MLPClassifier(max_iter=epochs, tol=0.0, random_state=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        clf.fit(X, y)
        dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    acc = float(np.mean(clf.predict(X) == y))
    return dict(time=dt, peak=peak, growth=peak - rss0, acc=acc)


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def sweep_data():
    import numpy as np
    from sklearn.datasets import make_circles, make_classification, make_moons
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler
    X, y = make_classification(n_features=2, n_redundant=0, n_informative=2, random_state=1,
                               n_clusters_per_class=1)
    X += 2 * np.random.RandomState(2).uniform(size=X.shape)
    sets = [make_moons(noise=0.3, random_state=0),
            make_circles(noise=0.2, factor=0.5, random_state=1), (X, y)]
    out = []
    for X, y in sets:
        X = StandardScaler().fit_transform(X)
        out.append(train_test_split(X, y, test_size=0.4, random_state=42))
    return out


def worker_lbfgs(lib, threads):
    import warnings
    import numpy as np
    if lib == "sklearn":
        from sklearn.neural_network import MLPClassifier
        kw = {}
    else:
        from fastmlp.sklearn import MLPClassifier
        kw = dict(n_threads=threads)
    data = sweep_data()
    scores, iters = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        for X_tr, X_te, y_tr, y_te in data:
            for alpha in np.logspace(-5, 3, 5):
                clf = MLPClassifier(solver="lbfgs", alpha=alpha, hidden_layer_sizes=(100, 100),
                                    max_iter=2000, random_state=1, **kw).fit(X_tr, y_tr)
                scores.append(clf.score(X_te, y_te))
                iters.append(clf.n_iter_)
        dt = time.perf_counter() - t0
    return dict(time=dt, scores=scores, iters=iters)


def run_worker(args):
    nt, bt = str(args["threads"]), str(args["blas_threads"])
    env = dict(os.environ, OMP_NUM_THREADS=nt, OPENBLAS_NUM_THREADS=bt, MKL_NUM_THREADS=bt)
    out = subprocess.run([sys.executable, __file__, "--worker", json.dumps(args)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--blas-threads", type=int, default=1,
                    help="OPENBLAS/MKL_NUM_THREADS of every worker (default 1: scipy's "
                         "L-BFGS-B and scikit-learn's small products are far slower with "
                         "threaded BLAS on a busy machine; fastmlp limits BLAS to one thread "
                         "inside its L-BFGS whatever this says)")
    ap.add_argument("--only", choices=["sparse", "lbfgs"])
    ap.add_argument("--worker")
    a = ap.parse_args()
    if a.worker:
        w = json.loads(a.worker)
        if w["kind"] == "sparse":
            r = worker_sparse(w["lib"], w["path"], w["epochs"], w["threads"])
        else:
            r = worker_lbfgs(w["lib"], w["threads"])
        print(json.dumps(r))
        return
    import fastmlp
    cfg = fastmlp._core.config()
    print(f"cpu_features: {cfg.get('cpu_features')}   threads: {a.threads}   "
          f"BLAS threads: {a.blas_threads}   "
          f"load average: {os.getloadavg()}")
    if a.only in (None, "sparse"):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "sparse.npz")
            make_sparse(path)
            res = {"fastmlp": [], "sklearn": []}
            for r in range(a.repeats):
                for lib in ("sklearn", "fastmlp") if r % 2 == 0 else ("fastmlp", "sklearn"):
                    res[lib].append(run_worker(dict(kind="sparse", lib=lib, path=path,
                                                    epochs=a.epochs, threads=a.threads,
                                                    blas_threads=a.blas_threads)))
                    time.sleep(1)
        med = {k: {m: statistics.median(x[m] for x in v) for m in ("time", "peak", "growth",
                                                                   "acc")}
               for k, v in res.items()}
        n, d = SPARSE_SHAPE
        print(f"\nsparse MLPClassifier, {n} x {d} CSR at {DENSITY:.1%}, {a.epochs} epochs, "
              f"medians of {a.repeats}")
        for lib in ("sklearn", "fastmlp"):
            m = med[lib]
            print(f"  {lib:8s} fit {m['time']:7.2f} s   peak RSS {m['peak'] / 2**20:7.0f} MB"
                  f"   growth {m['growth'] / 2**20:7.0f} MB   train acc {m['acc']:.4f}")
        print(f"  speed fastmlp / sklearn: {med['sklearn']['time'] / med['fastmlp']['time']:.2f}x"
              f"   peak RSS fastmlp / sklearn: {med['fastmlp']['peak'] / med['sklearn']['peak']:.2f}"
              f"   growth fastmlp / sklearn: "
              f"{med['fastmlp']['growth'] / med['sklearn']['growth']:.2f}")
    if a.only in (None, "lbfgs"):
        res = {"fastmlp": [], "sklearn": []}
        for r in range(a.repeats):
            for lib in ("sklearn", "fastmlp") if r % 2 == 0 else ("fastmlp", "sklearn"):
                res[lib].append(run_worker(dict(kind="lbfgs", lib=lib, threads=a.threads,
                                               blas_threads=a.blas_threads)))
                time.sleep(1)
        ts = {k: statistics.median(x["time"] for x in v) for k, v in res.items()}
        sk, fm = res["sklearn"][0]["scores"], res["fastmlp"][0]["scores"]
        diff = [100 * (f - s) for f, s in zip(fm, sk)]
        print(f"\nL-BFGS alpha sweep (15 fits, hidden (100, 100), max_iter 2000), medians of "
              f"{a.repeats}")
        print(f"  sklearn {ts['sklearn']:.2f} s   fastmlp {ts['fastmlp']:.2f} s   speed fastmlp "
              f"/ sklearn: {ts['sklearn'] / ts['fastmlp']:.2f}x")
        print(f"  mean test accuracy: sklearn {100 * sum(sk) / len(sk):.2f}  fastmlp "
              f"{100 * sum(fm) / len(fm):.2f}  (mean difference {sum(diff) / len(diff):+.2f} "
              f"points, largest |difference| {max(abs(x) for x in diff):.1f})")
        it = {k: sum(v[0]["iters"]) for k, v in res.items()}
        print(f"  L-BFGS iterations: sklearn {it['sklearn']}  fastmlp {it['fastmlp']}   time per "
              f"iteration fastmlp / sklearn: "
              f"{ts['sklearn'] / it['sklearn'] / (ts['fastmlp'] / it['fastmlp']):.2f}x")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
