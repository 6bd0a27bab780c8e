"""skgf vs scikit-learn's MLP on the same splits: one table, one plot.

Bundled data by default (digits, breast cancer, friedman1, diabetes);
``--data-dir ../shared/data`` adds MNIST (and each method's own MNIST /
Fashion-MNIST figures). Every row is fitted in this run, next to the MLP
baseline whose time the ratios are taken against.

    python benchmarks/run.py                      # bundled data, ~1 minute
    python benchmarks/run.py --data-dir ../shared/data
"""

import argparse
import importlib
import os
import platform
import sys
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import Ridge, RidgeClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import skgf  # noqa: E402
from benchmarks._data import split_scaled  # noqa: E402

RESULTS = os.path.join(HERE, "results")

# Per method: the benchmark module with its own figures (MNIST passes,
# throughput, loss curves); each exposes run(data_dir, quick) -> rows.
METHOD_BENCHMARKS = ["bench_zorb", "bench_rso", "bench_lra", "bench_sibp"]


def machine():
    """One line naming the machine the numbers come from."""
    try:
        import threadpoolctl

        blas = threadpoolctl.threadpool_info()
        threads = max((b.get("num_threads", 1) for b in blas), default=1)
    except Exception:  # pragma: no cover
        threads = "?"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"{threads} BLAS threads, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scikit-learn {__import__('sklearn').__version__}"
    )


def bundled_sets():
    """(name, task, split) for the bundled data sets."""
    yield "digits", "classification", split_scaled(*load_digits(return_X_y=True))
    yield "breast_cancer", "classification", split_scaled(*load_breast_cancer(return_X_y=True))
    yield (
        "friedman1",
        "regression",
        split_scaled(*make_friedman1(n_samples=5000, noise=1.0, random_state=0)),
    )
    yield "diabetes", "regression", split_scaled(*load_diabetes(return_X_y=True))


def candidates(task):
    """(label, estimator) pairs; the MLP baseline comes first."""
    if task == "classification":
        return [
            ("MLPClassifier", MLPClassifier(random_state=0, max_iter=500)),
            ("ZORBClassifier", skgf.ZORBClassifier(random_state=0)),
            (
                "ZORBClassifier(500, rfw=1)",
                skgf.ZORBClassifier(
                    hidden_layer_sizes=(500,), random_feature_weight=1.0, random_state=0
                ),
            ),
            (
                "ZORBClassifier(500, minimal_change)",
                skgf.ZORBClassifier(
                    hidden_layer_sizes=(500,), target_rule="minimal_change", random_state=0
                ),
            ),
            ("Nystroem(500)+RidgeClassifier", nystroem_ridge(RidgeClassifier)),
        ] + [(name, est) for name, est in extra_estimators("Classifier")]
    return [
        ("MLPRegressor", MLPRegressor(random_state=0, max_iter=500)),
        ("ZORBRegressor", skgf.ZORBRegressor(random_state=0)),
        (
            "ZORBRegressor(500, rfw=1)",
            skgf.ZORBRegressor(
                hidden_layer_sizes=(500,), random_feature_weight=1.0, random_state=0
            ),
        ),
        (
            "ZORBRegressor(500, minimal_change)",
            skgf.ZORBRegressor(
                hidden_layer_sizes=(500,), target_rule="minimal_change", random_state=0
            ),
        ),
        ("Nystroem(500)+Ridge", nystroem_ridge(Ridge)),
    ] + [(name, est) for name, est in extra_estimators("Regressor")]


def nystroem_ridge(linear):
    """scikit-learn's closed-form random-feature reference at ZORB's width."""
    return make_pipeline(Nystroem(n_components=500, random_state=0), linear())


def extra_estimators(kind):
    """The other skgf methods with default parameters, where present."""
    for prefix in ("RSO", "LRA", "SemiImplicitBP"):
        cls = getattr(skgf, prefix + kind, None)
        if cls is not None:
            yield cls.__name__, cls(random_state=0)


def measure(estimator, X_train, y_train, X_test, y_test):
    """Fit and predict times, score, and the peak traced memory of a second,
    separate fit (tracing slows Python-heavy fits, so it is not timed)."""
    from sklearn.base import clone

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X_train, y_train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        score = estimator.score(X_test, y_test)
        predict_s = time.perf_counter() - start
        tracemalloc.start()
        clone(estimator).fit(X_train, y_train)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {"fit_s": fit_s, "predict_s": predict_s, "score": score, "peak_mb": peak / 2**20}


def run_bundled():
    rows = []
    for name, task, (X_train, X_test, y_train, y_test) in bundled_sets():
        base_fit = None
        for label, est in candidates(task):
            row = {
                "dataset": name,
                "estimator": label,
                **measure(est, X_train, y_train, X_test, y_test),
            }
            base_fit = base_fit or row["fit_s"]
            row["fit_vs_mlp"] = row["fit_s"] / base_fit
            rows.append(row)
            print_row(row)
    return rows


def print_row(row):
    print(
        f"  {row['dataset']:<14} {row['estimator']:<30} fit {row['fit_s']:8.2f} s  "
        f"predict {row['predict_s']:6.3f} s  score {row['score']:.4f}  "
        f"peak {row.get('peak_mb', float('nan')):7.1f} MiB  "
        f"x MLP fit time {row.get('fit_vs_mlp', float('nan')):.3f}",
        flush=True,
    )


def markdown_table(rows, columns):
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = ""
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c, "")
            cells.append(f"{v:.4g}" if isinstance(v, float) else str(v))
        body += "| " + " | ".join(cells) + " |\n"
    return head + body


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = list(dict.fromkeys(r["dataset"] for r in rows))
    fig, axes = plt.subplots(1, len(sets), figsize=(4.2 * len(sets), 3.8), squeeze=False)
    for ax, name in zip(axes[0], sets):
        for r in (r for r in rows if r["dataset"] == name):
            ax.scatter(r["fit_s"], r["score"], s=40)
            ax.annotate(
                r["estimator"],
                (r["fit_s"], r["score"]),
                fontsize=7,
                xytext=(3, 3),
                textcoords="offset points",
            )
        ax.set_xscale("log")
        ax.set_title(name)
        ax.set_xlabel("fit seconds (log)")
        ax.set_ylabel("test accuracy / R²")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("SKGF_DATA"),
        help="folder of the shared .npz data sets (adds MNIST etc.)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller MNIST subsets in the method benchmarks"
    )
    parser.add_argument(
        "--skip-methods", action="store_true", help="only the bundled-data comparison"
    )
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    print(f"Machine: {machine()}\n")
    print("Bundled data (75/25 split, StandardScaler, random_state=0):")
    rows = run_bundled()
    report = [
        f"Machine: {machine()}\n",
        "## Bundled data\n",
        markdown_table(
            rows, ["dataset", "estimator", "fit_s", "predict_s", "score", "peak_mb", "fit_vs_mlp"]
        ),
    ]
    plot(rows, os.path.join(args.out, "bundled.png"))

    if not args.skip_methods:
        for module_name in METHOD_BENCHMARKS:
            try:
                module = importlib.import_module(f"benchmarks.{module_name}")
            except ImportError:
                continue
            print(f"\n== {module_name} ==")
            method_rows = module.run(data_dir=args.data_dir, quick=args.quick)
            if method_rows:
                columns = list(dict.fromkeys(k for r in method_rows for k in r))
                report += [f"\n## {module_name}\n", markdown_table(method_rows, columns)]

    path = os.path.join(args.out, "results.md")
    with open(path, "w") as f:
        f.write("\n".join(report))
    print(f"\nWrote {path} and {os.path.join(args.out, 'bundled.png')}")


if __name__ == "__main__":
    main()
