"""benchmarks/threads_under_load.py: a fit on 2 threads against 1, quiet and beside busy
processes, as the median of the rounds' ratios with their range."""
import re
import subprocess
import sys

from benchmark_modules import BENCHMARKS

SCRIPT = str(BENCHMARKS / "threads_under_load.py")


def test_each_row_gives_both_rates_the_median_ratio_and_its_range():
    out = subprocess.run([sys.executable, SCRIPT, "--workloads", "digits", "--busy", "0,1",
                          "--rounds", "3", "--min-time", "0.01"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    assert "cpu_features" in out
    rows = re.findall(r"^digits\s+(\d)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)-([\d.]+)$", out,
                      re.M)
    assert [r[0] for r in rows] == ["0", "1"]
    for _, r1, r2, med, lo, hi in rows:
        assert int(r1) > 0 and int(r2) > 0
        # the median of three ratios lies within their range
        assert float(lo) <= float(med) <= float(hi)


def test_rounds_below_one_is_a_usage_error():
    out = subprocess.run([sys.executable, SCRIPT, "--rounds", "0"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and "--rounds must be >= 1" in out.stderr
