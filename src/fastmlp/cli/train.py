"""``fastmlp train`` (train an MLP on a data file and save it) and ``fastmlp predict``
(print or write the predictions of a saved model)."""
import argparse
import time

import numpy as np

from ..activations import ACTIVATIONS
from ..io import load
from ..losses import LOSSES
from ..network import MLP
from ..optim import OPTIMIZERS
from .common import CLIError, fraction, one_line, positive_float, positive_int, set_threads
from .data import check_file, load_data

__all__ = ["add_parsers", "cmd_train", "cmd_predict"]

# the canonical names (aliases are not offered); softmax is for the output layer only
_HIDDEN_ACTIVATIONS = tuple(name for name, a in ACTIVATIONS.items() if not a.output_only)


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
    return positive_int(text)


def add_parsers(sub):
    """The ``train`` and ``predict`` commands."""
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
    t.add_argument("--epochs", type=positive_int, default=20, help="epochs (default 20)")
    t.add_argument("--batch-size", type=_batch, default=32, metavar="B",
                   help="mini-batch size B; 1 is SGD, 'full' is gradient descent (default 32)")
    t.add_argument("--lr", type=positive_float, default=None,
                   help="learning rate eta (default: 0.01 for sgd, 0.001 for adam)")
    t.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="sgd",
                   help="optimizer (default sgd)")
    t.add_argument("--validation-split", type=fraction, default=0.0, metavar="F",
                   help="fraction of the training data held out to measure validation loss")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                   help="precision of the model (default float64)")
    t.add_argument("--output", "-o", default="model.npz", metavar="MODEL.npz",
                   help="where to save the model (default model.npz)")
    t.add_argument("--threads", type=positive_int, default=None, metavar="N",
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
    t.set_defaults(run=cmd_train)
    r.set_defaults(run=cmd_predict)


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


class _EpochPrinter:
    """A fit callback: one line per epoch, printed as soon as the epoch ends."""

    def __init__(self, out):
        self.out = out

    def on_epoch_end(self, epoch, logs):
        extra = f"  val_loss {logs['val_loss']:.6g}" if "val_loss" in logs else ""
        print(f"epoch {epoch:4d}  loss {logs['loss']:.6g}{extra}", file=self.out, flush=True)


def cmd_train(args, out):
    X, y, _ = load_data(args.data, args.target, need_target=True)
    loss, y, n_out = _choose_loss(y, args.loss, args.data)
    set_threads(args.threads)
    sizes = [X.shape[1], *args.hidden, n_out]
    model = MLP(sizes, activation=args.activation, output=LOSSES[loss].default_output,
                loss=loss, dtype=args.dtype, seed=args.seed)
    n_train = X.shape[0] - int(round(X.shape[0] * args.validation_split))
    batch = args.batch_size
    if batch is not None and batch >= n_train:   # a batch as large as the data: plain GD
        batch = None
    callbacks = [_EpochPrinter(out)] if args.verbose else None
    t0 = time.perf_counter()
    hist = model.fit(X, y, loss=loss, optimizer=args.optimizer, lr=args.lr,  # None: its default
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
        raise CLIError(f"{args.output}: cannot save the model ({one_line(exc)})") from None
    print(f"saved model to {args.output}", file=out)
    return 0


def _load_model(path):
    check_file(path)
    try:
        return load(path)
    except Exception as exc:  # any failure to read a user's file is a user error
        raise CLIError(f"{path}: cannot load a fastmlp model ({type(exc).__name__}: "
                       f"{one_line(exc)})") from None


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
            raise CLIError(f"{args.output}: cannot write ({one_line(exc)})") from None
        print(f"wrote {len(lines)} predictions to {args.output}", file=out)
    else:
        print("\n".join(lines), file=out)
    return 0


