"""What the commands share: the one-line user error, the parser class, argument types."""
from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any, Callable, NoReturn, Optional, TypeVar

T = TypeVar("T")

from .. import set_num_threads

__all__ = ["CLIError", "one_line", "warn", "check_output_path", "Parser", "positive_int",
           "positive_float", "fraction", "set_threads"]


class CLIError(Exception):
    """A user error: printed as one line ``fastmlp: error: ...``, exit status 2."""


def one_line(msg: object) -> str:
    return " ".join(str(msg).split())


def warn(message: str) -> None:
    """A one-line warning on stderr: ``fastmlp: warning: ...``."""
    print(f"fastmlp: warning: {one_line(message)}", file=sys.stderr, flush=True)


def check_output_path(path: str, what: str) -> None:
    """Fail early (before any training) when ``what`` cannot be written to ``path``: the
    message names the path and the reason."""
    if not path or not os.path.basename(path) or os.path.basename(path) in (".npz", ".csv"):
        raise CLIError(f"{path!r}: give a file name for the {what}")
    if os.path.isdir(path):
        raise CLIError(f"{path}: is a directory; give a file name for the {what}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise CLIError(f"{path}: cannot write the {what} there: directory "
                       f"{os.path.dirname(path) or directory!r} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise CLIError(f"{path}: cannot write the {what} there: no permission to create "
                       f"files in {os.path.dirname(path) or directory!r}")
    if os.path.exists(path) and not os.path.isfile(path):
        raise CLIError(f"{path}: cannot write the {what} there: it exists and is not a "
                       f"regular file (a FIFO, device or socket)")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise CLIError(f"{path}: cannot write the {what}: the file exists and is read-only")


# ------------------------------------------------------------------------------------------
# argument parsing
# ------------------------------------------------------------------------------------------
class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"fastmlp: error: {one_line(message)} (see '{self.prog} --help')\n")


def _number(text: str, convert: Callable[[str], T], ok: Callable[[T], bool],
            expected: str) -> T:
    """``convert(text)`` when it parses and passes ``ok``; else argparse's type error."""
    try:
        v: Optional[T] = convert(text)
    except ValueError:
        v = None
    if v is None or not ok(v):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return v


def positive_int(text: str) -> int:
    return _number(text, int, lambda v: v >= 1, "a positive integer")


def positive_float(text: str) -> float:
    return _number(text, float, lambda v: v > 0 and math.isfinite(v), "a positive number")


def fraction(text: str) -> float:
    return _number(text, float, lambda v: 0 <= v < 1, "a fraction in [0, 1)")


def set_threads(n: Optional[int]) -> None:
    """Set the engine's default thread count (``--threads``; None leaves it alone)."""
    if n is not None:
        set_num_threads(n)
