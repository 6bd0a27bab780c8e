"""RSO's incremental evaluation of proposals on one cached mini-batch.

A step on weight ``W_k[i, j]`` changes only unit ``j``'s pre-activation on the
batch, by ``step * input_i``. With the batch's forward pass cached, the loss
change of a proposal therefore never needs a forward pass of the network:

* an output unit's proposal moves one output row: ``O(B)`` per candidate
  (the log-sum-exp of the other outputs stays fixed while the unit is
  visited);
* a last-hidden unit's proposal moves one activation row, which moves the
  outputs by the rank-one term ``outgoing dh``: ``O(B K)`` for the
  cross-entropy, ``O(B)`` for the squared error (its expansion in ``dh``);
* a deeper unit's proposal moves the next pre-activation by the same
  rank-one term, and only the layers above it are recomputed.

Each evaluator serves the proposals on one unit's incoming weights and
bias. The caches are stored *units x rows* (one unit's batch values are one
contiguous row). Candidates come as stacked pre-activation steps, one row
per candidate. Changes are sums of per-row loss differences, so rows a step
does not touch contribute exactly nothing, and a step that changes nothing
is a tie. After an accepted step the unit's state is updated with the same
elementwise formulas the candidates used, so later decisions see exactly
the state a forward pass would give, up to rounding.

Evaluator protocol (what :mod:`skgf._rso_rule` calls):

``loss``
    summed (weighted) batch loss of the current weights;
``loss_changes(steps)``
    host array, one loss change per candidate row of ``steps`` (C, B);
``loss_changes_on(steps, subset)``
    the same for steps that are zero outside the batch rows ``subset``
    (``steps`` is (C, len(subset))); only where ``supports_subsets``;
``accept(candidate, step)``
    make candidate ``candidate`` of the last evaluation, whose dense step
    is ``step``, the unit's current state;
``write_back()``
    store the unit's state in the batch caches;
``elements_per_row``
    array elements one candidate costs per batch row (sizes stacks).
"""

import numpy as np

from ._activations import activate
from ._array_api import device_of, to_numpy


def contiguous_transpose(xp, A):
    """``A.T`` as a row-major array (one row per column of ``A``)."""
    T = xp.permute_dims(A, (1, 0))
    return xp.reshape(xp.reshape(T, (-1,)), T.shape)


def candidate_row_losses(xp, Z, targets, classification):
    """Loss of every batch row for each candidate output ``Z`` (C, K, B): (C, B)."""
    if classification:
        m = xp.max(Z, axis=1)
        lse = xp.log(_sum(xp, xp.exp(Z - m[:, None, :]), 1)) + m
        return lse - _sum(xp, Z * targets, 1)
    R = Z - targets
    return 0.5 * _sum(xp, R * R, 1)


def _sum(xp, a, axis):
    """``xp.sum(a, axis=axis)``; for NumPy arrays straight through
    ``np.add.reduce``, the same reduction without the wrappers' 1.2 us a
    call (RSO sums a few small arrays per proposal)."""
    if isinstance(a, np.ndarray):
        return np.add.reduce(a, axis=axis)
    return xp.sum(a, axis=axis)


def _host_row_sums(xp, values, row_weights):
    """Float64 host sums over the batch rows (last axis) of ``values``,
    weighted by ``row_weights`` (or unweighted for ``None``)."""
    summed = _sum(xp, values if row_weights is None else values * row_weights, -1)
    return np.asarray(to_numpy(summed), dtype=np.float64)


def _summed_loss(xp, Z, targets, row_weights, classification):
    """Summed (weighted) loss of the output ``Z`` (K, B) on the batch."""
    losses = candidate_row_losses(xp, Z[None, ...], targets, classification)[0, :]
    return float(xp.sum(losses if row_weights is None else losses * row_weights))


def batch_columns(xp, a, subset):
    """The batch rows ``subset`` (the last axis) of ``a``; for NumPy by the
    array's own method (``np.take``'s wrapper cost a microsecond a call,
    and RSO takes twice per sparse proposal)."""
    if isinstance(a, np.ndarray):
        return a.take(subset, axis=a.ndim - 1)
    return xp.take(a, subset, axis=a.ndim - 1)


class LayerInputs:
    """Layer ``k``'s inputs on the batch with a row of ones (the bias input),
    and where each input is nonzero (for the exact sparse shortcuts)."""

    def __init__(self, xp, inputs, row_weights=None):
        self.xp = xp
        self._numpy = isinstance(inputs, np.ndarray)
        if self._numpy:
            # one copy, from any layout (the batch arrives as a transposed
            # view): a fresh batch every few hundred proposals makes these
            # copies a tenth of an MNIST pass
            self.with_bias = np.empty((inputs.shape[0] + 1, inputs.shape[1]), inputs.dtype)
            self.with_bias[:-1] = inputs
            self.with_bias[-1] = 1
        else:
            ones = xp.ones((1, inputs.shape[1]), dtype=inputs.dtype, device=device_of(inputs))
            self.with_bias = xp.concat([inputs, ones], axis=0)
        self._nonzero = self.with_bias != 0
        if row_weights is not None:
            # a row of weight zero adds nothing to the loss: leaving it out
            # keeps a zero-weight row the same as a removed one (a weight
            # whose input is live only there is skipped in both fits)
            self._nonzero = self._nonzero & (xp.reshape(row_weights, (1, -1)) > 0)
        if self._numpy:
            self.nonzero_counts = np.count_nonzero(self._nonzero, axis=1)
        else:
            counts = xp.sum(xp.astype(self._nonzero, xp.int32), axis=1)
            self.nonzero_counts = np.asarray(to_numpy(counts))  # host, one per input
        self._nonzero_host = None
        self._subsets = {}

    def rows_where_nonzero(self, i):
        """Device index array of the batch rows where input ``i`` is not zero."""
        if i not in self._subsets:
            if self._numpy:  # already on the host
                self._subsets[i] = self._nonzero[i].nonzero()[0]
                return self._subsets[i]
            if self._nonzero_host is None:
                self._nonzero_host = np.asarray(to_numpy(self._nonzero), dtype=bool)
            rows = np.flatnonzero(self._nonzero_host[i])
            self._subsets[i] = self.xp.asarray(rows, device=device_of(self.with_bias))
        return self._subsets[i]


class BatchCache:
    """Forward pass of one mini-batch, stored units x rows.

    ``layer_inputs_T[k]`` is layer ``k``'s input (the batch itself for
    ``k = 0``), ``pre_activations_T[k]`` its pre-activation; the last one is
    the network's output.
    """

    def __init__(self, xp, coefs, intercepts, activation, classification):
        self.xp = xp
        self.coefs, self.intercepts = coefs, intercepts
        self.activation = activation
        self.classification = classification
        self.loaded = False

    def load(self, XT, targets, sample_weight=None):
        """Forward pass of the batch ``XT`` (features x rows) with its
        ``targets`` (outputs x rows) and row weights (or ``None``)."""
        xp = self.xp
        self.targets, self.sample_weight = targets, sample_weight
        self.layer_inputs_T, self.pre_activations_T = [XT], []
        last = len(self.coefs) - 1
        for k, (W, b) in enumerate(zip(self.coefs, self.intercepts)):
            A = xp.matmul(xp.permute_dims(W, (1, 0)), self.layer_inputs_T[-1])
            A = A + xp.reshape(b, (-1, 1))
            self.pre_activations_T.append(A)
            if k < last:
                self.layer_inputs_T.append(activate(xp, self.activation, A))
        self.n_rows = XT.shape[1]
        self._layer_inputs = {}
        self.loaded = True

    def layer_inputs(self, k):
        """:class:`LayerInputs` of layer ``k`` on this batch (cached)."""
        if k not in self._layer_inputs:
            H = self.layer_inputs_T[k]
            if k == 0 and not isinstance(H, np.ndarray):  # the batch arrives as a transposed view
                H = contiguous_transpose(self.xp, self.xp.permute_dims(H, (1, 0)))
            self._layer_inputs[k] = LayerInputs(self.xp, H, self.sample_weight)
        return self._layer_inputs[k]

    def outputs_changed(self, k):
        """Forget the input caches of the layers above ``k``."""
        for m in [m for m in self._layer_inputs if m > k]:
            del self._layer_inputs[m]

    def loss(self):
        """Summed (weighted) loss of the cached output."""
        return _summed_loss(
            self.xp,
            self.pre_activations_T[-1],
            self.targets,
            self.sample_weight,
            self.classification,
        )

    def unit(self, k, j):
        """The evaluator of unit ``j`` of layer ``k``."""
        if k == len(self.coefs) - 1:
            return OutputUnit(self, j)
        if k < len(self.coefs) - 2:
            return DeepHiddenUnit(self, k, j)
        if self.classification:
            return SoftmaxHiddenUnit(self, k, j)
        return SquaredHiddenUnit(self, k, j)


class _Unit:
    """What every evaluator shares: a stacked per-row ``state`` whose last
    row holds the batch's row weights, when there are any."""

    supports_subsets = True

    def _stack_state(self, cache, rows):
        if cache.sample_weight is not None:
            rows = [*rows, cache.sample_weight[None, :]]
        self.state = self.xp.concat(rows, axis=0)
        self._weight_row = None if cache.sample_weight is None else self.state.shape[0] - 1

    def _row_weights(self, state):
        return None if self._weight_row is None else state[self._weight_row, :]


class OutputUnit(_Unit):
    """Output unit ``j``: state rows are its output ``z``, its target and,
    for classification, the log-sum-exp of the other outputs."""

    elements_per_row = 1

    def __init__(self, cache, j):
        xp = cache.xp
        self.xp, self.cache, self.j = xp, cache, j
        self.classification = cache.classification
        Z, targets = cache.pre_activations_T[-1], cache.targets
        rows = [Z[j : j + 1, :], targets[j : j + 1, :]]
        if self.classification:
            others = np.asarray([m for m in range(Z.shape[0]) if m != j], dtype=np.int64)
            Zo = xp.take(Z, xp.asarray(others, device=device_of(Z)), axis=0)
            mo = xp.max(Zo, axis=0)
            rows.append((xp.log(xp.sum(xp.exp(Zo - mo), axis=0)) + mo)[None, :])
        self._stack_state(cache, rows)
        self.row_loss = None  # of the current state, computed when first needed
        self.loss = _summed_loss(xp, Z, targets, cache.sample_weight, self.classification)
        self.accepted = False

    def _row_losses(self, z, state):
        """Row losses of output values ``z``, up to a per-row constant (the
        target logit of rows not labelled j; the other outputs' residuals)."""
        if self.classification:
            return self.xp.logaddexp(state[2, :], z) - state[1, :] * z
        r = z - state[1, :]
        return 0.5 * (r * r)

    def loss_changes(self, steps):
        state = self.state
        if self.row_loss is None:
            self.row_loss = self._row_losses(state[0:1, :], state)[0, :]
        self._z = state[0, :] + steps
        self._candidate_row_loss = self._row_losses(self._z, state)
        self._dense = True
        change = self._candidate_row_loss - self.row_loss
        return _host_row_sums(self.xp, change, self._row_weights(state))

    def loss_changes_on(self, steps, subset):
        state = batch_columns(self.xp, self.state, subset)
        self._dense = False
        change = self._row_losses(state[0, :] + steps, state) - self._row_losses(
            state[0:1, :], state
        )
        return _host_row_sums(self.xp, change, self._row_weights(state))

    def accept(self, candidate, step):
        if self._dense:
            self.state[0, :] = self._z[candidate, :]
            self.row_loss = self._candidate_row_loss[candidate, :]
        else:
            self.state[0, :], self.row_loss = self.state[0, :] + step, None
        self.accepted = True

    def write_back(self):
        self.cache.pre_activations_T[-1][self.j, :] = self.state[0, :]


class _HiddenUnit(_Unit):
    """Hidden unit ``j`` of layer ``k``: state rows 0 and 1 are its
    pre-activation and activation; a step moves the activation by ``dh``
    and the next layer's pre-activation by ``outgoing dh``."""

    def __init__(self, cache, k, j):
        xp = cache.xp
        self.xp, self.cache, self.k, self.j = xp, cache, k, j
        self.activation = cache.activation
        self._zero = xp.zeros((), dtype=cache.targets.dtype, device=device_of(cache.targets))
        self._a = cache.pre_activations_T[k][j : j + 1, :]
        self._h = cache.layer_inputs_T[k + 1][j : j + 1, :]
        self._h_start = xp.asarray(self._h[0, :], copy=True)
        self.outgoing = cache.coefs[k + 1][j, :]
        self.loss = cache.loss()
        self.row_loss = None
        self.accepted = False

    def _activate(self, a):
        if self.activation == "relu":  # against a cached zero: no allocation
            return self.xp.maximum(a, self._zero)
        return activate(self.xp, self.activation, a)

    def _activation_change(self, state, steps):
        a = state[0, :] + steps
        h = self._activate(a)
        return a, h, h - state[1, :]

    def _accept_sparse(self, step):
        """Accept a step evaluated on a subset, on all rows (by the formulas
        of the candidates)."""
        a, h, dh = self._activation_change(self.state, step)
        self._move_outputs(dh)
        self.state[0, :], self.state[1, :] = a, h

    def write_back(self):
        self.cache.pre_activations_T[self.k][self.j, :] = self.state[0, :]
        self.cache.layer_inputs_T[self.k + 1][self.j, :] = self.state[1, :]


class SoftmaxHiddenUnit(_HiddenUnit):
    """Last hidden layer, cross-entropy. A row's loss is ``log sum_k exp(G_k)``
    with the logits taken relative to the target logit, ``G = Z - z_target``;
    a step moves ``G`` by ``dh * U``, ``U = outgoing - outgoing[target]``."""

    def __init__(self, cache, k, j):
        super().__init__(cache, k, j)
        xp = self.xp
        Z, targets = cache.pre_activations_T[-1], cache.targets
        n_outputs = Z.shape[0]
        outgoing = xp.reshape(self.outgoing, (1, -1))
        self._target_outgoing = xp.matmul(outgoing, targets)[0, :]
        self._target_logit = xp.sum(targets * Z, axis=0)
        relative_logits = Z - self._target_logit
        relative_outgoing = xp.reshape(self.outgoing, (-1, 1)) - self._target_outgoing
        self._stack_state(cache, [self._a, self._h, relative_logits, relative_outgoing])
        self._logits = slice(2, 2 + n_outputs)
        self._direction = slice(2 + n_outputs, 2 + 2 * n_outputs)
        # exp(G) overflows only when a wrong logit exceeds the target one by
        # ~88 (float32); only then pay for shifting by the row maximum
        self._shifted = False
        G = self.state[self._logits, None, :]
        with np.errstate(over="ignore", invalid="ignore"):  # a probe: overflow is the answer
            self._shifted = not bool(xp.all(xp.isfinite(self._log_sum_exp(G))))
        self.elements_per_row = n_outputs
        # NumPy, unweighted: a step evaluated on a subset of the rows leaves
        # the others exactly as they are (while the cached pre-activations are
        # finite), so an accepted one is written on the subset alone and the
        # rows' cached losses serve as the baseline
        # (with row weights the subset also leaves out zero-weight rows that
        # the step does move; other namespaces need not index-assign)
        self._scatters = isinstance(self.state, np.ndarray) and self._weight_row is None

    def _log_sum_exp(self, G):
        """Row losses ``log sum_k exp(G[k])`` of every candidate."""
        xp = self.xp
        if self._shifted:
            m = xp.max(G, axis=0)
            return xp.log(_sum(xp, xp.exp(G - m), 0)) + m
        return xp.log(_sum(xp, xp.exp(G), 0))

    def loss_changes(self, steps):
        state = self.state
        self._a2, self._h2, dh = self._activation_change(state, steps)
        G = state[self._logits, None, :]
        if self.row_loss is None:
            self.row_loss = self._log_sum_exp(G)[0, :]
        self._G2 = G + dh * state[self._direction, None, :]  # (K, C, B)
        self._candidate_row_loss = self._log_sum_exp(self._G2)
        self._dense = True
        change = self._candidate_row_loss - self.row_loss
        return _host_row_sums(self.xp, change, self._row_weights(state))

    def loss_changes_on(self, steps, subset):
        state = batch_columns(self.xp, self.state, subset)
        a, h, dh = self._activation_change(state, steps)
        G = state[self._logits, None, :]
        G2 = G + dh * state[self._direction, None, :]
        candidate_row_loss = self._log_sum_exp(G2)
        self._dense = False
        if self._scatters:
            if self.row_loss is None:
                self.row_loss = self._log_sum_exp(self.state[self._logits, None, :])[0, :]
            self._on_subset = (subset, a, h, G2, candidate_row_loss)
        # NumPy sums the K outputs of a one-row array pairwise, of a wider one
        # in sequence: only a subset of two rows or more has the cached losses'
        # rounding (a one-row baseline from the cache moved float32 fits)
        if self._scatters and subset.shape[0] > 1:
            baseline = self.row_loss[subset]
        else:
            baseline = self._log_sum_exp(G)
        change = candidate_row_loss - baseline
        return _host_row_sums(self.xp, change, self._row_weights(state))

    def _move_outputs(self, dh):
        state = self.state
        state[self._logits, :] = state[self._logits, :] + dh * state[self._direction, :]
        self.row_loss = None

    def accept(self, candidate, step):
        self.accepted = True
        if not self._dense and not self._scatters:
            return self._accept_sparse(step)
        if not self._dense:  # the candidate's values on its subset
            subset, a, h, G2, row_loss = self._on_subset
            self.state[0, subset], self.state[1, subset] = a[candidate, :], h[candidate, :]
            self.state[self._logits, subset] = G2[:, candidate, :]
            self.row_loss[subset] = row_loss[candidate, :]
            return None
        self.state[self._logits, :] = self._G2[:, candidate, :]
        self.row_loss = self._candidate_row_loss[candidate, :]
        self.state[0, :], self.state[1, :] = self._a2[candidate, :], self._h2[candidate, :]
        return None

    def write_back(self):
        if self.accepted:
            state = self.state
            target_logit = (
                self._target_logit + (state[1, :] - self._h_start) * self._target_outgoing
            )
            self.cache.pre_activations_T[-1] = state[self._logits, :] + target_logit
        super().write_back()


class SquaredHiddenUnit(_HiddenUnit):
    """Last hidden layer, squared error: ``0.5 |R + outgoing dh|^2 - 0.5 |R|^2
    = dh (outgoing . R) + 0.5 |outgoing|^2 dh^2`` per row (R: residuals);
    state row 2 holds ``outgoing . R``."""

    elements_per_row = 2

    def __init__(self, cache, k, j):
        super().__init__(cache, k, j)
        xp = self.xp
        residuals = cache.pre_activations_T[-1] - cache.targets
        projected = xp.matmul(xp.reshape(self.outgoing, (1, -1)), residuals)
        self._stack_state(cache, [self._a, self._h, projected])
        self._outgoing_sq = float(xp.sum(self.outgoing * self.outgoing))

    def _changes(self, dh, projected, row_weights):
        sums = _host_row_sums(self.xp, self.xp.stack([dh * projected, dh * dh]), row_weights)
        return sums[0, :] + 0.5 * self._outgoing_sq * sums[1, :]

    def loss_changes(self, steps):
        state = self.state
        self._a2, self._h2, self._dh = self._activation_change(state, steps)
        self._dense = True
        return self._changes(self._dh, state[2, :], self._row_weights(state))

    def loss_changes_on(self, steps, subset):
        state = batch_columns(self.xp, self.state, subset)
        dh = self._activation_change(state, steps)[2]
        self._dense = False
        return self._changes(dh, state[2, :], self._row_weights(state))

    def _move_outputs(self, dh):
        self.state[2, :] = self.state[2, :] + dh * self._outgoing_sq

    def accept(self, candidate, step):
        self.accepted = True
        if not self._dense:
            return self._accept_sparse(step)
        self._move_outputs(self._dh[candidate, :])
        self.state[0, :], self.state[1, :] = self._a2[candidate, :], self._h2[candidate, :]

    def write_back(self):
        if self.accepted:
            xp = self.xp
            dh = xp.reshape(self.state[1, :] - self._h_start, (1, -1))
            outputs = self.cache.pre_activations_T[-1]
            self.cache.pre_activations_T[-1] = outputs + xp.reshape(self.outgoing, (-1, 1)) * dh
        super().write_back()


class DeepHiddenUnit(_HiddenUnit):
    """A hidden layer below the last: the next pre-activation moves by the
    rank-one term, and the layers above it are recomputed for all
    candidates at once."""

    supports_subsets = False

    def __init__(self, cache, k, j):
        super().__init__(cache, k, j)
        xp = self.xp
        self._stack_state(cache, [self._a, self._h])
        self._outgoing_column = xp.reshape(self.outgoing, (1, -1, 1))
        self._next_pre_activation = cache.pre_activations_T[k + 1]
        self._coefs_T = [xp.permute_dims(W, (1, 0)) for W in cache.coefs]
        self._intercepts_T = [xp.reshape(b, (-1, 1)) for b in cache.intercepts]
        outputs = cache.pre_activations_T[-1][None, ...]
        self.row_loss = candidate_row_losses(xp, outputs, cache.targets, cache.classification)[0, :]
        self.elements_per_row = sum(W.shape[1] for W in cache.coefs[k + 1 :])

    def loss_changes(self, steps):
        xp, cache = self.xp, self.cache
        self._a2, self._h2, dh = self._activation_change(self.state, steps)
        A = self._next_pre_activation + dh[:, None, :] * self._outgoing_column
        self._pre_activations, self._activations = [A], []
        for m in range(self.k + 1, len(cache.coefs) - 1):
            H = activate(xp, self.activation, A)
            A = xp.matmul(self._coefs_T[m + 1], H) + self._intercepts_T[m + 1]
            self._activations.append(H)
            self._pre_activations.append(A)
        self._candidate_row_loss = candidate_row_losses(xp, A, cache.targets, cache.classification)
        change = self._candidate_row_loss - self.row_loss
        return _host_row_sums(xp, change, self._row_weights(self.state))

    def accept(self, candidate, step):
        self._accepted_pre_activations = [A[candidate, ...] for A in self._pre_activations]
        self._accepted_activations = [H[candidate, ...] for H in self._activations]
        self._next_pre_activation = self._accepted_pre_activations[0]
        self.row_loss = self._candidate_row_loss[candidate, :]
        self.state[0, :], self.state[1, :] = self._a2[candidate, :], self._h2[candidate, :]
        self.accepted = True

    def write_back(self):
        cache, k = self.cache, self.k
        if self.accepted:
            for m, A in enumerate(self._accepted_pre_activations):
                cache.pre_activations_T[k + 1 + m] = A
            for m, H in enumerate(self._accepted_activations):
                cache.layer_inputs_T[k + 2 + m] = H
        super().write_back()
