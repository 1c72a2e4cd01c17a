#!/usr/bin/env bash
# CI step: build the release artefacts (tools/build_wheel.sh: sdist, and a wheel repaired to a
# manylinux tag with libgomp bundled), check the sdist holds no build outputs, install the
# repaired wheel into a fresh virtual environment and run the test suite against it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=build/ci-dist
rm -rf "$OUT"
tools/build_wheel.sh "$OUT"

# the sdist: sources only, the LICENSE, nothing built
"$PY" - "$OUT"/fastmlp-*.tar.gz <<'PY'
import sys, tarfile
names = [n.split("/", 1)[1] for n in tarfile.open(sys.argv[1]).getnames() if "/" in n]
bad = [n for n in names if n.startswith(("build/", ".")) or "/." in n or
       n.endswith((".o", ".so", ".a", ".pyc")) or "__pycache__" in n or "_build/" in n]
assert not bad, f"build outputs or hidden files in the sdist: {bad[:10]}"
for need in ("LICENSE", "README.md", "pyproject.toml", "CMakeLists.txt", "csrc/fastmlp.h",
             "src/fastmlp/__init__.py", "src/fastmlp/py.typed", "src/fastmlp/_core.pyx"):
    assert need in names, f"{need} is missing from the sdist"
print(f"sdist: {len(names)} entries, no build outputs")
PY

# the repaired wheel, alone in a fresh environment (its test extras from the index)
rm -rf .ci-wheel-venv
"$PY" -m venv .ci-wheel-venv
. .ci-wheel-venv/bin/activate
python -m pip install -q --upgrade pip
wheel=$(ls "$OUT"/fastmlp-*manylinux*.whl)
python -m pip install -q "$wheel[test]"
# it is the wheel that gets imported, and its bundled libgomp that gets loaded
python - <<'PY'
import os, sys
import fastmlp, fastmlp._core
here = os.path.abspath(".")
assert not fastmlp.__file__.startswith(here + os.sep + "src"), fastmlp.__file__
assert "site-packages" in fastmlp._core.__file__, fastmlp._core.__file__
maps = open("/proc/self/maps").read()
assert "fastmlp.libs/libgomp" in maps, "the bundled libgomp is not the one loaded"
print("testing", fastmlp.__version__, "from", os.path.dirname(fastmlp.__file__))
PY
python -m pytest -q -p no:cacheprovider
deactivate
