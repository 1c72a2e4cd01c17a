"""The model file (its layout is described in :mod:`fastmlp.io`): written atomically, read
without pickle. This module knows nothing about models: ``MLP.save`` and ``MLP.load`` make
and read the config it stores."""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any, Optional, Union

import numpy as np

from ._typing import ArrayLike, NDArray

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["FORMAT_VERSION", "write", "read", "is_model_file"]

FORMAT_VERSION = 1


def _classes_array(classes: ArrayLike) -> NDArray[Any]:
    classes = np.asarray(classes)
    if classes.dtype.kind not in "biufU":
        try:
            classes = classes.astype(str)
        except (TypeError, ValueError):
            raise ValueError(f"classes_ of dtype {classes.dtype} cannot be saved without "
                             f"pickle; use numbers or strings as labels") from None
        if classes.dtype.kind != "U":
            raise ValueError("classes_ cannot be saved without pickle")
    return classes


def write(path: PathLike, config: dict[str, Any], theta: NDArray[Any],
          classes: Optional[ArrayLike] = None) -> str:
    """Write ``config`` (a JSON-able dict), ``theta`` and ``classes`` (optional) to ``path``
    (``.npz`` appended when missing); returns the path."""
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    arrays: dict[str, NDArray[Any]] = {
        "fastmlp_format": np.array([FORMAT_VERSION], dtype=np.int64),
        "config": np.array([json.dumps(config)]),
        "theta": np.array(theta, copy=True),
    }
    if classes is not None:
        arrays["classes"] = _classes_array(classes)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".fastmlp-", suffix=".npz.tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub: allow_pickle
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def read(path: PathLike) -> tuple[str, dict[str, Any], NDArray[Any],
                                  Optional[NDArray[Any]]]:
    """``(path, config, theta, classes)`` from a file written by :func:`write` (``path``
    with ``.npz`` appended when only that exists; ``classes`` None when not stored).

    A corrupt, truncated or foreign file raises ValueError naming the file; a missing file
    FileNotFoundError."""
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path += ".npz"
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such model file: {path!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise ValueError("not an .npz archive")
            if "fastmlp_format" not in data.files or "config" not in data.files \
                    or "theta" not in data.files:
                raise ValueError(f"missing fastmlp entries (found {sorted(data.files)[:8]})")
            version = int(np.asarray(data["fastmlp_format"]).ravel()[0])
            if version > FORMAT_VERSION or version < 1:
                raise ValueError(f"format version {version} is not supported by this fastmlp "
                                 f"(reads versions 1..{FORMAT_VERSION}); upgrade fastmlp")
            config = json.loads(str(np.asarray(data["config"]).ravel()[0]))
            theta = np.array(data["theta"])
            classes = np.array(data["classes"]) if "classes" in data.files else None
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError, KeyError, IndexError, TypeError,
            zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ValueError(f"{path!r} is not a readable fastmlp model file (corrupt, truncated "
                         f"or written by something else): {exc}") from None
    return path, config, theta, classes


def is_model_file(path: PathLike) -> bool:
    """Does ``path`` look like a file :func:`write` made (a zip archive holding the format
    entry)? Reads only the archive's directory; says nothing about the contents' validity."""
    try:
        with zipfile.ZipFile(path) as z:
            return "fastmlp_format.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
