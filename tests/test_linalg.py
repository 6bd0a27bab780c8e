"""Least squares and activations: property tests against NumPy references."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skgf._activations import INVERSE_CLIP_EPS, activate, inverse
from skgf._array_api import numpy_namespace
from skgf._linalg import GramAccumulator, ridge_from_gram

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
