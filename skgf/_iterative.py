"""Plumbing shared by the iterative methods (RSO, rec-LRA, semi-implicit BP).

``BaseIterativeNetwork`` owns the only training loop of the iterative
methods: weight initialisation and ``warm_start``, ``partial_fit``,
mini-batch slicing and shuffling, the validation split and
``early_stopping`` with best-weight restore, the ``tol`` /
``n_iter_no_change`` stopping rule of ``MLPClassifier`` (with early stopping,
a falling validation loss counts as progress too), ``loss_curve_``,
``verbose`` output and divergence handling. A method supplies one thing,
``_make_rule()``: its update rule (``_rules.py``), built from the
estimator's parameters. The loop keeps the rule's state in ``_rule_state``
between calls and hands it back to the rule with the weights.

Sample weights reach the rule scaled to mean 1 over the iteration's rows
(so that step sizes mean what they mean unweighted); a mini-batch's loss is
``sum(w_i * loss_i) / batch_rows``. A rule with an L2 penalty ``alpha``
uses ``alpha * self._alpha_scale``, the scaling factor ``n_rows /
sum(weights)`` (1 without weights), so that the objective is the one of the
data with every row repeated as often as its weight says (full-batch fits
with integer weights equal fits of the repeated rows, for a given penalty:
a classifier's or ``LRARegressor``'s ``alpha="auto"`` chooses it on a split
of the rows, which differs between weighted and repeated rows).

Weights: ``BaseNetwork`` validates ``sample_weight`` and multiplies in
``class_weight``; the loop here scales them to mean 1 (over the training
split with ``early_stopping``, whose validation score is weighted too; over
the call's rows for ``partial_fit``).

Divergence: an iteration whose loss (or weights) is not finite is undone.
If it is the call's first (or the only one, ``partial_fit``) the fit raises
a ``ValueError`` (as ``MLPClassifier`` does for non-finite weights) and the
estimator is left as it was before the call; otherwise the fit stops with a
``ConvergenceWarning`` and keeps the weights and method state from the
start of the iteration with the lowest training loss of the call (the
best-validation weights with ``early_stopping``). A fit whose final training
loss has risen far above that lowest loss (more than doubled it, and given
back more than half of the call's improvement) restores the same state with
a ``ConvergenceWarning``; without ``early_stopping`` only, which keeps its
best-validation weights anyway. Otherwise the last iterate is kept, as in
``MLPClassifier``.
"""

import time
import warnings
from abc import abstractmethod
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches
from sklearn.utils._param_validation import Interval, StrOptions

from ._activations import HIDDEN_ACTIVATIONS
from ._alpha_search import search_alpha
from ._array_api import device_of, map_arrays, move_to, take_rows, to_numpy
from ._base import (
    FITTED_ARRAY_ATTRIBUTES,
    BaseNetwork,
    FitDiverged,
    _caller_level,
    _copy_array,
    counted_rows,
    generator_in_state,
)
from ._callbacks import FitProgress, callback_management_context
from ._losses import held_out_loss, held_out_score
from ._network import Network, init_weights, layer_sizes
from ._rules import PassRule


class BaseIterativeNetwork(BaseNetwork):
    """Iteration loop, early stopping, warm start and ``partial_fit``."""

    _parameter_constraints = {
        **BaseNetwork._parameter_constraints,
        "activation": [StrOptions(set(HIDDEN_ACTIVATIONS))],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }

    # The update rule's state (``None`` for rules without one) is kept,
    # copied, moved and pickled with the weights, as the input range is.
    _state_attributes = (*BaseNetwork._state_attributes, "_rule_state")
    # Factor of the L2 penalty in the current fit (see the module docstring).
    _alpha_scale = 1.0
    # Initial weights of the method (see ``_network.init_weights``).
    _init_scheme = "glorot_uniform"
    # ``batch_size="auto"`` means min(_auto_batch_rows(n_samples), n_samples)
    # rows (_auto_batch_size unless a method scales it with the set), but
    # no more than n_samples / _auto_min_batches (rounded up) and no fewer
    # than _auto_min_batch_rows: a method whose steps are small sets
    # _auto_min_batches so that a small data set still gets that many
    # steps per epoch (1 keeps MLPClassifier's rule).
    _auto_batch_size = 200
    _auto_min_batches = 1
    _auto_min_batch_rows = 1
    # ... except that fewer rows than this stay one batch.
    _auto_split_from = 100

    # alpha="auto" of the regressors: AUTO_ALPHA_ROWS /
    # (training rows), a penalty that fades as the data grow, as a fixed
    # prior's does against a summed loss (doc/sibp.rst and doc/rso.rst,
    # "Defaults": set on diabetes, checked on friedman1 and shared sets).
    _AUTO_ALPHA_ROWS = 3000.0
    # ... at most this (rec-LRA caps it at the small-set value it was tuned at)
    _AUTO_ALPHA_MAX = float("inf")

    # alpha="auto" in a fresh fit of _AUTO_ALPHA_SEARCH_ROWS rows (both
    # bounds included) is chosen on held-out rows (``_alpha_search.py``):
    # a classifier's among _AUTO_ALPHA_CANDIDATES (the first one in other
    # fits); rec-LRA's regressor among _AUTO_ALPHA_RULE_MULTIPLES times the
    # row rule (the rule itself in other fits). RSO's and semi-implicit BP's
    # regressors have neither and keep the row rule (a search over 1, 3 and
    # 10 times it was measured for them and not adopted, doc/robustness.rst,
    # "The penalty").
    _AUTO_ALPHA_CANDIDATES = None
    _AUTO_ALPHA_RULE_MULTIPLES = None
    _AUTO_ALPHA_SEARCH_ROWS = (50, 10000)

    def _alpha_value(self):
        """``alpha``, with ``"auto"`` resolved: the penalty pinned by this
        fit or the one it resumes, else the first candidate, or the row rule
        for the rows seen so far (times the multiple a search chose)."""
        if self.alpha != "auto":
            return self.alpha
        pinned = getattr(self, "_pinned_alpha", None)
        if pinned is not None:
            return pinned
        if self._AUTO_ALPHA_CANDIDATES is not None:
            return self._AUTO_ALPHA_CANDIDATES[0]
        multiple = getattr(self, "_pinned_rule_multiple", 1.0)
        return multiple * self._row_rule_alpha(getattr(self, "_rows_seen", 1))

    def _row_rule_alpha(self, rows):
        """The regressors' penalty for ``rows`` training rows."""
        return min(self._AUTO_ALPHA_ROWS / max(rows, 1), self._AUTO_ALPHA_MAX)

    def _auto_alpha_candidates(self, rows):
        """The penalties ``alpha="auto"`` chooses among in a fit of ``rows``
        training rows, weakest first (None: no search)."""
        if self._AUTO_ALPHA_CANDIDATES is not None:
            return self._AUTO_ALPHA_CANDIDATES
        if self._AUTO_ALPHA_RULE_MULTIPLES is None:
            return None
        rule = self._row_rule_alpha(rows)
        return tuple(multiple * rule for multiple in self._AUTO_ALPHA_RULE_MULTIPLES)

    def _pin_auto_alpha(self, index):
        """Keep the search's choice, candidate ``index``, for this fit and
        the warm starts after it: a classifier's penalty, or a regressor's
        multiple of the row rule, which then follows the rows seen as the
        rule does (``partial_fit``, a ``warm_start`` fit on other rows)."""
        if self._AUTO_ALPHA_CANDIDATES is not None:
            self._pinned_alpha = self._AUTO_ALPHA_CANDIDATES[index]
        else:
            self.__dict__.pop("_pinned_alpha", None)
            self._pinned_rule_multiple = self._AUTO_ALPHA_RULE_MULTIPLES[index]

    @abstractmethod
    def _make_rule(self):
        """The method's update rule, built from the current parameters."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels (numbers or strings) for classifiers, target values
            for regressors.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample in the loss: a sample of
            integer weight ``k`` counts as ``k`` copies of it. The weights are
            scaled to mean 1 over the training rows, so that step sizes keep
            their meaning, and ``alpha`` is divided by the same factor (weights
            of 3 everywhere act as a third of the penalty, as three copies of
            every row would). So weights normalised to sum to 1 stand for a
            single row, which the penalty dominates (and ``alpha="auto"``,
            counting rows by their weights, grows): give weights of mean 1
            (``w * len(w) / w.sum()``) to make them relative.
            ``None`` weighs all samples equally.
        X_val : array-like of shape (n_val, n_features), default=None
            A validation set for ``early_stopping``, used instead of holding
            out ``validation_fraction`` of ``X`` (as in scikit-learn's
            ``HistGradientBoostingClassifier``). It needs
            ``early_stopping=True`` or ``"auto"``. In a ``Pipeline``, transform it as ``X``
            with ``Pipeline(..., transform_input=["X_val"])``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Labels or targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weight of each validation sample in the validation score
            (``class_weight`` is not applied to it).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        validation = None
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("X_val and y_val must be passed together (got only one).")
            validation = (X_val, y_val, sample_weight_val)
        elif sample_weight_val is not None:
            raise ValueError("sample_weight_val is given without X_val and y_val.")
        return self._fit(X, y, sample_weight=sample_weight, validation=validation)

    def _n_fit_tasks(self, incremental, n_layers):
        return 1 if incremental else self.max_iter

    def _network(self):
        return Network(list(self.coefs_), list(self.intercepts_), self.activation)

    # ----------------------------------------------------------------- loop
    def _solve(self, xp, X, Y, hidden, rng, incremental, sample_weight=None, **fit_context):
        # fit_context: the fit's callbacks (progress) and validation set
        progress = fit_context.get("progress") or FitProgress.silent()
        validation = fit_context.get("validation")
        if not incremental:
            search_alpha(self, xp, X, Y, hidden, rng, sample_weight, validation)
        self._train(xp, X, Y, hidden, rng, incremental, sample_weight, progress, validation)
        self.alpha_ = float(self._alpha_value())

    def _train(self, xp, X, Y, hidden, rng, incremental, sample_weight, progress, validation):
        """One fit or ``partial_fit`` call's training, with the penalty set."""
        self.do_early_stopping_ = self._resolve_early_stopping(
            X.shape[0], validation is not None, incremental
        )
        rows = counted_rows(xp, X, sample_weight)
        fresh = self._start_or_resume(xp, X, Y, hidden, rng, incremental, rows)
        # this call's iterations, as MLPClassifier counts them (loss_curve_
        # keeps every call's)
        self.n_iter_ = 0
        self._record_input_range(xp, X, fresh, sample_weight)
        if incremental:
            self._warn_if_batch_exceeds_rows(X.shape[0])
            weights = self._unit_mean_weights(xp, sample_weight)
            task = progress.begin(self._iteration_name)
            failed = self._iterate_once(xp, self._make_rule(), X, Y, rng, weights)
            if failed is not None:
                self._raise_diverged(failed)
            progress.end(task, self._fitted_attributes)
            return
        X_val = Y_val = w_val = None
        if validation is not None:
            if not self.do_early_stopping_:
                raise ValueError(
                    "X_val and y_val are used for early stopping, but early_stopping "
                    "is False. Set early_stopping=True (or 'auto') to stop on them, "
                    "or leave them out."
                )
            X_val, Y_val, w_val = validation
        elif self.do_early_stopping_:
            X, Y, X_val, Y_val, sample_weight, w_val = self._validation_split(
                xp, X, Y, self._split_generator(rng, fresh), sample_weight
            )
        self._warn_if_batch_exceeds_rows(X.shape[0])
        self._best_weights = None
        if self.do_early_stopping_ and not fresh:
            self._score_resumed_weights(xp, X_val, Y_val, w_val)
        weights = self._unit_mean_weights(xp, sample_weight)
        rule = self._make_rule()  # after the weights set the penalty's scale
        self._fixed_batches = self._fixed_partition(X.shape[0], rng)
        try:
            self._iterate(xp, rule, X, Y, rng, weights, (X_val, Y_val, w_val), progress)
        finally:
            self._best_weights = self._fixed_batches = None

    def _start_or_resume(self, xp, X, Y, hidden_layer_sizes, rng, incremental, rows):
        """Fresh weights and records, or (``warm_start``, ``partial_fit``)
        the previous fit's moved to this fit's device; whether fresh."""
        device = device_of(X)
        sizes = layer_sizes(X.shape[1], hidden_layer_sizes, Y.shape[1])
        fresh = not self._resumes(incremental)
        # training rows the model has learned from (the sum of the sample
        # weights: a row of weight k counts k times), this call's plus the
        # earlier calls' for partial_fit; an alpha="auto" penalty follows it
        previous = getattr(self, "_rows_seen", 0) if incremental and not fresh else 0
        self._rows_seen = previous + rows
        if not fresh and [W.shape for W in self.coefs_] != list(zip(sizes[:-1], sizes[1:])):
            raise ValueError(
                "warm_start / partial_fit needs the same layer sizes as the "
                f"previous fit: got {sizes}, fitted with "
                f"{[self.coefs_[0].shape[0]] + [W.shape[1] for W in self.coefs_]}."
            )
        if fresh:
            self.coefs_, self.intercepts_ = init_weights(
                sizes, rng, self._init_scheme, xp, device, X.dtype
            )
            self._rule_state = self._make_rule().init_state(self._network(), rng)
            self.loss_curve_ = []
            self.best_loss_ = np.inf
            self._no_improvement_count = 0
            for name in (
                "validation_scores_",
                "best_validation_score_",
                "_best_validation_loss",
                "_loss_at_best_score",
                "_split_state",
            ):
                self.__dict__.pop(name, None)  # of an earlier fit
        else:
            self._move_state(xp, device, X.dtype)
            self._rule_state = self._make_rule().resume_state(self._rule_state, self._network())
        if self.do_early_stopping_ and not hasattr(self, "validation_scores_"):
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
        if self.do_early_stopping_ and not hasattr(self, "_best_validation_loss"):
            # also for a model early-stopped before the losses were kept
            self._best_validation_loss = self._loss_at_best_score = np.inf
        return fresh

    def _score_resumed_weights(self, xp, X_val, Y_val, w_val):
        """Make the weights a resumed early-stopping fit starts from its
        best so far, scored on this fit's validation rows: the fit keeps
        them unless one of its iterations scores higher, so
        ``best_validation_score_`` stays the score of the weights kept (an
        earlier call's best may belong to weights since changed, or to
        other rows)."""
        score, loss = self._validation_score_and_loss(xp, X_val, Y_val, w_val)
        self.best_validation_score_, self._loss_at_best_score = score, loss
        # progress is counted from here too: an earlier, lower validation
        # loss would keep a recovering fit from counting its improvements
        self._best_validation_loss = loss
        self._best_weights = self._weights_copy(xp)

    # early_stopping="auto" turns it on above this many rows (as
    # HistGradientBoosting's): big sets stop when held-out rows stop improving
    # instead of running max_iter epochs; small sets keep every row to learn from
    _AUTO_EARLY_STOPPING_ROWS = 10000

    def _resolve_early_stopping(self, n_rows, validation_given, incremental):
        """Whether this fit stops on a validation score: never for
        ``partial_fit`` (one call's rows are a chunk, and it runs one
        iteration); ``"auto"``: with a given validation set, or above
        ``_AUTO_EARLY_STOPPING_ROWS`` rows."""
        if incremental:
            return False
        if self.early_stopping != "auto":
            return bool(self.early_stopping)
        return validation_given or n_rows > self._AUTO_EARLY_STOPPING_ROWS

    def _iterate(self, xp, rule, X, Y, rng, weights, validation, progress):
        """The iterations of one ``fit`` call, then its warnings and the
        weights it keeps (see the module docstring)."""
        losses = []  # this call's finite losses
        best_state, best_index = None, None
        failed = None  # non-finite loss of an undone iteration
        start = time.perf_counter()
        stopped = False  # by the n_iter_no_change rule
        ended_by = None  # "interrupt" or "callback"
        n_scores = len(getattr(self, "validation_scores_", []))
        for _ in range(self.max_iter):
            start_state = self._model_state()
            try:
                task = progress.begin(self._iteration_name)
                failed = self._iterate_once(xp, rule, X, Y, rng, weights)
            except KeyboardInterrupt:
                if not losses or self._searching_alpha:
                    raise  # nothing of this call to keep: _fit restores the estimator
                self._set_model_state(start_state)  # undo the half-run iteration
                self._warn_interrupted(len(losses))
                ended_by = "interrupt"
                break
            if failed is not None and not losses:
                self._raise_diverged(failed)
            if failed is not None:
                progress.end(task)
                break
            losses.append(self.loss_curve_[-1])
            try:
                stop = self._update_stopping_state(
                    xp, *validation, left_start=self._left_start(losses, n_scores)
                )
            except KeyboardInterrupt:  # while scoring: undo the unscored iteration
                self._undo_last_iteration(start_state, losses, n_scores)
                if not losses or self._searching_alpha:
                    raise
                self._warn_interrupted(len(losses))
                ended_by = "interrupt"
                break
            if best_state is None or losses[-1] < losses[best_index]:
                best_state, best_index = start_state, len(losses) - 1
            self._print_iteration(start)
            if stop and self.verbose and not self._searching_alpha:  # as MLPClassifier
                print(
                    f"[{type(self).__name__}] no improvement of more than "
                    f"tol={self.tol} for {self.n_iter_no_change} iterations; stopping."
                )
            try:
                if progress.end(task, self._fitted_attributes):
                    ended_by = "callback"
            except KeyboardInterrupt:  # the iteration itself is complete
                self._warn_interrupted(len(losses))
                ended_by = "interrupt"
            if stop or ended_by:
                stopped = stop
                break
        else:
            self._warn(
                f"stopped after max_iter={self.max_iter} "
                "iterations before the loss (or the validation score and "
                "loss) stopped improving. Increase max_iter or tol."
            )
        if failed is not None:
            self._set_model_state(best_state)
            self._warn_diverged(failed, losses, best_index)
        elif ended_by is None:
            self._warn_if_nothing_learned(
                losses,
                self.validation_scores_[n_scores:] if self.do_early_stopping_ else None,
                stopped,
            )
        if self.do_early_stopping_ and self._best_weights is not None:
            self.coefs_, self.intercepts_ = self._best_weights
        elif failed is None and losses and not self.do_early_stopping_:
            self._undo_late_rise(losses, best_state, best_index)

    def _undo_last_iteration(self, start_state, losses, n_scores):
        """Take back this call's last iteration, its weights and records (a
        validation score it may have got included)."""
        self._set_model_state(start_state)
        losses.pop()
        self.loss_curve_.pop()
        self.n_iter_ -= 1
        if self.do_early_stopping_:
            del self.validation_scores_[n_scores + len(losses) :]

    # Name of one iteration in the callbacks' task tree (RSO: "pass").
    _iteration_name = "epoch"

    def _fitted_attributes(self):
        """Copies of the attributes a model needs to predict as it stands
        (the callbacks' ``fitted_estimator``)."""
        attributes = self._model_state()
        attributes["n_layers_"] = len(self.coefs_) + 1
        attributes["n_outputs_"] = self.coefs_[-1].shape[1]
        return attributes

    # True while the fits of the alpha="auto" search run: they print no
    # iterations, warn about nothing, and an interrupt ends the whole fit
    _searching_alpha = False

    def _print_iteration(self, start):
        if not self.verbose or self._searching_alpha:
            return
        val = (
            f", validation score = {self.validation_scores_[-1]:.6f}"
            f", validation loss = {self._last_validation_loss:.6f}"
            if self.do_early_stopping_
            else ""
        )
        print(
            f"[{type(self).__name__}] iteration {self.n_iter_}, "
            f"loss = {self.loss_curve_[-1]:.6f}{val}, "
            f"{time.perf_counter() - start:.2f} s"
        )

    def _warn_interrupted(self, n_completed):
        self._warn(
            f"the fit was interrupted (KeyboardInterrupt) "
            f"during iteration {n_completed + 1} of this call; the model keeps the "
            f"weights of the last completed iteration (n_iter_={self.n_iter_})"
            + (", or of the best validation score" if self.do_early_stopping_ else "")
            + ". Fit again with warm_start=True to go on."
        )

    def _warn_diverged(self, failed, losses, best_index):
        kept = (
            f"restored the weights from the start of iteration "
            f"{best_index + 1}, whose training loss {losses[best_index]:.4g} "
            "was the lowest"
        )
        if self.do_early_stopping_ and self._best_weights is not None:
            kept = "kept the weights of the best validation score"
        self._warn(
            f"the training loss (or the weights) "
            f"became {failed} at iteration {len(losses) + 1} of this fit: the "
            f"updates diverged, so the fit stopped and {kept}. Scale the "
            "features (e.g. StandardScaler), or lower the method's step size."
        )

    def _undo_late_rise(self, losses, best_state, best_index):
        """Restore the best iteration's state when the training loss rose
        far above its lowest value by the end of the call."""
        first, best, last = losses[0], losses[best_index], losses[-1]
        if last - best > max(self.tol, best, 0.5 * (first - best)):
            self._set_model_state(best_state)
            self._warn(
                f"the training loss rose from its "
                f"lowest value {best:.4g} (iteration {best_index + 1} of this "
                f"fit) to {last:.4g} at its end: the fit diverged. The weights "
                f"from the start of iteration {best_index + 1} were restored. "
                "Use early_stopping, a larger alpha or a smaller step size."
            )

    def _warn_if_nothing_learned(self, losses, scores, stopped):
        """Warn when this call's training loss ends no lower than it began,
        or (``early_stopping``) its validation score ends below its first
        value: the fit did not learn, whatever stopped it."""
        if len(losses) > 1 and losses[-1] >= losses[0]:
            what = (
                f"its training loss ended at {losses[-1]:.4g}, not below its first "
                f"value {losses[0]:.4g}"
            )
        elif scores and len(scores) > 1 and scores[-1] < scores[0]:
            what = (
                f"its validation score ended at {scores[-1]:.4g}, below its first "
                f"value {scores[0]:.4g} (the best-validation weights are kept)"
            )
        else:
            return
        why = (
            f"stopped after {len(losses)} iterations without improvement "
            f"(n_iter_no_change={self.n_iter_no_change})"
            if stopped
            else f"ran {len(losses)} iterations"
        )
        self._warn(
            f"the fit {why}, and {what}: it did not learn. Scale the "
            "features (e.g. StandardScaler), change the step size "
            "(learning_rate_init or the method's own), raise alpha, or raise "
            "max_iter."
        )

    def _warn(self, message, category=ConvergenceWarning):
        """A warning (by default a ``ConvergenceWarning``) about this fit,
        named after the estimator and attributed to the caller of ``fit``;
        none from the penalty search's candidate fits, whose final fit says
        what it needs to (no ``catch_warnings`` there: it changes the
        filters of every thread)."""
        if self._searching_alpha:
            return
        warnings.warn(f"{type(self).__name__}: {message}", category, stacklevel=_caller_level())

    def _raise_diverged(self, loss):
        """A non-finite first iteration: nothing to keep (``_fit`` restores
        the estimator as it was before the call)."""
        raise FitDiverged(
            f"{type(self).__name__}: the training loss (or the weights) became "
            f"{loss} in the first iteration of this fit: the updates diverged. "
            "Scale the features (e.g. StandardScaler) or the targets, or lower "
            "the method's step size."
        )

    def _iterate_once(self, xp, rule, X, Y, rng, sample_weight=None):
        """Run and record one iteration; return ``None``, or the loss when it
        (or the weights) is not finite (the iteration is then not recorded
        and the caller restores the weights)."""
        loss = self._run_iteration(xp, rule, X, Y, rng, sample_weight)
        if not np.isfinite(loss) or not self._weights_finite(xp):
            return loss if not np.isfinite(loss) else float("nan")
        self.n_iter_ += 1
        self.loss_curve_.append(loss)
        return None

    def _run_iteration(self, xp, rule, X, Y, rng, sample_weight):
        """One iteration of ``rule`` (an epoch of mini-batches, or a pass of
        its own); writes the weights back and returns the training loss."""
        network = self._network()
        with rule.running():
            loss = self._run_rule(xp, rule, network, X, Y, rng, sample_weight)
        self.coefs_, self.intercepts_ = network.coefs, network.intercepts
        return float(loss)

    def _run_rule(self, xp, rule, network, X, Y, rng, sample_weight):
        """The iteration's training loss, after ``rule`` has run its pass or epoch."""
        if isinstance(rule, PassRule):
            return rule.run_pass(
                network,
                self._rule_state,
                X,
                Y,
                sample_weight,
                rng,
                batch_size=self._batch_size(X.shape[0]),
                pass_index=len(self.loss_curve_),  # over all calls of the fit
            )
        return self._run_epoch(xp, rule, network, X, Y, rng, sample_weight)

    def _run_epoch(self, xp, rule, network, X, Y, rng, sample_weight):
        """One epoch of ``rule.step`` over shuffled mini-batches; the mean
        training loss (the batches' summed losses over the rows)."""
        n_samples = X.shape[0]
        device = device_of(X)
        total = xp.zeros((), dtype=X.dtype, device=device)
        batches, batch_ids = self._epoch_batches(n_samples, rng)
        # one host-to-device copy of the epoch's order, sliced per batch
        order = xp.asarray(np.concatenate(batches).astype(np.int64), device=device)
        stop = 0
        for rows, batch_id in zip(batches, batch_ids):
            start, stop = stop, stop + rows.shape[0]
            Xb, Yb, wb = take_rows(xp, order[start:stop], X, Y, sample_weight)
            total = total + rule.step(network, self._rule_state, Xb, Yb, wb, rng, batch_id)
        return float(total) / n_samples

    def _fixed_partition(self, n_samples, rng):
        """The mini-batches that every epoch of this ``fit`` call reuses
        (``shuffle=False``: consecutive rows; ``"fixed_batches"``: rows
        shuffled once), or ``None`` when each epoch draws new ones."""
        shuffle = getattr(self, "shuffle", True)  # RSO draws its own batches
        if shuffle is True:
            return None
        return self._minibatches(n_samples, rng, shuffle=shuffle == "fixed_batches")

    def _epoch_batches(self, n_samples, rng):
        """One epoch's mini-batches and their ids: with a fixed partition,
        its batches (in a new order under ``"fixed_batches"``) named by
        their index in it, so a rule may cache per-batch work; otherwise
        fresh batches with ids ``None``."""
        partition = getattr(self, "_fixed_batches", None)
        if partition is None:
            batches = self._minibatches(n_samples, rng, shuffle=bool(self.shuffle))
            return batches, [None] * len(batches)
        ids = np.arange(len(partition))
        if self.shuffle == "fixed_batches":
            ids = rng.permutation(len(partition))
        return [partition[i] for i in ids], [int(i) for i in ids]

    def _weights_finite(self, xp):
        return all(bool(xp.all(xp.isfinite(A))) for A in (*self.coefs_, *self.intercepts_))

    def _fitted_rule_state(self, attribute):
        """The method state behind the fitted property ``attribute``; an
        unfitted estimator has no such attribute (``hasattr`` is False)."""
        state = getattr(self, "_rule_state", None)
        if state is None:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {attribute!r}: "
                "it is set by fit (call fit or partial_fit first)."
            )
        return state

    def _weights_copy(self, xp):
        return (
            [xp.asarray(W, copy=True) for W in self.coefs_],
            [xp.asarray(b, copy=True) for b in self.intercepts_],
        )

    def _model_state(self):
        """Copy of the weights and the method state (``_state_attributes``)."""
        names = ("coefs_", "intercepts_", *self._state_attributes)
        return {
            name: map_arrays(getattr(self, name), _copy_array)
            for name in names
            if hasattr(self, name)
        }

    def _set_model_state(self, state):
        for name, value in state.items():
            setattr(self, name, value)

    def _unit_mean_weights(self, xp, sample_weight):
        """``sample_weight`` scaled to mean 1 over its rows (``None`` stays);
        sets ``_alpha_scale`` to the factor it took."""
        self._alpha_scale = 1.0
        if sample_weight is None:
            return None
        total = float(xp.sum(sample_weight))
        if not total > 0:
            raise ValueError(
                "The sample weights of the training rows are all zero (with "
                "early_stopping: of the training split); nothing to fit. Use "
                "another random_state, validation_fraction or more weighted rows."
            )
        self._alpha_scale = sample_weight.shape[0] / total
        return sample_weight * self._alpha_scale

    def _update_stopping_state(self, xp, X_val, Y_val, w_val=None, left_start=True):
        """MLP's rule: stop after ``n_iter_no_change`` iterations without a
        ``tol`` improvement of the training loss or, with early stopping,
        of either the validation score or the validation loss.

        Iterations count toward the stop only once the fit has left its
        start (``left_start``, see ``_left_start``). A rule whose loss first
        rises, as rec-LRA's does while
        the forward weights align with the random feedback, is not stopped
        in that phase; one that never improves runs to ``max_iter`` and warns.
        """
        if self.do_early_stopping_:
            score, loss = self._validation_score_and_loss(xp, X_val, Y_val, w_val)
            self.validation_scores_.append(score)
            self._last_validation_loss = loss  # for verbose output
            # The validation loss counts too: a small split's accuracy moves
            # in steps of one row and can tie for many epochs while the model
            # still improves, which stopped slow learners far too early
            # (doc/robustness.rst, "What counts as progress").
            improved = (
                score > self.best_validation_score_ + self.tol
                or loss < self._best_validation_loss - self.tol
            )
            self._best_validation_loss = min(self._best_validation_loss, loss)
            # the kept weights: the best score, a tie going to the lower loss
            if score > self.best_validation_score_ or (
                score == self.best_validation_score_ and loss < self._loss_at_best_score
            ):
                self.best_validation_score_ = score
                self._loss_at_best_score = loss
                self._best_weights = self._weights_copy(xp)
        else:
            loss = self.loss_curve_[-1]
            improved = loss < self.best_loss_ - self.tol
        self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])
        if not left_start:
            improved = True  # still in the warm-up: nothing counts yet
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
        return self._no_improvement_count >= self.n_iter_no_change

    def _left_start(self, losses, n_scores):
        """Whether this call's fit has improved on its first iteration: its
        training loss went below its first value by more than ``tol``, or
        (``early_stopping``) its validation score rose above its first one
        (the score of the iteration just run is not recorded yet)."""
        if min(losses) < losses[0] - self.tol:
            return True
        scores = self.validation_scores_[n_scores:] if self.do_early_stopping_ else []
        return len(scores) > 0 and max(scores) > scores[0]

    # -------------------------------------------------------------- helpers
    def _warn_if_batch_exceeds_rows(self, n_rows):
        """Say so when an integer ``batch_size`` exceeds the training rows
        (MLPClassifier warns the same way): the batch is then all of them."""
        if self.batch_size != "auto" and self.batch_size > n_rows:
            self._warn(
                f"batch_size={self.batch_size} is larger than the {n_rows} "
                "training rows of this fit; each mini-batch is all of them.",
                UserWarning,
            )

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            preferred = self._auto_batch_rows(n_samples)
            if n_samples < self._auto_split_from:
                return min(preferred, n_samples)
            rows = -(-n_samples // self._auto_min_batches)  # ceil
            rows = max(rows, self._auto_min_batch_rows)
            return max(1, min(preferred, rows, n_samples))
        return min(self.batch_size, n_samples)

    def _auto_batch_rows(self, n_samples):
        """Rows of a ``batch_size="auto"`` mini-batch before the small-set
        limits of :meth:`_batch_size`."""
        return self._auto_batch_size

    def _minibatches(self, n_samples, rng, shuffle=True):
        """Host index arrays of one epoch's mini-batches."""
        order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
        return [order[sl] for sl in gen_batches(n_samples, self._batch_size(n_samples))]

    def _validation_score_and_loss(self, xp, X_val, Y_val, w_val=None):
        """Score and loss of the split, weighted by ``w_val`` when given: the
        accuracy (classifiers) or mean R^2 (regressors), and the mean loss
        the fit minimises (without the penalty)."""
        # scored as predict sees it (inputs clipped to the training range)
        Z = self._forward(xp, X_val)
        classification = self._is_classifier()
        score = held_out_score(xp, Z, Y_val, classification, w_val)
        return score, held_out_loss(xp, Z, Y_val, classification, w_val)

    def _split_generator(self, rng, fresh):
        """Generator of the held-out split. The first split of a model is
        drawn from the fit's ``rng`` and its state kept, so that a warm start
        holds out the same rows again (with any ``random_state``): its scores
        then continue the earlier ones, and no held-out row is trained on."""
        state = None if fresh else getattr(self, "_split_state", None)
        if state is None:
            self._split_state = rng.get_state()
            return rng
        return generator_in_state(state)

    def _validation_split(self, xp, X, Y, rng, sample_weight=None, fraction=None):
        """Training and held-out rows: ``fraction`` of them held out
        (``validation_fraction`` by default), stratified for classifiers."""
        fraction = self.validation_fraction if fraction is None else fraction
        n = X.shape[0]
        n_val = int(np.ceil(fraction * n))  # as train_test_split
        if n_val < 1 or n - n_val < 1:
            raise ValueError(
                f"early_stopping needs at least one training and one validation "
                f"sample; validation_fraction={self.validation_fraction} of "
                f"n_samples={n} leaves {n - n_val} training samples."
            )
        stratify = to_numpy(xp.argmax(Y, axis=1)) if self._is_classifier() else None
        try:
            train, val = train_test_split(
                np.arange(n),
                test_size=fraction,
                random_state=rng,
                stratify=stratify,
            )
        except ValueError:  # a class too small to stratify
            train, val = train_test_split(np.arange(n), test_size=fraction, random_state=rng)
        if train.size < 1 or val.size < 1:
            raise ValueError(
                f"early_stopping needs at least one training and one validation "
                f"sample; validation_fraction={self.validation_fraction} of "
                f"n_samples={n} gives {val.size} validation samples."
            )
        X_train, Y_train, w_train = take_rows(xp, train, X, Y, sample_weight)
        X_val, Y_val, w_val = take_rows(xp, val, X, Y, sample_weight)
        return X_train, Y_train, X_val, Y_val, w_train, w_val

    def _move_state(self, xp, device, dtype):
        """Bring weights and method state into ``xp`` / ``device`` (warm start
        after unpickling, or after fitting on another device)."""

        def move(a):
            return xp.astype(move_to(a, xp, device), dtype)

        # a regressor's target scale too: predict combines it with the outputs
        for name in (*FITTED_ARRAY_ATTRIBUTES, *self._state_attributes):
            if hasattr(self, name):
                setattr(self, name, map_arrays(getattr(self, name), move))

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_best_weights", None)
        state.pop("_fixed_batches", None)
        return state


class IterativeClassifierMixin:
    """``partial_fit`` for classifiers (``classes`` on the first call)."""

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the network with one iteration over ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All classes that will ever appear; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's loss, relative within this
            call: the weights are scaled to mean 1 over its rows. As in
            ``fit``, ``alpha`` is divided by the same factor, so with a
            penalty their scale still matters (weights of 3 everywhere
            weaken it threefold). A dict ``class_weight``
            is multiplied in; ``"balanced"`` is refused here.

        Returns
        -------
        self : object
            The updated estimator.
        """
        first = not hasattr(self, "coefs_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if first:
            self._validate_params()
        with callback_management_context(self):  # tears the callbacks down
            return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)


class IterativeRegressorMixin:
    """``partial_fit`` for regressors."""

    def partial_fit(self, X, y, sample_weight=None):
        """Update the network with one iteration over ``X``, ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each sample's loss, relative within this
            call: the weights are scaled to mean 1 over its rows. As in
            ``fit``, ``alpha`` is divided by the same factor, so with a
            penalty their scale still matters (weights of 3 everywhere
            weaken it threefold).

        Returns
        -------
        self : object
            The updated estimator.
        """
        if not hasattr(self, "coefs_"):
            self._validate_params()
        with callback_management_context(self):  # tears the callbacks down
            return self._fit(X, y, sample_weight=sample_weight, incremental=True)
