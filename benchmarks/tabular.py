"""Tabular regression benchmark: every skgf regressor against scikit-learn.

Protocol (after the usual tabular benchmarks, e.g. Grinsztajn et al. 2022):

* every data set is split several times (``--splits``) into train, validation
  and test parts by a seeded random permutation; the training part is capped
  at ``--max-train`` rows, validation and test at ``--max-eval`` rows;
* every model sits in the same pipeline: a feature map, then the model, the
  target standardised through ``TransformedTargetRegressor``. The feature
  map is part of every model's grid: a ``QuantileTransformer`` (normal
  output) or a ``StandardScaler`` (``--features`` narrows the choice);
* every model has a small hyperparameter grid, each setting tried with each
  feature map; each is fitted on the training part and scored (R^2) on the
  validation part; the one with the best validation R^2 gives that split's
  test R^2 and times.

Models: scikit-learn's ``Ridge``, ``Nystroem`` + ``Ridge`` (the closed-form
random-feature reference, ``NystroemRidge``), ``MLPRegressor`` and
``HistGradientBoostingRegressor``, plus every name in ``skgf.__all__`` that
ends in ``Regressor`` (new estimators join automatically; their grid comes
from ``GRIDS`` by class name, or their defaults when they have none there).

Data: the bundled ``diabetes`` and ``friedman1`` sets, and the regression
sets of the shared data folder (``--data-dir``, else ``$SKGF_DATA``, else
``../shared/data``) that are present.

Outputs (``--out-dir``, default ``benchmarks/results``): ``<name>.csv`` with
one row per fitted setting (written as it goes; a rerun resumes from it),
``<name>.md`` with the tables and ``<name>.png`` with the plot; ``<name>`` is
``tabular`` or ``tabular_quick``.

Usage::

    OMP_NUM_THREADS=1 python -m benchmarks.tabular            # full run
    python -m benchmarks.tabular --quick                       # < 2 minutes
    python -m benchmarks.tabular --sets concrete,airfoil --models Ridge,ZORBRegressor
    python -m benchmarks.tabular --device cuda                 # skgf on the GPU
"""

import argparse
import csv
import json
import math
import os
import pathlib
import sys
import time
import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "benchmarks" / "results"
DEFAULT_DATA = ROOT.parent / "shared" / "data"

# Regression sets of the shared data folder (its README), small to large.
SHARED_SETS = ("airfoil", "concrete", "parkinsons", "pol", "elevators", "kin40k", "protein")
BUNDLED_SETS = ("diabetes", "friedman1")
QUICK_SETS = ("diabetes", "friedman1", "concrete")

SKLEARN_MODELS = ("Ridge", "NystroemRidge", "MLPRegressor", "HistGradientBoostingRegressor")

# Feature maps in front of every model, each one more setting of its grid.
# The quantile map is the default one: a setting without a "features" entry
# uses it (the CSV rows of runs before the choice existed are such settings).
# It tames outliers, but it sends a heavy atom at a feature's minimum (most
# of pol's columns) to the far tail, -5.2, where random-feature models and
# linear ones lose most of their fit (doc/zorb.rst, "Feature maps").
FEATURE_MAPS = ("quantile", "standard")
DEFAULT_FEATURE_MAP = "quantile"

# Hyperparameter grids by class name: a list of settings, each a dict of
# parameters. Parameters an estimator does not have are dropped with a note,
# so a grid written before an estimator's final signature still runs.
GRIDS = {
    "Ridge": [{"alpha": a} for a in (0.1, 1.0, 10.0, 100.0)],
    # scikit-learn's closed-form random-feature reference for ZORB
    # (Nystroem features of an RBF kernel, then ridge regression)
    "NystroemRidge": [{"n_components": 1024, "alpha": a} for a in (0.1, 1.0, 10.0)],
    "MLPRegressor": [
        {"hidden_layer_sizes": (128,), "alpha": 1e-4, "early_stopping": True, "max_iter": 300},
        {"hidden_layer_sizes": (256, 256), "alpha": 1e-4, "early_stopping": True, "max_iter": 300},
        {"hidden_layer_sizes": (256, 256), "alpha": 1e-2, "early_stopping": True, "max_iter": 300},
    ],
    "HistGradientBoostingRegressor": [
        {"learning_rate": 0.1, "max_leaf_nodes": 31},
        {"learning_rate": 0.05, "max_leaf_nodes": 63, "max_iter": 300},
        {"learning_rate": 0.1, "max_leaf_nodes": 15, "l2_regularization": 1.0},
    ],
    # ZORB: the paper's rule, then the documented random-feature extension
    # (it keeps part of each hidden unit's random projection).
    "ZORBRegressor": [
        {"hidden_layer_sizes": (256,), "alpha": 1e-3},
        {"hidden_layer_sizes": (1024,), "alpha": 1e-2},
        {"hidden_layer_sizes": (1024,), "alpha": 1e-2, "random_feature_weight": 1.0},
        {"hidden_layer_sizes": (1024,), "alpha": 1e-2, "random_feature_weight": 3.0},
        {"hidden_layer_sizes": (1024,), "alpha": 1e-2, "random_feature_weight": 10.0},
        # the minimal-change target rule (issue 12): one sweep, and sweeps
        # stopped on a held-out split
        {"hidden_layer_sizes": (1024,), "alpha": 1e-2, "target_rule": "minimal_change"},
        {"hidden_layer_sizes": (1024,), "alpha": 1e-3, "target_rule": "minimal_change"},
        {
            "hidden_layer_sizes": (1024,),
            "alpha": 1e-2,
            "target_rule": "minimal_change",
            "n_sweeps": 5,
            "early_stopping": True,
        },
        # a first layer that is non-linear on few features (issue 12); the
        # landmark units are left out: validation picked them on noise
        # (doc/zorb.rst)
        {
            "hidden_layer_sizes": (1024,),
            "alpha": 1e-2,
            "random_feature_weight": 1.0,
            "weight_init": "normal",
        },
        {
            "hidden_layer_sizes": (1024,),
            "alpha": 1e-2,
            "random_feature_weight": 3.0,
            "weight_init": "normal",
        },
        {
            "hidden_layer_sizes": (1024,),
            "alpha": 1e-3,
            "target_rule": "minimal_change",
            "weight_init": "normal",
        },
    ],
    # The iterative methods: their own step parameters, a fixed epoch budget
    # where early stopping stopped them too soon on the larger sets.
    "RSORegressor": [
        {"hidden_layer_sizes": (32,), "max_iter": 30},
        {"hidden_layer_sizes": (64,), "max_iter": 60},
    ],
    "LRARegressor": [
        {"hidden_layer_sizes": (128,), "early_stopping": True, "max_iter": 200},
        {"hidden_layer_sizes": (256, 256), "early_stopping": True, "max_iter": 200},
        {
            "hidden_layer_sizes": (256, 256),
            "activation": "tanh",
            "early_stopping": True,
            "max_iter": 200,
        },
        # the fixed-feedback extension (feedback alignment; the default
        # Kolen-Pollack rule learns its feedback matrices): one split of
        # airfoil, parkinsons and protein +0.04 to +0.05 R^2, concrete and
        # kin40k -0.01 to -0.02 (doc/lra.rst)
        {
            "hidden_layer_sizes": (256, 256),
            "feedback": "fixed",
            "early_stopping": True,
            "max_iter": 200,
        },
    ],
    "SemiImplicitBPRegressor": [
        {"hidden_layer_sizes": (128,), "max_iter": 50},
        {"hidden_layer_sizes": (256, 256), "proximal_weight": 0.1, "max_iter": 50},
        {
            "hidden_layer_sizes": (256, 256),
            "activation": "tanh",
            "proximal_weight": 0.1,
            "max_iter": 50,
        },
    ],
}

# --quick: one or two cheap settings per model.
QUICK_GRIDS = {
    "Ridge": [{"alpha": 1.0}, {"alpha": 10.0}],
    "NystroemRidge": [{"n_components": 256, "alpha": 1.0}],
    "MLPRegressor": [{"hidden_layer_sizes": (64,), "max_iter": 300}],
    "HistGradientBoostingRegressor": [{"max_iter": 100}],
    "ZORBRegressor": [
        {"hidden_layer_sizes": (256,), "alpha": 1e-3},
        {"hidden_layer_sizes": (512,), "alpha": 1e-2, "random_feature_weight": 3.0},
        {"hidden_layer_sizes": (256,), "alpha": 1e-2, "target_rule": "minimal_change"},
    ],
    "RSORegressor": [{"hidden_layer_sizes": (16,), "max_iter": 5}],
    "LRARegressor": [{"hidden_layer_sizes": (64,), "max_iter": 200}],
    "SemiImplicitBPRegressor": [{"hidden_layer_sizes": (64,), "max_iter": 50}],
}

CSV_FIELDS = (
    "dataset",
    "split",
    "model",
    "params",
    "n_train",
    "n_val",
    "n_test",
    "n_features",
    "val_r2",
    "test_r2",
    "fit_s",
    "predict_s",
    "device",
    "status",
    "message",
)


# --------------------------------------------------------------------- data
def data_dir(path=None):
    """The shared data folder: ``path``, ``$SKGF_DATA`` or ``../shared/data``."""
    return pathlib.Path(path or os.environ.get("SKGF_DATA") or DEFAULT_DATA)


def available_sets(folder):
    """Bundled sets plus the shared regression sets present in ``folder``."""
    return list(BUNDLED_SETS) + [s for s in SHARED_SETS if (folder / f"{s}.npz").exists()]


def load_set(name, folder):
    """``(X, y)`` of one data set as float64 arrays."""
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True)
    elif name == "friedman1":
        from sklearn.datasets import make_friedman1

        X, y = make_friedman1(n_samples=2000, n_features=10, noise=1.0, random_state=0)
    else:
        path = folder / f"{name}.npz"
        if not path.exists():
            raise FileNotFoundError(
                f"data set {name!r}: {path} not found (pass --data-dir or set "
                "SKGF_DATA to the shared data folder)"
            )
        with np.load(path, allow_pickle=False) as f:
            X, y = f["X"], f["y"]
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64).ravel()


def split_indices(n, seed, max_train, max_eval):
    """Train / validation / test indices of one split.

    Test and validation each take 20 % of the rows (at most ``max_eval``);
    the training part takes the rest, at most ``max_train`` rows.
    """
    order = np.random.RandomState(seed).permutation(n)
    n_eval = max(1, min(int(round(0.2 * n)), max_eval))
    test, val = order[:n_eval], order[n_eval : 2 * n_eval]
    train = order[2 * n_eval : 2 * n_eval + max_train]
    return train, val, test


# ------------------------------------------------------------------- models
def skgf_regressors():
    """``{name: class}`` of every regressor that ``skgf`` exports."""
    import skgf

    return {name: getattr(skgf, name) for name in skgf.__all__ if name.endswith("Regressor")}


class NystroemRidge(RegressorMixin, BaseEstimator):
    """``make_pipeline(Nystroem(n_components), Ridge(alpha))`` as one
    estimator, so that it takes a grid like the other models."""

    def __init__(self, n_components=1024, gamma=None, alpha=1.0, random_state=None):
        self.n_components = n_components
        self.gamma = gamma
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, X, y):
        from sklearn.kernel_approximation import Nystroem
        from sklearn.linear_model import Ridge
        from sklearn.pipeline import make_pipeline

        features = Nystroem(
            gamma=self.gamma,
            n_components=min(self.n_components, X.shape[0]),
            random_state=self.random_state,
        )
        self.pipeline_ = make_pipeline(features, Ridge(alpha=self.alpha)).fit(X, y)
        return self

    def predict(self, X):
        return self.pipeline_.predict(X)


def all_models():
    """``{name: class}`` of every benchmarked model, scikit-learn's first."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import Ridge
    from sklearn.neural_network import MLPRegressor

    models = {
        "Ridge": Ridge,
        "NystroemRidge": NystroemRidge,
        "MLPRegressor": MLPRegressor,
        "HistGradientBoostingRegressor": HistGradientBoostingRegressor,
    }
    models.update(skgf_regressors())
    return models


def grid_for(name, cls, quick=False):
    """Settings to try for model ``name``, restricted to ``cls``'s parameters."""
    grids = QUICK_GRIDS if quick else GRIDS
    grid = grids.get(name) or GRIDS.get(name) or [{}]
    known = set(cls().get_params())
    out = []
    for setting in grid:
        dropped = sorted(set(setting) - known)
        if dropped:
            print(f"  note: {name} has no parameter(s) {dropped}; dropped from its grid")
        kept = {k: v for k, v in setting.items() if k in known}
        if kept not in out:
            out.append(kept)
    return out


def with_feature_maps(grid, feature_maps=FEATURE_MAPS):
    """Every setting of ``grid`` once per feature map (the default map as the
    setting itself, the others with a ``"features"`` entry)."""
    return [
        dict(setting) if name == DEFAULT_FEATURE_MAP else {**setting, "features": name}
        for name in feature_maps
        for setting in grid
    ]


def make_pipeline(cls, params, n_train, seed, device):
    """The shared pipeline around one model: its feature map (``params``'
    ``"features"`` entry, quantile by default), the model with the rest of
    ``params``, and the standardised target."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import QuantileTransformer, StandardScaler

    params = dict(params)
    feature_map = params.pop("features", DEFAULT_FEATURE_MAP)
    est = cls()
    extra = {}
    names = est.get_params()
    if "random_state" in names:
        extra["random_state"] = seed
    if device is not None and "device" in names:
        extra["device"] = device
    est.set_params(**{**params, **extra})
    if feature_map == "quantile":
        features = QuantileTransformer(
            output_distribution="normal",
            n_quantiles=min(1000, n_train),
            subsample=None,
            random_state=seed,
        )
    elif feature_map == "standard":
        features = StandardScaler()
    else:
        raise ValueError(f"unknown feature map {feature_map!r}; choose from {FEATURE_MAPS}")
    return TransformedTargetRegressor(
        regressor=Pipeline([(feature_map, features), ("model", est)]), transformer=StandardScaler()
    )


def params_key(params):
    """Canonical JSON text of a setting (tuples as lists, sorted keys)."""
    return json.dumps(params, sort_keys=True, default=list)


# --------------------------------------------------------------------- runs
def r2(y, pred):
    from sklearn.metrics import r2_score

    return float(r2_score(y, pred))


def fit_one(cls, params, data, seed, device):
    """Fit one setting; return the CSV fields it produced."""
    X_tr, y_tr, X_va, y_va, X_te, y_te = data
    model = make_pipeline(cls, params, X_tr.shape[0], seed, device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning etc.: we report R^2
        start = time.perf_counter()
        model.fit(X_tr, y_tr)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        pred_te = np.asarray(model.predict(X_te))
        predict_s = time.perf_counter() - start
        pred_va = np.asarray(model.predict(X_va))
    return {
        "val_r2": r2(y_va, pred_va),
        "test_r2": r2(y_te, pred_te),
        "fit_s": fit_s,
        "predict_s": predict_s,
        "status": "ok",
        "message": "",
    }


def read_done(csv_path):
    """Rows already in ``csv_path`` (resume), keyed by (set, split, model, params)."""
    done = {}
    if csv_path.exists():
        with open(csv_path, newline="") as f:
            for row in csv.DictReader(f):
                done[(row["dataset"], int(row["split"]), row["model"], row["params"])] = row
    return done


def drop_models(csv_path, models):
    """Remove the rows of ``models`` from ``csv_path`` (for ``--redo``)."""
    with open(csv_path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["model"] not in models]
    with open(csv_path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


class Progress:
    """One line per fitted setting, with a running count and an ETA."""

    def __init__(self, total, stream=None):
        self.total, self.done, self.start = total, 0, time.perf_counter()
        self.stream = stream or sys.stdout

    def step(self, text):
        self.done += 1
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        print(
            f"[{self.done:>{len(str(self.total))}}/{self.total}] {text} "
            f"(elapsed {elapsed:.0f} s, ETA {eta:.0f} s)",
            file=self.stream,
            flush=True,
        )


def run(sets, models, grids, n_splits, out_csv, folder, max_train, max_eval, device=None):
    """Fit every (set, split, model, setting) not yet in ``out_csv``."""
    done = read_done(out_csv)
    catalogue = all_models()
    todo = [
        (s, k, m, p)
        for s in sets
        for k in range(n_splits)
        for m in models
        for p in grids[m]
        if (s, k, m, params_key(p)) not in done
    ]
    n_done = sum(len(grids[m]) for m in models) * len(sets) * n_splits - len(todo)
    print(f"{len(todo)} fits to run ({n_done} already in {out_csv})", flush=True)
    if not todo:
        return
    progress = Progress(len(todo))
    new_file = not out_csv.exists() or out_csv.stat().st_size == 0
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(out_csv, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        if new_file:
            writer.writeheader()
        cache = {}
        for dataset, split, model, params in todo:
            if dataset not in cache:
                cache.clear()
                cache[dataset] = load_set(dataset, folder)
            X, y = cache[dataset]
            tr, va, te = split_indices(X.shape[0], split, max_train, max_eval)
            data = (X[tr], y[tr], X[va], y[va], X[te], y[te])
            row = {
                "dataset": dataset,
                "split": split,
                "model": model,
                "params": params_key(params),
                "n_train": tr.size,
                "n_val": va.size,
                "n_test": te.size,
                "n_features": X.shape[1],
                "device": device or "cpu",
            }
            try:
                row.update(fit_one(catalogue[model], params, data, split, device))
                text = (
                    f"{dataset} split {split} {model} {row['params']}: "
                    f"val R2 {row['val_r2']:.3f}, fit {row['fit_s']:.2f} s"
                )
            except Exception as exc:  # a failing setting must not stop the run
                row.update(
                    {
                        "val_r2": math.nan,
                        "test_r2": math.nan,
                        "fit_s": math.nan,
                        "predict_s": math.nan,
                        "status": "error",
                        "message": f"{type(exc).__name__}: {exc}"[:300],
                    }
                )
                text = f"{dataset} split {split} {model}: FAILED {row['message']}"
            writer.writerow(row)
            f.flush()
            progress.step(text)


# ------------------------------------------------------------------ reports
def select(rows):
    """Per (set, split, model): the setting with the best validation R^2."""
    best = {}
    for row in rows:
        if row["status"] != "ok" or not math.isfinite(float(row["val_r2"])):
            continue
        key = (row["dataset"], int(row["split"]), row["model"])
        if key not in best or float(row["val_r2"]) > float(best[key]["val_r2"]):
            best[key] = row
    return best


def summarise(rows, sets, models):
    """Mean / std of the selected settings' test R^2 and times, and ranks.

    Returns ``(stats, ranks)``: ``stats[(set, model)]`` holds ``r2``, ``fit``
    and ``predict`` arrays over splits and ``tune`` (total fit seconds of the
    whole grid per split); ``ranks[model]`` is the model's rank of mean test
    R^2 on each set (1 = best; ties share the mean rank).
    """
    best = select(rows)
    stats = {}
    for s in sets:
        for m in models:
            chosen = [best[k] for k in sorted(best) if k[0] == s and k[2] == m]
            tune = {}
            for row in rows:
                if row["dataset"] == s and row["model"] == m and row["status"] == "ok":
                    tune[row["split"]] = tune.get(row["split"], 0.0) + float(row["fit_s"])
            if chosen:
                stats[(s, m)] = {
                    "r2": np.array([float(r["test_r2"]) for r in chosen]),
                    "fit": np.array([float(r["fit_s"]) for r in chosen]),
                    "predict": np.array([float(r["predict_s"]) for r in chosen]),
                    "tune": np.array(list(tune.values())),
                    "params": _most_common([r["params"] for r in chosen]),
                }
    ranks = {m: [] for m in models}
    for s in sets:
        scores = [(stats[(s, m)]["r2"].mean(), m) for m in models if (s, m) in stats]
        if len(scores) < 2:
            continue
        values = np.array([-v for v, _ in scores])
        order = _average_ranks(values)
        for (_, m), rank in zip(scores, order):
            ranks[m].append(rank)
    return stats, ranks


def _most_common(items):
    """The most frequent item; among equally frequent ones the first (the
    earliest split's), so that the report does not depend on hash order."""
    return max(items, key=items.count)


def _average_ranks(values):
    """Ranks of ``values`` (smallest = 1), ties sharing their mean rank."""
    from scipy.stats import rankdata

    return rankdata(values, method="average")


def markdown(stats, ranks, sets, models, machine):
    """The markdown report: R^2 table, time table, average rank, settings."""

    def cell(s, m, key, fmt):
        if (s, m) not in stats:
            return "–"
        v = stats[(s, m)][key]
        return f"{fmt.format(v.mean())} ± {fmt.format(v.std())}"

    def short(m):
        return m.replace("Regressor", "").replace("HistGradientBoosting", "HGB")

    head = "| data set | " + " | ".join(short(m) for m in models) + " |"
    rule = "|---|" + "---|" * len(models)
    n_splits = max((len(v["r2"]) for v in stats.values()), default=0)
    lines = [
        f"Machine: {machine}",
        "",
        f"Test R² of the setting with the best validation R², mean ± std "
        f"over {n_splits} splits (higher is better); the best mean per set in bold.",
        "",
        head,
        rule,
    ]
    for s in sets:
        means = {m: stats[(s, m)]["r2"].mean() for m in models if (s, m) in stats}
        top = max(means.values()) if means else None
        cells = []
        for m in models:
            c = cell(s, m, "r2", "{:.3f}")
            cells.append(f"**{c}**" if (s, m) in stats and means[m] == top else c)
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    lines.append(
        "| **average rank** | "
        + " | ".join(f"{np.mean(ranks[m]):.2f}" if ranks[m] else "–" for m in models)
        + " |"
    )
    lines += [
        "",
        "Fit seconds of the chosen setting, mean ± std over splits "
        "(wall clock; predict time in the CSV):",
        "",
        head,
        rule,
    ]
    for s in sets:
        lines.append(f"| {s} | " + " | ".join(cell(s, m, "fit", "{:.2f}") for m in models) + " |")
    lines += [
        "",
        "Setting chosen most often per model and set:",
        "",
        "| data set | model | parameters |",
        "|---|---|---|",
    ]
    for s in sets:
        for m in models:
            if (s, m) in stats:
                lines.append(f"| {s} | {short(m)} | `{_shown(stats[(s, m)]['params'])}` |")
    return "\n".join(lines) + "\n"


def _shown(params):
    """A setting's JSON text with its feature map named (the quantile map
    is the default, absent from the stored text)."""
    setting = json.loads(params)
    setting.setdefault("features", DEFAULT_FEATURE_MAP)
    return params_key(setting)


def plot(stats, ranks, sets, models, path):
    """R^2 against fit time, one panel per set, plus the average-rank bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    n_panels = len(sets) + 1
    cols = min(4, n_panels)
    rows = math.ceil(n_panels / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.4 * rows), squeeze=False)
    colours = plt.get_cmap("tab10")
    for i, s in enumerate(sets):
        ax = axes.flat[i]
        for j, m in enumerate(models):
            if (s, m) not in stats:
                continue
            st = stats[(s, m)]
            ax.errorbar(
                max(st["fit"].mean(), 1e-4),
                st["r2"].mean(),
                yerr=st["r2"].std(),
                fmt="o",
                color=colours(j % 10),
                label=m,
                capsize=3,
            )
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(s)
        ax.set_xlabel("fit seconds")
        ax.set_ylabel("test R²")
        ax.grid(alpha=0.3)
    ax = axes.flat[len(sets)]
    ranked = [m for m in models if ranks[m]]
    ax.barh(
        [m.replace("Regressor", "") for m in ranked],
        [np.mean(ranks[m]) for m in ranked],
        color=[colours(models.index(m) % 10) for m in ranked],
    )
    ax.invert_yaxis()
    ax.set_xlabel("average rank (lower is better)")
    ax.set_title("average rank")
    for ax in list(axes.flat)[n_panels:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(
        handles, labels, loc="lower center", ncol=min(len(labels), 4), bbox_to_anchor=(0.5, 0.0)
    )
    fig.tight_layout(rect=(0, 0.07 if rows > 1 else 0.12, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def machine_name():
    """A short description of the machine, for the report."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    return f"{cpu}, {os.cpu_count()} cores, OMP_NUM_THREADS={threads}"


def report(out_csv, sets, models, n_splits, grids, device=None, machine=None):
    """Write ``.md`` and ``.png`` next to ``out_csv``; return the markdown.

    Only rows of the requested sets, models, splits and grid settings count,
    so a CSV holding more (an earlier, larger run) reports this run's protocol.
    ``machine`` replaces the report's machine line (this machine's name),
    for a CSV whose columns were fitted on different machines.
    """
    wanted = {(m, params_key(p)) for m in models for p in grids[m]}
    with open(out_csv, newline="") as f:
        rows = [
            r
            for r in csv.DictReader(f)
            if r["dataset"] in sets
            and int(r["split"]) < n_splits
            and (r["model"], r["params"]) in wanted
        ]
    stats, ranks = summarise(rows, sets, models)
    machine = machine or machine_name()
    if device:
        machine += f", skgf models on device={device}"
    text = markdown(stats, ranks, sets, models, machine)
    out_csv.with_suffix(".md").write_text(text)
    plot(stats, ranks, sets, models, out_csv.with_suffix(".png"))
    return text


# ---------------------------------------------------------------------- CLI
def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.tabular",
        description="Tabular regression benchmark of skgf against scikit-learn.",
    )
    p.add_argument(
        "--data-dir",
        default=None,
        help="shared data folder (default: $SKGF_DATA or ../shared/data)",
    )
    p.add_argument(
        "--out-dir",
        default=str(DEFAULT_OUT),
        help="where the CSV, markdown and PNG go (default: benchmarks/results)",
    )
    p.add_argument(
        "--sets",
        default=None,
        help=f"comma-separated data sets (default: all present; --quick: {','.join(QUICK_SETS)})",
    )
    p.add_argument(
        "--models", default=None, help="comma-separated model class names (default: all)"
    )
    p.add_argument(
        "--splits",
        type=int,
        default=None,
        help="train/validation/test splits per set (default 3; --quick 2)",
    )
    p.add_argument(
        "--max-train",
        type=int,
        default=None,
        help="cap on training rows (default 10000; --quick 600)",
    )
    p.add_argument(
        "--max-eval",
        type=int,
        default=None,
        help="cap on validation and test rows each (default 5000; --quick 400)",
    )
    p.add_argument(
        "--quick", action="store_true", help="small sets, 2 splits, one or two settings per model"
    )
    p.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default=None,
        help="device of the skgf models (scikit-learn's run on the CPU)",
    )
    p.add_argument(
        "--name", default=None, help="file stem of the outputs (default: tabular or tabular_quick)"
    )
    p.add_argument(
        "--machine",
        default=None,
        help="the report's machine line, when the CSV's columns come from several machines",
    )
    p.add_argument(
        "--features",
        default=",".join(FEATURE_MAPS),
        help="comma-separated feature maps tried with every setting "
        f"(default: {','.join(FEATURE_MAPS)}; 'quantile' alone is the protocol before stop 24)",
    )
    p.add_argument(
        "--fresh", action="store_true", help="discard an existing CSV instead of resuming from it"
    )
    p.add_argument(
        "--redo",
        default=None,
        help="comma-separated models whose rows are dropped from the CSV "
        "and fitted again (e.g. after a change to an estimator)",
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    folder = data_dir(args.data_dir)
    known_sets = available_sets(folder)
    if args.sets:
        sets = [s.strip() for s in args.sets.split(",") if s.strip()]
        unknown = [s for s in sets if s not in BUNDLED_SETS + SHARED_SETS]
        if unknown:
            raise SystemExit(
                f"unknown data set(s) {unknown}; choose from {list(BUNDLED_SETS + SHARED_SETS)}"
            )
        missing = [s for s in sets if s not in known_sets]
        if missing:
            raise SystemExit(
                f"data set(s) {missing} not found in {folder} (pass --data-dir or set SKGF_DATA)"
            )
    elif args.quick:
        sets = [s for s in QUICK_SETS if s in known_sets]
    else:
        sets = known_sets
    catalogue = all_models()
    if args.models:
        models = [m.strip() for m in args.models.split(",") if m.strip()]
        unknown = [m for m in models if m not in catalogue]
        if unknown:
            raise SystemExit(f"unknown model(s) {unknown}; choose from {list(catalogue)}")
    else:
        models = list(catalogue)
    if args.device == "cuda":
        from skgf._array_api import cupy_namespace

        try:
            cupy_namespace()
        except ValueError as exc:
            raise SystemExit(str(exc)) from exc
    n_splits = args.splits or (2 if args.quick else 3)
    max_train = args.max_train or (600 if args.quick else 10000)
    max_eval = args.max_eval or (400 if args.quick else 5000)
    name = args.name or ("tabular_quick" if args.quick else "tabular")
    out_csv = pathlib.Path(args.out_dir) / f"{name}.csv"
    if args.fresh and out_csv.exists():
        out_csv.unlink()
    if args.redo and out_csv.exists():
        drop_models(out_csv, {m.strip() for m in args.redo.split(",") if m.strip()})
    print(
        f"sets: {', '.join(sets)}\nmodels: {', '.join(models)}\n"
        f"splits: {n_splits}, max train rows: {max_train}, "
        f"max validation/test rows: {max_eval}, device: {args.device or 'cpu'}",
        flush=True,
    )
    start = time.perf_counter()
    feature_maps = list(dict.fromkeys(f.strip() for f in args.features.split(",") if f.strip()))
    unknown = [f for f in feature_maps if f not in FEATURE_MAPS]
    if unknown or not feature_maps:
        raise SystemExit(f"unknown feature map(s) {unknown}; choose from {list(FEATURE_MAPS)}")
    grids = {
        m: with_feature_maps(grid_for(m, catalogue[m], args.quick), feature_maps) for m in models
    }
    run(sets, models, grids, n_splits, out_csv, folder, max_train, max_eval, device=args.device)
    if not out_csv.exists():
        raise SystemExit(f"nothing was run and {out_csv} does not exist")
    text = report(out_csv, sets, models, n_splits, grids, args.device, args.machine)
    print()
    print(text)
    print(
        f"wrote {out_csv}, {out_csv.with_suffix('.md')}, {out_csv.with_suffix('.png')} "
        f"in {time.perf_counter() - start:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
