"""fastmlp's 2-thread GEMM right after a NumPy matmul in the same process. NumPy's OpenBLAS
keeps its worker threads spinning for a while after each multi-threaded call (about 0.1 s by
default), so a fastmlp call made in that window finds one core taken. Each round times a
2-thread 1024^3 float32 product three ways: after a pause (no spinning neighbour), right
after a 2-thread NumPy matmul, and right after one limited to 1 thread by threadpoolctl. A
second run sets ``OPENBLAS_THREAD_TIMEOUT=4`` (OpenBLAS's shortest spin) before NumPy loads.

    python benchmarks/beside_numpy.py              # the machine's own kernels
    python benchmarks/beside_numpy.py --isa avx2   # fastmlp's AVX2 kernels, OpenBLAS Haswell

Printed: the medians, and each as a multiple of the time after a pause (> 1: slower).
Check `uptime` first: the machine must otherwise be idle.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

N = 1024
PAUSE_S = 0.15


def _hide_if_asked():
    try:
        from . import hide_avx512
    except ImportError:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import hide_avx512  # noqa: E402
    return hide_avx512.hide_if_asked()


def worker(rounds):
    _hide_if_asked()
    import numpy as np
    from threadpoolctl import threadpool_info, threadpool_limits

    from fastmlp import _core
    rng = np.random.default_rng(0)
    A, B = (rng.random((N, N), dtype=np.float32) for _ in range(2))
    C = np.empty_like(A)
    a = rng.random((256, 256), dtype=np.float32)

    def fm():
        t0 = time.perf_counter()
        _core.gemm(A, B, False, False, 1.0, 0.0, C, 2)
        return time.perf_counter() - t0

    fm()
    res = {"after a pause": [], "after numpy, 2 threads": [], "after numpy, limited to 1": []}
    for _ in range(rounds):
        time.sleep(PAUSE_S)
        res["after a pause"].append(fm())
        a @ a
        res["after numpy, 2 threads"].append(fm())
        time.sleep(PAUSE_S)
        with threadpool_limits(1, "blas"):
            a @ a
        res["after numpy, limited to 1"].append(fm())
    blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return {k: statistics.median(v) for k, v in res.items()} | {"blas": blas}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--isa", choices=["avx2"])
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.rounds < 1:
        p.error("--rounds must be >= 1")
    if a.worker:
        print(json.dumps(worker(a.rounds)))
        return 0
    os.environ.update(OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2")
    if a.isa == "avx2":
        os.environ.update(FASTMLP_ISA="avx2", OPENBLAS_CORETYPE="Haswell",
                          FASTMLP_BENCH_HIDE_AVX512="1")
    cpuid = _hide_if_asked()
    import fastmlp
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    fastmlp.show_config()
    if cpuid:
        print(f"CPUID: {cpuid}")
    for timeout in (None, "4"):
        e = dict(os.environ)
        if timeout:
            e["OPENBLAS_THREAD_TIMEOUT"] = timeout
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker",
                              "--rounds", str(a.rounds)], env=e, capture_output=True,
                             text=True, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        blas = res.pop("blas")
        base = res["after a pause"]
        print(f"\nOPENBLAS_THREAD_TIMEOUT={timeout or '(unset)'}; NumPy's BLAS: {blas}")
        for k, t in res.items():
            print(f"  {k:28s} {2 * N ** 3 / t / 1e9:7.1f} GFLOP/s  {t / base:5.2f}x the time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
