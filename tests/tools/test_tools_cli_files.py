"""The command line's files: bad data and model files, FIFOs and devices, output paths."""
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import fastmlp
from cli_helpers import _env, _species_csv, _write, assert_one_line_error, run
from fastmlp.__main__ import CLIError, load_data


# ------------------------------------------------------------------------------------------
# bad data files
# ------------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------------
# bad model files and output paths
# ------------------------------------------------------------------------------------------
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
