"""rec-LRA: recursive local representation alignment (Ororbia et al., 2020).

Every layer learns from a target of its own. The output layer's error is
the mismatch between the network output and the label; each hidden layer
then receives a *displacement* ``d = e_src @ E`` of an upper layer's error
through an error-feedback matrix ``E`` (never through the transposed forward
weights), its target is the activation of the nudged pre-activation
``y = phi(h - target_step * d)`` and its error unit is ``e = z - y``. The
update of each layer is the Hebbian product of its own input and its own
error, ``dW = z_in^T e / B``; no derivative of the activation and no weight
transport is needed.

The recursion from the output down to the first layer lives in
:func:`lra_errors`, which never sees a forward weight; the per-layer updates
are in :func:`lra_updates`. The optimiser (Adam or SGD) only rescales those
updates. The estimators only add plumbing (``BaseIterativeNetwork``).

All array work goes through the ``xp`` namespace handed in; NumPy is used
only on the host, for the epoch's index order and the random draws.
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._activations import activate, log_softmax
from ._array_api import device_of, take_rows
from ._base import NetworkClassifierMixin, NetworkRegressorMixin
from ._iterative import (
    BaseIterativeNetwork,
    IterativeClassifierMixin,
    IterativeRegressorMixin,
)
from ._network import forward_layers, host_to

# Adam's constants, as in scikit-learn's MLP and the paper's optimiser.
_ADAM_BETA_1 = 0.9
_ADAM_BETA_2 = 0.999
_ADAM_EPSILON = 1e-8


# --------------------------------------------------------------------------
# The method
# --------------------------------------------------------------------------
def error_sources(n_layers, error_skip_every):
    """Index of the layer whose error drives the target of each hidden layer.

    Layers are indexed like ``coefs`` (``n_layers - 1`` is the output).
    Hidden layer ``i`` sits ``k = n_layers - 1 - i`` layers below the output;
    with ``error_skip_every = m > 0`` the layers with ``k`` a multiple of
    ``m`` take the output error directly (error skip connections), the others
    the error of the layer just above.
    """
    out = n_layers - 1
    sources = []
    for i in range(n_layers - 1):
        k = out - i
        skip = error_skip_every > 0 and k > 1 and k % error_skip_every == 0
        sources.append(out if skip else i + 1)
    return sources


def lra_errors(xp, pre_activations, activations, output_error, feedback,
               sources, activation, target_step, error_l2_weight):
    """Error units of every layer, from the output error down (the recursion).

    Only local quantities enter: each hidden layer's own pre-activation and
    activation, the error of its source layer and the feedback matrix that
    carries it. Forward weights are not arguments, so no error can travel
    back through them.

    Parameters
    ----------
    pre_activations, activations : lists of arrays
        ``forward_layers`` output: ``pre_activations[i]`` of layer ``i`` and
        ``activations[i + 1]`` its activation (``activations[0]`` is the input).
    output_error : array of shape (batch, n_outputs)
        Error unit of the output layer (``softmax(h) - Y`` or ``h - Y``).
    feedback : list of arrays
        ``feedback[i]`` of shape (width of ``sources[i]``, width of layer
        ``i``) maps the source's error to hidden layer ``i``'s displacement.

    Returns
    -------
    errors : list of arrays
        Error unit of every layer, the output's last.
    displacements : list of arrays
        Displacement ``e_src @ E`` of every hidden layer.
    """
    n_layers = len(pre_activations)
    errors = [None] * n_layers
    errors[-1] = output_error
    displacements = [None] * (n_layers - 1)
    for i in range(n_layers - 2, -1, -1):
        displacement = displacements[i] = errors[sources[i]] @ feedback[i]
        target = activate(xp, activation, pre_activations[i] - target_step * displacement)
        mismatch = activations[i + 1] - target
        if error_l2_weight != 1.0:
            mismatch = (error_l2_weight * mismatch
                        + (1.0 - error_l2_weight) * xp.sign(mismatch))
        errors[i] = mismatch
    return errors, displacements


def lra_updates(xp, X, Y, coefs, intercepts, feedback, sources, *, activation,
                classification, target_step, error_l2_weight, alpha,
                feedback_update_scale, feedback_rule, sample_weight=None):
    """Local updates of one mini-batch (descent directions, before the optimiser).

    With ``sample_weight`` (one weight per row) every row's error unit is
    multiplied by its weight wherever it enters an update or the loss (the
    recursion that forms the targets is per row and unweighted), so a row of
    weight ``k`` acts as ``k`` copies of it.

    Returns ``(loss_sum, weight_updates, bias_updates, feedback_updates)``:
    the batch's summed output loss (an array, so no host sync), and for
    every layer ``i``

    * ``dW_i = (a_{i-1}^T e_i + alpha W_i) / B`` and ``db_i = mean(e_i)``:
      presynaptic activity times the layer's own error unit, plus the L2
      penalty of ``MLPClassifier``;
    * with ``feedback_rule="kolen_pollack"``,
      ``dE_i = scale (e_src^T a_i + alpha E_i) / B``: for an adjacent source
      the transpose of the source layer's ``dW`` (Kolen-Pollack alignment),
      so ``E`` tracks the transposed weights while only ever using the
      source's error and layer ``i``'s activity;
    * with ``feedback_rule="displacement"``,
      ``dE_i = scale (-e_src^T d_i + alpha E_i) / B``: the outer product of
      the error a matrix consumed and the displacement it produced, with the
      sign of the third-party rec-LRA port;
    * with ``feedback_rule="fixed"``, no feedback updates (an empty list).
    """
    n = X.shape[0]
    pre, act = forward_layers(xp, X, coefs, intercepts, activation)
    out = pre[-1]
    if classification:
        log_proba = log_softmax(xp, out)
        row_loss = -(Y * log_proba)
        output_error = xp.exp(log_proba) - Y
    else:
        residual = out - Y
        row_loss = 0.5 * (residual * residual)
        output_error = residual
    errors, displacements = lra_errors(xp, pre, act, output_error, feedback, sources,
                                       activation, target_step, error_l2_weight)
    if sample_weight is not None:
        w = sample_weight[:, None]
        row_loss = row_loss * w
        errors = [e * w for e in errors]
    loss_sum = xp.sum(row_loss)
    hebbian = [act[i].T @ errors[i] for i in range(len(coefs))]
    weight_updates = [(H + alpha * W) / n if alpha else H / n
                      for H, W in zip(hebbian, coefs)]
    bias_updates = [xp.sum(e, axis=0) / n for e in errors]
    feedback_updates = []
    if feedback_rule != "fixed":
        for i, E in enumerate(feedback):
            s = sources[i]
            if feedback_rule == "displacement":
                outer = -(errors[s].T @ displacements[i])
            else:
                outer = hebbian[s].T if s == i + 1 else errors[s].T @ act[i + 1]
            if alpha:
                outer = outer + alpha * E
            feedback_updates.append((feedback_update_scale / n) * outer)
    return loss_sum, weight_updates, bias_updates, feedback_updates


def _clip_norm(xp, update, max_norm):
    """``update`` rescaled to Frobenius norm at most ``max_norm`` (no host sync)."""
    norm = xp.sqrt(xp.sum(update * update))
    limit = xp.full_like(norm, max_norm)
    return update * (limit / xp.where(norm > limit, norm, limit))


# --------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------
class _BaseLRA(BaseIterativeNetwork):
    """Parameters, state and epoch of the rec-LRA estimators."""

    _parameter_constraints = {
        **BaseIterativeNetwork._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
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

    _state_attributes = ("feedback_matrices_", "_optimizer_state")

    def _skip_every(self):
        if self.error_skip_every == "auto":
            return 2 if len(self.coefs_) - 1 >= 4 else 0
        return self.error_skip_every

    def _init_method_state(self, xp, device, dtype, rng):
        sources = error_sources(len(self.coefs_), self._skip_every())
        self._error_sources = sources
        widths = [W.shape[1] for W in self.coefs_]
        self.feedback_matrices_ = []
        for i, s in enumerate(sources):
            scale = 1.0 if self.feedback_init == "unit_normal" else 1.0 / math.sqrt(widths[s])
            E = rng.normal(0.0, scale, size=(widths[s], widths[i]))
            self.feedback_matrices_.append(host_to(E, xp, device, dtype))
        self._optimizer_state = None

    def _parameters(self):
        params = [*self.coefs_, *self.intercepts_]
        if self.feedback != "fixed":
            params += self.feedback_matrices_
        return params

    def _set_parameters(self, params):
        n = len(self.coefs_)
        self.coefs_ = params[:n]
        self.intercepts_ = params[n:2 * n]
        if self.feedback != "fixed":
            self.feedback_matrices_ = params[2 * n:]

    def _fresh_optimizer_state(self, xp, params):
        zeros = [xp.zeros_like(p) for p in params]
        if self.solver == "adam":
            return {"solver": "adam", "step": 0, "first_moments": zeros,
                    "second_moments": [xp.zeros_like(p) for p in params]}
        return {"solver": "sgd", "velocities": zeros}

    def _optimizer_step(self, xp, params, updates):
        """Move ``params`` against ``updates`` with the configured optimiser."""
        state = self._optimizer_state
        if (state is None or state["solver"] != self.solver
                or len(state.get("first_moments", state.get("velocities"))) != len(params)):
            state = self._optimizer_state = self._fresh_optimizer_state(xp, params)
        lr = self.learning_rate_init
        if self.solver == "adam":
            state["step"] += 1
            t = state["step"]
            step = lr * math.sqrt(1.0 - _ADAM_BETA_2 ** t) / (1.0 - _ADAM_BETA_1 ** t)
            m, v = state["first_moments"], state["second_moments"]
            new = []
            for k, (p, g) in enumerate(zip(params, updates)):
                m[k] = _ADAM_BETA_1 * m[k] + (1.0 - _ADAM_BETA_1) * g
                v[k] = _ADAM_BETA_2 * v[k] + (1.0 - _ADAM_BETA_2) * (g * g)
                new.append(p - step * m[k] / (xp.sqrt(v[k]) + _ADAM_EPSILON))
            return new
        vel, mu = state["velocities"], self.momentum
        new = []
        for k, (p, g) in enumerate(zip(params, updates)):
            vel[k] = mu * vel[k] - lr * g
            new.append(p + vel[k])
        return new

    def _run_iteration(self, xp, X, Y, rng, sample_weight=None):
        """One epoch of rec-LRA over shuffled mini-batches; mean training loss."""
        n = X.shape[0]
        sources = self._error_sources
        device = device_of(X)
        total = xp.zeros((), dtype=X.dtype, device=device)
        batches = self._minibatches(n, rng, shuffle=self.shuffle)
        # one host-to-device copy of the epoch's order, sliced per batch
        order = xp.asarray(np.concatenate(batches).astype(np.int64), device=device)
        stop = 0
        for idx in batches:
            start, stop = stop, stop + idx.shape[0]
            Xb, Yb, wb = take_rows(xp, order[start:stop], X, Y, sample_weight)
            if self.input_noise:
                noise = rng.normal(0.0, self.input_noise, size=tuple(Xb.shape))
                Xb = Xb + host_to(noise, xp, device, Xb.dtype)
            loss_sum, dW, db, dE = lra_updates(
                xp, Xb, Yb, self.coefs_, self.intercepts_, self.feedback_matrices_,
                sources, activation=self.activation,
                classification=self._is_classifier(),
                target_step=self.target_step, error_l2_weight=self.error_l2_weight,
                alpha=self.alpha * self._alpha_scale,
                feedback_update_scale=self.feedback_update_scale,
                feedback_rule=self.feedback, sample_weight=wb)
            total = total + loss_sum
            updates = [*dW, *db, *dE]
            if self.update_clip is not None:
                updates = [_clip_norm(xp, u, self.update_clip) for u in updates]
            self._set_parameters(self._optimizer_step(xp, self._parameters(), updates))
        return float(total) / n


class LRAClassifier(IterativeClassifierMixin, NetworkClassifierMixin, _BaseLRA):
    """Neural-network classifier trained by recursive local representation alignment.

    rec-LRA (Ororbia, Mali, Kifer & Giles 2020) trains every layer from a
    local target instead of a back-propagated gradient. The output error is
    ``softmax(h) - y``; going down the network, each hidden layer receives an
    upper layer's error through an error-feedback matrix ``E`` (not the
    transposed forward weights), forms the target ``phi(h - beta e_src E)``
    and its own error unit ``z - target``; each layer's weights then move
    along the Hebbian product of its input and its error unit. The updates
    are fed to Adam (or SGD) as if they were gradients.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation, applied both in the forward pass and to each
        layer's nudged target (ReLU in the paper's ResNets, tanh in LRA-E).
    alpha : float, default=1e-4
        L2 penalty, added to every local update as in ``MLPClassifier``
        (``(a^T e + alpha W) / batch_size``), and to the feedback updates.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Step size of the optimiser (Adam 1e-3 in the authors' LRA code; their
        LRA-E paper used plain SGD with 0.01).
    max_iter : int, default=200
        Number of epochs (passes over the training data).
    tol : float, default=1e-4
        Required improvement of the training loss (or validation score) to
        count an epoch as progress.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score stops
        improving and keep the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping``.
    n_iter_no_change : int, default=10
        Epochs without a ``tol`` improvement before stopping.
    shuffle : bool, default=True
        Shuffle the samples before every epoch.
    solver : {"adam", "sgd"}, default="adam"
        Optimiser applied to the local updates, which it treats as gradients:
        Adam (the research note's default, used by the authors' newer LRA
        code; the rec-LRA optimiser is unverified) or SGD with ``momentum``.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"`` (``0`` gives the plain SGD of LRA-E).
    target_step : float, default=0.1
        Strength ``beta`` of the nudge of each hidden layer's target,
        ``y = phi(h - beta * d)`` (0.1 in LRA-E and rec-LRA).
    feedback : {"kolen_pollack", "displacement", "fixed"}, default="kolen_pollack"
        Whether and how the error-feedback matrices learn (the paper's exact
        rule is unverified). ``"kolen_pollack"`` (the research note's
        default) updates each one with the transpose of the Hebbian update
        of the layer it mirrors, as the authors' LRA-E code does, so it
        tracks the transposed forward weights; ``"displacement"`` uses a
        third-party port's reading of the rec-LRA paper,
        ``dE = -gamma e_src^T d`` (the error consumed times the displacement
        produced, with the port's sign); ``"fixed"`` keeps the random initial
        matrices (feedback-alignment style). All three only use the error of
        the source layer and quantities of the receiving layer.
    feedback_init : {"scaled_normal", "unit_normal"}, default="scaled_normal"
        Initial feedback matrices: ``N(0, 1 / n_source)`` (the note's
        recommendation, scale-safe) or ``N(0, 1)`` (the paper's appendix, as
        quoted by a third-party port).
    feedback_update_scale : float, default=1.0
        Scale ``gamma`` of the feedback updates (1 in the authors' LRA-E
        code; the third-party rec-LRA port uses 0.01 with its
        ``"displacement"`` rule). Adam makes the result nearly insensitive to
        it; with ``solver="sgd"`` it scales the feedback learning rate.
    error_l2_weight : float, default=1.0
        Weight ``alpha_e`` of the squared-error part of each hidden error
        unit, ``e = alpha_e (z - y) + (1 - alpha_e) sign(z - y)``. 1 is pure L2
        (LRA-E, the note's default for MLPs); the rec-LRA appendix reports
        0.19-0.24 (unverified).
    error_skip_every : int or "auto", default="auto"
        Error skip connections: hidden layers ``k`` layers below the output
        with ``k`` a multiple of this take their target from the output error
        directly. ``0`` turns them off; ``"auto"`` uses 2 for networks with at
        least 4 hidden layers and 0 otherwise (the note's recommendation; the
        paper's port uses 2).
    update_clip : float or None, default=None
        If set, every update tensor is rescaled to Frobenius norm at most this
        (the paper's "Gaussian ball" re-projection; its value is unverified).
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to training inputs (0.1 in
        the paper's appendix; off by default for tabular data).
    class_weight : dict, "balanced" or None, default=None
        Weight of each class's samples, multiplied into ``sample_weight``.
        ``"balanced"`` weighs class ``c`` by ``n_samples / (n_classes *
        n_c)`` (sums of ``sample_weight`` when given), as scikit-learn's
        ``compute_class_weight``; a dict maps classes to weights (unlisted
        classes weigh 1). ``partial_fit`` takes dicts only.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, feedback matrices, batches and noise
        (drawn on the host, so CPU and GPU fits of one seed agree).
    verbose : bool or int, default=False
        Print the loss after every epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights, feedback matrices and
        optimiser state.
    device : {None, "cpu", "cuda"}, default=None
        Where to fit. ``None`` follows scikit-learn's ``array_api_dispatch``
        (NumPy unless it is on, then the input's namespace); ``"cuda"`` fits
        with CuPy on the GPU and returns NumPy predictions for NumPy input.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coefs_ : list of arrays
        Weight matrix of each layer, shape (n_in, n_out), in the namespace the
        model was fitted in.
    intercepts_ : list of arrays
        Bias vector of each layer.
    feedback_matrices_ : list of arrays
        Error-feedback matrix of each hidden layer, shape (width of its error
        source, width of the layer).
    loss_curve_ : list of float
        Mean training loss of every epoch (measured on each mini-batch before
        its update, without the L2 penalty).
    best_loss_ : float
        Lowest value of ``loss_curve_``.
    validation_scores_ : list of float
        Score on the held-out split after every epoch (``early_stopping`` only).
    best_validation_score_ : float
        Best of ``validation_scores_`` (``early_stopping`` only).
    n_iter_ : int
        Number of epochs run.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        ``"softmax"``, applied in ``predict_proba``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LRARegressor : The regression twin.
    sklearn.neural_network.MLPClassifier : Backpropagation-trained network.

    Notes
    -----
    Every update is local: layer ``i``'s weight update reads only its input
    activity and its own error unit, and the error units are built from the
    upper errors through ``feedback_matrices_`` alone (the forward weights
    never carry an error backwards). ``partial_fit`` runs one epoch over the
    data it is given, with the same mini-batches and optimiser state as
    ``fit``. Forward weights start as in ``MLPClassifier`` (Glorot uniform);
    the research note suggests ``N(0, 1 / fan_in)`` and the paper's appendix
    a unit Gaussian, which without normalisation layers saturates the
    output; ``N(0, 1 / fan_in)`` measured the same accuracy on MNIST and
    friedman1 as Glorot uniform.

    References
    ----------
    A. Ororbia, A. Mali, D. Kifer and C. L. Giles, "Backpropagation-Free Deep
    Learning with Recursive Local Representation Alignment", AAAI 2023
    (arXiv:2002.03911, 2020).

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

    _parameter_constraints = {
        **_BaseLRA._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", alpha=1e-4,
                 batch_size="auto", learning_rate_init=1e-3, max_iter=200, tol=1e-4,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 shuffle=True, solver="adam", momentum=0.9, target_step=0.1,
                 feedback="kolen_pollack", feedback_init="scaled_normal",
                 feedback_update_scale=1.0, error_l2_weight=1.0,
                 error_skip_every="auto", update_clip=None, input_noise=0.0,
                 class_weight=None, random_state=None, verbose=False,
                 warm_start=False, device=None):
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
        self.class_weight = class_weight
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.device = device

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
            Non-negative weight of each sample: its error unit counts that
            many times in every local update and in the loss. Weights are
            scaled to mean 1 over the training rows, so the learning rate
            keeps its meaning; ``None`` weighs all samples equally.

        Returns
        -------
        self : LRAClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)


class LRARegressor(IterativeRegressorMixin, NetworkRegressorMixin, _BaseLRA):
    """Neural-network regressor trained by recursive local representation alignment.

    The output layer is linear and its error is ``h - y`` on standardised
    targets; hidden layers learn from local targets built from an upper
    layer's error through error-feedback matrices. See
    :class:`LRAClassifier` for the method.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation, applied both in the forward pass and to each
        layer's nudged target (ReLU in the paper's ResNets, tanh in LRA-E).
    alpha : float, default=1e-4
        L2 penalty, added to every local update as in ``MLPClassifier``
        (``(a^T e + alpha W) / batch_size``), and to the feedback updates.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    learning_rate_init : float, default=1e-3
        Step size of the optimiser (Adam 1e-3 in the authors' LRA code; their
        LRA-E paper used plain SGD with 0.01).
    max_iter : int, default=200
        Number of epochs (passes over the training data).
    tol : float, default=1e-4
        Required improvement of the training loss (or validation score) to
        count an epoch as progress.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its score stops
        improving and keep the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping``.
    n_iter_no_change : int, default=10
        Epochs without a ``tol`` improvement before stopping.
    shuffle : bool, default=True
        Shuffle the samples before every epoch.
    solver : {"adam", "sgd"}, default="adam"
        Optimiser applied to the local updates, which it treats as gradients:
        Adam (the research note's default, used by the authors' newer LRA
        code; the rec-LRA optimiser is unverified) or SGD with ``momentum``.
    momentum : float, default=0.9
        Momentum of ``solver="sgd"`` (``0`` gives the plain SGD of LRA-E).
    target_step : float, default=0.1
        Strength ``beta`` of the nudge of each hidden layer's target,
        ``y = phi(h - beta * d)`` (0.1 in LRA-E and rec-LRA).
    feedback : {"kolen_pollack", "displacement", "fixed"}, default="kolen_pollack"
        Whether and how the error-feedback matrices learn (the paper's exact
        rule is unverified). ``"kolen_pollack"`` (the research note's
        default) updates each one with the transpose of the Hebbian update
        of the layer it mirrors, as the authors' LRA-E code does, so it
        tracks the transposed forward weights; ``"displacement"`` uses a
        third-party port's reading of the rec-LRA paper,
        ``dE = -gamma e_src^T d`` (the error consumed times the displacement
        produced, with the port's sign); ``"fixed"`` keeps the random initial
        matrices (feedback-alignment style). All three only use the error of
        the source layer and quantities of the receiving layer.
    feedback_init : {"scaled_normal", "unit_normal"}, default="scaled_normal"
        Initial feedback matrices: ``N(0, 1 / n_source)`` (the note's
        recommendation, scale-safe) or ``N(0, 1)`` (the paper's appendix, as
        quoted by a third-party port).
    feedback_update_scale : float, default=1.0
        Scale ``gamma`` of the feedback updates (1 in the authors' LRA-E
        code; the third-party rec-LRA port uses 0.01 with its
        ``"displacement"`` rule). Adam makes the result nearly insensitive to
        it; with ``solver="sgd"`` it scales the feedback learning rate.
    error_l2_weight : float, default=1.0
        Weight ``alpha_e`` of the squared-error part of each hidden error
        unit, ``e = alpha_e (z - y) + (1 - alpha_e) sign(z - y)``. 1 is pure L2
        (LRA-E, the note's default for MLPs); the rec-LRA appendix reports
        0.19-0.24 (unverified).
    error_skip_every : int or "auto", default="auto"
        Error skip connections: hidden layers ``k`` layers below the output
        with ``k`` a multiple of this take their target from the output error
        directly. ``0`` turns them off; ``"auto"`` uses 2 for networks with at
        least 4 hidden layers and 0 otherwise (the note's recommendation; the
        paper's port uses 2).
    update_clip : float or None, default=None
        If set, every update tensor is rescaled to Frobenius norm at most this
        (the paper's "Gaussian ball" re-projection; its value is unverified).
    input_noise : float, default=0.0
        Standard deviation of Gaussian noise added to training inputs (0.1 in
        the paper's appendix; off by default for tabular data).
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, feedback matrices, batches and noise
        (drawn on the host, so CPU and GPU fits of one seed agree).
    verbose : bool or int, default=False
        Print the loss after every epoch.
    warm_start : bool, default=False
        Continue from the previous fit's weights, feedback matrices and
        optimiser state.
    device : {None, "cpu", "cuda"}, default=None
        Where to fit. ``None`` follows scikit-learn's ``array_api_dispatch``
        (NumPy unless it is on, then the input's namespace); ``"cuda"`` fits
        with CuPy on the GPU and returns NumPy predictions for NumPy input.

    Attributes
    ----------
    coefs_ : list of arrays
        Weight matrix of each layer, shape (n_in, n_out), in the namespace the
        model was fitted in.
    intercepts_ : list of arrays
        Bias vector of each layer.
    feedback_matrices_ : list of arrays
        Error-feedback matrix of each hidden layer, shape (width of its error
        source, width of the layer).
    loss_curve_ : list of float
        Mean training loss of every epoch (measured on each mini-batch before
        its update, without the L2 penalty).
    best_loss_ : float
        Lowest value of ``loss_curve_``.
    validation_scores_ : list of float
        Score on the held-out split after every epoch (``early_stopping`` only).
    best_validation_score_ : float
        Best of ``validation_scores_`` (``early_stopping`` only).
    n_iter_ : int
        Number of epochs run.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        ``"identity"``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    LRAClassifier : The classification twin.
    sklearn.neural_network.MLPRegressor : Backpropagation-trained network.

    Notes
    -----
    Every update is local: layer ``i``'s weight update reads only its input
    activity and its own error unit, and the error units are built from the
    upper errors through ``feedback_matrices_`` alone (the forward weights
    never carry an error backwards). ``partial_fit`` runs one epoch over the
    data it is given, with the same mini-batches and optimiser state as
    ``fit``. Forward weights start as in ``MLPClassifier`` (Glorot uniform);
    the research note suggests ``N(0, 1 / fan_in)`` and the paper's appendix
    a unit Gaussian, which without normalisation layers saturates the
    output; ``N(0, 1 / fan_in)`` measured the same accuracy on MNIST and
    friedman1 as Glorot uniform.

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

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", alpha=1e-4,
                 batch_size="auto", learning_rate_init=1e-3, max_iter=200, tol=1e-4,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=10,
                 shuffle=True, solver="adam", momentum=0.9, target_step=0.1,
                 feedback="kolen_pollack", feedback_init="scaled_normal",
                 feedback_update_scale=1.0, error_l2_weight=1.0,
                 error_skip_every="auto", update_clip=None, input_noise=0.0,
                 random_state=None, verbose=False, warm_start=False, device=None):
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
            Non-negative weight of each sample: its error unit counts that
            many times in every local update and in the loss. Weights are
            scaled to mean 1 over the training rows, so the learning rate
            keeps its meaning; ``None`` weighs all samples equally.

        Returns
        -------
        self : LRARegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)
