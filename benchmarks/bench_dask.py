"""ZORBRegressor fitted blockwise on a dask array larger than the workers' memory.

The training data are generated lazily by dask, block by block from per-block
seeds (deterministic: the same block always holds the same rows), so neither
the client nor a worker ever holds the whole of ``X``. A ``LocalCluster`` of
2 single-threaded worker processes with a 1 GiB memory limit each fits
``ZORBRegressor(hidden_layer_sizes=(64,))`` on 8 GiB of float32 ``X`` (full
run) or 160 MiB (``--quick``). Reported: wall time of the fit, the peak
memory each worker reported during the fit, worker restarts (a worker over
its limit is killed and restarted by its nanny), the client's peak memory,
and R^2 on a held-out in-memory sample, next to an in-memory ZORBRegressor
and scikit-learn's MLPRegressor fitted on a subsample in the same run.

    python -m benchmarks.bench_dask [--quick]

The target is Friedman #1 extended to 20 features: two Friedman terms (the
second at half weight) on features 0-4 and 5-9, features 10-19 pure noise,
plus N(0, 1) noise.
"""

import argparse
import resource
import threading
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from skgf import ZORBRegressor

N_FEATURES = 20
N_INFORMATIVE = 10


def _friedman(X):
    return (
        10 * np.sin(np.pi * X[:, 0] * X[:, 1])
        + 20 * (X[:, 2] - 0.5) ** 2
        + 10 * X[:, 3]
        + 5 * X[:, 4]
    )


def _target(X_informative, seed):
    noise = np.random.default_rng([seed, 2]).standard_normal(X_informative.shape[0])
    y = _friedman(X_informative[:, :5]) + 0.5 * _friedman(X_informative[:, 5:10])
    return (y + noise).astype(np.float32)


def make_block(seed, n_rows, with_noise_features=True):
    """Rows of block ``seed``: ``(X, y)``, or only ``y`` (cheap: the noise
    features are drawn from their own stream and not needed for ``y``)."""
    informative = np.random.default_rng([seed, 0]).random((n_rows, N_INFORMATIVE), dtype=np.float32)
    y = _target(informative, seed)
    if not with_noise_features:
        return y
    rest = np.random.default_rng([seed, 1]).random(
        (n_rows, N_FEATURES - N_INFORMATIVE), dtype=np.float32
    )
    return np.hstack([informative, rest]), y


def lazy_data(n_blocks, block_rows):
    """Dask ``X`` (float32) and ``y``, each block made on demand from its seed."""
    import dask.array as da

    def x_block(block_id=None):
        return make_block(block_id[0], block_rows)[0]

    def y_block(block_id=None):
        return make_block(block_id[0], block_rows, with_noise_features=False)

    X = da.map_blocks(
        x_block,
        chunks=((block_rows,) * n_blocks, (N_FEATURES,)),
        dtype=np.float32,
        meta=np.empty((0, 0), np.float32),
        name="skgf-bench-X",
    )
    y = da.map_blocks(
        y_block,
        chunks=((block_rows,) * n_blocks,),
        dtype=np.float32,
        meta=np.empty((0,), np.float32),
        name="skgf-bench-y",
    )
    return X, y


class WorkerMemoryWatch:
    """Peak memory per worker (as the workers report it to the scheduler,
    every heartbeat) and the worker processes' ids, polled in a thread."""

    def __init__(self, client, period=0.25):
        self.client, self.period = client, period
        self.peak, self.pids = {}, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            try:
                workers = self.client.scheduler_info(n_workers=-1)["workers"]
            except TypeError:  # older distributed without n_workers
                workers = self.client.scheduler_info()["workers"]
            except Exception:
                workers = {}
            for info in workers.values():
                name = info.get("name")
                self.peak[name] = max(self.peak.get(name, 0), info["metrics"]["memory"])
                self.pids.add((name, info.get("pid")))
            self._stop.wait(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _print_rows(rows):
    cols = [
        "dataset",
        "estimator",
        "n_train",
        "fit_s",
        "predict_s",
        "score",
        "data_gib",
        "worker_limit_gib",
        "peak_worker_gib",
        "worker_restarts",
        "client_peak_gib",
    ]
    cols = [c for c in cols if any(c in r for r in rows)]
    print(" | ".join(cols))
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(f"{v:.3f}" if isinstance(v, float) else str(v))
        print(" | ".join(cells))


def run(data_dir=None, quick=False, n_workers=2, memory_limit="1GiB", hidden_layer_sizes=(64,)):
    """Fit blockwise on a LocalCluster; ``data_dir`` is unused (synthetic data)."""
    from dask.utils import parse_bytes
    from distributed import Client, LocalCluster

    block_rows = 1 << 18 if quick else 1 << 20  # 20 MiB / 80 MiB blocks
    n_blocks = 8 if quick else 103  # 160 MiB / 8.05 GiB of X
    n_rows = n_blocks * block_rows
    data_gib = n_rows * N_FEATURES * 4 / 2**30
    limit_gib = parse_bytes(memory_limit) / 2**30
    n_sub = 20_000 if quick else 200_000
    X_test, y_test = make_block(10**6, 100_000 if quick else 200_000)
    X_sub, y_sub = make_block(10**6 + 1, n_sub)
    dataset = f"friedman20 float32 {data_gib:.2f} GiB (dask)"
    rows = []
    print(
        f"X: {n_rows} x {N_FEATURES} float32 = {data_gib:.2f} GiB in {n_blocks} "
        f"blocks of {block_rows} rows; {n_workers} workers x {memory_limit}, "
        "1 thread each",
        flush=True,
    )

    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        X, y = lazy_data(n_blocks, block_rows)
        reg = ZORBRegressor(hidden_layer_sizes=hidden_layer_sizes, random_state=0, verbose=1)
        with WorkerMemoryWatch(client) as watch:
            start = time.perf_counter()
            reg.fit(X, y)
            fit_s = time.perf_counter() - start
            time.sleep(1.0)  # one more heartbeat
        start = time.perf_counter()
        score = reg.score(X_test, y_test)
        predict_s = time.perf_counter() - start
        names = {name for name, _ in watch.pids}
        restarts = len(watch.pids) - len(names)
        peak = max(watch.peak.values()) / 2**30
        rows.append(
            {
                "dataset": dataset,
                "estimator": f"ZORBRegressor{hidden_layer_sizes} blockwise on dask",
                "n_train": n_rows,
                "fit_s": fit_s,
                "predict_s": predict_s,
                "score": score,
                "data_gib": data_gib,
                "worker_limit_gib": limit_gib,
                "peak_worker_gib": peak,
                "worker_restarts": restarts,
                "client_peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            }
        )
        print(
            f"  dask fit {fit_s:.1f} s, R^2 {score:.4f} on {len(y_test)} held-out "
            f"rows; peak worker memory {peak:.2f} GiB of {memory_limit}, "
            f"{restarts} worker restarts",
            flush=True,
        )

    # In-memory references on a subsample, fitted in the same run.
    for label, est in [
        (
            f"ZORBRegressor{hidden_layer_sizes} in memory",
            ZORBRegressor(hidden_layer_sizes=hidden_layer_sizes, random_state=0),
        ),
        (
            f"MLPRegressor{hidden_layer_sizes} in memory",
            MLPRegressor(
                hidden_layer_sizes=hidden_layer_sizes, early_stopping=True, random_state=0
            ),
        ),
    ]:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X_sub, y_sub)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        score = est.score(X_test, y_test)
        rows.append(
            {
                "dataset": "friedman20 float32 subsample",
                "estimator": label,
                "n_train": n_sub,
                "fit_s": fit_s,
                "predict_s": time.perf_counter() - start,
                "score": score,
            }
        )
        print(f"  {label} on {n_sub} rows: fit {fit_s:.1f} s, R^2 {score:.4f}", flush=True)
    _print_rows(rows)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="unused (synthetic data)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    run(args.data_dir, args.quick)
