"""Inference speed: fastmlp's ``predict_proba`` against onnxruntime (the model exported by
``fastmlp.onnx.to_onnx``), PyTorch eager and a NumPy forward pass, in ONE table.

    python benchmarks/inference.py                   # every model, batch and thread count
    python benchmarks/inference.py --quick           # shorter runs, one round
    python benchmarks/inference.py --models mnist --threads 1 --json out.json

Models (the same weights for every peer; ReLU hidden layers, softmax output):

    mnist   784-128-10         float32
    wide    784-1024-1024-10   float32
    digits  64-64-10           float64

at batch 1 (latency: microseconds per call), 64 and 4,096 (throughput: samples per second),
on 1 and 2 threads. Every (peer, model, threads) is measured in its own fresh process, one
after the other (OpenMP and thread-pool workers of two runtimes interleaved call by call slow
each other down), each limited to that many threads; ``--rounds`` repeats the whole sweep
with the peers in turn first, and each number is the median over rounds of a median over
``--repeats`` timed runs of at least ``--min-time`` seconds (a second table gives the
fastest run instead: an estimate for a quiet machine). On one thread every peer computes in
the calling thread, and the clock is that thread's CPU time (``time.thread_time``), so the
machine's other load does not count; on two threads it is wall time, which on a busy
machine measures the scheduler as much as the code. ``uptime`` is printed at the start and
the end.

``--paired`` adds a table in which fastmlp and onnxruntime (non-spinning) share ONE process
per (model, threads) and are timed in turn, pair after pair: on a host whose speed drifts
over seconds (a shared VM), both runs of a pair see the same host, so the pairs' ratios
scatter less than those of separate processes (non-spinning onnxruntime blocks its idle
threads, as fastmlp does, so the two do not slow each other; spinning peers cannot be paired).

Why fastmlp is slower or faster where it is: the fastmlp worker also times, on the same
rows, ``Engine.predict`` (the C forward pass alone: ``predict_proba`` minus that is the
per-call overhead of the Python layer), and the layers' products alone with
``fastmlp._core.gemm`` (no bias, no activation: the GEMM; the forward pass minus the GEMM is
the epilogue: bias, ReLU, softmax and the workspace copies); the onnxruntime worker times
the same network with linear activations and no softmax (its GEMMs and bias adds).

This file is also the worker (``inference.py --worker PEER MODEL THREADS ...``, one JSON
line) and the library of the asv benchmarks in ``bench_inference.py``.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

MODELS = {
    "mnist": ((784, 128, 10), "float32"),
    "wide": ((784, 1024, 1024, 10), "float32"),
    "digits": ((64, 64, 10), "float64"),
}
BATCHES = (1, 64, 4096)
THREADS = (1, 2)
PEERS = ("fastmlp", "onnxruntime", "ort-spin", "torch", "numpy")
# --isa NAME: fastmlp's kernel set, OpenBLAS's (numpy, torch) and PyTorch's own. In the avx2
# mode every worker also hides AVX-512 from CPUID (hide_avx512.py: CPUID faulting), so that
# each peer runs what an AVX2-only host runs: onnxruntime's MLAS, which picks its kernels from
# CPUID alone, its AVX2 ones. Where that is not possible, onnxruntime keeps its AVX-512 kernels
# (a harder peer), and the header says so
ISA_ENV = {
    "avx2": {"FASTMLP_ISA": "avx2", "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
             "FASTMLP_BENCH_HIDE_AVX512": "1"},
    "avx512": {"FASTMLP_ISA": "avx512"},
    "portable": {"FASTMLP_ISA": "portable", "OPENBLAS_CORETYPE": "Prescott"},
}
PAUSE_S = 0.3


# ------------------------------------------------------------------------------------------
# the models and the peers' predict functions (shared with bench_inference.py)
# ------------------------------------------------------------------------------------------
def rows(name, n=max(BATCHES), seed=0):
    """n rows of inputs in [0, 1) for model ``name`` (its dtype, C-contiguous)."""
    sizes, dtype = MODELS[name]
    return np.random.default_rng(seed).random((n, sizes[0])).astype(dtype)


def fastmlp_model(name, activation="relu"):
    """The benchmark's fastmlp.MLP: He-initialised from seed 0, classes 0..9 learnt from
    one tiny fit (so it can be exported as a classifier), the same for every peer."""
    import warnings

    import fastmlp
    sizes, dtype = MODELS[name]
    out = "softmax" if activation == "relu" else "linear"
    net = fastmlp.MLP(list(sizes), activation=activation, output=out,
                      loss="cross_entropy" if out == "softmax" else "square", dtype=dtype,
                      seed=0)
    X = rows(name, 20, seed=1)
    y = np.arange(20) % sizes[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if out == "softmax":
            net.fit(X, y, epochs=1, batch_size=20, seed=0)
    if out != "softmax":         # the same weights as the softmax model, linear units
        ref = fastmlp_model(name)
        net.engine.theta[...] = ref.engine.theta
    return net


def ort_session(net, threads, spinning=False):
    """onnxruntime's session of net's exported graph. ``spinning=False`` sets
    ``session.intra_op.allow_spinning=0`` (its idle pool threads block instead of spinning);
    True keeps onnxruntime's default (they spin)."""
    import onnxruntime as ort

    import fastmlp.onnx
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if not spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(fastmlp.onnx.to_onnx(net).SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def predictor(peer, name, threads):
    """(f, net): ``f(x)`` returns the class probabilities of the rows x for ``peer``."""
    import fastmlp
    net = fastmlp_model(name)
    fastmlp.set_num_threads(threads)
    if peer == "fastmlp":
        return net.predict_proba, net
    if peer in ("onnxruntime", "ort-spin"):
        sess = ort_session(net, threads, spinning=peer == "ort-spin")
        out = ["probabilities"]
        return (lambda x: sess.run(out, {"X": x})[0]), net
    Ws = [np.array(W) for W in net.weights]
    bs = [np.array(b) for b in net.biases]
    if peer == "numpy":
        def forward(x):
            a = x
            for l, (W, b) in enumerate(zip(Ws, bs)):
                a = a @ W
                a += b
                if l < len(Ws) - 1:
                    np.maximum(a, 0, out=a)
            a -= a.max(axis=1, keepdims=True)
            np.exp(a, out=a)
            a /= a.sum(axis=1, keepdims=True)
            return a
        return forward, net
    if peer == "torch":
        import torch
        from torch import nn
        torch.set_num_threads(threads)
        tdt = torch.float64 if net.dtype == np.float64 else torch.float32
        layers = []
        for l, (W, b) in enumerate(zip(Ws, bs)):
            lin = nn.Linear(W.shape[0], W.shape[1]).to(tdt)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
            layers.append(lin)
            layers.append(nn.ReLU() if l < len(Ws) - 1 else nn.Softmax(dim=1))
        model = nn.Sequential(*layers).eval()

        def forward(x):
            with torch.inference_mode():
                return model(torch.from_numpy(x)).numpy()
        return forward, net
    raise ValueError(f"unknown peer {peer!r}")


# ------------------------------------------------------------------------------------------
# timing
# ------------------------------------------------------------------------------------------
def per_call(f, x, min_time, repeats, clock=time.perf_counter):
    """(median, min) over ``repeats`` runs of seconds per call of f(x), each run as many
    calls as last >= min_time (after a warm-up that also calibrates the count)."""
    f(x)
    n, t = 1, 0.0
    while True:
        t0 = clock()
        for _ in range(n):
            f(x)
        t = clock() - t0
        if t >= min_time / 4:
            break
        n *= 4
    n = max(1, int(n * min_time / max(t * 4, 1e-9)) + 1)
    runs = []
    for _ in range(repeats):
        t0 = clock()
        for _ in range(n):
            f(x)
        runs.append((clock() - t0) / n)
    return statistics.median(runs), min(runs)


def _hide_avx512():
    """benchmarks/hide_avx512.py, whether this file runs as a script, as a module or is loaded
    from its path"""
    try:
        from . import hide_avx512
    except ImportError:
        import importlib.util
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hide_avx512.py")
        spec = importlib.util.spec_from_file_location("hide_avx512", path)
        hide_avx512 = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(hide_avx512)
    return hide_avx512


def paired_worker(name, threads, batches, min_time, repeats):
    """fastmlp and onnxruntime (non-spinning: its idle threads block, as fastmlp's do, so
    neither slows the other) in ONE process, timed in turn: ``repeats`` pairs of runs per
    batch, which of the two goes first alternating. A host whose speed drifts over seconds
    (a shared VM) moves both runs of a pair alike, so the ratio of a pair is steadier than
    one of runs in separate processes seconds or minutes apart."""
    clock = time.thread_time if threads == 1 else time.perf_counter
    res = {"peer": "paired", "model": name, "threads": threads, "ratios": {},
           "clock": clock.__name__}
    cpuid = _hide_avx512().hide_if_asked()
    if cpuid:
        res["cpuid"] = cpuid
    f_fm, _ = predictor("fastmlp", name, threads)
    f_ort, _ = predictor("onnxruntime", name, threads)
    X = rows(name)
    for B in batches:
        x = np.ascontiguousarray(X[:B])
        ratios = []
        for i in range(repeats):
            pair = {}
            for who in (("fm", "ort") if i % 2 == 0 else ("ort", "fm")):
                pair[who] = per_call(f_fm if who == "fm" else f_ort, x, min_time, 1, clock)[0]
            ratios.append(pair["ort"] / pair["fm"])
        res["ratios"][B] = ratios
    return res


def worker(peer, name, threads, batches, min_time, repeats):
    """One peer's numbers for one model and thread count. On one thread every peer runs
    in the calling thread, so the clock is that thread's CPU time (time.thread_time): what
    else the machine runs does not count. On two threads it is wall time."""
    if peer == "paired":
        return paired_worker(name, threads, batches, min_time, repeats)
    clock = time.thread_time if threads == 1 else time.perf_counter
    res = {"peer": peer, "model": name, "threads": threads, "time": {}, "best": {},
           "clock": clock.__name__}
    cpuid = _hide_avx512().hide_if_asked()      # before fastmlp and onnxruntime load
    if cpuid:
        res["cpuid"] = cpuid
    f, net = predictor(peer, name, threads)
    X = rows(name)
    detail = {}

    def timed(g, x):
        return per_call(g, x, min_time, repeats, clock)

    for B in batches:
        x = np.ascontiguousarray(X[:B])
        if peer == "fastmlp":
            from fastmlp import _core
            c0 = _core.rounds_counts()
        res["time"][B], res["best"][B] = timed(f, x)
        if peer == "fastmlp":
            c1 = _core.rounds_counts()
            # the share of the timed rounds that a solo period ran on the calling thread alone
            posted, solo = c1["posted"] - c0["posted"], c1["solo"] - c0["solo"]
            alone = solo / (posted + solo) if posted + solo else None
            eng = net.engine
            fwd = timed(lambda v: eng.predict(v, n_threads=threads), x)
            A = [x] + [np.ones((B, W.shape[1]), net.dtype) for W in net.weights[:-1]]
            Ws = [np.array(W) for W in net.weights]
            gemm = timed(lambda v: [_core.gemm(a, W, n_threads=threads)
                                    for a, W in zip(A, Ws)], x)
            # the Python calls of those products, timed on 1x1 operands, are not the GEMM
            one = np.ones((1, 1), net.dtype)
            calls = timed(lambda v: [_core.gemm(one, one, n_threads=threads) for _ in Ws], x)
            detail[B] = {"forward": fwd[0], "gemm": max(gemm[0] - calls[0], 0.0),
                         "alone": alone}
        elif peer == "onnxruntime":
            lin = ort_session(fastmlp_model(name, activation="linear"), threads)
            detail[B] = {"linear": timed(lambda v: lin.run(None, {"X": v}), x)[0]}
    res["detail"] = detail
    try:
        from threadpoolctl import threadpool_info
        res["blas"] = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
                       for i in threadpool_info()]
    except ImportError:
        pass
    return res


# ------------------------------------------------------------------------------------------
# the table
# ------------------------------------------------------------------------------------------
def _available(peer):
    import importlib.util
    module = {"fastmlp": "fastmlp", "onnxruntime": "onnxruntime", "ort-spin": "onnxruntime",
              "torch": "torch", "numpy": "numpy"}[peer]
    if importlib.util.find_spec(module) is None:
        return False
    if module == "onnxruntime":
        return importlib.util.find_spec("onnx") is not None
    return True


def _env(threads):
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "BLIS_NUM_THREADS"):
        env[k] = str(threads)
    env.pop("PYTHONWARNINGS", None)
    if ISA:
        env.update(ISA_ENV[ISA])
    return env


def _run_worker(peer, name, threads, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", peer, name, str(threads),
           "--batches", ",".join(map(str, args.batches)), "--min-time", str(args.min_time),
           "--repeats", str(args.repeats)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=_env(threads))
    if out.returncode != 0:
        print(f"  {peer} {name} {threads}t failed: {out.stderr.strip().splitlines()[-1:]}",
              file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


ISA = None


def _show_config():
    """fastmlp's show_config() lines that name the machine and the kernels, as the
    workers see them (the --isa environment applies)."""
    code = ("import sys; sys.path.insert(0, %r); import hide_avx512; hide_avx512.hide_if_asked(); "
            "import fastmlp; fastmlp.show_config()" % os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_env(1)).stdout
    keep = ("cpu_features", "gemm_kernels", "gemm_blocks", "vecmath_kernels",
            "elementwise_clones")
    return "\n".join(l for l in out.splitlines() if l.strip().startswith(keep))


def _uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "(uptime not available)"


def _fmt_speed(B, t):
    if t is None:
        return "-"
    if B == 1:
        return f"{t * 1e6:.1f}us"
    r = B / t
    return f"{r / 1e6:.3g}M/s" if r >= 1e6 else f"{r / 1e3:.3g}k/s"


def _ratio(t_fm, t_peer):
    if t_fm is None or t_peer is None:
        return "-"
    return f"{t_peer / t_fm:.2f}"


def sweep(args):
    peers = [p for p in args.peers if _available(p)]
    missing = [p for p in args.peers if p not in peers]
    start = _uptime()
    print(f"inference benchmark  {start}")
    print(_show_config())
    if ISA:
        print(f"--isa {ISA}: " + " ".join(f"{k}={v}" for k, v in ISA_ENV[ISA].items()))
    if missing:
        print(f"not installed, skipped: {', '.join(missing)}")
    paired = args.paired and "fastmlp" in peers and "onnxruntime" in peers
    results = {}          # (peer, model, threads) -> list of worker results
    for r in range(args.rounds):
        order = peers[r % len(peers):] + peers[:r % len(peers)]
        for name in args.models:
            for threads in args.threads:
                for peer in order + (["paired"] if paired else []):
                    res = _run_worker(peer, name, threads, args)
                    if res is not None:
                        results.setdefault((peer, name, threads), []).append(res)
                    time.sleep(PAUSE_S)
    end = _uptime()
    cpuid = sorted({r["cpuid"] for runs in results.values() for r in runs if "cpuid" in r})
    if cpuid:
        print("CPUID in the workers: " + "; ".join(cpuid))

    def med(peer, name, threads, B, key="time", sub=None):
        runs = results.get((peer, name, threads))
        if not runs:
            return None
        if key in ("time", "best"):
            return statistics.median(r[key][str(B)] for r in runs)
        vals = [r["detail"][str(B)].get(sub) for r in runs]
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    _print_table(args, peers, med, "median")
    _print_table(args, peers, med, "best")
    if paired:
        _print_paired(args, results)
    print(f"end: {end}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"uptime": [start, end],
                       "runs": {"|".join(map(str, k)): v for k, v in results.items()}}, f,
                      indent=1)
    return results


def _print_table(args, peers, med, which):
    key = "time" if which == "median" else "best"
    head = ["model", "thr", "batch"] + peers + [f"fm/{p[:5]}" for p in peers[1:]] + \
        ["fm: overhead", "fm: gemm", "fm: epilogue", "fm alone", "ort: linear net"]
    table = []
    for name in args.models:
        for threads in args.threads:
            for B in args.batches:
                t = {p: med(p, name, threads, B, key) for p in peers}
                row = [name, str(threads), str(B)] + [_fmt_speed(B, t[p]) for p in peers]
                row += [_ratio(t["fastmlp"], t[p]) for p in peers[1:]]
                if "fastmlp" in peers:
                    tm = med("fastmlp", name, threads, B)
                    fwd = med("fastmlp", name, threads, B, "detail", "forward")
                    gemm = med("fastmlp", name, threads, B, "detail", "gemm")
                    alone = med("fastmlp", name, threads, B, "detail", "alone")
                    row += [f"{(tm - fwd) * 1e6:.1f}us", f"{gemm * 1e6:.1f}us",
                            f"{(fwd - gemm) * 1e6:.1f}us",
                            "-" if alone is None else f"{alone:.0%}"]
                else:
                    row += ["-"] * 4
                lin = med("onnxruntime", name, threads, B, "detail", "linear") \
                    if "onnxruntime" in peers else None
                row.append("-" if lin is None else f"{lin * 1e6:.1f}us")
                table.append(row)
    widths = [max(len(r[i]) for r in [head] + table) for i in range(len(head))]
    print()
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for row in table:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    print(f"\n{which}: " + ("the median of the runs" if which == "median" else
                            "the fastest run (an estimate for a quiet machine)") +
          f". Batch 1: microseconds per call; 64 and 4096: samples per second. fm/X: X's "
          f"time / fastmlp's (> 1: fastmlp faster). 1 thread: CPU time of the calling "
          f"thread; 2 threads: wall time. Over {args.rounds} round(s) of {args.repeats} runs "
          f"of >= {args.min_time} s. The why-columns are medians; fm alone: the share of "
          f"fastmlp's rounds of work that ran on the calling thread alone, in a solo period "
          f"(its helpers kept arriving late: a busy machine).\n")


def _print_paired(args, results):
    """The --paired table: per cell, the median of every pair's ratio over the rounds."""
    print("  model  thr  batch  fm/onnxr paired  pairs' range  pairs")
    for name in args.models:
        for threads in args.threads:
            runs = results.get(("paired", name, threads), [])
            for B in args.batches:
                r = [q for run in runs for q in run["ratios"][str(B)]]
                if not r:
                    continue
                print(f"{name:>7}  {threads:>3}  {B:>5}  {statistics.median(r):>15.2f}  "
                      f"{min(r):>5.2f}-{max(r):<6.2f}  {len(r):>5}")
    print("\npaired: fastmlp and onnxruntime (non-spinning) in one process per (model, "
          "threads), runs in turn; ratio = onnxruntime's time / fastmlp's per pair of runs "
          "(> 1: fastmlp faster), the median over every pair of every round.\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worker", nargs=3, metavar=("PEER", "MODEL", "THREADS"))
    p.add_argument("--models", type=lambda s: s.split(","), default=list(MODELS))
    p.add_argument("--threads", type=lambda s: [int(t) for t in s.split(",")],
                   default=list(THREADS))
    p.add_argument("--batches", type=lambda s: [int(b) for b in s.split(",")],
                   default=list(BATCHES))
    p.add_argument("--peers", type=lambda s: s.split(","), default=list(PEERS))
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--min-time", type=float, default=0.2)
    p.add_argument("--quick", action="store_true", help="one round, 3 runs of 0.05 s")
    p.add_argument("--json", default=None)
    p.add_argument("--paired", action="store_true",
                   help="also time fastmlp against non-spinning onnxruntime in one process, "
                        "in turn, and print the pairs' ratios (steadier on a drifting host)")
    p.add_argument("--isa", choices=sorted(ISA_ENV),
                   help="fastmlp with FASTMLP_ISA=ISA, numpy/torch with the matching "
                        "OPENBLAS_CORETYPE (and ATEN_CPU_CAPABILITY); for avx2, onnxruntime "
                        "with AVX-512 hidden from CPUID where the CPU allows")
    args = p.parse_args(argv)
    global ISA
    ISA = args.isa
    if args.worker:
        peer, name, threads = args.worker
        res = worker(peer, name, int(threads), args.batches, args.min_time, args.repeats)
        print(json.dumps(res))
        return 0
    if args.quick:
        args.rounds, args.repeats, args.min_time = 1, 3, 0.05
    for m in args.models:
        if m not in MODELS:
            p.error(f"unknown model {m!r}; choose from {list(MODELS)}")
    for peer in args.peers:
        if peer not in PEERS:
            p.error(f"unknown peer {peer!r}; choose from {list(PEERS)}")
    sweep(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
