"""The GEMM's configuration layer (csrc/gemm/gemm_config.c): cache sizes read at run time,
block sizes fitted to them, reported by show_config(), and products that stay correct with
any blocking. Each case that sets the caches runs in a fresh interpreter (they are read once
per process)."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastmlp
from fastmlp import _core


def test_blocking_is_reported():
    b = _core.gemm_blocking()
    c = b["caches"]
    assert c["l1d"] > 0 and c["l2"] > c["l1d"] and c["l3_per_core"] > 0
    assert c["source"]
    for dt in ("float32", "float64"):
        d = b[dt]
        assert d["mc"] % d["mr"] == 0 and d["nc"] % d["nr"] == 0 and d["kc"] % 16 == 0
        assert d["mc"] >= d["mr"] and d["nc"] >= d["nr"] and d["kc"] >= 64
    line = fastmlp.show_config(print_=False)["gemm_blocks"]
    assert f"kc={b['float32']['kc']}" in line and c["source"] in line


_CHILD = textwrap.dedent("""
    import json, numpy as np
    from fastmlp import _core
    rng = np.random.default_rng(0)
    errs = []
    for dt, tol in ((np.float32, 1e-4), (np.float64, 1e-12)):
        for M, N, K, ta, tb in ((300, 530, 700, 0, 0), (257, 301, 263, 1, 0),
                                (131, 1100, 517, 0, 1), (70, 90, 1030, 1, 1)):
            A = rng.standard_normal((K, M) if ta else (M, K)).astype(dt)
            B = rng.standard_normal((N, K) if tb else (K, N)).astype(dt)
            C = np.empty((M, N), dt)
            _core.gemm(A, B, bool(ta), bool(tb), 1.0, 0.0, C, 2)
            ref = (A.T if ta else A).astype(np.float64) @ (B.T if tb else B).astype(np.float64)
            errs.append(float(np.max(np.abs(C - ref)) / np.max(np.abs(ref))) / tol)
    print(json.dumps({"blocking": _core.gemm_blocking(), "worst": max(errs)}))
""")


def _child(caches, isa=None):
    env = {**os.environ, "FASTMLP_GEMM_CACHES": caches}
    if isa:
        env["FASTMLP_ISA"] = isa
    p = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True,
                       env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("isa", ["avx2", "avx512", "portable"])
def test_blocks_follow_the_caches_and_products_stay_right(isa):
    ref = _child("32768,1048576,16777216", isa)      # the reference caches: measured blocks
    small = _child("16384,262144,2097152", isa)      # half L1, a quarter of L2, 1/8 of L3
    if ref["blocking"]["caches"]["source"] != "FASTMLP_GEMM_CACHES":
        pytest.fail(f"the override was not read: {ref['blocking']['caches']}")
    for out in (ref, small):
        assert out["worst"] < 1, out                  # within 1e-4 (f32) / 1e-12 (f64)
    for dt in ("float32", "float64"):
        r, s = ref["blocking"][dt], small["blocking"][dt]
        assert s["kc"] == r["kc"] // 2                # KC with L1
        # MC with L2 / KC and NC with L3 / KC (rounded down to the tile)
        assert s["mc"] == max(r["mr"], (r["mc"] // 2) // r["mr"] * r["mr"])
        assert s["nc"] == max(4 * r["nr"], (r["nc"] // 4) // r["nr"] * r["nr"])


def test_unreadable_override_is_ignored():
    env = {**os.environ, "FASTMLP_GEMM_CACHES": "lots"}
    p = subprocess.run([sys.executable, "-c", "import json; from fastmlp import _core; "
                        "print(json.dumps(_core.gemm_blocking()['caches']))"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["source"] != "FASTMLP_GEMM_CACHES"
