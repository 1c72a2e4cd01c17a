#!/usr/bin/env bash
# CI step (called by .ci/run after the main test run): the scikit-learn tests against the
# OLDEST scikit-learn fastmlp declares (pyproject's `sklearn` extra), with the oldest NumPy
# it declares, on this machine's Python. It makes its own virtual environment with those
# versions pinned and runs the fastmlp that .ci/run installed (no second build).
# Usage: .ci/sklearn_floor.sh [python of the environment holding the installed fastmlp]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
BUILT_PY=${1:-.ci-venv/bin/python}

# the floors, read from pyproject.toml: "scikit-learn>=X" of the sklearn extra, "numpy>=Y"
read -r SK_FLOOR NP_FLOOR < <("$PY" - <<'PYEOF'
import re
text = open("pyproject.toml").read()
extra = re.search(r"^sklearn\s*=\s*\[(.*?)\]", text, re.M | re.S).group(1)
sk = re.search(r'"scikit-learn>=([^",;]+)"', extra).group(1)
deps = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.M | re.S).group(1)
np_ = re.search(r'"numpy>=([^",;]+)"', deps).group(1)
print(sk, np_)
PYEOF
)
echo "scikit-learn tests against the declared floors: scikit-learn==$SK_FLOOR, numpy==$NP_FLOOR.*"

# the fastmlp package .ci/run built and installed, put on the path of the floor environment
PKG=$("$BUILT_PY" -c "import fastmlp, os; print(os.path.dirname(fastmlp.__file__))")
rm -rf .ci-floor-venv .ci-floor-path
mkdir .ci-floor-path
ln -s "$PKG" .ci-floor-path/fastmlp
"$PY" -m venv .ci-floor-venv
.ci-floor-venv/bin/python -m pip install -q --upgrade pip
.ci-floor-venv/bin/python -m pip install -q "scikit-learn==$SK_FLOOR" "numpy==$NP_FLOOR.*" \
    "pytest>=7" "threadpoolctl>=3"
.ci-floor-venv/bin/python -c \
    "import sklearn, numpy; print('scikit-learn', sklearn.__version__, 'numpy', numpy.__version__)"
PYTHONPATH="$PWD/.ci-floor-path" .ci-floor-venv/bin/python -m pytest -q -p no:cacheprovider \
    tests/sklearn/test_sklearn*.py tests/api/test_poisson_loss.py
