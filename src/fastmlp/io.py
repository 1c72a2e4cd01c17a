"""Saving and loading models: a versioned ``.npz`` file readable without pickle.

File layout (``numpy.savez``, loaded with ``allow_pickle=False``):

* ``fastmlp_format``: int64 array, the format version (currently 1);
* ``config``: a 1-element unicode array holding a JSON string: class, layer sizes,
  activations, output, loss, dtype, seed, init, leaky_alpha, prelu_init, epochs trained,
  label mode, fastmlp version;
* ``theta``: the flat parameter vector (the model's dtype);
* ``classes`` (optional): the class labels ``classes_`` (numbers or strings).

The optimiser is not stored (use ``optimizer.state_dict()`` for that). Saving is atomic:
the file is written to a temporary file in the same directory, then renamed over the target
with ``os.replace``; a crash never leaves a half-written model behind.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

__all__ = ["save", "load", "FORMAT_VERSION"]

FORMAT_VERSION = 1


def _config(model):
    from . import __version__
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


def save(model, path):
    """Write ``model`` to ``path`` (``.npz`` appended when missing); returns the path."""
    from .network import MLP
    if not isinstance(model, MLP):
        raise TypeError(f"save() writes MLP models, got {type(model).__name__} (pickle it)")
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    arrays = {
        "fastmlp_format": np.array([FORMAT_VERSION], dtype=np.int64),
        "config": np.array([json.dumps(_config(model))]),
        "theta": np.array(model.engine.theta, copy=True),
    }
    classes = getattr(model, "classes_", None)
    if classes is not None:
        classes = np.asarray(classes)
        if classes.dtype.kind not in "biufU":
            try:
                classes = classes.astype(str)
            except (TypeError, ValueError):
                raise ValueError(f"classes_ of dtype {classes.dtype} cannot be saved without "
                                 f"pickle; use numbers or strings as labels") from None
            if classes.dtype.kind != "U":
                raise ValueError("classes_ cannot be saved without pickle")
        arrays["classes"] = classes
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fastmlp-", suffix=".npz.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def load(path):
    """Read a model written by :func:`save`. A corrupt, truncated or foreign file raises
    ValueError naming the file; a missing file FileNotFoundError."""
    from .network import MLP
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path += ".npz"
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise ValueError("not an .npz archive")
            if "fastmlp_format" not in data.files or "config" not in data.files \
                    or "theta" not in data.files:
                raise ValueError(f"missing fastmlp entries (found {sorted(data.files)[:8]})")
            version = int(np.asarray(data["fastmlp_format"]).ravel()[0])
            if version > FORMAT_VERSION or version < 1:
                raise ValueError(f"format version {version} is not supported by this fastmlp "
                                 f"(reads versions 1..{FORMAT_VERSION}); upgrade fastmlp")
            cfg = json.loads(str(np.asarray(data["config"]).ravel()[0]))
            theta = np.array(data["theta"])
            classes = np.array(data["classes"]) if "classes" in data.files else None
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, KeyError, IndexError, TypeError,
            zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ValueError(f"{path!r} is not a readable fastmlp model file (corrupt, truncated "
                         f"or written by something else): {exc}") from None
    try:
        if cfg.get("class") != "MLP":
            raise ValueError(f"unknown model class {cfg.get('class')!r}")
        model = MLP(cfg["layer_sizes"], activation=cfg["hidden_activations"] or "relu",
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
            model.classes_ = classes
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path!r}: invalid fastmlp model contents: {exc}") from None
    if cfg.get("custom_loss"):
        import warnings
        warnings.warn(f"{path!r} was trained with a user-defined loss "
                      f"({cfg['custom_loss']}); it is not stored -- pass it to fit() again",
                      RuntimeWarning, stacklevel=2)
    return model
