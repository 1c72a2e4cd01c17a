"""Where a forward pass (a prediction) gains from a second thread: Engine.predict on 1 and on 2
threads, for networks and batches whose forward work (2 x weights x rows flops) spans 1e5 to
1e8, with the team threshold (team_min_flops) set to 0 so that the 2-thread runs really use a
team. Prints t(1 thread) / t(2 threads) per case and the smallest work above which 2 threads
were faster in every case: the measured basis of the default ``team_min_flops`` (4e6), which
decides when a prediction wakes a helper thread at all.

    python benchmarks/forward_threads.py [--isa avx2] [--repeats 7]

Medians of alternating runs; wall time. Run it on a quiet machine (``uptime`` is printed).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

NETS = {"mnist": ([784, 128, 10], np.float32), "wide": ([784, 1024, 1024, 10], np.float32),
        "digits": ([64, 64, 10], np.float64), "deep": ([64] * 6 + [10], np.float64)}
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def per_call(f, min_time=0.05):
    n, t = 1, 0.0
    while t < min_time:
        n *= 2
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        t = time.perf_counter() - t0
    return t / n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--isa", choices=["avx2", "avx512", "portable"])
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args(argv)
    if a.isa and os.environ.get("FASTMLP_ISA") != a.isa:
        env = dict(os.environ, FASTMLP_ISA=a.isa)
        return subprocess.call([sys.executable, __file__] + sys.argv[1:], env=env)
    import fastmlp as fm
    from fastmlp import _core
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print("\n".join(l for l in fm.config_text().splitlines() if "cpu_features" in l or
                    "gemm_kernels" in l) if hasattr(fm, "config_text") else
          f"gemm_kernels: {_core.gemm_isa()}")
    _core.set_team_min_flops(0)
    rows = []
    for name, (sizes, dt) in NETS.items():
        net = fm.MLP(sizes, dtype=dt, seed=0)
        eng = net.engine
        w = sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
        for B in BATCHES:
            x = np.random.default_rng(0).random((B, sizes[0])).astype(dt)
            r = []
            for _ in range(a.repeats):
                t1 = per_call(lambda: eng.predict(x, n_threads=1))
                t2 = per_call(lambda: eng.predict(x, n_threads=2))
                r.append(t1 / t2)
            rows.append((2.0 * w * B, name, B, statistics.median(r)))
    rows.sort()
    print(f"{'flops':>10}  {'net':>7}  {'batch':>5}  t1/t2")
    for fl, name, B, ratio in rows:
        print(f"{fl:10.3g}  {name:>7}  {B:5d}  {ratio:5.2f}")
    above = [fl for i, (fl, *_r) in enumerate(rows) if all(x[3] > 1.0 for x in rows[i:])]
    print(f"2 threads faster in every case from {min(above):.3g} flops" if above else
          "2 threads were never faster in every larger case")
    return 0


if __name__ == "__main__":
    sys.exit(main())
