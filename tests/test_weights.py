"""``sample_weight`` and ``class_weight`` of every estimator (issue 7).

The estimator checks (tests/test_common.py) cover the scikit-learn contract:
validation, zero weights == dropped rows and integer weights == repeated rows
(full-batch here), ``class_weight`` dicts. These tests add the semantics the
checks do not see: weights in the bounded-activation ranges of ZORB, the L2
penalty's scaling, ``"balanced"`` == scikit-learn's formula, the product with
``sample_weight``, ``partial_fit``, mini-batches, early stopping and the
array-API path.
"""

import os
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_breast_cancer, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

from skgf import RSOClassifier, SemiImplicitBPRegressor, ZORBClassifier, ZORBRegressor

from skgf_test_data import ALL_ESTIMATORS, CLASSIFIERS, ITERATIVE, RSO, estimator_id
from skgf_test_data import small_estimator as _small

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Full-batch fits with integer weights equal the fits of the repeated rows,
# but for RSO only up to rounding (its accept/reject decisions flip on near
# ties), so RSO is left out where equality is asserted.
EXACT_ITERATIVE = [E for E in ITERATIVE if E not in RSO]


def _output(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_zorb_zero_weight_outliers_do_not_move_activation_ranges(friedman_small, activation):
    """Bounded activations take their range from the targets: rows of weight
    zero must not count, or a zero-weight outlier would change the fit."""
    X, y = friedman_small
    y = y.copy()
    y[:5] = 1e4  # outlying targets, weighted out
    w = np.ones_like(y)
    w[:5] = 0.0
    weighted = ZORBRegressor(
        hidden_layer_sizes=(15, 10), activation=activation, random_state=0
    ).fit(X, y, sample_weight=w)
    dropped = ZORBRegressor(hidden_layer_sizes=(15, 10), activation=activation, random_state=0).fit(
        X[5:], y[5:]
    )
    np.testing.assert_allclose(weighted.activation_ranges_, dropped.activation_ranges_)
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X), rtol=1e-7)


@pytest.mark.parametrize("Estimator", [ZORBClassifier, ZORBRegressor])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zorb_integer_weights_repeat_rows(wine, Estimator, dtype):
    X, y = wine
    X = X.astype(dtype)
    w = np.random.RandomState(0).randint(0, 4, size=y.shape[0])
    weighted = Estimator(hidden_layer_sizes=(30,), random_state=0).fit(X, y, sample_weight=w)
    repeated = Estimator(hidden_layer_sizes=(30,), random_state=0).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w)
    )
    # float32 fits run each chunk's products in float32 (sums in float64), so
    # the two fits differ by float32 rounding of different row sets: 1.4e-3
    # at most here (measured); float64 shows the weights are exact.
    rtol = 1e-9 if dtype == np.float64 else 3e-3
    np.testing.assert_allclose(_output(weighted, X), _output(repeated, X), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("Estimator", EXACT_ITERATIVE, ids=estimator_id)
def test_full_batch_integer_weights_repeat_rows_with_penalty(wine, Estimator):
    """Weights are scaled to mean 1 and the L2 penalty by n / sum(w): a
    full-batch fit with integer weights is the fit of the repeated rows, also
    with a strong alpha (without the penalty's scaling it would not be)."""
    X, y = wine
    w = np.random.RandomState(1).randint(0, 4, size=y.shape[0])
    params = dict(alpha=1.0, batch_size=1000, max_iter=10)
    weighted = _small(Estimator, **params).fit(X, y, sample_weight=w)
    repeated = _small(Estimator, **params).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(_output(weighted, X), _output(repeated, X), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("Estimator", CLASSIFIERS, ids=estimator_id)
def test_balanced_is_scikit_learns_formula_times_sample_weight(wine, Estimator):
    X, y = wine
    sw = np.random.RandomState(0).uniform(0.5, 2.0, size=y.shape[0])
    balanced = _small(Estimator, class_weight="balanced").fit(X, y, sample_weight=sw)
    per_class = compute_class_weight("balanced", classes=np.unique(y), y=y, sample_weight=sw)
    as_dict = _small(Estimator, class_weight=dict(enumerate(per_class))).fit(X, y, sample_weight=sw)
    by_hand = _small(Estimator).fit(X, y, sample_weight=sw * per_class[y])
    np.testing.assert_allclose(_output(balanced, X), _output(as_dict, X))
    np.testing.assert_allclose(_output(balanced, X), _output(by_hand, X))


@pytest.mark.parametrize("Estimator", CLASSIFIERS, ids=estimator_id)
def test_class_weight_with_string_labels(wine, Estimator):
    X, y = wine
    names = np.array(["barolo", "grignolino", "barbera"])[y]
    cw = {"barolo": 3.0, "barbera": 0.5}  # grignolino: 1
    by_name = _small(Estimator, class_weight=cw).fit(X, names)
    by_hand = _small(Estimator).fit(X, names, sample_weight=np.array([3.0, 1.0, 0.5])[y])
    np.testing.assert_allclose(_output(by_name, X), _output(by_hand, X))


@pytest.mark.parametrize("Estimator", CLASSIFIERS, ids=estimator_id)
def test_balanced_shifts_the_fit_toward_the_minority_class(Estimator):
    """Real, imbalanced data (breast cancer with 9 in 10 malignant rows
    dropped: 10 of 189 training rows). "balanced" weighs the weighted
    objective toward the minority class, so its training rows get a higher
    probability of their class and are recalled at least as often.

    (On held-out rows this does not always help: ZORB with the default tiny
    ``alpha`` then fits the 10 heavy rows too closely, exactly as it fits the
    same rows repeated 18 times; a larger ``alpha`` avoids it.)"""
    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.RandomState(0)
    keep = (y == 1) | (rng.rand(y.shape[0]) < 0.1)
    X, y = X[keep], y[keep]
    X, _, y, _ = train_test_split(X, y, test_size=0.5, stratify=y, random_state=0)
    X = StandardScaler().fit_transform(X)
    minority = y == 0
    proba, recall = {}, {}
    for cw in (None, "balanced"):
        est = _small(Estimator, class_weight=cw)
        if Estimator is not ZORBClassifier:
            est.set_params(batch_size=32)  # mini-batches: weights in expectation
        est.fit(X, y)
        proba[cw] = est.predict_proba(X[minority])[:, 0].mean()
        recall[cw] = np.mean(est.predict(X[minority]) == 0)
    assert proba["balanced"] > proba[None], proba
    assert recall["balanced"] >= recall[None], recall


@pytest.mark.parametrize("Estimator", [E for E in CLASSIFIERS if E in ITERATIVE], ids=estimator_id)
def test_partial_fit_weights(wine, Estimator):
    X, y = wine
    classes = np.unique(y)
    with pytest.raises(ValueError, match="partial_fit"):
        _small(Estimator, class_weight="balanced").partial_fit(X, y, classes=classes)
    if Estimator is not RSOClassifier:  # (RSO: equal only up to rounding flips)
        # zero weights == rows left out of the call (one full batch)
        w = (np.arange(y.shape[0]) % 3 != 0).astype(float)
        a = _small(Estimator, batch_size=1000)
        b = _small(Estimator, batch_size=1000)
        for _ in range(3):
            a.partial_fit(X, y, classes=classes, sample_weight=w)
            b.partial_fit(X[w > 0], y[w > 0], classes=classes)
        np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-7)
    # a dict class_weight is multiplied in
    c = _small(Estimator, batch_size=1000, class_weight={0: 2.0})
    d = _small(Estimator, batch_size=1000)
    c.partial_fit(X, y, classes=classes)
    d.partial_fit(X, y, classes=classes, sample_weight=np.where(y == 0, 2.0, 1.0))
    np.testing.assert_allclose(c.predict_proba(X), d.predict_proba(X))


@pytest.mark.parametrize("Estimator", ITERATIVE, ids=estimator_id)
def test_early_stopping_split_carries_weights(wine, Estimator):
    X, y = wine
    w = np.random.RandomState(0).uniform(0, 2, size=y.shape[0])
    est = _small(Estimator, early_stopping=True, validation_fraction=0.2, batch_size=16).fit(
        X, y, sample_weight=w
    )
    assert len(est.validation_scores_) == est.n_iter_
    assert np.all(np.isfinite(est.validation_scores_))


@pytest.mark.skipif(
    os.environ.get("SCIPY_ARRAY_API") != "1", reason="array_api_dispatch needs SCIPY_ARRAY_API=1"
)
@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_weights_in_array_api_namespace(wine, Estimator):
    xps = pytest.importorskip("array_api_strict")
    X, y = wine
    y = y if Estimator in CLASSIFIERS else y.astype(float)
    w = np.random.RandomState(0).randint(0, 3, size=y.shape[0]).astype(float)
    params = {"class_weight": "balanced"} if Estimator in CLASSIFIERS else {}
    reference = _small(Estimator, **params).fit(X, y, sample_weight=w).predict(X)
    with sklearn.config_context(array_api_dispatch=True):
        est = _small(Estimator, **params).fit(
            xps.asarray(X), xps.asarray(y), sample_weight=xps.asarray(w)
        )
        pred = est.predict(xps.asarray(X))
    assert type(pred).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.asarray(pred), reference, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_bad_weights_raise_clear_errors(wine, Estimator):
    X, y = wine
    X_copy = X.copy()
    for bad, match in [
        (-np.ones(y.shape[0]), "Negative"),
        (np.full(y.shape[0], np.nan), "NaN"),
        (np.ones(3), "shape"),
        (np.zeros(y.shape[0]), "zero"),
    ]:
        with pytest.raises(ValueError, match=match):
            _small(Estimator).fit(X, y, sample_weight=bad)
    if Estimator in CLASSIFIERS:
        with pytest.raises(ValueError, match="class_weight"):
            _small(Estimator, class_weight="unbalanced").fit(X, y)
        with pytest.raises(ValueError, match="not in class_weight"):
            _small(Estimator, class_weight={0: 1.0, 7: 2.0}).fit(X, y)
    np.testing.assert_array_equal(X, X_copy)


def test_dask_input_refuses_weights():
    da = pytest.importorskip("dask.array")
    X, y = make_friedman1(n_samples=50, random_state=0)
    Xd = da.from_array(X, chunks=25)
    with pytest.raises(ValueError, match="sample_weight"):
        ZORBRegressor().fit(Xd, y, sample_weight=np.ones(50))
    with pytest.raises(ValueError, match="class_weight"):
        ZORBClassifier(class_weight="balanced").fit(Xd, (y > y.mean()).astype(int))


@pytest.mark.parametrize("Estimator", [ZORBRegressor, SemiImplicitBPRegressor], ids=estimator_id)
def test_input_range_is_that_of_the_rows_of_positive_weight(Estimator):
    # taken a block of rows at a time (no copy of X); rows of weight zero,
    # here the most extreme ones, do not widen what predict clips to
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20000, 3))
    y = X[:, 0] + 0.1 * rng.standard_normal(20000)
    weights = rng.integers(0, 3, 20000).astype(float)
    extreme = np.argmax(np.abs(X), axis=0)
    weights[extreme] = 0.0
    params = {} if Estimator is ZORBRegressor else {"max_iter": 1, "early_stopping": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(hidden_layer_sizes=(8,), random_state=0, **params)
        est.fit(X, y, sample_weight=weights)
    kept = X[weights > 0]
    np.testing.assert_array_equal(est._input_range[0], kept.min(axis=0))
    np.testing.assert_array_equal(est._input_range[1], kept.max(axis=0))
