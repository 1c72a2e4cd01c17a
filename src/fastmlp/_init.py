"""The initial weights of an :class:`fastmlp.MLP` layer: the named schemes and their aliases."""
from __future__ import annotations

from typing import Any

import numpy as np

from .activations import ACTIVATIONS

INITS = ("glorot", "he", "uniform", "normal")
INIT_ALIASES = {"xavier": "glorot", "glorot_uniform": "glorot", "kaiming": "he",
                "he_uniform": "he", "lecun": "uniform", "lecun_uniform": "uniform",
                "gaussian": "normal"}


def check_init(init: Any) -> Any:
    """``init`` as the model keeps it: None, a callable, or one of :data:`INITS`."""
    if init is not None and not callable(init):
        if not isinstance(init, str):
            raise TypeError(f"init must be a name or a callable, got {init!r}")
        key = init.strip().lower()
        key = INIT_ALIASES.get(key, key)
        if key not in INITS:
            raise ValueError(f"unknown init {init!r}; expected one of {list(INITS)} or a "
                             f"callable(rng, n_in, n_out, activation)")
        init = key
    return init


def draw_weights(rng: np.random.Generator, init: Any, n_in: int, n_out: int, act: str,
                 layer: int) -> Any:
    """Layer ``layer``'s (n_in, n_out) weights drawn from ``rng`` by ``init``."""
    relu = ACTIVATIONS[act].relu_family
    if callable(init):
        w = np.asarray(init(rng, n_in, n_out, act), dtype=np.float64)
        if w.shape != (n_in, n_out):
            raise ValueError(f"init returned shape {w.shape} for layer {layer}, "
                             f"expected {(n_in, n_out)}")
        return w
    if init is None:
        init = "he" if relu else "glorot"
    if init == "glorot":
        r = np.sqrt(6.0 / (n_in + n_out))
        return rng.uniform(-r, r, size=(n_in, n_out))
    if init == "he":
        r = np.sqrt(6.0 / n_in)
        return rng.uniform(-r, r, size=(n_in, n_out))
    if init == "uniform":
        r = 1.0 / np.sqrt(n_in)
        return rng.uniform(-r, r, size=(n_in, n_out))
    s = np.sqrt(2.0 / n_in) if relu else np.sqrt(2.0 / (n_in + n_out))
    return rng.normal(0.0, s, size=(n_in, n_out))
