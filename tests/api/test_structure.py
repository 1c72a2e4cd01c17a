"""How the package is put together: no import cycles, what importing fastmlp loads, one
table of names and codes."""
import ast
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _core, _names, activations, losses, optim, reference

PACKAGE = pathlib.Path(fm.__file__).parent


def _module_files():
    """{dotted module name: (path, is a package)} for every .py file of fastmlp."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


class _TopLevelImports(ast.NodeVisitor):
    """The import statements that run when the module is imported (not those in functions)."""

    def __init__(self):
        self.nodes = []

    def visit_Import(self, node):
        self.nodes.append(node)

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node):
        pass

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_If(self, node):
        """``if TYPE_CHECKING:`` imports are for type checkers: they never run."""
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)


def import_graph():
    """{module: set of fastmlp modules its top-level code imports}."""
    files = _module_files()
    known = set(files) | {"fastmlp._core"}
    graph = {"fastmlp._core": set()}
    for module, (path, is_package) in files.items():
        visitor = _TopLevelImports()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        package = module if is_package else module.rpartition(".")[0]
        targets = set()
        for node in visitor.nodes:
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.split(".")[0] == "fastmlp")
                continue
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{base}.{node.module}" if node.module else base
            elif (node.module or "").split(".")[0] == "fastmlp":
                base = node.module
            else:
                continue
            submodules = {f"{base}.{a.name}" for a in node.names} & known
            targets.update(submodules)
            if len(submodules) < len(node.names):
                targets.add(base)       # names defined in base itself
        graph[module] = {t for t in targets if t in known and t != module}
    return graph


def _cycle(graph):
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = "done"
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def _reachable(graph, start):
    seen, todo = set(), [start]
    while todo:
        for t in graph[todo.pop()] - seen:
            seen.add(t)
            todo.append(t)
    return seen


def test_no_import_cycles():
    graph = import_graph()
    assert {"fastmlp", "fastmlp.network", "fastmlp._common"} <= set(graph)
    assert "fastmlp._core" in graph["fastmlp.network"]
    cycle = _cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_the_reference_and_the_name_table_do_not_need_the_engine():
    graph = import_graph()
    for module in ("fastmlp.reference", "fastmlp._names", "fastmlp._common"):
        assert "fastmlp._core" not in _reachable(graph, module), module


def test_import_fastmlp_does_not_import_the_reference():
    code = "import sys, fastmlp; print(sorted(m for m in sys.modules if 'reference' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_import_fastmlp_stays_light():
    """The type annotations cost nothing at run time: numpy.typing, numpy.random (NumPy loads
    it on first use), scikit-learn and matplotlib stay out of ``import fastmlp``."""
    code = ("import sys, fastmlp; print(sorted(m for m in sys.modules if m in "
            "('numpy.typing', 'numpy.random', 'sklearn', 'matplotlib', 'tqdm')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_reference_shares_the_containers():
    assert reference.Trace is fm.Trace and reference.Gradients is fm.Gradients


TABLES = [  # (name table, the Python registry, the engine's codes, code of a registry entry)
    (_names.ACTIVATION_NAMES, activations.ACTIVATIONS, _core.ACTIVATION_CODES,
     lambda spec: spec.code),
    (_names.LOSS_NAMES, losses.LOSSES, _core.LOSS_CODES, lambda cls: cls.code),
    (_names.OPTIMIZER_NAMES, optim.OPTIMIZERS, _core.OPT_CODES, lambda cls: cls().kind),
]


@pytest.mark.parametrize("table,registry,codes,code_of", TABLES,
                         ids=["activations", "losses", "optimizers"])
def test_codes_come_from_the_engine(table, registry, codes, code_of):
    assert tuple(registry) == table.names
    for name in table.names:
        assert code_of(registry[name]) == codes[name], name
    if table is not _names.OPTIMIZER_NAMES:
        assert set(table.names) == set(codes)
    else:   # the engine may know an update rule before Python offers a class for it
        assert set(table.names) <= set(codes)
        for name, cls in registry.items():
            assert cls().spec()[0] == codes[name]


@pytest.mark.parametrize("table", [t[0] for t in TABLES],
                         ids=["activations", "losses", "optimizers"])
def test_every_alias_names_one_thing(table):
    seen = {}
    for name in table.names:
        for alias in table.aliases_of(name):
            assert alias not in table.names, alias
            assert alias not in seen, (alias, seen.get(alias), name)
            assert alias not in table.ambiguous, alias
            seen[alias] = name
    assert seen == table.aliases
    for alias, name in seen.items():
        assert table.resolve(alias, "x") == name
        assert table.resolve(alias.upper().replace("_", "-"), "x") == name
    for name in table.names:
        assert table.resolve(name, "x") == name
    for name in table.ambiguous:
        assert name not in table.names
        with pytest.raises(ValueError, match="ambiguous"):
            table.resolve(name, "x")


def test_log_loss_is_refused_everywhere():
    for name in ("log_loss", "log", "logloss", "LOG-LOSS"):
        for resolve in (losses.get_loss, reference.canonical_loss,
                        lambda n: fm.MLP([2, 2], loss=n)):
            with pytest.raises(ValueError, match="'logistic' .*'cross_entropy'"):
                resolve(name)


def test_reference_resolves_names_with_the_same_table():
    assert reference.ACTIVATIONS == tuple(activations.ACTIVATIONS)
    assert reference.LOSSES == tuple(losses.LOSSES)
    for name in (*activations.ACTIVATIONS, *activations.ALIASES, "ReLU", "Leaky-ReLU"):
        assert reference.canonical_activation(name) == activations.canonical_name(name)
    for name in (*losses.LOSSES, *losses.ALIASES, "MSE", "Cross-Entropy"):
        assert reference.canonical_loss(name) == losses.get_loss(name).name
    for bad in ("swish", "log_loss"):
        with pytest.raises(ValueError):
            reference.canonical_activation(bad)


def test_defaults_and_loss_outputs_have_one_source():
    """The leaky_relu slope and which output each loss takes are one table each
    (fastmlp._names), read by the engine, the losses and the reference alike."""
    assert _core.LEAKY_ALPHA == _names.LEAKY_ALPHA == reference.LEAKY_ALPHA == 0.01
    assert reference.PRELU_INIT == _names.PRELU_INIT
    assert fm.MLP([2, 3, 1], activation="leaky_relu", seed=0).leaky_alpha == _names.LEAKY_ALPHA
    assert set(_names.LOSS_OUTPUTS) == set(_core.LOSS_CODES)
    for name, (default, allowed) in _names.LOSS_OUTPUTS.items():
        loss = losses.get_loss(name)
        assert loss.default_output == default
        fused = _names.fused_output(name)
        for act in _core.ACTIVATION_CODES:
            engine_ok = reference_ok = True
            try:
                _core.Engine([2, 2], [_core.ACTIVATION_CODES[act]], _core.LOSS_CODES[name])
            except ValueError as exc:
                engine_ok = False
                assert f"needs a{'n' if fused[0] in 'aeiou' else ''} {fused} output" in str(exc)
            try:
                reference.output_delta(name, act, np.ones((2, 2)), np.ones((2, 2)),
                                       np.full((2, 2), 0.5))
            except ValueError as exc:
                reference_ok = "loss needs" not in str(exc)
            assert engine_ok == reference_ok == (fused is None or act == fused), (name, act)
            if allowed is None:
                loss.check_output(act)


# (file, attribute) -> why that module may touch another class's underscored attribute
PRIVATE_ACCESS_ALLOWED = {
    ("_mlp_files.py", "*"): "MLP's description and persistence, split out of network.py: "
                            "functions that become MLP's methods (part of the class)",
    ("_model_config.py", "_output_explicit"): "the model file records whether the output "
                                              "activation was given or chosen by the loss",
    ("onnx/_describe.py", "_net"): "the ONNX converters read an estimator's fitted network",
    ("onnx/_describe.py", "_sync"): "the ONNX converters export what predict uses",
    ("onnx/_describe.py", "_label_binarizer"): "the ONNX converters export the labels",
    ("training/loop.py", "_append"): "History is written only by the training loop: its "
                                     "write methods stay private, users get a record",
    ("training/loop.py", "_extend"): "as _append",
    ("training/loop.py", "_set_params"): "as _append (the run's settings, the optimiser's "
                                          "repr formatted when first read)",
    ("training/loop.py", "_truncate"): "as _append (Ctrl-C undoes a half-recorded epoch)",
    ("training/lr_search.py", "_prepend"): "as _append (lr='auto' continues a candidate)",
    ("sklearn/_network.py", "_append"): "as _append (the L-BFGS record)",
    ("training/loop.py", "_ensure_state"): "the optimiser's engine-side state, which the "
                                           "loop hands to the engine's calls",
    ("training/loop.py", "_vectors"): "as _ensure_state",
    ("training/loop.py", "_set_lr_quietly"): "Ctrl-C restores the rate without the "
                                             "momentum rescaling hook",
    ("training/concurrency.py", "_set_lr_quietly"): "a restart's optimiser starts at base_lr "
                                                    "without the rescaling hook",
}


def _underscored_attributes():
    """{attribute: files of the classes that define it} for the package's classes: methods,
    class-level names and ``self._x = ...`` assignments whose names start with one '_'."""
    owned = {}
    for path, _ in _module_files().values():
        if path.parent.name == "reference":   # the oracle, plain NumPy
            continue
        for cls in (n for n in ast.walk(ast.parse(path.read_text()))
                    if isinstance(n, ast.ClassDef)):
            names = [t.id for s in cls.body if isinstance(s, (ast.Assign, ast.AnnAssign))
                     for t in (s.targets if isinstance(s, ast.Assign) else [s.target])
                     if isinstance(t, ast.Name)]
            for node in ast.walk(cls):
                if isinstance(node, ast.FunctionDef):
                    names.append(node.name)
                elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                      and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    names.append(node.attr)
            for name in names:
                if name.startswith("_") and not name.startswith("__"):
                    owned.setdefault(name, set()).add(path)
    return owned


def test_no_module_touches_another_class_s_private_attributes():
    """Outside a class's own file, code uses its public names only (a short allow-list says
    why for each exception): training, the sweeps and the estimators go through the model's
    public training protocol (check_inputs, encode_targets, target_mode, use_loss,
    snapshot_state/restore_state, writing/reading)."""
    owned = _underscored_attributes()
    seen, found = set(), []
    for path, _ in _module_files().values():
        if path.parent.name == "reference":   # the oracle, plain NumPy
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and node.attr in owned
                    and path not in owned[node.attr]
                    and not (isinstance(node.value, ast.Name)
                             and node.value.id in ("self", "cls"))):
                key = (rel, node.attr)
                if (rel, "*") in PRIVATE_ACCESS_ALLOWED or key in PRIVATE_ACCESS_ALLOWED:
                    seen.add(key if key in PRIVATE_ACCESS_ALLOWED else (rel, "*"))
                    continue
                found.append(f"{rel}:{node.lineno} .{node.attr}")
    assert not found, "private attributes of other modules' classes used:\n" + "\n".join(found)
    stale = set(PRIVATE_ACCESS_ALLOWED) - seen
    assert not stale, f"allow-list entries no longer needed: {sorted(stale)}"
