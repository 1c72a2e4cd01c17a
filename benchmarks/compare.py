"""fastmlp against its peers, on the workloads of workloads.py (benchmarks/README.md), in ONE table.

    python benchmarks/compare.py                     # full run (a few minutes)
    python benchmarks/compare.py --quick             # <= ~60 s: fewer samples, shorter runs
    python benchmarks/compare.py --workloads xor,digits --json out.json
    python benchmarks/compare.py --quick --peers fastmlp --baseline /path/to/old/venv/bin/python

Every peer (fastmlp, the careful NumPy MLP of numpy_mlp.py, fastmlp.reference, PyTorch, scikit-learn) and each GEMM runtime is
measured in its own subprocess, one after the other with a pause between, each limited to
2 threads: OpenBLAS's and libgomp's worker threads spin after each call, so runtimes must
never be interleaved call by call in one process.  Each number is the median of
``--repeats`` runs, each run a fresh model trained for as many whole epochs as make it last
at least ``--min-time`` seconds.  See benchmarks/README.md for what every column means.

This file is also the worker: ``compare.py --worker KIND ...`` runs one measurement and
prints one JSON line.  (No function here is named like an asv benchmark.)
"""
import argparse
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
    from . import workloads as W
except ImportError:                   # python benchmarks/compare.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import workloads as W  # noqa: E402

THREADS = 2
PEERS = ["fastmlp", "numpy", "reference", "torch", "sklearn"]
PAUSE_S = 0.5


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
    return env


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


def _ratio(a, b):
    if not a or not b or not all(map(math.isfinite, (a, b))):
        return "-"
    r = a / b
    return f"{r:.3g}x" if r < 100 else f"{r:.0f}x"


def _spread_mark(r):
    """'~' when the runs behind a median spread by more than 25 % (a noisy number)."""
    rates = r.get("rates") or []
    return "~" if len(rates) > 1 and max(rates) > 1.25 * min(rates) else ""


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


def _median_rate(fn, work, min_time, repeats, max_scale=10 ** 7):
    """Calibrate a scale s so one fn(s) call lasts >= min_time, then time ``repeats`` calls.

    fn(s) runs s units (epochs, calls) and returns a value (a loss, or None); ``work(s)`` is
    the number of items (samples, steps, flops) that s units process.  Returns a dict with
    the median items/s and per-run details.  One fn(1) call first is the warm-up.
    """
    fn(1)                            # warm-up: first-call costs (imports, pools, caches)
    s = 1
    while True:
        t0 = time.perf_counter()
        fn(s)
        t = time.perf_counter() - t0
        if t >= min_time / 3 or s >= max_scale:
            break
        s = min(max_scale, s * max(2, min(64, int(min_time / 3 / max(t, 1e-7)) + 1)))
    s = max(1, min(max_scale, math.ceil(s * min_time / max(t, 1e-9))))
    times, values = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        v = fn(s)
        times.append(time.perf_counter() - t0)
        values.append(v)
    rates = [work(s) / t for t in times]
    return {"rate": statistics.median(rates), "rates": rates, "times": times, "scale": s,
            "values": values}


# ------------------------------------------------------------------------------------------
# workers (each runs in its own process)
# ------------------------------------------------------------------------------------------
def worker_train(peer, names, quick, min_time, repeats):
    import numpy as np
    if peer == "torch":
        import torch
        torch.set_num_threads(THREADS)
    if peer == "fastmlp":
        from fastmlp import _core
        _core.set_num_threads(THREADS)
    datasets = {n: W.get_data(n, W.WORKLOADS[n].quick_samples if quick else None)
                for n in names}
    time.sleep(0.3)                  # data generation may have woken BLAS threads
    out = {}
    variants = [peer] + (["engine"] if peer == "fastmlp" and W.has_mlp() else [])
    for name in names:
        w = W.WORKLOADS[name]
        X, y, Y = datasets[name]
        n = X.shape[0]
        steps = math.ceil(n / w.batch)
        work = (lambda e: e * steps) if name == "xor" else (lambda e: e * n)
        for v in variants:
            fit = W.FITTERS[v]
            kw = {"tensors": W.torch_tensors(w, X, y, Y)} if v == "torch" else {}
            fn = lambda e, fit=fit, kw=kw, sh=True: fit(w, X, y, Y, e, shuffle=sh, **kw)
            try:
                r = _median_rate(fn, work, min_time, repeats)
                r.pop("values")
                r["epochs"] = r.pop("scale")
                if not quick or v in ("fastmlp", "engine", "numpy", "reference"):
                    r["loss"] = float(fn(W.check_epochs(name), sh=False))
                r["n_samples"] = n
            except Exception as exc:          # report, do not stop the whole table
                r = {"error": f"{type(exc).__name__}: {exc}"}
            out.setdefault(name, {})[v] = r
    if peer == "fastmlp":
        out["_restarts"] = restarts_line(quick, min_time, repeats)
    return out


def restarts_line(quick, min_time, repeats):
    """MLP.fit(restarts=4, n_threads=2) vs 4 sequential single fits, on `digits`."""
    if not W.has_mlp():
        return None
    import inspect
    import fastmlp
    try:
        params = inspect.signature(fastmlp.MLP.fit).parameters
    except (TypeError, ValueError):
        return None
    if "restarts" not in params:
        return None
    w = W.WORKLOADS["digits"]
    X, y, _ = W.get_data("digits")
    epochs = 20 if quick else 50

    def par():
        net = W.make_mlp(w)
        kw = {"n_threads": THREADS} if "n_threads" in params else {}
        net.fit(X, y, optimizer=fastmlp.optim.SGD(lr=w.lr), batch_size=w.batch,
                epochs=epochs, restarts=4, **kw)

    def seq():
        for k in range(4):
            net = W.make_mlp(w, seed=k)
            net.fit(X, y, optimizer=fastmlp.optim.SGD(lr=w.lr), batch_size=w.batch,
                    epochs=epochs)
    try:
        tp, ts = [], []
        par(), seq()
        for _ in range(repeats):
            t0 = time.perf_counter(); par(); tp.append(time.perf_counter() - t0)
            t0 = time.perf_counter(); seq(); ts.append(time.perf_counter() - t0)
        return {"workload": "digits", "epochs": epochs, "parallel_s": statistics.median(tp),
                "sequential_s": statistics.median(ts)}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def gemm_cases(quick):
    cases = []
    for dt in ("float32", "float64"):
        for s in W.SQUARE_SHAPES:
            if quick and s > 1024 and dt == "float64":
                continue                  # ~0.2 s a call; the float32 one is needed for `wide`
            cases.append((f"square {s}", s, s, s, False, False, dt))
        if quick and dt == "float64":
            continue                      # --quick: wide's layer shapes in float32 only
        for label, M, N, K, ta, tb in W.wide_gemm_shapes():
            cases.append((label, M, N, K, ta, tb, dt))
    small = [(f"{m}x{k}.{k}x{n}", m, n, k, False, False, dt)
             for dt in ("float32", "float64") for (m, k, n) in W.SMALL_SHAPES]
    return cases, small


def worker_gemm(runtime, quick, min_time, repeats):
    import numpy as np
    if runtime == "fastmlp":
        from fastmlp import _core
        call = lambda A, B, ta, tb, C: _core.gemm(A, B, ta, tb, 1.0, 0.0, C, THREADS)
    else:
        call = lambda A, B, ta, tb, C: np.matmul(A.T if ta else A, B.T if tb else B, out=C)
    big, small = gemm_cases(quick)
    out = {"big": {}, "small": {}}
    for kind, cases in (("big", big), ("small", small)):
        for label, M, N, K, ta, tb, dt in cases:
            A, B, C = W.gemm_operands(M, N, K, ta, tb, dt)

            def fn(s, A=A, B=B, ta=ta, tb=tb, C=C):
                for _ in range(s):
                    call(A, B, ta, tb, C)
            r = _median_rate(fn, lambda s, M=M, N=N, K=K: 2.0 * M * N * K * s,
                             min_time, repeats)
            out[kind][f"{label} {dt}"] = {"gflops": r["rate"] / 1e9,
                                         "us_per_call": 1e6 * statistics.median(r["times"])
                                         / r["scale"]}
    return out


def worker_mkdata(name, path):
    import numpy as np
    X, y, Y = W.get_data(name)
    np.savez(path, X=X, y=y, Y=Y)
    return {"path": path}


def _rss_now():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def worker_mem(variant, name, path):
    """Peak RSS of one epoch of fit on data loaded from ``path`` (no generator temporaries)."""
    import resource
    import numpy as np
    import fastmlp  # noqa: F401  (import cost is in the baseline, not the fit)
    if variant == "torch":
        import torch
        torch.set_num_threads(THREADS)
    d = np.load(path)
    X, y, Y = d["X"], d["y"], d["Y"]
    w = W.WORKLOADS[name]
    before_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    before = _rss_now()
    W.FITTERS[variant](w, X, y, Y, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"rss_before": before, "peak_before": before_peak, "peak": peak}


def memory_estimate(name):
    """Bytes a training run must hold: data + parameters (+ gradient) + optimiser state +
    one batch's activations (z, a and delta of every layer, batch x N_l each)."""
    w = W.WORKLOADS[name]
    isz = 4 if w.dtype == "float32" else 8
    n = w.n_samples
    data = n * w.sizes[0] * isz + n * 8          # X + labels (int64)
    targets = n * w.sizes[-1] * isz              # one-hot Y, if the model builds one
    params = w.n_params * isz
    grad = w.n_params * isz
    opt = 0                                      # plain SGD: no state
    acts = 3 * w.batch * sum(w.sizes[1:]) * isz  # z, a, delta per layer
    return {"data": data, "targets": targets, "params": params, "grad": grad,
            "optimizer": opt, "activations": acts,
            "total": data + targets + params + grad + opt + acts}


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
    fm_path = "fastmlp.MLP.fit" if W.has_mlp() else "Engine.train_epochs (no fastmlp.MLP yet)"
    lines.append(f"fastmlp column measures {fm_path}")
    return "\n".join(lines), cfg


def baseline_section(python, names, train, repeats, min_time, extra):
    """This build against another one, measured in the same run: the fastmlp worker runs
    three times, alternating new / baseline / new / baseline; the table gives the ratio of
    the medians new/baseline per workload (> 1: this build is faster)."""
    runs = {"new": [train.get("fastmlp")] if "fastmlp" in train else [], "baseline": []}
    order = ["baseline", "new", "baseline"] if runs["new"] else ["new", "baseline"] * 2
    for who in order:
        res = _run_worker(["train", "fastmlp", ",".join(names), "--repeats", repeats,
                           "--min-time", min_time] + extra,
                          python=None if who == "new" else python)
        runs[who].append(res)
    rows = []
    for name in names:
        row = [name]
        for v in ("fastmlp", "engine"):
            rates = {who: [r[name][v]["rate"] for r in runs[who]
                           if r and "error" not in r and "rate" in r.get(name, {}).get(v, {})]
                     for who in runs}
            med = {who: statistics.median(x) if x else None for who, x in rates.items()}
            row += [_fmt(med["new"]), _fmt(med["baseline"]), _ratio(med["new"], med["baseline"])]
        rows.append(row)
    print(f"\nThis build against the baseline ({python}), same run, medians of "
          f"{len(runs['new'])} and {len(runs['baseline'])} worker runs; new/base > 1: faster")
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
    ap.add_argument("--min-time", type=float, default=None,
                    help="seconds per measured run (default 0.3, --quick 0.1)")
    ap.add_argument("--threads", type=int, default=2,
                    help="threads for every runtime (default 2, the machine's cores)")
    ap.add_argument("--no-gemm", action="store_true", help="skip the GEMM section")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory line")
    ap.add_argument("--baseline", metavar="PYTHON",
                    help="an interpreter with another fastmlp build (e.g. the previous "
                         "commit's, in its own venv): its fastmlp and engine columns are "
                         "measured in the same run, alternating with this build's, and "
                         "printed as new/baseline ratios")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    global THREADS
    THREADS = max(1, a.threads)
    repeats = max(1, a.repeats or 3)
    min_time = a.min_time or (0.1 if a.quick else 0.3)

    if a.worker:                                   # ----- inside a subprocess
        kind, rest = a.worker[0], a.worker[1:]
        if kind == "train":
            res = worker_train(rest[0], rest[1].split(","), a.quick, min_time, repeats)
        elif kind == "gemm":
            res = worker_gemm(rest[0], a.quick, min_time / 2, repeats)
        elif kind == "mkdata":
            res = worker_mkdata(rest[0], rest[1])
        elif kind == "mem":
            res = worker_mem(rest[0], rest[1], rest[2])
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
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
          + f" (on {os.cpu_count()} CPUs: anything else running skews every number)")
    if missing:
        print("not installed, skipped: " + ", ".join(missing))
    mode = "quick" if a.quick else "full"
    print(f"mode {mode}: medians of {repeats} runs, each >= {min_time:g} s; "
          f"one subprocess per peer\n", flush=True)
    result = {"mode": mode, "repeats": repeats, "min_time": min_time, "threads": THREADS,
              "config": cfg, "header": header, "workloads": {}, "gemm": {}, "memory": {},
              "restarts": None}

    # ---- training throughput: one subprocess per peer --------------------------------
    train = {}
    extra = ["--quick"] if a.quick else []
    for p in peers:
        t0 = time.perf_counter()
        load = os.getloadavg()[0]
        res = _run_worker(["train", p, ",".join(names), "--repeats", repeats,
                           "--min-time", min_time] + extra)
        res["_load"] = load
        print(f"  [{p}: {time.perf_counter() - t0:.1f} s, load average before {load:.2f}]",
              file=sys.stderr, flush=True)
        train[p] = res
    if a.baseline:
        result["baseline"] = baseline_section(a.baseline, names, train, repeats, min_time,
                                              extra)
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
        row += [_ratio(fm, rate[p]) for p in cols if p not in ("fastmlp", "engine")]
        rows.append(row)
        lo = {p: rec[p].get("loss") for p in cols}
        gap = "-"
        if lo.get("fastmlp") is not None and lo.get("reference") is not None:
            gap = f"{abs(lo['fastmlp'] - lo['reference']) / max(abs(lo['reference']), 1e-300):.1e}"
        loss_rows.append([name] + [f"{lo[p]:.6g}" if lo[p] is not None else "-" for p in cols]
                         + [gap])
    ratio_cols = [f"fm/{p[:5]}" for p in cols if p not in ("fastmlp", "engine")]
    print("Training throughput (median samples/s; xor: steps/s); fm/X = fastmlp / X, "
          ">1 means fastmlp is faster; ~ = runs spread > 25 %")
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
        g = {}
        for rt in ("fastmlp", "numpy"):
            t0 = time.perf_counter()
            extra = ["--quick"] if a.quick else []
            g[rt] = _run_worker(["gemm", rt, "--repeats", repeats, "--min-time", min_time]
                                + extra)
            print(f"  [gemm {rt}: {time.perf_counter() - t0:.1f} s]", file=sys.stderr,
                  flush=True)
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
                             _ratio(f["gflops"], nmp["gflops"])])
            print("\nGEMM GFLOP/s (median): fastmlp._core.gemm vs numpy.matmul; "
                  "wide's layers at batch 256 as NN (forward), TN (dW), NT (delta W^T)")
            print(_table(["shape", "dtype", "fastmlp", "numpy", "fm/numpy"], rows))
            rows = []
            for key, f in g["fastmlp"]["small"].items():
                nmp = g["numpy"]["small"][key]
                label, dt = key.rsplit(" ", 1)
                rows.append([label, dt, f"{f['us_per_call']:.2f}", f"{nmp['us_per_call']:.2f}",
                             _ratio(nmp["us_per_call"], f["us_per_call"])])
            print("\nSmall GEMM, time per call in us (median, Python call included); "
                  "ratio = numpy time / fastmlp time, >1 means fastmlp is faster")
            print(_table(["shape (MxK.KxN)", "dtype", "fastmlp us", "numpy us", "speedup"],
                         rows))

    # ---- memory: wide, one fit epoch in a fresh process ---------------------------------
    if not a.no_memory and "wide" in names:
        est = memory_estimate("wide")
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
