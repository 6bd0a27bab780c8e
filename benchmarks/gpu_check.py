"""GPU against CPU: every estimator's MNIST fit with ``device="cuda"``.

    python -m benchmarks.gpu_check --data-dir DIR [--tests LOG] [--out FILE]

Run by ``benchmarks/gpu_check.sh`` on a GPU machine. Each estimator is fitted
twice with the same parameters and seed, once with ``device="cpu"`` and once
with ``device="cuda"``; the table gives both fit times and test accuracies
(the regressors fit the one-hot labels, scored by the argmax). Then a
GPU-fitted model is pickled and predicted from in a process where CuPy cannot
be imported.

Wheels for a machine without internet (Python 3.12 there): from the
repository root, ``echo /.whl/ >> .git/info/exclude`` and ``pip download
--no-deps --only-binary=:all: --python-version 3.12 --platform
manylinux2014_x86_64 -d .whl cupy-cuda12x fastrlock``. MNIST travels the
same way: copy ``mnist.npz`` into an ignored folder, carry it and pass it as
``--data-dir``; without it the check falls back to the bundled digits.
"""

import argparse
import os
import pickle
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import skgf

# settings sized so that the CPU fits of all eight stay within a few minutes
_PARAMS = {
    "ZORBClassifier": dict(hidden_layer_sizes=(2000,), random_feature_weight=2),
    "ZORBRegressor": dict(hidden_layer_sizes=(2000,), random_feature_weight=2),
    "RSOClassifier": dict(max_iter=2, batch_size=2000),
    "RSORegressor": dict(max_iter=2, batch_size=2000),
    "LRAClassifier": dict(max_iter=5),
    "LRARegressor": dict(max_iter=5),
    "SemiImplicitBPClassifier": dict(max_iter=5),
    "SemiImplicitBPRegressor": dict(max_iter=5),
}
_RSO_ROWS = 10000  # RSO's cost per pass does not depend on the rows; its CPU fit does


def load(data_dir):
    path = os.path.join(data_dir or "", "mnist.npz")
    if data_dir and os.path.exists(path):
        with np.load(path) as f:
            X_train = f["X_train"].reshape(-1, 784).astype(np.float32) / 255
            X_test = f["X_test"].reshape(-1, 784).astype(np.float32) / 255
            return "mnist", X_train, f["y_train"], X_test, f["y_test"]
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        (X / 16).astype(np.float32), y, random_state=0
    )
    return "digits (no MNIST found)", X_train, y_train, X_test, y_test


def fit_one(name, device, X, y, X_test, y_test):
    est = getattr(skgf, name)(random_state=0, device=device, **_PARAMS[name])
    target = y if name.endswith("Classifier") else np.eye(10, dtype=np.float32)[y]
    if name.startswith("RSO"):
        X, target = X[:_RSO_ROWS], target[:_RSO_ROWS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, target)
        fit_s = time.perf_counter() - start
    pred = est.predict(X_test)
    if pred.ndim == 2:
        pred = np.argmax(pred, axis=1)
    return est, fit_s, float(np.mean(pred == y_test)), pred


_NO_CUPY = """
import pickle, sys
sys.modules["cupy"] = None  # any import of CuPy fails
import numpy as np
est = pickle.load(open(sys.argv[1], "rb"))
X = np.load(sys.argv[2])
np.save(sys.argv[3], np.asarray(est.predict(X)))
"""


def predict_without_cupy(est, X):
    """Predictions of the unpickled ``est`` in a process without CuPy."""
    paths = [f"/tmp/skgf_gpu_{p}" for p in ("model.pkl", "X.npy", "pred.npy")]
    with open(paths[0], "wb") as f:
        pickle.dump(est, f)
    np.save(paths[1], X)
    subprocess.run([sys.executable, "-c", _NO_CUPY, *paths], check=True)
    return np.load(paths[2])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir")
    parser.add_argument("--tests", help="log of the CuPy tests, quoted in the report")
    parser.add_argument("--out", default="benchmarks/results/gpu.md")
    args = parser.parse_args()
    data, X, y, X_test, y_test = load(args.data_dir)
    import cupy

    gpu_name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    lines = [
        f"# GPU check: {gpu_name}, CuPy {cupy.__version__}, {os.cpu_count()} CPU cores",
        "",
        f"Data: {data}, {X.shape[0]} training rows (RSO: the first {_RSO_ROWS}), "
        f"{X_test.shape[0]} test rows, float32.",
        "",
        "| estimator | parameters | CPU fit s | GPU fit s | CPU ÷ GPU | CPU acc | GPU acc "
        "| predictions equal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    ok, kept = True, None
    for name in _PARAMS:
        fit_one(name, "cuda", X[:2000], y[:2000], X_test[:100], y_test[:100])  # warm-up
        _, cpu_s, cpu_acc, cpu_pred = fit_one(name, "cpu", X, y, X_test, y_test)
        gpu, gpu_s, gpu_acc, gpu_pred = fit_one(name, "cuda", X, y, X_test, y_test)
        same = float(np.mean(cpu_pred == gpu_pred))
        ok &= abs(cpu_acc - gpu_acc) <= 0.002
        kept = kept or gpu
        lines.append(
            f"| {name} | {_PARAMS[name]} | {cpu_s:.2f} | {gpu_s:.2f} | {cpu_s / gpu_s:.1f} "
            f"| {cpu_acc:.4f} | {gpu_acc:.4f} | {same:.4f} |"
        )
        print(lines[-1], flush=True)
    restored = predict_without_cupy(kept, X_test)
    direct = np.asarray(kept.predict(X_test))
    # the GPU's and the CPU's float32 products round differently, so a label
    # on a near tie may flip: agreement, not bitwise equality
    agreement = float(np.mean(restored == direct))
    unpickled_ok = agreement >= 0.999
    ok &= unpickled_ok
    lines += [
        "",
        f"Unpickled without CuPy ({type(kept).__name__} fitted on the GPU): "
        f"{agreement:.4f} of its test predictions equal to the GPU model's "
        f"({'pass' if unpickled_ok else 'FAIL'}: at least 0.999).",
        "",
        f"Every GPU accuracy within 0.2 points of the CPU's, and the unpickling check: "
        f"{'pass' if ok else 'FAIL'}.",
    ]
    if args.tests and os.path.exists(args.tests):
        with open(args.tests) as f:
            tail = f.read().strip().splitlines()[-3:]
        lines += ["", "CuPy tests (`tests/test_array_api.py -k 'cuda or cupy'`):", "", "```"]
        lines += [*tail, "```"]
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
