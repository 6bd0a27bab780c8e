"""Sphinx configuration of the skgf documentation.

Build (warnings are errors in CI)::

    pip install -e ".[doc]"
    python -m sphinx -W --keep-going -b html doc doc/_build/html

The example gallery (``examples/plot_*.py``) is executed during the build;
``SKGF_DOC_NO_GALLERY=1`` skips running it (for a fast check of the text).
"""

import os
import pathlib
import re
import sys
import warnings

# scikit-learn's array_api_dispatch (used by the GPU example) needs this
# before SciPy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from threadpoolctl import threadpool_limits  # noqa: E402

import skgf  # noqa: E402

# The gallery runs in this process. One BLAS / OpenMP thread keeps the
# examples' timings stable on small shared machines (busy-waiting BLAS threads
# slow MLPClassifier's many small products down many times when the other
# cores are busy); the grid-search example still uses two worker processes.
threadpool_limits(1)

# -- project -----------------------------------------------------------------
project = "skgf"
author = "the skgf developers"
copyright = "2025, the skgf developers"
version = release = skgf.__version__

# -- extensions ---------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.zip",
]
root_doc = "index"
default_role = "py:obj"

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
autodoc_typehints = "none"

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# numpydoc validates every docstring it renders (the estimators, their public
# methods and fitted properties); a failed check is a warning, so an error of
# the CI build (-W). "all", less the checks that scikit-learn's own style does
# not follow:
#   ES01  extended summary: a method's one-line summary is often all it needs;
#   EX01  examples: the classes have them, every method need not;
#   SA01  "See Also": kept for where it helps, not required everywhere;
#   RT02  named returns: scikit-learn writes "self : object", "y_pred : ndarray".
# So the parameters (PR01 missing, PR02 unknown, PR03 wrong order, PR04-PR10
# types and descriptions), summaries (SS01-SS06), returns (RT01, RT03-RT05)
# and layout (GL01-GL10) are checked.
numpydoc_validation_checks = {"all", "ES01", "EX01", "SA01", "RT02"}
# Not ours: methods inherited from scikit-learn keep scikit-learn's docstrings.
numpydoc_validation_exclude = {
    r"\.get_params$",
    r"\.set_params$",
    r"\.get_metadata_routing$",
    r"\.set_\w+_request$",
}

html_theme = "pydata_sphinx_theme"
html_title = f"skgf {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
html_sidebars = {"install": [], "benchmarks": []}

# -- example gallery ----------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skgf",),
    "reference_url": {"skgf": None},
    "backreferences_dir": "gen_modules/backreferences",
    "plot_gallery": "False" if os.environ.get("SKGF_DOC_NO_GALLERY") else "True",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
}

# Matplotlib draws off screen while the gallery runs.
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")

# -- every public estimator is in the API reference ---------------------------
# ``api.rst`` lists the estimators by hand (so the page keeps a stable order);
# a public estimator of ``skgf.__all__`` missing from it fails the build, and
# so (through autosummary) does a listed one that skgf does not export.
_ESTIMATOR = re.compile(r"^\s+([A-Z]\w+(Classifier|Regressor))\s*$")


def _check_api_reference(app, docname, source):
    if docname != "api":
        return
    from sphinx.util import logging

    listed = {m.group(1) for m in map(_ESTIMATOR.match, source[0].splitlines()) if m}
    for name in skgf.__all__:
        if name.endswith(("Classifier", "Regressor")) and name not in listed:
            logging.getLogger("skgf.api").warning(
                "skgf.%s is public but missing from doc/api.rst", name
            )


# Methods inherited from scikit-learn (score, metadata-routing requests) are
# documented there and cross-reference scikit-learn's own glossary; only
# get_params / set_params are repeated here.
_SKLEARN_KEPT = {"get_params", "set_params"}


def _skip_sklearn_members(app, what, name, obj, skip, options):
    module = getattr(obj, "__module__", None) or ""
    if module.startswith("sklearn.") and name not in _SKLEARN_KEPT:
        return True
    return None


# "shape (n_features_in_,)" in a docstring would read as an rst link target
# ("n_features_in_"); quote such names before numpydoc parses the docstring.
_SHAPE_NAME = re.compile(r"\(([A-Za-z]\w*_),\)")


def _quote_shape_names(app, what, name, obj, options, lines):
    lines[:] = [_SHAPE_NAME.sub(r"(``\1``,)", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _quote_shape_names, priority=100)
    app.connect("source-read", _check_api_reference)
    app.connect("autodoc-skip-member", _skip_sklearn_members)
