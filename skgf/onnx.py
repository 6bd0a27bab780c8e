"""Export of fitted skgf estimators (and pipelines holding them) to ONNX.

Needs the optional extra ``onnx`` (``pip install skgf[onnx]``: skl2onnx, onnx
and onnxruntime); ``import skgf`` never imports them. See the user guide page
:doc:`/onnx`.
"""

_MISSING = (
    "ONNX export needs skl2onnx and onnx, which skgf does not install by "
    "default: pip install skgf[onnx]"
)


def _import_skl2onnx():
    try:
        import onnx  # noqa: F401
        import skl2onnx
    except ImportError as error:
        raise ImportError(f"{_MISSING} ({error})") from error
    return skl2onnx


def register_converters():
    """Register the skl2onnx converters of the eight skgf estimators.

    After this call ``skl2onnx.to_onnx`` (and ``convert_sklearn``) converts
    skgf estimators on their own and inside scikit-learn pipelines, e.g.
    behind a ``StandardScaler``. The classifiers take skl2onnx's classifier
    options (``zipmap``, ``nocl``, ``output_class_labels``) as
    ``MLPClassifier`` does. Calling it again is harmless; :func:`to_onnx`
    calls it itself.

    Returns
    -------
    registered : list of type
        The estimator classes that now have a converter.

    Raises
    ------
    ImportError
        If skl2onnx or onnx is not installed (``pip install skgf[onnx]``).

    See Also
    --------
    to_onnx : Register the converters and convert a model in one call.

    Examples
    --------
    >>> import numpy as np
    >>> from skl2onnx import to_onnx
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgf import ZORBRegressor
    >>> from skgf.onnx import register_converters
    >>> classes = register_converters()
    >>> len(classes)
    8
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 3)).astype(np.float32)
    >>> model = make_pipeline(StandardScaler(), ZORBRegressor(hidden_layer_sizes=(8,)))
    >>> onx = to_onnx(model.fit(X, X.sum(axis=1)), X[:1])
    >>> [output.name for output in onx.graph.output]
    ['variable']
    """
    skl2onnx = _import_skl2onnx()

    from . import (
        LRAClassifier,
        LRARegressor,
        RSOClassifier,
        RSORegressor,
        SemiImplicitBPClassifier,
        SemiImplicitBPRegressor,
        ZORBClassifier,
        ZORBRegressor,
    )
    from ._onnx_convert import (
        classifier_shape,
        convert_classifier,
        convert_regressor,
        regressor_shape,
    )

    classifiers = (ZORBClassifier, RSOClassifier, LRAClassifier, SemiImplicitBPClassifier)
    regressors = (ZORBRegressor, RSORegressor, LRARegressor, SemiImplicitBPRegressor)
    for cls in classifiers:
        skl2onnx.update_registered_converter(
            cls,
            f"Skgf{cls.__name__}",
            classifier_shape,
            convert_classifier,
            options={
                "zipmap": [True, False, "columns"],
                "nocl": [True, False],
                "output_class_labels": [False, True],
            },
        )
    for cls in regressors:
        skl2onnx.update_registered_converter(
            cls, f"Skgf{cls.__name__}", regressor_shape, convert_regressor
        )
    return [*classifiers, *regressors]


def to_onnx(model, X, *, zipmap=False, options=None, target_opset=None, **kwargs):
    """Convert a fitted skgf estimator, or a pipeline holding one, to ONNX.

    Registers the converters (:func:`register_converters`) and calls
    ``skl2onnx.to_onnx``. The graph's input type follows ``X``: float32 rows
    give a float32 graph (the weights are rounded to float32), float64 rows
    a float64 one. Classifiers output ``label`` (shape ``(N,)``, int64 or
    string) and ``probabilities`` (``(N, n_classes)``, the softmax of the
    network's output, as ``predict_proba``); regressors output ``variable``
    of shape ``(N, n_outputs)``, also for a single target (``predict``
    returns ``(N,)`` then). Models fitted on a GPU or in another array
    namespace are exported from NumPy copies of their weights.

    Parameters
    ----------
    model : estimator
        A fitted skgf estimator, or a scikit-learn pipeline (or other
        estimator skl2onnx converts) that holds skgf estimators.
    X : array-like of shape (n_samples, n_features)
        A few input rows: skl2onnx reads the input's type and width from
        them (``float32`` for a float32 graph).
    zipmap : bool or "columns", default=False
        The ``zipmap`` option (skl2onnx's) of the skgf classifiers in ``model``:
        ``False`` outputs the probabilities as a tensor, ``True`` as a list
        of ``{label: probability}`` maps (skl2onnx's own default).
    options : dict, default=None
        Further skl2onnx converter options, keyed by ``id(estimator)`` or
        estimator class; they win over ``zipmap``.
    target_opset : int or dict, default=None
        ONNX opset(s) to target; ``None`` is skl2onnx's default.
    **kwargs
        Passed on to ``skl2onnx.to_onnx`` (e.g. ``name``, ``final_types``).

    Returns
    -------
    onnx_model : onnx.ModelProto
        The converted model, ready for ``onnxruntime.InferenceSession(
        onnx_model.SerializeToString())``.

    Raises
    ------
    ImportError
        If skl2onnx or onnx is not installed (``pip install skgf[onnx]``).
    sklearn.exceptions.NotFittedError
        If an skgf estimator in ``model`` is not fitted.

    See Also
    --------
    register_converters : Make ``skl2onnx.to_onnx`` itself convert skgf models.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skgf import ZORBClassifier
    >>> from skgf.onnx import to_onnx
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X.astype(np.float32)
    >>> model = make_pipeline(StandardScaler(), ZORBClassifier(random_state=0)).fit(X, y)
    >>> onx = to_onnx(model, X[:1])
    >>> [output.name for output in onx.graph.output]
    ['label', 'probabilities']
    >>> import onnxruntime as ort
    >>> session = ort.InferenceSession(onx.SerializeToString())
    >>> labels, proba = session.run(None, {"X": X[:5]})
    >>> bool((labels == model.predict(X[:5])).all())
    True
    """
    skl2onnx = _import_skl2onnx()
    classes = register_converters()
    merged = {cls: {"zipmap": zipmap} for cls in classes[:4]}
    if options:
        for key, value in options.items():
            merged[key] = {**merged.get(key, {}), **value}
    return skl2onnx.to_onnx(model, X, options=merged, target_opset=target_opset, **kwargs)
