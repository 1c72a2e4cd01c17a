"""``python -m fastmlp``: the command line, :mod:`fastmlp.cli`."""
from .cli import CLIError, load_data, main  # noqa: F401  (also importable from here)

if __name__ == "__main__":
    raise SystemExit(main())
