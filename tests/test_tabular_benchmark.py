"""The tabular regression benchmark (``benchmarks/tabular.py``) in --quick mode."""

import csv
import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import skgf  # noqa: E402
from benchmarks import tabular  # noqa: E402


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_every_skgf_regressor_is_benchmarked():
    models = tabular.all_models()
    expected = [n for n in skgf.__all__ if n.endswith("Regressor")]
    assert expected and all(n in models for n in expected)
    assert {"Ridge", "MLPRegressor", "HistGradientBoostingRegressor"} <= set(models)
    for name, cls in models.items():
        grid = tabular.grid_for(name, cls, quick=True)
        assert grid and all(set(p) <= set(cls().get_params()) for p in grid)


def test_splits_are_disjoint_and_capped():
    train, val, test = tabular.split_indices(1000, seed=3, max_train=300, max_eval=150)
    assert (train.size, val.size, test.size) == (300, 150, 150)
    assert len(np.unique(np.concatenate([train, val, test]))) == 600
    again = tabular.split_indices(1000, seed=3, max_train=300, max_eval=150)
    assert all(np.array_equal(a, b) for a, b in zip((train, val, test), again))


def test_every_setting_is_tried_with_each_feature_map():
    grid = [{"alpha": 1.0}, {"alpha": 10.0}]
    both = tabular.with_feature_maps(grid)
    assert both == grid + [
        {"alpha": 1.0, "features": "standard"},
        {"alpha": 10.0, "features": "standard"},
    ]
    assert tabular.with_feature_maps(grid, ["quantile"]) == grid
    cls = tabular.all_models()["Ridge"]
    quantile = tabular.make_pipeline(cls, {"alpha": 1.0}, 100, 0, None)
    standard = tabular.make_pipeline(cls, both[2], 100, 0, None)
    assert [n for n, _ in quantile.regressor.steps] == ["quantile", "model"]
    assert [n for n, _ in standard.regressor.steps] == ["standard", "model"]
    assert standard.regressor.named_steps["model"].alpha == 1.0
    with pytest.raises(ValueError, match="unknown feature map"):
        tabular.make_pipeline(cls, {"features": "rank"}, 100, 0, None)
    # the report names the map of rows stored without one (the default map)
    assert tabular._shown('{"alpha": 1.0}') == '{"alpha": 1.0, "features": "quantile"}'
    assert tabular._shown('{"alpha": 1.0, "features": "standard"}').count("standard") == 1


def test_quick_run_writes_reports_and_resumes(tmp_path, capsys):
    # one feature map keeps the run short; the choice has its own test above
    args = ["--quick", "--sets", "diabetes,friedman1", "--splits", "1", "--out-dir", str(tmp_path)]
    args += ["--features", "quantile"]
    assert tabular.main(args) == 0
    csv_path = tmp_path / "tabular_quick.csv"
    rows = _rows(csv_path)
    models = tabular.all_models()
    n_settings = sum(len(tabular.grid_for(m, c, quick=True)) for m, c in models.items())
    assert len(rows) == 2 * n_settings
    assert {r["dataset"] for r in rows} == {"diabetes", "friedman1"}
    assert all(r["status"] == "ok" for r in rows), [r["message"] for r in rows]
    ridge = [float(r["test_r2"]) for r in rows if r["model"] == "Ridge"]
    assert min(ridge) > 0.3  # bundled sets: a linear model explains a fair share
    out = capsys.readouterr().out
    assert f"[{len(rows)}/{len(rows)}]" in out and "ETA" in out
    report = (tmp_path / "tabular_quick.md").read_text()
    assert "average rank" in report and "Machine:" in report
    for name in models:
        assert name.replace("Regressor", "").replace("HistGradientBoosting", "HGB") in report
    assert (tmp_path / "tabular_quick.png").stat().st_size > 1000

    # A finished run is not repeated.
    tabular.main(args)
    assert "0 fits to run" in capsys.readouterr().out
    assert len(_rows(csv_path)) == len(rows)

    # An interrupted run (last row missing) resumes with that one fit only.
    lines = csv_path.read_text().splitlines(keepends=True)
    csv_path.write_text("".join(lines[:-1]))
    tabular.main(args)
    assert "1 fits to run" in capsys.readouterr().out
    assert len(_rows(csv_path)) == len(rows)

    # --redo refits one model only.
    tabular.main(args + ["--redo", "Ridge"])
    n_ridge = sum(r["model"] == "Ridge" for r in rows)
    assert f"{n_ridge} fits to run" in capsys.readouterr().out
    assert len(_rows(csv_path)) == len(rows)


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(SystemExit, match="unknown data set"):
        tabular.main(["--sets", "nope", "--out-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="unknown model"):
        tabular.main(["--sets", "diabetes", "--models", "Nope", "--out-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="unknown feature map"):
        tabular.main(["--sets", "diabetes", "--features", "rank", "--out-dir", str(tmp_path)])
    try:
        import cupy  # noqa: F401
    except ImportError:  # without CuPy, --device cuda stops with the hint
        with pytest.raises(SystemExit, match="CuPy"):
            tabular.main(["--sets", "diabetes", "--device", "cuda", "--out-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="not found"):
        tabular.main(
            ["--sets", "concrete", "--data-dir", str(tmp_path), "--out-dir", str(tmp_path)]
        )
