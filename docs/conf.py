"""Sphinx configuration of fastmlp's documentation (``python -m sphinx -W -b html docs
docs/_build/html``; the `docs` extra installs what it needs). The API reference is generated
from the installed package's docstrings (numpydoc); the pages are Markdown (MyST)."""
import os
import re
import sys

import fastmlp

project = "fastmlp"
author = "the fastmlp developers"
copyright = "2026, the fastmlp developers"
release = version = fastmlp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
root_doc = "index"

# the API reference: parameter types come from the numpydoc sections, so the signatures stay
# short; members in source order; no network (no intersphinx)
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

html_theme = "furo"
html_title = f"fastmlp {release}"
html_static_path = []

# docs/architecture.md (how one fit call runs, Python to microkernel) joins the navigation
# when it is there
_HERE = os.path.dirname(os.path.abspath(__file__))
_OPTIONAL_PAGES = [name for name in ("architecture",)
                   if os.path.exists(os.path.join(_HERE, name + ".md"))]


def _add_optional_pages(app, docname, source):
    if docname == "index":
        source[0] = source[0].replace("<!-- optional pages -->",
                                      "\n".join(_OPTIONAL_PAGES))


_SKLEARN_REF = re.compile(r":ref:`([^`<]*?)\s*(?:<[^`>]*>)?`")


def _plain_sklearn_refs(app, what, name, obj, options, lines):
    """Methods the estimators inherit from scikit-learn (``score``) keep scikit-learn's
    docstrings, whose ``:ref:`` labels point into scikit-learn's own site: as plain text."""
    if getattr(obj, "__module__", "").startswith("sklearn."):
        lines[:] = [_SKLEARN_REF.sub(r"\1", line) for line in lines]


def setup(app):
    app.connect("source-read", _add_optional_pages)
    app.connect("autodoc-process-docstring", _plain_sklearn_refs)


sys.dont_write_bytecode = True
