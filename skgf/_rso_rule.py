"""RSO's update rule: random search over the weights (Singh & Tripathi, 2020).

One *pass* visits every weight and bias once, layer by layer. For weight
``w`` it draws ``step ~ N(0, sigma_l^2)`` and keeps whichever of ``w``,
``w + step`` and ``w - step`` gives the lowest mini-batch loss; ties keep
``w``, and so do changes within about the rounding error of the summed
loss. An accepted change is seen by the next proposal (Gauss-Seidel order).
``sigma_l`` is the layer's weight std times an annealed factor.

The loss changes come from the incremental evaluators of
:mod:`skgf._rso_units`, never from a forward pass per proposal. Two exact
shortcuts keep the decisions those of the plain rule:

* a weight whose input is zero on the whole batch cannot change the loss,
  so it is rejected without evaluation; a step whose input is zero on most
  rows is evaluated on the other rows only;
* when proposals are cheap and often rejected, the next few proposals of
  one unit are evaluated at once against the current state (*speculation*);
  those after an accepted one are evaluated again.
"""

from dataclasses import dataclass, field

import numpy as np

from ._array_api import device_of, host_to, namespace_of, take_rows, to_numpy
from ._rso_units import BatchCache, batch_columns, contiguous_transpose
from ._rules import PassRule

# Speculation: at most this many proposals of one unit per evaluation, and at
# most this many array elements in one stack of candidates.
_MAX_SPECULATION = 16
_SPECULATION_ELEMENTS = 8192
# A step whose input is nonzero on at most this fraction of the batch rows is
# evaluated on those rows only.
_SUBSET_FRACTION = 0.5


def annealing_factor(initial, final, annealing, pass_index, n_passes):
    """Multiple of the layer's weight std used as step std in pass ``pass_index``."""
    if annealing == "constant" or n_passes <= 1:
        return float(initial)
    frac = min(pass_index, n_passes - 1) / (n_passes - 1)
    return float(initial - (initial - final) * frac)


def layer_std(xp, W):
    """Empirical std of a layer's weights; its RMS (or the He std) when all
    weights are equal, so that the step never collapses to zero."""
    std = float(xp.std(W))
    if not std > 0:
        std = float(xp.sqrt(xp.mean(W * W)))
    if not std > 0:
        std = float(np.sqrt(2.0 / W.shape[0]))
    return std


class BatchStream:
    """Mini-batches of rows without replacement, reshuffled when spent; the
    whole set when ``batch_size >= n_samples``. Batches come transposed
    (features x rows), as :class:`~skgf._rso_units.BatchCache` stores them."""

    def __init__(self, xp, X, Y, sample_weight, batch_size, rng):
        self.xp, self.X, self.Y, self.sample_weight, self.rng = xp, X, Y, sample_weight, rng
        self.n_samples = X.shape[0]
        self.batch_size = min(batch_size, self.n_samples)
        self.whole = self.batch_size >= self.n_samples
        self._order, self._position = None, self.n_samples

    def next(self):
        xp = self.xp
        if self.whole:
            Xb, Yb, wb = self.X, self.Y, self.sample_weight
        else:
            if self._position + self.batch_size > self.n_samples:
                self._order, self._position = self.rng.permutation(self.n_samples), 0
            rows = self._order[self._position : self._position + self.batch_size]
            self._position += self.batch_size
            Xb, Yb, wb = take_rows(xp, rows, self.X, self.Y, self.sample_weight)
        return xp.permute_dims(Xb, (1, 0)), contiguous_transpose(xp, Yb), wb


def layer_schedule(n_in, n_out, visiting_order, rng):
    """Host arrays ``(units, inputs)`` of one layer's proposals in visiting
    order; input index ``n_in`` stands for the unit's bias."""
    if visiting_order == "unit":
        units = np.repeat(rng.permutation(n_out), n_in + 1)
        inputs = np.concatenate([rng.permutation(n_in + 1) for _ in range(n_out)])
    else:  # "random": one permutation of the whole flattened layer
        flat = rng.permutation((n_in + 1) * n_out)
        units, inputs = flat % n_out, flat // n_out
    return units, inputs


def unit_blocks(units, period, n_judged):
    """Split a layer's proposals into blocks of one unit and one mini-batch.

    ``n_judged`` proposals have been judged on the current batch so far
    (``inf``: none is loaded); a fresh batch is due when it reaches
    ``period``. Returns ``(blocks, n_judged)``, blocks as
    ``(start, stop, fresh_batch)``.
    """
    n = units.shape[0]
    first = 0 if n_judged >= period else int(period - n_judged)
    fresh = np.arange(first, n, period)
    starts = np.union1d(np.flatnonzero(np.diff(units)) + 1, fresh)
    starts = np.union1d(starts, [0]).astype(np.int64)
    fresh_batch = np.isin(starts, fresh)
    stops = np.append(starts[1:], n)
    n_judged = n - fresh[-1] if fresh.size else n_judged + n
    return list(zip(starts.tolist(), stops.tolist(), fresh_batch.tolist())), n_judged


def _first_improvement(changes, tie):
    """``(r, c)``: the first proposal ``r`` whose better candidate ``c``
    (0: ``+step``, 1: ``-step``) lowers the loss by more than ``tie``;
    ``(None, None)`` if none does (ties and NaN keep the current weight)."""
    for r in range(changes.shape[0]):
        c = 0 if changes[r, 0] <= changes[r, 1] else 1
        if changes[r, c] < -tie:
            return r, c
    return None, None


def rounding_tie(dtype, loss):
    """Loss changes within this of zero are ties: their sign is set by the
    rounding of the summed per-row differences, which depends on the CPU's
    SIMD kernels (float32 fits on two CPUs took different paths at a change
    of 1.2e-6 on a summed loss of 150). A heuristic scale, not a bound: the
    error grows with the summed absolute row terms (doc/rso.rst, "Cost")."""
    return float(np.finfo(dtype).eps) * abs(loss)


def _apply_moves(xp, W, b, j, moves):
    """Add the accepted steps ``moves`` (host; last entry: the bias) to
    column ``j`` of ``W`` and to ``b[j]``."""
    if not moves.any():
        return
    W[:, j] = W[:, j] + host_to(moves[:-1], xp, device_of(W), W.dtype)
    if moves[-1]:
        b[j] = b[j] + float(moves[-1])


@dataclass
class PassTally:
    """Counts of one pass; the speculation depth adapts to the running
    acceptance rate."""

    block_losses: list = field(default_factory=list)
    n_proposals: int = 0
    n_evaluated: int = 0
    n_accepted: int = 0

    @property
    def mean_loss(self):
        """Mean, over the pass's blocks, of the mini-batch loss after the block."""
        return float(np.mean(self.block_losses))

    @property
    def acceptance_rate(self):
        return self.n_accepted / max(self.n_proposals, 1)


@dataclass
class RSOState:
    """What RSO keeps between passes: the initial weights' std of every
    layer and the acceptance rate of every pass so far."""

    initial_stds: list
    acceptance_rates: list


class RandomSearchPass(PassRule):
    """RSO as an update rule: one pass of random search per iteration, with
    the step size of the annealing schedule."""

    def __init__(
        self,
        *,
        classification,
        perturbation_scale,
        final_perturbation_scale,
        annealing,
        n_passes,
        perturbation_reference,
        layer_order,
        visiting_order,
        batch_refresh,
        alpha=0.0,
    ):
        self.classification = classification
        self.alpha = alpha
        self.perturbation_scale = perturbation_scale
        self.final_perturbation_scale = final_perturbation_scale
        self.annealing = annealing
        self.n_passes = n_passes
        self.perturbation_reference = perturbation_reference
        self.layer_order = layer_order
        self.visiting_order = visiting_order
        self.batch_refresh = batch_refresh

    def init_state(self, network, rng):
        xp = namespace_of(network.coefs[0])
        return RSOState([layer_std(xp, W) for W in network.coefs], [])

    def run_pass(self, network, state, X, Y, sample_weight, rng, *, batch_size, pass_index):
        xp = namespace_of(X)
        factor = annealing_factor(
            self.perturbation_scale,
            self.final_perturbation_scale,
            self.annealing,
            pass_index,
            self.n_passes,
        )
        if self.perturbation_reference == "initial":
            stds = list(state.initial_stds)
        else:
            stds = [layer_std(xp, W) for W in network.coefs]
        tally = self.search(
            network, X, Y, sample_weight, rng, batch_size, [factor * s for s in stds]
        )
        state.acceptance_rates.append(tally.acceptance_rate)
        return tally.mean_loss

    def search(self, network, X, Y, sample_weight, rng, batch_size, step_stds):
        """One pass over every weight and bias of ``network`` (changed in
        place) with layer ``l``'s steps drawn from ``N(0, step_stds[l]^2)``;
        returns the pass's :class:`PassTally`."""
        xp = namespace_of(X)
        stream = BatchStream(xp, X, Y, sample_weight, batch_size, rng)
        cache = BatchCache(
            xp, network.coefs, network.intercepts, network.activation, self.classification
        )
        tally = PassTally()
        n_layers = len(network.coefs)
        layers = range(n_layers)
        if self.layer_order == "backward":
            layers = reversed(layers)
        n_judged = np.inf  # proposals judged on the current batch: none loaded
        for k in layers:
            n_judged = self._search_layer(cache, stream, k, step_stds[k], rng, tally, n_judged)
        return tally

    def _search_layer(self, cache, stream, k, step_std, rng, tally, n_judged):
        """All proposals of layer ``k``, in blocks of one unit and one batch."""
        n_in, n_out = cache.coefs[k].shape
        units, inputs = layer_schedule(n_in, n_out, self.visiting_order, rng)
        dtype = np.float32 if stream.X.dtype == cache.xp.float32 else np.float64
        deltas = (rng.standard_normal(units.shape[0]) * step_std).astype(dtype)
        steps = np.stack([deltas, -deltas], axis=1)  # candidates +step, -step
        if self.batch_refresh == "unit":
            period, n_judged = n_in + 1, np.inf
        else:
            period = int(self.batch_refresh)
        blocks, n_judged = unit_blocks(units, period, n_judged)
        for start, stop, fresh_batch in blocks:
            # the whole training set is loaded once per pass
            if fresh_batch and not (stream.whole and cache.loaded):
                cache.load(*stream.next())
            tally.n_proposals += stop - start
            j = int(units[start])
            self._search_unit(cache, k, j, inputs[start:stop], steps[start:stop], tally)
        return n_judged

    def _penalty_changes(self, W, j, inputs, steps):
        """Change of ``alpha / 2 * ||W||^2`` (per batch, as MLP's penalty;
        biases are not penalised) for every candidate step of unit ``j``'s
        incoming weights ``inputs``; ``None`` without a penalty."""
        if not self.alpha:
            return None
        n_in = W.shape[0]
        weights = np.append(np.asarray(to_numpy(W[:, j]), dtype=steps.dtype), 0)[inputs]
        change = self.alpha * (weights[:, None] * steps + 0.5 * steps * steps)
        change[inputs == n_in] = 0.0  # the bias
        return change

    def _search_unit(self, cache, k, j, inputs, steps, tally):
        """Proposals on the incoming weights ``inputs`` of unit ``j`` of layer
        ``k``, in order, judged on the loaded batch."""
        xp = cache.xp
        W, b = cache.coefs[k], cache.intercepts[k]
        layer_inputs = cache.layer_inputs(k)
        # a weight whose input is zero on the whole batch cannot change the loss
        live = layer_inputs.nonzero_counts[inputs] > 0
        inputs, steps = inputs[live], steps[live]
        unit = cache.unit(k, j)
        moves = np.zeros(W.shape[0] + 1, dtype=steps.dtype)  # accepted steps
        loss = unit.loss
        if inputs.size:
            penalty = self._penalty_changes(W, j, inputs, steps)
            loss = _judge_proposals(
                cache, unit, layer_inputs, inputs, steps, moves, loss, tally, penalty
            )
        _apply_moves(xp, W, b, j, moves)
        unit.write_back()
        if unit.accepted:
            cache.outputs_changed(k)
        tally.block_losses.append(loss / cache.n_rows)


def _judge_proposals(cache, unit, layer_inputs, inputs, steps, moves, loss, tally, penalty=None):
    """Take the sequential rule's decisions on one unit's proposals; record
    the accepted steps in ``moves`` and return the updated summed loss.

    ``penalty`` (host, shape of ``steps``, or ``None``) is each candidate's
    change of the L2 penalty: a candidate is kept when the batch loss plus
    the penalty drops; the returned loss is the batch loss alone."""
    xp, n_rows = cache.xp, cache.n_rows
    inputs_with_bias = layer_inputs.with_bias
    device = device_of(inputs_with_bias)
    n = inputs.size
    # pre-activation change of every candidate: rows 2q and 2q + 1 are
    # proposal q's +step and -step
    input_rows = xp.take(inputs_with_bias, xp.asarray(inputs, device=device), axis=0)
    candidates = host_to(steps[:, :, None], xp, device, inputs_with_bias.dtype)
    candidates = xp.reshape(candidates * input_rows[:, None, :], (2 * n, n_rows))
    stack_limit = _SPECULATION_ELEMENTS // (2 * n_rows * unit.elements_per_row)
    max_speculation = max(1, min(_MAX_SPECULATION, stack_limit))
    subset_limit = _SUBSET_FRACTION * n_rows if unit.supports_subsets else -1
    on_subset = (layer_inputs.nonzero_counts[inputs] <= subset_limit).tolist()
    input_list = inputs.tolist()
    q = 0
    while q < n:
        if on_subset[q]:
            n_judged = 1
            subset = layer_inputs.rows_where_nonzero(input_list[q])
            pair = batch_columns(xp, candidates[2 * q : 2 * q + 2, ...], subset)
            changes = unit.loss_changes_on(pair, subset)
            judged = changes if penalty is None else changes + penalty[q]
        else:
            # speculate deeper when acceptances are rare
            rate = (tally.n_accepted + 1.0) / (tally.n_evaluated + 2.0)
            n_judged = int(min(max_speculation, max(1.0, 1.0 / rate), n - q))
            changes = unit.loss_changes(candidates[2 * q : 2 * (q + n_judged), ...])
            judged = changes
            if penalty is not None:
                judged = changes + penalty[q : q + n_judged].reshape(-1)
        r, c = _first_improvement(judged.reshape(n_judged, 2), rounding_tie(steps.dtype, loss))
        if r is None:
            tally.n_evaluated += n_judged
            q += n_judged
            continue
        tally.n_evaluated += r + 1
        loss += float(changes[2 * r + c])
        moves[input_list[q + r]] = steps[q + r, c]
        unit.accept(2 * r + c, candidates[2 * (q + r) + c, ...])
        tally.n_accepted += 1
        q += r + 1
    return loss
