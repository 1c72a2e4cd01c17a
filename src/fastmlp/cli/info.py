"""``fastmlp info``: how this fastmlp was built (compiler, OpenMP, threads, kernels)."""
import argparse
from typing import Any, TextIO

from .. import show_config

__all__ = ["add_parser", "cmd_info"]


def add_parser(sub: Any) -> None:
    """The ``info`` command."""
    i = sub.add_parser("info", help="show how fastmlp was built (compiler, OpenMP, kernels)",
                       description="Print fastmlp's build and runtime configuration.")
    i.set_defaults(run=cmd_info)


def cmd_info(args: argparse.Namespace, out: TextIO) -> int:
    show_config()           # prints to standard output
    return 0
