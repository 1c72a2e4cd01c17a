"""fastmlp.sklearn against scikit-learn's MLPClassifier / MLPRegressor with the same settings.

Not a test: run it and read the table.

    python benchmarks/sklearn_compare.py [--repeats 5] [--threads N]

For each data set: a fixed stratified train/test split, StandardScaler fitted on the training
part (and the regression target standardised), the same estimator parameters; repeat r uses
random_state=r in both libraries (hence the same initial weights; the shuffling orders differ).
Reported: the mean test accuracy (R^2 for diabetes) over the repeats, the median number of
epochs and the median fit time.
The two libraries run in blocks with a pause between them, never call by call (OpenBLAS's and
libgomp's spinning worker threads slow each other down when interleaved).
"""
import argparse
import time
import warnings

import numpy as np
from sklearn import neural_network as sknn
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
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
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
