"""fastmlp: multilayer perceptrons trained by C + OpenMP kernels, in the chapter's notation.

    import fastmlp as fm
    net = fm.MLP([784, 128, 10], activation="relu", loss="cross_entropy", seed=0)
    hist = net.fit(X, y, optimizer=fm.optim.SGD(lr=0.1, momentum=0.9), batch_size=64,
                   epochs=20, validation_split=0.1, early_stopping=5)
    net.predict(X_test); net.score(X_test, y_test)
    trace = net.forward(X[:8])            # trace.z[l], trace.a[l]
    grads = net.backward(trace, y[:8])    # grads.delta[l], grads.dW[l], grads.db[l]
    net.save("model.npz"); fm.load("model.npz")
    fm.lr_sweep(net, X, y).lr; net.fit(X, y, lr="auto")     # tune the learning rate
"""
from __future__ import annotations

import importlib
import os
import platform
import sys
from types import ModuleType
from typing import Any

import numpy as np

from . import _core, activations, losses, optim
from ._common import Gradients, NotFittedError, Trace
from ._version import __version__
from .gradcheck import gradcheck  # binds the function over the submodule
from .io import load
from .network import MLP
from .perceptron import Perceptron
from .training import (Callback, DivergenceWarning, History, StopTraining, lr_range_test,
                       lr_sweep)

__all__ = ["MLP", "Perceptron", "Trace", "Gradients", "History", "Callback", "StopTraining",
           "DivergenceWarning", "NotFittedError", "load", "losses", "optim", "activations",
           "show_config", "set_num_threads", "get_num_threads", "gradcheck", "lr_sweep",
           "lr_range_test", "__version__"]

# Submodules loaded on first use (``fm.plot.plot_history(...)`` after ``import fastmlp``):
# importing fastmlp loads neither matplotlib nor scikit-learn nor the NumPy reference.
_LAZY_SUBMODULES = ("plot", "datasets", "sklearn", "reference")


def __getattr__(name: str) -> ModuleType:
    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'fastmlp' has no attribute {name!r}")


def __dir__() -> list[str]:
    # fastmlp.sklearn is left out: listing must not import scikit-learn (pydoc and
    # inspect.getmembers fetch every listed name)
    return sorted(set(globals()) | {"plot", "datasets", "reference"})


def set_num_threads(n: int) -> None:
    """Set the number of OpenMP threads the engine uses by default (1 to
    ``fastmlp._core.MAX_THREADS``; ValueError outside). The threads are started once to check
    that the system allows them: RuntimeError, the setting unchanged, when it does not."""
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The number of OpenMP threads the engine uses by default."""
    return _core.get_num_threads()


def _blocks_line(b: Any) -> str:
    """'f32 6x16 mc=120 kc=256 nc=2048, f64 ...; caches L1d 32K L2 1024K L3 16384K/core (sysfs)'"""
    if not b:
        return "-"
    parts = []
    for dt in ("float32", "float64"):
        d = b[dt]
        parts.append(f"f{dt[-2:]} {d['mr']}x{d['nr']} mc={d['mc']} kc={d['kc']} nc={d['nc']}")
    c = b["caches"]
    return (", ".join(parts) + f"; caches L1d {c['l1d'] // 1024}K L2 {c['l2'] // 1024}K "
            f"L3 {c['l3_per_core'] // 1024}K/core ({c['source']})")


def show_config(print_: bool = True) -> dict[str, Any]:
    """Print and return how this build is configured: compiler, OpenMP, threads, CPU
    features, GEMM and vector kernel sets, the element-wise loops' clone (which the loader
    picks from CPUID; FASTMLP_ISA caps the kernel sets only), NumPy version."""
    cfg = dict(_core.config())
    info = {
        "fastmlp": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "compiler": cfg.get("compiler"),
        "openmp": cfg.get("openmp"),
        "threads": cfg.get("max_threads"),
        "cpu_features": cfg.get("cpu_features"),
        "gemm_kernels": cfg.get("gemm_kernels"),
        "gemm_blocks": _blocks_line(cfg.get("gemm_blocking")),
        "vecmath_kernels": cfg.get("vecmath_kernels"),
        "elementwise_clones": cfg.get("elementwise_clones"),
        "parallel_threshold": cfg.get("parallel_threshold"),
        "team_min_flops": cfg.get("team_min_flops"),
        "data_parallel": (f"steps of {cfg.get('dp_min_flops'):.3g} <= 6 x weights x rows < "
                          f"{cfg.get('dp_max_flops'):.3g} flops in {cfg.get('dp_chunks')} "
                          f"fixed chunks" if cfg.get("dp_chunks", 0) >= 2 else "off"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "(unset)"),
    }
    if print_:
        width = max(len(k) for k in info)
        print("fastmlp configuration")
        for k, v in info.items():
            if k == "openmp" and not v:
                v = "OFF (single-threaded build)"
            elif k == "openmp":
                v = "on"
            print(f"  {k.ljust(width)} : {v}")
    return info
