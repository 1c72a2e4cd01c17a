#!/usr/bin/env bash
# Fill and publish the asv dashboard with results for the current commit, from a fresh clone.
#
#   benchmarks/dashboard.sh [--quick] [--bench REGEX] [--python PYTHON] [--offline]
#
# 1. makes its own virtual environment (build/asv-venv, or ASV_VENV) and installs fastmlp from
#    this tree into it with the `bench` extra (asv, scikit-learn, threadpoolctl): a normal,
#    isolated pip build in its own build directory. `--python PYTHON` skips this and uses an
#    interpreter that already has fastmlp and asv (e.g. a development venv);
# 2. `asv machine --yes` records this machine (asv's defaults, no questions);
# 3. `asv run --python=same --set-commit-hash HEAD` benchmarks the installed fastmlp and files
#    the results under the current commit (without --set-commit-hash asv would run them and
#    save nothing); `--quick` runs each benchmark once (a check, not numbers), `--bench` picks
#    benchmarks by regular expression;
# 4. `asv publish` writes the static dashboard to .asv/html (open it through a web server:
#    `asv preview`, or `python -m http.server -d .asv/html`); `--offline` then points its
#    pages at local copies of the JavaScript libraries they load from CDNs
#    (benchmarks/offline_dashboard.py), for machines without internet access.
# Results accumulate in .asv/results: rerun on later commits to grow the graphs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${ASV_VENV:-build/asv-venv}
RUN_ARGS=()
USE_PYTHON=
OFFLINE=
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) RUN_ARGS+=(--quick) ;;
        --bench) RUN_ARGS+=(--bench "$2"); shift ;;
        --python) USE_PYTHON=$2; shift ;;
        --offline) OFFLINE=1 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "dashboard.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

if [ -z "$USE_PYTHON" ]; then
    [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # its own build directory: never the one an editable development install configured
    "$VENV/bin/python" -m pip install -q ".[bench]" -Cbuild-dir=build/asv-{wheel_tag}
    USE_PYTHON=$VENV/bin/python
fi
BIN=$(dirname "$USE_PYTHON")
export PATH="$BIN:$PATH"                 # asv and python from that environment
python -c "import asv, fastmlp; print('benchmarking fastmlp', fastmlp.__version__, 'from', fastmlp.__file__)"

commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "dashboard.sh: note: the working tree has uncommitted changes; the results are filed" \
         "under $commit all the same" >&2
fi
asv machine --yes
asv run --python=same --set-commit-hash "$commit" --show-stderr "${RUN_ARGS[@]}"
asv publish
if [ -n "$OFFLINE" ]; then
    python benchmarks/offline_dashboard.py --html .asv/html
fi
echo "dashboard: $(pwd)/.asv/html (serve it: asv preview, or python -m http.server -d .asv/html)"
