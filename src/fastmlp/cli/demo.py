"""``fastmlp demo``: the chapter in one run, on built-in data (XOR: perceptron vs MLP; an MLP
on rendered 8x8 digits; learning rates too small, about right and too large)."""
from __future__ import annotations

import argparse
import os
import time
from typing import TYPE_CHECKING, Any, Optional, TextIO

import numpy as np

from .._install import install_hint
from .. import datasets
from ..network import MLP
from ..perceptron import Perceptron
from ..training.report import Report
from ..plot import _accuracy, plot_xor     # plot imports matplotlib only inside its functions
from .common import CLIError, check_output_path, one_line, positive_int, set_threads

if TYPE_CHECKING:
    from ..training.lr_results import LRSweepResult

__all__ = ["add_parser", "cmd_demo"]


def add_parser(sub: Any) -> None:
    """The ``demo`` command."""
    d = sub.add_parser(
        "demo", help="XOR (perceptron vs MLP) and rendered digits, on built-in data",
        description="Shows the chapter's point on built-in data: a single-layer perceptron "
                    "cannot learn XOR, a 2-4-1 MLP can; then trains a 64-64-10 ReLU MLP on "
                    "rendered 8x8 digits and reports test accuracy, training time and "
                    "samples per second; then sweeps the learning rate and shows one too "
                    "small, one about right and one too large. Everything runs on the C "
                    "engine.")
    d.add_argument("--quick", action="store_true",
                   help="smaller data and fewer epochs (a few seconds)")
    d.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    d.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="OpenMP threads for the engine (default: all)")
    d.add_argument("--plot", metavar="FILE.png", default=None,
                   help="also save the XOR figure there and the learning-rate figure next "
                        "to it, as FILE-lr.png (needs matplotlib)")
    d.add_argument("--report", metavar="FILE.html", default=None,
                   help="also write self-contained HTML reports: the XOR network's run "
                        "there (decision regions over the epochs), the digits network's "
                        "(with the learning-rate sweep) next to it, as FILE-digits.html")
    d.set_defaults(run=cmd_demo)


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    if args.plot:                 # before anything runs: matplotlib, and a writable path
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError("--plot needs matplotlib: " + install_hint("plot")) from None
        check_output_path(args.plot, "figure")
    digits_report = None
    if args.report:
        check_output_path(args.report, "report")
        root, ext = os.path.splitext(args.report)
        digits_report = Report(f"{root}-digits{ext or '.html'}",
                               title="fastmlp demo: rendered 8x8 digits, 64-64-10 ReLU MLP")
    set_threads(args.threads)
    seed = args.seed

    print("== 1. XOR: a single layer cannot represent it (chapter 4.1) ==", file=out)
    X, y = datasets.xor()
    per = Perceptron(2, 1, seed=seed)
    per.fit(X, y, epochs=100)
    acc_p = _accuracy(per, X, y)
    print(f"perceptron (2 -> 1):  accuracy {100 * acc_p:5.1f} %  "
          f"(converged: {per.converged_})", file=out)
    mlp, acc_m, t_xor = _fit_xor(X, y, seed, quick=args.quick, report=args.report)
    print(f"MLP 2-4-1 ({'-'.join(mlp.activations)}, logistic loss):  "
          f"accuracy {100 * acc_m:5.1f} %  (trained in {t_xor * 1e3:.0f} ms)", file=out)
    print(f"-> the perceptron {'fails' if acc_p < 1 else 'solves it?!'}, "
          f"the two-layer network {'solves it' if acc_m == 1 else 'did not converge'}",
          file=out)
    if args.plot:
        _demo_plot(per, mlp, args.plot, out)

    print("\n== 2. Rendered 8x8 digits: 64-64-10 ReLU MLP, cross entropy, "
          "mini-batch SGD ==", file=out)
    n, epochs = (600, 30) if args.quick else (1797, 30)
    digits = datasets.load_digits(n_samples=n, seed=seed)
    Xd = digits.data / 16.0
    Xtr, Xte, ytr, yte = datasets.train_test_split(Xd, digits.target, test_size=0.25,
                                                   seed=seed)
    net = MLP([64, 64, 10], activation="relu", output="softmax", loss="cross_entropy",
              seed=seed)
    t0 = time.perf_counter()
    net.fit(Xtr, ytr, loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=32,
            epochs=epochs, report=digits_report)
    secs = time.perf_counter() - t0
    acc_tr = _accuracy(net, Xtr, ytr)
    acc_te = _accuracy(net, Xte, yte)
    print(f"{len(Xtr)} training / {len(Xte)} test samples, {epochs} epochs, batch 32", file=out)
    print(f"training time {secs:.3f} s  ({len(Xtr) * epochs / max(secs, 1e-9):,.0f} samples/s)",
          file=out)
    print(f"training accuracy {100 * acc_tr:5.1f} %   test accuracy {100 * acc_te:5.1f} %",
          file=out)
    res = _learning_rates(Xtr, ytr, seed, args, out)
    if digits_report is not None:
        assert net.history_ is not None
        digits_report.write(net.history_, lr_search=res)
        print(f"\nwrote the reports to {args.report} (XOR) and {digits_report.path} "
              f"(digits, with the sweep)", file=out)
    return 0


def _learning_rates(X: Any, y: Any, seed: int, args: argparse.Namespace,
                    out: TextIO) -> LRSweepResult:
    """The chapter's picture of the learning rate, from a sweep: one copy of the network per
    rate, all from the same weights, trained side by side."""
    from ..training.lr_search import lr_sweep
    epochs = 8 if args.quick else 15
    print("\n== 3. The learning rate: neither too small nor too large (chapter 4.3) ==",
          file=out)
    net = MLP([64, 64, 10], activation="relu", output="softmax", loss="cross_entropy",
              seed=seed)
    t0 = time.perf_counter()
    res = lr_sweep(net, X, y, np.logspace(-3, 1, 9), epochs=epochs, optimizer="sgd",
                   batch_size=32, validation_split=0.2)
    secs = time.perf_counter() - t0
    print(f"a sweep: {len(res.lrs)} rates from {res.lrs[0]:g} to {res.lrs[-1]:g}, one copy of "
          f"the network each from the same weights, {epochs} epochs, {res.workers} at a time "
          f"({secs:.2f} s); validation loss after epoch 1, 2, ..., {epochs}:", file=out)
    for name, i in zip(("too small", "about right", "too large"), res.picture()):
        v = res.val_loss[i]
        shown = " ".join(f"{x:.3g}" for x in v[:3])
        if len(v) > 4:
            shown += f" ... {v[-1]:.3g}"
        elif len(v) > 3:
            shown += f" {v[-1]:.3g}"
        note = f"  diverged in epoch {res.diverged_epoch[i]}" if res.diverged[i] else ""
        print(f"  {name:11s}  lr={res.lrs[i]:<7.3g} {shown}{note}", file=out)
    print(f"-> chosen: lr={res.lr:.3g}, {res.reason}", file=out)
    if args.plot:
        root, ext = os.path.splitext(args.plot)
        _save_lr_plot(res, f"{root}-lr{ext or '.png'}", out)
    return res


def _save_lr_plot(res: LRSweepResult, path: str, out: TextIO) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
        res.plot(ax=axes[0], indices=res.picture(), title="too small, about right, too large")
        res.plot(ax=axes[1], kind="final", title="every rate of the sweep")
        fig.savefig(path, dpi=100)
        plt.close(fig)
    except ImportError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"{path}: cannot save the figure ({one_line(exc)})") from None
    print(f"saved the learning-rate figure to {path}", file=out)


def _fit_xor(X: Any, y: Any, seed: int, quick: bool, report: Optional[str] = None
             ) -> tuple[MLP, float, float]:
    """A 2-4-1 network (tanh hidden units, one linear output unit, logistic loss) trained by
    full-batch gradient descent; if a start gets stuck another seed is tried (restarts).
    ``report``: where the kept network's run is reported."""
    t0 = time.perf_counter()
    best: Optional[tuple[MLP, float, Optional[Report]]] = None
    for k in range(5):
        mlp = MLP([2, 4, 1], activation="tanh", loss="logistic", seed=seed + k)
        rep = None if report is None else Report(
            report, title="fastmlp demo: XOR, 2-4-1 tanh MLP, logistic loss")
        mlp.fit(X, y, loss="logistic", optimizer="sgd", lr=0.5, batch_size=None,
                epochs=1000 if quick else 2000, report=rep)
        acc = _accuracy(mlp, X, y)
        if best is None or acc > best[1]:
            best = (mlp, acc, rep)
        if acc == 1.0:
            break
    assert best is not None
    if best[2] is not None and best[2] is not rep:  # a later attempt overwrote the file
        assert best[0].history_ is not None
        best[2].write(best[0].history_)
    return best[0], best[1], time.perf_counter() - t0


def _demo_plot(per: Perceptron, mlp: MLP, path: str, out: TextIO) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        fig = plot_xor(per, mlp)
        fig.savefig(path, dpi=100)
    except OSError as exc:
        raise CLIError(f"{path}: cannot save the figure ({one_line(exc)})") from None
    print(f"saved the XOR figure to {path}", file=out)

