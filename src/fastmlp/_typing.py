"""Type aliases used in fastmlp's annotations (imports only NumPy; nothing here runs)."""
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = ["ArrayLike", "DTypeLike", "NDArray", "FloatArray", "SeedLike"]

FloatArray = NDArray[np.floating[Any]]
"""A float32 or float64 array."""

SeedLike = Union[int, np.integer, np.random.Generator, None]
"""A seed: a non-negative int, a NumPy Generator (one int is drawn from it) or None."""
