"""scikit-learn estimators backed by fastmlp's C engine.

``MLPClassifier`` and ``MLPRegressor`` are :mod:`sklearn.neural_network`'s estimators and
``Perceptron`` is :class:`sklearn.linear_model.Perceptron`: the same parameters, fitted
attributes, methods and argument order, with scikit-learn's meaning (errors, warnings,
stopping rules, ``n_iter_``, ``t_``), plus fastmlp's own parameters. All three train through
:class:`fastmlp.training.Run` -- the loop ``fastmlp.MLP.fit`` uses. How scikit-learn's
conventions map onto the engine is described in :mod:`fastmlp.sklearn._network` (the MLPs)
and :mod:`fastmlp.sklearn._ova` (the perceptron).

Documentation links: an estimator's HTML representation (in Jupyter) links to
``https://fastmlp.readthedocs.io/en/{version}/api.html#fastmlp.sklearn.{name}``,
``{version}`` being fastmlp's version for a release (``0.1.0``) and ``latest`` for a
development build.

Modules: ``mlp`` (MLPClassifier, MLPRegressor), ``perceptron`` (Perceptron), ``_base``
(the fit driver the MLPs share), ``_network`` (the fitted network and its training),
``_ova`` (one-vs-all training of the perceptron), ``_labels`` (class labels),
``_threads`` (``resolve_n_threads``), ``_compat`` (differences between scikit-learn
releases).

scikit-learn is an optional dependency of fastmlp (``pip install scikit-learn``, or
``pip install ".[sklearn]"`` from a checkout): it is imported in this package only.
"""
from .._install import distribution, install_hint  # noqa: E402

try:
    import sklearn
    import scipy  # noqa: F401
except ImportError as exc:      # pragma: no cover - exercised in a subprocess by the tests
    _missing = distribution(exc.name or "sklearn")
    if _missing == "scikit-learn":
        _why, _pkgs = "scikit-learn, which is not installed", "scikit-learn"
    else:                       # scikit-learn is there, one of its own dependencies is not
        _why = f"scikit-learn, which cannot be imported: {_missing} is missing"
        _pkgs = f"scikit-learn {_missing}"
    raise ImportError(f"fastmlp.sklearn needs {_why}. Install it: "
                      f"{install_hint('sklearn', _pkgs)}") from exc

from ._compat import SKLEARN_FLOOR, SKLEARN_VERSION  # noqa: E402

if SKLEARN_VERSION < SKLEARN_FLOOR:     # pragma: no cover - checked in a subprocess
    raise ImportError(
        f"fastmlp.sklearn needs scikit-learn >= {'.'.join(map(str, SKLEARN_FLOOR))}, found "
        f"{sklearn.__version__}. Upgrade it: pip install -U "
        f"\"scikit-learn>={'.'.join(map(str, SKLEARN_FLOOR))}\"")

from ._threads import resolve_n_threads  # noqa: E402
from .mlp import MLPClassifier, MLPRegressor  # noqa: E402
from .perceptron import Perceptron  # noqa: E402

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron", "resolve_n_threads"]
