"""Activations, their derivatives and clipped inverses, for any array namespace.

Bounded activations (``logistic``, ``tanh``) can be *range-rescaled*: with a
value range ``(low, high)`` the activation maps onto ``[low, high]`` instead of
its natural range. ZORB fits that range to the targets it pushes through the
layer; the other methods always use the natural range.

Both bounded activations are written through ``tanh`` (``logistic(z) =
(tanh(z / 2) + 1) / 2``), which never overflows.
"""

import numpy as np

HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")

# Half-width of the margin kept inside a bounded activation's open range when
# inverting it: targets are clipped to [eps, 1 - eps] of the unit range before
# the inverse, so the largest pre-activation target is about atanh(1 - 2 eps).
INVERSE_CLIP_EPS = 1e-5

_NATURAL_RANGE = {"logistic": (0.0, 1.0), "tanh": (-1.0, 1.0)}
# z-scale of each bounded activation: unit(z) = (tanh(z * scale) + 1) / 2
_TANH_SCALE = {"logistic": 0.5, "tanh": 1.0}


def is_bounded(name):
    """Whether the activation has a finite range that can be rescaled."""
    return name in _NATURAL_RANGE


def activate(xp, name, Z, value_range=None):
    """Apply activation ``name`` to ``Z``, rescaled onto ``value_range`` if given."""
    if name == "identity":
        return Z
    if name == "relu":
        return xp.maximum(Z, xp.zeros_like(Z))
    half_width, centre = _tanh_affine(name, value_range)
    return xp.tanh(Z * _TANH_SCALE[name]) * half_width + centre


def _tanh_affine(name, value_range):
    """``(a, c)`` with ``activation(z) = a * tanh(z * scale) + c`` on ``value_range``.

    One multiply and one add after the ``tanh``: the unit-range form
    ``(tanh + 1) / 2 * (high - low) + low`` is the same map in four passes
    over the array (and rounds twice more).
    """
    low, high = value_range if value_range is not None else _NATURAL_RANGE[name]
    return (high - low) / 2, (high + low) / 2


def activate_in_place(name, Z, value_range=None, shift=None):
    """:func:`activate` of a NumPy array, written into ``Z`` itself.

    The same operations in the same order as :func:`activate`, so the
    result is bit-identical; for arrays the caller owns (a fresh
    pre-activation), which saves the temporaries of every step.
    ``shift`` (one value per column, or a column of one value per row, or
    ``None``) is subtracted from the result; for bounded activations it
    joins the last addition, so it costs no pass of its own, and the result
    is then within a rounding of ``activate(Z) - shift`` rather than
    bit-identical to it.
    """
    if not is_bounded(name):
        if name == "relu":
            np.maximum(Z, 0, out=Z)
        if shift is not None:
            Z -= shift
        return Z
    if _TANH_SCALE[name] != 1.0:  # z * 1.0 is z exactly: skipping it changes nothing
        Z *= _TANH_SCALE[name]
    np.tanh(Z, out=Z)
    half_width, centre = _tanh_affine(name, value_range)
    Z *= half_width
    Z += centre if shift is None else (centre - shift).astype(Z.dtype)
    return Z


def inverse(xp, name, T, value_range=None, eps=INVERSE_CLIP_EPS):
    """Pre-activation whose activation is ``T``, clipped into the open range.

    ``relu`` has no inverse for negative targets: they map to 0 (see
    ``doc/zorb.rst``).
    """
    if name == "identity":
        return T
    if name == "relu":
        return xp.maximum(T, xp.zeros_like(T))
    low, high = value_range if value_range is not None else _NATURAL_RANGE[name]
    unit = (T - low) / (high - low)
    unit = xp.clip(unit, eps, 1.0 - eps)
    return xp.atanh(2.0 * unit - 1.0) / _TANH_SCALE[name]


def softmax_inverse(xp, Y):
    """Fixed logit targets for one-hot ``Y``: ``log(clip(Y, eps, 1))`` centred per
    row (ZORB's inverse of a softmax output)."""
    logits = xp.log(xp.clip(Y, INVERSE_CLIP_EPS, 1.0))
    return logits - xp.mean(logits, axis=1, keepdims=True)


def derivative(xp, name, Z, H):
    """Derivative of the natural-range activation at ``Z`` (``H`` = its output)."""
    if name == "identity":
        return xp.ones_like(Z)
    if name == "relu":
        return xp.astype(Z > 0, Z.dtype)
    if name == "tanh":
        return 1.0 - H * H
    return H * (1.0 - H)  # logistic


def softmax(xp, Z):
    """Row-wise softmax, shifted by the row maximum for stability."""
    E = xp.exp(Z - xp.max(Z, axis=1, keepdims=True))
    return E / xp.sum(E, axis=1, keepdims=True)


def log_softmax(xp, Z):
    """Row-wise log-softmax."""
    shifted = Z - xp.max(Z, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))
