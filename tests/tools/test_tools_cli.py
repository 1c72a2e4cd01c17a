"""The command line: python -m fastmlp {demo,train,predict,info}."""
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import fastmlp
from fastmlp.__main__ import load_data, main, CLIError



def run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, out, err, *words):
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastmlp: error: "), err
    for w in words:
        assert w in lines[0], (w, lines[0])


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


# ------------------------------------------------------------------------------------------
# bad data files
# ------------------------------------------------------------------------------------------
def _write(path, content):
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(path, mode) as f:
        f.write(content)
    return path


BAD_FILES = {
    "missing": (None, "no such file"),
    "empty.csv": ("", "empty file"),
    "header_only.csv": ("a,b,t\n", "no data rows"),
    "ragged.csv": ("a,b,t\n1,2,0\n3,4\n", "line 3 has 2 cells, expected 3"),
    "text_cell.csv": ("a,b,t\n1,2,0\n3,abc,1\n", "line 3, column 'b': 'abc' is not a number"),
    "empty_cell.csv": ("a,b,t\n1,,0\n", "line 2, column 'b': empty cell"),
    "inf_cell.csv": ("a,b,t\n1,inf,0\n", "not a finite number"),
    "binary.csv": (bytes(range(256)) * 4, "not a text CSV file"),
    "corrupt.npz": ("zip", "cannot read it as an .npz"),
    "not_zip.npz": (b"\x00\x01\x02garbage", "not an .npz archive"),
    "bad_header.npy": (b"NUMPY but not quite", "not a .npy file"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_train(capsys, tmp_path, name):
    content, words = BAD_FILES[name]
    path = tmp_path / name
    if content == "zip":          # a real zip archive whose member is not a .npy array
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("X.npy", b"\x93NUMPY garbage")
            z.writestr("y.npy", b"garbage")
    elif content is not None:
        _write(path, content)
    assert_one_line_error(*run(capsys, "train", path, "--target", "t",
                               "--output", tmp_path / "m.npz"), words)
    assert not (tmp_path / "m.npz").exists()


def test_directory_and_target_errors(capsys, tmp_path):
    assert_one_line_error(*run(capsys, "train", tmp_path, "--target", "t"), "is a directory")
    csv_path = _write(tmp_path / "ok.csv", "a,b,t\n1,2,0\n3,4,1\n")
    assert_one_line_error(*run(capsys, "train", csv_path, "--target", "label"),
                          "target column 'label' not found", "columns: a, b, t")
    assert_one_line_error(*run(capsys, "train", csv_path, "--target", "7"), "not found")
    assert_one_line_error(*run(capsys, "train", csv_path), "--target")
    one = _write(tmp_path / "one.csv", "t\n1\n0\n")
    assert_one_line_error(*run(capsys, "train", one, "--target", "t"), "only one column")


def test_bad_npz_npy_contents(capsys, tmp_path):
    np.savez(tmp_path / "noX.npz", A=np.zeros((3, 2)))
    assert_one_line_error(*run(capsys, "train", tmp_path / "noX.npz"), "no array 'X'", "A")
    np.savez(tmp_path / "noy.npz", X=np.zeros((3, 2)))
    assert_one_line_error(*run(capsys, "train", tmp_path / "noy.npz"), "no array 'y'")
    np.savez(tmp_path / "rows.npz", X=np.zeros((3, 2)), y=np.zeros(4))
    assert_one_line_error(*run(capsys, "train", tmp_path / "rows.npz"), "3 rows", "4")
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    assert_one_line_error(*run(capsys, "train", tmp_path / "obj.npz"), "pickled")
    np.savez(tmp_path / "str.npz", X=np.array([["a", "b"]]), y=np.zeros(1))
    assert_one_line_error(*run(capsys, "train", tmp_path / "str.npz"), "expected numbers")
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    assert_one_line_error(*run(capsys, "train", tmp_path / "cube.npy", "--target", "0"),
                          "expected a 2-D matrix")
    np.save(tmp_path / "m.npy", np.zeros((4, 3)))
    assert_one_line_error(*run(capsys, "train", tmp_path / "m.npy", "--target", "x"),
                          "not found")
    nan = np.ones((4, 3))
    nan[2, 1] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    assert_one_line_error(*run(capsys, "train", tmp_path / "nan.npy", "--target", "0"),
                          "non-finite", "row 2")


def test_load_data_formats(tmp_path):
    _write(tmp_path / "d.csv", '"x 1",x2,label\n1,2,0\n3,4,1\n\n5,6,1\n')
    X, y, names = load_data(str(tmp_path / "d.csv"), "label")
    np.testing.assert_array_equal(X, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(y, [0, 1, 1])
    assert names == ["x 1", "x2"]
    X2, y2, _ = load_data(str(tmp_path / "d.csv"), "-1")
    np.testing.assert_array_equal(X2, X)
    X3, y3, _ = load_data(str(tmp_path / "d.csv"), "0")
    np.testing.assert_array_equal(y3, [1, 3, 5])
    Xp, yp, _ = load_data(str(tmp_path / "d.csv"), "label", need_target=False)
    assert yp is None and Xp.shape == (3, 2)
    np.save(tmp_path / "d.npy", np.c_[X, y])
    Xn, yn, _ = load_data(str(tmp_path / "d.npy"), "2")
    np.testing.assert_array_equal(Xn, X)
    np.testing.assert_array_equal(yn, y)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    Xz, yz, _ = load_data(str(tmp_path / "d.npz"))
    np.testing.assert_array_equal(Xz, X)
    np.testing.assert_array_equal(yz, y)
    with pytest.raises(CLIError):
        load_data(str(tmp_path / "nope.csv"), "label")


def test_info(capsys):
    rc, out, _ = run(capsys, "info")
    assert rc == 0
    assert "openmp" in out.lower() and "fastmlp" in out.lower()


# ------------------------------------------------------------------------------------------
# train / predict round trips (need the model API)
# ------------------------------------------------------------------------------------------
def _blobs_csv(path, n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    centers = np.array([[0, 0], [3, 3], [-3, 3]])
    X = centers[y] + 0.5 * rng.standard_normal((n, 2))
    with open(path, "w") as f:
        f.write("f1,f2,species\n")
        for (a, b), t in zip(X, y):
            f.write(f"{a:.6f},{b:.6f},{t}\n")
    return X, y


def test_train_and_predict_csv(capsys, tmp_path):
    data = tmp_path / "blobs.csv"
    X, y = _blobs_csv(data)
    model = tmp_path / "model.npz"
    rc, out, err = run(capsys, "train", data, "--target", "species", "--hidden", "8",
                       "--epochs", "30", "--lr", "0.1", "--output", model, "-v",
                       "--validation-split", "0.2")
    assert rc == 0, err
    assert model.exists()
    assert out.count("epoch ") == 30 and "val_loss" in out
    assert "samples/s" in out and "cross_entropy" in out

    rc, out, err = run(capsys, "predict", model, data, "--target", "species")
    assert rc == 0, err
    pred = np.array([float(v) for v in out.split()])
    assert pred.shape == (len(y),)
    assert np.mean(pred == y) > 0.9

    preds = tmp_path / "preds.csv"
    rc, out, err = run(capsys, "predict", model, data, "--target", "2", "--output", preds)
    assert rc == 0, err
    lines = preds.read_text().splitlines()
    assert lines[0] == "prediction" and len(lines) == len(y) + 1

    rc, out, err = run(capsys, "predict", model, data, "--target", "species", "--proba")
    assert rc == 0, err
    P = np.array([[float(v) for v in line.split(",")] for line in out.splitlines()])
    assert P.shape == (len(y), 3)
    np.testing.assert_allclose(P.sum(axis=1), 1, atol=1e-9)

    # the model takes 2 inputs; the file has 3 columns
    assert_one_line_error(*run(capsys, "predict", model, data), "3 feature columns",
                          "2 inputs", "--target")


def test_train_regression_npz_and_npy(capsys, tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(200, 3))
    y = X @ [0.5, -1.0, 2.0] + 0.1
    np.savez(tmp_path / "reg.npz", X=X, y=y)
    rc, out, err = run(capsys, "train", tmp_path / "reg.npz", "--hidden", "16",
                       "--activation", "tanh", "--epochs", "40", "--optimizer", "adam",
                       "--lr", "0.01", "--dtype", "float32", "--output", tmp_path / "r.npz")
    assert rc == 0, err
    assert "square" in out
    rc, out, err = run(capsys, "predict", tmp_path / "r.npz", tmp_path / "reg.npz")
    assert rc == 0, err
    pred = np.array([float(v) for v in out.split()])
    assert np.mean((pred - y) ** 2) < 0.1 * np.var(y)

    np.save(tmp_path / "reg.npy", np.c_[y, X])
    rc, out, err = run(capsys, "train", tmp_path / "reg.npy", "--target", "0", "--hidden",
                       "none", "--epochs", "5", "--batch-size", "full",
                       "--output", tmp_path / "r2.npz")
    assert rc == 0, err
    assert "3-1" in out


def test_bad_model_files(capsys, tmp_path):
    data = _write(tmp_path / "d.csv", "a,b\n1,2\n")
    assert_one_line_error(*run(capsys, "predict", tmp_path / "none.npz", data), "no such file")
    junk = _write(tmp_path / "junk.npz", b"not a model at all")
    assert_one_line_error(*run(capsys, "predict", junk, data), "not a fastmlp model file")
    np.savez(tmp_path / "other.npz", X=np.zeros((2, 2)))
    assert_one_line_error(*run(capsys, "predict", tmp_path / "other.npz", data),
                          "not a fastmlp model file")
    # a CSV, a pickled .npy: the same words, never numpy's allow_pickle advice
    for path in (data, tmp_path / "obj.npy"):
        if path.suffix == ".npy":
            np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        rc, out, err = run(capsys, "predict", path, data)
        assert_one_line_error(rc, out, err, "not a fastmlp model file")
        assert "pickle" not in err
    # a model file with a damaged entry: it is one, but it cannot be loaded
    fastmlp.MLP([2, 1], loss="square", seed=0).save(tmp_path / "good.npz")
    with zipfile.ZipFile(tmp_path / "good.npz") as src, \
            zipfile.ZipFile(tmp_path / "m.npz", "w") as dst:
        for name in src.namelist():
            dst.writestr(name, b"garbage" if name == "config.npy" else src.read(name))
    assert_one_line_error(*run(capsys, "predict", tmp_path / "m.npz", data),
                          "cannot load this fastmlp model")


def test_train_bad_labels_for_loss(capsys, tmp_path):
    data = _write(tmp_path / "d.csv", "a,t\n1,0.5\n2,1.5\n3,2.5\n")
    assert_one_line_error(*run(capsys, "train", data, "--target", "t", "--loss",
                               "cross_entropy"), "class labels")
    data = _write(tmp_path / "d3.csv", "a,t\n1,0\n2,1\n3,2\n")
    assert_one_line_error(*run(capsys, "train", data, "--target", "t", "--loss", "hinge"),
                          "binary")


# ------------------------------------------------------------------------------------------
# a real interpreter
# ------------------------------------------------------------------------------------------
def _env():
    env = dict(os.environ)
    env.pop("FASTMLP_DEBUG", None)
    return env


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


def test_small_file_batch_clamped(capsys, tmp_path):
    data = _write(tmp_path / "xor.csv", "x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    rc, out, err = run(capsys, "train", data, "--target", "y", "--hidden", "4",
                       "--activation", "tanh", "--epochs", "500", "--lr", "0.5",
                       "--loss", "logistic", "--output", tmp_path / "x.npz")
    assert rc == 0, err
    assert "full batch" in out and "2-4-1" in out


# ------------------------------------------------------------------------------------------
# what a newcomer tries: text labels, the task, divergence, paths, --plot
# ------------------------------------------------------------------------------------------
SPECIES = np.array(["setosa", "versicolor", "virginica"])


def _species_csv(path, n=150, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 4)) + 3 * np.eye(4)[y]
    with open(path, "w") as f:
        f.write("a,b,c,d,species\n")
        for row, t in zip(X, y):
            f.write(",".join(f"{v:.4f}" for v in row) + f",{SPECIES[t]}\n")
    return X, SPECIES[y]


def test_text_labels_train_and_predict_as_text(capsys, tmp_path):
    data = tmp_path / "flowers.csv"
    X, labels = _species_csv(data)
    rc, out, err = run(capsys, "train", data, "--target", "species", "--hidden", "8",
                       "--epochs", "40", "--lr", "0.1", "--output", tmp_path / "m")
    assert rc == 0 and err == "", err
    assert out.splitlines()[0] == ("task: classify, 3 classes (guessed: the target holds text "
                                   "labels (3 distinct); --task regress to change)")
    assert f"saved model to {tmp_path / 'm.npz'}" in out        # the file actually written
    rc, out, err = run(capsys, "predict", tmp_path / "m.npz", data, "--target", "species")
    assert rc == 0, err
    pred = np.array(out.split())
    assert set(pred) <= set(SPECIES) and np.mean(pred == labels) > 0.9
    rc, out, err = run(capsys, "predict", tmp_path / "m.npz", data, "--target", "species",
                       "--proba", "--output", tmp_path / "p.csv")
    assert rc == 0, err
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == \
        "p_setosa,p_versicolor,p_virginica"
    # an .npz whose y holds text labels works the same way
    np.savez(tmp_path / "f.npz", X=X, y=labels)
    rc, out, err = run(capsys, "train", tmp_path / "f.npz", "--epochs", "2",
                       "--output", tmp_path / "m2.npz")
    assert rc == 0 and "3 classes" in out, err
    # text labels cannot be regressed; features must still be numbers
    assert_one_line_error(*run(capsys, "train", data, "--target", "species", "--task",
                               "regress"), "--task regress needs numbers", f"'{labels[0]}'")
    assert_one_line_error(*run(capsys, "train", data, "--target", "a"),
                          "column 'species'", "is not a number")


@pytest.mark.parametrize("values,task,words", [
    (lambda rng, n: rng.integers(0, 3, n), "classify", "holds 3 distinct integers"),
    (lambda rng, n: rng.integers(0, 35, n), "regress", "35 distinct integers"),
    (lambda rng, n: rng.normal(size=n), "regress", "non-integer numbers"),
])
def test_the_task_guess_is_printed_and_can_be_overridden(capsys, tmp_path, values, task,
                                                         words):
    rng = np.random.default_rng(0)
    n = 200
    X = rng.normal(size=(n, 3))
    y = values(rng, n)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    rc, out, err = run(capsys, "train", tmp_path / "d.npz", "--epochs", "2", "--lr", "1e-4",
                       "--output", tmp_path / "m.npz")
    assert rc == 0, err
    first = out.splitlines()[0]
    assert first.startswith(f"task: {task}") and "guessed" in first and words in first
    other = "regress" if task == "classify" else "classify"
    assert f"--task {other} to change" in first
    assert ("square loss" in out) == (task == "regress")
    if y.dtype.kind == "i":          # an integer target can go either way when asked
        rc, out, err = run(capsys, "train", tmp_path / "d.npz", "--epochs", "2", "--task",
                           other, "--lr", "1e-4", "--output", tmp_path / "m.npz")
        assert rc == 0, err
        assert out.splitlines()[0].startswith(f"task: {other}") and "(--task)" in out
        n_out = len(np.unique(y)) if other == "classify" else 1
        assert fastmlp.load(tmp_path / "m.npz").layer_sizes[-1] == n_out
    else:
        assert_one_line_error(*run(capsys, "train", tmp_path / "d.npz", "--task", "classify"),
                              "class labels")
    assert_one_line_error(*run(capsys, "train", tmp_path / "d.npz", "--task", other,
                               "--loss", "square" if other == "classify" else "hinge"),
                          f"--task is {other}")


def test_a_diverged_run_exits_3_with_one_line_and_writes_no_model(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    np.savez(tmp_path / "d.npz", X=X, y=X @ [1.0, 2.0, 3.0] * 10)
    model = tmp_path / "m.npz"
    rc, out, err = run(capsys, "train", tmp_path / "d.npz", "--lr", "1e6", "--output", model)
    assert rc == 3 and not model.exists()
    assert "Warning" not in err and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastmlp: error: training diverged in "
                                                   "epoch 1, before completing an epoch ")
    assert out.startswith("task: regress") and "trained" not in out   # not "0 epochs"
    assert "--lr auto, or --lr 0.01 (sgd's default)" in lines[0]       # not "e.g. 1e+05"
    assert "--lr" in lines[0] and "no model written" in lines[0]
    rc, out, err = run(capsys, "train", tmp_path / "d.npz", "--lr", "1e6", "--output", model,
                       "--keep-diverged")
    assert rc == 3 and model.exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastmlp: warning: training diverged")
    assert str(model) in lines[0]
    assert np.all(np.isfinite(fastmlp.load(model).theta))


def test_validation_leaving_few_training_samples_warns(capsys, tmp_path):
    data = tmp_path / "flowers.csv"
    _species_csv(data, n=200)
    rc, out, err = run(capsys, "train", data, "--target", "species", "--epochs", "2",
                       "--validation-split", "0.985", "--output", tmp_path / "m.npz")
    assert rc == 0
    assert err.strip() == ("fastmlp: warning: --validation-split 0.985 leaves 3 of 200 "
                           "samples for training: too few to learn from")
    # fewer training rows than classes: the stratified split cannot keep one of each
    assert_one_line_error(*run(capsys, "train", data, "--target", "species", "--epochs", "2",
                               "--validation-split", "0.99", "--output", tmp_path / "m.npz"),
                          "leaves 2 samples for training, fewer than the 3 classes")
    rc, out, err = run(capsys, "train", data, "--target", "species", "--epochs", "2",
                       "--validation-split", "0.9", "--output", tmp_path / "m.npz")
    assert rc == 0 and err == ""          # 20 training samples: no warning


def test_output_paths_are_checked_before_training(capsys, tmp_path):
    data = tmp_path / "flowers.csv"
    _species_csv(data)
    target = tmp_path / "no_such_dir" / "m.npz"
    rc, out, err = run(capsys, "train", data, "--target", "species", "--output", target)
    assert_one_line_error(rc, out, err, str(target), "does not exist")
    assert out == ""                      # nothing was trained
    assert_one_line_error(*run(capsys, "train", data, "--target", "species", "--output",
                               tmp_path), str(tmp_path), "is a directory")
    net = fastmlp.MLP([4, 3], loss="cross_entropy", seed=0)
    net.fit(np.zeros((3, 4)), ["a", "b", "c"], epochs=1)
    net.save(tmp_path / "m.npz")
    rc, out, err = run(capsys, "predict", tmp_path / "m.npz", data, "--target", "species",
                       "--output", target.with_suffix(".csv"))
    assert_one_line_error(rc, out, err, "no_such_dir", "does not exist")


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


def _cli(*argv, timeout=60, cwd=None):
    """python -m fastmlp argv in a subprocess (for what used to hang: a timeout fails)."""
    try:
        return subprocess.run([sys.executable, "-m", "fastmlp", *map(str, argv)], cwd=cwd,
                              capture_output=True, text=True, timeout=timeout, env=_env())
    except subprocess.TimeoutExpired:
        pytest.fail(f"fastmlp {' '.join(map(str, argv))} still running after {timeout} s")


def _one_line_exit_2(out, *words):
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastmlp: error: "), out.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"),
                    reason="needs FIFOs and /dev/zero")
def test_fifos_and_devices_are_refused_as_models_data_and_outputs(tmp_path):
    """Before: predict/export opened a FIFO or /dev/zero given as the model (is_model_file
    read it before load's regular-file check) and hung; predict MODEL /dev/zero grew memory
    without bound and train /dev/zero ran until killed; train -o FIFO trained in full, then
    failed to save. Now each is a one-line error, exit 2, before any work."""
    data = tmp_path / "flowers.csv"
    _species_csv(data)
    model = tmp_path / "m.npz"
    net = fastmlp.MLP([4, 3], loss="cross_entropy", seed=0)
    net.fit(np.zeros((3, 4)), ["a", "b", "c"], epochs=1)
    net.save(model)
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)
    _one_line_exit_2(_cli("predict", fifo, data, "--target", "species"), "not a regular file")
    try:
        import onnx  # noqa: F401
        words = ("not a regular file",)
    except ImportError:                              # export stops at the missing extra
        words = ("onnx",)
    _one_line_exit_2(_cli("export", fifo, tmp_path / "m.onnx"), *words)
    _one_line_exit_2(_cli("predict", "/dev/zero", data, "--target", "species"),
                     "not a regular file")
    _one_line_exit_2(_cli("predict", model, "/dev/zero"), "/dev/zero", "not a regular file")
    _one_line_exit_2(_cli("predict", model, fifo), "not a regular file")
    _one_line_exit_2(_cli("train", "/dev/zero", "--target", "0"), "not a regular file")
    out = _cli("train", data, "--target", "species", "-o", fifo)
    _one_line_exit_2(out, str(fifo), "not a regular file")
    assert out.stdout == ""                          # nothing was trained
    out = _cli("predict", model, data, "--target", "species", "-o", fifo)
    _one_line_exit_2(out, "not a regular file")


def test_a_npy_header_larger_than_its_file_is_refused_before_reading(capsys, tmp_path):
    """A .npy whose header claims a huge array (numpy would allocate it before finding the
    file short) is refused from the header, as the model reader does."""
    import io
    path = tmp_path / "big.npy"
    hdr = np.lib.format.header_data_from_array_1_0(np.zeros((4, 3)))
    hdr["shape"] = (4_000_000_000, 3)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, hdr)
    path.write_bytes(buf.getvalue() + np.zeros((4, 3)).tobytes())
    assert_one_line_error(*run(capsys, "train", path, "--target", "0"), "corrupt or truncated",
                          "96000000000 bytes")
    npz = tmp_path / "big.npz"
    with zipfile.ZipFile(npz, "w") as zf:
        zf.writestr("X.npy", path.read_bytes())
        zf.writestr("y.npy", path.read_bytes())
    assert_one_line_error(*run(capsys, "train", npz), "entry 'X.npy'", "corrupt or truncated")


def test_empty_output_names_and_networks_too_large_for_memory(capsys, tmp_path, monkeypatch):
    """Before: -o "" wrote a hidden '.npz' and a network too large for memory exited 1 as
    'internal error MemoryError'. Now both are one-line user errors, exit 2."""
    data = tmp_path / "flowers.csv"
    _species_csv(data)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FASTMLP_DEBUG", raising=False)
    rc, out, err = run(capsys, "train", data, "--target", "species", "-o", "")
    assert_one_line_error(rc, out, err, "give a file name for the model")
    assert out == "" and not (tmp_path / ".npz").exists()
    assert_one_line_error(*run(capsys, "train", data, "--target", "species", "-o",
                               str(tmp_path) + os.sep), "give a file name")
    rc, out, err = run(capsys, "train", data, "--target", "species", "--hidden",
                       "1000000,1000000", "-o", tmp_path / "huge.npz")
    assert_one_line_error(rc, out, err, "out of memory", "--hidden")
    assert not (tmp_path / "huge.npz").exists()


# ------------------------------------------------------------------------------------------
# the second hour: divergence by loss growth, huge rates, the validation split, scores,
# feature scales, predict's target hint
# ------------------------------------------------------------------------------------------
def _iris_csv(path, sort=False):
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_iris(return_X_y=True)
    if sort:
        X, y = X[np.argsort(y, kind="stable")], np.sort(y)
    with open(path, "w") as f:
        f.write("sl,sw,pl,pw,species\n")
        for row, t in zip(X, y):
            f.write(",".join(f"{v:g}" for v in row) + f",{SPECIES[t]}\n")


def test_a_loss_that_ends_far_above_its_start_is_divergence(capsys, tmp_path):
    data, model = tmp_path / "iris.csv", tmp_path / "m.npz"
    _iris_csv(data)
    rc, out, err = run(capsys, "train", data, "--target", "species", "--lr", "1e6",
                       "-o", model)
    assert rc == 3 and not model.exists()        # the loss stays finite, but grows
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastmlp: error: training diverged: the training loss rose "
                               "from ")
    assert "(the initial weights) to " in lines[0] and "no model written" in lines[0]
    assert "--lr auto, or --lr 0.01 (sgd's default)" in lines[0]
    assert "saved model" not in out and "accuracy" not in out
    rc, out, err = run(capsys, "train", data, "--target", "species", "--lr", "1e6",
                       "-o", model, "--keep-diverged")
    assert rc == 3 and model.exists()
    assert err.startswith("fastmlp: warning: training diverged: the training loss rose")
    # a rate that trains: exit 0
    rc, out, err = run(capsys, "train", data, "--target", "species", "--lr", "0.1",
                       "-o", model)
    assert rc == 0 and err == "", err


def test_a_rate_of_1e300_says_so_without_a_zero_epoch_run(capsys, tmp_path):
    data = tmp_path / "iris.csv"
    _iris_csv(data)
    rc, out, err = run(capsys, "train", data, "--target", "species", "--lr", "1e300",
                       "-o", tmp_path / "m.npz")
    assert rc == 3
    assert "0 epochs" not in out and "trained" not in out
    assert "training diverged in epoch 1, before completing an epoch" in err
    assert "--lr auto, or --lr 0.01 (sgd's default)" in err and "1e+299" not in err
    rc, out, err = run(capsys, "train", data, "--target", "species", "--lr", "1e300",
                       "--optimizer", "adam", "-o", tmp_path / "m.npz")
    assert rc == 3 and "--lr 0.001 (adam's default)" in err
    # a rate near a sensible one gets a tenth of it
    from fastmlp.cli.train import _smaller_lr
    assert _smaller_lr(0.5, "sgd") == "a smaller --lr (e.g. 0.05)"


def test_split_rows_is_shuffled_stratified_and_seeded():
    from fastmlp.cli.train import split_rows
    y = np.repeat(np.array(["a", "b", "c"]), [100, 30, 20])       # sorted, unbalanced
    tr, va = split_rows(y, 0.2, seed=0, stratify=True)
    assert len(va) == 30 and len(tr) == 120
    assert sorted(np.concatenate([tr, va]).tolist()) == list(range(150))
    assert dict(zip(*np.unique(y[va], return_counts=True))) == {"a": 20, "b": 6, "c": 4}
    tr2, va2 = split_rows(y, 0.2, seed=0, stratify=True)
    assert np.array_equal(va, va2)                                 # seeded
    assert not np.array_equal(va, split_rows(y, 0.2, seed=1, stratify=True)[1])
    assert not np.array_equal(va, np.arange(120, 150))             # not the last rows
    tr, va = split_rows(y, 0.2, seed=0, stratify=True, shuffle=False)
    assert np.array_equal(va, np.arange(120, 150))                 # --no-shuffle-split
    tr, va = split_rows(np.arange(50.0), 0.2, seed=0, stratify=False)  # regression
    assert len(va) == 10 and not np.array_equal(va, np.arange(40, 50))
    # a small class keeps a training row
    tr, va = split_rows(np.array([0] * 8 + [1]), 0.5, seed=0, stratify=True)
    assert 8 in tr and len(va) == 4


def test_validation_split_of_a_sorted_file_holds_every_class_and_scores_print(capsys,
                                                                              tmp_path):
    data = tmp_path / "iris.csv"
    _iris_csv(data, sort=True)              # the last 30 rows are all virginica
    rc, out, err = run(capsys, "train", data, "--target", "species", "--lr", "0.05",
                       "--epochs", "40", "--validation-split", "0.2", "-o", tmp_path / "m.npz")
    assert rc == 0 and err == "", err
    assert "on 120 samples" in out
    line = next(l for l in out.splitlines() if l.startswith("training accuracy"))
    m = re.fullmatch(r"training accuracy (\d+\.\d) %, validation accuracy (\d+\.\d) %", line)
    assert m, line
    assert float(m.group(2)) >= 80.0
    rc, out, err = run(capsys, "train", data, "--target", "species", "--lr", "0.05",
                       "--epochs", "40", "--validation-split", "0.2", "--no-shuffle-split",
                       "-o", tmp_path / "m.npz")
    assert rc == 0
    assert "validation accuracy" in out
    # regression prints R^2
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    np.savez(tmp_path / "r.npz", X=X, y=X @ [1.0, -1.0, 0.5])
    rc, out, err = run(capsys, "train", tmp_path / "r.npz", "--validation-split", "0.25",
                       "-o", tmp_path / "r_model.npz")
    assert rc == 0, err
    assert re.search(r"^training R\^2 [-0-9.e]+, validation R\^2 [-0-9.e]+$", out, re.M), out


def test_feature_scales_orders_of_magnitude_apart_warn(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = (X[:, 0] > 0).astype(int)
    np.savez(tmp_path / "ok.npz", X=X, y=y)
    rc, out, err = run(capsys, "train", tmp_path / "ok.npz", "-o", tmp_path / "m.npz")
    assert rc == 0 and err == ""
    np.savez(tmp_path / "wide.npz", X=X * [1.0, 1000.0, 1.0], y=y)
    rc, out, err = run(capsys, "train", tmp_path / "wide.npz", "--lr", "1e-6",
                       "-o", tmp_path / "m.npz")
    lines = err.strip().splitlines()
    assert lines[0].startswith("fastmlp: warning: the feature columns' scales differ by a "
                               "factor of 1.0"), err
    assert "'x1'" in lines[0] and "scale them first" in lines[0]


def test_predict_without_target_on_a_file_holding_it_suggests_target(capsys, tmp_path):
    data = tmp_path / "flowers.csv"
    _species_csv(data)
    model = tmp_path / "m.npz"
    assert run(capsys, "train", data, "--target", "species", "-o", model)[0] == 0
    rc, out, err = run(capsys, "predict", model, data)
    assert_one_line_error(rc, out, err, "is not a number",
                          "if 'species' is the target column, drop it with --target species")
    rc, out, err = run(capsys, "predict", model, data, "--target", "species")
    assert rc == 0 and len(out.splitlines()) == 150

