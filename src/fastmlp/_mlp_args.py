"""The checked architecture of an :class:`fastmlp.MLP` (layer sizes, activations, output,
loss), remembered for plain arguments: a model built again with the same ones (a grid
search, a notebook cell run again) skips the checks that passed before."""
from __future__ import annotations

from typing import Any, Optional

from . import _core
from ._common import check_int
from .activations import ACTIVATIONS, canonical_name
from .losses import Loss, get_loss

__all__ = ["architecture"]

# key (see _key) -> (sizes, hidden activations, loss class or None, output activation)
_CHECKED: dict[Any, tuple[tuple[int, ...], tuple[str, ...], Any, str]] = {}


def _key(layer_sizes: Any, activation: Any, output: Any, loss: Any) -> Optional[tuple[Any, ...]]:
    """A key for arguments that cannot change after the call (ints and strings in a list or
    tuple, strings, None); None for any other (checked every time)."""
    if type(layer_sizes) not in (list, tuple) or any(type(s) is not int for s in layer_sizes):
        return None
    if type(activation) in (list, tuple):
        if any(type(a) is not str for a in activation):
            return None
        act: Any = (tuple(activation),)          # a list of names, not one name
    elif type(activation) is str:
        act = activation
    else:
        return None
    if (output is not None and type(output) is not str) or \
            (loss is not None and type(loss) is not str):
        return None
    return (tuple(layer_sizes), act, output, loss)


def architecture(layer_sizes: Any, activation: Any, output: Any,
                 loss: Any) -> tuple[list[int], list[str], Optional[Loss], str]:
    """(layer sizes, hidden activations, loss instance or None, output activation), checked
    as ``MLP.__init__`` documents (TypeError/ValueError naming the bad argument)."""
    key = _key(layer_sizes, activation, output, loss)
    hit = None if key is None else _CHECKED.get(key)
    if hit is not None:
        known_sizes, known_hidden, loss_cls, known_out = hit
        return (list(known_sizes), list(known_hidden),
                None if loss_cls is None else loss_cls(), known_out)
    if isinstance(layer_sizes, (str, bytes)) or not hasattr(layer_sizes, "__len__"):
        raise TypeError(f"layer_sizes must be a list of ints [N_0, ..., N_L], got "
                        f"{layer_sizes!r}")
    if len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes needs at least 2 entries (inputs, outputs), got "
                         f"{list(layer_sizes)}")
    sizes = [check_int(f"layer_sizes[{i}]", s, 1, high=2 ** 31 - 1)
             for i, s in enumerate(layer_sizes)]
    L = len(sizes) - 1
    if L > _core.MAX_LAYERS:
        raise ValueError(f"at most {_core.MAX_LAYERS} layers are supported, got {L}")
    if isinstance(activation, (list, tuple)):
        if len(activation) != L - 1:
            raise ValueError(f"activation lists one name per hidden layer ({L - 1}), got "
                             f"{len(activation)}")
        hidden = [canonical_name(a, "activation") for a in activation]
    else:
        hidden = [canonical_name(activation, "activation")] * (L - 1)
    for h in hidden:
        if ACTIVATIONS[h].output_only:
            raise ValueError(f"{h} is only allowed as the output activation")
    loss_obj = None if loss is None else get_loss(loss)
    if output is None:
        out = loss_obj.default_output if loss_obj is not None else "linear"
    else:
        out = canonical_name(output, "output")
    if loss_obj is not None:
        loss_obj.check_output(out)
    if key is not None:
        if len(_CHECKED) >= 256:
            _CHECKED.clear()
        _CHECKED[key] = (tuple(sizes), tuple(hidden),
                         None if loss_obj is None else type(loss_obj), out)
    return sizes, hidden, loss_obj, out
