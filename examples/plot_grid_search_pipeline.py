"""
=========================================
A pipeline and a grid search around skgf
=========================================

skgf estimators are ordinary scikit-learn estimators: they go into a
:class:`~sklearn.pipeline.Pipeline`, their parameters are searched by
:class:`~sklearn.model_selection.GridSearchCV`, and the search runs its
candidates in parallel through joblib (``n_jobs``).
"""

# %%
# Breast-cancer data: 569 samples, 30 features of very different scales,
# standardised inside the pipeline so that each cross-validation fold is
# scaled on its own training part.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgf import ZORBClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = make_pipeline(StandardScaler(), ZORBClassifier(random_state=0))

# %%
# Search the hidden width and the ridge penalty with 5-fold cross-validation
# on two worker processes.
param_grid = {
    "zorbclassifier__hidden_layer_sizes": [(16,), (64,), (256,)],
    "zorbclassifier__alpha": [1e-4, 1e-2, 1.0, 10.0],
}
search = GridSearchCV(pipe, param_grid, cv=5, n_jobs=2)
search.fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"cross-validated accuracy: {search.best_score_:.3f}")
print(f"test accuracy of the refitted pipeline: {search.score(X_test, y_test):.3f}")

# %%
# Mean cross-validated accuracy of every candidate.
results = pd.DataFrame(search.cv_results_)
table = results.pivot_table(
    index="param_zorbclassifier__hidden_layer_sizes",
    columns="param_zorbclassifier__alpha",
    values="mean_test_score",
)

fig, ax = plt.subplots(figsize=(5.5, 3.5))
image = ax.imshow(table.to_numpy(), cmap="viridis")
ax.set_xticks(np.arange(table.shape[1]), [f"{a:g}" for a in table.columns])
ax.set_yticks(np.arange(table.shape[0]), [str(h) for h in table.index])
ax.set_xlabel("alpha")
ax.set_ylabel("hidden_layer_sizes")
for i in range(table.shape[0]):
    for j in range(table.shape[1]):
        ax.text(j, i, f"{table.iat[i, j]:.3f}", ha="center", va="center", color="white")
fig.colorbar(image, ax=ax, label="mean CV accuracy")
fig.tight_layout()
plt.show()
