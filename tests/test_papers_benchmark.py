"""The papers' claims benchmark (``benchmarks/papers.py``) in --quick mode."""

import pathlib
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import papers  # noqa: E402


def _data_dir():
    try:
        return papers.data_dir()
    except SystemExit:
        pytest.skip("MNIST / Fashion-MNIST (shared/data) not available")


def test_initial_weights_are_zorbs():
    """Adam starts from the weights skgf's ZORB draws for the same seed."""
    from sklearn.utils import check_random_state

    from skgf._network import init_weights

    sizes = [7, 5, 3, 2]
    coefs, intercepts = papers.glorot_init(sizes, 4)
    ref_c, ref_b = init_weights(sizes, check_random_state(4), "glorot_uniform", np, "cpu", "f4")
    for a, b in zip(coefs + intercepts, ref_c + ref_b):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_zorb_output_matches_the_estimator():
    from skgf import ZORBClassifier

    rng = np.random.RandomState(0)
    X = rng.rand(200, 6).astype(np.float32)
    y = rng.randint(0, 3, 200)
    for target in ("one_hot", "softmax_inverse"):
        clf = ZORBClassifier(hidden_layer_sizes=(8, 5), class_target=target, random_state=0)
        clf.fit(X, y)
        out = papers.zorb_output(clf, X)
        if target == "softmax_inverse":
            np.testing.assert_allclose(out, clf.predict_proba(X), atol=1e-4)
        np.testing.assert_array_equal(clf.classes_[out.argmax(axis=1)], clf.predict(X))


def test_adam_gradients_match_finite_differences():
    rng = np.random.RandomState(1)
    X = rng.rand(16, 5)
    Y = papers.one_hot(rng.randint(0, 3, 16), 3).astype(np.float64)
    coefs, intercepts = papers.glorot_init([5, 4, 3], 0)
    adam = papers.AdamMLP(
        [c.astype(np.float64) for c in coefs], [b.astype(np.float64) for b in intercepts], 1e-3, 0
    )
    _, grads = adam.gradients(X, Y)
    for p, g in zip(adam.params, grads):
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for j in range(0, flat.size, 3):
            old = flat[j]
            flat[j] = old + 1e-6
            up = adam.gradients(X, Y)[0]
            flat[j] = old - 1e-6
            down = adam.gradients(X, Y)[0]
            flat[j] = old
            assert abs((up - down) / 2e-6 - gflat[j]) < 1e-6
    before = adam.gradients(X, Y)[0]
    for _ in range(50):
        adam.step(X, Y)
    assert adam.gradients(X, Y)[0] < before


def test_quick_run_writes_the_report_and_plots(tmp_path, capsys):
    _data_dir()
    assert papers.main(["--quick", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("Verdict") >= 5  # 2 ZORB nets, RSO, 2 LRA sets, SIBP
    report = (tmp_path / "papers_quick.md").read_text()
    assert "The papers' claims, tested" in report and "Machine:" in report
    assert "| claim | paper's figure | ours | verdict |" in report
    for name in papers.SECTIONS:
        assert (tmp_path / f"papers_quick_{name}.png").stat().st_size > 1000
        assert f"papers_quick_{name}.png" in report
    table = [line for line in report.splitlines() if line.startswith("| ") and "claim" not in line]
    assert len(table) == 5
    verdicts = [line.rstrip(" |").rsplit("| ", 1)[1] for line in table]
    assert all(v.startswith(("reproduced", "partly", "not reproduced")) for v in verdicts), verdicts


def test_bad_section_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="unknown section"):
        papers.main(["--quick", "--sections", "nope", "--out-dir", str(tmp_path)])
