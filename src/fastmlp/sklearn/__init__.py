"""scikit-learn estimators backed by fastmlp's C engine.

``MLPClassifier`` and ``MLPRegressor`` take the parameters of
:mod:`sklearn.neural_network` with the same meaning, and ``Perceptron`` those of
:class:`sklearn.linear_model.Perceptron` that apply to a single layer of neurons. All three
train through :class:`fastmlp.training.Run` -- the loop ``fastmlp.MLP.fit`` uses -- and
expose the fitted attributes scikit-learn names (``coefs_``, ``intercepts_``,
``loss_curve_``, ...). How scikit-learn's conventions map onto the engine is described in
:mod:`fastmlp.sklearn._network`.

Modules: ``mlp`` (MLPClassifier, MLPRegressor), ``perceptron`` (Perceptron), ``_base``
(the fit driver the three share), ``_network`` (the fitted network and its training),
``_labels`` (class labels), ``_threads`` (``resolve_n_threads``).

scikit-learn is an optional dependency of fastmlp: it is imported in this package only.
"""
from ._threads import resolve_n_threads
from .mlp import MLPClassifier, MLPRegressor
from .perceptron import Perceptron

__all__ = ["MLPClassifier", "MLPRegressor", "Perceptron", "resolve_n_threads"]
