"""Shared pieces of the estimators' docstrings, and the one way to fill them in.

A docstring names a snippet with ``%(name)s`` at the indentation of a
parameter or attribute entry; :func:`fill_doc` substitutes the shared
snippets below and the method's own (twin classifier and regressor share
their method's snippets this way). A literal percent sign is written ``%%``.
Snippets say what a parameter does and which value the paper uses; where a
value comes from and what the papers leave open is on the method pages of
the documentation, not here.
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
        Improvement of the training loss (or of the validation score with
        ``early_stopping``) below which an iteration counts as no
        improvement.""",
    "early_stopping": """early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, stop when its
        score has not improved by ``tol`` for ``n_iter_no_change``
        iterations, and keep the weights of the best validation score.""",
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
        Best of ``validation_scores_``; only with ``early_stopping``.""",
    "n_iter_": """n_iter_ : int
        Number of iterations run.""",
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


def fill_doc(snippets=None):
    """Class decorator: fill ``%(name)s`` in the docstring with the shared
    snippets and ``snippets`` (a dict of the method's own, which win).

    The method's snippets may themselves name shared snippets (a block of
    parameters, say); those are filled in first.
    """
    own = {name: text % _SHARED for name, text in (snippets or {}).items()}
    table = {**_SHARED, **own}

    def decorate(obj):
        obj.__doc__ = obj.__doc__ % table
        return obj

    return decorate
