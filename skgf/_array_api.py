"""The dispatch layer: which array namespace and device a fit runs on.

Every solver receives ``xp`` (an array-API namespace) from here and uses only
array-API functions on it, plus the few helpers below for what the standard
lacks (conversion to NumPy, moves between namespaces and devices, a float64
probe). Linear solves are in ``_linalg``; dask input is in ``_dask``.

Rules (see ``doc/dispatch.rst``):

* ``device=None`` follows scikit-learn: with ``array_api_dispatch`` off every
  input becomes NumPy; with it on, the input's own namespace and device are
  used (NumPy, CuPy, torch, array_api_strict, ...).
* ``device="cpu"`` computes in NumPy whatever the input.
* ``device="cuda"`` computes in CuPy; NumPy input is moved to the GPU and
  predictions come back as NumPy.
* dask arrays are *lazy* inputs (``_dask``, ``doc/dask.rst``): never
  materialised, fitted blockwise by ZORB and refused by the others, predicted
  blockwise by every estimator.
"""

import dataclasses

import numpy as np
import sklearn
from array_api_compat import (
    array_namespace,
    is_array_api_obj,
    is_cupy_array,
    is_numpy_array,
    is_torch_array,
    to_device,
)
from array_api_compat import device as array_device

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


def host_to(array, xp, device, dtype):
    """A host NumPy array as ``dtype`` in namespace ``xp`` on ``device``."""
    return xp.astype(move_to(np.ascontiguousarray(array), xp, device), dtype)


def is_numpy_namespace(xp):
    """Whether ``xp`` is NumPy (raw or array-API wrapped)."""
    return xp.__name__ in {
        "numpy",
        "array_api_compat.numpy",
        "sklearn.externals.array_api_compat.numpy",
    }


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
    """Apply ``fn`` to every array inside nested lists, tuples, dicts and
    dataclass instances (a dataclass comes back as a new instance)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {
            f.name: map_arrays(getattr(obj, f.name), fn) for f in dataclasses.fields(obj) if f.init
        }
        return dataclasses.replace(obj, **changes)
    if isinstance(obj, list):
        return [map_arrays(o, fn) for o in obj]
    if isinstance(obj, tuple):
        return tuple(map_arrays(o, fn) for o in obj)
    if isinstance(obj, dict):
        return {k: map_arrays(v, fn) for k, v in obj.items()}
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        return fn(obj)
    return obj
