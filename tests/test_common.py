"""scikit-learn's estimator checks, run once over every skgf estimator.

``parametrize_with_checks`` also yields the array-API checks
(``check_array_api_input`` with array_api_strict on both of its devices, in
float64 and float32, and torch / CuPy when installed) for estimators tagged
``array_api_support``: they run here too, not in a second parametrisation.
``tests/test_array_api.py`` adds what those checks do not test: that the
array-API fit gives the NumPy fit's model.

``EXPECTED_FAILURES`` is the one table of checks that cannot pass, each with
its reason; every other check must pass, and an expected failure that passes
fails the run (``xfail_strict`` in pyproject.toml), so the table stays exact.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skgf_test_data import (
    ALL_ESTIMATORS,
    LRAClassifier,
    LRARegressor,
    RSOClassifier,
    RSORegressor,
    SemiImplicitBPClassifier,
    SemiImplicitBPRegressor,
)

# the iterations are capped (CHECK_PARAMS): the fits stop before converging
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# The checks run the default networks (what a user gets), with fewer
# iterations where that keeps them fast: still enough to pass the checks'
# accuracy floors (check_classifiers_train: 0.83, check_regressors_train:
# R^2 0.5; LRA needs about 30 iterations, measured).
CHECK_PARAMS = {
    LRAClassifier: dict(max_iter=50),
    LRARegressor: dict(max_iter=50),
    SemiImplicitBPClassifier: dict(max_iter=20),
    SemiImplicitBPRegressor: dict(max_iter=20),
    RSOClassifier: dict(max_iter=3),
    RSORegressor: dict(max_iter=3),
}

#: {estimator class: {check name: reason}}: the checks that cannot pass.
EXPECTED_FAILURES = {}
# check_class_weight_classifiers (class 0 weighed 1000, the others 1e-4; > 87%
# of test points must be predicted as class 0) failed for RSOClassifier with
# the paper's alpha=0 (84%): once the heavy rows were fitted, no proposal
# lowered the batch loss by more than a tie and the boundary stayed where it
# was. With the default penalty (alpha=3) it passes.
# check_sample_weight_equivalence_on_dense_data passes for RSO too: a row of
# weight zero must act as a removed row, so the search's "input is zero on
# the whole batch" shortcut counts only rows of positive weight (it once
# counted zero-weight rows, and with alpha > 0 a penalty-only proposal was
# then judged in one fit and skipped in the other).


def _expected_failures(estimator):
    return EXPECTED_FAILURES.get(type(estimator), {})


def _check_estimators():
    return [
        Estimator(random_state=0, **CHECK_PARAMS.get(Estimator, {})) for Estimator in ALL_ESTIMATORS
    ]


@parametrize_with_checks(_check_estimators(), expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
