"""The interface between the training loop and one paper's update rule.

An update rule is an object in the style of skglm's solvers: its
hyper-parameters go to the constructor, the data to the calls. It never sees
an estimator, labels, pandas frames or devices: ``BaseIterativeNetwork``
(``_iterative.py``) validates the data, owns the loop over iterations
(batching, shuffling, early stopping, validation, ``warm_start``,
``partial_fit``, divergence) and hands the rule a :class:`~skgf._network.Network`
(the weights, changed in place or replaced by the rule) and the rule's own
*state* (feedback matrices, optimiser moments, ...), which the estimator
keeps between calls.

There are two kinds, after what one iteration of the method is:

* :class:`MiniBatchRule` (rec-LRA, semi-implicit BP): one iteration is an
  epoch of shuffled mini-batches, cut by the loop; the rule's
  :meth:`~MiniBatchRule.step` updates the network on one batch.
* :class:`PassRule` (RSO): one iteration is a pass over the weights, in which
  the method itself decides when to draw a fresh mini-batch.
"""

import contextlib
from abc import ABC, abstractmethod


class UpdateRule(ABC):  # noqa: B024 - the abstract methods are in the two kinds
    """State handling shared by both kinds of rule (none by default)."""

    def running(self):
        """A context manager that the loop holds around each iteration (for
        settings a rule's arithmetic needs while it runs; none by default)."""
        return contextlib.nullcontext()

    def init_state(self, network, rng):
        """State of a fresh fit, after the weights are drawn (``rng``: the
        fit's host generator, which the rule may draw from). ``None`` when the
        rule keeps no state."""
        return None

    def resume_state(self, state, network):
        """State to continue from with this rule's hyper-parameters, given
        the state of the previous call (``warm_start`` / ``partial_fit``)."""
        return state


class MiniBatchRule(UpdateRule):
    """A rule that updates the network once per mini-batch."""

    @abstractmethod
    def step(self, network, state, X, Y, sample_weight, rng, batch_id=None):
        """Update ``network`` (and ``state``) on one mini-batch.

        ``sample_weight`` is ``None`` or one weight per row (mean 1 over the
        iteration's rows). ``batch_id`` names the batch's rows when the same
        batches recur in every epoch of the fit call (``shuffle=False`` or
        ``"fixed_batches"``; ``None`` otherwise): a rule may keep work that
        depends only on them. Returns the batch's summed training loss before
        the update, as an array scalar (no host synchronisation).
        """


class PassRule(UpdateRule):
    """A rule whose iteration is one pass of its own over the weights."""

    @abstractmethod
    def run_pass(self, network, state, X, Y, sample_weight, rng, *, batch_size, pass_index):
        """One iteration over all training rows ``X``, ``Y``; returns the
        training loss (a Python float). ``pass_index`` counts the passes
        already run since the fit started, over every call
        (``len(loss_curve_)``)."""
