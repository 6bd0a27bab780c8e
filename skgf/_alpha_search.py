"""``alpha="auto"``: the L2 penalty chosen on held-out rows.

The iterative classifiers' default penalty is picked as
``LogisticRegressionCV`` picks ``C``, from a short list of candidates
(``_AUTO_ALPHA_CANDIDATES``); ``LRARegressor``'s from 1, 3 and 10 times its
row rule (``_AUTO_ALPHA_RULE_MULTIPLES``), and the other regressors keep the
row rule alone. Each candidate is fitted on 80 % of the training rows
(stratified for classifiers), scored by the loss the fit minimises
(cross-entropy, or half the squared error on standardised targets) on the
other 20 % (or on ``X_val`` when ``fit`` is given one), and the final model
is fitted on every row with the weakest candidate within ``tol`` of the
lowest held-out loss. The loss, not the accuracy, decides: on a few hundred
rows the accuracy moves in steps of one row, the loss does not. Why a choice
and not one value: a penalty strong enough for a set where the linear model
is the best model (adult) costs a set with much to learn (letter) up to 9
points (doc/robustness.rst, "The penalty").

The search runs only on a fresh ``fit`` with ``_AUTO_ALPHA_SEARCH_ROWS``
rows (classifiers 50 to 10,000, ``LRARegressor`` 50 to 2,000): below them
too few rows can be held out, and above them the fit is long and a penalty
matters less (the classifiers' ``early_stopping="auto"`` takes over above
10,000 rows; the regressor's search was measured on small sets only).
Every candidate starts from the weights the final fit starts from (a copy of
the fit's random state), so when the first candidate wins the model is the
one the fit would give without a search. The candidates go from the weakest
penalty up, and the search stops at the first one whose held-out loss rises
above the one before it: as the penalty grows the held-out loss falls, then
rises, so a stronger one would fit worse still, and where the first
candidate wins (most sets) a third fit is saved.
"""

import numpy as np

from ._base import FitDiverged, counted_rows, generator_in_state
from ._callbacks import FitProgress

# Fraction of the rows held out to score the candidates.
HELD_OUT_FRACTION = 0.2


def search_alpha(model, xp, X, Y, hidden, rng, sample_weight, validation):
    """Pin the penalty ``alpha="auto"`` stands for (``model._pinned_alpha``,
    or a regressor's ``_pinned_rule_multiple``) for this ``fit`` call and the
    warm starts after it (with the search's
    fitted attributes when it runs); ``rng`` is left untouched."""
    for name in ("alphas_", "alpha_validation_losses_"):
        model.__dict__.pop(name, None)  # of an earlier fit
    if model.alpha != "auto":
        model._pinned_alpha = model.alpha  # what a later warm "auto" fit keeps
        return
    if model._resumes(incremental=False):
        return  # a resumed fit keeps the penalty it resumes with
    for name in ("_pinned_alpha", "_pinned_rule_multiple"):
        model.__dict__.pop(name, None)
    low, high = model._AUTO_ALPHA_SEARCH_ROWS
    if not low <= X.shape[0] <= high:
        return
    candidates = model._auto_alpha_candidates(counted_rows(xp, X, sample_weight))
    if candidates is None:
        return
    if validation is None:
        X_fit, Y_fit, X_val, Y_val, w_fit, w_val = model._validation_split(
            xp, X, Y, generator_in_state(rng.get_state()), sample_weight, fraction=HELD_OUT_FRACTION
        )
    else:  # the caller's own held-out rows
        (X_fit, Y_fit, w_fit), (X_val, Y_val, w_val) = (X, Y, sample_weight), validation
    if any(w is not None and not float(xp.sum(w)) > 0 for w in (w_fit, w_val)):
        return  # a side of zero weight: nothing to fit or to judge on
    losses = _held_out_losses(
        model,
        xp,
        candidates,
        (X_fit, Y_fit, w_fit),
        (X_val, Y_val, w_val),
        hidden,
        rng,
        stop_on_held_out=validation is not None,
    )
    # the weakest penalty within tol of the lowest loss: a stronger one must
    # do better by more than noise
    chosen = next(i for i, loss in enumerate(losses) if loss <= min(losses) + model.tol)
    model._pin_auto_alpha(chosen)
    model.alphas_ = np.asarray(candidates[: len(losses)], dtype=float)
    model.alpha_validation_losses_ = np.asarray(losses, dtype=float)
    if model.verbose:
        scores = ", ".join(f"alpha={a:.4g}: {loss:.6f}" for a, loss in zip(candidates, losses))
        print(
            f"[{type(model).__name__}] alpha='auto', held-out loss {scores}; "
            f"fitting with alpha={candidates[chosen]:.4g}"
        )


def _held_out_losses(model, xp, candidates, fit_rows, held_out, hidden, rng, stop_on_held_out):
    """Held-out loss of each candidate fitted, weakest first, up to the
    first whose loss rises (as the penalty grows the held-out loss falls,
    then rises: a stronger one would fit worse still)."""
    losses = []
    model._searching_alpha = True
    try:
        for alpha in candidates:
            model._pinned_alpha = alpha
            losses.append(
                _held_out_loss(model, xp, fit_rows, held_out, hidden, rng, stop_on_held_out)
            )
            if len(losses) > 1 and losses[-1] > losses[-2]:
                break
    finally:
        model._searching_alpha = False
        _forget_weights(model)  # the final fit starts afresh (also with warm_start)
    return losses


def _held_out_loss(model, xp, fit_rows, held_out, hidden, rng, stop_on_held_out):
    """Held-out loss of a fit with the current ``_pinned_alpha``
    (infinite when the fit diverges at once). ``stop_on_held_out``: the
    held-out rows are the caller's ``X_val``, which the fit's early stopping
    uses as the final fit's does."""
    X_fit, Y_fit, w_fit = fit_rows
    validation = held_out if stop_on_held_out else None
    _forget_weights(model)  # not the previous candidate's (warm_start)
    # a candidate's fit does not warn (``_searching_alpha``): the final fit
    # says what it needs to
    try:
        model._train(
            xp,
            X_fit,
            Y_fit,
            hidden,
            generator_in_state(rng.get_state()),
            False,
            w_fit,
            FitProgress.silent(),
            validation,
        )
    except FitDiverged:
        return np.inf
    loss = model._validation_score_and_loss(xp, *held_out)[1]
    return float(loss) if np.isfinite(loss) else np.inf


def _forget_weights(model):
    for name in ("coefs_", "intercepts_"):
        model.__dict__.pop(name, None)
