"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9) in skgf fits.

Every estimator gets ``set_callbacks`` from scikit-learn's
``CallbackSupportMixin``. A fit is a root task; its subtasks are the
iterations of the iterative methods (epochs, or RSO's passes over the
weights) and ZORB's layer solves (or sweeps). :class:`FitProgress` carries
the root task and the training data the hooks receive, so that the training
code only says where a task begins and ends.

On an older scikit-learn there is no ``set_callbacks``; the hooks are then
no-ops (:class:`_NoTask`) and fits run as before.
"""

from dataclasses import dataclass

try:
    from sklearn.callback import CallbackSupportMixin
    from sklearn.callback._callback_support import callback_management_context

    HAVE_CALLBACKS = True
except ImportError:  # scikit-learn < 1.9
    from contextlib import nullcontext as callback_management_context  # noqa: F401

    HAVE_CALLBACKS = False

    class CallbackSupportMixin:
        """Stand-in without callbacks: every hook is a no-op."""

        def _init_callback_context(self, task_name="fit", max_subtasks=0, **kwargs):
            return _NoTask()


# Attributes the callback machinery keeps on an estimator during (or across)
# a fit; a failed fit's rollback must leave them to it.
CALLBACK_ATTRIBUTES = (
    "_skl_callbacks",
    "_skl_callbacks_to_teardown",
    "_callback_fit_ctx",
    "_parent_callback_ctx",
)


class _NoTask:
    """A task without callbacks (scikit-learn < 1.9)."""

    def subcontext(self, task_name="", max_subtasks=0, **kwargs):
        return self

    def call_on_fit_task_begin(self, **kwargs):
        return self

    def call_on_fit_task_end(self, **kwargs):
        return False


@dataclass
class FitProgress:
    """The callback hooks of one fit of ``estimator``.

    ``root`` is the fit's task; ``X``, ``y`` and ``metadata`` are what every
    hook receives: the validated training rows, the labels or targets as the
    caller gave them, and ``{"sample_weight": ...}`` when weights were given
    (so that ``ScoringMonitor`` scores the model the way it is fitted).
    """

    root: object
    estimator: object = None
    X: object = None
    y: object = None
    metadata: dict = None

    @classmethod
    def start(cls, estimator, max_subtasks, X, y, sample_weight=None):
        """Open the fit's root task (``max_subtasks`` iterations or layers)."""
        root = estimator._init_callback_context(task_name="fit", max_subtasks=max_subtasks)
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        progress = cls(root, estimator, X, y, metadata)
        root.call_on_fit_task_begin(estimator=estimator, X=X, y=y, metadata=metadata)
        return progress

    @classmethod
    def silent(cls):
        """Hooks that do nothing (a fit without callbacks, e.g. on dask arrays)."""
        return cls(_NoTask())

    def begin(self, task_name, max_subtasks=0, parent=None):
        """Open a subtask of ``parent`` (the root by default)."""
        task = (parent or self.root).subcontext(task_name=task_name, max_subtasks=max_subtasks)
        task.call_on_fit_task_begin(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
        )
        return task

    def end(self, task, fitted_attributes=None):
        """Close ``task``; ``fitted_attributes`` (a function returning the
        attributes of the model as it stands, or ``None`` for a task after
        which the model cannot predict yet) lets callbacks score it. Returns
        whether a callback asks the fit to stop."""
        return bool(
            task.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                metadata=self.metadata,
                reconstruction_attributes=fitted_attributes,
            )
        )

    def each_as_task(self, items, task_name, parent):
        """Yield ``items``, each one a subtask of ``parent`` (ZORB's row chunks)."""
        for item in items:
            task = self.begin(task_name, parent=parent)
            yield item
            self.end(task)

    def finish(self):
        """Close the fit's root task: the estimator is fitted."""
        self.end(self.root, fitted_attributes=dict)
