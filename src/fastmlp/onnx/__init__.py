"""ONNX export: a fitted fastmlp model as an ONNX graph that onnxruntime (or any ONNX
runtime) evaluates to the model's own predictions.

    import fastmlp.onnx
    onx = fastmlp.onnx.to_onnx(model)                 # an onnx.ModelProto
    open("model.onnx", "wb").write(onx.SerializeToString())

    fastmlp.onnx.register()                           # skl2onnx knows fastmlp's estimators
    skl2onnx.to_onnx(Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier())]), X[:1])

``python -m fastmlp export model.npz model.onnx`` does the first from the command line.

Outputs, named and typed as skl2onnx names them for scikit-learn's MLPClassifier and
MLPRegressor:

* classifiers: ``label`` (the class labels, in the type of ``classes_``: int64, strings,
  floats or booleans unchanged; 1-D, or the (n, n_labels) indicator of a multi-label model)
  and ``probabilities`` (n, n_classes) in the graph's float type -- ``predict_proba``'s
  values, or, for a model without ``predict_proba`` (hinge, square, margin losses, the
  perceptrons), its ``decision_function`` scores, ``[-s, s]`` for one output unit, as
  skl2onnx does for scikit-learn's linear classifiers. With ``zipmap=True`` they are
  skl2onnx's default form instead: ``output_label`` and ``output_probability``, a list of
  ``{class: p}`` maps (float32 values: ONNX's ZipMap holds no other type).
* regressors: ``variable`` (n, n_outputs), ``predict``'s values.

The input is ``X`` (n, n_features) of the graph's float type (the model's dtype unless
``dtype`` says otherwise). onnx is needed (``pip install onnx onnxruntime skl2onnx``, or
``pip install ".[onnx]"`` from a checkout); skl2onnx only for :func:`register`.
"""
from __future__ import annotations

from .._install import install_hint

try:
    import onnx
    from onnx import helper
except ImportError as exc:      # pragma: no cover - exercised only without the extra
    raise ImportError("fastmlp.onnx needs the 'onnx' package: "
                      + install_hint("onnx")) from exc

import numpy as np

from .._version import __version__
from ._describe import OUTPUT_OPS, describe
from ._graph import MIN_OPSET, OnnxGraph, add_zipmap, check, emit, tensor_type, value_info

__all__ = ["to_onnx", "register", "DEFAULT_OPSET", "MIN_OPSET", "OUTPUT_OPS"]

DEFAULT_OPSET = 17      # onnxruntime >= 1.13 and most other runtimes read it


def _check_opset(opset):
    latest = onnx.defs.onnx_opset_version()
    if opset is None:
        return min(DEFAULT_OPSET, latest)
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"opset must be an int, got {type(opset).__name__} {opset!r}")
    if not MIN_OPSET <= opset <= latest:
        raise ValueError(f"opset must be between {MIN_OPSET} and {latest} (the newest this "
                         f"onnx package knows), got {opset}")
    return int(opset)


def _output_infos(desc, names, use_zipmap, keys):
    head, dt = desc.head, tensor_type(desc.dtype)
    if head.kind == "regressor":
        return [value_info(names[0], dt, ["N", head.n_columns])]
    if use_zipmap:
        key_type = onnx.TensorProto.INT64 if "classlabels_int64s" in keys \
            else onnx.TensorProto.STRING
        maps = helper.make_sequence_type_proto(helper.make_map_type_proto(
            key_type, helper.make_tensor_type_proto(onnx.TensorProto.FLOAT, [])))
        return [value_info(names[0], tensor_type(head.label_values().dtype), ["N"]),
                helper.make_value_info(names[1], maps)]
    label_shape = ["N", head.n_columns] if head.multilabel else ["N"]
    return [value_info(names[0], tensor_type(head.label_values().dtype), label_shape),
            value_info(names[1], dt, ["N", head.n_columns])]


def to_onnx(model, *, dtype=None, opset=None, name=None, zipmap=False):
    """The ONNX graph (an ``onnx.ModelProto``, checked with ``full_check=True``) of a fitted
    :class:`fastmlp.MLP`, :class:`fastmlp.Perceptron`, or ``fastmlp.sklearn``
    ``MLPClassifier``, ``MLPRegressor`` or ``Perceptron``.

    Parameters
    ----------
    dtype : None, 'float32' or 'float64'
        The graph's float type (input, weights, outputs); None: the model's. A float64
        model exported as float32 computes in float32 (its outputs then differ by float32
        rounding).
    opset : int or None
        ONNX opset of the default domain (None: :data:`DEFAULT_OPSET`; at least
        :data:`MIN_OPSET`).
    name : str or None
        The graph's name (None: ``fastmlp_<model class>``).
    zipmap : bool
        Classifiers: False (default) outputs ``label`` and ``probabilities`` tensors; True
        outputs skl2onnx's default ``output_label`` and ``output_probability`` (a list of
        ``{class: probability}`` maps).

    An unfitted classifier raises :class:`fastmlp.NotFittedError` (its labels come from
    ``fit``); any other object TypeError.
    """
    opset = _check_opset(opset)
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name must be a str or None, got {type(name).__name__}")
    if not isinstance(zipmap, bool):
        raise TypeError(f"zipmap must be True or False, got {zipmap!r}")
    desc = describe(model, dtype)
    head = desc.head
    use_zipmap = zipmap and head.kind == "classifier"
    g = OnnxGraph(desc.dtype)
    if head.kind == "regressor":
        names = ["variable"]
    elif use_zipmap:
        names = ["output_label", "output_probability"]
    else:
        names = ["label", "probabilities"]
    g.reserve("X", *names)
    keys = None
    if use_zipmap:
        p = g.unique("probabilities")
        emit(g, desc, "X", ["output_label", p])
        keys = add_zipmap(g, head, p, "output_probability")
    else:
        emit(g, desc, "X", names)
    graph = helper.make_graph(
        g.nodes, name or f"fastmlp_{desc.model_name}",
        [value_info("X", tensor_type(desc.dtype), ["N", desc.n_features])],
        _output_infos(desc, names, use_zipmap, keys), initializer=g.initializers,
        doc_string=desc.doc)
    opsets = [helper.make_opsetid("", opset)]
    if "ai.onnx.ml" in g.domains:
        opsets.append(helper.make_opsetid("ai.onnx.ml", 1))
    onx = helper.make_model(graph, opset_imports=opsets, producer_name="fastmlp",
                            producer_version=__version__, doc_string=desc.doc)
    onx.ir_version = helper.find_min_ir_version_for(opsets)
    helper.set_model_props(onx, desc.metadata)
    return check(onx)


def register():
    """Register converters for ``fastmlp.sklearn``'s MLPClassifier, MLPRegressor and
    Perceptron with skl2onnx (through ``skl2onnx.update_registered_converter``), so that
    ``skl2onnx.to_onnx`` converts them alone or inside pipelines. Idempotent."""
    from ._skl2onnx import register as _register
    _register()
