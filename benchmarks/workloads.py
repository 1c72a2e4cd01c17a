"""Shared workload definitions, data generators and fit adapters for the benchmarks.

Used by the asv suite (``bench_*.py``) and by ``compare.py``.  Nothing heavy happens at
import: data is made by the cached getters :func:`get_data` on first use.

Every workload is trained with plain SGD (no momentum, no weight decay), a fixed learning
rate and the samples reshuffled before every epoch.  The fit adapters below train one
model from scratch for a number of epochs and return the final epoch's mean training loss
(or NaN where a peer does not report one cheaply).
"""
import functools
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple            # (N_0, ..., N_L)
    hidden: str             # hidden activation: "sigmoid", "relu", "tanh"
    loss: str               # "square" or "cross_entropy"
    batch: int
    dtype: str              # "float32" / "float64"
    n_samples: int
    lr: float
    quick_samples: int      # sample count in compare.py --quick

    @property
    def classification(self):
        return self.loss == "cross_entropy"

    @property
    def acts(self):
        """Engine/reference activation per layer (output: softmax / sigmoid / linear)."""
        out = {"cross_entropy": "softmax"}.get(self.loss)
        if out is None:
            out = "sigmoid" if self.hidden == "sigmoid" else "linear"
        return [self.hidden] * (len(self.sizes) - 2) + [out]

    @property
    def n_params(self):
        return sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def flops_per_sample(self):
        """Training FLOPs per sample, the usual 6 x parameters (2 forward + 4 backward)."""
        return 6 * self.n_params

    @property
    def unit(self):
        return "steps/s" if self.name == "xor" else "samples/s"


WORKLOADS = {w.name: w for w in [
    Workload("xor", (2, 4, 1), "sigmoid", "square", 4, "float64", 4, 0.5, 4),
    Workload("digits", (64, 64, 10), "relu", "cross_entropy", 32, "float64", 1797, 0.05, 1797),
    Workload("mnist", (784, 128, 10), "relu", "cross_entropy", 64, "float32", 20000, 0.05, 4000),
    Workload("wide", (784, 1024, 1024, 10), "relu", "cross_entropy", 256, "float32", 8192, 0.02,
             2048),
    Workload("regression", (8, 64, 64, 1), "tanh", "square", 32, "float64", 20000, 0.01, 4000),
    Workload("online", (784, 128, 10), "relu", "cross_entropy", 1, "float32", 2000, 0.01, 400),
    # deep and narrow: 8 hidden tanh layers of width 64 on the digits data
    Workload("deep", (64,) + (64,) * 8 + (10,), "tanh", "cross_entropy", 64, "float64", 1797,
             0.05, 1797),
]}
NAMES = list(WORKLOADS)


# ------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------
def _xor():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    return X, y


def _digits(n):
    try:
        from sklearn.datasets import load_digits
        d = load_digits()
        X, y = d.data / 16.0, d.target.astype(np.int64)
    except Exception:                      # stand-in with the same shape and classes
        X, y = _prototypes(1797, 64, 10, seed=1, p_on=0.35, noise=0.25)
    return X[:n], y[:n]


def _prototypes(n, d, k, seed, p_on=0.2, noise=0.3, dtype=np.float64, chunk=512):
    """Class prototypes + noise: k sparse 'ink' patterns in [0,1]^d, each sample a scaled,
    partly erased copy of its class's pattern plus Gaussian noise, clipped to [0, 1].

    Made ``chunk`` rows at a time straight into ``dtype``, so the generator's temporaries
    stay small (asv's peakmem includes setup)."""
    rng = np.random.default_rng(seed)
    protos = (rng.random((k, d)) < p_on).astype(np.float64)
    y = rng.integers(0, k, size=n)
    X = np.empty((n, d), dtype=dtype)
    for s in range(0, n, chunk):
        yc = y[s:s + chunk]
        m = len(yc)
        Xc = protos[yc] * rng.uniform(0.6, 1.0, size=(m, 1))
        Xc *= rng.random((m, d)) > 0.3                  # erase ~30 % of the ink
        Xc += rng.normal(0.0, noise, size=(m, d))
        np.clip(Xc, 0.0, 1.0, out=Xc)
        X[s:s + m] = Xc
    return X, y


def _regression(n, seed=3):
    """y = a fixed random 8-16-1 tanh teacher network + noise, standardised."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    W1, W2 = rng.normal(size=(8, 16)) / math.sqrt(8), rng.normal(size=(16, 1)) / 2
    y = (np.tanh(X @ W1) @ W2)[:, 0] + 0.1 * rng.normal(size=n)
    y = (y - y.mean()) / y.std()
    return X, y


@functools.lru_cache(maxsize=None)
def get_data(name, n=None):
    """(X, y, Y) for workload ``name`` with ``n`` samples (default: all).

    X is C-contiguous in the workload's dtype; y holds class indices (int64) for
    classification or real targets (1-D, dtype) for regression; Y is the canonical target
    matrix (one-hot or a column), in the workload's dtype.  Arrays are read-only: copy
    before changing them.
    """
    w = WORKLOADS[name]
    n = w.n_samples if n is None else min(int(n), w.n_samples)
    if name == "xor":
        X, y = _xor()
    elif name in ("digits", "deep"):
        X, y = _digits(n)
    elif name in ("mnist", "wide", "online"):
        X, y = _prototypes(n, 784, 10, seed={"mnist": 11, "wide": 12, "online": 13}[name],
                           dtype=np.dtype(w.dtype))
    elif name == "regression":
        X, y = _regression(n)
    else:
        raise KeyError(name)
    dt = np.dtype(w.dtype)
    X = np.ascontiguousarray(X, dtype=dt)            # no copy when already dt
    if w.classification:
        y = np.asarray(y, dtype=np.int64)
        Y = np.zeros((len(y), w.sizes[-1]), dtype=dt)
        Y[np.arange(len(y)), y] = 1
    else:
        y = np.asarray(y, dtype=dt)
        Y = np.ascontiguousarray(y[:, None])
    for a in (X, y, Y):
        a.setflags(write=False)
    return X, y, Y


# ------------------------------------------------------------------------------------------
# fit adapters: one model from scratch, `epochs` epochs; return the last epoch's mean loss
# ------------------------------------------------------------------------------------------
def has_mlp():
    try:
        import fastmlp
    except ImportError:
        return False
    return hasattr(fastmlp, "MLP") and hasattr(fastmlp, "optim")


def make_mlp(w, seed=0):
    import fastmlp
    return fastmlp.MLP(list(w.sizes), activation=w.hidden, output=w.acts[-1], loss=w.loss,
                       dtype=w.dtype, seed=seed)


def fit_fastmlp(w, X, y, Y, epochs, seed=0, n_threads=None, shuffle=True):
    """The user-facing path: ``fastmlp.MLP(...).fit`` (falls back to the engine when the
    MLP class is not available in this build)."""
    if not has_mlp():
        return fit_engine(w, X, y, Y, epochs, seed, n_threads, shuffle)
    import fastmlp
    net = make_mlp(w, seed)
    kw = {}
    if n_threads is not None:
        kw["n_threads"] = n_threads
    hist = net.fit(X, y, optimizer=fastmlp.optim.SGD(lr=w.lr), batch_size=w.batch,
                   epochs=epochs, shuffle=shuffle, seed=seed, **kw)
    return _last_loss(hist, net)


def _last_loss(hist, net=None):
    for cand in (hist, getattr(net, "history_", None), getattr(net, "loss_curve_", None)):
        if cand is None:
            continue
        if isinstance(cand, dict):
            cand = cand.get("loss", cand.get("train_loss"))
        else:
            cand = getattr(cand, "loss", cand)
        try:
            return float(np.asarray(cand, dtype=np.float64).ravel()[-1])
        except Exception:
            continue
    return float("nan")


def init_params(w, seed=0):
    from fastmlp import reference
    return reference.init_params(list(w.sizes), w.acts, seed=seed, dtype=np.dtype(w.dtype))


def make_engine(w, seed=0):
    """An engine initialised with the reference's initial parameters."""
    from fastmlp import _core
    eng = _core.Engine(list(w.sizes), w.acts, w.loss, np.dtype(w.dtype), max_batch=w.batch)
    Ws, bs, _ = init_params(w, seed)
    for dst, src in zip(eng.weights(), Ws):
        dst[...] = src
    for dst, src in zip(eng.biases(), bs):
        dst[...] = src
    return eng


def sgd_spec(lr):
    return (0, lr, 0.0, False, 0.0, 0.9, 0.999, 1e-8, 0)


def fit_engine(w, X, y, Y, epochs, seed=0, n_threads=None, shuffle=True):
    """Engine-level: ``_core.Engine.train_epochs``, all epochs in one C call."""
    eng = make_engine(w, seed)
    losses, _, _ = eng.train_epochs(X, Y, w.batch, epochs, sgd_spec(w.lr), shuffle=shuffle,
                                    seed=seed, n_threads=n_threads)
    return float(losses[-1]) if len(losses) else float("nan")


def fit_reference(w, X, y, Y, epochs, seed=0, shuffle=True):
    """``fastmlp.reference.train`` (plain NumPy)."""
    from fastmlp import reference
    *_, hist = reference.train(X, Y, list(w.sizes), w.acts, w.loss, lr=w.lr, epochs=epochs,
                               batch_size=w.batch, seed=seed, dtype=np.dtype(w.dtype),
                               shuffle=shuffle)
    return float(hist[-1]) if hist else float("nan")


def fit_numpy(w, X, y, Y, epochs, seed=0, shuffle=True):
    """The careful NumPy peer (benchmarks/numpy_mlp.py): the reference's maths with
    preallocated buffers, in-place ufuncs and one matmul per product."""
    try:
        from . import numpy_mlp
    except ImportError:
        import numpy_mlp
    hist = numpy_mlp.train(X, Y, w.sizes, w.acts, w.loss, w.lr, epochs, w.batch, seed=seed,
                           dtype=w.dtype, shuffle=shuffle)
    return float(hist[-1]) if hist else float("nan")


def torch_model(w):
    import torch
    from torch import nn
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[w.hidden]
    layers = []
    for i, (a, b) in enumerate(zip(w.sizes[:-1], w.sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(w.sizes) - 2:
            layers.append(act())
    if w.loss == "square" and w.hidden == "sigmoid":
        layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)
    return model.to(torch.float64 if w.dtype == "float64" else torch.float32)


def fit_torch(w, X, y, Y, epochs, seed=0, model=None, tensors=None, shuffle=True):
    """A standard PyTorch eager loop: nn.Sequential, CrossEntropyLoss / MSELoss,
    torch.optim.SGD, manual batching over a fresh randperm each epoch."""
    import torch
    from torch import nn
    torch.manual_seed(seed)
    if model is None:
        model = torch_model(w)
    Xt, Tt = tensors if tensors is not None else torch_tensors(w, X, y, Y)
    crit = nn.CrossEntropyLoss() if w.classification else nn.MSELoss()
    opt = torch.optim.SGD(model.parameters(), lr=w.lr, momentum=0.0)
    n, B = Xt.shape[0], w.batch
    last = float("nan")
    for _ in range(epochs):
        perm = torch.randperm(n) if shuffle else torch.arange(n)
        total = 0.0
        for s in range(0, n, B):
            idx = perm[s:s + B]
            opt.zero_grad(set_to_none=True)
            loss = crit(model(Xt[idx]), Tt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        last = total / n
    return last


def torch_tensors(w, X, y, Y):
    import torch
    Xt = torch.from_numpy(np.array(X))
    Tt = torch.from_numpy(np.array(y)) if w.classification else torch.from_numpy(np.array(Y))
    return Xt, Tt


def sklearn_estimator(w, epochs, seed=0, shuffle=True):
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    act = {"sigmoid": "logistic"}.get(w.hidden, w.hidden)
    kw = dict(hidden_layer_sizes=tuple(w.sizes[1:-1]), activation=act, solver="sgd",
              learning_rate="constant", learning_rate_init=w.lr, momentum=0.0,
              nesterovs_momentum=False, alpha=0.0, batch_size=w.batch, max_iter=epochs,
              tol=0.0, n_iter_no_change=10 ** 9, shuffle=shuffle, random_state=seed,
              early_stopping=False)
    return (MLPClassifier if w.classification else MLPRegressor)(**kw)


def fit_sklearn(w, X, y, Y, epochs, seed=0, shuffle=True):
    """scikit-learn MLPClassifier / MLPRegressor with solver='sgd', momentum 0, alpha 0
    (xor: MLPRegressor with logistic hidden units and an identity output)."""
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    est = sklearn_estimator(w, epochs, seed, shuffle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return float(est.loss_curve_[-1]) if est.loss_curve_ else float("nan")


CHECK_EPOCHS = {"xor": 2000}
"""Epochs of the fixed-length fit whose final loss compare.py reports (default 1)."""


def check_epochs(name):
    return CHECK_EPOCHS.get(name, 1)


FITTERS = {"fastmlp": fit_fastmlp, "engine": fit_engine, "reference": fit_reference,
           "numpy": fit_numpy, "torch": fit_torch, "sklearn": fit_sklearn}


# ------------------------------------------------------------------------------------------
# GEMM shapes
# ------------------------------------------------------------------------------------------
def wide_gemm_shapes(batch=256):
    """(label, M, N, K, transA, transB) for the three layers of `wide`, each in the forms
    the training step uses: NN (forward Z = A W), TN (dW = A^T delta), NT (delta W^T)."""
    w = WORKLOADS["wide"]
    out = []
    for l, (n_in, n_out) in enumerate(zip(w.sizes[:-1], w.sizes[1:]), start=1):
        out.append((f"L{l} NN {batch}x{n_in}.{n_in}x{n_out}", batch, n_out, n_in, False, False))
        out.append((f"L{l} TN {n_in}x{batch}.{batch}x{n_out}", n_in, n_out, batch, True, False))
        out.append((f"L{l} NT {batch}x{n_out}.{n_out}x{n_in}", batch, n_in, n_out, False, True))
    return out


SQUARE_SHAPES = [1024, 2048]
SMALL_SHAPES = [(4, 2, 4), (4, 4, 1), (1, 64, 64), (32, 64, 10), (32, 64, 64), (64, 64, 64)]
"""Small (M, K, N), every dimension <= 64: op(A) is M x K, op(B) K x N."""


def gemm_operands(M, N, K, transA, transB, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    A = rng.standard_normal((K, M) if transA else (M, K)).astype(dt)
    B = rng.standard_normal((N, K) if transB else (K, N)).astype(dt)
    C = np.zeros((M, N), dtype=dt)
    return A, B, C
