"""Default parameters against linear models, as a new user meets them
(issue 11): every estimator inside ``make_pipeline(StandardScaler(), ...)``
on a 75/25 split of bundled data, within 0.03 of LogisticRegression's
accuracy or Ridge's R^2; streaming ``partial_fit`` near the full fit; no
negative R^2 on rows far outside the training range where Ridge's is
positive; and fits that do not learn or diverge warn.

The pairs that still fall short are strict expected failures, each with its
measured figure, so that a fix shows up as an unexpected pass."""

import pathlib
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgf import (
    LRAClassifier,
    SemiImplicitBPClassifier,
    SemiImplicitBPRegressor,
    ZORBClassifier,
    ZORBRegressor,
)

from skgf_test_data import (
    CLASSIFIERS,
    ITERATIVE_CLASSIFIERS,
    REGRESSORS,
    estimator_id,
    load_shared,
    scaled_split,
)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.defaults import far_out  # noqa: E402

MARGIN = 0.03
LOADERS = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}

# (estimator, data set, width): test accuracy measured with defaults (seed 0),
# against LogisticRegression's iris 0.974, wine 1.000, breast cancer 0.958.
# Not skgf._lra / _sibp: RSO and ZORB are another change's.
SHORT_OF_LINEAR = {
    ("ZORBClassifier", "wine", 4): 0.956,
}


def _split(loader, seed=0):
    X, y = loader(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=seed)


def _fit(estimator, X_train, y_train):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return make_pipeline(StandardScaler(), estimator).fit(X_train, y_train)


def _fit_score(estimator, X_train, X_test, y_train, y_test):
    return _fit(estimator, X_train, y_train).score(X_test, y_test)


def _xfail(table, key, what):
    short = table.get(key)
    if short is None:
        return []
    reason = f"issue 11: measured {what} {short:.3f}, short of the linear model"
    return [pytest.mark.xfail(strict=True, reason=reason)]


def _cases():
    for Estimator in CLASSIFIERS:
        for data in LOADERS:
            for width in (4, 16, 64):
                yield pytest.param(
                    Estimator,
                    data,
                    width,
                    marks=_xfail(SHORT_OF_LINEAR, (Estimator.__name__, data, width), "accuracy"),
                    id=f"{estimator_id(Estimator)}-{data}-{width}",
                )


@pytest.mark.parametrize("Estimator, data, width", list(_cases()))
def test_classifier_defaults_near_logistic_regression(Estimator, data, width):
    split = _split(LOADERS[data])
    linear = _fit_score(LogisticRegression(), *split)
    skgf = _fit_score(Estimator(hidden_layer_sizes=(width,), random_state=0), *split)
    assert skgf >= linear - MARGIN, (skgf, linear)


# (estimator, split): R^2 on diabetes with defaults; Ridge scores 0.358,
# 0.442, 0.444 on splits 0, 1, 2.
SHORT_OF_RIDGE = {
    # RSORegressor was here (0.085 / 0.328 / 0.222) until its alpha="auto"
    # default: 0.343 / 0.417 / 0.427 (doc/rso.rst, "Defaults")
    # SemiImplicitBPRegressor was here (0.080 / 0.238 / 0.229) until its
    # alpha="auto" default: 0.379 / 0.439 / 0.427 (doc/sibp.rst, "Defaults")
}


def _regression_cases():
    for Estimator in REGRESSORS:
        for seed in range(3):
            yield pytest.param(
                Estimator,
                seed,
                marks=_xfail(SHORT_OF_RIDGE, (Estimator.__name__, seed), "R^2"),
                id=f"{estimator_id(Estimator)}-{seed}",
            )


@pytest.mark.parametrize("Estimator, seed", list(_regression_cases()))
def test_regressor_defaults_near_ridge_on_diabetes(Estimator, seed):
    split = _split(load_diabetes, seed)
    ridge = _fit_score(Ridge(), *split)
    skgf = _fit_score(Estimator(random_state=0), *split)
    assert skgf >= ridge - MARGIN, (skgf, ridge)


# R^2 on diabetes (split 0) with three test rows pushed 10, 30 and 100
# standard deviations out on the feature Ridge weighs least (Ridge 0.342,
# ZORB 0.340; LRA 0.328 and SIBP as on the clean rows, since they
# clip inputs to the training range). RSO clips too since this change
# (-35.656 before, 0.028 after).
NEGATIVE_FAR_OUT = {}


@pytest.mark.parametrize(
    "Estimator",
    [
        pytest.param(E, marks=_xfail(NEGATIVE_FAR_OUT, E.__name__, "R^2"), id=estimator_id(E))
        for E in REGRESSORS
    ],
)
def test_regressor_far_out_rows_no_negative_r2(Estimator):
    X_train, X_test, y_train, y_test = _split(load_diabetes, 0)
    X_test = far_out(X_train, X_test, y_train, "regression", 0)
    ridge = _fit_score(Ridge(), X_train, X_test, y_train, y_test)
    assert ridge > 0
    skgf = _fit_score(Estimator(random_state=0), X_train, X_test, y_train, y_test)
    assert skgf > 0, (skgf, ridge)


@pytest.mark.parametrize("Estimator", ITERATIVE_CLASSIFIERS, ids=estimator_id)
def test_streaming_partial_fit_near_full_fit(Estimator):
    """8 passes of 4 chunks of breast cancer through partial_fit (the issue's
    case: LRA went 0.40 -> 0.49 with its loss rising) against a full fit."""
    X_train, X_test, y_train, y_test = _split(load_breast_cancer)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    stream = Estimator(hidden_layer_sizes=(16,), random_state=0)
    chunks = np.array_split(np.arange(len(y_train)), 4)
    pass_losses = []
    for _ in range(8):
        for rows in chunks:
            stream.partial_fit(X_train[rows], y_train[rows], classes=np.unique(y_train))
        pass_losses.append(stream.loss_curve_[-1])
    assert pass_losses[-1] < pass_losses[0]
    # against fit with the penalty the stream learns with: partial_fit
    # cannot hold rows out to choose one as fit's alpha="auto" does
    full = _fit(
        Estimator(hidden_layer_sizes=(16,), alpha=stream.alpha_, random_state=0), X_train, y_train
    )
    assert stream.score(X_test, y_test) >= full.score(X_test, y_test) - MARGIN


def _breast_cancer_scaled():
    X_train, _, y_train, _ = _split(load_breast_cancer)
    return StandardScaler().fit_transform(X_train), y_train


def test_fit_that_does_not_learn_warns():
    """Full-batch LRA on breast cancer: the loss rises for its first epochs
    while the forward weights align with the feedback; cut off there, the
    fit ends above where it began, and says so."""
    X, y = _breast_cancer_scaled()
    est = LRAClassifier(hidden_layer_sizes=(16,), batch_size=X.shape[0], max_iter=15)
    est.set_params(random_state=0)
    with pytest.warns(ConvergenceWarning, match="did not learn"):
        est.fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_) == 15
    assert est.loss_curve_[-1] > est.loss_curve_[0]
    assert est.best_loss_ == min(est.loss_curve_)


def test_rising_start_is_not_an_early_stop():
    """The same fit with max_iter=200: it used to stop at iteration 11 (0.45
    test accuracy, no warning); the no-improvement count now starts once
    the loss has gone below its first value, and the fit learns."""
    X_train, X_test, y_train, y_test = _split(load_breast_cancer)
    scaler = StandardScaler().fit(X_train)
    est = LRAClassifier(hidden_layer_sizes=(16,), batch_size=len(y_train), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(scaler.transform(X_train), y_train)
    assert est.n_iter_ > 11
    assert min(est.loss_curve_) < est.loss_curve_[0]
    assert est.score(scaler.transform(X_test), y_test) > 0.9


def test_diverging_fit_warns():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    est = SemiImplicitBPRegressor(neuron_step_size=50.0, max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's overflow
        with pytest.warns(ConvergenceWarning, match="diverged"):
            est.fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_) < 30
    assert all(np.isfinite(est.loss_curve_))


def test_validation_score_below_its_start_warns():
    est = LRAClassifier()
    est.n_iter_no_change = 10
    with pytest.warns(ConvergenceWarning, match="validation score ended at 0.8"):
        est._warn_if_nothing_learned([1.0, 0.5], [0.9, 0.8], stopped=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est._warn_if_nothing_learned([1.0, 0.5], [0.8, 0.9], stopped=True)


def test_predictions_clip_inputs_to_training_range():
    """A row far out on one feature predicts as the row at the edge of the
    training range (every method), not along an unbounded ReLU ray or into
    saturated-unit combinations no fit saw (ZORB)."""
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    assert all(e._clip_inputs for e in REGRESSORS)
    for Estimator in REGRESSORS:
        params = {} if Estimator is ZORBRegressor else {"max_iter": 20}
        est = _fit(Estimator(hidden_layer_sizes=(16,), random_state=0, **params), X, y)
        far, edge = X[:1].copy(), X[:1].copy()
        far[0, 2], edge[0, 2] = 1000.0, X[:, 2].max()
        np.testing.assert_allclose(est.predict(far), est.predict(edge))


@pytest.mark.parametrize("Estimator", [LRAClassifier, SemiImplicitBPClassifier], ids=estimator_id)
def test_early_stopping_keeps_up_with_the_full_fit_on_digits(Estimator):
    """A 135-row split's accuracy ties for many epochs while the model still
    improves: judged on the accuracy alone, early stopping stopped rec-LRA at
    epoch 38 (0.962; 0.976 without early stopping) and kept an early best of
    semi-implicit BP (0.956; 0.971 without). The validation loss now counts
    as progress and ties go to the lower loss: 0.976 and 0.982."""
    X_train, X_test, y_train, y_test = scaled_split(*load_digits(return_X_y=True))
    full = Estimator(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    stopped = Estimator(early_stopping=True, random_state=0).fit(X_train, y_train)
    assert stopped.score(X_test, y_test) >= full - 0.01
    assert len(stopped.validation_scores_) == stopped.n_iter_


def test_early_stopping_keeps_up_with_the_full_fit_on_letter():
    """Letter (3,000 of the shared set's rows): rec-LRA scores 0.831 without
    early stopping; with it, the accuracy-only rule stopped at 0.765 while
    the model still learned, the rule with the loss at 0.809 (it trains on
    nine tenths of the rows)."""
    data = load_shared("letter")
    rows = np.random.default_rng(0).choice(data["X"].shape[0], 3000, replace=False)
    X, y = data["X"][rows].astype(np.float64), data["y"][rows]
    X_train, X_test, y_train, y_test = scaled_split(X, y)
    full = LRAClassifier(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    stopped = LRAClassifier(early_stopping=True, random_state=0).fit(X_train, y_train)
    assert stopped.score(X_test, y_test) >= full - MARGIN


class _ScriptedValidation(LRAClassifier):
    """An estimator whose held-out (score, loss) come from a script."""

    def _validation_score_and_loss(self, xp, X_val, Y_val, w_val=None):
        return self.script.pop(0)


def _scripted(script, n_iter_no_change=2):
    est = _ScriptedValidation(tol=1e-4, n_iter_no_change=n_iter_no_change)
    est.script = list(script)
    est.do_early_stopping_ = True
    est.validation_scores_, est.best_validation_score_ = [], -np.inf
    est._best_validation_loss = est._loss_at_best_score = np.inf
    est.loss_curve_, est.best_loss_, est._no_improvement_count = [], np.inf, 0
    est.coefs_, est.intercepts_ = [np.zeros((2, 2))], [np.zeros(2)]
    return est


def _epoch(est, marker):
    """One epoch: the weights become ``marker``; True when the rule stops."""
    est.coefs_, est.intercepts_ = [np.full((2, 2), marker)], [np.zeros(2)]
    est.loss_curve_.append(1.0)
    return est._update_stopping_state(np, None, None)


def test_stopping_rule_counts_the_validation_loss_and_breaks_ties_by_it():
    """Score ties with a falling loss are progress, and the kept weights are
    the tie's lowest-loss epoch; neither improving counts toward the stop."""
    est = _scripted([(0.90, 0.50), (0.90, 0.40), (0.90, 0.30), (0.90, 0.30), (0.90, 0.35)])
    assert [_epoch(est, k) for k in range(5)] == [False, False, False, False, True]
    assert est._best_weights[0][0][0, 0] == 2  # the first epoch at loss 0.30
    assert est.best_validation_score_ == 0.90 and est._best_validation_loss == 0.30


def test_stopping_rule_keeps_the_best_score_over_a_lower_loss():
    """A lower loss at a lower score resets the count but keeps the weights
    of the best score (the loss alone would stop MNIST fits too early)."""
    est = _scripted([(0.95, 0.20), (0.94, 0.10), (0.93, 0.15), (0.93, 0.15)])
    assert [_epoch(est, k) for k in range(4)] == [False, False, False, True]
    assert est._best_weights[0][0][0, 0] == 0
    assert est.best_validation_score_ == 0.95


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_zorb_classifier_auto_width_keeps_up_with_logistic_regression_on_letter(seed):
    """Letter (26 classes, 3,000 of the shared set's rows, stratified split
    ``seed``): the paper's rule with 100 units was 0.008 to 0.033 below
    LogisticRegression, because every hidden unit fits a function of the
    26-dimensional target; ``"auto"`` gives it 260 units (+0.013 to +0.047,
    measured)."""
    data = load_shared("letter")
    rows = np.random.default_rng(0).choice(data["X"].shape[0], 3000, replace=False)
    X, y = data["X"][rows].astype(np.float64), data["y"][rows]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    zorb = make_pipeline(StandardScaler(), ZORBClassifier(random_state=0))
    gap = zorb.fit(X_train, y_train).score(X_test, y_test) - linear.fit(X_train, y_train).score(
        X_test, y_test
    )
    assert gap >= -0.02
    assert zorb[-1].coefs_[0].shape[1] == 260
