"""Type aliases used in fastmlp's annotations.

Annotations are not evaluated at run time (``from __future__ import annotations``), so the
aliases only matter to type checkers; at run time they are plain placeholders, which keeps
``numpy.typing`` (tens of milliseconds to import) out of ``import fastmlp``.
"""
from typing import TYPE_CHECKING, Any, Union

import numpy as np

__all__ = ["ArrayLike", "DTypeLike", "NDArray", "FloatArray", "SeedLike"]

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike, NDArray

    FloatArray = NDArray[np.floating[Any]]
    """A float32 or float64 array."""
    SeedLike = Union[int, np.integer, np.random.Generator, None]
    """A seed: a non-negative int, a NumPy Generator (one int is drawn from it) or None."""
else:       # (np.random is not touched either: NumPy loads it on first use)
    ArrayLike = DTypeLike = FloatArray = SeedLike = Any
    NDArray = np.ndarray
