"""Semi-implicit back propagation's update rule (Liu & Zhang, 2020).

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

:func:`sibp_update` is the paper's rule on one mini-batch;
:class:`SemiImplicitStep` wraps it as the update rule the training loop
(``_iterative.py``) drives. The estimators are in ``_sibp.py``.
"""

from ._activations import activate, derivative
from ._array_api import namespace_of
from ._linalg import (
    ProximalBatchOperator,
    proximal_solve,
    scipy_lapack_single_threaded,
    squared_norm,
)
from ._losses import output_error, output_loss
from ._network import forward_layers
from ._rules import MiniBatchRule


def sibp_update(
    xp,
    X,
    Y,
    coefs,
    intercepts,
    activation,
    classification,
    step,
    lam,
    alpha,
    refinement_steps=0,
    sample_weight=None,
    first_layer=None,
):
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

    ``first_layer``, when given, is this batch's
    :class:`~skgf._linalg.ProximalBatchOperator` (same ``X``, ``lam``,
    ``step * alpha`` and weights): the first layer's solves then reuse its
    factorisation instead of forming the batch Gram again.
    """
    Zs, Hs = forward_layers(xp, X, coefs, intercepts, activation)
    out = Zs[-1]
    n_rows = X.shape[0]
    loss = output_loss(xp, out, Y, classification, sample_weight) * n_rows
    if alpha:
        loss = loss + 0.5 * alpha * sum(squared_norm(xp, W) for W in coefs)
    reg = step * alpha
    last = len(coefs) - 1
    delta = step * output_error(xp, out, Y, classification)  # on f_N = z_N
    for i in range(last, -1, -1):
        F, z = Hs[i], Zs[i]

        def solve(z_target, i=i, F=F, z=z):
            if i == 0 and first_layer is not None:
                return first_layer.solve(z_target, coefs[0], intercepts[0], current=z)
            return proximal_solve(
                xp, F, z_target, coefs[i], intercepts[i], lam, reg, current=z, weights=sample_weight
            )

        slope = None if i == last else derivative(xp, activation, z, Hs[i + 1])
        delta_z = delta if slope is None else slope * delta
        W, b = solve(z - delta_z)
        if slope is not None and refinement_steps:
            target = Hs[i + 1] - delta
            for _ in range(refinement_steps):
                z_new = F @ W + b
                h_new = activate(xp, activation, z_new)
                W, b = solve(z_new + derivative(xp, activation, z_new, h_new) * (target - h_new))
        coefs[i], intercepts[i] = W, b
        if i > 0:
            delta = delta_z @ W.T
    return loss


class SemiImplicitStep(MiniBatchRule):
    """Semi-implicit BP as an update rule: one :func:`sibp_update` per batch.

    Parameters
    ----------
    classification : bool
        Softmax cross-entropy (True) or half squared error (False) on the output.
    neuron_step_size : float
        The neuron step size eta.
    proximal_weight : float
        The proximal parameter per batch row (lambda / batch rows).
    alpha : float
        L2 penalty (already scaled for sample weights by the loop).
    refinement_steps : int
        Gauss-Newton re-solves of each hidden layer.
    """

    def __init__(
        self, *, classification, neuron_step_size, proximal_weight, alpha, refinement_steps
    ):
        self.classification = classification
        self.neuron_step_size = neuron_step_size
        self.proximal_weight = proximal_weight
        self.alpha = alpha
        self.refinement_steps = refinement_steps
        # batch_id -> ProximalBatchOperator of that batch's inputs, for the
        # fit call this rule serves (the loop builds a rule per call)
        self._first_layers = {}

    def running(self):
        # the proximal solves call SciPy's LAPACK between NumPy's products
        return scipy_lapack_single_threaded()

    def step(self, network, state, X, Y, sample_weight, rng, batch_id=None):
        xp = namespace_of(X)
        # Python floats: a NumPy float64 from a grid (np.logspace) would
        # promote a float32 fit's arrays to float64 (NumPy 2's scalar rules)
        step, alpha = float(self.neuron_step_size), float(self.alpha)
        lam, reg = float(self.proximal_weight) * X.shape[0], step * alpha
        first_layer = None
        if batch_id is not None:  # the batch recurs: factor its first layer once
            first_layer = self._first_layers.get(batch_id)
            if first_layer is None:
                first_layer = ProximalBatchOperator(xp, X, lam, reg, weights=sample_weight)
                self._first_layers[batch_id] = first_layer
        return sibp_update(
            xp,
            X,
            Y,
            network.coefs,
            network.intercepts,
            network.activation,
            self.classification,
            step=step,
            lam=lam,
            alpha=alpha,
            refinement_steps=self.refinement_steps,
            sample_weight=sample_weight,
            first_layer=first_layer,
        )
