"""Bounded memory: predict in row blocks, ZORB fits flat in n_samples."""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import skgf

WIDE = {
    "ZORBClassifier": dict(hidden_layer_sizes=(3000,)),
    "RSOClassifier": dict(hidden_layer_sizes=(300,), max_iter=1, batch_size=50),
    "LRAClassifier": dict(hidden_layer_sizes=(1000,), max_iter=1),
    "SemiImplicitBPClassifier": dict(hidden_layer_sizes=(1000,), max_iter=1),
}


def _traced_peak(fn, *args):
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", sorted(WIDE))
def test_predict_peak_below_twice_the_input(name):
    """MNIST-test-sized input (10000 x 784 float32) through a wide layer."""
    rng = np.random.RandomState(0)
    X_fit = rng.rand(300, 784).astype(np.float32)
    y_fit = np.arange(300) % 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = getattr(skgf, name)(random_state=0, **WIDE[name]).fit(X_fit, y_fit)
    X = rng.rand(10000, 784).astype(np.float32)
    for method in (est.predict, est.predict_proba):
        assert _traced_peak(method, X) < 2 * X.nbytes


def test_zorb_fit_memory_does_not_grow_with_n_samples():
    rng = np.random.RandomState(0)
    X = rng.rand(40000, 50).astype(np.float32)
    y = (X[:, :3].sum(axis=1) > 1.5).astype(int)
    peaks = []
    for n in (20000, 40000):
        Xn, yn = X[:n].copy(), y[:n].copy()
        peaks.append(
            _traced_peak(skgf.ZORBClassifier(hidden_layer_sizes=(200,), random_state=0).fit, Xn, yn)
        )
    # the per-sample part (one-hot targets, class codes) is a few bytes per row
    assert peaks[1] - peaks[0] < 0.25 * (X[:20000].nbytes)
