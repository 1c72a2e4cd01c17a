"""2 threads against 1, quiet and with busy processes beside the fit (a machine shared with a
web server, a notebook or another BLAS): the fit's speed with 2 threads as a ratio of its
speed with 1 thread -- the median over rounds of each round's ratio (a round runs both in
turn, the order swapped every round), and the range of those ratios.

    python benchmarks/threads_under_load.py                       # digits, mnist; 0 and 1 busy
    python benchmarks/threads_under_load.py --workloads mnist --busy 0,1,2 --rounds 9
    python benchmarks/threads_under_load.py --predict 64,4096     # predictions, too
    FASTMLP_ISA=avx2 python benchmarks/threads_under_load.py      # the AVX2 kernels
    python benchmarks/threads_under_load.py --isa avx2            # as on an AVX2-only host

With --predict, the rows also give predict_proba on batches of those sizes (the workload's
model after one epoch): one short call each, where a helper's late wake-up is not amortised
over an epoch.

A busy process is a plain Python loop (one core each), started before the measurements of
its row and stopped after them. Ratio > 1: 2 threads are faster. Check `uptime` first: the
machine must otherwise be idle.
"""
import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time

try:
    from . import hide_avx512
    from . import workloads as W
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import hide_avx512  # noqa: E402
    import workloads as W  # noqa: E402


def _spin(stop):
    x = 0
    while not stop.is_set():
        for _ in range(10000):
            x += 1


def _rate(w, X, y, Y, n_threads, min_time):
    """samples/s of whole epochs of fastmlp's fit, epochs grown until a run lasts min_time"""
    epochs = 1
    while True:
        t0 = time.perf_counter()
        W.fit_fastmlp(w, X, y, Y, epochs, n_threads=n_threads)
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return epochs * len(X) / dt
        epochs *= 2


def _predict_rate(model, x, n_threads, min_time):
    """rows/s of predict_proba on x, calls repeated until a run lasts min_time"""
    n, t0 = 0, time.perf_counter()
    while True:
        model.predict_proba(x, n_threads=n_threads)
        n += 1
        dt = time.perf_counter() - t0
        if dt >= min_time:
            return n * len(x) / dt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", default="digits,mnist")
    ap.add_argument("--busy", default="0,1", help="busy processes per row (comma-separated)")
    ap.add_argument("--rounds", type=int, default=7, help="alternating 1/2-thread runs")
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--predict", default="", help="batch sizes of predictions to measure too")
    ap.add_argument("--isa", choices=["avx2"],
                    help="avx2: FASTMLP_ISA=avx2, and AVX-512 hidden from CPUID (hide_avx512.py)")
    a = ap.parse_args(argv)
    if a.rounds < 1:
        ap.error("--rounds must be >= 1")
    batches = [int(b) for b in a.predict.split(",") if b]
    if a.isa:
        os.environ["FASTMLP_ISA"] = a.isa
        os.environ[hide_avx512.ENV] = "1"
    cpuid = hide_avx512.hide_if_asked()     # before fastmlp is imported
    import fastmlp
    fastmlp.show_config()
    if cpuid:
        print(f"CPUID: {cpuid}")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"\n{'workload':20s} {'busy':>4s} {'1 thread':>12s} {'2 threads':>12s} {'2t / 1t':>8s}"
          "  rounds' range")
    for name in a.workloads.split(","):
        w = W.WORKLOADS[name]
        X, y, Y = W.get_data(name)
        W.fit_fastmlp(w, X, y, Y, 1, n_threads=2)               # warm-up
        model = W.make_mlp(w)
        if hasattr(model, "predict_proba") and batches:
            model.fit(X[:256], y[:256], epochs=1)
        for busy in (int(b) for b in a.busy.split(",")):
            stop = mp.Event()
            procs = [mp.Process(target=_spin, args=(stop,), daemon=True) for _ in range(busy)]
            for p in procs:
                p.start()
            time.sleep(0.2 if busy else 0)
            rows = [("fit", None)] + [(f"predict {B}", B) for B in batches
                                      if hasattr(model, "predict_proba") and B <= len(X)]
            r = {(k, nt): [] for k, _ in rows for nt in (1, 2)}
            try:
                for i in range(a.rounds):
                    for k, B in rows:
                        # in turn, the order swapped every round: a drift of the host (or of
                        # where the busy processes run) weighs on both thread counts alike
                        for nt in ((1, 2) if i % 2 == 0 else (2, 1)):
                            r[k, nt].append(_rate(w, X, y, Y, nt, a.min_time) if B is None
                                            else _predict_rate(model, X[:B], nt, a.min_time))
            finally:
                stop.set()
                for p in procs:
                    p.join()
            for k, _ in rows:
                m1, m2 = statistics.median(r[k, 1]), statistics.median(r[k, 2])
                # each round's 2-thread run against its own 1-thread run: the median of those
                # ratios, and their range
                q = sorted(b / a for a, b in zip(r[k, 1], r[k, 2]))
                label = name if k == "fit" else f"{name} {k}"
                print(f"{label:20s} {busy:4d} {m1:12.0f} {m2:12.0f} {statistics.median(q):8.2f}"
                      f"  {q[0]:.2f}-{q[-1]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
