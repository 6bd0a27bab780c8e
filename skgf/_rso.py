"""RSO: random search optimisation of the weights (Singh & Tripathi, 2020).

RSO visits the weights one at a time. For a weight ``w`` it draws one step
``delta ~ N(0, sigma^2)``, evaluates the mini-batch loss with ``w + delta`` and
``w - delta`` and keeps whichever of ``w``, ``w + delta``, ``w - delta`` has the
lowest loss (ties keep ``w``). Accepted changes are visible to the next
proposal at once (Gauss-Seidel order). One *pass* (``max_iter`` counts them)
visits every weight and bias of the network once.

A direct implementation runs a forward pass per proposal. This module never
does: changing ``W_l[i, j]`` changes only unit ``j``'s pre-activation on the
mini-batch, so with the batch's activations cached

* an output-layer proposal changes one logit column: its loss costs ``O(B)``
  (log-sum-exp of the other logits is fixed while unit ``j`` is visited);
* a last-hidden-layer proposal changes one activation column, which moves the
  logits by a rank-one term ``dh w_j^T``: ``O(B K)`` for the cross-entropy,
  ``O(B)`` for the squared error (its expansion in ``dh``);
* deeper proposals update the next pre-activation by the same rank-one term
  and recompute only the layers above it.

``+delta`` and ``-delta`` are evaluated together as a stack of two, and the
decision compares the *sum of per-row loss changes* with zero, so rows a step
does not touch contribute exactly nothing and a step that changes nothing is
a tie (rejected, as the three-way rule demands), whatever the rounding of
the batch total. Two exact shortcuts follow from that:

* a step whose input row is zero on part of the batch (sparse pixels, ReLU
  activations) changes only the other rows: it is evaluated on those rows
  alone (a weight whose input is zero on the whole batch is rejected without
  evaluation);
* when proposals are cheap and often rejected, the next few proposals of a
  unit are evaluated at once against the current state (*speculation*);
  those after an accepted one are evaluated again, so the decisions stay
  those of the sequential rule.

The caches are kept in a transposed layout (units x rows) so that one unit's
column is a contiguous row; after an accepted proposal they are updated with
the same elementwise formulas the candidates use. :func:`rso_pass` is the
one place the update rule lives.
"""

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._activations import activate
from ._array_api import device_of, host_to, namespace_of, take_rows, to_numpy
from ._base import NetworkClassifierMixin, NetworkRegressorMixin
from ._iterative import (
    BaseIterativeNetwork,
    IterativeClassifierMixin,
    IterativeRegressorMixin,
)
from ._rules import PassRule

# Speculative evaluation: at most this many proposals of one unit are
# evaluated together against the current state (those after an accepted one
# are evaluated again), and at most this many array elements per stack.
_MAX_SPECULATION = 16
_SPECULATION_ELEMENTS = 8192
# A proposal whose input is nonzero on at most this fraction of the batch
# rows is evaluated on those rows only.
_SPARSE_FRACTION = 0.5


def _contiguous_transpose(xp, A):
    """``A.T`` as a row-major array (one row per column of ``A``)."""
    T = xp.permute_dims(A, (1, 0))
    return xp.reshape(xp.reshape(T, (-1,)), T.shape)


def _annealing_factor(initial, final, annealing, pass_index, n_passes):
    """Multiple of the layer's weight std used as step std in pass ``pass_index``."""
    if annealing == "constant" or n_passes <= 1:
        return float(initial)
    frac = min(pass_index, n_passes - 1) / (n_passes - 1)
    return float(initial - (initial - final) * frac)


# ---------------------------------------------------------------------------
# Incremental proposal evaluation on one cached mini-batch
# ---------------------------------------------------------------------------
# Every evaluator below serves the proposals on the incoming weights (and the
# bias) of one unit ``j`` of one layer ``k``. A proposal adds ``step`` (the
# step times the weight's input row, one row per candidate) to the unit's
# pre-activation. Protocol:
#   ``f0``                     summed batch loss of the current weights;
#   ``delta(step)``            host array (C,): change of the summed loss for
#                              each candidate row of ``step`` (C, B);
#   ``delta_rows(step, idx)``  the same when the step is zero outside the
#                              rows ``idx``: ``step`` is (C, len(idx));
#   ``accept(c, step_c)``      make candidate ``c`` of the last evaluation
#                              (dense step ``step_c``) the current state;
#   ``finish()``               write the unit's state back into the caches.
# Changes are sums of per-row loss differences, so rows a step does not
# touch contribute exactly zero and a step that changes nothing is a tie
# (rejected), whatever the rounding of the total. Every cached quantity is
# updated with the same elementwise formulas the candidates use.


def _row_losses(xp, Z, YT, classification):
    """Loss of every row of each candidate output ``Z`` (C, K, B): (C, B)."""
    if classification:
        m = xp.max(Z, axis=1)
        lse = xp.log(xp.sum(xp.exp(Z - m[:, None, :]), axis=1)) + m
        return lse - xp.sum(Z * YT, axis=1)
    R = Z - YT
    return 0.5 * xp.sum(R * R, axis=1)


def _host(a):
    return np.asarray(to_numpy(a), dtype=np.float64)


def _weighted_sum(xp, d, w):
    """Host sums over the rows (last axis) of ``d``, weighted by ``w``."""
    return _host(xp.sum(d if w is None else d * w, axis=-1))


def _total_loss(xp, Z, YT, w, classification):
    """Summed (weighted) loss of the output ``Z`` (K, B) on the batch."""
    rows = _row_losses(xp, Z[None, ...], YT, classification)[0, :]
    return float(xp.sum(rows if w is None else rows * w))


def _weights(P, row):
    """Row ``row`` of the state ``P`` (the row weights), or ``None``."""
    return None if row is None else P[row, :]


def _rows_of(xp, a, idx):
    """Columns ``idx`` of the last axis of ``a``."""
    return xp.take(a, idx, axis=a.ndim - 1)


class _OutputUnit:
    """Output unit ``j``: a step moves one output row only, ``O(B)`` per loss.

    State, one row each of ``P``: the unit's output ``z``, its target
    column and (classification) the log-sum-exp of the other outputs, which
    stays fixed while unit ``j`` is visited.
    """

    sparse = True

    def __init__(self, sweep, j):
        xp = sweep.xp
        self.xp, self.sweep, self.j = xp, sweep, j
        self.classification = sweep.classification
        Z, YT = sweep.AT[-1], sweep.YT
        parts = [Z[j : j + 1, :], YT[j : j + 1, :]]
        if self.classification:
            others = np.asarray([m for m in range(Z.shape[0]) if m != j], dtype=np.int64)
            Zo = xp.take(Z, xp.asarray(others, device=device_of(Z)), axis=0)
            mo = xp.max(Zo, axis=0)
            parts.append((xp.log(xp.sum(xp.exp(Zo - mo), axis=0)) + mo)[None, :])
        if sweep.w is not None:  # the row weights, last
            parts.append(sweep.w[None, :])
        self.iw = len(parts) - 1 if sweep.w is not None else None
        self.P = xp.concat(parts, axis=0)
        self.rows = None
        self.f0 = _total_loss(xp, Z, YT, sweep.w, self.classification)
        self.width = 1

    def _rows(self, z2, P):
        """Row losses up to a per-row constant (the target logit of rows not
        labelled j; the residuals of the other outputs)."""
        if self.classification:
            return self.xp.logaddexp(P[2, :], z2) - P[1, :] * z2
        r = z2 - P[1, :]
        return 0.5 * (r * r)

    def delta(self, step):
        P = self.P
        if self.rows is None:
            self.rows = self._rows(P[0:1, :], P)[0, :]
        self.z2 = P[0, :] + step
        self.r2 = self._rows(self.z2, P)
        self.dense = True
        return _weighted_sum(self.xp, self.r2 - self.rows, _weights(P, self.iw))

    def delta_rows(self, step, idx):
        T = _rows_of(self.xp, self.P, idx)
        self.dense = False
        return _weighted_sum(
            self.xp, self._rows(T[0, :] + step, T) - self._rows(T[0:1, :], T), _weights(T, self.iw)
        )

    def accept(self, c, step_c):
        if self.dense:
            self.P[0, :], self.rows = self.z2[c, :], self.r2[c, :]
        else:
            self.P[0, :], self.rows = self.P[0, :] + step_c, None
        self.accepted = True

    def finish(self):
        self.sweep.AT[-1][self.j, :] = self.P[0, :]


class _HiddenUnit:
    """Hidden unit ``j`` of layer ``k``: a step moves one activation row
    ``h``, which moves the next pre-activation by the rank-one term
    ``w_j dh`` (``w_j``: the unit's outgoing weights).

    State, rows of ``P``: the unit's pre-activation ``a`` and activation
    ``h``, then per mode the quantities the loss change needs.
    """

    def __init__(self, sweep, k, j):
        xp = sweep.xp
        self.xp, self.sweep, self.k, self.j = xp, sweep, k, j
        self.activation = sweep.activation
        self.zero = xp.zeros((), dtype=sweep.YT.dtype, device=device_of(sweep.YT))
        a, h = sweep.AT[k][j : j + 1, :], sweep.HT[k + 1][j : j + 1, :]
        self.h_start = xp.asarray(h[0, :], copy=True)
        self.accepted = False
        w = sweep.coefs[k + 1][j, :]
        self.w = w
        YT = sweep.YT
        last_hidden = k + 2 == len(sweep.coefs)
        self.f0 = _total_loss(xp, sweep.AT[-1], YT, sweep.w, sweep.classification)
        self.rows = None
        extra = [] if sweep.w is None else [sweep.w[None, :]]  # row weights, last
        if last_hidden and sweep.classification:
            # cross-entropy of a row: log sum_k exp(G[k]) with the logits
            # taken relative to the target logit, G = Z - z_target; the step
            # moves G by dh * U, U = w - w_target
            self.mode = "softmax"
            Z = sweep.AT[-1]
            K = Z.shape[0]
            self.wy = xp.matmul(xp.reshape(w, (1, -1)), YT)[0, :]  # w[label] per row
            self.zy = xp.sum(YT * Z, axis=0)  # target logit per row
            self.P = xp.concat(
                [a, h, Z - self.zy, xp.reshape(w, (-1, 1)) - self.wy, *extra], axis=0
            )
            self.g = slice(2, 2 + K)
            self.u = slice(2 + K, 2 + 2 * K)
            # exp(G) overflows only when a wrong logit exceeds the target one
            # by ~88 (float32); then shift by the row maximum
            self.stable = False
            G = self.P[self.g, None, :]
            self.stable = not bool(xp.all(xp.isfinite(self._lse(G))))
            self.width = K
        elif last_hidden:
            # 0.5 |R + w dh|^2 - 0.5 |R|^2 = dh.(w^T R) + 0.5 |w|^2 |dh|^2
            self.mode = "squared"
            Rw = xp.matmul(xp.reshape(w, (1, -1)), sweep.AT[-1] - YT)
            self.P = xp.concat([a, h, Rw, *extra], axis=0)
            self.ww = float(xp.sum(w * w))
            self.width = 2
        else:
            self.mode = "suffix"
            self.P = xp.concat([a, h, *extra], axis=0)
            self.w3 = xp.reshape(w, (1, -1, 1))
            self.A_next = sweep.AT[k + 1]
            self.WT = [xp.permute_dims(W, (1, 0)) for W in sweep.coefs]
            self.bT = [xp.reshape(b, (-1, 1)) for b in sweep.intercepts]
            self.rows = _row_losses(xp, sweep.AT[-1][None, ...], YT, sweep.classification)[0, :]
            self.width = sum(W.shape[1] for W in sweep.coefs[k + 1 :])
        self.sparse = self.mode != "suffix"
        self.iw = self.P.shape[0] - 1 if extra else None

    def _act(self, a):
        if self.activation == "relu":
            return self.xp.maximum(a, self.zero)
        return activate(self.xp, self.activation, a)

    def _lse(self, G2):
        """Row losses ``log sum_k exp(G2[k])`` of every candidate."""
        xp = self.xp
        if self.stable:
            m = xp.max(G2, axis=0)
            return xp.log(xp.sum(xp.exp(G2 - m), axis=0)) + m
        return xp.log(xp.sum(xp.exp(G2), axis=0))

    def _squared(self, dh, Rw, w):
        s = _weighted_sum(self.xp, self.xp.stack([dh * Rw, dh * dh]), w)  # (2, C)
        return s[0, :] + 0.5 * self.ww * s[1, :]

    def delta(self, step):
        xp, P = self.xp, self.P
        a2 = P[0, :] + step
        h2 = self._act(a2)
        dh = h2 - P[1, :]
        self.dense = True
        if self.mode == "softmax":
            G = P[self.g, None, :]
            if self.rows is None:
                self.rows = self._lse(G)[0, :]
            G2 = G + dh * P[self.u, None, :]  # (K, C, B)
            r2 = self._lse(G2)
            self.cand = (a2, h2, G2, r2)
            return _weighted_sum(xp, r2 - self.rows, _weights(P, self.iw))
        if self.mode == "squared":
            self.cand = (a2, h2, dh)
            return self._squared(dh, P[2, :], _weights(P, self.iw))
        # deeper layer: rank-one update of the next pre-activation, then the
        # layers above it are recomputed for all candidates at once
        A = self.A_next + dh[:, None, :] * self.w3
        As, Hs = [A], []
        for m in range(self.k + 1, len(self.sweep.coefs) - 1):
            H = activate(xp, self.activation, A)
            A = xp.matmul(self.WT[m + 1], H) + self.bT[m + 1]
            Hs.append(H)
            As.append(A)
        r2 = _row_losses(xp, A, self.sweep.YT, self.sweep.classification)
        self.cand = (a2, h2, As, Hs, r2)
        return _weighted_sum(xp, r2 - self.rows, _weights(P, self.iw))

    def delta_rows(self, step, idx):
        xp = self.xp
        T = _rows_of(xp, self.P, idx)
        dh = self._act(T[0, :] + step) - T[1, :]
        self.dense = False
        if self.mode == "squared":
            return self._squared(dh, T[2, :], _weights(T, self.iw))
        G = T[self.g, None, :]
        r2 = self._lse(G + dh * T[self.u, None, :])
        return _weighted_sum(xp, r2 - self._lse(G), _weights(T, self.iw))

    def accept(self, c, step_c):
        P = self.P
        if not self.dense:  # all rows, by the formulas of the candidates
            a = P[0, :] + step_c
            h = self._act(a)
            dh = h - P[1, :]
            if self.mode == "softmax":
                P[self.g, :] = P[self.g, :] + dh * P[self.u, :]
                self.rows = None
            else:
                P[2, :] = P[2, :] + dh * self.ww
            P[0, :], P[1, :] = a, h
            self.accepted = True
            return
        if self.mode == "softmax":
            a2, h2, G2, r2 = self.cand
            P[self.g, :] = G2[:, c, :]
            self.rows = r2[c, :]
        elif self.mode == "squared":
            a2, h2, dh = self.cand
            P[2, :] = P[2, :] + dh[c, :] * self.ww
        else:
            a2, h2, As, Hs, r2 = self.cand
            self.As = [A[c, ...] for A in As]
            self.Hs = [H[c, ...] for H in Hs]
            self.A_next, self.rows = self.As[0], r2[c, :]
        P[0, :], P[1, :] = a2[c, :], h2[c, :]
        self.accepted = True

    def finish(self):
        xp, sweep, k, P = self.xp, self.sweep, self.k, self.P
        if self.accepted:
            if self.mode == "softmax":
                zy = self.zy + (P[1, :] - self.h_start) * self.wy
                sweep.AT[-1] = P[self.g, :] + zy
            elif self.mode == "squared":
                dh = xp.reshape(P[1, :] - self.h_start, (1, -1))
                sweep.AT[-1] = sweep.AT[-1] + xp.reshape(self.w, (-1, 1)) * dh
            else:
                for m, A in enumerate(self.As):
                    sweep.AT[k + 1 + m] = A
                for m, H in enumerate(self.Hs):
                    sweep.HT[k + 2 + m] = H
        sweep.AT[k][self.j, :] = P[0, :]
        sweep.HT[k + 1][self.j, :] = P[1, :]


class _FullEvaluation:
    """Reference evaluator: a full forward pass of the batch per candidate.

    The naive method, with the same protocol as the incremental evaluators
    except that ``delta`` takes the weight's index and step; used by the
    tests and the throughput benchmark, never by the estimators.
    """

    sparse = False
    width = 1

    def __init__(self, sweep, k, j):
        self.sweep, self.k, self.j = sweep, k, j
        self.rows = self._rows(None, 0.0)
        w = sweep.w
        self.f0 = float(sweep.xp.sum(self.rows if w is None else self.rows * w))

    def _rows(self, i, step):
        sweep = self.sweep
        xp = sweep.xp
        W, b = sweep.coefs[self.k], sweep.intercepts[self.k]
        if i is not None:
            target = b if i == W.shape[0] else W
            where = (self.j,) if i == W.shape[0] else (i, self.j)
            old = target[where]
            target[where] = old + step
        H = sweep.HT[0]
        last = len(sweep.coefs) - 1
        for m, (Wm, bm) in enumerate(zip(sweep.coefs, sweep.intercepts)):
            A = xp.matmul(xp.permute_dims(Wm, (1, 0)), H) + xp.reshape(bm, (-1, 1))
            H = activate(xp, sweep.activation, A) if m < last else A
        if i is not None:
            target[where] = old
        return _row_losses(xp, H[None, ...], sweep.YT, sweep.classification)[0, :]

    def delta(self, i, delta):
        self.cand = [self._rows(i, delta), self._rows(i, -delta)]
        xp, w = self.sweep.xp, self.sweep.w
        return np.asarray([float(_weighted_sum(xp, r - self.rows, w)) for r in self.cand])

    def accept(self, c, step_c=None):
        self.rows = self.cand[c]

    def finish(self):
        self.sweep.load(self.sweep.HT[0], self.sweep.YT, self.sweep.w)


class _Sweep:
    """Forward caches of one mini-batch, stored units x rows."""

    def __init__(self, xp, coefs, intercepts, activation, classification):
        self.xp = xp
        self.coefs, self.intercepts = coefs, intercepts
        self.activation = activation
        self.classification = classification

    def load(self, XT, YT, w=None):
        """Full forward pass of the batch ``XT`` (features x rows); ``w``:
        the rows' weights, or ``None``."""
        xp = self.xp
        self.YT, self.w = YT, w
        self.HT, self.AT = [XT], []
        last = len(self.coefs) - 1
        for k, (W, b) in enumerate(zip(self.coefs, self.intercepts)):
            A = xp.matmul(xp.permute_dims(W, (1, 0)), self.HT[-1]) + xp.reshape(b, (-1, 1))
            self.AT.append(A)
            if k < last:
                self.HT.append(activate(xp, self.activation, A))
        self.n_rows = XT.shape[1]
        self._inputs = {}

    def inputs(self, k):
        """Layer ``k``'s input rows plus a row of ones (the bias input), and
        a host array of the number of nonzeros of each row on this batch."""
        if k not in self._inputs:
            xp = self.xp
            H = self.HT[k]
            if k == 0:  # the batch arrives as a transposed view
                H = _contiguous_transpose(xp, xp.permute_dims(H, (1, 0)))
            ones = xp.ones((1, self.n_rows), dtype=H.dtype, device=device_of(H))
            Hb = xp.concat([H, ones], axis=0)
            nonzero = Hb != 0
            counts = np.asarray(to_numpy(xp.sum(xp.astype(nonzero, xp.int32), axis=1)))
            self._inputs[k] = (Hb, counts, nonzero, {})
        return self._inputs[k]

    def nonzero_rows(self, k, i):
        """Device index array of the batch rows where input ``i`` of layer
        ``k`` is not zero."""
        Hb, counts, nonzero, cache = self.inputs(k)
        if i not in cache:
            if "host" not in cache:
                cache["host"] = np.asarray(to_numpy(nonzero), dtype=bool)
            idx = np.flatnonzero(cache["host"][i])
            cache[i] = self.xp.asarray(idx, device=device_of(Hb))
        return cache[i]

    def unit(self, k, j, evaluation="incremental"):
        if evaluation == "full":
            return _FullEvaluation(self, k, j)
        if k == len(self.coefs) - 1:
            return _OutputUnit(self, j)
        return _HiddenUnit(self, k, j)

    def outputs_changed(self, k):
        """Forget the input caches of the layers above ``k``."""
        for m in [m for m in self._inputs if m > k]:
            del self._inputs[m]


# ---------------------------------------------------------------------------
# One pass over all weights: the update rule
# ---------------------------------------------------------------------------
class _BatchStream:
    """Mini-batches of rows without replacement, reshuffled when spent; the
    whole set when ``batch_size >= n_samples``."""

    def __init__(self, xp, X, Y, w, batch_size, rng):
        self.xp, self.X, self.Y, self.w, self.rng = xp, X, Y, w, rng
        self.n = X.shape[0]
        self.batch_size = min(batch_size, self.n)
        self.whole = self.batch_size >= self.n
        self.order, self.pos = None, self.n

    def next(self):
        xp = self.xp
        if self.whole:
            Xb, Yb, wb = self.X, self.Y, self.w
        else:
            if self.pos + self.batch_size > self.n:
                self.order, self.pos = self.rng.permutation(self.n), 0
            idx = self.order[self.pos : self.pos + self.batch_size]
            self.pos += self.batch_size
            Xb, Yb, wb = take_rows(xp, idx, self.X, self.Y, self.w)
        return xp.permute_dims(Xb, (1, 0)), _contiguous_transpose(xp, Yb), wb


def _layer_schedule(n_in, n_out, visiting_order, rng):
    """Host arrays ``(units, inputs)`` of one layer's proposals in visiting
    order; input index ``n_in`` stands for the unit's bias."""
    if visiting_order == "unit":
        units = np.repeat(rng.permutation(n_out), n_in + 1)
        inputs = np.concatenate([rng.permutation(n_in + 1) for _ in range(n_out)])
    else:  # "random": one permutation of the whole flattened layer
        flat = rng.permutation((n_in + 1) * n_out)
        units, inputs = flat % n_out, flat // n_out
    return units, inputs


def _blocks(units, period, count):
    """Split a layer's proposals into blocks of one unit and one mini-batch.

    ``count`` proposals have used the current batch so far (``inf``: none
    loaded); a fresh batch is due when it reaches ``period``. Returns
    ``(blocks, count)`` with blocks as ``(start, stop, refresh)``.
    """
    n = units.shape[0]
    first = 0 if count >= period else int(period - count)
    fresh = np.arange(first, n, period)
    starts = np.union1d(np.flatnonzero(np.diff(units)) + 1, fresh)
    starts = np.union1d(starts, [0]).astype(np.int64)
    refresh = np.isin(starts, fresh)
    stops = np.append(starts[1:], n)
    count = n - fresh[-1] if fresh.size else count + n
    return list(zip(starts.tolist(), stops.tolist(), refresh.tolist())), count


def _apply_moves(xp, W, b, j, moves):
    """Add the accepted steps ``moves`` (host; last entry: the bias) to
    column ``j`` of ``W`` and to ``b[j]``, then clear them."""
    if not moves.any():
        return
    col = host_to(moves[:-1], xp, device_of(W), W.dtype)
    W[:, j] = W[:, j] + col
    if moves[-1]:
        b[j] = b[j] + float(moves[-1])
    moves[:] = 0


def rso_pass(
    xp,
    X,
    Y,
    coefs,
    intercepts,
    *,
    activation,
    classification,
    batch_size,
    step_stds,
    rng,
    layer_order="backward",
    visiting_order="unit",
    batch_refresh="unit",
    on_accept=None,
    evaluation="incremental",
    max_proposals=None,
    sample_weight=None,
):
    """One RSO pass over every weight and bias; updates ``coefs`` in place.

    Parameters
    ----------
    xp : namespace
        Array namespace of ``X``, ``Y`` and the weights.
    X, Y : arrays of shape (n_samples, n_features), (n_samples, n_outputs)
        Training rows; ``Y`` one-hot for classification.
    coefs, intercepts : lists of arrays
        The network's weights, changed in place.
    activation : str
        Hidden activation.
    classification : bool
        Softmax cross-entropy (True) or half squared error (False).
    batch_size : int
        Rows per mini-batch.
    step_stds : list of float
        Standard deviation of the steps of each layer's weights and biases.
    rng : numpy.random.RandomState
        Host generator of batches, visiting orders and steps.
    layer_order : {"backward", "forward"}
        Output layer first, or input layer first.
    visiting_order : {"unit", "random"}
        Units in random order, each unit's incoming weights in random order;
        or one random permutation of all the layer's weights.
    batch_refresh : "unit" or int
        A fresh mini-batch for every ``n_in + 1`` proposals of a layer
        (one unit's block in the ``"unit"`` order), or after every
        ``batch_refresh`` proposals (``1``: a new batch per weight).
    on_accept : callable, optional
        ``on_accept(XT, YT, w, loss)`` after every accepted step, with the
        batch (features x rows), its row weights (or ``None``) and the
        incrementally maintained mean batch loss.
    evaluation : {"incremental", "full"}
        ``"full"`` evaluates every candidate by a full forward pass (the
        naive reference: same rule, for tests and benchmarks).
    max_proposals : int, optional
        Stop after this many proposals (throughput measurements).
    sample_weight : array of shape (n_samples,), optional
        Weight of each row's loss (a batch's loss is ``sum(w_i loss_i) / B``).

    Returns
    -------
    loss : float
        Mean, over the pass's blocks, of the mini-batch loss after the block.
    n_accepted, n_proposals : int
        Accepted steps and weights visited.
    """
    stream = _BatchStream(xp, X, Y, sample_weight, batch_size, rng)
    sweep = _Sweep(xp, coefs, intercepts, activation, classification)
    device = device_of(X)
    dtype = np.float32 if X.dtype == xp.float32 else np.float64
    n_layers = len(coefs)
    layers = range(n_layers - 1, -1, -1) if layer_order == "backward" else range(n_layers)
    losses, n_accepted, n_proposals, n_evaluated = [], 0, 0, 0
    count = np.inf  # proposals judged on the current batch: a fresh one is due
    for k in layers:
        W, b = coefs[k], intercepts[k]
        n_in, n_out = W.shape
        units, inputs = _layer_schedule(n_in, n_out, visiting_order, rng)
        deltas = (rng.standard_normal(units.shape[0]) * step_stds[k]).astype(dtype)
        steps = np.stack([deltas, -deltas], axis=1)
        if batch_refresh == "unit":
            period, count = n_in + 1, np.inf
        else:
            period = int(batch_refresh)
        blocks, count = _blocks(units, period, count)
        for start, stop, refresh in blocks:
            if max_proposals is not None:
                if n_proposals >= max_proposals:
                    break
                stop = min(stop, start + max_proposals - n_proposals)
            if refresh and not (stream.whole and hasattr(sweep, "YT")):
                # (the whole training set is loaded once per pass)
                sweep.load(*stream.next())
            j = int(units[start])
            n_proposals += stop - start
            Hb, counts = sweep.inputs(k)[:2]
            # a step on a weight whose input is zero on the whole batch cannot
            # change the loss: rejected without evaluation
            todo = np.arange(start, stop)[counts[inputs[start:stop]] > 0]
            unit = sweep.unit(k, j, evaluation)
            f0 = unit.f0
            m = todo.size
            if evaluation != "full" and m:
                # pre-activation change of every proposal of the block; rows
                # 2q and 2q + 1 are proposal q's +delta and -delta
                rows = xp.take(Hb, xp.asarray(inputs[todo], device=device), axis=0)
                S = host_to(steps[todo, :, None], xp, device, X.dtype) * rows[:, None, :]
                S = xp.reshape(S, (2 * m, sweep.n_rows))
                budget = max(
                    1,
                    min(_MAX_SPECULATION, _SPECULATION_ELEMENTS // (2 * sweep.n_rows * unit.width)),
                )
                sparse_max = _SPARSE_FRACTION * sweep.n_rows if unit.sparse else -1
            moves = np.zeros(n_in + 1, dtype=dtype)  # accepted steps of unit j
            block_inputs = inputs[todo].tolist()
            if evaluation != "full" and m:
                restricted = (counts[inputs[todo]] <= sparse_max).tolist()
            q = 0
            while q < m:
                i = block_inputs[q]
                if evaluation == "full":
                    n_spec = 1
                    f = unit.delta(i, float(deltas[todo[q]]))
                elif restricted[q]:
                    # the step is zero outside the rows where the input is
                    # not: evaluate on those rows only
                    n_spec = 1
                    idx = sweep.nonzero_rows(k, i)
                    f = unit.delta_rows(_rows_of(xp, S[2 * q : 2 * q + 2, ...], idx), idx)
                else:
                    # speculative evaluation: the next n_spec proposals against
                    # the current state; those after an accepted one are redone
                    rate = (n_accepted + 1.0) / (n_evaluated + 2.0)
                    n_spec = int(min(budget, max(1.0, 1.0 / rate), m - q))
                    f = unit.delta(S[2 * q : 2 * (q + n_spec), ...])
                f = f.reshape(n_spec, 2)
                for r in range(n_spec):
                    c = 0 if f[r, 0] <= f[r, 1] else 1
                    if f[r, c] < 0:  # ties (and NaN) keep the current weight
                        break
                else:
                    n_evaluated += n_spec
                    q += n_spec
                    continue
                n_evaluated += r + 1
                p = int(todo[q + r])
                i = block_inputs[q + r]
                f0 += float(f[r, c])
                moves[i] = steps[p, c]
                unit.accept(2 * r + c, None if evaluation == "full" else S[2 * (q + r) + c, ...])
                n_accepted += 1
                q += r + 1
                if on_accept is not None or evaluation == "full":
                    _apply_moves(xp, W, b, j, moves)
                if on_accept is not None:
                    on_accept(sweep.HT[0], sweep.YT, sweep.w, f0 / sweep.n_rows)
            _apply_moves(xp, W, b, j, moves)
            unit.finish()
            if getattr(unit, "accepted", False) or (evaluation == "full" and n_accepted):
                sweep.outputs_changed(k)
            losses.append(f0 / sweep.n_rows)
    return float(np.mean(losses)), n_accepted, n_proposals


# ---------------------------------------------------------------------------
# Estimators
# ---------------------------------------------------------------------------
def _layer_std(xp, W):
    """Empirical std of a layer's weights; its RMS (or the He std) when all
    weights are equal, so that the step never collapses to zero."""
    std = float(xp.std(W))
    if not std > 0:
        std = float(xp.sqrt(xp.mean(W * W)))
    if not std > 0:
        std = float(np.sqrt(2.0 / W.shape[0]))
    return std


@dataclass
class RSOState:
    """What RSO keeps between passes: the initial weights' std of every
    layer and the acceptance rate of every pass so far."""

    initial_stds: list
    acceptance_rates: list


class RandomSearchPass(PassRule):
    """RSO as an update rule: one :func:`rso_pass` per iteration, with the
    step size of the annealing schedule."""

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
    ):
        self.classification = classification
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
        return RSOState([_layer_std(xp, W) for W in network.coefs], [])

    def run_pass(self, network, state, X, Y, sample_weight, rng, *, batch_size, pass_index):
        xp = namespace_of(X)
        factor = _annealing_factor(
            self.perturbation_scale,
            self.final_perturbation_scale,
            self.annealing,
            pass_index,
            self.n_passes,
        )
        if self.perturbation_reference == "initial":
            stds = list(state.initial_stds)
        else:
            stds = [_layer_std(xp, W) for W in network.coefs]
        loss, n_accepted, n_proposals = rso_pass(
            xp,
            X,
            Y,
            network.coefs,
            network.intercepts,
            activation=network.activation,
            classification=self.classification,
            batch_size=batch_size,
            step_stds=[factor * s for s in stds],
            rng=rng,
            layer_order=self.layer_order,
            visiting_order=self.visiting_order,
            batch_refresh=self.batch_refresh,
            sample_weight=sample_weight,
        )
        state.acceptance_rates.append(n_accepted / max(n_proposals, 1))
        return loss


class _BaseRSO(BaseIterativeNetwork):
    """Parameters and the pass of RSO estimators."""

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
    }

    # ``batch_size="auto"`` is min(1000, n_samples): the note's default
    _auto_batch_size = 1000

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
        )

    @property
    def acceptance_rates_(self):
        """Fraction of the proposals of each pass that changed a weight."""
        return self._rule_state.acceptance_rates


_PARAMS_DOC = """
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Hidden activation.
    batch_size : int or "auto", default="auto"
        Rows of the mini-batch on which each proposal is judged; ``"auto"``
        is ``min(1000, n_samples)`` (the note's recommendation; the paper used
        mini-batches of thousands of samples, unverified). Larger batches
        judge proposals more reliably at a proportional cost per proposal: on
        MNIST 2000 reached 0.957 test accuracy after 10 passes, 1000 0.944.
        With ``batch_size >= n_samples`` every proposal is judged on the
        whole training set.
    max_iter : int, default=10
        Passes over all weights (the paper's *cycles*: every weight and bias
        visited once per pass). The paper reports 98% on MNIST (with a small
        CNN) after 5 cycles; the research note suggested 20, 10 keeps small
        fits fast.
    tol : float, default=1e-4
        Minimum decrease of the pass's training loss (or increase of the
        validation score with ``early_stopping``) that counts as improvement.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when its
        score has not improved by ``tol`` for ``n_iter_no_change`` passes and
        restore the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out for ``early_stopping``.
    n_iter_no_change : int, default=10
        Passes without improvement before stopping.
    perturbation_scale : float, default=1.0
        Step standard deviation in the first pass, as a multiple of the
        standard deviation of the layer's weights: a step for a weight of
        layer ``l`` is drawn from ``N(0, (scale * std(W_l))^2)`` (the paper's
        rule; 1.0 as in the note's recommendation). Biases take the step
        size of their layer's weights.
    final_perturbation_scale : float, default=0.1
        Multiple reached in the last pass (``max_iter``) by the linear
        annealing schedule (paper: linear decrease, endpoint not verified;
        0.1 is the note's recommendation).
    annealing : {"linear", "constant"}, default="linear"
        Schedule of the multiple over the passes: linear from
        ``perturbation_scale`` to ``final_perturbation_scale`` (counting the
        passes in ``n_iter_``; passes beyond ``max_iter``, e.g. from
        ``partial_fit``, keep the final value), or constant
        ``perturbation_scale``.
    perturbation_reference : {"current", "initial"}, default="current"
        Whose weight standard deviation the steps scale with: the layer's
        current weights, recomputed at the start of every pass (the note's
        recommendation), or its initial weights (the TensorFlow
        re-implementation).
    layer_order : {"backward", "forward"}, default="backward"
        Layers visited from the output layer down to the first (the paper's
        order as recalled by the note) or from the first up.
    visiting_order : {"unit", "random"}, default="unit"
        Order of the weights within a layer. ``"unit"``: the units in random
        order, and each unit's incoming weights and bias in random order
        (consecutive proposals share the unit's cached state).
        ``"random"``: one random permutation of all the layer's weights
        (the TensorFlow re-implementation). Both are reshuffled every pass;
        the paper's own within-layer order is not verified.
    batch_refresh : int or "unit", default=200
        How many consecutive proposals are judged on one mini-batch before a
        fresh one is drawn. The paper draws a new mini-batch for every weight
        (``batch_refresh=1``), which costs one forward pass per weight; the
        note recommends one batch per block of consecutive weights so that
        the cached forward pass is reused. ``"unit"``: a block is one unit's
        incoming weights and bias (``n_in + 1`` proposals). Fewer proposals
        per batch generalise better (on MNIST, 100 to 200 gave about 1% more
        test accuracy than ``"unit"`` with 785 weights per unit). With
        ``batch_size >= n_samples`` the batch is the whole training set and
        this setting has no effect.
    weight_init : {"he_normal", "glorot_normal"}, default="he_normal"
        Initial weights ``N(0, 2 / fan_in)`` or ``N(0, 2 / (fan_in +
        fan_out))``, zero biases (the paper: a fan-in scaled Gaussian; the
        exact choice is not verified).
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights, the mini-batches, the visiting orders
        and the steps; all drawn on the host, so CPU and GPU fits of one seed
        make the same proposals.
    verbose : bool or int, default=False
        Print the loss and the time of every pass.
    warm_start : bool, default=False
        Continue from the previous fit's weights.
    device : {None, "cpu", "cuda"}, default=None
        Where to fit. ``None`` follows scikit-learn's ``array_api_dispatch``
        (NumPy unless it is on, then the input's namespace); ``"cuda"`` fits
        with CuPy on the GPU and returns NumPy predictions for NumPy input."""

_ATTRS_DOC = """
    coefs_ : list of arrays
        Weight matrix of each layer, shape (n_in, n_out), in the namespace the
        model was fitted in.
    intercepts_ : list of arrays
        Bias vector of each layer.
    n_iter_ : int
        Passes over the weights run so far.
    loss_curve_ : list of float
        Training loss of each pass: the mean, over the pass's blocks of
        proposals (the proposals on one unit judged on one mini-batch), of
        the mini-batch loss right after the block. A running estimate, not
        the loss on the whole training set.
    acceptance_rates_ : list of float
        Fraction of the proposals of each pass that changed a weight.
    best_loss_ : float
        Lowest value of ``loss_curve_``.
    validation_scores_ : list of float
        Validation score of each pass (only with ``early_stopping``).
    best_validation_score_ : float
        Best validation score (only with ``early_stopping``).
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int"""

_NOTES_DOC = """
    Notes
    -----
    The proposals are evaluated incrementally on cached activations of the
    mini-batch, never by a forward pass per proposal: a step on weight
    ``W_l[i, j]`` changes only unit ``j``'s pre-activation, so an
    output-layer proposal costs ``O(B)``, a last-hidden-layer proposal a
    rank-one update of the outputs (``O(B K)``), and deeper proposals
    recompute only the layers above the changed one. A step is evaluated on
    the rows where its input is nonzero only, and a weight whose input is
    zero on the whole mini-batch is rejected without evaluation. The
    acceptance is the paper's: sequential, every accepted step visible to
    the next proposal; these shortcuts take exactly the decisions of a
    forward pass per candidate. The cost of a pass does not depend on
    ``n_samples``: it is about ``(n_weights / batch_refresh)`` forward passes
    of one mini-batch plus ``O(batch_size * n_outputs)`` per proposal for a
    single hidden layer.

    Unlike ``MLPClassifier`` there is no weight penalty: on separable data
    the outputs keep growing over the passes (confident probabilities);
    ``early_stopping`` helps on small noisy data sets.
"""


_PARAMS_HEAD, _PARAMS_TAIL = _PARAMS_DOC.split("\n    random_state :")
_PARAMS_TAIL = "\n    random_state :" + _PARAMS_TAIL


def _fill(doc):
    return (
        doc.replace("%(params)s", _PARAMS_DOC)
        .replace("%(params_head)s", _PARAMS_HEAD)
        .replace("%(params_tail)s", _PARAMS_TAIL)
        .replace("%(attrs)s", _ATTRS_DOC)
        .replace("%(notes)s", _NOTES_DOC.rstrip("\n"))
    )


class RSOClassifier(IterativeClassifierMixin, NetworkClassifierMixin, _BaseRSO):
    __doc__ = _fill("""Neural-network classifier trained by random search (RSO).

    RSO (Singh & Tripathi 2020) trains without gradients: it visits the
    weights one at a time, draws a Gaussian step for the weight, and keeps
    whichever of ``w``, ``w + step`` and ``w - step`` gives the lowest softmax
    cross-entropy on a mini-batch (ties keep ``w``). Every accepted change is
    seen by the next proposal. ``max_iter`` counts passes over all weights.

    Parameters
    ----------%(params_head)s
    class_weight : dict, "balanced" or None, default=None
        Weight of each class's samples, multiplied into ``sample_weight``.
        ``"balanced"`` weighs class ``c`` by ``n_samples / (n_classes *
        n_c)`` (sums of ``sample_weight`` when given), as scikit-learn's
        ``compute_class_weight``; a dict maps classes to weights (unlisted
        classes weigh 1). ``partial_fit`` takes dicts only.%(params_tail)s

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.%(attrs)s
        Number of outputs (classes).
    out_activation_ : str
        ``"softmax"``, applied in ``predict_proba``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    RSORegressor : The regression twin.
    sklearn.neural_network.MLPClassifier : Backpropagation-trained network.
%(notes)s

    References
    ----------
    B. Singh and R. Tripathi, "RSO: A Gradient Free Sampling Based Approach
    For Training Deep Neural Networks", arXiv:2005.05955, 2020.

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
    """)

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
        class_weight=None,
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
            Non-negative weight of each sample's loss in every comparison
            (scaled to mean 1 over the training rows); ``None`` weighs all
            samples equally.

        Returns
        -------
        self : RSOClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)


class RSORegressor(IterativeRegressorMixin, NetworkRegressorMixin, _BaseRSO):
    __doc__ = _fill("""Neural-network regressor trained by random search (RSO).

    Each weight in turn gets a Gaussian step; whichever of ``w``,
    ``w + step`` and ``w - step`` gives the lowest half squared error of the
    standardised targets on a mini-batch is kept (ties keep ``w``). The
    output layer is linear. See :class:`RSOClassifier` for the method.

    Parameters
    ----------%(params)s

    Attributes
    ----------%(attrs)s
        Number of targets.
    out_activation_ : str
        ``"identity"``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    RSOClassifier : The classification twin.
    sklearn.neural_network.MLPRegressor : Backpropagation-trained network.
%(notes)s

    References
    ----------
    B. Singh and R. Tripathi, "RSO: A Gradient Free Sampling Based Approach
    For Training Deep Neural Networks", arXiv:2005.05955, 2020.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skgf import RSORegressor
    >>> X, y = make_friedman1(n_samples=1000, noise=1.0, random_state=0)
    >>> reg = RSORegressor(hidden_layer_sizes=(32,), max_iter=5, random_state=0)
    >>> reg.fit(X[:800], y[:800]).score(X[800:], y[800:]) > 0.7
    True
    """)

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
            Non-negative weight of each sample's loss in every comparison
            (scaled to mean 1 over the training rows); ``None`` weighs all
            samples equally.

        Returns
        -------
        self : RSORegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)
