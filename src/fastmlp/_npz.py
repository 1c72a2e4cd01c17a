"""The model file (its layout is described in :mod:`fastmlp.io`): written atomically, read
without pickle and without trusting it. This module knows nothing about models: ``MLP.save``
and ``MLP.load`` make and check the config it stores."""
from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
import zipfile
import zlib
from typing import IO, Any, Callable, Optional, Union

import numpy as np

from ._typing import ArrayLike, NDArray

PathLike = Union[str, "os.PathLike[str]"]
# what MLP.load expects of a config: (theta length, theta dtype, number of classes: None for
# a model without classes, "any" when not checked)
Expect = Callable[[dict[str, Any]], tuple[Optional[int], Any, Union[int, str, None]]]

__all__ = ["FORMAT_VERSION", "MAX_BYTES", "write", "read", "is_model_file"]

FORMAT_VERSION = 1
MAX_BYTES = 1 << 30          # load's default limit on any array of a model file (1 GiB)
_MAX_CONFIG_BYTES = 1 << 20  # the JSON config is a few hundred bytes
_MAX_ENTRIES = 16            # four are used


class _Invalid(ValueError):
    """The file's contents are not a model this version can read (wrapped with the path)."""


def _classes_array(classes: ArrayLike) -> NDArray[Any]:
    classes = np.asarray(classes)
    if classes.dtype.kind not in "biufU":
        try:
            classes = classes.astype(str)
        except (TypeError, ValueError):
            raise ValueError(f"classes_ of dtype {classes.dtype} cannot be saved without "
                             f"pickle; use numbers or strings as labels") from None
        if classes.dtype.kind != "U":
            raise ValueError("classes_ cannot be saved without pickle")
    return classes


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
_unnamed_ok: list[bool] = [hasattr(os, "O_TMPFILE")]
_AT_FDCWD, _AT_EMPTY_PATH = -100, 0x1000      # Linux's values
_libc: list[Any] = []


def _link_unnamed(fd: int, name: str) -> None:
    """Give the unnamed (O_TMPFILE) file open as ``fd`` the name ``name``: linkat with
    AT_EMPTY_PATH, else through /proc/self/fd (the two ways Linux offers; which one a
    system allows depends on its kernel, privileges and mounts)."""
    try:
        if not _libc:
            import ctypes
            _libc.append(ctypes.CDLL(None, use_errno=True))
        import ctypes
        if _libc[0].linkat(fd, b"", _AT_FDCWD, os.fsencode(name), _AT_EMPTY_PATH) == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise FileExistsError(err, os.strerror(err), name)
    except (OSError, AttributeError) as exc:
        if isinstance(exc, FileExistsError):
            raise
    os.link(f"/proc/self/fd/{fd}", name, follow_symlinks=True)


def _temp_name(directory: str) -> str:
    names = tempfile._get_candidate_names()  # type: ignore[attr-defined]
    return os.path.join(directory, f".fastmlp-{os.getpid()}-{next(names)}.npz.tmp")


def _write_temp(directory: str, mode: Optional[int],
                arrays: dict[str, NDArray[Any]]) -> str:
    """Write ``arrays`` (numpy.savez) to a new file in ``directory`` and return its name. The
    file has mode 0666 less the umask, or ``mode``. On Linux it is first an unnamed file
    (O_TMPFILE), which the kernel removes if the process dies, and gets its name only once
    it is complete."""
    def fill(f: IO[bytes]) -> None:
        np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub: allow_pickle
        f.flush()
        if mode is not None:
            os.fchmod(f.fileno(), mode)
        os.fsync(f.fileno())

    if _unnamed_ok[0]:
        try:
            fd = os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o666)
        except OSError:
            _unnamed_ok[0] = False      # (this file system has no unnamed files)
        else:
            with os.fdopen(fd, "wb") as f:
                fill(f)
                for _ in range(100):
                    name = _temp_name(directory)
                    try:
                        _link_unnamed(f.fileno(), name)
                        return name
                    except FileExistsError:
                        continue
                    except OSError:     # (e.g. /proc in another mount namespace)
                        _unnamed_ok[0] = False
                        break
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        name = _temp_name(directory)
        try:
            fd = os.open(name, flags, 0o666)
        except FileExistsError:
            continue
        try:
            with os.fdopen(fd, "wb") as f:
                fill(f)
        except BaseException:
            try:
                os.unlink(name)
            except OSError:
                pass
            raise
        return name
    raise FileExistsError(f"no free temporary file name in {directory!r}")


def _named(exc: OSError, path: str) -> OSError:
    """``exc`` about the file the caller asked for, not the temporary file it failed on
    (same errno, so the same OSError subclass)."""
    if exc.errno is None:
        return OSError(f"cannot save {path!r}: {exc}")
    return OSError(exc.errno, f"cannot save the model: {exc.strerror or exc}", path)


def write(path: PathLike, config: dict[str, Any], theta: NDArray[Any],
          classes: Optional[ArrayLike] = None) -> str:
    """Write ``config`` (a JSON-able dict), ``theta`` and ``classes`` (optional) to ``path``
    (``.npz`` appended when missing); returns the path.

    Atomic: the data goes to a temporary file in the target's directory, which then replaces
    the target (``os.replace``), so a reader sees the old file or the new one, never a mix.
    The temporary file is removed on every exit path Python sees (an exception, Ctrl-C);
    where Linux allows it (O_TMPFILE), it has no name until it is complete, so even a killed
    process leaves nothing behind. A new file gets mode 0666 less the umask (as ``open``
    gives); an existing file keeps its permission bits. A symbolic link is followed: the file
    it points to is replaced and the link stays. A path that exists but is not a regular file
    (a directory, a FIFO) is refused with ValueError."""
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    arrays: dict[str, NDArray[Any]] = {
        "fastmlp_format": np.array([FORMAT_VERSION], dtype=np.int64),
        "config": np.array([json.dumps(config)]),
        "theta": np.array(theta, copy=True),
    }
    if classes is not None:
        arrays["classes"] = _classes_array(classes)
    target = os.path.realpath(path) if os.path.islink(path) else path
    try:
        st = os.stat(target)
    except FileNotFoundError:
        mode = None
    else:
        if not stat.S_ISREG(st.st_mode):
            raise ValueError(f"{path!r} exists and is not a regular file; not overwritten")
        mode = stat.S_IMODE(st.st_mode)
    directory = os.path.dirname(os.path.abspath(target))
    try:
        tmp = _write_temp(directory, mode, arrays)
    except OSError as exc:
        raise _named(exc, path) from None
    pending: Optional[str] = tmp            # removed on the way out unless renamed
    try:
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise _named(exc, path) from None
        pending = None
        try:                            # the rename itself survives a crash
            dfd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:
            pass
    finally:
        if pending is not None:
            try:
                os.unlink(pending)
            except OSError:
                pass
    return path


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------
def _header(zf: zipfile.ZipFile, name: str,
            max_bytes: Optional[int]) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """(shape, dtype) of member ``name``'s .npy header, checked against its size and the
    limit before anything is read into memory."""
    info = zf.getinfo(name + ".npy")
    limit = max_bytes if max_bytes is not None else float("inf")
    with zf.open(info) as m:
        version = np.lib.format.read_magic(m)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(m)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(m)
        else:
            raise _Invalid(f"entry {name!r} has an unknown .npy version {version}")
        header_len = m.tell()
    if dtype.hasobject or fortran:
        raise _Invalid(f"entry {name!r} holds {'objects' if dtype.hasobject else 'a Fortran-order array'}")
    count = 1
    for s in shape:
        count *= int(s)
    nbytes = count * dtype.itemsize
    if nbytes > limit:
        raise _Invalid(f"entry {name!r} holds {nbytes} bytes, more than max_bytes={max_bytes} "
                       f"(pass a larger max_bytes to load a model this large)")
    if info.file_size != header_len + nbytes:
        raise _Invalid(f"entry {name!r}: its header says {nbytes} bytes of data, the archive "
                       f"{info.file_size - header_len}")
    return tuple(int(s) for s in shape), dtype


def _array(zf: zipfile.ZipFile, name: str) -> NDArray[Any]:
    with zf.open(name + ".npy") as m:
        return np.lib.format.read_array(m, allow_pickle=False)


def read(path: PathLike, max_bytes: Optional[int] = MAX_BYTES, expect: Optional[Expect] = None
         ) -> tuple[str, dict[str, Any], NDArray[Any], Optional[NDArray[Any]]]:
    """``(path, config, theta, classes)`` from a file written by :func:`write` (``path``
    with ``.npz`` appended when only that exists; ``classes`` None when not stored).

    Nothing in the file is trusted: only a regular file is opened (a FIFO or device would
    block or never end); the archive's entries, their .npy headers and the config are checked
    before any array is read; no array may hold more than ``max_bytes`` bytes (None: no
    limit); ``expect(config)`` -- the caller's check of the config, run before theta is read
    -- returns ``(theta_length, theta_dtype, n_classes)`` (n_classes: the length ``classes``
    must have, or None if it must be absent) or raises ValueError; theta must be finite.

    Every failure is a ValueError naming the file; a missing file is FileNotFoundError."""
    path = os.fspath(path)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        path += ".npz"
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int)
                                  or max_bytes < 0):
        raise TypeError(f"max_bytes must be an int >= 0 or None, got {max_bytes!r}")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"no such model file: {path!r}") from None
    except OSError as exc:
        raise ValueError(f"{path!r} cannot be opened as a model file: {exc.strerror or exc}") \
            from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise _Invalid("not a regular file")
        with os.fdopen(fd, "rb") as f:
            return (path,) + _read_open(f, max_bytes, expect)
    except _Invalid as exc:
        raise ValueError(f"{path!r} is not a readable fastmlp model file: {exc}") from None
    except MemoryError:
        raise ValueError(f"{path!r}: out of memory reading the model (lower max_bytes to "
                         f"refuse such files early)") from None
    except (ValueError, OSError, EOFError, KeyError, IndexError, TypeError, OverflowError,
            RecursionError, UnicodeError, zipfile.BadZipFile, zipfile.LargeZipFile,
            zlib.error, json.JSONDecodeError,
            # zipfile's words for an unsupported compression method (deflate64, ...) and
            # for an entry flagged as encrypted
            NotImplementedError, RuntimeError) as exc:
        raise ValueError(f"{path!r} is not a readable fastmlp model file (corrupt, truncated "
                         f"or written by something else): {type(exc).__name__}: "
                         f"{str(exc)[:300]}") from None


def _read_open(f: IO[bytes], max_bytes: Optional[int], expect: Optional[Expect]
               ) -> tuple[dict[str, Any], NDArray[Any], Optional[NDArray[Any]]]:
    with zipfile.ZipFile(f) as zf:
        entries = zf.namelist()
        if len(entries) > _MAX_ENTRIES:
            raise _Invalid(f"{len(entries)} entries (a model file has at most 4)")
        names = {e[:-4] for e in entries if e.endswith(".npy")}
        missing = {"fastmlp_format", "config", "theta"} - names
        if missing:
            raise _Invalid(f"missing fastmlp entries {sorted(missing)} (found "
                           f"{sorted(entries)[:8]})")
        shape, dtype = _header(zf, "fastmlp_format", 64)
        if dtype.kind not in "iu" or shape != (1,):
            raise _Invalid("the format version is not one integer")
        version = int(_array(zf, "fastmlp_format")[0])
        if version > FORMAT_VERSION or version < 1:
            raise _Invalid(f"format version {version} is not supported by this fastmlp "
                           f"(reads versions 1..{FORMAT_VERSION}); upgrade fastmlp")
        shape, dtype = _header(zf, "config", _MAX_CONFIG_BYTES)
        if dtype.kind != "U" or shape != (1,):
            raise _Invalid("the config is not one string")
        config = json.loads(str(_array(zf, "config")[0]))
        if not isinstance(config, dict):
            raise _Invalid(f"the config is JSON but not an object (got {type(config).__name__})")
        theta_len, theta_dtype, n_classes = (expect(config) if expect is not None
                                             else (None, None, "any"))
        shape, dtype = _header(zf, "theta", max_bytes)
        if theta_len is not None and (shape != (theta_len,) or dtype != theta_dtype):
            raise _Invalid(f"the parameter vector has shape {shape} and dtype {dtype}, the "
                           f"config describes ({theta_len},) {np.dtype(theta_dtype)}")
        if dtype.kind != "f":
            raise _Invalid(f"the parameter vector has dtype {dtype}, not floating point")
        theta = _array(zf, "theta")
        if not np.all(np.isfinite(theta)):
            bad = int(np.flatnonzero(~np.isfinite(theta))[0])
            raise _Invalid(f"the parameter vector is not finite (theta[{bad}] = "
                           f"{theta[bad]!r}); a diverged model cannot be loaded")
        classes = None
        if "classes" in names:
            shape, dtype = _header(zf, "classes", max_bytes)
            if dtype.kind not in "biufU" or len(shape) != 1:
                raise _Invalid(f"classes must be a 1-D array of numbers or strings, got "
                               f"shape {shape} dtype {dtype}")
            if n_classes is None:
                raise _Invalid("classes are stored for a model without classes")
            if n_classes != "any" and shape[0] != n_classes:
                raise _Invalid(f"{shape[0]} classes stored, the model has {n_classes}")
            classes = _array(zf, "classes")
        elif n_classes not in (None, "any"):
            raise _Invalid(f"the model needs its {n_classes} classes, none are stored")
    return config, theta, classes


def is_model_file(path: PathLike) -> bool:
    """Does ``path`` look like a file :func:`write` made (a zip archive holding the format
    entry)? Reads only the archive's directory; says nothing about the contents' validity.
    Only a regular file is opened (a FIFO would block, a device never end)."""
    try:
        if not os.path.isfile(path):
            return False
        with zipfile.ZipFile(path) as z:
            return "fastmlp_format.npy" in z.namelist()
    except (OSError, zipfile.BadZipFile, ValueError):
        return False
