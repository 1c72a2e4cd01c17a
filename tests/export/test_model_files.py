"""Model files from elsewhere are untrusted: load checks everything before it builds or
reads anything, opens regular files only, and every failure is a ValueError naming the file.
save keeps permissions, cleans up after itself and follows symbolic links."""
import io
import json
import os
import stat
import sys
import threading
import zipfile

import numpy as np
import pytest

import fastmlp as fm
from fastmlp import _npz


def _fitted(tmp_path, **kw):
    m = fm.MLP([3, 5, 3], loss="cross_entropy", seed=0, **kw)
    rng = np.random.default_rng(0)
    m.fit(rng.normal(size=(30, 3)), np.arange(30) % 3, epochs=2, batch_size=10)
    return m, m.save(tmp_path / "m.npz")


def _rewrite(path, **changes):
    """A copy of the model file at ``path`` with entries replaced (arrays or raw bytes)."""
    with np.load(path, allow_pickle=False) as d:
        arrays = {k: d[k] for k in d.files}
    arrays.update(changes)
    out = str(path).replace(".npz", "-bad.npz")
    np.savez(out, **arrays)
    return out


def _config(path):
    with np.load(path, allow_pickle=False) as d:
        return json.loads(str(d["config"][0]))


def _bad(path, match):
    with pytest.raises(ValueError, match=match) as info:
        fm.load(path)
    assert os.path.basename(str(path)) in str(info.value)


def test_huge_layer_sizes_are_refused_before_anything_is_built(tmp_path):
    m, path = _fitted(tmp_path)
    cfg = _config(path)
    cfg["layer_sizes"] = [20000, 20000]
    cfg["hidden_activations"] = []
    bad = _rewrite(path, config=np.array([json.dumps(cfg)]))
    import tracemalloc
    tracemalloc.start()
    _bad(bad, "parameter vector")
    assert tracemalloc.get_traced_memory()[1] < 20 * 2**20     # no 3.2 GB model built
    tracemalloc.stop()


def test_size_limit_is_an_argument(tmp_path):
    m, path = _fitted(tmp_path)
    with pytest.raises(ValueError, match="max_bytes"):
        fm.load(path, max_bytes=100)
    assert np.array_equal(fm.load(path, max_bytes=None).theta, m.theta)
    assert np.array_equal(fm.MLP.load(path, max_bytes=10_000).theta, m.theta)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    result = []
    t = threading.Thread(target=lambda: result.append(
        pytest.raises(ValueError, fm.load, fifo)), daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "load blocked on a FIFO"
    assert "regular file" in str(result[0].value)
    _bad(tmp_path, "regular file|cannot be opened")   # a directory


@pytest.mark.parametrize("config, match", [
    ("[1, 2, 3]", "not an object"),
    ("[" * 100000 + "]" * 100000, "readable"),            # nesting too deep for the parser
    ('{"class": "MLP"}', "layer_sizes"),
    ('{"class": "Other"}', "unknown model class"),
    ("not json", "readable"),
])
def test_malformed_configs(tmp_path, config, match):
    m, path = _fitted(tmp_path)
    _bad(_rewrite(path, config=np.array([config])), match)


@pytest.mark.parametrize("key, value, match", [
    ("layer_sizes", [3, -5, 3], "layer_sizes"),
    ("layer_sizes", [3, "5", 3], "layer_sizes"),
    ("dtype", "int8", "dtype"),
    ("leaky_alpha", None, "leaky_alpha"),
    ("n_threads", 2 ** 40, "n_threads"),
    ("mode", "weird", "mode"),
    ("hidden_activations", ["relu", "relu"], "hidden_activations"),
])
def test_config_fields_are_checked(tmp_path, key, value, match):
    m, path = _fitted(tmp_path)
    cfg = _config(path)
    cfg[key] = value
    _bad(_rewrite(path, config=np.array([json.dumps(cfg)])), match)


def test_classes_of_the_wrong_length_and_non_finite_theta(tmp_path):
    m, path = _fitted(tmp_path)
    _bad(_rewrite(path, classes=np.arange(5)), "classes")
    theta = m.theta.copy()
    theta[3] = np.inf
    _bad(_rewrite(path, theta=theta), "not finite")
    theta[3] = np.nan
    _bad(_rewrite(path, theta=theta), "not finite")
    _bad(_rewrite(path, theta=m.theta[:-1]), "parameter vector")
    _bad(_rewrite(path, theta=m.theta.astype(np.float32)), "parameter vector")


def test_truncated_foreign_and_oversized_archives(tmp_path):
    m, path = _fitted(tmp_path)
    data = open(path, "rb").read()
    trunc = tmp_path / "trunc.npz"
    trunc.write_bytes(data[: len(data) // 2])
    _bad(trunc, "readable")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"\x00" * 100)
    _bad(junk, "readable")
    # a zip bomb: a small file whose theta claims to be huge
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        with np.load(path) as d:
            for k in ("fastmlp_format", "config"):
                buf = io.BytesIO()
                np.save(buf, d[k])
                z.writestr(k + ".npy", buf.getvalue())
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (2 ** 31,)})
        z.writestr("theta.npy", buf.getvalue() + b"\x00" * (2 ** 24))
    assert os.path.getsize(bomb) < 100_000
    _bad(bomb, "max_bytes|parameter vector")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        fm.load(tmp_path / "nope.npz")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_save_keeps_the_umask_and_an_existing_mode(tmp_path):
    m, _ = _fitted(tmp_path)
    old = os.umask(0o022)
    try:
        p = m.save(tmp_path / "new.npz")
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
        os.chmod(p, 0o640)
        m.save(p)
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o640
        os.umask(0o077)
        p2 = m.save(tmp_path / "private.npz")
        assert stat.S_IMODE(os.stat(p2).st_mode) == 0o600
    finally:
        os.umask(old)


def test_save_leaves_no_temporary_file_on_failure(tmp_path, monkeypatch):
    m, _ = _fitted(tmp_path)

    def boom(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(_npz.np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        m.save(tmp_path / "x.npz")
    monkeypatch.undo()
    monkeypatch.setattr(_npz.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        m.save(tmp_path / "y.npz")
    leftovers = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_save_through_a_symlink_replaces_its_target(tmp_path):
    m, _ = _fitted(tmp_path)
    real = tmp_path / "real.npz"
    m.save(real)
    link = tmp_path / "link.npz"
    os.symlink(real, link)
    m.initialize(seed=5)
    m.save(link)
    assert os.path.islink(link)
    assert np.array_equal(fm.load(real).theta, m.theta)
    (tmp_path / "dir.npz").mkdir()
    with pytest.raises(ValueError, match="not a regular file"):
        m.save(tmp_path / "dir.npz")


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE") or not hasattr(os, "fork"),
                    reason="unnamed temporary files are a Linux feature")
def test_a_kill_during_save_leaves_no_temporary_file(tmp_path):
    """Before: tens of MB of .fastmlp-*.npz.tmp stayed behind. The temporary file now has no
    name until it is complete, so the kernel reclaims it with the killed process."""
    import signal
    m = fm.MLP([64, 512, 10], loss="cross_entropy", seed=0)
    pid = os.fork()
    if pid == 0:
        def dying_savez(f, **arrays):
            f.write(b"\0" * (1 << 20))
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        _npz.np.savez = dying_savez
        try:
            m.save(tmp_path / "m.npz")
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert os.listdir(tmp_path) == []


def _patch_zip(path, flag_bits=0, method=None):
    """A copy of the model file with every entry's general-purpose flag bits or compression
    method changed in both the local and the central headers."""
    raw = bytearray(open(path, "rb").read())
    for sig, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        i = raw.find(sig)
        while i >= 0:
            if flag_bits:
                raw[i + flag_at] |= flag_bits
            if method is not None:
                raw[i + method_at:i + method_at + 2] = method.to_bytes(2, "little")
            i = raw.find(sig, i + 4)
    out = str(path).replace(".npz", "-zip.npz")
    open(out, "wb").write(bytes(raw))
    return out


def test_unsupported_compression_and_encryption_are_value_errors(tmp_path):
    """Before: an entry compressed with deflate64 (or any method zipfile lacks) raised
    NotImplementedError and the encrypted flag RuntimeError. Both are ValueErrors naming
    the file now."""
    m, path = _fitted(tmp_path)
    _bad(_patch_zip(path, method=9), "not a readable fastmlp model file")     # deflate64
    _bad(_patch_zip(path, method=99), "not a readable fastmlp model file")
    _bad(_patch_zip(path, flag_bits=0x1), "not a readable fastmlp model file")  # encrypted


def test_configs_that_would_break_fit_later_are_refused_at_load(tmp_path):
    """Before: epochs_trained=2**63 loaded and the next fit raised OverflowError; classes
    [1, 0] loaded and fit raised IndexError. Both are refused by load."""
    m, path = _fitted(tmp_path)
    cfg = _config(path)
    for bad in (2 ** 63, 2 ** 62):
        cfg["epochs_trained"] = bad
        _bad(_rewrite(path, config=np.array([json.dumps(cfg)])), "epochs_trained")
    cfg["epochs_trained"] = 2 ** 62 - 2               # the most, less one: loads and fits
    ok = fm.load(_rewrite(path, config=np.array([json.dumps(cfg)])))
    X = np.random.default_rng(0).normal(size=(6, 3))
    assert len(ok.fit(X, np.arange(6) % 3, epochs=1)) == 1
    with pytest.raises(ValueError, match="epochs"):
        ok.fit(X, np.arange(6) % 3, epochs=2)
    _bad(_rewrite(path, classes=np.array([1, 0, 2])), "sorted")
    _bad(_rewrite(path, classes=np.array(["b", "a", "c"])), "sorted")
    _bad(_rewrite(path, classes=np.array([0, 0, 2])), "distinct")


def test_save_errors_name_the_requested_path(tmp_path, monkeypatch):
    """Before: a failure while writing or renaming named the internal temporary file
    (.fastmlp-PID-XXXX.npz.tmp). Now it names the path save was given."""
    m, _ = _fitted(tmp_path)
    target = tmp_path / "wanted.npz"

    def full(*a, **k):
        raise OSError(28, "No space left on device", str(tmp_path / ".fastmlp-1-x.npz.tmp"))
    monkeypatch.setattr(_npz.np, "savez", full)
    with pytest.raises(OSError) as info:
        m.save(target)
    assert info.value.errno == 28 and info.value.filename == str(target)
    assert ".tmp" not in str(info.value)
    monkeypatch.undo()

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", src, dst)
    monkeypatch.setattr(_npz.os, "replace", refuse)
    with pytest.raises(PermissionError) as info:
        m.save(target)
    assert info.value.filename == str(target) and ".tmp" not in str(info.value)
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []
