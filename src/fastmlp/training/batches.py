"""How an epoch is cut into batches, decided in one place: the batch size (clipped to the
training set), the batches per epoch, whether the rows are visited in order, ``drop_last``
and which batches count towards an epoch's loss (those of weight sum > 0: the engine skips
a batch of weight sum 0). ``MLP.fit``, the learning-rate sweeps and the scikit-learn
estimators build one :class:`BatchPlan` and hand it to the :class:`~fastmlp.training.Run`.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, NamedTuple, Optional

import numpy as np

from .._common import check_int

__all__ = ["BatchPlan"]


class BatchPlan(NamedTuple):
    """One epoch's cut into batches: ``n`` training rows in batches of ``size`` rows (1 to
    n), the last short batch kept unless ``drop_last`` (when there is a full one), the rows
    reshuffled before every epoch when ``shuffle``."""
    n: int
    size: int
    drop_last: bool = False
    shuffle: bool = True

    @classmethod
    def make(cls, n: int, batch_size: Any, *, drop_last: bool = False, shuffle: bool = True,
             on_clip: Optional[Callable[[], None]] = None) -> BatchPlan:
        """The plan for ``batch_size`` rows per batch on ``n`` rows: None means the whole
        set; a size larger than ``n`` means ``n`` (scikit-learn's rule: no error, since a
        default such as 32 exceeds a toy data set). ``on_clip``: called when a given size
        was clipped (the estimators warn as scikit-learn does); with it a size below 1 is
        clipped to 1 as well, without it a size below 1 is a ValueError."""
        if batch_size is None:
            return cls(n, n, bool(drop_last), bool(shuffle))
        if on_clip is None:
            size = min(check_int("batch_size", batch_size, 1), n)
        else:
            size = int(np.clip(batch_size, 1, n))
            if batch_size > n:
                on_clip()
        return cls(n, size, bool(drop_last), bool(shuffle))

    @property
    def n_batches(self) -> int:
        """Batches in one epoch."""
        full, short = divmod(self.n, self.size)
        return full + 1 if short and not (self.drop_last and full > 0) else full

    @property
    def rows(self) -> int:
        """Rows the epoch's batches cover (n, or fewer when the short batch is dropped)."""
        return min(self.n, self.n_batches * self.size)

    @property
    def in_order(self) -> bool:
        """Whether the rows are visited in their given order (no shuffling, or one batch)."""
        return not self.shuffle or self.size >= self.n

    def batches(self) -> Iterator[tuple[int, int]]:
        """(first row, rows) of each batch of an epoch, in the epoch's order of the rows."""
        for start in range(0, self.rows, self.size):
            yield start, min(self.size, self.rows - start)

    def counted_rows(self, weights: Optional[Any], rows: int) -> int:
        """How many of the first ``rows`` rows (cut into batches of ``size``) count towards
        an epoch's mean loss: every row, or with sample ``weights`` (those of the rows in
        the epoch's order) only the rows of batches whose weights sum to more than 0."""
        if weights is None:
            return rows
        starts = np.arange(0, rows, self.size)
        sums = np.add.reduceat(weights[:rows], starts)
        sizes = np.minimum(self.size, rows - starts)
        return int(sizes[sums > 0].sum())
