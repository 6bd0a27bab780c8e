"""ZORB's rule (Ranganathan & Lewandowski, 2020): one backward sweep of targets,
then one least-squares solve per layer.

One backward sweep pushes the output target down through inverse
activations and pseudoinverses of the (random, untouched) weights above each
layer; one forward sweep then fits every layer, input first, by regularised
least squares from its actual input to its target. No gradients, no epochs.

While layer ``l`` is fitted every layer above it still has its initial
weights, so its target depends on ``Y`` and those weights only; targets are
therefore recomputed per row chunk instead of being stored, which keeps the
memory of a fit independent of the number of samples.

:class:`ZORBSweep` is the rule. It reads the training rows through a row
source, :class:`MemoryRows` (chunks of in-memory rows in the compute
namespace) or ``BlockRows`` (row blocks of dask arrays, ``_zorb_blocks.py``);
both run :func:`layer_gram` on their rows for a :class:`LayerPass`. The
estimators are in ``_zorb.py``.
"""

import dataclasses
import time

import numpy as np
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows

from ._activations import inverse, is_bounded
from ._array_api import device_of, is_numpy_namespace, supports_float64, to_numpy
from ._callbacks import FitProgress
from ._linalg import GramAccumulator, ridge_from_gram
from ._network import (
    hidden_forward,
    hidden_forward_units,
    init_weights,
    landmark_layer,
    layer_sizes,
    normal_layer,
)

# Rows per chunk are capped so that a fit's working memory stays bounded
# whatever n_samples is; 8192 rows already run matrix products at full speed.
_MAX_CHUNK_ROWS = 8192


def chunk_rows(n_samples, widths, itemsize):
    """Rows per chunk: within ``working_memory`` and at most ``_MAX_CHUNK_ROWS``."""
    row_bytes = 3 * sum(widths) * itemsize
    return max(1, get_chunk_n_rows(row_bytes=row_bytes, max_n_rows=min(n_samples, _MAX_CHUNK_ROWS)))


def _pseudoinverse(xp, W):
    """``pinv(W)`` through the smaller Gram matrix, in float64 where possible.

    ``W`` is a random (Glorot) matrix of full rank, so the normal-equation
    form with a tiny relative ridge equals the SVD pseudoinverse to rounding
    and costs a Cholesky of ``min(W.shape)`` instead of a full SVD.
    """
    wide = xp.float64 if supports_float64(xp, device_of(W)) else W.dtype
    W64 = xp.astype(W, wide)
    if W.shape[0] <= W.shape[1]:  # pinv = W^T (W W^T)^-1
        P = ridge_from_gram(xp, W64 @ W64.T, W64, 0.0).T
    else:  # pinv = (W^T W)^-1 W^T
        P = ridge_from_gram(xp, W64.T @ W64, W64.T, 0.0)
    return xp.astype(P, W.dtype)


@dataclasses.dataclass(frozen=True, eq=False)
class TargetSweep:
    """The backward target sweep of ZORB, for row chunks of the output target.

    Holds what the sweep needs of the initial network: the hidden
    ``activation``, the initial ``intercepts``, the pseudoinverse of each
    layer's initial weights (``pinvs[0]`` is ``None``: nothing is fitted
    below the first layer), and ``ranges[j]``, the value range fitted to the
    target of hidden layer ``j``'s activation (``None`` for unbounded
    activations, or before it is set). A range is set (:meth:`with_range`)
    before any target below it is asked for. Plain data, so it pickles to
    dask workers; the namespace ``xp`` comes with each call.
    """

    activation: str
    intercepts: tuple
    pinvs: tuple
    ranges: tuple

    @classmethod
    def initial(cls, xp, coefs, intercepts, activation):
        """The sweep of the initial weights ``coefs``, ``intercepts``."""
        pinvs = (None,) + tuple(_pseudoinverse(xp, W) for W in coefs[1:])
        return cls(activation, tuple(intercepts), pinvs, (None,) * (len(coefs) - 1))

    def above(self, xp, T_out, layer):
        """Output target of hidden layer ``layer``, from the output target ``T_out``."""
        T = T_out
        for j in range(len(self.pinvs) - 1, layer, -1):
            if j < len(self.pinvs) - 1:
                T = inverse(xp, self.activation, T, self.ranges[j])
            T = (T - self.intercepts[j]) @ self.pinvs[j]
        return T

    def pre_activation(self, xp, T_out, layer):
        """Target for the pre-activation of affine layer ``layer``."""
        if layer == len(self.pinvs) - 1:
            return T_out
        T = self.above(xp, T_out, layer)
        return inverse(xp, self.activation, T, self.ranges[layer])

    def target_range(self, xp, T_out_chunks, layer, weight_chunks=None):
        """Min / max of hidden layer ``layer``'s output target over the chunks.

        With ``weight_chunks`` (the rows' weights, chunk by chunk) only rows
        of positive weight count, so that a zero weight is the same as
        leaving the row out.
        """
        low, high = np.inf, -np.inf
        weight_chunks = iter(weight_chunks) if weight_chunks is not None else None
        for T_out in T_out_chunks:
            T = self.above(xp, T_out, layer)
            if weight_chunks is None:
                low = min(low, float(xp.min(T)))
                high = max(high, float(xp.max(T)))
                continue
            keep = (next(weight_chunks) > 0)[:, None]
            inf = xp.asarray(np.inf, dtype=T.dtype, device=device_of(T))
            low = min(low, float(xp.min(xp.where(keep, T, inf))))
            high = max(high, float(xp.max(xp.where(keep, T, -inf))))
        return low, high

    def with_range(self, layer, low, high):
        """The sweep with hidden layer ``layer``'s range fixed to the global
        ``(low, high)``."""
        if not high > low:  # constant target: any non-empty range reproduces it
            low, high = low - 1.0, high + 1.0
        ranges = list(self.ranges)
        ranges[layer] = (low, high)
        return dataclasses.replace(self, ranges=tuple(ranges))


def initial_weights(xp, rows, sizes, rng, weight_init, sample_weight=None):
    """Glorot-uniform ``(coefs, intercepts)`` for layer widths ``sizes``;
    with ``weight_init="landmarks"`` the first layer (when hidden) is then
    replaced by landmark units on the rows ``rows.X`` (in memory), with
    ``"normal"`` by a :func:`~skgf._network.normal_layer`."""
    # every layer is drawn Glorot-uniform first, so that the deeper layers
    # (and the random stream up to them) are the same for every first layer
    coefs, intercepts = init_weights(sizes, rng, "glorot_uniform", xp, rows.device, rows.dtype)
    if weight_init == "landmarks" and len(coefs) > 1:
        coefs[0], intercepts[0] = landmark_layer(xp, rows.X, sizes[1], rng, sample_weight)
    elif weight_init == "normal" and len(coefs) > 1:
        layer = normal_layer(xp, sizes[0], sizes[1], rng, rows.device, rows.dtype)
        coefs[0], intercepts[0] = layer
    return coefs, intercepts


@dataclasses.dataclass(frozen=True, eq=False)
class LayerPass:
    """What fitting layer ``layer`` needs besides the rows: the current
    weights (fitted below ``layer``, initial from ``layer`` up), the backward
    ``targets``, the pre-activation targets of the ``distinct`` classes (or
    ``None``) and the ``random_feature_weight``. A range pass needs only the
    layer and the targets."""

    layer: int
    targets: TargetSweep
    coefs: tuple = ()
    intercepts: tuple = ()
    distinct: object = None
    random_feature_weight: float = 0.0


def layer_gram(xp, X, T_rows, row_codes, step, n_chunk_rows, weights=None, visit=iter):
    """Gram sums of layer ``step.layer`` over the rows of ``X``, chunk by chunk.

    Each chunk's layer input is a forward pass through the fitted layers
    below; its target comes from ``T_rows`` (output targets, pushed down by
    ``step.targets``) or, with ``row_codes``, is the distinct per-class
    target of each row's class. ``weights`` (one per row, or ``None``)
    weight the rows' squared errors. ``visit`` wraps the iterator of row
    slices (the callbacks make each chunk a task).

    Only the products the algebra needs run on the rows: class targets
    enter as one-hot codes mapped afterwards (``k`` columns instead of the
    layer's width), and the random-feature term is added from the Gram
    itself.
    """
    layer, coefs, intercepts = step.layer, step.coefs, step.intercepts
    if _units_by_rows_applies(xp, X, row_codes, step, weights):
        gram = _units_by_rows_gram(xp, X, row_codes, step, n_chunk_rows, visit)
    else:
        gram = _chunked_gram(xp, X, T_rows, row_codes, step, n_chunk_rows, weights, visit)
    if row_codes is not None:
        gram.map_targets(step.distinct)
    if step.random_feature_weight and layer < len(coefs) - 1:
        # coefs[layer] still holds the initial random weights here
        gram.add_affine_of_inputs(coefs[layer], intercepts[layer], step.random_feature_weight)
    return gram


def _layer_input(xp, X, step, out=None, shift=None, transposed=False):
    """Rows ``X`` through the fitted layers below ``step.layer``
    (:func:`hidden_forward`); with ``transposed`` (NumPy), units x rows
    into ``out`` (:func:`hidden_forward_units`)."""
    layer, targets = step.layer, step.targets
    args = (X, step.coefs[:layer], step.intercepts[:layer], targets.activation, targets.ranges)
    if transposed:
        return hidden_forward_units(*args, out=out, shift=shift)
    return hidden_forward(xp, *args, out=out, shift=shift)


def _units_by_rows_applies(xp, X, row_codes, step, weights):
    """Whether :func:`_units_by_rows_gram` serves the layer: rows with class
    codes and no weights, above the input layer (whose rows are ``X``
    itself: transposing them would cost more than it saves), with few
    classes next to the layer's input width (its symmetric product also
    sums ``codes.T @ codes``: ``n_classes^2`` more terms a row, at most
    1/64 of the Gram's own here); for NumPy, with every layer below in
    ``X``'s dtype."""
    if row_codes is None or weights is not None or step.layer == 0:
        return False
    if 8 * step.distinct.shape[0] > step.coefs[step.layer].shape[0]:
        return False
    below = step.coefs[: step.layer] + step.intercepts[: step.layer]
    return not is_numpy_namespace(xp) or all(a.dtype == X.dtype for a in below)


def _units_by_rows_gram(xp, X, row_codes, step, n_chunk_rows, visit):
    """:func:`layer_gram`'s sums, each chunk's layer input given transposed
    as the top of one block ``B = [H.T; one-hot codes.T; 1]``.

    One symmetric product ``B @ B.T`` then gives the Gram, the class sums of
    ``H`` and the row and class counts at once
    (:meth:`GramAccumulator.add_units_by_rows`). Row-major, the class sums
    and row sums were two more products, each reading all of ``H`` again
    (MNIST (2000,): 55 ms of a 2.1 s fit); a row-major block with the codes
    beside ``H`` would make its rows strided, which doubled the time of the
    activation's elementwise passes. NumPy computes ``H.T`` (shifted, after
    the first chunk) straight into the top of one reused buffer, contiguous
    for every chunk but a shorter last one; other namespaces assemble the
    block (shifted in the forward pass after the first chunk), so that they
    sum the same products.
    """
    gram = GramAccumulator(xp)
    width, n_classes = step.coefs[step.layer].shape[0], step.distinct.shape[0]
    classes = xp.arange(n_classes, device=device_of(row_codes))
    buffer = None
    if is_numpy_namespace(xp):
        buffer = np.empty((width + n_classes + 1, min(n_chunk_rows, X.shape[0])), X.dtype)
        buffer[-1] = 1
    for sl in visit(gen_batches(X.shape[0], n_chunk_rows)):
        codes = xp.astype(classes[:, None] == row_codes[None, sl], X.dtype)
        shift = gram.row_shift()
        if buffer is None:
            B = _units_by_rows_block(xp, X[sl, ...], step, codes, shift)
        else:
            B = buffer[:, : sl.stop - sl.start]
            _layer_input(xp, X[sl, ...], step, B[:width], shift, transposed=True)
            B[width:-1] = codes
        gram.add_units_by_rows(B, n_classes, overwrite_rows=True, shifted=shift is not None)
    return gram


def _units_by_rows_block(xp, X, step, codes, shift):
    """Any namespace: the block ``[(H - shift).T; codes; 1]`` of the rows
    ``X`` (``shift``: one value per unit, or ``None``)."""
    H = _layer_input(xp, X, step, shift=shift)
    ones = xp.ones((1, H.shape[0]), dtype=H.dtype, device=device_of(H))
    return xp.concat([xp.permute_dims(H, (1, 0)), codes, ones], axis=0)


def _chunked_gram(xp, X, T_rows, row_codes, step, n_chunk_rows, weights, visit):
    """:func:`layer_gram`'s sums, one :meth:`GramAccumulator.add` per chunk."""
    layer, coefs, targets = step.layer, step.coefs, step.targets
    gram = GramAccumulator(xp)
    if row_codes is not None:
        classes = xp.arange(step.distinct.shape[0], device=device_of(row_codes))
    # NumPy: every chunk's layer input is computed into one reused buffer
    # (the input layer's first chunk is X itself, so its buffer waits for
    # the second), and after the first chunk, which sets the shift, shifted
    # in its own forward pass; other namespaces let the accumulator shift in
    # place
    numpy, out = is_numpy_namespace(xp), None
    shape = (min(n_chunk_rows, X.shape[0]), coefs[layer].shape[0])
    for sl in visit(gen_batches(X.shape[0], n_chunk_rows)):
        shift = gram.row_shift() if numpy else None
        if numpy and out is None and (layer > 0 or shift is not None):
            out = np.empty(shape, X.dtype)
        H = _layer_input(xp, X[sl, ...], step, out=out, shift=shift)
        if row_codes is None:
            T = targets.pre_activation(xp, T_rows[sl, ...], layer)
        else:
            T = xp.astype(row_codes[sl, None] == classes[None, :], H.dtype)
        # above the input layer an unshifted H is this chunk's own forward
        # pass, which the accumulator may shift in place
        w = None if weights is None else weights[sl]
        gram.add(H, T, w, overwrite_rows=layer > 0, shifted=shift is not None)
    return gram


class MemoryRows:
    """Training rows in memory (any namespace), visited in chunks of rows.

    ``T_rows`` holds one output target per row, or is ``None`` when
    ``row_codes`` (each row's class) index the sweep's distinct targets.
    ``weights`` holds one sample weight per row (``None``: all equal).
    """

    def __init__(self, xp, X, T_rows=None, row_codes=None, weights=None):
        self.xp, self.X, self.T_rows, self.row_codes = xp, X, T_rows, row_codes
        self.weights = weights
        self.n_features, self.dtype, self.device = X.shape[1], X.dtype, device_of(X)

    def _chunk(self, sizes):
        return chunk_rows(self.X.shape[0], sizes, 8)

    def target_range(self, targets, layer, sizes):
        """Range of hidden layer ``layer``'s target over the rows (positive
        weights only)."""
        chunks = list(gen_batches(self.X.shape[0], self._chunk(sizes)))
        weights = None if self.weights is None else (self.weights[sl] for sl in chunks)
        return targets.target_range(
            self.xp, (self.T_rows[sl, ...] for sl in chunks), layer, weights
        )

    def n_chunks(self, sizes):
        return -(-self.X.shape[0] // self._chunk(sizes))

    def layer_gram(self, step, sizes, visit=iter):
        """Gram sums of layer ``step.layer`` over all rows (:func:`layer_gram`)."""
        X, T_rows, codes = self.X, self.T_rows, self.row_codes
        return layer_gram(self.xp, X, T_rows, codes, step, self._chunk(sizes), self.weights, visit)


class ZORBSweep:
    """ZORB's fit: the backward target sweep, then one solve per layer.

    Hyper-parameters in the constructor, the data in :meth:`fit` (any row
    source) or :meth:`fit_arrays` (in-memory arrays).

    Parameters
    ----------
    activation : str
        Hidden activation; bounded ones are range-rescaled to their targets.
    alpha : float
        Ridge penalty of each layer's normal equations (bias unpenalised).
    random_feature_weight : float
        Multiple of each hidden layer's initial random pre-activation added
        to its target (``0``: the paper's rule).
    weight_init : {"glorot_uniform", "landmarks", "normal"}
        Initial weights: Glorot-uniform everywhere, or a first layer of
        landmark units (:func:`~skgf._network.landmark_layer`) on in-memory
        rows, or of normal draws (:func:`~skgf._network.normal_layer`).
    verbose : bool or int
        Print the time of each layer's solve.
    name : str
        Name printed with the timings.
    """

    def __init__(
        self,
        activation="tanh",
        alpha=1e-4,
        random_feature_weight=0.0,
        weight_init="glorot_uniform",
        verbose=0,
        name="ZORB",
    ):
        self.activation = activation
        self.alpha = alpha
        self.random_feature_weight = random_feature_weight
        self.weight_init = weight_init
        self.verbose = verbose
        self.name = name

    def fit(
        self,
        xp,
        rows,
        n_outputs,
        hidden_layer_sizes,
        rng,
        T_distinct=None,
        T_range=None,
        progress=None,
    ):
        """Fit a network over the row source ``rows`` (``MemoryRows`` or ``BlockRows``).

        ``T_distinct`` holds the distinct output targets when the rows carry
        class codes (no pass over the data is needed for their ranges);
        ``T_range``, if given, the rows of it that set the ranges (the
        classes with a positive weight). Returns ``(coefs, intercepts,
        ranges)``: the fitted weights and the range of each hidden
        activation (``None`` if unbounded). ``progress`` (a
        :class:`~skgf._callbacks.FitProgress`) reports each layer's solve,
        and each chunk of rows of it, to the callbacks.
        """
        progress = progress or FitProgress.silent()
        sizes = layer_sizes(rows.n_features, hidden_layer_sizes, n_outputs)
        coefs, intercepts = initial_weights(xp, rows, sizes, rng, self.weight_init, rows.weights)
        targets = TargetSweep.initial(xp, coefs, intercepts, self.activation)

        if is_bounded(self.activation):
            for layer in range(len(coefs) - 2, -1, -1):
                if T_distinct is not None:
                    low, high = targets.target_range(
                        xp, [T_distinct if T_range is None else T_range], layer
                    )
                else:
                    low, high = rows.target_range(targets, layer, sizes)
                targets = targets.with_range(layer, low, high)

        for layer in range(len(coefs)):
            start = time.perf_counter()
            distinct = (
                targets.pre_activation(xp, T_distinct, layer) if T_distinct is not None else None
            )
            step = LayerPass(
                layer,
                targets,
                tuple(coefs),
                tuple(intercepts),
                distinct,
                self.random_feature_weight,
            )
            task = progress.begin("layer", max_subtasks=rows.n_chunks(sizes))
            gram = rows.layer_gram(
                step, sizes, lambda chunks, task=task: progress.each_as_task(chunks, "rows", task)
            )
            coefs[layer], intercepts[layer] = gram.solve(self.alpha)
            progress.end(task)
            if self.verbose:
                print(
                    f"[{self.name}] layer {layer + 1}/{len(coefs)} "
                    f"({sizes[layer]} -> {sizes[layer + 1]}) solved in "
                    f"{time.perf_counter() - start:.2f} s"
                )
        return coefs, intercepts, list(targets.ranges)

    def fit_arrays(
        self,
        xp,
        X,
        T_out,
        hidden_layer_sizes,
        rng,
        row_codes=None,
        sample_weight=None,
        progress=None,
    ):
        """Fit on in-memory ``X``; return ``(coefs, intercepts, ranges)``.

        ``T_out`` is the target of the output layer's (identity) output, one
        row per sample; or, when ``row_codes`` is given, one row per distinct
        target (classes) with ``row_codes[i]`` the row of sample ``i``. Every
        target is a row-wise function of ``T_out``, so in that case the
        backward sweep runs on the distinct rows only and samples gather
        theirs.

        ``sample_weight`` (one non-negative weight per sample) weights every
        layer's least-squares fit, and only samples of positive weight
        (classes with some) set the ranges of bounded activations: integer
        weights give the fit of the data with each sample repeated that
        often, and zero weights the fit without those samples.
        """
        range_distinct = None
        if row_codes is None:
            rows, distinct = MemoryRows(xp, X, T_rows=T_out, weights=sample_weight), None
        else:
            rows = MemoryRows(xp, X, row_codes=row_codes, weights=sample_weight)
            distinct = T_out
            if sample_weight is not None:
                k = T_out.shape[0]
                member = row_codes[:, None] == xp.arange(k, device=device_of(X))[None, :]
                totals = xp.sum(
                    xp.astype(member, sample_weight.dtype) * sample_weight[:, None], axis=0
                )
                present = np.flatnonzero(np.asarray(to_numpy(totals)) > 0)
                range_distinct = xp.take(
                    T_out, xp.asarray(present, device=device_of(T_out)), axis=0
                )
        return self.fit(
            xp, rows, T_out.shape[1], hidden_layer_sizes, rng, distinct, range_distinct, progress
        )
