"""The description and persistence of :class:`fastmlp.MLP`: ``summary``, ``repr``, ``save``,
``load``, pickling and deep copies (the class takes these functions as its methods)."""
from __future__ import annotations

import copy
import os
import warnings
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _core, _npz
from ._model_config import check_classes, check_mlp_config, mlp_config
from ._model_lock import reads as _reads
from ._typing import NDArray

if TYPE_CHECKING:
    from .network import MLP


def summary(self: MLP) -> str:
    """A table: layer, sizes, activation, parameters (returned as a string)."""
    rows = [("layer", "in -> out", "activation", "params")]
    al = self.alphas
    for l in range(1, self.n_layers + 1):
        n_in, n_out = self.layer_sizes[l - 1], self.layer_sizes[l]
        p = n_in * n_out + n_out + (n_out if al[l - 1] is not None else 0)
        rows.append((str(l), f"{n_in} -> {n_out}", self.activations[l - 1], f"{p:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = "-" * (sum(widths) + 6)
    out = [f"MLP {self.layer_sizes}  dtype={self.dtype.name}  "
           f"loss={self.loss.name if self.loss else None}", line]
    for i, r in enumerate(rows):
        out.append("  ".join(c.rjust(w) if j in (0, 3) else c.ljust(w)
                             for j, (c, w) in enumerate(zip(r, widths))))
        if i == 0:
            out.append(line)
    out.append(line)
    out.append(f"total parameters: {self.n_params:,}")
    packed, plan = self.engine.packed_nbytes, self.engine.packed_plan_nbytes
    out.append(f"packed inference weights: {packed / 2**20:,.2f} MiB" if packed else
               f"packed inference weights: none yet ({plan / 2**20:,.2f} MiB at the next "
               f"prediction)" if plan else
               "packed inference weights: none (every layer is read in place)")
    return "\n".join(out)


def model_repr(self: MLP) -> str:
    hidden = self.hidden_activations
    act = hidden[0] if hidden and all(h == hidden[0] for h in hidden) else hidden
    s = (f"MLP({self.layer_sizes}, activation={act!r}, output={self.output!r}, "
         f"loss={self.loss.name if self.loss is not None else None!r}, "
         f"dtype={self.dtype.name!r}, seed={self.seed})")
    state = f"trained {self.epochs_trained_} epochs" if self.epochs_trained_ else "untrained"
    return f"{s}  # {self.n_params} parameters, {state}"


@_reads
def save(self: MLP, path: Union[str, os.PathLike[str]]) -> str:
    """Save to a versioned ``.npz`` readable without pickle, atomically (``.npz``
    appended when missing; the layout: :mod:`fastmlp.io`); returns the path. The
    optimiser is not stored. A new file gets the umask's permissions, an existing one
    keeps its own; a symbolic link is followed (its target is replaced); no temporary
    file is left behind (see :func:`fastmlp._npz.write`)."""
    return _npz.write(path, mlp_config(self), self.engine.theta,
                      getattr(self, "classes_", None))


def load(cls: type[MLP], path: Union[str, os.PathLike[str]],
         max_bytes: Optional[int] = _npz.MAX_BYTES) -> MLP:
    """A model saved by :meth:`save` (the same as :func:`fastmlp.load`: nothing in the
    file is trusted; ``max_bytes`` caps every array; every failure is a ValueError
    naming the file)."""
    return cls._from_saved(*_npz.read(path, max_bytes, check_mlp_config))


def from_saved(cls: type[MLP], path: str, cfg: dict[str, Any], theta: NDArray[Any],
                classes: Optional[NDArray[Any]]) -> MLP:
    """The model :func:`~fastmlp._model_config.mlp_config` described (warns about a user-defined loss, which
    is not stored, on behalf of the caller's caller: ``load``)."""
    try:
        if cfg.get("class") != "MLP":
            raise ValueError(f"unknown model class {cfg.get('class')!r}")
        model = cls(cfg["layer_sizes"], activation=cfg["hidden_activations"] or "relu",
                    output=cfg["output"], loss=cfg["loss"], dtype=cfg["dtype"],
                    seed=cfg["seed"], init=cfg.get("init"), leaky_alpha=cfg["leaky_alpha"],
                    prelu_init=cfg["prelu_init"], n_threads=cfg.get("n_threads"))
        model._output_explicit = bool(cfg.get("output_explicit", True))
        if theta.shape != model.engine.theta.shape or theta.dtype != model.dtype:
            raise ValueError(f"parameter vector has shape {theta.shape} and dtype "
                             f"{theta.dtype}, expected {model.engine.theta.shape} "
                             f"{model.dtype}")
        model.engine.theta[...] = theta
        model.epochs_trained_ = int(cfg.get("epochs_trained", 0))
        if cfg.get("mode") is not None:
            model._mode = cfg["mode"]
        model._y_1d = bool(cfg.get("y_1d", False))
        if classes is not None:
            check_classes(classes)
            model.classes_ = classes
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path!r}: invalid fastmlp model contents: {exc}") from None
    if cfg.get("custom_loss"):
        warnings.warn(f"{path!r} was trained with a user-defined loss "
                      f"({cfg['custom_loss']}); it is not stored -- pass it to fit() again",
                      RuntimeWarning, stacklevel=3)
    return model


@_reads
def getstate(self: MLP) -> dict[str, Any]:
    state = dict(self.__dict__)
    state.pop("engine")
    state.pop("_lock", None)
    state["_theta"] = self.engine.theta.copy()
    return state


def setstate(self: MLP, state: dict[str, Any]) -> None:
    theta = state.pop("_theta")
    self.__dict__.update(state)
    self._lock = _core.ModelLock()
    self.engine = self._new_engine()
    if theta.shape != self.engine.theta.shape:
        raise ValueError("pickled parameters do not match the network's shape")
    self.engine.theta[...] = theta


def deepcopy_model(self: MLP, memo: dict[int, Any]) -> MLP:
    new = type(self).__new__(type(self))
    new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
    return new
