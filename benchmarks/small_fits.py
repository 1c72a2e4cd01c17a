"""The per-call cost of small fits, where Python (not the engine) is most of the time.

    python benchmarks/small_fits.py [--baseline PYTHON] [--rounds 7]

Cases: an XOR ``MLP([2, 4, 1], ...)`` built and fitted for 50 epochs; an iris
``MLPClassifier(hidden_layer_sizes=(10,), max_iter=30)`` fit, beside scikit-learn's at the
same settings. Each figure is the median over ``--rounds`` rounds of many calls.
``--baseline PYTHON``: the same cases in another interpreter (another build of fastmlp, e.g.
a worktree of the previous commit with its own venv), the two measured in alternating
rounds, and the ratio this build / baseline printed. Timings are noisy on a shared machine:
compare ratios from one run, not figures from different runs.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings


def _cases():
    import numpy as np

    import fastmlp as fm
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([0, 1, 1, 0])

    def xor():
        net = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
        net.fit(X, y, optimizer=fm.optim.SGD(lr=0.5), epochs=50)

    from sklearn.datasets import load_iris
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SkMLP

    from fastmlp.sklearn import MLPClassifier
    Xi, yi = load_iris(return_X_y=True)
    warnings.simplefilter("ignore", ConvergenceWarning)

    def iris():
        MLPClassifier(hidden_layer_sizes=(10,), max_iter=30, random_state=0).fit(Xi, yi)

    def iris_sklearn():
        SkMLP(hidden_layer_sizes=(10,), max_iter=30, random_state=0).fit(Xi, yi)

    return {"xor_mlp_fit50": (xor, 200), "iris_mlpclassifier": (iris, 20),
            "iris_sklearn": (iris_sklearn, 5)}


class TimeSmallFits:
    """asv: the same cases, one call each (asv repeats and times them)."""

    params = ["xor_mlp_fit50", "iris_mlpclassifier", "iris_sklearn"]
    param_names = ["case"]

    def setup(self, case):
        self.f = _cases()[case][0]

    def time_fit(self, case):
        self.f()


def _one_round(names):
    """{case: seconds per call} of one round (run in this interpreter)."""
    cases = _cases()
    out = {}
    for name in names:
        f, n = cases[name]
        f()
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        out[name] = (time.perf_counter() - t0) / n
    return out


def _round_in(python, names):
    cmd = [python, __file__, "--worker", ",".join(names)]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", metavar="PYTHON", help="interpreter of the baseline build")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    names = ["xor_mlp_fit50", "iris_mlpclassifier", "iris_sklearn"]
    if args.worker:
        print(json.dumps(_one_round(args.worker.split(","))))
        return
    new, base = [], []
    for _ in range(args.rounds):         # alternating rounds: both builds see the same noise
        new.append(_round_in(sys.executable, names))
        if args.baseline:
            base.append(_round_in(args.baseline, names[:2]))
    med = {k: statistics.median(r[k] for r in new) for k in names}
    import fastmlp
    feats = fastmlp.show_config(print_=False).get("cpu_features")
    print(f"medians of {args.rounds} rounds; cpu_features: {feats}")
    for k in names:
        line = f"  {k:20s} {med[k] * 1e6:10.1f} us"
        if base and k in base[0]:
            b = statistics.median(r[k] for r in base)
            line += f"   baseline {b * 1e6:10.1f} us   this/baseline {med[k] / b:5.2f}"
        print(line)
    print(f"  iris: fastmlp is {med['iris_sklearn'] / med['iris_mlpclassifier']:.1f}x "
          f"scikit-learn's speed")


if __name__ == "__main__":
    main()
