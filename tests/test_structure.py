"""How the package is put together: what importing fastmlp loads, one table of names and
codes."""
import subprocess
import sys

import pytest

import fastmlp as fm
from fastmlp import _core, _names, activations, losses, optim, reference

def test_import_fastmlp_does_not_import_the_reference():
    code = "import sys, fastmlp; print(sorted(m for m in sys.modules if 'reference' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_reference_shares_the_containers():
    assert reference.Trace is fm.Trace and reference.Gradients is fm.Gradients


TABLES = [  # (name table, the Python registry, the engine's codes, code of a registry entry)
    (_names.ACTIVATION_NAMES, activations.ACTIVATIONS, _core.ACTIVATION_CODES,
     lambda spec: spec.code),
    (_names.LOSS_NAMES, losses.LOSSES, _core.LOSS_CODES, lambda cls: cls.code),
    (_names.OPTIMIZER_NAMES, optim.OPTIMIZERS, _core.OPT_CODES, lambda cls: cls.kind),
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
