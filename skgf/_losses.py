"""Output losses of the iterative methods and their error signals.

Classification uses softmax cross-entropy on the network output (the
logits), regression half the squared error on the standardised targets.
Both are summed over outputs and averaged over samples.
"""

from ._activations import log_softmax, softmax


def output_loss(xp, Z, Y, classification, weights=None):
    """Mean loss of output ``Z`` against targets ``Y`` (one-hot for classes).

    With ``weights`` (one per row) each row's loss is multiplied by its
    weight before the mean over rows: ``sum(w_i * loss_i) / n_rows``.
    """
    if weights is None:
        if classification:
            return -xp.sum(Y * log_softmax(xp, Z)) / Z.shape[0]
        R = Z - Y
        return 0.5 * xp.sum(R * R) / Z.shape[0]
    return xp.sum(weights * row_losses(xp, Z, Y, classification)) / Z.shape[0]


def row_losses(xp, Z, Y, classification):
    """Loss of every row of output ``Z`` against targets ``Y``, shape (n,)."""
    if classification:
        return -xp.sum(Y * log_softmax(xp, Z), axis=1)
    R = Z - Y
    return 0.5 * xp.sum(R * R, axis=1)


def output_error(xp, Z, Y, classification):
    """Per-sample derivative of the loss with respect to ``Z``: ``p - Y``."""
    return (softmax(xp, Z) if classification else Z) - Y


def output_loss_terms(xp, Z, Y, classification):
    """Elementwise loss terms of output ``Z`` (shape of ``Z``) and its error.

    Returns ``(terms, error)``: ``-Y * log_softmax(Z)`` and ``softmax(Z) - Y``
    for classes, ``0.5 * (Z - Y) ** 2`` and ``Z - Y`` otherwise. The loss of
    a set of rows is ``xp.sum`` of the (row-weighted) terms; rec-LRA uses the
    error as its output error unit.
    """
    if classification:
        log_proba = log_softmax(xp, Z)
        return -(Y * log_proba), xp.exp(log_proba) - Y
    residual = Z - Y
    return 0.5 * (residual * residual), residual


def held_out_score(xp, Z, Y, classification, weights=None):
    """Score of output ``Z`` on held-out targets ``Y`` (higher is better).

    Accuracy for classes (``Y`` one-hot), the mean over outputs of R^2
    otherwise; with ``weights`` (one per row) both are weighted, as
    scikit-learn's ``score`` with ``sample_weight``. Constant targets count
    their total squared deviation as 1, so their R^2 stays finite.
    """
    if weights is None:
        if classification:
            hits = xp.argmax(Z, axis=1) == xp.argmax(Y, axis=1)
            return float(xp.mean(xp.astype(hits, Z.dtype)))
        sse = xp.sum((Y - Z) ** 2, axis=0)
        sst = xp.sum((Y - xp.mean(Y, axis=0)) ** 2, axis=0)
        sst = xp.where(sst > 0, sst, xp.ones_like(sst))
        return float(xp.mean(1.0 - sse / sst))
    total = xp.sum(weights)
    if not float(total) > 0:  # no held-out weight: every score ties
        return 0.0
    if classification:
        hits = xp.astype(xp.argmax(Z, axis=1) == xp.argmax(Y, axis=1), Z.dtype)
        return float(xp.sum(hits * weights) / total)
    w = weights[:, None]
    mean = xp.sum(Y * w, axis=0) / total
    sse = xp.sum(w * (Y - Z) ** 2, axis=0)
    sst = xp.sum(w * (Y - mean) ** 2, axis=0)
    sst = xp.where(sst > 0, sst, xp.ones_like(sst))
    return float(xp.mean(1.0 - sse / sst))


def held_out_loss(xp, Z, Y, classification, weights=None):
    """Mean loss of output ``Z`` on held-out targets ``Y``, weighted by
    ``weights`` (one per row) when given: ``sum(w_i * loss_i) / sum(w)``."""
    if weights is None:
        return float(output_loss(xp, Z, Y, classification))
    total = xp.sum(weights)
    if not float(total) > 0:  # no held-out weight: every loss ties
        return 0.0
    return float(xp.sum(weights * row_losses(xp, Z, Y, classification)) / total)
