"""Argument validators shared by the modules (provisional; see the structure branch)."""
from __future__ import annotations

import numbers

import numpy as np


def check_int(name, x, low, allow_none=False):
    if x is None and allow_none:
        return None
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an integer{' or None' if allow_none else ''}, got "
                        f"{type(x).__name__} {x!r}")
    if x < low:
        raise ValueError(f"{name} must be >= {low}, got {x}")
    return int(x)


def derive_seed(seed, *keys):
    """A uint64 seed derived from ``seed`` and integer keys (restarts, shuffling)."""
    return int(np.random.SeedSequence([int(seed)] + [int(k) for k in keys])
               .generate_state(1, np.uint64)[0])


class StopTraining(Exception):
    """Raise from a callback's ``on_epoch_end`` (or a schedule) to stop after this epoch."""
