"""The ``fastmlp`` command line: ``python -m fastmlp {demo,train,predict,export,info}``.

* ``demo``     -- the chapter in one run, on built-in data: the perceptron fails on XOR, a
  2-4-1 MLP solves it, then an MLP learns rendered 8x8 digits (test accuracy, time, samples/s).
* ``train``    -- train an MLP on a CSV / .npy / .npz file and save it (``.npz``).
* ``predict``  -- load a saved model and print or write its predictions for a data file.
* ``export``   -- write a saved model as an ONNX graph (needs the onnx extra).
* ``info``     -- how this fastmlp was built (compiler, OpenMP, threads, GEMM kernels).

Bad input (missing or unreadable files, bad cells, unknown columns, bad options, an output
path that cannot be written -- checked before training) is reported as one line
``fastmlp: error: ...`` on stderr with exit status 2 -- never a traceback. A training run
that diverged exits with status 3 and one line, and writes no model unless
``--keep-diverged``. An unexpected internal error is reported the same way with status 1;
set ``FASTMLP_DEBUG=1`` to see its traceback. Warnings are one line ``fastmlp: warning:
...``.
"""

from __future__ import annotations

import os
import sys
from typing import Optional, Sequence

from .._version import __version__
from . import demo, export, info, train
from .common import CLIError, Parser, one_line
from .data import load_data

__all__ = ["main", "build_parser", "load_data", "CLIError"]


def build_parser() -> Parser:
    p = Parser(prog="fastmlp",
               description="Multilayer perceptrons trained by C + OpenMP kernels "
                           "(chapter notation: z^l = W^l a^{l-1} + b^l, a^l = sigma(z^l)).",
               epilog="Run 'fastmlp COMMAND --help' for the options of each command.")
    p.add_argument("--version", action="version", version=f"fastmlp {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    demo.add_parser(sub)
    train.add_parsers(sub)
    export.add_parser(sub)
    info.add_parser(sub)
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:             # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return int(args.run(args, sys.stdout))
    except CLIError as exc:
        print(f"fastmlp: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FloatingPointError) as exc:
        if os.environ.get("FASTMLP_DEBUG"):
            raise
        # bad values reaching the model (e.g. labels a loss refuses): the user's input
        print(f"fastmlp: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:               # e.g. `fastmlp predict ... | head`: stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0
    except KeyboardInterrupt:
        print("fastmlp: interrupted", file=sys.stderr)
        return 130
    except MemoryError:                   # a network or data set too large: the user's input
        if os.environ.get("FASTMLP_DEBUG"):
            raise
        print("fastmlp: error: out of memory: the network (--hidden) or the data is too large "
              "for this machine; use smaller layers, fewer rows or --dtype float32",
              file=sys.stderr)
        return 2
    except Exception as exc:  # an internal error: still one line unless debugging
        if os.environ.get("FASTMLP_DEBUG"):
            raise
        print(f"fastmlp: error: internal error {type(exc).__name__}: {one_line(exc)} "
              f"(set FASTMLP_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1
