"""ONNX export (``skgf.onnx``): onnxruntime predicts what skgf predicts.

Skipped when the ``onnx`` extra (skl2onnx, onnx, onnxruntime) is missing.
Every round trip is in float32: the models are fitted on float32 rows (so
skgf itself computes in float32) and exported as float32 graphs. Labels must
be equal; probabilities and regression outputs agree within ``RTOL = 1e-5``
relative. An absolute term is added only for values near zero, where a
relative bound means nothing in float32: ``ATOL_PROBA`` for probabilities
(far below any probability that decides a label) and, for regression
outputs, ``ATOL_FRACTION`` times the largest absolute output (a few float32
roundings of the output's scale).
"""

import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.datasets import load_breast_cancer, load_digits, make_regression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgf import LRAClassifier, LRARegressor, ZORBClassifier, ZORBRegressor

from skgf_test_data import (
    ALL_ESTIMATORS,
    CLASSIFIERS,
    REGRESSORS,
    estimator_id,
    load_shared,
    scaled_split,
    small_estimator,
)

pytest.importorskip("onnx")
pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

from skgf.onnx import register_converters, to_onnx  # noqa: E402

RTOL = 1e-5
ATOL_PROBA = 1e-7
ATOL_FRACTION = 1e-6

#: Largest deviations seen, by test (printed with ``pytest -s``; the report
#: of the test run).
DEVIATIONS = {}


def _f32(*arrays):
    return tuple(np.asarray(a, dtype=np.float32) for a in arrays)


def _run(onx, X):
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return session.run(None, {name: X})


def _relative(actual, expected, atol):
    """``(used, rel)``: the share of the tolerance used (at most 1 to pass),
    and the largest relative deviation where ``atol`` does not matter."""
    error = np.abs(np.asarray(actual, dtype=np.float64) - expected)
    used = float(np.max(error / (atol + RTOL * np.abs(expected))))
    far = np.abs(expected) * RTOL > atol
    rel = float(np.max(error[far] / np.abs(expected[far]))) if far.any() else float("nan")
    return used, rel


def _check_round_trip(model, X, key):
    """Export ``model`` (fitted) and compare onnxruntime with skgf on ``X``."""
    onx = to_onnx(model, X[:1])
    outputs = _run(onx, X)
    if is_classifier(model):
        labels, proba = outputs
        expected = model.predict_proba(X)
        np.testing.assert_array_equal(labels, model.predict(X))
        assert proba.shape == expected.shape
        np.testing.assert_allclose(proba, expected, rtol=RTOL, atol=ATOL_PROBA)
        DEVIATIONS[key] = _relative(proba, expected, ATOL_PROBA)
    else:
        (out,) = outputs
        expected = np.asarray(model.predict(X))
        expected = expected.reshape(-1, 1) if expected.ndim == 1 else expected
        assert out.shape == expected.shape
        atol = ATOL_FRACTION * float(np.max(np.abs(expected)))
        np.testing.assert_allclose(out, expected, rtol=RTOL, atol=atol)
        DEVIATIONS[key] = _relative(out, expected, atol)
    return onx


@pytest.fixture(scope="module")
def breast_cancer():
    return _f32(*scaled_split(*load_breast_cancer(return_X_y=True)))


@pytest.fixture(scope="module")
def multi_output():
    X, y = make_regression(n_samples=400, n_features=8, n_targets=3, noise=1.0, random_state=0)
    y[:, 1] = y[:, 1] * 100 + 5000  # targets of different scales and offsets
    return _f32(*scaled_split(X, y))


@pytest.mark.parametrize("Estimator", CLASSIFIERS, ids=estimator_id)
def test_classifier_digits(Estimator, digits):
    X_train, X_test, y_train, _ = _f32(*digits)
    model = small_estimator(Estimator).fit(X_train, y_train.astype(np.int64))
    assert model.coefs_[0].dtype == np.float32
    _check_round_trip(model, X_test, f"digits-{Estimator.__name__}")


@pytest.mark.parametrize("Estimator", CLASSIFIERS, ids=estimator_id)
def test_classifier_breast_cancer_string_labels(Estimator, breast_cancer):
    X_train, X_test, y_train, _ = breast_cancer
    names = np.array(["malignant", "benign"])[y_train.astype(int)]
    model = small_estimator(Estimator).fit(X_train, names)
    onx = _check_round_trip(model, X_test, f"breast_cancer-{Estimator.__name__}")
    assert _run(onx, X_test[:3])[0].dtype.kind in "OU"


@pytest.mark.parametrize("Estimator", REGRESSORS, ids=estimator_id)
def test_regressor_friedman(Estimator, friedman):
    X_train, X_test, y_train, _ = _f32(*friedman)
    model = small_estimator(Estimator).fit(X_train[:1000], y_train[:1000])
    _check_round_trip(model, X_test, f"friedman1-{Estimator.__name__}")


@pytest.mark.parametrize("Estimator", REGRESSORS, ids=estimator_id)
def test_regressor_multi_output(Estimator, multi_output):
    X_train, X_test, y_train, _ = multi_output
    model = small_estimator(Estimator).fit(X_train, y_train)
    onx = _check_round_trip(model, X_test, f"multi_output-{Estimator.__name__}")
    assert _run(onx, X_test)[0].shape == (X_test.shape[0], 3)


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_unfitted_estimator_is_refused(Estimator):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="not fitted"):
        to_onnx(Estimator(), np.zeros((2, 3), dtype=np.float32))


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_pipeline_with_scaler(Estimator):
    """Unscaled rows through ``StandardScaler`` then the network, converted
    by ``skl2onnx.to_onnx`` itself after ``register_converters``."""
    import skl2onnx

    if is_classifier(Estimator()):
        X, y = load_digits(return_X_y=True)
    else:
        X, y = make_regression(n_samples=300, n_features=10, n_targets=2, random_state=0)
        X = X * 50 + 10
    (X,) = _f32(X)
    model = make_pipeline(StandardScaler(), small_estimator(Estimator)).fit(X, y)
    register_converters()
    options = {Estimator: {"zipmap": False}} if is_classifier(model) else None
    onx = skl2onnx.to_onnx(model, X[:1], options=options)
    outputs = _run(onx, X)
    expected = model.predict_proba(X) if is_classifier(model) else model.predict(X)
    if is_classifier(model):
        np.testing.assert_array_equal(outputs[0], model.predict(X))
        np.testing.assert_allclose(outputs[1], expected, rtol=RTOL, atol=ATOL_PROBA)
        DEVIATIONS[f"pipeline-{Estimator.__name__}"] = _relative(outputs[1], expected, ATOL_PROBA)
    else:
        atol = ATOL_FRACTION * float(np.max(np.abs(expected)))
        np.testing.assert_allclose(outputs[0], expected, rtol=RTOL, atol=atol)
        DEVIATIONS[f"pipeline-{Estimator.__name__}"] = _relative(outputs[0], expected, atol)


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (ZORBClassifier, dict(activation="logistic")),
        (ZORBClassifier, dict(activation="relu", class_target="softmax_inverse")),
        (ZORBClassifier, dict(target_rule="minimal_change", n_sweeps=2)),
        (ZORBRegressor, dict(activation="tanh", random_feature_weight=1.0)),
        (ZORBRegressor, dict(activation="identity", hidden_layer_sizes=())),
        (LRAClassifier, dict(activation="tanh")),
        (LRARegressor, dict(activation="logistic")),
    ],
    ids=lambda v: estimator_id(v) if isinstance(v, type) else "-".join(map(str, v.values())),
)
def test_activations_and_ranges(Estimator, params, digits):
    """Every activation, ZORB's fitted activation ranges (logistic and tanh),
    no hidden layer at all, and the input clipping of the iterative methods
    (rows at three times the training scale, beyond the training range)."""
    X_train, X_test, y_train, _ = _f32(*digits)
    if not is_classifier(Estimator()):
        y_train = y_train.astype(np.float32) ** 1.5
    model = small_estimator(Estimator, **params).fit(X_train, y_train)
    if Estimator in (ZORBClassifier, ZORBRegressor) and model.activation in ("tanh", "logistic"):
        assert all(r is not None for r in model.activation_ranges_)
    _check_round_trip(model, X_test * 3, f"activations-{Estimator.__name__}-{params}")


def test_mnist():
    """MNIST from the shared data folder (``$SKGF_DATA``; skipped if absent)."""
    data = load_shared("mnist")
    X = data["X_train"][:2000].astype(np.float32) / 255
    y = data["y_train"][:2000]
    X_test = data["X_test"][:1000].astype(np.float32) / 255
    model = ZORBClassifier(hidden_layer_sizes=(100,), random_state=0).fit(X, y)
    _check_round_trip(model, X_test, "mnist-ZORBClassifier")
    # rows scaled by 255 only: a StandardScaler blows MNIST's near-constant
    # pixels up to several hundred, and float32 dot products of such rows
    # differ between two implementations by about 1e-5 relative (see
    # doc/onnx.rst); the pipeline is tested on digits above
    model = small_estimator(LRAClassifier).fit(X, y)
    _check_round_trip(model, X_test, "mnist-LRAClassifier")


def test_float64_graph(friedman):
    """A float64 input gives a float64 graph, equal to skgf's float64
    predictions to rounding."""
    X_train, X_test, y_train, _ = friedman
    model = small_estimator(ZORBRegressor).fit(X_train, y_train)
    onx = to_onnx(model, np.asarray(X_test[:1]))
    (out,) = _run(onx, np.asarray(X_test))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out[:, 0], model.predict(X_test), rtol=1e-12)


def test_zipmap_and_nocl(digits):
    """skl2onnx's classifier options work as for ``MLPClassifier``."""
    X_train, X_test, y_train, _ = _f32(*digits)
    model = small_estimator(ZORBClassifier).fit(X_train, y_train + 10)
    labels, maps = _run(to_onnx(model, X_test[:1], zipmap=True), X_test[:5])
    np.testing.assert_array_equal(labels, model.predict(X_test[:5]))
    assert sorted(maps[0]) == list(range(10, 20))
    np.testing.assert_allclose(
        [maps[0][c] for c in range(10, 20)], model.predict_proba(X_test[:1])[0], rtol=RTOL
    )
    labels, _ = _run(to_onnx(model, X_test[:1], options={id(model): {"nocl": True}}), X_test)
    np.testing.assert_array_equal(labels, model.predict(X_test) - 10)


@pytest.mark.parametrize(
    "Estimator, params",
    [
        (ZORBClassifier, dict(activation="logistic", hidden_layer_sizes=(20, 10))),
        (ZORBRegressor, dict(activation="tanh", hidden_layer_sizes=(15, 15))),
    ],
    ids=estimator_id,
)
def test_deep_zorb(Estimator, params, digits):
    """ZORB with two rescaled hidden layers: weights in the hundreds (its
    pseudoinverse targets), so float32 rounding is amplified and two float32
    evaluations of the network differ by more than 1e-5 (skgf's own float32
    output is off by about 1e-2 relative). The float64 graph equals skgf's
    float64 predictions; the float32 graph is as close to the exact (float64)
    forward pass of the float32 weights as skgf's float32 predictions are."""
    X_train, X_test, y_train, _ = digits
    if not is_classifier(Estimator()):
        y_train = y_train**1.5
    model = small_estimator(Estimator, **params).fit(X_train, y_train)
    method = "predict_proba" if is_classifier(model) else "predict"
    out = _run(to_onnx(model, X_test[:1]), X_test)[-1]
    expected = getattr(model, method)(X_test)
    np.testing.assert_allclose(out.reshape(expected.shape), expected, rtol=1e-9, atol=1e-12)

    X32, y32 = _f32(X_train, y_train)
    model = small_estimator(Estimator, **params).fit(X32, y32)
    (X_test,) = _f32(X_test)
    exact = getattr(model, method)(np.asarray(X_test, dtype=np.float64))  # float32 model, ...
    model64 = small_estimator(Estimator, **params)
    for name, value in vars(model).items():
        setattr(model64, name, value)
    model64.coefs_ = [W.astype(np.float64) for W in model.coefs_]
    model64.intercepts_ = [b.astype(np.float64) for b in model.intercepts_]
    if not is_classifier(model):
        model64._y_mean = model._y_mean.astype(np.float64)
        model64._y_scale = model._y_scale.astype(np.float64)
    exact = getattr(model64, method)(X_test)  # ... evaluated in float64
    skgf_error = np.max(np.abs(getattr(model, method)(X_test) - exact))
    out = _run(to_onnx(model, X_test[:1]), X_test)[-1].reshape(exact.shape)
    onnx_error = np.max(np.abs(out - exact))
    DEVIATIONS[f"deep-{Estimator.__name__}-float32-vs-exact"] = onnx_error / np.max(np.abs(exact))
    DEVIATIONS[f"deep-{Estimator.__name__}-skgf-float32-vs-exact"] = skgf_error / np.max(
        np.abs(exact)
    )
    assert onnx_error <= 2 * skgf_error + 1e-6 * np.max(np.abs(exact))


def test_import_skgf_does_not_import_onnx():
    code = "import sys, skgf; print(any(m in sys.modules for m in ('skl2onnx', 'onnx')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_extra_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    with pytest.raises(ImportError, match=r"pip install skgf\[onnx\]"):
        register_converters()


def test_report_deviations():
    """Prints the largest relative deviation of each round trip above."""
    for key, value in sorted(DEVIATIONS.items()):
        text = f"{value:.2e}" if np.isscalar(value) else "used {:.2f}, rel {:.2e}".format(*value)
        print(f"{key}: {text}")


@pytest.mark.parametrize("Estimator", [ZORBClassifier, LRARegressor], ids=estimator_id)
def test_model_fitted_in_another_namespace(Estimator, digits):
    """A model fitted on array_api_strict arrays (as on a GPU: its weights
    are not NumPy arrays) exports from NumPy copies of its weights."""
    xps = pytest.importorskip("array_api_strict")
    import sklearn

    X_train, X_test, y_train, _ = _f32(*digits)
    if not is_classifier(Estimator()):
        y_train = y_train**1.5
    with sklearn.config_context(array_api_dispatch=True):
        model = small_estimator(Estimator).fit(xps.asarray(X_train), y_train)
    assert not isinstance(model.coefs_[0], np.ndarray)
    outputs = _run(to_onnx(model, X_test[:1]), X_test)
    with sklearn.config_context(array_api_dispatch=True):
        if is_classifier(model):
            expected = np.asarray(model.predict_proba(xps.asarray(X_test)))
            np.testing.assert_array_equal(
                outputs[0], np.asarray(model.predict(xps.asarray(X_test)))
            )
        else:
            expected = np.asarray(model.predict(xps.asarray(X_test))).reshape(-1, 1)
    atol = ATOL_PROBA if is_classifier(model) else ATOL_FRACTION * float(np.max(np.abs(expected)))
    np.testing.assert_allclose(outputs[-1], expected, rtol=RTOL, atol=atol)
