"""ZORB on MNIST: accuracy and fit time against MLPClassifier, matrix-multiply
efficiency of the fit, and peak memory at two training-set sizes.

    python -m benchmarks.bench_zorb --data-dir ../shared/data [--quick]
"""

import argparse
import contextlib
import io
import os
import re
import time
import tracemalloc
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from benchmarks._data import load_images
from skgf import ZORBClassifier


def zorb_flops(n, sizes):
    """FLOPs of the textbook ZORB fit (GEMM counting, 2 per multiply-add).

    One backward pass per bounded hidden layer to fit its range, then per
    layer a forward pass through the layers below, the backward target chain
    from the output, the Gram and cross products, and the solve. skgf's fit
    (``ZORBSweep.fit``) skips some of these products (class sums, the
    random-feature term from the Gram), so FLOPs / fit time is an
    *effective* rate.
    """
    L = len(sizes) - 1
    back = [2 * n * sizes[j + 1] * sizes[j] for j in range(L)]  # T @ pinv(W_j)
    flops = sum(sum(back[j] for j in range(layer + 1, L)) for layer in range(L - 1))
    for layer in range(L):
        d_in, d_out = sizes[layer] + 0, sizes[layer + 1]
        flops += sum(2 * n * sizes[j] * sizes[j + 1] for j in range(layer))  # forward
        flops += sum(back[j] for j in range(layer + 1, L))  # targets
        flops += 2 * n * d_in * d_in + 2 * n * d_in * d_out  # Gram, cross
        flops += d_in**3 / 3 + 2 * d_in**2 * d_out  # Cholesky, solve
    return flops


def gemm_rate(n, d, dtype=np.float32, repeats=3):
    """FLOP/s of a plain ``X.T @ X`` with X of shape (n, d)."""
    X = np.random.RandomState(0).rand(n, d).astype(dtype)
    X.T @ X
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        X.T @ X
        best = min(best, time.perf_counter() - start)
    return 2 * n * d * d / best


def _best_time(fn, repeats=2):
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def floor_report(X, y, X_test, y_test, width=2000, random_feature_weight=2.0):
    """One ZORB fit's phases next to its unavoidable work, timed alone in
    the same process.

    The floor of a one-hidden-layer fit is one forward pass ``tanh(X @ W)``
    and one Gram matrix ``H.T @ H`` of the hidden width (both float32, as the
    input is); layer 1 needs only the Gram of ``X``. Returns the rows of the
    table it prints.
    """
    clf = ZORBClassifier(
        hidden_layer_sizes=(width,),
        random_feature_weight=random_feature_weight,
        random_state=0,
        verbose=1,
    )
    # The fit is timed as the operations below are: the best of two runs
    # (the first run of a process also pays for thread start-up and page
    # faults), with the layer times of that run.
    fit_s, layer_s = np.inf, None
    for _ in range(2):
        out = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out):
            clf.fit(X, y)
        elapsed = time.perf_counter() - start
        if elapsed < fit_s:
            fit_s = elapsed
            layer_s = [float(m) for m in re.findall(r"solved in ([0-9.]+) s", out.getvalue())]

    # each operation writes into memory it already owns, so that page faults
    # of fresh output arrays do not inflate the floor
    W = np.random.RandomState(0).uniform(-0.05, 0.05, (X.shape[1], width)).astype(X.dtype)
    Z = np.empty((X.shape[0], width), X.dtype)
    matmul_s = _best_time(lambda: np.matmul(X, W, out=Z))
    H = np.empty_like(Z)
    tanh_s = _best_time(lambda: np.tanh(Z, out=H))
    gram = np.empty((width, width), X.dtype)
    gram_s = _best_time(lambda: np.matmul(H.T, H, out=gram))
    input_gram_s = _best_time(lambda: X.T @ X)
    floor_s = matmul_s + tanh_s + gram_s
    rows = [
        ("layer 1 fit (Gram of X, class sums, solve)", layer_s[0], input_gram_s, "X.T @ X"),
        ("layer 2 fit (forward, Gram, class sums, solve)", layer_s[1], floor_s, "floor"),
        ("whole fit", fit_s, floor_s, "floor"),
    ]
    print(f"  ZORB (MNIST n={X.shape[0]}, ({width},), rfw={random_feature_weight}):")
    print(f"    alone: X @ W {matmul_s:.2f} s, tanh {tanh_s:.2f} s, H.T @ H {gram_s:.2f} s")
    print(f"    floor = tanh(X @ W) + H.T @ H = {floor_s:.2f} s; X.T @ X {input_gram_s:.2f} s")
    for label, phase_s, alone_s, name in rows:
        print(f"    {label:<48} {phase_s:6.2f} s = {phase_s / alone_s:4.2f}x {name}")
    acc = clf.score(X_test, y_test)
    print(f"    test accuracy {acc:.4f}")
    return [
        {
            "dataset": f"mnist n={X.shape[0]}",
            "estimator": f"ZORB ({width},) rfw={random_feature_weight}: {label}",
            "fit_s": phase_s,
            "alone_s": alone_s,
            "ratio": phase_s / alone_s,
            "score": acc,
        }
        for label, phase_s, alone_s, name in rows
    ]


def mlp_time_to_accuracy(X, y, X_test, y_test, target, max_epochs):
    """Per-epoch MLPClassifier(256) training: accuracy after each epoch, fit
    seconds (evaluation excluded) and the first epoch reaching ``target``."""
    mlp = MLPClassifier(hidden_layer_sizes=(256,), max_iter=1, warm_start=True, random_state=0)
    fit_s, curve, reached = 0.0, [], None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in range(1, max_epochs + 1):
            start = time.perf_counter()
            mlp.fit(X, y)
            fit_s += time.perf_counter() - start
            acc = mlp.score(X_test, y_test)
            curve.append((epoch, fit_s, acc))
            if reached is None and acc >= target:
                reached = (epoch, fit_s, acc)
    return curve, reached


def _tabular(data_dir, name):
    """A regression set of the shared folder (or friedman1, 5,000 rows, noise
    1), at most 20,000 rows (a seeded subsample), split 75/25 and scaled."""
    from sklearn.datasets import make_friedman1
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if name == "friedman1":
        X, y = make_friedman1(n_samples=5000, noise=1.0, random_state=0)
    else:
        path = os.path.join(data_dir or "", f"{name}.npz")
        if not os.path.exists(path):
            return None
        with np.load(path) as f:
            X, y = f["X"].astype(np.float64), f["y"].astype(np.float64)
        if X.shape[0] > 20000:
            keep = np.random.default_rng(0).choice(X.shape[0], 20000, replace=False)
            X, y = X[keep], y[keep]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), y_tr, scaler.transform(X_te), y_te


def equal_width_reference(data_dir, mnist, width=1000):
    """ZORB's rules and initialisations against ``Nystroem(width) + Ridge``
    (scikit-learn's closed-form random-feature fit) at the same width, one
    split, in one run: MNIST and the regression sets of issue 12."""
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import Ridge, RidgeClassifier
    from sklearn.pipeline import make_pipeline

    from skgf import ZORBRegressor

    variants = [
        ("paper rule", {}),
        ("rfw=2", {"random_feature_weight": 2.0}),
        ("rfw=2 landmarks", {"random_feature_weight": 2.0, "weight_init": "landmarks"}),
        ("minimal_change", {"target_rule": "minimal_change"}),
        (
            "minimal_change landmarks",
            {"target_rule": "minimal_change", "weight_init": "landmarks"},
        ),
        ("rfw=2 normal", {"random_feature_weight": 2.0, "weight_init": "normal"}),
        ("minimal_change normal", {"target_rule": "minimal_change", "weight_init": "normal"}),
    ]
    sets = [("mnist", mnist)] + [
        (name, _tabular(data_dir, name)) for name in ("friedman1", "kin40k", "pol")
    ]
    rows = []
    print(f"Equal width {width}: Nystroem + Ridge against ZORB (test accuracy / R^2, fit s)")
    for name, data in sets:
        if data is None:
            print(f"  {name}: not found, skipped")
            continue
        X, y, X_te, y_te = data
        classes = name == "mnist"
        linear = RidgeClassifier if classes else Ridge
        Zorb = ZORBClassifier if classes else ZORBRegressor
        models = [
            (
                "Nystroem+Ridge",
                make_pipeline(Nystroem(n_components=width, random_state=0), linear()),
            )
        ]
        models += [
            (f"ZORB {label}", Zorb(hidden_layer_sizes=(width,), random_state=0, **params))
            for label, params in variants
        ]
        cells = []
        for label, model in models:
            start = time.perf_counter()
            model.fit(X, y)
            fit_s = time.perf_counter() - start
            score = model.score(X_te, y_te)
            rows.append(
                {
                    "dataset": f"{name} width {width}",
                    "estimator": label,
                    "fit_s": fit_s,
                    "score": score,
                }
            )
            cells.append(f"{label} {score:.4f} ({fit_s:.1f} s)")
        print(f"  {name:<10} " + " | ".join(cells), flush=True)
    return rows


def peak_fit_memory(estimator, X, y):
    """Peak bytes traced during ``fit`` (the input itself is allocated before)."""
    tracemalloc.start()
    estimator.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def run(data_dir=None, quick=False):
    data = load_images(data_dir)
    if data is None:
        print("MNIST not found (pass --data-dir); skipping the ZORB MNIST benchmark.")
        return []
    X, y, X_test, y_test = data
    if quick:
        X, y = X[:10000], y[:10000]
    n = X.shape[0]
    rows = floor_report(X, y, X_test, y_test)
    configs = [
        ("ZORB paper rule (1000,) tanh", dict(hidden_layer_sizes=(1000,))),
        (
            "ZORB paper rule (1000,800,600,400,200)",
            dict(hidden_layer_sizes=(1000, 800, 600, 400, 200)),
        ),
        ("ZORB rfw=2 (2000,)", dict(hidden_layer_sizes=(2000,), random_feature_weight=2.0)),
        ("ZORB rfw=2 (4000,)", dict(hidden_layer_sizes=(4000,), random_feature_weight=2.0)),
        (
            "ZORB rfw=2 landmarks (2000,)",
            dict(hidden_layer_sizes=(2000,), random_feature_weight=2.0, weight_init="landmarks"),
        ),
        (
            "ZORB minimal_change landmarks (2000,)",
            dict(hidden_layer_sizes=(2000,), target_rule="minimal_change", weight_init="landmarks"),
        ),
    ]
    rate = gemm_rate(n, 785)
    for label, params in configs:
        clf = ZORBClassifier(random_state=0, **params)
        start = time.perf_counter()
        clf.fit(X, y)
        fit_s = time.perf_counter() - start
        acc = clf.score(X_test, y_test)
        row = {"dataset": f"mnist n={n}", "estimator": label, "fit_s": fit_s, "score": acc}
        rows.append(row)
        if params.get("target_rule") == "minimal_change":  # no one-pass FLOP count
            print(f"  {label:<42} fit {fit_s:7.2f} s  acc {acc:.4f}", flush=True)
            continue
        flops = zorb_flops(n, [784, *params["hidden_layer_sizes"], 10])
        row.update(gflop=flops / 1e9, gemm_fraction=flops / fit_s / rate)
        print(
            f"  {label:<42} fit {fit_s:7.2f} s  acc {acc:.4f}  "
            f"{flops / 1e9:8.1f} textbook GFLOP  {flops / fit_s / 1e9:6.1f} effective GFLOP/s = "
            f"{flops / fit_s / rate:.0%} of X.T@X ({rate / 1e9:.1f} GFLOP/s)",
            flush=True,
        )

    best = max(rows, key=lambda r: r["score"])
    curve, reached = mlp_time_to_accuracy(
        X, y, X_test, y_test, best["score"], max_epochs=5 if quick else 30
    )
    for epoch, fit_s, acc in curve:
        print(f"  MLPClassifier(256) epoch {epoch:2d}: fit {fit_s:7.2f} s  acc {acc:.4f}")
    last = curve[-1]
    rows.append(
        {
            "dataset": f"mnist n={n}",
            "estimator": f"MLPClassifier(256) {last[0]} epochs",
            "fit_s": last[1],
            "score": last[2],
        }
    )
    if reached:
        rows.append(
            {
                "dataset": f"mnist n={n}",
                "estimator": f"MLPClassifier(256) to {best['score']:.4f} ({reached[0]} epochs)",
                "fit_s": reached[1],
                "score": reached[2],
            }
        )
        print(
            f"  MLP reaches {best['estimator']}'s accuracy after {reached[1]:.1f} s: "
            f"ZORB is {reached[1] / best['fit_s']:.1f}x faster"
        )
    for r in rows:
        r.setdefault(
            "x_faster_than_mlp_to_same_acc", reached[1] / r["fit_s"] if reached else float("nan")
        )

    rows += equal_width_reference(data_dir, (X, y, X_test, y_test))

    # Peak traced memory of a fit at two sizes: chunked accumulation keeps it flat.
    sizes_n = [n // 2, n]
    for m in sizes_n:
        peak = peak_fit_memory(
            ZORBClassifier(hidden_layer_sizes=(1000,), random_state=0), X[:m], y[:m]
        )
        rows.append(
            {
                "dataset": f"mnist n={m}",
                "estimator": "ZORB (1000,) peak fit memory",
                "peak_mb": peak / 2**20,
                "input_mb": X[:m].nbytes / 2**20,
            }
        )
        print(
            f"  peak fit memory n={m}: {peak / 2**20:.1f} MiB "
            f"(input X itself {X[:m].nbytes / 2**20:.1f} MiB)"
        )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", default=os.environ.get("SKGF_DATA"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    run(args.data_dir, args.quick)
