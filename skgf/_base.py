"""Estimator plumbing shared by every skgf network.

``BaseNetwork`` does what is the same for all methods: parameter and input
validation, the choice of namespace and device, target encoding (through the
classifier / regressor mixins), prediction in bounded row blocks, tags and
pickling. A method supplies ``_solve``, which turns validated arrays into
weights; it never sees labels, pandas frames or devices it did not ask for.
"""

import os
import sys
from abc import ABCMeta, abstractmethod
from numbers import Integral

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._activations import softmax
from ._array_api import (
    device_of,
    dispatch_enabled,
    float_dtype_for,
    input_namespace,
    is_numpy_namespace,
    map_arrays,
    move_to,
    namespace_of,
    resolve_compute,
    take_rows,
    to_host,
    to_numpy,
)
from ._callbacks import CALLBACK_ATTRIBUTES, CallbackSupportMixin, FitProgress
from ._dask import is_lazy_array, row_blocks_when_lazy
from ._docs import fill_doc
from ._elementwise import column_range
from ._network import forward

# Fitted attributes that hold arrays of the compute namespace (or lists of
# them); pickling converts exactly these to NumPy.
FITTED_ARRAY_ATTRIBUTES = ("coefs_", "intercepts_", "_y_mean", "_y_scale")


# Rows per prediction block: small enough that a block's buffers stay far
# below the input's own size, large enough for full-speed matrix products.
# The prediction methods' docstrings from their input to the head of
# their Returns section (indented for a method).
_PREDICT_DOCS = {
    "X_returns": """Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The input samples.

        Returns
        -------"""
}


def _prediction_method(method):
    """A prediction method: its input documented once, and a lazy result
    for a dask ``X``."""
    return fill_doc(_PREDICT_DOCS)(row_blocks_when_lazy(method))


_PREDICT_MAX_ROWS = 1024
# ... and their buffers within this many MiB (fewer rows for wide layers).
_PREDICT_BLOCK_MIB = 16


def _copy_array(array):
    """A copy of ``array`` (host scalars are immutable and returned as they are)."""
    if isinstance(array, np.generic):
        return array
    if isinstance(array, np.ndarray):
        return array.copy()
    return namespace_of(array).asarray(array, copy=True)


def _positive_int_tuple(value):
    """``hidden_layer_sizes`` as a tuple of positive ints, or a clear error."""
    sizes = (value,) if isinstance(value, Integral) else tuple(value)
    if any(not isinstance(s, Integral) or isinstance(s, bool) or s < 1 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be a tuple of positive integers, got {value!r}.")
    return sizes


# rows per block when the training range is taken over weighted rows
_RANGE_BLOCK_ROWS = 8192

# frames of these packages are skipped when a warning is attributed: it
# points at the user's line (the call of fit, a Pipeline's or a search's)
_LIBRARY_DIRS = tuple(
    os.path.dirname(module.__file__) + os.sep for module in (sys.modules[__package__], sklearn)
)


def _check_class_weight(class_weight):
    """``ValueError`` for a ``class_weight`` dict with a negative or
    non-finite value (before any work of the fit)."""
    if isinstance(class_weight, dict):
        values = np.asarray(list(class_weight.values()), dtype=np.float64)
        if not np.all(np.isfinite(values) & (values >= 0)):
            raise ValueError(
                f"class_weight values must be finite and non-negative, got {class_weight!r}."
            )


def generator_in_state(state):
    """A NumPy ``RandomState`` set to ``state`` (of ``get_state()``): draws
    from it repeat those of the generator the state was taken from, which
    is left as it was."""
    rng = np.random.RandomState()
    rng.set_state(state)
    return rng


def counted_rows(xp, X, sample_weight):
    """The training rows a fit counts, as the row rule of ``alpha="auto"``
    does: the sum of the sample weights (a row of weight k counts k times)."""
    return X.shape[0] if sample_weight is None else float(xp.sum(sample_weight))


class FitDiverged(ValueError):
    """The first iteration of a fit diverged: there is nothing to keep."""


def _caller_level():
    """``stacklevel`` of the first frame above the call that is outside skgf
    and scikit-learn (Python 3.12's ``skip_file_prefixes``, by hand)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY_DIRS):
        frame, level = frame.f_back, level + 1
    return level


class BaseNetwork(CallbackSupportMixin, BaseEstimator, metaclass=ABCMeta):
    """Validation, dispatch, prediction and pickling for skgf networks."""

    # Names of fitted attributes besides the weights holding arrays (or nested
    # lists / dicts of them) of the compute namespace: pickled as NumPy. The
    # training range of the inputs (``_input_range``, see ``_clip_inputs``) is
    # one for every method; methods add their own state.
    _state_attributes = ("_input_range",)
    # Prediction safeguard: clip every feature of a row to the range it had
    # in the training data (union over partial_fit calls) before the forward
    # pass, so that a row far outside that range cannot be extrapolated
    # without bound (the tree models' behaviour; ``_record_input_range``).
    _clip_inputs = False

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "device": [StrOptions({"cpu", "cuda"}), None],
    }

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (a dask array for the estimators that fit
            blockwise).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (numbers or strings) for classifiers, target values
            for regressors.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss (and in every
            least-squares fit of a layer): a sample of integer weight ``k``
            counts as ``k`` copies of it. The iterative methods scale the
            weights to mean 1 over the training rows, so that step sizes
            keep their meaning, and divide ``alpha`` by the same factor.
            ``None`` weighs all samples equally.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight)

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None, validation=None):
        """Validate, encode, dispatch and call the method's ``_solve``.

        A fit that raises, or is interrupted (``KeyboardInterrupt``) before
        it completed an iteration, leaves the estimator exactly as it was
        before the call: its fitted state is copied first and put back
        before the exception propagates, so a ``warm_start`` /
        ``partial_fit`` model keeps its previous weights (and an unfitted
        one stays unfitted). A later interruption of an iterative fit is
        handled by its loop, which keeps the completed iterations.
        """
        snapshot = self._fitted_state_copy()
        try:
            if is_lazy_array(X) or is_lazy_array(y):
                return self._fit_lazy(
                    X, y, sample_weight=sample_weight, incremental=incremental, classes=classes
                )
            if validation is not None and is_lazy_array(validation[0]):
                raise TypeError("X_val must be in memory (a dask X_val is not supported).")
            return self._fit_arrays(X, y, sample_weight, incremental, classes, validation)
        except BaseException:
            self._restore_fitted_state(snapshot)
            raise

    def _fit_arrays(self, X, y, sample_weight, incremental, classes, validation=None):
        self._check_hidden_layer_sizes()
        _check_class_weight(getattr(self, "class_weight", None))
        # a warm_start fit continues the fitted weights as partial_fit does:
        # X must have the fitted features (their count and names, as the
        # MLPs check), and a regressor's targets keep the scale its weights
        # were fitted in
        fresh = not self._resumes(incremental)
        X, y = self._validate_training_data(X, y, reset=fresh)
        xp, device = resolve_compute(X, self.device)
        dtype = float_dtype_for(X.dtype, xp, device)
        X_caller = X
        X = xp.astype(move_to(X, xp, device), dtype, copy=False)
        weights = self._validate_sample_weight(sample_weight, y)
        if not fresh and not incremental:
            self._check_warm_start_targets(y, weights)
        Y = self._encode_targets(
            y, xp, device, dtype, reset=fresh, classes=classes, sample_weight=weights
        )
        hidden = self._hidden_layer_widths()
        progress = FitProgress.start(
            self, self._n_fit_tasks(incremental, len(hidden) + 1), X_caller, y, weights
        )
        weights = self._training_weights(y, weights, incremental, classes)
        if weights is not None:
            weights = xp.astype(move_to(weights, xp, device), dtype)
        if validation is not None:
            validation = self._validation_arrays(*validation, xp, device, dtype)
        rng = check_random_state(self.random_state)
        self._solve(
            xp,
            X,
            Y,
            hidden,
            rng,
            incremental=incremental,
            sample_weight=weights,
            progress=progress,
            validation=validation,
        )
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = Y.shape[1]
        progress.finish()
        return self

    def _resumes(self, incremental):
        """Whether this call continues the fitted weights (``warm_start``
        or ``partial_fit`` of a fitted model) instead of starting afresh."""
        return hasattr(self, "coefs_") and (getattr(self, "warm_start", False) or incremental)

    def _check_warm_start_targets(self, y, sample_weight):
        """A ``warm_start`` fit's ``y`` fits the fitted output units (the
        classifiers check their classes; a regressor's outputs are checked
        with its target scale)."""

    def _n_fit_tasks(self, incremental, n_layers):
        """Number of subtasks of a fit, for the callbacks (see ``_callbacks``)."""
        return n_layers

    def _check_hidden_layer_sizes(self):
        """A clear error for a bad ``hidden_layer_sizes``, before any work."""
        _positive_int_tuple(self.hidden_layer_sizes)

    def _hidden_layer_widths(self):
        """``hidden_layer_sizes`` as a tuple of widths (once the targets are
        encoded, so that a rule may depend on them)."""
        return _positive_int_tuple(self.hidden_layer_sizes)

    def _validation_arrays(self, X_val, y_val, sample_weight_val, xp, device, dtype):
        """A user's validation set (``fit``'s ``X_val``, ``y_val``,
        ``sample_weight_val``) checked and encoded as the training data."""
        X_val, y_val = self._validate_training_data(X_val, y_val, reset=False)
        if getattr(self, "classes_", None) is not None:
            unknown = np.setdiff1d(y_val, self.classes_)
            if unknown.size:
                raise ValueError(
                    f"y_val contains labels {unknown.tolist()!r} that are not in the "
                    f"training labels (classes_={self.classes_.tolist()!r})."
                )
        w_val = self._validate_sample_weight(sample_weight_val, y_val)
        Y_val = self._encode_targets(y_val, xp, device, dtype, reset=False)
        X_val = xp.astype(move_to(X_val, xp, device), dtype, copy=False)
        if w_val is not None:
            w_val = xp.astype(move_to(w_val, xp, device), dtype)
        return X_val, Y_val, w_val

    @staticmethod
    def _validate_sample_weight(sample_weight, y):
        """``sample_weight`` as a float64 host array (``None`` stays ``None``).

        Checked by scikit-learn's ``_check_sample_weight``: one finite,
        non-negative weight per row, not all zero.
        """
        if sample_weight is None:
            return None
        sample_weight = to_host(sample_weight)  # weights follow the labels to the host
        return _check_sample_weight(sample_weight, y, dtype=np.float64, ensure_non_negative=True)

    def _check_same_classes(self, new_classes, method):
        """``ValueError`` unless ``new_classes`` are the fitted ``classes_``:
        a warm start or a later ``partial_fit`` keeps the output units."""
        old = self.classes_
        try:
            same = bool(np.array_equal(new_classes, old))
        except TypeError:  # labels of types that do not compare
            same = False
        if same:
            return
        if method == "fit":
            start = "warm_start can only be used where `y` has the same classes as in"
        else:
            start = "`classes` must be the same as in"
        raise ValueError(
            f"{start} the previous call to {method}: previously {old.tolist()!r}, "
            f"now {new_classes.tolist()!r}."
        )

    def _training_weights(self, y, sample_weight, incremental, classes):
        """Per-row weights the method sees (``None``: all rows weigh the same).

        The classifier mixin multiplies in ``class_weight``.
        """
        return sample_weight

    def _fitted_state_copy(self):
        """Copy of every attribute that is not a constructor parameter.

        Arrays (and the lists / dicts holding them) are copied, so that a fit
        that continues from this state in place cannot change the copy.
        """
        kept = {**self.get_params(deep=False), **dict.fromkeys(CALLBACK_ATTRIBUTES)}
        return {
            name: map_arrays(value, _copy_array)
            for name, value in vars(self).items()
            if name not in kept
        }

    def _restore_fitted_state(self, snapshot):
        # the callbacks' own attributes are theirs to tear down
        kept = {**self.get_params(deep=False), **dict.fromkeys(CALLBACK_ATTRIBUTES)}
        for name in [n for n in vars(self) if n not in kept and n not in snapshot]:
            delattr(self, name)
        for name, value in snapshot.items():
            setattr(self, name, value)

    def _fit_lazy(self, X, y, sample_weight=None, incremental=False, classes=None):
        """Fit on dask arrays; methods that can override this (ZORB does)."""
        raise TypeError(
            f"{type(self).__name__} needs in-memory training data and got a dask "
            "array. Compute it first (X.compute()), or stream row blocks "
            "through partial_fit, e.g. `for Xb, yb in zip(X.blocks, y.blocks): "
            "est.partial_fit(Xb.compute(), yb.compute(), ...)`. "
            "ZORBClassifier and ZORBRegressor fit dask arrays blockwise."
        )

    def _validate_training_data(self, X, y, reset):
        xp_in = input_namespace(X)
        y = to_host(y)  # "everything follows X"; labels live on the host
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=[xp_in.float64, xp_in.float32],
            multi_output=not self._is_classifier(),
            y_numeric=not self._is_classifier(),
        )
        return X, y

    @abstractmethod
    def _solve(
        self, xp, X, Y, hidden_layer_sizes, rng, incremental, sample_weight=None, **fit_context
    ):
        """Set ``coefs_``, ``intercepts_`` (and method extras) from ``X``, ``Y``.

        ``sample_weight`` is ``None`` (every row weighs the same) or one
        non-negative weight per row in the compute namespace and dtype, with
        ``class_weight`` already multiplied in; a row of weight ``k`` counts
        as ``k`` copies of it. ``fit_context`` holds ``progress`` (the
        callbacks' :class:`~skgf._callbacks.FitProgress`) and ``validation``
        (the user's ``(X_val, Y_val, w_val)``, encoded, or ``None``).
        """

    # -------------------------------------------------------------- predict
    def _network_output(self, X, method):
        """Raw network output for ``X`` in the compute namespace.

        Returns ``(output, xp, xp_in, device_in)``: the output, the model's
        namespace, and the namespace and device the caller's ``X`` lives in.
        """
        check_is_fitted(self)
        xp = namespace_of(self.coefs_[0])
        device = device_of(self.coefs_[0])
        xp_in = input_namespace(X)
        if (
            dispatch_enabled()
            and self.device is None
            and not is_numpy_namespace(xp)
            and (xp_in.__name__ != xp.__name__ or device_of(X) != device)
        ):
            raise ValueError(
                f"Inputs passed to {type(self).__name__}.{method}() must use the "
                "same namespace and the same device as those passed to fit(). "
                "Move the fitted estimator with "
                "sklearn.utils._array_api.move_estimator_to, or pass X in the "
                "namespace it was fitted with."
            )
        X = validate_data(self, X, reset=False, dtype=[xp_in.float64, xp_in.float32])
        device_in = device_of(X)
        X = xp.astype(move_to(X, xp, device), self.coefs_[0].dtype, copy=False)
        return self._forward_in_blocks(xp, X), xp, xp_in, device_in

    def _forward_in_blocks(self, xp, X):
        """Forward pass over row blocks, so that the hidden-layer buffers of
        a large ``X`` (or of a small GPU) never exist for all rows at once."""
        widest = max(W.shape[1] for W in self.coefs_)
        row_bytes = 3 * widest * 8  # a pre-activation, its activation, a temporary
        working_memory = min(sklearn.get_config()["working_memory"], _PREDICT_BLOCK_MIB)
        n_rows = get_chunk_n_rows(
            row_bytes=row_bytes,
            max_n_rows=min(X.shape[0], _PREDICT_MAX_ROWS),
            working_memory=working_memory,
        )
        blocks = [self._forward(xp, X[sl, ...]) for sl in gen_batches(X.shape[0], max(n_rows, 1))]
        return blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=0)

    def _record_input_range(self, xp, X, fresh, sample_weight=None):
        """Per-feature ``(low, high)`` of the training inputs of this fit
        (rows of positive weight), merged with the previous ones for
        ``partial_fit`` / ``warm_start``."""
        if not self._clip_inputs:
            return
        if sample_weight is None or bool(xp.all(sample_weight > 0)):
            whole = isinstance(X, np.ndarray) and X.ndim == 2
            low, high = column_range(X) if whole else (xp.min(X, axis=0), xp.max(X, axis=0))
        else:  # the rows of positive weight, a block at a time: no copy of X
            low = high = None
            for rows in gen_batches(X.shape[0], _RANGE_BLOCK_ROWS):
                kept = xp.nonzero(sample_weight[rows] > 0)[0]
                if kept.shape[0] == 0:
                    continue
                block = take_rows(xp, kept, X[rows, ...])[0]
                block_low, block_high = xp.min(block, axis=0), xp.max(block, axis=0)
                low = block_low if low is None else xp.minimum(low, block_low)
                high = block_high if high is None else xp.maximum(high, block_high)
        previous = None if fresh else getattr(self, "_input_range", None)
        if previous is not None:
            low = xp.minimum(low, xp.astype(move_to(previous[0], xp, device_of(X)), X.dtype))
            high = xp.maximum(high, xp.astype(move_to(previous[1], xp, device_of(X)), X.dtype))
        self._input_range = [low, high]

    def _clipped(self, xp, X):
        """``X`` with each feature clipped to its training range when
        ``_clip_inputs`` is set (and a range was recorded)."""
        bounds = getattr(self, "_input_range", None) if self._clip_inputs else None
        if bounds is None:
            return X
        low = xp.astype(bounds[0], X.dtype)
        high = xp.astype(bounds[1], X.dtype)
        return xp.minimum(xp.maximum(X, low), high)

    def _forward(self, xp, X):
        """The network's output for rows ``X``, clipped first when
        ``_clip_inputs`` is set (overridden by rescaling methods)."""
        return forward(xp, self._clipped(xp, X), self.coefs_, self.intercepts_, self.activation)

    @staticmethod
    def _back_to_caller(array, xp_in, device_in):
        """Return ``array`` in the caller's namespace and device."""
        return move_to(array, xp_in, device_in)

    # ------------------------------------------------------------ plumbing
    def _is_classifier(self):
        return isinstance(self, ClassifierMixin)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        return tags

    def __getstate__(self):
        """Pickle fitted arrays as NumPy, so GPU-fitted models load anywhere."""
        # a copy: on Python >= 3.11 object.__getstate__ returns the live
        # __dict__, which pickling (or copy.copy) must not change
        state = dict(super().__getstate__())
        for name in FITTED_ARRAY_ATTRIBUTES + self._state_attributes:
            if name in state:
                state[name] = map_arrays(state[name], to_numpy)
        return state


def _check_label_types(y):
    """Class labels of one kind: a clear error for strings mixed with other
    types; an object array of numbers becomes a numeric array."""
    if y.dtype == object and y.shape[0]:
        kinds = {isinstance(v, str) for v in y}
        if len(kinds) > 1:
            raise ValueError(
                "Mix of label input types (string and number): class labels "
                "must be all strings or all numbers."
            )
        if kinds == {False}:
            numeric = np.asarray(y.tolist())
            if numeric.dtype.kind in "biuf":
                return numeric
    return y


class NetworkClassifierMixin(ClassifierMixin):
    """One-hot targets, ``predict`` by argmax, ``predict_proba`` by softmax."""

    def _validate_training_data(self, X, y, reset):
        shape = tuple(getattr(y, "shape", ()))  # arrays and frames (others: sklearn's message)
        if len(shape) == 2 and shape[1] > 1:
            raise ValueError(
                f"{type(self).__name__} fits one label per sample, but y has shape "
                f"{shape}: multilabel and multi-output targets are not supported. "
                "Wrap the estimator in sklearn.multioutput.MultiOutputClassifier "
                "to fit one per column."
            )
        X, y = super()._validate_training_data(X, y, reset)
        if y.ndim == 2 and y.shape[1] == 1:
            return X, y  # column_or_1d warns about it later
        return X, (_check_label_types(y) if y.ndim == 1 else y)

    def _check_warm_start_targets(self, y, sample_weight):
        # the fitted output units stand for the previous classes
        y = column_or_1d(y)
        check_classification_targets(y)
        self._check_same_classes(np.unique(y), "fit")
        self._check_weighted_classes(y, sample_weight)

    def _check_weighted_classes(self, y, sample_weight):
        """A fit (not a ``partial_fit`` chunk) needs two classes of positive
        weight to tell apart."""
        if sample_weight is None:
            return
        weighted = np.unique(y[sample_weight > 0])
        if weighted.shape[0] < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 "
                "classes with a positive sample_weight, but only the "
                f"class {weighted[0]!r} has any."
            )

    def _encode_targets(self, y, xp, device, dtype, reset, classes=None, sample_weight=None):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not reset and classes is not None:
            self._check_same_classes(np.unique(to_numpy(classes)), "fit/partial_fit")
        if reset:
            self.classes_ = np.unique(y if classes is None else to_numpy(classes))
            if self.classes_.shape[0] < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes "
                    f"in the data, but the data contains only one class: "
                    f"{self.classes_[0]!r}."
                )
            if classes is None:
                self._check_weighted_classes(y, sample_weight)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y contains labels {unknown.tolist()!r} not seen in the first "
                f"call to fit/partial_fit (classes_={self.classes_.tolist()!r})."
            )
        codes = np.searchsorted(self.classes_, y)
        Y = np.zeros((y.shape[0], self.classes_.shape[0]))
        Y[np.arange(y.shape[0]), codes] = 1.0
        self.out_activation_ = "softmax"
        return xp.astype(move_to(Y, xp, device), dtype)

    def _training_weights(self, y, sample_weight, incremental, classes):
        """``sample_weight`` times the weight of each row's class.

        ``class_weight="balanced"`` gives class ``c`` the weight
        ``n_samples / (n_classes * n_c)`` (with ``n`` the sums of
        ``sample_weight`` when it is given), as in scikit-learn's
        ``compute_class_weight``; a dict gives the listed classes its values
        and the others 1.
        """
        class_weight = getattr(self, "class_weight", None)
        if class_weight is None:
            return sample_weight
        y = column_or_1d(y)
        if isinstance(class_weight, str) and incremental:
            raise ValueError(
                f"class_weight={class_weight!r} is not supported by partial_fit: "
                "the class frequencies of one batch are not those of the data. "
                "Compute them with sklearn.utils.class_weight.compute_class_weight "
                "on all labels and pass class_weight as a dict."
            )
        per_class = compute_class_weight(
            class_weight, classes=self.classes_, y=y, sample_weight=sample_weight
        )
        per_class = np.array(per_class, dtype=np.float64)
        # "balanced" gives a class whose samples all weigh 0 an infinite
        # weight: it stays at 0 (its rows are left out, as their weights say)
        per_class[~np.isfinite(per_class)] = 0.0
        rows = per_class[np.searchsorted(self.classes_, y)]
        if sample_weight is not None:
            rows = rows * sample_weight
        if not np.any(rows > 0):
            raise ValueError(
                "The sample weights times the class weights are all zero: no row is left to fit."
            )
        return rows

    @_prediction_method
    def predict(self, X):
        """Predict class labels for ``X``.

        %(X_returns)s
        y : ndarray of shape (n_samples,)
            The predicted classes, in the namespace of ``X`` for numeric labels
            (a lazy dask array for a dask ``X``).
        """
        scores, xp, xp_in, device_in = self._network_output(X, "predict")
        labels = self.classes_[to_numpy(xp.argmax(scores, axis=1))]
        if labels.dtype.kind in "biuf":
            return self._back_to_caller(labels, xp_in, device_in)
        return labels

    @_prediction_method
    def predict_proba(self, X):
        """Class probabilities for ``X``: the softmax of the network output.

        %(X_returns)s
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class in ``classes_``, rows summing to one.
        """
        scores, xp, xp_in, device_in = self._network_output(X, "predict_proba")
        return self._back_to_caller(softmax(xp, scores), xp_in, device_in)

    @_prediction_method
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        %(X_returns)s
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class in ``classes_``.
        """
        scores, xp, xp_in, device_in = self._network_output(X, "predict_log_proba")
        # log of predict_proba (as MLPClassifier): probabilities that underflow
        # to 0 give -inf in both, which scikit-learn's checks require
        return self._back_to_caller(xp.log(softmax(xp, scores)), xp_in, device_in)


class NetworkRegressorMixin(RegressorMixin):
    """Standardised targets in fit, undone in ``predict``."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_targets(self, y, xp, device, dtype, reset, classes=None, sample_weight=None):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim == 2 and y.shape[1] == 1:  # warned and raveled, as by MLPRegressor
            y = column_or_1d(y, warn=True)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        if reset:
            # weighted moments (a row of weight k counts as k copies of it),
            # of Y / max|Y| so that squares of huge targets do not overflow
            peak = np.max(np.abs(Y), axis=0) if Y.shape[0] else np.ones(Y.shape[1])
            peak[~(peak > 0)] = 1.0
            mean = np.average(Y, axis=0, weights=sample_weight)
            std = peak * np.sqrt(
                np.average(((Y - mean) / peak) ** 2, axis=0, weights=sample_weight)
            )
            self._set_target_scale(mean, std, xp, device, dtype)
        # standardised on the host in float64 (with the stored, dtype-rounded
        # mean and scale that predict uses), then cast: no cancellation in
        # float32, no overflow of large targets before they are scaled
        mean = np.asarray(to_numpy(self._y_mean), dtype=np.float64)
        scale = np.asarray(to_numpy(self._y_scale), dtype=np.float64)
        if Y.shape[1] != mean.shape[0]:  # a later partial_fit: no broadcasting
            raise ValueError(
                f"y has {Y.shape[1]} output(s), but {type(self).__name__} was "
                f"fitted with {mean.shape[0]}."
            )
        return xp.astype(move_to((Y - mean) / scale, xp, device), dtype)

    def _set_target_scale(self, mean, scale, xp, device, dtype):
        """Store the target standardisation from float64 host ``mean`` and ``scale``.

        A target whose spread is at the rounding level of its mean (or zero)
        is constant: its scale is 1. Tiny targets (e.g. 1e-20) keep their
        own scale; a scale that underflows to 0 in ``dtype`` becomes 1.
        """
        mean = np.asarray(mean, dtype=np.float64)
        scale = np.array(scale, dtype=np.float64)
        scale[~(scale > 10 * np.finfo(np.float64).eps * np.abs(mean))] = 1.0
        self._y_mean = xp.astype(move_to(mean, xp, device), dtype)
        self._y_scale = xp.astype(move_to(scale, xp, device), dtype)
        held = np.asarray(to_numpy(self._y_scale), dtype=np.float64)
        if not np.all(held > 0):
            scale[~(held > 0)] = 1.0
            self._y_scale = xp.astype(move_to(scale, xp, device), dtype)
        self.out_activation_ = "identity"

    @_prediction_method
    def predict(self, X):
        """Predict targets for ``X``.

        %(X_returns)s
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values, in the namespace of ``X`` (a lazy dask
            array, computed block by block, for a dask ``X``).
        """
        out, xp, xp_in, device_in = self._network_output(X, "predict")
        out = out * self._y_scale + self._y_mean
        if out.shape[1] == 1:
            out = xp.reshape(out, (-1,))
        return self._back_to_caller(out, xp_in, device_in)
