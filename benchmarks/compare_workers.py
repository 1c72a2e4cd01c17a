"""The measurements of compare.py, each run in its own subprocess (``compare.py --worker
KIND ...`` calls these and prints their JSON): training throughput per peer, parallel
restarts, GEMM rates, and the memory of one fit. compare.py sets THREADS from its
``--threads`` before calling any of them. (No function here is named like an asv benchmark.)
"""
import math
import os
import statistics
import sys
import time

try:                                  # python -m benchmarks.compare / imported by asv
    from . import workloads as W
except ImportError:                   # python benchmarks/compare.py
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import workloads as W  # noqa: E402

THREADS = 2


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


def _gemm_call(runtime):
    """call(A, B, transA, transB, C) of one runtime, and its round counts (fastmlp's; None
    for NumPy, or a build without them). A NumPy worker never imports fastmlp."""
    if runtime == "fastmlp":
        from fastmlp import _core
        return (lambda A, B, ta, tb, C: _core.gemm(A, B, ta, tb, 1.0, 0.0, C, THREADS),
                getattr(_core, "rounds_counts", None))
    import numpy as np
    return (lambda A, B, ta, tb, C: np.matmul(A.T if ta else A, B.T if tb else B, out=C),
            None)


def _looped(call, A, B, ta, tb, C):
    def fn(s):
        for _ in range(s):
            call(A, B, ta, tb, C)
    return fn


def _gemm_entry(M, N, K, times, scale):
    return {"gflops": 2.0 * M * N * K * scale / statistics.median(times) / 1e9,
            "us_per_call": 1e6 * statistics.median(times) / scale}


def worker_gemm(runtime, quick, min_time, repeats):
    call, counts = _gemm_call(runtime)
    big, small = gemm_cases(quick)
    out = {"big": {}, "small": {}}
    for kind, cases in (("big", big), ("small", small)):
        for label, M, N, K, ta, tb, dt in cases:
            A, B, C = W.gemm_operands(M, N, K, ta, tb, dt)
            c0 = counts() if counts else None
            r = _median_rate(_looped(call, A, B, ta, tb, C),
                             lambda s, M=M, N=N, K=K: 2.0 * M * N * K * s, min_time, repeats)
            res = _gemm_entry(M, N, K, r["times"], r["scale"])
            if c0 is not None:
                res["rounds"] = {k: v - c0[k] for k, v in counts().items()}
            out[kind][f"{label} {dt}"] = res
    return out


def worker_gemm_paired(quick, min_time, pairs, pause):
    """Both runtimes in this one process, shape by shape: `pairs` timed runs of each (about
    min_time s, the same calls per run), in turn, each after `pause` s idle, so that neither
    library's idle threads (OpenBLAS's spin on for ~0.1 s after a call) take the other's
    core. Every number carries its runs in rounds_<field>, so that compare.py's ratios are
    the medians of the pairs' ratios."""
    (fm, counts), (nm, _) = _gemm_call("fastmlp"), _gemm_call("numpy")
    calls = {"fastmlp": fm, "numpy": nm}
    big, small = gemm_cases(quick)
    out = {rt: {"big": {}, "small": {}} for rt in calls}
    for kind, cases in (("big", big), ("small", small)):
        for label, M, N, K, ta, tb, dt in cases:
            A, B, C = W.gemm_operands(M, N, K, ta, tb, dt)
            fns = {rt: _looped(f, A, B, ta, tb, C) for rt, f in calls.items()}
            scale = {rt: _median_rate(fn, lambda s: s, min_time, 1)["scale"]
                     for rt, fn in fns.items()}
            runs = {rt: [] for rt in calls}
            c0 = counts() if counts else None
            for i in range(pairs):
                for rt in (list(calls) if i % 2 == 0 else list(calls)[::-1]):
                    time.sleep(pause)
                    t0 = time.perf_counter()
                    fns[rt](scale[rt])
                    runs[rt].append(time.perf_counter() - t0)
            for rt, ts in runs.items():
                e = _gemm_entry(M, N, K, ts, scale[rt])
                e["rounds_gflops"] = [2.0 * M * N * K * scale[rt] / t / 1e9 for t in ts]
                e["rounds_us_per_call"] = [1e6 * t / scale[rt] for t in ts]
                out[rt][kind][f"{label} {dt}"] = e
            if c0 is not None:   # fastmlp's share (numpy's runs post none)
                out["fastmlp"][kind][f"{label} {dt}"]["rounds"] = {
                    k: v - c0[k] for k, v in counts().items()}
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
