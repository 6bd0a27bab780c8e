"""
=====================================================
Progress bars and validation curves with callbacks
=====================================================

skgf estimators take scikit-learn's callbacks (``sklearn.callback``,
scikit-learn 1.9 and later): :class:`~sklearn.callback.ProgressBar` draws a
bar per epoch (or per RSO pass, or per ZORB layer), also inside a
``Pipeline`` or ``GridSearchCV``, and :class:`~sklearn.callback.ScoringMonitor`
scores the model after every epoch. Early stopping can use a validation set
of your own, passed to ``fit`` as ``X_val`` and ``y_val``, instead of a split
held out of the training data; ``validation_scores_`` then records its score
after every epoch.

The example trains :class:`~skgf.LRAClassifier` on MNIST when the shared
data folder is present (``$SKGF_DATA`` or ``../shared/data``), on scikit-learn's
digits otherwise, and plots the training accuracy (from the monitor) next to
the validation accuracy (from ``validation_scores_``).
"""

# %%
import os
import pathlib
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skgf import LRAClassifier

try:
    from sklearn.callback import ProgressBar, ScoringMonitor
except ImportError:  # scikit-learn < 1.9
    ProgressBar = ScoringMonitor = None

mnist = pathlib.Path(os.environ.get("SKGF_DATA", "../../shared/data")) / "mnist.npz"
if mnist.exists():
    with np.load(mnist) as data:
        X, y = data["X_train"][:10000] / 255.0, data["y_train"][:10000]
    name = "MNIST (10,000 images)"
else:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    name = "digits"
X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.2, random_state=0)

# %%
# One fit with both callbacks. ``early_stopping=True`` stops on the given
# validation set after ``n_iter_no_change`` epochs without improvement and
# keeps the weights of its best epoch.
model = LRAClassifier(hidden_layer_sizes=(256,), max_iter=20, early_stopping=True, random_state=0)
monitor = None
if ScoringMonitor is not None:
    monitor = ScoringMonitor(scoring="accuracy")
    callbacks = [monitor]
    try:
        callbacks.append(ProgressBar())
    except ImportError:  # ProgressBar needs rich (pip install skgf[progress])
        pass
    model.set_callbacks(*callbacks)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X_train, y_train, X_val=X_val, y_val=y_val)
print(f"{name}: {model.n_iter_} epochs, best validation accuracy", model.best_validation_score_)

# %%
# The monitor logs one row per task; the epochs are the tasks named
# ``"epoch"``. Its score is on the training rows ``fit`` received.
epochs = np.arange(1, model.n_iter_ + 1)
fig, ax = plt.subplots(figsize=(6, 4))
if monitor is not None:
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    ax.plot(epochs, [row["accuracy"] for row in rows], label="training (ScoringMonitor)")
ax.plot(epochs, model.validation_scores_, label="validation (validation_scores_)")
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy")
ax.set_title(f"LRAClassifier on {name}")
ax.legend()
plt.show()
