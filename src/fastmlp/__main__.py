"""The ``fastmlp`` command line: ``python -m fastmlp {demo,train,predict,info}``.

* ``demo``     -- the chapter in one run, on built-in data: the perceptron fails on XOR, a
  2-4-1 MLP solves it, then an MLP learns rendered 8x8 digits (test accuracy, time, samples/s).
* ``train``    -- train an MLP on a CSV / .npy / .npz file and save it (``.npz``).
* ``predict``  -- load a saved model and print or write its predictions for a data file.
* ``info``     -- how this fastmlp was built (compiler, OpenMP, threads, GEMM kernels).

Bad input (missing or unreadable files, bad cells, unknown columns, bad options) is reported
as one line ``fastmlp: error: ...`` on stderr with exit status 2 -- never a traceback. An
unexpected internal error is reported the same way with status 1; set ``FASTMLP_DEBUG=1``
to see its traceback.
"""

import argparse
import csv
import os
import sys
import time
import zipfile

import numpy as np

from .activations import ACTIVATIONS
from .losses import LOSSES
from .optim import OPTIMIZERS

__all__ = ["main", "load_data", "CLIError"]

# the canonical names (aliases are not offered); softmax is for the output layer only
_HIDDEN_ACTIVATIONS = tuple(name for name, a in ACTIVATIONS.items() if not a.output_only)


class CLIError(Exception):
    """A user error: printed as one line ``fastmlp: error: ...``, exit status 2."""


def _one_line(msg):
    return " ".join(str(msg).split())


# ------------------------------------------------------------------------------------------
# argument parsing
# ------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block) and exit status 2."""

    def error(self, message):
        self.exit(2, f"fastmlp: error: {_one_line(message)} (see '{self.prog} --help')\n")


def _positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (v > 0 and np.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def _fraction(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}") from None
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text!r}")
    return v


def _hidden(text):
    text = text.strip()
    if text in ("", "none", "0"):
        return []
    try:
        sizes = [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated layer sizes like 64,64, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be positive, got {text!r}")
    return sizes


def _batch(text):
    if text.lower() in ("full", "none", "all"):
        return None
    return _positive_int(text)


def build_parser():
    p = _Parser(prog="fastmlp",
                description="Multilayer perceptrons trained by C + OpenMP kernels "
                            "(chapter notation: z^l = W^l a^{l-1} + b^l, a^l = sigma(z^l)).",
                epilog="Run 'fastmlp COMMAND --help' for the options of each command.")
    from . import __version__
    p.add_argument("--version", action="version", version=f"fastmlp {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    d = sub.add_parser(
        "demo", help="XOR (perceptron vs MLP) and rendered digits, on built-in data",
        description="Shows the chapter's point on built-in data: a single-layer perceptron "
                    "cannot learn XOR, a 2-4-1 MLP can; then trains a 64-64-10 ReLU MLP on "
                    "rendered 8x8 digits and reports test accuracy, training time and "
                    "samples per second. Everything runs on the C engine.")
    d.add_argument("--quick", action="store_true",
                   help="smaller data and fewer epochs (a few seconds)")
    d.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    d.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                   help="OpenMP threads for the engine (default: all)")
    d.add_argument("--plot", metavar="FILE.png", default=None,
                   help="also save the XOR figure (needs matplotlib)")

    t = sub.add_parser(
        "train", help="train an MLP on a CSV, .npy or .npz file and save it",
        description="Train an MLP and save it as .npz. DATA is a CSV file with a header row "
                    "(every cell numeric), a .npy matrix (the target is the column --target "
                    "names by index) or a .npz file with arrays X and y (no --target needed).",
        epilog="The loss decides the task: cross_entropy (softmax output; the default when "
               "the target holds a few distinct integers) and margin classify into K "
               "classes (K output units); hinge and logistic take two classes (one output "
               "unit); square (the default otherwise) does regression. Predictions of a "
               "classifier are the original labels. Inputs are used as given: scale them "
               "first.")
    t.add_argument("data", metavar="DATA", help="training data: .csv, .npy or .npz")
    t.add_argument("--target", metavar="COL",
                   help="target column: a header name or a 0-based index (negative counts "
                        "from the end); required for .csv and .npy")
    t.add_argument("--hidden", type=_hidden, default=[64], metavar="N1,N2,...",
                   help="hidden layer sizes (default 64; 'none' for no hidden layer)")
    t.add_argument("--activation", choices=_HIDDEN_ACTIVATIONS, default="relu",
                   help="hidden activation (default relu)")
    t.add_argument("--loss", choices=tuple(LOSSES), default=None,
                   help="loss (default: cross_entropy for class labels, else square)")
    t.add_argument("--epochs", type=_positive_int, default=20, help="epochs (default 20)")
    t.add_argument("--batch-size", type=_batch, default=32, metavar="B",
                   help="mini-batch size B; 1 is SGD, 'full' is gradient descent (default 32)")
    t.add_argument("--lr", type=_positive_float, default=None,
                   help="learning rate eta (default: 0.01 for sgd, 0.001 for adam)")
    t.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="sgd",
                   help="optimizer (default sgd)")
    t.add_argument("--validation-split", type=_fraction, default=0.0, metavar="F",
                   help="fraction of the training data held out to measure validation loss")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                   help="precision of the model (default float64)")
    t.add_argument("--output", "-o", default="model.npz", metavar="MODEL.npz",
                   help="where to save the model (default model.npz)")
    t.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                   help="OpenMP threads for the engine (default: all)")
    t.add_argument("-v", "--verbose", action="store_true", help="print the loss of every epoch")

    r = sub.add_parser(
        "predict", help="predict with a saved model",
        description="Load a model saved by 'fastmlp train' (or MLP.save) and print its "
                    "predictions for DATA, one line per sample, or write them as CSV.")
    r.add_argument("model", metavar="MODEL", help="a saved model (.npz)")
    r.add_argument("data", metavar="DATA",
                   help="inputs: .csv (header row), .npy matrix or .npz with array X")
    r.add_argument("--target", metavar="COL", default=None,
                   help="a column of DATA to drop before predicting (e.g. the training target)")
    r.add_argument("--output", "-o", default=None, metavar="PREDS.csv",
                   help="write the predictions to this CSV file instead of printing them")
    r.add_argument("--proba", action="store_true",
                   help="output class probabilities instead of labels (classifiers)")

    sub.add_parser("info", help="show how fastmlp was built (compiler, OpenMP, kernels)",
                   description="Print fastmlp's build and runtime configuration.")
    return p


# ------------------------------------------------------------------------------------------
# data files
# ------------------------------------------------------------------------------------------
def _check_file(path):
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected a file")
    if not os.access(path, os.R_OK):
        raise CLIError(f"{path}: permission denied")


def _numeric_matrix(path, what, arr):
    arr = np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        raise CLIError(f"{path}: {what} holds {arr.dtype} values, expected numbers")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise CLIError(f"{path}: {what} has shape {arr.shape}, expected a 2-D matrix")
    if arr.shape[0] == 0:
        raise CLIError(f"{path}: {what} has no rows")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        r, c = np.argwhere(~np.isfinite(arr))[0]
        raise CLIError(f"{path}: {what} has a non-finite value ({arr[r, c]}) at row {r}, "
                       f"column {c}")
    return arr


def _resolve_column(path, target, names):
    """The index of column ``target`` (a header name, or an integer index)."""
    if target in names:
        return names.index(target)
    try:
        i = int(target)
    except (TypeError, ValueError):
        i = None
    if i is not None and -len(names) <= i < len(names):
        return i % len(names)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    raise CLIError(f"{path}: target column {target!r} not found (columns: {shown})")


def _read_csv(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [(reader_line, row) for reader_line, row in _csv_rows(f)]
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text CSV file (cannot decode it as UTF-8)") from None
    except csv.Error as exc:
        raise CLIError(f"{path}: malformed CSV: {exc}") from None
    if not rows:
        raise CLIError(f"{path}: empty file, expected a header row and data rows")
    header = [h.strip() for h in rows[0][1]]
    if len(rows) == 1:
        raise CLIError(f"{path}: has a header row but no data rows")
    ncol = len(header)
    data = np.empty((len(rows) - 1, ncol))
    for i, (line, row) in enumerate(rows[1:]):
        if len(row) != ncol:
            raise CLIError(f"{path}: line {line} has {len(row)} cells, expected {ncol} "
                           f"(like the header)")
        for j, cell in enumerate(row):
            cell = cell.strip()
            if not cell:
                raise CLIError(f"{path}: line {line}, column {header[j]!r}: empty cell")
            try:
                v = float(cell)
            except ValueError:
                raise CLIError(f"{path}: line {line}, column {header[j]!r}: {cell!r} is not "
                               f"a number") from None
            if not np.isfinite(v):
                raise CLIError(f"{path}: line {line}, column {header[j]!r}: {cell!r} is not "
                               f"a finite number")
            data[i, j] = v
    return header, data


def _csv_rows(f):
    reader = csv.reader(f)
    for row in reader:
        if row and any(c.strip() for c in row):
            yield reader.line_num, row


def _load_numpy(path):
    npz = path.lower().endswith(".npz")
    try:
        if npz and not zipfile.is_zipfile(path):
            raise CLIError(f"{path}: not an .npz archive (it is not a zip file)")
        if not npz:
            with open(path, "rb") as f:
                if f.read(6) != b"\x93NUMPY":
                    raise CLIError(f"{path}: not a .npy file (no NumPy header)")
    except OSError as exc:
        raise CLIError(f"{path}: cannot read it ({_one_line(exc)})") from None
    try:
        obj = np.load(path, allow_pickle=False)
        if isinstance(obj, np.lib.npyio.NpzFile):
            with obj:
                return {k: obj[k] for k in obj.files}
        return obj
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        kind = "an .npz archive" if npz else "a .npy array"
        why = "it holds Python objects (pickled data), which fastmlp does not load" \
            if "pickle" in str(exc) else _one_line(exc)
        raise CLIError(f"{path}: cannot read it as {kind}: {why}") from None


def load_data(path, target=None, need_target=True):
    """Read a data file for the CLI: returns ``(X, y, feature_names)``.

    ``.npz``: arrays ``X`` and (when ``need_target``) ``y``; ``.npy``: a 2-D matrix whose
    column ``target`` (an index) is y; anything else is read as CSV with a header row and
    ``target`` is a column name or index. With ``need_target=False`` a given ``target``
    column is dropped and ``y`` is None. Raises :class:`CLIError` on any problem.
    """
    _check_file(path)
    low = path.lower()
    if low.endswith(".npz"):
        arrays = _load_numpy(path)
        if "X" not in arrays:
            raise CLIError(f"{path}: no array 'X' in the archive (found: "
                           f"{', '.join(sorted(arrays)) or 'nothing'})")
        X = _numeric_matrix(path, "X", arrays["X"])
        names = [f"x{j}" for j in range(X.shape[1])]
        if not need_target:
            return X, None, names
        if "y" not in arrays:
            raise CLIError(f"{path}: no array 'y' in the archive (found: "
                           f"{', '.join(sorted(arrays))})")
        y = _numeric_matrix(path, "y", arrays["y"])
        if y.shape[0] != X.shape[0]:
            raise CLIError(f"{path}: X has {X.shape[0]} rows but y has {y.shape[0]}")
        return X, (y[:, 0] if y.shape[1] == 1 else y), names
    if low.endswith(".npy"):
        M = _numeric_matrix(path, "the array", _load_numpy(path))
        names = [str(j) for j in range(M.shape[1])]
    else:
        names, M = _read_csv(path)
    if target is None:
        if need_target:
            raise CLIError(f"{path}: say which column is the target with --target COL")
        return M, None, names
    j = _resolve_column(path, target, names)
    if M.shape[1] < 2 and need_target:
        raise CLIError(f"{path}: only one column; need at least one feature besides the target")
    keep = [k for k in range(M.shape[1]) if k != j]
    X = np.ascontiguousarray(M[:, keep])
    return X, (M[:, j] if need_target else None), [names[k] for k in keep]


# ------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------
def _is_classes(y):
    """Does the target look like class labels (a few distinct integers)?"""
    return (y.ndim == 1 and np.all(y == np.round(y))
            and len(np.unique(y)) <= max(2, min(100, len(y) // 2)))


def _choose_loss(y, loss, path):
    """The loss (chosen from the target when not given) and the number of output units."""
    if loss is None:
        loss = "cross_entropy" if _is_classes(y) else "square"
    encoding = LOSSES[loss].encoding
    if encoding != "real":                        # a classification loss
        if y.ndim != 1 or not np.all(y == np.round(y)):
            raise CLIError(f"{path}: the {loss} loss needs class labels (integers) in the "
                           f"target column, got non-integer values")
        classes = np.unique(y)
        if len(classes) < 2:
            raise CLIError(f"{path}: the target holds one class only ({classes[0]:g}); "
                           f"nothing to learn")
        if encoding == "pm1":                    # one output unit, two classes
            if len(classes) != 2:
                raise CLIError(f"{path}: the {loss} loss is binary, but the target holds "
                               f"{len(classes)} classes; use --loss cross_entropy or margin")
            return loss, y, 1
        return loss, y, len(classes)
    return loss, y, 1 if y.ndim == 1 else y.shape[1]


def _set_threads(n):
    if n is None:
        return
    import fastmlp
    f = getattr(fastmlp, "set_num_threads", None)
    if f is not None:
        f(n)


class _EpochPrinter:
    """A fit callback: one line per epoch, printed as soon as the epoch ends."""

    def __init__(self, out):
        self.out = out
        self.n = 0

    def on_epoch_end(self, epoch, logs):
        self.n += 1
        extra = f"  val_loss {logs['val_loss']:.6g}" if "val_loss" in logs else ""
        print(f"epoch {self.n:4d}  loss {logs['loss']:.6g}{extra}", file=self.out, flush=True)


def cmd_train(args, out):
    import fastmlp
    X, y, _ = load_data(args.data, args.target, need_target=True)
    loss, y, n_out = _choose_loss(y, args.loss, args.data)
    _set_threads(args.threads)
    lr = args.lr if args.lr is not None else (0.001 if args.optimizer == "adam" else 0.01)
    sizes = [X.shape[1], *args.hidden, n_out]
    model = fastmlp.MLP(sizes, activation=args.activation, output=LOSSES[loss].default_output,
                        loss=loss, dtype=args.dtype, seed=args.seed)
    n_train = X.shape[0] - int(round(X.shape[0] * args.validation_split))
    batch = args.batch_size
    if batch is not None and batch >= n_train:   # a batch as large as the data: plain GD
        batch = None
    callbacks = [_EpochPrinter(out)] if args.verbose else None
    t0 = time.perf_counter()
    hist = model.fit(X, y, loss=loss, optimizer=args.optimizer, lr=lr,
                     batch_size=batch, epochs=args.epochs,
                     validation_split=args.validation_split, callbacks=callbacks)
    seconds = time.perf_counter() - t0
    h = getattr(hist, "history", {}) or {}
    losses = list(h.get("loss") or [])
    val = list(h.get("val_loss") or [])
    epochs = max(len(losses), 1)
    print(f"trained {'-'.join(map(str, sizes))} {args.activation} MLP, {loss} loss, "
          f"{epochs} epochs on {n_train} samples, "
          f"{'full batch' if batch is None else f'batch {batch}'}, in {seconds:.2f} s "
          f"({n_train * epochs / max(seconds, 1e-9):,.0f} samples/s)", file=out)
    if losses:
        tail = f", validation loss {val[-1]:.6g}" if val else ""
        print(f"final training loss {losses[-1]:.6g}{tail}", file=out)
    try:
        model.save(args.output)
    except OSError as exc:
        raise CLIError(f"{args.output}: cannot save the model ({_one_line(exc)})") from None
    print(f"saved model to {args.output}", file=out)
    return 0


def _load_model(path):
    import fastmlp
    _check_file(path)
    try:
        return fastmlp.load(path)
    except Exception as exc:  # any failure to read a user's file is a user error
        raise CLIError(f"{path}: cannot load a fastmlp model ({type(exc).__name__}: "
                       f"{_one_line(exc)})") from None


def _fmt(v):
    v = float(v)
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)


def cmd_predict(args, out):
    model = _load_model(args.model)
    X, _, _ = load_data(args.data, args.target, need_target=False)
    n_in = int(model.layer_sizes[0])
    if X.shape[1] != n_in:
        hint = " (use --target COL to drop the target column)" \
            if X.shape[1] == n_in + 1 and args.target is None else ""
        raise CLIError(f"{args.data}: has {X.shape[1]} feature columns but the model takes "
                       f"{n_in} inputs{hint}")
    if args.proba:
        if not hasattr(model, "predict_proba"):
            raise CLIError("this model has no predict_proba")
        P = np.asarray(model.predict_proba(X))
    else:
        P = np.asarray(model.predict(X))
    P = P.reshape(len(X), -1)
    if P.shape[1] == 1:
        header = ["prediction"]
    else:
        header = [f"{'p' if args.proba else 'prediction'}_{k}" for k in range(P.shape[1])]
    lines = [",".join(_fmt(v) for v in row) for row in P]
    if args.output:
        try:
            with open(args.output, "w", newline="") as f:
                f.write(",".join(header) + "\n")
                f.write("\n".join(lines) + "\n")
        except OSError as exc:
            raise CLIError(f"{args.output}: cannot write ({_one_line(exc)})") from None
        print(f"wrote {len(lines)} predictions to {args.output}", file=out)
    else:
        print("\n".join(lines), file=out)
    return 0


def cmd_info(args, out):
    import fastmlp
    show = getattr(fastmlp, "show_config", None)
    if show is not None:
        try:
            text = show(file=out) if "file" in _params(show) else show()
        except TypeError:
            text = show()
        if isinstance(text, str):
            print(text, file=out)
        return 0
    from . import _core
    print(f"fastmlp {fastmlp.__version__}", file=out)
    for k, v in _core.config().items():
        print(f"  {k}: {v}", file=out)
    return 0


def _params(f):
    import inspect
    try:
        return inspect.signature(f).parameters
    except (TypeError, ValueError):
        return {}


def _accuracy(model, X, y):
    from .plot import _labels          # plot imports matplotlib only inside its functions
    y = np.asarray(y).reshape(-1)
    return float(np.mean(_labels(model.predict(X), y) == y))


def cmd_demo(args, out):
    import fastmlp
    from . import datasets
    _set_threads(args.threads)
    seed = args.seed

    print("== 1. XOR: a single layer cannot represent it (chapter 4.1) ==", file=out)
    X, y = datasets.xor()
    per = fastmlp.Perceptron(2, 1)
    per.fit(X, y, epochs=100)
    acc_p = _accuracy(per, X, y)
    conv = getattr(per, "converged_", None)
    print(f"perceptron (2 -> 1):  accuracy {100 * acc_p:5.1f} %"
          + ("" if conv is None else f"  (converged: {bool(conv)})"), file=out)
    mlp, acc_m, t_xor = _fit_xor(fastmlp, X, y, seed, quick=args.quick)
    print(f"MLP 2-4-1 ({'-'.join(mlp.activations)}, {mlp.loss.name} loss):  accuracy {100 * acc_m:5.1f} %  "
          f"(trained in {t_xor * 1e3:.0f} ms)", file=out)
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
    net = fastmlp.MLP([64, 64, 10], activation="relu", output="softmax",
                      loss="cross_entropy", seed=seed)
    t0 = time.perf_counter()
    net.fit(Xtr, ytr, loss="cross_entropy", optimizer="sgd", lr=0.1, batch_size=32,
            epochs=epochs)
    secs = time.perf_counter() - t0
    acc_tr = _accuracy(net, Xtr, ytr)
    acc_te = _accuracy(net, Xte, yte)
    print(f"{len(Xtr)} training / {len(Xte)} test samples, {epochs} epochs, batch 32", file=out)
    print(f"training time {secs:.3f} s  ({len(Xtr) * epochs / max(secs, 1e-9):,.0f} samples/s)",
          file=out)
    print(f"training accuracy {100 * acc_tr:5.1f} %   test accuracy {100 * acc_te:5.1f} %",
          file=out)
    return 0


def _fit_xor(fastmlp, X, y, seed, quick):
    """A 2-4-1 network (tanh hidden units, one linear output unit, logistic loss) trained by
    full-batch gradient descent; if a start gets stuck another seed is tried (restarts)."""
    t0 = time.perf_counter()
    best = None
    for k in range(5):
        mlp = fastmlp.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=seed + k)
        mlp.fit(X, y, loss="logistic", optimizer="sgd", lr=0.5, batch_size=None,
                epochs=1000 if quick else 2000)
        acc = _accuracy(mlp, X, y)
        if best is None or acc > best[1]:
            best = (mlp, acc)
        if acc == 1.0:
            break
    return best[0], best[1], time.perf_counter() - t0


def _demo_plot(per, mlp, path, out):
    try:
        import matplotlib
        matplotlib.use("Agg")
        from .plot import plot_xor
        fig = plot_xor(per, mlp)
        fig.savefig(path, dpi=100)
    except ImportError as exc:
        raise CLIError(str(exc)) from None
    except OSError as exc:
        raise CLIError(f"{path}: cannot save the figure ({_one_line(exc)})") from None
    print(f"saved the XOR figure to {path}", file=out)


_COMMANDS = {"demo": cmd_demo, "train": cmd_train, "predict": cmd_predict, "info": cmd_info}


def main(argv=None):
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:             # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return _COMMANDS[args.command](args, sys.stdout)
    except CLIError as exc:
        print(f"fastmlp: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FloatingPointError) as exc:
        if os.environ.get("FASTMLP_DEBUG"):
            raise
        # bad values reaching the model (e.g. labels a loss refuses): the user's input
        print(f"fastmlp: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:               # e.g. `fastmlp predict ... | head`: stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0
    except KeyboardInterrupt:
        print("fastmlp: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error: still one line unless debugging
        if os.environ.get("FASTMLP_DEBUG"):
            raise
        print(f"fastmlp: error: internal error {type(exc).__name__}: {_one_line(exc)} "
              f"(set FASTMLP_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
