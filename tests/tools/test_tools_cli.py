"""The command line: python -m fastmlp's help, usage errors, info, demo and internal errors."""
import subprocess
import sys

import pytest

from cli_helpers import _env, _write, assert_one_line_error, run


# ------------------------------------------------------------------------------------------
# help and usage errors
# ------------------------------------------------------------------------------------------
def test_help_top_level(capsys):
    rc, out, _ = run(capsys, "--help")
    assert rc == 0
    for cmd in ("demo", "train", "predict", "info"):
        assert cmd in out


@pytest.mark.parametrize("cmd,options", [
    ("demo", ["--quick", "--seed", "--plot"]),
    ("train", ["DATA", "--target", "--hidden", "--activation", "--loss", "--epochs",
               "--batch-size", "--lr", "--optimizer", "--validation-split", "--seed",
               "--dtype", "--output", "--verbose", "sgd", "adam", "float32", "cross_entropy"]),
    ("predict", ["MODEL", "DATA", "--output", "--target", "--proba"]),
    ("info", []),
])
def test_help_each_command(capsys, cmd, options):
    rc, out, _ = run(capsys, cmd, "--help")
    assert rc == 0
    assert f"usage: fastmlp {cmd}" in out
    for o in options:
        assert o in out, o


def test_export_help_names_the_packages_to_install(capsys):
    rc, out, _ = run(capsys, "export", "--help")
    assert rc == 0
    out = " ".join(out.split())
    assert "pip install onnx onnxruntime skl2onnx" in out
    assert 'pip install ".[onnx]"' in out and "rebuilds the C extension" in out
    assert "fastmlp[" not in out


@pytest.mark.parametrize("argv,words", [
    ([], ["COMMAND"]),
    (["frobnicate"], ["frobnicate"]),
    (["train"], ["DATA"]),
    (["train", "x.csv", "--hidden", "6,x"], ["--hidden"]),
    (["train", "x.csv", "--epochs", "0"], ["--epochs"]),
    (["train", "x.csv", "--lr", "-1"], ["--lr"]),
    (["train", "x.csv", "--validation-split", "1.5"], ["--validation-split"]),
    (["train", "x.csv", "--optimizer", "lbfgs"], ["--optimizer"]),
    (["predict", "m.npz"], ["DATA"]),
])
def test_usage_errors_are_one_line(capsys, argv, words):
    assert_one_line_error(*run(capsys, *argv), *words)


def test_info(capsys):
    rc, out, _ = run(capsys, "info")
    assert rc == 0
    assert "openmp" in out.lower() and "fastmlp" in out.lower()


# ------------------------------------------------------------------------------------------
# a real interpreter
# ------------------------------------------------------------------------------------------
def test_demo_quick_subprocess():
    out = subprocess.run([sys.executable, "-m", "fastmlp", "demo", "--quick"],
                         capture_output=True, text=True, timeout=300, env=_env())
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "perceptron" in text and "MLP 2-4-1" in text
    per_line = next(line for line in text.splitlines() if line.startswith("perceptron"))
    mlp_line = next(line for line in text.splitlines() if line.startswith("MLP 2-4-1"))
    per_acc = float(per_line.split("accuracy")[1].split("%")[0])
    assert per_acc < 100
    assert "100.0 %" in mlp_line
    assert "test accuracy" in text and "samples/s" in text


def test_bad_file_subprocess(tmp_path):
    bad = _write(tmp_path / "bad.csv", "a,b\n1,x\n")
    out = subprocess.run([sys.executable, "-m", "fastmlp", "train", str(bad), "--target", "b"],
                         capture_output=True, text=True, timeout=120, env=_env())
    assert out.returncode == 2
    assert out.stderr.strip().startswith("fastmlp: error: ")
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


# ------------------------------------------------------------------------------------------
# --plot, internal errors
# ------------------------------------------------------------------------------------------
def test_demo_plot_needs_matplotlib_before_it_starts(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)        # import matplotlib fails
    rc, out, err = run(capsys, "demo", "--quick", "--plot", tmp_path / "xor.png")
    assert_one_line_error(rc, out, err, "--plot needs matplotlib", "pip install")
    assert out == ""                      # nothing ran
    monkeypatch.undo()
    assert_one_line_error(*run(capsys, "demo", "--quick", "--plot",
                               tmp_path / "nope" / "xor.png"), "does not exist")


def test_an_internal_error_exits_1_with_one_line(capsys, monkeypatch):
    import fastmlp.cli.info

    def broken(*args, **kwargs):
        raise RuntimeError("something inside broke")

    monkeypatch.delenv("FASTMLP_DEBUG", raising=False)
    monkeypatch.setattr(fastmlp.cli.info, "show_config", broken)
    rc, out, err = run(capsys, "info")
    assert rc == 1
    assert err.strip().splitlines() == ["fastmlp: error: internal error RuntimeError: "
                                        "something inside broke (set FASTMLP_DEBUG=1 for a "
                                        "traceback)"]
