"""RSO references for the tests and the throughput benchmark.

:class:`NaiveRandomSearch` is the plain method: every candidate of every
proposal is judged by a full forward pass of the batch. It draws the same
schedule, steps and batches as the estimators' rule (it reuses its pass and
replaces only the judging of one unit's proposals), so both must take the
same decisions. :class:`CheckedRandomSearch` is the estimators' rule with a
check after every block: the incrementally maintained batch loss must equal
the loss of a forward pass with the updated weights.
"""

import numpy as np

from skgf._losses import output_loss, row_losses
from skgf._network import Network, forward
from skgf._rso_rule import RandomSearchPass


def make_pass(classification, **overrides):
    """Rule keyword arguments of the estimators' defaults, with ``overrides``."""
    params = dict(
        classification=classification,
        perturbation_scale=1.0,
        final_perturbation_scale=0.1,
        annealing="constant",
        n_passes=1,
        perturbation_reference="current",
        layer_order="backward",
        visiting_order="unit",
        batch_refresh="unit",
    )
    params.update(overrides)
    return params


def search(rule, xp, X, Y, coefs, intercepts, *, activation, batch_size, step_stds, rng, w=None):
    """One pass of ``rule`` over ``coefs`` / ``intercepts`` (changed in place)."""
    network = Network(coefs, intercepts, activation)
    return rule.search(network, X, Y, w, rng, batch_size, step_stds)


class _Enough(Exception):
    """Raised to end a pass after ``max_proposals`` proposals."""


class NaiveRandomSearch(RandomSearchPass):
    """The rule with a full forward pass per candidate (and no shortcut:
    weights whose input is zero are judged too); ``max_proposals`` ends the
    pass early, for throughput measurements."""

    def __init__(self, *, max_proposals=None, **params):
        super().__init__(**params)
        self.max_proposals = max_proposals

    def search(self, network, X, Y, sample_weight, rng, batch_size, step_stds):
        self._network, self._done = network, 0
        try:
            return super().search(network, X, Y, sample_weight, rng, batch_size, step_stds)
        except _Enough:
            return None

    def _batch_row_losses(self, cache):
        net = self._network
        Z = forward(cache.xp, cache.layer_inputs_T[0].T, net.coefs, net.intercepts, net.activation)
        return row_losses(cache.xp, Z, cache.targets.T, self.classification)

    def _summed_change(self, cache, rows, current):
        d = rows - current
        if cache.sample_weight is not None:
            d = d * cache.sample_weight
        return float(np.sum(np.asarray(d, dtype=np.float64)))

    def _search_unit(self, cache, k, j, inputs, steps, tally):
        W, b = self._network.coefs[k], self._network.intercepts[k]
        current = self._batch_row_losses(cache)
        loss = float(np.sum(np.asarray(self._weighted(cache, current), dtype=np.float64)))
        for i, (plus, minus) in zip(inputs.tolist(), steps.tolist()):
            if self.max_proposals is not None and self._done >= self.max_proposals:
                raise _Enough
            self._done += 1
            target, where = (b, j) if i == W.shape[0] else (W, (i, j))
            old = target[where]
            changes, candidates = [], []
            for step in (plus, minus):
                target[where] = old + step
                rows = self._batch_row_losses(cache)
                changes.append(self._summed_change(cache, rows, current))
                candidates.append(rows)
            c = 0 if changes[0] <= changes[1] else 1
            if changes[c] < 0:
                target[where] = old + (plus, minus)[c]
                current, loss = candidates[c], loss + changes[c]
                tally.n_accepted += 1
            else:
                target[where] = old
        tally.block_losses.append(loss / cache.n_rows)
        cache.load(cache.layer_inputs_T[0], cache.targets, cache.sample_weight)

    @staticmethod
    def _weighted(cache, rows):
        return rows if cache.sample_weight is None else rows * cache.sample_weight


class CheckedRandomSearch(RandomSearchPass):
    """The estimators' rule, checking its running batch loss after every
    block against a forward pass of the updated weights."""

    def __init__(self, *, rtol, **params):
        super().__init__(**params)
        self.rtol = rtol
        self.n_checked = 0

    def _search_unit(self, cache, k, j, inputs, steps, tally):
        super()._search_unit(cache, k, j, inputs, steps, tally)
        xp = cache.xp
        Z = forward(xp, cache.layer_inputs_T[0].T, cache.coefs, cache.intercepts, cache.activation)
        full = float(output_loss(xp, Z, cache.targets.T, self.classification, cache.sample_weight))
        running = tally.block_losses[-1]
        assert abs(running - full) <= self.rtol * max(1.0, abs(full)), (running, full)
        self.n_checked += 1
