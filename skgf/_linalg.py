"""Regularised least squares from accumulated Gram matrices.

The data never meets an explicit pseudoinverse: ``H^T H`` and ``H^T T`` are
summed over row chunks (memory ``O(chunk * d + d^2)``, independent of the
number of samples), centred so the bias is left unpenalised, and solved by
Cholesky, with an eigenvalue-floored ``eigh`` as the fallback.

``proximal_solve`` is the proximal (ridge toward the previous weights) step of
one layer on one mini-batch, solved on the smaller of the ``batch x batch``
and ``width x width`` systems (semi-implicit back propagation).

``solve_spd`` and ``solve_psd_eigh`` are the symmetric solves underneath,
written for every backend (NumPy, CuPy, other array-API namespaces).
"""

import contextlib
import importlib
import math
import os
import threading
from pathlib import Path

import numpy as np
from array_api_compat import is_cupy_array
from scipy.linalg import lapack

from ._array_api import device_of, is_numpy_namespace, supports_float64
from ._elementwise import blas_controller, for_row_slices, rowwise_in_place

# Relative jitter added to the diagonal before Cholesky (times the mean of
# the diagonal), raised tenfold on each failure; then eigh takes over.
_JITTER = 1e-10
_JITTER_TRIES = 4


def solve_spd(xp, A, B):
    """Solve ``A @ X = B`` for symmetric positive-definite ``A``.

    A Cholesky factorisation tests definiteness on every backend; NumPy
    (:func:`_cholesky_solve_numpy`) and CuPy (two triangular solves from
    cupyx) then solve with it, the other namespaces with their general
    solve. Raises ``np.linalg.LinAlgError`` when ``A`` is not numerically
    positive definite, so callers can fall back.
    """
    if is_numpy_namespace(xp):
        # NumPy's own LAPACK, not SciPy's (which semi-implicit BP's small
        # solves use, see scipy_lapack_single_threaded): on ZORB's MNIST
        # solves (2 cores) NumPy took 70 ms for 2001 rows with 10 right-hand
        # sides and 37 ms for 785 rows with 2000; SciPy's dposv 65 / 70 ms
        # with its pool pinned to one thread, 74 / 122 ms unpinned beside
        # NumPy's spinning pool.
        # The factor that tests definiteness also solves: a general solve
        # would factor A a second time (an LU, twice a Cholesky's work).
        return _cholesky_solve_numpy(A, np.linalg.cholesky(A), B)
    L = xp.linalg.cholesky(A)
    if not bool(xp.all(xp.isfinite(L))):  # CuPy returns NaN instead of raising
        raise np.linalg.LinAlgError("matrix is not positive definite")
    if is_cupy_array(A):
        from cupyx.scipy.linalg import solve_triangular

        return solve_triangular(L.T, solve_triangular(L, B, lower=True), lower=False)
    return xp.linalg.solve(A, B)


# Systems up to this size go to LAPACK's general solve. Beyond it, the two
# triangular substitutions run blockwise: with many right-hand sides in
# blocks of this many rows, each solved by a product with its inverse (a
# product is quicker than a small solve); with few, in blocks of
# _FEW_RHS_BLOCK rows (LU-solved), whose small solves cost least (measured
# at n = 2000: 5.6 ms for 10 right-hand sides against 14 ms in 256-row blocks).
_TRIANGULAR_BLOCK = 256
_FEW_RHS_BLOCK = 32


def _cholesky_solve_numpy(A, L, B):
    """``A^{-1} B`` for ``A = L L^T`` (``L`` its lower Cholesky factor), in NumPy alone.

    NumPy has no triangular solve, so beyond ``_TRIANGULAR_BLOCK`` rows both
    substitutions run blockwise: each block of unknowns takes one matrix
    product with the blocks already solved and one solve of its diagonal
    block. Up to that size, LAPACK's general solve of ``A`` costs less.
    """
    n = L.shape[0]
    if n <= _TRIANGULAR_BLOCK:
        return np.linalg.solve(A, B)
    B2 = B[:, None] if B.ndim == 1 else B
    many = B2.shape[1] >= _TRIANGULAR_BLOCK
    step = _TRIANGULAR_BLOCK if many else _FEW_RHS_BLOCK
    blocks = [(s, min(s + step, n)) for s in range(0, n, step)]
    inverses = [np.linalg.inv(L[s:e, s:e]) if many else None for s, e in blocks]

    def diagonal_solve(i, rhs, transposed):
        s, e = blocks[i]
        if many:
            return (inverses[i].T if transposed else inverses[i]) @ rhs
        return np.linalg.solve(L[s:e, s:e].T if transposed else L[s:e, s:e], rhs)

    Y = np.empty((n, B2.shape[1]), dtype=np.result_type(L, B2))
    for i, (s, e) in enumerate(blocks):  # L Y = B, top block first
        Y[s:e] = diagonal_solve(i, B2[s:e] - L[s:e, :s] @ Y[:s], False)
    solution = np.empty_like(Y)
    for i, (s, e) in reversed(list(enumerate(blocks))):  # L^T x = Y, bottom block first
        solution[s:e] = diagonal_solve(i, Y[s:e] - L[e:, s:e].T @ solution[e:], True)
    return solution.reshape(B.shape)


def solve_psd_eigh(xp, A, B, floor):
    """Solve ``A @ X = B`` for symmetric ``A`` with eigenvalues floored at ``floor``."""
    eigvals, eigvecs = xp.linalg.eigh(A)
    eigvals = xp.where(eigvals > floor, eigvals, xp.asarray(floor, dtype=A.dtype))
    return eigvecs @ ((eigvecs.T @ B) / eigvals[:, None])


class GramAccumulator:
    """Running sums for the least-squares fit of ``T`` on ``[H, 1]``.

    Rows are shifted by the column means of the first chunk before they are
    summed, so that the later centring subtracts small numbers from small
    numbers (large feature offsets would otherwise cancel catastrophically in
    float32).

    Accumulators of disjoint row sets combine with :meth:`merge` (how a
    blockwise dask fit reduces its per-block sums) and pickle, so they can
    travel between workers.
    """

    def __init__(self, xp):
        self.xp = xp
        self.n = 0.0
        self.shift = None
        self.HtH = self.HtT = self.h_sum = self.t_sum = None

    def row_shift(self):
        """The shift subtracted from every row, in the rows' dtype (``None``
        before the first rows are added).

        A caller that computes its rows can subtract it on the way and add
        them with ``shifted=True``, which saves a pass over them.
        """
        return None if self.shift is None else self.xp.astype(self.shift, self.out_dtype)

    def add(self, H, T, weights=None, overwrite_rows=False, shifted=False):
        """Add the rows of ``H`` (n, d) and their targets ``T`` (n, k).

        ``overwrite_rows`` lets the shift be subtracted from ``H`` in place
        (for a caller whose ``H`` is a temporary): no copy of the rows.
        ``shifted`` says the rows are already minus :meth:`row_shift`.

        ``weights`` (n,), non-negative, weight the rows' squared errors: a
        row of weight ``k`` adds exactly what ``k`` copies of it add (and
        weight 0 what leaving it out adds), so ``n`` becomes the sum of the
        weights.

        The sums are kept in float64 where the device has it, also for
        float32 rows: a float32 Gram matrix of a wide, ill-conditioned layer
        summed over all rows loses enough digits to move predictions by a
        percent. Each chunk's products, though, run in the rows' own dtype
        (float32 products are twice as fast as float64 ones, and the rows
        were only float32-exact anyway); only their sums are float64. Only
        ``solve``'s result returns to the rows' dtype.
        """
        xp = self.xp
        if self.shift is None:
            if shifted:
                raise ValueError("rows cannot come shifted before the first rows set the shift")
            self._start(H, T, weights)
        acc = self.HtH.dtype
        # The shift is stored rounded to the rows' dtype, so H - shift in
        # that dtype is the shift that merge and solve undo (exactly, when
        # this method subtracts it; rows shifted by their caller on the way,
        # within a rounding of the rows).
        shift = self.row_shift()
        if shifted:
            Hs = H
        elif overwrite_rows and isinstance(H, np.ndarray) and H.flags.c_contiguous:
            Hs = rowwise_in_place(lambda rows: np.subtract(rows, shift, out=rows), H)
        elif overwrite_rows:
            H -= shift
            Hs = H
        else:
            Hs = H - shift
        T = xp.astype(T, H.dtype, copy=False)
        if weights is None:
            Hw, T_sum = Hs, xp.sum(T, axis=0, dtype=acc)
            self.n += H.shape[0]
        else:
            w = xp.astype(weights, H.dtype)[:, None]
            Hw, T_sum = Hs * w, xp.sum(T * w, axis=0, dtype=acc)
            self.n += float(xp.sum(xp.astype(weights, acc)))
        self._accumulate("HtH", Hw.T @ Hs)
        self.HtT = self.HtT + xp.astype(Hw.T @ T, acc)
        # the row sums as a product in the rows' dtype, like the Gram's own
        # terms: a float64 sum took 7x as long (8192 x 2000 float32 rows)
        ones = xp.ones((1, H.shape[0]), dtype=H.dtype, device=device_of(H))
        self.h_sum = self.h_sum + xp.astype(ones @ Hw, acc)[0, :]
        self.t_sum = self.t_sum + T_sum

    def add_units_by_rows(self, B, n_targets, overwrite_rows=False, shifted=False):
        """Add rows given transposed in one block ``B = [H.T; T.T; 1]``: the
        rows ``H`` (n, d) as columns, their ``n_targets`` targets ``T`` below
        them, and a row of ones.

        ``shifted`` says the top block ``H.T`` is already minus
        :meth:`row_shift` (one value per row of ``H.T``); else the shift is
        subtracted here, in place when ``overwrite_rows`` allows it (NumPy).
        One symmetric product ``B @ B.T`` (NumPy: a BLAS syrk) then holds
        every sum of :meth:`add`: ``H^T H``, ``H^T T``, ``H^T 1`` and
        ``T^T 1`` are its blocks. So the rows are read once, where
        :meth:`add` reads them again for ``H^T T`` and ``H^T 1``; the sums
        agree up to the rounding order of the product. The product also
        holds ``T^T T`` (unused): worth it for few targets only.
        """
        xp = self.xp
        d = B.shape[0] - n_targets - 1
        if self.shift is None:
            if shifted:
                raise ValueError("rows cannot come shifted before the first rows set the shift")
            self._start(
                xp.permute_dims(B[:d, :], (1, 0)), xp.permute_dims(B[d:-1, :], (1, 0)), None
            )
        if not shifted:
            B = self._shift_units(B, d, overwrite_rows)
        products = B @ xp.permute_dims(B, (1, 0))
        self._accumulate("HtH", products[:d, :d])
        self._accumulate("HtT", products[:d, d:-1])
        self._accumulate("h_sum", products[:d, -1])
        self._accumulate("t_sum", products[d:-1, -1])
        self.n += B.shape[1]

    def _shift_units(self, B, d, overwrite_rows):
        """``B`` with :meth:`row_shift` subtracted from its first ``d`` rows:
        in place (on blocks of rows in threads) for a NumPy ``B`` that may be
        overwritten, else in a new block."""
        shift = self.xp.reshape(self.row_shift(), (-1, 1))
        if not (overwrite_rows and isinstance(B, np.ndarray)):
            return self.xp.concat([B[:d, :] - shift, B[d:, :]], axis=0)

        def subtract(units):
            np.subtract(B[:d][units], shift[units], out=B[:d][units])

        for_row_slices(subtract, B[:d])
        return B

    def _accumulate(self, name, term):
        """Add ``term`` (in the rows' dtype) to the float64 sum ``name``.

        NumPy adds in place, widening as it goes: a widened copy of a
        ``2000 x 2000`` term and a new sum per chunk cost twice the time.
        """
        total = getattr(self, name)
        if isinstance(total, np.ndarray) and isinstance(term, np.ndarray):
            np.add(total, term, out=total)
        else:
            setattr(self, name, total + self.xp.astype(term, total.dtype))

    def _start(self, H, T, weights):
        """Zero sums and the shift (the first chunk's column means) for rows like ``H``."""
        xp = self.xp
        device = device_of(H)
        self.out_dtype = H.dtype
        acc = xp.float64 if supports_float64(xp, device) else H.dtype
        if weights is None:  # summed in acc, with no widened copy of the chunk
            shift = xp.sum(H, axis=0, dtype=acc) / H.shape[0]
        else:  # the weighted mean (zero if the chunk's weights are): any shift is exact
            w = xp.astype(weights, acc)
            total = xp.sum(w)
            shift = xp.sum(xp.astype(H, acc) * w[:, None], axis=0) / xp.where(
                total > 0, total, xp.ones_like(total)
            )
        self.shift = xp.astype(xp.astype(shift, H.dtype), acc)
        self.HtH = xp.zeros((H.shape[1], H.shape[1]), dtype=acc, device=device)
        self.HtT = xp.zeros((H.shape[1], T.shape[1]), dtype=acc, device=device)
        self.h_sum = xp.zeros(H.shape[1], dtype=acc, device=device)
        self.t_sum = xp.zeros(T.shape[1], dtype=acc, device=device)

    def map_targets(self, M):
        """Replace every row's target ``t`` by ``t @ M``, from the sums alone.

        Exact algebra (the sums are linear in the targets): a layer whose
        rows carry one-hot class codes as targets gets the sums of the
        class targets ``M`` without a ``rows x width`` product.
        """
        if self.shift is None:
            return self
        M = self.xp.astype(M, self.HtT.dtype)
        self.HtT = self.HtT @ M
        self.t_sum = self.t_sum @ M
        return self

    def add_affine_of_inputs(self, W, b, scale):
        """Add ``scale * (h @ W + b)`` to every row's target, from the sums alone.

        With the shifted rows ``hs = h - shift``, ``sum hs^T h = HtH +
        h_sum shift^T`` and ``sum h = h_sum + n shift``, so the cross sums of
        the extra target need no pass over the rows (ZORB's random-feature
        term, whose forward pass would cost as much as the layer's Gram).
        """
        if self.shift is None:
            return self
        xp = self.xp
        acc = self.HtT.dtype
        W, b = xp.astype(W, acc), xp.astype(b, acc)
        inputs_cross = self.HtH + self.h_sum[:, None] * self.shift[None, :]
        self.HtT = self.HtT + scale * (inputs_cross @ W + self.h_sum[:, None] * b[None, :])
        self.t_sum = self.t_sum + scale * ((self.h_sum + self.n * self.shift) @ W + self.n * b)
        return self

    def merge(self, other):
        """Add the sums of ``other``, an accumulator over other rows.

        ``other``'s sums are re-expressed around this accumulator's shift
        (exact algebra: with ``d = other.shift - self.shift``, each shifted
        row gains ``d``). Returns ``self``; ``other`` is left unchanged.
        """
        if other.shift is None:
            return self
        if self.shift is None:
            self.out_dtype = getattr(other, "out_dtype", other.HtH.dtype)
            self.n, self.shift = other.n, other.shift
            # a copy: later adds write into this accumulator's Gram in place
            self.HtH, self.HtT = self.xp.asarray(other.HtH, copy=True), other.HtT
            self.h_sum, self.t_sum = other.h_sum, other.t_sum
            return self
        d = other.shift - self.shift
        cross = other.h_sum[:, None] * d[None, :]
        self.HtH = self.HtH + other.HtH + cross + cross.T + other.n * (d[:, None] * d[None, :])
        self.HtT = self.HtT + other.HtT + d[:, None] * other.t_sum[None, :]
        self.h_sum = self.h_sum + other.h_sum + other.n * d
        self.t_sum = self.t_sum + other.t_sum
        self.n += other.n
        return self

    def __getstate__(self):
        state = self.__dict__.copy()
        state["xp"] = self.xp.__name__  # modules do not pickle; their names do
        return state

    def __setstate__(self, state):
        state = dict(state)
        state["xp"] = importlib.import_module(state["xp"])
        self.__dict__.update(state)

    def solve(self, alpha):
        """Weights ``W`` (d, k) and bias ``b`` (k,) minimising
        ``||H W + b - T||^2 + alpha ||W||^2``."""
        xp = self.xp
        dtype = getattr(self, "out_dtype", self.HtH.dtype)
        device = device_of(self.HtH)
        solve_dtype = xp.float64 if supports_float64(xp, device) else dtype
        n = self.n
        h_mean = xp.astype(self.h_sum, solve_dtype) / n
        t_mean = xp.astype(self.t_sum, solve_dtype) / n
        outer = h_mean[:, None] * h_mean[None, :]
        G = _minus_scaled(xp, xp.astype(self.HtH, solve_dtype, copy=True), n, outer)
        R = xp.astype(self.HtT, solve_dtype) - n * (h_mean[:, None] * t_mean[None, :])
        W = ridge_from_gram(xp, G, R, alpha)
        b = t_mean - h_mean @ W - xp.astype(self.shift, solve_dtype) @ W
        return xp.astype(W, dtype), xp.astype(b, dtype)


def _minus_scaled(xp, A, scale, B):
    """``A - scale * B``, written into ``A`` and ``B`` for NumPy (both must be
    the caller's own temporaries: a ``2000 x 2000`` float64 result is 32 MB
    of fresh pages); a new array for the other namespaces, whose arrays
    need not be writable."""
    if isinstance(A, np.ndarray) and isinstance(B, np.ndarray):
        B *= scale
        return np.subtract(A, B, out=A)
    return A - scale * B


def _plus_diagonal(xp, G, value):
    """``G + value * I`` as a new array (for NumPy without a ``d x d`` identity)."""
    if isinstance(G, np.ndarray):
        A = G.copy()
        A.flat[:: A.shape[1] + 1] += value  # the diagonal of a C-ordered square matrix
        return A
    return G + value * xp.eye(G.shape[0], dtype=G.dtype, device=device_of(G))


def ridge_from_gram(xp, G, R, alpha):
    """Solve ``(G + alpha I) W = R`` for symmetric positive semi-definite ``G``."""
    d = G.shape[0]
    scale = float(xp.sum(xp.linalg.diagonal(G))) / max(d, 1) if d else 0.0
    scale = scale if math.isfinite(scale) and scale > 0 else 1.0
    jitter = _JITTER * scale
    for _ in range(_JITTER_TRIES):
        try:
            return solve_spd(xp, _plus_diagonal(xp, G, alpha + jitter), R)
        except np.linalg.LinAlgError:
            jitter *= 10.0
    return solve_psd_eigh(xp, _plus_diagonal(xp, G, alpha), R, floor=jitter)


def _solve_spd_or_ridge(xp, A, R):
    """``A^{-1} R`` by Cholesky; jittered / eigh fallback if ``A`` is not PD.

    With more right-hand sides than rows, CuPy and the other namespaces form
    ``A^{-1}`` and multiply (one matrix product runs several times faster
    than two triangular solves with that many columns); NumPy's solve
    (:func:`_cholesky_solve_numpy`) already runs on matrix products.
    """
    try:
        if R.shape[1] > A.shape[0] and not is_numpy_namespace(xp):
            eye = xp.eye(A.shape[0], dtype=A.dtype, device=device_of(A))
            return solve_spd(xp, A, eye) @ R
        return solve_spd(xp, A, R)
    except np.linalg.LinAlgError:
        return ridge_from_gram(xp, A, R, 0.0)


def _solve_identity_plus_psd(xp, A, R):
    """``A^{-1} R`` for ``A = I + (positive semi-definite)``.

    Every eigenvalue of such an ``A`` is at least 1, so it is positive
    definite by construction: NumPy solves by LAPACK's Cholesky solve
    (:func:`_lapack_spd_solve`; NumPy's general solve is an LU, twice the
    work, and its Cholesky has no triangular solve to follow it), and with
    at least as many right-hand sides as rows it multiplies by
    :func:`_block_inverse`. A singular ``A`` (LAPACK's error) falls back to
    the jittered ridge solve; non-finite entries give non-finite results,
    which the fits' divergence checks catch.
    """
    if not is_numpy_namespace(xp):
        return _solve_spd_or_ridge(xp, A, R)
    try:
        if R.shape[1] >= A.shape[0]:
            return _block_inverse(A) @ R
        return _lapack_spd_solve(A, R)
    except np.linalg.LinAlgError:
        return ridge_from_gram(xp, A, R, 0.0)


def _identity_plus_psd_inverse(xp, A):
    """``A^{-1}`` for ``A = I + (positive semi-definite)`` (see
    :func:`_solve_identity_plus_psd`), without a product by the identity."""
    if is_numpy_namespace(xp):
        try:
            return _block_inverse(A)
        except np.linalg.LinAlgError:
            return ridge_from_gram(xp, A, np.eye(A.shape[0], dtype=A.dtype), 0.0)
    eye = xp.eye(A.shape[0], dtype=A.dtype, device=device_of(A))
    return _solve_spd_or_ridge(xp, A, eye)


def _lapack_spd_solve(A, R):
    """``A^{-1} R`` for a NumPy symmetric positive-definite ``A``, by
    LAPACK's Cholesky solve (``dposv``) in float64, returned in the inputs'
    dtype (NumPy's solve also works in float64 for float32 input).

    Run it under :func:`scipy_lapack_single_threaded`: SciPy calls its own
    BLAS. Raises ``np.linalg.LinAlgError`` when ``A`` is finite but not
    positive definite; a non-finite ``A`` gives NaN where LAPACK stops on
    it. An infinite entry it does not stop on (one on the diagonal alone)
    can give a finite result; in the fits such an entry comes from an
    overflowing forward pass, whose loss the divergence checks catch.
    """
    _, solution, info = lapack.dposv(A, R)
    dtype = np.result_type(A, R)
    if not _cholesky_succeeded(info, A):
        return np.full(solution.shape, np.nan, dtype=dtype)
    return solution.astype(dtype, copy=False)


def _lapack_spd_inverse(A):
    """``A^{-1}`` for a NumPy symmetric positive-definite ``A``, from its
    Cholesky factor (``dpotrf`` and ``dpotri``, half the work of NumPy's LU
    inverse), in float64. Errors as :func:`_lapack_spd_solve`."""
    factor, info = lapack.dpotrf(A, lower=1, clean=1)
    if _cholesky_succeeded(info, A):
        inverse, info = lapack.dpotri(factor, lower=1)
        if _cholesky_succeeded(info, A):
            # dpotri writes the lower triangle; the upper one is zero (clean=1)
            inverse += np.tril(inverse, -1).T
            return inverse
    return np.full(A.shape, np.nan)


def _cholesky_succeeded(info, A):
    """Whether a LAPACK Cholesky step succeeded (``info == 0``). A failure on
    a finite ``A`` raises ``np.linalg.LinAlgError`` (not positive definite);
    on a non-finite ``A`` it returns ``False``, and the caller returns NaN
    for the fits' divergence checks (LAPACK leaves the right-hand side as it
    was, which would pass for a finite answer)."""
    if info < 0:
        raise ValueError(f"illegal argument {-info} to a LAPACK Cholesky routine")
    if info > 0 and np.isfinite(A).all():
        raise np.linalg.LinAlgError("matrix is not positive definite")
    return info == 0


# From this many rows a float32 ``I + PSD`` matrix is inverted by halves.
_SPLIT_INVERSE_MIN_ROWS = 96


def _block_inverse(A):
    """``A^{-1}`` of a NumPy ``A = I + (positive semi-definite)``, symmetric.

    Inverses by Cholesky (:func:`_lapack_spd_inverse`) run at a fraction
    of a matrix product's speed at a few hundred rows (2 cores: 0.52 ms at
    200 rows, NumPy's LU inverse 0.81 ms). A float32 ``A`` of
    ``_SPLIT_INVERSE_MIN_ROWS`` rows or more is therefore assembled, in
    float64, from the inverses of its leading half and of its Schur
    complement and four products (0.37 ms). Both halves are ``I + PSD``
    themselves (the Schur complement's inverse is a block of ``A^{-1}``,
    which is at most ``I``), so both have Cholesky factors. The split
    amplifies rounding by up to the norm of ``A``'s off-diagonal block: on
    semi-implicit BP's MNIST batches the residual ``A A^{-1} - I`` was 3e-11
    against 2e-14 unsplit at 200 rows (measured; splitting the halves again
    compounded it, 1e-5 at 333 rows). That is far below float32's rounding,
    where the result ends; float64 input is inverted whole.
    """
    n = A.shape[0]
    if A.dtype != np.float32 or n < _SPLIT_INVERSE_MIN_ROWS:
        return _lapack_spd_inverse(A).astype(A.dtype, copy=False)
    A = A.astype(np.float64)
    h = n // 2
    top_inverse = _lapack_spd_inverse(A[:h, :h])
    coupling = top_inverse @ A[:h, h:]  # (top block)^-1 times the off-diagonal block
    schur_inverse = _lapack_spd_inverse(A[h:, h:] - A[h:, :h] @ coupling)
    corner = coupling @ schur_inverse
    inverse = np.empty_like(A)
    inverse[:h, :h] = top_inverse + corner @ coupling.T
    inverse[:h, h:] = -corner
    inverse[h:, :h] = -corner.T
    inverse[h:, h:] = schur_inverse
    return inverse.astype(np.float32)


_single_thread_lock = threading.Lock()
# users: blocks open in this process; pinned: (library, its thread count
# before) of each library held to one thread; generation: bumped in a forked
# child, whose inherited open blocks must not close again
_single_thread = {"users": 0, "pinned": [], "generation": 0}


@contextlib.contextmanager
def scipy_lapack_single_threaded():
    """SciPy's own BLAS library on one thread while the block runs.

    SciPy's wheels bundle an OpenBLAS apart from NumPy's, each with its own
    thread pool, whose idle threads spin for a while after each call.
    Alternating NumPy products with SciPy LAPACK calls on two such pools
    made a 200-row Cholesky solve take 3.5 ms instead of 0.16 ms on 2 cores
    (measured; a semi-implicit BP epoch ran 4.5x slower). With SciPy's pool
    on one thread its calls run on the calling thread. The thread count is
    process-wide: blocks in any thread share one limit, set when the first
    opens and lifted when the last closes (to the count it found: a limit
    that other code set on SciPy's library meanwhile and lifted after is
    undone by this restore, as between any two overlapping save-and-restore
    scopes). Where SciPy uses NumPy's library (conda, for one), nothing is
    changed. The limit changes speed only, never results.
    """
    with _single_thread_lock:
        if _single_thread["users"] == 0:
            libraries = [
                lib
                for lib in blas_controller().lib_controllers
                if _bundled_with_scipy(lib.filepath)
            ]
            _single_thread["pinned"] = [(lib, lib.get_num_threads()) for lib in libraries]
            _set_threads([(lib, 1) for lib in libraries])
        _single_thread["users"] += 1
        generation = _single_thread["generation"]
    try:
        yield
    finally:
        with _single_thread_lock:
            if _single_thread["generation"] == generation:
                _single_thread["users"] -= 1
                if _single_thread["users"] == 0:
                    _set_threads(_single_thread["pinned"])
                    _single_thread["pinned"] = []


def _set_threads(counts):
    """Set each ``(library, threads)`` of ``counts``, from whichever thread
    calls. threadpoolctl 3.8 lets only one Python thread at a time (the first
    to set an OpenBLAS limit) change OpenBLAS limits through its public
    setter, and silently ignores the others; a block's first and last users
    may be different threads, so the library's own setter is called
    directly where threadpoolctl has one (it does not take that role from a
    user's ``threadpool_limits`` in another thread either)."""
    for lib, threads in counts:
        if threads is not None:
            getattr(lib, "_real_set_num_threads", lib.set_num_threads)(threads)


def _reset_after_fork():
    """In a forked child no block is open: undo a limit inherited from a
    block the parent had open, with a fresh lock (the parent's may be held),
    and let the inherited blocks' exits pass (a new generation)."""
    global _single_thread_lock
    _single_thread_lock = threading.Lock()
    if _single_thread["users"]:
        _set_threads(_single_thread["pinned"])
    _single_thread.update(users=0, pinned=[], generation=_single_thread["generation"] + 1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _bundled_with_scipy(path):
    """Whether a shared library is one that a SciPy wheel brings for itself
    (``scipy.libs/`` on Linux and Windows, ``scipy/.dylibs/`` on macOS)."""
    folder = Path(path).parent
    return folder.name == "scipy.libs" or (
        folder.name == ".dylibs" and folder.parent.name == "scipy"
    )


# Below this share of the previous weights, the step multiplies them on their
# own instead of folding the share into the correction (whose division by it
# would lose range, and give NaN at a share of zero).
_MIN_FOLDED_KEEP = 1e-6


def _kept_plus_product(xp, W_prev, keep, F, A):
    """``keep * W_prev + F^T @ A``: the start of a proximal step plus its
    correction. For NumPy both terms go into the product's own array, as
    ``keep * (W_prev + F^T (A / keep))`` (two passes over the layer's
    weights and no second array of their size; four passes and two new
    arrays took a sixth of a semi-implicit BP epoch)."""
    numpy = isinstance(F, np.ndarray) and isinstance(W_prev, np.ndarray)
    if not numpy or keep < _MIN_FOLDED_KEEP:
        return _kept(W_prev, keep) + F.T @ A
    U = F.T @ (A if keep == 1.0 else A / keep)
    if U.dtype != W_prev.dtype:  # a mixed-precision caller: promote as NumPy does
        return U + W_prev if keep == 1.0 else (U + W_prev) * keep
    np.add(U, W_prev, out=U)
    if keep != 1.0:
        U *= keep
    return U


def _kept(W_prev, keep):
    """``keep * W_prev``, the weights a proximal step starts from (no copy
    when nothing is shrunk)."""
    return W_prev if keep == 1.0 else W_prev * keep


def _proximal_start(Z, b_prev, current, lam, alpha):
    """``(keep, R)`` of a proximal step: it starts from the weights
    ``W0 = keep * W_prev`` (with ``alpha`` they are pulled toward zero
    first, ``keep = lam / (lam + alpha)``) and its correction fits ``R``,
    the residual of ``W0``'s layer, ``Z - F~ W~0``."""
    R = Z - current  # residual of the previous weights
    if not alpha:
        return 1.0, R
    # both shares as quotients: 1 - shrink would cancel to 0 for alpha >> lam
    keep, shrink = lam / (lam + alpha), alpha / (lam + alpha)
    return keep, R + shrink * (current - b_prev)


def proximal_solve(
    xp, F, Z, W_prev, b_prev, lam, alpha=0.0, current=None, method="auto", weights=None
):
    """Proximal least-squares step of an affine layer ``F W + b``.

    Returns ``(W, b)`` minimising::

        ||F W + 1 b^T - Z||^2 + lam (||W - W_prev||^2 + ||b - b_prev||^2)
                              + alpha ||W||^2

    where, with ``weights`` (one non-negative weight ``w_i`` per row), row
    ``i`` of the data term is multiplied by ``w_i`` (the rows of ``[F, 1]``
    and of the residual by ``sqrt(w_i)``): a row of weight ``k`` counts as
    ``k`` copies of it.

    i.e. ``(F~^T F~ + D) W~ = F~^T Z + lam W~_prev`` with ``F~ = [F, 1]``,
    ``W~ = [W; b^T]`` and ``D = diag(lam + alpha, ..., lam + alpha, lam)``
    (``alpha`` does not reach the bias). Never forms an ``n``-sized system
    beyond the rows of ``F`` (one mini-batch):

    * ``"primal"``: the bias is eliminated (Schur complement) and a
      ``d x d`` system is solved;
    * ``"dual"``: push-through identity
      ``(F~^T F~ + D)^{-1} F~^T = D^{-1} F~^T (I + F~ D^{-1} F~^T)^{-1}``,
      a ``B x B`` system (``B`` = rows of ``F``);
    * ``"auto"``: the smaller of the two (dual when ``B <= d``).

    ``lam`` must be positive. ``current`` is ``F W_prev + b_prev`` when the
    caller already has it (saves one product).
    """
    n_rows, d = F.shape
    if current is None:
        current = F @ W_prev + b_prev
    mu = lam + alpha
    keep, R = _proximal_start(Z, b_prev, current, lam, alpha)
    if method == "auto":
        method = "dual" if n_rows <= d else "primal"
    if method == "dual":
        K, root = _dual_system(xp, F, lam, mu, weights)
        if root is not None:  # S K S + I with S = diag(sqrt(w)), on S R
            R = root * R
        A = _solve_identity_plus_psd(xp, K, R)
        if root is not None:
            A = root * A
        W = _kept_plus_product(xp, W_prev, keep, F, A / mu)
        return W, b_prev + xp.sum(A, axis=0) / lam
    if method != "primal":
        raise ValueError(f"unknown method {method!r}")
    G, Fw, s, c, w = _primal_system(xp, F, lam, mu, weights)
    r_sum = xp.sum(R, axis=0) if w is None else w @ R
    Q = Fw.T @ R - c * (s[:, None] * r_sum[None, :])
    U = _solve_spd_or_ridge(xp, G, Q)
    return _kept(W_prev, keep) + U, b_prev + c * (r_sum - s @ U)


def _dual_system(xp, F, lam, mu, weights):
    """``(K, root)`` of the dual proximal system: ``K = I + S (F F^T / mu +
    1 / lam) S`` with ``S = diag(root)``, ``root = sqrt(w)`` as a column
    (``None`` and ``S = I`` without weights)."""
    K = F @ F.T
    root = None
    if isinstance(K, np.ndarray) and weights is None:
        # in place: the batch Gram is this function's own (an eighth of a
        # semi-implicit BP epoch went to the four passes of the general form)
        K *= 1.0 / mu
        K += 1.0 / lam
        K.flat[:: K.shape[1] + 1] += 1.0
        return K, root
    K = K / mu + 1.0 / lam
    if weights is not None:
        root = xp.sqrt(xp.astype(weights, F.dtype))[:, None]
        K = (root * K) * root.T
    return K + xp.eye(F.shape[0], dtype=F.dtype, device=device_of(F)), root


def _primal_system(xp, F, lam, mu, weights):
    """``(G, Fw, s, c, w)`` of the primal proximal system, the bias
    eliminated: ``Fw`` the weighted rows, ``s`` their column sums, ``c = 1 /
    (sum(w) + lam)``, ``G = Fw^T F - c s s^T + mu I``; ``w`` the weights in
    ``F``'s dtype (``None`` without)."""
    if weights is None:
        w, Fw, total = None, F, F.shape[0]
    else:
        w = xp.astype(weights, F.dtype)
        Fw, total = F * w[:, None], xp.sum(w)
    s = xp.sum(Fw, axis=0)
    c = 1.0 / (total + lam)
    G = Fw.T @ F - c * (s[:, None] * s[None, :])
    G = G + mu * xp.eye(F.shape[1], dtype=F.dtype, device=device_of(F))
    return G, Fw, s, c, w


class ProximalBatchOperator:
    """:func:`proximal_solve` of one fixed batch ``F``, factored once.

    The proximal step is linear in its residual: ``W = W0 + P R`` and
    ``b = b_prev + q R``, where ``P`` (``d x B``) and ``q`` (``B``) depend
    only on ``F``, ``lam``, ``alpha`` and the row weights. When the same
    batch of inputs recurs (the first layer of semi-implicit BP under fixed
    mini-batches), keeping ``P`` and ``q`` replaces the batch Gram, its
    factorisation and the solve by one ``d x B`` product per step, at the
    memory of one copy of ``F``.

    Dual form (``B <= d``): ``P = F^T M / mu`` and ``q = 1^T M / lam`` with
    ``M = S (I + S (F F^T / mu + 1/lam) S)^{-1} S``, ``S = diag(sqrt(w))``.
    Primal form: ``P = G^{-1} (F_w^T - c s w^T)``, ``q = c (w^T - s^T P)``,
    with ``G``, ``c``, ``s`` as in :func:`proximal_solve`.
    """

    def __init__(self, xp, F, lam, alpha=0.0, weights=None):
        self.xp, self.lam, self.alpha = xp, lam, alpha
        n_rows, d = F.shape
        mu = lam + alpha
        if n_rows <= d:
            K, root = _dual_system(xp, F, lam, mu, weights)
            M = _identity_plus_psd_inverse(xp, K)
            if root is not None:
                M = (root * M) * root.T
            self.P = (F.T @ M) / mu
            self.q = xp.sum(M, axis=0) / lam
            return
        G, Fw, s, c, w = _primal_system(xp, F, lam, mu, weights)
        if w is None:
            w = xp.ones(n_rows, dtype=F.dtype, device=device_of(F))
        self.P = _solve_spd_or_ridge(xp, G, Fw.T - c * (s[:, None] * w[None, :]))
        self.q = c * (w - s @ self.P)

    def solve(self, Z, W_prev, b_prev, current):
        """``(W, b)`` of :func:`proximal_solve` on this batch, with
        ``current = F W_prev + b_prev``."""
        keep, R = _proximal_start(Z, b_prev, current, self.lam, self.alpha)
        W = _kept_plus_product(self.xp, W_prev, keep, self.P.T, R)
        return W, b_prev + self.q @ R


def squared_norm(xp, W):
    """``sum(W ** 2)``; for a contiguous NumPy array one BLAS dot product
    (``vector_norm`` squared took six times as long on a 784 x 500 layer)."""
    if isinstance(W, np.ndarray) and W.flags.c_contiguous:
        flat = W.reshape(-1)
        return np.dot(flat, flat)
    return xp.sum(W * W)
