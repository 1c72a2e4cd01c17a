"""The command line's train and predict: round trips, the task guess, divergence, validation."""
import re

import numpy as np
import pytest

import fastmlp
from cli_helpers import SPECIES, _species_csv, _write, assert_one_line_error, run


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


def test_train_bad_labels_for_loss(capsys, tmp_path):
    data = _write(tmp_path / "d.csv", "a,t\n1,0.5\n2,1.5\n3,2.5\n")
    assert_one_line_error(*run(capsys, "train", data, "--target", "t", "--loss",
                               "cross_entropy"), "class labels")
    data = _write(tmp_path / "d3.csv", "a,t\n1,0\n2,1\n3,2\n")
    assert_one_line_error(*run(capsys, "train", data, "--target", "t", "--loss", "hinge"),
                          "binary")


def test_small_file_batch_clamped(capsys, tmp_path):
    data = _write(tmp_path / "xor.csv", "x1,x2,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    rc, out, err = run(capsys, "train", data, "--target", "y", "--hidden", "4",
                       "--activation", "tanh", "--epochs", "500", "--lr", "0.5",
                       "--loss", "logistic", "--output", tmp_path / "x.npz")
    assert rc == 0, err
    assert "full batch" in out and "2-4-1" in out


# ------------------------------------------------------------------------------------------
# what a newcomer tries: text labels, the task, divergence
# ------------------------------------------------------------------------------------------
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
