"""``alpha="auto"``: the penalty chosen on held-out rows (skgf/_alpha_search.py)."""

import threading
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgf import (
    LRAClassifier,
    LRARegressor,
    RSOClassifier,
    RSORegressor,
    SemiImplicitBPClassifier,
    SemiImplicitBPRegressor,
)

from skgf_test_data import (
    ITERATIVE_CLASSIFIERS,
    estimator_id,
    load_shared,
    quiet_fit,
    small_estimator,
)


def _data(Estimator):
    if Estimator in ITERATIVE_CLASSIFIERS:
        X, y = load_breast_cancer(return_X_y=True)
    else:
        X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("Estimator", [RSORegressor, SemiImplicitBPRegressor], ids=estimator_id)
def test_regressors_without_a_search_keep_the_row_rule(Estimator):
    """RSO's and semi-implicit BP's alpha="auto" is the row rule alone: a
    search over 1, 3 and 10 times it was measured and not adopted for them."""
    X, y = _data(Estimator)
    est = quiet_fit(small_estimator(Estimator), X, y)
    assert not hasattr(est, "alphas_")
    rule = min(est._AUTO_ALPHA_ROWS / X.shape[0], est._AUTO_ALPHA_MAX)
    assert est.alpha_ == pytest.approx(rule)


def _lra_rule(rows):
    return min(100 / rows, 0.3)


def _searched_lra_regressor(X, y, multiple, **fit_kwargs):
    """A fitted LRARegressor whose search kept ``multiple`` times the rule
    (the search's choice forced, so that the test does not hang on which
    multiple diabetes prefers)."""
    est = small_estimator(LRARegressor)
    est._AUTO_ALPHA_RULE_MULTIPLES = (multiple,)  # one candidate: the search keeps it
    return quiet_fit(est, X, y, **fit_kwargs)


def test_lra_regressor_searches_multiples_of_the_row_rule_on_small_sets():
    """The candidates are 1, 3 and 10 times the rule for the rows given to
    fit (the weights' sum with sample_weight), from 50 to 2,000 rows."""
    X, y = _data(LRARegressor)
    est = quiet_fit(small_estimator(LRARegressor), X, y)
    rule = _lra_rule(X.shape[0])
    assert rule < 0.3  # diabetes' 442 rows: the rule below its cap
    tried = est.alphas_.shape[0]
    np.testing.assert_allclose(est.alphas_, [rule, 3 * rule, 10 * rule][:tried])
    weighted = quiet_fit(
        small_estimator(LRARegressor), X, y, sample_weight=np.full(X.shape[0], 2.0)
    )
    np.testing.assert_allclose(weighted.alphas_[0], _lra_rule(2 * X.shape[0]))


@pytest.mark.parametrize(
    ("rows", "searched"), [(49, False), (50, True), (2000, True), (2001, False)]
)
def test_lra_regressor_searches_from_50_to_2000_rows(rows, searched):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 3))
    y = X[:, 0] + 0.1 * rng.normal(size=rows)
    est = quiet_fit(small_estimator(LRARegressor, max_iter=1), X, y)
    assert hasattr(est, "alphas_") == searched
    if not searched:
        assert est.alpha_ == pytest.approx(_lra_rule(rows))


def test_lra_regressor_continues_with_the_chosen_multiple_of_the_rule():
    """After a search, partial_fit and a warm_start fit apply the chosen
    multiple to the row rule of the rows seen, as the rule alone does."""
    X, y = _data(LRARegressor)
    est = _searched_lra_regressor(X, y, 3.0)
    assert est.alpha_ == pytest.approx(3 * _lra_rule(X.shape[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.partial_fit(X[:100], y[:100])
    assert est.alpha_ == pytest.approx(3 * _lra_rule(X.shape[0] + 100))
    warm = _searched_lra_regressor(X, y, 10.0)
    warm.set_params(warm_start=True, max_iter=1)
    quiet_fit(warm, X[:200], y[:200])
    assert not hasattr(warm, "alphas_")  # a resumed fit does not search
    assert warm.alpha_ == pytest.approx(10 * _lra_rule(200))
    # a fresh fit forgets the multiple
    warm.set_params(warm_start=False)
    quiet_fit(warm, X[:40], y[:40])  # fewer than 50 rows: no search
    assert warm.alpha_ == pytest.approx(_lra_rule(40))


def _output(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


@pytest.mark.parametrize("Estimator", [*ITERATIVE_CLASSIFIERS, LRARegressor], ids=estimator_id)
def test_search_keeps_the_lowest_held_out_loss_and_refits_with_it(Estimator):
    X, y = _data(Estimator)
    auto = quiet_fit(small_estimator(Estimator), X, y)
    losses = auto.alpha_validation_losses_
    assert auto.alphas_.shape == losses.shape and losses.shape[0] in (2, 3)
    assert np.all(np.isfinite(losses))
    # from the weakest penalty up, stopping once the held-out loss rises
    assert np.all(np.diff(losses)[:-1] <= 0)
    if losses.shape[0] == 2:
        assert losses[1] > losses[0]
    # the weakest candidate within tol of the lowest loss
    within = np.flatnonzero(losses <= losses.min() + auto.tol)
    assert auto.alpha_ == auto.alphas_[within[0]]
    # the final model is the fit of every row with the chosen penalty, from
    # the weights a fit without the search starts from
    fixed = quiet_fit(small_estimator(Estimator, alpha=auto.alpha_), X, y)
    np.testing.assert_allclose(_output(auto, X), _output(fixed, X), rtol=1e-10, atol=1e-12)
    assert not hasattr(fixed, "alphas_") and fixed.alpha_ == auto.alpha_


def test_classifier_candidates_start_from_the_earlier_constant_default():
    # the first candidate is the penalty of fits without a search
    assert LRAClassifier._AUTO_ALPHA_CANDIDATES[0] == 1e-4
    assert SemiImplicitBPClassifier._AUTO_ALPHA_CANDIDATES[0] == 0.03
    assert RSOClassifier._AUTO_ALPHA_CANDIDATES[0] == 3.0
    X, y = _data(LRAClassifier)
    est = quiet_fit(small_estimator(LRAClassifier), X, y)
    tried = LRAClassifier._AUTO_ALPHA_CANDIDATES[: est.alphas_.shape[0]]
    np.testing.assert_array_equal(est.alphas_, tried)


@pytest.mark.parametrize("Estimator", ITERATIVE_CLASSIFIERS, ids=estimator_id)
def test_no_search_outside_a_fresh_fit(Estimator):
    X, y = _data(Estimator)
    first = Estimator._AUTO_ALPHA_CANDIDATES[0]
    # an explicit penalty
    est = quiet_fit(small_estimator(Estimator, alpha=0.5), X, y)
    assert est.alpha_ == 0.5 and not hasattr(est, "alphas_")
    # partial_fit cannot hold rows out: the first candidate
    kwargs = {"classes": np.unique(y)} if Estimator in ITERATIVE_CLASSIFIERS else {}
    stream = small_estimator(Estimator)
    stream.partial_fit(X, y, **kwargs)
    assert stream.alpha_ == pytest.approx(first) and not hasattr(stream, "alphas_")
    # too few rows to hold any out
    small = quiet_fit(small_estimator(Estimator), X[:40], y[:40])
    assert not hasattr(small, "alphas_")
    # a warm start keeps the penalty it resumes with
    warm = quiet_fit(small_estimator(Estimator, warm_start=True), X, y)
    chosen = warm.alpha_
    quiet_fit(warm, X, y)
    assert warm.alpha_ == chosen and not hasattr(warm, "alphas_")  # no search ran
    quiet_fit(warm.set_params(alpha=0.5), X, y)
    quiet_fit(warm.set_params(alpha="auto"), X, y)
    assert warm.alpha_ == 0.5  # the penalty it resumed with
    # a fresh fit searches again
    quiet_fit(warm.set_params(warm_start=False), X, y)
    assert warm.alpha_ == chosen and hasattr(warm, "alpha_validation_losses_")


def test_search_scores_on_the_callers_validation_set():
    X, y = _data(LRAClassifier)
    X_fit, X_val, y_fit, y_val = train_test_split(X, y, test_size=0.3, random_state=0)
    est = quiet_fit(small_estimator(LRAClassifier), X_fit, y_fit, X_val=X_val, y_val=y_val)
    losses = []
    for alpha in est.alphas_:
        fixed = quiet_fit(
            small_estimator(LRAClassifier, alpha=alpha), X_fit, y_fit, X_val=X_val, y_val=y_val
        )
        losses.append(-np.mean(np.log(fixed.predict_proba(X_val)[np.arange(len(y_val)), y_val])))
    np.testing.assert_allclose(est.alpha_validation_losses_, losses, rtol=1e-6)


def test_verbose_names_the_candidates(capsys):
    X, y = _data(LRAClassifier)
    quiet_fit(small_estimator(LRAClassifier, verbose=True), X, y)
    out = capsys.readouterr().out
    assert "alpha='auto', held-out loss alpha=0.0001:" in out
    # the candidates' own iterations are not printed: one fit's worth
    assert out.count("iteration 1,") == 1


def test_interrupt_during_the_search_leaves_the_estimator_unfitted(monkeypatch):
    X, y = _data(LRAClassifier)
    est = small_estimator(LRAClassifier)
    run = type(est)._run_iteration
    calls = []

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == 20:  # in the second candidate's fit (15 iterations each)
            raise KeyboardInterrupt
        return run(self, *args)

    monkeypatch.setattr(type(est), "_run_iteration", interrupted)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    assert not hasattr(est, "coefs_") and not hasattr(est, "alpha_")
    assert not est._searching_alpha


def test_only_the_final_fit_warns():
    """The candidates of a search that all stop at max_iter say nothing;
    the final fit warns once, as a fit with the chosen alpha does."""
    X, y = _data(LRAClassifier)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        auto = small_estimator(LRAClassifier, max_iter=2).fit(X, y)
    assert auto.alphas_.shape[0] >= 2  # candidates were fitted
    with warnings.catch_warnings(record=True) as fixed:
        warnings.simplefilter("always")
        small_estimator(LRAClassifier, max_iter=2, alpha=auto.alpha_).fit(X, y)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert len(messages) == 1
    assert messages == [str(w.message) for w in fixed if w.category is ConvergenceWarning]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_search_leaves_the_warning_filters_of_other_threads_alone():
    """A fit searching its penalty in one thread (GridSearchCV's threading
    backend) must not change the process-wide warning filters under another
    thread: ``catch_warnings`` would, and could leave them changed for good
    when two threads' blocks interleave."""
    X, y = _data(LRAClassifier)
    in_search, checked = threading.Event(), threading.Event()

    class Paused(LRAClassifier):
        def _train(self, *args, **kwargs):
            if self._searching_alpha and not in_search.is_set():
                in_search.set()  # a candidate's fit is about to run
                checked.wait(timeout=60)
            return super()._train(*args, **kwargs)

    filters = list(warnings.filters)
    est = Paused(**small_estimator(LRAClassifier).get_params())
    worker = threading.Thread(target=est.fit, args=(X, y))  # no catch_warnings here
    worker.start()
    try:
        assert in_search.wait(timeout=60)
        during = list(warnings.filters)
    finally:
        checked.set()
        worker.join()
    assert during == filters
    assert list(warnings.filters) == filters
    assert hasattr(est, "alphas_")


@pytest.mark.parametrize("Estimator", ITERATIVE_CLASSIFIERS, ids=estimator_id)
def test_adult_default_within_two_points_of_logistic_regression(Estimator):
    """Issue 11's largest group: adult's 89 mostly one-hot columns on 2,250
    training rows (the defaults benchmark's subsample and first split),
    where every constant default of the iterative classifiers fell 0.025 to
    0.047 below LogisticRegression."""
    data = load_shared("adult")
    X, y = data["X"].astype(np.float64), data["y"]
    rows = np.random.default_rng(0).choice(X.shape[0], 3000, replace=False)
    X_train, X_test, y_train, y_test = train_test_split(
        X[rows], y[rows], test_size=0.25, random_state=0, stratify=y[rows]
    )
    linear = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    linear_score = linear.fit(X_train, y_train).score(X_test, y_test)
    model = make_pipeline(StandardScaler(), Estimator(random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        score = model.fit(X_train, y_train).score(X_test, y_test)
    assert score >= linear_score - 0.02, (score, linear_score, model[-1].alpha_)
