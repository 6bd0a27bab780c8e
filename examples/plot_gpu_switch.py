"""
=========================
Switching a fit to a GPU
=========================

Every skgf estimator has a ``device`` parameter. ``device="cuda"`` solves on
an NVIDIA GPU with CuPy while the data you pass in, and the predictions you
get back, stay NumPy arrays. A model fitted on the GPU is pickled with NumPy
arrays, so it loads and predicts on a machine without a GPU.

Where CuPy or a GPU is missing (as on the machine that built this page) the
GPU part is skipped and only the CPU fit runs. See :ref:`dispatch`.
"""

# %%
import pickle
import time

import numpy as np
from sklearn.datasets import make_classification

from skgf import ZORBClassifier

X, y = make_classification(
    n_samples=20000, n_features=100, n_informative=40, n_classes=5, random_state=0
)
X = X.astype(np.float32)  # float32: the fast type on a GPU
X_train, X_test, y_train, y_test = X[:15000], X[15000:], y[:15000], y[15000:]


def fit_and_score(device):
    """Fit on ``device``; return the model, its fit seconds and accuracy."""
    model = ZORBClassifier(hidden_layer_sizes=(1024,), random_state=0, device=device)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return model, seconds, model.score(X_test, y_test)


# %%
# The CPU fit.
cpu_model, cpu_seconds, cpu_accuracy = fit_and_score("cpu")
print(f"CPU: fit {cpu_seconds:.2f} s, test accuracy {cpu_accuracy:.3f}")

# %%
# The same fit on the GPU, if there is one. ``device="cuda"`` raises a
# ``ValueError`` that says what is missing when CuPy or the GPU is absent.
try:
    gpu_model, gpu_seconds, gpu_accuracy = fit_and_score("cuda")
except ValueError as exc:
    gpu_model = None
    print(f"No GPU here, skipping the GPU fit:\n  {exc}")
else:
    # The first CUDA call also pays for starting CuPy; time a second fit.
    gpu_model, gpu_seconds, gpu_accuracy = fit_and_score("cuda")
    print(
        f"GPU: fit {gpu_seconds:.2f} s, test accuracy {gpu_accuracy:.3f}, "
        f"{cpu_seconds / gpu_seconds:.1f}x faster than the CPU"
    )
    # Same seed, same initial weights: the two fits agree up to float32
    # rounding.
    agree = np.mean(gpu_model.predict(X_test) == cpu_model.predict(X_test))
    print(f"CPU and GPU predictions agree on {agree:.1%} of the test rows")

# %%
# Bring the model to a CPU-only machine: pickling stores every fitted array
# as NumPy. Reset ``device`` so that a later refit does not ask for a GPU.
model = gpu_model if gpu_model is not None else cpu_model
restored = pickle.loads(pickle.dumps(model))
restored.set_params(device=None)
print("fitted weights after unpickling:", type(restored.coefs_[0]).__name__)
print(f"restored model, test accuracy {restored.score(X_test, y_test):.3f}")
