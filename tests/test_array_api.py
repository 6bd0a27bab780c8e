"""Dispatch: NumPy vs array_api_strict (and CuPy / torch when present)."""

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_wine, make_friedman1
from sklearn.preprocessing import StandardScaler

from skgf import ZORBClassifier, ZORBRegressor
from skgf._array_api import move_to, numpy_namespace, resolve_compute, to_numpy

xps = pytest.importorskip("array_api_strict")

# Estimators with their constructor arguments: extended as methods land.
CLASSIFIERS = [ZORBClassifier(hidden_layer_sizes=(30, 20), random_state=0)]
REGRESSORS = [ZORBRegressor(hidden_layer_sizes=(30, 20), random_state=0)]
DEVICES = [xps.Device("CPU_DEVICE"), xps.Device("device1")]


def _wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _ids(estimators):
    return [type(e).__name__ for e in estimators]


@pytest.mark.parametrize("device", DEVICES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("estimator", CLASSIFIERS, ids=_ids(CLASSIFIERS))
def test_classifier_strict_matches_numpy(estimator, dtype, device):
    X, y = _wine()
    X = X.astype(dtype)
    ref = sklearn.base.clone(estimator).fit(X, y)
    X_xp = xps.asarray(X, device=device)
    y_xp = xps.asarray(y, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        est = sklearn.base.clone(estimator).fit(X_xp, y_xp)
        proba = est.predict_proba(X_xp)
        pred = est.predict(X_xp)
        score = est.score(X_xp, y_xp)
    assert proba.device == device and pred.device == device
    assert proba.dtype == getattr(xps, dtype)
    assert all(W.device == device for W in est.coefs_)
    tol = 1e-4 if dtype == "float32" else 1e-8
    np.testing.assert_allclose(to_numpy(proba), ref.predict_proba(X), atol=tol, rtol=tol)
    np.testing.assert_array_equal(to_numpy(pred), ref.predict(X))
    assert isinstance(score, float)
    assert score == pytest.approx(ref.score(X, y))


@pytest.mark.parametrize("device", DEVICES, ids=str)
@pytest.mark.parametrize("estimator", REGRESSORS, ids=_ids(REGRESSORS))
def test_regressor_strict_matches_numpy(estimator, device):
    X, y = make_friedman1(n_samples=300, random_state=0)
    ref = sklearn.base.clone(estimator).fit(X, y)
    X_xp = xps.asarray(X, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        est = sklearn.base.clone(estimator).fit(X_xp, xps.asarray(y, device=device))
        pred = est.predict(X_xp)
    assert pred.device == device and pred.shape == (300,)
    np.testing.assert_allclose(to_numpy(pred), ref.predict(X), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("estimator", CLASSIFIERS + REGRESSORS,
                         ids=_ids(CLASSIFIERS + REGRESSORS))
def test_predict_in_other_namespace_is_refused(estimator):
    X, y = _wine()
    with sklearn.config_context(array_api_dispatch=True):
        est = sklearn.base.clone(estimator).fit(xps.asarray(X), xps.asarray(y))
        with pytest.raises(ValueError, match="must use the same namespace"):
            est.predict(X)


def test_strict_fitted_model_pickles_to_numpy():
    import pickle

    X, y = _wine()
    with sklearn.config_context(array_api_dispatch=True):
        est = ZORBClassifier(random_state=0).fit(xps.asarray(X), xps.asarray(y))
    restored = pickle.loads(pickle.dumps(est))
    assert all(isinstance(W, np.ndarray) for W in restored.coefs_)
    with sklearn.config_context(array_api_dispatch=True):
        expected = to_numpy(est.predict_proba(xps.asarray(X)))
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=1e-12)


def test_without_dispatch_everything_is_numpy():
    X, y = _wine()
    est = ZORBClassifier(random_state=0).fit(xps.asarray(X), y)
    assert isinstance(est.coefs_[0], np.ndarray)
    assert isinstance(est.predict_proba(X), np.ndarray)


def test_resolve_and_move():
    X = np.ones((3, 2))
    xp, device = resolve_compute(X, None)
    assert xp.__name__ == numpy_namespace().__name__ and device == "cpu"
    with sklearn.config_context(array_api_dispatch=True):
        X_xp = xps.asarray(X, device=xps.Device("device1"))
        xp, device = resolve_compute(X_xp, None)
        assert xp is xps and device == xps.Device("device1")
        xp, device = resolve_compute(X_xp, "cpu")
        assert xp.__name__ == numpy_namespace().__name__
    moved = move_to(X, xps, xps.Device("device1"))
    assert moved.device == xps.Device("device1")
    np.testing.assert_array_equal(to_numpy(moved), X)
    assert move_to(X, numpy_namespace(), "cpu") is X


# ------------------------------------------------------------ CuPy / torch
def _cupy_or_skip():
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception as exc:  # driver missing
        pytest.skip(f"CUDA unavailable: {exc}")
    return cupy


@pytest.mark.parametrize("estimator", CLASSIFIERS + REGRESSORS,
                         ids=_ids(CLASSIFIERS + REGRESSORS))
def test_cuda_device_parameter_matches_cpu(estimator):
    _cupy_or_skip()
    X, y = _wine()
    if sklearn.base.is_regressor(estimator):
        y = y.astype(float)
    cpu = sklearn.base.clone(estimator).fit(X, y)
    gpu = sklearn.base.clone(estimator).set_params(device="cuda").fit(X, y)
    pred = gpu.predict(X)
    assert isinstance(pred, np.ndarray)
    np.testing.assert_allclose(pred, cpu.predict(X), rtol=1e-5, atol=1e-5)
    import pickle

    restored = pickle.loads(pickle.dumps(gpu))
    assert isinstance(restored.coefs_[0], np.ndarray)
    np.testing.assert_allclose(restored.predict(X), pred, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("estimator", CLASSIFIERS + REGRESSORS,
                         ids=_ids(CLASSIFIERS + REGRESSORS))
def test_cupy_input_under_dispatch(estimator):
    cupy = _cupy_or_skip()
    X, y = _wine()
    if sklearn.base.is_regressor(estimator):
        y = y.astype(float)
    ref = sklearn.base.clone(estimator).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = sklearn.base.clone(estimator).fit(cupy.asarray(X), cupy.asarray(y))
        pred = est.predict(cupy.asarray(X))
    assert isinstance(pred, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(pred), ref.predict(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("estimator", CLASSIFIERS + REGRESSORS,
                         ids=_ids(CLASSIFIERS + REGRESSORS))
def test_torch_cpu_under_dispatch(estimator):
    torch = pytest.importorskip("torch")
    X, y = _wine()
    if sklearn.base.is_regressor(estimator):
        y = y.astype(float)
    ref = sklearn.base.clone(estimator).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = sklearn.base.clone(estimator).fit(torch.asarray(X), torch.asarray(y))
        pred = est.predict(torch.asarray(X))
    assert isinstance(pred, torch.Tensor)
    np.testing.assert_allclose(pred.numpy(), ref.predict(X), rtol=1e-6, atol=1e-6)
