"""Semi-implicit back propagation (Liu & Zhang, 2020).

Each mini-batch: one forward pass; an explicit gradient step on the output
neurons gives the output target; then, top layer first, every layer's
weights and bias take a *proximal* step (a regularised least-squares fit of
the layer's pre-activation target that stays close to the current weights),
and the neuron difference is passed down through the *newly updated* weights
to form the target of the layer below (the semi-implicit part).

Notation in the code: ``step`` is the neuron step size eta, ``lam`` the
proximal parameter of the batch-sum data term (``proximal_weight`` times the
rows of the batch), ``alpha`` the L2 pull toward zero. The proximal solve
itself is :func:`skgf._linalg.proximal_solve` (a ``B x B`` or ``d x d``
system, never one of ``n_samples`` rows).
"""

from numbers import Integral, Real

from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._activations import activate, derivative
from ._array_api import device_of, take_rows
from ._base import NetworkClassifierMixin, NetworkRegressorMixin
from ._iterative import (
    BaseIterativeNetwork,
    IterativeClassifierMixin,
    IterativeRegressorMixin,
)
from ._linalg import proximal_solve
from ._losses import output_error, output_loss
from ._network import forward_layers


def sibp_update(xp, X, Y, coefs, intercepts, activation, classification,
                step, lam, alpha, refinement_steps=0, sample_weight=None):
    """One semi-implicit BP update on the mini-batch ``X``, ``Y``.

    Replaces ``coefs[i]`` / ``intercepts[i]`` in the given lists and returns
    the batch's summed training loss (an ``xp`` scalar) before the update,
    plus ``alpha / 2 * sum ||W||^2`` as in ``MLPClassifier``.

    For layer ``i`` (input ``F = H[i]``, pre-activation ``z``) with output
    difference ``delta`` (``f - target``) the pre-activation target is
    ``z - sigma'(z) * delta`` (the linearised proximal step of the research
    note; ``sigma' = 1`` at the linear output) and the layer solves::

        min ||F W + b - target||^2 + lam ||[W; b] - [W_k; b_k]||^2
            + step * alpha ||W||^2

    The difference below is ``(sigma'(z) * delta) @ W_new.T``.
    ``refinement_steps`` re-linearises the activation of hidden layers at
    the new weights and solves again (same anchor ``W_k``): Gauss-Newton
    steps on the exact objective ``||sigma(F W + b) - T||^2 + ...``.

    With ``sample_weight`` (one weight ``w_i`` per row) the batch's data
    terms are weighted: row ``i`` of every layer's least-squares fit (and of
    the loss) counts ``w_i`` times (``proximal_solve(weights=...)``, rows
    scaled by ``sqrt(w_i)``). The targets themselves stay per-row, so in the
    large-``lam`` limit the update is the SGD step on the weighted loss.
    """
    Zs, Hs = forward_layers(xp, X, coefs, intercepts, activation)
    out = Zs[-1]
    n_rows = X.shape[0]
    loss = output_loss(xp, out, Y, classification, sample_weight) * n_rows
    if alpha:
        loss = loss + 0.5 * alpha * sum(xp.linalg.vector_norm(W) ** 2 for W in coefs)
    reg = step * alpha
    last = len(coefs) - 1
    delta = step * output_error(xp, out, Y, classification)  # on f_N = z_N
    for i in range(last, -1, -1):
        F, z = Hs[i], Zs[i]
        slope = None if i == last else derivative(xp, activation, z, Hs[i + 1])
        delta_z = delta if slope is None else slope * delta
        W, b = proximal_solve(xp, F, z - delta_z, coefs[i], intercepts[i],
                              lam, reg, current=z, weights=sample_weight)
        if slope is not None:
            target = Hs[i + 1] - delta
            for _ in range(refinement_steps):
                z_new = F @ W + b
                h_new = activate(xp, activation, z_new)
                z_target = z_new + derivative(xp, activation, z_new, h_new) * (
                    target - h_new)
                W, b = proximal_solve(xp, F, z_target, coefs[i], intercepts[i],
                                      lam, reg, current=z, weights=sample_weight)
        coefs[i], intercepts[i] = W, b
        if i > 0:
            delta = delta_z @ W.T
    return loss


class _BaseSIBP(BaseIterativeNetwork):
    """Shared parameters and the epoch loop of the SIBP estimators."""

    _parameter_constraints = {
        **BaseIterativeNetwork._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "neuron_step_size": [Interval(Real, 0, None, closed="neither")],
        "proximal_weight": [Interval(Real, 0, None, closed="neither")],
        "refinement_steps": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *,
                 neuron_step_size=0.1, proximal_weight=0.01, refinement_steps=0,
                 alpha=1e-4, batch_size="auto", max_iter=200, tol=1e-4,
                 early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, shuffle=True, random_state=None,
                 verbose=False, warm_start=False, device=None):
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

    def _run_iteration(self, xp, X, Y, rng, sample_weight=None):
        """One epoch over shuffled mini-batches; mean training loss."""
        n_samples = X.shape[0]
        classification = self._is_classifier()
        coefs, intercepts = list(self.coefs_), list(self.intercepts_)
        total = xp.zeros((), dtype=X.dtype, device=device_of(X))
        for idx in self._minibatches(n_samples, rng, shuffle=self.shuffle):
            Xb, Yb, wb = take_rows(xp, idx, X, Y, sample_weight)
            total = total + sibp_update(
                xp, Xb, Yb, coefs, intercepts, self.activation, classification,
                step=self.neuron_step_size, lam=self.proximal_weight * idx.shape[0],
                alpha=self.alpha * self._alpha_scale,
                refinement_steps=self.refinement_steps, sample_weight=wb)
        self.coefs_, self.intercepts_ = coefs, intercepts
        return float(total) / n_samples


_PARAMS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation (the paper uses ReLU). The output layer is linear
        (softmax in the loss for classification).
    neuron_step_size : float, default=0.1
        The neuron step size eta: the output target is the output minus
        eta times the loss gradient with respect to the output, and every
        neuron difference passed down scales with it. Paper / reference
        default 0.1.
    proximal_weight : float, default=0.01
        The proximal parameter lambda per sample: each layer's solve
        penalises ``lambda * ||W - W_prev||^2`` with
        ``lambda = proximal_weight * batch rows`` against a batch-sum data
        term. The reference code uses lambda = 1 at batch size 100, which
        is this default; scaling with the batch is the research note's
        recommendation (unverified against the paper body). As lambda grows
        the update tends to a plain SGD step with learning rate
        ``neuron_step_size / proximal_weight`` on the mean batch loss (plus
        ``alpha`` as in ``MLPClassifier``); as it shrinks each layer jumps to
        the least-squares fit of its target.
    refinement_steps : int, default=0
        Hidden layers' proximal step. 0 (default, the research note's
        recommendation): the activation is linearised at the current
        pre-activation and the step is one closed-form solve. ``k > 0``:
        ``k`` further solves re-linearised at the new weights (Gauss-Newton
        steps on the exact proximal objective, each one more layer product
        and solve); the reference code instead runs 5 nonlinear conjugate
        gradient steps on that objective.
    alpha : float, default=1e-4
        L2 penalty with ``MLPClassifier``'s convention (``alpha / 2 *
        ||W||^2`` per mini-batch sum), applied inside the proximal solve
        scaled by the step size, so that the large-lambda limit is exactly
        ``MLPClassifier``'s SGD step. Not applied to the biases.
    batch_size : int or "auto", default="auto"
        Mini-batch rows; ``"auto"`` is ``min(200, n_samples)`` as in
        ``MLPClassifier`` (the reference uses 100).
    max_iter : int, default=200
        Maximum number of epochs.
    tol : float, default=1e-4
        Improvement of the training loss (or validation score with
        ``early_stopping``) below which an epoch counts as no improvement.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score
        stops improving, and keep the best weights seen (the reference keeps
        best-validation weights too).
    validation_fraction : float, default=0.1
        Share of the training data held out with ``early_stopping``.
    n_iter_no_change : int, default=10
        Epochs without ``tol`` improvement before stopping.
    shuffle : bool, default=True
        Shuffle the rows into a new partition of mini-batches each epoch
        (the reference samples batches with replacement).
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights and the batch order (host-side draws,
        so CPU and GPU fits of one seed agree).
    verbose : bool or int, default=False
        Print the loss after each epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights.
    device : {None, "cpu", "cuda"}, default=None
        Where to fit. ``None`` follows scikit-learn's ``array_api_dispatch``;
        ``"cuda"`` fits with CuPy and returns NumPy predictions for NumPy
        input.
"""

_ATTRS_DOC = """
    coefs_ : list of arrays
        Weight matrix of each layer, shape (n_in, n_out), in the namespace the
        model was fitted in.
    intercepts_ : list of arrays
        Bias vector of each layer.
    loss_curve_ : list of float
        Training loss of each epoch: the mean over the epoch's mini-batches
        of the loss before each update, plus the ``alpha`` term, as
        ``MLPClassifier.loss_curve_``.
    best_loss_ : float
        Smallest value of ``loss_curve_``.
    validation_scores_ : list of float
        Score on the held-out split after each epoch (``early_stopping``
        only).
    best_validation_score_ : float
        Best of ``validation_scores_`` (``early_stopping`` only).
    n_iter_ : int
        Number of epochs run.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Output transform used by ``predict``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.
"""

_METHOD_DOC = """
    Each mini-batch takes one explicit gradient step on the output neurons
    (step ``neuron_step_size``) to get an output target; then, top layer
    first, each layer's weights and bias take a proximal step (a ridge-like
    least-squares fit of the layer's target, pulled toward the current
    weights by ``proximal_weight``), and the neuron difference is sent to
    the layer below through the just-updated weights. The per-layer solve is
    a ``batch x batch`` or ``width x width`` system, whichever is smaller.
    Hidden layers use the linearised proximal step (see
    ``refinement_steps``). Initial weights are Glorot-uniform, as in
    ``MLPClassifier`` (the reference draws ``N(0, 0.05^2)``).

    Each layer's step is implicit, but the neuron difference a hidden layer
    receives grows with the weights above it: on small, noisy data the
    output weights can grow until the hidden steps overshoot and the loss
    jumps (seen on the 331 training rows of ``load_diabetes``). The fit then
    ends with a ``ConvergenceWarning`` and the weights from the start of its
    lowest-loss epoch (the shared rule of the iterative estimators); a larger
    ``alpha`` or ``proximal_weight``, or ``early_stopping``, avoids it.
"""


class SemiImplicitBPClassifier(IterativeClassifierMixin, NetworkClassifierMixin,
                               _BaseSIBP):
    __doc__ = (
        """Neural-network classifier trained by semi-implicit back propagation.
""" + _METHOD_DOC + """
    The loss is softmax cross-entropy on the linear output.
""" + _PARAMS_DOC + """    class_weight : dict, "balanced" or None, default=None
        Weight of each class's samples, multiplied into ``sample_weight``.
        ``"balanced"`` weighs class ``c`` by ``n_samples / (n_classes *
        n_c)`` (sums of ``sample_weight`` when given), as scikit-learn's
        ``compute_class_weight``; a dict maps classes to weights (unlisted
        classes weigh 1). ``partial_fit`` takes dicts only.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
""" + _ATTRS_DOC + """
    See Also
    --------
    SemiImplicitBPRegressor : The regression twin.
    sklearn.neural_network.MLPClassifier : Explicit-gradient training.

    References
    ----------
    R. Liu and X. Zhang, "Semi-Implicit Back Propagation",
    arXiv:2002.03516, 2020.

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
""")

    _parameter_constraints = {
        **_BaseSIBP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *,
                 neuron_step_size=0.1, proximal_weight=0.01, refinement_steps=0,
                 alpha=1e-4, batch_size="auto", max_iter=200, tol=1e-4,
                 early_stopping=False, validation_fraction=0.1,
                 n_iter_no_change=10, shuffle=True, class_weight=None,
                 random_state=None, verbose=False, warm_start=False, device=None):
        super().__init__(
            hidden_layer_sizes, activation, neuron_step_size=neuron_step_size,
            proximal_weight=proximal_weight, refinement_steps=refinement_steps,
            alpha=alpha, batch_size=batch_size, max_iter=max_iter, tol=tol,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, shuffle=shuffle,
            random_state=random_state, verbose=verbose, warm_start=warm_start,
            device=device)
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's squared error in every
            layer's proximal solve and in the loss. Weights are scaled to
            mean 1 over the training rows, so ``neuron_step_size`` and
            ``proximal_weight`` keep their meaning; ``None`` weighs all
            samples equally.

        Returns
        -------
        self : SemiImplicitBPClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)


class SemiImplicitBPRegressor(IterativeRegressorMixin, NetworkRegressorMixin,
                              _BaseSIBP):
    __doc__ = (
        """Neural-network regressor trained by semi-implicit back propagation.
""" + _METHOD_DOC + """
    The loss is half the squared error of the linear output on the
    standardised targets.
""" + _PARAMS_DOC + """
    Attributes
    ----------
""" + _ATTRS_DOC + """
    See Also
    --------
    SemiImplicitBPClassifier : The classification twin.
    sklearn.neural_network.MLPRegressor : Explicit-gradient training.

    References
    ----------
    R. Liu and X. Zhang, "Semi-Implicit Back Propagation",
    arXiv:2002.03516, 2020.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skgf import SemiImplicitBPRegressor
    >>> X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    >>> reg = SemiImplicitBPRegressor(max_iter=20, random_state=0)
    >>> reg.fit(X[:750], y[:750]).score(X[750:], y[750:]) > 0.8
    True
""")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's squared error in every
            layer's proximal solve and in the loss. Weights are scaled to
            mean 1 over the training rows, so ``neuron_step_size`` and
            ``proximal_weight`` keep their meaning; ``None`` weighs all
            samples equally.

        Returns
        -------
        self : SemiImplicitBPRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)
