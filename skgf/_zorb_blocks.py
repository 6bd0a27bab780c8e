"""ZORB on dask arrays: each pass of the sweep is one graph computation.

The rule (:class:`~skgf._zorb_rule.ZORBSweep`) asks its row source for two
things: the range of a hidden layer's target and the Gram sums of a layer.
:class:`BlockRows` answers each with one graph computation over the row
blocks of ``X`` (with the matching blocks of the raw targets ``y``): every
block runs the in-memory code (:func:`~skgf._zorb_rule.layer_gram`) on its
NumPy rows where the block lives, and only the per-block sums or ranges
travel back, merged in a tree (``skgf._dask.reduce_row_blocks``).

What a block needs is a :class:`BlockPass`, which travels to the workers
(the layer's :class:`~skgf._zorb_rule.LayerPass` and how to encode ``y``);
the block's raw targets are encoded there by its ``encoding``,
:class:`ClassCodes` or :class:`Standardisation`. The helpers at the end
are the estimators' one-pass checks of a dask ``y``.
"""

import dataclasses
import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import gen_batches

from ._array_api import numpy_namespace
from ._dask import lazy_column_stats, lazy_unique, reduce_row_blocks
from ._linalg import GramAccumulator
from ._zorb_rule import LayerPass, chunk_rows, layer_gram


@dataclasses.dataclass(frozen=True, eq=False)
class ClassCodes:
    """Encoding of class labels: each row's code into the sorted ``classes``."""

    classes: np.ndarray

    @property
    def n_outputs(self):
        return self.classes.shape[0]

    def encode(self, xp, y, dtype):
        """``(None, row_codes)`` of a block of labels ``y``."""
        return None, np.searchsorted(self.classes, y)


@dataclasses.dataclass(frozen=True, eq=False)
class Standardisation:
    """Encoding of regression targets: ``(y - mean) / scale``, as
    ``NetworkRegressorMixin`` standardises them in memory."""

    mean: np.ndarray
    scale: np.ndarray

    @property
    def n_outputs(self):
        return self.mean.shape[0]

    def encode(self, xp, y, dtype):
        """``(T_rows, None)`` of a block of raw targets ``y``, in ``dtype``."""
        Y = np.asarray(y, dtype=np.float64)
        Y = xp.astype(Y.reshape(-1, 1) if Y.ndim == 1 else Y, dtype)
        return (Y - self.mean) / self.scale, None


@dataclasses.dataclass(frozen=True, eq=False)
class BlockPass:
    """What a dask worker needs for one pass of the sweep over its row block:
    the layer widths ``sizes`` (for the chunk size), the fit's ``dtype``,
    the ``encoding`` of the raw targets and the layer's ``step``."""

    sizes: tuple
    dtype: np.dtype
    encoding: ClassCodes | Standardisation
    step: LayerPass


def _range_block(y, state):
    """Target range of one dask block of ``y`` (runs on a worker)."""
    xp = numpy_namespace()
    T_rows, _ = state.encoding.encode(xp, y, state.dtype)
    chunks = gen_batches(T_rows.shape[0], chunk_rows(T_rows.shape[0], state.sizes, 8))
    step = state.step
    return step.targets.target_range(xp, (T_rows[sl, ...] for sl in chunks), step.layer)


def _merge_ranges(*ranges):
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def _gram_block(X, y, state):
    """Gram sums of one dask row block (runs on a worker, in NumPy)."""
    xp = numpy_namespace()
    if state.step.layer == 0 and not bool(xp.all(xp.isfinite(X))):
        raise ValueError(
            "Input X contains NaN or infinity (found in a block of the dask "
            "array while fitting the first layer)."
        )
    T_rows, row_codes = state.encoding.encode(xp, y, X.dtype)
    n_chunk_rows = chunk_rows(X.shape[0], state.sizes, 8)
    gram = layer_gram(xp, X, T_rows, row_codes, state.step, n_chunk_rows)
    # the first layer's pass also takes each feature's range (predict clips
    # to it), so that it costs no pass of its own
    column_range = (X.min(axis=0), X.max(axis=0)) if state.step.layer == 0 else None
    return gram, column_range


def _merge_grams(*parts):
    merged = GramAccumulator(numpy_namespace())
    for gram, _ in parts:
        merged.merge(gram)
    ranges = [r for _, r in parts if r is not None]
    if not ranges:
        return merged, None
    low = np.min(np.stack([r[0] for r in ranges]), axis=0)
    high = np.max(np.stack([r[1] for r in ranges]), axis=0)
    return merged, (low, high)


class BlockRows:
    """Training rows in dask arrays: every pass is one graph computation.

    Each row block of ``X`` (with its block of raw targets ``y``) is turned
    into Gram sums (or a target range) where the block lives; the sums are
    merged in a tree and only the merged ``width x width`` result reaches
    the client. The first layer's pass also checks that ``X`` is finite.
    """

    def __init__(self, X, y, encoding):
        self.X, self.y, self.encoding = X, y, encoding
        self.input_range = None
        self.n_features, self.dtype, self.device = X.shape[1], X.dtype, "cpu"
        self.weights = None  # dask fits take no sample weights (check_lazy_fit)

    def _pass(self, sizes, step):
        return BlockPass(tuple(sizes), self.dtype, self.encoding, step)

    def target_range(self, targets, layer, sizes):
        """Range of hidden layer ``layer``'s target: one pass over ``y``."""
        state = self._pass(sizes, LayerPass(layer, targets))
        return reduce_row_blocks(_range_block, _merge_ranges, [self.y], state)

    def n_chunks(self, sizes):
        return len(self.X.chunks[0])

    def layer_gram(self, step, sizes, visit=None):
        """Gram sums of layer ``step.layer``: one pass over ``X`` and ``y``
        (blocks are not reported to callbacks: ``visit`` is ignored). The
        first layer's pass also sets ``input_range``, each feature's
        ``[low, high]``."""
        state = self._pass(sizes, step)
        gram, column_range = reduce_row_blocks(_gram_block, _merge_grams, [self.X, self.y], state)
        if column_range is not None:
            self.input_range = [np.asarray(a) for a in column_range]
        return gram


# ------------------------------------------------- the estimators' checks
def check_lazy_fit(estimator, sample_weight):
    """A clear error for an option a blockwise fit does not support."""
    name = type(estimator).__name__
    if sample_weight is not None or getattr(estimator, "class_weight", None) is not None:
        raise ValueError(
            f"{name}: sample_weight and class_weight are not supported yet when "
            "fitting dask arrays; fit in-memory arrays to use them."
        )
    estimator._check_hidden_layer_sizes()
    if estimator.device == "cuda":
        raise ValueError(
            f"{name} fits dask arrays blockwise with NumPy on the dask workers; "
            "device='cuda' is not supported for dask input. Use device=None, or "
            "compute X into a CuPy/NumPy array."
        )


def lazy_class_labels(y):
    """Sorted distinct labels of a dask ``y`` (one pass over ``y``)."""
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. "
            "Please change the shape of y to (n_samples, ), for example "
            "using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"y should be a 1d array, got an array of shape {y.shape} instead.")
    return lazy_unique(y)


def lazy_target_moments(y):
    """Column means and standard deviations of a numeric dask ``y`` (one pass)."""
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y has dtype {y.dtype}; regression targets must be numeric.")
    mean, std = lazy_column_stats(y)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
        raise ValueError("Input y contains NaN or infinity.")
    return mean, std
