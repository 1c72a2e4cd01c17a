"""The training protocol of :class:`fastmlp.MLP` (a base class of it): what training code --
:mod:`fastmlp.training`, the learning-rate sweeps, the scikit-learn estimators -- may ask of a
model besides its public API. With ``check_inputs`` and ``encode_targets`` (on the model) it
is all they use: none of them touches the model's private attributes."""
from __future__ import annotations

from typing import Any, Optional


class TrainingProtocol:
    """Target mode, attribute snapshots and the model's lock, for training code."""

    _lock: Any

    @property
    def target_mode(self) -> Optional[str]:
        """How the targets were encoded when fitting ('regression', 'binary', 'ovr',
        'multilabel', 'multiclass'; None before the first fit)."""
        return self.__dict__.get("_mode")

    def snapshot_state(self) -> dict[str, Any]:
        """The model's attributes (loss, classes, engine, optimiser, counters; not a copy of
        the weights), for :meth:`restore_state` to put back after a failed attempt."""
        return dict(self.__dict__)

    def restore_state(self, state: dict[str, Any]) -> None:
        """Put back the attributes :meth:`snapshot_state` took."""
        self.__dict__.clear()
        self.__dict__.update(state)

    def writing(self) -> Any:
        """A context manager holding the model alone, as ``fit`` does (calls from other
        threads wait; calls from this thread may nest)."""
        return self._lock.writing()

    def reading(self) -> Any:
        """A context manager holding the model for reading, as ``predict`` does."""
        return self._lock.reading()
