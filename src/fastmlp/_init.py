"""The initial weights of an :class:`fastmlp.MLP` layer: the named schemes and their aliases."""
from __future__ import annotations

import math
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


_SEED_WORDS: dict[int, Any] = {}     # int seed -> PCG64's seeding words (bounded)
_KnownSeedState: Any = None


def _known_seed_state_class() -> Any:
    """The class of :func:`seeded_generator`'s seed (made on first use: ``import fastmlp``
    does not load numpy.random)."""
    global _KnownSeedState
    if _KnownSeedState is None:
        from numpy.random.bit_generator import ISeedSequence

        class KnownSeedState(ISeedSequence):
            """What ``SeedSequence(seed).generate_state(...)`` gave for one seed, handed to
            PCG64 in its place: the same words, so the same stream as ``default_rng(seed)``,
            without recomputing the seed's hash for every model built with it."""

            __slots__ = ("seed", "words")

            def __init__(self, seed: int, words: Any) -> None:
                self.seed, self.words = seed, words

            def generate_state(self, n_words: int, dtype: Any = np.uint32) -> Any:
                if n_words == 4 and dtype is np.uint64:      # what PCG64 asks for
                    return self.words
                return np.random.SeedSequence(self.seed).generate_state(n_words, dtype)

        _KnownSeedState = KnownSeedState
    return _KnownSeedState


def seed_words(seed: int) -> Any:
    """PCG64's seeding words for an int seed: ``SeedSequence(seed).generate_state(4,
    np.uint64)``, computed once per seed (a bounded cache; read-only arrays)."""
    words = _SEED_WORDS.get(seed)
    if words is None:
        words = np.random.SeedSequence(seed).generate_state(4, np.uint64)
        words.flags.writeable = False
        if len(_SEED_WORDS) >= 256:
            _SEED_WORDS.clear()
        _SEED_WORDS[seed] = words
    return words


def seeded_generator(seed: int) -> np.random.Generator:
    """``np.random.default_rng(seed)`` for an int seed: the same draws (PCG64 seeded with
    the same words). Its ``bit_generator.seed_seq`` is not a SeedSequence, so it cannot
    spawn: hand user code ``default_rng(seed)`` itself."""
    known = _KnownSeedState or _known_seed_state_class()
    return np.random.Generator(np.random.PCG64(known(seed, seed_words(seed))))


def uniform_bound(init: Any, n_in: int, n_out: int, act: str) -> Any:
    """r where the named scheme ``init`` draws a layer's weights from U(-r, r); None where it
    draws them from a normal distribution (``'normal'``) or ``init`` is a callable."""
    if callable(init):
        return None
    if init is None:
        init = "he" if ACTIVATIONS[act].relu_family else "glorot"
    if init == "glorot":
        return math.sqrt(6.0 / (n_in + n_out))
    if init == "he":
        return math.sqrt(6.0 / n_in)
    if init == "uniform":
        return 1.0 / math.sqrt(n_in)
    return None


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
    r = uniform_bound(init, n_in, n_out, act)
    if r is not None:
        return rng.uniform(-r, r, size=(n_in, n_out))
    s = math.sqrt(2.0 / n_in) if relu else math.sqrt(2.0 / (n_in + n_out))
    return rng.normal(0.0, s, size=(n_in, n_out))
