"""Shared pieces of the estimators' docstrings, and the one way to fill them in.

A docstring names a snippet with ``%(name)s`` at the indentation of a
parameter or attribute entry; :func:`fill_doc` substitutes the shared
snippets below and the method's own (twin classifier and regressor share
their method's snippets this way). An estimator's docstring names
``%(sections)s`` for its Parameters, Attributes, See Also, Notes and
References, assembled by :func:`_estimator_sections`, and writes its own
summary, method description and Examples. A literal percent sign is written
``%%``. Snippets say what a parameter does and which value the paper uses;
where a value comes from and what the papers leave open is on the method
pages of the documentation, not here.
"""

_SHARED = {
    # ---------------------------------------------------------- parameters
    "hidden_layer_sizes": """hidden_layer_sizes : array-like of int, default=(100,)
        Width of each hidden layer.""",
    "random_state": """random_state : int, RandomState instance or None, default=None
        Seed of every random draw of the fit (initial weights, and for the
        iterative methods the mini-batches). Draws are made on the host, so
        CPU and GPU fits of one seed start from the same weights.""",
    "verbose": """verbose : bool or int, default=False
        Print progress (the loss and time of each iteration) during fit.""",
    "device": """device : {None, "cpu", "cuda"}, default=None
        Where to fit. ``None`` follows scikit-learn's ``array_api_dispatch``
        (NumPy unless it is on, then the input's own namespace); ``"cpu"``
        computes in NumPy; ``"cuda"`` computes with CuPy on the GPU and
        returns NumPy predictions for NumPy input.""",
    "tol": """tol : float, default=1e-4
        Improvement of the training loss (with ``early_stopping``: of the
        validation score or the validation loss) below which an iteration
        counts as no improvement.""",
    "early_stopping": """early_stopping : bool or "auto", default="auto"
        Hold out ``validation_fraction`` of the training data, stop when
        neither its score nor its loss has improved by ``tol`` for
        ``n_iter_no_change`` iterations, and keep the weights of the best
        validation score (a tie going to the lower loss).
        ``"auto"`` (as in ``HistGradientBoostingClassifier``) turns it on
        when ``fit`` gets more than 10,000 rows or an ``X_val``, and off
        otherwise and for ``partial_fit``; ``do_early_stopping_`` says
        which.""",
    "validation_fraction": """validation_fraction : float, default=0.1
        Share of the training data held out when ``early_stopping`` is on.""",
    "n_iter_no_change": """n_iter_no_change : int, default=10
        Iterations without a ``tol`` improvement before the fit stops.""",
    "shuffle": """shuffle : bool, default=True
        Shuffle the rows into new mini-batches at every epoch.""",
    "warm_start": """warm_start : bool, default=False
        Continue from the weights (and method state) of the previous fit
        instead of starting afresh.""",
    "class_weight": """class_weight : dict, "balanced" or None, default=None
        Weight of each class's samples, multiplied into ``sample_weight``.
        ``"balanced"`` weighs class ``c`` by ``n_samples / (n_classes *
        n_c)`` (sums of ``sample_weight`` when given), as scikit-learn's
        ``compute_class_weight``; a dict maps classes to weights (unlisted
        classes weigh 1). ``partial_fit`` accepts dicts only.""",
    # ---------------------------------------------------------- attributes
    "classes_": """classes_ : ndarray of shape (n_classes,)
        Class labels.""",
    "coefs_": """coefs_ : list of arrays
        Weight matrix of each layer, shape (n_in, n_out), in the namespace
        and on the device the model was fitted in.""",
    "intercepts_": """intercepts_ : list of arrays
        Bias vector of each layer.""",
    "loss_curve_": """loss_curve_ : list of float
        Training loss of each iteration.""",
    "best_loss_": """best_loss_ : float
        Lowest value of ``loss_curve_``.""",
    "validation_scores_": """validation_scores_ : list of float
        Score on the held-out split after each iteration (accuracy, or the
        mean R^2 for regressors); only with ``early_stopping``.""",
    "best_validation_score_": """best_validation_score_ : float
        Validation score of the weights kept: the best of
        ``validation_scores_``, or, for a ``warm_start`` fit that never beat
        the weights it resumed from, their score on this fit's validation
        rows. Only with ``early_stopping``.""",
    "do_early_stopping_": """do_early_stopping_ : bool
        Whether the last fit stopped on a validation score
        (``early_stopping=True``, or ``"auto"`` on more than 10,000 rows or
        with ``X_val``; never after ``partial_fit``).""",
    "alpha_search_": """alpha_ : float
        The L2 penalty of the last fit: ``alpha``, or the value
        ``alpha="auto"`` took.
    alphas_ : ndarray of shape (n_tried,)
        The candidate penalties the ``alpha="auto"`` search fitted, weakest
        first (it stops at the first whose held-out loss rises); only when
        the last fit ran one (see ``alpha``).
    alpha_validation_losses_ : ndarray of shape (n_tried,)
        Held-out loss of each of ``alphas_``, without the penalty: the
        cross-entropy, or half the squared error on standardised targets;
        only when the last fit ran the search.""",
    "alpha_auto": """``"auto"`` chooses the penalty on held-out rows, as
        ``LogisticRegressionCV`` chooses ``C``: a fresh ``fit`` of 50 to
        10,000 rows fits each candidate on 80 % of them, stratified (on all
        of them, scored on ``X_val``, when it is given), from the weakest up
        until the held-out loss rises, and refits on every row with the
        weakest candidate within ``tol`` of the lowest held-out loss. Other fits use the first
        candidate (a ``warm_start`` fit keeps the penalty it resumes with);
        ``alpha_`` says which was used.""",
    "n_iter_": """n_iter_ : int
        Number of iterations run by the last call to ``fit`` (1 after
        ``partial_fit``), as ``MLPClassifier`` counts them; ``loss_curve_``
        keeps the iterations of every call.""",
    "n_layers_": """n_layers_ : int
        Number of layers, input and output included.""",
    "n_outputs_": """n_outputs_ : int
        Number of outputs: classes, or regression targets.""",
    "out_activation_classifier": """out_activation_ : str
        ``"softmax"``, applied by ``predict_proba``.""",
    "out_activation_regressor": """out_activation_ : str
        ``"identity"``.""",
    "n_features_in_": """n_features_in_ : int
        Number of features seen during fit.""",
    "feature_names_in_": """feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column
        names.""",
}


# The parameters after ``class_weight`` in the iterative methods' signatures.
_ITERATIVE_PARAMS_TAIL = """%(random_state)s
    %(verbose)s
    %(warm_start)s
    %(device)s"""


# Every estimator's Notes end with this paragraph (the ``_clip_inputs``
# default of every method).
_CLIPPING_NOTE = """Predictions first clip each feature to the range it had in the rows
    passed to ``fit`` (those of positive weight, a held-out validation share
    included; over every call of a ``warm_start`` or ``partial_fit`` fit):
    outside that range a fitted network extrapolates without bound, which
    made rows far out wildly wrong. A row outside the range is predicted as
    its nearest point inside, so predictions stay constant beyond the
    training range."""


def _estimator_sections(name, table):
    """Parameters, Attributes, See Also, Notes and References of estimator
    ``name``, in numpydoc's order, from the snippets in ``table``.

    The method's snippets fill ``params`` (the parameters before
    ``class_weight``), ``params_tail`` (those after it; the iterative
    methods' tail by default), ``attributes``, ``references`` and
    optionally ``notes``.
    """
    classifier = name.endswith("Classifier")
    own, other = ("Classifier", "Regressor") if classifier else ("Regressor", "Classifier")
    parameters = ["hidden_layer_sizes", "params", "class_weight", "params_tail"]
    attributes = ["classes_", "attributes", f"out_activation_{own.lower()}"]
    if not classifier:
        parameters.remove("class_weight")
        attributes.remove("classes_")
    attributes += ["n_features_in_", "feature_names_in_"]
    twin_task = "regression" if classifier else "classification"
    lines = [
        *("Parameters", "----------", *(table[key] for key in parameters), ""),
        *("Attributes", "----------", *(table[key] for key in attributes), ""),
        *("See Also", "--------", f"{name.replace(own, other)} : The {twin_task} twin."),
        f"sklearn.neural_network.MLP{own} : The same network trained by backpropagation.",
        "",
    ]
    notes = [table["notes"], ""] if table.get("notes") else []
    lines += ["Notes", "-----", *notes, _CLIPPING_NOTE, ""]
    lines += ["References", "----------", table["references"]]
    return "\n    ".join(lines).replace("\n    \n", "\n\n")


def fill_doc(*snippets):
    """Decorator: fill ``%(name)s`` in a docstring with the shared snippets
    and the dicts ``snippets`` (the method's own, which win; a later dict
    wins over an earlier one, also inside the snippets that name it).

    A method's snippet may name shared snippets and the method's snippets
    listed before it. An estimator class (a name ending in ``Classifier`` or
    ``Regressor``) may also name ``%(sections)s``: its Parameters,
    Attributes, See Also, Notes and References, assembled from the snippets.
    """
    table = {**_SHARED, "params_tail": _ITERATIVE_PARAMS_TAIL % _SHARED}
    merged = {}  # a later dict's snippet replaces an earlier one in place,
    for own in snippets:  # so the snippets that name it get the later text
        merged.update(own)
    for name, text in merged.items():
        table[name] = text % table

    def decorate(obj):
        sections = {}
        if isinstance(obj, type) and obj.__name__.endswith(("Classifier", "Regressor")):
            if "params" in table:
                sections["sections"] = _estimator_sections(obj.__name__, table)
        obj.__doc__ = obj.__doc__ % {**table, **sections}
        return obj

    return decorate
