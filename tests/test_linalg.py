"""Least squares and activations: property tests against NumPy references."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skgf._activations import INVERSE_CLIP_EPS, activate, inverse
from skgf._array_api import numpy_namespace
from skgf._linalg import (
    GramAccumulator,
    _block_inverse,
    _bundled_with_scipy,
    _cholesky_solve_numpy,
    _lapack_spd_inverse,
    _lapack_spd_solve,
    _solve_identity_plus_psd,
    ridge_from_gram,
    scipy_lapack_single_threaded,
)
from skgf._network import hidden_forward, hidden_forward_units

from _references import lstsq_reference

xp = numpy_namespace()


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 40),
    d=st.integers(1, 8),
    k=st.integers(1, 3),
    chunk=st.integers(1, 40),
    alpha=st.sampled_from([1e-3, 0.1, 10.0]),
    offset=st.sampled_from([0.0, 1e3]),
    seed=st.integers(0, 10_000),
)
def test_chunked_ridge_matches_reference(n, d, k, chunk, alpha, offset, seed):
    rng = np.random.RandomState(seed)
    H = rng.randn(n, d) + offset
    T = rng.randn(n, k)
    acc = GramAccumulator(xp)
    for start in range(0, n, chunk):
        acc.add(H[start : start + chunk], T[start : start + chunk])
    W, b = acc.solve(alpha)
    W_ref, b_ref = lstsq_reference(H, T, alpha)
    np.testing.assert_allclose(W, W_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b, b_ref, rtol=1e-6, atol=1e-6 * (1 + offset))


def test_zero_alpha_matches_lstsq_on_full_rank_data():
    rng = np.random.RandomState(0)
    H, T = rng.randn(100, 6), rng.randn(100, 2)
    acc = GramAccumulator(xp)
    acc.add(H, T)
    W, b = acc.solve(0.0)
    coef, *_ = np.linalg.lstsq(np.column_stack([H, np.ones(100)]), T, rcond=None)
    np.testing.assert_allclose(W, coef[:-1], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b, coef[-1], rtol=1e-8, atol=1e-10)


def test_singular_gram_falls_back_and_stays_finite():
    """A duplicated column and alpha=0 make the Gram singular."""
    rng = np.random.RandomState(0)
    h = rng.randn(50, 1)
    H = np.hstack([h, h, np.zeros((50, 1))])
    T = 3 * h
    acc = GramAccumulator(xp)
    acc.add(H, T)
    W, b = acc.solve(0.0)
    assert np.all(np.isfinite(W))
    np.testing.assert_allclose(H @ W + b, T, atol=1e-6)


def test_eigh_fallback_for_indefinite_input():
    G = np.array([[1.0, 0.0], [0.0, -1.0]])  # Cholesky fails at every jitter
    W = ridge_from_gram(xp, G, np.array([[1.0], [1.0]]), alpha=0.0)
    assert np.all(np.isfinite(W))
    np.testing.assert_allclose(W[0], 1.0)


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(["tanh", "logistic"]),
    low=st.floats(-50, 50),
    width=st.floats(1e-3, 100),
    values=arrays(np.float64, 10, elements=st.floats(0, 1)),
)
def test_bounded_inverse_round_trips_inside_clip_range(name, low, width, values):
    high = low + width
    unit = np.clip(values, 2 * INVERSE_CLIP_EPS, 1 - 2 * INVERSE_CLIP_EPS)
    T = low + width * unit
    Z = inverse(xp, name, T, (low, high))
    np.testing.assert_allclose(
        activate(xp, name, Z, (low, high)), T, rtol=1e-7, atol=1e-9 * (abs(low) + width)
    )


def test_inverse_clips_out_of_range_targets():
    Z = inverse(xp, "tanh", np.array([-5.0, 5.0]), (-1.0, 1.0))
    assert np.all(np.isfinite(Z))
    assert np.all(np.abs(Z) <= np.arctanh(1 - 2 * INVERSE_CLIP_EPS) + 1e-9)
    np.testing.assert_array_equal(inverse(xp, "relu", np.array([-1.0, 2.0])), [0.0, 2.0])


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 600),
    k=st.sampled_from([1, 7, 40, 256, 300]),
    one_dim=st.booleans(),
    seed=st.integers(0, 2**16),
)
@example(n=256, k=7, one_dim=False, seed=0)
@example(n=257, k=300, one_dim=False, seed=0)
@example(n=512, k=7, one_dim=True, seed=0)
@example(n=512, k=256, one_dim=False, seed=0)
@example(n=300, k=40, one_dim=False, seed=0)
def test_blocked_cholesky_solve_matches_general_solve(n, k, one_dim, seed):
    # the blocked substitutions (256-row diagonal blocks inverted for many
    # right-hand sides, 32-row blocks solved for few) against LAPACK's LU
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n + 5, n))
    A = M.T @ M + np.eye(n)
    B = rng.standard_normal(n if one_dim else (n, k))
    solution = _cholesky_solve_numpy(A, np.linalg.cholesky(A), B)
    assert solution.shape == B.shape
    np.testing.assert_allclose(solution, np.linalg.solve(A, B), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("k", [3, 600])
def test_blocked_cholesky_solve_on_ill_conditioned_ridge_system(k):
    # a rank-deficient Gram with ridge_from_gram's relative jitter (condition
    # number ~1e10): the residual stays at the level of LAPACK's LU solve
    rng = np.random.default_rng(3)
    F = rng.standard_normal((900, 40)) @ rng.standard_normal((40, 600))
    G = F.T @ F
    A = G + 1e-10 * np.trace(G) / 600 * np.eye(600)
    B = rng.standard_normal((600, k))
    blocked = _cholesky_solve_numpy(A, np.linalg.cholesky(A), B)
    scale = np.abs(B).max()
    lu_residual = np.abs(A @ np.linalg.solve(A, B) - B).max() / scale
    assert np.abs(A @ blocked - B).max() / scale <= 100 * max(lu_residual, 1e-12)


@pytest.mark.parametrize("name", ["identity", "relu", "tanh", "logistic"])
@pytest.mark.parametrize("value_range", [None, (-3.0, 5.0)])
def test_forward_into_buffer_with_shift_matches_plain_forward(name, value_range):
    # the ZORB chunk path (output buffer, shift joined to the activation)
    # against the plain forward pass minus the shift
    rng = np.random.default_rng(0)
    X = rng.standard_normal((700, 30))
    W, b = rng.standard_normal((30, 600)), rng.standard_normal(600)
    shift = rng.standard_normal(600)
    ranges = None if value_range is None or name in ("identity", "relu") else [value_range]
    xp = numpy_namespace()
    plain = hidden_forward(xp, X, [W], [b], name, ranges)
    out = np.full((800, 600), np.nan)
    shifted = hidden_forward(xp, X, [W], [b], name, ranges, out=out, shift=shift)
    assert np.shares_memory(shifted, out)
    np.testing.assert_allclose(shifted, plain - shift, rtol=1e-12, atol=1e-12)
    # no layer: the shifted input, also into the buffer
    out = np.empty((800, 30))
    np.testing.assert_array_equal(
        hidden_forward(xp, X, [], [], name, out=out, shift=shift[:30]), X - shift[:30]
    )


def test_gram_of_pre_shifted_rows_matches_gram_of_rows():
    rng = np.random.default_rng(1)
    H, T = rng.standard_normal((300, 7)) + 50.0, rng.standard_normal((300, 2))
    whole = GramAccumulator(numpy_namespace())
    whole.add(H, T)
    chunked = GramAccumulator(numpy_namespace())
    chunked.add(H[:100], T[:100])
    for sl in (slice(100, 200), slice(200, 300)):
        chunked.add(H[sl] - chunked.row_shift(), T[sl], shifted=True)
    for got, want in zip(chunked.solve(1e-3), whole.solve(1e-3)):
        np.testing.assert_allclose(got, want, rtol=1e-9)
    with pytest.raises(ValueError, match="shifted"):
        GramAccumulator(numpy_namespace()).add(H, T, shifted=True)


@pytest.mark.parametrize("namespace", ["numpy", "array_api_strict"])
def test_gram_of_units_by_rows_blocks_matches_gram_of_rows(namespace):
    # ZORB's transposed blocks [H.T; codes.T; 1] (first one unshifted, the
    # others shifted by their caller, a partial last block) against add()
    rng = np.random.default_rng(2)
    H = rng.standard_normal((300, 7)) + 50.0
    codes = rng.integers(0, 3, 300)
    T = (codes[:, None] == np.arange(3)[None, :]).astype(float)
    whole = GramAccumulator(numpy_namespace())
    whole.add(H, T)
    xp = numpy_namespace() if namespace == "numpy" else pytest.importorskip(namespace)
    blocks = GramAccumulator(xp)
    for sl in (slice(0, 128), slice(128, 256), slice(256, 300)):
        shift = 0 if blocks.shift is None else np.asarray(blocks.row_shift())
        B = np.concatenate([(H[sl] - shift).T, T[sl].T, np.ones((1, sl.stop - sl.start))])
        B_before = B.copy()
        blocks.add_units_by_rows(xp.asarray(B), 3, shifted=sl.start > 0)
        np.testing.assert_array_equal(B, B_before)  # not overwrite_rows: left alone
    for got, want in zip(blocks.solve(1e-3), whole.solve(1e-3)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-9)
    assert blocks.n == whole.n == 300
    np.testing.assert_allclose(np.asarray(blocks.t_sum), T.sum(axis=0))
    with pytest.raises(ValueError, match="shifted"):
        GramAccumulator(numpy_namespace()).add_units_by_rows(B, 3, shifted=True)


@pytest.mark.parametrize("name", ["relu", "tanh"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_by_units_matches_forward_by_rows(name, dtype):
    # two layers, the last transposed into a buffer wider than the chunk,
    # with and without the shift
    rng = np.random.default_rng(3)
    X = rng.standard_normal((700, 30)).astype(dtype)
    coefs = [rng.standard_normal((30, 40)).astype(dtype), rng.standard_normal((40, 600))]
    coefs[1] = (coefs[1] / 6).astype(dtype)
    intercepts = [rng.standard_normal(40).astype(dtype), rng.standard_normal(600).astype(dtype)]
    ranges = [(-2.0, 3.0), (-1.0, 0.5)] if name == "tanh" else None
    shift = rng.standard_normal(600).astype(dtype)
    xp = numpy_namespace()
    by_rows = hidden_forward(xp, X, coefs, intercepts, name, ranges)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for unit_shift in (None, shift):
        buffer = np.full((600, 800), np.nan, dtype)
        out = hidden_forward_units(X, coefs, intercepts, name, ranges, buffer[:, :700], unit_shift)
        assert np.shares_memory(out, buffer) and np.isnan(buffer[:, 700:]).all()
        want = by_rows if unit_shift is None else by_rows - unit_shift
        np.testing.assert_allclose(out, want.T, **tol)


def test_elementwise_threads_follow_blas_limits():
    # the BLAS libraries are found once; the limit set later is still read
    from threadpoolctl import threadpool_limits

    from skgf._elementwise import n_threads

    n_threads()
    with threadpool_limits(limits=1, user_api="blas"):
        assert n_threads() == 1


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("shape", [(700, 600), (3, 200_000), (1, 300_000)])
def test_column_range_in_threads_equals_numpy(order, shape):
    # large enough for the threaded path; fewer rows than threads too
    from skgf._elementwise import column_range

    X = np.asarray(np.random.default_rng(0).standard_normal(shape), dtype=np.float32, order=order)
    low, high = column_range(X)
    assert low.dtype == high.dtype == X.dtype
    np.testing.assert_array_equal(low, X.min(axis=0))
    np.testing.assert_array_equal(high, X.max(axis=0))


def _batch_system(n, dtype, seed=0):
    """``I + F F^T / mu + 1 / lam`` of semi-implicit BP's dual step on ``n``
    sparse non-negative rows (MNIST-like: a dominant shared direction,
    condition number in the thousands)."""
    rng = np.random.default_rng(seed)
    F = rng.random((n, 784)) * (rng.random((n, 784)) < 0.2)
    K = F @ F.T / 2.003 + 0.5 + np.eye(n)
    return K.astype(dtype)


@pytest.mark.parametrize("n", [96, 97, 200, 333])
def test_block_inverse_of_float32_batch_system_is_as_accurate_as_numpys(n):
    # NumPy inverts a float32 matrix in float64 and rounds the result: the
    # split inverse must stay within twice that rounding of the float64
    # inverse (a split in float32 arithmetic failed at 200 and 333 rows)
    K = _batch_system(n, np.float32)
    exact = np.linalg.inv(K.astype(np.float64))
    inverse = _block_inverse(K)
    assert inverse.dtype == np.float32
    numpy_error = np.abs(np.linalg.inv(K) - exact).max()
    assert np.abs(inverse - exact).max() <= 2 * numpy_error + 1e-7 * np.abs(exact).max()


@pytest.mark.parametrize("n, dtype", [(200, np.float64), (95, np.float32)])
def test_unsplit_inverse_is_as_accurate_as_numpys(n, dtype):
    # float64 input and small matrices are inverted whole, by Cholesky
    K = _batch_system(n, dtype)
    exact = np.linalg.inv(K.astype(np.float64))
    inverse = _block_inverse(K)
    assert inverse.dtype == dtype
    np.testing.assert_array_equal(inverse, inverse.T)
    scale = np.abs(exact).max()
    if dtype == np.float64:  # two float64 inverses, rounding apart (a float32 one fails)
        assert np.abs(inverse - exact).max() <= 1e-12 * scale
    else:  # within twice NumPy's own rounding of the float64 inverse
        numpy_error = np.abs(np.linalg.inv(K) - exact).max()
        assert np.abs(inverse - exact).max() <= 2 * numpy_error + 1e-7 * scale


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_identity_plus_psd_solve_with_few_columns_is_as_accurate_as_numpys(dtype):
    K = _batch_system(200, dtype, seed=1)
    R = np.random.default_rng(2).standard_normal((200, 5)).astype(dtype)
    solution = _solve_identity_plus_psd(numpy_namespace(), K, R)
    assert solution.dtype == dtype
    exact = np.linalg.solve(K.astype(np.float64), R.astype(np.float64))
    # float32: within twice NumPy's own rounding of the float64 solution;
    # float64: two solvers' rounding apart (condition number in the thousands)
    numpy_error = np.abs(np.linalg.solve(K, R) - exact).max()
    assert np.abs(solution - exact).max() <= 2 * numpy_error + 1e-12 * np.abs(exact).max()


def test_lapack_cholesky_steps_leave_their_inputs_alone():
    # Fortran-ordered float64 arrays are the ones LAPACK could work on in place
    K = np.asfortranarray(_batch_system(50, np.float64))
    R = np.asfortranarray(np.random.default_rng(0).standard_normal((50, 3)))
    K_before, R_before = K.copy(), R.copy()
    _lapack_spd_solve(K, R)
    _lapack_spd_inverse(K)
    _block_inverse(K)
    np.testing.assert_array_equal(K, K_before)
    np.testing.assert_array_equal(R, R_before)


def test_lapack_cholesky_steps_raise_on_indefinite_and_give_nan_on_non_finite():
    indefinite = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(np.linalg.LinAlgError):
        _lapack_spd_solve(indefinite, np.ones((2, 1)))
    with pytest.raises(np.linalg.LinAlgError):
        _lapack_spd_inverse(indefinite)
    # an infinite entry stops the factorisation (LAPACK then leaves the
    # right-hand side as it was, a finite answer): NaN, for the fits'
    # divergence checks, as NumPy's solve gives
    infinite = np.array([[1.0, np.inf], [np.inf, 1.0]])
    assert np.isnan(_lapack_spd_solve(infinite, np.ones((2, 1)))).all()
    assert np.isnan(_lapack_spd_inverse(infinite)).all()
    assert not np.isfinite(
        _solve_identity_plus_psd(numpy_namespace(), infinite.astype(np.float32), np.ones((2, 1)))
    ).any()
    # the singular I + PSD system falls back to the ridge solve
    singular = np.zeros((3, 3))
    assert np.isfinite(_solve_identity_plus_psd(numpy_namespace(), singular, np.ones((3, 1)))).all()


def _blas_threads():
    """``(SciPy's own BLAS libraries' thread counts, the others')``."""
    from threadpoolctl import threadpool_info

    blas = [info for info in threadpool_info() if info["user_api"] == "blas"]
    scipy = [info["num_threads"] for info in blas if _bundled_with_scipy(info["filepath"])]
    others = [info["num_threads"] for info in blas if not _bundled_with_scipy(info["filepath"])]
    return scipy, others


def _skip_unless_scipy_blas_is_multithreaded():
    scipy, _ = _blas_threads()
    if not scipy or max(scipy) == 1:
        pytest.skip("no SciPy-only BLAS running several threads here: nothing to pin")
    return scipy


def test_scipy_lapack_single_threaded_pins_scipys_own_blas_and_restores_it():
    before, others = _skip_unless_scipy_blas_is_multithreaded(), _blas_threads()[1]
    with scipy_lapack_single_threaded():
        with scipy_lapack_single_threaded():  # nested: one shared limit
            assert _blas_threads() == ([1] * len(before), others)  # NumPy's left alone
        assert _blas_threads() == ([1] * len(before), others)
    assert _blas_threads() == (before, others)


def test_scipy_lapack_single_threaded_across_threads():
    # threadpoolctl lets one Python thread at a time set OpenBLAS limits:
    # blocks opened and closed by different threads must still pin and restore
    import threading
    from concurrent.futures import ThreadPoolExecutor

    before = _skip_unless_scipy_blas_is_multithreaded()
    with scipy_lapack_single_threaded():
        pass
    with ThreadPoolExecutor(1) as pool:  # a worker after the main thread
        inside = pool.submit(lambda: _pinned_threads_inside_a_block()).result()
    assert inside == [1] * len(before)
    assert _blas_threads()[0] == before
    assert _pinned_threads_inside_a_block() == [1] * len(before)  # and the main thread again
    # overlapping blocks: opened in a worker, closed there after the main
    # thread's block closes; the limit lasts until the last one ends
    opened, release = threading.Event(), threading.Event()

    def worker_block():
        with scipy_lapack_single_threaded():
            opened.set()
            assert release.wait(10)

    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(worker_block)
        try:
            assert opened.wait(10)
            with scipy_lapack_single_threaded():
                assert _blas_threads()[0] == [1] * len(before)
            assert _blas_threads()[0] == [1] * len(before)
        finally:
            release.set()
        done.result()
    assert _blas_threads()[0] == before


def _pinned_threads_inside_a_block():
    with scipy_lapack_single_threaded():
        return _blas_threads()[0]


def test_semi_implicit_bp_solves_with_scipys_blas_pinned(monkeypatch):
    import skgf._linalg
    from skgf import SemiImplicitBPRegressor

    before = _skip_unless_scipy_blas_is_multithreaded()
    seen = []
    solve = skgf._linalg._lapack_spd_solve

    def recording(A, R):
        seen.append(_blas_threads()[0])
        return solve(A, R)

    monkeypatch.setattr(skgf._linalg, "_lapack_spd_solve", recording)
    X = np.random.default_rng(0).standard_normal((60, 30))
    SemiImplicitBPRegressor(hidden_layer_sizes=(40,), batch_size=20, max_iter=2).fit(X, X[:, 0])
    assert seen and all(threads == [1] * len(before) for threads in seen)
    assert _blas_threads()[0] == before


@pytest.mark.parametrize("k", [200, 500])
def test_identity_plus_psd_solve_matches_float64_solve(k):
    # as many right-hand sides as rows, or more, go to the split inverse
    K = _batch_system(200, np.float32, seed=1)
    R = np.random.default_rng(2).standard_normal((200, k)).astype(np.float32)
    solution = _solve_identity_plus_psd(numpy_namespace(), K, R)
    assert solution.dtype == np.float32
    exact = np.linalg.solve(K.astype(np.float64), R.astype(np.float64))
    # the same path with NumPy's own inverse as reference
    numpy_way = np.linalg.inv(K) @ R
    numpy_error = np.abs(numpy_way - exact).max()
    assert np.abs(solution - exact).max() <= 2 * numpy_error + 1e-8 * np.abs(exact).max()
