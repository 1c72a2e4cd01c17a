"""benchmarks/beside_numpy.py: fastmlp's 2-thread product timed after a pause and right after
NumPy's matmul, as a subprocess per OpenBLAS setting."""
import subprocess
import sys

import numpy as np
import pytest
from benchmark_modules import BENCHMARKS, load_benchmark

pytest.importorskip("threadpoolctl")


def test_worker_times_the_three_cases_and_reports_numpys_blas():
    res = load_benchmark("beside_numpy").worker(1)
    blas = res.pop("blas")
    assert sorted(res) == ["after a pause", "after numpy, 2 threads",
                           "after numpy, limited to 1"]
    assert all(np.isfinite(t) and t > 0 for t in res.values())
    assert all(len(b) == 3 for b in blas)


def test_the_script_prints_both_openblas_settings():
    out = subprocess.run([sys.executable, str(BENCHMARKS / "beside_numpy.py"), "--rounds", "1"],
                         capture_output=True, text=True, check=True).stdout
    assert "OPENBLAS_THREAD_TIMEOUT=(unset)" in out and "OPENBLAS_THREAD_TIMEOUT=4" in out
    assert out.count("x the time") == 6


def test_rounds_below_one_is_a_usage_error():
    out = subprocess.run([sys.executable, str(BENCHMARKS / "beside_numpy.py"), "--rounds", "0"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "--rounds must be >= 1" in out.stderr
