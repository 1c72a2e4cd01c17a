#!/usr/bin/env bash
# CI step: type-check the package with mypy (settings in pyproject.toml [tool.mypy]; mypy
# from the `typing` extra, which .ci/run installs).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m mypy
