"""Past one machine: blockwise ZORB fits of dask arrays, lazy predict, and
grid searches under joblib's dask (and ray) backends on a LocalCluster."""

import importlib
import pickle
import pkgutil

import numpy as np
import pytest
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.datasets import load_digits, make_friedman1
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score, train_test_split

import skgf
from skgf import ZORBClassifier, ZORBRegressor
from skgf._array_api import numpy_namespace
from skgf._base import BaseNetwork, NetworkRegressorMixin
from skgf._linalg import GramAccumulator
from skgf._zorb_blocks import BlockPass, ClassCodes, Standardisation
from skgf._zorb_rule import LayerPass, TargetSweep

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

RTOL = 1e-4  # the target: dask fit vs in-memory fit


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes (so tasks and results really
    travel pickled, as on a real cluster)."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


# These override conftest.py's ``friedman`` / ``digits`` with other data: 3000
# unscaled Friedman rows, and digits scaled by 1/16 (no StandardScaler).
@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(n_samples=3000, n_features=10, noise=1.0, random_state=0)
    return train_test_split(X, y, test_size=0.25, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16, y, test_size=0.25, random_state=0)


# --------------------------------------------------------------- the math
def test_gram_merge_equals_one_pass_and_pickles():
    """Per-block sums merged (each block with its own shift) give the same
    normal equations as one pass, and accumulators travel pickled."""
    xp = numpy_namespace()
    rng = np.random.RandomState(0)
    H = rng.rand(1000, 7) * 5 + 100.0
    T = rng.randn(1000, 3)
    whole = GramAccumulator(xp)
    whole.add(H, T)
    merged = GramAccumulator(xp)
    for start, stop in [(0, 130), (130, 131), (131, 600), (600, 1000)]:
        part = GramAccumulator(xp)
        part.add(H[start:stop], T[start:stop])
        merged.merge(pickle.loads(pickle.dumps(part)))
    merged.merge(GramAccumulator(xp))  # an empty block changes nothing
    assert merged.n == whole.n
    for a, b in zip(merged.solve(1e-3), whole.solve(1e-3)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_adopted_sums_stay_apart_from_the_merged_accumulator():
    """An empty accumulator that merges another adopts copies of its sums:
    adding rows to it afterwards (in place, on NumPy) leaves the other as it was."""
    xp = numpy_namespace()
    rng = np.random.RandomState(1)
    H, T = rng.rand(200, 5), rng.randn(200, 2)
    part = GramAccumulator(xp)
    part.add(H[:100], T[:100])
    before = [a.copy() for a in (part.HtH, part.HtT, part.h_sum, part.t_sum)]
    merged = GramAccumulator(xp).merge(part)
    merged.add(H[100:], T[100:])
    for a, b in zip((part.HtH, part.HtT, part.h_sum, part.t_sum), before):
        np.testing.assert_array_equal(a, b)


def test_block_state_is_plain_data():
    """What travels to a worker pickles, and dask names it by its content;
    the encodings turn raw target blocks into what the sweep reads."""
    xp = numpy_namespace()
    rng = np.random.RandomState(0)
    W, b = [rng.randn(4, 6), rng.randn(6, 3)], [rng.randn(6), rng.randn(3)]
    targets = TargetSweep.initial(xp, W, b, "tanh").with_range(0, -1.0, 2.0)
    assert targets.ranges == ((-1.0, 2.0),)
    # mean and scale are stored in the fit's dtype, as the regressor keeps them
    encoding = Standardisation(
        np.array([1.0, 2.0], dtype=np.float32), np.array([2.0, 4.0], dtype=np.float32)
    )
    step = LayerPass(0, targets, tuple(W), tuple(b))
    state = BlockPass((4, 6, 3), np.dtype(np.float64), encoding, step)
    copy = pickle.loads(pickle.dumps(state))
    np.testing.assert_array_equal(copy.step.targets.pinvs[1], targets.pinvs[1])
    assert dask.base.tokenize(copy) == dask.base.tokenize(state)
    other_layer = BlockPass((4, 6, 3), np.dtype(np.float64), encoding, LayerPass(1, targets))
    assert dask.base.tokenize(other_layer) != dask.base.tokenize(state)

    T, codes = encoding.encode(xp, np.array([[3.0, 2.0], [1.0, 6.0]]), np.float32)
    assert codes is None and T.dtype == np.float32
    np.testing.assert_array_equal(T, [[1.0, 0.0], [0.0, 1.0]])
    T, codes = ClassCodes(np.array(["a", "b", "c"])).encode(xp, np.array(["c", "a"]), None)
    assert T is None
    np.testing.assert_array_equal(codes, [2, 0])


# ------------------------------------------------- fits match in memory
@pytest.mark.parametrize("hidden, activation", [((50,), "tanh"), ((30, 20), "relu")])
def test_regressor_dask_fit_matches_numpy(client, friedman, hidden, activation):
    X_train, X_test, y_train, y_test = friedman
    Xd = da.from_array(X_train, chunks=(400, 4))  # column chunks are merged
    yd = da.from_array(y_train, chunks=500)  # other row chunks: realigned
    params = dict(hidden_layer_sizes=hidden, activation=activation, random_state=0)
    ref = ZORBRegressor(**params).fit(X_train, y_train)
    reg = ZORBRegressor(**params).fit(Xd, yd)
    assert all(type(W) is np.ndarray for W in reg.coefs_)
    assert _rel(reg.predict(X_test), ref.predict(X_test)) < RTOL
    lazy = reg.predict(da.from_array(X_test, chunks=200))
    assert isinstance(lazy, da.Array) and lazy.shape == (X_test.shape[0],)
    assert _rel(lazy.compute(), ref.predict(X_test)) < RTOL
    assert reg.score(X_test, y_test) > 0.7  # measured 0.738 / 0.737 (raw X, 2250 rows)
    # y in memory (NumPy) with X in dask: the same fit
    reg_np_y = ZORBRegressor(**params).fit(Xd, y_train)
    assert _rel(reg_np_y.predict(X_test), ref.predict(X_test)) < RTOL
    # the training range predict clips to, taken in the first layer's pass
    for low_high_dask, low_high in zip(reg._input_range, ref._input_range):
        np.testing.assert_array_equal(low_high_dask, low_high)
    far = X_test[:2].copy()
    far[:, 0] = [1e3, -1e3]
    edge = far.copy()
    edge[:, 0] = [X_train[:, 0].max(), X_train[:, 0].min()]
    assert _rel(reg.predict(far), ref.predict(edge)) < RTOL


def test_regressor_multi_output_and_pickle(client, friedman):
    X_train, X_test, y_train, _ = friedman
    Y = np.column_stack([y_train, np.sin(y_train)])
    ref = ZORBRegressor(hidden_layer_sizes=(40,), random_state=1).fit(X_train, Y)
    reg = ZORBRegressor(hidden_layer_sizes=(40,), random_state=1).fit(
        da.from_array(X_train, chunks=600), da.from_array(Y, chunks=(600, 1))
    )
    assert reg.n_outputs_ == 2
    assert _rel(reg.predict(X_test), ref.predict(X_test)) < RTOL
    loaded = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(loaded.predict(X_test), reg.predict(X_test))
    assert reg.predict(da.from_array(X_test, chunks=300)).compute().shape == (X_test.shape[0], 2)


def test_classifier_digits_dask_fit_matches_numpy(client, digits):
    X_train, X_test, y_train, y_test = digits
    ref = ZORBClassifier(hidden_layer_sizes=(200,), random_state=0).fit(X_train, y_train)
    clf = ZORBClassifier(hidden_layer_sizes=(200,), random_state=0).fit(
        da.from_array(X_train, chunks=256), da.from_array(y_train, chunks=256)
    )
    np.testing.assert_array_equal(clf.classes_, ref.classes_)
    assert _rel(clf.predict_proba(X_test), ref.predict_proba(X_test)) < RTOL
    Xd_test = da.from_array(X_test, chunks=100)
    assert _rel(clf.predict_proba(Xd_test).compute(), ref.predict_proba(X_test)) < RTOL
    np.testing.assert_array_equal(clf.predict(Xd_test).compute(), ref.predict(X_test))
    assert clf.score(X_test, y_test) > 0.9


def test_classifier_auto_width_on_dask_matches_numpy(client):
    """hidden_layer_sizes="auto" resolves from the classes of a dask y too."""
    rng = np.random.RandomState(0)
    X = rng.rand(1200, 6)
    y = (X @ rng.randn(6) * 4).astype(int) % 13  # 13 classes: 130 units
    ref = ZORBClassifier(random_state=0).fit(X, y)
    clf = ZORBClassifier(random_state=0).fit(
        da.from_array(X, chunks=256), da.from_array(y, chunks=256)
    )
    assert clf.hidden_layer_sizes_ == ref.hidden_layer_sizes_ == (130,)
    assert _rel(clf.predict_proba(X), ref.predict_proba(X)) < RTOL


def test_classifier_string_labels_and_softmax_target(client, digits):
    X_train, X_test, y_train, _ = digits
    labels = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )[y_train]
    params = dict(hidden_layer_sizes=(100,), class_target="softmax_inverse", random_state=0)
    ref = ZORBClassifier(**params).fit(X_train, labels)
    clf = ZORBClassifier(**params).fit(
        da.from_array(X_train, chunks=500), da.from_array(labels, chunks=500)
    )
    np.testing.assert_array_equal(clf.classes_, ref.classes_)
    np.testing.assert_array_equal(
        clf.predict(da.from_array(X_test, chunks=200)).compute(), ref.predict(X_test)
    )


def test_float32_stays_float32(client, friedman):
    """float32 blocks are computed in float32. Their Gram sums are rounded per
    block, so the fit differs from the in-memory one by float32 rounding (the
    in-memory fit itself moves as much when its chunk size changes)."""
    X_train, X_test, y_train, y_test = friedman
    X32 = X_train.astype(np.float32)
    ref = ZORBRegressor(hidden_layer_sizes=(50,), random_state=0).fit(X32, y_train)
    reg = ZORBRegressor(hidden_layer_sizes=(50,), random_state=0).fit(
        da.from_array(X32, chunks=500), y_train
    )
    assert reg.coefs_[0].dtype == np.float32
    pred = reg.predict(da.from_array(X_test.astype(np.float32), chunks=500))
    assert pred.dtype == np.float32
    assert _rel(pred.compute(), ref.predict(X_test.astype(np.float32))) < 1e-2
    assert abs(reg.score(X_test, y_test) - ref.score(X_test, y_test)) < 1e-3


# ---------------------------------------------------- laziness: one pass per layer
def test_one_graph_pass_over_X_per_layer(friedman):
    """X is never materialised: each block of X is produced once per layer."""
    X_train, _, y_train, _ = friedman
    calls = []

    def produce(block):
        calls.append(block.shape[0])
        return block

    Xd = da.from_array(X_train, chunks=500).map_blocks(
        produce, meta=np.empty((0, 0), dtype=X_train.dtype)
    )
    with dask.config.set(scheduler="synchronous"):
        reg = ZORBRegressor(hidden_layer_sizes=(20, 10), random_state=0).fit(Xd, y_train)
    n_layers = reg.n_layers_ - 1  # three affine layers, one pass over X each
    assert n_layers == 3
    assert len(calls) == n_layers * len(Xd.chunks[0])
    assert sum(calls) == n_layers * X_train.shape[0]


# ------------------------------------------------------------- bad input
def test_nan_in_dask_X_raises_clear_error(client, friedman):
    X_train, _, y_train, _ = friedman
    X_bad = X_train.copy()
    X_bad[2500 % X_bad.shape[0], 3] = np.nan
    for X_in in (X_bad, np.where(np.isnan(X_bad), np.inf, X_bad)):
        with pytest.raises(ValueError, match="NaN or infinity"):
            ZORBRegressor(hidden_layer_sizes=(10,), random_state=0).fit(
                da.from_array(X_in, chunks=400), y_train
            )
    assert np.isnan(X_bad).sum() == 1  # the caller's array is untouched


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_bad_targets_and_shapes_raise(friedman, digits):
    X_train, X_test, y_train, _ = friedman
    Xd = da.from_array(X_train, chunks=500)
    y_bad = y_train.copy()
    y_bad[7] = np.nan
    with dask.config.set(scheduler="synchronous"):
        with pytest.raises(ValueError, match="NaN"):
            ZORBRegressor(hidden_layer_sizes=(10,)).fit(Xd, da.from_array(y_bad, chunks=500))
        with pytest.raises(ValueError, match="NaN"):
            ZORBClassifier(hidden_layer_sizes=(10,)).fit(Xd, da.from_array(y_bad, chunks=500))
        with pytest.raises(ValueError, match="inconsistent numbers of samples"):
            ZORBRegressor().fit(Xd, da.from_array(y_train[:-1], chunks=500))
        with pytest.raises(ValueError, match="one row per sample"):
            ZORBRegressor().fit(Xd, y_train[:-1])
        with pytest.raises(ValueError, match="2D"):
            ZORBRegressor().fit(Xd[:, 0], y_train)
        with pytest.raises(ValueError, match="unknown chunk sizes"):
            ZORBRegressor().fit(Xd[Xd[:, 0] > 0.5], y_train)
        with pytest.raises(ValueError, match="only one class"):
            ZORBClassifier().fit(Xd, np.zeros(X_train.shape[0]))
        with pytest.raises(ValueError, match="Unknown label type"):
            ZORBClassifier().fit(Xd, da.from_array(y_train, chunks=500))
        with pytest.raises(ValueError, match="cuda"):
            ZORBRegressor(device="cuda").fit(Xd, y_train)
        with pytest.raises(TypeError, match="X is not"):
            ZORBRegressor().fit(X_train, da.from_array(y_train, chunks=500))
        reg = ZORBRegressor(hidden_layer_sizes=(10,), random_state=0).fit(Xd, y_train)
        assert reg.n_features_in_ == X_train.shape[1]
        assert not hasattr(reg, "feature_names_in_")
        with pytest.raises(ValueError, match="features"):  # eager, not at compute
            reg.predict(da.from_array(X_test[:, :5], chunks=100))


class _InMemoryOnly(NetworkRegressorMixin, BaseNetwork):
    """A method without a blockwise fit (the base refuses dask input)."""

    def __init__(self, hidden_layer_sizes=(3,), random_state=None, verbose=0, device=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def fit(self, X, y):
        return self._fit(X, y)

    def _solve(self, xp, X, Y, hidden_layer_sizes, rng, incremental):
        raise AssertionError("dask input must not reach the solver")


def _iterative_estimators():
    """Every iterative skgf estimator importable from the package's modules."""
    from skgf._iterative import BaseIterativeNetwork

    found = [_InMemoryOnly]
    for info in pkgutil.iter_modules(skgf.__path__):
        # every module must import (none needs an optional package beyond
        # dask, which this file requires): an import error is a failure
        module = importlib.import_module(f"skgf.{info.name}")
        for obj in vars(module).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, BaseIterativeNetwork)
                and issubclass(obj, (ClassifierMixin, RegressorMixin))
                and obj.__module__ == module.__name__
                and not obj.__name__.startswith("_")
            ):
                found.append(obj)
    return found


@pytest.mark.parametrize("Estimator", _iterative_estimators(), ids=lambda c: c.__name__)
def test_in_memory_estimators_refuse_dask_fit(Estimator):
    X, y = make_friedman1(n_samples=60, random_state=0)
    if issubclass(Estimator, ClassifierMixin):
        y = (y > np.median(y)).astype(int)
    est = Estimator()
    with pytest.raises(TypeError, match="in-memory"):
        est.fit(da.from_array(X, chunks=20), y)
    if hasattr(est, "partial_fit"):
        kwargs = {"classes": [0, 1]} if issubclass(Estimator, ClassifierMixin) else {}
        with pytest.raises(TypeError, match="in-memory"):
            est.partial_fit(da.from_array(X, chunks=20), y, **kwargs)


# -------------------------------------------------------- distributed search
GRID = {"hidden_layer_sizes": [(25,), (50,), (100,), (200,)], "alpha": [1e-4, 10.0]}


def test_grid_search_dask_backend_same_best_params(client, digits):
    """8 settings, 3 folds: the dask backend picks what n_jobs=1 picks."""
    X_train, _, y_train, _ = digits
    cv = KFold(3, shuffle=True, random_state=0)
    sequential = GridSearchCV(ZORBClassifier(random_state=0), GRID, cv=cv, n_jobs=1)
    sequential.fit(X_train, y_train)
    with joblib.parallel_backend("dask"):
        search = GridSearchCV(ZORBClassifier(random_state=0), GRID, cv=cv).fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 8
    assert search.best_params_ == sequential.best_params_
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"], rtol=1e-12
    )
    # the fitted searches ran on the workers: the refit model is a plain one
    assert isinstance(search.best_estimator_.coefs_[0], np.ndarray)


def test_cross_val_score_dask_backend(client, friedman):
    X_train, _, y_train, _ = friedman
    reg = ZORBRegressor(hidden_layer_sizes=(50,), random_state=0)
    expected = cross_val_score(reg, X_train, y_train, cv=4, n_jobs=1)
    with joblib.parallel_backend("dask"):
        scores = cross_val_score(reg, X_train, y_train, cv=4)
    np.testing.assert_allclose(scores, expected, rtol=1e-12)
    assert scores.mean() > 0.7  # measured 0.725


def test_grid_search_ray_backend_same_best_params(digits):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    X_train, _, y_train, _ = digits
    cv = KFold(3, shuffle=True, random_state=0)
    sequential = GridSearchCV(ZORBClassifier(random_state=0), GRID, cv=cv, n_jobs=1)
    sequential.fit(X_train, y_train)
    register_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with joblib.parallel_backend("ray", n_jobs=2):
            search = GridSearchCV(ZORBClassifier(random_state=0), GRID, cv=cv).fit(X_train, y_train)
    finally:
        ray.shutdown()
    assert search.best_params_ == sequential.best_params_


def test_paper_rule_warns_of_unused_sweep_settings_on_dask_too(friedman):
    X_train, _, y_train, _ = friedman
    Xd = da.from_array(X_train, chunks=1000)
    with dask.config.set(scheduler="synchronous"):
        with pytest.warns(UserWarning, match="apply to target_rule='minimal_change' only"):
            ZORBRegressor(hidden_layer_sizes=(10,), n_sweeps=2).fit(Xd, y_train)
