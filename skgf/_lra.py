"""rec-LRA estimators: recursive local representation alignment (Ororbia et al.).

The method itself, its update rule ``RecursiveLRA`` and the recursion of
error units, is in ``_lra_rule.py``; the estimators here only declare the
parameters and build the rule (the loop is ``BaseIterativeNetwork``'s).
Where each parameter's value comes from is on the documentation page
``doc/lra.rst``.
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from ._base import NetworkClassifierMixin, NetworkRegressorMixin
from ._docs import fill_doc
from ._iterative import (
    BaseIterativeNetwork,
    IterativeClassifierMixin,
    IterativeRegressorMixin,
)
from ._lra_rule import RecursiveLRA


class _BaseLRA(BaseIterativeNetwork):
    """Parameters of the rec-LRA estimators and their update rule."""

    # Predictions clip each feature to its training range (doc, "Defaults"):
    # no unbounded extrapolation on rows far outside the training data.
    _clip_inputs = True
    # the regressor's row rule (alpha="auto" starts from it): 0.3, the value
    # measured on diabetes (331 rows) before the regressor's search, up to
    # 333 rows, then 100 / n_rows, so that it fades on large sets; the cap
    # is the rule's, the search's multiples go above it (doc/lra.rst,
    # "Defaults")
    _AUTO_ALPHA_ROWS = 100.0
    _AUTO_ALPHA_MAX = 0.3

    # batch_size="auto": at least 10 mini-batches (of at least 8 rows) per
    # epoch, so that a small data set gets enough optimiser steps to get
    # through the phase in which the forward weights align with the random
    # feedback (doc/lra.rst, "Defaults").
    _auto_min_batches = 10
    _auto_min_batch_rows = 8

    _parameter_constraints = {
        **BaseIterativeNetwork._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "shuffle": ["boolean"],
        "solver": [StrOptions({"adam", "sgd"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "target_step": [Interval(Real, 0, None, closed="neither")],
        "feedback": [StrOptions({"kolen_pollack", "displacement", "fixed"})],
        "feedback_init": [StrOptions({"scaled_normal", "unit_normal"})],
        "feedback_update_scale": [Interval(Real, 0, None, closed="left")],
        "error_l2_weight": [Interval(Real, 0, 1, closed="both")],
        "error_skip_every": [StrOptions({"auto"}), Interval(Integral, 0, None, closed="left")],
        "update_clip": [Interval(Real, 0, None, closed="neither"), None],
        "input_noise": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        alpha="auto",
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        shuffle=True,
        solver="adam",
        momentum=0.9,
        target_step=0.1,
        feedback="kolen_pollack",
        feedback_init="scaled_normal",
        feedback_update_scale=1.0,
        error_l2_weight=1.0,
        error_skip_every="auto",
        update_clip=None,
        input_noise=0.0,
        random_state=None,
        verbose=False,
        warm_start=False,
        device=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.solver = solver
        self.momentum = momentum
        self.target_step = target_step
        self.feedback = feedback
        self.feedback_init = feedback_init
        self.feedback_update_scale = feedback_update_scale
        self.error_l2_weight = error_l2_weight
        self.error_skip_every = error_skip_every
        self.update_clip = update_clip
        self.input_noise = input_noise
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.device = device

    def _make_rule(self):
        # Python floats: a NumPy float64 from a grid (np.logspace) would
        # promote a float32 fit's arrays to float64 (NumPy 2's scalar rules)
        return RecursiveLRA(
            classification=self._is_classifier(),
            target_step=float(self.target_step),
            error_l2_weight=float(self.error_l2_weight),
            alpha=float(self._alpha_value() * self._alpha_scale),
            feedback_rule=self.feedback,
            feedback_init=self.feedback_init,
            feedback_update_scale=float(self.feedback_update_scale),
            error_skip_every=self.error_skip_every,
            update_clip=None if self.update_clip is None else float(self.update_clip),
            input_noise=float(self.input_noise),
            solver=self.solver,
            learning_rate=float(self.learning_rate_init),
            momentum=float(self.momentum),
        )

    @property
    def feedback_matrices_(self):
        """Error-feedback matrix of each hidden layer (read-only)."""
        return self._fitted_rule_state("feedback_matrices_").feedback


_LRA_DOCS = {
    "method": """rec-LRA trains every layer from a local target instead of a
    back-propagated gradient. Going down the network, each hidden layer
    receives an upper layer's error through an error-feedback matrix ``E``
    (not the transposed forward weights), forms the target ``phi(h - beta
    e_src E)`` and its own error unit ``z - target``; each layer's weights
    then move along the Hebbian product of its input and its error unit.
    The updates are fed to Adam (or SGD) as if they were gradients.""",
    "params": """activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation, applied both in the forward pass and to each
        layer's nudged target (the paper uses ReLU).
    alpha : float or "auto", default="auto"
        L2 penalty, added to every local update as in ``MLPClassifier``
        (``(a^T e + alpha W) / batch_size``), and to the feedback updates.
        For the classifier, %(alpha_auto)s The candidates are 1e-4, 0.03 and
        0.3. For the regressor, ``"auto"`` starts from the row rule
        ``min(0.3, 100 / n_rows)`` for the ``n_rows`` rows given to ``fit``,
        held-out ones included and counted by their ``sample_weight`` (for
        ``partial_fit``: all rows given so far), a penalty that fades on
        large sets; a fresh ``fit`` of 50 to 2,000 rows chooses among 1, 3
        and 10 times it on held-out rows, as the classifier does, since
        small noisy sets need more.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)`` rows, but at
        most ``ceil(n_samples / 10)`` and at least 8 rows from 100 rows on:
        at least ten optimiser steps per epoch on small sets
        (``MLPClassifier`` takes one step per epoch below 200 rows); fewer
        than 100 rows are one batch.
    learning_rate_init : float, default=1e-3
        Step size of the optimiser ``solver``.
    max_iter : int, default=200
        Number of epochs (passes over the training data).
    %(tol)s
    %(early_stopping)s
    %(validation_fraction)s
    %(n_iter_no_change)s
    %(shuffle)s
    solver : {"adam", "sgd"}, default="adam"
        Optimiser applied to the local updates, which it treats as
        gradients: Adam, or SGD with ``momentum``.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"`` (``0`` gives plain SGD).
    target_step : float, default=0.1
        Strength ``beta`` of the nudge of each hidden layer's target,
        ``y = phi(h - beta * d)`` (0.1 in the paper).
    feedback : {"kolen_pollack", "displacement", "fixed"}, default="kolen_pollack"
        Whether and how the error-feedback matrices learn.
        ``"kolen_pollack"`` updates each one with the transpose of the
        Hebbian update of the layer it mirrors, so that it tracks the
        transposed forward weights; ``"displacement"`` uses ``dE = -gamma
        e_src^T d`` (the error consumed times the displacement produced);
        ``"fixed"`` keeps the random initial matrices (feedback alignment).
        All three use only the error of the source layer and quantities of
        the receiving layer.
    feedback_init : {"scaled_normal", "unit_normal"}, default="scaled_normal"
        Initial feedback matrices: ``N(0, 1 / n_source)``, which keeps the
        displacements on the scale of the errors, or ``N(0, 1)`` (the
        paper's).
    feedback_update_scale : float, default=1.0
        Scale ``gamma`` of the feedback updates. Adam makes the result
        nearly insensitive to it; with ``solver="sgd"`` it scales the
        feedback learning rate.
    error_l2_weight : float, default=1.0
        Weight ``alpha_e`` of the squared-error part of each hidden error
        unit, ``e = alpha_e (z - y) + (1 - alpha_e) sign(z - y)``; 1 is pure
        L2 (the paper reports 0.19 to 0.24).
    error_skip_every : int or "auto", default="auto"
        Error skip connections: hidden layers ``k`` layers below the output
        with ``k`` a multiple of this take their target from the output
        error directly. ``0`` turns them off; ``"auto"`` uses 2 for networks
        with at least 4 hidden layers and 0 otherwise.
    update_clip : float or None, default=None
        If set, every update tensor is rescaled to Frobenius norm at most
        this (the paper's re-projection onto a Gaussian ball).
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to the training inputs of
        every mini-batch (0.1 in the paper).""",
    "attributes": """%(coefs_)s
    %(intercepts_)s
    feedback_matrices_ : list of arrays
        Error-feedback matrix of each hidden layer, shape (width of its
        error source, width of the layer).
    loss_curve_ : list of float
        Mean training loss of every epoch (measured on each mini-batch
        before its update, without the L2 penalty).
    %(best_loss_)s
    %(validation_scores_)s
    %(best_validation_score_)s
    %(do_early_stopping_)s
    %(alpha_search_)s
    %(n_iter_)s
    %(n_layers_)s
    %(n_outputs_)s""",
    "notes": """Every update is local: layer ``i``'s weight update reads only its input
    activity and its own error unit, and the error units are built from the
    upper errors through ``feedback_matrices_`` alone (the forward weights
    never carry an error backwards). ``partial_fit`` runs one epoch over the
    data it is given, with the same mini-batches and optimiser state as
    ``fit``. Forward weights start as in ``MLPClassifier`` (Glorot uniform).""",
    "references": """A. Ororbia, A. Mali, D. Kifer and C. L. Giles, "Backpropagation-Free Deep
    Learning with Recursive Local Representation Alignment", AAAI 2023
    (arXiv:2002.03911, 2020).""",
}


@fill_doc(_LRA_DOCS)
class LRAClassifier(IterativeClassifierMixin, NetworkClassifierMixin, _BaseLRA):
    """Neural-network classifier trained by recursive local representation alignment.

    %(method)s The output error is ``softmax(h) - y``.

    %(sections)s

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgf import LRAClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     LRAClassifier(max_iter=50, random_state=0))
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.95
    True
    >>> clf.predict_proba(X_test[:1]).shape
    (1, 10)
    """

    # alpha="auto": the classifier's penalties to choose from; the first is
    # MLPClassifier's, and 0.3 keeps adult's 89 one-hot columns from being
    # overfitted (doc/lra.rst, "Defaults")
    _AUTO_ALPHA_CANDIDATES = (1e-4, 0.03, 0.3)

    _parameter_constraints = {
        **_BaseLRA._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        alpha="auto",
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        shuffle=True,
        solver="adam",
        momentum=0.9,
        target_step=0.1,
        feedback="kolen_pollack",
        feedback_init="scaled_normal",
        feedback_update_scale=1.0,
        error_l2_weight=1.0,
        error_skip_every="auto",
        update_clip=None,
        input_noise=0.0,
        class_weight=None,
        random_state=None,
        verbose=False,
        warm_start=False,
        device=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            shuffle=shuffle,
            solver=solver,
            momentum=momentum,
            target_step=target_step,
            feedback=feedback,
            feedback_init=feedback_init,
            feedback_update_scale=feedback_update_scale,
            error_l2_weight=error_l2_weight,
            error_skip_every=error_skip_every,
            update_clip=update_clip,
            input_noise=input_noise,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            device=device,
        )
        self.class_weight = class_weight


@fill_doc(_LRA_DOCS)
class LRARegressor(IterativeRegressorMixin, NetworkRegressorMixin, _BaseLRA):
    """Neural-network regressor trained by recursive local representation alignment.

    %(method)s The output layer is linear and its error is ``h - y`` on
    standardised targets.

    %(sections)s

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgf import LRARegressor
    >>> X, y = make_friedman1(n_samples=2000, noise=1.0, random_state=0)
    >>> reg = make_pipeline(StandardScaler(),
    ...                     LRARegressor(max_iter=100, random_state=0))
    >>> reg.fit(X[:1500], y[:1500]).score(X[1500:], y[1500:]) > 0.85
    True
    """

    # alpha="auto": on 50 to 2,000 rows, the penalty is chosen on held-out
    # rows among these multiples of the row rule (doc/lra.rst, "Defaults")
    _AUTO_ALPHA_RULE_MULTIPLES = (1.0, 3.0, 10.0)
    _AUTO_ALPHA_SEARCH_ROWS = (50, 2000)

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        alpha="auto",
        batch_size="auto",
        learning_rate_init=1e-3,
        max_iter=200,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        shuffle=True,
        solver="adam",
        momentum=0.9,
        target_step=0.1,
        feedback="kolen_pollack",
        feedback_init="scaled_normal",
        feedback_update_scale=1.0,
        error_l2_weight=1.0,
        error_skip_every="auto",
        update_clip=None,
        input_noise=0.0,
        random_state=None,
        verbose=False,
        warm_start=False,
        device=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            max_iter=max_iter,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            shuffle=shuffle,
            solver=solver,
            momentum=momentum,
            target_step=target_step,
            feedback=feedback,
            feedback_init=feedback_init,
            feedback_update_scale=feedback_update_scale,
            error_l2_weight=error_l2_weight,
            error_skip_every=error_skip_every,
            update_clip=update_clip,
            input_noise=input_noise,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            device=device,
        )
