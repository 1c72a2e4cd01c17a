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
with ``os.replace``; a crash never leaves a half-written model behind, and the temporary file
is removed on every exit path (on Linux it has no name until the rename, so even a killed
process leaves none). A new file gets the permissions ``open`` would give (0666 less the
umask), an existing one keeps its own; a symbolic link is followed (the file it points to is
replaced, the link stays). Loading trusts nothing in the file: see :func:`load`.
"""
from __future__ import annotations

import os
from typing import Optional, Union

from ._npz import FORMAT_VERSION, MAX_BYTES
from .network import MLP

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["save", "load", "FORMAT_VERSION", "MAX_BYTES"]


def save(model: MLP, path: PathLike) -> str:
    """Write ``model`` to ``path`` (``.npz`` appended when missing); returns the path."""
    if not isinstance(model, MLP):
        raise TypeError(f"save() writes MLP models, got {type(model).__name__} (pickle it)")
    return model.save(path)


def load(path: PathLike, max_bytes: Optional[int] = MAX_BYTES) -> MLP:
    """Read a model written by :func:`save`, trusting nothing in the file.

    Only a regular file is opened. Everything is checked before it is used: the archive's
    entries and their sizes, the JSON config (an object, every field of the right type and
    range), the parameter count the config implies against the stored vector's header --
    all before any model is built or any array read -- then that the parameters are finite
    and that ``classes`` has as many labels as the model has classes. ``max_bytes`` (default
    1 GiB; None: no limit) caps every array, the parameter vector included: a larger model
    needs a larger value. Every failure is a ValueError naming the file (a missing file:
    FileNotFoundError)."""
    return MLP.load(path, max_bytes)
