"""Finite-difference check of backpropagation (chapter 5) against the definition of a gradient.

``gradcheck(model, X, y)`` computes, for every parameter entry theta (the weights W^l, the
biases b^l and the learned slopes alpha^l of PReLU layers), the central difference

    dC/dtheta  ~=  (C(theta + h) - C(theta - h)) / (2 h)

of the model's cost C = the MEAN over the batch of the per-sample loss, and compares it with
the gradient the model's own ``backward`` returns (``grads.dW[l]``, ``grads.db[l]``,
``grads.dalpha[l]``). The parameters are perturbed IN PLACE, through the model's live views
``model.weights``, ``model.biases`` and ``model.alphas``, one entry at a time, and every
entry is put back bitwise -- all parameters are restored from a snapshot in a ``finally``
block, so they are unchanged even when the check is interrupted by an exception.

Tolerances
----------
An entry passes when ``|analytic - numeric| <= atol * max(1, |C|) + rtol * |numeric|``.
The report also gives the maximum relative error ``|a - n| / max(|a|, |n|)`` per tensor,
over the entries where ``max(|a|, |n|)`` is above the noise floor ``atol * max(1, |C|)``
(below it a relative error only measures rounding noise).

=========  ==========================  =======  ========
dtype      eps (h = eps * max(1,|w|))  rtol     atol
=========  ==========================  =======  ========
float64    1e-6                        1e-5     1e-8
float32    4e-3                        1e-2     1e-4
=========  ==========================  =======  ========

Float32 models are checked *as they are* (their own float32 forward and backward, so the
float32 engine is what gets tested). Because a float32 forward pass is only good to about
1e-7 relative, the step is larger and the tolerance looser; the loss itself is evaluated in
float64 from the float32 outputs. The step actually taken is ``fl(w + h) - fl(w - h)`` in
the model's dtype, so rounding of the perturbed weight does not bias the quotient. For a
sharp check of the maths, check a float64 model with the same parameters.

Kinks and steps
---------------
ReLU, leaky ReLU and PReLU (at z = 0), the piecewise-linear unit (at z = +-1/2), the hinge
loss (at margin 1) and the margin loss have kinks, where the one-sided derivatives differ
and the chapter's derivative is a convention. A central difference that straddles a kink
measures neither side. gradcheck records, for every evaluation, which side of every kink
each unit is on; an entry whose +h or -h evaluation changes that pattern is *skipped* (not
judged, counted in ``n_skipped``) and a :class:`GradcheckWarning` says so. Step and sign
units have no derivative: sigma' = 0 by convention, so every parameter below them has gradient
exactly zero; the check agrees with that away from the jumps (entries crossing a jump are
skipped) and warns that the network contains such units.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Optional, Sequence, Union

import numpy as np

from ._common import INTEGER_TYPES, REAL_TYPES
from ._typing import ArrayLike

from ._names import ACTIVATION_NAMES, LOSS_NAMES
from .losses import get_loss

__all__ = ["gradcheck", "GradcheckReport", "TensorCheck", "GradcheckError", "GradcheckWarning"]

_DEFAULTS = {
    np.dtype(np.float64): dict(eps=1e-6, rtol=1e-5, atol=1e-8),
    np.dtype(np.float32): dict(eps=4e-3, rtol=1e-2, atol=1e-4),
}

_STEP_UNITS = ("step", "sign")


class GradcheckError(AssertionError):
    """Raised by :meth:`GradcheckReport.raise_if_failed` when some gradient is wrong."""


class GradcheckWarning(UserWarning):
    """The check could not judge everything: step/sign units, or kinks met by the steps."""


class TensorCheck:
    """The result for one parameter tensor (``W1``, ``b1``, ``alpha2`` ...)."""

    __slots__ = ("name", "shape", "n_entries", "n_checked", "n_skipped", "max_abs_err",
                 "max_rel_err", "passed", "worst_index", "worst_analytic", "worst_numeric")

    def __init__(self, name, shape, n_entries, n_checked, n_skipped, max_abs_err, max_rel_err,
                 passed, worst_index, worst_analytic, worst_numeric):
        self.name = name
        self.shape = shape
        self.n_entries = n_entries
        self.n_checked = n_checked
        self.n_skipped = n_skipped
        self.max_abs_err = max_abs_err
        self.max_rel_err = max_rel_err
        self.passed = passed
        self.worst_index = worst_index
        self.worst_analytic = worst_analytic
        self.worst_numeric = worst_numeric

    def __repr__(self):
        return (f"TensorCheck({self.name}, checked={self.n_checked}/{self.n_entries}, "
                f"skipped={self.n_skipped}, max_abs_err={self.max_abs_err:.3g}, "
                f"max_rel_err={self.max_rel_err:.3g}, passed={self.passed})")


class GradcheckReport:
    """What :func:`gradcheck` found, per parameter tensor.

    Attributes: ``results`` (list of :class:`TensorCheck`), ``ok`` (every tensor passed),
    ``loss`` (the cost C at the unperturbed parameters), ``loss_name``, ``dtype``, ``eps``,
    ``rtol``, ``atol``, ``warnings`` (list of str), ``analytic`` and ``numeric`` (dicts of
    float64 arrays shaped like each tensor; entries that were not checked are NaN).
    ``report["W1"]`` is the :class:`TensorCheck` of W^1.
    """

    def __init__(self, results, loss, loss_name, dtype, eps, rtol, atol, warnings_, analytic,
                 numeric):
        self.results = results
        self.loss = loss
        self.loss_name = loss_name
        self.dtype = dtype
        self.eps = eps
        self.rtol = rtol
        self.atol = atol
        self.warnings = warnings_
        self.analytic = analytic
        self.numeric = numeric

    @property
    def ok(self):
        return all(r.passed for r in self.results)

    def __bool__(self):
        return self.ok

    def __getitem__(self, name):
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no tensor {name!r} in this report; it has "
                       f"{[r.name for r in self.results]}")

    def __iter__(self):
        return iter(self.results)

    def __len__(self):
        return len(self.results)

    @property
    def failed(self):
        """Names of the tensors that failed."""
        return [r.name for r in self.results if not r.passed]

    def __str__(self):
        head = (f"gradcheck: loss={self.loss_name} C={self.loss:.6g} dtype={self.dtype} "
                f"eps={self.eps:g} rtol={self.rtol:g} atol={self.atol:g}")
        cols = ("param", "shape", "checked", "skipped", "max abs err", "max rel err", "result")
        rows = [cols]
        for r in self.results:
            rows.append((r.name, "x".join(map(str, r.shape)) or "()",
                         f"{r.n_checked}/{r.n_entries}", str(r.n_skipped),
                         f"{r.max_abs_err:.3e}", f"{r.max_rel_err:.3e}",
                         "ok" if r.passed else "FAIL"))
        widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
        lines = [head]
        for k, row in enumerate(rows):
            lines.append("  ".join(c.ljust(w) if i in (0, 1, 6) else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(row, widths))).rstrip())
            if k == 0:
                lines.append("  ".join("-" * w for w in widths))
        for r in self.results:
            if not r.passed:
                lines.append(f"worst {r.name}{list(r.worst_index)}: backward "
                             f"{r.worst_analytic:.6g}, finite difference {r.worst_numeric:.6g}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        lines.append("all gradients agree" if self.ok else
                     f"FAILED: {', '.join(self.failed)}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<GradcheckReport ok={self.ok} tensors={[r.name for r in self.results]}>"

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(str(self))

    def raise_if_failed(self):
        """Raise :class:`GradcheckError` (an AssertionError) with the table if any tensor failed."""
        if not self.ok:
            raise GradcheckError("backward gradients disagree with finite differences\n" +
                                 str(self))
        return self


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def _resolve_loss(model, loss):
    """A loss object with .name, .encode(y, n_out) and .value(Y, a, z)."""
    if loss is None:
        loss = getattr(model, "loss", None)
        if loss is None:
            raise ValueError("the model has no loss; pass loss=... (e.g. 'square')")
    if isinstance(loss, str):
        return get_loss(loss)
    if all(hasattr(loss, a) for a in ("encode", "value")):
        return loss
    raise TypeError(f"loss must be a loss name or a Loss object with encode() and value(), "
                    f"got {type(loss).__name__}")


def _encode(model, loss_obj, y, n_out):
    """The canonical float64 target matrix Y, using the classes the model was fitted on."""
    classes = getattr(model, "classes_", None) if getattr(loss_obj, "is_classifier",
                                                          False) else None
    try:
        enc = loss_obj.encode(y, n_out, classes=classes)
    except TypeError:          # an encode(y, n_outputs) without the classes keyword
        enc = loss_obj.encode(y, n_out)
    return np.asarray(getattr(enc, "Y", enc), dtype=np.float64)


def _loss_name(loss_obj):
    return str(getattr(loss_obj, "name", type(loss_obj).__name__))


def _layers(model):
    W = list(model.weights)
    b = list(model.biases)
    alphas = getattr(model, "alphas", None)
    alphas = [None] * len(W) if alphas is None else list(alphas)
    if not (len(W) == len(b) == len(alphas)):
        raise ValueError(f"model has {len(W)} weight matrices, {len(b)} bias vectors and "
                         f"{len(alphas)} alpha entries; expected one of each per layer")
    return W, b, alphas


def _tensors(model):
    """[(name, kind, layer l (1-based), live array)] for every parameter tensor."""
    W, b, alphas = _layers(model)
    out = []
    for l in range(1, len(W) + 1):
        out.append((f"W{l}", "W", l, W[l - 1]))
        out.append((f"b{l}", "b", l, b[l - 1]))
        if alphas[l - 1] is not None:
            out.append((f"alpha{l}", "alpha", l, alphas[l - 1]))
    for name, _, _, arr in out:
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{name} must be a numpy array (a live view of the parameters), "
                            f"got {type(arr).__name__}")
        if not arr.flags.writeable:
            raise ValueError(f"{name} is read-only; gradcheck perturbs the parameters in place")
    return out


def _select(tensors, params):
    names = [t[0] for t in tensors]
    if params is None or (isinstance(params, str) and params == "all"):
        return tensors
    wanted = [params] if isinstance(params, str) else list(params)
    chosen: set = set()
    for p in wanted:
        if not isinstance(p, str):
            raise TypeError(f"params must be 'all', a name or a list of names, got {p!r}")
        kind = {"W": "W", "weights": "W", "b": "b", "biases": "b", "alpha": "alpha",
                "alphas": "alpha"}.get(p)
        if kind is not None:
            chosen.update(t[0] for t in tensors if t[1] == kind)
        elif p in names:
            chosen.add(p)
        else:
            raise ValueError(f"unknown parameter {p!r}; this model has {names} "
                             f"(or the groups 'W', 'b', 'alpha', 'all')")
    return [t for t in tensors if t[0] in chosen]


def _analytic(grads, kind, l, name, shape):
    table = {"W": "dW", "b": "db", "alpha": "dalpha"}[kind]
    seq = getattr(grads, table, None)
    g = None if seq is None else seq[l]
    if g is None:
        raise ValueError(f"backward returned no gradient {table}[{l}] for {name}")
    g = np.array(g, dtype=np.float64, copy=True)
    if g.shape != tuple(shape):
        raise ValueError(f"backward's {table}[{l}] has shape {g.shape}, but {name} has "
                         f"shape {tuple(shape)}")
    return g


def _kink_pattern(acts, trace, Y, loss_name):
    """Which side of every kink / jump each unit (and each loss term) is on."""
    pat = []
    L = len(acts)
    for l in range(1, L + 1):
        act = acts[l - 1]
        z = trace.z[l]
        if act in ("relu", "leaky_relu", "prelu", "step", "sign"):
            pat.append(np.sign(z).astype(np.int8))
        elif act == "piecewise_linear":
            pat.append(np.sign(z + 0.5).astype(np.int8))
            pat.append(np.sign(z - 0.5).astype(np.int8))
    a = np.asarray(trace.a[L], dtype=np.float64)
    if loss_name == "hinge":
        pat.append(np.sign(1 - Y * a).astype(np.int8))
    elif loss_name == "margin":
        yi = np.argmax(Y, axis=1)
        m = 1 + a - a[np.arange(len(yi)), yi][:, None]
        m[np.arange(len(yi)), yi] = -1
        pat.append(np.sign(m).astype(np.int8))
    return pat


def _same(p, q):
    return all(np.array_equal(u, v) for u, v in zip(p, q))


def _check_positive(name, v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, REAL_TYPES) or not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    return float(v)


# ------------------------------------------------------------------------------------------
# the check
# ------------------------------------------------------------------------------------------
def gradcheck(model: Any, X: ArrayLike, y: ArrayLike, loss: Any = None,
              eps: Optional[float] = None, params: Union[str, Sequence[str], None] = "all",
              max_checks: Optional[int] = None, seed: int = 0, rtol: Optional[float] = None,
              atol: Optional[float] = None, skip_kinks: bool = True,
              warn: bool = True) -> GradcheckReport:
    """Compare ``model.backward``'s gradients with central finite differences of the loss.

    Parameters
    ----------
    model : MLP (or any object with ``weights``, ``biases``, ``alphas`` live views,
        ``activations``, ``dtype``, ``forward(X, keep=True)`` and ``backward(trace, y, loss)``)
    X, y : a small batch (a few samples are enough; the cost is 2 forward passes per entry).
    loss : loss name or Loss object; default the model's loss.
    eps : relative step ``h = eps * max(1, |w|)``; default 1e-6 (float64), 4e-3 (float32).
    params : "all", a tensor name ("W1", "b2", "alpha1"), a group ("W", "b", "alpha") or a
        list of these.
    max_checks : check at most this many entries per tensor, sampled with ``seed``.
    rtol, atol : tolerances (see the module docstring for the rule and the defaults).
    skip_kinks : do not judge entries whose perturbation crosses a kink (default True).
    warn : emit :class:`GradcheckWarning` for step/sign units and skipped entries.

    Returns a :class:`GradcheckReport`; the parameters are bitwise unchanged afterwards.
    """
    dtype = np.dtype(getattr(model, "dtype", None) or model.weights[0].dtype)
    if dtype not in _DEFAULTS:
        raise TypeError(f"model dtype must be float32 or float64, got {dtype}")
    d = _DEFAULTS[dtype]
    eps = d["eps"] if eps is None else _check_positive("eps", eps)
    rtol = d["rtol"] if rtol is None else _check_positive("rtol", rtol)
    atol = d["atol"] if atol is None else _check_positive("atol", atol)
    if eps == 0:
        raise ValueError("eps must be > 0")
    if max_checks is not None and (isinstance(max_checks, bool) or
                                   not isinstance(max_checks, INTEGER_TYPES) or
                                   max_checks < 1):
        raise ValueError(f"max_checks must be None or an integer >= 1, got {max_checks!r}")

    loss_obj = _resolve_loss(model, loss)
    loss_name = _loss_name(loss_obj)
    builtin_loss = LOSS_NAMES.get(loss_name)     # None for a user-defined loss
    tensors = _tensors(model)
    selected = _select(tensors, params)
    acts = [ACTIVATION_NAMES.get(a, a) for a in getattr(model, "activations", [])]
    L = len(model.weights)
    if len(acts) != L:
        acts = [""] * L       # unknown activations: no kink bookkeeping
    n_out = int(model.weights[-1].shape[1])
    X = np.ascontiguousarray(X, dtype=dtype)
    Y = _encode(model, loss_obj, y, n_out)
    loss_kw = {} if loss is None else {"loss": loss}

    notes = []
    steps = sorted({a for a in acts if a in _STEP_UNITS})
    if steps:
        notes.append(f"the network has {'/'.join(steps)} units: they have no derivative "
                     f"(sigma' = 0 by convention), so every parameter below them gets a "
                     f"zero gradient; entries whose step crosses a jump are skipped")

    def evaluate():
        tr = model.forward(X, keep=True)
        zL = tr.z[L]
        c = float(loss_obj.value(Y, np.asarray(tr.a[L], dtype=np.float64),
                                 None if zL is None else np.asarray(zL, dtype=np.float64)))
        return c, _kink_pattern(acts, tr, Y, builtin_loss)

    snapshot = [(arr, arr.copy()) for _, _, _, arr in tensors]
    rng = np.random.default_rng(seed)
    results, analytic_all, numeric_all = [], {}, {}
    skipped_in = []
    try:
        trace = model.forward(X, keep=True)
        grads = model.backward(trace, y, **loss_kw)
        analytic = {name: _analytic(grads, kind, l, name, arr.shape)
                    for name, kind, l, arr in selected}
        c0, pattern0 = evaluate()
        if not math.isfinite(c0):
            raise FloatingPointError(f"the loss at the current parameters is {c0}; "
                                     f"gradcheck needs a finite loss")
        atol_eff = atol * max(1.0, abs(c0))
        for name, kind, l, arr in selected:
            g = analytic[name]
            num = np.full(arr.shape, np.nan)
            idx_all = np.arange(arr.size)
            if max_checks is not None and arr.size > max_checks:
                idx_all = np.sort(rng.choice(arr.size, size=max_checks, replace=False))
            n_skipped = 0
            judged = []
            for k, flat in enumerate(idx_all):
                index = np.unravel_index(flat, arr.shape)
                w0 = arr[index]                      # numpy scalar of the model's dtype
                h = eps * max(1.0, abs(float(w0)))
                wp = dtype.type(float(w0) + h)
                wm = dtype.type(float(w0) - h)
                arr[index] = wp
                if k == 0:
                    _assert_live(model, kind, l, name, index, wp)
                cp, pp = evaluate()
                arr[index] = wm
                cm, pm = evaluate()
                arr[index] = w0
                num[index] = (cp - cm) / (float(wp) - float(wm))
                if skip_kinks and not (_same(pp, pattern0) and _same(pm, pattern0)):
                    n_skipped += 1
                    continue
                judged.append(index)
            results.append(_summarise(name, arr, g, num, judged, n_skipped, idx_all.size,
                                      rtol, atol_eff))
            if n_skipped:
                skipped_in.append(f"{name}: {n_skipped}")
            analytic_all[name] = g
            numeric_all[name] = num
    finally:
        for arr, saved in snapshot:
            np.copyto(arr, saved)

    if skipped_in:
        kinks = sorted({a for a in acts if a in ("relu", "leaky_relu", "prelu",
                                                 "piecewise_linear", "step", "sign")})
        if builtin_loss in ("hinge", "margin"):
            kinks.append(f"{builtin_loss} loss")
        notes.append(f"entries whose +-h step crosses a kink or jump ({', '.join(kinks)}) "
                     f"were skipped, not judged ({'; '.join(skipped_in)})")
    if warn:
        for n in notes:
            warnings.warn(n, GradcheckWarning, stacklevel=2)
    return GradcheckReport(results, c0, loss_name, dtype.name, eps, rtol, atol, notes,
                           analytic_all, numeric_all)


def _assert_live(model, kind, l, name, index, value):
    """The first write must be visible through the model: views, not copies."""
    W, b, alphas = _layers(model)
    arr = {"W": W, "b": b, "alpha": alphas}[kind][l - 1]
    if arr[index] != value:
        raise TypeError(f"model.{ {'W': 'weights', 'b': 'biases', 'alpha': 'alphas'}[kind] } "
                        f"does not return live views of the parameters ({name}); "
                        f"gradcheck perturbs parameters in place")


def _summarise(name, arr, g, num, judged, n_skipped, n_sampled, rtol, atol_eff):
    shape = tuple(arr.shape)
    if not judged:
        return TensorCheck(name, shape, arr.size, 0, n_skipped, 0.0, 0.0, True, (), 0.0, 0.0)
    idx = tuple(np.array(judged).T)
    a = g[idx]
    n = num[idx]
    abs_err = np.abs(a - n)
    scale = np.maximum(np.abs(a), np.abs(n))
    # relative error only above the noise floor: a 0 against 1e-10 of rounding is not 100 %
    rel_err = np.divide(abs_err, scale, out=np.zeros_like(abs_err), where=scale > atol_eff)
    bad = ~(abs_err <= atol_eff + rtol * np.abs(n))          # NaN counts as bad
    worst = int(np.argmax(np.where(bad, np.inf, abs_err))) if bad.any() else \
        int(np.argmax(abs_err))
    wi = tuple(int(i[worst]) for i in idx)
    return TensorCheck(name, shape, arr.size, len(judged), n_skipped,
                       float(np.max(abs_err)), float(np.max(rel_err)), not bool(bad.any()),
                       wi, float(a[worst]), float(n[worst]))
