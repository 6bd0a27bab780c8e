"""ZORB: zeroth-order relaxed backpropagation (Ranganathan & Lewandowski, 2020).

One backward sweep pushes the targets from the output down through inverse
activations and pseudoinverses of the (random, untouched) weights above each
layer; one forward sweep then fits every layer, input first, by regularised
least squares from its actual input to its target. No gradients, no epochs.

While layer ``l`` is fitted every layer above it still has its initial
weights, so its target depends on ``Y`` and those weights only; targets are
therefore recomputed per row chunk instead of being stored, which keeps the
memory of a fit independent of the number of samples.
"""

import time
from numbers import Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, StrOptions

from ._activations import HIDDEN_ACTIVATIONS, INVERSE_CLIP_EPS, inverse, is_bounded
from ._array_api import device_of, supports_float64
from ._base import BaseNetwork, NetworkClassifierMixin, NetworkRegressorMixin
from ._linalg import GramAccumulator, ridge_from_gram
from ._network import forward, hidden_forward, init_weights, layer_sizes

# Rows per chunk are capped so that a fit's working memory stays bounded
# whatever n_samples is; 8192 rows already run matrix products at full speed.
_MAX_CHUNK_ROWS = 8192


def _chunk_rows(n_samples, widths, itemsize):
    """Rows per chunk: within ``working_memory`` and at most ``_MAX_CHUNK_ROWS``."""
    row_bytes = 3 * sum(widths) * itemsize
    return max(1, get_chunk_n_rows(row_bytes=row_bytes,
                                   max_n_rows=min(n_samples, _MAX_CHUNK_ROWS)))


def _pseudoinverse(xp, W):
    """``pinv(W)`` through the smaller Gram matrix, in float64 where possible.

    ``W`` is a random (Glorot) matrix of full rank, so the normal-equation
    form with a tiny relative ridge equals the SVD pseudoinverse to rounding
    and costs a Cholesky of ``min(W.shape)`` instead of a full SVD.
    """
    wide = xp.float64 if supports_float64(xp, device_of(W)) else W.dtype
    W64 = xp.astype(W, wide)
    if W.shape[0] <= W.shape[1]:  # pinv = W^T (W W^T)^-1
        P = ridge_from_gram(xp, W64 @ W64.T, W64, 0.0).T
    else:  # pinv = (W^T W)^-1 W^T
        P = ridge_from_gram(xp, W64.T @ W64, W64.T, 0.0)
    return xp.astype(P, W.dtype)


def _softmax_inverse(xp, Y):
    """Fixed logit targets for one-hot ``Y``: ``log(clip(Y, eps, 1))`` centred per row."""
    logits = xp.log(xp.clip(Y, INVERSE_CLIP_EPS, 1.0))
    return logits - xp.mean(logits, axis=1, keepdims=True)


class _ZORBTargets:
    """Backward target sweep of ZORB for row chunks of ``Y``.

    ``ranges[j]`` is the value range fitted to the target of hidden layer
    ``j``'s activation (``None`` for unbounded activations); a range is set by
    :meth:`fit_range` before any target below it is asked for.
    """

    def __init__(self, xp, coefs, intercepts, activation):
        self.xp = xp
        self.intercepts = intercepts
        # The first layer's pseudoinverse is never needed: nothing is fitted below it.
        self.pinvs = [None] + [_pseudoinverse(xp, W) for W in coefs[1:]]
        self.activation = activation
        self.ranges = [None] * (len(coefs) - 1)

    def above(self, T_out, layer):
        """Output target of hidden layer ``layer``, from the output target ``T_out``."""
        T = T_out
        for j in range(len(self.pinvs) - 1, layer, -1):
            if j < len(self.pinvs) - 1:
                T = inverse(self.xp, self.activation, T, self.ranges[j])
            T = (T - self.intercepts[j]) @ self.pinvs[j]
        return T

    def pre_activation(self, T_out, layer):
        """Target for the pre-activation of affine layer ``layer``."""
        if layer == len(self.pinvs) - 1:
            return T_out
        T = self.above(T_out, layer)
        return inverse(self.xp, self.activation, T, self.ranges[layer])

    def fit_range(self, Y_chunks, layer):
        """Global min / max of hidden layer ``layer``'s output target."""
        xp = self.xp
        low, high = np.inf, -np.inf
        for T_out in Y_chunks():
            T = self.above(T_out, layer)
            low = min(low, float(xp.min(T)))
            high = max(high, float(xp.max(T)))
        if not high > low:  # constant target: any non-empty range reproduces it
            low, high = low - 1.0, high + 1.0
        self.ranges[layer] = (low, high)


def zorb_fit(xp, X, T_out, hidden_layer_sizes, activation, alpha, rng,
             row_codes=None, random_feature_weight=0.0, verbose=0,
             estimator_name="ZORB"):
    """Fit a ZORB network; return ``(coefs, intercepts, ranges)``.

    ``T_out`` is the target of the output layer's (identity) output, one row
    per sample; or, when ``row_codes`` is given, one row per distinct target
    (classes) with ``row_codes[i]`` the row of sample ``i``. Every target is a
    row-wise function of ``T_out``, so in that case the backward sweep runs on
    the distinct rows only and samples gather theirs.

    With ``random_feature_weight > 0`` each hidden layer's pre-activation
    target also carries that multiple of the layer's initial random
    pre-activation (an extension, not the paper's rule; see the estimators).
    """
    n_samples = X.shape[0]
    device = device_of(X)
    sizes = layer_sizes(X.shape[1], hidden_layer_sizes, T_out.shape[1])
    coefs, intercepts = init_weights(sizes, rng, "glorot_uniform", xp, device, X.dtype)
    targets = _ZORBTargets(xp, coefs, intercepts, activation)
    batches = list(gen_batches(n_samples, _chunk_rows(n_samples, sizes, 8)))
    target_batches = [slice(None)] if row_codes is not None else batches

    if is_bounded(activation):
        for layer in range(len(coefs) - 2, -1, -1):
            targets.fit_range(lambda: (T_out[sl, ...] for sl in target_batches), layer)

    def layer_target(sl, layer, distinct):
        if row_codes is None:
            return targets.pre_activation(T_out[sl, ...], layer)
        return xp.take(distinct, row_codes[sl], axis=0)

    for layer in range(len(coefs)):
        start = time.perf_counter()
        distinct = (targets.pre_activation(T_out, layer)
                    if row_codes is not None else None)
        gram = GramAccumulator(xp)
        for sl in batches:
            H = hidden_forward(xp, X[sl, ...], coefs[:layer], intercepts[:layer],
                               activation, targets.ranges)
            T = layer_target(sl, layer, distinct)
            if random_feature_weight and layer < len(coefs) - 1:
                # coefs[layer] still holds the initial random weights here
                T = T + random_feature_weight * (H @ coefs[layer] + intercepts[layer])
            gram.add(H, T)
        coefs[layer], intercepts[layer] = gram.solve(alpha)
        if verbose:
            print(f"[{estimator_name}] layer {layer + 1}/{len(coefs)} "
                  f"({sizes[layer]} -> {sizes[layer + 1]}) solved in "
                  f"{time.perf_counter() - start:.2f} s")
    return coefs, intercepts, targets.ranges


class _BaseZORB(BaseNetwork):
    """Shared parameters and solve of ZORB estimators."""

    _parameter_constraints = {
        **BaseNetwork._parameter_constraints,
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "random_feature_weight": [Interval(Real, 0, None, closed="left")],
    }

    def _solve(self, xp, X, Y, hidden_layer_sizes, rng, incremental):
        T_out, row_codes = self._output_target(xp, Y)
        self.coefs_, self.intercepts_, self.activation_ranges_ = zorb_fit(
            xp, X, T_out, hidden_layer_sizes, self.activation, self.alpha, rng,
            row_codes=row_codes, random_feature_weight=self.random_feature_weight,
            verbose=self.verbose, estimator_name=type(self).__name__,
        )
        self.n_iter_ = 1

    def _output_target(self, xp, Y):
        """Output-layer target and, for classes, each sample's target row."""
        return Y, None

    def _forward(self, xp, X):
        return forward(xp, X, self.coefs_, self.intercepts_, self.activation,
                       self.activation_ranges_)


class ZORBClassifier(NetworkClassifierMixin, _BaseZORB):
    """Neural-network classifier trained by ZORB, without gradients.

    ZORB (zeroth-order relaxed backpropagation, Ranganathan & Lewandowski
    2020) pushes the one-hot targets backwards through inverse activations
    and pseudoinverses of the randomly initialised weights, then fits each
    layer once, input to output, by ridge-regularised least squares. The fit
    is one pass over the data per layer; there is no learning rate, epoch or
    convergence loop.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer. ``()`` gives a linear least-squares model.
    activation : {"tanh", "logistic", "relu", "identity"}, default="tanh"
        Hidden activation. Bounded activations are range-rescaled to the
        targets they receive (the paper's rule); ``relu`` maps negative
        targets to zero, which discards information in deep stacks.
    alpha : float, default=1e-4
        Ridge penalty added to each layer's normal equations (the paper uses
        an unregularised pseudoinverse; a small penalty keeps rank-deficient
        layers well posed). The bias is not penalised.
    class_target : {"one_hot", "softmax_inverse"}, default="one_hot"
        Output target. ``"one_hot"`` regresses the one-hot labels with an
        identity output (the research note's recommendation: least sensitive);
        ``"softmax_inverse"`` regresses the fixed logits
        ``log(clip(Y, 1e-5, 1))`` centred per row, the inverse of a softmax
        output (the paper's rule, made independent of the forward pass).
        ``predict_proba`` is the softmax of the output in both cases, which is
        a ranking, not a calibrated probability, for ``"one_hot"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights (drawn on the host, so CPU and GPU fits
        of one seed agree).
    verbose : bool or int, default=False
        Print the time of each layer's solve.
    device : {None, "cpu", "cuda"}, default=None
        Where to fit. ``None`` follows scikit-learn's ``array_api_dispatch``
        (NumPy unless it is on, then the input's namespace); ``"cuda"`` fits
        with CuPy on the GPU and returns NumPy predictions for NumPy input.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coefs_ : list of arrays
        Weight matrix of each layer, shape (n_in, n_out), in the namespace the
        model was fitted in.
    intercepts_ : list of arrays
        Bias vector of each layer.
    activation_ranges_ : list of (float, float) or None
        Output range fitted to each hidden activation (``None`` for unbounded
        activations).
    n_iter_ : int
        Always 1: every layer is solved once.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs (classes).
    out_activation_ : str
        ``"softmax"``, applied in ``predict_proba``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    ZORBRegressor : The regression twin.
    sklearn.neural_network.MLPClassifier : Backpropagation-trained network.

    References
    ----------
    V. Ranganathan and A. Lewandowski, "ZORB: A Derivative-Free
    Backpropagation Algorithm for Neural Networks", arXiv:2011.08895, 2020.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skgf import ZORBClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = ZORBClassifier(hidden_layer_sizes=(200,), random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test) > 0.9
    True
    >>> clf.predict_proba(X_test[:1]).shape
    (1, 10)
    """

    _parameter_constraints = {
        **_BaseZORB._parameter_constraints,
        "class_target": [StrOptions({"one_hot", "softmax_inverse"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="tanh", alpha=1e-4,
                 class_target="one_hot", random_feature_weight=0.0,
                 random_state=None, verbose=False, device=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.class_target = class_target
        self.random_feature_weight = random_feature_weight
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network to ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).

        Returns
        -------
        self : ZORBClassifier
            The fitted estimator.
        """
        return self._fit(X, y)

    def _output_target(self, xp, Y):
        classes = xp.eye(Y.shape[1], dtype=Y.dtype, device=device_of(Y))
        if self.class_target == "softmax_inverse":
            classes = _softmax_inverse(xp, classes)
        return classes, xp.argmax(Y, axis=1)


class ZORBRegressor(NetworkRegressorMixin, _BaseZORB):
    """Neural-network regressor trained by ZORB, without gradients.

    The standardised targets are pushed backwards through inverse activations
    and pseudoinverses of the random initial weights; each layer is then
    fitted once, input to output, by ridge-regularised least squares. The
    output layer is linear. See :class:`ZORBClassifier` for the method.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer. ``()`` gives ridge regression.
    activation : {"tanh", "logistic", "relu", "identity"}, default="tanh"
        Hidden activation; bounded ones are range-rescaled to their targets.
    alpha : float, default=1e-4
        Ridge penalty of each layer's normal equations (bias unpenalised).
    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights.
    verbose : bool or int, default=False
        Print the time of each layer's solve.
    device : {None, "cpu", "cuda"}, default=None
        Where to fit; see :class:`ZORBClassifier`.

    Attributes
    ----------
    coefs_ : list of arrays
        Weight matrix of each layer, in the namespace the model was fitted in.
    intercepts_ : list of arrays
        Bias vector of each layer.
    activation_ranges_ : list of (float, float) or None
        Output range fitted to each hidden activation.
    n_iter_ : int
        Always 1.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of targets.
    out_activation_ : str
        ``"identity"``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    ZORBClassifier : The classification twin.
    sklearn.neural_network.MLPRegressor : Backpropagation-trained network.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from skgf import ZORBRegressor
    >>> X, y = make_friedman1(n_samples=2000, noise=1.0, random_state=0)
    >>> reg = ZORBRegressor(random_state=0).fit(X[:1500], y[:1500])
    >>> reg.score(X[1500:], y[1500:]) > 0.8
    True
    """

    def __init__(self, hidden_layer_sizes=(100,), activation="tanh", alpha=1e-4,
                 random_feature_weight=0.0, random_state=None, verbose=False,
                 device=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.random_feature_weight = random_feature_weight
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Fit the network to ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.

        Returns
        -------
        self : ZORBRegressor
            The fitted estimator.
        """
        return self._fit(X, y)
