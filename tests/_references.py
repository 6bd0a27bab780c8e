"""Plain NumPy references of skgf's solvers, for tests only.

Each solves its problem the obvious way (dense normal equations in float64),
so the tests can check the chunked, centred and pushed-through solvers of
``skgf._linalg`` against them. Tests import it as ``from _references import
...`` (pytest puts ``tests/`` on ``sys.path``).
"""

import numpy as np


def lstsq_reference(H, T, alpha):
    """Reference of ``GramAccumulator.solve``: ridge of ``T`` on ``[H, 1]``,
    the bias unpenalised (solved on centred data)."""
    H = np.asarray(H, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    Hc = H - H.mean(axis=0)
    Tc = T - T.mean(axis=0)
    d = H.shape[1]
    W = np.linalg.solve(Hc.T @ Hc + alpha * np.eye(d), Hc.T @ Tc)
    return W, T.mean(axis=0) - H.mean(axis=0) @ W


def proximal_reference(F, Z, W_prev, b_prev, lam, alpha=0.0, weights=None):
    """Reference of ``proximal_solve`` (augmented normal equations)."""
    F = np.asarray(F, dtype=np.float64)
    n, d = F.shape
    Fa = np.hstack([F, np.ones((n, 1))])
    if weights is not None:
        root = np.sqrt(np.asarray(weights, dtype=np.float64))[:, None]
        Fa, Z = Fa * root, np.asarray(Z, dtype=np.float64) * root
    Wa = np.vstack(
        [np.asarray(W_prev, dtype=np.float64), np.asarray(b_prev, dtype=np.float64)[None, :]]
    )
    D = np.full(d + 1, lam + alpha)
    D[-1] = lam
    sol = np.linalg.solve(Fa.T @ Fa + np.diag(D), Fa.T @ np.asarray(Z, dtype=np.float64) + lam * Wa)
    return sol[:-1], sol[-1]
