"""Saving and loading models: a versioned ``.npz`` file readable without pickle.

The file holds the format version, the model's configuration as JSON, the flat parameter
vector ``theta`` and the class labels (the layout is described in ``fastmlp._npz``). The
optimiser is not stored (use ``optimizer.state_dict()`` for that). Saving is atomic: a crash
never leaves a half-written model behind.
"""
from ._npz import FORMAT_VERSION, read
from .network import MLP

__all__ = ["save", "load", "FORMAT_VERSION"]


def save(model, path):
    """Write ``model`` to ``path`` (``.npz`` appended when missing); returns the path."""
    if not isinstance(model, MLP):
        raise TypeError(f"save() writes MLP models, got {type(model).__name__} (pickle it)")
    return model.save(path)


def load(path):
    """Read a model written by :func:`save`. A corrupt, truncated or foreign file raises
    ValueError naming the file; a missing file FileNotFoundError."""
    return MLP._from_saved(*read(path))
