"""scikit-learn's estimator checks, run once over every skgf estimator.

``parametrize_with_checks`` also yields the array-API checks
(``check_array_api_input`` with array_api_strict on both of its devices, in
float64 and float32, and torch / CuPy when installed) for estimators tagged
``array_api_support``: they run here too, not in a second parametrisation.
``tests/test_array_api.py`` adds what those checks do not test: that the
array-API fit gives the NumPy fit's predictions.

``EXPECTED_FAILURES`` is the one table of checks that cannot pass, each with
its reason; every other check must pass.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skgf_test_data import RSOClassifier, RSORegressor, all_estimators

_RSO_WEIGHT_EQUIVALENCE = (
    "RSO keeps a proposal when it lowers the batch loss, a floating-point sum "
    "of row losses: a row weighted k and the same row repeated k times give "
    "equal sums only up to rounding, which flips near-tie accept/reject "
    "decisions and so the fitted weights (max |predict_proba difference| ~4e-3 "
    "here). Equal in exact arithmetic (same batch, proposals and loss). "
    "Non-strict xfail: whether a near tie occurs depends on the rounding."
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

#: {estimator class: {check name: reason}}: the checks that cannot pass.
EXPECTED_FAILURES = {
    RSOClassifier: {
        "check_sample_weight_equivalence_on_dense_data": _RSO_WEIGHT_EQUIVALENCE,
        "check_class_weight_classifiers": _RSO_CLASS_WEIGHT,
    },
    RSORegressor: {
        "check_sample_weight_equivalence_on_dense_data": _RSO_WEIGHT_EQUIVALENCE,
    },
}


def _expected_failures(estimator):
    return EXPECTED_FAILURES.get(type(estimator), {})


@parametrize_with_checks(all_estimators(), expected_failed_checks=_expected_failures)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
