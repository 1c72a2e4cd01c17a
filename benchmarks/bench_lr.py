"""``fit(lr="auto")`` against a grid of full fits, and the parallel sweep against a sequential one.

For each workload -- workloads.py's ``digits`` (64-64-10 ReLU, scikit-learn's 1797 digits)
and ``regression`` (8-64-64-1 tanh, 20000 samples), and ``mnist``: 784-128-10 ReLU in
float32 on 20000 rendered 28x28 digits (``fastmlp.datasets.load_digits(size=28)``, scaled
to [0, 1]) -- with plain SGD, the workload's batch size, a fixed random 20 % validation set
and E epochs:

* **grid**: ten full fits of a fresh model (seed 0), one per rate of
  ``numpy.logspace(-3, 0, 10)``, one after another, each engine on ``--threads`` threads.
  The best member is the one with the lowest final validation loss.
* **auto**: one fresh ``fit(lr="auto")`` (seed 0) with the same options: the sweep (4 rates,
  one per decade of SGD's range, then three bisection stages of 2 rates; a tenth of the
  epochs; each stage's candidates run concurrently), then the chosen candidate's run
  continued to E epochs.
  Targets: final validation loss <= 1.05 x the best member's, validation accuracy within
  0.5 points of it (classification), wall time (sweep included) <= 25 % of the grid's.
* **sweep speed-up**: ``lr_sweep`` with the sweep of ``lr="auto"`` (same grid, refinement,
  epochs and data), candidates run concurrently (one per thread, single-threaded engines)
  against ``parallel=False`` (one after another), each engine on ``--threads`` threads or
  on one; medians of ``--repeats`` runs measured alternately. Their curves are checked to
  be bitwise equal.

Run: ``python benchmarks/bench_lr.py [--workloads digits regression mnist] [--repeats 3]
[--threads 2]`` (``--threads 1``: the grid, the sweep and the run on one thread, no
speed-up measured). Prints ``uptime`` before and after: on a loaded machine every time is
longer, the ratios less so.
"""
import argparse
import functools
import os
import statistics
import subprocess
import sys
import time

import numpy as np

try:
    from . import workloads as W
except ImportError:                       # run as a script: benchmarks/ is not a package then
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks import workloads as W

EPOCHS = {"digits": 30, "regression": 20, "mnist": 10}
GRID = np.logspace(-3, 0, 10)


def uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load average {os.getloadavg()}"


@functools.lru_cache(maxsize=None)
def split(name):
    """(X_train, y_train, X_val, y_val): a fixed random 80/20 split of the workload."""
    if name == "mnist":
        from fastmlp.datasets import load_digits
        X, y = load_digits(W.WORKLOADS[name].n_samples, seed=0, size=28, return_X_y=True)
        X = (X / 16.0).astype(np.float32)
    else:
        X, y, _ = W.get_data(name)
    order = np.random.default_rng(0).permutation(len(X))
    n_val = len(X) // 5
    va, tr = order[:n_val], order[n_val:]
    return (np.ascontiguousarray(X[tr]), np.ascontiguousarray(y[tr]),
            np.ascontiguousarray(X[va]), np.ascontiguousarray(y[va]))


def fit_once(name, lr, threads):
    """One fresh fit; returns (final val_loss, final val accuracy or R^2, seconds, model)."""
    import fastmlp as fm
    w = W.WORKLOADS[name]
    Xtr, ytr, Xva, yva = split(name)
    net = W.make_mlp(w, seed=0)
    t0 = time.perf_counter()
    hist = net.fit(Xtr, ytr, optimizer=fm.optim.SGD(lr=0.01), lr=lr, batch_size=w.batch,
                   epochs=EPOCHS[name], validation_data=(Xva, yva), n_threads=threads)
    secs = time.perf_counter() - t0
    return hist.val_loss[-1] if len(hist) else np.nan, \
        hist.val_metric[-1] if len(hist) else np.nan, secs, hist


def compare(name, threads):
    import warnings
    import fastmlp as fm
    rows = []
    t_grid = 0.0
    for lr in GRID:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fm.DivergenceWarning)
            vl, vm, secs, hist = fit_once(name, float(lr), threads)
        t_grid += secs
        rows.append((lr, vl, vm, secs, hist.diverged))
    finite = [r for r in rows if np.isfinite(r[1]) and not r[4]]
    best = min(finite, key=lambda r: r[1])
    vl, vm, t_auto, hist = fit_once(name, "auto", threads)
    return rows, best, t_grid, (hist.lr_search.lr, vl, vm, t_auto, hist)


def sweep_speedup(name, threads, repeats):
    """Median seconds of the same sweep: concurrent, sequential with ``threads``-thread
    engines, sequential with 1-thread engines; and whether all three gave the same curves."""
    import fastmlp as fm
    from fastmlp.training.lr_search import AUTO_NUM, AUTO_REFINE, AUTO_RULE, auto_epochs
    w = W.WORKLOADS[name]
    Xtr, ytr, Xva, yva = split(name)
    net = W.make_mlp(w, seed=0)
    kw = dict(epochs=auto_epochs(EPOCHS[name], -(-len(Xtr) // w.batch)),
              optimizer=fm.optim.SGD(lr=0.01),
              batch_size=w.batch, validation_data=(Xva, yva), num=AUTO_NUM,
              refine=AUTO_REFINE, rule=AUTO_RULE)
    modes = {"parallel": dict(parallel=True, n_threads=threads),
             "sequential": dict(parallel=False, n_threads=threads),
             "sequential-1": dict(parallel=False, n_threads=1)}
    res, times = {}, {m: [] for m in modes}
    fm.lr_sweep(net, Xtr, ytr, **kw, n_threads=threads)            # warm-up
    names = list(modes)
    for r in range(repeats):
        for m in (names if r % 2 == 0 else names[::-1]):
            t0 = time.perf_counter()
            res[m] = fm.lr_sweep(net, Xtr, ytr, **kw, **modes[m])
            times[m].append(time.perf_counter() - t0)
    ref = res["parallel"]
    equal = all(all(np.array_equal(a, b) for a, b in zip(ref.loss, o.loss)) and
                all(np.array_equal(a, b) for a, b in zip(ref.val_loss, o.val_loss))
                for o in res.values())
    return {m: statistics.median(t) for m, t in times.items()}, equal, ref.workers


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", nargs="+", default=list(EPOCHS), choices=list(EPOCHS))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    import fastmlp as fm
    fm.set_num_threads(args.threads)
    print(f"before: {uptime()}")
    print(f"fastmlp {fm.__version__}, {args.threads} threads; grid {GRID[0]:g}..{GRID[-1]:g} "
          f"({len(GRID)} rates); plain SGD; 20 % validation")
    summary = []
    for name in args.workloads:
        w = W.WORKLOADS[name]
        clf = w.classification
        print(f"\n== {name}: {'-'.join(map(str, w.sizes))} {w.hidden} {w.loss} {w.dtype}, "
              f"batch {w.batch}, {EPOCHS[name]} epochs ==")
        rows, best, t_grid, (lr_a, vl_a, vm_a, t_a, hist) = compare(name, args.threads)
        metric = "val_acc" if clf else "val_R2"
        print(f"{'lr':>9s} {'val_loss':>10s} {metric:>8s} {'seconds':>8s}")
        for lr, vl, vm, secs, div in rows:
            mark = "  <- best" if lr == best[0] else ("  diverged" if div else "")
            print(f"{lr:9.3g} {vl:10.5g} {vm:8.4f} {secs:8.3f}{mark}")
        print(f"grid total {t_grid:.3f} s")
        s = hist.lr_search
        print(f"auto: lr={lr_a:.3g} ({s.reason}); val_loss {vl_a:.5g}, {metric} {vm_a:.4f}, "
              f"{t_a:.3f} s")
        ratio_loss = vl_a / best[1]
        d_metric = 100 * (vm_a - best[2])
        ratio_time = t_a / t_grid
        print(f"val_loss auto/best {ratio_loss:.3f} (target <= 1.05); {metric} auto - best "
              f"{d_metric:+.2f} points{' (target >= -0.5)' if clf else ''}; time auto/grid "
              f"{ratio_time:.3f} (target <= 0.25)")
        if args.threads < 2:              # one thread: nothing runs concurrently
            summary.append((name, ratio_loss, d_metric, ratio_time, np.nan, np.nan, None))
            continue
        t, equal, workers = sweep_speedup(name, args.threads, args.repeats)
        sp, sp1 = t["sequential"] / t["parallel"], t["sequential-1"] / t["parallel"]
        print(f"sweep ({len(s.lrs)} rates x {s.epochs} epochs), medians of {args.repeats}: "
              f"concurrent ({workers} at a time, 1-thread engines) {t['parallel']:.3f} s; "
              f"in sequence with {args.threads}-thread engines {t['sequential']:.3f} s "
              f"(speed-up {sp:.2f}x), with 1-thread engines {t['sequential-1']:.3f} s "
              f"(speed-up {sp1:.2f}x); curves bitwise equal: {equal}")
        summary.append((name, ratio_loss, d_metric, ratio_time, sp, sp1, equal))
    print(f"\nafter: {uptime()}")
    print(f"\n{'workload':11s} {'loss a/b':>9s} {'metric Δ':>9s} {'time a/g':>9s} "
          f"{'sweep x':>8s} {'x (1-th)':>8s} equal")
    for name, rl, dm, rt, sp, sp1, eq in summary:
        print(f"{name:11s} {rl:9.3f} {dm:+9.2f} {rt:9.3f} {sp:8.2f} {sp1:8.2f} {eq}")
    return summary


if __name__ == "__main__":
    main()
