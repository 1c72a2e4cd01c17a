"""What differs between the scikit-learn releases fastmlp supports, in one place.

The floor is ``SKLEARN_FLOOR`` (pyproject's ``sklearn`` extra says the same; CI runs the
scikit-learn tests against it, ``.ci/sklearn_floor.sh``). Everything here behaves like the
newest scikit-learn on every supported release:

* ``validate_data`` -- a function since 1.6, the method ``BaseEstimator._validate_data``
  before;
* ``check_sample_weight`` -- ``_check_sample_weight``, whose all-zero check became an
  argument (``allow_all_zero_weights``) in 1.7 and was absent before;
* ``validate_params`` -- scikit-learn's parameter-constraint check (``_parameter_constraints``
  tables, :class:`~sklearn.utils._param_validation.InvalidParameterError`, a ValueError and a
  TypeError), honouring ``sklearn.set_config(skip_parameter_validation=True)``;
* tags -- ``__sklearn_tags__`` since 1.6, ``_more_tags`` before: :class:`TagsMixin` gives
  both from one ``_fastmlp_tags()`` dict.
"""
from __future__ import annotations

import inspect

import numpy as np
import sklearn
from sklearn.utils.validation import _check_sample_weight

__all__ = ["SKLEARN_FLOOR", "SKLEARN_VERSION", "validate_data", "check_sample_weight",
           "validate_params", "TagsMixin"]

SKLEARN_FLOOR = (1, 2, 2)


def _version_tuple(text):
    """(major, minor, patch) of a version string ('1.6.1', '1.7.0rc1' -> (1, 7, 0))."""
    parts = []
    for p in (text.split(".") + ["0", "0"])[:3]:
        digits = ""
        for ch in p:
            if not ch.isdigit():
                break
            digits += ch
        parts.append(int(digits or 0))
    return tuple(parts)


SKLEARN_VERSION = _version_tuple(sklearn.__version__)

try:                                                    # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:                                     # pragma: no cover - older releases
    def validate_data(estimator, X="no_validation", y="no_validation", **check_params):
        """scikit-learn < 1.6: the same checks, as a method of the estimator."""
        return estimator._validate_data(X, y, **check_params)

_SW_ARGS = inspect.signature(_check_sample_weight).parameters


def check_sample_weight(sample_weight, X, dtype=None, allow_all_zero=False):
    """scikit-learn's ``_check_sample_weight`` (None -> ones, scalar -> filled, shape and
    dtype checked); all-zero weights raise unless ``allow_all_zero``."""
    if "allow_all_zero_weights" in _SW_ARGS:
        return _check_sample_weight(sample_weight, X, dtype=dtype,
                                    allow_all_zero_weights=allow_all_zero)
    sw = _check_sample_weight(sample_weight, X, dtype=dtype)   # pragma: no cover - < 1.7
    if not allow_all_zero and np.all(sw == 0):                 # pragma: no cover
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sw                                                  # pragma: no cover


_SCALARS = (int, float, str, bool, type(None))
_PARAM_NAMES: dict = {}  # estimator class -> its parameter names (scikit-learn's, cached)
_VALIDATED: set = set()  # (class, parameters) that passed validate_params (bounded)
_MISSING = object()     # a parameter not set on the estimator: never cached


def _frozen(value):
    """A hashable record of ``value`` with the type of every part (1, 1.0 and True are
    different parameters), or None for a value that could change in place or is not a
    plain scalar (a list, an array, an object): such parameters are checked every time."""
    if type(value) in _SCALARS:
        return (type(value), value)
    if type(value) is tuple:
        parts = tuple(_frozen(v) for v in value)
        return None if None in parts else (tuple, parts)
    return None


def _params_key(estimator):
    cls = type(estimator)
    names = _PARAM_NAMES.get(cls)
    if names is None:
        names = _PARAM_NAMES[cls] = tuple(cls._get_param_names())
    parts = tuple(_frozen(getattr(estimator, n, _MISSING)) for n in names)
    return None if None in parts else (cls, parts)


def validate_params(estimator):
    """Check ``estimator``'s parameters against its ``_parameter_constraints`` (scikit-learn's
    own errors), unless ``skip_parameter_validation`` is set in scikit-learn's config. A set
    of plain scalar parameters that passed once is not checked again (the check depends on
    nothing else); any other set is checked every time."""
    if sklearn.get_config().get("skip_parameter_validation", False):
        return
    key = _params_key(estimator)
    if key is not None and key in _VALIDATED:
        return
    estimator._validate_params()
    if key is not None:
        if len(_VALIDATED) >= 1024:
            _VALIDATED.clear()
        _VALIDATED.add(key)


class TagsMixin:
    """Estimator tags for every supported scikit-learn: ``_fastmlp_tags()`` returns
    {'sparse': bool, 'multi_label': bool, 'xfail': {check name: reason}}. Each estimator
    class ends its ``__sklearn_tags__`` with ``_with_fastmlp_tags`` (after scikit-learn's
    mixins have set theirs)."""

    def _fastmlp_tags(self):
        return {"sparse": True, "multi_label": False, "xfail": {}}

    def _with_fastmlp_tags(self, tags):
        mine = self._fastmlp_tags()
        tags.input_tags.sparse = mine["sparse"]
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_label = mine["multi_label"]
        return tags

    def __sklearn_tags__(self):      # (defined beside _more_tags, as scikit-learn asks)
        return super().__sklearn_tags__()

    def _more_tags(self):                               # pragma: no cover - < 1.6
        mine = self._fastmlp_tags()
        return {"multilabel": mine["multi_label"], "_xfail_checks": dict(mine["xfail"])}
