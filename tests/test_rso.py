"""RSO estimators: the incremental evaluation, accuracy on real data,
dispatch, scikit-learn compatibility and plumbing."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_friedman1,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgf._array_api import numpy_namespace, to_numpy
from skgf._network import Network, init_weights
from skgf._rso import RSOClassifier, RSORegressor
from skgf._rso_rule import RandomSearchPass, annealing_factor

from _rso_reference import CheckedRandomSearch, NaiveRandomSearch, make_pass
from skgf_test_data import scaled_split as _split

# The scikit-learn estimator checks, with RSO's expected failures, are in
# test_common.py.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ------------------------------------------------------ incremental evaluation
def _problem(dtype, classification, hidden, n=48, d=5, seed=0):
    """Small problem with sparse inputs (so both the dense and the
    restricted-rows evaluations are used) and initial weights."""
    rng = np.random.RandomState(seed)
    X = (rng.randn(n, d) * (rng.rand(n, d) < 0.4)).astype(dtype)
    if classification:
        Y = np.eye(3, dtype=dtype)[rng.randint(0, 3, n)]
    else:
        Y = rng.randn(n, 2).astype(dtype)
    xp = numpy_namespace()
    coefs, intercepts = init_weights(
        [d, *hidden, Y.shape[1]], np.random.RandomState(1), "he_normal", xp, "cpu", dtype
    )
    return xp, X, Y, coefs, intercepts


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-5)])
@pytest.mark.parametrize("classification", [True, False])
@pytest.mark.parametrize(
    "hidden, activation", [((), "relu"), ((7,), "relu"), ((6, 5), "tanh"), ((5, 4, 3), "relu")]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_incremental_loss_matches_full_forward(
    dtype, rtol, classification, hidden, activation, weighted
):
    """After every block of proposals, the incrementally maintained batch
    loss equals the loss of a full forward pass with the updated weights."""
    xp, X, Y, coefs, intercepts = _problem(dtype, classification, hidden)
    w = np.random.RandomState(5).rand(X.shape[0]).astype(dtype) * 2 if weighted else None
    rule = CheckedRandomSearch(rtol=rtol, **make_pass(classification, batch_refresh=15))
    network = Network(coefs, intercepts, activation)
    n_accepted = 0
    for seed, batch_size in [(0, 20), (1, 48), (2, 48)]:  # mini-batches, whole set
        tally = rule.search(
            network, X, Y, w, np.random.RandomState(seed), batch_size, [0.5] * len(coefs)
        )
        n_accepted += tally.n_accepted
    assert rule.n_checked >= 3 * sum(W.shape[1] for W in coefs)  # a block per unit and pass
    assert n_accepted > 20
    assert all(W.dtype == dtype for W in coefs)


@pytest.mark.parametrize("classification", [True, False])
@pytest.mark.parametrize("hidden", [(7,), (6, 5)])
@pytest.mark.parametrize(
    "visiting_order, weighted", [("unit", False), ("random", False), ("unit", True)]
)
def test_incremental_decisions_match_naive(classification, hidden, visiting_order, weighted):
    """The estimators' evaluation (incremental, speculative, restricted to
    the rows a step touches, skipping inputs that are zero on the batch)
    takes exactly the decisions of the naive loop that runs a full forward
    pass per candidate."""
    weights, accepted = [], []
    w = np.random.RandomState(5).rand(60) * 2 if weighted else None
    params = make_pass(classification, visiting_order=visiting_order)
    for rule in (RandomSearchPass(**params), NaiveRandomSearch(**params)):
        xp, X, Y, coefs, intercepts = _problem(np.float64, classification, hidden, n=60)
        network = Network(coefs, intercepts, "relu")
        for seed in range(2):
            tally = rule.search(
                network, X, Y, w, np.random.RandomState(seed), 25, [0.3] * len(coefs)
            )
            accepted.append(tally.n_accepted)
        weights.append(coefs + intercepts)
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
    assert accepted[:2] == accepted[2:] and min(accepted) > 0


def test_pass_visits_every_weight_once():
    xp, X, Y, coefs, intercepts = _problem(np.float64, True, (7,))
    rule = RandomSearchPass(**make_pass(True, batch_refresh=200))
    network = Network(coefs, intercepts, "relu")
    tally = rule.search(network, X, Y, None, np.random.RandomState(0), 20, [0.3, 0.3])
    assert tally.n_proposals == sum(W.shape[0] * W.shape[1] + W.shape[1] for W in coefs)
    assert 0 < tally.n_accepted < tally.n_evaluated <= tally.n_proposals
    assert len(tally.block_losses) >= coefs[0].shape[1] + coefs[1].shape[1]


def test_annealing_schedule():
    assert annealing_factor(1.0, 0.1, "linear", 0, 10) == 1.0
    assert annealing_factor(1.0, 0.1, "linear", 9, 10) == pytest.approx(0.1)
    assert annealing_factor(1.0, 0.1, "linear", 25, 10) == pytest.approx(0.1)
    assert annealing_factor(2.0, 0.1, "constant", 5, 10) == 2.0


@pytest.mark.parametrize("Estimator", [RSOClassifier, RSORegressor])
def test_auto_batch_size_grows_on_large_sets(Estimator):
    auto = Estimator()._batch_size
    assert [auto(n) for n in (50, 1000, 40_000, 54_000, 60_000, 10**6)] == [
        50,
        1000,
        1000,
        1350,
        1500,
        2000,
    ]
    assert Estimator(batch_size=3000)._batch_size(60_000) == 3000
    assert Estimator(batch_size=3000)._batch_size(500) == 500


# ------------------------------------------------------------------ accuracy
def test_digits_floor():
    """The issue asks >= 0.95 on this split. Defaults measure 0.978 (seed 0,
    see the benchmark); this smaller, faster network measures 0.982."""
    X_train, X_test, y_train, y_test = _split(*load_digits(return_X_y=True))
    clf = RSOClassifier(hidden_layer_sizes=(64,), max_iter=5, random_state=0)
    clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.95
    assert len(clf.loss_curve_) == len(clf.acceptance_rates_) == clf.n_iter_ == 5
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert all(0 < r < 1 for r in clf.acceptance_rates_)


@pytest.mark.parametrize("loader, floor", [(load_breast_cancer, 0.94), (load_wine, 0.95)])
def test_small_classification_sets(loader, floor):
    X_train, X_test, y_train, y_test = _split(*loader(return_X_y=True))
    clf = RSOClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= floor


def test_friedman_floor():
    """Defaults: measured R^2 0.91 (seed 0); the issue asks >= 0.85."""
    X_train, X_test, y_train, y_test = _split(
        *make_friedman1(n_samples=5000, noise=1.0, random_state=0)
    )
    reg = RSORegressor(random_state=0).fit(X_train, y_train)
    assert reg.score(X_test, y_test) >= 0.85


def test_diabetes_with_early_stopping():
    """Diabetes (331 training rows) is overfitted by 10 unregularised passes
    (R^2 ~0.09 with defaults); early stopping keeps it near ridge (0.36):
    measured 0.287."""
    X_train, X_test, y_train, y_test = _split(*load_diabetes(return_X_y=True))
    reg = RSORegressor(early_stopping=True, random_state=0).fit(X_train, y_train)
    assert reg.score(X_test, y_test) >= 0.25
    assert len(reg.validation_scores_) == reg.n_iter_


@pytest.mark.parametrize(
    "params",
    [
        dict(batch_refresh=1),
        dict(batch_refresh="unit"),
        dict(visiting_order="random"),
        dict(layer_order="forward"),
        dict(perturbation_reference="initial"),
        dict(annealing="constant"),
        dict(weight_init="glorot_normal"),
        dict(activation="tanh", hidden_layer_sizes=(8, 6)),
        dict(activation="logistic"),
        dict(activation="identity"),
        dict(hidden_layer_sizes=()),
    ],
)
def test_options_learn(params):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    kw = dict(hidden_layer_sizes=(16,), max_iter=4, batch_size=50, random_state=0)
    clf = RSOClassifier(**{**kw, **params}).fit(X, y)
    assert clf.score(X, y) >= 0.8
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


# ------------------------------------------------------------------ dispatch
@pytest.mark.parametrize(
    "device_name, dtype_name", [("CPU_DEVICE", "float64"), ("device1", "float32")]
)
@pytest.mark.parametrize("Estimator", [RSOClassifier, RSORegressor])
def test_array_api_strict_matches_numpy(Estimator, device_name, dtype_name):
    xps = pytest.importorskip("array_api_strict")
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)[::2].astype(dtype_name)
    if Estimator is RSORegressor:
        y = X[:, 0] * 2.0 - X[:, 1]
        X = X[:, 1:]
    else:
        y = y[::2]
    params = dict(hidden_layer_sizes=(6,), max_iter=2, batch_size=30, random_state=0)
    ref = Estimator(**params).fit(X, y)
    device = xps.Device(device_name)
    X_xp = xps.asarray(X, device=device)
    y_xp = xps.asarray(y, device=device) if Estimator is RSORegressor else y
    with sklearn.config_context(array_api_dispatch=True):
        est = Estimator(**params).fit(X_xp, y_xp)
        pred = est.predict(X_xp)
        assert est.coefs_[0].device == device
        assert est.coefs_[0].dtype == getattr(xps, dtype_name)
        if Estimator is RSOClassifier:
            proba = est.predict_proba(X_xp)
            assert proba.device == device and proba.dtype == getattr(xps, dtype_name)
            np.testing.assert_allclose(to_numpy(proba), ref.predict_proba(X), rtol=1e-4, atol=1e-5)
    assert pred.device == device
    np.testing.assert_allclose(to_numpy(pred), ref.predict(X), rtol=1e-4, atol=1e-4)
    assert est.acceptance_rates_ == pytest.approx(ref.acceptance_rates_, abs=0.02)


@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_numpy_sparse_path_matches_generic_path_to_the_bit(dtype_name):
    """NumPy fits keep cached row losses and write accepted sparse steps on
    their rows only; the generic path (array_api_strict) recomputes both.
    Same decisions, same sums: equal weights and loss curves, also with
    features nonzero on one row (whose one-row sums NumPy orders
    differently) and ten classes."""
    xps = pytest.importorskip("array_api_strict")
    rng = np.random.RandomState(0)
    n, d = 240, 40
    X = np.where(rng.uniform(size=(n, d)) < 0.15, rng.uniform(0.2, 1.0, (n, d)), 0.0)
    for j in range(0, d, 4):
        X[:, j] = 0.0
        X[rng.randint(n), j] = 1.0
    X, y = X.astype(dtype_name), np.arange(n) % 10
    params = dict(hidden_layer_sizes=(12,), max_iter=2, batch_size=60, random_state=0)
    ref = RSOClassifier(**params).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = RSOClassifier(**params).fit(xps.asarray(X), y)
    for a, b in zip(est.coefs_ + est.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_array_equal(to_numpy(a), b)
    assert est.loss_curve_ == ref.loss_curve_


def test_sample_weights():
    """A class weighted up is predicted more often; zero weights are
    allowed; the regressor takes weights too."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    plain = RSOClassifier(**params).fit(X, y)
    heavy = RSOClassifier(**params).fit(X, y, sample_weight=np.where(y == 1, 20.0, 1.0))
    assert np.sum(heavy.predict(X) == 1) > np.sum(plain.predict(X) == 1)
    w = np.ones(150)
    w[::3] = 0.0
    assert RSOClassifier(**params).fit(X, y, sample_weight=w).score(X, y) > 0.8
    reg = RSORegressor(**params).fit(X[:, 1:], X[:, 0], sample_weight=np.arange(150.0))
    assert reg.score(X[:, 1:], X[:, 0]) > 0.5


def test_float32_stays_float32():
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    clf = RSOClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X, y)
    assert all(W.dtype == np.float32 for W in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X).dtype == np.float32
    reg = RSORegressor(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X, X[:, 0])
    assert reg.predict(X).dtype == np.float32


# ------------------------------------------------------------------ plumbing
def test_determinism_and_seed_dependence():
    X, y = load_iris(return_X_y=True)

    def fit(seed):
        return RSOClassifier(
            hidden_layer_sizes=(8,),
            max_iter=2,  # noqa: E731
            random_state=seed,
        ).fit(X, y)

    a, b, c = fit(0), fit(0), fit(1)
    for Wa, Wb in zip(a.coefs_, b.coefs_):
        np.testing.assert_array_equal(Wa, Wb)
    assert a.loss_curve_ == b.loss_curve_ and a.acceptance_rates_ == b.acceptance_rates_
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


def test_pickle_round_trip_and_warm_start():
    X, y = load_iris(return_X_y=True)
    clf = RSOClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0).fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))
    clone.set_params(warm_start=True, max_iter=1)
    clone.fit(X, y)
    assert clone.n_iter_ == 1 and len(clone.acceptance_rates_) == 3


def test_partial_fit_runs_one_pass_each():
    X, y = load_iris(return_X_y=True)
    clf = RSOClassifier(hidden_layer_sizes=(8,), random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
    assert clf.n_iter_ == 1 and len(clf.acceptance_rates_) == 3
    reg = RSORegressor(hidden_layer_sizes=(8,), random_state=0)
    reg.partial_fit(X[:, 1:], X[:, 0]).partial_fit(X[:, 1:], X[:, 0])
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 2


def test_pipeline_and_grid_search():
    X, y = load_wine(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(), RSOClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    )
    grid = GridSearchCV(pipe, {"rsoclassifier__perturbation_scale": [0.5, 1.0]}, cv=2, n_jobs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert grid.best_score_ > 0.8


def test_verbose_prints_passes(capsys):
    X, y = load_iris(return_X_y=True)
    RSOClassifier(hidden_layer_sizes=(4,), max_iter=2, verbose=True, random_state=0).fit(X, y)
    assert "iteration 2" in capsys.readouterr().out


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("Estimator", [RSOClassifier, RSORegressor])
def test_bad_input_raises_without_touching_arrays(Estimator):
    X, y = load_iris(return_X_y=True)
    y = y.astype(float)
    X_copy, y_copy = X.copy(), y.copy()
    est = Estimator(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(X_nan, y)
    with pytest.raises(ValueError, match="2D"):
        est.fit(X[:, 0], y)
    est.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)


@pytest.mark.parametrize(
    "params",
    [
        dict(visiting_order="sequential"),
        dict(layer_order="up"),
        dict(batch_refresh=0),
        dict(batch_refresh="layer"),
        dict(perturbation_scale=0.0),
        dict(annealing="cosine"),
        dict(perturbation_reference="best"),
        dict(weight_init="zeros"),
        dict(max_iter=0),
        dict(final_perturbation_scale=-1.0),
    ],
)
def test_invalid_parameters(params):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError):
        RSOClassifier(**params).fit(X, y)


def test_changes_within_rounding_are_ties():
    """A float32 fit's summed loss change of 1.2e-6 on a summed loss of 150
    took opposite decisions on two CPUs (their SIMD kernels round the row
    sums differently): changes within eps * loss of zero now keep the weight."""
    from skgf._rso_rule import _first_improvement, rounding_tie

    tie = rounding_tie(np.float32, 150.0)
    assert 1e-6 < tie < 1e-4
    assert rounding_tie(np.float64, 150.0) < 1e-12
    assert _first_improvement(np.array([[-1.2e-6, 0.5]]), tie) == (None, None)
    assert _first_improvement(np.array([[0.5, -1.2e-6], [-2e-4, 0.0]]), tie) == (1, 0)
    assert _first_improvement(np.array([[-1.2e-6, 0.5]]), 0.0) == (0, 0)
