"""rec-LRA against scikit-learn's MLP, fitted in the same run.

* digits (75/25 split, StandardScaler, random_state=0): LRAClassifier vs
  MLPClassifier, default parameters;
* friedman1 (5,000 samples, noise 1.0, same split): LRARegressor vs
  MLPRegressor;
* MNIST and Fashion-MNIST (with ``--data-dir``): one hidden layer of 256,
  batch 200, 20 epochs, float32, for both; test accuracy and time per epoch;
* a plot of the training loss per epoch, LRA (Adam and SGD) against
  MLPClassifier (Adam and SGD) on the same data (MNIST when present,
  digits otherwise): ``benchmarks/results/lra_loss_curves.png``.

    python -m benchmarks.bench_lra --data-dir ../shared/data [--quick]
"""

import argparse
import os
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from benchmarks._data import load_images, split_scaled
from skgf._lra import LRAClassifier, LRARegressor

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
HIDDEN = (256,)
EPOCHS = 20


def measure(dataset, label, estimator, data):
    """Fit / predict seconds, test score, epochs and seconds per epoch."""
    X_train, X_test, y_train, y_test = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X_train, y_train)
        fit_s = time.perf_counter() - start
    start = time.perf_counter()
    score = estimator.score(X_test, y_test)
    predict_s = time.perf_counter() - start
    row = {
        "dataset": dataset,
        "estimator": label,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "score": score,
        "epochs": estimator.n_iter_,
        "s_per_epoch": fit_s / estimator.n_iter_,
        "final_loss": float(estimator.loss_curve_[-1]),
    }
    print(
        f"  {dataset:<22} {label:<34} fit {fit_s:7.2f} s  "
        f"({row['s_per_epoch']:.3f} s/epoch, {row['epochs']} epochs)  "
        f"predict {predict_s:6.3f} s  score {score:.4f}",
        flush=True,
    )
    return row, estimator.loss_curve_


def compare_to_mlp(rows):
    """Ratios to the MLP row of the same data set and optimiser (listed first)."""
    base = {}
    for r in rows:
        b = base.setdefault((r["dataset"], "sgd" in r["estimator"]), r)
        r["epoch_time_vs_mlp"] = r["s_per_epoch"] / b["s_per_epoch"]
        r["score_minus_mlp"] = r["score"] - b["score"]


def image_runs(name, data, quick):
    """LRA and MLP (Adam, and SGD for the curves) on one image set."""
    X, y, X_test, y_test = data
    epochs = 5 if quick else EPOCHS
    if quick:
        X, y = X[:10000], y[:10000]
    dataset = f"{name} n={X.shape[0]}"
    common = dict(hidden_layer_sizes=HIDDEN, batch_size=200, max_iter=epochs, random_state=0)
    # a fixed epoch count on every training row (early_stopping="auto" would
    # hold out a split on more than 10,000 rows)
    fixed = dict(common, early_stopping=False)
    fits = [
        ("MLPClassifier adam", MLPClassifier(**common)),
        ("LRAClassifier adam", LRAClassifier(**fixed)),
        (
            "MLPClassifier sgd lr=0.01",
            MLPClassifier(solver="sgd", learning_rate_init=0.01, **common),
        ),
        (
            "LRAClassifier sgd lr=0.01",
            LRAClassifier(solver="sgd", learning_rate_init=0.01, **fixed),
        ),
    ]
    rows, curves = [], {}
    for label, est in fits:
        row, curve = measure(dataset, label, est, (X, X_test, y, y_test))
        rows.append(row)
        curves[label] = curve
    return rows, curves


def plot_loss_curves(curves, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        style = "-" if label.startswith("LRA") else "--"
        color = "C1" if "sgd" in label else "C0"
        ax.plot(
            np.arange(1, len(curve) + 1), curve, style, color=color, marker="o", ms=3, label=label
        )
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean training loss per epoch (cross-entropy)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(data_dir=None, quick=False, out=RESULTS):
    rows = []
    digits = split_scaled(*load_digits(return_X_y=True))
    for label, est in [
        ("MLPClassifier", MLPClassifier(random_state=0)),
        ("LRAClassifier", LRAClassifier(random_state=0)),
    ]:
        rows.append(measure("digits", label, est, digits)[0])
    friedman = split_scaled(*make_friedman1(n_samples=5000, noise=1.0, random_state=0))
    for label, est in [
        ("MLPRegressor", MLPRegressor(random_state=0)),
        ("LRARegressor", LRARegressor(random_state=0)),
    ]:
        rows.append(measure("friedman1 n=5000", label, est, friedman)[0])

    curves, curve_title = None, None
    for name in ("mnist", "fashion_mnist"):
        data = load_images(data_dir, name)
        if data is None:
            print(f"  {name} not found (pass --data-dir); skipped.")
            continue
        image_rows, image_curves = image_runs(name, data, quick)
        rows += image_rows
        if curves is None:
            curves = image_curves
            curve_title = f"{image_rows[0]['dataset']}, hidden {HIDDEN}, batch 200"
    if curves is None:  # no image data: curves on digits
        X_train, _, y_train, _ = digits
        curves = {}
        for label, est in [
            ("MLPClassifier adam", MLPClassifier(max_iter=EPOCHS, random_state=0)),
            ("LRAClassifier adam", LRAClassifier(max_iter=EPOCHS, random_state=0)),
            (
                "MLPClassifier sgd lr=0.01",
                MLPClassifier(
                    solver="sgd", learning_rate_init=0.01, max_iter=EPOCHS, random_state=0
                ),
            ),
            (
                "LRAClassifier sgd lr=0.01",
                LRAClassifier(
                    solver="sgd", learning_rate_init=0.01, max_iter=EPOCHS, random_state=0
                ),
            ),
        ]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                curves[label] = est.fit(X_train, y_train).loss_curve_
        curve_title = "digits, hidden (100,), batch 200"
    compare_to_mlp(rows)
    path = os.path.join(out, "lra_loss_curves.png")
    plot_loss_curves(curves, f"Training loss: {curve_title}", path)
    print(
        f"\n  {'dataset':<22} {'estimator':<34} {'score':>7} {'vs MLP':>8} "
        f"{'s/epoch':>8} {'x MLP epoch time':>17}"
    )
    for r in rows:
        print(
            f"  {r['dataset']:<22} {r['estimator']:<34} {r['score']:7.4f} "
            f"{r['score_minus_mlp']:+8.4f} {r['s_per_epoch']:8.3f} "
            f"{r['epoch_time_vs_mlp']:17.2f}"
        )
    print(f"  loss curves: {path}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=os.environ.get("SKGF_DATA"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    run(args.data_dir, args.quick)
