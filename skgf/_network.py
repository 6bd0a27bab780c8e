"""The network: a plain list of weight matrices and bias vectors.

One forward pass serves every method; the methods differ only in how they
choose the weights. Initial weights are drawn on the host from the
estimator's NumPy random generator and then moved to the compute device, so
CPU and GPU fits of one seed start from the same weights.
"""

from dataclasses import dataclass

import numpy as np

from ._activations import activate, activate_in_place
from ._array_api import device_of, host_to, is_numpy_namespace, numpy_namespace, to_numpy
from ._elementwise import for_row_slices, rowwise_in_place


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


# First-layer units of weight_init="normal": weights from N(0, 0.5^2 / n_in)
# and biases from N(0, 1), so that on standardised inputs every unit's
# pre-activation has variance 1.25 whatever n_in (tanh units in their
# non-linear range; Glorot-uniform's scale shrinks with the layer's width,
# which leaves a wide layer on few features nearly linear). Chosen on kin40k
# (ZORBRegressor((1000,)), minimal_change, test R^2; weight scale / bias
# scale): 0.25 / 0.25: 0.883; 0.5 / 0.5: 0.896; 0.5 / 1: 0.899; 1 / 1: 0.882;
# 2 / 1: 0.837 (Glorot-uniform: 0.665).
NORMAL_WEIGHT_SCALE = 0.5
NORMAL_BIAS_SCALE = 1.0


def normal_layer(xp, n_in, n_units, rng, device, dtype):
    """``(W, b)`` of a first layer drawn as ``weight_init="normal"`` does."""
    W = rng.normal(0.0, NORMAL_WEIGHT_SCALE / np.sqrt(n_in), size=(n_in, n_units))
    b = rng.normal(0.0, NORMAL_BIAS_SCALE, size=n_units)
    return host_to(W, xp, device, dtype), host_to(b, xp, device, dtype)


# Landmark units' pre-activation runs from -scale/2 at the landmarks' centre
# to +scale/2 at the landmark. Measured with ZORBClassifier((1000,)) on
# MNIST, random_feature_weight=2 / minimal_change, test accuracy: scale 1:
# 0.959 / 0.959; 1.5: 0.961 / 0.960; 2: 0.961 / 0.962; 3: 0.954 / 0.958;
# 4: 0.949 / 0.955; 6: 0.934 / 0.941
LANDMARK_SCALE = 2.0


def landmark_layer(xp, X, n_units, rng, sample_weight=None, scale=LANDMARK_SCALE):
    """``(W, b)`` of a first layer whose units point at training rows.

    ``n_units`` rows of ``X`` (the landmarks) are drawn with probabilities
    proportional to ``sample_weight`` (uniform when ``None``), without
    replacement when there are enough rows of positive weight. With ``c``
    the landmarks' mean and ``l = landmark - c``, unit ``u`` computes
    ``scale * (x - c) . l / |l|^2 - scale / 2``: ``-scale / 2`` at ``c``,
    ``+scale / 2`` at its landmark, so its activation separates the rows
    near the landmark from the bulk, as a kernel function centred on a
    data point does. A landmark at ``c`` itself gives a zero column.
    """
    n_rows = X.shape[0]
    p = None
    if sample_weight is not None:
        w = np.asarray(to_numpy(sample_weight), dtype=np.float64)
        p = w / w.sum()
    available = n_rows if p is None else int(np.count_nonzero(p))
    picks = rng.choice(n_rows, size=n_units, replace=n_units > available, p=p)
    L = xp.take(X, xp.asarray(picks, device=device_of(X)), axis=0)
    centre = xp.mean(L, axis=0)
    L = L - centre
    squared = xp.sum(L * L, axis=1)
    inverse = xp.where(squared > 0, 1.0 / xp.where(squared > 0, squared, 1.0), 0.0)
    W = xp.permute_dims(L * (scale * inverse)[:, None], (1, 0))
    b = -scale / 2 - xp.reshape(xp.reshape(centre, (1, -1)) @ W, (-1,))
    return W, b


def hidden_forward(xp, X, coefs, intercepts, activation, ranges=None, out=None, shift=None):
    """Output of the given layers, each followed by the hidden activation.

    ``out`` (NumPy only, optional) is a C-ordered buffer of at least
    ``X.shape[0]`` rows that the last layer's output may be written into: a
    caller running chunk after chunk reuses one buffer instead of faulting
    in fresh pages for every chunk's product. The result then shares its
    memory with ``out``. ``shift`` (one value per unit of the last layer,
    or ``None``) is subtracted from the last layer's output.
    """
    H = X
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        value_range = None if ranges is None else ranges[i]
        shift_out = shift if i == last else None
        if is_numpy_namespace(xp) and _same_dtype_numpy(H, W, b):
            rows = _output_rows(out, H, W) if i == last else None
            H = _numpy_layer(H, W, b, activation, value_range, rows, shift_out)
        else:
            H = activate(xp, activation, H @ W + b, value_range)
            if shift_out is not None:
                H = H - shift_out
    if not coefs and shift is not None:  # no layer: the shifted input itself
        rows = _output_rows(out, X, None) if is_numpy_namespace(xp) else None
        H = X - shift if rows is None else np.subtract(X, shift, out=rows)
    return H


def hidden_forward_units(X, coefs, intercepts, activation, ranges, out, shift=None):
    """:func:`hidden_forward` of NumPy rows ``X``, transposed (units x rows)
    and written into ``out``, a buffer of that shape; returns ``out``.

    The layers below the last run as in :func:`hidden_forward`; the last
    one's product is ``W.T @ H.T``, then the bias, the activation and the
    ``shift`` (one value per unit, or ``None``) run on blocks of units in
    threads, by the same :func:`_finish_layer` as :func:`_numpy_layer`
    (the product itself may round differently from ``H @ W``). Layers must
    share ``X``'s dtype.
    """
    last = len(coefs) - 1
    H = hidden_forward(numpy_namespace(), X, coefs[:last], intercepts[:last], activation, ranges)
    Z = np.matmul(coefs[last].T, H.T, out=out)
    value_range = None if ranges is None else ranges[last]
    b = intercepts[last]

    def finish(units):
        unit_shift = None if shift is None else shift[units, None]
        _finish_layer(Z[units], b[units, None], activation, value_range, unit_shift)

    for_row_slices(finish, Z)
    return Z


def _output_rows(out, H, W):
    """The first rows of ``out`` if they fit ``H @ W`` (or ``H`` itself when
    ``W`` is ``None``), else ``None``."""
    if out is None or not isinstance(H, np.ndarray):
        return None
    width, dtype = (H.shape[1], H.dtype) if W is None else (W.shape[1], np.result_type(H, W))
    if out.dtype != dtype or out.shape[1] != width or out.shape[0] < H.shape[0]:
        return None
    return out[: H.shape[0]]


def _same_dtype_numpy(H, W, b):
    """Whether ``H @ W + b`` are NumPy arrays whose bias does not promote the product."""
    if not all(isinstance(a, np.ndarray) for a in (H, W, b)):
        return False
    return np.result_type(H, W) == np.result_type(H, W, b)


def _numpy_layer(H, W, b, activation, value_range, out=None, shift=None):
    """``activate(H @ W + b) - shift`` for NumPy: the product on BLAS (into
    ``out`` if given), then the bias, the activation and the shift in place
    on row blocks in threads (bit-identical to the serial pass)."""

    def finish(Z):
        _finish_layer(Z, b, activation, value_range, shift)

    return rowwise_in_place(finish, np.matmul(H, W, out=out))


def _finish_layer(Z, b, activation, value_range, shift):
    """A layer's product ``Z`` (a NumPy block the caller owns) made its
    output in place: the bias ``b``, the activation, minus the ``shift``
    (both broadcast against ``Z``, or ``shift`` ``None``)."""
    Z += b
    activate_in_place(activation, Z, value_range, shift)


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
        Z = Hs[-1] @ W
        if _same_dtype_numpy(Hs[-1], W, b):
            Z += b  # into the product's own array: no second array per layer
        else:
            Z = Z + b
        Zs.append(Z)
        if i == last:
            Hs.append(Z)
        else:
            Hs.append(activate(xp, activation, Z, None if ranges is None else ranges[i]))
    return Zs, Hs
