"""Reading the data files of ``train`` and ``predict``: CSV with a header row, .npy, .npz."""
from __future__ import annotations

import csv
import os
import zipfile
from typing import IO, Any, Iterable, Iterator, Optional, Sequence, TextIO, Union

import numpy as np

from .._typing import NDArray

Rows = list[tuple[int, list[str]]]

from .common import CLIError, one_line

__all__ = ["load_data", "check_file", "NotANumber"]


class NotANumber(CLIError):
    """A feature cell that is not a number; ``column`` names its column."""

    def __init__(self, message: str, column: str) -> None:
        super().__init__(message)
        self.column = column


def check_file(path: str) -> None:
    """An input file (data or model) must be a readable regular file: a FIFO would block and
    a device (/dev/zero) never end, before anything could check what it holds."""
    if not os.path.exists(path):
        raise CLIError(f"{path}: no such file")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory, expected a file")
    if not os.path.isfile(path):
        raise CLIError(f"{path}: not a regular file (a FIFO, device or socket); expected a "
                       f"data or model file")
    if not os.access(path, os.R_OK):
        raise CLIError(f"{path}: permission denied")


def _check_npy_header(path: str, what: str, f: IO[bytes], size: int) -> None:
    """The array a .npy header describes must be what the file (or archive entry) of
    ``size`` bytes holds: a header claiming more would make numpy allocate it first."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except (ValueError, OSError, EOFError) as exc:
        raise CLIError(f"{path}: cannot read it as {what}: {one_line(exc)}") from None
    if dtype.hasobject:
        return                 # refused by np.load (no pickle) with its own message
    count = 1
    for n in shape:
        count *= int(n)
    nbytes = count * dtype.itemsize
    if nbytes != size - f.tell():
        raise CLIError(f"{path}: cannot read it as {what}: corrupt or truncated (the header "
                       f"describes {nbytes} bytes of data, the file holds {size - f.tell()})")


def _numeric_matrix(path: str, what: str, arr: Any) -> NDArray[Any]:
    arr = np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        raise CLIError(f"{path}: {what} holds {arr.dtype} values, expected numbers")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise CLIError(f"{path}: {what} has shape {arr.shape}, expected a 2-D matrix")
    if arr.shape[0] == 0:
        raise CLIError(f"{path}: {what} has no rows")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        r, c = np.argwhere(~np.isfinite(arr))[0]
        raise CLIError(f"{path}: {what} has a non-finite value ({arr[r, c]}) at row {r}, "
                       f"column {c}")
    return arr


def _resolve_column(path: str, target: Union[str, int], names: Sequence[str]) -> int:
    """The index of column ``target`` (a header name, or an integer index)."""
    if target in names:
        return names.index(target)
    try:
        i = int(target)
    except (TypeError, ValueError):
        i = None
    if i is not None and -len(names) <= i < len(names):
        return i % len(names)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    raise CLIError(f"{path}: target column {target!r} not found (columns: {shown})")


def _read_csv(path: str) -> tuple[list[str], Rows]:
    """(header, rows): the header names and the data rows as (line number, cells)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(_csv_rows(f))
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text CSV file (cannot decode it as UTF-8)") from None
    except csv.Error as exc:
        raise CLIError(f"{path}: malformed CSV: {exc}") from None
    if not rows:
        raise CLIError(f"{path}: empty file, expected a header row and data rows")
    header = [h.strip() for h in rows[0][1]]
    if len(rows) == 1:
        raise CLIError(f"{path}: has a header row but no data rows")
    ncol = len(header)
    for line, row in rows[1:]:
        if len(row) != ncol:
            raise CLIError(f"{path}: line {line} has {len(row)} cells, expected {ncol} "
                           f"(like the header)")
    return header, rows[1:]


def _csv_numbers(path: str, header: Sequence[str], rows: Rows,
                 columns: Iterable[int]) -> NDArray[Any]:
    """The cells of ``columns`` as a float matrix (an error names the first bad cell)."""
    columns = list(columns)
    data = np.empty((len(rows), len(columns)))
    for i, (line, row) in enumerate(rows):
        for k, j in enumerate(columns):
            data[i, k] = _csv_number(path, header[j], line, row[j])
    return data


def _csv_number(path: str, name: str, line: int, cell: str) -> float:
    cell = cell.strip()
    if not cell:
        raise CLIError(f"{path}: line {line}, column {name!r}: empty cell")
    try:
        v = float(cell)
    except ValueError:
        raise NotANumber(f"{path}: line {line}, column {name!r}: {cell!r} is not "
                         f"a number", name) from None
    if not np.isfinite(v):
        raise CLIError(f"{path}: line {line}, column {name!r}: {cell!r} is not "
                       f"a finite number")
    return v


def _csv_target(path: str, header: Sequence[str], rows: Rows, j: int) -> NDArray[Any]:
    """Column ``j`` as numbers when every cell is one, else as string labels (stripped)."""
    cells = []
    for line, row in rows:
        cell = row[j].strip()
        if not cell:
            raise CLIError(f"{path}: line {line}, column {header[j]!r}: empty cell")
        cells.append(cell)
    try:
        values = np.array([float(c) for c in cells])
    except ValueError:
        return np.array(cells)                  # class labels such as 'virginica'
    if not np.all(np.isfinite(values)):
        i = int(np.argmin(np.isfinite(values)))
        raise CLIError(f"{path}: line {rows[i][0]}, column {header[j]!r}: {cells[i]!r} is "
                       f"not a finite number")
    return values


def _csv_rows(f: TextIO) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(f)
    for row in reader:
        if row and any(c.strip() for c in row):
            yield reader.line_num, row


def _load_numpy(path: str) -> Any:
    npz = path.lower().endswith(".npz")
    try:
        if npz and not zipfile.is_zipfile(path):
            raise CLIError(f"{path}: not an .npz archive (it is not a zip file)")
        if not npz:
            with open(path, "rb") as f:
                if f.read(6) != b"\x93NUMPY":
                    raise CLIError(f"{path}: not a .npy file (no NumPy header)")
                f.seek(0)
                _check_npy_header(path, "a .npy array", f, os.fstat(f.fileno()).st_size)
        else:
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if info.filename.endswith(".npy"):
                        with zf.open(info) as m:
                            _check_npy_header(path, f"an .npz archive (entry "
                                              f"{info.filename!r})", m, info.file_size)
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise CLIError(f"{path}: cannot read it ({one_line(exc)})") from None
    try:
        obj = np.load(path, allow_pickle=False)
        if isinstance(obj, np.lib.npyio.NpzFile):
            with obj:
                return {k: obj[k] for k in obj.files}
        return obj
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        kind = "an .npz archive" if npz else "a .npy array"
        why = "it holds Python objects (pickled data), which fastmlp does not load" \
            if "pickle" in str(exc) else one_line(exc)
        raise CLIError(f"{path}: cannot read it as {kind}: {why}") from None


def load_data(path: str, target: Optional[Union[str, int]] = None, need_target: bool = True
              ) -> tuple[NDArray[Any], Optional[NDArray[Any]], list[str]]:
    """Read a data file for the CLI: returns ``(X, y, feature_names)``.

    ``.npz``: arrays ``X`` and (when ``need_target``) ``y``; ``.npy``: a 2-D matrix whose
    column ``target`` (an index) is y; anything else is read as CSV with a header row and
    ``target`` is a column name or index. Features must be numbers; the target of a CSV
    file (or the ``y`` of an .npz) may hold strings, returned as a string array of class
    labels. With ``need_target=False`` a given ``target`` column is dropped (whatever it
    holds) and ``y`` is None. Raises :class:`CLIError` on any problem.
    """
    check_file(path)
    low = path.lower()
    if low.endswith(".npz"):
        arrays = _load_numpy(path)
        if "X" not in arrays:
            raise CLIError(f"{path}: no array 'X' in the archive (found: "
                           f"{', '.join(sorted(arrays)) or 'nothing'})")
        X = _numeric_matrix(path, "X", arrays["X"])
        names = [f"x{j}" for j in range(X.shape[1])]
        if not need_target:
            return X, None, names
        if "y" not in arrays:
            raise CLIError(f"{path}: no array 'y' in the archive (found: "
                           f"{', '.join(sorted(arrays))})")
        y = np.asarray(arrays["y"])
        if y.dtype.kind in "US" and y.ndim == 1:      # string class labels
            y = y.astype(str)
        else:
            y = _numeric_matrix(path, "y", y)
        if y.shape[0] != X.shape[0]:
            raise CLIError(f"{path}: X has {X.shape[0]} rows but y has {y.shape[0]}")
        return X, (y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y), names
    if low.endswith(".npy"):
        M = _numeric_matrix(path, "the array", _load_numpy(path))
        names = [str(j) for j in range(M.shape[1])]
        if target is None:
            if need_target:
                raise CLIError(f"{path}: say which column is the target with --target COL")
            return M, None, names
        j = _resolve_column(path, target, names)
        if M.shape[1] < 2 and need_target:
            raise CLIError(f"{path}: only one column; need at least one feature besides "
                           f"the target")
        keep = [k for k in range(M.shape[1]) if k != j]
        return (np.ascontiguousarray(M[:, keep]), M[:, j] if need_target else None,
                [names[k] for k in keep])
    names, rows = _read_csv(path)
    if target is None:
        if need_target:
            raise CLIError(f"{path}: say which column is the target with --target COL")
        return _csv_numbers(path, names, rows, range(len(names))), None, names
    j = _resolve_column(path, target, names)
    if len(names) < 2 and need_target:
        raise CLIError(f"{path}: only one column; need at least one feature besides the target")
    keep = [k for k in range(len(names)) if k != j]
    X_csv = _csv_numbers(path, names, rows, keep)
    y_csv = _csv_target(path, names, rows, j) if need_target else None
    return X_csv, y_csv, [names[k] for k in keep]

