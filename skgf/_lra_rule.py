"""rec-LRA's update rule: recursive local representation alignment.

Every layer learns from a target of its own. The output layer's error is
the mismatch between the network output and the label; each hidden layer
then receives a *displacement* ``d = e_src @ E`` of an upper layer's error
through an error-feedback matrix ``E`` (never through the transposed forward
weights), its target is the activation of the nudged pre-activation
``y = phi(h - target_step * d)`` and its error unit is ``e = z - y``. The
update of each layer is the Hebbian product of its own input and its own
error, ``dW = z_in^T e / B``; no derivative of the activation and no weight
transport is needed.

The recursion lives in :func:`lra_errors` (which never sees a forward
weight), the per-layer updates in :func:`lra_updates`; :class:`RecursiveLRA`
is the rule the training loop (``_iterative.py``) drives, with the input
noise, the update clipping and the optimiser (Adam or SGD), which only
rescales the updates.
"""

import math
from dataclasses import dataclass, replace

from ._activations import activate
from ._array_api import device_of, host_to, namespace_of
from ._losses import output_loss_terms
from ._network import forward_layers
from ._optimizers import AdamOptimizer, SGDOptimizer
from ._rules import MiniBatchRule


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


def lra_errors(
    xp,
    pre_activations,
    activations,
    output_error,
    feedback,
    sources,
    activation,
    target_step,
    error_l2_weight,
):
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
            mismatch = error_l2_weight * mismatch + (1.0 - error_l2_weight) * xp.sign(mismatch)
        errors[i] = mismatch
    return errors, displacements


def lra_updates(
    xp,
    X,
    Y,
    coefs,
    intercepts,
    feedback,
    sources,
    *,
    activation,
    classification,
    target_step,
    error_l2_weight,
    alpha,
    feedback_update_scale,
    feedback_rule,
    sample_weight=None,
):
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
      the error a matrix consumed and the displacement it produced;
    * with ``feedback_rule="fixed"``, no feedback updates (an empty list).
    """
    n = X.shape[0]
    pre, act = forward_layers(xp, X, coefs, intercepts, activation)
    row_loss, output_error = output_loss_terms(xp, pre[-1], Y, classification)
    errors, displacements = lra_errors(
        xp, pre, act, output_error, feedback, sources, activation, target_step, error_l2_weight
    )
    if sample_weight is not None:
        w = sample_weight[:, None]
        row_loss = row_loss * w
        errors = [e * w for e in errors]
    loss_sum = xp.sum(row_loss)
    hebbian = [act[i].T @ errors[i] for i in range(len(coefs))]
    weight_updates = [(H + alpha * W) / n if alpha else H / n for H, W in zip(hebbian, coefs)]
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


@dataclass
class LRAState:
    """What rec-LRA keeps between mini-batches and calls.

    ``sources[i]``: the layer whose error drives hidden layer ``i``
    (:func:`error_sources`); ``feedback[i]``: its error-feedback matrix;
    ``optimizer``: the :class:`~skgf._optimizers.AdamOptimizer` or
    :class:`~skgf._optimizers.SGDOptimizer` of the parameters (weights,
    biases, and the feedback matrices unless they are fixed).
    """

    sources: list
    feedback: list
    optimizer: object


@dataclass(kw_only=True)
class RecursiveLRA(MiniBatchRule):
    """rec-LRA as an update rule: :func:`lra_updates` and an optimiser step
    per mini-batch (keyword-only fields).

    Parameters
    ----------
    classification : bool
        Softmax cross-entropy (True) or half squared error (False) on the output.
    target_step, error_l2_weight, alpha, feedback_rule, feedback_update_scale
        As in :func:`lra_updates` (``alpha`` already scaled for sample
        weights by the loop).
    feedback_init : {"scaled_normal", "unit_normal"}
        Fresh feedback matrices from ``N(0, 1 / n_source)`` or ``N(0, 1)``.
    error_skip_every : int or "auto"
        Error skip connections of a fresh fit (:func:`error_sources`);
        ``"auto"`` is 2 with at least 4 hidden layers, else 0.
    update_clip : float or None
        Largest Frobenius norm of every update tensor.
    input_noise : float
        Standard deviation of the Gaussian noise added to each batch's input.
    solver, learning_rate, momentum
        The optimiser (``"adam"`` or ``"sgd"``), its step size and SGD's momentum.
    """

    classification: bool
    target_step: float
    error_l2_weight: float
    alpha: float
    feedback_rule: str
    feedback_init: str
    feedback_update_scale: float
    error_skip_every: object
    update_clip: object
    input_noise: float
    solver: str
    learning_rate: float
    momentum: float

    # ---------------------------------------------------------------- state
    def init_state(self, network, rng):
        """Error sources, random feedback matrices (drawn from ``rng`` right
        after the weights) and a fresh optimiser."""
        n_layers = len(network.coefs)
        skip = self.error_skip_every
        if skip == "auto":
            skip = 2 if n_layers - 1 >= 4 else 0
        sources = error_sources(n_layers, skip)
        W0 = network.coefs[0]
        xp, device, dtype = namespace_of(W0), device_of(W0), W0.dtype
        widths = [W.shape[1] for W in network.coefs]
        feedback = []
        for i, s in enumerate(sources):
            scale = 1.0 if self.feedback_init == "unit_normal" else 1.0 / math.sqrt(widths[s])
            E = rng.normal(0.0, scale, size=(widths[s], widths[i]))
            feedback.append(host_to(E, xp, device, dtype))
        params = self._parameters(network, feedback)
        return LRAState(sources, feedback, self._fresh_optimizer(params))

    def resume_state(self, state, network):
        """The previous sources and feedback matrices; the previous optimiser
        with the current step size (and momentum), or a fresh one when the
        solver changed or the parameters no longer match its moments."""
        params = self._parameters(network, state.feedback)
        optimizer = state.optimizer
        kind = AdamOptimizer if self.solver == "adam" else SGDOptimizer
        if not (isinstance(optimizer, kind) and optimizer.fits(params)):
            optimizer = self._fresh_optimizer(params)
        elif kind is AdamOptimizer:
            optimizer = replace(optimizer, learning_rate=self.learning_rate)
        else:
            optimizer = replace(optimizer, learning_rate=self.learning_rate, momentum=self.momentum)
        return replace(state, optimizer=optimizer)

    def _parameters(self, network, feedback):
        """The optimiser's parameter list: weights, biases, learned feedback."""
        params = [*network.coefs, *network.intercepts]
        return params + list(feedback) if self.feedback_rule != "fixed" else params

    def _fresh_optimizer(self, params):
        if self.solver == "adam":
            return AdamOptimizer.for_params(params, self.learning_rate)
        return SGDOptimizer.for_params(params, self.learning_rate, self.momentum)

    # ----------------------------------------------------------------- step
    def step(self, network, state, X, Y, sample_weight, rng, batch_id=None):
        xp = namespace_of(X)
        if self.input_noise:
            noise = rng.normal(0.0, self.input_noise, size=tuple(X.shape))
            X = X + host_to(noise, xp, device_of(X), X.dtype)
        loss_sum, dW, db, dE = lra_updates(
            xp,
            X,
            Y,
            network.coefs,
            network.intercepts,
            state.feedback,
            state.sources,
            activation=network.activation,
            classification=self.classification,
            target_step=self.target_step,
            error_l2_weight=self.error_l2_weight,
            alpha=self.alpha,
            feedback_update_scale=self.feedback_update_scale,
            feedback_rule=self.feedback_rule,
            sample_weight=sample_weight,
        )
        updates = [*dW, *db, *dE]
        if self.update_clip is not None:
            updates = [_clip_norm(xp, u, self.update_clip) for u in updates]
        params = self._parameters(network, state.feedback)
        moved = state.optimizer.step(params, updates)
        n = len(network.coefs)
        network.coefs[:] = moved[:n]
        network.intercepts[:] = moved[n : 2 * n]
        if self.feedback_rule != "fixed":
            state.feedback = moved[2 * n :]
        return loss_sum
