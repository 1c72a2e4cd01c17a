"""The data of a training run, prepared once for ``MLP.fit`` and the learning-rate searches
(:mod:`.lr_search`): inputs in the model's dtype, targets encoded with its loss, the
validation part split off, sample weights checked, the batch size and the shuffling seed.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Sequence

import numpy as np

from .._common import REAL_TYPES, derive_seed
from .._typing import ArrayLike, FloatArray
from ..losses import Loss
from .batches import BatchPlan

if TYPE_CHECKING:
    from ..network import MLP

__all__ = ["TrainingData", "prepare", "check_sample_weight", "validator"]


class TrainingData(NamedTuple):
    """What a :class:`~fastmlp.training.loop.Run` trains on (arrays in the model's dtype)."""
    X: FloatArray
    Y: FloatArray                   # targets encoded for the model's loss
    sw: Optional[FloatArray]        # training sample weights, or None
    Xv: Optional[FloatArray]        # validation inputs, or None
    Yv: Optional[FloatArray]
    wv: Optional[FloatArray]
    batch_size: int                 # 1..len(X) (a larger request is clipped to len(X))
    shuffle_seed: int


def check_sample_weight(sample_weight: Optional[ArrayLike], n: int) -> Optional[FloatArray]:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "biuf":
        raise TypeError(f"sample_weight must hold real numbers, got dtype {w.dtype}")
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"sample_weight must be 1-D with one weight per sample ({n}), got "
                         f"shape {w.shape}")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and >= 0")
    if not w.sum() > 0:
        raise ValueError("sample_weight must not sum to zero")
    return w


def validator(model: MLP, Xv: FloatArray, Yv: FloatArray, wv: Optional[FloatArray],
              n_threads: Optional[int]) -> Callable[[], dict[str, float]]:
    """The validation logs of the model's current weights: val_loss and val_metric."""
    eng, loss = model.engine, model.loss
    assert loss is not None

    def validate() -> dict[str, float]:
        if not loss.builtin:
            a = eng.predict(Xv, n_threads=n_threads)
            if wv is None:
                value = float(loss.value(Yv, a))
            else:
                value = float(np.average([loss.value(Yv[i:i + 1], a[i:i + 1])
                                          for i in range(len(a))], weights=wv))
        else:
            # the engine's loss is the model's: loss and output in one pass, in chunks
            kw = {} if wv is None else {"sample_weight": wv}
            value, a = eng.evaluate(Xv, Yv, n_threads=n_threads, **kw)
        return {"val_loss": float(value), "val_metric": Loss.metric(Yv, a, model.target_mode)}
    return validate


def check_validation(validation_split: float,
                     validation_data: Optional[Sequence[ArrayLike]]) -> None:
    if type(validation_split) is float and 0 <= validation_split < 1:
        pass                            # the common case, without the ABC check below
    elif isinstance(validation_split, bool) or not isinstance(validation_split, REAL_TYPES) \
            or not (0 <= validation_split < 1):
        raise ValueError(f"validation_split must be a number in [0, 1), got "
                         f"{validation_split!r}")
    if validation_split and validation_data is not None:
        raise ValueError("give validation_split or validation_data, not both")


def _rows(X: Any, rows: slice) -> Any:
    """Rows of X: a C-contiguous copy of a dense X, a CSR of a sparse one."""
    return X[rows] if not isinstance(X, np.ndarray) else np.ascontiguousarray(X[rows])


def prepare(model: MLP, X: Any, y: ArrayLike, *, batch_size: Optional[int] = 32,
            validation_split: float = 0.0,
            validation_data: Optional[Sequence[ArrayLike]] = None,
            validation_shuffle: bool = False, sample_weight: Optional[ArrayLike] = None,
            seed: Optional[int] = None) -> TrainingData:
    """The :class:`TrainingData` of (X, y) for ``model`` (whose loss is set). Encoding the
    targets records the classes on ``model`` (``classes_``), as fitting does.

    validation_split: the LAST fraction of the samples is held out, as in Keras
    (``validation_shuffle=True``: a random fraction drawn with the seed); validation_data:
    (X_val, y_val) or (X_val, y_val, w_val). batch_size: None (all training samples) or
    B >= 1; a B larger than the training set means the whole set (no error).
    """
    check_validation(validation_split, validation_data)
    loss = model.loss
    assert loss is not None                 # set by the caller
    X = model.check_inputs(X)
    n = X.shape[0]
    if n == 0:
        raise ValueError("X has no samples (0 rows)")
    Y = model.encode_targets(loss, y, n, fitting=True).Y
    sw = check_sample_weight(sample_weight, n)
    Xv: Optional[FloatArray] = None
    Yv: Optional[FloatArray] = None
    wv: Optional[FloatArray] = None
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise TypeError("validation_data must be a pair (X_val, y_val) or a triple "
                            "(X_val, y_val, sample_weight_val)")
        Xv = model.check_inputs(validation_data[0], "validation_data X")
        if Xv.shape[0] == 0:
            raise ValueError("validation_data has no samples")
        Yv = model.encode_targets(loss, validation_data[1], Xv.shape[0], fitting=False).Y
        if len(validation_data) == 3:
            wv = check_sample_weight(validation_data[2], Xv.shape[0])
    elif validation_split:
        n_val = int(round(n * validation_split))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(f"validation_split={validation_split} of {n} samples leaves "
                             f"{n_val} for validation and {n - n_val} for training; both "
                             f"need at least 1")
        if validation_shuffle:
            order = np.random.default_rng(derive_seed(model.seed if seed is None else seed,
                                                      7)).permutation(n)
            X, Y = X[order], Y[order]
            sw = None if sw is None else sw[order]
        X, Xv = _rows(X, slice(0, n - n_val)), _rows(X, slice(n - n_val, n))
        Y, Yv = np.ascontiguousarray(Y[:n - n_val]), np.ascontiguousarray(Y[n - n_val:])
        if sw is not None:
            sw, wv = np.ascontiguousarray(sw[:n - n_val]), np.ascontiguousarray(sw[n - n_val:])
    n_train = X.shape[0]
    B = BatchPlan.make(n_train, batch_size).size
    shuffle_seed = derive_seed(model.seed if seed is None else seed, 0)
    if sw is not None:
        sw = sw.astype(model.dtype)
    if wv is not None:
        wv = wv.astype(model.dtype)
    return TrainingData(X, Y, sw, Xv, Yv, wv, B, shuffle_seed)
