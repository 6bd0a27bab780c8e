"""Data helpers that the per-method benchmarks and ``run.py`` share."""

import os

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def load_images(data_dir, name="mnist"):
    """``X_train, y_train, X_test, y_test`` of an MNIST-style set of the
    shared data folder, pixels scaled to [0, 1] in float32, or ``None`` if
    the folder or its ``{name}.npz`` is absent."""
    path = os.path.join(data_dir or "", f"{name}.npz")
    if not data_dir or not os.path.exists(path):
        return None
    with np.load(path) as f:
        return (
            f["X_train"].astype(np.float32) / 255,
            f["y_train"],
            f["X_test"].astype(np.float32) / 255,
            f["y_test"],
        )


def split_scaled(X, y):
    """75/25 split (``random_state=0``), ``StandardScaler`` fitted on the
    training part: ``X_train, X_test, y_train, y_test``."""
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test
