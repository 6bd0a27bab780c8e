"""RSO estimators (Singh & Tripathi, 2020).

The update rule, :class:`~skgf._rso_rule.RandomSearchPass`, is in
``_rso_rule.py`` and its incremental evaluators in ``_rso_units.py``; the
estimators here declare the parameters and build the rule (the loop is
``BaseIterativeNetwork``'s). Where each parameter's value comes from is on
the documentation page ``doc/rso.rst``.
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
from ._rso_rule import RandomSearchPass


class _BaseRSO(BaseIterativeNetwork):
    """Parameters of the RSO estimators and their update rule."""

    _iteration_name = "pass"  # over every weight

    _parameter_constraints = {
        **BaseIterativeNetwork._parameter_constraints,
        "perturbation_scale": [Interval(Real, 0, None, closed="neither")],
        "final_perturbation_scale": [Interval(Real, 0, None, closed="neither")],
        "annealing": [StrOptions({"linear", "constant"})],
        "perturbation_reference": [StrOptions({"current", "initial"})],
        "layer_order": [StrOptions({"backward", "forward"})],
        "visiting_order": [StrOptions({"unit", "random"})],
        "batch_refresh": [StrOptions({"unit"}), Interval(Integral, 1, None, closed="left")],
        "weight_init": [StrOptions({"he_normal", "glorot_normal"})],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
    }

    # ``batch_size="auto"``: 1000 rows, or 1/40 of them on sets above 40,000
    # rows (at most 2000): a pass costs batch rows x proposals whatever the
    # set's size, and on a large set the more precise decisions of a larger
    # batch lift the plateau (MNIST: 0.946 at 1000 rows, 0.954 at 1500;
    # doc/rso.rst, "Defaults")
    _auto_batch_size = 1000
    _auto_batch_fraction = 40
    _auto_max_batch_size = 2000
    # Predictions clip each feature to its training range, as rec-LRA's and
    # SIBP's do: a ReLU network extrapolates without bound on rows far outside
    # it (diabetes with three far-out test rows: R^2 -35.7 without, 0.03 with)
    _clip_inputs = True

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        batch_size="auto",
        max_iter=10,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        perturbation_scale=1.0,
        final_perturbation_scale=0.1,
        annealing="linear",
        perturbation_reference="current",
        layer_order="backward",
        visiting_order="unit",
        batch_refresh=200,
        weight_init="he_normal",
        alpha="auto",
        random_state=None,
        verbose=False,
        warm_start=False,
        device=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.perturbation_scale = perturbation_scale
        self.final_perturbation_scale = final_perturbation_scale
        self.annealing = annealing
        self.perturbation_reference = perturbation_reference
        self.layer_order = layer_order
        self.visiting_order = visiting_order
        self.batch_refresh = batch_refresh
        self.weight_init = weight_init
        self.alpha = alpha
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.device = device

    @property
    def _init_scheme(self):
        return "he_normal" if self.weight_init == "he_normal" else "glorot_normal_bias0"

    def _make_rule(self):
        return RandomSearchPass(
            classification=self._is_classifier(),
            perturbation_scale=self.perturbation_scale,
            final_perturbation_scale=self.final_perturbation_scale,
            annealing=self.annealing,
            n_passes=self.max_iter,
            perturbation_reference=self.perturbation_reference,
            layer_order=self.layer_order,
            visiting_order=self.visiting_order,
            batch_refresh=self.batch_refresh,
            alpha=self._alpha_value() * self._alpha_scale,
        )

    def _auto_batch_rows(self, n_samples):
        rows = max(self._auto_batch_size, n_samples // self._auto_batch_fraction)
        return min(rows, self._auto_max_batch_size)

    @property
    def acceptance_rates_(self):
        """Fraction of the proposals of each pass that changed a weight."""
        return self._fitted_rule_state("acceptance_rates_").acceptance_rates


_RSO_DOCS = {
    "early_stopping": """early_stopping : bool or "auto", default=False
        Hold out ``validation_fraction`` of the training data, stop when
        neither its score nor its loss has improved by ``tol`` for
        ``n_iter_no_change`` passes, and keep the weights of the best
        validation score (a tie going to the lower loss). ``"auto"`` turns
        it on when ``fit`` gets more than 10,000 rows or an ``X_val``. Off by
        default: RSO's few passes rarely stop early, so the held-out rows
        would only be missing from the search.""",
    "alpha": """alpha : float or "auto", default="auto"
        L2 penalty with ``MLPClassifier``'s convention (``alpha / 2 *
        ||W||^2`` per mini-batch sum, biases not penalised): a proposal is
        kept when the batch loss plus the penalty drops. ``0`` is the paper's
        rule. %(alpha_auto)s The candidates are 3, 10 and 30.""",
    "params": """activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation (ReLU in the paper).
    batch_size : int or "auto", default="auto"
        Rows of the mini-batch on which each proposal is judged; ``"auto"``
        is ``min(1000, n_samples)``, or ``n_samples / 40`` (at most 2000) on
        sets of more than 40,000 rows. Larger batches judge proposals more
        reliably at a proportional cost per proposal. With ``batch_size >=
        n_samples`` every proposal is judged on the whole training set.
    max_iter : int, default=10
        Passes over all weights (the paper's *cycles*: every weight and bias
        is visited once per pass).
    %(tol)s
    %(early_stopping)s
    %(validation_fraction)s
    %(n_iter_no_change)s
    perturbation_scale : float, default=1.0
        Step standard deviation in the first pass, as a multiple of the
        standard deviation of the layer's weights: a step for a weight of
        layer ``l`` is drawn from ``N(0, (scale * std(W_l))^2)``, the
        paper's rule. Biases take the step size of their layer's weights.
    final_perturbation_scale : float, default=0.1
        Multiple reached in the last pass (``max_iter``) by the linear
        annealing schedule (the paper anneals linearly).
    annealing : {"linear", "constant"}, default="linear"
        Schedule of the multiple over the passes: linear from
        ``perturbation_scale`` to ``final_perturbation_scale`` (counting
        every pass since the fit started, those of ``warm_start`` and
        ``partial_fit`` calls included: ``len(loss_curve_)``; passes beyond
        ``max_iter`` keep the final value), or constant
        ``perturbation_scale``.
    perturbation_reference : {"current", "initial"}, default="current"
        Whose weight standard deviation the steps scale with: the layer's
        current weights, recomputed at the start of every pass, or its
        initial weights.
    layer_order : {"backward", "forward"}, default="backward"
        Layers visited from the output layer down to the first, or from the
        first up.
    visiting_order : {"unit", "random"}, default="unit"
        Order of the weights within a layer. ``"unit"``: the units in random
        order, and each unit's incoming weights and bias in random order
        (consecutive proposals share the unit's cached state).
        ``"random"``: one random permutation of all the layer's weights.
        Both are reshuffled every pass.
    batch_refresh : int or "unit", default=200
        How many consecutive proposals are judged on one mini-batch before a
        fresh one is drawn. ``1`` is the paper's rule (a new mini-batch for
        every weight, one forward pass each); ``"unit"``: one batch for each
        unit's incoming weights and bias (``n_in + 1`` proposals). With
        ``batch_size >= n_samples`` the batch is the whole training set and
        this setting has no effect.
    weight_init : {"he_normal", "glorot_normal"}, default="he_normal"
        Initial weights ``N(0, 2 / fan_in)`` or ``N(0, 2 / (fan_in +
        fan_out))``, zero biases (the paper: a fan-in scaled Gaussian).
    %(alpha)s""",
    "params_tail": """%(random_state)s
    %(verbose)s
    %(warm_start)s
    %(device)s""",
    "attributes": """%(coefs_)s
    %(intercepts_)s
    %(n_iter_)s
    loss_curve_ : list of float
        Training loss of each pass: the mean, over the pass's blocks of
        proposals (the proposals on one unit judged on one mini-batch), of
        the mini-batch loss right after the block. A running estimate, not
        the loss on the whole training set.
    acceptance_rates_ : list of float
        Fraction of the proposals of each pass that changed a weight.
    %(best_loss_)s
    %(validation_scores_)s
    %(best_validation_score_)s
    %(do_early_stopping_)s
    %(alpha_search_)s
    %(n_layers_)s
    %(n_outputs_)s""",
    "notes": """The proposals are evaluated incrementally on cached activations of the
    mini-batch, never by a forward pass per proposal: a step on weight
    ``W_l[i, j]`` changes only unit ``j``'s pre-activation, so an
    output-layer proposal costs ``O(B)``, a last-hidden-layer proposal a
    rank-one update of the outputs (``O(B K)``), and deeper proposals
    recompute only the layers above the changed one. A step is evaluated on
    the rows where its input is nonzero only, and a weight whose input is
    zero on the whole mini-batch is rejected without evaluation. The
    acceptance is the paper's: sequential, every accepted step visible to
    the next proposal; these shortcuts take exactly the decisions of a
    forward pass per candidate.

    The L2 penalty ``alpha`` enters the acceptance test: a step is kept when
    the mini-batch loss plus the penalty drops. Without it (``alpha=0``) the
    outputs keep growing over the passes on separable data (confident
    probabilities); ``early_stopping`` helps on small noisy data sets.""",
    "references": """B. Singh and R. Tripathi, "RSO: A Gradient Free Sampling Based Approach
    For Training Deep Neural Networks", arXiv:2005.05955, 2020.""",
}


@fill_doc(_RSO_DOCS)
class RSOClassifier(IterativeClassifierMixin, NetworkClassifierMixin, _BaseRSO):
    """Neural-network classifier trained by random search (RSO).

    RSO (Singh & Tripathi 2020) trains without gradients: it visits the
    weights one at a time, draws a Gaussian step for the weight, and keeps
    whichever of ``w``, ``w + step`` and ``w - step`` gives the lowest softmax
    cross-entropy on a mini-batch (ties keep ``w``). Every accepted change is
    seen by the next proposal. ``max_iter`` counts passes over all weights.

    %(sections)s

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skgf import RSOClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = RSOClassifier(hidden_layer_sizes=(32,), max_iter=5, random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.9
    True
    >>> len(clf.acceptance_rates_)
    5
    """

    # alpha="auto": the classifier's penalties to choose from; the first is
    # the constant default of earlier versions (doc/rso.rst, "Defaults")
    _AUTO_ALPHA_CANDIDATES = (3.0, 10.0, 30.0)

    _parameter_constraints = {
        **_BaseRSO._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        batch_size="auto",
        max_iter=10,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        perturbation_scale=1.0,
        final_perturbation_scale=0.1,
        annealing="linear",
        perturbation_reference="current",
        layer_order="backward",
        visiting_order="unit",
        batch_refresh=200,
        weight_init="he_normal",
        alpha="auto",
        class_weight=None,
        random_state=None,
        verbose=False,
        warm_start=False,
        device=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            perturbation_scale=perturbation_scale,
            final_perturbation_scale=final_perturbation_scale,
            annealing=annealing,
            perturbation_reference=perturbation_reference,
            layer_order=layer_order,
            visiting_order=visiting_order,
            batch_refresh=batch_refresh,
            weight_init=weight_init,
            alpha=alpha,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            device=device,
        )
        self.class_weight = class_weight


_RSO_REGRESSOR_DOCS = {
    "alpha": """alpha : float or "auto", default="auto"
        L2 penalty with ``MLPRegressor``'s convention (``alpha / 2 *
        ||W||^2`` per mini-batch sum, biases not penalised): a proposal is
        kept when the batch loss plus the penalty drops. ``"auto"`` is
        ``3000 / n_rows`` for ``n_rows`` training rows, counted by their
        ``sample_weight`` (for ``partial_fit``: all rows given so far),
        recorded in ``alpha_``; ``0`` is the paper's rule.""",
}


@fill_doc(_RSO_DOCS, _RSO_REGRESSOR_DOCS)
class RSORegressor(IterativeRegressorMixin, NetworkRegressorMixin, _BaseRSO):
    """Neural-network regressor trained by random search (RSO).

    Each weight in turn gets a Gaussian step; whichever of ``w``,
    ``w + step`` and ``w - step`` gives the lowest half squared error of the
    standardised targets on a mini-batch is kept (ties keep ``w``). The
    output layer is linear. See :class:`RSOClassifier` for the method.

    %(sections)s

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skgf import RSORegressor
    >>> X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    >>> reg = RSORegressor(hidden_layer_sizes=(32,), max_iter=5, random_state=0)
    >>> reg.fit(X[:800], y[:800]).score(X[800:], y[800:]) > 0.7
    True
    """

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        batch_size="auto",
        max_iter=10,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        perturbation_scale=1.0,
        final_perturbation_scale=0.1,
        annealing="linear",
        perturbation_reference="current",
        layer_order="backward",
        visiting_order="unit",
        batch_refresh=200,
        weight_init="he_normal",
        alpha="auto",
        random_state=None,
        verbose=False,
        warm_start=False,
        device=None,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            perturbation_scale=perturbation_scale,
            final_perturbation_scale=final_perturbation_scale,
            annealing=annealing,
            perturbation_reference=perturbation_reference,
            layer_order=layer_order,
            visiting_order=visiting_order,
            batch_refresh=batch_refresh,
            weight_init=weight_init,
            alpha=alpha,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            device=device,
        )
