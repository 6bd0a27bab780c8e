"""scikit-learn's estimator checks over every skgf estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgf import (
    LRAClassifier,
    LRARegressor,
    SemiImplicitBPClassifier,
    SemiImplicitBPRegressor,
    ZORBClassifier,
    ZORBRegressor,
)

ESTIMATORS = [
    ZORBClassifier(random_state=0),
    ZORBRegressor(random_state=0),
    LRAClassifier(random_state=0),
    LRARegressor(random_state=0),
    SemiImplicitBPClassifier(random_state=0),
    SemiImplicitBPRegressor(random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
