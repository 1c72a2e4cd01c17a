"""Loss and gradient computed outside the fused training step, with sample weights:
for a user-defined loss (its NumPy ``value``/``gradient``) and for full-batch optimisers
that take the objective as a function of the parameters (scikit-learn's L-BFGS solver).

A batch's weighted loss is ``sum_i w_i c_i / S`` with ``S = sum_i w_i``; its gradient is the
batch-mean gradient with row i of delta^L multiplied by ``n_b w_i / S`` -- the same
definition the engine's weighted training step uses.
"""
from __future__ import annotations

import math

import numpy as np

from .. import _core
from .._names import LEAKY_ALPHA

__all__ = ["custom_loss_gradient", "loss_and_gradient", "row_costs"]


def row_costs(loss, Y, out):
    """Per-sample cost of a built-in loss (name) in the engine's units, in float64."""
    Y = Y.astype(np.float64)
    out = out.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if loss == "square":
            return ((Y - out) ** 2).sum(axis=1)
        if loss == "logistic":
            return np.logaddexp(0.0, -Y * out).sum(axis=1)
        if loss == "cross_entropy":
            return -(Y * np.log(np.clip(out, np.finfo(np.float64).tiny, None))).sum(axis=1)
        if loss == "hinge":
            return np.maximum(0.0, 1.0 - Y * out).sum(axis=1)
        if loss == "margin":
            rows = np.arange(len(out))
            cls = np.argmax(Y, axis=1)
            h = np.maximum(0.0, 1.0 + out - out[rows, cls][:, None])
            h[rows, cls] = 0.0
            return h.sum(axis=1)
        if loss == "poisson":                         # y log(y / a) - y + a, 0 log 0 = 0
            ylog = np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1.0) / out), 0.0)
            return (ylog - Y + out).sum(axis=1)
    raise ValueError(f"no per-sample cost for loss {loss!r}")


def custom_loss_gradient(engine, loss, Xb, Yb, wb, n_threads):
    """Forward ``Xb``; return (loss value, dC/da^L for ``backward(grad_output=)``, S).
    The gradient is None when the value or the gradient is not finite; S is the batch's
    weight sum (its row count without weights; the caller skips a batch with S <= 0)."""
    a = engine.forward(Xb, n_threads=n_threads)
    nb = Xb.shape[0]
    with np.errstate(all="ignore"):
        if wb is None:
            S = float(nb)
            val = float(loss.value(Yb, a))
            g = loss.gradient(Yb, a)
        else:
            S = float(wb.sum())
            if S <= 0:
                return 0.0, None, S
            per = getattr(loss, "per_sample", None)
            costs = (np.asarray(per(Yb, a), dtype=np.float64) if per is not None else
                     np.array([loss.value(Yb[i:i + 1], a[i:i + 1]) for i in range(nb)]))
            val = float(wb @ costs) / S
            g = np.asarray(loss.gradient(Yb, a)) * (wb * (nb / S))[:, None]
        g = np.ascontiguousarray(g, dtype=engine.dtype)
    if not math.isfinite(val) or not np.all(np.isfinite(g)):
        return math.nan, None, S
    return val, g, S


def _weighted_chunk(engine, loss_name, out_act, leaky, Xb, Yb, wb, n_threads):
    """engine.grad <- weighted mean gradient of a chunk; returns (weighted mean loss, S)."""
    out = engine.forward(Xb, n_threads=n_threads)
    S = float(wb.sum())
    if S <= 0:
        return 0.0, S
    cw = (wb * (len(wb) / S)).astype(out.dtype)[:, None]
    if out_act == "softmax" or loss_name == "poisson":
        # the fused deltas (a - Y)/n of softmax + cross-entropy and exp + poisson: targets
        # a - c (a - Y) give c (a - Y)/n
        engine.backward(Xb, Y=np.ascontiguousarray(out - cw * (out - Yb)), n_threads=n_threads)
    else:
        _, delta = _core.loss(loss_name, out_act, Yb, out, out, leaky=leaky,
                              n_threads=n_threads)
        engine.backward(Xb, grad_output=np.ascontiguousarray(delta * cw), n_threads=n_threads)
    return float(wb @ row_costs(loss_name, Yb, out)) / S, S


def loss_and_gradient(engine, X, Y, loss_name, out_act, sample_weight=None, leaky=LEAKY_ALPHA,
                      n_threads=None, chunk=4096):
    """Mean loss over all rows (weighted mean with ``sample_weight``) and its gradient with
    respect to ``engine.theta`` (float64 copies; the engine's units, no L2 term), in chunks.
    ``engine.theta`` must already hold the point to evaluate."""
    n = X.shape[0]
    grad = np.zeros(engine.n_params)
    total = 0.0
    S_total = float(n) if sample_weight is None else float(sample_weight.sum())
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        if sample_weight is None:
            engine.forward(X[sl], n_threads=n_threads)
            val = engine.backward(X[sl], Y=Y[sl], n_threads=n_threads)
            S = float(sl.stop - sl.start)
        else:
            val, S = _weighted_chunk(engine, loss_name, out_act, leaky, X[sl], Y[sl],
                                     sample_weight[sl], n_threads)
            if S <= 0:
                continue
        total += val * S
        grad += engine.grad * S
    return total / S_total, grad / S_total
