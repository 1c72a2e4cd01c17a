#!/usr/bin/env bash
# CI step: build the documentation site (docs/, Sphinx + numpydoc + MyST from the `docs`
# extra) with warnings as errors, and check that the API reference was generated.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf docs/_build
python -m sphinx -W --keep-going -q -b html docs docs/_build/html
for page in index tour cli api development; do
    test -s "docs/_build/html/$page.html" || { echo "docs: $page.html is missing" >&2; exit 1; }
done
grep -q 'id="fastmlp.MLP.fit"' docs/_build/html/api.html \
    || { echo "docs: the API reference has no MLP.fit" >&2; exit 1; }
for est in MLPClassifier MLPRegressor Perceptron; do    # the estimators' HTML-repr links
    grep -q "id=\"fastmlp.sklearn.$est\"" docs/_build/html/api.html \
        || { echo "docs: api.html has no fastmlp.sklearn.$est" >&2; exit 1; }
done
echo "docs: built in docs/_build/html"
