"""``fastmlp export``: write a saved model (``.npz``) as an ONNX graph
(:func:`fastmlp.onnx.to_onnx`), for onnxruntime or any other ONNX runtime."""
from __future__ import annotations

import argparse
import os
import tempfile
from typing import Any, Iterable, TextIO

from .._install import install_hint
from .common import CLIError, check_output_path, one_line, positive_int
from .train import _load_model

__all__ = ["add_parser", "cmd_export"]


def add_parser(sub: Any) -> None:
    """The ``export`` command."""
    e = sub.add_parser(
        "export", help="write a saved model as ONNX (for onnxruntime and other runtimes)",
        description="Write the model saved in MODEL.npz as an ONNX graph. Classifiers output "
                    "'label' and 'probabilities' (or, with --zipmap, skl2onnx's "
                    "'output_label' and 'output_probability'); regressors 'variable'. The "
                    "input is 'X'. Needs onnx: " + install_hint("onnx") + ".")
    e.add_argument("model", metavar="MODEL.npz", help="a model saved by 'fastmlp train' or "
                                                       "MLP.save")
    e.add_argument("output", metavar="MODEL.onnx", nargs="?", default=None,
                   help="where to write the graph (default: MODEL with .onnx)")
    e.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="float type of the graph (default: the model's)")
    e.add_argument("--opset", type=positive_int, default=None, metavar="N",
                   help="ONNX opset (default: fastmlp.onnx.DEFAULT_OPSET)")
    e.add_argument("--zipmap", action="store_true",
                   help="classifiers: probabilities as a list of {class: p} maps (skl2onnx's "
                        "default form) instead of a tensor")
    e.add_argument("--name", default=None, help="the graph's name")
    e.set_defaults(run=cmd_export)


def _describe_io(values: Iterable[Any]) -> str:
    parts = []
    for v in values:
        t = v.type
        if t.HasField("tensor_type"):
            from onnx import helper
            dims = [d.dim_param or str(d.dim_value) for d in t.tensor_type.shape.dim]
            elem = helper.tensor_dtype_to_np_dtype(t.tensor_type.elem_type)
            parts.append(f"{v.name} [{', '.join(dims)}] {'string' if elem.kind == 'O' else elem}")
        else:
            parts.append(f"{v.name} (sequence of maps)")
    return "; ".join(parts)


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from .. import onnx as fonnx
    except ImportError as exc:
        raise CLIError(f"export needs onnx ({one_line(exc.__cause__ or exc)}): "
                       + install_hint("onnx")) from None
    model = _load_model(args.model)
    path = args.output
    if path is None:
        stem = args.model[:-4] if args.model.endswith(".npz") else args.model
        path = stem + ".onnx"
    check_output_path(path, "ONNX graph")          # train's messages, before any work
    onx = fonnx.to_onnx(model, dtype=args.dtype, opset=args.opset, name=args.name,
                        zipmap=args.zipmap)
    data = onx.SerializeToString()
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:            # written beside the target, then renamed: never a half-written file
        fd, tmp = tempfile.mkstemp(prefix=".fastmlp-", suffix=".onnx.tmp", dir=directory)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        # the message names the file asked for, never the temporary file
        raise CLIError(f"{path}: cannot write the ONNX graph "
                       f"({exc.strerror or one_line(exc)})") from None
    print(f"wrote {path} ({len(data):,} bytes, opset "
          f"{onx.opset_import[0].version}): input {_describe_io(onx.graph.input)}; "
          f"outputs {_describe_io(onx.graph.output)}", file=out)
    return 0
