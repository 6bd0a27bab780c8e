"""The network: a plain list of weight matrices and bias vectors.

One forward pass serves every method; the methods differ only in how they
choose the weights. Initial weights are drawn on the host from the
estimator's NumPy random generator and then moved to the compute device, so
CPU and GPU fits of one seed start from the same weights.
"""

from dataclasses import dataclass

import numpy as np

from ._activations import activate, activate_in_place
from ._array_api import host_to, is_numpy_namespace
from ._elementwise import rowwise_in_place


@dataclass
class Network:
    """The weights an update rule works on: ``coefs[i]`` (n_in, n_out) and
    ``intercepts[i]`` of every layer, and the hidden activation. Rules change
    the arrays in place or replace list entries; the loop writes them back
    to the estimator after each iteration."""

    coefs: list
    intercepts: list
    activation: str

    def forward_layers(self, xp, X):
        """Pre-activations and activations of every layer (see :func:`forward_layers`)."""
        return forward_layers(xp, X, self.coefs, self.intercepts, self.activation)

    def forward(self, xp, X):
        """Output of the network for rows ``X``."""
        return forward(xp, X, self.coefs, self.intercepts, self.activation)


def layer_sizes(n_features, hidden_layer_sizes, n_outputs):
    """Widths of all layers, input first, output last."""
    return [int(n_features), *(int(h) for h in hidden_layer_sizes), int(n_outputs)]


def init_weights(sizes, rng, scheme, xp, device, dtype):
    """Random ``(coefs, intercepts)`` for layer widths ``sizes``.

    ``scheme`` is ``"glorot_uniform"`` (weights and biases from
    ``U(-a, a)``, ``a = sqrt(6 / (fan_in + fan_out))``), ``"he_normal"``
    (weights from ``N(0, 2 / fan_in)``, zero biases) or ``"glorot_normal_bias0"``
    (weights from ``N(0, 2 / (fan_in + fan_out))``, zero biases).
    """
    coefs, intercepts = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        if scheme == "glorot_uniform":
            bound = np.sqrt(6.0 / (fan_in + fan_out))
            W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
            b = rng.uniform(-bound, bound, size=fan_out)
        elif scheme == "he_normal":
            W = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))
            b = np.zeros(fan_out)
        elif scheme == "glorot_normal_bias0":
            W = rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=(fan_in, fan_out))
            b = np.zeros(fan_out)
        else:
            raise ValueError(f"unknown initialisation scheme {scheme!r}")
        coefs.append(host_to(W, xp, device, dtype))
        intercepts.append(host_to(b, xp, device, dtype))
    return coefs, intercepts


def hidden_forward(xp, X, coefs, intercepts, activation, ranges=None):
    """Output of the given layers, each followed by the hidden activation."""
    H = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        value_range = None if ranges is None else ranges[i]
        if is_numpy_namespace(xp) and _same_dtype_numpy(H, W, b):
            H = _numpy_layer(H, W, b, activation, value_range)
        else:
            H = activate(xp, activation, H @ W + b, value_range)
    return H


def _same_dtype_numpy(H, W, b):
    """Whether ``H @ W + b`` are NumPy arrays whose bias does not promote the product."""
    if not all(isinstance(a, np.ndarray) for a in (H, W, b)):
        return False
    return np.result_type(H, W) == np.result_type(H, W, b)


def _numpy_layer(H, W, b, activation, value_range):
    """``activate(H @ W + b)`` for NumPy: the product on BLAS, then the bias
    and the activation in place on row blocks in threads (bit-identical)."""

    def finish(Z):
        Z += b
        activate_in_place(activation, Z, value_range)

    return rowwise_in_place(finish, H @ W)


def forward(xp, X, coefs, intercepts, activation, ranges=None):
    """Output of the network (before any output transform) for rows ``X``."""
    H = hidden_forward(xp, X, coefs[:-1], intercepts[:-1], activation, ranges)
    return H @ coefs[-1] + intercepts[-1]


def forward_layers(xp, X, coefs, intercepts, activation, ranges=None):
    """Pre-activations and activations of every layer.

    Returns ``(Z, H)`` where ``H[0] = X``, ``Z[i]`` is layer ``i + 1``'s
    pre-activation and ``H[i + 1] = activation(Z[i])`` for hidden layers;
    the output layer's ``H[-1]`` is its pre-activation ``Z[-1]``.
    """
    Zs, Hs = [], [X]
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = Hs[-1] @ W + b
        Zs.append(Z)
        if i == last:
            Hs.append(Z)
        else:
            Hs.append(activate(xp, activation, Z, None if ranges is None else ranges[i]))
    return Zs, Hs
