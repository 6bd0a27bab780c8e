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
"""

import numpy as np
import sklearn
from array_api_compat import (
    array_namespace,
    is_cupy_array,
    is_numpy_array,
    is_torch_array,
)
from array_api_compat import device as array_device
from array_api_compat import to_device
from scipy import linalg as scipy_linalg

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
        factor = scipy_linalg.cho_factor(A, lower=True, check_finite=False)
        return scipy_linalg.cho_solve(factor, B, check_finite=False)
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
