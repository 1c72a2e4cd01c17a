#!/usr/bin/env bash
# CI step: fill and publish the asv dashboard for this commit the way benchmarks/README.md
# says (benchmarks/dashboard.sh: its own virtual environment, fastmlp built from the tree),
# with one quick benchmark, then check that the published JSON holds its results.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
benchmarks/dashboard.sh --quick --bench 'TimeFit.time_fit_fastmlp'
"$PY" benchmarks/check_dashboard.py bench_train.TimeFit.time_fit_fastmlp
