"""Small built-in data sets, all generated with NumPy (no downloads, no scikit-learn).

* :func:`xor` -- the four points of the exclusive-or problem (chapter 4.1): the case a
  single-layer perceptron cannot represent and a two-layer network can.
* :func:`make_moons`, :func:`make_blobs`, :func:`make_spirals` -- 2-D toy problems.
* :func:`load_digits` -- 8x8 grey-level images of hand-drawn-looking digits 0-9. They are
  *rendered* here: each digit is a set of pen strokes, drawn with a random pen width under a
  random affine distortion (rotation, shear, scale, shift) on a 24x24 canvas, then averaged
  down to 8x8 pixels with intensities 0..16 -- the format of the classic UCI / scikit-learn
  "digits" set (64 features, 10 classes, 1797 samples by default), but our own data.

Every generator takes ``seed`` (an int, a :class:`numpy.random.Generator` or None) and is
deterministic for a given seed. Features are float64, labels are int64 class indices.
"""

from __future__ import annotations

import functools
from typing import Any, Literal, Union, overload

import numpy as np

from ._common import INTEGER_TYPES, REAL_TYPES
from ._typing import ArrayLike, NDArray, SeedLike

__all__ = ["Bunch", "xor", "make_moons", "make_blobs", "make_spirals", "load_digits",
           "train_test_split"]


class Bunch(dict):
    """A dict whose keys are also attributes (``digits.data`` == ``digits["data"]``)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __dir__(self) -> list[str]:
        return list(self.keys()) + list(super().__dir__())


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, INTEGER_TYPES)):
        raise TypeError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    return np.random.default_rng(seed)


def _check_n(name, n, low=1):
    if isinstance(n, bool) or not isinstance(n, INTEGER_TYPES) or n < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {n!r}")
    return int(n)


def _check_noise(noise):
    if not isinstance(noise, REAL_TYPES) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def xor(signed: bool = False) -> tuple[NDArray[Any], NDArray[Any]]:
    """The XOR problem: ``X`` (4, 2) = the corners of the unit square, ``y`` (4,) = x1 XOR x2.

    ``signed=True`` gives inputs and labels in {-1, +1} (the form used with tanh/sign units
    and the hinge or logistic loss) instead of {0, 1}.
    """
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    if signed:
        return 2 * X - 1, 2 * y - 1
    return X, y


def _split_counts(n, k):
    """n samples over k classes as evenly as possible (first classes get the remainder)."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: SeedLike = None,
               shuffle: bool = True) -> tuple[NDArray[Any], NDArray[Any]]:
    """Two interleaving half circles in 2-D. Returns ``X`` (n, 2) and ``y`` in {0, 1}.

    ``noise``: standard deviation of Gaussian noise added to every coordinate.
    """
    n = _check_n("n_samples", n_samples)
    noise = _check_noise(noise)
    rng = _rng(seed)
    n0, n1 = _split_counts(n, 2)
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    X = np.concatenate([np.column_stack([np.cos(t0), np.sin(t0)]),
                        np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])])
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])
    X = X + rng.normal(scale=noise, size=X.shape) if noise > 0 else X
    return _maybe_shuffle(X, y, rng, shuffle)


def make_blobs(n_samples: int = 200, centers: Union[int, ArrayLike] = 3, n_features: int = 2,
               cluster_std: Union[float, ArrayLike] = 1.0,
               box: tuple[float, float] = (-10.0, 10.0), seed: SeedLike = None,
               shuffle: bool = True) -> tuple[NDArray[Any], NDArray[Any]]:
    """Isotropic Gaussian clusters. Returns ``X`` (n, n_features) and ``y`` in 0..k-1.

    ``centers``: the number of clusters (centres drawn uniformly in ``box``) or an array
    (k, n_features) of centres. ``cluster_std``: one standard deviation or one per cluster.
    """
    n = _check_n("n_samples", n_samples)
    rng = _rng(seed)
    if isinstance(centers, INTEGER_TYPES) and not isinstance(centers, bool):
        k = _check_n("centers", centers)
        d = _check_n("n_features", n_features)
        C = rng.uniform(box[0], box[1], size=(k, d))
    else:
        C = np.asarray(centers, dtype=np.float64)
        if C.ndim != 2 or C.shape[0] < 1:
            raise ValueError(f"centers must be an int or a (k, n_features) array, "
                             f"got shape {C.shape}")
        k, d = C.shape
    std = np.broadcast_to(np.asarray(cluster_std, dtype=np.float64), (k,))
    if np.any(~np.isfinite(std)) or np.any(std < 0):
        raise ValueError("cluster_std must be finite and >= 0")
    counts = _split_counts(n, k)
    X = np.concatenate([C[i] + std[i] * rng.standard_normal((counts[i], d)) for i in range(k)])
    y = np.repeat(np.arange(k, dtype=np.int64), counts)
    return _maybe_shuffle(X, y, rng, shuffle)


def make_spirals(n_samples: int = 200, n_classes: int = 2, noise: float = 0.1,
                 turns: float = 1.5, seed: SeedLike = None,
                 shuffle: bool = True) -> tuple[NDArray[Any], NDArray[Any]]:
    """Interleaved spirals in 2-D (the classic "two spirals" problem for ``n_classes=2``).

    Each class is an Archimedean spiral arm from the centre out to radius 1 over ``turns``
    turns, the arms rotated by 2 pi / n_classes; ``noise`` is Gaussian, relative to radius 1.
    Returns ``X`` (n, 2) and ``y`` in 0..n_classes-1.
    """
    n = _check_n("n_samples", n_samples)
    k = _check_n("n_classes", n_classes)
    noise = _check_noise(noise)
    rng = _rng(seed)
    parts = []
    for c, m in enumerate(_split_counts(n, k)):
        r = np.linspace(0.05, 1.0, m)
        t = 2 * np.pi * turns * r + 2 * np.pi * c / k
        parts.append(np.column_stack([r * np.cos(t), r * np.sin(t)]))
    X = np.concatenate(parts)
    y = np.repeat(np.arange(k, dtype=np.int64), _split_counts(n, k))
    X = X + rng.normal(scale=noise, size=X.shape) if noise > 0 else X
    return _maybe_shuffle(X, y, rng, shuffle)


def _maybe_shuffle(X, y, rng, shuffle):
    if shuffle:
        p = rng.permutation(len(y))
        X, y = X[p], y[p]
    return np.ascontiguousarray(X, dtype=np.float64), np.ascontiguousarray(y)


def train_test_split(X: ArrayLike, y: ArrayLike, test_size: float = 0.25,
                     seed: SeedLike = None) -> tuple[NDArray[Any], NDArray[Any],
                                                     NDArray[Any], NDArray[Any]]:
    """Shuffle and split: ``X_train, X_test, y_train, y_test`` (``test_size``: fraction or count)."""
    X = np.asarray(X)
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    n = len(y)
    if isinstance(test_size, INTEGER_TYPES) and not isinstance(test_size, bool):
        n_test = int(test_size)
    elif isinstance(test_size, REAL_TYPES) and 0 < test_size < 1:
        n_test = int(round(n * test_size))
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or a count, got {test_size!r}")
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size!r} leaves an empty train or test set "
                         f"for {n} samples")
    p = _rng(seed).permutation(n)
    te, tr = p[:n_test], p[n_test:]
    return X[tr], X[te], y[tr], y[te]


# ------------------------------------------------------------------------------------------
# Rendered digits
# ------------------------------------------------------------------------------------------
# Strokes in glyph coordinates: x to the right, y DOWN, the glyph box is [0, 1]^2.

def _arc(cx, cy, rx, ry, deg0, deg1, n=14):
    """Points on an ellipse arc; angles in degrees, counter-clockwise, 90 = top."""
    t = np.radians(np.linspace(deg0, deg1, n))
    return np.column_stack([cx + rx * np.cos(t), cy - ry * np.sin(t)])


def _line(*pts):
    return np.array(pts, dtype=np.float64)


def _glyph_strokes():
    """A list, per digit 0..9, of polylines (arrays (m, 2))."""
    return [
        [_arc(0.5, 0.5, 0.27, 0.40, 0, 360, 28)],
        [_line((0.33, 0.24), (0.55, 0.08), (0.55, 0.92)), _line((0.35, 0.92), (0.75, 0.92))],
        [np.concatenate([_arc(0.5, 0.32, 0.25, 0.22, 160, -35, 14),
                         _line((0.22, 0.92), (0.80, 0.92))])],
        [_arc(0.48, 0.29, 0.23, 0.20, 150, -90, 14), _arc(0.48, 0.70, 0.26, 0.22, 90, -155, 14)],
        [_line((0.66, 0.92), (0.66, 0.08), (0.18, 0.66), (0.82, 0.66))],
        [np.concatenate([_line((0.76, 0.08), (0.32, 0.08), (0.28, 0.46)),
                         _arc(0.48, 0.66, 0.27, 0.25, 125, -150, 16)])],
        [np.concatenate([_arc(0.66, 0.55, 0.40, 0.47, 95, 190, 10),
                         _arc(0.5, 0.70, 0.24, 0.22, 180, -180, 20)])],
        [_line((0.20, 0.08), (0.80, 0.08), (0.42, 0.92)), _line((0.38, 0.50), (0.72, 0.50))],
        [_arc(0.5, 0.28, 0.20, 0.19, 0, 360, 20), _arc(0.5, 0.70, 0.25, 0.23, 0, 360, 22)],
        [np.concatenate([_arc(0.5, 0.31, 0.24, 0.22, -5, 360, 22),
                         _line((0.74, 0.31), (0.62, 0.92))])],
    ]


def _segments(polylines):
    a = np.concatenate([p[:-1] for p in polylines])
    b = np.concatenate([p[1:] for p in polylines])
    return a, b


def _render(a, b, width, canvas):
    """Ink in [0, 1] on a canvas x canvas grid from segments a->b (glyph units, y down)."""
    c = (np.arange(canvas) + 0.5) / canvas
    P = np.stack(np.meshgrid(c, c, indexing="xy"), axis=-1).reshape(-1, 1, 2)   # (pix, 1, 2)
    d = b - a                                                                 # (seg, 2)
    L2 = np.maximum(np.sum(d * d, axis=1), 1e-12)
    t = np.clip(np.sum((P - a) * d, axis=2) / L2, 0.0, 1.0)                   # (pix, seg)
    dist = np.sqrt(np.min(np.sum((P - (a + t[..., None] * d)) ** 2, axis=2), axis=1))
    soft = 1.0 / canvas                                                       # ~1 px edge
    return np.clip((width - dist) / soft + 0.5, 0.0, 1.0).reshape(canvas, canvas)


@functools.lru_cache(maxsize=4)
def _digits_cached(n_samples, seed, out=8):
    rng = np.random.default_rng(seed)
    strokes = _glyph_strokes()
    canvas = out * max(1, 24 // out)      # drawn at >= 24 px, averaged down to out x out
    y = np.arange(n_samples, dtype=np.int64) % 10
    y = y[rng.permutation(n_samples)]
    images = np.empty((n_samples, out, out))
    for i, digit in enumerate(y):
        a, b = _segments(strokes[digit])
        # random affine distortion about the glyph centre: rotation, shear, anisotropic scale
        ang = rng.normal(0, 0.12)
        shear = rng.normal(0, 0.15)
        sx, sy = rng.uniform(0.70, 0.95), rng.uniform(0.75, 0.95)
        R = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        M = R @ np.array([[1.0, shear], [0.0, 1.0]]) @ np.diag([sx, sy])
        shift = 0.5 + rng.normal(0, 0.035, size=2)
        a = (a - 0.5) @ M.T + shift
        b = (b - 0.5) @ M.T + shift
        ink = _render(a, b, rng.uniform(0.045, 0.085), canvas)
        small = ink.reshape(out, canvas // out, out, canvas // out).mean(axis=(1, 3))
        small = small * rng.uniform(0.9, 1.25) + rng.normal(0, 0.03, size=small.shape)
        images[i] = np.clip(np.round(small * 16), 0, 16)
    return images, y


@overload
def load_digits(n_samples: int = ..., seed: int = ...,
                return_X_y: Literal[False] = ..., size: int = ...) -> Bunch: ...
@overload
def load_digits(n_samples: int = ..., seed: int = ..., *,
                return_X_y: Literal[True],
                size: int = ...) -> tuple[NDArray[Any], NDArray[Any]]: ...


def load_digits(n_samples: int = 1797, seed: int = 0, return_X_y: bool = False,
                size: int = 8) -> Union[Bunch, tuple[NDArray[Any], NDArray[Any]]]:
    """Rendered digit images, 10 classes: our own stand-in for the UCI digits set (8x8) or,
    with ``size=28``, an MNIST-shaped set (28x28, 784 features).

    Returns a :class:`Bunch` with ``data`` (n, size**2) float64 in 0..16, ``target`` (n,)
    int64, ``images`` (n, size, size), ``target_names`` and ``DESCR``; or ``(data,
    target)`` with ``return_X_y=True``. The same ``(n_samples, seed, size)`` always gives
    the same data. The classes are balanced (sample i is digit i mod 10 before a seeded
    shuffle).
    """
    n = _check_n("n_samples", n_samples)
    if isinstance(seed, bool) or not isinstance(seed, INTEGER_TYPES):
        raise TypeError(f"seed must be an int, got {seed!r}")
    size = _check_n("size", size, 4)
    images, y = _digits_cached(n, int(seed), size)
    images, y = images.copy(), y.copy()
    X = images.reshape(n, size * size)
    if return_X_y:
        return X, y
    return Bunch(data=X, target=y, images=images, target_names=np.arange(10),
                 feature_names=[f"pixel_{r}_{c}" for r in range(size) for c in range(size)],
                 DESCR=load_digits.__doc__)
