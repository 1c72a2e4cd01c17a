"""``fastmlp train`` (train an MLP on a data file and save it) and ``fastmlp predict``
(print or write the predictions of a saved model)."""
from __future__ import annotations

import argparse
import csv
import io
import shlex
import sys
import time
import warnings
from typing import Any, Optional, TextIO, Union

import numpy as np

from .._npz import is_model_file
from ..activations import ACTIVATIONS
from ..io import load
from ..losses import LOSSES
from ..network import MLP
from ..optim import OPTIMIZERS
from .._typing import NDArray
from ..training import DivergenceWarning
from .._model_config import MAX_EPOCHS
from .common import (CLIError, _number, check_output_path, fraction, one_line,
                     positive_float, positive_int, set_threads, warn)
from .data import NotANumber, check_file, load_data

__all__ = ["add_parsers", "cmd_train", "cmd_predict", "EXIT_DIVERGED", "guess_task"]

EXIT_DIVERGED = 3           # exit status of a training run that diverged
_MAX_GUESSED_CLASSES = 20   # an integer target with more distinct values is guessed regression
_MIN_TRAIN = 10             # fewer training samples than this after validation: a warning

# the canonical names (aliases are not offered); softmax is for the output layer only
_HIDDEN_ACTIVATIONS = tuple(name for name, a in ACTIVATIONS.items() if not a.output_only)


def _hidden(text: str) -> list[int]:
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


def _lr(text: str) -> Union[float, str]:
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return positive_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive number or 'auto', got "
                                         f"{text!r}") from None


def _batch(text: str) -> Optional[int]:
    if text.lower() in ("full", "none", "all"):
        return None
    return positive_int(text)


def add_parsers(sub: Any) -> None:
    """The ``train`` and ``predict`` commands."""
    t = sub.add_parser(
        "train", help="train an MLP on a CSV, .npy or .npz file and save it",
        description="Train an MLP and save it as .npz. DATA is a CSV file with a header row "
                    "(numeric features; the target column may hold text class labels), a "
                    ".npy matrix (the target is the column --target names by index) or a "
                    ".npz file with arrays X and y (no --target needed).",
        epilog="The task is classification or regression: --task says which; without it "
               "the task is guessed from the target and the guess is printed (classify: "
               "text labels, or at most 20 distinct integers; regress otherwise). "
               "Classification trains with --loss cross_entropy by default (softmax output, "
               "K output units for K classes; margin too), or hinge/logistic for two classes "
               "(one output unit); regression with square. Predictions of a classifier are "
               "the original labels. Inputs are used as given: scale them first (a warning says "
               "when the columns' scales differ by a factor of 100 or more). Exit "
               "status: 0 success, 2 bad input or options, 3 training diverged -- a loss "
               "or gradient became NaN or infinite, or the training loss ended more than "
               "10 times above the initial weights' -- (no model is written unless "
               "--keep-diverged).")
    t.add_argument("data", metavar="DATA", help="training data: .csv, .npy or .npz")
    t.add_argument("--target", metavar="COL",
                   help="target column: a header name or a 0-based index (negative counts "
                        "from the end); required for .csv and .npy")
    t.add_argument("--hidden", type=_hidden, default=[64], metavar="N1,N2,...",
                   help="hidden layer sizes (default 64; 'none' for no hidden layer)")
    t.add_argument("--activation", choices=_HIDDEN_ACTIVATIONS, default="relu",
                   help="hidden activation (default relu)")
    t.add_argument("--task", choices=("classify", "regress"), default=None,
                   help="classification or regression (default: guessed from the target, "
                        "and the guess printed)")
    t.add_argument("--loss", choices=tuple(LOSSES), default=None,
                   help="loss (default: cross_entropy to classify, square to regress)")
    t.add_argument("--epochs", type=_epochs, default=20, help="epochs (default 20)")
    t.add_argument("--batch-size", type=_batch, default=32, metavar="B",
                   help="mini-batch size B; 1 is SGD, 'full' is gradient descent (default 32)")
    t.add_argument("--lr", type=_lr, default=None,
                   help="learning rate eta, or 'auto': a short sweep chooses it (default: "
                        "0.01 for sgd, 0.001 for adam)")
    t.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="sgd",
                   help="optimizer (default sgd)")
    t.add_argument("--validation-split", type=fraction, default=0.0, metavar="F",
                   help="fraction of the data held out to measure validation loss and "
                        "score: rows drawn at random (--seed), stratified by class when "
                        "classifying (each class keeps its share), as scikit-learn's "
                        "early-stopping split")
    t.add_argument("--no-shuffle-split", action="store_true",
                   help="with --validation-split: hold out the last rows of the file, in "
                        "order (e.g. time-ordered data), instead of a random stratified draw")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                   help="precision of the model (default float64)")
    t.add_argument("--output", "-o", default="model.npz", metavar="MODEL.npz",
                   help="where to save the model (default model.npz)")
    t.add_argument("--threads", type=positive_int, default=None, metavar="N",
                   help="OpenMP threads for the engine (default: all)")
    t.add_argument("--keep-diverged", action="store_true",
                   help="save the model even when training diverged (its last finite "
                        "weights); the exit status is still 3")
    t.add_argument("--report", metavar="RUN.html", default=None,
                   help="also write a self-contained HTML report of the run there (curves, "
                        "configuration, per-layer histograms, confusion matrix or "
                        "residuals; opens from disk, no network)")
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
    t.set_defaults(run=cmd_train)
    r.set_defaults(run=cmd_predict)


def guess_task(y: NDArray[Any]) -> tuple[str, str]:
    """(task, reason): 'classify' or 'regress' for target ``y``, and why, in words."""
    if y.dtype.kind in "US":
        return "classify", f"the target holds text labels ({len(np.unique(y))} distinct)"
    if y.ndim != 1:
        return "regress", f"the target has {y.shape[1]} columns"
    if not np.all(y == np.round(y)):
        return "regress", "the target holds non-integer numbers"
    k = len(np.unique(y))
    if k <= min(_MAX_GUESSED_CLASSES, max(2, len(y) // 2)):
        return "classify", f"the target holds {k} distinct integers"
    return "regress", f"the target holds {k} distinct integers (more than look like classes)"


def _choose_loss(y: NDArray[Any], task: Optional[str], loss: Optional[str],
                 path: str) -> tuple[str, str, str, NDArray[Any], int]:
    """(task, how it was chosen, loss, y, output units) for the target ``y``."""
    given = LOSSES[loss].encoding != "real" if loss else None
    if task is None and loss is not None:
        task, how = ("classify" if given else "regress"), f"from --loss {loss}"
    elif task is None:
        task, why = guess_task(y)
        other = "regress" if task == "classify" else "classify"
        how = f"guessed: {why}; --task {other} to change"
    else:
        how = "--task"
        if loss is not None and given != (task == "classify"):
            raise CLIError(f"--loss {loss} is a {'classification' if given else 'regression'} "
                           f"loss, but --task is {task}")
    if loss is None:
        loss = "cross_entropy" if task == "classify" else "square"
    if task == "regress":
        if y.dtype.kind in "US":
            bad = next(v for v in y.reshape(-1) if not _is_number(v))
            raise CLIError(f"{path}: --task regress needs numbers in the target column, "
                           f"got {str(bad)!r}")
        return task, how, loss, y, 1 if y.ndim == 1 else y.shape[1]
    if y.ndim != 1 or (y.dtype.kind == "f" and not np.all(y == np.round(y))):
        raise CLIError(f"{path}: the {loss} loss needs class labels (integers or text) in "
                       f"the target column, got non-integer values")
    if y.dtype.kind == "f":
        y = y.astype(np.int64)                     # integer labels print as integers
    classes = np.unique(y)
    if len(classes) < 2:
        raise CLIError(f"{path}: the target holds one class only ({classes[0]!s}); "
                       f"nothing to learn")
    if LOSSES[loss].encoding == "pm1":             # one output unit, two classes
        if len(classes) != 2:
            raise CLIError(f"{path}: the {loss} loss is binary, but the target holds "
                           f"{len(classes)} classes; use --loss cross_entropy or margin")
        return task, how, loss, y, 1
    return task, how, loss, y, len(classes)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


class _EpochPrinter:
    """A fit callback: one line per epoch, printed as soon as the epoch ends."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        extra = f"  val_loss {logs['val_loss']:.6g}" if "val_loss" in logs else ""
        print(f"epoch {epoch:4d}  loss {logs['loss']:.6g}{extra}", file=self.out, flush=True)


def _epochs(text: str) -> int:
    """--epochs: a positive integer the engine can count (at most 2**62 - 1)."""
    return _number(text, int, lambda v: 1 <= v <= MAX_EPOCHS,
                   f"a positive integer at most 2**62 - 1 = {MAX_EPOCHS}")


def _model_path(path: str) -> str:
    """Where MLP.save writes ``path`` (``.npz`` appended when missing)."""
    return path if path.endswith(".npz") else path + ".npz"


_GROWTH = 10.0          # a final training loss this many times the initial one: diverged
_SCALE_RATIO = 100.0    # feature standard deviations this far apart: a scaling warning


def split_rows(y: NDArray[Any], fraction: float, seed: int, stratify: bool,
               shuffle: bool = True) -> tuple[NDArray[Any], NDArray[Any]]:
    """(training rows, validation rows) of a held-out ``fraction`` (round(n * fraction)
    rows), each in file order. ``shuffle``: rows drawn at random with ``seed``;
    ``stratify`` (classification): each class contributes its share (largest remainders,
    as scikit-learn's stratified split), so a small class is not left out by chance.
    Without ``shuffle``: the last rows."""
    n = len(y)
    n_val = int(round(n * fraction))
    if not shuffle or n_val == 0:
        return np.arange(n - n_val), np.arange(n - n_val, n)
    rng = np.random.default_rng(seed)
    if not stratify:
        perm = rng.permutation(n)
        return np.sort(perm[n_val:]), np.sort(perm[:n_val])
    classes, inverse = np.unique(y, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    if n - n_val < len(classes):
        raise CLIError(f"--validation-split {fraction:g} leaves {n - n_val} samples for "
                       f"training, fewer than the {len(classes)} classes")
    share = counts * (n_val / n)
    take = np.floor(share).astype(np.int64)
    rest = n_val - int(take.sum())
    if rest > 0:       # the largest remainders get the rows left (ties: at random)
        order = np.lexsort((rng.random(len(classes)), -(share - take)))
        take[order[:rest]] += 1
    # every class keeps a training row; the rows this moves go to the classes with most left
    over = np.maximum(take - (counts - 1), 0)
    take -= over
    for _ in range(int(over.sum())):
        take[np.argmax(counts - 1 - take)] += 1
    val = np.concatenate([rng.permutation(np.flatnonzero(inverse == k))[:take[k]]
                          for k in range(len(classes))])
    mask = np.zeros(n, bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _mean_loss(model: MLP, X: NDArray[Any], y: NDArray[Any], loss: str) -> float:
    """The model's mean training loss on (X, y) (the fit's loss, from z^L in chunks)."""
    lf = LOSSES[loss]()
    Y = lf.encode(y, int(model.layer_sizes[-1])).Y
    total = 0.0
    with np.errstate(all="ignore"):
        for r in range(0, X.shape[0], 4096):
            tr = model.forward(X[r:r + 4096], keep=True)
            total += lf.value(Y[r:r + 4096], tr.a[-1], tr.z[-1]) * len(tr.a[-1])
    return total / X.shape[0]


def _scale_warning(X: NDArray[Any], names: list[str]) -> Optional[str]:
    """A warning when the columns' standard deviations differ by a factor of 100 or more
    (constant columns left out): gradient descent then needs a rate no one rate fits."""
    sd = X.std(axis=0)
    live = np.flatnonzero(sd > 0)
    if len(live) < 2:
        return None
    hi, lo = live[np.argmax(sd[live])], live[np.argmin(sd[live])]
    if sd[hi] < _SCALE_RATIO * sd[lo]:
        return None
    return (f"the feature columns' scales differ by a factor of {sd[hi] / sd[lo]:.3g} "
            f"(standard deviation of {names[hi]!r}: {sd[hi]:.3g}, of {names[lo]!r}: "
            f"{sd[lo]:.3g}); scale them first (subtract each column's mean and divide by "
            f"its standard deviation), or training may be slow or diverge")


def _smaller_lr(lr: float, optimizer: str) -> str:
    """What to try instead of a learning rate that diverged."""
    default = OPTIMIZERS[optimizer]().lr
    if lr / 10 > max(1.0, default):      # far off: a tenth is still far too large
        return f"--lr auto, or --lr {default:g} ({optimizer}'s default)"
    return f"a smaller --lr (e.g. {lr / 10:g})"


def _score_words(model: MLP, X: NDArray[Any], y: NDArray[Any], task: str) -> str:
    v = model.score(X, y)
    return f"accuracy {100 * v:.1f} %" if task == "classify" else f"R^2 {v:.4g}"


def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    check_output_path(args.output, "model")        # a directory is refused as given
    output = _model_path(args.output)
    check_output_path(output, "model")
    if args.report is not None:
        check_output_path(args.report, "report")
    X, y, names = load_data(args.data, args.target, need_target=True)
    assert y is not None                           # need_target=True
    task, how, loss, y, n_out = _choose_loss(y, args.task, args.loss, args.data)
    set_threads(args.threads)
    sizes = [X.shape[1], *args.hidden, n_out]
    n_classes = f", {n_out if n_out > 1 else 2} classes" if task == "classify" else ""
    print(f"task: {task}{n_classes} ({how})", file=out)
    tr, va = split_rows(y, args.validation_split, args.seed, stratify=task == "classify",
                        shuffle=not args.no_shuffle_split)
    n_train, n_val = len(tr), len(va)
    if n_train == 0:
        raise CLIError(f"--validation-split {args.validation_split:g} leaves no samples "
                       f"for training")
    if args.validation_split and 0 < n_train < _MIN_TRAIN and n_val > 0:
        warn(f"--validation-split {args.validation_split:g} leaves {n_train} of "
             f"{X.shape[0]} samples for training: too few to learn from")
    X_tr, y_tr = np.ascontiguousarray(X[tr]), y[tr]
    validation = (np.ascontiguousarray(X[va]), y[va]) if n_val else None
    scales = _scale_warning(X_tr, names)
    if scales:
        warn(scales)
    model = MLP(sizes, activation=args.activation, output=LOSSES[loss].default_output,
                loss=loss, dtype=args.dtype, seed=args.seed)
    loss0 = _mean_loss(model, X_tr, y_tr, loss)
    callbacks = [_EpochPrinter(out)] if args.verbose else None
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)   # reported below, in one line
        hist = model.fit(X_tr, y_tr, loss=loss, optimizer=args.optimizer, lr=args.lr,
                         batch_size=args.batch_size, epochs=args.epochs,
                         validation_data=validation, callbacks=callbacks,
                         report=args.report)
    if args.report is not None:
        print(f"wrote the report to {args.report}", file=out)
    seconds = time.perf_counter() - t0
    batch = hist.params["batch_size"]
    epochs = len(hist)
    if epochs:
        print(f"trained {'-'.join(map(str, sizes))} {args.activation} MLP, {loss} loss, "
              f"{epochs} epochs on {n_train} samples, "
              f"{'full batch' if batch >= n_train else f'batch {batch}'}, in {seconds:.2f} s "
              f"({n_train * epochs / max(seconds, 1e-9):,.0f} samples/s)", file=out)
    search = hist.lr_search
    if search is not None:
        print(f"learning rate: auto -> {search.lr:.3g} ({search.reason})", file=out)
    lr = model.optimizer_.lr if model.optimizer_ is not None else float("nan")
    what = None
    if hist.diverged:
        done = (f"after {epochs} complete epoch{'s' if epochs != 1 else ''}" if epochs
                else "before completing an epoch")
        what = (f"training diverged in epoch {hist.diverged_epoch}, {done} (the loss or a "
                f"gradient became NaN or infinite) with learning rate {lr:g}")
    else:
        loss1 = _mean_loss(model, X_tr, y_tr, loss) if epochs else loss0
        if not np.isfinite(loss1) or loss1 > _GROWTH * loss0:
            what = (f"training diverged: the training loss rose from {loss0:.4g} (the "
                    f"initial weights) to {loss1:.4g} in {epochs} epochs with learning rate "
                    f"{lr:g}")
    if what is None and epochs:
        tail = f", validation loss {hist.val_loss[-1]:.6g}" if n_val else ""
        print(f"final training loss {hist.loss[-1]:.6g}{tail}", file=out)
        vscore = (f", validation {_score_words(model, validation[0], validation[1], task)}"
                  if validation is not None else "")
        print(f"training {_score_words(model, X_tr, y_tr, task)}{vscore}", file=out)
    if what is not None:
        what += f"; try {_smaller_lr(lr, args.optimizer)}, or standardised data"
        if not args.keep_diverged:
            print(f"fastmlp: error: {what}; no model written (--keep-diverged saves the "
                  f"last {'finite ' if hist.diverged else ''}weights)", file=sys.stderr)
            return EXIT_DIVERGED
    saved = _save(model, output)
    if what is not None:
        warn(f"{what}; saved its last {'finite ' if hist.diverged else ''}weights to {saved} "
             f"(--keep-diverged)")
        return EXIT_DIVERGED
    print(f"saved model to {saved}", file=out)
    return 0


def _save(model: MLP, path: str) -> str:
    try:
        return model.save(path)
    except OSError as exc:       # the message names the file asked for, not a temporary one
        raise CLIError(f"{path}: cannot save the model ({exc.strerror or one_line(exc)})") \
            from None


def _load_model(path: str) -> MLP:
    check_file(path)
    if not is_model_file(path):
        raise CLIError(f"{path}: not a fastmlp model file (expected the .npz that "
                       f"'fastmlp train' or MLP.save writes)")
    try:
        return load(path)
    except Exception as exc:  # any failure to read a user's file is a user error
        raise CLIError(f"{path}: cannot load this fastmlp model ({one_line(exc)})") from None


def _fmt(v: Any) -> str:
    if isinstance(v, (str, np.str_)):
        return str(v)
    v = float(v)
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)


def cmd_predict(args: argparse.Namespace, out: TextIO) -> int:
    if args.output:
        check_output_path(args.output, "predictions")
    model = _load_model(args.model)
    try:
        X, _, _ = load_data(args.data, args.target, need_target=False)
    except NotANumber as exc:
        if args.target is not None:
            raise
        raise CLIError(f"{exc}; if {exc.column!r} is the target column, drop it with "
                       f"--target {shlex.quote(exc.column)}") from None
    n_in = int(model.layer_sizes[0])
    if X.shape[1] != n_in:
        hint = " (use --target COL to drop the target column)" \
            if X.shape[1] == n_in + 1 and args.target is None else ""
        raise CLIError(f"{args.data}: has {X.shape[1]} feature columns but the model takes "
                       f"{n_in} inputs{hint}")
    classes = getattr(model, "classes_", None)
    if args.proba:
        P = np.asarray(model.predict_proba(X))
    else:
        P = np.asarray(model.predict(X))
    P = P.reshape(len(X), -1)
    if P.shape[1] == 1:
        header = ["prediction"]
    elif args.proba and classes is not None and len(classes) == P.shape[1]:
        header = [f"p_{_fmt(c)}" for c in classes]
    else:
        header = [f"{'p' if args.proba else 'prediction'}_{k}" for k in range(P.shape[1])]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in P:
        writer.writerow([_fmt(v) for v in row])
    body = buf.getvalue()
    if args.output:
        try:
            with open(args.output, "w", newline="") as f:
                f.write(",".join(header) + "\n")
                f.write(body)
        except OSError as exc:
            raise CLIError(f"{args.output}: cannot write ({exc.strerror or one_line(exc)})") \
                from None
        print(f"wrote {len(P)} predictions to {args.output}", file=out)
    else:
        out.write(body)
    return 0
