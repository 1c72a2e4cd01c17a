"""fastmlp on an AVX2-only CPU, on whatever machine runs the tests: a fresh interpreter whose
CPUID hides AVX-512 (benchmarks/hide_avx512.py: Linux's CPUID faulting) before fastmlp loads.
There, the element-wise loops compiled for several ISAs (FM_CLONES: the optimisers' updates,
softmax, the activations' derivatives, the sparse first layer's gradient) run their AVX2
clones, which FASTMLP_ISA does not reach, so on an AVX-512 machine nothing else runs them.
They must give the bits the AVX-512 clones give (fm_internal.h: -ffp-contract=off, no
reassociation), and fastmlp must describe the machine as an AVX2 host."""
import json
import pathlib
import subprocess
import sys

import pytest
from x86_linux import only_x86_64_linux

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"

_RUN = r"""
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
import hide_avx512
why = hide_avx512.hide() if sys.argv[2] == "hide" else "not asked"
import numpy as np
import scipy.sparse as sp
import fastmlp as fm

def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()

rng = np.random.default_rng(0)
X = rng.normal(size=(300, 37))
y = rng.integers(0, 5, 300)
cfg = fm.show_config(print_=False)
out = {"why": why, "cpu_features": cfg["cpu_features"], "clones": cfg["elementwise_clones"]}
cases = [("relu", "adam", np.float64), ("tanh", "sgd", np.float32),
         ("sigmoid", "nesterov", np.float64), ("leaky_relu", "adamw", np.float32)]
for act, opt, dt in cases:
    net = fm.MLP([37, 24, 16, 5], activation=act, loss="cross_entropy", dtype=dt, seed=1)
    o = {"adam": fm.optim.Adam(lr=0.01, l2=1e-3), "sgd": fm.optim.SGD(lr=0.05, momentum=0.9),
         "nesterov": fm.optim.SGD(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
         "adamw": fm.optim.Adam(lr=0.01, weight_decay=1e-2)}[opt]
    h = net.fit(X, y, optimizer=o, batch_size=32, epochs=3, seed=2, n_threads=2)
    out[f"{act}-{opt}"] = digest(net.theta, net.predict_proba(X), np.asarray(h.loss))
Xs = sp.random(300, 37, density=0.2, format="csr", random_state=3)
net = fm.MLP([37, 16, 5], loss="cross_entropy", seed=1)
net.fit(Xs, y, optimizer=fm.optim.Adam(lr=0.01), batch_size=32, epochs=3, seed=2)
out["sparse"] = digest(net.theta, net.predict_proba(Xs))
print(json.dumps(out))
"""


def _run(mode):
    env = {k: v for k, v in __import__("os").environ.items() if k != "FASTMLP_ISA"}
    env["FASTMLP_ISA"] = "avx2"          # the same GEMM and vector kernels in both runs
    p = subprocess.run([sys.executable, "-c", _RUN, str(BENCHMARKS), mode], env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


@only_x86_64_linux
def test_an_avx2_only_cpu_gives_the_same_bits_and_says_what_it_is():
    full = _run("keep")
    if "avx512f" not in full["cpu_features"].split():
        pytest.skip("this CPU has no AVX-512: every run here is an AVX2 (or lower) host")
    masked = _run("hide")
    if masked["why"] is not None:
        pytest.skip(f"AVX-512 cannot be hidden here: {masked['why']}")
    assert masked["cpu_features"].split() == ["sse4.2", "avx", "avx2", "fma"]
    if full["clones"] == "x86-64-v4":       # a build with clones: the masked run takes v3
        assert masked["clones"] == "x86-64-v3"
    for key in full:
        if key not in ("why", "cpu_features", "clones"):
            assert masked[key] == full[key], key
