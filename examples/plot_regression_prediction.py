"""
=================================
Regression: predictions and truth
=================================

:class:`~skgf.ZORBRegressor` on Friedman's first regression problem
(:func:`~sklearn.datasets.make_friedman1`), next to scikit-learn's
:class:`~sklearn.neural_network.MLPRegressor`. Each panel plots the
predicted against the true target on held-out data; a perfect model puts
every point on the diagonal.

ZORB is shown twice: with the paper's rule, and with
``random_feature_weight=3``, an extension that keeps part of each hidden
unit's random projection in its target (see :ref:`zorb`). With a single
target column the paper's rule gives hidden units that all follow ``y``, and
the fit is close to a linear model's; the random features restore the
non-linear fit.
"""

# %%
import time
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgf import ZORBRegressor

X, y = make_friedman1(n_samples=3000, noise=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

models = {
    "ZORB (paper's rule)": ZORBRegressor(hidden_layer_sizes=(512,), random_state=0),
    "ZORB, random_feature_weight=3": ZORBRegressor(
        hidden_layer_sizes=(512,), alpha=1e-2, random_feature_weight=3.0, random_state=0
    ),
    "MLPRegressor": MLPRegressor(hidden_layer_sizes=(64,), max_iter=500, random_state=0),
}

# %%
# Fit each model in the same scaling pipeline, then plot prediction
# against truth.
fig, axes = plt.subplots(1, len(models), figsize=(4 * len(models), 4), sharex=True, sharey=True)
for ax, (name, model) in zip(axes, models.items()):
    pipe = make_pipeline(StandardScaler(), model)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    pred = pipe.predict(X_test)
    r2 = pipe.score(X_test, y_test)
    print(f"{name:<32} R^2 = {r2:.3f}   fit {seconds:.2f} s")
    ax.scatter(y_test, pred, s=6, alpha=0.5)
    lims = [y_test.min(), y_test.max()]
    ax.plot(lims, lims, color="black", linewidth=1)
    ax.set_title(f"{name}\nR² = {r2:.3f}, fit {seconds:.2f} s", fontsize=10)
    ax.set_xlabel("true y")
axes[0].set_ylabel("predicted y")
fig.tight_layout()
plt.show()
