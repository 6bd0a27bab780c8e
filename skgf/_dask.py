"""Lazy (dask) input: checks, one-pass statistics and blockwise computations.

dask arrays are never materialised. An estimator that can fit them (ZORB)
runs each pass over the data as one graph computation over row blocks
(:func:`reduce_row_blocks`), NumPy inside each block, and only the reduced
sums come back to the client; the others refuse them. Prediction on a dask
array is lazy and blockwise (:func:`map_row_blocks`) for every estimator.
See ``doc/dask.rst``.

dask itself is imported only inside the functions that build graphs, so
that skgf imports without it.
"""

import functools
import math

import numpy as np
from array_api_compat import is_dask_array

from ._array_api import float_dtype_for, numpy_namespace, to_host, to_numpy


def is_lazy_array(array):
    """Whether ``array`` is a dask array (fitted and predicted blockwise)."""
    return is_dask_array(array)


def _check_lazy_rows(X, known_rows=True):
    """A validated 2-D dask ``X`` whose blocks hold all columns (lazy checks only)."""
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D dask array, got a {X.ndim}D array of shape {X.shape}. "
            "Reshape your data, e.g. X.reshape(-1, 1) for a single feature."
        )
    if known_rows and any(math.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "The dask array X has unknown chunk sizes (e.g. from boolean "
            "indexing or a dask DataFrame). Call X.compute_chunk_sizes() (or "
            "df.to_dask_array(lengths=True)) before fitting."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"dask array X has dtype {X.dtype}; a numeric (bool, integer or float) dtype is needed."
        )
    if X.shape[1] < 1 or (known_rows and X.shape[0] < 1):
        raise ValueError(
            f"Found a dask array X with shape {X.shape} while a minimum of 1 "
            "sample and 1 feature is required."
        )
    if len(X.chunks[1]) > 1:  # every block needs whole rows
        X = X.rechunk({1: -1})
    return X


def lazy_training_data(X, y):
    """Check a dask ``X`` and its targets ``y`` lazily; align ``y`` with ``X``.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
        Training data, with known chunk sizes along the rows.
    y : dask array or array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.

    Returns
    -------
    X : dask array
        ``X`` as float32 (if float32) or float64, chunked along rows only.
    y : dask array
        ``y`` with the row blocks of ``X``. Nothing is computed.
    """
    import dask.array as da

    if not is_lazy_array(X):
        raise TypeError(
            "y is a dask array but X is not: pass X as a dask array too "
            "(da.from_array(X, chunks=...)), or compute y."
        )
    X = _check_lazy_rows(X)
    dtype = float_dtype_for(X.dtype, numpy_namespace(), "cpu")
    if X.dtype != dtype:
        X = X.astype(dtype)
    n_samples = X.shape[0]
    if not is_lazy_array(y):
        y = np.asarray(to_host(y))
        if y.ndim not in (1, 2) or y.shape[0] != n_samples:
            raise ValueError(
                f"y has shape {y.shape}, but X has {n_samples} samples; y must "
                "be 1D or 2D with one row per sample of X."
            )
        return X, da.from_array(y, chunks=(X.chunks[0],) + y.shape[1:])
    if y.ndim not in (1, 2) or any(math.isnan(c) for c in y.shape):
        raise ValueError(
            f"y must be a 1D or 2D dask array with known chunk sizes, got shape "
            f"{y.shape} (call y.compute_chunk_sizes())."
        )
    if y.shape[0] != n_samples:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {y.shape[0]}]"
        )
    chunks = (X.chunks[0],) + ((-1,) if y.ndim == 2 else ())
    return X, y.rechunk(chunks)


def lazy_unique(y):
    """Sorted distinct values of a dask ``y`` (one pass over ``y``)."""
    import dask.array as da

    return np.asarray(da.unique(y).compute())


def lazy_column_stats(y):
    """Column means and standard deviations (float64) of a 1-D/2-D dask ``y``,
    in one pass over ``y``."""
    import dask

    Y = (y if y.ndim == 2 else y[:, None]).astype(np.float64)
    mean, std = dask.compute(Y.mean(axis=0), Y.std(axis=0))
    return np.asarray(mean), np.asarray(std)


def reduce_row_blocks(block_fn, merge_fn, arrays, shared, split_every=8):
    """``block_fn`` on each row block of ``arrays``, merged by a tree of ``merge_fn``.

    One graph computation (``dask.compute``), on the active scheduler: a
    ``dask.distributed`` client if one is set up, threads otherwise.
    ``block_fn(*blocks, shared)`` runs where the blocks are, on NumPy blocks
    (CuPy blocks are copied to the host), and returns a small value;
    ``merge_fn(*values)`` combines up to ``split_every`` of them. Only the
    final merged value travels to the client. ``shared`` (weights) is put
    into the graph once, not once per block.
    """
    import dask

    shared = dask.delayed(shared, pure=True)
    block = dask.delayed(_on_host_blocks(block_fn), pure=True)
    blocks = [a.to_delayed().ravel() for a in arrays]
    sizes = arrays[0].chunks[0]
    parts = [block(*pieces, shared) for size, *pieces in zip(sizes, *blocks) if size > 0]
    merge = dask.delayed(merge_fn, pure=True)
    while len(parts) > 1:
        parts = [merge(*parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    (result,) = dask.compute(parts[0])
    return result


class _on_host_blocks:
    """``fn`` called on host (NumPy) copies of its array arguments."""

    def __init__(self, fn):
        self.fn = fn
        self.__name__ = fn.__name__  # dask names the graph's keys after it

    def __call__(self, *args):
        *blocks, shared = args
        return self.fn(*(to_numpy(b) for b in blocks), shared)

    def __dask_tokenize__(self):
        return (type(self).__name__, self.fn.__module__, self.fn.__qualname__)


def row_blocks_when_lazy(predict_method):
    """Decorate a prediction method so that a dask ``X`` gets a lazy result,
    computed by the method block of rows by block of rows."""

    @functools.wraps(predict_method)
    def predict_any(estimator, X):
        if is_lazy_array(X):
            return map_row_blocks(functools.partial(predict_method, estimator), X)
        return predict_method(estimator, X)

    return predict_any


def map_row_blocks(fn, X):
    """Lazy ``fn(X)`` for a dask ``X``, computed block of rows by block of rows.

    ``fn`` maps a NumPy block of rows to one output row per input row (1-D
    or 2-D). It is called once on a single row of zeros to learn the output's
    shape and dtype, so a wrong number of features fails here, not at compute
    time.
    """
    X = _check_lazy_rows(X, known_rows=False)
    probe = np.asarray(fn(np.zeros((1, X.shape[1]), dtype=X.dtype)))
    meta = np.empty((0,) * probe.ndim, dtype=probe.dtype)

    def block_fn(block):
        return np.asarray(fn(to_numpy(block)))

    if probe.ndim == 1:
        return X.map_blocks(block_fn, drop_axis=1, dtype=probe.dtype, meta=meta)
    return X.map_blocks(
        block_fn, chunks=(X.chunks[0], (probe.shape[1],)), dtype=probe.dtype, meta=meta
    )
