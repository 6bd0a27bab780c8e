"""Semi-implicit back propagation against MLPClassifier / MLPRegressor.

* digits (75/25 split, StandardScaler, random_state=0) and friedman1
  (5,000 samples, noise 1.0, same split): score and fit time next to the MLP
  fitted in the same run.
* MNIST (with ``--data-dir``): a 784-500-10 ReLU network, batch 200, for
  20 epochs (``--quick``: 10,000 training rows, 10 epochs), trained by
  SemiImplicitBPClassifier and by MLPClassifier(solver="sgd") and
  (solver="adam") with the same architecture, batch size and initial
  weights. Reports the test accuracy after every epoch of SIBP, the first
  epoch reaching 0.97, the time per epoch of each, and whether SIBP's
  training loss is below SGD's at each of the first 10 epochs; saves the
  loss curves to ``benchmarks/results/sibp_mnist_loss.png``.

Same initial weights: skgf draws Glorot-uniform weights exactly as
``MLPClassifier._init_coef`` does for ReLU/tanh (``U(-a, a)``,
``a = sqrt(6 / (fan_in + fan_out))``, weights then biases, layer by layer,
from ``check_random_state(random_state)``), so one integer seed gives both
estimators the same start. The benchmark checks this before timing: it reads
MLP's initial weights off a fit whose learning rate (1e-300) leaves them
unchanged and compares them with skgf's draw.

    python -m benchmarks.bench_sibp --data-dir ../shared/data [--quick]
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
from skgf._array_api import numpy_namespace
from skgf._linalg import _block_inverse, _lapack_spd_solve, scipy_lapack_single_threaded
from skgf._network import init_weights, layer_sizes
from skgf._sibp import SemiImplicitBPClassifier, SemiImplicitBPRegressor

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")
SEED = 0


def timed_fit(est, X, y):
    """Wall seconds of ``est.fit(X, y)``."""
    return timed_fit_cpu(est, X, y)[0]


def timed_fit_cpu(est, X, y):
    """Wall and process-CPU seconds of ``est.fit(X, y)`` (the CPU time is
    less disturbed by other processes on a shared machine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start, cpu = time.perf_counter(), time.process_time()
        est.fit(X, y)
        return time.perf_counter() - start, time.process_time() - cpu


def score_row(dataset, label, est, X_tr, y_tr, X_te, y_te):
    fit_s = timed_fit(est, X_tr, y_tr)
    start = time.perf_counter()
    score = est.score(X_te, y_te)
    predict_s = time.perf_counter() - start
    row = {
        "dataset": dataset,
        "estimator": label,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "score": score,
        "epochs": est.n_iter_,
    }
    print(
        f"  {dataset:<10} {label:<42} fit {fit_s:7.2f} s  predict {predict_s:6.3f} s  "
        f"score {score:.4f}  epochs {est.n_iter_}",
        flush=True,
    )
    return row


def bundled():
    rows = []
    X_tr, X_te, y_tr, y_te = split_scaled(*load_digits(return_X_y=True))
    for label, est in [
        ("MLPClassifier(sgd)", MLPClassifier(solver="sgd", random_state=SEED)),
        ("MLPClassifier(adam)", MLPClassifier(random_state=SEED)),
        ("SemiImplicitBPClassifier", SemiImplicitBPClassifier(random_state=SEED)),
    ]:
        rows.append(score_row("digits", label, est, X_tr, y_tr, X_te, y_te))
    X_tr, X_te, y_tr, y_te = split_scaled(
        *make_friedman1(n_samples=5000, noise=1.0, random_state=0)
    )
    for label, est in [
        ("MLPRegressor(sgd)", MLPRegressor(solver="sgd", random_state=SEED)),
        ("MLPRegressor(adam)", MLPRegressor(random_state=SEED)),
        ("SemiImplicitBPRegressor", SemiImplicitBPRegressor(random_state=SEED)),
    ]:
        rows.append(score_row("friedman1", label, est, X_tr, y_tr, X_te, y_te))
    return rows


def _same_arrays(first, second):
    """Whether two lists of arrays are equal, element for element."""
    return len(first) == len(second) and all(np.array_equal(a, b) for a, b in zip(first, second))


def check_same_init(X, y, hidden):
    """MLPClassifier's initial weights equal skgf's draw for the same seed."""
    mlp = MLPClassifier(
        hidden_layer_sizes=hidden,
        solver="sgd",
        learning_rate_init=1e-300,
        momentum=0.0,
        max_iter=1,
        random_state=SEED,
    )
    timed_fit(mlp, X[:1000], y[:1000])  # the update underflows: weights = init
    coefs, intercepts = init_weights(
        layer_sizes(X.shape[1], hidden, 10),
        np.random.RandomState(SEED),
        "glorot_uniform",
        numpy_namespace(),
        "cpu",
        X.dtype,
    )
    same = _same_arrays(mlp.coefs_ + mlp.intercepts_, coefs + intercepts)
    if not same:
        raise AssertionError("MLPClassifier and skgf initial weights differ")
    return same


def whole_fit_row(dataset, label, est, X, y, X_te, y_te):
    """Fit ``est`` once, timed whole, and score it on the test rows; prints
    and returns its table row."""
    fit_s, cpu_s = timed_fit_cpu(est, X, y)
    start = time.perf_counter()
    acc = est.score(X_te, y_te)
    predict_s = time.perf_counter() - start
    epochs, loss = est.n_iter_, est.loss_curve_[-1]
    print(
        f"  {label}: {epochs} epochs, {fit_s:.1f} s, CPU {cpu_s:.1f} s "
        f"({fit_s / epochs:.2f} s/epoch), test acc {acc:.4f}, loss {loss:.4f}",
        flush=True,
    )
    return {
        "dataset": dataset,
        "estimator": label,
        "fit_s": fit_s,
        "predict_s": predict_s,
        "score": acc,
        "epochs": epochs,
        "s_per_epoch": fit_s / epochs,
        "cpu_s_per_epoch": cpu_s / epochs,
        "final_loss": loss,
    }


def mnist(data_dir, quick):
    data = load_images(data_dir)
    if data is None:
        print("  MNIST not found (pass --data-dir); skipping the SIBP MNIST benchmark.")
        return [], None
    X, y, X_te, y_te = data
    if quick:
        X, y = X[:10000], y[:10000]
    n = X.shape[0]
    epochs = 10 if quick else 20
    hidden, batch = (500,), 200
    dataset = f"mnist n={n}"
    check_same_init(X, y, hidden)
    rows, curves = [], {}

    def make_sibp(**params):
        """SIBP with the MLPs' architecture and batches, every training row
        (no held-out split, as the MLP's epochs) and no stop on tolerance."""
        return SemiImplicitBPClassifier(
            hidden_layer_sizes=hidden, batch_size=batch, tol=0.0, early_stopping=False, **params
        )

    # SIBP one epoch per call (warm start, one RandomState continuing across
    # calls: the same draws as one fit of `epochs` epochs), test accuracy
    # after each epoch, evaluation not timed.
    sibp = make_sibp(max_iter=1, warm_start=True, random_state=np.random.RandomState(SEED))
    fit_s, cpu_s, accs = 0.0, 0.0, []
    for _ in range(epochs):
        wall, cpu = timed_fit_cpu(sibp, X, y)
        fit_s, cpu_s = fit_s + wall, cpu_s + cpu
        accs.append(sibp.score(X_te, y_te))
        print(
            f"  SIBP epoch {len(accs):2d}: loss {sibp.loss_curve_[-1]:.4f}  "
            f"test acc {accs[-1]:.4f}  fit {fit_s:7.1f} s",
            flush=True,
        )
    start = time.perf_counter()
    sibp.predict(X_te)
    predict_s = time.perf_counter() - start
    curves["SemiImplicitBPClassifier"] = list(sibp.loss_curve_)
    reached = next((i + 1 for i, a in enumerate(accs) if a >= 0.97), None)
    # The time per epoch comes from one fit of all the epochs, as the MLP's
    # do (each call above also pays a fit's fixed work: input validation,
    # the training range). Same seed, same draws: it must end on the
    # epoch-by-epoch fit's weights, which is checked.
    whole = make_sibp(max_iter=epochs, random_state=np.random.RandomState(SEED))
    whole_s, whole_cpu_s = timed_fit_cpu(whole, X, y)
    same = _same_arrays(whole.coefs_ + whole.intercepts_, sibp.coefs_ + sibp.intercepts_)
    if not (same and whole.loss_curve_ == sibp.loss_curve_):
        raise AssertionError("one fit of all epochs and the epoch-by-epoch fit differ")
    print(
        f"  SIBP one fit of {epochs} epochs: {whole_s:.1f} s ({whole_s / epochs:.2f} s/epoch; "
        f"{fit_s / epochs:.2f} s/epoch one call each), the same weights as the "
        "epoch-by-epoch fit",
        flush=True,
    )
    sibp_epoch_s = whole_s / epochs
    rows.append(
        {
            "dataset": dataset,
            "estimator": "SemiImplicitBPClassifier (500,)",
            "fit_s": whole_s,
            "predict_s": predict_s,
            "score": accs[-1],
            "epochs": epochs,
            "s_per_epoch": sibp_epoch_s,
            "cpu_s_per_epoch": whole_cpu_s / epochs,
            "s_per_epoch_one_call_each": fit_s / epochs,
            "first_epoch_acc_0.97": reached if reached else "not reached",
            "final_loss": curves["SemiImplicitBPClassifier"][-1],
        }
    )

    for solver in ("sgd", "adam"):
        mlp = MLPClassifier(
            hidden_layer_sizes=hidden,
            solver=solver,
            batch_size=batch,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            random_state=SEED,
        )
        rows.append(
            whole_fit_row(dataset, f"MLPClassifier({solver}) (500,)", mlp, X, y, X_te, y_te)
        )
        curves[f"MLPClassifier({solver})"] = list(mlp.loss_curve_)

    # shuffle="fixed_batches": one fit of `epochs` epochs (its batches, and
    # so its first-layer factorisations, last one fit call), timed whole
    fixed = make_sibp(max_iter=epochs, shuffle="fixed_batches", random_state=SEED)
    label = 'SemiImplicitBPClassifier (500,) shuffle="fixed_batches"'
    rows.append(whole_fit_row(dataset, label, fixed, X, y, X_te, y_te))

    sgd_epoch_s, sgd_cpu_s = rows[1]["s_per_epoch"], rows[1]["cpu_s_per_epoch"]
    sgd = curves["MLPClassifier(sgd)"]
    below = [a < b for a, b in zip(curves["SemiImplicitBPClassifier"][:10], sgd[:10])]
    for row in rows:
        row["s_per_epoch_vs_sgd"] = row["s_per_epoch"] / sgd_epoch_s
        row["cpu_per_epoch_vs_sgd"] = row["cpu_s_per_epoch"] / sgd_cpu_s
    rows[0]["loss_below_sgd_first10"] = f"{sum(below)}/{len(below)}"
    print(
        f"  SIBP loss below MLP(sgd) at {sum(below)}/{len(below)} of the first "
        f"epochs; time per epoch {sibp_epoch_s:.2f} s = "
        f"{sibp_epoch_s / sgd_epoch_s:.2f}x MLP(sgd) (CPU time "
        f"{rows[0]['cpu_per_epoch_vs_sgd']:.2f}x); first epoch with test "
        f"accuracy >= 0.97: {reached}"
    )
    print(
        f'  SIBP shuffle="fixed_batches": {rows[-1]["s_per_epoch_vs_sgd"]:.2f}x MLP(sgd) per '
        f"epoch (CPU time {rows[-1]['cpu_per_epoch_vs_sgd']:.2f}x)"
    )
    mlp_floor, sibp_floor, fixed_floor = product_floor(X, hidden, len(np.unique(y)), batch)
    rows[0]["product_floor_s_per_epoch"] = sibp_floor
    rows[1]["product_floor_s_per_epoch"] = mlp_floor
    rows[-1]["product_floor_s_per_epoch"] = fixed_floor
    fixed_epoch_s = rows[-1]["s_per_epoch"]
    print(
        f"  products alone, one epoch: MLP-SGD {mlp_floor:.2f} s, SIBP {sibp_floor:.2f} s = "
        f"{sibp_floor / mlp_floor:.2f}x, SIBP with fixed batches {fixed_floor:.2f} s = "
        f"{fixed_floor / mlp_floor:.2f}x (the rules' floor ratios); measured epochs are "
        f"{sgd_epoch_s / mlp_floor:.2f}x (MLP-SGD), {sibp_epoch_s / sibp_floor:.2f}x (SIBP) "
        f"and {fixed_epoch_s / fixed_floor:.2f}x (fixed batches) their floors"
    )
    return rows, (curves, dataset, batch)


def _epoch_time(fn, X, batch):
    """Seconds of ``fn(rows)`` over one epoch's consecutive batches of ``X``."""
    start = time.perf_counter()
    for first in range(0, X.shape[0] - batch + 1, batch):
        fn(X[first : first + batch])
    return time.perf_counter() - start


def product_floor(X, hidden, n_classes, batch):
    """The matrix products of one epoch of each method's batch update, timed
    alone (same shapes and dtype, random weights, no Python loop around them
    beyond one call per batch), so that the measured epoch ratio can be set
    against the ratio of the two rules' unavoidable work.

    MLP-SGD: forward ``X W1``, ``H W2``; backward ``H^T D2``, ``D2 W2^T``,
    ``X^T D1``. Semi-implicit BP: the same forward; per layer (dual form, the
    batch smaller than the layer input) the batch Gram ``F F^T``, the
    ``B x B`` solve (its inverse by halves for the first layer's many
    columns) and ``F^T A``; the difference passed down ``A2 W2^T``.
    With fixed batches (``shuffle="fixed_batches"``) the first layer's
    Gram and solve are factored once per batch into ``P`` (``d x B``), so
    its step is the one product ``P D1``.
    Returns ``(mlp_s, sibp_s, fixed_batches_s)``.
    """
    rng = np.random.RandomState(0)
    dtype = X.dtype
    W1 = rng.standard_normal((X.shape[1], hidden[0])).astype(dtype) * 0.05
    W2 = rng.standard_normal((hidden[0], n_classes)).astype(dtype) * 0.05
    D2 = rng.standard_normal((batch, n_classes)).astype(dtype)
    eye = np.eye(batch, dtype=dtype)

    def mlp_batch(Xb):
        H = np.maximum(Xb @ W1, 0)
        H @ W2
        H.T @ D2
        D1 = D2 @ W2.T
        Xb.T @ D1

    def top_layer(Xb):
        """Forward pass and the 500 -> 10 layer's dual solve, shared by both
        SIBP variants; returns the difference passed down to layer 1."""
        H = np.maximum(Xb @ W1, 0)
        H @ W2
        A2 = _lapack_spd_solve(H @ H.T + eye, D2)  # as proximal_solve, few columns
        H.T @ A2
        return A2 @ W2.T

    def sibp_batch(Xb):
        D1 = top_layer(Xb)
        inverse = _block_inverse(Xb @ Xb.T + eye)  # as proximal_solve, many columns
        Xb.T @ (inverse @ D1)

    P = np.ascontiguousarray(X[:batch].T)  # the shape of a factored batch, d x B

    def fixed_batch(Xb):
        P @ top_layer(Xb)

    mlp_s = min(_epoch_time(mlp_batch, X, batch) for _ in range(2))
    with scipy_lapack_single_threaded():  # as the fit runs its solves
        sibp_s = min(_epoch_time(sibp_batch, X, batch) for _ in range(2))
        fixed_s = min(_epoch_time(fixed_batch, X, batch) for _ in range(2))
    return mlp_s, sibp_s, fixed_s


def plot_curves(curves, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, curve in curves.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, marker="o", ms=3, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy, mean over the epoch)")
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(data_dir=None, quick=False, out=RESULTS):
    """All SIBP figures; returns the table rows (and prints them)."""
    print("Semi-implicit BP vs MLP (bundled data, 75/25 split, StandardScaler):")
    rows = bundled()
    print("Semi-implicit BP vs MLP on MNIST (784-500-10 ReLU, batch 200, same init):")
    mnist_rows, plot = mnist(data_dir, quick)
    rows += mnist_rows
    if plot is not None:
        curves, dataset, batch = plot
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, "sibp_mnist_loss.png")
        plot_curves(
            curves, f"{dataset}, 784-500-10 ReLU, batch {batch}, same initial weights", path
        )
        print(f"  wrote {path}")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("SKGF_DATA"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args()
    run(args.data_dir, args.quick, args.out)
