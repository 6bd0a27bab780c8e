"""scikit-learn's estimator checks over every skgf estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

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

ESTIMATORS = [
    ZORBClassifier(random_state=0),
    ZORBRegressor(random_state=0),
    LRAClassifier(random_state=0),
    LRARegressor(random_state=0),
    RSOClassifier(random_state=0),
    RSORegressor(random_state=0),
    SemiImplicitBPClassifier(random_state=0),
    SemiImplicitBPRegressor(random_state=0),
]


# Checks that cannot pass, with the reason. Everything else must.
_RSO_WEIGHT_EQUIVALENCE = (
    "RSO keeps a proposal when it lowers the batch loss, a floating-point sum "
    "of row losses: a row weighted k and the same row repeated k times give "
    "equal sums only up to rounding, which flips near-tie accept/reject "
    "decisions and so the fitted weights (max |predict_proba difference| ~4e-3 "
    "here). Equal in exact arithmetic (same batch, proposals and loss). "
    "RSORegressor passes on this machine, by the luck of the rounding "
    "(non-strict xfail)."
)


_RSO_CLASS_WEIGHT = (
    "The check weighs class 0 by 1000 and the others by 1e-4 on noisy, unscaled "
    "blobs and wants > 87% of test points predicted as class 0. RSO accepts a "
    "weight change only when it lowers the weighted batch loss: the class-0 "
    "training rows are fitted within the first pass (weighted loss ~1e-6), "
    "after which no proposal improves it by tol and nothing pushes the "
    "boundary into the other classes (measured: 84% class 0 in the 3-class "
    "problem, 100% in the binary one; with tol=0 and 100 passes 62%, as the "
    "search then fits the light rows too). A property of the greedy search, "
    "not of the weights' plumbing (LRA, SIBP, ZORB pass)."
)


def _expected_failures(estimator):
    failures = {}
    if isinstance(estimator, (RSOClassifier, RSORegressor)):
        failures["check_sample_weight_equivalence_on_dense_data"] = _RSO_WEIGHT_EQUIVALENCE
    if isinstance(estimator, RSOClassifier):
        failures["check_class_weight_classifiers"] = _RSO_CLASS_WEIGHT
    return failures


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
