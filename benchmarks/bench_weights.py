"""What per-sample weights cost in a whole-run ``Engine.train_epochs`` call.

The same run (workloads.py's digits and mnist: plain SGD, samples reshuffled every epoch)
with ``sample_weight=None`` and with one weight per sample. Target: weighted / unweighted
<= 1.1.

asv: ``TimeWeights.time_train_epochs_{unweighted,weighted}``.
Script: ``python benchmarks/bench_weights.py [--repeats 15] [--workloads digits mnist]``
times both alternately in one process (fresh parameters before every run, the same engine
and data), and prints the medians and their ratio.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

try:
    from . import workloads as W
except ImportError:                       # run as a script: benchmarks/ is not a package then
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import workloads as W

WORKLOADS = ["digits", "mnist"]
EPOCHS = {"digits": 20, "mnist": 1}       # runs of ~0.03 s and ~0.2 s on 2 cores


def sample_weights(name):
    """Weights in [0.5, 1.5), one per sample, in the workload's dtype (fixed seed)."""
    w = W.WORKLOADS[name]
    n = W.get_data(name)[0].shape[0]
    return np.random.default_rng(0).uniform(0.5, 1.5, n).astype(w.dtype)


class _Run:
    """One workload's engine, data, weights and initial parameters."""

    def __init__(self, name, n_threads=None):
        self.w = W.WORKLOADS[name]
        self.X, _, self.Y = W.get_data(name)
        self.sw = sample_weights(name)
        self.epochs = EPOCHS[name]
        self.n_threads = n_threads
        self.eng = W.make_engine(self.w, seed=0)
        self.theta0 = self.eng.theta.copy()

    def __call__(self, weighted):
        self.eng.theta[:] = self.theta0
        losses, _, _ = self.eng.train_epochs(
            self.X, self.Y, self.w.batch, self.epochs, W.sgd_spec(self.w.lr), seed=0,
            n_threads=self.n_threads, sample_weight=self.sw if weighted else None)
        return losses


class TimeWeights:
    """Seconds for one whole-run train_epochs call, without and with sample weights."""
    params = [WORKLOADS]
    param_names = ["workload"]
    timeout = 300.0
    repeat = (1, 15, 30.0)

    def setup(self, name):
        self.run = _Run(name)
        self.run(False)                   # warm-up: workspace, gradient vector, caches

    def time_train_epochs_unweighted(self, name):
        self.run(False)

    def time_train_epochs_weighted(self, name):
        self.run(True)


def measure(name, repeats, n_threads=None):
    """Median seconds (unweighted, weighted), measured alternately (which one goes first
    alternates too) after one warm-up run of each."""
    run = _Run(name, n_threads)
    run(False)
    run(True)
    times = {False: [], True: []}
    for r in range(repeats):
        for weighted in ((False, True) if r % 2 == 0 else (True, False)):
            t0 = time.perf_counter()
            run(weighted)
            times[weighted].append(time.perf_counter() - t0)
    return statistics.median(times[False]), statistics.median(times[True])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--workloads", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    from fastmlp import _core
    cfg = _core.config()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"fastmlp engine: {cfg['max_threads']} threads, gemm {cfg['gemm_kernels']}; "
          f"load average {load}")
    print(f"{'workload':10s} {'epochs':>6s} {'unweighted s':>13s} {'weighted s':>11s} "
          f"{'ratio':>6s}")
    worst = 0.0
    for name in args.workloads:
        t_u, t_w = measure(name, args.repeats, args.threads)
        worst = max(worst, t_w / t_u)
        print(f"{name:10s} {EPOCHS[name]:6d} {t_u:13.4f} {t_w:11.4f} {t_w / t_u:6.3f}")
    print(f"largest ratio weighted/unweighted: {worst:.3f} (target <= 1.1)")
    return worst


if __name__ == "__main__":
    main()
