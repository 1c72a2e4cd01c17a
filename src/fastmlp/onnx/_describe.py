"""What a fitted model computes at prediction time, as plain data: its layers (weights,
biases, activation and slopes) and its head (how ``predict`` / ``predict_proba`` turn the
network's output a^L into labels, probabilities or values). Nothing here knows ONNX; the
graph is written from a :class:`Description` by ``_graph.py``.

The head mirrors each model's own prediction code:

* :class:`fastmlp.MLP` -- ``predict`` (``Loss.decode`` by the label mode) and
  ``predict_proba``;
* :class:`fastmlp.Perceptron` -- ``predict`` and ``decision_function``;
* the scikit-learn estimators -- ``LabelEncoding._predict_net``, ``predict_proba`` and
  ``decision_function``, and :data:`OUTPUT_OPS` for ``out_activation_``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._common import NotFittedError, check_dtype

__all__ = ["Layer", "Head", "Description", "describe", "OUTPUT_OPS"]

# scikit-learn's ``out_activation_`` -> the ONNX operator its predict / predict_proba applies
# to the network's output. None: nothing (the identity, or an output activation that the
# network's own last layer already computes -- softmax). The table is the only place an
# output form is named: a regressor whose predict returns exp(a^L) (a Poisson loss) needs
# the one line  "exp": "Exp".
OUTPUT_OPS = {
    "identity": None,
    "softmax": None,
    "exp": None,          # MLPRegressor(loss="poisson"): the last layer computes exp itself
    "logistic": "Sigmoid",
}


@dataclass
class Layer:
    """z = a W + b, a = act(z). ``slope``: the fixed slope of leaky_relu, or the (N_l,)
    learned slopes of prelu; None otherwise."""
    W: np.ndarray
    b: np.ndarray
    act: str
    slope: object = None


@dataclass
class Head:
    """How the output a^L becomes the model's outputs.

    kind 'regressor': one output, ``value_op`` (an ONNX op or None) applied to a^L.
    kind 'classifier': a label and a second output (probabilities, or decision scores for
    a model without ``predict_proba``):

    * ``rule`` 'argmax': ``classes[argmax_j a_j]``; 'threshold': ``values[a > threshold]``
      per column (``flat``: one column, the label is 1-D); 'constant': ``classes[0]``.
    * ``proba_op``: ONNX op applied to a^L first (Sigmoid for logistic outputs, or None);
      ``proba_layout``: 'columns' (as is), 'complement' ([1 - p, p] from one column),
      'negate' ([-s, s] from one column of scores), 'normalize' (rows divided by their
      sum), 'ones' (a single class: probability 1).
    """
    kind: str
    value_op: object = None
    rule: str = "argmax"
    threshold: float = 0.0
    flat: bool = False
    values: object = None         # what 'threshold' picks from (2 entries), or the classes
    classes: object = None        # classes_ (the ZipMap keys)
    proba_op: object = None
    proba_layout: str = "columns"
    is_proba: bool = True         # False: the second output holds decision scores
    n_columns: int = 0            # columns of the second output (or of the regressor's value)

    @property
    def multilabel(self):
        """The label is a matrix (one column per label), not one label per row."""
        return self.rule == "threshold" and not self.flat

    def label_values(self):
        """What the label is gathered from: ``values`` for 'threshold', else ``classes``."""
        return np.asarray(self.values if self.rule == "threshold" else self.classes)


@dataclass
class Description:
    layers: list
    head: Head
    dtype: np.dtype
    n_features: int
    model_name: str
    doc: str = ""
    metadata: dict = field(default_factory=dict)


def _classifier_model_error(model, what):
    return NotFittedError(f"this {type(model).__name__} has not been fitted yet: its ONNX "
                          f"graph outputs {what}, which fit() learns. Call fit() first")


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------
def _mlp_layers(mlp):
    """The layers of a fastmlp.MLP (weights as the engine holds them)."""
    out = []
    for W, b, alpha, act in zip(mlp.weights, mlp.biases, mlp.alphas, mlp.activations):
        slope = None
        if act == "leaky_relu":
            slope = mlp.leaky_alpha
        elif act == "prelu":
            slope = np.array(alpha)
        out.append(Layer(np.array(W), np.array(b), act, slope))
    return out


def _cast_layers(layers, dtype):
    for layer in layers:
        layer.W = np.ascontiguousarray(layer.W, dtype=dtype)
        layer.b = np.ascontiguousarray(layer.b, dtype=dtype)
        if isinstance(layer.slope, np.ndarray):
            layer.slope = np.ascontiguousarray(layer.slope, dtype=dtype)
    return layers


# ---------------------------------------------------------------------------------------------
# fastmlp's own models
# ---------------------------------------------------------------------------------------------
def _describe_mlp(model):
    layers = _mlp_layers(model)
    n_out = model.layer_sizes[-1]
    loss = model.loss
    if model.loss is None or not model.loss.is_classifier:
        return layers, Head("regressor", n_columns=n_out)
    classes = getattr(model, "classes_", None)
    if classes is None:
        raise _classifier_model_error(model, "class labels")
    classes = np.asarray(classes)
    mode = model.target_mode
    head = Head("classifier", classes=classes, values=classes, n_columns=n_out)
    if mode in ("binary", "multilabel"):           # Loss.decode: classes[a > 0]
        head.rule, head.threshold, head.flat = "threshold", 0.0, mode == "binary"
    elif mode not in ("ovr", "multiclass"):
        raise ValueError(f"cannot export a classifier in label mode {mode!r}")
    name = loss.name if loss.builtin else None
    if name == "cross_entropy":                    # predict_proba: the softmax outputs
        head.proba_layout = "columns"
    elif name == "logistic":                       # sigmoid of the margin
        head.proba_op = "Sigmoid"
        head.proba_layout = {"binary": "complement", "ovr": "normalize"}.get(mode, "columns")
    else:                                          # no predict_proba: decision_function
        head.is_proba = False
        head.proba_layout = "negate" if mode == "binary" else "columns"
    if head.proba_layout in ("complement", "negate"):
        head.n_columns = 2
    return layers, head


def _describe_perceptron(model):
    if not hasattr(model, "classes_"):
        raise _classifier_model_error(model, "class labels")
    layers = [Layer(np.array(model.W), np.array(model.b), "linear")]
    classes = np.asarray(model.classes_)
    head = Head("classifier", classes=classes, values=classes, is_proba=False,
                n_columns=model.n_outputs)
    if model.target_mode == "ovr":                       # the largest z
        head.rule = "argmax"
    else:                                          # step(z) > 1/2, sign(z) > 0: z > 0
        head.rule, head.threshold, head.flat = "threshold", 0.0, model.target_mode == "binary"
    if model.target_mode == "binary":
        head.proba_layout, head.n_columns = "negate", 2
    return layers, head


# ---------------------------------------------------------------------------------------------
# the scikit-learn estimators
# ---------------------------------------------------------------------------------------------
def _output_op(est):
    out_act = est.out_activation_
    if out_act not in OUTPUT_OPS:
        raise ValueError(f"{type(est).__name__} has out_activation_={out_act!r}, which has no "
                         f"ONNX form yet; add it to fastmlp.onnx._describe.OUTPUT_OPS "
                         f"(known: {sorted(OUTPUT_OPS)})")
    return OUTPUT_OPS[out_act]


def _describe_estimator(est, kind):
    from sklearn.utils.validation import check_is_fitted
    check_is_fitted(est)
    net = est._sync()                    # what predict uses: assigned coefs_ pushed in
    plan = net.plan
    layers = _mlp_layers(net.model)
    n_out = plan.sizes[-1]
    if kind == "regressor":
        return layers, Head("regressor", value_op=_output_op(est), n_columns=n_out)
    classes = np.asarray(est.classes_)
    lb = est._label_binarizer
    head = Head("classifier", classes=classes, values=classes, n_columns=len(classes))
    softmax = plan.acts[-1] == "softmax"
    # LabelEncoding._predict_net
    if len(classes) == 1:                # the label binariser's one class, whatever a^L
        head.rule = "constant"
    elif n_out == 2 and lb.y_type_ == "binary":
        head.rule = "argmax"             # a_1 > a_0
    elif lb.y_type_ == "multiclass":
        head.rule = "argmax"
    else:
        head.rule, head.threshold = "threshold", 0.5 if softmax else 0.0
        head.flat = lb.y_type_ == "binary"
        if not head.flat:                # multi-label: the 0/1 indicator matrix
            head.values = np.array([0, 1], dtype=np.int64)
    has_proba = getattr(est, "_has_proba", lambda: False)()
    head.is_proba = has_proba
    if has_proba:
        head.proba_op = _output_op(est)
        if softmax and len(classes) == 1:
            head.proba_layout = "ones"
        elif n_out == 1:
            head.proba_layout = "complement"
        elif head.proba_op is not None and lb.y_type_ == "multiclass":
            head.proba_layout = "normalize"
    elif n_out == 1:                     # decision_function of one unit: [-s, s]
        head.proba_layout = "negate"
    head.n_columns = {"ones": 1, "complement": 2, "negate": 2}.get(head.proba_layout, n_out)
    return layers, head


def _estimator_kind(model):
    """'classifier' / 'regressor' for fastmlp's scikit-learn estimators, else None (without
    importing scikit-learn when the model cannot be one)."""
    if not type(model).__module__.startswith("fastmlp.sklearn"):
        return None
    from ..sklearn import MLPClassifier, MLPRegressor, Perceptron
    if isinstance(model, (MLPClassifier, Perceptron)):
        return "classifier"
    if isinstance(model, MLPRegressor):
        return "regressor"
    return None


def describe(model, dtype=None):
    """The :class:`Description` of a fitted fastmlp model (MLP, Perceptron, or one of the
    scikit-learn estimators); ``dtype`` (None: the model's) is the graph's float type."""
    from ..network import MLP
    from ..perceptron import Perceptron
    kind = _estimator_kind(model)
    if isinstance(model, MLP):
        layers, head = _describe_mlp(model)
        model_dtype, n_features = model.dtype, model.layer_sizes[0]
    elif isinstance(model, Perceptron):
        layers, head = _describe_perceptron(model)
        model_dtype, n_features = model.dtype, model.n_inputs
    elif kind is not None:
        layers, head = _describe_estimator(model, kind)
        model_dtype, n_features = model._net.plan.dtype, model._net.plan.sizes[0]
    else:
        raise TypeError(f"to_onnx exports fastmlp.MLP, fastmlp.Perceptron and "
                        f"fastmlp.sklearn's MLPClassifier, MLPRegressor and Perceptron; got "
                        f"{type(model).__module__}.{type(model).__name__}")
    dtype = np.dtype(model_dtype) if dtype is None else check_dtype(dtype)
    _cast_layers(layers, dtype)
    sizes = [n_features] + [layer.W.shape[1] for layer in layers]
    meta = {"fastmlp.model": type(model).__name__,
            "fastmlp.layer_sizes": ",".join(map(str, sizes)),
            "fastmlp.activations": ",".join(layer.act for layer in layers),
            "fastmlp.dtype": np.dtype(model_dtype).name}
    doc = (f"fastmlp {type(model).__name__} {sizes} "
           f"({', '.join(layer.act for layer in layers)}), {dtype.name}")
    return Description(layers, head, dtype, n_features, type(model).__name__, doc, meta)
