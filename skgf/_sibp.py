"""Semi-implicit BP estimators (Liu & Zhang, 2020).

The method, ``sibp_update`` and its rule ``SemiImplicitStep``, is in
``_sibp_rule.py``; the estimators here declare the parameters and build the
rule (the loop is ``BaseIterativeNetwork``'s). Where each parameter's value
comes from is on the documentation page ``doc/sibp.rst``.
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
from ._sibp_rule import SemiImplicitStep


class _BaseSIBP(BaseIterativeNetwork):
    """Parameters of the SIBP estimators and their update rule."""

    # Predictions clip each feature to its training range (doc, "Defaults"):
    # no unbounded extrapolation on rows far outside the training data.
    _clip_inputs = True

    _parameter_constraints = {
        **BaseIterativeNetwork._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "shuffle": ["boolean", StrOptions({"fixed_batches"})],
        "neuron_step_size": [Interval(Real, 0, None, closed="neither")],
        "proximal_weight": [Interval(Real, 0, None, closed="neither")],
        "refinement_steps": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        neuron_step_size=0.1,
        proximal_weight=0.01,
        refinement_steps=0,
        alpha="auto",
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        shuffle=True,
        random_state=None,
        verbose=False,
        warm_start=False,
        device=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.neuron_step_size = neuron_step_size
        self.proximal_weight = proximal_weight
        self.refinement_steps = refinement_steps
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.device = device

    def _make_rule(self):
        return SemiImplicitStep(
            classification=self._is_classifier(),
            neuron_step_size=self.neuron_step_size,
            proximal_weight=self.proximal_weight,
            alpha=self._alpha_value() * self._alpha_scale,
            refinement_steps=self.refinement_steps,
        )


_SIBP_DOCS = {
    "alpha": """alpha : float or "auto", default="auto"
        L2 penalty with ``MLPClassifier``'s convention (``alpha / 2 *
        ||W||^2`` per mini-batch sum), applied inside the proximal solve, not
        to the biases. Not in the paper. %(alpha_auto)s The candidates are
        0.03, 0.3 and 1.""",
    "method": """Each mini-batch takes one explicit gradient step on the output neurons
    (step ``neuron_step_size``) to get an output target; then, top layer
    first, each layer's weights and bias take a proximal step (a ridge-like
    least-squares fit of the layer's target, pulled toward the current
    weights by ``proximal_weight``), and the neuron difference is sent to
    the layer below through the just-updated weights. The per-layer solve is
    a ``batch x batch`` or ``width x width`` system, whichever is smaller.""",
    "params": """activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation (the paper uses ReLU). The output layer is linear.
    neuron_step_size : float, default=0.1
        The neuron step size eta (0.1 in the paper): the output target is
        the output minus eta times the loss gradient with respect to the
        output, and every neuron difference passed down scales with it.
    proximal_weight : float, default=0.01
        The proximal parameter lambda per batch row: each layer's solve
        penalises ``lambda * ||W - W_prev||^2`` with ``lambda =
        proximal_weight * batch rows`` against a batch-sum data term (the
        paper's lambda = 1 at batch size 100). As lambda grows the update
        tends to an SGD step with learning rate ``neuron_step_size /
        proximal_weight``; as it shrinks each layer jumps to the
        least-squares fit of its target.
    refinement_steps : int, default=0
        Extra solves of each hidden layer's proximal step, re-linearised at
        the new weights (Gauss-Newton steps on the exact proximal
        objective). 0 solves the activation linearised at the current
        pre-activation once.
    %(alpha)s
    batch_size : int or "auto", default="auto"
        Mini-batch rows; ``"auto"`` is ``min(200, n_samples)`` (the paper
        uses 100).
    max_iter : int, default=200
        Maximum number of epochs.
    %(tol)s
    %(early_stopping)s
    %(validation_fraction)s
    %(n_iter_no_change)s
    shuffle : bool or "fixed_batches", default=True
        ``True`` shuffles the rows into new mini-batches at every epoch.
        ``"fixed_batches"`` shuffles them into mini-batches once per ``fit``
        call and visits those batches in a new order each epoch; ``False``
        keeps consecutive rows in order. With fixed batches the first
        layer's proximal solve of each batch is factored once and reused
        (faster epochs, at the memory of one more copy of the training
        data); ``partial_fit`` treats ``"fixed_batches"`` as ``True``.""",
    "attributes": """%(coefs_)s
    %(intercepts_)s
    loss_curve_ : list of float
        Training loss of each epoch: the mean over the epoch's mini-batches
        of the loss before each update, plus the ``alpha`` term, as
        ``MLPClassifier.loss_curve_``.
    %(best_loss_)s
    %(validation_scores_)s
    %(best_validation_score_)s
    %(do_early_stopping_)s
    %(alpha_search_)s
    %(n_iter_)s
    %(n_layers_)s
    %(n_outputs_)s""",
    "references": """R. Liu and X. Zhang, "Semi-Implicit Back Propagation",
    arXiv:2002.03516, 2020.""",
}


@fill_doc(_SIBP_DOCS)
class SemiImplicitBPClassifier(IterativeClassifierMixin, NetworkClassifierMixin, _BaseSIBP):
    """Neural-network classifier trained by semi-implicit back propagation.

    %(method)s The loss is softmax cross-entropy on the linear output.

    %(sections)s

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skgf import SemiImplicitBPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = SemiImplicitBPClassifier(max_iter=10, random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.9
    True
    >>> len(clf.loss_curve_)
    10
    """

    # alpha="auto": the classifier's penalties to choose from; the first is
    # the constant default of earlier versions (doc/sibp.rst, "Defaults")
    _AUTO_ALPHA_CANDIDATES = (0.03, 0.3, 1.0)

    _parameter_constraints = {
        **_BaseSIBP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        neuron_step_size=0.1,
        proximal_weight=0.01,
        refinement_steps=0,
        alpha="auto",
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        shuffle=True,
        class_weight=None,
        random_state=None,
        verbose=False,
        warm_start=False,
        device=None,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            neuron_step_size=neuron_step_size,
            proximal_weight=proximal_weight,
            refinement_steps=refinement_steps,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            shuffle=shuffle,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            device=device,
        )
        self.class_weight = class_weight


_SIBP_REGRESSOR_DOCS = {
    "alpha": """alpha : float or "auto", default="auto"
        L2 penalty with ``MLPRegressor``'s convention (``alpha / 2 *
        ||W||^2`` per mini-batch sum), applied inside the proximal solve, not
        to the biases. ``"auto"`` is ``3000 / n_rows`` for ``n_rows``
        training rows, counted by their ``sample_weight`` (for
        ``partial_fit``: all rows given so far): strong
        on small noisy sets, which otherwise overfit, and weak on large
        ones; ``alpha_`` records it. Not in the paper.""",
}


@fill_doc(_SIBP_DOCS, _SIBP_REGRESSOR_DOCS)
class SemiImplicitBPRegressor(IterativeRegressorMixin, NetworkRegressorMixin, _BaseSIBP):
    """Neural-network regressor trained by semi-implicit back propagation.

    %(method)s The loss is half the squared error of the linear output on the
    standardised targets.

    %(sections)s

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgf import SemiImplicitBPRegressor
    >>> X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    >>> reg = make_pipeline(
    ...     StandardScaler(), SemiImplicitBPRegressor(max_iter=50, random_state=0)
    ... )
    >>> reg.fit(X[:750], y[:750]).score(X[750:], y[750:]) > 0.8
    True
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        neuron_step_size=0.1,
        proximal_weight=0.01,
        refinement_steps=0,
        alpha="auto",
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change=10,
        shuffle=True,
        random_state=None,
        verbose=False,
        warm_start=False,
        device=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            neuron_step_size=neuron_step_size,
            proximal_weight=proximal_weight,
            refinement_steps=refinement_steps,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            shuffle=shuffle,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            device=device,
        )
