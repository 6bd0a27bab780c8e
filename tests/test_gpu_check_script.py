"""The CPU side of ``benchmarks/gpu_check.py``, which runs only on a lent GPU
machine: its data fallback, its fit-and-score helper and the check that a
pickled model predicts in a process where CuPy cannot be imported. A bug in
these would cost a GPU session; they need no GPU to test."""

import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import gpu_check  # noqa: E402


def test_gpu_check_helpers_on_the_cpu():
    data, X, y, X_test, y_test = gpu_check.load(None)  # no MNIST: the bundled digits
    assert data.startswith("digits") and X.dtype == np.float32
    models = {}
    for name in ("ZORBClassifier", "ZORBRegressor"):
        est, fit_s, acc, pred = gpu_check.fit_one(name, "cpu", X, y, X_test, y_test)
        assert fit_s > 0 and pred.shape == y_test.shape
        assert acc > 0.9  # digits, 2000 units: a working fit, not a broken pipeline
        models[name] = est
    # the other process may run its float32 products on another number of
    # threads: outputs agree to rounding, labels but for a rare near tie
    classifier, regressor = models["ZORBClassifier"], models["ZORBRegressor"]
    restored = gpu_check.predict_without_cupy(classifier, X_test)
    assert np.mean(restored == classifier.predict(X_test)) >= 0.99
    restored = gpu_check.predict_without_cupy(regressor, X_test)
    np.testing.assert_allclose(restored, regressor.predict(X_test), rtol=1e-4, atol=1e-4)
