"""ZORB estimators (Ranganathan & Lewandowski, 2020).

The method, :class:`~skgf._zorb_rule.ZORBSweep`, is in ``_zorb_rule.py``; its
passes over dask arrays are in ``_zorb_blocks.py``. The estimators here
declare the parameters, build the sweep and hand it the validated data.
Where each parameter's value comes from, and what the paper leaves open, is
on the documentation page ``doc/zorb.rst``.
"""

import warnings
from numbers import Integral, Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_random_state, validate_data

from ._activations import HIDDEN_ACTIVATIONS, softmax_inverse
from ._array_api import device_of, numpy_namespace
from ._base import BaseNetwork, NetworkClassifierMixin, NetworkRegressorMixin, _caller_level
from ._dask import lazy_training_data
from ._docs import fill_doc
from ._losses import held_out_score
from ._network import forward
from ._zorb_blocks import (
    BlockRows,
    ClassCodes,
    Standardisation,
    check_lazy_fit,
    lazy_class_labels,
    lazy_target_moments,
)
from ._zorb_minimal import MinimalChangeSweeps
from ._zorb_rule import ZORBSweep


class _BaseZORB(BaseNetwork):
    """Parameters of the ZORB estimators, their sweep and its data."""

    # Predictions clip each feature to its training range (doc/zorb.rst,
    # "Defaults"): rows far outside it drive saturated hidden units into
    # combinations the least-squares fits never saw (far-out benchmark rows:
    # R^2 down to -14.7 without, see benchmarks/results/defaults.md)
    _clip_inputs = True

    _parameter_constraints = {
        **BaseNetwork._parameter_constraints,
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "random_feature_weight": [Interval(Real, 0, None, closed="left")],
        "weight_init": [StrOptions({"glorot_uniform", "landmarks", "normal"})],
        "target_rule": [StrOptions({"paper", "minimal_change"})],
        "n_sweeps": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="tanh",
        alpha=1e-4,
        random_feature_weight=0.0,
        weight_init="glorot_uniform",
        target_rule="paper",
        n_sweeps=1,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=3,
        tol=1e-4,
        random_state=None,
        verbose=False,
        device=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.random_feature_weight = random_feature_weight
        self.weight_init = weight_init
        self.target_rule = target_rule
        self.n_sweeps = n_sweeps
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    def _make_rule(self):
        return ZORBSweep(
            activation=self.activation,
            alpha=self.alpha,
            random_feature_weight=self.random_feature_weight,
            weight_init=self.weight_init,
            verbose=self.verbose,
            name=type(self).__name__,
        )

    def _n_fit_tasks(self, incremental, n_layers):
        # the callbacks' subtasks of a fit: layer solves, or sweeps
        return self.n_sweeps if self.target_rule == "minimal_change" else n_layers

    def _solve(
        self, xp, X, Y, hidden_layer_sizes, rng, incremental, sample_weight=None, **fit_context
    ):
        progress = fit_context.get("progress")  # ZORB takes no validation set
        self.hidden_layer_sizes_ = tuple(hidden_layer_sizes)
        self._record_input_range(xp, X, fresh=True, sample_weight=sample_weight)
        if self.target_rule == "minimal_change":
            return self._solve_minimal_change(
                xp, X, Y, hidden_layer_sizes, rng, sample_weight, progress
            )
        self._warn_unused_sweep_settings()
        T_out, row_codes = self._output_target(xp, Y)
        self.coefs_, self.intercepts_, self.activation_ranges_ = self._make_rule().fit_arrays(
            xp,
            X,
            T_out,
            hidden_layer_sizes,
            rng,
            row_codes=row_codes,
            sample_weight=sample_weight,
            progress=progress,
        )
        self.n_iter_ = 1

    def _warn_unused_sweep_settings(self):
        """The paper's rule has no sweeps: say that ``early_stopping`` and
        ``n_sweeps`` are unused rather than ignore them (as scikit-learn's
        LogisticRegression does for an ``l1_ratio`` without elasticnet)."""
        if self.early_stopping or self.n_sweeps != 1:
            warnings.warn(
                f"{type(self).__name__}: early_stopping and n_sweeps apply to "
                "target_rule='minimal_change' only; the paper's rule fits in one "
                "closed-form pass and ignores them.",
                UserWarning,
                stacklevel=_caller_level(),
            )

    def _solve_minimal_change(
        self, xp, X, Y, hidden_layer_sizes, rng, sample_weight, progress=None
    ):
        """Sweeps of the minimal-change rule, with a held-out split when
        ``early_stopping`` (its best sweep is kept)."""
        T_distinct, row_codes = self._output_target(xp, Y)
        T_out = T_distinct if row_codes is None else xp.take(T_distinct, row_codes, axis=0)
        validation = None
        if self.early_stopping:
            n_val = max(1, int(round(self.validation_fraction * X.shape[0])))
            order = rng.permutation(X.shape[0])
            if X.shape[0] - n_val < 2:
                raise ValueError(
                    f"early_stopping needs at least 2 training rows besides the "
                    f"{n_val} held out; got {X.shape[0]} rows in all."
                )
            held = xp.asarray(order[:n_val], device=device_of(X))
            kept = xp.asarray(order[n_val:], device=device_of(X))
            validation = self._validation_score(
                xp, xp.take(X, held, axis=0), xp.take(T_out, held, axis=0)
            )
            X, T_out = xp.take(X, kept, axis=0), xp.take(T_out, kept, axis=0)
            if sample_weight is not None:
                sample_weight = xp.take(sample_weight, kept, axis=0)
        sweeps = MinimalChangeSweeps(
            self.activation,
            self.alpha,
            self.n_sweeps,
            self.tol,
            self.n_iter_no_change,
            weight_init=self.weight_init,
            verbose=self.verbose,
            name=type(self).__name__,
        )
        coefs, intercepts, ranges, history = sweeps.fit(
            xp, X, T_out, hidden_layer_sizes, rng, sample_weight, validation, progress
        )
        self.coefs_, self.intercepts_, self.activation_ranges_ = coefs, intercepts, ranges
        self.loss_curve_ = history["loss"]
        self.n_iter_ = len(self.loss_curve_)
        if self.early_stopping:
            self.validation_scores_ = history["validation"]
            self.best_validation_score_ = max(self.validation_scores_)

    def _validation_score(self, xp, X_val, T_val):
        """Score of a network on the held-out rows: accuracy for classes,
        the mean R^2 of the (standardised) targets otherwise."""
        classification = self._is_classifier()

        def score(coefs, intercepts, ranges):
            Z = forward(xp, X_val, coefs, intercepts, self.activation, ranges)
            return held_out_score(xp, Z, T_val, classification)

        return score

    def _fit_lazy(self, X, y, sample_weight=None, incremental=False, classes=None):
        """Blockwise fit on dask arrays: one graph computation per pass over
        the data, the solves on the client in NumPy (see ``doc/dask.rst``)."""
        if self.target_rule != "paper":
            raise ValueError(
                f"{type(self).__name__}(target_rule={self.target_rule!r}) needs "
                "in-memory data: dask fits support the paper's rule only. "
                "Compute the arrays first, or use target_rule='paper'."
            )
        if self.weight_init == "landmarks":
            raise ValueError(
                f"{type(self).__name__}(weight_init='landmarks') draws its first "
                "layer from training rows, which needs in-memory data: dask fits "
                "take weight_init='glorot_uniform' or 'normal'. Compute the arrays first."
            )
        check_lazy_fit(self, sample_weight)
        self._warn_unused_sweep_settings()
        X, y = lazy_training_data(X, y)
        validate_data(self, X, skip_check_array=True, reset=True)
        xp = numpy_namespace()
        encoding, T_distinct = self._lazy_targets(xp, y, X.dtype)
        hidden = self.hidden_layer_sizes_ = self._hidden_layer_widths()
        rng = check_random_state(self.random_state)
        rows = BlockRows(X, y, encoding)
        self.coefs_, self.intercepts_, self.activation_ranges_ = self._make_rule().fit(
            xp, rows, encoding.n_outputs, hidden, rng, T_distinct=T_distinct
        )
        self._input_range = rows.input_range  # taken in the first layer's pass
        self.n_iter_ = 1
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = encoding.n_outputs
        return self

    def _output_target(self, xp, Y):
        """Output-layer target and, for classes, each sample's target row."""
        return Y, None

    def _forward(self, xp, X):
        return forward(
            xp,
            self._clipped(xp, X),
            self.coefs_,
            self.intercepts_,
            self.activation,
            self.activation_ranges_,
        )


_ZORB_DOCS = {
    "method": """The targets are pushed backwards once, through inverse activations and
    pseudoinverses of the randomly initialised weights; each layer is then
    fitted once, input to output, by ridge-regularised least squares from
    its actual input to its target. The fit is one pass over the data per
    layer; there is no learning rate, epoch or convergence loop.""",
    "hidden_layer_sizes": """hidden_layer_sizes : array-like of int, default=(100,)
        Width of each hidden layer. ``()`` fits the output layer alone:
        ridge regression of the (encoded) targets on ``X`` (whose features
        ``predict`` clips to their training range, see Notes).""",
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
    "weight_init": """weight_init : {"glorot_uniform", "landmarks", "normal"}, \
default="glorot_uniform"
        Initial weights. ``"glorot_uniform"`` draws every layer as
        ``MLPClassifier`` does. ``"landmarks"`` (an extension) points each
        unit of the first hidden layer at a training row drawn at random
        (with probability proportional to its sample weight): the unit's
        pre-activation is ``-1`` at the landmarks' mean and ``+1`` at its
        landmark, like a kernel function centred on that row; deeper layers
        stay Glorot-uniform; in-memory data only. ``"normal"`` (an extension)
        draws the first hidden layer's weights from ``N(0, 0.25 /
        n_features)`` and its biases from ``N(0, 1)``: on standardised inputs
        every unit works in the non-linear range of its activation, however
        few the features; dask fits take it too. Both change what
        ``random_feature_weight`` and ``"minimal_change"`` keep of the first
        layer; the paper's rule without ``random_feature_weight`` refits
        every layer from targets that do not depend on the first layer's
        initial weights, so there they change nothing.""",
    "sweeps": """target_rule : {"paper", "minimal_change"}, default="paper"
        Hidden targets. ``"paper"``: the paper's rule, one backward sweep
        through the initial weights, then one solve per layer.
        ``"minimal_change"``: each hidden layer's target is its current
        output plus the least-norm correction that moves the layer above
        onto its target, ``t_l = h_l + (z*_{l+1} - z_{l+1}) pinv(W_{l+1})``;
        every layer is refitted in ``n_sweeps`` sweeps (an extension; see
        the ZORB page of the documentation for when it wins).
    n_sweeps : int, default=1
        Sweeps of the ``"minimal_change"`` rule (``"paper"`` ignores it and
        warns when it is not 1).
        The first sweep starts from the random initial weights, so its
        targets keep the random features; later sweeps refit every layer
        through the fitted weights above it.
    early_stopping : bool, default=False
        With ``"minimal_change"``: hold out ``validation_fraction`` of the
        training rows, stop when their score has not improved by ``tol`` for
        ``n_iter_no_change`` sweeps, and keep the best sweep's weights.
        ``"paper"`` ignores it (one closed-form pass) and warns when it is set.
    validation_fraction : float, default=0.1
        Share of the training rows held out by ``early_stopping``.
    n_iter_no_change : int, default=3
        Sweeps without a ``tol`` improvement before ``early_stopping`` stops.
    tol : float, default=1e-4
        Improvement of the validation score that counts for
        ``early_stopping``.""",
    "sweep_attributes": """loss_curve_ : list of float
        Training loss (half the mean squared error of the output target)
        after each sweep; only with ``"minimal_change"``.
    validation_scores_ : list of float
        Held-out score after each sweep (accuracy, or mean R^2 of the
        standardised targets); only with ``early_stopping``.
    best_validation_score_ : float
        Best of ``validation_scores_``; only with ``early_stopping``.""",
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
        Sweeps run: 1 for the paper's rule (every layer solved once).""",
    "params": """%(activation)s
    %(alpha)s
    %(random_feature_weight)s
    %(weight_init)s
    %(sweeps)s""",
    "params_tail": """%(random_state)s
    %(verbose)s
    %(device)s""",
    "attributes": """%(coefs_)s
    %(intercepts_)s
    hidden_layer_sizes_ : tuple of int
        Width of each hidden layer of the fit (``hidden_layer_sizes`` with
        ``"auto"`` resolved).
    %(activation_ranges_)s
    %(n_iter_)s
    %(sweep_attributes)s
    %(n_layers_)s
    %(n_outputs_)s""",
    "references": """V. Ranganathan and A. Lewandowski, "ZORB: A Derivative-Free
    Backpropagation Algorithm for Neural Networks", arXiv:2011.08895, 2020.""",
}

# The classifier's output target sits between alpha and random_feature_weight.
_ZORB_CLASSIFIER_DOCS = {
    "hidden_layer_sizes": """hidden_layer_sizes : "auto" or array-like of int, default="auto"
        Width of each hidden layer. ``"auto"`` is one hidden layer of
        ``min(max(100, 10 * n_classes), 1000)`` units, ``n_classes`` taken
        from ``y`` at fit (see ``hidden_layer_sizes_``). ``()`` fits the
        output layer alone: ridge regression of the one-hot targets on
        ``X`` (whose features ``predict`` clips to their training range, see
        Notes).""",
    "params": """%(activation)s
    %(alpha)s
    class_target : {"one_hot", "softmax_inverse"}, default="one_hot"
        Output target. ``"one_hot"`` regresses the one-hot labels with an
        identity output; ``"softmax_inverse"`` regresses the fixed logits
        ``log(clip(Y, 1e-5, 1))`` centred per row, the inverse of a softmax
        output (the paper's rule). ``predict_proba`` is the softmax of the
        output in both cases, which is a ranking, not a calibrated
        probability, for ``"one_hot"``.
    %(random_feature_weight)s
    %(weight_init)s
    %(sweeps)s""",
}


# hidden_layer_sizes="auto" of the classifier: min(max(100, 10 * n_classes), 1000)
# units (the cap keeps a default fit with hundreds of classes, or integer IDs
# passed as labels, from growing a Gram of (10 * n_classes)^2 numbers)
_AUTO_MIN_WIDTH = 100
_AUTO_UNITS_PER_CLASS = 10
_AUTO_MAX_WIDTH = 1000


def _is_auto(value):
    return isinstance(value, str) and value == "auto"


@fill_doc(_ZORB_DOCS, _ZORB_CLASSIFIER_DOCS)
class ZORBClassifier(NetworkClassifierMixin, _BaseZORB):
    """Neural-network classifier trained by ZORB, without gradients.

    ZORB (zeroth-order relaxed backpropagation) fits the one-hot (or
    inverse-softmax) class targets.

    %(method)s

    %(sections)s

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
        "hidden_layer_sizes": [
            *_BaseZORB._parameter_constraints["hidden_layer_sizes"],
            StrOptions({"auto"}),
        ],
        "class_target": [StrOptions({"one_hot", "softmax_inverse"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes="auto",
        activation="tanh",
        alpha=1e-4,
        class_target="one_hot",
        random_feature_weight=0.0,
        weight_init="glorot_uniform",
        target_rule="paper",
        n_sweeps=1,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=3,
        tol=1e-4,
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
            weight_init=weight_init,
            target_rule=target_rule,
            n_sweeps=n_sweeps,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
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

    def _check_hidden_layer_sizes(self):
        if _is_auto(self.hidden_layer_sizes):
            return
        try:
            super()._check_hidden_layer_sizes()
        except ValueError:
            raise ValueError(
                'hidden_layer_sizes must be "auto" or a tuple of positive integers, '
                f"got {self.hidden_layer_sizes!r}."
            ) from None

    def _hidden_layer_widths(self):
        if _is_auto(self.hidden_layer_sizes):
            # the paper's rule fits every hidden unit to a function of the
            # n_classes-dimensional target: more classes, more units
            width = max(_AUTO_MIN_WIDTH, _AUTO_UNITS_PER_CLASS * len(self.classes_))
            return (min(width, _AUTO_MAX_WIDTH),)
        return super()._hidden_layer_widths()

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

    %(sections)s

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
