"""Broken Keras callbacks, each the reference callback with exactly one defect.

``CAUGHT_BY`` maps each to the callback checks (spec/fit.md) that must reject it;
``tests/test_fit.py`` proves every callback check rejects at least one of them and every
one is rejected.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ckpt_reference.keras_callback import CheckpointSaverCallback as Reference


def not_a_callback(checkpoint_dir: str, **kwargs: Any) -> object:
    """Builds something that is not a Keras callback (FIT-1)."""
    return object()


class NoIntervalValidation(Reference):
    """Defaults to save_steps=1 instead of rejecting neither/both intervals (FIT-1)."""

    def __init__(self, checkpoint_dir, save_secs=None, save_steps=None, **kwargs):
        if save_secs is not None and save_steps is not None:
            save_secs = None
        if save_secs is None and save_steps is None:
            save_steps = 1
        super().__init__(checkpoint_dir, save_secs=save_secs, save_steps=save_steps, **kwargs)


class BeginsListenersOnce(Reference):
    """Calls listeners' begin() only in the first fit, not in later ones (FIT-2)."""

    def on_train_begin(self, logs=None):
        listeners = self._listeners
        if getattr(self, "_begun", False):
            self._listeners = []  # the reference's loop calls begin() on none of them
        self._begun = True
        try:
            super().on_train_begin(logs)
        finally:
            self._listeners = listeners


class LateListenerBegin(Reference):
    """Calls listeners' begin() after the save made when training starts (FIT-2)."""

    def on_train_begin(self, logs=None):
        listeners, self._listeners = self._listeners, []
        super().on_train_begin(logs)  # the creation save, with no listener to call
        self._listeners = listeners
        for listener in listeners:
            listener.begin()


class NoCreationSave(Reference):
    """Makes no save in on_train_begin: the first is after the first execution (FIT-3)."""

    def on_train_begin(self, logs=None):
        self._save = lambda step: False  # shadows the method for this one call
        try:
            super().on_train_begin(logs)
        finally:
            del self._save  # the trigger saw no save: the first batch end saves


class AfterSaveBeforeWrite(Reference):
    """Calls after_save() before the checkpoint is written (FIT-4)."""

    def _save(self, step):
        self._trigger.mark_saved(step)
        for listener in self._listeners:
            listener.before_save(None, step)
        stop = any([bool(listener.after_save(None, step)) for listener in self._listeners])
        self._manager.save(checkpoint_number=step)
        return stop


class ReversedAfterSave(Reference):
    """Calls after_save() in reverse list order (FIT-4)."""

    def _save(self, step):
        self._trigger.mark_saved(step)
        for listener in self._listeners:
            listener.before_save(None, step)
        self._manager.save(checkpoint_number=step)
        return any([bool(listener.after_save(None, step)) for listener in self._listeners[::-1]])


class PassesTheVariable(Reference):
    """Passes listeners the optimizer's iterations variable itself, not its value (FIT-5)."""

    def _save(self, step):
        variable = self.model.optimizer.iterations
        self._trigger.mark_saved(step)
        for listener in self._listeners:
            listener.before_save(None, variable)
        self._manager.save(checkpoint_number=step)
        return any([bool(listener.after_save(None, variable)) for listener in self._listeners])


class CountsBatches(Reference):
    """Counts on_train_batch_end calls as the step: wrong with steps_per_execution > 1
    and after a resume (FIT-5, FIT-6)."""

    def on_train_begin(self, logs=None):
        self._calls = int(self.model.optimizer.iterations.numpy())
        super().on_train_begin(logs)

    def on_train_batch_end(self, batch, logs=None):
        self._calls += 1
        super().on_train_batch_end(batch, logs)

    def _step(self):
        return self._calls


class OffByOneSchedule(Reference):
    """Saves only when the step is MORE than save_steps past the last save (FIT-6)."""

    def on_train_batch_end(self, batch, logs=None):
        step = self._step()
        last = self._trigger.last_step
        if self._save_steps is not None and step <= last + self._save_steps:
            return
        super().on_train_batch_end(batch, logs)


class WritesWithoutStateFile(Reference):
    """Writes with Checkpoint.write: ckpt-<step> exists, but no state file names it, so
    tf.train.latest_checkpoint does not find it (FIT-7)."""

    def _save(self, step):
        self._trigger.mark_saved(step)
        for listener in self._listeners:
            listener.before_save(None, step)
        checkpoint = self._manager.checkpoint
        checkpoint.write(os.path.join(self._checkpoint_dir, f"ckpt-{step}"))
        return any([bool(listener.after_save(None, step)) for listener in self._listeners])


class IgnoresStopRequests(Reference):
    """Never sets model.stop_training (FIT-8)."""

    def _save(self, step):
        super()._save(step)
        return False


class ShortCircuitsStop(Reference):
    """Stops calling after_save() once a listener asked to stop (FIT-8)."""

    def _save(self, step):
        self._trigger.mark_saved(step)
        for listener in self._listeners:
            listener.before_save(None, step)
        self._manager.save(checkpoint_number=step)
        return any(bool(listener.after_save(None, step)) for listener in self._listeners)


class NoFinalSave(Reference):
    """Calls listeners' end() without saving the last steps first (FIT-9)."""

    def on_train_end(self, logs=None):
        for listener in self._listeners:
            listener.end(None, self._step())


class SavesAgainAtTheEnd(Reference):
    """Makes a final save even when the step did not move since the last one (FIT-9)."""

    def on_train_end(self, logs=None):
        self._trigger.last_step = None
        super().on_train_end(logs)


class StopsAtCreationSave(Reference):
    """Stops training when a listener asks to at the save in on_train_begin (FIT-15)."""

    def on_train_begin(self, logs=None):
        self._starting = True
        super().on_train_begin(logs)
        self._starting = False

    def _save(self, step):
        stop = super()._save(step)
        if stop and self._starting:
            self.model.stop_training = True
        return stop


class ModelAsSession(Reference):
    """Passes the model as the listeners' session argument (FIT-10)."""

    def _save(self, step):
        self._trigger.mark_saved(step)
        for listener in self._listeners:
            listener.before_save(self.model, step)
        self._manager.save(checkpoint_number=step)
        return any([bool(listener.after_save(self.model, step)) for listener in self._listeners])

    def on_train_end(self, logs=None):
        step = self._step()
        if step != self._trigger.last_step:
            self._save(step)
        for listener in self._listeners:
            listener.end(self.model, step)


class HangsInOnTrainBegin(Reference):
    """Never returns from on_train_begin (a hang, not a clause: reported as hung)."""

    def on_train_begin(self, logs=None):
        threading.Event().wait()


#: Each broken callback and the checks that must reject it.
CAUGHT_BY: dict[Any, set[str]] = {
    not_a_callback: {"callback-construction"},
    NoIntervalValidation: {"callback-construction"},
    BeginsListenersOnce: {"callback-begin"},
    LateListenerBegin: {"callback-begin"},
    NoCreationSave: {"callback-creation-save"},
    AfterSaveBeforeWrite: {"callback-save-protocol"},
    ReversedAfterSave: {"callback-save-protocol"},
    PassesTheVariable: {"callback-step-value"},
    CountsBatches: {"callback-step-value", "callback-schedule"},
    OffByOneSchedule: {"callback-schedule"},
    WritesWithoutStateFile: {"callback-latest-checkpoint"},
    IgnoresStopRequests: {"callback-stop-request"},
    ShortCircuitsStop: {"callback-stop-request"},
    NoFinalSave: {"callback-final-save-and-end"},
    SavesAgainAtTheEnd: {"callback-final-save-and-end"},
    ModelAsSession: {"callback-no-session"},
    StopsAtCreationSave: {"callback-creation-stop-ignored"},
}
