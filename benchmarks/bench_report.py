"""What the training report costs: ``MLP.fit(..., report=path)`` against the same fit without
it, and against the same fit with a do-nothing epoch callback (which, like the report, makes
the run return to Python after every epoch: the difference between that and the report is
the statistics and the file themselves).

workloads.py's digits (64-64-10 ReLU, float64, batch 32, 30 epochs) and mnist (784-128-10
ReLU, float32, batch 64, 20000 prototype samples, 5 epochs), and digits again for 300 epochs
(digits300): plain SGD, the samples
reshuffled every epoch, as everywhere in benchmarks/. Target: report / plain <= 1.05.

asv: ``TimeReport.time_fit_{plain,callback,report}``.
Script: ``python benchmarks/bench_report.py [--repeats 7] [--workloads digits mnist]`` times
the three alternately in one process (a fresh model each run; which goes first rotates),
prints the medians and the ratios, the share of the report fit's time spent in the report's
own hooks and file (the median over the runs: less noisy than a ratio of two fits on a busy
machine), and the size of the report file.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

try:
    from . import workloads as W
except ImportError:                       # run as a script: benchmarks/ is not a package then
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import workloads as W

import fastmlp as fm

WORKLOADS = ["digits", "digits300", "mnist"]
EPOCHS = {"digits": 30, "digits300": 300, "mnist": 5}
KINDS = ("plain", "callback", "report")


class _Nothing:
    def on_epoch_end(self, epoch, logs):
        return False


class _TimedReport(fm.training.Report):
    """A Report that adds up the seconds its own hooks and its file take."""

    def __init__(self, path):
        super().__init__(path)
        self.seconds = 0.0

    def _timed(self, method, *args):
        t0 = time.perf_counter()
        try:
            return method(*args)
        finally:
            self.seconds += time.perf_counter() - t0

    def on_train_begin(self, run):
        return self._timed(super().on_train_begin, run)

    def on_epoch_end(self, epoch, logs):
        return self._timed(super().on_epoch_end, epoch, logs)

    def on_train_end(self, run):
        return self._timed(super().on_train_end, run)

    def write(self, *args, **kwargs):
        return self._timed(super().write, *args, **kwargs)


class _Fit:
    """One workload's data; ``run(kind)`` fits a fresh model and returns its seconds."""

    def __init__(self, name, path):
        data = "digits" if name == "digits300" else name
        self.w = W.WORKLOADS[data]
        self.X, self.y, _ = W.get_data(data)
        self.epochs = EPOCHS[name]
        self.path = path

    def run(self, kind):
        w = self.w
        net = fm.MLP(list(w.sizes), activation=w.hidden, loss=w.loss, dtype=w.dtype, seed=0)
        rep = _TimedReport(self.path)
        extra = {"plain": {}, "callback": {"callbacks": [_Nothing()]},
                 "report": {"report": rep}}[kind]
        t0 = time.perf_counter()
        net.fit(self.X, self.y, optimizer="sgd", lr=w.lr, batch_size=w.batch,
                epochs=self.epochs, **extra)
        self.own = rep.seconds
        return time.perf_counter() - t0


class TimeReport:
    """Seconds for one fit: without a report, with a do-nothing callback, with a report."""
    params = [WORKLOADS]
    param_names = ["workload"]
    timeout = 300.0
    repeat = (1, 5, 60.0)

    def setup(self, name):
        self.tmp = tempfile.TemporaryDirectory()
        self.fit = _Fit(name, os.path.join(self.tmp.name, "run.html"))

    def teardown(self, name):
        self.tmp.cleanup()

    def time_fit_plain(self, name):
        self.fit.run("plain")

    def time_fit_callback(self, name):
        self.fit.run("callback")

    def time_fit_report(self, name):
        self.fit.run("report")


def measure(name, repeats, path):
    """Median seconds per kind, measured in rotation after one warm-up run of each."""
    fit = _Fit(name, path)
    for k in KINDS:
        fit.run(k)
    times = {k: [] for k in KINDS}
    own = []
    for r in range(repeats):
        order = KINDS[r % 3:] + KINDS[:r % 3]
        for k in order:
            times[k].append(fit.run(k))
            if k == "report":
                own.append(fit.own / times[k][-1])
    out = {k: statistics.median(v) for k, v in times.items()}
    out["own"] = statistics.median(own)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--workloads", nargs="+", default=WORKLOADS, choices=WORKLOADS)
    args = ap.parse_args(argv)
    print("cpu_features:", fm.show_config(print_=False)["cpu_features"])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "run.html")
        for name in args.workloads:
            m = measure(name, args.repeats, path)
            print(f"{name:9s} {EPOCHS[name]:3d} epochs  plain {m['plain']:.4f} s  "
                  f"callback {m['callback']:.4f} s  report {m['report']:.4f} s  "
                  f"report/plain {m['report'] / m['plain']:.3f}  "
                  f"report/callback {m['report'] / m['callback']:.3f}  "
                  f"report's own share of its fit {100 * m['own']:.1f} %  "
                  f"file {os.path.getsize(path) / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
