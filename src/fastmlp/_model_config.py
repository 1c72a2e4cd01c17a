"""The saved MLP's config (the JSON that fastmlp._npz stores beside the parameter vector):
what MLP.save writes, and the checks MLP.load makes before building anything from a file,
whose contents are not trusted (see fastmlp.io for the file layout)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

import numpy as np

from . import _core
from ._version import __version__
from .activations import canonical_name

if TYPE_CHECKING:
    from .network import MLP

__all__ = ["check_mlp_config", "check_classes", "mlp_config", "MAX_EPOCHS"]

# the most epochs one fit may run, and the most a model may have trained: the engine counts
# epochs in int64, and epochs_trained + epochs must stay below 2**63
MAX_EPOCHS = 2 ** 62 - 1


def check_classes(classes: Any) -> None:
    """A loaded model's classes must be sorted and distinct (predict maps output k to
    classes[k], fit finds labels by binary search): ValueError otherwise."""
    c = np.asarray(classes)
    if c.ndim != 1:
        raise ValueError(f"classes must be 1-D, got shape {c.shape}")
    if c.size > 1 and not bool(np.all(c[1:] > c[:-1])):
        raise ValueError(f"classes must be sorted and distinct, got {c[:8].tolist()!r}"
                         f"{' ...' if c.size > 8 else ''}"[:300])


def check_mlp_config(cfg: dict[str, Any]) -> tuple[int, np.dtype[Any], Optional[int]]:
    """Check a loaded MLP config's fields, types and sizes before anything is built from it;
    returns what its parameter vector and classes must be: (n_params, dtype, n_classes
    or None). Raises ValueError."""
    def need(key: str, ok: Callable[[Any], bool], what: str) -> Any:
        if key not in cfg:
            raise ValueError(f"the config has no {key!r}")
        if not ok(cfg[key]):
            raise ValueError(f"config {key!r} must be {what}, got {cfg[key]!r}"[:300])
        return cfg[key]

    def is_int(v: Any, lo: int, hi: int) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi

    def is_num(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)

    if cfg.get("class") != "MLP":
        raise ValueError(f"unknown model class {cfg.get('class')!r}"[:300])
    sizes = need("layer_sizes", lambda v: isinstance(v, list)
                 and 2 <= len(v) <= _core.MAX_LAYERS + 1
                 and all(is_int(s, 1, 2 ** 31 - 1) for s in v),
                 f"a list of 2..{_core.MAX_LAYERS + 1} ints in [1, 2**31)")
    L = len(sizes) - 1
    hidden = need("hidden_activations", lambda v: isinstance(v, list) and len(v) == L - 1
                  and all(isinstance(a, str) for a in v), f"a list of {L - 1} names")
    out = need("output", lambda v: isinstance(v, str), "a name")
    need("loss", lambda v: v is None or isinstance(v, str), "a name or null")
    dtype = need("dtype", lambda v: v in ("float32", "float64"), "'float32' or 'float64'")
    need("seed", lambda v: is_int(v, 0, 2 ** 64), "an int >= 0")
    need("leaky_alpha", is_num, "a finite number")
    need("prelu_init", is_num, "a finite number")
    if cfg.get("n_threads") is not None and not is_int(cfg["n_threads"], 1, _core.MAX_THREADS):
        raise ValueError(f"config 'n_threads' must be null or an int in [1, "
                         f"{_core.MAX_THREADS}], got {cfg['n_threads']!r}"[:300])
    if not is_int(cfg.get("epochs_trained", 0), 0, MAX_EPOCHS):
        raise ValueError(f"config 'epochs_trained' must be an int in [0, 2**62), got "
                         f"{cfg.get('epochs_trained')!r}"[:300])
    mode = cfg.get("mode")
    if mode not in (None, "regression", "binary", "ovr", "multilabel", "multiclass"):
        raise ValueError(f"config 'mode' is unknown: {mode!r}"[:300])
    acts = [canonical_name(a, "activation") for a in hidden] + [canonical_name(out, "output")]
    n = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    n += sum(b for b, act in zip(sizes[1:], acts) if act == "prelu")
    n_classes = {None: None, "regression": None, "binary": 2, "multilabel": 2,
                 "ovr": sizes[-1], "multiclass": sizes[-1]}[mode]
    return n, np.dtype(dtype), n_classes


def mlp_config(model: MLP) -> dict[str, Any]:
    """The config :meth:`MLP.save` stores beside the parameter vector (read back by
    ``MLP._from_saved`` once :func:`check_mlp_config` has accepted it)."""
    loss = model.loss
    return {
        "class": "MLP",
        "layer_sizes": list(model.layer_sizes),
        "hidden_activations": list(model.hidden_activations),
        "output": model.output,
        "output_explicit": bool(model._output_explicit),
        "loss": None if loss is None or not loss.builtin else loss.name,
        "custom_loss": None if loss is None or loss.builtin else type(loss).__qualname__,
        "dtype": model.dtype.name,
        "seed": int(model.seed),
        "init": model.init if isinstance(model.init, str) or model.init is None else None,
        "leaky_alpha": model.leaky_alpha,
        "prelu_init": model.prelu_init,
        "n_threads": model.n_threads,
        "epochs_trained": int(model.epochs_trained_),
        "mode": getattr(model, "_mode", None),
        "y_1d": bool(getattr(model, "_y_1d", False)),
        "fastmlp_version": __version__,
    }
