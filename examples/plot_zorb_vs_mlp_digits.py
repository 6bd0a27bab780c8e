"""
=====================================
ZORB against an MLP on the digits set
=====================================

:class:`~skgf.ZORBClassifier` fits each layer once by least squares, so its
fit time is a handful of matrix products. This example compares it with
scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`, trained by
backpropagation with Adam, on the 8x8 digits: test accuracy against fit time
for a few hidden-layer widths.
"""

# %%
# Data: 1797 images of 64 pixels, scaled to [0, 1].
import time
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from skgf import ZORBClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16.0, y, test_size=0.25, stratify=y, random_state=0
)


def timed_fit(model):
    """Fit ``model``; return (fit seconds, test accuracy)."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return seconds, model.score(X_test, y_test)


# %%
# Fit both families for a few widths. ZORB has no epochs; the MLP gets
# scikit-learn's defaults (Adam, up to 200 epochs).
widths = [32, 128, 512]
results = {"ZORB": [], "MLP": []}
for width in widths:
    results["ZORB"].append(timed_fit(ZORBClassifier(hidden_layer_sizes=(width,), random_state=0)))
    results["MLP"].append(timed_fit(MLPClassifier(hidden_layer_sizes=(width,), random_state=0)))

print(f"{'model':<6}{'width':>7}{'fit s':>9}{'accuracy':>10}")
for name, rows in results.items():
    for width, (seconds, acc) in zip(widths, rows):
        print(f"{name:<6}{width:>7}{seconds:>9.3f}{acc:>10.3f}")

# %%
# Accuracy against fit time (log scale). ZORB's fit is a few least-squares
# solves and takes a fraction of the MLP's time; the MLP, trained by many
# epochs of backpropagation, usually ends up a little more accurate.
fig, ax = plt.subplots(figsize=(6, 4))
for name, marker in [("ZORB", "o"), ("MLP", "s")]:
    seconds, acc = zip(*results[name])
    ax.plot(seconds, acc, marker=marker, label=name)
    for width, s, a in zip(widths, seconds, acc):
        ax.annotate(str(width), (s, a), textcoords="offset points", xytext=(4, 4))
ax.set_xscale("log")
ax.set_xlabel("fit time (s)")
ax.set_ylabel("test accuracy")
ax.set_title("digits: labels = hidden width")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()
