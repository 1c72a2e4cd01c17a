"""What the three estimators share: the fitted network behind ``coefs_``/``intercepts_``,
pickling, prediction in chunks, and the fit driver (data checks, first call or warm start,
restarts, validation split, the stochastic solvers through :class:`fastmlp.training.Run`,
L-BFGS through scipy). Each estimator supplies its :class:`Settings`, its :class:`Plan`
and how its targets are encoded and scored."""
from __future__ import annotations

import copy
import functools
import threading

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.validation import check_is_fitted

from .. import _core
from .._version import __version__
from ..training import best_of_restarts, restart_workers
from ..training.loop import warn_user
from ..training.report import Report
from ._lr import search_learning_rate
from ._compat import TagsMixin, check_sample_weight, validate_data
from ._network import Network
from ._threads import resolve_n_threads


# scikit-learn's error for a fit whose weights became non-finite (MLP._fit), word for word
NONFINITE_MESSAGE = ("Solver produced non-finite parameter weights. The input data may "
                     "contain large values and need to be preprocessed.")


# the API reference is one page, docs/api.rst -> api.html, where each estimator's entry
# has the id fastmlp.sklearn.<name> (automodule fastmlp.sklearn)
DOC_PAGE = "api.html"
DOC_URL = ("https://fastmlp.readthedocs.io/en/{version}/" + DOC_PAGE
           + "#fastmlp.sklearn.{estimator_name}")


class _BlankSeed:
    """A seed sequence for ``MT19937`` whose words are all 0 (a list: read word by word
    quickly), overwritten at once by ``RandomState.seed``: it only spares MT19937 drawing a
    seed from the OS."""

    @staticmethod
    def generate_state(n_words, dtype=np.uint32):
        return [0] * n_words


_blank_seed = None         # the _BlankSeed once it has proved itself; False: not usable


def _seeded_fast(seed, blank):
    rs = np.random.RandomState(np.random.MT19937(blank))
    rs.seed(seed)
    return rs


def _same_state(a, b):
    sa, sb = a.get_state(), b.get_state()
    return sa[0] == sb[0] and np.array_equal(sa[1], sb[1]) and sa[2:] == sb[2:]


def random_state(seed):
    """``sklearn.utils.check_random_state(seed)``: for an int seed the same fresh
    ``RandomState(seed)`` (MT19937 seeded by NumPy's legacy rule, as ``RandomState(seed)``
    and ``RandomState.seed`` both do), made without first seeding it from the OS. The
    shortcut checks itself once against ``RandomState`` and is not used if it differs."""
    global _blank_seed
    if type(seed) is int and 0 <= seed < 2 ** 32 and _blank_seed is not False:
        if _blank_seed is None:
            try:
                from numpy.random.bit_generator import ISeedSequence
                ISeedSequence.register(_BlankSeed)
                blank = _BlankSeed()
                ok = _same_state(_seeded_fast(12345, blank), np.random.RandomState(12345))
            except Exception:       # pragma: no cover - a NumPy without the shortcut
                ok = False
            _blank_seed = blank if ok else False
            if not ok:              # pragma: no cover
                return check_random_state(seed)
        return _seeded_fast(seed, _blank_seed)
    return check_random_state(seed)


def _plain_fit_data(est, X, y, y_numeric):
    """What ``validate_data(est, X, y, ..., reset=True)`` gives a fit, for the common case
    of dense arrays it accepts as they are -- X a finite 2-D float64/float32 ndarray with
    rows and columns, y a 1-D array of int (or str) labels, or for a regressor of finite
    floats, one per row -- with its side effects (``n_features_in_`` set,
    ``feature_names_in_`` dropped); None for anything else (scikit-learn checks it)."""
    if (type(X) is not np.ndarray or X.ndim != 2 or X.dtype not in _FLOATS
            or X.shape[0] < 1 or X.shape[1] < 1 or not X.flags.c_contiguous
            or type(y) is not np.ndarray or y.ndim != 1 or y.shape[0] != X.shape[0]):
        return None
    kind = y.dtype.kind
    if y_numeric:
        if not (kind in "iu" or (y.dtype in _FLOATS and y.flags.c_contiguous
                                   and _core.all_finite(y))):
            return None
    elif kind not in "iuU":
        return None
    if not _core.all_finite(X):
        return None
    est.__dict__.pop("feature_names_in_", None)
    est.n_features_in_ = X.shape[1]
    return X, y


_FLOATS = (np.dtype(np.float64), np.dtype(np.float32))


def doc_version(version=__version__):
    """The documentation's version slug: the release itself, 'latest' for a development
    build (a version with a dev/local part)."""
    plain = all(part.isdigit() for part in version.split("."))
    return version if plain else "latest"


# the estimators the calling thread is inside a locked method of (so that score -> predict,
# predict -> decision_function do not take the estimator's lock twice)
_inside = threading.local()


def _estimator_lock(est):
    """The estimator's readers-writer lock (a ``fastmlp._core.ModelLock``), made on first
    use; ``dict.setdefault`` makes two threads that race here agree on one lock. A copy or an
    unpickled estimator gets a free lock of its own (ModelLock pickles as a new lock)."""
    lock = est.__dict__.get("_fitted_state_lock")
    if lock is None:
        lock = est.__dict__.setdefault("_fitted_state_lock", _core.ModelLock())
    return lock


def _locked(write):
    """Decorator: run the method holding the estimator's lock, for reading (predictions: any
    number at once) or writing (fit, partial_fit: alone). Every fitted attribute --
    ``classes_``, the label binariser, the network, ``n_features_in_`` -- changes only under
    the write lock, so a prediction sees the whole old fitted state or the whole new one."""

    def wrap(method):
        @functools.wraps(method)
        def locked(self, *args, **kwargs):
            held = getattr(_inside, "ids", None)
            if held is None:
                held = _inside.ids = set()
            key = id(self)
            if key in held:          # nested call of this thread: the lock is already held
                return method(self, *args, **kwargs)
            lock = _estimator_lock(self)
            if write:
                lock.acquire_write()
            else:
                lock.acquire_read()
            held.add(key)
            try:
                return method(self, *args, **kwargs)
            finally:
                held.discard(key)
                if write:
                    lock.release_write()
                else:
                    lock.release_read()
        return locked
    return wrap


reads = _locked(False)
writes = _locked(True)


class EngineEstimator(TagsMixin, BaseEstimator):
    """Base of the estimators: subclasses define ``_settings()`` (a Settings),
    ``_plan(Y, dtype, n_features)`` (a Plan; sets output attributes), ``_init_network(net,
    rs)``, ``_validate_y``, ``_encode``, ``_decode_targets``, ``_predict_net``,
    ``_score_fn`` and ``_check_params()`` (returns the hidden layer sizes)."""

    _restarts = 1

    # the HTML representation's link to this estimator's documentation (scikit-learn >= 1.4)
    _doc_link_module = "fastmlp"
    _doc_link_template = DOC_URL

    def _doc_link_url_param_generator(self, estimator=None):
        # scikit-learn >= 1.5 calls it without arguments, 1.4 with the estimator again
        return {"version": doc_version(), "estimator_name": type(self).__name__}

    # -- the fitted network -------------------------------------------------------------------
    def _expose(self):
        """Point coefs_/intercepts_ (and alphas_ for PReLU) at views of the engine's theta."""
        model = self._net.model
        self.coefs_ = model.weights
        self.intercepts_ = model.biases
        self._view_ids = [id(a) for a in self.coefs_ + self.intercepts_]
        if "prelu" in self._net.plan.acts:
            self.alphas_ = model.alphas
            self._view_ids += [id(a) for a in self.alphas_ if a is not None]

    def _assigned(self):
        lists = [self.coefs_, self.intercepts_]
        if "prelu" in self._net.plan.acts:
            lists.append([a for a in self.alphas_ if a is not None])
        return [a for lst in lists for a in lst]

    def _sync(self):
        """Make the engine hold what coefs_/intercepts_ say (a user may have assigned new
        arrays, e.g. to start from given weights)."""
        net = self._net
        if [id(a) for a in self._assigned()] == self._view_ids:
            return net
        sizes = net.plan.sizes
        if len(self.coefs_) != len(sizes) - 1 or len(self.intercepts_) != len(sizes) - 1:
            raise ValueError(f"coefs_ and intercepts_ must hold {len(sizes) - 1} arrays each, "
                             f"got {len(self.coefs_)} and {len(self.intercepts_)}")
        for dst, src in zip(net.model.weights + net.model.biases,
                            self.coefs_ + self.intercepts_):
            src = np.asarray(src)
            if src.shape != dst.shape:
                raise ValueError(f"a coefs_/intercepts_ entry has shape {src.shape}, the "
                                 f"network needs {dst.shape}")
            dst[...] = src
        if "prelu" in net.plan.acts:
            for dst, src in zip(net.model.alphas, self.alphas_):
                if dst is not None:
                    dst[...] = np.asarray(src)
        self._expose()
        return net

    @reads
    def __getstate__(self):
        state = dict(super().__getstate__())
        for k in ("coefs_", "intercepts_", "alphas_"):
            if k in state:          # the views are rebuilt from the network on unpickling
                state[k] = [None if a is None else np.array(a) for a in state[k]]
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_net" in state:
            assigned = (self.coefs_, self.intercepts_, getattr(self, "alphas_", None))
            self._expose()
            self.coefs_, self.intercepts_ = assigned[0], assigned[1]
            if assigned[2] is not None:
                self.alphas_ = assigned[2]
            self._view_ids = []
            self._sync()

    # -- data ---------------------------------------------------------------------------------
    def _float_dtype(self, X):
        if self.dtype is None:
            return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
        return np.dtype(self.dtype)

    def _prep_X(self, X, dtype):
        if sp.issparse(X) or isinstance(X, _core.CSR):   # kept sparse: CSR rows, no copy
            return _core.csr_input(X, dtype)             # of size n_samples x n_features
        return np.ascontiguousarray(X, dtype=dtype)

    def _check_X_predict(self, X):
        check_is_fitted(self)
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                             dtype=(np.float64, np.float32))

    def _output(self, X, net=None):
        """a^L for X (already validated), computed in chunks by the engine."""
        net = self._sync() if net is None else net
        return net.output(self._prep_X(X, net.plan.dtype), resolve_n_threads(self.n_threads))

    def _score_net(self, net, X, y, sw):
        pred = self._predict_net(net, X)
        if np.issubdtype(np.asarray(pred).dtype, np.floating) and not np.isfinite(pred).all():
            return np.nan
        return self._score_fn(y, pred, sample_weight=sw)

    def _stratify_labels(self, Y):
        return None

    # -- fit ----------------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        hidden = self._check_params()
        s = self._settings()
        if incremental and s.solver == "lbfgs":
            raise AttributeError("partial_fit is only available for stochastic optimizers. "
                                 "lbfgs is not stochastic.")
        if incremental and s.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        auto_lr = s.learning_rate_init == "auto" and s.solver != "lbfgs"
        first = not hasattr(self, "_net") or (not self.warm_start and not incremental)
        checked = _plain_fit_data(self, X, y, self._y_numeric) if first else None
        X, y = checked if checked is not None else validate_data(
            self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
            dtype=(np.float64, np.float32), reset=first, y_numeric=self._y_numeric)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, dtype=np.float64)
        Y = self._validate_y(y, incremental, first, classes)
        self.n_threads_ = nt = resolve_n_threads(self.n_threads)
        rs = random_state(self.random_state)
        if first:
            plan = self._plan(Y, self._float_dtype(X), X.shape[1], hidden)
            nets = []
            for r in range(self._restarts):    # initial weights drawn in turn from rs
                net = Network(plan)
                self._init_network(net, rs)
                nets.append(net)
                if r == 0:
                    split = self._split(X, Y, sample_weight, s, rs, plan)
        else:
            net = self._sync()
            if list(net.plan.sizes[1:-1]) != list(hidden):
                raise ValueError(f"hidden_layer_sizes changed from {net.plan.sizes[1:-1]} to "
                                 f"{list(hidden)}; refit with warm_start=False")
            nets = [net]
            split = self._split(X, Y, sample_weight, s, rs, net.plan)
        # the shuffling streams: scikit-learn's, random_state itself after the init and the
        # split (fresh in every fit/partial_fit call, as scikit-learn's); further restarts
        # get streams seeded from a copy of it, so the first one's draws stay scikit-learn's
        extra = (copy.deepcopy(rs).randint(0, 2 ** 31 - 1, size=len(nets) - 1)
                 if len(nets) > 1 else ())
        for r, net in enumerate(nets):
            net.seed = 0
            net.shuffle_rs = rs if r == 0 else np.random.RandomState(int(extra[r - 1]))
        if first:
            self.t_ = 0
        t0 = self.t_
        for k in ("lr_search_", "learning_rate_init_"):
            self.__dict__.pop(k, None)
        if auto_lr:             # fastmlp's extension: a learning-rate sweep first
            s = search_learning_rate(self, nets[0], split, s, nt, t0)

        # fastmlp's extension: an HTML report of the run (written once, with the kept run)
        report = None if self.report is None else Report(self.report)
        if report is not None:
            report.deferred = True
            report.class_names = getattr(self, "classes_", None)

        def train_one(r, threads):
            net = nets[r]
            hist = self.train_network(net, split, s, nt if threads is None else threads,
                                      incremental, t0, report=report)
            return hist, net

        workers = restart_workers(len(nets), nt, [report] if report else (),
                                  verbose=self.verbose)
        best = None
        try:
            best, done = best_of_restarts(len(nets), train_one, workers)
        except FloatingPointError as exc:   # on_divergence='raise': scikit-learn's error
            if self._divergence_policy() != "raise":
                raise
            raise ValueError(NONFINITE_MESSAGE) from exc
        finally:
            if report is not None and report.last_history is not None:
                kept = done[best][0] if best is not None else report.last_history
                report.write(kept, lr_search=getattr(self, "lr_search_", None),
                             run_index=best if len(report.runs) == len(nets) else None)
        if self.verbose and len(nets) > 1:
            for r, (h, _) in enumerate(done):
                print(f"Restart {r + 1}/{len(nets)}: score = {-h.final_score(h.restored_best):.8f}")
        hist, net = done[best]
        self._net = net
        self._expose()
        self._record(hist, net, s, split, incremental, first)
        return self

    def _split(self, X, Y, sw, s, rs, plan):
        """(X_train, Y_train, w_train, validation or None), in the engine's dtype, targets
        encoded; the validation split is scikit-learn's (random_state after the init)."""
        Yt = np.ascontiguousarray(self._encode(Y, plan), dtype=plan.dtype)
        if not s.early_stopping or s.solver == "lbfgs":
            return self._prep_X(X, plan.dtype), Yt, sw, None
        if not sp.issparse(X):
            X = self._prep_X(X, plan.dtype)
        parts = train_test_split(X, Yt, *(() if sw is None else (sw,)), random_state=rs,
                                 test_size=s.validation_fraction,
                                 stratify=self._stratify_labels(Yt))
        X_tr, X_val, Y_tr, Y_val = parts[:4]
        sw_tr, sw_val = (parts[4], parts[5]) if sw is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase "
                             "'validation_fraction' or the size of your dataset.")
        return (self._prep_X(X_tr, plan.dtype), np.ascontiguousarray(Y_tr), sw_tr,
                (X_val, self._decode_targets(Y_val, plan), sw_val))

    def _divergence_policy(self):
        """'raise' (scikit-learn's ValueError) or 'warn' (fastmlp.MLP.fit's policy)."""
        return getattr(self, "on_divergence", "raise")

    @staticmethod
    def _stochastic_policy(policy, s):
        """With early_stopping scikit-learn ends a diverging fit on its best validation
        weights, which are finite, and raises nothing: so 'raise' warns there (the stopping
        rule restores those weights)."""
        return "warn" if policy == "raise" and s.early_stopping else policy

    def train_network(self, net, split, s, nt, incremental, t0, quiet=False, report=None):
        X, Y, sw, val = split
        policy = "ignore" if quiet else self._divergence_policy()
        if s.solver == "lbfgs":
            hist, n_iter, failed = net.train_lbfgs(X, Y, sw, s, nt, on_divergence=policy)
            hist.params.update(n_iter=n_iter, failed=failed)
            if report is not None:
                report.last_history = hist
            return hist
        net.start(s, incremental)
        validate = None
        if val is not None:
            X_val, y_val, sw_val = val
            validate = lambda: {"val_score": self._score_net(net, X_val, y_val, sw_val)}  # noqa: E731
        w = None if sw is None else np.ascontiguousarray(sw, dtype=net.plan.dtype)
        return net.train(X, Y, w, s, nt, epochs=1 if incremental else s.max_iter,
                         samples0=t0, validate=validate, verbose=self.verbose and not quiet,
                         on_divergence=self._stochastic_policy(policy, s),
                         share_threads=self.n_threads is None,
                         callbacks=[] if report is None else [report])

    def _record(self, hist, net, s, split, incremental, first):
        """The fitted attributes scikit-learn names, from the run's History."""
        n = split[0].shape[0]
        if s.solver == "lbfgs":
            self.n_iter_ = hist.params["n_iter"]
            self.loss_ = hist.loss[-1]
            if hist.params["failed"]:
                warn_user(hist.params["failed"], ConvergenceWarning)
            for k in ("loss_curve_", "best_loss_", "validation_scores_",
                      "best_validation_score_"):
                self.__dict__.pop(k, None)
            return
        if first or not hasattr(self, "loss_curve_"):
            self.loss_curve_ = []
            self.validation_scores_ = [] if s.early_stopping else None
        self.n_iter_ = len(hist)
        self.t_ += n * len(hist)
        self.loss_curve_ += hist.loss
        if s.early_stopping:
            self.validation_scores_ += hist.val_score
            self.best_validation_score_ = net.stopper.best
            self.best_loss_ = None
        else:
            self.best_loss_ = net.stopper.best
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self._no_improvement_count = net.stopper.count
        if hist.loss:
            self.loss_ = hist.loss[-1]
        elif not hasattr(self, "loss_"):
            self.loss_ = np.nan
        if (not incremental and len(hist) == s.max_iter and not hist.stopped_early
                and not hist.diverged and not hist.interrupted):
            warn_user("Stochastic Optimizer: Maximum iterations (%d) reached and the "
                      "optimization hasn't converged yet." % s.max_iter, ConvergenceWarning)
