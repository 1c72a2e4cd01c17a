"""fastmlp.sklearn.Perceptron against scikit-learn's Perceptron: fit time, same settings.

Not a test: run it and read the table.

    python benchmarks/linear.py [--repeats 5] [--cases digits,dense7,l1,elasticnet,sparse]

Cases (the data are made here; nothing is downloaded):
  digits      load_digits (1797 x 64, 10 classes), the defaults
  dense7      make_classification 100,000 x 54, 7 classes, the defaults
  l1          load_digits, penalty='l1'
  elasticnet  load_digits, penalty='elasticnet'
  sparse      a 20,000 x 50,000 CSR matrix at 0.1 % density (1M non-zeros), 5 classes
              from a random linear teacher, the defaults

The two libraries alternate fit by fit (fastmlp, scikit-learn, fastmlp, ...); reported: the
median fit time of each and the ratio of the medians (scikit-learn / fastmlp: fastmlp's
speed in units of scikit-learn's), plus whether both reached the same training accuracy and
weights. The machine may be shared: the load average is printed before and after.
"""
import argparse
import os
import time
import warnings

import numpy as np
import scipy.sparse as sp


def make_case(name):
    """(X, y, params) of one case."""
    from sklearn.datasets import load_digits, make_classification
    if name in ("digits", "l1", "elasticnet"):
        X, y = load_digits(return_X_y=True)
        params = {"digits": {}, "l1": dict(penalty="l1"),
                  "elasticnet": dict(penalty="elasticnet")}[name]
        return X, y, params
    if name == "dense7":
        X, y = make_classification(n_samples=100_000, n_features=54, n_informative=30,
                                   n_classes=7, random_state=0)
        return X, y, {}
    if name == "sparse":
        rs = np.random.RandomState(0)
        X = sp.random(20_000, 50_000, density=0.001, format="csr", random_state=rs)
        X.data = rs.rand(X.nnz)
        teacher = rs.randn(50_000, 5)
        y = np.asarray(X @ teacher).argmax(axis=1)
        return X, y, {}
    raise ValueError(f"unknown case {name!r}")


CASES = ["digits", "dense7", "l1", "elasticnet", "sparse"]


def fit_once(lib, X, y, params):
    from sklearn.linear_model import Perceptron as SkPerceptron

    from fastmlp.sklearn import Perceptron
    cls = Perceptron if lib == "fastmlp" else SkPerceptron
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        est = cls(random_state=0, **params).fit(X, y)
        return time.perf_counter() - t0, est


def run_case(name, repeats):
    X, y, params = make_case(name)
    times = {"fastmlp": [], "sklearn": []}
    ests = {}
    fit_once("fastmlp", X, y, params)          # warm-up (imports, thread pools)
    for _ in range(repeats):
        for lib in ("fastmlp", "sklearn"):
            t, ests[lib] = fit_once(lib, X, y, params)
            times[lib].append(t)
    a, b = ests["fastmlp"], ests["sklearn"]
    same = np.allclose(a.coef_, b.coef_, rtol=0,
                       atol=1e-12 * max(1.0, float(np.abs(b.coef_).max())))
    return (np.median(times["fastmlp"]), np.median(times["sklearn"]), a.score(X, y),
            b.score(X, y), same)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    import fastmlp
    cfg = fastmlp._core.config()
    print("cpu_features:", " ".join(cfg.get("cpu_features", [])) if isinstance(
        cfg.get("cpu_features"), (list, tuple)) else cfg.get("cpu_features"))
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())
    print(f"{'case':<12}{'fastmlp s':>11}{'sklearn s':>11}{'speed ratio':>13}"
          f"{'acc fastmlp':>13}{'acc sklearn':>13}  same weights")
    for name in args.cases.split(","):
        f, s, acc_f, acc_s, same = run_case(name, args.repeats)
        print(f"{name:<12}{f:>11.4f}{s:>11.4f}{s / f:>12.2f}x{acc_f:>13.4f}{acc_s:>13.4f}"
              f"  {same}", flush=True)
    print("load average after: %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
