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

import os
from typing import Union

from ._npz import FORMAT_VERSION, read
from .network import MLP

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["save", "load", "FORMAT_VERSION"]


def save(model: MLP, path: PathLike) -> str:
    """Write ``model`` to ``path`` (``.npz`` appended when missing); returns the path."""
    if not isinstance(model, MLP):
        raise TypeError(f"save() writes MLP models, got {type(model).__name__} (pickle it)")
    return model.save(path)


def load(path: PathLike) -> MLP:
    """Read a model written by :func:`save`. A corrupt, truncated or foreign file raises
    ValueError naming the file; a missing file FileNotFoundError."""
    return MLP._from_saved(*read(path))
