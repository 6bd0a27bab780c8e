"""ZORB estimators: accuracy on real data, numerics, dispatch, plumbing."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_wine,
    make_classification,
    make_friedman1,
)
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgf import ZORBClassifier, ZORBRegressor, _zorb_rule
from skgf._array_api import numpy_namespace
from skgf._network import LANDMARK_SCALE, landmark_layer
from skgf._zorb_rule import TargetSweep

from skgf_test_data import scaled_split as _split

# The data sets (fixtures ``digits``, ``friedman``) are in conftest.py, the
# scikit-learn estimator checks in test_common.py.


# ---------------------------------------------------------------- accuracy
def test_digits_paper_rule(digits):
    """The paper's rule with defaults: measured 0.964 (seed 0) on this split."""
    X_train, X_test, y_train, y_test = digits
    clf = ZORBClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.955


def test_digits_random_feature_variant(digits):
    """The documented extension closes the gap to the 0.97 target."""
    X_train, X_test, y_train, y_test = digits
    clf = ZORBClassifier(hidden_layer_sizes=(500,), random_feature_weight=1.0, random_state=0).fit(
        X_train, y_train
    )
    assert clf.score(X_test, y_test) >= 0.97


@pytest.mark.parametrize("loader, floor", [(load_breast_cancer, 0.95), (load_wine, 0.95)])
def test_small_classification_sets(loader, floor):
    X_train, X_test, y_train, y_test = _split(*loader(return_X_y=True))
    clf = ZORBClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= floor


def test_friedman_paper_rule_and_variant(friedman):
    X_train, X_test, y_train, y_test = friedman
    paper = ZORBRegressor(random_state=0).fit(X_train, y_train)
    variant = ZORBRegressor(
        hidden_layer_sizes=(500,), random_feature_weight=1.0, random_state=0
    ).fit(X_train, y_train)
    # The paper's rule is limited by its rank-one hidden targets (a single
    # output): it stays near a linear model (~0.74); the variant does not.
    assert paper.score(X_test, y_test) >= 0.70
    assert variant.score(X_test, y_test) >= 0.92


def test_diabetes_matches_ridge():
    """Diabetes is nearly linear: ZORB must not fall below ridge regression."""
    from sklearn.linear_model import Ridge

    X_train, X_test, y_train, y_test = _split(*load_diabetes(return_X_y=True))
    ridge = Ridge().fit(X_train, y_train).score(X_test, y_test)
    zorb = ZORBRegressor(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    assert zorb >= ridge - 0.02


def test_mnist_subset():
    from skgf_test_data import load_shared

    d = load_shared("mnist")
    X = d["X_train"][:10000].astype(np.float32) / 255
    X_test = d["X_test"][:2000].astype(np.float32) / 255
    y, y_test = d["y_train"][:10000], d["y_test"][:2000]
    clf = ZORBClassifier(hidden_layer_sizes=(500,), random_state=0).fit(X, y)
    assert clf.coefs_[0].dtype == np.float32
    # Measured 0.848 (a linear least-squares classifier: 0.80).
    assert clf.score(X_test, y_test) >= 0.84
    variant = ZORBClassifier(
        hidden_layer_sizes=(1000,), random_feature_weight=2.0, random_state=0
    ).fit(X, y)
    assert variant.score(X_test, y_test) >= 0.89  # measured 0.898


# ------------------------------------------------------------------ method
def test_hidden_targets_depend_only_on_y_and_layers_above():
    """The targets are computed before any layer is fitted (one backward sweep)."""
    rng = np.random.RandomState(0)
    xp = sklearn.utils._array_api.get_namespace(np.ones(1))[0]
    W = [rng.randn(4, 6), rng.randn(6, 5), rng.randn(5, 3)]
    b = [rng.randn(6), rng.randn(5), rng.randn(3)]
    targets = TargetSweep.initial(xp, W, b, "identity")
    Y = rng.randn(7, 3)
    T1 = targets.pre_activation(xp, Y, 1)
    expected = (Y - b[2]) @ np.linalg.pinv(W[2])
    np.testing.assert_allclose(T1, expected, rtol=1e-7, atol=1e-8)
    T0 = targets.pre_activation(xp, Y, 0)
    np.testing.assert_allclose(T0, (expected - b[1]) @ np.linalg.pinv(W[1]), rtol=1e-7, atol=1e-8)


def test_exact_fit_through_identity_layers():
    """With identity activations and no penalty, a linear target is reproduced."""
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    y = X @ rng.randn(5, 2) + 0.5
    reg = ZORBRegressor(
        hidden_layer_sizes=(8, 6), activation="identity", alpha=0.0, random_state=0
    ).fit(X, y)
    np.testing.assert_allclose(reg.predict(X), y, atol=1e-6)


def test_bounded_activation_ranges_fitted():
    X, y = load_digits(return_X_y=True)
    clf = ZORBClassifier(hidden_layer_sizes=(30, 20), random_state=0).fit(X / 16, y)
    assert len(clf.activation_ranges_) == 2
    for low, high in clf.activation_ranges_:
        assert low < high
    relu = ZORBClassifier(hidden_layer_sizes=(30,), activation="relu", random_state=0).fit(
        X / 16, y
    )
    assert relu.activation_ranges_ == [None]


@pytest.mark.parametrize("Estimator", [ZORBRegressor, ZORBClassifier])
def test_chunked_fit_equals_single_chunk(Estimator):
    """Rows per chunk (set by working_memory) must not change the result
    (the classifier's hidden layers take the transposed blocks of class
    codes, the regressor's the row-major chunks)."""
    X, y = make_friedman1(n_samples=3000, random_state=0)
    if Estimator is ZORBClassifier:
        y = np.digitize(y, np.quantile(y, [0.25, 0.5, 0.75]))
    one = Estimator(hidden_layer_sizes=(40, 20), random_state=0).fit(X, y)
    with sklearn.config_context(working_memory=0.05):  # ~ a few hundred rows
        many = Estimator(hidden_layer_sizes=(40, 20), random_state=0).fit(X, y)
    output = "predict_proba" if Estimator is ZORBClassifier else "predict"
    np.testing.assert_allclose(
        getattr(one, output)(X), getattr(many, output)(X), rtol=1e-8, atol=1e-8
    )


@pytest.mark.parametrize("params", [dict(), dict(random_feature_weight=1.0, activation="relu")])
def test_transposed_class_blocks_match_row_chunks(monkeypatch, params):
    """The hidden layers' transposed blocks of class codes (several chunks
    of ~1000 rows, a shorter last one, elementwise passes in threads)
    against the row-major chunks they replace, in float64."""
    X, y = make_classification(
        n_samples=2500, n_features=20, n_informative=12, n_classes=4, random_state=0
    )

    def fit():
        with sklearn.config_context(working_memory=8):
            clf = ZORBClassifier(hidden_layer_sizes=(300, 40), random_state=0, **params)
            return clf.fit(X, y).predict_proba(X)

    applies = _zorb_rule._units_by_rows_applies
    taken = []
    monkeypatch.setattr(
        _zorb_rule,
        "_units_by_rows_applies",
        lambda *args: taken.append(applies(*args)) or taken[-1],
    )
    blocks = fit()
    assert taken == [False, True, True]  # the input layer keeps its row chunks
    monkeypatch.setattr(_zorb_rule, "_units_by_rows_applies", lambda *args: False)
    np.testing.assert_allclose(blocks, fit(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    "n_classes, width", [(2, 100), (10, 100), (26, 260), (40, 400), (150, 1000)]
)
def test_classifier_auto_width_grows_with_the_classes(n_classes, width):
    X, y = make_classification(
        n_samples=max(400, 3 * n_classes),
        n_features=12,
        n_informative=10,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    clf = ZORBClassifier(random_state=0).fit(X, y)
    assert clf.hidden_layer_sizes == "auto"  # the parameter stays as given
    assert clf.hidden_layer_sizes_ == (width,)
    assert [W.shape for W in clf.coefs_] == [(12, width), (width, n_classes)]
    explicit = ZORBClassifier(hidden_layer_sizes=(width,), random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), explicit.predict_proba(X))
    assert explicit.hidden_layer_sizes_ == (width,)


def test_auto_width_with_the_minimal_change_rule_and_bad_widths():
    X, y = make_classification(
        n_samples=300,
        n_features=8,
        n_informative=6,
        n_classes=12,
        n_clusters_per_class=1,
        random_state=0,
    )
    clf = ZORBClassifier(target_rule="minimal_change", n_sweeps=2, random_state=0).fit(X, y)
    assert clf.hidden_layer_sizes_ == (120,) and clf.coefs_[0].shape == (8, 120)
    with pytest.raises(ValueError, match='"auto" or a tuple of positive integers'):
        ZORBClassifier(hidden_layer_sizes=(10, 0)).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):  # the regressor has no "auto"
        ZORBRegressor(hidden_layer_sizes="auto").fit(X, y.astype(float))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_chunked_fit_leaves_inputs_unchanged(dtype, weighted):
    """Chunks after the first are shifted into a reused buffer, never into
    the caller's rows (the first layer's input is X itself)."""
    X, y = make_friedman1(n_samples=3000, random_state=0)
    X = X.astype(dtype)
    weights = np.random.default_rng(0).uniform(0, 2, X.shape[0]) if weighted else None
    X_before, y_before = X.copy(), y.copy()
    with sklearn.config_context(working_memory=0.05):
        ZORBRegressor(hidden_layer_sizes=(40, 20), random_state=0).fit(X, y, weights)
        ZORBClassifier(hidden_layer_sizes=(30,), random_state=0).fit(X, y > y.mean(), weights)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_float32_kept_and_close_to_float64(digits):
    X_train, X_test, y_train, _ = digits
    c64 = ZORBClassifier(random_state=0).fit(X_train, y_train)
    c32 = ZORBClassifier(random_state=0).fit(X_train.astype(np.float32), y_train)
    assert all(W.dtype == np.float32 for W in c32.coefs_)
    proba32 = c32.predict_proba(X_test.astype(np.float32))
    assert proba32.dtype == np.float32
    np.testing.assert_allclose(proba32, c64.predict_proba(X_test), atol=2e-3)
    agree = np.mean(c32.predict(X_test) == c64.predict(X_test))
    assert agree >= 0.99


def test_float32_regression_fit_agrees_with_float64():
    """float32 fits run each chunk's products in float32 and sum them in
    float64: predictions agree with the float64 fit to 6.6e-4 relative here
    (measured), and the fit is as good."""
    X, y = make_friedman1(n_samples=3000, noise=1.0, random_state=0)
    r64 = ZORBRegressor(hidden_layer_sizes=(50, 20), random_state=0).fit(X, y)
    r32 = ZORBRegressor(hidden_layer_sizes=(50, 20), random_state=0)
    X32 = X.astype(np.float32)
    p32 = r32.fit(X32, y).predict(X32)
    p64 = r64.predict(X)
    assert p32.dtype == np.float32
    assert np.linalg.norm(p32 - p64) / np.linalg.norm(p64) < 2e-3
    assert abs(r32.score(X32, y) - r64.score(X, y)) < 1e-4


def test_multi_output_regression():
    X, y = make_friedman1(n_samples=1000, random_state=0)
    Y = np.column_stack([y, 2 * y - 1])
    reg = ZORBRegressor(random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (1000, 2)
    assert reg.n_outputs_ == 2


def test_softmax_inverse_target(digits):
    X_train, X_test, y_train, y_test = digits
    clf = ZORBClassifier(class_target="softmax_inverse", random_state=0)
    assert clf.fit(X_train, y_train).score(X_test, y_test) >= 0.94


def test_verbose_prints_each_layer(capsys):
    X, y = load_digits(return_X_y=True)
    ZORBClassifier(hidden_layer_sizes=(10, 10), verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("layer") == 3


# --------------------------------------------------------------- plumbing
def test_determinism_and_seed_sensitivity():
    X, y = load_digits(return_X_y=True)
    a = ZORBClassifier(random_state=3).fit(X, y).predict_proba(X)
    b = ZORBClassifier(random_state=3).fit(X, y).predict_proba(X)
    c = ZORBClassifier(random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_pickle_round_trip():
    X, y = load_wine(return_X_y=True)
    clf = ZORBClassifier(random_state=0).fit(X, y)
    clone = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clone.predict_proba(X), clf.predict_proba(X))


def test_string_labels():
    X, y = load_wine(return_X_y=True)
    names = np.array(["barolo", "grignolino", "barbera"])[y]
    clf = ZORBClassifier(random_state=0).fit(X, names)
    assert set(clf.predict(X)) <= set(names)
    assert list(clf.classes_) == sorted(set(names))


def test_pipeline_grid_search_parallel():
    X, y = load_digits(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), ZORBClassifier(random_state=0))
    grid = GridSearchCV(
        pipe,
        {
            "zorbclassifier__alpha": [1e-4, 10.0],
            "zorbclassifier__hidden_layer_sizes": [(50,), (100,)],
        },
        cv=3,
        n_jobs=2,
    ).fit(X, y)
    assert grid.best_score_ > 0.9
    scores = cross_val_score(
        make_pipeline(StandardScaler(), ZORBRegressor(random_state=0)),
        *load_diabetes(return_X_y=True),
        cv=3,
    )
    assert scores.mean() > 0.3


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("Estimator", [ZORBClassifier, ZORBRegressor])
def test_bad_input_raises_and_leaves_data_untouched(Estimator):
    rng = np.random.RandomState(0)
    X = rng.randn(30, 4)
    y = np.arange(30) % 3
    X_copy, y_copy = X.copy(), y.copy()
    est = Estimator(random_state=0).fit(X, y)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Estimator().fit(X_nan, y)
    X_inf = X.copy()
    X_inf[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        Estimator().fit(X_inf, y)
    with pytest.raises(ValueError, match="2D array"):
        Estimator().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="0 sample"):
        Estimator().fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :3])
    with pytest.raises(ValueError, match="activation"):
        Estimator(activation="softsign").fit(X, y)
    with pytest.raises(ValueError, match="alpha"):
        Estimator(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        Estimator(hidden_layer_sizes=(10, 0)).fit(X, y)
    with pytest.raises(ValueError, match="device"):
        Estimator(device="tpu").fit(X, y)


def test_one_class_and_continuous_targets_refused():
    X = np.random.RandomState(0).randn(20, 3)
    with pytest.raises(ValueError, match="at least 2 classes"):
        ZORBClassifier().fit(X, np.ones(20))
    with pytest.raises(ValueError, match="Unknown label type"):
        ZORBClassifier().fit(X, np.linspace(0, 1, 20))


def test_sparse_input_refused_clearly():
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(20, 5, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match="dense data is required"):
        ZORBRegressor().fit(X, np.arange(20.0))


def test_cuda_without_cupy_gives_clear_error():
    try:
        import cupy  # noqa: F401

        pytest.skip("CuPy is installed; the GPU tests cover device='cuda'")
    except ImportError:
        pass
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ValueError, match=r"skgf\[cuda12\]"):
        ZORBClassifier(device="cuda").fit(X, y)


# ------------------------------------------------- the minimal-change rule
def test_minimal_change_learns_beyond_the_paper_rule(friedman):
    """The minimal-change targets keep the random features the paper's
    targets discard: on friedman1 the paper's rule stays near a linear model
    (0.737 at width 200) and the first sweep reaches 0.84 (measured)."""
    X_train, X_test, y_train, y_test = friedman
    paper = ZORBRegressor(hidden_layer_sizes=(200,), random_state=0).fit(X_train, y_train)
    minimal = ZORBRegressor(
        hidden_layer_sizes=(200,), target_rule="minimal_change", random_state=0
    ).fit(X_train, y_train)
    assert minimal.score(X_test, y_test) >= paper.score(X_test, y_test) + 0.05
    assert minimal.n_iter_ == len(minimal.loss_curve_) == 1


def test_minimal_change_target_is_the_least_norm_correction():
    """Through an identity network the target moves the layer above exactly
    onto its target: ``t W + b = z*`` when ``W`` has full row rank."""
    from skgf._zorb_minimal import minimal_change_target
    from skgf._zorb_rule import _pseudoinverse

    rng = np.random.RandomState(0)
    H, W = rng.randn(20, 6), rng.randn(6, 3)
    b, T = rng.randn(3), rng.randn(20, 3)
    Z = H @ W + b
    xp = numpy_namespace()
    t = minimal_change_target(
        xp, [None, Z], [None, H], [None, _pseudoinverse(xp, W)], T, 0, "identity", [None]
    )
    np.testing.assert_allclose(t @ W + b, T, atol=1e-10)
    # least norm: the correction lies in the column space of W (the part of
    # H the layer above can see), so projecting onto it changes nothing
    correction = t - H
    np.testing.assert_allclose(correction @ W @ np.linalg.pinv(W), correction, atol=1e-10)


def test_minimal_change_early_stopping_and_determinism(digits):
    X_train, X_test, y_train, y_test = digits
    params = dict(
        hidden_layer_sizes=(64,),
        target_rule="minimal_change",
        n_sweeps=4,
        early_stopping=True,
        n_iter_no_change=2,
        random_state=0,
    )
    clf = ZORBClassifier(**params).fit(X_train, y_train)
    again = ZORBClassifier(**params).fit(X_train, y_train)
    np.testing.assert_array_equal(clf.predict_proba(X_test), again.predict_proba(X_test))
    assert 1 <= clf.n_iter_ <= 4 and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.score(X_test, y_test) >= 0.9


def test_minimal_change_refuses_dask_and_bad_values():
    da = pytest.importorskip("dask.array")
    X, y = make_friedman1(n_samples=200, random_state=0)
    with pytest.raises(ValueError, match="in-memory"):
        ZORBRegressor(target_rule="minimal_change").fit(da.from_array(X), da.from_array(y))
    with pytest.raises(ValueError, match="target_rule"):
        ZORBRegressor(target_rule="minimal").fit(X, y)
    with pytest.raises(ValueError, match="n_sweeps"):
        ZORBRegressor(target_rule="minimal_change", n_sweeps=0).fit(X, y)


@pytest.mark.parametrize("params", [{"early_stopping": True}, {"n_sweeps": 3}])
def test_paper_rule_warns_that_sweep_settings_are_unused(params, digits):
    X_train, _, y_train, _ = digits
    with pytest.warns(UserWarning, match="apply to target_rule='minimal_change' only") as record:
        ZORBClassifier(hidden_layer_sizes=(16,), **params).fit(X_train, y_train)
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default settings say nothing
        ZORBClassifier(hidden_layer_sizes=(16,)).fit(X_train, y_train)


# ------------------------------------------------------------ landmarks
def _landmark_rows(X, W, b):
    """Index of the row each unit points at: the row where its
    pre-activation is +LANDMARK_SCALE / 2."""
    Z = X @ W + b
    hits = np.isclose(Z, LANDMARK_SCALE / 2, rtol=0, atol=1e-9)
    assert hits.any(axis=0).all(), "a unit points at no training row"
    return hits.argmax(axis=0)


def test_landmark_layer_points_each_unit_at_a_training_row():
    rng = np.random.RandomState(0)
    X = rng.randn(40, 6) * 3.0 + 1.0
    W, b = landmark_layer(numpy_namespace(), X, 8, np.random.RandomState(1))
    rows = _landmark_rows(X, W, b)
    assert len(set(rows.tolist())) == 8  # drawn without replacement
    centre = X[rows].mean(axis=0)
    np.testing.assert_allclose(centre @ W + b, -LANDMARK_SCALE / 2, atol=1e-9)


def test_landmark_layer_draws_only_rows_of_positive_weight():
    rng = np.random.RandomState(0)
    X = rng.randn(10, 3)
    weights = np.r_[np.zeros(6), np.ones(4)]
    # more units than rows of positive weight: drawn with replacement
    W, b = landmark_layer(numpy_namespace(), X, 7, np.random.RandomState(2), weights)
    assert set(_landmark_rows(X, W, b).tolist()) <= {6, 7, 8, 9}


def test_landmarks_learn_digits_better_than_glorot(digits):
    """On the 64 pixels of digits landmark units beat Glorot-uniform ones for
    both rules that keep the first layer's features (measured on this split:
    random_feature_weight=2 0.967 -> 0.982, minimal_change 0.953 -> 0.984)."""
    X_train, X_test, y_train, y_test = digits
    for params in ({"random_feature_weight": 2.0}, {"target_rule": "minimal_change"}):
        scores = {
            init: ZORBClassifier(
                hidden_layer_sizes=(300,), weight_init=init, random_state=0, **params
            )
            .fit(X_train, y_train)
            .score(X_test, y_test)
            for init in ("glorot_uniform", "landmarks")
        }
        assert scores["landmarks"] >= 0.975, params
        assert scores["landmarks"] >= scores["glorot_uniform"] + 0.01, params


def test_landmarks_are_seeded_and_need_in_memory_data():
    X, y = make_friedman1(n_samples=300, random_state=0)
    params = dict(hidden_layer_sizes=(30,), weight_init="landmarks", random_feature_weight=1.0)
    a, b = (ZORBRegressor(random_state=3, **params).fit(X, y) for _ in "ab")
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    c = ZORBRegressor(random_state=4, **params).fit(X, y)
    assert not np.allclose(a.coefs_[0], c.coefs_[0])
    with pytest.raises(ValueError, match="weight_init"):
        ZORBRegressor(weight_init="kmeans").fit(X, y)
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="in-memory"):
        ZORBRegressor(**params).fit(da.from_array(X), da.from_array(y))


def test_landmarks_under_array_api_strict_match_numpy():
    xps = pytest.importorskip("array_api_strict")
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(hidden_layer_sizes=(20,), weight_init="landmarks", target_rule="minimal_change")
    ref = ZORBClassifier(random_state=0, **params).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = ZORBClassifier(random_state=0, **params).fit(xps.asarray(X), xps.asarray(y))
        proba = est.predict_proba(xps.asarray(X))
    np.testing.assert_allclose(np.asarray(proba), ref.predict_proba(X), rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------ normal init
def test_normal_first_layer_has_its_scales_and_is_seeded():
    from skgf._network import NORMAL_BIAS_SCALE, NORMAL_WEIGHT_SCALE

    X, y = make_friedman1(n_samples=300, n_features=16, random_state=0)
    params = dict(hidden_layer_sizes=(200, 20), random_feature_weight=1.0)
    a, b = (ZORBRegressor(weight_init="normal", random_state=3, **params).fit(X, y) for _ in "ab")
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    # random_feature_weight keeps the first layer's draw in its targets, so
    # the fit tells the draws and the seeds apart
    other_seed = ZORBRegressor(weight_init="normal", random_state=4, **params).fit(X, y)
    glorot = ZORBRegressor(weight_init="glorot_uniform", random_state=3, **params).fit(X, y)
    assert not np.allclose(a.predict(X), other_seed.predict(X))
    assert not np.allclose(a.predict(X), glorot.predict(X))
    from skgf._zorb_rule import MemoryRows, initial_weights

    coefs, intercepts = initial_weights(
        numpy_namespace(),
        MemoryRows(numpy_namespace(), X),
        [16, 2000, 20, 1],
        np.random.RandomState(0),
        "normal",
    )
    assert np.std(coefs[0]) == pytest.approx(NORMAL_WEIGHT_SCALE / 4, rel=0.03)
    assert np.std(intercepts[0]) == pytest.approx(NORMAL_BIAS_SCALE, rel=0.05)
    glorot = initial_weights(
        numpy_namespace(),
        MemoryRows(numpy_namespace(), X),
        [16, 2000, 20, 1],
        np.random.RandomState(0),
        "glorot_uniform",
    )
    for got, want in zip(coefs[1:] + intercepts[1:], glorot[0][1:] + glorot[1][1:]):
        np.testing.assert_array_equal(got, want)  # deeper layers as before


def test_normal_init_fits_dask_and_array_api_strict_like_numpy():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(hidden_layer_sizes=(40,), weight_init="normal", target_rule="minimal_change")
    ref = ZORBClassifier(random_state=0, **params).fit(X, y)
    xps = pytest.importorskip("array_api_strict")
    with sklearn.config_context(array_api_dispatch=True):
        est = ZORBClassifier(random_state=0, **params).fit(xps.asarray(X), xps.asarray(y))
        proba = est.predict_proba(xps.asarray(X))
    np.testing.assert_allclose(np.asarray(proba), ref.predict_proba(X), rtol=1e-8, atol=1e-10)
    da = pytest.importorskip("dask.array")
    # with random_feature_weight the first layer's draw reaches the fit
    # (the paper's rule alone refits it from targets that ignore it)
    paper = dict(hidden_layer_sizes=(40,), weight_init="normal", random_feature_weight=1.0)
    lazy = ZORBClassifier(random_state=0, **paper).fit(
        da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    )
    eager = ZORBClassifier(random_state=0, **paper).fit(X, y)
    np.testing.assert_allclose(lazy.predict_proba(X), eager.predict_proba(X), rtol=1e-6, atol=1e-9)
    glorot = ZORBClassifier(random_state=0, **{**paper, "weight_init": "glorot_uniform"}).fit(X, y)
    assert not np.allclose(eager.predict_proba(X), glorot.predict_proba(X))


def test_normal_init_beats_glorot_and_nystroem_on_kin40k():
    """kin40k (8 features; 15,000 training rows of a 20,000-row subsample),
    width 1000: Glorot-uniform's small weights leave the units nearly linear
    (minimal_change 0.665); the normal draw gives 0.899, where Nystroem(1000)
    + Ridge gives 0.895 (measured). The second assertion pins that
    documented comparison, a margin of 0.004."""
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import Ridge

    from skgf_test_data import load_shared

    data = load_shared("kin40k")
    keep = np.random.default_rng(0).choice(data["X"].shape[0], 20000, replace=False)
    X_train, X_test, y_train, y_test = _split(
        data["X"][keep].astype(np.float64), data["y"][keep].astype(np.float64)
    )
    params = dict(hidden_layer_sizes=(1000,), target_rule="minimal_change", random_state=0)
    scores = {
        init: ZORBRegressor(weight_init=init, **params).fit(X_train, y_train).score(X_test, y_test)
        for init in ("glorot_uniform", "normal")
    }
    nystroem = make_pipeline(Nystroem(n_components=1000, random_state=0), Ridge())
    reference = nystroem.fit(X_train, y_train).score(X_test, y_test)
    assert scores["normal"] >= scores["glorot_uniform"] + 0.15
    assert scores["normal"] > reference
