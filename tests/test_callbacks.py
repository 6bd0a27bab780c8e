"""scikit-learn's callback API, Ctrl-C and the user's validation set.

The callbacks (``sklearn.callback``, scikit-learn >= 1.9): every estimator
reports one task per iteration (epochs, RSO's passes) or per layer solve
(ZORB, with its row chunks), alone, in a ``Pipeline`` and in
``GridSearchCV(n_jobs=2)``; the model a callback gets at the end of an
iteration predicts as the fit stood then; a callback can stop the fit.

Ctrl-C: an interrupted iterative fit keeps its last completed iteration and
warns; one interrupted before completing any re-raises and leaves the
estimator as it was (``test_robustness.py`` checks that part in detail).
"""

import warnings
from collections import Counter

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks

from skgf import (
    LRAClassifier,
    RSOClassifier,
    SemiImplicitBPRegressor,
    ZORBClassifier,
    ZORBRegressor,
)

from skgf_test_data import ALL_ESTIMATORS, ITERATIVE, estimator_id, small_estimator

callback = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9: no callbacks")


class Recorder:
    """A callback that records its hooks, and what the model at the end of
    each task predicts."""

    def __init__(self, X_probe=None, interrupt_at=None, stop_at=None, task="epoch"):
        self.X_probe, self.interrupt_at, self.stop_at, self.task = (
            X_probe,
            interrupt_at,
            stop_at,
            task,
        )
        self.events, self.predictions = [], []

    def setup(self, estimator, context):
        self.events.append("setup")

    def on_fit_task_begin(self, estimator, context):
        self.events.append(f"begin {context.task_name}")
        n_done = self.events.count(f"end {self.task}")
        if context.task_name == self.task and n_done + 1 == self.interrupt_at:
            raise KeyboardInterrupt

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.events.append(f"end {context.task_name}")
        if context.task_name == self.task and fitted_estimator is not None:
            if self.X_probe is not None:
                self.predictions.append(_output(fitted_estimator, self.X_probe))
            return self.events.count(f"end {self.task}") == self.stop_at
        return False

    def teardown(self, estimator, context):
        self.events.append("teardown")


def _output(est, X):
    return est.predict_proba(X) if is_classifier(est) else est.predict(X)


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _data(Estimator, cancer):
    X, y = cancer
    return (X, y) if is_classifier(Estimator()) else (X, X[:, 0] + X[:, 1] ** 2)


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_hooks_fire_once_per_iteration_or_layer(Estimator, cancer):
    X, y = _data(Estimator, cancer)
    recorder = Recorder()
    est = small_estimator(Estimator, hidden_layer_sizes=(8, 5)).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    counts = Counter(recorder.events)
    assert recorder.events[:2] == ["setup", "begin fit"]
    assert recorder.events[-2:] == ["end fit", "teardown"]
    if Estimator in ITERATIVE:
        name = "pass" if "RSO" in Estimator.__name__ else "epoch"
        assert counts[f"begin {name}"] == counts[f"end {name}"] == est.n_iter_ > 0
    else:
        assert counts["begin layer"] == counts["end layer"] == len(est.coefs_) == 3
        assert counts["begin rows"] == counts["end rows"] >= 3  # a chunk per layer at least


@pytest.mark.parametrize("Estimator", ITERATIVE, ids=estimator_id)
def test_partial_fit_reports_one_iteration(Estimator, cancer):
    X, y = _data(Estimator, cancer)
    recorder = Recorder()
    est = small_estimator(Estimator).set_callbacks(recorder)
    kwargs = {"classes": np.unique(y)} if is_classifier(est) else {}
    est.partial_fit(X, y, **kwargs)
    est.partial_fit(X, y)
    name = "pass" if "RSO" in Estimator.__name__ else "epoch"
    assert Counter(recorder.events)[f"end {name}"] == 2
    assert recorder.events.count("setup") == recorder.events.count("teardown") == 2


@pytest.mark.parametrize("Estimator", ITERATIVE, ids=estimator_id)
def test_fitted_estimator_of_each_iteration_predicts_as_the_fit_then_stood(Estimator, cancer):
    """The model a callback receives at the end of iteration k is the model
    that ``max_iter=k`` with ``warm_start`` steps reaches (same seed: the
    same mini-batches)."""
    X, y = _data(Estimator, cancer)
    recorder = Recorder(X_probe=X[:20], task="pass" if "RSO" in Estimator.__name__ else "epoch")
    est = small_estimator(Estimator, max_iter=3, tol=0.0).set_callbacks(recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert len(recorder.predictions) == est.n_iter_ == 3
    np.testing.assert_allclose(recorder.predictions[-1], _output(est, X[:20]))
    assert not np.allclose(recorder.predictions[0], recorder.predictions[-1])


def test_scoring_monitor_gives_one_score_per_epoch(cancer):
    X, y = cancer
    monitor = callback.ScoringMonitor(scoring="accuracy")
    recorder = Recorder(X_probe=X)
    est = LRAClassifier(hidden_layer_sizes=(8,), max_iter=5, tol=0.0, random_state=0)
    est.set_callbacks(monitor, recorder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    assert len(rows) == est.n_iter_ == 5
    classes = est.classes_
    for row, proba in zip(rows, recorder.predictions):
        recomputed = np.mean(classes[np.argmax(proba, axis=1)] == y)
        assert row["accuracy"] == pytest.approx(recomputed)


def test_a_callback_can_stop_the_fit(cancer):
    X, y = cancer
    est = LRAClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    est.set_callbacks(Recorder(stop_at=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a requested stop is no failure
        est.fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_) == 4


def test_minimal_change_sweeps_report_and_stop(cancer):
    X, y = cancer
    recorder = Recorder(X_probe=X[:10], task="sweep", stop_at=2)
    est = ZORBClassifier(hidden_layer_sizes=(10,), target_rule="minimal_change", n_sweeps=5)
    est.set_callbacks(recorder).fit(X, y)
    assert est.n_iter_ == 2
    assert Counter(recorder.events)["end layer"] == 4
    np.testing.assert_allclose(recorder.predictions[-1], est.predict_proba(X[:10]))


@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_progress_bar_in_pipeline_and_grid_search(Estimator, cancer):
    pytest.importorskip("rich")
    X, y = _data(Estimator, cancer)
    pipe = make_pipeline(StandardScaler(), small_estimator(Estimator))
    pipe.set_callbacks(callback.ProgressBar())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
        search = GridSearchCV(
            small_estimator(Estimator), {"hidden_layer_sizes": [(4,), (8,)]}, cv=2, n_jobs=2
        )
        search.set_callbacks(callback.ProgressBar()).fit(X, y)
    assert search.best_estimator_.n_layers_ == 3


# checks that fit, refit, clone and pickle estimators: with a callback set
# (kept by clone, pickled with the estimator) they still pass
_CHECKS_WITH_CALLBACKS = (
    "check_fit_idempotent",
    "check_estimators_pickle",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_methods_subset_invariance",
)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("check_name", _CHECKS_WITH_CALLBACKS)
@pytest.mark.parametrize("Estimator", ALL_ESTIMATORS, ids=estimator_id)
def test_estimator_checks_with_callbacks_set(Estimator, check_name):
    est = small_estimator(Estimator).set_callbacks(Recorder())
    getattr(estimator_checks, check_name)(Estimator.__name__, est)


# ------------------------------------------------------------------ Ctrl-C
@pytest.mark.parametrize("Estimator", ITERATIVE, ids=estimator_id)
def test_interrupted_fit_keeps_the_last_completed_iteration(Estimator, cancer):
    X, y = _data(Estimator, cancer)
    task = "pass" if "RSO" in Estimator.__name__ else "epoch"
    recorder = Recorder(X_probe=X[:20], interrupt_at=3, task=task)
    est = small_estimator(Estimator, max_iter=6, tol=0.0).set_callbacks(recorder)
    with pytest.warns(ConvergenceWarning, match=r"interrupted .* iteration 3 .*n_iter_=2"):
        est.fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_) == 2
    np.testing.assert_allclose(_output(est, X[:20]), recorder.predictions[-1])


@pytest.mark.parametrize("Estimator", ITERATIVE, ids=estimator_id)
def test_interrupted_warm_start_keeps_earlier_epochs(Estimator, cancer):
    X, y = _data(Estimator, cancer)
    task = "pass" if "RSO" in Estimator.__name__ else "epoch"
    est = small_estimator(Estimator, max_iter=2, tol=0.0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    recorder = Recorder(X_probe=X[:20], interrupt_at=2, task=task)
    est.set_callbacks(recorder)
    with pytest.warns(ConvergenceWarning, match="interrupted"):
        est.fit(X, y)  # its first epoch completes, the second is interrupted
    assert est.n_iter_ == 1 and len(est.loss_curve_) == 3
    np.testing.assert_allclose(_output(est, X[:20]), recorder.predictions[-1])


def test_interrupt_before_any_iteration_re_raises(cancer):
    X, y = cancer
    est = LRAClassifier(hidden_layer_sizes=(8,), max_iter=5)
    est.set_callbacks(Recorder(interrupt_at=1))
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")
    assert not hasattr(est, "_callback_fit_ctx")  # the callbacks were torn down


def test_interrupted_fit_with_early_stopping_keeps_best_validation_weights(cancer):
    X, y = cancer
    recorder = Recorder(interrupt_at=4)
    est = LRAClassifier(hidden_layer_sizes=(8,), max_iter=10, early_stopping=True, random_state=0)
    with pytest.warns(ConvergenceWarning, match="best validation score"):
        est.set_callbacks(recorder).fit(X, y)
    assert est.n_iter_ == len(est.validation_scores_) == 3
    assert est.best_validation_score_ == max(est.validation_scores_)


@pytest.mark.parametrize("interrupt_at, completed", [(4, 3), (1, 0)])
def test_interrupt_while_scoring_undoes_only_that_iteration(
    interrupt_at, completed, cancer, monkeypatch
):
    # Ctrl-C during the validation pass of epoch 4: epochs 1-3 are kept
    # (the fit was once lost whole); during the first one's it propagates
    X, y = cancer
    # a fixed alpha: the alpha="auto" search would score its candidates too
    est = LRAClassifier(
        hidden_layer_sizes=(8,), max_iter=10, early_stopping=True, alpha=1e-4, random_state=0
    )
    calls = []
    score = type(est)._validation_score_and_loss

    def interrupted(self, *args):
        calls.append(1)
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return score(self, *args)

    monkeypatch.setattr(type(est), "_validation_score_and_loss", interrupted)
    if not completed:
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
        assert not hasattr(est, "coefs_")
        return
    try:
        with pytest.warns(ConvergenceWarning, match="interrupted"):
            est.fit(X, y)
    except KeyboardInterrupt:  # (pytest would take it for the user's Ctrl-C)
        pytest.fail("the interrupt propagated: the completed epochs were lost")
    assert est.n_iter_ == len(est.loss_curve_) == len(est.validation_scores_) == completed
    assert est.best_validation_score_ == max(est.validation_scores_)


# ------------------------------------------------------- user's validation set
@pytest.mark.parametrize("Estimator", ITERATIVE, ids=estimator_id)
def test_user_validation_set_is_scored_every_iteration(Estimator, cancer):
    X, y = _data(Estimator, cancer)
    X_tr, X_val, y_tr, y_val = train_test_split(X, y, random_state=0)
    recorder = Recorder(X_probe=X_val, task="pass" if "RSO" in Estimator.__name__ else "epoch")
    est = small_estimator(Estimator, early_stopping=True, max_iter=4, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_callbacks(recorder).fit(X_tr, y_tr, X_val=X_val, y_val=y_val)
    assert len(est.validation_scores_) == est.n_iter_ == len(recorder.predictions)
    for score, output in zip(est.validation_scores_, recorder.predictions):
        if is_classifier(est):
            expected = np.mean(est.classes_[np.argmax(output, axis=1)] == y_val)
        else:
            expected = 1 - np.sum((y_val - output) ** 2) / np.sum((y_val - y_val.mean()) ** 2)
        assert score == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_user_validation_set_trains_on_every_row(cancer):
    """No hidden split: with ``X_val`` the first epoch sees all the rows, as
    a fit without early stopping does."""
    X, y = cancer
    # a fixed alpha (alpha="auto" would choose it on other rows in each fit)
    params = dict(hidden_layer_sizes=(8,), max_iter=1, alpha=1e-4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = LRAClassifier(**params).fit(X, y)
        held = LRAClassifier(early_stopping=True, **params).fit(X, y, X_val=X[:50], y_val=y[:50])
    np.testing.assert_allclose(held.coefs_[0], plain.coefs_[0])


def test_user_validation_set_is_weighted(cancer):
    X, y = cancer
    est = clone(SemiImplicitBPRegressor(max_iter=2, early_stopping=True, random_state=0))
    target = X[:, 0]
    w_val = np.r_[np.ones(50), np.zeros(50)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, target, X_val=X[:100], y_val=target[:100], sample_weight_val=w_val)
    alone = est.score(X[:50], target[:50])
    assert est.validation_scores_[-1] == pytest.approx(alone, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(X_val="x"), "together"),
        (dict(sample_weight_val=np.ones(3)), "without X_val"),
    ],
)
def test_validation_arguments_are_checked(kwargs, match, cancer):
    X, y = cancer
    est = LRAClassifier(max_iter=1, early_stopping=True)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y, **kwargs)


def test_validation_set_needs_early_stopping(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="early_stopping is False"):
        LRAClassifier(max_iter=1, early_stopping=False).fit(X, y, X_val=X[:10], y_val=y[:10])


def test_auto_early_stopping_follows_the_rows_and_a_validation_set(cancer):
    # as HistGradientBoosting's "auto": on above 10,000 rows or with X_val,
    # off on fewer rows and for partial_fit
    X, y = cancer
    est = LRAClassifier(max_iter=2)
    assert est.early_stopping == "auto"
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert not est.do_early_stopping_ and not hasattr(est, "validation_scores_")
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y, X_val=X[:50], y_val=y[:50])
    assert est.do_early_stopping_ and len(est.validation_scores_) == est.n_iter_
    est.partial_fit(X, y)
    assert not est.do_early_stopping_
    # partial_fit runs one iteration on a chunk: it never holds rows out
    est = LRAClassifier(max_iter=2, early_stopping=True).partial_fit(X, y, classes=[0, 1])
    assert not est.do_early_stopping_ and not hasattr(est, "validation_scores_")
    # RSO keeps early stopping off by default (its few passes rarely stop early)
    assert RSOClassifier().early_stopping is False
    big = np.tile(X, (18, 1))[:10001], np.tile(y, 18)[:10001]
    with pytest.warns(ConvergenceWarning):
        est = LRAClassifier(hidden_layer_sizes=(8,), max_iter=1).fit(*big)
    assert est.do_early_stopping_ and len(est.validation_scores_) == 1
    with pytest.warns(ConvergenceWarning):
        est.fit(big[0][:10000], big[1][:10000])  # a refit forgets the old scores
    assert not est.do_early_stopping_ and not hasattr(est, "validation_scores_")


def test_validation_set_with_unseen_labels_or_width_is_refused(cancer):
    X, y = cancer
    est = LRAClassifier(max_iter=1, early_stopping=True)
    with pytest.raises(ValueError, match="y_val contains labels"):
        est.fit(X, y, X_val=X[:10], y_val=np.full(10, 7))
    with pytest.raises(ValueError, match="features"):
        est.fit(X, y, X_val=X[:10, :5], y_val=y[:10])


def test_zorb_has_no_callback_surprises_on_dask():
    """A dask fit runs without the hooks (documented); callbacks set do not break it."""
    da = pytest.importorskip("dask.array")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = X[:, 0]
    recorder = Recorder()
    est = ZORBRegressor(hidden_layer_sizes=(6,)).set_callbacks(recorder)
    est.fit(da.from_array(X, chunks=50), da.from_array(y, chunks=50))
    assert est.predict(X[:3]).shape == (3,)


def test_warm_start_holds_out_the_same_rows(cancer, monkeypatch):
    # the first held-out split's draws are kept: a warm start (here without a
    # random_state) scores the same rows again instead of training on them
    X, y = cancer
    held_out = []
    original = LRAClassifier._validation_split

    def spy(self, xp, X, Y, rng, sample_weight=None, fraction=None):
        parts = original(self, xp, X, Y, rng, sample_weight, fraction)
        held_out.append(np.asarray(parts[2]))
        return parts

    monkeypatch.setattr(LRAClassifier, "_validation_split", spy)
    est = LRAClassifier(
        max_iter=2, early_stopping=True, warm_start=True, alpha=1e-4, random_state=None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
        est.fit(X, y)
        est.set_params(warm_start=False).fit(X, y)  # a fresh fit draws a new split
    np.testing.assert_array_equal(held_out[0], held_out[1])
    assert not np.array_equal(held_out[0], held_out[2])
    assert len(est.validation_scores_) == est.n_iter_
