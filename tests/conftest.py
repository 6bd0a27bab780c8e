"""Test configuration.

scikit-learn refuses ``array_api_dispatch`` (and silently skips its array-API
estimator checks) unless ``SCIPY_ARRAY_API=1`` is set before SciPy is
imported, so it is set here, before anything imports SciPy.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pathlib  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

_DEFAULT_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


def data_dir():
    """Folder of the shared data sets: ``$SKGF_DATA`` or ``../shared/data``."""
    return pathlib.Path(os.environ.get("SKGF_DATA", _DEFAULT_DATA))


def load_shared(name):
    """Arrays of ``<name>.npz`` from the shared data folder, or skip the test."""
    path = data_dir() / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} not present (set SKGF_DATA to the shared data folder)")
    import numpy as np

    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


sys.modules.setdefault("skgf_test_data", sys.modules[__name__])
