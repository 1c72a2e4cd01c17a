"""skl2onnx converters for fastmlp.sklearn's MLPClassifier, MLPRegressor and Perceptron.

Registered through skl2onnx's own API (``update_registered_converter``); the classifiers
declare the ``zipmap`` option, so skl2onnx's classifier parser adds its ZipMap (or not) as
it does for scikit-learn's MLPClassifier. The nodes are those of :func:`fastmlp.onnx.to_onnx`
(``_graph.emit``), written into skl2onnx's container.

The graph computes in the type of the tensor it receives (float32 or float64, as skl2onnx's
converters for scikit-learn's models do; any other type is cast to the model's dtype).
ZipMap holds float32 values only, so with the ``zipmap`` option on a float64 graph's
probabilities are cast to float32 just before it (skl2onnx writes an invalid graph for
scikit-learn's MLPClassifier there).
"""
from __future__ import annotations

import numpy as np
from onnx import TensorProto
from skl2onnx import update_registered_converter
from skl2onnx.common import data_types as dt

from ._describe import describe
from ._graph import MIN_OPSET, emit, label_array, tensor, tensor_type

__all__ = ["register"]

_TYPES = {}
for _cls in (dt.FloatTensorType, dt.DoubleTensorType, dt.StringTensorType, dt.Int64TensorType,
             dt.Int32TensorType, dt.Int16TensorType, dt.Int8TensorType, dt.UInt64TensorType,
             dt.UInt32TensorType, dt.UInt16TensorType, dt.UInt8TensorType,
             dt.BooleanTensorType):
    _TYPES[_cls().to_onnx_type().tensor_type.elem_type] = _cls


def _skl_type(dtype, shape):
    code = tensor_type(dtype)
    if code not in _TYPES:
        raise TypeError(f"skl2onnx has no tensor type for {np.dtype(dtype)}")
    return _TYPES[code](shape)


class _ContainerGraph:
    """The graph interface of ``_graph`` (const, node, dtype) over skl2onnx's scope and
    container."""

    def __init__(self, scope, container, dtype):
        self.scope, self.container = scope, container
        self.dtype = np.dtype(dtype)

    def const(self, hint, arr):
        name = self.scope.get_unique_variable_name(hint)
        arr = np.asarray(arr)
        if arr.dtype.kind in "USO":
            self.container.add_initializer(name, TensorProto.STRING, list(arr.shape),
                                           [str(s).encode("utf-8") for s in arr.ravel()])
        else:
            self.container.add_initializer(name, tensor_type(arr.dtype), list(arr.shape),
                                           tensor(name, arr))
        return name

    def node(self, op, inputs, hint=None, out=None, domain="", **attrs):
        out = out or self.scope.get_unique_variable_name(hint or op.lower())
        self.container.add_node(op, list(inputs), [out], op_domain=domain,
                                name=self.scope.get_unique_operator_name(op), **attrs)
        return out


def _graph_dtype(operator):
    """The float type the converter computes in: the incoming tensor's, when it is one."""
    t = operator.inputs[0].type
    if isinstance(t, dt.DoubleTensorType):
        return np.dtype(np.float64)
    if isinstance(t, dt.FloatTensorType):
        return np.dtype(np.float32)
    return None


def _check_opset(operator):
    opset = operator.target_opset
    if opset is not None and opset < MIN_OPSET:
        raise RuntimeError(f"fastmlp's converters need target_opset >= {MIN_OPSET}, got {opset}")


def _describe(operator, options):
    """The model's description, with skl2onnx's ``nocl`` option (labels as class indices)."""
    desc = describe(operator.raw_operator, _graph_dtype(operator))
    head = desc.head
    if head.kind == "classifier" and options.get("nocl"):
        index = np.arange(len(head.classes), dtype=np.int64)
        if head.rule != "threshold" or head.flat:
            head.values = index
        head.classes = index
    return desc


def _options(scope, operator):
    if not hasattr(operator.raw_operator, "classes_") or not hasattr(scope, "get_options"):
        return {}
    return scope.get_options(operator.raw_operator, dict(zipmap=True, nocl=False))


def _shape_classifier(operator):
    _check_opset(operator)
    opts = _options(operator.scope_inst, operator)
    desc = _describe(operator, opts)
    head = desc.head
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _skl_type(label_array(head.label_values()).dtype,
                                         [n, head.n_columns] if head.multilabel else [n])
    proba = np.float32 if opts.get("zipmap") is True else desc.dtype     # ZipMap: float
    operator.outputs[1].type = _skl_type(proba, [n, head.n_columns])


def _shape_regressor(operator):
    _check_opset(operator)
    desc = _describe(operator, {})
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _skl_type(desc.dtype, [n, desc.head.n_columns])


def _convert(scope, operator, container):
    desc = _describe(operator, _options(container, operator))
    g = _ContainerGraph(scope, container, desc.dtype)
    x = operator.inputs[0].full_name
    if _graph_dtype(operator) is None:
        x = g.node("Cast", [x], "X_cast", to=tensor_type(desc.dtype))
    outputs = [v.full_name for v in operator.outputs]
    cast_last = (desc.head.kind == "classifier"
                 and tensor_type(desc.dtype) != operator.outputs[1].type.to_onnx_type()
                 .tensor_type.elem_type)
    if cast_last:                   # float64 graph feeding ZipMap
        final = outputs[1]
        outputs[1] = scope.get_unique_variable_name("probabilities64")
    emit(g, desc, x, outputs)
    if cast_last:
        g.node("Cast", [outputs[1]], out=final, to=TensorProto.FLOAT)


_registered = False


def register():
    """Make skl2onnx convert fastmlp's three estimators (idempotent)."""
    global _registered
    if _registered:
        return
    from ..sklearn import MLPClassifier, MLPRegressor, Perceptron
    classifier_options = {"zipmap": [True, False, "columns"], "nocl": [False, True]}
    update_registered_converter(MLPClassifier, "FastmlpMLPClassifier", _shape_classifier,
                                _convert, options=classifier_options)
    update_registered_converter(Perceptron, "FastmlpPerceptron", _shape_classifier,
                                _convert, options=classifier_options)
    update_registered_converter(MLPRegressor, "FastmlpMLPRegressor", _shape_regressor,
                                _convert)
    _registered = True
