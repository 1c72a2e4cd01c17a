"""What the models, the fit loop and the NumPy reference share: the containers of the
chapter's quantities (:class:`Trace`, :class:`Gradients`), :class:`NotFittedError`, and the
argument checks and seed helpers.

Imports only NumPy (the compiled engine is loaded by :func:`check_X` when it first runs), so
that :mod:`fastmlp.reference` can use it and stay independent of the engine.
"""
from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Literal, Optional, cast, overload

import numpy as np

from ._typing import ArrayLike, DTypeLike, FloatArray, NDArray, SeedLike

__all__ = ["Trace", "Gradients", "NotFittedError", "check_X", "check_dtype", "check_int",
           "check_real", "seed_int", "derive_seed", "INTEGER_TYPES", "REAL_TYPES"]

# isinstance checks for numbers: at run time the ABCs (Python's and NumPy's numbers, bool
# included -- callers refuse it first); for type checkers, which do not know that int is an
# Integral, the checks narrow to int and float
INTEGER_TYPES = cast("tuple[type[int], ...]", (numbers.Integral,))
REAL_TYPES = cast("tuple[type[float], ...]", (numbers.Real,))


class Trace:
    """Everything the forward pass computed, chapter-indexed.

    ``z[l]`` for l = 1..L (``z[0]`` is None), ``a[l]`` for l = 0..L (``a[0]`` = X);
    ``output`` is a^L = f(X).
    """

    __slots__ = ("z", "a")

    def __init__(self, z: list[Any], a: list[Any]) -> None:
        self.z, self.a = z, a

    @property
    def output(self) -> FloatArray:
        return self.a[-1]

    @property
    def L(self) -> int:
        return len(self.a) - 1

    n_layers = L

    def __repr__(self) -> str:
        shapes = [a.shape for a in self.a]
        return f"Trace(L={self.L}, a shapes={shapes})"


class Gradients:
    """Backpropagation results, chapter-indexed 1..L (index 0 is None).

    ``delta[l]`` = dC/dz^l, ``dW[l]`` = dC/dW (stored (n_in, n_out) like the
    weights), ``db[l]``, ``dalpha[l]`` (None unless layer l is prelu) and the
    batch cost ``loss``.
    """

    __slots__ = ("delta", "dW", "db", "dalpha", "loss")

    def __init__(self, delta: list[Any], dW: list[Any], db: list[Any], dalpha: list[Any],
                 loss: float) -> None:
        self.delta, self.dW, self.db, self.dalpha, self.loss = delta, dW, db, dalpha, loss

    def as_list(self) -> list[FloatArray]:
        """[dW^1..dW^L, db^1..db^L, dalpha of each prelu layer]: the order of
        :func:`fastmlp.reference.parameters`, ready for the update functions."""
        return [d for d in self.dW[1:] + self.db[1:] + self.dalpha[1:] if d is not None]

    def __repr__(self) -> str:
        return f"Gradients(L={len(self.dW) - 1}, loss={self.loss!r})"


class NotFittedError(ValueError, AttributeError):
    """The model needs ``fit`` first for this (e.g. class labels need ``classes_``)."""


def call_repr(name: str, kwargs: Any) -> str:
    """``name(k1=v1!r, k2=v2!r, ...)``: how an object built from keyword arguments shows."""
    return f"{name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def check_real(name: str, x: Any, low: Optional[float] = None, high: Optional[float] = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """``x`` as a finite float in the interval from ``low`` to ``high`` (None: unbounded;
    ``*_open``: that end excluded); TypeError for a non-number (bool included), ValueError
    naming the interval otherwise. The one validator of real scalars: the optimisers, the
    schedules and the NumPy reference use it."""
    if type(x) is not float and (isinstance(x, (bool, np.bool_))
                                 or not isinstance(x, REAL_TYPES)):
        what = (f"array of dtype {x.dtype} and shape {x.shape}" if isinstance(x, np.ndarray)
                else f"{type(x).__name__} {x!r}"[:120])
        raise TypeError(f"{name} must be a real number, got {what}")
    x = float(x)
    ok = math.isfinite(x)
    if ok and low is not None:
        ok = x > low if low_open else x >= low
    if ok and high is not None:
        ok = x < high if high_open else x <= high
    if not ok:
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        br = ("(" if (low_open or low is None) else "[") + f"{lo}, {hi}" + \
             (")" if (high_open or high is None) else "]")
        raise ValueError(f"{name} must be a finite number in {br}, got {x!r}")
    return x


# the usual spellings of the two float dtypes, resolved without np.dtype()
_FLOAT_DTYPES: dict[Any, np.dtype[Any]] = {
    k: np.dtype(k) for k in ("float64", "float32", np.float64, np.float32, float)}
_FLOAT_DTYPES.update({d: d for d in list(_FLOAT_DTYPES.values())})


def check_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    """``dtype`` as a NumPy dtype, float32 or float64 (TypeError otherwise)."""
    try:
        return _FLOAT_DTYPES[dtype]
    except (KeyError, TypeError):      # another spelling, or an unhashable argument
        pass
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


@overload
def check_int(name: str, x: Any, low: int, allow_none: Literal[False] = ...,
              high: Optional[int] = ...) -> int: ...
@overload
def check_int(name: str, x: Any, low: int, allow_none: bool,
              high: Optional[int] = ...) -> Optional[int]: ...


def check_int(name: str, x: Any, low: int, allow_none: bool = False,
              high: Optional[int] = None) -> Optional[int]:
    """``x`` as an int >= ``low`` (and <= ``high`` when given; None passes when
    ``allow_none``); bools are refused."""
    if type(x) is int:           # the common case, without the ABC checks below
        if low <= x and (high is None or x <= high):
            return x
    elif x is None and allow_none:
        return None
    elif isinstance(x, (bool, np.bool_)) or not isinstance(x, INTEGER_TYPES):
        raise TypeError(f"{name} must be an integer{' or None' if allow_none else ''}, got "
                        f"{type(x).__name__} {x!r}"[:300])
    if x < low:
        raise ValueError(f"{name} must be >= {low}, got {x}")
    if high is not None and x > high:
        raise ValueError(f"{name} must be <= {high}, got {x}")
    return int(x)


def seed_int(seed: SeedLike) -> int:
    """A concrete int seed (stored, so a saved model can be re-initialised identically)."""
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if type(seed) is int and seed >= 0:
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, INTEGER_TYPES) or seed < 0:
        raise TypeError(f"seed must be None, a non-negative int or a numpy Generator, got "
                        f"{seed!r}")
    return int(seed)


def derive_seed(seed: int, *keys: int) -> int:
    """A uint64 seed derived from ``seed`` and integer keys (restarts, shuffling)."""
    if type(seed) is int and len(keys) == 1 and type(keys[0]) is int:    # the usual call
        return _derived_seed((seed, keys[0]))
    return _derived_seed((int(seed),) + tuple(int(k) for k in keys))


@functools.lru_cache(maxsize=256)
def _derived_seed(entropy: tuple[int, ...]) -> int:
    # a pure function of its ints, asked for the same seeds again and again (every fit of
    # a model derives its shuffling seed): the SeedSequence is made once per seed
    return int(np.random.SeedSequence(list(entropy)).generate_state(1, np.uint64)[0])


_all_finite: Any = None


def check_n_threads(n_threads: Any) -> Optional[int]:
    """``n_threads``: None or an int in [1, MAX_THREADS] -- checked, and worded, the same way
    by the constructor, fit and the engine's calls (predict, forward, ...)."""
    if n_threads is None:
        return None
    from ._core import MAX_THREADS      # (on use: this module does not load the engine)
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, INTEGER_TYPES):
        raise TypeError(f"n_threads must be an int or None, got {type(n_threads).__name__}")
    if not 1 <= n_threads <= MAX_THREADS:
        raise ValueError(f"n_threads must be None or an int in [1, {MAX_THREADS}], got "
                         f"{n_threads}")
    return int(n_threads)


def nonfinite_error(name: str, before: Any, after: NDArray[Any]) -> ValueError:
    """The error for ``after`` (``before`` converted to the model's dtype) holding a NaN or
    infinity: a finite value that became infinite in the conversion overflows the dtype
    (e.g. 1e39 in a float32 model), which says more than 'NaN or infinite'."""
    try:
        src = np.asarray(before)
        if src.shape == after.shape and src.dtype.kind in "biuf":
            grew = np.isfinite(src) & ~np.isfinite(after)
            if grew.any():
                at = tuple(int(i) for i in np.argwhere(grew)[0])
                info = np.finfo(after.dtype)
                return ValueError(
                    f"{name}{list(at)} = {src[at].item()!r} overflows {after.dtype} (the model's "
                    f"dtype holds magnitudes up to {float(info.max):.4g}): scale the data or "
                    f"use a float64 model")
    except (TypeError, ValueError):
        pass
    return ValueError(f"{name} contains NaN or infinite values")


def check_X(X: ArrayLike, n_features: int, dtype: DTypeLike, name: str = "X",
            finite: bool = True) -> FloatArray:
    """X as a C-contiguous 2-D array of ``dtype`` with ``n_features`` columns, all finite.
    ``finite=False``: an X that needs no conversion is returned without the finiteness
    check, for a caller whose next step checks it (``Engine.predict``); a converted X is
    always checked (its error names an overflow of the conversion)."""
    # The engine's one-pass finiteness check (no temporary the size of X). Looked up on
    # first use, not imported at the top, so that this module -- and the NumPy reference,
    # which takes Trace and Gradients from it -- does not load the compiled engine.
    global _all_finite
    if _all_finite is None:
        from ._core import all_finite
        _all_finite = all_finite
    if (type(X) is np.ndarray and X.ndim == 2 and X.dtype == dtype
            and X.shape[1] == n_features and X.flags.c_contiguous):
        # the common case of a prediction call, decided without a conversion (batch-1
        # latency: this check is a measurable part of a small model's predict)
        if finite and not _all_finite(X):
            raise ValueError(f"{name} contains NaN or infinite values")
        return X
    if isinstance(X, (str, bytes)) or X is None:
        raise TypeError(f"{name} must be a 2-D numeric array, got {type(X).__name__}")
    try:
        arr = np.asarray(X)
    except Exception as exc:
        raise TypeError(f"{name} must be a 2-D numeric array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1 and n_features == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}; "
                         f"reshape a single sample with x.reshape(1, -1)")
    if arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features, but the model expects "
                         f"{n_features} (layer_sizes[0])")
    src = arr
    with np.errstate(over="ignore"):
        arr = np.ascontiguousarray(arr, dtype=dtype)
    if not _all_finite(arr):
        raise nonfinite_error(name, src, arr)
    return arr


class StopTraining(Exception):
    """Raise from a callback's ``on_epoch_end`` (or a schedule) to stop after this epoch."""
