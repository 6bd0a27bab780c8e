"""Dispatch: NumPy vs array_api_strict (and CuPy / torch when present).

scikit-learn's array-API estimator checks (in ``tests/test_common.py``) test
that a fit on array_api_strict input runs and keeps namespace and device;
here every estimator's array-API fit must also give the NumPy fit's model,
on both array_api_strict devices, in float64 and float32.
"""

import pickle

import numpy as np
import pytest
import sklearn
from sklearn.base import clone

from skgf._array_api import move_to, numpy_namespace, resolve_compute, to_numpy

from skgf_test_data import (
    ALL_ESTIMATORS,
    CLASSIFIERS,
    ITERATIVE,
    estimator_id,
    small_estimator,
)

xps = pytest.importorskip("array_api_strict")

# small_estimator's fits stop after a few iterations, before converging
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DEVICES = [xps.Device("CPU_DEVICE"), xps.Device("device1")]

# Tolerance of the array-API fit against the NumPy fit, relative and absolute.
# array_api_strict wraps NumPy and the two fits run the same arithmetic, mostly
# in the same order; the tolerances leave room for rounding where the two
# paths differ (a SciPy solver on NumPy, xp.linalg elsewhere; ZORB's NumPy
# classifier computes W.T @ H.T into a buffer where the generic path computes
# H @ W and transposes: 1.7e-14 apart in float64), which the iterative methods
# carry over their iterations. RSO decides each proposal by comparing two
# batch losses: should a path change ever make them round differently, a
# flipped near tie would make the fits differ by far more than rounding, and
# RSO's equivalence would then be tested in float64 only.
RTOL = {"float64": 1e-8, "float32": 1e-4}


def _data(Estimator, wine, friedman_small):
    return wine if Estimator in CLASSIFIERS else friedman_small


@pytest.mark.parametrize("device", DEVICES, ids=str)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_strict_fit_matches_numpy_fit(Estimator, dtype, device, wine, friedman_small):
    X, y = _data(Estimator, wine, friedman_small)
    X = X.astype(dtype)
    classifier = Estimator in CLASSIFIERS
    ref = small_estimator(Estimator).fit(X, y)
    X_xp, y_xp = xps.asarray(X, device=device), xps.asarray(y, device=device)
    with sklearn.config_context(array_api_dispatch=True):
        est = small_estimator(Estimator).fit(X_xp, y_xp)
        out = est.predict_proba(X_xp) if classifier else est.predict(X_xp)
        pred = est.predict(X_xp)
        score = est.score(X_xp, y_xp)
    assert out.device == device and pred.device == device
    assert out.dtype == getattr(xps, dtype)
    assert all(W.device == device for W in est.coefs_ + est.intercepts_)
    assert all(W.dtype == getattr(xps, dtype) for W in est.coefs_)
    rtol = RTOL[dtype]
    for W, W_ref in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_allclose(to_numpy(W), W_ref, rtol=rtol, atol=rtol)
    if Estimator in ITERATIVE:
        assert est.n_iter_ == ref.n_iter_
        np.testing.assert_allclose(est.loss_curve_, ref.loss_curve_, rtol=rtol)
    ref_out = ref.predict_proba(X) if classifier else ref.predict(X)
    np.testing.assert_allclose(to_numpy(out), ref_out, rtol=rtol, atol=rtol)
    if classifier:
        np.testing.assert_array_equal(to_numpy(pred), ref.predict(X))
    assert isinstance(score, float)
    assert score == pytest.approx(ref.score(X, y), rel=rtol, abs=rtol)


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_predict_in_other_namespace_is_refused(Estimator, wine, friedman_small):
    X, y = _data(Estimator, wine, friedman_small)
    with sklearn.config_context(array_api_dispatch=True):
        est = small_estimator(Estimator).fit(xps.asarray(X), xps.asarray(y))
        with pytest.raises(ValueError, match="must use the same namespace"):
            est.predict(X)


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_strict_fitted_model_pickles_to_numpy(Estimator, wine, friedman_small):
    X, y = _data(Estimator, wine, friedman_small)
    device = xps.Device("device1")
    with sklearn.config_context(array_api_dispatch=True):
        est = small_estimator(Estimator).fit(
            xps.asarray(X, device=device), xps.asarray(y, device=device)
        )
        expected = to_numpy(est.predict(xps.asarray(X, device=device)))
    restored = pickle.loads(pickle.dumps(est))
    assert all(isinstance(W, np.ndarray) for W in restored.coefs_ + restored.intercepts_)
    np.testing.assert_allclose(restored.predict(X), expected, rtol=1e-12)


@pytest.mark.parametrize("resume", ["warm_start", "partial_fit"])
@pytest.mark.parametrize("Estimator", ITERATIVE, ids=estimator_id)
def test_continued_fit_on_another_device_predicts_there(Estimator, resume, wine, friedman_small):
    """A fit continued on another device (or after unpickling to NumPy)
    moves every fitted array there, the regressors' target scale included:
    predict then combines arrays of one device."""
    X, y = _data(Estimator, wine, friedman_small)
    first, second = DEVICES
    with sklearn.config_context(array_api_dispatch=True):
        est = small_estimator(Estimator, warm_start=True).fit(
            xps.asarray(X, device=first), xps.asarray(y, device=first)
        )
        X_moved, y_moved = xps.asarray(X, device=second), xps.asarray(y, device=second)
        if resume == "warm_start":
            est.fit(X_moved, y_moved)
        else:
            est.partial_fit(X_moved, y_moved)
        assert est.predict(X_moved).device == second
        assert all(a.device == second for a in est.coefs_ + est.intercepts_)


@pytest.mark.parametrize("Estimator", ITERATIVE, ids=estimator_id)
def test_warm_start_in_float32_after_float64_predicts_float32(Estimator, wine, friedman_small):
    X, y = _data(Estimator, wine, friedman_small)
    est = small_estimator(Estimator, warm_start=True).fit(X, y)
    X32 = X.astype(np.float32)
    est.fit(X32, y)
    out = est.predict_proba(X32) if hasattr(est, "predict_proba") else est.predict(X32)
    assert out.dtype == np.float32
    if hasattr(est, "_y_scale"):
        assert est._y_mean.dtype == est._y_scale.dtype == np.float32


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_without_dispatch_everything_is_numpy(Estimator, wine, friedman_small):
    X, y = _data(Estimator, wine, friedman_small)
    est = small_estimator(Estimator).fit(xps.asarray(X), y)
    assert all(isinstance(W, np.ndarray) for W in est.coefs_ + est.intercepts_)
    assert isinstance(est.predict(X), np.ndarray)


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
        n_devices = cupy.cuda.runtime.getDeviceCount()
    except cupy.cuda.runtime.CUDARuntimeError as exc:  # no driver
        pytest.skip(f"CUDA unavailable: {exc}")
    if n_devices < 1:
        pytest.skip("no CUDA device")
    return cupy


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_cuda_device_parameter_matches_cpu(Estimator, wine, friedman_small):
    _cupy_or_skip()
    X, y = _data(Estimator, wine, friedman_small)
    cpu = small_estimator(Estimator).fit(X, y)
    gpu = clone(cpu).set_params(device="cuda").fit(X, y)
    pred = gpu.predict(X)
    assert isinstance(pred, np.ndarray)
    np.testing.assert_allclose(pred, cpu.predict(X), rtol=1e-5, atol=1e-5)
    restored = pickle.loads(pickle.dumps(gpu))
    assert isinstance(restored.coefs_[0], np.ndarray)
    np.testing.assert_allclose(restored.predict(X), pred, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_cupy_input_under_dispatch(Estimator, wine, friedman_small):
    cupy = _cupy_or_skip()
    X, y = _data(Estimator, wine, friedman_small)
    ref = small_estimator(Estimator).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = small_estimator(Estimator).fit(cupy.asarray(X), cupy.asarray(y))
        pred = est.predict(cupy.asarray(X))
    assert isinstance(pred, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(pred), ref.predict(X), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_torch_cpu_under_dispatch(Estimator, wine, friedman_small):
    torch = pytest.importorskip("torch")
    X, y = _data(Estimator, wine, friedman_small)
    ref = small_estimator(Estimator).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = small_estimator(Estimator).fit(torch.asarray(X), torch.asarray(y))
        pred = est.predict(torch.asarray(X))
    assert isinstance(pred, torch.Tensor)
    np.testing.assert_allclose(pred.numpy(), ref.predict(X), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_numpy_scalar_hyperparameters_keep_float32(Estimator, wine, friedman_small):
    """Hyper-parameters from a NumPy grid (``np.logspace`` gives float64
    scalars) must not widen a float32 fit: under NumPy 2's rules a float64
    scalar promotes a float32 array, so the rules take Python floats."""
    X, y = _data(Estimator, wine, friedman_small)
    est = small_estimator(Estimator)
    as_numpy = {k: np.float64(v) for k, v in est.get_params().items() if type(v) is float}
    assert as_numpy  # every estimator has some float hyper-parameter
    est.set_params(**as_numpy).fit(np.asarray(X, dtype=np.float32), y)
    assert all(W.dtype == np.float32 for W in est.coefs_)
    out = est.predict_proba if hasattr(est, "predict_proba") else est.predict
    assert out(np.asarray(X, dtype=np.float32)).dtype == np.float32
