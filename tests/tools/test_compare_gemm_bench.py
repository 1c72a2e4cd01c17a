"""benchmarks/compare_workers.py's GEMM workers: one process per runtime, or both runtimes in
one process in turn (compare.py --gemm-paired)."""
import math
import subprocess
import sys

import pytest
from benchmark_modules import BENCHMARKS, load_benchmark

CASES = ([("sq 8", 8, 8, 8, False, False, "float64"), ("nt", 6, 5, 7, False, True, "float32")],
         [("2x3.3x4", 2, 4, 3, False, False, "float64")])


@pytest.fixture
def workers(monkeypatch):
    cw = load_benchmark("compare_workers")
    monkeypatch.setattr(cw, "gemm_cases", lambda quick: CASES)
    return cw


def _check_entry(e, runs):
    assert e["gflops"] > 0 and e["us_per_call"] > 0
    if runs:
        assert len(e["rounds_gflops"]) == len(e["rounds_us_per_call"]) == runs
        # the median run's rate and time per call describe the same run length
        assert math.isclose(sorted(e["rounds_us_per_call"])[runs // 2], e["us_per_call"])


def test_paired_worker_times_both_runtimes_on_every_case(workers):
    out = workers.worker_gemm_paired(quick=True, min_time=0.002, pairs=3, pause=0.0)
    assert sorted(out) == ["fastmlp", "numpy"]
    for rt in out:
        assert sorted(out[rt]["big"]) == ["nt float32", "sq 8 float64"]
        assert sorted(out[rt]["small"]) == ["2x3.3x4 float64"]
        for part in ("big", "small"):
            for e in out[rt][part].values():
                _check_entry(e, 3)
    # fastmlp's entries carry its round counts; NumPy posts none
    assert all("rounds" in e for e in out["fastmlp"]["big"].values())
    assert not any("rounds" in e for e in out["numpy"]["big"].values())


def test_per_runtime_worker_gives_the_same_entries(workers):
    for rt in ("fastmlp", "numpy"):
        out = workers.worker_gemm(rt, quick=True, min_time=0.002, repeats=2)
        assert sorted(out["big"]) == ["nt float32", "sq 8 float64"]
        for part in ("big", "small"):
            for e in out[part].values():
                _check_entry(e, 0)


def test_numpy_worker_does_not_import_fastmlp():
    """The NumPy peer's process stays a NumPy process (no fastmlp, no OpenMP runtime of its)."""
    code = f"""
import sys
sys.path.insert(0, {str(BENCHMARKS)!r})
import compare_workers as cw
cw.gemm_cases = lambda quick: {CASES!r}
cw.worker_gemm("numpy", True, 0.002, 1)
print("fastmlp" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[-1] == "False"
