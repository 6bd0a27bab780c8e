"""ZORB estimators (Ranganathan & Lewandowski, 2020).

The method, :class:`~skgf._zorb_rule.ZORBSweep`, is in ``_zorb_rule.py``; its
passes over dask arrays are in ``_zorb_blocks.py``. The estimators here
declare the parameters, build the sweep and hand it the validated data.
Where each parameter's value comes from, and what the paper leaves open, is
on the documentation page ``doc/zorb.rst``.
"""

from numbers import Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_random_state, validate_data

from ._activations import HIDDEN_ACTIVATIONS, softmax_inverse
from ._array_api import device_of, numpy_namespace
from ._base import BaseNetwork, NetworkClassifierMixin, NetworkRegressorMixin
from ._dask import lazy_training_data
from ._docs import fill_doc

# tests interrupt a fit by patching skgf._zorb.GramAccumulator.solve
from ._linalg import GramAccumulator  # noqa: F401
from ._network import forward
from ._zorb_blocks import (
    BlockRows,
    ClassCodes,
    Standardisation,
    check_lazy_fit,
    lazy_class_labels,
    lazy_target_moments,
)
from ._zorb_rule import ZORBSweep


class _BaseZORB(BaseNetwork):
    """Parameters of the ZORB estimators, their sweep and its data."""

    _parameter_constraints = {
        **BaseNetwork._parameter_constraints,
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "random_feature_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="tanh",
        alpha=1e-4,
        random_feature_weight=0.0,
        random_state=None,
        verbose=False,
        device=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.random_feature_weight = random_feature_weight
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def _make_rule(self):
        return ZORBSweep(
            activation=self.activation,
            alpha=self.alpha,
            random_feature_weight=self.random_feature_weight,
            verbose=self.verbose,
            name=type(self).__name__,
        )

    def _solve(self, xp, X, Y, hidden_layer_sizes, rng, incremental, sample_weight=None):
        T_out, row_codes = self._output_target(xp, Y)
        self.coefs_, self.intercepts_, self.activation_ranges_ = self._make_rule().fit_arrays(
            xp, X, T_out, hidden_layer_sizes, rng, row_codes=row_codes, sample_weight=sample_weight
        )
        self.n_iter_ = 1

    def _fit_lazy(self, X, y, sample_weight=None, incremental=False, classes=None):
        """Blockwise fit on dask arrays: one graph computation per pass over
        the data, the solves on the client in NumPy (see ``doc/dask.rst``)."""
        hidden = check_lazy_fit(self, sample_weight)
        X, y = lazy_training_data(X, y)
        validate_data(self, X, skip_check_array=True, reset=True)
        xp = numpy_namespace()
        encoding, T_distinct = self._lazy_targets(xp, y, X.dtype)
        rng = check_random_state(self.random_state)
        self.coefs_, self.intercepts_, self.activation_ranges_ = self._make_rule().fit(
            xp, BlockRows(X, y, encoding), encoding.n_outputs, hidden, rng, T_distinct=T_distinct
        )
        self.n_iter_ = 1
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = encoding.n_outputs
        return self

    def _output_target(self, xp, Y):
        """Output-layer target and, for classes, each sample's target row."""
        return Y, None

    def _forward(self, xp, X):
        return forward(
            xp, X, self.coefs_, self.intercepts_, self.activation, self.activation_ranges_
        )


_ZORB_DOCS = {
    "method": """The targets are pushed backwards once, through inverse activations and
    pseudoinverses of the randomly initialised weights; each layer is then
    fitted once, input to output, by ridge-regularised least squares from
    its actual input to its target. The fit is one pass over the data per
    layer; there is no learning rate, epoch or convergence loop.""",
    "hidden_layer_sizes": """hidden_layer_sizes : array-like of int, default=(100,)
        Width of each hidden layer. ``()`` fits the output layer alone:
        ridge regression of the (encoded) targets on ``X``.""",
    "activation": """activation : {"tanh", "logistic", "relu", "identity"}, default="tanh"
        Hidden activation. Bounded activations (``tanh``, ``logistic``) are
        range-rescaled to the targets they receive, the paper's rule;
        ``relu`` maps negative targets to zero, which discards information
        in deep stacks. The paper uses ``tanh`` and the logistic sigmoid.""",
    "alpha": """alpha : float, default=1e-4
        Ridge penalty added to each layer's normal equations; the bias is
        not penalised. The paper solves with an unregularised pseudoinverse
        (``0``); a small penalty keeps rank-deficient layers well posed.""",
    "random_feature_weight": """random_feature_weight : float, default=0.0
        Multiple of each hidden layer's initial random pre-activation added
        to its target, so that the fitted layer keeps random-feature
        directions next to the ones fitted to the target. Every hidden
        target of the paper's rule is a function of the
        ``n_outputs``-dimensional output target alone, so with few outputs
        (one regression target) the network stays close to a linear model.
        ``0`` is the paper's rule; a positive value is an extension.""",
    "class_weight": """class_weight : dict, "balanced" or None, default=None
        Weight of each class's samples in every layer's least-squares fit,
        multiplied into ``sample_weight``. ``"balanced"`` weighs class ``c``
        by ``n_samples / (n_classes * n_c)`` (sums of ``sample_weight`` when
        given), as scikit-learn's ``compute_class_weight``; a dict maps
        classes to weights (unlisted classes weigh 1).""",
    "verbose": """verbose : bool or int, default=False
        Print the time of each layer's solve.""",
    "activation_ranges_": """activation_ranges_ : list of (float, float) or None
        Output range fitted to each hidden activation (``None`` for
        unbounded activations).""",
    "n_iter_": """n_iter_ : int
        Always 1: every layer is solved once.""",
}


@fill_doc(_ZORB_DOCS)
class ZORBClassifier(NetworkClassifierMixin, _BaseZORB):
    """Neural-network classifier trained by ZORB, without gradients.

    ZORB (zeroth-order relaxed backpropagation) fits the one-hot (or
    inverse-softmax) class targets.

    %(method)s

    Parameters
    ----------
    %(hidden_layer_sizes)s
    %(activation)s
    %(alpha)s
    class_target : {"one_hot", "softmax_inverse"}, default="one_hot"
        Output target. ``"one_hot"`` regresses the one-hot labels with an
        identity output; ``"softmax_inverse"`` regresses the fixed logits
        ``log(clip(Y, 1e-5, 1))`` centred per row, the inverse of a softmax
        output (the paper's rule). ``predict_proba`` is the softmax of the
        output in both cases, which is a ranking, not a calibrated
        probability, for ``"one_hot"``.
    %(random_feature_weight)s
    %(class_weight)s
    %(random_state)s
    %(verbose)s
    %(device)s

    Attributes
    ----------
    %(classes_)s
    %(coefs_)s
    %(intercepts_)s
    %(activation_ranges_)s
    %(n_iter_)s
    %(n_layers_)s
    %(n_outputs_)s
    %(out_activation_classifier)s
    %(n_features_in_)s
    %(feature_names_in_)s

    See Also
    --------
    ZORBRegressor : The regression twin.
    sklearn.neural_network.MLPClassifier : Backpropagation-trained network.

    References
    ----------
    V. Ranganathan and A. Lewandowski, "ZORB: A Derivative-Free
    Backpropagation Algorithm for Neural Networks", arXiv:2011.08895, 2020.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skgf import ZORBClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = ZORBClassifier(hidden_layer_sizes=(200,), random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.9
    True
    >>> clf.predict_proba(X_test[:1]).shape
    (1, 10)
    """

    _parameter_constraints = {
        **_BaseZORB._parameter_constraints,
        "class_target": [StrOptions({"one_hot", "softmax_inverse"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="tanh",
        alpha=1e-4,
        class_target="one_hot",
        random_feature_weight=0.0,
        class_weight=None,
        random_state=None,
        verbose=False,
        device=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            alpha=alpha,
            random_feature_weight=random_feature_weight,
            random_state=random_state,
            verbose=verbose,
            device=device,
        )
        self.class_target = class_target
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (or a dask array, fitted blockwise).
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's squared error in every
            layer's fit: an integer weight is the same as repeating the
            sample, zero the same as leaving it out. ``None`` weighs all
            samples equally.

        Returns
        -------
        self : ZORBClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)

    def _output_target(self, xp, Y):
        classes = xp.eye(Y.shape[1], dtype=Y.dtype, device=device_of(Y))
        if self.class_target == "softmax_inverse":
            classes = softmax_inverse(xp, classes)
        return classes, xp.argmax(Y, axis=1)

    def _lazy_targets(self, xp, y, dtype):
        """Classes of a dask ``y`` (one pass over ``y``): the block encoding
        and the distinct output targets."""
        Y = self._encode_targets(lazy_class_labels(y), xp, "cpu", dtype, reset=True)
        T_distinct, _ = self._output_target(xp, Y)
        return ClassCodes(self.classes_), T_distinct


@fill_doc(_ZORB_DOCS)
class ZORBRegressor(NetworkRegressorMixin, _BaseZORB):
    """Neural-network regressor trained by ZORB, without gradients.

    ZORB (zeroth-order relaxed backpropagation) fits the standardised
    targets with a linear output layer.

    %(method)s

    Parameters
    ----------
    %(hidden_layer_sizes)s
    %(activation)s
    %(alpha)s
    %(random_feature_weight)s
    %(random_state)s
    %(verbose)s
    %(device)s

    Attributes
    ----------
    %(coefs_)s
    %(intercepts_)s
    %(activation_ranges_)s
    %(n_iter_)s
    %(n_layers_)s
    %(n_outputs_)s
    %(out_activation_regressor)s
    %(n_features_in_)s
    %(feature_names_in_)s

    See Also
    --------
    ZORBClassifier : The classification twin.
    sklearn.neural_network.MLPRegressor : Backpropagation-trained network.

    References
    ----------
    V. Ranganathan and A. Lewandowski, "ZORB: A Derivative-Free
    Backpropagation Algorithm for Neural Networks", arXiv:2011.08895, 2020.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skgf import ZORBRegressor
    >>> X, y = make_friedman1(n_samples=2000, noise=1.0, random_state=0)
    >>> paper = ZORBRegressor(random_state=0).fit(X[:1500], y[:1500])
    >>> round(paper.score(X[1500:], y[1500:]), 2)  # near a linear model
    0.69
    >>> variant = ZORBRegressor(hidden_layer_sizes=(300,), random_feature_weight=1.0,
    ...                         random_state=0).fit(X[:1500], y[:1500])
    >>> variant.score(X[1500:], y[1500:]) > 0.8
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (or a dask array, fitted blockwise).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the target standardisation
            and every layer's least-squares fit: an integer weight is the same
            as repeating the sample, zero the same as leaving it out.

        Returns
        -------
        self : ZORBRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)

    def _lazy_targets(self, xp, y, dtype):
        """Standardisation of a dask ``y`` (one pass over ``y``): the block
        encoding, and no distinct targets."""
        mean, std = lazy_target_moments(y)
        self._set_target_scale(mean, std, xp, "cpu", dtype)
        return Standardisation(self._y_mean, self._y_scale), None
