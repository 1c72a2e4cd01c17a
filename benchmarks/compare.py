"""fastmlp against its peers, on the workloads of workloads.py (benchmarks/README.md), in ONE table.

    python benchmarks/compare.py                     # full run (a few minutes)
    python benchmarks/compare.py --quick             # <= ~60 s: fewer samples, shorter runs
    python benchmarks/compare.py --workloads xor,digits --json out.json
    python benchmarks/compare.py --quick --peers fastmlp --baseline /path/to/old/venv/bin/python
    python benchmarks/compare.py --isa avx2          # the AVX2 kernels against OpenBLAS's

Every peer (fastmlp, the careful NumPy MLP of numpy_mlp.py, fastmlp.reference, PyTorch, scikit-learn) and each GEMM runtime is
measured in its own subprocess, one after the other with a pause between, each limited to
2 threads: OpenBLAS's and libgomp's worker threads spin after each call, so runtimes must
never be interleaved call by call in one process.  Each number is the median of
``--repeats`` runs, each run a fresh model trained for as many whole epochs as make it last
at least ``--min-time`` seconds.  See benchmarks/README.md for what every column means.

This file is also the worker: ``compare.py --worker KIND ...`` runs one measurement of
compare_workers.py and prints one JSON line.  (No function here is named like an asv
benchmark.)
"""
import argparse
import copy
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

try:                                  # python -m benchmarks.compare / imported by asv
    from . import compare_workers as CW
    from . import hide_avx512
    from . import workloads as W
except ImportError:                   # python benchmarks/compare.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import compare_workers as CW  # noqa: E402
    import hide_avx512  # noqa: E402
    import workloads as W  # noqa: E402

THREADS = 2
PEERS = ["fastmlp", "numpy", "reference", "torch", "sklearn"]
PAUSE_S = 0.5
# --isa NAME: fastmlp's kernel set (FASTMLP_ISA) and the OpenBLAS kernel the NumPy peers get
# (OPENBLAS_CORETYPE), so that one machine measures a lower ISA against its OpenBLAS peer. In
# the avx2 mode every process also hides AVX-512 from CPUID where the CPU allows
# (hide_avx512.py), so that fastmlp's element-wise loops run their AVX2 clones too, and
# show_config() prints an AVX2-only host's cpu_features
ISA_ENV = {
    "avx2": {"FASTMLP_ISA": "avx2", "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
             hide_avx512.ENV: "1"},
    "avx512": {"FASTMLP_ISA": "avx512"},        # OpenBLAS picks its own kernel for the CPU
    "portable": {"FASTMLP_ISA": "portable", "OPENBLAS_CORETYPE": "Prescott"},
}
ISA = None


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def _installed(module):
    import importlib.util
    return importlib.util.find_spec(module) is not None


def _thread_env():
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[k] = str(THREADS)
    env.pop("PYTHONWARNINGS", None)
    if ISA:
        env.update(ISA_ENV[ISA])
    return env


def blas_kernels():
    """What threadpoolctl reports for the BLAS libraries NumPy loaded, in a subprocess with
    the workers' environment (so --isa's OPENBLAS_CORETYPE applies): e.g. 'openblas Haswell'."""
    code = ("import numpy, json\n"
            "try:\n"
            "    from threadpoolctl import threadpool_info\n"
            "    print(json.dumps([f\"{i.get('internal_api')} {i.get('architecture')} \"\n"
            "                      f\"({i.get('num_threads')} threads)\"\n"
            "                      for i in threadpool_info() if i.get('user_api') == 'blas']))\n"
            "except ImportError:\n"
            "    print(json.dumps(['threadpoolctl not installed']))\n")
    try:
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=_thread_env(), timeout=120)
        return ", ".join(json.loads(p.stdout.strip().splitlines()[-1]))
    except Exception as e:                     # noqa: BLE001 - a report line, never fatal
        return f"unknown ({e})"


def _fmt(x, unit=""):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    a = abs(x)
    if a >= 1e9:
        s = f"{x / 1e9:.3g}G"
    elif a >= 1e6:
        s = f"{x / 1e6:.3g}M"
    elif a >= 1e4:
        s = f"{x / 1e3:.3g}k"
    elif a >= 100:
        s = f"{x:.0f}"
    else:
        s = f"{x:.3g}"
    return s + unit


def _alone(rounds):
    """the share of a run's rounds that ran alone in a solo period ('-': no rounds)"""
    if not rounds or rounds.get("posted", 0) + rounds.get("solo", 0) == 0:
        return "-"
    return f"{rounds['solo'] / (rounds['posted'] + rounds['solo']):.0%}"


def _ratio(a, b):
    if not a or not b or not all(map(math.isfinite, (a, b))):
        return "-"
    r = a / b
    return f"{r:.3g}x" if r < 100 else f"{r:.0f}x"


def _spread_mark(r):
    """'~' when the runs behind a median spread by more than 25 % (a noisy number)."""
    rates = r.get("rounds_rate") or r.get("rates") or []
    return "~" if len(rates) > 1 and max(rates) > 1.25 * min(rates) else ""


def _rotated(items, r):
    """items in round r's order: each round starts with the next one"""
    k = r % len(items) if items else 0
    return items[k:] + items[:k]


def _paired(xs, ys):
    """the median of the ratios x/y of the rounds that have both (None: none has)"""
    ratios = [x / y for x, y in zip(xs or [], ys or []) if x and y and math.isfinite(x / y)]
    return statistics.median(ratios) if ratios else None


def _round_ratio(a, b, field):
    """a's number over b's (entries of a merged result) as a table cell: the median of the
    rounds' paired ratios where there were rounds, else the ratio of the two numbers"""
    paired = _paired(a.get("rounds_" + field), b.get("rounds_" + field))
    return _ratio(paired, 1.0) if paired is not None else _ratio(a.get(field), b.get(field))


def _merge_rounds(results, pick):
    """One result from the same worker's results of several rounds: each number that
    ``pick(result)`` yields as (key, entry, field) becomes the median of its rounds' values
    (entry[field]), with the per-round values in entry['rounds_' + field]; the other fields
    are the first round's. Rounds that failed are left out."""
    ok = [r for r in results if r and "error" not in r]
    if not ok:
        return results[0] if results else {"error": "no result"}
    if len(ok) == 1:
        return ok[0]
    merged = copy.deepcopy(ok[0])
    values = {}
    for r in ok:
        for key, entry, field in pick(r):
            values.setdefault((key, field), []).append(entry.get(field))
    for key, entry, field in pick(merged):
        xs = [x for x in values.get((key, field), []) if x is not None]
        if xs:
            entry[field] = statistics.median(xs)
            entry["rounds_" + field] = xs
    return merged


def _train_numbers(res):
    for name, per in res.items():
        if name.startswith("_") or not isinstance(per, dict):
            continue
        for v, entry in per.items():
            if isinstance(entry, dict) and "rate" in entry:
                yield (name, v), entry, "rate"


def _gemm_numbers(res):
    for part, field in (("big", "gflops"), ("small", "us_per_call")):
        for key, entry in (res.get(part) or {}).items():
            if isinstance(entry, dict) and field in entry:
                yield (part, key), entry, field


def _table(header, rows, align=None):
    cols = list(zip(*([header] + rows))) if rows else [[h] for h in header]
    widths = [max(len(str(c)) for c in col) for col in cols]
    align = align or ["<"] + [">"] * (len(header) - 1)
    line = lambda r: "  ".join(f"{str(c):{a}{w}}" for c, a, w in zip(r, align, widths))
    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def _run_worker(args, timeout=900, python=None):
    """Run ``compare.py --worker ...`` in a fresh interpreter (``python``: another one, e.g.
    a virtual environment holding a previous build); return its JSON (or an error)."""
    cmd = [python or sys.executable, os.path.abspath(__file__), "--threads", str(THREADS),
           "--worker"]
    cmd += [str(a) for a in args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=_thread_env(),
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    finally:
        time.sleep(PAUSE_S)          # let every spinning pool of the finished peer go quiet
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {p.returncode}: " + " | ".join(tail)}
    return json.loads(lines[-1])


# ------------------------------------------------------------------------------------------
# the driver
# ------------------------------------------------------------------------------------------
def show_config():
    import fastmlp
    lines = [f"python {platform.python_version()} on {platform.machine()}, "
             f"{os.cpu_count()} CPUs; every runtime limited to {THREADS} threads"]
    if hasattr(fastmlp, "show_config"):
        import contextlib
        import io
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            r = fastmlp.show_config()
        lines.append(buf.getvalue().rstrip() or str(r))
        cfg = r if isinstance(r, dict) else None
    else:
        from fastmlp import _core
        cfg = _core.config()
        lines.append("fastmlp " + getattr(fastmlp, "__version__", "?") + ": " +
                     ", ".join(f"{k}={v}" for k, v in cfg.items()))
    vers = []
    for mod in ("numpy", "torch", "sklearn"):
        if _installed(mod):
            try:
                from importlib.metadata import version
                vers.append(f"{mod} {version({'sklearn': 'scikit-learn'}.get(mod, mod))}")
            except Exception:
                vers.append(mod)
        else:
            vers.append(f"{mod}: not installed")
    lines.append("peers: " + ", ".join(vers))
    lines.append("NumPy's BLAS kernel (threadpoolctl, in the workers): " + blas_kernels())
    fm_path = "fastmlp.MLP.fit" if W.has_mlp() else "Engine.train_epochs (no fastmlp.MLP yet)"
    lines.append(f"fastmlp column measures {fm_path}")
    return "\n".join(lines), cfg


def baseline_section(python, names, train, repeats, min_time, extra, pairs=2):
    """This build against another one, measured in the same run: ``pairs`` pairs of fastmlp
    worker runs, new and baseline in turn (the order swapped every pair, so neither side
    always runs first). The table gives, per workload, the medians of each side and the
    median of the pairs' ratios new/baseline (> 1: this build is faster): a ratio of two runs
    taken seconds apart cancels the slow drifts of a shared machine that a ratio of medians
    keeps."""
    runs = {"new": [], "baseline": []}
    for i in range(max(1, pairs)):
        for who in (("new", "baseline") if i % 2 else ("baseline", "new")):
            res = _run_worker(["train", "fastmlp", ",".join(names), "--repeats", repeats,
                               "--min-time", min_time] + extra,
                              python=None if who == "new" else python)
            runs[who].append(res)

    def rate(r, name, v):
        ok = r and "error" not in r and "rate" in r.get(name, {}).get(v, {})
        return r[name][v]["rate"] if ok else None

    rows = []
    for name in names:
        row = [name]
        for v in ("fastmlp", "engine"):
            rates = {who: [rate(r, name, v) for r in runs[who]] for who in runs}
            med = {who: statistics.median([x for x in xs if x]) if any(xs) else None
                   for who, xs in rates.items()}
            pair = [n / b for n, b in zip(rates["new"], rates["baseline"]) if n and b]
            row += [_fmt(med["new"]), _fmt(med["baseline"]),
                    f"{statistics.median(pair):.3g}x" if pair else "-"]
        rows.append(row)
    print(f"\nThis build against the baseline ({python}), same run, {len(runs['new'])} pairs of "
          f"worker runs; new/base: the median of the pairs' ratios, > 1: faster")
    print(_table(["workload", "fastmlp", "base", "new/base", "engine", "base", "new/base"],
                 rows))
    return runs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer samples, shorter runs")
    ap.add_argument("--workloads", default=",".join(W.NAMES),
                    help="comma-separated subset of " + ",".join(W.NAMES))
    ap.add_argument("--peers", default=",".join(PEERS), help="subset of " + ",".join(PEERS))
    ap.add_argument("--json", metavar="PATH", help="also write every number to PATH")
    ap.add_argument("--repeats", type=int, default=None, help="runs per number (default 3)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="rounds of the training and GEMM workers, the peers in turn; with "
                         "more than 1, every number is the median of the rounds' and each "
                         "ratio the median of the rounds' ratios (for a noisy machine)")
    ap.add_argument("--min-time", type=float, default=None,
                    help="seconds per measured run (default 0.3, --quick 0.1)")
    ap.add_argument("--threads", type=int, default=2,
                    help="threads for every runtime (default 2, the machine's cores)")
    ap.add_argument("--no-gemm", action="store_true", help="skip the GEMM section")
    ap.add_argument("--gemm-paired", type=int, default=0, metavar="N",
                    help="the GEMM section in one process: per shape, N runs of fastmlp and "
                         "of NumPy in turn, each after 0.2 s idle (so neither library's "
                         "idle threads take the other's core); ratios are the pairs' medians")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory line")
    ap.add_argument("--baseline", metavar="PYTHON",
                    help="an interpreter with another fastmlp build (e.g. the previous "
                         "commit's, in its own venv): its fastmlp and engine columns are "
                         "measured in the same run, alternating with this build's, and "
                         "printed as new/baseline ratios")
    ap.add_argument("--baseline-pairs", type=int, default=3, metavar="N",
                    help="pairs of worker runs (new, baseline) for --baseline (default 3)")
    ap.add_argument("--isa", choices=sorted(ISA_ENV),
                    help="run fastmlp with FASTMLP_ISA=ISA and NumPy with the matching "
                         "OPENBLAS_CORETYPE (avx2: Haswell), to measure a lower kernel set "
                         "against OpenBLAS's kernels for it on this machine")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    global THREADS, ISA
    if a.isa:
        ISA = a.isa
        os.environ.update(ISA_ENV[a.isa])     # this process's show_config() reports it too
    cpuid = hide_avx512.hide_if_asked()       # before fastmlp is imported (every process)
    THREADS = CW.THREADS = max(1, a.threads)
    repeats = max(1, a.repeats or 3)
    min_time = a.min_time or (0.1 if a.quick else 0.3)

    if a.worker:                                   # ----- inside a subprocess
        kind, rest = a.worker[0], a.worker[1:]
        if kind == "train":
            res = CW.worker_train(rest[0], rest[1].split(","), a.quick, min_time, repeats)
        elif kind == "gemm":
            res = CW.worker_gemm(rest[0], a.quick, min_time / 2, repeats)
        elif kind == "gemm-paired":
            res = CW.worker_gemm_paired(a.quick, min_time / 2, int(rest[0]), 0.2)
        elif kind == "mkdata":
            res = CW.worker_mkdata(rest[0], rest[1])
        elif kind == "mem":
            res = CW.worker_mem(rest[0], rest[1], rest[2])
        else:
            raise SystemExit(f"unknown worker {kind}")
        print(json.dumps(res))
        return 0

    names = [s.strip() for s in a.workloads.split(",") if s.strip()]
    bad = [n for n in names if n not in W.WORKLOADS]
    if bad:
        ap.error(f"unknown workload(s) {bad}; expected a subset of {W.NAMES}")
    peers = [p.strip() for p in a.peers.split(",") if p.strip()]
    bad = [p for p in peers if p not in PEERS]
    if bad:
        ap.error(f"unknown peer(s) {bad}; expected a subset of {PEERS}")
    mods = {"torch": "torch", "sklearn": "sklearn"}
    missing = [p for p in peers if p in mods and not _installed(mods[p])]
    peers = [p for p in peers if p not in missing]

    t_start = time.perf_counter()
    header, cfg = show_config()
    print(header)
    if cpuid:
        print(f"CPUID: {cpuid} (in this process and in every worker)")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
          + f" (on {os.cpu_count()} CPUs: anything else running skews every number)")
    if missing:
        print("not installed, skipped: " + ", ".join(missing))
    mode = "quick" if a.quick else "full"
    print(f"mode {mode}: medians of {repeats} runs, each >= {min_time:g} s; "
          f"one subprocess per peer" + (f", {a.rounds} rounds of them in turn"
                                        if a.rounds > 1 else "") + "\n", flush=True)
    result = {"mode": mode, "repeats": repeats, "min_time": min_time, "threads": THREADS,
              "config": cfg, "header": header, "workloads": {}, "gemm": {}, "memory": {},
              "restarts": None}

    # ---- training throughput: one subprocess per peer (and round) ----------------------
    rounds = max(1, a.rounds)
    train_rounds = {p: [] for p in peers}
    extra = ["--quick"] if a.quick else []
    for r in range(rounds):
        for p in _rotated(peers, r):
            t0 = time.perf_counter()
            load = os.getloadavg()[0]
            res = _run_worker(["train", p, ",".join(names), "--repeats", repeats,
                               "--min-time", min_time] + extra)
            res["_load"] = load
            print(f"  [{p}{f' round {r + 1}' if rounds > 1 else ''}: "
                  f"{time.perf_counter() - t0:.1f} s, load average before {load:.2f}]",
                  file=sys.stderr, flush=True)
            train_rounds[p].append(res)
    train = {p: _merge_rounds(train_rounds[p], _train_numbers) for p in peers}
    result["rounds"] = rounds
    if a.baseline:
        result["baseline"] = baseline_section(a.baseline, names, train, repeats, min_time,
                                              extra, a.baseline_pairs)
    restarts = (train.get("fastmlp") or {}).get("_restarts")

    cols = [p for p in ["fastmlp", "engine", "numpy", "reference", "torch", "sklearn"]
            if p in peers or (p == "engine" and "fastmlp" in peers and W.has_mlp())]
    rows, loss_rows = [], []
    for name in names:
        w = W.WORKLOADS[name]
        rec = {}
        for p in cols:
            src = train.get("fastmlp" if p == "engine" else p, {})
            r = src.get(name, {}).get(p) if "error" not in src else src
            rec[p] = r or {"error": "no result"}
        result["workloads"][name] = rec
        rate = {p: rec[p].get("rate") for p in cols}
        fm = rate.get("fastmlp")
        n = next((rec[p]["n_samples"] for p in cols if "n_samples" in rec[p]), "-")
        row = [name, w.unit, n] + [_fmt(rate[p]) + _spread_mark(rec[p]) for p in cols]
        row += [_round_ratio(rec["fastmlp"], rec[p], "rate") for p in cols
                if p not in ("fastmlp", "engine")]
        rows.append(row)
        lo = {p: rec[p].get("loss") for p in cols}
        gap = "-"
        if lo.get("fastmlp") is not None and lo.get("reference") is not None:
            gap = f"{abs(lo['fastmlp'] - lo['reference']) / max(abs(lo['reference']), 1e-300):.1e}"
        loss_rows.append([name] + [f"{lo[p]:.6g}" if lo[p] is not None else "-" for p in cols]
                         + [gap])
    ratio_cols = [f"fm/{p[:5]}" for p in cols if p not in ("fastmlp", "engine")]
    print("Training throughput (median samples/s; xor: steps/s); fm/X = fastmlp / X, "
          ">1 means fastmlp is faster; ~ = runs spread > 25 %" +
          (f"\n{rounds} rounds, the peers' processes in turn: each number is the median of "
           "the rounds' medians, fm/X the median of the rounds' ratios, ~ the rounds' spread"
           if rounds > 1 else ""))
    print(_table(["workload", "unit", "samples"] + cols + ratio_cols, rows))
    errors = [(n, p, result["workloads"][n][p]["error"]) for n in names for p in cols
              if "error" in result["workloads"][n][p]]
    for n, p, e in errors:
        print(f"  ! {n}/{p}: {e}")
    print("\nSanity: mean training loss of a fresh fit of 1 epoch (xor: "
          f"{W.check_epochs('xor')} steps), samples in stored order. fastmlp, engine and "
          "reference share\ninit and batches, so they must agree (|fm-ref|/ref); torch and "
          "sklearn use their own init (sklearn's square loss is halved)")
    print(_table(["workload"] + cols + ["|fm-ref|/ref"], loss_rows))

    # ---- GEMM: one subprocess per runtime ---------------------------------------------
    numpy_sgemm = None
    if not a.no_gemm or "wide" in names:
        g_rounds = {"fastmlp": [], "numpy": []}
        if a.gemm_paired > 0:
            both = _run_worker(["gemm-paired", a.gemm_paired, "--min-time", min_time]
                               + (["--quick"] if a.quick else []))
            g_rounds = {rt: [both.get(rt, both)] for rt in g_rounds}
        for r in range(rounds if a.gemm_paired <= 0 else 0):
            for rt in _rotated(["fastmlp", "numpy"], r):
                t0 = time.perf_counter()
                extra = ["--quick"] if a.quick else []
                g_rounds[rt].append(_run_worker(["gemm", rt, "--repeats", repeats,
                                                 "--min-time", min_time] + extra))
                print(f"  [gemm {rt}{f' round {r + 1}' if rounds > 1 else ''}: "
                      f"{time.perf_counter() - t0:.1f} s]", file=sys.stderr, flush=True)
        g = {rt: _merge_rounds(v, _gemm_numbers) for rt, v in g_rounds.items()}
        result["gemm"] = g
        try:
            numpy_sgemm = g["numpy"]["big"]["square 2048 float32"]["gflops"]
        except (KeyError, TypeError):
            numpy_sgemm = None

    if "wide" in names:
        w = W.WORKLOADS["wide"]
        r = result["workloads"]["wide"]
        print(f"\nwide: achieved GFLOP/s = 6 x {w.n_params} parameters x samples/s; "
              f"NumPy float32 matmul 2048x2048 in this run: {_fmt(numpy_sgemm)} GFLOP/s")
        grow = []
        for p in cols:
            rate = r[p].get("rate")
            gf = rate * w.flops_per_sample / 1e9 if rate else None
            r[p]["gflops"] = gf
            grow.append([p, _fmt(gf), _ratio(gf, numpy_sgemm) if gf else "-"])
        print(_table(["peer", "GFLOP/s", "/ numpy sgemm"], grow))
        result["numpy_sgemm_2048_gflops"] = numpy_sgemm

    if not a.no_gemm and result["gemm"]:
        g = result["gemm"]
        if "error" in g.get("fastmlp", {}) or "error" in g.get("numpy", {}):
            print(f"\nGEMM section failed: {g.get('fastmlp', {}).get('error')} "
                  f"{g.get('numpy', {}).get('error')}")
        else:
            rows = []
            for key, f in g["fastmlp"]["big"].items():
                nmp = g["numpy"]["big"][key]
                label, dt = key.rsplit(" ", 1)
                rows.append([label, dt, f"{f['gflops']:.1f}", f"{nmp['gflops']:.1f}",
                             _round_ratio(f, nmp, "gflops"), _alone(f.get("rounds"))])
            if a.gemm_paired > 0:
                print(f"\nGEMM in one process: per shape, {a.gemm_paired} runs of each in "
                      "turn, each after 0.2 s idle; fm/numpy and speedup are the medians "
                      "of the pairs' ratios")
            print("\nGEMM GFLOP/s (median): fastmlp._core.gemm vs numpy.matmul; "
                  "wide's layers at batch 256 as NN (forward), TN (dW), NT (delta W^T). "
                  "fm alone: the share of fastmlp's rounds that a solo period ran on one "
                  "thread (its helpers missed rounds: a busy or descheduled core; "
                  "README, threads on a shared machine)")
            print(_table(["shape", "dtype", "fastmlp", "numpy", "fm/numpy", "fm alone"],
                         rows))
            rows = []
            for key, f in g["fastmlp"]["small"].items():
                nmp = g["numpy"]["small"][key]
                label, dt = key.rsplit(" ", 1)
                rows.append([label, dt, f"{f['us_per_call']:.2f}", f"{nmp['us_per_call']:.2f}",
                             _round_ratio(nmp, f, "us_per_call")])
            print("\nSmall GEMM, time per call in us (median, Python call included); "
                  "ratio = numpy time / fastmlp time, >1 means fastmlp is faster")
            print(_table(["shape (MxK.KxN)", "dtype", "fastmlp us", "numpy us", "speedup"],
                         rows))

    # ---- each workload's step against the GEMM peak of this run ------------------------
    if not a.no_gemm and result["gemm"] and "error" not in result["gemm"].get("fastmlp", {}):
        big = result["gemm"]["fastmlp"]["big"]
        peak = {dt: max((v["gflops"] for k, v in big.items() if k.endswith(" " + dt)),
                        default=None) for dt in ("float32", "float64")}
        result["gemm_peak_gflops"] = peak
        rows = []
        for name in names:
            w = W.WORKLOADS[name]
            rate = (result["workloads"][name].get("fastmlp") or {}).get("rate")
            pk = peak.get(w.dtype)
            if not rate or not pk:
                continue
            samples = rate * (w.batch if w.unit == "steps/s" else 1)   # samples/s
            step_us = w.batch / samples * 1e6
            gf = samples * w.flops_per_sample / 1e9
            result["workloads"][name]["fastmlp"]["peak_fraction"] = gf / pk
            rows.append([name, w.dtype, w.batch, f"{w.flops_per_sample * w.batch / 1e6:.3g}",
                         f"{step_us:.3g}", f"{gf:.3g}", f"{pk:.3g}", f"{100 * gf / pk:.1f} %"])
        print(f"\nEach fit step against the best {THREADS}-thread GEMM of this run (fastmlp's "
              f"square products, same dtype): flops = 6 x weights x batch")
        print(_table(["workload", "dtype", "batch", "Mflop/step", "us/step", "GFLOP/s",
                      "GEMM peak", "of peak"], rows))

    # ---- memory: wide, one fit epoch in a fresh process ---------------------------------
    if not a.no_memory and "wide" in names:
        est = CW.memory_estimate("wide")
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "wide.npz")
            mk = _run_worker(["mkdata", "wide", path])
            mem = {}
            for v in ("fastmlp", "reference"):
                mem[v] = (_run_worker(["mem", v, "wide", path]) if "error" not in mk else mk)
        result["memory"] = {"estimate": est, "measured": mem}
        MB = 1 << 20
        print(f"\nMemory, wide (one epoch of fit, {W.WORKLOADS['wide'].n_samples} samples, "
              f"fresh process, data loaded from .npz): needed = data {est['data'] / MB:.1f} MB "
              f"+ one-hot targets {est['targets'] / MB:.1f} + parameters "
              f"{est['params'] / MB:.1f} + gradient {est['grad'] / MB:.1f} + optimiser "
              f"{est['optimizer'] / MB:.1f} + one batch's z/a/delta "
              f"{est['activations'] / MB:.1f} = {est['total'] / MB:.1f} MB")
        rows = []
        beyond = est["total"] - est["data"]
        for v, m in mem.items():
            if "error" in m:
                rows.append([v, "-", "-", "-", m["error"][:60]])
                continue
            grow = m["peak"] - m["rss_before"]
            rows.append([v, f"{m['peak'] / MB:.1f}", f"{m['rss_before'] / MB:.1f}",
                         f"{grow / MB:.1f}", f"{grow / beyond:.2f}"])
        print(f"needed beyond the data: {beyond / MB:.1f} MB; growth = peak RSS during fit "
              f"- RSS before fit (imports + data)")
        print(_table(["fit", "peak RSS MB", "RSS before fit MB", "growth MB",
                      "growth/needed"], rows))

    # ---- parallel restarts --------------------------------------------------------------
    if restarts:
        result["restarts"] = restarts
        if "error" in restarts:
            print(f"\nrestarts: {restarts['error']}")
        else:
            print(f"\nParallel restarts ({restarts['workload']}, {restarts['epochs']} epochs): "
                  f"fit(restarts=4, n_threads={THREADS}) {restarts['parallel_s']:.3f} s vs "
                  f"4 sequential fits {restarts['sequential_s']:.3f} s -> "
                  f"{restarts['sequential_s'] / restarts['parallel_s']:.2f}x")
    elif "fastmlp" in peers:
        print("\nParallel restarts: MLP.fit(restarts=...) not available in this build")

    total = time.perf_counter() - t_start
    print(f"\ntotal {total:.1f} s; load average at end: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    result["total_s"] = total
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1, default=str)
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
