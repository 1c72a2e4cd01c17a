"""The ONNX graph of a :class:`~fastmlp.onnx._describe.Description`, written through a small
graph interface that two writers implement: :class:`OnnxGraph` (a stand-alone model, with
onnx.helper) and the skl2onnx container (``_skl2onnx.py``). Both receive the same nodes.

Every activation has one form here (:data:`ACTIVATIONS`), faithful to the engine's C kernels
(``csrc/nn/activations.inc``) value for value:

=================  ===========================================  ============================
activation         ONNX                                         why this form
=================  ===========================================  ============================
step               Sign(z) * 1/2 + 1/2                          0, 1/2 (at 0), 1 -- exact
sign               Sign(z)                                      -1, 0 (at 0), +1
linear             (nothing)
piecewise_linear   Clip(z + 1/2, 0, 1)                          equals the C ramp bit for bit
sigmoid, tanh      Sigmoid, Tanh
relu               Relu
leaky_relu         LeakyRelu(alpha) (float32), PRelu(z, alpha)  LeakyRelu's alpha attribute is
                   with a float64 slope (float64)               a float32: a float64 graph
                                                                keeps the model's alpha
prelu              PRelu(z, alpha), one slope per neuron
softmax            Softmax(axis=-1)
=================  ===========================================  ============================
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["ACTIVATIONS", "OnnxGraph", "emit", "add_zipmap", "tensor", "tensor_type", "label_array",
           "value_info", "check", "MIN_OPSET"]

MIN_OPSET = 13          # ReduceSum takes its axes as an input; Softmax works on one axis


# ---------------------------------------------------------------------------------------------
# tensors
# ---------------------------------------------------------------------------------------------
def _is_text(arr):
    return arr.dtype.kind in "USO"


def tensor_type(dtype):
    """The ONNX element type of a NumPy dtype (strings and objects: STRING)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "USO":
        return TensorProto.STRING
    return helper.np_dtype_to_tensor_dtype(dtype)


def tensor(name, arr):
    """A TensorProto holding ``arr`` (numbers, booleans or strings)."""
    arr = np.asarray(arr)
    if _is_text(arr):
        data = [str(s).encode("utf-8") if not isinstance(s, bytes) else s
                for s in arr.ravel().tolist()]
        return helper.make_tensor(name, TensorProto.STRING, list(arr.shape), data)
    return numpy_helper.from_array(np.ascontiguousarray(arr), name)


def label_array(classes):
    """The class labels as a constant of their own type (strings as str)."""
    classes = np.asarray(classes)
    if classes.dtype.kind == "O":
        if not all(isinstance(c, str) for c in classes.tolist()):
            raise TypeError(f"class labels of mixed or unsupported types cannot be written "
                            f"to ONNX (numbers or strings are): {classes.tolist()[:6]}")
    return classes


# ---------------------------------------------------------------------------------------------
# the stand-alone writer
# ---------------------------------------------------------------------------------------------
class OnnxGraph:
    """Collects nodes and initializers for ``onnx.helper.make_graph``.

    ``const(hint, array)`` and ``node(op, inputs, hint=, out=, domain=, **attrs)`` return the
    name of what they made; ``dtype`` is the graph's float type."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.nodes, self.initializers = [], []
        self._names = set()
        self.domains = {""}

    def unique(self, hint):
        name, k = hint, 1
        while name in self._names:
            k += 1
            name = f"{hint}_{k}"
        self._names.add(name)
        return name

    def reserve(self, *names):
        self._names.update(names)

    def const(self, hint, arr):
        name = self.unique(hint)
        self.initializers.append(tensor(name, arr))
        return name

    def node(self, op, inputs, hint=None, out=None, domain="", **attrs):
        out = out or self.unique(hint or op.lower())
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=self.unique(f"{op}"),
                                           domain=domain or None, **attrs))
        self.domains.add(domain)
        return out


# ---------------------------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------------------------
def _scalar(g, hint, value):
    """A float scalar of the graph's type, made once per graph."""
    cache = g.__dict__.setdefault("_scalars", {})
    if (hint, value) not in cache:
        cache[hint, value] = g.const(hint, np.array(value, dtype=g.dtype))
    return cache[hint, value]


def _step(g, z, layer, l):
    half = _scalar(g, "half", 0.5)
    s = g.node("Sign", [z], f"sign{l}")
    return g.node("Add", [g.node("Mul", [s, half], f"halfsign{l}"), half], f"a{l}")


def _piecewise_linear(g, z, layer, l):
    shifted = g.node("Add", [z, _scalar(g, "half", 0.5)], f"zhalf{l}")
    return g.node("Clip", [shifted, _scalar(g, "zero", 0.0), _scalar(g, "one", 1.0)], f"a{l}")


def _leaky_relu(g, z, layer, l):
    if g.dtype == np.float32:     # the C kernel uses (float)alpha too
        return g.node("LeakyRelu", [z], f"a{l}", alpha=float(np.float32(layer.slope)))
    return g.node("PRelu", [z, g.const(f"leaky{l}", np.array([layer.slope], g.dtype))],
                  f"a{l}")


def _prelu(g, z, layer, l):
    return g.node("PRelu", [z, g.const(f"alpha{l}", layer.slope)], f"a{l}")


def _unary(op, **attrs):
    def emit_op(g, z, layer, l):
        return g.node(op, [z], f"a{l}", **attrs)
    return emit_op


ACTIVATIONS = {
    "step": _step,
    "sign": _unary("Sign"),
    "linear": lambda g, z, layer, l: z,
    "piecewise_linear": _piecewise_linear,
    "sigmoid": _unary("Sigmoid"),
    "tanh": _unary("Tanh"),
    "relu": _unary("Relu"),
    "leaky_relu": _leaky_relu,
    "prelu": _prelu,
    "softmax": _unary("Softmax", axis=-1),
    "exp": _unary("Exp"),
}


def _network(g, x, layers):
    """a^L of the layers: z^l = a^{l-1} W^l + b^l, a^l = sigma(z^l)."""
    a = x
    for l, layer in enumerate(layers, 1):
        if layer.act not in ACTIVATIONS:
            raise ValueError(f"activation {layer.act!r} has no ONNX form; add it to "
                             f"fastmlp.onnx._graph.ACTIVATIONS")
        z = g.node("MatMul", [a, g.const(f"W{l}", layer.W)], f"aW{l}")
        z = g.node("Add", [z, g.const(f"b{l}", layer.b)], f"z{l}")
        a = ACTIVATIONS[layer.act](g, z, layer, l)
    return a


# ---------------------------------------------------------------------------------------------
# heads
# ---------------------------------------------------------------------------------------------
def _label(g, out, head, name):
    if head.rule == "argmax":
        idx = g.node("ArgMax", [out], "argmax", axis=1, keepdims=0)
    elif head.rule == "threshold":
        on = g.node("Greater", [out, _scalar(g, "threshold", head.threshold)], "above")
        idx = g.node("Cast", [on], "index", to=TensorProto.INT64)
        if head.flat:
            idx = g.node("Reshape", [idx, g.const("flat", np.array([-1], np.int64))], "index")
    else:    # 'constant': classes[0] for every row
        first = g.const("first", np.array([0], np.int64))
        rows = g.node("Slice", [g.node("Shape", [out], "shape"), first,
                                g.const("second", np.array([1], np.int64))], "rows")
        idx = g.node("ConstantOfShape", [rows], "index",
                     value=tensor("zero", np.array([0], np.int64)))
    return g.node("Gather", [g.const("classes", label_array(head.label_values())), idx],
                  out=name, axis=0)


def _second_output(g, out, head, name):
    p = out
    if head.proba_op is not None:
        p = g.node(head.proba_op, [p], "p")
    layout = head.proba_layout
    if layout == "complement":
        return g.node("Concat", [g.node("Sub", [_scalar(g, "one", 1.0), p], "q"), p],
                      out=name, axis=1)
    if layout == "negate":
        return g.node("Concat", [g.node("Neg", [p], "minus"), p], out=name, axis=1)
    if layout == "normalize":
        s = g.node("ReduceSum", [p, g.const("axis1", np.array([1], np.int64))], "psum",
                   keepdims=1)
        return g.node("Div", [p, s], out=name)
    if layout == "ones":      # one column of ones, as many rows as the input
        zero, one = (g.const(h, np.array([v], np.int64)) for h, v in (("c0", 0), ("c1", 1)))
        col = g.node("Slice", [p, zero, one, one], "column")
        return g.node("Add", [g.node("Mul", [col, _scalar(g, "zero", 0.0)], "zeros"),
                              _scalar(g, "one", 1.0)], out=name)
    return g.node("Identity", [p], out=name)


def emit(g, desc, x, outputs):
    """Write ``desc``'s graph from the input ``x`` into the output names ``outputs``:
    (label, probabilities) for a classifier, (value,) for a regressor."""
    out = _network(g, x, desc.layers)
    head = desc.head
    if head.kind == "regressor":
        op = head.value_op or "Identity"
        g.node(op, [out], out=outputs[0])
        return
    _label(g, out, head, outputs[0])
    _second_output(g, out, head, outputs[1])


def add_zipmap(g, head, probabilities, out):
    """ZipMap of the probabilities (ONNX's ZipMap holds float32 values only)."""
    classes = np.asarray(head.classes)
    if head.multilabel:
        raise ValueError("zipmap=True needs a single-label classifier; a multi-label model's "
                         "probabilities are per label: use zipmap=False")
    if classes.dtype.kind in "biu":
        keys = {"classlabels_int64s": [int(c) for c in classes]}
    elif classes.dtype.kind == "f" and np.all(classes == np.round(classes)):
        keys = {"classlabels_int64s": [int(c) for c in classes]}
    elif _is_text(classes):
        keys = {"classlabels_strings": [str(c) for c in classes]}
    else:
        raise ValueError(f"ZipMap keys are int64 or strings; class labels {classes.tolist()[:6]} "
                         f"are neither: use zipmap=False")
    if len(classes) != head.n_columns:
        raise ValueError("zipmap=True needs one probability column per class")
    p = probabilities
    if g.dtype != np.float32:
        p = g.node("Cast", [p], "p_float", to=TensorProto.FLOAT)
    g.node("ZipMap", [p], out=out, domain="ai.onnx.ml", **keys)
    return keys


def value_info(name, elem_type, shape):
    return helper.make_tensor_value_info(name, elem_type, shape)


def check(model):
    """onnx.checker with the full check (shape and type inference)."""
    onnx.checker.check_model(model, full_check=True)
    return model
