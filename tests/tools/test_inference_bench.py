"""benchmarks/inference.py's --paired mode: fastmlp and onnxruntime timed in turn in one
process, and the table of the pairs' ratios."""
import json
import math
import subprocess
import sys

import pytest
from benchmark_modules import BENCHMARKS, load_benchmark

pytest.importorskip("onnxruntime")


inference = load_benchmark("inference")


def test_paired_worker_times_both_peers_in_turn_for_every_batch():
    res = inference.paired_worker("digits", 1, [1, 8], min_time=0.002, repeats=3)
    assert res["peer"] == "paired" and res["model"] == "digits" and res["threads"] == 1
    assert res["clock"] == "thread_time"
    assert sorted(res["ratios"]) == [1, 8]
    for ratios in res["ratios"].values():
        assert len(ratios) == 3
        assert all(math.isfinite(r) and r > 0 for r in ratios)


def test_paired_worker_runs_as_a_subprocess_and_prints_one_json_line():
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / "inference.py"), "--worker", "paired", "digits", "1",
         "--batches", "4", "--min-time", "0.002", "--repeats", "2"],
        capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["peer"] == "paired" and len(res["ratios"]["4"]) == 2


def test_paired_table_takes_the_median_over_every_pair_of_every_round(capsys):
    class Args:
        models, threads, batches = ["mnist"], [2], [64, 4096]
    runs = [{"ratios": {"64": [1.0, 2.0, 9.0], "4096": [0.5]}},
            {"ratios": {"64": [3.0, 4.0], "4096": [0.7, 0.9]}}]
    inference._print_paired(Args, {("paired", "mnist", 2): runs})
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.strip().startswith("mnist")]
    assert rows[0][:4] == ["mnist", "2", "64", "3.00"]        # median of 1 2 3 4 9
    assert rows[0][4] == "1.00-9.00" and rows[0][5] == "5"
    assert rows[1][:4] == ["mnist", "2", "4096", "0.70"]
    assert rows[1][5] == "3"


def test_an_unknown_peer_or_model_is_a_usage_error_naming_the_choices():
    for flag, bad, choices in (("--peers", "fastmlp,onnxruntime-spin", "'ort-spin'"),
                               ("--models", "mnist,nope", "'digits'")):
        out = subprocess.run([sys.executable, str(BENCHMARKS / "inference.py"), flag, bad],
                             capture_output=True, text=True)
        assert out.returncode == 2
        assert f"unknown {flag[2:-1]} '{bad.split(',')[1]}'" in out.stderr
        assert choices in out.stderr and "Traceback" not in out.stderr


def test_the_table_shows_the_share_of_rounds_fastmlp_ran_alone(capsys):
    class Args:
        models, threads, batches, rounds, repeats, min_time = ["mnist"], [1, 2], [64], 1, 1, 0.1
    detail = {("mnist", 1): {"forward": 1e-4, "gemm": 5e-5},             # 1 thread: no rounds
              ("mnist", 2): {"forward": 1e-4, "gemm": 5e-5, "alone": 0.25}}

    def med(peer, name, threads, B, key="time", sub=None):
        if key in ("time", "best"):
            return 2e-4
        return detail[(name, threads)].get(sub)
    inference._print_table(Args, ["fastmlp"], med, "median")
    out = capsys.readouterr().out
    head = next(line for line in out.splitlines() if "fm alone" in line).split("  ")
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("mnist")]
    assert len(rows) == 2 and [h.strip() for h in head if h.strip()][-2] == "fm alone"
    assert rows[0][-2] == "-" and rows[1][-2] == "25%"
