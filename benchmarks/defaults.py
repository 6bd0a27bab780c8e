"""Defaults benchmark (issue 11): every estimator with default parameters.

Every skgf estimator, with its default parameters (``random_state`` only),
inside ``make_pipeline(StandardScaler(), est)``, next to the linear model
(``Ridge`` / ``LogisticRegression``), scikit-learn's MLP and
``HistGradientBoosting``, on the bundled sets (diabetes, friedman1, iris,
wine, breast cancer, digits) and, with ``--data-dir``, the tabular sets of
the shared data folder (rows subsampled to ``--max-rows``), over 3 seeded
75/25 splits. It prints one table (mean test score over the splits; ``*``
marks a pair that falls more than ``--margin`` below the linear model on
some split, ``!`` a negative R^2 where the linear model's is positive) and
the count of (estimator, set) pairs below the linear model.

``--far-out`` builds the awkward variant of issue 11: in the test part of
every split, three rows get one feature pushed 10, 30 and 100 training
standard deviations out (the feature the linear model weighs least, so that
the linear model barely notices while an unbounded extrapolation does), the
target unchanged.

Run from the project root::

    python -m benchmarks.defaults --quick
    python -m benchmarks.defaults
    python -m benchmarks.defaults --far-out
    python -m benchmarks.defaults --data-dir ../shared/data [--far-out]
"""

import argparse
import os
import pathlib
import time
import warnings

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_friedman1,
)
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skgf

METHODS = ("ZORB", "RSO", "LRA", "SemiImplicitBP")
SHARED_REGRESSION = ("airfoil", "concrete", "parkinsons", "pol", "elevators", "kin40k", "protein")
SHARED_CLASSIFICATION = ("adult", "letter", "magic")
FAR_OUT_SIGMAS = (10.0, 30.0, 100.0)


def estimators(task):
    """(label, estimator) pairs; the linear model comes first."""
    if task == "classification":
        refs = [
            ("Linear", LogisticRegression(max_iter=1000)),
            ("MLP", MLPClassifier(random_state=0)),
            ("HGB", HistGradientBoostingClassifier(random_state=0)),
        ]
        kind = "Classifier"
    else:
        refs = [
            ("Linear", Ridge()),
            ("MLP", MLPRegressor(random_state=0)),
            ("HGB", HistGradientBoostingRegressor(random_state=0)),
        ]
        kind = "Regressor"
    return refs + [(m, getattr(skgf, m + kind)(random_state=0)) for m in METHODS]


def bundled_sets(quick):
    n_friedman = 1000 if quick else 2000
    sets = [
        ("diabetes", "regression", lambda: load_diabetes(return_X_y=True)),
        (
            "friedman1",
            "regression",
            lambda: make_friedman1(n_samples=n_friedman, noise=1.0, random_state=0),
        ),
        ("iris", "classification", lambda: load_iris(return_X_y=True)),
        ("wine", "classification", lambda: load_wine(return_X_y=True)),
        ("breast_cancer", "classification", lambda: load_breast_cancer(return_X_y=True)),
        ("digits", "classification", lambda: load_digits(return_X_y=True)),
    ]
    if quick:
        sets = [s for s in sets if s[0] != "digits"]
    return sets


def shared_sets(data_dir, max_rows):
    folder = pathlib.Path(data_dir)
    for names, task in (
        (SHARED_REGRESSION, "regression"),
        (SHARED_CLASSIFICATION, "classification"),
    ):
        for name in names:
            path = folder / f"{name}.npz"
            if not path.exists():
                print(f"  {path} not found; skipped.")
                continue

            def load(path=path):
                with np.load(path, allow_pickle=False) as f:
                    X, y = f["X"].astype(np.float64), f["y"]
                if X.shape[0] > max_rows:  # a seeded subsample, the same for every split
                    rows = np.random.default_rng(0).choice(X.shape[0], max_rows, replace=False)
                    X, y = X[rows], y[rows]
                return X, y

            yield name, task, load


def far_out(X_train, X_test, y_train, task, seed):
    """``X_test`` with three rows pushed far out on the feature the linear
    model weighs least (standardised coefficients)."""
    scaler = StandardScaler().fit(X_train)
    Z = scaler.transform(X_train)
    if task == "regression":
        weight = np.abs(Ridge().fit(Z, y_train).coef_).reshape(-1, Z.shape[1]).sum(axis=0)
    else:
        weight = np.abs(LogisticRegression(max_iter=1000).fit(Z, y_train).coef_).sum(axis=0)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    weight = np.where(scaler.scale_ > 0, weight, np.inf)  # constant columns stay
    feature = int(np.argmin(weight))
    rng = np.random.default_rng(seed)
    rows = rng.choice(X_test.shape[0], len(FAR_OUT_SIGMAS), replace=False)
    X_test = X_test.copy()
    for row, sigmas in zip(rows, FAR_OUT_SIGMAS):
        sign = rng.choice((-1.0, 1.0))
        X_test[row, feature] = scaler.mean_[feature] + sign * sigmas * scale[feature]
    return X_test


def run_split(name, task, load, seed, far, labels):
    X, y = load()
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=stratify
    )
    if far:
        X_test = far_out(X_train, X_test, y_train, task, seed)
    rows = []
    for label, est in estimators(task):
        if labels and label not in labels and label != "Linear":
            continue
        model = make_pipeline(StandardScaler(), clone(est))
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        fit_s = time.perf_counter() - start
        score = float(model.score(X_test, y_test))
        rows.append(
            {"set": name, "split": seed, "estimator": label, "score": score, "fit_s": fit_s}
        )
    return rows


def summarise(rows, margin):
    """The table and the pairs below the linear model."""
    sets = list(dict.fromkeys(r["set"] for r in rows))
    labels = list(dict.fromkeys(r["estimator"] for r in rows))
    score = {(r["set"], r["estimator"], r["split"]): r["score"] for r in rows}
    fit = {}
    for r in rows:
        fit.setdefault((r["set"], r["estimator"]), []).append(r["fit_s"])
    splits = sorted({r["split"] for r in rows})
    below, negative = [], []
    width = max(len(s) for s in sets) + 2
    head = f"{'set':<{width}}" + "".join(f"{lab:>16}" for lab in labels)
    lines = [head, "-" * len(head)]
    for s in sets:
        cells = []
        for lab in labels:
            vals = [score.get((s, lab, k)) for k in splits]
            if any(v is None for v in vals):
                cells.append(f"{'-':>16}")
                continue
            lin = [score[(s, "Linear", k)] for k in splits]
            mark = ""
            if lab != "Linear":
                gaps = [v - w for v, w in zip(vals, lin)]
                if min(gaps) < -margin:
                    mark += "*"
                    below.append((lab, s, min(gaps)))
                if any(v < 0 < w for v, w in zip(vals, lin)):
                    mark += "!"
                    negative.append((lab, s, min(vals)))
            t = np.mean(fit[(s, lab)])
            cells.append(f"{np.mean(vals):>8.3f}{mark:<2}{t:>5.1f}s")
        lines.append(f"{s:<{width}}" + "".join(cells))
    return lines, below, negative


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sets, 1 split, small friedman1")
    parser.add_argument("--data-dir", default=None, help="the shared data folder")
    parser.add_argument("--far-out", action="store_true", help="far-out rows in the test parts")
    parser.add_argument("--splits", type=int, default=None, help="seeded splits (default 3)")
    parser.add_argument("--max-rows", type=int, default=5000, help="subsample shared sets")
    parser.add_argument("--margin", type=float, default=0.02, help="allowed gap to linear")
    parser.add_argument("--only", nargs="*", default=None, help="estimator labels to run")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    n_splits = args.splits or (1 if args.quick else 3)
    sets = list(bundled_sets(args.quick))
    if args.data_dir:
        sets += list(shared_sets(args.data_dir, args.max_rows))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    start = time.perf_counter()
    jobs = [
        delayed(run_split)(name, task, load, seed, args.far_out, args.only)
        for name, task, load in sets
        for seed in range(n_splits)
    ]
    results = Parallel(n_jobs=args.jobs)(jobs)
    rows = [r for part in results for r in part]
    lines, below, negative = summarise(rows, args.margin)
    variant = " with far-out test rows" if args.far_out else ""
    print(
        f"\nDefaults benchmark{variant}: test score (accuracy / R^2), mean of "
        f"{n_splits} split(s), and mean fit time. * = more than {args.margin} below "
        "Linear on some split; ! = negative R^2 where Linear's is positive.\n"
    )
    print("\n".join(lines))
    print(f"\n{len(below)} (estimator, set) pairs below the linear model:")
    for lab, s, gap in sorted(below):
        print(f"  {lab:<16} {s:<16} worst split {gap:+.3f}")
    print(f"{len(negative)} pairs with negative R^2 where Linear's is positive:")
    for lab, s, v in sorted(negative):
        print(f"  {lab:<16} {s:<16} worst split {v:+.3f}")
    print(f"\n{time.perf_counter() - start:.0f} s in all")
    return rows, below, negative


if __name__ == "__main__":
    main()
