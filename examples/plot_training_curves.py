"""
===========================================
Training curves of the iterative methods
===========================================

RSO, rec-LRA and semi-implicit backpropagation improve a network step by
step, like backpropagation, but without its gradients. This example trains
each on the digits with ``partial_fit`` (one iteration per call) and records
the training loss, the test accuracy and the elapsed time after every
iteration, next to scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`
trained the same way.

An iteration is one epoch over the training data for rec-LRA, semi-implicit
BP and the MLP, and one pass over every weight for RSO. An estimator that
this installation of skgf does not provide is left out.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import skgf

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16.0, y, test_size=0.25, stratify=y, random_state=0
)
classes = np.unique(y)

# %%
# The models: one hidden layer of 64 units each, every method with its
# defaults otherwise, and the number of ``partial_fit`` calls each gets.
# ``max_iter`` is set to that number so that RSO's step-size schedule, which
# shrinks over ``max_iter`` passes, runs to its end.
candidates = {
    "RSO": ("RSOClassifier", 8),
    "rec-LRA": ("LRAClassifier", 40),
    "semi-implicit BP": ("SemiImplicitBPClassifier", 40),
}
models = {}
for label, (name, n_iterations) in candidates.items():
    if not hasattr(skgf, name):
        print(f"skgf.{name} is not available here; {label} is left out.")
        continue
    estimator = getattr(skgf, name)(hidden_layer_sizes=(64,), max_iter=n_iterations, random_state=0)
    models[label] = (estimator, n_iterations)
models["MLP (Adam)"] = (MLPClassifier(hidden_layer_sizes=(64,), random_state=0), 40)

# %%
# Train with ``partial_fit`` and record the curves.
curves = {}
for label, (model, n_iterations) in models.items():
    loss, accuracy, seconds = [], [], []
    elapsed = 0.0
    for _ in range(n_iterations):
        start = time.perf_counter()
        model.partial_fit(X_train, y_train, classes=classes)
        elapsed += time.perf_counter() - start
        loss.append(log_loss(y_train, model.predict_proba(X_train), labels=classes))
        accuracy.append(model.score(X_test, y_test))
        seconds.append(elapsed)
    curves[label] = (loss, accuracy, seconds)
    print(
        f"{label:<18} {n_iterations:>3} iterations, {elapsed:6.2f} s, "
        f"test accuracy {accuracy[-1]:.3f}"
    )

# %%
# Training cross-entropy and test accuracy, per iteration and against time.
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for label, (loss, accuracy, seconds) in curves.items():
    iterations = np.arange(1, len(loss) + 1)
    axes[0].plot(iterations, loss, label=label)
    axes[1].plot(iterations, accuracy, label=label)
    axes[2].plot(seconds, accuracy, label=label)
axes[0].set_yscale("log")
axes[0].set_xlabel("iteration")
axes[0].set_ylabel("training cross-entropy")
axes[1].set_xlabel("iteration")
axes[1].set_ylabel("test accuracy")
axes[2].set_xscale("log")
axes[2].set_xlabel("training time (s)")
axes[2].set_ylabel("test accuracy")
for ax in axes:
    ax.grid(alpha=0.3)
axes[1].legend()
fig.tight_layout()
plt.show()
