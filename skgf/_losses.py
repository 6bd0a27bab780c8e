"""Output losses of the iterative methods and their error signals.

Classification uses softmax cross-entropy on the network output (the
logits), regression half the squared error on the standardised targets.
Both are summed over outputs and averaged over samples.
"""

from ._activations import log_softmax, softmax


def output_loss(xp, Z, Y, classification):
    """Mean loss of output ``Z`` against targets ``Y`` (one-hot for classes)."""
    if classification:
        return -xp.sum(Y * log_softmax(xp, Z)) / Z.shape[0]
    R = Z - Y
    return 0.5 * xp.sum(R * R) / Z.shape[0]


def output_error(xp, Z, Y, classification):
    """Per-sample derivative of the loss with respect to ``Z``: ``p - Y``."""
    return (softmax(xp, Z) if classification else Z) - Y
