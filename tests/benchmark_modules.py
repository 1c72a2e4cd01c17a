"""The scripts of benchmarks/ as modules, loaded from their paths (benchmarks/ is not a
package that the installed fastmlp carries)."""
import importlib.util
import pathlib

BENCHMARKS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name):
    """benchmarks/<name>.py, executed as a fresh module"""
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
