"""A continued fit (``warm_start``, a later ``partial_fit``) and the class
weights must not give a silently wrong model: a changed label set or output
count is refused with a clear message, and weights are checked."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from skgf import RSORegressor

from skgf_test_data import (
    CLASSIFIERS,
    ITERATIVE_CLASSIFIERS,
    ITERATIVE_REGRESSORS,
    estimator_id,
    quiet_fit,
    small_estimator,
)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


@pytest.mark.parametrize("Estimator", ITERATIVE_CLASSIFIERS, ids=estimator_id)
def test_warm_start_with_other_classes_of_the_same_count_is_refused(Estimator, iris):
    X, y = iris
    est = small_estimator(Estimator, warm_start=True, max_iter=2).fit(X[y < 2], y[y < 2])
    coefs = [W.copy() for W in est.coefs_]
    with pytest.raises(ValueError, match="same classes as in the previous call to fit"):
        est.fit(X[y > 0], y[y > 0])
    # the refused call left the model as it was
    np.testing.assert_array_equal(est.classes_, [0, 1])
    for before, after in zip(coefs, est.coefs_):
        np.testing.assert_array_equal(before, after)
    labels = np.array(["a", "b", "c"])[y]
    est = small_estimator(Estimator, warm_start=True, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="previously \\[0, 1, 2\\], now \\['a', 'b', 'c'\\]"):
        est.fit(X, labels)
    est.fit(X, y)  # the same classes go on


@pytest.mark.parametrize("Estimator", ITERATIVE_CLASSIFIERS, ids=estimator_id)
def test_partial_fit_with_other_classes_is_refused(Estimator, iris):
    X, y = iris
    est = small_estimator(Estimator, max_iter=2).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="`classes` must be the same"):
        est.partial_fit(X, y, classes=[0, 1, 2, 3])
    est.partial_fit(X, y, classes=[2, 1, 0])  # the same set, in any order
    est.partial_fit(X, y)


@pytest.mark.parametrize("Estimator", ITERATIVE_REGRESSORS, ids=estimator_id)
def test_partial_fit_with_another_output_count_is_refused(Estimator, iris):
    X, _ = iris
    Y = np.c_[X[:, 0], X[:, 1]]
    est = small_estimator(Estimator, max_iter=2).partial_fit(X[:, 2:], Y)
    with pytest.raises(ValueError, match="y has 1 output\\(s\\), but .* fitted with 2"):
        est.partial_fit(X[:, 2:], Y[:, 0])
    with pytest.raises(ValueError, match="y has 3 output\\(s\\)"):
        est.partial_fit(X[:, 2:], np.c_[Y, Y[:, 0]])


@pytest.mark.parametrize("Estimator", CLASSIFIERS, ids=estimator_id)
@pytest.mark.parametrize("value", [np.inf, np.nan, -1.0])
def test_class_weight_values_are_checked(Estimator, value, iris):
    X, y = iris
    est = small_estimator(Estimator, class_weight={0: value})
    with pytest.raises(ValueError, match="class_weight values must be finite and non-negative"):
        est.fit(X, y)


def test_rso_zero_weight_rows_act_as_removed_rows():
    # the search skips a weight whose input is zero on every row of positive
    # weight; zero-weight rows must not make it live (with alpha > 0 a
    # penalty-only proposal would then be judged in one fit and not the other)
    rng = np.random.RandomState(42)
    X, y = rng.rand(15, 30), rng.randint(0, 3, 15).astype(float)
    weights = rng.randint(0, 5, 15)
    kept = weights > 0
    est = RSORegressor(random_state=0)
    removed = est.fit(X[kept], y[kept], sample_weight=weights[kept]).predict(X)
    zero_weighted = RSORegressor(random_state=0).fit(X, y, sample_weight=weights).predict(X)
    np.testing.assert_allclose(zero_weighted, removed, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("Estimator", CLASSIFIERS, ids=estimator_id)
def test_multilabel_targets_are_refused_clearly(Estimator, iris):
    X, y = iris
    Y = np.eye(3, dtype=int)[y]
    with pytest.raises(ValueError, match="multilabel and multi-output targets are not supported"):
        small_estimator(Estimator).fit(X, Y)


def _fit_then_move_weights(est, X, y, val):
    """An early-stopping fit on the rows outside ``val``, validated on
    ``val``; then its weights moved far from that fit's best (as partial_fit
    calls in between could move them)."""
    est.fit(X[~val], y[~val], X_val=X[val], y_val=y[val])
    assert est.score(X[val], y[val]) == pytest.approx(est.best_validation_score_)
    rng = np.random.default_rng(0)
    est.coefs_ = [W + 3 * rng.standard_normal(W.shape) for W in est.coefs_]


@pytest.mark.parametrize("Estimator", ITERATIVE_CLASSIFIERS, ids=estimator_id)
def test_resumed_early_stopping_fit_keeps_the_weights_of_its_best_score(Estimator, iris):
    # weights moved away from the first fit's best (as partial_fit calls in
    # between could move them), then a resumed early-stopping fit: it must
    # end on weights that score its best_validation_score_ (it kept the
    # first fit's score with the moved weights, measured for all three)
    X, y = iris
    val = np.arange(X.shape[0]) % 4 == 0
    est = small_estimator(Estimator, early_stopping=True, warm_start=True, max_iter=20)
    _fit_then_move_weights(est, X, y, val)
    est.set_params(max_iter=1).fit(X[~val], y[~val], X_val=X[val], y_val=y[val])
    assert est.score(X[val], y[val]) == pytest.approx(est.best_validation_score_)


def test_resumed_early_stopping_fit_counts_progress_from_its_resumed_weights(iris):
    # after the weights moved far from the first fit's best, the resumed
    # fit's falling validation loss is progress: it once compared it with
    # the first fit's lowest loss and stopped after n_iter_no_change epochs
    from skgf import SemiImplicitBPClassifier

    X, y = iris
    val = np.arange(X.shape[0]) % 4 == 0
    est = SemiImplicitBPClassifier(
        hidden_layer_sizes=(8,), early_stopping=True, warm_start=True, max_iter=30, random_state=0
    )
    _fit_then_move_weights(est, X, y, val)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(n_iter_no_change=3).fit(X[~val], y[~val], X_val=X[val], y_val=y[val])
    assert est.n_iter_ > 10


@pytest.mark.parametrize(
    "Estimator", [*ITERATIVE_CLASSIFIERS, *ITERATIVE_REGRESSORS], ids=estimator_id
)
def test_warm_start_checks_the_fitted_features(Estimator, iris):
    """A warm_start fit goes on from the fitted weights, so its X must have
    the fitted columns, as MLPClassifier checks: reordered names and another
    count are refused, an array without names warns (a warm start once
    validated X afresh and trained the old weights on permuted columns)."""
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=list("abcd"))
    est = quiet_fit(small_estimator(Estimator, warm_start=True, max_iter=2), frame, y)
    with pytest.raises(ValueError, match="feature names should match"):
        est.fit(frame[list("dcba")], y)
    with pytest.raises(ValueError, match="X has 3 features, but .* expecting 4"):
        est.fit(X[:, :3], y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        quiet_fit(est, X, y)
    assert list(est.feature_names_in_) == list("abcd")
    est.set_params(warm_start=False)
    quiet_fit(est, frame[list("dcba")], y)  # a fresh fit takes new columns
    assert list(est.feature_names_in_) == list("dcba")


@pytest.mark.parametrize("Estimator", ITERATIVE_REGRESSORS, ids=estimator_id)
def test_warm_start_keeps_the_target_scale_of_the_fitted_weights(Estimator, iris):
    """The fitted weights predict standardised targets: a warm_start fit on
    rows with another mean and spread must go on in the fitted scale, as
    partial_fit does (a rescaled target once moved every prediction)."""
    X, y = iris
    est = quiet_fit(small_estimator(Estimator, warm_start=True, max_iter=2), X, y)
    mean, scale = np.copy(est._y_mean), np.copy(est._y_scale)
    quiet_fit(est, X[y > 0], 10 * y[y > 0] + 5)
    np.testing.assert_array_equal(est._y_mean, mean)
    np.testing.assert_array_equal(est._y_scale, scale)


def test_warm_start_without_steps_keeps_the_predictions(iris):
    """rec-LRA resumed with a vanishing step size predicts as before, on
    rows whose targets have another mean and spread."""
    from skgf import LRARegressor

    X, y = iris
    est = quiet_fit(LRARegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0), X, y)
    before = est.predict(X)
    est.set_params(warm_start=True, max_iter=1, learning_rate_init=1e-12, alpha=0.0)
    quiet_fit(est, X[y > 0], y[y > 0])
    np.testing.assert_allclose(est.predict(X), before, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("Estimator", ITERATIVE_CLASSIFIERS, ids=estimator_id)
def test_warm_start_checks_labels_as_a_fresh_fit_does(Estimator, iris):
    X, y = iris
    est = quiet_fit(small_estimator(Estimator, warm_start=True, max_iter=2), X, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        est.fit(X, np.linspace(0, 1, X.shape[0]))
    with pytest.raises(ValueError, match="2 classes with a positive sample_weight"):
        est.fit(X, y, sample_weight=(y == 0).astype(float))
