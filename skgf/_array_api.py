"""The dispatch layer: which array namespace and device a fit runs on.

Every solver receives ``xp`` (an array-API namespace) from here and uses only
array-API functions on it, plus the few helpers below for what the standard
lacks (a symmetric positive-definite solve, conversion to NumPy).

Rules (see ``doc/dispatch.rst``):

* ``device=None`` follows scikit-learn: with ``array_api_dispatch`` off every
  input becomes NumPy; with it on, the input's own namespace and device are
  used (NumPy, CuPy, torch, array_api_strict, ...).
* ``device="cpu"`` computes in NumPy whatever the input.
* ``device="cuda"`` computes in CuPy; NumPy input is moved to the GPU and
  predictions come back as NumPy.
* dask arrays are *lazy* inputs (see ``doc/dask.rst``): they are never
  materialised. An estimator that can fit them (ZORB) runs each pass over the
  data as one graph computation over row blocks (:func:`reduce_row_blocks`),
  NumPy inside each block, and only the reduced sums come back to the client;
  the others refuse them. Prediction on a dask array is lazy and blockwise
  (:func:`map_row_blocks`) for every estimator.
"""

import math


import numpy as np
import sklearn
from array_api_compat import (
    array_namespace,
    is_array_api_obj,
    is_cupy_array,
    is_dask_array,
    is_numpy_array,
    is_torch_array,
)
from array_api_compat import device as array_device
from array_api_compat import to_device

_CUDA_HINT = (
    "device='cuda' needs CuPy and an NVIDIA GPU. Install the extra with "
    "`pip install skgf[cuda12]` (CuPy for CUDA 12), or use device=None/'cpu'."
)


def dispatch_enabled():
    """Whether scikit-learn's ``array_api_dispatch`` is switched on."""
    return bool(sklearn.get_config().get("array_api_dispatch", False))


def numpy_namespace():
    """The array-API-compatible NumPy namespace."""
    return array_namespace(np.empty(0))


def cupy_namespace():
    """The array-API-compatible CuPy namespace, or a clear error without one."""
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no CUDA device visible")
    except Exception as exc:  # ImportError, CUDA driver errors, no device
        raise ValueError(f"{_CUDA_HINT} ({type(exc).__name__}: {exc})") from exc
    return array_namespace(cupy.empty(0))


def input_namespace(X):
    """Namespace of the caller's ``X``: NumPy unless dispatch is on."""
    if not dispatch_enabled():
        return numpy_namespace()
    try:
        return array_namespace(X)
    except TypeError:  # lists, pandas frames, sparse matrices
        return numpy_namespace()


def resolve_compute(X, device):
    """Namespace and device on which a fit runs, given input ``X``.

    Returns ``(xp, dev)``; ``X`` itself is not moved here.
    """
    if device == "cuda":
        xp = cupy_namespace()
        return xp, array_device(xp.empty(0))
    if device == "cpu" or not dispatch_enabled() or is_numpy_array(X):
        return numpy_namespace(), "cpu"
    xp = array_namespace(X)
    return xp, array_device(X)


def namespace_of(array):
    """Namespace of an array that skgf created (fitted weights)."""
    return array_namespace(array)


def device_of(array):
    """Device of an array."""
    return array_device(array)


def to_numpy(array):
    """Copy (or view) any supported array as a NumPy array on the host."""
    if array is None or isinstance(array, np.ndarray):
        return array
    if is_cupy_array(array):
        return array.get()
    if is_torch_array(array):
        return array.detach().cpu().numpy()
    try:
        return np.from_dlpack(array)
    except (TypeError, RuntimeError, BufferError, AttributeError):
        return np.asarray(array)


def move_to(array, xp, device):
    """Move ``array`` into namespace ``xp`` on ``device`` (no copy if there)."""
    if array is None:
        return None
    if array_namespace(array).__name__ == xp.__name__:
        if device is None or device_of(array) == device:
            return array
        return to_device(array, device)
    host = to_numpy(array)
    return host if is_numpy_namespace(xp) else xp.asarray(host, device=device)


def is_numpy_namespace(xp):
    """Whether ``xp`` is NumPy (raw or array-API wrapped)."""
    return xp.__name__ in {"numpy", "array_api_compat.numpy",
                           "sklearn.externals.array_api_compat.numpy"}


def supports_float64(xp, device):
    """Whether ``device`` of ``xp`` computes in float64 (not e.g. torch MPS)."""
    try:
        xp.zeros(1, dtype=xp.float64, device=device)
    except Exception:
        return False
    return True


def float_dtype_for(dtype, xp, device):
    """Float dtype used for computing on input of ``dtype``.

    float32 stays float32; everything else becomes float64 where the device
    has it, float32 otherwise.
    """
    if dtype == xp.float32 or not supports_float64(xp, device):
        return xp.float32
    return xp.float64


def solve_spd(xp, A, B):
    """Solve ``A @ X = B`` for symmetric positive-definite ``A``.

    Cholesky where the backend offers a triangular solve (NumPy via SciPy,
    CuPy via cupyx); a general solve elsewhere. Raises ``np.linalg.LinAlgError``
    when ``A`` is not numerically positive definite, so callers can fall back.
    """
    if is_numpy_namespace(xp):
        # NumPy's own LAPACK, not SciPy's: NumPy and SciPy wheels each bundle
        # an OpenBLAS with its own thread pool, and alternating NumPy matrix
        # products with SciPy factorisations (semi-implicit BP does both every
        # mini-batch) made a multi-threaded epoch 4.5x slower than a
        # single-threaded one (measured).
        np.linalg.cholesky(A)  # raises LinAlgError when A is not positive definite
        return np.linalg.solve(A, B)
    L = xp.linalg.cholesky(A)
    if not bool(xp.all(xp.isfinite(L))):  # CuPy returns NaN instead of raising
        raise np.linalg.LinAlgError("matrix is not positive definite")
    if is_cupy_array(A):
        from cupyx.scipy.linalg import solve_triangular

        return solve_triangular(L.T, solve_triangular(L, B, lower=True), lower=False)
    return xp.linalg.solve(A, B)


def solve_psd_eigh(xp, A, B, floor):
    """Solve ``A @ X = B`` for symmetric ``A`` with eigenvalues floored at ``floor``."""
    eigvals, eigvecs = xp.linalg.eigh(A)
    eigvals = xp.where(eigvals > floor, eigvals, xp.asarray(floor, dtype=A.dtype))
    return eigvecs @ ((eigvecs.T @ B) / eigvals[:, None])


def take_rows(xp, indices, *arrays):
    """The rows ``indices`` of each array (``None`` stays ``None``).

    ``indices`` are host integers (or an index array already on the device);
    they are sent to the arrays' device once for all of them.
    """
    if isinstance(indices, np.ndarray):
        first = next(a for a in arrays if a is not None)
        indices = xp.asarray(indices.astype(np.int64, copy=False), device=device_of(first))
    return tuple(None if a is None else xp.take(a, indices, axis=0) for a in arrays)


def to_host(obj):
    """Arrays of any namespace as NumPy; lists, frames and ``None`` as they are."""
    return to_numpy(obj) if is_array_api_obj(obj) else obj


def map_arrays(obj, fn):
    """Apply ``fn`` to every array inside nested lists, tuples and dicts."""
    if isinstance(obj, list):
        return [map_arrays(o, fn) for o in obj]
    if isinstance(obj, tuple):
        return tuple(map_arrays(o, fn) for o in obj)
    if isinstance(obj, dict):
        return {k: map_arrays(v, fn) for k, v in obj.items()}
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        return fn(obj)
    return obj


# ------------------------------------------------------------ lazy (dask) input
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
            f"dask array X has dtype {X.dtype}; a numeric (bool, integer or "
            "float) dtype is needed."
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

    ``X`` becomes float32 (if float32) or float64, chunked along rows only.
    ``y`` (a dask array or anything NumPy takes) becomes a dask array with
    the row blocks of ``X``. Nothing is computed.
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
    parts = [block(*pieces, shared)
             for size, *pieces in zip(sizes, *blocks) if size > 0]
    merge = dask.delayed(merge_fn, pure=True)
    while len(parts) > 1:
        parts = [merge(*parts[i:i + split_every])
                 for i in range(0, len(parts), split_every)]
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
    return X.map_blocks(block_fn, chunks=(X.chunks[0], (probe.shape[1],)),
                        dtype=probe.dtype, meta=meta)
