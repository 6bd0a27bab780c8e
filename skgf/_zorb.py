"""ZORB: zeroth-order relaxed backpropagation (Ranganathan & Lewandowski, 2020).

One backward sweep pushes the targets from the output down through inverse
activations and pseudoinverses of the (random, untouched) weights above each
layer; one forward sweep then fits every layer, input first, by regularised
least squares from its actual input to its target. No gradients, no epochs.

While layer ``l`` is fitted every layer above it still has its initial
weights, so its target depends on ``Y`` and those weights only; targets are
therefore recomputed per row chunk instead of being stored, which keeps the
memory of a fit independent of the number of samples.

The same sweep runs on in-memory arrays (``_MemoryRows``: chunks of rows in
the compute namespace) and on dask arrays (``_BlockRows``: each pass is one
graph computation over row blocks, NumPy inside each block, and only the
per-block Gram sums or target ranges travel back to be merged); the
per-chunk work is the same function in both.
"""

import time
import warnings
from numbers import Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import check_random_state, validate_data

from ._activations import HIDDEN_ACTIVATIONS, INVERSE_CLIP_EPS, inverse, is_bounded
from ._array_api import device_of, numpy_namespace, supports_float64, to_numpy
from ._dask import lazy_column_stats, lazy_training_data, lazy_unique, reduce_row_blocks
from ._base import (
    BaseNetwork,
    NetworkClassifierMixin,
    NetworkRegressorMixin,
    _positive_int_tuple,
)
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
    :meth:`set_range` before any target below it is asked for. ``pinvs`` and
    ``ranges`` may be passed in (a dask block rebuilding the sweep's state).
    """

    def __init__(self, xp, coefs, intercepts, activation, pinvs=None, ranges=None):
        self.xp = xp
        self.intercepts = intercepts
        # The first layer's pseudoinverse is never needed: nothing is fitted below it.
        self.pinvs = pinvs if pinvs is not None else (
            [None] + [_pseudoinverse(xp, W) for W in coefs[1:]])
        self.activation = activation
        self.ranges = list(ranges) if ranges is not None else [None] * (len(coefs) - 1)

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

    def target_range(self, T_out_chunks, layer, weight_chunks=None):
        """Min / max of hidden layer ``layer``'s output target over the chunks.

        With ``weight_chunks`` (the rows' weights, chunk by chunk) only rows
        of positive weight count, so that a zero weight is the same as
        leaving the row out.
        """
        xp = self.xp
        low, high = np.inf, -np.inf
        weight_chunks = iter(weight_chunks) if weight_chunks is not None else None
        for T_out in T_out_chunks:
            T = self.above(T_out, layer)
            if weight_chunks is None:
                low = min(low, float(xp.min(T)))
                high = max(high, float(xp.max(T)))
                continue
            keep = (next(weight_chunks) > 0)[:, None]
            inf = xp.asarray(np.inf, dtype=T.dtype, device=device_of(T))
            low = min(low, float(xp.min(xp.where(keep, T, inf))))
            high = max(high, float(xp.max(xp.where(keep, T, -inf))))
        return low, high

    def set_range(self, layer, low, high):
        """Fix hidden layer ``layer``'s range to the global ``(low, high)``."""
        if not high > low:  # constant target: any non-empty range reproduces it
            low, high = low - 1.0, high + 1.0
        self.ranges[layer] = (low, high)


def _layer_gram(xp, X, T_rows, row_codes, layer, coefs, intercepts, targets,
                distinct, random_feature_weight, chunk_rows, weights=None):
    """Gram sums of layer ``layer`` over the rows of ``X``, chunk by chunk.

    Each chunk's layer input is a forward pass through the fitted layers
    below; its target comes from ``T_rows`` (output targets, pushed down) or,
    with ``row_codes``, is gathered from the ``distinct`` per-class targets.
    ``weights`` (one per row, or ``None``) weight the rows' squared errors.
    """
    gram = GramAccumulator(xp)
    for sl in gen_batches(X.shape[0], chunk_rows):
        H = hidden_forward(xp, X[sl, ...], coefs[:layer], intercepts[:layer],
                           targets.activation, targets.ranges)
        if row_codes is None:
            T = targets.pre_activation(T_rows[sl, ...], layer)
        else:
            T = xp.take(distinct, row_codes[sl], axis=0)
        if random_feature_weight and layer < len(coefs) - 1:
            # coefs[layer] still holds the initial random weights here
            T = T + random_feature_weight * (H @ coefs[layer] + intercepts[layer])
        gram.add(H, T, None if weights is None else weights[sl])
    return gram


class _MemoryRows:
    """Training rows in memory (any namespace), visited in chunks of rows.

    ``T_rows`` holds one output target per row, or is ``None`` when
    ``row_codes`` (each row's class) index the sweep's distinct targets.
    ``weights`` holds one sample weight per row (``None``: all equal).
    """

    def __init__(self, xp, X, T_rows=None, row_codes=None, weights=None):
        self.xp, self.X, self.T_rows, self.row_codes = xp, X, T_rows, row_codes
        self.weights = weights
        self.n_features, self.dtype, self.device = X.shape[1], X.dtype, device_of(X)

    def _chunk(self, sizes):
        return _chunk_rows(self.X.shape[0], sizes, 8)

    def target_range(self, targets, layer, sizes):
        chunks = list(gen_batches(self.X.shape[0], self._chunk(sizes)))
        weights = (None if self.weights is None
                   else (self.weights[sl] for sl in chunks))
        return targets.target_range((self.T_rows[sl, ...] for sl in chunks), layer,
                                    weights)

    def layer_gram(self, layer, sizes, coefs, intercepts, targets, distinct,
                   random_feature_weight):
        return _layer_gram(self.xp, self.X, self.T_rows, self.row_codes, layer,
                           coefs, intercepts, targets, distinct,
                           random_feature_weight, self._chunk(sizes), self.weights)


def _encode_block(xp, y, encoding, dtype):
    """``(T_rows, row_codes)`` of a block of raw targets ``y``.

    ``encoding`` is ``("classes", classes)`` (row codes into the sorted
    classes) or ``("standardise", mean, scale)`` (regression targets, as
    ``NetworkRegressorMixin`` standardises them in memory).
    """
    if encoding[0] == "classes":
        return None, np.searchsorted(encoding[1], y)
    _, mean, scale = encoding
    Y = np.asarray(y, dtype=np.float64)
    Y = xp.astype(Y.reshape(-1, 1) if Y.ndim == 1 else Y, dtype)
    return (Y - mean) / scale, None


def _block_targets(xp, net):
    return _ZORBTargets(xp, net["coefs"], net["intercepts"], net["activation"],
                        pinvs=net["pinvs"], ranges=net["ranges"])


def _range_block(y, net):
    """Target range of one dask block of ``y`` (runs on a worker)."""
    xp = numpy_namespace()
    T_rows, _ = _encode_block(xp, y, net["encoding"], net["dtype"])
    chunks = gen_batches(T_rows.shape[0], _chunk_rows(T_rows.shape[0], net["sizes"], 8))
    return _block_targets(xp, net).target_range((T_rows[sl, ...] for sl in chunks),
                                                net["layer"])


def _merge_ranges(*ranges):
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def _gram_block(X, y, net):
    """Gram sums of one dask row block (runs on a worker, in NumPy)."""
    xp = numpy_namespace()
    if net["check_finite"] and not bool(xp.all(xp.isfinite(X))):
        raise ValueError(
            "Input X contains NaN or infinity (found in a block of the dask "
            "array while fitting the first layer)."
        )
    T_rows, row_codes = _encode_block(xp, y, net["encoding"], X.dtype)
    return _layer_gram(xp, X, T_rows, row_codes, net["layer"], net["coefs"],
                       net["intercepts"], _block_targets(xp, net), net["distinct"],
                       net["random_feature_weight"],
                       _chunk_rows(X.shape[0], net["sizes"], 8))


def _merge_grams(*grams):
    merged = GramAccumulator(numpy_namespace())
    for gram in grams:
        merged.merge(gram)
    return merged


class _BlockRows:
    """Training rows in dask arrays: every pass is one graph computation.

    Each row block of ``X`` (with its block of raw targets ``y``) is turned
    into Gram sums (or a target range) by :func:`_layer_gram` where the block
    lives; the sums are merged in a tree and only the merged
    ``width x width`` result reaches the client. The first layer's pass also
    checks that ``X`` is finite.
    """

    def __init__(self, X, y, encoding):
        self.X, self.y, self.encoding = X, y, encoding
        self.n_features, self.dtype, self.device = X.shape[1], X.dtype, "cpu"

    def _net(self, layer, sizes, targets, **extra):
        return {"layer": layer, "sizes": sizes, "encoding": self.encoding,
                "dtype": self.dtype, "activation": targets.activation,
                "intercepts": list(targets.intercepts), "pinvs": targets.pinvs,
                "ranges": list(targets.ranges), **extra}

    def target_range(self, targets, layer, sizes):
        return reduce_row_blocks(_range_block, _merge_ranges, [self.y],
                                 self._net(layer, sizes, targets, coefs=None))

    def layer_gram(self, layer, sizes, coefs, intercepts, targets, distinct,
                   random_feature_weight):
        net = self._net(layer, sizes, targets, coefs=list(coefs), distinct=distinct,
                        random_feature_weight=random_feature_weight,
                        check_finite=layer == 0)
        return reduce_row_blocks(_gram_block, _merge_grams, [self.X, self.y], net)


def zorb_fit(xp, X, T_out, hidden_layer_sizes, activation, alpha, rng,
             row_codes=None, random_feature_weight=0.0, verbose=0,
             estimator_name="ZORB", sample_weight=None):
    """Fit a ZORB network; return ``(coefs, intercepts, ranges)``.

    ``T_out`` is the target of the output layer's (identity) output, one row
    per sample; or, when ``row_codes`` is given, one row per distinct target
    (classes) with ``row_codes[i]`` the row of sample ``i``. Every target is a
    row-wise function of ``T_out``, so in that case the backward sweep runs on
    the distinct rows only and samples gather theirs.

    With ``random_feature_weight > 0`` each hidden layer's pre-activation
    target also carries that multiple of the layer's initial random
    pre-activation (an extension, not the paper's rule; see the estimators).

    ``sample_weight`` (one non-negative weight per sample) weights every
    layer's least-squares fit, and only samples of positive weight (classes
    with some) set the ranges of bounded activations: integer weights give
    the fit of the data with each sample repeated that often, and zero
    weights the fit without those samples.
    """
    range_distinct = None
    if row_codes is None:
        rows, distinct = _MemoryRows(xp, X, T_rows=T_out, weights=sample_weight), None
    else:
        rows = _MemoryRows(xp, X, row_codes=row_codes, weights=sample_weight)
        distinct = T_out
        if sample_weight is not None:
            k = T_out.shape[0]
            member = row_codes[:, None] == xp.arange(k, device=device_of(X))[None, :]
            totals = xp.sum(xp.astype(member, sample_weight.dtype)
                            * sample_weight[:, None], axis=0)
            present = np.flatnonzero(np.asarray(to_numpy(totals)) > 0)
            range_distinct = xp.take(
                T_out, xp.asarray(present, device=device_of(T_out)), axis=0)
    return zorb_sweep(xp, rows, T_out.shape[1], hidden_layer_sizes, activation,
                      alpha, rng, T_distinct=distinct,
                      random_feature_weight=random_feature_weight,
                      verbose=verbose, estimator_name=estimator_name,
                      T_range=range_distinct)


def zorb_sweep(xp, rows, n_outputs, hidden_layer_sizes, activation, alpha, rng,
               T_distinct=None, random_feature_weight=0.0, verbose=0,
               estimator_name="ZORB", T_range=None):
    """The ZORB fit over a row source (``_MemoryRows`` or ``_BlockRows``).

    ``T_distinct`` holds the distinct output targets when the rows carry
    class codes (no pass over the data is needed for their ranges);
    ``T_range``, if given, the rows of it that set the ranges (the classes
    with a positive weight).
    """
    sizes = layer_sizes(rows.n_features, hidden_layer_sizes, n_outputs)
    coefs, intercepts = init_weights(sizes, rng, "glorot_uniform", xp, rows.device,
                                     rows.dtype)
    targets = _ZORBTargets(xp, coefs, intercepts, activation)

    if is_bounded(activation):
        for layer in range(len(coefs) - 2, -1, -1):
            if T_distinct is not None:
                low, high = targets.target_range(
                    [T_distinct if T_range is None else T_range], layer)
            else:
                low, high = rows.target_range(targets, layer, sizes)
            targets.set_range(layer, low, high)

    for layer in range(len(coefs)):
        start = time.perf_counter()
        distinct = (targets.pre_activation(T_distinct, layer)
                    if T_distinct is not None else None)
        gram = rows.layer_gram(layer, sizes, coefs, intercepts, targets, distinct,
                               random_feature_weight)
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

    def _solve(self, xp, X, Y, hidden_layer_sizes, rng, incremental,
               sample_weight=None):
        T_out, row_codes = self._output_target(xp, Y)
        self.coefs_, self.intercepts_, self.activation_ranges_ = zorb_fit(
            xp, X, T_out, hidden_layer_sizes, self.activation, self.alpha, rng,
            row_codes=row_codes, random_feature_weight=self.random_feature_weight,
            verbose=self.verbose, estimator_name=type(self).__name__,
            sample_weight=sample_weight,
        )
        self.n_iter_ = 1

    def _fit_lazy(self, X, y, sample_weight=None, incremental=False, classes=None):
        """Blockwise fit on dask arrays: one graph computation per pass over
        the data, the solves on the client in NumPy (see ``doc/dask.rst``)."""
        if sample_weight is not None or getattr(self, "class_weight", None) is not None:
            raise ValueError(
                f"{type(self).__name__}: sample_weight and class_weight are not "
                "supported yet when fitting dask arrays; fit in-memory arrays "
                "to use them."
            )
        hidden = _positive_int_tuple(self.hidden_layer_sizes)
        if self.device == "cuda":
            raise ValueError(
                f"{type(self).__name__} fits dask arrays blockwise with NumPy on "
                "the dask workers; device='cuda' is not supported for dask input. "
                "Use device=None, or compute X into a CuPy/NumPy array."
            )
        X, y = lazy_training_data(X, y)
        validate_data(self, X, skip_check_array=True, reset=True)
        xp = numpy_namespace()
        encoding, n_outputs, T_distinct = self._lazy_targets(xp, y, X.dtype)
        rng = check_random_state(self.random_state)
        self.coefs_, self.intercepts_, self.activation_ranges_ = zorb_sweep(
            xp, _BlockRows(X, y, encoding), n_outputs, hidden, self.activation,
            self.alpha, rng, T_distinct=T_distinct,
            random_feature_weight=self.random_feature_weight,
            verbose=self.verbose, estimator_name=type(self).__name__,
        )
        self.n_iter_ = 1
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = n_outputs
        return self

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
    random_feature_weight : float, default=0.0
        Extension, not in the paper (``0`` is the paper's rule). Every hidden
        target ZORB builds is a function of the ``n_outputs``-dimensional
        target alone, so a hidden layer's pre-activations span at most
        ``n_outputs`` directions of its input's fit; with one regression
        target the network is then close to a linear model. A positive value
        adds that multiple of the layer's initial random pre-activation to its
        target, so the fitted layer keeps random-feature directions next to
        the fitted ones. Measured on friedman1 (5000 samples, 500 units):
        R^2 0.74 with the paper's rule, 0.93 with ``1.0``.
    class_weight : dict, "balanced" or None, default=None
        Weight of each class's samples in every layer's least-squares fit,
        multiplied into ``sample_weight``. ``"balanced"`` weighs class ``c``
        by ``n_samples / (n_classes * n_c)`` (sums of ``sample_weight`` when
        given), as scikit-learn's ``compute_class_weight``; a dict maps
        classes to weights (unlisted classes weigh 1).
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
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="tanh", alpha=1e-4,
                 class_target="one_hot", random_feature_weight=0.0,
                 class_weight=None, random_state=None, verbose=False, device=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.class_target = class_target
        self.random_feature_weight = random_feature_weight
        self.class_weight = class_weight
        self.random_state = random_state
        self.verbose = verbose
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and class labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels (numbers or strings).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's squared error in every
            layer's fit: an integer weight is the same as repeating the
            sample, zero the same as leaving it out. ``None`` weighs all
            samples equally.

        Returns
        -------
        self : ZORBClassifier
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)

    def _output_target(self, xp, Y):
        classes = xp.eye(Y.shape[1], dtype=Y.dtype, device=device_of(Y))
        if self.class_target == "softmax_inverse":
            classes = _softmax_inverse(xp, classes)
        return classes, xp.argmax(Y, axis=1)

    def _lazy_targets(self, xp, y, dtype):
        """Classes of a dask ``y`` (one pass over ``y``): the block encoding,
        the number of outputs and the distinct output targets."""
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. "
                "Please change the shape of y to (n_samples, ), for example "
                "using ravel().", DataConversionWarning, stacklevel=3)
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"y should be a 1d array, got an array of shape "
                             f"{y.shape} instead.")
        Y = self._encode_targets(lazy_unique(y), xp, "cpu", dtype, reset=True)
        T_distinct, _ = self._output_target(xp, Y)
        return ("classes", self.classes_), T_distinct.shape[1], T_distinct


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
    random_feature_weight : float, default=0.0
        Extension, not in the paper (``0`` is the paper's rule): adds that
        multiple of each hidden layer's initial random pre-activation to its
        target; see :class:`ZORBClassifier`.
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
    >>> paper = ZORBRegressor(random_state=0).fit(X[:1500], y[:1500])
    >>> round(paper.score(X[1500:], y[1500:]), 2)  # near a linear model
    0.69
    >>> variant = ZORBRegressor(hidden_layer_sizes=(300,), random_feature_weight=1.0,
    ...                         random_state=0).fit(X[:1500], y[:1500])
    >>> variant.score(X[1500:], y[1500:]) > 0.8
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
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the target standardisation
            and every layer's least-squares fit: an integer weight is the same
            as repeating the sample, zero the same as leaving it out.

        Returns
        -------
        self : ZORBRegressor
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)

    def _lazy_targets(self, xp, y, dtype):
        """Standardisation of a dask ``y`` (one pass over ``y``): the block
        encoding and the number of outputs."""
        if y.dtype.kind not in "biuf":
            raise ValueError(f"y has dtype {y.dtype}; regression targets must be "
                             "numeric.")
        mean, std = lazy_column_stats(y)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            raise ValueError("Input y contains NaN or infinity.")
        self._set_target_scale(mean, std, xp, "cpu", dtype)
        return ("standardise", self._y_mean, self._y_scale), mean.shape[0], None
