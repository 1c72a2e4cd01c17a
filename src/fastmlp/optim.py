"""Optimisers (SGD with momentum/Nesterov, Adam) and learning-rate schedules (chapter 4.3).

An optimiser holds its hyper-parameters and its state vectors; the C engine does the update
(one fused pass over the flat parameter vector theta). Update rules, with g the gradient of the
batch-mean cost and weight decay wd added to the gradient of the weights W only (never biases
or PReLU slopes):

* SGD:           theta <- theta - lr * g
* momentum:      v <- mu v + g;  theta <- theta - lr * v                 (PyTorch convention)
* Nesterov:      v <- mu v + g;  theta <- theta - lr * (g + mu v)
* Adam:          t <- t + 1;  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
                 theta <- theta - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
* Adam, ``efficient=True`` (Kingma & Ba's efficient ordering, scikit-learn's):
                 theta <- theta - lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)

Two kinds of L2 term on the weights: ``weight_decay`` (PyTorch's: g += weight_decay * W every
step) and ``l2`` (scikit-learn's ``alpha``: the penalty ``l2 / (2 S) ||W||^2`` of each batch,
S its number of samples or sum of sample weights, so g += (l2 / S) W).

State vectors are made lazily, the first time the optimiser meets a model (one entry per
parameter, the model's dtype). ``state_dict()`` / ``load_state_dict()`` make training
resumable: train 2 epochs, save both model and optimiser state, load them, train 2 more --
the result equals 4 epochs straight.

Schedules change ``optimizer.lr`` between epochs (the fit loop calls them); they compute from
``optimizer.base_lr`` (the lr given by the user) and the number of epochs the model has
completed so far (a count over all its fits, so a resumed fit continues the schedule).
"""
from __future__ import annotations

import copy
import math
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import numpy as np

from . import _core
from ._common import INTEGER_TYPES as _INTEGERS
from ._common import StopTraining, call_repr, check_real
from ._names import OPTIMIZER_NAMES
from ._typing import DTypeLike, FloatArray

Logs = Mapping[str, float]
"""What the fit loop reports after an epoch ('loss', 'val_loss', 'lr', 'samples_seen', ...)."""
Spec = Any       # fastmlp._core.OptSpec, a NamedTuple of fm_opt's fields


__all__ = ["Optimizer", "SGD", "Adam", "get_optimizer",
           "Schedule", "Constant", "StepLR", "InverseScaling", "Cosine", "ReduceOnPlateau",
           "Adaptive", "get_schedule"]


class Optimizer:
    """Base class: hyper-parameters, lazily created state, the engine's spec tuple."""
    kind: int = -1
    _state_names: Tuple[str, ...] = ()

    def __init__(self, lr: float, weight_decay: float = 0.0, l2: float = 0.0) -> None:
        self.state: Dict[str, FloatArray] = {}
        self._lr: Optional[float] = None
        self.lr = lr
        self.base_lr: float = self.lr
        self.weight_decay = check_real("weight_decay", weight_decay, 0)
        self.l2 = check_real("l2", l2, 0)
        self.t = 0

    # lr is validated whenever it is set (also by schedules)
    @property
    def lr(self) -> float:
        """The current learning rate eta (validated whenever it is set)."""
        assert self._lr is not None
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        value = check_real("lr", value, 0, low_open=True)
        old, self._lr = self._lr, value
        if old is not None and old != value:
            self._lr_changed(old, value)

    def _lr_changed(self, old: float, new: float) -> None:
        """Hook: the learning rate changed between steps (state may need rescaling)."""

    def _set_lr_quietly(self, value: float) -> None:
        """Set lr without the rescaling hook (restoring a saved state)."""
        self._lr = check_real("lr", value, 0, low_open=True)

    def set_base_lr(self, lr: float) -> None:
        """Set both the current and the base learning rate (what schedules start from)."""
        self.lr = lr
        self.base_lr = self.lr

    # -- state ----------------------------------------------------------------------------
    def _ensure_state(self, n_params: int, dtype: DTypeLike) -> None:
        names = self._needed_state()
        if not names:                   # plain SGD: no state vectors
            return
        dtype = np.dtype(dtype)
        for name in names:
            s = self.state.get(name)
            if s is None:
                self.state[name] = np.zeros(n_params, dtype=dtype)
            elif s.shape != (n_params,):
                raise ValueError(f"{type(self).__name__} state {name!r} has {s.shape[0]} "
                                 f"entries but the model has {n_params} parameters: this "
                                 f"optimiser belongs to another model (call reset_state())")
            elif s.dtype != dtype or not s.flags.c_contiguous or not s.flags.writeable:
                self.state[name] = np.ascontiguousarray(s, dtype=dtype).copy()

    def _needed_state(self) -> Tuple[str, ...]:
        return self._state_names

    def copy_from(self, other: Optimizer) -> None:
        """Become ``other``: its hyper-parameters, learning rate, step count and state
        (shared, not copied)."""
        self.__dict__.update(other.__dict__)

    def reset_state(self) -> None:
        """Forget the state vectors and the step count (hyper-parameters are kept)."""
        self.state = {}
        self.t = 0

    def spec(self, batch_weight: Optional[float] = None) -> Spec:
        """The engine's :data:`fastmlp._core.OptSpec` (kind, lr, momentum, nesterov,
        weight_decay, beta1, beta2, eps, t, l2). With ``batch_weight`` (an update applied
        outside the training step, whose batch weight sum the engine cannot know) l2 is
        folded into weight_decay."""
        kind, mom, nest, b1, b2, eps = self._engine_params()
        wd, l2 = self.weight_decay, self.l2
        if batch_weight is not None and l2:
            wd, l2 = wd + l2 / float(batch_weight), 0.0
        return _core.OptSpec(kind, self.lr, mom, nest, wd, b1, b2, eps, int(self.t), l2)

    def _engine_params(self) -> Tuple[int, float, bool, float, float, float]:
        raise NotImplementedError

    def _vectors(self) -> Tuple[Optional[FloatArray], Optional[FloatArray]]:
        names = self._needed_state()
        s1 = self.state.get(names[0]) if len(names) > 0 else None
        s2 = self.state.get(names[1]) if len(names) > 1 else None
        return s1, s2

    def step(self, model: Any, n_threads: Optional[int] = None) -> int:
        """One update of ``model``'s parameters from its gradient (``model.backward`` first).

        ``model`` is an MLP (or a raw ``_core.Engine``). Returns the step count t. A step
        that would leave a parameter (or the optimiser's state) NaN or infinite -- a
        non-finite gradient, or an overflow such as lr x gradient in float32 -- raises
        FloatingPointError and changes nothing. On an MLP it runs alone, like ``fit``.
        """
        lock = getattr(model, "_lock", None)
        if lock is not None:
            with lock.writing():
                return self._step(model.engine, n_threads)
        return self._step(model, n_threads)

    def _step(self, engine: Any, n_threads: Optional[int]) -> int:
        self._ensure_state(engine.n_params, engine.dtype)
        s1, s2 = self._vectors()
        self.t = int(engine.update(self.spec(), s1, s2, n_threads=n_threads))
        return self.t

    # -- (de)serialisation ------------------------------------------------------------------
    def hyperparameters(self) -> Dict[str, Any]:
        """The constructor's arguments (lr is the base learning rate)."""
        raise NotImplementedError

    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to resume: type, hyper-parameters, lr, base_lr, t, state copies."""
        return {"type": type(self).__name__, "hyperparameters": self.hyperparameters(),
                "lr": self.lr, "base_lr": self.base_lr, "t": int(self.t),
                "state": {k: np.array(v, copy=True) for k, v in self.state.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> "Optimizer":
        """Restore what :meth:`state_dict` returned (arrays are copied)."""
        if not isinstance(state, dict) or "type" not in state:
            raise ValueError("state must be a dict from Optimizer.state_dict()")
        if state["type"] != type(self).__name__:
            raise ValueError(f"state is for a {state['type']} optimiser, not "
                             f"{type(self).__name__}")
        hp = dict(state.get("hyperparameters", {}))
        self.__init__(**hp)  # type: ignore[misc]  # the same class: its own arguments
        self.lr = state.get("lr", self.lr)
        self.base_lr = check_real("base_lr", state.get("base_lr", self.lr), 0, low_open=True)
        t = state.get("t", 0)
        if isinstance(t, bool) or not isinstance(t, _INTEGERS) or t < 0:
            raise ValueError(f"t must be a non-negative int, got {t!r}")
        self.t = int(t)
        self.state = {}
        for k, v in state.get("state", {}).items():
            if k not in self._state_names:
                raise ValueError(f"unknown state vector {k!r} for {type(self).__name__}; "
                                 f"expected {list(self._state_names)}")
            v = np.array(v, copy=True)
            if v.ndim != 1 or v.dtype.kind != "f":
                raise ValueError(f"state vector {k!r} must be a 1-D float array, got "
                                 f"{v.dtype} {v.shape}")
            self.state[k] = np.ascontiguousarray(v)
        return self

    def __repr__(self) -> str:
        return call_repr(type(self).__name__, self.hyperparameters())

    def __deepcopy__(self, memo: Dict[int, Any]) -> "Optimizer":
        new = copy.copy(self)
        new.state = {k: v.copy() for k, v in self.state.items()}
        return new


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and weight decay.

    lr > 0; momentum in [0, 1); nesterov needs momentum > 0; weight_decay >= 0 and l2 >= 0
    (L2 on W, see the module docs). ``lr_in_velocity=True`` is scikit-learn's (and
    Sutskever's) momentum ``v <- mu v - lr g; theta <- theta + v``: the same steps as the
    default while lr is constant; when a schedule changes lr, the stored velocity is
    rescaled by ``lr_old / lr_new`` so the past steps keep their size.
    """
    kind = _core.OPT_CODES["sgd"]

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, l2: float = 0.0,
                 lr_in_velocity: bool = False) -> None:
        super().__init__(lr, weight_decay, l2)
        self.momentum = check_real("momentum", momentum, 0, 1, high_open=True)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum <= 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)
        if not isinstance(lr_in_velocity, (bool, np.bool_)):
            raise TypeError(f"lr_in_velocity must be True or False, got {lr_in_velocity!r}")
        self.lr_in_velocity = bool(lr_in_velocity)

    def _lr_changed(self, old: float, new: float) -> None:
        v = self.state.get("velocity")
        if self.lr_in_velocity and v is not None:
            v *= old / new

    def _needed_state(self) -> Tuple[str, ...]:
        return ("velocity",) if self.momentum > 0 else ()

    _state_names = ("velocity",)

    def _engine_params(self) -> Tuple[int, float, bool, float, float, float]:
        return (self.kind, self.momentum, self.nesterov, 0.0, 0.0, 0.0)

    def hyperparameters(self) -> Dict[str, Any]:
        return {"lr": self.base_lr, "momentum": self.momentum, "nesterov": self.nesterov,
                "weight_decay": self.weight_decay, "l2": self.l2,
                "lr_in_velocity": self.lr_in_velocity}


class Adam(Optimizer):
    """Adam (bias-corrected) with L2 weight decay on the weights (as torch.optim.Adam).

    lr > 0; betas = (beta1, beta2) each in [0, 1); eps > 0; weight_decay >= 0, l2 >= 0 (see
    the module docs). ``efficient=True``: Kingma & Ba's efficient ordering (scikit-learn's),
    where eps is added to sqrt(v) before the bias corrections -- the same steps but for
    where eps enters.
    """
    _state_names = ("m", "v")

    def __init__(self, lr: float = 0.001, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, l2: float = 0.0,
                 efficient: bool = False) -> None:
        super().__init__(lr, weight_decay, l2)
        if not isinstance(efficient, (bool, np.bool_)):
            raise TypeError(f"efficient must be True or False, got {efficient!r}")
        self.efficient = bool(efficient)
        try:
            b1, b2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (check_real("beta1", b1, 0, 1, high_open=True),
                      check_real("beta2", b2, 0, 1, high_open=True))
        self.eps = check_real("eps", eps, 0, low_open=True)

    @property
    def kind(self) -> int:  # type: ignore[override]  # a class attribute elsewhere
        return int(_core.OPT_CODES["adam_efficient" if self.efficient else "adam"])

    def _engine_params(self) -> Tuple[int, float, bool, float, float, float]:
        return (self.kind, 0.0, False, self.betas[0], self.betas[1], self.eps)

    def hyperparameters(self) -> Dict[str, Any]:
        return {"lr": self.base_lr, "betas": tuple(self.betas), "eps": self.eps,
                "weight_decay": self.weight_decay, "l2": self.l2, "efficient": self.efficient}


OPTIMIZERS: Dict[str, Callable[..., Optimizer]] = {"sgd": SGD, "adam": Adam}

OptimizerLike = Union[str, Optimizer, "type[Optimizer]", None]
"""An optimiser: a name ('sgd', 'adam'), an Optimizer instance or class, or None (SGD)."""


def get_optimizer(optimizer: OptimizerLike, lr: Optional[float] = None) -> Optimizer:
    """An Optimizer from a name ('sgd', 'adam'), an instance or None (SGD); ``lr`` overrides."""
    if optimizer is None:
        optimizer = "sgd"
    if isinstance(optimizer, str):
        key = OPTIMIZER_NAMES.resolve(optimizer, "optimizer")
        return OPTIMIZERS[key]() if lr is None else OPTIMIZERS[key](lr=lr)
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        make: Callable[..., Optimizer] = optimizer
        return make() if lr is None else make(lr=lr)
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be 'sgd', 'adam' or an Optimizer, got "
                        f"{type(optimizer).__name__}")
    if lr is not None:
        optimizer.set_base_lr(lr)
    return optimizer


# ---------------------------------------------------------------------------------------------
# Schedules: lr for the NEXT epoch, computed between epochs
# ---------------------------------------------------------------------------------------------
class Schedule:
    """Base class. ``__call__(epoch, base_lr, lr, logs)`` -> the lr of the next epoch, where
    ``epoch`` is the number of epochs the model has completed (0 before its first epoch; a
    count, so epoch number ``epoch + 1`` -- counted from 1 as everywhere -- is the one about to
    run). ``per_epoch`` False means the lr never changes (one C call may run all epochs)."""
    per_epoch = True

    def __call__(self, epoch: int, base_lr: float, lr: float,
                 logs: Optional[Logs] = None) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> Dict[str, Any]:
        return {k: v for k, v in vars(self).items()}

    def load_state_dict(self, state: Mapping[str, Any]) -> "Schedule":
        vars(self).update(state)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """lr stays at base_lr."""
    per_epoch = False

    def __call__(self, epoch: int, base_lr: float, lr: float,
                 logs: Optional[Logs] = None) -> float:
        return base_lr


class StepLR(Schedule):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        if isinstance(step_size, bool) or not isinstance(step_size, _INTEGERS) \
                or step_size < 1:
            raise ValueError(f"step_size must be an int >= 1, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = check_real("gamma", gamma, 0, low_open=True)

    def __call__(self, epoch: int, base_lr: float, lr: float,
                 logs: Optional[Logs] = None) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class InverseScaling(Schedule):
    """lr = base_lr / (t + 1) ** power_t.

    ``per='epoch'``: t is the number of epochs completed. ``per='sample'``: t is the number
    of samples seen so far (scikit-learn's 'invscaling', lr updated after every epoch; the
    first epoch of a run keeps the optimiser's current lr).
    """

    def __init__(self, power_t: float = 0.5, per: str = "epoch") -> None:
        self.power_t = check_real("power_t", power_t, 0)
        if per not in ("epoch", "sample"):
            raise ValueError(f"per must be 'epoch' or 'sample', got {per!r}")
        self.per = per

    def __call__(self, epoch: int, base_lr: float, lr: float,
                 logs: Optional[Logs] = None) -> float:
        if self.per == "epoch":
            return base_lr / (epoch + 1) ** self.power_t
        if logs is None:
            return lr
        return base_lr / (logs["samples_seen"] + 1) ** self.power_t


class Cosine(Schedule):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi min(epoch, T_max) / T_max)) / 2."""

    def __init__(self, T_max: int, eta_min: float = 0.0) -> None:
        if isinstance(T_max, bool) or not isinstance(T_max, _INTEGERS) or T_max < 1:
            raise ValueError(f"T_max must be an int >= 1, got {T_max!r}")
        self.T_max = int(T_max)
        self.eta_min = check_real("eta_min", eta_min, 0)

    def __call__(self, epoch: int, base_lr: float, lr: float,
                 logs: Optional[Logs] = None) -> float:
        e = min(epoch, self.T_max)
        out = self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * e / self.T_max)) / 2
        return max(out, 1e-300)


class ReduceOnPlateau(Schedule):
    """Multiply lr by ``factor`` when the monitored loss (val_loss if there is validation,
    else the training loss) has not improved by more than ``threshold`` (relative) for
    ``patience`` epochs; never below ``min_lr``."""

    def __init__(self, factor: float = 0.1, patience: int = 10, min_lr: float = 0.0,
                 threshold: float = 1e-4) -> None:
        self.factor = check_real("factor", factor, 0, 1, low_open=True, high_open=True)
        if isinstance(patience, bool) or not isinstance(patience, _INTEGERS) \
                or patience < 0:
            raise ValueError(f"patience must be an int >= 0, got {patience!r}")
        self.patience = int(patience)
        self.min_lr = check_real("min_lr", min_lr, 0)
        self.threshold = check_real("threshold", threshold, 0)
        self.best = math.inf
        self.wait = 0

    def __call__(self, epoch: int, base_lr: float, lr: float,
                 logs: Optional[Logs] = None) -> float:
        logs = logs or {}
        value = logs.get("val_loss")
        if value is None or (isinstance(value, float) and math.isnan(value)):
            value = logs.get("loss")
        if value is None or not math.isfinite(value):
            return lr
        if value < self.best * (1 - self.threshold) if self.best > 0 else value < self.best:
            self.best = value
            self.wait = 0
            return lr
        self.wait += 1
        if self.wait > self.patience:
            self.wait = 0
            return max(lr * self.factor, self.min_lr) if lr * self.factor > 0 else lr
        return lr


class Adaptive(Schedule):
    """scikit-learn's 'adaptive' learning rate: keep lr while the monitored value improves;
    after more than ``patience`` consecutive epochs that fail to beat the best by ``tol``
    (absolute), divide lr by ``1 / factor`` (5 by default) and start counting again -- or,
    once lr is already at most ``min_lr``, stop training (:class:`StopTraining`).

    monitor: 'loss' (lower is better) or 'val_score' / 'val_metric' (higher is better).
    """

    def __init__(self, factor: float = 0.2, patience: float = 10, tol: float = 1e-4,
                 min_lr: float = 1e-6, monitor: str = "loss") -> None:
        self.factor = check_real("factor", factor, 0, 1, low_open=True, high_open=True)
        if not (patience == math.inf or (isinstance(patience, _INTEGERS)
                                         and not isinstance(patience, bool) and patience >= 0)):
            raise ValueError(f"patience must be an int >= 0 or inf, got {patience!r}")
        self.patience = patience
        self.tol = check_real("tol", tol, 0)
        self.min_lr = check_real("min_lr", min_lr, 0)
        if monitor not in ("loss", "val_loss", "val_score", "val_metric"):
            raise ValueError(f"monitor must be 'loss', 'val_loss', 'val_score' or "
                             f"'val_metric', got {monitor!r}")
        self.monitor = monitor
        self.best = -math.inf if self._max else math.inf
        self.count = 0

    @property
    def _max(self) -> bool:
        return self.monitor in ("val_score", "val_metric")

    def __call__(self, epoch: int, base_lr: float, lr: float,
                 logs: Optional[Logs] = None) -> float:
        if logs is None:
            return lr
        v = logs[self.monitor]
        if self._max:
            self.count = self.count + 1 if v < self.best + self.tol else 0
            self.best = max(self.best, v)
        else:
            self.count = self.count + 1 if v > self.best - self.tol else 0
            self.best = min(self.best, v)
        if self.count > self.patience:
            if lr <= self.min_lr:
                raise StopTraining(f"learning rate {lr:g} reached min_lr={self.min_lr:g}")
            self.count = 0
            return lr * self.factor
        return lr


SCHEDULES = {"constant": Constant, "step": StepLR, "invscaling": InverseScaling,
             "inverse_scaling": InverseScaling, "cosine": Cosine,
             "plateau": ReduceOnPlateau, "reduce_on_plateau": ReduceOnPlateau,
             "adaptive": Adaptive}


ScheduleLike = Union[Schedule, str, Callable[[int], float], None]
"""A schedule: a Schedule, a name ('constant', 'invscaling', 'plateau', 'adaptive'), a
function of the epoch count returning the lr, or None (constant)."""


def get_schedule(schedule: ScheduleLike) -> Schedule:
    """A :class:`Schedule` from ``schedule`` (see :data:`ScheduleLike`)."""
    if schedule is None:
        return Constant()
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str):
        key = schedule.strip().lower()
        if key in ("constant", "invscaling", "inverse_scaling", "plateau", "reduce_on_plateau",
                   "adaptive"):
            return SCHEDULES[key]()
        raise ValueError(f"schedule {schedule!r}: give a Schedule instance "
                         f"(Constant, StepLR, InverseScaling, Cosine, ReduceOnPlateau) or one "
                         f"of 'constant', 'invscaling', 'plateau'")
    if callable(schedule):
        return _Callable(schedule)
    raise TypeError(f"schedule must be a Schedule, a name or a callable, got "
                    f"{type(schedule).__name__}")


class _Callable(Schedule):
    """Wraps ``f(epoch) -> lr``."""

    def __init__(self, f: Callable[[int], float]) -> None:
        self.f = f

    def __call__(self, epoch: int, base_lr: float, lr: float,
                 logs: Optional[Logs] = None) -> float:
        return self.f(epoch)
