"""Models: the multilayer perceptron (:class:`MLP`); the single-layer :class:`Perceptron` is in
:mod:`fastmlp.perceptron`.

Notation (chapter 4.1 / 5): layers l = 1..L, ``z^l = a^{l-1} W^l + b^l``, ``a^l = sigma(z^l)``,
``a^0 = x``. Weights are stored (N_{l-1}, N_l) -- scikit-learn's ``coefs_`` layout, the
TRANSPOSE of the chapter's N_l x N_{l-1} matrix W^l -- so a batch (samples as rows) goes
through ``Z = A @ W + b``. Lists indexed by layer in a :class:`Trace` or :class:`Gradients`
follow the chapter: index l = 1..L (index 0: ``z[0]`` None, ``a[0]`` the input X).
``MLP.weights`` / ``biases`` / ``alphas`` are plain 0-based lists (``weights[0]`` is W^1).
"""
from __future__ import annotations

import math
import os
from typing import (TYPE_CHECKING, Any, Callable, Literal, Optional, Sequence, Union,
                    overload)

import numpy as np

from . import _core, _mlp_files
# derive_seed: training.py imports it from here
from ._common import (Gradients, NotFittedError, Trace, check_dtype, check_int,  # noqa: F401
                      check_n_threads, derive_seed, seed_int)
from ._init import check_init, draw_weights, seed_words, seeded_generator, uniform_bound
from ._mlp_args import architecture
from ._mlp_outputs import Outputs
from ._mlp_protocol import TrainingProtocol
from ._names import LEAKY_ALPHA, PRELU_INIT
from ._model_lock import reads as _reads, writes as _writes
from ._typing import ArrayLike, DTypeLike, FloatArray, NDArray, SeedLike
from .activations import ACTIVATIONS
from .losses import Loss, get_loss, missing_loss_error
from .perceptron import Perceptron  # noqa: F401  (fastmlp.network.Perceptron)
from .training.fit import fit as _fit

if TYPE_CHECKING:
    from .losses import LossLike
    from .optim import Optimizer, OptimizerLike, ScheduleLike
    from .training.callbacks import EarlyStopping
    from .training.history import History

    InitLike = Union[str, Callable[[np.random.Generator, int, int, str], ArrayLike], None]

__all__ = ["MLP", "Perceptron", "Trace", "Gradients", "NotFittedError"]

# the models (by id) whose fit is running: only the thread holding a model's write lock (or
# a guest acting for it) can be inside its fit, so a second fit of one of these is nested
_FITTING: set[int] = set()


# ---------------------------------------------------------------------------------------------
# MLP
# ---------------------------------------------------------------------------------------------
class MLP(Outputs, TrainingProtocol):
    """A multilayer perceptron whose passes run in the C engine.

    Parameters
    ----------
    layer_sizes : list of int
        [N_0, N_1, ..., N_L]: inputs, hidden layers, outputs.
    activation : str or list of str
        Hidden-layer activation (one name, or one per hidden layer). Names and aliases as in
        :mod:`fastmlp.activations` (step, sign, linear, piecewise_linear, sigmoid, tanh, relu,
        leaky_relu, prelu).
    output : str or None
        Output activation; None picks the loss's default (softmax for cross_entropy, linear
        otherwise). An explicit output is checked against the loss.
    loss : str, Loss or None
        Default loss for ``fit``/``backward``; may also be given to ``fit``.
    dtype : 'float64' or 'float32'
    seed : int, numpy Generator or None
        Drives initialisation (``numpy.random.default_rng(seed)``) and, unless ``fit`` gets
        its own seed, the shuffling. Same seed -> bitwise the same model, whatever the
        thread count. None draws a seed (kept in ``seed``, so saved models stay reproducible).
    init : 'glorot', 'he', 'uniform', 'normal', a callable or None
        None: He for the ReLU family, Glorot for the rest. Uniform ranges: Glorot
        U(+-sqrt(6/(n_in+n_out))), He U(+-sqrt(6/n_in)), 'uniform' U(+-1/sqrt(n_in));
        'normal': N(0, 2/n_in) for the ReLU family, N(0, 2/(n_in+n_out)) otherwise.
        A callable ``init(rng, n_in, n_out, activation)`` returns the (n_in, n_out) weights.
        Biases start at 0, PReLU slopes at ``prelu_init``.
    leaky_alpha : float
        The fixed slope of leaky_relu.
    prelu_init : float
        The initial slope of every PReLU unit (learned from there).
    n_threads : int or None
        Threads for this model's engine calls (None: ``fastmlp.get_num_threads()``).

    Notes
    -----
    ``weights``, ``biases`` and ``alphas`` are views of the engine's memory: writing into
    them changes the model. ``fit`` called again continues from the current weights (and
    optimiser state); ``reset()`` starts over.

    Threads: ``predict``, ``predict_proba``, ``decision_function``, ``forward``,
    ``score`` and ``save`` may run in any number of threads at once, in parallel, each giving
    bitwise what it gives alone. ``fit``, ``backward``, ``reset``, ``initialize`` and
    ``set_weights`` run alone: calls from other threads wait for them (and they for calls
    already running), so no call sees half-trained or torn weights. Different models never
    wait for each other. Writing into ``weights``/``theta`` directly is not covered.
    """

    loss: Optional[Loss]
    optimizer_: Optional[Optimizer]
    history_: Optional[History]
    classes_: NDArray[Any]
    epochs_trained_: int

    def __init__(self, layer_sizes: Sequence[int], activation: Union[str, Sequence[str]] = "relu",
                 output: Optional[str] = None, loss: Optional[LossLike] = None,
                 dtype: DTypeLike = "float64", seed: SeedLike = None, init: InitLike = None,
                 leaky_alpha: float = LEAKY_ALPHA, prelu_init: float = PRELU_INIT,
                 n_threads: Optional[int] = None) -> None:
        self.layer_sizes, hidden, self.loss, out = architecture(layer_sizes, activation,
                                                                 output, loss)
        self.hidden_activations = hidden
        self._output_explicit = output is not None
        self.output = out
        self.dtype = check_dtype(dtype)
        self.seed = seed_int(seed)
        init = check_init(init)
        self.init = init
        self.leaky_alpha = float(leaky_alpha)
        if not math.isfinite(self.leaky_alpha):
            raise ValueError(f"leaky_alpha must be finite, got {leaky_alpha!r}")
        self.prelu_init = float(prelu_init)
        if not math.isfinite(self.prelu_init):
            raise ValueError(f"prelu_init must be finite, got {prelu_init!r}")
        if n_threads is not None:
            check_n_threads(n_threads)
        self.n_threads = n_threads
        self._lock = _core.ModelLock()
        self.engine = self._new_engine()
        self._reset_training_state()
        self.initialize()

    # -- construction ---------------------------------------------------------------------
    @property
    def activations(self) -> list[str]:
        """Activation of each layer 1..L (a 0-based list of L names)."""
        return self.hidden_activations + [self.output]

    def _engine_loss_code(self) -> int:
        if self.loss is not None and self.loss.builtin and self.loss.code is not None:
            return self.loss.code
        # no loss, or one computed in Python (its gradient goes to the engine): the engine's
        # own loss is not used
        return _core.LOSS_CODES["square"]

    def _new_engine(self, max_batch: int = 1, loss_code: Optional[int] = None) -> Any:
        codes = [ACTIVATIONS[a].code for a in self.activations]
        if loss_code is None:
            loss_code = self._engine_loss_code()
        return _core.Engine(self.layer_sizes, codes, loss_code, self.dtype,
                            leaky=self.leaky_alpha, max_batch=max_batch)

    def _rebuild_engine(self) -> None:
        theta = self.engine.theta.copy()
        self.engine = self._new_engine(self.engine.max_batch)
        self.engine.theta[...] = theta

    def _reset_training_state(self) -> None:
        self.epochs_trained_ = 0
        self.optimizer_ = None
        self.history_ = None
        for attr in ("classes_", "_mode", "_y_1d"):
            self.__dict__.pop(attr, None)

    @_writes
    def initialize(self, seed: SeedLike = None) -> MLP:
        """Draw fresh weights from ``default_rng(seed)`` (default: the model's seed)."""
        s = self.seed if seed is None else seed_int(seed)
        eng, sizes, acts = self.engine, self.layer_sizes, self.activations
        offsets = eng.offsets()["W"]
        bounds = [uniform_bound(self.init, sizes[l], sizes[l + 1], acts[l])
                  for l in range(len(offsets))]
        if None not in bounds:
            # every layer from U(-r, r): NumPy's draws for default_rng(s), made in C from the
            # seed's words (fastmlp._core.uniform_fill), the rest of theta zero
            eng.init_uniform(seed_words(s), [(o, sizes[l] * sizes[l + 1], -r, r)
                                             for l, (o, r) in enumerate(zip(offsets, bounds))])
        else:
            # a user's init callable gets default_rng itself; the named schemes the same
            # stream from a generator seeded without recomputing the seed's hash
            rng = np.random.default_rng(s) if callable(self.init) else seeded_generator(s)
            theta = eng.theta     # one view: W^l is theta[o:o + n_in * n_out], row-major
            for l, o in enumerate(offsets):
                w = draw_weights(rng, self.init, sizes[l], sizes[l + 1], acts[l], l + 1)
                theta[o:o + w.size] = w.reshape(-1)
            theta[eng.n_weights:] = 0           # the biases (and the slopes, set below)
            del theta
        if "prelu" in acts:
            for al in eng.alphas():
                if al is not None:
                    al[...] = self.prelu_init
        return self

    @_writes
    def reset(self, seed: SeedLike = None) -> MLP:
        """Start over: new initial weights (model seed, or ``seed``), no optimiser state,
        no classes, epoch count 0."""
        if seed is not None:
            self.seed = seed_int(seed)
        self._reset_training_state()
        return self.initialize()

    @_writes
    def use_loss(self, loss: LossLike) -> Loss:
        """Make ``loss`` the model's loss (output activation adapted if it was not explicit);
        returns it as a :class:`~fastmlp.losses.Loss`."""
        loss = get_loss(loss)
        out = self.output
        if not self._output_explicit:
            out = loss.default_output
        loss.check_output(out)
        old_code = self._engine_loss_code()
        changed_out = out != self.output
        self.output = out
        self.loss = loss
        if changed_out or self._engine_loss_code() != old_code:
            self._rebuild_engine()
        return loss

    # -- parameters -----------------------------------------------------------------------
    @property
    def weights(self) -> list[FloatArray]:
        """[W^1, ..., W^L], each (N_{l-1}, N_l): views of the engine's parameter vector."""
        return self.engine.weights()

    @property
    def biases(self) -> list[FloatArray]:
        """[b^1, ..., b^L]: views of the engine's parameter vector."""
        return self.engine.biases()

    @property
    def alphas(self) -> list[Optional[FloatArray]]:
        """PReLU slopes per layer (views; None for non-PReLU layers)."""
        return self.engine.alphas()

    coefs_ = weights
    intercepts_ = biases

    @property
    def theta(self) -> FloatArray:
        """All parameters as one flat vector (a view): [W^1..W^L | b^1..b^L | alphas]."""
        return self.engine.theta

    @property
    def grad(self) -> FloatArray:
        """The gradient vector of the last backward pass (a view; layout of ``theta``)."""
        return self.engine.grad

    @_writes
    def set_weights(self, weights: Sequence[ArrayLike], biases: Sequence[ArrayLike],
                    alphas: Optional[Sequence[Optional[ArrayLike]]] = None) -> MLP:
        """Copy given weights/biases (and PReLU alphas) into the model."""
        L = self.n_layers
        if len(weights) != L or len(biases) != L:
            raise ValueError(f"give {L} weight matrices and {L} bias vectors")
        for l, (W, Wn, b, bn) in enumerate(zip(self.weights, weights, self.biases, biases)):
            Wn, bn = np.asarray(Wn), np.asarray(bn)
            if Wn.shape != W.shape or bn.shape != b.shape:
                raise ValueError(f"layer {l + 1}: expected W {W.shape} and b {b.shape}, got "
                                 f"{Wn.shape} and {bn.shape}")
            W[...] = Wn
            b[...] = bn
        if alphas is not None:
            for l, (a, an) in enumerate(zip(self.alphas, alphas)):
                if a is not None and an is not None:
                    a[...] = an
        return self

    @property
    def n_params(self) -> int:
        return int(self.engine.n_params)

    @property
    def n_layers(self) -> int:
        return len(self.layer_sizes) - 1

    @property
    def n_features_in_(self) -> int:
        return self.layer_sizes[0]

    @property
    def n_outputs_(self) -> int:
        return self.layer_sizes[-1]

    @overload
    def forward(self, X: ArrayLike, keep: Literal[True] = ...,
                n_threads: Optional[int] = ...) -> Trace: ...
    @overload
    def forward(self, X: ArrayLike, keep: Literal[False],
                n_threads: Optional[int] = ...) -> FloatArray: ...
    @overload
    def forward(self, X: ArrayLike, keep: bool,
                n_threads: Optional[int] = ...) -> Union[Trace, FloatArray]: ...

    @_reads
    def forward(self, X: ArrayLike, keep: bool = True,
                n_threads: Optional[int] = None) -> Union[Trace, FloatArray]:
        """Forward pass of a batch. ``keep=True``: a :class:`Trace` with ``z[l]``, ``a[l]``
        (chapter notation); ``keep=False``: only the output a^L."""
        if not keep:
            return self._outputs(X, n_threads)
        X = self.check_inputs(X)
        if X.shape[0] == 0:
            raise ValueError("X has no samples (0 rows)")
        z, a = self.engine.forward_trace(X, n_threads=self._nt(n_threads))
        a[0] = X
        return Trace(z, a)

    @_writes
    def backward(self, trace: Trace, y: ArrayLike, loss: Optional[LossLike] = None,
                 n_threads: Optional[int] = None) -> Gradients:
        """Backward pass (chapter 5) for the batch of ``trace``; returns :class:`Gradients`.

        ``y``: labels/targets (encoded with the loss, using ``classes_`` when fitted).
        ``loss``: defaults to the model's loss. Also leaves the gradient in ``model.grad``,
        so ``optimizer.step(model)`` can apply it.
        """
        if not isinstance(trace, Trace):
            raise TypeError(f"trace must be a Trace from forward(), got {type(trace).__name__}")
        loss = self._resolve_loss(loss)
        X = self.check_inputs(trace.a[0], "trace.a[0]")
        Y = self.encode_targets(loss, y, X.shape[0], fitting=False).Y
        nt = self._nt(n_threads)
        if loss.builtin:
            if loss.code == self.engine.loss_code:
                eng = self.engine
            else:   # another built-in loss: a temporary engine holding the same parameters
                loss.check_output(self.output)
                eng = self._new_engine(X.shape[0], loss.code)
                eng.theta[...] = self.engine.theta
            eng.forward(X, n_threads=nt)
            value = eng.backward(X, Y=Y, n_threads=nt)
            if eng is not self.engine:
                self.engine.grad[...] = eng.grad
        else:
            eng = self.engine
            eng.forward(X, n_threads=nt)
            _, a = eng.trace()
            value = float(loss.value(Y, a[-1]))
            g = np.ascontiguousarray(loss.gradient(Y, a[-1]), dtype=self.dtype)
            eng.backward(X, grad_output=g, n_threads=nt)
        delta = eng.deltas()
        dW = [None] + [w.copy() for w in eng.grad_weights()]
        db = [None] + [b.copy() for b in eng.grad_biases()]
        dalpha = [None] + [None if d is None else d.copy() for d in eng.grad_alphas()]
        return Gradients(delta, dW, db, dalpha, float(value))

    def _resolve_loss(self, loss: Optional[LossLike]) -> Loss:
        if loss is not None:
            loss = get_loss(loss)
            loss.check_output(self.output)
            return loss
        if self.loss is None:
            raise missing_loss_error()
        return self.loss

    def encode_targets(self, loss: Loss, y: ArrayLike, n: int, fitting: bool = False) -> Any:
        """``y`` (``n`` labels or targets) encoded for ``loss`` (an
        :class:`~fastmlp.losses.Encoded`: ``Y`` in the model's dtype); when ``fitting``, the
        model learns ``classes_`` and :attr:`target_mode` from it."""
        if y is None:
            raise ValueError("y is required")
        y_arr = np.asarray(y)
        if y_arr.ndim == 0:
            raise ValueError("y must be an array of labels or targets, got a scalar")
        if y_arr.shape[0] != n:
            raise ValueError(f"X and y have different lengths: {n} samples in X, "
                             f"{y_arr.shape[0]} in y")
        classes = getattr(self, "classes_", None) if loss.is_classifier else None
        if fitting and loss.is_classifier and getattr(self, "_mode", None) in (None,
                                                                              "regression"):
            classes = None
        enc = loss.encode(y_arr, self.layer_sizes[-1], classes=classes, dtype=self.dtype)
        if fitting:
            if enc.classes is not None:
                self.classes_ = np.asarray(enc.classes)
            else:
                self.__dict__.pop("classes_", None)
            self._mode = enc.mode
            self._y_1d = y_arr.ndim == 1
        return enc


    # -- training -------------------------------------------------------------------------
    @_writes
    def fit(self, X: ArrayLike, y: ArrayLike, loss: Optional[LossLike] = None,
            optimizer: OptimizerLike = None, lr: Union[float, str, None] = None,
            batch_size: Optional[int] = 32, epochs: int = 10, shuffle: bool = True,
            drop_last: bool = False, validation_split: float = 0.0,
            validation_data: Optional[Sequence[ArrayLike]] = None,
            validation_shuffle: bool = False,
            early_stopping: Union[int, bool, EarlyStopping, None] = None,
            min_delta: float = 0.0, restarts: int = 1,
            callbacks: Optional[Sequence[Any]] = None, verbose: int = 0,
            progress: bool = False, schedule: ScheduleLike = None, seed: Optional[int] = None,
            n_threads: Optional[int] = None, on_divergence: str = "warn",
            sample_weight: Optional[ArrayLike] = None,
            report: Union[str, os.PathLike[str], Any, None] = None) -> History:
        """Train the network on ``(X, y)`` (chapter 4.3) and return what happened.

        Calling ``fit`` again continues from the current weights and optimiser state (and
        the epoch numbering); :meth:`reset` starts over.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs, converted once to the model's dtype (C-contiguous). NaN or infinite
            values raise ValueError.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, encoded for the loss: class labels of any type (numbers, strings) for
            the classification losses (learned into ``classes_``), one-hot or probability
            rows for ``cross_entropy``, real values for ``square``.
        loss : str, Loss or None, default None
            The loss to minimise: a name (``'square'``, ``'hinge'``, ``'logistic'``,
            ``'cross_entropy'``, ``'margin'`` or an alias), a
            :class:`~fastmlp.losses.Loss` subclass or instance (a user-defined loss trains
            on a slower, per-batch path). None uses the model's loss. fastmlp does not
            guess the task from ``y``: a model with no loss raises ValueError naming
            ``loss='cross_entropy'`` (classification) and ``loss='square'`` (regression).
            A loss given here becomes the model's loss.
        optimizer : {'sgd', 'adam'}, Optimizer or None, default None
            How the parameters move: a name, or an :class:`~fastmlp.optim.Optimizer`
            (e.g. ``fm.optim.SGD(lr=0.1, momentum=0.9)``), whose state is used and updated.
            None continues with the previous fit's optimiser, else ``SGD(lr=0.01)``.
        lr : float, 'auto' or None, default None
            Overrides the optimiser's learning rate eta (its ``base_lr``). ``'auto'`` first
            runs a short sweep on this fit's data and options
            (:mod:`fastmlp.training.lr_search`: four rates a decade apart for the optimiser,
            three bisection stages, a tenth of the epochs, 1 to 10, and at least 50 steps;
            the largest rate within 10 % of the lowest final validation -- else training --
            loss wins), then trains with that rate: ``history.lr_search`` holds the sweep,
            and the weights are those of ``fit(lr=<that rate>)``.
        batch_size : int or None, default 32
            Samples per step. None is full-batch gradient descent (one step per epoch),
            1 is stochastic gradient descent, B is mini-batch SGD. A B larger than the
            training set means the whole set (no error and no warning; scikit-learn's rule).
        epochs : int, default 10
            Passes over the training set (>= 0). Epochs are numbered from 1, continuing
            across calls.
        shuffle : bool, default True
            Reshuffle the samples before every epoch (a counter-based order seeded by
            ``seed``: the same on any number of threads).
        drop_last : bool, default False
            Skip the last, short batch of each epoch.
        validation_split : float, default 0.0
            Fraction in [0, 1) of the samples held out to measure ``val_loss`` and
            ``val_metric`` after every epoch: the LAST fraction, as in Keras (see
            ``validation_shuffle``).
        validation_data : tuple or None, default None
            ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)`` to validate on
            instead; not together with ``validation_split``.
        validation_shuffle : bool, default False
            Hold out a random fraction (drawn with the seed) instead of the last one.
        early_stopping : int, bool, EarlyStopping or None, default None
            Stop when the monitored value (``val_loss`` with validation, else the training
            loss) has not improved by more than ``min_delta`` for this many epochs, and
            restore the best epoch's weights. True means 10; an
            :class:`~fastmlp.training.EarlyStopping` gives full control.
        min_delta : float, default 0.0
            The improvement ``early_stopping`` requires.
        restarts : int, default 1
            Train this many fresh initialisations (the first from the model's seed, the
            others from seeds derived from it) and keep the best by validation loss (or
            training loss). Independent restarts run in parallel, one per engine thread,
            with bitwise the results of running them in turn; every restart's History is in
            ``history.restarts``. Ctrl-C keeps the restarts that finished, stops those
            running at their next epoch boundary, skips the rest and keeps the best of those
            that ran (``history.interrupted`` is then True and ``history.restarts`` lists
            only those).
        callbacks : list or None, default None
            Objects with ``on_epoch_end(epoch, logs)`` (return True to stop) and/or
            ``on_batch_end(batch, logs)``, ``on_progress(epoch, batches_done, n_batches,
            logs)``, ``on_train_begin(run)``, ``on_train_end(run)``; see
            :mod:`fastmlp.training.callbacks`. ``on_batch_end`` makes training call the
            engine once per batch.
        verbose : int, default 0
            0 silent; 1 the progress bar of ``progress=True`` (on stderr) plus a line on
            stdout for what ``fit`` chose (the rate ``lr='auto'`` picked); 2 one line per
            epoch on stdout (loss, validation, rate, time) instead of the bar, plus that
            line. Any verbose output runs ``restarts`` one after another.
        progress : bool, default False
            Only the progress bar, on stderr (tqdm when installed), nothing on stdout; with
            ``verbose=2`` both the bar and the epoch lines. It advances within an epoch
            when an epoch takes longer than about a second.
        schedule : Schedule, callable or None, default None
            A learning-rate schedule from :mod:`fastmlp.optim` (``Cosine``, ``StepLR``,
            ``ReduceOnPlateau``, ...) applied between epochs.
        seed : int or None, default None
            Seed of the shuffling (and of ``validation_shuffle``); None derives it from the
            model's seed, so the same model seed gives the same run.
        n_threads : int or None, default None
            Engine threads for this call (default: the model's, else
            ``fastmlp.get_num_threads()``). Results do not depend on it.
        on_divergence : {'warn', 'raise'}, default 'warn'
            When a step's loss or gradient becomes NaN or infinite, that step changes
            nothing and training stops: 'warn' emits a
            :class:`~fastmlp.training.DivergenceWarning` (``history.diverged`` is True),
            'raise' raises FloatingPointError.
        sample_weight : array-like of shape (n_samples,) or None, default None
            One weight >= 0 per sample: every batch's loss is the weighted mean of its
            samples' costs (scikit-learn's definition), inside the same C call.
        report : str, os.PathLike, Report or None, default None
            Write a self-contained HTML report of the run there (a
            :class:`~fastmlp.training.Report`: curves, the configuration, per-layer
            histograms of W, b, a and delta at sampled epochs, decision regions for 2-D
            inputs, a confusion matrix or residuals); written once when the fit ends, also
            after divergence, an error or Ctrl-C. A report makes the run return to Python
            between epochs and runs ``restarts`` one after another.

        Returns
        -------
        History
            One entry per completed epoch: ``epoch`` (numbers from 1), ``loss``,
            ``val_loss``, ``val_metric``, ``lr``, ``time``; ``best_epoch``, ``stopped_early``,
            ``diverged``, ``interrupted``, ``restarts``, ``lr_search`` (with ``lr='auto'``).
            Also kept as ``history_``.

        Raises
        ------
        ValueError
            Bad data or options (the message says what was wrong and what was expected),
            or no loss.
        TypeError
            Arguments of the wrong type.
        FloatingPointError
            Divergence with ``on_divergence='raise'``.

        See Also
        --------
        fastmlp.training.Run : the training loop every front end uses.
        fastmlp.sklearn.MLPClassifier : the same training behind scikit-learn's interface.

        Notes
        -----
        Without callbacks, validation or a changing schedule, all epochs run in one C call.
        Ctrl-C leaves the model at the end of the last completed epoch
        (``history.interrupted``).

        Examples
        --------
        >>> import numpy as np, fastmlp as fm
        >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
        >>> y = np.array([0, 1, 1, 0])
        >>> net = fm.MLP([2, 4, 1], activation="tanh", loss="logistic", seed=0)
        >>> hist = net.fit(X, y, optimizer=fm.optim.SGD(lr=0.5), epochs=500)
        >>> net.score(X, y), hist.epoch[-1]
        (1.0, 500)
        """
        key = id(self)
        if key in _FITTING:
            raise RuntimeError(
                "MLP.fit called while a fit of the same model is running on this thread (from "
                "a callback, a validation or loss function): the outer fit would silently "
                "lose its epochs. Fit a copy (copy.deepcopy(model)) or stop the outer fit "
                "first (return True from on_epoch_end)")
        _FITTING.add(key)
        try:
            return _fit(self, X, y, loss=loss, optimizer=optimizer, lr=lr,
                        batch_size=batch_size, epochs=epochs, shuffle=shuffle,
                        drop_last=drop_last, validation_split=validation_split,
                        validation_data=validation_data,
                        validation_shuffle=validation_shuffle, early_stopping=early_stopping,
                        min_delta=min_delta, restarts=restarts, callbacks=callbacks,
                        verbose=verbose, progress=progress, schedule=schedule, seed=seed,
                        n_threads=n_threads, on_divergence=on_divergence,
                        sample_weight=sample_weight, report=report)
        finally:
            _FITTING.discard(key)

    # -- description and persistence (the functions of fastmlp._mlp_files) ----------------
    summary = _mlp_files.summary
    __repr__ = _mlp_files.model_repr
    save = _mlp_files.save
    load = classmethod(_mlp_files.load)
    _from_saved = classmethod(_mlp_files.from_saved)
    __getstate__ = _mlp_files.getstate
    __setstate__ = _mlp_files.setstate
    __deepcopy__ = _mlp_files.deepcopy_model
