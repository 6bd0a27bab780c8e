"""Shared test configuration: the one list of estimators and the data sets.

scikit-learn refuses ``array_api_dispatch`` (and silently skips its array-API
estimator checks) unless ``SCIPY_ARRAY_API=1`` is set before SciPy is
imported, so it is set here, before anything imports SciPy.

Test modules import the helpers below as ``skgf_test_data`` (an alias of
this module, so that the name does not depend on how pytest imports
``conftest``)::

    from skgf_test_data import ALL_ESTIMATORS, CLASSIFIERS, small_estimator

and get the data sets as fixtures (``wine``, ``digits``, ``friedman``,
``friedman_small``). The fixtures' arrays are session-wide and
read-only: a test that wants to change one copies it first.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import pathlib
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_wine, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skgf import (
    LRAClassifier,
    LRARegressor,
    RSOClassifier,
    RSORegressor,
    SemiImplicitBPClassifier,
    SemiImplicitBPRegressor,
    ZORBClassifier,
    ZORBRegressor,
)

# ------------------------------------------------------------ the estimators
#: Every public estimator, by kind. The one list: a new estimator is added
#: here (and to ``SMALL_PARAMS``) and every parametrised test picks it up.
CLASSIFIERS = (ZORBClassifier, LRAClassifier, SemiImplicitBPClassifier, RSOClassifier)
REGRESSORS = (ZORBRegressor, LRARegressor, SemiImplicitBPRegressor, RSORegressor)
ALL_ESTIMATORS = CLASSIFIERS + REGRESSORS

#: The methods that iterate (``max_iter``, ``partial_fit``, ``warm_start``,
#: ``loss_curve_``); ZORB solves each layer once and has none of these.
ITERATIVE = (
    LRAClassifier,
    LRARegressor,
    SemiImplicitBPClassifier,
    SemiImplicitBPRegressor,
    RSOClassifier,
    RSORegressor,
)
ITERATIVE_CLASSIFIERS = tuple(E for E in ITERATIVE if E in CLASSIFIERS)
ITERATIVE_REGRESSORS = tuple(E for E in ITERATIVE if E in REGRESSORS)
RSO = (RSOClassifier, RSORegressor)

#: Small networks and few iterations: enough to learn the small data sets of
#: the tests, fast enough to fit many times.
SMALL_PARAMS = {
    ZORBClassifier: dict(hidden_layer_sizes=(20,)),
    ZORBRegressor: dict(hidden_layer_sizes=(20,)),
    LRAClassifier: dict(hidden_layer_sizes=(20,), max_iter=15),
    LRARegressor: dict(hidden_layer_sizes=(20,), max_iter=15),
    SemiImplicitBPClassifier: dict(hidden_layer_sizes=(20,), max_iter=15),
    SemiImplicitBPRegressor: dict(hidden_layer_sizes=(20,), max_iter=15),
    RSOClassifier: dict(hidden_layer_sizes=(20,), max_iter=3),
    RSORegressor: dict(hidden_layer_sizes=(20,), max_iter=3),
}
assert set(SMALL_PARAMS) == set(ALL_ESTIMATORS)


def small_estimator(Estimator, **params):
    """A fresh ``Estimator`` with the small settings, seeded; ``params`` win."""
    return Estimator(**{"random_state": 0, **SMALL_PARAMS[Estimator], **params})


def all_estimators(**params):
    """Fresh small instances of every estimator (``params`` go to each)."""
    return [small_estimator(Estimator, **params) for Estimator in ALL_ESTIMATORS]


def quiet_fit(est, X, y, **fit_params):
    """``est.fit(X, y, **fit_params)`` without its ``ConvergenceWarning``s
    (the short fits of the tests stop at ``max_iter``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **fit_params)


def estimator_id(estimator):
    """Test id of an estimator class or instance: its class name."""
    return estimator.__name__ if isinstance(estimator, type) else type(estimator).__name__


# -------------------------------------------------------------- the data sets
def scaled_split(X, y, **kwargs):
    """Train/test split (a quarter held out, seed 0) with the features
    standardised by the training rows; ``kwargs`` go to ``train_test_split``."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, **kwargs
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _read_only(*arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


@pytest.fixture(scope="session")
def wine():
    """``(X, y)``: wine, standardised (178 rows, 13 features, 3 classes)."""
    X, y = load_wine(return_X_y=True)
    return _read_only(StandardScaler().fit_transform(X), y)


@pytest.fixture(scope="session")
def digits():
    """``(X_train, X_test, y_train, y_test)``: digits, ``scaled_split``."""
    return _read_only(*scaled_split(*load_digits(return_X_y=True)))


@pytest.fixture(scope="session")
def friedman():
    """``(X_train, X_test, y_train, y_test)``: Friedman #1, 5000 rows, noise
    1, ``scaled_split``."""
    return _read_only(*scaled_split(*make_friedman1(n_samples=5000, noise=1.0, random_state=0)))


@pytest.fixture(scope="session")
def friedman_small():
    """``(X, y)``: Friedman #1, 300 rows, noise 0.5, not scaled."""
    return _read_only(*make_friedman1(n_samples=300, noise=0.5, random_state=0))


# ------------------------------------------------------ shared (MNIST) data
_DEFAULT_DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


def data_dir():
    """Folder of the shared data sets: ``$SKGF_DATA`` or ``../shared/data``."""
    return pathlib.Path(os.environ.get("SKGF_DATA", _DEFAULT_DATA))


def load_shared(name):
    """Arrays of ``<name>.npz`` from the shared data folder, or skip the test."""
    path = data_dir() / f"{name}.npz"
    if not path.exists():
        pytest.skip(f"{path} not present (set SKGF_DATA to the shared data folder)")
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


sys.modules.setdefault("skgf_test_data", sys.modules[__name__])
