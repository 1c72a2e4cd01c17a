"""How to install an optional dependency: the one wording every ImportError and CLI message
uses. As fastmlp is on no package index, ``pip install "fastmlp[extra]"`` would fail;
the hint names the missing packages themselves, and the extra for a checkout (which
rebuilds the C extension)."""
from __future__ import annotations

__all__ = ["install_hint", "EXTRAS"]

#: the optional dependencies of each extra, as ``pip install`` takes them (pyproject.toml)
EXTRAS = {
    "sklearn": "scikit-learn threadpoolctl",
    "onnx": "onnx onnxruntime skl2onnx scikit-learn",
    "plot": "matplotlib",
    "progress": "tqdm",
}

#: import name -> distribution name, where they differ
_DISTRIBUTIONS = {"sklearn": "scikit-learn"}


def distribution(module: str) -> str:
    """The package to install for a missing top-level module (``sklearn`` -> scikit-learn)."""
    top = module.split(".")[0]
    return _DISTRIBUTIONS.get(top, top)


def install_hint(extra: str, packages: str | None = None) -> str:
    """``pip install PACKAGES`` (by default the extra's), or from a checkout of fastmlp
    ``pip install ".[EXTRA]"`` (which rebuilds the C extension)."""
    pkgs = EXTRAS[extra] if packages is None else packages
    return (f"pip install {pkgs} (or, from a fastmlp checkout, pip install \".[{extra}]\", "
            f"which also rebuilds the C extension)")
