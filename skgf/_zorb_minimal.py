"""ZORB's minimal-change target rule: closed-form target propagation in sweeps.

The paper's rule sets hidden layer ``l``'s target to ``(z*_{l+1} - b_{l+1})
pinv(W_{l+1})``: it lies in the row space of ``W_{l+1}``, whose rank is at
most the number of outputs, so with one regression target every hidden unit
fits a function of ``y`` alone (a near single-index model). The
minimal-change target is the layer's current output plus the least-norm
correction that moves the layer above onto its target::

    t_l = h_l + (z*_{l+1} - z_{l+1}) pinv(W_{l+1})
        = paper's target + h_l (I - pinv(W_{l+1}) W_{l+1})   (b folded in)

It keeps the part of ``h_l`` the layer above cannot see. One *sweep* refits
every layer, input first, by the same ridge solve as the paper's rule, each
to the targets pushed down through the current weights above it; sweeps are
repeated (alternating least squares, a Gauss-Newton form of target
propagation) until ``n_sweeps`` or, with a validation split, until its score
stops improving. Every step is closed form; the rows are visited in chunks,
so memory stays independent of ``n_samples``.
"""

import time
from dataclasses import dataclass

import numpy as np
from sklearn.utils import gen_batches

from ._activations import inverse, is_bounded
from ._array_api import device_of, to_numpy
from ._callbacks import FitProgress
from ._linalg import GramAccumulator
from ._network import forward, forward_layers, layer_sizes
from ._zorb_rule import MemoryRows, _pseudoinverse, chunk_rows, initial_weights


def minimal_change_target(xp, Zs, Hs, pinvs, T_out, layer, activation, ranges):
    """Activation-space target of hidden layer ``layer`` (or, for the output
    layer, its pre-activation target) for one chunk, from its forward pass
    ``Zs``, ``Hs`` (see :func:`~skgf._network.forward_layers`)."""
    last = len(Zs) - 1
    target = T_out  # pre-activation target of layer j, from the top down
    for j in range(last, layer, -1):
        target = Hs[j] + (target - Zs[j]) @ pinvs[j]  # activation target of layer j - 1
        if j - 1 > layer:
            target = inverse(xp, activation, target, ranges[j - 1])
    return target


@dataclass
class MinimalChangeSweeps:
    """The minimal-change rule: hyper-parameters here, data in :meth:`fit`.

    Parameters
    ----------
    activation : str
        Hidden activation; bounded ones are range-rescaled to their targets.
    alpha : float
        Ridge penalty of each layer's solve (bias unpenalised).
    n_sweeps : int
        Most sweeps (refits of every layer).
    tol, n_iter_no_change : float, int
        A sweep improves when the validation score rises by more than
        ``tol``; the sweeps stop after ``n_iter_no_change`` without.
    weight_init : {"glorot_uniform", "landmarks", "normal"}
        Initial weights (:func:`~skgf._zorb_rule.initial_weights`).
    verbose : bool or int
        Print each sweep's training loss, validation score and time.
    name : str
        Name printed with them.
    """

    activation: str
    alpha: float
    n_sweeps: int
    tol: float
    n_iter_no_change: int
    weight_init: str = "glorot_uniform"
    verbose: int = 0
    name: str = "ZORB"

    def fit(
        self,
        xp,
        X,
        T_out,
        hidden_layer_sizes,
        rng,
        sample_weight=None,
        validation=None,
        progress=None,
    ):
        """Fit on the rows ``X`` with output targets ``T_out`` (one per row).

        ``validation`` is ``None`` or a function of ``(coefs, intercepts,
        ranges)`` returning the held-out score (higher is better); the best
        sweep's weights are kept. Returns ``(coefs, intercepts, ranges,
        history)``, ``history`` a dict of per-sweep lists ``"loss"`` (the
        training loss: half the mean squared error of the output target)
        and ``"validation"``. ``progress`` (a
        :class:`~skgf._callbacks.FitProgress`) reports each sweep, and each
        layer refit in it, to the callbacks; they can stop the sweeps.
        """
        progress = progress or FitProgress.silent()
        sizes = layer_sizes(X.shape[1], hidden_layer_sizes, T_out.shape[1])
        coefs, intercepts = initial_weights(
            xp, MemoryRows(xp, X), sizes, rng, self.weight_init, sample_weight
        )
        ranges = [None] * (len(coefs) - 1)
        n_chunk = chunk_rows(X.shape[0], sizes, 8)
        history = {"loss": [], "validation": []}
        best, best_score, stale = None, -np.inf, 0
        start = time.perf_counter()
        for sweep in range(self.n_sweeps):
            task = progress.begin("sweep", max_subtasks=len(coefs))
            for layer in range(len(coefs)):
                layer_task = progress.begin("layer", parent=task)
                self._refit_layer(
                    xp, X, T_out, sample_weight, coefs, intercepts, ranges, layer, n_chunk
                )
                progress.end(layer_task)
            history["loss"].append(
                self._training_loss(xp, X, T_out, sample_weight, coefs, intercepts, ranges, n_chunk)
            )
            message = f"[{self.name}] sweep {sweep + 1}, loss = {history['loss'][-1]:.6f}"
            if validation is not None:
                score = validation(coefs, intercepts, ranges)
                history["validation"].append(score)
                message += f", validation score = {score:.6f}"
                if score > best_score + self.tol:
                    stale = 0
                else:
                    stale += 1
                if score > best_score:
                    best_score = score
                    best = ([*coefs], [*intercepts], [*ranges])
            if self.verbose:
                print(f"{message}, {time.perf_counter() - start:.2f} s")
            fitted = {
                "coefs_": [*coefs],
                "intercepts_": [*intercepts],
                "activation_ranges_": [*ranges],
                "n_layers_": len(coefs) + 1,
                "n_outputs_": T_out.shape[1],
            }
            stop_requested = progress.end(task, lambda fitted=fitted: fitted)
            if stop_requested or (validation is not None and stale >= self.n_iter_no_change):
                break
        if best is not None:
            coefs, intercepts, ranges = best
        return coefs, intercepts, ranges, history

    def _refit_layer(self, xp, X, T_out, weights, coefs, intercepts, ranges, layer, n_chunk):
        """Refit ``layer`` to the minimal-change targets through the current
        weights above it (in the first sweep its range first, for bounded
        activations)."""
        # only the layers above ``layer`` push targets down to it
        pinvs = [None if j <= layer else _pseudoinverse(xp, W) for j, W in enumerate(coefs)]
        hidden = layer < len(coefs) - 1
        # the range is fitted once, in the first sweep: the layer above was
        # fitted to activations in it (refitting it every sweep measured no
        # better on friedman1 and digits)
        if hidden and is_bounded(self.activation) and ranges[layer] is None:
            ranges[layer] = self._target_range(
                xp, X, T_out, weights, coefs, intercepts, ranges, pinvs, layer, n_chunk
            )
        gram = GramAccumulator(xp)
        for sl in gen_batches(X.shape[0], n_chunk):
            Zs, Hs = forward_layers(xp, X[sl, ...], coefs, intercepts, self.activation, ranges)
            target = minimal_change_target(
                xp, Zs, Hs, pinvs, T_out[sl, ...], layer, self.activation, ranges
            )
            if hidden:
                target = inverse(xp, self.activation, target, ranges[layer])
            gram.add(Hs[layer], target, None if weights is None else weights[sl])
        coefs[layer], intercepts[layer] = gram.solve(self.alpha)

    def _target_range(
        self, xp, X, T_out, weights, coefs, intercepts, ranges, pinvs, layer, n_chunk
    ):
        """Value range of hidden layer ``layer``'s targets (rows of positive weight)."""
        low, high = np.inf, -np.inf
        for sl in gen_batches(X.shape[0], n_chunk):
            Zs, Hs = forward_layers(xp, X[sl, ...], coefs, intercepts, self.activation, ranges)
            target = minimal_change_target(
                xp, Zs, Hs, pinvs, T_out[sl, ...], layer, self.activation, ranges
            )
            if weights is not None:
                kept = np.flatnonzero(np.asarray(to_numpy(weights[sl])) > 0)
                target = xp.take(target, xp.asarray(kept, device=device_of(target)), axis=0)
                if target.shape[0] == 0:
                    continue
            low, high = min(low, float(xp.min(target))), max(high, float(xp.max(target)))
        if not high > low:  # constant target: any non-empty range reproduces it
            low, high = low - 1.0, high + 1.0
        return (low, high)

    def _training_loss(self, xp, X, T_out, weights, coefs, intercepts, ranges, n_chunk):
        total, count = 0.0, 0.0
        for sl in gen_batches(X.shape[0], n_chunk):
            R = forward(xp, X[sl, ...], coefs, intercepts, self.activation, ranges) - T_out[sl, ...]
            rows = 0.5 * xp.sum(R * R, axis=1)
            if weights is None:
                total, count = total + float(xp.sum(rows)), count + rows.shape[0]
            else:
                total, count = (
                    total + float(xp.sum(rows * weights[sl])),
                    count + float(xp.sum(weights[sl])),
                )
        return total / max(count, 1e-300)
