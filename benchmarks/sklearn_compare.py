"""fastmlp.sklearn against scikit-learn's MLPClassifier / MLPRegressor with the same settings.

Not a test: run it and read the tables.

    python benchmarks/sklearn_compare.py [--repeats 5] [--threads N] [--no-grid | --grid-only]

For each data set: a fixed stratified train/test split, StandardScaler fitted on the training
part (and the regression target standardised), the same estimator parameters; repeat r uses
random_state=r in both libraries (hence the same initial weights; the shuffling orders differ).
Reported: the mean test accuracy (R^2 for diabetes) over the repeats, the median number of
epochs and the median fit time.
The two libraries run in blocks with a pause between them, never call by call (OpenBLAS's and
libgomp's spinning worker threads slow each other down when interleaved).

Grid search (the second table): ``GridSearchCV(MLPClassifier(...), GRID, cv=3, n_jobs=2)``
on ``load_digits`` (scaled to [0, 1]) -- 16 configurations (hidden layer size x activation
x alpha x batch size 32 or 'auto' = 200, Adam, 60 epochs) x 3 folds + the refit, in joblib's worker
processes -- timed end to end for scikit-learn and then fastmlp in the same run: once in a
fresh pool of workers (their start-up, about 1 s per worker, counted) and once more in the
warm pool, a pause between the libraries. Reported: both wall-time ratios and each configuration's
mean cross-validated accuracy in both libraries (same folds, same initial weights; the
shuffling orders differ). The load average (``os.getloadavg``) is printed before and after:
other jobs on the machine skew the ratio.
"""
import argparse
import itertools
import os
import time
import warnings

import numpy as np
from sklearn import neural_network as sknn
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

from fastmlp import _core
from fastmlp import sklearn as fmsk

CASES = [
    # name, loader, classification?, estimator parameters (identical for both libraries)
    ("digits", load_digits, True, dict(hidden_layer_sizes=(100,), max_iter=200)),
    ("breast_cancer", load_breast_cancer, True, dict(hidden_layer_sizes=(100,), max_iter=200)),
    ("iris", load_iris, True, dict(hidden_layer_sizes=(100,), max_iter=500,
                                   learning_rate_init=0.01)),
    ("diabetes", load_diabetes, False, dict(hidden_layer_sizes=(10,), alpha=1.0,
                                            batch_size=32, max_iter=2000)),
    ("digits_sgd", load_digits, True, dict(hidden_layer_sizes=(100,), max_iter=200,
                                           solver="sgd", learning_rate_init=0.05,
                                           batch_size=32)),
]


GRID = {"hidden_layer_sizes": [(64,), (128,)], "activation": ["relu", "tanh"],
        "alpha": [1e-4, 1e-2], "batch_size": [32, "auto"]}
GRID_BASE = dict(solver="adam", max_iter=60, random_state=0)


def grid_search(cls, X, y, n_jobs, fresh):
    """(wall seconds, {configuration: mean CV accuracy}) of one GridSearchCV.fit; ``fresh``:
    in a new pool of joblib workers (their start-up counted), else in the warm pool."""
    if fresh:
        from joblib.externals.loky import get_reusable_executor
        get_reusable_executor().shutdown(wait=True)
    gs = GridSearchCV(cls(**GRID_BASE), GRID, n_jobs=n_jobs, refit=True,
                      cv=StratifiedKFold(3, shuffle=True, random_state=0))
    t0 = time.perf_counter()
    gs.fit(X, y)
    wall = time.perf_counter() - t0
    res = gs.cv_results_
    scores = {tuple(sorted(p.items())): float(m)
              for p, m in zip(res["params"], res["mean_test_score"])}
    return wall, scores


def load():
    return "%.2f %.2f %.2f" % os.getloadavg()


def main_grid(n_jobs=2):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    n_conf = len(list(itertools.product(*GRID.values())))
    print(f"\nGridSearchCV(n_jobs={n_jobs}) over {n_conf} MLPClassifier configurations on "
          f"load_digits ({X.shape[0]} samples), cv=3 + refit; load average {load()}")
    # no ConvergenceWarning lines: scikit-learn hands the parent's filters to its workers
    # (older releases: the environment variable)
    warnings.simplefilter("ignore")
    os.environ["PYTHONWARNINGS"] = "ignore"
    walls = {}
    for name, cls in (("sk", sknn.MLPClassifier), ("fm", fmsk.MLPClassifier)):
        t_fresh, scores = grid_search(cls, X, y, n_jobs, fresh=True)
        t_warm, again = grid_search(cls, X, y, n_jobs, fresh=False)
        assert again == scores                        # the same search, the same results
        walls[name] = (t_fresh, t_warm, scores)
        time.sleep(1.0)
    (t_sk, w_sk, s_sk), (t_fm, w_fm, s_fm) = walls["sk"], walls["fm"]
    head = (f"| {'hidden':<7}| {'activation':<10}| {'alpha':>7} | {'batch':>6} | "
            f"{'scikit-learn':>12} | {'fastmlp':>8} | {'diff (pp)':>9} |")
    print(head)
    print("|" + "|".join("-" * len(c) for c in head.split("|")[1:-1]) + "|")
    diffs = []
    for key in sorted(s_sk, key=repr):
        p = dict(key)
        d = 100 * (s_fm[key] - s_sk[key])
        diffs.append(abs(d))
        print(f"| {str(p['hidden_layer_sizes'][0]):<7}| {p['activation']:<10}| "
              f"{p['alpha']:>7g} | {str(p['batch_size']):>6} | {s_sk[key]:>12.4f} | "
              f"{s_fm[key]:>8.4f} | {d:>+9.2f} |")
    print(f"wall time, new worker pool (start-up included): scikit-learn {t_sk:.1f} s, "
          f"fastmlp {t_fm:.1f} s -> {t_sk / t_fm:.2f}x")
    print(f"wall time, warm worker pool (a second search): scikit-learn {w_sk:.1f} s, "
          f"fastmlp {w_fm:.1f} s -> {w_sk / w_fm:.2f}x")
    print(f"largest accuracy difference {max(diffs):.2f} points (mean {np.mean(diffs):.2f}); "
          f"load average {load()}")


def split(loader, classification):
    X, y = loader(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0,
                                              stratify=y if classification else None)
    sc = StandardScaler().fit(X_tr)
    if not classification:
        m, s = y_tr.mean(), y_tr.std()
        y_tr, y_te = (y_tr - m) / s, (y_te - m) / s
    return sc.transform(X_tr), sc.transform(X_te), y_tr, y_te


def run(cls, params, data, repeats):
    X_tr, X_te, y_tr, y_te = data
    times, scores, iters = [], [], []
    for seed in range(repeats):
        est = cls(random_state=seed, **params)
        t0 = time.perf_counter()
        est.fit(X_tr, y_tr)
        times.append(time.perf_counter() - t0)
        scores.append(est.score(X_te, y_te))
        iters.append(est.n_iter_)
    return float(np.mean(scores)), float(np.median(times)), int(np.median(iters))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None,
                    help="limit BOTH libraries to this many threads (threadpoolctl: "
                         "OpenBLAS for scikit-learn, OpenMP for fastmlp); default: no limit")
    ap.add_argument("--no-grid", action="store_true", help="skip the grid-search table")
    ap.add_argument("--grid-only", action="store_true", help="only the grid-search table")
    args = ap.parse_args()
    if args.grid_only:
        main_grid()
        return
    if args.threads is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=args.threads)
    args.n_threads = args.threads
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"fastmlp engine: {_core.config()['gemm_kernels']} GEMM, "
          f"{fmsk.resolve_n_threads(args.n_threads)} thread(s); median of {args.repeats} fits")
    head = (f"| {'data set':<14}| {'metric':<8}| {'scikit-learn':>12} | {'fastmlp':>8} | "
            f"{'diff (pp)':>9} | {'epochs sk/fm':>12} | {'fit sk (s)':>10} | "
            f"{'fit fm (s)':>10} | {'speed-up':>8} |")
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for name, loader, clf, params in CASES:
        data = split(loader, clf)
        sk_cls = sknn.MLPClassifier if clf else sknn.MLPRegressor
        fm_cls = fmsk.MLPClassifier if clf else fmsk.MLPRegressor
        s_sk, t_sk, it_sk = run(sk_cls, params, data, args.repeats)
        time.sleep(0.5)
        s_fm, t_fm, it_fm = run(fm_cls, dict(params, n_threads=args.n_threads), data,
                                args.repeats)
        time.sleep(0.5)
        metric = "accuracy" if clf else "R^2"
        print(f"| {name:<14}| {metric:<8}| {s_sk:>12.4f} | {s_fm:>8.4f} | "
              f"{100 * (s_fm - s_sk):>+9.2f} | {f'{it_sk}/{it_fm}':>12} | {t_sk:>10.3f} | "
              f"{t_fm:>10.3f} | {t_sk / t_fm:>7.2f}x |", flush=True)
    if not args.no_grid:
        main_grid()


if __name__ == "__main__":
    main()
